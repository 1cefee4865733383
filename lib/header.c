/* lib/header.c: the 16-byte packet header (wire.md 2). */
#include <string.h>

#include "err.h"
#include "header.h"
#include "wire.h"

int
header_parse(struct header *h, const uint8_t *p, size_t len)
{
	struct rd r;
	uint8_t b0;

	memset(h, 0, sizeof(*h));
	if (len < HEADER_LEN)
		return VPN_ERR_TRUNCATED;
	rd_init(&r, p, HEADER_LEN);
	b0 = rd_u8(&r);
	h->version = b0 >> 4;
	h->type = b0 & 0x0f;
	h->subtype = rd_u8(&r);
	h->reserved = rd_be16(&r);
	h->remote_index = rd_be32(&r);
	h->counter = rd_be64(&r);
	return 0;
}

void
header_encode(uint8_t out[HEADER_LEN], uint8_t type, uint8_t subtype,
    uint32_t remote_index, uint64_t counter)
{
	out[0] = (uint8_t)(HEADER_VERSION << 4 | (type & 0x0f));
	out[1] = subtype;
	out[2] = 0;
	out[3] = 0;
	be32_put(out + 4, remote_index);
	be64_put(out + 8, counter);
}

const char *
header_type_name(uint8_t type)
{
	static const char *const names[] = {"handshake", "message", "recvError",
	    "lightHouse", "test", "closeTunnel", "control"};

	return type < sizeof(names) / sizeof(names[0]) ? names[type]
	                                               : "unknown";
}

const char *
header_subtype_name(uint8_t type, uint8_t subtype)
{
	switch ((enum hdr_type)type) {
	case HDR_HANDSHAKE:
		return subtype == HDR_SUB_HANDSHAKE_IXPSK0 ? "ix_psk0"
		                                           : "unknown";
	case HDR_MESSAGE:
		if (subtype == HDR_SUB_MESSAGE_RELAY)
			return "relay";
		return subtype == HDR_SUB_MESSAGE_NONE ? "none" : "unknown";
	case HDR_TEST:
		if (subtype == HDR_SUB_TEST_REPLY)
			return "testReply";
		return subtype == HDR_SUB_TEST_REQUEST ? "testRequest"
		                                       : "unknown";
	case HDR_RECV_ERROR:
	case HDR_LIGHTHOUSE:
	case HDR_CLOSE_TUNNEL:
	case HDR_CONTROL:
		return subtype == HDR_SUB_NONE ? "none" : "unknown";
	}
	return "unknown";
}
