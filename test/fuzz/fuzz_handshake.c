/*
 * test/fuzz/fuzz_handshake.c: what a peer controls in a handshake.  The
 * first byte picks the path, the rest is the message:
 *
 *   0  message 1 to a fixed responder: noise_read_msg1, then the payload
 *      (hspayload_decode, cert_unmarshal_nokey of its Cert), then
 *      noise_write_msg2 (X25519 on the peer's e and s);
 *   1  message 2 to an initiator that has written message 1 (the one of
 *      the first captured handshake, so its real message 2 is a seed that
 *      gets through): noise_read_msg2, then the payload as above;
 *   2  the rest as a payload sealed by the responder into message 2 and
 *      read back by the initiator, which must succeed and give it back;
 *      then the payload as above.
 *
 * Oracles: no crash or leak; a failed read leaves the state untouched; a
 * successful read returns what was sent.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "err.h"
#include "hspayload.h"
#include "noise.h"

#include "../fixtures/capture/vectors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXMSG 65536

static struct noise_hs ini0, res0; /* after msg1 written / fresh */
static struct noise_hs res1;       /* after the captured msg1 was read */

static void
setup(void)
{
	const struct cap_hs *h = &cap_hss[0];
	uint8_t out[1024], rs[32];
	const uint8_t *pl;
	size_t len, plen;

	if (noise_init(&ini0, h->cipher, true, h->i_s_priv, h->i_s_pub) != 0 ||
	    noise_set_ephemeral(&ini0, h->i_e_priv) != 0 ||
	    noise_write_msg1(&ini0, h->msg1 + 80, h->msg1_len - 80, out,
	        sizeof(out), &len) != 0 ||
	    noise_init(&res0, h->cipher, false, h->r_s_priv, h->r_s_pub) != 0 ||
	    noise_set_ephemeral(&res0, h->r_e_priv) != 0)
		abort();
	memcpy(&res1, &res0, sizeof(res1));
	if (noise_read_msg1(&res1, out, len, rs, &pl, &plen) != 0)
		abort();
}

static void
payload(const uint8_t *p, size_t len)
{
	struct hspayload hp;
	struct cert *c = NULL;

	if (hspayload_decode(&hp, p, len) != 0)
		return;
	if (cert_unmarshal_nokey(hp.cert, hp.cert_len, &c) == 0 && c == NULL)
		abort();
	cert_free(c);
}

static void
read1(const uint8_t *m, size_t len)
{
	static uint8_t out[MAXMSG + NOISE_MSG2_OVERHEAD];
	struct noise_hs hs;
	uint8_t rs[32];
	const uint8_t *pl;
	size_t plen, olen;

	memcpy(&hs, &res0, sizeof(hs));
	if (noise_read_msg1(&hs, m, len, rs, &pl, &plen) != 0) {
		if (len >= NOISE_MSG1_OVERHEAD ||
		    memcmp(&hs, &res0, sizeof(hs)) != 0)
			abort();
		return;
	}
	if (pl != m + 64 || plen != len - 64 || memcmp(rs, m + 32, 32) != 0)
		abort();
	payload(pl, plen);
	(void)noise_write_msg2(
	    &hs, pl, plen > 512 ? 512 : plen, out, sizeof(out), &olen);
	noise_clear(&hs);
}

static void
read2(const uint8_t *m, size_t len)
{
	static uint8_t pl[MAXMSG];
	struct noise_hs hs;
	uint8_t rs[32], k1[32], k2[32];
	size_t plen;

	memcpy(&hs, &ini0, sizeof(hs));
	if (noise_read_msg2(&hs, m, len, rs, pl, sizeof(pl), &plen) != 0) {
		if (memcmp(&hs, &ini0, sizeof(hs)) != 0)
			abort();
		return;
	}
	if (plen != len - NOISE_MSG2_OVERHEAD || noise_split(&hs, k1, k2) != 0)
		abort();
	payload(pl, plen);
	noise_clear(&hs);
}

static void
sealed(const uint8_t *p, size_t len)
{
	static uint8_t m[MAXMSG + NOISE_MSG2_OVERHEAD], back[MAXMSG];
	struct noise_hs res, ini;
	uint8_t rs[32];
	size_t mlen, blen;

	memcpy(&res, &res1, sizeof(res));
	memcpy(&ini, &ini0, sizeof(ini));
	if (noise_write_msg2(&res, p, len, m, sizeof(m), &mlen) != 0 ||
	    noise_read_msg2(&ini, m, mlen, rs, back, sizeof(back), &blen) !=
	        0 ||
	    blen != len || (len > 0 && memcmp(back, p, len) != 0))
		abort();
	payload(back, blen);
	noise_clear(&res);
	noise_clear(&ini);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;

	if (!ready) {
		setup();
		ready = true;
	}
	if (size < 1 || size - 1 > MAXMSG)
		return 0;
	switch (data[0] % 3) {
	case 0:
		read1(data + 1, size - 1);
		break;
	case 1:
		read2(data + 1, size - 1);
		break;
	default:
		sealed(data + 1, size - 1);
		break;
	}
	return 0;
}
