/* lib/allowlist.c: Nebula's CIDR -> bool allow lists (config.md 3). */
#include <arpa/inet.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowlist.h"
#include "config.h"
#include "err.h"
#include "ipaddr.h"
#include "wire.h"

#define NAME_LEN (CONFIG_PATH_LEN + 64) /* Go-style key names */

/* A rule as parsed, before sorting. */
struct rule {
	uint8_t net[16]; /* IPv4: bytes 0-3 */
	uint8_t bits;
	bool v6;
	bool allow;
	size_t seq; /* position in the file: the later wins */
	void *val;  /* allowranges: the inner list */
};

struct rule4 {
	uint32_t net, mask;
	bool allow;
};

struct rule6 {
	uint8_t net[16];
	uint8_t bits;
	bool allow;
};

struct name_rule {
	regex_t re;
	bool allow;
};

struct allowlist {
	struct rule4 *r4; /* most specific first */
	size_t n4;
	struct rule6 *r6;
	size_t n6;
	struct name_rule *names;
	size_t nnames;
};

struct range {
	uint32_t net, mask;
	struct allowlist *al;
};

struct allowranges {
	struct range *r; /* most specific first */
	size_t n;
};

/* --- messages ------------------------------------------------------- */

/*
 * Go's %T and %v for a YAML value decoded into interface{}.  lib/config
 * only shows a scalar's %v text, so the type of a scalar is guessed from
 * it (a quoted "12" passes for an int).
 */
static const char *
go_type(const struct config_node *n)
{
	const char *s, *p;

	switch (config_node_type(n)) {
	case CONFIG_NULL:
		return "<nil>";
	case CONFIG_SEQ:
		return "[]interface {}";
	case CONFIG_MAP:
		return "map[interface {}]interface {}";
	case CONFIG_SCALAR:
		break;
	}
	s = config_node_scalar(n);
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
		return "bool";
	p = s + (*s == '-');
	if (*p != '\0' && strspn(p, "0123456789") == strlen(p))
		return "int";
	return "string";
}

static const char *
go_value(const struct config_node *n)
{
	switch (config_node_type(n)) {
	case CONFIG_NULL:
		return "<nil>";
	case CONFIG_SEQ:
		return "[...]";
	case CONFIG_MAP:
		return "map[...]";
	case CONFIG_SCALAR:
		break;
	}
	return config_node_scalar(n);
}

/* --- parsing -------------------------------------------------------- */

static bool
is_mapped(const uint8_t ip[16])
{
	static const uint8_t mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return memcmp(ip, mapped, sizeof(mapped)) == 0;
}

static void
put4(struct rule *r, uint32_t a4, unsigned bits)
{
	memset(r->net, 0, sizeof(r->net));
	be32_put(r->net, a4);
	r->v6 = false;
	r->bits = (uint8_t)bits;
}

/*
 * Go's net.ParseCIDR (Go 1.19, which built Debian's 1.6.1), then
 * cidr.Tree6's placement of the network.  *maskv6 and *maskbits are the
 * mask's size and prefix length, which Nebula's default bookkeeping uses.
 */
