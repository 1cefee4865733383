/*
 * lib/twheel.c: the hashed timing wheel.
 *
 * The one invariant: every armed entry e sits in slot home(e->at), the
 * slot of tick max(floor(at / tick), cursor + 1).  add and del keep it
 * trivially.  twheel_expire() moves the cursor to the tick before now's
 * and then re-files every entry of the slots it passed over, which puts
 * back in place all the entries whose home changed.  After that every
 * entry with at <= now has tick(at) <= cursor + 1, so it is in slot
 * cursor + 1, and expire need look nowhere else.
 *
 * Each slot is a circular list with entries added at the back.  expire
 * makes the entry it returns the head before unlinking it, so the entries
 * it passed over move to the back and the next call does not look at them
 * again first.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "twheel.h"

/* floor(t / tick): ticks of negative times round down too. */
static int64_t
tick_of(const struct twheel *w, int64_t t)
{
	int64_t q = t / w->tick;

	if (t % w->tick < 0)
		q--;
	return q;
}

static size_t
slot_of(const struct twheel *w, int64_t tick)
{
	return (size_t)((uint64_t)tick & (w->nslots - 1));
}

/* The slot an entry due at `at' belongs in, for the current cursor. */
static size_t
home(const struct twheel *w, int64_t at)
{
	int64_t t = tick_of(w, at);

	if (t <= w->cursor)
		t = w->cursor + 1;
	return slot_of(w, t);
}

/* Append e at the back of slot s. */
static void
slot_put(struct twheel *w, size_t s, struct twheel_entry *e)
{
	struct twheel_entry *h = w->slot[s];

	if (h == NULL) {
		e->next = e->prev = e;
		w->slot[s] = e;
		return;
	}
	e->next = h;
	e->prev = h->prev;
	h->prev->next = e;
	h->prev = e;
}

static void
slot_remove(struct twheel *w, size_t s, struct twheel_entry *e)
{
	if (e->next == e)
		w->slot[s] = NULL;
	else {
		e->prev->next = e->next;
		e->next->prev = e->prev;
		if (w->slot[s] == e)
			w->slot[s] = e->next;
	}
	e->next = e->prev = NULL;
}

/* Empty slot s and put each of its entries back in its home slot. */
static void
refile(struct twheel *w, size_t s)
{
	struct twheel_entry *e, *next;

	if ((e = w->slot[s]) == NULL)
		return;
	w->slot[s] = NULL;
	e->prev->next = NULL; /* a plain list now */
	for (; e != NULL; e = next) {
		next = e->next;
		slot_put(w, home(w, e->at), e);
	}
}

int
twheel_init(struct twheel *w, int64_t tick_ns, size_t nslots, int64_t now)
{
	size_t n = 2;

	memset(w, 0, sizeof(*w));
	if (tick_ns <= 0)
		return VPN_ERR_INVAL;
	while (n < nslots) {
		if (n > SIZE_MAX / 2 / sizeof(*w->slot))
			return VPN_ERR_NOMEM;
		n *= 2;
	}
	if ((w->slot = calloc(n, sizeof(*w->slot))) == NULL)
		return VPN_ERR_NOMEM;
	w->tick = tick_ns;
	w->nslots = n;
	w->cursor = tick_of(w, now) - 1;
	return 0;
}

void
twheel_free(struct twheel *w)
{
	free(w->slot);
	memset(w, 0, sizeof(*w));
}

void
twheel_add(struct twheel *w, struct twheel_entry *e, int64_t at)
{
	twheel_del(w, e);
	e->at = at;
	e->armed = true;
	slot_put(w, home(w, at), e);
	w->count++;
}

void
twheel_del(struct twheel *w, struct twheel_entry *e)
{
	if (!e->armed)
		return;
	slot_remove(w, home(w, e->at), e);
	e->armed = false;
	w->count--;
}

struct twheel_entry *
twheel_expire(struct twheel *w, int64_t now)
{
	struct twheel_entry *h, *e;
	int64_t nt = tick_of(w, now);
	uint64_t first, passed, i;
	size_t s;

	if (w->cursor + 1 < nt) {
		/* Ticks cursor+1 .. nt-1 are over.  Re-filing their slots
		 * (each slot once, however long we slept) moves what they
		 * hold that is due into the slot of tick nt. */
		first = (uint64_t)w->cursor + 1;
		passed = (uint64_t)nt - first;
		w->cursor = nt - 1;
		for (i = 0; i < passed && i < w->nslots && w->count > 0; i++)
			refile(w, slot_of(w, (int64_t)(first + i)));
	}
	s = slot_of(w, w->cursor + 1);
	if ((h = w->slot[s]) == NULL)
		return NULL;
	e = h;
	do {
		if (e->at <= now) {
			w->slot[s] = e; /* those passed over go to the back */
			slot_remove(w, s, e);
			e->armed = false;
			w->count--;
			return e;
		}
	} while ((e = e->next) != h);
	return NULL;
}

int64_t
twheel_next(const struct twheel *w)
{
	const struct twheel_entry *h, *e;
	int64_t t, best;
	size_t i;

	if (w->count == 0)
		return INT64_MAX;
	for (i = 0; i < w->nslots; i++)
		if (w->slot[slot_of(w, w->cursor + 1 + (int64_t)i)] != NULL)
			break;
	/* Every entry's home tick is at least t, and t * tick is no later
	 * than its deadline unless the entry is overdue, and then it is in
	 * slot cursor+1 (i == 0).  That slot is the one the tick under way
	 * may map to, whose start has passed: its entries are bounded by
	 * their own deadlines, every other slot's by the next tick's start,
	 * so that a caller setting a timer from this does not spin through
	 * the rest of the tick. */
	t = w->cursor + 1 + (int64_t)i;
	if (i == 0)
		t++;
	best = t > INT64_MAX / w->tick ? INT64_MAX : t * w->tick;
	if (i == 0) {
		e = h = w->slot[slot_of(w, t - 1)];
		do {
			if (e->at < best)
				best = e->at;
		} while ((e = e->next) != h);
	}
	return best;
}
