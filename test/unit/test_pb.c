/* test/unit/test_pb.c: protobuf field reader and UTF-8 rule. */
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
#include "pb.h"
#include "wire.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Read the single field of b and expect exactly it, then the end. */
static void
one_field(const uint8_t *b, size_t len, struct pb_field *f)
{
	struct rd r;

	rd_init(&r, b, len);
	assert_int_equal(pb_next(&r, f), 1);
	assert_int_equal(pb_next(&r, f), 0);
	assert_false(r.bad);
}

/* The first pb_next result for b. */
static int
first(const uint8_t *b, size_t len)
{
	struct pb_field f;
	struct rd r;

	rd_init(&r, b, len);
	return pb_next(&r, &f);
}

static void
test_pb_next_varint(void **state)
{
	static const uint8_t b[] = {0x08, 0x96, 0x01};
	struct pb_field f;

	(void)state;
	one_field(b, sizeof(b), &f);
	assert_int_equal(f.num, 1);
	assert_int_equal(f.wt, PB_VARINT);
	assert_true(f.v == 150);
}

static void
test_pb_next_varint_64bit(void **state)
{
	/* field 5 (NotBefore), int64 -1: ten-byte varint */
	static const uint8_t b[] = {0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0x01};
	struct pb_field f;

	(void)state;
	one_field(b, sizeof(b), &f);
	assert_int_equal(f.num, 5);
	assert_int_equal(f.wt, PB_VARINT);
	assert_true((int64_t)f.v == -1);
}

static void
test_pb_next_i64(void **state)
{
	static const uint8_t b[] = {0x11, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
	    0x07, 0x08};
	struct pb_field f;

	(void)state;
	one_field(b, sizeof(b), &f);
	assert_int_equal(f.num, 2);
	assert_int_equal(f.wt, PB_I64);
	assert_true(f.v == 0x0807060504030201ull); /* little-endian */
}

static void
test_pb_next_i32(void **state)
{
	static const uint8_t b[] = {0x25, 0x01, 0x02, 0x03, 0xf4};
	struct pb_field f;

	(void)state;
	one_field(b, sizeof(b), &f);
	assert_int_equal(f.num, 4);
	assert_int_equal(f.wt, PB_I32);
	assert_true(f.v == 0xf4030201u);
}

static void
test_pb_next_len(void **state)
{
	static const uint8_t b[] = {0x1a, 0x03, 'a', 'b', 'c'};
	struct pb_field f;

	(void)state;
	one_field(b, sizeof(b), &f);
	assert_int_equal(f.num, 3);
	assert_int_equal(f.wt, PB_LEN);
	assert_int_equal(f.len, 3);
	assert_ptr_equal(f.p, b + 2); /* points into the input */
}

static void
test_pb_next_empty_len(void **state)
{
	static const uint8_t b[] = {0x0a, 0x00};
	struct pb_field f;

	(void)state;
	one_field(b, sizeof(b), &f);
	assert_int_equal(f.num, 1);
	assert_int_equal(f.wt, PB_LEN);
	assert_int_equal(f.len, 0);
}

static void
test_pb_next_empty_input(void **state)
{
	struct pb_field f;
	struct rd r;

	(void)state;
	rd_init(&r, NULL, 0);
	assert_int_equal(pb_next(&r, &f), 0);
}

static void
test_pb_next_sequence(void **state)
{
	/* a varint, a LEN, a fixed64, a fixed32, in one message */
	static const uint8_t b[] = {0x08, 0x01, 0x12, 0x02, 'h', 'i', 0x19, 1,
	    0, 0, 0, 0, 0, 0, 0, 0x25, 2, 0, 0, 0, 0xf8, 0xff, 0xff, 0xff, 0x0f,
	    0x2a};
	struct pb_field f;
	struct rd r;

	(void)state;
	rd_init(&r, b, sizeof(b));
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 1);
	assert_true(f.v == 1);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 2);
	assert_int_equal(f.len, 2);
	assert_memory_equal(f.p, "hi", 2);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 3);
	assert_int_equal(f.wt, PB_I64);
	assert_true(f.v == 1);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 4);
	assert_int_equal(f.wt, PB_I32);
	assert_true(f.v == 2);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, (1u << 29) - 1);
	assert_true(f.v == 42);
	assert_int_equal(pb_next(&r, &f), 0);
	assert_false(r.bad);
}

