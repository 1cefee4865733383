/*
 * test/unit/test_lhreg.c: the lighthouse registry.  The sequences of
 * Nebula 1.6.1's TestLighthouse_Memory, the exchanges of the captures
 * (replies must be byte for byte what the real lighthouse sent), a
 * randomised comparison with a naive model, and memory at 100,000 hosts.
 */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowlist.h"
#include "config.h"
#include "err.h"
#include "lhmsg.h"
#include "lhreg.h"

#include "../fixtures/capture/vectors.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define IP4(a, b, c, d)                                                        \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* The lighthouse of Nebula's tests: 10.128.0.1/24. */
#define OWN_NET IP4(10, 128, 0, 1)
#define OWN_MASK 0xffffff00u

static struct lhmsg *
new_update(uint32_t vpn_ip)
{
	struct lhmsg *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->type = LHMSG_HOST_UPDATE_NOTIFICATION;
	m->has_details = true;
	m->vpn_ip = vpn_ip;
	return m;
}

static void
add4(struct lhmsg *m, uint32_t ip, uint16_t port)
{
	assert_true(m->n4 < LHMSG_MAX);
	m->v4[m->n4].ip = ip;
	m->v4[m->n4++].port = port;
}

static void
add6(struct lhmsg *m, const char *ip, uint16_t port)
{
	assert_true(m->n6 < LHMSG_MAX);
	assert_int_equal(inet_pton(AF_INET6, ip, m->v6[m->n6].ip), 1);
	m->v6[m->n6++].port = port;
}

static void
mapped(uint32_t ip, uint8_t out[16])
{
	memset(out, 0, 16);
	out[10] = out[11] = 0xff;
	out[12] = (uint8_t)(ip >> 24);
	out[13] = (uint8_t)(ip >> 16);
	out[14] = (uint8_t)(ip >> 8);
	out[15] = (uint8_t)ip;
}

static void
update(struct lhreg *r, struct lhmsg *m, int64_t now)
{
	assert_int_equal(
	    lhreg_update(r, m->vpn_ip, m, NULL, NULL, OWN_NET, OWN_MASK, now),
	    0);
}

/* The reply's IPv4 list is exactly want[0..n). */
static void
reply4_is(const struct lhreg *r, uint32_t vpn_ip, const uint32_t *ip,
    const uint16_t *port, size_t n)
{
	struct lhmsg *m = malloc(sizeof(*m));
	size_t i;

	assert_non_null(m);
	assert_int_equal(lhreg_reply(r, vpn_ip, m), 0);
	assert_int_equal(m->type, LHMSG_HOST_QUERY_REPLY);
	assert_true(m->has_details);
	assert_int_equal(m->vpn_ip, vpn_ip);
	assert_int_equal(m->n4, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(m->v4[i].ip, ip[i]);
		assert_int_equal(m->v4[i].port, port[i]);
	}
	free(m);
}

/* lighthouse_test.go TestLighthouse_Memory, without learned addresses. */
static void
test_lhreg_update_replaces(void **state)
{
	const uint32_t me = IP4(10, 128, 0, 2), them = IP4(10, 128, 0, 3);
	const uint32_t a1 = IP4(192, 168, 0, 2), a2 = IP4(172, 16, 0, 2),
	               a3 = IP4(100, 152, 0, 2), a4 = IP4(24, 15, 0, 2);
	const uint16_t p[4] = {4242, 4242, 4242, 4242};
	struct lhreg *r = lhreg_new(100);
	struct lhmsg *m = new_update(me), *t = new_update(them);

	(void)state;
	assert_non_null(r);
	add4(m, a1, 4242);
	add4(m, a2, 4242);
	update(r, m, 1);
	reply4_is(r, me, (const uint32_t[]){a1, a2}, p, 2);
	/* we don't accumulate addresses */
	m->n4 = 0;
	add4(m, a3, 4242);
	update(r, m, 2);
	reply4_is(r, me, (const uint32_t[]){a3}, p, 1);
	/* grow back to 2 */
	m->n4 = 0;
	add4(m, a1, 4242);
	add4(m, a4, 4242);
	update(r, m, 3);
	reply4_is(r, me, (const uint32_t[]){a1, a4}, p, 2);
	/* another host, and both unchanged */
	add4(t, IP4(192, 168, 0, 3), 4242);
	add4(t, IP4(172, 16, 0, 3), 4242);
	add4(t, IP4(100, 152, 0, 3), 4242);
	add4(t, IP4(24, 15, 0, 3), 4242);
	update(r, t, 4);
	reply4_is(r, them,
	    (const uint32_t[]){IP4(192, 168, 0, 3), IP4(172, 16, 0, 3),
	        IP4(100, 152, 0, 3), IP4(24, 15, 0, 3)},
	    p, 4);
	reply4_is(r, me, (const uint32_t[]){a1, a4}, p, 2);
	assert_int_equal(lhreg_count(r), 2);
	/* an empty update empties the lists but keeps the entry */
	m->n4 = 0;
	update(r, m, 5);
	reply4_is(r, me, NULL, NULL, 0);
	assert_int_equal(lhreg_count(r), 2);
	free(m);
	free(t);
	lhreg_free(r);
}

