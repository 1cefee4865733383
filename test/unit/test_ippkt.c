/* test/unit/test_ippkt.c: the firewall's packet view and REJECT replies. */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdbool.h>
#include <string.h>

#include "err.h"
#include "ippkt.h"

#define A_IP 0xc0a8640au /* 192.168.100.10 */
#define B_IP 0xc0a86414u /* 192.168.100.20 */

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/*
 * An IPv4 packet: ihl in 32-bit words (options zero-filled), fragment
 * field (flags and offset), then l4len bytes of l4.  Returns the length.
 */
static size_t
mkip(uint8_t *b, unsigned ihl, uint8_t proto, uint32_t src, uint32_t dst,
    uint16_t frag, const uint8_t *l4, size_t l4len)
{
	size_t h = ihl * 4;

	memset(b, 0, h);
	b[0] = (uint8_t)(0x40 | ihl);
	put16(b + 2, (uint16_t)(h + l4len));
	put16(b + 4, 0x1234);
	put16(b + 6, frag);
	b[8] = 64;
	b[9] = proto;
	put32(b + 12, src);
	put32(b + 16, dst);
	put16(b + 10, ippkt_cksum(b, h, 0));
	if (l4len > 0)
		memcpy(b + h, l4, l4len);
	return h + l4len;
}

/* A TCP segment (20-byte header) with plen payload bytes. */
static size_t
mktcp(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
    uint8_t flags, size_t plen)
{
	memset(b, 0, 20 + plen);
	put16(b, sport);
	put16(b + 2, dport);
	put32(b + 4, seq);
	put32(b + 8, ack);
	b[12] = 5 << 4;
	b[13] = flags;
	put16(b + 14, 65535);
	memset(b + 20, 'x', plen);
	return 20 + plen;
}

/* --- parsing ----------------------------------------------------------- */

static void
test_ippkt_parse_rejects_short(void **state)
{
	uint8_t b[64], l4[4] = {0, 1, 0, 2};
	struct fw_packet p;
	size_t n, i;

	(void)state;
	n = mkip(b, 5, IPPKT_PROTO_UDP, A_IP, B_IP, 0, l4, 4);
	for (i = 0; i < 20; i++)
		assert_int_equal(
		    ippkt_parse(b, i, true, &p), VPN_ERR_TRUNCATED);
	assert_int_equal(ippkt_parse(b, n, true, &p), 0);
	assert_int_equal(ippkt_parse(NULL, 0, false, &p), VPN_ERR_TRUNCATED);
}

static void
test_ippkt_parse_rejects_bad_version(void **state)
{
	uint8_t b[64], l4[4] = {0};
	struct fw_packet p;
	size_t n;

	(void)state;
	n = mkip(b, 5, IPPKT_PROTO_TCP, A_IP, B_IP, 0, l4, 4);
	b[0] = 0x65; /* IPv6 nibble */
	assert_int_equal(ippkt_parse(b, n, true, &p), VPN_ERR_INVAL);
	b[0] = 0x05;
	assert_int_equal(ippkt_parse(b, n, false, &p), VPN_ERR_INVAL);
	b[0] = 0xf5;
	assert_int_equal(ippkt_parse(b, n, false, &p), VPN_ERR_INVAL);
}

static void
test_ippkt_parse_rejects_small_ihl(void **state)
{
	uint8_t b[64], l4[8] = {0};
	struct fw_packet p;
	size_t n;
	unsigned ihl;

	(void)state;
	n = mkip(b, 5, IPPKT_PROTO_TCP, A_IP, B_IP, 0, l4, 8);
	for (ihl = 0; ihl < 5; ihl++) {
		b[0] = (uint8_t)(0x40 | ihl);
		assert_int_equal(ippkt_parse(b, n, true, &p), VPN_ERR_INVAL);
	}
}