static bool
parse_cidr(const char *s, struct rule *r, bool *maskv6, unsigned *maskbits)
{
	char host[64];
	const char *slash = strchr(s, '/'), *m;
	unsigned bits = 0, i;
	uint32_t a4;
	size_t hl;

	if (slash == NULL || (hl = (size_t)(slash - s)) >= sizeof(host))
		return false;
	memcpy(host, s, hl);
	host[hl] = '\0';
	/* Go's dtoi: decimal digits, leading zeros allowed, below 2^24. */
	for (m = slash + 1; *m >= '0' && *m <= '9'; m++) {
		bits = bits * 10 + (unsigned)(*m - '0');
		if (bits >= 0xffffff)
			return false;
	}
	if (m == slash + 1 || *m != '\0')
		return false;
	if (ip4_parse(host, &a4)) {
		if (bits > 32)
			return false;
		put4(r, a4 & ip4_prefix_mask(bits), bits);
		*maskv6 = false;
		*maskbits = bits;
		return true;
	}
	if (inet_pton(AF_INET6, host, r->net) != 1 || bits > 128)
		return false;
	for (i = 0; i < 16; i++) {
		if (bits <= i * 8)
			r->net[i] = 0;
		else if (bits < i * 8 + 8)
			r->net[i] &= (uint8_t)(0xff << (i * 8 + 8 - bits));
	}
	*maskv6 = true;
	*maskbits = bits;
	if (is_mapped(r->net)) {
		/*
		 * Tree6 files an IPv4-mapped network under IPv4, with the
		 * first 32 bits of the 128-bit mask: all ones here.
		 */
		put4(r, be32_get(r->net + 12), 32);
		return true;
	}
	r->v6 = true;
	r->bits = (uint8_t)bits;
	return true;
}

/* --- interface names ------------------------------------------------ */

/* ERE's special characters: escaped, they stay literal. */
#define ERE_SPECIAL ".[]()*+?{}|^$\\"

static bool
is_punct(char c)
{
	return c > ' ' && c < 0x7f && !(c >= '0' && c <= '9') &&
	       !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z');
}

/* A bounded string builder with a sticky overflow flag. */
struct sb {
	char *p;
	size_t cap, len;
	bool bad;
};

