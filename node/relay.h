/*
 * node/relay.h: relays (wire.md 9; Nebula 1.6.1's relay manager and the
 * relay half of its host map).  A node that cannot reach a peer B
 * directly asks a relay R it has a tunnel with to forward; R, with
 * relay.am_relay, asks B; each side records a relay entry, and then
 * packets travel wrapped (type 1, subtype 1): the inner packet, end to
 * end between A and B, authenticated again on each hop with the key of
 * the tunnel it crosses.
 *
 * An entry: our index for it (the receiver's index in the outer header
 * of every relay packet to us), the other side's index, the neighbour
 * whose tunnel carries it ("via"), the far peer, its type (terminal at A
 * and B, forwarding at R, in pairs) and its state (requested,
 * established).  Entries last as long as the neighbour's tunnel: they
 * are dropped when it goes down or is replaced by a new handshake (the
 * peer may have lost its own), never on the far peer's account, so a
 * peer that comes back through the same relay finds them in place.
 *
 * Who may use a relay: R forwards only with relay.am_relay, only for the
 * peer that asked (a request naming another origin is refused), only to
 * a peer it has a direct tunnel with; B accepts relayed traffic only
 * through relays in its own relay.relays (the ones it advertises), and a
 * handshake through a relay only from the peer the relay announced.
 *
 * Owns: the relay table, its bounds (RELAY_MAX entries in all,
 * RELAY_MAX_PER_PEER over one neighbour) and counters.  Calls: hostmap
 * (tunnels by IP), tunnel (send, seal), handshake (start one with a
 * relay or a target), remotes (the relays a lighthouse named).
 */
#ifndef NODE_RELAY_H
#define NODE_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "header.h"
#include "udp.h"

struct node;
struct tunnel;
struct worker;
struct relays;

#define RELAY_MAX 4096	       /* entries in all */
#define RELAY_MAX_PER_PEER 256 /* entries over one neighbour's tunnel */

struct relay_stats {
	uint64_t requests, responses; /* control messages handled */
	uint64_t refused;	      /* requests or responses refused */
	uint64_t full;		      /* entries not made: at a bound */
	uint64_t rx, tx;	      /* relay packets for or from us */
	uint64_t forwarded, fwd_dropped; /* as a relay */
	uint64_t no_path; /* packets to a relayed peer without a relay */
};

int relays_new(struct relays **out);
void relays_free(struct relays *r); /* NULL-safe */
size_t relays_count(const struct relays *r);
/* The far peers that established forwarding entries carry over the
 * tunnel to via (we relay for via to them); at most max.  The count. */
size_t relay_through(const struct relays *r, uint32_t via, uint32_t *out,
    size_t max);
const struct relay_stats *relays_stats(const struct relays *r);

/* A control message (type 6) from t's peer, decrypted. */
void relay_control(struct node *n, struct tunnel *t, const uint8_t *p,
    size_t len);

enum relay_rx { RELAY_RX_DROP, RELAY_RX_DONE, RELAY_RX_INNER };

/*
 * A relay packet from the underlay (h parsed from pkt): its entry, the
 * neighbour's replay window and tag.  Forwarded at a relay (DONE), or,
 * for us, RELAY_RX_INNER with *inner and *ilen the inner packet (inside
 * pkt) and *via the relay it came through.  Drops are counted.
 */
enum relay_rx relay_rx(struct worker *w, const struct udp_addr *from,
    const struct header *h, uint8_t *pkt, size_t len, uint32_t *via,
    uint8_t **inner, size_t *ilen);

/* A sealed inner packet for t's peer, at slot (a send slot of w), ilen
 * bytes: through the first of t's relays with an established entry.
 * Counted in no_path when there is none. */
void relay_send_tunnel(
    struct worker *w, struct tunnel *t, uint8_t *slot, size_t ilen);
/* Can t (a relayed tunnel) reach its peer through one of its relays? */
bool relay_usable(struct node *n, const struct tunnel *t);
/* A raw packet (a handshake message) to peer through relay via; false if
 * there is no established entry for it. */
bool relay_send_raw(struct node *n, uint32_t via, uint32_t peer,
    const uint8_t *pkt, size_t len);
/* Is there an established entry to peer through via? */
bool relay_ready(const struct relays *r, uint32_t via, uint32_t peer);

/* A handshake attempt to vpn_ip (message 1 in pkt): through each relay
 * a lighthouse named for it, set one up or send message 1 through it
 * (wire.md 9.2 step 1). */
void relay_try(struct node *n, uint32_t vpn_ip, const uint8_t *pkt,
    size_t len);

/* How logs name a place reached through relay via: "relay:" and its IP
 * (in place of an underlay address). */
void relay_where(uint32_t via, char out[UDP_ADDR_STRLEN]);

/* The tunnel to vpn_ip is going away (down or replaced): the entries
 * over it go, and tunnels that it alone carried are deleted. */
void relay_tunnel_gone(struct node *n, uint32_t vpn_ip);

#endif
