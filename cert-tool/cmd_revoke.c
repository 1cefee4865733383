/*
 * cert-tool/cmd_revoke.c: the CA over the years, from its ledger: revoke
 * (a revocation record), ledger -expiring and -blocklist (reports), and
 * reissue (every live certificate again, under a new CA, for a rotation
 * that drops no tunnel; cairn-cert(1) ROTATING A CA).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "ct.h"
#include "err.h"
#include "ipaddr.h"
#include "pem.h"
#include "sbuf.h"

#define SECOND 1000000000LL

static bool
has_ip(const struct cert *c, uint32_t ip)
{
	size_t i;

	for (i = 0; i < c->nips; i++)
		if (c->ips[i].addr == ip)
			return true;
	return false;
}

/* --- revoke ----------------------------------------------------------- */

enum { R_LEDGER, R_NAME, R_FP, R_IP, R_REASON, R_JSON, R_COUNT };

enum ct_status
cmd_revoke(struct ct *ct, int argc, char **argv)
{
	struct goflag f[R_COUNT] = {
	    [R_LEDGER] = {"ledger", GOFLAG_STRING, "Required: the ledger that "
	        "sign -ledger appends to", "", false, 0, false},
	    [R_NAME] = {"name", GOFLAG_STRING, "Optional: revoke the "
	        "certificates with this exact name", "", false, 0, false},
	    [R_FP] = {"fingerprint", GOFLAG_STRING, "Optional: revoke the "
	        "certificate with this fingerprint", "", false, 0, false},
	    [R_IP] = {"ip", GOFLAG_STRING, "Optional: revoke the certificates "
	        "with this overlay ip", "", false, 0, false},
	    [R_REASON] = {"reason", GOFLAG_STRING, "Required: why, recorded "
	        "with the revocation", "", false, 0, false},
	    [R_JSON] = {"json", GOFLAG_BOOL, "Optional: print each revocation "
	        "as one line of json", "", false, 0, false},
	};
	struct ledger_db db = {NULL, 0};
	struct ledger *l = NULL;
	struct sbuf out;
	char err[512], err2[512], t[32];
	enum ct_status st;
	int64_t sec, nsec;
	size_t i, nsel, done = 0, expired = 0, already = 0;
	uint32_t ip = 0;
	int r;

	st = ct_parse(ct, f, R_COUNT, argc, argv);
	if (st != CT_OK)
		return st;
	if (*f[R_LEDGER].s == '\0')
		return ct_usage(ct, "-ledger is required");
	nsel = (*f[R_NAME].s != '\0') + (*f[R_FP].s != '\0') +
	       (*f[R_IP].s != '\0');
	if (nsel != 1)
		return ct_usage(ct, "exactly one of -name, -fingerprint and -ip "
		                    "is required");
	if (*f[R_REASON].s == '\0')
		return ct_usage(ct, "-reason is required");
	if (*f[R_IP].s != '\0' && !ip4_parse(f[R_IP].s, &ip))
		return ct_usage(ct, "invalid ip: %s", f[R_IP].s);
	sbuf_init(&out);
	if (!fileio_exists(f[R_LEDGER].s)) {
		st = ct_fail(ct, "no ledger at %s", f[R_LEDGER].s);
		goto out;
	}
	/* Under the lock: nothing can be appended between what we read and
	 * what we write. */
	if ((r = ledger_begin_load(f[R_LEDGER].s, &l, &db, err,
	         sizeof(err))) != 0) {
		st = ledger_fail(ct, r, "reading", err);
		goto out;
	}
	ct_now(&sec, &nsec);
	for (i = 0; i < db.n; i++) {
		const struct ledger_cert *e = &db.c[i];

		if ((*f[R_NAME].s != '\0' &&
		        (e->c->name.len != strlen(f[R_NAME].s) ||
		            memcmp(e->c->name.s, f[R_NAME].s, e->c->name.len))) ||
		    (*f[R_FP].s != '\0' && strcmp(e->fp_hex, f[R_FP].s) != 0) ||
		    (*f[R_IP].s != '\0' && !has_ip(e->c, ip)))
			continue;
		if (e->revoked_at != 0) {
			already++;
			continue;
		}
		if (e->c->not_after <= sec) {
			expired++; /* nothing left to revoke */
			continue;
		}
		if ((r = ledger_append_revoke(l, sec, e->fp_hex, e->c->name.s,
		         e->c->name.len, f[R_REASON].s, err, sizeof(err))) != 0) {
			st = ct_fail(ct, "error while writing ledger: %s", err);
			goto out;
		}
		done++;
		ledger_utc(e->c->not_after, t, sizeof(t));
		if (f[R_JSON].b) {
			sbuf_puts(&out, "{\"fingerprint\":");
			sbuf_json_str(&out, e->fp_hex, strlen(e->fp_hex));
			sbuf_puts(&out, ",\"name\":");
			sbuf_json_str(&out, e->c->name.s, e->c->name.len);
			sbuf_printf(&out, ",\"notAfter\":\"%s\"}\n", t);
		} else {
			sbuf_puts(&out, "revoked: name=");
			sbuf_json_str(&out, e->c->name.s, e->c->name.len);
			sbuf_printf(&out, " fingerprint=%s notAfter=%s\n",
			    e->fp_hex, t);
		}
	}
	if (done == 0) {
		st = ct_fail(ct, "nothing to revoke: no certificate of the "
		                 "ledger matches that is not revoked (%zu "
		                 "already) or expired (%zu)",
		    already, expired);
		goto out;
	}
	if (!sbuf_ok(&out)) {
		st = ct_fail(ct, "out of memory");
		goto out;
	}
	if ((r = ledger_end(l, err, sizeof(err))) != 0) {
		l = NULL;
		st = ct_fail(ct, "error while writing ledger: %s", err);
		goto out;
	}
	l = NULL;
	fwrite(out.s, 1, out.len, stdout);
out:
	if (st != CT_OK && l != NULL && done > 0 &&
	    ledger_rollback(l, err2, sizeof(err2)) != 0) {
		size_t n = strlen(ct->msg);

		snprintf(ct->msg + n, sizeof(ct->msg) - n, "; %s", err2);
	}
	ledger_end(l, err2, sizeof(err2));
	ledger_db_free(&db);
	sbuf_free(&out);
	return st;
}

