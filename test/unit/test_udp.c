/* test/unit/test_udp.c: address parsing/printing and a real batched
 * exchange over loopback. */
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "err.h"
#include "udp.h"

static void
test_udp_addr_parse_and_format(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
	    {"10.99.0.1:4242", "10.99.0.1:4242"},
	    {"[fd00::1]:53", "[fd00::1]:53"},
	    {"[::ffff:1.2.3.4]:1", "1.2.3.4:1"},
	    {"0.0.0.0:0", "0.0.0.0:0"},
	};
	static const char *bad[] = {"10.99.0.1", "10.99.0.1:", "10.99.0.1:x",
	    "10.99.0.1:65536", "host:53", "[fd00::1]53", "fd00::1:53",
	    "10.99.0.256:1", ":1", "[]:1"};
	char buf[UDP_ADDR_STRLEN];
	struct udp_addr a, b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(udp_addr_parse(ok[i].in, &a), 0);
		udp_addr_format(&a, buf);
		assert_string_equal(buf, ok[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (udp_addr_parse(bad[i], &a) == 0)
			fail_msg("accepted %s", bad[i]);
	udp_addr_from_v4(&b, 0x0a630001, 4242);
	assert_int_equal(udp_addr_parse("10.99.0.1:4242", &a), 0);
	assert_true(udp_addr_eq(&a, &b));
	assert_true(udp_addr_is_v4(&a));
	assert_int_equal(udp_addr_v4(&a), 0x0a630001);
}

struct got {
	size_t n;
	size_t lens[UDP_BATCH * 2];
	struct udp_addr from;
};

static void
rx(void *arg, const struct udp_addr *from, uint8_t *buf, size_t len)
{
	struct got *g = arg;

	assert_true(len == 0 || buf[0] == (uint8_t)g->n);
	g->lens[g->n++] = len;
	g->from = *from;
}

/* 100 datagrams queued: two sendmmsg batches, read back in batches. */
static void
test_udp_loopback_batches(void **state)
{
	struct udp *a, *b;
	struct udp_addr to;
	struct got g;
	char err[256];
	uint8_t *slot;
	size_t i;
	int n, tries;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(udp_open("127.0.0.1", 0, 1 << 20, 0, false, &a, err,
	                     sizeof(err)),
	    0);
	assert_int_equal(udp_open("127.0.0.1", 0, 0, 0, false, &b, err, sizeof(err)),
	    0);
	assert_true(udp_port(a) != 0);
	udp_addr_from_v4(&to, 0x7f000001, udp_port(a));
	for (i = 0; i < 100; i++) {
		slot = udp_tx_slot(b);
		memset(slot, (int)i, i + 1);
		udp_tx_commit(b, &to, i + 1);
	}
	assert_int_equal(udp_flush(b), 0);
	for (tries = 0; g.n < 100 && tries < 1000; tries++) {
		n = udp_recv_batch(a, rx, &g);
		assert_true(n >= 0 && n <= UDP_BATCH);
	}
	assert_int_equal(g.n, 100);
	for (i = 0; i < 100; i++)
		assert_int_equal(g.lens[i], i + 1);
	assert_int_equal(g.from.port, udp_port(b));
	assert_int_equal(udp_stats(a)->rx_packets, 100);
	assert_int_equal(udp_stats(b)->tx_packets, 100);
	/* Nothing waiting: 0, not an error. */
	assert_int_equal(udp_recv_batch(a, rx, &g), 0);
	udp_close(a);
	udp_close(b);
}

/*
 * With offload: runs of equal datagrams leave as UDP_SEGMENT messages and
 * arrive as the same datagrams, to a GRO socket (one message, cut here)
 * and to a plain one (cut by the kernel) alike.  A run breaks at a
 * longer datagram or another address.
 */
static void
gso_to(bool gro)
{
	static const size_t lens[] = {1000, 1000, 1000, 1000, 300, 1000, 1000,
	    1200, 1200, 7};
	struct udp *a, *b;
	struct udp_addr to;
	struct got g;
	char err[256];
	uint8_t *slot;
	size_t i, k, sent = 0;
	int tries;

	memset(&g, 0, sizeof(g));
	assert_int_equal(udp_open("127.0.0.1", 0, 1 << 20, 0, gro, &a, err,
	                     sizeof(err)),
	    0);
	assert_int_equal(udp_open("127.0.0.1", 0, 0, 0, true, &b, err,
	                     sizeof(err)),
	    0);
	assert_true(udp_gso(b));
	assert_int_equal(udp_gro(a), gro);
	udp_addr_from_v4(&to, 0x7f000001, udp_port(a));
	for (k = 0; k < 3; k++)
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			slot = udp_tx_slot(b);
			memset(slot, (int)sent, lens[i]);
			udp_tx_commit(b, &to, lens[i]);
			sent++;
		}
	assert_int_equal(udp_flush(b), 0);
	assert_true(udp_gso(b));
	assert_int_equal(udp_stats(b)->tx_packets, sent);
	assert_int_equal(udp_stats(b)->tx_errors, 0);
	/* runs: 1000 x4 + 300 | 1000 x2 | 1200 x2 + 7, three times over,
	 * the first run of each round joining the last of the one before
	 * only when lengths allow (7 then 1000: no) */
	assert_int_equal(udp_stats(b)->tx_msgs, 9);
	for (tries = 0; g.n < sent && tries < 1000; tries++)
		assert_true(udp_recv_batch(a, rx, &g) >= 0);
	assert_int_equal(g.n, sent);
	for (i = 0; i < sent; i++)
		assert_int_equal(g.lens[i], lens[i % 10]);
	if (gro)
		assert_true(udp_stats(a)->rx_msgs < sent);
	udp_close(a);
	udp_close(b);
}