/* Keyed by the sender's certificate: a foreign VpnIp is ignored. */
static void
test_lhreg_update_checks_sender(void **state)
{
	struct lhreg *r = lhreg_new(10);
	struct lhmsg *m = new_update(IP4(10, 128, 0, 2)), out;

	(void)state;
	add4(m, IP4(1, 2, 3, 4), 4242);
	assert_int_equal(lhreg_update(r, IP4(10, 128, 0, 3), m, NULL, NULL,
	                     OWN_NET, OWN_MASK, 0),
	    VPN_ERR_INVAL);
	assert_int_equal(lhreg_count(r), 0);
	m->has_details = false;
	assert_int_equal(lhreg_update(r, IP4(10, 128, 0, 2), m, NULL, NULL,
	                     OWN_NET, OWN_MASK, 0),
	    VPN_ERR_INVAL);
	assert_int_equal(lhreg_count(r), 0);
	assert_int_equal(
	    lhreg_reply(r, IP4(10, 128, 0, 2), &out), VPN_ERR_INVAL);
	assert_false(out.has_details);
	free(m);
	lhreg_free(r);
}

/* IPv4 addresses inside the lighthouse's overlay network are dropped. */
static void
test_lhreg_update_drops_own_network(void **state)
{
	const uint32_t me = IP4(10, 128, 0, 2), good = IP4(1, 128, 0, 99);
	struct lhreg *r = lhreg_new(10);
	struct lhmsg *m = new_update(me), out;

	(void)state;
	add4(m, IP4(10, 128, 0, 99), 4242);
	add4(m, IP4(10, 128, 0, 100), 4242);
	add4(m, good, 4242);
	add4(m, IP4(10, 128, 1, 1), 4242); /* next door: kept */
	add6(m, "fd00::1", 4242);          /* IPv6 is never checked */
	update(r, m, 0);
	reply4_is(r, me, (const uint32_t[]){good, IP4(10, 128, 1, 1)},
	    (const uint16_t[]){4242, 4242}, 2);
	assert_int_equal(lhreg_reply(r, me, &out), 0);
	assert_int_equal(out.n6, 1);
	/* a /0 overlay network swallows every IPv4 address */
	assert_int_equal(lhreg_update(r, me, m, NULL, NULL, 0, 0, 0), 0);
	reply4_is(r, me, NULL, NULL, 0);
	free(m);
	lhreg_free(r);
}

static int
lists(const char *yaml, struct allowlist **al, struct allowranges **ar)
{
	struct config *cfg = NULL;
	struct config_err ce;
	int rc;

	rc = config_load_string(yaml, strlen(yaml), "t.yml", &cfg, &ce);
	assert_int_equal(rc, 0);
	rc = allowlist_build(config_get(cfg, "lighthouse.remote_allow_list"),
	    "lighthouse.remote_allow_list", false, al, &ce);
	assert_int_equal(rc, 0);
	rc =
	    allowranges_build(config_get(cfg, "lighthouse.remote_allow_ranges"),
	        "lighthouse.remote_allow_ranges", ar, &ce);
	assert_int_equal(rc, 0);
	config_free(cfg);
	return rc;
}

