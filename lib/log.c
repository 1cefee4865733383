/* lib/log.c: leveled logging to a stream, text or JSON lines (log.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "err.h"
#include "gotime.h"
#include "log.h"
#include "sbuf.h"

/* A process has one log; this (with the lines log_hold() keeps, below)
 * is the only mutable global state in lib/, set by main() before
 * anything runs and at a reload. */
static struct {
	FILE *out;
	enum log_level level;
	enum log_format fmt;
	bool no_time;
	char layout[LOG_LAYOUT_MAX]; /* "": time.RFC3339 */
} lg = {NULL, LOG_LVL_INFO, LOG_FMT_TEXT, false, ""};

static const char *const names[] = {
    [LOG_LVL_PANIC] = "panic",
    [LOG_LVL_FATAL] = "fatal",
    [LOG_LVL_ERROR] = "error",
    [LOG_LVL_WARN] = "warning",
    [LOG_LVL_INFO] = "info",
    [LOG_LVL_DEBUG] = "debug",
};

void
log_setup(FILE *out, enum log_level level, enum log_format fmt)
{
	lg.out = out;
	lg.level = level;
	lg.fmt = fmt;
}

void
log_set(enum log_level level, enum log_format fmt)
{
	lg.level = level;
	lg.fmt = fmt;
}

int
log_setup_time(bool disable, const char *layout)
{
	if (layout == NULL)
		layout = "";
	if (strlen(layout) >= sizeof(lg.layout))
		return VPN_ERR_RANGE;
	lg.no_time = disable;
	snprintf(lg.layout, sizeof(lg.layout), "%s", layout);
	return 0;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	if (strcmp(s, "warn") == 0) {
		*out = LOG_LVL_WARN;
		return 0;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return VPN_ERR_INVAL;
}

int
log_format_parse(const char *s, enum log_format *out)
{
	if (strcasecmp(s, "text") == 0)
		*out = LOG_FMT_TEXT;
	else if (strcasecmp(s, "json") == 0)
		*out = LOG_FMT_JSON;
	else
		return VPN_ERR_INVAL;
	return 0;
}

void
log_current(enum log_level *level, enum log_format *fmt)
{
	*level = lg.level;
	*fmt = lg.fmt;
}

const char *
log_level_name(enum log_level level)
{
	return (size_t)level < sizeof(names) / sizeof(names[0]) ? names[level]
	                                                         : "unknown";
}

/* While lines are held, every level is: log_release() sorts them. */
static bool holding;

bool
log_enabled(enum log_level level)
{
	return holding || level <= lg.level;
}

/* logrus's TextFormatter writes a value bare when it is only letters,
 * digits and -._/@^+, else quoted. */
static bool
log_bare(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= 'A' && s[i] <= 'Z') ||
		        (s[i] >= '0' && s[i] <= '9') ||
		        (s[i] != '\0' && strchr("-._/@^+", s[i]) != NULL)))
			return false;
	return true;
}

/* The time of a line in the configured layout, local. */
static void
log_time(const struct timespec *when, char *ts, size_t len)
{
	struct tm tm;
	time_t t = when->tv_sec;

	ts[0] = '\0';
	if (localtime_r(&t, &tm) == NULL)
		return;
	/* a layout that expands past len is cut short */
	(void)go_format_layout(
	    lg.layout[0] != '\0' ? lg.layout : GO_LAYOUT_RFC3339, &tm,
	    when->tv_nsec, ts, len);
}

/* --- lines with fields ------------------------------------------------ */

enum { LF_STR, LF_I64, LF_U64, LF_BOOL, LF_UDP, LF_OBJ, LF_ARR };

#define NOKEY UINT32_MAX

/* Lines kept by log_hold(), in order. */
struct held {
	struct held *next;
	struct log_ev ev;
};
static struct held *held_head, **held_tail = &held_head;

static bool
ev_start(struct log_ev *ev, enum log_level level)
{
	ev->on = holding || level <= lg.level;
	if (!ev->on)
		return false;
	sbuf_init(&ev->data);
	ev->n = 0;
	ev->open = -1;
	ev->lost = 0;
	ev->level = (uint8_t)level;
	if (clock_gettime(CLOCK_REALTIME, &ev->when) != 0)
		memset(&ev->when, 0, sizeof(ev->when));
	return true;
}

