/*
 * node/reload.c: SIGHUP, per subsystem (reload.h).  The scalar keys are
 * one table: each row names its key, its subsystem, where it lives in
 * struct node_cfg and whether it applies live; they are compared as the
 * configuration writes them.  The structured keys (the PKI, firewall
 * rules, static_host_map, lighthouse.hosts, allow lists, preferred
 * ranges, tun.routes, tun.unsafe_routes, sshd.authorized_users and the
 * contents of sshd.host_key) apply live by their subsystem's commit.
 * cairn.yml(5), under Reloading, has a row for each key of the table with
 * the same word, live or restart (test_reload checks).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "conntrack.h"
#include "dnsresp.h"
#include "err.h"
#include "io.h"
#include "ipaddr.h"
#include "lhclient.h"
#include "log.h"
#include "nodeint.h"
#include "punch.h"
#include "reload.h"
#include "routes.h"
#include "sshd.h"
#include "tunnel.h"
#include "worker.h"

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
	K_SRE,
	K_STATS
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
    {"listen.read_buffer", "worker", K_INT, F(read_buffer), false},
    {"listen.write_buffer", "worker", K_INT, F(write_buffer), false},
    {"listen.offload", "worker", K_BOOL, F(listen_offload), true},
    {"listen.busy_poll", "worker", K_NS, F(busy_poll_ns), false},
    {"listen.send_recv_error", "datapath", K_SRE, F(send_recv_error), false},
    {"cipher", "handshakes", K_CIPHER, F(cipher), true},
    {"tun.disabled", "worker", K_BOOL, F(tun_disabled), true},
    {"tun.dev", "worker", K_STR, F(tun_dev), true},
    {"tun.mtu", "worker", K_INT, F(tun_mtu), true},
    {"tun.tx_queue", "routes", K_INT, F(tx_queue), false},
    {"tun.offload", "worker", K_BOOL, F(tun_offload), true},
    {"tun.drop_local_broadcast", "datapath", K_BOOL, F(drop_local_broadcast),
        false},
    {"tun.drop_multicast", "datapath", K_BOOL, F(drop_multicast), false},
    {"handshakes.try_interval", "handshakes", K_NS, F(hs_try_interval), false},
    {"handshakes.retries", "handshakes", K_I64, F(hs_retries), false},
    {"handshakes.max_pending", "hostmap", K_I64, F(max_pending), false},
    {"handshakes.max_queued_bytes", "hostmap", K_I64, F(max_queued_bytes),
        false},
    {"handshakes.cpu_percent", "handshakes", K_I64, F(hs_cpu_percent), false},
    {"handshakes.per_source_rate", "handshakes", K_I64, F(hs_source_rate),
        false},
    {"handshakes.responder_queue", "handshakes", K_I64,
        F(hs_responder_queue), false},
    {"timers.connection_alive_interval", "connmgr", K_I64, F(alive_interval),
        false},
    {"timers.pending_deletion_interval", "connmgr", K_I64, F(deletion_interval),
        false},
    {"firewall.conntrack.max_per_tunnel", "firewall", K_I64,
        F(ct_max_per_tunnel), false},
    {"pki.disconnect_invalid", "tunnels", K_BOOL, F(disconnect_invalid), false},
    {"pki.expiry_warning", "node", K_NS, F(expiry_warning), false},
    {"lighthouse.interval", "lhclient", K_I64, F(lh_interval), false},
    {"lighthouse.serve_dns", "dnsresp", K_BOOL, F(serve_dns), false},
    {"lighthouse.dns.host", "dnsresp", K_STR, F(dns_host), false},
    {"lighthouse.dns.port", "dnsresp", K_U16, F(dns_port), false},
    {"punchy.punch", "punch", K_BOOL, F(punch), false},
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
    /* the user is changed once, after start-up */
    {"process.user", "privs", K_STR, F(run_user), true},
    {"process.group", "privs", K_STR, F(run_group), true},
    {"logging.disable_timestamp", "log", K_BOOL, F(log_no_time), false},
    {"logging.timestamp_format", "log", K_STR, F(log_time_format), false},
    /* the exporter is set up at start, as in Nebula */
    {"stats.type", "stats", K_STATS, F(stats.type), true},
    {"stats.interval", "stats", K_NS, F(stats.interval), true},
    {"stats.listen", "stats", K_STR, F(stats.listen), true},
    {"stats.path", "stats", K_STR, F(stats.path), true},
    {"stats.namespace", "stats", K_STR, F(stats.ns), true},
    {"stats.subsystem", "stats", K_STR, F(stats.sub), true},
    {"stats.prefix", "stats", K_STR, F(stats.prefix), true},
    {"stats.protocol", "stats", K_STR, F(stats.protocol), true},
    {"stats.host", "stats", K_STR, F(stats.host), true},
    {"stats.message_metrics", "stats", K_BOOL, F(stats.message_metrics), true},
    {"stats.lighthouse_metrics", "stats", K_BOOL, F(stats.lighthouse_metrics),
        true},
    /* the control socket is made at start, before privileges go */
    {"control.enabled", "ctl", K_BOOL, F(ctl_enabled), true},
    {"control.listen", "ctl", K_STR, F(ctl_path), true},
    {"control.group", "ctl", K_STR, F(ctl_group), true},
    /* the helper is restarted with the new settings (sshd.h) */
    {"sshd.enabled", "sshd", K_BOOL, F(sshd.enabled), false},
    {"sshd.listen", "sshd", K_STR, F(sshd.listen), false},
    {"sshd.host_key", "sshd", K_STR, F(sshd.host_key), false},
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
	case K_STATS: {
		enum stats_type t = *(const enum stats_type *)p;

		snprintf(buf, len, "%s",
		    t == STATS_GRAPHITE     ? "graphite"
		    : t == STATS_PROMETHEUS ? "prometheus"
		                            : "none");
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

/* A setting that changed: live (owner), or kept until a restart. */
static void
said(const char *key, const char *was, const char *now, const char *owner)
{
	struct log_ev ev;

	if (!log_ev_begin(&ev, owner != NULL ? LOG_LVL_INFO : LOG_LVL_WARN,
	        "%s",
	        owner != NULL ? "Setting changed"
	                      : "Setting needs a restart, keeping the "
	                        "running value"))
		return;
	log_ev_str(&ev, "key", key);
	log_ev_str(&ev, "old", was);
	log_ev_str(&ev, "new", now);
	if (owner != NULL)
		log_ev_str(&ev, "owner", owner);
	log_ev_end(&ev);
}

static void
kept(size_t *n, const char *key, const char *was, const char *now)
{
	said(key, was, now, NULL);
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
			said(k->name, a, b, k->owner);
			(*nc)++;
		}
	}
}