static void
test_pb_next_max_field_number(void **state)
{
	/* (2^29 - 1) << 3 | 0, then value 7 */
	static const uint8_t ok[] = {0xf8, 0xff, 0xff, 0xff, 0x0f, 0x07};
	/* 2^29 << 3 = 2^32: one past the largest field number */
	static const uint8_t bad[] = {0x80, 0x80, 0x80, 0x80, 0x10, 0x07};
	struct pb_field f;

	(void)state;
	one_field(ok, sizeof(ok), &f);
	assert_int_equal(f.num, (1u << 29) - 1);
	assert_true(f.v == 7);
	assert_int_equal(first(bad, sizeof(bad)), VPN_ERR_PB_FIELD);
}

static void
test_pb_next_skips_group(void **state)
{
	/* field 3 group { field 1 varint 1, field 2 LEN "x" } then field 4 */
	static const uint8_t b[] = {0x1b, 0x08, 0x01, 0x12, 0x01, 'x', 0x1c,
	    0x20, 0x05};
	struct pb_field f;
	struct rd r;

	(void)state;
	rd_init(&r, b, sizeof(b));
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 3);
	assert_int_equal(f.wt, PB_SGROUP);
	assert_int_equal(r.off, 7); /* whole group consumed */
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 4);
	assert_true(f.v == 5);
	assert_int_equal(pb_next(&r, &f), 0);
}

static void
test_pb_next_skips_nested_groups(void **state)
{
	/* 1 { 2 { 3 { } } 2 { } } then 5: 1 */
	static const uint8_t b[] = {0x0b, 0x13, 0x1b, 0x1c, 0x14, 0x13, 0x14,
	    0x0c, 0x28, 0x01};
	struct pb_field f;
	struct rd r;

	(void)state;
	rd_init(&r, b, sizeof(b));
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 1);
	assert_int_equal(f.wt, PB_SGROUP);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 5);
	assert_int_equal(pb_next(&r, &f), 0);
}

static void
test_pb_next_rejects_bad_groups(void **state)
{
	static const uint8_t mismatched[] = {0x1b, 0x24};   /* 3 ... end 4 */
	static const uint8_t unterminated[] = {0x1b, 0x08, 0x01};
	static const uint8_t lone_end[] = {0x0c};
	static const uint8_t bad_inside[] = {0x1b, 0x0a, 0x05, 'a', 0x1c};

	(void)state;
	assert_true(first(mismatched, sizeof(mismatched)) < 0);
	assert_true(first(unterminated, sizeof(unterminated)) < 0);
	assert_true(first(lone_end, sizeof(lone_end)) < 0);
	assert_true(first(bad_inside, sizeof(bad_inside)) < 0);
}

static void
test_pb_next_group_depth_bounded(void **state)
{
	enum { DEEP = 5000 };
	uint8_t *b = malloc(2 * DEEP);
	size_t i;

	(void)state;
	assert_non_null(b);
	/* shallow nesting is fine */
	for (i = 0; i < 10; i++)
		b[i] = 0x0b;
	for (i = 0; i < 10; i++)
		b[10 + i] = 0x0c;
	assert_int_equal(first(b, 20), 1);
	/* very deep nesting is refused, without blowing the stack */
	memset(b, 0x0b, DEEP);
	memset(b + DEEP, 0x0c, DEEP);
	assert_int_equal(first(b, 2 * DEEP), VPN_ERR_PB_DEPTH);
	free(b);
}

static void
test_pb_next_rejects_field_zero(void **state)
{
	static const uint8_t v[] = {0x00, 0x01};
	static const uint8_t l[] = {0x02, 0x00};
	static const uint8_t alone[] = {0x00};
	/* a non-minimal tag encoding of field 0 is still field 0 */
	static const uint8_t padded[] = {0x80, 0x00, 0x01};

	(void)state;
	assert_int_equal(first(v, sizeof(v)), VPN_ERR_PB_FIELD);
	assert_int_equal(first(l, sizeof(l)), VPN_ERR_PB_FIELD);
	assert_int_equal(first(alone, sizeof(alone)), VPN_ERR_PB_FIELD);
	assert_int_equal(first(padded, sizeof(padded)), VPN_ERR_PB_FIELD);
}

