/*
 * node/hostmap.h: the host map, sole owner of the indexes of tunnels
 * and of pending handshakes (Nebula's HostMap): tunnels by our index, by
 * the peer's index (for recvError) and by VPN IP; pending handshakes by
 * our index and by VPN IP; the allocation of fresh indexes; and the
 * bounds on what an outsider can make us hold: the count of pending
 * handshakes and the bytes queued behind them.
 *
 * Owns: the maps and the totals.  Does not own the objects: a tunnel is
 * freed by tunnel.c, a pending handshake by handshake.c, each after
 * removing it here.  Calls nothing in node/.
 */
#ifndef NODE_HOSTMAP_H
#define NODE_HOSTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hostmap;
struct tunnel;
struct pending;

struct hostmap *hostmap_new(void);
void hostmap_free(struct hostmap *hm); /* the maps; NULL-safe */

/* A random index used by no tunnel and no pending handshake: 0,
 * VPN_ERR_CRYPTO or VPN_ERR_RANGE (32 draws all taken). */
int hostmap_new_index(const struct hostmap *hm, uint32_t *out);

struct tunnel *hostmap_by_index(const struct hostmap *hm, uint32_t index);
struct tunnel *hostmap_by_ip(const struct hostmap *hm, uint32_t vpn_ip);
struct tunnel *hostmap_by_remote(const struct hostmap *hm, uint32_t index);
size_t hostmap_tunnels(const struct hostmap *hm);
/* Iterate over the tunnels; *it starts at 0.  Do not add or remove
 * while iterating (collect first). */
bool hostmap_next(const struct hostmap *hm, size_t *it, struct tunnel **t);

/* Make t the tunnel for t->vpn_ip.  *old: the tunnel it replaces, now
 * in no index, for the caller to free; or NULL.  0 or VPN_ERR_NOMEM (no
 * change). */
int hostmap_install(struct hostmap *hm, struct tunnel *t, struct tunnel **old);
void hostmap_remove(struct hostmap *hm, struct tunnel *t);

/* Pending handshakes, by the index we chose and by the peer's VPN IP. */
struct pending *hostmap_pending_by_ip(
    const struct hostmap *hm, uint32_t vpn_ip);
struct pending *hostmap_pending_by_index(
    const struct hostmap *hm, uint32_t index);
size_t hostmap_pending(const struct hostmap *hm);
bool hostmap_pending_next(
    const struct hostmap *hm, size_t *it, struct pending **p);
int hostmap_pending_add(
    struct hostmap *hm, struct pending *p, uint32_t index, uint32_t vpn_ip);
/* Release p's index (it stays findable by VPN IP until removed). */
void hostmap_pending_unindex(struct hostmap *hm, uint32_t index);
void hostmap_pending_remove(
    struct hostmap *hm, struct pending *p, uint32_t index, uint32_t vpn_ip);

/* Bytes of packets queued behind pending handshakes, within a bound
 * (handshakes.max_queued_bytes): reserve says whether len more fit
 * under max, and takes them if so. */
bool hostmap_reserve(struct hostmap *hm, size_t len, size_t max);
void hostmap_release(struct hostmap *hm, size_t len);
size_t hostmap_held_bytes(const struct hostmap *hm);

#endif
