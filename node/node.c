/*
 * node/node.c: a node's life: its subsystems made in order on an event
 * base and freed in reverse, the housekeeping timer, the signals
 * (SIGHUP reloads, SIGUSR1 logs the counters, SIGTERM/SIGINT stop), and
 * node_run, the daemon's loop.  The map of the subsystems is in
 * nodeint.h.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connmgr.h"
#include "ctl.h"
#include "counters.h"
#include "dnsresp.h"
#include "err.h"
#include "exit.h"
#include "handshake.h"
#include "hostmap.h"
#include "io.h"
#include "lhclient.h"
#include "lhserver.h"
#include "log.h"
#include "nodeint.h"
#include "nodelog.h"
#include "notify.h"
#include "privs.h"
#include "punch.h"
#include "relay.h"
#include "reload.h"
#include "remotes.h"
#include "routes.h"
#include "sbuf.h"
#include "sshd.h"
#include "stats.h"
#include "tun.h"
#include "tunnel.h"
#include "worker.h"

int64_t
node_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t
node_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Every half second: liveness checks due, and expired flows. */
static void
on_housekeeping(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;

	(void)fd;
	(void)what;
	connmgr_tick(n);
	conntrack_expire(n->ct, node_mono_ns(), 4096);
	certwatch_tick(&n->cw, n->cfg, node_mono_ns(),
	    node_real_ns() / 1000000000);
}

static void
dump_stats(struct node *n)
{
	struct sbuf b;

	sbuf_init(&b);
	node_counters_format(n, &b);
	if (sbuf_ok(&b))
		log_info("stats: %.*s", (int)b.len, b.s);
	sbuf_free(&b);
}

void
node_reload(struct node *n)
{
	(void)node_reload_report(n, NULL, 0);
}

int
node_reload_report(struct node *n, char *msg, size_t msglen)
{
	struct reload_plan plan;
	struct node_cfg *c;
	struct log_ev ev;
	char err[1024];

	if (msglen > 0)
		msg[0] = '\0';
	/* what the new configuration says as it loads (unknown keys...)
	 * comes out in its log format, after reload_commit() set it */
	log_hold();

	/* A new firewall table is built beside the old one, with a higher
	 * version, so conntrack entries are re-checked on their next
	 * packet.  Tunnels stay up. */
	if (node_cfg_load_v(n->cfg_path, node_real_ns() / 1000000000,
	        fw_version(n->cfg->fw) + 1, n->cfg->am_lighthouse, &c, err,
	        sizeof(err)) != 0) {
		log_release();
		if (log_ev_begin(&ev, LOG_LVL_ERROR,
		        "Error occurred while reloading config")) {
			log_ev_str(&ev, "config_path", n->cfg_path);
			log_ev_err(&ev, err);
			log_ev_end(&ev);
		}
		if (msglen > 0)
			snprintf(msg, msglen, "reload failed, keeping the "
			    "running configuration: %s", err);
		return -1;
	}
	if (reload_prepare(n->cfg, c, &plan, err, sizeof(err)) != 0) {
		log_release();
		if (log_ev_begin(&ev, LOG_LVL_ERROR,
		        "Reload refused, keeping the running configuration")) {
			log_ev_str(&ev, "config_path", n->cfg_path);
			log_ev_err(&ev, err);
			log_ev_end(&ev);
		}
		if (msglen > 0)
			snprintf(msg, msglen, "reload refused: %s", err);
		node_cfg_free(c);
		return -1;
	}
	reload_commit(n, c);
	log_release();
	if (log_ev_begin(&ev, LOG_LVL_INFO, "configuration reloaded")) {
		log_ev_str(&ev, "config_path", n->cfg_path);
		log_ev_u64(&ev, "inboundRules", fw_nrules(c->fw, true));
		log_ev_u64(&ev, "outboundRules", fw_nrules(c->fw, false));
		log_ev_u64(&ev, "changedLive", plan.changed);
		log_ev_u64(&ev, "keptUntilRestart", plan.kept);
		log_ev_end(&ev);
	}
	if (msglen > 0)
		snprintf(msg, msglen, "configuration reloaded: %zu setting%s "
		    "changed live; %zu changed setting%s kept until a restart",
		    plan.changed, plan.changed == 1 ? "" : "s", plan.kept,
		    plan.kept == 1 ? "" : "s");
	return 0;
}

/* SIGTERM's shutdown, and node_fatal's: the loop ends after this round. */
static void
shut_down(struct node *n)
{
	notify_stopping();
	tunnels_close_all(n);
	dump_stats(n);
	event_base_loopexit(n->base, NULL);
}

