/* test/unit/test_gotime.c: Go durations and time formats. */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "gotime.h"

#define NS 1LL
#define US (1000 * NS)
#define MS (1000 * US)
#define SEC (1000 * MS)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

/* Go's time_test.go parseDurationTests, plus a few. */
static void
test_gotime_parse_duration_valid(void **state)
{
	static const struct {
		const char *in;
		int64_t want;
	} tc[] = {
	    /* simple */
	    {"0", 0},
	    {"5s", 5 * SEC},
	    {"30s", 30 * SEC},
	    {"1478s", 1478 * SEC},
	    /* sign */
	    {"-5s", -5 * SEC},
	    {"+5s", 5 * SEC},
	    {"-0", 0},
	    {"+0", 0},
	    /* decimal */
	    {"5.0s", 5 * SEC},
	    {"5.6s", 5 * SEC + 600 * MS},
	    {"5.s", 5 * SEC},
	    {".5s", 500 * MS},
	    {"1.0s", 1 * SEC},
	    {"1.00s", 1 * SEC},
	    {"1.004s", 1 * SEC + 4 * MS},
	    {"1.0040s", 1 * SEC + 4 * MS},
	    {"100.00100s", 100 * SEC + 1 * MS},
	    /* units */
	    {"10ns", 10 * NS},
	    {"11us", 11 * US},
	    {"12\xc2\xb5s", 12 * US}, /* U+00B5 */
	    {"12\xce\xbcs", 12 * US}, /* U+03BC */
	    {"13ms", 13 * MS},
	    {"14s", 14 * SEC},
	    {"15m", 15 * MIN},
	    {"16h", 16 * HOUR},
	    /* composite */
	    {"3h30m", 3 * HOUR + 30 * MIN},
	    {"10.5s4m", 4 * MIN + 10 * SEC + 500 * MS},
	    {"-2m3.4s", -(2 * MIN + 3 * SEC + 400 * MS)},
	    {"1h2m3s4ms5us6ns",
	        1 * HOUR + 2 * MIN + 3 * SEC + 4 * MS + 5 * US + 6 * NS},
	    {"39h9m14.425s", 39 * HOUR + 9 * MIN + 14 * SEC + 425 * MS},
	    {"2h45m", 2 * HOUR + 45 * MIN},
	    {"1h30m0.5s", HOUR + 30 * MIN + 500 * MS},
	    {"300ms", 300 * MS},
	    {"-1.5h", -(HOUR + 30 * MIN)},
	    {"8760h", 8760 * HOUR},
	    {"0s", 0},
	    {"0h0m", 0},
	    {"-0.0s", 0},
	    /* large values */
	    {"52763797000ns", 52763797000 * NS},
	    {"0.3333333333333333333h", 20 * MIN},
	    {"9007199254740993ns", (1LL << 53) + 1},
	    {"9223372036854775807ns", INT64_MAX},
	    {"9223372036854775.807us", INT64_MAX},
	    {"9223372036s854ms775us807ns", INT64_MAX},
	    {"-9223372036854775808ns", INT64_MIN},
	    {"-9223372036854775.808us", INT64_MIN},
	    {"-9223372036s854ms775us808ns", INT64_MIN},
	    {"-2562047h47m16.854775808s", INT64_MIN},
	    {"2562047h47m16.854775807s", INT64_MAX},
	    {"0.100000000000000000000h", 6 * MIN},
	    {"0.830103483285477580700h", 49 * MIN + 48 * SEC + 372539827 * NS},
	};
	size_t i;
	int64_t got;

	(void)state;
	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		got = 42;
		if (go_parse_duration(tc[i].in, &got) != 0)
			fail_msg("%s: rejected", tc[i].in);
		if (got != tc[i].want)
			fail_msg("%s: got %lld want %lld", tc[i].in,
			    (long long)got, (long long)tc[i].want);
	}
}

