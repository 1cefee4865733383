/*
 * lib/cert.h: Nebula v1 certificates (certificate.md): protobuf decode,
 * canonical encode, Ed25519 signature, fingerprint, validity and CA
 * constraints.  No file I/O, no clock (callers pass "now"), no logging.
 *
 * The struct is read-only to callers once built; build one with
 * cert_new() and the cert_set_* / cert_add_* functions.  Strings carry a
 * length because a protobuf string may hold a NUL; they are also
 * NUL-terminated for convenience.
 */
#ifndef VPN_CERT_H
#define VPN_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipaddr.h"

#define CERT_MAX_LEN 65536 /* refuse anything larger before parsing */
#define CERT_FP_LEN 32
#define CERT_FP_HEXLEN 65

struct cert_str {
	char *s; /* NUL-terminated */
	size_t len;
};

struct cert {
	struct cert_str name;
	struct ip4net *ips;
	size_t nips;
	struct ip4net *subnets;
	size_t nsubnets;
	struct cert_str *groups;
	size_t ngroups;
	int64_t not_before, not_after; /* Unix seconds */
	uint8_t *pubkey;	       /* >= 32 bytes once decoded */
	size_t pubkey_len;
	bool is_ca;
	uint8_t *issuer; /* raw bytes: the issuing CA's fingerprint */
	size_t issuer_len;
	uint8_t *sig;
	size_t sig_len;
};

/* Flags for cert_marshal. */
#define CERT_NO_PUBKEY 0x1 /* the handshake form: field 7 left out */

struct cert *cert_new(void);
void cert_free(struct cert *c); /* NULL-safe */

/* Setters copy their input.  0 or VPN_ERR_NOMEM. */
int cert_set_name(struct cert *c, const char *s, size_t len);
int cert_add_group(struct cert *c, const char *s, size_t len);
int cert_add_ip(struct cert *c, const struct ip4net *n);
int cert_add_subnet(struct cert *c, const struct ip4net *n);
int cert_set_pubkey(struct cert *c, const uint8_t *k, size_t len);
int cert_set_issuer(struct cert *c, const uint8_t *k, size_t len);

/*
 * Decode a RawNebulaCertificate.  0: *out is the caller's.  Errors:
 * VPN_ERR_CERT_EMPTY, VPN_ERR_PB_*, VPN_ERR_TRUNCATED,
 * VPN_ERR_CERT_NO_DETAILS, VPN_ERR_CERT_ODD_IPS, VPN_ERR_CERT_ODD_SUBNETS,
 * VPN_ERR_CERT_SHORT_KEY (unless allow_short_key, for the handshake form
 * which carries no key), VPN_ERR_CERT_TOO_LARGE, VPN_ERR_NOMEM.
 */
int cert_unmarshal(const uint8_t *buf, size_t len, struct cert **out);
int cert_unmarshal_nokey(const uint8_t *buf, size_t len, struct cert **out);

/* Canonical encoding (Go's); *out is malloc'd.  flags: CERT_NO_PUBKEY. */
int cert_marshal(const struct cert *c, unsigned flags, uint8_t **out,
    size_t *len);
/* Canonical encoding of the details only: what the signature covers. */
int cert_marshal_details(const struct cert *c, uint8_t **out, size_t *len);

/* SHA-256 of the canonical encoding. 0 or VPN_ERR_NOMEM. */
int cert_fingerprint(const struct cert *c, uint8_t out[CERT_FP_LEN]);
int cert_fingerprint_hex(const struct cert *c, char out[CERT_FP_HEXLEN]);

/* Sign the canonical details with an Ed25519 key (seed || public). */
int cert_sign(struct cert *c, const uint8_t key[64]);
/* Does the signature verify over the re-encoded details with pub? */
bool cert_check_signature(const struct cert *c, const uint8_t *pub,
    size_t publen);

/* NotBefore > now or NotAfter < now. */
bool cert_expired(const struct cert *c, int64_t now);

/*
 * Nebula's CheckRootConstrains: 0 or VPN_ERR_CERT_EXPIRES_AFTER_CA,
 * _VALID_BEFORE_CA, _GROUP_NOT_IN_CA, _IP_NOT_IN_CA, _SUBNET_NOT_IN_CA.
 * For the last three, detail (if not NULL) receives the offending group
 * or network, as Nebula prints it after ": ".
 */
int cert_check_constraints(const struct cert *c, const struct cert *ca,
    char *detail, size_t detaillen);

/* Does the private key belong to this cert?  A CA takes an Ed25519
 * seed||public (64 bytes), a host an X25519 scalar (32).  0 or
 * VPN_ERR_CERT_KEY_MISMATCH / VPN_ERR_KEYLEN_*. */
int cert_check_private_key(const struct cert *c, const uint8_t *key,
    size_t len);

/* First block of PEM text, banner NEBULA CERTIFICATE.  consumed may be
 * NULL.  PEM errors map to VPN_ERR_BANNER_CERT / VPN_ERR_PEM_NONE. */
int cert_from_pem(const char *in, size_t len, struct cert **out,
    size_t *consumed);
/* malloc'd PEM text, or NULL. */
char *cert_to_pem(const struct cert *c, size_t *len);

void hex_encode(const uint8_t *p, size_t len, char *out); /* 2*len + 1 */
/* The value of one hex digit (either case), or -1. */
int hex_digit(int c);
/* Decode exactly 2*outlen lowercase or uppercase hex digits. */
bool hex_decode(const char *s, size_t slen, uint8_t *out, size_t outlen);

#endif