static void
test_ippkt_parse_orients_tuple(void **state)
{
	uint8_t b[64], t[40];
	struct fw_packet p;
	size_t n;

	(void)state;
	n = mkip(b, 5, IPPKT_PROTO_TCP, A_IP, B_IP, 0, t,
	    mktcp(t, 40000, 443, 1, 0, 0x02, 0));
	assert_int_equal(ippkt_parse(b, n, false, &p), 0);
	assert_int_equal(p.local_ip, A_IP);
	assert_int_equal(p.remote_ip, B_IP);
	assert_int_equal(p.local_port, 40000);
	assert_int_equal(p.remote_port, 443);
	assert_int_equal(p.proto, IPPKT_PROTO_TCP);
	assert_false(p.fragment);
	assert_int_equal(ippkt_parse(b, n, true, &p), 0);
	assert_int_equal(p.local_ip, B_IP);
	assert_int_equal(p.remote_ip, A_IP);
	assert_int_equal(p.local_port, 443);
	assert_int_equal(p.remote_port, 40000);
	assert_false(p.fragment);
}

static void
test_ippkt_parse_skips_options(void **state)
{
	uint8_t b[128], l4[4] = {0x00, 0x35, 0x13, 0x88};
	struct fw_packet p;
	size_t n;

	(void)state;
	n = mkip(b, 15, IPPKT_PROTO_UDP, A_IP, B_IP, 0, l4, 4); /* 60 bytes */
	memset(b + 20, 0x01, 40); /* NOP options */
	assert_int_equal(ippkt_parse(b, n, true, &p), 0);
	assert_int_equal(p.remote_port, 53);
	assert_int_equal(p.local_port, 5000);
	assert_int_equal(ippkt_parse(b, n - 1, true, &p), VPN_ERR_TRUNCATED);
}

static void
test_ippkt_parse_truncated_l4(void **state)
{
	uint8_t b[64], l4[4] = {1, 2, 3, 4};
	struct fw_packet p;
	size_t n, i;
	static const uint8_t protos[] = {
	    IPPKT_PROTO_TCP, IPPKT_PROTO_UDP, 47, 0};

	(void)state;
	for (i = 0; i < sizeof(protos); i++) {
		n = mkip(b, 5, protos[i], A_IP, B_IP, 0, l4, 4);
		assert_int_equal(ippkt_parse(b, n, true, &p), 0);
		assert_int_equal(
		    ippkt_parse(b, 20, true, &p), VPN_ERR_TRUNCATED);
		assert_int_equal(
		    ippkt_parse(b, 23, true, &p), VPN_ERR_TRUNCATED);
	}
}

static void
test_ippkt_parse_icmp_has_no_ports(void **state)
{
	uint8_t b[64], l4[8] = {8, 0, 0xaa, 0xbb, 0x12, 0x34, 0, 1};
	struct fw_packet p;
	size_t n;

	(void)state;
	n = mkip(b, 5, IPPKT_PROTO_ICMP, A_IP, B_IP, 0, l4, 8);
	assert_int_equal(ippkt_parse(b, n, true, &p), 0);
	assert_int_equal(p.local_port, 0);
	assert_int_equal(p.remote_port, 0);
	assert_int_equal(p.proto, IPPKT_PROTO_ICMP);
	/* the bare header is enough for ICMP */
	assert_int_equal(ippkt_parse(b, 20, true, &p), 0);
	/* but not less than IHL*4 */
	b[0] = 0x46;
	assert_int_equal(ippkt_parse(b, 20, true, &p), VPN_ERR_TRUNCATED);
	assert_int_equal(ippkt_parse(b, 24, true, &p), 0);
}

static void
test_ippkt_parse_first_fragment_is_normal(void **state)
{
	uint8_t b[64], l4[4] = {0x1f, 0x90, 0x00, 0x50};
	struct fw_packet p;
	size_t n;

	(void)state;
	/* MF set, offset 0 */
	n = mkip(b, 5, IPPKT_PROTO_UDP, A_IP, B_IP, 0x2000, l4, 4);
	assert_int_equal(ippkt_parse(b, n, false, &p), 0);
	assert_false(p.fragment);
	assert_int_equal(p.local_port, 8080);
	assert_int_equal(p.remote_port, 80);
	/* DF alone is not a fragment */
	n = mkip(b, 5, IPPKT_PROTO_UDP, A_IP, B_IP, 0x4000, l4, 4);
	assert_int_equal(ippkt_parse(b, n, false, &p), 0);
	assert_false(p.fragment);
}