/* --- ledger -expiring, -blocklist --------------------------------------- */

struct due {
	int64_t at;
	const char *kind; /* "cert" or "ca" */
	const char *name;
	size_t name_len;
	char fp[CERT_FP_HEXLEN];
};

static int
cmp_due(const void *a, const void *b)
{
	const struct due *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return strcmp(x->fp, y->fp);
}

/* The CA certificates of a bundle; *n of them in *out (caller frees each
 * and the array). */
static enum ct_status
read_bundle(struct ct *ct, const char *path, struct cert ***out, size_t *n)
{
	char err[512], *buf = NULL;
	struct cert **v = NULL, **nv, *c;
	size_t len, off = 0, used, cap = 0;
	int r;

	*out = NULL;
	*n = 0;
	if (fileio_read(path, CT_MAX_FILE, &buf, &len, err, sizeof(err)) != 0)
		return ct_fail(ct, "error while reading %s: %s", path, err);
	while (!pem_rest_empty(buf + off, len - off)) {
		if ((r = cert_from_pem(buf + off, len - off, &c, &used)) != 0) {
			free(buf);
			while (*n > 0)
				cert_free(v[--*n]);
			free(v);
			return ct_fail(ct, "error while parsing %s: %s", path,
			    vpn_strerror(r));
		}
		off += used;
		if (*n == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			if ((nv = realloc(v, cap * sizeof(*nv))) == NULL) {
				cert_free(c);
				break;
			}
			v = nv;
		}
		v[(*n)++] = c;
	}
	free(buf);
	*out = v;
	return CT_OK;
}

