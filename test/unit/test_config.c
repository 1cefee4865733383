/* test/unit/test_config.c: YAML config loading, merging and getters. */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "err.h"

#define FIX "fixtures/config/"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MS 1000000LL
#define SEC (1000 * MS)

static struct config *
load(const char *yaml)
{
	struct config *cfg = NULL;
	struct config_err err;
	int r;

	r = config_load_string(yaml, strlen(yaml), "t.yml", &cfg, &err);
	if (r != 0)
		fail_msg("load failed: %s:%d: %s: %s", err.file, err.line,
		    err.key, err.msg);
	assert_non_null(cfg);
	return cfg;
}

/* Loading YAML must fail with CODE; returns the error. */
static struct config_err
load_fails(const char *yaml, size_t len, int code)
{
	struct config *cfg = NULL;
	struct config_err err;

	assert_int_equal(
	    config_load_string(yaml, len, "bad.yml", &cfg, &err), code);
	assert_null(cfg);
	assert_string_equal(err.file, "bad.yml");
	return err;
}

static void
assert_err(
    const struct config_err *err, const char *key, int line, const char *msg)
{
	assert_string_equal(err->key, key);
	assert_int_equal(err->line, line);
	assert_string_equal(err->msg, msg);
}

static char *
fixture_abs(const char *rel)
{
	char *p = realpath(rel, NULL);

	assert_non_null(p);
	return p;
}

/* --- the real Nebula 1.6.1 configs ---------------------------------- */

static void
test_config_nebula_lighthouse(void **state)
{
	struct config *cfg = NULL;
	struct config_err err;
	const struct config_node *shm, *v, *rule;
	const char *s, **list;
	char *abs;
	int64_t i;
	bool b;
	size_t n;

	(void)state;
	assert_int_equal(
	    config_load(FIX "nebula-lighthouse.yml", &cfg, &err), 0);
	abs = fixture_abs(FIX "nebula-lighthouse.yml");
	assert_int_equal(config_nfiles(cfg), 1);
	assert_string_equal(config_file(cfg, 0), abs);

	assert_int_equal(config_str(cfg, "pki.ca", NULL, &s, &err), 0);
	assert_string_equal(s, "../../certs/ca.crt");
	assert_int_equal(config_str(cfg, "pki.key", NULL, &s, &err), 0);
	assert_string_equal(s, "../../certs/lighthouse.key");
	assert_int_equal(
	    config_int(cfg, "listen.port", 0, 0, 65535, &i, &err), 0);
	assert_int_equal(i, 4242);
	assert_int_equal(config_str(cfg, "listen.host", NULL, &s, &err), 0);
	assert_string_equal(s, "0.0.0.0");
	assert_int_equal(
	    config_bool(cfg, "lighthouse.am_lighthouse", false, &b, &err), 0);
	assert_true(b);
	assert_int_equal(
	    config_int(cfg, "lighthouse.interval", 10, 0, INT32_MAX, &i, &err),
	    0);
	assert_int_equal(i, 60);
	assert_int_equal(
	    config_str_list(cfg, "lighthouse.hosts", &list, &n, &err), 0);
	assert_null(list);
	assert_int_equal(n, 0);
	assert_int_equal(config_str(cfg, "cipher", "aes", &s, &err), 0);
	assert_string_equal(s, "aes");
	assert_int_equal(
	    config_int(cfg, "tun.mtu", 1300, 0, 65535, &i, &err), 0);
	assert_int_equal(i, 1300);
	assert_int_equal(config_str(cfg, "logging.level", "info", &s, &err), 0);
	assert_string_equal(s, "debug");
	assert_int_equal(config_bool(cfg, "punchy.punch", false, &b, &err), 0);
	assert_true(b);

	/* static_host_map: a key with dots, walked one level at a time */
	assert_int_equal(config_map(cfg, "static_host_map", &shm, &err), 0);
	assert_non_null(shm);
	assert_int_equal(config_node_len(shm), 1);
	assert_string_equal(config_node_key(shm, 0), "192.168.100.1");
	v = config_node_get(shm, "192.168.100.1");
	assert_ptr_equal(v, config_node_value(shm, 0));
	assert_null(config_get(cfg, "static_host_map.192.168.100.1"));
	assert_int_equal(
	    config_node_str_list(
	        v, "static_host_map[\"192.168.100.1\"]", &list, &n, &err),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0], "10.99.0.1:4242");
	free(list);
	assert_int_equal(config_node_line(v), 6);
	assert_string_equal(config_node_file(v), abs);

	/* firewall.inbound[0].proto */
	assert_int_equal(config_list(cfg, "firewall.inbound", &v, &err), 0);
	assert_int_equal(config_node_len(v), 1);
	rule = config_node_item(v, 0);
	assert_int_equal(config_node_type(rule), CONFIG_MAP);
	assert_int_equal(config_node_str(config_node_get(rule, "proto"),
	                     "firewall.inbound[0].proto", NULL, &s, &err),
	    0);
	assert_string_equal(s, "any");
	assert_int_equal(config_node_line(config_node_get(rule, "proto")), 30);
	free(abs);
	config_free(cfg);
}

static void
test_config_nebula_hosts(void **state)
{
	static const char *const files[] = {
	    FIX "nebula-host-a.yml", FIX "nebula-host-b.yml"};
	static const char *const certs[] = {
	    "../../certs/host-a.crt", "../../certs/host-b.crt"};
	struct config *cfg;
	struct config_err err;
	const char *s, **list;
	size_t i, n;
	bool b;

	(void)state;
	for (i = 0; i < NELEM(files); i++) {
		assert_int_equal(config_load(files[i], &cfg, &err), 0);
		assert_int_equal(
		    config_str(cfg, "pki.cert", NULL, &s, &err), 0);
		assert_string_equal(s, certs[i]);
		assert_int_equal(config_bool(cfg, "lighthouse.am_lighthouse",
		                     true, &b, &err),
		    0);
		assert_false(b);
		assert_int_equal(
		    config_str_list(cfg, "lighthouse.hosts", &list, &n, &err),
		    0);
		assert_int_equal(n, 1);
		assert_string_equal(list[0], "192.168.100.1");
		free(list);
		assert_int_equal(
		    config_str(cfg, "firewall.outbound", NULL, &s, &err),
		    VPN_ERR_INVAL);
		assert_err(&err, "firewall.outbound", 26,
		    "expected a string, got a list");
		config_free(cfg);
	}
}

/* --- getters ---------------------------------------------------------- */

static const char getters_yaml[] = "# getters\n"                    /* 1 */
                                   "listen:\n"                      /* 2 */
                                   "  port: 4242\n"                 /* 3 */
                                   "  big: 70000\n"                 /* 4 */
                                   "  neg: -1\n"                    /* 5 */
                                   "  word: abc\n"                  /* 6 */
                                   "  frac: 1.5\n"                  /* 7 */
                                   "  hex: 0x10\n"                  /* 8 */
                                   "  quoted: \"4242\"\n"           /* 9 */
                                   "  sci: 1e3\n"                   /* 10 */
                                   "  huge: 18446744073709551615\n" /* 11 */
                                   "  nothing: ~\n"                 /* 12 */
                                   "  list: [1, 2]\n"               /* 13 */
                                   "  map: {a: 1}\n"                /* 14 */
                                   "  empty: ''\n";                 /* 15 */

