/*
 * test/unit/test_lhmsg.c: the NebulaMeta codec, on every lightHouse
 * plaintext of the captures of real Nebula 1.6.1 traffic, on the
 * examples of wire.md 8.1 and on hand-made edge cases.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "lhmsg.h"

#include "../fixtures/capture/vectors.h"
#include "testutil.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define IP4(a, b, c, d)                                                        \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))


/* Decode hex, expecting rc. */
static int
dec(struct lhmsg *m, const char *hex)
{
	uint8_t buf[1024];
	size_t n = tu_unhex_spaced(hex, buf, sizeof(buf));

	return lhmsg_decode(m, buf, n);
}

/* Encode and compare with hex. */
static void
enc_eq(const struct lhmsg *m, const char *hex)
{
	uint8_t want[1024], got[LHMSG_ENCODED_MAX];
	size_t wn = tu_unhex_spaced(hex, want, sizeof(want)), gn = 0, sz = 0;

	assert_int_equal(lhmsg_encode(m, NULL, 0, &sz), 0);
	assert_int_equal(lhmsg_encode(m, got, sizeof(got), &gn), 0);
	assert_int_equal(gn, sz);
	assert_int_equal(gn, wn);
	assert_memory_equal(got, want, wn);
}

static void
test_lhmsg_captured_reencode(void **state)
{
	uint8_t out[LHMSG_ENCODED_MAX];
	struct lhmsg *m = malloc(sizeof(*m));
	size_t i, n = 0, len, types[10] = {0};

	(void)state;
	assert_non_null(m);
	for (i = 0; i < CAP_NPKTS; i++) {
		const struct cap_pkt *p = &cap_pkts[i];

		if (p->kind != CAP_AEAD || p->type != 3)
			continue;
		assert_int_equal(lhmsg_decode(m, p->pt, p->pt_len), 0);
		assert_true(m->has_details);
		assert_int_equal(m->truncated, 0);
		assert_true(m->type < NELEM(types));
		types[m->type]++;
		/* Every VPN IP of the captures is in 192.168.100.0/24. */
		assert_int_equal(m->vpn_ip >> 8, IP4(192, 168, 100, 0) >> 8);
		assert_int_equal(lhmsg_encode(m, out, sizeof(out), &len), 0);
		assert_int_equal(len, p->pt_len);
		assert_memory_equal(out, p->pt, len);
		n++;
	}
	printf("# %zu captured lightHouse plaintexts re-encoded: %zu "
	       "HostQuery, %zu HostQueryReply, %zu HostUpdateNotification, "
	       "%zu HostPunchNotification\n",
	    n, types[1], types[2], types[3], types[5]);
	assert_int_equal(n, 41);
	assert_int_equal(types[1] + types[2] + types[3] + types[5], n);
	assert_true(
	    types[1] > 0 && types[2] > 0 && types[3] > 0 && types[5] > 0);
	free(m);
}

/* The relay capture: host-b registers relay 192.168.100.1. */
static void
test_lhmsg_captured_relay(void **state)
{
	struct lhmsg m;
	size_t i, seen = 0;

	(void)state;
	for (i = 0; i < CAP_NPKTS; i++) {
		const struct cap_pkt *p = &cap_pkts[i];

		if (p->kind != CAP_AEAD || p->type != 3 ||
		    strcmp(p->capture, "aes-relay") != 0)
			continue;
		assert_int_equal(lhmsg_decode(&m, p->pt, p->pt_len), 0);
		if (m.vpn_ip != IP4(192, 168, 100, 20) ||
		    m.type == LHMSG_HOST_QUERY)
			continue;
		assert_int_equal(m.nrelays, 1);
		assert_int_equal(m.relays[0], IP4(192, 168, 100, 1));
		assert_int_equal(m.v4[0].ip, IP4(10, 99, 1, 20));
		assert_int_equal(m.v4[0].port, 4242);
		seen++;
	}
	assert_int_equal(seen, 4); /* 1 update, 3 replies */
}

