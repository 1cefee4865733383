/* test/unit/test_ipaddr.c: Go-compatible IPv4 and CIDR parse/format. */
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
#include "ipaddr.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
test_ipaddr_parse_valid(void **state)
{
	static const struct {
		const char *s;
		uint32_t want;
	} tc[] = {
	    {"0.0.0.0", 0},
	    {"10.0.0.1", 0x0a000001},
	    {"192.168.100.10", 0xc0a8640a}, /* certificate.md 3 */
	    {"255.255.255.0", 0xffffff00},
	    {"255.255.255.255", 0xffffffff},
	    {"1.2.3.4", 0x01020304},
	    {"100.64.0.0", 0x64400000},
	    {"0.0.0.255", 0x000000ff},
	};
	uint32_t a;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(tc); i++) {
		a = 0xdeadbeef;
		if (!ip4_parse(tc[i].s, &a))
			fail_msg("%s rejected", tc[i].s);
		if (a != tc[i].want)
			fail_msg("%s: got %08x", tc[i].s, (unsigned)a);
	}
}

static void
test_ipaddr_parse_rejects_go_invalid(void **state)
{
	static const char *const tc[] = {
	    "",
	    "1",
	    "1.2",
	    "1.2.3",
	    "1.2.3.4.5",
	    "1.2.3.",
	    ".1.2.3",
	    "1..2.3",
	    "256.0.0.1",	/* octet too large */
	    "1.2.3.256",
	    "1000.0.0.1",
	    "4294967296.0.0.0",
	    "99999999999999999999.0.0.1",
	    "010.0.0.1",	/* leading zeros (Go >= 1.17) */
	    "10.0.0.01",
	    "00.0.0.0",
	    "0.00.0.0",
	    "001.2.3.4",
	    "1.2.3.-4",
	    "+1.2.3.4",
	    "1.2.3.+4",
	    " 1.2.3.4",
	    "1.2.3.4 ",
	    "1.2.3.4\n",
	    "1.2.3.4/24",
	    "a.b.c.d",
	    "1.2.3.0x4",
	    "0x01.2.3.4",
	    "::1",
	    "::ffff:1.2.3.4",
	    "fd00::1",
	    "1.2.3.4%eth0",
	};
	uint32_t a;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(tc); i++) {
		a = 0x12345678;
		if (ip4_parse(tc[i], &a))
			fail_msg("\"%s\" accepted", tc[i]);
		if (a != 0x12345678)
			fail_msg("\"%s\": output written on failure", tc[i]);
	}
}

static void
test_ipaddr_cidr_parse_valid(void **state)
{
	static const struct {
		const char *s;
		uint32_t addr, mask;
	} tc[] = {
	    {"192.168.100.10/24", 0xc0a8640a, 0xffffff00}, /* host bits kept */
	    {"10.50.1.5/16", 0x0a320105, 0xffff0000},
	    {"10.60.3.4/24", 0x0a3c0304, 0xffffff00},
	    {"0.0.0.0/0", 0, 0},
	    {"1.2.3.4/0", 0x01020304, 0},
	    {"1.2.3.4/1", 0x01020304, 0x80000000},
	    {"1.2.3.4/31", 0x01020304, 0xfffffffe},
	    {"1.2.3.4/32", 0x01020304, 0xffffffff},
	    {"10.0.0.0/8", 0x0a000000, 0xff000000},
	    {"10.0.0.1/08", 0x0a000001, 0xff000000}, /* Go's dtoi allows it */
	    {"10.0.0.1/0032", 0x0a000001, 0xffffffff},
	};
	struct ip4net n;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(tc); i++) {
		memset(&n, 0xee, sizeof(n));
		if (ip4net_parse(tc[i].s, &n) != 0)
			fail_msg("%s rejected", tc[i].s);
		if (n.addr != tc[i].addr || n.mask != tc[i].mask)
			fail_msg("%s: %08x/%08x", tc[i].s, (unsigned)n.addr,
			    (unsigned)n.mask);
	}
}

static void
test_ipaddr_cidr_parse_invalid(void **state)
{
	static const char *const tc[] = {
	    "",
	    "/",
	    "/24",
	    "10.50.9.11",	/* no "/len": nebula-cert's example */
	    "10.0.0.1/",
	    "10.0.0.1/33",
	    "10.0.0.1/100",
	    "10.0.0.1/-1",
	    "10.0.0.1/+8",
	    "10.0.0.1/ 8",
	    "10.0.0.1/8 ",
	    "10.0.0.1/8/8",
	    "10.0.0.1/a",
	    "10.0.0.1/8a",
	    "10.0.0.1/255.255.255.0", /* Go wants a length */
	    "10.0.0.1/99999999999999999999",
	    "10.0.0.01/8",
	    "256.0.0.1/8",
	    "10.0.0/8",
	    " 10.0.0.1/8",
	    "10.0.0.1 /8",
	    "fd00::1/129",	/* IPv6, but not a valid CIDR */
	    "fd00::zz/64",
	    "fd00:::1/64",
	    ":/64",
	    "fd00::1/",
	    "fd00::1",
	};
	struct ip4net n;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < NELEM(tc); i++) {
		r = ip4net_parse(tc[i], &n);
		if (r != VPN_ERR_INVAL)
			fail_msg("\"%s\": %d, want VPN_ERR_INVAL", tc[i], r);
	}
}

