/* test/unit/test_crypto.c: the OpenSSL wrapper against published vectors. */
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

#include "crypto.h"
#include "err.h"
#include "pem.h"

#define FIXTURES "fixtures/nebula-1.6.1/"

/* RFC 8032 7.1, TEST 1 (empty message) */
#define ED1_SEED "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define ED1_PUB "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define ED1_SIG                                                                \
	"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"    \
	"5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"

static void
test_crypto_ed25519_rfc8032_test1(void **state)
{
	uint8_t priv[64], pub[32], want[64], sig[64];

	(void)state;
	tu_unhex(ED1_SEED, priv, 32);
	tu_unhex(ED1_PUB, want, 32);
	assert_int_equal(crypto_ed25519_public(priv, pub), 0);
	assert_memory_equal(pub, want, 32);
	memcpy(priv + 32, pub, 32);

	assert_int_equal(crypto_ed25519_sign(priv, NULL, 0, sig), 0);
	tu_unhex(ED1_SIG, want, 64);
	assert_memory_equal(sig, want, 64);
	assert_true(crypto_ed25519_verify(pub, 32, NULL, 0, sig, 64));
	assert_true(crypto_ed25519_verify(pub, 32, (const uint8_t *)"", 0, sig,
	    64));
}

/* RFC 8032 7.1, TEST 2 (one byte, 0x72) */
static void
test_crypto_ed25519_rfc8032_test2(void **state)
{
	uint8_t priv[64], pub[32], want[64], sig[64];
	const uint8_t msg[] = {0x72};

	(void)state;
	tu_unhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	    priv, 32);
	tu_unhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
	    pub, 32);
	memcpy(priv + 32, pub, 32);
	assert_int_equal(crypto_ed25519_sign(priv, msg, 1, sig), 0);
	tu_unhex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
	      "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
	    want, 64);
	assert_memory_equal(sig, want, 64);
	assert_true(crypto_ed25519_verify(pub, 32, msg, 1, sig, 64));
}

static void
test_crypto_ed25519_verify_rejects(void **state)
{
	uint8_t pub[32], sig[64], bad[64];
	const uint8_t msg[] = {0x00};
	size_t i;

	(void)state;
	tu_unhex(ED1_PUB, pub, 32);
	tu_unhex(ED1_SIG, sig, 64);
	/* another message */
	assert_false(crypto_ed25519_verify(pub, 32, msg, 1, sig, 64));
	/* each flipped bit of the signature */
	for (i = 0; i < 64 * 8; i++) {
		memcpy(bad, sig, 64);
		bad[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (crypto_ed25519_verify(pub, 32, NULL, 0, bad, 64))
			fail_msg("flipped bit %zu verified", i);
	}
	/* wrong sizes */
	assert_false(crypto_ed25519_verify(pub, 31, NULL, 0, sig, 64));
	assert_false(crypto_ed25519_verify(pub, 33, NULL, 0, sig, 64));
	assert_false(crypto_ed25519_verify(pub, 32, NULL, 0, sig, 63));
	assert_false(crypto_ed25519_verify(pub, 32, NULL, 0, sig, 0));
	/* another key */
	pub[0] ^= 1;
	assert_false(crypto_ed25519_verify(pub, 32, NULL, 0, sig, 64));
}

static void
test_crypto_ed25519_keypair_signs(void **state)
{
	uint8_t a[64], b[64], pub[32], sig[64];
	static const char msg[] = "nebula";

	(void)state;
	assert_int_equal(crypto_ed25519_keypair(a), 0);
	assert_int_equal(crypto_ed25519_keypair(b), 0);
	assert_memory_not_equal(a, b, 64);
	/* priv = seed || pub */
	assert_int_equal(crypto_ed25519_public(a, pub), 0);
	assert_memory_equal(pub, a + 32, 32);
	assert_int_equal(crypto_ed25519_sign(a, (const uint8_t *)msg,
	                     strlen(msg), sig),
	    0);
	assert_true(crypto_ed25519_verify(a + 32, 32, (const uint8_t *)msg,
	    strlen(msg), sig, 64));
	assert_false(crypto_ed25519_verify(b + 32, 32, (const uint8_t *)msg,
	    strlen(msg), sig, 64));
}

/* The fixture CA key: the second half is the public key of the seed. */
static void
test_crypto_ed25519_fixture_ca_key(void **state)
{
	uint8_t k[64], pub[32];
	size_t len;
	char *s;

	(void)state;
	s = tu_fixture("ca.key", &len);
	assert_int_equal(pem_ed25519_private(s, len, k, NULL), 0);
	assert_int_equal(crypto_ed25519_public(k, pub), 0);
	assert_memory_equal(pub, k + 32, 32);
	free(s);
}

/* RFC 7748 5.2, first vector */
static void
test_crypto_x25519_rfc7748_5_2(void **state)
{
	uint8_t k[32], u[32], out[32], want[32];

	(void)state;
	tu_unhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	    k, 32);
	tu_unhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	    u, 32);
	tu_unhex("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
	    want, 32);
	assert_int_equal(crypto_x25519(k, u, out), 0);
	assert_memory_equal(out, want, 32);
}

