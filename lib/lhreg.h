/*
 * lib/lhreg.h: a lighthouse's registry (wire.md 8.2 and 8.4): per
 * overlay IP, the addresses the host last reported in a
 * HostUpdateNotification, its relays, and where the lighthouse itself
 * sees the host's tunnel ("learned").  It answers HostQuery and builds
 * HostPunchNotification.  No I/O, no clock (times are the caller's, in
 * any unit), no logging.
 *
 * As Nebula 1.6.1 keeps it (RemoteList cache entry owned by the host):
 *  - an update REPLACES the reported IPv4, IPv6 and relay lists; of
 *    each list only the first LHREG_MAX_ADDRS entries are looked at; of
 *    those, addresses the remote allow list refuses for that host, and
 *    IPv4 addresses inside the lighthouse's own overlay network, are
 *    dropped; relays are not filtered;
 *  - there is one learned IPv4 and one learned IPv6 address; learning an
 *    address replaces only the one of its family (a host that roams from
 *    IPv4 to IPv6 keeps its old learned IPv4 address until forgotten);
 *    learned addresses are not filtered (the caller checked the remote
 *    allow list before accepting the handshake or the roam);
 *  - a reply lists, per family, the learned address first (if any) and
 *    then the reported ones, in the order received, without
 *    de-duplication (Nebula's coalesceAnswers).
 * Added here: entries not refreshed (update or learned) for a TTL can be
 * expired, and the number of hosts is bounded.
 *
 * Memory: a 32-byte entry per host in one array, 2 to 4 hash slots of
 * 4 bytes per host (the table is kept at most half full), and the lists
 * packed into a shared pool of size-classed blocks (6 bytes per IPv4
 * address, 18 per IPv6 address, 4 per relay, rounded up to the class).
 * Nothing is allocated while answering queries; updates allocate only
 * when a pool class or a table must grow.  Tables never shrink.
 */
#ifndef VPN_LHREG_H
#define VPN_LHREG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lhmsg.h"

struct allowlist;
struct allowranges;
struct lhreg; /* opaque */

#define LHREG_MAX_ADDRS 10           /* Nebula's MaxRemotes, per list */
#define LHREG_HOSTS_LIMIT (1u << 28) /* largest max_hosts */

/* NULL if max_hosts is 0 or above LHREG_HOSTS_LIMIT, or out of memory. */
struct lhreg *lhreg_new(size_t max_hosts);
void lhreg_free(struct lhreg *r); /* NULL-safe */

/*
 * A HostUpdateNotification from the tunnel whose certificate says
 * vpn_ip.  It must carry Details with that VpnIp (else VPN_ERR_INVAL,
 * nothing changes: Nebula ignores it).  remote_allow / ranges: the
 * lighthouse's remote_allow_list and remote_allow_ranges (NULL: allow).
 * own_net / own_mask: the lighthouse's overlay network.  0, or
 * VPN_ERR_RANGE (a new host beyond max_hosts: refused and counted),
 * VPN_ERR_NOMEM.
 */
int lhreg_update(struct lhreg *r, uint32_t vpn_ip, const struct lhmsg *update,
    const struct allowlist *remote_allow, const struct allowranges *ranges,
    uint32_t own_net, uint32_t own_mask, int64_t now);

/*
 * The tunnel to vpn_ip is seen at ip (16 bytes, IPv4 as ::ffff:a.b.c.d)
 * and port: after a handshake or a roam.  0, VPN_ERR_RANGE, VPN_ERR_NOMEM.
 */
int lhreg_learned(struct lhreg *r, uint32_t vpn_ip, const uint8_t ip[16],
    uint16_t port, int64_t now);

/* The tunnel to vpn_ip is gone (Nebula's DeleteVpnIp).  No-op if absent. */
void lhreg_forget(struct lhreg *r, uint32_t vpn_ip);

/*
 * The answer about vpn_ip: *reply is zeroed, then type
 * LHMSG_HOST_QUERY_REPLY, has_details, VpnIp = vpn_ip and the address
 * and relay lists as above.  For a HostPunchNotification, ask about the
 * querier and set type to LHMSG_HOST_PUNCH_NOTIFICATION.  0; VPN_ERR_INVAL
 * if vpn_ip has no entry (then Nebula sends nothing).
 */
int lhreg_reply(const struct lhreg *r, uint32_t vpn_ip, struct lhmsg *reply);

/* Remove entries refreshed last before now - ttl.  Returns how many. */
size_t lhreg_expire(struct lhreg *r, int64_t now, int64_t ttl);

/* What the registry holds about one host, split as Nebula's CacheMap
 * shows it (the learned addresses apart from the reported ones). */
struct lhreg_host {
	uint32_t vpn_ip;
	int64_t seen; /* last update or learned address, the caller's unit */
	bool has_l4, has_l6;
	struct lh_addr4 l4;
	struct lh_addr6 l6;
	struct lh_addr4 v4[LHREG_MAX_ADDRS];
	struct lh_addr6 v6[LHREG_MAX_ADDRS];
	uint32_t relays[LHREG_MAX_ADDRS];
	size_t n4, n6, nrelays;
};
/* The host vpn_ip: 0, or VPN_ERR_INVAL when it has no entry. */
int lhreg_host(const struct lhreg *r, uint32_t vpn_ip, struct lhreg_host *out);
/* The i-th host, for 0 <= i < lhreg_count(r), in no particular order;
 * any change to the registry reorders them. */
uint32_t lhreg_host_at(const struct lhreg *r, size_t i);
size_t lhreg_count(const struct lhreg *r);     /* hosts held */
size_t lhreg_bytes(const struct lhreg *r);     /* bytes allocated */
uint64_t lhreg_refused(const struct lhreg *r); /* new hosts refused */

#endif
