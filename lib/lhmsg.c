/* lib/lhmsg.c: NebulaMeta protobuf codec (wire.md 8.1). */
#include <string.h>

#include "err.h"
#include "lhmsg.h"
#include "pb.h"
#include "wire.h"

enum {
	F_M_TYPE = 1,
	F_M_DETAILS = 2,
	F_D_VPNIP = 1,
	F_D_IP4 = 2,
	F_D_COUNTER = 3,
	F_D_IP6 = 4,
	F_D_RELAY = 5,
	F_A4_IP = 1,
	F_A4_PORT = 2,
	F_A6_HI = 1,
	F_A6_LO = 2,
	F_A6_PORT = 3,
};

static int
decode_addr4(struct lh_addr4 *a, const uint8_t *p, size_t len)
{
	struct pb_field f;
	struct rd r;
	int e;

	a->ip = 0;
	a->port = 0;
	rd_init(&r, p, len);
	while ((e = pb_next(&r, &f)) == 1) {
		if (f.num != F_A4_IP && f.num != F_A4_PORT)
			continue;
		if (f.wt != PB_VARINT)
			return VPN_ERR_PB_WIRETYPE;
		if (f.num == F_A4_IP)
			a->ip = (uint32_t)f.v; /* uint32, as Go */
		else
			a->port = (uint16_t)f.v; /* see lhmsg.h */
	}
	return e;
}

static int
decode_addr6(struct lh_addr6 *a, const uint8_t *p, size_t len)
{
	struct pb_field f;
	struct rd r;
	int e;

	memset(a, 0, sizeof(*a));
	rd_init(&r, p, len);
	while ((e = pb_next(&r, &f)) == 1) {
		if (f.num != F_A6_HI && f.num != F_A6_LO && f.num != F_A6_PORT)
			continue;
		if (f.wt != PB_VARINT)
			return VPN_ERR_PB_WIRETYPE;
		if (f.num == F_A6_HI)
			be64_put(a->ip, f.v);
		else if (f.num == F_A6_LO)
			be64_put(a->ip + 8, f.v);
		else
			a->port = (uint16_t)f.v;
	}
	return e;
}

static void
add_relay(struct lhmsg *m, uint64_t v)
{
	if (m->nrelays < LHMSG_MAX)
		m->relays[m->nrelays++] = (uint32_t)v;
	else
		m->truncated++;
}

static int
decode_relays(struct lhmsg *m, const uint8_t *p, size_t len)
{
	struct rd r;
	uint64_t v;

	rd_init(&r, p, len);
	while (rd_left(&r) > 0) {
		v = rd_varint(&r);
		if (r.bad)
			return VPN_ERR_PB_VARINT;
		add_relay(m, v);
	}
	return 0;
}

static int
decode_details(struct lhmsg *m, const uint8_t *p, size_t len)
{
	struct lh_addr4 a4;
	struct lh_addr6 a6;
	struct pb_field f;
	struct rd r;
	int e;

	rd_init(&r, p, len);
	while ((e = pb_next(&r, &f)) == 1) {
		switch (f.num) {
		case F_D_VPNIP:
		case F_D_COUNTER:
			if (f.wt != PB_VARINT)
				return VPN_ERR_PB_WIRETYPE;
			if (f.num == F_D_VPNIP)
				m->vpn_ip = (uint32_t)f.v;
			else
				m->counter = (uint32_t)f.v;
			break;
		case F_D_IP4:
			if (f.wt != PB_LEN)
				return VPN_ERR_PB_WIRETYPE;
			/* Decoded even past the cap: a bad one spoils all. */
			if ((e = decode_addr4(&a4, f.p, f.len)) != 0)
				return e;
			if (m->n4 < LHMSG_MAX)
				m->v4[m->n4++] = a4;
			else
				m->truncated++;
			break;
		case F_D_IP6:
			if (f.wt != PB_LEN)
				return VPN_ERR_PB_WIRETYPE;
			if ((e = decode_addr6(&a6, f.p, f.len)) != 0)
				return e;
			if (m->n6 < LHMSG_MAX)
				m->v6[m->n6++] = a6;
			else
				m->truncated++;
			break;
		case F_D_RELAY:
			if (f.wt == PB_VARINT)
				add_relay(m, f.v);
			else if (f.wt != PB_LEN)
				return VPN_ERR_PB_WIRETYPE;
			else if ((e = decode_relays(m, f.p, f.len)) != 0)
				return e;
			break;
		default:
			break; /* unknown: skipped */
		}
	}
	return e;
}

