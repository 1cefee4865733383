/*
 * node/dnsresp.c: the lighthouse's DNS responder (dnsresp.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns.h"
#include "dnsresp.h"
#include "err.h"
#include "gotime.h"
#include "hostmap.h"
#include "log.h"
#include "nodeint.h"
#include "sbuf.h"
#include "tunnel.h"

struct dnsresp {
	struct dns_zone *zone;
	int fd; /* -1: not serving (turned off by a reload) */
	struct event *ev;
	char host[64]; /* where fd is bound */
	uint16_t port;
	uint32_t vpn_ip, vpn_mask; /* TXT for the overlay */
	struct dnsresp_stats st;
};

/* Go's %s of a []*net.IPNet: "[a/b c/d]". */
static void
format_nets(struct sbuf *b, const struct ip4net *nets, size_t n)
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
set_txt(struct dnsresp *d, const struct tunnel *t)
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
	format_nets(&b, c->ips, c->nips);
	sbuf_puts(&b, "\" \"Subnets ");
	format_nets(&b, c->subnets, c->nsubnets);
	sbuf_puts(&b, "\" \"Groups [");
	for (i = 0; i < c->ngroups; i++)
		sbuf_printf(&b, "%s%s", i > 0 ? " " : "", c->groups[i].s);
	sbuf_printf(
	    &b, "]\" \"NotBefore %s\" \"NotAFter %s\" \"PublicKey ", nb, na);
	hex = malloc(2 * (c->pubkey_len > c->issuer_len ? c->pubkey_len
	                                                : c->issuer_len) +
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
		dns_zone_set_txt(d->zone, t->vpn_ip, b.s, b.len);
	sbuf_free(&b);
}

void
dnsresp_tunnel_up(struct dnsresp *d, const struct tunnel *t)
{
	/* A records are added, never removed (1.6.1) */
	dns_zone_add(d->zone, t->peer->name.s, t->peer->name.len, t->vpn_ip);
	set_txt(d, t);
}

void
dnsresp_tunnel_down(struct dnsresp *d, uint32_t vpn_ip)
{
	dns_zone_set_txt(d->zone, vpn_ip, NULL, 0);
}

/* One datagram in, one answer out; at most 64 a wakeup. */
static void
on_dns(evutil_socket_t fd, short what, void *arg)
{
	struct dnsresp *d = arg;
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
		d->st.queries++;
		src = ntohl(from.sin_addr.s_addr);
		/* TXT (certificate details): the overlay and 127.0.0.1 */
		len = dns_answer(d->zone, q, (size_t)got,
		    (src & d->vpn_mask) == (d->vpn_ip & d->vpn_mask) ||
		        src == 0x7f000001,
		    out, sizeof(out));
		if (len == 0) { /* dns.h: too short, or a response */
			if (got < DNS_HDR_LEN)
				d->st.too_short++;
			else
				d->st.not_query++;
			continue;
		}
		if ((out[3] & 0x0f) == DNS_RCODE_FORMERR)
			d->st.formerr++;
		else if ((out[3] & 0x0f) == DNS_RCODE_NOTIMP)
			d->st.notimp++;
		sendto(fd, out, len, 0, (struct sockaddr *)&from, fl);
	}
}

const struct dnsresp_stats *
dnsresp_stats(const struct dnsresp *d)
{
	return &d->st;
}

/* A socket bound to host:port whose datagrams go to on_dns: 0 with *fd
 * and *ev, or an error with the reason in err and errno kept. */
static int
bind_at(struct dnsresp *d, struct event_base *base, const char *host,
    uint16_t port, int *fd, struct event **ev, char *err, size_t errlen)
{
	struct sockaddr_in sa;
	int e;

	*fd = -1;
	*ev = NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errlen,
		    "lighthouse.dns.host %s is not an IPv4 address", host);
		errno = EINVAL;
		return VPN_ERR_INVAL;
	}
	*fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		e = errno;
		snprintf(err, errlen, "Failed to start DNS server on %s:%u: %s",
		    host, port, strerror(e));
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		errno = e;
		return VPN_ERR_SYS;
	}
	*ev = event_new(base, *fd, EV_READ | EV_PERSIST, on_dns, d);
	if (*ev == NULL || event_add(*ev, NULL) != 0) {
		if (*ev != NULL)
			event_free(*ev);
		close(*fd);
		*fd = -1;
		*ev = NULL;
		snprintf(err, errlen, "DNS server on %s:%u: out of memory",
		    host, port);
		errno = ENOMEM;
		return VPN_ERR_NOMEM;
	}
	return 0;
}

static void
stop_serving(struct dnsresp *d)
{
	if (d->ev != NULL)
		event_free(d->ev);
	if (d->fd >= 0)
		close(d->fd);
	d->ev = NULL;
	d->fd = -1;
}

