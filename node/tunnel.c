/*
 * node/tunnel.c: Noise IX handshakes as initiator and responder
 * (wire.md 4-5), the tunnel table, and the connection manager (wire.md
 * 10).  Everything here runs on the event loop's thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "err.h"
#include "hspayload.h"
#include "log.h"
#include "nodeint.h"

static void
fmt_ip(uint32_t ip, char buf[IP4_STRLEN])
{
	ip4_format(ip, buf);
}

/* A fresh local index, unused by any tunnel or pending handshake. */
static int
new_index(struct node *n, uint32_t *out)
{
	uint8_t b[4];
	uint32_t v;
	int i;

	for (i = 0; i < 32; i++) {
		if (crypto_random(b, 4) != 0)
			return VPN_ERR_CRYPTO;
		v = be32_get(b);
		if (v != 0 && u32map_get(&n->tun_by_index, v) == NULL &&
		    u32map_get(&n->pend_by_index, v) == NULL) {
			*out = v;
			return 0;
		}
	}
	return VPN_ERR_RANGE;
}

static void
send_raw(struct node *n, const struct udp_addr *to, const uint8_t *p,
    size_t len)
{
	uint8_t *slot;

	if (len > UDP_MAX_PACKET) {
		n->st.tx_dropped++;
		return;
	}
	slot = udp_tx_slot(n->udp);
	memcpy(slot, p, len);
	udp_tx_commit(n->udp, to, len);
}

/* Forget packet i of p's queue. */
static void
unqueue(struct node *n, struct pending *p, size_t i)
{
	n->queued_bytes -= p->q[i].len;
	free(p->q[i].p);
	p->q[i].p = NULL;
}

static void
pending_free(struct node *n, struct pending *p)
{
	size_t i;

	u32map_del(&n->pend_by_index, p->local_index);
	if (u32map_get(&n->pend_by_ip, p->vpn_ip) == p)
		u32map_del(&n->pend_by_ip, p->vpn_ip);
	for (i = 0; i < p->nq; i++)
		unqueue(n, p, i);
	noise_clear(&p->hs);
	free(p->pkt);
	free(p);
}

/*
 * wire.md 8.6: preferred ranges first; then IPv6 before IPv4; among IPv4,
 * public before private (RFC 1918); then by address bytes, then port.
 */
static int
addr_rank(const struct node_cfg *c, const struct udp_addr *a)
{
	uint32_t v;

	if (node_cfg_preferred(c, a))
		return 0;
	if (!udp_addr_is_v4(a))
		return 1;
	v = udp_addr_v4(a);
	if ((v >> 24) == 10 || (v >> 20) == 0xac1 || (v >> 16) == 0xc0a8)
		return 3;
	return 2;
}

static int
addr_cmp(const void *x, const void *y, void *cfg)
{
	const struct udp_addr *a = x, *b = y;
	int ra = addr_rank(cfg, a), rb = addr_rank(cfg, b), c;

	if (ra != rb)
		return ra - rb;
	if ((c = memcmp(a->ip, b->ip, 16)) != 0)
		return c;
	return (int)a->port - (int)b->port;
}

static size_t
peer_addrs_unsorted(struct node *n, uint32_t vpn_ip, struct udp_addr *out,
    size_t max)
{
	const struct static_host *sh = node_cfg_static(n->cfg, vpn_ip);
	const struct rcache *rc = u32map_get(&n->rcache, vpn_ip);
	const struct udp_addr *cand;
	size_t cnt = 0, i, j, k, total;

	total = (sh != NULL ? sh->naddrs : 0);
	for (i = 0; rc != NULL && i < LH_MAX_HOSTS; i++)
		total += rc->by[i].n;
	for (k = 0; k < total && cnt < max; k++) {
		if (sh != NULL && k < sh->naddrs) {
			cand = &sh->addrs[k];
		} else {
			size_t off = k - (sh != NULL ? sh->naddrs : 0);

			for (i = 0; off >= rc->by[i].n; i++)
				off -= rc->by[i].n;
			cand = &rc->by[i].a[off];
		}
		for (j = 0; j < cnt; j++)
			if (udp_addr_eq(&out[j], cand))
				break;
		if (j == cnt)
			out[cnt++] = *cand;
	}
	return cnt;
}

size_t
node_peer_addrs(struct node *n, uint32_t vpn_ip, struct udp_addr *out,
    size_t max)
{
	size_t cnt = peer_addrs_unsorted(n, vpn_ip, out, max);

	qsort_r(out, cnt, sizeof(*out), addr_cmp, n->cfg);
	return cnt;
}

/* Send message 1 to every known address of the peer; with at most one
 * known, ask the lighthouses again (wire.md 4.5). */
