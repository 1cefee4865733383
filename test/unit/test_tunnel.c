/*
 * test/unit/test_tunnel.c: the node's bounds on what it copies and holds
 * (node/tunnel.c, node/handshake.c, node/hostmap.c), the subsystems
 * assembled here without a configuration file, on a real loopback
 * socket: nothing longer
 * than a send slot is sealed into one, and pending handshakes and their
 * queued packets stay within handshakes.max_pending and
 * handshakes.max_queued_bytes.
 */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdlib.h>
#include <string.h>

#include "connmgr.h"
#include "crypto.h"
#include "err.h"
#include "handshake.h"
#include "hostmap.h"
#include "io.h"
#include "nodeint.h"
#include "remotes.h"
#include "tunnel.h"
#include "worker.h"

#define LH_IP 0x0a000001u /* 10.0.0.1, our lighthouse */

struct env {
	struct node n;
	struct node_cfg cfg;
	struct event_base *base;
	struct udp *peer; /* where the tunnel's packets go */
	struct tunnel *t;
	uint8_t cert[64]; /* what the handshake payload carries */
};

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct io_udp *udp;
	char err[256];

	assert_non_null(e);
	assert_int_equal(crypto_init(), 0);
	e->cfg.cipher = CRYPTO_AES256GCM;
	e->cfg.alive_interval = 5;
	e->cfg.hs_try_interval = 100000000;
	e->cfg.max_pending = 3;
	e->cfg.max_queued_bytes = 3000;
	e->cfg.vpn_ip = 0x0a000002;
	e->cfg.vpn_mask = 0xffffff00;
	assert_int_equal(crypto_x25519_keypair(e->cfg.key, e->cfg.pub), 0);
	memset(e->cert, 0x42, sizeof(e->cert));
	e->cfg.cert_nokey = e->cert;
	e->cfg.cert_nokey_len = sizeof(e->cert);
	e->n.cfg = &e->cfg;
	assert_non_null(e->base = e->n.base = event_base_new());
	assert_int_equal(conntrack_new(0, &e->n.ct), 0);
	assert_int_equal(io_udp_kernel("127.0.0.1", 0, 1 << 20, 0, false, 0, &udp,
	                     err, sizeof(err)),
	    0);
	assert_int_equal(worker_start(&e->n, udp, NULL, &e->n.wk), 0);
	assert_non_null(e->n.hm = hostmap_new());
	assert_non_null(e->n.cm = connmgr_new());
	assert_non_null(e->n.rem = remotes_new());
	assert_int_equal(handshakes_new(&e->n, &e->n.hs), 0);
	assert_int_equal(udp_open("127.0.0.1", 0, 1 << 20, 0, false, &e->peer,
	                     err, sizeof(err)),
	    0);
	e->t = calloc(1, sizeof(*e->t));
	assert_non_null(e->t);
	assert_int_equal(crypto_random(e->t->ktx, 32), 0);
	e->t->remote_index = 77;
	e->t->tx_counter = 2;
	conntrack_owner_init(&e->t->ct_own);
	udp_addr_from_v4(&e->t->remote, 0x7f000001, udp_port(e->peer));
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;

	handshakes_free(&e->n, e->n.hs); /* with the pending handshakes */
	connmgr_forget(e->n.cm, e->t);
	crypto_aead_free(e->t->tx);
	free(e->t);
	udp_close(e->peer);
	remotes_free(e->n.rem);
	connmgr_free(e->n.cm);
	hostmap_free(e->n.hm);
	worker_free(e->n.wk);
	conntrack_free(e->n.ct);
	event_base_free(e->base);
	free(e);
	return 0;
}

struct got {
	size_t n, len;
	uint8_t buf[UDP_MAX_PACKET];
};

static void
rx(void *arg, const struct udp_addr *from, uint8_t *buf, size_t len)
{
	struct got *g = arg;

	(void)from;
	assert_true(len <= sizeof(g->buf));
	memcpy(g->buf, buf, len);
	g->len = len;
	g->n++;
}

/*
 * A body longer than TUNNEL_MAX_BODY (a 60 KB test request to echo, an
 * oversized ICMP echo to answer) is refused before it is copied: under
 * ASan, a copy would be a heap-buffer-overflow of the send slot.  One of
 * exactly TUNNEL_MAX_BODY fills a slot and seals and opens whole.
 */
