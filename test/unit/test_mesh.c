/*
 * test/unit/test_mesh.c: several nodes and a lighthouse in one process,
 * on one event base, without root: real UDP sockets on 127.0.0.1, and
 * for each node's TUN a datagram socket pair whose far end the test
 * reads and writes IPv4 packets on.  Certificates and configurations are
 * made here by cert-tool's own modes.  What the namespace e2e suites do
 * with the kernel, at unit-test speed and under ASan.
 */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cert.h"
#include "crypto.h"
#include "ct.h"
#include "fileio.h"
#include "header.h"
#include "hspayload.h"
#include "noise.h"
#include "pem.h"
#include "ipaddr.h"
#include "lhmsg.h"
#include "log.h"
#include "counters.h"
#include "ctl.h"
#include "hostmap.h"
#include "io.h"
#include "lhclient.h"
#include "lhserver.h"
#include "nebctl.h"
#include "nodeint.h"
#include "punch.h"
#include "relay.h"
#include "remotes.h"
#include "simnet.h"
#include "tun.h"
#include "tunnel.h"
#include "wire.h"
#include "worker.h"

#define MAXN 5
#define LH_IP "10.77.0.1"

struct peer {
	struct node n;
	int fd; /* the test's end of the TUN */
	bool up;
	const char *name;
	char ip[16];
	char yml[160];	  /* its configuration file, for reloads */
	const char *tunx; /* more keys of its tun: section, ", k: v" */
	/* and of its listen: section */
	const char *listenx;
};

struct mesh {
	char dir[64];
	struct event_base *base;
	struct peer p[MAXN];
};

static char *
path(struct mesh *m, const char *name)
{
	static char buf[64][160];
	static size_t slot;
	char *p = buf[slot++ % 64];

	snprintf(p, sizeof(buf[0]), "%s/%s", m->dir, name);
	return p;
}

static enum ct_status
mode(enum ct_status (*fn)(struct ct *, int, char **), const char **args)
{
	struct ct ct;
	char *argv[32];
	int argc = 0;

	memset(&ct, 0, sizeof(ct));
	ct.argv0 = "cert-tool";
	while (args[argc] != NULL && argc < 31) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	return fn(&ct, argc, argv);
}

static int
setup(void **state)
{
	struct mesh *m = calloc(1, sizeof(*m));
	const char *ca[] = {"-name", "mesh", "-duration", "2h", "-out-crt",
	    NULL, "-out-key", NULL, NULL};

	assert_non_null(m);
	assert_int_equal(crypto_init(), 0);
	log_setup(stderr, LOG_LVL_ERROR, LOG_FMT_TEXT);
	snprintf(m->dir, sizeof(m->dir), "/tmp/test_meshXXXXXX");
	assert_non_null(mkdtemp(m->dir));
	ca[5] = path(m, "ca.crt");
	ca[7] = path(m, "ca.key");
	assert_int_equal(mode(cmd_ca, ca), CT_OK);
	m->base = event_base_new();
	assert_non_null(m->base);
	*state = m;
	return 0;
}

