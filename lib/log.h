/*
 * lib/log.h: daemon logging, OpenBSD style.  log_warn() appends
 * strerror(errno); the others print the message as given.  Lines go to
 * stderr as `time="..." level=info msg="..."` (text) or one JSON object
 * per line with the keys level, msg and time, as Nebula 1.6.1 (logrus)
 * writes them; the time is local, in RFC 3339 unless log_setup_time()
 * says otherwise.  Peer-supplied strings must pass through log_sanitize()
 * first.  lib/ code never logs what it returns.
 */
#ifndef VPN_LOG_H
#define VPN_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum log_level {
	LOG_LVL_PANIC,
	LOG_LVL_FATAL,
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

enum log_format { LOG_FMT_TEXT, LOG_FMT_JSON };

/* Longest timestamp layout log_setup_time() takes, NUL included. */
#define LOG_LAYOUT_MAX 128

/* Where and how much to log; the defaults are stderr, info, text. */
void log_setup(FILE *out, enum log_level level, enum log_format fmt);
/* How much and how, where it goes now (a reload). */
void log_set(enum log_level level, enum log_format fmt);
/*
 * The timestamps (Nebula's logging.disable_timestamp and
 * logging.timestamp_format): none when disable; else LAYOUT, a Go
 * reference-time layout (see go_format_layout() in gotime.h), copied;
 * NULL or "" is time.RFC3339, the default.  0, or VPN_ERR_RANGE (nothing
 * changed) when LAYOUT is LOG_LAYOUT_MAX bytes or longer.
 */
int log_setup_time(bool disable, const char *layout);
/* Nebula's level names (panic fatal error warning info debug; "warn" is
 * accepted too).  0 or VPN_ERR_INVAL. */
int log_level_parse(const char *s, enum log_level *out);
/* "text" or "json", in any case.  0 or VPN_ERR_INVAL. */
int log_format_parse(const char *s, enum log_format *out);
bool log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Copy src to dst (always NUL-terminated), replacing control bytes,
 * backslashes, quotes and invalid UTF-8 with visible escapes, so that a
 * peer's certificate name cannot forge log lines.
 */
void log_sanitize(const char *src, size_t len, char *dst, size_t dstlen);

/* A token bucket for rate-limited messages: at most burst at once and
 * one per interval seconds after that.  now is in seconds. */
struct log_limit {
	double tokens;
	int64_t last;
	uint64_t suppressed;
};
bool log_limit_allow(struct log_limit *l, int64_t now, double per_sec,
    double burst);

#endif
