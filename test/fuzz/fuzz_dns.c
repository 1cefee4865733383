/*
 * test/fuzz/fuzz_dns.c: dns_answer on arbitrary datagrams, with a small
 * zone, both txt_allowed values, and output buffers of several sizes.
 *
 * Oracles: the response fits the buffer; when there is one it starts
 * with the query's ID and has QR set, at most one question and one
 * answer, no other records; a TXT answer only when txt_allowed; a
 * smaller buffer never gives a longer response; and the same input
 * gives the same bytes twice (no hidden state).
 *
 * The same bytes are also TXT zone text for dns_zone_set_txt: it either
 * fails cleanly (and the address then has no TXT answer) or the answer
 * carries rdata that splits exactly into character-strings.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char cert_txt[] =
    "\"Name: host1\" \"Ips: [192.168.100.10/24]\" \"Subnets []\" "
    "\"Groups [a b]\" \"IsCA false\" \"x\\065\\\"y\" ( z ) ;c";

static struct dns_zone *
zone(void)
{
	static struct dns_zone *z;
	char big[300];

	if (z != NULL)
		return z;
	memset(big, 'g', sizeof(big));
	if ((z = dns_zone_new()) == NULL ||
	    dns_zone_add(z, "host1", 5, 0xc0a8640a) != 0 ||
	    dns_zone_add(z, "web.example", 11, 0xc0a8640b) != 0 ||
	    dns_zone_add(z, "", 0, 0x0a000001) != 0 ||
	    dns_zone_add(z, "a\\032b", 6, 0x0a000002) != 0 ||
	    dns_zone_set_txt(z, 0xc0a8640a, cert_txt, strlen(cert_txt)) != 0 ||
	    dns_zone_set_txt(z, 0xc0a8640b, big, sizeof(big)) != 0 ||
	    dns_zone_set_txt(z, 1, "one two", 7) != 0)
		abort();
	return z;
}

static void
check(const uint8_t *q, size_t qlen, const uint8_t *out, size_t n, size_t cap,
    bool txt)
{
	size_t off;

	if (n > cap)
		abort();
	if (n == 0)
		return;
	if (n < 12 || qlen < 12 || out[0] != q[0] || out[1] != q[1] ||
	    !(out[2] & 0x80) || out[4] != 0 || out[5] > 1 || out[6] != 0 ||
	    out[7] > 1 || out[8] != 0 || out[9] != 0 || out[10] != 0 ||
	    out[11] != 0)
		abort();
	if (out[7] == 1) {
		if (out[5] != 1 || (out[3] & 0x0f) != 0)
			abort();
		off = 12;
		while (off < n && out[off] != 0)
			off += 1 + out[off];
		off += 1 + 4; /* question */
		while (off < n && out[off] != 0)
			off += 1 + out[off];
		off += 1;
		if (off + 10 > n)
			abort();
		if (out[off] == 0 && out[off + 1] == 16 && !txt)
			abort();
		if ((size_t)(out[off + 8] << 8 | out[off + 9]) != n - off - 10)
			abort();
	}
}

/* "1.0.0.0." TXT with EDNS 65535. */
static const uint8_t txt_query[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, '1',
    1, '0', 1, '0', 1, '0', 0, 0, 16, 0, 1, 0, 0, 41, 0xff, 0xff, 0, 0, 0, 0, 0,
    0};

static void
txt_text(const uint8_t *data, size_t size, uint8_t *out)
{
	static struct dns_zone *tz;
	size_t n, off, rdlen;
	int r;

	if (tz == NULL && (tz = dns_zone_new()) == NULL)
		abort();
	r = dns_zone_set_txt(tz, 0x01000000, (const char *)data, size);
	if (r != 0 && r != VPN_ERR_INVAL && r != VPN_ERR_RANGE)
		abort();
	n = dns_answer(tz, txt_query, sizeof(txt_query), true, out, 65535);
	if (n < 12)
		abort();
	if (r != 0 || size == 0) {
		if (out[7] != 0)
			abort();
		return;
	}
	if (out[2] & 0x02)
		return; /* truncated: too big even for 65535 */
	off = 12 + 9 + 4 + 9 + 8;
	if (out[7] != 1 || n < off + 2)
		abort();
	rdlen = (size_t)out[off] << 8 | out[off + 1];
	off += 2;
	if (n - off != rdlen)
		abort();
	while (off < n)
		off += 1 + out[off];
	if (off != n)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = {65535, 512, 300, 40, 12, 0};
	struct dns_zone *z = zone();
	uint8_t *out, *again;
	size_t i, n, m, prev;
	int t;

	if ((out = malloc(65535)) == NULL || (again = malloc(65535)) == NULL)
		abort();
	for (t = 0; t < 2; t++) {
		prev = SIZE_MAX;
		for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
			n = dns_answer(z, data, size, t == 1, out, caps[i]);
			check(data, size, out, n, caps[i], t == 1);
			if (n > prev)
				abort();
			prev = n;
			m = dns_answer(z, data, size, t == 1, again, caps[i]);
			if (m != n || memcmp(out, again, n) != 0)
				abort();
		}
	}
	txt_text(data, size, out);
	free(out);
	free(again);
	return 0;
}
