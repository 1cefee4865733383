/*
 * test/unit/test_aead.c: the crypto.c additions for Noise and transport:
 * HMAC-SHA256, Noise's HKDF, ChaCha20-Poly1305, the counter nonce, and the
 * keyed-once transport AEAD, checked against published vectors and
 * against every AEAD packet of the real Nebula 1.6.1 captures.
 */
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

#include "../fixtures/capture/vectors.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static bool
all_zero(const uint8_t *p, size_t n)
{
	while (n > 0)
		if (p[--n] != 0)
			return false;
	return true;
}

/* --- SHA-256 of two parts, HMAC, HKDF ---------------------------------- */

static void
test_aead_sha256_2_is_sha256_of_concatenation(void **state)
{
	static const char msg[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmn"
	                          "lmnomnopnopq";
	uint8_t a[32], b[32], want[32];
	size_t cut;

	(void)state;
	/* FIPS 180-2 example 2 */
	tu_unhex(
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	    want, 32);
	for (cut = 0; cut <= sizeof(msg) - 1; cut++) {
		crypto_sha256_2(msg, cut, msg + cut, sizeof(msg) - 1 - cut, a);
		assert_memory_equal(a, want, 32);
	}
	crypto_sha256(msg, sizeof(msg) - 1, b);
	assert_memory_equal(b, want, 32);
	crypto_sha256_2(NULL, 0, NULL, 0, a); /* SHA-256("") */
	tu_unhex(
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    want, 32);
	assert_memory_equal(a, want, 32);
}

/* An empty key and message (the context is reused across calls: it must
 * take the empty key as a key, not keep the last one). */
static void
test_aead_hmac_sha256_empty_key(void **state)
{
	uint8_t mac[32], want[32], k[32];

	(void)state;
	memset(k, 0x55, sizeof(k));
	assert_int_equal(crypto_hmac_sha256(k, 32, k, 32, mac), 0);
	tu_unhex(
	    "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
	    want, 32);
	assert_int_equal(crypto_hmac_sha256(NULL, 0, NULL, 0, mac), 0);
	assert_memory_equal(mac, want, 32);
}

static void
test_aead_hmac_sha256_rfc4231(void **state)
{
	static const struct {
		size_t keylen;
		uint8_t keybyte;
		const char *key, *msg, *mac;
	} v[] = {
	    /* test case 1 */
	    {20, 0x0b, NULL, "Hi There",
	        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cf"
	        "f7"},
	    /* test case 2 */
	    {4, 0, "Jefe", "what do ya want for nothing?",
	        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec38"
	        "43"},
	    /* test case 6: a key longer than the block is hashed first */
	    {131, 0xaa, NULL,
	        "Test Using Larger Than Block-Size Key - Hash Key First",
	        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f"
	        "54"},
	};
	uint8_t key[131], mac[32], want[32];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(v); i++) {
		if (v[i].key != NULL)
			memcpy(key, v[i].key, v[i].keylen);
		else
			memset(key, v[i].keybyte, v[i].keylen);
		tu_unhex(v[i].mac, want, 32);
		assert_int_equal(
		    crypto_hmac_sha256(key, v[i].keylen,
		        (const uint8_t *)v[i].msg, strlen(v[i].msg), mac),
		    0);
		assert_memory_equal(mac, want, 32);
	}
}

/* Noise's HKDF spelled out with HMAC, to check crypto_hkdf2 against. */
static void
hkdf_by_hand(const uint8_t ck[32], const uint8_t *ikm, size_t len,
    uint8_t o1[32], uint8_t o2[32])
{
	uint8_t t[32], one = 1, buf[33];

	assert_int_equal(crypto_hmac_sha256(ck, 32, ikm, len, t), 0);
	assert_int_equal(crypto_hmac_sha256(t, 32, &one, 1, o1), 0);
	memcpy(buf, o1, 32);
	buf[32] = 2;
	assert_int_equal(crypto_hmac_sha256(t, 32, buf, 33, o2), 0);
}