/* RFC 7748 6.1: Alice and Bob */
static void
test_crypto_x25519_rfc7748_6_1(void **state)
{
	uint8_t a[32], b[32], apub[32], bpub[32], want[32], s1[32], s2[32];

	(void)state;
	tu_unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	    a, 32);
	tu_unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	    b, 32);
	assert_int_equal(crypto_x25519_public(a, apub), 0);
	tu_unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	    want, 32);
	assert_memory_equal(apub, want, 32);
	assert_int_equal(crypto_x25519_public(b, bpub), 0);
	tu_unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	    want, 32);
	assert_memory_equal(bpub, want, 32);
	tu_unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
	    want, 32);
	assert_int_equal(crypto_x25519(a, bpub, s1), 0);
	assert_int_equal(crypto_x25519(b, apub, s2), 0);
	assert_memory_equal(s1, want, 32);
	assert_memory_equal(s2, want, 32);
}

static void
test_crypto_x25519_rejects_low_order_point(void **state)
{
	uint8_t k[32], zero[32], one[32], out[32];

	(void)state;
	tu_unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	    k, 32);
	memset(zero, 0, sizeof(zero));
	memset(one, 0, sizeof(one));
	one[0] = 1;
	assert_int_equal(crypto_x25519(k, zero, out), VPN_ERR_CRYPTO);
	assert_int_equal(crypto_x25519(k, one, out), VPN_ERR_CRYPTO);
}

/* The DH with our public key at hand, and with the static key kept
 * between calls: RFC 7748 6.1 either way, whatever key came before, and
 * low-order points refused. */
static void
test_crypto_x25519_dh_and_static(void **state)
{
	uint8_t a[32], b[32], apub[32], bpub[32], want[32], s[32], zero[32];

	(void)state;
	tu_unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	    a, 32);
	tu_unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	    b, 32);
	tu_unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
	    want, 32);
	assert_int_equal(crypto_x25519_public(a, apub), 0);
	assert_int_equal(crypto_x25519_public(b, bpub), 0);
	memset(s, 0, 32);
	assert_int_equal(crypto_x25519_dh(a, apub, bpub, s), 0);
	assert_memory_equal(s, want, 32);
	memset(s, 0, 32);
	assert_int_equal(crypto_x25519_dh(b, NULL, apub, s), 0);
	assert_memory_equal(s, want, 32);
	/* a, then b (the kept key is replaced), then a again */
	memset(s, 0, 32);
	assert_int_equal(crypto_x25519_static(a, apub, bpub, s), 0);
	assert_memory_equal(s, want, 32);
	memset(s, 0, 32);
	assert_int_equal(crypto_x25519_static(b, bpub, apub, s), 0);
	assert_memory_equal(s, want, 32);
	memset(s, 0, 32);
	assert_int_equal(crypto_x25519_static(a, apub, bpub, s), 0);
	assert_memory_equal(s, want, 32);
	memset(zero, 0, sizeof(zero));
	assert_int_equal(crypto_x25519_dh(a, apub, zero, s), VPN_ERR_CRYPTO);
	assert_int_equal(crypto_x25519_static(a, apub, zero, s), VPN_ERR_CRYPTO);
}