/* wire.md 8.1, field by field, both ways. */
static void
test_lhmsg_wire_md_examples(void **state)
{
	static const char update[] = "08 03 12 10 08 8ac8a1850c 12 08 08 "
	                             "8a808c53 10 9221";
	static const char query[] = "08 01 12 06 08 94c8a1850c";
	static const char reply[] = "08 02 12 1a 08 94c8a1850c 12 08 08 "
	                            "94808c53 10 9221 12 08 08 94808c53 10 "
	                            "9221";
	static const char punch[] = "08 05 12 1a 08 8ac8a1850c 12 08 08 "
	                            "8a808c53 10 9221 12 08 08 8a808c53 10 "
	                            "9221";
	struct lhmsg m;

	(void)state;
	assert_int_equal(dec(&m, update), 0);
	assert_int_equal(m.type, LHMSG_HOST_UPDATE_NOTIFICATION);
	assert_true(m.has_details);
	assert_int_equal(m.vpn_ip, IP4(192, 168, 100, 10));
	assert_int_equal(m.n4, 1);
	assert_int_equal(m.v4[0].ip, IP4(10, 99, 0, 10));
	assert_int_equal(m.v4[0].port, 4242);
	assert_int_equal(m.n6 + m.nrelays + m.counter, 0);
	enc_eq(&m, update);

	assert_int_equal(dec(&m, query), 0);
	assert_int_equal(m.type, LHMSG_HOST_QUERY);
	assert_int_equal(m.vpn_ip, IP4(192, 168, 100, 20));
	assert_int_equal(m.n4 + m.n6 + m.nrelays, 0);
	enc_eq(&m, query);

	assert_int_equal(dec(&m, reply), 0);
	assert_int_equal(m.type, LHMSG_HOST_QUERY_REPLY);
	assert_int_equal(m.vpn_ip, IP4(192, 168, 100, 20));
	assert_int_equal(m.n4, 2);
	assert_int_equal(m.v4[0].ip, IP4(10, 99, 0, 20));
	assert_int_equal(m.v4[1].ip, IP4(10, 99, 0, 20));
	assert_int_equal(m.v4[1].port, 4242);
	enc_eq(&m, reply);

	assert_int_equal(dec(&m, punch), 0);
	assert_int_equal(m.type, LHMSG_HOST_PUNCH_NOTIFICATION);
	assert_int_equal(m.vpn_ip, IP4(192, 168, 100, 10));
	assert_int_equal(m.n4, 2);
	assert_int_equal(m.v4[0].ip, IP4(10, 99, 0, 10));
	enc_eq(&m, punch);

	/* "RelayVpnIp appears as 2a 05 81c8a1850c" */
	assert_int_equal(dec(&m, "08 03 12 07 2a 05 81c8a1850c"), 0);
	assert_int_equal(m.nrelays, 1);
	assert_int_equal(m.relays[0], IP4(192, 168, 100, 1));
	enc_eq(&m, "08 03 12 07 2a 05 81c8a1850c");
}

static void
test_lhmsg_ipv6_and_counter(void **state)
{
	struct lhmsg m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = LHMSG_HOST_UPDATE_NOTIFICATION;
	m.has_details = true;
	m.vpn_ip = 1;
	m.counter = 300;
	m.n6 = 2;
	/* 2001:db8::1 port 4242: Hi 0x20010db800000000, Lo 1 */
	m.v6[0].ip[0] = 0x20, m.v6[0].ip[1] = 0x01, m.v6[0].ip[2] = 0x0d;
	m.v6[0].ip[3] = 0xb8, m.v6[0].ip[15] = 1, m.v6[0].port = 4242;
	/* ::1 port 0: only Lo */
	m.v6[1].ip[15] = 1;
	enc_eq(&m, "08 03 12 1a 08 01 18 ac02"
	           " 22 0f 08 8080808080b7c38020 10 01 18 9221"
	           " 22 02 10 01");
	assert_int_equal(dec(&m, "08 03 12 1a 08 01 18 ac02"
	                         " 22 0f 08 8080808080b7c38020 10 01 18 9221"
	                         " 22 02 10 01"),
	    0);
	assert_int_equal(m.counter, 300);
	assert_int_equal(m.n6, 2);
	assert_int_equal(m.v6[0].ip[0], 0x20);
	assert_int_equal(m.v6[0].ip[3], 0xb8);
	assert_int_equal(m.v6[0].ip[15], 1);
	assert_int_equal(m.v6[0].port, 4242);
	assert_int_equal(m.v6[1].ip[15], 1);
	assert_int_equal(m.v6[1].port, 0);
}

