/* lib/crypto.c: thin wrappers over OpenSSL 3 libcrypto. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "crypto.h"
#include "err.h"
#include "wire.h"

/*
 * Algorithms fetched once per thread.  EVP_sha256() and the like are
 * legacy handles that OpenSSL 3 looks up by name again at every use;
 * the handshake uses SHA-256, HMAC and the AEADs dozens of times.  Each
 * falls back to the legacy handle if the fetch fails.
 */
static _Thread_local EVP_MD *fetched_sha256;
static _Thread_local EVP_CIPHER *fetched_gcm, *fetched_chacha;
static _Thread_local EVP_MAC_CTX *hmac_ctx; /* HMAC-SHA256, rekeyed per use */
static _Thread_local EVP_MD_CTX *sha_ctx;

static const EVP_CIPHER *aead_cipher(enum crypto_cipher c);

static const EVP_MD *
sha256_md(void)
{
	if (fetched_sha256 == NULL)
		fetched_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	return fetched_sha256 != NULL ? fetched_sha256 : EVP_sha256();
}

int
crypto_init(void)
{
	const uint64_t opts =
	    OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS |
	    OPENSSL_INIT_NO_ADD_ALL_CIPHERS | OPENSSL_INIT_NO_ADD_ALL_DIGESTS;

	return OPENSSL_init_crypto(opts, NULL) == 1 ? 0 : VPN_ERR_CRYPTO;
}

int
crypto_random(void *buf, size_t len)
{
	if (len > INT_MAX || RAND_bytes(buf, (int)len) != 1)
		return VPN_ERR_CRYPTO;
	return 0;
}

static EVP_PKEY *
raw_private(int type, const uint8_t *key, size_t len)
{
	return EVP_PKEY_new_raw_private_key(type, NULL, key, len);
}

static int
raw_public_of(EVP_PKEY *pk, uint8_t *pub, size_t want)
{
	size_t len = want;

	if (pk == NULL || EVP_PKEY_get_raw_public_key(pk, pub, &len) != 1 ||
	    len != want)
		return VPN_ERR_CRYPTO;
	return 0;
}

int
crypto_ed25519_public(const uint8_t seed[32],
    uint8_t pub[CRYPTO_ED25519_PUB_LEN])
{
	EVP_PKEY *pk = raw_private(EVP_PKEY_ED25519, seed, 32);
	int r = raw_public_of(pk, pub, CRYPTO_ED25519_PUB_LEN);

	EVP_PKEY_free(pk);
	return r;
}

int
crypto_ed25519_keypair(uint8_t priv[CRYPTO_ED25519_PRIV_LEN])
{
	int r;

	if ((r = crypto_random(priv, 32)) != 0 ||
	    (r = crypto_ed25519_public(priv, priv + 32)) != 0)
		crypto_cleanse(priv, CRYPTO_ED25519_PRIV_LEN);
	return r;
}

int
crypto_ed25519_sign(const uint8_t priv[CRYPTO_ED25519_PRIV_LEN],
    const uint8_t *msg, size_t len, uint8_t sig[CRYPTO_ED25519_SIG_LEN])
{
	EVP_PKEY *pk = raw_private(EVP_PKEY_ED25519, priv, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t siglen = CRYPTO_ED25519_SIG_LEN;
	int r = VPN_ERR_CRYPTO;

	if (pk != NULL && md != NULL &&
	    EVP_DigestSignInit(md, NULL, NULL, NULL, pk) == 1 &&
	    EVP_DigestSign(md, sig, &siglen, msg, len) == 1 &&
	    siglen == CRYPTO_ED25519_SIG_LEN)
		r = 0;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	return r;
}

bool
crypto_ed25519_verify(const uint8_t *pub, size_t publen, const uint8_t *msg,
    size_t len, const uint8_t *sig, size_t siglen)
{
	EVP_PKEY *pk;
	EVP_MD_CTX *md;
	bool ok = false;

	if (publen != CRYPTO_ED25519_PUB_LEN || siglen != CRYPTO_ED25519_SIG_LEN)
		return false;
	pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, publen);
	md = EVP_MD_CTX_new();
	if (pk != NULL && md != NULL &&
	    EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, msg, len) == 1)
		ok = true;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	return ok;
}