static void
test_aead_hkdf2_is_noise_hkdf(void **state)
{
	uint8_t ck[32], ikm[64], o1[32], o2[32], w1[32], w2[32];
	size_t len, i;

	(void)state;
	for (i = 0; i < 32; i++)
		ck[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < sizeof(ikm); i++)
		ikm[i] = (uint8_t)(0xa0 ^ i);
	for (len = 0; len <= sizeof(ikm); len += 16) {
		assert_int_equal(crypto_hkdf2(ck, ikm, len, o1, o2), 0);
		hkdf_by_hand(ck, ikm, len, w1, w2);
		assert_memory_equal(o1, w1, 32);
		assert_memory_equal(o2, w2, 32);
		assert_memory_not_equal(o1, o2, 32);
	}
	/* MixKey writes the new chaining key over the old one. */
	hkdf_by_hand(ck, ikm, 32, w1, w2);
	assert_int_equal(crypto_hkdf2(ck, ikm, 32, ck, o2), 0);
	assert_memory_equal(ck, w1, 32);
	assert_memory_equal(o2, w2, 32);
}

/* Split() = HKDF(ck, "") gives the transport keys: every captured
 * handshake's final chaining key yields its two recorded keys. */
static void
test_aead_hkdf2_split_matches_captures(void **state)
{
	uint8_t k1[32], k2[32];
	size_t i;

	(void)state;
	for (i = 0; i < CAP_NHSS; i++) {
		assert_int_equal(
		    crypto_hkdf2(cap_hss[i].ck, NULL, 0, k1, k2), 0);
		assert_memory_equal(k1, cap_hss[i].k_i2r, 32);
		assert_memory_equal(k2, cap_hss[i].k_r2i, 32);
	}
}

/* --- ChaCha20-Poly1305 one-shot ---------------------------------------- */

static void
test_aead_chacha_rfc8439(void **state)
{
	static const char pt[] = "Ladies and Gentlemen of the class of '99: If "
	                         "I could offer you only one tip for the "
	                         "future, sunscreen would be it.";
	static const char ct_hex[] =
	    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	    "3ff4def08e4b7a9de576d26586cec64b6116"
	    "1ae10b594f09e26a7e902ecbd0600691"; /* tag */
	uint8_t key[32], nonce[12], ad[12], want[114 + 16], out[114 + 16];
	uint8_t back[114];
	size_t i;

	(void)state;
	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
	tu_unhex("070000004041424344454647", nonce, 12);
	tu_unhex("50515253c0c1c2c3c4c5c6c7", ad, 12);
	tu_unhex(ct_hex, want, sizeof(want));
	assert_int_equal(sizeof(pt) - 1, 114);
	assert_int_equal(crypto_chacha_seal(
	                     key, nonce, ad, 12, (const uint8_t *)pt, 114, out),
	    0);
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(
	    crypto_chacha_open(key, nonce, ad, 12, out, sizeof(out), back), 0);
	assert_memory_equal(back, pt, 114);
	/* Any change to AD, ciphertext or tag fails and zeroes the output. */
	ad[0] ^= 1;
	assert_int_equal(
	    crypto_chacha_open(key, nonce, ad, 12, out, sizeof(out), back),
	    VPN_ERR_CRYPTO);
	assert_true(all_zero(back, sizeof(back)));
	ad[0] ^= 1;
	out[sizeof(out) - 1] ^= 0x80;
	assert_int_equal(
	    crypto_chacha_open(key, nonce, ad, 12, out, sizeof(out), back),
	    VPN_ERR_CRYPTO);
	assert_int_equal(crypto_chacha_open(key, nonce, ad, 12, out, 15, back),
	    VPN_ERR_CRYPTO);
}

/* --- nonces ------------------------------------------------------------ */

