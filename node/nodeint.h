/*
 * node/nodeint.h: the node's runtime state, shared by node.c (event loop,
 * data plane) and tunnel.c (handshakes, tunnels, liveness).
 */
#ifndef NODEINT_H
#define NODEINT_H

#include <event2/event.h>

#include "header.h"
#include "lhreg.h"
#include "node.h"
#include "tun.h"
#include "wire.h"

#define HS_PKT_MAX UDP_MAX_PACKET
#define PUNCH_JOBS 32 /* punches waiting for punchy.delay, at most */
/* The most a sealed packet can carry: a send slot (UDP_MAX_PACKET, which
 * is also the longest datagram we accept) less the header and the AEAD
 * tag.  Every copy into a send slot is checked against it. */
#define TUNNEL_MAX_BODY (UDP_MAX_PACKET - HEADER_LEN - 16)

/* A packet waiting for a handshake: tunnel data, or a lighthouse
 * message to a lighthouse we have no tunnel with yet. */
struct qpkt {
	uint8_t *p;
	size_t len;
	uint8_t type, subtype;
};

/* A handshake we started and that has not completed. */
struct pending {
	uint32_t vpn_ip, local_index;
	struct noise_hs hs;
	uint8_t *pkt; /* header + message 1, sent on every try */
	size_t pkt_len;
	int64_t attempts, next_at; /* monotonic ns */
	struct qpkt q[PENDING_MAX_QUEUE];
	size_t nq;
};

enum check_state { CHECK_NONE, CHECK_ALIVE, CHECK_DELETE };

struct tunnel {
	uint32_t vpn_ip, local_index, remote_index;
	struct cert *peer;
	char name[128]; /* sanitised certificate name */
	/* The transport keys; the cipher contexts (keyed once, used for
	 * every data packet) are made on the first data packet, so that a
	 * lighthouse's thousands of control-only tunnels do without them. */
	uint8_t ktx[32], krx[32];
	struct crypto_aead *tx, *rx;
	uint64_t tx_counter;
	struct replay win;
	struct udp_addr remote;
	bool initiator;
	uint64_t peer_time; /* the peer's handshake Time, ns */
	uint8_t *msg1;	    /* responder: message 1 body, to spot resends */
	size_t msg1_len;
	uint8_t *msg2; /* responder: the message 2 packet we sent */
	size_t msg2_len;
	/* liveness (wire.md 10): a tunnel with a check to come is on one of
	 * the connection manager's two queues (CHECK_ALIVE, CHECK_DELETE),
	 * each ordered by check_at, so a tick costs only what is due */
	bool in, out, armed;
	struct tunnel *arm_next, *arm_prev;
	enum check_state check;
	int64_t check_at;
	int recv_errors;
	/* roaming (wire.md 12) */
	struct udp_addr roamed_from;
	int64_t roamed_at;
	int64_t probed_at; /* the last test request to a new address */
	uint64_t rx_packets, tx_packets;
	struct fw_peer fwp;	/* what the firewall needs about the peer */
	struct ct_owner ct_own; /* its conntrack entries */
};

#define RC_MAX (2 * LHREG_MAX_ADDRS) /* per lighthouse answer: v4 + v6 */

/* What the lighthouses told us about one peer: each lighthouse's latest
 * answer replaces its previous one (wire.md 8.4). */
struct rcache {
	struct {
		uint32_t lh; /* 0: unused slot */
		size_t n;
		struct udp_addr a[RC_MAX];
	} by[LH_MAX_HOSTS];
};

struct node_stats {
	uint64_t rx_short, rx_own_network, rx_unknown_type;
	uint64_t rx_unknown_index, rx_replay, rx_auth, rx_bad_inner;
	uint64_t rx_hs_bad, rx_hs_refused;
	uint64_t tx_no_tunnel, tx_dropped, tx_queue_full, tun_write_err;
	uint64_t hs_started, hs_completed, hs_timed_out;
	uint64_t hs_pending_full; /* handshakes not started: at the bound */
	uint64_t lh_bad, lh_refused, lh_updates, lh_queries, lh_replies;
	uint64_t lh_punches, lh_punch_dropped;
	uint64_t fw_in_drop, fw_out_drop, fw_rejects, fw_bad_packet;
	uint64_t fw_peer_full; /* new flows over the tunnel's conntrack share */
	uint64_t tun_super; /* TCP super-segments read from the TUN */
};

