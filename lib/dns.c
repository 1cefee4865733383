/*
 * lib/dns.c: the lighthouse's DNS responder, as a codec.
 *
 * Behaviour follows Nebula 1.6.1's dns_server.go and the parts of
 * miekg/dns v1.1.48 it runs through (server.go serveDNS, acceptfunc.go,
 * msg.go unpack, defaults.go SetReply, scan.go for dns.NewRR); see
 * dns.h for the summary.
 */
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "dns.h"
#include "err.h"
#include "u32map.h"
#include "wire.h"

#define HDR_LEN DNS_HDR_LEN
#define WIRE_NAME_MAX 255 /* miekg maxDomainNameWireOctets */
#define MAX_POINTERS 126  /* miekg maxCompressionPointers */
#define ZMAXTOK 2048      /* miekg maxTok: zone-file token buffer */
#define TXT_RDATA_MAX 65535

#define F_QR 0x8000
#define F_AA 0x0400
#define F_TC 0x0200
#define F_RD 0x0100
#define F_RA 0x0080
#define F_Z 0x0040
#define F_AD 0x0020
#define F_CD 0x0010

#define OPCODE_QUERY 0
#define OPCODE_NOTIFY 4
#define RCODE_OK 0

#define TYPE_A 1
#define TYPE_TXT 16
#define TYPE_AAAA 28
#define TYPE_OPT 41
#define CLASS_IN 1

/* A name -> address mapping; name is the certificate name as given. */
struct dname {
	uint64_t hash;
	uint32_t ip;
	size_t len;
	char name[];
};

/* TXT rdata in wire form: <len><bytes>... */
struct dtxt {
	size_t len;
	uint8_t rdata[];
};

struct dns_zone {
	struct dname **slots; /* open addressing, linear probing */
	size_t cap;           /* a power of two, or 0 */
	size_t len;
	struct u32map txt; /* vpn ip -> struct dtxt */
};

/* ------------------------------------------------------------------ */
/* zone                                                                */

static uint64_t
name_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

static struct dname *
name_find(const struct dns_zone *z, const char *s, size_t n, uint64_t h)
{
	size_t i;

	if (z->cap == 0)
		return NULL;
	for (i = (size_t)h & (z->cap - 1); z->slots[i] != NULL;
	     i = (i + 1) & (z->cap - 1))
		if (z->slots[i]->hash == h && z->slots[i]->len == n &&
		    memcmp(z->slots[i]->name, s, n) == 0)
			return z->slots[i];
	return NULL;
}

static void
slot_put(struct dname **slots, size_t cap, struct dname *e)
{
	size_t i;

	for (i = (size_t)e->hash & (cap - 1); slots[i] != NULL;
	     i = (i + 1) & (cap - 1))
		;
	slots[i] = e;
}

static int
names_grow(struct dns_zone *z)
{
	struct dname **n;
	size_t cap, i;

	cap = z->cap == 0 ? 16 : z->cap * 2;
	if (cap < z->cap || (n = calloc(cap, sizeof(*n))) == NULL)
		return VPN_ERR_NOMEM;
	for (i = 0; i < z->cap; i++)
		if (z->slots[i] != NULL)
			slot_put(n, cap, z->slots[i]);
	free(z->slots);
	z->slots = n;
	z->cap = cap;
	return 0;
}

struct dns_zone *
dns_zone_new(void)
{
	struct dns_zone *z;

	if ((z = calloc(1, sizeof(*z))) == NULL)
		return NULL;
	u32map_init(&z->txt);
	return z;
}

void
dns_zone_free(struct dns_zone *z)
{
	size_t i;
	uint32_t k;
	void *v;

	if (z == NULL)
		return;
	for (i = 0; i < z->cap; i++)
		free(z->slots[i]);
	free(z->slots);
	for (i = 0; u32map_next(&z->txt, &i, &k, &v);)
		free(v);
	u32map_free(&z->txt);
	free(z);
}

int
dns_zone_add(
    struct dns_zone *z, const char *name, size_t namelen, uint32_t vpn_ip)
{
	struct dname *e;
	uint64_t h;
	int r;

