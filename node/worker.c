/*
 * node/worker.c: the data-plane loop (worker.h).  The UDP socket is read
 * a recvmmsg batch at a time, the TUN device up to NODE_BATCH packets
 * per wakeup, and what they produce is sent with one sendmmsg per batch.
 *
 * With offload (lib/offload.h) a TUN read may be a TCP super-segment:
 * the firewall judges it once, then it is cut into wire-sized packets
 * straight into the send slots, and equal-sized runs of those leave in
 * one UDP_SEGMENT message.  Inbound, consecutive segments of one TCP
 * flow within a receive batch go to the TUN in one write.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath.h"
#include "err.h"
#include "lhmsg.h"
#include "nodeint.h"
#include "tunnel.h"
#include "worker.h"

/* What the coalescer hands over: one write to the TUN. */
static void
deliver_to_tun(void *arg, struct iovec *iov, int iovcnt)
{
	struct worker *w = arg;

	if (w->tun->ops->writev(w->tun, iov, iovcnt) < 0)
		w->st.tun_write_err++;
}

/* One datagram from the underlay. */
static void
on_udp_packet(void *arg, const struct udp_addr *from, uint8_t *pkt, size_t len)
{
	struct worker *w = arg;
	uint8_t *p;
	size_t l;

	if (dp_rx(w, from, pkt, len, &p, &l) != DP_TO_TUN)
		return;
	if (io_tun_offload(w->tun))
		gro_add(&w->gro, p, l, deliver_to_tun, w);
	else if (io_tun_write(w->tun, p, l) < 0)
		w->st.tun_write_err++;
}

static void
on_udp(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	int i, r;

	(void)fd;
	(void)what;
	w->now = node_mono_ns(); /* one clock read per wakeup */
	/* A few batches per wakeup, then let the TUN side run.  What the
	 * coalescer holds points into the batch's buffers: it goes out
	 * before the next batch is read. */
	for (i = 0; i < 4; i++) {
		r = w->udp->ops->recv_batch(w->udp, on_udp_packet, w);
		if (w->tun != NULL)
			gro_flush(&w->gro, deliver_to_tun, w);
		if (r < w->udp->ops->rx_batch(w->udp))
			break;
	}
	worker_flush(w);
}

/*
 * A TUN read failed other than for want of a packet (tun_read: 0): the
 * device was deleted under us (EBADFD) or broke, and the descriptor stays
 * readable, every read failing at once.  As Nebula: log it and exit 2
 * (cairn(8), EXIT STATUS), here through SIGTERM's shutdown, so that the
 * peers are told.  The event goes first, or the loop would spin on it
 * until the shutdown.
 */
static void
tun_failed(struct worker *w, int err)
{
	char e[160];
	struct log_ev ev;

	snprintf(e, sizeof(e), "read /dev/net/tun: %s", strerror(err));
	event_del(w->ev_tun);
	if (log_ev_begin(
	        &ev, LOG_LVL_ERROR, "Error while reading outbound packet")) {
		log_ev_err(&ev, e);
		log_ev_end(&ev);
	}
	node_fatal(w->n, 2);
}

static void
on_tun(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct io_tun *tun = w->tun;
	struct vnet_hdr h;
	uint8_t *slot;
	ssize_t r = 0;
	size_t max = TUNNEL_MAX_BODY;
	int i, err;

	(void)fd;
	(void)what;
	for (i = 0; i < NODE_BATCH; i++) {
		if (!io_tun_offload(tun)) {
			slot = worker_slot(w);
			if ((r = tun->ops->read(
			         tun, slot + HEADER_LEN, max, &h)) <= 0)
				break;
			dp_tx(w, slot, (size_t)r);
			continue;
		}
		if ((r = tun->ops->read(tun, w->tun_buf, OFFLOAD_MAX, &h)) <= 0)
			break;
		if (h.gso_type != VNET_GSO_NONE) {
			dp_tx_super(w, &h, w->tun_buf, (size_t)r);
			continue;
		}
		if ((size_t)r > max ||
		    ((h.flags & VNET_F_NEEDS_CSUM) &&
		        offload_csum(w->tun_buf, (size_t)r, h.csum_start,
		            h.csum_offset) != 0)) {
			w->st.tx_dropped++;
			continue;
		}
		slot = worker_slot(w);
		memcpy(slot + HEADER_LEN, w->tun_buf, (size_t)r);
		dp_tx(w, slot, (size_t)r);
	}
	err = errno; /* before the sends */
	worker_flush(w);
	if (r < 0)
		tun_failed(w, err);
}

