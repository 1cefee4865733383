/*
 * test/fuzz/fuzz_addr.c: the small text parsers that configurations and
 * command lines go through: IPv4 addresses and CIDRs (ipaddr.h),
 * underlay addresses (udp_addr_parse), Go durations
 * (go_parse_duration), log levels and formats.  The input, up to its
 * first NUL, is given to each.
 *
 * Oracles: whatever parses prints back to text that parses to the same
 * value; an address prints back to exactly the input (Go's form has no
 * leading zeros); a duration's printed form is Go's, which parses back
 * to the same nanoseconds.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "gotime.h"
#include "ipaddr.h"
#include "log.h"
#include "udp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[256], buf[UDP_ADDR_STRLEN + IP4NET_STRLEN + 64];
	struct ip4net n, n2;
	struct udp_addr a, a2;
	enum log_level lvl;
	enum log_format fmt;
	uint32_t ip, ip2;
	int64_t ns, ns2;
	size_t len;
	int r;

	len = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	memcpy(s, data, len);
	s[len] = '\0';

	if (ip4_parse(s, &ip)) {
		ip4_format(ip, buf);
		if (strcmp(buf, s) != 0 || !ip4_parse(buf, &ip2) || ip2 != ip)
			abort();
	}

	r = ip4net_parse(s, &n);
	if (r == 0) {
		ip4net_format(&n, buf);
		if (ip4_mask_bits(n.mask) < 0 || ip4net_parse(buf, &n2) != 0 ||
		    n2.addr != n.addr || n2.mask != n.mask ||
		    !ip4net_contains(&n, n.addr))
			abort();
	} else if (r != VPN_ERR_INVAL && r != VPN_ERR_RANGE) {
		abort();
	}

	if (udp_addr_parse(s, &a) == 0) {
		udp_addr_format(&a, buf);
		if (strlen(buf) >= UDP_ADDR_STRLEN ||
		    udp_addr_parse(buf, &a2) != 0 || !udp_addr_eq(&a, &a2))
			abort();
		if (udp_addr_is_v4(&a)) {
			udp_addr_from_v4(&a2, udp_addr_v4(&a), a.port);
			if (!udp_addr_eq(&a, &a2))
				abort();
		}
	}

	ns = 12345;
	r = go_parse_duration(s, &ns);
	if (r == 0) {
		go_format_duration(ns, buf, GOTIME_DURATION_LEN);
		if (strlen(buf) >= GOTIME_DURATION_LEN ||
		    go_parse_duration(buf, &ns2) != 0 || ns2 != ns)
			abort();
	} else if ((r != VPN_ERR_INVAL && r != VPN_ERR_RANGE) || ns != 12345) {
		abort(); /* untouched on error */
	}

	if (log_level_parse(s, &lvl) == 0 &&
	    (log_level_parse(log_level_name(lvl), &lvl) != 0))
		abort();
	(void)log_format_parse(s, &fmt);
	return 0;
}
