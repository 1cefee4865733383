/*
 * node/reload.h: SIGHUP, per subsystem, prepare then commit.
 *
 * A new configuration is loaded beside the running one.  Prepare: each
 * subsystem looks at its part: what it cannot take at all refuses the
 * whole reload (a new overlay IP, a change of lighthouse role) and
 * nothing changes; a key that only a restart can change keeps its running
 * value in the new configuration, logged by name with both values
 * ("listen.port changed from 4242 to 4343: needs a restart, keeping
 * 4242"); a key that applies live is logged with both values.  Commit:
 * the new configuration replaces the old, and each subsystem applies its
 * part (the socket's buffers, logging, firewall and conntrack share,
 * lighthouse registration, routes and the device's queue length, the DNS
 * responder, the punchy timer, peers that no longer verify).  Nothing is
 * copied back silently.
 *
 * Owns: the table of keys and which subsystem each belongs to.
 */
#ifndef NODE_RELOAD_H
#define NODE_RELOAD_H

#include <stdbool.h>
#include <stddef.h>

struct node;
struct node_cfg;

struct reload_plan {
	size_t kept;    /* keys kept until a restart */
	size_t changed; /* keys applied live (of those compared by value) */
};

/* 0, or VPN_ERR_INVAL with the reason in err (nothing is changed). */
int reload_prepare(struct node_cfg *old, struct node_cfg *neu,
    struct reload_plan *plan, char *err, size_t errlen);
/* Make neu the running configuration (the node owns it; the old one is
 * freed) and apply it, subsystem by subsystem. */
void reload_commit(struct node *n, struct node_cfg *neu);

/* Prepare's restart-only part alone: keep in neu, and log, every
 * restart-only setting that differs from old.  Returns how many keys
 * were kept. */
size_t reload_keep_restart_only(struct node_cfg *old, struct node_cfg *neu);

/* Name to fn every key whose change from old to neu only a restart
 * applies: the restart-only keys of the table, and what reload_prepare
 * refuses (a certificate with another overlay IP, as "pki.cert";
 * lighthouse.am_lighthouse).  Returns how many. */
size_t reload_restart_keys(const struct node_cfg *old,
    const struct node_cfg *neu, void (*fn)(const char *key, void *arg),
    void *arg);

/* The table of keys compared by value, read-only: the name of key i
 * ("listen.port") with *restart set when only a restart changes it, or
 * NULL past the last. */
const char *reload_key(size_t i, bool *restart);

#endif
