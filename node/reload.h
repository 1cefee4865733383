/*
 * node/reload.h: what a reload (SIGHUP) may not change.  The running
 * node keeps its listen socket, cipher, TUN device and a few more until
 * it restarts; a new configuration that changes one of them is still
 * applied for the rest, and each such key is logged by name with both
 * values and the one kept, never copied back silently.
 *
 * Owns nothing; reads the running configuration, writes the new one.
 */
#ifndef NODE_RELOAD_H
#define NODE_RELOAD_H

#include <stddef.h>

struct node_cfg;

/* Keep in neu, and log, every restart-only setting that differs from
 * old; the tun.routes arrays are swapped (old gets neu's, to be freed
 * with it).  Returns how many keys were kept. */
size_t reload_keep_restart_only(struct node_cfg *old, struct node_cfg *neu);

#endif
