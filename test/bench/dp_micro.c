/*
 * test/bench/dp_micro.c: microbenchmark of the per-packet data path.
 *
 * Two nodes with the real certificates of test/fixtures/nebula-1.6.1
 * (host-b, groups laptop and home, sends to host-a, groups servers and
 * web), one firewall table each from the same rules, a conntrack table
 * each, and one tunnel between them keyed as a handshake would leave it
 * (transport AEAD contexts, replay window with 1 and 2 seen, tx counter
 * at 2).  Each round, host-b sends a batch of IPv4 TCP packets of one
 * flow (192.168.100.20:40000 -> 192.168.100.10:443) and host-a receives
 * them; a scenario times one of the two sides:
 *
 *   tx         host-b, outbound, per packet: tunnel by destination IP
 *              (u32map), ippkt_parse, fw_decide_why (conntrack hit),
 *              header_encode, AEAD seal in place (dp_send_data and
 *              tunnel_seal_slot without the UDP queueing)
 *   rx         host-a, inbound, per packet: header_parse, tunnel by
 *              index (u32map), replay_check, AEAD open in place,
 *              replay_update, ippkt_parse, fw_decide_why (conntrack hit
 *              of a flow that "port: any, proto: any, group: laptop" let
 *              in) (dp_rx without roaming and the TUN write)
 *
 * with 1300-byte packets (tun.mtu 1300) and AES-256-GCM; the -small
 * scenarios use 64-byte packets, so that the fixed cost per packet shows,
 * and the -chacha ones ChaCha20-Poly1305.  With TCP segmentation offload
 * (lib/offload.h, a TUN opened with IFF_VNET_HDR), AES-256-GCM:
 *
 *   tx-tso     host-b, per TCP/IPv4 super-segment of 52 segments of
 *              1248 bytes (gso_size; 20 + 20 + 12 bytes of timestamp
 *              option + 1248 = 1300 on the wire; 64948 bytes in all) with
 *              its virtio-net header (NEEDS_CSUM, TCPV4, hdr_len 52,
 *              csum_start 20, csum_offset 16): tso_start, tunnel by
 *              destination IP, ippkt_parse and fw_decide_why ONCE, then
 *              per segment tso_next straight into its slot at slot +
 *              HEADER_LEN (headers, IPv4 and TCP checksums), header_encode
 *              and AEAD seal in place (dp_tx_super)
 *   rx-gro     host-a, per segment: the rx path above, then gro_add into
 *              a struct gro whose output only counts (and keeps the
 *              iovecs for the check; no writev); gro_flush at the end of
 *              the round, the receive batch here (dp_rx, on_udp)
 *
 * both counted per segment (wire packet); a round is 5 super-segments,
 * 260 segments.  Every round, what host-a's coalescer wrote must be one
 * write per super-segment, all 52 segments joined, with the virtio-net
 * header host-b's kernel gave and the super-segment host-b was given,
 * byte for byte (headers, partial TCP checksum and payload; the first
 * segment in place in its slot), or the program exits 1.
 *
 * The packets (or super-segments) are written before the timed loop, as
 * the TUN read and recvmmsg would leave them, and each loop seals or
 * opens them in place, so nothing is copied inside it but by tso_next,
 * which cuts into the slots as the node does.  A warm-up round
 * runs first (the first packet of the flow goes through the rules and
 * is tracked, OpenSSL settles), then every round is checked: every packet
 * must pass, every firewall decision be a conntrack hit, and the
 * plaintext host-a gets back must be the packet host-b sent; otherwise
 * the program exits 1.  The packet clock is synthetic (1 us per packet).
 *
 *   make build/rel/dp_micro
 *   build/rel/dp_micro [-n rounds] [-only SCENARIO] [-fixtures DIR]
 *
 * Instructions per packet: the timed loops toggle callgrind's collection
 * (when <valgrind/callgrind.h> was found at build time), so run one
 * scenario with collection off at start and divide "Collected" by the
 * packets it prints (test/bench/dp_micro.sh does):
 *
 *   valgrind --tool=callgrind --collect-atstart=no \
 *       build/rel/dp_micro -n 4 -only rx
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "config.h"
#include "conntrack.h"
#include "crypto.h"
#include "csum.h"
#include "err.h"
#include "fileio.h"
#include "firewall.h"
#include "header.h"
#include "ippkt.h"
#include "offload.h"
#include "pki.h"
#include "replay.h"
#include "u32map.h"
#include "wire.h"

/* Instructions per packet: count only the timed loops under callgrind. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_TOGGLE_COLLECT
#define CALLGRIND_TOGGLE_COLLECT
#endif

#define BATCH 256         /* packets per round */
#define MTU 1300          /* tun.mtu */
#define SLOT 1344         /* HEADER_LEN + MTU + tag, rounded up to 64 */
#define NOW 1893456000    /* 2030-01-01: the fixtures are valid then */
#define TX_IP 0xc0a86414u /* 192.168.100.20, host-b */
#define RX_IP 0xc0a8640au /* 192.168.100.10, host-a */
#define TX_PORT 40000
#define RX_PORT 443

