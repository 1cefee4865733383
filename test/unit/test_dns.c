/*
 * test/unit/test_dns.c: the DNS responder codec on hand-built queries,
 * with responses parsed back field by field.  Expected values are
 * Nebula 1.6.1's (dns_server.go on miekg/dns v1.1.48).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "dns.h"
#include "err.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define HOST1 IP(192, 168, 100, 10)
#define T_A 1
#define T_TXT 16
#define T_AAAA 28
#define T_OPT 41

static const char cert_txt[] =
    "\"Name: host1\" \"Ips: [192.168.100.10/24]\" \"Subnets []\" "
    "\"Groups [laptop ssh]\" \"NotBefore 2023-01-01 00:00:00 +0000 UTC\" "
    "\"NotAFter 2024-01-01 00:00:00 +0000 UTC\" \"PublicKey 6e6f74\" "
    "\"IsCA false\" \"Issuer 0123abcd\"";

/* ---- query builder ------------------------------------------------ */

struct qb {
	uint8_t b[4096];
	size_t n;
};

static void
qb_u8(struct qb *q, unsigned v)
{
	assert_true(q->n < sizeof(q->b));
	q->b[q->n++] = (uint8_t)v;
}

static void
qb_u16(struct qb *q, unsigned v)
{
	qb_u8(q, v >> 8 & 0xff);
	qb_u8(q, v & 0xff);
}

static void
qb_u32(struct qb *q, uint32_t v)
{
	qb_u16(q, v >> 16);
	qb_u16(q, v & 0xffff);
}

static void
qb_bytes(struct qb *q, const void *p, size_t n)
{
	assert_true(n <= sizeof(q->b) - q->n);
	if (n > 0)
		memcpy(q->b + q->n, p, n);
	q->n += n;
}

static void
qb_hdr(struct qb *q, unsigned id, unsigned flags, unsigned qd, unsigned an,
    unsigned ns, unsigned ar)
{
	q->n = 0;
	qb_u16(q, id);
	qb_u16(q, flags);
	qb_u16(q, qd);
	qb_u16(q, an);
	qb_u16(q, ns);
	qb_u16(q, ar);
}

/* "a.b.c" as labels; "" is the root.  No escapes: a label is what lies
 * between dots. */
static void
qb_name(struct qb *q, const char *s)
{
	const char *d;

	while (*s != '\0') {
		d = strchr(s, '.');
		if (d == NULL)
			d = s + strlen(s);
		qb_u8(q, (unsigned)(d - s));
		qb_bytes(q, s, (size_t)(d - s));
		s = *d == '.' ? d + 1 : d;
	}
	qb_u8(q, 0);
}

static void
qb_label(struct qb *q, const void *p, size_t n)
{
	qb_u8(q, (unsigned)n);
	qb_bytes(q, p, n);
}

/* A standard query, RD set: header, name, type, class IN. */
static void
qb_query(struct qb *q, unsigned id, const char *name, unsigned type)
{
	qb_hdr(q, id, 0x0100, 1, 0, 0, 0);
	qb_name(q, name);
	qb_u16(q, type);
	qb_u16(q, 1);
}

/* An OPT record (root owner) with the given UDP size and option bytes. */
static void
qb_opt(struct qb *q, unsigned size, const void *opts, size_t n)
{
	qb_u8(q, 0);
	qb_u16(q, T_OPT);
	qb_u16(q, size);
	qb_u32(q, 0);
	qb_u16(q, (unsigned)n);
	qb_bytes(q, opts, n);
}

/* ---- response parser ---------------------------------------------- */

struct resp {
	unsigned id, flags, qd, an, ns, ar;
	const uint8_t *qname;
	size_t qnamelen;
	unsigned qtype, qclass;
	const uint8_t *aname;
	size_t anamelen;
	unsigned atype, aclass;
	uint32_t ttl;
	const uint8_t *rdata;
	size_t rdlen;
};

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Responses are never compressed: names are plain labels. */
static size_t
name_len(const uint8_t *p, size_t left)
{
	size_t i = 0;

	while (i < left && p[i] != 0) {
		assert_int_equal(p[i] & 0xc0, 0);
		i += 1 + p[i];
	}
	assert_true(i < left);
	return i + 1;
}

static void
parse_resp(const uint8_t *b, size_t n, struct resp *r)
{
	size_t off = 12;

	memset(r, 0, sizeof(*r));
	assert_true(n >= 12);
	r->id = get16(b);
	r->flags = get16(b + 2);
	r->qd = get16(b + 4);
	r->an = get16(b + 6);
	r->ns = get16(b + 8);
	r->ar = get16(b + 10);
	assert_int_equal(r->ns, 0);
	assert_int_equal(r->ar, 0);
	assert_true(r->qd <= 1 && r->an <= 1);
	if (r->qd == 1) {
		r->qname = b + off;
		r->qnamelen = name_len(b + off, n - off);
		off += r->qnamelen;
		assert_true(n - off >= 4);
		r->qtype = get16(b + off);
		r->qclass = get16(b + off + 2);
		off += 4;
	}
	if (r->an == 1) {
		r->aname = b + off;
		r->anamelen = name_len(b + off, n - off);
		off += r->anamelen;
		assert_true(n - off >= 10);
		r->atype = get16(b + off);
		r->aclass = get16(b + off + 2);
		r->ttl =
		    (uint32_t)get16(b + off + 4) << 16 | get16(b + off + 6);
		r->rdlen = get16(b + off + 8);
		off += 10;
		assert_true(n - off >= r->rdlen);
		r->rdata = b + off;
		off += r->rdlen;
	}
	assert_int_equal(off, n);
}