static void
test_ippkt_parse_later_fragment(void **state)
{
	uint8_t b[64], l4[4] = {0x1f, 0x90, 0x00, 0x50};
	struct fw_packet p;
	size_t n;
	static const uint16_t frags[] = {0x0001, 0x2001, 0x1fff, 0x3fff};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		n = mkip(b, 5, IPPKT_PROTO_TCP, A_IP, B_IP, frags[i], l4, 4);
		assert_int_equal(ippkt_parse(b, n, true, &p), 0);
		assert_true(p.fragment);
		assert_int_equal(p.local_port, 0);
		assert_int_equal(p.remote_port, 0);
		assert_int_equal(p.proto, IPPKT_PROTO_TCP);
		/* no ports needed */
		assert_int_equal(ippkt_parse(b, 20, true, &p), 0);
		assert_true(p.fragment);
	}
}

static void
test_ippkt_parse_gre_reads_ports(void **state)
{
	uint8_t b[64], l4[4] = {0x00, 0x00, 0x08, 0x00}; /* GRE: IPv4 */
	struct fw_packet p;
	size_t n;

	(void)state;
	n = mkip(b, 5, 47, A_IP, B_IP, 0, l4, 4);
	assert_int_equal(ippkt_parse(b, n, false, &p), 0);
	assert_int_equal(p.proto, 47);
	assert_int_equal(p.local_port, 0);
	assert_int_equal(p.remote_port, 0x0800);
}

static void
test_ippkt_parse_ignores_total_length(void **state)
{
	uint8_t b[64], l4[4] = {0, 1, 0, 2};
	struct fw_packet p;
	size_t n;

	(void)state;
	n = mkip(b, 5, IPPKT_PROTO_UDP, A_IP, B_IP, 0, l4, 4);
	put16(b + 2, 10);  /* nonsense */
	b[10] = b[11] = 0; /* and a bad checksum */
	assert_int_equal(ippkt_parse(b, n, true, &p), 0);
	assert_int_equal(p.local_port, 2);
}

/* --- REJECT ------------------------------------------------------------ */

/* The reply's IPv4 header is sane and its checksum verifies. */
static void
check_ip(const uint8_t *r, size_t n, uint8_t proto, uint32_t src, uint32_t dst)
{
	assert_true(n >= 20);
	assert_int_equal(r[0], 0x45);
	assert_int_equal(get16(r + 2), n);
	assert_int_equal(get16(r + 6) & 0x1fff, 0);
	assert_true(r[8] > 0);
	assert_int_equal(r[9], proto);
	assert_int_equal(get32(r + 12), src);
	assert_int_equal(get32(r + 16), dst);
	assert_int_equal(ippkt_cksum(r, 20, 0), 0);
}

static void
check_tcp_sum(const uint8_t *r, size_t n)
{
	uint8_t ph[12];
	uint32_t sum = 0;
	size_t i;

	memcpy(ph, r + 12, 8);
	ph[8] = 0;
	ph[9] = IPPKT_PROTO_TCP;
	put16(ph + 10, (uint16_t)(n - 20));
	for (i = 0; i < 12; i += 2)
		sum += get16(ph + i);
	assert_int_equal(ippkt_cksum(r + 20, n - 20, sum), 0);
}

static void
test_ippkt_reject_tcp_syn(void **state)
{
	uint8_t b[128], t[64], r[IPPKT_REJECT_MAX];
	struct fw_packet orig, back;
	size_t n, rn;

	(void)state;
	n = mkip(b, 5, IPPKT_PROTO_TCP, A_IP, B_IP, 0, t,
	    mktcp(t, 40000, 22, 0x11223344, 0x99, 0x02, 0));
	rn = ippkt_reject(b, n, r, sizeof(r));
	assert_int_equal(rn, 40);
	check_ip(r, rn, IPPKT_PROTO_TCP, B_IP, A_IP);
	check_tcp_sum(r, rn);
	assert_int_equal(get16(r + 20), 22);
	assert_int_equal(get16(r + 22), 40000);
	assert_int_equal(get32(r + 24), 0);          /* seq */
	assert_int_equal(get32(r + 28), 0x11223345); /* ack = seq + SYN */
	assert_int_equal(r[32] >> 4, 5);
	assert_int_equal(r[33], 0x14); /* RST|ACK */
	/* the reply, read inbound, is the original's tuple read outbound */
	assert_int_equal(ippkt_parse(b, n, false, &orig), 0);
	assert_int_equal(ippkt_parse(r, rn, true, &back), 0);
	assert_memory_equal(&orig, &back, sizeof(orig));
}

