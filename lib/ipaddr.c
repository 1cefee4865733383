/* lib/ipaddr.c: Go-compatible IPv4 parsing and printing. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "ipaddr.h"

bool
ip4_parse(const char *s, uint32_t *addr)
{
	uint32_t a = 0, v;
	int i, digits;

	for (i = 0; i < 4; i++) {
		if (i > 0) {
			if (*s != '.')
				return false;
			s++;
		}
		v = 0;
		digits = 0;
		while (*s >= '0' && *s <= '9') {
			if (digits > 0 && v == 0)
				return false; /* leading zero */
			v = v * 10 + (uint32_t)(*s - '0');
			if (v > 255)
				return false;
			s++, digits++;
		}
		if (digits == 0)
			return false;
		a = a << 8 | v;
	}
	if (*s != '\0')
		return false;
	*addr = a;
	return true;
}

int
ip4net_parse(const char *s, struct ip4net *net)
{
	char host[64];
	const char *slash = strchr(s, '/'), *m;
	struct in6_addr a6;
	size_t hl;
	unsigned bits = 0;
	int digits = 0;

	if (slash == NULL || (hl = (size_t)(slash - s)) >= sizeof(host))
		return VPN_ERR_INVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	/* Go's dtoi: decimal digits, leading zeros allowed, below 2^24. */
	for (m = slash + 1; *m >= '0' && *m <= '9'; m++, digits++) {
		bits = bits * 10 + (unsigned)(*m - '0');
		if (bits > 0xffffff)
			return VPN_ERR_INVAL;
	}
	if (digits == 0 || *m != '\0')
		return VPN_ERR_INVAL;
	if (strchr(host, ':') != NULL) {
		if (inet_pton(AF_INET6, host, &a6) == 1 && bits <= 128)
			return VPN_ERR_RANGE;
		return VPN_ERR_INVAL;
	}
	if (!ip4_parse(host, &net->addr) || bits > 32)
		return VPN_ERR_INVAL;
	net->mask = ip4_prefix_mask(bits);
	return 0;
}

int
ip4_mask_bits(uint32_t mask)
{
	int n = 0;

	while (n < 32 && (mask & (0x80000000u >> n)) != 0)
		n++;
	if (n < 32 && (mask << n) != 0)
		return -1;
	return n;
}

void
ip4_format(uint32_t a, char buf[IP4_STRLEN])
{
	snprintf(buf, IP4_STRLEN, "%u.%u.%u.%u", a >> 24, a >> 16 & 255,
	    a >> 8 & 255, a & 255);
}

void
ip4net_format(const struct ip4net *net, char buf[IP4NET_STRLEN])
{
	char a[IP4_STRLEN];
	int bits = ip4_mask_bits(net->mask);

	ip4_format(net->addr, a);
	if (bits >= 0)
		snprintf(buf, IP4NET_STRLEN, "%s/%d", a, bits);
	else
		snprintf(buf, IP4NET_STRLEN, "%s/%08x", a, net->mask);
}
