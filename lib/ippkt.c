/* lib/ippkt.c: IPv4 packet view for the firewall, and REJECT replies. */
#include <string.h>

#include "csum.h"
#include "err.h"
#include "ippkt.h"
#include "wire.h"

#define IPV4_HLEN 20
#define TCP_HLEN 20
#define ICMP_HLEN 8

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

#define ICMP_UNREACH 3
#define ICMP_UNREACH_PORT 3
#define ICMP_UNREACH_ADMIN 13

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int
ippkt_parse(
    const uint8_t *pkt, size_t len, bool incoming, struct fw_packet *out)
{
	size_t ihl, need;
	uint16_t a = 0, b = 0;
	uint32_t src, dst;

	if (len < IPV4_HLEN)
		return VPN_ERR_TRUNCATED;
	if (pkt[0] >> 4 != 4)
		return VPN_ERR_INVAL;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (ihl < IPV4_HLEN)
		return VPN_ERR_INVAL;
	out->fragment = (get16(pkt + 6) & 0x1fff) != 0;
	out->proto = pkt[9];
	need = ihl;
	if (!out->fragment && out->proto != IPPKT_PROTO_ICMP)
		need += 4;
	if (len < need)
		return VPN_ERR_TRUNCATED;
	src = be32_get(pkt + 12);
	dst = be32_get(pkt + 16);
	if (!out->fragment && out->proto != IPPKT_PROTO_ICMP) {
		a = get16(pkt + ihl);     /* source port */
		b = get16(pkt + ihl + 2); /* destination port */
	}
	if (incoming) {
		out->remote_ip = src;
		out->local_ip = dst;
		out->remote_port = a;
		out->local_port = b;
	} else {
		out->local_ip = src;
		out->remote_ip = dst;
		out->local_port = a;
		out->remote_port = b;
	}
	return 0;
}

/* On top of the shared checksum, which sums in memory order. */
uint16_t
ippkt_cksum(const uint8_t *p, size_t len, uint32_t sum)
{
	uint16_t m = csum_fold(csum_add(0, p, len));
	uint8_t b[2];
	uint64_t s;

	memcpy(b, &m, 2);
	s = (uint64_t)sum + (uint32_t)(b[0] << 8 | b[1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static bool
no_reply_addr(uint32_t src, uint32_t dst)
{
	return src == 0 || src == 0xffffffffu || dst == 0xffffffffu ||
	       (src & 0xf0000000u) == 0xe0000000u ||
	       (dst & 0xf0000000u) == 0xe0000000u;
}

/* The 20-byte reply header from orig's destination to its source. */
static void
put_ip(uint8_t *o, const uint8_t *orig, uint8_t proto, size_t total)
{
	memset(o, 0, IPV4_HLEN);
	o[0] = 0x45;
	put16(o + 2, (uint16_t)total);
	o[8] = 64; /* TTL */
	o[9] = proto;
	memcpy(o + 12, orig + 16, 4);
	memcpy(o + 16, orig + 12, 4);
	put16(o + 10, ippkt_cksum(o, IPV4_HLEN, 0));
}

static size_t
reject_tcp(
    const uint8_t *pkt, size_t ihl, size_t plen, uint8_t *out, size_t cap)
{
	const uint8_t *th = pkt + ihl;
	uint8_t *t = out + IPV4_HLEN, pseudo[12];
	uint32_t seq, ack;
	size_t doff, seglen;
	uint8_t flags;

	if (plen - ihl < TCP_HLEN || cap < IPV4_HLEN + TCP_HLEN)
		return 0;
	flags = th[13];
	doff = (size_t)(th[12] >> 4) * 4;
	if ((flags & TCP_RST) != 0 || doff < TCP_HLEN || doff > plen - ihl)
		return 0;
	put_ip(out, pkt, IPPKT_PROTO_TCP, IPV4_HLEN + TCP_HLEN);
	memset(t, 0, TCP_HLEN);
	memcpy(t, th + 2, 2); /* our source port: its destination */
	memcpy(t + 2, th, 2);
	if ((flags & TCP_ACK) != 0) {
		seq = be32_get(th + 8);
		ack = 0;
		t[13] = TCP_RST;
	} else {
		seglen = plen - ihl - doff;
		seglen += (flags & TCP_SYN) != 0;
		seglen += (flags & TCP_FIN) != 0;
		seq = 0;
		ack = be32_get(th + 4) + (uint32_t)seglen;
		t[13] = TCP_RST | TCP_ACK;
	}
	be32_put(t + 4, seq);
	be32_put(t + 8, ack);
	t[12] = (TCP_HLEN / 4) << 4;
	memcpy(pseudo, out + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = IPPKT_PROTO_TCP;
	put16(pseudo + 10, TCP_HLEN);
	put16(t + 16, ippkt_cksum(t, TCP_HLEN,
	                  (uint32_t)(0xffff & ~ippkt_cksum(pseudo,
	                                          sizeof(pseudo), 0))));
	return IPV4_HLEN + TCP_HLEN;
}

static size_t
reject_icmp(
    const uint8_t *pkt, size_t ihl, size_t plen, uint8_t *out, size_t cap)
{
	size_t quote, total;
	uint8_t *ic = out + IPV4_HLEN, type;

	if (pkt[9] == IPPKT_PROTO_ICMP) {
		if (plen == ihl)
			return 0;
		type = pkt[ihl];
		if (type == 3 || type == 4 || type == 5 || type == 11 ||
		    type == 12)
			return 0;
	}
	quote = ihl + (plen - ihl < 8 ? plen - ihl : 8);
	total = IPV4_HLEN + ICMP_HLEN + quote;
	if (cap < total)
		return 0;
	put_ip(out, pkt, IPPKT_PROTO_ICMP, total);
	memset(ic, 0, ICMP_HLEN);
	ic[0] = ICMP_UNREACH;
	ic[1] =
	    pkt[9] == IPPKT_PROTO_UDP ? ICMP_UNREACH_PORT : ICMP_UNREACH_ADMIN;
	memcpy(ic + ICMP_HLEN, pkt, quote);
	put16(ic + 2, ippkt_cksum(ic, ICMP_HLEN + quote, 0));
	return total;
}

size_t
ippkt_reject(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap)
{
	size_t ihl, tot, plen;

	if (len < IPV4_HLEN || pkt[0] >> 4 != 4)
		return 0;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (ihl < IPV4_HLEN || ihl > len)
		return 0;
	if ((get16(pkt + 6) & 0x1fff) != 0)
		return 0;
	if (no_reply_addr(be32_get(pkt + 12), be32_get(pkt + 16)))
		return 0;
	tot = get16(pkt + 2);
	plen = tot >= ihl && tot <= len ? tot : len;
	if (pkt[9] == IPPKT_PROTO_TCP)
		return reject_tcp(pkt, ihl, plen, out, cap);
	return reject_icmp(pkt, ihl, plen, out, cap);
}
