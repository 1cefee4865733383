/* test/unit/test_conntrack.c: the connection table and fw_decide. */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "config.h"
#include "conntrack.h"
#include "err.h"
#include "firewall.h"
#include "ipaddr.h"
#include "ippkt.h"
#include "pki.h"

#define FIXTURES "fixtures/nebula-1.6.1/"
#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define NOW 1893456000 /* 2030-01-01, for the CA pool */
#define SEC INT64_C(1000000000)
#define MIN (60 * SEC)

#define A_IP 0xc0a8640au /* 192.168.100.10, host-a: us */
#define B_IP 0xc0a86414u /* 192.168.100.20, host-b */
#define IN true
#define OUT false

struct env {
	struct cert *host_a, *host_b;
	struct ca_pool *pool;
	struct fw_peer b; /* host-b, resolved for no table */
};

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->host_a = tu_load_cert("host-a.crt");
	e->host_b = tu_load_cert("host-b.crt");
	e->pool = tu_load_pool("ca-bundle.crt", NOW);
	assert_int_equal(fw_peer_init(&e->b, NULL, e->host_b, e->pool), 0);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;

	fw_peer_clear(&e->b);
	cert_free(e->host_a);
	cert_free(e->host_b);
	ca_pool_free(e->pool);
	free(e);
	return 0;
}

static struct fw *
build(const struct env *e, const char *yaml, uint64_t version)
{
	struct config *cfg = NULL;
	struct config_err err;
	struct fw *fw = NULL;

	if (config_load_string(yaml, strlen(yaml), "ct.yml", &cfg, &err) != 0)
		fail_msg("yaml: %s", err.msg);
	if (fw_build(cfg, e->host_a, version, &fw, &err) != 0)
		fail_msg("fw_build: %s: %s", err.key, err.msg);
	config_free(cfg);
	return fw;
}

static struct fw_packet
tuple(uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport, uint8_t proto)
{
	struct fw_packet p;

	memset(&p, 0, sizeof(p));
	p.local_ip = lip;
	p.remote_ip = rip;
	p.local_port = lport;
	p.remote_port = rport;
	p.proto = proto;
	return p;
}

static struct conntrack *
new_ct(size_t max)
{
	struct conntrack *ct = NULL;

	assert_int_equal(conntrack_new(max, &ct), 0);
	assert_non_null(ct);
	return ct;
}

/* Build a raw IPv4 packet with ports, for the ippkt round trip. */
static size_t
raw(uint8_t *b, uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport,
    uint16_t dport)
{
	memset(b, 0, 28);
	b[0] = 0x45;
	b[3] = 28;
	b[8] = 64;
	b[9] = proto;
	b[12] = (uint8_t)(src >> 24), b[13] = (uint8_t)(src >> 16);
	b[14] = (uint8_t)(src >> 8), b[15] = (uint8_t)src;
	b[16] = (uint8_t)(dst >> 24), b[17] = (uint8_t)(dst >> 16);
	b[18] = (uint8_t)(dst >> 8), b[19] = (uint8_t)dst;
	b[20] = (uint8_t)(sport >> 8), b[21] = (uint8_t)sport;
	b[22] = (uint8_t)(dport >> 8), b[23] = (uint8_t)dport;
	return 28;
}

/* --- the table --------------------------------------------------------- */

static void
test_conntrack_reply_hits_same_entry(void **state)
{
	struct conntrack *ct = new_ct(0);
	struct fw_packet out, in;
	uint8_t b[64];
	bool stale, dir;

	(void)state;
	/* we send A:40000 -> B:443; the reply is B:443 -> A:40000 */
	assert_int_equal(
	    ippkt_parse(b, raw(b, 6, A_IP, B_IP, 40000, 443), false, &out), 0);
	assert_int_equal(
	    ippkt_parse(b, raw(b, 6, B_IP, A_IP, 443, 40000), true, &in), 0);
	assert_memory_equal(&out, &in, sizeof(out));
	assert_false(conntrack_lookup(ct, &in, NULL, 0, 1, MIN, &stale, &dir));
	assert_int_equal(conntrack_add(ct, &out, NULL, OUT, 0, 1, MIN), 0);
	assert_int_equal(conntrack_count(ct), 1);
	dir = true;
	assert_true(conntrack_lookup(ct, &in, NULL, SEC, 1, MIN, &stale, &dir));
	assert_false(stale);
	assert_false(dir); /* the direction recorded at creation */
	conntrack_free(ct);
	conntrack_free(NULL);
}

static void
test_conntrack_key_is_the_whole_tuple(void **state)
{
	struct conntrack *ct = new_ct(0);
	struct fw_packet p = tuple(A_IP, B_IP, 1000, 2000, 17), q;
	bool stale;
	int i;

	(void)state;
	assert_int_equal(conntrack_add(ct, &p, NULL, IN, 0, 1, MIN), 0);
	for (i = 0; i < 7; i++) {
		q = p;
		switch (i) {
		case 0:
			q.local_ip++;
			break;
		case 1:
			q.remote_ip++;
			break;
		case 2:
			q.local_port++;
			break;
		case 3:
			q.remote_port++;
			break;
		case 4:
			q.proto = 6;
			break;
		case 5:
			q.fragment = true;
			break;
		default: /* swapped ports are another flow */
			q.local_port = p.remote_port;
			q.remote_port = p.local_port;
			break;
		}
		assert_false(conntrack_lookup(ct, &q, NULL, 1, 1, MIN, &stale, NULL));
	}
	assert_true(conntrack_lookup(ct, &p, NULL, 1, 1, MIN, &stale, NULL));
	/* adding again overwrites: still one entry, new direction */
	assert_int_equal(conntrack_add(ct, &p, NULL, OUT, 2, 1, MIN), 0);
	assert_int_equal(conntrack_count(ct), 1);
	assert_int_equal(conntrack_stats(ct)->added, 1);
	conntrack_free(ct);
}

