/*
 * node/counters.c: the table of counters (counters.h).  The help texts
 * are the short forms of the list in node(8), STATISTICS; a unit test
 * checks that every name is there.
 */
#include "counters.h"

#include "nodeint.h"
#include "sbuf.h"

/* One getter per source field. */
#define NODE_STAT(f)                                                          \
	static uint64_t get_##f(const struct node *n) { return n->st.f; }
#define UDP_STAT(f)                                                           \
	static uint64_t get_udp_##f(const struct node *n)                     \
	{                                                                     \
		return udp_stats(n->udp)->f;                                  \
	}

NODE_STAT(rx_short)
NODE_STAT(rx_own_network)
NODE_STAT(rx_unknown_type)
NODE_STAT(rx_unknown_index)
NODE_STAT(rx_replay)
NODE_STAT(rx_auth)
NODE_STAT(rx_bad_inner)
NODE_STAT(rx_hs_bad)
NODE_STAT(rx_hs_refused)
NODE_STAT(hs_started)
NODE_STAT(hs_completed)
NODE_STAT(hs_timed_out)
NODE_STAT(hs_pending_full)
NODE_STAT(tx_no_tunnel)
NODE_STAT(tx_dropped)
NODE_STAT(tx_queue_full)
NODE_STAT(tun_write_err)
NODE_STAT(lh_bad)
NODE_STAT(lh_refused)
NODE_STAT(lh_updates)
NODE_STAT(lh_queries)
NODE_STAT(lh_replies)
NODE_STAT(lh_punches)
NODE_STAT(lh_punch_dropped)
NODE_STAT(fw_in_drop)
NODE_STAT(fw_out_drop)
NODE_STAT(fw_rejects)
NODE_STAT(fw_bad_packet)
NODE_STAT(fw_peer_full)
NODE_STAT(tun_super)
UDP_STAT(rx_packets)
UDP_STAT(tx_packets)
UDP_STAT(tx_errors)
UDP_STAT(rx_msgs)
UDP_STAT(tx_msgs)
UDP_STAT(rx_oversize)
UDP_STAT(rx_truncated)

static uint64_t
get_tunnels(const struct node *n)
{
	return n->tun_by_ip.len;
}

static uint64_t
get_pending(const struct node *n)
{
	return n->pend_by_ip.len;
}

static uint64_t
get_registered(const struct node *n)
{
	return n->reg != NULL ? lhreg_count(n->reg) : 0;
}

static uint64_t
get_conntrack(const struct node *n)
{
	return n->ct != NULL ? conntrack_count(n->ct) : 0;
}

static uint64_t
get_gro_joined(const struct node *n)
{
	return n->gro.joined;
}

static uint64_t
get_queued_bytes(const struct node *n)
{
	return n->queued_bytes;
}

#define T COUNTER_TOTAL
#define G COUNTER_GAUGE

static const struct counter_def table[] = {
    {"tunnels", "tunnels up", G, get_tunnels},
    {"pending", "handshakes this node started, not finished", G, get_pending},
    {"udpRx", "datagrams received", T, get_udp_rx_packets},
    {"udpTx", "datagrams sent", T, get_udp_tx_packets},
    {"udpTxErr", "datagrams the kernel would not send", T,
        get_udp_tx_errors},
    {"rxShort", "datagrams too short for a header (hole punches)", T,
        get_rx_short},
    {"rxOwnNet", "datagrams from an underlay address inside the overlay", T,
        get_rx_own_network},
    {"rxUnknownType", "messages of a type not handled", T,
        get_rx_unknown_type},
    {"rxUnknownIndex", "messages for a tunnel that does not exist", T,
        get_rx_unknown_index},
    {"rxReplay", "messages replayed or too old", T, get_rx_replay},
    {"rxAuthFail", "messages that failed to decrypt", T, get_rx_auth},
    {"rxBadInner", "decrypted data packets that are not IPv4", T,
        get_rx_bad_inner},
    {"hsBad", "handshake messages that could not be read", T,
        get_rx_hs_bad},
    {"hsRefused", "handshakes refused", T, get_rx_hs_refused},
    {"hsStarted", "handshakes started", T, get_hs_started},
    {"hsCompleted", "tunnels set up", T, get_hs_completed},
    {"hsTimedOut", "handshakes given up", T, get_hs_timed_out},
    {"txNoTunnel", "packets from the TUN queued for a handshake", T,
        get_tx_no_tunnel},
    {"txDropped", "packets from the TUN dropped", T, get_tx_dropped},
    {"txQueueFull", "packets dropped: a handshake queue was full", T,
        get_tx_queue_full},
    {"tunWriteErr", "packets the TUN device would not take", T,
        get_tun_write_err},
    {"lhBad", "lighthouse messages that could not be read", T, get_lh_bad},
    {"lhRefused", "lighthouse messages refused", T, get_lh_refused},
    {"lhUpdates", "registrations stored (lighthouse)", T, get_lh_updates},
    {"lhQueries", "queries received (lighthouse)", T, get_lh_queries},
    {"lhReplies", "answers sent (lighthouse)", T, get_lh_replies},
    {"lhPunches", "punch notifications acted on", T, get_lh_punches},
    {"registered", "hosts in the registry (lighthouse)", G, get_registered},
    {"fwInDrop", "inbound packets refused by the firewall", T,
        get_fw_in_drop},
    {"fwOutDrop", "outbound packets refused by the firewall", T,
        get_fw_out_drop},
    {"fwRejects", "answers sent for refused packets", T, get_fw_rejects},
    {"fwBadPacket", "packets too short for the firewall", T,
        get_fw_bad_packet},
    {"conntrack", "flows the firewall remembers", G, get_conntrack},
    {"udpRxMsgs", "messages read from the socket", T, get_udp_rx_msgs},
    {"udpTxMsgs", "messages written to the socket", T, get_udp_tx_msgs},
    {"tunSuper", "TCP super-segments read from the TUN", T, get_tun_super},
    {"groJoined", "inbound packets joined into one TUN write", T,
        get_gro_joined},
    {"rxOversize", "datagrams longer than 9001 bytes, dropped", T,
        get_udp_rx_oversize},
    {"rxTruncated", "datagrams cut short by the kernel, dropped", T,
        get_udp_rx_truncated},
    {"hsPendingFull", "packets dropped at handshakes.max_pending", T,
        get_hs_pending_full},
    {"queuedBytes", "bytes waiting for handshakes", G, get_queued_bytes},
    {"fwPeerFull", "new flows over a tunnel's conntrack share", T,
        get_fw_peer_full},
    {"lhPunchDropped", "punch notifications dropped: all jobs busy", T,
        get_lh_punch_dropped},
};

const struct counter_def *
node_counters(size_t *count)
{
	*count = sizeof(table) / sizeof(table[0]);
	return table;
}

void
node_counters_format(const struct node *n, struct sbuf *out)
{
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		sbuf_printf(out, "%s%s=%llu", i > 0 ? " " : "", table[i].name,
		    (unsigned long long)table[i].get(n));
}