static void
test_ipaddr_cidr_parse_ipv6_is_range(void **state)
{
	static const char *const tc[] = {
	    "fd00::1/64", /* nebula-cert's "can only be ipv4" example */
	    "::/0",
	    "::1/128",
	    "2001:db8::/32",
	    "fe80::1:2:3:4/10",
	    "2001:0db8:0000:0000:0000:0000:0000:0001/64",
	};
	struct ip4net n;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < NELEM(tc); i++) {
		r = ip4net_parse(tc[i], &n);
		if (r != VPN_ERR_RANGE)
			fail_msg("\"%s\": %d, want VPN_ERR_RANGE", tc[i], r);
	}
}

static void
test_ipaddr_mask_bits(void **state)
{
	static const struct {
		uint32_t mask;
		int bits;
	} tc[] = {
	    {0, 0},
	    {0x80000000, 1},
	    {0xff000000, 8},
	    {0xffff0000, 16},
	    {0xffffff00, 24},
	    {0xfffffffe, 31},
	    {0xffffffff, 32},
	    {0xff00ff00, -1},
	    {0x00000001, -1},
	    {0x7fffffff, -1},
	    {0xfffffeff, -1},
	    {0x0000ffff, -1},
	    {0x80000001, -1},
	};
	size_t i;
	unsigned b;

	(void)state;
	for (i = 0; i < NELEM(tc); i++)
		if (ip4_mask_bits(tc[i].mask) != tc[i].bits)
			fail_msg("%08x: %d", (unsigned)tc[i].mask,
			    ip4_mask_bits(tc[i].mask));
	for (b = 0; b <= 32; b++) {
		assert_int_equal(ip4_mask_bits(ip4_prefix_mask(b)), (int)b);
	}
	assert_int_equal(ip4_prefix_mask(0), 0);
	assert_int_equal(ip4_prefix_mask(32), 0xffffffff);
	assert_int_equal(ip4_prefix_mask(24), 0xffffff00);
}

static void
test_ipaddr_format(void **state)
{
	static const struct {
		uint32_t a;
		const char *s;
	} tc[] = {
	    {0, "0.0.0.0"},
	    {0x0a000001, "10.0.0.1"},
	    {0xc0a8640a, "192.168.100.10"},
	    {0xffffffff, "255.255.255.255"},
	    {0x01020304, "1.2.3.4"},
	};
	char buf[IP4_STRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(tc); i++) {
		ip4_format(tc[i].a, buf);
		assert_string_equal(buf, tc[i].s);
	}
}

static void
test_ipaddr_net_format(void **state)
{
	static const struct {
		struct ip4net n;
		const char *s;
	} tc[] = {
	    {{0xc0a8640a, 0xffffff00}, "192.168.100.10/24"}, /* host bits */
	    {{0x0a320105, 0xffff0000}, "10.50.1.5/16"},
	    {{0x0a330106, 0xffff0000}, "10.51.1.6/16"},
	    {{0x0a320106, 0xff000000}, "10.50.1.6/8"},
	    {{0x0a3d0000, 0xffffff00}, "10.61.0.0/24"},
	    {{0, 0}, "0.0.0.0/0"},
	    {{0x01020304, 0xffffffff}, "1.2.3.4/32"},
	    /* Go's IPNet.String for non-contiguous masks: hex mask */
	    {{0x0a000000, 0xff00ff00}, "10.0.0.0/ff00ff00"},
	    {{0x0a000000, 0x0000ffff}, "10.0.0.0/0000ffff"},
	    {{0x0a000000, 0x00000001}, "10.0.0.0/00000001"},
	    {{0xffffffff, 0xfffffffd}, "255.255.255.255/fffffffd"}, /* longest */
	};
	char buf[IP4NET_STRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(tc); i++) {
		memset(buf, 'x', sizeof(buf));
		ip4net_format(&tc[i].n, buf);
		assert_string_equal(buf, tc[i].s);
	}
}

static void
test_ipaddr_parse_format_round_trip(void **state)
{
	static const char *const tc[] = {
	    "192.168.100.10/24", "10.200.1.0/24", "10.201.0.0/16", "0.0.0.0/0",
	    "255.255.255.255/32", "10.50.0.0/16", "1.2.3.4/7",
	};
	char buf[IP4NET_STRLEN];
	struct ip4net n;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(tc); i++) {
		assert_int_equal(ip4net_parse(tc[i], &n), 0);
		ip4net_format(&n, buf);
		assert_string_equal(buf, tc[i]);
	}
}

static void
test_ipaddr_net_contains(void **state)
{
	struct ip4net n = {0x0a320105, 0xffff0000}; /* 10.50.1.5/16 */
	uint32_t a;

	(void)state;
	assert_true(ip4_parse("10.50.0.0", &a));
	assert_true(ip4net_contains(&n, a));
	assert_true(ip4_parse("10.50.255.255", &a));
	assert_true(ip4net_contains(&n, a));
	assert_true(ip4_parse("10.51.0.0", &a));
	assert_false(ip4net_contains(&n, a));
	n.mask = 0;
	assert_true(ip4net_contains(&n, a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipaddr_parse_valid),
	    cmocka_unit_test(test_ipaddr_parse_rejects_go_invalid),
	    cmocka_unit_test(test_ipaddr_cidr_parse_valid),
	    cmocka_unit_test(test_ipaddr_cidr_parse_invalid),
	    cmocka_unit_test(test_ipaddr_cidr_parse_ipv6_is_range),
	    cmocka_unit_test(test_ipaddr_mask_bits),
	    cmocka_unit_test(test_ipaddr_format),
	    cmocka_unit_test(test_ipaddr_net_format),
	    cmocka_unit_test(test_ipaddr_parse_format_round_trip),
	    cmocka_unit_test(test_ipaddr_net_contains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
