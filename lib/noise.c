/*
 * lib/noise.c: the Noise IX handshake (Noise spec rev 34, sections 5 and
 * 7; wire.md 4).  Symmetric state: chaining key ck, handshake hash h,
 * cipher key k with nonce n.  Each public call works on a copy of the
 * state and commits it only on success.
 */
#include <string.h>

#include "crypto.h"
#include "err.h"
#include "noise.h"

enum {
	ST_WRITE1 = 1, /* initiator, fresh */
	ST_READ2,      /* initiator, msg1 sent */
	ST_READ1,      /* responder, fresh */
	ST_WRITE2,     /* responder, msg1 read */
	ST_DONE,
};

static const char proto_aesgcm[] = "Noise_IX_25519_AESGCM_SHA256";
static const char proto_chachapoly[] = "Noise_IX_25519_ChaChaPoly_SHA256";

static void
mix_hash(struct noise_hs *s, const uint8_t *data, size_t len)
{
	crypto_sha256_2(s->h, sizeof(s->h), data, len, s->h);
}

static int
mix_key(struct noise_hs *s, const uint8_t ikm[32])
{
	int r;

	if ((r = crypto_hkdf2(s->ck, ikm, 32, s->ck, s->k)) != 0)
		return r;
	s->has_k = true;
	s->n = 0;
	return 0;
}

/* MixKey(DH(our static or ephemeral key, pub)); an all-zero result fails
 * (crypto_x25519).  Our public key goes along: it spares OpenSSL its
 * derivation. */
static int
mix_dh(struct noise_hs *s, bool statik, const uint8_t pub[32])
{
	uint8_t dh[32];
	int r;

	if ((r = statik ? crypto_x25519_static(s->s_priv, s->s_pub, pub, dh)
	               : crypto_x25519_dh(s->e_priv, s->e_pub, pub, dh)) == 0)
		r = mix_key(s, dh);
	crypto_cleanse(dh, sizeof(dh));
	return r;
}

/* out = len bytes of p, encrypted and tagged once there is a key. */
static int
encrypt_and_hash(struct noise_hs *s, const uint8_t *p, size_t len, uint8_t *out)
{
	int r;

	if (!s->has_k) {
		if (len > 0)
			memmove(out, p, len);
		mix_hash(s, out, len);
		return 0;
	}
	if ((r = crypto_aead_seal1(
	         s->cipher, s->k, s->n, s->h, sizeof(s->h), p, len, out)) != 0)
		return r;
	s->n++;
	mix_hash(s, out, len + NOISE_TAG_LEN);
	return 0;
}

/* out = the plaintext of c (clen >= 16 with a key); out may be c. */
static int
decrypt_and_hash(
    struct noise_hs *s, const uint8_t *c, size_t clen, uint8_t *out)
{
	uint8_t h[32];
	int r;

	if (!s->has_k) {
		mix_hash(s, c, clen);
		if (clen > 0)
			memmove(out, c, clen);
		return 0;
	}
	/* Hash the ciphertext before an in-place open overwrites it. */
	crypto_sha256_2(s->h, sizeof(s->h), c, clen, h);
	if ((r = crypto_aead_open1(
	         s->cipher, s->k, s->n, s->h, sizeof(s->h), c, clen, out)) != 0)
		return r;
	s->n++;
	memcpy(s->h, h, sizeof(h));
	return 0;
}

/* The ephemeral key pair, made now unless a test set it. */
static int
need_e(struct noise_hs *s)
{
	int r;

	if (s->has_e)
		return 0;
	if ((r = crypto_x25519_keypair(s->e_priv, s->e_pub)) != 0)
		return r;
	s->has_e = true;
	return 0;
}

/* Commit t into hs on success; wipe the scratch copy either way. */
static int
finish(struct noise_hs *hs, struct noise_hs *t, int r)
{
	if (r == 0)
		memcpy(hs, t, sizeof(*hs));
	crypto_cleanse(t, sizeof(*t));
	return r;
}

int
noise_init(struct noise_hs *hs, enum crypto_cipher cipher, bool initiator,
    const uint8_t s_priv[32], const uint8_t s_pub[32])
{
	const char *name;
	size_t len;
	int r;

	memset(hs, 0, sizeof(*hs));
	switch (cipher) {
	case CRYPTO_AES256GCM:
		name = proto_aesgcm;
		len = sizeof(proto_aesgcm) - 1;
		break;
	case CRYPTO_CHACHAPOLY:
		name = proto_chachapoly;
		len = sizeof(proto_chachapoly) - 1;
		break;
	default:
		return VPN_ERR_INVAL;
	}
	hs->cipher = cipher;
	hs->initiator = initiator;
	hs->step = initiator ? ST_WRITE1 : ST_READ1;
	memcpy(hs->s_priv, s_priv, 32);
	if (s_pub != NULL)
		memcpy(hs->s_pub, s_pub, 32);
	else if ((r = crypto_x25519_public(s_priv, hs->s_pub)) != 0) {
		noise_clear(hs);
		return r;
	}
	/* Both names fit in HASHLEN: h = name zero-padded, no hashing. */
	memcpy(hs->h, name, len);
	memcpy(hs->ck, hs->h, sizeof(hs->ck));
	mix_hash(hs, NULL, 0); /* the empty prologue */
	return 0;
}

