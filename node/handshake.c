/*
 * node/handshake.c: Noise IX handshakes in both roles (handshake.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "datapath.h"
#include "err.h"
#include "handshake.h"
#include "hostmap.h"
#include "hsguard.h"
#include "hspayload.h"
#include "lhclient.h"
#include "log.h"
#include "nodeint.h"
#include "nodelog.h"
#include "relay.h"
#include "remotes.h"
#include "tunnel.h"
#include "twheel.h"
#include "worker.h"

#define HS_PKT_MAX UDP_MAX_PACKET
#define WHEEL_TICK 10000000LL /* ns */
#define WHEEL_SLOTS 256       /* 2.56 s a turn */
#define HS_VERIFIED_SLOTS 4096 /* certificates remembered as verified */
#define MSG1_MAX_AGE 2000000000LL /* the initiator has tried again by then */

/* A packet waiting for a handshake: tunnel data, or a lighthouse message
 * to a lighthouse we have no tunnel with yet. */
struct qpkt {
	struct qpkt *next;
	size_t len;
	uint8_t type, subtype;
	uint8_t data[];
};

/* A handshake we started and that has not completed. */
struct pending {
	struct twheel_entry timer; /* the next try, or the time out */
	uint32_t vpn_ip, local_index;
	struct noise_hs hs;
	uint8_t *pkt; /* header + message 1, sent on every try */
	size_t pkt_len;
	int64_t attempts;
	int64_t started; /* node_mono_ns() */
	struct udp_addr hint; /* create-tunnel -address: tried too */
	bool has_hint;
	struct qpkt *qhead, **qtail;
	size_t nq;
};

/* A message 1 waiting for its turn (see hs_recv). */
struct msg1 {
	struct msg1 *next;
	struct udp_addr from; /* unless relayed */
	uint32_t via;         /* the relay's VPN address, if relayed */
	bool relayed;
	uint32_t src;         /* hsguard's key for where it came from */
	int64_t at;           /* node_mono_ns() when it arrived */
	struct header h;
	size_t len;
	uint8_t pkt[];
};

/* Messages 1 from sources known to the guard, and the others: the first
 * go first. */
struct msg1_fifo {
	struct msg1 *head, **tail;
};

struct handshakes {
	struct twheel wheel;
	struct event *ev;
	struct hs_stats st;
	struct log_limit refuse_limit, full_limit, queue_limit;
	struct hsguard *guard;
	struct fp_cache verified; /* peers' certificates verified ... */
	uint32_t verified_gen;    /* ... against n->pki_gen */
	struct msg1_fifo known, other;
	size_t nmsg1;
	struct event *drain_ev; /* works through the messages 1 */
	uint8_t payload[HS_PKT_MAX]; /* scratch: a handshake payload */
};

static struct pending *
of_timer(struct twheel_entry *e)
{
	return (struct pending *)(void *)((char *)e -
	                                  offsetof(struct pending, timer));
}

/* The wheel's timer: set for the next entry due, off when none is. */
static void
rearm(struct node *n)
{
	struct handshakes *hs = n->hs;
	int64_t next = twheel_next(&hs->wheel), d;
	struct timeval tv;

	if (next == INT64_MAX) {
		event_del(hs->ev);
		return;
	}
	d = next - node_mono_ns();
	if (d < 0)
		d = 0;
	tv.tv_sec = (time_t)(d / 1000000000);
	tv.tv_usec = (suseconds_t)(d % 1000000000 / 1000);
	event_add(hs->ev, &tv);
}

static void
on_wheel(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	hs_tick(arg);
}

static void on_drain(evutil_socket_t fd, short what, void *arg);

int
handshakes_new(struct node *n, struct handshakes **out)
{
	struct handshakes *hs = calloc(1, sizeof(*hs));
	uint64_t seed;

	*out = NULL;
	if (hs == NULL)
		return VPN_ERR_NOMEM;
	hs->known.tail = &hs->known.head;
	hs->other.tail = &hs->other.head;
	fp_cache_init(&hs->verified, HS_VERIFIED_SLOTS);
	if (crypto_random(&seed, sizeof(seed)) != 0)
		seed = (uint64_t)node_mono_ns();
	if (twheel_init(&hs->wheel, WHEEL_TICK, WHEEL_SLOTS, node_mono_ns()) !=
	        0 ||
	    (hs->ev = evtimer_new(n->base, on_wheel, n)) == NULL ||
	    (hs->drain_ev = evtimer_new(n->base, on_drain, n)) == NULL ||
	    hsguard_new((int)n->cfg->hs_cpu_percent,
	        (int)n->cfg->hs_source_rate, seed, node_mono_ns(),
	        &hs->guard) != 0) {
		if (hs->ev != NULL)
			event_free(hs->ev);
		if (hs->drain_ev != NULL)
			event_free(hs->drain_ev);
		twheel_free(&hs->wheel);
		free(hs);
		return VPN_ERR_NOMEM;
	}
	*out = hs;
	return 0;
}

/* Queued packets dropped, their bytes given back. */
static void
free_queue(struct node *n, struct qpkt *q)
{
	struct qpkt *next;

	for (; q != NULL; q = next) {
		next = q->next;
		hostmap_release(n->hm, q->len);
		free(q);
	}
}

static void
pending_free(struct node *n, struct pending *p)
{
	twheel_del(&n->hs->wheel, &p->timer);
	hostmap_pending_remove(n->hm, p, p->local_index, p->vpn_ip);
	free_queue(n, p->qhead);
	noise_clear(&p->hs);
	free(p->pkt);
	free(p);
}

