/*
 * test/fuzz/fuzz_pki.c: a CA bundle (pki.ca, cert-tool verify -ca, the
 * ledger's -ca bundle): ca_pool_load_pem, strict and not, then what is
 * done with the pool.
 *
 * Oracles: loading is deterministic (a second pool is ca_pool_same); a
 * pool that loads holds CAs only, each once, under its own fingerprint,
 * fewer expired than in all, and each prints (certfmt) in both forms; a
 * strict load that succeeds is a lenient one with nothing expired;
 * host-a and other-host of the fixtures verify exactly when their CA is
 * in the pool (ca.crt, ca2.crt), and not once they are blocklisted; the
 * blocklist takes exactly 64 lowercase hex digits (the input's first
 * line is tried too).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "certfmt.h"
#include "err.h"
#include "pki.h"
#include "sbuf.h"

#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1893456000 /* 2030-01-01, in the fixtures' validity */

struct host {
	struct cert *c;
	uint8_t fp[CERT_FP_LEN];
	char hex[CERT_FP_HEXLEN];
};

static struct host hosts[2];

static void
setup(void)
{
	static const char *files[2] = {
	    "nebula-1.6.1/host-a.crt", "nebula-1.6.1/other-host.crt"};
	char *pem;
	size_t len, i;

	for (i = 0; i < 2; i++) {
		pem = fx_read(files[i], &len);
		if (cert_from_pem(pem, len, &hosts[i].c, NULL) != 0 ||
		    cert_fingerprint(hosts[i].c, hosts[i].fp) != 0 ||
		    cert_fingerprint_hex(hosts[i].c, hosts[i].hex) != 0)
			abort();
		free(pem);
	}
}

static bool
has_issuer(const struct ca_pool *p, const struct cert *c)
{
	uint8_t fp[CERT_FP_LEN];
	size_t i;

	for (i = 0; i < ca_pool_count(p); i++)
		if (ca_pool_get(p, i, fp) != NULL &&
		    c->issuer_len == CERT_FP_LEN &&
		    memcmp(fp, c->issuer, CERT_FP_LEN) == 0)
			return true;
	return false;
}

static void
check_pool(const struct ca_pool *p, size_t nexpired)
{
	uint8_t fp[CERT_FP_LEN], fp2[CERT_FP_LEN];
	const struct cert *c;
	struct sbuf b;
	size_t i, j, n = ca_pool_count(p);
	int r, r2;

	if (n == 0 || nexpired >= n || ca_pool_get(p, n, fp) != NULL)
		abort();
	for (i = 0; i < n; i++) {
		if ((c = ca_pool_get(p, i, fp)) == NULL || !c->is_ca ||
		    cert_fingerprint(c, fp2) != 0 ||
		    memcmp(fp, fp2, CERT_FP_LEN) != 0)
			abort();
		for (j = 0; j < i; j++)
			if (ca_pool_get(p, j, fp2) == NULL ||
			    memcmp(fp, fp2, CERT_FP_LEN) == 0)
				abort(); /* stored twice */
		/* both print, unless a time cannot be shown (gotime.h) */
		sbuf_init(&b);
		r = certfmt_text(&b, c);
		r2 = certfmt_json(&b, c);
		if ((r != 0 && r != VPN_ERR_RANGE) ||
		    (r2 != 0 && r2 != VPN_ERR_RANGE) || !sbuf_ok(&b))
			abort();
		sbuf_free(&b);
	}
}

static void
check_block(struct ca_pool *p, const uint8_t *data, size_t size)
{
	char line[80];
	size_t i, n;
	bool hex;
	int r;

	/* the input's first line as a blocklist entry */
	for (n = 0; n < size && n < sizeof(line) - 1 && data[n] != '\n' &&
	            data[n] != '\0';
	     n++)
		line[n] = (char)data[n];
	line[n] = '\0';
	hex = n == 64;
	for (i = 0; i < n; i++)
		if (!((line[i] >= '0' && line[i] <= '9') ||
		        (line[i] >= 'a' && line[i] <= 'f')))
			hex = false;
	r = ca_pool_block(p, line);
	if ((r == 0) != hex || (r != 0 && r != VPN_ERR_INVAL))
		abort();
	/* the hosts' own fingerprints: blocked, they no longer verify */
	for (i = 0; i < 2; i++) {
		if (ca_pool_block(p, hosts[i].hex) != 0 ||
		    !ca_pool_blocked(p, hosts[i].fp) ||
		    ca_pool_verify(p, hosts[i].c, NOW, NULL, 0) !=
		        VPN_ERR_CERT_BLOCKED)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct ca_pool *strict, *lenient, *again;
	const char *in = (const char *)data;
	char name[64], detail[128];
	size_t nexp = 0, nexp2 = 0, i;
	int rs, rl, r;

	if (!ready) {
		setup();
		ready = true;
	}
	if ((strict = ca_pool_new()) == NULL ||
	    (lenient = ca_pool_new()) == NULL ||
	    (again = ca_pool_new()) == NULL)
		abort();
	rs = ca_pool_load_pem(
	    strict, in, size, NOW, true, NULL, name, sizeof(name));
	rl = ca_pool_load_pem(
	    lenient, in, size, NOW, false, &nexp, name, sizeof(name));
	r = ca_pool_load_pem(again, in, size, NOW, false, &nexp2, NULL, 0);
	if (r != rl ||
	    (rl == 0 && (nexp2 != nexp || !ca_pool_same(lenient, again))))
		abort();
	if (rs == 0 && (rl != 0 || nexp != 0 || !ca_pool_same(strict, lenient)))
		abort();
	if (strlen(name) >= sizeof(name))
		abort();
	if (rl == 0) {
		check_pool(lenient, nexp);
		for (i = 0; i < 2; i++) {
			r = ca_pool_verify(
			    lenient, hosts[i].c, NOW, detail, sizeof(detail));
			if ((r == 0) != has_issuer(lenient, hosts[i].c) ||
			    (r != 0 && r != VPN_ERR_CERT_UNKNOWN_CA) ||
			    strlen(detail) >= sizeof(detail))
				abort();
		}
		check_block(lenient, data, size);
	}
	ca_pool_free(strict);
	ca_pool_free(lenient);
	ca_pool_free(again);
	return 0;
}
