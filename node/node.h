/*
 * node/node.h: the node daemon's configuration (nodecfg.c), validated
 * and immutable, and its entry points (node_run, daemon_main).  The
 * running node and its subsystems: nodeint.h.
 */
#ifndef NODE_H
#define NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allowlist.h"
#include "cert.h"
#include "config.h"
#include "conntrack.h"
#include "crypto.h"
#include "firewall.h"
#include "log.h"
#include "noise.h"
#include "pki.h"
#include "replay.h"
#include "sshd.h"
#include "u32map.h"
#include "udp.h"

#define STATIC_MAX_ADDRS 10
#define LH_MAX_HOSTS 8 /* lighthouse.hosts */
#define PENDING_MAX_QUEUE 100
#define NODE_BATCH 64
#define NODE_SOCKBUF (8 << 20) /* default listen.read_buffer/write_buffer */
#define RELAYS_MAX 10 /* relay.relays: what a lighthouse keeps of the list */

struct static_host {
	uint32_t vpn_ip;
	struct udp_addr addrs[STATIC_MAX_ADDRS];
	size_t naddrs;
};

struct tun_route {
	uint32_t addr, mask;
	int mtu;
};

/* tun.unsafe_routes: a network outside the overlay, through a peer. */
struct unsafe_route {
	uint32_t addr, mask;
	uint32_t via; /* the peer's overlay IP */
	int mtu;      /* 0: the device's */
	int metric;
	bool install; /* put in the kernel's table (install: false: not) */
};

enum send_recv_error { SRE_ALWAYS, SRE_NEVER, SRE_PRIVATE };

enum stats_type { STATS_NONE, STATS_GRAPHITE, STATS_PROMETHEUS };

/* stats (Nebula's): the metrics exporter (stats.h), as written. */
struct stats_cfg {
	enum stats_type type;
	int64_t interval; /* ns; STATS_NONE: 0 */
	bool message_metrics, lighthouse_metrics;
	/* prometheus */
	char listen[256], path[256];
	char ns[64], sub[64];        /* stats.namespace, stats.subsystem */
	struct udp_addr listen_addr; /* resolved at load */
	bool listen_any;             /* ":port": every address */
	/* graphite */
	char prefix[128], protocol[8], host[256];
	struct udp_addr host_addr; /* resolved at load */
};

