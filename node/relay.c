/*
 * node/relay.c: relays (relay.h).  The table is three maps: entries by
 * our index, chains of entries by far peer, and a count per neighbour
 * (the bound, and a quick "nothing over this tunnel").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connmgr.h"
#include "crypto.h"
#include "err.h"
#include "handshake.h"
#include "hostmap.h"
#include "log.h"
#include "nebctl.h"
#include "nodeint.h"
#include "nodelog.h"
#include "relay.h"
#include "remotes.h"
#include "tunnel.h"
#include "wire.h"
#include "worker.h"

enum { TERMINAL, FORWARDING };
enum { REQUESTED, ESTABLISHED };

struct relay {
	uint32_t local, remote; /* indexes: ours, the neighbour's (or 0) */
	uint32_t via, peer;	/* the neighbour; the far peer */
	uint8_t type, state;
	struct relay *next; /* the next entry for the same peer */
	struct relay *pair; /* forwarding: the other half, or NULL */
};

struct relays {
	struct u32map by_index; /* our index -> entry */
	struct u32map by_peer;	/* far peer -> chain of entries */
	struct u32map per_via;	/* neighbour -> count, as a pointer */
	size_t count;
	struct relay_stats st;
	struct log_limit limit;
	struct log_limit ctl_limit; /* control messages received, said */
};

int
relays_new(struct relays **out)
{
	struct relays *r = calloc(1, sizeof(*r));

	*out = r;
	if (r == NULL)
		return VPN_ERR_NOMEM;
	u32map_init(&r->by_index);
	u32map_init(&r->by_peer);
	u32map_init(&r->per_via);
	return 0;
}

void
relays_free(struct relays *r)
{
	size_t it = 0;
	uint32_t k;
	void *v;

	if (r == NULL)
		return;
	while (u32map_next(&r->by_index, &it, &k, &v))
		free(v);
	u32map_free(&r->by_index);
	u32map_free(&r->by_peer);
	u32map_free(&r->per_via);
	free(r);
}

size_t
relays_count(const struct relays *r)
{
	return r->count;
}

size_t
relay_through(const struct relays *r, uint32_t via, uint32_t *out, size_t max)
{
	const struct relay *e;
	size_t i = 0, n = 0;
	uint32_t k;
	void *v;

	while (n < max && u32map_next(&r->by_index, &i, &k, &v)) {
		e = v;
		if (e->type == FORWARDING && e->state == ESTABLISHED &&
		    e->via == via)
			out[n++] = e->peer;
	}
	return n;
}

const struct relay_stats *
relays_stats(const struct relays *r)
{
	return &r->st;
}

static size_t
via_count(const struct relays *r, uint32_t via)
{
	return (size_t)(uintptr_t)u32map_get(&r->per_via, via);
}

static struct relay *
find(const struct relays *r, uint32_t via, uint32_t peer)
{
	struct relay *e = u32map_get(&r->by_peer, peer);

	while (e != NULL && e->via != via)
		e = e->next;
	return e;
}

void
relay_where(uint32_t via, char out[UDP_ADDR_STRLEN])
{
	memcpy(out, "relay:", 6);
	ip4_format(via, out + 6);
}

bool
relay_ready(const struct relays *r, uint32_t via, uint32_t peer)
{
	const struct relay *e = find(r, via, peer);

	return e != NULL && e->state == ESTABLISHED;
}

/* A refusal or a failure, counted and said now and then. */
static void
say(struct node *n, uint64_t *counter, const char *what, uint32_t via,
    uint32_t from, uint32_t to, const char *why)
{
	struct relays *r = n->relays;
	struct log_ev ev;

	(*counter)++;
	if (!log_enabled(LOG_LVL_WARN) ||
	    !log_limit_allow(&r->limit, node_mono_ns() / 1000000000, 5, 20) ||
	    !log_ev_begin(&ev, LOG_LVL_WARN, "%s", what))
		return;
	log_ev_ip4(&ev, "vpnIp", via);
	log_ev_ip4(&ev, "relayFrom", from);
	log_ev_ip4(&ev, "relayTo", to);
	log_ev_str(&ev, "reason", why);
	log_ev_end(&ev);
}

/* Nebula's line for each relay control message (handleCreateRelay...),
 * from the peer at hostInfo; now and then if a peer floods them. */