/* Go's parseDurationErrorTests, split into syntax and overflow. */
static void
test_gotime_parse_duration_errors(void **state)
{
	static const struct {
		const char *in;
		int want;
	} tc[] = {
	    {"", VPN_ERR_INVAL},
	    {"3", VPN_ERR_INVAL}, /* missing unit */
	    {"-", VPN_ERR_INVAL},
	    {"+", VPN_ERR_INVAL},
	    {"s", VPN_ERR_INVAL},
	    {".", VPN_ERR_INVAL},
	    {"-.", VPN_ERR_INVAL},
	    {".s", VPN_ERR_INVAL},
	    {"+.s", VPN_ERR_INVAL},
	    {"1d", VPN_ERR_INVAL}, /* unknown unit */
	    {"1.h.", VPN_ERR_INVAL},
	    {"1h1", VPN_ERR_INVAL},
	    {"1h ", VPN_ERR_INVAL},
	    {" 1h", VPN_ERR_INVAL},
	    {"1H", VPN_ERR_INVAL},
	    {"1sec", VPN_ERR_INVAL},
	    {"--1s", VPN_ERR_INVAL},
	    {"1e3s", VPN_ERR_INVAL},
	    {"00", VPN_ERR_INVAL},
	    {"\x85\x85", VPN_ERR_INVAL},
	    {"\xff"
	     "ff",
	        VPN_ERR_INVAL},
	    {"hello \xff"
	     "ff world",
	        VPN_ERR_INVAL},
	    {"\xef\xbf\xbd", VPN_ERR_INVAL},
	    {"1\xc2s", VPN_ERR_INVAL},
	    /* overflow */
	    {"9223372036854775810ns", VPN_ERR_RANGE},
	    {"9223372036854775808ns", VPN_ERR_RANGE},
	    {"-9223372036854775809ns", VPN_ERR_RANGE},
	    {"9223372036854776us", VPN_ERR_RANGE},
	    {"3000000h", VPN_ERR_RANGE},
	    {"9223372036854775807.9223372036854775807h", VPN_ERR_RANGE},
	    {"9223372036854775.808us", VPN_ERR_RANGE},
	    {"9223372036854ms775us808ns", VPN_ERR_RANGE},
	    {"99999999999999999999999s", VPN_ERR_RANGE},
	    {"2562047h47m16.854775808s", VPN_ERR_RANGE},
	    /* Go wraps this sum to 0; we refuse it */
	    {"-9223372036854775808ns9223372036854775808ns", VPN_ERR_RANGE},
	};
	size_t i;
	int64_t got;

	(void)state;
	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		got = 42;
		if (go_parse_duration(tc[i].in, &got) != tc[i].want)
			fail_msg("%s: wrong result", tc[i].in);
		assert_true(got == 42);
	}
}

/* Go's durationTests for Duration.String, plus examples. */
static void
test_gotime_format_duration(void **state)
{
	static const struct {
		int64_t in;
		const char *want;
	} tc[] = {
	    {0, "0s"},
	    {1 * NS, "1ns"},
	    {2 * NS, "2ns"},
	    {999 * NS, "999ns"},
	    {1 * US, "1\xc2\xb5s"},
	    {1100 * NS, "1.1\xc2\xb5s"},
	    {2200 * US, "2.2ms"},
	    {300 * MS, "300ms"},
	    {3300 * MS, "3.3s"},
	    {1500 * MS, "1.5s"},
	    {4 * MIN + 5 * SEC, "4m5s"},
	    {4 * MIN + 5001 * MS, "4m5.001s"},
	    {5 * HOUR + 6 * MIN + 7001 * MS, "5h6m7.001s"},
	    {8 * MIN + 1 * NS, "8m0.000000001s"},
	    {8760 * HOUR, "8760h0m0s"},
	    {HOUR, "1h0m0s"},
	    {-MIN, "-1m0s"},
	    {-1 * NS, "-1ns"},
	    {-1100 * NS, "-1.1\xc2\xb5s"},
	    {INT64_MAX, "2562047h47m16.854775807s"},
	    {INT64_MIN, "-2562047h47m16.854775808s"},
	};
	char buf[GOTIME_DURATION_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		memset(buf, 'X', sizeof(buf));
		go_format_duration(tc[i].in, buf, sizeof(buf));
		assert_string_equal(buf, tc[i].want);
	}
}

