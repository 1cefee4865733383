/*
 * test/unit/test_nebctl.c: the NebulaControl codec, on the four control
 * plaintexts of the aes-relay capture of real Nebula 1.6.1 traffic
 * (wire.md 9.1) and on hand-made edge cases.
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
#include "nebctl.h"

#include "../fixtures/capture/vectors.h"
#include "testutil.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define IP4(a, b, c, d)                                                        \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/*
 * The relay of the aes-relay capture: A = host-a 192.168.100.10 reaches
 * B = host-b 192.168.100.20 through R = 192.168.100.1.  The four relay
 * indexes of wire.md 9.2, as the control messages carry them.
 */
#define HOST_A IP4(192, 168, 100, 10) /* 8ac8a1850c = 0xc0a8640a */
#define HOST_B IP4(192, 168, 100, 20) /* 94c8a1850c = 0xc0a86414 */
#define IDX_IA 880925163u             /* ebb387a403 = 0x3481d9eb, A's */
#define IDX_IR_B 2564257376u          /* e0ecddc609 = 0x98d77660, R's to B */
#define IDX_IB 2643799462u            /* a6dbd4ec09 = 0x9d952da6, B's */
#define IDX_IR_A 4287030825u          /* a9cc9bfc0f = 0xff86e629, R's to A */

/* wire.md 9.1, frames 13-16 of aes-relay. */
static const char a_to_r_req[] = "08 01 10 ebb387a403 20 94c8a1850c"
                                 " 28 8ac8a1850c";
static const char r_to_b_req[] = "08 01 10 e0ecddc609 20 94c8a1850c"
                                 " 28 8ac8a1850c";
static const char b_to_r_resp[] = "08 02 10 e0ecddc609 18 a6dbd4ec09"
                                  " 20 94c8a1850c 28 8ac8a1850c";
static const char r_to_a_resp[] = "08 02 10 ebb387a403 18 a9cc9bfc0f"
                                  " 20 94c8a1850c 28 8ac8a1850c";


/*
 * Decode len bytes from a heap copy of exactly that size, so that ASan
 * catches any read past the end.
 */
static int
dec_buf(struct nebctl *m, const uint8_t *p, size_t len)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, p, len);
	rc = nebctl_decode(m, copy, len);
	free(copy);
	return rc;
}

/* Decode hex. */
static int
dec(struct nebctl *m, const char *hex)
{
	uint8_t buf[256];
	size_t n = tu_unhex_spaced(hex, buf, sizeof(buf));

	return dec_buf(m, buf, n);
}

static void
assert_same(const struct nebctl *a, const struct nebctl *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->initiator_relay_index, b->initiator_relay_index);
	assert_int_equal(a->responder_relay_index, b->responder_relay_index);
	assert_int_equal(a->relay_to_ip, b->relay_to_ip);
	assert_int_equal(a->relay_from_ip, b->relay_from_ip);
}

static void
assert_zero(const struct nebctl *m)
{
	static const struct nebctl zero;

	assert_same(m, &zero);
}

/* Encode and compare with hex. */
static void
enc_eq(const struct nebctl *m, const char *hex)
{
	uint8_t want[256], got[NEBCTL_ENCODED_MAX];
	size_t wn = tu_unhex_spaced(hex, want, sizeof(want)), gn = 0, sz = 0;

	assert_int_equal(nebctl_encode(m, NULL, 0, &sz), 0);
	assert_int_equal(nebctl_encode(m, got, sizeof(got), &gn), 0);
	assert_int_equal(gn, sz);
	assert_int_equal(gn, wn);
	assert_memory_equal(got, want, wn);
}