/* gogo: a known field of the wrong wire type rejects the message. */
static void
test_lhmsg_decode_rejects_wrong_wire_type(void **state)
{
	static const char *const bad[] = {
	    "0a 00",                           /* Type as LEN */
	    "10 01",                           /* Details as varint */
	    "15 00000000",                     /* Details as I32 */
	    "08 03 12 02 0a 00",               /* VpnIp as LEN */
	    "12 02 10 01",                     /* Ip4AndPorts as varint */
	    "12 02 1a 00",                     /* counter as LEN */
	    "12 02 20 01",                     /* Ip6AndPorts as varint */
	    "12 05 2d 01000000",               /* RelayVpnIp as I32 */
	    "12 09 29 0100000000000000",       /* RelayVpnIp as I64 */
	    "12 04 12 02 0a 00",               /* Ip4AndPort.Ip as LEN */
	    "12 07 12 05 15 01000000",         /* Ip4AndPort.Port as I32 */
	    "12 0b 22 09 09 0100000000000000", /* Ip6AndPort.Hi as I64 */
	    "12 04 22 02 12 00",               /* Ip6AndPort.Lo as LEN */
	    "12 04 22 02 1a 00",               /* Ip6AndPort.Port as LEN */
	};
	struct lhmsg m;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		memset(&m, 0xa5, sizeof(m));
		assert_int_equal(dec(&m, bad[i]), VPN_ERR_PB_WIRETYPE);
		assert_int_equal(m.type, 0); /* zeroed on error */
		assert_false(m.has_details);
		assert_int_equal(m.n4, 0);
	}
}

static void
test_lhmsg_decode_rejects_malformed(void **state)
{
	static const char *const bad[] = {
	    "08",                        /* varint cut */
	    "08 80",                     /* varint cut */
	    "08 8080808080808080808001", /* 11 bytes */
	    "12 05 08",                  /* LEN past the end */
	    "12 02 12 05",               /* inner LEN past its field */
	    "12 03 2a 01 80",            /* packed varint cut */
	    "12 04 22 02 08 80",         /* inner varint cut */
	    "19 000000",                 /* I64 cut */
	    "00",                        /* field 0 */
	    "0c",                        /* end group alone */
	    "1b",                        /* group never ended */
	    "0e",                        /* wire type 6 */
	    "0f",                        /* wire type 7 */
	    /* Refused here, accepted by gogo (see lib/lhmsg.h): */
	    "12 04 2a 01 81 01",       /* packed varint straddles */
	    "08 ffffffffffffffffff7f", /* 10th byte > 1 */
	    "1b 24",                   /* group ended by field 4 */
	    "8080808010 00",           /* field 2^29 */
	};
	struct lhmsg m;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		rc = dec(&m, bad[i]);
		if (rc >= 0)
			fail_msg("accepted: %s", bad[i]);
		assert_false(m.has_details);
	}
}

static void
test_lhmsg_decode_skips_unknown_fields(void **state)
{
	struct lhmsg m;

	(void)state;
	/* top level: field 3 varint, 15 LEN, 9 I32, 10 I64, group 11 */
	assert_int_equal(dec(&m, "18 05 7a 03 616263 4d 01020304"
	                         " 51 0102030405060708 5b 08 01 5c"
	                         " 08 02 12 06 08 94c8a1850c"),
	    0);
	assert_int_equal(m.type, 2);
	assert_int_equal(m.vpn_ip, IP4(192, 168, 100, 20));
	enc_eq(&m, "08 02 12 06 08 94c8a1850c");
	/* Details: field 6 varint, 7 LEN; Ip4AndPort: field 3, field 9 */
	assert_int_equal(dec(&m, "12 11 30 01 3a 00"
	                         " 12 0b 08 01 10 02 18 07 4a 03 000000"),
	    0);
	assert_int_equal(m.n4, 1);
	assert_int_equal(m.v4[0].ip, 1);
	assert_int_equal(m.v4[0].port, 2);
	/* Ip6AndPort: field 4 */
	assert_int_equal(dec(&m, "12 06 22 04 20 05 18 09"), 0);
	assert_int_equal(m.n6, 1);
	assert_int_equal(m.v6[0].port, 9);
}

