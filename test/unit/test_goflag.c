/* test/unit/test_goflag.c: Go flag package grammar, messages and usage. */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goflag.h"

#define NS_H (3600LL * 1000000000LL)
#define MAXARGS 8

/* A flag set shaped like nebula-cert's, plus a one-letter bool. */
enum { F_NAME, F_OUT_CRT, F_DURATION, F_JSON, F_V, F_COUNT };

static void
flags_init(struct goflag *f)
{
	memset(f, 0, F_COUNT * sizeof(*f));
	f[F_NAME] = (struct goflag){.name = "name", .type = GOFLAG_STRING};
	f[F_OUT_CRT] = (struct goflag){
	    .name = "out-crt", .type = GOFLAG_STRING, .s = "ca.crt"};
	f[F_DURATION] = (struct goflag){
	    .name = "duration", .type = GOFLAG_DURATION, .d = 8760 * NS_H};
	f[F_JSON] = (struct goflag){.name = "json", .type = GOFLAG_BOOL};
	f[F_V] = (struct goflag){.name = "v", .type = GOFLAG_BOOL};
}

/* Runs goflag_parse over a NULL-terminated list, from index 0. */
static int
parse(struct goflag *f, const char *const *args, int *argi, char *err,
    size_t errlen)
{
	char *argv[MAXARGS + 1];
	int argc = 0;

	while (args[argc] != NULL) {
		assert_true(argc < MAXARGS);
		argv[argc] = (char *)(uintptr_t)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	*argi = 0;
	return goflag_parse(f, F_COUNT, argc, argv, argi, err, errlen);
}

static void
test_goflag_error_messages(void **state)
{
	static const struct {
		const char *args[4];
		int argi; /* where parsing stopped */
		const char *msg;
	} tc[] = {
	    {{"---x"}, 0, "bad flag syntax: ---x"},
	    {{"-=x"}, 0, "bad flag syntax: -=x"},
	    {{"--=x"}, 0, "bad flag syntax: --=x"},
	    {{"-="}, 0, "bad flag syntax: -="},
	    {{"-json", "----"}, 1, "bad flag syntax: ----"},
	    {{"-bogus"}, 1, "flag provided but not defined: -bogus"},
	    {{"--bogus=1"}, 1, "flag provided but not defined: -bogus"},
	    {{"-name=x", "-bogus"}, 2, "flag provided but not defined: -bogus"},
	    {{"-Name"}, 1, "flag provided but not defined: -Name"},
	    {{"-json=maybe"}, 1,
	        "invalid boolean value \"maybe\" for -json: parse error"},
	    {{"--json="}, 1,
	        "invalid boolean value \"\" for -json: parse error"},
	    {{"-v=yes"}, 1,
	        "invalid boolean value \"yes\" for -v: parse error"},
	    {{"-duration"}, 1, "flag needs an argument: -duration"},
	    {{"-json", "--name"}, 2, "flag needs an argument: -name"},
	    {{"-duration", "1x"}, 2,
	        "invalid value \"1x\" for flag -duration: parse error"},
	    {{"-duration="}, 1,
	        "invalid value \"\" for flag -duration: parse error"},
	    {{"--duration=1.h."}, 1,
	        "invalid value \"1.h.\" for flag -duration: parse error"},
	    {{"-duration", "9999999999h"}, 2,
	        "invalid value \"9999999999h\" for flag -duration: "
	        "parse error"},
	    {{"-duration", "a\"b\\c\n\t\x01"}, 2,
	        "invalid value \"a\\\"b\\\\c\\n\\t\\x01\" for flag "
	        "-duration: parse error"},
	};
	struct goflag f[F_COUNT];
	char err[256];
	size_t i;
	int argi;

	(void)state;
	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		flags_init(f);
		assert_int_equal(
		    parse(f, tc[i].args, &argi, err, sizeof(err)), -1);
		assert_string_equal(err, tc[i].msg);
		assert_int_equal(argi, tc[i].argi);
	}
}

static void
test_goflag_bad_value_resets_to_zero(void **state)
{
	static const char *const a1[] = {"-duration", "nope", NULL};
	static const char *const a2[] = {"-json", "-json=nope", NULL};
	struct goflag f[F_COUNT];
	char err[128];
	int argi;

	(void)state;
	flags_init(f);
	assert_int_equal(parse(f, a1, &argi, err, sizeof(err)), -1);
	assert_true(f[F_DURATION].d == 0); /* Go stores the zero value */
	assert_false(f[F_DURATION].set);
	flags_init(f);
	assert_int_equal(parse(f, a2, &argi, err, sizeof(err)), -1);
	assert_false(f[F_JSON].b);
	assert_true(f[F_JSON].set); /* from the first, good -json */
}

