/*
 * test/fuzz/fuzz_header.c: the packet header, then the handshake payload
 * codec on what follows it (after the header, and after the header and
 * the 64 bytes of e and s, where message 1 carries it).
 *
 * Oracles: a parsed header re-encodes to the same bytes (bar the version
 * nibble and reserved bytes, which encode writes as 1 and 0); a decoded
 * payload re-encodes canonically, and decoding that gives the same
 * fields and encodes to the same bytes again.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "header.h"
#include "hspayload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same(const struct hspayload *a, const struct hspayload *b)
{
	return a->initiator_index == b->initiator_index &&
	       a->responder_index == b->responder_index &&
	       a->cookie == b->cookie && a->time == b->time &&
	       a->cert_len == b->cert_len && a->hmac_len == b->hmac_len &&
	       (a->cert_len == 0 ||
	           memcmp(a->cert, b->cert, a->cert_len) == 0) &&
	       (a->hmac_len == 0 || memcmp(a->hmac, b->hmac, a->hmac_len) == 0);
}

static void
payload(const uint8_t *p, size_t len)
{
	struct hspayload hp, back;
	uint8_t *a = NULL, *b = NULL;
	size_t alen, blen;

	if (hspayload_decode(&hp, p, len) != 0)
		return;
	if (hspayload_encode(&hp, NULL, 0, &alen) != 0 ||
	    (a = malloc(alen)) == NULL || (b = malloc(alen)) == NULL ||
	    hspayload_encode(&hp, a, alen, &blen) != 0 || blen != alen ||
	    hspayload_decode(&back, a, alen) != 0 || !same(&hp, &back) ||
	    hspayload_encode(&back, b, alen, &blen) != 0 || blen != alen ||
	    memcmp(a, b, alen) != 0)
		abort();
	free(a);
	free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[HEADER_LEN];
	struct header h;

	if (header_parse(&h, data, size) != 0) {
		if (size >= HEADER_LEN)
			abort();
		return 0;
	}
	if (size < HEADER_LEN || h.type > 15 || h.version > 15)
		abort();
	header_encode(out, h.type, h.subtype, h.remote_index, h.counter);
	if ((out[0] & 0x0f) != (data[0] & 0x0f) || out[1] != data[1] ||
	    memcmp(out + 4, data + 4, HEADER_LEN - 4) != 0 ||
	    h.reserved != (uint16_t)(data[2] << 8 | data[3]))
		abort();
	(void)header_type_name(h.type);
	(void)header_subtype_name(h.type, h.subtype);
	payload(data + HEADER_LEN, size - HEADER_LEN);
	if (size >= HEADER_LEN + 64)
		payload(data + HEADER_LEN + 64, size - HEADER_LEN - 64);
	return 0;
}
