/* lib/csum.h: the Internet checksum (RFC 1071). */
#ifndef VPN_CSUM_H
#define VPN_CSUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * csum_add accumulates bytes as they lie in memory (every call but the
 * last must cover an even number of bytes); csum_fold gives the folded
 * 16-bit ones' complement sum in memory order: store it (or its
 * complement) with memcpy.  0xffff means a region that includes its
 * checksum is right.
 */
uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len);
uint16_t csum_fold(uint64_t sum);

#endif
