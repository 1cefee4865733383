/*
 * test/unit/test_noise.c: Noise IX as Nebula 1.6.1 runs it, replayed on
 * every handshake of the real captures (AES-256-GCM and
 * ChaCha20-Poly1305, direct and relayed): with the recorded static and
 * ephemeral keys, both messages are rebuilt byte for byte, every
 * intermediate hash, the final chaining key and both transport keys
 * match, and the derived keys open and re-seal every captured transport
 * packet.  Then the failure paths.
 */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "err.h"
#include "header.h"
#include "noise.h"

#include "../fixtures/capture/vectors.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* --- replaying the captured handshakes --------------------------------- */

/* The initiator of h with msg1 written, checked against the capture. */
static void
initiator_after_msg1(const struct cap_hs *h, struct noise_hs *ini)
{
	uint8_t out[1024];
	size_t len;

	assert_int_equal(
	    noise_init(ini, h->cipher, true, h->i_s_priv, h->i_s_pub), 0);
	assert_memory_equal(ini->ck, h->h0, 32);
	assert_memory_equal(noise_handshake_hash(ini), h->h_prologue, 32);
	assert_int_equal(noise_set_ephemeral(ini, h->i_e_priv), 0);
	assert_int_equal(noise_write_msg1(ini, h->msg1 + 80, h->msg1_len - 80,
	                     out, sizeof(out), &len),
	    0);
	assert_int_equal(len, h->msg1_len - HEADER_LEN);
	assert_memory_equal(out, h->msg1 + HEADER_LEN, len);
	assert_memory_equal(noise_handshake_hash(ini), h->h_msg1, 32);
}

/* The responder of h with msg1 read and msg2 written. */
static void
responder_after_msg2(const struct cap_hs *h, struct noise_hs *res)
{
	uint8_t out[1024], rs[32];
	const uint8_t *pl;
	size_t len, plen;

	/* NULL public key: derived from the private one */
	assert_int_equal(
	    noise_init(res, h->cipher, false, h->r_s_priv, NULL), 0);
	assert_memory_equal(res->ck, h->h0, 32);
	assert_memory_equal(noise_handshake_hash(res), h->h_prologue, 32);
	assert_int_equal(noise_set_ephemeral(res, h->r_e_priv), 0);
	assert_int_equal(noise_read_msg1(res, h->msg1 + HEADER_LEN,
	                     h->msg1_len - HEADER_LEN, rs, &pl, &plen),
	    0);
	assert_memory_equal(rs, h->i_s_pub, 32);
	assert_ptr_equal(pl, h->msg1 + 80);
	assert_int_equal(plen, h->msg1_len - 80);
	assert_memory_equal(noise_handshake_hash(res), h->h_msg1, 32);
	assert_int_equal(noise_write_msg2(res, h->payload2, h->payload2_len,
	                     out, sizeof(out), &len),
	    0);
	assert_int_equal(len, h->msg2_len - HEADER_LEN);
	assert_memory_equal(out, h->msg2 + HEADER_LEN, len);
	assert_memory_equal(noise_handshake_hash(res), h->h_msg2, 32);
	assert_memory_equal(res->ck, h->ck, 32);
}

