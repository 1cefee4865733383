/* cert-tool/cmd_ca.c: create a self-signed certificate authority. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "ct.h"
#include "err.h"
#include "pem.h"

#define HOUR (3600LL * 1000000000LL)

enum { F_NAME, F_DURATION, F_GROUPS, F_IPS, F_SUBNETS, F_OUT_CRT, F_OUT_KEY,
	F_OUT_QR, F_ENCRYPT, F_COUNT };

enum ct_status
cmd_ca(struct ct *ct, int argc, char **argv)
{
	struct goflag f[F_COUNT] = {
	    [F_NAME] = {"name", GOFLAG_STRING, "Required: name of the "
	        "certificate authority", "", false, 0, false},
	    [F_DURATION] = {"duration", GOFLAG_DURATION, "Optional: how long "
	        "the CA is valid, in Go duration syntax (s, m, h units)", "",
	        false, 8760 * HOUR, false},
	    [F_GROUPS] = {"groups", GOFLAG_STRING, "Optional: comma separated "
	        "list of groups; certificates this CA signs may only use "
	        "these", "", false, 0, false},
	    [F_IPS] = {"ips", GOFLAG_STRING, "Optional: comma separated list "
	        "of ipv4 networks in CIDR notation; certificates this CA "
	        "signs must have their ip inside one of them", "", false, 0,
	        false},
	    [F_SUBNETS] = {"subnets", GOFLAG_STRING, "Optional: comma "
	        "separated list of ipv4 networks in CIDR notation; "
	        "certificates this CA signs must keep their subnets inside "
	        "them", "", false, 0, false},
	    [F_OUT_CRT] = {"out-crt", GOFLAG_STRING, "Optional: where to "
	        "write the CA certificate", "ca.crt", false, 0, false},
	    [F_OUT_KEY] = {"out-key", GOFLAG_STRING, "Optional: where to "
	        "write the CA private key", "ca.key", false, 0, false},
	    [F_OUT_QR] = {"out-qr", GOFLAG_STRING, "Optional: write a QR code "
	        "(PNG) of the certificate here", "", false, 0, false},
	    [F_ENCRYPT] = {"encrypt", GOFLAG_BOOL, "Optional: encrypt the "
	        "private key with a passphrase (asked on the terminal, or "
	        "taken from NEBULA_CA_PASSPHRASE)", "", false, 0, false},
	};
	uint8_t key[CRYPTO_ED25519_PRIV_LEN];
	char err[512], *crt_pem = NULL, *key_pem = NULL;
	size_t crt_len, key_len;
	struct cert *c = NULL;
	int64_t sec, nsec;
	enum ct_status st;
	bool key_written = false;

	crypto_cleanse(key, sizeof(key));
	st = ct_parse(ct, f, F_COUNT, argc, argv);
	if (st != CT_OK)
		return st;
	if (*f[F_NAME].s == '\0')
		return ct_usage(ct, "-name is required");
	if (*f[F_OUT_KEY].s == '\0')
		return ct_usage(ct, "-out-key is required");
	if (*f[F_OUT_CRT].s == '\0')
		return ct_usage(ct, "-out-crt is required");
	if (f[F_DURATION].d <= 0)
		return ct_usage(ct, "-duration must be greater than 0");
	if ((c = cert_new()) == NULL)
		return ct_fail(ct, "out of memory");
	if (cert_set_name(c, f[F_NAME].s, strlen(f[F_NAME].s)) != 0) {
		st = ct_fail(ct, "out of memory");
		goto out;
	}
	if ((st = ct_parse_groups(ct, f[F_GROUPS].s, c)) != CT_OK ||
	    (st = ct_parse_nets(ct, f[F_IPS].s, false, c)) != CT_OK ||
	    (st = ct_parse_nets(ct, f[F_SUBNETS].s, true, c)) != CT_OK)
		goto out;
	if (crypto_ed25519_keypair(key) != 0) {
		st = ct_fail(ct, "error while generating ed25519 keys");
		goto out;
	}
	ct_now(&sec, &nsec);
	c->not_before = sec;
	c->not_after = ct_add(sec, nsec, f[F_DURATION].d);
	c->is_ca = true;
	if (cert_set_pubkey(c, key + 32, 32) != 0) {
		st = ct_fail(ct, "out of memory");
		goto out;
	}
	if (fileio_exists(f[F_OUT_KEY].s)) {
		st = ct_fail(ct, "refusing to overwrite existing CA key: %s",
		    f[F_OUT_KEY].s);
		goto out;
	}
	if (fileio_exists(f[F_OUT_CRT].s)) {
		st = ct_fail(ct, "refusing to overwrite existing CA cert: %s",
		    f[F_OUT_CRT].s);
		goto out;
	}
	if (*f[F_OUT_QR].s != '\0' && fileio_exists(f[F_OUT_QR].s)) {
		st = ct_fail(ct, "refusing to overwrite existing QR file: %s",
		    f[F_OUT_QR].s);
		goto out;
	}
	if (cert_sign(c, key) != 0) {
		st = ct_fail(ct, "error while signing");
		goto out;
	}
	if (f[F_ENCRYPT].b) {
		if (ct_encrypt_ca_key(key, &key_pem, &key_len, err,
		        sizeof(err)) != 0) {
			st = ct_fail(ct, "error while encrypting out-key: %s",
			    err);
			goto out;
		}
	} else if ((key_pem = pem_encode(PEM_ED25519_PRIV, key, sizeof(key),
	                &key_len)) == NULL) {
		st = ct_fail(ct, "out of memory");
		goto out;
	}
	if ((crt_pem = cert_to_pem(c, &crt_len)) == NULL) {
		st = ct_fail(ct, "error while marshalling certificate");
		goto out;
	}
	if (fileio_write_new(f[F_OUT_KEY].s, key_pem, key_len, err, sizeof(err))) {
		st = ct_fail(ct, "error while writing out-key: %s", err);
		goto out;
	}
	key_written = true;
	if (fileio_write_new(f[F_OUT_CRT].s, crt_pem, crt_len, err, sizeof(err))) {
		st = ct_fail(ct, "error while writing out-crt: %s", err);
		goto out;
	}
	if ((st = ct_write_qr(ct, f[F_OUT_QR].s, crt_pem, crt_len)) != CT_OK)
		unlink(f[F_OUT_CRT].s);
out:
	if (st != CT_OK && key_written)
		unlink(f[F_OUT_KEY].s); /* nothing half-done */
	crypto_cleanse(key, sizeof(key));
	if (key_pem != NULL) {
		crypto_cleanse(key_pem, key_len);
		free(key_pem);
	}
	free(crt_pem);
	cert_free(c);
	return st;
}