bool
log_ev_begin(struct log_ev *ev, enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!ev_start(ev, level))
		return false;
	va_start(ap, fmt);
	sbuf_vprintf(&ev->data, fmt, ap);
	va_end(ap);
	sbuf_add(&ev->data, "", 1);
	return true;
}

/* A new field in the open object or array; NULL when there is no room
 * (or the line is not logged). */
static struct log_field *
ev_add(struct log_ev *ev, const char *key, uint8_t kind)
{
	struct log_field *f;

	if (!ev->on || ev->lost > 0 || ev->n >= LOG_EV_FIELDS ||
	    ev->data.len >= NOKEY / 2)
		return NULL;
	f = &ev->f[ev->n++];
	f->parent = ev->open;
	f->kind = kind;
	f->val = f->vlen = 0;
	f->num = 0;
	if (key == NULL || (ev->open >= 0 && ev->f[ev->open].kind == LF_ARR)) {
		f->key = NOKEY;
	} else {
		f->key = (uint32_t)ev->data.len;
		sbuf_add(&ev->data, key, strlen(key) + 1);
	}
	return f;
}

static void
ev_val(struct log_ev *ev, struct log_field *f, const char *s, size_t len)
{
	f->val = (uint32_t)ev->data.len;
	f->vlen = (uint32_t)len;
	sbuf_add(&ev->data, s, len);
	sbuf_add(&ev->data, "", 1);
}

void
log_ev_strn(struct log_ev *ev, const char *key, const char *s, size_t len)
{
	struct log_field *f = ev_add(ev, key, LF_STR);

	if (f != NULL)
		ev_val(ev, f, s != NULL ? s : "", s != NULL ? len : 0);
}

void
log_ev_str(struct log_ev *ev, const char *key, const char *s)
{
	log_ev_strn(ev, key, s, s != NULL ? strlen(s) : 0);
}

void
log_ev_strf(struct log_ev *ev, const char *key, const char *fmt, ...)
{
	struct log_field *f = ev_add(ev, key, LF_STR);
	va_list ap;

	if (f == NULL)
		return;
	f->val = (uint32_t)ev->data.len;
	va_start(ap, fmt);
	sbuf_vprintf(&ev->data, fmt, ap);
	va_end(ap);
	f->vlen = (uint32_t)(ev->data.len - f->val);
	sbuf_add(&ev->data, "", 1);
}

void
log_ev_peer(struct log_ev *ev, const char *key, const char *s, size_t len)
{
	struct log_field *f = ev_add(ev, key, LF_STR);
	size_t at;

	if (f == NULL)
		return;
	at = ev->data.len;
	sbuf_json_str(&ev->data, s, len); /* as log_sanitize() */
	if (!sbuf_ok(&ev->data) || ev->data.len - at < 2)
		return;
	memmove(ev->data.s + at, ev->data.s + at + 1, ev->data.len - at - 2);
	ev->data.len -= 2;
	f->val = (uint32_t)at;
	f->vlen = (uint32_t)(ev->data.len - at);
	sbuf_add(&ev->data, "", 1);
}

void
log_ev_i64(struct log_ev *ev, const char *key, int64_t v)
{
	struct log_field *f = ev_add(ev, key, LF_I64);

	if (f != NULL)
		f->num = (uint64_t)v;
}

void
log_ev_u64(struct log_ev *ev, const char *key, uint64_t v)
{
	struct log_field *f = ev_add(ev, key, LF_U64);

	if (f != NULL)
		f->num = v;
}

void
log_ev_bool(struct log_ev *ev, const char *key, bool v)
{
	struct log_field *f = ev_add(ev, key, LF_BOOL);

	if (f != NULL)
		f->num = v;
}

void
log_ev_ip4(struct log_ev *ev, const char *key, uint32_t ip)
{
	log_ev_strf(ev, key, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255,
	    ip >> 8 & 255, ip & 255);
}

