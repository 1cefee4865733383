/*
 * lib/offload.h: TCP segmentation offload between the kernel and the data
 * plane, for a TUN device opened with IFF_VNET_HDR.
 *
 * Outbound, the kernel hands us TCP super-segments of up to 64 KiB with a
 * virtio-net header saying how to cut them (gso_size); tso_next cuts them
 * into wire-sized IPv4 packets with their own headers and checksums, so
 * what crosses the tunnel is still one Nebula packet per inner packet of
 * at most the tunnel MTU.
 *
 * Inbound, gro_add joins consecutive in-order segments of one TCP flow
 * back into a super-segment that the kernel takes with one write: the
 * segments are verified (IPv4 and TCP checksums) before they are joined,
 * and nothing is copied: the result is an iovec over the packets where
 * they lie.
 */
#ifndef VPN_OFFLOAD_H
#define VPN_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "csum.h"

#define VNET_HDR_LEN 10		/* struct virtio_net_hdr */
#define VNET_F_NEEDS_CSUM 1
#define VNET_GSO_NONE 0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_UDP 3
#define VNET_GSO_TCPV6 4
#define VNET_GSO_UDP_L4 5
#define VNET_GSO_ECN 0x80

#define OFFLOAD_MAX 65535 /* the largest IPv4 packet */

/* The virtio-net header in host order (the TUN device uses the host's
 * byte order unless told otherwise). */
struct vnet_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

void vnet_hdr_get(const uint8_t b[VNET_HDR_LEN], struct vnet_hdr *h);
void vnet_hdr_put(uint8_t b[VNET_HDR_LEN], const struct vnet_hdr *h);

/*
 * Finish a partial checksum (VNET_F_NEEDS_CSUM): the field at
 * start + off holds the pseudo-header sum; the checksum of
 * pkt[start, len) goes there.  VPN_ERR_INVAL when start/off are outside
 * the packet.
 */
int offload_csum(uint8_t *pkt, size_t len, size_t start, size_t off);

/* Cutting one TCP/IPv4 super-segment (VNET_GSO_TCPV4). */
struct tso {
	const uint8_t *pkt;
	size_t len, ihl, hl, mss, off;
	uint32_t seq;
	uint16_t id;
	uint64_t pseudo; /* addresses and protocol, pre-summed */
	unsigned idx;
};

/* VPN_ERR_INVAL if pkt is not a well-formed TCP/IPv4 packet of exactly
 * len bytes with a usable gso_size. */
int tso_start(struct tso *s, const uint8_t *pkt, size_t len,
    const struct vnet_hdr *h);
/* Write the next segment (at most hl + mss bytes) to out; its length, or
 * 0 after the last. */
size_t tso_next(struct tso *s, uint8_t *out);

/* Joining inbound segments; at most GRO_SEGS per super-segment. */
#define GRO_SEGS 64

typedef void (*gro_out_fn)(void *arg, struct iovec *iov, int iovcnt);

struct gro {
	struct iovec iov[GRO_SEGS + 1]; /* header, first packet, payloads */
	uint8_t hdr[VNET_HDR_LEN];
	int n;				/* segments held */
	uint8_t *first;
	size_t first_len, hl, mss, total;
	uint32_t next_seq;
	bool closed, psh;
	uint64_t joined; /* segments that went out inside a super-segment */
};

void gro_init(struct gro *g);
/*
 * Hand over one IPv4 packet for the device.  The packet must stay valid
 * and unchanged until the next gro_flush (it is written in place: the
 * first segment's headers are rewritten when segments join).  out is
 * called with a virtio-net header and the packet(s), to be written to
 * the device with one writev.
 */
void gro_add(struct gro *g, uint8_t *pkt, size_t len, gro_out_fn out,
    void *arg);
/* Emit what is held. */
void gro_flush(struct gro *g, gro_out_fn out, void *arg);

#endif
