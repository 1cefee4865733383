/* test/unit/test_log.c: levels, formats, timestamps, sanitising, rate
 * limits, lines with fields (against Nebula 1.6.1's own), held lines. */
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
	assert_non_null(strstr(out, "Z\" level=info msg=one\n"));
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
	assert_string_equal(out, "level=info msg=one\n");
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
	assert_string_equal(out, "level=info msg=one\n");
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
	assert_non_null(strstr(out, "level=info msg=before\n"));
	assert_null(strstr(out, "dropped"));
	assert_non_null(strstr(out, "\"msg\":\"after\""));
	free(out);
}

/* --- lines with fields --------------------------------------------- */

#define FP_HOST1 "a0f81f08ee26660f296ad91a8f4eb69fa42115e93cb64a00cf656c8aae39b513"
#define FP_CA "f7b7a48fe5683d3a852f6d93623c4b86893fa271cbeafa377f0b1db6f3176b56"

static const uint8_t LOOPBACK[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255,
    127, 0, 0, 1};

static void
handshake(struct log_ev *ev, unsigned stage)
{
	log_ev_obj(ev, "handshake");
	log_ev_str(ev, "style", "ix_psk0");
	log_ev_u64(ev, "stage", stage);
	log_ev_close(ev);
}

/* The responder's line of a Nebula 1.6.1 handshake, its fields added in
 * no particular order. */
static void
emit_hs_received(void)
{
	struct log_ev ev;

	if (!log_ev_begin(&ev, LOG_LVL_INFO, "Handshake message received"))
		return;
	log_ev_ip4(&ev, "vpnIp", 0x0a010001);
	log_ev_udp(&ev, "udpAddr", LOOPBACK, 4242);
	log_ev_str(&ev, "certName", "host1");
	log_ev_str(&ev, "fingerprint", FP_HOST1);
	log_ev_str(&ev, "issuer", FP_CA);
	log_ev_u64(&ev, "initiatorIndex", 1862015617);
	log_ev_u64(&ev, "responderIndex", 0);
	log_ev_u64(&ev, "remoteIndex", 0);
	handshake(&ev, 1);
	log_ev_end(&ev);
}

/* Byte for byte what Nebula 1.6.1 wrote for that handshake (its time
 * taken out: logging.disable_timestamp). */
static void
test_log_fields_match_nebula(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(log_setup_time(true, NULL), 0);
	out = capture(LOG_LVL_INFO, LOG_FMT_TEXT, emit_hs_received);
	assert_string_equal(out,
	    "level=info msg=\"Handshake message received\" certName=host1 "
	    "fingerprint=" FP_HOST1 " handshake=\"map[stage:1 style:ix_psk0]\" "
	    "initiatorIndex=1862015617 issuer=" FP_CA " remoteIndex=0 "
	    "responderIndex=0 udpAddr=\"127.0.0.1:4242\" vpnIp=10.1.0.1\n");
	free(out);
	assert_int_equal(log_setup_time(true, NULL), 0);
	out = capture(LOG_LVL_INFO, LOG_FMT_JSON, emit_hs_received);
	assert_string_equal(out,
	    "{\"certName\":\"host1\",\"fingerprint\":\"" FP_HOST1 "\","
	    "\"handshake\":{\"stage\":1,\"style\":\"ix_psk0\"},"
	    "\"initiatorIndex\":1862015617,\"issuer\":\"" FP_CA "\","
	    "\"level\":\"info\",\"msg\":\"Handshake message received\","
	    "\"remoteIndex\":0,\"responderIndex\":0,"
	    "\"udpAddr\":{\"ip\":\"127.0.0.1\",\"port\":4242},"
	    "\"vpnIp\":\"10.1.0.1\"}\n");
	free(out);
}

/* Is s `before`, a UTC RFC 3339 time, then `after`? */
static bool
with_time(const char *s, const char *before, const char *after)
{
	size_t n = strlen(before);

	return strncmp(s, before, n) == 0 &&
	       time_like(s + n, "dddd-dd-ddTdd:dd:ddZ") &&
	       strcmp(s + n + 20, after) == 0;
}

static void
emit_hs_sent(void)
{
	struct log_ev ev;

	if (!log_ev_begin(&ev, LOG_LVL_INFO, "Handshake message sent"))
		return;
	log_ev_ip4(&ev, "vpnIp", 0x0a010002);
	log_ev_arr(&ev, "udpAddrs");
	log_ev_udp(&ev, NULL, LOOPBACK, 4243);
	log_ev_close(&ev);
	log_ev_u64(&ev, "initiatorIndex", 4028647302U);
	handshake(&ev, 1);
	log_ev_end(&ev);
}