/* ---- fixtures ------------------------------------------------------ */

static int
setup(void **state)
{
	struct dns_zone *z = dns_zone_new();

	assert_non_null(z);
	assert_int_equal(dns_zone_add(z, "host1", 5, HOST1), 0);
	assert_int_equal(
	    dns_zone_add(z, "web.example", 11, IP(192, 168, 100, 11)), 0);
	assert_int_equal(
	    dns_zone_set_txt(z, HOST1, cert_txt, strlen(cert_txt)), 0);
	*state = z;
	return 0;
}

static int
teardown(void **state)
{
	dns_zone_free(*state);
	return 0;
}

/* Answer q from a heap copy of exactly q->n bytes, so that ASan sees any
 * read past the end. */
static size_t
answer(
    struct dns_zone *z, const struct qb *q, bool txt, uint8_t *out, size_t cap)
{
	uint8_t *copy = malloc(q->n > 0 ? q->n : 1);
	size_t n;

	assert_non_null(copy);
	memcpy(copy, q->b, q->n);
	n = dns_answer(z, copy, q->n, txt, out, cap);
	free(copy);
	return n;
}

/* The response is the header with these flags and counts, and the
 * question echoed from the query's bytes 12.. */
static void
expect_empty(const uint8_t *out, size_t n, const struct qb *q, unsigned flags,
    bool with_question)
{
	struct resp r;

	parse_resp(out, n, &r);
	assert_int_equal(r.id, get16(q->b));
	assert_int_equal(r.flags, flags);
	assert_int_equal(r.an, 0);
	assert_int_equal(r.qd, with_question ? 1 : 0);
	if (with_question)
		assert_memory_equal(out + 12, q->b + 12, n - 12);
}

/* ---- tests --------------------------------------------------------- */

static void
test_dns_a_hit(void **state)
{
	static const uint8_t want_name[] = {5, 'h', 'o', 's', 't', '1', 0};
	struct qb q;
	uint8_t out[512];
	struct resp r;
	size_t n;

	qb_query(&q, 0xbeef, "host1", T_A);
	n = answer(*state, &q, false, out, sizeof(out));
	parse_resp(out, n, &r);
	assert_int_equal(r.id, 0xbeef);
	assert_int_equal(r.flags, 0x8100); /* QR, RD copied; AA/RA clear */
	assert_int_equal(r.qd, 1);
	assert_int_equal(r.an, 1);
	assert_int_equal(r.qnamelen, sizeof(want_name));
	assert_memory_equal(r.qname, want_name, sizeof(want_name));
	assert_int_equal(r.qtype, T_A);
	assert_int_equal(r.qclass, 1);
	assert_int_equal(r.anamelen, sizeof(want_name));
	assert_memory_equal(r.aname, want_name, sizeof(want_name));
	assert_int_equal(r.atype, T_A);
	assert_int_equal(r.aclass, 1);
	assert_int_equal(r.ttl, 3600);
	assert_int_equal(r.rdlen, 4);
	assert_memory_equal(r.rdata, ((uint8_t[]){192, 168, 100, 10}), 4);
	assert_int_equal(n, 12 + 7 + 4 + 7 + 10 + 4);
}

static void
test_dns_a_miss_is_empty_noerror(void **state)
{
	struct qb q;
	uint8_t out[512];
	size_t n;

	qb_query(&q, 1, "nothere", T_A);
	n = answer(*state, &q, true, out, sizeof(out));
	expect_empty(out, n, &q, 0x8100, true); /* not NXDOMAIN */
	qb_query(&q, 2, "host1.example", T_A);
	n = answer(*state, &q, true, out, sizeof(out));
	expect_empty(out, n, &q, 0x8100, true);
	qb_query(&q, 3, "", T_A); /* root */
	n = answer(*state, &q, true, out, sizeof(out));
	expect_empty(out, n, &q, 0x8100, true);
}

static void
test_dns_a_case_sensitive(void **state)
{
	struct qb q;
	uint8_t out[512];
	struct resp r;
	size_t n;

	qb_query(&q, 1, "HOST1", T_A);
	n = answer(*state, &q, false, out, sizeof(out));
	expect_empty(out, n, &q, 0x8100, true);
	qb_query(&q, 1, "Web.Example", T_A);
	n = answer(*state, &q, false, out, sizeof(out));
	expect_empty(out, n, &q, 0x8100, true);
	/* The answer's owner is the question's bytes, whatever the case of
	 * the stored name (here they are the same). */
	qb_query(&q, 1, "web.example", T_A);
	n = answer(*state, &q, false, out, sizeof(out));
	parse_resp(out, n, &r);
	assert_int_equal(r.an, 1);
	assert_memory_equal(r.rdata, ((uint8_t[]){192, 168, 100, 11}), 4);
}