	if (namelen > DNS_NAME_MAX)
		return 0; /* no query name can spell it */
	h = name_hash(name, namelen);
	if ((e = name_find(z, name, namelen, h)) != NULL) {
		e->ip = vpn_ip;
		return 0;
	}
	if ((z->len + 1) * 2 > z->cap && (r = names_grow(z)) != 0)
		return r;
	if ((e = malloc(sizeof(*e) + namelen + 1)) == NULL)
		return VPN_ERR_NOMEM;
	e->hash = h;
	e->ip = vpn_ip;
	e->len = namelen;
	if (namelen > 0)
		memcpy(e->name, name, namelen);
	e->name[namelen] = '\0';
	slot_put(z->slots, z->cap, e);
	z->len++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* TXT text: miekg's zone-file lexer (scan.go zlexer.Next) and TXT     */
/* rdata reader (scan_rr.go endingToTxtSlice), then packTxtString.     */

enum ztok { Z_EOF, Z_STRING, Z_BLANK, Z_QUOTE, Z_NEWLINE, Z_OTHER, Z_ERR };

struct zlex {
	const uint8_t *s;
	size_t n, pos;
	int brace;
	bool quote, commt, space, rrtype, next_pending, err;
	enum ztok pending;
	size_t combuf; /* length of zl.comBuf; its text never matters */
	uint8_t str[ZMAXTOK];
	size_t tlen;
};

/* miekg TypeToString values that are upper case (StringToType is looked
 * up with the upper-cased token). */
static const char *const rr_types[] = {"A", "AAAA", "AFSDB", "ANY", "APL",
    "ATMA", "AVC", "AXFR", "CAA", "CDNSKEY", "CDS", "CERT", "CNAME", "CSYNC",
    "DHCID", "DLV", "DNAME", "DNSKEY", "DS", "EID", "EUI48", "EUI64", "GID",
    "GPOS", "HINFO", "HIP", "HTTPS", "ISDN", "IXFR", "KEY", "KX", "L32", "L64",
    "LOC", "LP", "MAILA", "MAILB", "MB", "MD", "MF", "MG", "MINFO", "MR", "MX",
    "NAPTR", "NID", "NIMLOC", "NINFO", "NS", "NSEC", "NSEC3", "NSEC3PARAM",
    "NULL", "NXT", "OPENPGPKEY", "OPT", "PTR", "PX", "RKEY", "RP", "RRSIG",
    "RT", "SIG", "SMIMEA", "SOA", "SPF", "SRV", "SSHFP", "SVCB", "TA", "TALINK",
    "TKEY", "TLSA", "TSIG", "TXT", "UID", "UINFO", "UNSPEC", "URI", "X25",
    "ZONEMD", "NSAP-PTR"};
static const char *const rr_classes[] = {"IN", "CS", "CH", "HS", "NONE", "ANY"};

static bool
upper_eq(const uint8_t *t, size_t n, const char *w)
{
	size_t i;
	uint8_t c;

	for (i = 0; i < n; i++) {
		c = t[i];
		if (c >= 'a' && c <= 'z')
			c = (uint8_t)(c - 'a' + 'A');
		if (w[i] == '\0' || (uint8_t)w[i] != c)
			return false;
	}
	return w[n] == '\0';
}

static bool
upper_prefix(const uint8_t *t, size_t n, const char *w)
{
	size_t wl = strlen(w);

	return n >= wl && upper_eq(t, wl, w);
}

static bool
is_word(const uint8_t *t, size_t n, const char *const *tab, size_t tn)
{
	size_t i;

	for (i = 0; i < tn; i++)
		if (upper_eq(t, n, tab[i]))
			return true;
	return false;
}

/* Once a comment inside parentheses ends a line, the lexer looks for a
 * type or class again (zl.rrtype = false); in TXT rdata that is an
 * error.  at_space: the full check of a token ended by a blank;
 * otherwise only the type names (a token ended by a newline). */
static bool
looks_typeclass(const uint8_t *t, size_t n, bool at_space)
{
	if (is_word(t, n, rr_types, sizeof(rr_types) / sizeof(rr_types[0])))
		return true;
	if (!at_space)
		return false;
	return upper_prefix(t, n, "TYPE") ||
	       is_word(t, n, rr_classes,
	           sizeof(rr_classes) / sizeof(rr_classes[0])) ||
	       upper_prefix(t, n, "CLASS");
}

static enum ztok
zl_lex(struct zlex *zl)
{
	size_t stri = 0, comi = 0;
	bool escape = false;
	enum ztok ret;
	uint8_t x;

	if (zl->next_pending) {
		zl->next_pending = false;
		return zl->pending;
	}
	if (zl->err)
		return Z_ERR; /* errors are sticky */
	if (zl->combuf > 0) {
		comi = zl->combuf;
		zl->combuf = 0;
	}
	while (zl->pos < zl->n) {
		x = zl->s[zl->pos++];
		if (stri >= ZMAXTOK || comi >= ZMAXTOK)
			return Z_ERR;
		switch (x) {
		case ' ':
		case '\t':
			if (escape || zl->quote) {
				zl->str[stri++] = x;
				escape = false;
				break;
			}
			if (zl->commt) {
				comi++;
				break;
			}
			ret = Z_EOF; /* none */
			if (stri != 0) {
				zl->tlen = stri;
				ret = Z_STRING;
				if (!zl->rrtype &&
				    looks_typeclass(zl->str, stri, true))
					ret = Z_OTHER;
			}
			if (!zl->space) {
				zl->space = true;
				if (ret == Z_EOF)
					return Z_BLANK;
				zl->next_pending = true;
				zl->pending = Z_BLANK;
			}
			if (ret != Z_EOF)
				return ret;
			break;
		case ';':
			if (escape || zl->quote) {
				zl->str[stri++] = x;
				escape = false;
				break;
			}
			zl->commt = true;
			zl->combuf = 0;
			if (comi > 1 && ++comi >= ZMAXTOK)
				return Z_ERR;
			comi++;
			if (stri > 0) {
				zl->combuf = comi;
				zl->tlen = stri;
				return Z_STRING;
			}
			break;
		case '\r':
			escape = false;
			if (zl->quote)
				zl->str[stri++] = x;
			break;
		case '\n':
			escape = false;
			if (zl->quote) {
				zl->str[stri++] = x;
				break;
			}
			if (zl->commt) {
				zl->commt = false;
				zl->rrtype = false;
				if (zl->brace == 0)
					return Z_NEWLINE;
				zl->combuf = comi;
				break;
			}
			if (zl->brace == 0) {
				zl->combuf = 0;
				if (stri == 0)
					return Z_NEWLINE;
				zl->tlen = stri;
				ret = Z_STRING;
				if (!zl->rrtype &&
				    looks_typeclass(zl->str, stri, false))
					ret = Z_OTHER;
				zl->rrtype = false;
				zl->next_pending = true;
				zl->pending = Z_NEWLINE;
				return ret;
			}
			break;
		case '\\':
			if (zl->commt) {
				comi++;
				break;
			}
			zl->str[stri++] = x;
			escape = !escape;
			break;
		case '"':
			if (zl->commt) {
				comi++;
				break;
			}
			if (escape) {
				zl->str[stri++] = x;
				escape = false;
				break;
			}
			zl->space = false;
			zl->quote = !zl->quote;
			if (stri != 0) {
				zl->tlen = stri;
				zl->next_pending = true;
				zl->pending = Z_QUOTE;
				return Z_STRING;
			}
			return Z_QUOTE;
		case '(':
		case ')':
			if (zl->commt) {
				comi++;
				break;
			}
			if (escape || zl->quote) {
				zl->str[stri++] = x;
				escape = false;
				break;
			}
			if (x == '(')
				zl->brace++;
			else if (--zl->brace < 0)
				return Z_ERR; /* extra closing brace */
			break;
		default:
			escape = false;
			if (zl->commt) {
				comi++;
				break;
			}
			zl->str[stri++] = x;
			zl->space = false;
			break;
		}
	}
	/* end of input */
	if (stri > 0) {
		zl->tlen = stri;
		if (comi > 0) {
			zl->next_pending = true;
			zl->pending = Z_NEWLINE;
		}
		return Z_STRING;
	}
	if (comi > 0)
		return Z_NEWLINE;
	if (zl->brace != 0)
		return Z_ERR; /* unbalanced brace */
	return Z_EOF;
}

static enum ztok
zl_next(struct zlex *zl)
{
	enum ztok t = zl_lex(zl);

	if (t == Z_ERR)
		zl->err = true;
	return t;
}

/* packTxtString: one character-string from its zone-file spelling. */
static void
txt_put_string(struct wr *w, const uint8_t *s, size_t n)
{
	uint8_t *lenp, b;
	size_t i, l = 0;

	lenp = wr_take(w, 1);
	for (i = 0; i < n; i++) {
		b = s[i];
		if (b == '\\') {
			if (++i == n)
				break;
			if (i + 2 < n && s[i] >= '0' && s[i] <= '9' &&
			    s[i + 1] >= '0' && s[i + 1] <= '9' &&
			    s[i + 2] >= '0' && s[i + 2] <= '9') {
				b = (uint8_t)((s[i] - '0') * 100 +
				              (s[i + 1] - '0') * 10 +
				              (s[i + 2] - '0'));
				i += 2;
			} else {
				b = s[i];
			}
		}
		wr_u8(w, b);
		l++;
	}
	if (lenp != NULL)
		*lenp = (uint8_t)l; /* l <= n <= 255 */
}

/*
 * The RFC 3597 form "\# <len> <hex>..." after its "\#" (RFC3597.parse,
 * then fromRFC3597: the bytes must unpack as TXT strings).  0 or
 * VPN_ERR_INVAL.
 */
static int
txt_rfc3597(struct zlex *zl, struct wr *w)
{
	size_t i, nhex = 0, need = 0;
	unsigned long rdlen = 0;
	enum ztok t;
	int hi = -1, v;

	(void)zl_next(zl); /* "zBlank": whatever comes */
	if (zl_next(zl) != Z_STRING || zl->tlen == 0)
		return VPN_ERR_INVAL;
	for (i = 0; i < zl->tlen; i++) {
		if (zl->str[i] < '0' || zl->str[i] > '9')
			return VPN_ERR_INVAL;
		rdlen = rdlen * 10 + (unsigned long)(zl->str[i] - '0');
		if (rdlen > 65535)
			return VPN_ERR_INVAL;
	}
	for (t = zl_next(zl); t != Z_NEWLINE && t != Z_EOF; t = zl_next(zl)) {
		if (t == Z_BLANK)
			continue;
		if (t != Z_STRING)
			return VPN_ERR_INVAL;
		for (i = 0; i < zl->tlen; i++, nhex++) {
			if ((v = hex_digit(zl->str[i])) < 0)
				return VPN_ERR_INVAL;
			if (hi < 0) {
				hi = v;
				continue;
			}
			v |= hi << 4;
			hi = -1;
			/* unpackStringTxt: length-prefixed strings, exactly */
			if (need == 0)
				need = (size_t)v + 1;
			need--;
			wr_u8(w, (uint8_t)v);
		}
	}
	if (nhex != 2 * rdlen || need != 0)
		return VPN_ERR_INVAL;
	return 0;
}

/*
 * TXT rdata of "<owner> TXT <txt>" as dns.NewRR builds it.  w->p NULL
 * counts only.  0 or VPN_ERR_INVAL.
 */
static int
txt_compile(const char *txt, size_t len, struct wr *w, struct zlex *zl)
{
	enum ztok t;
	bool quote = false, empty = false, first = true;
	size_t off, n;

	memset(zl, 0, offsetof(struct zlex, str));
	zl->s = (const uint8_t *)txt;
	zl->n = len;
	/* The lexer has just read "TXT " (zRrtpe, then zBlank). */
	zl->space = true;
	zl->rrtype = true;
	for (t = zl_next(zl); t != Z_NEWLINE && t != Z_EOF; t = zl_next(zl)) {
		switch (t) {
		case Z_STRING:
			/* RFC 3597 "\# len hex" (scan.go zExpectRdata). */
			if (first && zl->tlen == 2 && zl->str[0] == '\\' &&
			    zl->str[1] == '#')
				return txt_rfc3597(zl, w);
			empty = false;
			for (off = 0; off < zl->tlen; off += n) {
				n = zl->tlen - off > 255 ? 255 : zl->tlen - off;
				txt_put_string(w, zl->str + off, n);
			}
			break;
		case Z_BLANK:
			if (quote)
				return VPN_ERR_INVAL;
			break;
		case Z_QUOTE:
			if (empty && quote)
				txt_put_string(w, NULL, 0);
			quote = !quote;
			empty = true;
			break;
		case Z_EOF:
		case Z_NEWLINE:
		case Z_OTHER:
		case Z_ERR:
			return VPN_ERR_INVAL;
		}
		first = false;
	}
	return quote ? VPN_ERR_INVAL : 0;
}

int
dns_zone_set_txt(
    struct dns_zone *z, uint32_t vpn_ip, const char *txt, size_t len)
{
	struct dtxt *t = NULL;
	struct zlex *zl = NULL;
	char *src = NULL;
	struct wr w;
	int r;

