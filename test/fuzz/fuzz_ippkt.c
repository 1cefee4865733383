/*
 * test/fuzz/fuzz_ippkt.c: the firewall's packet view and the REJECT
 * replies on arbitrary bytes.
 *
 * Oracles: parsing never reads past len (ASan) and agrees with the rules
 * of firewall.md 1 (success exactly when the length, version and IHL
 * allow it; both directions give mirrored tuples; ports 0 for ICMP and
 * later fragments); a reply, when one is made, fits IPPKT_REJECT_MAX,
 * has valid checksums, is addressed back to the sender, parses, and
 * never provokes a reply itself when it is an ICMP error.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ippkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
check_reply(const uint8_t *data, size_t size, const uint8_t *r, size_t n)
{
	uint8_t ph[12], again[IPPKT_REJECT_MAX];
	struct fw_packet p;
	uint32_t sum = 0;
	size_t i;

	if (n < 28 || n > IPPKT_REJECT_MAX || r[0] != 0x45 ||
	    get16(r + 2) != n || ippkt_cksum(r, 20, 0) != 0 ||
	    memcmp(r + 12, data + 16, 4) != 0 ||
	    memcmp(r + 16, data + 12, 4) != 0)
		abort();
	if (ippkt_parse(r, n, true, &p) != 0)
		abort();
	if (r[9] == IPPKT_PROTO_TCP) {
		if (n != 40 || data[9] != IPPKT_PROTO_TCP ||
		    (r[33] & 0x04) == 0)
			abort();
		memcpy(ph, r + 12, 8);
		ph[8] = 0;
		ph[9] = IPPKT_PROTO_TCP;
		ph[10] = 0;
		ph[11] = 20;
		for (i = 0; i < 12; i += 2)
			sum += get16(ph + i);
		if (ippkt_cksum(r + 20, 20, sum) != 0)
			abort();
		/* a RST is never answered */
		if (ippkt_reject(r, n, again, sizeof(again)) != 0)
			abort();
	} else if (r[9] == IPPKT_PROTO_ICMP) {
		if (r[20] != 3 || (r[21] != 3 && r[21] != 13) ||
		    ippkt_cksum(r + 20, n - 20, 0) != 0 ||
		    memcmp(r + 28, data, n - 28 < size ? n - 28 : size) != 0)
			abort();
		/* an ICMP error is never answered */
		if (ippkt_reject(r, n, again, sizeof(again)) != 0)
			abort();
	} else {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_packet in, out;
	uint8_t r[IPPKT_REJECT_MAX + 8];
	size_t ihl, need, n;
	bool frag, ok;
	int ei, eo;

	ei = ippkt_parse(data, size, true, &in);
	eo = ippkt_parse(data, size, false, &out);
	if (ei != eo)
		abort();
	ok = size >= 20 && data[0] >> 4 == 4 && (data[0] & 0x0f) >= 5;
	if (ok) {
		ihl = (size_t)(data[0] & 0x0f) * 4;
		frag = (get16(data + 6) & 0x1fff) != 0;
		need = ihl + (frag || data[9] == IPPKT_PROTO_ICMP ? 0 : 4);
		ok = size >= need;
	}
	if ((ei == 0) != ok)
		abort();
	if (ei == 0) {
		if (in.local_ip != out.remote_ip ||
		    in.remote_ip != out.local_ip ||
		    in.local_port != out.remote_port ||
		    in.remote_port != out.local_port || in.proto != out.proto ||
		    in.fragment != out.fragment || in.proto != data[9])
			abort();
		if ((in.fragment || in.proto == IPPKT_PROTO_ICMP) &&
		    (in.local_port != 0 || in.remote_port != 0))
			abort();
	} else if (ei != VPN_ERR_INVAL && ei != VPN_ERR_TRUNCATED) {
		abort();
	}

	n = ippkt_reject(data, size, r, sizeof(r));
	if (n > 0)
		check_reply(data, size, r, n);
	/* too small a buffer: nothing, never an overflow */
	if (n > 0 && ippkt_reject(data, size, r, n - 1) != 0)
		abort();
	return 0;
}
