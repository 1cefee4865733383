/*
 * node/datapath.c: the receive and send pipelines (datapath.h).  Packets
 * are decrypted and encrypted in place, in the worker's receive buffers
 * and send slots: nothing is allocated per packet.
 */
#include <stdlib.h>
#include <string.h>

#include "datapath.h"
#include "handshake.h"
#include "hostmap.h"
#include "ippkt.h"
#include "lhclient.h"
#include "lhmsg.h"
#include "lhserver.h"
#include "log.h"
#include "nodeint.h"
#include "nodelog.h"
#include "relay.h"
#include "routes.h"
#include "tunnel.h"
#include "wire.h"
#include "worker.h"

/* A refused flow, at debug level and rate-limited (firewall.md). */
static void
refusal_log(struct worker *w, const struct tunnel *t, bool incoming,
    const struct fw_packet *fp, enum fw_why why)
{
	static const char *const reasons[] = {
	    [FW_WHY_CONNTRACK] = "conntrack",
	    [FW_WHY_RULE] = "rule",
	    [FW_WHY_REMOTE_IP] = ("remote IP is not in remote certificate "
	                          "subnets"),
	    [FW_WHY_LOCAL_IP] = "local IP is not in list of handled local IPs",
	    [FW_WHY_NO_RULE] = "no matching rule in firewall table",
	    [FW_WHY_CT_FULL] = "connection table is full",
	    [FW_WHY_PEER_FULL] = ("tunnel holds its share of the connection "
	                          "table (firewall.conntrack.max_per_tunnel)"),
	};
	struct log_ev ev;

	if (!log_enabled(LOG_LVL_DEBUG) ||
	    !log_limit_allow(&w->fw_limit, node_mono_ns() / 1000000000, 10, 50))
		return;
	/* Nebula's line, its fwPacket as firewall.Packet marshals it */
	if (!log_ev_begin(&ev, LOG_LVL_DEBUG, "dropping %s packet",
	        incoming ? "inbound" : "outbound"))
		return;
	nodelog_tunnel(&ev, t);
	log_ev_obj(&ev, "fwPacket");
	log_ev_ip4(&ev, "LocalIP", fp->local_ip);
	log_ev_ip4(&ev, "RemoteIP", fp->remote_ip);
	log_ev_u64(&ev, "LocalPort", fp->local_port);
	log_ev_u64(&ev, "RemotePort", fp->remote_port);
	if (fp->proto == 6 || fp->proto == 17 || fp->proto == 1)
		log_ev_str(&ev, "Protocol",
		    fp->proto == 6    ? "tcp"
		    : fp->proto == 17 ? "udp"
		                      : "icmp");
	else
		log_ev_strf(&ev, "Protocol", "unknown %u", fp->proto);
	log_ev_bool(&ev, "Fragment", fp->fragment);
	log_ev_close(&ev);
	log_ev_str(&ev, "reason", reasons[why]);
	log_ev_str(
	    &ev, "rules", incoming ? "firewall.inbound" : "firewall.outbound");
	log_ev_end(&ev);
}

/*
 * The firewall's verdict on one packet in the given direction.  A reject
 * reply (TCP RST or ICMP unreachable, built from the packet) goes back to
 * its sender: into our TUN for an outbound packet, through the tunnel for
 * an inbound one.
 */
