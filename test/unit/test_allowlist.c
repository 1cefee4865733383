/*
 * test/unit/test_allowlist.c: remote_allow_list, remote_allow_ranges and
 * local_allow_list (config.md 3), with the cases of Nebula 1.6.1's
 * allow_list_test.go and examples/config.yml rewritten as tables.
 */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowlist.h"
#include "config.h"
#include "err.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct probe {
	const char *ip;
	bool allow;
};

/* An address as 16 bytes, IPv4 mapped. */
static void
ip16(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out + 12) == 1) {
		out[10] = out[11] = 0xff;
		return;
	}
	if (inet_pton(AF_INET6, s, out) != 1)
		fail_msg("bad test address %s", s);
}

static uint32_t
ip4(const char *s)
{
	uint8_t b[16];

	ip16(s, b);
	return (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
	       (uint32_t)b[14] << 8 | b[15];
}

/*
 * Build the list at PATH of the YAML text (key path "allowlist" in
 * messages, as Nebula's tests name it).  Returns the build's result.
 */
static int
build(
    const char *yaml, bool local, struct allowlist **al, struct config_err *err)
{
	struct config *cfg = NULL;
	struct config_err ce;
	int rc;

	rc = config_load_string(yaml, strlen(yaml), "t.yml", &cfg, &ce);
	if (rc != 0)
		fail_msg("yaml: %s", ce.msg);
	memset(err, 0, sizeof(*err));
	rc = allowlist_build(
	    config_get(cfg, "allowlist"), "allowlist", local, al, err);
	config_free(cfg); /* the list must not point into it */
	return rc;
}

static struct allowlist *
build_ok(const char *yaml, bool local)
{
	struct allowlist *al = NULL;
	struct config_err err;

	if (build(yaml, local, &al, &err) != 0)
		fail_msg("build failed: %s", err.msg);
	return al;
}

static void
check(const struct allowlist *al, const struct probe *p, size_t n)
{
	uint8_t b[16];
	size_t i;

	for (i = 0; i < n; i++) {
		ip16(p[i].ip, b);
		if (allowlist_allow(al, b) != p[i].allow)
			fail_msg("%s: want %s", p[i].ip,
			    p[i].allow ? "allow" : "deny");
		if (b[10] == 0xff && b[0] == 0)
			assert_true(
			    allowlist_allow4(al, ip4(p[i].ip)) == p[i].allow);
		else
			assert_true(allowlist_allow6(al, b) == p[i].allow);
	}
}

static void
test_allowlist_absent_allows_all(void **state)
{
	static const struct probe p[] = {
	    {"1.1.1.1", true}, {"10.0.0.1", true}, {"::1", true}};
	struct allowlist *al = (struct allowlist *)1;
	struct allowranges *ar = (struct allowranges *)1;
	struct config_err err;

	(void)state;
	assert_int_equal(build("other: 1\n", false, &al, &err), 0);
	assert_null(al);
	check(NULL, p, NELEM(p));
	assert_true(allowlist_allow_name(NULL, "docker0"));
	/* a YAML null is absent too */
	assert_int_equal(build("allowlist:\n", false, &al, &err), 0);
	assert_null(al);
	assert_int_equal(allowranges_build(NULL, "x", &ar, &err), 0);
	assert_null(ar);
	assert_null(allowranges_find(ar, 1));
}

static void
test_allowlist_empty_map_allows_all(void **state)
{
	static const struct probe p[] = {{"1.1.1.1", true}, {"10.0.0.1", true},
	    {"::1", true}, {"fd00::1", true}};
	struct allowlist *al = build_ok("allowlist: {}\n", false);

	(void)state;
	assert_non_null(al);
	assert_int_equal(allowlist_nrules(al), 2); /* the two defaults */
	check(al, p, NELEM(p));
	allowlist_free(al);
}

#define KEY_ERR "config `allowlist.interfaces` has invalid key: "

/* allow_list_test.go TestNewAllowListFromConfig: the errors. */
static void
test_allowlist_build_errors(void **state)
{
	static const struct {
		const char *yaml;
		bool local;
		const char *msg;
	} t[] = {
	    {"allowlist: {192.168.0.0: true}", false,
	        "config `allowlist` has invalid CIDR: 192.168.0.0"},
	    {"allowlist: {192.168.0.0/16: abc}", false,
	        "config `allowlist` has invalid value (type string): abc"},
	    {"allowlist: {192.168.0.0/16: true, 10.0.0.0/8: false}", false,
	        "config `allowlist` contains both true and false rules, but "
	        "no default set for 0.0.0.0/0"},
	    {"allowlist: {0.0.0.0/0: true, 10.0.0.0/8: false, "
	     "10.42.42.0/24: true, fd00::/8: true, fd00:fd00::/16: false}",
	        false,
	        "config `allowlist` contains both true and false rules, but "
	        "no default set for ::/0"},
	    {"allowlist: {interfaces: {docker.*: foo}}", true,
	        "config `allowlist.interfaces` has invalid value (type "
	        "string): foo"},
	    {"allowlist: {interfaces: {docker.*: false, eth.*: true}}", true,
	        "config `allowlist.interfaces` values must all be the same "
	        "true/false value"},
	    /* and more */
	    {"allowlist: 5", false, "config `allowlist` has invalid type: int"},
	    {"allowlist: [a]", false,
	        "config `allowlist` has invalid type: []interface {}"},
	    {"allowlist: {1: true}", false,
	        "config `allowlist` has invalid key (type int): 1"},
	    {"allowlist: {~: true}", false,
	        "config `allowlist` has invalid key (type <nil>): <nil>"},
	    {"allowlist: {10.0.0.0/8: 1}", false,
	        "config `allowlist` has invalid value (type int): 1"},
	    {"allowlist: {10.0.0.0/8: }", false,
	        "config `allowlist` has invalid value (type <nil>): <nil>"},
	    {"allowlist: {10.0.0.0/8: [true]}", false,
	        "config `allowlist` has invalid value (type []interface {}): "
	        "[...]"},
	    {"allowlist: {10.0.0.0/33: true}", false,
	        "config `allowlist` has invalid CIDR: 10.0.0.0/33"},
	    {"allowlist: {10.0.0.0/: true}", false,
	        "config `allowlist` has invalid CIDR: 10.0.0.0/"},
	    {"allowlist: {10.0.0.0/8x: true}", false,
	        "config `allowlist` has invalid CIDR: 10.0.0.0/8x"},
	    {"allowlist: {010.0.0.0/8: true}", false,
	        "config `allowlist` has invalid CIDR: 010.0.0.0/8"},
	    {"allowlist: {'::/129': true}", false,
	        "config `allowlist` has invalid CIDR: ::/129"},
	    {"allowlist: {'fe80::1%eth0/64': true}", false,
	        "config `allowlist` has invalid CIDR: fe80::1%eth0/64"},
	    /* `interfaces' is a CIDR to a remote list */
	    {"allowlist: {interfaces: {eth0: true}}", false,
	        "config `allowlist` has invalid value (type map[interface "
	        "{}]interface {}): map[...]"},
	    {"allowlist: {interfaces: 5}", true,
	        "config `allowlist.interfaces` is invalid (type int): 5"},
	    {"allowlist: {interfaces: {eth0: 1}}", true,
	        "config `allowlist.interfaces` has invalid value (type int): "
	        "1"},
	    {"allowlist: {interfaces: {'eth(': true}}", true, NULL},
	    {"allowlist: {interfaces: {'(?i)eth0': true}}", true,
	        "config `allowlist.interfaces` has invalid key: (?i)eth0: "
	        "unsupported regular expression syntax"},
	    {"allowlist: {interfaces: {'eth\\pN': true}}", true, NULL},
	    {"allowlist: {interfaces: {'eth[0': true}}", true, NULL},
	};
	struct allowlist *al;
	struct config_err err;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		al = (struct allowlist *)1;
		if (build(t[i].yaml, t[i].local, &al, &err) != VPN_ERR_INVAL)
			fail_msg("accepted: %s", t[i].yaml);
		assert_null(al);
		assert_int_equal(err.line, 1);
		assert_string_equal(err.file, "t.yml");
		if (t[i].msg != NULL && strcmp(err.msg, t[i].msg) != 0)
			fail_msg("%s:\n got  %s\n want %s", t[i].yaml, err.msg,
			    t[i].msg);
		if (t[i].msg == NULL &&
		    strncmp(err.msg, KEY_ERR, strlen(KEY_ERR)) != 0)
			fail_msg("%s: %s", t[i].yaml, err.msg);
	}
}