/* Serve on fd and ev (from bind_at) from now on. */
/* Nebula's line: dnsListener="host:port". */
static void
said(const char *what, const char *host, unsigned port)
{
	struct log_ev ev;

	if (log_ev_begin(&ev, LOG_LVL_INFO, "%s", what)) {
		/* host:port as Nebula joins them, IPv6 unbracketed */
		log_ev_strf(&ev, "dnsListener", "%s:%u", host, port);
		log_ev_end(&ev);
	}
}

static void
serve(struct dnsresp *d, int fd, struct event *ev, const char *host,
    uint16_t port)
{
	stop_serving(d);
	d->fd = fd;
	d->ev = ev;
	snprintf(d->host, sizeof(d->host), "%s", host);
	d->port = port;
	said("Starting DNS responder", host, port);
}

/* A responder with an empty zone, serving nothing yet. */
static int
responder_new(const struct node_cfg *c, struct dnsresp **out)
{
	struct dnsresp *d;

	if ((*out = d = calloc(1, sizeof(*d))) == NULL)
		return VPN_ERR_NOMEM;
	d->fd = -1;
	d->vpn_ip = c->vpn_ip;
	d->vpn_mask = c->vpn_mask;
	if ((d->zone = dns_zone_new()) == NULL)
		return VPN_ERR_NOMEM;
	return 0;
}

int
dnsresp_open(struct node *n, struct dnsresp **out)
{
	const struct node_cfg *c = n->cfg;
	struct event *ev;
	char err[256];
	int fd, r;

	if ((r = responder_new(c, out)) != 0)
		return r;
	if ((r = bind_at(*out, n->base, c->dns_host, c->dns_port, &fd, &ev, err,
	         sizeof(err))) != 0) {
		log_msg(LOG_LVL_ERROR, "%s", err);
		return r;
	}
	serve(*out, fd, ev, c->dns_host, c->dns_port);
	return 0;
}

void
dnsresp_reload(struct node *n)
{
	const struct node_cfg *c = n->cfg;
	struct dnsresp *d = n->dns;
	struct tunnel *t;
	struct event *ev;
	char err[256], again[256], old[sizeof(d->host)];
	size_t it = 0;
	int fd, r;

	if (!c->serve_dns) {
		if (d != NULL && d->fd >= 0) {
			said("Stopping DNS responder", d->host, d->port);
			stop_serving(d); /* the zone stays, and follows */
		}
		return;
	}
	if (d == NULL) { /* off since start: the tunnels up now */
		if (responder_new(c, &d) != 0) {
			log_msg(LOG_LVL_ERROR, "DNS server: out of memory");
			dnsresp_free(d);
			return;
		}
		n->dns = d;
		while (hostmap_next(n->hm, &it, &t))
			dnsresp_tunnel_up(d, t);
	}
	if (d->fd >= 0 && d->port == c->dns_port &&
	    strcmp(d->host, c->dns_host) == 0)
		return;
	r = bind_at(
	    d, n->base, c->dns_host, c->dns_port, &fd, &ev, err, sizeof(err));
	if (r == VPN_ERR_SYS && errno == EADDRINUSE && d->fd >= 0 &&
	    d->port == c->dns_port) {
		/* the same port, on an address that overlaps ours (0.0.0.0
		 * and one of the machine's): ours must go first, and comes
		 * back if the new one fails all the same */
		snprintf(old, sizeof(old), "%s", d->host);
		stop_serving(d);
		r = bind_at(d, n->base, c->dns_host, c->dns_port, &fd, &ev, err,
		    sizeof(err));
		if (r != 0 && bind_at(d, n->base, old, c->dns_port, &fd, &ev,
		                  again, sizeof(again)) != 0)
			log_msg(LOG_LVL_ERROR, "%s", again);
		else if (r != 0)
			serve(d, fd, ev, old, c->dns_port);
	}
	if (r != 0) {
		if (d->fd >= 0)
			log_msg(LOG_LVL_ERROR,
			    "%s; keeping the DNS responder at %s:%u", err,
			    d->host, d->port);
		else
			log_msg(LOG_LVL_ERROR, "%s; not serving DNS", err);
		return;
	}
	if (d->fd >= 0)
		said("Stopping DNS responder", d->host, d->port);
	serve(d, fd, ev, c->dns_host, c->dns_port);
}

void
dnsresp_free(struct dnsresp *d)
{
	if (d == NULL)
		return;
	if (d->ev != NULL)
		event_free(d->ev);
	if (d->fd >= 0)
		close(d->fd);
	dns_zone_free(d->zone);
	free(d);
}