static int
teardown(void **state)
{
	struct mesh *m = *state;
	struct dirent *e;
	char p[384];
	DIR *d;
	size_t i;

	for (i = 0; i < MAXN; i++)
		if (m->p[i].up) {
			node_stop(&m->p[i].n);
			close(m->p[i].fd);
		}
	event_base_free(m->base);
	if ((d = opendir(m->dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			snprintf(p, sizeof(p), "%s/%s", m->dir, e->d_name);
			if (e->d_name[0] != '.')
				unlink(p);
		}
		closedir(d);
	}
	rmdir(m->dir);
	free(m);
	return 0;
}

/* Sign a certificate for name at ip, with the subnets given (or none),
 * once per name. */
static void
cert_with(struct mesh *m, const char *name, const char *ip,
    const char *subnets)
{
	char crt[32], key[32], cidr[32];
	const char *args[] = {"-ca-crt", path(m, "ca.crt"), "-ca-key",
	    path(m, "ca.key"), "-name", name, "-ip", NULL, "-out-crt", NULL,
	    "-out-key", NULL, NULL, NULL, NULL};

	snprintf(crt, sizeof(crt), "%s.crt", name);
	snprintf(key, sizeof(key), "%s.key", name);
	if (access(path(m, crt), F_OK) == 0)
		return;
	snprintf(cidr, sizeof(cidr), "%s/16", ip);
	args[7] = cidr;
	args[9] = path(m, crt);
	args[11] = path(m, key);
	if (subnets != NULL) {
		args[12] = "-subnets";
		args[13] = subnets;
	}
	assert_int_equal(mode(cmd_sign, args), CT_OK);
}

static void
cert_for(struct mesh *m, const char *name, const char *ip)
{
	cert_with(m, name, ip, NULL);
}

/* Write peer i's configuration file (name.yml): listening on
 * 127.0.0.1:port (0: any), handshakes tried every `try`, inbound
 * firewall rules `inbound` (a YAML flow list), with the YAML lines
 * `extra` added (static_host_map, lighthouse, ...). */
static void
write_cfg_with(struct mesh *m, size_t i, const char *name, uint16_t port,
    const char *try, const char *inbound, const char *extra)
{
	char yml[32];
	FILE *f;

	snprintf(yml, sizeof(yml), "%s.yml", name);
	f = fopen(path(m, yml), "w");
	assert_non_null(f);
	fprintf(f,
	    "pki: {ca: %s, cert: %s/%s.crt, key: %s/%s.key}\n"
	    "listen: {host: 127.0.0.1, port: %u%s}\n"
	    "tun: {dev: mesh%zu%s}\n"
	    "handshakes: {try_interval: %s}\n"
	    "logging: {level: error}\n"
	    "firewall:\n"
	    "  outbound: [{port: any, proto: any, host: any}]\n"
	    "  inbound: %s\n"
	    "%s",
	    path(m, "ca.crt"), m->dir, name, m->dir, name, port,
	    m->p[i].listenx != NULL ? m->p[i].listenx : "", i,
	    m->p[i].tunx != NULL ? m->p[i].tunx : "", try,
	    inbound, extra != NULL ? extra : "");
	fclose(f);
}

#define ANY_IN "[{port: any, proto: any, host: any}]"

static void
write_cfg(struct mesh *m, size_t i, const char *name, uint16_t port,
    const char *extra)
{
	write_cfg_with(m, i, name, port, "20ms", ANY_IN, extra);
}

/*
 * Start peer i as name at ip, over udp (a simulated network's endpoint)
 * or, when udp is NULL, a real socket on 127.0.0.1:port (0: any), with
 * the YAML lines `extra` added (static_host_map, lighthouse, ...).
 */
static void
start_on(struct mesh *m, size_t i, const char *name, const char *ip,
    struct io_udp *udp, uint16_t port, const char *extra)
{
	struct peer *p = &m->p[i];
	struct node_cfg *cfg;
	struct tun *tun;
	struct io_tun *iot;
	char yml[32], err[1024];
	int sv[2];

	cert_for(m, name, ip);
	write_cfg(m, i, name, port, extra);
	snprintf(yml, sizeof(yml), "%s.yml", name);
	/* the clock sign used (time(2) may still say the second before) */
	snprintf(p->yml, sizeof(p->yml), "%s", path(m, yml));
	if (node_cfg_load(p->yml, node_real_ns() / 1000000000, &cfg, err,
	        sizeof(err)) != 0)
		fail_msg("%s: %s", name, err);
	assert_int_equal(socketpair(AF_UNIX,
	                     SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
	    0);
	assert_int_equal(tun_from_fd(sv[0], name, &tun), 0);
	assert_int_equal(io_tun_kernel(tun, &iot), 0);
	assert_int_equal(node_start(&p->n, cfg, p->yml, m->base, udp, iot), 0);
	p->fd = sv[1];
	p->up = true;
	p->name = name;
	snprintf(p->ip, sizeof(p->ip), "%s", ip);
}

static void
start(struct mesh *m, size_t i, const char *name, const char *ip,
    uint16_t port, const char *extra)
{
	start_on(m, i, name, ip, NULL, port, extra);
}

static void
stop(struct mesh *m, size_t i)
{
	node_stop(&m->p[i].n);
	close(m->p[i].fd);
	m->p[i].up = false;
}

static uint32_t
ip4(const char *s)
{
	uint32_t a;

	assert_true(ip4_parse(s, &a));
	return a;
}

/* A counter of the node's, by its name in the stats line. */
static uint64_t
ctr(const struct node *n, const char *name)
{
	uint64_t v;

	if (node_counter(n, name, &v) != 0)
		fail_msg("no counter %s", name);
	return v;
}

/* An ICMP echo request from src to dst, id and 32 bytes of payload. */
static size_t
echo(uint8_t *b, const char *src, const char *dst, uint16_t id)
{
	uint32_t s = ip4(src), d = ip4(dst), sum = 0;
	size_t i;

	memset(b, 0, 60);
	b[0] = 0x45;
	b[3] = 60;
	b[6] = 0x40;
	b[8] = 64;
	b[9] = 1;
	be32_put(b + 12, s);
	be32_put(b + 16, d);
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	b[10] = (uint8_t)(~sum >> 8);
	b[11] = (uint8_t)~sum;
	b[20] = 8;
	b[24] = (uint8_t)(id >> 8);
	b[25] = (uint8_t)id;
	for (i = 28; i < 60; i++)
		b[i] = (uint8_t)(i + id);
	return 60;
}

/* Run the loop until fd has a packet (copied into out) or ms pass. */
static ssize_t
pump_until_packet(struct mesh *m, int fd, uint8_t *out, size_t cap, int ms)
{
	int64_t until = node_mono_ns() + (int64_t)ms * 1000000;
	ssize_t r;

	while (node_mono_ns() < until) {
		event_base_loop(m->base, EVLOOP_NONBLOCK);
		if ((r = recv(fd, out, cap, 0)) > 0)
			return r;
		usleep(500);
	}
	return -1;
}

static void
pump(struct mesh *m, int ms)
{
	int64_t until = node_mono_ns() + (int64_t)ms * 1000000;

	while (node_mono_ns() < until) {
		event_base_loop(m->base, EVLOOP_NONBLOCK);
		usleep(500);
	}
}

/* A packet written into a's TUN comes out of b's, byte for byte. */
static bool
crosses(struct mesh *m, size_t a, size_t b, uint16_t id)
{
	uint8_t pkt[64], got[128];
	size_t len = echo(pkt, m->p[a].ip, m->p[b].ip, id);
	ssize_t r;

	int64_t until = node_mono_ns() + 3000000000LL;

	assert_int_equal(send(m->p[a].fd, pkt, len, 0), (ssize_t)len);
	/* packets sent before (to a peer that was not listening) may come
	 * first: look for this one */
	while (node_mono_ns() < until) {
		r = pump_until_packet(m, m->p[b].fd, got, sizeof(got), 100);
		if (r == (ssize_t)len && memcmp(got, pkt, len) == 0)
			return true;
	}
	return false;
}

static char *
static_map(const char *ip, uint16_t port)
{
	static char buf[128];

	snprintf(buf, sizeof(buf),
	    "static_host_map: {\"%s\": [\"127.0.0.1:%u\"]}\n", ip, port);
	return buf;
}

/* Two nodes, one knowing the other: handshake, then data both ways. */
static void
test_mesh_pair(void **state)
{
	struct mesh *m = *state;

	start(m, 1, "b", "10.77.0.3", 0, NULL);
	start(m, 0, "a", "10.77.0.2", 0,
	    static_map("10.77.0.3", node_port(&m->p[1].n)));
	assert_true(crosses(m, 0, 1, 1));
	assert_true(crosses(m, 1, 0, 2));
	assert_int_equal(hostmap_tunnels(m->p[0].n.hm), 1);
	assert_int_equal(hostmap_tunnels(m->p[1].n.hm), 1);
	assert_int_equal(ctr(&m->p[0].n, "hsCompleted"), 1);
	assert_int_equal(ctr(&m->p[1].n, "rxAuthFail"), 0);
}

/* Both ends start a handshake at the same moment: one tunnel each side,
 * both first packets delivered, and the tunnels agree on their indexes. */
static void
test_mesh_both_initiate(void **state)
{
	struct mesh *m = *state;
	uint8_t pa[64], pb[64], got[128];
	struct tunnel *ta, *tb;
	size_t la, lb;

	start(m, 0, "a", "10.77.0.2", 0, NULL);
	start(m, 1, "b", "10.77.0.3", 0,
	    static_map("10.77.0.2", node_port(&m->p[0].n)));
	/* a learns b's address too, and restarts knowing it */
	{
		uint16_t pb_port = node_port(&m->p[1].n);

		stop(m, 0);
		start(m, 0, "a", "10.77.0.2", 0,
		    static_map("10.77.0.3", pb_port));
		stop(m, 1);
		start(m, 1, "b", "10.77.0.3", pb_port,
		    static_map("10.77.0.2", node_port(&m->p[0].n)));
	}
	la = echo(pa, "10.77.0.2", "10.77.0.3", 3);
	lb = echo(pb, "10.77.0.3", "10.77.0.2", 4);
	assert_int_equal(send(m->p[0].fd, pa, la, 0), (ssize_t)la);
	assert_int_equal(send(m->p[1].fd, pb, lb, 0), (ssize_t)lb);
	assert_int_equal(pump_until_packet(m, m->p[1].fd, got, sizeof(got),
	                     3000),
	    (ssize_t)la);
	assert_memory_equal(got, pa, la);
	assert_int_equal(pump_until_packet(m, m->p[0].fd, got, sizeof(got),
	                     3000),
	    (ssize_t)lb);
	assert_memory_equal(got, pb, lb);
	pump(m, 200);
	ta = hostmap_by_ip(m->p[0].n.hm, ip4("10.77.0.3"));
	tb = hostmap_by_ip(m->p[1].n.hm, ip4("10.77.0.2"));
	assert_non_null(ta);
	assert_non_null(tb);
	assert_int_equal(ta->remote_index, tb->local_index);
	assert_int_equal(tb->remote_index, ta->local_index);
	assert_int_equal(hostmap_pending(m->p[0].n.hm), 0);
	assert_int_equal(hostmap_pending(m->p[1].n.hm), 0);
	assert_true(crosses(m, 0, 1, 5));
	assert_true(crosses(m, 1, 0, 6));
}

/* The peer restarts (new indexes, new keys, same address): the old
 * tunnel is closed and the next packet makes a new one. */
static void
test_mesh_peer_restarts(void **state)
{
	struct mesh *m = *state;
	uint16_t port;
	uint32_t old_index;

	start(m, 1, "b", "10.77.0.3", 0, NULL);
	port = node_port(&m->p[1].n);
	start(m, 0, "a", "10.77.0.2", 0, static_map("10.77.0.3", port));
	assert_true(crosses(m, 0, 1, 7));
	old_index = (hostmap_by_ip(m->p[0].n.hm,
	                 ip4("10.77.0.3")))
	                ->remote_index;
	stop(m, 1); /* sends closeTunnel */
	pump(m, 100);
	assert_int_equal(hostmap_tunnels(m->p[0].n.hm), 0);
	start(m, 1, "b", "10.77.0.3", port, NULL);
	assert_true(crosses(m, 0, 1, 8));
	assert_true(crosses(m, 1, 0, 9));
	assert_true((hostmap_by_ip(m->p[0].n.hm,
	                 ip4("10.77.0.3")))
	                ->remote_index != old_index);
}

/* B goes deaf (its socket is not read): A, still sending, tests the
 * tunnel and closes it after the deletion interval; when B hears again,
 * A's next packet makes a new tunnel. */
static void
test_mesh_silent_peer_closed_then_rehandshake(void **state)
{
	struct mesh *m = *state;
	char extra[256];
	uint8_t pkt[64];
	size_t len;
	int i;

	start(m, 1, "b", "10.77.0.3", 0, NULL);
	snprintf(extra, sizeof(extra),
	    "%stimers: {connection_alive_interval: 1, "
	    "pending_deletion_interval: 1}\n",
	    static_map("10.77.0.3", node_port(&m->p[1].n)));
	start(m, 0, "a", "10.77.0.2", 0, extra);
	assert_true(crosses(m, 0, 1, 12));
	assert_int_equal(event_del(m->p[1].n.wk->ev_udp), 0);
	len = echo(pkt, "10.77.0.2", "10.77.0.3", 13);
	for (i = 0; i < 40 && hostmap_tunnels(m->p[0].n.hm) > 0; i++) {
		assert_int_equal(send(m->p[0].fd, pkt, len, 0), (ssize_t)len);
		pump(m, 100);
	}
	assert_int_equal(hostmap_tunnels(m->p[0].n.hm), 0);
	assert_int_equal(event_add(m->p[1].n.wk->ev_udp, NULL), 0);
	/* b's socket holds a's test packets and data for the old tunnel,
	 * which b still has; a's new handshake replaces it */
	assert_true(crosses(m, 0, 1, 14));
	assert_true(crosses(m, 1, 0, 15));
	assert_int_equal(ctr(&m->p[0].n, "hsCompleted"), 2);
}

/*
 * A relay between a (which knows b as the relay's front port) and b
 * (which sees a at the relay's back port): the network in the middle,
 * losing, duplicating and reordering what the test says.
 */
struct relay {
	int front, back; /* front: a talks to it; back: it talks to b */
	struct sockaddr_in a, b;
	bool have_a;
	int drop_msg2;	/* drop this many handshake message 2s (b -> a) */
	bool dup_swap;	/* data a -> b: each twice, pairs swapped */
	uint8_t held[2048];
	ssize_t held_len;
	size_t dropped, forwarded;
};

static int
udp_sock(uint16_t *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void
relay_open(struct relay *r, uint16_t b_port, uint16_t *front_port)
{
	uint16_t bp;

	memset(r, 0, sizeof(*r));
	r->front = udp_sock(front_port);
	r->back = udp_sock(&bp);
	r->b.sin_family = AF_INET;
	r->b.sin_addr.s_addr = htonl(0x7f000001);
	r->b.sin_port = htons(b_port);
	r->held_len = -1;
}

/* Move b to a new back socket: b then sees a at a new address. */
static uint16_t
relay_move(struct relay *r)
{
	uint16_t bp;

	close(r->back);
	r->back = udp_sock(&bp);
	return bp;
}

static void
relay_close(struct relay *r)
{
	close(r->front);
	close(r->back);
}

static void
relay_run(struct relay *r)
{
	uint8_t buf[2048];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(r->front, buf, sizeof(buf), 0,
	            (struct sockaddr *)&from, &fl)) > 0) {
		r->a = from;
		r->have_a = true;
		if (r->dup_swap && buf[0] == 0x11) {
			if (r->held_len < 0) {
				memcpy(r->held, buf, (size_t)n);
				r->held_len = n;
				continue;
			}
			/* this one, then the held one, each twice */
			sendto(r->back, buf, (size_t)n, 0,
			    (struct sockaddr *)&r->b, sizeof(r->b));
			sendto(r->back, buf, (size_t)n, 0,
			    (struct sockaddr *)&r->b, sizeof(r->b));
			sendto(r->back, r->held, (size_t)r->held_len, 0,
			    (struct sockaddr *)&r->b, sizeof(r->b));
			sendto(r->back, r->held, (size_t)r->held_len, 0,
			    (struct sockaddr *)&r->b, sizeof(r->b));
			r->held_len = -1;
			r->forwarded += 4;
			continue;
		}
		sendto(r->back, buf, (size_t)n, 0, (struct sockaddr *)&r->b,
		    sizeof(r->b));
		r->forwarded++;
		fl = sizeof(from);
	}
	while ((n = recv(r->back, buf, sizeof(buf), 0)) > 0) {
		/* a handshake message 2: type 0, counter 2 */
		if (r->drop_msg2 > 0 && n > 16 && buf[0] == 0x10 &&
		    buf[15] == 2) {
			r->drop_msg2--;
			r->dropped++;
			continue;
		}
		if (r->have_a) {
			sendto(r->front, buf, (size_t)n, 0,
			    (struct sockaddr *)&r->a, sizeof(r->a));
			r->forwarded++;
		}
	}
}

/* Like crosses(), with the relay running between the loop's turns. */
static bool
crosses_via(struct mesh *m, struct relay *r, size_t a, size_t b, uint16_t id)
{
	uint8_t pkt[64], got[128];
	size_t len = echo(pkt, m->p[a].ip, m->p[b].ip, id);
	int64_t until = node_mono_ns() + 3000000000LL;

	assert_int_equal(send(m->p[a].fd, pkt, len, 0), (ssize_t)len);
	while (node_mono_ns() < until) {
		event_base_loop(m->base, EVLOOP_NONBLOCK);
		relay_run(r);
		if (recv(m->p[b].fd, got, sizeof(got), 0) == (ssize_t)len &&
		    memcmp(got, pkt, len) == 0)
			return true;
		usleep(300);
	}
	return false;
}

/* b's first message 2 is lost: a tries again, b answers with the same
 * message 2, and the tunnel comes up. */
static void
test_mesh_lost_stage2(void **state)
{
	struct mesh *m = *state;
	struct relay r;
	uint16_t fp;

	start(m, 1, "b", "10.77.0.3", 0, NULL);
	relay_open(&r, node_port(&m->p[1].n), &fp);
	r.drop_msg2 = 1;
	start(m, 0, "a", "10.77.0.2", 0, static_map("10.77.0.3", fp));
	assert_true(crosses_via(m, &r, 0, 1, 20));
	assert_int_equal(r.dropped, 1);
	assert_int_equal(ctr(&m->p[0].n, "hsCompleted"), 1);
	assert_int_equal(ctr(&m->p[1].n, "hsCompleted"), 1);
	assert_true(crosses_via(m, &r, 1, 0, 21));
	relay_close(&r);
}

/* Data duplicated and reordered on the way: each packet reaches b's TUN
 * exactly once, the duplicates counted as replays and not answered with
 * recvError (four of those would cost a its tunnel). */
static void
test_mesh_duplicated_reordered(void **state)
{
	struct mesh *m = *state;
	struct relay r;
	uint8_t pkt[64], got[128];
	bool seen[10] = {false};
	uint16_t fp, id;
	size_t len, n = 0;
	int64_t until;
	ssize_t g;

	start(m, 1, "b", "10.77.0.3", 0, NULL);
	relay_open(&r, node_port(&m->p[1].n), &fp);
	start(m, 0, "a", "10.77.0.2", 0, static_map("10.77.0.3", fp));
	assert_true(crosses_via(m, &r, 0, 1, 30));
	r.dup_swap = true;
	for (id = 0; id < 10; id++) {
		len = echo(pkt, "10.77.0.2", "10.77.0.3", (uint16_t)(100 + id));
		assert_int_equal(send(m->p[0].fd, pkt, len, 0), (ssize_t)len);
	}
	until = node_mono_ns() + 2000000000LL;
	while (node_mono_ns() < until) {
		event_base_loop(m->base, EVLOOP_NONBLOCK);
		relay_run(&r);
		while ((g = recv(m->p[1].fd, got, sizeof(got), 0)) > 0) {
			id = (uint16_t)(got[24] << 8 | got[25]);
			assert_true(id >= 100 && id < 110);
			assert_false(seen[id - 100]); /* never twice */
			seen[id - 100] = true;
			n++;
		}
		usleep(300);
	}
	assert_int_equal(n, 10);
	assert_true(ctr(&m->p[1].n, "rxReplay") >= 10);
	assert_int_equal(m->p[1].n.wk->st.msg_tx[MSGK_RECV_ERROR], 0);
	relay_close(&r);
}

/* b sees a at a new address: the tunnel moves there on a's next
 * authenticated packet, and not for an unauthenticated datagram. */
static void
test_mesh_roaming(void **state)
{
	struct mesh *m = *state;
	struct relay r;
	struct tunnel *t;
	uint16_t fp, moved, junk_port;
	uint8_t junk[32];
	struct sockaddr_in to = {.sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(0x7f000001)};
	int jfd;

	start(m, 1, "b", "10.77.0.3", 0, NULL);
	relay_open(&r, node_port(&m->p[1].n), &fp);
	start(m, 0, "a", "10.77.0.2", 0, static_map("10.77.0.3", fp));
	assert_true(crosses_via(m, &r, 0, 1, 40));
	moved = relay_move(&r);
	/* a stranger sends b a data header with a's tunnel index */
	t = hostmap_by_ip(m->p[1].n.hm, ip4("10.77.0.2"));
	assert_non_null(t);
	jfd = udp_sock(&junk_port);
	memset(junk, 0, sizeof(junk));
	junk[0] = 0x11;
	be32_put(junk + 4, t->local_index);
	junk[15] = 200;
	to.sin_port = htons(node_port(&m->p[1].n));
	sendto(jfd, junk, sizeof(junk), 0, (struct sockaddr *)&to, sizeof(to));
	pump(m, 50);
	t = hostmap_by_ip(m->p[1].n.hm, ip4("10.77.0.2"));
	assert_int_not_equal(t->remote.port, junk_port);
	assert_true(ctr(&m->p[1].n, "rxAuthFail") >= 1);
	/* a's next packet comes from the new address, authenticated */
	assert_true(crosses_via(m, &r, 0, 1, 41));
	t = hostmap_by_ip(m->p[1].n.hm, ip4("10.77.0.2"));
	assert_int_equal(t->remote.port, moved);
	assert_true(crosses_via(m, &r, 1, 0, 42));
	close(jfd);
	relay_close(&r);
}

/* A message 1 from the holder of name's certificate and key (made with
 * cert_for), into out; forge: with the certificate's name changed, so
 * that its signature fails. */
static size_t
msg1_of(struct mesh *m, const char *name, bool forge, uint8_t *out,
    size_t cap)
{
	char f[32], err[256], *buf;
	uint8_t priv[32], pl[2048], *cb;
	struct noise_hs hs;
	struct hspayload hp;
	struct cert *c;
	size_t len, cl, plen, body;

	snprintf(f, sizeof(f), "%s.key", name);
	assert_int_equal(fileio_read(path(m, f), FILEIO_MAX, &buf, &len, err,
	                     sizeof(err)),
	    0);
	assert_int_equal(pem_x25519_private(buf, len, priv, NULL), 0);
	free(buf);
	snprintf(f, sizeof(f), "%s.crt", name);
	assert_int_equal(fileio_read(path(m, f), FILEIO_MAX, &buf, &len, err,
	                     sizeof(err)),
	    0);
	assert_int_equal(cert_from_pem(buf, len, &c, NULL), 0);
	free(buf);
	if (forge)
		assert_int_equal(cert_set_name(c, "forged", 6), 0);
	assert_int_equal(cert_marshal(c, CERT_NO_PUBKEY, &cb, &cl), 0);
	cert_free(c);
	memset(&hp, 0, sizeof(hp));
	hp.cert = cb;
	hp.cert_len = cl;
	assert_int_equal(crypto_random(&hp.initiator_index, 4), 0);
	hp.initiator_index |= 1;
	hp.time = (uint64_t)node_real_ns();
	assert_int_equal(noise_init(&hs, CRYPTO_AES256GCM, true, priv, NULL), 0);
	assert_int_equal(hspayload_encode(&hp, pl, sizeof(pl), &plen), 0);
	assert_int_equal(noise_write_msg1(&hs, pl, plen, out + HEADER_LEN,
	                     cap - HEADER_LEN, &body),
	    0);
	noise_clear(&hs);
	free(cb);
	header_encode(out, HDR_HANDSHAKE, HDR_SUB_HANDSHAKE_IXPSK0, 0, 1);
	return HEADER_LEN + body;
}

/*
 * b is flooded with messages 1 from 127.0.0.2: forged signatures (each a
 * signature check), and one valid message replayed.  The guard takes
 * over (budget, then per-source limit), the replays are answered from
 * the certificate cache, and a, from 127.0.0.1, still gets its tunnel.
 */
static void
test_mesh_msg1_flood(void **state)
{
	struct mesh *m = *state;
	struct sockaddr_in x = {.sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(0x7f000002)},
	                   to = {.sin_family = AF_INET,
	                       .sin_addr.s_addr = htonl(0x7f000001)};
	uint8_t forged[4096], replay[4096];
	size_t flen, rlen;
	int fd, i;

	start(m, 1, "b", "10.77.0.3", 0, NULL);
	cert_for(m, "forger", "10.77.0.9");
	cert_for(m, "replayer", "10.77.0.10");
	flen = msg1_of(m, "forger", true, forged, sizeof(forged));
	rlen = msg1_of(m, "replayer", false, replay, sizeof(replay));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&x, sizeof(x)), 0);
	to.sin_port = htons(node_port(&m->p[1].n));
	for (i = 0; i < 4000; i++) {
		if (i % 2 == 0)
			sendto(fd, forged, flen, 0, (struct sockaddr *)&to,
			    sizeof(to));
		else
			sendto(fd, replay, rlen, 0, (struct sockaddr *)&to,
			    sizeof(to));
		if (i % 64 == 63)
			pump(m, 1);
	}
	/* while b works through it, a comes */
	start(m, 0, "a", "10.77.0.2", 0,
	    static_map("10.77.0.3", node_port(&m->p[1].n)));
	assert_true(crosses(m, 0, 1, 51));
	pump(m, 100);
	assert_true(ctr(&m->p[1].n, "hsRefused") >= 100);
	assert_true(ctr(&m->p[1].n, "hsUnderLoad") >= 1);
	assert_true(ctr(&m->p[1].n, "hsSourceLimited") +
	                ctr(&m->p[1].n, "hsQueueFull") >=
	            100);
	assert_true(ctr(&m->p[1].n, "hsCertCached") >= 1);
	/* one tunnel with the replayer, at most: replays change nothing */
	assert_true(ctr(&m->p[1].n, "hsCompleted") <= 2);
	close(fd);
}

