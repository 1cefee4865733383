/*
 * lib/log.h: daemon logging, OpenBSD style, in Nebula 1.6.1's (logrus's)
 * two formats, so that what reads Nebula's logs reads ours.
 *
 * A line is a message and fields.  log_info() and the like write a
 * message alone; a struct log_ev (below) adds typed fields.  Lines go
 * to one stream, in the format logging.format names:
 *
 *   text: time="..." level=info msg="Handshake message received"
 *         certName=host2 handshake="map[stage:1 style:ix_psk0]" ...
 *     as logrus's TextFormatter: time, level and msg (none when the
 *     message is empty), then the fields sorted by key.  A value of only
 *     letters, digits and -._/@^+ is written bare, any other as Go's %q
 *     (sbuf_go_quote); a value that is not a string as Go's %v prints it
 *     (an object "map[k1:v1 k2:v2]" with its keys sorted, an array
 *     "[v1 v2]", a UDP address "10.0.0.2:4242").
 *   json: {"certName":"host2","handshake":{"stage":1,"style":"ix_psk0"},
 *          "level":"info","msg":"...","time":"..."}
 *     as logrus's JSONFormatter: one object a line, the fields, level,
 *     msg and time as keys of one map, sorted as Go's encoding/json
 *     sorts it; strings escaped by sbuf_json_str(); a UDP address as
 *     Nebula's udp.Addr marshals it, {"ip":"10.0.0.2","port":4242}.
 *
 * A field named time, msg or level is renamed fields.time and so on, as
 * logrus does.  The time is local, in RFC 3339 unless log_setup_time()
 * says otherwise.  Peer-supplied strings must pass through
 * log_sanitize() (or log_ev_peer()) first.  lib/ code never logs what
 * it returns.  The node's lines and their fields: cairn(8), LOGGING.
 */
#ifndef VPN_LOG_H
#define VPN_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "sbuf.h"

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
/* The level and format in force (the control socket's log-level). */
void log_current(enum log_level *level, enum log_format *fmt);
/* The name of a level, as log_level_parse takes it ("warning"...). */
const char *log_level_name(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A line with fields, built on the caller's stack:
 *
 *	struct log_ev ev;
 *
 *	if (log_ev_begin(&ev, LOG_LVL_INFO, "Handshake message received")) {
 *		log_ev_ip4(&ev, "vpnIp", t->vpn_ip);
 *		log_ev_str(&ev, "certName", t->name);
 *		log_ev_obj(&ev, "handshake");
 *		log_ev_u64(&ev, "stage", 1);
 *		log_ev_str(&ev, "style", "ix_psk0");
 *		log_ev_close(&ev);
 *		log_ev_end(&ev);
 *	}
 *
 * log_ev_begin() says whether the level is logged: when it is not,
 * nothing is formatted, the other calls do nothing and log_ev_end() need
 * not be called.  Keys and values are copied as they are added (the
 * caller's buffers may change after), into one buffer that log_ev_end()
 * frees after writing the line; nothing else is allocated (but, while
 * lines are held, the held line).  A key added
 * twice to the same object keeps its last value, as a Go map.  At most
 * LOG_EV_FIELDS fields and values in all; more are dropped.
 */
#define LOG_EV_FIELDS 64

/* Private: use the functions below. */
struct log_field {
	uint32_t key, val, vlen; /* offsets into data; key UINT32_MAX: none */
	uint64_t num;
	int16_t parent; /* the enclosing object or array, -1: the line */
	uint8_t kind;
};

struct log_ev {
	/* the message, keys and strings, each NUL-terminated */
	struct sbuf data;
	struct log_field f[LOG_EV_FIELDS];
	uint16_t n;
	int16_t open; /* the innermost open object or array, -1: none */
	uint8_t level;
	uint8_t lost; /* objects and arrays open that did not fit */
	bool on;
	struct timespec when;
};

/* Start a line of LEVEL with the message FMT; false (and nothing more to
 * do) when that level is not logged. */
bool log_ev_begin(struct log_ev *ev, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fields.  Inside an array the key is ignored (pass NULL). */
void log_ev_str(struct log_ev *ev, const char *key, const char *s);
void log_ev_strn(struct log_ev *ev, const char *key, const char *s, size_t len);
void log_ev_strf(struct log_ev *ev, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A string from a peer (a certificate name...): log_sanitize()d. */
void log_ev_peer(struct log_ev *ev, const char *key, const char *s, size_t len);
void log_ev_i64(struct log_ev *ev, const char *key, int64_t v);
void log_ev_u64(struct log_ev *ev, const char *key, uint64_t v);
void log_ev_bool(struct log_ev *ev, const char *key, bool v);
/* An IPv4 address (host order), as a string "10.1.0.2". */
void log_ev_ip4(struct log_ev *ev, const char *key, uint32_t ip);
/* A UDP address: IP in 16 bytes (IPv4 mapped into IPv6), and port. */
void log_ev_udp(
    struct log_ev *ev, const char *key, const uint8_t ip[16], uint16_t port);
/* logrus's WithError: the field "error". */
void log_ev_err(struct log_ev *ev, const char *s);
/* Open a nested object or array under KEY; what follows goes in it until
 * log_ev_close(). */
void log_ev_obj(struct log_ev *ev, const char *key);
void log_ev_arr(struct log_ev *ev, const char *key);
void log_ev_close(struct log_ev *ev);
/* Write the line (or hold it: log_hold) and free what ev holds. */
void log_ev_end(struct log_ev *ev);

/*
 * While a configuration loads, the log's level and format are those of
 * the previous one (or the defaults): log_hold() keeps every line from
 * then on, whatever its level, and log_release() writes them with the
 * level, format and timestamp layout set by then (each with its own
 * time), dropping those the level does not log.  A hold does not nest.
 */
void log_hold(void);
void log_release(void);

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
