/*
 * node/io.h: the node's two kinds of I/O behind small operation tables,
 * so that the same node code runs over the kernel (lib/udp, lib/tun:
 * io_udp_kernel, io_tun_kernel) or over a simulated network (the
 * in-process tests' test/unit/simnet.c).
 *
 * An implementation embeds struct io_udp or struct io_tun as its first
 * member and points ops at its table; the node calls through the inline
 * wrappers below.  fd() is what the event loop waits on: readable means
 * recv_batch or read has something (a simulation signals an eventfd).
 *
 * Owns: nothing but the kernel implementations' wrappers (io.c).  The
 * worker (worker.h) owns the node's two handles.
 */
#ifndef NODE_IO_H
#define NODE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "offload.h"
#include "udp.h"

struct io_udp;
struct tun;
struct io_tun;

struct io_udp_ops {
	/* As udp_recv_batch: fn per datagram; the count read, 0, or < 0. */
	int (*recv_batch)(struct io_udp *u, udp_rx_fn fn, void *arg);
	int (*rx_batch)(const struct io_udp *u); /* a full batch's size */
	/* The next send slot (UDP_MAX_PACKET bytes), valid until commit. */
	uint8_t *(*tx_slot)(struct io_udp *u);
	void (*tx_commit)(
	    struct io_udp *u, const struct udp_addr *to, size_t len);
	int (*flush)(struct io_udp *u); /* send what is committed */
	int (*fd)(const struct io_udp *u);
	uint16_t (*port)(const struct io_udp *u);
	bool (*gso)(const struct io_udp *u);
	bool (*gro)(const struct io_udp *u);
	const struct udp_stats *(*stats)(const struct io_udp *u);
	/* listen.read_buffer and write_buffer while running: bytes, 0 for
	 * the system's default, < 0 to leave one as it is.  0, or < 0 with
	 * the reason in err. */
	int (*set_buffers)(
	    struct io_udp *u, int rcvbuf, int sndbuf, char *err, size_t errlen);
	void (*close)(struct io_udp *u);
};

struct io_udp {
	const struct io_udp_ops *ops;
};

struct io_tun_ops {
	/* As tun_read: one packet (or super-segment with offload) and its
	 * virtio-net header; > 0, 0 when nothing waits, or < 0. */
	ssize_t (*read)(
	    struct io_tun *t, uint8_t *buf, size_t cap, struct vnet_hdr *h);
	ssize_t (*write)(struct io_tun *t, const uint8_t *p, size_t len);
	ssize_t (*writev)(
	    struct io_tun *t, const struct iovec *iov, int iovcnt);
	int (*fd)(const struct io_tun *t);
	bool (*offload)(const struct io_tun *t);
	const char *(*name)(const struct io_tun *t);
	void (*close)(struct io_tun *t);
};

struct io_tun {
	const struct io_tun_ops *ops;
};

/* The kernel's: a UDP socket (udp_open's arguments; mark != 0: its
 * packets carry that firewall mark, SO_MARK) and a TUN device
 * taken over (lib/tun's handle; the io_tun owns it from the call on). */
int io_udp_kernel(const char *host, uint16_t port, int rcvbuf, int sndbuf,
    bool offload, uint32_t mark, struct io_udp **out, char *err,
    size_t errlen);
int io_tun_kernel(struct tun *tun, struct io_tun **out);
/* The lib/tun handle under a kernel io_tun (for routes), else NULL. */
struct tun *io_tun_kernel_handle(struct io_tun *t);

static inline uint8_t *
io_tx_slot(struct io_udp *u)
{
	return u->ops->tx_slot(u);
}

static inline void
io_tx_commit(struct io_udp *u, const struct udp_addr *to, size_t len)
{
	u->ops->tx_commit(u, to, len);
}

static inline int
io_flush(struct io_udp *u)
{
	return u->ops->flush(u);
}

static inline uint16_t
io_port(const struct io_udp *u)
{
	return u->ops->port(u);
}

static inline const struct udp_stats *
io_udp_stats(const struct io_udp *u)
{
	return u->ops->stats(u);
}

static inline int
io_udp_set_buffers(
    struct io_udp *u, int rcvbuf, int sndbuf, char *err, size_t errlen)
{
	return u->ops->set_buffers(u, rcvbuf, sndbuf, err, errlen);
}

static inline ssize_t
io_tun_write(struct io_tun *t, const uint8_t *p, size_t len)
{
	return t->ops->write(t, p, len);
}

static inline bool
io_tun_offload(const struct io_tun *t)
{
	return t->ops->offload(t);
}

#endif
