/* lib/replay.c: the sliding receive window, as Nebula 1.6.1's bits.go. */
#include <string.h>

#include "replay.h"

static bool
bit_get(const struct replay *w, uint64_t c)
{
	uint64_t i = c % REPLAY_WINDOW;

	return (w->bits[i / 64] >> (i % 64) & 1) != 0;
}

static void
bit_set(struct replay *w, uint64_t c)
{
	uint64_t i = c % REPLAY_WINDOW;

	w->bits[i / 64] |= (uint64_t)1 << (i % 64);
}

static void
bit_clear(struct replay *w, uint64_t c)
{
	uint64_t i = c % REPLAY_WINDOW;

	w->bits[i / 64] &= ~((uint64_t)1 << (i % 64));
}

/* Is c, not above cur, still inside the window?  (Before the window has
 * filled once, everything from 0 is.) */
static bool
in_window(const struct replay *w, uint64_t c)
{
	return w->cur < REPLAY_WINDOW || c > w->cur - REPLAY_WINDOW;
}

void
replay_init(struct replay *w)
{
	memset(w, 0, sizeof(*w));
	bit_set(w, 0);
}

bool
replay_check(const struct replay *w, uint64_t c)
{
	if (c > w->cur)
		return true;
	return in_window(w, c) && !bit_get(w, c);
}

bool
replay_update(struct replay *w, uint64_t c)
{
	uint64_t n;

	if (c > w->cur) {
		if (c - w->cur >= REPLAY_WINDOW) {
			/* A jump past the whole window forgets all of it. */
			memset(w->bits, 0, sizeof(w->bits));
		} else {
			/* Skipped counters may still arrive: clear their
			 * slots, which held counters now out of the window. */
			for (n = w->cur + 1; n < c; n++)
				bit_clear(w, n);
		}
		bit_set(w, c);
		w->cur = c;
		return true;
	}
	if (!in_window(w, c) || c == w->cur || bit_get(w, c))
		return false;
	bit_set(w, c);
	return true;
}
