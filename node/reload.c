/*
 * node/reload.c: SIGHUP, per subsystem (reload.h).  The scalar keys are
 * one table: each row names its key, its subsystem, where it lives in
 * struct node_cfg and whether it applies live; they are compared as the
 * configuration writes them.  The structured keys (the PKI, firewall
 * rules, static_host_map, lighthouse.hosts, allow lists, preferred
 * ranges, tun.routes and tun.unsafe_routes) apply live by their
 * subsystem's commit.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "conntrack.h"
#include "err.h"
#include "ipaddr.h"
#include "lhclient.h"
#include "log.h"
#include "nodeint.h"
#include "reload.h"
#include "routes.h"
#include "tunnel.h"

enum kind {
	K_BOOL,
	K_INT,
	K_I64,
	K_U16,
	K_U32,
	K_IP,
	K_NS,
	K_STR,
	K_CIPHER,
	K_SRE
};

struct key {
	const char *name;
	const char *owner; /* the subsystem that applies it */
	enum kind kind;
	size_t off, size;
	bool restart; /* only a restart changes it */
};

#define F(f) offsetof(struct node_cfg, f), sizeof(((struct node_cfg *)0)->f)

static const struct key keys[] = {
    {"listen.host", "worker", K_STR, F(listen_host), true},
    {"listen.port", "worker", K_U16, F(listen_port), true},
    {"listen.read_buffer", "worker", K_INT, F(read_buffer), true},
    {"listen.write_buffer", "worker", K_INT, F(write_buffer), true},
    {"listen.offload", "worker", K_BOOL, F(listen_offload), true},
    {"listen.busy_poll", "worker", K_NS, F(busy_poll_ns), false},
    {"listen.send_recv_error", "datapath", K_SRE, F(send_recv_error), false},
    {"cipher", "handshakes", K_CIPHER, F(cipher), true},
    {"tun.disabled", "worker", K_BOOL, F(tun_disabled), true},
    {"tun.dev", "worker", K_STR, F(tun_dev), true},
    {"tun.mtu", "worker", K_INT, F(tun_mtu), true},
    {"tun.tx_queue", "worker", K_INT, F(tx_queue), true},
    {"tun.offload", "worker", K_BOOL, F(tun_offload), true},
    {"tun.drop_local_broadcast", "datapath", K_BOOL, F(drop_local_broadcast),
        false},
    {"tun.drop_multicast", "datapath", K_BOOL, F(drop_multicast), false},
    {"handshakes.try_interval", "handshakes", K_NS, F(hs_try_interval), false},
    {"handshakes.retries", "handshakes", K_I64, F(hs_retries), false},
    {"handshakes.max_pending", "hostmap", K_I64, F(max_pending), false},
    {"handshakes.max_queued_bytes", "hostmap", K_I64, F(max_queued_bytes),
        false},
    {"timers.connection_alive_interval", "connmgr", K_I64, F(alive_interval),
        false},
    {"timers.pending_deletion_interval", "connmgr", K_I64, F(deletion_interval),
        false},
    {"firewall.conntrack.max_per_tunnel", "firewall", K_I64,
        F(ct_max_per_tunnel), false},
    {"pki.disconnect_invalid", "tunnels", K_BOOL, F(disconnect_invalid), false},
    {"lighthouse.interval", "lhclient", K_I64, F(lh_interval), false},
    {"lighthouse.serve_dns", "dnsresp", K_BOOL, F(serve_dns), true},
    {"lighthouse.dns.host", "dnsresp", K_STR, F(dns_host), true},
    {"lighthouse.dns.port", "dnsresp", K_U16, F(dns_port), true},
    {"punchy.punch", "punch", K_BOOL, F(punch), true},
    {"punchy.respond", "punch", K_BOOL, F(punch_respond), false},
    {"punchy.delay", "punch", K_NS, F(punch_delay), false},
    {"relay.am_relay", "relay", K_BOOL, F(am_relay), false},
    {"relay.use_relays", "handshakes", K_BOOL, F(use_relays), true},
    /* the exit's socket mark and rules are set at start */
    {"exit.via", "exit", K_IP, F(exit_via), true},
    {"exit.table", "exit", K_U32, F(exit_table), true},
    {"exit.fwmark", "exit", K_U32, F(exit_fwmark), true},
    {"exit.priority", "exit", K_U32, F(exit_priority), true},
    {"exit.serve", "exit", K_BOOL, F(exit_serve), true},
    {"exit.masquerade", "exit", K_BOOL, F(exit_masquerade), true},
};

