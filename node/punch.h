/*
 * node/punch.h: hole punching (wire.md 8.5, 11): when a lighthouse says
 * a peer is trying to reach us, one-byte datagrams towards its addresses
 * after punchy.delay (and, with punchy.respond, a test request to it
 * after 5 s); with punchy.punch, every 10 s, one towards every address
 * of every peer we have a tunnel with, to keep NAT mappings open.
 *
 * Owns: a pool of at most PUNCH_JOBS delayed jobs, each made on first
 * use and reused (no allocation per punch; a notification that finds
 * every job busy is counted in lhPunchDropped), and the punchy timer.
 * Calls: remotes, hostmap (to iterate), tunnel (node_send).
 */
#ifndef NODE_PUNCH_H
#define NODE_PUNCH_H

#include <stdbool.h>
#include <stdint.h>

#define PUNCH_JOBS 32 /* punches waiting for punchy.delay, at most */

struct node;
struct lhmsg;
struct punch;

struct punch_stats {
	uint64_t punches, dropped;
};

int punch_new(struct node *n, struct punch **out);
void punch_free(struct punch *p); /* NULL-safe; cancels pending jobs */
/* A reload: the punchy timer starts or stops with punchy.punch (its first
 * round 10 s after it starts); punches waiting for punchy.delay stay. */
void punch_reload(struct node *n);
/* Whether the punchy timer runs. */
bool punch_punchy(const struct punch *p);

/* A HostPunchNotification from a lighthouse. */
void punch_notified(struct node *n, const struct lhmsg *m);

const struct punch_stats *punch_stats(const struct punch *p);

#endif
