/*
 * node/lhclient.c: registering with the lighthouses and asking them
 * (lhclient.h).
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "err.h"
#include "handshake.h"
#include "hostmap.h"
#include "lhclient.h"
#include "lhmsg.h"
#include "log.h"
#include "nodeint.h"
#include "punch.h"
#include "remotes.h"
#include "tunnel.h"
#include "worker.h"

struct lhclient {
	struct event *ev; /* lighthouse.interval */
	struct lhmsg m;   /* scratch: an update or a query */
	struct lhc_stats st;
	/* our addresses changing: an update soon (not each event) */
	struct nl_sock *nl;
	struct event *ev_nl, *ev_soon;
};

/* To every lighthouse, through its tunnel or behind a handshake. */
static void
send_all(struct node *n, const struct lhmsg *m)
{
	uint8_t buf[LHMSG_ENCODED_MAX];
	size_t len, i;

	if (lhmsg_encode(m, buf, sizeof(buf), &len) != 0)
		return;
	for (i = 0; i < n->cfg->nlighthouses; i++)
		node_send(n, n->cfg->lighthouses[i], HDR_LIGHTHOUSE,
		    HDR_SUB_NONE, buf, len);
	worker_count_lh(
	    n->wk->st.lh_tx, (unsigned)m->type, n->cfg->nlighthouses);
	worker_flush(n->wk);
}

static void
add_local(struct lhmsg *m, const struct udp_addr *a)
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
}

/* The addresses of this machine that a peer could reach us on. */
static void
local_addrs(struct node *n, struct lhmsg *m)
{
	const struct node_cfg *c = n->cfg;
	uint16_t port = node_port(n);
	struct ifaddrs *ifs, *i;
	struct udp_addr a;
	size_t k;

	for (k = 0; k < c->nadvertise; k++) {
		a = c->advertise[k];
		if (a.port == 0)
			a.port = port;
		add_local(m, &a);
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
			udp_addr_from_v4(&a, ip, port);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *s = (void *)i->ifa_addr;

			if (IN6_IS_ADDR_LOOPBACK(&s->sin6_addr) ||
			    IN6_IS_ADDR_LINKLOCAL(&s->sin6_addr) ||
			    IN6_IS_ADDR_V4MAPPED(&s->sin6_addr))
				continue;
			memcpy(a.ip, &s->sin6_addr, 16);
			a.port = port;
		} else {
			continue;
		}
		if (!allowlist_allow_name(c->local_allow, i->ifa_name) ||
		    !allowlist_allow(c->local_allow, a.ip))
			continue;
		add_local(m, &a);
	}
	freeifaddrs(ifs);
}

static void
send_update(struct node *n)
{
	struct lhmsg *m = &n->lhc->m;

	memset(m, 0, sizeof(*m));
	m->type = LHMSG_HOST_UPDATE_NOTIFICATION;
	m->has_details = true;
	m->vpn_ip = n->cfg->vpn_ip;
	local_addrs(n, m);
	memcpy(m->relays, n->cfg->relays,
	    n->cfg->nrelays * sizeof(m->relays[0]));
	m->nrelays = n->cfg->nrelays;
	send_all(n, m);
}

void
lhclient_query(struct node *n, uint32_t vpn_ip)
{
	struct lhmsg *m;

	if (n->lhc == NULL || node_cfg_is_lighthouse(n->cfg, vpn_ip))
		return;
	m = &n->lhc->m;
	memset(m, 0, sizeof(*m));
	m->type = LHMSG_HOST_QUERY;
	m->has_details = true;
	m->vpn_ip = vpn_ip;
	send_all(n, m);
}

void
lhclient_recv(struct node *n, struct tunnel *t, const struct lhmsg *m)
{
	if (!node_cfg_is_lighthouse(n->cfg, t->vpn_ip)) {
		n->lhc->st.refused++;
		return;
	}
	if (m->type == LHMSG_HOST_QUERY_REPLY) {
		/* Only about a peer we are reaching: what is kept is bounded
		 * by the pending handshakes and the tunnels. */
		if (hostmap_pending_by_ip(n->hm, m->vpn_ip) == NULL &&
		    hostmap_by_ip(n->hm, m->vpn_ip) == NULL) {
			n->lhc->st.unsolicited++;
			return;
		}
		remotes_store(n->rem, n->cfg, t->vpn_ip, m);
		hs_kick(n, m->vpn_ip);
	} else {
		punch_notified(n, m);
	}
}

