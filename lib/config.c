/*
 * lib/config.c: YAML configuration loading (libyaml), Nebula's merge rules,
 * strict getters and a YAML dump.  The only file that includes <yaml.h>.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "config.h"
#include "err.h"
#include "gotime.h"
#include "sbuf.h"

/* What a scalar resolved to, as yaml.v2 decodes into interface{}. */
enum vk {
	VK_NULL,
	VK_STR,
	VK_INT,   /* Go int */
	VK_UINT,  /* Go uint64: only above INT64_MAX */
	VK_FLOAT, /* Go float64 */
	VK_BOOL,
	VK_SEQ,
	VK_MAP,
};

struct config_node {
	const char *file;
	const char *text; /* scalars: the %v text */
	const char *raw;  /* scalars: as written */
	size_t textlen;
	struct config_node **kids; /* SEQ: items; MAP: key, value, key, ... */
	size_t n;                  /* items or pairs */
	size_t nodes;              /* expanded node count, itself included */
	size_t bytes;              /* expanded scalar text bytes */
	union {
		int64_t i;
		uint64_t u;
		double f;
		bool b;
	} v;
	int line;
	int height; /* nested collections, this one included; scalars 0 */
	unsigned char kind; /* enum vk */
};

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t mem[];
};

struct config {
	struct chunk *arena;
	struct config_node *root;
	const char **files; /* malloc'd */
	size_t nfiles, capfiles;
};

#define MERGE_TAG "tag:yaml.org,2002:merge"
#define TAG_PREFIX "tag:yaml.org,2002:"

/* --- arena ------------------------------------------------------------ */

static void *
arena_alloc(struct config *cfg, size_t size)
{
	struct chunk *c = cfg->arena;
	size_t a = sizeof(max_align_t), cap;
	void *p;

	if (size > SIZE_MAX / 2)
		return NULL;
	size = (size + a - 1) / a * a;
	if (c == NULL || size > c->cap - c->used) {
		cap = c != NULL && c->cap < (1u << 20) ? c->cap * 2 : 4096;
		if (cap < size)
			cap = size;
		if ((c = calloc(1, sizeof(*c) + cap)) == NULL)
			return NULL;
		c->cap = cap;
		c->next = cfg->arena;
		cfg->arena = c;
	}
	p = (unsigned char *)c->mem + c->used;
	c->used += size;
	return p;
}