	free(u32map_del(&z->txt, vpn_ip));
	if (txt == NULL || len == 0)
		return 0;
	/* NewRR appends the newline that ends the record if it is missing. */
	if ((src = malloc(len + 1)) == NULL ||
	    (zl = malloc(sizeof(*zl))) == NULL) {
		r = VPN_ERR_NOMEM;
		goto out;
	}
	memcpy(src, txt, len);
	if (src[len - 1] != '\n')
		src[len++] = '\n';
	wr_init(&w, NULL, 0);
	if ((r = txt_compile(src, len, &w, zl)) != 0)
		goto out;
	if (w.bad || w.off > TXT_RDATA_MAX) {
		r = VPN_ERR_RANGE;
		goto out;
	}
	if ((t = malloc(sizeof(*t) + w.off)) == NULL) {
		r = VPN_ERR_NOMEM;
		goto out;
	}
	t->len = w.off;
	wr_init(&w, t->rdata, t->len);
	if ((r = txt_compile(src, len, &w, zl)) != 0 || w.bad ||
	    w.off != t->len) {
		r = VPN_ERR_INVAL; /* cannot happen: same input, same output */
		goto out;
	}
	if ((r = u32map_put(&z->txt, vpn_ip, t)) != 0)
		goto out;
	t = NULL;
out:
	free(t);
	free(zl);
	free(src);
	return r;
}

/* ------------------------------------------------------------------ */
/* queries                                                             */

struct query {
	uint16_t id, flags, qd, an, ns, ar;
	bool has_q;
	uint8_t qname[WIRE_NAME_MAX]; /* uncompressed, with the root byte */
	size_t qnamelen;
	uint16_t qtype, qclass;
	bool has_opt;
	uint16_t opt_size;
};

/*
 * miekg UnpackDomainName: read the name at *offp in m[0..len).  wire,
 * if not NULL, receives it uncompressed (at most 255 bytes).  0, or -1:
 * out of bounds, label type 0x40/0x80, over 255 octets, over 126
 * pointers.
 */
static int
name_read(
    const uint8_t *m, size_t len, size_t *offp, uint8_t *wire, size_t *wlen)
{
	size_t off = *offp, end = 0, w = 0;
	int budget = WIRE_NAME_MAX, ptr = 0;
	uint8_t c, c1;

	for (;;) {
		if (off >= len)
			return -1;
		c = m[off++];
		switch (c & 0xc0) {
		case 0x00:
			if (c == 0)
				goto done;
			if (c > len - off)
				return -1;
			budget -= c + 1;
			if (budget <= 0)
				return -1;
			if (wire != NULL) {
				wire[w++] = c;
				memcpy(wire + w, m + off, c);
				w += c;
			}
			off += c;
			break;
		case 0xc0:
			if (off >= len)
				return -1;
			c1 = m[off++];
			if (ptr == 0)
				end = off;
			if (++ptr > MAX_POINTERS)
				return -1;
			off = (size_t)(c & 0x3f) << 8 | c1;
			break;
		default:
			return -1; /* 0x40 and 0x80 are reserved */
		}
	}
done:
	if (ptr == 0)
		end = off;
	if (wire != NULL) {
		wire[w++] = 0; /* budget kept w <= 254 before this */
		*wlen = w;
	}
	*offp = end;
	return 0;
}

/* miekg's presentation form of a wire name, without the final dot
 * (Nebula's map keys are the certificate name plus "."). */
static size_t
name_key(const uint8_t *wire, char *out)
{
	static const char dig[] = "0123456789";
	size_t i = 0, o = 0, j;
	uint8_t c, b;

	while ((c = wire[i++]) != 0) {
		if (o > 0)
			out[o++] = '.';
		for (j = 0; j < c; j++) {
			b = wire[i + j];
			switch (b) {
			case '.':
			case ' ':
			case '\'':
			case '@':
			case ';':
			case '(':
			case ')':
			case '"':
			case '\\':
				out[o++] = '\\';
				out[o++] = (char)b;
				break;
			default:
				if (b < ' ' || b > '~') {
					out[o++] = '\\';
					out[o++] = dig[b / 100];
					out[o++] = dig[b / 10 % 10];
					out[o++] = dig[b % 10];
				} else {
					out[o++] = (char)b;
				}
			}
		}
		i += c;
	}
	return o;
}

/* Go's dtoi/xtoi (net/parse.go): n, digits consumed; false when none or
 * at least 0xFFFFFF. */
static bool
go_dtoi(const char *s, size_t n, unsigned *v, size_t *used)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		*v = *v * 10 + (unsigned)(s[i] - '0');
		if (*v >= 0xFFFFFF)
			return false;
	}
	*used = i;
	return i > 0;
}