static void
test_crypto_x25519_keypair(void **state)
{
	uint8_t a[32], apub[32], b[32], bpub[32], pub[32], s1[32], s2[32];

	(void)state;
	assert_int_equal(crypto_x25519_keypair(a, apub), 0);
	assert_int_equal(crypto_x25519_keypair(b, bpub), 0);
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(crypto_x25519_public(a, pub), 0);
	assert_memory_equal(pub, apub, 32);
	assert_int_equal(crypto_x25519(a, bpub, s1), 0);
	assert_int_equal(crypto_x25519(b, apub, s2), 0);
	assert_memory_equal(s1, s2, 32);
}

/* nebula-cert keygen: host-b.pub = X25519(host-b.key, 9), unclamped key. */
static void
test_crypto_x25519_fixture_host_b(void **state)
{
	uint8_t priv[32], pub[32], want[32];
	size_t len;
	char *s;

	(void)state;
	s = tu_fixture("host-b.key", &len);
	assert_int_equal(pem_x25519_private(s, len, priv, NULL), 0);
	free(s);
	s = tu_fixture("host-b.pub", &len);
	assert_int_equal(pem_x25519_public(s, len, want, NULL), 0);
	free(s);
	/* the file holds the raw random scalar, not clamped */
	assert_true((priv[0] & 7) != 0 || (priv[31] & 0xc0) != 0x40);
	assert_int_equal(crypto_x25519_public(priv, pub), 0);
	assert_memory_equal(pub, want, 32);

	/* host-a.key's public key is the one in host-a.crt */
	s = tu_fixture("host-a.key", &len);
	assert_int_equal(pem_x25519_private(s, len, priv, NULL), 0);
	free(s);
	assert_int_equal(crypto_x25519_public(priv, pub), 0);
	tu_unhex("31558d22e41813ee8d73d466ae0d4c1d90528d0dd3f2e5ce9d25c9def68cd91c",
	    want, 32);
	assert_memory_equal(pub, want, 32);
}

static void
test_crypto_sha256_vectors(void **state)
{
	uint8_t out[32], want[32];
	static const char two[] =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	(void)state;
	crypto_sha256("abc", 3, out);
	tu_unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    want, 32);
	assert_memory_equal(out, want, 32);
	crypto_sha256("", 0, out);
	tu_unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    want, 32);
	assert_memory_equal(out, want, 32);
	crypto_sha256(two, strlen(two), out);
	tu_unhex("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	    want, 32);
	assert_memory_equal(out, want, 32);
}

/* The McGrew-Viega GCM test case 16 (AES-256, 60 bytes, 20 bytes AD). */
static void
test_crypto_gcm_test_case_16(void **state)
{
	uint8_t key[32], nonce[12], ad[20], pt[60], ct[76], want[76], back[60];

	(void)state;
	tu_unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	    key, 32);
	tu_unhex("cafebabefacedbaddecaf888", nonce, 12);
	tu_unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", ad, 20);
	tu_unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	    pt, 60);
	tu_unhex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	      "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
	      "76fc6ece0f4e1768cddf8853bb2d551b",
	    want, 76);
	assert_int_equal(crypto_gcm_seal(key, nonce, ad, 20, pt, 60, ct), 0);
	assert_memory_equal(ct, want, 76);
	assert_int_equal(crypto_gcm_open(key, nonce, ad, 20, ct, 76, back), 0);
	assert_memory_equal(back, pt, 60);
}

