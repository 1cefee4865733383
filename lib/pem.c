/* lib/pem.c: RFC 7468 framing with Go encoding/pem's exact rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "err.h"
#include "pem.h"

static const char BEGIN[] = "\n-----BEGIN ";
static const char END[] = "\n-----END ";
static const char DASHES[] = "-----";

/* Go's getLine: the line without its '\n', without one '\r' right before
 * the newline, then without trailing spaces and tabs. */
static size_t
get_line(const char *p, size_t len, size_t *linelen)
{
	const char *nl = memchr(p, '\n', len);
	size_t n = nl != NULL ? (size_t)(nl - p) : len;
	size_t next = nl != NULL ? n + 1 : len;

	if (nl != NULL && n > 0 && p[n - 1] == '\r')
		n--;
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	*linelen = n;
	return next;
}

static bool
has_prefix(const char *p, size_t len, const char *pre, size_t prelen)
{
	return len >= prelen && memcmp(p, pre, prelen) == 0;
}

static const char *
find(const char *p, size_t len, const char *needle, size_t nlen)
{
	return memmem(p, len, needle, nlen);
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Go's base64.StdEncoding.Decode after pem removed spaces and tabs: '\r'
 * and '\n' are ignored, padding is required, nothing may follow it.
 */
int
pem_base64_decode(const char *p, size_t len, uint8_t *out, size_t *outlen)
{
	uint32_t acc = 0;
	size_t i, o = 0;
	int q = 0, pad = 0, v;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)p[i];
		if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
			continue;
		if (pad > 0) { /* only more '=' may complete the quantum */
			if (c != '=' || q == 0)
				return VPN_ERR_INVAL;
			pad++, q++;
			if (q == 4)
				q = 0;
			continue;
		}
		if (c == '=') {
			if (q < 2)
				return VPN_ERR_INVAL;
			pad = 1;
			if (q == 2) {
				out[o++] = (uint8_t)(acc >> 4);
			} else {
				out[o++] = (uint8_t)(acc >> 10);
				out[o++] = (uint8_t)(acc >> 2);
			}
			q++;
			if (q == 4)
				q = 0;
			continue;
		}
		if ((v = b64val(c)) < 0)
			return VPN_ERR_INVAL;
		acc = acc << 6 | (uint32_t)v;
		if (++q == 4) {
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0, q = 0;
		}
	}
	if (q != 0 || (pad != 0 && pad != 1 && pad != 2))
		return VPN_ERR_INVAL;
	*outlen = o;
	return 0;
}

/*
 * One attempt at a block starting the search at in[start].  Returns 0 and
 * fills b, *consumed; 1 when a likely block was rejected (*retry is where
 * Go's decodeError restarts); VPN_ERR_PEM_NONE when no BEGIN is left.
 */
static int
decode_at(const char *in, size_t len, size_t start, struct pem_block *b,
    size_t *consumed, size_t *retry)
{
	const char *p = in + start, *e;
	size_t n = len - start, tl, line, next, endidx, trailer, bl, dl, off;
	const char *type;
	bool headers = false;
	uint8_t *data;

	if (has_prefix(p, n, BEGIN + 1, sizeof(BEGIN) - 2)) {
		p += sizeof(BEGIN) - 2, n -= sizeof(BEGIN) - 2;
	} else if ((e = find(p, n, BEGIN, sizeof(BEGIN) - 1)) != NULL) {
		n -= (size_t)(e - p) + sizeof(BEGIN) - 1;
		p = e + sizeof(BEGIN) - 1;
	} else {
		return VPN_ERR_PEM_NONE;
	}
	next = get_line(p, n, &tl);
	type = p;
	p += next, n -= next;
	*retry = (size_t)(p - in);
	if (tl < 5 || memcmp(type + tl - 5, DASHES, 5) != 0)
		return 1;
	tl -= 5;
	/* Headers ("Key: value" lines) are skipped; Nebula uses none. */
	for (;;) {
		if (n == 0)
			return VPN_ERR_PEM_NONE; /* Go: return nil, data */
		next = get_line(p, n, &line);
		if (memchr(p, ':', line) == NULL)
			break;
		headers = true;
		p += next, n -= next;
		*retry = (size_t)(p - in);
	}
	if (!headers && has_prefix(p, n, END + 1, sizeof(END) - 2)) {
		endidx = 0;
		trailer = sizeof(END) - 2;
	} else if ((e = find(p, n, END, sizeof(END) - 1)) != NULL) {
		endidx = (size_t)(e - p);
		trailer = endidx + sizeof(END) - 1;
	} else {
		return 1;
	}
	if (n - trailer < tl + 5 || memcmp(p + trailer, type, tl) != 0 ||
	    memcmp(p + trailer + tl, DASHES, 5) != 0)
		return 1;
	off = trailer + tl + 5;
	get_line(p + off, n - off, &line);
	if (line != 0)
		return 1;
	bl = endidx / 4 * 3 + 3;
	if ((data = malloc(bl)) == NULL)
		return VPN_ERR_NOMEM;
	if (pem_base64_decode(p, endidx, data, &dl) != 0) {
		crypto_cleanse(data, bl);
		free(data);
		return 1;
	}
	off = endidx + sizeof(END) - 2;
	next = get_line(p + off, n - off, &line);
	b->type = type;
	b->typelen = tl;
	b->data = data;
	b->len = dl;
	*consumed = (size_t)(p + off + next - in);
	return 0;
}