static void
test_config_int(void **state)
{
	struct config *cfg = load(getters_yaml);
	struct config_err err;
	int64_t v;

	(void)state;
	assert_int_equal(
	    config_int(cfg, "listen.port", 0, 0, 65535, &v, &err), 0);
	assert_int_equal(v, 4242);
	assert_int_equal(
	    config_int(cfg, "listen.hex", 0, 0, 65535, &v, &err), 0);
	assert_int_equal(v, 16);
	assert_int_equal(
	    config_int(cfg, "listen.quoted", 0, 0, 65535, &v, &err), 0);
	assert_int_equal(v, 4242);
	assert_int_equal(
	    config_int(cfg, "listen.sci", 0, 0, 65535, &v, &err), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(config_int(cfg, "listen.neg", 0, -5, 5, &v, &err), 0);
	assert_int_equal(v, -1);

	/* absent and null: the default */
	v = 0;
	assert_int_equal(
	    config_int(cfg, "listen.absent", 53, 0, 65535, &v, &err), 0);
	assert_int_equal(v, 53);
	assert_int_equal(
	    config_int(cfg, "listen.nothing", 54, 0, 65535, &v, &err), 0);
	assert_int_equal(v, 54);
	assert_int_equal(
	    config_int(cfg, "nope.nope", 55, 0, 65535, &v, &err), 0);
	assert_int_equal(v, 55);

	/* errors leave *out alone */
	v = 7;
	assert_int_equal(config_int(cfg, "listen.big", 0, 0, 65535, &v, &err),
	    VPN_ERR_RANGE);
	assert_err(
	    &err, "listen.big", 4, "must be between 0 and 65535, got 70000");
	assert_string_equal(err.file, "t.yml");
	assert_int_equal(v, 7);
	assert_int_equal(config_int(cfg, "listen.neg", 0, 0, 65535, &v, &err),
	    VPN_ERR_RANGE);
	assert_err(
	    &err, "listen.neg", 5, "must be between 0 and 65535, got -1");
	assert_int_equal(config_int(cfg, "listen.word", 0, 0, 65535, &v, &err),
	    VPN_ERR_INVAL);
	assert_err(&err, "listen.word", 6, "expected an integer, got \"abc\"");
	assert_int_equal(config_int(cfg, "listen.frac", 0, 0, 65535, &v, &err),
	    VPN_ERR_INVAL);
	assert_err(&err, "listen.frac", 7, "expected an integer, got \"1.5\"");
	assert_int_equal(
	    config_int(cfg, "listen.huge", 0, 0, INT64_MAX, &v, &err),
	    VPN_ERR_RANGE);
	assert_err(&err, "listen.huge", 11,
	    "must be between 0 and 9223372036854775807, got "
	    "18446744073709551615");
	assert_int_equal(config_int(cfg, "listen.list", 0, 0, 65535, &v, &err),
	    VPN_ERR_INVAL);
	assert_err(&err, "listen.list", 13, "expected an integer, got a list");
	assert_int_equal(config_int(cfg, "listen.map", 0, 0, 65535, &v, &err),
	    VPN_ERR_INVAL);
	assert_err(&err, "listen.map", 14, "expected an integer, got a map");
	assert_int_equal(config_int(cfg, "listen.empty", 0, 0, 65535, &v, &err),
	    VPN_ERR_INVAL);
	assert_err(&err, "listen.empty", 15, "expected an integer, got \"\"");
	assert_int_equal(v, 7);
	config_free(cfg);
}

static void
test_config_str(void **state)
{
	struct config *cfg = load(getters_yaml);
	struct config_err err;
	const char *s;

	(void)state;
	assert_int_equal(config_str(cfg, "listen.word", NULL, &s, &err), 0);
	assert_string_equal(s, "abc");
	/* Go %v of what yaml.v2 decoded */
	assert_int_equal(config_str(cfg, "listen.port", NULL, &s, &err), 0);
	assert_string_equal(s, "4242");
	assert_int_equal(config_str(cfg, "listen.hex", NULL, &s, &err), 0);
	assert_string_equal(s, "16");
	assert_int_equal(config_str(cfg, "listen.sci", NULL, &s, &err), 0);
	assert_string_equal(s, "1000");
	assert_int_equal(config_str(cfg, "listen.empty", "d", &s, &err), 0);
	assert_string_equal(s, "");
	assert_int_equal(config_str(cfg, "listen.nothing", "d", &s, &err), 0);
	assert_string_equal(s, "d");
	assert_int_equal(config_str(cfg, "listen.absent", NULL, &s, &err), 0);
	assert_null(s);
	assert_int_equal(
	    config_str(cfg, "listen.map", NULL, &s, &err), VPN_ERR_INVAL);
	assert_err(&err, "listen.map", 14, "expected a string, got a map");
	assert_int_equal(
	    config_str(cfg, "listen", NULL, &s, &err), VPN_ERR_INVAL);
	assert_err(&err, "listen", 3, "expected a string, got a map");
	config_free(cfg);
}

static void
test_config_bool(void **state)
{
	static const struct {
		const char *yaml;
		bool want;
	} ok[] = {
	    {"v: true", true},
	    {"v: True", true},
	    {"v: TRUE", true},
	    {"v: yes", true},
	    {"v: Yes", true},
	    {"v: y", true},
	    {"v: Y", true},
	    {"v: on", true},
	    {"v: ON", true},
	    {"v: \"t\"", true},
	    {"v: T", true},
	    {"v: \"1\"", true},
	    {"v: 1", true},
	    {"v: yEs", true},
	    {"v: \"TrUe\"", true},
	    {"v: false", false},
	    {"v: False", false},
	    {"v: no", false},
	    {"v: N", false},
	    {"v: off", false},
	    {"v: Off", false},
	    {"v: f", false},
	    {"v: F", false},
	    {"v: 0", false},
	    {"v: \"nO\"", false},
	    {"v: 0x0", false},
	    {"v: 1.0", true},
	};
	static const struct {
		const char *yaml;
		const char *msg;
	} bad[] = {
	    {"v: maybe", "expected a boolean (true/false), got \"maybe\""},
	    {"v: \"on\"", "expected a boolean (true/false), got \"on\""},
	    {"v: 2", "expected a boolean (true/false), got \"2\""},
	    {"v: truefalse",
	        "expected a boolean (true/false), got \"truefalse\""},
	    {"v: []", "expected a boolean (true/false), got a list"},
	};
	struct config *cfg;
	struct config_err err;
	size_t i;
	bool b;

	(void)state;
	for (i = 0; i < NELEM(ok); i++) {
		cfg = load(ok[i].yaml);
		b = !ok[i].want;
		if (config_bool(cfg, "v", !ok[i].want, &b, &err) != 0)
			fail_msg("%s: %s", ok[i].yaml, err.msg);
		if (b != ok[i].want)
			fail_msg("%s: got %d", ok[i].yaml, b);
		config_free(cfg);
	}
	for (i = 0; i < NELEM(bad); i++) {
		cfg = load(bad[i].yaml);
		b = true;
		assert_int_equal(
		    config_bool(cfg, "v", false, &b, &err), VPN_ERR_INVAL);
		assert_err(&err, "v", 1, bad[i].msg);
		assert_true(b);
		config_free(cfg);
	}
	cfg = load("a: ~\n");
	assert_int_equal(config_bool(cfg, "a", true, &b, &err), 0);
	assert_true(b);
	assert_int_equal(config_bool(cfg, "b", false, &b, &err), 0);
	assert_false(b);
	config_free(cfg);
}

static void
test_config_duration(void **state)
{
	struct config *cfg = load("punchy:\n"
	                          "  delay: 500ms\n"
	                          "  two: 2s\n"
	                          "  long: 1h30m\n"
	                          "  zero: 0\n"
	                          "  one: 1\n"
	                          "  frac: 1.5\n"
	                          "  list: [1s]\n"
	                          "  over: 9999999999h\n"
	                          "  quoted: \"300ms\"\n");
	struct config_err err;
	int64_t d;

	(void)state;
	assert_int_equal(
	    config_duration(cfg, "punchy.delay", SEC, &d, &err), 0);
	assert_int_equal(d, 500 * MS);
	assert_int_equal(config_duration(cfg, "punchy.two", SEC, &d, &err), 0);
	assert_int_equal(d, 2 * SEC);
	assert_int_equal(config_duration(cfg, "punchy.long", SEC, &d, &err), 0);
	assert_int_equal(d, 5400 * SEC);
	assert_int_equal(
	    config_duration(cfg, "punchy.quoted", SEC, &d, &err), 0);
	assert_int_equal(d, 300 * MS);
	/* Go's ParseDuration takes "0" without a unit */
	assert_int_equal(config_duration(cfg, "punchy.zero", SEC, &d, &err), 0);
	assert_int_equal(d, 0);
	assert_int_equal(
	    config_duration(cfg, "punchy.absent", SEC, &d, &err), 0);
	assert_int_equal(d, SEC);
	d = 42;
	assert_int_equal(
	    config_duration(cfg, "punchy.one", SEC, &d, &err), VPN_ERR_INVAL);
	assert_err(&err, "punchy.one", 6,
	    "expected a duration such as 500ms or 2s, got \"1\"");
	assert_int_equal(
	    config_duration(cfg, "punchy.frac", SEC, &d, &err), VPN_ERR_INVAL);
	assert_err(&err, "punchy.frac", 7,
	    "expected a duration such as 500ms or 2s, got \"1.5\"");
	assert_int_equal(
	    config_duration(cfg, "punchy.list", SEC, &d, &err), VPN_ERR_INVAL);
	assert_err(&err, "punchy.list", 8,
	    "expected a duration such as 500ms or 2s, got a list");
	assert_int_equal(
	    config_duration(cfg, "punchy.over", SEC, &d, &err), VPN_ERR_RANGE);
	assert_err(&err, "punchy.over", 9,
	    "duration out of range, got \"9999999999h\"");
	assert_int_equal(d, 42);
	config_free(cfg);
}

static void
test_config_str_list(void **state)
{
	struct config *cfg = load("hosts:\n"
	                          "  - 192.168.100.1\n"
	                          "  - 4242\n"
	                          "  - yes\n"
	                          "scalar: 10.0.0.1\n"
	                          "mixed:\n"
	                          "  - a\n"
	                          "  - {b: 1}\n"
	                          "nulls: [a, ~]\n"
	                          "empty: []\n");
	struct config_err err;
	const char **l = NULL;
	size_t n = 99;

	(void)state;
	assert_int_equal(config_str_list(cfg, "hosts", &l, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(l[0], "192.168.100.1");
	assert_string_equal(l[1], "4242");
	assert_string_equal(l[2], "true");
	free(l);
	assert_int_equal(config_str_list(cfg, "absent", &l, &n, &err), 0);
	assert_null(l);
	assert_int_equal(n, 0);
	assert_int_equal(config_str_list(cfg, "empty", &l, &n, &err), 0);
	assert_null(l);
	assert_int_equal(n, 0);
	/* a scalar is not turned into a one-element list (Nebula neither) */
	assert_int_equal(
	    config_str_list(cfg, "scalar", &l, &n, &err), VPN_ERR_INVAL);
	assert_err(
	    &err, "scalar", 5, "expected a list of strings, got \"10.0.0.1\"");
	assert_int_equal(
	    config_str_list(cfg, "mixed", &l, &n, &err), VPN_ERR_INVAL);
	assert_err(&err, "mixed[1]", 8, "expected a string, got a map");
	assert_null(l);
	assert_int_equal(
	    config_str_list(cfg, "nulls", &l, &n, &err), VPN_ERR_INVAL);
	assert_err(&err, "nulls[1]", 9, "expected a string, got null");
	config_free(cfg);
}

static void
test_config_map_and_list(void **state)
{
	struct config *cfg = load("a:\n  b: 1\nl: [1]\nn: ~\n");
	struct config_err err;
	const struct config_node *n;

	(void)state;
	assert_int_equal(config_map(cfg, "a", &n, &err), 0);
	assert_int_equal(config_node_type(n), CONFIG_MAP);
	assert_int_equal(config_map(cfg, "n", &n, &err), 0);
	assert_null(n);
	assert_int_equal(config_list(cfg, "absent", &n, &err), 0);
	assert_null(n);
	assert_int_equal(config_map(cfg, "l", &n, &err), VPN_ERR_INVAL);
	assert_err(&err, "l", 3, "expected a map, got a list");
	assert_int_equal(config_list(cfg, "a.b", &n, &err), VPN_ERR_INVAL);
	assert_err(&err, "a.b", 2, "expected a list, got \"1\"");
	assert_int_equal(config_map(cfg, "", &n, &err), 0);
	assert_ptr_equal(n, config_get(cfg, ""));
	config_free(cfg);
}

/* A scalar where a map is needed on the way is an error, not "absent". */
static void
test_config_path_through_scalar(void **state)
{
	struct config *cfg = load("pki: /etc/ca.crt\nlisten: ~\n");
	struct config_err err;
	const char *s = "x";
	int64_t v;

	(void)state;
	assert_null(config_get(cfg, "pki.ca"));
	assert_int_equal(
	    config_str(cfg, "pki.ca", NULL, &s, &err), VPN_ERR_INVAL);
	assert_err(&err, "pki", 1, "expected a map, got \"/etc/ca.crt\"");
	assert_string_equal(s, "x");
	/* a null on the way is absent */
	assert_int_equal(config_int(cfg, "listen.port", 9, 0, 9, &v, &err), 0);
	assert_int_equal(v, 9);
	config_free(cfg);
}

/* Lines are right on multi-line YAML, for maps, lists and block scalars. */
static void
test_config_line_numbers(void **state)
{
	static const char yaml[] =
	    "pki:\n"                               /* 1 */
	    "  ca: |\n"                            /* 2 */
	    "    -----BEGIN X-----\n"              /* 3 */
	    "    abc\n"                            /* 4 */
	    "    -----END X-----\n"                /* 5 */
	    "\n"                                   /* 6 */
	    "firewall:\n"                          /* 7 */
	    "  inbound:\n"                         /* 8 */
	    "    - port: 22\n"                     /* 9 */
	    "      proto: any\n"                   /* 10 */
	    "    - port: 443\n"                    /* 11 */
	    "      proto: tcp\n"                   /* 12 */
	    "    # comment\n"                      /* 13 */
	    "    - port:\n"                        /* 14 */
	    "        70000\n"                      /* 15 */
	    "      proto: [tcp]\n"                 /* 16 */
	    "tun:\n"                               /* 17 */
	    "  unsafe_routes:\n"                   /* 18 */
	    "    - {route: 10.0.0.0/8, mtu: x}\n"; /* 19 */
	struct config *cfg = load(yaml);
	struct config_err err;
	const struct config_node *in, *rule;
	char kp[CONFIG_PATH_LEN], rp[CONFIG_PATH_LEN];
	const char *s;
	int64_t v;
	size_t i;

	(void)state;
	assert_int_equal(config_str(cfg, "pki.ca", NULL, &s, &err), 0);
	assert_string_equal(s, "-----BEGIN X-----\nabc\n-----END X-----\n");
	assert_int_equal(config_node_line(config_get(cfg, "pki.ca")), 2);
	assert_int_equal(config_node_line(config_get(cfg, "pki")), 2);

	assert_int_equal(config_list(cfg, "firewall.inbound", &in, &err), 0);
	assert_int_equal(config_node_len(in), 3);
	assert_int_equal(config_node_line(in), 9);
	for (i = 0; i < config_node_len(in); i++) {
		rule = config_node_item(in, i);
		config_path_index(rp, sizeof(rp), "firewall.inbound", i);
		config_path_key(kp, sizeof(kp), rp, "port");
		if (config_node_int(config_node_get(rule, "port"), kp, 0, 0,
		        65535, &v, &err) == 0)
			continue;
		assert_int_equal(i, 2);
		assert_err(&err, "firewall.inbound[2].port", 15,
		    "must be between 0 and 65535, got 70000");
	}
	rule = config_node_item(in, 2);
	assert_int_equal(config_node_line(rule), 14);
	assert_int_equal(config_node_str(config_node_get(rule, "proto"),
	                     "firewall.inbound[2].proto", NULL, &s, &err),
	    VPN_ERR_INVAL);
	assert_err(&err, "firewall.inbound[2].proto", 16,
	    "expected a string, got a list");
	rule = config_node_item(config_get(cfg, "tun.unsafe_routes"), 0);
	assert_int_equal(config_node_int(config_node_get(rule, "mtu"),
	                     "tun.unsafe_routes[0].mtu", 0, 0, 9000, &v, &err),
	    VPN_ERR_INVAL);
	assert_err(&err, "tun.unsafe_routes[0].mtu", 19,
	    "expected an integer, got \"x\"");
	config_free(cfg);
}

static void
test_config_node_accessors(void **state)
{
	struct config *cfg = load("m:\n  k: v\n  1: one\n  ~: nil\n"
	                          "s: [a, b]\n");
	const struct config_node *m = config_get(cfg, "m"), *s;

	(void)state;
	assert_int_equal(config_node_type(NULL), CONFIG_NULL);
	assert_null(config_node_scalar(NULL));
	assert_int_equal(config_node_len(NULL), 0);
	assert_null(config_node_get(NULL, "x"));
	assert_null(config_node_item(m, 0)); /* not a sequence */
	assert_int_equal(config_node_len(m), 3);
	assert_string_equal(config_node_key(m, 0), "k");
	assert_string_equal(config_node_key(m, 1), "1");
	assert_string_equal(config_node_key(m, 2), "~");

	assert_int_equal(
	    config_node_type(config_node_keynode(m, 1)), CONFIG_SCALAR);
	assert_null(config_node_key(m, 3));
	assert_null(config_node_value(m, 3));
	/* only string keys are found by name, as in Nebula */
	assert_null(config_node_get(m, "1"));
	assert_null(config_get(cfg, "m.1"));
	assert_string_equal(config_node_scalar(config_get(cfg, "m.k")), "v");
	s = config_get(cfg, "s");
	assert_int_equal(config_node_type(s), CONFIG_SEQ);
	assert_null(config_node_scalar(s));
	assert_string_equal(config_node_scalar(config_node_item(s, 1)), "b");
	assert_null(config_node_item(s, 2));
	assert_null(config_node_get(s, "a"));
	assert_int_equal(config_node_type(config_get(cfg, "")), CONFIG_MAP);
	assert_null(config_get(cfg, "s.a"));
	config_free(cfg);
	/* YAML 1.1: the key y is the boolean true */
	cfg = load("m:\n  y: 1\n  x: 2\n");
	m = config_get(cfg, "m");
	assert_string_equal(config_node_key(m, 0), "true");
	assert_null(config_node_get(m, "y"));
	assert_null(config_node_get(m, "true"));
	config_free(cfg);
}

/* Plain scalars as yaml.v2 resolves them, seen through Go's %v. */
static void
test_config_scalar_resolution(void **state)
{
	static const struct {
		const char *in, *out;
	} tc[] = {
	    {"yes", "true"},
	    {"On", "true"},
	    {"n", "false"},
	    {"OFF", "false"},
	    {"'yes'", "yes"},
	    {"tRUE", "tRUE"},
	    {"4242", "4242"},
	    {"0x10", "16"},
	    {"0X1f", "31"},
	    {"010", "8"},
	    {"0o17", "15"},
	    {"0b101", "5"},
	    {"-0b11", "-3"},
	    {"1_000", "1000"},
	    {"+5", "5"},
	    {"-0", "0"},
	    {"08", "8"},
	    {"1e3", "1000"},
	    {"1.5", "1.5"},
	    {"1.0", "1"},
	    {"-2.50", "-2.5"},
	    {"1e6", "1e+06"},
	    {"123456", "123456"},
	    {"123456.0", "123456"},
	    {"1234567.0", "1.234567e+06"},
	    {"0.0001", "0.0001"},
	    {"0.00001", "1e-05"},
	    {".5", "0.5"},
	    {"-.5e2", "-50"},
	    {"0.1", "0.1"},
	    {"3.14159265358979", "3.14159265358979"},
	    {".inf", "+Inf"},
	    {"-.Inf", "-Inf"},
	    {".NaN", "NaN"},
	    {"9223372036854775807", "9223372036854775807"},
	    {"9223372036854775808", "9223372036854775808"},
	    {"-9223372036854775808", "-9223372036854775808"},
	    {"-9223372036854775809", "-9.223372036854776e+18"},
	    {"1e400", "1e400"},
	    {"2001-12-14", "2001-12-14"},
	    {"0x", "0x"},
	    {"1.2.3", "1.2.3"},
	    {"192.168.100.1", "192.168.100.1"},
	    {"10.0.0.0/8", "10.0.0.0/8"},
	    {"1_0.5", "10.5"},
	    {"._5", "._5"},
	    {"\"0x10\"", "0x10"},
	    {"!!str 0x10", "0x10"},
	    {"!!int 0x10", "16"},
	    {"!!float 1", "1"},
	    {"!!float 10000000", "1e+07"},
	    {"!!bool yes", "true"},
	    {"!foo bar", "bar"},
	    {"! 12", "12"},
	    {"!!timestamp 2001-12-14", "2001-12-14"},
	    {"<<", "<<"},
	    {"- x", NULL},
	};
	static const char *const nulls[] = {
	    "", "~", "null", "Null", "NULL", "!!null ''"};
	char yaml[128];
	struct config *cfg;
	const struct config_node *n;
	size_t i;

	(void)state;
	for (i = 0; tc[i].out != NULL; i++) {
		snprintf(yaml, sizeof(yaml), "v: %s\n", tc[i].in);
		cfg = load(yaml);
		n = config_get(cfg, "v");
		if (config_node_scalar(n) == NULL ||
		    strcmp(config_node_scalar(n), tc[i].out) != 0)
			fail_msg("%s: got %s, want %s", tc[i].in,
			    config_node_scalar(n) ? config_node_scalar(n)
			                          : "(null)",
			    tc[i].out);
		config_free(cfg);
	}
	for (i = 0; i < NELEM(nulls); i++) {
		snprintf(yaml, sizeof(yaml), "v: %s\n", nulls[i]);
		cfg = load(yaml);
		n = config_get(cfg, "v");
		assert_non_null(n);
		assert_int_equal(config_node_type(n), CONFIG_NULL);
		assert_null(config_node_scalar(n));
		config_free(cfg);
	}
	/* the raw text stays available for messages */
	cfg = load("v: 0x10\n");
	assert_string_equal(config_node_raw(config_get(cfg, "v")), "0x10");
	config_free(cfg);
}

static void
test_config_bad_tags(void **state)
{
	static const struct {
		const char *yaml, *msg;
	} tc[] = {
	    {"a:\n  v: !!int abc\n", "cannot decode !!str \"abc\" as a !!int"},
	    {"a:\n  v: !!bool 1\n", "cannot decode !!int \"1\" as a !!bool"},
	    {"a:\n  v: !!null x\n", "cannot decode !!str \"x\" as a !!null"},
	    {"a:\n  v: !!float 18446744073709551615\n",
	        "cannot decode !!int \"18446744073709551615\" as a !!float"},
	    {"a:\n  v: !!binary aGk=\n", "!!binary values are not supported"},
	    {"a:\n  v: \"a\\0b\"\n", "NUL character in a string"},
	};
	struct config_err err;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(tc); i++) {
		err = load_fails(tc[i].yaml, strlen(tc[i].yaml), VPN_ERR_INVAL);
		assert_err(&err, "a.v", 2, tc[i].msg);
	}
}

/* --- document structure ---------------------------------------------- */

static void
test_config_empty_documents(void **state)
{
	static const char *const empty[] = {"", "\n", "# only a comment\n",
	    "~\n", "---\n", "---\n...\n", "null"};
	struct config *cfg;
	struct config_err err;
	const char *s;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(empty); i++) {
		cfg = load(empty[i]);
		assert_int_equal(
		    config_node_type(config_get(cfg, "")), CONFIG_MAP);
		assert_int_equal(config_node_len(config_get(cfg, "")), 0);
		assert_int_equal(config_str(cfg, "a", "d", &s, &err), 0);
		assert_string_equal(s, "d");
		config_free(cfg);
	}
	err = load_fails("- a\n- b\n", 8, VPN_ERR_INVAL);
	assert_err(&err, "", 1, "the top level must be a map, not a list");
	err = load_fails("\n invalid yaml", 14, VPN_ERR_INVAL);
	assert_err(&err, "", 2, "the top level must be a map, not a string");
}

/* yaml.v2's Unmarshal reads the first document only; so do we. */
static void
test_config_multiple_documents(void **state)
{
	struct config *cfg = load("a: 1\n---\nb: 2\n---\n[ : bad\n");
	const char *s;
	struct config_err err;

	(void)state;
	assert_int_equal(config_str(cfg, "a", NULL, &s, &err), 0);
	assert_string_equal(s, "1");
	assert_null(config_get(cfg, "b"));
	config_free(cfg);
}

static void
test_config_syntax_error_line(void **state)
{
	static const char yaml[] = "pki:\n"
	                           "  ca: ca.crt\n"
	                           "listen:\n"
	                           "  port: 4242\n"
	                           "  host: a: b\n";
	static const char unclosed[] = "a: [1, 2\n"
	                               "b: 3\n";
	static const char tabs[] = "a:\n"
	                           "\tb: 1\n";
	struct config_err err;
	char buf[600];

	(void)state;
	err = load_fails(yaml, strlen(yaml), VPN_ERR_INVAL);
	assert_err(
	    &err, "", 5, "mapping values are not allowed in this context");
	config_err_format(&err, buf, sizeof(buf));
	assert_string_equal(buf, "bad.yml:5: mapping values are not allowed "
	                         "in this context");
	err = load_fails(unclosed, strlen(unclosed), VPN_ERR_INVAL);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "did not find expected ',' or ']'"));
	assert_non_null(strstr(err.msg, "while parsing a flow sequence at "
	                                "line 1"));
	err = load_fails(tabs, strlen(tabs), VPN_ERR_INVAL);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "found character that cannot start"));
}

