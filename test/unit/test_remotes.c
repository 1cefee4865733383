/*
 * test/unit/test_remotes.c: a peer's candidate addresses (node/remotes.c)
 * with a configuration built by hand: lighthouse answers kept per
 * lighthouse and merged with the static_host_map without duplicates,
 * ranked (preferred ranges, IPv6, public IPv4, private IPv4, then by
 * bytes and port), and the bounds: answers about ourselves or outside
 * our network, lighthouses past LH_MAX_HOSTS, entries past
 * LHREG_MAX_ADDRS per list, and the caller's max.  remote_allow_list is
 * absent (NULL: everything allowed).
 */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipaddr.h"
#include "lhmsg.h"
#include "lhreg.h"
#include "node.h"
#include "remotes.h"
#include "udp.h"

#define MY_IP 0x0a010005u   /* 10.1.0.5 */
#define MY_MASK 0xffff0000u /* /16 */
#define PEER 0x0a010007u    /* 10.1.0.7 */
#define PEER2 0x0a010008u   /* 10.1.0.8 */
#define LH1 0x0a010001u
#define LH2 0x0a010002u

/* The per-answer cap is the smaller one, so that it is what is tested. */
_Static_assert(LHREG_MAX_ADDRS < LHMSG_MAX, "LHREG_MAX_ADDRS < LHMSG_MAX");

static struct node_cfg
cfg_new(void)
{
	struct node_cfg c;

	memset(&c, 0, sizeof(c));
	c.vpn_ip = MY_IP;
	c.vpn_mask = MY_MASK;
	return c;
}

static uint32_t
v4(const char *s)
{
	uint32_t ip;

	assert_true(ip4_parse(s, &ip));
	return ip;
}

/* "1.2.3.4:5" or "[2001:db8::1]:5" */
static struct udp_addr
ua(const char *s)
{
	struct udp_addr a;

	assert_int_equal(udp_addr_parse(s, &a), 0);
	return a;
}

static struct lhmsg *
reply(uint32_t vpn_ip)
{
	struct lhmsg *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->type = LHMSG_HOST_QUERY_REPLY;
	m->has_details = true;
	m->vpn_ip = vpn_ip;
	return m;
}

static void
add4(struct lhmsg *m, const char *ip, uint16_t port)
{
	assert_true(m->n4 < LHMSG_MAX);
	m->v4[m->n4].ip = v4(ip);
	m->v4[m->n4].port = port;
	m->n4++;
}

static void
add6(struct lhmsg *m, const char *ip, uint16_t port)
{
	assert_true(m->n6 < LHMSG_MAX);
	assert_int_equal(inet_pton(AF_INET6, ip, m->v6[m->n6].ip), 1);
	m->v6[m->n6].port = port;
	m->n6++;
}

/* c's static_host_map: vpn_ip at the n addresses given. */
static void
set_static(struct node_cfg *c, struct static_host *sh, uint32_t vpn_ip,
    const char *const *addrs, size_t n)
{
	size_t i;

	memset(sh, 0, sizeof(*sh));
	sh->vpn_ip = vpn_ip;
	for (i = 0; i < n; i++)
		sh->addrs[i] = ua(addrs[i]);
	sh->naddrs = n;
	c->statics = sh;
	c->nstatics = 1;
}

#define SET_STATIC(c, sh, ip, ...)                                             \
	do {                                                                   \
		static const char *const a_[] = {__VA_ARGS__};                 \
		set_static(c, sh, ip, a_, sizeof(a_) / sizeof(a_[0]));         \
	} while (0)

static void
store(struct remotes *r, const struct node_cfg *c, uint32_t lh, struct lhmsg *m)
{
	remotes_store(r, c, lh, m);
	free(m);
}