static bool
pass_firewall(struct worker *w, struct tunnel *t, bool incoming,
    const uint8_t *p, size_t len)
{
	struct node *n = w->n;
	struct fw_packet fp;
	uint8_t reply[IPPKT_REJECT_MAX];
	enum fw_verdict v;
	enum fw_why why;
	size_t rl;

	if (ippkt_parse(p, len, incoming, &fp) != 0) {
		w->st.fw_bad_packet++;
		return false;
	}
	v = fw_decide_why(n->cfg->fw, n->ct, incoming, &fp, &t->fwp, &t->ct_own,
	    node_mono_ns(), &why);
	if (v == FW_ACCEPT)
		return true;
	if (why == FW_WHY_PEER_FULL)
		w->st.fw_peer_full++;
	if (why == FW_WHY_REMOTE_IP && incoming)
		w->st.rx_spoofed++;
	if (why == FW_WHY_REMOTE_IP || why == FW_WHY_LOCAL_IP ||
	    why == FW_WHY_NO_RULE) /* Nebula's firewall.*.dropped.* */
		w->st.fw_drop[incoming][why == FW_WHY_REMOTE_IP  ? 0
		                        : why == FW_WHY_LOCAL_IP ? 1
		                                                 : 2]++;
	if (incoming)
		w->st.fw_in_drop++;
	else
		w->st.fw_out_drop++;
	refusal_log(w, t, incoming, &fp, why);
	/* No reject for a spoofed source: it would answer someone else. */
	if (v == FW_REJECT && why != FW_WHY_REMOTE_IP &&
	    (rl = ippkt_reject(p, len, reply, sizeof(reply))) > 0) {
		w->st.fw_rejects++;
		if (incoming)
			tunnel_send(
			    n, t, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE, reply, rl);
		else if (w->tun != NULL && io_tun_write(w->tun, reply, rl) < 0)
			w->st.tun_write_err++;
	}
	return false;
}

enum dp_verdict
dp_send_data(struct worker *w, struct tunnel *t, uint8_t *slot, size_t len)
{
	if (!pass_firewall(w, t, false, slot + HEADER_LEN, len))
		return DP_DROP;
	tunnel_seal_slot(w, t, slot, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE, len);
	return DP_DONE;
}

/* A minimal IPv4 check: version, header length, total length. */
static bool
ipv4_ok(const uint8_t *p, size_t len)
{
	size_t ihl, tot;

	if (len < 20 || (p[0] >> 4) != 4)
		return false;
	ihl = (size_t)(p[0] & 15) * 4;
	tot = (size_t)p[2] << 8 | p[3];
	return ihl >= 20 && tot >= ihl && tot <= len;
}

/*
 * tun.disabled: with no device, answer ICMP echo requests addressed to us
 * (so a lighthouse can be pinged) and drop everything else.  The reply
 * is the request with addresses swapped and type 0; the IPv4 checksum is
 * unchanged by the swap and the ICMP one is adjusted for the type.
 */
static enum dp_verdict
echo_reply(struct node *n, struct tunnel *t, uint8_t *p, size_t len)
{
	size_t ihl = (size_t)(p[0] & 15) * 4;
	uint8_t tmp[4];
	uint32_t sum;

	if (len < ihl + 8 || p[9] != 1 || p[ihl] != 8 ||
	    be32_get(p + 16) != n->cfg->vpn_ip || (p[6] & 0x3f) || p[7])
		return DP_DROP;
	memcpy(tmp, p + 12, 4);
	memcpy(p + 12, p + 16, 4);
	memcpy(p + 16, tmp, 4);
	p[ihl] = 0;
	sum = (uint32_t)((p[ihl + 2] << 8) | p[ihl + 3]) + 0x0800;
	sum = (sum & 0xffff) + (sum >> 16);
	p[ihl + 2] = (uint8_t)(sum >> 8);
	p[ihl + 3] = (uint8_t)sum;
	tunnel_send(n, t, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE, p, len);
	return DP_DONE;
}

static void
send_recv_error(struct worker *w, const struct udp_addr *to, uint32_t index)
{
	enum send_recv_error sre = w->n->cfg->send_recv_error;
	uint8_t *slot;
	uint32_t a;

	if (sre == SRE_NEVER)
		return;
	if (sre == SRE_PRIVATE) {
		if (!udp_addr_is_v4(to))
			return;
		a = udp_addr_v4(to);
		if (!((a >> 24) == 10 || (a >> 20) == 0xac1 ||
		        (a >> 16) == 0xc0a8))
			return;
	}
	slot = worker_slot(w);
	header_encode(slot, HDR_RECV_ERROR, 0, index, 0);
	worker_commit(w, to, HEADER_LEN);
	w->st.msg_tx[MSGK_RECV_ERROR]++;
}

