/*
 * lib/udp.h: the underlay socket.  One AF_INET6 socket (IPv4 peers as
 * IPv4-mapped addresses, as Nebula does on Linux), read with recvmmsg(2)
 * into preallocated buffers and written with sendmmsg(2) from a queue of
 * preallocated slots: no allocation per packet, one syscall per batch.
 *
 * With offload, runs of queued datagrams to one address that have the
 * same length (the last may be shorter) go out as one message with
 * UDP_SEGMENT (the kernel, or the NIC, cuts it into the datagrams), and
 * the socket takes UDP_GRO: a message read may hold several datagrams of
 * one size, which the receive handler gets one at a time.  What crosses
 * the wire is the same datagrams either way.
 */
#ifndef VPN_UDP_H
#define VPN_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UDP_BATCH 64	     /* send slots; receive buffers without GRO */
#define UDP_GRO_BATCH 16     /* receive buffers with GRO */
#define UDP_MAX_PACKET 9001  /* Nebula's receive buffer size */
#define UDP_GRO_BUF 65536    /* a receive buffer with GRO */
#define UDP_GSO_SEGS 64	     /* the kernel's limit per UDP_SEGMENT send */
#define UDP_GSO_BYTES 65000  /* and its length limit, rounded down */

/* An underlay address: IPv6, or IPv4 as ::ffff:a.b.c.d. */
struct udp_addr {
	uint8_t ip[16];
	uint16_t port;
};

#define UDP_ADDR_STRLEN 56 /* "[v6]:port" */

struct udp;

/* Receive handler: buf is writable scratch owned by the socket until the
 * handler returns. */
typedef void (*udp_rx_fn)(void *arg, const struct udp_addr *from,
    uint8_t *buf, size_t len);

/* host: an IPv4 or IPv6 literal ("0.0.0.0", "::", "10.0.0.1").
 * offload: use UDP_SEGMENT and UDP_GRO where the kernel has them. */
int udp_open(const char *host, uint16_t port, int rcvbuf, int sndbuf,
    bool offload, struct udp **out, char *errbuf, size_t errlen);
void udp_close(struct udp *u); /* NULL-safe */
int udp_fd(const struct udp *u);
uint16_t udp_port(const struct udp *u);

/* One recvmmsg batch; calls fn per datagram of at most UDP_MAX_PACKET
 * bytes, empty ones included (longer ones, whole or cut from a GRO
 * message, are dropped and counted in rx_oversize; without GRO the kernel
 * truncates them to the buffer: rx_truncated).  Returns the number of
 * messages read (udp_rx_batch() when every buffer was filled: more may
 * be waiting), 0 when nothing was waiting, or VPN_ERR_SYS. */
int udp_recv_batch(struct udp *u, udp_rx_fn fn, void *arg);
int udp_rx_batch(const struct udp *u);
/* Whether UDP_SEGMENT and UDP_GRO are in use (GSO is turned off for good
 * when the kernel refuses a segmented send). */
bool udp_gso(const struct udp *u);
bool udp_gro(const struct udp *u);

/* A send slot to write a datagram into (UDP_MAX_PACKET bytes: the caller
 * checks every length it copies in), then commit it; a full queue is
 * flushed first.  A commit longer than the slot is refused (counted in
 * tx_errors).  udp_flush sends the queue. */
uint8_t *udp_tx_slot(struct udp *u);
void udp_tx_commit(struct udp *u, const struct udp_addr *to, size_t len);
int udp_flush(struct udp *u);

struct udp_stats {
	uint64_t rx_packets, rx_truncated, rx_errors;
	uint64_t rx_oversize; /* datagrams longer than UDP_MAX_PACKET */
	uint64_t tx_packets, tx_errors;
	uint64_t rx_msgs, tx_msgs;   /* messages: more datagrams with offload */
	uint64_t rx_bytes, tx_bytes; /* UDP payload of those counted */
};
const struct udp_stats *udp_stats(const struct udp *u);

/* Parsing and printing.  udp_addr_parse takes "1.2.3.4:5" or "[v6]:5"
 * (no DNS). */
int udp_addr_parse(const char *s, struct udp_addr *a);
void udp_addr_from_v4(struct udp_addr *a, uint32_t ip, uint16_t port);
bool udp_addr_is_v4(const struct udp_addr *a);
uint32_t udp_addr_v4(const struct udp_addr *a);
void udp_addr_format(const struct udp_addr *a, char buf[UDP_ADDR_STRLEN]);
bool udp_addr_eq(const struct udp_addr *a, const struct udp_addr *b);

#endif