/* The time sorts among the fields in JSON, comes first in text. */
static void
test_log_fields_time_and_arrays(void **state)
{
	char *out;

	(void)state;
	set_tz("UTC");
	out = capture(LOG_LVL_INFO, LOG_FMT_JSON, emit_hs_sent);
	assert_true(with_time(out,
	    "{\"handshake\":{\"stage\":1,\"style\":\"ix_psk0\"},"
	    "\"initiatorIndex\":4028647302,\"level\":\"info\","
	    "\"msg\":\"Handshake message sent\",\"time\":\"",
	    "\",\"udpAddrs\":[{\"ip\":\"127.0.0.1\",\"port\":4243}],"
	    "\"vpnIp\":\"10.1.0.2\"}\n"));
	free(out);
	out = capture(LOG_LVL_INFO, LOG_FMT_TEXT, emit_hs_sent);
	assert_true(with_time(out, "time=\"",
	    "\" level=info msg=\"Handshake message sent\" "
	    "handshake=\"map[stage:1 style:ix_psk0]\" "
	    "initiatorIndex=4028647302 udpAddrs=\"[127.0.0.1:4243]\" "
	    "vpnIp=10.1.0.2\n"));
	free(out);
}

static void
emit_values(void)
{
	static const uint8_t v6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 1};
	struct log_ev ev;

	if (!log_ev_begin(&ev, LOG_LVL_WARN, "Goodbye"))
		return;
	log_ev_str(&ev, "bare", "a-b.c_d/e@f^g+h");
	log_ev_str(&ev, "space", "two words");
	log_ev_str(&ev, "quote", "say \"hi\"\n");
	log_ev_str(&ev, "empty", "");
	log_ev_strn(&ev, "ctl", "\x1b\xff", 2);
	log_ev_i64(&ev, "neg", -42);
	log_ev_u64(&ev, "big", UINT64_MAX);
	log_ev_bool(&ev, "yes", true);
	log_ev_udp(&ev, "v6", v6, 53);
	log_ev_strf(&ev, "network", "%s/%d", "10.1.0.1", 24);
	log_ev_str(&ev, "dup", "first");
	log_ev_str(&ev, "dup", "last");
	log_ev_str(&ev, "msg", "clash");
	log_ev_err(&ev, "certificate has been blocked");
	log_ev_obj(&ev, "outer");
	log_ev_obj(&ev, "z");
	log_ev_u64(&ev, "b", 1);
	log_ev_close(&ev);
	log_ev_str(&ev, "a", "x y");
	log_ev_arr(&ev, "list");
	log_ev_close(&ev);
	log_ev_close(&ev);
	log_ev_end(&ev);
}

/* Quoting as logrus's text format (bare, or Go's %q), values as Go's %v
 * and encoding/json write them; a field named like logrus's own is
 * renamed, a key given twice keeps its last value. */
static void
test_log_fields_values(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(log_setup_time(true, NULL), 0);
	out = capture(LOG_LVL_INFO, LOG_FMT_TEXT, emit_values);
	assert_string_equal(out,
	    "level=warning msg=Goodbye bare=a-b.c_d/e@f^g+h "
	    "big=18446744073709551615 ctl=\"\\x1b\\xff\" dup=last empty= "
	    "error=\"certificate has been blocked\" fields.msg=clash "
	    "neg=-42 network=10.1.0.1/24 "
	    "outer=\"map[a:x y list:[] z:map[b:1]]\" "
	    "quote=\"say \\\"hi\\\"\\n\" space=\"two words\" "
	    "v6=\"[::1]:53\" yes=true\n");
	free(out);
	assert_int_equal(log_setup_time(true, NULL), 0);
	out = capture(LOG_LVL_INFO, LOG_FMT_JSON, emit_values);
	assert_string_equal(out,
	    "{\"bare\":\"a-b.c_d/e@f^g+h\",\"big\":18446744073709551615,"
	    "\"ctl\":\"\\u001b\\ufffd\",\"dup\":\"last\",\"empty\":\"\","
	    "\"error\":\"certificate has been blocked\","
	    "\"fields.msg\":\"clash\",\"level\":\"warning\","
	    "\"msg\":\"Goodbye\",\"neg\":-42,\"network\":\"10.1.0.1/24\","
	    "\"outer\":{\"a\":\"x y\",\"list\":[],\"z\":{\"b\":1}},"
	    "\"quote\":\"say \\\"hi\\\"\\n\",\"space\":\"two words\","
	    "\"v6\":{\"ip\":\"::1\",\"port\":53},\"yes\":true}\n");
	free(out);
}

static void
emit_peer(void)
{
	struct log_ev ev;

	if (!log_ev_begin(&ev, LOG_LVL_INFO, "%s", ""))
		return;
	log_ev_peer(&ev, "certName", "evil\n\x1b[31mname\xff", 15);
	log_ev_end(&ev);
}

/* A peer's string is log_sanitize()d, then quoted like any other; an
 * empty message has no msg= in text (logrus), "msg":"" in JSON. */