/* Test cases 13 and 14: zero key, empty and one-block plaintexts. */
static void
test_crypto_gcm_zero_key_vectors(void **state)
{
	uint8_t key[32], nonce[12], pt[16], ct[32], want[32], out[16];

	(void)state;
	memset(key, 0, sizeof(key));
	memset(nonce, 0, sizeof(nonce));
	memset(pt, 0, sizeof(pt));
	assert_int_equal(crypto_gcm_seal(key, nonce, NULL, 0, NULL, 0, ct), 0);
	tu_unhex("530f8afbc74536b9a963b4f1c4cb738b", want, 16);
	assert_memory_equal(ct, want, 16);
	assert_int_equal(crypto_gcm_open(key, nonce, NULL, 0, ct, 16, out), 0);

	assert_int_equal(crypto_gcm_seal(key, nonce, NULL, 0, pt, 16, ct), 0);
	tu_unhex("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919",
	    want, 32);
	assert_memory_equal(ct, want, 32);
}

static void
test_crypto_gcm_detects_tampering(void **state)
{
	uint8_t key[32], nonce[12], ad[8] = "header!", pt[100], ct[116],
	    out[100], bad[116];
	size_t i, k;

	(void)state;
	assert_int_equal(crypto_random(key, sizeof(key)), 0);
	assert_int_equal(crypto_random(nonce, sizeof(nonce)), 0);
	for (i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)i;
	assert_int_equal(crypto_gcm_seal(key, nonce, ad, 8, pt, 100, ct), 0);
	assert_memory_not_equal(ct, pt, 100);
	assert_int_equal(crypto_gcm_open(key, nonce, ad, 8, ct, 116, out), 0);
	assert_memory_equal(out, pt, 100);

	/* any flipped byte, tag or ciphertext, fails and leaves out zeroed */
	for (i = 0; i < sizeof(ct); i++) {
		memcpy(bad, ct, sizeof(ct));
		bad[i] ^= 0x01;
		memset(out, 0xee, sizeof(out));
		if (crypto_gcm_open(key, nonce, ad, 8, bad, 116, out) !=
		    VPN_ERR_CRYPTO)
			fail_msg("flipped byte %zu accepted", i);
		for (k = 0; k < sizeof(out); k++)
			if (out[k] != 0)
				fail_msg("byte %zu: plaintext not zeroed", i);
	}
	/* other AD, other nonce, other key, short input */
	ad[0] ^= 1;
	assert_int_equal(crypto_gcm_open(key, nonce, ad, 8, ct, 116, out),
	    VPN_ERR_CRYPTO);
	ad[0] ^= 1;
	assert_int_equal(crypto_gcm_open(key, nonce, ad, 7, ct, 116, out),
	    VPN_ERR_CRYPTO);
	nonce[11] ^= 1;
	assert_int_equal(crypto_gcm_open(key, nonce, ad, 8, ct, 116, out),
	    VPN_ERR_CRYPTO);
	nonce[11] ^= 1;
	key[0] ^= 1;
	assert_int_equal(crypto_gcm_open(key, nonce, ad, 8, ct, 116, out),
	    VPN_ERR_CRYPTO);
	key[0] ^= 1;
	assert_int_equal(crypto_gcm_open(key, nonce, ad, 8, ct, 15, out),
	    VPN_ERR_CRYPTO);
	/* truncated tag: the last 16 bytes are taken as the tag */
	assert_int_equal(crypto_gcm_open(key, nonce, ad, 8, ct, 115, out),
	    VPN_ERR_CRYPTO);
	/* and the original still opens */
	assert_int_equal(crypto_gcm_open(key, nonce, ad, 8, ct, 116, out), 0);
	assert_memory_equal(out, pt, 100);
}

