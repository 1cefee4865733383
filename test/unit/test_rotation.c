/*
 * test/unit/test_rotation.c: the CA over the years, as main() runs the
 * modes, in a fresh directory: the ledger keeps public keys (and reads
 * version 1 ledgers), revoke appends revocations, ledger -blocklist and
 * -expiring report them, sign refuses a revoked name, and reissue signs
 * every live certificate again under a new CA, all or nothing.
 */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cert.h"
#include "ct.h"
#include "pem.h"

typedef enum ct_status (*mode_fn)(struct ct *, int, char **);

struct dir {
	char path[64];
};

static void
rm_tree(const char *path)
{
	struct dirent *e;
	struct stat st;
	char p[512];
	DIR *dp;

	if ((dp = opendir(path)) == NULL)
		return;
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(dp);
	rmdir(path);
}

static int
setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	snprintf(d->path, sizeof(d->path), "/tmp/test_rotationXXXXXX");
	assert_non_null(mkdtemp(d->path));
	*state = d;
	return 0;
}

static int
teardown(void **state)
{
	struct dir *d = *state;

	rm_tree(d->path);
	free(d);
	return 0;
}

/* A path in the test's directory; each call has its own buffer (enough
 * for any test here: arrays of arguments keep pointers to them). */
static const char *
in(const struct dir *d, const char *name)
{
	static char buf[1024][128];
	static size_t slot;
	char *p = buf[slot++ % 1024];

	snprintf(p, sizeof(buf[0]), "%s/%s", d->path, name);
	return p;
}

static char msg[2048]; /* the last run's error message */

