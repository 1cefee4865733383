/*
 * test/fuzz/fuzz_nebctl.c: the NebulaControl codec.  Decode; if that
 * works, encode, decode again and compare, and check that encoding is
 * stable, fits NEBCTL_ENCODED_MAX and refuses a buffer one byte short.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "nebctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same(const struct nebctl *a, const struct nebctl *b)
{
	return a->type == b->type &&
	       a->initiator_relay_index == b->initiator_relay_index &&
	       a->responder_relay_index == b->responder_relay_index &&
	       a->relay_to_ip == b->relay_to_ip &&
	       a->relay_from_ip == b->relay_from_ip;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct nebctl zero;
	uint8_t buf[NEBCTL_ENCODED_MAX], buf2[NEBCTL_ENCODED_MAX];
	struct nebctl m, tmp;
	size_t len, len2, need;

	if (nebctl_decode(&m, data, size) != 0) {
		if (!same(&m, &zero))
			abort(); /* zeroed on error */
		return 0;
	}
	if (nebctl_encode(&m, NULL, 0, &need) != 0 ||
	    nebctl_encode(&m, buf, sizeof(buf), &len) != 0 || len != need ||
	    len > NEBCTL_ENCODED_MAX)
		abort();
	if (nebctl_decode(&tmp, buf, len) != 0 || !same(&m, &tmp))
		abort();
	if (nebctl_encode(&tmp, buf2, sizeof(buf2), &len2) != 0 ||
	    len2 != len || memcmp(buf, buf2, len) != 0)
		abort();
	if (len > 0 && nebctl_encode(&m, buf2, len - 1, &len2) != VPN_ERR_RANGE)
		abort();
	return 0;
}
