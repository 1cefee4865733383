/*
 * lib/firewall.c: Nebula 1.6.1 firewall rules, plus the `local_cidr` rule
 * key of later versions: parsing (Nebula's AddFirewallRulesFromConfig,
 * convertRule, parsePort), the merged table, and the per-packet rule
 * decision.  See firewall.h for the layout.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "err.h"
#include "firewall.h"
#include "ipaddr.h"
#include "pki.h"

#define NONE UINT32_MAX
#define SEL_ANY 0u /* a rule without ca_name or ca_sha */
#define PORT_FRAGMENT (-1)
#define PORT_ANY 0

enum { CLS_ANY, CLS_TCP, CLS_UDP, CLS_ICMP, NCLS };

/* The merged peer condition of one (port, CA selector). */
struct fw_rule {
	bool any;
	uint32_t nhosts, nmulti, ncidr;
	const uint32_t *hosts;    /* sorted host ids */
	const uint64_t *single;   /* one-group selectors; NULL if none */
	const uint64_t *multi;    /* nmulti group sets of gwords words */
	const struct fw_iv *cidr; /* sorted, disjoint */
};

/*
 * sel: SEL_ANY; 1 + 2k: ca_sha id k; 2 + 2k: ca_name id k.  The rules of
 * one selector with the same local_cidr, merged: local_any when they have
 * none (or one holding 0.0.0.0), else LocalIP must lie in `local`.
 */
struct fw_casel {
	uint32_t sel;
	bool local_any;
	struct fw_iv local;
	struct fw_rule r;
};

struct fw_leaf {
	uint32_t n;
	const struct fw_casel *v; /* sorted by sel, then local */
};

/*
 * Ports 1..65535 in 256 buckets of 256: a bucket whose ports all have
 * the same leaf (or none) holds it in `uniform`; otherwise `port` maps
 * each of its ports.  A lookup is two loads.
 */
struct fw_bucket {
	const struct fw_leaf *uniform;
	const struct fw_leaf *const *port; /* 256 entries, or NULL */
};

struct fw_ports {
	bool used; /* any rule at all */
	const struct fw_leaf *any, *frag;
	const struct fw_bucket *bucket; /* 256, or NULL: no numbered port */
};

struct fw_table {
	bool empty;
	size_t nrules;
	struct fw_ports cls[NCLS];
};

/* Sorted, distinct strings; an id is an index. */
struct strtab {
	struct cert_str *v;
	size_t n;
};

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct fw {
	uint64_t version, tag;
	struct fw_table dir[2]; /* [0] outbound, [1] inbound */
	enum fw_action action[2];
	int64_t tcp_timeout, udp_timeout, default_timeout;
	struct fw_iv *local;
	size_t nlocal;
	struct strtab groups, hosts, shas, names;
	size_t gwords;
	char **warn;
	size_t nwarn;
	struct chunk *arena;
};

/* --- arena: the table's memory, freed at once ------------------------ */

static void *
arena_alloc(struct fw *fw, size_t n)
{
	struct chunk *c = fw->arena;
	size_t a = sizeof(max_align_t), cap;

	n = (n + a - 1) / a * a;
	if (n == 0)
		n = a;
	if (c == NULL || n > c->cap - c->used) {
		cap = n > 16384 ? n : 16384;
		if ((c = malloc(sizeof(*c) + cap)) == NULL)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = fw->arena;
		fw->arena = c;
	}
	c->used += n;
	return (char *)c->data + c->used - n;
}

static void *
arena_dup(struct fw *fw, const void *p, size_t n)
{
	void *d = arena_alloc(fw, n);

	if (d != NULL && n > 0)
		memcpy(d, p, n);
	return d;
}

/* --- address intervals ------------------------------------------------ */

static int
iv_cmp(const void *a, const void *b)
{
	const struct fw_iv *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

/* Sort and merge overlapping or adjacent intervals; the new count. */
static size_t
iv_normalize(struct fw_iv *v, size_t n)
{
	size_t i, o = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), iv_cmp);
	for (i = 1; i < n; i++) {
		if (v[o].hi == UINT32_MAX || v[i].lo <= v[o].hi + 1) {
			if (v[i].hi > v[o].hi)
				v[o].hi = v[i].hi;
		} else {
			v[++o] = v[i];
		}
	}
	return o + 1;
}

static inline bool
iv_contains(const struct fw_iv *v, size_t n, uint32_t ip)
{
	size_t lo = 0, hi = n, mid;

	if (n == 1) /* a peer with one IP, our own address: most packets */
		return v[0].lo <= ip && ip <= v[0].hi;
	/* the last interval with v.lo <= ip */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid].lo <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && ip <= v[lo - 1].hi;
}

/*
 * A network as Nebula's cidr.Tree4 stores it: only the mask's leading
 * one bits count (a certificate may carry any 32-bit mask).
 */
static struct fw_iv
tree_iv(uint32_t addr, uint32_t mask)
{
	unsigned bits = 0;
	uint32_t m;
	struct fw_iv r;

	while (bits < 32 && (mask & (0x80000000u >> bits)) != 0)
		bits++;
	m = ip4_prefix_mask(bits);
	r.lo = addr & m;
	r.hi = r.lo | ~m;
	return r;
}

/* A cert's IPs as /32s and its subnets, merged; *out malloc'd. */
static int
cert_ivs(const struct cert *c, struct fw_iv **out, size_t *n)
{
	struct fw_iv *v;
	size_t i, k = 0;

	*out = NULL;
	*n = 0;
	if (c->nips + c->nsubnets == 0)
		return 0;
	if ((v = calloc(c->nips + c->nsubnets, sizeof(*v))) == NULL)
		return VPN_ERR_NOMEM;
	for (i = 0; i < c->nips; i++) {
		v[k].lo = v[k].hi = c->ips[i].addr;
		k++;
	}
	for (i = 0; i < c->nsubnets; i++)
		v[k++] = tree_iv(c->subnets[i].addr, c->subnets[i].mask);
	*n = iv_normalize(v, k);
	*out = v;
	return 0;
}

/* --- strings ---------------------------------------------------------- */

static int
str_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
cs_cmp(const void *a, const void *b)
{
	const struct cert_str *x = a, *y = b;

	return str_cmp(x->s, x->len, y->s, y->len);
}

static uint32_t
strtab_find(const struct strtab *t, const char *s, size_t len)
{
	size_t lo = 0, hi = t->n, mid;
	int c;

	if (s == NULL)
		return NONE;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = str_cmp(s, len, t->v[mid].s, t->v[mid].len);
		if (c == 0)
			return (uint32_t)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NONE;
}

/* A growable list of strings (pointers into the config). */
struct strvec {
	struct cert_str *v;
	size_t n, cap;
};