/* The whole of handshake h; returns the transport keys derived. */
static void
replay_handshake(const struct cap_hs *h, uint8_t k_i2r[32], uint8_t k_r2i[32])
{
	struct noise_hs ini, res;
	uint8_t rs[32], pl[1024], k1[32], k2[32], dh[32], pub[32];
	size_t plen;
	const char *name = h->cipher == CRYPTO_AES256GCM
	                       ? "Noise_IX_25519_AESGCM_SHA256"
	                       : "Noise_IX_25519_ChaChaPoly_SHA256";
	uint8_t h0[32] = {0};

	/* The recorded material is self-consistent. */
	assert_string_equal(h->protocol, name);
	memcpy(h0, name, strlen(name));
	assert_memory_equal(h->h0, h0, 32);
	assert_int_equal(crypto_x25519_public(h->i_s_priv, pub), 0);
	assert_memory_equal(pub, h->i_s_pub, 32);
	assert_int_equal(crypto_x25519_public(h->r_s_priv, pub), 0);
	assert_memory_equal(pub, h->r_s_pub, 32);
	assert_int_equal(crypto_x25519_public(h->i_e_priv, pub), 0);
	assert_memory_equal(pub, h->i_e_pub, 32);
	assert_int_equal(crypto_x25519_public(h->r_e_priv, pub), 0);
	assert_memory_equal(pub, h->r_e_pub, 32);
	/* The three DH of message 2, from either side. */
	assert_int_equal(crypto_x25519(h->i_e_priv, h->r_e_pub, dh), 0);
	assert_memory_equal(dh, h->dh_ee, 32);
	assert_int_equal(crypto_x25519(h->r_e_priv, h->i_e_pub, dh), 0);
	assert_memory_equal(dh, h->dh_ee, 32);
	assert_int_equal(crypto_x25519(h->i_s_priv, h->r_e_pub, dh), 0);
	assert_memory_equal(dh, h->dh_se, 32);
	assert_int_equal(crypto_x25519(h->r_e_priv, h->i_s_pub, dh), 0);
	assert_memory_equal(dh, h->dh_se, 32);
	assert_int_equal(crypto_x25519(h->i_e_priv, h->r_s_pub, dh), 0);
	assert_memory_equal(dh, h->dh_es, 32);
	assert_int_equal(crypto_x25519(h->r_s_priv, h->i_e_pub, dh), 0);
	assert_memory_equal(dh, h->dh_es, 32);

	initiator_after_msg1(h, &ini);
	responder_after_msg2(h, &res);

	/* The initiator reads the captured message 2. */
	assert_int_equal(
	    noise_read_msg2(&ini, h->msg2 + HEADER_LEN,
	        h->msg2_len - HEADER_LEN, rs, pl, sizeof(pl), &plen),
	    0);
	assert_memory_equal(rs, h->r_s_pub, 32);
	assert_int_equal(plen, h->payload2_len);
	assert_memory_equal(pl, h->payload2, plen);
	assert_memory_equal(noise_handshake_hash(&ini), h->h_msg2, 32);
	assert_memory_equal(ini.ck, h->ck, 32);

	/* Split: both sides agree, and with the capture. */
	assert_int_equal(noise_split(&ini, k_i2r, k_r2i), 0);
	assert_int_equal(noise_split(&res, k1, k2), 0);
	assert_memory_equal(k1, k_i2r, 32);
	assert_memory_equal(k2, k_r2i, 32);
	assert_memory_equal(k_i2r, h->k_i2r, 32);
	assert_memory_equal(k_r2i, h->k_r2i, 32);
	noise_clear(&ini);
	noise_clear(&res);
}

static void
test_noise_replays_captured_handshakes(void **state)
{
	uint8_t k1[32], k2[32];
	size_t i, per[2] = {0, 0};

	(void)state;
	for (i = 0; i < CAP_NHSS; i++) {
		replay_handshake(&cap_hss[i], k1, k2);
		per[cap_hss[i].cipher == CRYPTO_CHACHAPOLY]++;
	}
	/* aes-basic 5 + aes-relay 3, chachapoly-basic 5 */
	assert_int_equal(per[0], 8);
	assert_int_equal(per[1], 5);
}

/*
 * Every AEAD packet of the captures (lightHouse, test, closeTunnel,
 * control, data, relay outer and relayed inner packets) opens with the
 * keys the handshake replay derived, with its header as AD and its
 * counter as nonce, gives the recorded plaintext, and seals back to the
 * captured bytes.
 */
