/*
 * lib/replay.h: Nebula's 1024-counter receive window (wire.md 5.2).
 *
 * check() runs before decryption and changes nothing; update() runs only
 * after the packet authenticated, and is the one that records it.  A
 * fixed bitmap, no allocation, no clock.  Counter c is tracked by bit
 * c mod 1024.
 */
#ifndef VPN_REPLAY_H
#define VPN_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define REPLAY_WINDOW 1024

struct replay {
	uint64_t cur; /* highest counter accepted so far */
	uint64_t bits[REPLAY_WINDOW / 64];
};

/*
 * A new window with counter 0 marked seen (cur = 0).  After the handshake
 * the tunnel also marks counters 1 and 2 with replay_update(), so that a
 * handshake packet can never be replayed as transport.
 */
void replay_init(struct replay *w);

/* Could counter c still be accepted?  No state change. */
bool replay_check(const struct replay *w, uint64_t c);

/* Record an authenticated counter: false for a duplicate or a counter
 * that fell out of the window (the packet must then be dropped). */
bool replay_update(struct replay *w, uint64_t c);

#endif