int
crypto_x25519_public(const uint8_t priv[CRYPTO_X25519_LEN],
    uint8_t pub[CRYPTO_X25519_LEN])
{
	EVP_PKEY *pk = raw_private(EVP_PKEY_X25519, priv, 32);
	int r = raw_public_of(pk, pub, CRYPTO_X25519_LEN);

	EVP_PKEY_free(pk);
	return r;
}

int
crypto_x25519_keypair(uint8_t priv[CRYPTO_X25519_LEN],
    uint8_t pub[CRYPTO_X25519_LEN])
{
	int r;

	if ((r = crypto_random(priv, 32)) != 0 ||
	    (r = crypto_x25519_public(priv, pub)) != 0)
		crypto_cleanse(priv, 32);
	return r;
}

/*
 * X25519 keys from raw bytes through one context per thread, made once:
 * a context made per key (EVP_PKEY_new_raw_*) looks its algorithm up by
 * name every time.  With the private key's public key given, OpenSSL
 * takes both as they are; given the private key alone it derives the
 * public key, a base point multiplication that a DH does not need and
 * that costs as much as the DH itself.
 */
static _Thread_local EVP_PKEY_CTX *x25519_fd;

static EVP_PKEY *
x25519_key(const uint8_t *priv, const uint8_t *pub)
{
	OSSL_PARAM p[3], *q = p;
	EVP_PKEY *pk = NULL;

	if (priv != NULL && pub == NULL)
		return raw_private(EVP_PKEY_X25519, priv, 32);
	if (x25519_fd == NULL &&
	    (x25519_fd = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL)) ==
	        NULL)
		return NULL;
	if (priv != NULL)
		*q++ = OSSL_PARAM_construct_octet_string(
		    OSSL_PKEY_PARAM_PRIV_KEY, (void *)priv, 32);
	*q++ = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, 32);
	*q = OSSL_PARAM_construct_end();
	if (EVP_PKEY_fromdata_init(x25519_fd) != 1 ||
	    EVP_PKEY_fromdata(x25519_fd, &pk,
	        priv != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, p) != 1)
		pk = NULL;
	return pk;
}

/* out = the DH of cx's key (derive-initialised) with peer.  OpenSSL
 * refuses an all-zero shared secret (a low-order point); checking the
 * peer's key first would check only its length. */
static int
derive_with(EVP_PKEY_CTX *cx, const uint8_t peer[CRYPTO_X25519_LEN],
    uint8_t out[CRYPTO_X25519_LEN])
{
	EVP_PKEY *pp = x25519_key(NULL, peer);
	size_t len = 32;
	int r = VPN_ERR_CRYPTO;

	if (pp != NULL && EVP_PKEY_derive_set_peer_ex(cx, pp, 0) == 1 &&
	    EVP_PKEY_derive(cx, out, &len) == 1 && len == 32)
		r = 0;
	EVP_PKEY_free(pp);
	return r;
}

int
crypto_x25519_dh(const uint8_t priv[CRYPTO_X25519_LEN],
    const uint8_t *pub, const uint8_t peer[CRYPTO_X25519_LEN],
    uint8_t out[CRYPTO_X25519_LEN])
{
	EVP_PKEY *pk = x25519_key(priv, pub);
	EVP_PKEY_CTX *cx = pk != NULL ? EVP_PKEY_CTX_new(pk, NULL) : NULL;
	int r = VPN_ERR_CRYPTO;

	if (cx != NULL && EVP_PKEY_derive_init(cx) == 1)
		r = derive_with(cx, peer, out);
	EVP_PKEY_CTX_free(cx);
	EVP_PKEY_free(pk);
	return r;
}

int
crypto_x25519(const uint8_t priv[CRYPTO_X25519_LEN],
    const uint8_t peer[CRYPTO_X25519_LEN], uint8_t out[CRYPTO_X25519_LEN])
{
	return crypto_x25519_dh(priv, NULL, peer, out);
}

