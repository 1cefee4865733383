/*
 * node/nodecfg.c: read Nebula 1.6.1's YAML configuration into a validated
 * struct node_cfg.  Unlike Nebula, which silently falls back to a default
 * on a bad value, every wrong type or value is refused with its file, key
 * path, line and reason.  Unknown keys are ignored.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "crypto.h"
#include "err.h"
#include "fileio.h"
#include "log.h"
#include "node.h"
#include "pem.h"
#include "privs.h"

#define MS 1000000LL

struct ld {
	struct node_cfg *c;
	struct config_err ce;
	char *err;
	size_t errlen;
	int64_t now;
};

static int __attribute__((format(printf, 3, 4)))
fail(struct ld *l, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->err, l->errlen, fmt, ap);
	va_end(ap);
	return code != 0 ? code : VPN_ERR_INVAL;
}

/* A config error, formatted "FILE:LINE: KEY: reason". */
static int
cfail(struct ld *l, int code)
{
	config_err_format(&l->ce, l->err, l->errlen);
	return code != 0 ? code : VPN_ERR_INVAL;
}

/*
 * pki.ca / pki.cert / pki.key: a path, or the PEM itself when the string
 * contains "-----BEGIN".  *data is malloc'd; *label names it for errors.
 */
static int
read_pki_material(struct ld *l, const char *key, char **data, size_t *len,
    const char **label)
{
	const char *v;
	char err[512];
	int r;

	if ((r = config_str(l->c->raw, key, "", &v, &l->ce)) != 0)
		return cfail(l, r);
	if (*v == '\0')
		return fail(l, VPN_ERR_INVAL, "no %s path or PEM data provided",
		    key);
	if (strstr(v, "-----BEGIN") != NULL) {
		*label = "<inline>";
		*len = strlen(v);
		if ((*data = strdup(v)) == NULL)
			return VPN_ERR_NOMEM;
		return 0;
	}
	*label = v;
	if (fileio_read(v, FILEIO_MAX, data, len, err, sizeof(err)) != 0)
		return fail(l, VPN_ERR_SYS, "unable to read %s file %s: %s",
		    key, v, err);
	return 0;
}

static int
load_ca(struct ld *l)
{
	const char *label, **list = NULL;
	char name[256], *pem = NULL;
	size_t len, n = 0, nexp = 0, i;
	struct log_ev ev;
	bool blocked;
	int r;

	if ((r = read_pki_material(l, "pki.ca", &pem, &len, &label)) != 0)
		return r;
	if ((l->c->ca = ca_pool_new()) == NULL) {
		r = VPN_ERR_NOMEM;
		goto out;
	}
	r = ca_pool_load_pem(l->c->ca, pem, len, l->now, false, &nexp, name,
	    sizeof(name));
	if (r != 0) {
		r = fail(l, r, "error while adding CA certificate to CA trust "
		               "store: %s%s%s",
		    name, *name != '\0' ? ": " : "", vpn_strerror(r));
		goto out;
	}
	if (nexp > 0 && log_ev_begin(&ev, LOG_LVL_WARN,
	                    "expired certificate present in CA pool")) {
		log_ev_u64(&ev, "count", nexp);
		log_ev_str(&ev, "caPool", label);
		log_ev_end(&ev);
	}
	for (i = 0; i < 2; i++) {
		const char *k = i == 0 ? "pki.blocklist" : "pki.blacklist";

		if ((r = config_str_list(l->c->raw, k, &list, &n, &l->ce)) !=
		    0) {
			r = cfail(l, r);
			goto out;
		}
		if (i == 1 && n > 0)
			log_warnx("pki.blacklist is deprecated and will not be "
			          "supported in a future release. Please "
			          "migrate your config to use pki.blocklist");
		while (n > 0) {
			n--;
			blocked = ca_pool_block(l->c->ca, list[n]) == 0;
			if (!log_ev_begin(&ev,
			        blocked ? LOG_LVL_INFO : LOG_LVL_WARN, "%s",
			        blocked ? "Blocklisting cert"
			                : "Blocklist entry can never match: not a "
			                  "lowercase sha256 fingerprint"))
				continue;
			log_ev_str(&ev, "fingerprint", list[n]);
			if (!blocked)
				log_ev_str(&ev, "key", k);
			log_ev_end(&ev);
		}
		free(list);
		list = NULL;
	}
out:
	free(pem);
	return r;
}

static int
load_cert(struct ld *l)
{
	struct node_cfg *c = l->c;
	const char *label;
	char *pem = NULL;
	size_t len;
	int r;

	if ((r = read_pki_material(l, "pki.key", &pem, &len, &label)) != 0)
		return r;
	r = pem_x25519_private(pem, len, c->key, NULL);
	crypto_cleanse(pem, len);
	free(pem);
	if (r != 0)
		return fail(l, r, "error while unmarshaling pki.key %s: %s",
		    label, vpn_strerror(r));
	if ((r = read_pki_material(l, "pki.cert", &pem, &len, &label)) != 0)
		return r;
	r = cert_from_pem(pem, len, &c->cert, NULL);
	free(pem);
	if (r != 0)
		return fail(l, r, "error while unmarshaling pki.cert %s: %s",
		    label, vpn_strerror(r));
	if (cert_expired(c->cert, l->now))
		return fail(l, VPN_ERR_CERT_EXPIRED,
		    "nebula certificate for this host is expired");
	if (c->cert->nips == 0)
		return fail(l, VPN_ERR_INVAL, "no IPs encoded in certificate");
	if (cert_check_private_key(c->cert, c->key, 32) != 0)
		return fail(l, VPN_ERR_CERT_KEY_MISMATCH,
		    "private key is not a pair with public key in nebula cert");
	memcpy(c->pub, c->cert->pubkey, 32);
	c->vpn_ip = c->cert->ips[0].addr;
	c->vpn_mask = c->cert->ips[0].mask;
	log_sanitize(c->cert->name.s, c->cert->name.len, c->name,
	    sizeof(c->name));
	if ((r = cert_marshal(c->cert, CERT_NO_PUBKEY, &c->cert_nokey,
	         &c->cert_nokey_len)) != 0)
		return fail(l, r, "%s", vpn_strerror(r));
	return 0;
}

/* "host:port" with host an IP literal or a DNS name (resolved now, once). */
static int
resolve(const char *s, struct udp_addr *out, size_t max, size_t *n)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256];
	const char *colon = strrchr(s, ':');
	uint16_t port;
	size_t hl;

	*n = 0;
	if (max == 0)
		return VPN_ERR_RANGE;
	if (udp_addr_parse(s, &out[0]) == 0) {
		*n = 1;
		return 0;
	}
	if (colon == NULL || (hl = (size_t)(colon - s)) == 0 ||
	    hl >= sizeof(host) || *s == '[')
		return VPN_ERR_INVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	{
		struct udp_addr tmp;
		char probe[300];

		snprintf(probe, sizeof(probe), "0.0.0.0%s", colon);
		if (udp_addr_parse(probe, &tmp) != 0)
			return VPN_ERR_INVAL;
		port = tmp.port;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return VPN_ERR_RANGE;
	*n = 0;
	for (ai = res; ai != NULL && *n < max; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			const struct sockaddr_in *sin = (void *)ai->ai_addr;

			udp_addr_from_v4(&out[*n], ntohl(sin->sin_addr.s_addr),
			    port);
		} else if (ai->ai_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (void *)ai->ai_addr;

			memcpy(out[*n].ip, &s6->sin6_addr, 16);
			out[*n].port = port;
		} else {
			continue;
		}
		(*n)++;
	}
	freeaddrinfo(res);
	return *n > 0 ? 0 : VPN_ERR_RANGE;
}

