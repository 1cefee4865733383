/*
 * node/dnsresp.h: lighthouse.serve_dns, the DNS responder: A records of
 * the hosts this lighthouse has had tunnels with (added, never removed,
 * as Nebula 1.6.1 does) and, for the overlay and 127.0.0.1 only, TXT
 * records with their certificate details while the tunnel is up.
 *
 * Owns: the zone (lib/dns), its socket and event, and the address the
 * socket is bound to.  Calls hostmap (to iterate, on a reload that turns
 * it on).
 */
#ifndef NODE_DNSRESP_H
#define NODE_DNSRESP_H

#include <stdint.h>

struct node;
struct tunnel;
struct dnsresp;

/* Bind lighthouse.dns.host:port on n's base; 0 or an error (logged). */
int dnsresp_open(struct node *n, struct dnsresp **out);
void dnsresp_free(struct dnsresp *d); /* NULL-safe */
/* A reload (n->cfg the new configuration): turned off, the socket is
 * closed and the zone kept (it goes on following the tunnels); turned on,
 * or given a new address, a socket is bound there, and the old one closed
 * only once the new one is bound: an address that cannot be bound is
 * logged as an error, and the running socket, if any, goes on serving.
 * Turned on for the first time, the zone starts with the tunnels up. */
void dnsresp_reload(struct node *n);

void dnsresp_tunnel_up(struct dnsresp *d, const struct tunnel *t);
void dnsresp_tunnel_down(struct dnsresp *d, uint32_t vpn_ip);

/* What the responder received, and what it did not answer or refused,
 * since start (kept across reloads that stop and restart it). */
struct dnsresp_stats {
	uint64_t queries;   /* datagrams received */
	uint64_t too_short; /* shorter than a DNS header: dropped */
	uint64_t not_query; /* responses (QR set): dropped */
	uint64_t formerr;   /* answered FORMERR: malformed */
	uint64_t notimp;    /* answered NOTIMP: an opcode not served */
};
const struct dnsresp_stats *dnsresp_stats(const struct dnsresp *d);

#endif