/* allow_list_test.go TestAllowList_Allow, through the configuration. */
static void
test_allowlist_most_specific_wins(void **state)
{
	static const struct probe p[] = {
	    {"1.1.1.1", true},
	    {"10.0.0.4", false},
	    {"10.42.42.42", true},
	    {"10.42.42.41", false},
	    {"10.42.0.1", true},
	    {"::1", true},
	    {"::2", false},
	    {"::3", true},
	};
	/* 10.42.42.1/24 names 10.42.42.0/24 again: the later wins */
	struct allowlist *al = build_ok("allowlist:\n"
	                                "  10.42.42.42/32: true\n"
	                                "  0.0.0.0/0: true\n"
	                                "  10.42.42.0/24: true\n"
	                                "  10.0.0.0/8: false\n"
	                                "  10.42.0.0/16: true\n"
	                                "  10.42.42.1/24: false\n"
	                                "  '::1/128': true\n"
	                                "  '::2/128': false\n"
	                                "  '::/0': true\n",
	    false);

	(void)state;
	check(al, p, NELEM(p));
	allowlist_free(al);
}

/* examples/config.yml and config.md 3: the implicit defaults. */
static void
test_allowlist_implicit_defaults(void **state)
{
	static const struct probe deny_only[] = {
	    {"172.16.0.1", false}, {"172.31.255.255", false},
	    {"172.32.0.1", true}, {"8.8.8.8", true},
	    {"::1", true}, /* a family without rules allows */
	};
	static const struct probe allow_only[] = {
	    {"192.168.1.1", true},
	    {"10.1.1.1", false},
	    {"fd00::1", true},
	};
	static const struct probe public_and_one[] = {
	    {"8.8.8.8", true},
	    {"10.1.1.1", false},
	    {"10.42.42.7", true},
	};
	static const struct probe v6_only[] = {
	    {"fd00::1", true},
	    {"2001:db8::1", false},
	    {"10.0.0.1", true},
	};
	struct allowlist *al;

	(void)state;
	al = build_ok("allowlist: {'172.16.0.0/12': false}\n", false);
	check(al, deny_only, NELEM(deny_only));
	allowlist_free(al);
	al = build_ok("allowlist: {192.168.0.0/16: true}\n", false);
	check(al, allow_only, NELEM(allow_only));
	allowlist_free(al);
	al = build_ok("allowlist: {'0.0.0.0/0': true, '10.0.0.0/8': false, "
	              "'10.42.42.0/24': true}\n",
	    false);
	check(al, public_and_one, NELEM(public_and_one));
	allowlist_free(al);
	al = build_ok("allowlist: {'fd00::/8': true}\n", false);
	check(al, v6_only, NELEM(v6_only));
	allowlist_free(al);
	/* allow_list_test.go's two valid configurations */
	al = build_ok("allowlist: {0.0.0.0/0: true, 10.0.0.0/8: false, "
	              "10.42.42.0/24: true, '::/0': false, 'fd00::/8': true, "
	              "'fd00:fd00::/16': false}\n",
	    false);
	assert_non_null(al);
	allowlist_free(al);
	/* host bits and a leading zero in the prefix are fine, as in Go */
	al = build_ok("allowlist: {10.1.2.3/08: false}\n", false);
	check(al,
	    (const struct probe[]){{"10.200.0.1", false}, {"11.0.0.1", true}},
	    2);
	allowlist_free(al);
}