static void
test_pb_next_rejects_wire_type_6_and_7(void **state)
{
	static const uint8_t six[] = {0x0e, 0x00};
	static const uint8_t seven[] = {0x0f, 0x00};
	static const uint8_t big6[] = {0xfe, 0x01, 0x00}; /* field 31, wt 6 */

	(void)state;
	assert_int_equal(first(six, sizeof(six)), VPN_ERR_PB_WIRETYPE);
	assert_int_equal(first(seven, sizeof(seven)), VPN_ERR_PB_WIRETYPE);
	assert_int_equal(first(big6, sizeof(big6)), VPN_ERR_PB_WIRETYPE);
}

static void
test_pb_next_rejects_truncated_len(void **state)
{
	static const uint8_t b[] = {0x0a, 0x05, 'a', 'b'};
	static const uint8_t nolen[] = {0x0a};
	static const uint8_t halflen[] = {0x0a, 0x80};
	struct pb_field f;
	struct rd r;

	(void)state;
	rd_init(&r, b, sizeof(b));
	assert_int_equal(pb_next(&r, &f), VPN_ERR_TRUNCATED);
	assert_true(r.bad);
	/* the reader stays failed */
	assert_true(pb_next(&r, &f) < 0);
	assert_true(first(nolen, sizeof(nolen)) < 0);
	assert_true(first(halflen, sizeof(halflen)) < 0);
}

static void
test_pb_next_rejects_huge_length(void **state)
{
	static const uint8_t b32[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 'x'};
	static const uint8_t b64[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0x01, 'x'};
	/* one past the bytes that follow */
	static const uint8_t off1[] = {0x0a, 0x03, 'a', 'b'};

	(void)state;
	assert_int_equal(first(b32, sizeof(b32)), VPN_ERR_TRUNCATED);
	assert_int_equal(first(b64, sizeof(b64)), VPN_ERR_TRUNCATED);
	assert_int_equal(first(off1, sizeof(off1)), VPN_ERR_TRUNCATED);
}

static void
test_pb_next_rejects_truncated_fixed(void **state)
{
	static const uint8_t i64[] = {0x09, 1, 2, 3, 4, 5, 6, 7};
	static const uint8_t i32[] = {0x0d, 1, 2, 3};

	(void)state;
	assert_int_equal(first(i64, sizeof(i64)), VPN_ERR_TRUNCATED);
	assert_int_equal(first(i32, sizeof(i32)), VPN_ERR_TRUNCATED);
}

static void
test_pb_next_rejects_bad_varints(void **state)
{
	static const uint8_t noval[] = {0x08};
	static const uint8_t trunc[] = {0x08, 0x80, 0x80};
	static const uint8_t toolong[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0x02};
	static const uint8_t eleven[] = {0x08, 0x80, 0x80, 0x80, 0x80, 0x80,
	    0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
	static const uint8_t badtag[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0x7f};
	static const uint8_t trunctag[] = {0x80};

	(void)state;
	assert_true(first(noval, sizeof(noval)) < 0);
	assert_true(first(trunc, sizeof(trunc)) < 0);
	assert_int_equal(first(toolong, sizeof(toolong)), VPN_ERR_PB_VARINT);
	assert_int_equal(first(eleven, sizeof(eleven)), VPN_ERR_PB_VARINT);
	assert_true(first(badtag, sizeof(badtag)) < 0);
	assert_true(first(trunctag, sizeof(trunctag)) < 0);
}

static void
test_pb_next_every_prefix_of_message(void **state)
{
	/* each cut inside a field must fail, each cut between fields ends */
	static const uint8_t b[] = {0x08, 0x96, 0x01, 0x12, 0x03, 'a', 'b',
	    'c', 0x1d, 1, 2, 3, 4, 0x1b, 0x08, 0x01, 0x1c};
	static const size_t ends[] = {0, 3, 8, 13, 17};
	struct pb_field f;
	struct rd r;
	size_t n, k;
	int e;
	bool boundary;

	(void)state;
	for (n = 0; n <= sizeof(b); n++) {
		boundary = false;
		for (k = 0; k < NELEM(ends); k++)
			if (ends[k] == n)
				boundary = true;
		rd_init(&r, b, n);
		while ((e = pb_next(&r, &f)) == 1)
			continue;
		if (boundary && e != 0)
			fail_msg("cut at %zu: error %d", n, e);
		if (!boundary && e >= 0)
			fail_msg("cut at %zu: accepted", n);
	}
}

static void
test_pb_put_round_trip(void **state)
{
	uint8_t buf[64];
	struct pb_field f;
	struct wr w;
	struct rd r;

	(void)state;
	wr_init(&w, buf, sizeof(buf));
	pb_put_varint(&w, 5, 1795323946);
	pb_put_bytes(&w, 1, "host-a", 6);
	pb_put_tag(&w, 100, PB_VARINT);
	wr_varint(&w, 1);
	pb_put_bytes(&w, 9, "", 0);
	assert_false(w.bad);
	/* certificate.md 6: NotBefore is 28 aa f0 89 d8 06 */
	assert_memory_equal(buf, "\x28\xaa\xf0\x89\xd8\x06", 6);
	assert_memory_equal(buf + 6, "\x0a\x06host-a", 8);
	/* field 100 needs a two-byte tag */
	assert_memory_equal(buf + 14, "\xa0\x06\x01", 3);

	rd_init(&r, buf, w.off);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 5);
	assert_true(f.v == 1795323946);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 1);
	assert_int_equal(f.len, 6);
	assert_memory_equal(f.p, "host-a", 6);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 100);
	assert_true(f.v == 1);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 9);
	assert_int_equal(f.len, 0);
	assert_int_equal(pb_next(&r, &f), 0);
}

