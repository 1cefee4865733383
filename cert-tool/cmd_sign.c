/* cert-tool/cmd_sign.c: issue a host certificate from the CA. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "ct.h"
#include "err.h"
#include "pem.h"

#define SECOND 1000000000LL

enum { F_CA_CRT, F_CA_KEY, F_NAME, F_IP, F_DURATION, F_GROUPS, F_SUBNETS,
	F_IN_PUB, F_OUT_KEY, F_OUT_CRT, F_OUT_QR, F_LEDGER, F_ALLOW_REVOKED,
	F_COUNT };

struct sign_out {
	const char *crt, *key; /* key is NULL with -in-pub */
	char *crt_pem, *key_pem;
	size_t crt_len, key_len;
};

/* Add "; <more>" to the message of a failure already reported. */
static void
also(struct ct *ct, const char *more)
{
	size_t n = strlen(ct->msg);

	snprintf(ct->msg + n, sizeof(ct->msg) - n, "; %s", more);
}

/*
 * Write the outputs; with a ledger, its line goes first and is undone if
 * a file cannot be written, so a certificate is either issued and
 * recorded, or neither.
 */
static enum ct_status
write_outputs(struct ct *ct, struct goflag *f, const struct cert *c,
    int64_t now, struct sign_out *o)
{
	struct ledger *l = NULL;
	char err[512], err2[512];
	enum ct_status st = CT_OK;
	bool key_written = false, crt_written = false, qr_written = false;
	int r;

	if (*f[F_LEDGER].s != '\0' &&
	    ((r = ledger_begin(f[F_LEDGER].s, &l, err, sizeof(err))) != 0 ||
	        (r = ledger_append(l, now, c, err, sizeof(err))) != 0)) {
		ledger_end(l, err2, sizeof(err2));
		return ledger_fail(ct, r, "writing", err);
	}
	if (o->key != NULL) {
		if (fileio_write_new(o->key, o->key_pem, o->key_len, err,
		        sizeof(err)) != 0) {
			st = ct_fail(ct, "error while writing out-key: %s",
			    err);
			goto out;
		}
		key_written = true;
	}
	if (fileio_write_new(o->crt, o->crt_pem, o->crt_len, err, sizeof(err))) {
		st = ct_fail(ct, "error while writing out-crt: %s", err);
		goto out;
	}
	crt_written = true;
	if ((st = ct_write_qr(ct, f[F_OUT_QR].s, o->crt_pem, o->crt_len)) !=
	    CT_OK)
		goto out;
	qr_written = *f[F_OUT_QR].s != '\0';
out:
	if (st == CT_OK) {
		/* A close that fails may mean the record is not whole,
		 * synced as it was: then the certificate is not issued. */
		r = ledger_end(l, err, sizeof(err));
		l = NULL; /* closed either way */
		if (r != 0)
			st = ct_fail(ct, "error while writing ledger: %s", err);
	}
	if (st != CT_OK) {
		/* The files first: never a certificate without its record. */
		if (qr_written)
			unlink(f[F_OUT_QR].s);
		if (crt_written)
			unlink(o->crt);
		if (key_written)
			unlink(o->key);
		if (l != NULL && ledger_rollback(l, err, sizeof(err)) != 0)
			also(ct, err);
		ledger_end(l, err2, sizeof(err2));
	}
	return st;
}

enum ct_status
ct_load_ca(struct ct *ct, const char *crt_path, const char *key_path,
    uint8_t key[64], struct cert **ca)
{
	char err[512], *buf = NULL;
	size_t len;
	int r;

	if (fileio_read(key_path, CT_MAX_FILE, &buf, &len, err, sizeof(err)) != 0)
		return ct_fail(ct, "error while reading ca-key: %s", err);
	r = ct_read_ca_key(buf, len, key, err, sizeof(err));
	crypto_cleanse(buf, len);
	free(buf);
	if (r != 0)
		return ct_fail(ct, "error while parsing ca-key: %s", err);
	if (fileio_read(crt_path, CT_MAX_FILE, &buf, &len, err, sizeof(err)) != 0)
		return ct_fail(ct, "error while reading ca-crt: %s", err);
	r = cert_from_pem(buf, len, ca, NULL);
	free(buf);
	if (r != 0)
		return ct_fail(ct, "error while parsing ca-crt: %s",
		    vpn_strerror(r));
	if (cert_check_private_key(*ca, key, 64) != 0)
		return ct_fail(ct, "refusing to sign, root certificate does "
		                   "not match private key");
	return CT_OK;
}

/*
 * Before the passphrase is asked for and anything is signed: the ledger
 * must be one the ledger mode can read (sign appends only to such a
 * file), and, unless allow_revoked, the latest certificate of this name
 * in it must not be revoked.  One read does both.
 */