/* Names are compared in miekg's presentation form. */
static void
test_dns_a_presentation_form(void **state)
{
	struct dns_zone *z = *state;
	struct qb q;
	uint8_t out[512];
	struct resp r;
	size_t n;

	assert_int_equal(dns_zone_add(z, "a b", 3, IP(10, 0, 0, 1)), 0);
	assert_int_equal(dns_zone_add(z, "a\\ b", 4, IP(10, 0, 0, 2)), 0);
	assert_int_equal(dns_zone_add(z, "a\\001b", 6, IP(10, 0, 0, 5)), 0);
	assert_int_equal(dns_zone_add(z, "dot\\.in", 7, IP(10, 0, 0, 3)), 0);
	assert_int_equal(dns_zone_add(z, "", 0, IP(10, 0, 0, 4)), 0);

	/* The wire label "a b" reads as "a\ b": only the name with the
	 * literal backslash matches. */
	qb_hdr(&q, 9, 0, 1, 0, 0, 0);
	qb_label(&q, "a b", 3);
	qb_u8(&q, 0);
	qb_u16(&q, T_A);
	qb_u16(&q, 1);
	n = answer(z, &q, false, out, sizeof(out));
	parse_resp(out, n, &r);
	assert_int_equal(r.an, 1);
	assert_memory_equal(r.rdata, ((uint8_t[]){10, 0, 0, 2}), 4);
	assert_int_equal(r.flags, 0x8000);

	/* Bytes outside 0x20-0x7e read as \DDD. */
	qb_hdr(&q, 9, 0, 1, 0, 0, 0);
	qb_label(&q, "a\001b", 3);
	qb_u8(&q, 0);
	qb_u16(&q, T_A);
	qb_u16(&q, 1);
	n = answer(z, &q, false, out, sizeof(out));
	parse_resp(out, n, &r);
	assert_int_equal(r.an, 1);
	assert_memory_equal(r.rdata, ((uint8_t[]){10, 0, 0, 5}), 4);

	/* A single label "dot.in" reads as dot\.in. */
	qb_hdr(&q, 9, 0, 1, 0, 0, 0);
	qb_label(&q, "dot.in", 6);
	qb_u8(&q, 0);
	qb_u16(&q, T_A);
	qb_u16(&q, 1);
	n = answer(z, &q, false, out, sizeof(out));
	parse_resp(out, n, &r);
	assert_int_equal(r.an, 1);
	assert_memory_equal(r.rdata, ((uint8_t[]){10, 0, 0, 3}), 4);

	/* The two-label dot.in does not match dot\.in. */
	qb_query(&q, 9, "dot.in", T_A);
	n = answer(z, &q, false, out, sizeof(out));
	expect_empty(out, n, &q, 0x8100, true);

	/* An empty certificate name is the root ("" + "."). */
	qb_query(&q, 9, "", T_A);
	n = answer(z, &q, false, out, sizeof(out));
	parse_resp(out, n, &r);
	assert_int_equal(r.an, 1);
	assert_int_equal(r.anamelen, 1);
	assert_memory_equal(r.rdata, ((uint8_t[]){10, 0, 0, 4}), 4);
}

static void
test_dns_a_replace_and_class_ignored(void **state)
{
	struct dns_zone *z = *state;
	struct qb q;
	uint8_t out[512];
	struct resp r;
	size_t n;

	assert_int_equal(dns_zone_add(z, "host1", 5, IP(172, 16, 0, 9)), 0);
	qb_hdr(&q, 5, 0x0100, 1, 0, 0, 0);
	qb_name(&q, "host1");
	qb_u16(&q, T_A);
	qb_u16(&q, 3); /* CHAOS: Nebula does not look */
	n = answer(z, &q, false, out, sizeof(out));
	parse_resp(out, n, &r);
	assert_int_equal(r.qclass, 3);
	assert_int_equal(r.an, 1);
	assert_int_equal(r.aclass, 1); /* dns.NewRR's default IN */
	assert_memory_equal(r.rdata, ((uint8_t[]){172, 16, 0, 9}), 4);
}

static void
test_dns_other_types_empty(void **state)
{
	static const unsigned types[] = {T_AAAA, 15, 255, 5, 12, 0, 65535};
	struct qb q;
	uint8_t out[512];
	size_t i, n;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		qb_query(&q, 77, "host1", types[i]);
		n = answer(*state, &q, true, out, sizeof(out));
		expect_empty(out, n, &q, 0x8100, true);
	}
}

/* The character-strings of TXT rdata, joined by '|'. */
static void
txt_strings(const uint8_t *rd, size_t n, char *buf, size_t cap)
{
	size_t off = 0, o = 0, l;

	while (off < n) {
		l = rd[off++];
		assert_true(l <= n - off && o + l + 2 <= cap);
		if (off > 1)
			buf[o++] = '|';
		memcpy(buf + o, rd + off, l);
		o += l;
		off += l;
	}
	buf[o] = '\0';
}