/* Encode, decode back, and expect the same struct and encoding. */
static size_t
roundtrip(const struct nebctl *m)
{
	uint8_t buf[NEBCTL_ENCODED_MAX], buf2[NEBCTL_ENCODED_MAX];
	struct nebctl back;
	size_t len = 0, len2 = 0;

	assert_int_equal(nebctl_encode(m, buf, sizeof(buf), &len), 0);
	assert_true(len <= NEBCTL_ENCODED_MAX);
	assert_int_equal(dec_buf(&back, buf, len), 0);
	assert_same(&back, m);
	assert_int_equal(nebctl_encode(&back, buf2, sizeof(buf2), &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(buf2, buf, len);
	return len;
}

/* Every control plaintext of the captures decodes and re-encodes. */
static void
test_nebctl_captured_reencode(void **state)
{
	uint8_t out[NEBCTL_ENCODED_MAX];
	struct nebctl m;
	size_t i, n = 0, len;

	(void)state;
	for (i = 0; i < CAP_NPKTS; i++) {
		const struct cap_pkt *p = &cap_pkts[i];

		if (p->kind != CAP_AEAD || p->type != 6)
			continue;
		assert_int_equal(p->subtype, 0);
		assert_int_equal(dec_buf(&m, p->pt, p->pt_len), 0);
		assert_true(m.type == NEBCTL_CREATE_RELAY_REQUEST ||
		            m.type == NEBCTL_CREATE_RELAY_RESPONSE);
		assert_int_equal(m.relay_from_ip, HOST_A);
		assert_int_equal(m.relay_to_ip, HOST_B);
		assert_int_equal(nebctl_encode(&m, out, sizeof(out), &len), 0);
		assert_int_equal(len, p->pt_len);
		assert_memory_equal(out, p->pt, len);
		n++;
	}
	printf("# %zu captured control plaintexts re-encoded\n", n);
	assert_int_equal(n, 4);
}

/* wire.md 9.1, field by field, both ways (wire.md 9.2 steps 1-4). */
static void
test_nebctl_wire_md_examples(void **state)
{
	struct nebctl m;

	(void)state;
	/* 1. A -> R: CreateRelayRequest{Ia, 192.168.100.10 -> .20} */
	assert_int_equal(dec(&m, a_to_r_req), 0);
	assert_int_equal(m.type, NEBCTL_CREATE_RELAY_REQUEST);
	assert_int_equal(m.initiator_relay_index, IDX_IA);
	assert_int_equal(m.responder_relay_index, 0);
	assert_int_equal(m.relay_to_ip, HOST_B);
	assert_int_equal(m.relay_from_ip, HOST_A);
	enc_eq(&m, a_to_r_req);

	/* 2. R -> B: CreateRelayRequest{Ir_b, 192.168.100.10 -> .20} */
	assert_int_equal(dec(&m, r_to_b_req), 0);
	assert_int_equal(m.type, NEBCTL_CREATE_RELAY_REQUEST);
	assert_int_equal(m.initiator_relay_index, IDX_IR_B);
	assert_int_equal(m.responder_relay_index, 0);
	assert_int_equal(m.relay_to_ip, HOST_B);
	assert_int_equal(m.relay_from_ip, HOST_A);
	enc_eq(&m, r_to_b_req);

	/* 3. B -> R: CreateRelayResponse{Ir_b, Ib, ...} */
	assert_int_equal(dec(&m, b_to_r_resp), 0);
	assert_int_equal(m.type, NEBCTL_CREATE_RELAY_RESPONSE);
	assert_int_equal(m.initiator_relay_index, IDX_IR_B);
	assert_int_equal(m.responder_relay_index, IDX_IB);
	assert_int_equal(m.relay_to_ip, HOST_B);
	assert_int_equal(m.relay_from_ip, HOST_A);
	enc_eq(&m, b_to_r_resp);

	/* 4. R -> A: CreateRelayResponse{Ia, Ir_a, ...}; Ir_a > 2^31 */
	assert_int_equal(dec(&m, r_to_a_resp), 0);
	assert_int_equal(m.type, NEBCTL_CREATE_RELAY_RESPONSE);
	assert_int_equal(m.initiator_relay_index, IDX_IA);
	assert_int_equal(m.responder_relay_index, IDX_IR_A);
	assert_int_equal(m.relay_to_ip, HOST_B);
	assert_int_equal(m.relay_from_ip, HOST_A);
	enc_eq(&m, r_to_a_resp);
}

/*
 * wire.md 9.3: every relay frame of the capture is addressed to one of
 * the four indexes the control messages set up.
 */
static void
test_nebctl_captured_relay_indexes(void **state)
{
	size_t i, seen[4] = {0};

	(void)state;
	for (i = 0; i < CAP_NPKTS; i++) {
		const struct cap_pkt *p = &cap_pkts[i];

		if (p->kind != CAP_RELAY || p->inner)
			continue;
		if (p->remote_index == IDX_IR_A)
			seen[0]++; /* A -> R */
		else if (p->remote_index == IDX_IB)
			seen[1]++; /* R -> B */
		else if (p->remote_index == IDX_IR_B)
			seen[2]++; /* B -> R */
		else if (p->remote_index == IDX_IA)
			seen[3]++; /* R -> A */
		else
			fail_msg("relay frame %u to index %u", p->frame,
			    (unsigned)p->remote_index);
	}
	assert_true(seen[0] > 0 && seen[1] > 0 && seen[2] > 0 && seen[3] > 0);
}

/* Zeroes are left out; every width of varint; the longest message. */
static void
test_nebctl_roundtrip_edges(void **state)
{
	static const uint32_t vals[] = {1, 127, 128, 16383, 16384,
	    (1u << 21) - 1, 1u << 21, (1u << 28) - 1, 1u << 28, 0x7fffffffu,
	    0x80000000u, 0xffffffffu};
	uint8_t out[NEBCTL_ENCODED_MAX];
	struct nebctl m;
	size_t i, f, len;
	uint32_t *fp[4];

	(void)state;
	memset(&m, 0, sizeof(m));
	enc_eq(&m, "");
	assert_int_equal(dec(&m, ""), 0);
	assert_zero(&m);
	assert_int_equal(roundtrip(&m), 0);

	fp[0] = &m.initiator_relay_index;
	fp[1] = &m.responder_relay_index;
	fp[2] = &m.relay_to_ip;
	fp[3] = &m.relay_from_ip;
	for (f = 0; f < 4; f++) {
		for (i = 0; i < NELEM(vals); i++) {
			memset(&m, 0, sizeof(m));
			*fp[f] = vals[i];
			/* one tag byte and a minimal varint */
			assert_int_equal(
			    roundtrip(&m), 1 + (vals[i] < 1u << 7       ? 1
			                           : vals[i] < 1u << 14 ? 2
			                           : vals[i] < 1u << 21 ? 3
			                           : vals[i] < 1u << 28 ? 4
			                                                : 5));
		}
	}

	/* one field alone, each way */
	memset(&m, 0, sizeof(m));
	m.responder_relay_index = 0xffffffffu;
	enc_eq(&m, "18 ffffffff0f");
	memset(&m, 0, sizeof(m));
	m.relay_from_ip = 1;
	enc_eq(&m, "28 01");
	memset(&m, 0, sizeof(m));
	m.type = NEBCTL_CREATE_RELAY_RESPONSE;
	enc_eq(&m, "08 02");
	m.type = 0x7fffffffu; /* the largest positive int32 */
	enc_eq(&m, "08 ffffffff07");
	roundtrip(&m);

	/* every field at its maximum: NEBCTL_ENCODED_MAX exactly */
	memset(&m, 0xff, sizeof(m));
	assert_int_equal(roundtrip(&m), NEBCTL_ENCODED_MAX);
	assert_int_equal(nebctl_encode(&m, out, sizeof(out), &len), 0);
	assert_int_equal(len, NEBCTL_ENCODED_MAX);
	enc_eq(&m, "08 ffffffffffffffffff01 10 ffffffff0f 18 ffffffff0f"
	           " 20 ffffffff0f 28 ffffffff0f");
}

/* An int32 enum: a negative Type is written sign-extended, as Go does. */
static void
test_nebctl_negative_type(void **state)
{
	struct nebctl m;

	(void)state;
	assert_int_equal(dec(&m, "08 ffffffff0f"), 0);
	assert_int_equal(m.type, 0xffffffffu);
	enc_eq(&m, "08 ffffffffffffffffff01");
	assert_int_equal(dec(&m, "08 ffffffffffffffffff01"), 0);
	assert_int_equal(m.type, 0xffffffffu);
	assert_int_equal(dec(&m, "08 8080808008"), 0);
	assert_int_equal(m.type, 0x80000000u);
	enc_eq(&m, "08 80808080f8ffffffff01");
	/* Unknown types decode as they are; Nebula ignores them. */
	assert_int_equal(dec(&m, "08 03 10 01"), 0);
	assert_int_equal(m.type, 3);
	assert_int_equal(m.initiator_relay_index, 1);
	enc_eq(&m, "08 03 10 01");
}

static void
test_nebctl_decode_skips_unknown_fields(void **state)
{
	struct nebctl m;

	(void)state;
	/* field 6 varint, 15 LEN, 9 I32, 10 I64, group 11 (with a field 1
	 * inside, which must not be taken for Type), field 2^29-1 */
	assert_int_equal(dec(&m, "30 05 7a 03 616263 4d 01020304"
	                         " 51 0102030405060708 5b 08 07 5c"
	                         " 08 02 10 ebb387a403 18 a9cc9bfc0f"
	                         " f8ffffff0f 01"
	                         " 20 94c8a1850c 28 8ac8a1850c"
	                         " 32 00"),
	    0);
	assert_int_equal(m.type, NEBCTL_CREATE_RELAY_RESPONSE);
	assert_int_equal(m.initiator_relay_index, IDX_IA);
	assert_int_equal(m.responder_relay_index, IDX_IR_A);
	assert_int_equal(m.relay_to_ip, HOST_B);
	assert_int_equal(m.relay_from_ip, HOST_A);
	enc_eq(&m, r_to_a_resp);
	/* nothing but unknown fields */
	assert_int_equal(dec(&m, "30 01 3a 02 0801 5b 5c"), 0);
	assert_zero(&m);
	enc_eq(&m, "");
}

/* Any order in; canonical order out. */
static void
test_nebctl_decode_any_order(void **state)
{
	struct nebctl m;

	(void)state;
	assert_int_equal(dec(&m, "28 8ac8a1850c 20 94c8a1850c 18 a6dbd4ec09"
	                         " 10 e0ecddc609 08 02"),
	    0);
	assert_int_equal(m.type, NEBCTL_CREATE_RELAY_RESPONSE);
	assert_int_equal(m.initiator_relay_index, IDX_IR_B);
	assert_int_equal(m.responder_relay_index, IDX_IB);
	assert_int_equal(m.relay_to_ip, HOST_B);
	assert_int_equal(m.relay_from_ip, HOST_A);
	enc_eq(&m, b_to_r_resp);
	assert_int_equal(dec(&m, "20 94c8a1850c 08 01 28 8ac8a1850c"
	                         " 10 ebb387a403"),
	    0);
	enc_eq(&m, a_to_r_req);
}

/* gogo sets a field anew each time it appears: the last one wins. */
static void
test_nebctl_decode_last_wins(void **state)
{
	struct nebctl m;

	(void)state;
	assert_int_equal(dec(&m, "08 01 10 05 08 02 10 06 28 07 28 00"), 0);
	assert_int_equal(m.type, 2);
	assert_int_equal(m.initiator_relay_index, 6);
	assert_int_equal(m.relay_from_ip, 0); /* an explicit zero */
	enc_eq(&m, "08 02 10 06");
}

/*
 * Go keeps the low 32 bits of a uint32 (or int32 enum) field's varint:
 * gogo's "m.X |= uint32(b&0x7F) << shift" drops what shifts past bit 31.
 */
static void
test_nebctl_decode_truncates_integers(void **state)
{
	struct nebctl m;

	(void)state;
	/* Type 2^32 + 1, InitiatorRelayIndex 2^32 + 5,
	 * ResponderRelayIndex 2^35 + 9, RelayToIp 2^64 - 1 (10 bytes),
	 * RelayFromIp 2^63 + 0xc0a8640a (10 bytes, last byte 01) */
	assert_int_equal(dec(&m, "08 8180808010 10 8580808010"
	                         " 18 898080808001"
	                         " 20 ffffffffffffffffff01"
	                         " 28 8ac8a1858c8080808001"),
	    0);
	assert_int_equal(m.type, 1);
	assert_int_equal(m.initiator_relay_index, 5);
	assert_int_equal(m.responder_relay_index, 9);
	assert_int_equal(m.relay_to_ip, 0xffffffffu);
	assert_int_equal(m.relay_from_ip, HOST_A);
	enc_eq(&m, "08 01 10 05 18 09 20 ffffffff0f 28 8ac8a1850c");
	/* exactly 2^32: the field reads as 0 and is left out */
	assert_int_equal(dec(&m, "10 8080808010 08 01"), 0);
	assert_int_equal(m.initiator_relay_index, 0);
	enc_eq(&m, "08 01");
}

/* Non-minimal varints (padded with 0x80 groups) are accepted, as in Go. */
static void
test_nebctl_decode_noncanonical_varints(void **state)
{
	struct nebctl m;

	(void)state;
	assert_int_equal(dec(&m, "08 8100 10 80808000 28 8a80808080808080"
	                         "8000"),
	    0);
	assert_int_equal(m.type, 1);
	assert_int_equal(m.initiator_relay_index, 0);
	assert_int_equal(m.relay_from_ip, 10);
	enc_eq(&m, "08 01 28 0a");
	/* a non-minimal tag: 88 00 is field 1, varint */
	assert_int_equal(dec(&m, "88 00 02"), 0);
	assert_int_equal(m.type, 2);
	enc_eq(&m, "08 02");
}

/* gogo: a known field of the wrong wire type rejects the message. */
static void
test_nebctl_decode_rejects_wrong_wire_type(void **state)
{
	/* wire type and a well-formed value of it */
	static const struct {
		unsigned wt;
		const char *val;
	} kinds[] = {
	    {1, "0100000000000000"}, /* I64 */
	    {2, "00"},               /* LEN, empty */
	    {2, "02 0801"},          /* LEN, as if a submessage */
	    {5, "01000000"},         /* I32 */
	};
	uint8_t buf[64];
	struct nebctl m;
	size_t i, n, num;
	char hex[64];

	(void)state;
	for (num = 1; num <= 5; num++) {
		for (i = 0; i < NELEM(kinds); i++) {
			/* after a good Type, so that zeroing shows */
			snprintf(hex, sizeof(hex), "08 01 %02x %s",
			    (unsigned)(num << 3 | kinds[i].wt), kinds[i].val);
			memset(&m, 0xa5, sizeof(m));
			assert_int_equal(dec(&m, hex), VPN_ERR_PB_WIRETYPE);
			assert_zero(&m);
		}
		/* a group in a known field's place: "0b 0c" for Type */
		n = 0;
		buf[n++] = (uint8_t)(num << 3 | 3);
		buf[n++] = (uint8_t)(num << 3 | 4);
		memset(&m, 0xa5, sizeof(m));
		assert_int_equal(dec_buf(&m, buf, n), VPN_ERR_PB_WIRETYPE);
		assert_zero(&m);
	}
	/* after a complete message, too */
	assert_int_equal(dec(&m, "08 02 10 e0ecddc609 18 a6dbd4ec09"
	                         " 20 94c8a1850c 28 8ac8a1850c 22 00"),
	    VPN_ERR_PB_WIRETYPE);
	assert_zero(&m);
}

static void
test_nebctl_decode_rejects_malformed(void **state)
{
	static const struct {
		const char *hex;
		int rc;
	} bad[] = {
	    {"08", VPN_ERR_PB_VARINT},          /* value missing */
	    {"08 80", VPN_ERR_PB_VARINT},       /* varint cut */
	    {"28 8ac8a185", VPN_ERR_PB_VARINT}, /* varint cut */
	    {"88", VPN_ERR_PB_VARINT},          /* tag cut */
	    {"08 8080808080808080808001", VPN_ERR_PB_VARINT}, /* 11 bytes */
	    {"32 05 08", VPN_ERR_TRUNCATED}, /* LEN past the end */
	    {"32 8080808080808080807f", VPN_ERR_PB_VARINT},  /* huge LEN */
	    {"32 ffffffffffffffff7f 00", VPN_ERR_TRUNCATED}, /* huge LEN */
	    {"39 000000", VPN_ERR_TRUNCATED},                /* I64 cut */
	    {"3d 0000", VPN_ERR_TRUNCATED},                  /* I32 cut */
	    {"00", VPN_ERR_PB_FIELD},                        /* field 0 */
	    {"07 00", VPN_ERR_PB_FIELD},                     /* field 0, wt 7 */
	    {"3c", VPN_ERR_PB_WIRETYPE},     /* end group alone */
	    {"3b", VPN_ERR_TRUNCATED},       /* group never ended */
	    {"3b 08 01", VPN_ERR_TRUNCATED}, /* group never ended */
	    {"0e", VPN_ERR_PB_WIRETYPE},     /* wire type 6 */
	    {"3f", VPN_ERR_PB_WIRETYPE},     /* wire type 7 */
	    /* Refused here, accepted by gogo (see lib/nebctl.h): */
	    {"08 ffffffffffffffffff7f", VPN_ERR_PB_VARINT}, /* 10th byte > 1 */
	    {"3b 44", VPN_ERR_PB_WIRETYPE},      /* group 7 ended by 8 */
	    {"8080808010 00", VPN_ERR_PB_FIELD}, /* field 2^29 */
	    /* field 2^32 + 2: gogo's int32(fieldNum) makes it field 2 */
	    {"908080808001 05", VPN_ERR_PB_FIELD},
	};
	uint8_t deep[200];
	struct nebctl m;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		memset(&m, 0xa5, sizeof(m));
		if (dec(&m, bad[i].hex) != bad[i].rc)
			fail_msg("%s: want %d", bad[i].hex, bad[i].rc);
		assert_zero(&m);
	}
	/* groups nested past pb.c's depth limit */
	memset(deep, 0x3b, sizeof(deep));
	memset(&m, 0xa5, sizeof(m));
	assert_int_equal(dec_buf(&m, deep, sizeof(deep)), VPN_ERR_PB_DEPTH);
	assert_zero(&m);
}

/*
 * Every prefix of every real plaintext: protobuf has no framing, so a
 * cut at a field boundary is a valid shorter message (the fields so
 * far); a cut anywhere else is inside a varint and fails cleanly.
 */
static void
test_nebctl_decode_truncated_prefixes(void **state)
{
	static const char *const msgs[] = {
	    a_to_r_req,
	    r_to_b_req,
	    b_to_r_resp,
	    r_to_a_resp,
	    "08 ffffffffffffffffff01 10 ffffffff0f 18 ffffffff0f"
	    " 20 ffffffff0f 28 ffffffff0f",
	};
	uint8_t buf[64];
	struct nebctl full, part, m;
	size_t i, k, n, f, bound[6], nb;
	int rc;

	(void)state;
	for (i = 0; i < NELEM(msgs); i++) {
		n = tu_unhex_spaced(msgs[i], buf, sizeof(buf));
		assert_int_equal(dec_buf(&full, buf, n), 0);
		/* The boundaries: encodings of the first f fields. */
		memset(&part, 0, sizeof(part));
		nb = 0;
		for (f = 0; f <= 5; f++) {
			if (f == 1)
				part.type = full.type;
			if (f == 2)
				part.initiator_relay_index =
				    full.initiator_relay_index;
			if (f == 3)
				part.responder_relay_index =
				    full.responder_relay_index;
			if (f == 4)
				part.relay_to_ip = full.relay_to_ip;
			if (f == 5)
				part.relay_from_ip = full.relay_from_ip;
			assert_int_equal(
			    nebctl_encode(&part, NULL, 0, &bound[f]), 0);
		}
		assert_int_equal(bound[5], n);
		for (k = 0, f = 0; k <= n; k++) {
			memset(&m, 0xa5, sizeof(m));
			rc = dec_buf(&m, buf, k);
			while (f < 5 && bound[f + 1] <= k)
				f++;
			if (bound[f] != k) {
				assert_int_equal(rc, VPN_ERR_PB_VARINT);
				assert_zero(&m);
				continue;
			}
			assert_int_equal(rc, 0);
			nb++;
			/* the first f fields (those of full that are set) */
			assert_int_equal(m.type, f >= 1 ? full.type : 0);
			assert_int_equal(m.initiator_relay_index,
			    f >= 2 ? full.initiator_relay_index : 0);
			assert_int_equal(m.responder_relay_index,
			    f >= 3 ? full.responder_relay_index : 0);
			assert_int_equal(
			    m.relay_to_ip, f >= 4 ? full.relay_to_ip : 0);
			assert_int_equal(
			    m.relay_from_ip, f >= 5 ? full.relay_from_ip : 0);
		}
		/* 0, and one per field present */
		assert_int_equal(nb, full.responder_relay_index != 0 ? 6 : 5);
	}
}

static void
test_nebctl_encode_checks_capacity(void **state)
{
	uint8_t out[NEBCTL_ENCODED_MAX + 8];
	struct nebctl m;
	size_t len, need, i;

	(void)state;
	assert_int_equal(dec(&m, r_to_a_resp), 0);
	assert_int_equal(nebctl_encode(&m, NULL, 0, &need), 0);
	assert_int_equal(need, 26);
	/* out == NULL counts whatever cap says */
	assert_int_equal(nebctl_encode(&m, NULL, 1, &len), 0);
	assert_int_equal(len, need);
	for (i = 0; i < need; i++) {
		memset(out, 0xa5, sizeof(out));
		len = 12345;
		assert_int_equal(
		    nebctl_encode(&m, out, i, &len), VPN_ERR_RANGE);
		assert_int_equal(len, 12345);   /* untouched */
		assert_int_equal(out[i], 0xa5); /* nothing past cap */
	}
	assert_int_equal(nebctl_encode(&m, out, need, &len), 0);
	assert_int_equal(len, need);
	/* An empty message fits in nothing. */
	memset(&m, 0, sizeof(m));
	assert_int_equal(nebctl_encode(&m, out, 0, &len), 0);
	assert_int_equal(len, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nebctl_captured_reencode),
	    cmocka_unit_test(test_nebctl_wire_md_examples),
	    cmocka_unit_test(test_nebctl_captured_relay_indexes),
	    cmocka_unit_test(test_nebctl_roundtrip_edges),
	    cmocka_unit_test(test_nebctl_negative_type),
	    cmocka_unit_test(test_nebctl_decode_skips_unknown_fields),
	    cmocka_unit_test(test_nebctl_decode_any_order),
	    cmocka_unit_test(test_nebctl_decode_last_wins),
	    cmocka_unit_test(test_nebctl_decode_truncates_integers),
	    cmocka_unit_test(test_nebctl_decode_noncanonical_varints),
	    cmocka_unit_test(test_nebctl_decode_rejects_wrong_wire_type),
	    cmocka_unit_test(test_nebctl_decode_rejects_malformed),
	    cmocka_unit_test(test_nebctl_decode_truncated_prefixes),
	    cmocka_unit_test(test_nebctl_encode_checks_capacity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
