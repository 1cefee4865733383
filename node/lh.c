/*
 * node/lh.c: the lighthouse protocol (wire.md 8) in both roles, and
 * punchy (wire.md 11).
 *
 * A node registers with its lighthouses (HostUpdateNotification at start
 * and every lighthouse.interval), asks them where a peer is (HostQuery)
 * when it has no address, keeps their answers per lighthouse, and punches
 * towards a querier when told to.  A lighthouse keeps the registry
 * (lib/lhreg), keyed by the sender's authenticated tunnel, never by a
 * field of the message, answers queries and tells the queried host to
 * punch back.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns.h"
#include "err.h"
#include "gotime.h"
#include "lhmsg.h"
#include "sbuf.h"
#include "log.h"
#include "nodeint.h"

#define LH_REG_MAX (1u << 22) /* registered hosts, at most */
#define PUNCH_RESPOND_DELAY 5 /* s, wire.md 8.5 */
#define PUNCHY_INTERVAL 10    /* s, wire.md 11 */

static void
send_msg(struct node *n, uint32_t to, const struct lhmsg *m,
    struct tunnel *via)
{
	uint8_t buf[LHMSG_ENCODED_MAX];
	size_t len;

	if (lhmsg_encode(m, buf, sizeof(buf), &len) != 0)
		return;
	if (via != NULL)
		tunnel_send(n, via, HDR_LIGHTHOUSE, HDR_SUB_NONE, buf, len);
	else
		node_send(n, to, HDR_LIGHTHOUSE, HDR_SUB_NONE, buf, len);
}

/* Add one of our addresses to an update unless it is ours to hide. */
static void
add_local(struct node *n, struct lhmsg *m, const struct udp_addr *a)
{
	if (udp_addr_is_v4(a)) {
		if (m->n4 >= LHMSG_MAX)
			return;
		m->v4[m->n4].ip = udp_addr_v4(a);
		m->v4[m->n4++].port = a->port;
	} else {
		if (m->n6 >= LHMSG_MAX)
			return;
		memcpy(m->v6[m->n6].ip, a->ip, 16);
		m->v6[m->n6++].port = a->port;
	}
	(void)n;
}

/* The addresses of this machine that a peer could reach us on. */
static void
local_addrs(struct node *n, struct lhmsg *m)
{
	const struct node_cfg *c = n->cfg;
	struct ifaddrs *ifs, *i;
	struct udp_addr a;
	size_t k;

	for (k = 0; k < c->nadvertise; k++) {
		a = c->advertise[k];
		if (a.port == 0)
			a.port = udp_port(n->udp);
		add_local(n, m, &a);
	}
	if (getifaddrs(&ifs) != 0)
		return;
	for (i = ifs; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *s = (void *)i->ifa_addr;
			uint32_t ip = ntohl(s->sin_addr.s_addr);

			if ((ip >> 24) == 127 || (ip >> 16) == 0xa9fe ||
			    (ip & c->vpn_mask) == (c->vpn_ip & c->vpn_mask))
				continue;
			udp_addr_from_v4(&a, ip, udp_port(n->udp));
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *s = (void *)i->ifa_addr;

			if (IN6_IS_ADDR_LOOPBACK(&s->sin6_addr) ||
			    IN6_IS_ADDR_LINKLOCAL(&s->sin6_addr) ||
			    IN6_IS_ADDR_V4MAPPED(&s->sin6_addr))
				continue;
			memcpy(a.ip, &s->sin6_addr, 16);
			a.port = udp_port(n->udp);
		} else {
			continue;
		}
		if (!allowlist_allow_name(c->local_allow, i->ifa_name) ||
		    !allowlist_allow(c->local_allow, a.ip))
			continue;
		add_local(n, m, &a);
	}
	freeifaddrs(ifs);
}

static void
send_update(struct node *n)
{
	struct lhmsg m;
	size_t i;

	memset(&m, 0, sizeof(m));
	m.type = LHMSG_HOST_UPDATE_NOTIFICATION;
	m.has_details = true;
	m.vpn_ip = n->cfg->vpn_ip;
	local_addrs(n, &m);
	for (i = 0; i < n->cfg->nlighthouses; i++)
		send_msg(n, n->cfg->lighthouses[i], &m, NULL);
	udp_flush(n->udp);
}