/*
 * TSO: host-b's kernel hands over TCP super-segments of TSO_SEGS segments
 * of TSO_MSS bytes (gso_size), each with a 12-byte timestamp option as
 * Linux sends it, so that every segment is MTU bytes long; TSO_SEGS is
 * as many as fit in one IPv4 packet (52 * 1248 + 52 = 64948 <= 65535).
 * A round is TSO_SUPERS super-segments.
 */
#define TSO_OPT 12                 /* NOP, NOP, timestamp */
#define TSO_HL (20 + 20 + TSO_OPT) /* IPv4 + TCP headers */
#define TSO_MSS (MTU - TSO_HL)     /* 1248 */
#define TSO_SEGS ((OFFLOAD_MAX - TSO_HL) / TSO_MSS)
#define TSO_LEN (TSO_HL + TSO_SEGS * TSO_MSS)
#define TSO_SUPERS 5                   /* per round: 260 segments */
#define TSO_STRIDE 65536               /* one super-segment's buffer */
#define NSLOTS (TSO_SUPERS * TSO_SEGS) /* >= BATCH */

_Static_assert(TSO_SEGS == 52 && TSO_LEN <= OFFLOAD_MAX, "TSO geometry");
_Static_assert(TSO_SEGS <= GRO_SEGS, "one super-segment per GRO write");
_Static_assert(NSLOTS >= BATCH, "the slots hold a round of either kind");

/* Both nodes load these rules; host-a's inbound ones decide. */
static const char rules[] =
    "firewall:\n"
    "  conntrack:\n"
    "    tcp_timeout: 12m\n"
    "    udp_timeout: 3m\n"
    "    default_timeout: 10m\n"
    "  outbound:\n"
    "    - {port: any, proto: any, host: any}\n"
    "  inbound:\n"
    "    - {port: any, proto: icmp, host: any}\n"
    "    - {port: 22, proto: tcp, group: admin}\n"
    "    - {port: 443, proto: tcp, groups: [servers, web]}\n"
    "    - {port: 5432, proto: tcp, group: db-clients}\n"
    "    - {port: 53, proto: udp, host: any}\n"
    "    - {port: 9100, proto: tcp, host: monitor}\n"
    "    - {port: any, proto: any, group: laptop}\n";

struct scen {
	const char *name;
	bool rx;    /* time the receiving side, else the sending one */
	size_t len; /* IPv4 packet */
	enum crypto_cipher cipher;
	bool tso; /* super-segments out (TSO), coalesced in (GRO) */
};

static const struct scen scens[] = {
    {"tx", false, MTU, CRYPTO_AES256GCM, false},
    {"rx", true, MTU, CRYPTO_AES256GCM, false},
    {"tx-small", false, 64, CRYPTO_AES256GCM, false},
    {"rx-small", true, 64, CRYPTO_AES256GCM, false},
    {"tx-chacha", false, MTU, CRYPTO_CHACHAPOLY, false},
    {"rx-chacha", true, MTU, CRYPTO_CHACHAPOLY, false},
    {"tx-tso", false, MTU, CRYPTO_AES256GCM, true},
    {"rx-gro", true, MTU, CRYPTO_AES256GCM, true},
};
#define NSCENS (sizeof(scens) / sizeof(scens[0]))

/* What the node keeps per tunnel, for the data path. */
struct btun {
	struct fw_peer fwp; /* not to be copied: init and clear in place */
	struct ct_owner ct_own; /* its conntrack entries, as the node's */
	struct crypto_aead *tx, *rx;
	struct replay win;
	uint64_t tx_counter;
	uint32_t local_index, remote_index;
};

struct bnode {
	const char *name;
	struct cert *cert;
	struct fw *fw;
	struct conntrack *ct;
	struct u32map by_ip, by_index;
	struct btun t; /* the one tunnel, to the other node */
	int64_t now;   /* synthetic monotonic clock, ns */
	uint64_t hits; /* conntrack hits */
};

/* Why a packet did not make it through. */
enum dp_fail {
	DP_OK = 0,
	DP_NO_TUNNEL,
	DP_BAD_PACKET,
	DP_FIREWALL,
	DP_SEAL,
	DP_HEADER,
	DP_INDEX,
	DP_REPLAY,
	DP_OPEN,
	DP_REPLAY_UPDATE,
	DP_TSO,
};

static const char *const fail_str[] = {"ok", "no tunnel for the destination",
    "ippkt_parse refused the packet", "the firewall refused the packet",
    "crypto_aead_seal failed", "not a message header",
    "no tunnel for the index", "replay_check refused the counter",
    "crypto_aead_open failed (bad tag)", "replay_update refused the counter",
    "tso_start refused the super-segment, or it has too many segments"};