/* remotes_addrs for vpn_ip is exactly want[0..n-1], in that order. */
static void
expect(const struct remotes *r, const struct node_cfg *c, uint32_t vpn_ip,
    const char *const *want, size_t n)
{
	struct udp_addr out[REMOTES_MAX];
	char got[REMOTES_MAX][UDP_ADDR_STRLEN], w[UDP_ADDR_STRLEN];
	size_t cnt, i;

	cnt = remotes_addrs(r, c, vpn_ip, out, REMOTES_MAX);
	for (i = 0; i < cnt; i++)
		udp_addr_format(&out[i], got[i]);
	for (i = 0; i < n; i++) {
		struct udp_addr a = ua(want[i]);

		udp_addr_format(&a, w);
		if (i >= cnt || strcmp(got[i], w) != 0)
			break;
	}
	if (cnt != n || i != n)
		for (i = 0; i < cnt; i++)
			print_message("  got[%zu] %s\n", i, got[i]);
	assert_int_equal(cnt, n);
	for (i = 0; i < n; i++) {
		struct udp_addr a = ua(want[i]);

		udp_addr_format(&a, w);
		assert_string_equal(got[i], w);
	}
}

#define EXPECT(r, c, ip, ...)                                                  \
	do {                                                                   \
		static const char *const want_[] = {__VA_ARGS__};              \
		expect(r, c, ip, want_, sizeof(want_) / sizeof(want_[0]));     \
	} while (0)

/* --- tests ---------------------------------------------------------- */

static void
test_remotes_store_keeps_answer(void **state)
{
	struct node_cfg c = cfg_new();
	struct remotes *r = remotes_new();
	struct udp_addr out[4];
	struct lhmsg *m;

	(void)state;
	assert_non_null(r);
	assert_int_equal(remotes_count(r), 0);
	assert_int_equal(remotes_addrs(r, &c, PEER, out, 4), 0);

	m = reply(PEER);
	add4(m, "1.2.3.4", 4242);
	add4(m, "5.6.7.8", 4243);
	add6(m, "2001:db8::1", 4244);
	store(r, &c, LH1, m);
	assert_int_equal(remotes_count(r), 1);
	EXPECT(
	    r, &c, PEER, "[2001:db8::1]:4244", "1.2.3.4:4242", "5.6.7.8:4243");
	/* Nothing about another peer. */
	assert_int_equal(remotes_addrs(r, &c, PEER2, out, 4), 0);

	remotes_free(r);
	remotes_free(NULL);
}

static void
test_remotes_answer_replaces(void **state)
{
	struct node_cfg c = cfg_new();
	struct remotes *r = remotes_new();
	struct udp_addr out[4];
	struct lhmsg *m;

	(void)state;
	assert_non_null(r);
	m = reply(PEER);
	add4(m, "1.2.3.4", 1);
	add6(m, "2001:db8::1", 1);
	store(r, &c, LH1, m);
	m = reply(PEER);
	add4(m, "5.6.7.8", 2);
	store(r, &c, LH1, m);
	EXPECT(r, &c, PEER, "5.6.7.8:2");
	assert_int_equal(remotes_count(r), 1);

	/* An empty answer empties that lighthouse's part. */
	store(r, &c, LH1, reply(PEER));
	assert_int_equal(remotes_addrs(r, &c, PEER, out, 4), 0);
	assert_int_equal(remotes_count(r), 1);

	remotes_free(r);
}

static void
test_remotes_merge_dedup(void **state)
{
	struct node_cfg c = cfg_new();
	struct static_host sh[1];
	struct remotes *r = remotes_new();
	struct lhmsg *m;

	(void)state;
	assert_non_null(r);
	m = reply(PEER);
	add4(m, "9.9.9.9", 9);
	add4(m, "7.7.7.7", 7);
	add4(m, "7.7.7.7", 7); /* twice in one answer */
	add6(m, "2001:db8::9", 9);
	store(r, &c, LH1, m);
	m = reply(PEER);
	add4(m, "9.9.9.9", 9);  /* also LH1's */
	add4(m, "9.9.9.9", 10); /* another port: another address */
	add4(m, "6.6.6.6", 6);
	add4(m, "1.2.3.4", 1); /* also static, once statics are there */
	add6(m, "2001:db8::9", 9);
	store(r, &c, LH2, m);
	EXPECT(r, &c, PEER, "[2001:db8::9]:9", "1.2.3.4:1", "6.6.6.6:6",
	    "7.7.7.7:7", "9.9.9.9:9", "9.9.9.9:10");

	SET_STATIC(&c, sh, PEER, "1.2.3.4:1", "8.8.8.8:53");
	EXPECT(r, &c, PEER, "[2001:db8::9]:9", "1.2.3.4:1", "6.6.6.6:6",
	    "7.7.7.7:7", "8.8.8.8:53", "9.9.9.9:9", "9.9.9.9:10");
	/* The statics alone for a peer nobody answered about. */
	sh[0].vpn_ip = PEER2;
	EXPECT(r, &c, PEER2, "1.2.3.4:1", "8.8.8.8:53");
	assert_int_equal(remotes_count(r), 1);

	remotes_free(r);
}

