/*
 * node/connmgr.c: liveness of tunnels (connmgr.h).
 */
#include <stdbool.h>
#include <stdlib.h>

#include "connmgr.h"
#include "nodeint.h"
#include "tunnel.h"
#include "worker.h"

#define CM_BUDGET 256 /* checks a tick, at most */

struct cmq {
	struct tunnel *head, *tail;
};

struct connmgr {
	struct cmq alive, del;
};

struct connmgr *
connmgr_new(void)
{
	return calloc(1, sizeof(struct connmgr));
}

void
connmgr_free(struct connmgr *cm)
{
	free(cm);
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
	enqueue(n->cm, t, CHECK_DELETE, node_mono_ns(), true);
}

void
connmgr_tick(struct node *n)
{
	struct connmgr *cm = n->cm;
	int64_t now = node_mono_ns();
	struct tunnel *t;
	size_t work = 0;

	while ((t = cm->alive.head) != NULL && t->check_at <= now &&
	       work++ < CM_BUDGET) {
		if (!tunnel_peer_valid(n, t)) {
			tunnel_send(
			    n, t, HDR_CLOSE_TUNNEL, HDR_SUB_NONE, NULL, 0);
			tunnel_delete(n, t, "certificate no longer valid");
		} else if (t->in) {
			if (t->relayed) /* a direct path, if one works now */
				tunnel_probe_preferred(n, t);
			settle(cm, t);
		} else {
			tunnel_send(
			    n, t, HDR_TEST, HDR_SUB_TEST_REQUEST, NULL, 0);
			enqueue(cm, t, CHECK_DELETE,
			    now + n->cfg->deletion_interval * 1000000000LL,
			    false);
		}
	}
	while ((t = cm->del.head) != NULL && t->check_at <= now &&
	       work++ < CM_BUDGET) {
		if (t->in)
			settle(cm, t);
		else
			tunnel_delete(n, t, "no reply to test packets");
	}
	worker_flush(n->wk);
}
