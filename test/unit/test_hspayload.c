/*
 * test/unit/test_hspayload.c: the NebulaHandshake payload codec, on the
 * payloads of every captured handshake and on hand-made edge cases.
 */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "err.h"
#include "hspayload.h"

#include "../fixtures/capture/vectors.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define FIXTURES "fixtures/nebula-1.6.1/"

/* The fixture certificate <name>.crt. */
static struct cert *
load_cert(const char *name)
{
	char file[64], *pem;
	struct cert *c = NULL;
	size_t len;

	snprintf(file, sizeof(file), "%s.crt", name);
	pem = tu_fixture(file, &len);
	assert_int_equal(cert_from_pem(pem, len, &c, NULL), 0);
	free(pem);
	return c;
}


/* Decode, compare with the capture, re-encode byte for byte. */
static void
check_payload(const uint8_t *p, size_t len, const char *certname, uint32_t ii,
    uint32_t ri, uint64_t time)
{
	struct hspayload hp;
	struct cert *c;
	uint8_t *nokey, out[1024];
	size_t nlen, olen = 0, need = 0;

	assert_int_equal(hspayload_decode(&hp, p, len), 0);
	assert_int_equal(hp.initiator_index, ii);
	assert_int_equal(hp.responder_index, ri);
	assert_int_equal(hp.time, time);
	assert_int_equal(hp.cookie, 0);
	assert_null(hp.hmac);
	assert_int_equal(hp.hmac_len, 0);
	/* Cert points into the payload and is the fixture without its key. */
	assert_true(hp.cert > p && hp.cert + hp.cert_len <= p + len);
	c = load_cert(certname);
	assert_int_equal(cert_marshal(c, CERT_NO_PUBKEY, &nokey, &nlen), 0);
	assert_int_equal(hp.cert_len, nlen);
	assert_memory_equal(hp.cert, nokey, nlen);
	free(nokey);
	cert_free(c);

	assert_int_equal(hspayload_encode(&hp, NULL, 0, &need), 0);
	assert_int_equal(need, len);
	assert_int_equal(hspayload_encode(&hp, out, sizeof(out), &olen), 0);
	assert_int_equal(olen, len);
	assert_memory_equal(out, p, len);
}

static void
test_hspayload_captured_payloads_round_trip(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < CAP_NHSS; i++) {
		const struct cap_hs *h = &cap_hss[i];

		/* msg1: the payload follows header, e and s, in the clear */
		check_payload(h->msg1 + 80, h->msg1_len - 80, h->initiator,
		    h->initiator_index, 0, h->time1);
		check_payload(h->payload2, h->payload2_len, h->responder,
		    h->initiator_index, h->responder_index, h->time2);
	}
}

/*
 * certificate.md 8.2: the receiver puts the Noise static key it received
 * into the no-key certificate, and the result is the signed certificate.
 * With the captured static keys this gives back the fixtures exactly, and
 * their CA signature verifies; with the other side's key it does not.
 */
