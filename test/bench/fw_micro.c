/*
 * test/bench/fw_micro.c: microbenchmark of the firewall decision.
 *
 * Builds a realistic table (about 50 inbound rules over groups, hosts,
 * ports, ranges, cidrs and a CA selector; a few outbound), 32 peers with
 * a few groups each, and a mix of packets of which about half match a
 * rule, then times:
 *
 *   match      fw_match() alone (steps 2-4), accepted and refused
 *   new        fw_decide() on flows not yet tracked: lookup miss, rules,
 *              and an entry added for the accepted ones
 *   hit        fw_decide() on tracked flows: a conntrack hit
 *   refused    fw_decide() on packets no rule allows: miss + rules
 *
 * The conntrack pool is warmed first, so the timed loops never allocate.
 * Times come from CLOCK_MONOTONIC around whole loops; the packet clock
 * is synthetic (1 us per packet).
 *
 *   make build/rel/libvpn.a
 *   cc -O2 -Ilib -o build/fw_micro test/bench/fw_micro.c \
 *       build/rel/libvpn.a -lcrypto -lyaml
 *   build/fw_micro [-n rounds] [-only match|new|hit|refused]
 *
 * Instructions per decision: the timed loops toggle callgrind's
 * collection (when <valgrind/callgrind.h> was found at build time), so
 * run one scenario with collection off at start and divide "Collected"
 * by the decisions it prints:
 *
 *   valgrind --tool=callgrind --collect-atstart=no \
 *       build/fw_micro -n 4 -only hit
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "config.h"
#include "conntrack.h"
#include "err.h"
#include "firewall.h"
#include "ipaddr.h"
#include "ippkt.h"

/* Instructions per decision: count only the timed loops under callgrind. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_TOGGLE_COLLECT
#define CALLGRIND_TOGGLE_COLLECT
#endif

#define NPEERS 32
#define NPKTS 8192
#define OWN_IP 0x0a010001u                           /* 10.1.0.1 */
#define PEER_IP(i) (0x0a010100u + (uint32_t)(i) + 2) /* 10.1.1.x */

static const char *const group_pool[] = {"admin", "ssh", "web", "laptop",
    "home", "db-clients", "voice", "k8s", "cache-clients", "g0", "g1", "g2",
    "g3", "g4", "g5", "g6", "g7", "g8", "g9", "monitoring"};
#define NGROUPS (sizeof(group_pool) / sizeof(group_pool[0]))

static const uint8_t issuer[32] = {0xab, 0xcd};
#define ISSUER_HEX                                                             \
	"abcd000000000000000000000000000000000000000000000000000000000000"

static void
die(const char *what, int r)
{
	fprintf(stderr, "fw_micro: %s: %d %s\n", what, r, vpn_strerror(r));
	exit(1);
}

/* xorshift64*, deterministic */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717u) >> 33) % n;
}

