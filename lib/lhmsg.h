/*
 * lib/lhmsg.h: the lighthouse message, Nebula's NebulaMeta protobuf
 * (wire.md 8.1):
 *
 *   message NebulaMeta        { MessageType Type = 1;
 *                               NebulaMetaDetails Details = 2; }
 *   message NebulaMetaDetails { uint32 VpnIp = 1;
 *                               repeated Ip4AndPort Ip4AndPorts = 2;
 *                               uint32 counter = 3;
 *                               repeated Ip6AndPort Ip6AndPorts = 4;
 *                               repeated uint32 RelayVpnIp = 5; }
 *   message Ip4AndPort        { uint32 Ip = 1; uint32 Port = 2; }
 *   message Ip6AndPort        { uint64 Hi = 1; uint64 Lo = 2;
 *                               uint32 Port = 3; }
 *
 * Decoding follows Nebula 1.6.1's generated (gogo) code: fields in any
 * order, unknown fields skipped, a known field with the wrong wire type
 * is an error (the whole message is dropped), integers truncated to their
 * field's width, RelayVpnIp packed or not, and a repeated Details merges
 * into the first (lists append, later scalars win).  Where gogo is laxer
 * than lib/pb.c -- a 10-byte varint whose last byte is above 1, field
 * numbers above 2^29-1, a group ended by another field number, a packed
 * varint running past its field -- the message is refused; Nebula never
 * sends such bytes.
 *
 * Two deliberate narrowings: ports are kept as 16 bits (Nebula keeps the
 * uint32 and truncates it when it dials, uint16(ipp.Port)), and each list
 * keeps its first LHMSG_MAX entries; the rest are counted in `truncated'
 * and dropped.  Decoding never allocates.
 *
 * Encoding is canonical, byte for byte what Nebula sends: fields
 * ascending, zero values left out, one Ip4AndPorts / Ip6AndPorts field
 * per entry, RelayVpnIp packed, Details present (even empty) iff
 * has_details.
 */
#ifndef VPN_LHMSG_H
#define VPN_LHMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* NebulaMeta.MessageType.  Only 1, 2, 3 and 5 do anything in 1.6.1. */
enum lhmsg_type {
	LHMSG_NONE = 0,
	LHMSG_HOST_QUERY = 1,
	LHMSG_HOST_QUERY_REPLY = 2,
	LHMSG_HOST_UPDATE_NOTIFICATION = 3,
	LHMSG_HOST_MOVED_NOTIFICATION = 4,
	LHMSG_HOST_PUNCH_NOTIFICATION = 5,
	LHMSG_HOST_WHOAMI = 6,
	LHMSG_HOST_WHOAMI_REPLY = 7,
	LHMSG_PATH_CHECK = 8,
	LHMSG_PATH_CHECK_REPLY = 9,
};

#define LHMSG_MAX 64 /* entries kept per list */

/* The largest encoding of a full struct lhmsg (see lhmsg_encode). */
#define LHMSG_ENCODED_MAX                                                      \
	(11 + 3 + 6 + 6 + LHMSG_MAX * 12 + LHMSG_MAX * 28 + 3 + LHMSG_MAX * 5)

struct lh_addr4 {
	uint32_t ip; /* 10.0.0.1 is 0x0a000001 */
	uint16_t port;
};

struct lh_addr6 {
	uint8_t ip[16]; /* network order: Hi is bytes 0-7, Lo bytes 8-15 */
	uint16_t port;
};

struct lhmsg {
	uint32_t type; /* enum lhmsg_type; any uint32 on the wire */
	bool has_details;
	uint32_t vpn_ip;
	struct lh_addr4 v4[LHMSG_MAX];
	size_t n4;
	struct lh_addr6 v6[LHMSG_MAX];
	size_t n6;
	uint32_t relays[LHMSG_MAX];
	size_t nrelays;
	uint32_t counter; /* never set by 1.6.1 */
	size_t truncated; /* entries dropped beyond LHMSG_MAX (decode only) */
};

/*
 * Decode p.  0: *m is filled.  A message without Details decodes with
 * has_details false; Nebula means to drop it ("Invalid lighthouse
 * update"), and so should the caller.  Errors: VPN_ERR_PB_WIRETYPE (a
 * known field of the wrong wire type), other VPN_ERR_PB_* and
 * VPN_ERR_TRUNCATED for malformed protobuf; *m is then zeroed.
 */
int lhmsg_decode(struct lhmsg *m, const uint8_t *p, size_t len);

/*
 * Encode *m canonically into out (cap bytes), at most LHMSG_ENCODED_MAX.
 * With out == NULL only *outlen is set.  0, VPN_ERR_INVAL (a count above
 * LHMSG_MAX) or VPN_ERR_RANGE (cap too small).
 */
int lhmsg_encode(
    const struct lhmsg *m, uint8_t *out, size_t cap, size_t *outlen);

#endif
