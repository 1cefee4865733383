/*
 * node/nodeint.h: a running node.  struct node is the context every
 * subsystem gets: the configuration, the event base, and a pointer to
 * each subsystem, whose state is private to its file pair:
 *
 *   worker.[ch]     the data-plane loop: I/O handles, send slots, GRO,
 *                   scratch, the data path's counters
 *   datapath.[ch]   the receive and send pipelines, returning verdicts
 *   io.[ch]         TUN and UDP behind operation tables
 *   hostmap.[ch]    the indexes of tunnels and pending handshakes, bounds
 *   tunnel.[ch]     one tunnel: keys, sealing, sending, roaming
 *   handshake.[ch]  Noise IX as initiator (timer wheel) and responder
 *   connmgr.[ch]    liveness: test requests, deletion of silent tunnels
 *   remotes.[ch]    a peer's candidate addresses and their ranking
 *   routes.[ch]     unsafe routes (longest prefix -> via), kernel routes
 *   exit.[ch]       the exit node: policy rules, forwarding, masquerade
 *   lhclient.[ch]   registering with lighthouses, querying them
 *   lhserver.[ch]   the lighthouse's registry and answers
 *   dnsresp.[ch]    lighthouse.serve_dns
 *   punch.[ch]      hole punching and punchy
 *   relay.[ch]      relays: the relay table, requests, relay packets
 *   reload.[ch]     SIGHUP: each subsystem's prepare, then commit
 *   counters.[ch]   the one table of counters
 *   certwatch.[ch]  warnings ahead of certificate expiry
 *   stats.[ch]      the stats section: Prometheus endpoint, Graphite
 *   ctl.[ch]        the control socket; ctlcmd.c: its commands
 *   sshd.[ch]       the sshd section: its helper process, cairn-sshd
 *
 * Nothing in node/ reaches into another file's state but through its
 * header.
 */
#ifndef NODEINT_H
#define NODEINT_H

#include <event2/event.h>

#include "certwatch.h"
#include "node.h"

struct io_udp;
struct io_tun;

struct node {
	struct node_cfg *cfg;
	const char *cfg_path;
	struct event_base *base;
	struct event *ev_sig[4], *ev_cm; /* signals (node_run), housekeeping */
	struct worker *wk;
	struct hostmap *hm;
	struct handshakes *hs;
	struct connmgr *cm;
	struct remotes *rem;
	struct routes *rt;     /* unsafe routes; the kernel's routes */
	struct exitnode *exit; /* exit: its rules, forwarding, masquerade */
	struct lhclient *lhc; /* a node with lighthouses */
	struct lhserver *lhs; /* lighthouse.am_lighthouse */
	struct dnsresp *dns;  /* lighthouse.serve_dns */
	struct punch *punch;
	struct relays *relays;
	struct conntrack *ct; /* the firewall's flows */
	struct certwatch cw;  /* expiry warnings */
	struct stats *stats;  /* stats.type; NULL: none */
	struct ctl *ctl;      /* the control socket (node_run); NULL: none */
	struct sshd *sshd;    /* the sshd helper (node_run); NULL: none */
	int64_t started_at;   /* node_mono_ns() at node_start */
	uint32_t cert_gen;    /* bumped when a reload changes our cert */
	uint32_t pki_gen;     /* bumped when a reload changes the CA pool
	                         or the blocklist */
	int exit_status;      /* node_run's; set by node_fatal */
};

/*
 * A node on an event base the caller owns (node_run makes one, and adds
 * the signals and the loop; tests run several nodes on one).  udp, tun:
 * I/O the node takes over (tests: a simulated network, or a socket pair
 * as TUN through io_tun_kernel(tun_from_fd)), or NULL to open the
 * configured ones.  The node owns cfg, udp and tun from the call on, even
 * on failure; node_stop closes every tunnel (closeTunnel sent) and frees
 * everything but the base, also after a failed start.
 */
int node_start(struct node *n, struct node_cfg *cfg, const char *config_path,
    struct event_base *base, struct io_udp *udp, struct io_tun *tun);
void node_stop(struct node *n);
uint16_t node_port(const struct node *n);
/* SIGHUP: read the configuration file again and apply it (reload.h). */
void node_reload(struct node *n);
/* The same, and what happened in msg (msglen > 0): 0, or -1 when the
 * new configuration was refused (the running one is kept). */
int node_reload_report(struct node *n, char *msg, size_t msglen);

/* A fault the node cannot run on, such as its TUN device deleted under
 * it: shut down as on SIGTERM (the peers are told), and make node_run
 * return status (the first one given). */
void node_fatal(struct node *n, int status);

int64_t node_mono_ns(void);
int64_t node_real_ns(void);

#endif