static void
sb_put(struct sb *b, const char *s, size_t n)
{
	if (b->bad || n >= b->cap - b->len) {
		b->bad = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct sb *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void
sb_ch(struct sb *b, char c)
{
	sb_put(b, &c, 1);
}

/*
 * Go RE2 syntax -> POSIX ERE, for what the two share (lib/allowlist.h).
 * OUT gets "^" RE "$"; false when RE uses what ERE cannot express.
 */
static bool
re2_to_ere(const char *re, char *out, size_t cap)
{
	struct sb b = {out, cap, 0, cap == 0};
	bool in_class = false;
	const char *p, *q;
	char c;

	sb_str(&b, "^");
	for (p = re; *p != '\0'; p++) {
		c = *p;
		if (in_class && c == '[' && p[1] == ':') { /* [:alpha:] */
			if ((q = strstr(p + 2, ":]")) == NULL)
				return false;
			sb_put(&b, p, (size_t)(q + 2 - p));
			p = q + 1;
		} else if (in_class && c == '\\') {
			c = *++p;
			if (c == 'd')
				sb_str(&b, "0-9");
			else if (c == 's')
				sb_str(&b, " \t\n\r\f\v");
			else if (c == 'w')
				sb_str(&b, "0-9A-Za-z_");
			else if (is_punct(c) && strchr("]\\^-[", c) == NULL)
				sb_ch(&b, c); /* literal in a POSIX class */
			else
				return false;
		} else if (in_class) {
			if (c == ']')
				in_class = false;
			sb_ch(&b, c);
		} else if (c == '\\') {
			c = *++p;
			if (c == 'd') {
				sb_str(&b, "[0-9]");
			} else if (c == 'D') {
				sb_str(&b, "[^0-9]");
			} else if (c != '\0' &&
			           (strchr("wWsSbB", c) != NULL ||
			               strchr(ERE_SPECIAL, c) != NULL)) {
				sb_ch(&b, '\\');
				sb_ch(&b, c);
			} else if (is_punct(c)) {
				sb_ch(&b, c); /* \< is an anchor in GNU ERE */
			} else {
				return false; /* \1 \pN \Q \x \A, or a lone \ */
			}
		} else if (c == '(' && p[1] == '?') {
			if (p[2] != ':')
				return false; /* flags, named groups */
			sb_ch(&b, '(');
			p += 2;
		} else {
			sb_ch(&b, c);
			if (c == '[') {
				in_class = true;
				if (p[1] == '^')
					sb_ch(&b, *++p);
				if (p[1] == ']')
					sb_ch(&b, *++p);
			}
		}
	}
	sb_str(&b, "$");
	return !in_class && !b.bad;
}

static int
build_names(struct allowlist *al, const struct config_node *map,
    const char *goname, const char *cpath, struct config_err *err)
{
	char kp[CONFIG_PATH_LEN], *ere = NULL, msg[128];
	const struct config_node *k, *v;
	const char *name;
	size_t i, n, cap;
	bool allow;
	int rc;

	if (config_node_type(map) != CONFIG_MAP)
		return config_node_err(err, map, cpath, VPN_ERR_INVAL,
		    "config `%s.interfaces` is invalid (type %s): %s", goname,
		    go_type(map), go_value(map));
	for (i = 0; i < al->nnames; i++) /* a second `interfaces' wins */
		regfree(&al->names[i].re);
	free(al->names);
	al->names = NULL;
	al->nnames = 0;
	n = config_node_len(map);
	if (n == 0)
		return 0;
	if ((al->names = calloc(n, sizeof(*al->names))) == NULL)
		return VPN_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		k = config_node_keynode(map, i);
		v = config_node_value(map, i);
		name = config_node_key(map, i);
		config_path_key(kp, sizeof(kp), cpath, name);
		if (strcmp(go_type(k), "string") != 0)
			return config_node_err(err, k, kp, VPN_ERR_INVAL,
			    "config `%s.interfaces` has invalid key (type %s): "
			    "%s",
			    goname, go_type(k), go_value(k));
		if (strcmp(go_type(v), "bool") != 0)
			return config_node_err(err, v, kp, VPN_ERR_INVAL,
			    "config `%s.interfaces` has invalid value (type "
			    "%s): %s",
			    goname, go_type(v), go_value(v));
		allow = strcmp(config_node_scalar(v), "true") == 0;
		cap = strlen(name) * 5 + 3; /* [\w]: 2 -> 10 bytes */
		if ((ere = malloc(cap)) == NULL)
			return VPN_ERR_NOMEM;
		if (!re2_to_ere(name, ere, cap)) {
			free(ere);
			return config_node_err(err, k, kp, VPN_ERR_INVAL,
			    "config `%s.interfaces` has invalid key: %s: "
			    "unsupported regular expression syntax",
			    goname, name);
		}
		rc = regcomp(&al->names[i].re, ere, REG_EXTENDED | REG_NOSUB);
		free(ere);
		if (rc != 0) {
			regerror(rc, NULL, msg, sizeof(msg));
			return config_node_err(err, k, kp, VPN_ERR_INVAL,
			    "config `%s.interfaces` has invalid key: %s: %s",
			    goname, name, msg);
		}
		al->names[i].allow = allow;
		al->nnames = i + 1;
		if (i > 0 && allow != al->names[0].allow)
			return config_node_err(err, v, kp, VPN_ERR_INVAL,
			    "config `%s.interfaces` values must all be the "
			    "same true/false value",
			    goname);
	}
	return 0;
}

/* --- building ------------------------------------------------------- */

/* Most specific first; one network's rules together, the later first. */
static int
rule_cmp(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;
	int c;

	if (x->bits != y->bits)
		return x->bits > y->bits ? -1 : 1;
	if ((c = memcmp(x->net, y->net, sizeof(x->net))) != 0)
		return c;
	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

/* Sort and drop the shadowed duplicates; returns the new count. */
static size_t
rules_sort(struct rule *r, size_t n)
{
	size_t i, k = 0;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof(*r), rule_cmp);
	for (i = 1; i < n; i++) {
		if (r[i].bits == r[k].bits &&
		    memcmp(r[i].net, r[k].net, sizeof(r[i].net)) == 0)
			continue; /* shadowed by the later r[k] */
		r[++k] = r[i];
	}
	return k + 1;
}

struct family {
	bool any, mixed, first, defset;
};

static void
family_add(struct family *f, bool allow, unsigned bits)
{
	if (!f->any)
		f->first = allow;
	else if (allow != f->first)
		f->mixed = true;
	f->any = true;
	if (bits == 0)
		f->defset = true;
}

void
allowlist_free(struct allowlist *al)
{
	size_t i;

	if (al == NULL)
		return;
	for (i = 0; i < al->nnames; i++)
		regfree(&al->names[i].re);
	free(al->names);
	free(al->r4);
	free(al->r6);
	free(al);
}

/* Add a family's implicit default, or fail on mixed rules. */
static int
family_default(struct rule *rules, size_t *nr, const struct family *f, bool v6,
    const struct config_node *map, const char *goname, const char *cpath,
    struct config_err *err)
{
	struct rule *r;

	if (f->defset)
		return 0;
	if (f->mixed)
		return config_node_err(err, map, cpath, VPN_ERR_INVAL,
		    "config `%s` contains both true and false rules, but no "
		    "default set for %s",
		    goname, v6 ? "::/0" : "0.0.0.0/0");
	r = &rules[(*nr)++];
	memset(r, 0, sizeof(*r));
	r->v6 = v6;
	r->allow = !f->first; /* no rules: first is false, so allow */
	r->seq = SIZE_MAX;    /* Nebula adds it last */
	return 0;
}

/* Build one CIDR -> bool map (Nebula's newAllowList). */
static int
build_list(const struct config_node *map, const char *goname, const char *cpath,
    bool local, struct allowlist **out, struct config_err *err)
{
	struct allowlist *al = NULL;
	struct rule *r4 = NULL, *r6 = NULL, r;
	struct family f4 = {0}, f6 = {0};
	const struct config_node *k, *v;
	char kp[CONFIG_PATH_LEN];
	size_t i, n, n4 = 0, n6 = 0;
	unsigned bits;
	const char *key;
	bool maskv6;
	int e = 0;

	*out = NULL;
	if (config_node_type(map) != CONFIG_MAP)
		return config_node_err(err, map, cpath, VPN_ERR_INVAL,
		    "config `%s` has invalid type: %s", goname, go_type(map));
	n = config_node_len(map);
	if ((al = calloc(1, sizeof(*al))) == NULL ||
	    (r4 = calloc(n + 1, sizeof(*r4))) == NULL ||
	    (r6 = calloc(n + 1, sizeof(*r6))) == NULL) {
		e = VPN_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		k = config_node_keynode(map, i);
		v = config_node_value(map, i);
		key = config_node_key(map, i);
		config_path_key(kp, sizeof(kp), cpath, key);
		if (strcmp(go_type(k), "string") != 0) {
			e = config_node_err(err, k, kp, VPN_ERR_INVAL,
			    "config `%s` has invalid key (type %s): %s", goname,
			    go_type(k), go_value(k));
			goto out;
		}
		if (local && strcmp(key, "interfaces") == 0) {
			if ((e = build_names(al, v, goname, kp, err)) != 0)
				goto out;
			continue;
		}
		if (strcmp(go_type(v), "bool") != 0) {
			e = config_node_err(err, v, kp, VPN_ERR_INVAL,
			    "config `%s` has invalid value (type %s): %s",
			    goname, go_type(v), go_value(v));
			goto out;
		}
		if (!parse_cidr(key, &r, &maskv6, &bits)) {
			e = config_node_err(err, k, kp, VPN_ERR_INVAL,
			    "config `%s` has invalid CIDR: %s", goname, key);
			goto out;
		}
		r.allow = strcmp(config_node_scalar(v), "true") == 0;
		r.seq = i;
		r.val = NULL;
		/* Counted by mask size, filed by Tree6's placement. */
		family_add(maskv6 ? &f6 : &f4, r.allow, bits);
		if (r.v6)
			r6[n6++] = r;
		else
			r4[n4++] = r;
	}
	if ((e = family_default(
	         r4, &n4, &f4, false, map, goname, cpath, err)) != 0 ||
	    (e = family_default(r6, &n6, &f6, true, map, goname, cpath, err)) !=
	        0)
		goto out;
	n4 = rules_sort(r4, n4);
	n6 = rules_sort(r6, n6);
	if ((al->r4 = calloc(n4, sizeof(*al->r4))) == NULL ||
	    (al->r6 = calloc(n6, sizeof(*al->r6))) == NULL) {
		e = VPN_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n4; i++) {
		al->r4[i].net = be32_get(r4[i].net);
		al->r4[i].mask = ip4_prefix_mask(r4[i].bits);
		al->r4[i].allow = r4[i].allow;
	}
	for (i = 0; i < n6; i++) {
		memcpy(al->r6[i].net, r6[i].net, sizeof(al->r6[i].net));
		al->r6[i].bits = r6[i].bits;
		al->r6[i].allow = r6[i].allow;
	}
	al->n4 = n4;
	al->n6 = n6;
out:
	free(r4);
	free(r6);
	if (e != 0) {
		allowlist_free(al);
		return e;
	}
	*out = al;
	return 0;
}

int
allowlist_build(const struct config_node *map, const char *keypath, bool local,
    struct allowlist **out, struct config_err *err)
{
	*out = NULL;
	if (map == NULL || config_node_type(map) == CONFIG_NULL)
		return 0; /* absent: Nebula's nil list allows everything */
	return build_list(map, keypath, keypath, local, out, err);
}

size_t
allowlist_nrules(const struct allowlist *al)
{
	return al == NULL ? 0 : al->n4 + al->n6 + al->nnames;
}

/* --- lookups -------------------------------------------------------- */

bool
allowlist_allow4(const struct allowlist *al, uint32_t ip)
{
	size_t i;

	if (al == NULL)
		return true;
	for (i = 0; i < al->n4; i++)
		if ((ip & al->r4[i].mask) == al->r4[i].net)
			return al->r4[i].allow;
	return true; /* not reached: there is always a /0 */
}

static bool
prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	uint8_t m;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	m = (uint8_t)(0xff << (8 - rest));
	return (a[full] & m) == (b[full] & m);
}

