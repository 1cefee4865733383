/* test/unit/test_certtool.c: cert-tool's own pieces: the encrypted key
 * format and its passphrase prompt, the ledger and what sign appends to,
 * list splitting and time arithmetic. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
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
#include "pem.h"
#include "testutil.h"

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

/*
 * keyfile_seal took log2 N up to 22 while keyfile_open refuses N * r over
 * 2^22 (512 MiB for scrypt): at r = 8, a cost of 20..22 made a file that
 * would never open.  Found by fuzz_keyfile.
 */
static void
test_certtool_keyfile_seal_refuses_unopenable(void **state)
{
	uint8_t key[64], *blob = NULL;
	size_t len = 0;
	unsigned log2n;

	(void)state;
	memset(key, 7, sizeof(key));
	for (log2n = 20; log2n <= 22; log2n++) {
		assert_int_equal(
		    keyfile_seal(key, "pw", 2, log2n, &blob, &len),
		    VPN_ERR_RANGE);
		assert_null(blob);
	}
	assert_int_equal(keyfile_seal(key, "pw", 2, 9, &blob, &len),
	    VPN_ERR_RANGE);
	assert_int_equal(keyfile_seal(key, "pw", 2, 23, &blob, &len),
	    VPN_ERR_RANGE);
	assert_null(blob);
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

static char list_msg[2048]; /* the last list()'s error message */

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
	*st = ledger_list(&ct, "L", data, len, json, name);
	snprintf(list_msg, sizeof(list_msg), "%s", ct.msg);
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
	assert_int_equal(ledger_end(l, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	len1 = (size_t)sb.st_size;
	assert_int_equal(ledger_begin(path, &l, err, sizeof(err)), 0);
	assert_int_equal(ledger_append(l, 1795323947, c2, err, sizeof(err)),
	    0);
	/* the certificate could not be written */
	assert_int_equal(ledger_rollback(l, err, sizeof(err)), 0);
	assert_int_equal(ledger_end(l, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal((size_t)sb.st_size, len1);
	assert_int_equal(ledger_begin(path, &l, err, sizeof(err)), 0);
	assert_int_equal(ledger_append(l, 1795323948, c2, err, sizeof(err)),
	    0);
	assert_int_equal(ledger_end(l, err, sizeof(err)), 0);

	assert_int_equal(fileio_read(path, CT_MAX_FILE, &data, &len, err, sizeof(err)), 0);
	assert_non_null(strstr(data, "# cert-tool issuance ledger v2"));
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

#define HDR                                                               \
	"# cert-tool issuance ledger v1: issued\tname\tips\tgroups\tsubnets" \
	"\tfingerprint\tnotAfter\tca\n"
/* What sign writes now (v1 above stays readable). */
#define HDR2                                                                \
	"# cert-tool issuance ledger v2: issued\tname\tips\tgroups\tsubnets" \
	"\tfingerprint\tnotAfter\tca\tpublicKey | revoked\ttime"            \
	"\tfingerprint\tname\treason\n"
#define REC                                                                   \
	"2026-11-22T06:04:56Z\tweb1\t10.1.2.3/16\ta,b\\,c\t10.9.0.0/24\t"      \
	"a286ca7434599808d3bad16e52da03bcde51b3e0ac5e0bbc2706182bb305a6c1\t" \
	"2027-11-22T06:04:55Z\t"                                              \
	"0da5da630553f44121c43d71999ce2fbd5111b76ec9c47c1305f0edfce6d2b38\n"

static void
test_certtool_ledger_rejects_malformed(void **state)
{
	static const struct {
		const char *text;
		size_t line;
		const char *why;
	} bad[] = {
	    {"a\tb\n", 1, "not a cairn-cert ledger (no header line)"},
	    {"# a comment, not the header\n" REC, 1,
	        "not a cairn-cert ledger (no header line)"},
	    {HDR "a\tb\n", 2, "malformed record: 2 fields, not 8 or 9"},
	    {HDR REC "1\t2\t3\t4\t5\t6\t7\t8\t9\t10\n", 3,
	        "malformed record: 10 fields, not 8 or 9"},
	    {HDR "\n# c\n1\t2\t3\t4\t5\t6\t7\t8\\q\n", 4,
	        "malformed record: unknown escape \\q"},
	    {HDR "1\t2\t3\t4\t5\t6\t7\t8\\\x01\n", 2,
	        "malformed record: unknown escape \\ and byte 0x01"},
	    {HDR "1\t2\t3\t4\t5\t6\t7\t8\\", 2,
	        "malformed record: backslash at the end of the line"},
	    {HDR "1\t2\t3\t4\t5\t6\t7\t8\\\t\n", 2,
	        "malformed record: unknown escape \\ and byte 0x09"},
	};
	char why[LEDGER_WHY_MAX], msg[256], *out;
	enum ct_status st;
	size_t i, line;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		line = 0;
		assert_int_equal(ledger_check(bad[i].text, strlen(bad[i].text),
		                     &line, why, sizeof(why)),
		    -1);
		assert_int_equal(line, bad[i].line);
		assert_string_equal(why, bad[i].why);
		out = list(bad[i].text, strlen(bad[i].text), false, NULL, &st);
		assert_int_equal(st, CT_ERR);
		assert_string_equal(out, "");
		snprintf(msg, sizeof(msg), "L:%zu: %s", bad[i].line,
		    bad[i].why);
		assert_string_equal(list_msg, msg);
		free(out);
	}
	/* A NUL inside a line, or at the start of one, is malformed too. */
	assert_int_equal(ledger_check(HDR "1\t2\0\t3", sizeof(HDR) + 5, &line,
	                     why, sizeof(why)),
	    -1);
	assert_int_equal(line, 2);
	assert_string_equal(why, "malformed line: it holds a NUL byte");
	assert_int_equal(ledger_check(HDR REC "\0" REC,
	                     2 * strlen(REC) + strlen(HDR) + 1, &line, why,
	                     sizeof(why)),
	    -1);
	assert_int_equal(line, 3);
	out = list(HDR REC "x\n", strlen(HDR REC "x\n"), true, NULL, &st);
	assert_int_equal(st, CT_ERR);
	assert_string_equal(list_msg, "L:3: malformed record: 1 field, not 8 or 9");
	free(out);
	/* What is fine: empty, the header alone (even without its newline),
	 * comments and empty lines, a last record without its newline. */
	assert_int_equal(ledger_check("", 0, &line, why, sizeof(why)), 0);
	assert_int_equal(ledger_check(HDR, strlen(HDR) - 1, &line, why,
	                     sizeof(why)),
	    0);
	assert_int_equal(ledger_check(HDR "\n# c\n\n" REC REC,
	                     strlen(HDR "\n# c\n\n" REC REC) - 1, &line, why,
	                     sizeof(why)),
	    0);
	out = list(HDR "# only a comment\n\n", strlen(HDR) + 18, true, NULL,
	    &st);
	assert_int_equal(st, CT_OK);
	assert_string_equal(out, "");
	free(out);
}

/*
 * The modes as main() runs them, in a fresh directory.
 */
struct dir {
	char path[64];
};

static int
dir_setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	snprintf(d->path, sizeof(d->path), "/tmp/test_certtoolXXXXXX");
	assert_non_null(mkdtemp(d->path));
	*state = d;
	return 0;
}

static int
dir_teardown(void **state)
{
	struct dir *d = *state;
	struct dirent *e;
	char p[512];
	DIR *dp;

	if ((dp = opendir(d->path)) != NULL) {
		while ((e = readdir(dp)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", d->path, e->d_name);
			unlink(p);
		}
		closedir(dp);
	}
	rmdir(d->path);
	free(d);
	return 0;
}

/* The path of name in the test's directory (a static buffer per slot). */
static const char *
in(const struct dir *d, const char *name)
{
	static char buf[8][256];
	static size_t slot;
	char *p = buf[slot++ % 8];

	snprintf(p, sizeof(buf[0]), "%s/%s", d->path, name);
	return p;
}

static enum ct_status
run_mode(enum ct_status (*mode)(struct ct *, int, char **), const char *name,
    char *msg, size_t msglen, const char **args)
{
	struct ct ct;
	enum ct_status st;
	char *argv[32];
	int argc = 0;

	memset(&ct, 0, sizeof(ct));
	ct.argv0 = "cert-tool";
	ct.mode = name;
	while (args[argc] != NULL && argc < 31) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	st = mode(&ct, argc, argv);
	snprintf(msg, msglen, "%s", ct.msg);
	return st;
}

/* A CA in d: ca.crt and ca.key. */
static void
make_ca(const struct dir *d)
{
	const char *args[] = {"-name", "test ca", "-out-crt", in(d, "ca.crt"),
	    "-out-key", in(d, "ca.key"), NULL};
	char msg[2048];

	assert_int_equal(run_mode(cmd_ca, "ca", msg, sizeof(msg), args), CT_OK);
}

/* sign -name name -ledger ledger, everything in d.  Its message in msg. */
static enum ct_status
sign(const struct dir *d, const char *name, const char *ledger, char *msg,
    size_t msglen)
{
	char crt[64], key[64];
	const char *args[] = {"-ca-crt", in(d, "ca.crt"), "-ca-key",
	    in(d, "ca.key"), "-name", name, "-ip", "10.1.0.1/16", "-out-crt",
	    NULL, "-out-key", NULL, "-ledger", in(d, ledger), NULL};

	snprintf(crt, sizeof(crt), "%s.crt", name);
	snprintf(key, sizeof(key), "%s.key", name);
	args[9] = in(d, crt);
	args[11] = in(d, key);
	return run_mode(cmd_sign, "sign", msg, msglen, args);
}

static bool
exists(const struct dir *d, const char *name)
{
	return access(in(d, name), F_OK) == 0;
}

static void
put(const struct dir *d, const char *name, const char *data, size_t len)
{
	FILE *f = fopen(in(d, name), "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* sign -ledger <name> is refused with "<dir>/<name>:<line>: <why>",
 * leaving the file as it was and writing no certificate or key. */
static void
assert_sign_refused(const struct dir *d, const char *ledger, size_t line,
    const char *why)
{
	char msg[2048], want[512], *before, *after;
	size_t blen, alen;

	before = tu_slurp(in(d, ledger), &blen);
	assert_int_equal(sign(d, "h1", ledger, msg, sizeof(msg)), CT_ERR);
	snprintf(want, sizeof(want), "%s:%zu: %s", in(d, ledger), line, why);
	assert_string_equal(msg, want);
	after = tu_slurp(in(d, ledger), &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	assert_false(exists(d, "h1.crt"));
	assert_false(exists(d, "h1.key"));
	free(before);
	free(after);
}

static void
test_certtool_sign_refuses_ca_cert_as_ledger(void **state)
{
	const struct dir *d = *state;

	make_ca(d);
	assert_sign_refused(d, "ca.crt", 1,
	    "not a cairn-cert ledger (no header line)");
}

static void
test_certtool_sign_refuses_garbage_ledger(void **state)
{
	static const char garbage[] = "\x7f"
				      "ELF\x02\x01\x01\0\0\0garbage\n\tmore\n";
	const struct dir *d = *state;

	make_ca(d);
	put(d, "bad.ledger", garbage, sizeof(garbage) - 1);
	assert_sign_refused(d, "bad.ledger", 1,
	    "not a cairn-cert ledger (no header line)");
}

static void
test_certtool_sign_refuses_malformed_line(void **state)
{
	const struct dir *d = *state;
	char msg[2048], *data, *bad;
	size_t len;

	make_ca(d);
	/* A real ledger: the header, then h0's record. */
	assert_int_equal(sign(d, "h0", "L", msg, sizeof(msg)), CT_OK);
	data = tu_slurp(in(d, "L"), &len);
	assert_true(asprintf(&bad, "%s%s", data,
	                "2026-11-22T06:04:56Z\thalf a record\n" REC) > 0);
	put(d, "L", bad, strlen(bad));
	assert_sign_refused(d, "L", 3, "malformed record: 2 fields, not 8 or 9");
	free(bad);
	free(data);
}

/* The ledger mode on the same files: the same message, nothing printed. */
static void
test_certtool_ledger_mode_names_file_and_line(void **state)
{
	const struct dir *d = *state;
	const char *args[] = {"-path", NULL, NULL};
	char msg[2048], want[512];
	enum ct_status st;
	long end;
	int saved;
	FILE *f;

	put(d, "L", HDR REC "\n# c\nx\ty\n" REC,
	    strlen(HDR REC "\n# c\nx\ty\n" REC));
	args[1] = in(d, "L");
	f = tmpfile();
	assert_non_null(f);
	fflush(stdout);
	saved = dup(1);
	dup2(fileno(f), 1);
	st = run_mode(cmd_ledger, "ledger", msg, sizeof(msg), args);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	fseek(f, 0, SEEK_END);
	end = ftell(f);
	fclose(f);
	assert_int_equal(st, CT_ERR);
	snprintf(want, sizeof(want), "%s:5: malformed record: 2 fields, not 8 or 9",
	    in(d, "L"));
	assert_string_equal(msg, want);
	assert_int_equal(end, 0);
}

/* Count the lines of s and check that the last ends with a newline. */
static size_t
lines(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += s[i] == '\n';
	assert_true(len > 0 && s[len - 1] == '\n');
	return n;
}

static void
test_certtool_sign_appends_to_valid_ledger(void **state)
{
	const struct dir *d = *state;
	char msg[2048], *after;
	size_t alen;
	/* Hand-edited: a comment, an empty line, no newline at the end. */
	static const char before[] = HDR "# moved from the old laptop\n\n" REC;

	make_ca(d);
	put(d, "L", before, sizeof(before) - 2);
	assert_int_equal(sign(d, "h2", "L", msg, sizeof(msg)), CT_OK);
	assert_true(exists(d, "h2.crt"));
	after = tu_slurp(in(d, "L"), &alen);
	assert_true(alen > sizeof(before) - 1);
	/* The old bytes, the newline it lacked, then one record of h2. */
	assert_memory_equal(after, before, sizeof(before) - 1);
	assert_int_equal(lines(after, alen), 5);
	assert_non_null(strstr(after + sizeof(before) - 1, "\th2\t10.1.0.1/16\t"));
	free(after);
}

static void
test_certtool_sign_empty_ledger_gets_header(void **state)
{
	const struct dir *d = *state;
	char msg[2048], *after;
	size_t alen;

	make_ca(d);
	put(d, "L", "", 0);
	assert_int_equal(sign(d, "h3", "L", msg, sizeof(msg)), CT_OK);
	after = tu_slurp(in(d, "L"), &alen);
	assert_true(alen > strlen(HDR2));
	assert_memory_equal(after, HDR2, strlen(HDR2));
	assert_int_equal(lines(after, alen), 2);
	assert_non_null(strstr(after + strlen(HDR2), "\th3\t10.1.0.1/16\t"));
	free(after);
	/* And a ledger that does not exist is created the same way. */
	assert_int_equal(sign(d, "h4", "new.ledger", msg, sizeof(msg)), CT_OK);
	after = tu_slurp(in(d, "new.ledger"), &alen);
	assert_memory_equal(after, HDR2, strlen(HDR2));
	assert_int_equal(lines(after, alen), 2);
	free(after);
}

/*
 * An append that fails part-way (here: past RLIMIT_FSIZE) is cut back, so
 * the ledger keeps no partial record, and the error says why.
 */
static void
test_certtool_ledger_append_failure_leaves_no_partial_record(void **state)
{
	const struct dir *d = *state;
	struct cert *c = sample("web1");
	struct rlimit rl;
	struct ledger *l;
	char err[512];
	size_t len;
	pid_t pid;
	int status;

	put(d, "L", HDR, strlen(HDR));
	fflush(NULL);
	if ((pid = fork()) == 0) {
		/* Room for the header and 20 bytes more. */
		rl.rlim_cur = rl.rlim_max = strlen(HDR) + 20;
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0 ||
		    ledger_begin(in(d, "L"), &l, err, sizeof(err)) != 0)
			_exit(2);
		if (ledger_append(l, 1795323946, c, err, sizeof(err)) == 0)
			_exit(3);
		if (strstr(err, "write ") == NULL ||
		    strstr(err, "file too large") == NULL)
			_exit(4);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(tu_slurp(in(d, "L"), &len));
	assert_int_equal(len, strlen(HDR));
	cert_free(c);
}

/*
 * The passphrase prompt, on a pseudo-terminal that the child process
 * takes as its controlling terminal.
 */
struct pty {
	int master, slave;
	struct termios orig;
	pid_t pid;
	char out[4096]; /* what the child wrote on the terminal */
	size_t outlen;
};

/* A master/slave pair, or false when the system has none for us. */
static bool
pty_open(struct pty *p)
{
	char name[128];

	memset(p, 0, sizeof(*p));
	p->slave = -1;
	if ((p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return false;
	if (grantpt(p->master) != 0 || unlockpt(p->master) != 0 ||
	    ptsname_r(p->master, name, sizeof(name)) != 0 ||
	    (p->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1) {
		close(p->master);
		return false;
	}
	assert_int_equal(tcgetattr(p->slave, &p->orig), 0);
	assert_true((p->orig.c_lflag & ECHO) != 0);
	return true;
}

static void
pty_close(struct pty *p)
{
	close(p->master);
	close(p->slave);
}

/* Read what the child wrote so far, waiting up to ms. */
static void
pty_drain(struct pty *p, int ms)
{
	struct pollfd pfd = {p->master, POLLIN, 0};
	ssize_t n;

	while (poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN) != 0) {
		n = read(p->master, p->out + p->outlen,
		    sizeof(p->out) - 1 - p->outlen);
		if (n <= 0)
			break;
		p->outlen += (size_t)n;
		p->out[p->outlen] = '\0';
		ms = 0;
	}
}

static bool
echo_on(const struct pty *p)
{
	struct termios t;

	assert_int_equal(tcgetattr(p->slave, &t), 0);
	return (t.c_lflag & ECHO) != 0;
}

/* Wait, up to ten seconds, for the child to turn echo off. */
static void
pty_wait_prompt(struct pty *p)
{
	int i;

	for (i = 0; i < 1000 && echo_on(p); i++)
		pty_drain(p, 10);
	pty_drain(p, 10);
	assert_false(echo_on(p));
	assert_non_null(strstr(p->out, "Enter passphrase: "));
}

/* The child's wait status, killing it after ten seconds. */
static int
pty_wait_child(struct pty *p)
{
	int i, status = 0;
	pid_t r = 0;

	for (i = 0; i < 1000 && (r = waitpid(p->pid, &status, WNOHANG)) == 0;
	     i++)
		pty_drain(p, 10);
	if (r == 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &status, 0);
		fail_msg("the child did not end");
	}
	assert_int_equal(r, p->pid);
	return status;
}

static void
marker(int sig)
{
	(void)sig;
}

/* In the child: ask for the passphrase of pem on the pty as its
 * controlling terminal.  With handled, SIGINT has a handler and SIGHUP is
 * ignored, else all four signals have their default action.  Exits 0 if
 * the key came out and the signal actions are as before the prompt. */
static void __attribute__((noreturn))
prompt_child(struct pty *p, const char *pem, size_t len, const uint8_t *key,
    bool handled)
{
	struct sigaction sa;
	struct rlimit rl = {0, 0};
	uint8_t back[64];
	char err[256];
	int r;

	close(p->master);
	if (setsid() == -1 || ioctl(p->slave, TIOCSCTTY, 0) == -1)
		_exit(20);
	setrlimit(RLIMIT_CORE, &rl); /* SIGQUIT: no core file */
	unsetenv("NEBULA_CA_PASSPHRASE");
	signal(SIGINT, handled ? marker : SIG_DFL);
	signal(SIGHUP, handled ? SIG_IGN : SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	r = ct_read_ca_key(pem, len, back, err, sizeof(err));
	if (r != 0 || memcmp(back, key, 64) != 0)
		_exit(21);
	if (sigaction(SIGINT, NULL, &sa) != 0 ||
	    sa.sa_handler != (handled ? marker : SIG_DFL) ||
	    sigaction(SIGHUP, NULL, &sa) != 0 ||
	    sa.sa_handler != (handled ? SIG_IGN : SIG_DFL) ||
	    sigaction(SIGQUIT, NULL, &sa) != 0 || sa.sa_handler != SIG_DFL ||
	    sigaction(SIGTERM, NULL, &sa) != 0 || sa.sa_handler != SIG_DFL)
		_exit(22);
	_exit(0);
}

/* An encrypted CA key whose passphrase is "pw", cheap to open. */
static char *
sealed_key(uint8_t key[64], size_t *len)
{
	uint8_t *blob;
	size_t blen;
	char *pem;

	assert_int_equal(crypto_ed25519_keypair(key), 0);
	assert_int_equal(keyfile_seal(key, "pw", 2, LOG2N_FAST, &blob, &blen),
	    0);
	pem = pem_encode(CT_ENC_BANNER, blob, blen, len);
	assert_non_null(pem);
	free(blob);
	return pem;
}

static void
start_prompt(struct pty *p, const char *pem, size_t len, const uint8_t *key,
    bool handled)
{
	fflush(NULL);
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0)
		prompt_child(p, pem, len, key, handled);
	pty_wait_prompt(p);
}

/* Ctrl-C, Ctrl-\, SIGTERM and SIGHUP at the prompt end the process as
 * before, but with the terminal's settings restored: echo is on again,
 * and the rest of the local modes are as they were. */
static void
test_certtool_passphrase_signal_restores_echo(void **state)
{
	static const struct {
		int sig;
		const char *key; /* typed on the terminal, or kill(2) */
	} cases[] = {
	    {SIGINT, "\x03"},
	    {SIGQUIT, "\x1c"},
	    {SIGTERM, NULL},
	    {SIGHUP, NULL},
	};
	uint8_t key[64];
	struct termios t;
	struct pty p;
	size_t i, len;
	char *pem;
	int status;

	(void)state;
	pem = sealed_key(key, &len);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!pty_open(&p)) {
			free(pem);
			skip();
		}
		start_prompt(&p, pem, len, key, false);
		if (cases[i].key != NULL)
			assert_int_equal(write(p.master, cases[i].key, 1), 1);
		else
			assert_int_equal(kill(p.pid, cases[i].sig), 0);
		status = pty_wait_child(&p);
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), cases[i].sig);
		assert_true(echo_on(&p));
		assert_int_equal(tcgetattr(p.slave, &t), 0);
		assert_int_equal(t.c_lflag, p.orig.c_lflag);
		pty_close(&p);
	}
	free(pem);
}

/* A prompt answered: the key opens, the passphrase was not echoed, echo
 * is back on.  A signal with a handler or ignored is left alone during
 * the prompt, and the actions afterwards are those from before. */
static void
test_certtool_passphrase_prompt_restores_actions(void **state)
{
	uint8_t key[64];
	struct pty p;
	size_t len;
	char *pem;
	int status;

	(void)state;
	pem = sealed_key(key, &len);
	if (!pty_open(&p)) {
		free(pem);
		skip();
	}
	start_prompt(&p, pem, len, key, true);
	assert_int_equal(kill(p.pid, SIGHUP), 0); /* ignored */
	assert_int_equal(kill(p.pid, SIGINT), 0); /* the handler runs */
	pty_drain(&p, 50);
	assert_int_equal(write(p.master, "pw\n", 3), 3);
	status = pty_wait_child(&p);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_null(strstr(p.out, "pw"));
	assert_true(echo_on(&p));
	pty_close(&p);
	free(pem);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_certtool_keyfile_round_trip),
	    cmocka_unit_test(test_certtool_keyfile_wrong_pass_and_tamper),
	    cmocka_unit_test(test_certtool_keyfile_seal_refuses_unopenable),
	    cmocka_unit_test(test_certtool_split),
	    cmocka_unit_test(test_certtool_add_duration),
	    cmocka_unit_test(test_certtool_ledger_append_list_rollback),
	    cmocka_unit_test(test_certtool_ledger_rejects_malformed),
	    cmocka_unit_test_setup_teardown(
	        test_certtool_sign_refuses_ca_cert_as_ledger, dir_setup,
	        dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_certtool_sign_refuses_garbage_ledger, dir_setup,
	        dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_certtool_sign_refuses_malformed_line, dir_setup,
	        dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_certtool_ledger_mode_names_file_and_line, dir_setup,
	        dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_certtool_sign_appends_to_valid_ledger, dir_setup,
	        dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_certtool_sign_empty_ledger_gets_header, dir_setup,
	        dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_certtool_ledger_append_failure_leaves_no_partial_record,
	        dir_setup, dir_teardown),
	    cmocka_unit_test(test_certtool_passphrase_signal_restores_echo),
	    cmocka_unit_test(test_certtool_passphrase_prompt_restores_actions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
