/* lib/offload.c: TCP segmentation and coalescing for a vnet-header TUN. */
#include <string.h>

#include "csum.h"
#include "err.h"
#include "offload.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
vnet_hdr_get(const uint8_t b[VNET_HDR_LEN], struct vnet_hdr *h)
{
	h->flags = b[0];
	h->gso_type = b[1];
	memcpy(&h->hdr_len, b + 2, 2);
	memcpy(&h->gso_size, b + 4, 2);
	memcpy(&h->csum_start, b + 6, 2);
	memcpy(&h->csum_offset, b + 8, 2);
}

void
vnet_hdr_put(uint8_t b[VNET_HDR_LEN], const struct vnet_hdr *h)
{
	b[0] = h->flags;
	b[1] = h->gso_type;
	memcpy(b + 2, &h->hdr_len, 2);
	memcpy(b + 4, &h->gso_size, 2);
	memcpy(b + 6, &h->csum_start, 2);
	memcpy(b + 8, &h->csum_offset, 2);
}

static void
csum_store(uint8_t *at, uint16_t v)
{
	memcpy(at, &v, 2);
}

int
offload_csum(uint8_t *pkt, size_t len, size_t start, size_t off)
{
	if (start > len || off > len - start || len - start - off < 2)
		return VPN_ERR_INVAL;
	csum_store(pkt + start + off,
	    (uint16_t)~csum_fold(csum_add(0, pkt + start, len - start)));
	return 0;
}

/* Source, destination and protocol 6 of the TCP pseudo-header. */
static uint64_t
pseudo_tcp4(const uint8_t *ip)
{
	static const uint8_t proto[2] = {0, 6};

	return csum_add(csum_add(0, ip + 12, 8), proto, 2);
}

static uint64_t
add_len(uint64_t sum, size_t len)
{
	uint8_t b[2];

	put16(b, (uint16_t)len);
	return csum_add(sum, b, 2);
}

static void
ip4_csum_set(uint8_t *ip, size_t ihl)
{
	ip[10] = ip[11] = 0;
	csum_store(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, ihl)));
}

int
tso_start(struct tso *s, const uint8_t *pkt, size_t len,
    const struct vnet_hdr *h)
{
	size_t ihl, doff;

	if ((h->gso_type & ~VNET_GSO_ECN) != VNET_GSO_TCPV4 ||
	    h->gso_size == 0 || len < 40 || (pkt[0] >> 4) != 4)
		return VPN_ERR_INVAL;
	ihl = (size_t)(pkt[0] & 15) * 4;
	if (ihl < 20 || ihl + 20 > len || pkt[9] != 6 || get16(pkt + 2) != len ||
	    (get16(pkt + 6) & 0x3fff) != 0)
		return VPN_ERR_INVAL;
	doff = (size_t)(pkt[ihl + 12] >> 4) * 4;
	if (doff < 20 || ihl + doff >= len)
		return VPN_ERR_INVAL;
	s->pkt = pkt;
	s->len = len;
	s->ihl = ihl;
	s->hl = ihl + doff;
	s->mss = h->gso_size;
	s->off = s->hl;
	s->seq = get32(pkt + ihl + 4);
	s->id = get16(pkt + 4);
	s->pseudo = pseudo_tcp4(pkt);
	s->idx = 0;
	return 0;
}