int
lhmsg_decode(struct lhmsg *m, const uint8_t *p, size_t len)
{
	struct pb_field f;
	struct rd r;
	int e;

	memset(m, 0, sizeof(*m));
	rd_init(&r, p, len);
	while ((e = pb_next(&r, &f)) == 1) {
		switch (f.num) {
		case F_M_TYPE:
			if (f.wt != PB_VARINT) {
				e = VPN_ERR_PB_WIRETYPE;
				goto out;
			}
			m->type = (uint32_t)f.v; /* an int32 enum in Go */
			break;
		case F_M_DETAILS:
			if (f.wt != PB_LEN) {
				e = VPN_ERR_PB_WIRETYPE;
				goto out;
			}
			/* A repeated message field merges into the first. */
			m->has_details = true;
			if ((e = decode_details(m, f.p, f.len)) != 0)
				goto out;
			break;
		default:
			break;
		}
	}
out:
	if (e != 0)
		memset(m, 0, sizeof(*m));
	return e;
}

static size_t
addr4_len(const struct lh_addr4 *a)
{
	return (a->ip != 0 ? 1 + varint_len(a->ip) : 0) +
	       (a->port != 0 ? 1 + varint_len(a->port) : 0);
}

static size_t
addr6_len(const struct lh_addr6 *a, uint64_t *hi, uint64_t *lo)
{
	struct rd r;

	rd_init(&r, a->ip, sizeof(a->ip));
	*hi = rd_be64(&r);
	*lo = rd_be64(&r);
	return (*hi != 0 ? 1 + varint_len(*hi) : 0) +
	       (*lo != 0 ? 1 + varint_len(*lo) : 0) +
	       (a->port != 0 ? 1 + varint_len(a->port) : 0);
}

static void
put_details(struct wr *w, const struct lhmsg *m)
{
	uint64_t hi, lo;
	size_t i, n;

	if (m->vpn_ip != 0)
		pb_put_varint(w, F_D_VPNIP, m->vpn_ip);
	for (i = 0; i < m->n4; i++) {
		pb_put_tag(w, F_D_IP4, PB_LEN);
		wr_varint(w, addr4_len(&m->v4[i]));
		if (m->v4[i].ip != 0)
			pb_put_varint(w, F_A4_IP, m->v4[i].ip);
		if (m->v4[i].port != 0)
			pb_put_varint(w, F_A4_PORT, m->v4[i].port);
	}
	if (m->counter != 0)
		pb_put_varint(w, F_D_COUNTER, m->counter);
	for (i = 0; i < m->n6; i++) {
		pb_put_tag(w, F_D_IP6, PB_LEN);
		wr_varint(w, addr6_len(&m->v6[i], &hi, &lo));
		if (hi != 0)
			pb_put_varint(w, F_A6_HI, hi);
		if (lo != 0)
			pb_put_varint(w, F_A6_LO, lo);
		if (m->v6[i].port != 0)
			pb_put_varint(w, F_A6_PORT, m->v6[i].port);
	}
	if (m->nrelays > 0) {
		for (i = 0, n = 0; i < m->nrelays; i++)
			n += varint_len(m->relays[i]);
		pb_put_tag(w, F_D_RELAY, PB_LEN);
		wr_varint(w, n);
		for (i = 0; i < m->nrelays; i++)
			wr_varint(w, m->relays[i]);
	}
}

int
lhmsg_encode(const struct lhmsg *m, uint8_t *out, size_t cap, size_t *outlen)
{
	struct wr w;
	size_t dlen = 0;

	if (m->n4 > LHMSG_MAX || m->n6 > LHMSG_MAX || m->nrelays > LHMSG_MAX)
		return VPN_ERR_INVAL;
	if (m->has_details) {
		wr_init(&w, NULL, 0);
		put_details(&w, m);
		dlen = w.off;
	}
	wr_init(&w, out, out == NULL ? 0 : cap);
	/* Go's enum is an int32: negative values are sign-extended. */
	if (m->type != 0)
		pb_put_varint(&w, F_M_TYPE,
		    (m->type & 0x80000000u) != 0 ? 0xffffffff00000000u | m->type
		                                 : m->type);
	if (m->has_details) {
		pb_put_tag(&w, F_M_DETAILS, PB_LEN);
		wr_varint(&w, dlen);
		put_details(&w, m);
	}
	if (w.bad)
		return VPN_ERR_RANGE;
	*outlen = w.off;
	return 0;
}