/* remote_allow_list and remote_allow_ranges filter what is stored. */
static void
test_lhreg_update_filters_allow_list(void **state)
{
	const uint32_t a = IP4(10, 42, 42, 7), b = IP4(10, 1, 1, 1);
	struct lhreg *r = lhreg_new(10);
	struct lhmsg *m = new_update(a), out;
	struct allowranges *ar = NULL;
	struct allowlist *al = NULL;

	(void)state;
	lists("lighthouse:\n"
	      "  remote_allow_list:\n"
	      "    10.16.0.0/12: false\n"
	      "    'fd00::/8': false\n"
	      "  remote_allow_ranges:\n"
	      "    10.42.42.0/24:\n"
	      "      192.168.0.0/16: true\n",
	    &al, &ar);
	add4(m, IP4(10, 20, 0, 3), 1);   /* global list: no */
	add4(m, IP4(192, 168, 1, 1), 2); /* range: yes */
	add4(m, IP4(8, 8, 8, 8), 3);     /* range: no */
	add6(m, "fd00::1", 4);           /* global list: no */
	add6(m, "2001:db8::1", 5);       /* yes */
	add6(m, "::ffff:10.20.0.3", 6);  /* v6 rules: yes (Nebula) */
	assert_int_equal(
	    lhreg_update(r, a, m, al, ar, OWN_NET, OWN_MASK, 0), 0);
	assert_int_equal(lhreg_reply(r, a, &out), 0);
	assert_int_equal(out.n4, 1);
	assert_int_equal(out.v4[0].ip, IP4(192, 168, 1, 1));
	assert_int_equal(out.n6, 2);
	assert_int_equal(out.v6[0].port, 5);
	assert_int_equal(out.v6[1].port, 6);
	/* another host, outside the range: only the global list */
	m->vpn_ip = b;
	assert_int_equal(
	    lhreg_update(r, b, m, al, ar, OWN_NET, OWN_MASK, 0), 0);
	assert_int_equal(lhreg_reply(r, b, &out), 0);
	assert_int_equal(out.n4, 2);
	assert_int_equal(out.v4[0].port, 2);
	assert_int_equal(out.v4[1].port, 3);
	allowlist_free(al);
	allowranges_free(ar);
	free(m);
	lhreg_free(r);
}

/* Only the first 10 of each list are looked at; duplicates stay. */
static void
test_lhreg_update_caps_at_10(void **state)
{
	const uint32_t me = IP4(10, 128, 0, 2), ip = IP4(192, 168, 0, 2);
	uint32_t want[10];
	uint16_t port[10];
	struct lhreg *r = lhreg_new(10);
	struct lhmsg *m = new_update(me), out;
	size_t i;

	(void)state;
	/* TestLighthouse_Memory: 12 sent, the duplicate kept, 2 cut */
	add4(m, IP4(192, 168, 0, 2), 4242);
	add4(m, IP4(172, 16, 0, 2), 4242);
	add4(m, IP4(100, 152, 0, 2), 4242);
	add4(m, IP4(24, 15, 0, 2), 4242);
	add4(m, ip, 4243);
	add4(m, ip, 4243);
	for (i = 4244; i <= 4249; i++)
		add4(m, ip, (uint16_t)i);
	for (i = 0; i < 12; i++)
		m->relays[m->nrelays++] = (uint32_t)i + 1;
	for (i = 0; i < 12; i++)
		add6(m, "2001:db8::1", (uint16_t)(i + 1));
	update(r, m, 0);
	for (i = 0; i < 10; i++) {
		want[i] = m->v4[i].ip;
		port[i] = m->v4[i].port;
	}
	reply4_is(r, me, want, port, 10);
	assert_int_equal(lhreg_reply(r, me, &out), 0);
	assert_int_equal(out.nrelays, 10);
	assert_int_equal(out.relays[9], 10);
	assert_int_equal(out.n6, 10);
	assert_int_equal(out.v6[9].port, 10);
	/* the cut comes before the filter: 10 own-network ones, 1 good */
	m->n4 = 0;
	for (i = 0; i < 10; i++)
		add4(m, IP4(10, 128, 0, 50) + (uint32_t)i, 4242);
	add4(m, IP4(1, 1, 1, 1), 4242);
	update(r, m, 1);
	reply4_is(r, me, NULL, NULL, 0);
	free(m);
	lhreg_free(r);
}