/* Run a mode with stdout captured (malloc'd into *out when out != NULL). */
static enum ct_status
run(mode_fn mode, const char *name, char **out, const char **args)
{
	struct ct ct;
	enum ct_status st;
	char *argv[40];
	int argc = 0, saved;
	FILE *f = tmpfile();
	long n;

	assert_non_null(f);
	memset(&ct, 0, sizeof(ct));
	ct.argv0 = "cert-tool";
	ct.mode = name;
	while (args[argc] != NULL && argc < 39) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	fflush(stdout);
	saved = dup(1);
	dup2(fileno(f), 1);
	st = mode(&ct, argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	snprintf(msg, sizeof(msg), "%s", ct.msg);
	if (st == CT_ERR)
		print_message("%s: %s\n", name, msg);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	if (out != NULL) {
		*out = calloc(1, (size_t)n + 1);
		assert_non_null(*out);
		assert_int_equal(fread(*out, 1, (size_t)n, f), (size_t)n);
	}
	fclose(f);
	return st;
}

static void
make_ca(const struct dir *d, const char *name, const char *crt,
    const char *key)
{
	const char *args[] = {"-name", name, "-groups", "web,db", "-out-crt",
	    in(d, crt), "-out-key", in(d, key), NULL};

	assert_int_equal(run(cmd_ca, "ca", NULL, args), CT_OK);
}

/* A host key pair made "on the host", and its certificate signed with
 * -in-pub into the ledger L. */
static enum ct_status
sign(const struct dir *d, const char *name, const char *ip,
    const char *groups, const char *duration, bool allow_revoked)
{
	char pub[64], key[64], crt[64];
	const char *kg[] = {"-out-key", NULL, "-out-pub", NULL, NULL};
	const char *args[20] = {"-ca-crt", in(d, "ca.crt"), "-ca-key",
	    in(d, "ca.key"), "-name", name, "-ip", ip, "-in-pub", NULL,
	    "-out-crt", NULL, "-ledger", in(d, "L"), "-groups", groups, NULL};
	size_t n = 16;
	enum ct_status st;

	snprintf(pub, sizeof(pub), "%s.pub", name);
	snprintf(key, sizeof(key), "%s.key", name);
	snprintf(crt, sizeof(crt), "%s.crt", name);
	if (access(in(d, pub), F_OK) != 0) {
		kg[1] = in(d, key);
		kg[3] = in(d, pub);
		assert_int_equal(run(cmd_keygen, "keygen", NULL, kg), CT_OK);
	} else {
		snprintf(crt, sizeof(crt), "%s-again.crt", name);
	}
	args[9] = in(d, pub);
	args[11] = in(d, crt);
	if (duration != NULL) {
		args[n++] = "-duration";
		args[n++] = duration;
	}
	if (allow_revoked)
		args[n++] = "-allow-revoked";
	args[n] = NULL;
	st = run(cmd_sign, "sign", NULL, args);
	if (st != CT_OK)
		print_message("sign %s: %s\n", name, msg);
	return st;
}

static struct cert *
load(const struct dir *d, const char *name)
{
	struct cert *c = NULL;
	size_t len;
	char *s = tu_slurp(in(d, name), &len);

	assert_int_equal(cert_from_pem(s, len, &c, NULL), 0);
	free(s);
	return c;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

/* Records keep the public key; revoke by name, fingerprint and ip;
 * the blocklist lists what is revoked; a revoked name is not signed
 * again without -allow-revoked. */
static void
test_rotation_revoke_and_blocklist(void **state)
{
	const struct dir *d = *state;
	const char *byname[] = {"-ledger", in(d, "L"), "-name", "b", "-reason",
	    "stolen laptop", NULL};
	const char *byip[] = {"-ledger", in(d, "L"), "-ip", "10.1.0.3",
	    "-reason", "left", "-json", NULL};
	const char *again[] = {"-ledger", in(d, "L"), "-name", "b", "-reason",
	    "x", NULL};
	const char *nothing[] = {"-ledger", in(d, "L"), "-ip", "10.1.0.99",
	    "-reason", "x", NULL};
	const char *two[] = {"-ledger", in(d, "L"), "-ip", "10.1.0.1", "-name",
	    "a", "-reason", "x", NULL};
	const char *noreason[] = {"-ledger", in(d, "L"), "-name", "a", NULL};
	const char *bl[] = {"-path", in(d, "L"), "-blocklist", NULL};
	const char *list[] = {"-path", in(d, "L"), "-json", NULL};
	struct cert *b, *a;
	char fpb[CERT_FP_HEXLEN], fpa[CERT_FP_HEXLEN], pk[65], *out, *before,
	    *after;
	const char *byfp[] = {"-ledger", in(d, "L"), "-fingerprint", NULL,
	    "-reason", "rotated", NULL};
	size_t blen, alen;

	make_ca(d, "ca1", "ca.crt", "ca.key");
	assert_int_equal(sign(d, "a", "10.1.0.1/16", "web", NULL, false), CT_OK);
	assert_int_equal(sign(d, "b", "10.1.0.2/16", "db", NULL, false), CT_OK);
	assert_int_equal(sign(d, "c", "10.1.0.3/16", "web", NULL, false), CT_OK);
	a = load(d, "a.crt");
	b = load(d, "b.crt");
	assert_int_equal(cert_fingerprint_hex(a, fpa), 0);
	assert_int_equal(cert_fingerprint_hex(b, fpb), 0);
	/* the public key is in the record */
	assert_int_equal(run(cmd_ledger, "ledger", &out, list), CT_OK);
	hex_encode(a->pubkey, 32, pk);
	assert_non_null(strstr(out, pk));
	free(out);
	/* nothing revoked yet: an empty list */
	assert_int_equal(run(cmd_ledger, "ledger", &out, bl), CT_OK);
	assert_string_equal(out, "pki:\n  blocklist: []\n");
	free(out);
	/* by name */
	assert_int_equal(run(cmd_revoke, "revoke", &out, byname), CT_OK);
	assert_non_null(strstr(out, fpb));
	free(out);
	/* by ip, as json */
	assert_int_equal(run(cmd_revoke, "revoke", &out, byip), CT_OK);
	assert_non_null(strstr(out, "{\"fingerprint\":"));
	assert_non_null(strstr(out, "\"name\":\"c\""));
	free(out);
	/* by fingerprint */
	byfp[3] = fpa;
	assert_int_equal(run(cmd_revoke, "revoke", &out, byfp), CT_OK);
	free(out);
	/* refusals change nothing */
	before = tu_slurp(in(d, "L"), &blen);
	assert_int_equal(run(cmd_revoke, "revoke", NULL, again), CT_ERR);
	assert_non_null(strstr(msg, "nothing to revoke"));
	assert_non_null(strstr(msg, "1 already"));
	assert_int_equal(run(cmd_revoke, "revoke", NULL, nothing), CT_ERR);
	assert_int_equal(run(cmd_revoke, "revoke", NULL, two), CT_USAGE_ERR);
	assert_int_equal(run(cmd_revoke, "revoke", NULL, noreason),
	    CT_USAGE_ERR);
	after = tu_slurp(in(d, "L"), &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(before, after, blen);
	free(before);
	free(after);
	/* the blocklist holds the three, with names and reasons */
	assert_int_equal(run(cmd_ledger, "ledger", &out, bl), CT_OK);
	assert_int_equal(count(out, "    - \""), 3);
	assert_non_null(strstr(out, fpb));
	assert_non_null(strstr(out, "\"stolen laptop\""));
	assert_non_null(strstr(out, "\"rotated\""));
	free(out);
	/* signing b again needs the flag */
	assert_int_equal(sign(d, "b", "10.1.0.2/16", "db", NULL, false), CT_ERR);
	assert_non_null(strstr(msg, "was revoked"));
	assert_false(access(in(d, "b-again.crt"), F_OK) == 0);
	assert_int_equal(sign(d, "b", "10.1.0.2/16", "db", NULL, true), CT_OK);
	/* then b's latest certificate is live again: no flag needed */
	unlink(in(d, "b-again.crt"));
	assert_int_equal(sign(d, "b", "10.1.0.2/16", "db", NULL, false), CT_OK);
	cert_free(a);
	cert_free(b);
}

/* -expiring lists each name's current certificate (not superseded, not
 * revoked) and the bundle's CAs within the window, soonest first, and
 * returns CT_FOUND (exit 3) then. */
static void
test_rotation_expiring(void **state)
{
	const struct dir *d = *state;
	const char *soon[] = {"-path", in(d, "L"), "-expiring", "3h", NULL};
	const char *later[] = {"-path", in(d, "L"), "-expiring", "30h",
	    "-json", NULL};
	const char *withca[] = {"-path", in(d, "L"), "-expiring", "100000h",
	    "-ca", in(d, "ca.crt"), NULL};
	const char *rev[] = {"-ledger", in(d, "L"), "-name", "gone", "-reason",
	    "decommissioned", NULL};
	char *out, *p1, *p2;

	make_ca(d, "ca1", "ca.crt", "ca.key");
	assert_int_equal(sign(d, "a", "10.1.0.1/16", "web", "2h", false), CT_OK);
	assert_int_equal(sign(d, "b", "10.1.0.2/16", "web", "24h", false),
	    CT_OK);
	assert_int_equal(sign(d, "c", "10.1.0.3/16", "web", "1h", false), CT_OK);
	/* c is renewed: its old certificate is superseded */
	assert_int_equal(sign(d, "c", "10.1.0.3/16", "web", "48h", false),
	    CT_OK);
	assert_int_equal(sign(d, "gone", "10.1.0.4/16", "web", "1h", false),
	    CT_OK);
	assert_int_equal(run(cmd_revoke, "revoke", NULL, rev), CT_OK);
	assert_int_equal(run(cmd_ledger, "ledger", &out, soon), CT_FOUND);
	assert_non_null(strstr(out, "\"a\""));
	assert_null(strstr(out, "\"c\""));
	assert_null(strstr(out, "\"gone\""));
	assert_int_equal(count(out, "\n"), 1);
	free(out);
	assert_int_equal(run(cmd_ledger, "ledger", &out, later), CT_FOUND);
	p1 = strstr(out, "\"name\":\"a\"");
	p2 = strstr(out, "\"name\":\"b\"");
	assert_non_null(p1);
	assert_non_null(p2);
	assert_true(p1 < p2); /* soonest first */
	assert_non_null(strstr(out, "\"expired\":false"));
	free(out);
	/* the CA too, with -ca; and nothing within 0 */
	assert_int_equal(run(cmd_ledger, "ledger", &out, withca), CT_FOUND);
	assert_non_null(strstr(out, "  ca    \"ca1\""));
	free(out);
	soon[3] = "0s";
	assert_int_equal(run(cmd_ledger, "ledger", &out, soon), CT_OK);
	assert_string_equal(out, "");
	free(out);
}

/* reissue: every live certificate again under the new CA, same name,
 * ips, groups, subnets and public key; the bundle; the ledger appended;
 * nothing written over, and all or nothing. */
static void
test_rotation_reissue(void **state)
{
	const struct dir *d = *state;
	const char *args[] = {"-ledger", in(d, "L"), "-ca-crt", in(d, "ca2.crt"),
	    "-ca-key", in(d, "ca2.key"), "-old-ca", in(d, "ca.crt"),
	    "-out-dir", in(d, "new"), NULL};
	const char *rev[] = {"-ledger", in(d, "L"), "-name", "c", "-reason",
	    "gone", NULL};
	struct cert *old, *neu, *ca2, *b1, *b2;
	uint8_t fp2[CERT_FP_LEN];
	char *out, *before, *after;
	size_t blen, alen, i, used;
	int64_t now = time(NULL);

	make_ca(d, "ca1", "ca.crt", "ca.key");
	assert_int_equal(sign(d, "a", "10.1.0.1/16", "web,db", NULL, false),
	    CT_OK);
	assert_int_equal(sign(d, "b", "10.1.0.2/16", "db", NULL, false), CT_OK);
	assert_int_equal(sign(d, "c", "10.1.0.3/16", "web", NULL, false), CT_OK);
	assert_int_equal(run(cmd_revoke, "revoke", NULL, rev), CT_OK);
	/* the new CA's key encrypted, as on a real laptop */
	setenv("NEBULA_CA_PASSPHRASE", "rotation test", 1);
	{
		const char *enc[] = {"-name", "ca2", "-groups", "web,db",
		    "-encrypt", "-out-crt", in(d, "ca2.crt"), "-out-key",
		    in(d, "ca2.key"), NULL};
		char *k;
		size_t kl;

		assert_int_equal(run(cmd_ca, "ca", NULL, enc), CT_OK);
		k = tu_slurp(in(d, "ca2.key"), &kl);
		assert_non_null(strstr(k, CT_ENC_BANNER));
		free(k);
	}
	/* a non-empty directory is refused, the ledger untouched */
	assert_int_equal(mkdir(in(d, "new"), 0700), 0);
	assert_int_equal(close(creat(in(d, "new/x"), 0600)), 0);
	before = tu_slurp(in(d, "L"), &blen);
	assert_int_equal(run(cmd_reissue, "reissue", NULL, args), CT_ERR);
	assert_non_null(strstr(msg, "not empty"));
	after = tu_slurp(in(d, "L"), &alen);
	assert_int_equal(alen, blen);
	free(after);
	unlink(in(d, "new/x"));
	/* the new CA as the old one: refused */
	args[7] = in(d, "ca2.crt");
	assert_int_equal(run(cmd_reissue, "reissue", NULL, args), CT_ERR);
	assert_non_null(strstr(msg, "already holds the new CA"));
	/* the wrong old CA: the bundle would not trust the hosts */
	make_ca(d, "ca3", "ca3.crt", "ca3.key");
	args[7] = in(d, "ca3.crt");
	assert_int_equal(run(cmd_reissue, "reissue", NULL, args), CT_ERR);
	assert_non_null(strstr(msg, "would not trust"));
	args[7] = in(d, "ca.crt");
	assert_int_equal(run(cmd_reissue, "reissue", &out, args), CT_OK);
	/* the bundle: old CA then new, printed and written */
	assert_int_equal(count(out, "BEGIN NEBULA CERTIFICATE"), 2);
	after = tu_slurp(in(d, "new/ca-bundle.crt"), &alen);
	assert_string_equal(after, out);
	assert_int_equal(cert_from_pem(after, alen, &b1, &used), 0);
	assert_int_equal(cert_from_pem(after + used, alen - used, &b2, NULL),
	    0);
	assert_string_equal(b1->name.s, "ca1");
	assert_string_equal(b2->name.s, "ca2");
	cert_free(b1);
	cert_free(b2);
	free(after);
	free(out);
	/* a and b, not the revoked c */
	assert_true(access(in(d, "new/c.crt"), F_OK) != 0);
	ca2 = load(d, "ca2.crt");
	assert_int_equal(cert_fingerprint(ca2, fp2), 0);
	for (i = 0; i < 2; i++) {
		const char *n = i == 0 ? "a" : "b";
		char p[32], q[32];

		snprintf(p, sizeof(p), "%s.crt", n);
		snprintf(q, sizeof(q), "new/%s.crt", n);
		old = load(d, p);
		neu = load(d, q);
		assert_int_equal(neu->name.len, old->name.len);
		assert_memory_equal(neu->name.s, old->name.s, old->name.len);
		assert_int_equal(neu->nips, old->nips);
		assert_memory_equal(neu->ips, old->ips,
		    old->nips * sizeof(*old->ips));
		assert_int_equal(neu->ngroups, old->ngroups);
		assert_int_equal(neu->nsubnets, old->nsubnets);
		assert_memory_equal(neu->pubkey, old->pubkey, 32);
		assert_memory_equal(neu->issuer, fp2, CERT_FP_LEN);
		assert_true(cert_check_signature(neu, ca2->pubkey, 32));
		assert_true(neu->not_before >= now - 5);
		assert_true(neu->not_after <= ca2->not_after);
		cert_free(old);
		cert_free(neu);
	}
	/* the ledger knows the new ones: a second run has nothing to do,
	 * and writes nothing over */
	before = (free(before), tu_slurp(in(d, "L"), &blen));
	assert_true(count(before, "\ta\t") == 2);
	assert_int_equal(run(cmd_reissue, "reissue", NULL, args), CT_ERR);
	args[9] = in(d, "new2");
	assert_int_equal(run(cmd_reissue, "reissue", &out, args), CT_OK);
	after = tu_slurp(in(d, "L"), &alen);
	assert_int_equal(alen, blen);
	assert_true(access(in(d, "new2/a.crt"), F_OK) != 0);
	free(out);
	free(after);
	free(before);
	cert_free(ca2);
	/* the wrong passphrase: nothing signed, nothing written */
	setenv("NEBULA_CA_PASSPHRASE", "wrong", 1);
	args[9] = in(d, "new3");
	assert_int_equal(run(cmd_reissue, "reissue", NULL, args), CT_ERR);
	assert_true(access(in(d, "new3"), F_OK) != 0);
	unsetenv("NEBULA_CA_PASSPHRASE");
}

/* A version 1 ledger (no public keys) stays readable; its certificates
 * cannot be re-issued, which is said, and nothing is written. */
static void
test_rotation_v1_ledger(void **state)
{
	const struct dir *d = *state;
	static const char v1[] =
	    "# cert-tool issuance ledger v1: issued\tname\tips\tgroups\t"
	    "subnets\tfingerprint\tnotAfter\tca\n"
	    "2026-11-22T06:04:56Z\tweb1\t10.1.2.3/16\ta,b\\,c\t10.9.0.0/24\t"
	    "a286ca7434599808d3bad16e52da03bcde51b3e0ac5e0bbc2706182bb305a6c1\t"
	    "2099-11-22T06:04:55Z\t";
	const char *args[] = {"-ledger", in(d, "L"), "-ca-crt", in(d, "ca2.crt"),
	    "-ca-key", in(d, "ca2.key"), "-old-ca", in(d, "ca.crt"),
	    "-out-dir", in(d, "new"), NULL};
	const char *list[] = {"-path", in(d, "L"), NULL};
	struct cert *ca;
	char fp[CERT_FP_HEXLEN], *out;
	FILE *f;

	make_ca(d, "ca1", "ca.crt", "ca.key");
	make_ca(d, "ca2", "ca2.crt", "ca2.key");
	ca = load(d, "ca.crt");
	assert_int_equal(cert_fingerprint_hex(ca, fp), 0);
	f = fopen(in(d, "L"), "w");
	assert_non_null(f);
	fprintf(f, "%s%s\n", v1, fp);
	fclose(f);
	assert_int_equal(run(cmd_ledger, "ledger", &out, list), CT_OK);
	assert_non_null(strstr(out, "name=web1"));
	free(out);
	assert_int_equal(run(cmd_reissue, "reissue", NULL, args), CT_ERR);
	assert_non_null(strstr(msg, "cannot be re-issued"));
	assert_true(access(in(d, "new"), F_OK) != 0);
	/* new records go after the version 1 ones, in the same file */
	assert_int_equal(sign(d, "x", "10.1.0.9/16", "web", NULL, false), CT_OK);
	assert_int_equal(run(cmd_ledger, "ledger", &out, list), CT_OK);
	assert_non_null(strstr(out, "name=x"));
	assert_non_null(strstr(out, "publicKey="));
	free(out);
	cert_free(ca);
}

/* What the reader refuses of the new records. */
static void
test_rotation_malformed_records(void **state)
{
#define H2                                                                  \
	"# cert-tool issuance ledger v2: issued\tname\tips\tgroups\tsubnets" \
	"\tfingerprint\tnotAfter\tca\tpublicKey | revoked\ttime"            \
	"\tfingerprint\tname\treason\n"
#define FP "a286ca7434599808d3bad16e52da03bcde51b3e0ac5e0bbc2706182bb305a6c1"
#define R2 "2026-11-22T06:04:56Z\tw\t10.1.2.3/16\t\t\t" FP "\t"              \
	   "2027-11-22T06:04:55Z\t" FP "\t" FP "\n"
	static const struct {
		const char *text;
		size_t line;
		const char *why;
	} bad[] = {
	    {H2 "revoked\t2026-11-22T06:04:56Z\t" FP "\tw\n", 2,
	        "malformed revocation: 4 fields, not 5"},
	    {H2 "revoked\tyesterday\t" FP "\tw\tr\n", 2,
	        "malformed revocation: bad time"},
	    {H2 R2 "revoked\t2026-11-22T06:04:56Z\tabc\tw\tr\n", 3,
	        "malformed revocation: bad fingerprint"},
	    {H2 "revoked\t2026-11-22T06:04:56Z\t" FP "\tw\tr\n", 2,
	        "revocation of a certificate that is not in the ledger"},
	    {H2 "2026-11-22T06:04:56Z\tw\t10.1.2.3/16\t\t\t" FP
	        "\t2027-11-22T06:04:55Z\t" FP "\tzz\n",
	        2, "malformed record: bad publicKey"},
	    {H2 "2026-11-22T06:04:56Z\tw\t10.1.2/16\t\t\t" FP
	        "\t2027-11-22T06:04:55Z\t" FP "\t" FP "\n",
	        2, "malformed record: bad ips"},
	    {H2 "2026-13-22T06:04:56Z\tw\t10.1.2.3/16\t\t\t" FP
	        "\t2027-11-22T06:04:55Z\t" FP "\t" FP "\n",
	        2, "malformed record: bad issued time"},
	};
	char why[LEDGER_WHY_MAX];
	size_t i, line;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		line = 0;
		if (ledger_check(bad[i].text, strlen(bad[i].text), &line, why,
		        sizeof(why)) != -1)
			fail_msg("accepted case %zu", i);
		assert_int_equal(line, bad[i].line);
		assert_string_equal(why, bad[i].why);
	}
	assert_int_equal(ledger_check(H2 R2 "revoked\t2026-11-22T06:04:56Z\t" FP
	                     "\tw\tr\\, with a comma\n",
	                     strlen(H2 R2 "revoked\t2026-11-22T06:04:56Z\t" FP
	                                  "\tw\tr\\, with a comma\n"),
	                     &line, why, sizeof(why)),
	    0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_rotation_revoke_and_blocklist, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_rotation_expiring, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_rotation_reissue, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_rotation_v1_ledger, setup, teardown),
	    cmocka_unit_test(test_rotation_malformed_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
