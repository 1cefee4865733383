/* test/unit/test_pem.c: PEM framing (Go encoding/pem) and key banners. */
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

#include "err.h"
#include "pem.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define FIXTURES "fixtures/nebula-1.6.1/"

/* pem_decode on a C string. */
static int
dec(const char *s, struct pem_block *b, size_t *consumed)
{
	return pem_decode(s, strlen(s), b, consumed);
}

static bool
type_is(const struct pem_block *b, const char *type)
{
	return b->typelen == strlen(type) &&
	    memcmp(b->type, type, b->typelen) == 0;
}

static const struct {
	const char *file;
	const char *type;
	size_t nblocks;
	size_t len; /* of the first block's data; 0: not checked */
} fixtures[] = {
    {"ca.crt", PEM_CERT, 1, 0},
    {"ca2.crt", PEM_CERT, 1, 0},
    {"ca-expired.crt", PEM_CERT, 1, 0},
    {"lighthouse.crt", PEM_CERT, 1, 0},
    {"host-a.crt", PEM_CERT, 1, 203},
    {"host-b.crt", PEM_CERT, 1, 0},
    {"expired.crt", PEM_CERT, 1, 0},
    {"other-host.crt", PEM_CERT, 1, 0},
    {"ca-bundle.crt", PEM_CERT, 2, 0},
    {"ca-bundle-with-expired.crt", PEM_CERT, 2, 0},
    {"ca.key", PEM_ED25519_PRIV, 1, 64},
    {"ca2.key", PEM_ED25519_PRIV, 1, 64},
    {"ca-expired.key", PEM_ED25519_PRIV, 1, 64},
    {"host-a.key", PEM_X25519_PRIV, 1, 32},
    {"host-b.key", PEM_X25519_PRIV, 1, 32},
    {"lighthouse.key", PEM_X25519_PRIV, 1, 32},
    {"expired.key", PEM_X25519_PRIV, 1, 32},
    {"other-host.key", PEM_X25519_PRIV, 1, 32},
    {"host-b.pub", PEM_X25519_PUB, 1, 32},
};

static void
test_pem_decode_every_fixture(void **state)
{
	struct pem_block b;
	size_t i, len, off, used, n;
	char *s;

	(void)state;
	for (i = 0; i < NELEM(fixtures); i++) {
		s = tu_fixture(fixtures[i].file, &len);
		off = 0;
		for (n = 0; n < fixtures[i].nblocks; n++) {
			if (pem_decode(s + off, len - off, &b, &used) != 0)
				fail_msg("%s: block %zu not decoded",
				    fixtures[i].file, n);
			if (!type_is(&b, fixtures[i].type))
				fail_msg("%s: wrong type", fixtures[i].file);
			if (n == 0 && fixtures[i].len != 0 &&
			    b.len != fixtures[i].len)
				fail_msg("%s: %zu bytes", fixtures[i].file,
				    b.len);
			assert_true(used > 0);
			off += used;
			pem_block_clear(&b);
			assert_null(b.data);
		}
		assert_int_equal(off, len);
		assert_true(pem_rest_empty(s + off, len - off));
		assert_int_equal(pem_decode(s + off, len - off, &b, &used),
		    VPN_ERR_PEM_NONE);
		assert_int_equal(used, 0);
		free(s);
	}
}

/* Go's pem.EncodeToMemory gives back nebula-cert's files byte for byte. */
static void
test_pem_encode_matches_fixtures(void **state)
{
	struct pem_block b;
	size_t i, len, used, outlen;
	char type[64], *s, *out;

	(void)state;
	for (i = 0; i < NELEM(fixtures); i++) {
		if (fixtures[i].nblocks != 1)
			continue;
		s = tu_fixture(fixtures[i].file, &len);
		assert_int_equal(pem_decode(s, len, &b, &used), 0);
		assert_true(b.typelen < sizeof(type));
		memcpy(type, b.type, b.typelen);
		type[b.typelen] = '\0';
		out = pem_encode(type, b.data, b.len, &outlen);
		assert_non_null(out);
		if (outlen != len || memcmp(out, s, len) != 0)
			fail_msg("%s: re-encoding differs:\n%s", fixtures[i].file,
			    out);
		assert_int_equal(out[outlen], '\0');
		assert_int_equal(strlen(out), outlen);
		free(out);
		pem_block_clear(&b);
		free(s);
	}
}

