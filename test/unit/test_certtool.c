/* test/unit/test_certtool.c: cert-tool's own pieces: the encrypted key
 * format, the ledger, list splitting and time arithmetic. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "crypto.h"
#include "ct.h"
#include "err.h"

#define LOG2N_FAST 10 /* scrypt cost for tests; the tool writes 17 */

static void
test_certtool_keyfile_round_trip(void **state)
{
	uint8_t key[64], back[64], *blob;
	size_t len;

	(void)state;
	assert_int_equal(crypto_ed25519_keypair(key), 0);
	assert_int_equal(keyfile_seal(key, "pw", 2, LOG2N_FAST, &blob, &len),
	    0);
	assert_int_equal(len, 116);
	assert_memory_equal(blob, "NCKE\x01", 5);
	assert_int_equal(blob[5], LOG2N_FAST);
	assert_int_equal(keyfile_open(blob, len, "pw", 2, back), 0);
	assert_memory_equal(key, back, 64);
	free(blob);
}

static void
test_certtool_keyfile_wrong_pass_and_tamper(void **state)
{
	uint8_t key[64], back[64], *blob;
	size_t len, i;

	(void)state;
	assert_int_equal(crypto_ed25519_keypair(key), 0);
	assert_int_equal(keyfile_seal(key, "right", 5, LOG2N_FAST, &blob,
	                     &len),
	    0);
	assert_int_equal(keyfile_open(blob, len, "wrong", 5, back),
	    VPN_ERR_KEY_PASSPHRASE);
	/* Every byte after the magic and parameters is authenticated. */
	for (i = 8; i < len; i += 7) {
		blob[i] ^= 1;
		assert_int_equal(keyfile_open(blob, len, "right", 5, back),
		    VPN_ERR_KEY_PASSPHRASE);
		blob[i] ^= 1;
	}
	/* Header fields out of range are a format error, not a crash. */
	blob[5] = 40;
	assert_int_equal(keyfile_open(blob, len, "right", 5, back),
	    VPN_ERR_KEY_FORMAT);
	blob[5] = LOG2N_FAST;
	assert_int_equal(keyfile_open(blob, len - 1, "right", 5, back),
	    VPN_ERR_KEY_FORMAT);
	blob[0] = 'X';
	assert_int_equal(keyfile_open(blob, len, "right", 5, back),
	    VPN_ERR_KEY_FORMAT);
	free(blob);
}

static void
test_certtool_split(void **state)
{
	char s1[] = " a , ,b,,  c d ,", s2[] = "x\t, y", *it[8];

	(void)state;
	assert_int_equal(ct_split(s1, it, 8, false), 3);
	assert_string_equal(it[0], "a");
	assert_string_equal(it[1], "b");
	assert_string_equal(it[2], "c d");
	/* Networks are trimmed of spaces only, as Nebula does. */
	assert_int_equal(ct_split(s2, it, 1, true), 2);
	assert_string_equal(it[0], "x\t");
}

static void
test_certtool_add_duration(void **state)
{
	(void)state;
	assert_int_equal(ct_add(100, 0, 1000000000LL), 101);
	assert_int_equal(ct_add(100, 999999999, 1), 101);
	assert_int_equal(ct_add(100, 500000000, 499999999), 100);
	/* The sign default: (end - now) - 1s lands one second early. */
	assert_int_equal(ct_add(100, 250000000,
	                     (200 - 100) * 1000000000LL - 250000000 -
	                         1000000000LL),
	    199);
	assert_int_equal(ct_add(100, 0, -1), 99);
}

static struct cert *
sample(const char *name)
{
	struct cert *c = cert_new();
	struct ip4net n = {0x0a000001, 0xffff0000};
	uint8_t k[32] = {1}, fp[32] = {2};

	assert_non_null(c);
	assert_int_equal(cert_set_name(c, name, strlen(name)), 0);
	assert_int_equal(cert_add_ip(c, &n), 0);
	assert_int_equal(cert_add_group(c, "web", 3), 0);
	assert_int_equal(cert_add_group(c, "a\tb", 3), 0);
	assert_int_equal(cert_set_pubkey(c, k, 32), 0);
	assert_int_equal(cert_set_issuer(c, fp, 32), 0);
	c->not_before = 1795323946;
	c->not_after = 2426043945;
	return c;
}