/* Learned first, per family, no de-duplication; roams replace it. */
static void
test_lhreg_learned_first(void **state)
{
	const uint32_t me = IP4(10, 128, 0, 2), pub = IP4(24, 15, 0, 2);
	struct lhreg *r = lhreg_new(10);
	struct lhmsg *m = new_update(me), out;
	uint8_t b[16];

	(void)state;
	/* learned alone makes an entry that can be answered */
	mapped(pub, b);
	assert_int_equal(lhreg_learned(r, me, b, 31000, 0), 0);
	reply4_is(r, me, (const uint32_t[]){pub}, (const uint16_t[]){31000}, 1);
	add4(m, IP4(192, 168, 0, 2), 4242);
	add4(m, pub, 31000); /* the same as learned: both listed */
	add6(m, "2001:db8::2", 4242);
	update(r, m, 1);
	reply4_is(r, me, (const uint32_t[]){pub, IP4(192, 168, 0, 2), pub},
	    (const uint16_t[]){31000, 4242, 31000}, 3);
	/* a learned IPv6 address goes first in the IPv6 list */
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::99", b), 1);
	assert_int_equal(lhreg_learned(r, me, b, 5555, 2), 0);
	assert_int_equal(lhreg_reply(r, me, &out), 0);
	assert_int_equal(out.n4, 3);
	assert_int_equal(out.n6, 2);
	assert_int_equal(out.v6[0].port, 5555);
	assert_int_equal(out.v6[0].ip[15], 0x99);
	assert_int_equal(out.v6[1].port, 4242);
	/* an update keeps the learned addresses */
	m->n6 = 0;
	update(r, m, 3);
	assert_int_equal(lhreg_reply(r, me, &out), 0);
	assert_int_equal(out.n6, 1);
	assert_int_equal(out.v6[0].port, 5555);
	assert_int_equal(out.v4[0].ip, pub);
	/* roaming replaces the learned address of that family only */
	mapped(IP4(24, 15, 0, 9), b);
	assert_int_equal(lhreg_learned(r, me, b, 31001, 4), 0);
	assert_int_equal(lhreg_reply(r, me, &out), 0);
	assert_int_equal(out.v4[0].ip, IP4(24, 15, 0, 9));
	assert_int_equal(out.v4[0].port, 31001);
	assert_int_equal(out.n4, 3);
	assert_int_equal(out.n6, 1);
	free(m);
	lhreg_free(r);
}

/* Find a captured lightHouse plaintext. */
static const struct cap_pkt *
cap_find(const char *capture, unsigned frame)
{
	size_t i;

	for (i = 0; i < CAP_NPKTS; i++)
		if (strcmp(cap_pkts[i].capture, capture) == 0 &&
		    cap_pkts[i].frame == frame && !cap_pkts[i].inner)
			return &cap_pkts[i];
	fail_msg("no frame %u in %s", frame, capture);
	return NULL;
}

/* Feed a captured update; its sender is Details.VpnIp (checked). */
static void
cap_update(struct lhreg *r, const char *capture, unsigned frame, uint32_t from,
    uint32_t at, int64_t now)
{
	const struct cap_pkt *p = cap_find(capture, frame);
	struct lhmsg m;
	uint8_t b[16];

	assert_int_equal(p->type, 3);
	assert_int_equal(lhmsg_decode(&m, p->pt, p->pt_len), 0);
	assert_int_equal(m.type, LHMSG_HOST_UPDATE_NOTIFICATION);
	assert_int_equal(m.vpn_ip, from);
	/* the handshake came first: the lighthouse learned the address */
	mapped(at, b);
	assert_int_equal(lhreg_learned(r, from, b, 4242, now), 0);
	assert_int_equal(lhreg_update(r, from, &m, NULL, NULL,
	                     IP4(192, 168, 100, 1), 0xffffff00u, now),
	    0);
}