static void
test_pem_encode_host_a_round_trip(void **state)
{
	struct pem_block b;
	size_t len, used, outlen;
	char *s, *out;

	(void)state;
	s = tu_fixture("host-a.crt", &len);
	assert_int_equal(pem_decode_type(s, len, PEM_CERT, &b, &used), 0);
	assert_int_equal(b.len, 203);
	/* 0a 86 01: Details, 134 bytes (certificate.md 6) */
	assert_memory_equal(b.data, "\x0a\x86\x01\x0a\x06host-a", 11);
	out = pem_encode(PEM_CERT, b.data, b.len, &outlen);
	assert_non_null(out);
	assert_int_equal(outlen, len);
	assert_string_equal(out, s);
	free(out);
	pem_block_clear(&b);
	free(s);
}

static void
test_pem_encode_line_lengths(void **state)
{
	uint8_t data[300];
	struct pem_block b;
	size_t n, i, outlen, used, linelen, lines, want;
	const char *p, *nl, *body;
	char *out;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 37 + 11);
	for (n = 0; n <= sizeof(data); n++) {
		out = pem_encode("TEST", data, n, &outlen);
		assert_non_null(out);
		assert_int_equal(strlen(out), outlen);
		assert_true(strncmp(out, "-----BEGIN TEST-----\n", 21) == 0);
		body = out + 21;
		want = (n + 2) / 3 * 4; /* base64 characters */
		lines = 0;
		for (p = body; strncmp(p, "-----END", 8) != 0; p = nl + 1) {
			nl = strchr(p, '\n');
			assert_non_null(nl);
			linelen = (size_t)(nl - p);
			lines++;
			if (want > 64) {
				assert_int_equal(linelen, 64);
				want -= 64;
			} else {
				assert_int_equal(linelen, want);
				want = 0;
			}
		}
		assert_int_equal(want, 0);
		assert_int_equal(lines, ((n + 2) / 3 * 4 + 63) / 64);
		assert_string_equal(p, "-----END TEST-----\n");
		/* and back */
		assert_int_equal(pem_decode(out, outlen, &b, &used), 0);
		assert_int_equal(used, outlen);
		assert_int_equal(b.len, n);
		if (n > 0)
			assert_memory_equal(b.data, data, n);
		pem_block_clear(&b);
		free(out);
	}
}

static void
test_pem_encode_exact_strings(void **state)
{
	char *out;
	size_t outlen;

	(void)state;
	out = pem_encode("T", (const uint8_t *)"", 0, &outlen);
	assert_string_equal(out, "-----BEGIN T-----\n-----END T-----\n");
	free(out);
	out = pem_encode("T", (const uint8_t *)"\x00", 1, NULL);
	assert_string_equal(out, "-----BEGIN T-----\nAA==\n-----END T-----\n");
	free(out);
	out = pem_encode("T", (const uint8_t *)"ab", 2, NULL);
	assert_string_equal(out, "-----BEGIN T-----\nYWI=\n-----END T-----\n");
	free(out);
	out = pem_encode("T", (const uint8_t *)"abc", 3, NULL);
	assert_string_equal(out, "-----BEGIN T-----\nYWJj\n-----END T-----\n");
	free(out);
	out = pem_encode("T", (const uint8_t *)"\xfb\xff", 2, NULL);
	assert_string_equal(out, "-----BEGIN T-----\n+/8=\n-----END T-----\n");
	free(out);
}

static void
test_pem_key_decoders_read_fixtures(void **state)
{
	uint8_t k[64], want[64];
	size_t len, used;
	char *s;

	(void)state;
	s = tu_fixture("host-a.key", &len);
	assert_int_equal(pem_x25519_private(s, len, k, &used), 0);
	assert_int_equal(used, len);
	tu_unhex("886ccb6f4e5be614fd9da0299127137d2d479f4e19f06f04180eea3307e5697b",
	    want, 32);
	assert_memory_equal(k, want, 32);
	free(s);

	/* certificate.md 1.1's example */
	s = tu_fixture("host-b.pub", &len);
	assert_int_equal(pem_x25519_public(s, len, k, NULL), 0);
	tu_unhex("c32eb2e8afd384ae15fd2ffa61a03c8ab18c12247d67ccd5bb0a8db70e447630",
	    want, 32);
	assert_memory_equal(k, want, 32);
	free(s);

	s = tu_fixture("ca.key", &len);
	assert_int_equal(pem_ed25519_private(s, len, k, &used), 0);
	assert_int_equal(used, len);
	tu_unhex("cb57b07cf2d04bd9fdc4c5b6d7da97d2ed9fa25f72f6b6695e83b0f43d964001"
	      "828cb561ad13e3c0a1b13a48e77889afca1f75868c9c0120ed2504e9889463a8",
	    want, 64);
	assert_memory_equal(k, want, 64);
	free(s);
}