static void
test_conntrack_expiry_refreshes_on_hit(void **state)
{
	struct conntrack *ct = new_ct(0);
	struct fw_packet p = tuple(A_IP, B_IP, 1, 2, 17);
	bool stale;

	(void)state;
	assert_int_equal(conntrack_add(ct, &p, NULL, IN, 10 * SEC, 1, 3 * MIN), 0);
	/* valid until 10 s + 3 min, exclusive */
	assert_true(conntrack_lookup(
	    ct, &p, NULL, 10 * SEC + 3 * MIN - 1, 1, 3 * MIN, &stale, NULL));
	/* that hit pushed it to (10 s + 3 min - 1) + 3 min */
	assert_true(conntrack_lookup(
	    ct, &p, NULL, 10 * SEC + 6 * MIN - 2, 1, 3 * MIN, &stale, NULL));
	assert_false(conntrack_lookup(
	    ct, &p, NULL, 10 * SEC + 9 * MIN - 2, 1, 3 * MIN, &stale, NULL));
	/* the expired entry was removed by the lookup */
	assert_int_equal(conntrack_count(ct), 0);
	assert_int_equal(conntrack_stats(ct)->expired, 1);
	conntrack_free(ct);
}

static void
test_conntrack_stale_version(void **state)
{
	struct conntrack *ct = new_ct(0);
	struct fw_packet p = tuple(A_IP, B_IP, 1, 2, 6);
	bool stale, dir = false;

	(void)state;
	assert_int_equal(conntrack_add(ct, &p, NULL, IN, 0, 1, MIN), 0);
	assert_true(conntrack_lookup(ct, &p, NULL, SEC, 2, MIN, &stale, &dir));
	assert_true(stale);
	assert_true(dir);
	/* a stale hit does not refresh: expiry stays at 1 min */
	assert_false(conntrack_lookup(ct, &p, NULL, MIN, 2, MIN, &stale, &dir));
	assert_int_equal(conntrack_add(ct, &p, NULL, IN, MIN, 1, MIN), 0);
	assert_int_equal(conntrack_restamp(ct, &p, NULL, MIN + SEC, 2, MIN), 0);
	assert_true(
	    conntrack_lookup(ct, &p, NULL, MIN + 2 * SEC, 2, MIN, &stale, &dir));
	assert_false(stale);
	assert_int_equal(conntrack_stats(ct)->restamped, 1);
	assert_true(conntrack_del(ct, &p, NULL, MIN + 3 * SEC));
	assert_false(conntrack_del(ct, &p, NULL, MIN + 3 * SEC));
	assert_int_equal(conntrack_restamp(ct, &p, NULL, MIN, 2, MIN), VPN_ERR_INVAL);
	assert_int_equal(conntrack_count(ct), 0);
	conntrack_free(ct);
}

static void
test_conntrack_bounded(void **state)
{
	struct conntrack *ct = new_ct(8);
	struct fw_packet p;
	bool stale;
	uint16_t i;

	(void)state;
	assert_int_equal(conntrack_max(ct), 8);
	for (i = 0; i < 8; i++) {
		p = tuple(A_IP, B_IP, i, 80, 6);
		assert_int_equal(conntrack_add(ct, &p, NULL, OUT, 0, 1, MIN), 0);
	}
	p = tuple(A_IP, B_IP, 100, 80, 6);
	assert_int_equal(
	    conntrack_add(ct, &p, NULL, OUT, SEC, 1, MIN), VPN_ERR_RANGE);
	assert_int_equal(conntrack_stats(ct)->full, 1);
	assert_int_equal(conntrack_count(ct), 8);
	/* existing entries can still be refreshed and overwritten */
	p = tuple(A_IP, B_IP, 3, 80, 6);
	assert_int_equal(conntrack_add(ct, &p, NULL, IN, SEC, 1, MIN), 0);
	/* once the others expired, adding reclaims them */
	p = tuple(A_IP, B_IP, 100, 80, 6);
	assert_int_equal(conntrack_add(ct, &p, NULL, OUT, MIN + 2 * SEC, 1, MIN), 0);
	assert_true(conntrack_count(ct) <= 8);
	assert_true(
	    conntrack_lookup(ct, &p, NULL, MIN + 3 * SEC, 1, MIN, &stale, NULL));
	conntrack_free(ct);
	assert_int_equal(
	    conntrack_new(((size_t)1 << 31) + 1, &ct), VPN_ERR_RANGE);
	assert_null(ct);
}