static int
load_static_hosts(struct ld *l)
{
	struct node_cfg *c = l->c;
	const struct config_node *m, *v, *item;
	struct static_host *h;
	struct udp_addr found[STATIC_MAX_ADDRS];
	char kp[CONFIG_PATH_LEN], ip[IP4_STRLEN];
	const char *key, *s;
	size_t i, j, k, count, got;
	uint32_t a;
	int r;

	if ((r = config_map(c->raw, "static_host_map", &m, &l->ce)) != 0)
		return cfail(l, r);
	if (m == NULL || config_node_len(m) == 0)
		return 0;
	c->statics = calloc(config_node_len(m), sizeof(*c->statics));
	if (c->statics == NULL)
		return VPN_ERR_NOMEM;
	for (i = 0; i < config_node_len(m); i++) {
		key = config_node_key(m, i);
		v = config_node_value(m, i);
		config_path_key(kp, sizeof(kp), "static_host_map", key);
		if (!ip4_parse(key, &a))
			return cfail(l, config_node_err(&l->ce,
			                    config_node_keynode(m, i), kp,
			                    VPN_ERR_INVAL,
			                    "not an IPv4 address"));
		if ((a & c->vpn_mask) != (c->vpn_ip & c->vpn_mask)) {
			ip4_format(c->vpn_ip & c->vpn_mask, ip);
			return cfail(l, config_node_err(&l->ce,
			                    config_node_keynode(m, i), kp,
			                    VPN_ERR_INVAL,
			                    "static_host_map key is not in our "
			                    "subnet, invalid (network %s/%d)",
			                    ip, ip4_mask_bits(c->vpn_mask)));
		}
		h = &c->statics[c->nstatics++];
		h->vpn_ip = a;
		count = config_node_type(v) == CONFIG_SEQ ? config_node_len(v) :
		                                           1;
		for (j = 0; j < count; j++) {
			item = config_node_type(v) == CONFIG_SEQ ?
			    config_node_item(v, j) :
			    v;
			if (config_node_type(v) == CONFIG_SEQ)
				config_path_index(kp, sizeof(kp), kp, j);
			if ((r = config_node_str(item, kp, "", &s, &l->ce)) !=
			    0)
				return cfail(l, r);
			r = resolve(s, found, STATIC_MAX_ADDRS, &got);
			if (r != 0)
				return cfail(l, config_node_err(&l->ce, item,
				                    kp, r,
				                    "Static host address could "
				                    "not be parsed: %s",
				                    s));
			/* Keep the last STATIC_MAX_ADDRS, as Nebula does. */
			for (k = 0; k < got; k++) {
				if (h->naddrs == STATIC_MAX_ADDRS) {
					memmove(h->addrs, h->addrs + 1,
					    (STATIC_MAX_ADDRS - 1) *
					        sizeof(h->addrs[0]));
					h->naddrs--;
				}
				h->addrs[h->naddrs++] = found[k];
			}
			config_path_key(kp, sizeof(kp), "static_host_map", key);
		}
	}
	return 0;
}

static int
load_routes(struct ld *l)
{
	struct node_cfg *c = l->c;
	const struct config_node *list, *e, *f;
	char kp[CONFIG_PATH_LEN], sub[CONFIG_PATH_LEN];
	struct ip4net net;
	const char *s;
	int64_t mtu;
	size_t i;
	int r;

	if ((r = config_list(c->raw, "tun.routes", &list, &l->ce)) != 0)
		return cfail(l, r);
	if (list == NULL || config_node_len(list) == 0)
		return 0;
	c->routes = calloc(config_node_len(list), sizeof(*c->routes));
	if (c->routes == NULL)
		return VPN_ERR_NOMEM;
	for (i = 0; i < config_node_len(list); i++) {
		e = config_node_item(list, i);
		config_path_index(kp, sizeof(kp), "tun.routes", i);
		if (config_node_type(e) != CONFIG_MAP)
			return cfail(l, config_node_err(&l->ce, e, kp,
			                    VPN_ERR_INVAL,
			                    "entry %zu in tun.routes is invalid",
			                    i + 1));
		config_path_key(sub, sizeof(sub), kp, "mtu");
		f = config_node_get(e, "mtu");
		if (f == NULL)
			return cfail(l, config_node_err(&l->ce, e, sub,
			                    VPN_ERR_INVAL, "is not present"));
		if ((r = config_node_int(f, sub, 0, 500, 9001, &mtu,
		         &l->ce)) != 0)
			return cfail(l, r);
		config_path_key(sub, sizeof(sub), kp, "route");
		f = config_node_get(e, "route");
		if (f == NULL)
			return cfail(l, config_node_err(&l->ce, e, sub,
			                    VPN_ERR_INVAL, "is not present"));
		if ((r = config_node_str(f, sub, "", &s, &l->ce)) != 0)
			return cfail(l, r);
		if (ip4net_parse(s, &net) != 0)
			return cfail(l, config_node_err(&l->ce, f, sub,
			                    VPN_ERR_INVAL,
			                    "failed to parse %s", s));
		net.addr &= net.mask;
		if ((net.addr & c->vpn_mask) != (c->vpn_ip & c->vpn_mask) ||
		    ip4_mask_bits(net.mask) < ip4_mask_bits(c->vpn_mask))
			return cfail(l, config_node_err(&l->ce, f, sub,
			                    VPN_ERR_INVAL,
			                    "is not contained within the "
			                    "network attached to the "
			                    "certificate"));
		c->routes[c->nroutes].addr = net.addr;
		c->routes[c->nroutes].mask = net.mask;
		c->routes[c->nroutes].mtu = (int)mtu;
		c->nroutes++;
	}
	return 0;
}

/* An error at node n (key path kp), refusing the file. */
static int __attribute__((format(printf, 4, 5)))
node_fail(struct ld *l, const struct config_node *n, const char *kp,
    const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return cfail(l, config_node_err(&l->ce, n, kp, VPN_ERR_INVAL, "%s",
	                    why));
}

/* tun.unsafe_routes, with Nebula's errors (overlay/route.go). */
static int
load_unsafe_routes(struct ld *l)
{
	struct node_cfg *c = l->c;
	const struct config_node *list, *e, *f;
	char kp[CONFIG_PATH_LEN], sub[CONFIG_PATH_LEN];
	struct unsafe_route *u;
	struct ip4net net;
	const char *s;
	int64_t v;
	size_t i;
	int r;

	if ((r = config_list(c->raw, "tun.unsafe_routes", &list, &l->ce)) != 0)
		return cfail(l, r);
	if (list == NULL || config_node_len(list) == 0)
		return 0;
	c->unsafe = calloc(config_node_len(list), sizeof(*c->unsafe));
	if (c->unsafe == NULL)
		return VPN_ERR_NOMEM;
	for (i = 0; i < config_node_len(list); i++) {
		e = config_node_item(list, i);
		u = &c->unsafe[i];
		config_path_index(kp, sizeof(kp), "tun.unsafe_routes", i);
		if (config_node_type(e) != CONFIG_MAP)
			return node_fail(l, e, kp,
			    "entry %zu in tun.unsafe_routes is invalid", i + 1);
		config_path_key(sub, sizeof(sub), kp, "mtu");
		if ((r = config_node_int(config_node_get(e, "mtu"), sub, 0, 0,
		         9001, &v, &l->ce)) != 0)
			return cfail(l, r);
		if (v != 0 && v < 500)
			return node_fail(l, config_node_get(e, "mtu"), sub,
			    "entry %zu.mtu in tun.unsafe_routes is below 500: "
			    "%lld",
			    i + 1, (long long)v);
		u->mtu = (int)v;
		config_path_key(sub, sizeof(sub), kp, "metric");
		if ((r = config_node_int(config_node_get(e, "metric"), sub, 0, 0,
		         INT32_MAX, &v, &l->ce)) != 0)
			return cfail(l, r);
		u->metric = (int)v;
		config_path_key(sub, sizeof(sub), kp, "install");
		if ((r = config_node_bool(config_node_get(e, "install"), sub,
		         true, &u->install, &l->ce)) != 0)
			return cfail(l, r);
		config_path_key(sub, sizeof(sub), kp, "via");
		if ((f = config_node_get(e, "via")) == NULL)
			return node_fail(l, e, sub,
			    "entry %zu.via in tun.unsafe_routes is not present",
			    i + 1);
		if (config_node_type(f) != CONFIG_SCALAR)
			return node_fail(l, f, sub,
			    "entry %zu.via in tun.unsafe_routes is not a string",
			    i + 1);
		s = config_node_scalar(f);
		if (!ip4_parse(s, &u->via))
			return node_fail(l, f, sub,
			    "entry %zu.via in tun.unsafe_routes failed to parse "
			    "address: %s",
			    i + 1, s);
		if ((u->via & c->vpn_mask) != (c->vpn_ip & c->vpn_mask) ||
		    u->via == c->vpn_ip)
			return node_fail(l, f, sub,
			    "entry %zu.via in tun.unsafe_routes is not a peer in "
			    "the network attached to the certificate: %s",
			    i + 1, s);
		config_path_key(sub, sizeof(sub), kp, "route");
		if ((f = config_node_get(e, "route")) == NULL)
			return node_fail(l, e, sub,
			    "entry %zu.route in tun.unsafe_routes is not present",
			    i + 1);
		s = config_node_type(f) == CONFIG_SCALAR ? config_node_scalar(f)
		                                          : "";
		if (ip4net_parse(s, &net) != 0)
			return node_fail(l, f, sub,
			    "entry %zu.route in tun.unsafe_routes failed to "
			    "parse: %s",
			    i + 1, s);
		net.addr &= net.mask;
		/* contained within the overlay network (Nebula's ipWithin) */
		if (ip4_mask_bits(net.mask) >= ip4_mask_bits(c->vpn_mask) &&
		    (net.addr & c->vpn_mask) == (c->vpn_ip & c->vpn_mask))
			return node_fail(l, f, sub,
			    "entry %zu.route in tun.unsafe_routes is contained "
			    "within the network attached to the certificate",
			    i + 1);
		u->addr = net.addr;
		u->mask = net.mask;
		c->nunsafe++;
	}
	return 0;
}