static void
on_update_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	send_update(arg);
}

static int
nl_drop(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_SKIP;
}

/* An address was added or removed on this machine: the lighthouses hear
 * our new addresses within 200 ms (the events of one change come in a
 * burst), not at the next lighthouse.interval. */
static void
on_addr_change(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	struct lhclient *c = n->lhc;
	struct timeval soon = {0, 200000};

	(void)fd;
	(void)what;
	while (nl_recvmsgs_default(c->nl) >= 0)
		; /* drained: the content does not matter */
	if (c->ev != NULL && !event_pending(c->ev_soon, EV_TIMEOUT, NULL))
		event_add(c->ev_soon, &soon);
}

static void
on_soon(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;

	(void)fd;
	(void)what;
	n->lhc->st.readdressed++;
	send_update(n);
}

/* Address change events (rtnetlink); without them (no netlink: a
 * sandbox), updates still go every lighthouse.interval. */
static void
watch_addresses(struct node *n)
{
	struct lhclient *c = n->lhc;

	if ((c->nl = nl_socket_alloc()) == NULL)
		return;
	nl_socket_disable_seq_check(c->nl);
	nl_socket_modify_cb(c->nl, NL_CB_VALID, NL_CB_CUSTOM, nl_drop, NULL);
	if (nl_connect(c->nl, NETLINK_ROUTE) < 0 ||
	    nl_socket_add_memberships(c->nl, RTNLGRP_IPV4_IFADDR,
	        RTNLGRP_IPV6_IFADDR, 0) < 0 ||
	    nl_socket_set_nonblocking(c->nl) < 0 ||
	    (c->ev_soon = evtimer_new(n->base, on_soon, n)) == NULL ||
	    (c->ev_nl = event_new(n->base, nl_socket_get_fd(c->nl),
	         EV_READ | EV_PERSIST, on_addr_change, n)) == NULL ||
	    event_add(c->ev_nl, NULL) != 0) {
		log_debug("not watching address changes: netlink unavailable");
		if (c->ev_nl != NULL)
			event_free(c->ev_nl);
		if (c->ev_soon != NULL)
			event_free(c->ev_soon);
		nl_socket_free(c->nl);
		c->nl = NULL;
		c->ev_nl = c->ev_soon = NULL;
	}
}

/* The registration timer for the configuration now in n->cfg, and an
 * update at once. */
static int
schedule(struct node *n)
{
	struct lhclient *c = n->lhc;
	struct timeval tv = {(time_t)n->cfg->lh_interval, 0};

	if (c->ev != NULL) {
		event_free(c->ev);
		c->ev = NULL;
	}
	if (n->cfg->nlighthouses == 0 || n->cfg->lh_interval == 0)
		return 0;
	c->ev = event_new(n->base, -1, EV_PERSIST, on_update_timer, n);
	if (c->ev == NULL || event_add(c->ev, &tv) != 0)
		return VPN_ERR_NOMEM;
	send_update(n);
	return 0;
}

int
lhclient_new(struct node *n, struct lhclient **out)
{
	*out = NULL;
	if ((n->lhc = calloc(1, sizeof(*n->lhc))) == NULL)
		return VPN_ERR_NOMEM;
	*out = n->lhc;
	watch_addresses(n);
	return schedule(n);
}

void
lhclient_free(struct lhclient *c)
{
	if (c == NULL)
		return;
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->ev_nl != NULL)
		event_free(c->ev_nl);
	if (c->ev_soon != NULL)
		event_free(c->ev_soon);
	if (c->nl != NULL)
		nl_socket_free(c->nl);
	free(c);
}

void
lhclient_reload(struct node *n)
{
	if (n->lhc != NULL)
		schedule(n);
}

const struct lhc_stats *
lhclient_stats(const struct lhclient *c)
{
	return &c->st;
}
