/*
 * node/worker.h: the data-plane loop: the event callbacks of the UDP
 * socket and the TUN device, batching (a recvmmsg batch, up to
 * NODE_BATCH TUN reads per wakeup, one sendmmsg per batch), busy
 * polling, and everything the per-packet path touches: the I/O handles,
 * the send slots (the UDP side's), the TUN read buffer for offload, the
 * inbound coalescer (GRO), the scratch for decoded lighthouse messages,
 * and its shard of the counters.
 *
 * One worker today; a second one (a loop per core) would be a second
 * struct worker with its own handles and counters, and nothing outside
 * this file and datapath.c (its pipelines, which read and write these
 * fields) would change.  Control code sends through the node's worker
 * (worker_slot, worker_commit, worker_flush).
 */
#ifndef NODE_WORKER_H
#define NODE_WORKER_H

#include <event2/event.h>

#include "header.h"
#include "io.h"
#include "log.h"

struct node;
struct lhmsg;

/*
 * Messages by type, as Nebula's MessageMetrics names them
 * (stats.message_metrics; stats.h): data packets and relayed ones are not
 * counted, nor relay control messages received; those sent, like
 * unknown types and subtypes, are "other".
 */
enum msg_kind {
	MSGK_HANDSHAKE, /* handshake_ixpsk0 */
	MSGK_RECV_ERROR,
	MSGK_LIGHTHOUSE,
	MSGK_TEST_REQUEST,
	MSGK_TEST_RESPONSE,
	MSGK_CLOSE_TUNNEL,
	MSGK_OTHER,
	MSGK_COUNT
};

#define LH_KINDS 10 /* lighthouse messages by NebulaMeta type; others at 0 */

/* The data path's counters (counters.c and stats.c name them). */
struct dp_stats {
	uint64_t rx_short, rx_own_network, rx_unknown_type;
	uint64_t rx_unknown_index, rx_replay, rx_auth, rx_bad_inner;
	uint64_t tx_no_tunnel, tx_dropped, tun_write_err;
	uint64_t fw_in_drop, fw_out_drop, fw_rejects, fw_bad_packet;
	uint64_t fw_peer_full; /* new flows over the tunnel's conntrack share */
	uint64_t tun_super;    /* TCP super-segments read from the TUN */
	uint64_t lh_bad;       /* lighthouse messages that did not decode */
	uint64_t tx_no_route;  /* outside the overlay, no unsafe route */
	uint64_t rx_spoofed;   /* source not the peer's IP nor its subnets */
	uint64_t rx_recv_error_ignored; /* no such tunnel, or not its peer */
	/* refused by the firewall: [incoming][remote IP, local IP, no rule] */
	uint64_t fw_drop[2][3];
	uint64_t msg_rx[MSGK_COUNT], msg_tx[MSGK_COUNT]; /* by msg_kind */
	uint64_t lh_rx[LH_KINDS], lh_tx[LH_KINDS]; /* by NebulaMeta type */
};

struct worker {
	struct node *n;
	struct io_udp *udp;
	struct io_tun *tun; /* NULL: tun.disabled */
	struct event *ev_udp, *ev_tun;
	uint8_t *tun_buf; /* offload: one super-segment read */
	struct gro gro;   /* inbound segments held until the batch ends */
	struct lhmsg *lh_in;
	struct dp_stats st;
	struct log_limit fw_limit; /* firewall refusals at debug level */
	struct log_limit rx_limit; /* packets that did not open: error */
	bool count_tx; /* stats.message_metrics: what is sent, by type */
	int64_t now;   /* node_mono_ns() at the UDP side's last wakeup */
};

/* A worker on n's base over udp and tun (tun may be NULL); it owns both
 * from the call on, also on failure. */
int worker_start(struct node *n, struct io_udp *udp, struct io_tun *tun,
    struct worker **out);
void worker_free(struct worker *w); /* NULL-safe; closes the handles */

/* The loop, until the base is told to exit: with listen.busy_poll, it
 * keeps looking for packets without sleeping for that long after a
 * wakeup that moved some. */
void worker_loop(struct worker *w);

static inline uint8_t *
worker_slot(struct worker *w)
{
	return io_tx_slot(w->udp);
}

/* A message's msg_kind, or -1: not counted. */
static inline int
worker_msg_kind(unsigned type, unsigned sub, bool tx)
{
	switch (type) {
	case HDR_HANDSHAKE:
		return sub == HDR_SUB_HANDSHAKE_IXPSK0 ? MSGK_HANDSHAKE
		                                       : MSGK_OTHER;
	case HDR_MESSAGE:
		return -1;
	case HDR_RECV_ERROR:
		return sub == HDR_SUB_NONE ? MSGK_RECV_ERROR : MSGK_OTHER;
	case HDR_LIGHTHOUSE:
		return sub == HDR_SUB_NONE ? MSGK_LIGHTHOUSE : MSGK_OTHER;
	case HDR_TEST:
		return sub == HDR_SUB_TEST_REQUEST ? MSGK_TEST_REQUEST
		       : sub == HDR_SUB_TEST_REPLY ? MSGK_TEST_RESPONSE
		                                   : MSGK_OTHER;
	case HDR_CLOSE_TUNNEL:
		return sub == HDR_SUB_NONE ? MSGK_CLOSE_TUNNEL : MSGK_OTHER;
	case HDR_CONTROL:
		return tx ? MSGK_OTHER : -1;
	default:
		return MSGK_OTHER;
	}
}

/* A lighthouse message of NebulaMeta type, k times (lh_rx or lh_tx). */
static inline void
worker_count_lh(uint64_t by_type[LH_KINDS], unsigned type, uint64_t k)
{
	by_type[type < LH_KINDS ? type : 0] += k;
}

/* stats.message_metrics: the message in the slot being committed. */
void worker_count_tx(struct worker *w, size_t len);

static inline void
worker_commit(struct worker *w, const struct udp_addr *to, size_t len)
{
	if (w->count_tx)
		worker_count_tx(w, len);
	io_tx_commit(w->udp, to, len);
}

static inline void
worker_flush(struct worker *w)
{
	io_flush(w->udp);
}

/* Copy a raw packet (a handshake message) into a slot and queue it. */
void worker_send_raw(
    struct worker *w, const struct udp_addr *to, const uint8_t *p, size_t len);

#endif
