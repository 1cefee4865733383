/*
 * node/remotes.h: where each peer may be reached (Nebula's RemoteList):
 * its static_host_map addresses and what each lighthouse last answered
 * about it (addresses and relays) (each answer replaces that lighthouse's previous one, wire.md
 * 8.4), merged without duplicates and ranked (wire.md 8.6: preferred
 * ranges, then IPv6, then public before private IPv4).
 *
 * Owns: the cache of lighthouse answers, one entry per peer asked about.
 * Reads the configuration.  Calls nothing in node/.
 */
#ifndef NODE_REMOTES_H
#define NODE_REMOTES_H

#include <stddef.h>
#include <stdint.h>

#include "lhreg.h"
#include "node.h"

#define RC_MAX (2 * LHREG_MAX_ADDRS) /* per lighthouse answer: v4 + v6 */
#define REMOTES_BLOCKED 8 /* addresses blocked per peer */
/* The most addresses remotes_addrs gives for one peer. */
#define REMOTES_MAX (STATIC_MAX_ADDRS + LH_MAX_HOSTS * RC_MAX)

struct remotes;
struct lhmsg;

struct remotes *remotes_new(void);
void remotes_free(struct remotes *r); /* NULL-safe */

/* Every address known for vpn_ip, best first.  Returns the count. */
size_t remotes_addrs(const struct remotes *r, const struct node_cfg *c,
    uint32_t vpn_ip, struct udp_addr *out, size_t max);
/* The relays the lighthouses named for vpn_ip (its relay.relays, wire.md
 * 9), without duplicates, in the order answered.  Returns the count. */
size_t remotes_relays(const struct remotes *r, uint32_t vpn_ip, uint32_t *out,
    size_t max);
/* Lighthouse lh answered m (a HostQueryReply): keep what
 * remote_allow_list allows, and the relays inside the overlay network
 * other than us and the peer, in place of lh's previous answer. */
void remotes_store(struct remotes *r, const struct node_cfg *c, uint32_t lh,
    const struct lhmsg *m);
/* Another host answered a handshake for vpn_ip at a (wire.md 4.5,
 * "Incorrect host responded"): a is not tried again for vpn_ip until it
 * is forgotten (the last REMOTES_BLOCKED such addresses are kept). */
void remotes_block(struct remotes *r, uint32_t vpn_ip,
    const struct udp_addr *a);
/* The tunnel to vpn_ip went down: ask again next time. */
void remotes_forget(struct remotes *r, uint32_t vpn_ip);
size_t remotes_count(const struct remotes *r);
/* Lighthouse i's answer about vpn_ip, as stored, for the control socket
 * (Nebula's CacheMap): false when there is none for i (0 <= i <
 * LH_MAX_HOSTS).  *lh, addrs (RC_MAX), relays (RELAYS_MAX). */
/* Iterate over the peers with a cache entry; *it starts at 0. */
bool remotes_next(const struct remotes *r, size_t *it, uint32_t *vpn_ip);
bool remotes_answer(const struct remotes *r, uint32_t vpn_ip, size_t i,
    uint32_t *lh, struct udp_addr *addrs, size_t *naddrs, uint32_t *relays,
    size_t *nrelays);

#endif