static void
test_pem_key_decoders_reject_wrong_banner(void **state)
{
	static const struct {
		const char *file;
		int x25519_priv, x25519_pub, ed25519_priv, ed25519_pub;
	} tc[] = {
	    {"host-a.crt", VPN_ERR_BANNER_X25519_PRIV, VPN_ERR_BANNER_X25519_PUB,
	        VPN_ERR_BANNER_ED25519_PRIV, VPN_ERR_BANNER_ED25519_PUB},
	    {"ca.key", VPN_ERR_BANNER_X25519_PRIV, VPN_ERR_BANNER_X25519_PUB, 0,
	        VPN_ERR_BANNER_ED25519_PUB},
	    {"host-a.key", 0, VPN_ERR_BANNER_X25519_PUB,
	        VPN_ERR_BANNER_ED25519_PRIV, VPN_ERR_BANNER_ED25519_PUB},
	    {"host-b.pub", VPN_ERR_BANNER_X25519_PRIV, 0,
	        VPN_ERR_BANNER_ED25519_PRIV, VPN_ERR_BANNER_ED25519_PUB},
	};
	uint8_t k[64];
	size_t i, len;
	char *s;

	(void)state;
	for (i = 0; i < NELEM(tc); i++) {
		s = tu_fixture(tc[i].file, &len);
		assert_int_equal(pem_x25519_private(s, len, k, NULL),
		    tc[i].x25519_priv);
		assert_int_equal(pem_x25519_public(s, len, k, NULL),
		    tc[i].x25519_pub);
		assert_int_equal(pem_ed25519_private(s, len, k, NULL),
		    tc[i].ed25519_priv);
		assert_int_equal(pem_ed25519_public(s, len, k, NULL),
		    tc[i].ed25519_pub);
		free(s);
	}
}

static void
test_pem_key_decoders_no_block(void **state)
{
	static const char junk[] = "not a key\n";
	uint8_t k[64];

	(void)state;
	assert_int_equal(pem_x25519_private(junk, strlen(junk), k, NULL),
	    VPN_ERR_PEM_NONE);
	assert_int_equal(pem_x25519_public(junk, strlen(junk), k, NULL),
	    VPN_ERR_PEM_NONE);
	assert_int_equal(pem_ed25519_private(junk, strlen(junk), k, NULL),
	    VPN_ERR_PEM_NONE);
	assert_int_equal(pem_ed25519_public(junk, strlen(junk), k, NULL),
	    VPN_ERR_PEM_NONE);
	assert_int_equal(pem_x25519_private("", 0, k, NULL), VPN_ERR_PEM_NONE);
	assert_string_equal(vpn_strerror(VPN_ERR_PEM_NONE),
	    "input did not contain a valid PEM encoded block");
}

typedef int (*key_fn)(const char *, size_t, uint8_t *, size_t *);

static void
test_pem_key_decoders_check_length(void **state)
{
	static const struct {
		const char *type;
		key_fn fn;
		size_t want;
		int err;
	} tc[] = {
	    {PEM_X25519_PRIV, pem_x25519_private, 32,
	        VPN_ERR_KEYLEN_X25519_PRIV},
	    {PEM_X25519_PUB, pem_x25519_public, 32, VPN_ERR_KEYLEN_X25519_PUB},
	    {PEM_ED25519_PRIV, pem_ed25519_private, 64,
	        VPN_ERR_KEYLEN_ED25519_PRIV},
	    {PEM_ED25519_PUB, pem_ed25519_public, 32,
	        VPN_ERR_KEYLEN_ED25519_PUB},
	};
	static const size_t lens[] = {0, 1, 31, 32, 33, 63, 64, 65, 128};
	uint8_t data[128], k[64];
	size_t i, j, outlen;
	char *s;
	int r;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	for (i = 0; i < NELEM(tc); i++) {
		for (j = 0; j < NELEM(lens); j++) {
			s = pem_encode(tc[i].type, data, lens[j], &outlen);
			assert_non_null(s);
			memset(k, 0xee, sizeof(k));
			r = tc[i].fn(s, outlen, k, NULL);
			if (lens[j] == tc[i].want) {
				assert_int_equal(r, 0);
				assert_memory_equal(k, data, tc[i].want);
			} else if (r != tc[i].err) {
				fail_msg("%s with %zu bytes: %d, want %d",
				    tc[i].type, lens[j], r, tc[i].err);
			}
			free(s);
		}
	}
	assert_string_equal(vpn_strerror(VPN_ERR_KEYLEN_X25519_PRIV),
	    "key was not 32 bytes, is invalid X25519 private key");
	assert_string_equal(vpn_strerror(VPN_ERR_KEYLEN_ED25519_PRIV),
	    "key was not 64 bytes, is invalid ed25519 private key");
	assert_string_equal(vpn_strerror(VPN_ERR_BANNER_CERT),
	    "bytes did not contain a proper nebula certificate banner");
	assert_string_equal(vpn_strerror(VPN_ERR_BANNER_X25519_PRIV),
	    "bytes did not contain a proper nebula X25519 private key banner");
	assert_string_equal(vpn_strerror(VPN_ERR_BANNER_ED25519_PRIV),
	    "bytes did not contain a proper nebula Ed25519 private key banner");
}

