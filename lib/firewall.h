/*
 * lib/firewall.h: Nebula 1.6.1 firewall rules (firewall.md 2-3, 7) as an
 * immutable table, and the per-packet rule decision.  Beyond 1.6.1, the
 * rule key `local_cidr` of Nebula 1.7, matched as Nebula 1.9 does (with
 * firewall.default_local_cidr_any true, its 1.9 default): a packet
 * matches the rule only if its LocalIP (inbound: the destination,
 * outbound: the source) lies in the network, in AND with the rest of the
 * rule; a network holding 0.0.0.0 is any; without the key any LocalIP
 * matches.  (Nebula 1.7 and 1.8 OR it with host/group/cidr instead.)
 *
 * fw_build() turns the `firewall` section of a configuration into a
 * struct fw; nothing changes it afterwards, so a reload builds a new one
 * aside (with version + 1) and swaps the pointer.  The table knows
 * nothing of conntrack (conntrack.h has fw_decide(), the whole decision).
 *
 * Table layout.  Per direction, per protocol class (any, tcp, udp, icmp),
 * a port map: a leaf for `port: any`/0, a leaf for `port: fragment`, and
 * for ports 1..65535 one leaf per run of ports covered by the same rules
 * (Nebula keeps one merged entry per port), reached through 256 buckets
 * of 256 ports: a bucket whose ports share one leaf holds it, any other
 * a 256-entry table, so a port lookup is two loads.  A leaf is a short
 * list of CA selectors (no CA condition, one ca_sha, one ca_name), each
 * with its rules merged as Nebula merges them: an "any" flag, the sorted
 * ids of the host names, the one-group selectors as one bitset, each
 * multi-group selector as a bitset, and the cidrs as sorted disjoint
 * address intervals.  Rules with a local_cidr are merged apart, one
 * entry per (CA selector, local_cidr) that carries the network; LocalIP
 * is tested only once the rest of that entry matched.  Group, host and
 * CA strings are interned when the table is built; a struct fw_peer
 * carries the ids of its certificate's strings, so `group` is a bitset
 * AND and `groups` a word-wise subset test.
 *
 * A rule decision looks at most at two protocol classes (any, and the
 * packet's), each: one port lookup and the `any` leaf; each leaf at a
 * few CA selectors, each a flag, bitset tests, a binary search over host
 * ids and one over cidr intervals (and, with a local_cidr, one interval
 * test).  It never walks the rule list.
 *
 * Nothing here allocates per packet, logs, or reads a clock.
 */
#ifndef VPN_FIREWALL_H
#define VPN_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert.h"
#include "config.h"
#include "ippkt.h"

struct ca_pool;
struct fw; /* opaque, immutable once built */

/* Conntrack timeout defaults (firewall.md 5, 7), nanoseconds. */
#define FW_TCP_TIMEOUT_DEFAULT (12 * 60 * INT64_C(1000000000))
#define FW_UDP_TIMEOUT_DEFAULT (3 * 60 * INT64_C(1000000000))
#define FW_DEFAULT_TIMEOUT_DEFAULT (10 * 60 * INT64_C(1000000000))

/* firewall.inbound_action / outbound_action (keys of Nebula 1.7). */
enum fw_action { FW_ACTION_DROP, FW_ACTION_REJECT };

/* Why a packet was refused, for the caller's counters (firewall.md 2). */
enum fw_reason {
	FW_OK = 0,
	FW_BAD_REMOTE_IP, /* remote IP is not in remote certificate subnets */
	FW_BAD_LOCAL_IP,  /* local IP is not in list of handled local IPs */
	FW_NO_RULE,       /* no matching rule in firewall table */
};

/* An inclusive range of IPv4 addresses. */
struct fw_iv {
	uint32_t lo, hi;
};

/*
 * What the firewall needs about a peer, computed once per tunnel (at the
 * handshake), not per packet.  The caller owns the struct (embed it in
 * the tunnel); the fields are private to firewall.c.  It holds copies of
 * the certificate's strings and its address set, so it does not point at
 * the cert, the CA pool or the table, and it must not be copied bitwise
 * (it owns heap memory): init, refresh and clear it in place.
 *
 * The interned ids are those of one table: each table gets a random tag
 * when built, and the peer records the tag it was resolved for.
 * fw_match() compares the tags on every call: with a peer resolved for
 * another table (after a reload) it stays correct through a slower path
 * that looks the peer's strings up in the table without allocating.
 * Call fw_peer_refresh() on every peer after a reload to get the fast
 * path back.
 */
