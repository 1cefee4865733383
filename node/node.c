/*
 * node/node.c: the event loop and the data plane.  One libevent base;
 * the UDP socket is read a recvmmsg batch at a time, the TUN device up
 * to NODE_BATCH packets per wakeup, and what they produce is sent with
 * one sendmmsg per batch.  Packets are read into, decrypted and
 * encrypted in place in preallocated buffers: nothing is allocated per
 * packet.
 *
 * With offload (lib/offload.h) a TUN read may be a TCP super-segment:
 * the firewall judges it once, then it is cut into wire-sized packets
 * straight into the send slots, and equal-sized runs of those leave in
 * one UDP_SEGMENT message.  Inbound, consecutive segments of one TCP
 * flow within a receive batch go to the TUN in one write.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"
#include "err.h"
#include "ippkt.h"
#include "log.h"
#include "nodeint.h"
#include "reload.h"
#include "sbuf.h"

int64_t
node_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t
node_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A refused flow, at debug level and rate-limited (firewall.md). */
static void
refusal_log(struct node *n, const struct tunnel *t, bool incoming,
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
	char l[IP4_STRLEN], r[IP4_STRLEN];

	if (!log_enabled(LOG_LVL_DEBUG) ||
	    !log_limit_allow(&n->fw_limit, node_mono_ns() / 1000000000, 10,
	        50))
		return;
	ip4_format(fp->local_ip, l);
	ip4_format(fp->remote_ip, r);
	log_debug("refusing %s packet: peer=%s rules=firewall.%s reason=%s "
	          "proto=%u local=%s:%u remote=%s:%u fragment=%s",
	    incoming ? "inbound" : "outbound", t->name,
	    incoming ? "inbound" : "outbound", reasons[why], fp->proto, l,
	    fp->local_port, r, fp->remote_port,
	    fp->fragment ? "true" : "false");
}

/*
 * The firewall's verdict on one packet in the given direction.  A reject
 * reply (TCP RST or ICMP unreachable, built from the packet) goes back to
 * its sender: into our TUN for an outbound packet, through the tunnel for
 * an inbound one.
 */
static bool
firewall_pass(struct node *n, struct tunnel *t, bool incoming, const uint8_t *p,
    size_t len)
{
	struct fw_packet fp;
	uint8_t reply[IPPKT_REJECT_MAX];
	enum fw_verdict v;
	enum fw_why why;
	size_t rl;

	if (ippkt_parse(p, len, incoming, &fp) != 0) {
		n->st.fw_bad_packet++;
		return false;
	}
	v = fw_decide_why(n->cfg->fw, n->ct, incoming, &fp, &t->fwp,
	    &t->ct_own, node_mono_ns(), &why);
	if (v == FW_ACCEPT)
		return true;
	if (why == FW_WHY_PEER_FULL)
		n->st.fw_peer_full++;
	if (incoming)
		n->st.fw_in_drop++;
	else
		n->st.fw_out_drop++;
	refusal_log(n, t, incoming, &fp, why);
	/* No reject for a spoofed source: it would answer someone else. */
	if (v == FW_REJECT && why != FW_WHY_REMOTE_IP &&
	    (rl = ippkt_reject(p, len, reply, sizeof(reply))) > 0) {
		n->st.fw_rejects++;
		if (incoming)
			tunnel_send(n, t, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE,
			    reply, rl);
		else if (n->tun != NULL && tun_write(n->tun, reply, rl) < 0)
			n->st.tun_write_err++;
	}
	return false;
}

void
node_send_data(struct node *n, struct tunnel *t, uint8_t *slot, size_t len)
{
	if (firewall_pass(n, t, false, slot + HEADER_LEN, len))
		node_seal_slot(n, t, slot, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE,
		    len);
}

void
node_seal_slot(struct node *n, struct tunnel *t, uint8_t *slot, uint8_t type,
    uint8_t subtype, size_t len)
{
	node_seal_slot_to(n, t, &t->remote, slot, type, subtype, len);
}