/* Our answer, encoded, must be what Nebula sent. */
static void
cap_answer(struct lhreg *r, const char *capture, unsigned frame, uint32_t about,
    uint32_t type)
{
	const struct cap_pkt *p = cap_find(capture, frame);
	uint8_t out[LHMSG_ENCODED_MAX];
	struct lhmsg m;
	size_t len;

	assert_int_equal(lhreg_reply(r, about, &m), 0);
	m.type = type;
	assert_int_equal(lhmsg_encode(&m, out, sizeof(out), &len), 0);
	assert_int_equal(len, p->pt_len);
	assert_memory_equal(out, p->pt, len);
}

static void
test_lhreg_captured_replies(void **state)
{
	const uint32_t a = IP4(192, 168, 100, 10), b = IP4(192, 168, 100, 20);
	struct lhreg *r = lhreg_new(10);

	(void)state;
	/* aes-basic: host-a and host-b register, a asks about b */
	cap_update(r, "aes-basic", 4, a, IP4(10, 99, 0, 10), 0);
	cap_update(r, "aes-basic", 6, b, IP4(10, 99, 0, 20), 0);
	cap_answer(r, "aes-basic", 16, b, LHMSG_HOST_QUERY_REPLY);
	cap_answer(r, "aes-basic", 17, a, LHMSG_HOST_PUNCH_NOTIFICATION);
	cap_answer(r, "chachapoly-basic", 16, b, LHMSG_HOST_QUERY_REPLY);
	cap_answer(r, "chachapoly-basic", 17, a, LHMSG_HOST_PUNCH_NOTIFICATION);
	lhreg_free(r);

	/* aes-relay: host-b behind the relay 192.168.100.1 */
	r = lhreg_new(10);
	cap_update(r, "aes-relay", 3, a, IP4(10, 99, 0, 10), 0);
	cap_update(r, "aes-relay", 6, b, IP4(10, 99, 1, 20), 0);
	cap_answer(r, "aes-relay", 8, b, LHMSG_HOST_QUERY_REPLY);
	cap_answer(r, "aes-relay", 9, a, LHMSG_HOST_PUNCH_NOTIFICATION);
	cap_answer(r, "aes-relay", 18, b, LHMSG_HOST_QUERY_REPLY);
	lhreg_free(r);
}

static void
test_lhreg_forget(void **state)
{
	struct lhreg *r = lhreg_new(10);
	struct lhmsg *m = new_update(7), out;

	(void)state;
	add4(m, IP4(1, 1, 1, 1), 1);
	update(r, m, 0);
	m->vpn_ip = 8;
	update(r, m, 0);
	lhreg_forget(r, 7);
	lhreg_forget(r, 7);
	lhreg_forget(r, 99);
	assert_int_equal(lhreg_count(r), 1);
	assert_int_equal(lhreg_reply(r, 7, &out), VPN_ERR_INVAL);
	assert_int_equal(lhreg_reply(r, 8, &out), 0);
	assert_int_equal(out.n4, 1);
	free(m);
	lhreg_free(r);
}

static void
test_lhreg_expire(void **state)
{
	struct lhreg *r = lhreg_new(100);
	struct lhmsg *m = new_update(0), out;
	uint8_t b[16];
	uint32_t i;

	(void)state;
	for (i = 1; i <= 50; i++) {
		m->vpn_ip = i;
		m->n4 = 0;
		add4(m, i, (uint16_t)i);
		update(r, m, 100 + i);
	}
	/* refreshing: an update (1) and a learned address (2) */
	m->vpn_ip = 1;
	update(r, m, 200);
	mapped(IP4(9, 9, 9, 9), b);
	assert_int_equal(lhreg_learned(r, 2, b, 9, 200), 0);
	/* ttl 60 at 185: seen before 125 goes (3..24) */
	assert_int_equal(lhreg_expire(r, 185, 60), 22);
	assert_int_equal(lhreg_count(r), 28);
	assert_int_equal(lhreg_reply(r, 1, &out), 0);
	assert_int_equal(lhreg_reply(r, 2, &out), 0);
	assert_int_equal(out.n4, 2);
	assert_int_equal(lhreg_reply(r, 3, &out), VPN_ERR_INVAL);
	assert_int_equal(lhreg_reply(r, 24, &out), VPN_ERR_INVAL);
	assert_int_equal(lhreg_reply(r, 25, &out), 0);
	assert_int_equal(out.v4[0].port, 25);
	assert_int_equal(lhreg_expire(r, 185, 60), 0);
	assert_int_equal(lhreg_expire(r, 1000, 60), 28);
	assert_int_equal(lhreg_count(r), 0);
	free(m);
	lhreg_free(r);
}