static void
test_conntrack_grows_and_shrinks(void **state)
{
	struct conntrack *ct = new_ct(5000);
	struct fw_packet p;
	bool stale;
	uint32_t i;

	(void)state;
	for (i = 0; i < 5000; i++) {
		p = tuple(A_IP, 0x0a000000u + i, (uint16_t)i, 53, 17);
		assert_int_equal(conntrack_add(ct, &p, NULL, OUT, 0, 1, MIN), 0);
	}
	assert_int_equal(conntrack_count(ct), 5000);
	assert_true(conntrack_stats(ct)->grown >= 2);
	p = tuple(A_IP, 1, 1, 1, 17);
	assert_int_equal(conntrack_add(ct, &p, NULL, OUT, 0, 1, MIN), VPN_ERR_RANGE);
	for (i = 0; i < 5000; i++) {
		p = tuple(A_IP, 0x0a000000u + i, (uint16_t)i, 53, 17);
		assert_true(
		    conntrack_lookup(ct, &p, NULL, SEC, 1, MIN, &stale, NULL));
		if (i % 2 == 0)
			assert_true(conntrack_del(ct, &p, NULL, SEC));
	}
	assert_int_equal(conntrack_count(ct), 2500);
	for (i = 0; i < 5000; i++) {
		p = tuple(A_IP, 0x0a000000u + i, (uint16_t)i, 53, 17);
		assert_int_equal(
		    conntrack_lookup(ct, &p, NULL, SEC, 1, MIN, &stale, NULL),
		    i % 2 == 1);
	}
	conntrack_flush(ct);
	assert_int_equal(conntrack_count(ct), 0);
	assert_int_equal(conntrack_stats(ct)->flushed, 2500);
	p = tuple(A_IP, 0x0a000001u, 1, 53, 17);
	assert_false(conntrack_lookup(ct, &p, NULL, SEC, 1, MIN, &stale, NULL));
	assert_int_equal(conntrack_add(ct, &p, NULL, OUT, 2 * SEC, 1, MIN), 0);
	assert_true(conntrack_lookup(ct, &p, NULL, 3 * SEC, 1, MIN, &stale, NULL));
	conntrack_free(ct);
}

static void
test_conntrack_expire_sweeps_incrementally(void **state)
{
	struct conntrack *ct = new_ct(0);
	struct fw_packet p;
	bool stale;
	size_t freed, total = 0, calls = 0;
	uint16_t i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		p = tuple(A_IP, B_IP, i, 80, 6);
		assert_int_equal(
		    conntrack_add(ct, &p, NULL, OUT, (int64_t)i * SEC / 10, 1, MIN),
		    0);
	}
	/* nothing is due before the timeout */
	assert_int_equal(conntrack_expire(ct, 59 * SEC, 100000), 0);
	/* keep flow 999 alive */
	p = tuple(A_IP, B_IP, 999, 80, 6);
	assert_true(conntrack_lookup(ct, &p, NULL, 150 * SEC, 1, MIN, &stale, NULL));
	/* at 3 min everything else is due: bounded work per call */
	while ((freed = conntrack_expire(ct, 3 * MIN, 16)) > 0) {
		assert_true(freed <= 16);
		total += freed;
		calls++;
	}
	/* a call may visit only empty slots: run until no work is left */
	while (conntrack_count(ct) > 1 && calls < 100000) {
		total += conntrack_expire(ct, 3 * MIN, 16);
		calls++;
	}
	assert_int_equal(total, 999);
	assert_true(calls >= 999 / 16);
	assert_int_equal(conntrack_count(ct), 1);
	assert_int_equal(conntrack_stats(ct)->expired, 999);
	assert_true(conntrack_lookup(ct, &p, NULL, 3 * MIN, 1, MIN, &stale, NULL));
	/* and it goes once it is idle for its timeout */
	while (conntrack_expire(ct, 5 * MIN, 1000) > 0)
		;
	assert_int_equal(conntrack_count(ct), 0);
	conntrack_free(ct);
}

/* Timeouts longer than the wheel (~17 min) still expire on time. */
static void
test_conntrack_long_timeouts(void **state)
{
	struct conntrack *ct = new_ct(0);
	struct fw_packet p = tuple(A_IP, B_IP, 1, 2, 6);
	bool stale;
	int64_t t;

	(void)state;
	assert_int_equal(conntrack_add(ct, &p, NULL, OUT, 0, 1, 120 * MIN), 0);
	for (t = 0; t < 120 * MIN; t += 30 * SEC)
		assert_int_equal(conntrack_expire(ct, t, 64), 0);
	assert_int_equal(conntrack_count(ct), 1);
	assert_true(conntrack_lookup(
	    ct, &p, NULL, 120 * MIN - 1, 1, 120 * MIN, &stale, NULL));
	for (t = 120 * MIN; t <= 241 * MIN; t += 30 * SEC)
		conntrack_expire(ct, t, 64);
	assert_int_equal(conntrack_count(ct), 0);
	/* a huge timeout saturates */
	assert_int_equal(conntrack_add(ct, &p, NULL, OUT, 0, 1, INT64_MAX), 0);
	assert_true(conntrack_lookup(
	    ct, &p, NULL, INT64_MAX - 1, 1, INT64_MAX, &stale, NULL));
	/* zero: never hits */
	assert_int_equal(conntrack_add(ct, &p, NULL, OUT, 5, 1, 0), 0);
	assert_false(conntrack_lookup(ct, &p, NULL, 5, 1, 0, &stale, NULL));
	conntrack_free(ct);
}

