/* cert-tool/cmd_misc.c: keygen, print, verify, ledger, and -out-qr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "certfmt.h"
#include "crypto.h"
#include "ct.h"
#include "err.h"
#include "pem.h"
#include "pki.h"
#include "qr.h"
#include "sbuf.h"

enum ct_status
ct_write_qr(struct ct *ct, const char *path, const char *text, size_t len)
{
	char err[512];
	uint8_t *png;
	size_t pnglen;
	int r;

	if (*path == '\0')
		return CT_OK;
	if ((r = qr_png(text, len, &png, &pnglen)) != 0)
		return ct_fail(ct, "error while generating qr code: %s",
		    r == VPN_ERR_RANGE ? "the text is too long for a QR code" :
		                         vpn_strerror(r));
	r = fileio_write_new(path, png, pnglen, err, sizeof(err));
	free(png);
	if (r != 0)
		return ct_fail(ct, "error while writing out-qr: %s", err);
	return CT_OK;
}

enum ct_status
cmd_keygen(struct ct *ct, int argc, char **argv)
{
	struct goflag f[] = {
	    {"out-key", GOFLAG_STRING, "Required: where to write the private "
	        "key", "", false, 0, false},
	    {"out-pub", GOFLAG_STRING, "Required: where to write the public "
	        "key", "", false, 0, false},
	};
	uint8_t priv[32], pub[32];
	char err[512], *kp = NULL, *pp = NULL;
	size_t kl, pl;
	enum ct_status st;

	st = ct_parse(ct, f, 2, argc, argv);
	if (st != CT_OK)
		return st;
	if (*f[0].s == '\0')
		return ct_usage(ct, "-out-key is required");
	if (*f[1].s == '\0')
		return ct_usage(ct, "-out-pub is required");
	/* nebula-cert overwrites here; losing a private key is worse. */
	if (fileio_exists(f[0].s))
		return ct_fail(ct, "refusing to overwrite existing key: %s",
		    f[0].s);
	if (fileio_exists(f[1].s))
		return ct_fail(ct,
		    "refusing to overwrite existing public key: %s", f[1].s);
	if (crypto_x25519_keypair(priv, pub) != 0)
		return ct_fail(ct, "error while generating x25519 keys");
	kp = pem_encode(PEM_X25519_PRIV, priv, sizeof(priv), &kl);
	pp = pem_encode(PEM_X25519_PUB, pub, sizeof(pub), &pl);
	crypto_cleanse(priv, sizeof(priv));
	if (kp == NULL || pp == NULL)
		st = ct_fail(ct, "out of memory");
	else if (fileio_write_new(f[0].s, kp, kl, err, sizeof(err)) != 0)
		st = ct_fail(ct, "error while writing out-key: %s", err);
	else if (fileio_write_new(f[1].s, pp, pl, err, sizeof(err)) != 0) {
		unlink(f[0].s);
		st = ct_fail(ct, "error while writing out-pub: %s", err);
	}
	if (kp != NULL) {
		crypto_cleanse(kp, kl);
		free(kp);
	}
	free(pp);
	return st;
}

enum ct_status
cmd_print(struct ct *ct, int argc, char **argv)
{
	struct goflag f[] = {
	    {"json", GOFLAG_BOOL, "Optional: print each certificate as one "
	        "line of json", "", false, 0, false},
	    {"out-qr", GOFLAG_STRING, "Optional: write a QR code (PNG) of the "
	        "certificates here", "", false, 0, false},
	    {"path", GOFLAG_STRING, "Required: the certificate file (one or "
	        "more certificates)", "", false, 0, false},
	};
	char err[512], *buf = NULL, *pem;
	struct sbuf out, qr;
	struct cert *c = NULL;
	size_t len, off = 0, used, pl;
	enum ct_status st;
	int r;

	st = ct_parse(ct, f, 3, argc, argv);
	if (st != CT_OK)
		return st;
	if (*f[2].s == '\0')
		return ct_usage(ct, "-path is required");
	if (*f[1].s != '\0' && fileio_exists(f[1].s))
		return ct_fail(ct, "refusing to overwrite existing QR file: %s",
		    f[1].s);
	if (fileio_read(f[2].s, CT_MAX_FILE, &buf, &len, err, sizeof(err)) != 0)
		return ct_fail(ct, "unable to read cert; %s", err);
	sbuf_init(&out);
	sbuf_init(&qr);
	/* Like nebula-cert, print each certificate as it is decoded. */
	do {
		if ((r = cert_from_pem(buf + off, len - off, &c, &used)) != 0) {
			st = ct_fail(ct, "error while unmarshaling cert: %s",
			    vpn_strerror(r));
			break;
		}
		off += used;
		r = f[0].b ? certfmt_json(&out, c) : certfmt_text(&out, c);
		sbuf_puts(&out, "\n");
		if (r != 0 || !sbuf_ok(&out)) {
			st = ct_fail(ct, "error while formatting cert: %s",
			    vpn_strerror(r != 0 ? r : VPN_ERR_NOMEM));
			break;
		}
		fwrite(out.s, 1, out.len, stdout);
		out.len = 0;
		if (*f[1].s != '\0') {
			if ((pem = cert_to_pem(c, &pl)) == NULL) {
				st = ct_fail(ct, "out of memory");
				break;
			}
			sbuf_add(&qr, pem, pl);
			free(pem);
		}
		cert_free(c);
		c = NULL;
	} while (!pem_rest_empty(buf + off, len - off));
	fflush(stdout);
	if (st == CT_OK && *f[1].s != '\0')
		st = sbuf_ok(&qr) ? ct_write_qr(ct, f[1].s, qr.s, qr.len) :
		                    ct_fail(ct, "out of memory");
	cert_free(c);
	sbuf_free(&out);
	sbuf_free(&qr);
	free(buf);
	return st;
}