static void
test_dns_txt_allowed(void **state)
{
	static const uint8_t want_name[] = {3, '1', '9', '2', 3, '1', '6', '8',
	    3, '1', '0', '0', 2, '1', '0', 0};
	struct qb q;
	uint8_t out[1024];
	char s[1024];
	struct resp r;
	size_t n;

	qb_query(&q, 0x1111, "192.168.100.10", T_TXT);
	n = answer(*state, &q, true, out, sizeof(out));
	parse_resp(out, n, &r);
	assert_int_equal(r.flags, 0x8100);
	assert_int_equal(r.an, 1);
	assert_int_equal(r.anamelen, sizeof(want_name));
	assert_memory_equal(r.aname, want_name, sizeof(want_name));
	assert_int_equal(r.atype, T_TXT);
	assert_int_equal(r.aclass, 1);
	assert_int_equal(r.ttl, 3600);
	txt_strings(r.rdata, r.rdlen, s, sizeof(s));
	assert_string_equal(s,
	    "Name: host1|Ips: [192.168.100.10/24]|Subnets []|"
	    "Groups [laptop ssh]|NotBefore 2023-01-01 00:00:00 +0000 UTC|"
	    "NotAFter 2024-01-01 00:00:00 +0000 UTC|PublicKey 6e6f74|"
	    "IsCA false|Issuer 0123abcd");
}

static void
test_dns_txt_denied(void **state)
{
	struct qb q;
	uint8_t out[1024];
	size_t n;

	qb_query(&q, 0x2222, "192.168.100.10", T_TXT);
	n = answer(*state, &q, false, out, sizeof(out));
	expect_empty(out, n, &q, 0x8100, true); /* NOERROR, no answer */
}

/* The TXT key is read with Go's net.ParseIP, then its last 4 bytes. */
static void
test_dns_txt_address_forms(void **state)
{
	static const struct {
		const char *name; /* one label unless it has dots */
		bool hit;
	} v[] = {
	    {"192.168.100.10", true},
	    {"::ffff:192.168.100.10", true},
	    {"::ffff:c0a8:640a", true},
	    {"2001:db8::c0a8:640a", true},
	    {"::192.168.100.10", true},
	    {"1:2:3:4:5:6:192.168.100.10", true},
	    {"192.168.100.010", false}, /* leading zero */
	    {"192.168.100.10.1", false},
	    {"192.168.100", false},
	    {"1::2::c0a8:640a", false},
	    {"1:2:3:4:5:6:7:8:9", false},
	    {"::1ffff:c0a8:640a", false},
	    {"host1", false},
	    {"", false},
	};
	struct qb q;
	uint8_t out[1024];
	struct resp r;
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		/* Split at the dots, embedded IPv4 too ("::ffff:192",
		 * "168", ...): the presentation form joins them again. */
		qb_hdr(&q, 1, 0, 1, 0, 0, 0);
		qb_name(&q, v[i].name);
		qb_u16(&q, T_TXT);
		qb_u16(&q, 1);
		n = answer(*state, &q, true, out, sizeof(out));
		parse_resp(out, n, &r);
		if (r.an != (v[i].hit ? 1u : 0u))
			fail_msg("%s: an=%u", v[i].name, r.an);
	}
	/* A single label with literal dots reads 192\.168\.100\.10. */
	qb_hdr(&q, 1, 0, 1, 0, 0, 0);
	qb_label(&q, "192.168.100.10", 14);
	qb_u8(&q, 0);
	qb_u16(&q, T_TXT);
	qb_u16(&q, 1);
	n = answer(*state, &q, true, out, sizeof(out));
	expect_empty(out, n, &q, 0x8000, true);
}

/* dns.NewRR's reading of TXT rdata. */
static void
test_dns_txt_zone_syntax(void **state)
{
	static const struct {
		const char *in;
		int rc;
		const char *strings;
	} v[] = {
	    {"one two", 0, "one|two"},
	    {"\"a b\" c", 0, "a b|c"},
	    {"\"a\\\"b\" c\\065\\ d", 0, "a\"b|cA d"},
	    {"\"\" x", 0, "|x"},
	    {"a\"b\"c", 0, "a|b|c"},
	    {"x ; comment \"", 0, "x"},
	    {"x\ny", 0, "x"},
	    {"( x\n y )", 0, "x|y"},
	    {"\"unterminated", VPN_ERR_INVAL, NULL},
	    {"(x", VPN_ERR_INVAL, NULL},
	    {"x)", VPN_ERR_INVAL, NULL},
	    {"\\# 4 03616263", 0, "abc"},            /* RFC 3597 */
	    {"\\# 4 01020304", VPN_ERR_INVAL, NULL}, /* not TXT strings */
	    {"\\# 3 03616263", VPN_ERR_INVAL, NULL}, /* length */
	    {"( a ;c\n A b )", VPN_ERR_INVAL, NULL},
	};
	struct dns_zone *z = *state;
	struct qb q;
	uint8_t out[1024];
	char s[1024];
	struct resp r;
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(
		    dns_zone_set_txt(z, HOST1, v[i].in, strlen(v[i].in)),
		    v[i].rc);
		qb_query(&q, 1, "192.168.100.10", T_TXT);
		n = answer(z, &q, true, out, sizeof(out));
		parse_resp(out, n, &r);
		if (v[i].strings == NULL) {
			assert_int_equal(r.an, 0); /* old record removed */
			continue;
		}
		assert_int_equal(r.an, 1);
		txt_strings(r.rdata, r.rdlen, s, sizeof(s));
		assert_string_equal(s, v[i].strings);
	}
}

