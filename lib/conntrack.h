/*
 * lib/conntrack.h: the firewall's connection table (firewall.md 5), and
 * fw_decide(), the whole decision for one packet (firewall.md 2).
 *
 * Entries are keyed by the locally oriented tuple of struct fw_packet
 * (local/remote IP and port, protocol, fragment flag; not the direction)
 * and by their owner, the tunnel the flow was let in on (struct
 * ct_owner, embedded in the caller's tunnel), so the reply to a flow
 * hits the flow's entry only when it comes through the same tunnel: a
 * peer cannot ride on another peer's flow, even where their
 * certificates' subnets overlap.  Each entry records the direction and
 * the rules version that let it in, and an expiry: creation and every
 * hit set it to now + the protocol's timeout (fw_timeout(): TCP, UDP,
 * everything else).  No TCP state: FIN and RST do not end an entry.
 *
 * Bounded: at most `max` entries, and at most the owner share
 * (conntrack_set_owner_max()) per owner, so that one peer with
 * permissive inbound rules cannot fill the table for everyone; when
 * either is reached (after reclaiming what has expired) a new flow is
 * refused and counted, and fw_decide() drops it.  Entries come from a
 * pool that grows by doubling up to `max`, so memory is allocated only
 * when the table grows, never per packet once warm.  An owner's entries
 * are on a list through the pool: they go with the tunnel
 * (conntrack_owner_release()) or move to its successor
 * (conntrack_owner_move()) in time linear in their number.
 *
 * Expiry is lazy and incremental: a lookup that finds an expired entry
 * removes it and misses (stricter than Nebula, whose expired entries can
 * match until its timer wheel purges them); conntrack_expire() advances a
 * one-second timer wheel over a bounded budget of slots and entries (a
 * refreshed entry is moved on, an expired one freed).  fw_decide() runs
 * it with a small budget on every packet, as Nebula purges on every
 * lookup; the daemon's 1 s timer may run it with a larger one.
 *
 * Times are the caller's monotonic clock in nanoseconds (>= 0).  No
 * locking: one thread owns a table.  No logging.
 */
#ifndef VPN_CONNTRACK_H
#define VPN_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firewall.h"
#include "ippkt.h"

#define CONNTRACK_DEFAULT_MAX (1u << 20)
#define CONNTRACK_TICK_NS INT64_C(1000000000) /* wheel granularity */
#define CONNTRACK_WHEEL_SLOTS 1024            /* ~17 min at one tick */
#define CONNTRACK_PACKET_BUDGET 8             /* fw_decide's expiry work */

struct conntrack; /* opaque */

/* A tunnel's part of the table: set up with conntrack_owner_init(),
 * released with conntrack_owner_release() before its memory goes.  The
 * fields are the table's. */
struct ct_owner {
	uint32_t head;	/* first entry of the owner's list */
	uint32_t count; /* entries held */
};

struct conntrack_stats {
	uint64_t added;     /* entries created */
	uint64_t expired;   /* removed for age (sweep or lookup) */
	uint64_t full;      /* new flows refused: table at max */
	uint64_t owner_full; /* new flows refused: the owner's share */
	uint64_t released;   /* removed with their owner */
	uint64_t nomem;     /* new flows refused: pool growth failed */
	uint64_t restamped; /* old-version entries kept after a re-check */
	uint64_t deleted;   /* removed by conntrack_del */
	uint64_t flushed;   /* removed by conntrack_flush */
	uint64_t grown;     /* pool growths */
};

/*
 * A table for at most max entries (0: CONNTRACK_DEFAULT_MAX; at most
 * 2^31).  0: *out is the caller's (conntrack_free).  VPN_ERR_NOMEM,
 * VPN_ERR_RANGE, or VPN_ERR_CRYPTO (no randomness for the hash seed).
 */
int conntrack_new(size_t max, struct conntrack **out);
void conntrack_free(struct conntrack *ct); /* NULL-safe */

/* Owners.  NULL may be passed wherever an owner is taken: such entries
 * belong to no tunnel (tools and tests) and have no share. */
void conntrack_owner_init(struct ct_owner *o);
/* Forget every entry of o (its tunnel is going). */
void conntrack_owner_release(struct conntrack *ct, struct ct_owner *o);
/* Give from's entries to `to` (a tunnel replaced by a new handshake with
 * the same certificate); a tuple that `to` already tracks keeps to's. */
void conntrack_owner_move(
    struct conntrack *ct, struct ct_owner *from, struct ct_owner *to);
/* Entries per owner, at most (0 or more than max: max).  Takes effect
 * for new entries; an owner above a lowered share keeps what it has. */
void conntrack_set_owner_max(struct conntrack *ct, size_t max);
size_t conntrack_owner_max(const struct conntrack *ct);