bool
allowlist_allow6(const struct allowlist *al, const uint8_t ip[16])
{
	size_t i;

	if (al == NULL)
		return true;
	for (i = 0; i < al->n6; i++)
		if (prefix_eq(ip, al->r6[i].net, al->r6[i].bits))
			return al->r6[i].allow;
	return true; /* not reached */
}

bool
allowlist_allow(const struct allowlist *al, const uint8_t ip[16])
{
	if (is_mapped(ip))
		return allowlist_allow4(al, be32_get(ip + 12));
	return allowlist_allow6(al, ip);
}

bool
allowlist_allow_name(const struct allowlist *al, const char *ifname)
{
	size_t i;

	if (al == NULL || al->nnames == 0)
		return true;
	for (i = 0; i < al->nnames; i++)
		if (regexec(&al->names[i].re, ifname, 0, NULL, 0) == 0)
			return al->names[i].allow;
	return !al->names[0].allow;
}

/* --- remote_allow_ranges -------------------------------------------- */

void
allowranges_free(struct allowranges *ar)
{
	size_t i;

	if (ar == NULL)
		return;
	for (i = 0; i < ar->n; i++)
		allowlist_free(ar->r[i].al);
	free(ar->r);
	free(ar);
}

int
allowranges_build(const struct config_node *map, const char *keypath,
    struct allowranges **out, struct config_err *err)
{
	struct allowranges *ar = NULL;
	struct allowlist *al = NULL;
	struct rule *rules = NULL, r;
	const struct config_node *k, *v;
	char kp[CONFIG_PATH_LEN], goname[NAME_LEN];
	size_t i, n, nr = 0, kept;
	const char *key;
	unsigned bits;
	bool maskv6;
	int e = 0;