static void
test_gotime_format_duration_truncates(void **state)
{
	char buf[4] = "XXX";

	(void)state;
	go_format_duration(8760 * HOUR, buf, sizeof(buf));
	assert_string_equal(buf, "876");
	go_format_duration(8760 * HOUR, buf, 1);
	assert_string_equal(buf, "");
	buf[0] = 'Y';
	go_format_duration(8760 * HOUR, buf, 0); /* writes nothing */
	assert_int_equal(buf[0], 'Y');
}

static void
test_gotime_duration_round_trip(void **state)
{
	static const char *const in[] = {"0s", "1ns", "1.1\xc2\xb5s", "2.2ms",
	    "3.3s", "4m5.001s", "5h6m7.001s", "8m0.000000001s", "8760h0m0s",
	    "2562047h47m16.854775807s", "-2562047h47m16.854775808s"};
	char buf[GOTIME_DURATION_LEN];
	size_t i;
	int64_t d;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_int_equal(go_parse_duration(in[i], &d), 0);
		go_format_duration(d, buf, sizeof(buf));
		assert_string_equal(buf, in[i]);
	}
}

static void
set_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

struct time_case {
	const char *tz;
	int64_t secs;
	const char *time; /* Go %v */
	const char *rfc;  /* RFC 3339; NULL: VPN_ERR_RANGE */
};

static void
check_times(const struct time_case *tc, size_t n)
{
	char buf[GOTIME_TIME_LEN];
	size_t i;

	for (i = 0; i < n; i++) {
		set_tz(tc[i].tz);
		assert_int_equal(
		    go_format_time(tc[i].secs, buf, sizeof(buf)), 0);
		assert_string_equal(buf, tc[i].time);
		if (tc[i].rfc == NULL) {
			assert_int_equal(
			    go_format_rfc3339(tc[i].secs, buf, sizeof(buf)),
			    VPN_ERR_RANGE);
			continue;
		}
		assert_int_equal(
		    go_format_rfc3339(tc[i].secs, buf, sizeof(buf)), 0);
		assert_string_equal(buf, tc[i].rfc);
	}
}

static void
test_gotime_format_utc(void **state)
{
	static const struct time_case tc[] = {
	    {"UTC", 1795323946, "2026-11-22 05:05:46 +0000 UTC",
	        "2026-11-22T05:05:46Z"},
	    {"UTC", 0, "1970-01-01 00:00:00 +0000 UTC", "1970-01-01T00:00:00Z"},
	    {"UTC", -1, "1969-12-31 23:59:59 +0000 UTC",
	        "1969-12-31T23:59:59Z"},
	    {"UTC", 2147483648LL, "2038-01-19 03:14:08 +0000 UTC",
	        "2038-01-19T03:14:08Z"},
	    {"", 1795323946, "2026-11-22 05:05:46 +0000 UTC",
	        "2026-11-22T05:05:46Z"},
	    /* the ends of RFC 3339's (and json.Marshal's) years */
	    {"UTC", 253402300799LL, "9999-12-31 23:59:59 +0000 UTC",
	        "9999-12-31T23:59:59Z"},
	    {"UTC", 253402300800LL, "10000-01-01 00:00:00 +0000 UTC", NULL},
	    {"UTC", -62167219200LL, "0000-01-01 00:00:00 +0000 UTC",
	        "0000-01-01T00:00:00Z"},
	    {"UTC", -62167219201LL, "-0001-12-31 23:59:59 +0000 UTC", NULL},
	};

	(void)state;
	check_times(tc, sizeof(tc) / sizeof(tc[0]));
}