/* Random operations against a model of the documented semantics. */
struct model {
	bool present;
	int64_t expires;
	uint64_t version;
	bool incoming;
};

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

#define NFLOWS 300

static struct fw_packet
flow(unsigned i)
{
	/* few distinct addresses, so that buckets share chains */
	return tuple(
	    A_IP, B_IP + i % 3, (uint16_t)(i / 3), 443, i % 5 == 0 ? 17 : 6);
}

static void
test_conntrack_matches_model(void **state)
{
	static const int64_t timeouts[] = {
	    0, 5 * SEC, 30 * SEC, 3 * MIN, 25 * MIN};
	static struct model m[NFLOWS];
	struct conntrack *ct = new_ct(0);
	struct fw_packet p;
	int64_t now = 5 * SEC, to;
	bool stale, dir, hit, live;
	unsigned i, op, step;
	uint64_t ver;

	(void)state;
	memset(m, 0, sizeof(m));
	for (step = 0; step < 200000; step++) {
		if (rnd(8) == 0)
			now += (int64_t)rnd(20) * SEC + (int64_t)rnd(1000);
		i = rnd(NFLOWS);
		p = flow(i);
		live = m[i].present && m[i].expires > now;
		to = timeouts[rnd(NELEMS(timeouts))];
		ver = 1 + rnd(2);
		op = rnd(10);
		if (op < 3) { /* add */
			dir = rnd(2);
			assert_int_equal(
			    conntrack_add(ct, &p, NULL, dir, now, ver, to), 0);
			m[i].present = true;
			m[i].expires = now + to;
			m[i].version = ver;
			m[i].incoming = dir;
		} else if (op < 7) { /* lookup */
			hit = conntrack_lookup(
			    ct, &p, NULL, now, ver, to, &stale, &dir);
			if (hit != live)
				fail_msg("step %u flow %u: hit %d, model %d",
				    step, i, hit, live);
			if (hit) {
				assert_int_equal(stale, m[i].version != ver);
				assert_int_equal(dir, m[i].incoming);
				if (!stale)
					m[i].expires = now + to;
			} else {
				m[i].present = false;
			}
		} else if (op == 7) { /* restamp */
			assert_int_equal(
			    conntrack_restamp(ct, &p, NULL, now, ver, to) == 0, live);
			if (live) {
				m[i].version = ver;
				m[i].expires = now + to;
			} else {
				m[i].present = false;
			}
		} else if (op == 8) { /* del */
			assert_int_equal(conntrack_del(ct, &p, NULL, now), live);
			m[i].present = false;
		} else { /* sweep */
			(void)conntrack_expire(ct, now, rnd(64));
		}
		/* the table never holds more than the model might */
		if (step % 1000 == 0) {
			size_t n = 0;

			for (i = 0; i < NFLOWS; i++)
				n += m[i].present;
			assert_true(conntrack_count(ct) <= n);
		}
	}
	/* everything expires in the end */
	now += 30 * MIN;
	while (conntrack_expire(ct, now, 1000) > 0)
		;
	assert_int_equal(conntrack_count(ct), 0);
	conntrack_free(ct);
}

/* --- owners ------------------------------------------------------------ */

/* An entry is its owner's: the same tuple from another tunnel misses. */
static void
test_conntrack_owner_is_part_of_the_key(void **state)
{
	struct conntrack *ct = new_ct(0);
	struct fw_packet p = tuple(A_IP, B_IP, 40000, 443, 6);
	struct ct_owner a, b;
	bool stale;

	(void)state;
	conntrack_owner_init(&a);
	conntrack_owner_init(&b);
	assert_int_equal(conntrack_add(ct, &p, &a, OUT, 0, 1, MIN), 0);
	assert_true(conntrack_lookup(ct, &p, &a, SEC, 1, MIN, &stale, NULL));
	assert_false(conntrack_lookup(ct, &p, &b, SEC, 1, MIN, &stale, NULL));
	assert_false(conntrack_lookup(ct, &p, NULL, SEC, 1, MIN, &stale, NULL));
	assert_false(conntrack_del(ct, &p, &b, SEC));
	assert_int_equal(conntrack_restamp(ct, &p, &b, SEC, 2, MIN),
	    VPN_ERR_INVAL);
	/* b may track the same tuple: two entries */
	assert_int_equal(conntrack_add(ct, &p, &b, IN, 0, 1, MIN), 0);
	assert_int_equal(conntrack_count(ct), 2);
	assert_int_equal(a.count, 1);
	assert_int_equal(b.count, 1);
	assert_true(conntrack_del(ct, &p, &a, SEC));
	assert_int_equal(a.count, 0);
	assert_true(conntrack_lookup(ct, &p, &b, SEC, 1, MIN, &stale, NULL));
	conntrack_owner_release(ct, &b);
	conntrack_free(ct);
}

/* One owner holds at most its share; the others are not affected, and
 * released or expired entries make room again. */