static void
test_noise_keys_open_captured_transport(void **state)
{
	static uint8_t keys[CAP_NHSS][2][32];
	struct crypto_aead *dec, *enc;
	uint8_t out[2048], back[2048];
	size_t i, adlen;
	/* per cipher: lighthouse, test reply, ICMP data, closeTunnel,
	 * control, relay */
	bool seen[2][6];
	int c;

	(void)state;
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < CAP_NHSS; i++)
		replay_handshake(&cap_hss[i], keys[i][0], keys[i][1]);
	for (i = 0; i < CAP_NPKTS; i++) {
		const struct cap_pkt *p = &cap_pkts[i];
		const struct cap_hs *h;
		const uint8_t *key;

		if (p->kind != CAP_AEAD && p->kind != CAP_RELAY)
			continue;
		assert_true(p->hs >= 0 && (size_t)p->hs < CAP_NHSS);
		h = &cap_hss[p->hs];
		key = keys[p->hs][p->r2i];
		assert_memory_equal(key, p->key, 32);
		assert_int_equal(p->cipher, h->cipher);
		/* The header names the receiver's index (relay packets name
		 * a relay index instead). */
		if (p->kind == CAP_AEAD)
			assert_int_equal(p->remote_index,
			    p->r2i ? h->initiator_index : h->responder_index);
		assert_true(p->counter >= 3);
		adlen = p->kind == CAP_RELAY ? p->len - 16 : HEADER_LEN;
		assert_int_equal(
		    crypto_aead_new(p->cipher, key, false, &dec), 0);
		assert_int_equal(
		    crypto_aead_new(p->cipher, key, true, &enc), 0);
		assert_int_equal(
		    crypto_aead_open(dec, p->counter, p->data, adlen,
		        p->data + adlen, p->len - adlen, back),
		    0);
		if (p->kind == CAP_AEAD && p->pt_len > 0)
			assert_memory_equal(back, p->pt, p->pt_len);
		assert_int_equal(crypto_aead_seal(enc, p->counter, p->data,
		                     adlen, back, p->len - adlen - 16, out),
		    0);
		assert_memory_equal(out, p->data + adlen, p->len - adlen);
		crypto_aead_free(dec);
		crypto_aead_free(enc);

		c = p->cipher == CRYPTO_CHACHAPOLY;
		if (p->type == HDR_LIGHTHOUSE)
			seen[c][0] = true;
		if (p->type == HDR_TEST && p->subtype == HDR_SUB_TEST_REPLY)
			seen[c][1] = true;
		if (p->type == HDR_MESSAGE && p->kind == CAP_AEAD &&
		    p->pt_len == 84 && p->pt[0] == 0x45 && p->pt[9] == 1)
			seen[c][2] = true; /* IPv4, ICMP, 84 bytes */
		if (p->type == HDR_CLOSE_TUNNEL)
			seen[c][3] = true;
		if (p->type == HDR_CONTROL)
			seen[c][4] = true;
		if (p->kind == CAP_RELAY)
			seen[c][5] = true;
	}
	for (c = 0; c < 2; c++)
		for (i = 0; i < 4; i++)
			if (!seen[c][i])
				fail_msg(
				    "cipher %d: no packet of kind %zu", c, i);
	assert_true(seen[0][4] && seen[0][5]); /* aes-relay */
}

/* --- failure paths ----------------------------------------------------- */

static const struct cap_hs *
first_hs(enum crypto_cipher c)
{
	size_t i;

	for (i = 0; i + 1 < CAP_NHSS && cap_hss[i].cipher != c; i++)
		;
	assert_int_equal(cap_hss[i].cipher, c);
	return &cap_hss[i];
}

/* Read a message 2 that must fail with want, then check that the state
 * did not change. */
static void
msg2_fails(struct noise_hs *ini, const uint8_t *m, size_t len, int want)
{
	struct noise_hs before;
	uint8_t rs[32], pl[1024];
	size_t plen = 12345;

	memcpy(&before, ini, sizeof(before));
	memset(rs, 0xee, sizeof(rs));
	assert_int_equal(
	    noise_read_msg2(ini, m, len, rs, pl, sizeof(pl), &plen), want);
	assert_memory_equal(ini, &before, sizeof(before));
	assert_int_equal(plen, 12345);
}