static void
test_aead_nonce_byte_order_per_cipher(void **state)
{
	uint8_t n[12], want[12];
	size_t i, seen = 0;

	(void)state;
	/* wire.md 6: counter 3 */
	crypto_aead_nonce(CRYPTO_AES256GCM, 3, n);
	tu_unhex("000000000000000000000003", want, 12);
	assert_memory_equal(n, want, 12);
	crypto_aead_nonce(CRYPTO_CHACHAPOLY, 3, n);
	tu_unhex("000000000300000000000000", want, 12);
	assert_memory_equal(n, want, 12);
	crypto_aead_nonce(CRYPTO_AES256GCM, 0x0102030405060708ull, n);
	tu_unhex("000000000102030405060708", want, 12);
	assert_memory_equal(n, want, 12);
	crypto_aead_nonce(CRYPTO_CHACHAPOLY, 0x0102030405060708ull, n);
	tu_unhex("000000000807060504030201", want, 12);
	assert_memory_equal(n, want, 12);
	/* ...and as every captured packet used it. */
	for (i = 0; i < CAP_NPKTS; i++) {
		const struct cap_pkt *p = &cap_pkts[i];

		if (p->kind != CAP_AEAD && p->kind != CAP_RELAY)
			continue;
		crypto_aead_nonce(p->cipher, p->counter, n);
		assert_memory_equal(n, p->nonce, 12);
		seen++;
	}
	assert_true(seen > 100);
}

/* --- the transport context against the captures ------------------------- */

/* AD and text of a captured AEAD packet: the header is the AD, except for
 * relay packets, whose whole inner packet is AD and whose text is empty. */
static void
split_pkt(
    const struct cap_pkt *p, size_t *adlen, const uint8_t **ct, size_t *ctlen)
{
	*adlen = p->kind == CAP_RELAY ? p->len - 16 : 16;
	*ct = p->data + *adlen;
	*ctlen = p->len - *adlen;
}

static void
test_aead_opens_and_reseals_every_captured_packet(void **state)
{
	struct crypto_aead *dec = NULL, *enc = NULL;
	uint8_t buf[2048], back[2048];
	size_t i, j, adlen, ctlen, n = 0, per[2] = {0, 0};
	const uint8_t *ct;

	(void)state;
	for (i = 0; i < CAP_NPKTS; i++) {
		const struct cap_pkt *p = &cap_pkts[i];
		bool first = true;

		if (p->kind != CAP_AEAD && p->kind != CAP_RELAY)
			continue;
		for (j = 0; j < i; j++) /* one context per key, made once */
			if (memcmp(cap_pkts[j].key, p->key, 32) == 0 &&
			    (cap_pkts[j].kind == CAP_AEAD ||
			        cap_pkts[j].kind == CAP_RELAY))
				first = false;
		if (!first)
			continue;
		assert_int_equal(
		    crypto_aead_new(p->cipher, p->key, false, &dec), 0);
		assert_int_equal(
		    crypto_aead_new(p->cipher, p->key, true, &enc), 0);
		/* Every later packet under this key, in capture order, through
		 * the same two contexts: only the nonce changes. */
		for (j = i; j < CAP_NPKTS; j++) {
			const struct cap_pkt *q = &cap_pkts[j];

			if ((q->kind != CAP_AEAD && q->kind != CAP_RELAY) ||
			    memcmp(q->key, p->key, 32) != 0)
				continue;
			split_pkt(q, &adlen, &ct, &ctlen);
			assert_true(ctlen >= 16 && ctlen <= sizeof(buf));
			assert_int_equal(crypto_aead_open(dec, q->counter,
			                     q->data, adlen, ct, ctlen, back),
			    0);
			if (q->kind == CAP_AEAD) {
				assert_int_equal(ctlen - 16, q->pt_len);
				if (q->pt_len > 0)
					assert_memory_equal(
					    back, q->pt, q->pt_len);
			} else {
				assert_int_equal(ctlen, 16);
			}
			assert_int_equal(
			    crypto_aead_seal(enc, q->counter, q->data, adlen,
			        back, ctlen - 16, buf),
			    0);
			assert_memory_equal(buf, ct, ctlen);
			n++;
			per[q->cipher == CRYPTO_CHACHAPOLY]++;
		}
		crypto_aead_free(dec);
		crypto_aead_free(enc);
		dec = enc = NULL;
	}
	assert_true(per[0] > 50 && per[1] > 40);
	assert_int_equal(n, per[0] + per[1]);
}