static void
recombine(const uint8_t *p, size_t len, const char *name, const uint8_t key[32],
    const uint8_t wrong[32], const struct cert *ca)
{
	struct hspayload hp;
	struct cert *got = NULL, *want = load_cert(name);
	uint8_t *a, *b;
	size_t alen, blen;

	assert_int_equal(hspayload_decode(&hp, p, len), 0);
	assert_int_equal(cert_unmarshal_nokey(hp.cert, hp.cert_len, &got), 0);
	assert_string_equal(got->name.s, name);
	assert_int_equal(got->pubkey_len, 0);
	assert_int_equal(cert_set_pubkey(got, wrong, 32), 0);
	assert_false(cert_check_signature(got, ca->pubkey, ca->pubkey_len));
	assert_int_equal(cert_set_pubkey(got, key, 32), 0);
	assert_true(cert_check_signature(got, ca->pubkey, ca->pubkey_len));
	assert_int_equal(cert_marshal(got, 0, &a, &alen), 0);
	assert_int_equal(cert_marshal(want, 0, &b, &blen), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
	cert_free(got);
	cert_free(want);
}

static void
test_hspayload_cert_plus_noise_key_is_the_fixture(void **state)
{
	struct cert *ca = load_cert("ca");
	size_t i;

	(void)state;
	for (i = 0; i < CAP_NHSS; i++) {
		const struct cap_hs *h = &cap_hss[i];

		recombine(h->msg1 + 80, h->msg1_len - 80, h->initiator,
		    h->i_s_pub, h->r_s_pub, ca);
		recombine(h->payload2, h->payload2_len, h->responder,
		    h->r_s_pub, h->i_s_pub, ca);
	}
	cert_free(ca);
}

static const struct {
	const char *name, *hex;
	int want;
	uint32_t ii, ri;
	uint64_t time;
	const char *cert_hex; /* NULL: no cert */
	size_t hmac_len;
} decode_cases[] = {
    {"empty input: no Details", "", VPN_ERR_INVAL, 0, 0, 0, NULL, 0},
    {"Hmac only: no Details", "1200", VPN_ERR_INVAL, 0, 0, 0, NULL, 0},
    {"empty Details is enough", "0a00", 0, 0, 0, 0, NULL, 0},
    {"Details as a varint", "0801", VPN_ERR_PB_WIRETYPE, 0, 0, 0, NULL, 0},
    {"Details as a group", "0b0c", VPN_ERR_PB_WIRETYPE, 0, 0, 0, NULL, 0},
    {"Hmac as a varint", "0a001001", VPN_ERR_PB_WIRETYPE, 0, 0, 0, NULL, 0},
    {"Cert as a varint", "0a020801", VPN_ERR_PB_WIRETYPE, 0, 0, 0, NULL, 0},
    {"InitiatorIndex as bytes", "0a03120101", VPN_ERR_PB_WIRETYPE, 0, 0, 0,
        NULL, 0},
    {"Time as fixed64", "0a09290102030405060708", VPN_ERR_PB_WIRETYPE, 0, 0, 0,
        NULL, 0},
    {"Details longer than the input", "0a03", VPN_ERR_TRUNCATED, 0, 0, 0, NULL,
        0},
    {"varint cut short", "0a0110", VPN_ERR_PB_VARINT, 0, 0, 0, NULL, 0},
    {"stray end-group", "0a000c", VPN_ERR_PB_WIRETYPE, 0, 0, 0, NULL, 0},
    {"field number 0", "0a000000", VPN_ERR_PB_FIELD, 0, 0, 0, NULL, 0},
    {"unknown fields of every wire type are skipped",
        "0a19100530073a01ff450102030449010203040506070853080154" /* Details */
        "18012200",
        0, 5, 0, 0, NULL, 0},
    {"repeated Details merge", "0a0210050a021807", 0, 5, 7, 0, NULL, 0},
    {"the last scalar wins", "0a0410051006", 0, 6, 0, 0, NULL, 0},
    {"the last Cert wins", "0a030a01aa0a030a01bb", 0, 0, 0, 0, "bb", 0},
    {"uint32 keeps the low 32 bits, as Go", "0a06108580808010", 0, 5, 0, 0,
        NULL, 0},
    {"Time up to 2^64-1", "0a0b28ffffffffffffffffff01", 0, 0, 0, UINT64_MAX,
        NULL, 0},
    {"Hmac is kept", "0a001203010203", 0, 0, 0, 0, NULL, 3},
};

static void
test_hspayload_decode_rules(void **state)
{
	uint8_t in[128], cert[16];
	struct hspayload hp;
	size_t i, len, clen;
	int r;

	(void)state;
	for (i = 0; i < NELEM(decode_cases); i++) {
		len = tu_unhex_spaced(decode_cases[i].hex, in, sizeof(in));
		r = hspayload_decode(&hp, in, len);
		if (r != decode_cases[i].want)
			fail_msg("%s: got %d", decode_cases[i].name, r);
		if (r != 0) {
			assert_null(hp.cert);
			assert_int_equal(hp.initiator_index, 0);
			continue;
		}
		assert_int_equal(hp.initiator_index, decode_cases[i].ii);
		assert_int_equal(hp.responder_index, decode_cases[i].ri);
		assert_int_equal(hp.time, decode_cases[i].time);
		assert_int_equal(hp.hmac_len, decode_cases[i].hmac_len);
		if (decode_cases[i].cert_hex == NULL) {
			assert_int_equal(hp.cert_len, 0);
		} else {
			clen =
			    tu_unhex_spaced(decode_cases[i].cert_hex, cert, sizeof(cert));
			assert_int_equal(hp.cert_len, clen);
			assert_memory_equal(hp.cert, cert, clen);
		}
	}
}

static void
test_hspayload_encode_all_fields(void **state)
{
	static const uint8_t cert[] = {0xde, 0xad};
	static const uint8_t mac[] = {0x01, 0x02, 0x03};
	static const char want_hex[] = "0a19"
	                               "0a02dead"
	                               "10ffffffff0f"
	                               "1801"
	                               "2080808080808080808001"
	                               "2805"
	                               "1203010203";
	struct hspayload hp, back;
	uint8_t out[64], want[64];
	size_t n, len, wlen;

	(void)state;
	memset(&hp, 0, sizeof(hp));
	hp.cert = cert;
	hp.cert_len = sizeof(cert);
	hp.initiator_index = UINT32_MAX;
	hp.responder_index = 1;
	hp.cookie = 1ull << 63;
	hp.time = 5;
	hp.hmac = mac;
	hp.hmac_len = sizeof(mac);
	wlen = tu_unhex_spaced(want_hex, want, sizeof(want));
	assert_int_equal(hspayload_encode(&hp, out, sizeof(out), &len), 0);
	assert_int_equal(len, wlen);
	assert_memory_equal(out, want, wlen);
	assert_int_equal(hspayload_decode(&back, out, len), 0);
	assert_int_equal(back.initiator_index, UINT32_MAX);
	assert_int_equal(back.responder_index, 1);
	assert_int_equal(back.cookie, 1ull << 63);
	assert_int_equal(back.time, 5);
	assert_int_equal(back.cert_len, 2);
	assert_memory_equal(back.cert, cert, 2);
	assert_int_equal(back.hmac_len, 3);
	assert_memory_equal(back.hmac, mac, 3);
	/* Every capacity short of the size fails. */
	for (n = 0; n < wlen; n++)
		assert_int_equal(
		    hspayload_encode(&hp, out, n, &len), VPN_ERR_RANGE);
	/* Zero values are left out; Details is always there. */
	memset(&hp, 0, sizeof(hp));
	assert_int_equal(hspayload_encode(&hp, out, sizeof(out), &len), 0);
	assert_int_equal(len, 2);
	assert_int_equal(out[0], 0x0a);
	assert_int_equal(out[1], 0x00);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hspayload_captured_payloads_round_trip),
	    cmocka_unit_test(test_hspayload_cert_plus_noise_key_is_the_fixture),
	    cmocka_unit_test(test_hspayload_decode_rules),
	    cmocka_unit_test(test_hspayload_encode_all_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
