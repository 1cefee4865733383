/*
 * lib/allowlist.h: Nebula 1.6.1's allow lists (config.md 3):
 * lighthouse.remote_allow_list, each inner map of
 * lighthouse.remote_allow_ranges, and lighthouse.local_allow_list with
 * its `interfaces' part.
 *
 * A list is a map CIDR -> bool.  An address is decided by the most
 * specific (longest) prefix containing it; IPv4 and IPv6 are separate.
 * For each family without a 0.0.0.0/0 (::/0) rule, one is added whose
 * value is the opposite of that family's rules, which must then all be
 * equal ("contains both true and false rules, but no default set for
 * 0.0.0.0/0"); a family without rules gets "allow".  Two keys naming
 * the same network: the later one wins (Nebula: whichever its random map
 * order visits last).
 *
 * Nebula's quirks are kept: an IPv6 CIDR of an IPv4-mapped network
 * (::ffff:a.b.c.d/96 and longer) is counted as an IPv6 rule but decides
 * exactly a.b.c.d (as if a.b.c.d/32); an IPv4 address given as 16
 * IPv4-mapped bytes is looked up among the IPv4 rules by
 * allowlist_allow() but among the IPv6 rules by allowlist_allow6(), as
 * Nebula's Allow(net.IP) and AllowIpV6(hi, lo) do.
 *
 * Values must be YAML booleans (true/false, yes/no, on/off, ...);
 * lib/config cannot tell a quoted "true" from true, so that string is
 * accepted too, where Nebula refuses it.
 *
 * `interfaces' (local lists only): a map regular expression -> bool,
 * all values equal; a name must match the whole expression ("^" RE "$",
 * as Nebula builds it); the first matching rule decides, no match gives
 * the opposite value, no rules allow everything.  Go's RE2 syntax is
 * approximated by POSIX extended expressions (\d and \D are rewritten,
 * \w \s \b and their negations are GNU extensions); what cannot be
 * carried over ((?flags), \pN, \Q, \x.., \1, \A, \z and escapes
 * inside [] other than \d \s \w and punctuation) is refused with an
 * error rather than matched differently.
 *
 * A NULL list (absent from the configuration) allows everything.
 * Lookups do not allocate.
 */
#ifndef VPN_ALLOWLIST_H
#define VPN_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config_node;
struct config_err;
struct allowlist;   /* opaque, immutable */
struct allowranges; /* opaque, immutable */

/*
 * Build the list at MAP, whose key path is KEYPATH (for messages).
 * LOCAL: accept the `interfaces' key (local_allow_list).  MAP NULL or
 * YAML null: *out = NULL (allow everything), 0.  Else 0 and *out is the
 * caller's (allowlist_free), or VPN_ERR_INVAL with *err filled (Nebula's
 * text, e.g. "config `K` has invalid CIDR: X"), or VPN_ERR_NOMEM.
 */
int allowlist_build(const struct config_node *map, const char *keypath,
    bool local, struct allowlist **out, struct config_err *err);
void allowlist_free(struct allowlist *al); /* NULL-safe */

/* IP is 16 bytes; IPv4 as ::ffff:a.b.c.d (Nebula's Allow(net.IP)). */
bool allowlist_allow(const struct allowlist *al, const uint8_t ip[16]);
/* IPv4 rules only (AllowIpV4); ip as 0x0a000001 for 10.0.0.1. */
bool allowlist_allow4(const struct allowlist *al, uint32_t ip);
/* IPv6 rules only, even for ::ffff:a.b.c.d (AllowIpV6). */
bool allowlist_allow6(const struct allowlist *al, const uint8_t ip[16]);
/* The `interfaces' rules; true for lists without them. */
bool allowlist_allow_name(const struct allowlist *al, const char *ifname);

/* Rules and name rules held (tests, diagnostics). */
size_t allowlist_nrules(const struct allowlist *al);

/*
 * lighthouse.remote_allow_ranges: a map VPN CIDR -> allow list.  Same
 * conventions as allowlist_build; inner lists are named "K.CIDR" in
 * messages.  IPv6 keys are accepted and never match (VPN IPs are IPv4).
 */
int allowranges_build(const struct config_node *map, const char *keypath,
    struct allowranges **out, struct config_err *err);
void allowranges_free(struct allowranges *ar); /* NULL-safe */
/* The list of the most specific range containing vpn_ip, or NULL. */
const struct allowlist *allowranges_find(
    const struct allowranges *ar, uint32_t vpn_ip);

/*
 * Nebula's RemoteAllowList: an underlay address ip is allowed for the
 * peer vpn_ip iff the list of its most specific remote_allow_ranges entry
 * (if any) and remote_allow_list (GLOBAL) both allow it.  Either may be
 * NULL.  The 4/6 variants are AllowIpV4/AllowIpV6 as above.
 */
bool allowlist_remote_allow(const struct allowlist *global,
    const struct allowranges *ar, uint32_t vpn_ip, const uint8_t ip[16]);
bool allowlist_remote_allow4(const struct allowlist *global,
    const struct allowranges *ar, uint32_t vpn_ip, uint32_t ip);
bool allowlist_remote_allow6(const struct allowlist *global,
    const struct allowranges *ar, uint32_t vpn_ip, const uint8_t ip[16]);

#endif
