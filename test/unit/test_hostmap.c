/*
 * test/unit/test_hostmap.c: the host map alone (node/hostmap.c): the
 * three indexes of tunnels and how an install replaces and a remove
 * spares the current tunnel, the two indexes of pending handshakes, the
 * allocation of fresh indexes and the bound on queued bytes.
 *
 * The host map draws indexes with crypto_random(); this file defines its
 * own, which the linker takes in place of lib/crypto.c's (nothing else
 * the test links needs that object), so that draws can be scripted: a
 * fixed sequence, a small range where most values are taken, or a
 * failure.  Pending handshakes are opaque to the host map, which only
 * stores the pointers: addresses of local objects stand in for them.
 */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "err.h"
#include "hostmap.h"
#include "tunnel.h"

#define IP_A 0x0a010002u /* 10.1.0.2 */
#define IP_B 0x0a010003u /* 10.1.0.3 */
#define IP_C 0x0a010004u /* 10.1.0.4 */

/* --- scripted randomness ------------------------------------------- */

enum rnd_mode {
	RND_SCRIPT, /* the values in rnd_script, in order */
	RND_SMALL,  /* rand() % RND_SMALL_N: most draws collide */
	RND_FAIL,   /* every call fails */
};

#define RND_SMALL_N 32u

static enum rnd_mode rnd_mode;
static uint32_t rnd_script[64];
static size_t rnd_len, rnd_pos;
static size_t rnd_calls;

static void
rnd_set(const uint32_t *v, size_t n)
{
	assert_true(n <= sizeof(rnd_script) / sizeof(rnd_script[0]));
	memcpy(rnd_script, v, n * sizeof(*v));
	rnd_len = n;
	rnd_pos = 0;
	rnd_calls = 0;
	rnd_mode = RND_SCRIPT;
}

int
crypto_random(void *buf, size_t len)
{
	uint8_t *b = buf;
	uint32_t v;

	rnd_calls++;
	if (rnd_mode == RND_FAIL)
		return VPN_ERR_CRYPTO;
	/* The host map draws 4 bytes at a time, read big-endian. */
	assert_int_equal(len, 4);
	if (rnd_mode == RND_SMALL) {
		v = (uint32_t)rand() % RND_SMALL_N;
	} else {
		/* Running past the script is a failure of the test. */
		assert_true(rnd_pos < rnd_len);
		v = rnd_script[rnd_pos++];
	}
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
	return 0;
}

/* --- helpers -------------------------------------------------------- */

static struct tunnel *
tun(uint32_t vpn_ip, uint32_t local, uint32_t remote)
{
	struct tunnel *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->vpn_ip = vpn_ip;
	t->local_index = local;
	t->remote_index = remote;
	return t;
}

static void
install(struct hostmap *hm, struct tunnel *t, struct tunnel *want_old)
{
	struct tunnel *old = (struct tunnel *)1;

	assert_int_equal(hostmap_install(hm, t, &old), 0);
	assert_ptr_equal(old, want_old);
}

/* --- fresh indexes --------------------------------------------------- */

/* Zero, the indexes of installed tunnels and of pending handshakes are
 * skipped, one draw each; the first free value is taken. */