/* Preferred ranges, then IPv6, then public, then RFC 1918 IPv4; within a
 * rank by address bytes, then port.  The boundaries of 10/8, 172.16/12
 * and 192.168/16 are just inside and just outside. */
static void
test_remotes_ranking(void **state)
{
	struct node_cfg c = cfg_new();
	struct static_host sh[1];
	struct ip4net pref[2];
	struct remotes *r = remotes_new();
	struct lhmsg *m;
	static const char *const statics[] = {"172.31.255.255:1",
	    "192.168.1.20:1", "10.255.255.255:1", "[fe80::1]:1", "1.2.3.4:5",
	    "172.16.0.0:1", "192.168.1.3:7", "192.168.2.1:1", "10.0.0.0:2",
	    "192.168.255.255:1"};

	(void)state;
	assert_non_null(r);
	set_static(&c, sh, PEER, statics, 10);

	m = reply(PEER);
	add4(m, "192.169.0.0", 1);
	add4(m, "11.0.0.0", 1);
	add4(m, "172.32.0.0", 1);
	add4(m, "1.2.3.4", 4);
	add4(m, "9.255.255.255", 1);
	add4(m, "172.15.255.255", 1);
	add4(m, "192.167.255.255", 1);
	add4(m, "203.0.113.9", 1);
	add6(m, "2001:db8::1", 1);
	add6(m, "64:ff9b::1", 1); /* NAT64: still IPv6 */
	store(r, &c, LH1, m);

	EXPECT(r, &c, PEER, "[64:ff9b::1]:1", "[2001:db8::1]:1", "[fe80::1]:1",
	    "1.2.3.4:4", "1.2.3.4:5", "9.255.255.255:1", "11.0.0.0:1",
	    "172.15.255.255:1", "172.32.0.0:1", "192.167.255.255:1",
	    "192.169.0.0:1", "203.0.113.9:1", "10.0.0.0:2", "10.255.255.255:1",
	    "172.16.0.0:1", "172.31.255.255:1", "192.168.1.3:7",
	    "192.168.1.20:1", "192.168.2.1:1", "192.168.255.255:1");

	/* preferred_ranges: 192.168.1.0/24 (private) and 203.0.113.0/24
	 * (public) go first, before IPv6. */
	assert_int_equal(ip4net_parse("192.168.1.0/24", &pref[0]), 0);
	assert_int_equal(ip4net_parse("203.0.113.0/24", &pref[1]), 0);
	c.preferred = pref;
	c.npreferred = 2;
	EXPECT(r, &c, PEER, "192.168.1.3:7", "192.168.1.20:1", "203.0.113.9:1",
	    "[64:ff9b::1]:1", "[2001:db8::1]:1", "[fe80::1]:1", "1.2.3.4:4",
	    "1.2.3.4:5", "9.255.255.255:1", "11.0.0.0:1", "172.15.255.255:1",
	    "172.32.0.0:1", "192.167.255.255:1", "192.169.0.0:1", "10.0.0.0:2",
	    "10.255.255.255:1", "172.16.0.0:1", "172.31.255.255:1",
	    "192.168.2.1:1", "192.168.255.255:1");

	remotes_free(r);
}

