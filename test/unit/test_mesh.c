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
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "crypto.h"
#include "ct.h"
#include "ipaddr.h"
#include "lhmsg.h"
#include "log.h"
#include "nodeint.h"

#define MAXN 4
#define LH_IP "10.77.0.1"

struct peer {
	struct node n;
	int fd; /* the test's end of the TUN */
	bool up;
	const char *name;
	char ip[16];
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

/* Sign a certificate for name at ip (once per name). */
static void
cert_for(struct mesh *m, const char *name, const char *ip)
{
	char crt[32], key[32], cidr[32];
	const char *args[] = {"-ca-crt", path(m, "ca.crt"), "-ca-key",
	    path(m, "ca.key"), "-name", name, "-ip", NULL, "-out-crt", NULL,
	    "-out-key", NULL, NULL};

	snprintf(crt, sizeof(crt), "%s.crt", name);
	snprintf(key, sizeof(key), "%s.key", name);
	if (access(path(m, crt), F_OK) == 0)
		return;
	snprintf(cidr, sizeof(cidr), "%s/16", ip);
	args[7] = cidr;
	args[9] = path(m, crt);
	args[11] = path(m, key);
	assert_int_equal(mode(cmd_sign, args), CT_OK);
}

/*
 * Start peer i as name at ip, listening on 127.0.0.1:port (0: any),
 * with the YAML lines `extra` added (static_host_map, lighthouse, ...).
 */
static void
start(struct mesh *m, size_t i, const char *name, const char *ip,
    uint16_t port, const char *extra)
{
	struct peer *p = &m->p[i];
	struct node_cfg *cfg;
	struct tun *tun;
	char yml[32], err[1024];
	int sv[2];
	FILE *f;

	cert_for(m, name, ip);
	snprintf(yml, sizeof(yml), "%s.yml", name);
	f = fopen(path(m, yml), "w");
	assert_non_null(f);
	fprintf(f,
	    "pki: {ca: %s, cert: %s/%s.crt, key: %s/%s.key}\n"
	    "listen: {host: 127.0.0.1, port: %u}\n"
	    "tun: {dev: mesh%zu}\n"
	    "handshakes: {try_interval: 20ms}\n"
	    "logging: {level: error}\n"
	    "firewall:\n"
	    "  outbound: [{port: any, proto: any, host: any}]\n"
	    "  inbound: [{port: any, proto: any, host: any}]\n"
	    "%s",
	    path(m, "ca.crt"), m->dir, name, m->dir, name, port, i,
	    extra != NULL ? extra : "");
	fclose(f);
	/* the clock sign used (time(2) may still say the second before) */
	if (node_cfg_load(path(m, yml), node_real_ns() / 1000000000, &cfg, err,
	        sizeof(err)) != 0)
		fail_msg("%s: %s", name, err);
	assert_int_equal(socketpair(AF_UNIX,
	                     SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
	    0);
	assert_int_equal(tun_from_fd(sv[0], name, &tun), 0);
	assert_int_equal(node_start(&p->n, cfg, NULL, m->base, tun), 0);
	p->fd = sv[1];
	p->up = true;
	p->name = name;
	snprintf(p->ip, sizeof(p->ip), "%s", ip);
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
	assert_int_equal(m->p[0].n.tun_by_ip.len, 1);
	assert_int_equal(m->p[1].n.tun_by_ip.len, 1);
	assert_int_equal(m->p[0].n.st.hs_completed, 1);
	assert_int_equal(m->p[1].n.st.rx_auth, 0);
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
	ta = u32map_get(&m->p[0].n.tun_by_ip, ip4("10.77.0.3"));
	tb = u32map_get(&m->p[1].n.tun_by_ip, ip4("10.77.0.2"));
	assert_non_null(ta);
	assert_non_null(tb);
	assert_int_equal(ta->remote_index, tb->local_index);
	assert_int_equal(tb->remote_index, ta->local_index);
	assert_int_equal(m->p[0].n.pend_by_ip.len, 0);
	assert_int_equal(m->p[1].n.pend_by_ip.len, 0);
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
	old_index = ((struct tunnel *)u32map_get(&m->p[0].n.tun_by_ip,
	                 ip4("10.77.0.3")))
	                ->remote_index;
	stop(m, 1); /* sends closeTunnel */
	pump(m, 100);
	assert_int_equal(m->p[0].n.tun_by_ip.len, 0);
	start(m, 1, "b", "10.77.0.3", port, NULL);
	assert_true(crosses(m, 0, 1, 8));
	assert_true(crosses(m, 1, 0, 9));
	assert_true(((struct tunnel *)u32map_get(&m->p[0].n.tun_by_ip,
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
	assert_int_equal(event_del(m->p[1].n.ev_udp), 0);
	len = echo(pkt, "10.77.0.2", "10.77.0.3", 13);
	for (i = 0; i < 40 && m->p[0].n.tun_by_ip.len > 0; i++) {
		assert_int_equal(send(m->p[0].fd, pkt, len, 0), (ssize_t)len);
		pump(m, 100);
	}
	assert_int_equal(m->p[0].n.tun_by_ip.len, 0);
	assert_int_equal(event_add(m->p[1].n.ev_udp, NULL), 0);
	/* b's socket holds a's test packets and data for the old tunnel,
	 * which b still has; a's new handshake replaces it */
	assert_true(crosses(m, 0, 1, 14));
	assert_true(crosses(m, 1, 0, 15));
	assert_int_equal(m->p[0].n.st.hs_completed, 2);
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
	assert_int_equal(m->p[0].n.st.hs_completed, 1);
	assert_int_equal(m->p[1].n.st.hs_completed, 1);
	assert_true(crosses_via(m, &r, 1, 0, 21));
	relay_close(&r);
}

/* Data duplicated and reordered on the way: each packet reaches b's TUN
 * exactly once, the duplicates counted as replays. */
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
	assert_true(m->p[1].n.st.rx_replay >= 10);
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
	t = u32map_get(&m->p[1].n.tun_by_ip, ip4("10.77.0.2"));
	assert_non_null(t);
	jfd = udp_sock(&junk_port);
	memset(junk, 0, sizeof(junk));
	junk[0] = 0x11;
	be32_put(junk + 4, t->local_index);
	junk[15] = 200;
	to.sin_port = htons(node_port(&m->p[1].n));
	sendto(jfd, junk, sizeof(junk), 0, (struct sockaddr *)&to, sizeof(to));
	pump(m, 50);
	t = u32map_get(&m->p[1].n.tun_by_ip, ip4("10.77.0.2"));
	assert_int_not_equal(t->remote.port, junk_port);
	assert_true(m->p[1].n.st.rx_auth >= 1);
	/* a's next packet comes from the new address, authenticated */
	assert_true(crosses_via(m, &r, 0, 1, 41));
	t = u32map_get(&m->p[1].n.tun_by_ip, ip4("10.77.0.2"));
	assert_int_equal(t->remote.port, moved);
	assert_true(crosses_via(m, &r, 1, 0, 42));
	close(jfd);
	relay_close(&r);
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
	assert_true(m->p[2].n.reg != NULL && lhreg_count(m->p[2].n.reg) == 2);
	assert_true(crosses(m, 0, 1, 10));
	assert_true(crosses(m, 1, 0, 11));
	assert_true(m->p[2].n.st.lh_queries >= 1);
	assert_true(m->p[2].n.st.lh_replies >= 1);
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
	uint8_t buf[LHMSG_ENCODED_MAX], got[16];
	struct tunnel *t;
	char extra[512];
	size_t len, i, punched = 0;
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
	t = u32map_get(&m->p[1].n.tun_by_ip, ip4(LH_IP));
	assert_non_null(t);
	/* where the punches go: a socket of the test's */
	tfd = udp_sock(&tp);
	msg->type = LHMSG_HOST_PUNCH_NOTIFICATION;
	msg->has_details = true;
	msg->vpn_ip = ip4("10.77.0.9");
	msg->v4[0].ip = 0x7f000001;
	msg->v4[0].port = tp;
	msg->n4 = 1;
	assert_int_equal(lhmsg_encode(msg, buf, sizeof(buf), &len), 0);
	for (i = 0; i < PUNCH_JOBS + 8; i++)
		lh_recv(&m->p[1].n, t, buf, len);
	assert_int_equal(m->p[1].n.st.lh_punches, PUNCH_JOBS);
	assert_int_equal(m->p[1].n.st.lh_punch_dropped, 8);
	until = node_mono_ns() + 2000000000LL;
	while (node_mono_ns() < until && punched < PUNCH_JOBS) {
		event_base_loop(m->base, EVLOOP_NONBLOCK);
		while (recv(tfd, got, sizeof(got), 0) == 1)
			punched++;
		usleep(500);
	}
	assert_int_equal(punched, PUNCH_JOBS);
	/* the jobs are free again; these stay pending until the stop */
	lh_recv(&m->p[1].n, t, buf, len);
	assert_int_equal(m->p[1].n.st.lh_punches, PUNCH_JOBS + 1);
	assert_int_equal(m->p[1].n.st.lh_punch_dropped, 8);
	close(tfd);
	free(msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_mesh_pair, setup, teardown),
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
	    cmocka_unit_test_setup_teardown(test_mesh_roaming, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_punch_pool_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