	*out = NULL;
	if (map == NULL || config_node_type(map) == CONFIG_NULL)
		return 0;
	if (config_node_type(map) != CONFIG_MAP)
		return config_node_err(err, map, keypath, VPN_ERR_INVAL,
		    "config `%s` has invalid type: %s", keypath, go_type(map));
	n = config_node_len(map);
	if ((ar = calloc(1, sizeof(*ar))) == NULL ||
	    (rules = calloc(n + 1, sizeof(*rules))) == NULL) {
		e = VPN_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		k = config_node_keynode(map, i);
		v = config_node_value(map, i);
		key = config_node_key(map, i);
		config_path_key(kp, sizeof(kp), keypath, key);
		if (strcmp(go_type(k), "string") != 0) {
			e = config_node_err(err, k, kp, VPN_ERR_INVAL,
			    "config `%s` has invalid key (type %s): %s",
			    keypath, go_type(k), go_value(k));
			goto out;
		}
		/* Nebula checks the inner list before the key's CIDR. */
		snprintf(goname, sizeof(goname), "%s.%s", keypath, key);
		if ((e = build_list(v, goname, kp, false, &al, err)) != 0)
			goto out;
		if (!parse_cidr(key, &r, &maskv6, &bits)) {
			e = config_node_err(err, k, kp, VPN_ERR_INVAL,
			    "config `%s` has invalid CIDR: %s", keypath, key);
			goto out;
		}
		if (r.v6) { /* filed under IPv6: no VPN IP ever finds it */
			allowlist_free(al);
			al = NULL;
			continue;
		}
		r.seq = i;
		r.val = al;
		al = NULL;
		rules[nr++] = r;
	}
	/* rules_sort drops shadowed duplicates: free their lists first. */
	qsort(rules, nr, sizeof(*rules), rule_cmp);
	for (i = 1, kept = 0; i < nr; i++) {
		if (rules[i].bits == rules[kept].bits &&
		    memcmp(rules[i].net, rules[kept].net, 4) == 0) {
			allowlist_free(rules[i].val);
			rules[i].val = NULL;
		} else {
			kept = i;
		}
	}
	nr = rules_sort(rules, nr);
	if (nr > 0 && (ar->r = calloc(nr, sizeof(*ar->r))) == NULL) {
		e = VPN_ERR_NOMEM; /* out: frees the nr lists */
		goto out;
	}
	for (i = 0; i < nr; i++) {
		ar->r[i].net = be32_get(rules[i].net);
		ar->r[i].mask = ip4_prefix_mask(rules[i].bits);
		ar->r[i].al = rules[i].val;
	}
	ar->n = nr;
	nr = 0;
out:
	allowlist_free(al);
	if (e != 0) {
		for (i = 0; i < nr; i++)
			allowlist_free(rules[i].val);
		allowranges_free(ar);
	} else {
		*out = ar;
	}
	free(rules);
	return e;
}

const struct allowlist *
allowranges_find(const struct allowranges *ar, uint32_t vpn_ip)
{
	size_t i;

	if (ar == NULL)
		return NULL;
	for (i = 0; i < ar->n; i++)
		if ((vpn_ip & ar->r[i].mask) == ar->r[i].net)
			return ar->r[i].al;
	return NULL;
}

bool
allowlist_remote_allow4(const struct allowlist *global,
    const struct allowranges *ar, uint32_t vpn_ip, uint32_t ip)
{
	return allowlist_allow4(allowranges_find(ar, vpn_ip), ip) &&
	       allowlist_allow4(global, ip);
}

bool
allowlist_remote_allow6(const struct allowlist *global,
    const struct allowranges *ar, uint32_t vpn_ip, const uint8_t ip[16])
{
	return allowlist_allow6(allowranges_find(ar, vpn_ip), ip) &&
	       allowlist_allow6(global, ip);
}

bool
allowlist_remote_allow(const struct allowlist *global,
    const struct allowranges *ar, uint32_t vpn_ip, const uint8_t ip[16])
{
	return allowlist_allow(allowranges_find(ar, vpn_ip), ip) &&
	       allowlist_allow(global, ip);
}
