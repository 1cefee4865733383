/*
 * lib/crypto.h: the only door to OpenSSL.  Every primitive the project
 * uses comes from libcrypto through here; nothing else includes
 * <openssl/...>.  Keys are raw bytes in Nebula's layouts:
 *   Ed25519 private key: 64 bytes, seed (32) || public key (32)
 *   X25519 private key: 32 bytes, unclamped as generated (RFC 7748 clamps
 *   inside the function, so files from nebula-cert work unchanged)
 */
#ifndef VPN_CRYPTO_H
#define VPN_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_ED25519_PRIV_LEN 64
#define CRYPTO_ED25519_PUB_LEN 32
#define CRYPTO_ED25519_SIG_LEN 64
#define CRYPTO_X25519_LEN 32
#define CRYPTO_GCM_KEY_LEN 32
#define CRYPTO_GCM_NONCE_LEN 12
#define CRYPTO_GCM_TAG_LEN 16

/*
 * Initialise libcrypto for a daemon, before any other crypto_ call: no
 * system openssl.cnf (no extra providers or engines), no error strings,
 * no legacy name tables.  Optional; 0 or VPN_ERR_CRYPTO.
 */
int crypto_init(void);

/* Fill buf with len bytes from the system CSPRNG. 0 or VPN_ERR_CRYPTO. */
int crypto_random(void *buf, size_t len);

/* A new Ed25519 key: priv = seed || pub. 0 or VPN_ERR_CRYPTO. */
int crypto_ed25519_keypair(uint8_t priv[CRYPTO_ED25519_PRIV_LEN]);
/* The public key derived from a 32-byte seed. */
int crypto_ed25519_public(const uint8_t seed[32],
    uint8_t pub[CRYPTO_ED25519_PUB_LEN]);
/* Pure Ed25519 (RFC 8032) over msg with the seed in priv[0..31]. */
int crypto_ed25519_sign(const uint8_t priv[CRYPTO_ED25519_PRIV_LEN],
    const uint8_t *msg, size_t len, uint8_t sig[CRYPTO_ED25519_SIG_LEN]);
/* True only when sig is a valid 64-byte signature of msg by pub. */
bool crypto_ed25519_verify(const uint8_t *pub, size_t publen,
    const uint8_t *msg, size_t len, const uint8_t *sig, size_t siglen);

/* A new X25519 pair: 32 random bytes and X25519(priv, 9). */
int crypto_x25519_keypair(uint8_t priv[CRYPTO_X25519_LEN],
    uint8_t pub[CRYPTO_X25519_LEN]);
/* pub = X25519(priv, 9). */
int crypto_x25519_public(const uint8_t priv[CRYPTO_X25519_LEN],
    uint8_t pub[CRYPTO_X25519_LEN]);
/* out = X25519(priv, peer); fails on an all-zero result. */
int crypto_x25519(const uint8_t priv[CRYPTO_X25519_LEN],
    const uint8_t peer[CRYPTO_X25519_LEN], uint8_t out[CRYPTO_X25519_LEN]);
/* The same with priv's public key at hand (pub, or NULL): OpenSSL then
 * skips deriving it, which costs as much as the DH.  A pub that is not
 * priv's changes nothing in out. */
int crypto_x25519_dh(const uint8_t priv[CRYPTO_X25519_LEN],
    const uint8_t *pub, const uint8_t peer[CRYPTO_X25519_LEN],
    uint8_t out[CRYPTO_X25519_LEN]);
/* The same for our long-lived static key (pub is its public key): its
 * key object is kept, per thread, for the next call with the same key. */
int crypto_x25519_static(const uint8_t priv[CRYPTO_X25519_LEN],
    const uint8_t pub[CRYPTO_X25519_LEN], const uint8_t peer[CRYPTO_X25519_LEN],
    uint8_t out[CRYPTO_X25519_LEN]);

void crypto_sha256(const void *msg, size_t len,
    uint8_t out[CRYPTO_SHA256_LEN]);

/* scrypt (RFC 7914) with OpenSSL's implementation; maxmem is raised to
 * what the parameters need (at most 1 GiB). 0, VPN_ERR_RANGE or
 * VPN_ERR_CRYPTO. */
int crypto_scrypt(const void *pass, size_t passlen, const uint8_t *salt,
    size_t saltlen, uint64_t n, uint32_t r, uint32_t p, uint8_t *out,
    size_t outlen);

/* One-shot AES-256-GCM.  seal writes len bytes of ciphertext then the
 * 16-byte tag to out; open checks the tag (the last 16 bytes of in) and
 * writes inlen - 16 bytes of plaintext, or returns VPN_ERR_CRYPTO and
 * leaves out zeroed. */
int crypto_gcm_seal(const uint8_t key[CRYPTO_GCM_KEY_LEN],
    const uint8_t nonce[CRYPTO_GCM_NONCE_LEN], const uint8_t *ad, size_t adlen,
    const uint8_t *in, size_t len, uint8_t *out);
int crypto_gcm_open(const uint8_t key[CRYPTO_GCM_KEY_LEN],
    const uint8_t nonce[CRYPTO_GCM_NONCE_LEN], const uint8_t *ad, size_t adlen,
    const uint8_t *in, size_t inlen, uint8_t *out);

/* Zero memory in a way the compiler keeps. */
void crypto_cleanse(void *p, size_t len);
/* Constant-time comparison. */
bool crypto_memeq(const void *a, const void *b, size_t len);

