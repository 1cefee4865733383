/*
 * lib/pki.h: the CA pool: trusted CA certificates keyed by fingerprint,
 * plus the blocklist of certificate fingerprints (certificate.md 7.2-7.5).
 */
#ifndef VPN_PKI_H
#define VPN_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert.h"

struct ca_pool;

struct ca_pool *ca_pool_new(void);
void ca_pool_free(struct ca_pool *p); /* NULL-safe */

/*
 * Add the first PEM certificate of in[0..len) (certificate.md 7.4): it
 * must be a CA and self-signed.  *consumed is set past the block even on
 * error.  An expired CA is added and VPN_ERR_CERT_EXPIRED returned.  On
 * VPN_ERR_CERT_NOT_CA, _NOT_SELF_SIGNED or _EXPIRED, name (if not NULL)
 * receives the certificate's name, which Nebula prefixes to the text.
 */
int ca_pool_add_pem(struct ca_pool *p, const char *in, size_t len,
    int64_t now, size_t *consumed, char *name, size_t namelen);

/*
 * Add every PEM block of a bundle.  strict (nebula-cert verify): the first
 * error of any kind, expired included, fails the load.  Otherwise (the
 * daemon): expired CAs are counted in *nexpired and kept, and the load
 * fails with VPN_ERR_POOL_ALL_EXPIRED only if every CA is expired, or
 * VPN_ERR_POOL_EMPTY if there is none.  name as for ca_pool_add_pem.
 */
int ca_pool_load_pem(struct ca_pool *p, const char *in, size_t len,
    int64_t now, bool strict, size_t *nexpired, char *name, size_t namelen);

size_t ca_pool_count(const struct ca_pool *p);
/* The i-th CA (insertion order) and its fingerprint. */
const struct cert *ca_pool_get(const struct ca_pool *p, size_t i,
    uint8_t fp[CERT_FP_LEN]);
/* The CA whose fingerprint equals the cert's issuer, or NULL with *err
 * set to VPN_ERR_CERT_NO_ISSUER or VPN_ERR_CERT_UNKNOWN_CA. */
const struct cert *ca_pool_issuer(const struct ca_pool *p,
    const struct cert *c, int *err);

/*
 * Blocklist a fingerprint given as hex text.  Nebula compares strings, so
 * only 64 lowercase hex digits can ever match: anything else is refused
 * with VPN_ERR_INVAL (callers warn) and not stored.
 */
int ca_pool_block(struct ca_pool *p, const char *hex);
bool ca_pool_blocked(const struct ca_pool *p, const uint8_t fp[CERT_FP_LEN]);
/* The same CAs (by fingerprint, in any order) and the same blocklist? */
bool ca_pool_same(const struct ca_pool *a, const struct ca_pool *b);

/*
 * Nebula's Verify(now, pool): blocklist, issuer, CA expiry, expiry,
 * signature, CA constraints; the first failure's VPN_ERR_CERT_* is
 * returned and detail receives the constraint's argument, if any.
 */
int ca_pool_verify(const struct ca_pool *p, const struct cert *c, int64_t now,
    char *detail, size_t detaillen);

/*
 * The same, with the certificate's fingerprint fp already computed, and
 * without the signature check when sig_known_good (the same bytes were
 * verified against this pool before: see struct fp_cache).  Every other
 * check is made as above, expiry and blocklist included.
 */
int ca_pool_verify_fp(const struct ca_pool *p, const struct cert *c,
    const uint8_t fp[CERT_FP_LEN], bool sig_known_good, int64_t now,
    char *detail, size_t detaillen);

/*
 * A bounded set of certificate fingerprints (two-way set associative: a
 * newcomer replaces one of the two in its set), e.g. of certificates whose
 * signature verified: a handshake from a known certificate is then spared
 * the Ed25519 verification, the most expensive step of a responder's
 * work after the DHs.  Only what passed the whole verification goes in; an
 * outsider cannot choose a fingerprint, so cannot aim at a set.  The
 * slots are allocated at the first add (nslots * 32 bytes).
 */
struct fp_cache {
	uint8_t (*slot)[CERT_FP_LEN]; /* all zero: empty */
	size_t nslots;                /* a power of two, >= 2 */
	uint64_t hits, misses;
};

/* nslots is rounded down to a power of two (at least 2). */
void fp_cache_init(struct fp_cache *fc, size_t nslots);
bool fp_cache_has(struct fp_cache *fc, const uint8_t fp[CERT_FP_LEN]);
/* Added if there is memory for it: a cache may forget. */
void fp_cache_add(struct fp_cache *fc, const uint8_t fp[CERT_FP_LEN]);
/* Forget everything (the pool or the blocklist changed). */
void fp_cache_clear(struct fp_cache *fc);
void fp_cache_free(struct fp_cache *fc);

#endif