/* The one-shot form gives the same bytes as the keyed context. */
static void
test_aead_one_shot_matches_context(void **state)
{
	uint8_t out[2048], back[2048];
	size_t i, adlen, ctlen;
	const uint8_t *ct;

	(void)state;
	for (i = 0; i < CAP_NPKTS; i++) {
		const struct cap_pkt *p = &cap_pkts[i];

		if (p->kind != CAP_AEAD && p->kind != CAP_RELAY)
			continue;
		split_pkt(p, &adlen, &ct, &ctlen);
		assert_int_equal(
		    crypto_aead_open1(p->cipher, p->key, p->counter, p->data,
		        adlen, ct, ctlen, back),
		    0);
		assert_int_equal(
		    crypto_aead_seal1(p->cipher, p->key, p->counter, p->data,
		        adlen, back, ctlen - 16, out),
		    0);
		assert_memory_equal(out, ct, ctlen);
	}
}

static const struct cap_pkt *
find_pkt(const char *capture, unsigned frame)
{
	size_t i;

	for (i = 0; i + 1 < CAP_NPKTS; i++)
		if (strcmp(cap_pkts[i].capture, capture) == 0 &&
		    cap_pkts[i].frame == frame && !cap_pkts[i].inner)
			break;
	assert_string_equal(cap_pkts[i].capture, capture);
	assert_int_equal(cap_pkts[i].frame, frame);
	return &cap_pkts[i];
}

static void
test_aead_in_place(void **state)
{
	/* aes-basic #23: host-a -> host-b ICMP echo; chachapoly-basic #23
	 * likewise. */
	static const char *const caps[] = {"aes-basic", "chachapoly-basic"};
	struct crypto_aead *dec, *enc;
	uint8_t pkt[256];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(caps); i++) {
		const struct cap_pkt *p = find_pkt(caps[i], 23);

		assert_int_equal(p->kind, CAP_AEAD);
		assert_int_equal(p->len, 116);
		assert_int_equal(
		    crypto_aead_new(p->cipher, p->key, false, &dec), 0);
		assert_int_equal(
		    crypto_aead_new(p->cipher, p->key, true, &enc), 0);
		memcpy(pkt, p->data, p->len);
		assert_int_equal(crypto_aead_open(dec, p->counter, pkt, 16,
		                     pkt + 16, p->len - 16, pkt + 16),
		    0);
		assert_memory_equal(pkt + 16, p->pt, p->pt_len);
		assert_int_equal(crypto_aead_seal(enc, p->counter, pkt, 16,
		                     pkt + 16, p->pt_len, pkt + 16),
		    0);
		assert_memory_equal(pkt, p->data, p->len);
		crypto_aead_free(dec);
		crypto_aead_free(enc);
	}
}

/*
 * Flip each bit of header (AD), ciphertext and tag in turn: open fails,
 * zeroes its output, and the context still opens the genuine packet
 * afterwards.  Also: the wrong counter, the other cipher, a short input,
 * the wrong direction.
 */