static void
test_dns_txt_long_word_split_and_remove(void **state)
{
	struct dns_zone *z = *state;
	char txt[600];
	struct qb q;
	uint8_t out[1024];
	struct resp r;
	size_t n;

	memset(txt, 'x', 300);
	txt[0] = '"';
	txt[299] = '"';
	assert_int_equal(dns_zone_set_txt(z, HOST1, txt, 300), 0);
	qb_query(&q, 1, "192.168.100.10", T_TXT);
	qb_opt(&q, 1232, NULL, 0);
	q.b[11] = 1; /* ARCOUNT */
	n = answer(z, &q, true, out, sizeof(out));
	parse_resp(out, n, &r);
	assert_int_equal(r.an, 1);
	assert_int_equal(r.rdlen, 1 + 255 + 1 + 43); /* 298 bytes: 255 + 43 */
	assert_int_equal(r.rdata[0], 255);
	assert_int_equal(r.rdata[256], 43);

	assert_int_equal(dns_zone_set_txt(z, HOST1, NULL, 0), 0);
	n = answer(z, &q, true, out, sizeof(out));
	parse_resp(out, n, &r);
	assert_int_equal(r.an, 0);
	/* A token of 2048 bytes is more than miekg's lexer takes. */
	{
		char *big = malloc(3000);

		assert_non_null(big);
		memset(big, 'y', 3000);
		assert_int_equal(dns_zone_set_txt(z, HOST1, big, 2047), 0);
		assert_int_equal(
		    dns_zone_set_txt(z, HOST1, big, 2048), VPN_ERR_INVAL);
		free(big);
	}
}

static void
test_dns_flags_copied_and_cleared(void **state)
{
	struct qb q;
	uint8_t out[512];
	struct resp r;
	size_t n;

	/* AA TC RD RA Z AD CD and rcode 15 in the query: only RD and CD
	 * survive. */
	qb_query(&q, 3, "host1", T_A);
	q.b[2] = 0x07;
	q.b[3] = 0xff;
	n = answer(*state, &q, false, out, sizeof(out));
	parse_resp(out, n, &r);
	assert_int_equal(r.flags, 0x8110);
	assert_int_equal(r.an, 1);

	/* No RD: none in the reply. */
	qb_query(&q, 3, "host1", T_A);
	q.b[2] = 0;
	n = answer(*state, &q, false, out, sizeof(out));
	parse_resp(out, n, &r);
	assert_int_equal(r.flags, 0x8000);
}

static void
test_dns_response_is_ignored(void **state)
{
	struct qb q;
	uint8_t out[512];

	qb_query(&q, 3, "host1", T_A);
	q.b[2] |= 0x80; /* QR */
	assert_int_equal(answer(*state, &q, false, out, sizeof(out)), 0);
}

static void
test_dns_opcodes(void **state)
{
	struct qb q;
	uint8_t out[512];
	size_t n;
	unsigned op;

	for (op = 0; op < 16; op++) {
		qb_query(&q, 0x4000 + op, "host1", T_A);
		q.b[2] = (uint8_t)(op << 3 | 0x07); /* AA TC RD */
		q.b[3] = 0xb0;                      /* RA AD CD */
		n = answer(*state, &q, false, out, sizeof(out));
		if (op == 0) {
			struct resp r;

			parse_resp(out, n, &r);
			assert_int_equal(r.an, 1);
			assert_int_equal(r.flags, 0x8110);
		} else if (op == 4) {
			/* NOTIFY: SetReply, no RD/CD, no answer. */
			expect_empty(out, n, &q, 0x8000 | 4 << 11, true);
		} else {
			/* NOTIMP, opcode kept, TC RD RA AD CD copied. */
			expect_empty(
			    out, n, &q, 0x8000 | op << 11 | 0x03b0 | 4, false);
		}
	}
}

static void
test_dns_counts(void **state)
{
	static const unsigned bad[][4] = {{0, 0, 0, 0}, {2, 0, 0, 0},
	    {1, 2, 0, 0}, {1, 0, 2, 0}, {1, 0, 0, 3}, {65535, 0, 0, 0}};
	struct qb q;
	uint8_t out[512];
	struct resp r;
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		qb_hdr(&q, 0x55, 0x0110, bad[i][0], bad[i][1], bad[i][2],
		    bad[i][3]);
		qb_name(&q, "host1");
		qb_u16(&q, T_A);
		qb_u16(&q, 1);
		n = answer(*state, &q, false, out, sizeof(out));
		/* FORMERR, opcode QUERY, RD CD copied, no question. */
		expect_empty(out, n, &q, 0x8111, false);
	}
	/* Counts that promise records that are not there are fine. */
	qb_hdr(&q, 0x56, 0x0100, 1, 1, 1, 2);
	qb_name(&q, "host1");
	qb_u16(&q, T_A);
	qb_u16(&q, 1);
	n = answer(*state, &q, false, out, sizeof(out));
	parse_resp(out, n, &r);
	assert_int_equal(r.an, 1);
}