static void
test_hostmap_new_index_skips_taken(void **state)
{
	static const uint32_t draws[] = {0, 100, 500, 101, 501, 7};
	static const uint32_t again[] = {500, 0, 100};
	struct hostmap *hm = hostmap_new();
	struct tunnel *t1 = tun(IP_A, 100, 9000), *t2 = tun(IP_B, 101, 9001);
	int p1, p2;
	uint32_t idx = 0;

	(void)state;
	assert_non_null(hm);
	install(hm, t1, NULL);
	install(hm, t2, NULL);
	assert_int_equal(
	    hostmap_pending_add(hm, (struct pending *)&p1, 500, IP_C), 0);
	assert_int_equal(
	    hostmap_pending_add(hm, (struct pending *)&p2, 501, 0x0a010005u),
	    0);

	rnd_set(draws, 6);
	assert_int_equal(hostmap_new_index(hm, &idx), 0);
	assert_int_equal(idx, 7);
	assert_int_equal(rnd_pos, 6);

	/* A remote index is not ours: 9000 is free as a local index. */
	rnd_set((const uint32_t[]){9000}, 1);
	assert_int_equal(hostmap_new_index(hm, &idx), 0);
	assert_int_equal(idx, 9000);

	/* Once released, an index may be drawn again. */
	hostmap_pending_unindex(hm, 500);
	hostmap_remove(hm, t1);
	rnd_set(again, 3);
	assert_int_equal(hostmap_new_index(hm, &idx), 0);
	assert_int_equal(idx, 500);
	assert_int_equal(rnd_pos, 1);
	assert_int_equal(hostmap_new_index(hm, &idx), 0);
	assert_int_equal(idx, 100);
	assert_int_equal(rnd_pos, 3);

	/* The top bit is no different (be32 of the 4 bytes drawn). */
	rnd_set((const uint32_t[]){0xffffffffu}, 1);
	assert_int_equal(hostmap_new_index(hm, &idx), 0);
	assert_int_equal(idx, 0xffffffffu);

	hostmap_free(hm);
	free(t1);
	free(t2);
}

/* Many draws from 0..31, of which 0, five installed indexes and two
 * pending ones are taken: none of these is ever given, and every other
 * value is, peer indexes (8, 9, 10) included. */
static void
test_hostmap_new_index_many_draws(void **state)
{
	struct hostmap *hm = hostmap_new();
	struct tunnel *t[5];
	int p[2];
	bool seen[RND_SMALL_N] = {false};
	uint32_t idx, v;
	size_t i;

	(void)state;
	assert_non_null(hm);
	/* Installed: 1..5 (peer indexes 6..10); pending: 6, 7. */
	for (i = 0; i < 5; i++) {
		t[i] =
		    tun(IP_A + (uint32_t)i, (uint32_t)i + 1, 6 + (uint32_t)i);
		install(hm, t[i], NULL);
	}
	assert_int_equal(
	    hostmap_pending_add(hm, (struct pending *)&p[0], 6, 0x0a010100u),
	    0);
	assert_int_equal(
	    hostmap_pending_add(hm, (struct pending *)&p[1], 7, 0x0a010101u),
	    0);

	srand(12345);
	rnd_mode = RND_SMALL;
	rnd_calls = 0;
	for (i = 0; i < 5000; i++) {
		assert_int_equal(hostmap_new_index(hm, &idx), 0);
		assert_true(idx >= 8 && idx < RND_SMALL_N);
		seen[idx] = true;
	}
	/* Collisions were drawn and skipped (more draws than results). */
	assert_true(rnd_calls > 5000 + 1000);
	for (v = 0; v < 8; v++)
		assert_false(seen[v]);
	for (v = 8; v < RND_SMALL_N; v++)
		assert_true(seen[v]);

	hostmap_free(hm);
	for (i = 0; i < 5; i++)
		free(t[i]);
}

/* 32 draws all taken: VPN_ERR_RANGE after exactly 32 draws, *out
 * untouched; a free value on the 32nd draw is still taken.  A failing
 * CSPRNG gives VPN_ERR_CRYPTO. */
static void
test_hostmap_new_index_gives_up(void **state)
{
	struct hostmap *hm = hostmap_new();
	struct tunnel *t = tun(IP_A, 42, 1);
	uint32_t draws[33], idx;
	size_t i;

	(void)state;
	assert_non_null(hm);
	install(hm, t, NULL);
	for (i = 0; i < 33; i++)
		draws[i] = (i % 2 == 0) ? 0 : 42;
	draws[32] = 77; /* never reached */
	rnd_set(draws, 33);
	idx = 0xdeadbeef;
	assert_int_equal(hostmap_new_index(hm, &idx), VPN_ERR_RANGE);
	assert_int_equal(idx, 0xdeadbeef);
	assert_int_equal(rnd_pos, 32);

	draws[31] = 77;
	rnd_set(draws, 33);
	assert_int_equal(hostmap_new_index(hm, &idx), 0);
	assert_int_equal(idx, 77);
	assert_int_equal(rnd_pos, 32);

	rnd_mode = RND_FAIL;
	rnd_calls = 0;
	idx = 0xdeadbeef;
	assert_int_equal(hostmap_new_index(hm, &idx), VPN_ERR_CRYPTO);
	assert_int_equal(idx, 0xdeadbeef);
	assert_int_equal(rnd_calls, 1);

	hostmap_free(hm);
	free(t);
}