/* Any order, packed and unpacked RelayVpnIp; canonical output. */
static void
test_lhmsg_decode_any_order(void **state)
{
	struct lhmsg m;

	(void)state;
	assert_int_equal(dec(&m, "12 18 28 01 2a 02 02 03 28 04"
	                         " 12 04 10 02 08 01 08 0a 22 02 18 05"
	                         " 18 07 12 00"
	                         " 08 03"),
	    0);
	assert_int_equal(m.type, 3);
	assert_int_equal(m.vpn_ip, 10);
	assert_int_equal(m.counter, 7);
	assert_int_equal(m.nrelays, 4);
	assert_int_equal(m.relays[0], 1);
	assert_int_equal(m.relays[1], 2);
	assert_int_equal(m.relays[2], 3);
	assert_int_equal(m.relays[3], 4);
	assert_int_equal(m.n4, 2);
	assert_int_equal(m.v4[0].ip, 1);
	assert_int_equal(m.v4[0].port, 2);
	assert_int_equal(m.v4[1].ip, 0);
	assert_int_equal(m.n6, 1);
	assert_int_equal(m.v6[0].port, 5);
	enc_eq(&m, "08 03 12 16 08 0a 12 04 08 01 10 02 12 00 18 07"
	           " 22 02 18 05 2a 04 01 02 03 04");
	/* empty packed field */
	assert_int_equal(dec(&m, "12 02 2a 00"), 0);
	assert_int_equal(m.nrelays, 0);
}

/* Go's uint32 fields keep the low 32 bits; ports are kept as 16. */
static void
test_lhmsg_decode_truncates_integers(void **state)
{
	struct lhmsg m;

	(void)state;
	/* Type = 2^32 + 3, VpnIp = 2^32 + 1, relay 2^35 + 9 */
	assert_int_equal(dec(&m, "08 8380808010 12 0f 08 8180808010"
	                         " 2a 07 898080808001 01"),
	    0);
	assert_int_equal(m.type, 3);
	assert_int_equal(m.vpn_ip, 1);
	assert_int_equal(m.nrelays, 2);
	assert_int_equal(m.relays[0], 9);
	assert_int_equal(m.relays[1], 1);
	/* Port 70000 -> 4464 */
	assert_int_equal(dec(&m, "12 06 12 04 10 f0a204"), 0);
	assert_int_equal(m.v4[0].port, 70000 & 0xffff);
}

/* An int32 enum: a negative Type is written sign-extended, as Go does. */
static void
test_lhmsg_negative_type(void **state)
{
	struct lhmsg m;

	(void)state;
	assert_int_equal(dec(&m, "08 ffffffff0f"), 0);
	assert_int_equal(m.type, 0xffffffffu);
	enc_eq(&m, "08 ffffffffffffffffff01");
	assert_int_equal(dec(&m, "08 ffffffffffffffffff01"), 0);
	assert_int_equal(m.type, 0xffffffffu);
	assert_false(m.has_details);
}

/* A repeated Details merges: lists append, later scalars win. */
static void
test_lhmsg_decode_merges_details(void **state)
{
	struct lhmsg m;

	(void)state;
	assert_int_equal(dec(&m, "08 03 12 09 08 05 12 02 08 01 2a 01 07"
	                         " 12 06 12 02 08 02 28 08"
	                         " 12 02 08 06"),
	    0);
	assert_int_equal(m.vpn_ip, 6);
	assert_int_equal(m.n4, 2);
	assert_int_equal(m.v4[0].ip, 1);
	assert_int_equal(m.v4[1].ip, 2);
	assert_int_equal(m.nrelays, 2);
	assert_int_equal(m.relays[1], 8);
}

static void
test_lhmsg_no_details(void **state)
{
	struct lhmsg m;

	(void)state;
	assert_int_equal(dec(&m, "08 03"), 0);
	assert_false(m.has_details);
	enc_eq(&m, "08 03");
	assert_int_equal(dec(&m, ""), 0);
	assert_false(m.has_details);
	assert_int_equal(m.type, 0);
	enc_eq(&m, "");
	/* present but empty: kept, and written back as 12 00 */
	assert_int_equal(dec(&m, "12 00"), 0);
	assert_true(m.has_details);
	enc_eq(&m, "12 00");
}