void
node_fatal(struct node *n, int status)
{
	if (n->exit_status == 0)
		n->exit_status = status;
	shut_down(n);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct node *n = arg;
	struct log_ev ev;

	(void)what;
	switch (sig) {
	case SIGHUP:
		log_info("Caught HUP, reloading config");
		notify_reloading(); /* systemd: notify.h */
		node_reload(n);
		notify_ready(hostmap_tunnels(n->hm), hostmap_pending(n->hm));
		break;
	case SIGUSR1:
		dump_stats(n);
		break;
	default:
		/* Go's names of the signals */
		if (log_ev_begin(
		        &ev, LOG_LVL_INFO, "Caught signal, shutting down")) {
			log_ev_str(&ev, "signal",
			    sig == SIGTERM ? "terminated" : "interrupt");
			log_ev_end(&ev);
		}
		shut_down(n);
	}
}

/* Nebula's ContextualError: the context as the message, the error. */
static void
log_error_ctx(const char *context, const char *err)
{
	struct log_ev ev;

	if (log_ev_begin(&ev, LOG_LVL_ERROR, "%s", context)) {
		log_ev_err(&ev, err);
		log_ev_end(&ev);
	}
}

/* The configured TUN device, behind io_tun (its routes: routes.c). */
static int
open_tun(const struct node_cfg *cfg, struct io_tun **out)
{
	struct tun *t;
	char err[512];

	*out = NULL;
	if (tun_open(cfg->tun_dev, cfg->tun_mtu, cfg->tx_queue, cfg->vpn_ip,
	        cfg->vpn_mask, cfg->tun_offload, &t, err, sizeof(err)) != 0) {
		log_error_ctx("Failed to get a tun/tap device", err);
		return VPN_ERR_SYS;
	}
	return io_tun_kernel(t, out);
}

static void
announce_start(const struct node *n)
{
	const struct node_cfg *cfg = n->cfg;
	const struct worker *w = n->wk;
	struct udp_addr la;
	struct log_ev ev;
	char a[96];

	if (log_ev_begin(&ev, LOG_LVL_INFO, "Firewall started")) {
		log_ev_u64(&ev, "inboundRules", fw_nrules(cfg->fw, true));
		log_ev_u64(&ev, "outboundRules", fw_nrules(cfg->fw, false));
		log_ev_str(&ev, "inboundAction",
		    fw_action(cfg->fw, true) == FW_ACTION_REJECT ? "reject"
		                                                 : "drop");
		log_ev_str(&ev, "outboundAction",
		    fw_action(cfg->fw, false) == FW_ACTION_REJECT ? "reject"
		                                                  : "drop");
		log_ev_end(&ev);
	}
	if (log_ev_begin(&ev, LOG_LVL_INFO, "Nebula interface is active")) {
		log_ev_str(&ev, "interface",
		    w->tun != NULL ? w->tun->ops->name(w->tun) : "disabled");
		log_ev_strf(&ev, "network", "%u.%u.%u.%u/%d", cfg->vpn_ip >> 24,
		    cfg->vpn_ip >> 16 & 255, cfg->vpn_ip >> 8 & 255,
		    cfg->vpn_ip & 255, ip4_mask_bits(cfg->vpn_mask));
		log_ev_str(&ev, "build", VPN_VERSION);
		snprintf(a, sizeof(a),
		    strchr(cfg->listen_host, ':') != NULL ? "[%s]:%u" : "%s:%u",
		    cfg->listen_host, node_port(n));
		if (udp_addr_parse(a, &la) == 0)
			nodelog_udp(&ev, "udpAddr", &la);
		else
			log_ev_str(&ev, "udpAddr", a);
		log_ev_str(&ev, "cipher", cfg->cipher == CRYPTO_AES256GCM
		                              ? "aes"
		                              : "chachapoly");
		log_ev_end(&ev);
	}
	if (log_ev_begin(&ev, LOG_LVL_INFO, "Offload")) {
		log_ev_str(&ev, "tun",
		    w->tun == NULL              ? "disabled"
		    : io_tun_offload(w->tun) ? "tso4+csum"
		                             : "off");
		log_ev_bool(&ev, "udpGso", w->udp->ops->gso(w->udp));
		log_ev_bool(&ev, "udpGro", w->udp->ops->gro(w->udp));
		log_ev_end(&ev);
	}
}

int
node_start(struct node *n, struct node_cfg *cfg, const char *config_path,
    struct event_base *base, struct io_udp *udp, struct io_tun *tun)
{
	struct timeval half = {0, 500000};
	bool own_tun = false;
	char err[512];