static void
test_config_duplicate_key(void **state)
{
	static const char yaml[] = "listen:\n"
	                           "  port: 4242\n"
	                           "  host: 0.0.0.0\n"
	                           "  port: 4243\n";
	static const char same_value[] = "a: 1\nb: 2\n\"a\": 1\n";
	static const char bools[] = "m:\n  yes: 1\n  true: 2\n";
	struct config *cfg;
	struct config_err err;

	(void)state;
	err = load_fails(yaml, strlen(yaml), VPN_ERR_INVAL);
	assert_err(
	    &err, "listen.port", 4, "duplicate key \"port\" (first at line 2)");
	err = load_fails(same_value, strlen(same_value), VPN_ERR_INVAL);
	assert_err(&err, "a", 3, "duplicate key \"a\" (first at line 1)");
	/* yes and true are the same Go key */
	err = load_fails(bools, strlen(bools), VPN_ERR_INVAL);
	assert_err(
	    &err, "m.true", 3, "duplicate key \"true\" (first at line 2)");
	/* 1 and "1" are not */
	cfg = load("1: a\n\"1\": b\n");
	assert_string_equal(config_node_scalar(config_get(cfg, "1")), "b");
	config_free(cfg);
	/* non-scalar keys */
	err = load_fails("? [a]\n: b\n", 10, VPN_ERR_INVAL);
	assert_err(&err, "", 1, "invalid map key: a list");
}

