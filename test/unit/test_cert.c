/* test/unit/test_cert.c: Nebula v1 certificate codec, signature, checks. */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "crypto.h"
#include "err.h"
#include "ipaddr.h"
#include "pb.h"
#include "pem.h"
#include "wire.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define FIXTURES "fixtures/nebula-1.6.1/"

/* --- helpers ----------------------------------------------------------- */

/* Concatenate hex strings (NULL-terminated list) into a malloc'd buffer. */
static uint8_t *
hexcat(size_t *len, ...)
{
	va_list ap;
	const char *h;
	uint8_t *b;
	size_t n = 0;

	va_start(ap, len);
	while ((h = va_arg(ap, const char *)) != NULL)
		n += strlen(h) / 2;
	va_end(ap);
	b = malloc(n > 0 ? n : 1);
	assert_non_null(b);
	n = 0;
	va_start(ap, len);
	while ((h = va_arg(ap, const char *)) != NULL) {
		tu_unhex(h, b + n, strlen(h) / 2);
		n += strlen(h) / 2;
	}
	va_end(ap);
	*len = n;
	return b;
}

/* The DER of a fixture certificate (its first PEM block). */
static uint8_t *
load_der(const char *name, size_t *len)
{
	struct pem_block b;
	size_t flen, used;
	uint8_t *d;
	char *s;

	s = tu_fixture(name, &flen);
	assert_int_equal(pem_decode_type(s, flen, PEM_CERT, &b, &used), 0);
	d = malloc(b.len);
	assert_non_null(d);
	memcpy(d, b.data, b.len);
	*len = b.len;
	pem_block_clear(&b);
	free(s);
	return d;
}

static void
load_ed25519_key(const char *name, uint8_t k[64])
{
	size_t len;
	char *s;

	s = tu_fixture(name, &len);
	assert_int_equal(pem_ed25519_private(s, len, k, NULL), 0);
	free(s);
}

static void
load_x25519_key(const char *name, uint8_t k[32])
{
	size_t len;
	char *s;

	s = tu_fixture(name, &len);
	assert_int_equal(pem_x25519_private(s, len, k, NULL), 0);
	free(s);
}

/* RawNebulaCertificate { Details = d; Signature = sig (if any) } */
static uint8_t *
wrap(const uint8_t *d, size_t dlen, const uint8_t *sig, size_t siglen,
    size_t *outlen)
{
	size_t cap = dlen + siglen + 32;
	uint8_t *b = malloc(cap);
	struct wr w;

	assert_non_null(b);
	wr_init(&w, b, cap);
	pb_put_bytes(&w, 1, d, dlen);
	if (sig != NULL)
		pb_put_bytes(&w, 2, sig, siglen);
	assert_false(w.bad);
	*outlen = w.off;
	return b;
}

/* Decode d as details wrapped in a certificate without signature. */
static int
unmarshal_details(const uint8_t *d, size_t dlen, struct cert **out)
{
	uint8_t *b;
	size_t len;
	int r;

	b = wrap(d, dlen, NULL, 0, &len);
	r = cert_unmarshal(b, len, out);
	free(b);
	return r;
}

static void
net(const char *s, struct ip4net *n)
{
	if (ip4net_parse(s, n) != 0)
		fail_msg("bad CIDR %s in test", s);
}

/* --- fixture data ------------------------------------------------------ */

#define CA_PUB "828cb561ad13e3c0a1b13a48e77889afca1f75868c9c0120ed2504e9889463a8"
#define CA_FP "e82a24ed49c6df9add385663af24e706f6eaca699494e6e78fc9a08720f43bcd"
#define HOST_A_PUB                                                             \
	"31558d22e41813ee8d73d466ae0d4c1d90528d0dd3f2e5ce9d25c9def68cd91c"
#define HOST_A_SIG                                                             \
	"9751a2a2497fa5e7e75cdc656b04115a6baeb4880559b95e92ae1d62072860c0"    \
	"7d39f3c6aca5aab377d8f570cf3e3bfc0998f9869f8922b09e84ca1f6e90c803"

/* certificate.md 6, field by field */
#define D_NAME "0a06686f73742d61"
#define D_IPS "120a8ac8a1850c80feffff0f"
#define D_SUBNETS "1a128082a05680feffff0f8080a4568080fcff0f"
#define D_GROUPS "220773657276657273" "2203776562"
#define D_NB "28aaf089d806"
#define D_NA "30a9fce98409"
#define D_PK "3a20" HOST_A_PUB
#define D_ISS "4a20" CA_FP
#define HOST_A_DETAILS D_NAME D_IPS D_SUBNETS D_GROUPS D_NB D_NA D_PK D_ISS

#define T_CA_NB 1795323946	 /* 2026-11-22T05:05:46Z */
#define T_CA_NA 2426043946	 /* 2046-11-17T05:05:46Z */
#define T_HOST_NA 2426043945 /* one second before the CA */
#define NOW 1893456000		 /* 2030-01-01 */

static const struct {
	const char *file;
	const char *fp;
	const char *ca; /* the issuer's file, NULL for a CA */
} fixtures[] = {
    {"ca.crt", CA_FP, NULL},
    {"ca2.crt",
        "a197d098205e30755a4206395c361555a648ed1a3b1e632d261b57ce9e66662f",
        NULL},
    {"ca-expired.crt",
        "d2c80e2cc0c01f95192cb354a3d506ff09774d39b8877cd5ee6198e423273459",
        NULL},
    {"lighthouse.crt",
        "354d7d5eebd694f3cd96f3a739da9033f7637b5b9a54f014cce3e2e33544f3a6",
        "ca.crt"},
    {"host-a.crt",
        "139bdde9078a62dce098b5a727e3afdb2e5545b168e1f93742b236b8041afd7c",
        "ca.crt"},
    {"host-b.crt",
        "7a8c52986a6ba0a67446460a6f2df666926a55c8cfd52602bea28c524c6c86c5",
        "ca.crt"},
    {"expired.crt",
        "e9e276b4161eb586ddb3f7fb5c3145ae7dd3757d0d01c4aa35326e26d6ac8e93",
        "ca.crt"},
    {"other-host.crt",
        "72c46175ac5034bba321199a0c4f94eb977c8397677df7081e23e94ceb1ae898",
        "ca2.crt"},
};

/* --- decoding and re-encoding the fixtures ----------------------------- */

static void
test_cert_fixtures_remarshal_identically(void **state)
{
	struct cert *c;
	uint8_t *der, *out;
	size_t i, len, olen;

	(void)state;
	for (i = 0; i < NELEM(fixtures); i++) {
		der = load_der(fixtures[i].file, &len);
		if (cert_unmarshal(der, len, &c) != 0)
			fail_msg("%s: unmarshal failed", fixtures[i].file);
		assert_int_equal(cert_marshal(c, 0, &out, &olen), 0);
		if (olen != len || memcmp(out, der, len) != 0)
			fail_msg("%s: re-marshal differs", fixtures[i].file);
		free(out);
		cert_free(c);
		free(der);
	}
}

static void
test_cert_fixtures_fingerprints(void **state)
{
	char hex[CERT_FP_HEXLEN], dhex[CERT_FP_HEXLEN];
	uint8_t fp[CERT_FP_LEN], dfp[32], *der;
	struct cert *c;
	size_t i, len;

	(void)state;
	for (i = 0; i < NELEM(fixtures); i++) {
		der = load_der(fixtures[i].file, &len);
		assert_int_equal(cert_unmarshal(der, len, &c), 0);
		assert_int_equal(cert_fingerprint_hex(c, hex), 0);
		if (strcmp(hex, fixtures[i].fp) != 0)
			fail_msg("%s: fingerprint %s", fixtures[i].file, hex);
		assert_int_equal(cert_fingerprint(c, fp), 0);
		/* the fingerprint is the SHA-256 of the DER */
		crypto_sha256(der, len, dfp);
		assert_memory_equal(fp, dfp, 32);
		hex_encode(dfp, 32, dhex);
		assert_string_equal(dhex, fixtures[i].fp);
		cert_free(c);
		free(der);
	}
}

