/*
 * lib/dns.h: the lighthouse's DNS responder (config.md 2.3) as a pure
 * codec: a zone and a function from a query datagram to a response
 * datagram.  No sockets, no clock, no logging; dns_answer() does not
 * allocate.
 *
 * It answers as Nebula 1.6.1 does (dns_server.go on miekg/dns v1.1.48):
 *  - "A <name>." where <name> is a certificate name given to
 *    dns_zone_add(): one A record, class IN, TTL 3600, with the host's
 *    VPN IPv4 address.  The query name is compared, byte for byte (so
 *    case-sensitively), in miekg's presentation form: labels joined by
 *    '.', with . space ' @ ; ( ) " and \ escaped by a backslash and bytes
 *    outside 0x20-0x7e written \DDD.  So a certificate name with a dot
 *    in it answers the multi-label query; one with a space never matches.
 *  - "TXT <vpn ip>." where the name (presentation form, minus the final
 *    dot) is an address as Go's net.ParseIP reads it; IPv6 forms select
 *    the host by their last 4 bytes, as Nebula's Ip2VpnIp does.  Only
 *    when the caller says the client may have it (txt_allowed: the
 *    source address is inside the overlay network or is 127.0.0.1).
 *  - anything else (unknown name, other types, class ignored): NOERROR
 *    with no answer; never NXDOMAIN.
 * The response echoes the ID and the question (name bytes, qtype and
 * qclass as received), sets QR, copies the opcode and, for QUERY, RD and
 * CD; AA, RA, AD, Z and rcode are 0.  Names are never compressed.
 */
#ifndef VPN_DNS_H
#define VPN_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_TTL 3600      /* miekg's default TTL for dns.NewRR */
#define DNS_HDR_LEN 12    /* the header; a shorter datagram gets no answer */
#define DNS_RCODE_FORMERR 1
#define DNS_RCODE_NOTIMP 4
#define DNS_QUERY_MAX 512 /* miekg reads UDP queries into 512 bytes */
#define DNS_UDP_MIN 512   /* response limit without EDNS */
/* Longest certificate name that can ever match: a 255-octet name of
 * four labels (63+63+63+61 bytes), every byte written \DDD, three dots. */
#define DNS_NAME_MAX 1003

struct dns_zone; /* opaque */

/* An empty zone, or NULL when out of memory.  Free with dns_zone_free. */
struct dns_zone *dns_zone_new(void);
void dns_zone_free(struct dns_zone *z); /* NULL-safe */

/*
 * Map the certificate name name[0..namelen) (as in the certificate,
 * without Nebula's appended '.') to vpn_ip, replacing any earlier
 * mapping of that name.  Nebula never removes names.  0, or
 * VPN_ERR_NOMEM.  A name longer than DNS_NAME_MAX can never match a
 * query and is not stored (0).
 */
int dns_zone_add(
    struct dns_zone *z, const char *name, size_t namelen, uint32_t vpn_ip);

/*
 * Set the TXT answer for vpn_ip: txt[0..len) is the text Nebula puts
 * after "TXT" in dns.NewRR, i.e. its Sprintf of the certificate
 * ("\"Name: %s\" \"Ips: %s\" ..." with Go's %s of each field).  It is
 * read as miekg's zone-file parser reads TXT rdata: quoted strings and
 * unquoted words, backslash escapes (\X, \DDD), words over 255 bytes cut
 * into 255-byte pieces, ';' starting a comment, '(' ')' grouping, the
 * first newline outside quotes and parentheses ending the record, and
 * RFC 3597's "\# <length> <hex>" form.
 * len == 0 (or txt == NULL) removes the record: the host has no
 * certificate to show (Nebula: not in the host map).
 * 0; VPN_ERR_INVAL when dns.NewRR would fail on the text (unbalanced
 * quote or parenthesis, a token over 2047 bytes, bad RFC 3597 data): the
 * old record is removed and, as in Nebula, the name gets no TXT answer;
 * VPN_ERR_RANGE when the rdata would exceed 65535 bytes (also removed);
 * VPN_ERR_NOMEM.
 */
int dns_zone_set_txt(
    struct dns_zone *z, uint32_t vpn_ip, const char *txt, size_t len);

/*
 * Answer the query datagram q[0..qlen); the response goes to out[0..cap).
 * txt_allowed: the client may get TXT answers.  Returns the response
 * length, or 0 when nothing is to be sent.  Never reads outside q, never
 * writes outside out, does not allocate.
 *
 * Only the first DNS_QUERY_MAX bytes of q are read (Nebula's listener
 * truncates longer datagrams the same way).  Then, as miekg's server:
 *  - shorter than the 12-byte header, or QR set: nothing (0);
 *  - opcode other than QUERY and NOTIFY: NOTIMP, no sections;
 *  - QDCOUNT != 1, ANCOUNT > 1, NSCOUNT > 1 or ARCOUNT > 2: FORMERR, no
 *    sections;
 *  - a malformed message: FORMERR, with the question if it parsed.
 *    Names: labels of at most 63 bytes, 255 octets in all, compression
 *    pointers anywhere in the datagram but at most 126 per name (which
 *    also ends loops), label types 0x40 and 0x80 refused.  Records in
 *    the other sections must fit their RDLENGTH; A, AAAA and OPT rdata
 *    are checked as miekg checks them (other types' rdata is not);
 *    a question or records cut short at the very end of the datagram
 *    are accepted as miekg accepts them (missing qtype/qclass read 0);
 *  - NOTIFY: NOERROR, question echoed, no answer.
 * In these replies TC, RD, RA, AD and CD are copied from the query, AA
 * and Z cleared, opcode QUERY (NOTIMP: the query's).
 *
 * EDNS: an OPT record in the query is validated but not echoed (Nebula's
 * reply never carries one).  Its UDP payload size (at least 512) only
 * raises the size limit below.
 *
 * Size (not in Nebula, which sends any size): when the answer does not
 * fit in 512 bytes (without EDNS), in the client's EDNS size, or in cap,
 * it is left out and TC is set.  0 when even header and question do not
 * fit in cap.
 *
 * Known difference: miekg also checks the rdata of every record type it
 * knows (a CNAME whose name overruns RDLENGTH, say) and answers FORMERR;
 * here only A, AAAA and OPT rdata are checked, so such a query is
 * answered.  Clients do not send records other than OPT.
 */
size_t dns_answer(const struct dns_zone *z, const uint8_t *q, size_t qlen,
    bool txt_allowed, uint8_t *out, size_t cap);

#endif