static void
test_goflag_stops(void **state)
{
	static const struct {
		const char *args[5];
		int argi;
	} tc[] = {
	    {{NULL}, 0}, {{"file"}, 0}, {{"-"}, 0}, {{""}, 0}, {{"--"}, 1},
	    {{"--", "-json"}, 1}, {{"-json", "--", "--"}, 2},
	    {{"-json", "file", "-v"}, 1}, {{"-json", "-", "-v"}, 1},
	    {{"-name", "x", "y", "-v"}, 2},
	    {{"-json", "true", "-v"}, 1}, /* bools take no argument */
	};
	struct goflag f[F_COUNT];
	char err[64];
	size_t i;
	int argi;

	(void)state;
	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		flags_init(f);
		assert_int_equal(
		    parse(f, tc[i].args, &argi, err, sizeof(err)), 0);
		assert_int_equal(argi, tc[i].argi);
		assert_string_equal(err, "");
		assert_false(f[F_V].set);
	}
}

static void
test_goflag_starts_at_argi(void **state)
{
	char *argv[] = {(char *)"nebula-cert", (char *)"ca", (char *)"-v",
	    (char *)"rest", NULL};
	struct goflag f[F_COUNT];
	char err[64];
	int argi = 2;

	(void)state;
	flags_init(f);
	assert_int_equal(
	    goflag_parse(f, F_COUNT, 4, argv, &argi, err, sizeof(err)), 0);
	assert_int_equal(argi, 3);
	assert_true(f[F_V].b);
	argi = 4; /* nothing left */
	assert_int_equal(
	    goflag_parse(f, F_COUNT, 4, argv, &argi, err, sizeof(err)), 0);
	assert_int_equal(argi, 4);
}

static void
test_goflag_value_forms(void **state)
{
	static const struct {
		const char *args[4];
		const char *name;
		int argi;
	} tc[] = {
	    {{"-name", "x"}, "x", 2},
	    {{"--name", "x"}, "x", 2},
	    {{"-name=x"}, "x", 1},
	    {{"--name=x"}, "x", 1},
	    {{"-name=a=b"}, "a=b", 1},
	    {{"-name="}, "", 1},
	    {{"-name", ""}, "", 2},
	    {{"-name", "-json"}, "-json", 2}, /* taken as the value */
	    {{"-name", "--"}, "--", 2},
	    {{"-name", "-"}, "-", 2},
	};
	struct goflag f[F_COUNT];
	char err[64];
	size_t i;
	int argi;

	(void)state;
	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		flags_init(f);
		assert_int_equal(
		    parse(f, tc[i].args, &argi, err, sizeof(err)), 0);
		assert_string_equal(f[F_NAME].s, tc[i].name);
		assert_true(f[F_NAME].set);
		assert_false(f[F_JSON].set);
		assert_int_equal(argi, tc[i].argi);
	}
}

static void
test_goflag_defaults_kept(void **state)
{
	static const char *const args[] = {"-name", "n", NULL};
	struct goflag f[F_COUNT];
	char err[64];
	int argi;

	(void)state;
	flags_init(f);
	f[F_JSON].b = true;
	assert_int_equal(parse(f, args, &argi, err, sizeof(err)), 0);
	assert_string_equal(f[F_OUT_CRT].s, "ca.crt");
	assert_false(f[F_OUT_CRT].set);
	assert_true(f[F_DURATION].d == 8760 * NS_H);
	assert_false(f[F_DURATION].set);
	assert_true(f[F_JSON].b);
	assert_false(f[F_JSON].set);
}

static void
test_goflag_bool_forms(void **state)
{
	static const struct {
		const char *arg;
		bool want;
	} tc[] = {
	    {"-json", true},
	    {"--json", true},
	    {"-json=1", true},
	    {"-json=t", true},
	    {"-json=T", true},
	    {"-json=TRUE", true},
	    {"-json=true", true},
	    {"-json=True", true},
	    {"-json=0", false},
	    {"-json=f", false},
	    {"-json=F", false},
	    {"-json=FALSE", false},
	    {"-json=false", false},
	    {"--json=False", false},
	};
	static const char *const bad[] = {"-json=tRUE", "-json=yes", "-json=2",
	    "-json= true", "-json=truex", "-json="};
	struct goflag f[F_COUNT];
	const char *args[2] = {NULL, NULL};
	char err[128];
	size_t i;
	int argi;

	(void)state;
	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		flags_init(f);
		f[F_JSON].b = !tc[i].want;
		args[0] = tc[i].arg;
		assert_int_equal(parse(f, args, &argi, err, sizeof(err)), 0);
		assert_true(f[F_JSON].b == tc[i].want);
		assert_true(f[F_JSON].set);
		assert_int_equal(argi, 1);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		flags_init(f);
		args[0] = bad[i];
		assert_int_equal(parse(f, args, &argi, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "invalid boolean value \""));
	}
}