/* A full registry refuses new hosts, and only new hosts. */
static void
test_lhreg_max_hosts(void **state)
{
	struct lhreg *r = lhreg_new(3);
	struct lhmsg *m = new_update(0), out;
	uint8_t b[16];
	uint32_t i;

	(void)state;
	assert_null(lhreg_new(0));
	assert_null(lhreg_new((size_t)LHREG_HOSTS_LIMIT + 1));
	add4(m, IP4(1, 1, 1, 1), 1);
	for (i = 1; i <= 3; i++) {
		m->vpn_ip = i;
		update(r, m, 0);
	}
	m->vpn_ip = 4;
	assert_int_equal(
	    lhreg_update(r, 4, m, NULL, NULL, OWN_NET, OWN_MASK, 0),
	    VPN_ERR_RANGE);
	mapped(IP4(2, 2, 2, 2), b);
	assert_int_equal(lhreg_learned(r, 5, b, 1, 0), VPN_ERR_RANGE);
	assert_int_equal(lhreg_refused(r), 2);
	assert_int_equal(lhreg_count(r), 3);
	assert_int_equal(lhreg_reply(r, 4, &out), VPN_ERR_INVAL);
	/* known hosts still update */
	m->vpn_ip = 2;
	add4(m, IP4(1, 1, 1, 2), 2);
	update(r, m, 1);
	assert_int_equal(lhreg_learned(r, 3, b, 1, 0), 0);
	/* room again after a forget */
	lhreg_forget(r, 1);
	m->vpn_ip = 4;
	update(r, m, 2);
	assert_int_equal(lhreg_count(r), 3);
	assert_int_equal(lhreg_reply(r, 4, &out), 0);
	assert_int_equal(out.n4, 2);
	free(m);
	lhreg_free(r);
}

/* --- a naive model, for random operations --------------------------- */

#define MODEL_HOSTS 300