static void
test_remotes_ignores_self_and_outsiders(void **state)
{
	struct node_cfg c = cfg_new();
	struct remotes *r = remotes_new();
	struct udp_addr out[4];
	struct lhmsg *m;
	static const uint32_t bad[] = {MY_IP, 0x0a020007u /* 10.2.0.7 */,
	    0x0b010007u /* 11.1.0.7 */, 0x0a000007u /* 10.0.0.7 */};
	size_t i;

	(void)state;
	assert_non_null(r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = reply(bad[i]);
		add4(m, "1.2.3.4", 1);
		store(r, &c, LH1, m);
		assert_int_equal(remotes_count(r), 0);
		assert_int_equal(remotes_addrs(r, &c, bad[i], out, 4), 0);
	}
	/* The edges of 10.1.0.0/16 are inside. */
	m = reply(0x0a01ffffu);
	add4(m, "1.2.3.4", 1);
	store(r, &c, LH1, m);
	m = reply(0x0a010000u);
	add4(m, "1.2.3.5", 1);
	store(r, &c, LH1, m);
	assert_int_equal(remotes_count(r), 2);
	EXPECT(r, &c, 0x0a01ffffu, "1.2.3.4:1");
	EXPECT(r, &c, 0x0a010000u, "1.2.3.5:1");

	remotes_free(r);
}

/* One slot per lighthouse, LH_MAX_HOSTS of them: a further lighthouse's
 * answer is dropped, the others' still replace their own. */
static void
test_remotes_lighthouse_limit(void **state)
{
	struct node_cfg c = cfg_new();
	struct remotes *r = remotes_new();
	struct udp_addr out[REMOTES_MAX];
	char want[UDP_ADDR_STRLEN], got[UDP_ADDR_STRLEN];
	struct lhmsg *m;
	size_t i, n;

	(void)state;
	assert_non_null(r);
	for (i = 0; i <= LH_MAX_HOSTS; i++) {
		m = reply(PEER);
		m->v4[0].ip = 0x01010100u + (uint32_t)i; /* 1.1.1.i */
		m->v4[0].port = 1000;
		m->n4 = 1;
		store(r, &c, LH1 + (uint32_t)i, m);
	}
	n = remotes_addrs(r, &c, PEER, out, REMOTES_MAX);
	assert_int_equal(n, LH_MAX_HOSTS);
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "1.1.1.%zu:1000", i);
		udp_addr_format(&out[i], got);
		assert_string_equal(got, want);
	}

	/* The last one still cannot get in; the first still replaces. */
	m = reply(PEER);
	add4(m, "2.2.2.2", 2);
	store(r, &c, LH1 + LH_MAX_HOSTS, m);
	m = reply(PEER);
	add4(m, "3.3.3.3", 3);
	store(r, &c, LH1, m);
	n = remotes_addrs(r, &c, PEER, out, REMOTES_MAX);
	assert_int_equal(n, LH_MAX_HOSTS);
	for (i = 0; i < n - 1; i++) {
		snprintf(want, sizeof(want), "1.1.1.%zu:1000", i + 1);
		udp_addr_format(&out[i], got);
		assert_string_equal(got, want);
	}
	udp_addr_format(&out[n - 1], got);
	assert_string_equal(got, "3.3.3.3:3");
	assert_int_equal(remotes_count(r), 1);

	remotes_free(r);
}

static void
test_remotes_forget(void **state)
{
	struct node_cfg c = cfg_new();
	struct static_host sh[1];
	struct remotes *r = remotes_new();
	struct lhmsg *m;

	(void)state;
	assert_non_null(r);
	SET_STATIC(&c, sh, PEER, "8.8.8.8:53");

	m = reply(PEER);
	add4(m, "1.2.3.4", 1);
	store(r, &c, LH1, m);
	m = reply(PEER2);
	add4(m, "5.6.7.8", 2);
	store(r, &c, LH1, m);
	assert_int_equal(remotes_count(r), 2);
	EXPECT(r, &c, PEER, "1.2.3.4:1", "8.8.8.8:53");

	remotes_forget(r, PEER);
	assert_int_equal(remotes_count(r), 1);
	EXPECT(r, &c, PEER, "8.8.8.8:53");
	EXPECT(r, &c, PEER2, "5.6.7.8:2");

	/* Unknown or already forgotten: nothing changes. */
	remotes_forget(r, PEER);
	remotes_forget(r, 0x0a010063u);
	assert_int_equal(remotes_count(r), 1);
	EXPECT(r, &c, PEER2, "5.6.7.8:2");

	/* A new answer after forgetting is kept afresh. */
	m = reply(PEER);
	add4(m, "4.4.4.4", 4);
	store(r, &c, LH2, m);
	assert_int_equal(remotes_count(r), 2);
	EXPECT(r, &c, PEER, "4.4.4.4:4", "8.8.8.8:53");

	remotes_free(r);
}

