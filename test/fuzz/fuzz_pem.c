/*
 * test/fuzz/fuzz_pem.c: PEM decoding (Go encoding/pem rules) over every
 * block of the input, a re-encoding round trip, and the four key readers.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Types pem_encode can write back unambiguously. */
static bool
plain_type(const char *t, size_t len)
{
	size_t i;

	if (len == 0 || len > 64)
		return false;
	for (i = 0; i < len; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') ||
		        (t[i] >= '0' && t[i] <= '9') || t[i] == ' '))
			return false;
	return true;
}

static void
round_trip(const struct pem_block *b)
{
	struct pem_block b2;
	char type[65], *enc;
	size_t elen, used;

	if (!plain_type(b->type, b->typelen))
		return;
	memcpy(type, b->type, b->typelen);
	type[b->typelen] = '\0';
	if ((enc = pem_encode(type, b->data, b->len, &elen)) == NULL)
		abort();
	if (pem_decode(enc, elen, &b2, &used) != 0 || used != elen ||
	    b2.len != b->len || b2.typelen != b->typelen ||
	    memcmp(b2.type, b->type, b->typelen) != 0 ||
	    (b->len > 0 && memcmp(b2.data, b->data, b->len) != 0))
		abort();
	pem_block_clear(&b2);
	free(enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct pem_block b;
	size_t off = 0, used, n = 0;
	uint8_t key[64];
	int r;

	/* every block, as the multi-block readers do */
	while (off < size && n++ < 1000) {
		r = pem_decode(in + off, size - off, &b, &used);
		if (r != 0) {
			if (r != VPN_ERR_PEM_NONE || used != 0)
				abort();
			break;
		}
		if (used == 0 || used > size - off || b.typelen > size ||
		    (b.len > 0 && b.data == NULL))
			abort();
		round_trip(&b);
		pem_block_clear(&b);
		off += used;
		(void)pem_rest_empty(in + off, size - off);
	}

	/* the single-block key readers */
	used = 0;
	r = pem_x25519_private(in, size, key, &used);
	if (r == 0 && (used == 0 || used > size))
		abort();
	r = pem_x25519_public(in, size, key, NULL);
	r = pem_ed25519_private(in, size, key, &used);
	if (r == 0 && (used == 0 || used > size))
		abort();
	(void)pem_ed25519_public(in, size, key, NULL);
	(void)r;
	return 0;
}