static char *
rules_yaml(void)
{
	static char y[16384];
	size_t off = 0;
	int i;

#define ADD(...) off += (size_t)snprintf(y + off, sizeof(y) - off, __VA_ARGS__)
	ADD("firewall:\n  conntrack: {tcp_timeout: 12m, udp_timeout: 3m}\n");
	ADD("  outbound:\n");
	ADD("    - {port: any, proto: any, host: any}\n");
	ADD("  inbound:\n");
	ADD("    - {port: any, proto: icmp, host: any}\n");
	ADD("    - {port: 22, proto: tcp, groups: [admin, ssh]}\n");
	ADD("    - {port: 22, proto: tcp, host: bastion}\n");
	ADD("    - {port: 80, proto: tcp, group: web}\n");
	ADD("    - {port: 443, proto: tcp, group: web}\n");
	ADD("    - {port: 443, proto: tcp, groups: [laptop, home]}\n");
	ADD("    - {port: 5432, proto: tcp, group: db-clients}\n");
	ADD("    - {port: 6379, proto: tcp, group: cache-clients, cidr: "
	    "10.1.200.0/24}\n");
	ADD("    - {port: 53, proto: udp, host: any}\n");
	ADD("    - {port: 8000-8100, proto: udp, group: voice}\n");
	ADD("    - {port: 9000-9100, proto: tcp, ca_sha: " ISSUER_HEX "}\n");
	ADD("    - {port: 30000-32767, proto: tcp, group: k8s}\n");
	ADD("    - {port: 9100, proto: tcp, group: monitoring}\n");
	ADD("    - {port: fragment, proto: any, group: k8s}\n");
	for (i = 0; i < 36; i++) /* 1000..1035, assorted selectors */
		switch (i % 4) {
		case 0:
			ADD("    - {port: %d, proto: tcp, group: g%d}\n",
			    1000 + i, i % 10);
			break;
		case 1:
			ADD("    - {port: %d, proto: udp, groups: [g%d, "
			    "g%d]}\n",
			    1000 + i, i % 10, (i + 3) % 10);
			break;
		case 2:
			ADD("    - {port: %d-%d, proto: tcp, host: peer%d}\n",
			    1000 + i, 1010 + i, i % NPEERS);
			break;
		default:
			ADD("    - {port: %d, proto: any, cidr: "
			    "10.1.1.%d/30}\n",
			    1000 + i, (i * 4) % 64);
			break;
		}
#undef ADD
	return y;
}

static struct cert *
mkcert(const char *name, uint32_t addr, int ngroups)
{
	struct cert *c = cert_new();
	struct ip4net n = {addr, 0xffffffffu};
	int i, g;

	if (c == NULL || cert_set_name(c, name, strlen(name)) != 0 ||
	    cert_add_ip(c, &n) != 0 ||
	    cert_set_issuer(c, issuer, sizeof(issuer)) != 0)
		die("cert", VPN_ERR_NOMEM);
	for (i = 0; i < ngroups; i++) {
		g = (int)rnd(NGROUPS);
		if (cert_add_group(c, group_pool[g], strlen(group_pool[g])) !=
		    0)
			die("cert", VPN_ERR_NOMEM);
	}
	return c;
}

struct pk {
	struct fw_packet p;
	bool in;
	int peer;
};

static struct fw *fw;
static struct fw_peer peers[NPEERS];
static struct ct_owner owners[NPEERS]; /* one per tunnel, as the node's */
static struct pk pk_new[NPKTS], pk_ok[NPKTS], pk_bad[NPKTS];
static size_t n_ok, n_bad;