/*
 * wire.md 4.5 step 6: a forged message 2 must not spoil the pending
 * handshake.  Flip bits in e, in the encrypted s and its tag, in the
 * payload and its tag; cut it short; replace e by low-order points.  Each
 * fails and leaves the state as it was, after which the genuine message 2
 * completes the handshake with the recorded keys.
 */
static void
test_noise_forged_msg2_leaves_state_intact(void **state)
{
	static const enum crypto_cipher ciphers[] = {
	    CRYPTO_AES256GCM, CRYPTO_CHACHAPOLY};
	/* u = 0 and u = 1 give an all-zero X25519 result */
	static const uint8_t zero[32] = {0}, one[32] = {1};
	struct noise_hs ini;
	uint8_t m[1024], rs[32], pl[1024], k1[32], k2[32];
	size_t c, len, pos, plen;

	(void)state;
	for (c = 0; c < NELEM(ciphers); c++) {
		const struct cap_hs *h = first_hs(ciphers[c]);

		len = h->msg2_len - HEADER_LEN;
		initiator_after_msg1(h, &ini);
		for (pos = 0; pos < len; pos += 7) {
			memcpy(m, h->msg2 + HEADER_LEN, len);
			m[pos] ^= 0x40;
			msg2_fails(&ini, m, len, VPN_ERR_CRYPTO);
		}
		memcpy(m, h->msg2 + HEADER_LEN, len);
		m[len - 1] ^= 1; /* the payload tag */
		msg2_fails(&ini, m, len, VPN_ERR_CRYPTO);
		msg2_fails(&ini, m, 0, VPN_ERR_TRUNCATED);
		msg2_fails(&ini, m, 32, VPN_ERR_TRUNCATED);
		msg2_fails(&ini, m, 79, VPN_ERR_TRUNCATED);
		msg2_fails(&ini, m, 95, VPN_ERR_TRUNCATED);
		memcpy(m, h->msg2 + HEADER_LEN, len);
		msg2_fails(&ini, m, len - 1, VPN_ERR_CRYPTO);
		memcpy(m, zero, 32);
		msg2_fails(&ini, m, len, VPN_ERR_CRYPTO);
		memcpy(m, one, 32);
		msg2_fails(&ini, m, len, VPN_ERR_CRYPTO);
		/* The right bytes, in place (payload_out = in + 80). */
		memcpy(m, h->msg2 + HEADER_LEN, len);
		assert_int_equal(
		    noise_read_msg2(&ini, m, len, rs, m + 80, len - 80, &plen),
		    0);
		assert_int_equal(plen, h->payload2_len);
		assert_memory_equal(m + 80, h->payload2, plen);
		assert_memory_equal(rs, h->r_s_pub, 32);
		assert_int_equal(noise_split(&ini, k1, k2), 0);
		assert_memory_equal(k1, h->k_i2r, 32);
		assert_memory_equal(k2, h->k_r2i, 32);
		/* ...and only once. */
		assert_int_equal(noise_read_msg2(&ini, h->msg2 + HEADER_LEN,
		                     len, rs, pl, sizeof(pl), &plen),
		    VPN_ERR_INVAL);
		noise_clear(&ini);
	}
}

/* An initiator sending a low-order e or s: msg1 reads (there is no DH in
 * it), but message 2 cannot be made. */