/*
 * exit: (ours; Nebula ignores the section).  A client names the peer
 * that carries its internet-bound traffic (exit.via) and the prefixes
 * (exit.routes, default 0.0.0.0/0), routed in a table of their own
 * (exit.table) that a policy rule applies to all but our own socket's
 * packets (marked exit.fwmark), so the tunnels never route into
 * themselves.  An exit node (exit.serve) forwards and masquerades.
 */
/* The node of key, and key: where node_fail points. */
#define AT(key) config_get(c->raw, key), key

static int
load_exit(struct ld *l)
{
	struct node_cfg *c = l->c;
	const char **list;
	const char *s;
	size_t i, n;
	int64_t v;
	int r;

	if ((r = config_str(c->raw, "exit.via", "", &s, &l->ce)) != 0)
		return cfail(l, r);
	if (*s != '\0') {
		if (!ip4_parse(s, &c->exit_via))
			return node_fail(l, AT("exit.via"),
			    "not an IPv4 address: %s", s);
		if ((c->exit_via & c->vpn_mask) !=
		        (c->vpn_ip & c->vpn_mask) ||
		    c->exit_via == c->vpn_ip)
			return node_fail(l, AT("exit.via"),
			    "%s is not a peer in the network attached to the "
			    "certificate", s);
	}
	if ((r = config_str_list(c->raw, "exit.routes", &list, &n,
	         &l->ce)) != 0)
		return cfail(l, r);
	if (n > 0 && c->exit_via == 0) {
		free(list);
		return node_fail(l, AT("exit.routes"), "needs exit.via");
	}
	if (c->exit_via != 0) {
		c->exit_routes = calloc(n > 0 ? n : 1, sizeof(*c->exit_routes));
		if (c->exit_routes == NULL) {
			free(list);
			return VPN_ERR_NOMEM;
		}
		for (i = 0; i < n; i++) {
			struct ip4net *e = &c->exit_routes[i];

			if (ip4net_parse(list[i], e) != 0) {
				r = node_fail(l, AT("exit.routes"),
				    "entry %zu failed to parse: %s", i + 1,
				    list[i]);
				free(list);
				return r;
			}
			e->addr &= e->mask;
			if (ip4_mask_bits(e->mask) >= ip4_mask_bits(c->vpn_mask) &&
			    (e->addr & c->vpn_mask) ==
			        (c->vpn_ip & c->vpn_mask)) {
				r = node_fail(l, AT("exit.routes"),
				    "entry %zu is contained within the network "
				    "attached to the certificate: %s",
				    i + 1, list[i]);
				free(list);
				return r;
			}
		}
		c->nexit_routes = n;
		if (n == 0) /* the default: everything */
			c->nexit_routes = 1;
	}
	free(list);
	/* 253-255 are the kernel's default, main and local tables */
	if ((r = config_int(c->raw, "exit.table", EXIT_TABLE_DEFAULT, 1,
	         INT32_MAX, &v, &l->ce)) != 0)
		return cfail(l, r);
	if (v >= 253 && v <= 255)
		return node_fail(l, AT("exit.table"),
		    "%lld is one of the kernel's own tables (default, main, "
		    "local)",
		    (long long)v);
	c->exit_table = (uint32_t)v;
	if ((r = config_int(c->raw, "exit.fwmark", (int64_t)c->exit_table, 1,
	         UINT32_MAX, &v, &l->ce)) != 0)
		return cfail(l, r);
	c->exit_fwmark = (uint32_t)v;
	if ((r = config_int(c->raw, "exit.priority", EXIT_PRIORITY_DEFAULT, 1,
	         32764, &v, &l->ce)) != 0)
		return cfail(l, r);
	c->exit_priority = (uint32_t)v;
	if ((r = config_bool(c->raw, "exit.serve", false, &c->exit_serve,
	         &l->ce)) != 0 ||
	    (r = config_bool(c->raw, "exit.masquerade", true,
	         &c->exit_masquerade, &l->ce)) != 0)
		return cfail(l, r);
	if (c->exit_serve && c->tun_disabled)
		return node_fail(l, AT("exit.serve"),
		    "needs a TUN device (tun.disabled is true)");
	return 0;
}
#undef AT

