/*
 * lib/noise.h: Noise_IX_25519_{AESGCM,ChaChaPoly}_SHA256 exactly as
 * Nebula 1.6.1 runs it (wire.md 4): empty prologue, no PSK, the 16-byte
 * Nebula header outside Noise (neither hashed nor used as AD).
 *
 *   msg1  initiator -> responder   e | s | payload           (all clear)
 *   msg2  responder -> initiator   e | enc(s) | enc(payload)
 *
 * Bytes in, bytes out, keys out: no sockets, clocks, certificates or
 * allocation.  The caller embeds struct noise_hs (its fields are private)
 * and calls, in order,
 *   initiator: noise_init, noise_write_msg1, noise_read_msg2, noise_split
 *   responder: noise_init, noise_read_msg1, noise_write_msg2, noise_split
 * then noise_clear.  The ephemeral key comes from the CSPRNG when the
 * first message that needs it is written or read, unless a test set it
 * with noise_set_ephemeral.  Every call that fails leaves the state as it
 * was, so a forged message 2 cannot spoil a pending handshake.
 *
 * Message bodies are what follows the Nebula header.
 */
#ifndef VPN_NOISE_H
#define VPN_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define NOISE_KEY_LEN 32
#define NOISE_HASH_LEN 32
#define NOISE_TAG_LEN 16
#define NOISE_MSG1_OVERHEAD 64 /* e + s */
#define NOISE_MSG2_OVERHEAD 96 /* e + s + tag + payload tag */

struct noise_hs {
	/* private */
	enum crypto_cipher cipher;
	bool initiator, has_e, has_k;
	uint8_t step;
	uint64_t n; /* nonce of the current key */
	uint8_t ck[32], h[32], k[32];
	uint8_t s_priv[32], s_pub[32], e_priv[32], e_pub[32];
	uint8_t re[32], rs[32];
};

/*
 * Start a handshake with our static X25519 pair (the certificate's key;
 * s_pub may be NULL to derive it).  0, VPN_ERR_INVAL (unknown cipher) or
 * VPN_ERR_CRYPTO.
 */
int noise_init(struct noise_hs *hs, enum crypto_cipher cipher, bool initiator,
    const uint8_t s_priv[32], const uint8_t s_pub[32]);

/* Tests only: use this ephemeral private key instead of a random one.
 * Must come before the ephemeral key is used: VPN_ERR_INVAL otherwise. */
int noise_set_ephemeral(struct noise_hs *hs, const uint8_t e_priv[32]);

/*
 * Initiator: out = e | s | payload (64 + plen bytes).  VPN_ERR_INVAL (wrong
 * role or step), VPN_ERR_RANGE (cap too small) or VPN_ERR_CRYPTO.
 */
int noise_write_msg1(struct noise_hs *hs, const uint8_t *payload, size_t plen,
    uint8_t *out, size_t cap, size_t *outlen);

/*
 * Responder: read message 1.  rs receives the initiator's static key and
 * *payload points into in (plaintext, *plen bytes).  VPN_ERR_INVAL,
 * VPN_ERR_TRUNCATED (shorter than 64 bytes).
 */
int noise_read_msg1(struct noise_hs *hs, const uint8_t *in, size_t len,
    uint8_t rs[32], const uint8_t **payload, size_t *plen);

/*
 * Responder: out = e | enc(s) | enc(payload), 96 + plen bytes; the
 * handshake is then complete.  payload must not overlap out.
 * VPN_ERR_INVAL, VPN_ERR_RANGE or VPN_ERR_CRYPTO (an all-zero DH result).
 */
int noise_write_msg2(struct noise_hs *hs, const uint8_t *payload, size_t plen,
    uint8_t *out, size_t cap, size_t *outlen);

/*
 * Initiator: read message 2.  rs receives the responder's static key and
 * payload_out the decrypted payload (*plen = len - 96 bytes; payload_out
 * may be in + 80, or must not overlap in).  The handshake is then
 * complete.  VPN_ERR_INVAL, VPN_ERR_TRUNCATED (shorter than 96 bytes),
 * VPN_ERR_RANGE (cap too small) or VPN_ERR_CRYPTO (a tag failed or an
 * all-zero DH result); on error nothing changed.
 */
int noise_read_msg2(struct noise_hs *hs, const uint8_t *in, size_t len,
    uint8_t rs[32], uint8_t *payload_out, size_t cap, size_t *plen);

/*
 * The transport keys of a complete handshake: k_i2r seals initiator to
 * responder, k_r2i the other way, whichever side we are.  VPN_ERR_INVAL
 * before completion, VPN_ERR_CRYPTO.
 */
int noise_split(
    const struct noise_hs *hs, uint8_t k_i2r[32], uint8_t k_r2i[32]);

/* The handshake hash h (32 bytes) as it stands. */
const uint8_t *noise_handshake_hash(const struct noise_hs *hs);

/* Wipe every key and hash in *hs. */
void noise_clear(struct noise_hs *hs);

#endif
