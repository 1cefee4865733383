/*
 * node/punch.c: hole punching and punchy (punch.h).
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hostmap.h"
#include "lhmsg.h"
#include "log.h"
#include "nodeint.h"
#include "punch.h"
#include "remotes.h"
#include "tunnel.h"
#include "worker.h"

#define PUNCH_RESPOND_DELAY 5 /* s, wire.md 8.5 */
#define PUNCHY_INTERVAL 10    /* s, wire.md 11 */

/* A punch or punch response waiting for its delay: a timer on the
 * node's base, made the first time the job is needed, reused after. */
struct punch_job {
	struct node *n;
	struct event *ev;
	bool busy, respond;
	uint32_t vpn_ip; /* respond: the querier */
	size_t na;
	struct udp_addr a[2 * LHMSG_MAX];
};

struct punch {
	struct punch_job *job[PUNCH_JOBS];
	struct event *ev_punchy; /* punchy.punch */
	struct punch_stats st;
	struct log_limit drop_limit;
};

/* One byte towards each address: opens our NAT (the peer drops it). */
static void
punch_to(struct worker *w, const struct udp_addr *a, size_t na, uint8_t b)
{
	uint8_t *slot;
	size_t i;

	for (i = 0; i < na; i++) {
		slot = worker_slot(w);
		slot[0] = b;
		worker_commit(w, &a[i], 1);
	}
}

static void
on_job(evutil_socket_t fd, short what, void *arg)
{
	struct punch_job *j = arg;
	struct log_ev ev;
	size_t i;

	(void)fd;
	(void)what;
	j->busy = false;
	if (j->respond) {
		if (log_ev_begin(&ev, LOG_LVL_DEBUG,
		        "Sending a nebula test packet to vpn ip %u.%u.%u.%u",
		        j->vpn_ip >> 24, j->vpn_ip >> 16 & 255,
		        j->vpn_ip >> 8 & 255, j->vpn_ip & 255))
			log_ev_end(&ev);
		node_send(
		    j->n, j->vpn_ip, HDR_TEST, HDR_SUB_TEST_REQUEST, NULL, 0);
	} else {
		for (i = 0; i < j->na; i++) /* Nebula's words */
			if (log_ev_begin(&ev, LOG_LVL_DEBUG,
			        "Punching on %u for %u.%u.%u.%u", j->a[i].port,
			        j->vpn_ip >> 24, j->vpn_ip >> 16 & 255,
			        j->vpn_ip >> 8 & 255, j->vpn_ip & 255))
				log_ev_end(&ev);
		punch_to(j->n->wk, j->a, j->na, 0x00);
	}
	worker_flush(j->n->wk);
}

/* A free job, or NULL (counted). */
static struct punch_job *
free_job(struct node *n)
{
	struct punch *p = n->punch;
	struct punch_job *j;
	struct log_ev ev;
	size_t i;

	for (i = 0; i < PUNCH_JOBS; i++) {
		if ((j = p->job[i]) == NULL) {
			if ((j = calloc(1, sizeof(*j))) == NULL)
				break;
			j->n = n;
			if ((j->ev = evtimer_new(n->base, on_job, j)) == NULL) {
				free(j);
				break;
			}
			p->job[i] = j;
		}
		if (!j->busy)
			return j;
	}
	p->st.dropped++;
	if (log_limit_allow(
	        &p->drop_limit, node_mono_ns() / 1000000000, 0.1, 1) &&
	    log_ev_begin(&ev, LOG_LVL_WARN,
	        "Punch notification dropped: punches already wait for "
	        "punchy.delay")) {
		log_ev_u64(&ev, "waiting", PUNCH_JOBS);
		log_ev_u64(&ev, "lhPunchDropped", p->st.dropped);
		log_ev_end(&ev);
	}
	return NULL;
}

static void
schedule(struct punch_job *j, int64_t ns)
{
	struct timeval tv = {
	    (time_t)(ns / 1000000000), (suseconds_t)(ns % 1000000000 / 1000)};

	j->busy = evtimer_add(j->ev, &tv) == 0;
}

void
punch_notified(struct node *n, const struct lhmsg *m)
{
	struct punch_job *j;
	size_t i;

	if ((j = free_job(n)) == NULL)
		return;
	j->respond = false;
	j->vpn_ip = m->vpn_ip;
	j->na = 0;
	for (i = 0; i < m->n4 && j->na < 2 * LHMSG_MAX; i++)
		udp_addr_from_v4(&j->a[j->na++], m->v4[i].ip, m->v4[i].port);
	for (i = 0; i < m->n6 && j->na < 2 * LHMSG_MAX; i++) {
		memcpy(j->a[j->na].ip, m->v6[i].ip, 16);
		j->a[j->na++].port = m->v6[i].port;
	}
	n->punch->st.punches++;
	schedule(j, n->cfg->punch_delay);
	if (!n->cfg->punch_respond || (j = free_job(n)) == NULL)
		return;
	j->respond = true;
	j->vpn_ip = m->vpn_ip;
	j->na = 0;
	schedule(j, PUNCH_RESPOND_DELAY * 1000000000LL);
}

/* punchy.punch: keep NAT mappings open towards every known address. */
static void
on_punchy(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	struct udp_addr a[REMOTES_MAX + 1];
	struct tunnel *t;
	size_t it = 0, na, i;

	(void)fd;
	(void)what;
	while (hostmap_next(n->hm, &it, &t)) {
		na = remotes_addrs(
		    n->rem, n->cfg, t->vpn_ip, a, sizeof(a) / sizeof(a[0]) - 1);
		for (i = 0; i < na; i++)
			if (udp_addr_eq(&a[i], &t->remote))
				break;
		if (i == na)
			a[na++] = t->remote;
		punch_to(n->wk, a, na, 0x01);
	}
	worker_flush(n->wk);
}

/* The punchy timer running when punchy.punch says so, and only then; the
 * first round 10 s after it starts. */
static int
punchy_follow(struct node *n, struct punch *p)
{
	struct timeval tv = {PUNCHY_INTERVAL, 0};

	if (n->cfg->punch == (p->ev_punchy != NULL))
		return 0;
	if (n->cfg->punch) {
		p->ev_punchy = event_new(n->base, -1, EV_PERSIST, on_punchy, n);
		if (p->ev_punchy != NULL && event_add(p->ev_punchy, &tv) == 0)
			return 0;
	}
	if (p->ev_punchy != NULL)
		event_free(p->ev_punchy);
	p->ev_punchy = NULL;
	return n->cfg->punch ? VPN_ERR_NOMEM : 0;
}

int
punch_new(struct node *n, struct punch **out)
{
	struct punch *p = calloc(1, sizeof(*p));

	*out = p;
	if (p == NULL)
		return VPN_ERR_NOMEM;
	if (n->cfg->punch)
		log_info("UDP hole punching enabled");
	return punchy_follow(n, p);
}

void
punch_reload(struct node *n)
{
	if (punchy_follow(n, n->punch) != 0)
		log_warnx("punchy.punch: out of memory, not punching");
}

bool
punch_punchy(const struct punch *p)
{
	return p->ev_punchy != NULL;
}

void
punch_free(struct punch *p)
{
	size_t i;

	if (p == NULL)
		return;
	if (p->ev_punchy != NULL)
		event_free(p->ev_punchy);
	for (i = 0; i < PUNCH_JOBS; i++) {
		if (p->job[i] == NULL)
			continue;
		event_free(p->job[i]->ev); /* cancels a pending one */
		free(p->job[i]);
	}
	free(p);
}

const struct punch_stats *
punch_stats(const struct punch *p)
{
	return &p->st;
}
