/*
 * test/unit/simnet.c: the simulated UDP network (simnet.h).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "simnet.h"

#define SIM_QUEUE 1024 /* datagrams waiting at one endpoint, at most */
#define SIM_BATCH 64   /* delivered to the node per recv_batch */
#define SIM_SLOTS 64   /* send slots, as lib/udp's batch */
#define SIM_PEERS 64   /* a NAT's remembered destinations */

struct dgram {
	struct dgram *next;
	struct udp_addr from;
	size_t len;
	uint8_t p[];
};

struct endpoint {
	struct io_udp io; /* first */
	struct simnet *net;
	struct endpoint *next;
	struct udp_addr addr; /* where it is */
	bool natted;
	struct udp_addr pub;              /* natted: as seen from outside */
	struct udp_addr peers[SIM_PEERS]; /* natted: sent to since */
	size_t npeers;
	int efd;
	struct dgram *qhead, **qtail;
	size_t nq;
	uint8_t slot[SIM_SLOTS][UDP_MAX_PACKET];
	struct udp_addr to[SIM_SLOTS];
	size_t len[SIM_SLOTS];
	size_t nslots;
	uint8_t rx[UDP_MAX_PACKET];
	struct udp_stats st;
	int rcvbuf, sndbuf; /* as last set; no effect */
};

struct simnet {
	struct endpoint *eps;
	sim_filter filter;
	void *filter_arg;
	struct simnet_counts c;
};

#define EP(x) ((struct endpoint *)(void *)(x))
#define EPC(x) ((const struct endpoint *)(const void *)(x))

struct simnet *
simnet_new(void)
{
	return calloc(1, sizeof(struct simnet));
}

void
simnet_free(struct simnet *s)
{
	if (s == NULL)
		return;
	free(s);
}

void
simnet_set_filter(struct simnet *s, sim_filter fn, void *arg)
{
	s->filter = fn;
	s->filter_arg = arg;
}

const struct simnet_counts *
simnet_counts(const struct simnet *s)
{
	return &s->c;
}

/* The endpoint that receives what is sent to `to`. */
static struct endpoint *
lookup(struct simnet *s, const struct udp_addr *to)
{
	struct endpoint *e;

	for (e = s->eps; e != NULL; e = e->next)
		if (udp_addr_eq(e->natted ? &e->pub : &e->addr, to))
			return e;
	return NULL;
}

static bool
nat_allows(const struct endpoint *e, const struct udp_addr *from)
{
	size_t i;

	if (!e->natted)
		return true;
	for (i = 0; i < e->npeers; i++)
		if (udp_addr_eq(&e->peers[i], from))
			return true;
	return false;
}

static void
nat_remember(struct endpoint *e, const struct udp_addr *to)
{
	if (!e->natted || nat_allows(e, to))
		return;
	if (e->npeers < SIM_PEERS) {
		e->peers[e->npeers++] = *to;
		return;
	}
	memmove(e->peers, e->peers + 1, (SIM_PEERS - 1) * sizeof(e->peers[0]));
	e->peers[SIM_PEERS - 1] = *to;
}

/* Into the destination's queue, waking its loop. */
static void
deliver(struct simnet *s, struct dgram *d, const struct udp_addr *to)
{
	struct endpoint *e = lookup(s, to);
	uint64_t one = 1;

	if (e == NULL || e->nq >= SIM_QUEUE) {
		s->c.unreachable++;
		free(d);
		return;
	}
	if (!nat_allows(e, &d->from)) {
		s->c.nat_refused++;
		free(d);
		return;
	}
	d->next = NULL;
	*e->qtail = d;
	e->qtail = &d->next;
	e->nq++;
	s->c.delivered++;
	if (write(e->efd, &one, sizeof(one)) != sizeof(one))
		abort();
}

static struct dgram *
copy(const struct udp_addr *from, const uint8_t *p, size_t len)
{
	struct dgram *d = malloc(sizeof(*d) + len);

	if (d == NULL)
		abort();
	d->from = *from;
	d->len = len;
	memcpy(d->p, p, len);
	return d;
}

/* One datagram onto the network, through the filter. */
static void
send_one(
    struct endpoint *e, const struct udp_addr *to, const uint8_t *p, size_t len)
{
	struct simnet *s = e->net;
	const struct udp_addr *from = e->natted ? &e->pub : &e->addr;

	if (s->filter != NULL && s->filter(s->filter_arg, from, to, p, len)) {
		s->c.filtered++;
		return;
	}
	nat_remember(e, to);
	deliver(s, copy(from, p, len), to);
}