/*
 * Our static key, ready for DHs: the key object and its derive context
 * are made once per thread and kept while the key stays the same (a
 * reload with a new key replaces them).  Only for the long-lived key,
 * which the process holds anyway: an ephemeral key must not outlive its
 * handshake.
 */
static _Thread_local EVP_PKEY_CTX *static_dh;
static _Thread_local uint8_t static_priv[32];

int
crypto_x25519_static(const uint8_t priv[CRYPTO_X25519_LEN],
    const uint8_t pub[CRYPTO_X25519_LEN], const uint8_t peer[CRYPTO_X25519_LEN],
    uint8_t out[CRYPTO_X25519_LEN])
{
	EVP_PKEY *pk;

	if (static_dh == NULL || CRYPTO_memcmp(priv, static_priv, 32) != 0) {
		EVP_PKEY_CTX_free(static_dh);
		static_dh = NULL;
		OPENSSL_cleanse(static_priv, sizeof(static_priv));
		if ((pk = x25519_key(priv, pub)) == NULL)
			return VPN_ERR_CRYPTO;
		static_dh = EVP_PKEY_CTX_new(pk, NULL); /* holds pk */
		EVP_PKEY_free(pk);
		if (static_dh == NULL || EVP_PKEY_derive_init(static_dh) != 1) {
			EVP_PKEY_CTX_free(static_dh);
			static_dh = NULL;
			return VPN_ERR_CRYPTO;
		}
		memcpy(static_priv, priv, 32);
	}
	return derive_with(static_dh, peer, out);
}

void
crypto_sha256(const void *msg, size_t len, uint8_t out[CRYPTO_SHA256_LEN])
{
	unsigned int n = 32;

	if (EVP_Digest(msg, len, out, &n, sha256_md(), NULL) != 1)
		memset(out, 0, 32); /* cannot happen with the default provider */
}

int
crypto_scrypt(const void *pass, size_t passlen, const uint8_t *salt,
    size_t saltlen, uint64_t n, uint32_t r, uint32_t p, uint8_t *out,
    size_t outlen)
{
	uint64_t maxmem;

	/* Memory is about 128 * r * (n + p + 2) bytes. */
	if (n < 2 || (n & (n - 1)) != 0 || r == 0 || p == 0 ||
	    n > (1ull << 24) || r > 64 || p > 64)
		return VPN_ERR_RANGE;
	maxmem = 128ull * r * (n + p + 2) + (1u << 20);
	if (maxmem > (1ull << 30))
		return VPN_ERR_RANGE;
	if (EVP_PBE_scrypt(pass, passlen, salt, saltlen, n, r, p, maxmem, out,
	        outlen) != 1)
		return VPN_ERR_CRYPTO;
	return 0;
}

static int
gcm(int enc, const uint8_t *key, const uint8_t *nonce, const uint8_t *ad,
    size_t adlen, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n, r = VPN_ERR_CRYPTO;

	if (c == NULL || len > INT_MAX || adlen > INT_MAX)
		goto out;
	if (EVP_CipherInit_ex(c, aead_cipher(CRYPTO_AES256GCM), NULL, key,
	        nonce, enc) !=
	        1 ||
	    (adlen > 0 && EVP_CipherUpdate(c, NULL, &n, ad, (int)adlen) != 1) ||
	    (len > 0 && EVP_CipherUpdate(c, out, &n, in, (int)len) != 1))
		goto out;
	if (enc) {
		if (EVP_CipherFinal_ex(c, out + len, &n) != 1 ||
		    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1)
			goto out;
	} else {
		if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16,
		        (void *)tag) != 1 ||
		    EVP_CipherFinal_ex(c, out + len, &n) != 1)
			goto out;
	}
	r = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return r;
}

int
crypto_gcm_seal(const uint8_t key[CRYPTO_GCM_KEY_LEN],
    const uint8_t nonce[CRYPTO_GCM_NONCE_LEN], const uint8_t *ad,
    size_t adlen, const uint8_t *in, size_t len, uint8_t *out)
{
	return gcm(1, key, nonce, ad, adlen, in, len, out, out + len);
}