void
log_ev_udp(
    struct log_ev *ev, const char *key, const uint8_t ip[16], uint16_t port)
{
	static const uint8_t v4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255};
	struct log_field *f = ev_add(ev, key, LF_UDP);
	char a[INET6_ADDRSTRLEN];

	if (f == NULL)
		return;
	f->num = port;
	/* as Go's net.IP.String(): an IPv4-mapped address in dotted quad */
	if (memcmp(ip, v4, 12) == 0)
		snprintf(a, sizeof(a), "%u.%u.%u.%u", ip[12], ip[13], ip[14],
		    ip[15]);
	else if (inet_ntop(AF_INET6, ip, a, sizeof(a)) == NULL)
		a[0] = '\0';
	ev_val(ev, f, a, strlen(a));
}

void
log_ev_err(struct log_ev *ev, const char *s)
{
	log_ev_str(ev, "error", s);
}

static void
ev_open(struct log_ev *ev, const char *key, uint8_t kind)
{
	struct log_field *f;

	if (!ev->on)
		return;
	if ((f = ev_add(ev, key, kind)) == NULL) {
		if (ev->lost < UINT8_MAX)
			ev->lost++; /* what goes in it is dropped too */
		return;
	}
	ev->open = (int16_t)(f - ev->f);
}

void
log_ev_obj(struct log_ev *ev, const char *key)
{
	ev_open(ev, key, LF_OBJ);
}

void
log_ev_arr(struct log_ev *ev, const char *key)
{
	ev_open(ev, key, LF_ARR);
}

void
log_ev_close(struct log_ev *ev)
{
	if (!ev->on)
		return;
	if (ev->lost > 0)
		ev->lost--;
	else if (ev->open >= 0)
		ev->open = ev->f[ev->open].parent;
}

/* A field's key; on the line, logrus's names for those that would clash
 * with its own (prefixFieldClashes). */
static const char *
ev_key(const struct log_ev *ev, int i)
{
	static const char *const clash[][2] = {
	    {"time", "fields.time"},
	    {"msg", "fields.msg"},
	    {"level", "fields.level"},
	    {"logrus_error", "fields.logrus_error"},
	};
	const char *k;
	size_t j;

	if (ev->f[i].key == NOKEY)
		return "";
	k = ev->data.s + ev->f[i].key;
	if (ev->f[i].parent == -1)
		for (j = 0; j < sizeof(clash) / sizeof(clash[0]); j++)
			if (strcmp(k, clash[j][0]) == 0)
				return clash[j][1];
	return k;
}

/* The fields in parent p (-1: the line) into out: in order in an array;
 * in an object sorted by key (a stable sort), the last of equal keys
 * kept, as a Go map has one value a key.  How many. */
static size_t
ev_children(const struct log_ev *ev, int p, uint16_t *out)
{
	size_t n = 0, i, j, k;
	uint16_t t;

	for (i = 0; i < ev->n; i++)
		if (ev->f[i].parent == p)
			out[n++] = (uint16_t)i;
	if (p >= 0 && ev->f[p].kind == LF_ARR)
		return n;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(ev_key(ev, out[j - 1]),
		                         ev_key(ev, out[j])) > 0;
		     j--) {
			t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	for (i = k = 0; i < n; i++)
		if (i + 1 == n ||
		    strcmp(ev_key(ev, out[i]), ev_key(ev, out[i + 1])) != 0)
			out[k++] = out[i];
	return k;
}

static const char *
ev_sval(const struct log_ev *ev, int i)
{
	return ev->data.s + ev->f[i].val;
}

/* A value as Go's fmt %v prints it. */
static void
ev_text(const struct log_ev *ev, int i, struct sbuf *b)
{
	const struct log_field *f = &ev->f[i];
	uint16_t c[LOG_EV_FIELDS];
	size_t n, j;

	switch (f->kind) {
	case LF_STR:
		sbuf_add(b, ev_sval(ev, i), f->vlen);
		break;
	case LF_I64:
		sbuf_printf(b, "%lld", (long long)(int64_t)f->num);
		break;
	case LF_U64:
		sbuf_printf(b, "%llu", (unsigned long long)f->num);
		break;
	case LF_BOOL:
		sbuf_puts(b, f->num ? "true" : "false");
		break;
	case LF_UDP: /* net.JoinHostPort */
		sbuf_printf(b,
		    strchr(ev_sval(ev, i), ':') != NULL ? "[%s]:%u" : "%s:%u",
		    ev_sval(ev, i), (unsigned)f->num);
		break;
	case LF_OBJ:
	case LF_ARR:
	default:
		n = ev_children(ev, i, c);
		sbuf_puts(b, f->kind == LF_OBJ ? "map[" : "[");
		for (j = 0; j < n; j++) {
			if (j > 0)
				sbuf_puts(b, " ");
			if (f->kind == LF_OBJ)
				sbuf_printf(b, "%s:", ev_key(ev, c[j]));
			ev_text(ev, c[j], b);
		}
		sbuf_puts(b, "]");
		break;
	}
}

