/*
 * node/counters.c: the table of counters (counters.h).  The help texts
 * are the short forms of the list in cairn(8), STATISTICS; a unit test
 * checks that every name is there.
 */
#include <string.h>

#include "counters.h"
#include "dnsresp.h"
#include "handshake.h"
#include "hsguard.h"
#include "hostmap.h"
#include "lhclient.h"
#include "lhserver.h"
#include "nodeint.h"
#include "punch.h"
#include "relay.h"
#include "sbuf.h"
#include "worker.h"

/* One getter per source field. */
#define DP_STAT(f)                                                             \
	static uint64_t get_##f(const struct node *n)                          \
	{                                                                      \
		return n->wk->st.f;                                            \
	}
#define SUB_STAT(name, sub, fn, f)                                             \
	static uint64_t get_##name(const struct node *n)                       \
	{                                                                      \
		return n->sub != NULL ? fn(n->sub)->f : 0;                     \
	}
#define UDP_STAT(f)                                                            \
	static uint64_t get_udp_##f(const struct node *n)                      \
	{                                                                      \
		return io_udp_stats(n->wk->udp)->f;                            \
	}

DP_STAT(rx_short)
DP_STAT(rx_own_network)
DP_STAT(rx_unknown_type)
DP_STAT(rx_unknown_index)
DP_STAT(rx_replay)
DP_STAT(rx_auth)
DP_STAT(rx_bad_inner)
DP_STAT(tx_no_tunnel)
DP_STAT(tx_dropped)
DP_STAT(tun_write_err)
DP_STAT(lh_bad)
DP_STAT(fw_in_drop)
DP_STAT(fw_out_drop)
DP_STAT(fw_rejects)
DP_STAT(fw_bad_packet)
DP_STAT(fw_peer_full)
DP_STAT(tun_super)
DP_STAT(tx_no_route)
DP_STAT(rx_spoofed)
DP_STAT(rx_recv_error_ignored)
SUB_STAT(rx_hs_bad, hs, hs_stats, bad)
SUB_STAT(rx_hs_stray, hs, hs_stats, stray)
SUB_STAT(rx_hs_refused, hs, hs_stats, refused)
SUB_STAT(hs_started, hs, hs_stats, started)
SUB_STAT(hs_completed, hs, hs_stats, completed)
SUB_STAT(hs_timed_out, hs, hs_stats, timed_out)
SUB_STAT(hs_pending_full, hs, hs_stats, pending_full)
SUB_STAT(hs_msg1_full, hs, hs_stats, msg1_full)
SUB_STAT(hs_msg1_stale, hs, hs_stats, msg1_stale)
SUB_STAT(hs_guard_busy, hs, hs_guard_stats, busy)
SUB_STAT(hs_source_limited, hs, hs_guard_stats, source_limited)
SUB_STAT(hs_known_first, hs, hs_guard_stats, known_first)
SUB_STAT(hs_under_load, hs, hs_guard_stats, under_load)

static uint64_t
get_hs_verified_hits(const struct node *n)
{
	return n->hs != NULL ? hs_verified_hits(n->hs) : 0;
}
SUB_STAT(tx_queue_full, hs, hs_stats, queue_full)
SUB_STAT(lh_updates, lhs, lhserver_stats, updates)
SUB_STAT(lh_queries, lhs, lhserver_stats, queries)
SUB_STAT(lh_replies, lhs, lhserver_stats, replies)
SUB_STAT(lh_punches, punch, punch_stats, punches)
SUB_STAT(lh_unsolicited, lhc, lhclient_stats, unsolicited)
SUB_STAT(lh_punch_dropped, punch, punch_stats, dropped)
SUB_STAT(lh_readdressed, lhc, lhclient_stats, readdressed)
SUB_STAT(relay_requests, relays, relays_stats, requests)
SUB_STAT(relay_responses, relays, relays_stats, responses)
SUB_STAT(relay_refused, relays, relays_stats, refused)
SUB_STAT(relay_full, relays, relays_stats, full)
SUB_STAT(relay_rx, relays, relays_stats, rx)
SUB_STAT(relay_tx, relays, relays_stats, tx)
SUB_STAT(relay_forwarded, relays, relays_stats, forwarded)
SUB_STAT(relay_fwd_dropped, relays, relays_stats, fwd_dropped)
SUB_STAT(relay_no_path, relays, relays_stats, no_path)
SUB_STAT(dns_queries, dns, dnsresp_stats, queries)
SUB_STAT(dns_short, dns, dnsresp_stats, too_short)
SUB_STAT(dns_not_query, dns, dnsresp_stats, not_query)
SUB_STAT(dns_formerr, dns, dnsresp_stats, formerr)
SUB_STAT(dns_notimp, dns, dnsresp_stats, notimp)
UDP_STAT(rx_packets)
UDP_STAT(tx_packets)
UDP_STAT(tx_errors)
UDP_STAT(rx_msgs)
UDP_STAT(tx_msgs)
UDP_STAT(rx_oversize)
UDP_STAT(rx_truncated)
UDP_STAT(rx_bytes)
UDP_STAT(tx_bytes)

/* Refused by either role. */
static uint64_t
get_lh_refused(const struct node *n)
{
	return (n->lhs != NULL ? lhserver_stats(n->lhs)->refused : 0) +
	       (n->lhc != NULL ? lhclient_stats(n->lhc)->refused : 0);
}

static uint64_t
get_tunnels(const struct node *n)
{
	return hostmap_tunnels(n->hm);
}

