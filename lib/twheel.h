/*
 * lib/twheel.h: a hashed timing wheel for many timers with few distinct
 * deadlines (pending handshakes that retry on growing intervals).
 *
 * Intrusive: the caller embeds a struct twheel_entry in its own object
 * and owns it; the wheel owns only its slot array.  No allocation after
 * twheel_init(), no clock: the caller passes the time, in nanoseconds of
 * CLOCK_MONOTONIC, and it never goes backwards between calls.
 *
 * An entry lives in the slot of tick max(at / tick, cursor + 1), modulo
 * nslots.  So an entry that is overdue, or due within the tick now under
 * way, is always in the one slot that twheel_expire() looks at first, and
 * an entry whole rotations ahead waits in its slot until its round comes.
 */
#ifndef VPN_TWHEEL_H
#define VPN_TWHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct twheel_entry { /* embedded in the caller's object */
	struct twheel_entry *next, *prev;
	int64_t at; /* deadline, ns (monotonic) */
	bool armed;
};

struct twheel {
	int64_t tick;   /* slot width, ns, > 0 */
	int64_t cursor; /* the tick last swept: ticks to here done */
	size_t nslots;  /* a power of two */
	struct twheel_entry **slot; /* heads of circular doubly linked lists */
	size_t count;               /* armed entries */
};

/*
 * nslots is rounded up to a power of two (min 2); the wheel starts at now
 * (>= 0).  0, VPN_ERR_INVAL when tick_ns <= 0, or VPN_ERR_NOMEM.  On
 * failure twheel_free() is still safe.
 */
int twheel_init(struct twheel *w, int64_t tick_ns, size_t nslots, int64_t now);
/* Frees the slot array only (NULL-safe contents); entries are the caller's
 * and are left as they are. */
void twheel_free(struct twheel *w);

/* Arm e for `at' (re-arming an armed entry moves it).  An `at' in the past
 * fires on the next twheel_expire().  A new entry must start zeroed (or
 * at least with armed false). */
void twheel_add(struct twheel *w, struct twheel_entry *e, int64_t at);
/* Disarm e; a no-op when it is not armed. */
void twheel_del(struct twheel *w, struct twheel_entry *e);

/*
 * One armed entry whose deadline is <= now, unlinked and disarmed, or NULL
 * when none is due.  Call in a loop until NULL; between calls the caller
 * may add and delete any entries, including re-adding the returned one.
 * Amortised cost: O(slots swept + entries looked at).  When more than
 * nslots ticks have passed since the last sweep, every slot is swept once.
 */
struct twheel_entry *twheel_expire(struct twheel *w, int64_t now);

/*
 * The earliest tick boundary at which something may be due (or an overdue
 * entry's own deadline, if earlier), or INT64_MAX when the wheel is empty.
 * Never later than the earliest deadline; may be earlier.
 */
int64_t twheel_next(const struct twheel *w);

#endif
