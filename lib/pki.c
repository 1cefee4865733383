/* lib/pki.c: CA pool and blocklist. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pem.h"
#include "pki.h"

struct ca_entry {
	struct cert *cert;
	uint8_t fp[CERT_FP_LEN];
};

struct ca_pool {
	struct ca_entry *cas;
	size_t ncas;
	uint8_t (*blocked)[CERT_FP_LEN]; /* sorted */
	size_t nblocked;
};

struct ca_pool *
ca_pool_new(void)
{
	return calloc(1, sizeof(struct ca_pool));
}

void
ca_pool_free(struct ca_pool *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->ncas; i++)
		cert_free(p->cas[i].cert);
	free(p->cas);
	free(p->blocked);
	free(p);
}

static void
copy_name(char *dst, size_t dlen, const struct cert *c)
{
	size_t n;

	if (dst == NULL || dlen == 0)
		return;
	n = c->name.len < dlen - 1 ? c->name.len : dlen - 1;
	memcpy(dst, c->name.s != NULL ? c->name.s : "", n);
	dst[n] = '\0';
}

int
ca_pool_add_pem(struct ca_pool *p, const char *in, size_t len, int64_t now,
    size_t *consumed, char *name, size_t namelen)
{
	struct cert *c = NULL;
	struct ca_entry *e;
	uint8_t fp[CERT_FP_LEN];
	size_t i;
	int r;

	if (name != NULL && namelen > 0)
		name[0] = '\0';
	if ((r = cert_from_pem(in, len, &c, consumed)) != 0)
		return r;
	copy_name(name, namelen, c);
	r = VPN_ERR_CERT_NOT_CA;
	if (!c->is_ca)
		goto out;
	r = VPN_ERR_CERT_NOT_SELF_SIGNED;
	if (!cert_check_signature(c, c->pubkey, c->pubkey_len))
		goto out;
	if ((r = cert_fingerprint(c, fp)) != 0)
		goto out;
	for (i = 0; i < p->ncas; i++)
		if (memcmp(p->cas[i].fp, fp, CERT_FP_LEN) == 0)
			break;
	if (i == p->ncas) {
		e = realloc(p->cas, (p->ncas + 1) * sizeof(*e));
		r = VPN_ERR_NOMEM;
		if (e == NULL)
			goto out;
		p->cas = e;
		p->ncas++;
	} else {
		cert_free(p->cas[i].cert); /* a duplicate overwrites */
	}
	p->cas[i].cert = c;
	memcpy(p->cas[i].fp, fp, CERT_FP_LEN);
	r = cert_expired(c, now) ? VPN_ERR_CERT_EXPIRED : 0;
	c = NULL;
out:
	cert_free(c);
	return r;
}

int
ca_pool_load_pem(struct ca_pool *p, const char *in, size_t len, int64_t now,
    bool strict, size_t *nexpired, char *name, size_t namelen)
{
	size_t off = 0, used, expired = 0;
	size_t i;
	int r;

	do {
		r = ca_pool_add_pem(p, in + off, len - off, now, &used, name,
		    namelen);
		if (r == VPN_ERR_CERT_EXPIRED && !strict)
			r = 0;
		if (r != 0)
			return r;
		off += used;
	} while (!pem_rest_empty(in + off, len - off));
	/* Count what the pool holds: a duplicate block is stored once. */
	for (i = 0; i < p->ncas; i++)
		expired += cert_expired(p->cas[i].cert, now);
	if (nexpired != NULL)
		*nexpired = expired;
	if (name != NULL && namelen > 0)
		name[0] = '\0';
	if (p->ncas == 0)
		return VPN_ERR_POOL_EMPTY;
	if (!strict && expired == p->ncas)
		return VPN_ERR_POOL_ALL_EXPIRED;
	return 0;
}

size_t
ca_pool_count(const struct ca_pool *p)
{
	return p->ncas;
}

const struct cert *
ca_pool_get(const struct ca_pool *p, size_t i, uint8_t fp[CERT_FP_LEN])
{
	if (i >= p->ncas)
		return NULL;
	if (fp != NULL)
		memcpy(fp, p->cas[i].fp, CERT_FP_LEN);
	return p->cas[i].cert;
}

const struct cert *
ca_pool_issuer(const struct ca_pool *p, const struct cert *c, int *err)
{
	size_t i;

	if (c->issuer_len == 0) {
		*err = VPN_ERR_CERT_NO_ISSUER;
		return NULL;
	}
	if (c->issuer_len == CERT_FP_LEN)
		for (i = 0; i < p->ncas; i++)
			if (memcmp(p->cas[i].fp, c->issuer, CERT_FP_LEN) == 0)
				return p->cas[i].cert;
	*err = VPN_ERR_CERT_UNKNOWN_CA;
	return NULL;
}

static int
fpcmp(const void *a, const void *b)
{
	return memcmp(a, b, CERT_FP_LEN);
}

bool
ca_pool_same(const struct ca_pool *a, const struct ca_pool *b)
{
	size_t i, j;

	if (a->ncas != b->ncas || a->nblocked != b->nblocked ||
	    (a->nblocked > 0 &&
	        memcmp(a->blocked, b->blocked, a->nblocked * CERT_FP_LEN) != 0))
		return false;
	for (i = 0; i < a->ncas; i++) {
		for (j = 0; j < b->ncas; j++)
			if (memcmp(a->cas[i].fp, b->cas[j].fp, CERT_FP_LEN) == 0)
				break;
		if (j == b->ncas)
			return false;
	}
	return true;
}

