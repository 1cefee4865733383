/*
 * node/lhclient.h: the lighthouse client (wire.md 8; the querying half
 * of Nebula's LightHouse): registers our addresses with every
 * lighthouse (HostUpdateNotification at start and every
 * lighthouse.interval), asks where a peer is (HostQuery), stores the
 * answers in remotes (only about a peer with a pending handshake or a
 * tunnel: a lighthouse cannot make us hold more) and kicks the waiting
 * handshake, and hands punch
 * notifications to punching.  Only answers from a configured lighthouse
 * are taken.
 *
 * Owns: the registration timer and its counters.  Calls: remotes,
 * handshake (kick), punch, tunnel (node_send).
 */
#ifndef NODE_LHCLIENT_H
#define NODE_LHCLIENT_H

#include <stdint.h>

struct node;
struct tunnel;
struct lhmsg;
struct lhclient;

struct lhc_stats {
	uint64_t refused;     /* answers from a host that is no lighthouse */
	uint64_t unsolicited; /* answers about a peer we are not reaching */
	uint64_t readdressed; /* updates sent because our addresses changed */
};

int lhclient_new(struct node *n, struct lhclient **out);
void lhclient_free(struct lhclient *c); /* NULL-safe */
/* After a reload: the timer follows lighthouse.interval and hosts, and
 * an update goes out at once. */
void lhclient_reload(struct node *n);

void lhclient_query(struct node *n, uint32_t vpn_ip);
/* A HostQueryReply or HostPunchNotification on tunnel t. */
void lhclient_recv(struct node *n, struct tunnel *t, const struct lhmsg *m);

const struct lhc_stats *lhclient_stats(const struct lhclient *c);

#endif