void
node_seal_slot_to(struct node *n, struct tunnel *t, const struct udp_addr *to,
    uint8_t *slot, uint8_t type, uint8_t subtype, size_t len)
{
	uint64_t ctr;

	if (len > TUNNEL_MAX_BODY) { /* the tag would not fit the slot */
		n->st.tx_dropped++;
		return;
	}
	ctr = ++t->tx_counter;
	header_encode(slot, type, subtype, t->remote_index, ctr);
	if (tunnel_seal(n, t, type, ctr, slot, len) != 0) {
		n->st.tx_dropped++;
		return;
	}
	udp_tx_commit(n->udp, to, HEADER_LEN + len + 16);
	if (!t->out) {
		t->out = true;
		cm_arm(n, t);
	}
	if (++t->tx_packets % 1000 == 0 && n->cfg->npreferred > 0)
		tunnel_probe_preferred(n, t);
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
static void
echo_reply(struct node *n, struct tunnel *t, uint8_t *p, size_t len)
{
	size_t ihl = (size_t)(p[0] & 15) * 4;
	uint8_t tmp[4];
	uint32_t sum;

	if (len < ihl + 8 || p[9] != 1 || p[ihl] != 8 ||
	    be32_get(p + 16) != n->cfg->vpn_ip || (p[6] & 0x3f) || p[7])
		return;
	memcpy(tmp, p + 12, 4);
	memcpy(p + 12, p + 16, 4);
	memcpy(p + 16, tmp, 4);
	p[ihl] = 0;
	sum = (uint32_t)((p[ihl + 2] << 8) | p[ihl + 3]) + 0x0800;
	sum = (sum & 0xffff) + (sum >> 16);
	p[ihl + 2] = (uint8_t)(sum >> 8);
	p[ihl + 3] = (uint8_t)sum;
	tunnel_send(n, t, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE, p, len);
}

static void
send_recv_error(struct node *n, const struct udp_addr *to, uint32_t index)
{
	uint8_t *slot;
	uint32_t a;

	if (n->cfg->send_recv_error == SRE_NEVER)
		return;
	if (n->cfg->send_recv_error == SRE_PRIVATE) {
		if (!udp_addr_is_v4(to))
			return;
		a = udp_addr_v4(to);
		if (!((a >> 24) == 10 || (a >> 20) == 0xac1 ||
		        (a >> 16) == 0xc0a8))
			return;
	}
	slot = udp_tx_slot(n->udp);
	header_encode(slot, HDR_RECV_ERROR, 0, index, 0);
	udp_tx_commit(n->udp, to, HEADER_LEN);
}

static void
recv_error(struct node *n, const struct udp_addr *from,
    const struct header *h)
{
	/* Unauthenticated: one lookup, never a walk over the tunnels. */
	struct tunnel *t = u32map_get(&n->tun_by_remote, h->remote_index);

	if (t == NULL || t->remote_index != h->remote_index ||
	    !udp_addr_eq(&t->remote, from))
		return;
	if (++t->recv_errors >= 4)
		tunnel_delete(n, t, "peer lost the tunnel (recvError)");
}

/* What the coalescer hands over: one write to the TUN. */
static void
tun_deliver(void *arg, struct iovec *iov, int iovcnt)
{
	struct node *n = arg;

	if (tun_writev(n->tun, iov, iovcnt) < 0)
		n->st.tun_write_err++;
}

/* One datagram from the underlay. */
static void
on_udp_packet(void *arg, const struct udp_addr *from, uint8_t *pkt,
    size_t len)
{
	struct node *n = arg;
	struct header h;
	struct tunnel *t;
	size_t clen, plen;
	uint8_t *pt;

	if (len < HEADER_LEN) {
		n->st.rx_short++; /* a hole punch, or junk */
		return;
	}
	if (udp_addr_is_v4(from) &&
	    (udp_addr_v4(from) & n->cfg->vpn_mask) ==
	        (n->cfg->vpn_ip & n->cfg->vpn_mask)) {
		n->st.rx_own_network++;
		return;
	}
	header_parse(&h, pkt, len);
	switch (h.type) {
	case HDR_HANDSHAKE:
		hs_recv(n, from, &h, pkt, len);
		return;
	case HDR_RECV_ERROR:
		recv_error(n, from, &h);
		return;
	case HDR_MESSAGE:
	case HDR_LIGHTHOUSE:
	case HDR_TEST:
	case HDR_CLOSE_TUNNEL:
	case HDR_CONTROL:
		break;
	default:
		n->st.rx_unknown_type++;
		return;
	}
	if (h.type == HDR_MESSAGE && h.subtype != HDR_SUB_MESSAGE_NONE) {
		n->st.rx_unknown_type++; /* relays are not supported */
		return;
	}
	t = u32map_get(&n->tun_by_index, h.remote_index);
	if (t == NULL || !replay_check(&t->win, h.counter)) {
		if (t == NULL)
			n->st.rx_unknown_index++;
		else
			n->st.rx_replay++;
		send_recv_error(n, from, h.remote_index);
		return;
	}
	clen = len - HEADER_LEN;
	pt = pkt + HEADER_LEN;
	if (clen < 16 || tunnel_open(n, t, h.type, h.counter, pkt, clen) != 0) {
		n->st.rx_auth++;
		return;
	}
	plen = clen - 16;
	if (!replay_update(&t->win, h.counter)) {
		n->st.rx_replay++;
		return;
	}
	t->in = true;
	t->rx_packets++;
	t->recv_errors = 0;
	if (t->msg1 != NULL) { /* the peer has its keys: no resends to come */
		free(t->msg1);
		free(t->msg2);
		t->msg1 = t->msg2 = NULL;
	}
	tunnel_roam(n, t, from);
	switch (h.type) {
	case HDR_MESSAGE:
		if (!ipv4_ok(pt, plen)) {
			n->st.rx_bad_inner++;
			return;
		}
		if (!firewall_pass(n, t, true, pt, plen))
			return;
		if (n->tun == NULL) {
			echo_reply(n, t, pt, plen);
			return;
		}
		if (tun_offload(n->tun)) {
			gro_add(&n->gro, pt, plen, tun_deliver, n);
			return;
		}
		if (tun_write(n->tun, pt, plen) < 0)
			n->st.tun_write_err++;
		return;
	case HDR_TEST:
		if (h.subtype == HDR_SUB_TEST_REQUEST)
			tunnel_send(n, t, HDR_TEST, HDR_SUB_TEST_REPLY, pt,
			    plen);
		return;
	case HDR_CLOSE_TUNNEL:
		tunnel_delete(n, t, "Close tunnel received");
		return;
	case HDR_LIGHTHOUSE:
		lh_recv(n, t, pt, plen);
		return;
	default:
		return; /* control (relays): not handled by this node */
	}
}

static void
on_udp(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	int i, r;

	(void)fd;
	(void)what;
	/* A few batches per wakeup, then let the TUN side run.  What the
	 * coalescer holds points into the batch's buffers: it goes out
	 * before the next batch is read. */
	for (i = 0; i < 4; i++) {
		r = udp_recv_batch(n->udp, on_udp_packet, n);
		gro_flush(&n->gro, tun_deliver, n);
		if (r < udp_rx_batch(n->udp))
			break;
	}
	udp_flush(n->udp);
}

/* Whether a packet for dst may go into the mesh (the overlay network,
 * not us, not refused multicast or broadcast). */
static bool
dst_ok(const struct node *n, uint32_t dst)
{
	const struct node_cfg *c = n->cfg;

	return dst != c->vpn_ip &&
	       (dst & c->vpn_mask) == (c->vpn_ip & c->vpn_mask) &&
	       !(c->drop_multicast && (dst >> 28) == 0xe) &&
	       !(c->drop_local_broadcast && dst == (c->vpn_ip | ~c->vpn_mask));
}

/* One packet read from the TUN device into slot + HEADER_LEN. */
static void
on_tun_packet(struct node *n, uint8_t *slot, size_t len)
{
	uint8_t *p = slot + HEADER_LEN;
	struct tunnel *t;
	uint32_t dst;

	if (!ipv4_ok(p, len) || !dst_ok(n, dst = be32_get(p + 16))) {
		n->st.tx_dropped++;
		return;
	}
	if ((t = u32map_get(&n->tun_by_ip, dst)) == NULL) {
		n->st.tx_no_tunnel++;
		hs_start(n, dst, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE, p, len);
		return;
	}
	node_send_data(n, t, slot, len);
}

/*
 * A TCP super-segment: judged by the firewall once (every segment has
 * its addresses, ports and protocol), then cut into the send slots and
 * sealed there.  Without a tunnel yet, its segments queue one by one
 * behind the handshake.
 */
static void
on_tun_super(struct node *n, const struct vnet_hdr *h, const uint8_t *p,
    size_t len)
{
	struct tunnel *t;
	struct tso s;
	uint8_t *slot;
	size_t sl;

	n->st.tun_super++;
	if (tso_start(&s, p, len, h) != 0 ||
	    s.hl + s.mss > UDP_MAX_PACKET - HEADER_LEN - 16 ||
	    !dst_ok(n, be32_get(p + 16))) {
		n->st.tx_dropped++;
		return;
	}
	t = u32map_get(&n->tun_by_ip, be32_get(p + 16));
	if (t != NULL && !firewall_pass(n, t, false, p, len))
		return;
	for (;;) {
		slot = udp_tx_slot(n->udp);
		if ((sl = tso_next(&s, slot + HEADER_LEN)) == 0)
			break;
		if (t == NULL)
			on_tun_packet(n, slot, sl);
		else
			node_seal_slot(n, t, slot, HDR_MESSAGE,
			    HDR_SUB_MESSAGE_NONE, sl);
	}
}

static void
on_tun(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	struct vnet_hdr h;
	uint8_t *slot;
	ssize_t r;
	size_t max = UDP_MAX_PACKET - HEADER_LEN - 16;
	int i;

	(void)fd;
	(void)what;
	for (i = 0; i < NODE_BATCH; i++) {
		if (!tun_offload(n->tun)) {
			slot = udp_tx_slot(n->udp);
			if ((r = tun_read(n->tun, slot + HEADER_LEN, max, &h)) <= 0)
				break;
			on_tun_packet(n, slot, (size_t)r);
			continue;
		}
		if ((r = tun_read(n->tun, n->tun_buf, OFFLOAD_MAX, &h)) <= 0)
			break;
		if (h.gso_type != VNET_GSO_NONE) {
			on_tun_super(n, &h, n->tun_buf, (size_t)r);
			continue;
		}
		if ((size_t)r > max ||
		    ((h.flags & VNET_F_NEEDS_CSUM) &&
		        offload_csum(n->tun_buf, (size_t)r, h.csum_start,
		            h.csum_offset) != 0)) {
			n->st.tx_dropped++;
			continue;
		}
		slot = udp_tx_slot(n->udp);
		memcpy(slot + HEADER_LEN, n->tun_buf, (size_t)r);
		on_tun_packet(n, slot, (size_t)r);
	}
	udp_flush(n->udp);
}

static void
on_hs_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	hs_tick(arg);
}