void
lh_query(struct node *n, uint32_t vpn_ip)
{
	struct lhmsg m;
	size_t i;

	if (n->cfg->am_lighthouse || node_cfg_is_lighthouse(n->cfg, vpn_ip))
		return;
	memset(&m, 0, sizeof(m));
	m.type = LHMSG_HOST_QUERY;
	m.has_details = true;
	m.vpn_ip = vpn_ip;
	for (i = 0; i < n->cfg->nlighthouses; i++)
		send_msg(n, n->cfg->lighthouses[i], &m, NULL);
	udp_flush(n->udp);
}

/* A lighthouse's answer replaces its previous one for that peer. */
static void
store_reply(struct node *n, uint32_t lh, const struct lhmsg *m)
{
	const struct node_cfg *c = n->cfg;
	struct rcache *rc = u32map_get(&n->rcache, m->vpn_ip);
	size_t i, slot = LH_MAX_HOSTS, cnt = 0;
	struct udp_addr a;

	if (m->vpn_ip == c->vpn_ip ||
	    (m->vpn_ip & c->vpn_mask) != (c->vpn_ip & c->vpn_mask))
		return;
	if (rc == NULL) {
		if ((rc = calloc(1, sizeof(*rc))) == NULL ||
		    u32map_put(&n->rcache, m->vpn_ip, rc) != 0) {
			free(rc);
			return;
		}
	}
	for (i = 0; i < LH_MAX_HOSTS; i++)
		if (rc->by[i].lh == lh || (slot == LH_MAX_HOSTS &&
		                              rc->by[i].lh == 0))
			slot = i;
	if (slot == LH_MAX_HOSTS)
		return;
	rc->by[slot].lh = lh;
	for (i = 0; i < m->n4 && i < LHREG_MAX_ADDRS; i++) {
		udp_addr_from_v4(&a, m->v4[i].ip, m->v4[i].port);
		if (allowlist_remote_allow(c->remote_allow, c->remote_ranges,
		        m->vpn_ip, a.ip))
			rc->by[slot].a[cnt++] = a;
	}
	for (i = 0; i < m->n6 && i < LHREG_MAX_ADDRS; i++) {
		memcpy(a.ip, m->v6[i].ip, 16);
		a.port = m->v6[i].port;
		if (allowlist_remote_allow(c->remote_allow, c->remote_ranges,
		        m->vpn_ip, a.ip))
			rc->by[slot].a[cnt++] = a;
	}
	rc->by[slot].n = cnt;
}

/*
 * Punches and punch responses waiting for their delay: a pool of at most
 * PUNCH_JOBS jobs, each made the first time it is needed and reused
 * after, so no allocation per punch.  A notification that finds every
 * job busy is dropped and counted (lhPunchDropped).  Jobs are timers on
 * the node's base: lh_free cancels what is pending.
 */
struct punch_job {
	struct node *n;
	struct event *ev;
	bool busy, respond;
	uint32_t vpn_ip; /* respond: the querier */
	size_t na;
	struct udp_addr a[2 * LHMSG_MAX];
};

static void
on_punch_job(evutil_socket_t fd, short what, void *arg)
{
	struct punch_job *j = arg;
	uint8_t *slot;
	size_t i;

	(void)fd;
	(void)what;
	j->busy = false;
	if (j->respond) {
		node_send(j->n, j->vpn_ip, HDR_TEST, HDR_SUB_TEST_REQUEST, NULL,
		    0);
	} else {
		for (i = 0; i < j->na; i++) {
			slot = udp_tx_slot(j->n->udp);
			slot[0] = 0x00;
			udp_tx_commit(j->n->udp, &j->a[i], 1);
		}
	}
	udp_flush(j->n->udp);
}

/* A free job, or NULL (counted). */
static struct punch_job *
punch_job(struct node *n)
{
	struct punch_job *j;
	size_t i;

	for (i = 0; i < PUNCH_JOBS; i++) {
		if ((j = n->punch[i]) == NULL) {
			if ((j = calloc(1, sizeof(*j))) == NULL)
				break;
			j->n = n;
			if ((j->ev = evtimer_new(n->base, on_punch_job, j)) ==
			    NULL) {
				free(j);
				break;
			}
			n->punch[i] = j;
		}
		if (!j->busy)
			return j;
	}
	n->st.lh_punch_dropped++;
	return NULL;
}

static void
schedule(struct punch_job *j, int64_t ns)
{
	struct timeval tv = {(time_t)(ns / 1000000000),
	    (suseconds_t)(ns % 1000000000 / 1000)};

	j->busy = evtimer_add(j->ev, &tv) == 0;
}

