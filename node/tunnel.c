/*
 * node/tunnel.c: one tunnel (tunnel.h): made from a completed handshake,
 * installed, sealed and opened with, sent on, roamed, and taken down.
 * Everything here runs on the event loop's thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connmgr.h"
#include "crypto.h"
#include "dnsresp.h"
#include "err.h"
#include "handshake.h"
#include "hostmap.h"
#include "lhserver.h"
#include "lhclient.h"
#include "log.h"
#include "nodeint.h"
#include "nodelog.h"
#include "relay.h"
#include "remotes.h"
#include "tunnel.h"
#include "worker.h"

struct tunnel *
tunnel_new(struct node *n, const struct noise_hs *hs, bool initiator,
    struct cert *peer, uint32_t local, uint32_t remote, uint64_t peer_time,
    const struct udp_addr *from, uint32_t via)
{
	uint8_t k1[32], k2[32];
	struct tunnel *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		cert_free(peer);
		return NULL;
	}
	if (noise_split(hs, k1, k2) != 0) {
		cert_free(peer);
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
	if (from != NULL) {
		t->remote = *from;
	} else {
		t->relayed = true;
		tunnel_add_relay(t, via);
	}
	t->initiator = initiator;
	t->peer_time = peer_time;
	t->made_at = t->last_rx = node_mono_ns();
	t->cert_gen = n->cert_gen;
	t->pki_gen = n->pki_gen; /* the handshake verified the peer */
	conntrack_owner_init(&t->ct_own);
	if (fw_peer_init(&t->fwp, n->cfg->fw, peer, n->cfg->ca) != 0) {
		cert_free(peer);
		crypto_cleanse(t, sizeof(*t));
		free(t);
		t = NULL;
	}
out:
	crypto_cleanse(k1, sizeof(k1));
	crypto_cleanse(k2, sizeof(k2));
	return t;
}

void
tunnel_add_relay(struct tunnel *t, uint32_t via)
{
	size_t i;

	for (i = 0; i < TUNNEL_RELAYS; i++) {
		if (t->relays[i] == via)
			return;
		if (t->relays[i] == 0) {
			t->relays[i] = via;
			return;
		}
	}
	/* full: the newest replaces the oldest */
	memmove(t->relays, t->relays + 1,
	    (TUNNEL_RELAYS - 1) * sizeof(t->relays[0]));
	t->relays[TUNNEL_RELAYS - 1] = via;
}