/* Zoneinfo names, which Go and glibc both understand. */
static void
test_gotime_format_zones(void **state)
{
	static const struct time_case tc[] = {
	    {"Europe/Berlin", 1795323946, "2026-11-22 06:05:46 +0100 CET",
	        "2026-11-22T06:05:46+01:00"},
	    {"Europe/Berlin", 1782000000, "2026-06-21 02:00:00 +0200 CEST",
	        "2026-06-21T02:00:00+02:00"},
	    {"America/New_York", 1795323946, "2026-11-22 00:05:46 -0500 EST",
	        "2026-11-22T00:05:46-05:00"},
	    {"America/New_York", 1782000000, "2026-06-20 20:00:00 -0400 EDT",
	        "2026-06-20T20:00:00-04:00"},
	    {"Asia/Kolkata", 1795323946, "2026-11-22 10:35:46 +0530 IST",
	        "2026-11-22T10:35:46+05:30"},
	    /* local mean time: offsets with seconds are truncated */
	    {"Europe/Berlin", -3000000000LL, "1874-12-07 19:33:28 +0053 LMT",
	        "1874-12-07T19:33:28+00:53"},
	    {"America/New_York", -3000000000LL, "1874-12-07 13:43:58 -0456 LMT",
	        "1874-12-07T13:43:58-04:56"},
	};

	(void)state;
	check_times(tc, sizeof(tc) / sizeof(tc[0]));
}