/* Single-block readers use the first block and ignore the rest. */
static void
test_pem_key_decoder_uses_first_block(void **state)
{
	size_t alen, blen, used;
	char *a, *b, *ab;
	uint8_t k[32], want[32];

	(void)state;
	a = tu_fixture("host-a.key", &alen);
	b = tu_fixture("host-b.key", &blen);
	ab = malloc(alen + blen);
	assert_non_null(ab);
	memcpy(ab, a, alen);
	memcpy(ab + alen, b, blen);
	assert_int_equal(pem_x25519_private(ab, alen + blen, k, &used), 0);
	assert_int_equal(used, alen);
	tu_unhex("886ccb6f4e5be614fd9da0299127137d2d479f4e19f06f04180eea3307e5697b",
	    want, 32);
	assert_memory_equal(k, want, 32);
	free(ab);
	free(b);
	free(a);
}

static void
test_pem_skips_text_before_block(void **state)
{
	static const char pre[] = "Some text\r\nnot -----BEGIN X-----\n\n";
	struct pem_block b, ref;
	size_t len, used, rlen;
	char *s, *buf;

	(void)state;
	s = tu_fixture("host-a.crt", &len);
	assert_int_equal(pem_decode(s, len, &ref, &rlen), 0);
	buf = malloc(sizeof(pre) - 1 + len);
	assert_non_null(buf);
	memcpy(buf, pre, sizeof(pre) - 1);
	memcpy(buf + sizeof(pre) - 1, s, len);
	assert_int_equal(pem_decode(buf, sizeof(pre) - 1 + len, &b, &used), 0);
	assert_true(type_is(&b, PEM_CERT));
	assert_int_equal(used, sizeof(pre) - 1 + len);
	assert_int_equal(b.len, ref.len);
	assert_memory_equal(b.data, ref.data, ref.len);
	pem_block_clear(&b);
	pem_block_clear(&ref);
	free(buf);
	free(s);
}

/* BEGIN must start a line: "junk-----BEGIN" is not a block. */
static void
test_pem_begin_must_start_line(void **state)
{
	static const char in[] = "junk-----BEGIN T-----\nAAAA\n-----END T-----\n";
	static const char ok[] = "junk\n-----BEGIN T-----\nAAAA\n-----END T-----\n";
	struct pem_block b;
	size_t used = 99;

	(void)state;
	assert_int_equal(dec(in, &b, &used), VPN_ERR_PEM_NONE);
	assert_int_equal(used, 0);
	assert_int_equal(dec(ok, &b, &used), 0);
	assert_int_equal(used, strlen(ok));
	assert_int_equal(b.len, 3);
	pem_block_clear(&b);
}

static void
test_pem_two_blocks_in_sequence(void **state)
{
	struct pem_block b, ref;
	size_t len, used, l1, l2, u;
	char *s, *ca, *ca2;

	(void)state;
	s = tu_fixture("ca-bundle.crt", &len);
	ca = tu_fixture("ca.crt", &l1);
	ca2 = tu_fixture("ca2.crt", &l2);
	assert_int_equal(len, l1 + l2);

	assert_int_equal(pem_decode(s, len, &b, &used), 0);
	assert_int_equal(used, l1); /* just past the first END line */
	assert_int_equal(pem_decode(ca, l1, &ref, &u), 0);
	assert_int_equal(b.len, ref.len);
	assert_memory_equal(b.data, ref.data, b.len);
	pem_block_clear(&b);
	pem_block_clear(&ref);
	assert_false(pem_rest_empty(s + used, len - used));

	assert_int_equal(pem_decode(s + used, len - used, &b, &u), 0);
	assert_int_equal(u, l2);
	assert_int_equal(pem_decode(ca2, l2, &ref, &u), 0);
	assert_int_equal(b.len, ref.len);
	assert_memory_equal(b.data, ref.data, b.len);
	pem_block_clear(&b);
	pem_block_clear(&ref);
	free(ca2);
	free(ca);
	free(s);
}

