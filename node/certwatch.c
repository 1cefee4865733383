/*
 * node/certwatch.c: warnings ahead of certificate expiry (certwatch.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "certwatch.h"
#include "log.h"
#include "node.h"

#define HOUR (3600 * 1000000000LL)
#define DAY (24 * HOUR)

/* "2027-01-31T12:00:00Z" and "12d3h" */
static void
say(const char *what, const struct cert *x, int64_t real_s)
{
	char when[32], name[128];
	int64_t left = x->not_after - real_s;
	time_t t = (time_t)x->not_after;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "%" PRId64, x->not_after);
	log_sanitize(x->name.s, x->name.len, name, sizeof(name));
	if (left < 0)
		log_warnx("%s has expired: name=%s expiry=%s", what, name, when);
	else
		log_warnx("%s expires soon: name=%s expiry=%s in=%" PRId64
		          "d%" PRId64 "h (pki.expiry_warning)",
		    what, name, when, left / 86400, left % 86400 / 3600);
}

size_t
certwatch_check(const struct node_cfg *c, int64_t real_s, int64_t within)
{
	const struct cert *ca;
	size_t n = 0, i;

	if (c->cert->not_after < real_s + within) {
		say("Certificate (pki.cert)", c->cert, real_s);
		n++;
	}
	for (i = 0; i < ca_pool_count(c->ca); i++) {
		ca = ca_pool_get(c->ca, i, NULL);
		if (ca != NULL && ca->not_after < real_s + within) {
			say("CA certificate (pki.ca)", ca, real_s);
			n++;
		}
	}
	return n;
}

void
certwatch_tick(struct certwatch *w, const struct node_cfg *c, int64_t mono,
    int64_t real_s)
{
	if (c->expiry_warning == 0 ||
	    (w->checked != 0 && mono - w->checked < HOUR))
		return;
	w->checked = mono;
	if (w->warned != 0 && mono - w->warned < DAY)
		return;
	if (certwatch_check(c, real_s, c->expiry_warning / 1000000000) > 0)
		w->warned = mono;
}

void
certwatch_reset(struct certwatch *w)
{
	w->checked = w->warned = 0;
}