/*
 * cidr.Tree6: an IPv4-mapped IPv6 network is counted as an IPv6 rule but
 * decides exactly its IPv4 address among the IPv4 rules.
 */
static void
test_allowlist_mapped_quirk(void **state)
{
	struct allowlist *al =
	    build_ok("allowlist: {'::ffff:10.0.0.0/104': false}\n", false);
	uint8_t b[16];

	(void)state;
	/* v6 default: opposite of false; v4 default: no rules, allow */
	check(al,
	    (const struct probe[]){
	        {"10.0.0.0", false}, {"10.0.0.1", true}, {"2001:db8::1", true}},
	    3);
	/* AllowIpV6 looks a mapped address up among IPv6 rules */
	ip16("10.0.0.0", b);
	assert_true(allowlist_allow6(al, b));
	assert_false(allowlist_allow4(al, ip4("10.0.0.0")));
	allowlist_free(al);
	/* A mapped /96 with a v4 default: counted as v6, so no v4 error. */
	al = build_ok("allowlist: {'::ffff:0.0.0.0/96': false, "
	              "'1.0.0.0/8': true}\n",
	    false);
	check(al,
	    (const struct probe[]){{"0.0.0.0", false}, {"1.2.3.4", true},
	        {"2.0.0.1", false}, {"::1", true}},
	    4);
	allowlist_free(al);
}