static void
test_gotime_format_range(void **state)
{
	char buf[GOTIME_TIME_LEN];

	(void)state;
	set_tz("UTC");
	/* tm_year (an int) cannot hold these */
	assert_int_equal(
	    go_format_time(INT64_MAX, buf, sizeof(buf)), VPN_ERR_RANGE);
	assert_int_equal(
	    go_format_time(INT64_MIN, buf, sizeof(buf)), VPN_ERR_RANGE);
	assert_int_equal(
	    go_format_rfc3339(INT64_MAX, buf, sizeof(buf)), VPN_ERR_RANGE);
	/* the largest year glibc has still formats, in full */
	assert_int_equal(
	    go_format_time(67768036160140800LL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2147485547-01-01 00:00:00 +0000 UTC");
	assert_int_equal(go_format_time(67768036191676800LL, buf, sizeof(buf)),
	    VPN_ERR_RANGE);
	assert_int_equal(go_format_time(3093527980800LL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "100000-01-01 00:00:00 +0000 UTC");
	assert_int_equal(go_format_rfc3339(3093527980800LL, buf, sizeof(buf)),
	    VPN_ERR_RANGE);
}

static void
test_gotime_format_short_buffer(void **state)
{
	char buf[30];

	(void)state;
	set_tz("UTC");
	/* "2026-11-22 05:05:46 +0000 UTC" is 29 bytes */
	assert_int_equal(go_format_time(1795323946, buf, 29), VPN_ERR_RANGE);
	assert_int_equal(go_format_time(1795323946, buf, 25), VPN_ERR_RANGE);
	assert_int_equal(go_format_time(1795323946, buf, 30), 0);
	assert_int_equal(go_format_rfc3339(1795323946, buf, 20), VPN_ERR_RANGE);
	assert_int_equal(go_format_rfc3339(1795323946, buf, 21), 0);
	assert_string_equal(buf, "2026-11-22T05:05:46Z");
	assert_int_equal(go_format_rfc3339(1795323946, NULL, 0), VPN_ERR_RANGE);
}

/* Time.Format layouts: each element, its neighbours, and what is not
 * an element.  The outputs are Go's for the same layouts and times. */
static void
test_gotime_format_layout(void **state)
{
	static const struct {
		const char *tz;
		int64_t secs;
		long nsec;
		const char *layout, *want;
	} tc[] = {
	    /* Thursday 2026-12-03 16:48:10.005 UTC */
	    {"UTC", 1796316490, 5000000, GO_LAYOUT_RFC3339,
	        "2026-12-03T16:48:10Z"},
	    {"Europe/Paris", 1796316490, 5000000, GO_LAYOUT_RFC3339,
	        "2026-12-03T17:48:10+01:00"},
	    {"America/New_York", 1796316490, 0, GO_LAYOUT_RFC3339,
	        "2026-12-03T11:48:10-05:00"},
	    {"Asia/Kolkata", 1796316490, 0, GO_LAYOUT_RFC3339,
	        "2026-12-03T22:18:10+05:30"},
	    {"UTC", 1796316490, 5000000, "2006-01-02T15:04:05.000Z07:00",
	        "2026-12-03T16:48:10.005Z"},
	    {"UTC", 1796316490, 5000000, "2006-01-02T15:04:05.999999999Z07:00",
	        "2026-12-03T16:48:10.005Z"},
	    {"UTC", 1796316490, 0, "15:04:05.999", "16:48:10"},
	    {"UTC", 1796316490, 123456789, "05.0 05.00000 05,999999 05.9",
	        "10.1 10.12345 10,123456 10.1"},
	    /* more than nine digits: nine */
	    {"UTC", 1796316490, 123456789, ".000000000000", ".123456789"},
	    /* a fraction is one only if no other digit follows */
	    {"UTC", 1796316490, 123456789, "05.0001", "10.0012"},
	    {"UTC", 1796316490, 0, "Jan _2 15:04:05", "Dec  3 16:48:10"},
	    {"UTC", 1796316490, 0, "Mon Monday January 1 01 2 02 06",
	        "Thu Thursday December 12 12 3 03 26"},
	    {"UTC", 1796316490, 0, "__2 002 3 03 4 04 5 05 PM pm",
	        "337 337 4 04 48 48 10 10 PM pm"},
	    {"UTC", 1767229200, 0, "__2|002|_2|3PM|03pm",
	        "  1|001| 1|1AM|01am"},
	    {"UTC", 1767268800, 0, "3 PM", "12 PM"},
	    {"UTC", 1767225600, 0, "03 pm", "12 am"},
	    {"UTC", 1796316490, 0,
	        "MST -0700 -07:00 -07 -070000 -07:00:00 Z0700 Z07:00 Z07 "
	        "Z070000 Z07:00:00",
	        "UTC +0000 +00:00 +00 +000000 +00:00:00 Z Z Z Z Z"},
	    {"Europe/Paris", 1796316490, 0,
	        "MST -0700 -07:00 -07 Z0700 Z07:00 Z07 Z07:00:00",
	        "CET +0100 +01:00 +01 +0100 +01:00 +01 +01:00:00"},
	    /* local mean time: the offset's seconds */
	    {"America/New_York", -3000000000LL, 0, "-07:00:00 Z070000 -0700",
	        "-04:56:02 -045602 -0456"},
	    /* "Jan" and "Mon" before a lowercase letter are text; "_2006"
	     * is '_' and the year */
	    {"UTC", 1796316490, 0, "Janet Mondays Month _2006",
	        "Janet Thursdays Month _2026"},
	    {"UTC", 1796316490, 0, "no elements: xyz!", "no elements: xyz!"},
	    {"UTC", 1796316490, 0, "", ""},
	};
	char buf[128];
	struct tm tm;
	time_t t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		set_tz(tc[i].tz);
		t = (time_t)tc[i].secs;
		assert_non_null(localtime_r(&t, &tm));
		assert_int_equal(go_format_layout(tc[i].layout, &tm,
		                     tc[i].nsec, buf, sizeof(buf)),
		    0);
		if (strcmp(buf, tc[i].want) != 0)
			fail_msg("case %zu: \"%s\": got \"%s\", want \"%s\"", i,
			    tc[i].layout, buf, tc[i].want);
	}
	/* too small a buffer: cut short, and said */
	set_tz("UTC");
	t = 1796316490;
	assert_non_null(localtime_r(&t, &tm));
	assert_int_equal(go_format_layout(GO_LAYOUT_RFC3339, &tm, 0, buf, 11),
	    VPN_ERR_RANGE);
	assert_string_equal(buf, "2026-12-03");
	assert_int_equal(go_format_layout(GO_LAYOUT_RFC3339, &tm, 0, buf, 21),
	    0);
	assert_int_equal(
	    go_format_layout("x", &tm, 0, NULL, 0), VPN_ERR_RANGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gotime_parse_duration_valid),
	    cmocka_unit_test(test_gotime_parse_duration_errors),
	    cmocka_unit_test(test_gotime_format_duration),
	    cmocka_unit_test(test_gotime_format_duration_truncates),
	    cmocka_unit_test(test_gotime_duration_round_trip),
	    cmocka_unit_test(test_gotime_format_utc),
	    cmocka_unit_test(test_gotime_format_zones),
	    cmocka_unit_test(test_gotime_format_range),
	    cmocka_unit_test(test_gotime_format_short_buffer),
	    cmocka_unit_test(test_gotime_format_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
