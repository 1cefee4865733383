/*
 * node/connmgr.h: the connection manager (wire.md 10; Nebula's
 * connectionManager): a tunnel that carried traffic out but heard
 * nothing back within alive_interval is sent a test request, again at
 * each third of deletion_interval (one lost datagram is not a dead
 * peer), and deleted when nothing comes back within deletion_interval
 * (each third rounded up to the next half-second tick); a tunnel
 * whose peer certificate stopped verifying (pki.disconnect_invalid) is
 * closed at its check, and one whose certificate expires, at its
 * expiry (the housekeeping tick after it: within half a second).
 *
 * Owns: two queues of tunnels in check order (the intervals are
 * constant, so each queue is sorted by construction and a tick pops only
 * what is due, at most CM_BUDGET; after a reload shortens an interval,
 * a check queued before it may come up to the old interval late), and
 * the tunnels' liveness fields (in, out, armed, check, check_at, probes,
 * the queue links).  Calls tunnel.c (send, delete, peer_valid).
 */
#ifndef NODE_CONNMGR_H
#define NODE_CONNMGR_H

struct connmgr;
struct node;
struct tunnel;

struct connmgr *connmgr_new(void);
void connmgr_free(struct connmgr *cm); /* NULL-safe; tunnels are not its */

/* The first packet sent since the last check: check in alive_interval. */
void connmgr_sent(struct node *n, struct tunnel *t);
/* t is going away (deleted or replaced): off the queues. */
void connmgr_forget(struct connmgr *cm, struct tunnel *t);
/* t can no longer reach its peer (its relays are gone): deleted at the
 * next tick unless a packet comes from it first. */
void connmgr_doom(struct node *n, struct tunnel *t);
/* A tunnel came up: its peer's certificate is closed at its expiry
 * (pki.disconnect_invalid). */
void connmgr_track(struct node *n, const struct tunnel *t);
/* t's peer no longer verifies and a new handshake runs: within a second
 * (half of one, at the next tick), unless replaced meanwhile, t is
 * verified again and closed if it still does not. */
void connmgr_recheck(struct node *n, struct tunnel *t);
/* Run the checks that are due. */
void connmgr_tick(struct node *n);

#endif