static bool
go_xtoi(const char *s, size_t n, unsigned *v, size_t *used)
{
	size_t i;
	unsigned d;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = (unsigned)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = (unsigned)(s[i] - 'a' + 10);
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = (unsigned)(s[i] - 'A' + 10);
		else
			break;
		*v = *v * 16 + d;
		if (*v >= 0xFFFFFF)
			return false;
	}
	*used = i;
	return i > 0;
}

/* Go 1.18 net.parseIPv4: the four bytes of s[0..n). */
static bool
go_parse_ip4(const char *s, size_t n, uint8_t out[4])
{
	size_t i, c;
	unsigned v;

	for (i = 0; i < 4; i++) {
		if (n == 0)
			return false;
		if (i > 0) {
			if (s[0] != '.')
				return false;
			s++, n--;
		}
		if (!go_dtoi(s, n, &v, &c) || v > 0xff)
			return false;
		if (c > 1 && s[0] == '0')
			return false;
		s += c, n -= c;
		out[i] = (uint8_t)v;
	}
	return n == 0;
}

/* Go 1.18 net.parseIPv6 (no zone): the 16 bytes of s[0..n). */
static bool
go_parse_ip6(const char *s, size_t n, uint8_t ip[16])
{
	int ellipsis = -1, i = 0, j, k;
	size_t c;
	unsigned v;

	memset(ip, 0, 16);
	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		ellipsis = 0;
		s += 2, n -= 2;
		if (n == 0)
			return true;
	}
	while (i < 16) {
		if (!go_xtoi(s, n, &v, &c) || v > 0xffff)
			return false;
		if (c < n && s[c] == '.') {
			if (ellipsis < 0 && i != 12)
				return false;
			if (i + 4 > 16 || !go_parse_ip4(s, n, ip + i))
				return false;
			n = 0;
			i += 4;
			break;
		}
		ip[i] = (uint8_t)(v >> 8);
		ip[i + 1] = (uint8_t)v;
		i += 2;
		s += c, n -= c;
		if (n == 0)
			break;
		if (s[0] != ':' || n == 1)
			return false;
		s++, n--;
		if (s[0] == ':') {
			if (ellipsis >= 0)
				return false;
			ellipsis = i;
			s++, n--;
			if (n == 0)
				break;
		}
	}
	if (n != 0)
		return false;
	if (i < 16) {
		if (ellipsis < 0)
			return false;
		k = 16 - i;
		for (j = i - 1; j >= ellipsis; j--)
			ip[j + k] = ip[j];
		for (j = ellipsis + k - 1; j >= ellipsis; j--)
			ip[j] = 0;
	} else if (ellipsis >= 0) {
		return false;
	}
	return true;
}