/* Beyond LHMSG_MAX entries: counted and dropped, never allocated. */
static void
test_lhmsg_decode_caps_lists(void **state)
{
	uint8_t buf[4096], out[LHMSG_ENCODED_MAX];
	struct lhmsg m;
	size_t n = 0, d, i, len;

	(void)state;
	buf[n++] = 0x12;
	buf[n++] = 0; /* two-byte length, patched below */
	buf[n++] = 0;
	d = n;
	for (i = 0; i < 70; i++) {
		buf[n++] = 0x12, buf[n++] = 2, buf[n++] = 0x08;
		buf[n++] = (uint8_t)(i + 1);
	}
	for (i = 0; i < 66; i++)
		buf[n++] = 0x22, buf[n++] = 2, buf[n++] = 0x18, buf[n++] = 1;
	buf[n++] = 0x2a, buf[n++] = 100;
	for (i = 0; i < 100; i++)
		buf[n++] = (uint8_t)i;
	buf[1] = (uint8_t)((n - d) | 0x80);
	buf[2] = (uint8_t)((n - d) >> 7);
	assert_int_equal(lhmsg_decode(&m, buf, n), 0);
	assert_int_equal(m.n4, LHMSG_MAX);
	assert_int_equal(m.v4[LHMSG_MAX - 1].ip, LHMSG_MAX);
	assert_int_equal(m.n6, LHMSG_MAX);
	assert_int_equal(m.nrelays, LHMSG_MAX);
	assert_int_equal(m.relays[LHMSG_MAX - 1], LHMSG_MAX - 1);
	assert_int_equal(m.truncated, 6 + 2 + 36);
	/* A bad entry past the cap still spoils the message. */
	buf[n++] = 0x12, buf[n++] = 1, buf[n++] = 0x08;
	buf[1] = (uint8_t)((n - d) | 0x80);
	buf[2] = (uint8_t)((n - d) >> 7);
	assert_int_not_equal(lhmsg_decode(&m, buf, n), 0);

	/* The largest message fits LHMSG_ENCODED_MAX exactly. */
	memset(&m, 0xff, sizeof(m));
	m.has_details = true;
	m.n4 = m.n6 = m.nrelays = LHMSG_MAX;
	m.truncated = 0;
	assert_int_equal(lhmsg_encode(&m, out, sizeof(out), &len), 0);
	assert_int_equal(len, LHMSG_ENCODED_MAX);
	m.n4++;
	assert_int_equal(
	    lhmsg_encode(&m, out, sizeof(out), &len), VPN_ERR_INVAL);
}

static void
test_lhmsg_encode_checks_capacity(void **state)
{
	uint8_t out[64];
	struct lhmsg m;
	size_t len = 0, need, i;

	(void)state;
	assert_int_equal(dec(&m, "08 02 12 1a 08 94c8a1850c 12 08 08 94808c53"
	                         " 10 9221 12 08 08 94808c53 10 9221"),
	    0);
	assert_int_equal(lhmsg_encode(&m, NULL, 0, &need), 0);
	assert_int_equal(need, 30);
	for (i = 0; i < need; i++)
		assert_int_equal(lhmsg_encode(&m, out, i, &len), VPN_ERR_RANGE);
	assert_int_equal(lhmsg_encode(&m, out, need, &len), 0);
	assert_int_equal(len, need);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lhmsg_captured_reencode),
	    cmocka_unit_test(test_lhmsg_captured_relay),
	    cmocka_unit_test(test_lhmsg_wire_md_examples),
	    cmocka_unit_test(test_lhmsg_ipv6_and_counter),
	    cmocka_unit_test(test_lhmsg_decode_rejects_wrong_wire_type),
	    cmocka_unit_test(test_lhmsg_decode_rejects_malformed),
	    cmocka_unit_test(test_lhmsg_decode_skips_unknown_fields),
	    cmocka_unit_test(test_lhmsg_decode_any_order),
	    cmocka_unit_test(test_lhmsg_decode_truncates_integers),
	    cmocka_unit_test(test_lhmsg_negative_type),
	    cmocka_unit_test(test_lhmsg_decode_merges_details),
	    cmocka_unit_test(test_lhmsg_no_details),
	    cmocka_unit_test(test_lhmsg_decode_caps_lists),
	    cmocka_unit_test(test_lhmsg_encode_checks_capacity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