/* --- tunnels ------------------------------------------------------- */

static void
test_hostmap_install_finds(void **state)
{
	struct hostmap *hm = hostmap_new();
	struct tunnel *t1 = tun(IP_A, 100, 200), *t2 = tun(IP_B, 101, 201);

	(void)state;
	assert_non_null(hm);
	assert_int_equal(hostmap_tunnels(hm), 0);
	assert_null(hostmap_by_index(hm, 100));
	assert_null(hostmap_by_ip(hm, IP_A));
	assert_null(hostmap_by_remote(hm, 200));

	install(hm, t1, NULL);
	assert_int_equal(hostmap_tunnels(hm), 1);
	install(hm, t2, NULL);
	assert_int_equal(hostmap_tunnels(hm), 2);

	assert_ptr_equal(hostmap_by_index(hm, 100), t1);
	assert_ptr_equal(hostmap_by_index(hm, 101), t2);
	assert_ptr_equal(hostmap_by_ip(hm, IP_A), t1);
	assert_ptr_equal(hostmap_by_ip(hm, IP_B), t2);
	assert_ptr_equal(hostmap_by_remote(hm, 200), t1);
	assert_ptr_equal(hostmap_by_remote(hm, 201), t2);
	/* Each index is its own: no cross-lookups. */
	assert_null(hostmap_by_index(hm, 200));
	assert_null(hostmap_by_remote(hm, 100));
	assert_null(hostmap_by_ip(hm, 100));
	assert_null(hostmap_by_index(hm, IP_A));
	assert_null(hostmap_by_ip(hm, IP_C));

	/* Installing the current tunnel again changes nothing. */
	install(hm, t1, NULL);
	assert_int_equal(hostmap_tunnels(hm), 2);
	assert_ptr_equal(hostmap_by_index(hm, 100), t1);
	assert_ptr_equal(hostmap_by_ip(hm, IP_A), t1);
	assert_ptr_equal(hostmap_by_remote(hm, 200), t1);

	hostmap_free(hm);
	free(t1);
	free(t2);
}

static void
test_hostmap_install_replaces(void **state)
{
	struct hostmap *hm = hostmap_new();
	struct tunnel *t1 = tun(IP_A, 100, 200), *t2 = tun(IP_A, 110, 210);
	struct tunnel *t3 = tun(IP_A, 120, 210), *other = tun(IP_B, 101, 201);

	(void)state;
	assert_non_null(hm);
	install(hm, other, NULL);
	install(hm, t1, NULL);
	install(hm, t2, t1);
	assert_int_equal(hostmap_tunnels(hm), 2);
	assert_null(hostmap_by_index(hm, 100));
	assert_null(hostmap_by_remote(hm, 200));
	assert_ptr_equal(hostmap_by_index(hm, 110), t2);
	assert_ptr_equal(hostmap_by_remote(hm, 210), t2);
	assert_ptr_equal(hostmap_by_ip(hm, IP_A), t2);
	/* The other peer's tunnel is untouched. */
	assert_ptr_equal(hostmap_by_index(hm, 101), other);
	assert_ptr_equal(hostmap_by_remote(hm, 201), other);
	assert_ptr_equal(hostmap_by_ip(hm, IP_B), other);

	/* The peer kept its index: the new tunnel has the peer-index
	 * entry, the old one's index is gone. */
	install(hm, t3, t2);
	assert_int_equal(hostmap_tunnels(hm), 2);
	assert_null(hostmap_by_index(hm, 110));
	assert_ptr_equal(hostmap_by_index(hm, 120), t3);
	assert_ptr_equal(hostmap_by_remote(hm, 210), t3);
	assert_ptr_equal(hostmap_by_ip(hm, IP_A), t3);

	hostmap_free(hm);
	free(t1);
	free(t2);
	free(t3);
	free(other);
}

