/* test/unit/test_sbuf.c: the text buffer and Go's JSON string escaping. */
#include <stdlib.h>
#include <string.h>

/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "sbuf.h"

static void
test_sbuf_grows(void **state)
{
	struct sbuf b;
	int i;

	(void)state;
	sbuf_init(&b);
	for (i = 0; i < 1000; i++)
		sbuf_printf(&b, "%04d,", i);
	assert_true(sbuf_ok(&b));
	assert_int_equal(b.len, 5000);
	assert_int_equal(strlen(b.s), 5000);
	assert_memory_equal(b.s + 4995, "0999,", 5);
	sbuf_free(&b);
	assert_null(b.s);
}

/* Go 1.19 encoding/json: HTML-safe, \u00XX for other controls, U+FFFD for
 * invalid UTF-8, U+2028/2029 escaped, DEL passed through. */
static void
test_sbuf_json_escaping_matches_go(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} v[] = {
	    {"plain", 5, "\"plain\""},
	    {"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
	    {"\n\r\t\b\f", 5, "\"\\n\\r\\t\\u0008\\u000c\""},
	    {"<a&b>", 5, "\"\\u003ca\\u0026b\\u003e\""},
	    {"\x00\x1f\x7f", 3, "\"\\u0000\\u001f\x7f\""},
	    {"\xc3\xa9t\xc3\xa9", 5, "\"\xc3\xa9t\xc3\xa9\""},
	    {"\xff", 1, "\"\\ufffd\""},
	    {"\xc0\xaf", 2, "\"\\ufffd\\ufffd\""}, /* overlong */
	    {"\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""}, /* surrogate */
	    {"\xe2\x80\xa8\xe2\x80\xa9", 6, "\"\\u2028\\u2029\""},
	    {"\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\""},
	    {"\xe2\x82", 2, "\"\\ufffd\\ufffd\""}, /* truncated */
	};
	struct sbuf b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sbuf_init(&b);
		sbuf_json_str(&b, v[i].in, v[i].len);
		assert_true(sbuf_ok(&b));
		assert_string_equal(b.s, v[i].want);
		sbuf_free(&b);
	}
}

/* Go's %q (strconv.Quote), as logrus's text format quotes a value. */
static void
test_sbuf_go_quote_matches_go(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} v[] = {
	    {"plain text", 10, "\"plain text\""},
	    {"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
	    {"\a\b\f\n\r\t\v", 7, "\"\\a\\b\\f\\n\\r\\t\\v\""},
	    {"\0\x1b\x7f", 3, "\"\\x00\\x1b\\x7f\""},
	    {"<&>", 3, "\"<&>\""}, /* not HTML-escaped, unlike JSON */
	    {"\xff", 1, "\"\\xff\""},
	    {"\xe2\x82", 2, "\"\\xe2\\x82\""}, /* truncated */
	    {"\xed\xa0\x80", 3, "\"\\xed\\xa0\\x80\""}, /* surrogate */
	    {"caf\xc3\xa9", 5, "\"caf\xc3\xa9\""},
	    {"\xc2\xa0", 2, "\"\\u00a0\""}, /* no-break space */
	    {"\xc2\x85", 2, "\"\\u0085\""}, /* C1 control */
	    {"\xe2\x80\xa8", 3, "\"\\u2028\""},
	    {"\xef\xbb\xbf", 3, "\"\\ufeff\""},
	    {"\xee\x80\x80", 3, "\"\\ue000\""}, /* private use */
	    {"\xf3\xb0\x80\x80", 4, "\"\\U000f0000\""},
	    {"\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\""},
	    {"", 0, "\"\""},
	};
	struct sbuf b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sbuf_init(&b);
		sbuf_go_quote(&b, v[i].in, v[i].len);
		assert_true(sbuf_ok(&b));
		assert_string_equal(b.s, v[i].want);
		sbuf_free(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sbuf_grows),
	    cmocka_unit_test(test_sbuf_json_escaping_matches_go),
	    cmocka_unit_test(test_sbuf_go_quote_matches_go),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