/* RFC 7914 section 12 */
static void
test_crypto_scrypt_rfc7914(void **state)
{
	uint8_t out[64], want[64];

	(void)state;
	assert_int_equal(crypto_scrypt("", 0, (const uint8_t *)"", 0, 16, 1, 1,
	                     out, 64),
	    0);
	tu_unhex("77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
	      "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906",
	    want, 64);
	assert_memory_equal(out, want, 64);

	assert_int_equal(crypto_scrypt("password", 8, (const uint8_t *)"NaCl", 4,
	                     1024, 8, 16, out, 64),
	    0);
	tu_unhex("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
	      "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640",
	    want, 64);
	assert_memory_equal(out, want, 64);
}

static void
test_crypto_scrypt_rejects_bad_parameters(void **state)
{
	uint8_t out[32];

	(void)state;
	assert_int_equal(crypto_scrypt("p", 1, (const uint8_t *)"s", 1, 1000, 8,
	                     1, out, 32),
	    VPN_ERR_RANGE); /* N not a power of two */
	assert_int_equal(crypto_scrypt("p", 1, (const uint8_t *)"s", 1, 1, 8, 1,
	                     out, 32),
	    VPN_ERR_RANGE);
	assert_int_equal(crypto_scrypt("p", 1, (const uint8_t *)"s", 1, 0, 8, 1,
	                     out, 32),
	    VPN_ERR_RANGE);
	assert_int_equal(crypto_scrypt("p", 1, (const uint8_t *)"s", 1, 1024, 0,
	                     1, out, 32),
	    VPN_ERR_RANGE);
	assert_int_equal(crypto_scrypt("p", 1, (const uint8_t *)"s", 1, 1024, 8,
	                     0, out, 32),
	    VPN_ERR_RANGE);
	/* more memory than allowed (1 GiB) */
	assert_int_equal(crypto_scrypt("p", 1, (const uint8_t *)"s", 1,
	                     1ull << 24, 64, 1, out, 32),
	    VPN_ERR_RANGE);
}

static void
test_crypto_random_and_helpers(void **state)
{
	uint8_t a[32], b[32];

	(void)state;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(crypto_random(a, 0), 0);
	assert_true(crypto_memeq(a, a, sizeof(a)));
	assert_false(crypto_memeq(a, b, sizeof(a)));
	assert_true(crypto_memeq(a, b, 0));
	crypto_cleanse(a, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_memory_equal(a, b, sizeof(a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crypto_ed25519_rfc8032_test1),
	    cmocka_unit_test(test_crypto_ed25519_rfc8032_test2),
	    cmocka_unit_test(test_crypto_ed25519_verify_rejects),
	    cmocka_unit_test(test_crypto_ed25519_keypair_signs),
	    cmocka_unit_test(test_crypto_ed25519_fixture_ca_key),
	    cmocka_unit_test(test_crypto_x25519_rfc7748_5_2),
	    cmocka_unit_test(test_crypto_x25519_rfc7748_6_1),
	    cmocka_unit_test(test_crypto_x25519_rejects_low_order_point),
	    cmocka_unit_test(test_crypto_x25519_dh_and_static),
	    cmocka_unit_test(test_crypto_x25519_keypair),
	    cmocka_unit_test(test_crypto_x25519_fixture_host_b),
	    cmocka_unit_test(test_crypto_sha256_vectors),
	    cmocka_unit_test(test_crypto_gcm_test_case_16),
	    cmocka_unit_test(test_crypto_gcm_zero_key_vectors),
	    cmocka_unit_test(test_crypto_gcm_detects_tampering),
	    cmocka_unit_test(test_crypto_scrypt_rfc7914),
	    cmocka_unit_test(test_crypto_scrypt_rejects_bad_parameters),
	    cmocka_unit_test(test_crypto_random_and_helpers),
	};

	/* As the daemons do: every vector passes under their lean init. */
	if (crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