/* A UDP port on 127.0.0.1 that nothing uses now. */
static uint16_t
free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* A and B know only the lighthouse: A finds B through it. */
static void
test_mesh_lighthouse_discovery(void **state)
{
	struct mesh *m = *state;
	char extra[512];
	uint16_t lp;

	start(m, 2, "lh", LH_IP, free_port(),
	    "lighthouse: {am_lighthouse: true}\n");
	lp = node_port(&m->p[2].n);
	snprintf(extra, sizeof(extra),
	    "static_host_map: {\"%s\": [\"127.0.0.1:%u\"]}\n"
	    "lighthouse: {am_lighthouse: false, interval: 1, hosts: [\"%s\"], "
	    "advertise_addrs: [\"127.0.0.1:0\"],\n"
	    "  local_allow_list: {interfaces: {'.*': false}}}\n",
	    LH_IP, lp, LH_IP);
	start(m, 1, "b", "10.77.0.3", 0, extra);
	start(m, 0, "a", "10.77.0.2", 0, extra);
	/* both register */
	pump(m, 300);
	assert_true(m->p[2].n.lhs != NULL &&
	    lhserver_registered(m->p[2].n.lhs) == 2);
	assert_true(crosses(m, 0, 1, 10));
	assert_true(crosses(m, 1, 0, 11));
	assert_true(ctr(&m->p[2].n, "lhQueries") >= 1);
	assert_true(ctr(&m->p[2].n, "lhReplies") >= 1);
}

/*
 * Punch notifications from the lighthouse wait punchy.delay in a pool of
 * PUNCH_JOBS jobs: a flood of them holds at most that many (the rest are
 * dropped and counted), each punches when its time comes, and the jobs
 * are free again after.  Jobs still pending when the node stops are
 * cancelled (teardown; ASan would see them leak).
 */
