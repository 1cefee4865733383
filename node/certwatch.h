/*
 * node/certwatch.h: warnings ahead of certificate expiry.  A network
 * whose CA or node certificates expire stops without notice; so once an
 * hour this looks at our own certificate and every CA of pki.ca, and
 * when one expires within pki.expiry_warning (default 30 days) it says
 * so as a warning: at once, then daily, and after each reload.
 *
 * Owns: when it last looked and last warned.  Reads the configuration.
 */
#ifndef NODE_CERTWATCH_H
#define NODE_CERTWATCH_H

#include <stddef.h>
#include <stdint.h>

struct node;
struct node_cfg;

struct certwatch {
	int64_t checked; /* monotonic ns of the last look; 0: never */
	int64_t warned;	 /* monotonic ns of the last warning; 0: never */
};

/* From the housekeeping timer: look if an hour has passed. */
void certwatch_tick(struct certwatch *w, const struct node_cfg *c,
    int64_t mono, int64_t real_s);
/* After a reload: look again now, and warn again if still due. */
void certwatch_reset(struct certwatch *w);

/* How many of c's certificates (ours, then the CAs) expire before
 * real_s + within (seconds); each is logged.  For the tick and tests. */
size_t certwatch_check(const struct node_cfg *c, int64_t real_s,
    int64_t within);

#endif
