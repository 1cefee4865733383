/*
 * lib/ipaddr.h: IPv4 addresses and CIDRs as Go's net package parses and
 * prints them.  An address is a uint32 holding the big-endian reading of
 * the dotted quad (10.0.0.1 -> 0x0a000001), as Nebula certificates do.
 */
#ifndef VPN_IPADDR_H
#define VPN_IPADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ip4net {
	uint32_t addr; /* host bits as given */
	uint32_t mask;
};

#define IP4_STRLEN 16  /* "255.255.255.255" + NUL */
#define IP4NET_STRLEN 28 /* "255.255.255.255/ffffffff" + NUL */

/* Go's net.ParseIP for IPv4 only: four decimal octets, no leading zeros. */
bool ip4_parse(const char *s, uint32_t *addr);

/*
 * Go's net.ParseCIDR, IPv4 only.  0; VPN_ERR_INVAL for a malformed CIDR;
 * VPN_ERR_RANGE when it is a valid IPv6 CIDR (Nebula's "can only be
 * ipv4").  net->addr keeps the host bits; see ip4net_network().
 */
int ip4net_parse(const char *s, struct ip4net *net);

static inline uint32_t
ip4_prefix_mask(unsigned bits)
{
	return bits == 0 ? 0 : 0xffffffffu << (32 - bits);
}

/* -1 if mask is not contiguous, else the prefix length. */
int ip4_mask_bits(uint32_t mask);

void ip4_format(uint32_t addr, char buf[IP4_STRLEN]);
/* Go's IPNet.String: "a.b.c.d/len", or "a.b.c.d/<hex mask>" when the mask
 * is not contiguous. */
void ip4net_format(const struct ip4net *net, char buf[IP4NET_STRLEN]);

static inline bool
ip4net_contains(const struct ip4net *net, uint32_t addr)
{
	return (addr & net->mask) == (net->addr & net->mask);
}

#endif
