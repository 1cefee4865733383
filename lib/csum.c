/* lib/csum.c: the Internet checksum. */
#include <string.h>

#include "csum.h"

/*
 * Words are summed as they lie in memory (RFC 1071 section 2(B): the
 * ones' complement sum does not depend on byte order).
 */
uint64_t
csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	uint64_t a, b, c, d;
	uint32_t w;
	uint16_t h;
	uint8_t last[2];

	/* 64-bit words with the carry put back at once (end-around carry):
	 * a ones' complement sum in any width of 16-bit multiples folds to
	 * the same 16 bits. */
	for (; len >= 32; p += 32, len -= 32) {
		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&c, p + 16, 8);
		memcpy(&d, p + 24, 8);
		sum += a;
		sum += sum < a;
		sum += b;
		sum += sum < b;
		sum += c;
		sum += sum < c;
		sum += d;
		sum += sum < d;
	}
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&a, p, 8);
		sum += a;
		sum += sum < a;
	}
	if (len >= 4) {
		memcpy(&w, p, 4);
		sum += w;
		sum += sum < w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		sum += h;
		sum += sum < h;
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		last[0] = p[0];
		last[1] = 0;
		memcpy(&h, last, 2);
		sum += h;
		sum += sum < h;
	}
	return sum;
}

/* The folded sum, as it lies in memory: store it with memcpy. */
uint16_t
csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}
