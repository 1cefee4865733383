/*
 * test/fuzz/fuzz_cert.c: certificate decoding.  Whatever decodes must
 * re-encode to a fixed point (marshal, unmarshal, marshal gives the same
 * bytes), fingerprint, and survive the other entry points; its printed
 * forms (certfmt: print-cert, cert-tool print) are made, the JSON one
 * valid JSON, unless a time is beyond what can be shown.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "certfmt.h"
#include "crypto.h"
#include "err.h"
#include "ipaddr.h"
#include "sbuf.h"

#include "jsoncheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
exercise(const struct cert *c)
{
	char buf[IP4NET_STRLEN], detail[128], hex[CERT_FP_HEXLEN];
	struct sbuf b;
	size_t i;
	int r;

	for (i = 0; i < c->nips; i++)
		ip4net_format(&c->ips[i], buf);
	for (i = 0; i < c->nsubnets; i++)
		ip4net_format(&c->subnets[i], buf);
	if (c->name.s != NULL && strlen(c->name.s) > c->name.len)
		abort();
	(void)cert_expired(c, 1893456000);
	(void)cert_check_constraints(c, c, detail, sizeof(detail));
	(void)cert_check_signature(c, c->pubkey, c->pubkey_len);
	if (cert_fingerprint_hex(c, hex) != 0 || strlen(hex) != 64)
		abort();
	/* a time that cannot be shown (gotime.h) is refused, not printed */
	sbuf_init(&b);
	r = certfmt_text(&b, c);
	if ((r != 0 && r != VPN_ERR_RANGE) || !sbuf_ok(&b))
		abort();
	b.len = 0;
	r = certfmt_json(&b, c);
	if ((r != 0 && r != VPN_ERR_RANGE) || !sbuf_ok(&b) ||
	    (r == 0 && !is_json(b.s != NULL ? b.s : "", b.len)))
		abort();
	sbuf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cert *c = NULL, *c2 = NULL, *nk = NULL;
	uint8_t *m1 = NULL, *m2 = NULL, *m3 = NULL, fp[CERT_FP_LEN],
		fp2[CERT_FP_LEN], sum[32];
	size_t l1, l2, l3, used;
	char *pem;

	if (cert_unmarshal(data, size, &c) == 0) {
		if (cert_marshal(c, 0, &m1, &l1) != 0)
			abort();
		if (l1 > size || cert_unmarshal(m1, l1, &c2) != 0)
			abort();
		if (cert_marshal(c2, 0, &m2, &l2) != 0)
			abort();
		if (l1 != l2 || memcmp(m1, m2, l1) != 0)
			abort();
		if (cert_fingerprint(c, fp) != 0 ||
		    cert_fingerprint(c2, fp2) != 0 ||
		    memcmp(fp, fp2, sizeof(fp)) != 0)
			abort();
		crypto_sha256(m1, l1, sum);
		if (memcmp(sum, fp, sizeof(fp)) != 0)
			abort();
		/* the handshake form decodes without a key */
		if (cert_marshal(c, CERT_NO_PUBKEY, &m3, &l3) != 0 ||
		    cert_unmarshal_nokey(m3, l3, &nk) != 0 ||
		    nk->pubkey_len != 0)
			abort();
		exercise(c);
		if ((pem = cert_to_pem(c, NULL)) == NULL)
			abort();
		free(pem);
	}
	cert_free(nk);
	nk = NULL;
	if (cert_unmarshal_nokey(data, size, &nk) == 0 && c != NULL &&
	    nk->pubkey_len != c->pubkey_len)
		abort();
	cert_free(nk);
	free(m3);
	free(m2);
	free(m1);
	cert_free(c2);
	cert_free(c);

	c = NULL;
	used = 0;
	if (cert_from_pem((const char *)data, size, &c, &used) == 0) {
		if (used == 0 || used > size)
			abort();
		exercise(c);
	}
	cert_free(c);
	return 0;
}
