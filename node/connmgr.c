/*
 * node/connmgr.c: liveness of tunnels (connmgr.h).
 */
#include <stdbool.h>
#include <stdlib.h>

#include "connmgr.h"
#include "handshake.h"
#include "hostmap.h"
#include "log.h"
#include "nodeint.h"
#include "nodelog.h"
#include "tunnel.h"
#include "worker.h"

#define CM_BUDGET 256 /* checks a tick, at most */
/* Test requests a silent tunnel is sent before it is deleted: one when
 * its alive check finds nothing came back, and one at each further
 * step of the deletion interval, so that a lost request or reply alone
 * does not end a tunnel that works (Nebula 1.6.1 sends one). */
#define CM_PROBES 3

struct cmq {
	struct tunnel *head, *tail;
};

struct connmgr {
	struct cmq alive, del;
	int64_t next_expiry; /* the first peer certificate to expire (Unix
	                        seconds), 0: none known */
	struct u32map recheck; /* our index -> when to verify again (mono
	                          ns, as a pointer) */
};

struct connmgr *
connmgr_new(void)
{
	struct connmgr *cm = calloc(1, sizeof(struct connmgr));

	if (cm != NULL)
		u32map_init(&cm->recheck);
	return cm;
}

void
connmgr_free(struct connmgr *cm)
{
	if (cm != NULL)
		u32map_free(&cm->recheck);
	free(cm);
}

void
connmgr_recheck(struct node *n, struct tunnel *t)
{
	int64_t at = node_mono_ns() + 500000000LL; /* + a tick: < 1 s */

	if (u32map_get(&n->cm->recheck, t->local_index) == NULL)
		u32map_put(&n->cm->recheck, t->local_index,
		    (void *)(intptr_t)at);
}

/* The tunnels given a second to come back with a valid certificate:
 * the ones still there (not replaced by a new handshake) are checked
 * again, and closed if they still do not verify. */
static void
recheck_due(struct node *n, int64_t now)
{
	struct connmgr *cm = n->cm;
	uint32_t due[64], k;
	size_t it = 0, cnt = 0, i;
	struct tunnel *t;
	void *v;

	while (cnt < 64 && u32map_next(&cm->recheck, &it, &k, &v))
		if ((int64_t)(intptr_t)v <= now)
			due[cnt++] = k;
	for (i = 0; i < cnt; i++) {
		u32map_del(&cm->recheck, due[i]);
		if ((t = hostmap_by_index(n->hm, due[i])) != NULL &&
		    !tunnel_peer_valid(n, t)) /* said why */
			tunnel_close(n, t, NULL);
	}
}

static struct cmq *
queue_of(struct connmgr *cm, const struct tunnel *t)
{
	return t->check == CHECK_DELETE ? &cm->del : &cm->alive;
}

void
connmgr_forget(struct connmgr *cm, struct tunnel *t)
{
	struct cmq *q;

	if (!t->armed)
		return;
	q = queue_of(cm, t);
	if (t->arm_prev != NULL)
		t->arm_prev->arm_next = t->arm_next;
	else
		q->head = t->arm_next;
	if (t->arm_next != NULL)
		t->arm_next->arm_prev = t->arm_prev;
	else
		q->tail = t->arm_prev;
	t->arm_next = t->arm_prev = NULL;
	t->armed = false;
	t->check = CHECK_NONE;
}

/* Queue t for a check at `at`: behind everything due earlier, or, with
 * front (at is now), ahead of everything. */
static void
enqueue(struct connmgr *cm, struct tunnel *t, enum check_state check,
    int64_t at, bool front)
{
	struct cmq *q;

	connmgr_forget(cm, t);
	t->check = check;
	t->check_at = at;
	q = queue_of(cm, t);
	t->armed = true;
	t->arm_next = front ? q->head : NULL;
	t->arm_prev = front ? NULL : q->tail;
	if (front && q->head != NULL)
		q->head->arm_prev = t;
	else if (!front && q->tail != NULL)
		q->tail->arm_next = t;
	if (front || q->head == NULL)
		q->head = t;
	if (!front || q->tail == NULL)
		q->tail = t;
}

void
connmgr_sent(struct node *n, struct tunnel *t)
{
	t->out = true;
	if (!t->armed)
		enqueue(n->cm, t, CHECK_ALIVE,
		    node_mono_ns() + n->cfg->alive_interval * 1000000000LL,
		    false);
}

/* Traffic came back since the check was armed: nothing to do until the
 * next packet out arms it again. */