static void
test_tunnel_send_refuses_overlong(void **state)
{
	struct env *e = *state;
	uint8_t *big = malloc(60000), *slot;
	struct header h;
	struct got g;
	int tries;

	assert_non_null(big);
	memset(big, 0xab, 60000);
	memset(&g, 0, sizeof(g));
	assert_int_equal(tunnel_send(&e->n, e->t, HDR_TEST,
	                     HDR_SUB_TEST_REPLY, big, 60000),
	    VPN_ERR_RANGE);
	assert_int_equal(tunnel_send(&e->n, e->t, HDR_TEST,
	                     HDR_SUB_TEST_REPLY, big, TUNNEL_MAX_BODY + 1),
	    VPN_ERR_RANGE);
	assert_int_equal(e->n.wk->st.tx_dropped, 2);
	/* what is already in a slot is checked too */
	slot = worker_slot(e->n.wk);
	tunnel_seal_slot(e->n.wk, e->t, slot, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE,
	    TUNNEL_MAX_BODY + 1);
	assert_int_equal(e->n.wk->st.tx_dropped, 3);
	assert_int_equal(e->t->tx_counter, 2); /* no counter used */
	assert_int_equal(tunnel_send(&e->n, e->t, HDR_TEST,
	                     HDR_SUB_TEST_REPLY, big, TUNNEL_MAX_BODY),
	    0);
	assert_int_equal(io_flush(e->n.wk->udp), 0);
	assert_int_equal(io_udp_stats(e->n.wk->udp)->tx_packets, 1);
	assert_int_equal(io_udp_stats(e->n.wk->udp)->tx_errors, 0);
	for (tries = 0; g.n < 1 && tries < 1000; tries++)
		assert_true(udp_recv_batch(e->peer, rx, &g) >= 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.len, UDP_MAX_PACKET);
	header_parse(&h, g.buf, g.len);
	assert_int_equal(h.type, HDR_TEST);
	assert_int_equal(h.remote_index, 77);
	assert_int_equal(crypto_aead_open1(CRYPTO_AES256GCM, e->t->ktx,
	                     h.counter, g.buf, HEADER_LEN, g.buf + HEADER_LEN,
	                     g.len - HEADER_LEN, g.buf + HEADER_LEN),
	    0);
	assert_memory_equal(g.buf + HEADER_LEN, big, TUNNEL_MAX_BODY);
	free(big);
}

/* How often needle occurs in hay. */
static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

/*
 * A scan of the overlay starts at most handshakes.max_pending handshakes
 * (counted when refused; our lighthouse is never refused), and the
 * packets queued behind them stay within handshakes.max_queued_bytes and
 * TUNNEL_MAX_BODY each; every byte is given back when they go.  Each
 * bound is warned about, at most once every 10 s.
 */
static void
test_tunnel_pending_bounded(void **state)
{
	struct env *e = *state;
	uint8_t pkt[1000];
	FILE *logf = tmpfile();
	char *text;
	size_t len;
	uint32_t ip;
	int i;

	assert_non_null(logf);
	log_setup(logf, LOG_LVL_INFO, LOG_FMT_TEXT);
	memset(pkt, 0x45, sizeof(pkt));
	for (ip = 0x0a000010; ip < 0x0a000010 + 100; ip++)
		hs_start(&e->n, ip, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE, pkt, 100);
	assert_int_equal(hostmap_pending(e->n.hm), 3);
	assert_int_equal(hs_stats(e->n.hs)->pending_full, 97);
	assert_int_equal(hs_stats(e->n.hs)->started, 3);
	assert_int_equal(hostmap_held_bytes(e->n.hm), 300);
	/* a lighthouse still gets its handshake (with one configured, each
	 * new handshake above would also have queried it) */
	e->cfg.lighthouses[0] = LH_IP;
	e->cfg.nlighthouses = 1;
	hs_start(&e->n, LH_IP, HDR_LIGHTHOUSE, 0, pkt, 10);
	assert_int_equal(hostmap_pending(e->n.hm), 4);
	assert_int_equal(hostmap_held_bytes(e->n.hm), 310);
	/* queued bytes: 2,690 left of 3,000 */
	for (i = 0; i < 4; i++)
		hs_start(&e->n, 0x0a000010, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE,
		    pkt, sizeof(pkt));
	assert_int_equal(hostmap_held_bytes(e->n.hm), 2310);
	assert_int_equal(hs_stats(e->n.hs)->queue_full, 2);
	/* nothing longer than a sealed packet can carry is queued */
	hs_start(&e->n, 0x0a000011, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE, pkt,
	    TUNNEL_MAX_BODY + 1);
	assert_int_equal(hs_stats(e->n.hs)->queue_full, 3);
	/* 97 refusals and 3 drops: one warning of each */
	fflush(logf);
	len = (size_t)ftell(logf);
	rewind(logf);
	assert_non_null(text = calloc(1, len + 1));
	assert_int_equal(fread(text, 1, len, logf), len);
	log_setup(stderr, LOG_LVL_ERROR, LOG_FMT_TEXT);
	fclose(logf);
	assert_int_equal(count(text, "Reached the pending handshake limit"), 1);
	assert_int_equal(count(text, "Packet dropped while a handshake runs"),
	    1);
	/* the first drop, the one said: the byte bound */
	assert_non_null(
	    strstr(text, "reason=\"handshakes.max_queued_bytes reached\""));
	free(text);
	handshakes_free(&e->n, e->n.hs);
	e->n.hs = NULL;
	assert_int_equal(hostmap_pending(e->n.hm), 0);
	assert_int_equal(hostmap_held_bytes(e->n.hm), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_tunnel_send_refuses_overlong, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tunnel_pending_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