/* A value as encoding/json writes it. */
static void
ev_json(const struct log_ev *ev, int i, struct sbuf *b)
{
	const struct log_field *f = &ev->f[i];
	uint16_t c[LOG_EV_FIELDS];
	const char *k;
	size_t n, j;

	switch (f->kind) {
	case LF_STR:
		sbuf_json_str(b, ev_sval(ev, i), f->vlen);
		break;
	case LF_UDP: /* Nebula's udp.Addr.MarshalJSON */
		sbuf_puts(b, "{\"ip\":");
		sbuf_json_str(b, ev_sval(ev, i), f->vlen);
		sbuf_printf(b, ",\"port\":%u}", (unsigned)f->num);
		break;
	case LF_I64:
	case LF_U64:
	case LF_BOOL:
		ev_text(ev, i, b);
		break;
	case LF_OBJ:
	case LF_ARR:
	default:
		n = ev_children(ev, i, c);
		sbuf_puts(b, f->kind == LF_OBJ ? "{" : "[");
		for (j = 0; j < n; j++) {
			if (j > 0)
				sbuf_puts(b, ",");
			if (f->kind == LF_OBJ) {
				k = ev_key(ev, c[j]);
				sbuf_json_str(b, k, strlen(k));
				sbuf_puts(b, ":");
			}
			ev_json(ev, c[j], b);
		}
		sbuf_puts(b, f->kind == LF_OBJ ? "}" : "]");
		break;
	}
}

/* key=value as logrus's TextFormatter appends it. */
static void
text_kv(struct sbuf *b, const char *key, const char *v, size_t len)
{
	if (b->len > 0)
		sbuf_puts(b, " ");
	sbuf_printf(b, "%s=", key);
	if (log_bare(v, len))
		sbuf_add(b, v, len);
	else
		sbuf_go_quote(b, v, len);
}

static void
json_kv(struct sbuf *b, const char *key, const char *v, size_t len)
{
	if (b->len > 1)
		sbuf_puts(b, ",");
	sbuf_json_str(b, key, strlen(key));
	sbuf_puts(b, ":");
	sbuf_json_str(b, v, len);
}

/* ev's line, in the format set now. */
static void
ev_render(const struct log_ev *ev, struct sbuf *line)
{
	static const char *const fixed[] = {"level", "msg", "time"};
	const char *vals[3], *msg = ev->data.s, *k;
	uint16_t c[LOG_EV_FIELDS];
	char ts[512];
	struct sbuf v;
	size_t n, i, fi = 0;

	if (!lg.no_time)
		log_time(&ev->when, ts, sizeof(ts));
	n = ev_children(ev, -1, c);
	if (lg.fmt == LOG_FMT_JSON) {
		/* the fields, level, msg and time as one sorted map */
		vals[0] = names[ev->level];
		vals[1] = msg;
		vals[2] = lg.no_time ? NULL : ts;
		sbuf_puts(line, "{");
		for (i = 0; i <= n; i++) {
			k = i < n ? ev_key(ev, c[i]) : NULL;
			for (;
			     fi < 3 && (k == NULL || strcmp(fixed[fi], k) < 0);
			     fi++)
				if (vals[fi] != NULL)
					json_kv(line, fixed[fi], vals[fi],
					    strlen(vals[fi]));
			if (k == NULL)
				break;
			if (line->len > 1)
				sbuf_puts(line, ",");
			sbuf_json_str(line, k, strlen(k));
			sbuf_puts(line, ":");
			ev_json(ev, c[i], line);
		}
		sbuf_puts(line, "}\n");
		return;
	}
	if (!lg.no_time)
		text_kv(line, "time", ts, strlen(ts));
	text_kv(line, "level", names[ev->level], strlen(names[ev->level]));
	if (*msg != '\0')
		text_kv(line, "msg", msg, strlen(msg));
	for (i = 0; i < n; i++) {
		if (ev->f[c[i]].kind == LF_STR) {
			text_kv(line, ev_key(ev, c[i]), ev_sval(ev, c[i]),
			    ev->f[c[i]].vlen);
			continue;
		}
		sbuf_init(&v);
		ev_text(ev, c[i], &v);
		if (sbuf_ok(&v))
			text_kv(line, ev_key(ev, c[i]), v.len > 0 ? v.s : "",
			    v.len);
		sbuf_free(&v);
	}
	sbuf_puts(line, "\n");
}