static void
on_cm_timer(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;

	(void)fd;
	(void)what;
	cm_tick(n);
	conntrack_expire(n->ct, node_mono_ns(), 4096);
}

static void
dump_stats(struct node *n)
{
	struct sbuf b;

	sbuf_init(&b);
	node_counters_format(n, &b);
	if (sbuf_ok(&b))
		log_info("stats: %.*s", (int)b.len, b.s);
	sbuf_free(&b);
}

/* SIGHUP: reload the PKI (CA pool, blocklist, own cert and key) and the
 * static host map; everything else needs a restart. */
static void
reload(struct node *n)
{
	struct node_cfg *c;
	char err[1024];
	size_t kept;

	/* A new firewall table is built beside the old one; only if the
	 * whole configuration is valid is it swapped in (with a higher
	 * version, so conntrack entries are re-checked on their next
	 * packet).  Tunnels stay up. */
	if (node_cfg_load_v(n->cfg_path, node_real_ns() / 1000000000,
	        fw_version(n->cfg->fw) + 1, n->cfg->am_lighthouse, &c, err,
	        sizeof(err)) != 0) {
		log_msg(LOG_LVL_ERROR,
		    "reload failed, keeping the running configuration: %s",
		    err);
		return;
	}
	if (c->vpn_ip != n->cfg->vpn_ip) {
		log_msg(LOG_LVL_ERROR, "reload refused: IP in new cert was "
		                       "different from old");
		node_cfg_free(c);
		return;
	}
	if (c->am_lighthouse != n->cfg->am_lighthouse) {
		log_msg(LOG_LVL_ERROR, "reload refused: "
		                       "lighthouse.am_lighthouse can only change "
		                       "with a restart");
		node_cfg_free(c);
		return;
	}
	/* Settings that only a restart changes keep their running value,
	 * each said by key. */
	kept = reload_keep_restart_only(n->cfg, c);
	node_cfg_free(n->cfg);
	n->cfg = c;
	log_setup(NULL, c->log_level, c->log_format);
	conntrack_set_owner_max(n->ct, (size_t)c->ct_max_per_tunnel);
	lh_reload(n);
	tunnels_refresh_fw(n);
	log_info("configuration reloaded: %s (firewall: %zu inbound, %zu "
	         "outbound rules; %zu changed setting%s kept until a restart)",
	    n->cfg_path, fw_nrules(c->fw, true), fw_nrules(c->fw, false), kept,
	    kept == 1 ? "" : "s");
	tunnels_recheck(n);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct node *n = arg;

	(void)what;
	switch (sig) {
	case SIGHUP:
		reload(n);
		break;
	case SIGUSR1:
		dump_stats(n);
		break;
	default:
		log_info("Caught signal %d, shutting down", (int)sig);
		node_close_all(n);
		dump_stats(n);
		event_base_loopexit(n->base, NULL);
	}
}