/* consumed points just past the END line, before what follows it. */
static void
test_pem_consumed_stops_after_end_line(void **state)
{
	static const char in[] =
	    "-----BEGIN T-----\nAAAA\n-----END T-----\nrest of file\n";
	static const char nonl[] = "-----BEGIN T-----\nAAAA\n-----END T-----";
	static const char ws[] = "-----BEGIN T-----\nAAAA\n-----END T----- \t\r\n"
				 "x";
	struct pem_block b;
	size_t used;

	(void)state;
	assert_int_equal(dec(in, &b, &used), 0);
	assert_string_equal(in + used, "rest of file\n");
	pem_block_clear(&b);
	assert_int_equal(dec(nonl, &b, &used), 0);
	assert_int_equal(used, strlen(nonl));
	pem_block_clear(&b);
	assert_int_equal(dec(ws, &b, &used), 0);
	assert_string_equal(ws + used, "x");
	pem_block_clear(&b);
}

static void
test_pem_truncated_is_not_a_block(void **state)
{
	struct pem_block b;
	size_t len, n, used;
	char *s;

	(void)state;
	s = tu_fixture("host-a.crt", &len);
	/* without the final newline the block is still complete */
	assert_int_equal(pem_decode(s, len - 1, &b, &used), 0);
	assert_int_equal(used, len - 1);
	pem_block_clear(&b);
	for (n = 0; n < len - 1; n++) {
		used = 99;
		if (pem_decode(s, n, &b, &used) != VPN_ERR_PEM_NONE)
			fail_msg("prefix of %zu bytes decoded", n);
		assert_int_equal(used, 0);
		assert_null(b.data);
	}
	free(s);
}

static void
test_pem_missing_end(void **state)
{
	static const char in[] = "-----BEGIN NEBULA X25519 PUBLIC KEY-----\n"
				 "wy6y6K/ThK4V/S/6YaA8irGMEiR9Z8zVuwqNtw5EdjA=\n";
	static const char half[] = "-----BEGIN T-----\nAAAA\n-----END T----";
	static const char noend[] = "-----BEGIN T-----\nAAAA\n-----EN T-----\n";
	struct pem_block b;
	size_t used;
	uint8_t k[32];

	(void)state;
	assert_int_equal(dec(in, &b, &used), VPN_ERR_PEM_NONE);
	assert_int_equal(pem_x25519_public(in, strlen(in), k, NULL),
	    VPN_ERR_PEM_NONE);
	assert_int_equal(dec(half, &b, &used), VPN_ERR_PEM_NONE);
	assert_int_equal(dec(noend, &b, &used), VPN_ERR_PEM_NONE);
	assert_int_equal(dec("-----BEGIN T-----", &b, &used),
	    VPN_ERR_PEM_NONE);
	assert_int_equal(dec("-----BEGIN T-----\n", &b, &used),
	    VPN_ERR_PEM_NONE);
}

static void
test_pem_mismatched_end_type(void **state)
{
	static const char *const tc[] = {
	    ("-----BEGIN NEBULA CERTIFICATE-----\nAAAA\n"
	     "-----END NEBULA X25519 PUBLIC KEY-----\n"),
	    "-----BEGIN T-----\nAAAA\n-----END U-----\n",
	    "-----BEGIN T-----\nAAAA\n-----END TT-----\n",
	    "-----BEGIN TT-----\nAAAA\n-----END T-----\n",
	    "-----BEGIN T-----\nAAAA\n-----END t-----\n",
	    "-----BEGIN T-----\nAAAA\n-----END T----\n",
	    "-----BEGIN T-----\nAAAA\n-----END T-----x\n",
	    "-----BEGIN T-----\nAAAA\n-----END T----- x\n",
	};
	struct pem_block b;
	size_t i, used;

	(void)state;
	for (i = 0; i < NELEM(tc); i++)
		if (dec(tc[i], &b, &used) != VPN_ERR_PEM_NONE)
			fail_msg("case %zu decoded", i);
}

