/* test/unit/test_certfmt.c: print output equals nebula-cert 1.6.1's, byte
 * for byte, for every fixture (text and JSON). */
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

#include "testutil.h"

#include "cert.h"
#include "certfmt.h"
#include "err.h"
#include "pem.h"

#define FX "fixtures/nebula-1.6.1/"

/* Format every cert of a PEM file as print does, one per line. */
static char *
print_all(const char *crt, bool json)
{
	struct sbuf b;
	struct cert *c;
	size_t len, off = 0, used;
	char *pem = tu_slurp(crt, &len);

	sbuf_init(&b);
	do {
		assert_int_equal(cert_from_pem(pem + off, len - off, &c, &used),
		    0);
		off += used;
		assert_int_equal(json ? certfmt_json(&b, c) :
		                        certfmt_text(&b, c),
		    0);
		sbuf_puts(&b, "\n");
		cert_free(c);
	} while (!pem_rest_empty(pem + off, len - off));
	free(pem);
	return b.s;
}

static void
test_certfmt_matches_nebula_cert(void **state)
{
	static const char *names[] = {"ca", "ca2", "ca-expired", "lighthouse",
	    "host-a", "host-b", "expired", "other-host"};
	char path[128], *got, *want;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), FX "%s.crt", names[i]);
		got = print_all(path, true);
		snprintf(path, sizeof(path), FX "print/%s.json", names[i]);
		want = tu_slurp(path, &len);
		assert_string_equal(got, want);
		free(got);
		free(want);
		snprintf(path, sizeof(path), FX "%s.crt", names[i]);
		got = print_all(path, false);
		snprintf(path, sizeof(path), FX "print/%s.txt", names[i]);
		want = tu_slurp(path, &len);
		assert_string_equal(got, want);
		free(got);
		free(want);
	}
	got = print_all(FX "ca-bundle.crt", true);
	want = tu_slurp(FX "print/ca-bundle.json", &len);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

/* Go's escaping and an empty certificate; the fingerprint is sha256 of
 * 0a 0d 0a 07 '<a&"b">' 22 02 'g\n', computed independently. */
static void
test_certfmt_json_escapes_and_empty(void **state)
{
	struct cert *c = cert_new();
	struct sbuf b;

	(void)state;
	assert_int_equal(cert_set_name(c, "<a&\"b\">", 7), 0);
	assert_int_equal(cert_add_group(c, "g\n", 2), 0);
	sbuf_init(&b);
	assert_int_equal(certfmt_json(&b, c), 0);
	assert_string_equal(b.s,
	    "{\"details\":{\"groups\":[\"g\\n\"],\"ips\":[],\"isCa\":false,"
	    "\"issuer\":\"\",\"name\":\"\\u003ca\\u0026\\\"b\\\"\\u003e\","
	    "\"notAfter\":\"1970-01-01T00:00:00Z\",\"notBefore\":"
	    "\"1970-01-01T00:00:00Z\",\"publicKey\":\"\",\"subnets\":[]},"
	    "\"fingerprint\":\"3538374094c338dad9fce1948259b267b9d77c1f23f29e"
	    "17d8e9f884cb740f30\",\"signature\":\"\"}");
	sbuf_free(&b);
	cert_free(c);
}

/*
 * A notBefore of 2^57 - 1 seconds (fuzz_cert's input): past the year
 * that the C library breaks a time into, so neither form can show it;
 * both refuse it with VPN_ERR_RANGE (gotime.h) and append nothing.
 */
static void
test_certfmt_time_beyond_broken_down(void **state)
{
	struct cert *c = cert_new();
	struct sbuf b;

	(void)state;
	assert_non_null(c);
	assert_int_equal(cert_set_name(c, "t", 1), 0);
	c->not_before = (INT64_C(1) << 57) - 1;
	c->not_after = 310533674236;
	sbuf_init(&b);
	assert_int_equal(certfmt_text(&b, c), VPN_ERR_RANGE);
	assert_int_equal(certfmt_json(&b, c), VPN_ERR_RANGE);
	assert_int_equal(b.len, 0);
	sbuf_free(&b);
	cert_free(c);
}

static int
utc(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_certfmt_matches_nebula_cert),
	    cmocka_unit_test(test_certfmt_json_escapes_and_empty),
	    cmocka_unit_test(test_certfmt_time_beyond_broken_down),
	};

	return cmocka_run_group_tests(tests, utc, NULL);
}
