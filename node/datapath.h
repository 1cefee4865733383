/*
 * node/datapath.h: the receive and send pipelines, per packet, as
 * functions that return what became of the packet.  They run on a
 * worker (worker.h), read the shared state (configuration, host map,
 * firewall table, conntrack) and write only the worker's counters and
 * the tunnel's per-packet fields; control messages are handed to their
 * subsystems (handshakes, lighthouse, connection manager).
 *
 * Receive: header, own-network check, dispatch by type, tunnel by index,
 * replay check, AEAD open in place, replay update, roaming, then for
 * data the inner IPv4 check and the inbound firewall.  Send: the IPv4
 * check, the destination check, the tunnel by VPN IP (or a handshake),
 * the outbound firewall, header and AEAD seal in place in the send slot.
 */
#ifndef NODE_DATAPATH_H
#define NODE_DATAPATH_H

#include <stddef.h>
#include <stdint.h>

#include "offload.h"
#include "udp.h"

struct worker;
struct node;
struct tunnel;

enum dp_verdict {
	DP_DROP,   /* refused or malformed: counted by reason */
	DP_DONE,   /* handled: sent, queued behind a handshake, answered */
	DP_TO_TUN, /* an inbound IPv4 packet the firewall let in */
};

/* One datagram from the underlay, decrypted in place.  DP_TO_TUN: *out
 * and *outlen are the packet for the TUN device (inside pkt). */
enum dp_verdict dp_rx(struct worker *w, const struct udp_addr *from,
    uint8_t *pkt, size_t len, uint8_t **out, size_t *outlen);

/* One packet read from the TUN into slot + HEADER_LEN (a send slot). */
enum dp_verdict dp_tx(struct worker *w, uint8_t *slot, size_t len);

/* A TCP super-segment from the TUN (offload): judged by the firewall
 * once, then cut into send slots and sealed there. */
enum dp_verdict dp_tx_super(
    struct worker *w, const struct vnet_hdr *h, const uint8_t *p, size_t len);

/* An IPv4 packet at slot + HEADER_LEN, bound for t: the outbound
 * firewall, then sealed and queued (packets that waited for a
 * handshake). */
enum dp_verdict dp_send_data(
    struct worker *w, struct tunnel *t, uint8_t *slot, size_t len);

#endif