static void
test_dns_short_messages(void **state)
{
	struct qb q;
	uint8_t out[512];
	size_t n, cut, full;

	/* Under 12 bytes: nothing. */
	qb_query(&q, 0x77, "host1", T_A);
	full = q.n;
	for (cut = 0; cut < 12; cut++) {
		q.n = cut;
		assert_int_equal(
		    answer(*state, &q, false, out, sizeof(out)), 0);
	}
	/* Just the header: NOERROR without a question. */
	q.n = 12;
	n = answer(*state, &q, false, out, sizeof(out));
	expect_empty(out, n, &q, 0x8100, false);
	/* Inside the name: FORMERR. */
	for (cut = 13; cut < 19; cut++) {
		q.n = cut;
		n = answer(*state, &q, false, out, sizeof(out));
		expect_empty(out, n, &q, 0x8101, false);
	}
	/* The name alone: qtype and qclass read as 0, NOERROR. */
	q.n = 19;
	n = answer(*state, &q, false, out, sizeof(out));
	{
		static const uint8_t tail[4] = {0, 0, 0, 0};
		struct resp r;

		parse_resp(out, n, &r);
		assert_int_equal(r.flags, 0x8100);
		assert_int_equal(r.qd, 1);
		assert_memory_equal(out + 12 + 7, tail, 4);
	}
	/* One byte of qtype: FORMERR. */
	q.n = 20;
	n = answer(*state, &q, false, out, sizeof(out));
	expect_empty(out, n, &q, 0x8101, false);
	/* qtype, and one byte of qclass: qclass reads as 0, answered. */
	q.n = 22;
	n = answer(*state, &q, false, out, sizeof(out));
	{
		struct resp r;

		parse_resp(out, n, &r);
		assert_int_equal(r.qtype, T_A);
		assert_int_equal(r.qclass, 0);
		assert_int_equal(r.an, 1);
	}
	q.n = full;
}

static void
test_dns_bad_names(void **state)
{
	struct qb q;
	uint8_t out[512];
	uint8_t lab[63];
	size_t n, i;

	memset(lab, 'a', sizeof(lab));
	/* Label length past the end of the message. */
	qb_hdr(&q, 1, 0x0100, 1, 0, 0, 0);
	qb_u8(&q, 40);
	qb_bytes(&q, "host1", 5);
	n = answer(*state, &q, false, out, sizeof(out));
	expect_empty(out, n, &q, 0x8101, false);
	/* Label types 01 and 10 (0x40, 0x80). */
	for (i = 0; i < 2; i++) {
		qb_hdr(&q, 1, 0x0100, 1, 0, 0, 0);
		qb_u8(&q, i == 0 ? 0x40 : 0x80);
		qb_u8(&q, 0);
		qb_u16(&q, T_A);
		qb_u16(&q, 1);
		n = answer(*state, &q, false, out, sizeof(out));
		expect_empty(out, n, &q, 0x8101, false);
	}
	/* 255 octets is the limit: 63+1 x3, 61+1, root = 255. */
	qb_hdr(&q, 1, 0x0100, 1, 0, 0, 0);
	for (i = 0; i < 3; i++)
		qb_label(&q, lab, 63);
	qb_label(&q, lab, 61);
	qb_u8(&q, 0);
	qb_u16(&q, T_A);
	qb_u16(&q, 1);
	n = answer(*state, &q, false, out, sizeof(out));
	expect_empty(out, n, &q, 0x8100, true);
	/* 256 octets. */
	qb_hdr(&q, 1, 0x0100, 1, 0, 0, 0);
	for (i = 0; i < 3; i++)
		qb_label(&q, lab, 63);
	qb_label(&q, lab, 62);
	qb_u8(&q, 0);
	qb_u16(&q, T_A);
	qb_u16(&q, 1);
	n = answer(*state, &q, false, out, sizeof(out));
	expect_empty(out, n, &q, 0x8101, false);
}

static void
test_dns_compression_pointers(void **state)
{
	static const uint8_t host1[] = {5, 'h', 'o', 's', 't', '1', 0};
	struct qb q;
	uint8_t out[512];
	struct resp r;
	size_t n, i, k;

	/* A pointer to itself. */
	qb_hdr(&q, 1, 0x0100, 1, 0, 0, 0);
	qb_u16(&q, 0xc00c);
	qb_u16(&q, T_A);
	qb_u16(&q, 1);
	n = answer(*state, &q, false, out, sizeof(out));
	expect_empty(out, n, &q, 0x8101, false);
	/* A label, then a pointer back to it: loop. */
	qb_hdr(&q, 1, 0x0100, 1, 0, 0, 0);
	qb_label(&q, "host1", 5);
	qb_u16(&q, 0xc00c);
	qb_u16(&q, T_A);
	qb_u16(&q, 1);
	n = answer(*state, &q, false, out, sizeof(out));
	expect_empty(out, n, &q, 0x8101, false);
	/* Pointing past the end. */
	qb_hdr(&q, 1, 0x0100, 1, 0, 0, 0);
	qb_u16(&q, 0xc0ff);
	qb_u16(&q, T_A);
	qb_u16(&q, 1);
	n = answer(*state, &q, false, out, sizeof(out));
	expect_empty(out, n, &q, 0x8101, false);
	/* A forward pointer is allowed; the reply spells the name out. */
	qb_hdr(&q, 1, 0x0100, 1, 0, 0, 0);
	qb_u16(&q, 0xc012); /* to offset 18 */
	qb_u16(&q, T_A);
	qb_u16(&q, 1);
	qb_label(&q, "host1", 5);
	qb_u8(&q, 0);
	n = answer(*state, &q, false, out, sizeof(out));
	parse_resp(out, n, &r);
	assert_int_equal(r.an, 1);
	assert_int_equal(r.qnamelen, sizeof(host1));
	assert_memory_equal(r.qname, host1, sizeof(host1));
	assert_memory_equal(r.aname, host1, sizeof(host1));
	/* Chains of k pointers: 126 are followed, 127 are not. */
	for (k = 125; k <= 127; k++) {
		qb_hdr(&q, 1, 0x0100, 1, 0, 0, 0);
		qb_u16(&q, 0xc000 | 18); /* question name: pointer 1 */
		qb_u16(&q, T_A);
		qb_u16(&q, 1);
		for (i = 1; i < k; i++)
			qb_u16(&q, (unsigned)(0xc000 | (18 + 2 * i)));
		qb_label(&q, "host1", 5);
		qb_u8(&q, 0);
		n = answer(*state, &q, false, out, sizeof(out));
		parse_resp(out, n, &r);
		assert_int_equal(r.flags & 0xf, k <= 126 ? 0 : 1);
		assert_int_equal(r.an, k <= 126 ? 1 : 0);
	}
}