static void
test_conntrack_owner_share(void **state)
{
	struct conntrack *ct = new_ct(100);
	struct ct_owner a, b;
	struct fw_packet p;
	uint16_t i;

	(void)state;
	conntrack_owner_init(&a);
	conntrack_owner_init(&b);
	conntrack_set_owner_max(ct, 10);
	assert_int_equal(conntrack_owner_max(ct), 10);
	for (i = 0; i < 10; i++) {
		p = tuple(A_IP, B_IP, 1000 + i, 53, 17);
		assert_int_equal(conntrack_add(ct, &p, &a, IN, 0, 1, MIN), 0);
	}
	p = tuple(A_IP, B_IP, 2000, 53, 17);
	assert_int_equal(conntrack_add(ct, &p, &a, IN, 0, 1, MIN),
	    VPN_ERR_RANGE);
	assert_int_equal(conntrack_stats(ct)->owner_full, 1);
	/* an existing entry of a is refreshed, not refused */
	p = tuple(A_IP, B_IP, 1000, 53, 17);
	assert_int_equal(conntrack_add(ct, &p, &a, IN, SEC, 1, MIN), 0);
	/* b is not affected */
	for (i = 0; i < 10; i++) {
		p = tuple(A_IP, B_IP, 3000 + i, 53, 17);
		assert_int_equal(conntrack_add(ct, &p, &b, IN, 0, 1, MIN), 0);
	}
	assert_int_equal(conntrack_count(ct), 20);
	/* expired entries of a are reclaimed for it */
	p = tuple(A_IP, B_IP, 2000, 53, 17);
	assert_int_equal(conntrack_add(ct, &p, &a, IN, 2 * MIN, 1, MIN), 0);
	assert_true(a.count <= 10);
	/* a's tunnel goes: its entries go, b's stay */
	conntrack_owner_release(ct, &a);
	assert_int_equal(a.count, 0);
	assert_int_equal(conntrack_stats(ct)->released, 1); /* the rest expired */
	conntrack_owner_release(ct, &b);
	assert_int_equal(conntrack_count(ct), 0);
	/* 0 or more than max: the whole table */
	conntrack_set_owner_max(ct, 0);
	assert_int_equal(conntrack_owner_max(ct), 100);
	conntrack_set_owner_max(ct, 1000);
	assert_int_equal(conntrack_owner_max(ct), 100);
	conntrack_free(ct);
}

/* A tunnel replaced by one with the same certificate takes its flows;
 * a tuple both track stays the new owner's. */
static void
test_conntrack_owner_move_and_flush(void **state)
{
	struct conntrack *ct = new_ct(0);
	struct fw_packet p1 = tuple(A_IP, B_IP, 1, 53, 17);
	struct fw_packet p2 = tuple(A_IP, B_IP, 2, 53, 17);
	struct fw_packet p3 = tuple(A_IP, B_IP, 3, 53, 17);
	struct ct_owner a, b;
	bool stale, dir;

	(void)state;
	conntrack_owner_init(&a);
	conntrack_owner_init(&b);
	assert_int_equal(conntrack_add(ct, &p1, &a, OUT, 0, 1, MIN), 0);
	assert_int_equal(conntrack_add(ct, &p2, &a, OUT, 0, 1, MIN), 0);
	assert_int_equal(conntrack_add(ct, &p3, &a, OUT, 0, 1, MIN), 0);
	assert_int_equal(conntrack_add(ct, &p3, &b, IN, 0, 1, MIN), 0);
	conntrack_owner_move(ct, &a, &b);
	assert_int_equal(a.count, 0);
	assert_int_equal(b.count, 3);
	assert_int_equal(conntrack_count(ct), 3);
	assert_false(conntrack_lookup(ct, &p1, &a, SEC, 1, MIN, &stale, NULL));
	assert_true(conntrack_lookup(ct, &p1, &b, SEC, 1, MIN, &stale, &dir));
	assert_false(dir);
	assert_true(conntrack_lookup(ct, &p3, &b, SEC, 1, MIN, &stale, &dir));
	assert_true(dir); /* b's own entry */
	/* expiry keeps the owner's count */
	assert_int_equal(conntrack_expire(ct, 5 * MIN, 100), 3);
	assert_int_equal(b.count, 0);
	/* a flush empties every owner */
	assert_int_equal(conntrack_add(ct, &p1, &a, OUT, 5 * MIN, 1, MIN), 0);
	assert_int_equal(conntrack_add(ct, &p2, &b, OUT, 5 * MIN, 1, MIN), 0);
	conntrack_flush(ct);
	assert_int_equal(a.count, 0);
	assert_int_equal(b.count, 0);
	conntrack_owner_release(ct, &a); /* nothing left: a no-op */
	assert_int_equal(conntrack_add(ct, &p1, &a, OUT, 5 * MIN, 1, MIN), 0);
	assert_int_equal(a.count, 1);
	conntrack_owner_release(ct, &a);
	assert_int_equal(conntrack_count(ct), 0);
	conntrack_free(ct);
}

/* --- fw_decide --------------------------------------------------------- */

#define OUT_ANY                                                                \
	"firewall:\n"                                                          \
	"  outbound: [{port: any, proto: any, host: any}]\n"