static const struct {
	const char *name;
	const char *s;
	size_t len;
	bool ok;
} utf8[] = {
    {"empty", "", 0, true},
    {"ascii", "host-a", 6, true},
    {"nul", "a\0b", 3, true},
    {"del", "\x7f", 1, true},
    {"2-byte U+0080", "\xc2\x80", 2, true},
    {"2-byte e-acute", "\xc3\xa9", 2, true},
    {"2-byte U+07FF", "\xdf\xbf", 2, true},
    {"3-byte U+0800", "\xe0\xa0\x80", 3, true},
    {"3-byte euro", "\xe2\x82\xac", 3, true},
    {"3-byte U+D7FF", "\xed\x9f\xbf", 3, true},
    {"3-byte U+E000", "\xee\x80\x80", 3, true},
    {"3-byte U+FFFD", "\xef\xbf\xbd", 3, true},
    {"3-byte U+FFFF", "\xef\xbf\xbf", 3, true},
    {"4-byte U+10000", "\xf0\x90\x80\x80", 4, true},
    {"4-byte G clef", "\xf0\x9d\x84\x9e", 4, true},
    {"4-byte U+10FFFF", "\xf4\x8f\xbf\xbf", 4, true},
    {"mixed", "a\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9ez", 11, true},
    {"overlong NUL c0 80", "\xc0\x80", 2, false},
    {"overlong c1 bf", "\xc1\xbf", 2, false},
    {"overlong 3-byte", "\xe0\x80\x80", 3, false},
    {"overlong 3-byte U+07FF", "\xe0\x9f\xbf", 3, false},
    {"overlong 4-byte", "\xf0\x80\x80\x80", 4, false},
    {"overlong 4-byte U+FFFF", "\xf0\x8f\xbf\xbf", 4, false},
    {"surrogate D800", "\xed\xa0\x80", 3, false},
    {"surrogate DBFF", "\xed\xaf\xbf", 3, false},
    {"surrogate DC00", "\xed\xb0\x80", 3, false},
    {"surrogate DFFF", "\xed\xbf\xbf", 3, false},
    {"surrogate pair", "\xed\xa0\xbd\xed\xb8\x80", 6, false},
    {"U+110000", "\xf4\x90\x80\x80", 4, false},
    {"f5 lead", "\xf5\x80\x80\x80", 4, false},
    {"f7 lead", "\xf7\xbf\xbf\xbf", 4, false},
    {"5-byte", "\xf8\x88\x80\x80\x80", 5, false},
    {"6-byte", "\xfc\x84\x80\x80\x80\x80", 6, false},
    {"fe", "\xfe", 1, false},
    {"ff", "\xff", 1, false},
    {"lone continuation", "\x80", 1, false},
    {"continuation after ascii", "a\xbf", 2, false},
    {"truncated 2-byte", "\xc3", 1, false},
    {"truncated 3-byte", "\xe2\x82", 2, false},
    {"truncated 4-byte", "\xf0\x9d\x84", 3, false},
    {"truncated then ascii", "\xe2\x82z", 3, false},
    {"bad continuation", "\xc3\x28", 2, false},
    {"bad 3rd byte", "\xe2\x82\x28", 3, false},
    {"bad 4th byte", "\xf0\x9d\x84\xc0", 4, false},
    {"valid then truncated", "ok\xc3\xa9\xc3", 5, false},
};