static int
load_misc(struct ld *l)
{
	struct node_cfg *c = l->c;
	const struct config_node *n;
	const char *s;
	int64_t v;
	bool b;
	int r;

	if ((r = config_str(c->raw, "listen.host", "0.0.0.0", &s, &l->ce)))
		return cfail(l, r);
	if (strcmp(s, "[::]") == 0)
		s = "::";
	snprintf(c->listen_host, sizeof(c->listen_host), "%s", s);
	{
		uint8_t tmp[16];

		if (inet_pton(AF_INET, s, tmp) != 1 &&
		    inet_pton(AF_INET6, s, tmp) != 1) {
			n = config_get(c->raw, "listen.host");
			return cfail(l, config_node_err(&l->ce, n,
			                    "listen.host", VPN_ERR_INVAL,
			                    "expected an IP address, got \"%s\"",
			                    s));
		}
	}
	if ((r = config_int(c->raw, "listen.port", 0, 0, 65535, &v, &l->ce)))
		return cfail(l, r);
	c->listen_port = (uint16_t)v;
	/* Nebula leaves the kernel's default (about 200 KiB) when these are
	 * absent; a burst of full-size packets overflows that, so our
	 * default is 8 MiB (kernel memory, used only under load).  An
	 * explicit 0 keeps the kernel's default. */
	if ((r = config_int(c->raw, "listen.read_buffer", NODE_SOCKBUF, 0,
	         1 << 30, &v, &l->ce)))
		return cfail(l, r);
	c->read_buffer = (int)v;
	if ((r = config_int(c->raw, "listen.write_buffer", NODE_SOCKBUF, 0,
	         1 << 30, &v, &l->ce)))
		return cfail(l, r);
	c->write_buffer = (int)v;
	if ((r = config_str(c->raw, "listen.send_recv_error", "always", &s,
	         &l->ce)))
		return cfail(l, r);
	if (strcasecmp(s, "always") == 0 || strcmp(s, "true") == 0)
		c->send_recv_error = SRE_ALWAYS;
	else if (strcasecmp(s, "never") == 0 || strcmp(s, "false") == 0)
		c->send_recv_error = SRE_NEVER;
	else if (strcasecmp(s, "private") == 0)
		c->send_recv_error = SRE_PRIVATE;
	else
		return cfail(l, config_node_err(&l->ce,
		                    config_get(c->raw, "listen.send_recv_error"),
		                    "listen.send_recv_error", VPN_ERR_INVAL,
		                    "expected always, never or private, got "
		                    "\"%s\"",
		                    s));

	if ((r = config_bool(c->raw, "tun.disabled", false, &c->tun_disabled,
	         &l->ce)) ||
	    (r = config_str(c->raw, "tun.dev", "", &s, &l->ce)))
		return cfail(l, r);
	if (strlen(s) >= sizeof(c->tun_dev))
		return cfail(l, config_node_err(&l->ce,
		                    config_get(c->raw, "tun.dev"), "tun.dev",
		                    VPN_ERR_INVAL,
		                    "interface names are at most %zu bytes",
		                    sizeof(c->tun_dev) - 1));
	snprintf(c->tun_dev, sizeof(c->tun_dev), "%s", s);
	if ((r = config_int(c->raw, "tun.mtu", 1300, 500, 9001 - 32, &v,
	         &l->ce)))
		return cfail(l, r);
	c->tun_mtu = (int)v;
	if ((r = config_int(c->raw, "tun.tx_queue", 500, 0, 1 << 20, &v,
	         &l->ce)))
		return cfail(l, r);
	c->tx_queue = (int)v;
	if ((r = config_bool(c->raw, "tun.drop_local_broadcast", false,
	         &c->drop_local_broadcast, &l->ce)) ||
	    (r = config_bool(c->raw, "tun.drop_multicast", false,
	         &c->drop_multicast, &l->ce)) ||
	    /* true by default as in Nebula >= 1.7 (1.6.1: false) */
	    (r = config_bool(c->raw, "pki.disconnect_invalid", true,
	         &c->disconnect_invalid, &l->ce)) ||
	    /* ours, not Nebula's: segmentation offload (lib/offload.h) */
	    (r = config_bool(c->raw, "tun.offload", true, &c->tun_offload,
	         &l->ce)) ||
	    (r = config_bool(c->raw, "listen.offload", true,
	         &c->listen_offload, &l->ce)))
		return cfail(l, r);
	if ((r = config_duration(c->raw, "listen.busy_poll", 0,
	         &c->busy_poll_ns, &l->ce)))
		return cfail(l, r);
	/* ours: warn ahead of our certificate's and CAs' expiry */
	if ((r = config_duration(c->raw, "pki.expiry_warning",
	         720LL * 3600 * 1000 * MS, &c->expiry_warning, &l->ce)))
		return cfail(l, r);
	if (c->expiry_warning < 0)
		return cfail(l, config_node_err(&l->ce,
		                    config_get(c->raw, "pki.expiry_warning"),
		                    "pki.expiry_warning", VPN_ERR_RANGE,
		                    "must not be negative"));
	if (c->busy_poll_ns < 0 || c->busy_poll_ns > 10 * MS)
		return cfail(l, config_node_err(&l->ce,
		                    config_get(c->raw, "listen.busy_poll"),
		                    "listen.busy_poll", VPN_ERR_INVAL,
		                    "must be between 0 and 10ms"));
	if ((r = load_routes(l)) != 0 || (r = load_unsafe_routes(l)) != 0 ||
	    (r = load_exit(l)) != 0)
		return r;

	if ((r = config_str(c->raw, "cipher", "aes", &s, &l->ce)))
		return cfail(l, r);
	if (strcmp(s, "aes") == 0)
		c->cipher = CRYPTO_AES256GCM;
	else if (strcmp(s, "chachapoly") == 0)
		c->cipher = CRYPTO_CHACHAPOLY;
	else
		return cfail(l, config_node_err(&l->ce,
		                    config_get(c->raw, "cipher"), "cipher",
		                    VPN_ERR_INVAL, "unknown cipher: %s", s));

	if ((r = config_duration(c->raw, "handshakes.try_interval", 100 * MS,
	         &c->hs_try_interval, &l->ce)))
		return cfail(l, r);
	if (c->hs_try_interval < 1 * MS)
		return cfail(l, config_node_err(&l->ce,
		                    config_get(c->raw, "handshakes.try_interval"),
		                    "handshakes.try_interval", VPN_ERR_RANGE,
		                    "must be at least 1ms"));
	if ((r = config_int(c->raw, "handshakes.retries", 10, 1, 1000,
	         &c->hs_retries, &l->ce)) ||
	    (r = config_int(c->raw, "timers.connection_alive_interval", 5, 1,
	         3600, &c->alive_interval, &l->ce)) ||
	    (r = config_int(c->raw, "timers.pending_deletion_interval", 10, 1,
	         3600, &c->deletion_interval, &l->ce)) ||
	    /* ours, not Nebula's: bounds on what a scan or a peer can hold */
	    (r = config_int(c->raw, "handshakes.max_pending", 2048, 1,
	         1 << 20, &c->max_pending, &l->ce)) ||
	    (r = config_int(c->raw, "handshakes.max_queued_bytes", 8 << 20,
	         0, (int64_t)1 << 32, &c->max_queued_bytes, &l->ce)) ||
	    (r = config_int(c->raw, "handshakes.cpu_percent", 50, 1, 100,
	         &c->hs_cpu_percent, &l->ce)) ||
	    (r = config_int(c->raw, "handshakes.per_source_rate", 10, 1,
	         1 << 20, &c->hs_source_rate, &l->ce)) ||
	    (r = config_int(c->raw, "handshakes.responder_queue", 256, 1,
	         1 << 16, &c->hs_responder_queue, &l->ce)) ||
	    (r = config_int(c->raw, "firewall.conntrack.max_per_tunnel", 65536,
	         1, CONNTRACK_DEFAULT_MAX, &c->ct_max_per_tunnel, &l->ce)))
		return cfail(l, r);

	if ((r = config_str(c->raw, "logging.level", "info", &s, &l->ce)))
		return cfail(l, r);
	{
		char lower[16];
		size_t i;

		for (i = 0; s[i] != '\0' && i + 1 < sizeof(lower); i++)
			lower[i] = (char)(s[i] | 0x20);
		lower[i] = '\0';
		if (strcmp(lower, "trace") == 0)
			snprintf(lower, sizeof(lower), "debug");
		if (log_level_parse(lower, &c->log_level) != 0)
			return cfail(l, config_node_err(&l->ce,
			                    config_get(c->raw, "logging.level"),
			                    "logging.level", VPN_ERR_INVAL,
			                    "unknown level \"%s\"; possible "
			                    "levels: panic fatal error warning "
			                    "info debug trace",
			                    s));
	}
	if ((r = config_str(c->raw, "logging.format", "text", &s, &l->ce)))
		return cfail(l, r);
	if (log_format_parse(s, &c->log_format) != 0) {
		char lower[64];
		size_t i;

		/* Nebula names it lowercased */
		for (i = 0; s[i] != '\0' && i + 1 < sizeof(lower); i++)
			lower[i] = (char)tolower((unsigned char)s[i]);
		lower[i] = '\0';
		return cfail(l, config_node_err(&l->ce,
		                    config_get(c->raw, "logging.format"),
		                    "logging.format", VPN_ERR_INVAL,
		                    "unknown log format `%s`. possible formats: "
		                    "[text json]",
		                    lower));
	}
	if ((r = config_bool(c->raw, "logging.disable_timestamp", false,
	         &c->log_no_time, &l->ce)) ||
	    (r = config_str(c->raw, "logging.timestamp_format", "", &s,
	         &l->ce)))
		return cfail(l, r);
	/* any text is a Go layout: what is not a layout element is copied */
	if (strlen(s) >= sizeof(c->log_time_format)) {
		n = config_get(c->raw, "logging.timestamp_format");
		return cfail(l, config_node_err(&l->ce, n,
		                    "logging.timestamp_format", VPN_ERR_RANGE,
		                    "longer than %zu bytes",
		                    sizeof(c->log_time_format) - 1));
	}
	snprintf(c->log_time_format, sizeof(c->log_time_format), "%s", s);
	(void)b;
	return 0;
}

/*
 * The top-level keys: Nebula 1.6.1's (those its code reads; its
 * examples/config.yml shows most) and ours.
 */