int
pem_decode(const char *in, size_t len, struct pem_block *b, size_t *consumed)
{
	size_t start = 0, retry = 0;
	int r;

	memset(b, 0, sizeof(*b));
	*consumed = 0;
	for (;;) {
		r = decode_at(in, len, start, b, consumed, &retry);
		if (r != 1) {
			if (r != 0)
				*consumed = 0;
			return r;
		}
		start = retry; /* Go's decodeError: try again further on */
	}
}

int
pem_decode_type(const char *in, size_t len, const char *type,
    struct pem_block *b, size_t *consumed)
{
	int r;

	if ((r = pem_decode(in, len, b, consumed)) != 0)
		return r;
	if (b->typelen != strlen(type) || memcmp(b->type, type, b->typelen)) {
		pem_block_clear(b);
		return VPN_ERR_PEM_TYPE;
	}
	return 0;
}

void
pem_block_clear(struct pem_block *b)
{
	if (b->data != NULL) {
		crypto_cleanse(b->data, b->len);
		free(b->data);
	}
	memset(b, 0, sizeof(*b));
}

/* Go's unicode.IsSpace for a code point. */
static bool
is_space(uint32_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 ||
	    c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	    c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	    c == 0x3000;
}

bool
pem_rest_empty(const char *p, size_t len)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;
	uint32_t c;

	while (i < len) {
		if (s[i] < 0x80) {
			c = s[i++];
		} else if ((s[i] & 0xe0) == 0xc0 && i + 1 < len &&
		           (s[i + 1] & 0xc0) == 0x80) {
			c = (uint32_t)(s[i] & 0x1f) << 6 | (s[i + 1] & 0x3f);
			i += 2;
		} else if ((s[i] & 0xf0) == 0xe0 && i + 2 < len &&
		           (s[i + 1] & 0xc0) == 0x80 &&
		           (s[i + 2] & 0xc0) == 0x80) {
			c = (uint32_t)(s[i] & 0x0f) << 12 |
			    (uint32_t)(s[i + 1] & 0x3f) << 6 | (s[i + 2] & 0x3f);
			i += 3;
		} else {
			return false; /* no space needs four bytes */
		}
		if (!is_space(c))
			return false;
	}
	return true;
}

char *
pem_encode(const char *type, const uint8_t *data, size_t len, size_t *outlen)
{
	static const char A[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t tl = strlen(type), b64 = (len + 2) / 3 * 4;
	size_t cap = 2 * (tl + 17) + b64 + b64 / 64 + 2, o = 0, i, col = 0;
	uint32_t v;
	char *s, q[4];
	int k;

	if (len > SIZE_MAX / 2 || (s = malloc(cap)) == NULL)
		return NULL;
	o += (size_t)sprintf(s, "-----BEGIN %s-----\n", type);
	for (i = 0; i < len; i += 3) {
		v = (uint32_t)data[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)data[i + 1] << 8;
		if (i + 2 < len)
			v |= data[i + 2];
		q[0] = A[v >> 18 & 63];
		q[1] = A[v >> 12 & 63];
		q[2] = i + 1 < len ? A[v >> 6 & 63] : '=';
		q[3] = i + 2 < len ? A[v & 63] : '=';
		for (k = 0; k < 4; k++) {
			s[o++] = q[k];
			if (++col == 64) {
				s[o++] = '\n';
				col = 0;
			}
		}
	}
	if (col != 0)
		s[o++] = '\n';
	o += (size_t)sprintf(s + o, "-----END %s-----\n", type);
	if (outlen != NULL)
		*outlen = o;
	return s;
}

static int
key_decode(const char *in, size_t len, const char *type, int banner_err,
    size_t want, int len_err, uint8_t *out, size_t *consumed)
{
	struct pem_block b;
	size_t c;
	int r;

	r = pem_decode_type(in, len, type, &b, &c);
	if (consumed != NULL)
		*consumed = c;
	if (r == VPN_ERR_PEM_TYPE)
		return banner_err;
	if (r != 0)
		return r;
	if (b.len != want) {
		pem_block_clear(&b);
		return len_err;
	}
	memcpy(out, b.data, want);
	pem_block_clear(&b);
	return 0;
}

int
pem_x25519_private(const char *in, size_t len, uint8_t out[32],
    size_t *consumed)
{
	return key_decode(in, len, PEM_X25519_PRIV, VPN_ERR_BANNER_X25519_PRIV,
	    32, VPN_ERR_KEYLEN_X25519_PRIV, out, consumed);
}

int
pem_x25519_public(const char *in, size_t len, uint8_t out[32],
    size_t *consumed)
{
	return key_decode(in, len, PEM_X25519_PUB, VPN_ERR_BANNER_X25519_PUB,
	    32, VPN_ERR_KEYLEN_X25519_PUB, out, consumed);
}

int
pem_ed25519_private(const char *in, size_t len, uint8_t out[64],
    size_t *consumed)
{
	return key_decode(in, len, PEM_ED25519_PRIV,
	    VPN_ERR_BANNER_ED25519_PRIV, 64, VPN_ERR_KEYLEN_ED25519_PRIV, out,
	    consumed);
}

int
pem_ed25519_public(const char *in, size_t len, uint8_t out[32],
    size_t *consumed)
{
	return key_decode(in, len, PEM_ED25519_PUB, VPN_ERR_BANNER_ED25519_PUB,
	    32, VPN_ERR_KEYLEN_ED25519_PUB, out, consumed);
}