static void
test_config_aliases(void **state)
{
	static const char yaml[] = "defaults: &def\n"         /* 1 */
	                           "  proto: tcp\n"           /* 2 */
	                           "  host: any\n"            /* 3 */
	                           "ports: &ports [22, 80]\n" /* 4 */
	                           "firewall:\n"              /* 5 */
	                           "  inbound:\n"             /* 6 */
	                           "    - <<: *def\n"         /* 7 */
	                           "      port: 443\n"        /* 8 */
	                           "    - port: 53\n"         /* 9 */
	                           "      <<: [*def, {proto: udp, x: 1}]\n"
	                           "    - &r {port: 1, proto: icmp}\n" /* 11 */
	                           "    - *r\n"                        /* 12 */
	                           "  allowed: *ports\n"               /* 13 */
	                           "  proto: &p udp\n"                 /* 14 */
	                           "  again: *p\n"                     /* 15 */
	                           "  host: any\n"                     /* 16 */
	                           "  override:\n"                     /* 17 */
	                           "    host: none\n"                  /* 18 */
	                           "    <<: *def\n";                   /* 19 */
	struct config *cfg = load(yaml);
	const struct config_node *in, *r;
	const char *s, **l;
	size_t n;
	struct config_err err;

	(void)state;
	in = config_get(cfg, "firewall.inbound");
	assert_int_equal(config_node_len(in), 4);
	r = config_node_item(in, 0);
	assert_int_equal(config_node_len(r), 3);
	assert_string_equal(
	    config_node_scalar(config_node_get(r, "proto")), "tcp");
	assert_string_equal(
	    config_node_scalar(config_node_get(r, "port")), "443");
	/* a node reached through an alias reports the anchor's line */
	assert_int_equal(config_node_line(config_node_get(r, "proto")), 2);
	/* in a merge list the earlier map wins */
	r = config_node_item(in, 1);
	assert_string_equal(
	    config_node_scalar(config_node_get(r, "proto")), "tcp");
	assert_string_equal(config_node_scalar(config_node_get(r, "x")), "1");
	assert_string_equal(
	    config_node_scalar(config_node_get(r, "port")), "53");
	assert_ptr_equal(config_node_item(in, 2), config_node_item(in, 3));
	assert_int_equal(
	    config_str_list(cfg, "firewall.allowed", &l, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[1], "80");
	free(l);
	assert_int_equal(config_str(cfg, "firewall.again", NULL, &s, &err), 0);
	assert_string_equal(s, "udp");
	/* yaml.v2 applies pairs in order: a later << overrides a key */
	assert_int_equal(
	    config_str(cfg, "firewall.override.host", NULL, &s, &err), 0);
	assert_string_equal(s, "any");
	config_free(cfg);

	/* an explicit key after a merge overrides it, and is no duplicate */
	cfg = load("b: &b {x: 1, z: 2}\nc:\n  <<: *b\n  x: 3\n");
	assert_string_equal(config_node_scalar(config_get(cfg, "c.x")), "3");
	assert_string_equal(config_node_scalar(config_get(cfg, "c.z")), "2");
	config_free(cfg);
	/* anchors may be redefined; aliases see the latest */
	cfg = load("a: &x 1\nb: &x 2\nc: *x\n");
	assert_string_equal(config_node_scalar(config_get(cfg, "c")), "2");
	config_free(cfg);
	/* a quoted "<<" is an ordinary key */
	cfg = load("\"<<\": {a: 1}\n");
	assert_non_null(config_get(cfg, "<<"));
	config_free(cfg);
}

static void
test_config_alias_errors(void **state)
{
	static const struct {
		const char *yaml;
		const char *key;
		int line;
		const char *msg;
	} tc[] = {
	    {"a: *nope\n", "a", 1, "unknown anchor 'nope' referenced"},
	    {"a: &a\n  - 1\n  - *a\n", "a[1]", 3,
	        "anchor 'a' value contains itself"},
	    {"a: &a {b: {c: *a}}\n", "a.b.c", 1,
	        "anchor 'a' value contains itself"},
	    {"a: &a 1\nb:\n  <<: *a\n", "b.<<", 3,
	        "map merge requires map or sequence of maps as the value"},
	    {"a: &a 1\nb:\n  <<: [*a]\n", "b.<<", 3,
	        "map merge requires map or sequence of maps as the value"},
	};
	struct config_err err;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(tc); i++) {
		err = load_fails(tc[i].yaml, strlen(tc[i].yaml), VPN_ERR_INVAL);
		assert_err(&err, tc[i].key, tc[i].line, tc[i].msg);
	}
}