static void
test_goflag_last_wins(void **state)
{
	static const char *const args[] = {"-name", "a", "--name=b", "-json",
	    "-json=false", "-duration", "1h", "-duration=90s", NULL};
	struct goflag f[F_COUNT];
	char err[64];
	int argi;

	(void)state;
	flags_init(f);
	assert_int_equal(parse(f, args, &argi, err, sizeof(err)), 0);
	assert_int_equal(argi, 8);
	assert_string_equal(f[F_NAME].s, "b");
	assert_false(f[F_JSON].b);
	assert_true(f[F_JSON].set);
	assert_true(f[F_DURATION].d == 90LL * 1000000000LL);
}

static void
test_goflag_duration_values(void **state)
{
	static const struct {
		const char *args[3];
		int64_t want;
	} tc[] = {
	    {{"-duration", "1.5h"}, 5400LL * 1000000000LL},
	    {{"-duration=0"}, 0},
	    {{"-duration", "-1m"}, -60LL * 1000000000LL},
	    {{"--duration=2h45m"}, 9900LL * 1000000000LL},
	    {{"-duration", "300ms"}, 300000000LL},
	};
	struct goflag f[F_COUNT];
	char err[64];
	size_t i;
	int argi;

	(void)state;
	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		flags_init(f);
		assert_int_equal(
		    parse(f, tc[i].args, &argi, err, sizeof(err)), 0);
		assert_true(f[F_DURATION].d == tc[i].want);
		assert_true(f[F_DURATION].set);
	}
}

static void
test_goflag_help(void **state)
{
	static const char *const helps[] = {
	    "-h", "-help", "--h", "--help", "-help=1", "--h=x"};
	static const char *const after[] = {"-json", "-h", "-bogus", NULL};
	static const char *const not_help[] = {"-hh", "-Help", "-H"};
	struct goflag f[F_COUNT + 1];
	const char *args[2] = {NULL, NULL};
	char err[64];
	size_t i;
	int argi;

	(void)state;
	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		flags_init(f);
		args[0] = helps[i];
		assert_int_equal(
		    parse(f, args, &argi, err, sizeof(err)), GOFLAG_HELP);
		assert_int_equal(argi, 1);
		assert_string_equal(err, "");
	}
	/* flags before it are applied; nothing after it is looked at */
	flags_init(f);
	assert_int_equal(parse(f, after, &argi, err, sizeof(err)), GOFLAG_HELP);
	assert_true(f[F_JSON].b);
	assert_int_equal(argi, 2);
	for (i = 0; i < sizeof(not_help) / sizeof(not_help[0]); i++) {
		flags_init(f);
		args[0] = not_help[i];
		assert_int_equal(parse(f, args, &argi, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "not defined"));
	}
}

static void
test_goflag_help_defined(void **state)
{
	char *argv[] = {(char *)"-h", (char *)"-help=false", NULL};
	struct goflag f[] = {
	    {.name = "h", .type = GOFLAG_BOOL},
	    {.name = "help", .type = GOFLAG_BOOL, .b = true},
	};
	char err[64];
	int argi = 0;

	(void)state;
	assert_int_equal(
	    goflag_parse(f, 2, 2, argv, &argi, err, sizeof(err)), 0);
	assert_true(f[0].b && f[0].set);
	assert_true(!f[1].b && f[1].set);
}

static void
test_goflag_error_truncated(void **state)
{
	static const char *const args[] = {"-a-very-long-unknown-flag", NULL};
	struct goflag f[F_COUNT];
	char err[8];
	int argi;

	(void)state;
	flags_init(f);
	memset(err, 'X', sizeof(err));
	assert_int_equal(parse(f, args, &argi, err, sizeof(err)), -1);
	assert_string_equal(err, "flag pr");
	flags_init(f);
	assert_int_equal(parse(f, args, &argi, NULL, 0), -1);
}