static void
hs_try(struct node *n, struct pending *p, int64_t now)
{
	struct udp_addr addrs[STATIC_MAX_ADDRS + LH_MAX_HOSTS * RC_MAX];
	char ip[IP4_STRLEN], a[UDP_ADDR_STRLEN];
	size_t i, na;

	p->attempts++;
	p->next_at = now + p->attempts * n->cfg->hs_try_interval;
	na = node_peer_addrs(n, p->vpn_ip, addrs,
	    sizeof(addrs) / sizeof(addrs[0]));
	if (na <= 1)
		lh_query(n, p->vpn_ip);
	for (i = 0; i < na; i++) {
		send_raw(n, &addrs[i], p->pkt, p->pkt_len);
		if (log_enabled(LOG_LVL_INFO)) {
			fmt_ip(p->vpn_ip, ip);
			udp_addr_format(&addrs[i], a);
			log_info("Handshake message sent: vpnIp=%s udpAddr=%s "
			         "initiatorIndex=%u attempt=%lld",
			    ip, a, p->local_index, (long long)p->attempts);
		}
	}
	udp_flush(n->udp);
}

/* A lighthouse answered: try a handshake that has not tried yet now. */
void
hs_kick(struct node *n, uint32_t vpn_ip)
{
	struct pending *p = u32map_get(&n->pend_by_ip, vpn_ip);

	if (p != NULL && p->attempts == 0)
		hs_try(n, p, node_mono_ns());
}

static uint8_t *
payload_buf(size_t *cap)
{
	static uint8_t buf[HS_PKT_MAX]; /* single-threaded loop */

	*cap = sizeof(buf);
	return buf;
}

/* At the bound of pending handshakes: counted, and said now and then.
 * Our lighthouses are never refused (a scan must not cut us off from
 * them); they are at most LH_MAX_HOSTS more. */
static bool
pending_full(struct node *n, uint32_t vpn_ip)
{
	if (n->pend_by_ip.len < (size_t)n->cfg->max_pending ||
	    node_cfg_is_lighthouse(n->cfg, vpn_ip))
		return false;
	n->st.hs_pending_full++;
	if (log_limit_allow(&n->pend_limit, node_mono_ns() / 1000000000, 0.1,
	        1)) /* once every 10 s */
		log_warnx("Reached the pending handshake limit "
		          "(handshakes.max_pending: %lld): packets to new "
		          "peers are dropped until handshakes complete or "
		          "time out (hsPendingFull=%llu)",
		    (long long)n->cfg->max_pending,
		    (unsigned long long)n->st.hs_pending_full);
	return true;
}

/* Queue a packet behind p's handshake, within the queue's length and the
 * node's bytes bound. */
static void
enqueue(struct node *n, struct pending *p, uint8_t type, uint8_t subtype,
    const uint8_t *pkt, size_t len)
{
	if (p->nq >= PENDING_MAX_QUEUE || len > TUNNEL_MAX_BODY ||
	    n->queued_bytes + len > (size_t)n->cfg->max_queued_bytes ||
	    (p->q[p->nq].p = malloc(len > 0 ? len : 1)) == NULL) {
		n->st.tx_queue_full++;
		return;
	}
	memcpy(p->q[p->nq].p, pkt, len);
	p->q[p->nq].type = type;
	p->q[p->nq].subtype = subtype;
	p->q[p->nq++].len = len;
	n->queued_bytes += len;
}

void
hs_start(struct node *n, uint32_t vpn_ip, uint8_t type, uint8_t subtype,
    const uint8_t *pkt, size_t len)
{
	struct pending *p = u32map_get(&n->pend_by_ip, vpn_ip);
	struct hspayload hp;
	uint8_t *pl, m1[HS_PKT_MAX]; /* built here, kept at its size */
	size_t cap, plen, body;
	bool fresh = p == NULL;

	if (p == NULL) {
		if (pending_full(n, vpn_ip) ||
		    (p = calloc(1, sizeof(*p))) == NULL)
			return;
		p->vpn_ip = vpn_ip;
		memset(&hp, 0, sizeof(hp));
		pl = payload_buf(&cap);
		if (new_index(n, &p->local_index) != 0 ||
		    noise_init(&p->hs, n->cfg->cipher, true, n->cfg->key,
		        n->cfg->pub) != 0)
			goto fail;
		hp.cert = n->cfg->cert_nokey;
		hp.cert_len = n->cfg->cert_nokey_len;
		hp.initiator_index = p->local_index;
		hp.time = (uint64_t)node_real_ns();
		if (hspayload_encode(&hp, pl, cap, &plen) != 0 ||
		    noise_write_msg1(&p->hs, pl, plen, m1 + HEADER_LEN,
		        sizeof(m1) - HEADER_LEN, &body) != 0 ||
		    (p->pkt = malloc(HEADER_LEN + body)) == NULL)
			goto fail;
		header_encode(m1, HDR_HANDSHAKE, HDR_SUB_HANDSHAKE_IXPSK0, 0, 1);
		p->pkt_len = HEADER_LEN + body;
		memcpy(p->pkt, m1, p->pkt_len);
		if (u32map_put(&n->pend_by_index, p->local_index, p) != 0 ||
		    u32map_put(&n->pend_by_ip, vpn_ip, p) != 0) {
			u32map_del(&n->pend_by_index, p->local_index);
			goto fail;
		}
		n->st.hs_started++;
	}
	if (pkt != NULL)
		enqueue(n, p, type, subtype, pkt, len);
	/* A static host is tried at once; others on the next tick, after
	 * asking the lighthouses where it is. */
	if (fresh) {
		if (node_cfg_static(n->cfg, vpn_ip) != NULL) {
			hs_try(n, p, node_mono_ns());
		} else {
			p->next_at = node_mono_ns() + n->cfg->hs_try_interval;
			lh_query(n, vpn_ip);
		}
	}
	return;
fail:
	noise_clear(&p->hs);
	free(p->pkt);
	free(p);
}