enum ct_status
ledger_expiring(struct ct *ct, const struct ledger_db *db, const char *bundle,
    int64_t within, bool json)
{
	struct cert **cas = NULL;
	struct due *d = NULL;
	struct sbuf b;
	enum ct_status st = CT_OK;
	int64_t sec, nsec, until, left;
	size_t i, nd = 0, nca = 0;
	char t[32];

	ct_now(&sec, &nsec);
	until = ct_add(sec, nsec, within);
	if (bundle != NULL && (st = read_bundle(ct, bundle, &cas, &nca)) != CT_OK)
		return st;
	if ((d = calloc(db->n + nca + 1, sizeof(*d))) == NULL) {
		st = ct_fail(ct, "out of memory");
		goto out;
	}
	/* Each name's current certificate, unless revoked: an older one
	 * was superseded, a revoked one is meant to end. */
	for (i = 0; i < db->n; i++) {
		const struct ledger_cert *e = &db->c[i];

		if (!e->latest || e->revoked_at != 0 || e->c->not_after > until)
			continue;
		d[nd].at = e->c->not_after;
		d[nd].kind = "cert";
		d[nd].name = e->c->name.s;
		d[nd].name_len = e->c->name.len;
		memcpy(d[nd++].fp, e->fp_hex, CERT_FP_HEXLEN);
	}
	for (i = 0; i < nca; i++) {
		if (cas[i]->not_after > until)
			continue;
		d[nd].at = cas[i]->not_after;
		d[nd].kind = "ca";
		d[nd].name = cas[i]->name.s;
		d[nd].name_len = cas[i]->name.len;
		if (cert_fingerprint_hex(cas[i], d[nd].fp) != 0)
			continue;
		nd++;
	}
	qsort(d, nd, sizeof(*d), cmp_due);
	sbuf_init(&b);
	for (i = 0; i < nd; i++) {
		ledger_utc(d[i].at, t, sizeof(t));
		left = d[i].at - sec;
		if (json) {
			sbuf_printf(&b, "{\"expired\":%s,\"fingerprint\":\"%s\","
			                "\"kind\":\"%s\",\"name\":",
			    left <= 0 ? "true" : "false", d[i].fp, d[i].kind);
			sbuf_json_str(&b, d[i].name, d[i].name_len);
			sbuf_printf(&b, ",\"notAfter\":\"%s\"}\n", t);
			continue;
		}
		sbuf_printf(&b, "%s  %-4s  ", t, d[i].kind);
		sbuf_json_str(&b, d[i].name, d[i].name_len);
		if (left <= 0)
			sbuf_puts(&b, "  expired");
		else
			sbuf_printf(&b, "  in %lldd%02lldh",
			    (long long)(left / 86400),
			    (long long)(left % 86400 / 3600));
		sbuf_printf(&b, "  %s\n", d[i].fp);
	}
	if (!sbuf_ok(&b)) {
		st = ct_fail(ct, "out of memory");
	} else {
		fwrite(b.s, 1, b.len, stdout);
		st = nd > 0 ? CT_FOUND : CT_OK;
	}
	sbuf_free(&b);
out:
	free(d);
	for (i = 0; i < nca; i++)
		cert_free(cas[i]);
	free(cas);
	return st;
}

enum ct_status
ledger_blocklist(struct ct *ct, const struct ledger_db *db, bool json)
{
	struct sbuf b;
	int64_t sec, nsec;
	size_t i, n = 0;
	char t[32], na[32];

	ct_now(&sec, &nsec);
	sbuf_init(&b);
	sbuf_puts(&b, json ? "[" : "pki:\n  blocklist:");
	for (i = 0; i < db->n; i++) {
		const struct ledger_cert *e = &db->c[i];

		/* An expired certificate is refused anyway. */
		if (e->revoked_at == 0 || e->c->not_after <= sec)
			continue;
		ledger_utc(e->revoked_at, t, sizeof(t));
		ledger_utc(e->c->not_after, na, sizeof(na));
		if (json) {
			sbuf_printf(&b, "%s{\"fingerprint\":\"%s\",\"name\":",
			    n > 0 ? "," : "", e->fp_hex);
			sbuf_json_str(&b, e->c->name.s, e->c->name.len);
			sbuf_printf(&b, ",\"notAfter\":\"%s\",\"reason\":", na);
			sbuf_json_str(&b, e->reason, strlen(e->reason));
			sbuf_printf(&b, ",\"revoked\":\"%s\"}", t);
		} else {
			/* The name and reason as JSON strings: nothing in
			 * them can end the YAML comment. */
			sbuf_puts(&b, "\n    # ");
			sbuf_json_str(&b, e->c->name.s, e->c->name.len);
			sbuf_puts(&b, ": ");
			sbuf_json_str(&b, e->reason, strlen(e->reason));
			sbuf_printf(&b, " (revoked %s, expires %s)\n    - \"%s\"",
			    t, na, e->fp_hex);
		}
		n++;
	}
	sbuf_puts(&b, json ? "]\n" : n == 0 ? " []\n" : "\n");
	if (!sbuf_ok(&b)) {
		sbuf_free(&b);
		return ct_fail(ct, "out of memory");
	}
	fwrite(b.s, 1, b.len, stdout);
	sbuf_free(&b);
	return CT_OK;
}

/* --- reissue ------------------------------------------------------------ */

enum { I_LEDGER, I_CA_CRT, I_CA_KEY, I_OLD_CA, I_OUT_DIR, I_DURATION,
	I_COUNT };