static void
test_dns_edns_not_echoed(void **state)
{
	static const uint8_t cookie[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
	struct qb q;
	uint8_t out[512];
	struct resp r;
	size_t n;

	qb_query(&q, 0x99, "host1", T_A);
	q.b[11] = 1;
	qb_opt(&q, 1232, cookie, sizeof(cookie));
	n = answer(*state, &q, false, out, sizeof(out));
	parse_resp(out, n, &r); /* checks ARCOUNT 0 */
	assert_int_equal(r.an, 1);
	assert_int_equal(r.flags, 0x8100);
}

static void
test_dns_edns_bad_option_formerr(void **state)
{
	static const uint8_t bad[][8] = {
	    {0, 8, 0, 4, 0, 3, 0, 0},  /* ECS family 3 */
	    {0, 8, 0, 4, 0, 1, 33, 0}, /* ECS /33 */
	    {0, 11, 0, 1, 0, 0, 0, 0}, /* keepalive length 1 (+pad) */
	    {0, 10, 0, 9, 0, 0, 0, 0}, /* option overruns */
	};
	static const size_t len[] = {8, 8, 5, 8};
	struct qb q;
	uint8_t out[512];
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		qb_query(&q, 0x98, "host1", T_A);
		q.b[11] = 1;
		qb_opt(&q, 1232, bad[i], len[i]);
		n = answer(*state, &q, false, out, sizeof(out));
		/* FORMERR keeps the question that did parse. */
		expect_empty(out, n, &q, 0x8101, true);
	}
}

static void
test_dns_other_records(void **state)
{
	struct qb q;
	uint8_t out[512];
	struct resp r;
	size_t n;

	/* An A record with 3 bytes of rdata in the answer section. */
	qb_query(&q, 0x97, "host1", T_A);
	q.b[7] = 1;
	qb_u8(&q, 0);
	qb_u16(&q, T_A);
	qb_u16(&q, 1);
	qb_u32(&q, 0);
	qb_u16(&q, 3);
	qb_bytes(&q, "abc", 3);
	n = answer(*state, &q, false, out, sizeof(out));
	expect_empty(out, n, &q, 0x8101, true);
	/* RDLENGTH past the end. */
	qb_query(&q, 0x97, "host1", T_A);
	q.b[9] = 1;
	qb_u8(&q, 0);
	qb_u16(&q, 99);
	qb_u16(&q, 1);
	qb_u32(&q, 0);
	qb_u16(&q, 30);
	qb_bytes(&q, "abc", 3);
	n = answer(*state, &q, false, out, sizeof(out));
	expect_empty(out, n, &q, 0x8101, true);
	/* A well-formed record, then trailing garbage: fine. */
	qb_query(&q, 0x97, "host1", T_A);
	q.b[9] = 1;
	qb_u8(&q, 0);
	qb_u16(&q, T_AAAA);
	qb_u16(&q, 1);
	qb_u32(&q, 0);
	qb_u16(&q, 16);
	qb_bytes(&q, "0123456789abcdefXYZ", 19);
	n = answer(*state, &q, false, out, sizeof(out));
	parse_resp(out, n, &r);
	assert_int_equal(r.an, 1);
}

/* Only the first 512 bytes of a datagram are read. */
static void
test_dns_query_read_as_512_bytes(void **state)
{
	uint8_t pad[600];
	struct qb q;
	uint8_t out[512];
	struct resp r;
	size_t n;

	memset(pad, 0, sizeof(pad));
	/* An OPT whose padding option reaches byte 540: cut at 512, the
	 * option overruns, FORMERR. */
	qb_query(&q, 0x96, "host1", T_A);
	q.b[11] = 1;
	pad[0] = 0;
	pad[1] = 12; /* padding */
	pad[2] = (uint8_t)((500 - 4) >> 8);
	pad[3] = (uint8_t)(500 - 4);
	qb_opt(&q, 1232, pad, 500);
	assert_true(q.n > 512);
	n = answer(*state, &q, false, out, sizeof(out));
	expect_empty(out, n, &q, 0x8101, true);
	/* Garbage after byte 512 is never looked at. */
	qb_query(&q, 0x95, "host1", T_A);
	qb_bytes(&q, pad, 600);
	q.b[q.n - 1] = 0xff;
	n = answer(*state, &q, false, out, sizeof(out));
	parse_resp(out, n, &r);
	assert_int_equal(r.an, 1);
}