	memset(n, 0, sizeof(*n));
	n->cfg = cfg;
	n->cfg_path = config_path;
	n->base = base;
	n->started_at = node_mono_ns();
	if (cfg->tun_disabled && tun != NULL) {
		tun->ops->close(tun);
		tun = NULL;
	} else if (!cfg->tun_disabled && tun == NULL) {
		if (open_tun(cfg, &tun) != 0) {
			if (udp != NULL)
				udp->ops->close(udp);
			return -1;
		}
		own_tun = true;
	}
	if (udp == NULL &&
	    io_udp_kernel(cfg->listen_host, cfg->listen_port, cfg->read_buffer,
	        cfg->write_buffer, cfg->listen_offload,
	        cfg->exit_via != 0 ? cfg->exit_fwmark : 0, &udp, err,
	        sizeof(err)) != 0) {
		log_error_ctx("Failed to open udp listener", err);
		if (tun != NULL)
			tun->ops->close(tun);
		return -1;
	}
	/* from here on, everything made is freed by node_stop */
	if (worker_start(n, udp, tun, &n->wk) != 0 ||
	    (n->hm = hostmap_new()) == NULL || relays_new(&n->relays) != 0 ||
	    (n->cm = connmgr_new()) == NULL ||
	    (n->rem = remotes_new()) == NULL || conntrack_new(0, &n->ct) != 0 ||
	    routes_new(cfg, own_tun ? io_tun_kernel_handle(tun) : NULL,
	        &n->rt) != 0 ||
	    exitnode_start(cfg, own_tun ? tun->ops->name(tun) : NULL,
	        &n->exit) != 0 ||
	    handshakes_new(n, &n->hs) != 0)
		return -1;
	conntrack_set_owner_max(n->ct, (size_t)cfg->ct_max_per_tunnel);
	/* before the lighthouse client's first handshake, as Nebula */
	announce_start(n);
	if (cfg->am_lighthouse) {
		if (lhserver_new(&n->lhs) != 0 ||
		    (cfg->serve_dns && dnsresp_open(n, &n->dns) != 0))
			return -1;
	} else if (lhclient_new(n, &n->lhc) != 0) {
		return -1;
	}
	if (punch_new(n, &n->punch) != 0)
		return -1;
	n->ev_cm = event_new(base, -1, EV_PERSIST, on_housekeeping, n);
	if (n->ev_cm == NULL || event_add(n->ev_cm, &half) != 0)
		return -1;
	if (stats_start(n, &n->stats) != 0)
		return -1;
	certwatch_tick(&n->cw, n->cfg, node_mono_ns(),
	    node_real_ns() / 1000000000);
	return 0;
}

void
node_stop(struct node *n)
{
	int i;

	sshd_free(n->sshd); /* its sessions end with it */
	n->sshd = NULL;
	ctl_free(n->ctl);
	n->ctl = NULL;
	if (n->wk != NULL && n->hm != NULL && n->cm != NULL && n->rem != NULL)
		tunnels_close_all(n);
	for (i = 0; i < 4; i++)
		if (n->ev_sig[i] != NULL)
			event_free(n->ev_sig[i]);
	if (n->ev_cm != NULL)
		event_free(n->ev_cm);
	stats_free(n->stats);
	punch_free(n->punch);
	lhclient_free(n->lhc);
	dnsresp_free(n->dns);
	lhserver_free(n->lhs);
	if (n->hm != NULL)
		handshakes_free(n, n->hs);
	conntrack_free(n->ct);
	remotes_free(n->rem);
	connmgr_free(n->cm);
	hostmap_free(n->hm);
	relays_free(n->relays);
	exitnode_free(n->exit);
	routes_free(n->rt);
	worker_free(n->wk);
	node_cfg_free(n->cfg);
	memset(n, 0, sizeof(*n));
}

uint16_t
node_port(const struct node *n)
{
	return io_port(n->wk->udp);
}

int
node_run(struct node_cfg *cfg, const char *config_path)
{
	static const int sigs[4] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	struct event_base *base;
	struct node n;
	int rc = 1, i;

	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL) {
		node_cfg_free(cfg);
		return 1;
	}
	if (node_start(&n, cfg, config_path, base, NULL, NULL) != 0 ||
	    ctl_start(&n, &n.ctl) != 0)
		goto out;
	/* the device, its routes and the sockets are set up: what is left
	 * needs CAP_NET_ADMIN only (privs.h) */
	if (*n.cfg->run_user != '\0' && privs_drop(n.cfg) != 0)
		goto out;
	for (i = 0; i < 4; i++) {
		n.ev_sig[i] = evsignal_new(n.base, sigs[i], on_signal, &n);
		if (n.ev_sig[i] == NULL || event_add(n.ev_sig[i], NULL) != 0)
			goto out;
	}
	/* the sshd helper runs as the user we now are, without our
	 * capability (sshd.h) */
	if (sshd_start(&n, &n.sshd) != 0)
		goto out;
	if (notify_init())
		notify_ready(hostmap_tunnels(n.hm), hostmap_pending(n.hm));
	worker_loop(n.wk);
	rc = n.exit_status;
out:
	node_stop(&n);
	event_base_free(base);
	notify_close();
	if (rc == 0)
		log_info("Goodbye"); /* Nebula's last line */
	return rc;
}
