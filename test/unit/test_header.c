/* test/unit/test_header.c: the 16-byte packet header (wire.md 2). */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "header.h"

#include "../fixtures/capture/vectors.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The real headers quoted in wire.md 2. */
static void
test_header_parse_spec_examples(void **state)
{
	static const struct {
		const char *hex;
		uint8_t type, subtype;
		uint32_t index;
		uint64_t counter;
		const char *tname, *sname;
	} v[] = {
	    {"10000000000000000000000000000001", HDR_HANDSHAKE,
	        HDR_SUB_HANDSHAKE_IXPSK0, 0, 1, "handshake", "ix_psk0"},
	    {"1000000084da86a10000000000000002", HDR_HANDSHAKE, 0, 0x84da86a1,
	        2, "handshake", "ix_psk0"},
	    {"13000000ff33a7940000000000000003", HDR_LIGHTHOUSE, 0, 0xff33a794,
	        3, "lightHouse", "none"},
	    {"1401000084da86a10000000000000003", HDR_TEST, HDR_SUB_TEST_REPLY,
	        0x84da86a1, 3, "test", "testReply"},
	    {"11000000d69a2de80000000000000003", HDR_MESSAGE,
	        HDR_SUB_MESSAGE_NONE, 0xd69a2de8, 3, "message", "none"},
	    {"11010000ff86e6290000000000000008", HDR_MESSAGE,
	        HDR_SUB_MESSAGE_RELAY, 0xff86e629, 8, "message", "relay"},
	    {"12000000d69a2de80000000000000000", HDR_RECV_ERROR, 0, 0xd69a2de8,
	        0, "recvError", "none"},
	};
	uint8_t b[HEADER_LEN], out[HEADER_LEN];
	struct header h;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(v); i++) {
		tu_unhex(v[i].hex, b, sizeof(b));
		assert_int_equal(header_parse(&h, b, sizeof(b)), 0);
		assert_int_equal(h.version, 1);
		assert_int_equal(h.type, v[i].type);
		assert_int_equal(h.subtype, v[i].subtype);
		assert_int_equal(h.reserved, 0);
		assert_int_equal(h.remote_index, v[i].index);
		assert_int_equal(h.counter, v[i].counter);
		assert_string_equal(header_type_name(h.type), v[i].tname);
		assert_string_equal(
		    header_subtype_name(h.type, h.subtype), v[i].sname);
		header_encode(
		    out, h.type, h.subtype, h.remote_index, h.counter);
		assert_memory_equal(out, b, sizeof(b));
	}
}

/* Every captured datagram: parse agrees with decrypted.json, and encoding
 * the parsed fields gives the bytes back.  Shorter than 16 (the punches)
 * is VPN_ERR_TRUNCATED. */
static void
test_header_parse_every_captured_packet(void **state)
{
	uint8_t out[HEADER_LEN];
	struct header h;
	size_t i, parsed = 0, punches = 0;

	(void)state;
	for (i = 0; i < CAP_NPKTS; i++) {
		const struct cap_pkt *p = &cap_pkts[i];

		if (p->kind == CAP_PUNCH) {
			assert_int_equal(header_parse(&h, p->data, p->len),
			    VPN_ERR_TRUNCATED);
			punches++;
			continue;
		}
		assert_int_equal(header_parse(&h, p->data, p->len), 0);
		assert_int_equal(h.version, p->version);
		assert_int_equal(h.type, p->type);
		assert_int_equal(h.subtype, p->subtype);
		assert_int_equal(h.reserved, p->reserved);
		assert_int_equal(h.remote_index, p->remote_index);
		assert_int_equal(h.counter, p->counter);
		header_encode(
		    out, h.type, h.subtype, h.remote_index, h.counter);
		assert_memory_equal(out, p->data, HEADER_LEN);
		parsed++;
	}
	assert_true(parsed > 150);
	assert_true(punches > 30);
}