static void
test_noise_low_order_msg1_fails_at_msg2(void **state)
{
	const struct cap_hs *h = first_hs(CRYPTO_AES256GCM);
	struct noise_hs res, before;
	uint8_t m[1024], rs[32], out[1024];
	const uint8_t *pl;
	size_t plen, len, off;

	(void)state;
	for (off = 0; off <= 32; off += 32) { /* e, then s */
		len = h->msg1_len - HEADER_LEN;
		memcpy(m, h->msg1 + HEADER_LEN, len);
		memset(m + off, 0, 32);
		assert_int_equal(
		    noise_init(&res, h->cipher, false, h->r_s_priv, h->r_s_pub),
		    0);
		assert_int_equal(
		    noise_read_msg1(&res, m, len, rs, &pl, &plen), 0);
		memcpy(&before, &res, sizeof(res));
		assert_int_equal(noise_write_msg2(&res, h->payload2,
		                     h->payload2_len, out, sizeof(out), &len),
		    VPN_ERR_CRYPTO);
		/* unchanged, except that an ephemeral key now exists */
		assert_memory_equal(res.h, before.h, 32);
		assert_memory_equal(res.ck, before.ck, 32);
		noise_clear(&res);
	}
}

static void
test_noise_msg1_minimum_and_payload_pointer(void **state)
{
	const struct cap_hs *h = first_hs(CRYPTO_CHACHAPOLY);
	struct noise_hs res, before;
	uint8_t rs[32];
	const uint8_t *pl = NULL;
	size_t plen = 99, len;

	(void)state;
	assert_int_equal(
	    noise_init(&res, h->cipher, false, h->r_s_priv, h->r_s_pub), 0);
	memcpy(&before, &res, sizeof(res));
	for (len = 0; len < NOISE_MSG1_OVERHEAD; len++) {
		assert_int_equal(noise_read_msg1(&res, h->msg1 + HEADER_LEN,
		                     len, rs, &pl, &plen),
		    VPN_ERR_TRUNCATED);
		assert_memory_equal(&res, &before, sizeof(res));
	}
	/* e and s alone, with an empty payload, is a valid message 1 */
	assert_int_equal(
	    noise_read_msg1(&res, h->msg1 + HEADER_LEN, 64, rs, &pl, &plen), 0);
	assert_int_equal(plen, 0);
	assert_ptr_equal(pl, h->msg1 + HEADER_LEN + 64);
	noise_clear(&res);
}

static void
test_noise_calls_out_of_order(void **state)
{
	const struct cap_hs *h = first_hs(CRYPTO_AES256GCM);
	struct noise_hs ini, res;
	uint8_t out[1024], rs[32], k1[32], k2[32], e[32] = {7};
	const uint8_t *pl;
	size_t len, plen;

	(void)state;
	assert_int_equal(
	    noise_init(&ini, (enum crypto_cipher)9, true, h->i_s_priv, NULL),
	    VPN_ERR_INVAL);
	assert_int_equal(
	    noise_init(&ini, h->cipher, true, h->i_s_priv, NULL), 0);
	assert_int_equal(
	    noise_init(&res, h->cipher, false, h->r_s_priv, NULL), 0);
	/* wrong role */
	assert_int_equal(noise_read_msg1(&ini, h->msg1 + 16, h->msg1_len - 16,
	                     rs, &pl, &plen),
	    VPN_ERR_INVAL);
	assert_int_equal(
	    noise_write_msg1(&res, NULL, 0, out, sizeof(out), &len),
	    VPN_ERR_INVAL);
	assert_int_equal(
	    noise_write_msg2(&ini, NULL, 0, out, sizeof(out), &len),
	    VPN_ERR_INVAL);
	assert_int_equal(noise_read_msg2(&res, h->msg2 + 16, h->msg2_len - 16,
	                     rs, out, sizeof(out), &plen),
	    VPN_ERR_INVAL);
	/* wrong step */
	assert_int_equal(
	    noise_write_msg2(&res, NULL, 0, out, sizeof(out), &len),
	    VPN_ERR_INVAL);
	assert_int_equal(noise_read_msg2(&ini, h->msg2 + 16, h->msg2_len - 16,
	                     rs, out, sizeof(out), &plen),
	    VPN_ERR_INVAL);
	assert_int_equal(noise_split(&ini, k1, k2), VPN_ERR_INVAL);
	assert_int_equal(
	    noise_write_msg1(&ini, NULL, 0, out, sizeof(out), &len), 0);
	assert_int_equal(len, 64);
	assert_int_equal(
	    noise_write_msg1(&ini, NULL, 0, out, sizeof(out), &len),
	    VPN_ERR_INVAL);
	assert_int_equal(noise_set_ephemeral(&ini, e), VPN_ERR_INVAL);
	assert_int_equal(noise_split(&ini, k1, k2), VPN_ERR_INVAL);
	assert_int_equal(noise_read_msg1(&res, out, len, rs, &pl, &plen), 0);
	assert_int_equal(
	    noise_read_msg1(&res, out, len, rs, &pl, &plen), VPN_ERR_INVAL);
	assert_int_equal(noise_split(&res, k1, k2), VPN_ERR_INVAL);
	noise_clear(&ini);
	noise_clear(&res);
}