static int
strvec_add(struct strvec *sv, const char *s)
{
	struct cert_str *nv;
	size_t cap;

	if (sv->n == sv->cap) {
		cap = sv->cap == 0 ? 16 : sv->cap * 2;
		if ((nv = realloc(sv->v, cap * sizeof(*nv))) == NULL)
			return VPN_ERR_NOMEM;
		sv->v = nv;
		sv->cap = cap;
	}
	sv->v[sv->n].s = (char *)(uintptr_t)s;
	sv->v[sv->n].len = strlen(s);
	sv->n++;
	return 0;
}

/* Sort, deduplicate and copy into the arena. */
static int
strtab_make(struct fw *fw, struct strvec *sv, struct strtab *t)
{
	size_t i, o = 0;
	char *s;

	t->n = 0;
	t->v = NULL;
	if (sv->n == 0)
		return 0;
	qsort(sv->v, sv->n, sizeof(*sv->v), cs_cmp);
	for (i = 0; i < sv->n; i++)
		if (o == 0 || cs_cmp(&sv->v[o - 1], &sv->v[i]) != 0)
			sv->v[o++] = sv->v[i];
	if ((t->v = arena_alloc(fw, o * sizeof(*t->v))) == NULL)
		return VPN_ERR_NOMEM;
	for (i = 0; i < o; i++) {
		if ((s = arena_dup(fw, sv->v[i].s, sv->v[i].len + 1)) == NULL)
			return VPN_ERR_NOMEM;
		t->v[i].s = s;
		t->v[i].len = sv->v[i].len;
	}
	t->n = o;
	return 0;
}

/* --- rule parsing ----------------------------------------------------- */

/* A rule as read, then interned. */
struct prule {
	uint8_t dir, cls;
	int32_t lo, hi; /* Nebula's int32 port range, quirks applied */
	bool any;       /* peer condition always true */
	const char *host, *ca_name, *ca_sha; /* NULL: not given */
	const char **groups;                 /* malloc'd; into the config */
	size_t ngroups;
	bool has_cidr;
	struct fw_iv cidr;
	bool has_local; /* false: any LocalIP (none, or 0.0.0.0 in it) */
	struct fw_iv local;
	/* interned */
	uint32_t host_id, sels[2], nsels, gcount;
	uint64_t *gset; /* malloc'd, gwords words; NULL without groups */
};

struct rules {
	struct prule *v;
	size_t n, cap;
};

static void
rules_free(struct rules *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		free(rs->v[i].groups);
		free(rs->v[i].gset);
	}
	free(rs->v);
}

/*
 * Go's fmt %v of a YAML value, as Nebula's convertRule prints rule
 * fields: "" when absent, "<nil>" for null, "[a b]" for a list,
 * "map[k:v]" for a map (keys in file order, not Go's sorted order; only
 * error messages can show it).  Truncated to the buffer.
 */
static void
gov_add(char *buf, size_t cap, size_t *off, const char *s)
{
	size_t n = strlen(s);

	if (*off >= cap - 1)
		return;
	if (n > cap - 1 - *off)
		n = cap - 1 - *off;
	memcpy(buf + *off, s, n);
	*off += n;
	buf[*off] = '\0';
}

static void
gov_node(
    char *buf, size_t cap, size_t *off, const struct config_node *n, int depth)
{
	size_t i;

	if (depth > 8) {
		gov_add(buf, cap, off, "...");
		return;
	}
	switch (config_node_type(n)) {
	case CONFIG_NULL:
		gov_add(buf, cap, off, "<nil>");
		break;
	case CONFIG_SCALAR:
		gov_add(buf, cap, off, config_node_scalar(n));
		break;
	case CONFIG_SEQ:
		gov_add(buf, cap, off, "[");
		for (i = 0; i < config_node_len(n); i++) {
			if (i > 0)
				gov_add(buf, cap, off, " ");
			gov_node(
			    buf, cap, off, config_node_item(n, i), depth + 1);
		}
		gov_add(buf, cap, off, "]");
		break;
	case CONFIG_MAP:
		gov_add(buf, cap, off, "map[");
		for (i = 0; i < config_node_len(n); i++) {
			if (i > 0)
				gov_add(buf, cap, off, " ");
			gov_add(buf, cap, off, config_node_key(n, i));
			gov_add(buf, cap, off, ":");
			gov_node(
			    buf, cap, off, config_node_value(n, i), depth + 1);
		}
		gov_add(buf, cap, off, "]");
		break;
	}
}

/* The %v text of a field: the scalar's own text, or buf. */
static const char *
gov(const struct config_node *n, char *buf, size_t cap)
{
	size_t off = 0;

	if (n == NULL)
		return "";
	if (config_node_type(n) == CONFIG_SCALAR)
		return config_node_scalar(n);
	buf[0] = '\0';
	gov_node(buf, cap, &off, n, 0);
	return buf;
}

/* Go's strconv.Atoi on a 64-bit platform. */
static bool
go_atoi(const char *s, size_t len, int64_t *out)
{
	uint64_t v = 0, lim = INT64_MAX;
	bool neg = false;
	size_t i = 0;

	if (len > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		if (neg)
			lim = (uint64_t)INT64_MAX + 1;
		i = 1;
	}
	if (i == len)
		return false;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return true;
}

/* Go's int32(x): keep the low 32 bits, two's complement. */
static int32_t
go_int32(int64_t x)
{
	uint32_t u = (uint32_t)(uint64_t)x;

	return u <= INT32_MAX ? (int32_t)u : -(int32_t)(UINT32_MAX - u) - 1;
}

/* Nebula's parsePort; on error msg gets the text after "port ". */
static bool
parse_port(const char *s, int32_t *lo, int32_t *hi, char *msg, size_t mlen)
{
	const char *dash, *a, *b;
	size_t alen, blen;
	int64_t x, y;

	if (strcmp(s, "any") == 0) {
		*lo = *hi = PORT_ANY;
		return true;
	}
	if (strcmp(s, "fragment") == 0) {
		*lo = *hi = PORT_FRAGMENT;
		return true;
	}
	if ((dash = strchr(s, '-')) == NULL) {
		if (!go_atoi(s, strlen(s), &x)) {
			snprintf(msg, mlen, "was not a number; `%s`", s);
			return false;
		}
		*lo = *hi = go_int32(x);
		return true;
	}
	/* strings.Trim(part, " ") on both sides of the first '-' */
	a = s;
	alen = (size_t)(dash - s);
	b = dash + 1;
	blen = strlen(b);
	while (alen > 0 && a[0] == ' ')
		a++, alen--;
	while (alen > 0 && a[alen - 1] == ' ')
		alen--;
	while (blen > 0 && b[0] == ' ')
		b++, blen--;
	while (blen > 0 && b[blen - 1] == ' ')
		blen--;
	if (alen == 0 || blen == 0) {
		snprintf(msg, mlen,
		    "appears to be a range but could not be parsed; `%s`", s);
		return false;
	}
	if (!go_atoi(a, alen, &x)) {
		snprintf(msg, mlen, "beginning range was not a number; `%.*s`",
		    (int)alen, a);
		return false;
	}
	if (!go_atoi(b, blen, &y)) {
		snprintf(msg, mlen, "ending range was not a number; `%.*s`",
		    (int)blen, b);
		return false;
	}
	*lo = go_int32(x);
	*hi = go_int32(y);
	if (*lo == PORT_ANY)
		*hi = PORT_ANY; /* a range from 0 is `any` */
	return true;
}