/* Billion laughs: refused quickly, without building the expansion. */
static void
test_config_alias_bomb(void **state)
{
	static const char bomb[] =
	    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	    "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
	    "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	static const char text_bomb[] =
	    "a: &a "
	    "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "\"\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
	struct config_err err;
	struct timespec t0, t1;
	double ms;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = load_fails(bomb, strlen(bomb), VPN_ERR_RANGE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_string_equal(err.key, "f");
	assert_int_equal(err.line, 6);
	assert_string_equal(
	    err.msg, "more than 1000000 nodes once aliases are expanded");
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_true(ms < 500);
	/* 10^5 copies of a 256-byte string: 25 MB of text */
	err = load_fails(text_bomb, strlen(text_bomb), VPN_ERR_RANGE);
	assert_string_equal(err.key, "f");
	assert_string_equal(err.msg,
	    "more than 16777216 bytes of text once aliases are expanded");
}

static char *
nested(int levels, const char *prefix, const char *leaf)
{
	size_t len = strlen(prefix) + 2 * (size_t)levels + strlen(leaf) + 2;
	char *s = malloc(len), *p;
	int i;

	assert_non_null(s);
	p = s + sprintf(s, "%s", prefix);
	for (i = 0; i < levels; i++)
		*p++ = '[';
	p += sprintf(p, "%s", leaf);
	for (i = 0; i < levels; i++)
		*p++ = ']';
	*p++ = '\n';
	*p = '\0';
	return s;
}

static void
test_config_deep_nesting(void **state)
{
	struct config *cfg;
	struct config_err err;
	char *s;

	(void)state;
	/* the root map is level 1: 63 lists fit, 64 do not */
	s = nested(CONFIG_MAX_DEPTH - 1, "a: ", "x");
	cfg = load(s);
	free(s);
	config_free(cfg);
	s = nested(CONFIG_MAX_DEPTH, "a: ", "x");
	err = load_fails(s, strlen(s), VPN_ERR_RANGE);
	free(s);
	assert_int_equal(err.line, 1);
	assert_string_equal(err.msg, "nested more than 64 levels deep");
	/* a million levels do not exhaust anything */
	s = nested(1000000, "a: ", "x");
	err = load_fails(s, strlen(s), VPN_ERR_RANGE);
	free(s);
	/* through an alias: 62 lists under "a", then used two levels down */
	s = nested(CONFIG_MAX_DEPTH - 2, "a: &a ", "x");
	cfg = load(s);
	config_free(cfg);
	s[strlen(s) - 1] = '\0';
	{
		char buf[4096];

		snprintf(buf, sizeof(buf), "%s\nb: [*a]\nc: [[*a]]\n", s);
		err = load_fails(buf, strlen(buf), VPN_ERR_RANGE);
		assert_string_equal(err.key, "c[0][0]");
		assert_int_equal(err.line, 3);
	}
	free(s);
}

static void
test_config_bad_bytes(void **state)
{
	static const char nul[] = "a: b\nc: d\0e\n";
	static const char latin1[] = "a: b\nc: caf\xe9\n";
	static const char overlong[] = "a: \xc0\xaf\n";
	struct config_err err;

	(void)state;
	err = load_fails(nul, sizeof(nul) - 1, VPN_ERR_INVAL);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "control characters are not allowed"));
	err = load_fails(latin1, sizeof(latin1) - 1, VPN_ERR_INVAL);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "UTF-8"));
	err = load_fails(overlong, sizeof(overlong) - 1, VPN_ERR_INVAL);
	assert_int_equal(err.line, 1);
	assert_non_null(strstr(err.msg, "UTF-8"));
	/* valid UTF-8, and a BOM, are fine */
	{
		struct config *cfg = load("\xef\xbb\xbf"
		                          "a: caf\xc3\xa9\n");

		assert_string_equal(
		    config_node_scalar(config_get(cfg, "a")), "caf\xc3\xa9");
		config_free(cfg);
	}
}