static char *
arena_strndup(struct config *cfg, const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX || (p = arena_alloc(cfg, len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void
config_free(struct config *cfg)
{
	struct chunk *c, *next;

	if (cfg == NULL)
		return;
	for (c = cfg->arena; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(cfg->files);
	free(cfg);
}

/* --- errors ----------------------------------------------------------- */

/* strlcpy, quietly truncating. */
static void
copystr(char *dst, size_t len, const char *src)
{
	size_t n;

	if (len == 0)
		return;
	if (src == NULL)
		src = "";
	n = strnlen(src, len - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int verr(struct config_err *err, const char *file, int line,
    const char *key, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

static int
verr(struct config_err *err, const char *file, int line, const char *key,
    int code, const char *fmt, va_list ap)
{
	if (err == NULL)
		return code;
	copystr(err->file, sizeof(err->file), file);
	copystr(err->key, sizeof(err->key), key);
	err->line = line;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return code;
}

static int seterr(struct config_err *err, const char *file, int line,
    const char *key, int code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int
seterr(struct config_err *err, const char *file, int line, const char *key,
    int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(err, file, line, key, code, fmt, ap);
	va_end(ap);
	return code;
}

int
config_node_err(struct config_err *err, const struct config_node *n,
    const char *keypath, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(err, n != NULL ? n->file : NULL, n != NULL ? n->line : 0, keypath,
	    code, fmt, ap);
	va_end(ap);
	return code;
}

/* S as a Go-like quoted string for messages, cut after 60 bytes. */
static void
quote(char *buf, size_t len, const char *s)
{
	struct sbuf b;
	size_t i;
	unsigned char c;

	sbuf_init(&b);
	sbuf_add(&b, "\"", 1);
	for (i = 0; s[i] != '\0' && i < 60; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			sbuf_printf(&b, "\\%c", c);
		else if (c == '\n')
			sbuf_puts(&b, "\\n");
		else if (c == '\t')
			sbuf_puts(&b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			sbuf_printf(&b, "\\x%02x", c);
		else
			sbuf_add(&b, s + i, 1);
	}
	if (s[i] != '\0')
		sbuf_puts(&b, "...");
	sbuf_add(&b, "\"", 1);
	copystr(buf, len, sbuf_ok(&b) ? b.s : "\"...\"");
	sbuf_free(&b);
}

static const char *
kind_name(const struct config_node *n)
{
	switch (n->kind) {
	case VK_NULL:
		return "null";
	case VK_STR:
		return "a string";
	case VK_INT:
	case VK_UINT:
		return "an integer";
	case VK_FLOAT:
		return "a number";
	case VK_BOOL:
		return "a boolean";
	case VK_SEQ:
		return "a list";
	default:
		return "a map";
	}
}

/* "\"maybe\"" for scalars, "a list" / "a map" / "null" otherwise. */
static void
got(char *buf, size_t len, const struct config_node *n)
{
	if (n->kind == VK_SEQ || n->kind == VK_MAP || n->kind == VK_NULL)
		copystr(buf, len, kind_name(n));
	else
		quote(buf, len, n->raw);
}

void
config_err_format(const struct config_err *err, char *buf, size_t len)
{
	struct sbuf b;

	if (len == 0)
		return;
	sbuf_init(&b);
	if (err->file[0] != '\0' && err->line > 0)
		sbuf_printf(&b, "%s:%d: ", err->file, err->line);
	else if (err->file[0] != '\0')
		sbuf_printf(&b, "%s: ", err->file);
	else if (err->line > 0)
		sbuf_printf(&b, "line %d: ", err->line);
	if (err->key[0] != '\0')
		sbuf_printf(&b, "%s: ", err->key);
	sbuf_puts(&b, err->msg);
	copystr(buf, len, sbuf_ok(&b) && b.s != NULL ? b.s : err->msg);
	sbuf_free(&b);
}

/* --- key paths ---------------------------------------------------------- */

static bool
key_needs_quotes(const char *key)
{
	return key[0] == '\0' || strpbrk(key, ".[]\"") != NULL;
}

void
config_path_key(char *buf, size_t len, const char *parent, const char *key)
{
	char q[128];
	const char *sep = parent != NULL && parent[0] != '\0' ? "." : "";

	if (len == 0)
		return;
	if (parent == NULL)
		parent = "";
	if (key_needs_quotes(key)) {
		quote(q, sizeof(q), key);
		snprintf(buf, len, "%s[%s]", parent, q);
	} else {
		snprintf(buf, len, "%s%s%s", parent, sep, key);
	}
}

void
config_path_index(char *buf, size_t len, const char *parent, size_t i)
{
	if (len == 0)
		return;
	snprintf(buf, len, "%s[%zu]", parent != NULL ? parent : "", i);
}

/* --- Go's view of scalars ------------------------------------------------ */

/* Go strconv.ParseUint(s, base, 64); base 0 means "by prefix". */
static int
go_parse_uint(const char *s, int base, uint64_t *out)
{
	uint64_t n = 0, cutoff, d;
	int c;

	if (*s == '\0')
		return VPN_ERR_INVAL;
	if (base == 0) {
		base = 10;
		if (s[0] == '0') {
			c = s[1] | 0x20;
			if (strlen(s) >= 3 &&
			    (c == 'b' || c == 'o' || c == 'x')) {
				base = c == 'b' ? 2 : c == 'o' ? 8 : 16;
				s += 2;
			} else {
				base = 8;
				s++;
			}
		}
	}
	cutoff = UINT64_MAX / (uint64_t)base + 1;
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c >= '0' && c <= '9')
			d = (uint64_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
			d = (uint64_t)((c | 0x20) - 'a' + 10);
		else
			return VPN_ERR_INVAL;
		if (d >= (uint64_t)base)
			return VPN_ERR_INVAL;
		if (n >= cutoff)
			return VPN_ERR_RANGE;
		n *= (uint64_t)base;
		if (n + d < n)
			return VPN_ERR_RANGE;
		n += d;
	}
	*out = n;
	return 0;
}

/* Go strconv.ParseInt(s, base, 64). */
static int
go_parse_int(const char *s, int base, int64_t *out)
{
	uint64_t u;
	bool neg = false;
	int r;

	if (*s == '\0')
		return VPN_ERR_INVAL;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if ((r = go_parse_uint(s, base, &u)) != 0)
		return r;
	if ((!neg && u > (uint64_t)INT64_MAX) ||
	    (neg && u > (uint64_t)INT64_MAX + 1))
		return VPN_ERR_RANGE;
	*out = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}

static bool
isdig(int c)
{
	return c >= '0' && c <= '9';
}

/* yaml.v2's yamlStyleFloat:
 * ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool
yaml_style_float(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	if (*s == '.') {
		if (!isdig(*++s))
			return false;
		while (isdig(*s))
			s++;
	} else {
		if (!isdig(*s))
			return false;
		while (isdig(*s))
			s++;
		if (*s == '.')
			for (s++; isdig(*s); s++)
				;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdig(*s))
			return false;
		while (isdig(*s))
			s++;
	}
	return *s == '\0';
}

/* Go strconv.ParseFloat on text already known to be decimal: no ±Inf. */
static bool
parse_finite(const char *s, double *f)
{
	*f = strtod(s, NULL);
	return !isinf(*f);
}

/* Go's %v of a float64 (strconv 'g' with the shortest precision). */
static void
go_float(double f, char *buf, size_t len)
{
	char tmp[48], digits[24], *p;
	int prec, exp, nd = 0, dp, i;
	bool neg;
	struct sbuf b;

	if (isnan(f) || isinf(f) || f == 0) {
		copystr(buf, len,
		    isnan(f)     ? "NaN"
		    : isinf(f)   ? (f > 0 ? "+Inf" : "-Inf")
		    : signbit(f) ? "-0"
		                 : "0");
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, f);
		if (strtod(tmp, NULL) == f)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, f);
	neg = tmp[0] == '-';
	for (p = tmp + neg; *p != 'e' && *p != '\0'; p++)
		if (isdig(*p) && nd < (int)sizeof(digits) - 1)
			digits[nd++] = *p;
	exp = *p == 'e' ? atoi(p + 1) : 0;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	dp = exp + 1;
	sbuf_init(&b);
	if (neg)
		sbuf_add(&b, "-", 1);
	if (exp < -4 || exp >= 6) {
		sbuf_add(&b, digits, 1);
		if (nd > 1) {
			sbuf_add(&b, ".", 1);
			sbuf_add(&b, digits + 1, (size_t)nd - 1);
		}
		sbuf_printf(
		    &b, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	} else if (dp <= 0) {
		sbuf_add(&b, "0.", 2);
		for (i = dp; i < 0; i++)
			sbuf_add(&b, "0", 1);
		sbuf_add(&b, digits, (size_t)nd);
	} else {
		for (i = 0; i < dp; i++)
			sbuf_add(&b, i < nd ? digits + i : "0", 1);
		if (nd > dp) {
			sbuf_add(&b, ".", 1);
			sbuf_add(&b, digits + dp, (size_t)(nd - dp));
		}
	}
	copystr(buf, len, sbuf_ok(&b) ? b.s : "0");
	sbuf_free(&b);
}

static const struct {
	const char *s;
	unsigned char kind;
	signed char v; /* bool value; float: 0 NaN, 1 +Inf, -1 -Inf */
} resolve_map[] = {
    {"y", VK_BOOL, 1},
    {"Y", VK_BOOL, 1},
    {"yes", VK_BOOL, 1},
    {"Yes", VK_BOOL, 1},
    {"YES", VK_BOOL, 1},
    {"true", VK_BOOL, 1},
    {"True", VK_BOOL, 1},
    {"TRUE", VK_BOOL, 1},
    {"on", VK_BOOL, 1},
    {"On", VK_BOOL, 1},
    {"ON", VK_BOOL, 1},
    {"n", VK_BOOL, 0},
    {"N", VK_BOOL, 0},
    {"no", VK_BOOL, 0},
    {"No", VK_BOOL, 0},
    {"NO", VK_BOOL, 0},
    {"false", VK_BOOL, 0},
    {"False", VK_BOOL, 0},
    {"FALSE", VK_BOOL, 0},
    {"off", VK_BOOL, 0},
    {"Off", VK_BOOL, 0},
    {"OFF", VK_BOOL, 0},
    {"", VK_NULL, 0},
    {"~", VK_NULL, 0},
    {"null", VK_NULL, 0},
    {"Null", VK_NULL, 0},
    {"NULL", VK_NULL, 0},
    {".nan", VK_FLOAT, 0},
    {".NaN", VK_FLOAT, 0},
    {".NAN", VK_FLOAT, 0},
    {".inf", VK_FLOAT, 1},
    {".Inf", VK_FLOAT, 1},
    {".INF", VK_FLOAT, 1},
    {"+.inf", VK_FLOAT, 1},
    {"+.Inf", VK_FLOAT, 1},
    {"+.INF", VK_FLOAT, 1},
    {"-.inf", VK_FLOAT, -1},
    {"-.Inf", VK_FLOAT, -1},
    {"-.INF", VK_FLOAT, -1},
};

struct resolved {
	unsigned char kind;
	int64_t i;
	uint64_t u;
	double f;
	bool b;
};

/*
 * yaml.v2's resolve() for an untagged plain scalar (and for the value of
 * a !!bool/!!int/!!float/!!null tag).  Timestamps stay strings when
 * decoded into interface{}, so they need no case of their own.
 */
static void
resolve_plain(const char *s, struct resolved *r)
{
	char *plain;
	size_t i, j;
	int hint = 0;
	unsigned char c = (unsigned char)s[0];

	memset(r, 0, sizeof(*r));
	r->kind = VK_STR;
	if (c == '\0')
		hint = 'N';
	else if (c == '+' || c == '-')
		hint = 'S';
	else if (isdig(c))
		hint = 'D';
	else if (strchr("yYnNtTfFoO~", c) != NULL)
		hint = 'M';
	else if (c == '.')
		hint = '.';
	if (hint == 0)
		return;
	for (i = 0; i < sizeof(resolve_map) / sizeof(resolve_map[0]); i++) {
		if (strcmp(resolve_map[i].s, s) != 0)
			continue;
		r->kind = resolve_map[i].kind;
		r->b = resolve_map[i].v != 0;
		r->f = resolve_map[i].v == 0  ? NAN
		       : resolve_map[i].v > 0 ? INFINITY
		                              : -INFINITY;
		return;
	}
	if (hint == '.') {
		if (yaml_style_float(s) && parse_finite(s, &r->f))
			r->kind = VK_FLOAT;
		return;
	}
	if (hint != 'D' && hint != 'S')
		return;
	if ((plain = malloc(strlen(s) + 1)) == NULL)
		return; /* a string then; harmless */
	for (i = j = 0; s[i] != '\0'; i++)
		if (s[i] != '_')
			plain[j++] = s[i];
	plain[j] = '\0';
	if (go_parse_int(plain, 0, &r->i) == 0)
		r->kind = VK_INT;
	else if (go_parse_uint(plain, 0, &r->u) == 0)
		r->kind = VK_UINT;
	else if (yaml_style_float(plain) && parse_finite(plain, &r->f))
		r->kind = VK_FLOAT;
	free(plain);
}

/* --- small hash table of indices ------------------------------------ */

struct htab {
	struct hslot {
		uint64_t h;
		size_t idx1; /* index + 1; 0: empty */
	} * s;
	size_t cap, n;
};

static uint64_t
fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static void
htab_free(struct htab *t)
{
	free(t->s);
	memset(t, 0, sizeof(*t));
}

/*
 * Find H: eq(ctx, idx) decides.  Returns the matching index, or SIZE_MAX
 * with *slot pointing at the empty slot where it would go.
 */
static size_t
htab_find(struct htab *t, uint64_t h, bool (*eq)(const void *, size_t),
    const void *ctx, struct hslot **slot)
{
	size_t i;

	*slot = NULL;
	if (t->cap == 0)
		return SIZE_MAX;
	for (i = (size_t)h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (t->s[i].idx1 == 0) {
			*slot = &t->s[i];
			return SIZE_MAX;
		}
		if (t->s[i].h == h && eq(ctx, t->s[i].idx1 - 1)) {
			*slot = &t->s[i];
			return t->s[i].idx1 - 1;
		}
	}
}

/* Make room for one more entry (before htab_find). */
static int
htab_grow(struct htab *t)
{
	struct hslot *ns;
	size_t cap, i, j;

	if (t->n < t->cap / 2)
		return 0;
	cap = t->cap != 0 ? t->cap * 2 : 16;
	if (cap > SIZE_MAX / sizeof(*ns) ||
	    (ns = calloc(cap, sizeof(*ns))) == NULL)
		return VPN_ERR_NOMEM;
	for (i = 0; i < t->cap; i++) {
		if (t->s[i].idx1 == 0)
			continue;
		for (j = (size_t)t->s[i].h & (cap - 1); ns[j].idx1 != 0;
		     j = (j + 1) & (cap - 1))
			;
		ns[j] = t->s[i];
	}
	free(t->s);
	t->s = ns;
	t->cap = cap;
	return 0;
}

/* Go map-key identity of scalar nodes: same dynamic type, same value. */
static uint64_t
key_hash(const struct config_node *k)
{
	uint64_t h = fnv(0xcbf29ce484222325ULL, &k->kind, 1);
	double f;

	if (k->kind == VK_FLOAT) {
		f = k->v.f == 0 ? 0 : k->v.f;
		return fnv(h, &f, sizeof(f));
	}
	if (k->kind == VK_NULL)
		return h;
	return fnv(h, k->text, k->textlen);
}

static bool
key_eq(const struct config_node *a, const struct config_node *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == VK_NULL)
		return true;
	if (a->kind == VK_FLOAT)
		return a->v.f == b->v.f;
	return a->textlen == b->textlen &&
	       memcmp(a->text, b->text, a->textlen) == 0;
}

/* --- building a document from libyaml events --------------------------- */

struct pairs { /* a map under construction */
	struct config_node **kv;
	bool *explicit;
	size_t n, cap;
	struct htab idx;
	size_t nodes, bytes;
};

struct anchor {
	const char *name;
	struct config_node *node;
};

struct bld {
	struct config *cfg;
	yaml_parser_t p;
	const char *file;
	const char *input;
	size_t inlen;
	struct anchor *anchors;
	size_t nanchors, capanchors;
	struct htab aidx;
	const char *open[CONFIG_MAX_DEPTH + 2]; /* anchors being defined */
	int nopen;
	char path[1024];
	size_t pathlen;
	struct config_err *err;
};

static int bld_err(struct bld *b, int line, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
bld_err(struct bld *b, int line, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(b->err, b->file, line, b->path, code, fmt, ap);
	va_end(ap);
	return code;
}

static int
bld_nomem(struct bld *b)
{
	return bld_err(b, 0, VPN_ERR_NOMEM, "out of memory");
}

static int
ev_line(const yaml_event_t *ev)
{
	return ev->start_mark.line < INT32_MAX ? (int)ev->start_mark.line + 1
	                                       : 0;
}

static int
bld_yaml_err(struct bld *b)
{
	yaml_parser_t *p = &b->p;
	const char *problem =
	    p->problem != NULL ? p->problem : "unknown problem parsing YAML";
	size_t i, line = 1;

	if (p->error == YAML_MEMORY_ERROR)
		return bld_nomem(b);
	b->pathlen = 0;
	b->path[0] = '\0';
	if (p->error == YAML_READER_ERROR) {
		for (i = 0; i < p->problem_offset && i < b->inlen; i++)
			line += b->input[i] == '\n';
		if (p->problem_value != -1)
			return bld_err(b, (int)(line < INT32_MAX ? line : 0),
			    VPN_ERR_INVAL, "%s: #%X at byte %zu", problem,
			    (unsigned)p->problem_value, p->problem_offset);
		return bld_err(b, (int)(line < INT32_MAX ? line : 0),
		    VPN_ERR_INVAL, "%s at byte %zu", problem,
		    p->problem_offset);
	}
	line = p->problem_mark.line + 1;
	if (p->context != NULL)
		return bld_err(b, (int)(line < INT32_MAX ? line : 0),
		    VPN_ERR_INVAL, "%s (%s at line %zu)", problem, p->context,
		    p->context_mark.line + 1);
	return bld_err(b, (int)(line < INT32_MAX ? line : 0), VPN_ERR_INVAL,
	    "%s", problem);
}

static int
bld_next(struct bld *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->p, ev))
		return bld_yaml_err(b);
	return 0;
}

/* Append to the key path; returns the length to restore. */
static size_t
path_push_key(struct bld *b, const char *key)
{
	size_t old = b->pathlen;
	char tmp[CONFIG_PATH_LEN];

	if (old < sizeof(b->path) - 1) {
		config_path_key(tmp, sizeof(tmp), b->path, key);
		copystr(b->path, sizeof(b->path), tmp);
		b->pathlen = strlen(b->path);
	}
	return old;
}

static size_t
path_push_index(struct bld *b, size_t i)
{
	size_t old = b->pathlen;

	snprintf(b->path + old, sizeof(b->path) - old, "[%zu]", i);
	b->pathlen += strlen(b->path + old);
	return old;
}

static void
path_pop(struct bld *b, size_t old)
{
	b->pathlen = old;
	b->path[old] = '\0';
}

static int
check_size(struct bld *b, int line, size_t nodes, size_t bytes)
{
	if (nodes > CONFIG_MAX_NODES)
		return bld_err(b, line, VPN_ERR_RANGE,
		    "more than %d nodes once aliases are expanded",
		    CONFIG_MAX_NODES);
	if (bytes > CONFIG_MAX_BYTES)
		return bld_err(b, line, VPN_ERR_RANGE,
		    "more than %d bytes of text once aliases are expanded",
		    CONFIG_MAX_BYTES);
	return 0;
}

static struct config_node *
node_new(struct config *cfg, const char *file, int line, unsigned char kind)
{
	struct config_node *n = arena_alloc(cfg, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->file = file;
	n->line = line;
	n->kind = kind;
	n->nodes = 1;
	n->height = kind == VK_SEQ || kind == VK_MAP ? 1 : 0;
	return n;
}

static const char *
short_tag(const char *tag)
{
	static const char *const names[] = {"str", "int", "float", "bool",
	    "null", "timestamp", "binary", "merge", "map", "seq"};
	size_t i, plen = strlen(TAG_PREFIX);

	if (strncmp(tag, TAG_PREFIX, plen) != 0)
		return tag;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(tag + plen, names[i]) == 0)
			return names[i];
	return tag;
}

static const char *
kind_tag(unsigned char kind)
{
	switch (kind) {
	case VK_NULL:
		return "!!null";
	case VK_INT:
	case VK_UINT:
		return "!!int";
	case VK_FLOAT:
		return "!!float";
	case VK_BOOL:
		return "!!bool";
	default:
		return "!!str";
	}
}

/* A scalar event -> a node, resolved as yaml.v2 decodes into interface{}. */
static int
bld_scalar(struct bld *b, yaml_event_t *ev, struct config_node **out)
{
	const char *val = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag, *st;
	int line = ev_line(ev);
	struct resolved r;
	struct config_node *n;
	char num[48];
	const char *text;
	bool want_float = false;

	if (memchr(val, '\0', len) != NULL)
		return bld_err(
		    b, line, VPN_ERR_INVAL, "NUL character in a string");
	memset(&r, 0, sizeof(r));
	r.kind = VK_STR;
	st = tag != NULL ? short_tag(tag) : NULL;
	if (tag == NULL) {
		if (ev->data.scalar.plain_implicit)
			resolve_plain(val, &r);
	} else if (strcmp(st, "binary") == 0) {
		return bld_err(b, line, VPN_ERR_INVAL,
		    "!!binary values are not supported");
	} else if (strcmp(st, "bool") == 0 || strcmp(st, "int") == 0 ||
	           strcmp(st, "float") == 0 || strcmp(st, "null") == 0 ||
	           strcmp(st, "timestamp") == 0) {
		resolve_plain(val, &r);
		if (strcmp(st, "timestamp") == 0 && strlen(val) >= 5 &&
		    isdig(val[0]) && isdig(val[1]) && isdig(val[2]) &&
		    isdig(val[3]) && val[4] == '-') {
			r.kind = VK_STR; /* kept as the string */
		} else if ((strcmp(st, "bool") == 0 && r.kind != VK_BOOL) ||
		           (strcmp(st, "int") == 0 && r.kind != VK_INT &&
		               r.kind != VK_UINT) ||
		           (strcmp(st, "float") == 0 && r.kind != VK_FLOAT &&
		               r.kind != VK_INT) ||
		           (strcmp(st, "null") == 0 && r.kind != VK_NULL) ||
		           strcmp(st, "timestamp") == 0) {
			char q[80];

			quote(q, sizeof(q), val);
			return bld_err(b, line, VPN_ERR_INVAL,
			    "cannot decode %s %s as a !!%s", kind_tag(r.kind),
			    q, st);
		}
		want_float = strcmp(st, "float") == 0;
	}
	/* else: !!str, "!" and unknown tags give the string itself */

	if (want_float && r.kind == VK_INT) {
		r.kind = VK_FLOAT;
		r.f = (double)r.i;
	}
	if ((n = node_new(b->cfg, b->file, line, r.kind)) == NULL)
		return bld_nomem(b);
	switch (r.kind) {
	case VK_INT:
		n->v.i = r.i;
		snprintf(num, sizeof(num), "%" PRId64, r.i);
		break;
	case VK_UINT:
		n->v.u = r.u;
		snprintf(num, sizeof(num), "%" PRIu64, r.u);
		break;
	case VK_FLOAT:
		n->v.f = r.f;
		go_float(r.f, num, sizeof(num));
		break;
	case VK_BOOL:
		n->v.b = r.b;
		copystr(num, sizeof(num), r.b ? "true" : "false");
		break;
	default:
		num[0] = '\0';
		break;
	}
	if ((n->raw = arena_strndup(b->cfg, val, len)) == NULL)
		return bld_nomem(b);
	text = n->raw;
	if (r.kind != VK_STR && r.kind != VK_NULL && strcmp(num, val) != 0 &&
	    (text = arena_strndup(b->cfg, num, strlen(num))) == NULL)
		return bld_nomem(b);
	n->text = r.kind == VK_NULL ? NULL : text;
	n->textlen = n->text != NULL ? strlen(n->text) : 0;
	n->bytes = n->textlen;
	*out = n;
	return 0;
}

static bool
anchor_eq(const void *ctx, size_t idx)
{
	const void *const *c = ctx;
	const struct bld *b = c[0];

	return strcmp(b->anchors[idx].name, c[1]) == 0;
}

static int
anchor_set(struct bld *b, const char *name, struct config_node *n)
{
	const void *ctx[2] = {b, name};
	uint64_t h = fnv(0xcbf29ce484222325ULL, name, strlen(name));
	struct hslot *slot;
	struct anchor *na;
	size_t i, cap;
	int r;

	if ((r = htab_grow(&b->aidx)) != 0)
		return bld_nomem(b);
	if ((i = htab_find(&b->aidx, h, anchor_eq, ctx, &slot)) != SIZE_MAX) {
		b->anchors[i].node = n; /* redefined: later aliases see this */
		return 0;
	}
	if (b->nanchors == b->capanchors) {
		cap = b->capanchors != 0 ? b->capanchors * 2 : 16;
		if ((na = realloc(b->anchors, cap * sizeof(*na))) == NULL)
			return bld_nomem(b);
		b->anchors = na;
		b->capanchors = cap;
	}
	if ((b->anchors[b->nanchors].name =
	            arena_strndup(b->cfg, name, strlen(name))) == NULL)
		return bld_nomem(b);
	b->anchors[b->nanchors].node = n;
	slot->h = h;
	slot->idx1 = ++b->nanchors;
	b->aidx.n++;
	return 0;
}

static struct config_node *
anchor_get(struct bld *b, const char *name)
{
	const void *ctx[2] = {b, name};
	uint64_t h = fnv(0xcbf29ce484222325ULL, name, strlen(name));
	struct hslot *slot;
	size_t i = htab_find(&b->aidx, h, anchor_eq, ctx, &slot);

	return i != SIZE_MAX ? b->anchors[i].node : NULL;
}

static bool
pairs_eq(const void *ctx, size_t idx)
{
	const void *const *c = ctx;
	const struct pairs *m = c[0];

	return key_eq(m->kv[2 * idx], c[1]);
}

static void
pairs_free(struct pairs *m)
{
	free(m->kv);
	free(m->explicit);
	htab_free(&m->idx);
}

/*
 * Set key K to V: a new pair, or (when the key is there already) a new
 * value.  Returns the index of an existing explicit pair in *dup.
 */
static int
pairs_set(struct pairs *m, struct config_node *k, struct config_node *v,
    bool explicit, size_t *dup)
{
	const void *ctx[2] = {m, k};
	uint64_t h = key_hash(k);
	struct hslot *slot;
	struct config_node **nkv;
	bool *nex;
	size_t i, cap;

	*dup = SIZE_MAX;
	if (htab_grow(&m->idx) != 0)
		return VPN_ERR_NOMEM;
	if ((i = htab_find(&m->idx, h, pairs_eq, ctx, &slot)) != SIZE_MAX) {
		if (explicit && m->explicit[i]) {
			*dup = i;
			return 0;
		}
		m->nodes -= m->kv[2 * i + 1]->nodes;
		m->bytes -= m->kv[2 * i + 1]->bytes;
		m->kv[2 * i + 1] = v;
		m->explicit[i] = m->explicit[i] || explicit;
		m->nodes += v->nodes;
		m->bytes += v->bytes;
		return 0;
	}
	if (m->n == m->cap) {
		cap = m->cap != 0 ? m->cap * 2 : 8;
		if (cap > SIZE_MAX / (2 * sizeof(*nkv)))
			return VPN_ERR_NOMEM;
		if ((nkv = realloc(m->kv, 2 * cap * sizeof(*nkv))) == NULL)
			return VPN_ERR_NOMEM;
		m->kv = nkv;
		if ((nex = realloc(m->explicit, cap * sizeof(*nex))) == NULL)
			return VPN_ERR_NOMEM;
		m->explicit = nex;
		m->cap = cap;
	}
	m->kv[2 * m->n] = k;
	m->kv[2 * m->n + 1] = v;
	m->explicit[m->n] = explicit;
	slot->h = h;
	slot->idx1 = ++m->n;
	m->idx.n++;
	m->nodes += k->nodes + v->nodes;
	m->bytes += k->bytes + v->bytes;
	return 0;
}

/* A finished collection node; KIDS are copied into the arena. */
static struct config_node *
collection_new(struct config *cfg, const char *file, int line,
    unsigned char kind, struct config_node **kids, size_t nkids)
{
	struct config_node *n;
	size_t i;

	if ((n = node_new(cfg, file, line, kind)) == NULL)
		return NULL;
	if (nkids > 0) {
		if (nkids > SIZE_MAX / sizeof(*kids) ||
		    (n->kids = arena_alloc(cfg, nkids * sizeof(*kids))) == NULL)
			return NULL;
		memcpy(n->kids, kids, nkids * sizeof(*kids));
	}
	n->n = kind == VK_MAP ? nkids / 2 : nkids;
	for (i = 0; i < nkids; i++) {
		n->nodes += kids[i]->nodes;
		n->bytes += kids[i]->bytes;
		if (kids[i]->height + 1 > n->height)
			n->height = kids[i]->height + 1;
	}
	return n;
}

static int bld_node(
    struct bld *b, yaml_event_t *ev, int depth, struct config_node **out);

/* `<<: V`: V is a map, or a list of maps, earlier ones winning. */
static int
bld_merge(struct bld *b, struct pairs *m, struct config_node *v, int line)
{
	struct config_node *src;
	size_t i, j, dup;

	if (v->kind == VK_MAP) {
		for (i = 0; i < v->n; i++)
			if (pairs_set(m, v->kids[2 * i], v->kids[2 * i + 1],
			        false, &dup) != 0)
				return bld_nomem(b);
		return 0;
	}
	if (v->kind != VK_SEQ)
		return bld_err(b, line, VPN_ERR_INVAL,
		    "map merge requires map or sequence of maps as the value");
	for (j = v->n; j-- > 0;) {
		src = v->kids[j];
		if (src->kind != VK_MAP)
			return bld_err(b, line, VPN_ERR_INVAL,
			    "map merge requires map or sequence of maps as the "
			    "value");
		for (i = 0; i < src->n; i++)
			if (pairs_set(m, src->kids[2 * i], src->kids[2 * i + 1],
			        false, &dup) != 0)
				return bld_nomem(b);
	}
	return 0;
}

static int
bld_mapping(struct bld *b, int line, int depth, struct config_node **out)
{
	struct pairs m;
	yaml_event_t ev;
	struct config_node *k, *v;
	size_t old, dup;
	bool merge;
	char q[80];
	int r;

	memset(&m, 0, sizeof(m));
	for (;;) {
		if ((r = bld_next(b, &ev)) != 0)
			goto out;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		merge = ev.type == YAML_SCALAR_EVENT &&
		        strcmp((const char *)ev.data.scalar.value, "<<") == 0 &&
		        ((ev.data.scalar.tag == NULL &&
		             ev.data.scalar.plain_implicit) ||
		            (ev.data.scalar.tag != NULL &&
		                strcmp((const char *)ev.data.scalar.tag,
		                    MERGE_TAG) == 0));
		if ((r = bld_node(b, &ev, depth + 1, &k)) != 0)
			goto out;
		if (k->kind == VK_SEQ || k->kind == VK_MAP) {
			r = bld_err(b, k->line, VPN_ERR_INVAL,
			    "invalid map key: %s", kind_name(k));
			goto out;
		}
		old = path_push_key(b, merge             ? "<<"
		                       : k->text != NULL ? k->text
		                                         : k->raw);
		if ((r = bld_next(b, &ev)) != 0 ||
		    (r = bld_node(b, &ev, depth + 1, &v)) != 0)
			goto out;
		if (merge) {
			if ((r = bld_merge(b, &m, v, k->line)) != 0)
				goto out;
		} else if (pairs_set(&m, k, v, true, &dup) != 0) {
			r = bld_nomem(b);
			goto out;
		} else if (dup != SIZE_MAX) {
			quote(q, sizeof(q), k->text != NULL ? k->text : k->raw);
			r = bld_err(b, k->line, VPN_ERR_INVAL,
			    "duplicate key %s (first at line %d)", q,
			    m.kv[2 * dup]->line);
			goto out;
		}
		path_pop(b, old);
		if ((r = check_size(b, line, m.nodes + 1, m.bytes)) != 0)
			goto out;
	}
	if ((*out = collection_new(
	         b->cfg, b->file, line, VK_MAP, m.kv, 2 * m.n)) == NULL)
		r = bld_nomem(b);
out:
	pairs_free(&m);
	return r;
}

static int
bld_sequence(struct bld *b, int line, int depth, struct config_node **out)
{
	struct config_node **items = NULL, **ni, *v;
	size_t n = 0, cap = 0, nodes = 1, bytes = 0, old;
	yaml_event_t ev;
	int r;

	for (;;) {
		if ((r = bld_next(b, &ev)) != 0)
			goto out;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		old = path_push_index(b, n);
		r = bld_node(b, &ev, depth + 1, &v);
		path_pop(b, old);
		if (r != 0)
			goto out;
		if (n == cap) {
			cap = cap != 0 ? cap * 2 : 8;
			if (cap > SIZE_MAX / sizeof(*ni) ||
			    (ni = realloc(items, cap * sizeof(*ni))) == NULL) {
				r = bld_nomem(b);
				goto out;
			}
			items = ni;
		}
		items[n++] = v;
		nodes += v->nodes;
		bytes += v->bytes;
		if ((r = check_size(b, line, nodes, bytes)) != 0)
			goto out;
	}
	if ((*out = collection_new(b->cfg, b->file, line, VK_SEQ, items, n)) ==
	    NULL)
		r = bld_nomem(b);
out:
	free(items);
	return r;
}

/* Consumes EV (a node's first event) and what follows, up to its end. */
static int
bld_node(struct bld *b, yaml_event_t *ev, int depth, struct config_node **out)
{
	const char *aname = NULL;
	char *anchor = NULL;
	int line = ev_line(ev), r = 0, i;
	yaml_event_type_t type = ev->type;
	struct config_node *n = NULL;

	*out = NULL;
	if (type == YAML_ALIAS_EVENT) {
		const char *name = (const char *)ev->data.alias.anchor;

		for (i = 0; i < b->nopen; i++)
			if (b->open[i] != NULL && strcmp(b->open[i], name) == 0)
				break;
		if (i < b->nopen)
			r = bld_err(b, line, VPN_ERR_INVAL,
			    "anchor '%s' value contains itself", name);
		else if ((n = anchor_get(b, name)) == NULL)
			r = bld_err(b, line, VPN_ERR_INVAL,
			    "unknown anchor '%s' referenced", name);
		else if (depth + n->height - 1 > CONFIG_MAX_DEPTH)
			r = bld_err(b, line, VPN_ERR_RANGE,
			    "nested more than %d levels deep",
			    CONFIG_MAX_DEPTH);
		yaml_event_delete(ev);
		*out = r == 0 ? n : NULL;
		return r;
	}
	if (type == YAML_SCALAR_EVENT) {
		r = bld_scalar(b, ev, &n);
		if (r == 0 && ev->data.scalar.anchor != NULL)
			r = anchor_set(
			    b, (const char *)ev->data.scalar.anchor, n);
		yaml_event_delete(ev);
		*out = r == 0 ? n : NULL;
		return r;
	}
	if (type != YAML_SEQUENCE_START_EVENT &&
	    type != YAML_MAPPING_START_EVENT) {
		yaml_event_delete(ev);
		return bld_err(b, line, VPN_ERR_INVAL, "unexpected YAML event");
	}
	if (depth > CONFIG_MAX_DEPTH) {
		yaml_event_delete(ev);
		return bld_err(b, line, VPN_ERR_RANGE,
		    "nested more than %d levels deep", CONFIG_MAX_DEPTH);
	}
	aname = (const char *)(type == YAML_SEQUENCE_START_EVENT
	                           ? ev->data.sequence_start.anchor
	                           : ev->data.mapping_start.anchor);
	if (aname != NULL && (anchor = strdup(aname)) == NULL) {
		yaml_event_delete(ev);
		return bld_nomem(b);
	}
	yaml_event_delete(ev);
	b->open[b->nopen++] = anchor;
	if (type == YAML_SEQUENCE_START_EVENT)
		r = bld_sequence(b, line, depth, &n);
	else
		r = bld_mapping(b, line, depth, &n);
	b->nopen--;
	if (r == 0 && anchor != NULL)
		r = anchor_set(b, anchor, n);
	free(anchor);
	*out = r == 0 ? n : NULL;
	return r;
}

static int
parse_doc(struct config *cfg, const char *file, const char *buf, size_t len,
    struct config_node **out, struct config_err *err)
{
	struct bld b;
	yaml_event_t ev;
	struct config_node *root = NULL;
	int r;

	memset(&b, 0, sizeof(b));
	b.cfg = cfg;
	b.file = file;
	b.input = buf;
	b.inlen = len;
	b.err = err;
	if (!yaml_parser_initialize(&b.p))
		return seterr(
		    err, file, 0, NULL, VPN_ERR_NOMEM, "out of memory");
	yaml_parser_set_input_string(&b.p, (const unsigned char *)buf, len);
	if ((r = bld_next(&b, &ev)) != 0)
		goto out;
	yaml_event_delete(&ev); /* STREAM-START */
	if ((r = bld_next(&b, &ev)) != 0)
		goto out;
	if (ev.type == YAML_DOCUMENT_START_EVENT) {
		yaml_event_delete(&ev);
		if ((r = bld_next(&b, &ev)) != 0 ||
		    (r = bld_node(&b, &ev, 1, &root)) != 0 ||
		    (r = bld_next(&b, &ev)) != 0)
			goto out;
	}
	yaml_event_delete(&ev); /* DOCUMENT-END or STREAM-END */
	/* Like yaml.v2's Unmarshal, later documents are never looked at. */
	if (root == NULL || root->kind == VK_NULL) {
		root = collection_new(
		    cfg, file, root != NULL ? root->line : 0, VK_MAP, NULL, 0);
		if (root == NULL) {
			r = bld_nomem(&b);
			goto out;
		}
	} else if (root->kind != VK_MAP) {
		r = bld_err(&b, root->line, VPN_ERR_INVAL,
		    "the top level must be a map, not %s", kind_name(root));
		goto out;
	}
	*out = root;
out:
	yaml_parser_delete(&b.p);
	free(b.anchors);
	htab_free(&b.aidx);
	return r;
}

/* --- merging files, as mergo.Merge(&later, earlier, WithAppendSlice) ---- */

/* mergo's isEmptyValue, on the value inside the interface{}. */
static bool
go_empty(const struct config_node *n)
{
	switch (n->kind) {
	case VK_NULL:
		return true;
	case VK_STR:
		return n->textlen == 0;
	case VK_INT:
		return n->v.i == 0;
	case VK_UINT:
		return n->v.u == 0;
	case VK_FLOAT:
		return n->v.f == 0;
	case VK_BOOL:
		return !n->v.b;
	default:
		return n->n == 0;
	}
}

static int
merge_check(
    const struct config_node *n, const char *path, struct config_err *err)
{
	if (n->nodes > CONFIG_MAX_NODES || n->bytes > CONFIG_MAX_BYTES)
		return seterr(err, n->file, n->line, path, VPN_ERR_RANGE,
		    "the merged configuration is too large (more than %d "
		    "nodes or %d bytes)",
		    CONFIG_MAX_NODES, CONFIG_MAX_BYTES);
	return 0;
}

static int merge_maps(struct config *cfg, const struct config_node *later,
    const struct config_node *earlier, const char *path,
    struct config_node **out, struct config_err *err);

static int
merge_value(struct config *cfg, struct config_node *lv, struct config_node *ev,
    const char *path, struct config_node **out, struct config_err *err)
{
	struct config_node **kids;

	*out = lv;
	if (ev->kind == VK_MAP) {
		if (lv->kind == VK_NULL)
			*out = ev;
		else if (lv->kind == VK_MAP)
			return merge_maps(cfg, lv, ev, path, out, err);
		else if (go_empty(lv))
			*out = ev;
		return 0;
	}
	if (ev->kind == VK_SEQ) {
		if (lv->kind == VK_NULL || (lv->kind == VK_SEQ && lv->n == 0)) {
			*out = ev;
			return 0;
		}
		if (lv->kind != VK_SEQ)
			return seterr(err, lv->file, lv->line, path,
			    VPN_ERR_INVAL,
			    "is %s here but a list in %s:%d, and lists are "
			    "only "
			    "merged with lists (cannot append two slices with "
			    "different type)",
			    kind_name(lv), ev->file, ev->line);
		if (lv->n > SIZE_MAX / 2 / sizeof(*kids) - ev->n ||
		    (kids = malloc((lv->n + ev->n) * sizeof(*kids))) == NULL)
			return seterr(
			    err, NULL, 0, NULL, VPN_ERR_NOMEM, "out of memory");
		memcpy(kids, lv->kids, lv->n * sizeof(*kids));
		memcpy(kids + lv->n, ev->kids, ev->n * sizeof(*kids));
		*out = collection_new(
		    cfg, lv->file, lv->line, VK_SEQ, kids, lv->n + ev->n);
		free(kids);
		if (*out == NULL)
			return seterr(
			    err, NULL, 0, NULL, VPN_ERR_NOMEM, "out of memory");
		return merge_check(*out, path, err);
	}
	if (go_empty(lv))
		*out = ev;
	return 0;
}

static int
merge_maps(struct config *cfg, const struct config_node *later,
    const struct config_node *earlier, const char *path,
    struct config_node **out, struct config_err *err)
{
	struct pairs m;
	struct config_node *k, *v;
	const void *ctx[2];
	struct hslot *slot;
	char kpath[CONFIG_PATH_LEN];
	size_t i, j, dup;
	int r = 0;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < later->n; i++)
		if (pairs_set(&m, later->kids[2 * i], later->kids[2 * i + 1],
		        true, &dup) != 0)
			goto nomem;
	for (i = 0; i < earlier->n; i++) {
		k = earlier->kids[2 * i];
		v = earlier->kids[2 * i + 1];
		if (v->kind == VK_NULL)
			continue;
		ctx[0] = &m;
		ctx[1] = k;
		j = htab_find(&m.idx, key_hash(k), pairs_eq, ctx, &slot);
		if (j == SIZE_MAX) {
			if (pairs_set(&m, k, v, true, &dup) != 0)
				goto nomem;
			continue;
		}
		config_path_key(kpath, sizeof(kpath), path,
		    k->text != NULL ? k->text : k->raw);
		if ((r = merge_value(cfg, m.kv[2 * j + 1], v, kpath,
		         &m.kv[2 * j + 1], err)) != 0)
			goto out;
	}
	if ((*out = collection_new(
	         cfg, later->file, later->line, VK_MAP, m.kv, 2 * m.n)) == NULL)
		goto nomem;
	r = merge_check(*out, path, err);
	goto out;
nomem:
	r = seterr(err, NULL, 0, NULL, VPN_ERR_NOMEM, "out of memory");
out:
	pairs_free(&m);
	return r;
}

/* --- files and directories ---------------------------------------------- */

/* Go's filepath.Clean for an absolute path. */
static void
clean_path(char *p)
{
	char *out = p, *s = p, *seg;
	size_t len;

	/* p starts with '/' */
	s++;
	out++;
	while (*s != '\0') {
		seg = s;
		while (*s != '\0' && *s != '/')
			s++;
		len = (size_t)(s - seg);
		if (*s == '/')
			s++;
		if (len == 0 || (len == 1 && seg[0] == '.'))
			continue;
		if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			while (out > p + 1 && out[-1] != '/')
				out--; /* drop the last element */
			if (out > p + 1)
				out--; /* and the '/' before it */
			continue;
		}
		if (out > p + 1)
			*out++ = '/';
		memmove(out, seg, len);
		out += len;
	}
	*out = '\0';
}

static char *
abs_path(const char *path)
{
	char *cwd = NULL, *p;
	size_t len;

	if (path[0] != '/' && (cwd = getcwd(NULL, 0)) == NULL)
		return NULL;
	len = (cwd != NULL ? strlen(cwd) + 1 : 0) + strlen(path) + 1;
	if ((p = malloc(len)) != NULL) {
		snprintf(p, len, "%s%s%s", cwd != NULL ? cwd : "",
		    cwd != NULL ? "/" : "", path);
		clean_path(p);
	}
	free(cwd);
	return p;
}

static char *
join(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *p = malloc(len);

	if (p != NULL)
		snprintf(p, len, "%s%s%s", dir,
		    dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/",
		    name);
	return p;
}

struct walk {
	char **files;
	size_t n, cap;
	struct {
		dev_t dev;
		ino_t ino;
	} stack[CONFIG_MAX_DEPTH];
	int depth;
	struct config_err *err;
};

static int
walk_add(struct walk *w, const char *abs)
{
	char **nf, *s;
	size_t cap;

	if (w->n >= CONFIG_MAX_FILES)
		return seterr(w->err, NULL, 0, NULL, VPN_ERR_RANGE,
		    "more than %d config files", CONFIG_MAX_FILES);
	if (w->n == w->cap) {
		cap = w->cap != 0 ? w->cap * 2 : 16;
		if ((nf = realloc(w->files, cap * sizeof(*nf))) == NULL)
			return VPN_ERR_NOMEM;
		w->files = nf;
		w->cap = cap;
	}
	if ((s = strdup(abs)) == NULL)
		return VPN_ERR_NOMEM;
	w->files[w->n++] = s;
	return 0;
}

static bool
yaml_ext(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot != NULL &&
	       (strcmp(dot, ".yml") == 0 || strcmp(dot, ".yaml") == 0);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Nebula's resolve(): PATH as given (for messages), ABS its clean form. */
static int
walk(struct walk *w, const char *path, const char *abs, bool direct)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char **names = NULL, **nn, *cp = NULL, *ca = NULL;
	size_t n = 0, cap = 0, i;
	int r = 0, k;

	if (stat(path, &st) != 0)
		return 0; /* Nebula ignores what it cannot stat */
	if (!S_ISDIR(st.st_mode))
		return direct || yaml_ext(abs) ? walk_add(w, abs) : 0;
	for (k = 0; k < w->depth; k++)
		if (w->stack[k].dev == st.st_dev &&
		    w->stack[k].ino == st.st_ino)
			return 0; /* a symlink loop */
	if (w->depth >= CONFIG_MAX_DEPTH)
		return seterr(w->err, NULL, 0, NULL, VPN_ERR_RANGE,
		    "directories nested more than %d deep at %s",
		    CONFIG_MAX_DEPTH, path);
	if ((d = opendir(path)) == NULL)
		return seterr(w->err, NULL, 0, NULL, VPN_ERR_SYS,
		    "problem while reading directory %s: %s", path,
		    strerror(errno));
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap != 0 ? cap * 2 : 16;
			if ((nn = realloc(names, cap * sizeof(*nn))) == NULL) {
				r = VPN_ERR_NOMEM;
				goto out;
			}
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			r = VPN_ERR_NOMEM;
			goto out;
		}
		n++;
		errno = 0;
	}
	if (errno != 0) {
		r = seterr(w->err, NULL, 0, NULL, VPN_ERR_SYS,
		    "problem while reading directory %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_str);
	w->stack[w->depth].dev = st.st_dev;
	w->stack[w->depth].ino = st.st_ino;
	w->depth++;
	for (i = 0; i < n && r == 0; i++) {
		if ((cp = join(path, names[i])) == NULL ||
		    (ca = join(abs, names[i])) == NULL)
			r = VPN_ERR_NOMEM;
		else
			r = walk(w, cp, ca, false);
		free(cp);
		free(ca);
		cp = ca = NULL;
	}
	w->depth--;
out:
	closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int
read_file(const char *path, char **out, size_t *outlen, struct config_err *err)
{
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0;
	ssize_t got_;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return seterr(
		    err, path, 0, NULL, VPN_ERR_SYS, "%s", strerror(errno));
	for (;;) {
		if (cap - len < 4096) {
			cap = cap != 0 ? cap * 2 : 16384;
			if ((nb = realloc(buf, cap)) == NULL) {
				close(fd);
				free(buf);
				return seterr(err, path, 0, NULL, VPN_ERR_NOMEM,
				    "out of memory");
			}
			buf = nb;
		}
		got_ = read(fd, buf + len, cap - len);
		if (got_ == -1 && errno == EINTR)
			continue;
		if (got_ == -1) {
			saved = errno;
			close(fd);
			free(buf);
			return seterr(err, path, 0, NULL, VPN_ERR_SYS, "%s",
			    strerror(saved));
		}
		if (got_ == 0)
			break;
		len += (size_t)got_;
		if (len > CONFIG_MAX_FILE) {
			close(fd);
			free(buf);
			return seterr(err, path, 0, NULL, VPN_ERR_RANGE,
			    "file is larger than %d bytes", CONFIG_MAX_FILE);
		}
	}
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;
}

static struct config *
config_new(void)
{
	return calloc(1, sizeof(struct config));
}

/* Parse one file's text and merge it over what came before. */
static int
config_add(struct config *cfg, const char *file, const char *buf, size_t len,
    struct config_err *err)
{
	const char **nf;
	const char *name;
	struct config_node *doc, *merged;
	size_t cap;
	int r;

	if (cfg->nfiles == cfg->capfiles) {
		cap = cfg->capfiles != 0 ? cfg->capfiles * 2 : 4;
		if ((nf = realloc(cfg->files, cap * sizeof(*nf))) == NULL)
			return seterr(
			    err, file, 0, NULL, VPN_ERR_NOMEM, "out of memory");
		cfg->files = nf;
		cfg->capfiles = cap;
	}
	if ((name = arena_strndup(cfg, file, strlen(file))) == NULL)
		return seterr(
		    err, file, 0, NULL, VPN_ERR_NOMEM, "out of memory");
	if ((r = parse_doc(cfg, name, buf, len, &doc, err)) != 0)
		return r;
	if (cfg->root == NULL) {
		merged = doc;
	} else if ((r = merge_maps(cfg, doc, cfg->root, "", &merged, err)) !=
	           0) {
		return r;
	}
	cfg->files[cfg->nfiles++] = name;
	cfg->root = merged;
	return 0;
}

int
config_load_string(const char *yaml, size_t len, const char *name,
    struct config **out, struct config_err *err)
{
	struct config *cfg;
	int r;

	*out = NULL;
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if ((cfg = config_new()) == NULL)
		return seterr(
		    err, NULL, 0, NULL, VPN_ERR_NOMEM, "out of memory");
	if (name == NULL)
		name = "<string>";
	if (len > CONFIG_MAX_FILE)
		r = seterr(err, name, 0, NULL, VPN_ERR_RANGE,
		    "file is larger than %d bytes", CONFIG_MAX_FILE);
	else
		r = config_add(cfg, name, yaml != NULL ? yaml : "", len, err);
	if (r != 0) {
		config_free(cfg);
		return r;
	}
	*out = cfg;
	return 0;
}

int
config_load(const char *path, struct config **out, struct config_err *err)
{
	struct walk w;
	struct config *cfg = NULL;
	char *abs = NULL, *buf = NULL;
	size_t i, len = 0;
	int r;

	*out = NULL;
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	memset(&w, 0, sizeof(w));
	w.err = err;
	if (path[0] != '\0' && (abs = abs_path(path)) == NULL) {
		r = seterr(err, NULL, 0, NULL, VPN_ERR_SYS,
		    "cannot make %s absolute: %s", path, strerror(errno));
		goto out;
	}
	if (abs != NULL && (r = walk(&w, path, abs, true)) != 0) {
		if (r == VPN_ERR_NOMEM)
			seterr(err, NULL, 0, NULL, r, "out of memory");
		goto out;
	}
	if (w.n == 0) {
		r = seterr(err, NULL, 0, NULL, VPN_ERR_INVAL,
		    "no config files found at %s", path);
		goto out;
	}
	qsort(w.files, w.n, sizeof(*w.files), cmp_str);
	if ((cfg = config_new()) == NULL) {
		r = seterr(err, NULL, 0, NULL, VPN_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < w.n; i++) {
		if ((r = read_file(w.files[i], &buf, &len, err)) != 0)
			goto out;
		r = config_add(cfg, w.files[i], buf, len, err);
		free(buf);
		buf = NULL;
		if (r != 0)
			goto out;
	}
	*out = cfg;
	cfg = NULL;
	r = 0;
out:
	config_free(cfg);
	for (i = 0; i < w.n; i++)
		free(w.files[i]);
	free(w.files);
	free(abs);
	return r;
}

size_t
config_nfiles(const struct config *cfg)
{
	return cfg != NULL ? cfg->nfiles : 0;
}

const char *
config_file(const struct config *cfg, size_t i)
{
	return cfg != NULL && i < cfg->nfiles ? cfg->files[i] : NULL;
}

/* --- lookup and accessors ---------------------------------------------- */

static const struct config_node *
node_getn(const struct config_node *map, const char *key, size_t len)
{
	size_t i;
	const struct config_node *k;

	if (map == NULL || map->kind != VK_MAP)
		return NULL;
	for (i = 0; i < map->n; i++) {
		k = map->kids[2 * i];
		if (k->kind == VK_STR && k->textlen == len &&
		    memcmp(k->text, key, len) == 0)
			return map->kids[2 * i + 1];
	}
	return NULL;
}

const struct config_node *
config_node_get(const struct config_node *map, const char *key)
{
	return key != NULL ? node_getn(map, key, strlen(key)) : NULL;
}

const struct config_node *
config_get(const struct config *cfg, const char *path)
{
	const struct config_node *n;
	const char *dot;

	if (cfg == NULL || path == NULL)
		return NULL;
	n = cfg->root;
	if (path[0] == '\0')
		return n;
	for (;;) {
		dot = strchr(path, '.');
		n = node_getn(
		    n, path, dot != NULL ? (size_t)(dot - path) : strlen(path));
		if (n == NULL || dot == NULL)
			return n;
		path = dot + 1;
	}
}

enum config_type
config_node_type(const struct config_node *n)
{
	if (n == NULL)
		return CONFIG_NULL;
	switch (n->kind) {
	case VK_NULL:
		return CONFIG_NULL;
	case VK_SEQ:
		return CONFIG_SEQ;
	case VK_MAP:
		return CONFIG_MAP;
	default:
		return CONFIG_SCALAR;
	}
}

const char *
config_node_file(const struct config_node *n)
{
	return n != NULL ? n->file : NULL;
}

int
config_node_line(const struct config_node *n)
{
	return n != NULL ? n->line : 0;
}

const char *
config_node_scalar(const struct config_node *n)
{
	return n != NULL && n->kind != VK_SEQ && n->kind != VK_MAP ? n->text
	                                                           : NULL;
}

const char *
config_node_raw(const struct config_node *n)
{
	return n != NULL && n->kind != VK_SEQ && n->kind != VK_MAP ? n->raw
	                                                           : NULL;
}

size_t
config_node_len(const struct config_node *n)
{
	return n != NULL && (n->kind == VK_SEQ || n->kind == VK_MAP) ? n->n : 0;
}

const struct config_node *
config_node_item(const struct config_node *seq, size_t i)
{
	return seq != NULL && seq->kind == VK_SEQ && i < seq->n ? seq->kids[i]
	                                                        : NULL;
}

const struct config_node *
config_node_keynode(const struct config_node *map, size_t i)
{
	return map != NULL && map->kind == VK_MAP && i < map->n
	           ? map->kids[2 * i]
	           : NULL;
}

const char *
config_node_key(const struct config_node *map, size_t i)
{
	const struct config_node *k = config_node_keynode(map, i);

	return k == NULL ? NULL : k->text != NULL ? k->text : k->raw;
}

const struct config_node *
config_node_value(const struct config_node *map, size_t i)
{
	return map != NULL && map->kind == VK_MAP && i < map->n
	           ? map->kids[2 * i + 1]
	           : NULL;
}

/* --- typed getters ------------------------------------------------------ */

static bool
absent(const struct config_node *n)
{
	return n == NULL || n->kind == VK_NULL;
}

static bool
is_scalar(const struct config_node *n)
{
	return n->kind != VK_SEQ && n->kind != VK_MAP && n->kind != VK_NULL;
}

static int
wrong(struct config_err *err, const struct config_node *n, const char *key,
    const char *want)
{
	char g[80];

	got(g, sizeof(g), n);
	return config_node_err(
	    err, n, key, VPN_ERR_INVAL, "expected %s, got %s", want, g);
}

int
config_node_str(const struct config_node *n, const char *keypath,
    const char *def, const char **out, struct config_err *err)
{
	if (absent(n)) {
		*out = def;
		return 0;
	}
	if (!is_scalar(n))
		return wrong(err, n, keypath, "a string");
	*out = n->text;
	return 0;
}

int
config_node_int(const struct config_node *n, const char *keypath, int64_t def,
    int64_t min, int64_t max, int64_t *out, struct config_err *err)
{
	int64_t v;
	char g[80];
	int r;

	if (absent(n)) {
		*out = def;
		return 0;
	}
	if (!is_scalar(n))
		return wrong(err, n, keypath, "an integer");
	if ((r = go_parse_int(n->text, 10, &v)) == VPN_ERR_INVAL)
		return wrong(err, n, keypath, "an integer");
	if (r != 0 || v < min || v > max) {
		quote(g, sizeof(g), n->text);
		return config_node_err(err, n, keypath, VPN_ERR_RANGE,
		    "must be between %" PRId64 " and %" PRId64 ", got %s", min,
		    max, strlen(n->text) < 40 ? n->text : g);
	}
	*out = v;
	return 0;
}

int
config_node_bool(const struct config_node *n, const char *keypath, bool def,
    bool *out, struct config_err *err)
{
	static const char *const yes[] = {"1", "t", "true", "y", "yes"};
	static const char *const no[] = {"0", "f", "false", "n", "no"};
	char low[8];
	size_t i;

	if (absent(n)) {
		*out = def;
		return 0;
	}
	if (n->kind == VK_BOOL) {
		*out = n->v.b;
		return 0;
	}
	if (!is_scalar(n) || n->textlen >= sizeof(low))
		goto bad;
	for (i = 0; i <= n->textlen; i++)
		low[i] = (char)(n->text[i] >= 'A' && n->text[i] <= 'Z'
		                    ? n->text[i] + ('a' - 'A')
		                    : n->text[i]);
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(low, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(low, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
bad:
	return wrong(err, n, keypath, "a boolean (true/false)");
}

int
config_node_duration(const struct config_node *n, const char *keypath,
    int64_t def_ns, int64_t *out, struct config_err *err)
{
	int64_t v;
	char g[80];
	int r;

	if (absent(n)) {
		*out = def_ns;
		return 0;
	}
	if (!is_scalar(n))
		return wrong(err, n, keypath, "a duration such as 500ms or 2s");
	if ((r = go_parse_duration(n->text, &v)) == VPN_ERR_RANGE) {
		quote(g, sizeof(g), n->raw);
		return config_node_err(err, n, keypath, VPN_ERR_RANGE,
		    "duration out of range, got %s", g);
	}
	if (r != 0)
		return wrong(err, n, keypath, "a duration such as 500ms or 2s");
	*out = v;
	return 0;
}

int
config_node_str_list(const struct config_node *n, const char *keypath,
    const char ***out, size_t *count, struct config_err *err)
{
	const char **v;
	char ip[CONFIG_PATH_LEN];
	size_t i;

	*out = NULL;
	*count = 0;
	if (absent(n))
		return 0;
	if (n->kind != VK_SEQ)
		return wrong(err, n, keypath, "a list of strings");
	for (i = 0; i < n->n; i++) {
		if (!is_scalar(n->kids[i])) {
			config_path_index(ip, sizeof(ip), keypath, i);
			return wrong(err, n->kids[i], ip, "a string");
		}
	}
	if (n->n == 0)
		return 0;
	if ((v = calloc(n->n, sizeof(*v))) == NULL)
		return config_node_err(
		    err, n, keypath, VPN_ERR_NOMEM, "out of memory");
	for (i = 0; i < n->n; i++)
		v[i] = n->kids[i]->text;
	*out = v;
	*count = n->n;
	return 0;
}

/* A map or a list, or absent (NULL). */
static int
container(const struct config_node *n, const char *keypath, int kind,
    const char *what, const struct config_node **out, struct config_err *err)
{
	if (absent(n)) {
		*out = NULL;
		return 0;
	}
	if ((int)n->kind != kind)
		return wrong(err, n, keypath, what);
	*out = n;
	return 0;
}

int
config_node_map(const struct config_node *n, const char *keypath,
    const struct config_node **out, struct config_err *err)
{
	return container(n, keypath, VK_MAP, "a map", out, err);
}

int
config_node_list(const struct config_node *n, const char *keypath,
    const struct config_node **out, struct config_err *err)
{
	return container(n, keypath, VK_SEQ, "a list", out, err);
}

/*
 * Nebula's get(), but a non-map on the way is an error rather than
 * "absent" (a null on the way is still absent).
 */
static int
lookup(const struct config *cfg, const char *path,
    const struct config_node **out, struct config_err *err)
{
	const struct config_node *n = cfg != NULL ? cfg->root : NULL;
	const char *p = path, *dot;
	char prefix[CONFIG_PATH_LEN];

	*out = NULL;
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (n == NULL || path == NULL)
		return 0;
	if (path[0] == '\0') {
		*out = n;
		return 0;
	}
	for (;;) {
		if (n->kind == VK_NULL)
			return 0;
		if (n->kind != VK_MAP) {
			snprintf(prefix, sizeof(prefix), "%.*s",
			    (int)(p - path - 1), path);
			return wrong(err, n, prefix, "a map");
		}
		dot = strchr(p, '.');
		n = node_getn(
		    n, p, dot != NULL ? (size_t)(dot - p) : strlen(p));
		if (n == NULL)
			return 0;
		if (dot == NULL) {
			*out = n;
			return 0;
		}
		p = dot + 1;
	}
}

int
config_str(const struct config *cfg, const char *path, const char *def,
    const char **out, struct config_err *err)
{
	const struct config_node *n;
	int r;

	if ((r = lookup(cfg, path, &n, err)) != 0)
		return r;
	return config_node_str(n, path, def, out, err);
}

int
config_int(const struct config *cfg, const char *path, int64_t def, int64_t min,
    int64_t max, int64_t *out, struct config_err *err)
{
	const struct config_node *n;
	int r;

	if ((r = lookup(cfg, path, &n, err)) != 0)
		return r;
	return config_node_int(n, path, def, min, max, out, err);
}

int
config_bool(const struct config *cfg, const char *path, bool def, bool *out,
    struct config_err *err)
{
	const struct config_node *n;
	int r;

	if ((r = lookup(cfg, path, &n, err)) != 0)
		return r;
	return config_node_bool(n, path, def, out, err);
}

int
config_duration(const struct config *cfg, const char *path, int64_t def_ns,
    int64_t *out, struct config_err *err)
{
	const struct config_node *n;
	int r;

	if ((r = lookup(cfg, path, &n, err)) != 0)
		return r;
	return config_node_duration(n, path, def_ns, out, err);
}

int
config_str_list(const struct config *cfg, const char *path, const char ***out,
    size_t *count, struct config_err *err)
{
	const struct config_node *n;
	int r;

	*out = NULL;
	*count = 0;
	if ((r = lookup(cfg, path, &n, err)) != 0)
		return r;
	return config_node_str_list(n, path, out, count, err);
}

int
config_map(const struct config *cfg, const char *path,
    const struct config_node **out, struct config_err *err)
{
	const struct config_node *n;
	int r;

	*out = NULL;
	if ((r = lookup(cfg, path, &n, err)) != 0)
		return r;
	return config_node_map(n, path, out, err);
}

int
config_list(const struct config *cfg, const char *path,
    const struct config_node **out, struct config_err *err)
{
	const struct config_node *n;
	int r;

	*out = NULL;
	if ((r = lookup(cfg, path, &n, err)) != 0)
		return r;
	return config_node_list(n, path, out, err);
}

/* --- dump ------------------------------------------------------------- */

/* Order of key kinds: numbers (and booleans), then null, then strings. */
static int
key_class(unsigned char kind)
{
	switch (kind) {
	case VK_BOOL:
	case VK_INT:
	case VK_UINT:
	case VK_FLOAT:
		return 0;
	case VK_NULL:
		return 1;
	default:
		return 2;
	}
}

static double
key_float(const struct config_node *k)
{
	switch (k->kind) {
	case VK_BOOL:
		return k->v.b ? 1 : 0;
	case VK_INT:
		return (double)k->v.i;
	case VK_UINT:
		return (double)k->v.u;
	default:
		return k->v.f;
	}
}

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b) ? 1 : 0)

/*
 * Natural order, a total one: digit runs compare by value (then fewer
 * leading zeros first) and before other bytes, which compare as bytes.
 * So "k9" < "k10" < "k010" < "ka".
 */
static int
natural_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0, si, sj, ei, ej;
	int c;

	while (i < alen && j < blen) {
		if (isdig(a[i]) && isdig(b[j])) {
			for (si = i; si < alen && a[si] == '0'; si++)
				;
			for (sj = j; sj < blen && b[sj] == '0'; sj++)
				;
			for (ei = si; ei < alen && isdig(a[ei]); ei++)
				;
			for (ej = sj; ej < blen && isdig(b[ej]); ej++)
				;
			if (ei - si != ej - sj)
				return CMP(ei - si, ej - sj);
			if ((c = memcmp(a + si, b + sj, ei - si)) != 0)
				return c;
			if (ei - i != ej - j)
				return CMP(ei - i, ej - j);
			i = ei;
			j = ej;
		} else if (isdig(a[i]) || isdig(b[j])) {
			return isdig(a[i]) ? -1 : 1;
		} else if (a[i] != b[j]) {
			return CMP((unsigned char)a[i], (unsigned char)b[j]);
		} else {
			i++;
			j++;
		}
	}
	return CMP(i < alen, j < blen);
}

/*
 * The dump's key order, after yaml.v2's (numbers by value first, strings
 * in a natural order) but total, so that a dump reads back to the same
 * dump.
 */
static int
key_cmp(const struct config_node *a, const struct config_node *b)
{
	double af, bf;
	int c;

	if ((c = CMP(key_class(a->kind), key_class(b->kind))) != 0)
		return c;
	if (key_class(a->kind) == 1)
		return 0;
	if (key_class(a->kind) == 2)
		return natural_cmp(a->text, a->textlen, b->text, b->textlen);
	af = key_float(a);
	bf = key_float(b);
	if (isnan(af) || isnan(bf))
		return CMP(!isnan(af), !isnan(bf));
	if ((c = CMP(af, bf)) != 0 || (c = CMP(a->kind, b->kind)) != 0)
		return c;
	switch (a->kind) {
	case VK_INT:
		return CMP(a->v.i, b->v.i);
	case VK_UINT:
		return CMP(a->v.u, b->v.u);
	default:
		return 0;
	}
}

/* A stable merge sort of pair indices. */
static void
sort_pairs(const struct config_node *map, size_t *v, size_t *tmp, size_t n)
{
	size_t mid = n / 2, i = 0, j = mid, k = 0;

	if (n < 2)
		return;
	sort_pairs(map, v, tmp, mid);
	sort_pairs(map, v + mid, tmp, n - mid);
	while (i < mid && j < n) {
		if (key_cmp(map->kids[2 * v[j]], map->kids[2 * v[i]]) < 0)
			tmp[k++] = v[j++];
		else
			tmp[k++] = v[i++];
	}
	while (i < mid)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

static int
emit_write(void *data, unsigned char *buf, size_t size)
{
	struct sbuf *b = data;

	sbuf_add(b, (const char *)buf, size);
	return sbuf_ok(b);
}

static bool
emit_scalar(yaml_emitter_t *em, const struct config_node *n)
{
	yaml_event_t ev;
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
	struct resolved r;
	const char *text = n->text;
	char num[64];
	int plain = 1;

	switch (n->kind) {
	case VK_NULL:
		text = "null";
		break;
	case VK_FLOAT:
		if (isnan(n->v.f))
			text = ".nan";
		else if (isinf(n->v.f))
			text = n->v.f > 0 ? ".inf" : "-.inf";
		resolve_plain(text, &r);
		if (r.kind != VK_FLOAT) { /* "1", "-0": keep it a float */
			snprintf(num, sizeof(num), "%s.0", text);
			text = num;
		}
		break;
	case VK_STR:
		resolve_plain(text, &r);
		if (r.kind != VK_STR ||
		    (text[0] == '<' && text[1] == '<' && text[2] == '\0'))
			plain = 0; /* would not read back as this string */
		if (strchr(text, '\n') != NULL)
			style = YAML_LITERAL_SCALAR_STYLE;
		break;
	default:
		break;
	}
	if (n->textlen > INT32_MAX ||
	    !yaml_scalar_event_initialize(&ev, NULL, NULL,
	        (const yaml_char_t *)text, (int)strlen(text), plain, 1, style))
		return false;
	return yaml_emitter_emit(em, &ev) != 0;
}

static bool
emit_node(yaml_emitter_t *em, const struct config_node *n)
{
	yaml_event_t ev;
	size_t i, *idx, *tmp;
	bool ok = true;

	if (n->kind == VK_SEQ) {
		if (!yaml_sequence_start_event_initialize(
		        &ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return false;
		for (i = 0; i < n->n && ok; i++)
			ok = emit_node(em, n->kids[i]);
		return ok && yaml_sequence_end_event_initialize(&ev) &&
		       yaml_emitter_emit(em, &ev);
	}
	if (n->kind != VK_MAP)
		return emit_scalar(em, n);
	if (!yaml_mapping_start_event_initialize(
	        &ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
	    !yaml_emitter_emit(em, &ev))
		return false;
	if (n->n > 0) {
		if ((idx = calloc(n->n, sizeof(*idx))) == NULL)
			return false;
		if ((tmp = calloc(n->n, sizeof(*tmp))) == NULL) {
			free(idx);
			return false;
		}
		for (i = 0; i < n->n; i++)
			idx[i] = i;
		sort_pairs(n, idx, tmp, n->n);
		for (i = 0; i < n->n && ok; i++)
			ok = emit_node(em, n->kids[2 * idx[i]]) &&
			     emit_node(em, n->kids[2 * idx[i] + 1]);
		free(tmp);
		free(idx);
	}
	return ok && yaml_mapping_end_event_initialize(&ev) &&
	       yaml_emitter_emit(em, &ev);
}

char *
config_node_dump(const struct config_node *n)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	struct sbuf b;
	bool ok;

	if (n == NULL)
		return strdup("null\n");
	sbuf_init(&b);
	if (!yaml_emitter_initialize(&em))
		return NULL;
	yaml_emitter_set_output(&em, emit_write, &b);
	yaml_emitter_set_unicode(&em, 1);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	     yaml_emitter_emit(&em, &ev) &&
	     yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	     yaml_emitter_emit(&em, &ev) && emit_node(&em, n) &&
	     yaml_document_end_event_initialize(&ev, 1) &&
	     yaml_emitter_emit(&em, &ev) &&
	     yaml_stream_end_event_initialize(&ev) &&
	     yaml_emitter_emit(&em, &ev) && yaml_emitter_flush(&em);
	yaml_emitter_delete(&em);
	if (!ok || !sbuf_ok(&b) || b.s == NULL) {
		sbuf_free(&b);
		return NULL;
	}
	return b.s;
}

char *
config_dump(const struct config *cfg)
{
	return cfg != NULL ? config_node_dump(cfg->root) : NULL;
}
