/* test/unit/test_wire.c: bounds-checked rd/wr cursors and varints. */
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

#include "wire.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
test_wire_rd_reads_big_endian(void **state)
{
	static const uint8_t b[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
	struct rd r;

	(void)state;
	rd_init(&r, b, sizeof(b));
	assert_int_equal(rd_left(&r), 15);
	assert_int_equal(rd_u8(&r), 0x01);
	assert_int_equal(rd_be16(&r), 0x0203);
	assert_int_equal(rd_be32(&r), 0x04050607);
	assert_true(rd_be64(&r) == 0x08090a0b0c0d0e0full);
	assert_false(r.bad);
	assert_int_equal(r.off, 15);
	assert_int_equal(rd_left(&r), 0);
}

static void
test_wire_rd_take_returns_pointer_into_input(void **state)
{
	static const uint8_t b[] = {1, 2, 3, 4};
	const uint8_t *p;
	struct rd r;

	(void)state;
	rd_init(&r, b, sizeof(b));
	p = rd_take(&r, 0);
	assert_ptr_equal(p, b);
	assert_int_equal(r.off, 0);
	p = rd_take(&r, 3);
	assert_ptr_equal(p, b);
	p = rd_take(&r, 1);
	assert_ptr_equal(p, b + 3);
	/* zero bytes at the very end are still fine */
	p = rd_take(&r, 0);
	assert_ptr_equal(p, b + 4);
	assert_false(r.bad);
}

static void
test_wire_rd_overrun_sets_bad(void **state)
{
	static const uint8_t b[] = {0xaa, 0xbb, 0xcc};
	struct rd r;

	(void)state;
	rd_init(&r, b, sizeof(b));
	assert_null(rd_take(&r, 4));
	assert_true(r.bad);
	assert_int_equal(r.off, 0); /* nothing consumed */

	rd_init(&r, b, sizeof(b));
	assert_int_equal(rd_be32(&r), 0);
	assert_true(r.bad);

	rd_init(&r, b, sizeof(b));
	assert_int_equal(rd_be16(&r), 0xaabb);
	assert_int_equal(rd_be16(&r), 0); /* one byte left, two wanted */
	assert_true(r.bad);
	assert_int_equal(r.off, 2);

	/* a huge n must not wrap around */
	rd_init(&r, b, sizeof(b));
	assert_int_equal(rd_u8(&r), 0xaa);
	assert_null(rd_take(&r, SIZE_MAX));
	assert_true(r.bad);
	assert_int_equal(r.off, 1);
}

static void
test_wire_rd_bad_is_sticky(void **state)
{
	static const uint8_t b[] = {1, 2, 3, 4, 5, 6, 7, 8};
	struct rd r;

	(void)state;
	rd_init(&r, b, sizeof(b));
	assert_null(rd_take(&r, 9));
	assert_true(r.bad);
	/* enough bytes remain, but every later read fails */
	assert_int_equal(rd_u8(&r), 0);
	assert_int_equal(rd_be16(&r), 0);
	assert_int_equal(rd_be32(&r), 0);
	assert_true(rd_be64(&r) == 0);
	assert_null(rd_take(&r, 0));
	assert_true(rd_varint(&r) == 0);
	assert_true(r.bad);
	assert_int_equal(r.off, 0);
}

static void
test_wire_rd_empty_input(void **state)
{
	struct rd r;

	(void)state;
	rd_init(&r, NULL, 0);
	assert_int_equal(rd_left(&r), 0);
	assert_false(r.bad);
	assert_int_equal(rd_u8(&r), 0);
	assert_true(r.bad);
}

static const struct {
	uint64_t v;
	size_t len;
	uint8_t b[10];
} varints[] = {
    {0, 1, {0x00}},
    {1, 1, {0x01}},
    {127, 1, {0x7f}},
    {128, 2, {0x80, 0x01}},
    {150, 2, {0x96, 0x01}},
    {300, 2, {0xac, 0x02}},
    {16383, 2, {0xff, 0x7f}},
    {16384, 3, {0x80, 0x80, 0x01}},
    {0xc0a8640a, 5, {0x8a, 0xc8, 0xa1, 0x85, 0x0c}}, /* certificate.md 3 */
    {0xffffff00, 5, {0x80, 0xfe, 0xff, 0xff, 0x0f}},
    {0xffffffff, 5, {0xff, 0xff, 0xff, 0xff, 0x0f}},
    {1795323946, 5, {0xaa, 0xf0, 0x89, 0xd8, 0x06}},
    {(1ull << 63) - 1, 9,
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
    {1ull << 63, 10,
        {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}},
    {UINT64_MAX, 10,
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
    /* int64 -1 as proto writes it */
    {(uint64_t)(int64_t)-1, 10,
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
};

static void
test_wire_varint_decodes_vectors(void **state)
{
	struct rd r;
	size_t i;
	uint64_t v;

	(void)state;
	for (i = 0; i < NELEM(varints); i++) {
		rd_init(&r, varints[i].b, varints[i].len);
		v = rd_varint(&r);
		if (r.bad || v != varints[i].v || rd_left(&r) != 0)
			fail_msg("vector %zu: bad=%d v=%llu left=%zu", i, r.bad,
			    (unsigned long long)v, rd_left(&r));
	}
}

static void
test_wire_varint_encodes_vectors(void **state)
{
	uint8_t buf[16];
	struct wr w;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(varints); i++) {
		memset(buf, 0xee, sizeof(buf));
		wr_init(&w, buf, sizeof(buf));
		wr_varint(&w, varints[i].v);
		assert_false(w.bad);
		assert_int_equal(w.off, varints[i].len);
		assert_int_equal(varint_len(varints[i].v), varints[i].len);
		assert_memory_equal(buf, varints[i].b, varints[i].len);
		assert_int_equal(buf[varints[i].len], 0xee);
	}
}

static void
test_wire_varint_leaves_following_bytes(void **state)
{
	static const uint8_t b[] = {0xac, 0x02, 0x05, 0x80, 0x01};
	struct rd r;

	(void)state;
	rd_init(&r, b, sizeof(b));
	assert_true(rd_varint(&r) == 300);
	assert_int_equal(r.off, 2);
	assert_true(rd_varint(&r) == 5);
	assert_true(rd_varint(&r) == 128);
	assert_false(r.bad);
	assert_int_equal(rd_left(&r), 0);
}

static void
test_wire_varint_accepts_non_minimal(void **state)
{
	/* Go's protowire accepts padded encodings, up to 10 bytes */
	static const uint8_t two[] = {0x80, 0x00};
	static const uint8_t ten[] = {0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	    0x80, 0x80, 0x00};
	struct rd r;

	(void)state;
	rd_init(&r, two, sizeof(two));
	assert_true(rd_varint(&r) == 0);
	assert_false(r.bad);
	assert_int_equal(r.off, 2);

	rd_init(&r, ten, sizeof(ten));
	assert_true(rd_varint(&r) == 1);
	assert_false(r.bad);
	assert_int_equal(r.off, 10);
}

static void
test_wire_varint_rejects_tenth_byte_above_one(void **state)
{
	uint8_t b[10];
	struct rd r;
	unsigned last;

	(void)state;
	memset(b, 0xff, 9);
	for (last = 0; last < 256; last++) {
		b[9] = (uint8_t)last;
		rd_init(&r, b, sizeof(b));
		(void)rd_varint(&r);
		if (last <= 1) {
			if (r.bad)
				fail_msg("10th byte %02x rejected", last);
		} else if (!r.bad) {
			fail_msg("10th byte %02x accepted", last);
		}
	}
}

static void
test_wire_varint_rejects_eleven_bytes(void **state)
{
	static const uint8_t b[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	    0x80, 0x80, 0x80, 0x00};
	struct rd r;

	(void)state;
	rd_init(&r, b, sizeof(b));
	assert_true(rd_varint(&r) == 0);
	assert_true(r.bad);
}

static void
test_wire_varint_rejects_truncated(void **state)
{
	static const uint8_t b[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0x01};
	struct rd r;
	size_t n;

	(void)state;
	/* every proper prefix of a 10-byte varint is truncated */
	for (n = 0; n < sizeof(b); n++) {
		rd_init(&r, b, n);
		assert_true(rd_varint(&r) == 0);
		if (!r.bad)
			fail_msg("prefix of %zu bytes accepted", n);
	}
	rd_init(&r, b, sizeof(b));
	assert_true(rd_varint(&r) == UINT64_MAX);
	assert_false(r.bad);
}

static void
test_wire_wr_writes_big_endian(void **state)
{
	static const uint8_t want[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
	    0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 'x', 'y'};
	uint8_t buf[sizeof(want)];
	struct wr w;

	(void)state;
	wr_init(&w, buf, sizeof(buf));
	wr_u8(&w, 0x01);
	wr_be16(&w, 0x0203);
	wr_be32(&w, 0x04050607);
	wr_be64(&w, 0x08090a0b0c0d0e0full);
	wr_bytes(&w, "xy", 2);
	assert_false(w.bad);
	assert_int_equal(w.off, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* exactly full: zero more bytes is fine, one more is not */
	wr_bytes(&w, "", 0);
	assert_false(w.bad);
	wr_u8(&w, 0);
	assert_true(w.bad);
	assert_int_equal(w.off, sizeof(want));
}

static void
test_wire_wr_overflow_is_sticky(void **state)
{
	uint8_t buf[8];
	struct wr w;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	wr_init(&w, buf, 5);
	wr_be32(&w, 0x11223344);
	wr_be16(&w, 0x5566); /* does not fit: nothing written */
	assert_true(w.bad);
	assert_int_equal(w.off, 4);
	assert_int_equal(buf[4], 0xee);
	wr_u8(&w, 0x77); /* would fit, but bad is sticky */
	assert_int_equal(w.off, 4);
	assert_int_equal(buf[4], 0xee);
	assert_null(wr_take(&w, 0));
	assert_true(w.bad);

	/* a huge request must not wrap */
	wr_init(&w, buf, sizeof(buf));
	wr_u8(&w, 1);
	assert_null(wr_take(&w, SIZE_MAX));
	assert_true(w.bad);
	assert_int_equal(w.off, 1);
}

static void
test_wire_wr_varint_overflow_writes_nothing(void **state)
{
	uint8_t buf[4];
	struct wr w;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	wr_init(&w, buf, sizeof(buf));
	wr_varint(&w, 0xffffffff); /* 5 bytes into 4 */
	assert_true(w.bad);
	assert_int_equal(w.off, 0);
	assert_int_equal(buf[0], 0xee);
}

static void
test_wire_wr_count_mode(void **state)
{
	struct wr w;

	(void)state;
	wr_init(&w, NULL, 0);
	assert_null(wr_take(&w, 3));
	wr_u8(&w, 1);
	wr_be16(&w, 2);
	wr_be32(&w, 3);
	wr_be64(&w, 4);
	wr_bytes(&w, "abcdef", 6);
	wr_varint(&w, 300);
	wr_varint(&w, UINT64_MAX);
	assert_false(w.bad);
	assert_int_equal(w.off, 3 + 1 + 2 + 4 + 8 + 6 + 2 + 10);

	/* counting past SIZE_MAX sets bad instead of wrapping */
	wr_init(&w, NULL, 0);
	wr_u8(&w, 1);
	assert_null(wr_take(&w, SIZE_MAX));
	assert_true(w.bad);
	assert_int_equal(w.off, 1);
}

static void
test_wire_wr_count_matches_write(void **state)
{
	uint8_t buf[64];
	struct wr c, w;
	size_t i;

	(void)state;
	wr_init(&c, NULL, 0);
	wr_init(&w, buf, sizeof(buf));
	for (i = 0; i < NELEM(varints); i++) {
		wr_varint(&c, varints[i].v);
		wr_varint(&w, varints[i].v);
		assert_int_equal(c.off, w.off);
		if (w.off > 40) {
			wr_init(&c, NULL, 0);
			wr_init(&w, buf, sizeof(buf));
		}
	}
	assert_false(c.bad);
	assert_false(w.bad);
}

static void
test_wire_varint_round_trip(void **state)
{
	uint8_t buf[16];
	struct wr w;
	struct rd r;
	uint64_t v;
	unsigned s;

	(void)state;
	for (s = 0; s < 64; s++) {
		for (v = (1ull << s) - 1; v <= (1ull << s) + 1; v++) {
			wr_init(&w, buf, sizeof(buf));
			wr_varint(&w, v);
			assert_false(w.bad);
			assert_int_equal(w.off, varint_len(v));
			rd_init(&r, buf, w.off);
			assert_true(rd_varint(&r) == v);
			assert_false(r.bad);
			assert_int_equal(rd_left(&r), 0);
		}
	}
}

static void
test_wire_be_helpers(void **state)
{
	uint8_t b[8];

	(void)state;
	be32_put(b, 0xdeadbeef);
	assert_int_equal(b[0], 0xde);
	assert_int_equal(b[3], 0xef);
	assert_int_equal(be32_get(b), 0xdeadbeef);
	be64_put(b, 0x0102030405060708ull);
	assert_int_equal(b[0], 0x01);
	assert_int_equal(b[7], 0x08);
	assert_int_equal(be32_get(b + 4), 0x05060708);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wire_rd_reads_big_endian),
	    cmocka_unit_test(test_wire_rd_take_returns_pointer_into_input),
	    cmocka_unit_test(test_wire_rd_overrun_sets_bad),
	    cmocka_unit_test(test_wire_rd_bad_is_sticky),
	    cmocka_unit_test(test_wire_rd_empty_input),
	    cmocka_unit_test(test_wire_varint_decodes_vectors),
	    cmocka_unit_test(test_wire_varint_encodes_vectors),
	    cmocka_unit_test(test_wire_varint_leaves_following_bytes),
	    cmocka_unit_test(test_wire_varint_accepts_non_minimal),
	    cmocka_unit_test(test_wire_varint_rejects_tenth_byte_above_one),
	    cmocka_unit_test(test_wire_varint_rejects_eleven_bytes),
	    cmocka_unit_test(test_wire_varint_rejects_truncated),
	    cmocka_unit_test(test_wire_wr_writes_big_endian),
	    cmocka_unit_test(test_wire_wr_overflow_is_sticky),
	    cmocka_unit_test(test_wire_wr_varint_overflow_writes_nothing),
	    cmocka_unit_test(test_wire_wr_count_mode),
	    cmocka_unit_test(test_wire_wr_count_matches_write),
	    cmocka_unit_test(test_wire_varint_round_trip),
	    cmocka_unit_test(test_wire_be_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