static void
test_ippkt_reject_tcp_with_ack(void **state)
{
	uint8_t b[256], t[128], r[IPPKT_REJECT_MAX];
	size_t n, rn;

	(void)state;
	n = mkip(b, 5, IPPKT_PROTO_TCP, A_IP, B_IP, 0, t,
	    mktcp(t, 40000, 80, 1000, 0xdeadbeef, 0x18, 100));
	rn = ippkt_reject(b, n, r, sizeof(r));
	assert_int_equal(rn, 40);
	check_ip(r, rn, IPPKT_PROTO_TCP, B_IP, A_IP);
	check_tcp_sum(r, rn);
	assert_int_equal(get32(r + 24), 0xdeadbeef); /* seq = their ack */
	assert_int_equal(get32(r + 28), 0);
	assert_int_equal(r[33], 0x04); /* RST only */
}

static void
test_ippkt_reject_tcp_counts_payload_and_fin(void **state)
{
	uint8_t b[256], t[128], r[IPPKT_REJECT_MAX];
	size_t n, rn;

	(void)state;
	/* no ACK: payload 100 + FIN 1, seq wraps */
	n = mkip(b, 5, IPPKT_PROTO_TCP, A_IP, B_IP, 0, t,
	    mktcp(t, 1, 2, 0xffffffe0, 0, 0x01, 100));
	rn = ippkt_reject(b, n, r, sizeof(r));
	assert_int_equal(rn, 40);
	check_tcp_sum(r, rn);
	assert_int_equal(get32(r + 28), (uint32_t)(0xffffffe0u + 101));
	/* TCP options count as header, not payload */
	t[12] = 8 << 4; /* 32-byte header: 12 bytes of options */
	n = mkip(b, 5, IPPKT_PROTO_TCP, A_IP, B_IP, 0, t, 20 + 100);
	rn = ippkt_reject(b, n, r, sizeof(r));
	assert_int_equal(get32(r + 28), (uint32_t)(0xffffffe0u + 100 - 12 + 1));
	/* the total-length field bounds the payload (Ethernet padding) */
	n = mkip(b, 5, IPPKT_PROTO_TCP, A_IP, B_IP, 0, t,
	    mktcp(t, 1, 2, 500, 0, 0x00, 6));
	memset(b + n, 0, 10);
	rn = ippkt_reject(b, n + 10, r, sizeof(r));
	assert_int_equal(get32(r + 28), 506);
}

static void
test_ippkt_reject_tcp_no_reply(void **state)
{
	uint8_t b[128], t[64], r[IPPKT_REJECT_MAX];
	size_t n;

	(void)state;
	/* a RST (with or without ACK) */
	n = mkip(b, 5, IPPKT_PROTO_TCP, A_IP, B_IP, 0, t,
	    mktcp(t, 1, 2, 3, 4, 0x04, 0));
	assert_int_equal(ippkt_reject(b, n, r, sizeof(r)), 0);
	n = mkip(b, 5, IPPKT_PROTO_TCP, A_IP, B_IP, 0, t,
	    mktcp(t, 1, 2, 3, 4, 0x14, 0));
	assert_int_equal(ippkt_reject(b, n, r, sizeof(r)), 0);
	/* a truncated TCP header */
	n = mkip(b, 5, IPPKT_PROTO_TCP, A_IP, B_IP, 0, t,
	    mktcp(t, 1, 2, 3, 4, 0x02, 0));
	assert_int_equal(ippkt_reject(b, n - 1, r, sizeof(r)), 0);
	/* a data offset below 5 or past the end */
	t[12] = 4 << 4;
	n = mkip(b, 5, IPPKT_PROTO_TCP, A_IP, B_IP, 0, t, 20);
	assert_int_equal(ippkt_reject(b, n, r, sizeof(r)), 0);
	t[12] = 6 << 4;
	n = mkip(b, 5, IPPKT_PROTO_TCP, A_IP, B_IP, 0, t, 20);
	assert_int_equal(ippkt_reject(b, n, r, sizeof(r)), 0);
	/* too little room */
	n = mkip(b, 5, IPPKT_PROTO_TCP, A_IP, B_IP, 0, t,
	    mktcp(t, 1, 2, 3, 4, 0x02, 0));
	assert_int_equal(ippkt_reject(b, n, r, 39), 0);
	assert_int_equal(ippkt_reject(b, n, r, 40), 40);
}

