/*
 * node/hsguard.h: admission of handshake messages 1 before their
 * public-key work (handshake.c).  Anyone can send message 1 and each
 * costs a responder an Ed25519 verification and three X25519 DHs, on
 * the loop that also carries the tunnels' packets.  So:
 *
 *  - a global budget: the responder's work may take cpu_percent of the
 *    loop's time (a token bucket of nanoseconds, refilled at that share
 *    of wall time, holding at most BURST of work);
 *  - under load (the budget below half, or a message refused for budget
 *    in the last second), per-source token buckets (per_source_rate a
 *    second, as many in a burst), and sources that completed a
 *    handshake lately go first: the last quarter of the budget is
 *    theirs alone.
 *
 * Pure bookkeeping: no clock (times come in), no I/O; the tables are
 * bounded and allocated when first needed.  A source is an underlay IPv4
 * address, or a relay's VPN address for messages that came through it.
 */
#ifndef NODE_HSGUARD_H
#define NODE_HSGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HSGUARD_BURST_NS 100000000LL /* 100 ms of work banked at most */
#define HSGUARD_SOURCES 4096         /* per-source buckets */
#define HSGUARD_KNOWN 4096           /* sources remembered as good */

enum hsguard_verdict {
	HSG_ADMIT,  /* go on */
	HSG_BUSY,   /* no budget now: wait (hsguard_wait) or drop */
	HSG_SOURCE, /* this source is over its rate: drop */
};

struct hsguard_stats {
	uint64_t admitted, busy, source_limited, known_first;
	uint64_t under_load; /* times load mode was entered */
};

struct hsguard;

/* cpu_percent 1..100, per_source_rate >= 1 a second. */
int hsguard_new(int cpu_percent, int per_source_rate, uint64_t seed,
    int64_t now, struct hsguard **out);
void hsguard_free(struct hsguard *g); /* NULL-safe */
/* New limits (a reload); the tables stay. */
void hsguard_set(struct hsguard *g, int cpu_percent, int per_source_rate);

/* May a message 1 from src start its work now?  HSG_ADMIT counts it. */
enum hsguard_verdict hsguard_admit(struct hsguard *g, uint32_t src,
    int64_t now);
/* Under load, is this message one to drop at once (its source over its
 * rate)?  Also counts it.  Out of load: false, nothing counted. */
bool hsguard_over_rate(struct hsguard *g, uint32_t src, int64_t now);
/* The work of an admitted message took ns. */
void hsguard_spent(struct hsguard *g, int64_t ns);
/* src completed a handshake: it goes first under load from now on. */
void hsguard_completed(struct hsguard *g, uint32_t src);
bool hsguard_known(const struct hsguard *g, uint32_t src);
bool hsguard_under_load(struct hsguard *g, int64_t now);
/* Nanoseconds from now until the budget allows a message from a known
 * (known = true) or any source again; 0 if it does now. */
int64_t hsguard_wait(struct hsguard *g, bool known, int64_t now);
const struct hsguard_stats *hsguard_stats(const struct hsguard *g);

#endif