/* HostPunchNotification: open our NAT towards the querier. */
static void
punch_back(struct node *n, const struct lhmsg *m)
{
	struct punch_job *j;
	size_t i;

	if ((j = punch_job(n)) == NULL)
		return;
	j->respond = false;
	j->vpn_ip = m->vpn_ip;
	j->na = 0;
	for (i = 0; i < m->n4 && j->na < 2 * LHMSG_MAX; i++)
		udp_addr_from_v4(&j->a[j->na++], m->v4[i].ip, m->v4[i].port);
	for (i = 0; i < m->n6 && j->na < 2 * LHMSG_MAX; i++) {
		memcpy(j->a[j->na].ip, m->v6[i].ip, 16);
		j->a[j->na++].port = m->v6[i].port;
	}
	n->st.lh_punches++;
	schedule(j, n->cfg->punch_delay);
	if (!n->cfg->punch_respond || (j = punch_job(n)) == NULL)
		return;
	j->respond = true;
	j->vpn_ip = m->vpn_ip;
	j->na = 0;
	schedule(j, PUNCH_RESPOND_DELAY * 1000000000LL);
}

/* The lighthouse answers a query, and tells the queried host to punch. */
static void
answer(struct node *n, struct tunnel *t, const struct lhmsg *q)
{
	struct lhmsg *r = n->lh_out; /* no allocation per query */
	struct tunnel *target;

	n->st.lh_queries++;
	if (lhreg_reply(n->reg, q->vpn_ip, r) == 0) {
		r->type = LHMSG_HOST_QUERY_REPLY;
		r->vpn_ip = q->vpn_ip;
		send_msg(n, t->vpn_ip, r, t);
		n->st.lh_replies++;
		target = u32map_get(&n->tun_by_ip, q->vpn_ip);
		if (target != NULL && lhreg_reply(n->reg, t->vpn_ip, r) == 0) {
			r->type = LHMSG_HOST_PUNCH_NOTIFICATION;
			r->vpn_ip = t->vpn_ip;
			send_msg(n, q->vpn_ip, r, target);
		}
	}
}

void
lh_recv(struct node *n, struct tunnel *t, const uint8_t *p, size_t len)
{
	struct lhmsg *m = n->lh_in;
	char ip[IP4_STRLEN];

	if (lhmsg_decode(m, p, len) != 0 || !m->has_details) {
		n->st.lh_bad++;
		return;
	}
	switch (m->type) {
	case LHMSG_HOST_QUERY:
		if (n->reg != NULL)
			answer(n, t, m);
		break;
	case LHMSG_HOST_UPDATE_NOTIFICATION:
		if (n->reg == NULL)
			break;
		/* Keyed by the tunnel's certificate address: an update that
		 * claims another host's IP is refused. */
		if (lhreg_update(n->reg, t->vpn_ip, m, n->cfg->remote_allow,
		        n->cfg->remote_ranges, n->cfg->vpn_ip,
		        n->cfg->vpn_mask, node_mono_ns()) != 0) {
			n->st.lh_refused++;
			if (log_limit_allow(&n->warn_limit,
			        node_mono_ns() / 1000000000, 5, 20)) {
				ip4_format(m->vpn_ip, ip);
				log_warnx("Host update refused: peer=%s "
				          "claimedVpnIp=%s",
				    t->name, ip);
			}
			break;
		}
		n->st.lh_updates++;
		break;
	case LHMSG_HOST_QUERY_REPLY:
		if (!node_cfg_is_lighthouse(n->cfg, t->vpn_ip)) {
			n->st.lh_refused++;
			break;
		}
		store_reply(n, t->vpn_ip, m);
		hs_kick(n, m->vpn_ip);
		break;
	case LHMSG_HOST_PUNCH_NOTIFICATION:
		if (!node_cfg_is_lighthouse(n->cfg, t->vpn_ip)) {
			n->st.lh_refused++;
			break;
		}
		punch_back(n, m);
		break;
	default:
		break; /* moved notifications and the rest do nothing in 1.6.1 */
	}
}

/* Go's %s of a []*net.IPNet: "[a/b c/d]". */
static void
go_nets(struct sbuf *b, const struct ip4net *nets, size_t n)
{
	char buf[IP4NET_STRLEN];
	size_t i;

	sbuf_puts(b, "[");
	for (i = 0; i < n; i++) {
		ip4net_format(&nets[i], buf);
		sbuf_printf(b, "%s%s", i > 0 ? " " : "", buf);
	}
	sbuf_puts(b, "]");
}