/* --- files and directories ------------------------------------------ */

static void
test_config_directory_merge(void **state)
{
	struct config *cfg;
	struct config_err err;
	const struct config_node *in;
	const char *s, *want[][2] = {{"53", "udp"}, {"any", "icmp"},
	                   {"22", "tcp"}, {"443", "tcp"}};
	char *dir;
	size_t i;
	int64_t v;

	(void)state;
	assert_int_equal(config_load(FIX "merge", &cfg, &err), 0);
	dir = fixture_abs(FIX "merge");
	/* sorted by absolute path; notes.txt ignored */
	assert_int_equal(config_nfiles(cfg), 3);
	assert_non_null(strstr(config_file(cfg, 0), "/merge/00-base.yml"));
	assert_non_null(strstr(config_file(cfg, 1), "/merge/10-fw.yaml"));
	assert_non_null(strstr(config_file(cfg, 2), "/merge/sub/20-more.yml"));
	assert_int_equal(strncmp(config_file(cfg, 0), dir, strlen(dir)), 0);

	/* scalars: the later file wins; maps merge key by key */
	assert_int_equal(
	    config_int(cfg, "listen.port", 0, 0, 65535, &v, &err), 0);
	assert_int_equal(v, 5353);
	assert_int_equal(config_str(cfg, "listen.host", NULL, &s, &err), 0);
	assert_string_equal(s, "0.0.0.0");
	assert_int_equal(config_str(cfg, "pki.ca", NULL, &s, &err), 0);
	assert_string_equal(s, "/etc/nebula/ca.crt");
	assert_int_equal(config_str(cfg, "pki.key", NULL, &s, &err), 0);
	assert_string_equal(s, "/etc/nebula/host.key");
	assert_non_null(config_get(cfg, "firewall.outbound"));

	/* lists: the later file's items first */
	in = config_get(cfg, "firewall.inbound");
	assert_int_equal(config_node_len(in), NELEM(want));
	for (i = 0; i < NELEM(want); i++) {
		const struct config_node *r = config_node_item(in, i);

		assert_string_equal(
		    config_node_scalar(config_node_get(r, "port")), want[i][0]);
		assert_string_equal(
		    config_node_scalar(config_node_get(r, "proto")),
		    want[i][1]);
	}
	/* each item still knows where it came from */
	assert_non_null(strstr(
	    config_node_file(config_node_item(in, 0)), "sub/20-more.yml"));
	assert_int_equal(config_node_line(config_node_item(in, 0)), 6);
	assert_non_null(
	    strstr(config_node_file(config_node_item(in, 3)), "00-base.yml"));
	assert_int_equal(config_node_line(config_node_item(in, 3)), 13);
	free(dir);
	config_free(cfg);
}

