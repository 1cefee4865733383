/*
 * node/routes.h: where packets for networks outside the overlay go
 * (tun.unsafe_routes: by longest prefix, to the peer named by `via`),
 * and the routes through the TUN device that the kernel holds for
 * tun.routes and tun.unsafe_routes, with their MTUs and metrics.
 *
 * Owns: the lookup table (sorted longest prefix first; the data path
 * reads it per packet to a destination outside the overlay), and the
 * list of kernel routes it installed, so that a reload changes only what
 * changed (routes removed, added, or given a new MTU or metric), and the
 * device MTU (the largest of tun.mtu and the routes' MTUs; the overlay's
 * own route keeps tun.mtu), and its transmit queue length after start
 * (tun.tx_queue, set live on reload).  Calls lib/tun only.
 */
#ifndef NODE_ROUTES_H
#define NODE_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node_cfg;
struct tun;
struct routes;

/* The lookup table of cfg; kernel routes are installed through tun when
 * it is not NULL (a device the node made itself).  0, VPN_ERR_NOMEM or
 * VPN_ERR_SYS (a route the kernel refused; logged). */
int routes_new(const struct node_cfg *cfg, struct tun *tun,
    struct routes **out);
void routes_free(struct routes *r); /* NULL-safe; leaves kernel routes */

/* The peer (overlay IP) that dst is routed through, or 0. */
uint32_t routes_via(const struct routes *r, uint32_t dst);

/* A reload: the new configuration's table replaces the old, and the
 * kernel's routes follow (what is gone removed, what is new added), and
 * the device's queue length.  What the kernel refuses is logged and left
 * as it was. */
void routes_apply(struct routes *r, const struct node_cfg *cfg);

size_t routes_count(const struct routes *r); /* unsafe routes */

#endif