static void
test_mesh_punch_pool_bounded(void **state)
{
	struct mesh *m = *state;
	struct lhmsg *msg = calloc(1, sizeof(*msg));
	uint8_t got[16];
	struct tunnel *t;
	char extra[512];
	size_t i, punched = 0;
	uint16_t lp, tp;
	int tfd;
	int64_t until;

	assert_non_null(msg);
	start(m, 2, "lh", LH_IP, free_port(),
	    "lighthouse: {am_lighthouse: true}\n");
	lp = node_port(&m->p[2].n);
	snprintf(extra, sizeof(extra),
	    "static_host_map: {\"%s\": [\"127.0.0.1:%u\"]}\n"
	    "lighthouse: {am_lighthouse: false, interval: 60, hosts: "
	    "[\"%s\"]}\npunchy: {punch: true, delay: 300ms}\n",
	    LH_IP, lp, LH_IP);
	start(m, 1, "b", "10.77.0.3", 0, extra);
	pump(m, 300); /* b registers: its tunnel to the lighthouse is up */
	t = hostmap_by_ip(m->p[1].n.hm, ip4(LH_IP));
	assert_non_null(t);
	/* where the punches go: a socket of the test's */
	tfd = udp_sock(&tp);
	msg->type = LHMSG_HOST_PUNCH_NOTIFICATION;
	msg->has_details = true;
	msg->vpn_ip = ip4("10.77.0.9");
	msg->v4[0].ip = 0x7f000001;
	msg->v4[0].port = tp;
	msg->n4 = 1;
	for (i = 0; i < PUNCH_JOBS + 8; i++)
		lhclient_recv(&m->p[1].n, t, msg);
	assert_int_equal(ctr(&m->p[1].n, "lhPunches"), PUNCH_JOBS);
	assert_int_equal(ctr(&m->p[1].n, "lhPunchDropped"), 8);
	until = node_mono_ns() + 2000000000LL;
	while (node_mono_ns() < until && punched < PUNCH_JOBS) {
		event_base_loop(m->base, EVLOOP_NONBLOCK);
		while (recv(tfd, got, sizeof(got), 0) == 1)
			punched++;
		usleep(500);
	}
	assert_int_equal(punched, PUNCH_JOBS);
	/* the jobs are free again; these stay pending until the stop */
	lhclient_recv(&m->p[1].n, t, msg);
	assert_int_equal(ctr(&m->p[1].n, "lhPunches"), PUNCH_JOBS + 1);
	assert_int_equal(ctr(&m->p[1].n, "lhPunchDropped"), 8);
	/* an answer about a peer b is not reaching is not kept */
	msg->type = LHMSG_HOST_QUERY_REPLY;
	lhclient_recv(&m->p[1].n, t, msg);
	assert_int_equal(ctr(&m->p[1].n, "lhUnsolicited"), 1);
	assert_int_equal(remotes_count(m->p[1].n.rem), 0);
	close(tfd);
	free(msg);
}

static struct udp_addr
sa(const char *ip, uint16_t port)
{
	struct udp_addr a;

	udp_addr_from_v4(&a, ip4(ip), port);
	return a;
}

/* The simulated network loses every hole punch (a one-byte datagram). */
static bool
drop_punches(void *arg, const struct udp_addr *from, const struct udp_addr *to,
    const uint8_t *p, size_t len)
{
	(void)arg;
	(void)from;
	(void)to;
	(void)p;
	return len == 1;
}

/*
 * A and B each behind a NAT that lets in only what comes from where they
 * have sent to, on a simulated network; only the lighthouse is public.
 * A's handshake to B's public address is refused by B's NAT until B,
 * told by the lighthouse, punches towards A: then A's next try gets
 * through, and data crosses both ways.  With the punches lost, A's
 * handshakes time out.
 */
static void
test_mesh_punch_through_nat(void **state)
{
	struct mesh *m = *state;
	struct simnet *net = simnet_new();
	struct udp_addr la = sa("198.51.100.1", 4242),
			ap = sa("192.168.1.2", 4242), bp = sa("192.168.2.2", 4242),
			apub = sa("203.0.113.10", 5000),
			bpub = sa("203.0.113.20", 6000);
	struct io_udp *ua, *ub;
	struct tunnel *t;
	char extra[512];
	uint8_t pkt[64];
	size_t len;
	int i;

	assert_non_null(net);
	start_on(m, 2, "lh", LH_IP, simnet_open(net, &la), 4242,
	    "lighthouse: {am_lighthouse: true}\n");
	snprintf(extra, sizeof(extra),
	    "static_host_map: {\"%s\": [\"198.51.100.1:4242\"]}\n"
	    "lighthouse: {am_lighthouse: false, interval: 60, hosts: [\"%s\"],"
	    "\n  local_allow_list: {interfaces: {'.*': false}}}\n"
	    "punchy: {delay: 1ms}\n",
	    LH_IP, LH_IP);
	assert_non_null(ua = simnet_open(net, &ap));
	assert_non_null(ub = simnet_open(net, &bp));
	simnet_nat(ua, &apub);
	simnet_nat(ub, &bpub);
	start_on(m, 1, "b", "10.77.0.3", ub, 0, extra);
	start_on(m, 0, "a", "10.77.0.2", ua, 0, extra);
	pump(m, 200); /* both register, from their public addresses */
	assert_int_equal(lhserver_registered(m->p[2].n.lhs), 2);
	/* the punches lost: B's NAT refuses A's handshake to the end */
	simnet_set_filter(net, drop_punches, NULL);
	len = echo(pkt, "10.77.0.2", "10.77.0.3", 49);
	assert_int_equal(send(m->p[0].fd, pkt, len, 0), (ssize_t)len);
	for (i = 0; i < 40 && ctr(&m->p[0].n, "hsTimedOut") == 0; i++)
		pump(m, 100);
	assert_int_equal(ctr(&m->p[0].n, "hsTimedOut"), 1);
	/* the lighthouse's answer about B went with the handshake */
	assert_int_equal(remotes_count(m->p[0].n.rem), 0);
	assert_int_equal(hostmap_tunnels(m->p[0].n.hm), 1); /* the LH's */
	assert_true(simnet_counts(net)->nat_refused >= 1);
	assert_true(ctr(&m->p[1].n, "lhPunches") >= 1);
	/* punches get through: so does the handshake */
	simnet_set_filter(net, NULL, NULL);
	assert_true(crosses(m, 0, 1, 50));
	assert_true(crosses(m, 1, 0, 51));
	t = hostmap_by_ip(m->p[0].n.hm, ip4("10.77.0.3"));
	assert_non_null(t);
	assert_true(udp_addr_eq(&t->remote, &bpub));
	t = hostmap_by_ip(m->p[1].n.hm, ip4("10.77.0.2"));
	assert_non_null(t);
	assert_true(udp_addr_eq(&t->remote, &apub));
	for (i = 0; i < 3; i++)
		stop(m, (size_t)i); /* their endpoints close before the net */
	simnet_free(net);
}

/*
 * wire.md 8.3: every 5000th packet to a peer asks the lighthouses where
 * it is now.
 */
static void
test_mesh_requery(void **state)
{
	struct mesh *m = *state;
	uint8_t pkt[64], got[128];
	char extra[512];
	uint64_t q0;
	size_t len;
	int i, sent = 0;

	start(m, 2, "lh", LH_IP, free_port(),
	    "lighthouse: {am_lighthouse: true}\n");
	snprintf(extra, sizeof(extra),
	    "static_host_map: {\"%s\": [\"127.0.0.1:%u\"]}\n"
	    "lighthouse: {am_lighthouse: false, interval: 60, hosts: "
	    "[\"%s\"], advertise_addrs: [\"127.0.0.1:0\"],\n"
	    "  local_allow_list: {interfaces: {'.*': false}}}\n",
	    LH_IP, node_port(&m->p[2].n), LH_IP);
	start(m, 1, "b", "10.77.0.3", 0, extra);
	start(m, 0, "a", "10.77.0.2", 0, extra);
	pump(m, 200);
	assert_true(crosses(m, 0, 1, 89));
	q0 = ctr(&m->p[2].n, "lhQueries");
	len = echo(pkt, "10.77.0.2", "10.77.0.3", 90);
	while (sent < 5000) {
		for (i = 0; i < 100; i++, sent++)
			assert_int_equal(send(m->p[0].fd, pkt, len, 0),
			    (ssize_t)len);
		pump(m, 5);
		while (recv(m->p[1].fd, got, sizeof(got), 0) > 0)
			;
	}
	pump(m, 100);
	assert_true(ctr(&m->p[2].n, "lhQueries") > q0);
}

/* A node started without lighthouse.hosts starts registering when a
 * reload gives it some, and stops when another takes them away. */
static void
test_mesh_reload_starts_registering(void **state)
{
	struct mesh *m = *state;
	char extra[512];
	uint64_t updates;
	uint16_t lp;

	start(m, 2, "lh", LH_IP, free_port(),
	    "lighthouse: {am_lighthouse: true}\n");
	lp = node_port(&m->p[2].n);
	snprintf(extra, sizeof(extra),
	    "static_host_map: {\"%s\": [\"127.0.0.1:%u\"]}\n", LH_IP, lp);
	start(m, 0, "a", "10.77.0.2", 0, extra);
	pump(m, 300);
	assert_int_equal(lhserver_registered(m->p[2].n.lhs), 0);
	snprintf(extra, sizeof(extra),
	    "static_host_map: {\"%s\": [\"127.0.0.1:%u\"]}\n"
	    "lighthouse: {am_lighthouse: false, interval: 1, hosts: [\"%s\"],"
	    " advertise_addrs: [\"127.0.0.1:0\"],\n"
	    "  local_allow_list: {interfaces: {'.*': false}}}\n",
	    LH_IP, lp, LH_IP);
	write_cfg(m, 0, "a", 0, extra);
	node_reload(&m->p[0].n);
	pump(m, 300);
	assert_int_equal(lhserver_registered(m->p[2].n.lhs), 1);
	/* every second (lighthouse.interval: 1) until hosts go away */
	pump(m, 1500);
	assert_true((updates = ctr(&m->p[2].n, "lhUpdates")) >= 2);
	snprintf(extra, sizeof(extra),
	    "static_host_map: {\"%s\": [\"127.0.0.1:%u\"]}\n", LH_IP, lp);
	write_cfg(m, 0, "a", 0, extra);
	node_reload(&m->p[0].n);
	pump(m, 1500);
	assert_int_equal(ctr(&m->p[2].n, "lhUpdates"), updates);
}

