/*
 * node/ctlcmd.c: the commands of the control socket and of the sshd
 * debug console (ctl.h): ours (show, tunnels, peer, ...), with a human
 * form and -json, and Nebula 1.6.1's debug-console commands
 * (list-hostmap, print-cert, ...) with its output, so that what
 * operators script against Nebula's console works here.
 *
 * Each command reads the node's tables and writes its whole answer into
 * an sbuf; none blocks or waits for the network (query-lighthouse asks
 * and shows what is known now, as Nebula's does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "certfmt.h"
#include "counters.h"
#include "ctl.h"
#include "err.h"
#include "handshake.h"
#include "hostmap.h"
#include "lhclient.h"
#include "lhreg.h"
#include "lhserver.h"
#include "log.h"
#include "nodeint.h"
#include "notify.h"
#include "relay.h"
#include "remotes.h"
#include "tunnel.h"
#include "worker.h"

#define NS 1000000000LL

/* What a command was given: its flags, then the rest. */
struct cx {
	struct node *n;
	struct sbuf *out;
	int argc; /* positional arguments */
	char **argv;
	bool json, pretty, raw, local_only, by_index;
	bool done; /* -h: answered already */
	const char *address; /* -address */
};

enum {
	F_JSON = 1 << 0,
	F_PRETTY = 1 << 1,
	F_RAW = 1 << 2,
	F_LOCAL_ONLY = 1 << 3,
	F_ADDRESS = 1 << 4,
	F_BY_INDEX = 1 << 5,
};

struct cmd {
	const char *name;
	unsigned flags;
	const char *args; /* the positional arguments, for help */
	const char *help;
	enum ctl_status (*fn)(struct cx *x);
};

/* --- JSON ------------------------------------------------------------ */

/* Compact JSON is written as it goes, a comma before every member but
 * the first of its object or array: the caller says which it is. */
static void
jkey(struct sbuf *b, bool *first, const char *key)
{
	if (!*first)
		sbuf_puts(b, ",");
	*first = false;
	if (key != NULL) {
		sbuf_json_str(b, key, strlen(key));
		sbuf_puts(b, ":");
	}
}

static void
jstr(struct sbuf *b, bool *first, const char *key, const char *v)
{
	jkey(b, first, key);
	if (v == NULL)
		sbuf_puts(b, "null");
	else
		sbuf_json_str(b, v, strlen(v));
}

static void
ju64(struct sbuf *b, bool *first, const char *key, uint64_t v)
{
	jkey(b, first, key);
	sbuf_printf(b, "%llu", (unsigned long long)v);
}

static void
ji64(struct sbuf *b, bool *first, const char *key, int64_t v)
{
	jkey(b, first, key);
	sbuf_printf(b, "%lld", (long long)v);
}

static void
jbool(struct sbuf *b, bool *first, const char *key, bool v)
{
	jkey(b, first, key);
	sbuf_puts(b, v ? "true" : "false");
}

static void
jip(struct sbuf *b, bool *first, const char *key, uint32_t ip)
{
	char s[IP4_STRLEN];

	ip4_format(ip, s);
	jstr(b, first, key, s);
}

/* The IP part of an address, as Go prints a net.IP. */
static void
addr_ip(const struct udp_addr *a, char *s, size_t len)
{
	char full[UDP_ADDR_STRLEN];
	char *colon;

	if (udp_addr_is_v4(a)) {
		ip4_format(udp_addr_v4(a), s);
		return;
	}
	udp_addr_format(a, full); /* "[v6]:port" */
	colon = strrchr(full, ']');
	if (colon != NULL)
		*colon = '\0';
	snprintf(s, len, "%s", full[0] == '[' ? full + 1 : full);
}

/* Nebula's udp.Addr in JSON: {"ip":"1.2.3.4","port":4242}. */
static void
jaddr(struct sbuf *b, bool *first, const char *key, const struct udp_addr *a)
{
	char ip[UDP_ADDR_STRLEN];
	bool f = true;

	jkey(b, first, key);
	if (a == NULL) {
		sbuf_puts(b, "null");
		return;
	}
	addr_ip(a, ip, sizeof(ip));
	sbuf_puts(b, "{");
	jstr(b, &f, "ip", ip);
	ju64(b, &f, "port", a->port);
	sbuf_puts(b, "}");
}

static void
jaddrs(struct sbuf *b, bool *first, const char *key,
    const struct udp_addr *a, size_t n)
{
	bool f = true;
	size_t i;

	jkey(b, first, key);
	sbuf_puts(b, "[");
	for (i = 0; i < n; i++)
		jaddr(b, &f, NULL, &a[i]);
	sbuf_puts(b, "]");
}

static void
jips(struct sbuf *b, bool *first, const char *key, const uint32_t *ip,
    size_t n, bool null_if_none)
{
	bool f = true;
	size_t i;

	jkey(b, first, key);
	if (n == 0 && null_if_none) {
		sbuf_puts(b, "null");
		return;
	}
	sbuf_puts(b, "[");
	for (i = 0; i < n; i++)
		jip(b, &f, NULL, ip[i]);
	sbuf_puts(b, "]");
}

/* Go's json.Indent with a four-space indent, of compact JSON at s:
 * what Nebula's -pretty prints. */
static void
json_indent(struct sbuf *out, const char *s, size_t len)
{
	bool str = false, esc = false;
	int depth = 0, d;
	size_t i;

	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (str) {
			sbuf_add(out, &ch, 1);
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				str = false;
			continue;
		}
		switch (ch) {
		case '"':
			str = true;
			sbuf_add(out, &ch, 1);
			break;
		case '{':
		case '[':
			sbuf_add(out, &ch, 1);
			if (i + 1 < len && (s[i + 1] == '}' || s[i + 1] == ']')) {
				sbuf_add(out, &s[++i], 1); /* {} and [] stay */
				break;
			}
			depth++;
			sbuf_puts(out, "\n");
			for (d = 0; d < depth; d++)
				sbuf_puts(out, "    ");
			break;
		case '}':
		case ']':
			depth--;
			sbuf_puts(out, "\n");
			for (d = 0; d < depth; d++)
				sbuf_puts(out, "    ");
			sbuf_add(out, &ch, 1);
			break;
		case ',':
			sbuf_puts(out, ",\n");
			for (d = 0; d < depth; d++)
				sbuf_puts(out, "    ");
			break;
		case ':':
			sbuf_puts(out, ": ");
			break;
		default:
			sbuf_add(out, &ch, 1);
		}
	}
}

/* The JSON built in j goes out, indented with -pretty, and a newline
 * (as Go's json.Encoder ends every value). */
static void
emit_json(struct cx *x, struct sbuf *j)
{
	if (!sbuf_ok(j)) {
		x->out->bad = true;
	} else if (x->pretty) {
		json_indent(x->out, j->s != NULL ? j->s : "", j->len);
	} else if (j->len > 0) {
		sbuf_add(x->out, j->s, j->len);
	}
	sbuf_puts(x->out, "\n");
	sbuf_free(j);
}

/* Text built in t goes out as it is. */
static void
emit_text(struct cx *x, struct sbuf *t)
{
	if (t->len > 0)
		sbuf_add(x->out, t->s, t->len);
	if (!sbuf_ok(t))
		x->out->bad = true;
	sbuf_free(t);
}

/* --- helpers ----------------------------------------------------------- */

static enum ctl_status __attribute__((format(printf, 3, 4)))
say(struct cx *x, enum ctl_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sbuf_vprintf(x->out, fmt, ap);
	va_end(ap);
	sbuf_puts(x->out, "\n");
	return st;
}

/* Nebula's texts for a missing or bad VPN IP argument. */
static enum ctl_status
arg_ip(struct cx *x, uint32_t *ip)
{
	if (x->argc < 1)
		return say(x, CTL_USAGE, "No vpn ip was provided");
	if (!ip4_parse(x->argv[0], ip) || *ip == 0)
		return say(x, CTL_USAGE,
		    "The provided vpn ip could not be parsed: %s", x->argv[0]);
	return CTL_OK;
}