/* allow_list_test.go TestLocalAllowList_AllowName and examples. */
static void
test_allowlist_interface_names(void **state)
{
	static const struct {
		const char *yaml, *name;
		bool allow;
	} t[] = {
	    {"{docker.*: false, tun.*: false}", "docker0", false},
	    {"{docker.*: false, tun.*: false}", "tun0", false},
	    {"{docker.*: false, tun.*: false}", "eth0", true},
	    {"{eth.*: true, ens.*: true}", "docker0", false},
	    {"{eth.*: true, ens.*: true}", "eth0", true},
	    {"{eth.*: true, ens.*: true}", "ens5", true},
	    {"{tun0: false, 'docker.*': false}", "tun0", false},
	    {"{tun0: false, 'docker.*': false}", "tun01", true}, /* whole */
	    {"{tun0: false, 'docker.*': false}", "xtun0", true},
	    {"{eth: true}", "eth0", false},
	    {"{'eth\\d+': true}", "eth12", true},
	    {"{'eth\\d+': true}", "ethx", false},
	    {"{'eth\\D': true}", "ethx", true},
	    {"{'[a-z]+[\\d]': true}", "wlan0", true},
	    {"{'[a-z]+[\\d]': true}", "wlan", false},
	    {"{'br\\-lan': true}", "br-lan", true},
	    {"{'(?:eth|wl)0': true}", "wl0", true},
	    {"{'(?:eth|wl)0': true}", "eth1", false},
	    {"{'[[:alpha:]]+0': true}", "eth0", true},
	    {"{'e.h0': true}", "eth0", true},
	    {"{'e\\.h0': true}", "eth0", false},
	    /* Go builds "^" + re + "$": an alternation is not grouped */
	    {"{'eth0|wlan': true}", "eth0x", true},
	    {"{'eth0|wlan': true}", "xwlan", true},
	    {"{'eth0|wlan': true}", "xeth0", false},
	    {"{}", "anything", true},
	};
	char yaml[256];
	struct allowlist *al;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		snprintf(yaml, sizeof(yaml), "allowlist: {interfaces: %s}\n",
		    t[i].yaml);
		al = build_ok(yaml, true);
		if (allowlist_allow_name(al, t[i].name) != t[i].allow)
			fail_msg(
			    "%s %s: want %d", t[i].yaml, t[i].name, t[i].allow);
		/* interfaces only: every address is allowed */
		check(al, (const struct probe[]){{"10.0.0.1", true}}, 1);
		allowlist_free(al);
	}
	/* CIDR rules and names together; names are not on remote lists */
	al = build_ok("allowlist: {interfaces: {tun0: false}, "
	              "10.0.0.0/8: true}\n",
	    true);
	assert_false(allowlist_allow_name(al, "tun0"));
	assert_true(allowlist_allow_name(al, "eth0"));
	check(al,
	    (const struct probe[]){{"10.1.1.1", true}, {"192.168.1.1", false}},
	    2);
	allowlist_free(al);
	al = build_ok("allowlist: {10.0.0.0/8: true}\n", false);
	assert_true(allowlist_allow_name(al, "tun0"));
	allowlist_free(al);
}