static struct event *
add_timer(struct node *n, int64_t ns, event_callback_fn fn)
{
	struct timeval tv = {(time_t)(ns / 1000000000),
	    (suseconds_t)(ns % 1000000000 / 1000)};
	struct event *ev = event_new(n->base, -1, EV_PERSIST, fn, n);

	if (ev != NULL)
		event_add(ev, &tv);
	return ev;
}

/* Data packets handled so far, either way. */
static uint64_t
node_work(const struct node *n)
{
	const struct udp_stats *u = udp_stats(n->udp);

	return u->rx_packets + u->tx_packets;
}

/*
 * The event loop.  With busy polling (cfg->busy_poll_ns > 0), after a
 * wakeup that moved packets the loop keeps looking for more, without
 * sleeping, for that long: the answer to what was just sent is often
 * back within it, and is then taken without the cost of a wakeup (tens
 * of microseconds on a virtual machine).  Between looks it yields the
 * CPU, so that under load it takes nothing from others.
 */
static void
node_loop(struct node *n)
{
	int64_t until;
	uint64_t w;

	while (!event_base_got_exit(n->base)) {
		w = node_work(n);
		if (event_base_loop(n->base, EVLOOP_ONCE) == -1)
			return;
		if (n->cfg->busy_poll_ns <= 0 || node_work(n) == w)
			continue;
		until = node_mono_ns() + n->cfg->busy_poll_ns;
		while (!event_base_got_exit(n->base) && node_mono_ns() < until) {
			w = node_work(n);
			if (event_base_loop(n->base, EVLOOP_NONBLOCK) == -1)
				return;
			if (node_work(n) != w)
				until = node_mono_ns() + n->cfg->busy_poll_ns;
			else
				sched_yield();
		}
	}
}