/* Nebula's QueryCert key: net.ParseIP, then Ip2VpnIp (the last 4 of the
 * 16 bytes Go always returns). */
static bool
key_vpn_ip(const char *s, size_t n, uint32_t *ip)
{
	uint8_t b[16];
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (!go_parse_ip4(s, n, b + 12))
				return false;
			break;
		}
		if (s[i] == ':') {
			if (!go_parse_ip6(s, n, b))
				return false;
			break;
		}
	}
	if (i == n)
		return false;
	*ip = be32_get(b + 12);
	return true;
}

/* EDNS0 option checks in edns.go's unpack methods. */
static bool
opt_option_ok(uint16_t code, const uint8_t *b, size_t n)
{
	switch (code) {
	case 1: /* LLQ */
		return n >= 18;
	case 2: /* UL */
		return n == 4 || n == 8;
	case 8: /* SUBNET */
		if (n < 4)
			return false;
		switch ((unsigned)b[0] << 8 | b[1]) {
		case 0:
			return b[2] == 0;
		case 1:
			return b[2] <= 32 && b[3] <= 32;
		case 2:
			return b[2] <= 128 && b[3] <= 128;
		default:
			return false;
		}
	case 9: /* EXPIRE */
		return n == 0 || n >= 4;
	case 11: /* TCP keepalive */
		return n == 0 || n == 2;
	case 15: /* EDE */
		return n >= 2;
	default:
		return true;
	}
}

