/* lib/cert.c: Nebula v1 certificate codec, signature and checks. */
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "crypto.h"
#include "err.h"
#include "pb.h"
#include "pem.h"
#include "wire.h"

enum {
	F_CERT_DETAILS = 1,
	F_CERT_SIGNATURE = 2,
	F_NAME = 1,
	F_IPS = 2,
	F_SUBNETS = 3,
	F_GROUPS = 4,
	F_NOT_BEFORE = 5,
	F_NOT_AFTER = 6,
	F_PUBLIC_KEY = 7,
	F_IS_CA = 8,
	F_ISSUER = 9,
};

struct cert *
cert_new(void)
{
	return calloc(1, sizeof(struct cert));
}

void
cert_free(struct cert *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->name.s);
	free(c->ips);
	free(c->subnets);
	for (i = 0; i < c->ngroups; i++)
		free(c->groups[i].s);
	free(c->groups);
	free(c->pubkey);
	free(c->issuer);
	free(c->sig);
	free(c);
}

static int
str_set(struct cert_str *d, const char *s, size_t len)
{
	char *n = malloc(len + 1);

	if (n == NULL)
		return VPN_ERR_NOMEM;
	if (len > 0)
		memcpy(n, s, len);
	n[len] = '\0';
	free(d->s);
	d->s = n;
	d->len = len;
	return 0;
}

static int
bytes_set(uint8_t **d, size_t *dlen, const uint8_t *s, size_t len)
{
	uint8_t *n = malloc(len > 0 ? len : 1);

	if (n == NULL)
		return VPN_ERR_NOMEM;
	if (len > 0)
		memcpy(n, s, len);
	free(*d);
	*d = n;
	*dlen = len;
	return 0;
}

/* Grow an array by one element; returns the new slot or NULL. */
static void *
grow(void *arr, size_t *n, size_t elem, void **out)
{
	void *a;

	if (*n >= SIZE_MAX / elem - 1)
		return NULL;
	if ((a = realloc(arr, (*n + 1) * elem)) == NULL)
		return NULL;
	*out = a;
	memset((uint8_t *)a + *n * elem, 0, elem);
	return (uint8_t *)a + (*n)++ * elem;
}

int
cert_set_name(struct cert *c, const char *s, size_t len)
{
	return str_set(&c->name, s, len);
}

int
cert_add_group(struct cert *c, const char *s, size_t len)
{
	struct cert_str *g, tmp = {NULL, 0};
	void *arr;

	if (str_set(&tmp, s, len) != 0)
		return VPN_ERR_NOMEM;
	if ((g = grow(c->groups, &c->ngroups, sizeof(*g), &arr)) == NULL) {
		free(tmp.s);
		return VPN_ERR_NOMEM;
	}
	c->groups = arr;
	*g = tmp;
	return 0;
}

static int
net_add(struct ip4net **arr, size_t *n, const struct ip4net *v)
{
	struct ip4net *slot;
	void *a;

	if ((slot = grow(*arr, n, sizeof(*slot), &a)) == NULL)
		return VPN_ERR_NOMEM;
	*arr = a;
	*slot = *v;
	return 0;
}

int
cert_add_ip(struct cert *c, const struct ip4net *n)
{
	return net_add(&c->ips, &c->nips, n);
}

int
cert_add_subnet(struct cert *c, const struct ip4net *n)
{
	return net_add(&c->subnets, &c->nsubnets, n);
}

int
cert_set_pubkey(struct cert *c, const uint8_t *k, size_t len)
{
	return bytes_set(&c->pubkey, &c->pubkey_len, k, len);
}

int
cert_set_issuer(struct cert *c, const uint8_t *k, size_t len)
{
	return bytes_set(&c->issuer, &c->issuer_len, k, len);
}

/*
 * A packed or unpacked repeated uint32 field.  Go keeps uint32(v) of each
 * varint; pairs are assembled once the whole message is read.
 */
