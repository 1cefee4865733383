/*
 * test/fuzz/fuzz_keyfile.c: the CA private key file (cert-tool/keyfile.c),
 * plain or encrypted with a passphrase.  The fuzz build caps scrypt's N
 * (CAIRN_FUZZING), so every input is cheap.
 *
 * The input is read three ways:
 *   - as the key file's text (ct_read_ca_key, the passphrase from the
 *     environment as cert-tool takes it): a failure says why;
 *   - as the bytes inside the encrypted PEM block (keyfile_open): with the
 *     fixed passphrase, opening twice gives the same key;
 *   - its first 64 bytes as a key, the next ones as the cost and a byte
 *     to alter: sealed, the key opens back, through PEM as well; any one
 *     byte changed, or another passphrase, and it does not open; a cost
 *     that keyfile_open would refuse, keyfile_seal refuses.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "ct.h"
#include "err.h"
#include "pem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PASS "fuzz passphrase"

static void
roundtrip(const uint8_t *data, size_t size)
{
	uint8_t key[64], back[64], *blob = NULL;
	char err[256], *pem;
	size_t blen, plen, at;
	unsigned log2n;
	int r;

	memcpy(key, data, 64);
	log2n = 9 + data[64] % 15; /* 10..22 are valid, at most 19 at r 8 */
	r = keyfile_seal(key, PASS, strlen(PASS), log2n, &blob, &blen);
	if (r != 0) {
		/* only a cost that keyfile_open would refuse */
		if (r != VPN_ERR_RANGE || blob != NULL ||
		    (log2n >= 10 && log2n <= 19))
			abort();
		return;
	}
	if (log2n < 10 || log2n > 19 ||
	    keyfile_open(blob, blen, PASS, strlen(PASS), back) != 0 ||
	    memcmp(key, back, 64) != 0)
		abort();
	if ((pem = pem_encode(CT_ENC_BANNER, blob, blen, &plen)) == NULL ||
	    ct_read_ca_key(pem, plen, back, err, sizeof(err)) != 0 ||
	    memcmp(key, back, 64) != 0)
		abort();
	free(pem);
	/* another passphrase: refused */
	if (keyfile_open(blob, blen, PASS "!", strlen(PASS) + 1, back) == 0)
		abort();
	/* one byte changed, header (associated data) or sealed part */
	if (size > 66) {
		at = data[65] % blen;
		blob[at] ^= data[66] != 0 ? data[66] : 1;
		if (keyfile_open(blob, blen, PASS, strlen(PASS), back) == 0)
			abort();
	}
	crypto_cleanse(key, sizeof(key));
	free(blob);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	uint8_t key[64], again[64];
	char err[256];
	int r;

	if (!ready) {
		if (setenv("NEBULA_CA_PASSPHRASE", PASS, 1) != 0)
			abort();
		ready = true;
	}
	err[0] = '\0';
	r = ct_read_ca_key((const char *)data, size, key, err, sizeof(err));
	if (r != 0 && (r >= 0 || err[0] == '\0'))
		abort();

	r = keyfile_open(data, size, PASS, strlen(PASS), key);
	if (r == 0 &&
	    (keyfile_open(data, size, PASS, strlen(PASS), again) != 0 ||
	        memcmp(key, again, sizeof(key)) != 0))
		abort();
	if (r != 0 && r != VPN_ERR_KEY_FORMAT && r != VPN_ERR_KEY_PASSPHRASE)
		abort();

	if (size > 64)
		roundtrip(data, size);
	return 0;
}