static void
test_pem_bad_type_line(void **state)
{
	static const char *const tc[] = {
	    "-----BEGIN T\nAAAA\n-----END T-----\n",
	    "-----BEGIN T----\nAAAA\n-----END T-----\n",
	    "-----BEGIN T-----x\nAAAA\n-----END T-----\n",
	};
	struct pem_block b;
	size_t i, used;

	(void)state;
	for (i = 0; i < NELEM(tc); i++)
		if (dec(tc[i], &b, &used) != VPN_ERR_PEM_NONE)
			fail_msg("case %zu decoded", i);
	/* trailing spaces after the dashes are trimmed like Go's getLine */
	assert_int_equal(dec("-----BEGIN T----- \t\nAAAA\n-----END T-----\n",
	                     &b, &used),
	    0);
	assert_true(type_is(&b, "T"));
	pem_block_clear(&b);
}

static void
test_pem_bad_base64(void **state)
{
	static const char *const bodies[] = {
	    "AA*A",	/* bad character */
	    "AAA",	/* missing padding */
	    "AA",	/* missing padding */
	    "A",	/* a lone sextet */
	    "AAAAA",	/* 5 characters */
	    "A===",	/* padding too early */
	    "====",	/* only padding */
	    "=AAA",	/* padding first */
	    "AA=",	/* half the padding */
	    "AA==AAAA", /* data after padding */
	    "AAA=AAAA", /* data after padding */
	    "AA==A",	/* data after padding */
	    "AA=A",	/* data inside padding */
	    "AA===",	/* too much padding */
	    "AAA==",	/* too much padding */
	    "AAAA=",	/* padding with nothing to pad */
	    "AA-_",	/* URL alphabet */
	    "AA\vA",	/* vertical tab is not skipped */
	    "AA\200A",	/* high byte */
	};
	struct pem_block b;
	size_t i, used;
	char buf[128];

	(void)state;
	for (i = 0; i < NELEM(bodies); i++) {
		snprintf(buf, sizeof(buf),
		    "-----BEGIN T-----\n%s\n-----END T-----\n", bodies[i]);
		used = 99;
		if (dec(buf, &b, &used) != VPN_ERR_PEM_NONE)
			fail_msg("body \"%s\" decoded", bodies[i]);
		assert_int_equal(used, 0);
	}
}

static void
test_pem_good_base64(void **state)
{
	static const struct {
		const char *body;
		const char *data;
		size_t len;
	} tc[] = {
	    {"", "", 0},
	    {"AA==", "\x00", 1},
	    {"AAA=", "\x00\x00", 2},
	    {"AAAA", "\x00\x00\x00", 3},
	    {"YWJj", "abc", 3},
	    {"YWJjZA==", "abcd", 4},
	    {"+/8=", "\xfb\xff", 2},
	    {"AB==", "\x00", 1},	    /* stray bits are ignored (not Strict) */
	    {"YW Jj\tZA==", "abcd", 4},     /* pem drops spaces and tabs */
	    {"YWJj\r\nZA=\n=", "abcd", 4}, /* base64 skips CR and LF */
	    {"YWJj\n\nZA==\n\n", "abcd", 4},
	};
	struct pem_block b;
	size_t i, used;
	char buf[128];

	(void)state;
	for (i = 0; i < NELEM(tc); i++) {
		snprintf(buf, sizeof(buf),
		    "-----BEGIN T-----\n%s\n-----END T-----\n", tc[i].body);
		if (dec(buf, &b, &used) != 0)
			fail_msg("body %zu rejected", i);
		assert_int_equal(used, strlen(buf));
		assert_int_equal(b.len, tc[i].len);
		if (tc[i].len > 0)
			assert_memory_equal(b.data, tc[i].data, tc[i].len);
		pem_block_clear(&b);
	}
}

static void
test_pem_empty_block(void **state)
{
	static const char in[] = "-----BEGIN NEBULA CERTIFICATE-----\n"
				 "-----END NEBULA CERTIFICATE-----\n";
	struct pem_block b;
	size_t used;

	(void)state;
	assert_int_equal(dec(in, &b, &used), 0);
	assert_true(type_is(&b, PEM_CERT));
	assert_int_equal(b.len, 0);
	assert_int_equal(used, strlen(in));
	pem_block_clear(&b);
}

