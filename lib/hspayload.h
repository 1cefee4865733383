/*
 * lib/hspayload.h: the handshake payload, Nebula's NebulaHandshake
 * protobuf (wire.md 4.3):
 *
 *   message NebulaHandshake        { NebulaHandshakeDetails Details = 1;
 *                                    bytes Hmac = 2; }
 *   message NebulaHandshakeDetails { bytes Cert = 1;
 *                                    uint32 InitiatorIndex = 2;
 *                                    uint32 ResponderIndex = 3;
 *                                    uint64 Cookie = 4; uint64 Time = 5; }
 *
 * Decoding follows Nebula 1.6.1's generated (gogo) code: unknown fields
 * are skipped, a known field with the wrong wire type is an error, a
 * repeated Details merges into the first, and later scalars win.
 * Encoding is canonical (fields ascending, zero values left out, Details
 * always present), byte for byte what Nebula sends.  No allocation: byte
 * fields point into the caller's buffers.
 */
#ifndef VPN_HSPAYLOAD_H
#define VPN_HSPAYLOAD_H

#include <stddef.h>
#include <stdint.h>

struct hspayload {
	const uint8_t *cert; /* the sender's certificate without its key */
	size_t cert_len;
	uint32_t initiator_index;
	uint32_t responder_index; /* 0 in message 1 */
	uint64_t cookie;          /* never set by 1.6.1 */
	uint64_t time;            /* sender's clock, Unix nanoseconds */
	const uint8_t *hmac;      /* never set by 1.6.1 */
	size_t hmac_len;
};

/*
 * Decode p.  0: *hp is filled, its pointers into p.  Errors: VPN_ERR_INVAL
 * (no Details: Nebula drops such a handshake), VPN_ERR_PB_WIRETYPE (a
 * known field of the wrong type), other VPN_ERR_PB_* and
 * VPN_ERR_TRUNCATED for malformed protobuf.
 */
int hspayload_decode(struct hspayload *hp, const uint8_t *p, size_t len);

/*
 * Encode *hp canonically into out (cap bytes).  With out == NULL only
 * *outlen is set (the size needed).  0 or VPN_ERR_RANGE (too small).
 */
int hspayload_encode(
    const struct hspayload *hp, uint8_t *out, size_t cap, size_t *outlen);

#endif