/*
 * Is p's tuple tracked for owner and unexpired at now_ns?  An expired entry is
 * removed and misses.  On a hit, *stale tells whether the entry was made
 * under a rules version other than `version`, and *entry_incoming (may be
 * NULL) the direction it recorded.  A current hit pushes the expiry to
 * now_ns + timeout_ns; a stale one is left alone: the caller re-checks
 * the packet with fw_match_rules() against the table of the recorded
 * direction and then calls conntrack_restamp() or conntrack_del().
 */
bool conntrack_lookup(struct conntrack *ct, const struct fw_packet *p,
    const struct ct_owner *owner, int64_t now_ns, uint64_t version,
    int64_t timeout_ns, bool *stale, bool *entry_incoming);

/*
 * Track p's tuple for owner (create, or overwrite an existing entry) as
 * allowed in the given direction by rules `version`, expiring at now_ns
 * + timeout_ns.  0; VPN_ERR_RANGE when the table is full or the owner
 * holds its share; VPN_ERR_NOMEM when the pool could not grow.  Each is
 * counted in the stats.
 */
int conntrack_add(struct conntrack *ct, const struct fw_packet *p,
    struct ct_owner *owner, bool incoming, int64_t now_ns, uint64_t version,
    int64_t timeout_ns);

/*
 * Stamp an entry with `version` and push its expiry (a re-check passed).
 * 0, or VPN_ERR_INVAL if the tuple is not tracked (or has expired: an
 * expired entry is never brought back).
 */
int conntrack_restamp(struct conntrack *ct, const struct fw_packet *p,
    const struct ct_owner *owner, int64_t now_ns, uint64_t version,
    int64_t timeout_ns);

/* Forget a tuple; false if it was not tracked (or had expired). */
bool conntrack_del(struct conntrack *ct, const struct fw_packet *p,
    const struct ct_owner *owner, int64_t now_ns);

/*
 * Advance the timer wheel to now_ns, freeing or moving at most `budget`
 * entries and passing at most CONNTRACK_WHEEL_SLOTS empty slots (the
 * cursor passes one slot per elapsed second, so that is cheap once
 * caught up).  Returns the entries freed.  Work left over is resumed by
 * the next call.
 */
size_t conntrack_expire(struct conntrack *ct, int64_t now_ns, size_t budget);

/* Forget everything (a rules-version wrap).  Keeps the memory. */
void conntrack_flush(struct conntrack *ct);

/* Entries held, counting expired ones not yet swept. */
size_t conntrack_count(const struct conntrack *ct);
size_t conntrack_max(const struct conntrack *ct);
const struct conntrack_stats *conntrack_stats(const struct conntrack *ct);

/* --- the decision ----------------------------------------------------- */

enum fw_verdict {
	FW_ACCEPT,
	FW_DROP,
	FW_REJECT, /* refused and the direction's action is reject */
};

/* Why, for the caller's counters. */
enum fw_why {
	FW_WHY_CONNTRACK, /* accepted: tracked flow (incl. re-checked) */
	FW_WHY_RULE,      /* accepted by a rule; now tracked */
	FW_WHY_REMOTE_IP, /* refused: remote IP not the peer's */
	FW_WHY_LOCAL_IP,  /* refused: local IP not ours */
	FW_WHY_NO_RULE,   /* refused: no rule */
	FW_WHY_CT_FULL,   /* a rule matched but the table is full: drop */
	FW_WHY_PEER_FULL, /* a rule matched but the owner holds its share */
};

/*
 * Nebula's Drop (firewall.md 2), with the address checks first: the
 * remote IP must be the peer's and the local IP ours (fw_check_addrs())
 * for every packet, tracked or not (Nebula 1.6.1 lets a conntrack hit
 * through before them); then a current conntrack hit of the owner
 * accepts; an entry from older rules is re-checked against the rules of
 * the direction it recorded (kept and restamped, or deleted and the
 * packet decided afresh); then the rules; an accepted packet is tracked
 * for the owner.  A refusal is FW_REJECT when fw_action() of the
 * direction says so, else FW_DROP; a full table or share is always
 * FW_DROP (it is not policy).  No allocation once the table is warm.
 * why may be NULL.
 */
enum fw_verdict fw_decide_why(const struct fw *fw, struct conntrack *ct,
    bool incoming, const struct fw_packet *p, const struct fw_peer *peer,
    struct ct_owner *owner, int64_t now_ns, enum fw_why *why);
enum fw_verdict fw_decide(const struct fw *fw, struct conntrack *ct,
    bool incoming, const struct fw_packet *p, const struct fw_peer *peer,
    struct ct_owner *owner, int64_t now_ns);

#endif