static int
build_ranges(const char *yaml, struct allowlist **global,
    struct allowranges **ar, struct config_err *err)
{
	struct config *cfg = NULL;
	struct config_err ce;
	int rc;

	rc = config_load_string(yaml, strlen(yaml), "r.yml", &cfg, &ce);
	if (rc != 0)
		fail_msg("yaml: %s", ce.msg);
	memset(err, 0, sizeof(*err));
	*global = NULL;
	rc = allowlist_build(config_get(cfg, "lighthouse.remote_allow_list"),
	    "lighthouse.remote_allow_list", false, global, err);
	if (rc == 0)
		rc = allowranges_build(
		    config_get(cfg, "lighthouse.remote_allow_ranges"),
		    "lighthouse.remote_allow_ranges", ar, err);
	config_free(cfg);
	return rc;
}

/* remote_allow_ranges: most specific range, and the global list too. */
static void
test_allowlist_remote_ranges(void **state)
{
	static const struct {
		const char *vpn, *ip;
		bool allow;
	} t[] = {
	    /* examples/config.yml: only private IPs for 10.42.42.0/24 */
	    {"10.42.42.7", "192.168.3.4", true},
	    {"10.42.42.7", "8.8.8.8", false},
	    {"10.42.42.7", "::1", true}, /* no v6 rules in the range */
	    /* the more specific 10.42.42.128/25 wins for its half */
	    {"10.42.42.200", "192.168.3.4", false},
	    {"10.42.42.200", "172.16.0.1", true},
	    /* outside every range: only the global list */
	    {"10.1.1.1", "8.8.8.8", true},
	    {"10.1.1.1", "192.168.3.4", true},
	    /* the global list applies inside a range too */
	    {"10.42.42.7", "192.168.66.1", false},
	    {"10.42.42.200", "172.16.66.1", false},
	    {"10.1.1.1", "172.16.66.1", false},
	    /* an IPv6 range key is accepted and never matches */
	    {"10.9.9.9", "8.8.8.8", true},
	};
	struct allowranges *ar = NULL;
	struct allowlist *global = NULL;
	struct config_err err;
	uint8_t b[16];
	size_t i;

	(void)state;
	assert_int_equal(build_ranges("lighthouse:\n"
	                              "  remote_allow_list:\n"
	                              "    192.168.66.0/24: false\n"
	                              "    172.16.66.0/24: false\n"
	                              "  remote_allow_ranges:\n"
	                              "    10.42.42.0/24:\n"
	                              "      192.168.0.0/16: true\n"
	                              "    10.42.42.128/25:\n"
	                              "      172.16.0.0/12: true\n"
	                              "    'fd00::/8':\n"
	                              "      0.0.0.0/0: false\n",
	                     &global, &ar, &err),
	    0);
	assert_non_null(ar);
	assert_null(allowranges_find(ar, ip4("10.1.1.1")));
	assert_non_null(allowranges_find(ar, ip4("10.42.42.1")));
	assert_ptr_not_equal(allowranges_find(ar, ip4("10.42.42.1")),
	    allowranges_find(ar, ip4("10.42.42.129")));
	for (i = 0; i < NELEM(t); i++) {
		ip16(t[i].ip, b);
		if (allowlist_remote_allow(global, ar, ip4(t[i].vpn), b) !=
		    t[i].allow)
			fail_msg("%s from %s: want %d", t[i].ip, t[i].vpn,
			    t[i].allow);
		if (b[10] == 0xff && b[0] == 0)
			assert_true(
			    allowlist_remote_allow4(global, ar, ip4(t[i].vpn),
			        ip4(t[i].ip)) == t[i].allow);
		else
			assert_true(allowlist_remote_allow6(global, ar,
			                ip4(t[i].vpn), b) == t[i].allow);
	}
	/* no lists at all */
	assert_true(allowlist_remote_allow(NULL, NULL, 1, b));
	allowlist_free(global);
	allowranges_free(ar);

	/* a range list without a global list; duplicate ranges: later wins */
	assert_int_equal(build_ranges("lighthouse:\n"
	                              "  remote_allow_ranges:\n"
	                              "    10.0.0.0/8: {1.0.0.0/8: true}\n"
	                              "    10.0.0.1/8: {2.0.0.0/8: true}\n",
	                     &global, &ar, &err),
	    0);
	assert_null(global);
	ip16("2.2.2.2", b);
	assert_true(allowlist_remote_allow(global, ar, ip4("10.0.0.5"), b));
	ip16("1.1.1.1", b);
	assert_false(allowlist_remote_allow(global, ar, ip4("10.0.0.5"), b));
	assert_true(allowlist_remote_allow(global, ar, ip4("11.0.0.5"), b));
	allowranges_free(ar);
}