static void
test_hostmap_remove(void **state)
{
	struct hostmap *hm = hostmap_new();
	struct tunnel *t1 = tun(IP_A, 100, 200), *t2 = tun(IP_B, 101, 201);
	struct tunnel *t3 = tun(IP_B, 102, 201), *t4 = tun(IP_B, 103, 203);

	(void)state;
	assert_non_null(hm);
	install(hm, t1, NULL);
	install(hm, t2, NULL);
	hostmap_remove(hm, t1);
	assert_int_equal(hostmap_tunnels(hm), 1);
	assert_null(hostmap_by_index(hm, 100));
	assert_null(hostmap_by_ip(hm, IP_A));
	assert_null(hostmap_by_remote(hm, 200));
	assert_ptr_equal(hostmap_by_index(hm, 101), t2);
	assert_ptr_equal(hostmap_by_ip(hm, IP_B), t2);
	assert_ptr_equal(hostmap_by_remote(hm, 201), t2);
	/* Removing it again is harmless. */
	hostmap_remove(hm, t1);
	assert_int_equal(hostmap_tunnels(hm), 1);

	/* t3 replaces t2 (same peer index); removing the replaced t2
	 * leaves t3 in all three indexes. */
	install(hm, t3, t2);
	hostmap_remove(hm, t2);
	assert_int_equal(hostmap_tunnels(hm), 1);
	assert_ptr_equal(hostmap_by_index(hm, 102), t3);
	assert_ptr_equal(hostmap_by_ip(hm, IP_B), t3);
	assert_ptr_equal(hostmap_by_remote(hm, 201), t3);

	/* Same with a different peer index. */
	install(hm, t4, t3);
	hostmap_remove(hm, t3);
	assert_int_equal(hostmap_tunnels(hm), 1);
	assert_null(hostmap_by_index(hm, 102));
	assert_null(hostmap_by_remote(hm, 201));
	assert_ptr_equal(hostmap_by_index(hm, 103), t4);
	assert_ptr_equal(hostmap_by_ip(hm, IP_B), t4);
	assert_ptr_equal(hostmap_by_remote(hm, 203), t4);

	hostmap_remove(hm, t4);
	assert_int_equal(hostmap_tunnels(hm), 0);
	assert_null(hostmap_by_index(hm, 103));
	assert_null(hostmap_by_ip(hm, IP_B));
	assert_null(hostmap_by_remote(hm, 203));

	hostmap_free(hm);
	free(t1);
	free(t2);
	free(t3);
	free(t4);
}

/* Two peers that chose the same index: the peer-index entry is the last
 * installed; removing the other tunnel leaves it. */
static void
test_hostmap_by_remote_shared(void **state)
{
	struct hostmap *hm = hostmap_new();
	struct tunnel *t1 = tun(IP_A, 100, 300), *t2 = tun(IP_B, 101, 300);

	(void)state;
	assert_non_null(hm);
	install(hm, t1, NULL);
	install(hm, t2, NULL);
	assert_ptr_equal(hostmap_by_remote(hm, 300), t2);
	hostmap_remove(hm, t1);
	assert_ptr_equal(hostmap_by_remote(hm, 300), t2);
	assert_ptr_equal(hostmap_by_index(hm, 101), t2);
	assert_ptr_equal(hostmap_by_ip(hm, IP_B), t2);
	assert_int_equal(hostmap_tunnels(hm), 1);

	/* The other way round: t1 holds the entry, t2 goes. */
	install(hm, t1, NULL);
	assert_ptr_equal(hostmap_by_remote(hm, 300), t1);
	hostmap_remove(hm, t2);
	assert_ptr_equal(hostmap_by_remote(hm, 300), t1);
	assert_int_equal(hostmap_tunnels(hm), 1);

	/* Removing the entry's tunnel empties it. */
	hostmap_remove(hm, t1);
	assert_null(hostmap_by_remote(hm, 300));
	assert_int_equal(hostmap_tunnels(hm), 0);

	hostmap_free(hm);
	free(t1);
	free(t2);
}

#define NT 50