#define RECV_ERROR_QUIET_NS 1000000000LL

static void
recv_error(
    struct worker *w, const struct udp_addr *from, const struct header *h)
{
	struct node *n = w->n;
	/* Unauthenticated: one lookup, never a walk over the tunnels. */
	struct tunnel *t = hostmap_by_remote(n->hm, h->remote_index);

	/* Nor from a peer that sent an authenticated packet within the
	 * last second: a restarted peer sends none, and a burst with its
	 * address forged cannot cut a tunnel that carries traffic. */
	if (t == NULL || t->remote_index != h->remote_index ||
	    !udp_addr_eq(&t->remote, from) ||
	    w->now - t->last_rx < RECV_ERROR_QUIET_NS) {
		w->st.rx_recv_error_ignored++;
		return;
	}
	if (++t->recv_errors >= 4)
		tunnel_delete(n, t, "peer lost the tunnel (recvError)");
}

/* A packet for t that did not open: said now and then, as Nebula says
 * each ("Failed to decrypt packet"...). */
static void
open_failed(struct worker *w, const struct tunnel *t, uint8_t type,
    const struct udp_addr *from)
{
	const char *what;
	struct log_ev ev;

	switch (type) {
	case HDR_MESSAGE:
		what = "packet";
		break;
	case HDR_LIGHTHOUSE:
		what = "lighthouse packet";
		break;
	case HDR_TEST:
		what = "test packet";
		break;
	case HDR_CONTROL:
		what = "Control packet";
		break;
	default: /* closeTunnel: Nebula does not open it */
		return;
	}
	if (!log_enabled(LOG_LVL_ERROR) ||
	    !log_limit_allow(&w->rx_limit, node_mono_ns() / 1000000000, 1, 10))
		return;
	if (!log_ev_begin(&ev, LOG_LVL_ERROR, "Failed to decrypt %s", what))
		return;
	nodelog_tunnel(&ev, t);
	if (type != HDR_MESSAGE && from != NULL)
		nodelog_udp(&ev, "udpAddr", from);
	/* the Go ciphers' words */
	log_ev_err(
	    &ev, w->n->cfg->cipher == CRYPTO_AES256GCM
	             ? "cipher: message authentication failed"
	             : "chacha20poly1305: message authentication failed");
	log_ev_end(&ev);
}

/* A lighthouse message, to the role it is for. */
static void
lighthouse_recv(
    struct worker *w, struct tunnel *t, const uint8_t *p, size_t len)
{
	struct node *n = w->n;
	struct lhmsg *m = w->lh_in;

	if (lhmsg_decode(m, p, len) != 0 || !m->has_details) {
		w->st.lh_bad++;
		return;
	}
	worker_count_lh(w->st.lh_rx, (unsigned)m->type, 1);
	switch (m->type) {
	case LHMSG_HOST_QUERY:
	case LHMSG_HOST_UPDATE_NOTIFICATION:
		if (n->lhs != NULL)
			lhserver_recv(n, t, m);
		break;
	case LHMSG_HOST_QUERY_REPLY:
	case LHMSG_HOST_PUNCH_NOTIFICATION:
		if (n->lhc != NULL)
			lhclient_recv(n, t, m);
		break;
	default: /* moved notifications and the rest: nothing in 1.6.1 */
		break;
	}
}

static void
close_received(const struct tunnel *t, const struct udp_addr *from)
{
	struct log_ev ev;

	if (!log_ev_begin(
	        &ev, LOG_LVL_INFO, "Close tunnel received, tearing down."))
		return;
	nodelog_tunnel(&ev, t);
	if (from != NULL)
		nodelog_udp(&ev, "udpAddr", from);
	else
		nodelog_where(&ev, t);
	log_ev_end(&ev);
}

/*
 * One message, its header parsed: from the underlay (from), or the inner
 * packet of a relay packet through relay via (from NULL: no address to
 * roam to or answer, replies go back through the relay).
 */