static const char *fixtures = "test/fixtures/nebula-1.6.1";

static __attribute__((noreturn)) void
die(const char *what, int r)
{
	fprintf(stderr, "dp_micro: %s: %d %s\n", what, r, vpn_strerror(r));
	exit(1);
}

static __attribute__((noreturn)) void
diex(const char *what, const char *msg)
{
	fprintf(stderr, "dp_micro: %s: %s\n", what, msg);
	exit(1);
}

static char *
load(const char *file, size_t *len)
{
	char path[1024], errbuf[512], *data = NULL;

	snprintf(path, sizeof(path), "%s/%s", fixtures, file);
	if (fileio_read(path, FILEIO_MAX, &data, len, errbuf, sizeof(errbuf)) !=
	    0)
		diex(errbuf, "see -fixtures");
	return data;
}

static struct cert *
load_cert(const char *file, const struct ca_pool *pool)
{
	struct cert *c = NULL;
	char detail[128];
	size_t len;
	char *pem = load(file, &len);
	int r;

	if ((r = cert_from_pem(pem, len, &c, NULL)) != 0)
		die(file, r);
	if ((r = ca_pool_verify(pool, c, NOW, detail, sizeof(detail))) != 0)
		die(file, r);
	free(pem);
	return c;
}

static void
be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Packet number seq of the flow, len bytes, as host-b's TUN gives it. */
static void
mkpkt(uint8_t *p, size_t len, uint32_t seq)
{
	size_t i;

	memset(p, 0, 40);
	p[0] = 0x45;
	be16_put(p + 2, (uint16_t)len);
	be16_put(p + 4, (uint16_t)seq); /* id */
	p[6] = 0x40;                    /* DF */
	p[8] = 64;
	p[9] = IPPKT_PROTO_TCP;
	be32_put(p + 12, TX_IP);
	be32_put(p + 16, RX_IP);
	be16_put(p + 10, ippkt_cksum(p, 20, 0));
	be16_put(p + 20, TX_PORT);
	be16_put(p + 22, RX_PORT);
	be32_put(p + 24, 1000 + seq * (uint32_t)(len - 40));
	be32_put(p + 28, 77);
	p[32] = 5 << 4;
	p[33] = 0x18; /* PSH, ACK */
	be16_put(p + 34, 502);
	for (i = 40; i < len; i++)
		p[i] = (uint8_t)(seq * 7 + i * 131);
}

/*
 * Super-segment number q of the TSO flow, as host-b's TUN gives it with
 * IFF_VNET_HDR: TSO_LEN bytes, IPv4 header checksum set, the TCP checksum
 * field holding the pseudo-header sum (VNET_F_NEEDS_CSUM), PSH and ACK.
 */
static void
mksuper(uint8_t *p, uint32_t q)
{
	static const uint8_t tcp[2] = {0, IPPKT_PROTO_TCP};
	uint8_t tl[2];
	uint16_t sum;
	size_t i;

	memset(p, 0, TSO_HL);
	p[0] = 0x45;
	be16_put(p + 2, (uint16_t)TSO_LEN);
	be16_put(p + 4, (uint16_t)(q * TSO_SEGS)); /* id */
	p[6] = 0x40;                               /* DF */
	p[8] = 64;
	p[9] = IPPKT_PROTO_TCP;
	be32_put(p + 12, TX_IP);
	be32_put(p + 16, RX_IP);
	be16_put(p + 10, ippkt_cksum(p, 20, 0));
	be16_put(p + 20, TX_PORT);
	be16_put(p + 22, RX_PORT);
	be32_put(p + 24, 1000 + q * (uint32_t)(TSO_SEGS * TSO_MSS));
	be32_put(p + 28, 77);
	p[32] = (TSO_HL - 20) / 4 << 4;
	p[33] = 0x18; /* PSH, ACK */
	be16_put(p + 34, 502);
	p[40] = p[41] = 1; /* NOP */
	p[42] = 8;         /* timestamp */
	p[43] = 10;
	be32_put(p + 44, 5000 + q); /* TSval */
	be32_put(p + 48, 4000);     /* TSecr */
	be16_put(tl, (uint16_t)(TSO_LEN - 20));
	sum = csum_fold(
	    csum_add(csum_add(csum_add(0, p + 12, 8), tcp, 2), tl, 2));
	memcpy(p + 36, &sum, 2);
	for (i = TSO_HL; i < TSO_LEN; i++)
		p[i] = (uint8_t)(q * 7 + i * 131 + (i >> 8));
}

