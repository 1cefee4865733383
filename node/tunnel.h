/*
 * node/tunnel.h: one tunnel: a peer's certificate, the transport keys
 * and counters of a completed handshake, its replay window and its
 * address; sealing and opening with those keys; sending on it; roaming.
 *
 * A tunnel is made by handshake.c, installed in and removed from the
 * host map (hostmap.h), which alone indexes it.  Its fields belong to:
 *   this file       keys, counters, window, remote, roaming, name, peer,
 *                   relays and relayed
 *   handshake.c     msg1/msg2 (responder resends), peer_time
 *   connmgr.c       in, out and the check queue links
 *   datapath.c      rx/tx packet counts, recv_errors
 *   the firewall    fwp, ct_own
 * Nothing else writes them.
 */
#ifndef NODE_TUNNEL_H
#define NODE_TUNNEL_H

#include "header.h"
#include "node.h"

struct node;
struct worker;

/* The most a sealed packet can carry: a send slot (UDP_MAX_PACKET, which
 * is also the longest datagram we accept) less the header and the AEAD
 * tag.  Every copy into a send slot is checked against it. */
#define TUNNEL_MAX_BODY (UDP_MAX_PACKET - HEADER_LEN - 16)

enum check_state { CHECK_NONE, CHECK_ALIVE, CHECK_DELETE };

#define TUNNEL_RELAYS 4 /* relays remembered per tunnel */

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
	/* Reached through a relay (wire.md 9): no direct address yet, and
	 * the relays its handshake came through (0: unused). */
	bool relayed;
	uint32_t relays[TUNNEL_RELAYS];
	bool initiator;
	uint64_t peer_time; /* the peer's handshake Time, ns */
	uint32_t cert_gen;  /* n->cert_gen when made: our certificate */
	uint32_t pki_gen;   /* n->pki_gen when the peer last verified */
	uint8_t *msg1;      /* responder: message 1 body, to spot resends */
	size_t msg1_len;
	uint8_t *msg2; /* responder: the message 2 packet we sent */
	size_t msg2_len;
	/* liveness (connmgr.h) */
	bool in, out, armed;
	struct tunnel *arm_next, *arm_prev;
	enum check_state check;
	int64_t check_at;
	uint8_t probes; /* test requests sent since the alive check */
	int recv_errors;
	/* roaming (wire.md 12) */
	struct udp_addr roamed_from;
	int64_t roamed_at;
	int64_t probed_at; /* the last test request to a new address */
	uint64_t rx_packets, tx_packets;
	/* for the control socket: plaintext bytes each way, packets from
	 * the peer refused (replayed, not authentic), when the handshake
	 * completed and when the last packet came (monotonic ns) */
	uint64_t rx_bytes, tx_bytes, rx_dropped;
	int64_t made_at, last_rx;
	struct fw_peer fwp;     /* what the firewall needs about the peer */
	struct ct_owner ct_own; /* its conntrack entries */
};

/* Keys, counters and the replay window of a completed handshake; the
 * tunnel owns peer from the call on, also on failure (NULL).  from: the
 * peer's address, or NULL for a handshake through relay `via`. */
struct tunnel *tunnel_new(struct node *n, const struct noise_hs *hs,
    bool initiator, struct cert *peer, uint32_t local, uint32_t remote,
    uint64_t peer_time, const struct udp_addr *from, uint32_t via);
/* Remember that relay via carried a handshake with t's peer. */
void tunnel_add_relay(struct tunnel *t, uint32_t via);
/* A tunnel never installed (or already removed from the host map). */
void tunnel_free(struct node *n, struct tunnel *t);

/* Install t in the host map as the tunnel for its VPN IP; an older one
 * for the same IP is replaced (its tracked flows move when the
 * certificate is the same) and freed, with Nebula's "Taking new
 * handshake".  The handshake logs the new tunnel.  0 or VPN_ERR_NOMEM
 * (t is then not installed: the caller frees it). */
int tunnel_up(struct node *n, struct tunnel *t);
/* closeTunnel to the peer, then tunnel_delete. */
void tunnel_close(struct node *n, struct tunnel *t, const char *why);
/* Remove from every index and free, with "Tunnel down" and why; why
 * NULL: the caller logged it (Nebula's own line for the event). */
void tunnel_delete(struct node *n, struct tunnel *t, const char *why);
/* An info line: what, the tunnel's vpnIp, certName, udpAddr (or relay),
 * localIndex, remoteIndex, initiator, and reason=why unless NULL. */