/* max below the count: exactly max distinct addresses, nothing written
 * past them. */
static void
test_remotes_max_truncates(void **state)
{
	struct node_cfg c = cfg_new();
	struct static_host sh[1];
	struct remotes *r = remotes_new();
	struct udp_addr out[REMOTES_MAX + 1], fill;
	char got[UDP_ADDR_STRLEN];
	struct lhmsg *m;
	size_t i, j, k, n;

	(void)state;
	assert_non_null(r);
	memset(sh, 0, sizeof(sh));
	sh[0].vpn_ip = PEER;
	for (i = 0; i < STATIC_MAX_ADDRS; i++)
		udp_addr_from_v4(&sh[0].addrs[i], 0x02000000u + (uint32_t)i, 1);
	sh[0].naddrs = STATIC_MAX_ADDRS;
	c.statics = sh;
	c.nstatics = 1;
	for (k = 0; k < LH_MAX_HOSTS; k++) {
		m = reply(PEER);
		for (i = 0; i < LHREG_MAX_ADDRS; i++) {
			m->v4[i].ip = 0x03000000u + (uint32_t)(k * 256 + i);
			m->v4[i].port = 1;
			m->v6[i].ip[0] = 0x20;
			m->v6[i].ip[1] = 0x01;
			m->v6[i].ip[14] = (uint8_t)k;
			m->v6[i].ip[15] = (uint8_t)i;
			m->v6[i].port = 1;
		}
		m->n4 = m->n6 = LHREG_MAX_ADDRS;
		store(r, &c, LH1 + (uint32_t)k, m);
	}
	/* Full: REMOTES_MAX exactly. */
	n = remotes_addrs(r, &c, PEER, out, REMOTES_MAX);
	assert_int_equal(n, REMOTES_MAX);

	for (k = 0; k <= 7; k++) {
		memset(out, 0xa5, sizeof(out));
		memset(&fill, 0xa5, sizeof(fill));
		n = remotes_addrs(r, &c, PEER, out, k);
		assert_int_equal(n, k);
		for (i = k; i <= REMOTES_MAX; i++)
			assert_memory_equal(&out[i], &fill, sizeof(fill));
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				assert_false(udp_addr_eq(&out[i], &out[j]));
	}

	/* Duplicates do not count against max: statics A, B; an answer
	 * A, C, D (D private, the worst); three are A, B, C, ranked.  (D
	 * comes last also in the order the candidates are gathered:
	 * remotes_addrs cuts at max before it ranks.) */
	sh[0].addrs[0] = ua("5.5.5.5:1");
	sh[0].addrs[1] = ua("[2001:db8::2]:1");
	sh[0].naddrs = 2;
	m = reply(PEER2);
	add4(m, "5.5.5.5", 1);
	add4(m, "4.4.4.4", 1);
	add4(m, "10.0.0.1", 1);
	sh[0].vpn_ip = PEER2;
	store(r, &c, LH1, m);
	memset(out, 0xa5, sizeof(out));
	n = remotes_addrs(r, &c, PEER2, out, 3);
	assert_int_equal(n, 3);
	udp_addr_format(&out[0], got);
	assert_string_equal(got, "[2001:db8::2]:1");
	udp_addr_format(&out[1], got);
	assert_string_equal(got, "4.4.4.4:1");
	udp_addr_format(&out[2], got);
	assert_string_equal(got, "5.5.5.5:1");
	assert_memory_equal(&out[3], &fill, sizeof(fill));

	remotes_free(r);
}