void
hs_tick(struct node *n)
{
	struct pending *expired[64];
	int64_t now = node_mono_ns();
	size_t it = 0, ne = 0, i;
	uint32_t k;
	void *v;
	char ip[IP4_STRLEN];

	while (u32map_next(&n->pend_by_index, &it, &k, &v)) {
		struct pending *p = v;

		if (now < p->next_at)
			continue;
		if (p->attempts >= n->cfg->hs_retries) {
			if (ne < 64)
				expired[ne++] = p;
			continue;
		}
		hs_try(n, p, now);
	}
	for (i = 0; i < ne; i++) {
		fmt_ip(expired[i]->vpn_ip, ip);
		log_info("Handshake timed out: vpnIp=%s initiatorIndex=%u "
		         "attempts=%lld queuedPackets=%zu",
		    ip, expired[i]->local_index,
		    (long long)expired[i]->attempts, expired[i]->nq);
		n->st.hs_timed_out++;
		pending_free(n, expired[i]);
	}
}

/* Keys, counters and the replay window of a completed handshake. */
static struct tunnel *
tunnel_new(struct node *n, const struct noise_hs *hs, bool initiator,
    struct cert *peer, uint32_t local, uint32_t remote, uint64_t peer_time,
    const struct udp_addr *from)
{
	uint8_t k1[32], k2[32];
	struct tunnel *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	if (noise_split(hs, k1, k2) != 0) {
		free(t);
		t = NULL;
		goto out;
	}
	memcpy(t->ktx, initiator ? k1 : k2, 32);
	memcpy(t->krx, initiator ? k2 : k1, 32);
	t->vpn_ip = peer->ips[0].addr;
	t->local_index = local;
	t->remote_index = remote;
	t->peer = peer;
	log_sanitize(peer->name.s, peer->name.len, t->name, sizeof(t->name));
	t->tx_counter = 2; /* 1 and 2 were the handshake */
	replay_init(&t->win);
	replay_update(&t->win, 1);
	replay_update(&t->win, 2);
	t->remote = *from;
	t->initiator = initiator;
	t->peer_time = peer_time;
	conntrack_owner_init(&t->ct_own);
	if (fw_peer_init(&t->fwp, n->cfg->fw, peer, n->cfg->ca) != 0) {
		crypto_cleanse(t, sizeof(*t));
		free(t);
		t = NULL;
	}
out:
	crypto_cleanse(k1, sizeof(k1));
	crypto_cleanse(k2, sizeof(k2));
	return t;
}

static void
tunnel_free(struct node *n, struct tunnel *t)
{
	conntrack_owner_release(n->ct, &t->ct_own);
	fw_peer_clear(&t->fwp);
	crypto_aead_free(t->tx);
	crypto_aead_free(t->rx);
	cert_free(t->peer);
	free(t->msg1);
	free(t->msg2);
	crypto_cleanse(t->ktx, sizeof(t->ktx));
	crypto_cleanse(t->krx, sizeof(t->krx));
	free(t);
}

int
tunnel_seal(struct node *n, struct tunnel *t, uint8_t type, uint64_t ctr,
    uint8_t *slot, size_t len)
{
	if (type != HDR_MESSAGE)
		return crypto_aead_seal1(n->cfg->cipher, t->ktx, ctr, slot,
		    HEADER_LEN, slot + HEADER_LEN, len, slot + HEADER_LEN);
	if (t->tx == NULL &&
	    crypto_aead_new(n->cfg->cipher, t->ktx, true, &t->tx) != 0)
		return VPN_ERR_CRYPTO;
	return crypto_aead_seal(t->tx, ctr, slot, HEADER_LEN,
	    slot + HEADER_LEN, len, slot + HEADER_LEN);
}