static const char *const top_keys[] = {
    "pki", "static_host_map", "lighthouse", "listen", "routines", "punchy",
    "punch_back", "cipher", "preferred_ranges", "local_range", "sshd",
    "relay", "tun", "logging", "stats", "handshakes", "timers", "firewall",
    /* ours */
    "exit", "process", "control"};

#define KEY_DIST_MAX 64 /* longer names are not compared */

/* Edit distance: insertions, deletions, substitutions and swaps of two
 * neighbours ("listne") count one each.  SIZE_MAX for long names. */
static size_t
key_distance(const char *a, const char *b)
{
	unsigned char d[KEY_DIST_MAX + 1][KEY_DIST_MAX + 1];
	size_t la = strlen(a), lb = strlen(b), i, j, v;

	if (la > KEY_DIST_MAX || lb > KEY_DIST_MAX)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = (unsigned char)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (unsigned char)j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1U < v)
				v = d[i - 1][j] + 1U;
			if (d[i][j - 1] + 1U < v)
				v = d[i][j - 1] + 1U;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1U < v)
				v = d[i - 2][j - 2] + 1U;
			d[i][j] = (unsigned char)v;
		}
	return d[la][lb];
}

/* The known key that KEY is most likely a typo of: the nearest one
 * within two edits (one for names under six letters), or NULL. */
static const char *
closest_top_key(const char *key)
{
	const char *best = NULL;
	size_t i, d, lim, bestd = SIZE_MAX;

	for (i = 0; i < sizeof(top_keys) / sizeof(top_keys[0]); i++) {
		d = key_distance(key, top_keys[i]);
		lim = strlen(top_keys[i]) < 6 ? 1 : 2;
		if (d <= lim && d < bestd) {
			best = top_keys[i];
			bestd = d;
		}
	}
	return best;
}

/*
 * A top-level key that neither Nebula 1.6.1 nor we read is most likely a
 * typo, and the section it names silently absent: warn, naming the
 * nearest known key, but load the file (as Nebula, which ignores it).
 */
static void
warn_unknown(const struct config *raw)
{
	const struct config_node *root = config_get(raw, ""), *k;
	const char *key, *near;
	struct log_ev ev;
	size_t i, j;

	for (i = 0; i < config_node_len(root); i++) {
		if ((key = config_node_key(root, i)) == NULL)
			continue;
		for (j = 0; j < sizeof(top_keys) / sizeof(top_keys[0]); j++)
			if (strcmp(key, top_keys[j]) == 0)
				break;
		if (j < sizeof(top_keys) / sizeof(top_keys[0]))
			continue;
		k = config_node_keynode(root, i);
		if (!log_ev_begin(
		        &ev, LOG_LVL_WARN, "Unknown configuration key"))
			continue;
		log_ev_str(&ev, "file", config_node_file(k));
		log_ev_i64(&ev, "line", config_node_line(k));
		log_ev_peer(&ev, "key", key, strlen(key));
		if ((near = closest_top_key(key)) != NULL)
			log_ev_str(&ev, "didYouMean", near);
		log_ev_end(&ev);
	}
}

static int
load_lighthouse(struct ld *l, bool force)
{
	struct node_cfg *c = l->c;
	const struct config_node *n, *item;
	const struct static_host *sh;
	char kp[CONFIG_PATH_LEN], ip[IP4_STRLEN];
	struct log_ev ev;
	const char **list = NULL, *s;
	size_t cnt = 0, i;
	int64_t v;
	bool b;
	int r;

	if ((r = config_bool(c->raw, "lighthouse.am_lighthouse", force,
	         &c->am_lighthouse, &l->ce)) != 0)
		return cfail(l, r);
	if (force && !c->am_lighthouse)
		return cfail(l, config_node_err(&l->ce,
		                    config_get(c->raw, "lighthouse.am_lighthouse"),
		                    "lighthouse.am_lighthouse", VPN_ERR_INVAL,
		                    "the lighthouse daemon cannot run with "
		                    "am_lighthouse: false (use cairn)"));
	if (c->am_lighthouse && c->listen_port == 0)
		return cfail(l, config_node_err(&l->ce,
		                    config_get(c->raw, "listen.port"),
		                    "listen.port", VPN_ERR_INVAL,
		                    "lighthouse.am_lighthouse enabled on node but "
		                    "no port number is set in config"));
	if ((r = config_int(c->raw, "lighthouse.interval", 10, 0, 86400, &v,
	         &l->ce)) != 0)
		return cfail(l, r);
	c->lh_interval = v;
	if ((r = config_bool(c->raw, "lighthouse.serve_dns", false,
	         &c->serve_dns, &l->ce)) != 0 ||
	    (r = config_str(c->raw, "lighthouse.dns.host", "0.0.0.0", &s,
	         &l->ce)) != 0)
		return cfail(l, r);
	snprintf(c->dns_host, sizeof(c->dns_host), "%s", *s ? s : "0.0.0.0");
	if ((r = config_int(c->raw, "lighthouse.dns.port", 53, 0, 65535, &v,
	         &l->ce)) != 0)
		return cfail(l, r);
	c->dns_port = (uint16_t)v;
	if (c->serve_dns && !c->am_lighthouse) {
		log_warnx("DNS server refusing to run because this host is not "
		          "a lighthouse.");
		c->serve_dns = false;
	}
	if ((r = config_str_list(c->raw, "lighthouse.hosts", &list, &cnt,
	         &l->ce)) != 0)
		return cfail(l, r);
	n = config_get(c->raw, "lighthouse.hosts");
	for (i = 0; i < cnt; i++) {
		item = config_node_item(n, i);
		config_path_index(kp, sizeof(kp), "lighthouse.hosts", i);
		if (c->nlighthouses == LH_MAX_HOSTS) {
			r = config_node_err(&l->ce, item, kp, VPN_ERR_RANGE,
			    "at most %d lighthouses are supported",
			    LH_MAX_HOSTS);
			goto fail;
		}
		if (!ip4_parse(list[i], &c->lighthouses[c->nlighthouses])) {
			r = config_node_err(&l->ce, item, kp, VPN_ERR_INVAL,
			    "not an IPv4 address: %s", list[i]);
			goto fail;
		}
		if ((c->lighthouses[c->nlighthouses] & c->vpn_mask) !=
		    (c->vpn_ip & c->vpn_mask)) {
			r = config_node_err(&l->ce, item, kp, VPN_ERR_INVAL,
			    "lighthouse host is not in our subnet, invalid");
			goto fail;
		}
		sh = node_cfg_static(c, c->lighthouses[c->nlighthouses]);
		if (sh == NULL) {
			ip4_format(c->lighthouses[c->nlighthouses], ip);
			r = config_node_err(&l->ce, item, kp, VPN_ERR_INVAL,
			    "lighthouse %s does not have a static_host_map "
			    "entry",
			    ip);
			goto fail;
		}
		c->nlighthouses++;
	}
	free(list);
	list = NULL;
	if (c->am_lighthouse && c->nlighthouses > 0)
		log_warnx("lighthouse.am_lighthouse enabled on node but "
		          "upstream lighthouses exist in config");
	if (!c->am_lighthouse && c->nlighthouses == 0)
		log_warnx("No lighthouse.hosts configured, this host will only "
		          "be able to initiate tunnels with static_host_map "
		          "entries");
	if ((r = config_str_list(c->raw, "lighthouse.advertise_addrs", &list,
	         &cnt, &l->ce)) != 0)
		return cfail(l, r);
	n = config_get(c->raw, "lighthouse.advertise_addrs");
	if (cnt > 0 &&
	    (c->advertise = calloc(cnt, sizeof(*c->advertise))) == NULL) {
		r = VPN_ERR_NOMEM;
		goto fail;
	}
	for (i = 0; i < cnt; i++) {
		config_path_index(kp, sizeof(kp), "lighthouse.advertise_addrs",
		    i);
		if (udp_addr_parse(list[i], &c->advertise[c->nadvertise]) !=
		    0) {
			r = config_node_err(&l->ce, config_node_item(n, i), kp,
			    VPN_ERR_INVAL,
			    "expected \"ip:port\", got \"%s\"", list[i]);
			goto fail;
		}
		if (udp_addr_is_v4(&c->advertise[c->nadvertise]) &&
		    (udp_addr_v4(&c->advertise[c->nadvertise]) &
		        c->vpn_mask) == (c->vpn_ip & c->vpn_mask)) {
			if (log_ev_begin(&ev, LOG_LVL_WARN,
			        "Ignoring lighthouse.advertise_addrs report "
			        "because it is within the nebula network "
			        "range")) {
				log_ev_str(&ev, "addr", list[i]);
				log_ev_u64(&ev, "entry", i + 1);
				log_ev_end(&ev);
			}
			continue;
		}
		c->nadvertise++;
	}
	free(list);
	list = NULL;
	if ((r = allowlist_build(config_get(c->raw,
	                             "lighthouse.remote_allow_list"),
	         "lighthouse.remote_allow_list", false, &c->remote_allow,
	         &l->ce)) != 0 ||
	    (r = allowlist_build(config_get(c->raw,
	                             "lighthouse.local_allow_list"),
	         "lighthouse.local_allow_list", true, &c->local_allow,
	         &l->ce)) != 0 ||
	    (r = allowranges_build(config_get(c->raw,
	                               "lighthouse.remote_allow_ranges"),
	         "lighthouse.remote_allow_ranges", &c->remote_ranges,
	         &l->ce)) != 0)
		return cfail(l, r);
	/* punchy, with the deprecated top-level spellings as fallbacks */
	n = config_get(c->raw, "punchy");
	if (n != NULL && config_node_type(n) == CONFIG_SCALAR) {
		if ((r = config_bool(c->raw, "punchy", false, &b, &l->ce)) != 0)
			return cfail(l, r);
		c->punch = b;
	} else if ((r = config_bool(c->raw, "punchy.punch", false, &c->punch,
	                &l->ce)) != 0) {
		return cfail(l, r);
	}
	if ((r = config_bool(c->raw, "punch_back", false, &b, &l->ce)) != 0)
		return cfail(l, r);
	if (n != NULL && config_node_type(n) == CONFIG_MAP) {
		if ((r = config_bool(c->raw, "punchy.respond", b,
		         &c->punch_respond, &l->ce)) != 0 ||
		    (r = config_duration(c->raw, "punchy.delay", 1000 * MS,
		         &c->punch_delay, &l->ce)) != 0)
			return cfail(l, r);
		if (c->punch_delay < 0)
			return cfail(l, config_node_err(&l->ce,
			                    config_get(c->raw, "punchy.delay"),
			                    "punchy.delay", VPN_ERR_RANGE,
			                    "must not be negative"));
	} else {
		c->punch_respond = b;
		c->punch_delay = 1000 * MS;
	}
	return 0;
fail:
	free(list);
	return cfail(l, r);
}

