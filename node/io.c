/*
 * node/io.c: the kernel's implementations of node/io.h, thin wrappers
 * over lib/udp and lib/tun.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "err.h"
#include "io.h"
#include "tun.h"

struct kudp {
	struct io_udp io; /* first */
	struct udp *u;
};

struct ktun {
	struct io_tun io; /* first */
	struct tun *t;
};

#define KU(x) (((struct kudp *)(void *)(x))->u)
#define KUC(x) (((const struct kudp *)(const void *)(x))->u)
#define KT(x) (((struct ktun *)(void *)(x))->t)
#define KTC(x) (((const struct ktun *)(const void *)(x))->t)

static int
ku_recv_batch(struct io_udp *u, udp_rx_fn fn, void *arg)
{
	return udp_recv_batch(KU(u), fn, arg);
}

static int
ku_rx_batch(const struct io_udp *u)
{
	return udp_rx_batch(KUC(u));
}

static uint8_t *
ku_tx_slot(struct io_udp *u)
{
	return udp_tx_slot(KU(u));
}

static void
ku_tx_commit(struct io_udp *u, const struct udp_addr *to, size_t len)
{
	udp_tx_commit(KU(u), to, len);
}

static int
ku_flush(struct io_udp *u)
{
	return udp_flush(KU(u));
}

static int
ku_fd(const struct io_udp *u)
{
	return udp_fd(KUC(u));
}

static uint16_t
ku_port(const struct io_udp *u)
{
	return udp_port(KUC(u));
}

static bool
ku_gso(const struct io_udp *u)
{
	return udp_gso(KUC(u));
}

static bool
ku_gro(const struct io_udp *u)
{
	return udp_gro(KUC(u));
}

static const struct udp_stats *
ku_stats(const struct io_udp *u)
{
	return udp_stats(KUC(u));
}

/* The system's size of a new socket's buffer (net.core.rmem_default or
 * wmem_default, of our network namespace), or -1. */
static int
sys_default(const char *path)
{
	FILE *f = fopen(path, "re");
	int v = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* One buffer as udp_open sets it at start: the FORCE option (with
 * CAP_NET_ADMIN, over net.core.[rw]mem_max), else the plain one.  0: the
 * size a new socket gets, told halved since the kernel doubles it. */
static int
set_buffer(int fd, int force, int plain, int size, const char *dflt,
    const char *what, char *err, size_t errlen)
{
	if (size == 0) {
		if ((size = sys_default(dflt)) <= 0) {
			snprintf(err, errlen, "read %s", dflt);
			return VPN_ERR_SYS;
		}
		size /= 2;
	}
	if (setsockopt(fd, SOL_SOCKET, force, &size, sizeof(size)) == -1 &&
	    setsockopt(fd, SOL_SOCKET, plain, &size, sizeof(size)) == -1) {
		snprintf(err, errlen, "set %s buffer to %d: %s", what, size,
		    strerror(errno));
		return VPN_ERR_SYS;
	}
	return 0;
}

static int
ku_set_buffers(
    struct io_udp *u, int rcvbuf, int sndbuf, char *err, size_t errlen)
{
	int fd = udp_fd(KU(u)), r = 0;

	if (rcvbuf >= 0)
		r = set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf,
		    "/proc/sys/net/core/rmem_default", "receive", err, errlen);
	if (r == 0 && sndbuf >= 0)
		r = set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, sndbuf,
		    "/proc/sys/net/core/wmem_default", "send", err, errlen);
	return r;
}

static void
ku_close(struct io_udp *u)
{
	udp_close(KU(u));
	free(u);
}

static const struct io_udp_ops kudp_ops = {
    .recv_batch = ku_recv_batch,
    .rx_batch = ku_rx_batch,
    .tx_slot = ku_tx_slot,
    .tx_commit = ku_tx_commit,
    .flush = ku_flush,
    .fd = ku_fd,
    .port = ku_port,
    .gso = ku_gso,
    .gro = ku_gro,
    .stats = ku_stats,
    .set_buffers = ku_set_buffers,
    .close = ku_close,
};

int
io_udp_kernel(const char *host, uint16_t port, int rcvbuf, int sndbuf,
    bool offload, uint32_t mark, struct io_udp **out, char *err,
    size_t errlen)
{
	struct kudp *k = calloc(1, sizeof(*k));
	int r;

	*out = NULL;
	if (k == NULL)
		return VPN_ERR_NOMEM;
	if ((r = udp_open(host, port, rcvbuf, sndbuf, offload, &k->u, err,
	         errlen)) != 0) {
		free(k);
		return r;
	}
	if (mark != 0 && setsockopt(udp_fd(k->u), SOL_SOCKET, SO_MARK, &mark,
	                     sizeof(mark)) != 0) {
		snprintf(err, errlen, "mark the socket (SO_MARK %u): %s", mark,
		    strerror(errno));
		udp_close(k->u);
		free(k);
		return VPN_ERR_SYS;
	}
	k->io.ops = &kudp_ops;
	*out = &k->io;
	return 0;
}

static ssize_t
kt_read(struct io_tun *t, uint8_t *buf, size_t cap, struct vnet_hdr *h)
{
	return tun_read(KT(t), buf, cap, h);
}

static ssize_t
kt_write(struct io_tun *t, const uint8_t *p, size_t len)
{
	return tun_write(KT(t), p, len);
}

static ssize_t
kt_writev(struct io_tun *t, const struct iovec *iov, int iovcnt)
{
	return tun_writev(KT(t), iov, iovcnt);
}

static int
kt_fd(const struct io_tun *t)
{
	return tun_fd(KTC(t));
}

static bool
kt_offload(const struct io_tun *t)
{
	return tun_offload(KTC(t));
}

static const char *
kt_name(const struct io_tun *t)
{
	return tun_name(KTC(t));
}

static void
kt_close(struct io_tun *t)
{
	tun_close(KT(t));
	free(t);
}

static const struct io_tun_ops ktun_ops = {
    .read = kt_read,
    .write = kt_write,
    .writev = kt_writev,
    .fd = kt_fd,
    .offload = kt_offload,
    .name = kt_name,
    .close = kt_close,
};

int
io_tun_kernel(struct tun *tun, struct io_tun **out)
{
	struct ktun *k = calloc(1, sizeof(*k));

	*out = NULL;
	if (k == NULL) {
		tun_close(tun);
		return VPN_ERR_NOMEM;
	}
	k->io.ops = &ktun_ops;
	k->t = tun;
	*out = &k->io;
	return 0;
}

struct tun *
io_tun_kernel_handle(struct io_tun *t)
{
	return t != NULL && t->ops == &ktun_ops ? KT(t) : NULL;
}