int
tunnel_open(struct node *n, struct tunnel *t, uint8_t type, uint64_t ctr,
    uint8_t *pkt, size_t clen)
{
	if (type != HDR_MESSAGE)
		return crypto_aead_open1(n->cfg->cipher, t->krx, ctr, pkt,
		    HEADER_LEN, pkt + HEADER_LEN, clen, pkt + HEADER_LEN);
	if (t->rx == NULL &&
	    crypto_aead_new(n->cfg->cipher, t->krx, false, &t->rx) != 0)
		return VPN_ERR_CRYPTO;
	return crypto_aead_open(t->rx, ctr, pkt, HEADER_LEN, pkt + HEADER_LEN,
	    clen, pkt + HEADER_LEN);
}

static struct cmq *
cm_queue(struct node *n, const struct tunnel *t)
{
	return t->check == CHECK_DELETE ? &n->cm_delete : &n->cm_alive;
}

static void
cm_unarm(struct node *n, struct tunnel *t)
{
	struct cmq *q;

	if (!t->armed)
		return;
	q = cm_queue(n, t);
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

/* Queue t for a check at `at`, behind everything due earlier. */
static void
cm_enqueue(struct node *n, struct tunnel *t, enum check_state check,
    int64_t at)
{
	struct cmq *q;

	cm_unarm(n, t);
	t->check = check;
	t->check_at = at;
	q = cm_queue(n, t);
	t->armed = true;
	t->arm_next = NULL;
	t->arm_prev = q->tail;
	if (q->tail != NULL)
		q->tail->arm_next = t;
	else
		q->head = t;
	q->tail = t;
}

/* The first packet sent since the last check: check in alive_interval. */
void
cm_arm(struct node *n, struct tunnel *t)
{
	if (!t->armed)
		cm_enqueue(n, t, CHECK_ALIVE,
		    node_mono_ns() + n->cfg->alive_interval * 1000000000LL);
}

static void
tunnel_log(const char *what, const struct tunnel *t, const char *why)
{
	char ip[IP4_STRLEN], a[UDP_ADDR_STRLEN];

	fmt_ip(t->vpn_ip, ip);
	udp_addr_format(&t->remote, a);
	log_info("%s: peer=%s vpnIp=%s udpAddr=%s localIndex=%u "
	         "remoteIndex=%u initiator=%s%s%s",
	    what, t->name, ip, a, t->local_index, t->remote_index,
	    t->initiator ? "true" : "false", why != NULL ? " reason=" : "",
	    why != NULL ? why : "");
}

void
tunnel_delete(struct node *n, struct tunnel *t, const char *why)
{
	tunnel_log("Tunnel down", t, why);
	lh_tunnel_down(n, t);
	cm_unarm(n, t);
	if (u32map_get(&n->tun_by_remote, t->remote_index) == t)
		u32map_del(&n->tun_by_remote, t->remote_index);
	u32map_del(&n->tun_by_index, t->local_index);
	if (u32map_get(&n->tun_by_ip, t->vpn_ip) == t)
		u32map_del(&n->tun_by_ip, t->vpn_ip);
	tunnel_free(n, t);
}

static bool
same_cert(const struct cert *a, const struct cert *b)
{
	uint8_t fa[CERT_FP_LEN], fb[CERT_FP_LEN];

	return cert_fingerprint(a, fa) == 0 && cert_fingerprint(b, fb) == 0 &&
	       memcmp(fa, fb, CERT_FP_LEN) == 0;
}

/* Make t the tunnel for its VPN IP, replacing an older one. */
static int
tunnel_install(struct node *n, struct tunnel *t)
{
	struct tunnel *old = u32map_get(&n->tun_by_ip, t->vpn_ip);

	if (u32map_put(&n->tun_by_index, t->local_index, t) != 0)
		return VPN_ERR_NOMEM;
	if (u32map_put(&n->tun_by_ip, t->vpn_ip, t) != 0) {
		u32map_del(&n->tun_by_index, t->local_index);
		return VPN_ERR_NOMEM;
	}
	if (old != NULL) {
		u32map_del(&n->tun_by_index, old->local_index);
		if (u32map_get(&n->tun_by_remote, old->remote_index) == old)
			u32map_del(&n->tun_by_remote, old->remote_index);
		cm_unarm(n, old);
		/* The same certificate: its tracked flows go on. */
		if (same_cert(old->peer, t->peer))
			conntrack_owner_move(n->ct, &old->ct_own, &t->ct_own);
		tunnel_log("Tunnel replaced", old, "newer handshake");
		tunnel_free(n, old);
	}
	u32map_put(&n->tun_by_remote, t->remote_index, t); /* best effort */
	n->st.hs_completed++;
	tunnel_log("Tunnel up", t, NULL);
	lh_tunnel_up(n, t);
	return 0;
}

/* wire.md 8.6: every 1000 packets to a peer that is not at a preferred
 * address, probe its preferred addresses; its reply roams us there. */
void
tunnel_probe_preferred(struct node *n, struct tunnel *t)
{
	struct udp_addr a[STATIC_MAX_ADDRS + LH_MAX_HOSTS * RC_MAX];
	size_t na, i;

	if (n->cfg->npreferred == 0 || node_cfg_preferred(n->cfg, &t->remote))
		return;
	na = node_peer_addrs(n, t->vpn_ip, a, sizeof(a) / sizeof(a[0]));
	for (i = 0; i < na && node_cfg_preferred(n->cfg, &a[i]); i++)
		tunnel_send_to(n, t, &a[i], HDR_TEST, HDR_SUB_TEST_REQUEST,
		    NULL, 0);
}

/*
 * An unauthenticated hint that the peer may be reachable at `from` (a
 * handshake message from a preferred address): ask there with a test
 * request, at most once a second per tunnel.  The tunnel moves only when
 * an authenticated reply comes back from there (tunnel_roam): a stranger
 * who knows the tunnel's index cannot redirect it.
 */
static void
tunnel_probe(struct node *n, struct tunnel *t, const struct udp_addr *from)
{
	int64_t now = node_mono_ns();

	if ((now - t->probed_at < 1000000000LL && t->probed_at != 0) ||
	    !allowlist_remote_allow(n->cfg->remote_allow, n->cfg->remote_ranges,
	        t->vpn_ip, from->ip))
		return;
	t->probed_at = now;
	tunnel_send_to(n, t, from, HDR_TEST, HDR_SUB_TEST_REQUEST, NULL, 0);
}

int
tunnel_send_to(struct node *n, struct tunnel *t, const struct udp_addr *to,
    uint8_t type, uint8_t subtype, const uint8_t *body, size_t len)
{
	uint8_t *slot;

	if (len > TUNNEL_MAX_BODY) {
		n->st.tx_dropped++;
		return VPN_ERR_RANGE;
	}
	slot = udp_tx_slot(n->udp);
	if (len > 0)
		memcpy(slot + HEADER_LEN, body, len);
	node_seal_slot_to(n, t, to, slot, type, subtype, len);
	return 0;
}

int
tunnel_send(struct node *n, struct tunnel *t, uint8_t type, uint8_t subtype,
    const uint8_t *body, size_t len)
{
	return tunnel_send_to(n, t, &t->remote, type, subtype, body, len);
}

/* Move a pending handshake's queued packets into the new tunnel. */
static void
flush_queue(struct node *n, struct tunnel *t, struct pending *p)
{
	size_t i;

	for (i = 0; i < p->nq; i++) {
		/* enqueue() kept each within TUNNEL_MAX_BODY */
		if (p->q[i].type == HDR_MESSAGE) { /* firewall at send time */
			uint8_t *slot = udp_tx_slot(n->udp);

			memcpy(slot + HEADER_LEN, p->q[i].p, p->q[i].len);
			node_send_data(n, t, slot, p->q[i].len);
		} else {
			tunnel_send(n, t, p->q[i].type, p->q[i].subtype,
			    p->q[i].p, p->q[i].len);
		}
		unqueue(n, p, i);
	}
	p->nq = 0;
	udp_flush(n->udp);
}

/* The peer's certificate from a handshake payload, with its Noise static
 * key put back in and checked against the CA pool. */
static int
peer_cert(struct node *n, const struct hspayload *hp, const uint8_t rs[32],
    struct cert **out, char *why, size_t whylen)
{
	char detail[128];
	struct cert *c = NULL;
	int r;

	*out = NULL;
	if ((r = cert_unmarshal_nokey(hp->cert, hp->cert_len, &c)) != 0 ||
	    (r = cert_set_pubkey(c, rs, 32)) != 0) {
		snprintf(why, whylen, "certificate did not decode: %s",
		    vpn_strerror(r));
		cert_free(c);
		return r;
	}
	r = ca_pool_verify(n->cfg->ca, c, node_real_ns() / 1000000000, detail,
	    sizeof(detail));
	if (r != 0) {
		snprintf(why, whylen, "%s%s%s", vpn_strerror(r),
		    *detail != '\0' ? ": " : "", detail);
		cert_free(c);
		return r;
	}
	if (c->nips == 0) {
		snprintf(why, whylen, "certificate has no IP");
		cert_free(c);
		return VPN_ERR_INVAL;
	}
	*out = c;
	return 0;
}

static void
refuse(struct node *n, const struct udp_addr *from, const char *stage,
    const char *why)
{
	char a[UDP_ADDR_STRLEN];

	n->st.rx_hs_refused++;
	if (!log_limit_allow(&n->warn_limit, node_mono_ns() / 1000000000, 5,
	        20))
		return;
	udp_addr_format(from, a);
	log_warnx("Handshake refused: udpAddr=%s stage=%s reason=%s", a,
	    stage, why);
}

/* Message 1: we are the responder. */
static void
hs_stage1(struct node *n, const struct udp_addr *from, uint8_t *pkt,
    size_t len)
{
	struct noise_hs hs;
	struct hspayload hp, out;
	struct tunnel *t, *old;
	struct pending *mine;
	struct cert *c = NULL;
	const uint8_t *pl;
	uint8_t rs[32], *buf, msg2[HS_PKT_MAX];
	size_t plen, cap, olen, body;
	char why[256];
	uint32_t local, vpn;

	/* lighthouse.remote_allow_list, before the peer is known ... */
	if (!allowlist_allow(n->cfg->remote_allow, from->ip)) {
		refuse(n, from, "1", "lighthouse.remote_allow_list denied "
		                     "incoming handshake");
		return;
	}
	if (noise_init(&hs, n->cfg->cipher, false, n->cfg->key, n->cfg->pub) !=
	        0 ||
	    noise_read_msg1(&hs, pkt + HEADER_LEN, len - HEADER_LEN, rs, &pl,
	        &plen) != 0) {
		n->st.rx_hs_bad++;
		goto out;
	}
	if (hspayload_decode(&hp, pl, plen) != 0) {
		n->st.rx_hs_bad++;
		goto out;
	}
	if (peer_cert(n, &hp, rs, &c, why, sizeof(why)) != 0) {
		refuse(n, from, "1", why);
		goto out;
	}
	vpn = c->ips[0].addr;
	if (vpn == n->cfg->vpn_ip) {
		refuse(n, from, "1", "Refusing to handshake with myself");
		goto out;
	}
	/* ... and for this peer (remote_allow_ranges) once it is. */
	if (!allowlist_remote_allow(n->cfg->remote_allow, n->cfg->remote_ranges,
	        vpn, from->ip)) {
		refuse(n, from, "1", "lighthouse.remote_allow_list denied "
		                     "incoming handshake");
		goto out;
	}
	old = u32map_get(&n->tun_by_ip, vpn);
	if (old != NULL && old->msg1 != NULL &&
	    old->msg1_len == len - HEADER_LEN &&
	    memcmp(old->msg1, pkt + HEADER_LEN, old->msg1_len) == 0) {
		/* A retransmission: answer with the same message 2.  From a
		 * preferred address, probe it (wire.md 5.3): anyone can
		 * replay message 1, so the tunnel moves only on an
		 * authenticated answer from there. */
		send_raw(n, from, old->msg2, old->msg2_len);
		if (node_cfg_preferred(n->cfg, from) &&
		    !node_cfg_preferred(n->cfg, &old->remote))
			tunnel_probe(n, old, from);
		udp_flush(n->udp);
		goto out;
	}
	if (old != NULL && old->peer_time >= hp.time) {
		refuse(n, from, "1", "Handshake too old");
		tunnel_send(n, old, HDR_TEST, HDR_SUB_TEST_REQUEST, NULL, 0);
		udp_flush(n->udp);
		goto out;
	}
	mine = u32map_get(&n->pend_by_ip, vpn);
	if (mine != NULL && vpn < n->cfg->vpn_ip) {
		refuse(n, from, "1", "Prevented a pending handshake race");
		goto out;
	}
	if (new_index(n, &local) != 0)
		goto out;
	memset(&out, 0, sizeof(out));
	out.cert = n->cfg->cert_nokey;
	out.cert_len = n->cfg->cert_nokey_len;
	out.initiator_index = hp.initiator_index;
	out.responder_index = local;
	out.time = (uint64_t)node_real_ns();
	buf = payload_buf(&cap);
	if (hspayload_encode(&out, buf, cap, &olen) != 0 ||
	    noise_write_msg2(&hs, buf, olen, msg2 + HEADER_LEN,
	        sizeof(msg2) - HEADER_LEN, &body) != 0)
		goto out;
	header_encode(msg2, HDR_HANDSHAKE, HDR_SUB_HANDSHAKE_IXPSK0,
	    hp.initiator_index, 2);
	t = tunnel_new(n, &hs, false, c, local, hp.initiator_index, hp.time,
	    from);
	if (t == NULL)
		goto out;
	c = NULL; /* the tunnel owns it */
	t->msg1 = malloc(len - HEADER_LEN);
	t->msg2 = malloc(HEADER_LEN + body);
	if (t->msg1 == NULL || t->msg2 == NULL || tunnel_install(n, t) != 0) {
		tunnel_free(n, t);
		goto out;
	}
	memcpy(t->msg1, pkt + HEADER_LEN, len - HEADER_LEN);
	t->msg1_len = len - HEADER_LEN;
	memcpy(t->msg2, msg2, HEADER_LEN + body);
	t->msg2_len = HEADER_LEN + body;
	send_raw(n, from, msg2, t->msg2_len);
	if (mine != NULL) { /* the higher VPN IP's handshake wins */
		flush_queue(n, t, mine);
		pending_free(n, mine);
	}
	udp_flush(n->udp);
out:
	cert_free(c);
	noise_clear(&hs);
}

/* Message 2: we are the initiator. */
static void
hs_stage2(struct node *n, const struct udp_addr *from,
    const struct header *h, uint8_t *pkt, size_t len)
{
	struct pending *p = u32map_get(&n->pend_by_index, h->remote_index);
	struct hspayload hp;
	struct tunnel *t;
	struct cert *c = NULL;
	uint8_t rs[32], *buf;
	size_t cap, plen;
	char why[256], want[IP4_STRLEN], got[IP4_STRLEN];

	if (p == NULL) {
		/* Complete already: a late message 2 from a preferred address
		 * (wire.md 4.5 step 6).  It cannot be authenticated any more
		 * (16 bytes with the index, in clear in every packet the peer
		 * sends, would do), so the tunnel does not move: the address
		 * is probed, and an authenticated reply moves it. */
		struct tunnel *done = u32map_get(&n->tun_by_index,
		    h->remote_index);

		if (done != NULL && done->initiator &&
		    node_cfg_preferred(n->cfg, from) &&
		    !node_cfg_preferred(n->cfg, &done->remote)) {
			tunnel_probe(n, done, from);
			udp_flush(n->udp);
		}
		return;
	}
	if (!allowlist_remote_allow(n->cfg->remote_allow, n->cfg->remote_ranges,
	        p->vpn_ip, from->ip)) {
		refuse(n, from, "2", "lighthouse.remote_allow_list denied "
		                     "handshake reply");
		return; /* the pending handshake goes on with other addresses */
	}
	buf = payload_buf(&cap);
	if (noise_read_msg2(&p->hs, pkt + HEADER_LEN, len - HEADER_LEN, rs, buf,
	        cap, &plen) != 0) {
		/* Keep the pending handshake: a forger cannot kill it. */
		n->st.rx_hs_bad++;
		refuse(n, from, "2",
		    "handshake reply did not authenticate (a forgery, or a "
		    "peer using another cipher)");
		return;
	}
	if (hspayload_decode(&hp, buf, plen) != 0) {
		n->st.rx_hs_bad++;
		refuse(n, from, "2", "handshake payload did not decode");
		pending_free(n, p);
		return;
	}
	if (peer_cert(n, &hp, rs, &c, why, sizeof(why)) != 0) {
		refuse(n, from, "2", why);
		pending_free(n, p);
		return;
	}
	if (c->ips[0].addr != p->vpn_ip) {
		fmt_ip(p->vpn_ip, want);
		fmt_ip(c->ips[0].addr, got);
		snprintf(why, sizeof(why),
		    "Incorrect host responded to handshake: wanted %s, got %s",
		    want, got);
		refuse(n, from, "2", why);
		cert_free(c);
		pending_free(n, p);
		return;
	}
	t = tunnel_new(n, &p->hs, true, c, p->local_index, hp.responder_index,
	    hp.time, from);
	if (t == NULL) {
		cert_free(c);
		return;
	}
	u32map_del(&n->pend_by_index, p->local_index); /* free the index */
	if (tunnel_install(n, t) != 0) {
		tunnel_free(n, t);
		pending_free(n, p);
		return;
	}
	flush_queue(n, t, p);
	pending_free(n, p);
}

void
hs_recv(struct node *n, const struct udp_addr *from, const struct header *h,
    uint8_t *pkt, size_t len)
{
	if (h->subtype != HDR_SUB_HANDSHAKE_IXPSK0)
		return;
	if (h->counter == 1)
		hs_stage1(n, from, pkt, len);
	else if (h->counter == 2)
		hs_stage2(n, from, h, pkt, len);
}

void
tunnel_roam(struct node *n, struct tunnel *t, const struct udp_addr *from)
{
	char a[UDP_ADDR_STRLEN], b[UDP_ADDR_STRLEN];
	int64_t now;

	if (udp_addr_eq(&t->remote, from))
		return;
	if (!allowlist_remote_allow(n->cfg->remote_allow, n->cfg->remote_ranges,
	        t->vpn_ip, from->ip))
		return; /* keep the old address */
	now = node_mono_ns();
	if (udp_addr_eq(&t->roamed_from, from) &&
	    now - t->roamed_at < 2000000000LL)
		return; /* anti-flapping */
	udp_addr_format(&t->remote, a);
	udp_addr_format(from, b);
	log_info("Host roamed to new udp ip/port: peer=%s from=%s to=%s",
	    t->name, a, b);
	t->roamed_from = t->remote;
	t->roamed_at = now;
	t->remote = *from;
	lh_tunnel_up(n, t); /* a lighthouse learns the new address */
}

/* pki.disconnect_invalid: does the peer's certificate still verify? */
static bool
peer_still_valid(struct node *n, struct tunnel *t)
{
	char detail[128];
	int r;

	if (!n->cfg->disconnect_invalid)
		return true;
	r = ca_pool_verify(n->cfg->ca, t->peer, node_real_ns() / 1000000000,
	    detail, sizeof(detail));
	if (r == 0)
		return true;
	log_info("Peer certificate is no longer valid: peer=%s reason=%s%s%s",
	    t->name, vpn_strerror(r), *detail != '\0' ? ": " : "", detail);
	return false;
}

/* After a reload: peers resolved again against the new table and pool. */
void
tunnels_refresh_fw(struct node *n)
{
	struct tunnel *t;
	size_t it = 0;
	uint32_t k;
	void *v;

	while (u32map_next(&n->tun_by_index, &it, &k, &v)) {
		t = v;
		fw_peer_clear(&t->fwp);
		if (fw_peer_init(&t->fwp, n->cfg->fw, t->peer, n->cfg->ca) != 0)
			memset(&t->fwp, 0, sizeof(t->fwp)); /* drops all */
	}
}

void
tunnels_recheck(struct node *n)
{
	struct tunnel *bad[64];
	size_t it = 0, nb = 0, i;
	uint32_t k;
	void *v;

	while (u32map_next(&n->tun_by_index, &it, &k, &v) && nb < 64)
		if (!peer_still_valid(n, v))
			bad[nb++] = v;
	for (i = 0; i < nb; i++) {
		tunnel_send(n, bad[i], HDR_CLOSE_TUNNEL, HDR_SUB_NONE, NULL, 0);
		udp_flush(n->udp);
		tunnel_delete(n, bad[i], "certificate no longer valid");
	}
}

/*
 * The connection manager (wire.md 10).  Both queues are in check_at order
 * (the intervals are constant), so a tick pops what is due and stops at
 * the first tunnel that is not; at most CM_BUDGET checks a tick, so that
 * thousands falling due together are spread over several ticks.
 */
#define CM_BUDGET 256

void
cm_tick(struct node *n)
{
	int64_t now = node_mono_ns();
	struct tunnel *t;
	size_t work = 0;

	while ((t = n->cm_alive.head) != NULL && t->check_at <= now &&
	    work++ < CM_BUDGET) {
		if (!peer_still_valid(n, t)) {
			tunnel_send(n, t, HDR_CLOSE_TUNNEL, HDR_SUB_NONE, NULL,
			    0);
			tunnel_delete(n, t, "certificate no longer valid");
		} else if (t->in) {
			t->in = t->out = false;
			cm_unarm(n, t);
		} else {
			tunnel_send(n, t, HDR_TEST, HDR_SUB_TEST_REQUEST, NULL,
			    0);
			cm_enqueue(n, t, CHECK_DELETE,
			    now + n->cfg->deletion_interval * 1000000000LL);
		}
	}
	while ((t = n->cm_delete.head) != NULL && t->check_at <= now &&
	    work++ < CM_BUDGET) {
		if (t->in) {
			t->in = t->out = false;
			cm_unarm(n, t);
		} else {
			tunnel_delete(n, t, "no reply to test packets");
		}
	}
	udp_flush(n->udp);
}

void
node_send(struct node *n, uint32_t vpn_ip, uint8_t type, uint8_t subtype,
    const uint8_t *body, size_t len)
{
	struct tunnel *t = u32map_get(&n->tun_by_ip, vpn_ip);

	if (t != NULL)
		tunnel_send(n, t, type, subtype, body, len);
	else
		hs_start(n, vpn_ip, type, subtype, body, len);
}

void
node_close_all(struct node *n)
{
	size_t it = 0, cnt = 0, i;
	void **all;
	uint32_t k;
	void *v;

	while (u32map_next(&n->tun_by_index, &it, &k, &v))
		tunnel_send(n, v, HDR_CLOSE_TUNNEL, HDR_SUB_NONE, NULL, 0);
	udp_flush(n->udp);
	/* Collect, then delete: linear however many tunnels there are. */
	all = malloc((n->tun_by_index.len + n->pend_by_index.len + 1) *
	    sizeof(*all));
	for (it = 0; all != NULL && u32map_next(&n->tun_by_index, &it, &k, &v);)
		all[cnt++] = v;
	for (i = 0; i < cnt; i++)
		tunnel_delete(n, all[i], "shutting down");
	cnt = 0;
	for (it = 0; all != NULL && u32map_next(&n->pend_by_index, &it, &k, &v);)
		all[cnt++] = v;
	for (i = 0; i < cnt; i++)
		pending_free(n, all[i]);
	free(all);
}