int
node_start(struct node *n, struct node_cfg *cfg, const char *config_path,
    struct event_base *base, struct tun *tun)
{
	char err[512], ip[IP4_STRLEN];
	size_t k;

	memset(n, 0, sizeof(*n));
	n->cfg = cfg;
	n->cfg_path = config_path;
	n->base = base;
	n->tun = tun;
	n->dns_fd = -1;
	u32map_init(&n->tun_by_index);
	u32map_init(&n->tun_by_remote);
	u32map_init(&n->tun_by_ip);
	u32map_init(&n->pend_by_index);
	u32map_init(&n->pend_by_ip);
	if (!cfg->tun_disabled && n->tun == NULL) {
		if (tun_open(cfg->tun_dev, cfg->tun_mtu, cfg->tx_queue,
		        cfg->vpn_ip, cfg->vpn_mask, cfg->tun_offload, &n->tun, err,
		        sizeof(err)) != 0) {
			log_msg(LOG_LVL_FATAL, "Failed to get a tun/tap device: %s",
			    err);
			return -1;
		}
		for (k = 0; k < cfg->nroutes; k++)
			if (tun_add_route(n->tun, cfg->routes[k].addr,
			        cfg->routes[k].mask, cfg->routes[k].mtu, 0, err,
			        sizeof(err)) != 0) {
				log_msg(LOG_LVL_FATAL, "tun.routes: %s", err);
				return -1;
			}
	}
	if (n->tun != NULL && tun_offload(n->tun) &&
	    (n->tun_buf = malloc(OFFLOAD_MAX)) == NULL)
		return -1;
	if (udp_open(cfg->listen_host, cfg->listen_port, cfg->read_buffer,
	        cfg->write_buffer, cfg->listen_offload, &n->udp, err,
	        sizeof(err)) != 0) {
		log_msg(LOG_LVL_FATAL, "Failed to open udp listener: %s", err);
		return -1;
	}
	if (conntrack_new(0, &n->ct) != 0)
		return -1;
	conntrack_set_owner_max(n->ct, (size_t)cfg->ct_max_per_tunnel);
	n->ev_udp = event_new(n->base, udp_fd(n->udp), EV_READ | EV_PERSIST,
	    on_udp, n);
	if (n->ev_udp == NULL || event_add(n->ev_udp, NULL) != 0)
		return -1;
	if (n->tun != NULL) {
		n->ev_tun = event_new(n->base, tun_fd(n->tun),
		    EV_READ | EV_PERSIST, on_tun, n);
		if (n->ev_tun == NULL || event_add(n->ev_tun, NULL) != 0)
			return -1;
	}
	n->ev_hs = add_timer(n, cfg->hs_try_interval, on_hs_timer);
	n->ev_cm = add_timer(n, 500000000LL, on_cm_timer);
	if (n->ev_hs == NULL || n->ev_cm == NULL || lh_init(n) != 0)
		return -1;
	ip4_format(cfg->vpn_ip, ip);
	log_info("Nebula interface is active: name=%s vpnIp=%s/%d dev=%s "
	         "udpPort=%u cipher=%s",
	    cfg->name, ip, ip4_mask_bits(cfg->vpn_mask),
	    n->tun != NULL ? tun_name(n->tun) : "(disabled)", udp_port(n->udp),
	    cfg->cipher == CRYPTO_AES256GCM ? "aes" : "chachapoly");
	log_info("Offload: tun=%s udp_gso=%s udp_gro=%s",
	    n->tun == NULL ? "disabled"
	                   : (tun_offload(n->tun) ? "tso4+csum" : "off"),
	    udp_gso(n->udp) ? "on" : "off", udp_gro(n->udp) ? "on" : "off");
	log_info("Firewall started: inbound rules=%zu outbound rules=%zu "
	         "inbound action=%s outbound action=%s",
	    fw_nrules(cfg->fw, true), fw_nrules(cfg->fw, false),
	    fw_action(cfg->fw, true) == FW_ACTION_REJECT ? "reject" : "drop",
	    fw_action(cfg->fw, false) == FW_ACTION_REJECT ? "reject" : "drop");
	return 0;
}

