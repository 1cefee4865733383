/* test/unit/test_log.c: levels, formats, sanitising, rate limits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "err.h"
#include "log.h"

static char *
capture(enum log_level lvl, enum log_format fmt, void (*emit)(void))
{
	char *p = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&p, &len);

	assert_non_null(f);
	log_setup(f, lvl, fmt);
	emit();
	fclose(f);
	log_setup(NULL, LOG_LVL_INFO, LOG_FMT_TEXT);
	return p;
}

static void
emit_all(void)
{
	log_debug("dbg %d", 1);
	log_info("tunnel up peer=%s", "host-a");
	errno = ENOENT;
	log_warn("open %s", "x.yml");
	log_warnx("quote \" and newline \n here");
}

static void
test_log_levels_and_text_format(void **state)
{
	char *out;

	(void)state;
	out = capture(LOG_LVL_INFO, LOG_FMT_TEXT, emit_all);
	assert_null(strstr(out, "dbg"));
	assert_non_null(strstr(out, "level=info msg=\"tunnel up peer=host-a\""));
	assert_non_null(strstr(out, "level=warning msg=\"open x.yml: No such "
	                            "file or directory\""));
	/* A message cannot break out of its line. */
	assert_non_null(strstr(out, "msg=\"quote \\\" and newline \\n here\""));
	assert_int_equal(strchr(out, '\n') != NULL, 1);
	free(out);
	out = capture(LOG_LVL_DEBUG, LOG_FMT_TEXT, emit_all);
	assert_non_null(strstr(out, "level=debug msg=\"dbg 1\""));
	free(out);
	out = capture(LOG_LVL_ERROR, LOG_FMT_TEXT, emit_all);
	assert_string_equal(out, "");
	free(out);
}

static void
test_log_json_format(void **state)
{
	char *out;

	(void)state;
	out = capture(LOG_LVL_INFO, LOG_FMT_JSON, emit_all);
	assert_non_null(strstr(out, "{\"level\":\"info\",\"msg\":\"tunnel up "
	                            "peer=host-a\",\"time\":\""));
	free(out);
}

static void
test_log_parse_names(void **state)
{
	enum log_level l;
	enum log_format f;

	(void)state;
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_LVL_DEBUG);
	assert_int_equal(log_level_parse("warn", &l), 0);
	assert_int_equal(l, LOG_LVL_WARN);
	assert_int_equal(log_level_parse("warning", &l), 0);
	assert_int_equal(log_level_parse("panic", &l), 0);
	assert_int_equal(l, LOG_LVL_PANIC);
	assert_int_equal(log_level_parse("loud", &l), VPN_ERR_INVAL);
	assert_int_equal(log_format_parse("json", &f), 0);
	assert_int_equal(f, LOG_FMT_JSON);
	assert_int_equal(log_format_parse("xml", &f), VPN_ERR_INVAL);
}

static void
test_log_sanitize(void **state)
{
	char out[32];

	(void)state;
	log_sanitize("evil\n\x1b[31mname\xff", 15, out, sizeof(out));
	assert_string_equal(out, "evil\\n\\u001b[31mname\\ufffd");
	log_sanitize("abcdef", 6, out, 4);
	assert_string_equal(out, "abc");
}

static void
test_log_rate_limit(void **state)
{
	struct log_limit l = {0, 0, 0};
	int i, allowed = 0;

	(void)state;
	for (i = 0; i < 10; i++)
		allowed += log_limit_allow(&l, 1000, 1.0, 3.0);
	assert_int_equal(allowed, 3);
	assert_int_equal(l.suppressed, 7);
	assert_true(log_limit_allow(&l, 1001, 1.0, 3.0));
	assert_false(log_limit_allow(&l, 1001, 1.0, 3.0));
	for (i = 0, allowed = 0; i < 10; i++)
		allowed += log_limit_allow(&l, 2000, 1.0, 3.0);
	assert_int_equal(allowed, 3); /* refilled only up to the burst */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log_levels_and_text_format),
	    cmocka_unit_test(test_log_json_format),
	    cmocka_unit_test(test_log_parse_names),
	    cmocka_unit_test(test_log_sanitize),
	    cmocka_unit_test(test_log_rate_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