static void
settle(struct connmgr *cm, struct tunnel *t)
{
	t->in = t->out = false;
	connmgr_forget(cm, t);
}

void
connmgr_doom(struct node *n, struct tunnel *t)
{
	t->in = false;
	t->probes = CM_PROBES; /* no test: it cannot reach its peer */
	enqueue(n->cm, t, CHECK_DELETE, node_mono_ns(), true);
}

void
connmgr_track(struct node *n, const struct tunnel *t)
{
	struct connmgr *cm = n->cm;

	if (cm->next_expiry == 0 || t->peer->not_after < cm->next_expiry)
		cm->next_expiry = t->peer->not_after;
}

/*
 * A peer certificate expired: its tunnel is closed (unless
 * pki.disconnect_invalid is false), and the next expiry found.  A walk
 * of the tunnels, only when one expires.
 */
static void
expire(struct node *n, int64_t now)
{
	struct connmgr *cm = n->cm;
	struct tunnel *t, **gone;
	size_t it = 0, cnt = 0, i;

	cm->next_expiry = 0;
	gone = malloc((hostmap_tunnels(n->hm) + 1) * sizeof(*gone));
	while (hostmap_next(n->hm, &it, &t)) {
		if (t->peer->not_after < now) {
			if (gone != NULL)
				gone[cnt++] = t;
		} else if (cm->next_expiry == 0 ||
		           t->peer->not_after < cm->next_expiry) {
			cm->next_expiry = t->peer->not_after;
		}
	}
	for (i = 0; i < cnt; i++)
		if (!tunnel_peer_valid(n, gone[i])) /* disconnect_invalid */
			tunnel_close(n, gone[i], NULL); /* said why */
	free(gone);
}

/* Nebula's "Tunnel status": a check's verdict (debug), or the end of a
 * tunnel whose peer stopped answering (info). */
static void
status(const struct tunnel *t, enum log_level level, const char *state,
    const char *method)
{
	struct log_ev ev;

	if (!log_ev_begin(&ev, level, "Tunnel status"))
		return;
	nodelog_tunnel(&ev, t);
	nodelog_check(&ev, state, method);
	log_ev_end(&ev);
}

/* A test request to t, and its next check a step of the deletion
 * interval from now.  Queued behind everything (every step is the same
 * length from a tick's now, so the queue stays in due order); a step
 * ends at the first tick after it, so the last check comes at most a
 * tick per step after the deletion interval. */
static void
probe(struct node *n, struct tunnel *t, int64_t now)
{
	status(t, LOG_LVL_DEBUG, "testing", "active");
	tunnel_send(n, t, HDR_TEST, HDR_SUB_TEST_REQUEST, NULL, 0);
	t->probes++;
	enqueue(n->cm, t, CHECK_DELETE,
	    now + n->cfg->deletion_interval * 1000000000LL / CM_PROBES, false);
}

void
connmgr_tick(struct node *n)
{
	struct connmgr *cm = n->cm;
	int64_t now = node_mono_ns();
	struct tunnel *t;
	size_t work = 0;
	int64_t real = node_real_ns() / 1000000000;

	/* expired when past not_after, as Nebula's Expired() */
	if (cm->next_expiry != 0 && real > cm->next_expiry)
		expire(n, real);
	if (cm->recheck.len > 0)
		recheck_due(n, now);

	while ((t = cm->alive.head) != NULL && t->check_at <= now &&
	       work++ < CM_BUDGET) {
		/* made with our previous certificate: a new handshake
		 * replaces it, while it carries traffic meanwhile */
		if (t->cert_gen != n->cert_gen)
			hs_start(n, t->vpn_ip, 0, 0, NULL, 0);
		if (!tunnel_revalidate(n, t)) {
			continue; /* closed */
		} else if (t->in) {
			if (t->relayed) /* a direct path, if one works now */
				tunnel_probe_preferred(n, t);
			status(t, LOG_LVL_DEBUG, "alive", "passive");
			settle(cm, t);
		} else {
			t->probes = 0;
			probe(n, t, now);
		}
	}
	while ((t = cm->del.head) != NULL && t->check_at <= now &&
	       work++ < CM_BUDGET) {
		if (t->in) {
			status(t, LOG_LVL_DEBUG, "alive", "active");
			settle(cm, t);
		} else if (t->probes < CM_PROBES) {
			probe(n, t, now);
		} else {
			status(t, LOG_LVL_INFO, "dead", "active");
			tunnel_delete(n, t, NULL);
		}
	}
	worker_flush(n->wk);
}