/* A random packet between us and peer i, likely to meet a rule. */
static struct pk
mkpkt(int i, uint16_t sport)
{
	static const uint16_t ports[] = {22, 80, 443, 5432, 6379, 53, 8050,
	    9050, 31000, 9100, 1000, 1001, 1004, 1007, 1012, 1020, 1033, 3306,
	    25, 8080};
	struct pk k;
	uint32_t r = rnd(100);

	memset(&k, 0, sizeof(k));
	k.peer = i;
	k.in = r < 85;
	k.p.local_ip = OWN_IP;
	k.p.remote_ip = PEER_IP(i);
	k.p.proto = rnd(2) ? IPPKT_PROTO_TCP : IPPKT_PROTO_UDP;
	if (r % 17 == 0)
		k.p.proto = IPPKT_PROTO_ICMP;
	if (k.p.proto != IPPKT_PROTO_ICMP) {
		uint16_t dport = ports[rnd(sizeof(ports) / sizeof(ports[0]))];

		if (k.in) {
			k.p.local_port = dport;
			k.p.remote_port = sport;
		} else {
			k.p.remote_port = dport;
			k.p.local_port = sport;
		}
	} else {
		/* ICMP has no ports: make flows distinct by address */
		k.p.remote_ip = PEER_IP(i);
	}
	return k;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile unsigned sink;

__attribute__((noinline)) static unsigned
run_match(const struct pk *v, size_t n)
{
	unsigned acc = 0;
	size_t i;

	for (i = 0; i < n; i++)
		acc += fw_match(fw, v[i].in, &v[i].p, &peers[v[i].peer]);
	return acc;
}

__attribute__((noinline)) static unsigned
run_new(struct conntrack *ct, const struct pk *v, size_t n, int64_t *t)
{
	unsigned acc = 0;
	size_t i;

	for (i = 0; i < n; i++, *t += 1000)
		acc += fw_decide(fw, ct, v[i].in, &v[i].p, &peers[v[i].peer],
		    &owners[v[i].peer],
		           *t) == FW_ACCEPT;
	return acc;
}

/* Counts conntrack hits (the bodies differ so that no two are folded). */
__attribute__((noinline)) static unsigned
run_hit(struct conntrack *ct, const struct pk *v, size_t n, int64_t *t)
{
	enum fw_why why;
	unsigned acc = 0;
	size_t i;

	for (i = 0; i < n; i++, *t += 1000)
		if (fw_decide_why(fw, ct, v[i].in, &v[i].p, &peers[v[i].peer],
		    &owners[v[i].peer],
		        *t, &why) == FW_ACCEPT &&
		    why == FW_WHY_CONNTRACK)
			acc++;
	return acc;
}

/* Counts the packets accepted anyway (should be none). */
__attribute__((noinline)) static unsigned
run_refused(struct conntrack *ct, const struct pk *v, size_t n, int64_t *t)
{
	unsigned acc = 0;
	size_t i;

	for (i = 0; i < n; i++, *t += 1000)
		acc += fw_decide(fw, ct, v[i].in, &v[i].p, &peers[v[i].peer],
		    &owners[v[i].peer],
		           *t) != FW_DROP;
	return acc;
}

int
main(int argc, char **argv)
{
	struct config *cfg = NULL;
	struct config_err err;
	struct cert *own, *pc[NPEERS];
	struct conntrack *ct = NULL;
	struct ip4net sub = {0x0a010000u, 0xffff0000u};
	const char *only = NULL;
	char name[32], *y;
	int rounds = 200, i, r, k;
	int64_t t = 0;
	size_t j;
	double t0, dt;
	unsigned acc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "-only") == 0 && i + 1 < argc)
			only = argv[++i];
		else {
			fprintf(stderr, "usage: fw_micro [-n rounds] [-only "
			                "match|new|hit|refused]\n");
			return 64;
		}
	}
	if (rounds < 1)
		rounds = 1;

	y = rules_yaml();
	if ((r = config_load_string(y, strlen(y), "bench.yml", &cfg, &err)) !=
	    0) {
		fprintf(stderr, "%s: %s\n", err.key, err.msg);
		die("config", r);
	}
	own = mkcert("me", OWN_IP, 0);
	if (cert_add_subnet(own, &sub) != 0)
		die("cert", VPN_ERR_NOMEM);
	if ((r = fw_build(cfg, own, 1, &fw, &err)) != 0) {
		fprintf(stderr, "%s: %s\n", err.key, err.msg);
		die("fw_build", r);
	}
	for (i = 0; i < NPEERS; i++) {
		snprintf(name, sizeof(name), i == 0 ? "bastion" : "peer%d", i);
		pc[i] = mkcert(name, PEER_IP(i), 2 + (int)rnd(3));
		if ((r = fw_peer_init(&peers[i], fw, pc[i], NULL)) != 0)
			die("fw_peer_init", r);
		conntrack_owner_init(&owners[i]);
	}
	if ((r = conntrack_new(0, &ct)) != 0)
		die("conntrack_new", r);

	/* packets: unique flows (source port), split by the rules' verdict */
	for (j = 0, k = 0; n_ok < NPKTS || n_bad < NPKTS; j++) {
		struct pk p =
		    mkpkt((int)rnd(NPEERS), (uint16_t)(1024 + j % 60000));

		if (p.p.proto == IPPKT_PROTO_ICMP)
			continue; /* ICMP flows would collide on the key */
		if (k < NPKTS)
			pk_new[k++] = p;
		if (fw_match(fw, p.in, &p.p, &peers[p.peer])) {
			if (n_ok < NPKTS)
				pk_ok[n_ok++] = p;
		} else if (n_bad < NPKTS) {
			pk_bad[n_bad++] = p;
		}
	}
	printf("table: %zu inbound + %zu outbound rules, %d peers, %d "
	       "packets per set\n",
	    fw_nrules(fw, true), fw_nrules(fw, false), NPEERS, NPKTS);

	if (only == NULL || strcmp(only, "match") == 0) {
		t0 = now_ns();
		CALLGRIND_TOGGLE_COLLECT;
		for (acc = 0, i = 0; i < rounds; i++)
			acc += run_match(pk_new, NPKTS);
		CALLGRIND_TOGGLE_COLLECT;
		dt = now_ns() - t0;
		sink = acc;
		printf("match    %8.1f ns/packet  (%d decisions, %.0f%% "
		       "accepted)\n",
		    dt / ((double)rounds * NPKTS), rounds * NPKTS,
		    100.0 * acc / ((double)rounds * NPKTS));
	}
	if (only == NULL || strcmp(only, "new") == 0) {
		/* warm the pool once, then time flushed passes */
		(void)run_new(ct, pk_new, NPKTS, &t);
		dt = 0;
		for (acc = 0, i = 0; i < rounds; i++) {
			conntrack_flush(ct);
			t0 = now_ns();
			CALLGRIND_TOGGLE_COLLECT;
			acc += run_new(ct, pk_new, NPKTS, &t);
			CALLGRIND_TOGGLE_COLLECT;
			dt += now_ns() - t0;
		}
		sink = acc;
		printf("new      %8.1f ns/packet  (%d decisions, %.0f%% "
		       "accepted and added)\n",
		    dt / ((double)rounds * NPKTS), rounds * NPKTS,
		    100.0 * acc / ((double)rounds * NPKTS));
	}
	if (only == NULL || strcmp(only, "hit") == 0) {
		conntrack_flush(ct);
		(void)run_new(ct, pk_ok, NPKTS, &t);
		t0 = now_ns();
		CALLGRIND_TOGGLE_COLLECT;
		for (acc = 0, i = 0; i < rounds; i++)
			acc += run_hit(ct, pk_ok, NPKTS, &t);
		CALLGRIND_TOGGLE_COLLECT;
		dt = now_ns() - t0;
		sink = acc;
		printf("hit      %8.1f ns/packet  (%d decisions, %.0f%% "
		       "conntrack hits)\n",
		    dt / ((double)rounds * NPKTS), rounds * NPKTS,
		    100.0 * acc / ((double)rounds * NPKTS));
	}
	if (only == NULL || strcmp(only, "refused") == 0) {
		t0 = now_ns();
		CALLGRIND_TOGGLE_COLLECT;
		for (acc = 0, i = 0; i < rounds; i++)
			acc += run_refused(ct, pk_bad, NPKTS, &t);
		CALLGRIND_TOGGLE_COLLECT;
		dt = now_ns() - t0;
		sink = acc;
		printf("refused  %8.1f ns/packet  (%d decisions, %u "
		       "accepted)\n",
		    dt / ((double)rounds * NPKTS), rounds * NPKTS, acc);
	}
	printf("conntrack: %zu entries, %llu added, %llu expired, %llu "
	       "pool growths\n",
	    conntrack_count(ct), (unsigned long long)conntrack_stats(ct)->added,
	    (unsigned long long)conntrack_stats(ct)->expired,
	    (unsigned long long)conntrack_stats(ct)->grown);

	conntrack_free(ct);
	for (i = 0; i < NPEERS; i++) {
		fw_peer_clear(&peers[i]);
		cert_free(pc[i]);
	}
	cert_free(own);
	fw_free(fw);
	config_free(cfg);
	return 0;
}