/* --- Noise and transport ------------------------------------------------ */

#define CRYPTO_HMAC_SHA256_LEN 32
#define CRYPTO_AEAD_KEY_LEN 32
#define CRYPTO_AEAD_NONCE_LEN 12
#define CRYPTO_AEAD_TAG_LEN 16

/* SHA-256 of a || b (Noise's MixHash). */
void crypto_sha256_2(const void *a, size_t alen, const void *b, size_t blen,
    uint8_t out[CRYPTO_SHA256_LEN]);

/* HMAC-SHA256 (RFC 2104).  0, VPN_ERR_RANGE (keylen > INT_MAX) or
 * VPN_ERR_CRYPTO. */
int crypto_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg,
    size_t msglen, uint8_t out[CRYPTO_HMAC_SHA256_LEN]);

/*
 * Noise's HKDF with two outputs (Noise spec 4.3; not RFC 5869's expand
 * with info):  t = HMAC(ck, ikm), o1 = HMAC(t, 0x01),
 * o2 = HMAC(t, o1 || 0x02).  o1 or o2 may be the same buffer as ck (MixKey
 * writes the new ck over the old).  0 or VPN_ERR_CRYPTO; on failure o1 and
 * o2 are zeroed.
 */
int crypto_hkdf2(const uint8_t ck[32], const uint8_t *ikm, size_t len,
    uint8_t o1[32], uint8_t o2[32]);

/* One-shot ChaCha20-Poly1305 (RFC 8439), the same contract as
 * crypto_gcm_seal / crypto_gcm_open above. */
int crypto_chacha_seal(const uint8_t key[CRYPTO_AEAD_KEY_LEN],
    const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const uint8_t *ad, size_t adlen,
    const uint8_t *in, size_t len, uint8_t *out);
int crypto_chacha_open(const uint8_t key[CRYPTO_AEAD_KEY_LEN],
    const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const uint8_t *ad, size_t adlen,
    const uint8_t *in, size_t inlen, uint8_t *out);

/* The two AEADs of Nebula's "cipher" setting (wire.md 4.1 and 6). */
enum crypto_cipher {
	CRYPTO_AES256GCM,  /* cipher: aes (the default) */
	CRYPTO_CHACHAPOLY, /* cipher: chachapoly */
};

/*
 * The 12-byte nonce for a 64-bit counter: 4 zero bytes, then the counter
 * BIG-endian for AES-256-GCM and LITTLE-endian for ChaCha20-Poly1305 (as in
 * the Noise spec; Nebula's transport does the same, wire.md 6).
 */
void crypto_aead_nonce(enum crypto_cipher c, uint64_t counter,
    uint8_t nonce[CRYPTO_AEAD_NONCE_LEN]);

/*
 * One-shot seal/open with the nonce made from a counter as above; for the
 * handshake, which keys a cipher once per message.  Same contract as
 * crypto_gcm_seal / crypto_gcm_open.
 */
int crypto_aead_seal1(enum crypto_cipher c,
    const uint8_t key[CRYPTO_AEAD_KEY_LEN], uint64_t counter, const uint8_t *ad,
    size_t adlen, const uint8_t *pt, size_t len, uint8_t *out);
int crypto_aead_open1(enum crypto_cipher c,
    const uint8_t key[CRYPTO_AEAD_KEY_LEN], uint64_t counter, const uint8_t *ad,
    size_t adlen, const uint8_t *ct, size_t ctlen, uint8_t *out);

/*
 * A transport AEAD for one direction of a tunnel: one cipher context keyed
 * once; per packet only the nonce changes, and nothing is allocated.  Not
 * thread-safe: one context per direction per thread.
 */
struct crypto_aead; /* opaque */

/* 0: *out is the caller's (crypto_aead_free).  VPN_ERR_NOMEM,
 * VPN_ERR_INVAL (unknown cipher) or VPN_ERR_CRYPTO. */
int crypto_aead_new(enum crypto_cipher c,
    const uint8_t key[CRYPTO_AEAD_KEY_LEN], bool encrypt,
    struct crypto_aead **out);
void crypto_aead_free(struct crypto_aead *a); /* NULL-safe; cleanses */

/*
 * Seal len bytes of pt with the nonce of counter: out receives len bytes
 * of ciphertext, then the 16-byte tag.  out may be pt (in place), otherwise
 * the buffers must not overlap.  0, VPN_ERR_INVAL (a decrypting context),
 * VPN_ERR_RANGE (len or adlen above INT_MAX) or VPN_ERR_CRYPTO.
 */
int crypto_aead_seal(struct crypto_aead *a, uint64_t counter, const uint8_t *ad,
    size_t adlen, const uint8_t *pt, size_t len, uint8_t *out);

/*
 * Open ctlen bytes (ciphertext and the 16-byte tag): out receives
 * ctlen - 16 bytes of plaintext.  out may be ct (in place), otherwise the
 * buffers must not overlap.  0 or VPN_ERR_CRYPTO (short input or a bad
 * tag; out is then zeroed), VPN_ERR_INVAL (an encrypting context),
 * VPN_ERR_RANGE.
 */
int crypto_aead_open(struct crypto_aead *a, uint64_t counter, const uint8_t *ad,
    size_t adlen, const uint8_t *ct, size_t ctlen, uint8_t *out);

#endif