static enum dp_verdict
rx_message(struct worker *w, const struct udp_addr *from, uint32_t via,
    const struct header *h, uint8_t *pkt, size_t len, uint8_t **out,
    size_t *outlen)
{
	struct node *n = w->n;
	struct tunnel *t;
	size_t clen, plen;
	uint8_t *pt;
	int k;

	if (h->type != HDR_MESSAGE && /* data is not counted */
	    (k = worker_msg_kind(h->type, h->subtype, false)) >= 0)
		w->st.msg_rx[k]++;
	switch (h->type) {
	case HDR_HANDSHAKE:
		hs_recv(n, from, via, h, pkt, len);
		return DP_DONE;
	case HDR_RECV_ERROR:
		if (from != NULL)
			recv_error(w, from, h);
		else /* through a relay: not sent that way (wire.md 7.4) */
			w->st.rx_recv_error_ignored++;
		return DP_DONE;
	case HDR_MESSAGE:
	case HDR_LIGHTHOUSE:
	case HDR_TEST:
	case HDR_CLOSE_TUNNEL:
	case HDR_CONTROL:
		break;
	default:
		w->st.rx_unknown_type++;
		return DP_DROP;
	}
	if (h->type == HDR_MESSAGE && h->subtype != HDR_SUB_MESSAGE_NONE) {
		w->st.rx_unknown_type++; /* a relay packet inside one */
		return DP_DROP;
	}
	t = hostmap_by_index(n->hm, h->remote_index);
	if (t == NULL) {
		w->st.rx_unknown_index++;
		if (from != NULL)
			send_recv_error(w, from, h->remote_index);
		return DP_DROP;
	}
	/* Not answered, as in Nebula after 1.6.1: a copy made by the
	 * network would cost the peer its tunnel after four (recv_error),
	 * when nothing comes back from us in between. */
	if (!replay_check(&t->win, h->counter)) {
		w->st.rx_replay++;
		t->rx_dropped++;
		return DP_DROP;
	}
	clen = len - HEADER_LEN;
	pt = pkt + HEADER_LEN;
	if (clen < 16 || tunnel_open(n, t, h->type, h->counter, pkt, clen) != 0) {
		w->st.rx_auth++;
		t->rx_dropped++;
		open_failed(w, t, h->type, from);
		return DP_DROP;
	}
	plen = clen - 16;
	if (!replay_update(&t->win, h->counter)) {
		w->st.rx_replay++;
		t->rx_dropped++;
		return DP_DROP;
	}
	tunnel_heard(n, t, from);
	t->rx_bytes += plen;
	switch (h->type) {
	case HDR_MESSAGE:
		if (!ipv4_ok(pt, plen)) {
			w->st.rx_bad_inner++;
			return DP_DROP;
		}
		if (!pass_firewall(w, t, true, pt, plen))
			return DP_DROP;
		if (w->tun == NULL)
			return echo_reply(n, t, pt, plen);
		*out = pt;
		*outlen = plen;
		return DP_TO_TUN;
	case HDR_TEST:
		if (h->subtype == HDR_SUB_TEST_REQUEST)
			tunnel_send(
			    n, t, HDR_TEST, HDR_SUB_TEST_REPLY, pt, plen);
		return DP_DONE;
	case HDR_CLOSE_TUNNEL:
		close_received(t, from);
		tunnel_delete(n, t, NULL);
		return DP_DONE;
	case HDR_LIGHTHOUSE:
		lighthouse_recv(w, t, pt, plen);
		return DP_DONE;
	default: /* HDR_CONTROL */
		relay_control(n, t, pt, plen);
		return DP_DONE;
	}
}