/* unpackDataOpt over rd[0..n), n > 0. */
static bool
opt_rdata_ok(const uint8_t *rd, size_t n)
{
	size_t off = 0, olen;
	uint16_t code;

	do {
		if (n - off < 4)
			return false;
		code = (uint16_t)(rd[off] << 8 | rd[off + 1]);
		olen = (size_t)rd[off + 2] << 8 | rd[off + 3];
		off += 4;
		if (olen > n - off || !opt_option_ok(code, rd + off, olen))
			return false;
		off += olen;
	} while (off < n);
	return true;
}

/*
 * One resource record of an answer, authority or additional section
 * (miekg UnpackRR).  1: nothing left (the count was a lie: stop), 0:
 * read, -1: malformed.
 */
static int
rr_read(
    const uint8_t *m, size_t len, size_t *offp, bool extra, struct query *qm)
{
	struct rd r;
	uint16_t type, class, rdlen;
	size_t off = *offp;
	const uint8_t *rd;

	if (off == len)
		return 1;
	if (name_read(m, len, &off, NULL, NULL) != 0)
		return -1;
	rd_init(&r, m + off, len - off);
	type = rd_be16(&r);
	class = rd_be16(&r);
	(void)rd_be32(&r); /* TTL */
	rdlen = rd_be16(&r);
	rd = rd_take(&r, rdlen);
	if (r.bad)
		return -1;
	if (rdlen > 0) {
		switch (type) {
		case TYPE_A:
			if (rdlen != 4)
				return -1;
			break;
		case TYPE_AAAA:
			if (rdlen != 16)
				return -1;
			break;
		case TYPE_OPT:
			if (!opt_rdata_ok(rd, rdlen))
				return -1;
			break;
		default:
			break;
		}
	}
	if (extra && type == TYPE_OPT) {
		qm->has_opt = true; /* IsEdns0: the last one wins */
		qm->opt_size = class;
	}
	*offp = off + r.off;
	return 0;
}

