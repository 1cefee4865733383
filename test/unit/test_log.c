/* test/unit/test_log.c: levels, formats, timestamps, sanitising, rate
 * limits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	assert_int_equal(log_setup_time(false, NULL), 0);
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
emit_one(void)
{
	log_info("one");
}

static void
set_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

/* Does s start with pat, where 'd' stands for any digit and every other
 * byte for itself? */
static bool
time_like(const char *s, const char *pat)
{
	for (; *pat != '\0'; s++, pat++)
		if (*pat == 'd' ? !(*s >= '0' && *s <= '9') : *s != *pat)
			return false;
	return true;
}

/* One line's time= value (text) or "time" value (JSON), with the quotes
 * if any; the caller frees it. */
static char *
time_of(const char *line)
{
	const char *p = strstr(line, "time=");
	size_t n;

	if (p != NULL) {
		p += 5;
		n = *p == '"' ? strcspn(p + 1, "\"") + 2 : strcspn(p, " ");
	} else {
		p = strstr(line, "\"time\":");
		assert_non_null(p);
		p += 7;
		n = strcspn(p + 1, "\"") + 2;
	}
	return strndup(p, n);
}

/* By default, RFC 3339 to the second, as logrus writes time.RFC3339: "Z"
 * in UTC, the offset elsewhere; quoted in text (there are colons). */
static void
test_log_time_rfc3339(void **state)
{
	char *out, *t;

	(void)state;
	set_tz("UTC");
	out = capture(LOG_LVL_INFO, LOG_FMT_TEXT, emit_one);
	t = time_of(out);
	assert_true(time_like(t, "\"dddd-dd-ddTdd:dd:ddZ\""));
	assert_int_equal(strlen(t), 22);
	assert_non_null(strstr(out, "Z\" level=info msg=\"one\"\n"));
	assert_int_equal(strncmp(out, "time=\"", 6), 0);
	free(t);
	free(out);
	set_tz("Asia/Kolkata"); /* +05:30 all year */
	out = capture(LOG_LVL_INFO, LOG_FMT_TEXT, emit_one);
	t = time_of(out);
	assert_true(time_like(t, "\"dddd-dd-ddTdd:dd:dd+05:30\""));
	assert_int_equal(strlen(t), 27);
	free(t);
	free(out);
	set_tz("America/Argentina/Buenos_Aires"); /* -03:00 all year */
	out = capture(LOG_LVL_INFO, LOG_FMT_JSON, emit_one);
	t = time_of(out);
	assert_true(time_like(t, "\"dddd-dd-ddTdd:dd:dd-03:00\""));
	assert_int_equal(strlen(t), 27);
	assert_true(time_like(out, "{\"level\":\"info\",\"msg\":\"one\","
	                           "\"time\":\"dddd-dd-ddTdd:dd:dd-03:00\"}\n"));
	assert_int_equal(strlen(out), 64);
	free(t);
	free(out);
	set_tz("UTC");
}

/* logging.disable_timestamp: no time= field, no "time" key. */
static void
test_log_time_disabled(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(log_setup_time(true, NULL), 0);
	out = capture(LOG_LVL_INFO, LOG_FMT_TEXT, emit_one);
	assert_string_equal(out, "level=info msg=\"one\"\n");
	free(out);
	assert_int_equal(log_setup_time(true, "15:04"), 0);
	out = capture(LOG_LVL_INFO, LOG_FMT_JSON, emit_one);
	assert_string_equal(out, "{\"level\":\"info\",\"msg\":\"one\"}\n");
	free(out);
	/* capture() put the default back */
	out = capture(LOG_LVL_INFO, LOG_FMT_TEXT, emit_one);
	assert_int_equal(strncmp(out, "time=\"", 6), 0);
	free(out);
}

/* logging.timestamp_format: Go layouts; a value of only letters, digits
 * and -._/@^+ is not quoted in text, as logrus writes it. */
