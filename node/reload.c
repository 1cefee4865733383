/*
 * node/reload.c: the settings a reload keeps (reload.h).  Each is
 * compared as its configuration key reads, and logged as
 * "listen.port changed from 4242 to 4343: needs a restart, keeping 4242".
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ipaddr.h"
#include "log.h"
#include "node.h"
#include "reload.h"

static void
kept(size_t *n, const char *key, const char *was, const char *now)
{
	log_warnx("%s changed from %s to %s: needs a restart, keeping %s", key, was,
	    now, was);
	(*n)++;
}

static void
keep_int(size_t *n, const char *key, int64_t was, int64_t *now)
{
	char a[32], b[32];

	if (*now == was)
		return;
	snprintf(a, sizeof(a), "%" PRId64, was);
	snprintf(b, sizeof(b), "%" PRId64, *now);
	kept(n, key, a, b);
	*now = was;
}

static void
keep_bool(size_t *n, const char *key, bool was, bool *now)
{
	if (*now == was)
		return;
	kept(n, key, was ? "true" : "false", *now ? "true" : "false");
	*now = was;
}

static void
keep_str(size_t *n, const char *key, const char *was, char *now,
    size_t cap)
{
	if (strcmp(was, now) == 0)
		return;
	kept(n, key, *was != '\0' ? was : "\"\"", *now != '\0' ? now : "\"\"");
	snprintf(now, cap, "%s", was);
}

/* tun.routes as the configuration writes them: "net/bits mtu,...". */
static void
routes_str(const struct tun_route *r, size_t nr, char *buf, size_t len)
{
	char net[IP4NET_STRLEN];
	struct ip4net in;
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < nr && off < len; i++) {
		in.addr = r[i].addr;
		in.mask = r[i].mask;
		ip4net_format(&in, net);
		off += (size_t)snprintf(buf + off, len - off, "%s%s mtu %d",
		    i > 0 ? ", " : "", net, r[i].mtu);
	}
	if (nr == 0)
		snprintf(buf, len, "[]");
}

size_t
reload_keep_restart_only(struct node_cfg *old, struct node_cfg *neu)
{
	char a[512], b[512];
	struct tun_route *r;
	int64_t v;
	size_t n = 0, nr;

	keep_str(&n, "listen.host", old->listen_host, neu->listen_host,
	    sizeof(neu->listen_host));
	v = neu->listen_port;
	keep_int(&n, "listen.port", old->listen_port, &v);
	neu->listen_port = (uint16_t)v;
	v = neu->read_buffer;
	keep_int(&n, "listen.read_buffer", old->read_buffer, &v);
	neu->read_buffer = (int)v;
	v = neu->write_buffer;
	keep_int(&n, "listen.write_buffer", old->write_buffer, &v);
	neu->write_buffer = (int)v;
	keep_bool(&n, "listen.offload", old->listen_offload,
	    &neu->listen_offload);
	if (neu->cipher != old->cipher) {
		kept(&n, "cipher",
		    old->cipher == CRYPTO_AES256GCM ? "aes" : "chachapoly",
		    neu->cipher == CRYPTO_AES256GCM ? "aes" : "chachapoly");
		neu->cipher = old->cipher;
	}
	keep_bool(&n, "tun.disabled", old->tun_disabled, &neu->tun_disabled);
	keep_str(&n, "tun.dev", old->tun_dev, neu->tun_dev,
	    sizeof(neu->tun_dev));
	v = neu->tun_mtu;
	keep_int(&n, "tun.mtu", old->tun_mtu, &v);
	neu->tun_mtu = (int)v;
	v = neu->tx_queue;
	keep_int(&n, "tun.tx_queue", old->tx_queue, &v);
	neu->tx_queue = (int)v;
	keep_bool(&n, "tun.offload", old->tun_offload, &neu->tun_offload);
	if (neu->nroutes != old->nroutes ||
	    (old->nroutes > 0 && memcmp(neu->routes, old->routes,
	                             old->nroutes * sizeof(*old->routes)) != 0)) {
		routes_str(old->routes, old->nroutes, a, sizeof(a));
		routes_str(neu->routes, neu->nroutes, b, sizeof(b));
		kept(&n, "tun.routes", a, b);
		r = neu->routes;
		nr = neu->nroutes;
		neu->routes = old->routes;
		neu->nroutes = old->nroutes;
		old->routes = r;
		old->nroutes = nr;
	}
	/* not reloadable, as in Nebula */
	keep_bool(&n, "punchy.punch", old->punch, &neu->punch);
	keep_bool(&n, "lighthouse.serve_dns", old->serve_dns, &neu->serve_dns);
	keep_str(&n, "lighthouse.dns.host", old->dns_host, neu->dns_host,
	    sizeof(neu->dns_host));
	v = neu->dns_port;
	keep_int(&n, "lighthouse.dns.port", old->dns_port, &v);
	neu->dns_port = (uint16_t)v;
	return n;
}