/* The TXT text Nebula 1.6.1 serves for a host (dns_server.go QueryCert). */
static void
responder_txt(struct node *n, const struct tunnel *t)
{
	const struct cert *c = t->peer;
	char nb[64], na[64], *hex;
	struct sbuf b;
	size_t i;

	if (go_format_time(c->not_before, nb, sizeof(nb)) != 0 ||
	    go_format_time(c->not_after, na, sizeof(na)) != 0)
		return;
	sbuf_init(&b);
	sbuf_printf(&b, "\"Name: %s\" \"Ips: ", c->name.s);
	go_nets(&b, c->ips, c->nips);
	sbuf_puts(&b, "\" \"Subnets ");
	go_nets(&b, c->subnets, c->nsubnets);
	sbuf_puts(&b, "\" \"Groups [");
	for (i = 0; i < c->ngroups; i++)
		sbuf_printf(&b, "%s%s", i > 0 ? " " : "", c->groups[i].s);
	sbuf_printf(&b, "]\" \"NotBefore %s\" \"NotAFter %s\" \"PublicKey ",
	    nb, na);
	hex = malloc(2 * (c->pubkey_len > c->issuer_len ? c->pubkey_len :
	                                                   c->issuer_len) +
	    1);
	if (hex != NULL) {
		hex_encode(c->pubkey, c->pubkey_len, hex);
		sbuf_printf(&b, "%s\" \"IsCA %s\" \"Issuer ", hex,
		    c->is_ca ? "true" : "false");
		hex_encode(c->issuer, c->issuer_len, hex);
		sbuf_printf(&b, "%s\"", hex);
		free(hex);
	}
	if (hex != NULL && sbuf_ok(&b))
		dns_zone_set_txt(n->dns, t->vpn_ip, b.s, b.len);
	sbuf_free(&b);
}

void
lh_tunnel_up(struct node *n, struct tunnel *t)
{
	if (n->reg != NULL)
		lhreg_learned(n->reg, t->vpn_ip, t->remote.ip, t->remote.port,
		    node_mono_ns());
	if (n->dns != NULL) { /* A records are added, never removed (1.6.1) */
		dns_zone_add(n->dns, t->peer->name.s, t->peer->name.len,
		    t->vpn_ip);
		responder_txt(n, t);
	}
}

void
lh_tunnel_down(struct node *n, struct tunnel *t)
{
	if (n->reg != NULL)
		lhreg_forget(n->reg, t->vpn_ip);
	if (n->dns != NULL)
		dns_zone_set_txt(n->dns, t->vpn_ip, NULL, 0);
	free(u32map_del(&n->rcache, t->vpn_ip));
}

/* lighthouse.serve_dns: one datagram in, one answer out. */
static void
on_dns(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	struct sockaddr_in from;
	socklen_t fl;
	uint8_t q[512], out[4096];
	ssize_t got;
	size_t len;
	uint32_t src;
	int i;

	(void)what;
	for (i = 0; i < 64; i++) {
		fl = sizeof(from);
		got = recvfrom(fd, q, sizeof(q), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &fl);
		if (got < 0)
			return;
		src = ntohl(from.sin_addr.s_addr);
		/* TXT (certificate details) only for the overlay and 127.0.0.1 */
		len = dns_answer(n->dns, q, (size_t)got,
		    (src & n->cfg->vpn_mask) == (n->cfg->vpn_ip & n->cfg->vpn_mask) ||
		        src == 0x7f000001,
		    out, sizeof(out));
		if (len > 0)
			sendto(fd, out, len, 0, (struct sockaddr *)&from, fl);
	}
}

static int
responder_open(struct node *n)
{
	struct sockaddr_in sa;
	char err[128];

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(n->cfg->dns_port);
	if (inet_pton(AF_INET, n->cfg->dns_host, &sa.sin_addr) != 1) {
		log_msg(LOG_LVL_ERROR, "lighthouse.dns.host %s is not an IPv4 "
		                       "address",
		    n->cfg->dns_host);
		return VPN_ERR_INVAL;
	}
	if ((n->dns = dns_zone_new()) == NULL)
		return VPN_ERR_NOMEM;
	n->dns_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (n->dns_fd < 0 ||
	    bind(n->dns_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		snprintf(err, sizeof(err), "%s", strerror(errno));
		log_msg(LOG_LVL_ERROR, "Failed to start DNS server on %s:%u: %s",
		    n->cfg->dns_host, n->cfg->dns_port, err);
		return VPN_ERR_SYS;
	}
	n->ev_dns = event_new(n->base, n->dns_fd, EV_READ | EV_PERSIST, on_dns,
	    n);
	if (n->ev_dns == NULL || event_add(n->ev_dns, NULL) != 0)
		return VPN_ERR_NOMEM;
	log_info("Starting DNS responder at %s:%u", n->cfg->dns_host,
	    n->cfg->dns_port);
	return 0;
}

static void
on_update_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	send_update(arg);
}