static void
node_init(struct bnode *n, const char *name, const char *certfile,
    const struct config *cfg, const struct ca_pool *pool)
{
	struct config_err err;
	int r;

	memset(n, 0, sizeof(*n));
	n->name = name;
	n->cert = load_cert(certfile, pool);
	if ((r = fw_build(cfg, n->cert, 1, &n->fw, &err)) != 0) {
		fprintf(stderr, "%s: %s\n", err.key, err.msg);
		die("fw_build", r);
	}
	if ((r = conntrack_new(0, &n->ct)) != 0)
		die("conntrack_new", r);
	u32map_init(&n->by_ip);
	u32map_init(&n->by_index);
	n->now = INT64_C(1000000000);
}

/* Bring up n's tunnel to peer as the handshake would. */
static void
tunnel_up(struct bnode *n, const struct bnode *peer, uint32_t local_index,
    uint32_t remote_index, enum crypto_cipher c, const uint8_t ktx[32],
    const uint8_t krx[32], const struct ca_pool *pool)
{
	struct btun *t = &n->t;
	int r;

	if ((r = crypto_aead_new(c, ktx, true, &t->tx)) != 0 ||
	    (r = crypto_aead_new(c, krx, false, &t->rx)) != 0)
		die("crypto_aead_new", r);
	if ((r = fw_peer_init(&t->fwp, n->fw, peer->cert, pool)) != 0)
		die("fw_peer_init", r);
	conntrack_owner_init(&t->ct_own);
	t->local_index = local_index;
	t->remote_index = remote_index;
	t->tx_counter = 2; /* 1 and 2 were the handshake */
	replay_init(&t->win);
	replay_update(&t->win, 1);
	replay_update(&t->win, 2);
	if ((r = u32map_put(&n->by_ip, peer->cert->ips[0].addr, t)) != 0 ||
	    (r = u32map_put(&n->by_index, local_index, t)) != 0)
		die("u32map_put", r);
}

static void
node_free(struct bnode *n)
{
	crypto_aead_free(n->t.tx);
	crypto_aead_free(n->t.rx);
	fw_peer_clear(&n->t.fwp);
	u32map_free(&n->by_ip);
	u32map_free(&n->by_index);
	conntrack_free(n->ct);
	fw_free(n->fw);
	cert_free(n->cert);
}

/* The outbound packet's tunnel (by destination) and the firewall's
 * verdict on it, as the node judges a packet or a super-segment. */
static inline __attribute__((always_inline)) enum dp_fail
dp_route(struct bnode *n, const uint8_t *p, size_t len, struct btun **t)
{
	struct fw_packet fp;
	enum fw_why why;

	if ((*t = u32map_get(&n->by_ip, be32_get(p + 16))) == NULL)
		return DP_NO_TUNNEL;
	if (ippkt_parse(p, len, false, &fp) != 0)
		return DP_BAD_PACKET;
	n->now += 1000;
	if (fw_decide_why(n->fw, n->ct, false, &fp, &(*t)->fwp, &(*t)->ct_own, n->now,
	        &why) != FW_ACCEPT)
		return DP_FIREWALL;
	n->hits += why == FW_WHY_CONNTRACK;
	return DP_OK;
}

/*
 * The send path for one packet at slot + HEADER_LEN, len bytes: on
 * success the slot holds the datagram, HEADER_LEN + len + 16 bytes.
 */
static enum dp_fail
dp_tx(struct bnode *n, uint8_t *slot, size_t len)
{
	const uint8_t *p = slot + HEADER_LEN;
	struct btun *t;
	enum dp_fail f;
	uint64_t ctr;

	if ((f = dp_route(n, p, len, &t)) != DP_OK)
		return f;
	ctr = ++t->tx_counter;
	header_encode(
	    slot, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE, t->remote_index, ctr);
	if (crypto_aead_seal(t->tx, ctr, slot, HEADER_LEN, slot + HEADER_LEN,
	        len, slot + HEADER_LEN) != 0)
		return DP_SEAL;
	return DP_OK;
}

/* The receive path for one datagram of len bytes, opened in place
 * (inlined into both receive loops, as when run_rx was its only caller). */
static inline __attribute__((always_inline)) enum dp_fail
dp_rx(struct bnode *n, uint8_t *pkt, size_t len)
{
	struct fw_packet fp;
	struct header h;
	struct btun *t;
	enum fw_why why;
	size_t clen;

	if (header_parse(&h, pkt, len) != 0 || h.type != HDR_MESSAGE ||
	    h.subtype != HDR_SUB_MESSAGE_NONE)
		return DP_HEADER;
	if ((t = u32map_get(&n->by_index, h.remote_index)) == NULL)
		return DP_INDEX;
	if (!replay_check(&t->win, h.counter))
		return DP_REPLAY;
	clen = len - HEADER_LEN;
	if (clen < CRYPTO_AEAD_TAG_LEN ||
	    crypto_aead_open(t->rx, h.counter, pkt, HEADER_LEN,
	        pkt + HEADER_LEN, clen, pkt + HEADER_LEN) != 0)
		return DP_OPEN;
	if (!replay_update(&t->win, h.counter))
		return DP_REPLAY_UPDATE;
	if (ippkt_parse(
	        pkt + HEADER_LEN, clen - CRYPTO_AEAD_TAG_LEN, true, &fp) != 0)
		return DP_BAD_PACKET;
	n->now += 1000;
	if (fw_decide_why(n->fw, n->ct, true, &fp, &t->fwp, &t->ct_own, n->now, &why) !=
	    FW_ACCEPT)
		return DP_FIREWALL;
	n->hits += why == FW_WHY_CONNTRACK;
	return DP_OK;
}