void
node_stop(struct node *n)
{
	int i;

	if (n->udp != NULL)
		node_close_all(n);
	lh_free(n);
	for (i = 0; i < 4; i++)
		if (n->ev_sig[i] != NULL)
			event_free(n->ev_sig[i]);
	if (n->ev_udp != NULL)
		event_free(n->ev_udp);
	if (n->ev_tun != NULL)
		event_free(n->ev_tun);
	if (n->ev_hs != NULL)
		event_free(n->ev_hs);
	if (n->ev_cm != NULL)
		event_free(n->ev_cm);
	u32map_free(&n->tun_by_index);
	u32map_free(&n->tun_by_remote);
	u32map_free(&n->tun_by_ip);
	u32map_free(&n->pend_by_index);
	u32map_free(&n->pend_by_ip);
	conntrack_free(n->ct);
	udp_close(n->udp);
	tun_close(n->tun);
	free(n->tun_buf);
	node_cfg_free(n->cfg);
	memset(n, 0, sizeof(*n));
}

uint16_t
node_port(const struct node *n)
{
	return udp_port(n->udp);
}

int
node_run(struct node_cfg *cfg, const char *config_path)
{
	static const int sigs[4] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	struct event_base *base;
	struct node n;
	int rc = 1, i;

	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL) {
		node_cfg_free(cfg);
		return 1;
	}
	if (node_start(&n, cfg, config_path, base, NULL) != 0)
		goto out;
	for (i = 0; i < 4; i++) {
		n.ev_sig[i] = evsignal_new(n.base, sigs[i], on_signal, &n);
		if (n.ev_sig[i] == NULL || event_add(n.ev_sig[i], NULL) != 0)
			goto out;
	}
	node_loop(&n);
	rc = 0;
out:
	node_stop(&n);
	event_base_free(base);
	return rc;
}
