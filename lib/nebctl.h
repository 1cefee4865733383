/*
 * lib/nebctl.h: the relay control message, Nebula's NebulaControl
 * protobuf (wire.md 9.1), the plaintext of a type 6 ("control"),
 * subtype 0 packet:
 *
 *   message NebulaControl {
 *     enum MessageType { None = 0; CreateRelayRequest = 1;
 *                        CreateRelayResponse = 2; }
 *     MessageType Type = 1;
 *     uint32 InitiatorRelayIndex = 2;
 *     uint32 ResponderRelayIndex = 3;
 *     uint32 RelayToIp = 4;
 *     uint32 RelayFromIp = 5;
 *   }
 *
 * Decoding follows Nebula 1.6.1's generated (gogo) code: fields in any
 * order, unknown fields skipped, a known field with the wrong wire type
 * is an error (the whole message is dropped), a repeated field keeps its
 * last value, and integers -- Type (an int32 enum) as well as the
 * uint32s -- keep the low 32 bits of their varint: a value of 2^32 or
 * more is truncated, not refused, because gogo ORs each 7-bit group into
 * a uint32 and Go's over-wide shifts yield 0.  Non-minimal varints
 * ("81 00" for 1) are accepted, as in Go.  Where gogo is laxer than
 * lib/pb.c -- a 10-byte varint whose last byte is above 1, a field
 * number above 2^29-1 (gogo truncates it to an int32), a group ended by
 * another field number -- the message is refused; Nebula never sends
 * such bytes.  An empty message is valid: Type None, which Nebula
 * ignores.  Decoding never allocates and never reads past len.
 *
 * Encoding is canonical, byte for byte what Nebula's Marshal writes:
 * fields ascending, zero values left out, and a Type with the top bit
 * set sign-extended to a 10-byte varint, as Go writes a negative int32.
 */
#ifndef VPN_NEBCTL_H
#define VPN_NEBCTL_H

#include <stddef.h>
#include <stdint.h>

/* NebulaControl.MessageType.  Nebula 1.6.1 ignores any other value. */
enum nebctl_type {
	NEBCTL_NONE = 0,
	NEBCTL_CREATE_RELAY_REQUEST = 1,
	NEBCTL_CREATE_RELAY_RESPONSE = 2,
};

/* The longest encoding: a 10-byte Type and four 5-byte uint32s. */
#define NEBCTL_ENCODED_MAX (1 + 10 + 4 * (1 + 5))

struct nebctl {
	uint32_t type; /* enum nebctl_type; any uint32 on the wire */
	uint32_t initiator_relay_index;
	uint32_t responder_relay_index;
	uint32_t relay_to_ip;   /* the far end (B); 10.0.0.1 is 0x0a000001 */
	uint32_t relay_from_ip; /* the origin (A) */
};

/*
 * Decode p.  0: *m is filled (absent fields are 0).  Errors:
 * VPN_ERR_PB_WIRETYPE (a known field of the wrong wire type), other
 * VPN_ERR_PB_* and VPN_ERR_TRUNCATED for malformed protobuf; *m is then
 * zeroed.
 */
int nebctl_decode(struct nebctl *m, const uint8_t *p, size_t len);

/*
 * Encode *m canonically into out (cap bytes), at most NEBCTL_ENCODED_MAX.
 * With out == NULL only *outlen is set.  0 or VPN_ERR_RANGE (cap too
 * small; *outlen is then untouched).
 */
int nebctl_encode(
    const struct nebctl *m, uint8_t *out, size_t cap, size_t *outlen);

#endif