/* The timed loops: the packets done before the first failure (*fail). */
__attribute__((noinline)) static size_t
run_tx(struct bnode *n, uint8_t *slots, size_t len, enum dp_fail *fail)
{
	size_t i;

	for (i = 0; i < BATCH; i++)
		if ((*fail = dp_tx(n, slots + i * SLOT, len)) != DP_OK)
			break;
	return i;
}

__attribute__((noinline)) static size_t
run_rx(struct bnode *n, uint8_t *slots, size_t len, enum dp_fail *fail)
{
	size_t i;

	for (i = 0; i < BATCH; i++)
		if ((*fail = dp_rx(n, slots + i * SLOT,
		         HEADER_LEN + len + CRYPTO_AEAD_TAG_LEN)) != DP_OK)
			break;
	return i;
}

/*
 * The send path for one super-segment (dp_tx_super): the firewall judges
 * it once, then each segment is cut straight into its slot at slot +
 * HEADER_LEN and sealed there.  lens[i]: the length of segment i; *nseg:
 * the segments sealed, at most max (the slots left).
 */
static enum dp_fail
dp_tx_super(struct bnode *n, const struct vnet_hdr *h, const uint8_t *p,
    size_t len, uint8_t *slot, size_t *lens, size_t max, size_t *nseg)
{
	struct btun *t;
	struct tso s;
	enum dp_fail f;
	uint64_t ctr;
	size_t sl;

	*nseg = 0;
	/* a segment longer than MTU, or more segments than slots left */
	if (tso_start(&s, p, len, h) != 0 || s.hl + s.mss > MTU ||
	    (len - s.hl + s.mss - 1) / s.mss > max)
		return DP_TSO;
	if ((f = dp_route(n, p, len, &t)) != DP_OK)
		return f;
	for (; (sl = tso_next(&s, slot + HEADER_LEN)) != 0; slot += SLOT) {
		ctr = ++t->tx_counter;
		header_encode(slot, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE,
		    t->remote_index, ctr);
		if (crypto_aead_seal(t->tx, ctr, slot, HEADER_LEN,
		        slot + HEADER_LEN, sl, slot + HEADER_LEN) != 0)
			return DP_SEAL;
		lens[(*nseg)++] = sl;
	}
	return DP_OK;
}

/* The TSO loop: the segments sealed before the first failure. */
__attribute__((noinline)) static size_t
run_tso(struct bnode *n, const struct vnet_hdr *h, const uint8_t *sup,
    uint8_t *slots, size_t *lens, enum dp_fail *fail)
{
	size_t i, k, done = 0;

	for (i = 0; i < TSO_SUPERS; i++) {
		*fail = dp_tx_super(n, h, sup + i * TSO_STRIDE, TSO_LEN,
		    slots + done * SLOT, lens + done, NSLOTS - done, &k);
		done += k;
		if (*fail != DP_OK)
			break;
	}
	return done;
}

/* What host-a's coalescer wrote in a round, in place of the TUN device. */
struct gro_write {
	int iovcnt;
	uint8_t hdr[VNET_HDR_LEN];
	struct iovec iov[GRO_SEGS + 1];
};

struct sink {
	uint64_t writes, iovecs, bytes;
	size_t nlog;
	struct gro_write log[TSO_SUPERS];
};

/*
 * tun_deliver (node.c) without the writev: count, and keep the iovecs
 * (the header is gro's, rewritten at each write) for the check after the
 * round.
 */
static void
sink_out(void *arg, struct iovec *iov, int iovcnt)
{
	struct sink *k = arg;
	struct gro_write *w;
	int i;

	k->writes++;
	k->iovecs += (uint64_t)iovcnt;
	for (i = 0; i < iovcnt; i++)
		k->bytes += iov[i].iov_len;
	if (k->nlog == TSO_SUPERS || iovcnt < 1 || iovcnt > GRO_SEGS + 1 ||
	    iov[0].iov_len != VNET_HDR_LEN)
		return; /* the check finds the count wrong */
	w = &k->log[k->nlog++];
	w->iovcnt = iovcnt;
	memcpy(w->hdr, iov[0].iov_base, VNET_HDR_LEN);
	memcpy(w->iov, iov, (size_t)iovcnt * sizeof(*iov));
}