static void
test_conntrack_decide_return_traffic(void **state)
{
	struct env *e = *state;
	struct fw *fw = build(e, OUT_ANY, 1);
	struct conntrack *ct = new_ct(0);
	struct fw_packet req = tuple(A_IP, B_IP, 40000, 443, 6);
	struct fw_packet other = tuple(A_IP, B_IP, 40001, 443, 6);
	struct fw_packet ping = tuple(A_IP, B_IP, 0, 0, 1);
	enum fw_why why;

	/* nothing inbound yet */
	assert_int_equal(
	    fw_decide_why(fw, ct, IN, &req, &e->b, NULL, 0, &why), FW_DROP);
	assert_int_equal(why, FW_WHY_NO_RULE);
	/* outbound passes and is tracked */
	assert_int_equal(
	    fw_decide_why(fw, ct, OUT, &req, &e->b, NULL, 0, &why), FW_ACCEPT);
	assert_int_equal(why, FW_WHY_RULE);
	/* the reply comes in on the same key */
	assert_int_equal(
	    fw_decide_why(fw, ct, IN, &req, &e->b, NULL, SEC, &why), FW_ACCEPT);
	assert_int_equal(why, FW_WHY_CONNTRACK);
	assert_int_equal(fw_decide(fw, ct, IN, &other, &e->b, NULL, SEC), FW_DROP);
	/* an echo request lets every ICMP between the two in */
	assert_int_equal(fw_decide(fw, ct, OUT, &ping, &e->b, NULL, SEC), FW_ACCEPT);
	assert_int_equal(
	    fw_decide(fw, ct, IN, &ping, &e->b, NULL, 2 * SEC), FW_ACCEPT);
	/* TCP lives 12 min since its last packet */
	assert_int_equal(
	    fw_decide(fw, ct, IN, &req, &e->b, NULL, 12 * MIN), FW_ACCEPT);
	/* ICMP the default timeout (10 min) since its last packet */
	assert_int_equal(
	    fw_decide(fw, ct, IN, &ping, &e->b, NULL, 12 * MIN + SEC), FW_DROP);
	assert_int_equal(
	    fw_decide(fw, ct, IN, &req, &e->b, NULL, 24 * MIN - 1), FW_ACCEPT);
	assert_int_equal(fw_decide(fw, ct, IN, &req, &e->b, NULL, 36 * MIN), FW_DROP);
	conntrack_free(ct);
	fw_free(fw);
}

static void
test_conntrack_decide_udp_timeout(void **state)
{
	struct env *e = *state;
	struct fw *fw = build(e,
	    "firewall:\n"
	    "  conntrack: {udp_timeout: 30s}\n"
	    "  outbound: [{port: 53, proto: udp, host: any}]\n",
	    1);
	struct conntrack *ct = new_ct(0);
	struct fw_packet q = tuple(A_IP, B_IP, 5353, 53, 17);

	assert_int_equal(fw_decide(fw, ct, OUT, &q, &e->b, NULL, 0), FW_ACCEPT);
	assert_int_equal(
	    fw_decide(fw, ct, IN, &q, &e->b, NULL, 30 * SEC - 1), FW_ACCEPT);
	assert_int_equal(
	    fw_decide(fw, ct, IN, &q, &e->b, NULL, 60 * SEC - 2), FW_ACCEPT);
	assert_int_equal(fw_decide(fw, ct, IN, &q, &e->b, NULL, 90 * SEC), FW_DROP);
	conntrack_free(ct);
	fw_free(fw);
}

static void
test_conntrack_decide_reload_rechecks(void **state)
{
	struct env *e = *state;
	struct fw *v1 = build(e,
	    "firewall:\n"
	    "  inbound: [{port: 22, proto: tcp, group: laptop}]\n",
	    1);
	struct fw *v2 = build(e,
	    "firewall:\n"
	    "  inbound: [{port: 22, proto: tcp, group: servers}]\n",
	    2);
	struct fw *v3 = build(e,
	    "firewall:\n"
	    "  inbound: [{port: 22, proto: tcp, host: host-b}]\n",
	    3);
	struct conntrack *ct = new_ct(0);
	struct fw_packet ssh = tuple(A_IP, B_IP, 22, 50000, 6);
	struct fw_packet ssh2 = tuple(A_IP, B_IP, 22, 50001, 6);
	enum fw_why why;

	assert_int_equal(fw_decide(v1, ct, IN, &ssh, &e->b, NULL, 0), FW_ACCEPT);
	assert_int_equal(fw_decide(v1, ct, IN, &ssh2, &e->b, NULL, 0), FW_ACCEPT);
	/* v3 still allows host-b: the entry is kept and restamped */
	assert_int_equal(
	    fw_decide_why(v3, ct, IN, &ssh, &e->b, NULL, SEC, &why), FW_ACCEPT);
	assert_int_equal(why, FW_WHY_CONNTRACK);
	assert_int_equal(conntrack_stats(ct)->restamped, 1);
	assert_int_equal(fw_decide(v3, ct, IN, &ssh, &e->b, NULL, SEC), FW_ACCEPT);
	assert_int_equal(conntrack_stats(ct)->restamped, 1);
	/* v2 does not: the entry goes and the packet is refused */
	assert_int_equal(
	    fw_decide_why(v2, ct, IN, &ssh2, &e->b, NULL, SEC, &why), FW_DROP);
	assert_int_equal(why, FW_WHY_NO_RULE);
	assert_int_equal(conntrack_stats(ct)->deleted, 1);
	assert_int_equal(conntrack_count(ct), 1);
	conntrack_free(ct);
	fw_free(v1);
	fw_free(v2);
	fw_free(v3);
}