static void
test_aead_rejects_forgeries(void **state)
{
	static const char *const caps[] = {"aes-basic", "chachapoly-basic"};
	struct crypto_aead *dec, *enc, *other;
	uint8_t pkt[256], out[256];
	size_t i, bit;

	(void)state;
	for (i = 0; i < NELEM(caps); i++) {
		const struct cap_pkt *p = find_pkt(caps[i], 23);
		size_t len = p->len;

		assert_int_equal(
		    crypto_aead_new(p->cipher, p->key, false, &dec), 0);
		assert_int_equal(
		    crypto_aead_new(p->cipher, p->key, true, &enc), 0);
		for (bit = 0; bit < 8 * len; bit += 3) {
			memcpy(pkt, p->data, len);
			pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			memset(out, 0xee, sizeof(out));
			assert_int_equal(crypto_aead_open(dec, p->counter, pkt,
			                     16, pkt + 16, len - 16, out),
			    VPN_ERR_CRYPTO);
			assert_true(all_zero(out, len - 32));
			assert_int_equal(
			    crypto_aead_open(dec, p->counter, p->data, 16,
			        p->data + 16, len - 16, out),
			    0);
		}
		assert_int_equal(crypto_aead_open(dec, p->counter + 1, p->data,
		                     16, p->data + 16, len - 16, out),
		    VPN_ERR_CRYPTO);
		assert_int_equal(crypto_aead_open(dec, p->counter, p->data, 16,
		                     p->data + 16, 15, out),
		    VPN_ERR_CRYPTO);
		assert_int_equal(crypto_aead_open(enc, p->counter, p->data, 16,
		                     p->data + 16, len - 16, out),
		    VPN_ERR_INVAL);
		assert_int_equal(crypto_aead_seal(dec, p->counter, p->data, 16,
		                     p->pt, p->pt_len, out),
		    VPN_ERR_INVAL);
		assert_int_equal(crypto_aead_new(p->cipher == CRYPTO_AES256GCM
		                                     ? CRYPTO_CHACHAPOLY
		                                     : CRYPTO_AES256GCM,
		                     p->key, false, &other),
		    0);
		assert_int_equal(crypto_aead_open(other, p->counter, p->data,
		                     16, p->data + 16, len - 16, out),
		    VPN_ERR_CRYPTO);
		crypto_aead_free(other);
		crypto_aead_free(dec);
		crypto_aead_free(enc);
	}
}

/* Empty plaintext (closeTunnel, test): the packet is header + tag; and a
 * NULL output with nothing to write is fine. */
static void
test_aead_empty_plaintext(void **state)
{
	const struct cap_pkt *p = find_pkt("chachapoly-basic", 72);
	struct crypto_aead *dec, *enc;
	uint8_t tag[16];

	(void)state;
	assert_int_equal(p->type, 5); /* closeTunnel */
	assert_int_equal(p->len, 32);
	assert_int_equal(crypto_aead_new(p->cipher, p->key, false, &dec), 0);
	assert_int_equal(crypto_aead_new(p->cipher, p->key, true, &enc), 0);
	assert_int_equal(crypto_aead_open(dec, p->counter, p->data, 16,
	                     p->data + 16, 16, NULL),
	    0);
	assert_int_equal(
	    crypto_aead_seal(enc, p->counter, p->data, 16, NULL, 0, tag), 0);
	assert_memory_equal(tag, p->data + 16, 16);
	crypto_aead_free(dec);
	crypto_aead_free(enc);
}

static void
test_aead_new_rejects_unknown_cipher(void **state)
{
	struct crypto_aead *a = (struct crypto_aead *)&a;
	uint8_t key[32] = {0};

	(void)state;
	assert_int_equal(crypto_aead_new((enum crypto_cipher)7, key, true, &a),
	    VPN_ERR_INVAL);
	assert_null(a);
	crypto_aead_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_aead_sha256_2_is_sha256_of_concatenation),
	    cmocka_unit_test(test_aead_hmac_sha256_rfc4231),
	    cmocka_unit_test(test_aead_hmac_sha256_empty_key),
	    cmocka_unit_test(test_aead_hkdf2_is_noise_hkdf),
	    cmocka_unit_test(test_aead_hkdf2_split_matches_captures),
	    cmocka_unit_test(test_aead_chacha_rfc8439),
	    cmocka_unit_test(test_aead_nonce_byte_order_per_cipher),
	    cmocka_unit_test(test_aead_opens_and_reseals_every_captured_packet),
	    cmocka_unit_test(test_aead_one_shot_matches_context),
	    cmocka_unit_test(test_aead_in_place),
	    cmocka_unit_test(test_aead_rejects_forgeries),
	    cmocka_unit_test(test_aead_empty_plaintext),
	    cmocka_unit_test(test_aead_new_rejects_unknown_cipher),
	};

	/* As the daemons do: every vector passes under their lean init. */
	if (crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