/*
 * The receive path of a batch of nseg segments with coalescing: each
 * goes through dp_rx, then gro_add (on_udp_packet with a TUN opened
 * with IFF_VNET_HDR); gro_flush at the end of the batch (on_udp).
 */
__attribute__((noinline)) static size_t
run_rx_gro(struct bnode *n, struct gro *g, struct sink *k, uint8_t *slots,
    const size_t *lens, size_t nseg, enum dp_fail *fail)
{
	uint8_t *slot;
	size_t i;

	for (i = 0; i < nseg; i++) {
		slot = slots + i * SLOT;
		if ((*fail = dp_rx(n, slot,
		         HEADER_LEN + lens[i] + CRYPTO_AEAD_TAG_LEN)) != DP_OK)
			break;
		gro_add(g, slot + HEADER_LEN, lens[i], sink_out, k);
	}
	gro_flush(g, sink_out, k);
	return i;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
check_side(const struct bnode *n, size_t done, size_t want, enum dp_fail fail,
    const struct scen *s)
{
	if (done == want)
		return;
	if (fail == DP_OK)
		fprintf(stderr, "dp_micro: %s: %s: %zu packets, not %zu\n",
		    s->name, n->name, done, want);
	else
		fprintf(stderr, "dp_micro: %s: %s: packet %zu: %s\n", s->name,
		    n->name, done, fail_str[fail]);
	exit(1);
}

/*
 * One round: host-b's packets into the slots, host-b sends them, host-a
 * receives them, and the plaintext must be what was sent.  timed: toggle
 * collection around the scenario's side; returns its wall-clock ns.
 */
static double
round_run(struct bnode *tx, struct bnode *rx, uint8_t *slots,
    const struct scen *s, uint32_t *seq, bool timed)
{
	uint8_t want[MTU];
	enum dp_fail fail = DP_OK;
	bool ttx = timed && !s->rx, trx = timed && s->rx;
	double t0, t1, t2, t3;
	size_t i, done;

	for (i = 0; i < BATCH; i++)
		mkpkt(
		    slots + i * SLOT + HEADER_LEN, s->len, *seq + (uint32_t)i);

	t0 = now_ns();
	if (ttx)
		CALLGRIND_TOGGLE_COLLECT;
	done = run_tx(tx, slots, s->len, &fail);
	if (ttx)
		CALLGRIND_TOGGLE_COLLECT;
	t1 = now_ns();
	check_side(tx, done, BATCH, fail, s);

	t2 = now_ns();
	if (trx)
		CALLGRIND_TOGGLE_COLLECT;
	done = run_rx(rx, slots, s->len, &fail);
	if (trx)
		CALLGRIND_TOGGLE_COLLECT;
	t3 = now_ns();
	check_side(rx, done, BATCH, fail, s);

	for (i = 0; i < BATCH; i++) {
		mkpkt(want, s->len, *seq + (uint32_t)i);
		if (memcmp(slots + i * SLOT + HEADER_LEN, want, s->len) != 0) {
			fprintf(stderr,
			    "dp_micro: %s: packet %zu: host-a "
			    "decrypted something else\n",
			    s->name, i);
			exit(1);
		}
	}
	*seq += BATCH;
	return s->rx ? t3 - t2 : t1 - t0;
}

/* The buffers and state of the TSO scenarios. */
struct tsoctx {
	uint8_t *slots; /* NSLOTS */
	uint8_t *sup;   /* TSO_SUPERS super-segments, TSO_STRIDE apart */
	size_t lens[NSLOTS];
	struct vnet_hdr vh; /* what host-b's kernel gives with them */
	struct gro g;       /* host-a's coalescer */
	struct sink k;
};

static __attribute__((noreturn)) void
gro_fail(const struct scen *s, size_t i, const char *what)
{
	fprintf(
	    stderr, "dp_micro: %s: host-a's write %zu: %s\n", s->name, i, what);
	exit(1);
}

/*
 * What host-a's coalescer wrote must be host-b's super-segments: one
 * write each, every segment joined, the same virtio-net header, the
 * first packet in place in its slot, and the headers and payload byte
 * for byte (the partial TCP checksum included).
 */
static void
gro_check(const struct tsoctx *x, const struct scen *s, uint64_t joined)
{
	uint8_t hdr[VNET_HDR_LEN];
	const struct gro_write *w;
	const uint8_t *sup;
	size_t i, j, off, len;

	if (x->k.writes != TSO_SUPERS || x->k.nlog != TSO_SUPERS ||
	    x->k.iovecs != TSO_SUPERS * (TSO_SEGS + 1) ||
	    x->k.bytes != TSO_SUPERS * (uint64_t)(VNET_HDR_LEN + TSO_LEN) ||
	    joined != NSLOTS) {
		fprintf(stderr,
		    "dp_micro: %s: host-a's coalescer wrote %llu times, "
		    "%llu iovecs, %llu bytes, %llu segments joined; want %d, "
		    "%d, %d, %d\n",
		    s->name, (unsigned long long)x->k.writes,
		    (unsigned long long)x->k.iovecs,
		    (unsigned long long)x->k.bytes, (unsigned long long)joined,
		    TSO_SUPERS, TSO_SUPERS * (TSO_SEGS + 1),
		    TSO_SUPERS * (VNET_HDR_LEN + TSO_LEN), NSLOTS);
		exit(1);
	}
	vnet_hdr_put(hdr, &x->vh);
	for (i = 0; i < TSO_SUPERS; i++) {
		w = &x->k.log[i];
		sup = x->sup + i * TSO_STRIDE;
		if (w->iovcnt != TSO_SEGS + 1)
			gro_fail(s, i, "not one super-segment");
		if (memcmp(w->hdr, hdr, VNET_HDR_LEN) != 0)
			gro_fail(s, i, "another virtio-net header");
		if (w->iov[1].iov_base !=
		    x->slots + i * TSO_SEGS * SLOT + HEADER_LEN)
			gro_fail(s, i, "not the first segment in its slot");
		for (j = 1, off = 0; j < (size_t)w->iovcnt; j++) {
			len = w->iov[j].iov_len;
			if (len > TSO_LEN - off ||
			    memcmp(w->iov[j].iov_base, sup + off, len) != 0)
				gro_fail(s, i, "not what host-b sent");
			off += len;
		}
		if (off != TSO_LEN)
			gro_fail(s, i, "shorter than what host-b sent");
	}
}

/*
 * One TSO round: host-b's super-segments into their buffers, host-b
 * cuts and seals them, host-a opens and coalesces the segments, and what
 * it writes must be what host-b was given.  As round_run otherwise.
 */
static double
round_tso(struct bnode *tx, struct bnode *rx, struct tsoctx *x,
    const struct scen *s, uint32_t *seq, bool timed)
{
	enum dp_fail fail = DP_OK;
	bool ttx = timed && !s->rx, trx = timed && s->rx;
	uint64_t joined = x->g.joined;
	double t0, t1, t2, t3;
	size_t i, done;

	for (i = 0; i < TSO_SUPERS; i++)
		mksuper(x->sup + i * TSO_STRIDE, *seq / TSO_SEGS + (uint32_t)i);
	memset(&x->k, 0, sizeof(x->k));

	t0 = now_ns();
	if (ttx)
		CALLGRIND_TOGGLE_COLLECT;
	done = run_tso(tx, &x->vh, x->sup, x->slots, x->lens, &fail);
	if (ttx)
		CALLGRIND_TOGGLE_COLLECT;
	t1 = now_ns();
	check_side(tx, done, NSLOTS, fail, s);

	t2 = now_ns();
	if (trx)
		CALLGRIND_TOGGLE_COLLECT;
	done = run_rx_gro(rx, &x->g, &x->k, x->slots, x->lens, NSLOTS, &fail);
	if (trx)
		CALLGRIND_TOGGLE_COLLECT;
	t3 = now_ns();
	check_side(rx, done, NSLOTS, fail, s);

	gro_check(x, s, x->g.joined - joined);
	*seq += NSLOTS;
	return s->rx ? t3 - t2 : t1 - t0;
}

static void
scen_run(const struct scen *s, int rounds, const struct config *cfg,
    const struct ca_pool *pool, uint8_t *slots)
{
	struct bnode *a, *b;
	struct tsoctx *x = NULL;
	uint8_t kab[CRYPTO_AEAD_KEY_LEN], kba[CRYPTO_AEAD_KEY_LEN];
	/* per round: packets (segments), host-b's decisions */
	size_t per = s->tso ? NSLOTS : BATCH;
	size_t txd = s->tso ? TSO_SUPERS : BATCH;
	uint64_t npkts = (uint64_t)rounds * per;
	uint32_t seq = 0;
	double dt = 0;
	int i, r;

	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (b = calloc(1, sizeof(*b))) == NULL)
		die("calloc", VPN_ERR_NOMEM);
	if (s->tso) {
		if ((x = calloc(1, sizeof(*x))) == NULL)
			die("calloc", VPN_ERR_NOMEM);
		if ((x->sup = aligned_alloc(64, TSO_SUPERS * TSO_STRIDE)) ==
		    NULL)
			die("aligned_alloc", VPN_ERR_NOMEM);
		x->slots = slots;
		x->vh.flags = VNET_F_NEEDS_CSUM;
		x->vh.gso_type = VNET_GSO_TCPV4;
		x->vh.hdr_len = TSO_HL;
		x->vh.gso_size = TSO_MSS;
		x->vh.csum_start = 20;
		x->vh.csum_offset = 16;
		gro_init(&x->g);
	}
	if ((r = crypto_random(kab, sizeof(kab))) != 0 ||
	    (r = crypto_random(kba, sizeof(kba))) != 0)
		die("crypto_random", r);
	node_init(b, "host-b (tx)", "host-b.crt", cfg, pool);
	node_init(a, "host-a (rx)", "host-a.crt", cfg, pool);
	tunnel_up(b, a, 0x0b0b0b0bu, 0x0a0a0a0au, s->cipher, kba, kab, pool);
	tunnel_up(a, b, 0x0a0a0a0au, 0x0b0b0b0bu, s->cipher, kab, kba, pool);

	/* Warm-up: the flow's first packet is decided by the rules. */
	if (s->tso)
		(void)round_tso(b, a, x, s, &seq, false);
	else
		(void)round_run(b, a, slots, s, &seq, false);
	if (b->hits != txd - 1 || a->hits != per - 1)
		diex(s->name, "the warm-up round did not track the flow once");
	a->hits = b->hits = 0;

	for (i = 0; i < rounds; i++)
		dt += s->tso ? round_tso(b, a, x, s, &seq, true)
		             : round_run(b, a, slots, s, &seq, true);
	if (a->hits != npkts || b->hits != (uint64_t)rounds * txd)
		diex(s->name, "a decision was not a conntrack hit");
	if (s->tso)
		printf("%-10s %4zu B %-10s %8.1f ns/packet  (%llu packets, "
		       "%llu super-segments of %d, 100%% conntrack hits, all "
		       "decrypted and coalesced back)\n",
		    s->name, s->len,
		    s->cipher == CRYPTO_AES256GCM ? "aes-gcm" : "chachapoly",
		    dt / (double)npkts, (unsigned long long)npkts,
		    (unsigned long long)rounds * TSO_SUPERS, TSO_SEGS);
	else
		printf("%-10s %4zu B %-10s %8.1f ns/packet  (%llu packets, "
		       "100%% conntrack hits, all decrypted and accepted)\n",
		    s->name, s->len,
		    s->cipher == CRYPTO_AES256GCM ? "aes-gcm" : "chachapoly",
		    dt / (double)npkts, (unsigned long long)npkts);

	if (x != NULL)
		free(x->sup);
	free(x);
	node_free(a);
	node_free(b);
	free(a);
	free(b);
	crypto_cleanse(kab, sizeof(kab));
	crypto_cleanse(kba, sizeof(kba));
}