/* mergo keeps the earlier value when the later one is Go's zero value. */
static void
test_config_merge_zero_values(void **state)
{
	struct config *cfg;
	struct config_err err;
	const char *s;
	int64_t v;
	bool b;

	(void)state;
	assert_int_equal(config_load(FIX "merge-zero", &cfg, &err), 0);
	assert_int_equal(config_bool(cfg, "punchy.punch", false, &b, &err), 0);
	assert_true(b);
	assert_int_equal(
	    config_int(cfg, "listen.port", 0, 0, 65535, &v, &err), 0);
	assert_int_equal(v, 4242);
	assert_int_equal(config_str(cfg, "tun.dev", NULL, &s, &err), 0);
	assert_string_equal(s, "nebula1");
	assert_int_equal(config_int(cfg, "tun.mtu", 0, 0, 65535, &v, &err), 0);
	assert_int_equal(v, 1400);
	config_free(cfg);
}

static void
test_config_merge_list_conflict(void **state)
{
	struct config *cfg = NULL;
	struct config_err err;
	char *b;

	(void)state;
	assert_int_equal(
	    config_load(FIX "merge-conflict", &cfg, &err), VPN_ERR_INVAL);
	assert_null(cfg);
	b = fixture_abs(FIX "merge-conflict/b.yml");
	assert_string_equal(err.file, b);
	assert_string_equal(err.key, "firewall.inbound");
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "is a string here but a list in "));
	assert_non_null(strstr(err.msg, "merge-conflict/a.yml:3"));
	free(b);
}

static char *
tmpdir(void)
{
	char tmpl[] = "/tmp/test_config.XXXXXX", *d;

	assert_non_null(mkdtemp(tmpl));
	d = strdup(tmpl);
	assert_non_null(d);
	return d;
}

static void
put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void
rmrf(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_config_no_files_found(void **state)
{
	struct config *cfg = NULL;
	struct config_err err;
	char *d = tmpdir(), buf[700], sub[600];

	(void)state;
	assert_int_equal(
	    config_load("/nonexistent/nebula", &cfg, &err), VPN_ERR_INVAL);
	assert_null(cfg);
	assert_string_equal(
	    err.msg, "no config files found at /nonexistent/nebula");
	config_err_format(&err, buf, sizeof(buf));
	assert_string_equal(
	    buf, "no config files found at /nonexistent/nebula");
	assert_int_equal(config_load(d, &cfg, &err), VPN_ERR_INVAL);
	snprintf(buf, sizeof(buf), "no config files found at %s", d);
	assert_string_equal(err.msg, buf);
	/* only files with other extensions, and a directory named *.yml */
	put(d, "config.txt", "a: 1\n");
	put(d, "config.YML", "a: 1\n");
	put(d, "yml", "a: 1\n");
	snprintf(sub, sizeof(sub), "%s/dir.yml", d);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(config_load(d, &cfg, &err), VPN_ERR_INVAL);
	assert_string_equal(err.msg, buf);
	/* a file named directly is loaded whatever its name */
	snprintf(sub, sizeof(sub), "%s/config.txt", d);
	assert_int_equal(config_load(sub, &cfg, &err), 0);
	assert_string_equal(config_node_scalar(config_get(cfg, "a")), "1");
	config_free(cfg);
	/* ".yml" alone has the extension .yml, as in Go */
	put(d, ".yml", "b: 2\n");
	assert_int_equal(config_load(d, &cfg, &err), 0);
	assert_int_equal(config_nfiles(cfg), 1);
	config_free(cfg);
	rmrf(d);
	free(d);
}

static void
test_config_file_errors(void **state)
{
	struct config *cfg = NULL;
	struct config_err err;
	char *d = tmpdir(), path[600], buf[1200];

	(void)state;
	/* the error names the file, with the right line */
	put(d, "a.yml", "a: 1\n");
	put(d, "b.yml", "b:\n  c: [1\n  d: 2\n");
	assert_int_equal(config_load(d, &cfg, &err), VPN_ERR_INVAL);
	snprintf(path, sizeof(path), "%s/b.yml", d);
	assert_string_equal(err.file, path);
	assert_int_equal(err.line, 3);
	config_err_format(&err, buf, sizeof(buf));
	assert_int_equal(strncmp(buf, path, strlen(path)), 0);
	assert_int_equal(strncmp(buf + strlen(path), ":3: ", 4), 0);
	/* an unreadable file (as root, EIO from /proc/self/mem) */
	put(d, "b.yml", "b: 2\n");
	snprintf(path, sizeof(path), "%s/c.yml", d);
	assert_int_equal(symlink("/proc/self/mem", path), 0);
	assert_int_equal(config_load(d, &cfg, &err), VPN_ERR_SYS);
	assert_string_equal(err.file, path);
	assert_string_equal(err.msg, "Input/output error");
	assert_int_equal(unlink(path), 0);
	/* a symlink loop is walked once; a dangling link is ignored */
	snprintf(path, sizeof(path), "%s/loop", d);
	assert_int_equal(symlink(".", path), 0);
	snprintf(path, sizeof(path), "%s/dangling.yml", d);
	assert_int_equal(symlink("/nonexistent", path), 0);
	assert_int_equal(config_load(d, &cfg, &err), 0);
	assert_int_equal(config_nfiles(cfg), 2);
	config_free(cfg);
	/* a relative path with dots is made absolute and clean */
	assert_int_equal(
	    config_load(FIX "./merge/../merge/sub/", &cfg, &err), 0);
	assert_int_equal(config_nfiles(cfg), 1);
	assert_null(strstr(config_file(cfg, 0), "/./"));
	assert_null(strstr(config_file(cfg, 0), ".."));
	assert_non_null(strstr(
	    config_file(cfg, 0), "fixtures/config/merge/sub/20-more.yml"));
	config_free(cfg);
	rmrf(d);
	free(d);
}

/* --- errors, paths, dump --------------------------------------------- */

static void
test_config_err_format(void **state)
{
	struct config_err e;
	char buf[1024], small[8];

	(void)state;
	memset(&e, 0, sizeof(e));
	strcpy(e.msg, "boom");
	config_err_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "boom");
	strcpy(e.key, "listen.port");
	config_err_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "listen.port: boom");
	e.line = 3;
	config_err_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "line 3: listen.port: boom");
	strcpy(e.file, "/etc/nebula/config.yml");
	config_err_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "/etc/nebula/config.yml:3: listen.port: boom");
	e.line = 0;
	config_err_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "/etc/nebula/config.yml: listen.port: boom");
	config_err_format(&e, small, sizeof(small));
	assert_string_equal(small, "/etc/ne");

	assert_int_equal(
	    config_node_err(&e, NULL, "a.b", VPN_ERR_INVAL, "bad %d", 7),
	    VPN_ERR_INVAL);
	assert_err(&e, "a.b", 0, "bad 7");
	assert_string_equal(e.file, "");
	assert_int_equal(config_node_err(NULL, NULL, "a", VPN_ERR_RANGE, "x"),
	    VPN_ERR_RANGE);
}

