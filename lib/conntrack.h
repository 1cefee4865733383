/*
 * lib/conntrack.h: the firewall's connection table (firewall.md 5), and
 * fw_decide(), the whole decision for one packet (firewall.md 2).
 *
 * Entries are keyed by the locally oriented tuple of struct fw_packet
 * (local/remote IP and port, protocol, fragment flag; not the direction,
 * not the peer), so the reply to a flow hits the flow's entry.  Each
 * entry records the direction and the rules version that let it in, and
 * an expiry: creation and every hit set it to now + the protocol's
 * timeout (fw_timeout(): TCP, UDP, everything else).  No TCP state: FIN
 * and RST do not end an entry.
 *
 * Bounded: at most `max` entries; when full (after reclaiming what has
 * expired) a new flow is refused and counted, and fw_decide() drops it.
 * Entries come from a pool that grows by doubling up to `max`, so memory
 * is allocated only when the table grows, never per packet once warm.
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

struct conntrack_stats {
	uint64_t added;     /* entries created */
	uint64_t expired;   /* removed for age (sweep or lookup) */
	uint64_t full;      /* new flows refused: table at max */
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

/*
 * Is p's tuple tracked and unexpired at now_ns?  An expired entry is
 * removed and misses.  On a hit, *stale tells whether the entry was made
 * under a rules version other than `version`, and *entry_incoming (may be
 * NULL) the direction it recorded.  A current hit pushes the expiry to
 * now_ns + timeout_ns; a stale one is left alone: the caller re-checks
 * the packet with fw_match_rules() against the table of the recorded
 * direction and then calls conntrack_restamp() or conntrack_del().
 */
bool conntrack_lookup(struct conntrack *ct, const struct fw_packet *p,
    int64_t now_ns, uint64_t version, int64_t timeout_ns, bool *stale,
    bool *entry_incoming);

/*
 * Track p's tuple (create, or overwrite an existing entry) as allowed in
 * the given direction by rules `version`, expiring at now_ns +
 * timeout_ns.  0; VPN_ERR_RANGE when the table is full; VPN_ERR_NOMEM
 * when the pool could not grow.  Both are counted in the stats.
 */
int conntrack_add(struct conntrack *ct, const struct fw_packet *p,
    bool incoming, int64_t now_ns, uint64_t version, int64_t timeout_ns);

/*
 * Stamp an entry with `version` and push its expiry (a re-check passed).
 * 0, or VPN_ERR_INVAL if the tuple is not tracked (or has expired: an
 * expired entry is never brought back).
 */
int conntrack_restamp(struct conntrack *ct, const struct fw_packet *p,
    int64_t now_ns, uint64_t version, int64_t timeout_ns);

/* Forget a tuple; false if it was not tracked (or had expired). */
bool conntrack_del(
    struct conntrack *ct, const struct fw_packet *p, int64_t now_ns);

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
};

/*
 * Nebula's Drop (firewall.md 2): a current conntrack hit accepts; an
 * entry from older rules is re-checked against the rules of the
 * direction it recorded (kept and restamped, or deleted and the packet
 * decided afresh); then remote IP, local IP and rules (fw_check()); an
 * accepted packet is tracked.  A refusal is FW_REJECT when fw_action()
 * of the direction says so, else FW_DROP; a full table is always
 * FW_DROP (it is not policy).  No allocation once the table is warm.
 * why may be NULL.
 */
enum fw_verdict fw_decide_why(const struct fw *fw, struct conntrack *ct,
    bool incoming, const struct fw_packet *p, const struct fw_peer *peer,
    int64_t now_ns, enum fw_why *why);
enum fw_verdict fw_decide(const struct fw *fw, struct conntrack *ct,
    bool incoming, const struct fw_packet *p, const struct fw_peer *peer,
    int64_t now_ns);

#endif
