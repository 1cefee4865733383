/*
 * node/lhserver.c: the lighthouse's registry and answers (lhserver.h).
 */
#include <stdlib.h>

#include "err.h"
#include "hostmap.h"
#include "lhmsg.h"
#include "lhreg.h"
#include "lhserver.h"
#include "log.h"
#include "nodeint.h"
#include "nodelog.h"
#include "tunnel.h"
#include "worker.h"

#define LH_REG_MAX (1u << 22) /* registered hosts, at most */

struct lhserver {
	struct lhreg *reg;
	struct lhmsg out; /* scratch: no allocation per query */
	struct lhs_stats st;
	struct log_limit refuse_limit;
};

int
lhserver_new(struct lhserver **out)
{
	struct lhserver *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (s == NULL || (s->reg = lhreg_new(LH_REG_MAX)) == NULL) {
		free(s);
		return VPN_ERR_NOMEM;
	}
	*out = s;
	return 0;
}

void
lhserver_free(struct lhserver *s)
{
	if (s == NULL)
		return;
	lhreg_free(s->reg);
	free(s);
}

static void
send_msg(struct node *n, struct tunnel *t, const struct lhmsg *m)
{
	uint8_t buf[LHMSG_ENCODED_MAX];
	size_t len;

	if (lhmsg_encode(m, buf, sizeof(buf), &len) != 0)
		return;
	tunnel_send(n, t, HDR_LIGHTHOUSE, HDR_SUB_NONE, buf, len);
	worker_count_lh(n->wk->st.lh_tx, (unsigned)m->type, 1);
}

/* Answer a query, and tell the queried host to punch towards the
 * querier. */
static void
answer(struct node *n, struct tunnel *t, const struct lhmsg *q)
{
	struct lhserver *s = n->lhs;
	struct lhmsg *r = &s->out;
	struct tunnel *target;

	s->st.queries++;
	if (lhreg_reply(s->reg, q->vpn_ip, r) != 0)
		return;
	r->type = LHMSG_HOST_QUERY_REPLY;
	r->vpn_ip = q->vpn_ip;
	send_msg(n, t, r);
	s->st.replies++;
	target = hostmap_by_ip(n->hm, q->vpn_ip);
	if (target != NULL && lhreg_reply(s->reg, t->vpn_ip, r) == 0) {
		r->type = LHMSG_HOST_PUNCH_NOTIFICATION;
		r->vpn_ip = t->vpn_ip;
		send_msg(n, target, r);
	}
}

void
lhserver_recv(struct node *n, struct tunnel *t, const struct lhmsg *m)
{
	struct lhserver *s = n->lhs;
	const struct node_cfg *c = n->cfg;
	struct log_ev ev;
	int r;

	if (m->type == LHMSG_HOST_QUERY) {
		answer(n, t, m);
		return;
	}
	/* An update, keyed by the tunnel's certificate address: one that
	 * claims another host's IP is refused. */
	if ((r = lhreg_update(s->reg, t->vpn_ip, m, c->remote_allow,
	         c->remote_ranges, c->vpn_ip, c->vpn_mask, node_mono_ns())) !=
	    0) {
		s->st.refused++;
		/* Nebula's words (at debug level there) for another host's
		 * IP; ours for a full registry */
		if (log_enabled(LOG_LVL_WARN) &&
		    log_limit_allow(
		        &s->refuse_limit, node_mono_ns() / 1000000000, 5, 20) &&
		    log_ev_begin(&ev, LOG_LVL_WARN, "%s",
		        r == VPN_ERR_INVAL ? "Host sent invalid update"
		                           : "Host update refused")) {
			nodelog_tunnel(&ev, t);
			log_ev_ip4(&ev, "answer", m->vpn_ip);
			if (r != VPN_ERR_INVAL)
				log_ev_err(&ev, vpn_strerror(r));
			log_ev_end(&ev);
		}
		return;
	}
	s->st.updates++;
}

void
lhserver_learned(struct lhserver *s, const struct tunnel *t)
{
	lhreg_learned(
	    s->reg, t->vpn_ip, t->remote.ip, t->remote.port, node_mono_ns());
}

void
lhserver_forget(struct lhserver *s, uint32_t vpn_ip)
{
	lhreg_forget(s->reg, vpn_ip);
}

size_t
lhserver_registered(const struct lhserver *s)
{
	return lhreg_count(s->reg);
}

const struct lhreg *
lhserver_reg(const struct lhserver *s)
{
	return s->reg;
}

const struct lhs_stats *
lhserver_stats(const struct lhserver *s)
{
	return &s->st;
}