static void
msg1_drop_all(struct handshakes *hs)
{
	struct msg1_fifo *q[2] = {&hs->known, &hs->other};
	struct msg1 *m, *next;
	size_t i;

	for (i = 0; i < 2; i++) {
		for (m = q[i]->head; m != NULL; m = next) {
			next = m->next;
			free(m);
		}
		q[i]->head = NULL;
		q[i]->tail = &q[i]->head;
	}
	hs->nmsg1 = 0;
}

void
handshakes_free(struct node *n, struct handshakes *hs)
{
	struct pending **all, *p;
	size_t it = 0, cnt = 0, i;

	if (hs == NULL)
		return;
	all = malloc((hostmap_pending(n->hm) + 1) * sizeof(*all));
	while (all != NULL && hostmap_pending_next(n->hm, &it, &p))
		all[cnt++] = p;
	for (i = 0; i < cnt; i++)
		pending_free(n, all[i]);
	free(all);
	if (hs->ev != NULL)
		event_free(hs->ev);
	if (hs->drain_ev != NULL)
		event_free(hs->drain_ev);
	msg1_drop_all(hs);
	hsguard_free(hs->guard);
	fp_cache_free(&hs->verified);
	twheel_free(&hs->wheel);
	free(hs);
}

const struct hs_stats *
hs_stats(const struct handshakes *hs)
{
	return &hs->st;
}

void
hs_pending_info(const struct pending *p, struct hs_pending_info *out)
{
	out->vpn_ip = p->vpn_ip;
	out->local_index = p->local_index;
	out->attempts = p->attempts;
	out->started = p->started;
	out->queued = p->nq;
	out->has_hint = p->has_hint;
	out->hint = p->hint;
}

/* hsguard's key for a source: an IPv4 address, a fold of an IPv6 /64,
 * or the VPN address of the relay a message came through. */
static uint32_t
src_key(const struct udp_addr *from, uint32_t via)
{
	uint32_t k = 0;
	size_t i;

	if (from == NULL)
		return via;
	if (udp_addr_is_v4(from))
		return udp_addr_v4(from);
	for (i = 0; i < 8; i++)
		k = k * 31 + from->ip[i];
	return k | 1;
}

void
hs_completed(struct handshakes *hs, const struct udp_addr *from, uint32_t via)
{
	hs->st.completed++;
	hsguard_completed(hs->guard, src_key(from, via));
}

const struct hsguard_stats *
hs_guard_stats(const struct handshakes *hs)
{
	return hsguard_stats(hs->guard);
}

uint64_t
hs_verified_hits(const struct handshakes *hs)
{
	return hs->verified.hits;
}

/* Send message 1 to every known address of the peer; with at most one
 * known, ask the lighthouses again (wire.md 4.5). */
static void
hs_try(struct node *n, struct pending *p, int64_t now)
{
	struct udp_addr addrs[REMOTES_MAX + 1];
	const struct tunnel *t = hostmap_by_ip(n->hm, p->vpn_ip);
	struct log_ev ev;
	size_t i, na;

	p->attempts++;
	twheel_add(&n->hs->wheel, &p->timer,
	    now + p->attempts * n->cfg->hs_try_interval);
	na = remotes_addrs(n->rem, n->cfg, p->vpn_ip, addrs, REMOTES_MAX);
	if (na <= 1)
		lhclient_query(n, p->vpn_ip);
	/* A new handshake with a peer we have a tunnel with (our new
	 * certificate, its certificate to learn again): where the tunnel
	 * is, too, which a lighthouse may not know from elsewhere. */
	if (t != NULL && !t->relayed) {
		for (i = 0; i < na && !udp_addr_eq(&addrs[i], &t->remote); i++)
			;
		if (i == na)
			addrs[na++] = t->remote;
	}
	if (p->has_hint) { /* room: t's address and the hint are never
	                      both added (hs_start_at) */
		for (i = 0; i < na && !udp_addr_eq(&addrs[i], &p->hint); i++)
			;
		if (i == na && na < sizeof(addrs) / sizeof(addrs[0]))
			addrs[na++] = p->hint;
	}
	for (i = 0; i < na; i++)
		worker_send_raw(n->wk, &addrs[i], p->pkt, p->pkt_len);
	/* one line a try, as Nebula's: every address it went to */
	if (na > 0 &&
	    log_ev_begin(&ev, LOG_LVL_INFO, "Handshake message sent")) {
		log_ev_ip4(&ev, "vpnIp", p->vpn_ip);
		log_ev_u64(&ev, "initiatorIndex", p->local_index);
		nodelog_handshake(&ev, 1);
		log_ev_arr(&ev, "udpAddrs"); /* last: may not all fit */
		for (i = 0; i < na; i++)
			nodelog_udp(&ev, NULL, &addrs[i]);
		log_ev_close(&ev);
		log_ev_end(&ev);
	}
	relay_try(n, p->vpn_ip, p->pkt, p->pkt_len);
	worker_flush(n->wk);
}

void
hs_relay_ready(struct node *n, uint32_t vpn_ip, uint32_t via)
{
	struct pending *p = hostmap_pending_by_ip(n->hm, vpn_ip);

	if (p != NULL)
		relay_send_raw(n, via, vpn_ip, p->pkt, p->pkt_len);
}

void
hs_kick(struct node *n, uint32_t vpn_ip)
{
	struct pending *p = hostmap_pending_by_ip(n->hm, vpn_ip);

	if (p != NULL && p->attempts == 0) {
		hs_try(n, p, node_mono_ns());
		rearm(n);
	}
}

/* At the bound of pending handshakes: counted, and said now and then.
 * Our lighthouses are never refused (a scan must not cut us off from
 * them); they are at most LH_MAX_HOSTS more. */