enum dp_verdict
dp_rx(struct worker *w, const struct udp_addr *from, uint8_t *pkt, size_t len,
    uint8_t **out, size_t *outlen)
{
	struct node *n = w->n;
	struct header h;
	uint8_t *inner;
	size_t ilen;
	uint32_t via;

	if (len < HEADER_LEN) {
		w->st.rx_short++; /* a hole punch, or junk */
		return DP_DROP;
	}
	if (udp_addr_is_v4(from) && (udp_addr_v4(from) & n->cfg->vpn_mask) ==
	                                (n->cfg->vpn_ip & n->cfg->vpn_mask)) {
		w->st.rx_own_network++;
		return DP_DROP;
	}
	header_parse(&h, pkt, len);
	if (h.type != HDR_MESSAGE || h.subtype != HDR_SUB_MESSAGE_RELAY)
		return rx_message(w, from, 0, &h, pkt, len, out, outlen);
	switch (relay_rx(w, from, &h, pkt, len, &via, &inner, &ilen)) {
	case RELAY_RX_DROP:
		return DP_DROP;
	case RELAY_RX_DONE:
		return DP_DONE;
	case RELAY_RX_INNER:
		break;
	}
	header_parse(&h, inner, ilen); /* relay_rx checked ilen >= 16 */
	return rx_message(w, NULL, via, &h, inner, ilen, out, outlen);
}

/*
 * The peer a packet for dst goes to: dst itself inside the overlay
 * network (not us, not refused multicast or broadcast), the `via` of the
 * longest unsafe route that holds dst outside it; 0: nowhere (counted).
 */
static uint32_t
next_hop(struct worker *w, uint32_t dst)
{
	const struct node_cfg *c = w->n->cfg;
	uint32_t via;

	if ((dst & c->vpn_mask) != (c->vpn_ip & c->vpn_mask)) {
		if (c->drop_multicast && (dst >> 28) == 0xe) {
			w->st.tx_dropped++;
			return 0;
		}
		if ((via = routes_via(w->n->rt, dst)) == 0)
			w->st.tx_no_route++;
		return via;
	}
	if (dst == c->vpn_ip || (c->drop_multicast && (dst >> 28) == 0xe) ||
	    (c->drop_local_broadcast && dst == (c->vpn_ip | ~c->vpn_mask))) {
		w->st.tx_dropped++;
		return 0;
	}
	return dst;
}

enum dp_verdict
dp_tx(struct worker *w, uint8_t *slot, size_t len)
{
	struct node *n = w->n;
	uint8_t *p = slot + HEADER_LEN;
	struct tunnel *t;
	uint32_t dst;

	if (!ipv4_ok(p, len)) {
		w->st.tx_dropped++;
		return DP_DROP;
	}
	if ((dst = next_hop(w, be32_get(p + 16))) == 0)
		return DP_DROP;
	/* No tunnel, or a relayed one whose relays are gone (it closes at
	 * the next tick): the packet waits for a new handshake. */
	t = hostmap_by_ip(n->hm, dst);
	if (t == NULL || (t->relayed && !relay_usable(n, t))) {
		w->st.tx_no_tunnel++;
		hs_start(n, dst, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE, p, len);
		return DP_DONE;
	}
	return dp_send_data(w, t, slot, len);
}

enum dp_verdict
dp_tx_super(
    struct worker *w, const struct vnet_hdr *h, const uint8_t *p, size_t len)
{
	struct node *n = w->n;
	struct tunnel *t;
	struct tso s;
	uint8_t *slot;
	uint32_t dst;
	size_t sl;

	w->st.tun_super++;
	if (tso_start(&s, p, len, h) != 0 || s.hl + s.mss > TUNNEL_MAX_BODY) {
		w->st.tx_dropped++;
		return DP_DROP;
	}
	if ((dst = next_hop(w, be32_get(p + 16))) == 0)
		return DP_DROP;
	t = hostmap_by_ip(n->hm, dst);
	if (t != NULL && t->relayed && !relay_usable(n, t))
		t = NULL; /* as in dp_tx */
	if (t != NULL && !pass_firewall(w, t, false, p, len))
		return DP_DROP;
	/* Without a tunnel yet, its segments queue one by one behind the
	 * handshake. */
	for (;;) {
		slot = worker_slot(w);
		if ((sl = tso_next(&s, slot + HEADER_LEN)) == 0)
			break;
		if (t == NULL)
			dp_tx(w, slot, sl);
		else
			tunnel_seal_slot(
			    w, t, slot, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE, sl);
	}
	return DP_DONE;
}