static void
test_noise_output_capacity(void **state)
{
	const struct cap_hs *h = first_hs(CRYPTO_AES256GCM);
	struct noise_hs ini, res, before;
	uint8_t m1[1024], m2[1024], pl[1024], rs[32];
	const uint8_t *p1;
	size_t len1, len2, plen, need;

	(void)state;
	assert_int_equal(
	    noise_init(&ini, h->cipher, true, h->i_s_priv, NULL), 0);
	assert_int_equal(noise_set_ephemeral(&ini, h->i_e_priv), 0);
	need = h->msg1_len - HEADER_LEN;
	memcpy(&before, &ini, sizeof(ini));
	assert_int_equal(noise_write_msg1(&ini, h->msg1 + 80, h->msg1_len - 80,
	                     m1, need - 1, &len1),
	    VPN_ERR_RANGE);
	assert_int_equal(noise_write_msg1(&ini, h->msg1 + 80, 0, m1, 63, &len1),
	    VPN_ERR_RANGE);
	assert_memory_equal(&ini, &before, sizeof(ini));
	assert_int_equal(noise_write_msg1(&ini, h->msg1 + 80, h->msg1_len - 80,
	                     m1, need, &len1),
	    0);

	assert_int_equal(
	    noise_init(&res, h->cipher, false, h->r_s_priv, NULL), 0);
	assert_int_equal(noise_set_ephemeral(&res, h->r_e_priv), 0);
	assert_int_equal(noise_read_msg1(&res, m1, len1, rs, &p1, &plen), 0);
	need = h->msg2_len - HEADER_LEN;
	memcpy(&before, &res, sizeof(res));
	assert_int_equal(noise_write_msg2(&res, h->payload2, h->payload2_len,
	                     m2, need - 1, &len2),
	    VPN_ERR_RANGE);
	assert_int_equal(noise_write_msg2(&res, h->payload2, 0, m2, 95, &len2),
	    VPN_ERR_RANGE);
	assert_memory_equal(&res, &before, sizeof(res));
	assert_int_equal(noise_write_msg2(&res, h->payload2, h->payload2_len,
	                     m2, need, &len2),
	    0);
	assert_memory_equal(m2, h->msg2 + HEADER_LEN, len2);

	memcpy(&before, &ini, sizeof(ini));
	assert_int_equal(
	    noise_read_msg2(&ini, m2, len2, rs, pl, h->payload2_len - 1, &plen),
	    VPN_ERR_RANGE);
	assert_memory_equal(&ini, &before, sizeof(ini));
	assert_int_equal(
	    noise_read_msg2(&ini, m2, len2, rs, pl, h->payload2_len, &plen), 0);
	noise_clear(&ini);
	noise_clear(&res);
}

/* Fresh random ephemerals: both sides agree, every run differs; any
 * payload size; a cipher mismatch fails at message 2. */
