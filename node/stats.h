/*
 * node/stats.h: Nebula's stats section.  With stats.type prometheus, an
 * HTTP endpoint on the node's event loop (stats.listen, stats.path)
 * answers each scrape with the figures of that moment, in Prometheus'
 * text format 0.0.4; with graphite, every stats.interval a round of
 * "<prefix>.<name>.<count|value> <value> <unix time>" lines goes to
 * stats.host over a new TCP connection (as Nebula's exporter does) or in
 * UDP datagrams.
 *
 * The series: those of Nebula 1.6.1 that the node has an equivalent for,
 * under Nebula's names (handshake_manager.initiated, hostmap.main.hosts,
 * firewall.*, messages.* with stats.message_metrics, lighthouse.* with
 * stats.lighthouse_metrics, udp.0.*), certificate.ttl_seconds (Nebula
 * 1.7's), and every row of the counter table (counters.h) as
 * mesh.<name> (snake case), with each CA's mesh.ca_ttl_seconds.  cairn(8),
 * METRICS, lists them.  A Prometheus name is Nebula's exporter's:
 * stats.namespace, stats.subsystem and the name with '.', ' ', '-' and
 * '=' made '_', joined by '_'; Nebula's series are gauges there, as its
 * exporter makes them, ours counters ("_total") or gauges.
 *
 * Owns: the HTTP server (evhttp) and its listening socket, bound at
 * start; the Graphite timer, socket and round being sent.  Reads the
 * counters and the configuration; never blocks: the sockets are
 * non-blocking, a connection that does not finish is dropped at the next
 * round, HTTP connections time out and requests are bounded.
 */
#ifndef NODE_STATS_H
#define NODE_STATS_H

#include <stdint.h>

struct node;
struct sbuf;
struct stats;
struct stats_cfg;

/* The exporter of n->cfg->stats, started on n->base: 0 (*out NULL when
 * stats.type is none), or -1 with the reason logged (an address that
 * cannot be bound). */
int stats_start(struct node *n, struct stats **out);
void stats_free(struct stats *s); /* NULL-safe; closes its sockets */

/* A scrape's text and a Graphite round's, for n as it is now (Unix
 * seconds); appended to out. */
void stats_prometheus(const struct node *n, const struct stats_cfg *c,
    int64_t now, struct sbuf *out);
void stats_graphite(const struct node *n, const struct stats_cfg *c,
    int64_t now, struct sbuf *out);

#endif