struct model_host {
	bool present, has_l4, has_l6;
	struct lh_addr4 l4;
	struct lh_addr6 l6;
	struct lh_addr4 v4[10];
	struct lh_addr6 v6[10];
	uint32_t rel[10];
	size_t n4, n6, nrel;
	int64_t seen;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void
model_check(const struct lhreg *r, const struct model_host *h, size_t n)
{
	struct lhmsg out;
	size_t i, j, k, count = 0;

	for (i = 0; i < n; i++) {
		if (!h[i].present) {
			assert_int_equal(
			    lhreg_reply(r, (uint32_t)i, &out), VPN_ERR_INVAL);
			continue;
		}
		count++;
		assert_int_equal(lhreg_reply(r, (uint32_t)i, &out), 0);
		k = 0;
		assert_int_equal(out.n4, h[i].n4 + h[i].has_l4);
		if (h[i].has_l4) {
			assert_int_equal(out.v4[0].ip, h[i].l4.ip);
			assert_int_equal(out.v4[0].port, h[i].l4.port);
			k = 1;
		}
		for (j = 0; j < h[i].n4; j++) {
			assert_int_equal(out.v4[k + j].ip, h[i].v4[j].ip);
			assert_int_equal(out.v4[k + j].port, h[i].v4[j].port);
		}
		assert_int_equal(out.n6, h[i].n6 + h[i].has_l6);
		k = 0;
		if (h[i].has_l6) {
			assert_memory_equal(
			    &out.v6[0], &h[i].l6, sizeof(h[i].l6));
			k = 1;
		}
		for (j = 0; j < h[i].n6; j++)
			assert_memory_equal(
			    &out.v6[k + j], &h[i].v6[j], sizeof(h[i].v6[j]));
		assert_int_equal(out.nrelays, h[i].nrel);
		for (j = 0; j < h[i].nrel; j++)
			assert_int_equal(out.relays[j], h[i].rel[j]);
	}
	assert_int_equal(lhreg_count(r), count);
}

static size_t
model_expire(struct model_host *h, size_t n, int64_t now, int64_t ttl)
{
	size_t i, gone = 0;

	for (i = 0; i < n; i++) {
		if (h[i].present && h[i].seen < now - ttl) {
			memset(&h[i], 0, sizeof(h[i]));
			gone++;
		}
	}
	return gone;
}

/* Random updates, learned addresses, forgets and expiries vs the model. */
static void
test_lhreg_random_against_model(void **state)
{
	struct model_host *h = calloc(MODEL_HOSTS, sizeof(*h));
	struct lhreg *r = lhreg_new(MODEL_HOSTS);
	struct lhmsg *m = new_update(0);
	size_t i, j, op, round;
	uint32_t v;
	uint8_t b[16];
	int64_t now = 0;

	(void)state;
	assert_non_null(h);
	for (round = 0; round < 60000; round++) {
		v = rng() % MODEL_HOSTS;
		op = rng() % 100;
		now++;
		if (op < 55) {
			m->vpn_ip = v;
			m->n4 = rng() % 13;
			m->n6 = rng() % 13;
			m->nrelays = rng() % 13;
			for (i = 0; i < m->n4; i++) {
				m->v4[i].ip = rng();
				m->v4[i].port = (uint16_t)rng();
			}
			for (i = 0; i < m->n6; i++) {
				for (j = 0; j < 16; j++)
					m->v6[i].ip[j] = (uint8_t)rng();
				m->v6[i].port = (uint16_t)rng();
			}
			for (i = 0; i < m->nrelays; i++)
				m->relays[i] = rng();
			assert_int_equal(lhreg_update(r, v, m, NULL, NULL,
			                     0x0a800000, 0xffff0000, now),
			    0);
			h[v].present = true;
			h[v].seen = now;
			h[v].n4 = 0;
			for (i = 0; i < m->n4 && i < 10; i++)
				if ((m->v4[i].ip & 0xffff0000) != 0x0a800000)
					h[v].v4[h[v].n4++] = m->v4[i];
			h[v].n6 = m->n6 < 10 ? m->n6 : 10;
			memcpy(h[v].v6, m->v6, h[v].n6 * sizeof(m->v6[0]));
			h[v].nrel = m->nrelays < 10 ? m->nrelays : 10;
			memcpy(h[v].rel, m->relays, h[v].nrel * 4);
		} else if (op < 80) {
			for (j = 0; j < 16; j++)
				b[j] = (uint8_t)rng();
			if (rng() % 2 == 0) {
				memset(b, 0, 10);
				b[10] = b[11] = 0xff;
			}
			i = rng() & 0xffff;
			assert_int_equal(
			    lhreg_learned(r, v, b, (uint16_t)i, now), 0);
			h[v].present = true;
			h[v].seen = now;
			if (b[10] == 0xff && b[11] == 0xff &&
			    memcmp(b, "\0\0\0\0\0\0\0\0\0\0", 10) == 0) {
				h[v].has_l4 = true;
				h[v].l4.ip = (uint32_t)b[12] << 24 |
				             (uint32_t)b[13] << 16 |
				             (uint32_t)b[14] << 8 | b[15];
				h[v].l4.port = (uint16_t)i;
			} else {
				h[v].has_l6 = true;
				memcpy(h[v].l6.ip, b, 16);
				h[v].l6.port = (uint16_t)i;
			}
		} else if (op < 97) {
			lhreg_forget(r, v);
			memset(&h[v], 0, sizeof(h[v]));
		} else {
			assert_int_equal(lhreg_expire(r, now, 500),
			    model_expire(h, MODEL_HOSTS, now, 500));
		}
		if (round % 1000 == 0)
			model_check(r, h, MODEL_HOSTS);
	}
	model_check(r, h, MODEL_HOSTS);
	free(m);
	free(h);
	lhreg_free(r);
}

/* --- scale ---------------------------------------------------------- */

static double
fill(size_t hosts, size_t n4, size_t n6, size_t nrel, bool learned)
{
	struct lhreg *r = lhreg_new(hosts);
	struct lhmsg *m = new_update(0), out;
	size_t i, k, bytes;
	uint8_t b[16];
	uint32_t v;

	assert_non_null(r);
	for (i = 0; i < hosts; i++) {
		v = IP4(10, 0, 0, 0) + (uint32_t)i + 1;
		m->vpn_ip = v;
		m->n4 = m->n6 = m->nrelays = 0;
		for (k = 0; k < n4; k++)
			add4(m, IP4(100, 64, 0, 0) + (uint32_t)(i * 4 + k),
			    4242);
		for (k = 0; k < n6; k++)
			add6(m, "2001:db8::1", (uint16_t)(k + 1));
		for (k = 0; k < nrel; k++)
			m->relays[m->nrelays++] = IP4(10, 0, 0, 1);
		if (learned) {
			mapped(IP4(198, 51, 0, 0) + (uint32_t)i, b);
			assert_int_equal(lhreg_learned(r, v, b, 31000, 0), 0);
		}
		assert_int_equal(lhreg_update(r, v, m, NULL, NULL,
		                     IP4(10, 0, 0, 1), 0xff000000u, 0),
		    0);
	}
	assert_int_equal(lhreg_count(r), hosts);
	/* spot checks */
	for (i = 0; i < hosts; i += hosts / 97 + 1) {
		v = IP4(10, 0, 0, 0) + (uint32_t)i + 1;
		assert_int_equal(lhreg_reply(r, v, &out), 0);
		assert_int_equal(out.n4, n4 + learned);
		assert_int_equal(out.v4[learned].ip,
		    n4 ? IP4(100, 64, 0, 0) + (uint32_t)(i * 4) : 0);
		assert_int_equal(out.n6, n6);
		assert_int_equal(out.nrelays, nrel);
	}
	/* steady state: the same updates again allocate nothing */
	bytes = lhreg_bytes(r);
	m->vpn_ip = IP4(10, 0, 0, 1);
	for (i = 0; i < 1000; i++)
		assert_int_equal(lhreg_update(r, m->vpn_ip, m, NULL, NULL, 0,
		                     0xffffffffu, 1),
		    0);
	assert_int_equal(lhreg_bytes(r), bytes);
	free(m);
	lhreg_free(r);
	return (double)bytes / (double)hosts;
}

static void
test_lhreg_memory_100k_hosts(void **state)
{
	static const struct {
		const char *what;
		size_t n4, n6, nrel;
		bool learned;
	} t[] = {
	    {"learned only", 0, 0, 0, true},
	    {"learned + 2 IPv4", 2, 0, 0, true},
	    {"learned + 3 IPv4 + 1 IPv6 + 1 relay", 3, 1, 1, true},
	    {"full: learned + 10 IPv4 + 10 IPv6 + 10 relays", 10, 10, 10, true},
	};
	double per;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		per = fill(100000, t[i].n4, t[i].n6, t[i].nrel, t[i].learned);
		printf("# lhreg, 100000 hosts, %s: %.1f bytes/host\n",
		    t[i].what, per);
		assert_true(per < 512);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lhreg_update_replaces),
	    cmocka_unit_test(test_lhreg_update_checks_sender),
	    cmocka_unit_test(test_lhreg_update_drops_own_network),
	    cmocka_unit_test(test_lhreg_update_filters_allow_list),
	    cmocka_unit_test(test_lhreg_update_caps_at_10),
	    cmocka_unit_test(test_lhreg_learned_first),
	    cmocka_unit_test(test_lhreg_captured_replies),
	    cmocka_unit_test(test_lhreg_forget),
	    cmocka_unit_test(test_lhreg_expire),
	    cmocka_unit_test(test_lhreg_max_hosts),
	    cmocka_unit_test(test_lhreg_random_against_model),
	    cmocka_unit_test(test_lhreg_memory_100k_hosts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