static int
ep_recv_batch(struct io_udp *u, udp_rx_fn fn, void *arg)
{
	struct endpoint *e = EP(u);
	struct dgram *d;
	uint64_t cnt;
	int n = 0;

	(void)!read(e->efd, &cnt, sizeof(cnt)); /* rearmed below if more */
	while (n < SIM_BATCH && (d = e->qhead) != NULL) {
		if ((e->qhead = d->next) == NULL)
			e->qtail = &e->qhead;
		e->nq--;
		/* the node may write into it: a buffer of the endpoint's */
		memcpy(e->rx, d->p, d->len);
		e->st.rx_packets++;
		e->st.rx_msgs++;
		fn(arg, &d->from, e->rx, d->len);
		free(d);
		n++;
	}
	if (e->qhead != NULL) {
		cnt = 1;
		if (write(e->efd, &cnt, sizeof(cnt)) != sizeof(cnt))
			abort();
	}
	return n;
}

static int
ep_rx_batch(const struct io_udp *u)
{
	(void)u;
	return SIM_BATCH;
}

static int
ep_flush(struct io_udp *u)
{
	struct endpoint *e = EP(u);
	size_t i, n = e->nslots;

	e->nslots = 0;
	for (i = 0; i < n; i++) {
		e->st.tx_packets++;
		e->st.tx_msgs++;
		send_one(e, &e->to[i], e->slot[i], e->len[i]);
	}
	return 0;
}

static uint8_t *
ep_tx_slot(struct io_udp *u)
{
	struct endpoint *e = EP(u);

	if (e->nslots == SIM_SLOTS)
		ep_flush(u);
	return e->slot[e->nslots];
}

static void
ep_tx_commit(struct io_udp *u, const struct udp_addr *to, size_t len)
{
	struct endpoint *e = EP(u);

	if (len > UDP_MAX_PACKET)
		abort(); /* the node checks first; lib/udp refuses too */
	e->to[e->nslots] = *to;
	e->len[e->nslots++] = len;
}

static int
ep_fd(const struct io_udp *u)
{
	return EPC(u)->efd;
}

static uint16_t
ep_port(const struct io_udp *u)
{
	return EPC(u)->addr.port;
}

static bool
ep_off(const struct io_udp *u)
{
	(void)u;
	return false;
}

static const struct udp_stats *
ep_stats(const struct io_udp *u)
{
	return &EPC(u)->st;
}

static int
ep_set_buffers(
    struct io_udp *u, int rcvbuf, int sndbuf, char *err, size_t errlen)
{
	struct endpoint *e = EP(u);

	(void)err;
	(void)errlen;
	if (rcvbuf >= 0)
		e->rcvbuf = rcvbuf;
	if (sndbuf >= 0)
		e->sndbuf = sndbuf;
	return 0;
}

void
simnet_buffers(const struct io_udp *u, int *rcvbuf, int *sndbuf)
{
	*rcvbuf = EPC(u)->rcvbuf;
	*sndbuf = EPC(u)->sndbuf;
}

static void
ep_close(struct io_udp *u)
{
	struct endpoint *e = EP(u), **pp;
	struct dgram *d;

	for (pp = &e->net->eps; *pp != NULL; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	while ((d = e->qhead) != NULL) {
		e->qhead = d->next;
		free(d);
	}
	close(e->efd);
	free(e);
}

static const struct io_udp_ops sim_ops = {
    .recv_batch = ep_recv_batch,
    .rx_batch = ep_rx_batch,
    .tx_slot = ep_tx_slot,
    .tx_commit = ep_tx_commit,
    .flush = ep_flush,
    .fd = ep_fd,
    .port = ep_port,
    .gso = ep_off,
    .gro = ep_off,
    .stats = ep_stats,
    .set_buffers = ep_set_buffers,
    .close = ep_close,
};

struct io_udp *
simnet_open(struct simnet *s, const struct udp_addr *addr)
{
	struct endpoint *e;

	if (lookup(s, addr) != NULL || (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	if ((e->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		free(e);
		return NULL;
	}
	e->io.ops = &sim_ops;
	e->net = s;
	e->addr = *addr;
	e->qtail = &e->qhead;
	e->next = s->eps;
	s->eps = e;
	return &e->io;
}

void
simnet_nat(struct io_udp *u, const struct udp_addr *pub)
{
	struct endpoint *e = EP(u);

	e->natted = true;
	e->pub = *pub;
	e->npeers = 0;
}
