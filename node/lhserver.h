/*
 * node/lhserver.h: the lighthouse server (wire.md 8.2-8.5; the answering
 * half of Nebula's LightHouse): keeps the registry (lib/lhreg) of where
 * each host is, keyed by the sender's authenticated tunnel and never by
 * a field of the message, answers HostQuery and tells the queried host
 * to punch towards the querier.
 *
 * Owns: the registry, its scratch reply, its counters and log limit.
 * Calls: tunnel (send), hostmap (the queried host's tunnel).
 */
#ifndef NODE_LHSERVER_H
#define NODE_LHSERVER_H

#include <stddef.h>
#include <stdint.h>

struct node;
struct tunnel;
struct lhmsg;
struct lhserver;
struct lhreg;

struct lhs_stats {
	uint64_t refused; /* updates that claimed another host's IP */
	uint64_t updates, queries, replies;
};

int lhserver_new(struct lhserver **out);
void lhserver_free(struct lhserver *s); /* NULL-safe */

/* A HostQuery or HostUpdateNotification on tunnel t. */
void lhserver_recv(struct node *n, struct tunnel *t, const struct lhmsg *m);
/* A tunnel's address is known (up, roamed) / it went down. */
void lhserver_learned(struct lhserver *s, const struct tunnel *t);
void lhserver_forget(struct lhserver *s, uint32_t vpn_ip);

size_t lhserver_registered(const struct lhserver *s);
/* The registry, for the control socket to read (lhreg.h). */
const struct lhreg *lhserver_reg(const struct lhserver *s);
const struct lhs_stats *lhserver_stats(const struct lhserver *s);

#endif