static struct tunnel *
arg_tunnel(struct cx *x, enum ctl_status *st)
{
	struct tunnel *t;
	uint32_t ip;

	if ((*st = arg_ip(x, &ip)) != CTL_OK)
		return NULL;
	if ((t = hostmap_by_ip(x->n->hm, ip)) == NULL)
		*st = say(x, CTL_FAIL, "Could not find tunnel for vpn ip: %s",
		    x->argv[0]);
	return t;
}

static void
fmt_dur(struct sbuf *b, int64_t ns)
{
	int64_t s = ns / NS;

	if (s < 0)
		s = 0;
	if (s >= 86400)
		sbuf_printf(b, "%lldd%lldh", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		sbuf_printf(b, "%lldh%lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else if (s >= 60)
		sbuf_printf(b, "%lldm%llds", (long long)(s / 60),
		    (long long)(s % 60));
	else
		sbuf_printf(b, "%llds", (long long)s);
}

static void
fmt_bytes(struct sbuf *b, uint64_t v)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double d = (double)v;
	size_t u = 0;

	while (d >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		sbuf_printf(b, "%llu B", (unsigned long long)v);
	else
		sbuf_printf(b, "%.1f %s", d, unit[u]);
}

/* Unix seconds as RFC 3339, UTC. */
static void
fmt_time(char *s, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(s, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(s, len, "%lld", (long long)t);
}

/* Where t's peer is: its address, or relay:IP (relay_where). */
static void
where(const struct tunnel *t, char a[UDP_ADDR_STRLEN])
{
	if (t->relayed)
		relay_where(t->relays[0], a);
	else
		udp_addr_format(&t->remote, a);
}

/* A peer's candidate addresses, as Nebula's RemoteAddrs: what the
 * static map and the lighthouses gave, and where its tunnel is. */
static size_t
candidates(struct node *n, uint32_t vpn_ip, const struct tunnel *t,
    struct udp_addr *out)
{
	size_t i, na = remotes_addrs(n->rem, n->cfg, vpn_ip, out, REMOTES_MAX);

	if (t != NULL && !t->relayed) {
		for (i = 0; i < na && !udp_addr_eq(&out[i], &t->remote); i++)
			;
		if (i == na)
			out[na++] = t->remote;
	}
	return na;
}

/* A pending handshake's candidates: the peer's, and the address an
 * operator gave (create-tunnel -address). */
static size_t
pending_candidates(struct node *n, const struct hs_pending_info *p,
    struct udp_addr *out)
{
	size_t i, na = candidates(n, p->vpn_ip, NULL, out);

	if (p->has_hint) {
		for (i = 0; i < na && !udp_addr_eq(&out[i], &p->hint); i++)
			;
		if (i == na)
			out[na++] = p->hint;
	}
	return na;
}

static int
cmp_tunnel(const void *a, const void *b)
{
	const struct tunnel *x = *(struct tunnel *const *)a;
	const struct tunnel *y = *(struct tunnel *const *)b;

	return x->vpn_ip < y->vpn_ip ? -1 : x->vpn_ip > y->vpn_ip;
}

static int
cmp_tunnel_index(const void *a, const void *b)
{
	const struct tunnel *x = *(struct tunnel *const *)a;
	const struct tunnel *y = *(struct tunnel *const *)b;

	return x->local_index < y->local_index ? -1
	                                       : x->local_index > y->local_index;
}

/* The tunnels, sorted (NULL and *count 0 when there are none or no
 * memory: *ok says which). */
static struct tunnel **
tunnels_sorted(struct node *n, size_t *count, bool by_index, bool *ok)
{
	size_t it = 0, i = 0, cnt = hostmap_tunnels(n->hm);
	struct tunnel **v, *t;

	*count = 0;
	*ok = true;
	if (cnt == 0)
		return NULL;
	if ((v = calloc(cnt, sizeof(*v))) == NULL) {
		*ok = false;
		return NULL;
	}
	while (i < cnt && hostmap_next(n->hm, &it, &t))
		v[i++] = t;
	qsort(v, i, sizeof(*v), by_index ? cmp_tunnel_index : cmp_tunnel);
	*count = i;
	return v;
}

static const char *
cipher_name(const struct node_cfg *c)
{
	return c->cipher == CRYPTO_CHACHAPOLY ? "chachapoly" : "aes";
}

/* --- Nebula's ControlHostInfo --------------------------------------- */

static void
host_info(struct sbuf *b, bool *first, struct node *n, const struct tunnel *t)
{
	struct udp_addr addrs[REMOTES_MAX + 1];
	uint32_t through[64];
	size_t na = candidates(n, t->vpn_ip, t, addrs), nt, nr;
	bool f = true;

	for (nr = 0; nr < TUNNEL_RELAYS && t->relays[nr] != 0; nr++)
		;
	nt = relay_through(n->relays, t->vpn_ip, through, 64);
	jkey(b, first, NULL);
	sbuf_puts(b, "{");
	jip(b, &f, "vpnIp", t->vpn_ip);
	ju64(b, &f, "localIndex", t->local_index);
	ju64(b, &f, "remoteIndex", t->remote_index);
	jaddrs(b, &f, "remoteAddrs", addrs, na);
	ju64(b, &f, "cachedPackets", 0);
	jkey(b, &f, "cert");
	if (certfmt_json(b, t->peer) != 0)
		b->bad = true;
	ju64(b, &f, "messageCounter", t->tx_counter);
	jaddr(b, &f, "currentRemote", t->relayed ? NULL : &t->remote);
	jips(b, &f, "currentRelaysToMe", t->relays, t->relayed ? nr : 0, false);
	jips(b, &f, "currentRelaysThroughMe", through, nt, false);
	sbuf_puts(b, "}");
}

static void
pending_host_info(struct sbuf *b, bool *first, struct node *n,
    const struct hs_pending_info *p)
{
	struct udp_addr addrs[REMOTES_MAX + 1];
	size_t na = pending_candidates(n, p, addrs);
	bool f = true;

	jkey(b, first, NULL);
	sbuf_puts(b, "{");
	jip(b, &f, "vpnIp", p->vpn_ip);
	ju64(b, &f, "localIndex", p->local_index);
	ju64(b, &f, "remoteIndex", 0);
	jaddrs(b, &f, "remoteAddrs", addrs, na);
	ju64(b, &f, "cachedPackets", p->queued);
	jstr(b, &f, "cert", NULL);
	ju64(b, &f, "messageCounter", 0);
	jaddr(b, &f, "currentRemote", NULL);
	jips(b, &f, "currentRelaysToMe", NULL, 0, false);
	jips(b, &f, "currentRelaysThroughMe", NULL, 0, false);
	sbuf_puts(b, "}");
}

/* "[1.2.3.4:4242 5.6.7.8:4242]": Go's %s of RemoteAddrs. */
static void
addrs_text(struct sbuf *b, const struct udp_addr *a, size_t n)
{
	char s[UDP_ADDR_STRLEN];
	size_t i;

	sbuf_puts(b, "[");
	for (i = 0; i < n; i++) {
		udp_addr_format(&a[i], s);
		sbuf_printf(b, "%s%s", i > 0 ? " " : "", s);
	}
	sbuf_puts(b, "]");
}

/* --- commands: Nebula's ----------------------------------------------- */

static enum ctl_status
c_list_hostmap(struct cx *x)
{
	struct udp_addr addrs[REMOTES_MAX + 1];
	struct tunnel **v;
	struct sbuf j;
	char ip[IP4_STRLEN];
	size_t cnt, i;
	bool ok, first = true;

	v = tunnels_sorted(x->n, &cnt, x->by_index, &ok);
	if (!ok)
		return say(x, CTL_FAIL, "out of memory");
	if (x->json || x->pretty) {
		sbuf_init(&j);
		sbuf_puts(&j, "[");
		for (i = 0; i < cnt; i++)
			host_info(&j, &first, x->n, v[i]);
		sbuf_puts(&j, "]");
		emit_json(x, &j);
	} else {
		for (i = 0; i < cnt; i++) {
			ip4_format(v[i]->vpn_ip, ip);
			sbuf_printf(x->out, "%s: ", ip);
			addrs_text(x->out, addrs,
			    candidates(x->n, v[i]->vpn_ip, v[i], addrs));
			sbuf_puts(x->out, "\n");
		}
	}
	free(v);
	return CTL_OK;
}

/* The pending handshakes' information, sorted by VPN IP. */
static int
cmp_pending(const void *a, const void *b)
{
	const struct hs_pending_info *x = a, *y = b;

	return x->vpn_ip < y->vpn_ip ? -1 : x->vpn_ip > y->vpn_ip;
}

static struct hs_pending_info *
pendings(struct node *n, size_t *count, bool *ok)
{
	size_t it = 0, i = 0, cnt = hostmap_pending(n->hm);
	struct hs_pending_info *v;
	struct pending *p;

	*count = 0;
	*ok = true;
	if (cnt == 0)
		return NULL;
	if ((v = calloc(cnt, sizeof(*v))) == NULL) {
		*ok = false;
		return NULL;
	}
	while (i < cnt && hostmap_pending_next(n->hm, &it, &p))
		hs_pending_info(p, &v[i++]);
	qsort(v, i, sizeof(*v), cmp_pending);
	*count = i;
	return v;
}

static enum ctl_status
c_list_pending(struct cx *x)
{
	struct udp_addr addrs[REMOTES_MAX + 1];
	struct hs_pending_info *v;
	struct sbuf j;
	char ip[IP4_STRLEN];
	size_t cnt, i;
	bool ok, first = true;

	if ((v = pendings(x->n, &cnt, &ok)) == NULL && !ok)
		return say(x, CTL_FAIL, "out of memory");
	if (x->json || x->pretty) {
		sbuf_init(&j);
		sbuf_puts(&j, "[");
		for (i = 0; i < cnt; i++)
			pending_host_info(&j, &first, x->n, &v[i]);
		sbuf_puts(&j, "]");
		emit_json(x, &j);
	} else {
		for (i = 0; i < cnt; i++) {
			ip4_format(v[i].vpn_ip, ip);
			sbuf_printf(x->out, "%s: ", ip);
			addrs_text(x->out, addrs,
			    pending_candidates(x->n, &v[i], addrs));
			sbuf_puts(x->out, "\n");
		}
	}
	free(v);
	return CTL_OK;
}

/* Nebula's Cache: {"learned":[...],"reported":[...],"relay":[...]},
 * the first two left out when empty, relay null when empty. */
static void
cache_json(struct sbuf *b, const struct udp_addr *learned, size_t nl,
    const struct udp_addr *reported, size_t nr, const uint32_t *relays,
    size_t nrel)
{
	bool f = true;

	sbuf_puts(b, "{");
	if (nl > 0)
		jaddrs(b, &f, "learned", learned, nl);
	if (nr > 0)
		jaddrs(b, &f, "reported", reported, nr);
	jips(b, &f, "relay", relays, nrel, true);
	sbuf_puts(b, "}");
}

static void
addr_from4(struct udp_addr *a, const struct lh_addr4 *v)
{
	udp_addr_from_v4(a, v->ip, v->port);
}

static void
addr_from6(struct udp_addr *a, const struct lh_addr6 *v)
{
	memcpy(a->ip, v->ip, 16);
	a->port = v->port;
}

/* The lighthouse's registry entry of h as a CacheMap (keyed by the
 * host itself, whose report it is). */
static void
reg_cachemap(struct sbuf *b, const struct lhreg_host *h)
{
	struct udp_addr l[2], r[2 * LHREG_MAX_ADDRS];
	char ip[IP4_STRLEN];
	size_t nl = 0, nr = 0, i;

	if (h->has_l4)
		addr_from4(&l[nl++], &h->l4);
	if (h->has_l6)
		addr_from6(&l[nl++], &h->l6);
	for (i = 0; i < h->n4; i++)
		addr_from4(&r[nr++], &h->v4[i]);
	for (i = 0; i < h->n6; i++)
		addr_from6(&r[nr++], &h->v6[i]);
	ip4_format(h->vpn_ip, ip);
	sbuf_puts(b, "{");
	sbuf_json_str(b, ip, strlen(ip));
	sbuf_puts(b, ":");
	cache_json(b, l, nl, r, nr, h->relays, h->nrelays);
	sbuf_puts(b, "}");
}

/* A node's cache about vpn_ip: each lighthouse's answer, keyed by the
 * lighthouse; false when there is none. */
static bool
node_cachemap(struct sbuf *b, struct node *n, uint32_t vpn_ip)
{
	struct udp_addr a[RC_MAX];
	uint32_t rel[RELAYS_MAX], lh;
	char ip[IP4_STRLEN];
	size_t i, na, nrel;
	bool any = false;

	for (i = 0; i < LH_MAX_HOSTS; i++) {
		if (!remotes_answer(n->rem, vpn_ip, i, &lh, a, &na, rel, &nrel))
			continue;
		sbuf_puts(b, any ? "," : "{");
		any = true;
		ip4_format(lh, ip);
		sbuf_json_str(b, ip, strlen(ip));
		sbuf_puts(b, ":");
		cache_json(b, NULL, 0, a, na, rel, nrel);
	}
	if (any)
		sbuf_puts(b, "}");
	return any;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The hosts the address map knows: a lighthouse's registry, or a
 * node's cache of answers; sorted. */
static uint32_t *
addrmap_hosts(struct node *n, size_t *count, bool *ok)
{
	const struct lhreg *reg = n->lhs != NULL ? lhserver_reg(n->lhs) : NULL;
	size_t cnt = reg != NULL ? lhreg_count(reg) : remotes_count(n->rem);
	size_t i = 0, it = 0;
	uint32_t *v, ip;

	*count = 0;
	*ok = true;
	if (cnt == 0)
		return NULL;
	if ((v = calloc(cnt, sizeof(*v))) == NULL) {
		*ok = false;
		return NULL;
	}
	if (reg != NULL)
		for (; i < cnt; i++)
			v[i] = lhreg_host_at(reg, i);
	else
		while (i < cnt && remotes_next(n->rem, &it, &ip))
			v[i++] = ip;
	qsort(v, i, sizeof(*v), cmp_u32);
	*count = i;
	return v;
}

/* One host's CacheMap JSON into b: false when nothing is known. */
static bool
cachemap(struct sbuf *b, struct node *n, uint32_t ip)
{
	struct lhreg_host h;

	if (n->lhs != NULL) {
		if (lhreg_host(lhserver_reg(n->lhs), ip, &h) != 0)
			return false;
		reg_cachemap(b, &h);
		return true;
	}
	return node_cachemap(b, n, ip);
}

static enum ctl_status
c_list_lh_addrmap(struct cx *x)
{
	struct sbuf j, one;
	char ip[IP4_STRLEN];
	uint32_t *v;
	size_t cnt, i;
	bool ok, first = true;

	if ((v = addrmap_hosts(x->n, &cnt, &ok)) == NULL && !ok)
		return say(x, CTL_FAIL, "out of memory");
	sbuf_init(&j);
	if (x->json || x->pretty)
		sbuf_puts(&j, "[");
	for (i = 0; i < cnt; i++) {
		ip4_format(v[i], ip);
		sbuf_init(&one);
		if (!cachemap(&one, x->n, v[i]))
			sbuf_puts(&one, "null");
		if (x->json || x->pretty) {
			bool f = true;

			jkey(&j, &first, NULL);
			sbuf_puts(&j, "{");
			jstr(&j, &f, "vpnIp", ip);
			jkey(&j, &f, "addrs");
			sbuf_add(&j, one.s, one.len);
			sbuf_puts(&j, "}");
		} else {
			sbuf_printf(&j, "%s: ", ip);
			sbuf_add(&j, one.s, one.len);
			sbuf_puts(&j, "\n");
		}
		if (!sbuf_ok(&one))
			j.bad = true;
		sbuf_free(&one);
	}
	free(v);
	if (x->json || x->pretty) {
		sbuf_puts(&j, "]");
		emit_json(x, &j);
	} else {
		emit_text(x, &j);
	}
	return CTL_OK;
}

static enum ctl_status
c_print_cert(struct cx *x)
{
	const struct cert *c = x->n->cfg->cert;
	enum ctl_status st;
	struct tunnel *t;
	struct sbuf j;
	char *pem;
	size_t len;

	if (x->argc > 0) {
		if ((t = arg_tunnel(x, &st)) == NULL)
			return st;
		c = t->peer;
	}
	if (x->raw) {
		if ((pem = cert_to_pem(c, &len)) == NULL)
			return say(x, CTL_FAIL, "out of memory");
		sbuf_add(x->out, pem, len);
		free(pem);
		return CTL_OK;
	}
	if (x->json || x->pretty) {
		sbuf_init(&j);
		if (certfmt_json(&j, c) != 0)
			j.bad = true;
		emit_json(x, &j);
		return CTL_OK;
	}
	if (certfmt_text(x->out, c) != 0)
		return say(x, CTL_FAIL, "the certificate could not be printed");
	sbuf_puts(x->out, "\n");
	return CTL_OK;
}

static enum ctl_status
c_print_tunnel(struct cx *x)
{
	enum ctl_status st;
	struct tunnel *t;
	struct sbuf j;
	bool first = true;

	if ((t = arg_tunnel(x, &st)) == NULL)
		return st;
	sbuf_init(&j);
	host_info(&j, &first, x->n, t);
	emit_json(x, &j);
	return CTL_OK;
}

static enum ctl_status
c_query_lighthouse(struct cx *x)
{
	enum ctl_status st;
	struct sbuf j;
	uint32_t ip;

	if ((st = arg_ip(x, &ip)) != CTL_OK)
		return st;
	if (x->n->lhc != NULL)
		lhclient_query(x->n, ip); /* the answer comes later */
	sbuf_init(&j);
	if (!cachemap(&j, x->n, ip))
		sbuf_puts(&j, "null");
	emit_json(x, &j);
	return CTL_OK;
}

static enum ctl_status
c_close_tunnel(struct cx *x)
{
	enum ctl_status st;
	struct tunnel *t;

	if ((t = arg_tunnel(x, &st)) == NULL)
		return st;
	if (x->local_only)
		tunnel_delete(x->n, t, "closed by an operator (local only)");
	else
		tunnel_close(x->n, t, "closed by an operator");
	return say(x, CTL_OK, "Closed");
}

static enum ctl_status
c_create_tunnel(struct cx *x)
{
	struct udp_addr a;
	enum ctl_status st;
	uint32_t ip;
	int r;

	if ((st = arg_ip(x, &ip)) != CTL_OK)
		return st;
	if (x->address != NULL && udp_addr_parse(x->address, &a) != 0)
		return say(x, CTL_USAGE, "Address could not be parsed");
	if (ip == x->n->cfg->vpn_ip)
		return say(x, CTL_FAIL, "That is this node's own vpn ip");
	r = hs_start_at(x->n, ip, x->address != NULL ? &a : NULL);
	if (r == VPN_ERR_INVAL)
		return say(x, CTL_FAIL, "Tunnel already exists");
	if (r == VPN_ERR_RANGE)
		return say(x, CTL_FAIL, "Tunnel already handshaking");
	if (r != 0)
		return say(x, CTL_FAIL, "No handshake started: at "
		                        "handshakes.max_pending or out of memory");
	return say(x, CTL_OK, "Created");
}

static enum ctl_status
c_change_remote(struct cx *x)
{
	struct udp_addr a;
	enum ctl_status st;
	struct tunnel *t;

	if (x->argc < 1)
		return say(x, CTL_USAGE, "No vpn ip was provided");
	if (x->address == NULL || *x->address == '\0')
		return say(x, CTL_USAGE, "No address was provided");
	if (udp_addr_parse(x->address, &a) != 0)
		return say(x, CTL_USAGE, "Address could not be parsed");
	if ((t = arg_tunnel(x, &st)) == NULL)
		return st;
	tunnel_set_remote(x->n, t, &a);
	return say(x, CTL_OK, "Changed");
}

static enum ctl_status
c_reload(struct cx *x)
{
	char msg[1200];
	int r;

	sbuf_puts(x->out, "Reloading config\n");
	notify_reloading();
	r = node_reload_report(x->n, msg, sizeof(msg));
	notify_ready(hostmap_tunnels(x->n->hm), hostmap_pending(x->n->hm));
	return say(x, r == 0 ? CTL_OK : CTL_FAIL, "%s", msg);
}

/* log-level LEVEL DURATION: the level goes back when the timer fires. */
static struct {
	struct event *ev;
	enum log_level to;
} revert;

static void
on_revert(evutil_socket_t fd, short what, void *arg)
{
	enum log_level lvl;
	enum log_format fmt;

	(void)fd;
	(void)what;
	(void)arg;
	log_current(&lvl, &fmt);
	log_set(revert.to, fmt);
	log_info("Log level is back to %s", log_level_name(revert.to));
}

/* "90s", "10m", "1h", "1h30m": Go's time.ParseDuration's common forms. */
static bool
parse_duration(const char *s, int64_t *ns)
{
	int64_t total = 0, v;
	char *end;

	if (*s == '\0')
		return false;
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return false;
		v = strtoll(s, &end, 10);
		if (v < 0 || v > 1000000)
			return false;
		switch (*end) {
		case 'h':
			total += v * 3600;
			break;
		case 'm':
			total += v * 60;
			break;
		case 's':
			total += v;
			break;
		default:
			return false;
		}
		s = end + 1;
	}
	if (total <= 0 || total > 7 * 86400)
		return false;
	*ns = total * NS;
	return true;
}

static enum ctl_status
c_log_level(struct cx *x)
{
	enum log_level cur, lvl;
	enum log_format fmt;
	struct timeval tv;
	int64_t ns = 0;

	log_current(&cur, &fmt);
	if (x->argc == 0)
		return say(x, CTL_OK, "Log level is: %s", log_level_name(cur));
	if (log_level_parse(x->argv[0], &lvl) != 0)
		return say(x, CTL_USAGE,
		    "Unknown log level %s. Possible log levels: [panic fatal "
		    "error warning info debug trace]",
		    x->argv[0]);
	if (x->argc > 1 && !parse_duration(x->argv[1], &ns))
		return say(x, CTL_USAGE,
		    "Unknown duration %s: use e.g. 90s, 10m, 1h (at most "
		    "a week)",
		    x->argv[1]);
	if (revert.ev != NULL && event_pending(revert.ev, EV_TIMEOUT, NULL)) {
		cur = revert.to; /* a level set for a while is not the base */
		event_del(revert.ev);
	}
	log_set(lvl, fmt);
	if (ns == 0)
		return say(x, CTL_OK, "Log level is: %s", log_level_name(lvl));
	if (revert.ev == NULL &&
	    (revert.ev = evtimer_new(x->n->base, on_revert, NULL)) == NULL) {
		log_set(cur, fmt);
		return say(x, CTL_FAIL, "out of memory");
	}
	revert.to = cur;
	tv.tv_sec = (time_t)(ns / NS);
	tv.tv_usec = 0;
	evtimer_add(revert.ev, &tv);
	sbuf_printf(x->out, "Log level is: %s for ", log_level_name(lvl));
	fmt_dur(x->out, ns);
	return say(x, CTL_OK, ", then %s", log_level_name(cur));
}

static const char *
format_type(enum log_format f)
{
	return f == LOG_FMT_JSON ? "*logrus.JSONFormatter"
	                         : "*logrus.TextFormatter";
}

static enum ctl_status
c_log_format(struct cx *x)
{
	enum log_level lvl;
	enum log_format fmt;

	log_current(&lvl, &fmt);
	if (x->argc > 0) {
		if (log_format_parse(x->argv[0], &fmt) != 0)
			return say(x, CTL_USAGE,
			    "unknown log format `%s`. possible formats: [text "
			    "json]",
			    x->argv[0]);
		log_set(lvl, fmt);
	}
	return say(x, CTL_OK, "Log format is: %s", format_type(fmt));
}

static enum ctl_status
c_version(struct cx *x)
{
	return say(x, CTL_OK, "%s", VPN_VERSION);
}

/* --- commands: ours --------------------------------------------------- */

static enum ctl_status
c_show(struct cx *x)
{
	struct node *n = x->n;
	const struct node_cfg *c = n->cfg;
	int64_t now = node_real_ns() / NS, up = node_mono_ns() - n->started_at;
	char ip[IP4_STRLEN], fp[CERT_FP_HEXLEN], exp[40];
	size_t i, relayed = 0, it = 0;
	struct tunnel *t;
	struct sbuf j;
	bool f = true;

	ip4_format(c->vpn_ip, ip);
	if (cert_fingerprint_hex(c->cert, fp) != 0)
		fp[0] = '\0';
	fmt_time(exp, sizeof(exp), c->cert->not_after);
	while (hostmap_next(n->hm, &it, &t))
		relayed += t->relayed;
	if (x->json || x->pretty) {
		sbuf_init(&j);
		sbuf_puts(&j, "{");
		jstr(&j, &f, "name", c->name);
		jstr(&j, &f, "vpnIp", ip);
		ji64(&j, &f, "vpnPrefix", ip4_mask_bits(c->vpn_mask));
		jkey(&j, &f, "groups");
		sbuf_puts(&j, "[");
		for (i = 0; i < c->cert->ngroups; i++) {
			bool g = i == 0;

			jstr(&j, &g, NULL, c->cert->groups[i].s);
		}
		sbuf_puts(&j, "]");
		jstr(&j, &f, "certFingerprint", fp);
		jstr(&j, &f, "certExpiry", exp);
		ji64(&j, &f, "certSecondsLeft", c->cert->not_after - now);
		ju64(&j, &f, "caCount", ca_pool_count(c->ca));
		jstr(&j, &f, "listenHost", c->listen_host);
		ju64(&j, &f, "listenPort", node_port(n));
		jstr(&j, &f, "tun",
		    n->wk->tun != NULL ? n->wk->tun->ops->name(n->wk->tun)
		                       : NULL);
		jstr(&j, &f, "cipher", cipher_name(c));
		jbool(&j, &f, "lighthouse", c->am_lighthouse);
		jbool(&j, &f, "relay", c->am_relay);
		jips(&j, &f, "lighthouses", c->lighthouses, c->nlighthouses,
		    false);
		ji64(&j, &f, "uptimeSeconds", up / NS);
		ju64(&j, &f, "tunnels", hostmap_tunnels(n->hm));
		ju64(&j, &f, "relayedTunnels", relayed);
		ju64(&j, &f, "pending", hostmap_pending(n->hm));
		if (n->lhs != NULL)
			ju64(&j, &f, "registeredHosts",
			    lhserver_registered(n->lhs));
		jstr(&j, &f, "version", VPN_VERSION);
		sbuf_puts(&j, "}");
		emit_json(x, &j);
		return CTL_OK;
	}
	sbuf_printf(x->out, "name:         %s\n", c->name);
	sbuf_printf(x->out, "overlay:      %s/%d\n", ip,
	    ip4_mask_bits(c->vpn_mask));
	sbuf_puts(x->out, "groups:       ");
	for (i = 0; i < c->cert->ngroups; i++)
		sbuf_printf(x->out, "%s%s", i > 0 ? ", " : "",
		    c->cert->groups[i].s);
	sbuf_printf(x->out, "\ncertificate:  %s\n", fp);
	sbuf_printf(x->out, "expires:      %s (in ", exp);
	fmt_dur(x->out, (c->cert->not_after - now) * NS);
	sbuf_printf(x->out, ")\nCAs:          %zu\n", ca_pool_count(c->ca));
	sbuf_printf(x->out, "listen:       %s:%u\n",
	    *c->listen_host != '\0' ? c->listen_host : "0.0.0.0",
	    (unsigned)node_port(n));
	sbuf_printf(x->out, "tun:          %s\n",
	    n->wk->tun != NULL ? n->wk->tun->ops->name(n->wk->tun)
	                       : "(disabled)");
	sbuf_printf(x->out, "cipher:       %s\n", cipher_name(c));
	sbuf_printf(x->out, "role:         %s%s\n",
	    c->am_lighthouse ? "lighthouse" : "node",
	    c->am_relay ? ", relay" : "");
	if (c->nlighthouses > 0) {
		sbuf_puts(x->out, "lighthouses:  ");
		for (i = 0; i < c->nlighthouses; i++) {
			ip4_format(c->lighthouses[i], ip);
			sbuf_printf(x->out, "%s%s", i > 0 ? ", " : "", ip);
		}
		sbuf_puts(x->out, "\n");
	}
	sbuf_printf(x->out, "tunnels:      %zu (%zu relayed), %zu handshaking\n",
	    hostmap_tunnels(n->hm), relayed, hostmap_pending(n->hm));
	if (n->lhs != NULL)
		sbuf_printf(x->out, "registered:   %zu hosts\n",
		    lhserver_registered(n->lhs));
	sbuf_puts(x->out, "uptime:       ");
	fmt_dur(x->out, up);
	sbuf_printf(x->out, "\nversion:      %s\n", VPN_VERSION);
	return CTL_OK;
}

/* One tunnel, all we know, as JSON (tunnels -json and peer -json). */
static void
tunnel_json(struct sbuf *b, bool *first, struct node *n, const struct tunnel *t,
    bool with_cert)
{
	struct udp_addr addrs[REMOTES_MAX + 1];
	int64_t mono = node_mono_ns(), now = node_real_ns() / NS;
	char a[UDP_ADDR_STRLEN], fp[CERT_FP_HEXLEN], exp[40];
	uint32_t through[64];
	size_t i, na = candidates(n, t->vpn_ip, t, addrs), nr, nt;
	bool f = true;

	for (nr = 0; nr < TUNNEL_RELAYS && t->relays[nr] != 0; nr++)
		;
	nt = relay_through(n->relays, t->vpn_ip, through, 64);
	if (cert_fingerprint_hex(t->peer, fp) != 0)
		fp[0] = '\0';
	fmt_time(exp, sizeof(exp), t->peer->not_after);
	where(t, a);
	jkey(b, first, NULL);
	sbuf_puts(b, "{");
	jip(b, &f, "vpnIp", t->vpn_ip);
	jstr(b, &f, "name", t->name);
	jkey(b, &f, "groups");
	sbuf_puts(b, "[");
	for (i = 0; i < t->peer->ngroups; i++) {
		bool g = i == 0;

		jstr(b, &g, NULL, t->peer->groups[i].s);
	}
	sbuf_puts(b, "]");
	jstr(b, &f, "endpoint", a);
	jbool(b, &f, "relayed", t->relayed);
	jips(b, &f, "relays", t->relays, nr, false);
	jips(b, &f, "relayingFor", through, nt, false);
	jaddrs(b, &f, "candidates", addrs, na);
	jstr(b, &f, "cipher", cipher_name(n->cfg));
	jbool(b, &f, "initiator", t->initiator);
	ju64(b, &f, "localIndex", t->local_index);
	ju64(b, &f, "remoteIndex", t->remote_index);
	ju64(b, &f, "rxPackets", t->rx_packets);
	ju64(b, &f, "rxBytes", t->rx_bytes);
	ju64(b, &f, "txPackets", t->tx_packets);
	ju64(b, &f, "txBytes", t->tx_bytes);
	ju64(b, &f, "rxDropped", t->rx_dropped);
	ju64(b, &f, "messageCounter", t->tx_counter);
	ji64(b, &f, "handshakeSecondsAgo", (mono - t->made_at) / NS);
	ji64(b, &f, "lastRxSecondsAgo", (mono - t->last_rx) / NS);
	jstr(b, &f, "certFingerprint", fp);
	jstr(b, &f, "certExpiry", exp);
	ji64(b, &f, "certSecondsLeft", t->peer->not_after - now);
	if (with_cert) {
		jkey(b, &f, "cert");
		if (certfmt_json(b, t->peer) != 0)
			b->bad = true;
	}
	sbuf_puts(b, "}");
}

static enum ctl_status
c_tunnels(struct cx *x)
{
	int64_t mono = node_mono_ns();
	char ip[IP4_STRLEN], a[UDP_ADDR_STRLEN];
	struct tunnel **v;
	struct sbuf j, cell;
	size_t cnt, i;
	bool ok, first = true;

	v = tunnels_sorted(x->n, &cnt, false, &ok);
	if (!ok)
		return say(x, CTL_FAIL, "out of memory");
	if (x->json || x->pretty) {
		sbuf_init(&j);
		sbuf_puts(&j, "[");
		for (i = 0; i < cnt; i++)
			tunnel_json(&j, &first, x->n, v[i], false);
		sbuf_puts(&j, "]");
		emit_json(x, &j);
		free(v);
		return CTL_OK;
	}
	sbuf_printf(x->out, "%-15s %-20s %-24s %10s %10s %9s %8s %6s\n",
	    "VPN-IP", "NAME", "ENDPOINT", "RX", "TX", "HANDSHAKE", "LAST-RX",
	    "DROPS");
	for (i = 0; i < cnt; i++) {
		ip4_format(v[i]->vpn_ip, ip);
		where(v[i], a);
		sbuf_printf(x->out, "%-15s %-20s %-24s ", ip, v[i]->name, a);
		sbuf_init(&cell);
		fmt_bytes(&cell, v[i]->rx_bytes);
		sbuf_printf(x->out, "%10s ", cell.s != NULL ? cell.s : "");
		sbuf_free(&cell);
		sbuf_init(&cell);
		fmt_bytes(&cell, v[i]->tx_bytes);
		sbuf_printf(x->out, "%10s ", cell.s != NULL ? cell.s : "");
		sbuf_free(&cell);
		sbuf_init(&cell);
		fmt_dur(&cell, mono - v[i]->made_at);
		sbuf_printf(x->out, "%9s ", cell.s != NULL ? cell.s : "");
		sbuf_free(&cell);
		sbuf_init(&cell);
		fmt_dur(&cell, mono - v[i]->last_rx);
		sbuf_printf(x->out, "%8s %6llu\n", cell.s != NULL ? cell.s : "",
		    (unsigned long long)v[i]->rx_dropped);
		sbuf_free(&cell);
	}
	free(v);
	return CTL_OK;
}

static enum ctl_status
c_peer(struct cx *x)
{
	struct udp_addr addrs[REMOTES_MAX + 1];
	int64_t mono = node_mono_ns();
	char ip[IP4_STRLEN], a[UDP_ADDR_STRLEN];
	enum ctl_status st;
	struct tunnel *t;
	struct sbuf j;
	size_t i, na;
	bool first = true;

	if ((t = arg_tunnel(x, &st)) == NULL)
		return st;
	if (x->json || x->pretty) {
		sbuf_init(&j);
		tunnel_json(&j, &first, x->n, t, true);
		emit_json(x, &j);
		return CTL_OK;
	}
	ip4_format(t->vpn_ip, ip);
	where(t, a);
	sbuf_printf(x->out, "peer:         %s (%s)\n", t->name, ip);
	sbuf_printf(x->out, "endpoint:     %s%s\n", a,
	    t->relayed ? " (relayed)" : "");
	na = candidates(x->n, t->vpn_ip, t, addrs);
	sbuf_puts(x->out, "candidates:   ");
	addrs_text(x->out, addrs, na);
	sbuf_puts(x->out, "\n");
	for (i = 0; i < TUNNEL_RELAYS && t->relays[i] != 0; i++) {
		ip4_format(t->relays[i], ip);
		sbuf_printf(x->out, "%s%s", i == 0 ? "relays:       " : ", ",
		    ip);
	}
	if (i > 0)
		sbuf_puts(x->out, "\n");
	sbuf_printf(x->out, "indexes:      local %u, remote %u (%s)\n",
	    t->local_index, t->remote_index,
	    t->initiator ? "we initiated" : "it initiated");
	sbuf_printf(x->out, "cipher:       %s\n", cipher_name(x->n->cfg));
	sbuf_printf(x->out, "received:     %llu packets, ",
	    (unsigned long long)t->rx_packets);
	fmt_bytes(x->out, t->rx_bytes);
	sbuf_printf(x->out, ", %llu refused\nsent:         %llu packets, ",
	    (unsigned long long)t->rx_dropped,
	    (unsigned long long)t->tx_packets);
	fmt_bytes(x->out, t->tx_bytes);
	sbuf_puts(x->out, "\nhandshake:    ");
	fmt_dur(x->out, mono - t->made_at);
	sbuf_puts(x->out, " ago\nlast packet:  ");
	fmt_dur(x->out, mono - t->last_rx);
	sbuf_puts(x->out, " ago\ncertificate:\n");
	if (certfmt_text(x->out, t->peer) != 0)
		return say(x, CTL_FAIL, "the certificate could not be printed");
	sbuf_puts(x->out, "\n");
	return CTL_OK;
}

static enum ctl_status
c_pending(struct cx *x)
{
	struct udp_addr addrs[REMOTES_MAX + 1];
	int64_t mono = node_mono_ns();
	struct hs_pending_info *v;
	char ip[IP4_STRLEN];
	struct sbuf j;
	size_t cnt, i, na;
	bool ok, first = true;

	if ((v = pendings(x->n, &cnt, &ok)) == NULL && !ok)
		return say(x, CTL_FAIL, "out of memory");
	if (x->json || x->pretty) {
		sbuf_init(&j);
		sbuf_puts(&j, "[");
		for (i = 0; i < cnt; i++) {
			bool f = true;

			na = pending_candidates(x->n, &v[i], addrs);
			jkey(&j, &first, NULL);
			sbuf_puts(&j, "{");
			jip(&j, &f, "vpnIp", v[i].vpn_ip);
			ju64(&j, &f, "localIndex", v[i].local_index);
			ji64(&j, &f, "attempts", v[i].attempts);
			ji64(&j, &f, "ageSeconds", (mono - v[i].started) / NS);
			ju64(&j, &f, "queuedPackets", v[i].queued);
			jaddrs(&j, &f, "candidates", addrs, na);
			sbuf_puts(&j, "}");
		}
		sbuf_puts(&j, "]");
		emit_json(x, &j);
		free(v);
		return CTL_OK;
	}
	sbuf_printf(x->out, "%-15s %10s %8s %6s %6s  %s\n", "VPN-IP", "INDEX",
	    "ATTEMPTS", "AGE", "QUEUED", "CANDIDATES");
	for (i = 0; i < cnt; i++) {
		struct sbuf age;

		ip4_format(v[i].vpn_ip, ip);
		sbuf_init(&age);
		fmt_dur(&age, mono - v[i].started);
		sbuf_printf(x->out, "%-15s %10u %8lld %6s %6zu  ", ip,
		    v[i].local_index, (long long)v[i].attempts,
		    age.s != NULL ? age.s : "", v[i].queued);
		sbuf_free(&age);
		addrs_text(x->out, addrs, pending_candidates(x->n, &v[i], addrs));
		sbuf_puts(x->out, "\n");
	}
	free(v);
	return CTL_OK;
}

/* A registry entry, one line. */
static void
host_text(struct sbuf *b, const struct lhreg_host *h, int64_t mono)
{
	struct udp_addr a;
	char ip[IP4_STRLEN], s[UDP_ADDR_STRLEN];
	size_t i;

	ip4_format(h->vpn_ip, ip);
	sbuf_printf(b, "%-15s learned=", ip);
	if (!h->has_l4 && !h->has_l6)
		sbuf_puts(b, "-");
	if (h->has_l4) {
		addr_from4(&a, &h->l4);
		udp_addr_format(&a, s);
		sbuf_puts(b, s);
	}
	if (h->has_l6) {
		addr_from6(&a, &h->l6);
		udp_addr_format(&a, s);
		sbuf_printf(b, "%s%s", h->has_l4 ? "," : "", s);
	}
	sbuf_puts(b, " reported=");
	if (h->n4 + h->n6 == 0)
		sbuf_puts(b, "-");
	for (i = 0; i < h->n4; i++) {
		addr_from4(&a, &h->v4[i]);
		udp_addr_format(&a, s);
		sbuf_printf(b, "%s%s", i > 0 ? "," : "", s);
	}
	for (i = 0; i < h->n6; i++) {
		addr_from6(&a, &h->v6[i]);
		udp_addr_format(&a, s);
		sbuf_printf(b, "%s%s", i + h->n4 > 0 ? "," : "", s);
	}
	if (h->nrelays > 0) {
		sbuf_puts(b, " relays=");
		for (i = 0; i < h->nrelays; i++) {
			ip4_format(h->relays[i], ip);
			sbuf_printf(b, "%s%s", i > 0 ? "," : "", ip);
		}
	}
	sbuf_puts(b, " seen=");
	fmt_dur(b, mono - h->seen);
	sbuf_puts(b, " ago\n");
}

static void
host_json(struct sbuf *b, bool *first, const struct lhreg_host *h,
    int64_t mono)
{
	struct udp_addr l[2], r[2 * LHREG_MAX_ADDRS];
	size_t nl = 0, nr = 0, i;
	bool f = true;

	if (h->has_l4)
		addr_from4(&l[nl++], &h->l4);
	if (h->has_l6)
		addr_from6(&l[nl++], &h->l6);
	for (i = 0; i < h->n4; i++)
		addr_from4(&r[nr++], &h->v4[i]);
	for (i = 0; i < h->n6; i++)
		addr_from6(&r[nr++], &h->v6[i]);
	jkey(b, first, NULL);
	sbuf_puts(b, "{");
	jip(b, &f, "vpnIp", h->vpn_ip);
	jaddrs(b, &f, "learned", l, nl);
	jaddrs(b, &f, "reported", r, nr);
	jips(b, &f, "relays", h->relays, h->nrelays, false);
	ji64(b, &f, "seenSecondsAgo", (mono - h->seen) / NS);
	sbuf_puts(b, "}");
}

static enum ctl_status
c_hosts(struct cx *x)
{
	int64_t mono = node_mono_ns();
	const struct lhreg *reg;
	struct lhreg_host h;
	struct sbuf j;
	uint32_t *v;
	size_t cnt, i;
	bool ok, first = true;

	if (x->n->lhs == NULL)
		return say(x, CTL_FAIL, "This node is not a lighthouse "
		                        "(lighthouse.am_lighthouse); see "
		                        "list-lighthouse-addrmap for its cache");
	reg = lhserver_reg(x->n->lhs);
	if ((v = addrmap_hosts(x->n, &cnt, &ok)) == NULL && !ok)
		return say(x, CTL_FAIL, "out of memory");
	sbuf_init(&j);
	if (x->json || x->pretty)
		sbuf_puts(&j, "[");
	for (i = 0; i < cnt; i++) {
		if (lhreg_host(reg, v[i], &h) != 0)
			continue;
		if (x->json || x->pretty)
			host_json(&j, &first, &h, mono);
		else
			host_text(&j, &h, mono);
	}
	free(v);
	if (x->json || x->pretty) {
		sbuf_puts(&j, "]");
		emit_json(x, &j);
		return CTL_OK;
	}
	emit_text(x, &j);
	return CTL_OK;
}

static enum ctl_status
c_lookup(struct cx *x)
{
	struct lhreg_host h;
	enum ctl_status st;
	struct sbuf j;
	uint32_t ip;
	bool first = true;

	if (x->n->lhs == NULL)
		return say(x, CTL_FAIL, "This node is not a lighthouse "
		                        "(lighthouse.am_lighthouse); see query");
	if ((st = arg_ip(x, &ip)) != CTL_OK)
		return st;
	if (lhreg_host(lhserver_reg(x->n->lhs), ip, &h) != 0)
		return say(x, CTL_FAIL, "%s is not registered", x->argv[0]);
	if (x->json || x->pretty) {
		sbuf_init(&j);
		host_json(&j, &first, &h, node_mono_ns());
		emit_json(x, &j);
	} else {
		host_text(x->out, &h, node_mono_ns());
	}
	return CTL_OK;
}

static enum ctl_status
c_query(struct cx *x)
{
	struct udp_addr a[RC_MAX];
	uint32_t rel[RELAYS_MAX], lh, ip;
	char s[UDP_ADDR_STRLEN], lhs[IP4_STRLEN];
	enum ctl_status st;
	size_t i, k, na, nrel;
	bool any = false;

	if (x->json || x->pretty || x->n->lhs != NULL)
		return c_query_lighthouse(x);
	if ((st = arg_ip(x, &ip)) != CTL_OK)
		return st;
	lhclient_query(x->n, ip);
	sbuf_printf(x->out, "Asked the lighthouses about %s; known now:\n",
	    x->argv[0]);
	for (i = 0; i < LH_MAX_HOSTS; i++) {
		if (!remotes_answer(x->n->rem, ip, i, &lh, a, &na, rel, &nrel))
			continue;
		any = true;
		ip4_format(lh, lhs);
		sbuf_printf(x->out, "  lighthouse %s:", lhs);
		for (k = 0; k < na; k++) {
			udp_addr_format(&a[k], s);
			sbuf_printf(x->out, " %s", s);
		}
		for (k = 0; k < nrel; k++) {
			ip4_format(rel[k], s);
			sbuf_printf(x->out, " relay:%s", s);
		}
		sbuf_puts(x->out, "\n");
	}
	if (!any)
		sbuf_puts(x->out, "  nothing yet: ask again in a moment\n");
	return CTL_OK;
}

static enum ctl_status
c_counters(struct cx *x)
{
	const struct counter_def *d;
	struct sbuf j;
	size_t cnt, i;
	bool f = true;

	d = node_counters(&cnt);
	if (x->json || x->pretty) {
		sbuf_init(&j);
		sbuf_puts(&j, "{");
		for (i = 0; i < cnt; i++)
			ju64(&j, &f, d[i].name, d[i].get(x->n));
		sbuf_puts(&j, "}");
		emit_json(x, &j);
		return CTL_OK;
	}
	for (i = 0; i < cnt; i++)
		sbuf_printf(x->out, "%-24s %llu\n", d[i].name,
		    (unsigned long long)d[i].get(x->n));
	return CTL_OK;
}

static enum ctl_status c_help(struct cx *x);

static const struct cmd cmds[] = {
    /* ours */
    {"show", F_JSON | F_PRETTY, "",
        "this node: name, overlay IP, certificate, listen address, "
        "cipher, uptime",
        c_show},
    {"tunnels", F_JSON | F_PRETTY, "",
        "the tunnels: peer, endpoint, bytes each way, handshake and last "
        "packet, drops",
        c_tunnels},
    {"peer", F_JSON | F_PRETTY, "VPN-IP",
        "one peer in detail, with its certificate", c_peer},
    {"pending", F_JSON | F_PRETTY, "", "the handshakes under way",
        c_pending},
    {"hosts", F_JSON | F_PRETTY, "",
        "a lighthouse's registry: each host and its addresses", c_hosts},
    {"lookup", F_JSON | F_PRETTY, "VPN-IP",
        "a lighthouse's registry entry for one host", c_lookup},
    {"query", F_JSON | F_PRETTY, "VPN-IP",
        "ask the lighthouses where a host is; show what is known now",
        c_query},
    {"close", F_LOCAL_ONLY, "VPN-IP",
        "close the tunnel to a peer (tell it, unless -local-only)",
        c_close_tunnel},
    {"handshake", F_ADDRESS, "VPN-IP",
        "start a handshake with a peer (also at -address IP:PORT)",
        c_create_tunnel},
    {"reload", 0, "", "read the configuration again, as SIGHUP does",
        c_reload},
    {"log-level", 0, "[LEVEL [DURATION]]",
        "show or set the log level; with a duration (90s, 10m, 1h) only "
        "for that long",
        c_log_level},
    {"counters", F_JSON | F_PRETTY, "", "every counter (cairn(8))",
        c_counters},
    {"help", F_JSON, "", "this list", c_help},
    /* Nebula 1.6.1's debug console */
    {"list-hostmap", F_JSON | F_PRETTY | F_BY_INDEX, "",
        "List all known previously connected hosts", c_list_hostmap},
    {"list-pending-hostmap", F_JSON | F_PRETTY | F_BY_INDEX, "",
        "List all handshaking hosts", c_list_pending},
    {"list-lighthouse-addrmap", F_JSON | F_PRETTY, "",
        "List all lighthouse map entries", c_list_lh_addrmap},
    {"print-cert", F_JSON | F_PRETTY | F_RAW, "[VPN-IP]",
        "Prints the current certificate being used or the certificate "
        "for the provided vpn ip",
        c_print_cert},
    {"print-tunnel", F_PRETTY, "VPN-IP",
        "Prints json details about a tunnel for the provided vpn ip",
        c_print_tunnel},
    {"query-lighthouse", 0, "VPN-IP",
        "Query the lighthouses for the provided vpn ip", c_query_lighthouse},
    {"log-format", 0, "[FORMAT]", "Gets or sets the current log format",
        c_log_format},
    {"close-tunnel", F_LOCAL_ONLY, "VPN-IP",
        "Closes a tunnel for the provided vpn ip", c_close_tunnel},
    {"create-tunnel", F_ADDRESS, "VPN-IP",
        "Creates a tunnel for the provided vpn ip and address",
        c_create_tunnel},
    {"change-remote", F_ADDRESS, "VPN-IP",
        "Changes the remote address used in the tunnel for the provided "
        "vpn ip",
        c_change_remote},
    {"version", 0, "", "Prints the currently running version of nebula",
        c_version},
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void
flags_text(struct sbuf *b, unsigned flags)
{
	if (flags & F_JSON)
		sbuf_puts(b, " [-json]");
	if (flags & F_PRETTY)
		sbuf_puts(b, " [-pretty]");
	if (flags & F_RAW)
		sbuf_puts(b, " [-raw]");
	if (flags & F_BY_INDEX)
		sbuf_puts(b, " [-by-index]");
	if (flags & F_LOCAL_ONLY)
		sbuf_puts(b, " [-local-only]");
	if (flags & F_ADDRESS)
		sbuf_puts(b, " [-address IP:PORT]");
}

static enum ctl_status
c_help(struct cx *x)
{
	struct sbuf j, u;
	size_t i;
	bool first = true;

	if (x->json) {
		sbuf_init(&j);
		sbuf_puts(&j, "[");
		for (i = 0; i < NCMDS; i++) {
			bool f = true;

			sbuf_init(&u);
			sbuf_puts(&u, cmds[i].name);
			flags_text(&u, cmds[i].flags);
			if (*cmds[i].args != '\0')
				sbuf_printf(&u, " %s", cmds[i].args);
			jkey(&j, &first, NULL);
			sbuf_puts(&j, "{");
			jstr(&j, &f, "name", cmds[i].name);
			jstr(&j, &f, "usage", u.s != NULL ? u.s : "");
			jstr(&j, &f, "help", cmds[i].help);
			sbuf_puts(&j, "}");
			sbuf_free(&u);
		}
		sbuf_puts(&j, "]");
		emit_json(x, &j);
		return CTL_OK;
	}
	for (i = 0; i < NCMDS; i++) {
		sbuf_init(&u);
		sbuf_puts(&u, cmds[i].name);
		flags_text(&u, cmds[i].flags);
		if (*cmds[i].args != '\0')
			sbuf_printf(&u, " %s", cmds[i].args);
		sbuf_printf(x->out, "  %s\n      %s\n", u.s != NULL ? u.s : "",
		    cmds[i].help);
		sbuf_free(&u);
	}
	return CTL_OK;
}

static enum ctl_status
usage(struct cx *x, const struct cmd *c, const char *why)
{
	sbuf_printf(x->out, "%s\nusage: %s", why, c->name);
	flags_text(x->out, c->flags);
	if (*c->args != '\0')
		sbuf_printf(x->out, " %s", c->args);
	sbuf_puts(x->out, "\n");
	return CTL_USAGE;
}

/*
 * Go's flag package as Nebula's console uses it: -name or --name,
 * -name=value or -name value for -address, booleans as -name or
 * -name=true|false; flags come first, "--" ends them.
 */
static enum ctl_status
parse_flags(struct cx *x, const struct cmd *c, int argc, char **argv)
{
	static const struct {
		const char *name;
		unsigned flag;
	} bools[] = {{"json", F_JSON}, {"pretty", F_PRETTY}, {"raw", F_RAW},
	    {"local-only", F_LOCAL_ONLY}, {"by-index", F_BY_INDEX}};
	char why[160];
	int i = 1;
	size_t k, nlen;

	for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		const char *a = argv[i] + 1, *eq;
		bool v = true, found = false;

		if (*a == '-')
			a++;
		if (*a == '\0') { /* "--" */
			i++;
			break;
		}
		if (strcmp(a, "h") == 0 || strcmp(a, "help") == 0) {
			(void)usage(x, c, c->help);
			x->done = true; /* Go's -h: the usage, and no error */
			return CTL_OK;
		}
		eq = strchr(a, '=');
		nlen = eq != NULL ? (size_t)(eq - a) : strlen(a);
		if ((c->flags & F_ADDRESS) && nlen == 7 &&
		    strncmp(a, "address", 7) == 0) {
			if (eq != NULL) {
				x->address = eq + 1;
			} else if (i + 1 < argc) {
				x->address = argv[++i];
			} else {
				return usage(x, c,
				    "flag needs an argument: -address");
			}
			continue;
		}
		for (k = 0; k < sizeof(bools) / sizeof(bools[0]); k++) {
			if (!(c->flags & bools[k].flag) ||
			    strlen(bools[k].name) != nlen ||
			    strncmp(a, bools[k].name, nlen) != 0)
				continue;
			if (eq != NULL) {
				if (strcmp(eq + 1, "true") == 0 ||
				    strcmp(eq + 1, "1") == 0)
					v = true;
				else if (strcmp(eq + 1, "false") == 0 ||
				         strcmp(eq + 1, "0") == 0)
					v = false;
				else
					return usage(x, c,
					    "invalid boolean flag value");
			}
			found = true;
			switch (bools[k].flag) {
			case F_JSON:
				x->json = v;
				break;
			case F_PRETTY:
				x->pretty = v;
				break;
			case F_RAW:
				x->raw = v;
				break;
			case F_LOCAL_ONLY:
				x->local_only = v;
				break;
			default:
				x->by_index = v;
			}
		}
		if (!found) {
			snprintf(why, sizeof(why),
			    "flag provided but not defined: -%.*s", (int)nlen, a);
			return usage(x, c, why);
		}
	}
	x->argc = argc - i;
	x->argv = argv + i;
	return CTL_OK;
}

enum ctl_status
ctl_run(struct node *n, int argc, char **argv, struct sbuf *out)
{
	struct cx x;
	enum ctl_status st;
	char s[80];
	size_t i;

	memset(&x, 0, sizeof(x));
	x.n = n;
	x.out = out;
	if (argc < 1) {
		sbuf_puts(out, "no command; try help\n");
		return CTL_USAGE;
	}
	for (i = 0; i < NCMDS; i++) {
		if (strcmp(argv[0], cmds[i].name) != 0)
			continue;
		if ((st = parse_flags(&x, &cmds[i], argc, argv)) != CTL_OK ||
		    x.done)
			return st;
		return cmds[i].fn(&x);
	}
	log_sanitize(argv[0], strlen(argv[0]), s, sizeof(s));
	sbuf_printf(out, "unknown command: %s; try help\n", s);
	return CTL_USAGE;
}

void
ctl_cleanup(void)
{
	if (revert.ev != NULL)
		event_free(revert.ev);
	revert.ev = NULL;
}