static void
test_udp_gso_gro(void **state)
{
	(void)state;
	gso_to(true);
	gso_to(false);
}

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

struct lens {
	size_t n, lens[16];
};

static void
rx_len(void *arg, const struct udp_addr *from, uint8_t *buf, size_t len)
{
	struct lens *l = arg;

	(void)from;
	(void)buf;
	assert_true(l->n < 16);
	l->lens[l->n++] = len;
}

/* Send len bytes to port on loopback from a plain socket; with seg > 0
 * as one UDP_SEGMENT message of seg-byte datagrams. */
static void
send_plain(int fd, uint16_t port, size_t len, int seg)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
	    .sin_port = htons(port),
	    .sin_addr.s_addr = htonl(0x7f000001)};
	uint8_t *buf = calloc(1, len);

	assert_non_null(buf);
	if (seg > 0)
		assert_int_equal(setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg,
		                     sizeof(seg)),
		    0);
	assert_int_equal(sendto(fd, buf, len, 0, (struct sockaddr *)&to,
	                     sizeof(to)),
	    (ssize_t)len);
	seg = 0;
	assert_int_equal(setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg)),
	    0);
	free(buf);
}

/*
 * No datagram longer than UDP_MAX_PACKET reaches the handler: whole (IP
 * reassembly gives up to 65,507 bytes), or cut from a GRO message whose
 * segments are longer.  With GRO they are counted as oversize; without,
 * the kernel truncates them to the 9001-byte buffer.
 */
static void
oversize(bool gro)
{
	struct udp *a;
	struct lens l;
	char err[256];
	int fd, tries;

	memset(&l, 0, sizeof(l));
	assert_int_equal(udp_open("127.0.0.1", 0, 1 << 20, 0, gro, &a, err,
	                     sizeof(err)),
	    0);
	assert_int_equal(udp_gro(a), gro);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	send_plain(fd, udp_port(a), 60000, 0);
	send_plain(fd, udp_port(a), UDP_MAX_PACKET, 0);
	send_plain(fd, udp_port(a), UDP_MAX_PACKET + 1, 0);
	send_plain(fd, udp_port(a), 30000, 10000); /* 3 x 10000 */
	send_plain(fd, udp_port(a), 100, 0);
	for (tries = 0; l.n < 2 && tries < 1000; tries++)
		assert_true(udp_recv_batch(a, rx_len, &l) >= 0);
	while (udp_recv_batch(a, rx_len, &l) > 0)
		;
	assert_int_equal(l.n, 2);
	assert_int_equal(l.lens[0], UDP_MAX_PACKET);
	assert_int_equal(l.lens[1], 100);
	assert_int_equal(udp_stats(a)->rx_packets, 2);
	if (gro)
		assert_int_equal(udp_stats(a)->rx_oversize, 5);
	else
		assert_int_equal(udp_stats(a)->rx_truncated, 5);
	close(fd);
	udp_close(a);
}

