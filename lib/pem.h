/*
 * lib/pem.h: PEM framing exactly as Go's encoding/pem reads and writes it,
 * plus Nebula's key banners.  No file I/O.
 */
#ifndef VPN_PEM_H
#define VPN_PEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PEM_CERT "NEBULA CERTIFICATE"
#define PEM_X25519_PRIV "NEBULA X25519 PRIVATE KEY"
#define PEM_X25519_PUB "NEBULA X25519 PUBLIC KEY"
#define PEM_ED25519_PRIV "NEBULA ED25519 PRIVATE KEY"
#define PEM_ED25519_PUB "NEBULA ED25519 PUBLIC KEY"

struct pem_block {
	const char *type; /* points into the input; not NUL-terminated */
	size_t typelen;
	uint8_t *data; /* malloc'd; pem_block_clear() cleanses and frees */
	size_t len;
};

/* Standard base64, padding required (Go's StdEncoding), spaces, tabs,
 * CR and LF skipped: into out, which has room for len / 4 * 3 + 3
 * bytes.  0, or VPN_ERR_INVAL. */
int pem_base64_decode(const char *p, size_t len, uint8_t *out,
    size_t *outlen);

/*
 * Decode the first valid PEM block of in[0..len).  Text before it is
 * skipped; a malformed block is skipped and the search goes on after its
 * BEGIN line, as Go does.  On success *consumed is the offset just past
 * the END line, and the caller owns b->data.  VPN_ERR_PEM_NONE when no
 * valid block exists (*consumed is then 0), VPN_ERR_NOMEM.
 */
int pem_decode(const char *in, size_t len, struct pem_block *b,
    size_t *consumed);

/* pem_decode, and the block's type must be exactly type (else
 * VPN_ERR_PEM_TYPE; *consumed is still set past the block). */
int pem_decode_type(const char *in, size_t len, const char *type,
    struct pem_block *b, size_t *consumed);

void pem_block_clear(struct pem_block *b);

/* True when p[0..len) holds only whitespace (Go's strings.TrimSpace == ""). */
bool pem_rest_empty(const char *p, size_t len);

/* Go's pem.EncodeToMemory: a malloc'd NUL-terminated string, or NULL. */
char *pem_encode(const char *type, const uint8_t *data, size_t len,
    size_t *outlen);

/*
 * Nebula's key files: the first block must carry the exact banner and the
 * exact key size.  Errors are the banner- and size-specific VPN_ERR_*
 * codes with Nebula's texts.  consumed may be NULL.
 */
int pem_x25519_private(const char *in, size_t len, uint8_t out[32],
    size_t *consumed);
int pem_x25519_public(const char *in, size_t len, uint8_t out[32],
    size_t *consumed);
int pem_ed25519_private(const char *in, size_t len, uint8_t out[64],
    size_t *consumed);
int pem_ed25519_public(const char *in, size_t len, uint8_t out[32],
    size_t *consumed);

#endif