/* Msg.unpack after the header.  0, or -1 (qm->has_q tells whether the
 * question was read). */
static int
query_read(const uint8_t *m, size_t len, struct query *qm)
{
	size_t off = HDR_LEN, left;
	unsigned sec, i, count[3];
	int r;

	if (off == len)
		return 0; /* just a header: no sections at all */
	/* unpackQuestion; QDCOUNT is 1 here. */
	if (name_read(m, len, &off, qm->qname, &qm->qnamelen) != 0)
		return -1;
	left = len - off;
	if (left == 1)
		return -1; /* qtype cut short */
	if (left >= 2) {
		qm->qtype = (uint16_t)(m[off] << 8 | m[off + 1]);
		off += 2;
	}
	if (len - off >= 2) {
		qm->qclass = (uint16_t)(m[off] << 8 | m[off + 1]);
		off += 2;
	} else {
		off = len; /* a cut-short qclass reads as 0 */
	}
	qm->has_q = true;
	count[0] = qm->an;
	count[1] = qm->ns;
	count[2] = qm->ar;
	for (sec = 0; sec < 3; sec++)
		for (i = 0; i < count[sec]; i++) {
			if ((r = rr_read(m, len, &off, sec == 2, qm)) < 0)
				return -1;
			if (r > 0)
				break;
		}
	return 0; /* trailing bytes are ignored */
}

static void
hdr_put(struct wr *w, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an)
{
	wr_be16(w, id);
	wr_be16(w, flags);
	wr_be16(w, qd);
	wr_be16(w, an);
	wr_be16(w, 0);
	wr_be16(w, 0);
}

/* A reply with no answer: FORMERR/NOTIMP, NOTIFY, or an unanswered
 * query. */