static void
test_goflag_quote(void **state)
{
	static const struct {
		const char *in, *want;
	} tc[] = {
	    {"", "\"\""},
	    {"abc 123", "\"abc 123\""},
	    {"a\"b\\c", "\"a\\\"b\\\\c\""},
	    {"\a\b\f\n\r\t\v", "\"\\a\\b\\f\\n\\r\\t\\v\""},
	    {"\x01\x1b\x7f", "\"\\x01\\x1b\\x7f\""},
	    {"'`", "\"'`\""},
	    {"\xc3\xa9\xe6\x97\xa5\xf0\x9f\x99\x82", /* é日🙂 */
	        "\"\xc3\xa9\xe6\x97\xa5\xf0\x9f\x99\x82\""},
	    {"\xef\xbf\xbd", "\"\xef\xbf\xbd\""}, /* a real U+FFFD */
	    /* invalid UTF-8: each bad byte as \x */
	    {"\xff\xc3(", "\"\\xff\\xc3(\""},
	    {"\xe0\x80\x80", "\"\\xe0\\x80\\x80\""}, /* overlong */
	    {"\xed\xa0\x80", "\"\\xed\\xa0\\x80\""}, /* surrogate */
	    {"\xf4\x90\x80\x80", "\"\\xf4\\x90\\x80\\x80\""},
	    {"\xc0\xaf", "\"\\xc0\\xaf\""},
	    {"\xe6\x97", "\"\\xe6\\x97\""}, /* truncated */
	    /* valid but not printable */
	    {"\xc2\x85\xc2\xa0\xc2\xad", "\"\\u0085\\u00a0\\u00ad\""},
	    {"\xe2\x80\x8b\xe2\x80\xa8\xef\xbb\xbf",
	        "\"\\u200b\\u2028\\ufeff\""},
	    {"\xee\x80\x80\xe3\x80\x80", "\"\\ue000\\u3000\""},
	    {"\xf3\xb0\x80\x80\xf3\xa0\x80\x81", "\"\\U000f0000\\U000e0001\""},
	};
	char buf[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		goflag_quote(tc[i].in, buf, sizeof(buf));
		assert_string_equal(buf, tc[i].want);
	}
	goflag_quote("abcdef", buf, 4);
	assert_string_equal(buf, "\"ab");
}

/* goflag_print_defaults() into a string; the caller frees it. */
static char *
defaults(const struct goflag *f, size_t n)
{
	char *p = NULL;
	size_t len = 0;
	FILE *out;

	assert_non_null(out = open_memstream(&p, &len));
	goflag_print_defaults(out, f, n);
	assert_int_equal(fclose(out), 0);
	return p;
}

/*
 * A flag set shaped like nebula-cert's `ca` (declaration order differs
 * from the sorted output; string, duration and default values), with our
 * own texts: the layout is Go's PrintDefaults byte for byte.
 */
static void
test_goflag_print_defaults_ca_shape(void **state)
{
	static const char want[] =
	    "  -duration duration\n"
	    "    \tOptional: validity (default 8760h0m0s)\n"
	    "  -groups string\n"
	    "    \tOptional: groups\n"
	    "  -name string\n"
	    "    \tRequired: the name\n"
	    "  -out-crt string\n"
	    "    \tOptional: certificate path (default \"ca.crt\")\n"
	    "  -out-key string\n"
	    "    \tOptional: key path\n"
	    "    \tsecond line (default \"ca.key\")\n";
	const struct goflag f[] = {
	    {.name = "name", .type = GOFLAG_STRING, .s = "",
	        .usage = "Required: the name"},
	    {.name = "duration", .type = GOFLAG_DURATION, .d = 8760 * NS_H,
	        .usage = "Optional: validity"},
	    {.name = "out-key", .type = GOFLAG_STRING, .s = "ca.key",
	        .usage = "Optional: key path\nsecond line"},
	    {.name = "out-crt", .type = GOFLAG_STRING, .s = "ca.crt",
	        .usage = "Optional: certificate path"},
	    {.name = "groups", .type = GOFLAG_STRING, .s = "",
	        .usage = "Optional: groups"},
	};
	char *got;

	(void)state;
	got = defaults(f, sizeof(f) / sizeof(f[0]));
	assert_string_equal(got, want);
	free(got);
}

/* A bool among strings, shaped like nebula-cert's `print`. */
static void
test_goflag_print_defaults_print_shape(void **state)
{
	static const char want[] =
	    "  -json\n"
	    "    \tOptional: json output\n"
	    "  -path string\n"
	    "    \tRequired: the file\n";
	const struct goflag f[] = {
	    {.name = "path", .type = GOFLAG_STRING, .s = "",
	        .usage = "Required: the file"},
	    {.name = "json", .type = GOFLAG_BOOL,
	        .usage = "Optional: json output"},
	};
	char *got;

	(void)state;
	got = defaults(f, sizeof(f) / sizeof(f[0]));
	assert_string_equal(got, want);
	free(got);
}