int
crypto_gcm_open(const uint8_t key[CRYPTO_GCM_KEY_LEN],
    const uint8_t nonce[CRYPTO_GCM_NONCE_LEN], const uint8_t *ad,
    size_t adlen, const uint8_t *in, size_t inlen, uint8_t *out)
{
	uint8_t tag[16];
	size_t len;
	int r;

	if (inlen < 16)
		return VPN_ERR_CRYPTO;
	len = inlen - 16;
	memcpy(tag, in + len, 16);
	if ((r = gcm(0, key, nonce, ad, adlen, in, len, out, tag)) != 0)
		crypto_cleanse(out, len);
	return r;
}

void
crypto_cleanse(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

bool
crypto_memeq(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

/* --- Noise and transport ------------------------------------------------ */

void
crypto_sha256_2(const void *a, size_t alen, const void *b, size_t blen,
    uint8_t out[CRYPTO_SHA256_LEN])
{
	unsigned int n = 32;

	if (sha_ctx == NULL)
		sha_ctx = EVP_MD_CTX_new();
	if (sha_ctx == NULL ||
	    EVP_DigestInit_ex2(sha_ctx, sha256_md(), NULL) != 1 ||
	    EVP_DigestUpdate(sha_ctx, a, alen) != 1 ||
	    EVP_DigestUpdate(sha_ctx, b, blen) != 1 ||
	    EVP_DigestFinal_ex(sha_ctx, out, &n) != 1)
		memset(out, 0, 32); /* only on allocation failure */
}

int
crypto_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg,
    size_t msglen, uint8_t out[CRYPTO_HMAC_SHA256_LEN])
{
	static const uint8_t empty[1];
	size_t n = 0;

	if (keylen > INT_MAX)
		return VPN_ERR_RANGE;
	if (hmac_ctx == NULL) {
		EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		OSSL_PARAM p[2] = {OSSL_PARAM_construct_utf8_string(
		                       OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		    OSSL_PARAM_construct_end()};

		if (mac != NULL && (hmac_ctx = EVP_MAC_CTX_new(mac)) != NULL &&
		    EVP_MAC_CTX_set_params(hmac_ctx, p) != 1) {
			EVP_MAC_CTX_free(hmac_ctx);
			hmac_ctx = NULL;
		}
		EVP_MAC_free(mac); /* the context holds its own reference */
		if (hmac_ctx == NULL)
			return VPN_ERR_CRYPTO;
	}
	/* An empty key is all zeros to HMAC, as one zero byte is. */
	if (EVP_MAC_init(hmac_ctx, keylen > 0 ? key : empty,
	        keylen > 0 ? keylen : 1, NULL) != 1 ||
	    EVP_MAC_update(hmac_ctx, msglen > 0 ? msg : empty, msglen) != 1 ||
	    EVP_MAC_final(hmac_ctx, out, &n, CRYPTO_HMAC_SHA256_LEN) != 1 ||
	    n != CRYPTO_HMAC_SHA256_LEN) {
		OPENSSL_cleanse(out, CRYPTO_HMAC_SHA256_LEN);
		n = 0;
	}
	/* The context outlives the call: it keeps no key of ours. */
	(void)EVP_MAC_init(hmac_ctx, empty, 1, NULL);
	return n == CRYPTO_HMAC_SHA256_LEN ? 0 : VPN_ERR_CRYPTO;
}

int
crypto_hkdf2(const uint8_t ck[32], const uint8_t *ikm, size_t len,
    uint8_t o1[32], uint8_t o2[32])
{
	static const uint8_t one = 0x01;
	uint8_t t[32], buf[33];
	int r;

	/* ck is read only by the first HMAC, so o1/o2 may overwrite it. */
	if ((r = crypto_hmac_sha256(ck, 32, ikm, len, t)) != 0 ||
	    (r = crypto_hmac_sha256(t, 32, &one, 1, buf)) != 0)
		goto out;
	buf[32] = 0x02;
	if ((r = crypto_hmac_sha256(t, 32, buf, 33, o2)) != 0)
		goto out;
	memcpy(o1, buf, 32);
out:
	if (r != 0) {
		OPENSSL_cleanse(o1, 32);
		OPENSSL_cleanse(o2, 32);
	}
	OPENSSL_cleanse(t, sizeof(t));
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

static const EVP_CIPHER *
aead_cipher(enum crypto_cipher c)
{
	switch (c) {
	case CRYPTO_AES256GCM:
		if (fetched_gcm == NULL)
			fetched_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
		return fetched_gcm != NULL ? fetched_gcm : EVP_aes_256_gcm();
	case CRYPTO_CHACHAPOLY:
		if (fetched_chacha == NULL)
			fetched_chacha =
			    EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
		return fetched_chacha != NULL ? fetched_chacha
		                              : EVP_chacha20_poly1305();
	}
	return NULL;
}

void
crypto_aead_nonce(enum crypto_cipher c, uint64_t counter,
    uint8_t nonce[CRYPTO_AEAD_NONCE_LEN])
{
	int i;

	memset(nonce, 0, 4);
	if (c != CRYPTO_CHACHAPOLY) {
		be64_put(nonce + 4, counter);
		return;
	}
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

/*
 * One AEAD operation on a context already keyed for its direction: set the
 * nonce, feed the AD and the text, then produce (enc) or check (!enc) the
 * tag.  Nothing is allocated.
 */
static int
aead_run(EVP_CIPHER_CTX *c, bool enc, const uint8_t *nonce, const uint8_t *ad,
    size_t adlen, const uint8_t *in, size_t len, uint8_t *out,
    const uint8_t *tag_in, uint8_t *tag_out)
{
	uint8_t fin[32]; /* GCM and ChaCha20-Poly1305 finish with no output */
	OSSL_PARAM p[2] = {OSSL_PARAM_END, OSSL_PARAM_END};
	int n, f;

	if (len > INT_MAX - 32 || adlen > INT_MAX)
		return VPN_ERR_RANGE;
	if (EVP_CipherInit_ex(c, NULL, NULL, NULL, nonce, -1) != 1 ||
	    (adlen > 0 && EVP_CipherUpdate(c, NULL, &n, ad, (int)adlen) != 1))
		return VPN_ERR_CRYPTO;
	n = 0;
	if (len > 0 && (EVP_CipherUpdate(c, out, &n, in, (int)len) != 1 ||
	                   (size_t)n != len))
		return VPN_ERR_CRYPTO;
	if (!enc) {
		p[0] = OSSL_PARAM_construct_octet_string(
		    OSSL_CIPHER_PARAM_AEAD_TAG, (void *)tag_in,
		    CRYPTO_AEAD_TAG_LEN);
		if (EVP_CIPHER_CTX_set_params(c, p) != 1)
			return VPN_ERR_CRYPTO;
	}
	f = 0;
	if (EVP_CipherFinal_ex(c, fin, &f) != 1 || f != 0)
		return VPN_ERR_CRYPTO;
	if (enc) {
		p[0] = OSSL_PARAM_construct_octet_string(
		    OSSL_CIPHER_PARAM_AEAD_TAG, tag_out, CRYPTO_AEAD_TAG_LEN);
		if (EVP_CIPHER_CTX_get_params(c, p) != 1)
			return VPN_ERR_CRYPTO;
	}
	return 0;
}

/* A fresh context for cipher c keyed with key, for one direction. */
static EVP_CIPHER_CTX *
aead_ctx(enum crypto_cipher c, const uint8_t *key, bool enc)
{
	const EVP_CIPHER *ciph = aead_cipher(c);
	EVP_CIPHER_CTX *ctx;

	if (ciph == NULL || (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	if (EVP_CipherInit_ex(ctx, ciph, NULL, key, NULL, enc ? 1 : 0) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int
aead_once(enum crypto_cipher c, bool enc, const uint8_t *key,
    const uint8_t *nonce, const uint8_t *ad, size_t adlen, const uint8_t *in,
    size_t inlen, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t tag[CRYPTO_AEAD_TAG_LEN];
	size_t len = inlen;
	int r;

	if (!enc) {
		if (inlen < CRYPTO_AEAD_TAG_LEN)
			return VPN_ERR_CRYPTO;
		len = inlen - CRYPTO_AEAD_TAG_LEN;
		memcpy(tag, in + len, sizeof(tag));
	}
	if ((ctx = aead_ctx(c, key, enc)) == NULL)
		return VPN_ERR_CRYPTO;
	r = aead_run(ctx, enc, nonce, ad, adlen, in, len, out, tag,
	    enc ? out + len : NULL);
	EVP_CIPHER_CTX_free(ctx);
	if (r != 0 && !enc && len > 0)
		OPENSSL_cleanse(out, len);
	return r;
}

int
crypto_chacha_seal(const uint8_t key[CRYPTO_AEAD_KEY_LEN],
    const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const uint8_t *ad, size_t adlen,
    const uint8_t *in, size_t len, uint8_t *out)
{
	return aead_once(
	    CRYPTO_CHACHAPOLY, true, key, nonce, ad, adlen, in, len, out);
}

int
crypto_chacha_open(const uint8_t key[CRYPTO_AEAD_KEY_LEN],
    const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const uint8_t *ad, size_t adlen,
    const uint8_t *in, size_t inlen, uint8_t *out)
{
	return aead_once(
	    CRYPTO_CHACHAPOLY, false, key, nonce, ad, adlen, in, inlen, out);
}

int
crypto_aead_seal1(enum crypto_cipher c, const uint8_t key[CRYPTO_AEAD_KEY_LEN],
    uint64_t counter, const uint8_t *ad, size_t adlen, const uint8_t *pt,
    size_t len, uint8_t *out)
{
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];

	crypto_aead_nonce(c, counter, nonce);
	return aead_once(c, true, key, nonce, ad, adlen, pt, len, out);
}

int
crypto_aead_open1(enum crypto_cipher c, const uint8_t key[CRYPTO_AEAD_KEY_LEN],
    uint64_t counter, const uint8_t *ad, size_t adlen, const uint8_t *ct,
    size_t ctlen, uint8_t *out)
{
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];

	crypto_aead_nonce(c, counter, nonce);
	return aead_once(c, false, key, nonce, ad, adlen, ct, ctlen, out);
}

struct crypto_aead {
	EVP_CIPHER_CTX *ctx; /* keyed once, direction fixed */
	enum crypto_cipher cipher;
	bool encrypt;
};

int
crypto_aead_new(enum crypto_cipher c, const uint8_t key[CRYPTO_AEAD_KEY_LEN],
    bool encrypt, struct crypto_aead **out)
{
	struct crypto_aead *a;

	*out = NULL;
	if (aead_cipher(c) == NULL)
		return VPN_ERR_INVAL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return VPN_ERR_NOMEM;
	if ((a->ctx = aead_ctx(c, key, encrypt)) == NULL) {
		free(a);
		return VPN_ERR_CRYPTO;
	}
	a->cipher = c;
	a->encrypt = encrypt;
	*out = a;
	return 0;
}

void
crypto_aead_free(struct crypto_aead *a)
{
	if (a == NULL)
		return;
	EVP_CIPHER_CTX_free(a->ctx); /* the provider cleanses the key */
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

int
crypto_aead_seal(struct crypto_aead *a, uint64_t counter, const uint8_t *ad,
    size_t adlen, const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];

	if (!a->encrypt)
		return VPN_ERR_INVAL;
	crypto_aead_nonce(a->cipher, counter, nonce);
	return aead_run(
	    a->ctx, true, nonce, ad, adlen, pt, len, out, NULL, out + len);
}

int
crypto_aead_open(struct crypto_aead *a, uint64_t counter, const uint8_t *ad,
    size_t adlen, const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], tag[CRYPTO_AEAD_TAG_LEN];
	size_t len;
	int r;

	if (a->encrypt)
		return VPN_ERR_INVAL;
	if (ctlen < CRYPTO_AEAD_TAG_LEN)
		return VPN_ERR_CRYPTO;
	len = ctlen - CRYPTO_AEAD_TAG_LEN;
	/* Copied first: with out == ct the tag must survive the update. */
	memcpy(tag, ct + len, sizeof(tag));
	crypto_aead_nonce(a->cipher, counter, nonce);
	r = aead_run(a->ctx, false, nonce, ad, adlen, ct, len, out, tag, NULL);
	if (r != 0 && len > 0)
		OPENSSL_cleanse(out, len);
	return r;
}