int
noise_set_ephemeral(struct noise_hs *hs, const uint8_t e_priv[32])
{
	uint8_t pub[32];
	int r;

	if (hs->step != ST_WRITE1 && hs->step != ST_READ1 &&
	    hs->step != ST_WRITE2)
		return VPN_ERR_INVAL;
	if ((r = crypto_x25519_public(e_priv, pub)) != 0)
		return r;
	memcpy(hs->e_priv, e_priv, 32);
	memcpy(hs->e_pub, pub, 32);
	hs->has_e = true;
	return 0;
}

int
noise_write_msg1(struct noise_hs *hs, const uint8_t *payload, size_t plen,
    uint8_t *out, size_t cap, size_t *outlen)
{
	struct noise_hs t;
	int r;

	if (hs->step != ST_WRITE1)
		return VPN_ERR_INVAL;
	if (cap < NOISE_MSG1_OVERHEAD || plen > cap - NOISE_MSG1_OVERHEAD)
		return VPN_ERR_RANGE;
	memcpy(&t, hs, sizeof(t));
	if ((r = need_e(&t)) != 0)
		return finish(hs, &t, r);
	/* -> e, s: no key yet, so s and the payload go in the clear. */
	memcpy(out, t.e_pub, 32);
	mix_hash(&t, t.e_pub, 32);
	if ((r = encrypt_and_hash(&t, t.s_pub, 32, out + 32)) != 0 ||
	    (r = encrypt_and_hash(&t, payload, plen, out + 64)) != 0)
		return finish(hs, &t, r);
	t.step = ST_READ2;
	*outlen = NOISE_MSG1_OVERHEAD + plen;
	return finish(hs, &t, 0);
}

int
noise_read_msg1(struct noise_hs *hs, const uint8_t *in, size_t len,
    uint8_t rs[32], const uint8_t **payload, size_t *plen)
{
	struct noise_hs t;

	if (hs->step != ST_READ1)
		return VPN_ERR_INVAL;
	if (len < NOISE_MSG1_OVERHEAD)
		return VPN_ERR_TRUNCATED;
	memcpy(&t, hs, sizeof(t));
	memcpy(t.re, in, 32);
	mix_hash(&t, t.re, 32);
	/* No key: DecryptAndHash is MixHash of the clear bytes. */
	memcpy(t.rs, in + 32, 32);
	mix_hash(&t, t.rs, 32);
	mix_hash(&t, in + 64, len - 64);
	t.step = ST_WRITE2;
	memcpy(rs, t.rs, 32);
	*payload = in + 64;
	*plen = len - 64;
	return finish(hs, &t, 0);
}

int
noise_write_msg2(struct noise_hs *hs, const uint8_t *payload, size_t plen,
    uint8_t *out, size_t cap, size_t *outlen)
{
	struct noise_hs t;
	int r;

	if (hs->step != ST_WRITE2)
		return VPN_ERR_INVAL;
	if (cap < NOISE_MSG2_OVERHEAD || plen > cap - NOISE_MSG2_OVERHEAD)
		return VPN_ERR_RANGE;
	memcpy(&t, hs, sizeof(t));
	/* <- e, ee, se, s, es */
	if ((r = need_e(&t)) != 0)
		return finish(hs, &t, r);
	memcpy(out, t.e_pub, 32);
	mix_hash(&t, t.e_pub, 32);
	if ((r = mix_dh(&t, false, t.re)) != 0 || /* ee */
	    (r = mix_dh(&t, false, t.rs)) != 0 || /* se */
	    (r = encrypt_and_hash(&t, t.s_pub, 32, out + 32)) != 0 ||
	    (r = mix_dh(&t, true, t.re)) != 0 || /* es */
	    (r = encrypt_and_hash(&t, payload, plen, out + 80)) != 0)
		return finish(hs, &t, r);
	t.step = ST_DONE;
	*outlen = NOISE_MSG2_OVERHEAD + plen;
	return finish(hs, &t, 0);
}

int
noise_read_msg2(struct noise_hs *hs, const uint8_t *in, size_t len,
    uint8_t rs[32], uint8_t *payload_out, size_t cap, size_t *plen)
{
	struct noise_hs t;
	size_t n;
	int r;

	if (hs->step != ST_READ2)
		return VPN_ERR_INVAL;
	if (len < NOISE_MSG2_OVERHEAD)
		return VPN_ERR_TRUNCATED;
	n = len - NOISE_MSG2_OVERHEAD;
	if (n > cap)
		return VPN_ERR_RANGE;
	memcpy(&t, hs, sizeof(t));
	memcpy(t.re, in, 32);
	mix_hash(&t, t.re, 32);
	if ((r = mix_dh(&t, false, t.re)) != 0 || /* ee */
	    (r = mix_dh(&t, true, t.re)) != 0 || /* se */
	    (r = decrypt_and_hash(&t, in + 32, 48, t.rs)) != 0 ||
	    (r = mix_dh(&t, false, t.rs)) != 0 || /* es */
	    (r = decrypt_and_hash(&t, in + 80, len - 80, payload_out)) != 0)
		return finish(hs, &t, r);
	t.step = ST_DONE;
	memcpy(rs, t.rs, 32);
	*plen = n;
	return finish(hs, &t, 0);
}

int
noise_split(const struct noise_hs *hs, uint8_t k_i2r[32], uint8_t k_r2i[32])
{
	if (hs->step != ST_DONE)
		return VPN_ERR_INVAL;
	return crypto_hkdf2(hs->ck, NULL, 0, k_i2r, k_r2i);
}

const uint8_t *
noise_handshake_hash(const struct noise_hs *hs)
{
	return hs->h;
}

void
noise_clear(struct noise_hs *hs)
{
	crypto_cleanse(hs, sizeof(*hs));
}