/* The re-check uses the direction the entry recorded, not the packet's. */
static void
test_conntrack_decide_recheck_uses_entry_direction(void **state)
{
	struct env *e = *state;
	struct fw *v1 = build(e, OUT_ANY, 1);
	struct fw *v2 = build(e, OUT_ANY, 2);
	struct fw *v3 = build(e,
	    "firewall:\n"
	    "  outbound: [{port: 80, proto: tcp, host: any}]\n",
	    3);
	struct conntrack *ct = new_ct(0);
	struct fw_packet web = tuple(A_IP, B_IP, 40000, 443, 6);

	assert_int_equal(fw_decide(v1, ct, OUT, &web, &e->b, NULL, 0), FW_ACCEPT);
	/* reply under v2: re-checked against v2's outbound: kept */
	assert_int_equal(fw_decide(v2, ct, IN, &web, &e->b, NULL, SEC), FW_ACCEPT);
	/* v3 allows only port 80 out: the reply is dropped */
	assert_int_equal(fw_decide(v3, ct, IN, &web, &e->b, NULL, 2 * SEC), FW_DROP);
	assert_int_equal(conntrack_count(ct), 0);
	conntrack_free(ct);
	fw_free(v1);
	fw_free(v2);
	fw_free(v3);
}

static void
test_conntrack_decide_reject_and_reasons(void **state)
{
	struct env *e = *state;
	struct fw *fw = build(e,
	    "firewall:\n"
	    "  inbound_action: reject\n"
	    "  inbound: [{port: 22, proto: tcp, host: any}]\n",
	    1);
	struct conntrack *ct = new_ct(0);
	struct fw_packet p = tuple(A_IP, B_IP, 23, 1, 6);
	enum fw_why why;

	assert_int_equal(
	    fw_decide_why(fw, ct, IN, &p, &e->b, NULL, 0, &why), FW_REJECT);
	assert_int_equal(why, FW_WHY_NO_RULE);
	/* outbound keeps the default drop */
	assert_int_equal(
	    fw_decide_why(fw, ct, OUT, &p, &e->b, NULL, 0, &why), FW_DROP);
	p = tuple(A_IP, B_IP + 1, 22, 1, 6);
	assert_int_equal(
	    fw_decide_why(fw, ct, IN, &p, &e->b, NULL, 0, &why), FW_REJECT);
	assert_int_equal(why, FW_WHY_REMOTE_IP);
	p = tuple(A_IP + 1, B_IP, 22, 1, 6);
	assert_int_equal(
	    fw_decide_why(fw, ct, IN, &p, &e->b, NULL, 0, &why), FW_REJECT);
	assert_int_equal(why, FW_WHY_LOCAL_IP);
	assert_int_equal(conntrack_count(ct), 0);
	conntrack_free(ct);
	fw_free(fw);
}

static void
test_conntrack_decide_full_table_drops(void **state)
{
	struct env *e = *state;
	struct fw *fw = build(e,
	    "firewall:\n"
	    "  inbound_action: reject\n"
	    "  inbound: [{port: any, proto: any, host: any}]\n",
	    1);
	struct conntrack *ct = new_ct(2);
	struct fw_packet p;
	enum fw_why why;

	p = tuple(A_IP, B_IP, 1, 1, 17);
	assert_int_equal(fw_decide(fw, ct, IN, &p, &e->b, NULL, 0), FW_ACCEPT);
	p = tuple(A_IP, B_IP, 2, 1, 17);
	assert_int_equal(fw_decide(fw, ct, IN, &p, &e->b, NULL, 0), FW_ACCEPT);
	p = tuple(A_IP, B_IP, 3, 1, 17);
	assert_int_equal(
	    fw_decide_why(fw, ct, IN, &p, &e->b, NULL, 0, &why), FW_DROP);
	assert_int_equal(why, FW_WHY_CT_FULL);
	assert_int_equal(conntrack_stats(ct)->full, 1);
	/* tracked flows still pass */
	p = tuple(A_IP, B_IP, 1, 1, 17);
	assert_int_equal(fw_decide(fw, ct, IN, &p, &e->b, NULL, SEC), FW_ACCEPT);
	/* after the UDP timeout the slots free up */
	p = tuple(A_IP, B_IP, 3, 1, 17);
	assert_int_equal(fw_decide(fw, ct, IN, &p, &e->b, NULL, 4 * MIN), FW_ACCEPT);
	conntrack_free(ct);
	fw_free(fw);
}

/* Fragments have their own entries (ports 0, fragment set). */
/*
 * The peer's address is checked before conntrack: a flow opened with
 * host-b does not let in a packet claiming host-b's address from another
 * peer (other-host), through either tunnel's entries; and a tunnel over
 * its share has new flows dropped, counted apart from a full table.
 */