static void
test_hostmap_next_visits_each_once(void **state)
{
	struct hostmap *hm = hostmap_new();
	struct tunnel *t[NT], *rep[10], *got;
	unsigned seen[NT + 10];
	size_t i, it, n;

	(void)state;
	assert_non_null(hm);
	it = 0;
	assert_false(hostmap_next(hm, &it, &got));

	for (i = 0; i < NT; i++) {
		t[i] = tun(0x0a010000u + (uint32_t)i + 10, 1000 + (uint32_t)i,
		    5000 + (uint32_t)i);
		install(hm, t[i], NULL);
	}
	/* The first ten are replaced: the old ones must not come up. */
	for (i = 0; i < 10; i++) {
		rep[i] =
		    tun(t[i]->vpn_ip, 2000 + (uint32_t)i, 6000 + (uint32_t)i);
		install(hm, rep[i], t[i]);
	}
	assert_int_equal(hostmap_tunnels(hm), NT);

	memset(seen, 0, sizeof(seen));
	it = 0;
	n = 0;
	while (hostmap_next(hm, &it, &got)) {
		n++;
		for (i = 0; i < NT; i++)
			if (got == t[i])
				seen[i]++;
		for (i = 0; i < 10; i++)
			if (got == rep[i])
				seen[NT + i]++;
	}
	assert_int_equal(n, NT);
	for (i = 0; i < 10; i++) {
		assert_int_equal(seen[i], 0);
		assert_int_equal(seen[NT + i], 1);
	}
	for (i = 10; i < NT; i++)
		assert_int_equal(seen[i], 1);
	/* Exhausted stays exhausted. */
	assert_false(hostmap_next(hm, &it, &got));

	hostmap_free(hm);
	for (i = 0; i < NT; i++)
		free(t[i]);
	for (i = 0; i < 10; i++)
		free(rep[i]);
}

/* --- pending handshakes -------------------------------------------- */

static void
test_hostmap_pending_add_find(void **state)
{
	struct hostmap *hm = hostmap_new();
	int d1, d2;
	struct pending *p1 = (struct pending *)&d1, *p2 = (struct pending *)&d2;
	struct pending *got;
	unsigned s1 = 0, s2 = 0, n = 0;
	size_t it;

	(void)state;
	assert_non_null(hm);
	assert_int_equal(hostmap_pending(hm), 0);
	it = 0;
	assert_false(hostmap_pending_next(hm, &it, &got));

	assert_int_equal(hostmap_pending_add(hm, p1, 500, IP_A), 0);
	assert_int_equal(hostmap_pending_add(hm, p2, 501, IP_B), 0);
	assert_int_equal(hostmap_pending(hm), 2);
	assert_ptr_equal(hostmap_pending_by_index(hm, 500), p1);
	assert_ptr_equal(hostmap_pending_by_index(hm, 501), p2);
	assert_ptr_equal(hostmap_pending_by_ip(hm, IP_A), p1);
	assert_ptr_equal(hostmap_pending_by_ip(hm, IP_B), p2);
	assert_null(hostmap_pending_by_index(hm, 502));
	assert_null(hostmap_pending_by_ip(hm, IP_C));
	assert_null(hostmap_pending_by_index(hm, IP_A));
	/* Pending handshakes are not tunnels. */
	assert_int_equal(hostmap_tunnels(hm), 0);
	assert_null(hostmap_by_index(hm, 500));
	assert_null(hostmap_by_ip(hm, IP_A));

	it = 0;
	while (hostmap_pending_next(hm, &it, &got)) {
		n++;
		s1 += got == p1;
		s2 += got == p2;
	}
	assert_int_equal(n, 2);
	assert_int_equal(s1, 1);
	assert_int_equal(s2, 1);

	hostmap_free(hm);
}