/* punchy.punch: keep NAT mappings open towards every known address. */
static void
on_punchy_timer(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	struct udp_addr a[STATIC_MAX_ADDRS + LH_MAX_HOSTS * RC_MAX + 1];
	uint8_t *slot;
	size_t it = 0, na, i;
	uint32_t k;
	void *v;

	(void)fd;
	(void)what;
	while (u32map_next(&n->tun_by_ip, &it, &k, &v)) {
		na = node_peer_addrs(n, k, a, sizeof(a) / sizeof(a[0]) - 1);
		for (i = 0; i < na; i++)
			if (udp_addr_eq(&a[i], &((struct tunnel *)v)->remote))
				break;
		if (i == na)
			a[na++] = ((struct tunnel *)v)->remote;
		for (i = 0; i < na; i++) {
			slot = udp_tx_slot(n->udp);
			slot[0] = 0x01;
			udp_tx_commit(n->udp, &a[i], 1);
		}
	}
	udp_flush(n->udp);
}

/* After a reload: the registration timer follows lighthouse.interval and
 * lighthouse.hosts (the registry and punchy.punch stay as they are). */
void
lh_reload(struct node *n)
{
	struct timeval tv = {(time_t)n->cfg->lh_interval, 0};

	if (n->cfg->am_lighthouse)
		return;
	if (n->ev_lh != NULL) {
		event_free(n->ev_lh);
		n->ev_lh = NULL;
	}
	if (n->cfg->nlighthouses == 0 || n->cfg->lh_interval == 0)
		return;
	n->ev_lh = event_new(n->base, -1, EV_PERSIST, on_update_timer, n);
	if (n->ev_lh != NULL)
		event_add(n->ev_lh, &tv);
	send_update(n);
}

int
lh_init(struct node *n)
{
	struct timeval tv = {0, 0};

	u32map_init(&n->rcache);
	n->dns_fd = -1;
	if ((n->lh_in = malloc(sizeof(*n->lh_in))) == NULL ||
	    (n->lh_out = malloc(sizeof(*n->lh_out))) == NULL)
		return VPN_ERR_NOMEM;
	if (n->cfg->am_lighthouse) {
		if ((n->reg = lhreg_new(LH_REG_MAX)) == NULL)
			return VPN_ERR_NOMEM;
		if (n->cfg->serve_dns && responder_open(n) != 0)
			return VPN_ERR_SYS;
	} else if (n->cfg->nlighthouses > 0 && n->cfg->lh_interval > 0) {
		n->ev_lh = event_new(n->base, -1, EV_PERSIST, on_update_timer,
		    n);
		tv.tv_sec = (time_t)n->cfg->lh_interval;
		if (n->ev_lh == NULL || event_add(n->ev_lh, &tv) != 0)
			return VPN_ERR_NOMEM;
		send_update(n); /* the first one at once */
	}
	if (n->cfg->punch) {
		n->ev_punchy = event_new(n->base, -1, EV_PERSIST,
		    on_punchy_timer, n);
		tv.tv_sec = PUNCHY_INTERVAL;
		if (n->ev_punchy == NULL || event_add(n->ev_punchy, &tv) != 0)
			return VPN_ERR_NOMEM;
	}
	return 0;
}

void
lh_free(struct node *n)
{
	size_t it = 0, i;
	uint32_t k;
	void *v;

	if (n->ev_lh != NULL)
		event_free(n->ev_lh);
	if (n->ev_punchy != NULL)
		event_free(n->ev_punchy);
	for (i = 0; i < PUNCH_JOBS; i++) {
		if (n->punch[i] == NULL)
			continue;
		event_free(n->punch[i]->ev); /* cancels a pending one */
		free(n->punch[i]);
		n->punch[i] = NULL;
	}
	if (n->ev_dns != NULL)
		event_free(n->ev_dns);
	if (n->dns != NULL && n->dns_fd >= 0)
		close(n->dns_fd);
	dns_zone_free(n->dns);
	n->dns = NULL;
	while (u32map_next(&n->rcache, &it, &k, &v))
		free(v);
	u32map_free(&n->rcache);
	lhreg_free(n->reg);
	n->reg = NULL;
	free(n->lh_in);
	free(n->lh_out);
	n->lh_in = n->lh_out = NULL;
}