/* The layout rules, after Go's own flag_test.go TestPrintDefaults. */
static void
test_goflag_print_defaults_forms(void **state)
{
	static const char want[] =
	    "  -A\tfor bootstrapping, allow 'any' type\n"
	    "  -Alongflagname\n"
	    "    \tdisable bounds checking\n"
	    "  -C\ta boolean defaulting to true (default true)\n"
	    "  -D path\n"
	    "    \tset relative path for local imports\n"
	    "  -E string\n"
	    "    \tissue 23543 (default \"0\")\n"
	    "  -M string\n"
	    "    \ta multiline\n"
	    "    \thelp\n"
	    "    \tstring\n"
	    "  -O\ta flag\n"
	    "    \tmultiline help string (default true)\n"
	    "  -Q string\n"
	    "    \tone ` quote (default \"a\\\"b\\n\")\n"
	    "  -b name\n"
	    "    \ta bool with a name\n"
	    "  -d duration\n"
	    "    \tzero duration\n"
	    "  -e\tempty name: \n"
	    "  -maxT timeout\n"
	    "    \tset timeout for dial (default 1.5s)\n"
	    "  -n duration\n"
	    "    \tnegative (default -1m0s)\n"
	    "  -x\t\n";
	const struct goflag f[] = {
	    {.name = "maxT",
	        .type = GOFLAG_DURATION,
	        .d = 1500000000,
	        .usage = "set `timeout` for dial"},
	    {.name = "A",
	        .type = GOFLAG_BOOL,
	        .usage = "for bootstrapping, allow 'any' type"},
	    {.name = "Alongflagname",
	        .type = GOFLAG_BOOL,
	        .usage = "disable bounds checking"},
	    {.name = "C",
	        .type = GOFLAG_BOOL,
	        .b = true,
	        .usage = "a boolean defaulting to true"},
	    {.name = "D",
	        .type = GOFLAG_STRING,
	        .usage = "set relative `path` for local imports"},
	    {.name = "E",
	        .type = GOFLAG_STRING,
	        .s = "0",
	        .usage = "issue 23543"},
	    {.name = "M",
	        .type = GOFLAG_STRING,
	        .usage = "a multiline\nhelp\nstring"},
	    {.name = "O",
	        .type = GOFLAG_BOOL,
	        .b = true,
	        .usage = "a flag\nmultiline help string"},
	    {.name = "Q",
	        .type = GOFLAG_STRING,
	        .s = "a\"b\n",
	        .usage = "one ` quote"},
	    {.name = "b", .type = GOFLAG_BOOL, .usage = "a bool with a `name`"},
	    {.name = "d", .type = GOFLAG_DURATION, .usage = "zero duration"},
	    {.name = "e", .type = GOFLAG_STRING, .usage = "empty name: ``"},
	    {.name = "n",
	        .type = GOFLAG_DURATION,
	        .d = -60000000000,
	        .usage = "negative"},
	    {.name = "x", .type = GOFLAG_BOOL, .usage = NULL},
	};
	char *got;

	(void)state;
	got = defaults(f, sizeof(f) / sizeof(f[0]));
	assert_string_equal(got, want);
	free(got);
	got = defaults(f, 0);
	assert_string_equal(got, "");
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_goflag_error_messages),
	    cmocka_unit_test(test_goflag_bad_value_resets_to_zero),
	    cmocka_unit_test(test_goflag_stops),
	    cmocka_unit_test(test_goflag_starts_at_argi),
	    cmocka_unit_test(test_goflag_value_forms),
	    cmocka_unit_test(test_goflag_defaults_kept),
	    cmocka_unit_test(test_goflag_bool_forms),
	    cmocka_unit_test(test_goflag_last_wins),
	    cmocka_unit_test(test_goflag_duration_values),
	    cmocka_unit_test(test_goflag_help),
	    cmocka_unit_test(test_goflag_help_defined),
	    cmocka_unit_test(test_goflag_error_truncated),
	    cmocka_unit_test(test_goflag_quote),
	    cmocka_unit_test(test_goflag_print_defaults_ca_shape),
	    cmocka_unit_test(test_goflag_print_defaults_print_shape),
	    cmocka_unit_test(test_goflag_print_defaults_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