static void
test_header_parse_rejects_short(void **state)
{
	uint8_t b[HEADER_LEN];
	struct header h;
	size_t len;

	(void)state;
	memset(b, 0x11, sizeof(b));
	for (len = 0; len < HEADER_LEN; len++) {
		memset(&h, 0xff, sizeof(h));
		assert_int_equal(header_parse(&h, b, len), VPN_ERR_TRUNCATED);
		assert_int_equal(h.type, 0);
		assert_int_equal(h.counter, 0);
	}
	assert_int_equal(header_parse(&h, NULL, 0), VPN_ERR_TRUNCATED);
	assert_int_equal(header_parse(&h, b, HEADER_LEN), 0);
}

/* As Nebula: the version nibble is reported, never checked; types 7-15 and
 * unknown subtypes parse, for the caller to drop; reserved is read. */
static void
test_header_parse_checks_no_version_or_type(void **state)
{
	uint8_t b[HEADER_LEN + 4];
	struct header h;

	(void)state;
	memset(b, 0, sizeof(b));
	b[0] = 0x2f; /* version 2, type 15 */
	b[1] = 0xfe;
	b[2] = 0xab;
	b[3] = 0xcd;
	assert_int_equal(header_parse(&h, b, sizeof(b)), 0);
	assert_int_equal(h.version, 2);
	assert_int_equal(h.type, 15);
	assert_int_equal(h.subtype, 0xfe);
	assert_int_equal(h.reserved, 0xabcd);
	assert_string_equal(header_type_name(h.type), "unknown");
	assert_string_equal(header_type_name(7), "unknown");
	assert_string_equal(header_subtype_name(h.type, h.subtype), "unknown");
	b[0] = 0x00; /* version 0 */
	assert_int_equal(header_parse(&h, b, sizeof(b)), 0);
	assert_int_equal(h.version, 0);
	assert_int_equal(h.type, HDR_HANDSHAKE);
}

static void
test_header_encode_extremes(void **state)
{
	static const uint8_t want[HEADER_LEN] = {0x16, 0x00, 0, 0, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t out[HEADER_LEN];
	struct header h;

	(void)state;
	header_encode(out, HDR_CONTROL, 0, UINT32_MAX, UINT64_MAX);
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(header_parse(&h, out, sizeof(out)), 0);
	assert_int_equal(h.remote_index, UINT32_MAX);
	assert_int_equal(h.counter, UINT64_MAX);
	/* type is a nibble: the version is always written as 1 */
	header_encode(out, 0xf3, 1, 0x01020304, 0x0a0b0c0d0e0f1011ull);
	assert_int_equal(out[0], 0x13);
	assert_int_equal(out[1], 1);
	assert_int_equal(out[4], 1);
	assert_int_equal(out[7], 4);
	assert_int_equal(out[8], 0x0a);
	assert_int_equal(out[15], 0x11);
}

static void
test_header_names(void **state)
{
	static const char *const types[] = {"handshake", "message", "recvError",
	    "lightHouse", "test", "closeTunnel", "control"};
	uint8_t t;

	(void)state;
	for (t = 0; t < NELEM(types); t++)
		assert_string_equal(header_type_name(t), types[t]);
	assert_string_equal(header_subtype_name(HDR_HANDSHAKE, 1), "unknown");
	assert_string_equal(header_subtype_name(HDR_MESSAGE, 2), "unknown");
	assert_string_equal(header_subtype_name(HDR_TEST, 0), "testRequest");
	assert_string_equal(header_subtype_name(HDR_TEST, 2), "unknown");
	assert_string_equal(header_subtype_name(HDR_CLOSE_TUNNEL, 0), "none");
	assert_string_equal(header_subtype_name(HDR_CONTROL, 1), "unknown");
	assert_string_equal(header_subtype_name(9, 0), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_parse_spec_examples),
	    cmocka_unit_test(test_header_parse_every_captured_packet),
	    cmocka_unit_test(test_header_parse_rejects_short),
	    cmocka_unit_test(test_header_parse_checks_no_version_or_type),
	    cmocka_unit_test(test_header_encode_extremes),
	    cmocka_unit_test(test_header_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