struct fw_peer {
	/* From the certificate and CA pool. */
	struct cert_str name;
	struct cert_str *groups; /* sorted (bytewise, then length) */
	size_t ngroups;
	struct cert_str issuer;  /* lowercase hex of Issuer; "" if none */
	struct cert_str ca_name; /* s == NULL: issuer not in the pool */
	struct fw_iv *remote;    /* cert IPs as /32s and subnets, merged */
	size_t nremote;
	/* Resolved against the table whose tag is `tag`. */
	bool resolved;
	uint64_t tag;
	uint32_t host_id; /* ids in that table; UINT32_MAX: none */
	uint32_t sha_sel, name_sel;
	uint64_t *gbits; /* the table's group ids this peer has */
	size_t gwords, gcap;
};

/*
 * Build the table from cfg: firewall.outbound then firewall.inbound
 * (Nebula's order, so the outbound error comes first),
 * firewall.conntrack.{tcp,udp,default}_timeout (Go durations; negative
 * refused), firewall.inbound_action / outbound_action (`drop`, the
 * default, or `reject`).  own_cert gives the local addresses (its IPs as
 * /32s and its subnets) and must not be NULL.
 *
 * 0: *out is the caller's (fw_free).  Else VPN_ERR_INVAL (or
 * VPN_ERR_RANGE, VPN_ERR_NOMEM, VPN_ERR_CRYPTO for the tag) with *err (may be
 * NULL) holding the file, key path and line, and in msg Nebula's text, e.g.
 * "firewall.inbound rule #2; port was not a number; `ssh`".  Beyond
 * Nebula (which crashes or silently accepts), refused with its own text:
 * a `firewall` that is not a map; `group: []`; a null, list or map where
 * host, group, ca_name, ca_sha or a groups item needs a string (and a
 * map as groups); an IPv6 cidr or local_cidr (Nebula would apply its low
 * 32 bits, which for any prefix up to /96 matches every address).
 */
int fw_build(const struct config *cfg, const struct cert *own_cert,
    uint64_t version, struct fw **out, struct config_err *err);
void fw_free(struct fw *fw); /* NULL-safe */

uint64_t fw_version(const struct fw *fw);
enum fw_action fw_action(const struct fw *fw, bool incoming);
/* The conntrack timeout of a protocol, ns: TCP, UDP, or the default. */
int64_t fw_timeout(const struct fw *fw, uint8_t proto);
/* The number of rules read for a direction (before merging). */
size_t fw_nrules(const struct fw *fw, bool incoming);
/*
 * Warnings met while building (Nebula logs them), e.g.
 * "firewall.inbound rule #0; group was an array with a single value,
 * converting to simple value".  Strings owned by the table.
 */
size_t fw_nwarnings(const struct fw *fw);
const char *fw_warning(const struct fw *fw, size_t i);

/* Nebula's error texts for the refusal reasons ("" for FW_OK). */
const char *fw_reason_str(enum fw_reason r);

/*
 * Fill *p from the peer's certificate (the one of the handshake) and the
 * CA pool (for the issuing CA's name; pool may be NULL: no name), and
 * resolve it against fw (may be NULL: unresolved).  0 or VPN_ERR_NOMEM;
 * on error *p is cleared.  fw_peer_clear() frees; NULL-safe, idempotent.
 */
int fw_peer_init(struct fw_peer *p, const struct fw *fw,
    const struct cert *peer, const struct ca_pool *pool);
/* Re-resolve p's ids against fw (a no-op for the same table; fw NULL:
 * unresolve).  0 or VPN_ERR_NOMEM (p is then unresolved: still correct,
 * only slower). */
int fw_peer_refresh(struct fw_peer *p, const struct fw *fw);
void fw_peer_clear(struct fw_peer *p);

/*
 * Steps 2-4 of firewall.md 2: the remote IP must be the peer's (its cert
 * IPs as /32 and its subnets; with one IP and no subnets, that IP), the
 * local IP ours, and a rule of the direction's table must match.  Pure:
 * no allocation, no logging.
 */
enum fw_reason fw_check(const struct fw *fw, bool incoming,
    const struct fw_packet *p, const struct fw_peer *peer);
/* Steps 2-3 alone: the remote IP is the peer's and the local IP ours
 * (FW_OK, FW_BAD_REMOTE_IP or FW_BAD_LOCAL_IP). */
enum fw_reason fw_check_addrs(
    const struct fw *fw, const struct fw_packet *p, const struct fw_peer *peer);
bool fw_match(const struct fw *fw, bool incoming, const struct fw_packet *p,
    const struct fw_peer *peer);
/* Step 4 alone: is there a matching rule?  (The conntrack re-check of an
 * entry made under older rules tests only this, as Nebula does.) */
bool fw_match_rules(const struct fw *fw, bool incoming,
    const struct fw_packet *p, const struct fw_peer *peer);

#endif