static void
test_hostmap_pending_unindex(void **state)
{
	struct hostmap *hm = hostmap_new();
	int d1, d2;
	struct pending *p1 = (struct pending *)&d1, *p2 = (struct pending *)&d2;
	struct pending *got;
	uint32_t idx;
	size_t it, n;

	(void)state;
	assert_non_null(hm);
	assert_int_equal(hostmap_pending_add(hm, p1, 500, IP_A), 0);
	assert_int_equal(hostmap_pending_add(hm, p2, 501, IP_B), 0);
	hostmap_pending_unindex(hm, 500);
	assert_null(hostmap_pending_by_index(hm, 500));
	assert_ptr_equal(hostmap_pending_by_ip(hm, IP_A), p1);
	assert_ptr_equal(hostmap_pending_by_index(hm, 501), p2);
	assert_int_equal(hostmap_pending(hm), 2);
	for (it = 0, n = 0; hostmap_pending_next(hm, &it, &got); n++)
		;
	assert_int_equal(n, 2);

	/* The index is free again. */
	rnd_set((const uint32_t[]){501, 500}, 2);
	assert_int_equal(hostmap_new_index(hm, &idx), 0);
	assert_int_equal(idx, 500);

	/* Removing after unindexing: by IP it goes, p2 stays. */
	hostmap_pending_remove(hm, p1, 500, IP_A);
	assert_null(hostmap_pending_by_ip(hm, IP_A));
	assert_null(hostmap_pending_by_index(hm, 500));
	assert_int_equal(hostmap_pending(hm), 1);
	assert_ptr_equal(hostmap_pending_by_index(hm, 501), p2);
	assert_ptr_equal(hostmap_pending_by_ip(hm, IP_B), p2);

	/* Unindexing an unknown index is harmless. */
	hostmap_pending_unindex(hm, 999);
	assert_ptr_equal(hostmap_pending_by_index(hm, 501), p2);
	assert_int_equal(hostmap_pending(hm), 1);

	hostmap_free(hm);
}

static void
test_hostmap_pending_remove(void **state)
{
	struct hostmap *hm = hostmap_new();
	int d1, d2, d3;
	struct pending *p1 = (struct pending *)&d1, *p2 = (struct pending *)&d2;
	struct pending *p3 = (struct pending *)&d3;

	(void)state;
	assert_non_null(hm);
	assert_int_equal(hostmap_pending_add(hm, p1, 500, IP_A), 0);
	assert_int_equal(hostmap_pending_add(hm, p2, 501, IP_B), 0);

	/* The wrong pointer for p2's keys: nothing happens. */
	hostmap_pending_remove(hm, p1, 501, IP_B);
	assert_ptr_equal(hostmap_pending_by_index(hm, 501), p2);
	assert_ptr_equal(hostmap_pending_by_ip(hm, IP_B), p2);
	assert_ptr_equal(hostmap_pending_by_index(hm, 500), p1);
	assert_ptr_equal(hostmap_pending_by_ip(hm, IP_A), p1);
	assert_int_equal(hostmap_pending(hm), 2);

	hostmap_pending_remove(hm, p1, 500, IP_A);
	assert_null(hostmap_pending_by_index(hm, 500));
	assert_null(hostmap_pending_by_ip(hm, IP_A));
	assert_int_equal(hostmap_pending(hm), 1);
	/* Twice is harmless. */
	hostmap_pending_remove(hm, p1, 500, IP_A);
	assert_int_equal(hostmap_pending(hm), 1);

	/* p3 takes over IP_B from p2 (a new handshake to the same peer):
	 * removing p2 drops only its index. */
	assert_int_equal(hostmap_pending_add(hm, p3, 502, IP_B), 0);
	assert_ptr_equal(hostmap_pending_by_ip(hm, IP_B), p3);
	hostmap_pending_remove(hm, p2, 501, IP_B);
	assert_null(hostmap_pending_by_index(hm, 501));
	assert_ptr_equal(hostmap_pending_by_index(hm, 502), p3);
	assert_ptr_equal(hostmap_pending_by_ip(hm, IP_B), p3);
	assert_int_equal(hostmap_pending(hm), 1);

	hostmap_pending_remove(hm, p3, 502, IP_B);
	assert_int_equal(hostmap_pending(hm), 0);
	assert_null(hostmap_pending_by_index(hm, 502));
	assert_null(hostmap_pending_by_ip(hm, IP_B));

	hostmap_free(hm);
}

/* --- queued bytes -------------------------------------------------- */