static enum ct_status
check_ledger(struct ct *ct, const char *path, const char *name,
    bool allow_revoked)
{
	struct ledger_db db;
	char err[512], t[32];
	enum ct_status st = CT_OK;
	size_t i;
	int r;

	if ((r = ledger_load_file(path, true, &db, err, sizeof(err))) != 0)
		return ledger_fail(ct, r, "reading", err);
	for (i = 0; i < db.n && !allow_revoked; i++) {
		const struct ledger_cert *e = &db.c[i];

		if (!e->latest || e->revoked_at == 0 ||
		    e->c->name.len != strlen(name) ||
		    memcmp(e->c->name.s, name, e->c->name.len) != 0)
			continue;
		ledger_utc(e->revoked_at, t, sizeof(t));
		st = ct_fail(ct, "refusing to sign: the ledger's latest "
		                 "certificate named %s (%s) was revoked at %s "
		                 "(%s); -allow-revoked signs it all the same",
		    name, e->fp_hex, t, e->reason != NULL ? e->reason : "");
		break;
	}
	ledger_db_free(&db);
	return st;
}

enum ct_status
cmd_sign(struct ct *ct, int argc, char **argv)
{
	struct goflag f[F_COUNT] = {
	    [F_CA_CRT] = {"ca-crt", GOFLAG_STRING, "Optional: the signing CA "
	        "certificate", "ca.crt", false, 0, false},
	    [F_CA_KEY] = {"ca-key", GOFLAG_STRING, "Optional: the signing CA "
	        "private key (plain or encrypted)", "ca.key", false, 0,
	        false},
	    [F_NAME] = {"name", GOFLAG_STRING, "Required: name of the "
	        "certificate, usually the host name", "", false, 0, false},
	    [F_IP] = {"ip", GOFLAG_STRING, "Required: the host's overlay ipv4 "
	        "address and network in CIDR notation", "", false, 0, false},
	    [F_DURATION] = {"duration", GOFLAG_DURATION, "Optional: how long "
	        "the certificate is valid, in Go duration syntax (s, m, h "
	        "units); by default until one second before the CA "
	        "expires", "", false, 0, false},
	    [F_GROUPS] = {"groups", GOFLAG_STRING, "Optional: comma separated "
	        "list of groups", "", false, 0, false},
	    [F_SUBNETS] = {"subnets", GOFLAG_STRING, "Optional: comma "
	        "separated list of ipv4 networks in CIDR notation that this "
	        "host routes for", "", false, 0, false},
	    [F_IN_PUB] = {"in-pub", GOFLAG_STRING, "Optional (if out-key not "
	        "set): the host's public key, made by keygen on the host",
	        "", false, 0, false},
	    [F_OUT_KEY] = {"out-key", GOFLAG_STRING, "Optional (if in-pub not "
	        "set): where to write the new private key (default "
	        "<name>.key)", "", false, 0, false},
	    [F_OUT_CRT] = {"out-crt", GOFLAG_STRING, "Optional: where to write "
	        "the certificate (default <name>.crt)", "", false, 0, false},
	    [F_OUT_QR] = {"out-qr", GOFLAG_STRING, "Optional: write a QR code "
	        "(PNG) of the certificate here", "", false, 0, false},
	    [F_LEDGER] = {"ledger", GOFLAG_STRING, "Optional: append a record "
	        "of the issued certificate to this ledger file", "", false, 0,
	        false},
	    [F_ALLOW_REVOKED] = {"allow-revoked", GOFLAG_BOOL, "Optional: "
	        "sign even though the ledger's latest certificate of this name "
	        "is revoked", "", false, 0, false},
	};
	uint8_t cakey[64], pub[32], priv[32], fp[CERT_FP_LEN];
	char detail[256], err[512], *buf = NULL, *crt_path = NULL,
	    *key_path = NULL;
	struct sign_out o = {NULL, NULL, NULL, NULL, 0, 0};
	struct cert *ca = NULL, *c = NULL;
	struct ip4net ip;
	int64_t sec, nsec, dur;
	enum ct_status st;
	size_t len;
	bool in_pub;
	int r;

	crypto_cleanse(cakey, sizeof(cakey));
	crypto_cleanse(priv, sizeof(priv));
	st = ct_parse(ct, f, F_COUNT, argc, argv);
	if (st != CT_OK)
		return st;
	if (*f[F_CA_KEY].s == '\0')
		return ct_usage(ct, "-ca-key is required");
	if (*f[F_CA_CRT].s == '\0')
		return ct_usage(ct, "-ca-crt is required");
	if (*f[F_NAME].s == '\0')
		return ct_usage(ct, "-name is required");
	if (*f[F_IP].s == '\0')
		return ct_usage(ct, "-ip is required");
	in_pub = *f[F_IN_PUB].s != '\0';
	if (in_pub && *f[F_OUT_KEY].s != '\0')
		return ct_usage(ct, "cannot set both -in-pub and -out-key");
	r = ip4net_parse(f[F_IP].s, &ip);
	if (r == VPN_ERR_RANGE) {
		st = ct_usage(ct, "invalid ip definition: can only be ipv4, "
		                  "have %s", f[F_IP].s);
		goto out;
	} else if (r != 0) {
		st = ct_usage(ct, "invalid ip definition: invalid CIDR "
		                  "address: %s", f[F_IP].s);
		goto out;
	}
	if ((c = cert_new()) == NULL ||
	    cert_set_name(c, f[F_NAME].s, strlen(f[F_NAME].s)) != 0 ||
	    cert_add_ip(c, &ip) != 0) {
		st = ct_fail(ct, "out of memory");
		goto out;
	}
	if ((st = ct_parse_groups(ct, f[F_GROUPS].s, c)) != CT_OK ||
	    (st = ct_parse_nets(ct, f[F_SUBNETS].s, true, c)) != CT_OK)
		goto out;
	if (*f[F_LEDGER].s != '\0' &&
	    (st = check_ledger(ct, f[F_LEDGER].s, f[F_NAME].s,
	         f[F_ALLOW_REVOKED].b)) != CT_OK)
		goto out;
	if ((st = ct_load_ca(ct, f[F_CA_CRT].s, f[F_CA_KEY].s, cakey, &ca)) !=
	    CT_OK)
		goto out;
	if (cert_fingerprint(ca, fp) != 0) {
		st = ct_fail(ct, "error while getting -ca-crt fingerprint");
		goto out;
	}
	ct_now(&sec, &nsec);
	if (cert_expired(ca, sec)) {
		st = ct_fail(ct, "ca certificate is expired");
		goto out;
	}
	dur = f[F_DURATION].d;
	if (dur <= 0) /* until one second before the CA ends */
		dur = (ca->not_after - sec) * SECOND - nsec - SECOND;
	if (in_pub) {
		if (fileio_read(f[F_IN_PUB].s, CT_MAX_FILE, &buf, &len, err,
		        sizeof(err)) != 0) {
			st = ct_fail(ct, "error while reading in-pub: %s", err);
			goto out;
		}
		r = pem_x25519_public(buf, len, pub, NULL);
		if (r != 0) {
			st = ct_fail(ct, "error while parsing in-pub: %s",
			    vpn_strerror(r));
			goto out;
		}
	} else if (crypto_x25519_keypair(priv, pub) != 0) {
		st = ct_fail(ct, "error while generating x25519 keys");
		goto out;
	}
	c->not_before = sec;
	c->not_after = ct_add(sec, nsec, dur);
	if (cert_set_pubkey(c, pub, 32) != 0 ||
	    cert_set_issuer(c, fp, sizeof(fp)) != 0) {
		st = ct_fail(ct, "out of memory");
		goto out;
	}
	if ((r = cert_check_constraints(c, ca, detail, sizeof(detail))) != 0) {
		st = ct_fail(ct, "refusing to sign, root certificate "
		                 "constraints violated: %s%s%s",
		    vpn_strerror(r), *detail != '\0' ? ": " : "", detail);
		goto out;
	}
	if (asprintf(&key_path, "%s.key", f[F_NAME].s) < 0 ||
	    asprintf(&crt_path, "%s.crt", f[F_NAME].s) < 0) {
		key_path = crt_path = NULL;
		st = ct_fail(ct, "out of memory");
		goto out;
	}
	o.crt = *f[F_OUT_CRT].s != '\0' ? f[F_OUT_CRT].s : crt_path;
	o.key = in_pub ? NULL :
	    *f[F_OUT_KEY].s != '\0' ? f[F_OUT_KEY].s : key_path;
	if (fileio_exists(o.crt)) {
		st = ct_fail(ct, "refusing to overwrite existing cert: %s",
		    o.crt);
		goto out;
	}
	if (cert_sign(c, cakey) != 0) {
		st = ct_fail(ct, "error while signing");
		goto out;
	}
	if (o.key != NULL && fileio_exists(o.key)) {
		st = ct_fail(ct, "refusing to overwrite existing key: %s",
		    o.key);
		goto out;
	}
	if (*f[F_OUT_QR].s != '\0' && fileio_exists(f[F_OUT_QR].s)) {
		st = ct_fail(ct, "refusing to overwrite existing QR file: %s",
		    f[F_OUT_QR].s);
		goto out;
	}
	if ((o.crt_pem = cert_to_pem(c, &o.crt_len)) == NULL ||
	    (o.key != NULL &&
	        (o.key_pem = pem_encode(PEM_X25519_PRIV, priv, sizeof(priv),
	             &o.key_len)) == NULL)) {
		st = ct_fail(ct, "error while marshalling certificate");
		goto out;
	}
	st = write_outputs(ct, f, c, sec, &o);
out:
	crypto_cleanse(cakey, sizeof(cakey));
	crypto_cleanse(priv, sizeof(priv));
	if (o.key_pem != NULL) {
		crypto_cleanse(o.key_pem, o.key_len);
		free(o.key_pem);
	}
	free(o.crt_pem);
	free(buf);
	free(key_path);
	free(crt_path);
	cert_free(ca);
	cert_free(c);
	return st;
}