/* A DNS query "a. A" to 127.0.0.1:port: the answer's address, 0 for an
 * answer without one, or -1 when none comes within 300 ms. */
static int64_t
dns_a(struct mesh *m, uint16_t port)
{
	static const uint8_t q[] = {0x42, 0x42, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0,
	    0, 1, 'a', 0, 0, 1, 0, 1};
	struct sockaddr_in sa = {.sin_family = AF_INET,
	    .sin_port = htons(port),
	    .sin_addr.s_addr = htonl(0x7f000001)};
	int64_t until = node_mono_ns() + 300000000LL;
	uint8_t r[512];
	ssize_t n = -1;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_int_equal(
	    sendto(fd, q, sizeof(q), 0, (struct sockaddr *)&sa, sizeof(sa)),
	    (ssize_t)sizeof(q));
	while (n < 0 && node_mono_ns() < until) {
		event_base_loop(m->base, EVLOOP_NONBLOCK);
		if ((n = recv(fd, r, sizeof(r), 0)) < 0)
			usleep(500);
	}
	close(fd);
	if (n < (ssize_t)sizeof(q) || r[0] != 0x42 || r[1] != 0x42)
		return -1;
	return (r[6] << 8 | r[7]) == 0 ? 0 : (int64_t)be32_get(r + n - 4);
}

/* A lighthouse's YAML with its DNS responder at host:port, and punchy. */
static void
lh_dns(char *buf, size_t len, const char *host, uint16_t port, bool punch)
{
	snprintf(buf, len,
	    "lighthouse: {am_lighthouse: true, serve_dns: true,"
	    " dns: {host: %s, port: %u}}\n%s",
	    host, port, punch ? "punchy: {punch: true}\n" : "");
}

/*
 * What a reload applies to running I/O, with a tunnel up: a lighthouse's
 * DNS responder turned on (with the records of the tunnel already up),
 * moved to another port (the old one stops answering), left where it is
 * when the new address cannot be bound, turned off and on again with its
 * records; the socket's buffers set (0: the system's default); the
 * punchy.punch timer started and stopped.  The tunnel is never rebuilt.
 */
static void
test_mesh_reload_live_io(void **state)
{
	struct mesh *m = *state;
	struct node *lh = &m->p[2].n;
	char lhx[256], extra[512];
	uint16_t lp, d1 = free_port(), d2 = free_port();
	uint32_t a = ip4("10.77.0.2");
	socklen_t sl = sizeof(int);
	int fd, v, wdef = 0;
	FILE *f;

	start(m, 2, "lh", LH_IP, free_port(),
	    "lighthouse: {am_lighthouse: true}\n");
	lp = node_port(lh);
	snprintf(extra, sizeof(extra),
	    "static_host_map: {\"%s\": [\"127.0.0.1:%u\"]}\n"
	    "lighthouse: {interval: 1, hosts: [\"%s\"]}\n",
	    LH_IP, lp, LH_IP);
	start(m, 0, "a", "10.77.0.2", 0, extra);
	pump(m, 300);
	assert_int_equal(hostmap_tunnels(lh->hm), 1);
	assert_null(lh->dns);
	assert_false(punch_punchy(lh->punch));
	/* on: the zone starts with the tunnel up */
	lh_dns(lhx, sizeof(lhx), "127.0.0.1", d1, false);
	write_cfg(m, 2, "lh", lp, lhx);
	node_reload(lh);
	assert_int_equal(dns_a(m, d1), a);
	/* another port, the buffers, punchy.punch */
	lh_dns(lhx, sizeof(lhx), "127.0.0.1", d2, true);
	m->p[2].listenx = ", read_buffer: 65536, write_buffer: 0";
	write_cfg(m, 2, "lh", lp, lhx);
	node_reload(lh);
	assert_int_equal(dns_a(m, d2), a);
	assert_int_equal(dns_a(m, d1), -1);
	fd = lh->wk->udp->ops->fd(lh->wk->udp);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &sl), 0);
	assert_int_equal(v, 2 * 65536); /* the kernel doubles it */
	assert_non_null(f = fopen("/proc/sys/net/core/wmem_default", "r"));
	assert_int_equal(fscanf(f, "%d", &wdef), 1);
	fclose(f);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &sl), 0);
	assert_int_equal(v, wdef & ~1);
	assert_true(punch_punchy(lh->punch));
	/* an address that is not ours: the responder stays */
	lh_dns(lhx, sizeof(lhx), "192.0.2.1", d1, true);
	write_cfg(m, 2, "lh", lp, lhx);
	node_reload(lh);
	assert_int_equal(dns_a(m, d2), a);
	/* off, and punchy.punch off */
	write_cfg(m, 2, "lh", lp, "lighthouse: {am_lighthouse: true}\n");
	node_reload(lh);
	assert_int_equal(dns_a(m, d2), -1);
	assert_false(punch_punchy(lh->punch));
	/* on again, on the first port: the records kept */
	lh_dns(lhx, sizeof(lhx), "127.0.0.1", d1, false);
	write_cfg(m, 2, "lh", lp, lhx);
	node_reload(lh);
	assert_int_equal(dns_a(m, d1), a);
	assert_int_equal(hostmap_tunnels(lh->hm), 1);
	assert_int_equal(ctr(lh, "hsCompleted"), 1);
}

/* An echo request from a to b, written into a's TUN; the test reads it
 * from b's later. */
static void
send_echo(struct mesh *m, size_t a, size_t b, uint16_t id)
{
	uint8_t pkt[64];
	size_t len = echo(pkt, m->p[a].ip, m->p[b].ip, id);

	assert_int_equal(send(m->p[a].fd, pkt, len, 0), (ssize_t)len);
}

/* Echo requests that reached b's TUN, by id (ids from base), counted
 * into seen; the number read. */
static size_t
read_echoes(struct mesh *m, size_t b, uint16_t base, uint8_t *seen,
    size_t n)
{
	uint8_t got[128];
	size_t cnt = 0;
	uint16_t id;

	while (recv(m->p[b].fd, got, sizeof(got), 0) == 60) {
		id = (uint16_t)(got[24] << 8 | got[25]);
		if (id >= base && id < base + n) {
			seen[id - base]++;
			cnt++;
		}
	}
	return cnt;
}

/*
 * Reloads under a steady stream a -> b: each side reloaded with settings
 * that apply live, one that needs a restart (kept, said), a firewall
 * change, and a broken file (refused, nothing changed): every packet
 * arrives exactly once, no tunnel is rebuilt, the live settings are in
 * force and the kept one is not.  Then b's firewall reloaded to refuse
 * ICMP: the stream stops at b's firewall; reloaded back, it flows again,
 * on the same tunnel.
 */
static void
test_mesh_reload_under_traffic(void **state)
{
	struct mesh *m = *state;
	enum { N = 300 };
	uint8_t seen[N];
	struct node_cfg *before;
	char extra[160];
	uint16_t a_port, b_port, a_cfg_port;
	uint64_t drops;
	size_t i, got = 0;
	FILE *f;

	memset(seen, 0, sizeof(seen));
	start(m, 1, "b", "10.77.0.3", 0, NULL);
	b_port = node_port(&m->p[1].n);
	snprintf(extra, sizeof(extra), "%s", static_map("10.77.0.3", b_port));
	start(m, 0, "a", "10.77.0.2", 0, extra);
	a_port = node_port(&m->p[0].n);
	a_cfg_port = m->p[0].n.cfg->listen_port; /* 0: any */
	assert_true(crosses(m, 0, 1, 60));
	for (i = 0; i < N; i++) {
		send_echo(m, 0, 1, (uint16_t)(1000 + i));
		if (i == 50) { /* a: live settings and a restart-only one */
			write_cfg_with(m, 0, "a", (uint16_t)(a_port ^ 1), "40ms",
			    ANY_IN, extra);
			node_reload(&m->p[0].n);
		} else if (i == 100) { /* b: a new inbound table, same flows */
			write_cfg_with(m, 1, "b", b_port, "20ms",
			    "[{port: any, proto: icmp, host: any}, "
			    "{port: 22, proto: tcp, group: ops}]",
			    NULL);
			node_reload(&m->p[1].n);
		} else if (i == 150) { /* a: a broken file changes nothing */
			before = m->p[0].n.cfg;
			assert_non_null(f = fopen(m->p[0].yml, "w"));
			fputs("pki: {ca: [\n", f);
			fclose(f);
			node_reload(&m->p[0].n);
			assert_ptr_equal(m->p[0].n.cfg, before);
		}
		event_base_loop(m->base, EVLOOP_NONBLOCK);
		got += read_echoes(m, 1, 1000, seen, N);
	}
	for (i = 0; i < 200 && got < N; i++) {
		pump(m, 5);
		got += read_echoes(m, 1, 1000, seen, N);
	}
	for (i = 0; i < N; i++)
		if (seen[i] != 1)
			fail_msg("packet %zu arrived %u times", i, seen[i]);
	assert_int_equal(ctr(&m->p[0].n, "hsCompleted"), 1);
	assert_int_equal(ctr(&m->p[1].n, "hsCompleted"), 1);
	assert_int_equal(m->p[0].n.cfg->hs_try_interval, 40000000);
	assert_int_equal(m->p[0].n.cfg->listen_port, a_cfg_port); /* kept */
	assert_int_equal(node_port(&m->p[0].n), a_port);
	/* b refuses ICMP now: a's packets stop at b's firewall */
	write_cfg_with(m, 1, "b", b_port, "20ms",
	    "[{port: 22, proto: tcp, host: any}]", NULL);
	node_reload(&m->p[1].n);
	drops = ctr(&m->p[1].n, "fwInDrop");
	assert_false(crosses(m, 0, 1, 61));
	assert_true(ctr(&m->p[1].n, "fwInDrop") > drops);
	write_cfg(m, 1, "b", b_port, NULL);
	node_reload(&m->p[1].n);
	assert_true(crosses(m, 0, 1, 62));
	assert_int_equal(ctr(&m->p[0].n, "hsCompleted"), 1);
	assert_int_equal(hostmap_tunnels(m->p[0].n.hm), 1);
}

/*
 * tun.unsafe_routes: a reaches 192.168.50.0/24 behind b (whose
 * certificate holds that subnet) through b, and the answers come back;
 * a packet for a network with no route is counted and goes nowhere; a
 * packet b sends with a source that is not b's is dropped by a and
 * counted as spoofed; a reload takes the route away and gives it back.
 */