static bool
pending_full(struct node *n, uint32_t vpn_ip)
{
	struct handshakes *hs = n->hs;
	struct log_ev ev;

	if (hostmap_pending(n->hm) < (size_t)n->cfg->max_pending ||
	    node_cfg_is_lighthouse(n->cfg, vpn_ip))
		return false;
	hs->st.pending_full++;
	if (log_limit_allow(&hs->full_limit, node_mono_ns() / 1000000000, 0.1,
	        1) && /* once every 10 s */
	    log_ev_begin(&ev, LOG_LVL_WARN,
	        "Reached the pending handshake limit: packets to new peers "
	        "are dropped until handshakes complete or time out")) {
		log_ev_i64(&ev, "maxPending", n->cfg->max_pending);
		log_ev_u64(&ev, "hsPendingFull", hs->st.pending_full);
		log_ev_end(&ev);
	}
	return true;
}

/* A packet not queued: counted, and said now and then. */
static void
queue_full(struct node *n, const struct pending *p, const char *why)
{
	struct handshakes *hs = n->hs;
	struct log_ev ev;

	hs->st.queue_full++;
	if (!log_limit_allow(
	        &hs->queue_limit, node_mono_ns() / 1000000000, 0.1, 1) ||
	    !log_ev_begin(
	        &ev, LOG_LVL_WARN, "Packet dropped while a handshake runs"))
		return;
	log_ev_ip4(&ev, "vpnIp", p->vpn_ip);
	log_ev_str(&ev, "reason", why);
	log_ev_u64(&ev, "txQueueFull", hs->st.queue_full);
	log_ev_end(&ev);
}

/* Queue a packet behind p's handshake, within the queue's length and the
 * node's bytes bound. */
static void
enqueue(struct node *n, struct pending *p, uint8_t type, uint8_t subtype,
    const uint8_t *pkt, size_t len)
{
	struct qpkt *q;

	if (p->nq >= PENDING_MAX_QUEUE) {
		queue_full(n, p, "the handshake's queue is full");
		return;
	}
	if (len > TUNNEL_MAX_BODY) {
		queue_full(n, p, "packet too long");
		return;
	}
	if (!hostmap_reserve(n->hm, len, (size_t)n->cfg->max_queued_bytes)) {
		queue_full(n, p, "handshakes.max_queued_bytes reached");
		return;
	}
	if ((q = malloc(sizeof(*q) + len)) == NULL) {
		hostmap_release(n->hm, len);
		queue_full(n, p, "out of memory");
		return;
	}
	memcpy(q->data, pkt, len);
	q->type = type;
	q->subtype = subtype;
	q->len = len;
	q->next = NULL;
	*p->qtail = q;
	p->qtail = &q->next;
	p->nq++;
}

/* A new pending handshake with its message 1, in the host map; or
 * NULL. */