static void
test_log_time_layouts(void **state)
{
	static const struct {
		const char *layout;
		enum log_format fmt;
		const char *want; /* the time field, as time_like() */
	} tc[] = {
	    {"2006-01-02T15:04:05.000Z07:00", LOG_FMT_TEXT,
	        "\"dddd-dd-ddTdd:dd:dd.dddZ\""},
	    {"2006-01-02T15:04:05.000000Z07:00", LOG_FMT_JSON,
	        "\"dddd-dd-ddTdd:dd:dd.ddddddZ\""},
	    {"20060102150405", LOG_FMT_TEXT, "dddddddddddddd"},
	    {"2006-01-02", LOG_FMT_TEXT, "dddd-dd-dd"},
	    {"2006-01-02", LOG_FMT_JSON, "\"dddd-dd-dd\""},
	    {"15:04:05,000", LOG_FMT_TEXT, "\"dd:dd:dd,ddd\""},
	    {"2006/01/02 15h04", LOG_FMT_TEXT, "\"dddd/dd/dd ddhdd\""},
	    {"unix", LOG_FMT_TEXT, "unix"},
	};
	char *out, *t, want[64], big[LOG_LAYOUT_MAX + 1];
	time_t now;
	struct tm tm;
	size_t i;

	(void)state;
	set_tz("UTC");
	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		assert_int_equal(log_setup_time(false, tc[i].layout), 0);
		out = capture(LOG_LVL_INFO, tc[i].fmt, emit_one);
		t = time_of(out);
		if (!time_like(t, tc[i].want) ||
		    strlen(t) != strlen(tc[i].want))
			fail_msg("%s: got %s", tc[i].layout, out);
		free(t);
		free(out);
	}
	/* names, and the day padded with a space: today as strftime says */
	assert_int_equal(log_setup_time(false, "Jan _2"), 0);
	now = time(NULL);
	assert_non_null(gmtime_r(&now, &tm));
	strftime(want, sizeof(want), "time=\"%b %e\" level=", &tm);
	out = capture(LOG_LVL_INFO, LOG_FMT_TEXT, emit_one);
	assert_int_equal(strncmp(out, want, strlen(want)), 0);
	free(out);
	/* too long a layout changes nothing */
	assert_int_equal(log_setup_time(true, "15:04"), 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(log_setup_time(false, big), VPN_ERR_RANGE);
	out = capture(LOG_LVL_INFO, LOG_FMT_TEXT, emit_one);
	assert_string_equal(out, "level=info msg=\"one\"\n");
	free(out);
	big[sizeof(big) - 2] = '\0'; /* LOG_LAYOUT_MAX - 1 bytes: fits */
	assert_int_equal(log_setup_time(false, big), 0);
	out = capture(LOG_LVL_INFO, LOG_FMT_TEXT, emit_one);
	assert_int_equal(strncmp(out, "time=", 5), 0);
	assert_int_equal(strncmp(out + 5, big, strlen(big)), 0);
	assert_int_equal(out[5 + strlen(big)], ' ');
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
	assert_int_equal(log_format_parse("JSON", &f), 0); /* as Nebula */
	assert_int_equal(f, LOG_FMT_JSON);
	assert_int_equal(log_format_parse("Text", &f), 0);
	assert_int_equal(f, LOG_FMT_TEXT);
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

/* A reload changes the level and format, not where the log goes. */
static void
emit_then_set(void)
{
	log_info("before");
	log_set(LOG_LVL_WARN, LOG_FMT_JSON);
	log_info("dropped");
	log_warnx("after");
}

static void
test_log_set_keeps_stream(void **state)
{
	char *out;

	(void)state;
	out = capture(LOG_LVL_INFO, LOG_FMT_TEXT, emit_then_set);
	assert_non_null(strstr(out, "level=info msg=\"before\""));
	assert_null(strstr(out, "dropped"));
	assert_non_null(strstr(out, "\"msg\":\"after\""));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log_levels_and_text_format),
	    cmocka_unit_test(test_log_json_format),
	    cmocka_unit_test(test_log_time_rfc3339),
	    cmocka_unit_test(test_log_time_disabled),
	    cmocka_unit_test(test_log_time_layouts),
	    cmocka_unit_test(test_log_parse_names),
	    cmocka_unit_test(test_log_sanitize),
	    cmocka_unit_test(test_log_rate_limit),
	    cmocka_unit_test(test_log_set_keeps_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