static void
test_mesh_unsafe_route(void **state)
{
	struct mesh *m = *state;
	uint8_t pkt[64], got[128];
	struct tunnel *t;
	char extra[128];
	size_t len;
	ssize_t r;

	cert_with(m, "b", "10.77.0.3", "192.168.50.0/24");
	start(m, 1, "b", "10.77.0.3", 0, NULL);
	snprintf(extra, sizeof(extra), "%s",
	    static_map("10.77.0.3", node_port(&m->p[1].n)));
	m->p[0].tunx = ", unsafe_routes: [{route: 192.168.50.0/24, "
	               "via: 10.77.0.3}]";
	start(m, 0, "a", "10.77.0.2", 0, extra);
	/* there through b, and back */
	len = echo(pkt, "10.77.0.2", "192.168.50.7", 70);
	assert_int_equal(send(m->p[0].fd, pkt, len, 0), (ssize_t)len);
	r = pump_until_packet(m, m->p[1].fd, got, sizeof(got), 3000);
	assert_int_equal(r, (ssize_t)len);
	assert_memory_equal(got, pkt, len);
	len = echo(pkt, "192.168.50.7", "10.77.0.2", 71);
	assert_int_equal(send(m->p[1].fd, pkt, len, 0), (ssize_t)len);
	r = pump_until_packet(m, m->p[0].fd, got, sizeof(got), 3000);
	assert_int_equal(r, (ssize_t)len);
	assert_memory_equal(got, pkt, len);
	/* no route */
	len = echo(pkt, "10.77.0.2", "192.168.60.1", 72);
	assert_int_equal(send(m->p[0].fd, pkt, len, 0), (ssize_t)len);
	assert_int_equal(
	    pump_until_packet(m, m->p[1].fd, got, sizeof(got), 200), -1);
	assert_int_equal(ctr(&m->p[0].n, "txNoRoute"), 1);
	/* b, past its own firewall, sends from an address not its own */
	t = hostmap_by_ip(m->p[1].n.hm, ip4("10.77.0.2"));
	assert_non_null(t);
	len = echo(pkt, "192.168.66.6", "10.77.0.2", 73);
	assert_int_equal(tunnel_send(&m->p[1].n, t, HDR_MESSAGE,
	                     HDR_SUB_MESSAGE_NONE, pkt, len),
	    0);
	worker_flush(m->p[1].n.wk);
	assert_int_equal(
	    pump_until_packet(m, m->p[0].fd, got, sizeof(got), 200), -1);
	assert_int_equal(ctr(&m->p[0].n, "rxSpoofed"), 1);
	/* a reload takes the route away, another gives it back */
	m->p[0].tunx = NULL;
	write_cfg(m, 0, "a", 0, extra);
	node_reload(&m->p[0].n);
	len = echo(pkt, "10.77.0.2", "192.168.50.7", 74);
	assert_int_equal(send(m->p[0].fd, pkt, len, 0), (ssize_t)len);
	assert_int_equal(
	    pump_until_packet(m, m->p[1].fd, got, sizeof(got), 200), -1);
	assert_int_equal(ctr(&m->p[0].n, "txNoRoute"), 2);
	m->p[0].tunx = ", unsafe_routes: [{route: 192.168.48.0/20, "
	               "via: 10.77.0.3, mtu: 1200, metric: 5}]";
	write_cfg(m, 0, "a", 0, extra);
	node_reload(&m->p[0].n);
	len = echo(pkt, "10.77.0.2", "192.168.50.9", 75);
	assert_int_equal(send(m->p[0].fd, pkt, len, 0), (ssize_t)len);
	r = pump_until_packet(m, m->p[1].fd, got, sizeof(got), 3000);
	assert_int_equal(r, (ssize_t)len);
	assert_memory_equal(got, pkt, len);
	assert_int_equal(ctr(&m->p[0].n, "hsCompleted"), 1);
}

/* The simulated network loses everything between two addresses. */
struct cut {
	struct udp_addr a, b;
	bool on;
};

static bool
cut_path(void *arg, const struct udp_addr *from, const struct udp_addr *to,
    const uint8_t *p, size_t len)
{
	const struct cut *c = arg;

	(void)p;
	(void)len;
	return c->on &&
	       ((udp_addr_eq(from, &c->a) && udp_addr_eq(to, &c->b)) ||
	           (udp_addr_eq(from, &c->b) && udp_addr_eq(to, &c->a)));
}

/* Start the lighthouse (slot 0) on net, and return the YAML of a node
 * that registers with it, with `more` appended. */
static const char *
relay_mesh(struct mesh *m, struct simnet *net, const char *more)
{
	static char extra[768];
	struct udp_addr la = sa("198.51.100.1", 4242);

	start_on(m, 0, "lh", LH_IP, simnet_open(net, &la), 4242,
	    "lighthouse: {am_lighthouse: true}\n");
	snprintf(extra, sizeof(extra),
	    "static_host_map: {\"%s\": [\"198.51.100.1:4242\"]}\n"
	    "lighthouse: {am_lighthouse: false, interval: 60, hosts: [\"%s\"],"
	    "\n  local_allow_list: {interfaces: {'.*': false}}}\n"
	    "timers: {connection_alive_interval: 1, "
	    "pending_deletion_interval: 1}\n%s",
	    LH_IP, LH_IP, more);
	return extra;
}

static struct tunnel *
tunnel_to(struct mesh *m, size_t i, const char *ip)
{
	return hostmap_by_ip(m->p[i].n.hm, ip4(ip));
}

/* Loses the first `drop` test requests from a to b, and counts them
 * all. */
struct lose_tests {
	struct udp_addr a, b;
	int drop, seen, dropped;
};

static bool
lose_tests(void *arg, const struct udp_addr *from, const struct udp_addr *to,
    const uint8_t *p, size_t len)
{
	struct lose_tests *l = arg;

	if (len < 16 || !udp_addr_eq(from, &l->a) || !udp_addr_eq(to, &l->b) ||
	    p[0] != (1 << 4 | HDR_TEST) || p[1] != HDR_SUB_TEST_REQUEST)
		return false;
	l->seen++;
	if (l->drop == 0)
		return false;
	l->drop--;
	l->dropped++;
	return true;
}

/*
 * Traffic only from A to B, so A's connection manager tests the tunnel
 * at each alive interval.  The first two test requests are lost: the
 * third, sent within the deletion interval, is answered and the tunnel
 * stays (Nebula 1.6.1 sends one and would delete it).  Then every test
 * is lost: exactly three go out, and the tunnel is deleted.
 */
static void
test_mesh_lost_test_request_retried(void **state)
{
	struct mesh *m = *state;
	struct simnet *net = simnet_new();
	struct udp_addr ap = sa("192.0.2.2", 4242), bp = sa("192.0.2.3", 4242);
	struct lose_tests l = {ap, bp, 0, 0, 0};
	char extra[256];
	struct tunnel *t;
	uint32_t idx;
	int i, seen;

	assert_non_null(net);
	simnet_set_filter(net, lose_tests, &l);
	start_on(m, 1, "b", "10.77.0.3", simnet_open(net, &bp), 0, NULL);
	snprintf(extra, sizeof(extra),
	    "static_host_map: {\"10.77.0.3\": [\"192.0.2.3:4242\"]}\n"
	    "timers: {connection_alive_interval: 1, "
	    "pending_deletion_interval: 1}\n");
	start_on(m, 0, "a", "10.77.0.2", simnet_open(net, &ap), 0, extra);
	assert_true(crosses(m, 0, 1, 1));
	idx = tunnel_to(m, 0, "10.77.0.3")->local_index;
	l.drop = 2;
	for (i = 0; i < 60 && l.seen < 4; i++) {
		assert_true(crosses(m, 0, 1, (uint16_t)(10 + i)));
		pump(m, 100);
	}
	assert_int_equal(l.dropped, 2);
	assert_true(l.seen >= 4); /* two lost, one answered, the next check */
	t = tunnel_to(m, 0, "10.77.0.3");
	assert_non_null(t);
	assert_int_equal(t->local_index, idx);
	assert_int_equal(ctr(&m->p[0].n, "hsCompleted"), 1);
	/* all lost: three tries, then the tunnel goes */
	l.drop = 1000;
	seen = l.seen;
	for (i = 0; i < 60 && hostmap_tunnels(m->p[0].n.hm) > 0; i++) {
		uint8_t pkt[64];
		size_t len = echo(pkt, "10.77.0.2", "10.77.0.3", 77);

		assert_int_equal(send(m->p[0].fd, pkt, len, 0), (ssize_t)len);
		pump(m, 100);
	}
	assert_int_equal(hostmap_tunnels(m->p[0].n.hm), 0);
	assert_int_equal(l.seen - seen, 3);
	stop(m, 0);
	stop(m, 1);
	simnet_free(net);
}

/*
 * A and B cannot reach each other (the network loses everything between
 * them); R, a relay, reaches both, and B names it in relay.relays.  A's
 * handshake goes through R (wire.md 9): data crosses both ways, wrapped
 * on each hop, and R forwards what it cannot read.  Then the direct path
 * opens: the tunnel's probes find it and traffic leaves the relay.
 */
static void
test_mesh_relay(void **state)
{
	struct mesh *m = *state;
	struct simnet *net = simnet_new();
	struct udp_addr ap = sa("192.0.2.2", 4242), bp = sa("192.0.2.3", 4242),
			rp = sa("192.0.2.9", 4242);
	struct cut cut = {ap, bp, true};
	const char *extra;
	char yr[1024], yb[1024];
	struct tunnel *t;
	uint64_t fwd;
	int i;

	assert_non_null(net);
	simnet_set_filter(net, cut_path, &cut);
	extra = relay_mesh(m, net, "");
	snprintf(yr, sizeof(yr), "%srelay: {am_relay: true}\n", extra);
	snprintf(yb, sizeof(yb), "%srelay: {relays: [\"10.77.0.9\"]}\n", extra);
	start_on(m, 1, "r", "10.77.0.9", simnet_open(net, &rp), 0, yr);
	start_on(m, 2, "b", "10.77.0.3", simnet_open(net, &bp), 0, yb);
	start_on(m, 3, "a", "10.77.0.2", simnet_open(net, &ap), 0, extra);
	pump(m, 200);
	assert_true(crosses(m, 3, 2, 80));
	assert_true(crosses(m, 2, 3, 81));
	t = tunnel_to(m, 3, "10.77.0.3");
	assert_non_null(t);
	assert_true(t->relayed);
	assert_int_equal(t->relays[0], ip4("10.77.0.9"));
	t = tunnel_to(m, 2, "10.77.0.2");
	assert_non_null(t);
	assert_true(t->relayed);
	assert_true(ctr(&m->p[1].n, "relayForwarded") >= 4);
	assert_true(ctr(&m->p[3].n, "relayTx") >= 1);
	assert_true(ctr(&m->p[3].n, "relayRx") >= 1);
	assert_int_equal(ctr(&m->p[1].n, "relays"), 2);
	assert_int_equal(ctr(&m->p[3].n, "relays"), 1);
	assert_true(simnet_counts(net)->filtered >= 1);
	/* the direct path opens: probes move the tunnel onto it */
	cut.on = false;
	for (i = 0; i < 50 && (tunnel_to(m, 3, "10.77.0.3")->relayed ||
	                          tunnel_to(m, 2, "10.77.0.2")->relayed);
	     i++) {
		assert_true(crosses(m, 3, 2, (uint16_t)(100 + i)));
		pump(m, 100);
	}
	assert_false(tunnel_to(m, 3, "10.77.0.3")->relayed);
	assert_false(tunnel_to(m, 2, "10.77.0.2")->relayed);
	assert_true(udp_addr_eq(&tunnel_to(m, 3, "10.77.0.3")->remote, &bp));
	fwd = ctr(&m->p[1].n, "relayForwarded");
	assert_true(crosses(m, 3, 2, 90));
	assert_true(crosses(m, 2, 3, 91));
	assert_int_equal(ctr(&m->p[1].n, "relayForwarded"), fwd);
	for (i = 0; i < 4; i++)
		stop(m, (size_t)i);
	simnet_free(net);
}

