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

/* "Certificate (pki.cert) expires soon" certName=.. expiry=2027-01-31T12:00:00Z
 * expiresIn=12d3h */
static void
say(const char *what, const struct cert *x, int64_t real_s)
{
	int64_t left = x->not_after - real_s;
	time_t t = (time_t)x->not_after;
	struct log_ev ev;
	char when[32];
	struct tm tm;

	if (!log_ev_begin(&ev, LOG_LVL_WARN, "%s %s", what,
	        left < 0 ? "has expired" : "expires soon"))
		return;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "%" PRId64, x->not_after);
	log_ev_peer(&ev, "certName", x->name.s, x->name.len);
	log_ev_str(&ev, "expiry", when);
	if (left >= 0) {
		log_ev_strf(&ev, "expiresIn", "%" PRId64 "d%" PRId64 "h",
		    left / 86400, left % 86400 / 3600);
		log_ev_str(&ev, "setting", "pki.expiry_warning");
	}
	log_ev_end(&ev);
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