/* A file name for a certificate's name: the name itself when it is a
 * plain one, else its fingerprint. */
static void
out_name(const struct ledger_cert *e, char *buf, size_t len)
{
	size_t i, n = e->c->name.len;
	bool plain = n > 0 && n < 128 && e->c->name.s[0] != '.';

	for (i = 0; plain && i < n; i++) {
		char c = e->c->name.s[i];

		plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		        c == '_';
	}
	if (plain)
		snprintf(buf, len, "%.*s", (int)n, e->c->name.s);
	else
		snprintf(buf, len, "%.16s", e->fp_hex);
}

/* An empty directory to write into: made (*made), or existing and
 * empty. */
static enum ct_status
out_dir(struct ct *ct, const char *path, bool *made)
{
	struct dirent *de;
	DIR *d;

	*made = false;
	if (mkdir(path, 0700) == 0) {
		*made = true;
		return CT_OK;
	}
	if (errno != EEXIST || (d = opendir(path)) == NULL)
		return ct_fail(ct, "error while making -out-dir %s: %s", path,
		    strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			break;
	closedir(d);
	if (de != NULL)
		return ct_fail(ct, "refusing to write into %s: it is not empty",
		    path);
	return CT_OK;
}

struct issued {
	struct cert *c;
	char *path, *pem;
	size_t pem_len;
	bool written;
};

enum ct_status
cmd_reissue(struct ct *ct, int argc, char **argv)
{
	struct goflag f[I_COUNT] = {
	    [I_LEDGER] = {"ledger", GOFLAG_STRING, "Required: the ledger; the "
	        "new certificates are appended to it", "", false, 0, false},
	    [I_CA_CRT] = {"ca-crt", GOFLAG_STRING, "Optional: the new CA "
	        "certificate", "ca.crt", false, 0, false},
	    [I_CA_KEY] = {"ca-key", GOFLAG_STRING, "Optional: the new CA "
	        "private key (plain or encrypted)", "ca.key", false, 0,
	        false},
	    [I_OLD_CA] = {"old-ca", GOFLAG_STRING, "Required: the CA "
	        "certificate(s) the hosts trust now, for the bundle", "",
	        false, 0, false},
	    [I_OUT_DIR] = {"out-dir", GOFLAG_STRING, "Required: a new or "
	        "empty directory for <name>.crt and ca-bundle.crt", "", false,
	        0, false},
	    [I_DURATION] = {"duration", GOFLAG_DURATION, "Optional: how long "
	        "the new certificates are valid; by default until one second "
	        "before the new CA expires", "", false, 0, false},
	};
	struct ledger_db db = {NULL, 0};
	struct ledger *l = NULL;
	struct cert *ca = NULL, **old = NULL;
	struct issued *v = NULL;
	struct sbuf bundle;
	uint8_t cakey[64], cafp[CERT_FP_LEN];
	char err[512], err2[512], cafp_hex[CERT_FP_HEXLEN], name[160], t[32],
	    detail[256], *pem, *bpath = NULL;
	enum ct_status st;
	int64_t sec, nsec, dur;
	size_t i, k, nv = 0, nold = 0, len, skipped = 0, nopub = 0;
	bool bundle_written = false, made = false;
	int r;

	crypto_cleanse(cakey, sizeof(cakey));
	st = ct_parse(ct, f, I_COUNT, argc, argv);
	if (st != CT_OK)
		return st;
	if (*f[I_LEDGER].s == '\0')
		return ct_usage(ct, "-ledger is required");
	if (*f[I_OLD_CA].s == '\0')
		return ct_usage(ct, "-old-ca is required");
	if (*f[I_OUT_DIR].s == '\0')
		return ct_usage(ct, "-out-dir is required");
	sbuf_init(&bundle);
	if ((r = ledger_load_file(f[I_LEDGER].s, false, &db, err, sizeof(err))) != 0) {
		st = ledger_fail(ct, r, "reading", err);
		goto out;
	}
	if ((st = read_bundle(ct, f[I_OLD_CA].s, &old, &nold)) != CT_OK)
		goto out;
	for (i = 0; i < nold; i++)
		if (!old[i]->is_ca) {
			st = ct_fail(ct, "%s holds a certificate that is not a "
			                 "CA",
			    f[I_OLD_CA].s);
			goto out;
		}
	if (nold == 0) {
		st = ct_fail(ct, "%s holds no certificate", f[I_OLD_CA].s);
		goto out;
	}
	if ((st = ct_load_ca(ct, f[I_CA_CRT].s, f[I_CA_KEY].s, cakey, &ca)) !=
	    CT_OK)
		goto out;
	if (cert_fingerprint(ca, cafp) != 0) {
		st = ct_fail(ct, "error while getting -ca-crt fingerprint");
		goto out;
	}
	hex_encode(cafp, sizeof(cafp), cafp_hex);
	for (i = 0; i < nold; i++) {
		uint8_t ofp[CERT_FP_LEN];

		if (cert_fingerprint(old[i], ofp) == 0 &&
		    memcmp(ofp, cafp, CERT_FP_LEN) == 0) {
			st = ct_fail(ct, "%s already holds the new CA (%s): "
			                 "-old-ca is the CA the hosts trust now, "
			                 "-ca-crt the one to move them to",
			    f[I_OLD_CA].s, cafp_hex);
			goto out;
		}
	}
	ct_now(&sec, &nsec);
	if (cert_expired(ca, sec)) {
		st = ct_fail(ct, "ca certificate is expired");
		goto out;
	}
	dur = f[I_DURATION].d;
	if (dur <= 0)
		dur = (ca->not_after - sec) * SECOND - nsec - SECOND;
	if ((v = calloc(db.n + 1, sizeof(*v))) == NULL) {
		st = ct_fail(ct, "out of memory");
		goto out;
	}
	/* Sign every live certificate again; nothing is written before all
	 * of them are made. */
	for (i = 0; i < db.n; i++) {
		const struct ledger_cert *e = &db.c[i];
		struct cert *c;

		if (!ledger_live(e, sec))
			continue;
		if (strcmp(e->ca_hex, cafp_hex) == 0) {
			skipped++; /* issued by the new CA already */
			continue;
		}
		for (k = 0; k < nold; k++) {
			uint8_t ofp[CERT_FP_LEN];
			char oh[CERT_FP_HEXLEN];

			if (cert_fingerprint(old[k], ofp) != 0)
				continue;
			hex_encode(ofp, sizeof(ofp), oh);
			if (strcmp(oh, e->ca_hex) == 0)
				break;
		}
		if (k == nold) {
			st = ct_fail(ct, "%s does not hold the CA of %.*s's "
			                 "current certificate (%s): the bundle "
			                 "would not trust it during the rotation",
			    f[I_OLD_CA].s, (int)e->c->name.len, e->c->name.s,
			    e->ca_hex);
			goto out;
		}
		if (!e->has_pub) {
			fprintf(stderr, "cannot re-issue %.*s (%s): its ledger "
			                "record has no public key (issued by an "
			                "older cert-tool); sign it again with "
			                "-in-pub\n",
			    (int)e->c->name.len, e->c->name.s, e->fp_hex);
			nopub++;
			continue;
		}
		if ((c = cert_new()) == NULL ||
		    cert_set_name(c, e->c->name.s, e->c->name.len) != 0 ||
		    cert_set_pubkey(c, e->c->pubkey, 32) != 0 ||
		    cert_set_issuer(c, cafp, sizeof(cafp)) != 0) {
			cert_free(c);
			st = ct_fail(ct, "out of memory");
			goto out;
		}
		v[nv++].c = c;
		for (k = 0; k < e->c->nips; k++)
			if (cert_add_ip(c, &e->c->ips[k]) != 0)
				goto nomem;
		for (k = 0; k < e->c->nsubnets; k++)
			if (cert_add_subnet(c, &e->c->subnets[k]) != 0)
				goto nomem;
		for (k = 0; k < e->c->ngroups; k++)
			if (cert_add_group(c, e->c->groups[k].s,
			        e->c->groups[k].len) != 0)
				goto nomem;
		c->not_before = sec;
		c->not_after = ct_add(sec, nsec, dur);
		if ((r = cert_check_constraints(c, ca, detail,
		         sizeof(detail))) != 0) {
			st = ct_fail(ct, "refusing to re-issue %.*s, root "
			                 "certificate constraints violated: "
			                 "%s%s%s",
			    (int)c->name.len, c->name.s, vpn_strerror(r),
			    *detail != '\0' ? ": " : "", detail);
			goto out;
		}
		if (cert_sign(c, cakey) != 0) {
			st = ct_fail(ct, "error while signing");
			goto out;
		}
		out_name(e, name, sizeof(name));
		if (asprintf(&v[nv - 1].path, "%s/%s.crt", f[I_OUT_DIR].s,
		        name) < 0) {
			v[nv - 1].path = NULL;
			goto nomem;
		}
		for (k = 0; k + 1 < nv; k++)
			if (strcmp(v[k].path, v[nv - 1].path) == 0) {
				st = ct_fail(ct, "two certificates would be "
				                 "written to %s",
				    v[k].path);
				goto out;
			}
		if ((v[nv - 1].pem = cert_to_pem(c, &v[nv - 1].pem_len)) ==
		    NULL)
			goto nomem;
	}
	if (nopub > 0) {
		st = ct_fail(ct, "%zu live certificate%s cannot be re-issued "
		                 "(listed above); nothing was written",
		    nopub, nopub == 1 ? "" : "s");
		goto out;
	}
	/* The bundle: what the hosts trust now, then the new CA. */
	for (i = 0; i < nold; i++) {
		if ((pem = cert_to_pem(old[i], &len)) == NULL)
			goto nomem;
		sbuf_add(&bundle, pem, len);
		free(pem);
	}
	if ((pem = cert_to_pem(ca, &len)) == NULL)
		goto nomem;
	sbuf_add(&bundle, pem, len);
	free(pem);
	if (!sbuf_ok(&bundle) ||
	    asprintf(&bpath, "%s/ca-bundle.crt", f[I_OUT_DIR].s) < 0) {
		bpath = NULL;
		goto nomem;
	}
	/* Record first, then write; undo both on any failure. */
	if ((st = out_dir(ct, f[I_OUT_DIR].s, &made)) != CT_OK)
		goto out;
	if ((r = ledger_begin(f[I_LEDGER].s, &l, err, sizeof(err))) != 0) {
		st = ledger_fail(ct, r, "writing", err);
		goto out;
	}
	for (i = 0; i < nv; i++)
		if (ledger_append(l, sec, v[i].c, err, sizeof(err)) != 0) {
			st = ct_fail(ct, "error while writing ledger: %s", err);
			goto out;
		}
	for (i = 0; i < nv; i++) {
		if (fileio_write_new(v[i].path, v[i].pem, v[i].pem_len, err,
		        sizeof(err)) != 0) {
			st = ct_fail(ct, "error while writing %s: %s",
			    v[i].path, err);
			goto out;
		}
		v[i].written = true;
	}
	if (fileio_write_new(bpath, bundle.s, bundle.len, err, sizeof(err)) !=
	    0) {
		st = ct_fail(ct, "error while writing %s: %s", bpath, err);
		goto out;
	}
	bundle_written = true;
	r = ledger_end(l, err, sizeof(err));
	l = NULL;
	if (r != 0) {
		st = ct_fail(ct, "error while writing ledger: %s", err);
		goto out;
	}
	for (i = 0; i < nv; i++) {
		ledger_utc(v[i].c->not_after, t, sizeof(t));
		fprintf(stderr, "re-issued %.*s: %s (notAfter %s)\n",
		    (int)v[i].c->name.len, v[i].c->name.s, v[i].path, t);
	}
	fprintf(stderr, "%zu certificate%s re-issued under %s (%s)%s; the "
	                "bundle to roll out first: %s\n",
	    nv, nv == 1 ? "" : "s", ca->name.s, cafp_hex,
	    skipped > 0 ? ", some were issued by it already" : "", bpath);
	fwrite(bundle.s, 1, bundle.len, stdout);
	goto out;
nomem:
	st = ct_fail(ct, "out of memory");
out:
	if (st != CT_OK) {
		for (i = 0; i < nv; i++)
			if (v[i].written)
				unlink(v[i].path);
		if (bundle_written)
			unlink(bpath);
		if (made)
			rmdir(f[I_OUT_DIR].s);
		if (l != NULL && ledger_rollback(l, err2, sizeof(err2)) != 0) {
			size_t n = strlen(ct->msg);

			snprintf(ct->msg + n, sizeof(ct->msg) - n, "; %s",
			    err2);
		}
	}
	ledger_end(l, err2, sizeof(err2));
	crypto_cleanse(cakey, sizeof(cakey));
	for (i = 0; i < nv; i++) {
		cert_free(v[i].c);
		free(v[i].path);
		free(v[i].pem);
	}
	free(v);
	for (i = 0; i < nold; i++)
		cert_free(old[i]);
	free(old);
	free(bpath);
	cert_free(ca);
	sbuf_free(&bundle);
	ledger_db_free(&db);
	return st;
}