/*
 * Who may use a relay: a node without am_relay refuses to relay; B
 * refuses a relay it did not list; a relay refuses a request that names
 * another origin.  Each refusal is counted and nothing is set up.
 */
static void
test_mesh_relay_refused(void **state)
{
	struct mesh *m = *state;
	struct simnet *net = simnet_new();
	struct udp_addr ap = sa("192.0.2.2", 4242), bp = sa("192.0.2.3", 4242),
			rp = sa("192.0.2.9", 4242);
	struct cut cut = {ap, bp, true};
	uint8_t buf[NEBCTL_ENCODED_MAX], pkt[64];
	struct nebctl req = {NEBCTL_CREATE_RELAY_REQUEST, 77, 0,
	    0, 0};
	const char *extra;
	char yb[1024];
	struct tunnel *t;
	size_t len;

	assert_non_null(net);
	simnet_set_filter(net, cut_path, &cut);
	extra = relay_mesh(m, net, "");
	/* R lists itself nowhere and is no relay; B names R */
	start_on(m, 1, "r", "10.77.0.9", simnet_open(net, &rp), 0, extra);
	snprintf(yb, sizeof(yb), "%srelay: {relays: [\"10.77.0.9\"]}\n", extra);
	start_on(m, 2, "b", "10.77.0.3", simnet_open(net, &bp), 0, yb);
	start_on(m, 3, "a", "10.77.0.2", simnet_open(net, &ap), 0, extra);
	pump(m, 200);
	len = echo(pkt, "10.77.0.2", "10.77.0.3", 82);
	assert_int_equal(send(m->p[3].fd, pkt, len, 0), (ssize_t)len);
	pump(m, 1500);
	assert_null(tunnel_to(m, 3, "10.77.0.3"));
	assert_true(ctr(&m->p[1].n, "relayRefused") >= 1); /* no am_relay */
	assert_int_equal(ctr(&m->p[1].n, "relays"), 0);
	/* a request to B from a relay B did not list (A, over its tunnel
	 * with B's lighthouse... here: A asks B directly, as if A were a
	 * relay for the lighthouse) */
	t = tunnel_to(m, 3, "10.77.0.9");
	assert_non_null(t);
	req.relay_from_ip = ip4("10.77.0.1");
	req.relay_to_ip = ip4("10.77.0.9");
	assert_int_equal(nebctl_encode(&req, buf, sizeof(buf), &len), 0);
	assert_int_equal(tunnel_send(&m->p[3].n, t, HDR_CONTROL, 0, buf, len),
	    0);
	worker_flush(m->p[3].n.wk);
	pump(m, 100);
	/* R is the target but A is not in R's relay.relays (empty) */
	assert_true(ctr(&m->p[1].n, "relayRefused") >= 2);
	assert_int_equal(ctr(&m->p[1].n, "relays"), 0);
	for (int i = 0; i < 4; i++)
		stop(m, (size_t)i);
	simnet_free(net);
}

/*
 * The relay table's bound per neighbour: a peer that B lets relay to it
 * asks for more relays than RELAY_MAX_PER_PEER; the rest are refused
 * and counted, and the table stays at the bound.  Answers to requests
 * nobody made are refused too.
 */
static void
test_mesh_relay_bounds(void **state)
{
	struct mesh *m = *state;
	struct nebctl req = {NEBCTL_CREATE_RELAY_REQUEST, 0, 0, 0, 0};
	uint8_t buf[NEBCTL_ENCODED_MAX];
	char extra[256];
	struct tunnel *t;
	size_t len;
	uint32_t i;

	start(m, 1, "b", "10.77.0.3", 0, "relay: {relays: [\"10.77.0.2\"]}\n");
	snprintf(extra, sizeof(extra), "%s",
	    static_map("10.77.0.3", node_port(&m->p[1].n)));
	start(m, 0, "a", "10.77.0.2", 0, extra);
	assert_true(crosses(m, 0, 1, 86));
	t = tunnel_to(m, 0, "10.77.0.3");
	assert_non_null(t);
	req.relay_to_ip = ip4("10.77.0.3");
	for (i = 0; i < RELAY_MAX_PER_PEER + 44; i++) {
		req.initiator_relay_index = 1000 + i;
		req.relay_from_ip = ip4("10.77.1.0") + i;
		assert_int_equal(nebctl_encode(&req, buf, sizeof(buf), &len), 0);
		assert_int_equal(
		    tunnel_send(&m->p[0].n, t, HDR_CONTROL, 0, buf, len), 0);
		if (i % 32 == 31) {
			worker_flush(m->p[0].n.wk);
			pump(m, 20);
		}
	}
	worker_flush(m->p[0].n.wk);
	pump(m, 200);
	assert_int_equal(ctr(&m->p[1].n, "relayRequests"),
	    RELAY_MAX_PER_PEER + 44);
	assert_int_equal(ctr(&m->p[1].n, "relays"), RELAY_MAX_PER_PEER);
	assert_int_equal(ctr(&m->p[1].n, "relayFull"), 44);
	/* b answered each it kept; a asked for none of them */
	assert_int_equal(ctr(&m->p[0].n, "relayResponses"), RELAY_MAX_PER_PEER);
	assert_int_equal(ctr(&m->p[0].n, "relayRefused"), RELAY_MAX_PER_PEER);
	assert_int_equal(ctr(&m->p[0].n, "relays"), 0);
	/* the same origin again with a new index: the entry is reused */
	req.initiator_relay_index = 5;
	req.relay_from_ip = ip4("10.77.1.0");
	assert_int_equal(nebctl_encode(&req, buf, sizeof(buf), &len), 0);
	tunnel_send(&m->p[0].n, t, HDR_CONTROL, 0, buf, len);
	worker_flush(m->p[0].n.wk);
	pump(m, 100);
	assert_int_equal(ctr(&m->p[1].n, "relays"), RELAY_MAX_PER_PEER);
	assert_int_equal(ctr(&m->p[1].n, "relayFull"), 44);
	/* the tunnel goes: so do the entries over it */
	stop(m, 0);
	pump(m, 100);
	assert_int_equal(ctr(&m->p[1].n, "relays"), 0);
}

/*
 * wire.md 4.5: a's static_host_map gives b two addresses, the first of
 * them c's.  c answers the handshake with its own certificate: a tells
 * c to close what it made, does not try c's address for b again, and a
 * new handshake with the waiting packet reaches b at its own address.
 */
static void
test_mesh_incorrect_host(void **state)
{
	struct mesh *m = *state;
	uint8_t pkt[64], got[128];
	uint16_t bp = free_port();
	struct tunnel *t;
	char extra[256];
	size_t len;
	int i;

	start(m, 2, "c", "10.77.0.4", 0, NULL);
	snprintf(extra, sizeof(extra),
	    "static_host_map: {\"10.77.0.3\": [\"127.0.0.1:%u\", "
	    "\"127.0.0.1:%u\"]}\n",
	    node_port(&m->p[2].n), bp);
	start(m, 0, "a", "10.77.0.2", 0, extra);
	/* b is not up yet: only c answers */
	len = echo(pkt, "10.77.0.2", "10.77.0.3", 87);
	assert_int_equal(send(m->p[0].fd, pkt, len, 0), (ssize_t)len);
	for (i = 0; i < 40 && ctr(&m->p[0].n, "hsRefused") == 0; i++)
		pump(m, 10);
	assert_int_equal(ctr(&m->p[0].n, "hsRefused"), 1);
	pump(m, 50);
	assert_int_equal(hostmap_tunnels(m->p[2].n.hm), 0); /* told */
	assert_int_equal(hostmap_pending(m->p[0].n.hm), 1); /* again */
	/* c is not asked again; b comes up and gets the waiting packet */
	start(m, 1, "b", "10.77.0.3", bp, NULL);
	assert_int_equal(pump_until_packet(m, m->p[1].fd, got, sizeof(got),
	                     3000),
	    (ssize_t)len);
	assert_memory_equal(got, pkt, len);
	t = tunnel_to(m, 0, "10.77.0.3");
	assert_non_null(t);
	assert_int_equal(t->remote.port, bp);
	assert_int_equal(ctr(&m->p[0].n, "hsRefused"), 1);
	assert_int_equal(hostmap_tunnels(m->p[2].n.hm), 0);
}

/*
 * Two relays: the one carrying the tunnel goes down; the tunnel, left
 * without a path, is closed at once and the next packet sets up a new
 * one through the other relay.
 */