static void
test_config_path_helpers(void **state)
{
	char buf[CONFIG_PATH_LEN], small[6];

	(void)state;
	config_path_key(buf, sizeof(buf), NULL, "pki");
	assert_string_equal(buf, "pki");
	config_path_key(buf, sizeof(buf), "", "pki");
	assert_string_equal(buf, "pki");
	config_path_key(buf, sizeof(buf), "pki", "ca");
	assert_string_equal(buf, "pki.ca");
	config_path_key(buf, sizeof(buf), "static_host_map", "192.168.100.1");
	assert_string_equal(buf, "static_host_map[\"192.168.100.1\"]");
	config_path_key(buf, sizeof(buf), "m", "");
	assert_string_equal(buf, "m[\"\"]");
	config_path_index(buf, sizeof(buf), "firewall.inbound", 2);
	assert_string_equal(buf, "firewall.inbound[2]");
	config_path_key(small, sizeof(small), "firewall", "inbound");
	assert_string_equal(small, "firew");
}

static void
test_config_dump(void **state)
{
	struct config *cfg, *again;
	struct config_err err;
	char *a, *b;
	const char *s;
	int64_t v;

	(void)state;
	assert_int_equal(config_load(FIX "nebula-host-a.yml", &cfg, &err), 0);
	a = config_dump(cfg);
	assert_non_null(a);
	/* keys sorted, strings that would read back as something else
	 * quoted, the rest plain */
	assert_non_null(strstr(a, "cipher: aes\n"));
	assert_non_null(strstr(a, "  port: 4242\n"));
	assert_non_null(strstr(a, "static_host_map:\n"
	                          "  192.168.100.1:\n"
	                          "  - 10.99.0.1:4242\n"));
	assert_true(strstr(a, "cipher:") < strstr(a, "firewall:"));
	assert_true(strstr(a, "firewall:") < strstr(a, "lighthouse:"));
	assert_true(strstr(a, "tun:") > strstr(a, "static_host_map:"));
	/* it reads back to the same thing */
	assert_int_equal(
	    config_load_string(a, strlen(a), "dump", &again, &err), 0);
	b = config_dump(again);
	assert_string_equal(a, b);
	assert_int_equal(
	    config_int(again, "listen.port", 0, 0, 65535, &v, &err), 0);
	assert_int_equal(v, 4242);
	free(a);
	free(b);
	config_free(again);
	config_free(cfg);

	cfg = load("s: \"4242\"\nt: 'yes'\ne: ''\nn: ~\nf: .inf\nm: {}\n"
	           "l: []\np: \"a\\nb\\n\"\nk10: 1\nk9: 2\nk010: 3\n");
	a = config_dump(cfg);
	assert_non_null(a);
	assert_int_equal(
	    config_load_string(a, strlen(a), "dump", &again, &err), 0);
	assert_int_equal(config_str(again, "s", NULL, &s, &err), 0);
	assert_string_equal(s, "4242");
	assert_int_equal(
	    config_node_type(config_get(again, "s")), CONFIG_SCALAR);
	assert_int_equal(config_str(again, "t", NULL, &s, &err), 0);
	assert_string_equal(s, "yes");
	assert_int_equal(config_str(again, "e", NULL, &s, &err), 0);
	assert_string_equal(s, "");
	assert_int_equal(config_node_type(config_get(again, "n")), CONFIG_NULL);
	assert_string_equal(config_node_scalar(config_get(again, "f")), "+Inf");
	assert_int_equal(config_str(again, "p", NULL, &s, &err), 0);
	assert_string_equal(s, "a\nb\n");
	/* yaml.v2's natural order: k9 < k10, and k010 after k10 */
	assert_true(strstr(a, "k9:") < strstr(a, "k10:"));
	assert_true(strstr(a, "k10:") < strstr(a, "k010:"));
	b = config_node_dump(config_get(again, "m"));
	assert_string_equal(b, "{}\n");
	free(b);
	free(a);
	config_free(again);
	config_free(cfg);

	/* fuzz: yaml.v2's key order is not transitive; ours is */
	cfg = load("m: {\"010/ 0o7\": 1, 0b11e: 2, 3 -: 3, x: 4}\n");
	a = config_dump(cfg);
	assert_string_equal(a, "m:\n  0b11e: 2\n  3 -: 3\n  010/ 0o7: 1\n"
	                       "  x: 4\n");
	free(a);
	config_free(cfg);
	cfg = load("m: {x: 4, 0b11e: 2, 3 -: 3, \"010/ 0o7\": 1}\n");
	a = config_dump(cfg);
	assert_string_equal(a, "m:\n  0b11e: 2\n  3 -: 3\n  010/ 0o7: 1\n"
	                       "  x: 4\n");
	free(a);
	config_free(cfg);

	/* fuzz: floats that print like integers stay floats ("-0" is 0) */
	cfg = load("v: [-._00, 1.0, 1e6, -.inf, .nan]\n");
	a = config_dump(cfg);
	assert_string_equal(a, "v:\n- -0.0\n- 1.0\n- 1e+06\n- -.inf\n- .nan\n");
	assert_int_equal(
	    config_load_string(a, strlen(a), "dump", &again, &err), 0);
	b = config_dump(again);
	assert_string_equal(a, b);
	assert_string_equal(
	    config_node_scalar(config_node_item(config_get(again, "v"), 0)),
	    "-0");
	free(a);
	free(b);
	config_free(again);
	config_free(cfg);
}

static void
test_config_null_safety(void **state)
{
	struct config *cfg = NULL;
	struct config_err err;
	const char *s;

	(void)state;
	config_free(NULL);
	assert_null(config_get(NULL, "a"));
	assert_int_equal(config_nfiles(NULL), 0);
	assert_null(config_file(NULL, 0));
	assert_null(config_dump(NULL));
	assert_int_equal(config_str(NULL, "a", "d", &s, &err), 0);
	assert_string_equal(s, "d");
	/* err may be NULL */
	assert_int_equal(
	    config_load("/nonexistent", &cfg, NULL), VPN_ERR_INVAL);
	assert_int_equal(
	    config_load_string("[", 1, NULL, &cfg, NULL), VPN_ERR_INVAL);
	assert_int_equal(
	    config_load_string("[", 1, NULL, &cfg, &err), VPN_ERR_INVAL);
	assert_string_equal(err.file, "<string>");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_nebula_lighthouse),
	    cmocka_unit_test(test_config_nebula_hosts),
	    cmocka_unit_test(test_config_int),
	    cmocka_unit_test(test_config_str),
	    cmocka_unit_test(test_config_bool),
	    cmocka_unit_test(test_config_duration),
	    cmocka_unit_test(test_config_str_list),
	    cmocka_unit_test(test_config_map_and_list),
	    cmocka_unit_test(test_config_path_through_scalar),
	    cmocka_unit_test(test_config_line_numbers),
	    cmocka_unit_test(test_config_node_accessors),
	    cmocka_unit_test(test_config_scalar_resolution),
	    cmocka_unit_test(test_config_bad_tags),
	    cmocka_unit_test(test_config_empty_documents),
	    cmocka_unit_test(test_config_multiple_documents),
	    cmocka_unit_test(test_config_syntax_error_line),
	    cmocka_unit_test(test_config_duplicate_key),
	    cmocka_unit_test(test_config_aliases),
	    cmocka_unit_test(test_config_alias_errors),
	    cmocka_unit_test(test_config_alias_bomb),
	    cmocka_unit_test(test_config_deep_nesting),
	    cmocka_unit_test(test_config_bad_bytes),
	    cmocka_unit_test(test_config_directory_merge),
	    cmocka_unit_test(test_config_merge_zero_values),
	    cmocka_unit_test(test_config_merge_list_conflict),
	    cmocka_unit_test(test_config_no_files_found),
	    cmocka_unit_test(test_config_file_errors),
	    cmocka_unit_test(test_config_err_format),
	    cmocka_unit_test(test_config_path_helpers),
	    cmocka_unit_test(test_config_dump),
	    cmocka_unit_test(test_config_null_safety),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