static void
said_ctl(struct node *n, const char *what, uint32_t host,
    const struct nebctl *m)
{
	struct log_ev ev;

	if (!log_enabled(LOG_LVL_INFO) ||
	    !log_limit_allow(&n->relays->ctl_limit, node_mono_ns() / 1000000000,
	        10, 50) ||
	    !log_ev_begin(&ev, LOG_LVL_INFO, "%s", what))
		return;
	log_ev_ip4(&ev, "relayFrom", m->relay_from_ip);
	log_ev_ip4(&ev, "relayTarget", m->relay_to_ip);
	log_ev_u64(&ev, "initiatorIdx", m->initiator_relay_index);
	if (m->type == NEBCTL_CREATE_RELAY_RESPONSE)
		log_ev_u64(&ev, "responderIdx", m->responder_relay_index);
	log_ev_ip4(&ev, "hostInfo", host);
	log_ev_end(&ev);
}

/* A new entry; NULL when at a bound (counted) or out of memory. */
static struct relay *
add(struct node *n, uint32_t via, uint32_t peer, uint32_t remote,
    uint8_t type, uint8_t state)
{
	struct relays *r = n->relays;
	size_t vc = via_count(r, via);
	struct relay *e;
	uint8_t b[4];
	int i;

	if (r->count >= RELAY_MAX || vc >= RELAY_MAX_PER_PEER) {
		say(n, &r->st.full, "Relay entry not made", via, 0, peer,
		    r->count >= RELAY_MAX
		        ? "the relay table is full"
		        : "the peer holds its share of the relay table");
		return NULL;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	for (i = 0; i < 32 && e->local == 0; i++) {
		if (crypto_random(b, 4) != 0)
			break;
		e->local = be32_get(b);
		if (u32map_get(&r->by_index, e->local) != NULL)
			e->local = 0;
	}
	e->remote = remote;
	e->via = via;
	e->peer = peer;
	e->type = type;
	e->state = state;
	e->next = u32map_get(&r->by_peer, peer);
	if (e->local == 0 || u32map_put(&r->by_index, e->local, e) != 0) {
		free(e);
		return NULL;
	}
	if (u32map_put(&r->by_peer, peer, e) != 0) {
		u32map_del(&r->by_index, e->local);
		free(e);
		return NULL;
	}
	if (u32map_put(&r->per_via, via, (void *)(uintptr_t)(vc + 1)) != 0) {
		u32map_del(&r->by_index, e->local);
		if (e->next != NULL) /* a replacement: no allocation */
			u32map_put(&r->by_peer, peer, e->next);
		else
			u32map_del(&r->by_peer, peer);
		free(e);
		return NULL;
	}
	r->count++;
	return e;
}

static void
drop(struct relays *r, struct relay *e)
{
	struct relay **pp, *head = u32map_get(&r->by_peer, e->peer);
	size_t vc = via_count(r, e->via);

	if (e->pair != NULL)
		e->pair->pair = NULL;
	u32map_del(&r->by_index, e->local);
	for (pp = &head; *pp != NULL && *pp != e; pp = &(*pp)->next)
		;
	if (*pp == e)
		*pp = e->next;
	if (head != NULL)
		u32map_put(&r->by_peer, e->peer, head); /* replaces: no alloc */
	else
		u32map_del(&r->by_peer, e->peer);
	if (vc > 1)
		u32map_put(&r->per_via, e->via, (void *)(uintptr_t)(vc - 1));
	else
		u32map_del(&r->per_via, e->via);
	r->count--;
	free(e);
}

/* Encode and send a control message on the tunnel to vpn_ip. */
static void
send_ctl(struct node *n, struct tunnel *t, uint32_t type, uint32_t ini,
    uint32_t resp, uint32_t from, uint32_t to)
{
	struct nebctl m = {type, ini, resp, to, from};
	uint8_t buf[NEBCTL_ENCODED_MAX];
	size_t len;

	if (nebctl_encode(&m, buf, sizeof(buf), &len) == 0)
		tunnel_send(n, t, HDR_CONTROL, HDR_SUB_NONE, buf, len);
}

static bool
listed(const struct node_cfg *c, uint32_t relay)
{
	size_t i;

	for (i = 0; i < c->nrelays; i++)
		if (c->relays[i] == relay)
			return true;
	return false;
}

/* wire.md 9.2 step 3: we are the target. */
static void
request_for_us(struct node *n, struct tunnel *t, const struct nebctl *m)
{
	struct relays *r = n->relays;
	struct relay *e;

	if (!listed(n->cfg, t->vpn_ip)) {
		say(n, &r->st.refused, "Relay request refused", t->vpn_ip,
		    m->relay_from_ip, m->relay_to_ip,
		    "the relay is not in this node's relay.relays");
		return;
	}
	if ((m->relay_from_ip & n->cfg->vpn_mask) !=
	        (n->cfg->vpn_ip & n->cfg->vpn_mask) ||
	    m->relay_from_ip == t->vpn_ip) {
		say(n, &r->st.refused, "Relay request refused", t->vpn_ip,
		    m->relay_from_ip, m->relay_to_ip,
		    "the origin is not another node");
		return;
	}
	e = find(r, t->vpn_ip, m->relay_from_ip);
	if (e != NULL && e->type != TERMINAL) {
		say(n, &r->st.refused, "Relay request refused", t->vpn_ip,
		    m->relay_from_ip, m->relay_to_ip,
		    "this node forwards between the two");
		return;
	}
	if (e != NULL && e->remote != m->initiator_relay_index) {
		e->remote = m->initiator_relay_index; /* a new request */
		e->state = ESTABLISHED;
	}
	if (e == NULL && (e = add(n, t->vpn_ip, m->relay_from_ip,
	                      m->initiator_relay_index, TERMINAL,
	                      ESTABLISHED)) == NULL)
		return;
	send_ctl(n, t, NEBCTL_CREATE_RELAY_RESPONSE, e->remote, e->local,
	    m->relay_from_ip, m->relay_to_ip);
}

/* wire.md 9.2 step 2: we are asked to relay to another peer. */
static void
request_to_relay(struct node *n, struct tunnel *t, const struct nebctl *m)
{
	struct relays *r = n->relays;
	const struct node_cfg *c = n->cfg;
	uint32_t to = m->relay_to_ip;
	struct tunnel *target;
	struct relay *te, *ae;
	bool fresh;

	if (!c->am_relay) {
		say(n, &r->st.refused, "Relay request refused", t->vpn_ip,
		    m->relay_from_ip, to, "relay.am_relay is false");
		return;
	}
	if (m->relay_from_ip != t->vpn_ip) {
		say(n, &r->st.refused, "Relay request refused", t->vpn_ip,
		    m->relay_from_ip, to,
		    "the origin is not the peer that asked");
		return;
	}
	if ((to & c->vpn_mask) != (c->vpn_ip & c->vpn_mask) ||
	    to == t->vpn_ip) {
		say(n, &r->st.refused, "Relay request refused", t->vpn_ip,
		    m->relay_from_ip, to, "the target is not another node");
		return;
	}
	if ((target = hostmap_by_ip(n->hm, to)) == NULL) {
		/* A tunnel to the target first; the requester retries. */
		hs_start(n, to, 0, 0, NULL, 0);
		return;
	}
	if (target->relayed)
		return; /* only to a peer we reach directly */
	te = find(r, to, t->vpn_ip);
	if (te != NULL && te->type != FORWARDING)
		return;
	fresh = te == NULL;
	if (te == NULL && (te = add(n, to, t->vpn_ip, 0, FORWARDING,
	                       REQUESTED)) == NULL)
		return;
	if (te->state == REQUESTED)
		send_ctl(n, target, NEBCTL_CREATE_RELAY_REQUEST, te->local, 0,
		    t->vpn_ip, to);
	ae = find(r, t->vpn_ip, to);
	if (ae != NULL && ae->type != FORWARDING) {
		drop(r, ae); /* it was ours to that peer: now it relays */
		ae = NULL;
	}
	if (ae == NULL && (ae = add(n, t->vpn_ip, to,
	                       m->initiator_relay_index, FORWARDING,
	                       te->state)) == NULL) {
		if (fresh)
			drop(r, te);
		return;
	}
	ae->remote = m->initiator_relay_index;
	ae->state = te->state;
	ae->pair = te;
	te->pair = ae;
	if (ae->state == ESTABLISHED)
		send_ctl(n, t, NEBCTL_CREATE_RELAY_RESPONSE, ae->remote,
		    ae->local, t->vpn_ip, to);
}

/* wire.md 9.2 steps 4 and 5. */
static void
response(struct node *n, struct tunnel *t, const struct nebctl *m)
{
	struct relays *r = n->relays;
	struct relay *e = u32map_get(&r->by_index, m->initiator_relay_index);
	struct relay *ae;
	struct tunnel *origin;
	struct log_ev ev;

	if (e == NULL || e->via != t->vpn_ip ||
	    e->peer != (e->type == TERMINAL ? m->relay_to_ip
	                                    : m->relay_from_ip)) {
		say(n, &r->st.refused, "Relay response refused", t->vpn_ip,
		    m->relay_from_ip, m->relay_to_ip,
		    "no request of ours matches it");
		return;
	}
	e->remote = m->responder_relay_index;
	if (e->state != ESTABLISHED && e->type == TERMINAL &&
	    log_ev_begin(&ev, LOG_LVL_INFO, "Relay established")) {
		log_ev_ip4(&ev, "relay", e->via);
		log_ev_ip4(&ev, "vpnIp", e->peer);
		log_ev_u64(&ev, "localIndex", e->local);
		log_ev_u64(&ev, "remoteIndex", e->remote);
		log_ev_end(&ev);
	}
	e->state = ESTABLISHED;
	if (e->type == TERMINAL) {
		hs_relay_ready(n, e->peer, e->via);
		return;
	}
	/* We relay: tell the origin its half is up. */
	ae = e->pair;
	origin = hostmap_by_ip(n->hm, e->peer);
	if (ae == NULL || origin == NULL)
		return;
	ae->state = ESTABLISHED;
	send_ctl(n, origin, NEBCTL_CREATE_RELAY_RESPONSE, ae->remote,
	    ae->local, e->peer, t->vpn_ip);
}

void
relay_control(struct node *n, struct tunnel *t, const uint8_t *p, size_t len)
{
	struct relays *r = n->relays;
	struct nebctl m;

	if (nebctl_decode(&m, p, len) != 0) {
		say(n, &r->st.refused, "Control message refused", t->vpn_ip, 0,
		    0, "it did not decode");
		return;
	}
	if (m.relay_from_ip == n->cfg->vpn_ip &&
	    m.type == NEBCTL_CREATE_RELAY_REQUEST) {
		say(n, &r->st.refused, "Relay request refused", t->vpn_ip,
		    m.relay_from_ip, m.relay_to_ip, "the origin is this node");
		return;
	}
	switch (m.type) {
	case NEBCTL_CREATE_RELAY_REQUEST:
		said_ctl(n, "handleCreateRelayRequest", t->vpn_ip, &m);
		r->st.requests++;
		if (m.relay_to_ip == n->cfg->vpn_ip)
			request_for_us(n, t, &m);
		else
			request_to_relay(n, t, &m);
		break;
	case NEBCTL_CREATE_RELAY_RESPONSE:
		said_ctl(n, "handleCreateRelayResponse", t->vpn_ip, &m);
		r->st.responses++;
		response(n, t, &m);
		break;
	default: /* None, or a type of a later version */
		break;
	}
	worker_flush(n->wk);
}

/*
 * Wrap the inner packet at slot + HEADER_LEN (ilen bytes) for the
 * neighbour nb, to its index `remote`: the outer header, then a tag over
 * everything (wire.md 9.4), and queue it for nb's address.
 */
static bool
wrap(struct worker *w, struct tunnel *nb, uint32_t remote, uint8_t *slot,
    size_t ilen)
{
	struct node *n = w->n;
	uint64_t ctr;

	if (ilen > UDP_MAX_PACKET - HEADER_LEN - 16)
		return false;
	ctr = ++nb->tx_counter;
	header_encode(slot, HDR_MESSAGE, HDR_SUB_MESSAGE_RELAY, remote, ctr);
	if (tunnel_mac(n, nb, ctr, slot, HEADER_LEN + ilen) != 0)
		return false;
	worker_commit(w, &nb->remote, HEADER_LEN + ilen + 16);
	nb->tx_packets++;
	if (!nb->out)
		connmgr_sent(n, nb);
	return true;
}

/* The neighbour's tunnel for an established terminal entry to peer
 * through via, and its index there; NULL if not usable. */
static struct tunnel *
path(struct node *n, uint32_t via, uint32_t peer, uint32_t *remote)
{
	struct relay *e = find(n->relays, via, peer);
	struct tunnel *nb;

	if (e == NULL || e->state != ESTABLISHED || e->type != TERMINAL)
		return NULL;
	if ((nb = hostmap_by_ip(n->hm, via)) == NULL || nb->relayed)
		return NULL;
	*remote = e->remote;
	return nb;
}

void
relay_send_tunnel(
    struct worker *w, struct tunnel *t, uint8_t *slot, size_t ilen)
{
	struct relays *r = w->n->relays;
	struct tunnel *nb;
	uint32_t remote;
	size_t i;

	if (ilen > UDP_MAX_PACKET - HEADER_LEN - 16) { /* the slot's end */
		w->st.tx_dropped++;
		return;
	}
	for (i = 0; i < TUNNEL_RELAYS && t->relays[i] != 0; i++) {
		if ((nb = path(w->n, t->relays[i], t->vpn_ip, &remote)) ==
		    NULL)
			continue;
		memmove(slot + HEADER_LEN, slot, ilen);
		if (wrap(w, nb, remote, slot, ilen))
			r->st.tx++;
		else
			w->st.tx_dropped++;
		return;
	}
	r->st.no_path++;
}

bool
relay_send_raw(struct node *n, uint32_t via, uint32_t peer,
    const uint8_t *pkt, size_t len)
{
	struct tunnel *nb;
	uint32_t remote;
	uint8_t *slot;

	if ((nb = path(n, via, peer, &remote)) == NULL ||
	    len > UDP_MAX_PACKET - 2 * HEADER_LEN - 16)
		return false;
	slot = worker_slot(n->wk);
	memcpy(slot + HEADER_LEN, pkt, len);
	if (!wrap(n->wk, nb, remote, slot, len))
		return false;
	n->relays->st.tx++;
	return true;
}

enum relay_rx
relay_rx(struct worker *w, const struct udp_addr *from, const struct header *h,
    uint8_t *pkt, size_t len, uint32_t *via, uint8_t **inner, size_t *ilen)
{
	struct node *n = w->n;
	struct relays *r = n->relays;
	struct relay *e = u32map_get(&r->by_index, h->remote_index), *pe;
	struct tunnel *nb, *target;
	uint8_t *slot;

	if (e == NULL || (nb = hostmap_by_ip(n->hm, e->via)) == NULL) {
		w->st.rx_unknown_index++;
		return RELAY_RX_DROP;
	}
	/* an outer header, an inner one, the tag */
	if (len < 2 * HEADER_LEN + 16) {
		w->st.rx_short++;
		return RELAY_RX_DROP;
	}
	if (!replay_check(&nb->win, h->counter)) {
		w->st.rx_replay++;
		return RELAY_RX_DROP;
	}
	if (tunnel_mac_check(n, nb, h->counter, pkt, len - 16) != 0) {
		w->st.rx_auth++;
		return RELAY_RX_DROP;
	}
	/* Nebula only checks the window here; the counter is the
	 * neighbour's own and unique, so taking it refuses replays. */
	if (!replay_update(&nb->win, h->counter)) {
		w->st.rx_replay++;
		return RELAY_RX_DROP;
	}
	tunnel_heard(n, nb, from);
	*inner = pkt + HEADER_LEN;
	*ilen = len - HEADER_LEN - 16;
	if (e->type == TERMINAL) {
		*via = e->via;
		r->st.rx++;
		return RELAY_RX_INNER;
	}
	pe = e->pair;
	target = hostmap_by_ip(n->hm, e->peer);
	if (pe == NULL || pe->state != ESTABLISHED || target == NULL ||
	    target->relayed) {
		r->st.fwd_dropped++;
		return RELAY_RX_DROP;
	}
	slot = worker_slot(w);
	memcpy(slot + HEADER_LEN, *inner, *ilen);
	if (!wrap(w, target, pe->remote, slot, *ilen)) {
		r->st.fwd_dropped++;
		return RELAY_RX_DROP;
	}
	r->st.forwarded++;
	return RELAY_RX_DONE;
}

/* Nebula's lines of a handshake try through relays. */
static void
said_try(uint32_t vpn_ip, uint32_t via, const char *what)
{
	struct log_ev ev;

	if (!log_ev_begin(&ev, LOG_LVL_INFO, "%s", what))
		return;
	log_ev_ip4(&ev, "vpnIp", vpn_ip);
	log_ev_ip4(&ev, "relay", via);
	log_ev_end(&ev);
}

void
relay_try(struct node *n, uint32_t vpn_ip, const uint8_t *pkt, size_t len)
{
	uint32_t list[LH_MAX_HOSTS * RELAYS_MAX], via;
	size_t cnt, i;
	struct tunnel *nb;
	struct relay *e;
	struct log_ev ev;

	if (!n->cfg->use_relays)
		return;
	cnt = remotes_relays(n->rem, vpn_ip, list, sizeof(list) / sizeof(*list));
	if (cnt > 0 &&
	    log_ev_begin(&ev, LOG_LVL_INFO, "Attempt to relay through hosts")) {
		log_ev_ip4(&ev, "vpnIp", vpn_ip);
		log_ev_arr(&ev, "relayIps");
		for (i = 0; i < cnt; i++)
			log_ev_ip4(&ev, NULL, list[i]);
		log_ev_close(&ev);
		log_ev_end(&ev);
	}
	for (i = 0; i < cnt; i++) {
		via = list[i];
		if (via == vpn_ip || via == n->cfg->vpn_ip)
			continue;
		nb = hostmap_by_ip(n->hm, via);
		if (nb == NULL || nb->relayed) {
			if (nb == NULL) {
				said_try(vpn_ip, via,
				    "Establish tunnel to relay target.");
				hs_start(n, via, 0, 0, NULL, 0);
			}
			continue;
		}
		e = find(n->relays, via, vpn_ip);
		if (e != NULL && e->type != TERMINAL)
			continue;
		if (e != NULL && e->state == ESTABLISHED) {
			said_try(vpn_ip, via, "Send handshake via relay");
			relay_send_raw(n, via, vpn_ip, pkt, len);
			continue;
		}
		if (e != NULL)
			said_try(vpn_ip, via, "Re-send CreateRelay request");
		if (e == NULL &&
		    (e = add(n, via, vpn_ip, 0, TERMINAL, REQUESTED)) == NULL)
			continue;
		send_ctl(n, nb, NEBCTL_CREATE_RELAY_REQUEST, e->local, 0,
		    n->cfg->vpn_ip, vpn_ip);
	}
}

bool
relay_usable(struct node *n, const struct tunnel *t)
{
	uint32_t remote;
	size_t i;

	for (i = 0; i < TUNNEL_RELAYS && t->relays[i] != 0; i++)
		if (path(n, t->relays[i], t->vpn_ip, &remote) != NULL)
			return true;
	return false;
}

void
relay_tunnel_gone(struct node *n, uint32_t vpn_ip)
{
	struct relays *r = n->relays;
	size_t it = 0, cnt = 0, i, want;
	struct relay **over, *e;
	struct tunnel *t;
	uint32_t *peers, k;
	struct log_ev ev;
	void *v;

	if (r == NULL || (want = via_count(r, vpn_ip)) == 0)
		return;
	over = calloc(want, sizeof(*over));
	peers = calloc(want, sizeof(*peers));
	if (over == NULL || peers == NULL) {
		free(over);
		free(peers);
		return;
	}
	while (cnt < want && u32map_next(&r->by_index, &it, &k, &v))
		if (((struct relay *)v)->via == vpn_ip)
			over[cnt++] = v;
	/* A forwarding entry's other half is over another tunnel (never
	 * one of those collected): it goes too. */
	for (i = 0; i < cnt; i++) {
		e = over[i];
		peers[i] = e->type == TERMINAL ? e->peer : 0;
		if (e->pair != NULL)
			drop(r, e->pair);
	}
	for (i = 0; i < cnt; i++)
		drop(r, over[i]);
	free(over);
	/* Tunnels this one alone carried cannot send: down at the
	 * connection manager's next tick (not here: our caller may be
	 * walking the tunnels), so the next packet starts a handshake
	 * through another relay or directly. */
	for (i = 0; i < cnt; i++) {
		if (peers[i] == 0 ||
		    (t = hostmap_by_ip(n->hm, peers[i])) == NULL ||
		    !t->relayed || relay_usable(n, t))
			continue;
		if (log_ev_begin(&ev, LOG_LVL_INFO,
		        "Relayed tunnel lost its relay")) {
			nodelog_tunnel(&ev, t);
			log_ev_ip4(&ev, "relay", vpn_ip);
			log_ev_end(&ev);
		}
		connmgr_doom(n, t);
	}
	free(peers);
}