static void
ev_write(const struct log_ev *ev)
{
	FILE *out = lg.out != NULL ? lg.out : stderr;
	struct sbuf line;

	if (!sbuf_ok(&ev->data) || ev->data.s == NULL)
		return;
	sbuf_init(&line);
	ev_render(ev, &line);
	if (sbuf_ok(&line))
		fwrite(line.s, 1, line.len, out);
	fflush(out);
	sbuf_free(&line);
}

void
log_ev_end(struct log_ev *ev)
{
	struct held *h;

	if (!ev->on)
		return;
	ev->on = false;
	if (holding && (h = malloc(sizeof(*h))) != NULL) {
		h->ev = *ev; /* the data goes with it */
		h->next = NULL;
		*held_tail = h;
		held_tail = &h->next;
		return;
	}
	ev_write(ev);
	sbuf_free(&ev->data);
}

void
log_hold(void)
{
	holding = true;
}

void
log_release(void)
{
	struct held *h, *next;

	holding = false;
	for (h = held_head; h != NULL; h = next) {
		next = h->next;
		if (h->ev.level <= lg.level)
			ev_write(&h->ev);
		sbuf_free(&h->ev.data);
		free(h);
	}
	held_head = NULL;
	held_tail = &held_head;
}

/* --- messages alone --------------------------------------------------- */

static void __attribute__((format(printf, 2, 0)))
vlog(enum log_level level, const char *fmt, va_list ap, const char *suffix)
{
	struct log_ev ev;

	if (!ev_start(&ev, level))
		return;
	sbuf_vprintf(&ev.data, fmt, ap);
	if (suffix != NULL)
		sbuf_printf(&ev.data, ": %s", suffix);
	sbuf_add(&ev.data, "", 1);
	log_ev_end(&ev);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	char reason[128];
	va_list ap;

	snprintf(reason, sizeof(reason), "%s", strerror(errno));
	va_start(ap, fmt);
	vlog(LOG_LVL_WARN, fmt, ap, reason);
	va_end(ap);
}

#define LOG_FN(fn, lvl)                                                       \
	void fn(const char *fmt, ...)                                        \
	{                                                                     \
		va_list ap;                                                   \
                                                                              \
		va_start(ap, fmt);                                            \
		vlog(lvl, fmt, ap, NULL);                                     \
		va_end(ap);                                                   \
	}
LOG_FN(log_warnx, LOG_LVL_WARN)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)

void
log_sanitize(const char *src, size_t len, char *dst, size_t dstlen)
{
	struct sbuf b;
	size_t n;

	if (dstlen == 0)
		return;
	/* JSON escaping shows every control byte and bad UTF-8 visibly;
	 * strip the surrounding quotes. */
	sbuf_init(&b);
	sbuf_json_str(&b, src, len);
	if (!sbuf_ok(&b) || b.len < 2) {
		dst[0] = '\0';
	} else {
		n = b.len - 2 < dstlen - 1 ? b.len - 2 : dstlen - 1;
		memcpy(dst, b.s + 1, n);
		dst[n] = '\0';
	}
	sbuf_free(&b);
}

bool
log_limit_allow(struct log_limit *l, int64_t now, double per_sec,
    double burst)
{
	if (l->last == 0) {
		l->tokens = burst;
		l->last = now;
	}
	if (now > l->last) {
		l->tokens += (double)(now - l->last) * per_sec;
		if (l->tokens > burst)
			l->tokens = burst;
		l->last = now;
	}
	if (l->tokens >= 1.0) {
		l->tokens -= 1.0;
		return true;
	}
	l->suppressed++;
	return false;
}