static void
test_mesh_relay_failover(void **state)
{
	struct mesh *m = *state;
	struct simnet *net = simnet_new();
	struct udp_addr ap = sa("192.0.2.2", 4242), bp = sa("192.0.2.3", 4242),
			r1 = sa("192.0.2.9", 4242), r2 = sa("192.0.2.10", 4242);
	struct cut cut = {ap, bp, true};
	const char *extra;
	char yr[1024], yb[1024];
	struct tunnel *t;
	size_t gone, other;
	int i;

	assert_non_null(net);
	simnet_set_filter(net, cut_path, &cut);
	extra = relay_mesh(m, net, "");
	snprintf(yr, sizeof(yr), "%srelay: {am_relay: true}\n", extra);
	snprintf(yb, sizeof(yb),
	    "%srelay: {relays: [\"10.77.0.9\", \"10.77.0.10\"]}\n", extra);
	start_on(m, 1, "r1", "10.77.0.9", simnet_open(net, &r1), 0, yr);
	start_on(m, 4, "r2", "10.77.0.10", simnet_open(net, &r2), 0, yr);
	start_on(m, 2, "b", "10.77.0.3", simnet_open(net, &bp), 0, yb);
	start_on(m, 3, "a", "10.77.0.2", simnet_open(net, &ap), 0, extra);
	pump(m, 200);
	assert_true(crosses(m, 3, 2, 83));
	t = tunnel_to(m, 3, "10.77.0.3");
	assert_non_null(t);
	assert_true(t->relayed);
	gone = t->relays[0] == ip4("10.77.0.9") ? 1 : 4;
	other = gone == 1 ? 4 : 1;
	stop(m, gone);
	/* A's tunnel with the dead relay fails its checks, and with it
	 * goes the relayed tunnel */
	for (i = 0; i < 60 && tunnel_to(m, 3, m->p[gone].ip) != NULL; i++)
		pump(m, 100);
	assert_null(tunnel_to(m, 3, m->p[gone].ip));
	pump(m, 100);
	assert_true(crosses(m, 3, 2, 84));
	assert_true(crosses(m, 2, 3, 85));
	t = tunnel_to(m, 3, "10.77.0.3");
	assert_non_null(t);
	assert_true(t->relayed);
	assert_int_equal(t->relays[0], ip4(m->p[other].ip));
	for (i = 0; i < MAXN; i++)
		if (m->p[i].up)
			stop(m, (size_t)i);
	simnet_free(net);
}

/* ctl_run's answer to the command in args (NULL-terminated) into out;
 * its status. */
static enum ctl_status
run(struct node *n, struct sbuf *out, const char **args)
{
	char *argv[16];
	int argc = 0;

	while (args[argc] != NULL && argc < 15) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	sbuf_init(out);
	return ctl_run(n, argc, argv, out);
}

#define RUN(n, ...)                                                        \
	run((n), &out, (const char *[]){__VA_ARGS__, NULL})

static bool
has(const struct sbuf *b, const char *s)
{
	return b->s != NULL && strstr(b->s, s) != NULL;
}

/*
 * The control commands (ctl.h) against a lighthouse and two nodes in
 * one process, and the protocol through the listening socket and an
 * adopted socket pair: answers, statuses, limits.
 */
static void
test_mesh_ctl(void **state)
{
	struct mesh *m = *state;
	struct node *lh, *a;
	struct sbuf out;
	char extra[640], sock[100], buf[65536];
	struct sockaddr_un sun;
	uint16_t lp;
	ssize_t r;
	size_t got;
	int fd, sv[2];

	snprintf(sock, sizeof(sock), "%s/lh.sock", m->dir);
	snprintf(extra, sizeof(extra),
	    "lighthouse: {am_lighthouse: true}\ncontrol: {listen: %s}\n", sock);
	start(m, 2, "lh", LH_IP, free_port(), extra);
	lh = &m->p[2].n;
	lp = node_port(lh);
	snprintf(extra, sizeof(extra),
	    "static_host_map: {\"%s\": [\"127.0.0.1:%u\"]}\n"
	    "lighthouse: {am_lighthouse: false, interval: 1, hosts: [\"%s\"], "
	    "advertise_addrs: [\"127.0.0.1:0\"],\n"
	    "  local_allow_list: {interfaces: {'.*': false}}}\n"
	    "control: {enabled: false}\n",
	    LH_IP, lp, LH_IP);
	start(m, 1, "b", "10.77.0.3", 0, extra);
	start(m, 0, "a", "10.77.0.2", 0, extra);
	a = &m->p[0].n;
	pump(m, 300);
	assert_true(crosses(m, 0, 1, 20));
	assert_true(crosses(m, 1, 0, 21));

	/* ours */
	assert_int_equal(RUN(a, "show"), CTL_OK);
	assert_true(has(&out, "name:         a\n"));
	assert_true(has(&out, "overlay:      10.77.0.2/"));
	sbuf_free(&out);
	assert_int_equal(RUN(a, "show", "-json"), CTL_OK);
	assert_true(has(&out, "\"name\":\"a\",\"vpnIp\":\"10.77.0.2\""));
	sbuf_free(&out);
	assert_int_equal(RUN(a, "tunnels", "-json"), CTL_OK);
	assert_true(has(&out, "\"vpnIp\":\"10.77.0.3\",\"name\":\"b\""));
	assert_true(has(&out, "\"vpnIp\":\"" LH_IP "\""));
	assert_false(has(&out, "\"rxBytes\":0,"));
	sbuf_free(&out);
	assert_int_equal(RUN(a, "peer", "10.77.0.3"), CTL_OK);
	assert_true(has(&out, "Name: b"));
	sbuf_free(&out);
	assert_int_equal(RUN(a, "peer", "10.77.0.99"), CTL_FAIL);
	assert_true(has(&out, "Could not find tunnel for vpn ip: 10.77.0.99"));
	sbuf_free(&out);
	assert_int_equal(RUN(a, "peer"), CTL_USAGE);
	assert_true(has(&out, "No vpn ip was provided"));
	sbuf_free(&out);
	assert_int_equal(RUN(lh, "hosts", "-json"), CTL_OK);
	assert_true(has(&out, "\"vpnIp\":\"10.77.0.2\""));
	assert_true(has(&out, "\"vpnIp\":\"10.77.0.3\""));
	sbuf_free(&out);
	assert_int_equal(RUN(a, "hosts"), CTL_FAIL);
	sbuf_free(&out);
	assert_int_equal(RUN(lh, "lookup", "10.77.0.3"), CTL_OK);
	assert_true(has(&out, "10.77.0.3       learned=127.0.0.1:"));
	sbuf_free(&out);
	assert_int_equal(RUN(a, "counters"), CTL_OK);
	assert_true(has(&out, "tunnels "));
	sbuf_free(&out);
	assert_int_equal(RUN(a, "nope"), CTL_USAGE);
	assert_true(has(&out, "unknown command: nope"));
	sbuf_free(&out);
	assert_int_equal(RUN(a, "tunnels", "-bogus"), CTL_USAGE);
	assert_true(has(&out, "flag provided but not defined: -bogus"));
	sbuf_free(&out);

	/* Nebula's */
	assert_int_equal(RUN(a, "list-hostmap"), CTL_OK);
	assert_true(has(&out, "10.77.0.3: [127.0.0.1:"));
	sbuf_free(&out);
	assert_int_equal(RUN(a, "list-hostmap", "-pretty"), CTL_OK);
	assert_true(has(&out, "[\n    {\n        \"vpnIp\": "));
	sbuf_free(&out);
	assert_int_equal(RUN(a, "print-cert", "-json", "10.77.0.3"), CTL_OK);
	assert_true(has(&out, "\"name\":\"b\""));
	sbuf_free(&out);
	assert_int_equal(RUN(a, "query-lighthouse", "10.77.0.3"), CTL_OK);
	assert_true(has(&out, "{\"" LH_IP "\":{\"reported\":[{\"ip\":"));
	sbuf_free(&out);
	assert_int_equal(RUN(lh, "list-lighthouse-addrmap"), CTL_OK);
	assert_true(has(&out, "10.77.0.2: {\"10.77.0.2\":{\"learned\":"));
	sbuf_free(&out);
	assert_int_equal(RUN(a, "create-tunnel", "10.77.0.3"), CTL_FAIL);
	assert_true(has(&out, "Tunnel already exists"));
	sbuf_free(&out);
	assert_int_equal(RUN(a, "create-tunnel", "-address", "127.0.0.1:9",
	                     "10.77.0.9"),
	    CTL_OK);
	sbuf_free(&out);
	assert_int_equal(RUN(a, "list-pending-hostmap"), CTL_OK);
	assert_true(has(&out, "10.77.0.9: [127.0.0.1:9]"));
	sbuf_free(&out);
	assert_int_equal(RUN(a, "close-tunnel", "10.77.0.3"), CTL_OK);
	assert_true(has(&out, "Closed"));
	sbuf_free(&out);
	assert_null(hostmap_by_ip(a->hm, ip4("10.77.0.3")));
	pump(m, 100);
	assert_null(hostmap_by_ip(m->p[1].n.hm, ip4("10.77.0.2")));
	assert_int_equal(RUN(a, "log-level"), CTL_OK);
	assert_true(has(&out, "Log level is: error"));
	sbuf_free(&out);
	assert_int_equal(RUN(a, "log-level", "loud"), CTL_USAGE);
	sbuf_free(&out);
	assert_int_equal(RUN(a, "reload"), CTL_OK);
	assert_true(has(&out, "Reloading config\nconfiguration reloaded"));
	sbuf_free(&out);

	/* the socket: a request and its answer, then a bad version */
	assert_int_equal(ctl_start(lh, &lh->ctl), 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	assert_int_equal(
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(write(fd, "C1 1\n7 version\nC2 1\n", 20), 20);
	got = 0;
	for (int i = 0; i < 200 && got < 60; i++) {
		pump(m, 5);
		r = recv(fd, buf + got, sizeof(buf) - 1 - got, MSG_DONTWAIT);
		if (r > 0)
			got += (size_t)r;
	}
	buf[got] = '\0';
	assert_true(strncmp(buf, "R1 0 ", 5) == 0);
	assert_non_null(strstr(buf, VPN_VERSION "\nR1 3 "));
	close(fd);
	/* an adopted socket pair (the sshd helper's sessions) */
	assert_int_equal(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(ctl_adopt(lh, sv[0]), 0);
	assert_int_equal(write(sv[1], "C1 2\n4 show\n5 -json\n", 20), 20);
	got = 0;
	for (int i = 0; i < 200 && strstr(buf, "\"version\"") == NULL; i++) {
		pump(m, 5);
		r = recv(sv[1], buf + got, sizeof(buf) - 1 - got,
		    MSG_DONTWAIT);
		if (r > 0)
			got += (size_t)r;
		buf[got] = '\0';
	}
	assert_true(strncmp(buf, "R1 0 ", 5) == 0);
	assert_non_null(strstr(buf, "\"lighthouse\":true"));
	close(sv[1]);
	pump(m, 20);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_mesh_pair, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mesh_ctl, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_both_initiate, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_peer_restarts, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_lighthouse_discovery, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_silent_peer_closed_then_rehandshake, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_lost_stage2, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_duplicated_reordered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mesh_msg1_flood, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_mesh_roaming, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_punch_pool_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_punch_through_nat, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_reload_under_traffic, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_unsafe_route, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_reload_starts_registering, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_reload_live_io, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mesh_relay, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_lost_test_request_retried, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_relay_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_relay_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_incorrect_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_requery, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_relay_failover, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
