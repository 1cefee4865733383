/* lib/crypto.c: thin wrappers over OpenSSL 3 libcrypto. */
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto.h"
#include "err.h"

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

int
crypto_x25519(const uint8_t priv[CRYPTO_X25519_LEN],
    const uint8_t peer[CRYPTO_X25519_LEN], uint8_t out[CRYPTO_X25519_LEN])
{
	EVP_PKEY *pk = raw_private(EVP_PKEY_X25519, priv, 32);
	EVP_PKEY *pp =
	    EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32);
	EVP_PKEY_CTX *cx = pk != NULL ? EVP_PKEY_CTX_new(pk, NULL) : NULL;
	size_t len = 32;
	int r = VPN_ERR_CRYPTO;

	/* OpenSSL refuses an all-zero shared secret (a low-order point). */
	if (cx != NULL && pp != NULL && EVP_PKEY_derive_init(cx) == 1 &&
	    EVP_PKEY_derive_set_peer(cx, pp) == 1 &&
	    EVP_PKEY_derive(cx, out, &len) == 1 && len == 32)
		r = 0;
	EVP_PKEY_CTX_free(cx);
	EVP_PKEY_free(pp);
	EVP_PKEY_free(pk);
	return r;
}

void
crypto_sha256(const void *msg, size_t len, uint8_t out[CRYPTO_SHA256_LEN])
{
	unsigned int n = 32;

	if (EVP_Digest(msg, len, out, &n, EVP_sha256(), NULL) != 1)
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
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc) !=
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