/* Run ledger_list with stdout captured into a string. */
static char *
list(const char *data, size_t len, bool json, const char *name,
    enum ct_status *st)
{
	struct ct ct;
	char *out;
	FILE *f;
	long n;
	int saved = dup(1);

	memset(&ct, 0, sizeof(ct));
	f = tmpfile();
	assert_non_null(f);
	fflush(stdout);
	dup2(fileno(f), 1);
	*st = ledger_list(&ct, data, len, json, name);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	n = ftell(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	out = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(out, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return out;
}

static void
test_certtool_ledger_append_list_rollback(void **state)
{
	char path[] = "/tmp/test_certtool_ledgerXXXXXX", err[256], *data,
	     *out;
	struct cert *c1 = sample("web,1"), *c2 = sample("db\n2");
	struct ledger *l;
	enum ct_status st;
	struct stat sb;
	size_t len, len1;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	assert_int_equal(ledger_begin(path, &l, err, sizeof(err)), 0);
	assert_int_equal(ledger_append(l, 1795323946, c1, err, sizeof(err)),
	    0);
	ledger_end(l);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	len1 = (size_t)sb.st_size;
	assert_int_equal(ledger_begin(path, &l, err, sizeof(err)), 0);
	assert_int_equal(ledger_append(l, 1795323947, c2, err, sizeof(err)),
	    0);
	ledger_rollback(l); /* the certificate could not be written */
	ledger_end(l);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal((size_t)sb.st_size, len1);
	assert_int_equal(ledger_begin(path, &l, err, sizeof(err)), 0);
	assert_int_equal(ledger_append(l, 1795323948, c2, err, sizeof(err)),
	    0);
	ledger_end(l);

	assert_int_equal(fileio_read(path, CT_MAX_FILE, &data, &len, err, sizeof(err)), 0);
	assert_non_null(strstr(data, "# cert-tool issuance ledger v1"));
	assert_non_null(strstr(data, "web\\,1\t10.0.0.1/16\tweb,a\\tb\t"));
	out = list(data, len, true, NULL, &st);
	assert_int_equal(st, CT_OK);
	assert_non_null(strstr(out, "\"name\":\"web,1\""));
	assert_non_null(strstr(out, "\"groups\":[\"web\",\"a\\tb\"]"));
	assert_non_null(strstr(out, "\"name\":\"db\\n2\""));
	assert_non_null(strstr(out, "\"issued\":\"2026-11-22T05:05:48Z\""));
	assert_non_null(strstr(out, "\"notAfter\":\"2046-11-17T05:05:45Z\""));
	free(out);
	out = list(data, len, false, "web,1", &st);
	assert_int_equal(st, CT_OK);
	assert_non_null(strstr(out, "name=web\\,1"));
	assert_null(strstr(out, "db"));
	assert_non_null(strchr(out, '\n'));
	assert_null(strchr(out, '\n') + 1 == NULL ? NULL : strchr(strchr(out, '\n') + 1, '\n'));
	free(out);
	free(data);
	unlink(path);
	cert_free(c1);
	cert_free(c2);
}

static void
test_certtool_ledger_rejects_malformed(void **state)
{
	static const char *bad[] = {
	    "a\tb\n",			     /* too few fields */
	    "1\t2\t3\t4\t5\t6\t7\t8\t9\n", /* too many */
	    "1\t2\t3\t4\t5\t6\t7\t8\\q\n", /* unknown escape */
	    "1\t2\t3\t4\t5\t6\t7\t8\\",	     /* dangling escape */
	};
	enum ct_status st;
	size_t i;
	char *out;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = list(bad[i], strlen(bad[i]), false, NULL, &st);
		assert_int_equal(st, CT_ERR);
		assert_string_equal(out, "");
		free(out);
	}
	/* A NUL inside a line is malformed too. */
	out = list("1\t2\0\t3", 7, true, NULL, &st);
	assert_int_equal(st, CT_ERR);
	free(out);
	out = list("# only a comment\n\n", 18, true, NULL, &st);
	assert_int_equal(st, CT_OK);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_certtool_keyfile_round_trip),
	    cmocka_unit_test(test_certtool_keyfile_wrong_pass_and_tamper),
	    cmocka_unit_test(test_certtool_split),
	    cmocka_unit_test(test_certtool_add_duration),
	    cmocka_unit_test(test_certtool_ledger_append_list_rollback),
	    cmocka_unit_test(test_certtool_ledger_rejects_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