/* Everything read from the configuration, validated; immutable. */
struct node_cfg {
	struct config *raw;
	/* pki */
	struct ca_pool *ca;
	struct cert *cert;
	uint8_t key[32], pub[32];
	uint8_t *cert_nokey; /* the handshake form of our certificate */
	size_t cert_nokey_len;
	uint32_t vpn_ip, vpn_mask;
	char name[128]; /* sanitised certificate name, for logs */
	bool disconnect_invalid;
	int64_t expiry_warning; /* pki.expiry_warning, ns; 0: never */
	/* static_host_map */
	struct static_host *statics;
	size_t nstatics;
	/* listen */
	char listen_host[64];
	uint16_t listen_port;
	int read_buffer, write_buffer;
	enum send_recv_error send_recv_error;
	/* tun */
	bool tun_disabled;
	char tun_dev[16];
	int tun_mtu, tx_queue;
	bool drop_local_broadcast, drop_multicast;
	bool tun_offload, listen_offload; /* TSO on the TUN; UDP GSO/GRO */
	int64_t busy_poll_ns;		  /* listen.busy_poll; 0: off */
	struct tun_route *routes;
	size_t nroutes;
	struct unsafe_route *unsafe;
	size_t nunsafe;
	/* protocol */
	enum crypto_cipher cipher;
	int64_t hs_try_interval; /* ns */
	int64_t hs_retries;
	int64_t hs_cpu_percent;     /* handshakes.cpu_percent (ours) */
	int64_t hs_source_rate;     /* handshakes.per_source_rate (ours) */
	int64_t hs_responder_queue; /* handshakes.responder_queue (ours) */
	int64_t alive_interval, deletion_interval; /* s */
	int64_t max_pending;	   /* handshakes.max_pending */
	int64_t max_queued_bytes;  /* handshakes.max_queued_bytes */
	int64_t ct_max_per_tunnel; /* firewall.conntrack.max_per_tunnel */
	/* logging */
	enum log_level log_level;
	enum log_format log_format;
	bool log_no_time;		     /* logging.disable_timestamp */
	char log_time_format[LOG_LAYOUT_MAX]; /* Go layout; "": RFC 3339 */
	/* firewall.inbound/outbound and conntrack settings */
	struct fw *fw;
	/* lighthouse (wire.md 8) */
	bool am_lighthouse;
	uint32_t lighthouses[LH_MAX_HOSTS];
	size_t nlighthouses;
	int64_t lh_interval; /* s; 0: never send updates */
	struct udp_addr *advertise;
	size_t nadvertise;
	struct allowlist *remote_allow, *local_allow;
	struct allowranges *remote_ranges;
	bool serve_dns;
	char dns_host[64];
	uint16_t dns_port;
	/* preferred_ranges (+ the deprecated local_range) */
	struct ip4net *preferred;
	size_t npreferred;
	/* punchy (wire.md 11) */
	bool punch, punch_respond;
	int64_t punch_delay; /* ns */
	/* relay (wire.md 9) */
	bool am_relay;	 /* relay.am_relay: forward for others */
	bool use_relays; /* relay.use_relays, and not am_relay */
	uint32_t relays[RELAYS_MAX]; /* relay.relays: who may relay to us */
	size_t nrelays;
	/* exit (not a Nebula key): internet-bound traffic through a peer */
	uint32_t exit_via; /* 0: this node sends nothing to an exit */
	struct ip4net *exit_routes;
	size_t nexit_routes;
	uint32_t exit_table, exit_fwmark, exit_priority;
	bool exit_serve, exit_masquerade; /* be an exit node */
	/* process (not a Nebula key): who node_run becomes once started
	 * (privs.h); run_user "": stays as started.  run_group as written
	 * ("": the user's primary group); the ids are read at start only. */
	char run_user[64], run_group[64];
	uint32_t run_uid, run_gid;
	struct stats_cfg stats;
	struct sshd_cfg sshd; /* sshd: the debug console (sshd.h) */
	/* control (not a Nebula key): the control socket (ctl.h) */
	bool ctl_enabled;
	char ctl_path[108];  /* a sockaddr_un path */
	char ctl_group[64];  /* "": the socket is 0600, else 0660 */
	uint32_t ctl_gid;
	bool ctl_path_default; /* not configured: made from tun.dev */
};

#define CTL_DIR "/run/cairn" /* where control sockets are by default */

#define EXIT_TABLE_DEFAULT 51842
#define EXIT_PRIORITY_DEFAULT 32000

/* Is an underlay address inside preferred_ranges? */
bool node_cfg_preferred(const struct node_cfg *c, const struct udp_addr *a);

/* Is vpn_ip one of our lighthouses? */
bool node_cfg_is_lighthouse(const struct node_cfg *c, uint32_t vpn_ip);

/*
 * Load and validate a configuration file or directory.  now (Unix seconds)
 * decides certificate validity.  0, or an error with errbuf holding
 * "FILE:LINE: KEY: reason" or the PKI reason.
 */
int node_cfg_load(const char *path, int64_t now, struct node_cfg **out,
    char *errbuf, size_t errlen);
/* The same with the firewall table's version (a reload passes the
 * running one + 1, so that conntrack entries are re-checked). */
int node_cfg_load_v(const char *path, int64_t now, uint64_t fw_version,
    bool lighthouse, struct node_cfg **out, char *errbuf, size_t errlen);
/* The lighthouse binary: the role is implied, and a config that says
 * am_lighthouse: false is refused. */
int node_cfg_load_lighthouse(const char *path, int64_t now,
    struct node_cfg **out, char *errbuf, size_t errlen);
void node_cfg_free(struct node_cfg *c);
const struct static_host *node_cfg_static(const struct node_cfg *c,
    uint32_t vpn_ip);

struct node;

/* Open the TUN device and the socket and run until SIGTERM/SIGINT.
 * Returns the exit status. */
int node_run(struct node_cfg *cfg, const char *config_path);

/* main() of node (lighthouse false) and lighthouse (true). */
int daemon_main(int argc, char **argv, bool lighthouse);

#endif