static int
u32_append(uint32_t **arr, size_t *n, uint64_t v)
{
	uint32_t *slot;
	void *a;

	if ((slot = grow(*arr, n, sizeof(*slot), &a)) == NULL)
		return VPN_ERR_NOMEM;
	*arr = a;
	*slot = (uint32_t)v;
	return 0;
}

static int
u32_field(const struct pb_field *f, uint32_t **arr, size_t *n)
{
	struct rd r;
	uint64_t v;
	int e;

	if (f->wt == PB_VARINT)
		return u32_append(arr, n, f->v);
	rd_init(&r, f->p, f->len);
	while (rd_left(&r) > 0) {
		v = rd_varint(&r);
		if (r.bad)
			return VPN_ERR_PB_VARINT;
		if ((e = u32_append(arr, n, v)) != 0)
			return e;
	}
	return 0;
}

struct raw_details {
	uint32_t *ips, *subnets;
	size_t nips, nsubnets;
};

static int
decode_details(struct cert *c, struct raw_details *raw, const uint8_t *p,
    size_t len)
{
	struct pb_field f;
	struct rd r;
	int e;

	rd_init(&r, p, len);
	while ((e = pb_next(&r, &f)) == 1) {
		switch (f.num) {
		case F_NAME:
		case F_GROUPS:
			if (f.wt != PB_LEN)
				break;
			if (!pb_utf8_valid(f.p, f.len))
				return VPN_ERR_PB_UTF8;
			e = f.num == F_NAME ?
			    str_set(&c->name, (const char *)f.p, f.len) :
			    cert_add_group(c, (const char *)f.p, f.len);
			if (e != 0)
				return e;
			break;
		case F_IPS:
		case F_SUBNETS:
			if (f.wt != PB_LEN && f.wt != PB_VARINT)
				break;
			e = f.num == F_IPS ?
			    u32_field(&f, &raw->ips, &raw->nips) :
			    u32_field(&f, &raw->subnets, &raw->nsubnets);
			if (e != 0)
				return e;
			break;
		case F_NOT_BEFORE:
		case F_NOT_AFTER:
		case F_IS_CA:
			if (f.wt != PB_VARINT)
				break;
			if (f.num == F_NOT_BEFORE)
				c->not_before = (int64_t)f.v;
			else if (f.num == F_NOT_AFTER)
				c->not_after = (int64_t)f.v;
			else
				c->is_ca = f.v != 0;
			break;
		case F_PUBLIC_KEY:
		case F_ISSUER:
			if (f.wt != PB_LEN)
				break;
			e = f.num == F_PUBLIC_KEY ?
			    bytes_set(&c->pubkey, &c->pubkey_len, f.p, f.len) :
			    bytes_set(&c->issuer, &c->issuer_len, f.p, f.len);
			if (e != 0)
				return e;
			break;
		default:
			break; /* unknown: skipped (the signature will fail) */
		}
	}
	return e;
}

static int
pairs(const uint32_t *raw, size_t n, struct ip4net **out, size_t *nout)
{
	size_t i;

	if (n == 0)
		return 0;
	if ((*out = calloc(n / 2, sizeof(**out))) == NULL)
		return VPN_ERR_NOMEM;
	for (i = 0; i + 1 < n; i += 2) {
		(*out)[i / 2].addr = raw[i];
		(*out)[i / 2].mask = raw[i + 1];
	}
	*nout = n / 2;
	return 0;
}

