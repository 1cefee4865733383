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

#endif