enum ct_status
cmd_verify(struct ct *ct, int argc, char **argv)
{
	struct goflag f[] = {
	    {"ca", GOFLAG_STRING, "Required: file with one or more CA "
	        "certificates", "", false, 0, false},
	    {"crt", GOFLAG_STRING, "Required: file with the certificate to "
	        "check (its first one)", "", false, 0, false},
	};
	char err[512], name[256], detail[256], *buf = NULL;
	struct ca_pool *pool = NULL;
	struct cert *c = NULL;
	enum ct_status st;
	size_t len;
	int r;

	st = ct_parse(ct, f, 2, argc, argv);
	if (st != CT_OK)
		return st;
	if (*f[0].s == '\0')
		return ct_usage(ct, "-ca is required");
	if (*f[1].s == '\0')
		return ct_usage(ct, "-crt is required");
	if (fileio_read(f[0].s, CT_MAX_FILE, &buf, &len, err, sizeof(err)) != 0)
		return ct_fail(ct, "error while reading ca: %s", err);
	if ((pool = ca_pool_new()) == NULL) {
		st = ct_fail(ct, "out of memory");
		goto out;
	}
	r = ca_pool_load_pem(pool, buf, len, time(NULL), true, NULL, name,
	    sizeof(name));
	if (r != 0) {
		st = ct_fail(ct, "error while adding ca cert to pool: %s%s%s",
		    name, *name != '\0' ? ": " : "", vpn_strerror(r));
		goto out;
	}
	free(buf);
	buf = NULL;
	if (fileio_read(f[1].s, CT_MAX_FILE, &buf, &len, err, sizeof(err)) != 0) {
		st = ct_fail(ct, "unable to read crt; %s", err);
		goto out;
	}
	if ((r = cert_from_pem(buf, len, &c, NULL)) != 0) {
		st = ct_fail(ct, "error while parsing crt: %s",
		    vpn_strerror(r));
		goto out;
	}
	r = ca_pool_verify(pool, c, time(NULL), detail, sizeof(detail));
	if (r != 0)
		st = ct_fail(ct, "%s%s%s", vpn_strerror(r),
		    *detail != '\0' ? ": " : "", detail);
out:
	cert_free(c);
	ca_pool_free(pool);
	free(buf);
	return st;
}

enum ct_status
cmd_ledger(struct ct *ct, int argc, char **argv)
{
	enum { L_JSON, L_NAME, L_PATH, L_EXPIRING, L_CA, L_BLOCKLIST, L_N };
	struct goflag f[L_N] = {
	    [L_JSON] = {"json", GOFLAG_BOOL, "Optional: print each record as "
	        "one line of json", "", false, 0, false},
	    [L_NAME] = {"name", GOFLAG_STRING, "Optional: only the records of "
	        "certificates with this exact name", "", false, 0, false},
	    [L_PATH] = {"path", GOFLAG_STRING, "Required: the ledger file that "
	        "sign -ledger appends to", "", false, 0, false},
	    [L_EXPIRING] = {"expiring", GOFLAG_DURATION, "Optional: list the "
	        "current certificates (and -ca CAs) that expire within this "
	        "duration, soonest first; exit 3 when there are any", "",
	        false, 0, false},
	    [L_CA] = {"ca", GOFLAG_STRING, "Optional: with -expiring, also the "
	        "CA certificates of this bundle", "", false, 0, false},
	    [L_BLOCKLIST] = {"blocklist", GOFLAG_BOOL, "Optional: print the "
	        "pki.blocklist YAML of every revoked certificate that has not "
	        "expired", "", false, 0, false},
	};
	char err[512], *buf = NULL;
	struct ledger_db db;
	enum ct_status st;
	size_t len;
	int r;

	st = ct_parse(ct, f, L_N, argc, argv);
	if (st != CT_OK)
		return st;
	if (*f[L_PATH].s == '\0')
		return ct_usage(ct, "-path is required");
	if (f[L_EXPIRING].set && f[L_BLOCKLIST].b)
		return ct_usage(ct, "-expiring and -blocklist are two reports: "
		                    "one at a time");
	if (*f[L_CA].s != '\0' && !f[L_EXPIRING].set)
		return ct_usage(ct, "-ca goes with -expiring");
	if ((f[L_EXPIRING].set || f[L_BLOCKLIST].b) && *f[L_NAME].s != '\0')
		return ct_usage(ct, "-name only selects records to list");
	if (f[L_EXPIRING].set && f[L_EXPIRING].d < 0)
		return ct_usage(ct, "-expiring must not be negative");
	if (f[L_EXPIRING].set || f[L_BLOCKLIST].b) {
		if ((r = ledger_load_file(f[L_PATH].s, false, &db, err, sizeof(err))) !=
		    0)
			return r == LEDGER_ERR_FORMAT
			           ? ct_fail(ct, "%s", err)
			           : ct_fail(ct, "unable to read ledger; %s", err);
		st = f[L_BLOCKLIST].b
		         ? ledger_blocklist(ct, &db, f[L_JSON].b)
		         : ledger_expiring(ct, &db,
		               *f[L_CA].s != '\0' ? f[L_CA].s : NULL,
		               f[L_EXPIRING].d, f[L_JSON].b);
		ledger_db_free(&db);
		return st;
	}
	if (fileio_read(f[L_PATH].s, CT_MAX_LEDGER, &buf, &len, err,
	        sizeof(err)) != 0)
		return ct_fail(ct, "unable to read ledger; %s", err);
	st = ledger_list(ct, f[L_PATH].s, buf, len, f[L_JSON].b,
	    *f[L_NAME].s != '\0' ? f[L_NAME].s : NULL);
	free(buf);
	return st;
}