static void
test_cert_fixtures_pem_round_trip(void **state)
{
	struct cert *c;
	size_t i, len, used, plen;
	char *s, *pem;

	(void)state;
	for (i = 0; i < NELEM(fixtures); i++) {
		s = tu_fixture(fixtures[i].file, &len);
		used = 0;
		assert_int_equal(cert_from_pem(s, len, &c, &used), 0);
		assert_int_equal(used, len);
		pem = cert_to_pem(c, &plen);
		assert_non_null(pem);
		if (plen != len || memcmp(pem, s, len) != 0)
			fail_msg("%s: cert_to_pem differs", fixtures[i].file);
		free(pem);
		cert_free(c);
		free(s);
	}
}

static void
test_cert_fixtures_signatures(void **state)
{
	struct cert *c, *ca, *ca1, *ca2, *wrong;
	size_t i;

	(void)state;
	ca1 = tu_load_cert("ca.crt");
	ca2 = tu_load_cert("ca2.crt");
	for (i = 0; i < NELEM(fixtures); i++) {
		c = tu_load_cert(fixtures[i].file);
		if (fixtures[i].ca == NULL)
			ca = c; /* self-signed */
		else if (strcmp(fixtures[i].ca, "ca.crt") == 0)
			ca = ca1;
		else
			ca = ca2;
		wrong = strcmp(fixtures[i].file, "ca2.crt") == 0 || ca == ca2 ?
		    ca1 :
		    ca2;
		if (!cert_check_signature(c, ca->pubkey, ca->pubkey_len))
			fail_msg("%s: signature does not verify",
			    fixtures[i].file);
		if (cert_check_signature(c, wrong->pubkey, wrong->pubkey_len))
			fail_msg("%s: verifies with another CA's key",
			    fixtures[i].file);
		cert_free(c);
	}
	cert_free(ca2);
	cert_free(ca1);
}

static void
test_cert_host_a_fields(void **state)
{
	uint8_t want[32];
	char buf[IP4NET_STRLEN];
	struct cert *c;

	(void)state;
	c = tu_load_cert("host-a.crt");
	assert_string_equal(c->name.s, "host-a");
	assert_int_equal(c->name.len, 6);
	assert_int_equal(c->nips, 1);
	ip4net_format(&c->ips[0], buf);
	assert_string_equal(buf, "192.168.100.10/24");
	assert_int_equal(c->nsubnets, 2);
	ip4net_format(&c->subnets[0], buf);
	assert_string_equal(buf, "10.200.1.0/24");
	ip4net_format(&c->subnets[1], buf);
	assert_string_equal(buf, "10.201.0.0/16");
	assert_int_equal(c->ngroups, 2);
	assert_string_equal(c->groups[0].s, "servers");
	assert_string_equal(c->groups[1].s, "web");
	assert_true(c->not_before == T_CA_NB);
	assert_true(c->not_after == T_HOST_NA);
	assert_false(c->is_ca);
	assert_int_equal(c->pubkey_len, 32);
	tu_unhex(HOST_A_PUB, want, 32);
	assert_memory_equal(c->pubkey, want, 32);
	assert_int_equal(c->issuer_len, 32);
	tu_unhex(CA_FP, want, 32);
	assert_memory_equal(c->issuer, want, 32);
	assert_int_equal(c->sig_len, 64);
	cert_free(c);

	c = tu_load_cert("ca2.crt");
	assert_true(c->is_ca);
	assert_int_equal(c->issuer_len, 0);
	assert_int_equal(c->nips, 1);
	ip4net_format(&c->ips[0], buf);
	assert_string_equal(buf, "10.50.0.0/16");
	assert_int_equal(c->ngroups, 2);
	assert_string_equal(c->groups[0].s, "ops");
	assert_string_equal(c->groups[1].s, "dev");
	assert_true(c->not_after == T_CA_NA);
	cert_free(c);
}

/* certificate.md 6: the 134 details bytes of host-a. */
static void
test_cert_host_a_details_encoding(void **state)
{
	uint8_t *want, *d;
	size_t wlen, dlen;
	struct cert *c;

	(void)state;
	want = hexcat(&wlen, HOST_A_DETAILS, NULL);
	assert_int_equal(wlen, 134);
	c = tu_load_cert("host-a.crt");
	assert_int_equal(cert_marshal_details(c, &d, &dlen), 0);
	assert_int_equal(dlen, 134);
	assert_memory_equal(d, want, 134);
	free(d);
	cert_free(c);
	free(want);
}

/* Build host-a field by field: the same 134 bytes, the same 203. */
static void
test_cert_build_host_a_with_setters(void **state)
{
	uint8_t pub[32], iss[32], *want, *d, *der, *out;
	size_t wlen, dlen, derlen, olen;
	struct ip4net n;
	struct cert *c;
	char hex[CERT_FP_HEXLEN];

	(void)state;
	c = cert_new();
	assert_non_null(c);
	assert_int_equal(cert_set_name(c, "host-a", 6), 0);
	net("192.168.100.10/24", &n);
	assert_int_equal(cert_add_ip(c, &n), 0);
	net("10.200.1.0/24", &n);
	assert_int_equal(cert_add_subnet(c, &n), 0);
	net("10.201.0.0/16", &n);
	assert_int_equal(cert_add_subnet(c, &n), 0);
	assert_int_equal(cert_add_group(c, "servers", 7), 0);
	assert_int_equal(cert_add_group(c, "web", 3), 0);
	c->not_before = T_CA_NB;
	c->not_after = T_HOST_NA;
	tu_unhex(HOST_A_PUB, pub, 32);
	assert_int_equal(cert_set_pubkey(c, pub, 32), 0);
	tu_unhex(CA_FP, iss, 32);
	assert_int_equal(cert_set_issuer(c, iss, 32), 0);

	want = hexcat(&wlen, HOST_A_DETAILS, NULL);
	assert_int_equal(cert_marshal_details(c, &d, &dlen), 0);
	assert_int_equal(dlen, wlen);
	assert_memory_equal(d, want, wlen);

	c->sig = malloc(64);
	assert_non_null(c->sig);
	tu_unhex(HOST_A_SIG, c->sig, 64);
	c->sig_len = 64;
	der = load_der("host-a.crt", &derlen);
	assert_int_equal(cert_marshal(c, 0, &out, &olen), 0);
	assert_int_equal(olen, 203);
	assert_memory_equal(out, der, derlen);
	assert_int_equal(cert_fingerprint_hex(c, hex), 0);
	assert_string_equal(hex, fixtures[4].fp);

	free(out);
	free(der);
	free(d);
	free(want);
	cert_free(c);
}