static void
test_pb_utf8_valid_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(utf8); i++)
		if (pb_utf8_valid((const uint8_t *)utf8[i].s, utf8[i].len) !=
		    utf8[i].ok)
			fail_msg("%s: want %s", utf8[i].name,
			    utf8[i].ok ? "valid" : "invalid");
}

/* Every code point encodes to something the validator accepts, and only
 * surrogates are refused. */
static void
test_pb_utf8_all_code_points(void **state)
{
	uint8_t b[4];
	uint32_t c;
	size_t n;
	bool ok, want;

	(void)state;
	for (c = 0; c <= 0x10ffff; c++) {
		if (c < 0x80) {
			b[0] = (uint8_t)c, n = 1;
		} else if (c < 0x800) {
			b[0] = (uint8_t)(0xc0 | c >> 6);
			b[1] = (uint8_t)(0x80 | (c & 0x3f)), n = 2;
		} else if (c < 0x10000) {
			b[0] = (uint8_t)(0xe0 | c >> 12);
			b[1] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
			b[2] = (uint8_t)(0x80 | (c & 0x3f)), n = 3;
		} else {
			b[0] = (uint8_t)(0xf0 | c >> 18);
			b[1] = (uint8_t)(0x80 | (c >> 12 & 0x3f));
			b[2] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
			b[3] = (uint8_t)(0x80 | (c & 0x3f)), n = 4;
		}
		want = !(c >= 0xd800 && c <= 0xdfff);
		ok = pb_utf8_valid(b, n);
		if (ok != want)
			fail_msg("U+%04X: got %d", (unsigned)c, ok);
	}
}

/* Every single byte: valid exactly when ASCII. */
static void
test_pb_utf8_single_bytes(void **state)
{
	uint8_t b;
	unsigned i;

	(void)state;
	for (i = 0; i < 256; i++) {
		b = (uint8_t)i;
		if (pb_utf8_valid(&b, 1) != (i < 0x80))
			fail_msg("byte %02x", i);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pb_next_varint),
	    cmocka_unit_test(test_pb_next_varint_64bit),
	    cmocka_unit_test(test_pb_next_i64),
	    cmocka_unit_test(test_pb_next_i32),
	    cmocka_unit_test(test_pb_next_len),
	    cmocka_unit_test(test_pb_next_empty_len),
	    cmocka_unit_test(test_pb_next_empty_input),
	    cmocka_unit_test(test_pb_next_sequence),
	    cmocka_unit_test(test_pb_next_max_field_number),
	    cmocka_unit_test(test_pb_next_skips_group),
	    cmocka_unit_test(test_pb_next_skips_nested_groups),
	    cmocka_unit_test(test_pb_next_rejects_bad_groups),
	    cmocka_unit_test(test_pb_next_group_depth_bounded),
	    cmocka_unit_test(test_pb_next_rejects_field_zero),
	    cmocka_unit_test(test_pb_next_rejects_wire_type_6_and_7),
	    cmocka_unit_test(test_pb_next_rejects_truncated_len),
	    cmocka_unit_test(test_pb_next_rejects_huge_length),
	    cmocka_unit_test(test_pb_next_rejects_truncated_fixed),
	    cmocka_unit_test(test_pb_next_rejects_bad_varints),
	    cmocka_unit_test(test_pb_next_every_prefix_of_message),
	    cmocka_unit_test(test_pb_put_round_trip),
	    cmocka_unit_test(test_pb_utf8_valid_table),
	    cmocka_unit_test(test_pb_utf8_all_code_points),
	    cmocka_unit_test(test_pb_utf8_single_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