/*
 * relay (wire.md 9): relay.relays are overlay IPs of nodes that may relay
 * to us (advertised to the lighthouses); a relay itself lists none and
 * uses none (Nebula: "Relays aren't allowed to specify other relays").
 */
static int
load_relay(struct ld *l)
{
	struct node_cfg *c = l->c;
	const struct config_node *n;
	char kp[CONFIG_PATH_LEN];
	struct log_ev ev;
	const char **list = NULL;
	size_t cnt = 0, i;
	int r;

	if ((r = config_bool(c->raw, "relay.am_relay", false, &c->am_relay,
	         &l->ce)) != 0 ||
	    (r = config_bool(c->raw, "relay.use_relays", true, &c->use_relays,
	         &l->ce)) != 0 ||
	    (r = config_str_list(c->raw, "relay.relays", &list, &cnt,
	         &l->ce)) != 0)
		return cfail(l, r);
	if (c->am_relay) {
		c->use_relays = false;
		if (cnt > 0)
			log_info("Ignoring relays from config because am_relay "
			         "is true");
		free(list);
		return 0;
	}
	n = config_get(c->raw, "relay.relays");
	for (i = 0; i < cnt; i++) {
		config_path_index(kp, sizeof(kp), "relay.relays", i);
		if (c->nrelays == RELAYS_MAX) {
			r = config_node_err(&l->ce, config_node_item(n, i), kp,
			    VPN_ERR_RANGE,
			    "at most %d relays are advertised (a lighthouse "
			    "keeps no more)",
			    RELAYS_MAX);
			break;
		}
		if (!ip4_parse(list[i], &c->relays[c->nrelays])) {
			r = config_node_err(&l->ce, config_node_item(n, i), kp,
			    VPN_ERR_INVAL, "not an IPv4 address: %s", list[i]);
			break;
		}
		if ((c->relays[c->nrelays] & c->vpn_mask) !=
		    (c->vpn_ip & c->vpn_mask)) {
			r = config_node_err(&l->ce, config_node_item(n, i), kp,
			    VPN_ERR_INVAL,
			    "relay %s is not in our overlay network", list[i]);
			break;
		}
		if (c->relays[c->nrelays] == c->vpn_ip) {
			if (log_ev_begin(&ev, LOG_LVL_WARN,
			        "Ignoring relay.relays entry: it is this node's "
			        "own IP")) {
				log_ev_str(&ev, "RelayIP", list[i]);
				log_ev_u64(&ev, "entry", i + 1);
				log_ev_end(&ev);
			}
			continue;
		}
		c->nrelays++;
	}
	free(list);
	return r != 0 ? cfail(l, r) : 0;
}

/*
 * A stats address, "host:port": the host an IP literal or a DNS name
 * (resolved now, once, as Nebula does at start), of the family fam
 * (AF_INET, AF_INET6, or 0: either, IPv4 first).  With any, ":port"
 * means every address, as Go's listeners take it.
 */
static int
stats_addr(struct ld *l, const char *key, const char *s, int fam, bool *any,
    struct udp_addr *out)
{
	const struct config_node *n = config_get(l->c->raw, key);
	struct udp_addr found[STATIC_MAX_ADDRS];
	size_t got = 0, i, pick = STATIC_MAX_ADDRS;
	char probe[16];
	int r;

	if (any != NULL && *s == ':') {
		*any = true;
		snprintf(probe, sizeof(probe), "0.0.0.0%.8s", s);
		if (strlen(s) > 8 || udp_addr_parse(probe, out) != 0)
			return node_fail(
			    l, n, key, "expected [host]:port, got \"%s\"", s);
		return 0;
	}
	if (any != NULL)
		*any = false;
	if ((r = resolve(s, found, STATIC_MAX_ADDRS, &got)) == VPN_ERR_INVAL)
		return node_fail(
		    l, n, key, "expected host:port, got \"%s\"", s);
	if (r != 0)
		return node_fail(l, n, key, "cannot resolve %s", s);
	for (i = 0; i < got && pick == STATIC_MAX_ADDRS; i++)
		if (udp_addr_is_v4(&found[i]) ? fam != AF_INET6
		                              : fam == AF_INET6)
			pick = i;
	if (pick == STATIC_MAX_ADDRS && fam == 0)
		pick = 0; /* IPv6 only */
	if (pick == STATIC_MAX_ADDRS)
		return node_fail(l, n, key, "%s has no IPv%d address", s,
		    fam == AF_INET ? 4 : 6);
	*out = found[pick];
	return 0;
}

/* A namespace or subsystem as Nebula's exporter flattens it (' ', '.',
 * '-' and '=' become '_') must make a Prometheus metric name:
 * [A-Za-z0-9_:], and no digit first (first: it starts the name). */
static bool
prom_part_ok(const char *s, bool first)
{
	if (first && *s >= '0' && *s <= '9')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		        (*s >= '0' && *s <= '9') || strchr("_: .-=", *s)))
			return false;
	return true;
}

/* Where a stats key is, or, absent, stats.type, which asks for it. */
static const struct config_node *
stats_node(const struct ld *l, const char *key)
{
	const struct config_node *n = config_get(l->c->raw, key);

	return n != NULL ? n : config_get(l->c->raw, "stats.type");
}