struct pctx {
	struct fw *fw;
	struct config_err *err;
	const char *table; /* "firewall.inbound" */
	size_t i;          /* rule index */
	const struct config_node *rule;
};

static int rule_err(struct pctx *c, const struct config_node *n,
    const char *field, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
rule_err(struct pctx *c, const struct config_node *n, const char *field,
    int code, const char *fmt, ...)
{
	char key[CONFIG_PATH_LEN], item[CONFIG_PATH_LEN], msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	config_path_index(item, sizeof(item), c->table, c->i);
	if (field != NULL && n != NULL)
		config_path_key(key, sizeof(key), item, field);
	else
		snprintf(key, sizeof(key), "%s", item);
	return config_node_err(c->err, n != NULL ? n : c->rule, key, code,
	    "%s rule #%zu; %s", c->table, c->i, msg);
}

static int add_warning(struct fw *fw, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
add_warning(struct fw *fw, const char *fmt, ...)
{
	char buf[512], **nw, *s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((s = arena_dup(fw, buf, strlen(buf) + 1)) == NULL ||
	    (nw = realloc(fw->warn, (fw->nwarn + 1) * sizeof(*nw))) == NULL)
		return VPN_ERR_NOMEM;
	nw[fw->nwarn++] = s;
	fw->warn = nw;
	return 0;
}

/* host, ca_name, ca_sha: a string ("" when absent), or an error. */
static int
str_field(struct pctx *c, const char *key, const char **out)
{
	const struct config_node *n = config_node_get(c->rule, key);
	char buf[128];

	*out = "";
	if (n == NULL)
		return 0;
	if (config_node_type(n) != CONFIG_SCALAR)
		return rule_err(c, n, key, VPN_ERR_INVAL,
		    "%s should be a single string value, not `%s`", key,
		    gov(n, buf, sizeof(buf)));
	*out = config_node_scalar(n);
	return 0;
}

/* Nebula's group/groups handling of convertRule. */
static int
group_fields(struct pctx *c, struct prule *r, const char **group)
{
	const struct config_node *n, *g;
	char buf[128];
	size_t i, k = 0;

	*group = "";
	n = config_node_get(c->rule, "group");
	if (config_node_type(n) == CONFIG_SEQ) {
		if (config_node_len(n) > 1)
			return rule_err(c, n, "group", VPN_ERR_INVAL,
			    "group should contain a single value, an array "
			    "with more than one entry was provided");
		if (config_node_len(n) == 0)
			return rule_err(c, n, "group", VPN_ERR_INVAL,
			    "group should contain a single value, an empty "
			    "array was provided");
		if (add_warning(c->fw,
		        "%s rule #%zu; group was an array with a single "
		        "value, converting to simple value",
		        c->table, c->i) != 0)
			return VPN_ERR_NOMEM;
		n = config_node_item(n, 0);
	}
	if (n != NULL) {
		if (config_node_type(n) != CONFIG_SCALAR)
			return rule_err(c, n, "group", VPN_ERR_INVAL,
			    "group should be a single string value, not `%s`",
			    gov(n, buf, sizeof(buf)));
		*group = config_node_scalar(n);
	}

	n = config_node_get(c->rule, "groups");
	switch (config_node_type(n)) {
	case CONFIG_NULL:
		return 0; /* absent, or null (Nebula panics) */
	case CONFIG_MAP:
		return rule_err(c, n, "groups", VPN_ERR_INVAL,
		    "groups should be a list of strings, not `%s`",
		    gov(n, buf, sizeof(buf)));
	case CONFIG_SCALAR:
		k = 1;
		break;
	case CONFIG_SEQ:
		k = config_node_len(n);
		break;
	}
	if (k == 0)
		return 0;
	if ((r->groups = calloc(k, sizeof(*r->groups))) == NULL)
		return VPN_ERR_NOMEM;
	if (config_node_type(n) == CONFIG_SCALAR) {
		r->groups[0] = config_node_scalar(n);
		r->ngroups = 1;
		return 0;
	}
	for (i = 0; i < k; i++) {
		g = config_node_item(n, i);
		if (config_node_type(g) != CONFIG_SCALAR)
			return rule_err(c, g, "groups", VPN_ERR_INVAL,
			    "groups should be a list of strings, not `%s`",
			    gov(n, buf, sizeof(buf)));
		r->groups[i] = config_node_scalar(g);
	}
	r->ngroups = k;
	return 0;
}

/* cidr, local_cidr: Go's net.ParseCIDR of the %v text s, IPv4 only. */
static int
cidr_field(struct pctx *c, const struct config_node *n, const char *key,
    const char *s, struct fw_iv *out)
{
	struct ip4net net;
	int e = ip4net_parse(s, &net);

	if (e == VPN_ERR_RANGE)
		return rule_err(c, n, key, VPN_ERR_INVAL,
		    "%s did not parse; `%s` is an IPv6 CIDR, only IPv4 is "
		    "supported",
		    key, s);
	if (e != 0)
		return rule_err(c, n, key, VPN_ERR_INVAL,
		    "%s did not parse; invalid CIDR address: %s", key, s);
	out->lo = net.addr & net.mask;
	out->hi = out->lo | ~net.mask;
	return 0;
}

/* One entry of firewall.inbound/outbound, in convertRule's order. */
static int
parse_rule(struct pctx *c, struct prule *r)
{
	const struct config_node *pn, *cn, *prn, *cin, *lcn, *portnode;
	const char *port, *code, *proto, *cidr, *lcidr, *host, *group, *sport,
	    *what;
	char pbuf[128], cbuf[128], prbuf[128], cibuf[128], lcbuf[128], msg[200];
	size_t i;
	int e;

	if (config_node_type(c->rule) != CONFIG_MAP)
		return rule_err(
		    c, c->rule, NULL, VPN_ERR_INVAL, "could not parse rule");
	pn = config_node_get(c->rule, "port");
	cn = config_node_get(c->rule, "code");
	prn = config_node_get(c->rule, "proto");
	cin = config_node_get(c->rule, "cidr");
	lcn = config_node_get(c->rule, "local_cidr");
	port = gov(pn, pbuf, sizeof(pbuf));
	code = gov(cn, cbuf, sizeof(cbuf));
	proto = gov(prn, prbuf, sizeof(prbuf));
	cidr = gov(cin, cibuf, sizeof(cibuf));
	lcidr = gov(lcn, lcbuf, sizeof(lcbuf));
	if ((e = str_field(c, "host", &host)) != 0 ||
	    (e = str_field(c, "ca_name", &r->ca_name)) != 0 ||
	    (e = str_field(c, "ca_sha", &r->ca_sha)) != 0 ||
	    (e = group_fields(c, r, &group)) != 0)
		return e;

	if (*code != '\0' && *port != '\0')
		return rule_err(c, cn, "code", VPN_ERR_INVAL,
		    "only one of port or code should be provided");
	if (*host == '\0' && r->ngroups == 0 && *group == '\0' &&
	    *cidr == '\0' && *lcidr == '\0' && *r->ca_name == '\0' &&
	    *r->ca_sha == '\0')
		return rule_err(c, NULL, NULL, VPN_ERR_INVAL,
		    "at least one of host, group, cidr, local_cidr, ca_name, "
		    "or ca_sha must be provided");
	if (*group != '\0') {
		if (r->ngroups > 0)
			return rule_err(c, config_node_get(c->rule, "groups"),
			    "groups", VPN_ERR_INVAL,
			    "only one of group or groups should be defined, "
			    "both provided");
		if ((r->groups = calloc(1, sizeof(*r->groups))) == NULL)
			return VPN_ERR_NOMEM;
		r->groups[0] = group;
		r->ngroups = 1;
	}

	if (*code != '\0') {
		what = "code";
		sport = code;
		portnode = cn;
	} else {
		what = "port";
		sport = port;
		portnode = pn;
	}
	if (!parse_port(sport, &r->lo, &r->hi, msg, sizeof(msg)))
		return rule_err(
		    c, portnode, what, VPN_ERR_INVAL, "%s %s", what, msg);

	if (strcmp(proto, "any") == 0)
		r->cls = CLS_ANY;
	else if (strcmp(proto, "tcp") == 0)
		r->cls = CLS_TCP;
	else if (strcmp(proto, "udp") == 0)
		r->cls = CLS_UDP;
	else if (strcmp(proto, "icmp") == 0)
		r->cls = CLS_ICMP;
	else
		return rule_err(c, prn, "proto", VPN_ERR_INVAL,
		    "proto was not understood; `%s`", proto);

	if (*cidr != '\0') {
		if ((e = cidr_field(c, cin, "cidr", cidr, &r->cidr)) != 0)
			return e;
		r->has_cidr = true;
	}
	/*
	 * Nebula 1.7's key; Nebula 1.6.1 ignores it.  Matched as 1.9 does
	 * (firewallLocalCIDR): in AND with the rest of the rule, any
	 * LocalIP when the network holds 0.0.0.0.
	 */
	if (*lcidr != '\0') {
		if ((e = cidr_field(c, lcn, "local_cidr", lcidr, &r->local)) !=
		    0)
			return e;
		r->has_local = r->local.lo != 0;
	}

	if (r->lo > r->hi)
		return rule_err(c, portnode, what, VPN_ERR_INVAL,
		    "`start port was lower than end port`");

	/* FirewallRule.isAny (of the peer: local_cidr is apart) */
	r->host = *host != '\0' ? host : NULL;
	if (*r->ca_name == '\0')
		r->ca_name = NULL;
	if (*r->ca_sha == '\0')
		r->ca_sha = NULL;
	r->any = r->ngroups == 0 && r->host == NULL && !r->has_cidr;
	for (i = 0; i < r->ngroups; i++)
		if (strcmp(r->groups[i], "any") == 0)
			r->any = true;
	if ((r->host != NULL && strcmp(r->host, "any") == 0) ||
	    (r->has_cidr && r->cidr.lo == 0))
		r->any = true;
	return 0;
}

static int
parse_table(struct fw *fw, const struct config *cfg, bool incoming,
    struct rules *rs, struct config_err *err)
{
	struct pctx c = {.fw = fw, .err = err};
	const struct config_node *list;
	struct prule *nv;
	size_t i, cap;
	int e;

	c.table = incoming ? "firewall.inbound" : "firewall.outbound";
	list = config_get(cfg, c.table);
	if (config_node_type(list) == CONFIG_NULL)
		return 0;
	if (config_node_type(list) != CONFIG_SEQ)
		return config_node_err(err, list, c.table, VPN_ERR_INVAL,
		    "%s failed to parse, should be an array of rules", c.table);
	for (i = 0; i < config_node_len(list); i++) {
		if (rs->n == rs->cap) {
			cap = rs->cap == 0 ? 16 : rs->cap * 2;
			if ((nv = realloc(rs->v, cap * sizeof(*nv))) == NULL)
				return VPN_ERR_NOMEM;
			rs->v = nv;
			rs->cap = cap;
		}
		memset(&rs->v[rs->n], 0, sizeof(rs->v[rs->n]));
		rs->v[rs->n].dir = incoming;
		c.i = i;
		c.rule = config_node_item(list, i);
		e = parse_rule(&c, &rs->v[rs->n]);
		rs->n++; /* so that rules_free sees its allocations */
		if (e != 0)
			return e;
		fw->dir[incoming].nrules++;
	}
	return 0;
}

/* --- building the table ----------------------------------------------- */

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct selrule {
	uint32_t sel;
	const struct prule *r;
};

/* The local_cidr of a rule as a merge key: no restriction first. */
static int
local_cmp(const struct prule *x, const struct prule *y)
{
	if (x->has_local != y->has_local)
		return x->has_local ? 1 : -1;
	if (!x->has_local)
		return 0;
	return iv_cmp(&x->local, &y->local);
}

/* By selector, then local_cidr: each run is one fw_casel. */
static int
selrule_cmp(const void *a, const void *b)
{
	const struct selrule *x = a, *y = b;

	if (x->sel != y->sel)
		return x->sel < y->sel ? -1 : 1;
	return local_cmp(x->r, y->r);
}

static bool
same_casel(const struct selrule *x, const struct selrule *y)
{
	return x->sel == y->sel && local_cmp(x->r, y->r) == 0;
}

/* Scratch space reused by every leaf. */
struct scratch {
	struct selrule *sr;
	uint32_t *hosts;
	struct fw_iv *ivs;
	size_t cap; /* entries of each, >= 2 * number of rules */
};

/* Merge rules sr[0..n) (one selector) into *out (FirewallRule.addRule). */
static int
merge_rule(struct fw *fw, struct scratch *s, const struct selrule *sr, size_t n,
    struct fw_rule *out)
{
	size_t i, w, nh = 0, nc = 0, nm = 0, o;
	uint64_t *single = NULL, *multi;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++)
		if (sr[i].r->any) {
			out->any = true;
			return 0;
		}
	for (i = 0; i < n; i++) {
		if (sr[i].r->host_id != NONE)
			s->hosts[nh++] = sr[i].r->host_id;
		if (sr[i].r->has_cidr)
			s->ivs[nc++] = sr[i].r->cidr;
		if (sr[i].r->gcount > 1)
			nm++;
		if (sr[i].r->gcount == 1 && single == NULL &&
		    (single = arena_alloc(fw, fw->gwords * 8)) == NULL)
			return VPN_ERR_NOMEM;
	}
	if (single != NULL) {
		memset(single, 0, fw->gwords * 8);
		for (i = 0; i < n; i++)
			if (sr[i].r->gcount == 1)
				for (w = 0; w < fw->gwords; w++)
					single[w] |= sr[i].r->gset[w];
		out->single = single;
	}
	if (nm > 0) {
		if ((multi = arena_alloc(fw, nm * fw->gwords * 8)) == NULL)
			return VPN_ERR_NOMEM;
		for (i = 0, o = 0; i < n; i++)
			if (sr[i].r->gcount > 1)
				memcpy(multi + fw->gwords * o++, sr[i].r->gset,
				    fw->gwords * 8);
		out->multi = multi;
		out->nmulti = (uint32_t)nm;
	}
	if (nh > 0) {
		qsort(s->hosts, nh, sizeof(*s->hosts), u32_cmp);
		for (i = 1, o = 1; i < nh; i++)
			if (s->hosts[i] != s->hosts[o - 1])
				s->hosts[o++] = s->hosts[i];
		nh = o;
		if ((out->hosts = arena_dup(fw, s->hosts, nh * 4)) == NULL)
			return VPN_ERR_NOMEM;
		out->nhosts = (uint32_t)nh;
	}
	if (nc > 0) {
		nc = iv_normalize(s->ivs, nc);
		if ((out->cidr = arena_dup(fw, s->ivs, nc * sizeof(*s->ivs))) ==
		    NULL)
			return VPN_ERR_NOMEM;
		out->ncidr = (uint32_t)nc;
	}
	return 0;
}

/*
 * The leaf merging rules rs[0..n) (FirewallCA.addRule); NULL for n 0.
 * Rules are merged per (CA selector, local_cidr): Nebula 1.9 merges per
 * (CA selector, host/group/cidr) with a set of local networks each,
 * which allows the same packets.
 */
static int
make_leaf(struct fw *fw, struct scratch *s, const struct prule *const *rs,
    size_t n, const struct fw_leaf **out)
{
	struct fw_leaf *leaf;
	struct fw_casel *v;
	size_t i, j, k = 0, nsel = 0;
	uint32_t t;
	int e;

	*out = NULL;
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		for (t = 0; t < rs[i]->nsels; t++) {
			s->sr[k].sel = rs[i]->sels[t];
			s->sr[k++].r = rs[i];
		}
	qsort(s->sr, k, sizeof(*s->sr), selrule_cmp);
	for (i = 0; i < k; i++)
		if (i == 0 || !same_casel(&s->sr[i], &s->sr[i - 1]))
			nsel++;
	if ((leaf = arena_alloc(fw, sizeof(*leaf))) == NULL ||
	    (v = arena_alloc(fw, nsel * sizeof(*v))) == NULL)
		return VPN_ERR_NOMEM;
	leaf->n = (uint32_t)nsel;
	leaf->v = v;
	for (i = 0; i < k; i = j) {
		for (j = i; j < k && same_casel(&s->sr[j], &s->sr[i]); j++)
			;
		v->sel = s->sr[i].sel;
		v->local_any = !s->sr[i].r->has_local;
		v->local = s->sr[i].r->local;
		if ((e = merge_rule(fw, s, s->sr + i, j - i, &v->r)) != 0)
			return e;
		v++;
	}
	*out = leaf;
	return 0;
}

static int
i32_cmp(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return x < y ? -1 : x > y;
}

struct segrule {
	int32_t lo, hi; /* clamped to 1..65535 */
	const struct prule *r;
};

static int
segrule_cmp(const void *a, const void *b)
{
	const struct segrule *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Fill pm->bucket from the segments' leaves (all: one per port). */
static int
make_buckets(struct fw *fw, const struct fw_leaf **all, struct fw_ports *pm)
{
	struct fw_bucket *b;
	size_t i, j;

	if ((b = arena_alloc(fw, 256 * sizeof(*b))) == NULL)
		return VPN_ERR_NOMEM;
	for (i = 0; i < 256; i++) {
		/* port 0 is never looked up here: bucket 0 starts at 1 */
		b[i].uniform = all[i == 0 ? 1 : i * 256];
		b[i].port = NULL;
		for (j = i == 0 ? 1 : 0; j < 256; j++)
			if (all[i * 256 + j] != b[i].uniform)
				break;
		if (j == 256)
			continue;
		b[i].uniform = NULL;
		if ((b[i].port = arena_dup(
		         fw, all + i * 256, 256 * sizeof(*all))) == NULL)
			return VPN_ERR_NOMEM;
	}
	pm->bucket = b;
	return 0;
}

/* The port map of one (direction, protocol class). */
static int
build_ports(struct fw *fw, struct scratch *s, const struct rules *rs,
    uint8_t dir, uint8_t cls, struct fw_ports *pm)
{
	const struct prule **sel = NULL;
	const struct fw_leaf **all = NULL, *leaf;
	struct segrule *sg = NULL;
	int32_t *pts = NULL, port;
	size_t i, n = 0, nsg = 0, npt = 0, k, nact, na;
	int e = VPN_ERR_NOMEM;

	memset(pm, 0, sizeof(*pm));
	if ((sel = calloc(rs->n + 1, sizeof(*sel))) == NULL ||
	    (sg = calloc(rs->n + 1, sizeof(*sg))) == NULL ||
	    (pts = calloc(2 * rs->n + 1, sizeof(*pts))) == NULL)
		goto out;

	/* port 0 (any) and -1 (fragment): every rule whose range holds it */
	for (i = 0; i < rs->n; i++)
		if (rs->v[i].dir == dir && rs->v[i].cls == cls &&
		    rs->v[i].lo <= PORT_ANY && rs->v[i].hi >= PORT_ANY)
			sel[n++] = &rs->v[i];
	if ((e = make_leaf(fw, s, sel, n, &pm->any)) != 0)
		goto out;
	n = 0;
	for (i = 0; i < rs->n; i++)
		if (rs->v[i].dir == dir && rs->v[i].cls == cls &&
		    rs->v[i].lo <= PORT_FRAGMENT &&
		    rs->v[i].hi >= PORT_FRAGMENT)
			sel[n++] = &rs->v[i];
	if ((e = make_leaf(fw, s, sel, n, &pm->frag)) != 0)
		goto out;
	pm->used = pm->any != NULL || pm->frag != NULL;

	/*
	 * 1..65535: cut at every rule's ends, merge the rules of each cut
	 * into one leaf (Nebula keeps one merged entry per port).
	 */
	for (i = 0; i < rs->n; i++) {
		if (rs->v[i].dir != dir || rs->v[i].cls != cls ||
		    rs->v[i].hi < 1 || rs->v[i].lo > 65535)
			continue;
		sg[nsg].lo = rs->v[i].lo < 1 ? 1 : rs->v[i].lo;
		sg[nsg].hi = rs->v[i].hi > 65535 ? 65535 : rs->v[i].hi;
		sg[nsg].r = &rs->v[i];
		pts[npt++] = sg[nsg].lo;
		pts[npt++] = sg[nsg].hi + 1;
		nsg++;
	}
	e = 0;
	if (nsg == 0)
		goto out;
	e = VPN_ERR_NOMEM;
	if ((all = calloc(65536, sizeof(*all))) == NULL)
		goto out;
	qsort(sg, nsg, sizeof(*sg), segrule_cmp);
	qsort(pts, npt, sizeof(*pts), i32_cmp);
	for (i = 1, k = 1; i < npt; i++)
		if (pts[i] != pts[k - 1])
			pts[k++] = pts[i];
	npt = k;
	/* sweep: sel[0..nact) holds the rules covering pts[i] */
	for (i = 0, k = 0, nact = 0; i + 1 < npt; i++) {
		while (k < nsg && sg[k].lo <= pts[i]) {
			sel[nact++] = sg[k].r;
			k++;
		}
		for (n = 0, na = 0; n < nact; n++)
			if (sel[n]->hi >= pts[i])
				sel[na++] = sel[n];
		nact = na;
		if (nact == 0)
			continue;
		if ((e = make_leaf(fw, s, sel, nact, &leaf)) != 0)
			goto out;
		for (port = pts[i]; port < pts[i + 1]; port++)
			all[port] = leaf;
	}
	if ((e = make_buckets(fw, all, pm)) != 0)
		goto out;
	pm->used = true;
	e = 0;
out:
	free(all);
	free(sel);
	free(sg);
	free(pts);
	return e;
}

static int
intern(struct fw *fw, struct rules *rs)
{
	struct strvec g = {0}, h = {0}, sh = {0}, nm = {0};
	struct prule *r;
	size_t i, j;
	uint32_t id;
	int e = 0;

	for (i = 0; i < rs->n && e == 0; i++) {
		r = &rs->v[i];
		if (r->ca_sha != NULL)
			e = strvec_add(&sh, r->ca_sha);
		if (e == 0 && r->ca_name != NULL)
			e = strvec_add(&nm, r->ca_name);
		if (r->any)
			continue;
		if (e == 0 && r->host != NULL)
			e = strvec_add(&h, r->host);
		for (j = 0; j < r->ngroups && e == 0; j++)
			e = strvec_add(&g, r->groups[j]);
	}
	if (e != 0 || (e = strtab_make(fw, &g, &fw->groups)) != 0 ||
	    (e = strtab_make(fw, &h, &fw->hosts)) != 0 ||
	    (e = strtab_make(fw, &sh, &fw->shas)) != 0 ||
	    (e = strtab_make(fw, &nm, &fw->names)) != 0)
		goto out;
	fw->gwords = (fw->groups.n + 63) / 64;
	for (i = 0; i < rs->n; i++) {
		r = &rs->v[i];
		r->host_id = NONE;
		r->nsels = 0;
		if (r->ca_sha == NULL && r->ca_name == NULL)
			r->sels[r->nsels++] = SEL_ANY;
		if (r->ca_sha != NULL)
			r->sels[r->nsels++] =
			    1 + 2 * strtab_find(&fw->shas, r->ca_sha,
			                strlen(r->ca_sha));
		if (r->ca_name != NULL)
			r->sels[r->nsels++] =
			    2 + 2 * strtab_find(&fw->names, r->ca_name,
			                strlen(r->ca_name));
		if (r->any)
			continue;
		if (r->host != NULL)
			r->host_id =
			    strtab_find(&fw->hosts, r->host, strlen(r->host));
		if (r->ngroups == 0)
			continue;
		if ((r->gset = calloc(fw->gwords, 8)) == NULL) {
			e = VPN_ERR_NOMEM;
			goto out;
		}
		for (j = 0; j < r->ngroups; j++) {
			id = strtab_find(
			    &fw->groups, r->groups[j], strlen(r->groups[j]));
			if ((r->gset[id / 64] & (UINT64_C(1) << id % 64)) == 0)
				r->gcount++;
			r->gset[id / 64] |= UINT64_C(1) << id % 64;
		}
	}
out:
	free(g.v);
	free(h.v);
	free(sh.v);
	free(nm.v);
	return e;
}

static int
read_timeout(const struct config *cfg, const char *key, int64_t def,
    int64_t *out, struct config_err *err)
{
	int e;

	if ((e = config_duration(cfg, key, def, out, err)) != 0)
		return e;
	if (*out < 0)
		return config_node_err(err, config_get(cfg, key), key,
		    VPN_ERR_RANGE, "a timeout must not be negative");
	return 0;
}

static int
read_action(const struct config *cfg, const char *key, enum fw_action *out,
    struct config_err *err)
{
	const char *s;
	int e;

	if ((e = config_str(cfg, key, "drop", &s, err)) != 0)
		return e;
	if (strcmp(s, "drop") == 0)
		*out = FW_ACTION_DROP;
	else if (strcmp(s, "reject") == 0)
		*out = FW_ACTION_REJECT;
	else
		return config_node_err(err, config_get(cfg, key), key,
		    VPN_ERR_INVAL, "%s must be `drop` or `reject`, not `%s`",
		    key, s);
	return 0;
}

int
fw_build(const struct config *cfg, const struct cert *own_cert,
    uint64_t version, struct fw **out, struct config_err *err)
{
	struct rules rs = {0};
	struct scratch s = {0};
	const struct config_node *top;
	struct fw *fw = NULL;
	size_t d, c;
	int e;

	*out = NULL;
	if (own_cert == NULL)
		return VPN_ERR_INVAL;
	if ((fw = calloc(1, sizeof(*fw))) == NULL)
		return VPN_ERR_NOMEM;
	fw->version = version;
	if ((e = crypto_random(&fw->tag, sizeof(fw->tag))) != 0 ||
	    (e = config_map(cfg, "firewall", &top, err)) != 0 ||
	    (e = read_timeout(cfg, "firewall.conntrack.tcp_timeout",
	         FW_TCP_TIMEOUT_DEFAULT, &fw->tcp_timeout, err)) != 0 ||
	    (e = read_timeout(cfg, "firewall.conntrack.udp_timeout",
	         FW_UDP_TIMEOUT_DEFAULT, &fw->udp_timeout, err)) != 0 ||
	    (e = read_timeout(cfg, "firewall.conntrack.default_timeout",
	         FW_DEFAULT_TIMEOUT_DEFAULT, &fw->default_timeout, err)) != 0 ||
	    (e = parse_table(fw, cfg, false, &rs, err)) != 0 ||
	    (e = parse_table(fw, cfg, true, &rs, err)) != 0 ||
	    (e = read_action(
	         cfg, "firewall.inbound_action", &fw->action[1], err)) != 0 ||
	    (e = read_action(
	         cfg, "firewall.outbound_action", &fw->action[0], err)) != 0 ||
	    (e = cert_ivs(own_cert, &fw->local, &fw->nlocal)) != 0 ||
	    (e = intern(fw, &rs)) != 0)
		goto out;
	e = VPN_ERR_NOMEM;
	s.cap = 2 * rs.n + 1;
	if ((s.sr = calloc(s.cap, sizeof(*s.sr))) == NULL ||
	    (s.hosts = calloc(s.cap, sizeof(*s.hosts))) == NULL ||
	    (s.ivs = calloc(s.cap, sizeof(*s.ivs))) == NULL)
		goto out;
	for (d = 0; d < 2; d++) {
		fw->dir[d].empty = fw->dir[d].nrules == 0;
		for (c = 0; c < NCLS; c++)
			if ((e = build_ports(fw, &s, &rs, (uint8_t)d,
			         (uint8_t)c, &fw->dir[d].cls[c])) != 0)
				goto out;
	}
	*out = fw;
	fw = NULL;
	e = 0;
out:
	if (e == VPN_ERR_NOMEM && err != NULL)
		config_node_err(err, NULL, "firewall", e, "out of memory");
	free(s.sr);
	free(s.hosts);
	free(s.ivs);
	rules_free(&rs);
	fw_free(fw);
	return e;
}

void
fw_free(struct fw *fw)
{
	struct chunk *c, *n;

	if (fw == NULL)
		return;
	for (c = fw->arena; c != NULL; c = n) {
		n = c->next;
		free(c);
	}
	free(fw->local);
	free(fw->warn);
	free(fw);
}

uint64_t
fw_version(const struct fw *fw)
{
	return fw->version;
}

enum fw_action
fw_action(const struct fw *fw, bool incoming)
{
	return fw->action[incoming];
}

int64_t
fw_timeout(const struct fw *fw, uint8_t proto)
{
	switch (proto) {
	case IPPKT_PROTO_TCP:
		return fw->tcp_timeout;
	case IPPKT_PROTO_UDP:
		return fw->udp_timeout;
	default:
		return fw->default_timeout;
	}
}

size_t
fw_nrules(const struct fw *fw, bool incoming)
{
	return fw->dir[incoming].nrules;
}

size_t
fw_nwarnings(const struct fw *fw)
{
	return fw->nwarn;
}

const char *
fw_warning(const struct fw *fw, size_t i)
{
	return i < fw->nwarn ? fw->warn[i] : NULL;
}

const char *
fw_reason_str(enum fw_reason r)
{
	switch (r) {
	case FW_OK:
		return "";
	case FW_BAD_REMOTE_IP:
		return "remote IP is not in remote certificate subnets";
	case FW_BAD_LOCAL_IP:
		return "local IP is not in list of handled local IPs";
	case FW_NO_RULE:
		return "no matching rule in firewall table";
	}
	return "unknown";
}

/* --- peers ------------------------------------------------------------- */

static int
cs_copy(struct cert_str *d, const char *s, size_t len)
{
	if ((d->s = malloc(len + 1)) == NULL)
		return VPN_ERR_NOMEM;
	if (len > 0)
		memcpy(d->s, s, len);
	d->s[len] = '\0';
	d->len = len;
	return 0;
}

void
fw_peer_clear(struct fw_peer *p)
{
	size_t i;

	if (p == NULL)
		return;
	free(p->name.s);
	for (i = 0; i < p->ngroups; i++)
		free(p->groups[i].s);
	free(p->groups);
	free(p->issuer.s);
	free(p->ca_name.s);
	free(p->remote);
	free(p->gbits);
	memset(p, 0, sizeof(*p));
}

int
fw_peer_init(struct fw_peer *p, const struct fw *fw, const struct cert *peer,
    const struct ca_pool *pool)
{
	const struct cert *ca = NULL;
	int e, ignored;

	memset(p, 0, sizeof(*p));
	if ((e = cs_copy(&p->name, peer->name.s, peer->name.len)) != 0 ||
	    (e = cs_copy(&p->issuer, "", 0)) != 0)
		goto out;
	if (peer->ngroups > 0) {
		if ((p->groups = calloc(peer->ngroups, sizeof(*p->groups))) ==
		    NULL) {
			e = VPN_ERR_NOMEM;
			goto out;
		}
		for (; p->ngroups < peer->ngroups; p->ngroups++)
			if ((e = cs_copy(&p->groups[p->ngroups],
			         peer->groups[p->ngroups].s,
			         peer->groups[p->ngroups].len)) != 0)
				goto out;
		qsort(p->groups, p->ngroups, sizeof(*p->groups), cs_cmp);
	}
	if (peer->issuer_len > 0) {
		free(p->issuer.s);
		p->issuer.s = NULL;
		if ((p->issuer.s = malloc(2 * peer->issuer_len + 1)) == NULL) {
			e = VPN_ERR_NOMEM;
			goto out;
		}
		hex_encode(peer->issuer, peer->issuer_len, p->issuer.s);
		p->issuer.len = 2 * peer->issuer_len;
	}
	if (pool != NULL &&
	    (ca = ca_pool_issuer(pool, peer, &ignored)) != NULL &&
	    (e = cs_copy(&p->ca_name, ca->name.s, ca->name.len)) != 0)
		goto out;
	if ((e = cert_ivs(peer, &p->remote, &p->nremote)) != 0)
		goto out;
	e = fw_peer_refresh(p, fw);
out:
	if (e != 0)
		fw_peer_clear(p);
	return e;
}

static uint32_t
sha_sel(const struct fw *fw, const struct fw_peer *p)
{
	uint32_t id;

	if (p->issuer.len == 0)
		return NONE; /* a rule's ca_sha is never "" */
	id = strtab_find(&fw->shas, p->issuer.s, p->issuer.len);
	return id == NONE ? NONE : 1 + 2 * id;
}

static uint32_t
name_sel(const struct fw *fw, const struct fw_peer *p)
{
	uint32_t id = strtab_find(&fw->names, p->ca_name.s, p->ca_name.len);

	return id == NONE ? NONE : 2 + 2 * id;
}

int
fw_peer_refresh(struct fw_peer *p, const struct fw *fw)
{
	uint64_t *nb;
	size_t i;
	uint32_t id;

	if (fw == NULL) {
		p->resolved = false;
		return 0;
	}
	if (p->resolved && p->tag == fw->tag)
		return 0;
	p->resolved = false;
	if (fw->gwords > p->gcap) {
		if ((nb = calloc(fw->gwords, 8)) == NULL)
			return VPN_ERR_NOMEM;
		free(p->gbits);
		p->gbits = nb;
		p->gcap = fw->gwords;
	}
	p->gwords = fw->gwords;
	if (p->gwords > 0)
		memset(p->gbits, 0, p->gwords * 8);
	for (i = 0; i < p->ngroups; i++) {
		id = strtab_find(&fw->groups, p->groups[i].s, p->groups[i].len);
		if (id != NONE)
			p->gbits[id / 64] |= UINT64_C(1) << id % 64;
	}
	p->host_id = strtab_find(&fw->hosts, p->name.s, p->name.len);
	p->sha_sel = sha_sel(fw, p);
	p->name_sel = name_sel(fw, p);
	p->tag = fw->tag;
	p->resolved = true;
	return 0;
}

/* --- matching ---------------------------------------------------------- */

/* The peer as seen by one table: ids, and whether its bitset fits. */
struct view {
	const struct fw *fw;
	const struct fw_peer *p;
	bool fast;
	uint32_t host, sha_sel, name_sel;
};

static void
view_init(struct view *v, const struct fw *fw, const struct fw_peer *p)
{
	v->fw = fw;
	v->p = p;
	v->fast = p->resolved && p->tag == fw->tag;
	if (v->fast) {
		v->host = p->host_id;
		v->sha_sel = p->sha_sel;
		v->name_sel = p->name_sel;
	} else {
		v->host = strtab_find(&fw->hosts, p->name.s, p->name.len);
		v->sha_sel = sha_sel(fw, p);
		v->name_sel = name_sel(fw, p);
	}
}

static bool
peer_has_group(const struct fw_peer *p, const struct cert_str *g)
{
	size_t lo = 0, hi = p->ngroups, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = str_cmp(g->s, g->len, p->groups[mid].s, p->groups[mid].len);
		if (c == 0)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/* Does the peer have any of the groups in `set`? */
static bool
groups_meet(const struct view *v, const uint64_t *set)
{
	const struct fw *fw = v->fw;
	size_t w;
	uint32_t id;

	if (v->fast) {
		for (w = 0; w < fw->gwords; w++)
			if ((set[w] & v->p->gbits[w]) != 0)
				return true;
		return false;
	}
	for (w = 0; w < v->p->ngroups; w++) {
		id = strtab_find(
		    &fw->groups, v->p->groups[w].s, v->p->groups[w].len);
		if (id != NONE && (set[id / 64] & UINT64_C(1) << id % 64) != 0)
			return true;
	}
	return false;
}

/* Does the peer have all of the groups in `set`? */
static bool
groups_subset(const struct view *v, const uint64_t *set)
{
	const struct fw *fw = v->fw;
	size_t w;
	uint64_t bits;
	unsigned b;

	if (v->fast) {
		for (w = 0; w < fw->gwords; w++)
			if ((set[w] & ~v->p->gbits[w]) != 0)
				return false;
		return true;
	}
	for (w = 0; w < fw->gwords; w++)
		for (bits = set[w]; bits != 0; bits &= bits - 1) {
			b = (unsigned)__builtin_ctzll(bits);
			if (!peer_has_group(v->p, &fw->groups.v[w * 64 + b]))
				return false;
		}
	return true;
}

static bool
u32_bsearch(const uint32_t *a, size_t n, uint32_t x)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (a[mid] == x)
			return true;
		if (a[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* FirewallRule.match */
static bool
rule_match(const struct view *v, const struct fw_rule *r, uint32_t rip)
{
	uint32_t i;

	if (r->any)
		return true;
	if (r->single != NULL && groups_meet(v, r->single))
		return true;
	for (i = 0; i < r->nmulti; i++)
		if (groups_subset(v, r->multi + (size_t)i * v->fw->gwords))
			return true;
	if (r->nhosts > 0 && v->host != NONE &&
	    u32_bsearch(r->hosts, r->nhosts, v->host))
		return true;
	return r->ncidr > 0 && iv_contains(r->cidr, r->ncidr, rip);
}

/* FirewallCA.match; local_cidr last, as firewallLocalCIDR.match */
static bool
leaf_match(
    const struct view *v, const struct fw_leaf *leaf, const struct fw_packet *p)
{
	const struct fw_casel *c;
	uint32_t i;

	for (i = 0; i < leaf->n; i++) {
		c = &leaf->v[i];
		if ((c->sel == SEL_ANY || c->sel == v->sha_sel ||
		        c->sel == v->name_sel) &&
		    rule_match(v, &c->r, p->remote_ip) &&
		    (c->local_any || (c->local.lo <= p->local_ip &&
		                         p->local_ip <= c->local.hi)))
			return true;
	}
	return false;
}

static inline const struct fw_leaf *
port_leaf(const struct fw_ports *pm, uint16_t port)
{
	const struct fw_bucket *b;

	if (pm->bucket == NULL)
		return NULL;
	b = &pm->bucket[port >> 8];
	return b->port != NULL ? b->port[port & 255] : b->uniform;
}

/* firewallPort.match */
static inline bool
ports_match(const struct view *v, const struct fw_ports *pm,
    const struct fw_packet *p, uint16_t port)
{
	const struct fw_leaf *leaf;

	if (!pm->used)
		return false;
	if (p->fragment)
		leaf = pm->frag;
	else if (port == PORT_ANY)
		leaf = NULL; /* port 0 is the `any` entry, tested below */
	else
		leaf = port_leaf(pm, port);
	if (leaf != NULL && leaf_match(v, leaf, p))
		return true;
	return pm->any != NULL && leaf_match(v, pm->any, p);
}

bool
fw_match_rules(const struct fw *fw, bool incoming, const struct fw_packet *p,
    const struct fw_peer *peer)
{
	const struct fw_table *t = &fw->dir[incoming];
	uint16_t port = incoming ? p->local_port : p->remote_port;
	struct view v;

	if (t->empty)
		return false;
	view_init(&v, fw, peer);
	if (ports_match(&v, &t->cls[CLS_ANY], p, port))
		return true;
	switch (p->proto) {
	case IPPKT_PROTO_TCP:
		return ports_match(&v, &t->cls[CLS_TCP], p, port);
	case IPPKT_PROTO_UDP:
		return ports_match(&v, &t->cls[CLS_UDP], p, port);
	case IPPKT_PROTO_ICMP:
		return ports_match(&v, &t->cls[CLS_ICMP], p, port);
	default:
		return false;
	}
}

enum fw_reason
fw_check_addrs(
    const struct fw *fw, const struct fw_packet *p, const struct fw_peer *peer)
{
	if (!iv_contains(peer->remote, peer->nremote, p->remote_ip))
		return FW_BAD_REMOTE_IP;
	if (!iv_contains(fw->local, fw->nlocal, p->local_ip))
		return FW_BAD_LOCAL_IP;
	return FW_OK;
}

enum fw_reason
fw_check(const struct fw *fw, bool incoming, const struct fw_packet *p,
    const struct fw_peer *peer)
{
	enum fw_reason r = fw_check_addrs(fw, p, peer);

	if (r != FW_OK)
		return r;
	if (!fw_match_rules(fw, incoming, p, peer))
		return FW_NO_RULE;
	return FW_OK;
}

bool
fw_match(const struct fw *fw, bool incoming, const struct fw_packet *p,
    const struct fw_peer *peer)
{
	return fw_check(fw, incoming, p, peer) == FW_OK;
}