static uint64_t
get_pending(const struct node *n)
{
	return hostmap_pending(n->hm);
}

static uint64_t
get_registered(const struct node *n)
{
	return n->lhs != NULL ? lhserver_registered(n->lhs) : 0;
}

static uint64_t
get_relays(const struct node *n)
{
	return n->relays != NULL ? relays_count(n->relays) : 0;
}

static uint64_t
get_conntrack(const struct node *n)
{
	return n->ct != NULL ? conntrack_count(n->ct) : 0;
}

static uint64_t
get_gro_joined(const struct node *n)
{
	return n->wk->gro.joined;
}

static uint64_t
get_queued_bytes(const struct node *n)
{
	return hostmap_held_bytes(n->hm);
}

#define T COUNTER_TOTAL
#define G COUNTER_GAUGE

static const struct counter_def table[] = {
    {"tunnels", "tunnels up", G, get_tunnels},
    {"pending", "handshakes this node started, not finished", G, get_pending},
    {"udpRx", "datagrams received", T, get_udp_rx_packets},
    {"udpTx", "datagrams sent", T, get_udp_tx_packets},
    {"udpTxErr", "datagrams the kernel would not send", T, get_udp_tx_errors},
    {"rxShort", "datagrams too short for a header (hole punches)", T,
        get_rx_short},
    {"rxOwnNet", "datagrams from an underlay address inside the overlay", T,
        get_rx_own_network},
    {"rxUnknownType", "messages of a type not handled", T, get_rx_unknown_type},
    {"rxUnknownIndex", "messages for a tunnel that does not exist", T,
        get_rx_unknown_index},
    {"rxReplay", "messages replayed or too old", T, get_rx_replay},
    {"rxAuthFail", "messages that failed to decrypt", T, get_rx_auth},
    {"rxBadInner", "decrypted data packets that are not IPv4", T,
        get_rx_bad_inner},
    {"hsBad", "handshake messages that could not be read", T, get_rx_hs_bad},
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
    {"fwInDrop", "inbound packets refused by the firewall", T, get_fw_in_drop},
    {"fwOutDrop", "outbound packets refused by the firewall", T,
        get_fw_out_drop},
    {"fwRejects", "answers sent for refused packets", T, get_fw_rejects},
    {"fwBadPacket", "packets too short for the firewall", T, get_fw_bad_packet},
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
    {"lhUnsolicited", "lighthouse answers about a peer not being reached", T,
        get_lh_unsolicited},
    {"txNoRoute", "packets outside the overlay with no unsafe route", T,
        get_tx_no_route},
    {"rxSpoofed", "inbound packets from an address not the peer's", T,
        get_rx_spoofed},
    {"lhReaddressed", "updates sent at once: our addresses changed", T,
        get_lh_readdressed},
    {"relays", "relay entries (ours, and those we forward)", G, get_relays},
    {"relayRequests", "relay requests received", T, get_relay_requests},
    {"relayResponses", "relay responses received", T, get_relay_responses},
    {"relayRefused", "relay requests and responses refused", T,
        get_relay_refused},
    {"relayFull", "relay entries not made: a bound", T, get_relay_full},
    {"relayRx", "relayed packets received for this node", T, get_relay_rx},
    {"relayTx", "packets this node sent through a relay", T, get_relay_tx},
    {"relayForwarded", "packets forwarded as a relay", T,
        get_relay_forwarded},
    {"relayFwdDropped", "packets not forwarded: no established relay", T,
        get_relay_fwd_dropped},
    {"relayNoPath", "packets to a relayed peer with no usable relay", T,
        get_relay_no_path},
    {"udpRxBytes", "bytes of the datagrams received", T, get_udp_rx_bytes},
    {"udpTxBytes", "bytes of the datagrams sent", T, get_udp_tx_bytes},
    {"hsQueueFull", "messages 1 dropped: handshakes.responder_queue full", T,
        get_hs_msg1_full},
    {"hsStale", "messages 1 dropped after waiting 2 s for the budget", T,
        get_hs_msg1_stale},
    {"hsBusy", "times a message 1 waited: handshakes.cpu_percent spent", T,
        get_hs_guard_busy},
    {"hsSourceLimited", "messages 1 dropped under load: per_source_rate", T,
        get_hs_source_limited},
    {"hsKnownFirst", "messages 1 under load from sources with a tunnel", T,
        get_hs_known_first},
    {"hsUnderLoad", "times the responder went into its under-load mode", T,
        get_hs_under_load},
    {"hsCertCached", "peer certificates found already verified", T,
        get_hs_verified_hits},
    {"rxRecvErrIgnored",
        "recvError messages ignored: no such tunnel, or not from its peer", T,
        get_rx_recv_error_ignored},
    {"hsStray", "handshake replies for no handshake in progress", T,
        get_rx_hs_stray},
    {"dnsQueries", "datagrams received by the DNS responder", T,
        get_dns_queries},
    {"dnsShort", "DNS datagrams shorter than a header, dropped", T,
        get_dns_short},
    {"dnsNotQuery", "DNS responses received, dropped", T, get_dns_not_query},
    {"dnsFormErr", "DNS queries answered FORMERR (malformed)", T,
        get_dns_formerr},
    {"dnsNotImp", "DNS queries answered NOTIMP (an opcode not served)", T,
        get_dns_notimp},
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

int
node_counter(const struct node *n, const char *name, uint64_t *out)
{
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].name, name) == 0) {
			*out = table[i].get(n);
			return 0;
		}
	return -1;
}
