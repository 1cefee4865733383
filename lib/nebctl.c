/* lib/nebctl.c: NebulaControl protobuf codec (wire.md 9.1). */
#include <string.h>

#include "err.h"
#include "nebctl.h"
#include "pb.h"
#include "wire.h"

enum {
	F_TYPE = 1,
	F_INITIATOR = 2,
	F_RESPONDER = 3,
	F_TO_IP = 4,
	F_FROM_IP = 5,
};

int
nebctl_decode(struct nebctl *m, const uint8_t *p, size_t len)
{
	struct pb_field f;
	struct rd r;
	uint32_t *dst;
	int e;

	memset(m, 0, sizeof(*m));
	rd_init(&r, p, len);
	while ((e = pb_next(&r, &f)) == 1) {
		switch (f.num) {
		case F_TYPE:
			dst = &m->type; /* an int32 enum in Go */
			break;
		case F_INITIATOR:
			dst = &m->initiator_relay_index;
			break;
		case F_RESPONDER:
			dst = &m->responder_relay_index;
			break;
		case F_TO_IP:
			dst = &m->relay_to_ip;
			break;
		case F_FROM_IP:
			dst = &m->relay_from_ip;
			break;
		default:
			continue; /* unknown: skipped */
		}
		if (f.wt != PB_VARINT) {
			e = VPN_ERR_PB_WIRETYPE;
			break;
		}
		*dst = (uint32_t)f.v; /* low 32 bits, as Go; the last wins */
	}
	if (e != 0)
		memset(m, 0, sizeof(*m));
	return e;
}

int
nebctl_encode(const struct nebctl *m, uint8_t *out, size_t cap, size_t *outlen)
{
	struct wr w;

	wr_init(&w, out, out == NULL ? 0 : cap);
	/* Go's enum is an int32: negative values are sign-extended. */
	if (m->type != 0)
		pb_put_varint(&w, F_TYPE,
		    (m->type & 0x80000000u) != 0 ? 0xffffffff00000000u | m->type
		                                 : m->type);
	if (m->initiator_relay_index != 0)
		pb_put_varint(&w, F_INITIATOR, m->initiator_relay_index);
	if (m->responder_relay_index != 0)
		pb_put_varint(&w, F_RESPONDER, m->responder_relay_index);
	if (m->relay_to_ip != 0)
		pb_put_varint(&w, F_TO_IP, m->relay_to_ip);
	if (m->relay_from_ip != 0)
		pb_put_varint(&w, F_FROM_IP, m->relay_from_ip);
	if (w.bad)
		return VPN_ERR_RANGE;
	*outlen = w.off;
	return 0;
}