static void
check_icmp(const uint8_t *r, size_t rn, uint8_t code, const uint8_t *orig,
    size_t quote)
{
	check_ip(r, rn, IPPKT_PROTO_ICMP, get32(orig + 16), get32(orig + 12));
	assert_int_equal(rn, 20 + 8 + quote);
	assert_int_equal(r[20], 3);
	assert_int_equal(r[21], code);
	assert_int_equal(get32(r + 24), 0);
	assert_int_equal(ippkt_cksum(r + 20, rn - 20, 0), 0);
	assert_memory_equal(r + 28, orig, quote);
}

static void
test_ippkt_reject_udp_port_unreachable(void **state)
{
	uint8_t b[128], u[40] = {0x9c, 0x40, 0x00, 0x35, 0x00, 40}, r[96];
	size_t n, rn;

	(void)state;
	n = mkip(b, 5, IPPKT_PROTO_UDP, A_IP, B_IP, 0, u, sizeof(u));
	rn = ippkt_reject(b, n, r, sizeof(r));
	check_icmp(r, rn, 3, b, 28); /* IP header + 8 bytes */
	/* a short datagram is quoted whole */
	n = mkip(b, 5, IPPKT_PROTO_UDP, A_IP, B_IP, 0, u, 4);
	rn = ippkt_reject(b, n, r, sizeof(r));
	check_icmp(r, rn, 3, b, 24);
}

static void
test_ippkt_reject_quotes_options(void **state)
{
	uint8_t b[128], u[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9},
	                r[IPPKT_REJECT_MAX];
	size_t n, rn;

	(void)state;
	n = mkip(b, 15, IPPKT_PROTO_UDP, A_IP, B_IP, 0, u, sizeof(u));
	rn = ippkt_reject(b, n, r, sizeof(r));
	assert_int_equal(rn, IPPKT_REJECT_MAX);
	check_icmp(r, rn, 3, b, 68);
	assert_int_equal(ippkt_reject(b, n, r, IPPKT_REJECT_MAX - 1), 0);
}

static void
test_ippkt_reject_other_admin_prohibited(void **state)
{
	uint8_t b[128], ping[16] = {8, 0, 0, 0, 0x12, 0x34, 0, 1, 'a', 'b'};
	uint8_t gre[8] = {0, 0, 8, 0}, r[IPPKT_REJECT_MAX];
	size_t n, rn;

	(void)state;
	n = mkip(b, 5, IPPKT_PROTO_ICMP, A_IP, B_IP, 0, ping, sizeof(ping));
	rn = ippkt_reject(b, n, r, sizeof(r));
	check_icmp(r, rn, 13, b, 28);
	n = mkip(b, 5, 47, A_IP, B_IP, 0, gre, sizeof(gre));
	rn = ippkt_reject(b, n, r, sizeof(r));
	check_icmp(r, rn, 13, b, 28);
}

