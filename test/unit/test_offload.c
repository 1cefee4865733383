/*
 * test/unit/test_offload.c: the Internet checksum, TCP segmentation of
 * vnet-header super-segments and the coalescing of inbound segments,
 * checked against an independent byte-at-a-time checksum and by
 * cutting and re-joining real-shaped TCP streams.
 */
/* cmocka needs these first, in this order */
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

#include "err.h"
#include "offload.h"

/* The checksum the slow way: 16-bit big-endian words, end-around carry;
 * returns the folded sum in host order. */
static uint16_t
ref_sum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* A folded memory-order sum as a host-order number. */
static uint16_t
host(uint16_t mem)
{
	uint8_t b[2];

	memcpy(b, &mem, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

static bool
ip_ok(const uint8_t *p)
{
	return ref_sum(p, (size_t)(p[0] & 15) * 4) == 0xffff;
}

static bool
tcp_ok(const uint8_t *p, size_t len)
{
	uint8_t ph[12];
	size_t ihl = (size_t)(p[0] & 15) * 4;
	uint32_t s;

	memcpy(ph, p + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)((len - ihl) >> 8);
	ph[11] = (uint8_t)(len - ihl);
	s = (uint32_t)ref_sum(ph, 12) + ref_sum(p + ihl, len - ihl);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

static void
fix_csums(uint8_t *p, size_t len)
{
	size_t ihl = (size_t)(p[0] & 15) * 4;
	uint8_t ph[12];
	uint32_t s;
	uint16_t c;

	p[10] = p[11] = 0;
	c = (uint16_t)~ref_sum(p, ihl);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	p[ihl + 16] = p[ihl + 17] = 0;
	memcpy(ph, p + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)((len - ihl) >> 8);
	ph[11] = (uint8_t)(len - ihl);
	s = (uint32_t)ref_sum(ph, 12) + ref_sum(p + ihl, len - ihl);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	c = (uint16_t)~s;
	p[ihl + 16] = (uint8_t)(c >> 8);
	p[ihl + 17] = (uint8_t)c;
}

#define OPTLEN 12 /* NOP NOP timestamp, as Linux sends */
#define HL (20 + 20 + OPTLEN)

/* A TCP/IPv4 packet of hl + pl bytes: 10.78.0.1:40000 -> 10.78.0.2:5201,
 * DF, payload bytes (seq + i) & 0xff so that order shows. */
static size_t
mk_tcp(uint8_t *p, size_t pl, uint32_t seq, uint8_t flags, uint16_t id)
{
	static const uint8_t opts[OPTLEN] = {1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0,
	    9};
	size_t len = HL + pl, i;

	memset(p, 0, HL);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[4] = (uint8_t)(id >> 8);
	p[5] = (uint8_t)id;
	p[6] = 0x40;
	p[8] = 64;
	p[9] = 6;
	p[12] = 10, p[13] = 78, p[14] = 0, p[15] = 1;
	p[16] = 10, p[17] = 78, p[18] = 0, p[19] = 2;
	p[20] = 0x9c, p[21] = 0x40, p[22] = 0x14, p[23] = 0x51;
	p[24] = (uint8_t)(seq >> 24), p[25] = (uint8_t)(seq >> 16);
	p[26] = (uint8_t)(seq >> 8), p[27] = (uint8_t)seq;
	p[28] = 0x11, p[29] = 0x22, p[30] = 0x33, p[31] = 0x44;
	p[32] = (uint8_t)(((20 + OPTLEN) / 4) << 4);
	p[33] = flags;
	p[34] = 0x01, p[35] = 0xf5;
	memcpy(p + 40, opts, OPTLEN);
	for (i = 0; i < pl; i++)
		p[HL + i] = (uint8_t)(seq + i);
	fix_csums(p, len);
	return len;
}

static uint32_t
seq_of(const uint8_t *p)
{
	return (uint32_t)p[24] << 24 | (uint32_t)p[25] << 16 |
	    (uint32_t)p[26] << 8 | p[27];
}

static void
test_csum_vectors(void **state)
{
	/* RFC 1071 section 3's example: the sum is 0xddf2. */
	static const uint8_t v[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6,
	    0xf7};
	uint8_t buf[301];
	size_t len, i;

	(void)state;
	assert_int_equal(host(csum_fold(csum_add(0, v, 8))), 0xddf2);
	srand(7);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (len = 0; len <= sizeof(buf); len++)
		assert_int_equal(host(csum_fold(csum_add(0, buf, len))),
		    ref_sum(buf, len));
	/* split sums: an even first part */
	assert_int_equal(
	    host(csum_fold(csum_add(csum_add(0, buf, 100), buf + 100, 201))),
	    ref_sum(buf, 301));
	/* all ones: the carries must fold back in */
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(host(csum_fold(csum_add(0, buf, 300))), 0xffff);
}

static void
test_vnet_hdr(void **state)
{
	struct vnet_hdr h = {VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 52, 1248, 20,
	    16},
	                back;
	uint8_t b[VNET_HDR_LEN];

	(void)state;
	vnet_hdr_put(b, &h);
	assert_int_equal(b[0], 1);
	assert_int_equal(b[1], 1);
	vnet_hdr_get(b, &back);
	assert_memory_equal(&h, &back, sizeof(h));
}

static void
test_partial_csum(void **state)
{
	uint8_t p[HL + 333], ph[12];
	size_t len = mk_tcp(p, 333, 1000, 0x18, 1);
	uint32_t s;
	uint16_t c;

	(void)state;
	/* what the kernel hands over: the pseudo-header sum in the field */
	memcpy(ph, p + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)((len - 20) >> 8);
	ph[11] = (uint8_t)(len - 20);
	s = ref_sum(ph, 12);
	c = (uint16_t)s;
	p[36] = (uint8_t)(c >> 8);
	p[37] = (uint8_t)c;
	assert_false(tcp_ok(p, len));
	assert_int_equal(offload_csum(p, len, 20, 16), 0);
	assert_true(tcp_ok(p, len));
	assert_int_equal(offload_csum(p, len, 20, len), VPN_ERR_INVAL);
	assert_int_equal(offload_csum(p, len, len, 0), VPN_ERR_INVAL);
	assert_int_equal(offload_csum(p, len, len - 1, 0), VPN_ERR_INVAL);
	assert_int_equal(offload_csum(p, len, len - 2, 0), 0);
}

static uint8_t big[OFFLOAD_MAX + 16];
static uint8_t seg[96][2048];
static size_t segl[96];

/* Cut a super-segment of pl payload bytes at mss; the number of
 * segments. */
static int
cut_at(uint32_t seq, size_t pl, size_t mss, uint8_t flags, int first)
{
	struct vnet_hdr h = {VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, HL,
	    (uint16_t)mss, 20, 16};
	struct tso s;
	size_t len = mk_tcp(big, pl, seq, flags, 0xfffe);
	int n = first;

	assert_int_equal(tso_start(&s, big, len, &h), 0);
	while ((segl[n] = tso_next(&s, seg[n])) > 0) {
		assert_true(n < 95);
		n++;
	}
	return n - first;
}

static int
cut(size_t pl, size_t mss, uint8_t flags)
{
	return cut_at(0xfffff000u, pl, mss, flags, 0);
}

static void
test_tso_cut(void **state)
{
	size_t off = 0;
	int n, i;

	(void)state;
	/* 5 * 1000 + 500: the last segment is short; the sequence number
	 * wraps; the IP ID wraps */
	n = cut(5500, 1000, 0x18 | 0x80 | 0x01); /* ACK PSH CWR FIN */
	assert_int_equal(n, 6);
	for (i = 0; i < n; i++) {
		const uint8_t *p = seg[i];
		size_t pl = i < 5 ? 1000 : 500;
		uint8_t want = i == 0 ? 0x90 : 0x10;

		if (i == n - 1)
			want |= 0x09;
		assert_int_equal(segl[i], HL + pl);
		assert_int_equal(p[2] << 8 | p[3], HL + pl);
		assert_int_equal((p[4] << 8 | p[5]), (0xfffe + i) & 0xffff);
		assert_int_equal(seq_of(p), 0xfffff000u + (uint32_t)off);
		assert_int_equal(p[33], want);
		assert_true(ip_ok(p));
		assert_true(tcp_ok(p, segl[i]));
		assert_memory_equal(p + HL, big + HL + off, pl);
		assert_memory_equal(p + 40, big + 40, OPTLEN);
		off += pl;
	}
	/* exact multiple */
	assert_int_equal(cut(4000, 1000, 0x10), 4);
	assert_int_equal(segl[3], HL + 1000);
	/* one segment */
	assert_int_equal(cut(10, 1000, 0x10), 1);
	assert_true(tcp_ok(seg[0], segl[0]));
}

static void
test_tso_refuses(void **state)
{
	struct vnet_hdr h = {VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, HL, 1000, 20,
	    16};
	struct tso s;
	size_t len = mk_tcp(big, 3000, 1, 0x10, 1);

	(void)state;
	assert_int_equal(tso_start(&s, big, len, &h), 0);
	assert_int_equal(tso_start(&s, big, len - 1, &h), VPN_ERR_INVAL);
	assert_int_equal(tso_start(&s, big, 39, &h), VPN_ERR_INVAL);
	assert_int_equal(tso_start(&s, big, HL, &h), VPN_ERR_INVAL);
	h.gso_type = VNET_GSO_TCPV6;
	assert_int_equal(tso_start(&s, big, len, &h), VPN_ERR_INVAL);
	h.gso_type = VNET_GSO_TCPV4 | VNET_GSO_ECN;
	assert_int_equal(tso_start(&s, big, len, &h), 0);
	h.gso_size = 0;
	assert_int_equal(tso_start(&s, big, len, &h), VPN_ERR_INVAL);
	h.gso_size = 1000;
	big[9] = 17; /* UDP */
	assert_int_equal(tso_start(&s, big, len, &h), VPN_ERR_INVAL);
	big[9] = 6;
	big[6] = 0x20; /* more fragments */
	assert_int_equal(tso_start(&s, big, len, &h), VPN_ERR_INVAL);
	big[6] = 0x40;
	big[32] = 0xf0; /* TCP header beyond the packet's end */
	assert_int_equal(tso_start(&s, big, HL + 5, &h), VPN_ERR_INVAL);
	big[0] = 0x65;
	assert_int_equal(tso_start(&s, big, len, &h), VPN_ERR_INVAL);
}

/* What the coalescer wrote: up to 8 writes, flattened. */
static struct {
	int n;
	uint8_t buf[8][OFFLOAD_MAX + VNET_HDR_LEN];
	size_t len[8];
	int iovcnt[8];
} out;

static void
collect(void *arg, struct iovec *iov, int n)
{
	size_t k = 0;
	int i;

	(void)arg;
	assert_true(out.n < 8);
	for (i = 0; i < n; i++) {
		memcpy(out.buf[out.n] + k, iov[i].iov_base, iov[i].iov_len);
		k += iov[i].iov_len;
	}
	out.len[out.n] = k;
	out.iovcnt[out.n] = n;
	out.n++;
}

static void
check_joined(int w, size_t pl, size_t mss)
{
	const uint8_t *b = out.buf[w], *p = b + VNET_HDR_LEN;
	struct vnet_hdr h;
	uint8_t tmp[OFFLOAD_MAX];
	size_t len = HL + pl;

	assert_int_equal(out.len[w], VNET_HDR_LEN + len);
	vnet_hdr_get(b, &h);
	assert_int_equal(h.flags, VNET_F_NEEDS_CSUM);
	assert_int_equal(h.gso_type, VNET_GSO_TCPV4);
	assert_int_equal(h.gso_size, mss);
	assert_int_equal(h.hdr_len, HL);
	assert_int_equal(h.csum_start, 20);
	assert_int_equal(h.csum_offset, 16);
	assert_int_equal(p[2] << 8 | p[3], len);
	assert_true(ip_ok(p));
	assert_memory_equal(p + HL, big + HL, pl);
	/* the kernel finishes the partial checksum: do it here and it must
	 * come out right */
	memcpy(tmp, p, len);
	assert_int_equal(offload_csum(tmp, len, 20, 16), 0);
	assert_true(tcp_ok(tmp, len));
}

static void
test_gro_roundtrip(void **state)
{
	struct gro g;
	int n, i;

	(void)state;
	n = cut(5500, 1000, 0x18);
	gro_init(&g);
	out.n = 0;
	for (i = 0; i < n; i++)
		gro_add(&g, seg[i], segl[i], collect, NULL);
	assert_int_equal(out.n, 0); /* held until flushed */
	gro_flush(&g, collect, NULL);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.iovcnt[0], n + 1);
	check_joined(0, 5500, 1000);
	assert_int_equal(out.buf[0][VNET_HDR_LEN + 33], 0x18); /* PSH kept */
	assert_int_equal(g.joined, 6);
	gro_flush(&g, collect, NULL); /* nothing left */
	assert_int_equal(out.n, 1);
}

static void
test_gro_single_untouched(void **state)
{
	struct gro g;
	uint8_t p[HL + 100], copy[HL + 100];
	uint8_t zero[VNET_HDR_LEN] = {0};
	size_t len = mk_tcp(p, 100, 5, 0x10, 1);

	(void)state;
	memcpy(copy, p, len);
	gro_init(&g);
	out.n = 0;
	gro_add(&g, p, len, collect, NULL);
	gro_flush(&g, collect, NULL);
	assert_int_equal(out.n, 1);
	assert_memory_equal(out.buf[0], zero, VNET_HDR_LEN);
	assert_memory_equal(out.buf[0] + VNET_HDR_LEN, copy, len);
	assert_int_equal(g.joined, 0);
}

static void
test_gro_breaks(void **state)
{
	struct gro g;
	uint8_t udp[28] = {0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17};
	int n;

	(void)state;
	/* a gap in the sequence: two super-segments */
	n = cut(4000, 1000, 0x10);
	assert_int_equal(n, 4);
	gro_init(&g);
	out.n = 0;
	gro_add(&g, seg[0], segl[0], collect, NULL);
	gro_add(&g, seg[1], segl[1], collect, NULL);
	gro_add(&g, seg[3], segl[3], collect, NULL);
	gro_flush(&g, collect, NULL);
	assert_int_equal(out.n, 2);
	check_joined(0, 2000, 1000);
	assert_int_equal(out.iovcnt[1], 2);

	/* a bad TCP checksum: never joined, handed over as it is */
	n = cut(3000, 1000, 0x10);
	seg[1][HL + 5] ^= 1;
	out.n = 0;
	for (int i = 0; i < n; i++)
		gro_add(&g, seg[i], segl[i], collect, NULL);
	gro_flush(&g, collect, NULL);
	assert_int_equal(out.n, 3);
	assert_int_equal(out.iovcnt[0], 2);
	assert_int_equal(out.iovcnt[1], 2);
	assert_false(tcp_ok(out.buf[1] + VNET_HDR_LEN, segl[1]));

	/* a bad IP checksum likewise */
	n = cut(2000, 1000, 0x10);
	seg[1][10] ^= 1;
	out.n = 0;
	gro_add(&g, seg[0], segl[0], collect, NULL);
	gro_add(&g, seg[1], segl[1], collect, NULL);
	gro_flush(&g, collect, NULL);
	assert_int_equal(out.n, 2);

	/* a short segment ends the run; so does PSH */
	n = cut(2500, 1000, 0x18);
	out.n = 0;
	gro_add(&g, seg[2], segl[2], collect, NULL); /* 500 bytes, PSH */
	gro_add(&g, seg[0], segl[0], collect, NULL);
	assert_int_equal(out.n, 1);
	gro_flush(&g, collect, NULL);
	assert_int_equal(out.n, 2);

	/* a SYN, a FIN, another flow, UDP: each alone, order kept */
	n = cut(3000, 1000, 0x10);
	out.n = 0;
	gro_add(&g, seg[0], segl[0], collect, NULL);
	seg[1][33] = 0x11; /* FIN */
	fix_csums(seg[1], segl[1]);
	gro_add(&g, seg[1], segl[1], collect, NULL);
	assert_int_equal(out.n, 2);
	seg[2][23] ^= 1; /* another destination port */
	fix_csums(seg[2], segl[2]);
	gro_add(&g, seg[2], segl[2], collect, NULL);
	gro_add(&g, udp, sizeof(udp), collect, NULL);
	assert_int_equal(out.n, 4);
	assert_int_equal(out.len[3], VNET_HDR_LEN + sizeof(udp));

	/* a different window or ack: not the same header */
	n = cut(2000, 1000, 0x10);
	seg[1][35] ^= 1;
	fix_csums(seg[1], segl[1]);
	out.n = 0;
	gro_add(&g, seg[0], segl[0], collect, NULL);
	gro_add(&g, seg[1], segl[1], collect, NULL);
	gro_flush(&g, collect, NULL);
	assert_int_equal(out.n, 2);
	/* no DF: not joined */
	n = cut(2000, 1000, 0x10);
	seg[0][6] = seg[1][6] = 0;
	fix_csums(seg[0], segl[0]);
	fix_csums(seg[1], segl[1]);
	out.n = 0;
	gro_add(&g, seg[0], segl[0], collect, NULL);
	gro_add(&g, seg[1], segl[1], collect, NULL);
	gro_flush(&g, collect, NULL);
	assert_int_equal(out.n, 2);
	(void)n;
}

static void
test_gro_limits(void **state)
{
	struct gro g;
	int n, i, total = 0;

	(void)state;
	/* 64 KiB: the IPv4 length bounds a super-segment */
	n = cut_at(1, 40 * 1200, 1200, 0x10, 0);
	n += cut_at(1 + 40 * 1200, 20 * 1200, 1200, 0x10, n);
	assert_int_equal(n, 60);
	gro_init(&g);
	out.n = 0;
	for (i = 0; i < n; i++)
		gro_add(&g, seg[i], segl[i], collect, NULL);
	gro_flush(&g, collect, NULL);
	assert_int_equal(out.n, 2);
	for (i = 0; i < out.n; i++) {
		assert_true(out.len[i] - VNET_HDR_LEN <= OFFLOAD_MAX);
		total += out.iovcnt[i] - 1;
	}
	assert_int_equal(total, 60);
	assert_int_equal(out.iovcnt[0] - 1, (OFFLOAD_MAX - HL) / 1200);
	/* at most GRO_SEGS segments, however small */
	n = cut(70 * 100, 100, 0x10);
	assert_int_equal(n, 70);
	out.n = 0;
	for (i = 0; i < n; i++)
		gro_add(&g, seg[i], segl[i], collect, NULL);
	gro_flush(&g, collect, NULL);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.iovcnt[0] - 1, GRO_SEGS);
	assert_int_equal(out.iovcnt[1] - 1, 70 - GRO_SEGS);
	check_joined(0, GRO_SEGS * 100, 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csum_vectors),
	    cmocka_unit_test(test_vnet_hdr),
	    cmocka_unit_test(test_partial_csum),
	    cmocka_unit_test(test_tso_cut),
	    cmocka_unit_test(test_tso_refuses),
	    cmocka_unit_test(test_gro_roundtrip),
	    cmocka_unit_test(test_gro_single_untouched),
	    cmocka_unit_test(test_gro_breaks),
	    cmocka_unit_test(test_gro_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