/* Go restarts the search after a rejected block's BEGIN line. */
static void
test_pem_bad_block_then_good_block(void **state)
{
	static const char bad[] = "-----BEGIN NEBULA CERTIFICATE-----\n"
				  "*not base64*\n"
				  "-----END NEBULA CERTIFICATE-----\n";
	static const char nested[] = "-----BEGIN A-----\n-----BEGIN B-----\n"
				     "YWJj\n-----END B-----\n-----END A-----\n";
	struct pem_block b, ref;
	size_t len, used, rlen;
	char *s, *buf;

	(void)state;
	s = tu_fixture("host-a.crt", &len);
	assert_int_equal(pem_decode(s, len, &ref, &rlen), 0);
	buf = malloc(sizeof(bad) - 1 + len);
	assert_non_null(buf);
	memcpy(buf, bad, sizeof(bad) - 1);
	memcpy(buf + sizeof(bad) - 1, s, len);
	assert_int_equal(pem_decode(buf, sizeof(bad) - 1 + len, &b, &used), 0);
	assert_int_equal(used, sizeof(bad) - 1 + len);
	assert_int_equal(b.len, ref.len);
	assert_memory_equal(b.data, ref.data, ref.len);
	pem_block_clear(&b);
	pem_block_clear(&ref);
	free(buf);
	free(s);

	/* A's END never matches; B, found after A's BEGIN line, does */
	assert_int_equal(dec(nested, &b, &used), 0);
	assert_true(type_is(&b, "B"));
	assert_int_equal(b.len, 3);
	assert_string_equal(nested + used, "-----END A-----\n");
	pem_block_clear(&b);
}

static void
test_pem_crlf_line_endings(void **state)
{
	struct pem_block b, ref;
	size_t len, used, rlen, i, o;
	char *s, *crlf;

	(void)state;
	s = tu_fixture("host-a.crt", &len);
	assert_int_equal(pem_decode(s, len, &ref, &rlen), 0);
	crlf = malloc(2 * len);
	assert_non_null(crlf);
	for (i = 0, o = 0; i < len; i++) {
		if (s[i] == '\n')
			crlf[o++] = '\r';
		crlf[o++] = s[i];
	}
	assert_int_equal(pem_decode(crlf, o, &b, &used), 0);
	assert_true(type_is(&b, PEM_CERT));
	assert_int_equal(used, o);
	assert_int_equal(b.len, ref.len);
	assert_memory_equal(b.data, ref.data, ref.len);
	pem_block_clear(&b);
	pem_block_clear(&ref);
	free(crlf);
	free(s);
}

static void
test_pem_headers_are_skipped(void **state)
{
	static const char with_blank[] = "-----BEGIN T-----\n"
					 "Proc-Type: 4,ENCRYPTED\n"
					 "DEK-Info: AES-128-CBC,00\n"
					 "\n"
					 "AAECAw==\n"
					 "-----END T-----\n";
	static const char no_blank[] = "-----BEGIN T-----\n"
				       "Key: value\n"
				       "AAECAw==\n"
				       "-----END T-----\n";
	/* with headers Go wants a newline before END: this is no block */
	static const char hdr_end[] = "-----BEGIN T-----\n"
				      "Key: value\n"
				      "-----END T-----\n";
	struct pem_block b;
	size_t used;

	(void)state;
	assert_int_equal(dec(with_blank, &b, &used), 0);
	assert_int_equal(used, strlen(with_blank));
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "\x00\x01\x02\x03", 4);
	pem_block_clear(&b);
	assert_int_equal(dec(no_blank, &b, &used), 0);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "\x00\x01\x02\x03", 4);
	pem_block_clear(&b);
	assert_int_equal(dec(hdr_end, &b, &used), VPN_ERR_PEM_NONE);
}

static void
test_pem_decode_type(void **state)
{
	struct pem_block b;
	size_t len, used;
	char *s;

	(void)state;
	s = tu_fixture("host-a.key", &len);
	used = 0;
	assert_int_equal(pem_decode_type(s, len, PEM_CERT, &b, &used),
	    VPN_ERR_PEM_TYPE);
	assert_int_equal(used, len); /* still set past the block */
	assert_null(b.data);
	assert_int_equal(pem_decode_type(s, len, PEM_X25519_PRIV, &b, &used),
	    0);
	assert_int_equal(b.len, 32);
	pem_block_clear(&b);
	/* the type must match exactly: no prefix, no case folding */
	assert_int_equal(pem_decode_type(s, len, "NEBULA X25519 PRIVATE", &b,
	                     &used),
	    VPN_ERR_PEM_TYPE);
	assert_int_equal(pem_decode_type(s, len, "NEBULA X25519 PRIVATE KEYS",
	                     &b, &used),
	    VPN_ERR_PEM_TYPE);
	assert_int_equal(pem_decode_type(s, len, "nebula x25519 private key",
	                     &b, &used),
	    VPN_ERR_PEM_TYPE);
	assert_int_equal(pem_decode_type("x", 1, PEM_CERT, &b, &used),
	    VPN_ERR_PEM_NONE);
	free(s);
}