static size_t
reply_empty(const struct query *qm, uint16_t flags, uint8_t *out, size_t cap)
{
	struct wr w;

	wr_init(&w, out, cap);
	hdr_put(&w, qm->id, flags, qm->has_q ? 1 : 0, 0);
	if (qm->has_q) {
		wr_bytes(&w, qm->qname, qm->qnamelen);
		wr_be16(&w, qm->qtype);
		wr_be16(&w, qm->qclass);
	}
	return w.bad ? 0 : w.off;
}

size_t
dns_answer(const struct dns_zone *z, const uint8_t *q, size_t qlen,
    bool txt_allowed, uint8_t *out, size_t cap)
{
	struct query qm;
	struct dname *e;
	const struct dtxt *t = NULL;
	char key[DNS_NAME_MAX + 8];
	size_t klen, rdlen, need, limit;
	uint16_t opcode, flags;
	uint32_t ip;
	struct wr w;
	uint8_t a[4];

	if (qlen > DNS_QUERY_MAX)
		qlen = DNS_QUERY_MAX;
	if (qlen < HDR_LEN)
		return 0;
	memset(&qm, 0, sizeof(qm));
	qm.id = (uint16_t)(q[0] << 8 | q[1]);
	qm.flags = (uint16_t)(q[2] << 8 | q[3]);
	qm.qd = (uint16_t)(q[4] << 8 | q[5]);
	qm.an = (uint16_t)(q[6] << 8 | q[7]);
	qm.ns = (uint16_t)(q[8] << 8 | q[9]);
	qm.ar = (uint16_t)(q[10] << 8 | q[11]);
	opcode = (qm.flags >> 11) & 0xf;

	/* defaultMsgAcceptFunc, then serveDNS's reject path. */
	if (qm.flags & F_QR)
		return 0;
	flags = (qm.flags & (F_TC | F_RD | F_RA | F_AD | F_CD)) | F_QR;
	if (opcode != OPCODE_QUERY && opcode != OPCODE_NOTIFY)
		return reply_empty(&qm,
		    flags | (uint16_t)(opcode << 11) | DNS_RCODE_NOTIMP, out, cap);
	if (qm.qd != 1 || qm.an > 1 || qm.ns > 1 || qm.ar > 2 ||
	    query_read(q, qlen, &qm) != 0)
		return reply_empty(&qm, flags | DNS_RCODE_FORMERR, out, cap);

	/* SetReply; Nebula's handler answers only opcode QUERY. */
	flags = F_QR | (uint16_t)(opcode << 11);
	if (opcode != OPCODE_QUERY)
		return reply_empty(&qm, flags, out, cap);
	flags |= qm.flags & (F_RD | F_CD);
	if (!qm.has_q)
		return reply_empty(&qm, flags, out, cap);

	e = NULL;
	if (z != NULL &&
	    (qm.qtype == TYPE_A || (qm.qtype == TYPE_TXT && txt_allowed))) {
		klen = name_key(qm.qname, key);
		if (qm.qtype == TYPE_A)
			e = name_find(z, key, klen, name_hash(key, klen));
		else if (key_vpn_ip(key, klen, &ip))
			t = u32map_get(&z->txt, ip);
	}
	if (e != NULL)
		rdlen = 4;
	else if (t != NULL)
		rdlen = t->len;
	else
		return reply_empty(&qm, flags, out, cap);

	need = HDR_LEN + 2 * qm.qnamelen + 4 + 10 + rdlen;
	limit = DNS_UDP_MIN;
	if (qm.has_opt && qm.opt_size > limit)
		limit = qm.opt_size;
	if (limit > cap)
		limit = cap;
	if (need > limit)
		return reply_empty(&qm, flags | F_TC, out, cap);

	wr_init(&w, out, cap);
	hdr_put(&w, qm.id, flags, 1, 1);
	wr_bytes(&w, qm.qname, qm.qnamelen);
	wr_be16(&w, qm.qtype);
	wr_be16(&w, qm.qclass);
	wr_bytes(&w, qm.qname, qm.qnamelen);
	wr_be16(&w, qm.qtype);
	wr_be16(&w, CLASS_IN);
	wr_be32(&w, DNS_TTL);
	wr_be16(&w, (uint16_t)rdlen);
	if (e != NULL) {
		be32_put(a, e->ip);
		wr_bytes(&w, a, 4);
	} else if (t != NULL) {
		wr_bytes(&w, t->rdata, t->len);
	}
	return w.bad ? 0 : w.off;
}