static void
full_handshake(enum crypto_cipher ci, enum crypto_cipher cr,
    const uint8_t *payload, size_t plen, uint8_t k1[32], uint8_t k2[32],
    int want)
{
	const struct cap_hs *h = first_hs(CRYPTO_AES256GCM);
	struct noise_hs ini, res;
	static uint8_t m1[8192], m2[8192], pl[8192];
	uint8_t rs[32], k3[32], k4[32];
	const uint8_t *p1;
	size_t len1, len2, n;

	assert_int_equal(noise_init(&ini, ci, true, h->i_s_priv, NULL), 0);
	assert_int_equal(noise_init(&res, cr, false, h->r_s_priv, NULL), 0);
	assert_int_equal(
	    noise_write_msg1(&ini, payload, plen, m1, sizeof(m1), &len1), 0);
	assert_int_equal(noise_read_msg1(&res, m1, len1, rs, &p1, &n), 0);
	assert_memory_equal(rs, h->i_s_pub, 32);
	assert_int_equal(n, plen);
	assert_int_equal(
	    noise_write_msg2(&res, payload, plen, m2, sizeof(m2), &len2), 0);
	assert_int_equal(len2, plen + NOISE_MSG2_OVERHEAD);
	assert_int_equal(
	    noise_read_msg2(&ini, m2, len2, rs, pl, sizeof(pl), &n), want);
	if (want == 0) {
		assert_memory_equal(rs, h->r_s_pub, 32);
		assert_int_equal(n, plen);
		if (plen > 0)
			assert_memory_equal(pl, payload, plen);
		assert_int_equal(noise_split(&ini, k1, k2), 0);
		assert_int_equal(noise_split(&res, k3, k4), 0);
		assert_memory_equal(k1, k3, 32);
		assert_memory_equal(k2, k4, 32);
		assert_memory_not_equal(k1, k2, 32);
		assert_memory_equal(
		    noise_handshake_hash(&ini), noise_handshake_hash(&res), 32);
	}
	noise_clear(&ini);
	noise_clear(&res);
}

static void
test_noise_fresh_handshakes(void **state)
{
	static uint8_t big[4000];
	uint8_t a1[32], a2[32], b1[32], b2[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	full_handshake(CRYPTO_AES256GCM, CRYPTO_AES256GCM, NULL, 0, a1, a2, 0);
	full_handshake(CRYPTO_AES256GCM, CRYPTO_AES256GCM, NULL, 0, b1, b2, 0);
	assert_memory_not_equal(a1, b1, 32);
	assert_memory_not_equal(a2, b2, 32);
	full_handshake(
	    CRYPTO_CHACHAPOLY, CRYPTO_CHACHAPOLY, big, sizeof(big), a1, a2, 0);
	full_handshake(CRYPTO_AES256GCM, CRYPTO_AES256GCM, big, 1, a1, a2, 0);
	/* no negotiation: mismatched ciphers fail to read message 2 */
	full_handshake(CRYPTO_AES256GCM, CRYPTO_CHACHAPOLY, big, 10, a1, a2,
	    VPN_ERR_CRYPTO);
	full_handshake(CRYPTO_CHACHAPOLY, CRYPTO_AES256GCM, big, 10, a1, a2,
	    VPN_ERR_CRYPTO);
}

static void
test_noise_clear_wipes_everything(void **state)
{
	const struct cap_hs *h = first_hs(CRYPTO_AES256GCM);
	struct noise_hs hs;
	uint8_t zero[sizeof(hs)];

	(void)state;
	initiator_after_msg1(h, &hs);
	noise_clear(&hs);
	memset(zero, 0, sizeof(zero));
	assert_memory_equal(&hs, zero, sizeof(hs));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_noise_replays_captured_handshakes),
	    cmocka_unit_test(test_noise_keys_open_captured_transport),
	    cmocka_unit_test(test_noise_forged_msg2_leaves_state_intact),
	    cmocka_unit_test(test_noise_low_order_msg1_fails_at_msg2),
	    cmocka_unit_test(test_noise_msg1_minimum_and_payload_pointer),
	    cmocka_unit_test(test_noise_calls_out_of_order),
	    cmocka_unit_test(test_noise_output_capacity),
	    cmocka_unit_test(test_noise_fresh_handshakes),
	    cmocka_unit_test(test_noise_clear_wipes_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