static void
test_dns_truncation(void **state)
{
	struct dns_zone *z = *state;
	char name[300];
	uint8_t lab[63];
	struct qb q;
	uint8_t out[1024];
	struct resp r;
	size_t n, i, qlen;

	/* A 254-octet name: the A answer is 538 bytes. */
	memset(lab, 'a', sizeof(lab));
	memset(name, 'a', sizeof(name));
	name[63] = name[127] = name[191] = '.';
	name[252] = '\0';
	assert_int_equal(dns_zone_add(z, name, 252, IP(10, 1, 2, 3)), 0);
	qb_hdr(&q, 0x94, 0x0100, 1, 0, 0, 0);
	for (i = 0; i < 3; i++)
		qb_label(&q, lab, 63);
	qb_label(&q, lab, 60);
	qb_u8(&q, 0);
	qb_u16(&q, T_A);
	qb_u16(&q, 1);
	qlen = q.n;
	/* Without EDNS: TC, no answer. */
	n = answer(z, &q, false, out, sizeof(out));
	expect_empty(out, n, &q, 0x8300, true);
	/* EDNS 1232: the full answer. */
	q.b[11] = 1;
	qb_opt(&q, 1232, NULL, 0);
	n = answer(z, &q, false, out, sizeof(out));
	assert_int_equal(n, 12 + 254 + 4 + 254 + 14);
	parse_resp(out, n, &r);
	assert_int_equal(r.an, 1);
	assert_memory_equal(r.rdata, ((uint8_t[]){10, 1, 2, 3}), 4);
	/* EDNS below 512 counts as 512. */
	q.n = qlen;
	qb_opt(&q, 100, NULL, 0);
	n = answer(z, &q, false, out, sizeof(out));
	parse_resp(out, n, &r);
	assert_int_equal(r.flags, 0x8300);
	/* The caller's buffer limits too; too small for even the question:
	 * nothing. */
	q.n = qlen;
	qb_opt(&q, 4096, NULL, 0);
	n = answer(z, &q, false, out, 538);
	assert_int_equal(n, 538);
	n = answer(z, &q, false, out, 537);
	parse_resp(out, n, &r);
	assert_int_equal(r.flags, 0x8300);
	assert_int_equal(n, 12 + 254 + 4);
	assert_int_equal(answer(z, &q, false, out, 12 + 254 + 3), 0);
	assert_int_equal(answer(z, &q, false, out, 0), 0);
}

/* Every prefix of a few queries, from exact-size heap buffers (ASan
 * checks the reads), with every output capacity up to the answer. */
static void
test_dns_never_overreads(void **state)
{
	struct qb q;
	uint8_t out[600];
	size_t cut, cap, n, full;

	qb_query(&q, 0x93, "192.168.100.10", T_TXT);
	q.b[11] = 2;
	qb_opt(&q, 1232, "\0\12\0\10abcdefgh", 12);
	qb_opt(&q, 4096, NULL, 0);
	full = q.n;
	for (cut = 0; cut <= full; cut++) {
		q.n = cut;
		n = answer(*state, &q, true, out, sizeof(out));
		assert_true(n <= sizeof(out));
	}
	q.n = full;
	n = answer(*state, &q, true, out, sizeof(out));
	assert_true(n > 0);
	for (cap = 0; cap <= n; cap++) {
		uint8_t *o = malloc(cap > 0 ? cap : 1);

		assert_non_null(o);
		assert_true(dns_answer(*state, q.b, q.n, true, o, cap) <= cap);
		free(o);
	}
}

/* 100,000 hosts: every one answers, and a lookup is a hash probe. */
static void
test_dns_many_hosts(void **state)
{
	struct dns_zone *z = dns_zone_new();
	char name[32];
	struct qb q;
	uint8_t out[512];
	struct resp r;
	uint32_t i;
	size_t n;

	(void)state;
	assert_non_null(z);
	for (i = 0; i < 100000; i++) {
		n = (size_t)snprintf(name, sizeof(name), "host%u", i);
		assert_int_equal(dns_zone_add(z, name, n, 0x0a000000 + i), 0);
	}
	for (i = 0; i < 100000; i += 997) {
		snprintf(name, sizeof(name), "host%u", i);
		qb_query(&q, i & 0xffff, name, T_A);
		n = answer(z, &q, false, out, sizeof(out));
		parse_resp(out, n, &r);
		assert_int_equal(r.an, 1);
		assert_int_equal(
		    (uint32_t)r.rdata[2] << 8 | r.rdata[3], i & 0xffff);
	}
	dns_zone_free(z);
	dns_zone_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_dns_a_hit, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_a_miss_is_empty_noerror, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_a_case_sensitive, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_a_presentation_form, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_a_replace_and_class_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_other_types_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_txt_allowed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_txt_denied, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_txt_address_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_txt_zone_syntax, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_txt_long_word_split_and_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_flags_copied_and_cleared, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_response_is_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dns_opcodes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dns_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_short_messages, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_bad_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_compression_pointers, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_edns_not_echoed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_edns_bad_option_formerr, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_other_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_query_read_as_512_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_truncation, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dns_never_overreads, setup, teardown),
	    cmocka_unit_test(test_dns_many_hosts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