int
ca_pool_block(struct ca_pool *p, const char *hex)
{
	uint8_t fp[CERT_FP_LEN], (*n)[CERT_FP_LEN];
	size_t i, lo = 0, hi;
	int c;

	for (i = 0; hex[i] != '\0'; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') ||
		        (hex[i] >= 'a' && hex[i] <= 'f')))
			return VPN_ERR_INVAL;
	if (!hex_decode(hex, i, fp, CERT_FP_LEN))
		return VPN_ERR_INVAL;
	hi = p->nblocked;
	while (lo < hi) {
		i = lo + (hi - lo) / 2;
		if ((c = fpcmp(p->blocked[i], fp)) == 0)
			return 0;
		if (c < 0)
			lo = i + 1;
		else
			hi = i;
	}
	if ((n = realloc(p->blocked, (p->nblocked + 1) * CERT_FP_LEN)) == NULL)
		return VPN_ERR_NOMEM;
	p->blocked = n;
	memmove(p->blocked[lo + 1], p->blocked[lo],
	    (p->nblocked - lo) * CERT_FP_LEN);
	memcpy(p->blocked[lo], fp, CERT_FP_LEN);
	p->nblocked++;
	return 0;
}

bool
ca_pool_blocked(const struct ca_pool *p, const uint8_t fp[CERT_FP_LEN])
{
	return p->nblocked > 0 &&
	    bsearch(fp, p->blocked, p->nblocked, CERT_FP_LEN, fpcmp) != NULL;
}

int
ca_pool_verify_fp(const struct ca_pool *p, const struct cert *c,
    const uint8_t fp[CERT_FP_LEN], bool sig_known_good, int64_t now,
    char *detail, size_t detaillen)
{
	const struct cert *ca;
	int r;

	if (detail != NULL && detaillen > 0)
		detail[0] = '\0';
	if (ca_pool_blocked(p, fp))
		return VPN_ERR_CERT_BLOCKED;
	if ((ca = ca_pool_issuer(p, c, &r)) == NULL)
		return r;
	if (cert_expired(ca, now))
		return VPN_ERR_CERT_ROOT_EXPIRED;
	if (cert_expired(c, now))
		return VPN_ERR_CERT_EXPIRED;
	if (!sig_known_good &&
	    !cert_check_signature(c, ca->pubkey, ca->pubkey_len))
		return VPN_ERR_CERT_SIGNATURE;
	return cert_check_constraints(c, ca, detail, detaillen);
}

int
ca_pool_verify(const struct ca_pool *p, const struct cert *c, int64_t now,
    char *detail, size_t detaillen)
{
	uint8_t fp[CERT_FP_LEN];

	if (cert_fingerprint(c, fp) != 0) {
		if (detail != NULL && detaillen > 0)
			detail[0] = '\0';
		return VPN_ERR_CERT_BLOCKED;
	}
	return ca_pool_verify_fp(p, c, fp, false, now, detail, detaillen);
}

/* --- fingerprint cache ------------------------------------------------- */

static const uint8_t zero_fp[CERT_FP_LEN];

void
fp_cache_init(struct fp_cache *fc, size_t nslots)
{
	size_t n = 2;

	memset(fc, 0, sizeof(*fc));
	while (n <= nslots / 2)
		n *= 2;
	fc->nslots = n;
}

/* The first of fp's two slots: a fingerprint is a SHA-256, uniform. */
static size_t
fp_set(const struct fp_cache *fc, const uint8_t fp[CERT_FP_LEN])
{
	uint64_t h;

	memcpy(&h, fp, sizeof(h));
	return (size_t)h & (fc->nslots - 1) & ~(size_t)1;
}

bool
fp_cache_has(struct fp_cache *fc, const uint8_t fp[CERT_FP_LEN])
{
	size_t i;

	if (fc->slot != NULL && memcmp(fp, zero_fp, CERT_FP_LEN) != 0) {
		i = fp_set(fc, fp);
		if (memcmp(fc->slot[i], fp, CERT_FP_LEN) == 0 ||
		    memcmp(fc->slot[i + 1], fp, CERT_FP_LEN) == 0) {
			fc->hits++;
			return true;
		}
	}
	fc->misses++;
	return false;
}

void
fp_cache_add(struct fp_cache *fc, const uint8_t fp[CERT_FP_LEN])
{
	size_t i;

	if (fc->slot == NULL &&
	    (fc->slot = calloc(fc->nslots, CERT_FP_LEN)) == NULL)
		return;
	i = fp_set(fc, fp);
	if (memcmp(fc->slot[i], fp, CERT_FP_LEN) == 0 ||
	    memcmp(fc->slot[i + 1], fp, CERT_FP_LEN) == 0)
		return;
	/* an empty slot, else the older of the two moves out */
	if (memcmp(fc->slot[i], zero_fp, CERT_FP_LEN) != 0)
		memcpy(fc->slot[i + 1], fc->slot[i], CERT_FP_LEN);
	memcpy(fc->slot[i], fp, CERT_FP_LEN);
}

void
fp_cache_clear(struct fp_cache *fc)
{
	if (fc->slot != NULL)
		memset(fc->slot, 0, fc->nslots * CERT_FP_LEN);
}

void
fp_cache_free(struct fp_cache *fc)
{
	free(fc->slot);
	fc->slot = NULL;
}