static int
unmarshal(const uint8_t *buf, size_t len, bool need_key, struct cert **out)
{
	struct raw_details raw = {NULL, NULL, 0, 0};
	struct cert *c = NULL;
	struct pb_field f;
	struct rd r;
	bool details = false;
	int e;

	*out = NULL;
	if (len == 0)
		return VPN_ERR_CERT_EMPTY;
	if (len > CERT_MAX_LEN)
		return VPN_ERR_CERT_TOO_LARGE;
	if ((c = cert_new()) == NULL)
		return VPN_ERR_NOMEM;
	rd_init(&r, buf, len);
	while ((e = pb_next(&r, &f)) == 1) {
		if (f.wt != PB_LEN)
			continue;
		if (f.num == F_CERT_DETAILS) {
			/* A repeated message field merges, as in Go. */
			details = true;
			if ((e = decode_details(c, &raw, f.p, f.len)) != 0)
				goto out;
		} else if (f.num == F_CERT_SIGNATURE) {
			if ((e = bytes_set(&c->sig, &c->sig_len, f.p,
			         f.len)) != 0)
				goto out;
		}
	}
	if (e != 0)
		goto out;
	e = VPN_ERR_CERT_NO_DETAILS;
	if (!details)
		goto out;
	e = VPN_ERR_CERT_ODD_IPS;
	if (raw.nips % 2 != 0)
		goto out;
	e = VPN_ERR_CERT_ODD_SUBNETS;
	if (raw.nsubnets % 2 != 0)
		goto out;
	e = VPN_ERR_CERT_SHORT_KEY;
	if (need_key && c->pubkey_len < 32)
		goto out;
	if ((e = pairs(raw.ips, raw.nips, &c->ips, &c->nips)) != 0 ||
	    (e = pairs(raw.subnets, raw.nsubnets, &c->subnets,
	         &c->nsubnets)) != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	free(raw.ips);
	free(raw.subnets);
	cert_free(c);
	return e;
}

int
cert_unmarshal(const uint8_t *buf, size_t len, struct cert **out)
{
	return unmarshal(buf, len, true, out);
}

int
cert_unmarshal_nokey(const uint8_t *buf, size_t len, struct cert **out)
{
	return unmarshal(buf, len, false, out);
}

static size_t
packed_len(const struct ip4net *n, size_t count)
{
	size_t i, l = 0;

	for (i = 0; i < count; i++)
		l += varint_len(n[i].addr) + varint_len(n[i].mask);
	return l;
}

static void
put_packed(struct wr *w, uint32_t num, const struct ip4net *n, size_t count)
{
	size_t i;

	if (count == 0)
		return;
	pb_put_tag(w, num, PB_LEN);
	wr_varint(w, packed_len(n, count));
	for (i = 0; i < count; i++) {
		wr_varint(w, n[i].addr);
		wr_varint(w, n[i].mask);
	}
}

static void
put_details(struct wr *w, const struct cert *c, unsigned flags)
{
	size_t i;

	if (c->name.len > 0)
		pb_put_bytes(w, F_NAME, c->name.s, c->name.len);
	put_packed(w, F_IPS, c->ips, c->nips);
	put_packed(w, F_SUBNETS, c->subnets, c->nsubnets);
	for (i = 0; i < c->ngroups; i++)
		pb_put_bytes(w, F_GROUPS, c->groups[i].s, c->groups[i].len);
	if (c->not_before != 0)
		pb_put_varint(w, F_NOT_BEFORE, (uint64_t)c->not_before);
	if (c->not_after != 0)
		pb_put_varint(w, F_NOT_AFTER, (uint64_t)c->not_after);
	if (c->pubkey_len > 0 && !(flags & CERT_NO_PUBKEY))
		pb_put_bytes(w, F_PUBLIC_KEY, c->pubkey, c->pubkey_len);
	if (c->is_ca)
		pb_put_varint(w, F_IS_CA, 1);
	if (c->issuer_len > 0)
		pb_put_bytes(w, F_ISSUER, c->issuer, c->issuer_len);
}

static void
put_cert(struct wr *w, const struct cert *c, unsigned flags, size_t dlen)
{
	pb_put_tag(w, F_CERT_DETAILS, PB_LEN);
	wr_varint(w, dlen);
	put_details(w, c, flags);
	if (c->sig_len > 0)
		pb_put_bytes(w, F_CERT_SIGNATURE, c->sig, c->sig_len);
}

/* Encode in two passes: count, then write into an exact buffer. */
static int
marshal(const struct cert *c, unsigned flags, bool whole, uint8_t **out,
    size_t *len)
{
	struct wr w;
	size_t dlen, total;
	uint8_t *b;

	wr_init(&w, NULL, 0);
	put_details(&w, c, flags);
	dlen = w.off;
	if (whole) {
		wr_init(&w, NULL, 0);
		put_cert(&w, c, flags, dlen);
	}
	total = w.off;
	if (w.bad || (b = malloc(total > 0 ? total : 1)) == NULL)
		return VPN_ERR_NOMEM;
	wr_init(&w, b, total);
	if (whole)
		put_cert(&w, c, flags, dlen);
	else
		put_details(&w, c, flags);
	if (w.bad || w.off != total) {
		free(b);
		return VPN_ERR_INVAL; /* cannot happen */
	}
	*out = b;
	*len = total;
	return 0;
}

int
cert_marshal(const struct cert *c, unsigned flags, uint8_t **out, size_t *len)
{
	return marshal(c, flags, true, out, len);
}

int
cert_marshal_details(const struct cert *c, uint8_t **out, size_t *len)
{
	return marshal(c, 0, false, out, len);
}

int
cert_fingerprint(const struct cert *c, uint8_t out[CERT_FP_LEN])
{
	uint8_t *b;
	size_t len;
	int e;

	if ((e = cert_marshal(c, 0, &b, &len)) != 0)
		return e;
	crypto_sha256(b, len, out);
	free(b);
	return 0;
}

int
cert_fingerprint_hex(const struct cert *c, char out[CERT_FP_HEXLEN])
{
	uint8_t fp[CERT_FP_LEN];
	int e;

	if ((e = cert_fingerprint(c, fp)) != 0)
		return e;
	hex_encode(fp, sizeof(fp), out);
	return 0;
}

int
cert_sign(struct cert *c, const uint8_t key[64])
{
	uint8_t *d, sig[CRYPTO_ED25519_SIG_LEN];
	size_t len;
	int e;

	if ((e = cert_marshal_details(c, &d, &len)) != 0)
		return e;
	e = crypto_ed25519_sign(key, d, len, sig);
	free(d);
	if (e != 0)
		return e;
	return bytes_set(&c->sig, &c->sig_len, sig, sizeof(sig));
}

bool
cert_check_signature(const struct cert *c, const uint8_t *pub, size_t publen)
{
	uint8_t *d;
	size_t len;
	bool ok;

	/* Go's ed25519.Verify panics on a key that is not 32 bytes; a CA
	 * with a longer key simply never verifies here. */
	if (cert_marshal_details(c, &d, &len) != 0)
		return false;
	ok = crypto_ed25519_verify(pub, publen, d, len, c->sig, c->sig_len);
	free(d);
	return ok;
}

bool
cert_expired(const struct cert *c, int64_t now)
{
	return c->not_before > now || c->not_after < now;
}

/* Nebula's netMatch: inside one of the CA's networks, and no shorter. */
static bool
net_match(const struct ip4net *n, const struct ip4net *ca, size_t nca)
{
	size_t i;
	int k;

	for (i = 0; i < nca; i++) {
		if (!ip4net_contains(&ca[i], n->addr))
			continue;
		for (k = 0; k < 4; k++)
			if ((ca[i].mask >> (24 - 8 * k) & 255) >
			    (n->mask >> (24 - 8 * k) & 255))
				break;
		if (k == 4)
			return true;
	}
	return false;
}

static void
set_detail(char *d, size_t dlen, const char *s, size_t len)
{
	if (d == NULL || dlen == 0)
		return;
	if (len >= dlen)
		len = dlen - 1;
	memcpy(d, s, len);
	d[len] = '\0';
}

int
cert_check_constraints(const struct cert *c, const struct cert *ca,
    char *detail, size_t detaillen)
{
	char buf[IP4NET_STRLEN];
	size_t i, j;

	set_detail(detail, detaillen, "", 0);
	if (ca->not_after < c->not_after)
		return VPN_ERR_CERT_EXPIRES_AFTER_CA;
	if (ca->not_before > c->not_before)
		return VPN_ERR_CERT_VALID_BEFORE_CA;
	if (ca->ngroups > 0) {
		for (i = 0; i < c->ngroups; i++) {
			for (j = 0; j < ca->ngroups; j++)
				if (c->groups[i].len == ca->groups[j].len &&
				    memcmp(c->groups[i].s, ca->groups[j].s,
				        c->groups[i].len) == 0)
					break;
			if (j == ca->ngroups) {
				set_detail(detail, detaillen, c->groups[i].s,
				    c->groups[i].len);
				return VPN_ERR_CERT_GROUP_NOT_IN_CA;
			}
		}
	}
	if (ca->nips > 0) {
		for (i = 0; i < c->nips; i++) {
			if (net_match(&c->ips[i], ca->ips, ca->nips))
				continue;
			ip4net_format(&c->ips[i], buf);
			set_detail(detail, detaillen, buf, strlen(buf));
			return VPN_ERR_CERT_IP_NOT_IN_CA;
		}
	}
	if (ca->nsubnets > 0) {
		for (i = 0; i < c->nsubnets; i++) {
			if (net_match(&c->subnets[i], ca->subnets,
			        ca->nsubnets))
				continue;
			ip4net_format(&c->subnets[i], buf);
			set_detail(detail, detaillen, buf, strlen(buf));
			return VPN_ERR_CERT_SUBNET_NOT_IN_CA;
		}
	}
	return 0;
}

int
cert_check_private_key(const struct cert *c, const uint8_t *key, size_t len)
{
	uint8_t pub[32];
	int e;

	if (c->is_ca) {
		if (len != 64)
			return VPN_ERR_KEYLEN_ED25519_PRIV;
		/* Go compares the stored second half; we also derive it from
		 * the seed so that a doctored key file is caught. */
		if ((e = crypto_ed25519_public(key, pub)) != 0)
			return e;
		if (c->pubkey_len != 32 || !crypto_memeq(pub, c->pubkey, 32) ||
		    !crypto_memeq(key + 32, c->pubkey, 32))
			return VPN_ERR_CERT_KEY_MISMATCH;
		return 0;
	}
	if (len != 32)
		return VPN_ERR_KEYLEN_X25519_PRIV;
	if ((e = crypto_x25519_public(key, pub)) != 0)
		return e;
	if (c->pubkey_len != 32 || !crypto_memeq(pub, c->pubkey, 32))
		return VPN_ERR_CERT_KEY_MISMATCH;
	return 0;
}

int
cert_from_pem(const char *in, size_t len, struct cert **out, size_t *consumed)
{
	struct pem_block b;
	size_t c;
	int e;

	*out = NULL;
	e = pem_decode_type(in, len, PEM_CERT, &b, &c);
	if (consumed != NULL)
		*consumed = c;
	if (e == VPN_ERR_PEM_TYPE)
		return VPN_ERR_BANNER_CERT;
	if (e != 0)
		return e;
	e = cert_unmarshal(b.data, b.len, out);
	pem_block_clear(&b);
	return e;
}

char *
cert_to_pem(const struct cert *c, size_t *len)
{
	uint8_t *b;
	size_t blen;
	char *s;

	if (cert_marshal(c, 0, &b, &blen) != 0)
		return NULL;
	s = pem_encode(PEM_CERT, b, blen, len);
	free(b);
	return s;
}

void
hex_encode(const uint8_t *p, size_t len, char *out)
{
	static const char H[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = H[p[i] >> 4];
		out[2 * i + 1] = H[p[i] & 15];
	}
	out[2 * len] = '\0';
}

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
hex_decode(const char *s, size_t slen, uint8_t *out, size_t outlen)
{
	size_t i;
	int hi, lo;

	if (slen != 2 * outlen)
		return false;
	for (i = 0; i < outlen; i++) {
		if ((hi = hex_digit(s[2 * i])) < 0 ||
		    (lo = hex_digit(s[2 * i + 1])) < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}
