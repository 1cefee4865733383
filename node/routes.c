/*
 * node/routes.c: unsafe routes and the kernel's routes (routes.h).
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ipaddr.h"
#include "log.h"
#include "node.h"
#include "routes.h"
#include "tun.h"

struct entry {
	uint32_t addr, mask, via;
};

/* A route the kernel holds through our device. */
struct kroute {
	uint32_t addr, mask;
	int mtu, metric;
	uint32_t table; /* 0: main */
};

struct routes {
	struct entry *t; /* longest prefix first */
	size_t n;
	struct tun *tun; /* NULL: no kernel routes to keep */
	struct kroute *k;
	size_t nk;
	uint32_t vpn_ip, vpn_mask;
	int tun_mtu, dev_mtu;
	int txqlen; /* the device's, tun.tx_queue */
};

static int
by_prefix(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	/* longer masks (numerically larger) first */
	if (x->mask != y->mask)
		return x->mask > y->mask ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The lookup table of cfg (unsafe routes, then the exit's), sorted;
 * NULL with *n 0 when empty. */
static int
table(const struct node_cfg *c, struct entry **out, size_t *n)
{
	size_t i, k = c->nunsafe + c->nexit_routes;
	struct entry *t = NULL;

	*out = NULL;
	*n = 0;
	if (k == 0)
		return 0;
	if ((t = calloc(k, sizeof(*t))) == NULL)
		return VPN_ERR_NOMEM;
	for (i = 0; i < c->nunsafe; i++) {
		t[i].addr = c->unsafe[i].addr;
		t[i].mask = c->unsafe[i].mask;
		t[i].via = c->unsafe[i].via;
	}
	for (i = 0; i < c->nexit_routes; i++) {
		t[c->nunsafe + i].addr = c->exit_routes[i].addr;
		t[c->nunsafe + i].mask = c->exit_routes[i].mask;
		t[c->nunsafe + i].via = c->exit_via;
	}
	qsort(t, k, sizeof(*t), by_prefix);
	*out = t;
	*n = k;
	return 0;
}

/* The kernel routes cfg asks for: tun.routes, then the unsafe routes to
 * install.  *dev: the device MTU they need. */
static int
wanted(const struct node_cfg *c, struct kroute **out, size_t *n, int *dev)
{
	struct kroute *k;
	size_t i;

	*out = NULL;
	*n = 0;
	*dev = c->tun_mtu;
	k = calloc(c->nroutes + c->nunsafe + c->nexit_routes + 1, sizeof(*k));
	if (k == NULL)
		return VPN_ERR_NOMEM;
	for (i = 0; i < c->nroutes; i++) {
		k[*n] = (struct kroute){c->routes[i].addr, c->routes[i].mask,
		    c->routes[i].mtu, 0, 0};
		if (k[*n].mtu > *dev)
			*dev = k[*n].mtu;
		(*n)++;
	}
	for (i = 0; i < c->nunsafe; i++) {
		if (!c->unsafe[i].install)
			continue;
		k[*n] = (struct kroute){c->unsafe[i].addr, c->unsafe[i].mask,
		    c->unsafe[i].mtu, c->unsafe[i].metric, 0};
		if (k[*n].mtu > *dev)
			*dev = k[*n].mtu;
		(*n)++;
	}
	/* the exit's, in its own table (exit.c adds the rules) */
	for (i = 0; i < c->nexit_routes; i++)
		k[(*n)++] = (struct kroute){c->exit_routes[i].addr,
		    c->exit_routes[i].mask, 0, 0, c->exit_table};
	*out = k;
	return 0;
}

static bool
same(const struct kroute *a, const struct kroute *b)
{
	return a->addr == b->addr && a->mask == b->mask && a->mtu == b->mtu &&
	       a->metric == b->metric && a->table == b->table;
}

static bool
listed(const struct kroute *k, size_t n, const struct kroute *x)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (same(&k[i], x))
			return true;
	return false;
}

static void
route_log(const char *what, const struct kroute *k, const char *err)
{
	char net[IP4NET_STRLEN], tab[32] = "";
	struct ip4net in = {k->addr, k->mask};

	ip4net_format(&in, net);
	if (k->table != 0)
		snprintf(tab, sizeof(tab), " table %u", k->table);
	if (err != NULL)
		log_warnx("%s route %s mtu %d metric %d%s: %s", what, net,
		    k->mtu, k->metric, tab, err);
	else
		log_info("%s route %s mtu %d metric %d%s", what, net, k->mtu,
		    k->metric, tab);
}

/*
 * The device MTU: the largest any route needs.  When it is above
 * tun.mtu, the overlay's own route is pinned to tun.mtu (the kernel made
 * it without an MTU when the address was set).
 */
static int
set_dev_mtu(struct routes *r, int dev)
{
	char err[256];

	if (dev == r->dev_mtu)
		return 0;
	if (tun_set_mtu(r->tun, dev, err, sizeof(err)) != 0) {
		log_warnx("tun: %s", err);
		return VPN_ERR_SYS;
	}
	r->dev_mtu = dev;
	if (tun_set_net_mtu(r->tun, r->vpn_ip, r->vpn_mask,
	        dev > r->tun_mtu ? r->tun_mtu : 0, err, sizeof(err)) != 0) {
		log_warnx("tun: overlay route: %s", err);
		return VPN_ERR_SYS;
	}
	return 0;
}

/* Make the kernel's routes those of `want` (n of them): remove what is
 * no longer wanted, add what is new.  0, or VPN_ERR_SYS when the kernel
 * refused one (logged; the list keeps what is really there). */
static int
converge(struct routes *r, struct kroute *want, size_t n, int dev, bool say)
{
	struct kroute *keep;
	char err[256];
	size_t i, nk = 0;
	int rc = 0;

	if ((keep = calloc(r->nk + n + 1, sizeof(*keep))) == NULL)
		return VPN_ERR_NOMEM;
	if (dev > r->dev_mtu && set_dev_mtu(r, dev) != 0)
		rc = VPN_ERR_SYS;
	for (i = 0; i < r->nk; i++) {
		if (listed(want, n, &r->k[i])) {
			keep[nk++] = r->k[i];
			continue;
		}
		if (tun_route_table(r->tun, false, r->k[i].table, r->k[i].addr,
		        r->k[i].mask, 0, r->k[i].metric, err, sizeof(err)) != 0) {
			route_log("could not remove", &r->k[i], err);
			keep[nk++] = r->k[i];
			rc = VPN_ERR_SYS;
		} else {
			route_log("removed", &r->k[i], NULL);
		}
	}
	for (i = 0; i < n; i++) {
		if (listed(r->k, r->nk, &want[i]))
			continue;
		if (tun_route_table(r->tun, true, want[i].table, want[i].addr,
		        want[i].mask, want[i].mtu, want[i].metric, err,
		        sizeof(err)) != 0) {
			if (say)
				route_log("could not add", &want[i], err);
			else /* at start: the node does not start */
				log_msg(LOG_LVL_FATAL, "tun.routes: %s", err);
			rc = VPN_ERR_SYS;
			continue;
		}
		if (say)
			route_log("added", &want[i], NULL);
		keep[nk++] = want[i];
	}
	if (dev < r->dev_mtu && set_dev_mtu(r, dev) != 0)
		rc = VPN_ERR_SYS;
	free(r->k);
	r->k = keep;
	r->nk = nk;
	return rc;
}

int
routes_new(const struct node_cfg *cfg, struct tun *tun, struct routes **out)
{
	struct routes *r = calloc(1, sizeof(*r));
	struct kroute *want;
	size_t n;
	int dev, rc;

	*out = r;
	if (r == NULL || table(cfg, &r->t, &r->n) != 0)
		return VPN_ERR_NOMEM;
	if ((r->tun = tun) == NULL)
		return 0;
	r->vpn_ip = cfg->vpn_ip;
	r->vpn_mask = cfg->vpn_mask;
	r->tun_mtu = r->dev_mtu = cfg->tun_mtu;
	r->txqlen = cfg->tx_queue;
	if (wanted(cfg, &want, &n, &dev) != 0)
		return VPN_ERR_NOMEM;
	rc = converge(r, want, n, dev, false);
	free(want);
	return rc;
}

void
routes_free(struct routes *r)
{
	if (r == NULL)
		return;
	free(r->t);
	free(r->k);
	free(r);
}

uint32_t
routes_via(const struct routes *r, uint32_t dst)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if ((dst & r->t[i].mask) == r->t[i].addr)
			return r->t[i].via;
	return 0;
}

void
routes_apply(struct routes *r, const struct node_cfg *cfg)
{
	struct entry *t;
	struct kroute *want;
	char err[256];
	size_t n;
	int dev;

	if (table(cfg, &t, &n) != 0) {
		log_warnx("tun.unsafe_routes: out of memory, keeping the "
		          "running routes");
		return;
	}
	free(r->t);
	r->t = t;
	r->n = n;
	if (r->tun != NULL && cfg->tx_queue != r->txqlen) {
		if (tun_set_txqlen(r->tun, cfg->tx_queue, err, sizeof(err)))
			log_warnx("tun.tx_queue: %s", err);
		else
			r->txqlen = cfg->tx_queue;
	}
	if (r->tun == NULL || wanted(cfg, &want, &n, &dev) != 0)
		return;
	converge(r, want, n, dev, true);
	free(want);
}

size_t
routes_count(const struct routes *r)
{
	return r->n;
}