static struct pending *
pending_new(struct node *n, uint32_t vpn_ip)
{
	struct handshakes *hs = n->hs;
	struct hspayload hp;
	uint8_t m1[HS_PKT_MAX]; /* built here, kept at its size */
	size_t plen, body;
	struct pending *p;

	if (pending_full(n, vpn_ip) || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->vpn_ip = vpn_ip;
	p->started = node_mono_ns();
	p->qtail = &p->qhead;
	memset(&hp, 0, sizeof(hp));
	if (hostmap_new_index(n->hm, &p->local_index) != 0 ||
	    noise_init(
	        &p->hs, n->cfg->cipher, true, n->cfg->key, n->cfg->pub) != 0)
		goto fail;
	hp.cert = n->cfg->cert_nokey;
	hp.cert_len = n->cfg->cert_nokey_len;
	hp.initiator_index = p->local_index;
	hp.time = (uint64_t)node_real_ns();
	if (hspayload_encode(&hp, hs->payload, sizeof(hs->payload), &plen) !=
	        0 ||
	    noise_write_msg1(&p->hs, hs->payload, plen, m1 + HEADER_LEN,
	        sizeof(m1) - HEADER_LEN, &body) != 0 ||
	    (p->pkt = malloc(HEADER_LEN + body)) == NULL)
		goto fail;
	header_encode(m1, HDR_HANDSHAKE, HDR_SUB_HANDSHAKE_IXPSK0, 0, 1);
	p->pkt_len = HEADER_LEN + body;
	memcpy(p->pkt, m1, p->pkt_len);
	if (hostmap_pending_add(n->hm, p, p->local_index, vpn_ip) != 0)
		goto fail;
	hs->st.started++;
	return p;
fail:
	noise_clear(&p->hs);
	free(p->pkt);
	free(p);
	return NULL;
}

void
hs_start(struct node *n, uint32_t vpn_ip, uint8_t type, uint8_t subtype,
    const uint8_t *pkt, size_t len)
{
	struct pending *p = hostmap_pending_by_ip(n->hm, vpn_ip);
	bool fresh = p == NULL;

	if (p == NULL && (p = pending_new(n, vpn_ip)) == NULL)
		return;
	if (pkt != NULL)
		enqueue(n, p, type, subtype, pkt, len);
	if (!fresh)
		return;
	/* A static host, or a peer we have a tunnel with, is tried at
	 * once; others on the next tick, after asking the lighthouses
	 * where it is. */
	if (node_cfg_static(n->cfg, vpn_ip) != NULL ||
	    hostmap_by_ip(n->hm, vpn_ip) != NULL) {
		hs_try(n, p, node_mono_ns());
	} else {
		twheel_add(&n->hs->wheel, &p->timer,
		    node_mono_ns() + n->cfg->hs_try_interval);
		lhclient_query(n, vpn_ip);
	}
	rearm(n);
}

int
hs_start_at(struct node *n, uint32_t vpn_ip, const struct udp_addr *hint)
{
	struct pending *p;

	if (hostmap_by_ip(n->hm, vpn_ip) != NULL)
		return VPN_ERR_INVAL;
	if (hostmap_pending_by_ip(n->hm, vpn_ip) != NULL)
		return VPN_ERR_RANGE;
	if ((p = pending_new(n, vpn_ip)) == NULL)
		return VPN_ERR_NOMEM;
	if (hint != NULL) {
		p->hint = *hint;
		p->has_hint = true;
		hs_try(n, p, node_mono_ns());
	} else if (node_cfg_static(n->cfg, vpn_ip) != NULL) {
		hs_try(n, p, node_mono_ns());
	} else {
		twheel_add(&n->hs->wheel, &p->timer,
		    node_mono_ns() + n->cfg->hs_try_interval);
		lhclient_query(n, vpn_ip);
	}
	rearm(n);
	return 0;
}

/* Nebula's line for a handshake that got no answer. */
static void
timed_out(struct node *n, const struct pending *p, int64_t now)
{
	struct udp_addr a[REMOTES_MAX];
	struct log_ev ev;
	size_t na, i;

	if (!log_ev_begin(&ev, LOG_LVL_INFO, "Handshake timed out"))
		return;
	log_ev_ip4(&ev, "vpnIp", p->vpn_ip);
	log_ev_u64(&ev, "initiatorIndex", p->local_index);
	log_ev_u64(&ev, "remoteIndex", 0);
	nodelog_handshake(&ev, 1);
	log_ev_i64(&ev, "durationNs", now - p->started);
	na = remotes_addrs(n->rem, n->cfg, p->vpn_ip, a, REMOTES_MAX);
	log_ev_arr(&ev, "udpAddrs"); /* last: may not all fit */
	for (i = 0; i < na; i++)
		nodelog_udp(&ev, NULL, &a[i]);
	log_ev_close(&ev);
	log_ev_end(&ev);
}

void
hs_tick(struct node *n)
{
	struct handshakes *hs = n->hs;
	int64_t now = node_mono_ns();
	struct twheel_entry *e;
	struct pending *p;

	while ((e = twheel_expire(&hs->wheel, now)) != NULL) {
		p = of_timer(e);
		if (p->attempts < n->cfg->hs_retries) {
			hs_try(n, p, now);
			continue;
		}
		timed_out(n, p, now);
		hs->st.timed_out++;
		if (hostmap_by_ip(n->hm, p->vpn_ip) == NULL)
			remotes_forget(n->rem, p->vpn_ip);
		pending_free(n, p);
	}
	rearm(n);
}

/* Move a pending handshake's queued packets into the new tunnel. */
static void
flush_queue(struct node *n, struct tunnel *t, struct pending *p)
{
	struct qpkt *q, *next;
	uint8_t *slot;

	for (q = p->qhead; q != NULL; q = next) {
		next = q->next;
		/* enqueue() kept each within TUNNEL_MAX_BODY */
		if (q->type == HDR_MESSAGE) { /* firewall at send time */
			slot = worker_slot(n->wk);
			memcpy(slot + HEADER_LEN, q->data, q->len);
			dp_send_data(n->wk, t, slot, q->len);
		} else {
			tunnel_send(n, t, q->type, q->subtype, q->data, q->len);
		}
		hostmap_release(n->hm, q->len);
		free(q);
	}
	p->qhead = NULL;
	p->qtail = &p->qhead;
	p->nq = 0;
	worker_flush(n->wk);
}

/* The peer's certificate from a handshake payload, with its Noise static
 * key put back in and checked against the CA pool.  On failure why says
 * so in Nebula's words, and *out is the certificate if it decoded, for
 * the log (the caller frees it). */
static int
peer_cert(struct node *n, const struct hspayload *hp, const uint8_t rs[32],
    struct cert **out, char *why, size_t whylen)
{
	struct handshakes *hs = n->hs;
	uint8_t fp[CERT_FP_LEN];
	char detail[128];
	struct cert *c = NULL;
	bool known;
	int r;

	*out = NULL;
	if ((r = cert_unmarshal_nokey(hp->cert, hp->cert_len, &c)) != 0 ||
	    (r = cert_set_pubkey(c, rs, 32)) != 0) {
		snprintf(why, whylen, "error unmarshaling cert: %s",
		    vpn_strerror(r));
		cert_free(c);
		return r;
	}
	*out = c;
	if (hs->verified_gen != n->pki_gen) { /* the pool changed */
		fp_cache_clear(&hs->verified);
		hs->verified_gen = n->pki_gen;
	}
	if ((r = cert_fingerprint(c, fp)) == 0) {
		known = fp_cache_has(&hs->verified, fp);
		r = ca_pool_verify_fp(n->cfg->ca, c, fp, known,
		    node_real_ns() / 1000000000, detail, sizeof(detail));
		if (r == 0 && !known)
			fp_cache_add(&hs->verified, fp);
	}
	if (r != 0) {
		snprintf(why, whylen, "certificate validation failed: %s%s%s",
		    vpn_strerror(r), *detail != '\0' ? ": " : "", detail);
		return r;
	}
	if (c->nips == 0) {
		snprintf(why, whylen, "certificate has no IP");
		return VPN_ERR_INVAL;
	}
	return 0;
}

/* Where a handshake message came from: see rx_message. */
struct src {
	const struct udp_addr *addr; /* NULL: through relay `via` */
	uint32_t via;
};

/*
 * Begin one of Nebula's lines about a handshake message: where it came
 * from (udpAddr, or relay) and its stage (-1: none).  limited: a message
 * anyone can send (a refusal, a resend): said now and then only.  False:
 * not said.
 */
static bool
hs_say(struct node *n, struct log_ev *ev, enum log_level level, const char *msg,
    const struct src *from, int stage, bool limited)
{
	if (!log_enabled(level) ||
	    (limited && !log_limit_allow(&n->hs->refuse_limit,
	                    node_mono_ns() / 1000000000, 5, 20)) ||
	    !log_ev_begin(ev, level, "%s", msg))
		return false;
	if (from->addr != NULL)
		nodelog_udp(ev, "udpAddr", from->addr);
	else
		log_ev_ip4(ev, "relay", from->via);
	if (stage >= 0)
		nodelog_handshake(ev, stage);
	return true;
}

/* The peer and the indexes, as Nebula's handshake lines give them. */
static void
hs_fields(struct log_ev *ev, const struct cert *c, const struct hspayload *hp,
    const struct header *h)
{
	log_ev_ip4(ev, "vpnIp", c->ips[0].addr);
	nodelog_cert(ev, c);
	log_ev_u64(ev, "initiatorIndex", hp->initiator_index);
	log_ev_u64(ev, "responderIndex", hp->responder_index);
	log_ev_u64(ev, "remoteIndex", h->remote_index);
}

/* A refused message 1 or 2 said to be from vpn_ip: counted, and said now
 * and then (level, msg), with the reason when there is one. */
static void
refuse(struct node *n, const struct src *from, enum log_level level,
    const char *msg, int stage, uint32_t vpn_ip, const char *reason)
{
	struct log_ev ev;

	n->hs->st.refused++;
	if (!hs_say(n, &ev, level, msg, from, stage, true))
		return;
	if (vpn_ip != 0)
		log_ev_ip4(&ev, "vpnIp", vpn_ip);
	if (reason != NULL)
		log_ev_str(&ev, "reason", reason);
	log_ev_end(&ev);
}

#define ALLOW_DENIED "lighthouse.remote_allow_list denied incoming handshake"

/* A certificate refused: Nebula's "Invalid certificate from host". */
static void
refuse_cert(struct node *n, const struct src *from, enum log_level level,
    int stage, uint32_t vpn_ip, const struct cert *c, const char *why)
{
	struct log_ev ev;

	n->hs->st.refused++;
	if (!hs_say(n, &ev, level, "Invalid certificate from host", from, stage,
	        true))
		return;
	if (vpn_ip != 0)
		log_ev_ip4(&ev, "vpnIp", vpn_ip);
	/* it may quote the certificate (a group's name) */
	log_ev_peer(&ev, "error", why, strlen(why));
	if (c != NULL)
		nodelog_cert(&ev, c);
	log_ev_end(&ev);
}

/* A message that did not decode: counted, and said now and then. */
static void
bad_message(struct node *n, const struct src *from, const char *msg, int stage,
    uint32_t vpn_ip, const char *err)
{
	struct log_ev ev;

	n->hs->st.bad++;
	if (!hs_say(n, &ev, LOG_LVL_ERROR, msg, from, stage, true))
		return;
	if (vpn_ip != 0)
		log_ev_ip4(&ev, "vpnIp", vpn_ip);
	if (err != NULL)
		log_ev_err(&ev, err);
	log_ev_end(&ev);
}

/* A handshake message back where message 1 came from. */
static void
reply(struct node *n, const struct src *from, uint32_t peer,
    const uint8_t *pkt, size_t len)
{
	if (from->addr != NULL)
		worker_send_raw(n->wk, from->addr, pkt, len);
	else
		relay_send_raw(n, from->via, peer, pkt, len);
}

/* Message 1: we are the responder. */
static void
hs_stage1(struct node *n, const struct src *from, const struct header *h,
    uint8_t *pkt, size_t len)
{
	struct handshakes *hs = n->hs;
	struct noise_hs nh;
	struct hspayload hp, out;
	struct tunnel *t, *old;
	struct pending *mine;
	struct cert *c = NULL;
	const uint8_t *pl;
	uint8_t rs[32], msg2[HS_PKT_MAX];
	size_t plen, olen, body, queued;
	char why[256];
	uint32_t local, vpn;
	struct log_ev ev;
	bool again;
	int r;

	/* lighthouse.remote_allow_list, before the peer is known ... */
	if (from->addr != NULL &&
	    !allowlist_allow(n->cfg->remote_allow, from->addr->ip)) {
		refuse(n, from, LOG_LVL_DEBUG, ALLOW_DENIED, -1, 0, NULL);
		return;
	}
	if (noise_init(&nh, n->cfg->cipher, false, n->cfg->key, n->cfg->pub) !=
	    0) {
		hs->st.bad++;
		goto out;
	}
	if ((r = noise_read_msg1(&nh, pkt + HEADER_LEN, len - HEADER_LEN, rs,
	         &pl, &plen)) != 0) {
		bad_message(n, from, "Failed to call noise.ReadMessage", 1, 0,
		    vpn_strerror(r));
		goto out;
	}
	if (hspayload_decode(&hp, pl, plen) != 0) {
		bad_message(
		    n, from, "Failed unmarshal handshake message", 1, 0, NULL);
		goto out;
	}
	if (peer_cert(n, &hp, rs, &c, why, sizeof(why)) != 0) {
		refuse_cert(n, from, LOG_LVL_INFO, 1, 0, c, why);
		goto out;
	}
	vpn = c->ips[0].addr;
	if (vpn == n->cfg->vpn_ip) {
		hs->st.refused++;
		if (hs_say(n, &ev, LOG_LVL_ERROR,
		        "Refusing to handshake with myself", from, 1, true)) {
			log_ev_ip4(&ev, "vpnIp", vpn);
			nodelog_cert(&ev, c);
			log_ev_end(&ev);
		}
		goto out;
	}
	/* ... and for this peer (remote_allow_ranges) once it is. */
	if (from->addr != NULL &&
	    !allowlist_remote_allow(n->cfg->remote_allow,
	        n->cfg->remote_ranges, vpn, from->addr->ip)) {
		refuse(n, from, LOG_LVL_DEBUG, ALLOW_DENIED, -1, vpn, NULL);
		goto out;
	}
	/* Through a relay: only the peer the relay announced. */
	if (from->addr == NULL && !relay_ready(n->relays, from->via, vpn)) {
		refuse(n, from, LOG_LVL_WARN, "Handshake refused", 1, vpn,
		    "the relay did not announce this peer");
		goto out;
	}
	old = hostmap_by_ip(n->hm, vpn);
	again = old != NULL && old->msg1 != NULL &&
	        old->msg1_len == len - HEADER_LEN &&
	        memcmp(old->msg1, pkt + HEADER_LEN, old->msg1_len) == 0;
	/* Said for every message 1 from a valid peer, as Nebula; a resend,
	 * which anyone can replay, now and then. */
	if (hs_say(n, &ev, LOG_LVL_INFO, "Handshake message received", from, 1,
	        again)) {
		hs_fields(&ev, c, &hp, h);
		log_ev_end(&ev);
	}
	if (again) {
		/* A retransmission: answer with the same message 2.  From a
		 * preferred address, probe it (wire.md 5.3): anyone can
		 * replay message 1, so the tunnel moves only on an
		 * authenticated answer from there. */
		reply(n, from, vpn, old->msg2, old->msg2_len);
		if (hs_say(n, &ev, LOG_LVL_INFO, "Handshake message sent", from,
		        2, true)) {
			log_ev_ip4(&ev, "vpnIp", vpn);
			log_ev_bool(&ev, "cached", true);
			log_ev_end(&ev);
		}
		if (from->addr == NULL)
			tunnel_add_relay(old, from->via);
		else if (node_cfg_preferred(n->cfg, from->addr) &&
		         (old->relayed ||
		             !node_cfg_preferred(n->cfg, &old->remote)))
			tunnel_probe(n, old, from->addr);
		worker_flush(n->wk);
		goto out;
	}
	if (old != NULL && old->peer_time >= hp.time) {
		hs->st.refused++;
		if (hs_say(n, &ev, LOG_LVL_INFO, "Handshake too old", from, 1,
		        true)) {
			hs_fields(&ev, c, &hp, h);
			log_ev_u64(&ev, "oldHandshakeTime", old->peer_time);
			log_ev_u64(&ev, "newHandshakeTime", hp.time);
			log_ev_end(&ev);
		}
		tunnel_send(n, old, HDR_TEST, HDR_SUB_TEST_REQUEST, NULL, 0);
		worker_flush(n->wk);
		goto out;
	}
	mine = hostmap_pending_by_ip(n->hm, vpn);
	if (mine != NULL && vpn < n->cfg->vpn_ip) {
		hs->st.refused++;
		if (hs_say(n, &ev, LOG_LVL_ERROR,
		        "Prevented a pending handshake race", from, 1, true)) {
			hs_fields(&ev, c, &hp, h);
			log_ev_end(&ev);
		}
		goto out;
	}
	if (hostmap_new_index(n->hm, &local) != 0)
		goto out;
	memset(&out, 0, sizeof(out));
	out.cert = n->cfg->cert_nokey;
	out.cert_len = n->cfg->cert_nokey_len;
	out.initiator_index = hp.initiator_index;
	out.responder_index = local;
	out.time = (uint64_t)node_real_ns();
	if (hspayload_encode(&out, hs->payload, sizeof(hs->payload), &olen) !=
	        0 ||
	    noise_write_msg2(&nh, hs->payload, olen, msg2 + HEADER_LEN,
	        sizeof(msg2) - HEADER_LEN, &body) != 0)
		goto out;
	header_encode(msg2, HDR_HANDSHAKE, HDR_SUB_HANDSHAKE_IXPSK0,
	    hp.initiator_index, 2);
	t = tunnel_new(n, &nh, false, c, local, hp.initiator_index, hp.time,
	    from->addr, from->via);
	c = NULL; /* the tunnel owns it, or freed it */
	if (t == NULL)
		goto out;
	t->msg1 = malloc(len - HEADER_LEN);
	t->msg2 = malloc(HEADER_LEN + body);
	if (t->msg1 == NULL || t->msg2 == NULL) {
		tunnel_free(n, t);
		goto out;
	}
	memcpy(t->msg1, pkt + HEADER_LEN, len - HEADER_LEN);
	t->msg1_len = len - HEADER_LEN;
	memcpy(t->msg2, msg2, HEADER_LEN + body);
	t->msg2_len = HEADER_LEN + body;
	if (tunnel_up(n, t) != 0) {
		tunnel_free(n, t);
		goto out;
	}
	if (mine != NULL && log_ev_begin(&ev, LOG_LVL_INFO,
	                        "Handshake race lost, replacing pending "
	                        "handshake with completed tunnel")) {
		log_ev_ip4(&ev, "vpnIp", vpn);
		log_ev_end(&ev);
	}
	reply(n, from, vpn, msg2, t->msg2_len);
	queued = mine != NULL ? mine->nq : 0;
	if (hs_say(n, &ev, LOG_LVL_INFO, "Handshake message sent", from, 2,
	        false)) {
		hs_fields(&ev, t->peer, &out, h);
		log_ev_u64(&ev, "sentCachedPackets", queued);
		log_ev_end(&ev);
	}
	if (mine != NULL) { /* the higher VPN IP's handshake wins */
		flush_queue(n, t, mine);
		pending_free(n, mine);
	}
	worker_flush(n->wk);
out:
	cert_free(c);
	noise_clear(&nh);
}

/*
 * The responder of p's handshake, whose message 2 we read but refuse
 * (its certificate, or the wrong host), made a tunnel: it is told to
 * close it, with the keys of that handshake (our first message after
 * it, counter 3), so that it does not wait for its liveness check.
 */
static void
tell_close(struct node *n, struct pending *p, const struct hspayload *hp,
    const struct src *from)
{
	uint8_t k1[32], k2[32], pkt[HEADER_LEN + 16];

	if (noise_split(&p->hs, k1, k2) != 0)
		return;
	header_encode(pkt, HDR_CLOSE_TUNNEL, HDR_SUB_NONE, hp->responder_index,
	    3);
	if (crypto_aead_seal1(n->cfg->cipher, k1, 3, pkt, HEADER_LEN,
	        pkt + HEADER_LEN, 0, pkt + HEADER_LEN) == 0)
		reply(n, from, p->vpn_ip, pkt, sizeof(pkt));
	worker_flush(n->wk);
	crypto_cleanse(k1, sizeof(k1));
	crypto_cleanse(k2, sizeof(k2));
}

/*
 * wire.md 4.5: another host answered p's handshake.  It
 * is told to close the tunnel it made, its address is not tried again
 * for p's peer, and a new handshake with the packets p queued tries the
 * peer's other addresses (as Nebula: "Blocked addresses for
 * handshakes").
 */
static void
wrong_host(struct node *n, struct pending *p, const struct src *from,
    const struct hspayload *hp)
{
	uint32_t vpn_ip = p->vpn_ip;
	struct pending *np;
	struct qpkt *q;
	size_t nq;

	tell_close(n, p, hp, from);
	if (from->addr != NULL)
		remotes_block(n->rem, vpn_ip, from->addr);
	/* the queue moves to the new handshake, its bytes still held */
	q = p->qhead;
	nq = p->nq;
	p->qhead = NULL;
	p->qtail = &p->qhead;
	p->nq = 0;
	pending_free(n, p);
	if ((np = pending_new(n, vpn_ip)) == NULL) {
		free_queue(n, q);
		return;
	}
	np->qhead = q;
	np->nq = nq;
	while (q != NULL && q->next != NULL)
		q = q->next;
	np->qtail = q != NULL ? &q->next : &np->qhead;
	hs_try(n, np, node_mono_ns());
	rearm(n);
}

/* Message 2: we are the initiator. */
static void
hs_stage2(struct node *n, const struct src *from, const struct header *h,
    uint8_t *pkt, size_t len)
{
	struct handshakes *hs = n->hs;
	struct pending *p = hostmap_pending_by_index(n->hm, h->remote_index);
	struct hspayload hp;
	struct tunnel *t;
	struct cert *c = NULL;
	uint8_t rs[32];
	size_t plen;
	char why[256];
	struct log_ev ev;

	if (p == NULL) {
		/* Complete already: a late message 2 from a preferred address
		 * (wire.md 4.5 step 6).  It cannot be authenticated any more
		 * (16 bytes with the index, in clear in every packet the peer
		 * sends, would do), so the tunnel does not move: the address
		 * is probed, and an authenticated reply moves it.  Else a
		 * copy of one already read, or a forgery. */
		struct tunnel *done = hostmap_by_index(n->hm, h->remote_index);

		hs->st.stray++;
		if (done != NULL && done->initiator && from->addr != NULL &&
		    node_cfg_preferred(n->cfg, from->addr) &&
		    (done->relayed ||
		        !node_cfg_preferred(n->cfg, &done->remote))) {
			tunnel_probe(n, done, from->addr);
			worker_flush(n->wk);
		}
		return;
	}
	if (from->addr != NULL &&
	    !allowlist_remote_allow(n->cfg->remote_allow, n->cfg->remote_ranges,
	        p->vpn_ip, from->addr->ip)) {
		refuse(
		    n, from, LOG_LVL_DEBUG, ALLOW_DENIED, -1, p->vpn_ip, NULL);
		return; /* the pending handshake goes on with other addresses */
	}
	if (noise_read_msg2(&p->hs, pkt + HEADER_LEN, len - HEADER_LEN, rs,
	        hs->payload, sizeof(hs->payload), &plen) != 0) {
		/* Keep the pending handshake: a forger cannot kill it. */
		hs->st.refused++;
		bad_message(n, from, "Failed to call noise.ReadMessage", 2,
		    p->vpn_ip,
		    "handshake reply did not authenticate (a forgery, or a "
		    "peer using another cipher)");
		return;
	}
	if (hspayload_decode(&hp, hs->payload, plen) != 0) {
		hs->st.refused++;
		bad_message(n, from, "Failed unmarshal handshake message", 2,
		    p->vpn_ip, NULL);
		pending_free(n, p);
		return;
	}
	if (peer_cert(n, &hp, rs, &c, why, sizeof(why)) != 0) {
		refuse_cert(n, from, LOG_LVL_ERROR, 2, p->vpn_ip, c, why);
		cert_free(c);
		tell_close(n, p, &hp, from);
		pending_free(n, p);
		return;
	}
	if (c->ips[0].addr != p->vpn_ip) {
		hs->st.refused++;
		if (hs_say(n, &ev, LOG_LVL_INFO,
		        "Incorrect host responded to handshake", from, 2,
		        true)) {
			log_ev_ip4(&ev, "intendedVpnIp", p->vpn_ip);
			log_ev_ip4(&ev, "haveVpnIp", c->ips[0].addr);
			log_ev_peer(&ev, "certName", c->name.s, c->name.len);
			log_ev_end(&ev);
		}
		cert_free(c);
		wrong_host(n, p, from, &hp);
		return;
	}
	if (hs_say(n, &ev, LOG_LVL_INFO, "Handshake message received", from, 2,
	        false)) {
		hs_fields(&ev, c, &hp, h);
		log_ev_i64(&ev, "durationNs", node_mono_ns() - p->started);
		log_ev_u64(&ev, "sentCachedPackets", p->nq);
		log_ev_end(&ev);
	}
	t = tunnel_new(n, &p->hs, true, c, p->local_index, hp.responder_index,
	    hp.time, from->addr, from->via);
	if (t == NULL)
		return;
	/* The index passes from the pending handshake to the tunnel. */
	hostmap_pending_unindex(n->hm, p->local_index);
	if (tunnel_up(n, t) != 0) {
		tunnel_free(n, t);
		pending_free(n, p);
		return;
	}
	flush_queue(n, t, p);
	pending_free(n, p);
}

/* The oldest message 1 of the first non-empty queue, taken out. */
static struct msg1 *
msg1_pop(struct handshakes *hs, struct msg1_fifo *q)
{
	struct msg1 *m = q->head;

	if (m == NULL)
		return NULL;
	if ((q->head = m->next) == NULL)
		q->tail = &q->head;
	hs->nmsg1--;
	return m;
}

static void
msg1_push(struct handshakes *hs, struct msg1_fifo *q, struct msg1 *m)
{
	m->next = NULL;
	*q->tail = m;
	q->tail = &m->next;
	hs->nmsg1++;
}

/* Work through the waiting messages 1, known sources first, while the
 * guard's budget lasts; then wait for it. */
static void
drain(struct node *n)
{
	struct handshakes *hs = n->hs;
	struct msg1_fifo *q;
	struct timeval tv;
	struct msg1 *m;
	struct src s;
	int64_t now, t0, wait;

	hsguard_set(hs->guard, (int)n->cfg->hs_cpu_percent,
	    (int)n->cfg->hs_source_rate);
	for (;;) {
		q = hs->known.head != NULL ? &hs->known : &hs->other;
		if ((m = q->head) == NULL)
			return;
		now = node_mono_ns();
		if (now - m->at > MSG1_MAX_AGE) {
			free(msg1_pop(hs, q));
			hs->st.msg1_stale++;
			continue;
		}
		if (hsguard_admit(hs->guard, m->src, now) != HSG_ADMIT)
			break;
		msg1_pop(hs, q);
		s.addr = m->relayed ? NULL : &m->from;
		s.via = m->via;
		t0 = node_mono_ns();
		hs_stage1(n, &s, &m->h, m->pkt, m->len);
		hsguard_spent(hs->guard, node_mono_ns() - t0);
		free(m);
	}
	/* out of budget: again when a message at the head can go */
	wait = hsguard_wait(hs->guard, q == &hs->known, node_mono_ns());
	tv.tv_sec = (time_t)(wait / 1000000000);
	tv.tv_usec = (suseconds_t)(wait % 1000000000 / 1000);
	evtimer_add(hs->drain_ev, &tv);
}

static void
on_drain(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain(arg);
}

/*
 * Message 1 is queued, not handled at once: the datagrams read with it
 * are handled first, and its public-key work waits for the guard's
 * budget (hsguard.h), known sources first.  The queue holds
 * handshakes.responder_queue messages; when full, a message from a known
 * source takes the place of the oldest from an unknown one, else it is
 * dropped (its initiator tries again).
 */
static void
msg1_enqueue(struct node *n, const struct udp_addr *from, uint32_t via,
    const struct header *h, const uint8_t *pkt, size_t len)
{
	struct handshakes *hs = n->hs;
	uint32_t src = src_key(from, via);
	int64_t now = node_mono_ns();
	struct msg1 *m;
	bool known;

	if (hsguard_over_rate(hs->guard, src, now))
		return; /* counted by the guard */
	known = hsguard_known(hs->guard, src);
	if (hs->nmsg1 >= (size_t)n->cfg->hs_responder_queue) {
		if (!known || hs->other.head == NULL) {
			hs->st.msg1_full++;
			return;
		}
		free(msg1_pop(hs, &hs->other));
		hs->st.msg1_full++;
	}
	if ((m = malloc(sizeof(*m) + len)) == NULL) {
		hs->st.msg1_full++;
		return;
	}
	if (from != NULL)
		m->from = *from;
	m->relayed = from == NULL;
	m->via = via;
	m->src = src;
	m->at = now;
	m->h = *h;
	m->len = len;
	memcpy(m->pkt, pkt, len);
	msg1_push(hs, known ? &hs->known : &hs->other, m);
	if (!evtimer_pending(hs->drain_ev, NULL))
		event_active(hs->drain_ev, EV_TIMEOUT, 0);
}

void
hs_recv(struct node *n, const struct udp_addr *from, uint32_t via,
    const struct header *h, uint8_t *pkt, size_t len)
{
	struct src s = {from, via};

	if (h->subtype == HDR_SUB_HANDSHAKE_IXPSK0 && h->counter == 1)
		msg1_enqueue(n, from, via, h, pkt, len);
	else if (h->subtype == HDR_SUB_HANDSHAKE_IXPSK0 && h->counter == 2)
		hs_stage2(n, &s, h, pkt, len);
	else /* another subtype (xx_psk0 is never sent), or no such stage */
		n->hs->st.bad++;
}