static void
test_allowlist_remote_ranges_errors(void **state)
{
	static const struct {
		const char *yaml, *msg;
	} t[] = {
	    {"lighthouse: {remote_allow_ranges: 5}",
	        "config `lighthouse.remote_allow_ranges` has invalid type: "
	        "int"},
	    /* the inner list is checked before the key's CIDR */
	    {"lighthouse: {remote_allow_ranges: {foo: {bar: true}}}",
	        "config `lighthouse.remote_allow_ranges.foo` has invalid CIDR: "
	        "bar"},
	    {"lighthouse: {remote_allow_ranges: {foo: {}}}",
	        "config `lighthouse.remote_allow_ranges` has invalid CIDR: "
	        "foo"},
	    {"lighthouse: {remote_allow_ranges: {10.0.0.0/8: }}",
	        "config `lighthouse.remote_allow_ranges.10.0.0.0/8` has "
	        "invalid type: <nil>"},
	    {"lighthouse: {remote_allow_ranges: {10.0.0.0/8: "
	     "{1.0.0.0/8: true, 2.0.0.0/8: false}}}",
	        "config `lighthouse.remote_allow_ranges.10.0.0.0/8` contains "
	        "both true and false rules, but no default set for 0.0.0.0/0"},
	    {"lighthouse: {remote_allow_ranges: {10.0.0.0/8: "
	     "{interfaces: {eth0: true}}}}",
	        "config `lighthouse.remote_allow_ranges.10.0.0.0/8` has "
	        "invalid value (type map[interface {}]interface {}): map[...]"},
	};
	struct allowranges *ar;
	struct allowlist *global;
	struct config_err err;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		ar = (struct allowranges *)1;
		if (build_ranges(t[i].yaml, &global, &ar, &err) !=
		    VPN_ERR_INVAL)
			fail_msg("accepted: %s", t[i].yaml);
		assert_null(ar);
		assert_null(global);
		if (strcmp(err.msg, t[i].msg) != 0)
			fail_msg("%s:\n got  %s\n want %s", t[i].yaml, err.msg,
			    t[i].msg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_allowlist_absent_allows_all),
	    cmocka_unit_test(test_allowlist_empty_map_allows_all),
	    cmocka_unit_test(test_allowlist_build_errors),
	    cmocka_unit_test(test_allowlist_most_specific_wins),
	    cmocka_unit_test(test_allowlist_implicit_defaults),
	    cmocka_unit_test(test_allowlist_mapped_quirk),
	    cmocka_unit_test(test_allowlist_interface_names),
	    cmocka_unit_test(test_allowlist_remote_ranges),
	    cmocka_unit_test(test_allowlist_remote_ranges_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