static void
test_log_fields_sanitize_peer(void **state)
{
	char want[64], *out;

	(void)state;
	log_sanitize("evil\n\x1b[31mname\xff", 15, want, sizeof(want));
	assert_string_equal(want, "evil\\n\\u001b[31mname\\ufffd");
	assert_int_equal(log_setup_time(true, NULL), 0);
	out = capture(LOG_LVL_INFO, LOG_FMT_TEXT, emit_peer);
	assert_string_equal(out,
	    "level=info certName=\"evil\\\\n\\\\u001b[31mname\\\\ufffd\"\n");
	free(out);
	assert_int_equal(log_setup_time(true, NULL), 0);
	out = capture(LOG_LVL_INFO, LOG_FMT_JSON, emit_peer);
	assert_string_equal(out, "{\"certName\":"
	                         "\"evil\\\\n\\\\u001b[31mname\\\\ufffd\","
	                         "\"level\":\"info\",\"msg\":\"\"}\n");
	free(out);
}

static void
emit_debug_ev(void)
{
	struct log_ev ev;

	assert_false(log_ev_begin(&ev, LOG_LVL_DEBUG, "never %s", "seen"));
	/* nothing formatted, nothing to free: these do nothing */
	log_ev_str(&ev, "k", "v");
	log_ev_obj(&ev, "o");
	log_ev_close(&ev);
	log_ev_end(&ev);
	if (log_ev_begin(&ev, LOG_LVL_INFO, "seen")) {
		log_ev_u64(&ev, "n", 1);
		log_ev_end(&ev);
	}
}

static void
test_log_fields_level_disabled(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(log_setup_time(true, NULL), 0);
	out = capture(LOG_LVL_INFO, LOG_FMT_TEXT, emit_debug_ev);
	assert_string_equal(out, "level=info msg=seen n=1\n");
	free(out);
}

static void
emit_many(void)
{
	struct log_ev ev;
	char k[16];
	int i;

	if (!log_ev_begin(&ev, LOG_LVL_INFO, "many"))
		return;
	for (i = 0; i < LOG_EV_FIELDS - 1; i++) {
		snprintf(k, sizeof(k), "k%02d", i);
		log_ev_u64(&ev, k, (uint64_t)i);
	}
	log_ev_obj(&ev, "last"); /* the last that fits: empty */
	log_ev_obj(&ev, "lost"); /* no room: dropped, with what is in it */
	log_ev_u64(&ev, "in", 1);
	log_ev_close(&ev);
	log_ev_close(&ev);
	log_ev_u64(&ev, "after", 2);
	log_ev_end(&ev);
}

/* More fields than fit: the extra ones are dropped, the line stands. */
static void
test_log_fields_too_many(void **state)
{
	char want[64], *out;

	(void)state;
	assert_int_equal(log_setup_time(true, NULL), 0);
	out = capture(LOG_LVL_INFO, LOG_FMT_JSON, emit_many);
	snprintf(want, sizeof(want), "\"k%02d\":%d,\"last\":{},\"level\"",
	    LOG_EV_FIELDS - 2, LOG_EV_FIELDS - 2);
	assert_non_null(strstr(out, want));
	assert_null(strstr(out, "lost"));
	assert_null(strstr(out, "\"in\""));
	assert_null(strstr(out, "after"));
	assert_non_null(strstr(out, "\"msg\":\"many\"}\n"));
	free(out);
}

/* A configuration's warnings, said before its log settings are known,
 * come out in its format and at its level. */
static void
emit_held(void)
{
	struct log_ev ev;

	log_hold();
	assert_true(log_enabled(LOG_LVL_DEBUG));
	log_warnx("%s:%d: %s: unknown key", "x.yml", 3, "lisen");
	log_debug("a debug line");
	if (log_ev_begin(&ev, LOG_LVL_WARN, "unknown key")) {
		log_ev_str(&ev, "file", "x.yml");
		log_ev_u64(&ev, "line", 4);
		log_ev_end(&ev);
	}
	log_set(LOG_LVL_INFO, LOG_FMT_JSON);
	assert_int_equal(log_setup_time(true, NULL), 0);
	log_release();
	assert_false(log_enabled(LOG_LVL_DEBUG));
	log_info("after");
}

static void
test_log_hold_release(void **state)
{
	char *out;

	(void)state;
	out = capture(LOG_LVL_DEBUG, LOG_FMT_TEXT, emit_held);
	assert_string_equal(out,
	    "{\"level\":\"warning\",\"msg\":\"x.yml:3: lisen: unknown key\"}\n"
	    "{\"file\":\"x.yml\",\"level\":\"warning\",\"line\":4,"
	    "\"msg\":\"unknown key\"}\n"
	    "{\"level\":\"info\",\"msg\":\"after\"}\n");
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
	    cmocka_unit_test(test_log_fields_match_nebula),
	    cmocka_unit_test(test_log_fields_time_and_arrays),
	    cmocka_unit_test(test_log_fields_values),
	    cmocka_unit_test(test_log_fields_sanitize_peer),
	    cmocka_unit_test(test_log_fields_level_disabled),
	    cmocka_unit_test(test_log_fields_too_many),
	    cmocka_unit_test(test_log_hold_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