static void
test_hostmap_reserve_release(void **state)
{
	struct hostmap *hm = hostmap_new();

	(void)state;
	assert_non_null(hm);
	assert_int_equal(hostmap_held_bytes(hm), 0);
	assert_true(hostmap_reserve(hm, 40, 100));
	assert_int_equal(hostmap_held_bytes(hm), 40);
	assert_true(hostmap_reserve(hm, 60, 100)); /* exactly max */
	assert_int_equal(hostmap_held_bytes(hm), 100);
	assert_false(hostmap_reserve(hm, 1, 100));
	assert_int_equal(hostmap_held_bytes(hm), 100);
	assert_true(hostmap_reserve(hm, 0, 100));
	assert_int_equal(hostmap_held_bytes(hm), 100);

	hostmap_release(hm, 30);
	assert_int_equal(hostmap_held_bytes(hm), 70);
	assert_false(hostmap_reserve(hm, 31, 100));
	assert_int_equal(hostmap_held_bytes(hm), 70);
	assert_true(hostmap_reserve(hm, 30, 100));
	assert_int_equal(hostmap_held_bytes(hm), 100);
	/* A smaller bound (a reload) refuses more, keeps what is held. */
	hostmap_release(hm, 10);
	assert_false(hostmap_reserve(hm, 1, 50));
	assert_int_equal(hostmap_held_bytes(hm), 90);
	hostmap_release(hm, 90);
	assert_int_equal(hostmap_held_bytes(hm), 0);

	/* A packet longer than the bound never fits. */
	assert_false(hostmap_reserve(hm, 101, 100));
	assert_int_equal(hostmap_held_bytes(hm), 0);
	assert_true(hostmap_reserve(hm, 0, 0));
	assert_false(hostmap_reserve(hm, 1, 0));
	assert_int_equal(hostmap_held_bytes(hm), 0);

	hostmap_free(hm);
}

/* held + len must not wrap around. */
static void
test_hostmap_reserve_overflow(void **state)
{
	struct hostmap *hm = hostmap_new();

	(void)state;
	assert_non_null(hm);
	assert_false(hostmap_reserve(hm, SIZE_MAX, 100));
	assert_int_equal(hostmap_held_bytes(hm), 0);
	assert_true(hostmap_reserve(hm, 10, SIZE_MAX));
	/* 10 + (SIZE_MAX - 5) wraps to 4 <= SIZE_MAX. */
	assert_false(hostmap_reserve(hm, SIZE_MAX - 5, SIZE_MAX));
	assert_false(hostmap_reserve(hm, SIZE_MAX, SIZE_MAX));
	assert_int_equal(hostmap_held_bytes(hm), 10);
	assert_true(hostmap_reserve(hm, SIZE_MAX - 10, SIZE_MAX));
	assert_int_equal(hostmap_held_bytes(hm), SIZE_MAX);
	assert_false(hostmap_reserve(hm, 1, SIZE_MAX));
	assert_int_equal(hostmap_held_bytes(hm), SIZE_MAX);
	hostmap_release(hm, SIZE_MAX);
	assert_int_equal(hostmap_held_bytes(hm), 0);
	assert_true(hostmap_reserve(hm, SIZE_MAX, SIZE_MAX));
	assert_int_equal(hostmap_held_bytes(hm), SIZE_MAX);

	hostmap_free(hm);
	hostmap_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hostmap_new_index_skips_taken),
	    cmocka_unit_test(test_hostmap_new_index_many_draws),
	    cmocka_unit_test(test_hostmap_new_index_gives_up),
	    cmocka_unit_test(test_hostmap_install_finds),
	    cmocka_unit_test(test_hostmap_install_replaces),
	    cmocka_unit_test(test_hostmap_remove),
	    cmocka_unit_test(test_hostmap_by_remote_shared),
	    cmocka_unit_test(test_hostmap_next_visits_each_once),
	    cmocka_unit_test(test_hostmap_pending_add_find),
	    cmocka_unit_test(test_hostmap_pending_unindex),
	    cmocka_unit_test(test_hostmap_pending_remove),
	    cmocka_unit_test(test_hostmap_reserve_release),
	    cmocka_unit_test(test_hostmap_reserve_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