static void
test_conntrack_decide_address_first_and_share(void **state)
{
	struct env *e = *state;
	struct fw *fw = build(e,
	    "firewall:\n"
	    "  outbound: [{port: any, proto: any, host: any}]\n"
	    "  inbound: [{port: 53, proto: udp, host: any}]\n",
	    1);
	struct conntrack *ct = new_ct(0);
	struct cert *other = tu_load_cert("other-host.crt");
	struct fw_packet req = tuple(A_IP, B_IP, 40000, 443, 6), p;
	struct fw_peer o;
	struct ct_owner ob, oo;
	enum fw_why why;
	uint16_t i;

	assert_int_equal(fw_peer_init(&o, fw, other, e->pool), 0);
	conntrack_owner_init(&ob);
	conntrack_owner_init(&oo);
	assert_int_equal(
	    fw_decide_why(fw, ct, OUT, &req, &e->b, &ob, 0, &why), FW_ACCEPT);
	/* the reply through b's tunnel */
	assert_int_equal(
	    fw_decide_why(fw, ct, IN, &req, &e->b, &ob, SEC, &why), FW_ACCEPT);
	assert_int_equal(why, FW_WHY_CONNTRACK);
	/* other-host claims b's address: refused, whichever entries */
	assert_int_equal(
	    fw_decide_why(fw, ct, IN, &req, &o, &oo, SEC, &why), FW_DROP);
	assert_int_equal(why, FW_WHY_REMOTE_IP);
	assert_int_equal(
	    fw_decide_why(fw, ct, IN, &req, &o, &ob, SEC, &why), FW_DROP);
	assert_int_equal(why, FW_WHY_REMOTE_IP);
	/* and our own address must be the local one, tracked or not */
	p = req;
	p.local_ip = A_IP + 1;
	assert_int_equal(
	    fw_decide_why(fw, ct, IN, &p, &e->b, &ob, SEC, &why), FW_DROP);
	assert_int_equal(why, FW_WHY_LOCAL_IP);
	/* b's share */
	conntrack_set_owner_max(ct, 4);
	for (i = 0; i < 3; i++) {
		p = tuple(A_IP, B_IP, 53, (uint16_t)(1000 + i), 17);
		assert_int_equal(
		    fw_decide(fw, ct, IN, &p, &e->b, &ob, SEC), FW_ACCEPT);
	}
	p = tuple(A_IP, B_IP, 53, 2000, 17);
	assert_int_equal(
	    fw_decide_why(fw, ct, IN, &p, &e->b, &ob, SEC, &why), FW_DROP);
	assert_int_equal(why, FW_WHY_PEER_FULL);
	/* tracked flows go on */
	assert_int_equal(
	    fw_decide(fw, ct, IN, &req, &e->b, &ob, 2 * SEC), FW_ACCEPT);
	conntrack_owner_release(ct, &ob);
	assert_int_equal(
	    fw_decide(fw, ct, IN, &p, &e->b, &ob, 2 * SEC), FW_ACCEPT);
	conntrack_owner_release(ct, &ob);
	fw_peer_clear(&o);
	cert_free(other);
	conntrack_free(ct);
	fw_free(fw);
}

static void
test_conntrack_decide_fragments(void **state)
{
	struct env *e = *state;
	struct fw *fw = build(e,
	    "firewall:\n"
	    "  outbound: [{port: 53, proto: udp, host: any}]\n",
	    1);
	struct conntrack *ct = new_ct(0);
	struct fw_packet q = tuple(A_IP, B_IP, 5353, 53, 17), f;

	memset(&f, 0, sizeof(f));
	f.local_ip = A_IP;
	f.remote_ip = B_IP;
	f.proto = 17;
	f.fragment = true;
	assert_int_equal(fw_decide(fw, ct, OUT, &q, &e->b, NULL, 0), FW_ACCEPT);
	/* the reply's later fragments are not the flow */
	assert_int_equal(fw_decide(fw, ct, IN, &f, &e->b, NULL, 0), FW_DROP);
	conntrack_free(ct);
	fw_free(fw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conntrack_reply_hits_same_entry),
	    cmocka_unit_test(test_conntrack_key_is_the_whole_tuple),
	    cmocka_unit_test(test_conntrack_expiry_refreshes_on_hit),
	    cmocka_unit_test(test_conntrack_stale_version),
	    cmocka_unit_test(test_conntrack_bounded),
	    cmocka_unit_test(test_conntrack_grows_and_shrinks),
	    cmocka_unit_test(test_conntrack_expire_sweeps_incrementally),
	    cmocka_unit_test(test_conntrack_long_timeouts),
	    cmocka_unit_test(test_conntrack_matches_model),
	    cmocka_unit_test(test_conntrack_decide_return_traffic),
	    cmocka_unit_test(test_conntrack_decide_udp_timeout),
	    cmocka_unit_test(test_conntrack_decide_reload_rechecks),
	    cmocka_unit_test(
	        test_conntrack_decide_recheck_uses_entry_direction),
	    cmocka_unit_test(test_conntrack_decide_reject_and_reasons),
	    cmocka_unit_test(test_conntrack_decide_full_table_drops),
	    cmocka_unit_test(test_conntrack_decide_fragments),
	    cmocka_unit_test(test_conntrack_owner_is_part_of_the_key),
	    cmocka_unit_test(test_conntrack_owner_share),
	    cmocka_unit_test(test_conntrack_owner_move_and_flush),
	    cmocka_unit_test(test_conntrack_decide_address_first_and_share),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