static __attribute__((noreturn)) void
usage(void)
{
	size_t i;

	fprintf(stderr, "usage: dp_micro [-n rounds] [-only SCENARIO] "
	                "[-fixtures DIR]\nscenarios:");
	for (i = 0; i < NSCENS; i++)
		fprintf(stderr, " %s", scens[i].name);
	fputc('\n', stderr);
	exit(64);
}

int
main(int argc, char **argv)
{
	struct config *cfg = NULL;
	struct config_err err;
	struct ca_pool *pool;
	const char *only = NULL;
	uint8_t *slots;
	size_t j, len, nrun = 0;
	char *pem;
	int rounds = 400, i, r;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "-only") == 0 && i + 1 < argc)
			only = argv[++i];
		else if (strcmp(argv[i], "-fixtures") == 0 && i + 1 < argc)
			fixtures = argv[++i];
		else
			usage();
	}
	if (rounds < 1)
		rounds = 1;
	for (j = 0; only != NULL && j < NSCENS; j++)
		if (strcmp(only, scens[j].name) == 0)
			break;
	if (j == NSCENS)
		usage();

	if ((pool = ca_pool_new()) == NULL)
		die("ca_pool_new", VPN_ERR_NOMEM);
	pem = load("ca.crt", &len);
	if ((r = ca_pool_load_pem(pool, pem, len, NOW, true, NULL, NULL, 0)) !=
	    0)
		die("ca.crt", r);
	free(pem);
	if ((r = config_load_string(
	         rules, strlen(rules), "dp_micro.yml", &cfg, &err)) != 0) {
		fprintf(stderr, "%s: %s\n", err.key, err.msg);
		die("config", r);
	}
	if ((slots = aligned_alloc(64, (size_t)NSLOTS * SLOT)) == NULL)
		die("aligned_alloc", VPN_ERR_NOMEM);
	memset(slots, 0, (size_t)NSLOTS * SLOT);

	printf("host-b -> host-a, TCP 192.168.100.20:%d -> "
	       "192.168.100.10:%d, %d packets per round, TSO: %d "
	       "super-segments of %d\n",
	    TX_PORT, RX_PORT, BATCH, TSO_SUPERS, TSO_SEGS);
	for (j = 0; j < NSCENS; j++)
		if (only == NULL || strcmp(only, scens[j].name) == 0) {
			scen_run(&scens[j], rounds, cfg, pool, slots);
			nrun++;
		}

	free(slots);
	config_free(cfg);
	ca_pool_free(pool);
	return nrun > 0 ? 0 : 1;
}