void tunnel_log(const char *what, const struct tunnel *t, const char *why);

/* Seal/open in place with the tunnel's keys: contexts for data, one-shot
 * for the rare control packets. */
int tunnel_seal(struct node *n, struct tunnel *t, uint8_t type, uint64_t ctr,
    uint8_t *slot, size_t len);
int tunnel_open(struct node *n, struct tunnel *t, uint8_t type, uint64_t ctr,
    uint8_t *pkt, size_t clen);

/* The relay packet's tag (wire.md 9.4): a MAC over adlen bytes at p,
 * with t's sending key, written after them; and its check on receipt
 * (p: the packet less its 16-byte tag). */
int tunnel_mac(struct node *n, struct tunnel *t, uint64_t ctr, uint8_t *p,
    size_t adlen);
int tunnel_mac_check(struct node *n, struct tunnel *t, uint64_t ctr,
    uint8_t *p, size_t adlen);
/* An authenticated packet from t's peer, from the underlay address from
 * (NULL: through a relay): liveness, counts, roaming. */
void tunnel_heard(struct node *n, struct tunnel *t, const struct udp_addr *from);

/* Seal a packet already at slot + HEADER_LEN (a send slot of worker w)
 * and queue it there for `to` (tunnel_seal_slot: t's address, or its
 * relay when it has none).  A body
 * longer than TUNNEL_MAX_BODY is dropped and counted in w's txDropped. */
void tunnel_seal_slot(struct worker *w, struct tunnel *t, uint8_t *slot,
    uint8_t type, uint8_t subtype, size_t len);
void tunnel_seal_slot_to(struct worker *w, struct tunnel *t,
    const struct udp_addr *to, uint8_t *slot, uint8_t type, uint8_t subtype,
    size_t len);
/* Control messages: copy body into a send slot of the node's worker
 * and seal it there; 0, or VPN_ERR_RANGE (counted in txDropped) when it
 * is longer than TUNNEL_MAX_BODY. */
int tunnel_send(struct node *n, struct tunnel *t, uint8_t type, uint8_t subtype,
    const uint8_t *body, size_t len);
int tunnel_send_to(struct node *n, struct tunnel *t, const struct udp_addr *to,
    uint8_t type, uint8_t subtype, const uint8_t *body, size_t len);
/* Send on the tunnel to vpn_ip, or queue it behind a new handshake. */
void node_send(struct node *n, uint32_t vpn_ip, uint8_t type, uint8_t subtype,
    const uint8_t *body, size_t len);

/* An authenticated packet came from `from`: follow it there (wire.md
 * 12), within remote_allow_list and with anti-flapping. */
void tunnel_roam(struct node *n, struct tunnel *t, const struct udp_addr *from);
/* An operator's order (change-remote): send to `to` from now on, as
 * Nebula's SetRemote; an authenticated packet from elsewhere moves it
 * again. */
void tunnel_set_remote(
    struct node *n, struct tunnel *t, const struct udp_addr *to);
/* An unauthenticated hint that the peer is at `from`: a test request
 * there, at most once a second; only its authenticated reply moves t. */
void tunnel_probe(
    struct node *n, struct tunnel *t, const struct udp_addr *from);
/* wire.md 8.6: probe the peer's preferred addresses; a relayed
 * tunnel: all its known addresses, so that a direct path, once it
 * works, replaces the relay. */
void tunnel_probe_preferred(struct node *n, struct tunnel *t);

/* pki.disconnect_invalid: does the peer's certificate still verify?
 * (When not, says why.) */
bool tunnel_peer_valid(struct node *n, struct tunnel *t);
/* The same, acted on: a blocklisted peer's tunnel is closed now (false);
 * another that no longer verifies is given a new handshake and under a
 * second for it to bring a certificate that does (connmgr_recheck), and
 * true, as for a valid one. */
bool tunnel_revalidate(struct node *n, struct tunnel *t);
/* After a reload: each peer resolved again against the new firewall
 * table and CA pool; then the ones that no longer verify closed: a
 * blocklisted one at once, the others unless a new handshake within a
 * second brings a certificate that verifies (connmgr_recheck). */
void tunnels_refresh_fw(struct node *n);
void tunnels_recheck(struct node *n);
/* closeTunnel to every peer, then every tunnel freed. */
void tunnels_close_all(struct node *n);

#endif
