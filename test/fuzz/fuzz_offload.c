/*
 * test/fuzz/fuzz_offload.c: TCP segmentation and coalescing on arbitrary
 * bytes.  The input is a virtio-net header (10 bytes) and a packet, as a
 * TUN read gives them; the packet is also cut into a run of packets
 * (each preceded by a length byte) for the coalescer, as decrypted
 * inbound packets reach it.
 *
 * Oracles: nothing reads or writes out of bounds (ASan: each segment goes
 * into a buffer of exactly hl + mss bytes); every segment is a valid
 * IPv4/TCP packet (both checksums) and the segments' payloads, in order,
 * are the super-segment's; joining those segments gives the original
 * payload back; whatever the coalescer writes is a header plus at most
 * 65535 bytes, and a joined packet's checksum, finished as the kernel
 * would, is right.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "offload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t flat[OFFLOAD_MAX + VNET_HDR_LEN + 1];
static size_t flat_len;

static bool
sum_ok(const uint8_t *p, size_t len)
{
	return csum_fold(csum_add(0, p, len)) == 0xffff;
}

static bool
tcp_ok(const uint8_t *p, size_t len)
{
	size_t ihl = (size_t)(p[0] & 15) * 4;
	uint8_t ph[12];

	memcpy(ph, p + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)((len - ihl) >> 8);
	ph[11] = (uint8_t)(len - ihl);
	return csum_fold(csum_add(csum_add(0, ph, 12), p + ihl, len - ihl)) ==
	       0xffff;
}

/* Flatten what the coalescer writes, and check it. */
static void
out(void *arg, struct iovec *iov, int n)
{
	struct vnet_hdr h;
	int i;

	(void)arg;
	if (n < 2 || n > GRO_SEGS + 1 || iov[0].iov_len != VNET_HDR_LEN)
		abort();
	flat_len = 0;
	for (i = 0; i < n; i++) {
		if (flat_len + iov[i].iov_len > sizeof(flat) - 1)
			abort();
		memcpy(flat + flat_len, iov[i].iov_base, iov[i].iov_len);
		flat_len += iov[i].iov_len;
	}
	vnet_hdr_get(flat, &h);
	if (h.gso_type == VNET_GSO_NONE) {
		if (n != 2 || h.flags != 0)
			abort();
		return;
	}
	if (h.gso_type != VNET_GSO_TCPV4 || h.csum_start != 20 ||
	    h.csum_offset != 16 || flat_len - VNET_HDR_LEN > OFFLOAD_MAX)
		abort();
	if (offload_csum(flat + VNET_HDR_LEN, flat_len - VNET_HDR_LEN, 20,
	        16) != 0 ||
	    !sum_ok(flat + VNET_HDR_LEN, 20) ||
	    !tcp_ok(flat + VNET_HDR_LEN, flat_len - VNET_HDR_LEN))
		abort();
}

static uint8_t segs[GRO_SEGS * 4][1600];
static size_t segl[GRO_SEGS * 4];

static void
segmentation(const uint8_t *hb, const uint8_t *pkt, size_t len)
{
	struct vnet_hdr h;
	struct tso s;
	struct gro g;
	size_t n = 0, off, k;
	uint8_t *seg;

	vnet_hdr_get(hb, &h);
	if (tso_start(&s, pkt, len, &h) != 0)
		return;
	if (s.hl + s.mss > sizeof(segs[0]))
		return; /* the node refuses these too */
	off = s.hl;
	for (;;) {
		if ((seg = malloc(s.hl + s.mss)) == NULL)
			abort();
		k = tso_next(&s, seg);
		if (k == 0) {
			free(seg);
			break;
		}
		if (k > s.hl + s.mss || k <= s.hl ||
		    (size_t)(seg[2] << 8 | seg[3]) != k || !sum_ok(seg, s.ihl) ||
		    !tcp_ok(seg, k) ||
		    memcmp(seg + s.hl, pkt + off, k - s.hl) != 0)
			abort();
		off += k - s.hl;
		if (n < sizeof(segl) / sizeof(segl[0])) {
			memcpy(segs[n], seg, k);
			segl[n++] = k;
		}
		free(seg);
	}
	if (off != len)
		abort();
	/* and back */
	gro_init(&g);
	for (k = 0; k < n; k++)
		gro_add(&g, segs[k], segl[k], out, NULL);
	gro_flush(&g, out, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t run[OFFLOAD_MAX];
	uint8_t *copy;
	struct vnet_hdr h;
	struct gro g;
	size_t off, l;

	if (size < VNET_HDR_LEN || size - VNET_HDR_LEN > OFFLOAD_MAX)
		return 0;
	segmentation(data, data + VNET_HDR_LEN, size - VNET_HDR_LEN);

	/* a partial checksum where the header says */
	vnet_hdr_get(data, &h);
	if ((copy = malloc(size - VNET_HDR_LEN + 1)) == NULL)
		abort();
	memcpy(copy, data + VNET_HDR_LEN, size - VNET_HDR_LEN);
	if (offload_csum(copy, size - VNET_HDR_LEN, h.csum_start,
	        h.csum_offset) == 0 &&
	    (size_t)h.csum_start + h.csum_offset + 2 > size - VNET_HDR_LEN)
		abort();
	free(copy);

	/* the coalescer on a run of packets: [len][bytes]... */
	memcpy(run, data + VNET_HDR_LEN, size - VNET_HDR_LEN);
	gro_init(&g);
	for (off = 0; off < size - VNET_HDR_LEN; off += l) {
		l = run[off++];
		if (l > size - VNET_HDR_LEN - off)
			l = size - VNET_HDR_LEN - off;
		if (l > 0)
			gro_add(&g, run + off, l, out, NULL);
	}
	gro_flush(&g, out, NULL);
	return 0;
}