struct node {
	struct node_cfg *cfg;
	const char *cfg_path;
	struct event_base *base;
	struct event *ev_udp, *ev_tun, *ev_hs, *ev_cm, *ev_sig[4];
	struct udp *udp;
	struct tun *tun;
	struct u32map tun_by_index, tun_by_ip, pend_by_index, pend_by_ip;
	struct u32map tun_by_remote; /* the peer's index: for recvError */
	struct cmq { struct tunnel *head, *tail; } cm_alive, cm_delete;
	struct u32map rcache; /* vpn ip -> struct rcache */
	struct lhreg *reg;    /* am_lighthouse: the registry */
	struct conntrack *ct;
	struct event *ev_lh, *ev_punchy;
	struct punch_job *punch[PUNCH_JOBS]; /* lh.c: delayed punches */
	struct lhmsg *lh_in, *lh_out; /* scratch for lighthouse messages */
	struct dns_zone *dns;	       /* lighthouse.serve_dns */
	int dns_fd;
	struct event *ev_dns;
	struct node_stats st;
	struct log_limit warn_limit, fw_limit, pend_limit;
	size_t queued_bytes; /* packets queued behind pending handshakes */
	/* offload: the TUN read buffer, and inbound TCP segments held to be
	 * joined until the UDP batch they came in ends */
	uint8_t *tun_buf;
	struct gro gro;
};

/*
 * A node on an event base the caller owns (node_run makes one, and adds
 * the signals and the loop; tests run several nodes on one).  tun: a
 * device the node takes over (tests: tun_from_fd), or NULL to open the
 * configured one.  The node owns cfg from the call on, even on failure;
 * node_stop closes every tunnel (closeTunnel sent) and frees everything
 * but the base, also after a failed start.
 */
int node_start(struct node *n, struct node_cfg *cfg, const char *config_path,
    struct event_base *base, struct tun *tun);
void node_stop(struct node *n);
uint16_t node_port(const struct node *n);

int64_t node_mono_ns(void);
int64_t node_real_ns(void);

/* tunnel.c */
void hs_start(struct node *n, uint32_t vpn_ip, uint8_t type, uint8_t subtype,
    const uint8_t *pkt, size_t len);
void hs_kick(struct node *n, uint32_t vpn_ip);
/* Send on the tunnel to vpn_ip, or queue it behind a new handshake. */
void node_send(struct node *n, uint32_t vpn_ip, uint8_t type,
    uint8_t subtype, const uint8_t *body, size_t len);
/* Every address known for a peer, static first then the lighthouses'
 * answers, without duplicates.  Returns the count. */
size_t node_peer_addrs(struct node *n, uint32_t vpn_ip, struct udp_addr *out,
    size_t max);
void hs_tick(struct node *n);
void hs_recv(struct node *n, const struct udp_addr *from,
    const struct header *h, uint8_t *pkt, size_t len);
void tunnel_delete(struct node *n, struct tunnel *t, const char *why);
/* Seal body into a send slot for t's address (or `to`); 0, or
 * VPN_ERR_RANGE (counted in txDropped) when it is longer than
 * TUNNEL_MAX_BODY. */
int tunnel_send(struct node *n, struct tunnel *t, uint8_t type,
    uint8_t subtype, const uint8_t *body, size_t len);
int tunnel_send_to(struct node *n, struct tunnel *t,
    const struct udp_addr *to, uint8_t type, uint8_t subtype,
    const uint8_t *body, size_t len);
void tunnel_roam(struct node *n, struct tunnel *t,
    const struct udp_addr *from);
void tunnel_probe_preferred(struct node *n, struct tunnel *t);
void cm_tick(struct node *n);
void cm_arm(struct node *n, struct tunnel *t);
/* Seal/open with the tunnel's keys: contexts for data, one-shot for the
 * rare control packets. */
int tunnel_seal(struct node *n, struct tunnel *t, uint8_t type,
    uint64_t ctr, uint8_t *slot, size_t len);
int tunnel_open(struct node *n, struct tunnel *t, uint8_t type,
    uint64_t ctr, uint8_t *pkt, size_t clen);
/* pki.disconnect_invalid: close tunnels whose peer no longer verifies. */
void tunnels_recheck(struct node *n);
void tunnels_refresh_fw(struct node *n);
void node_close_all(struct node *n);

/* lh.c: the lighthouse protocol, both roles, and punchy. */
int lh_init(struct node *n);
void lh_free(struct node *n);
void lh_reload(struct node *n);
void lh_recv(struct node *n, struct tunnel *t, const uint8_t *p, size_t len);
void lh_query(struct node *n, uint32_t vpn_ip);
void lh_tunnel_up(struct node *n, struct tunnel *t);
void lh_tunnel_down(struct node *n, struct tunnel *t);

/* node.c: an IPv4 packet at slot + HEADER_LEN, bound for t: outbound
 * firewall, then sealed and queued for sending. */
void node_send_data(struct node *n, struct tunnel *t, uint8_t *slot,
    size_t len);

/* node.c: seal a packet already placed at slot + HEADER_LEN (at most
 * TUNNEL_MAX_BODY bytes, else dropped and counted) and queue it for
 * `to`. */
void node_seal_slot(struct node *n, struct tunnel *t, uint8_t *slot,
    uint8_t type, uint8_t subtype, size_t len);
void node_seal_slot_to(struct node *n, struct tunnel *t,
    const struct udp_addr *to, uint8_t *slot, uint8_t type, uint8_t subtype,
    size_t len);

#endif