static void
test_pem_rest_empty(void **state)
{
	(void)state;
	assert_true(pem_rest_empty("", 0));
	assert_true(pem_rest_empty(" \t\r\n\v\f", 6));
	assert_false(pem_rest_empty("\n\nx\n", 4));
	assert_false(pem_rest_empty("\0", 1));
	assert_false(pem_rest_empty("-----BEGIN", 10));
}

/*
 * BUG (lib/pem.c pem_rest_empty): pem.h promises Go's
 * strings.TrimSpace(s) == "", and Go's TrimSpace also strips Unicode
 * spaces (U+0085, U+00A0, U+2000..U+200A, U+2028, U+2029, U+3000, ...).
 * Nebula stops reading a CA bundle at such a tail; we treat it as another
 * (missing) block.
 */
static void
test_pem_rest_empty_bug_unicode_spaces(void **state)
{
	(void)state;
	assert_true(pem_rest_empty("\xc2\xa0", 2));	    /* U+00A0 */
	assert_true(pem_rest_empty("\n\xc2\x85\n", 4));     /* U+0085 */
	assert_true(pem_rest_empty("\xe2\x80\x83", 3));     /* U+2003 */
	assert_true(pem_rest_empty("\xe3\x80\x80 \n", 5)); /* U+3000 */
}

/*
 * BUG (lib/pem.c get_line): Go's getLine drops one '\r' only when it
 * directly precedes the '\n', then trims spaces and tabs; get_line trims
 * any run of " \t\r", also at the end of input.  Go finds no block in
 * these inputs; lib/pem.c accepts them.
 */
static void
test_pem_getline_bug_cr_handling(void **state)
{
	static const char *const tc[] = {
	    /* END line ends the input with a bare CR */
	    "-----BEGIN T-----\nAAAA\n-----END T-----\r",
	    /* CR followed by a space on the BEGIN line */
	    "-----BEGIN T-----\r \nAAAA\n-----END T-----\n",
	    /* two CRs after the END line */
	    "-----BEGIN T-----\nAAAA\n-----END T-----\r\r\n",
	};
	struct pem_block b;
	size_t i, used;
	int r;

	(void)state;
	for (i = 0; i < NELEM(tc); i++) {
		r = dec(tc[i], &b, &used);
		if (r == 0)
			pem_block_clear(&b);
		if (r != VPN_ERR_PEM_NONE)
			fail_msg("case %zu decoded; Go finds no block", i);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pem_decode_every_fixture),
	    cmocka_unit_test(test_pem_encode_matches_fixtures),
	    cmocka_unit_test(test_pem_encode_host_a_round_trip),
	    cmocka_unit_test(test_pem_encode_line_lengths),
	    cmocka_unit_test(test_pem_encode_exact_strings),
	    cmocka_unit_test(test_pem_key_decoders_read_fixtures),
	    cmocka_unit_test(test_pem_key_decoders_reject_wrong_banner),
	    cmocka_unit_test(test_pem_key_decoders_no_block),
	    cmocka_unit_test(test_pem_key_decoders_check_length),
	    cmocka_unit_test(test_pem_key_decoder_uses_first_block),
	    cmocka_unit_test(test_pem_skips_text_before_block),
	    cmocka_unit_test(test_pem_begin_must_start_line),
	    cmocka_unit_test(test_pem_two_blocks_in_sequence),
	    cmocka_unit_test(test_pem_consumed_stops_after_end_line),
	    cmocka_unit_test(test_pem_truncated_is_not_a_block),
	    cmocka_unit_test(test_pem_missing_end),
	    cmocka_unit_test(test_pem_mismatched_end_type),
	    cmocka_unit_test(test_pem_bad_type_line),
	    cmocka_unit_test(test_pem_bad_base64),
	    cmocka_unit_test(test_pem_good_base64),
	    cmocka_unit_test(test_pem_empty_block),
	    cmocka_unit_test(test_pem_bad_block_then_good_block),
	    cmocka_unit_test(test_pem_crlf_line_endings),
	    cmocka_unit_test(test_pem_headers_are_skipped),
	    cmocka_unit_test(test_pem_decode_type),
	    cmocka_unit_test(test_pem_rest_empty),
	    cmocka_unit_test(test_pem_rest_empty_bug_unicode_spaces),
	    cmocka_unit_test(test_pem_getline_bug_cr_handling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