/* A string stats key into dst (size len); "" when absent. */
static int
stats_str(struct ld *l, const char *key, const char *def, char *dst, size_t len)
{
	const char *s;
	int r;

	if ((r = config_str(l->c->raw, key, def, &s, &l->ce)) != 0)
		return cfail(l, r);
	if (strlen(s) >= len)
		return node_fail(l, config_get(l->c->raw, key), key,
		    "longer than %zu bytes", len - 1);
	snprintf(dst, len, "%s", s);
	return 0;
}

/*
 * stats (Nebula's startStats): type prometheus or graphite, each with
 * its keys; Nebula's messages where it has them.  What Nebula would only
 * find out at start, or not at all (a name Prometheus refuses, a port
 * 0), is refused here.
 */
static int
load_stats(struct ld *l)
{
	struct node_cfg *c = l->c;
	struct stats_cfg *st = &c->stats;
	char type[16];
	const char *p;
	int r, fam = 0;

	if ((r = config_bool(c->raw, "stats.message_metrics", false,
	         &st->message_metrics, &l->ce)) != 0 ||
	    (r = config_bool(c->raw, "stats.lighthouse_metrics", false,
	         &st->lighthouse_metrics, &l->ce)) != 0)
		return cfail(l, r);
	if ((r = stats_str(l, "stats.type", "", type, sizeof(type))) != 0)
		return r;
	if (*type == '\0' || strcmp(type, "none") == 0)
		return 0;
	if (strcmp(type, "graphite") == 0)
		st->type = STATS_GRAPHITE;
	else if (strcmp(type, "prometheus") == 0)
		st->type = STATS_PROMETHEUS;
	else
		return node_fail(l, stats_node(l, "stats.type"), "stats.type",
		    "stats.type was not understood: %s (expected prometheus, "
		    "graphite or none)",
		    type);
	if ((r = config_duration(
	         c->raw, "stats.interval", 0, &st->interval, &l->ce)) != 0)
		return cfail(l, r);
	if (st->interval < 100 * MS)
		return node_fail(l, stats_node(l, "stats.interval"),
		    "stats.interval",
		    st->interval == 0 ? "needed with stats.type %s, such as 10s"
		                      : "must be at least 100ms with "
		                        "stats.type %s",
		    type);
	if (st->type == STATS_PROMETHEUS) {
		if ((r = stats_str(l, "stats.listen", "", st->listen,
		         sizeof(st->listen))) != 0 ||
		    (r = stats_str(l, "stats.path", "", st->path,
		         sizeof(st->path))) != 0 ||
		    (r = stats_str(l, "stats.namespace", "", st->ns,
		         sizeof(st->ns))) != 0 ||
		    (r = stats_str(l, "stats.subsystem", "", st->sub,
		         sizeof(st->sub))) != 0)
			return r;
		if (*st->listen == '\0')
			return node_fail(l, stats_node(l, "stats.listen"),
			    "stats.listen", "stats.listen should not be empty");
		if (*st->path == '\0')
			return node_fail(l, stats_node(l, "stats.path"),
			    "stats.path", "stats.path should not be empty");
		if (*st->path != '/')
			return node_fail(l, stats_node(l, "stats.path"),
			    "stats.path", "must start with /, got \"%s\"",
			    st->path);
		if (!prom_part_ok(st->ns, true))
			return node_fail(l, stats_node(l, "stats.namespace"),
			    "stats.namespace",
			    "not usable in a Prometheus metric name: \"%s\"",
			    st->ns);
		if (!prom_part_ok(st->sub, *st->ns == '\0'))
			return node_fail(l, stats_node(l, "stats.subsystem"),
			    "stats.subsystem",
			    "not usable in a Prometheus metric name: \"%s\"",
			    st->sub);
		return stats_addr(l, "stats.listen", st->listen, 0,
		    &st->listen_any, &st->listen_addr);
	}
	if ((r = stats_str(l, "stats.prefix", "nebula", st->prefix,
	         sizeof(st->prefix))) != 0 ||
	    (r = stats_str(l, "stats.protocol", "tcp", st->protocol,
	         sizeof(st->protocol))) != 0 ||
	    (r = stats_str(l, "stats.host", "", st->host, sizeof(st->host))) !=
	        0)
		return r;
	for (p = st->prefix; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			break;
	if (*st->prefix == '\0' || *p != '\0')
		return node_fail(l, stats_node(l, "stats.prefix"),
		    "stats.prefix",
		    "must be a non-empty name without spaces, got \"%s\"",
		    st->prefix);
	if (strncmp(st->protocol, "tcp", 3) != 0 &&
	    strncmp(st->protocol, "udp", 3) != 0)
		fam = -1;
	else if (strcmp(st->protocol + 3, "4") == 0)
		fam = AF_INET;
	else if (strcmp(st->protocol + 3, "6") == 0)
		fam = AF_INET6;
	else if (st->protocol[3] != '\0')
		fam = -1;
	if (fam < 0)
		return node_fail(l, stats_node(l, "stats.protocol"),
		    "stats.protocol",
		    "expected tcp or udp (tcp4, tcp6, udp4, udp6), got \"%s\"",
		    st->protocol);
	if (*st->host == '\0')
		return node_fail(l, stats_node(l, "stats.host"), "stats.host",
		    "stats.host can not be empty");
	if ((r = stats_addr(
	         l, "stats.host", st->host, fam, NULL, &st->host_addr)) != 0)
		return r;
	if (st->host_addr.port == 0)
		return node_fail(l, stats_node(l, "stats.host"), "stats.host",
		    "port 0 in \"%s\"", st->host);
	return 0;
}

/* process.user or process.group that privs.c did not find. */
static int
unknown_name(struct ld *l, const char *key, int r, const char *what,
    const char *file, const char *name)
{
	int e = errno;
	const struct config_node *n = config_get(l->c->raw, key);

	if (r == VPN_ERR_SYS)
		return cfail(l, config_node_err(&l->ce, n, key, r,
		                    "cannot read %s: %s", file, strerror(e)));
	return cfail(l, config_node_err(&l->ce, n, key, r,
	                    "no such %s in %s: %s", what, file, name));
}

/*
 * process (ours, not Nebula's): the user and group the daemon becomes
 * once started (privs.h), looked up now so that a name that does not
 * exist is refused at load, -test included.
 */
static int
load_process(struct ld *l)
{
	static const char *const keys[2] = {"process.user", "process.group"};
	struct node_cfg *c = l->c;
	char *dst[2] = {c->run_user, c->run_group};
	const char *s;
	size_t i;
	int r;

	for (i = 0; i < 2; i++) {
		if ((r = config_str(c->raw, keys[i], "", &s, &l->ce)) != 0)
			return cfail(l, r);
		if (strlen(s) >= sizeof(c->run_user))
			return cfail(l, config_node_err(&l->ce,
			                    config_get(c->raw, keys[i]), keys[i],
			                    VPN_ERR_INVAL,
			                    "names are at most %zu bytes",
			                    sizeof(c->run_user) - 1));
		snprintf(dst[i], sizeof(c->run_user), "%s", s);
	}
	if (*c->run_user == '\0') {
		if (*c->run_group == '\0')
			return 0;
		return cfail(l, config_node_err(&l->ce,
		                    config_get(c->raw, "process.group"),
		                    "process.group", VPN_ERR_INVAL,
		                    "needs process.user"));
	}
	if ((r = privs_user(c->run_user, &c->run_uid, &c->run_gid)) != 0)
		return unknown_name(l, "process.user", r, "user", "/etc/passwd",
		    c->run_user);
	if (*c->run_group != '\0' &&
	    (r = privs_group(c->run_group, &c->run_gid)) != 0)
		return unknown_name(l, "process.group", r, "group",
		    "/etc/group", c->run_group);
	if (c->run_uid == 0)
		return cfail(l, config_node_err(&l->ce,
		                    config_get(c->raw, "process.user"),
		                    "process.user", VPN_ERR_INVAL,
		                    "%s is root (uid 0): nothing would be "
		                    "dropped",
		                    c->run_user));
	return 0;
}

/*
 * control (ours, not Nebula's): the control socket (ctl.h).  By default
 * CTL_DIR/DEV.sock, DEV the TUN device's name, or without a device the
 * overlay IP, so that nodes of different networks on one host do not
 * collide.
 */
static int
load_control(struct ld *l)
{
	struct node_cfg *c = l->c;
	const char *s;
	char ip[IP4_STRLEN];
	int r;

	if ((r = config_bool(c->raw, "control.enabled", true, &c->ctl_enabled,
	         &l->ce)) != 0 ||
	    (r = config_str(c->raw, "control.listen", "", &s, &l->ce)) != 0)
		return cfail(l, r);
	if (*s == '\0') {
		c->ctl_path_default = true;
		ip4_format(c->vpn_ip, ip);
		snprintf(c->ctl_path, sizeof(c->ctl_path), CTL_DIR "/%s.sock",
		    !c->tun_disabled && *c->tun_dev != '\0' ? c->tun_dev : ip);
	} else if (strlen(s) >= sizeof(c->ctl_path)) {
		return cfail(l, config_node_err(&l->ce,
		                    config_get(c->raw, "control.listen"),
		                    "control.listen", VPN_ERR_INVAL,
		                    "a socket path is at most %zu bytes",
		                    sizeof(c->ctl_path) - 1));
	} else if (*s != '/') {
		return cfail(l, config_node_err(&l->ce,
		                    config_get(c->raw, "control.listen"),
		                    "control.listen", VPN_ERR_INVAL,
		                    "must be an absolute path, got \"%s\"", s));
	} else {
		snprintf(c->ctl_path, sizeof(c->ctl_path), "%s", s);
	}
	if ((r = config_str(c->raw, "control.group", "", &s, &l->ce)) != 0)
		return cfail(l, r);
	if (strlen(s) >= sizeof(c->ctl_group))
		return cfail(l, config_node_err(&l->ce,
		                    config_get(c->raw, "control.group"),
		                    "control.group", VPN_ERR_INVAL,
		                    "names are at most %zu bytes",
		                    sizeof(c->ctl_group) - 1));
	snprintf(c->ctl_group, sizeof(c->ctl_group), "%s", s);
	if (*c->ctl_group != '\0' &&
	    (r = privs_group(c->ctl_group, &c->ctl_gid)) != 0)
		return unknown_name(l, "control.group", r, "group",
		    "/etc/group", c->ctl_group);
	return 0;
}

/* sshd: the debug console's helper (sshd.h), checked at load so that
 * -test finds an unusable host key or authorized key. */
static int
load_sshd(struct ld *l)
{
	int r;

	if ((r = sshd_cfg_load(l->c->raw, &l->c->sshd, &l->ce)) != 0)
		return cfail(l, r);
	return 0;
}

/* preferred_ranges: IPv4 CIDRs (and local_range, appended). */
static int
load_preferred(struct ld *l)
{
	struct node_cfg *c = l->c;
	const char **list = NULL, *lr;
	char kp[CONFIG_PATH_LEN];
	size_t cnt = 0, i;
	int r;

	if ((r = config_str_list(c->raw, "preferred_ranges", &list, &cnt,
	         &l->ce)) != 0 ||
	    (r = config_str(c->raw, "local_range", "", &lr, &l->ce)) != 0) {
		free(list);
		return cfail(l, r);
	}
	if ((c->preferred = calloc(cnt + 1, sizeof(*c->preferred))) == NULL) {
		free(list);
		return VPN_ERR_NOMEM;
	}
	for (i = 0; i <= cnt; i++) {
		const char *v = i < cnt ? list[i] : lr;

		if (i == cnt && *lr == '\0')
			break;
		if (ip4net_parse(v, &c->preferred[c->npreferred]) != 0) {
			config_path_index(kp, sizeof(kp), "preferred_ranges", i);
			r = config_node_err(&l->ce,
			    i < cnt ? config_node_item(config_get(c->raw,
			                                   "preferred_ranges"),
			                  i) :
			              config_get(c->raw, "local_range"),
			    i < cnt ? kp : "local_range", VPN_ERR_INVAL,
			    "Failed to parse preferred ranges: %s (IPv4 CIDR "
			    "expected)",
			    v);
			free(list);
			return cfail(l, r);
		}
		c->npreferred++;
	}
	free(list);
	return 0;
}

bool
node_cfg_preferred(const struct node_cfg *c, const struct udp_addr *a)
{
	size_t i;

	if (!udp_addr_is_v4(a))
		return false;
	for (i = 0; i < c->npreferred; i++)
		if (ip4net_contains(&c->preferred[i], udp_addr_v4(a)))
			return true;
	return false;
}

bool
node_cfg_is_lighthouse(const struct node_cfg *c, uint32_t vpn_ip)
{
	size_t i;

	for (i = 0; i < c->nlighthouses; i++)
		if (c->lighthouses[i] == vpn_ip)
			return true;
	return false;
}

static int
cfg_load(const char *path, int64_t now, bool lighthouse, uint64_t fw_version,
    struct node_cfg **out, char *errbuf, size_t errlen)
{
	struct ld l;
	int r;

	memset(&l, 0, sizeof(l));
	l.err = errbuf;
	l.errlen = errlen;
	l.now = now;
	*out = NULL;
	if ((l.c = calloc(1, sizeof(*l.c))) == NULL)
		return VPN_ERR_NOMEM;
	if ((r = config_load(path, &l.c->raw, &l.ce)) != 0) {
		r = cfail(&l, r);
		goto out;
	}
	warn_unknown(l.c->raw);
	if ((r = load_ca(&l)) != 0 || (r = load_cert(&l)) != 0 ||
	    (r = load_static_hosts(&l)) != 0 || (r = load_misc(&l)) != 0 ||
	    (r = load_lighthouse(&l, lighthouse)) != 0 ||
	    (r = load_relay(&l)) != 0 || (r = load_stats(&l)) != 0 ||
	    (r = load_preferred(&l)) != 0 ||
	    (r = load_process(&l)) != 0 || (r = load_control(&l)) != 0 ||
	    (r = load_sshd(&l)) != 0)
		goto out;
	if ((r = fw_build(l.c->raw, l.c->cert, fw_version, &l.c->fw,
	         &l.ce)) != 0) {
		r = cfail(&l, r);
		goto out;
	}
	for (size_t i = 0; i < fw_nwarnings(l.c->fw); i++)
		log_warnx("%s", fw_warning(l.c->fw, i));
	*out = l.c;
	l.c = NULL;
out:
	node_cfg_free(l.c);
	return r;
}

int
node_cfg_load(const char *path, int64_t now, struct node_cfg **out,
    char *errbuf, size_t errlen)
{
	return cfg_load(path, now, false, 1, out, errbuf, errlen);
}

int
node_cfg_load_v(const char *path, int64_t now, uint64_t fw_version,
    bool lighthouse, struct node_cfg **out, char *errbuf, size_t errlen)
{
	return cfg_load(path, now, lighthouse, fw_version, out, errbuf,
	    errlen);
}

int
node_cfg_load_lighthouse(const char *path, int64_t now,
    struct node_cfg **out, char *errbuf, size_t errlen)
{
	return cfg_load(path, now, true, 1, out, errbuf, errlen);
}

void
node_cfg_free(struct node_cfg *c)
{
	if (c == NULL)
		return;
	config_free(c->raw);
	ca_pool_free(c->ca);
	cert_free(c->cert);
	crypto_cleanse(c->key, sizeof(c->key));
	free(c->cert_nokey);
	free(c->statics);
	free(c->routes);
	free(c->unsafe);
	free(c->exit_routes);
	free(c->advertise);
	allowlist_free(c->remote_allow);
	allowlist_free(c->local_allow);
	allowranges_free(c->remote_ranges);
	sshd_cfg_clear(&c->sshd);
	free(c->preferred);
	fw_free(c->fw);
	free(c);
}

const struct static_host *
node_cfg_static(const struct node_cfg *c, uint32_t vpn_ip)
{
	size_t i;

	for (i = 0; i < c->nstatics; i++)
		if (c->statics[i].vpn_ip == vpn_ip)
			return &c->statics[i];
	return NULL;
}
