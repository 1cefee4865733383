/*
 * lib/header.h: the 16-byte header in front of every Nebula packet
 * (wire.md 2).  No crypto, no state: parse and encode only.
 *
 *   byte 0     version (high nibble, always 1) | type (low nibble)
 *   byte 1     subtype
 *   bytes 2-3  reserved (written 0, ignored)
 *   bytes 4-7  remote index, BE: the index the receiver chose
 *   bytes 8-15 message counter, BE: also the AEAD nonce
 */
#ifndef VPN_HEADER_H
#define VPN_HEADER_H

#include <stddef.h>
#include <stdint.h>

#define HEADER_LEN 16
#define HEADER_VERSION 1

enum hdr_type {
	HDR_HANDSHAKE = 0,
	HDR_MESSAGE = 1,
	HDR_RECV_ERROR = 2,
	HDR_LIGHTHOUSE = 3,
	HDR_TEST = 4,
	HDR_CLOSE_TUNNEL = 5,
	HDR_CONTROL = 6,
};

/* Subtypes (Nebula's header package names). */
#define HDR_SUB_NONE 0             /* every type without subtypes */
#define HDR_SUB_HANDSHAKE_IXPSK0 0 /* handshake: Noise IX (no PSK, really) */
#define HDR_SUB_HANDSHAKE_XXPSK0 1 /* handshake: reserved, never sent */
#define HDR_SUB_MESSAGE_NONE 0     /* message: tunnel data */
#define HDR_SUB_MESSAGE_RELAY 1    /* message: relayed packet (wire.md 9.4) */
#define HDR_SUB_TEST_REQUEST 0
#define HDR_SUB_TEST_REPLY 1

struct header {
	uint8_t version; /* not checked on receipt, as in Nebula */
	uint8_t type;    /* enum hdr_type; 7-15 are possible on the wire */
	uint8_t subtype;
	uint16_t reserved;
	uint32_t remote_index;
	uint64_t counter;
};

/*
 * Decode the first HEADER_LEN bytes of p.  0, or VPN_ERR_TRUNCATED when
 * len < HEADER_LEN (*h is then zeroed).  Any version, type and subtype are
 * accepted: the caller dispatches on them.
 */
int header_parse(struct header *h, const uint8_t *p, size_t len);

/* Write a version-1 header; reserved is 0, type is taken mod 16. */
void header_encode(uint8_t out[HEADER_LEN], uint8_t type, uint8_t subtype,
    uint32_t remote_index, uint64_t counter);

/* Nebula's names ("handshake", "lightHouse", ... "unknown"); never NULL. */
const char *header_type_name(uint8_t type);
/* "none", "ix_psk0", "relay", "testRequest", "testReply" or "unknown"
 * (Nebula's names); never NULL. */
const char *header_subtype_name(uint8_t type, uint8_t subtype);

#endif
