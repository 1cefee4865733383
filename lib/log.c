/* lib/log.c: leveled logging to a stream, text or JSON lines. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "err.h"
#include "gotime.h"
#include "log.h"
#include "sbuf.h"

/* A process has one log; this is the only mutable global state in lib/,
 * set once by main() before anything runs. */
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

bool
log_enabled(enum log_level level)
{
	return level <= lg.level;
}

/* logrus's TextFormatter writes a value bare when it is only letters,
 * digits and -._/@^+, else quoted. */
static bool
log_bare(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		        (*s >= '0' && *s <= '9') || strchr("-._/@^+", *s)))
			return false;
	return true;
}

/* The time of a line in the configured layout, local. */
static void
log_time(char *ts, size_t len)
{
	struct timespec now;
	struct tm tm;
	time_t t;

	ts[0] = '\0';
	if (clock_gettime(CLOCK_REALTIME, &now) != 0)
		return;
	t = now.tv_sec;
	if (localtime_r(&t, &tm) == NULL)
		return;
	/* a layout that expands past len is cut short */
	(void)go_format_layout(
	    lg.layout[0] != '\0' ? lg.layout : GO_LAYOUT_RFC3339, &tm,
	    now.tv_nsec, ts, len);
}

static void __attribute__((format(printf, 2, 0)))
vlog(enum log_level level, const char *fmt, va_list ap, const char *suffix)
{
	FILE *out = lg.out != NULL ? lg.out : stderr;
	struct sbuf msg, line;
	char ts[512];

	if (!log_enabled(level))
		return;
	if (!lg.no_time)
		log_time(ts, sizeof(ts));
	sbuf_init(&msg);
	sbuf_init(&line);
	sbuf_vprintf(&msg, fmt, ap);
	if (suffix != NULL)
		sbuf_printf(&msg, ": %s", suffix);
	if (lg.fmt == LOG_FMT_JSON) {
		/* the keys sorted, as encoding/json writes a map */
		sbuf_printf(&line, "{\"level\":\"%s\",\"msg\":", names[level]);
		sbuf_json_str(&line, msg.s != NULL ? msg.s : "", msg.len);
		if (!lg.no_time) {
			sbuf_puts(&line, ",\"time\":");
			sbuf_json_str(&line, ts, strlen(ts));
		}
		sbuf_puts(&line, "}\n");
	} else {
		if (!lg.no_time) {
			sbuf_puts(&line, "time=");
			if (log_bare(ts))
				sbuf_puts(&line, ts);
			else
				sbuf_json_str(&line, ts, strlen(ts));
			sbuf_puts(&line, " ");
		}
		sbuf_printf(&line, "level=%s msg=", names[level]);
		sbuf_json_str(&line, msg.s != NULL ? msg.s : "", msg.len);
		sbuf_puts(&line, "\n");
	}
	if (sbuf_ok(&line))
		fwrite(line.s, 1, line.len, out);
	fflush(out);
	sbuf_free(&msg);
	sbuf_free(&line);
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