const char *
reload_key(size_t i, bool *restart)
{
	if (i >= sizeof(keys) / sizeof(keys[0]))
		return NULL;
	*restart = keys[i].restart;
	return keys[i].name;
}

/* listen.read_buffer and write_buffer, those that changed, on the
 * running socket (as at start: over net.core.[rw]mem_max with
 * CAP_NET_ADMIN). */
static void
set_buffers(
    struct node *n, const struct node_cfg *old, const struct node_cfg *neu)
{
	int rb = -1, wb = -1; /* -1: unchanged */
	char err[256];

	if (neu->read_buffer != old->read_buffer)
		rb = neu->read_buffer;
	if (neu->write_buffer != old->write_buffer)
		wb = neu->write_buffer;
	if ((rb >= 0 || wb >= 0) &&
	    io_udp_set_buffers(n->wk->udp, rb, wb, err, sizeof(err)) != 0)
		log_msg(LOG_LVL_ERROR, "listen: %s", err);
}

size_t
reload_restart_keys(const struct node_cfg *old, const struct node_cfg *neu,
    void (*fn)(const char *key, void *arg), void *arg)
{
	size_t i, n = 0;

	/* what reload_prepare refuses: only a restart changes these */
	if (neu->vpn_ip != old->vpn_ip) {
		fn("pki.cert", arg);
		n++;
	}
	if (neu->am_lighthouse != old->am_lighthouse) {
		fn("lighthouse.am_lighthouse", arg);
		n++;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].restart && differs(&keys[i], old, neu)) {
			fn(keys[i].name, arg);
			n++;
		}
	return n;
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
	uint8_t a[CERT_FP_LEN], b[CERT_FP_LEN];
	char hex[2 * CERT_FP_LEN + 1];
	struct log_ev ev;
	size_t i;
	/* peers are verified again only when what they are verified
	 * against changed: a lighthouse's thousands of signatures are
	 * not checked at every reload (expiry has its own timer) */
	bool recheck = !ca_pool_same(n->cfg->ca, neu->ca) ||
	               (neu->disconnect_invalid && !n->cfg->disconnect_invalid);

	/* pki.cert: a new certificate of ours is presented by new
	 * handshakes, which replace each tunnel at its next check while
	 * it carries traffic (as Nebula >= 1.7) */
	if (cert_fingerprint(n->cfg->cert, a) != 0 ||
	    cert_fingerprint(neu->cert, b) != 0 || memcmp(a, b, sizeof(a))) {
		n->cert_gen++;
		/* Nebula's words; tunnels handshake again with it as they
		 * carry traffic */
		if (log_ev_begin(
		        &ev, LOG_LVL_INFO, "Client cert refreshed from disk")) {
			log_ev_str(&ev, "certName", neu->name);
			hex_encode(b, sizeof(b), hex);
			log_ev_str(&ev, "fingerprint", hex);
			log_ev_end(&ev);
		}
	}
	if (!ca_pool_same(n->cfg->ca, neu->ca) &&
	    log_ev_begin(
	        &ev, LOG_LVL_INFO, "Trusted CA certificates refreshed")) {
		log_ev_arr(&ev, "fingerprints");
		for (i = 0; i < ca_pool_count(neu->ca); i++)
			if (ca_pool_get(neu->ca, i, a) != NULL) {
				hex_encode(a, sizeof(a), hex);
				log_ev_str(&ev, NULL, hex);
			}
		log_ev_close(&ev);
		log_ev_end(&ev);
	}
	certwatch_reset(&n->cw);
	/* worker: the socket's buffers */
	set_buffers(n, n->cfg, neu);
	node_cfg_free(n->cfg);
	n->cfg = neu;
	/* sshd: the helper restarted if its settings changed */
	sshd_reload(n->sshd);
	certwatch_tick(
	    &n->cw, neu, node_mono_ns(), node_real_ns() / 1000000000);
	/* logging */
	log_set(neu->log_level, neu->log_format); /* same stream */
	(void)log_setup_time(neu->log_no_time, neu->log_time_format);
	/* firewall: each tunnel's peer resolved against the new table (the
	 * table's higher version re-checks tracked flows on their next
	 * packet), and the conntrack share */
	conntrack_set_owner_max(n->ct, (size_t)neu->ct_max_per_tunnel);
	tunnels_refresh_fw(n);
	/* lighthouse client: the registration timer, an update at once */
	lhclient_reload(n);
	/* routes: tun.routes and tun.unsafe_routes, in the table and in the
	 * kernel, and the device's tun.tx_queue */
	routes_apply(n->rt, neu);
	/* the lighthouse's DNS responder: on, off, or moved */
	if (neu->am_lighthouse)
		dnsresp_reload(n);
	/* punch: the punchy.punch timer started or stopped */
	punch_reload(n);
	/* handshakes, hostmap bounds, connmgr, punch delays, datapath: read
	 * the configuration when they run */
	/* pki: peers that no longer verify (blocklisted; with
	 * pki.disconnect_invalid, CA removed) */
	if (recheck) {
		n->pki_gen++;
		tunnels_recheck(n);
	}
}