static void
test_udp_oversize_never_delivered(void **state)
{
	(void)state;
	oversize(true);
	oversize(false);
}

/* An empty datagram reaches the handler once, with length 0, and is
 * counted like any other (a node counts it as too short). */
static void
empty(bool gro)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(0x7f000001)};
	struct udp *a;
	struct lens l;
	char err[256];
	uint8_t one = 1;
	int fd, tries;

	memset(&l, 0, sizeof(l));
	assert_int_equal(udp_open("127.0.0.1", 0, 1 << 20, 0, gro, &a, err,
	                     sizeof(err)),
	    0);
	to.sin_port = htons(udp_port(a));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(
	    sendto(fd, &one, 0, 0, (struct sockaddr *)&to, sizeof(to)), 0);
	assert_int_equal(
	    sendto(fd, &one, 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	assert_int_equal(
	    sendto(fd, &one, 0, 0, (struct sockaddr *)&to, sizeof(to)), 0);
	for (tries = 0; l.n < 3 && tries < 1000; tries++)
		assert_true(udp_recv_batch(a, rx_len, &l) >= 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.lens[0], 0);
	assert_int_equal(l.lens[1], 1);
	assert_int_equal(l.lens[2], 0);
	assert_int_equal(udp_stats(a)->rx_packets, 3);
	assert_int_equal(udp_stats(a)->rx_bytes, 1);
	close(fd);
	udp_close(a);
}

static void
test_udp_empty_datagrams_delivered(void **state)
{
	(void)state;
	empty(true);
	empty(false);
}

/* A commit longer than a slot is refused, and the rest still go. */
static void
test_udp_commit_refuses_overlong(void **state)
{
	struct udp *a, *b;
	struct udp_addr to;
	struct lens l;
	char err[256];
	uint8_t *slot;
	int tries;

	(void)state;
	memset(&l, 0, sizeof(l));
	assert_int_equal(udp_open("127.0.0.1", 0, 1 << 20, 0, false, &a, err,
	                     sizeof(err)),
	    0);
	assert_int_equal(udp_open("127.0.0.1", 0, 0, 0, false, &b, err,
	                     sizeof(err)),
	    0);
	udp_addr_from_v4(&to, 0x7f000001, udp_port(a));
	slot = udp_tx_slot(b);
	memset(slot, 1, 10);
	udp_tx_commit(b, &to, UDP_MAX_PACKET + 1);
	assert_int_equal(udp_stats(b)->tx_errors, 1);
	slot = udp_tx_slot(b);
	udp_tx_commit(b, &to, 10);
	assert_int_equal(udp_flush(b), 0);
	assert_int_equal(udp_stats(b)->tx_packets, 1);
	for (tries = 0; l.n < 1 && tries < 1000; tries++)
		assert_true(udp_recv_batch(a, rx_len, &l) >= 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.lens[0], 10);
	udp_close(a);
	udp_close(b);
}

static void
test_udp_open_errors(void **state)
{
	struct udp *u;
	char err[256];

	(void)state;
	assert_int_equal(udp_open("nowhere", 0, 0, 0, false, &u, err, sizeof(err)),
	    VPN_ERR_INVAL);
	assert_non_null(strstr(err, "not an IP address"));
	/* 192.0.2.1 is not ours: bind fails with a clear message. */
	assert_int_equal(udp_open("192.0.2.1", 0, 0, 0, false, &u, err, sizeof(err)),
	    VPN_ERR_SYS);
	assert_non_null(strstr(err, "bind 192.0.2.1:0"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_udp_addr_parse_and_format),
	    cmocka_unit_test(test_udp_loopback_batches),
	    cmocka_unit_test(test_udp_gso_gro),
	    cmocka_unit_test(test_udp_oversize_never_delivered),
	    cmocka_unit_test(test_udp_empty_datagrams_delivered),
	    cmocka_unit_test(test_udp_commit_refuses_overlong),
	    cmocka_unit_test(test_udp_open_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
