/*
 * lib/ippkt.h: the firewall's view of a plaintext IPv4 packet
 * (firewall.md 1), and the REJECT replies written back into our TUN.
 *
 * Pure functions on caller-owned buffers: no allocation, no clock, no
 * logging.  Addresses are uint32 in the big-endian reading of the dotted
 * quad (10.0.0.1 is 0x0a000001), as in ipaddr.h.
 */
#ifndef VPN_IPPKT_H
#define VPN_IPPKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPPKT_PROTO_ICMP 1
#define IPPKT_PROTO_TCP 6
#define IPPKT_PROTO_UDP 17

/* Large enough for any reply of ippkt_reject (20 + 8 + 60 + 8). */
#define IPPKT_REJECT_MAX 96

/*
 * The 5-tuple plus fragment flag, oriented from this node's point of
 * view: for an outbound packet (TUN -> tunnel) local is the IPv4 source,
 * for an inbound one (tunnel -> TUN) the destination.  Ports are 0 for
 * ICMP and for non-first fragments.  Conntrack keys on every field.
 */
struct fw_packet {
	uint32_t local_ip, remote_ip;
	uint16_t local_port, remote_port;
	uint8_t proto;
	bool fragment; /* fragment offset != 0: second and later fragments */
};

/*
 * Nebula's newPacket.  0 with *out filled; VPN_ERR_TRUNCATED when the
 * packet is shorter than 20 bytes, than its IHL*4 header, or (unless it
 * is ICMP or a non-first fragment) than the header plus 4 bytes of ports;
 * VPN_ERR_INVAL for a version nibble other than 4 or IHL*4 < 20.  The
 * IPv4 total-length field and the header checksum are not looked at.  On
 * error *out is unspecified.
 */
int ippkt_parse(
    const uint8_t *pkt, size_t len, bool incoming, struct fw_packet *out);

/*
 * The reply that REJECT writes instead of forwarding PKT, addressed from
 * PKT's destination to PKT's source (so, written into our TUN, it looks
 * as if it came from the peer).  Returns its length, or 0 when no reply
 * is due or it does not fit in CAP (IPPKT_REJECT_MAX always does):
 *
 *  - TCP without RST: a bare RST as RFC 793 3.4 "Reset Generation" says:
 *    if PKT has ACK set, seq = PKT's ack and only RST is set; otherwise
 *    seq = 0, ack = PKT's seq + its segment length (payload, plus 1 for
 *    SYN and 1 for FIN) and RST|ACK.  Ports swapped, window 0.
 *  - UDP: ICMP destination unreachable, code 3 (port unreachable), what
 *    a host without a listener answers, so clients fail at once.
 *  - anything else (ICMP queries, GRE, ...): ICMP destination
 *    unreachable, code 13 (communication administratively prohibited).
 *    An ICMP error carries PKT's IP header (options included) and the
 *    first 8 bytes after it (RFC 792).
 *
 * No reply (RFC 1122 3.2.2, RFC 1812 4.3.2.7): malformed or truncated
 * IPv4 (including a TCP segment without its 20-byte header), non-first
 * fragments, TCP RSTs, ICMP error messages (types 3, 4, 5, 11, 12) and
 * ICMP without a type byte, a source of 0.0.0.0, and a source or
 * destination that is limited broadcast or multicast (224.0.0.0/4).  The
 * reply is 20-byte IPv4 (TTL 64, id 0, DF clear) with valid IP and
 * TCP/ICMP checksums.  PKT's length is its total-length field when that
 * lies between the header length and LEN, else LEN.
 */
size_t ippkt_reject(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap);

/* The Internet checksum (RFC 1071) of p[0..len), folded and inverted,
 * continuing from a partial 32-bit sum (0 to start). */
uint16_t ippkt_cksum(const uint8_t *p, size_t len, uint32_t sum);

#endif
