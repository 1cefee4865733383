/*
 * node/handshake.h: Noise IX handshakes (wire.md 4-5; Nebula's
 * HandshakeManager) in both roles, and the packets that wait for them.
 *
 * Initiator: hs_start makes a pending handshake (our index, message 1)
 * and queues the packet that wanted it; its retries are on a timer wheel
 * (lib/twheel), so a tick costs what is due, not a scan of every
 * pending handshake; after handshakes.retries it times out.  Responder:
 * message 1 from a peer whose certificate verifies makes a tunnel at
 * once and answers with message 2 (kept for resends).
 *
 * Owns: the pending handshakes (struct pending, private) and their
 * queued packets, the wheel, the handshake counters, and the refusal log
 * limit.  Bounds: handshakes.max_pending (count; our lighthouses are
 * exempt), handshakes.max_queued_bytes (via the host map's byte count),
 * PENDING_MAX_QUEUE packets each.  Calls: hostmap (indexes), tunnel
 * (make, install, send), remotes (addresses), lhclient (query), relay
 * (each try through the peer's relays; replies through the relay that
 * carried message 1).
 */
#ifndef NODE_HANDSHAKE_H
#define NODE_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "header.h"
#include "udp.h"

struct node;
struct handshakes;

struct hs_stats {
	uint64_t started, completed, timed_out;
	uint64_t pending_full; /* handshakes not started: at the bound */
	uint64_t queue_full;   /* packets not queued: a bound */
	uint64_t bad, refused; /* messages unreadable; peers refused */
	uint64_t msg1_full;    /* messages 1 dropped: the queue was full */
	uint64_t msg1_stale;   /* messages 1 that waited too long */
	uint64_t stray;        /* messages 2 for no pending handshake */
};

int handshakes_new(struct node *n, struct handshakes **out);
void handshakes_free(struct node *n, struct handshakes *hs); /* + pendings */

/* Start a handshake with vpn_ip unless one runs, and queue the packet
 * (pkt may be NULL) behind it. */
void hs_start(struct node *n, uint32_t vpn_ip, uint8_t type, uint8_t subtype,
    const uint8_t *pkt, size_t len);
/* A lighthouse answered about vpn_ip: a handshake waiting for addresses
 * tries now. */
void hs_kick(struct node *n, uint32_t vpn_ip);
/* A handshake message from the underlay address from, or (from NULL)
 * through relay via. */
void hs_recv(struct node *n, const struct udp_addr *from, uint32_t via,
    const struct header *h, uint8_t *pkt, size_t len);
/* A relay to vpn_ip through via is up: a handshake waiting for it sends
 * message 1 through it now. */
void hs_relay_ready(struct node *n, uint32_t vpn_ip, uint32_t via);
/* Retries and timeouts that are due (the wheel's own timer calls it). */
void hs_tick(struct node *n);
/* A tunnel came up with the peer at from (or through relay via): a
 * source the guard lets go first under load. */
void hs_completed(struct handshakes *hs, const struct udp_addr *from,
    uint32_t via);
/* The guard's counters (hsguard.h); the certificate cache's hits. */
const struct hsguard_stats *hs_guard_stats(const struct handshakes *hs);
uint64_t hs_verified_hits(const struct handshakes *hs);

const struct hs_stats *hs_stats(const struct handshakes *hs);

/* A pending handshake, as the control socket shows it (ctl.h). */
struct pending;
struct hs_pending_info {
	uint32_t vpn_ip, local_index;
	int64_t attempts; /* messages 1 sent so far */
	int64_t started;  /* node_mono_ns() */
	size_t queued;    /* packets waiting for the tunnel */
	bool has_hint;    /* hs_start_at's address */
	struct udp_addr hint;
};
void hs_pending_info(const struct pending *p, struct hs_pending_info *out);
/* A handshake with vpn_ip asked for by an operator (create-tunnel), also
 * tried at hint (NULL: none) at every attempt.  0, VPN_ERR_INVAL (a
 * tunnel exists), VPN_ERR_RANGE (one is handshaking) or VPN_ERR_NOMEM (at
 * the bound of pending handshakes, or out of memory). */
int hs_start_at(struct node *n, uint32_t vpn_ip, const struct udp_addr *hint);

#endif