/* Of each list only the first LHREG_MAX_ADDRS entries are kept. */
static void
test_remotes_answer_capped(void **state)
{
	struct node_cfg c = cfg_new();
	struct remotes *r = remotes_new();
	struct udp_addr out[REMOTES_MAX], a;
	struct lhmsg *m;
	size_t i, n;

	(void)state;
	assert_non_null(r);
	m = reply(PEER);
	/* Listed in descending order, so that the kept ones are not the
	 * lowest: v4 1.0.0.64 .. 1.0.0.1, v6 2001:db8::64 .. ::1. */
	for (i = 0; i < LHMSG_MAX; i++) {
		m->v4[i].ip = 0x01000000u + (uint32_t)(LHMSG_MAX - i);
		m->v4[i].port = 7;
		m->v6[i].ip[0] = 0x20;
		m->v6[i].ip[1] = 0x01;
		m->v6[i].ip[2] = 0x0d;
		m->v6[i].ip[3] = 0xb8;
		m->v6[i].ip[15] = (uint8_t)(LHMSG_MAX - i);
		m->v6[i].port = 6;
	}
	m->n4 = m->n6 = LHMSG_MAX;
	store(r, &c, LH1, m);
	n = remotes_addrs(r, &c, PEER, out, REMOTES_MAX);
	assert_int_equal(n, 2 * LHREG_MAX_ADDRS);
	/* v6 first, ascending: the kept ones are 64-LHREG+1 .. 64. */
	for (i = 0; i < LHREG_MAX_ADDRS; i++) {
		memset(&a, 0, sizeof(a));
		a.ip[0] = 0x20;
		a.ip[1] = 0x01;
		a.ip[2] = 0x0d;
		a.ip[3] = 0xb8;
		a.ip[15] = (uint8_t)(LHMSG_MAX - LHREG_MAX_ADDRS + 1 + i);
		a.port = 6;
		assert_true(udp_addr_eq(&out[i], &a));
	}
	for (i = 0; i < LHREG_MAX_ADDRS; i++) {
		udp_addr_from_v4(&a,
		    0x01000000u +
		        (uint32_t)(LHMSG_MAX - LHREG_MAX_ADDRS + 1 + i),
		    7);
		assert_true(udp_addr_eq(&out[LHREG_MAX_ADDRS + i], &a));
	}

	/* Counts above LHMSG_MAX (never decoded, but in the struct's
	 * range of size_t) read no further than the cap. */
	m = reply(PEER);
	m->v4[0].ip = v4("9.9.9.9");
	m->v4[0].port = 9;
	m->n4 = (size_t)-1;
	m->n6 = 0;
	remotes_store(r, &c, LH2, m);
	free(m);
	/* 9.9.9.9:9 and 0.0.0.0:0 (entries 1..9, zeroed) */
	n = remotes_addrs(r, &c, PEER, out, REMOTES_MAX);
	assert_int_equal(n, 2 * LHREG_MAX_ADDRS + 2);

	remotes_free(r);
}

/* With more addresses than asked for, the best ones come back, not the
 * first ones gathered (statics, then lighthouse answers). */
static void
test_remotes_max_keeps_best(void **state)
{
	struct node_cfg c = cfg_new();
	struct static_host sh[1];
	struct remotes *r = remotes_new();
	struct udp_addr out[3];
	char got[3][UDP_ADDR_STRLEN];
	struct lhmsg *m;
	size_t i;

	(void)state;
	assert_non_null(r);
	SET_STATIC(&c, sh, PEER2, "5.5.5.5:1", "[2001:db8::2]:1");
	m = reply(PEER2);
	add4(m, "5.5.5.5", 1);
	add4(m, "10.0.0.1", 1);
	add4(m, "4.4.4.4", 1);
	store(r, &c, LH1, m);
	assert_int_equal(remotes_addrs(r, &c, PEER2, out, 3), 3);
	for (i = 0; i < 3; i++)
		udp_addr_format(&out[i], got[i]);
	assert_string_equal(got[0], "[2001:db8::2]:1");
	assert_string_equal(got[1], "4.4.4.4:1");
	assert_string_equal(got[2], "5.5.5.5:1");
	remotes_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_remotes_store_keeps_answer),
	    cmocka_unit_test(test_remotes_answer_replaces),
	    cmocka_unit_test(test_remotes_merge_dedup),
	    cmocka_unit_test(test_remotes_ranking),
	    cmocka_unit_test(test_remotes_ignores_self_and_outsiders),
	    cmocka_unit_test(test_remotes_lighthouse_limit),
	    cmocka_unit_test(test_remotes_forget),
	    cmocka_unit_test(test_remotes_max_truncates),
	    cmocka_unit_test(test_remotes_max_keeps_best),
	    cmocka_unit_test(test_remotes_answer_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