void
worker_send_raw(
    struct worker *w, const struct udp_addr *to, const uint8_t *p, size_t len)
{
	uint8_t *slot;

	if (len > UDP_MAX_PACKET) {
		w->st.tx_dropped++;
		return;
	}
	slot = worker_slot(w);
	memcpy(slot, p, len);
	worker_commit(w, to, len);
}

/* The slot being committed is the one tx_slot gives until then.  A
 * recvError is counted where it is made, with or without the option. */
void
worker_count_tx(struct worker *w, size_t len)
{
	const uint8_t *p = io_tx_slot(w->udp);
	int k;

	if (len < HEADER_LEN) /* a punch */
		return;
	k = worker_msg_kind(p[0] & 0x0f, p[1], true);
	if (k >= 0 && k != MSGK_RECV_ERROR)
		w->st.msg_tx[k]++;
}

int
worker_start(
    struct node *n, struct io_udp *udp, struct io_tun *tun, struct worker **out)
{
	struct worker *w = calloc(1, sizeof(*w));

	*out = w;
	if (w == NULL) {
		if (udp != NULL)
			udp->ops->close(udp);
		if (tun != NULL)
			tun->ops->close(tun);
		return VPN_ERR_NOMEM;
	}
	w->n = n;
	w->udp = udp;
	w->tun = tun;
	gro_init(&w->gro);
	if ((w->lh_in = malloc(sizeof(*w->lh_in))) == NULL)
		return VPN_ERR_NOMEM;
	if (tun != NULL && io_tun_offload(tun) &&
	    (w->tun_buf = malloc(OFFLOAD_MAX)) == NULL)
		return VPN_ERR_NOMEM;
	w->ev_udp = event_new(
	    n->base, udp->ops->fd(udp), EV_READ | EV_PERSIST, on_udp, w);
	if (w->ev_udp == NULL || event_add(w->ev_udp, NULL) != 0)
		return VPN_ERR_NOMEM;
	if (tun != NULL) {
		w->ev_tun = event_new(n->base, tun->ops->fd(tun),
		    EV_READ | EV_PERSIST, on_tun, w);
		if (w->ev_tun == NULL || event_add(w->ev_tun, NULL) != 0)
			return VPN_ERR_NOMEM;
	}
	return 0;
}

void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	if (w->ev_udp != NULL)
		event_free(w->ev_udp);
	if (w->ev_tun != NULL)
		event_free(w->ev_tun);
	if (w->udp != NULL)
		w->udp->ops->close(w->udp);
	if (w->tun != NULL)
		w->tun->ops->close(w->tun);
	free(w->tun_buf);
	free(w->lh_in);
	free(w);
}

/* Data packets handled so far, either way. */
static uint64_t
work_done(const struct worker *w)
{
	const struct udp_stats *u = io_udp_stats(w->udp);

	return u->rx_packets + u->tx_packets;
}

/*
 * With busy polling (busy_poll_ns > 0), after a wakeup that moved
 * packets the loop keeps looking for more, without sleeping, for that
 * long: the answer to what was just sent is often back within it, and is
 * then taken without the cost of a wakeup (tens of microseconds on a
 * virtual machine).  Between looks it yields the CPU, so that under load
 * it takes nothing from others.
 */
void
worker_loop(struct worker *w)
{
	struct event_base *base = w->n->base;
	int64_t until;
	uint64_t done;

	while (!event_base_got_exit(base)) {
		done = work_done(w);
		if (event_base_loop(base, EVLOOP_ONCE) == -1)
			return;
		/* read each time: a reload may change it */
		if (w->n->cfg->busy_poll_ns <= 0 || work_done(w) == done)
			continue;
		until = node_mono_ns() + w->n->cfg->busy_poll_ns;
		while (!event_base_got_exit(base) && node_mono_ns() < until) {
			done = work_done(w);
			if (event_base_loop(base, EVLOOP_NONBLOCK) == -1)
				return;
			if (work_done(w) != done)
				until =
				    node_mono_ns() + w->n->cfg->busy_poll_ns;
			else
				sched_yield();
		}
	}
}