/* A key's value as its configuration writes it. */
static void
format(const struct key *k, const struct node_cfg *c, char *buf, size_t len)
{
	const void *p = (const char *)c + k->off;
	int64_t v;

	switch (k->kind) {
	case K_BOOL:
		snprintf(buf, len, "%s", *(const bool *)p ? "true" : "false");
		return;
	case K_INT:
		snprintf(buf, len, "%d", *(const int *)p);
		return;
	case K_U16:
		snprintf(buf, len, "%u", (unsigned)*(const uint16_t *)p);
		return;
	case K_I64:
		snprintf(buf, len, "%" PRId64, *(const int64_t *)p);
		return;
	case K_U32:
		snprintf(buf, len, "%" PRIu32, *(const uint32_t *)p);
		return;
	case K_IP:
		if (*(const uint32_t *)p == 0)
			snprintf(buf, len, "\"\"");
		else if (len >= IP4_STRLEN)
			ip4_format(*(const uint32_t *)p, buf);
		return;
	case K_NS:
		v = *(const int64_t *)p;
		if (v % 1000000 == 0)
			snprintf(buf, len, "%" PRId64 "ms", v / 1000000);
		else
			snprintf(buf, len, "%" PRId64 "us", v / 1000);
		return;
	case K_STR:
		snprintf(buf, len, "%s",
		    *(const char *)p != '\0' ? (const char *)p : "\"\"");
		return;
	case K_CIPHER:
		snprintf(buf, len, "%s",
		    *(const enum crypto_cipher *)p == CRYPTO_AES256GCM
		        ? "aes"
		        : "chachapoly");
		return;
	case K_SRE: {
		enum send_recv_error s = *(const enum send_recv_error *)p;

		snprintf(buf, len, "%s",
		    s == SRE_ALWAYS  ? "always"
		    : s == SRE_NEVER ? "never"
		                     : "private");
		return;
	}
	}
}

static bool
differs(const struct key *k, const struct node_cfg *a, const struct node_cfg *b)
{
	const char *pa = (const char *)a + k->off,
	           *pb = (const char *)b + k->off;

	if (k->kind == K_STR)
		return strncmp(pa, pb, k->size) != 0;
	return memcmp(pa, pb, k->size) != 0;
}

static void
kept(size_t *n, const char *key, const char *was, const char *now)
{
	log_warnx("%s changed from %s to %s: needs a restart, keeping %s", key,
	    was, now, was);
	(*n)++;
}

/* The keys compared by value: restart-only ones kept (counted in *nk),
 * live ones said (counted in *nc). */
static void
compare(struct node_cfg *old, struct node_cfg *neu, size_t *nk, size_t *nc)
{
	char a[512], b[512];
	const struct key *k;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		k = &keys[i];
		if (!differs(k, old, neu))
			continue;
		format(k, old, a, sizeof(a));
		format(k, neu, b, sizeof(b));
		if (k->restart) {
			kept(nk, k->name, a, b);
			memcpy((char *)neu + k->off, (char *)old + k->off,
			    k->size);
		} else if (nc != NULL) {
			log_info("%s changed from %s to %s (%s)", k->name, a, b,
			    k->owner);
			(*nc)++;
		}
	}
}

size_t
reload_keep_restart_only(struct node_cfg *old, struct node_cfg *neu)
{
	size_t n = 0;

	compare(old, neu, &n, NULL);
	return n;
}

int
reload_prepare(struct node_cfg *old, struct node_cfg *neu,
    struct reload_plan *plan, char *err, size_t errlen)
{
	memset(plan, 0, sizeof(*plan));
	/* pki: the overlay address is the node's identity in the mesh */
	if (neu->vpn_ip != old->vpn_ip) {
		snprintf(err, errlen, "IP in new cert was different from old");
		return VPN_ERR_INVAL;
	}
	/* the lighthouse role decides which subsystems exist */
	if (neu->am_lighthouse != old->am_lighthouse) {
		snprintf(err, errlen,
		    "lighthouse.am_lighthouse can only change "
		    "with a restart");
		return VPN_ERR_INVAL;
	}
	compare(old, neu, &plan->kept, &plan->changed);
	/* exit.via kept off: its routes would have nobody to go to */
	if (neu->exit_via == 0)
		neu->nexit_routes = 0;
	return 0;
}

void
reload_commit(struct node *n, struct node_cfg *neu)
{
	node_cfg_free(n->cfg);
	n->cfg = neu;
	/* logging */
	log_setup(NULL, neu->log_level, neu->log_format);
	/* firewall: each tunnel's peer resolved against the new table (the
	 * table's higher version re-checks tracked flows on their next
	 * packet), and the conntrack share */
	conntrack_set_owner_max(n->ct, (size_t)neu->ct_max_per_tunnel);
	tunnels_refresh_fw(n);
	/* lighthouse client: the registration timer, an update at once */
	lhclient_reload(n);
	/* routes: tun.routes and tun.unsafe_routes, in the table and in the
	 * kernel */
	routes_apply(n->rt, neu);
	/* handshakes, hostmap bounds, connmgr, punch, datapath: read the
	 * configuration when they run */
	/* pki: peers that no longer verify (pki.disconnect_invalid) */
	tunnels_recheck(n);
}