size_t
tso_next(struct tso *s, uint8_t *out)
{
	size_t pl, tl;
	uint8_t *th;
	bool last;
	uint64_t sum;

	if (s->off >= s->len)
		return 0;
	pl = s->len - s->off;
	if (pl > s->mss)
		pl = s->mss;
	last = s->off + pl == s->len;
	tl = s->hl + pl;
	memcpy(out, s->pkt, s->hl);
	memcpy(out + s->hl, s->pkt + s->off, pl);
	put16(out + 2, (uint16_t)tl);
	put16(out + 4, (uint16_t)(s->id + s->idx));
	ip4_csum_set(out, s->ihl);
	th = out + s->ihl;
	put32(th + 4, s->seq + (uint32_t)(s->off - s->hl));
	if (!last)
		th[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
	if (s->idx > 0)
		th[13] &= (uint8_t)~TCP_CWR;
	th[16] = th[17] = 0;
	sum = add_len(s->pseudo, tl - s->ihl);
	csum_store(th + 16,
	    (uint16_t)~csum_fold(csum_add(sum, th, tl - s->ihl)));
	s->off += pl;
	s->idx++;
	return tl;
}

void
gro_init(struct gro *g)
{
	memset(g, 0, sizeof(*g));
}

/*
 * A packet that may join or start a super-segment: IPv4 without options
 * or fragmentation, DF set (so the IP ID carries nothing), TCP with
 * payload and no flag but ACK and PSH, both checksums right.  Its TCP
 * header length, or 0.
 */
static size_t
joinable(const uint8_t *p, size_t len)
{
	size_t doff;

	if (len < 40 || p[0] != 0x45 || p[9] != 6 || get16(p + 2) != len ||
	    (get16(p + 6) & 0xbfff) != 0x0000 || !(p[6] & 0x40))
		return 0;
	doff = (size_t)(p[32] >> 4) * 4;
	if (doff < 20 || 20 + doff >= len ||
	    (p[33] & (uint8_t)~TCP_PSH) != TCP_ACK)
		return 0;
	if (csum_fold(csum_add(0, p, 20)) != 0xffff ||
	    csum_fold(add_len(csum_add(pseudo_tcp4(p), p + 20, len - 20),
	        len - 20)) != 0xffff)
		return 0;
	return doff;
}

/* Same flow, same header apart from length, ID, checksums, sequence
 * number and PSH, and in order. */
static bool
fits(const struct gro *g, const uint8_t *p, size_t len, size_t doff)
{
	const uint8_t *f = g->first;

	return !g->closed && g->n < GRO_SEGS && 20 + doff == g->hl &&
	    len - g->hl <= g->mss && g->total + len - g->hl <= OFFLOAD_MAX &&
	    p[1] == f[1] && p[8] == f[8] && memcmp(p + 12, f + 12, 8) == 0 &&
	    memcmp(p + 20, f + 20, 4) == 0 &&
	    get32(p + 24) == g->next_seq &&
	    memcmp(p + 28, f + 28, 5) == 0 &&		 /* ack, doff */
	    memcmp(p + 34, f + 34, 2) == 0 &&		 /* window */
	    memcmp(p + 38, f + 38, g->hl - 38) == 0; /* urg, options */
}

static void
emit_one(struct gro *g, uint8_t *pkt, size_t len, gro_out_fn out, void *arg)
{
	struct iovec iov[2];

	memset(g->hdr, 0, sizeof(g->hdr));
	iov[0].iov_base = g->hdr;
	iov[0].iov_len = VNET_HDR_LEN;
	iov[1].iov_base = pkt;
	iov[1].iov_len = len;
	out(arg, iov, 2);
}

void
gro_flush(struct gro *g, gro_out_fn out, void *arg)
{
	struct vnet_hdr h;
	uint8_t *f = g->first;

	if (g->n == 0)
		return;
	if (g->n == 1) {
		emit_one(g, f, g->first_len, out, arg);
		g->n = 0;
		return;
	}
	put16(f + 2, (uint16_t)g->total);
	ip4_csum_set(f, 20);
	if (g->psh)
		f[33] |= TCP_PSH;
	csum_store(f + 36,
	    csum_fold(add_len(pseudo_tcp4(f), g->total - 20)));
	memset(&h, 0, sizeof(h));
	h.flags = VNET_F_NEEDS_CSUM;
	h.gso_type = VNET_GSO_TCPV4;
	h.hdr_len = (uint16_t)g->hl;
	h.gso_size = (uint16_t)g->mss;
	h.csum_start = 20;
	h.csum_offset = 16;
	vnet_hdr_put(g->hdr, &h);
	g->iov[0].iov_base = g->hdr;
	g->iov[0].iov_len = VNET_HDR_LEN;
	g->iov[1].iov_base = f;
	g->iov[1].iov_len = g->first_len;
	g->joined += (uint64_t)g->n;
	out(arg, g->iov, g->n + 1);
	g->n = 0;
}

void
gro_add(struct gro *g, uint8_t *pkt, size_t len, gro_out_fn out, void *arg)
{
	size_t doff = joinable(pkt, len), pl;

	if (doff == 0) {
		gro_flush(g, out, arg);
		emit_one(g, pkt, len, out, arg);
		return;
	}
	pl = len - 20 - doff;
	if (g->n > 0 && fits(g, pkt, len, doff)) {
		g->iov[g->n + 1].iov_base = pkt + g->hl;
		g->iov[g->n + 1].iov_len = pl;
		g->n++;
	} else {
		gro_flush(g, out, arg);
		g->n = 1;
		g->first = pkt;
		g->first_len = len;
		g->hl = 20 + doff;
		g->mss = pl;
		g->psh = false;
		g->closed = false;
		g->next_seq = get32(pkt + 24);
		g->total = 20 + doff;
	}
	g->total += pl;
	g->next_seq += (uint32_t)pl;
	if (pkt[33] & TCP_PSH) {
		g->psh = true;
		g->closed = true;
	}
	if (pl < g->mss)
		g->closed = true;
}
