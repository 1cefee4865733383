/*
 * test/fuzz/fuzz_lh_msg.c: the NebulaMeta codec.  Decode; if that works,
 * encode, decode again and compare, and check that encoding is stable.
 * Well-formed updates then go through a small lighthouse registry, whose
 * answer must encode and decode to itself too.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "lhmsg.h"
#include "lhreg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same(const struct lhmsg *a, const struct lhmsg *b)
{
	size_t i;

	if (a->type != b->type || a->has_details != b->has_details ||
	    a->vpn_ip != b->vpn_ip || a->counter != b->counter ||
	    a->n4 != b->n4 || a->n6 != b->n6 || a->nrelays != b->nrelays)
		return false;
	for (i = 0; i < a->n4; i++)
		if (a->v4[i].ip != b->v4[i].ip ||
		    a->v4[i].port != b->v4[i].port)
			return false;
	for (i = 0; i < a->n6; i++)
		if (memcmp(a->v6[i].ip, b->v6[i].ip, 16) != 0 ||
		    a->v6[i].port != b->v6[i].port)
			return false;
	for (i = 0; i < a->nrelays; i++)
		if (a->relays[i] != b->relays[i])
			return false;
	return true;
}

/* Encode m, decode it back: it must be m, with nothing truncated. */
static void
roundtrip(const struct lhmsg *m, struct lhmsg *tmp)
{
	static uint8_t buf[LHMSG_ENCODED_MAX], buf2[LHMSG_ENCODED_MAX];
	size_t len, len2, need;

	if (lhmsg_encode(m, NULL, 0, &need) != 0 ||
	    lhmsg_encode(m, buf, sizeof(buf), &len) != 0 || len != need ||
	    len > LHMSG_ENCODED_MAX)
		abort();
	if (lhmsg_decode(tmp, buf, len) != 0 || tmp->truncated != 0 ||
	    !same(m, tmp))
		abort();
	if (lhmsg_encode(tmp, buf2, sizeof(buf2), &len2) != 0 || len2 != len ||
	    memcmp(buf, buf2, len) != 0)
		abort();
	if (len > 0 && lhmsg_encode(m, buf2, len - 1, &len2) != VPN_ERR_RANGE)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lhmsg m, tmp, reply;
	struct lhreg *r;
	uint8_t ip[16] = {0};

	if (lhmsg_decode(&m, data, size) != 0) {
		if (m.has_details || m.n4 != 0 || m.type != 0)
			abort(); /* zeroed on error */
		return 0;
	}
	if (m.n4 > LHMSG_MAX || m.n6 > LHMSG_MAX || m.nrelays > LHMSG_MAX)
		abort();
	roundtrip(&m, &tmp);

	if (!m.has_details || (r = lhreg_new(4)) == NULL)
		return 0;
	ip[10] = ip[11] = 0xff;
	memcpy(ip + 12, data, size < 4 ? size : 4);
	if (lhreg_learned(r, m.vpn_ip, ip, 4242, 1) != 0 ||
	    lhreg_update(
	        r, m.vpn_ip, &m, NULL, NULL, 0x0a000000, 0xff000000, 2) != 0 ||
	    lhreg_reply(r, m.vpn_ip, &reply) != 0)
		abort();
	if (reply.n4 > LHREG_MAX_ADDRS + 1 || reply.n6 > LHREG_MAX_ADDRS ||
	    reply.nrelays > LHREG_MAX_ADDRS || reply.vpn_ip != m.vpn_ip ||
	    reply.v4[0].port != 4242)
		abort();
	roundtrip(&reply, &tmp);
	lhreg_forget(r, m.vpn_ip);
	if (lhreg_count(r) != 0 || lhreg_reply(r, m.vpn_ip, &reply) == 0)
		abort();
	lhreg_free(r);
	return 0;
}