void
tunnel_free(struct node *n, struct tunnel *t)
{
	connmgr_forget(n->cm, t);
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

/* The data contexts, keyed on first use. */
static struct crypto_aead *
tx_ctx(struct node *n, struct tunnel *t)
{
	if (t->tx == NULL &&
	    crypto_aead_new(n->cfg->cipher, t->ktx, true, &t->tx) != 0)
		return NULL;
	return t->tx;
}

static struct crypto_aead *
rx_ctx(struct node *n, struct tunnel *t)
{
	if (t->rx == NULL &&
	    crypto_aead_new(n->cfg->cipher, t->krx, false, &t->rx) != 0)
		return NULL;
	return t->rx;
}

int
tunnel_seal(struct node *n, struct tunnel *t, uint8_t type, uint64_t ctr,
    uint8_t *slot, size_t len)
{
	struct crypto_aead *a;

	if (type != HDR_MESSAGE)
		return crypto_aead_seal1(n->cfg->cipher, t->ktx, ctr, slot,
		    HEADER_LEN, slot + HEADER_LEN, len, slot + HEADER_LEN);
	if ((a = tx_ctx(n, t)) == NULL)
		return VPN_ERR_CRYPTO;
	return crypto_aead_seal(a, ctr, slot, HEADER_LEN, slot + HEADER_LEN,
	    len, slot + HEADER_LEN);
}

int
tunnel_open(struct node *n, struct tunnel *t, uint8_t type, uint64_t ctr,
    uint8_t *pkt, size_t clen)
{
	struct crypto_aead *a;

	if (type != HDR_MESSAGE)
		return crypto_aead_open1(n->cfg->cipher, t->krx, ctr, pkt,
		    HEADER_LEN, pkt + HEADER_LEN, clen, pkt + HEADER_LEN);
	if ((a = rx_ctx(n, t)) == NULL)
		return VPN_ERR_CRYPTO;
	return crypto_aead_open(a, ctr, pkt, HEADER_LEN, pkt + HEADER_LEN,
	    clen, pkt + HEADER_LEN);
}

int
tunnel_mac(struct node *n, struct tunnel *t, uint64_t ctr, uint8_t *p,
    size_t adlen)
{
	struct crypto_aead *a = tx_ctx(n, t);

	if (a == NULL)
		return VPN_ERR_CRYPTO;
	return crypto_aead_seal(a, ctr, p, adlen, p + adlen, 0, p + adlen);
}

int
tunnel_mac_check(struct node *n, struct tunnel *t, uint64_t ctr, uint8_t *p,
    size_t adlen)
{
	struct crypto_aead *a = rx_ctx(n, t);

	if (a == NULL)
		return VPN_ERR_CRYPTO;
	return crypto_aead_open(a, ctr, p, adlen, p + adlen, 16, p + adlen);
}

void
tunnel_heard(struct node *n, struct tunnel *t, const struct udp_addr *from)
{
	t->in = true;
	t->rx_packets++;
	t->last_rx = n->wk->now;
	t->recv_errors = 0;
	if (t->msg1 != NULL) { /* the peer has its keys: no resends to come */
		free(t->msg1);
		free(t->msg2);
		t->msg1 = t->msg2 = NULL;
	}
	if (from != NULL)
		tunnel_roam(n, t, from);
}

void
tunnel_log(const char *what, const struct tunnel *t, const char *why)
{
	struct log_ev ev;

	if (!log_ev_begin(&ev, LOG_LVL_INFO, "%s", what))
		return;
	nodelog_tunnel(&ev, t);
	nodelog_where(&ev, t);
	log_ev_u64(&ev, "localIndex", t->local_index);
	log_ev_u64(&ev, "remoteIndex", t->remote_index);
	log_ev_bool(&ev, "initiator", t->initiator);
	if (why != NULL)
		log_ev_str(&ev, "reason", why);
	log_ev_end(&ev);
}

/* The subsystems that follow where tunnels are. */
static void
announce_up(struct node *n, const struct tunnel *t)
{
	if (n->lhs != NULL && !t->relayed)
		lhserver_learned(n->lhs, t);
	if (n->dns != NULL)
		dnsresp_tunnel_up(n->dns, t);
}

void
tunnel_close(struct node *n, struct tunnel *t, const char *why)
{
	tunnel_send(n, t, HDR_CLOSE_TUNNEL, HDR_SUB_NONE, NULL, 0);
	worker_flush(n->wk);
	tunnel_delete(n, t, why);
}

void
tunnel_delete(struct node *n, struct tunnel *t, const char *why)
{
	uint32_t ip = t->vpn_ip;

	if (why != NULL) /* else the caller said it, as Nebula does */
		tunnel_log("Tunnel down", t, why);
	if (n->lhs != NULL)
		lhserver_forget(n->lhs, ip);
	if (n->dns != NULL)
		dnsresp_tunnel_down(n->dns, ip);
	remotes_forget(n->rem, ip);
	hostmap_remove(n->hm, t);
	tunnel_free(n, t);
	relay_tunnel_gone(n, ip);
}

static bool
same_cert(const struct cert *a, const struct cert *b)
{
	uint8_t fa[CERT_FP_LEN], fb[CERT_FP_LEN];

	return cert_fingerprint(a, fa) == 0 && cert_fingerprint(b, fb) == 0 &&
	       memcmp(fa, fb, CERT_FP_LEN) == 0;
}

int
tunnel_up(struct node *n, struct tunnel *t)
{
	struct tunnel *old;

	if (hostmap_install(n->hm, t, &old) != 0)
		return VPN_ERR_NOMEM;
	if (old != NULL) {
		/* The same certificate: its tracked flows go on. */
		if (same_cert(old->peer, t->peer))
			conntrack_owner_move(n->ct, &old->ct_own, &t->ct_own);
		tunnel_log("Taking new handshake", old, NULL);
		tunnel_free(n, old);
		/* The peer may have lost its relays with its old tunnel. */
		relay_tunnel_gone(n, t->vpn_ip);
	}
	hs_completed(n->hs, t->relayed ? NULL : &t->remote,
	    t->relayed ? t->relays[0] : 0);
	connmgr_track(n, t);
	/* said by the handshake: "Handshake message received" or "sent" */
	announce_up(n, t);
	return 0;
}

void
tunnel_seal_slot(struct worker *w, struct tunnel *t, uint8_t *slot,
    uint8_t type, uint8_t subtype, size_t len)
{
	tunnel_seal_slot_to(w, t, &t->remote, slot, type, subtype, len);
}

void
tunnel_seal_slot_to(struct worker *w, struct tunnel *t,
    const struct udp_addr *to, uint8_t *slot, uint8_t type, uint8_t subtype,
    size_t len)
{
	struct node *n = w->n;
	uint64_t ctr;

	if (len > TUNNEL_MAX_BODY) { /* the tag would not fit the slot */
		w->st.tx_dropped++;
		return;
	}
	ctr = ++t->tx_counter;
	t->tx_bytes += len;
	header_encode(slot, type, subtype, t->remote_index, ctr);
	if (tunnel_seal(n, t, type, ctr, slot, len) != 0) {
		w->st.tx_dropped++;
		return;
	}
	if (t->relayed && to == &t->remote)
		relay_send_tunnel(w, t, slot, HEADER_LEN + len + 16);
	else
		worker_commit(w, to, HEADER_LEN + len + 16);
	if (!t->out)
		connmgr_sent(n, t);
	if (++t->tx_packets % 1000 != 0)
		return;
	if (t->relayed || n->cfg->npreferred > 0)
		tunnel_probe_preferred(n, t);
	/* wire.md 8.3: every 5000th packet, ask where the peer is now */
	if (t->tx_packets % 5000 == 0)
		lhclient_query(n, t->vpn_ip);
}

int
tunnel_send_to(struct node *n, struct tunnel *t, const struct udp_addr *to,
    uint8_t type, uint8_t subtype, const uint8_t *body, size_t len)
{
	uint8_t *slot;

	if (len > TUNNEL_MAX_BODY) {
		n->wk->st.tx_dropped++;
		return VPN_ERR_RANGE;
	}
	slot = worker_slot(n->wk);
	if (len > 0)
		memcpy(slot + HEADER_LEN, body, len);
	tunnel_seal_slot_to(n->wk, t, to, slot, type, subtype, len);
	return 0;
}

int
tunnel_send(struct node *n, struct tunnel *t, uint8_t type, uint8_t subtype,
    const uint8_t *body, size_t len)
{
	return tunnel_send_to(n, t, &t->remote, type, subtype, body, len);
}

void
node_send(struct node *n, uint32_t vpn_ip, uint8_t type, uint8_t subtype,
    const uint8_t *body, size_t len)
{
	struct tunnel *t = hostmap_by_ip(n->hm, vpn_ip);

	if (t != NULL)
		tunnel_send(n, t, type, subtype, body, len);
	else
		hs_start(n, vpn_ip, type, subtype, body, len);
}

/* wire.md 8.6: every 1000 packets to a peer that is not at a preferred
 * address, probe its preferred addresses; its reply roams us there.  A
 * relayed peer: every address known (Nebula's TryPromoteBest), or the
 * lighthouses asked again when none is. */
void
tunnel_probe_preferred(struct node *n, struct tunnel *t)
{
	struct udp_addr a[REMOTES_MAX];
	size_t na, i;

	if (!t->relayed && (n->cfg->npreferred == 0 ||
	                       node_cfg_preferred(n->cfg, &t->remote)))
		return;
	na = remotes_addrs(
	    n->rem, n->cfg, t->vpn_ip, a, sizeof(a) / sizeof(a[0]));
	if (na == 0 && t->relayed)
		lhclient_query(n, t->vpn_ip);
	for (i = 0; i < na && (t->relayed || node_cfg_preferred(n->cfg, &a[i]));
	     i++)
		tunnel_send_to(
		    n, t, &a[i], HDR_TEST, HDR_SUB_TEST_REQUEST, NULL, 0);
}

void
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

void
tunnel_roam(struct node *n, struct tunnel *t, const struct udp_addr *from)
{
	struct log_ev ev;
	int64_t now;

	if (!t->relayed && udp_addr_eq(&t->remote, from))
		return;
	if (!allowlist_remote_allow(n->cfg->remote_allow, n->cfg->remote_ranges,
	        t->vpn_ip, from->ip))
		return; /* keep the old address */
	now = node_mono_ns();
	if (udp_addr_eq(&t->roamed_from, from) &&
	    now - t->roamed_at < 2000000000LL)
		return; /* anti-flapping */
	if (log_ev_begin(
	        &ev, LOG_LVL_INFO, "Host roamed to new udp ip/port.")) {
		nodelog_tunnel(&ev, t);
		nodelog_where(&ev, t);
		nodelog_udp(&ev, "newAddr", from);
		log_ev_end(&ev);
	}
	t->roamed_from = t->remote;
	t->roamed_at = now;
	t->remote = *from;
	t->relayed = false; /* direct from now on; its relays stay known */
	if (n->lhs != NULL) /* a lighthouse learns the new address */
		lhserver_learned(n->lhs, t);
}

void
tunnel_set_remote(struct node *n, struct tunnel *t, const struct udp_addr *to)
{
	t->roamed_from = t->remote;
	t->roamed_at = node_mono_ns();
	t->remote = *to;
	t->relayed = false;
	if (n->lhs != NULL)
		lhserver_learned(n->lhs, t);
}

/* Does t's peer certificate still verify?  0, or why not (said). */
static int
peer_check(struct node *n, struct tunnel *t, bool say)
{
	int64_t now = node_real_ns() / 1000000000;
	char detail[128], fp[CERT_FP_HEXLEN], why[256];
	struct log_ev ev;
	int r;

	/* Verified against this pool and blocklist already: only time can
	 * have changed that, and a certificate expires no later than its
	 * CA.  The signature is not checked again at every liveness
	 * check of a busy tunnel. */
	if (t->pki_gen == n->pki_gen && t->peer->not_after >= now)
		return 0;
	r = ca_pool_verify(n->cfg->ca, t->peer, now, detail, sizeof(detail));
	if (r == 0)
		t->pki_gen = n->pki_gen;
	/* A blocklisted peer goes whatever pki.disconnect_invalid says
	 * (as Nebula >= 1.7). */
	if (r == 0 || (!n->cfg->disconnect_invalid && r != VPN_ERR_CERT_BLOCKED))
		return 0;
	if (!say)
		return r;
	if (log_ev_begin(&ev, LOG_LVL_INFO,
	        "Remote certificate is no longer valid, tearing down the "
	        "tunnel")) {
		log_ev_ip4(&ev, "vpnIp", t->vpn_ip);
		/* the detail may quote the certificate (a group's name) */
		snprintf(why, sizeof(why), "%s%s%s", vpn_strerror(r),
		    *detail != '\0' ? ": " : "", detail);
		log_ev_peer(&ev, "error", why, strlen(why));
		log_ev_str(&ev, "certName", t->name);
		if (cert_fingerprint_hex(t->peer, fp) == 0)
			log_ev_str(&ev, "fingerprint", fp);
		log_ev_end(&ev);
	}
	return r;
}

bool
tunnel_peer_valid(struct node *n, struct tunnel *t)
{
	return peer_check(n, t, true) == 0;
}

void
tunnels_refresh_fw(struct node *n)
{
	struct tunnel *t;
	size_t it = 0;

	while (hostmap_next(n->hm, &it, &t)) {
		fw_peer_clear(&t->fwp);
		if (fw_peer_init(&t->fwp, n->cfg->fw, t->peer, n->cfg->ca) != 0)
			memset(&t->fwp, 0, sizeof(t->fwp)); /* drops all */
	}
}

/* Every tunnel, collected (deleting while iterating is not allowed);
 * NULL when out of memory.  *cnt: how many. */
static struct tunnel **
collect(struct node *n, size_t *cnt)
{
	struct tunnel **all, *t;
	size_t it = 0;

	*cnt = 0;
	all = malloc((hostmap_tunnels(n->hm) + 1) * sizeof(*all));
	while (all != NULL && hostmap_next(n->hm, &it, &t))
		all[(*cnt)++] = t;
	return all;
}

bool
tunnel_revalidate(struct node *n, struct tunnel *t)
{
	int r = peer_check(n, t, false);
	struct log_ev ev;

	if (r == 0)
		return true;
	if (r != VPN_ERR_CERT_BLOCKED) {
		/* The peer may hold a newer certificate (in a CA rotation,
		 * its re-issued one): a new handshake learns it and
		 * replaces the tunnel; if none does within a second, the
		 * tunnel is closed then. */
		if (log_ev_begin(&ev, LOG_LVL_INFO,
		        "Peer certificate no longer verifies, handshaking "
		        "again for a newer one")) {
			nodelog_tunnel(&ev, t);
			log_ev_err(&ev, vpn_strerror(r));
			log_ev_end(&ev);
		}
		hs_start(n, t->vpn_ip, 0, 0, NULL, 0);
		connmgr_recheck(n, t);
		return true;
	}
	peer_check(n, t, true); /* says why: Nebula's teardown line */
	tunnel_close(n, t, NULL);
	return false;
}

void
tunnels_recheck(struct node *n)
{
	struct tunnel **all;
	size_t cnt, i;

	if ((all = collect(n, &cnt)) == NULL)
		return;
	for (i = 0; i < cnt; i++)
		tunnel_revalidate(n, all[i]);
	free(all);
}

void
tunnels_close_all(struct node *n)
{
	struct tunnel **all;
	struct log_ev ev;
	size_t cnt, i;

	if ((all = collect(n, &cnt)) == NULL)
		return;
	for (i = 0; i < cnt; i++) {
		tunnel_send(n, all[i], HDR_CLOSE_TUNNEL, HDR_SUB_NONE, NULL, 0);
		if (log_ev_begin(
		        &ev, LOG_LVL_DEBUG, "Sending close tunnel message")) {
			log_ev_ip4(&ev, "vpnIp", all[i]->vpn_ip);
			nodelog_where(&ev, all[i]);
			log_ev_end(&ev);
		}
	}
	worker_flush(n->wk);
	for (i = 0; i < cnt; i++)
		tunnel_delete(n, all[i], NULL);
	free(all);
}
