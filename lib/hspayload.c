/* lib/hspayload.c: NebulaHandshake protobuf codec (wire.md 4.3). */
#include <string.h>

#include "err.h"
#include "hspayload.h"
#include "pb.h"
#include "wire.h"

enum {
	F_HS_DETAILS = 1,
	F_HS_HMAC = 2,
	F_D_CERT = 1,
	F_D_INITIATOR_INDEX = 2,
	F_D_RESPONDER_INDEX = 3,
	F_D_COOKIE = 4,
	F_D_TIME = 5,
};

static int
decode_details(struct hspayload *hp, const uint8_t *p, size_t len)
{
	struct pb_field f;
	struct rd r;
	int e;

	rd_init(&r, p, len);
	while ((e = pb_next(&r, &f)) == 1) {
		switch (f.num) {
		case F_D_CERT:
			if (f.wt != PB_LEN)
				return VPN_ERR_PB_WIRETYPE;
			hp->cert = f.p;
			hp->cert_len = f.len;
			break;
		case F_D_INITIATOR_INDEX:
		case F_D_RESPONDER_INDEX:
		case F_D_COOKIE:
		case F_D_TIME:
			if (f.wt != PB_VARINT)
				return VPN_ERR_PB_WIRETYPE;
			if (f.num == F_D_INITIATOR_INDEX)
				hp->initiator_index = (uint32_t)f.v; /* as Go */
			else if (f.num == F_D_RESPONDER_INDEX)
				hp->responder_index = (uint32_t)f.v;
			else if (f.num == F_D_COOKIE)
				hp->cookie = f.v;
			else
				hp->time = f.v;
			break;
		default:
			break; /* unknown, or reserved 6 and 7: skipped */
		}
	}
	return e;
}

int
hspayload_decode(struct hspayload *hp, const uint8_t *p, size_t len)
{
	struct pb_field f;
	struct rd r;
	bool details = false;
	int e;

	memset(hp, 0, sizeof(*hp));
	rd_init(&r, p, len);
	while ((e = pb_next(&r, &f)) == 1) {
		switch (f.num) {
		case F_HS_DETAILS:
			if (f.wt != PB_LEN) {
				e = VPN_ERR_PB_WIRETYPE;
				goto out;
			}
			/* A repeated message field merges into the first. */
			details = true;
			if ((e = decode_details(hp, f.p, f.len)) != 0)
				goto out;
			break;
		case F_HS_HMAC:
			if (f.wt != PB_LEN) {
				e = VPN_ERR_PB_WIRETYPE;
				goto out;
			}
			hp->hmac = f.p;
			hp->hmac_len = f.len;
			break;
		default:
			break;
		}
	}
	if (e == 0 && !details)
		e = VPN_ERR_INVAL;
out:
	if (e != 0)
		memset(hp, 0, sizeof(*hp));
	return e;
}

static void
put_details(struct wr *w, const struct hspayload *hp)
{
	if (hp->cert_len > 0)
		pb_put_bytes(w, F_D_CERT, hp->cert, hp->cert_len);
	if (hp->initiator_index != 0)
		pb_put_varint(w, F_D_INITIATOR_INDEX, hp->initiator_index);
	if (hp->responder_index != 0)
		pb_put_varint(w, F_D_RESPONDER_INDEX, hp->responder_index);
	if (hp->cookie != 0)
		pb_put_varint(w, F_D_COOKIE, hp->cookie);
	if (hp->time != 0)
		pb_put_varint(w, F_D_TIME, hp->time);
}

int
hspayload_encode(
    const struct hspayload *hp, uint8_t *out, size_t cap, size_t *outlen)
{
	struct wr w;
	size_t dlen;

	wr_init(&w, NULL, 0);
	put_details(&w, hp);
	if (w.bad)
		return VPN_ERR_RANGE;
	dlen = w.off;
	wr_init(&w, out, out == NULL ? 0 : cap);
	pb_put_tag(&w, F_HS_DETAILS, PB_LEN);
	wr_varint(&w, dlen);
	put_details(&w, hp);
	if (hp->hmac_len > 0)
		pb_put_bytes(&w, F_HS_HMAC, hp->hmac, hp->hmac_len);
	if (w.bad)
		return VPN_ERR_RANGE;
	*outlen = w.off;
	return 0;
}