static void
test_ippkt_reject_no_reply_cases(void **state)
{
	uint8_t b[128], l4[16] = {0}, r[IPPKT_REJECT_MAX];
	static const uint8_t errtypes[] = {3, 4, 5, 11, 12};
	size_t n, i;

	(void)state;
	/* ICMP errors */
	for (i = 0; i < sizeof(errtypes); i++) {
		l4[0] = errtypes[i];
		n = mkip(b, 5, IPPKT_PROTO_ICMP, A_IP, B_IP, 0, l4, 16);
		assert_int_equal(ippkt_reject(b, n, r, sizeof(r)), 0);
	}
	/* ICMP without a type byte */
	n = mkip(b, 5, IPPKT_PROTO_ICMP, A_IP, B_IP, 0, l4, 0);
	assert_int_equal(ippkt_reject(b, n, r, sizeof(r)), 0);
	/* non-first fragments */
	n = mkip(b, 5, IPPKT_PROTO_UDP, A_IP, B_IP, 0x0010, l4, 16);
	assert_int_equal(ippkt_reject(b, n, r, sizeof(r)), 0);
	/* multicast, broadcast, unspecified source */
	n = mkip(b, 5, IPPKT_PROTO_UDP, A_IP, 0xe0000001u, 0, l4, 16);
	assert_int_equal(ippkt_reject(b, n, r, sizeof(r)), 0);
	n = mkip(b, 5, IPPKT_PROTO_UDP, A_IP, 0xffffffffu, 0, l4, 16);
	assert_int_equal(ippkt_reject(b, n, r, sizeof(r)), 0);
	n = mkip(b, 5, IPPKT_PROTO_UDP, 0, B_IP, 0, l4, 16);
	assert_int_equal(ippkt_reject(b, n, r, sizeof(r)), 0);
	n = mkip(b, 5, IPPKT_PROTO_UDP, 0xefffffffu, B_IP, 0, l4, 16);
	assert_int_equal(ippkt_reject(b, n, r, sizeof(r)), 0);
	/* malformed IPv4 */
	n = mkip(b, 5, IPPKT_PROTO_UDP, A_IP, B_IP, 0, l4, 16);
	assert_int_equal(ippkt_reject(b, 19, r, sizeof(r)), 0);
	b[0] = 0x44;
	assert_int_equal(ippkt_reject(b, n, r, sizeof(r)), 0);
	b[0] = 0x65;
	assert_int_equal(ippkt_reject(b, n, r, sizeof(r)), 0);
	b[0] = 0x4f; /* IHL 60 > 36 bytes */
	assert_int_equal(ippkt_reject(b, n, r, sizeof(r)), 0);
	/* a first fragment is answered */
	n = mkip(b, 5, IPPKT_PROTO_UDP, A_IP, B_IP, 0x2000, l4, 16);
	assert_int_not_equal(ippkt_reject(b, n, r, sizeof(r)), 0);
}

static void
test_ippkt_cksum_known_vector(void **state)
{
	/* RFC 1071's example bytes: 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 */
	static const uint8_t v[] = {
	    0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	/* a well-known IPv4 header (Wikipedia), checksum b861 */
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40,
	    0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

	(void)state;
	assert_int_equal(ippkt_cksum(v, sizeof(v), 0), (uint16_t)~0xddf2);
	assert_int_equal(ippkt_cksum(h, 20, 0), 0xb861);
	/* odd length pads with a zero byte */
	assert_int_equal(ippkt_cksum(v, 1, 0), 0xffff);
	assert_int_equal(ippkt_cksum(v + 2, 1, 0), (uint16_t)~0xf200);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ippkt_parse_rejects_short),
	    cmocka_unit_test(test_ippkt_parse_rejects_bad_version),
	    cmocka_unit_test(test_ippkt_parse_rejects_small_ihl),
	    cmocka_unit_test(test_ippkt_parse_orients_tuple),
	    cmocka_unit_test(test_ippkt_parse_skips_options),
	    cmocka_unit_test(test_ippkt_parse_truncated_l4),
	    cmocka_unit_test(test_ippkt_parse_icmp_has_no_ports),
	    cmocka_unit_test(test_ippkt_parse_first_fragment_is_normal),
	    cmocka_unit_test(test_ippkt_parse_later_fragment),
	    cmocka_unit_test(test_ippkt_parse_gre_reads_ports),
	    cmocka_unit_test(test_ippkt_parse_ignores_total_length),
	    cmocka_unit_test(test_ippkt_reject_tcp_syn),
	    cmocka_unit_test(test_ippkt_reject_tcp_with_ack),
	    cmocka_unit_test(test_ippkt_reject_tcp_counts_payload_and_fin),
	    cmocka_unit_test(test_ippkt_reject_tcp_no_reply),
	    cmocka_unit_test(test_ippkt_reject_udp_port_unreachable),
	    cmocka_unit_test(test_ippkt_reject_quotes_options),
	    cmocka_unit_test(test_ippkt_reject_other_admin_prohibited),
	    cmocka_unit_test(test_ippkt_reject_no_reply_cases),
	    cmocka_unit_test(test_ippkt_cksum_known_vector),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