static void
test_cert_empty_cert_marshals_details(void **state)
{
	struct cert *c;
	uint8_t *out;
	size_t len;

	(void)state;
	c = cert_new();
	assert_non_null(c);
	assert_int_equal(cert_marshal(c, 0, &out, &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(out, "\x0a\x00", 2); /* Details always present */
	free(out);
	assert_int_equal(cert_marshal_details(c, &out, &len), 0);
	assert_int_equal(len, 0);
	free(out);
	cert_free(c);
	cert_free(NULL);
}

/* The handshake form: field 7 left out, signature kept. */
static void
test_cert_nopubkey_form(void **state)
{
	uint8_t *der, *out, *want, *back, sig[64];
	size_t derlen, olen, wlen, blen;
	struct cert *c, *ca, *nk;

	(void)state;
	der = load_der("host-a.crt", &derlen);
	assert_int_equal(cert_unmarshal(der, derlen, &c), 0);
	assert_int_equal(cert_marshal(c, CERT_NO_PUBKEY, &out, &olen), 0);
	/* 100 details bytes (134 - 34 for field 7), 2-byte header */
	assert_int_equal(olen, 2 + 100 + 2 + 64);
	assert_memory_equal(out, "\x0a\x64", 2);
	tu_unhex(HOST_A_SIG, sig, 64);
	want = hexcat(&wlen, "0a64", D_NAME D_IPS D_SUBNETS D_GROUPS D_NB D_NA
	    D_ISS, "1240", HOST_A_SIG, NULL);
	assert_int_equal(olen, wlen);
	assert_memory_equal(out, want, wlen);

	/* the strict decoder wants a key; the handshake decoder does not */
	nk = (struct cert *)1;
	assert_int_equal(cert_unmarshal(out, olen, &nk),
	    VPN_ERR_CERT_SHORT_KEY);
	assert_null(nk);
	assert_int_equal(cert_unmarshal_nokey(out, olen, &nk), 0);
	assert_int_equal(nk->pubkey_len, 0);
	assert_int_equal(nk->sig_len, 64);
	assert_memory_equal(nk->sig, sig, 64);

	/* without the key the signature fails; with the peer's key it holds */
	ca = tu_load_cert("ca.crt");
	assert_false(cert_check_signature(nk, ca->pubkey, ca->pubkey_len));
	assert_int_equal(cert_set_pubkey(nk, c->pubkey, c->pubkey_len), 0);
	assert_true(cert_check_signature(nk, ca->pubkey, ca->pubkey_len));
	assert_int_equal(cert_marshal(nk, 0, &back, &blen), 0);
	assert_int_equal(blen, derlen);
	assert_memory_equal(back, der, derlen);

	free(back);
	cert_free(ca);
	cert_free(nk);
	free(want);
	free(out);
	cert_free(c);
	free(der);
}

/* --- signatures -------------------------------------------------------- */

static void
test_cert_tampered_byte_fails_signature(void **state)
{
	/* offsets in host-a's DER: name, an IP byte, NotAfter, key, issuer,
	 * and three signature bytes */
	static const size_t offs[] = {5, 13, 66, 80, 110, 136, 139, 170, 202};
	struct cert *c, *ca;
	uint8_t *der;
	size_t derlen, i;

	(void)state;
	ca = tu_load_cert("ca.crt");
	der = load_der("host-a.crt", &derlen);
	assert_int_equal(cert_unmarshal(der, derlen, &c), 0);
	assert_true(cert_check_signature(c, ca->pubkey, ca->pubkey_len));
	cert_free(c);
	for (i = 0; i < NELEM(offs); i++) {
		der[offs[i]] ^= 0x01;
		if (cert_unmarshal(der, derlen, &c) != 0)
			fail_msg("offset %zu: no longer decodes", offs[i]);
		if (cert_check_signature(c, ca->pubkey, ca->pubkey_len))
			fail_msg("offset %zu: tampered cert verifies", offs[i]);
		cert_free(c);
		der[offs[i]] ^= 0x01;
	}
	free(der);
	cert_free(ca);
}

static void
test_cert_signature_needs_right_key(void **state)
{
	struct cert *c, *ca;
	uint8_t k[33];

	(void)state;
	c = tu_load_cert("host-a.crt");
	ca = tu_load_cert("ca.crt");
	memcpy(k, ca->pubkey, 32);
	k[32] = 0;
	assert_true(cert_check_signature(c, k, 32));
	assert_false(cert_check_signature(c, k, 31));
	assert_false(cert_check_signature(c, k, 33));
	assert_false(cert_check_signature(c, k, 0));
	/* host-a's own X25519 key is no Ed25519 CA key */
	assert_false(cert_check_signature(c, c->pubkey, c->pubkey_len));
	/* no signature at all */
	free(c->sig);
	c->sig = NULL;
	c->sig_len = 0;
	assert_false(cert_check_signature(c, k, 32));
	cert_free(ca);
	cert_free(c);
}

/*
 * Non-canonical encodings of host-a's details (certificate.md 4): each
 * decodes to the same certificate, so it re-encodes to the 134 canonical
 * bytes.
 */
static const char *const noncanonical[][10] = {
    /* unknown field 15 (varint) appended */
    {D_NAME, D_IPS, D_SUBNETS, D_GROUPS, D_NB, D_NA, D_PK, D_ISS, "7801",
        NULL},
    /* unknown LEN field 100 in the middle */
    {D_NAME, D_IPS, "a20603616263", D_SUBNETS, D_GROUPS, D_NB, D_NA, D_PK,
        D_ISS, NULL},
    /* unpacked Ips */
    {D_NAME, "108ac8a1850c", "1080feffff0f", D_SUBNETS, D_GROUPS, D_NB, D_NA,
        D_PK, D_ISS, NULL},
    /* Ips split over two packed fields */
    {D_NAME, "12058ac8a1850c", "120580feffff0f", D_SUBNETS, D_GROUPS, D_NB,
        D_NA, D_PK, D_ISS, NULL},
    /* duplicated Name: the last one wins */
    {"0a0578787878780a", "06686f73742d61", D_IPS, D_SUBNETS, D_GROUPS, D_NB,
        D_NA, D_PK, D_ISS, NULL},
    /* duplicated NotBefore */
    {D_NAME, D_IPS, D_SUBNETS, D_GROUPS, "2801", D_NB, D_NA, D_PK, D_ISS,
        NULL},
    /* fields out of order */
    {D_ISS, D_PK, D_NA, D_NB, D_NAME, D_IPS, D_SUBNETS, D_GROUPS, NULL},
    /* non-minimal varint for NotAfter */
    {D_NAME, D_IPS, D_SUBNETS, D_GROUPS, D_NB, "30a9fce9848980808000", D_PK,
        D_ISS, NULL},
    /* IsCA written as false */
    {D_NAME, D_IPS, D_SUBNETS, D_GROUPS, D_NB, D_NA, D_PK, "4000", D_ISS,
        NULL},
    /* a group skipped as an unknown field */
    {D_NAME, D_IPS, "5b08015c", D_SUBNETS, D_GROUPS, D_NB, D_NA, D_PK, D_ISS,
        NULL},
};

static uint8_t *
noncanonical_details(size_t k, size_t *len)
{
	const char *const *p = noncanonical[k];
	size_t n;

	for (n = 0; p[n] != NULL; n++)
		;
	assert_true(n <= 9);
	return hexcat(len, n > 0 ? p[0] : NULL, n > 1 ? p[1] : NULL,
	    n > 2 ? p[2] : NULL, n > 3 ? p[3] : NULL, n > 4 ? p[4] : NULL,
	    n > 5 ? p[5] : NULL, n > 6 ? p[6] : NULL, n > 7 ? p[7] : NULL,
	    n > 8 ? p[8] : NULL, NULL);
}

/*
 * A CA that signed non-canonical bytes: the certificate decodes, but
 * Nebula verifies over the re-encoding, so the signature fails
 * (certificate.md 4).
 */
static void
test_cert_noncanonical_signed_bytes_fail_signature(void **state)
{
	uint8_t key[64], sig[64], *d, *b, *canon, *re;
	size_t k, dlen, blen, clen, rlen;
	struct cert *c, *ca;

	(void)state;
	load_ed25519_key("ca.key", key);
	ca = tu_load_cert("ca.crt");
	canon = hexcat(&clen, HOST_A_DETAILS, NULL);
	/* control: signing the canonical bytes verifies */
	assert_int_equal(crypto_ed25519_sign(key, canon, clen, sig), 0);
	b = wrap(canon, clen, sig, 64, &blen);
	assert_int_equal(cert_unmarshal(b, blen, &c), 0);
	assert_true(cert_check_signature(c, ca->pubkey, ca->pubkey_len));
	cert_free(c);
	free(b);
	for (k = 0; k < NELEM(noncanonical); k++) {
		d = noncanonical_details(k, &dlen);
		assert_int_equal(crypto_ed25519_sign(key, d, dlen, sig), 0);
		b = wrap(d, dlen, sig, 64, &blen);
		if (cert_unmarshal(b, blen, &c) != 0)
			fail_msg("variant %zu does not decode", k);
		assert_int_equal(cert_marshal_details(c, &re, &rlen), 0);
		if (rlen != clen || memcmp(re, canon, clen) != 0)
			fail_msg("variant %zu: re-encoding is not canonical", k);
		if (cert_check_signature(c, ca->pubkey, ca->pubkey_len))
			fail_msg("variant %zu: signature over non-canonical "
			         "bytes verifies",
			    k);
		free(re);
		cert_free(c);
		free(b);
		free(d);
	}
	free(canon);
	cert_free(ca);
	crypto_cleanse(key, sizeof(key));
}

/*
 * The other side of the same rule: a re-encoded variant of a properly
 * signed certificate still verifies, and keeps its fingerprint, because
 * Go hashes and verifies the canonical re-encoding, not the bytes seen.
 */
static void
test_cert_noncanonical_transport_of_signed_cert_verifies(void **state)
{
	uint8_t sig[64], *d, *b;
	size_t k, dlen, blen;
	struct cert *c, *ca;
	char hex[CERT_FP_HEXLEN];

	(void)state;
	ca = tu_load_cert("ca.crt");
	tu_unhex(HOST_A_SIG, sig, 64);
	for (k = 0; k < NELEM(noncanonical); k++) {
		d = noncanonical_details(k, &dlen);
		b = wrap(d, dlen, sig, 64, &blen);
		assert_int_equal(cert_unmarshal(b, blen, &c), 0);
		if (!cert_check_signature(c, ca->pubkey, ca->pubkey_len))
			fail_msg("variant %zu: does not verify", k);
		assert_int_equal(cert_fingerprint_hex(c, hex), 0);
		assert_string_equal(hex, fixtures[4].fp);
		cert_free(c);
		free(b);
		free(d);
	}
	cert_free(ca);
}

/* --- decoder errors ---------------------------------------------------- */

static void
test_cert_unmarshal_empty(void **state)
{
	struct cert *c = (struct cert *)1;
	const uint8_t b[1] = {0};

	(void)state;
	assert_int_equal(cert_unmarshal(b, 0, &c), VPN_ERR_CERT_EMPTY);
	assert_null(c);
	assert_int_equal(cert_unmarshal_nokey(b, 0, &c), VPN_ERR_CERT_EMPTY);
	assert_string_equal(vpn_strerror(VPN_ERR_CERT_EMPTY), "nil byte array");
}

static void
test_cert_unmarshal_no_details(void **state)
{
	uint8_t sig[64], *b;
	size_t blen;
	struct cert *c = NULL;
	struct wr w;
	uint8_t buf[80];

	(void)state;
	memset(sig, 0x55, sizeof(sig));
	wr_init(&w, buf, sizeof(buf));
	pb_put_bytes(&w, 2, sig, 64);
	assert_int_equal(cert_unmarshal(buf, w.off, &c),
	    VPN_ERR_CERT_NO_DETAILS);
	assert_null(c);
	/* an unknown field alone */
	assert_int_equal(cert_unmarshal((const uint8_t *)"\x18\x01", 2, &c),
	    VPN_ERR_CERT_NO_DETAILS);
	/* field 1 with the wrong wire type is an unknown field */
	assert_int_equal(cert_unmarshal((const uint8_t *)"\x08\x01", 2, &c),
	    VPN_ERR_CERT_NO_DETAILS);
	assert_int_equal(cert_unmarshal_nokey((const uint8_t *)"\x08\x01", 2,
	                     &c),
	    VPN_ERR_CERT_NO_DETAILS);
	/* empty Details is present: then the key is what is missing */
	b = wrap(NULL, 0, NULL, 0, &blen);
	assert_int_equal(cert_unmarshal(b, blen, &c), VPN_ERR_CERT_SHORT_KEY);
	assert_int_equal(cert_unmarshal_nokey(b, blen, &c), 0);
	cert_free(c);
	free(b);
	assert_string_equal(vpn_strerror(VPN_ERR_CERT_NO_DETAILS),
	    "encoded Details was nil");
}

static void
test_cert_unmarshal_odd_ips_and_subnets(void **state)
{
	static const struct {
		const char *hex;
		int err;
	} tc[] = {
	    {"120101" D_PK, VPN_ERR_CERT_ODD_IPS},
	    {"1001" D_PK, VPN_ERR_CERT_ODD_IPS},
	    {"12030101" "01" D_PK, VPN_ERR_CERT_ODD_IPS},
	    {D_IPS "1001" D_PK, VPN_ERR_CERT_ODD_IPS},
	    {"1a0101" D_PK, VPN_ERR_CERT_ODD_SUBNETS},
	    {D_SUBNETS "1801" D_PK, VPN_ERR_CERT_ODD_SUBNETS},
	    /* IPs are checked before subnets, both before the key */
	    {"120101" "1a0101" D_PK, VPN_ERR_CERT_ODD_IPS},
	    {"120101", VPN_ERR_CERT_ODD_IPS},
	    {"1a0101", VPN_ERR_CERT_ODD_SUBNETS},
	    /* even counts are fine */
	    {"12020101" D_PK, 0},
	    {"10011001" D_PK, 0},
	};
	struct cert *c;
	uint8_t *d;
	size_t i, dlen;
	int r;

	(void)state;
	for (i = 0; i < NELEM(tc); i++) {
		d = hexcat(&dlen, tc[i].hex, NULL);
		c = NULL;
		r = unmarshal_details(d, dlen, &c);
		if (r != tc[i].err)
			fail_msg("case %zu: %d, want %d", i, r, tc[i].err);
		cert_free(c);
		free(d);
	}
	assert_string_equal(vpn_strerror(VPN_ERR_CERT_ODD_IPS),
	    "encoded IPs should be in pairs, an odd number was found");
	assert_string_equal(vpn_strerror(VPN_ERR_CERT_ODD_SUBNETS),
	    "encoded Subnets should be in pairs, an odd number was found");
}

static void
test_cert_unmarshal_public_key_length(void **state)
{
	uint8_t d[2 + 64], *b, *out;
	size_t n, blen, olen;
	struct cert *c;
	int r;

	(void)state;
	for (n = 0; n <= 64; n++) {
		d[0] = 0x3a;
		d[1] = (uint8_t)n;
		memset(d + 2, 0x42, n);
		b = wrap(d, 2 + n, NULL, 0, &blen);
		c = NULL;
		r = cert_unmarshal(b, blen, &c);
		if (n < 32) {
			if (r != VPN_ERR_CERT_SHORT_KEY)
				fail_msg("%zu-byte key: %d", n, r);
		} else {
			/* longer keys are accepted and kept */
			if (r != 0)
				fail_msg("%zu-byte key: %d", n, r);
			assert_int_equal(c->pubkey_len, n);
			assert_int_equal(cert_marshal(c, 0, &out, &olen), 0);
			assert_int_equal(olen, blen);
			assert_memory_equal(out, b, blen);
			free(out);
		}
		cert_free(c);
		free(b);
	}
}

/* host-a with its 32-byte key cut to 31 bytes */
static void
test_cert_unmarshal_31_byte_key(void **state)
{
	uint8_t *d, *b;
	size_t dlen, blen;
	struct cert *c = (struct cert *)1;

	(void)state;
	d = hexcat(&dlen, D_NAME D_IPS D_SUBNETS D_GROUPS D_NB D_NA "3a1f",
	    "31558d22e41813ee8d73d466ae0d4c1d90528d0dd3f2e5ce9d25c9def68cd9",
	    D_ISS, NULL);
	b = wrap(d, dlen, NULL, 0, &blen);
	assert_int_equal(cert_unmarshal(b, blen, &c), VPN_ERR_CERT_SHORT_KEY);
	assert_null(c);
	assert_string_equal(vpn_strerror(VPN_ERR_CERT_SHORT_KEY),
	    "Public key was fewer than 32 bytes");
	free(b);
	free(d);
}

/* A lone byte after a valid certificate is a truncated field. */
static void
test_cert_unmarshal_rejects_trailing_byte(void **state)
{
	uint8_t *der, *b;
	size_t derlen;
	struct cert *c;
	unsigned v;
	int r;

	(void)state;
	der = load_der("host-a.crt", &derlen);
	b = malloc(derlen + 1);
	assert_non_null(b);
	memcpy(b, der, derlen);
	for (v = 0; v < 256; v++) {
		b[derlen] = (uint8_t)v;
		c = NULL;
		r = cert_unmarshal(b, derlen + 1, &c);
		if (r == 0)
			fail_msg("trailing byte %02x accepted", v);
		assert_true(r < 0);
		assert_null(c);
	}
	free(b);
	free(der);
}

static void
test_cert_unmarshal_rejects_every_truncation(void **state)
{
	uint8_t *der;
	size_t derlen, n;
	struct cert *c;
	int r;

	(void)state;
	der = load_der("host-a.crt", &derlen);
	for (n = 1; n < derlen; n++) {
		c = NULL;
		r = cert_unmarshal(der, n, &c);
		if (n == 137) {
			/* exactly the Details field: valid, unsigned */
			assert_int_equal(r, 0);
			assert_int_equal(c->sig_len, 0);
			cert_free(c);
		} else if (r == 0) {
			fail_msg("prefix of %zu bytes accepted", n);
		}
	}
	free(der);
}

static void
test_cert_unmarshal_huge_length_prefix(void **state)
{
	static const struct {
		const char *hex;
	} tc[] = {
	    {"0affffffff0f"},
	    {"0affffffff0f00"},
	    {"0affffffffffffffffff01"},
	    /* inside the details */
	    {"0a060affffffff0f"},
	    {"0a0622ffffffff0f"},
	    {"0a063affffffff0f"},
	    /* the signature after valid details */
	    {"0a00" "12ffffffff0f"},
	    {"0a00" "1281"},
	};
	struct cert *c;
	uint8_t *b;
	size_t i, len;
	int r;

	(void)state;
	for (i = 0; i < NELEM(tc); i++) {
		b = hexcat(&len, tc[i].hex, NULL);
		c = NULL;
		r = cert_unmarshal(b, len, &c);
		if (r != VPN_ERR_TRUNCATED && !(i == 7 && r < 0))
			fail_msg("case %zu (%s): %d", i, tc[i].hex, r);
		assert_null(c);
		free(b);
	}
}

static void
test_cert_unmarshal_invalid_utf8(void **state)
{
	static const struct {
		const char *hex;
		int err;
	} tc[] = {
	    {"0a02c328" D_PK, VPN_ERR_PB_UTF8},		/* Name */
	    {"0a02c0af" D_PK, VPN_ERR_PB_UTF8},		/* overlong */
	    {"0a03eda080" D_PK, VPN_ERR_PB_UTF8},	/* surrogate */
	    {"0a01ff" D_PK, VPN_ERR_PB_UTF8},
	    {"0a0568c3a96c6c" D_PK, 0},			/* "héll" is fine */
	    {D_NAME "2202fffe" D_PK, VPN_ERR_PB_UTF8},	/* Groups */
	    {D_NAME "2201e2" D_PK, VPN_ERR_PB_UTF8},	/* truncated */
	    {"2203f09f98" D_PK, VPN_ERR_PB_UTF8},
	    {"2204f09f9880" D_PK, 0},
	    /* bytes fields may hold anything */
	    {D_PK "4a02fffe", 0},
	};
	struct cert *c;
	uint8_t *d;
	size_t i, dlen;
	int r;

	(void)state;
	for (i = 0; i < NELEM(tc); i++) {
		d = hexcat(&dlen, tc[i].hex, NULL);
		c = NULL;
		r = unmarshal_details(d, dlen, &c);
		if (r != tc[i].err)
			fail_msg("case %zu: %d, want %d", i, r, tc[i].err);
		cert_free(c);
		free(d);
	}
}

static void
test_cert_unmarshal_malformed_protobuf(void **state)
{
	static const char *const tc[] = {
	    "00",	      /* field 0 */
	    "0e00",	      /* wire type 6 */
	    "0f00",	      /* wire type 7 */
	    "0a02000a",   /* field 0 inside Details */
	    "0a020e00",   /* wire type 6 inside Details */
	    "0a0128",	      /* varint tag, value missing */
	    "0a022880",   /* truncated varint */
	    "0a0b28ffffffffffffffffff02", /* 10th varint byte > 1 */
	    "0a0112",	      /* packed Ips: length missing */
	    "0a03120180", /* packed Ips: truncated varint inside */
	    "0a0a12080102030405060780", /* packed Ips: truncated last varint */
	    "0c",	      /* end group without start */
	    "0b",	      /* group without end */
	};
	struct cert *c;
	uint8_t *b;
	size_t i, len;
	int r;

	(void)state;
	for (i = 0; i < NELEM(tc); i++) {
		b = hexcat(&len, tc[i], NULL);
		c = NULL;
		r = cert_unmarshal_nokey(b, len, &c);
		if (r >= 0)
			fail_msg("case %zu (%s): accepted", i, tc[i]);
		assert_null(c);
		free(b);
	}
}

static void
test_cert_unmarshal_too_large(void **state)
{
	uint8_t *b, *der;
	size_t derlen, pad;
	struct cert *c;
	struct wr w;

	(void)state;
	b = calloc(1, CERT_MAX_LEN + 1);
	assert_non_null(b);
	assert_int_equal(cert_unmarshal(b, CERT_MAX_LEN + 1, &c),
	    VPN_ERR_CERT_TOO_LARGE);
	/* exactly CERT_MAX_LEN is still decoded: host-a plus an unknown
	 * field 3 that fills the rest */
	der = load_der("host-a.crt", &derlen);
	memcpy(b, der, derlen);
	wr_init(&w, b + derlen, CERT_MAX_LEN - derlen);
	pad = CERT_MAX_LEN - derlen - 1 - 3; /* tag, 3-byte length */
	pb_put_tag(&w, 3, PB_LEN);
	wr_varint(&w, pad);
	assert_int_equal(w.off, 4);
	wr_take(&w, pad);
	assert_false(w.bad);
	assert_int_equal(derlen + w.off, CERT_MAX_LEN);
	assert_int_equal(cert_unmarshal(b, CERT_MAX_LEN, &c), 0);
	assert_string_equal(c->name.s, "host-a");
	cert_free(c);
	free(der);
	free(b);
}

/* --- decoder tolerance (Go's proto3 rules) ----------------------------- */

static void
test_cert_unmarshal_merges_and_accumulates(void **state)
{
	/* two Details fields merge; Ips mixed packed/unpacked; groups
	 * accumulate in order; the last scalar wins */
	static const char outer[] =
	    "0a0d" "0a0161" "12058ac8a1850c" "220161"
	    "0a2e" "1080feffff0f" "0a0162" "220162" "3a20" HOST_A_PUB
	    "1202" "aaaa" "1240" HOST_A_SIG;
	char buf[IP4NET_STRLEN];
	struct cert *c;
	uint8_t *b;
	size_t len;

	(void)state;
	b = hexcat(&len, outer, NULL);
	assert_int_equal(cert_unmarshal(b, len, &c), 0);
	assert_string_equal(c->name.s, "b");
	assert_int_equal(c->nips, 1);
	ip4net_format(&c->ips[0], buf);
	assert_string_equal(buf, "192.168.100.10/24");
	assert_int_equal(c->ngroups, 2);
	assert_string_equal(c->groups[0].s, "a");
	assert_string_equal(c->groups[1].s, "b");
	assert_int_equal(c->sig_len, 64); /* the last Signature wins */
	cert_free(c);
	free(b);
}

static void
test_cert_unmarshal_scalars(void **state)
{
	struct cert *c;
	uint8_t *d, *out;
	size_t dlen, olen;

	(void)state;
	/* IsCA 2 is true and re-encodes as 40 01 */
	d = hexcat(&dlen, D_PK "4002", NULL);
	assert_int_equal(unmarshal_details(d, dlen, &c), 0);
	assert_true(c->is_ca);
	free(d);
	assert_int_equal(cert_marshal_details(c, &out, &olen), 0);
	assert_int_equal(olen, 36);
	assert_memory_equal(out + 34, "\x40\x01", 2);
	free(out);
	cert_free(c);

	/* negative NotBefore: ten-byte two's complement varint */
	d = hexcat(&dlen, "28ffffffffffffffffff01" D_PK, NULL);
	assert_int_equal(unmarshal_details(d, dlen, &c), 0);
	assert_true(c->not_before == -1);
	assert_int_equal(cert_marshal_details(c, &out, &olen), 0);
	assert_int_equal(olen, dlen);
	assert_memory_equal(out, d, dlen);
	free(out);
	cert_free(c);
	free(d);

	/* fields with the wrong wire type are skipped as unknown */
	d = hexcat(&dlen, "0801" "2d01020304" "3a01" "00" D_PK "4a00", NULL);
	assert_int_equal(unmarshal_details(d, dlen, &c), 0);
	assert_int_equal(c->name.len, 0);
	assert_true(c->not_before == 0);
	free(d);
	cert_free(c);

	/* an empty group is kept and written back */
	d = hexcat(&dlen, "2200" "220161" D_PK, NULL);
	assert_int_equal(unmarshal_details(d, dlen, &c), 0);
	assert_int_equal(c->ngroups, 2);
	assert_int_equal(c->groups[0].len, 0);
	assert_int_equal(cert_marshal_details(c, &out, &olen), 0);
	assert_int_equal(olen, dlen);
	assert_memory_equal(out, d, dlen);
	free(out);
	cert_free(c);
	free(d);

	/* a NUL inside Name is kept with its length */
	d = hexcat(&dlen, "0a03610062" D_PK, NULL);
	assert_int_equal(unmarshal_details(d, dlen, &c), 0);
	assert_int_equal(c->name.len, 3);
	assert_memory_equal(c->name.s, "a\0b", 4);
	cert_free(c);
	free(d);
}

/* Go keeps uint32(v) of each Ips varint: bits above 32 are dropped, so
 * the re-encoding (and the signature) is that of the canonical value. */
static void
test_cert_unmarshal_ips_truncated_to_uint32(void **state)
{
	uint8_t sig[64], *d, *b;
	size_t dlen, blen;
	struct cert *c, *ca;

	(void)state;
	/* 192.168.100.10 with bit 32 set: 8a c8 a1 85 1c */
	d = hexcat(&dlen, D_NAME "120a8ac8a1851c80feffff0f" D_SUBNETS D_GROUPS
	    D_NB D_NA D_PK D_ISS, NULL);
	tu_unhex(HOST_A_SIG, sig, 64);
	b = wrap(d, dlen, sig, 64, &blen);
	assert_int_equal(cert_unmarshal(b, blen, &c), 0);
	assert_int_equal(c->ips[0].addr, 0xc0a8640a);
	ca = tu_load_cert("ca.crt");
	assert_true(cert_check_signature(c, ca->pubkey, ca->pubkey_len));
	cert_free(ca);
	cert_free(c);
	free(b);
	free(d);
}

/* --- time -------------------------------------------------------------- */

static void
test_cert_expired_boundaries(void **state)
{
	struct cert *c;

	(void)state;
	c = cert_new();
	assert_non_null(c);
	c->not_before = 100;
	c->not_after = 200;
	assert_true(cert_expired(c, 99));
	assert_false(cert_expired(c, 100)); /* inclusive */
	assert_false(cert_expired(c, 150));
	assert_false(cert_expired(c, 200)); /* inclusive */
	assert_true(cert_expired(c, 201));
	assert_true(cert_expired(c, INT64_MIN));
	assert_true(cert_expired(c, INT64_MAX));
	cert_free(c);

	c = tu_load_cert("expired.crt");
	assert_true(cert_expired(c, 1795323945));
	assert_false(cert_expired(c, 1795323946));
	assert_false(cert_expired(c, 1795323947));
	assert_true(cert_expired(c, 1795323948));
	assert_true(cert_expired(c, NOW));
	cert_free(c);

	c = tu_load_cert("host-a.crt");
	assert_false(cert_expired(c, NOW));
	assert_false(cert_expired(c, T_HOST_NA));
	assert_true(cert_expired(c, T_HOST_NA + 1));
	assert_true(cert_expired(c, T_CA_NB - 1));
	cert_free(c);
}

/* --- CA constraints (certificate.md 7.3) ------------------------------- */

/* A host cert under ca2's limits: groups "ops", times inside the CA's. */
static struct cert *
ca2_host(const char *ip, const char *subnet, const char *groups)
{
	struct cert *c = cert_new();
	struct ip4net n;
	const char *p, *e;
	uint8_t pub[32];

	assert_non_null(c);
	assert_int_equal(cert_set_name(c, "x", 1), 0);
	net(ip, &n);
	assert_int_equal(cert_add_ip(c, &n), 0);
	if (subnet != NULL) {
		net(subnet, &n);
		n.addr &= n.mask;
		assert_int_equal(cert_add_subnet(c, &n), 0);
	}
	p = groups;
	while (p != NULL && *p != '\0') {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		assert_int_equal(cert_add_group(c, p, (size_t)(e - p)), 0);
		p = *e == ',' ? e + 1 : e;
	}
	c->not_before = T_CA_NB;
	c->not_after = T_CA_NA - 1;
	memset(pub, 7, sizeof(pub));
	assert_int_equal(cert_set_pubkey(c, pub, 32), 0);
	return c;
}

static void
test_cert_constraints_examples(void **state)
{
	static const struct {
		const char *ip, *subnet, *groups;
		int err;
		const char *detail;
	} tc[] = {
	    {"10.50.1.6/16", NULL, "ops", 0, ""},
	    {"10.50.9.10/24", NULL, "ops", 0, ""},
	    {"10.50.1.6/16", "10.60.1.0/24", "ops,dev", 0, ""},
	    {"10.50.1.6/16", NULL, NULL, 0, ""},
	    {"10.50.1.6/32", "10.60.0.0/16", "dev", 0, ""},
	    {"10.51.1.6/16", NULL, NULL, VPN_ERR_CERT_IP_NOT_IN_CA,
	        "10.51.1.6/16"},
	    {"10.50.1.6/8", NULL, NULL, VPN_ERR_CERT_IP_NOT_IN_CA,
	        "10.50.1.6/8"},
	    {"10.50.1.6/15", NULL, NULL, VPN_ERR_CERT_IP_NOT_IN_CA,
	        "10.50.1.6/15"},
	    {"10.50.1.6/16", "10.61.0.0/24", NULL,
	        VPN_ERR_CERT_SUBNET_NOT_IN_CA, "10.61.0.0/24"},
	    {"10.50.1.6/16", "10.60.0.0/8", NULL, VPN_ERR_CERT_SUBNET_NOT_IN_CA,
	        "10.0.0.0/8"},
	    {"10.50.1.6/16", NULL, "ops,web", VPN_ERR_CERT_GROUP_NOT_IN_CA,
	        "web"},
	    {"10.50.1.6/16", NULL, "Ops", VPN_ERR_CERT_GROUP_NOT_IN_CA, "Ops"},
	    /* groups are checked before IPs, IPs before subnets */
	    {"10.51.1.6/16", NULL, "web", VPN_ERR_CERT_GROUP_NOT_IN_CA, "web"},
	    {"10.51.1.6/16", "10.61.0.0/24", NULL, VPN_ERR_CERT_IP_NOT_IN_CA,
	        "10.51.1.6/16"},
	};
	char detail[64];
	struct cert *ca, *c;
	size_t i;
	int r;

	(void)state;
	ca = tu_load_cert("ca2.crt");
	for (i = 0; i < NELEM(tc); i++) {
		c = ca2_host(tc[i].ip, tc[i].subnet, tc[i].groups);
		memset(detail, 'x', sizeof(detail));
		r = cert_check_constraints(c, ca, detail, sizeof(detail));
		if (r != tc[i].err)
			fail_msg("case %zu (%s): %d, want %d", i, tc[i].ip, r,
			    tc[i].err);
		if (strcmp(detail, tc[i].detail) != 0)
			fail_msg("case %zu: detail \"%s\", want \"%s\"", i,
			    detail, tc[i].detail);
		cert_free(c);
	}
	cert_free(ca);
	assert_string_equal(vpn_strerror(VPN_ERR_CERT_IP_NOT_IN_CA),
	    "certificate contained an ip assignment outside the limitations "
	    "of the signing ca");
	assert_string_equal(vpn_strerror(VPN_ERR_CERT_GROUP_NOT_IN_CA),
	    "certificate contained a group not present on the signing ca");
}

static void
test_cert_constraints_times(void **state)
{
	struct cert *ca, *c;
	char detail[64];

	(void)state;
	ca = tu_load_cert("ca2.crt");
	c = ca2_host("10.50.1.6/16", NULL, "web");
	c->not_after = T_CA_NA; /* ends with the CA: fine */
	c->not_before = T_CA_NB;
	assert_int_equal(cert_check_constraints(c, ca, detail, sizeof(detail)),
	    VPN_ERR_CERT_GROUP_NOT_IN_CA);
	/* times come first, NotAfter before NotBefore */
	c->not_after = T_CA_NA + 1;
	c->not_before = T_CA_NB - 1;
	assert_int_equal(cert_check_constraints(c, ca, detail, sizeof(detail)),
	    VPN_ERR_CERT_EXPIRES_AFTER_CA);
	assert_string_equal(detail, "");
	c->not_after = T_CA_NA;
	assert_int_equal(cert_check_constraints(c, ca, NULL, 0),
	    VPN_ERR_CERT_VALID_BEFORE_CA);
	cert_free(c);
	cert_free(ca);
	assert_string_equal(vpn_strerror(VPN_ERR_CERT_EXPIRES_AFTER_CA),
	    "certificate expires after signing certificate");
	assert_string_equal(vpn_strerror(VPN_ERR_CERT_VALID_BEFORE_CA),
	    "certificate is valid before the signing certificate");
}

static void
test_cert_constraints_fixtures(void **state)
{
	struct cert *ca, *ca2, *c;
	char detail[64];

	(void)state;
	ca = tu_load_cert("ca.crt");
	ca2 = tu_load_cert("ca2.crt");
	c = tu_load_cert("other-host.crt");
	assert_int_equal(cert_check_constraints(c, ca2, detail, sizeof(detail)),
	    0);
	/* an unconstrained CA accepts any IP, subnet or group */
	assert_int_equal(cert_check_constraints(c, ca, detail, sizeof(detail)),
	    0);
	cert_free(c);
	c = tu_load_cert("host-a.crt");
	assert_int_equal(cert_check_constraints(c, ca, detail, sizeof(detail)),
	    0);
	assert_int_equal(cert_check_constraints(c, ca2, detail, sizeof(detail)),
	    VPN_ERR_CERT_GROUP_NOT_IN_CA);
	assert_string_equal(detail, "servers");
	cert_free(c);
	cert_free(ca2);
	cert_free(ca);
}

static void
test_cert_constraints_detail_truncated(void **state)
{
	struct cert *ca, *c;
	char detail[5];

	(void)state;
	ca = tu_load_cert("ca2.crt");
	c = ca2_host("10.51.1.6/16", NULL, NULL);
	memset(detail, 'x', sizeof(detail));
	assert_int_equal(cert_check_constraints(c, ca, detail, sizeof(detail)),
	    VPN_ERR_CERT_IP_NOT_IN_CA);
	assert_string_equal(detail, "10.5");
	cert_free(c);
	cert_free(ca);
}

/* --- private keys ------------------------------------------------------ */

static void
test_cert_check_private_key_fixtures(void **state)
{
	uint8_t ed[64], x[32];
	struct cert *ca, *ha;

	(void)state;
	ca = tu_load_cert("ca.crt");
	ha = tu_load_cert("host-a.crt");

	load_ed25519_key("ca.key", ed);
	assert_int_equal(cert_check_private_key(ca, ed, 64), 0);
	load_ed25519_key("ca2.key", ed);
	assert_int_equal(cert_check_private_key(ca, ed, 64),
	    VPN_ERR_CERT_KEY_MISMATCH);

	load_x25519_key("host-a.key", x);
	assert_int_equal(cert_check_private_key(ha, x, 32), 0);
	load_x25519_key("host-b.key", x);
	assert_int_equal(cert_check_private_key(ha, x, 32),
	    VPN_ERR_CERT_KEY_MISMATCH);

	/* the wrong kind of key */
	assert_int_equal(cert_check_private_key(ca, x, 32),
	    VPN_ERR_KEYLEN_ED25519_PRIV);
	load_ed25519_key("ca.key", ed);
	assert_int_equal(cert_check_private_key(ha, ed, 64),
	    VPN_ERR_KEYLEN_X25519_PRIV);

	/* a doctored CA key: right public half, wrong seed */
	ed[0] ^= 1;
	assert_int_equal(cert_check_private_key(ca, ed, 64),
	    VPN_ERR_CERT_KEY_MISMATCH);
	assert_string_equal(vpn_strerror(VPN_ERR_CERT_KEY_MISMATCH),
	    "public key in cert and private key supplied don't match");
	crypto_cleanse(ed, sizeof(ed));
	cert_free(ha);
	cert_free(ca);
}

static void
test_cert_check_private_key_all_hosts(void **state)
{
	static const char *const names[] = {"lighthouse", "host-a", "host-b",
	    "expired", "other-host"};
	char file[64];
	uint8_t x[32];
	struct cert *c;
	size_t i, j;

	(void)state;
	for (i = 0; i < NELEM(names); i++) {
		snprintf(file, sizeof(file), "%s.crt", names[i]);
		c = tu_load_cert(file);
		for (j = 0; j < NELEM(names); j++) {
			snprintf(file, sizeof(file), "%s.key", names[j]);
			load_x25519_key(file, x);
			assert_int_equal(cert_check_private_key(c, x, 32),
			    i == j ? 0 : VPN_ERR_CERT_KEY_MISMATCH);
		}
		cert_free(c);
	}
}

/* --- signing ----------------------------------------------------------- */

static void
test_cert_sign_and_verify_round_trip(void **state)
{
	uint8_t cakey[64], other[64], xpriv[32], xpub[32], fp[CERT_FP_LEN];
	uint8_t *der, *der2;
	size_t len, len2, plen, used;
	struct cert *ca, *h, *h2;
	struct ip4net n;
	char detail[64], *pem;

	(void)state;
	assert_int_equal(crypto_ed25519_keypair(cakey), 0);
	assert_int_equal(crypto_ed25519_keypair(other), 0);
	ca = cert_new();
	assert_non_null(ca);
	assert_int_equal(cert_set_name(ca, "test-ca", 7), 0);
	assert_int_equal(cert_add_group(ca, "g", 1), 0);
	net("10.1.0.0/16", &n);
	assert_int_equal(cert_add_ip(ca, &n), 0);
	ca->is_ca = true;
	ca->not_before = NOW - 1000;
	ca->not_after = NOW + 1000000;
	assert_int_equal(cert_set_pubkey(ca, cakey + 32, 32), 0);
	assert_int_equal(cert_sign(ca, cakey), 0);
	assert_int_equal(ca->sig_len, 64);
	assert_true(cert_check_signature(ca, ca->pubkey, ca->pubkey_len));
	assert_false(cert_check_signature(ca, other + 32, 32));
	assert_int_equal(cert_check_private_key(ca, cakey, 64), 0);
	assert_int_equal(cert_fingerprint(ca, fp), 0);

	assert_int_equal(crypto_x25519_keypair(xpriv, xpub), 0);
	h = cert_new();
	assert_non_null(h);
	assert_int_equal(cert_set_name(h, "h", 1), 0);
	net("10.1.2.3/16", &n);
	assert_int_equal(cert_add_ip(h, &n), 0);
	assert_int_equal(cert_add_group(h, "g", 1), 0);
	h->not_before = NOW;
	h->not_after = NOW + 1000;
	assert_int_equal(cert_set_pubkey(h, xpub, 32), 0);
	assert_int_equal(cert_set_issuer(h, fp, sizeof(fp)), 0);
	assert_int_equal(cert_sign(h, cakey), 0);
	assert_true(cert_check_signature(h, ca->pubkey, ca->pubkey_len));
	assert_false(cert_check_signature(h, other + 32, 32));
	assert_int_equal(cert_check_constraints(h, ca, detail, sizeof(detail)),
	    0);
	assert_int_equal(cert_check_private_key(h, xpriv, 32), 0);

	/* marshal, unmarshal, marshal: stable, still verifies */
	assert_int_equal(cert_marshal(h, 0, &der, &len), 0);
	assert_int_equal(cert_unmarshal(der, len, &h2), 0);
	assert_int_equal(cert_marshal(h2, 0, &der2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(der, der2, len);
	assert_true(cert_check_signature(h2, ca->pubkey, ca->pubkey_len));
	free(der2);
	cert_free(h2);

	/* and through PEM */
	pem = cert_to_pem(h, &plen);
	assert_non_null(pem);
	assert_int_equal(cert_from_pem(pem, plen, &h2, &used), 0);
	assert_int_equal(used, plen);
	assert_int_equal(cert_marshal(h2, 0, &der2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(der, der2, len);
	free(der2);
	cert_free(h2);
	free(pem);
	free(der);

	/* changing a field breaks the signature until re-signed */
	assert_int_equal(cert_set_name(h, "i", 1), 0);
	assert_false(cert_check_signature(h, ca->pubkey, ca->pubkey_len));
	assert_int_equal(cert_sign(h, cakey), 0);
	assert_true(cert_check_signature(h, ca->pubkey, ca->pubkey_len));

	crypto_cleanse(cakey, sizeof(cakey));
	cert_free(h);
	cert_free(ca);
}

/* Signing with the fixture CA key gives nebula-cert's signature. */
static void
test_cert_sign_reproduces_fixture(void **state)
{
	uint8_t key[64], *der, *out;
	size_t derlen, olen;
	struct cert *c;

	(void)state;
	load_ed25519_key("ca.key", key);
	der = load_der("host-a.crt", &derlen);
	assert_int_equal(cert_unmarshal(der, derlen, &c), 0);
	memset(c->sig, 0, c->sig_len);
	assert_int_equal(cert_sign(c, key), 0);
	assert_int_equal(cert_marshal(c, 0, &out, &olen), 0);
	assert_int_equal(olen, derlen);
	assert_memory_equal(out, der, derlen); /* Ed25519 is deterministic */
	free(out);
	cert_free(c);
	free(der);
	crypto_cleanse(key, sizeof(key));
}

/* --- PEM entry points and hex ------------------------------------------ */

static void
test_cert_from_pem_errors(void **state)
{
	struct cert *c = (struct cert *)1;
	size_t len, used;
	char *s, *pem;

	(void)state;
	s = tu_fixture("host-a.key", &len);
	used = 0;
	assert_int_equal(cert_from_pem(s, len, &c, &used),
	    VPN_ERR_BANNER_CERT);
	assert_null(c);
	assert_int_equal(used, len);
	free(s);
	assert_int_equal(cert_from_pem("junk", 4, &c, NULL), VPN_ERR_PEM_NONE);
	assert_int_equal(cert_from_pem("", 0, &c, NULL), VPN_ERR_PEM_NONE);

	/* a well-formed block holding no certificate */
	pem = pem_encode(PEM_CERT, (const uint8_t *)"\x00", 1, &len);
	assert_int_equal(cert_from_pem(pem, len, &c, NULL), VPN_ERR_PB_FIELD);
	free(pem);
	pem = pem_encode(PEM_CERT, (const uint8_t *)"", 0, &len);
	assert_int_equal(cert_from_pem(pem, len, &c, NULL), VPN_ERR_CERT_EMPTY);
	free(pem);
}

/* Single-block readers use the first block of a bundle. */
static void
test_cert_from_pem_first_block(void **state)
{
	char hex[CERT_FP_HEXLEN], *s;
	struct cert *c;
	size_t len, used;

	(void)state;
	s = tu_fixture("ca-bundle.crt", &len);
	assert_int_equal(cert_from_pem(s, len, &c, &used), 0);
	assert_int_equal(used, 243);
	assert_int_equal(cert_fingerprint_hex(c, hex), 0);
	assert_string_equal(hex, CA_FP);
	cert_free(c);
	assert_int_equal(cert_from_pem(s + used, len - used, &c, NULL), 0);
	assert_string_equal(c->name.s, "nebtest-ca2-constrained");
	cert_free(c);
	free(s);
}

static void
test_cert_hex_helpers(void **state)
{
	uint8_t b[4] = {0x00, 0xab, 0x7f, 0xff}, out[4];
	char h[9];

	(void)state;
	hex_encode(b, 4, h);
	assert_string_equal(h, "00ab7fff");
	hex_encode(b, 0, h);
	assert_string_equal(h, "");
	assert_true(hex_decode("00ab7fff", 8, out, 4));
	assert_memory_equal(out, b, 4);
	assert_true(hex_decode("00AB7FFF", 8, out, 4));
	assert_memory_equal(out, b, 4);
	assert_false(hex_decode("00ab7ff", 7, out, 4));
	assert_false(hex_decode("00ab7fff00", 10, out, 4));
	assert_false(hex_decode("00ab7fxf", 8, out, 4));
	assert_false(hex_decode("00ab 7ff", 8, out, 4));
	assert_true(hex_decode("", 0, out, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cert_fixtures_remarshal_identically),
	    cmocka_unit_test(test_cert_fixtures_fingerprints),
	    cmocka_unit_test(test_cert_fixtures_pem_round_trip),
	    cmocka_unit_test(test_cert_fixtures_signatures),
	    cmocka_unit_test(test_cert_host_a_fields),
	    cmocka_unit_test(test_cert_host_a_details_encoding),
	    cmocka_unit_test(test_cert_build_host_a_with_setters),
	    cmocka_unit_test(test_cert_empty_cert_marshals_details),
	    cmocka_unit_test(test_cert_nopubkey_form),
	    cmocka_unit_test(test_cert_tampered_byte_fails_signature),
	    cmocka_unit_test(test_cert_signature_needs_right_key),
	    cmocka_unit_test(test_cert_noncanonical_signed_bytes_fail_signature),
	    cmocka_unit_test(
	        test_cert_noncanonical_transport_of_signed_cert_verifies),
	    cmocka_unit_test(test_cert_unmarshal_empty),
	    cmocka_unit_test(test_cert_unmarshal_no_details),
	    cmocka_unit_test(test_cert_unmarshal_odd_ips_and_subnets),
	    cmocka_unit_test(test_cert_unmarshal_public_key_length),
	    cmocka_unit_test(test_cert_unmarshal_31_byte_key),
	    cmocka_unit_test(test_cert_unmarshal_rejects_trailing_byte),
	    cmocka_unit_test(test_cert_unmarshal_rejects_every_truncation),
	    cmocka_unit_test(test_cert_unmarshal_huge_length_prefix),
	    cmocka_unit_test(test_cert_unmarshal_invalid_utf8),
	    cmocka_unit_test(test_cert_unmarshal_malformed_protobuf),
	    cmocka_unit_test(test_cert_unmarshal_too_large),
	    cmocka_unit_test(test_cert_unmarshal_merges_and_accumulates),
	    cmocka_unit_test(test_cert_unmarshal_scalars),
	    cmocka_unit_test(test_cert_unmarshal_ips_truncated_to_uint32),
	    cmocka_unit_test(test_cert_expired_boundaries),
	    cmocka_unit_test(test_cert_constraints_examples),
	    cmocka_unit_test(test_cert_constraints_times),
	    cmocka_unit_test(test_cert_constraints_fixtures),
	    cmocka_unit_test(test_cert_constraints_detail_truncated),
	    cmocka_unit_test(test_cert_check_private_key_fixtures),
	    cmocka_unit_test(test_cert_check_private_key_all_hosts),
	    cmocka_unit_test(test_cert_sign_and_verify_round_trip),
	    cmocka_unit_test(test_cert_sign_reproduces_fixture),
	    cmocka_unit_test(test_cert_from_pem_errors),
	    cmocka_unit_test(test_cert_from_pem_first_block),
	    cmocka_unit_test(test_cert_hex_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
