/*
 * node/stats.c: the stats section (stats.h).  One list of series,
 * written out by the Prometheus and the Graphite formatter; the names
 * and what each means are in cairn(8), METRICS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "counters.h"
#include "gotime.h"
#include "lhmsg.h"
#include "log.h"
#include "nodeint.h"
#include "pki.h"
#include "sbuf.h"
#include "stats.h"
#include "worker.h"

#define HTTP_TIMEOUT 10       /* s: to read a request, and idle */
#define HTTP_MAX_HEADERS 8192 /* bytes of request line and headers */
#define HTTP_MAX_BODY 1024    /* a scrape has none */
#define HTTP_BACKLOG 16
#define ACCEPT_PAUSE 1      /* s: no accepting after accept() failed */
#define GRAPHITE_DGRAM 1400 /* UDP: lines per datagram up to this */

struct stats {
	struct node *n;
	struct stats_cfg c; /* as at start: the keys are read at start only */
	/* prometheus */
	struct evhttp *http;
	struct evconnlistener *lev; /* evhttp's listener */
	struct event *ev_resume;    /* accepting again after a failure */
	/* graphite */
	struct event *ev_tick;
	bool udp;
	int fd;              /* UDP: the socket; TCP: the round being sent */
	struct event *ev_fd; /* TCP: writable */
	struct sbuf out;     /* TCP: the round being sent, from off on */
	size_t off;
	struct log_limit lim;
	struct stats *next; /* running, with an endpoint: `endpoints' */
};

/* The exporters with an endpoint: the listener's error callback gets
 * evhttp's argument, not ours, and finds its own here (tests run several
 * nodes on one loop). */
static struct stats *endpoints;

/* One series: a value now, under its dotted name. */
struct series {
	const char *name;   /* Nebula's registry name, or ours */
	const char *help;   /* NULL: the name (Nebula's exporter's help) */
	bool total;         /* only grows */
	bool nebula;        /* Nebula's: a gauge for Prometheus */
	const char *labels; /* Prometheus labels inside {}, or NULL */
	const char *gname;  /* Graphite: one more name component, or NULL */
	int64_t v;
};

struct emitter {
	void (*fn)(struct emitter *e, const struct series *s);
	const struct stats_cfg *c;
	struct sbuf *out;
	int64_t now;
	char last[512]; /* Prometheus: the last series' metric name */
};

static void
put(struct emitter *e, const char *name, const char *help, bool total,
    bool nebula, int64_t v)
{
	struct series s = {name, help, total, nebula, NULL, NULL, v};

	e->fn(e, &s);
}

static int64_t
ctr(const struct node *n, const char *name)
{
	uint64_t v = 0;

	(void)node_counter(n, name, &v);
	return (int64_t)v;
}

/* Nebula's MessageMetrics names, by msg_kind (worker.h). */
static const char *const msg_names[MSGK_COUNT] = {
    [MSGK_HANDSHAKE] = "handshake_ixpsk0",
    [MSGK_RECV_ERROR] = "recv_error",
    [MSGK_LIGHTHOUSE] = "lighthouse",
    [MSGK_TEST_REQUEST] = "test_request",
    [MSGK_TEST_RESPONSE] = "test_response",
    [MSGK_CLOSE_TUNNEL] = "close_tunnel",
    [MSGK_OTHER] = "other",
};

/* The NebulaMeta types Nebula's lighthouse metrics name; the rest are
 * "other". */
static const char *const lh_names[LH_KINDS] = {
    [LHMSG_HOST_QUERY] = "HostQuery",
    [LHMSG_HOST_QUERY_REPLY] = "HostQueryReply",
    [LHMSG_HOST_UPDATE_NOTIFICATION] = "HostUpdateNotification",
    [LHMSG_HOST_PUNCH_NOTIFICATION] = "HostPunchNotification",
};

/* Nebula's udp.<i>.* gauges: the socket's SO_MEMINFO, in its order. */
static const char *const meminfo_names[SK_MEMINFO_VARS] = {
    [SK_MEMINFO_RMEM_ALLOC] = "rmem_alloc",
    [SK_MEMINFO_RCVBUF] = "rcvbuf",
    [SK_MEMINFO_WMEM_ALLOC] = "wmem_alloc",
    [SK_MEMINFO_SNDBUF] = "sndbuf",
    [SK_MEMINFO_FWD_ALLOC] = "fwd_alloc",
    [SK_MEMINFO_WMEM_QUEUED] = "wmem_queued",
    [SK_MEMINFO_OPTMEM] = "optmem",
    [SK_MEMINFO_BACKLOG] = "backlog",
    [SK_MEMINFO_DROPS] = "drops",
};

/* The series under Nebula 1.6.1's names that the node has. */
static void
collect_nebula(const struct node *n, struct emitter *e)
{
	static const char *const why[3] = {"remote_ip", "local_ip", "no_rule"};
	const struct dp_stats *st = &n->wk->st;
	const char *dir;
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t ml = sizeof(mem);
	uint64_t other;
	char name[96];
	int i, d, k;

	put(e, "handshake_manager.initiated", NULL, true, true,
	    ctr(n, "hsStarted"));
	put(e, "handshake_manager.timed_out", NULL, true, true,
	    ctr(n, "hsTimedOut"));
	put(e, "hostmap.main.hosts", NULL, false, true, ctr(n, "tunnels"));
	put(e, "hostmap.main.indexes", NULL, false, true, ctr(n, "tunnels"));
	put(e, "hostmap.main.remoteIndexes", NULL, false, true,
	    ctr(n, "tunnels"));
	put(e, "hostmap.main.relayIndexes", NULL, false, true,
	    ctr(n, "relays"));
	put(e, "hostmap.pending.hosts", NULL, false, true, ctr(n, "pending"));
	put(e, "hostmap.pending.indexes", NULL, false, true, ctr(n, "pending"));
	put(e, "firewall.conntrack.count", NULL, false, true,
	    ctr(n, "conntrack"));
	/* Nebula's starts at 0; ours at 1, one more per reload */
	put(e, "firewall.rules.version", NULL, false, true,
	    n->cfg->fw != NULL ? (int64_t)fw_version(n->cfg->fw) - 1 : 0);
	for (d = 1; d >= 0; d--) {
		dir = d ? "incoming" : "outgoing";
		for (i = 0; i < 3; i++) {
			snprintf(name, sizeof(name), "firewall.%s.dropped.%s",
			    dir, why[i]);
			put(e, name, NULL, true, true,
			    (int64_t)st->fw_drop[d][i]);
		}
	}
	/* recv_error always, the rest with stats.message_metrics */
	for (d = 0; d < 2; d++)
		for (k = 0; k < MSGK_COUNT; k++) {
			if (k != MSGK_RECV_ERROR && !e->c->message_metrics)
				continue;
			snprintf(name, sizeof(name), "messages.%s.%s",
			    d ? "tx" : "rx", msg_names[k]);
			put(e, name, NULL, true, true,
			    (int64_t)(d ? st->msg_tx[k] : st->msg_rx[k]));
		}
	for (d = 0; d < 2 && e->c->lighthouse_metrics; d++) {
		const uint64_t *by = d ? st->lh_tx : st->lh_rx;

		for (k = 0, other = 0; k < LH_KINDS; k++) {
			if (lh_names[k] == NULL) {
				other += by[k];
				continue;
			}
			snprintf(name, sizeof(name), "lighthouse.%s.%s",
			    d ? "tx" : "rx", lh_names[k]);
			put(e, name, NULL, true, true, (int64_t)by[k]);
		}
		snprintf(
		    name, sizeof(name), "lighthouse.%s.other", d ? "tx" : "rx");
		put(e, name, NULL, true, true, (int64_t)other);
	}
	if (n->cfg->cert != NULL)
		put(e, "certificate.ttl_seconds", NULL, false, true,
		    n->cfg->cert->not_after - e->now);
	/* a kernel socket only (the tests' simulated one has none) */
	if (getsockopt(n->wk->udp->ops->fd(n->wk->udp), SOL_SOCKET, SO_MEMINFO,
	        mem, &ml) == 0)
		for (k = 0; k < SK_MEMINFO_VARS && (size_t)k * 4 < ml; k++) {
			snprintf(
			    name, sizeof(name), "udp.0.%s", meminfo_names[k]);
			put(e, name, NULL, false, true, mem[k]);
		}
}

/* "mesh." and the counter's name in snake case: udpRxBytes ->
 * mesh.udp_rx_bytes. */
static void
our_name(const char *name, char *buf, size_t len)
{
	size_t o = (size_t)snprintf(buf, len, "mesh.");

	for (; *name != '\0' && o + 2 < len; name++) {
		if (*name >= 'A' && *name <= 'Z') {
			buf[o++] = '_';
			buf[o++] = (char)(*name | 0x20);
		} else {
			buf[o++] = *name;
		}
	}
	buf[o] = '\0';
}

/* A Prometheus label value: \, " and newline escaped. */
static void
label_value(struct sbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			sbuf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			sbuf_puts(b, "\\n");
		else
			sbuf_add(b, s, 1);
	}
}

/* Ours: the counter table, and each CA's time left. */
static void
collect_ours(const struct node *n, struct emitter *e)
{
	const struct counter_def *t;
	const struct cert *ca;
	uint8_t fp[CERT_FP_LEN];
	char name[96], hex[CERT_FP_HEXLEN];
	struct sbuf lb;
	struct series s;
	size_t cnt, i, j;

	t = node_counters(&cnt);
	for (i = 0; i < cnt; i++) {
		our_name(t[i].name, name, sizeof(name));
		put(e, name, t[i].help, t[i].kind == COUNTER_TOTAL, false,
		    (int64_t)t[i].get(n));
	}
	for (i = 0; n->cfg->ca != NULL && i < ca_pool_count(n->cfg->ca); i++) {
		if ((ca = ca_pool_get(n->cfg->ca, i, fp)) == NULL)
			continue;
		for (j = 0; j < CERT_FP_LEN; j++)
			snprintf(hex + 2 * j, 3, "%02x", fp[j]);
		sbuf_init(&lb);
		sbuf_puts(&lb, "ca=\"");
		label_value(&lb, ca->name.s != NULL ? ca->name.s : "");
		sbuf_printf(&lb, "\",fingerprint=\"%s\"", hex);
		if (sbuf_ok(&lb)) {
			s = (struct series){"mesh.ca_ttl_seconds",
			    "seconds until the CA certificate expires", false,
			    false, lb.s, hex, ca->not_after - e->now};
			e->fn(e, &s);
		}
		sbuf_free(&lb);
	}
}

static void
collect(const struct node *n, struct emitter *e)
{
	collect_nebula(n, e);
	collect_ours(n, e);
}

/* Nebula's exporter's name: namespace, subsystem and name, each with
 * ' ', '.', '-' and '=' as '_', the empty ones left out, joined by '_';
 * then "_total" for a counter of ours. */
static void
prom_name(
    const struct stats_cfg *c, const struct series *s, char *buf, size_t len)
{
	const char *part[3] = {c->ns, c->sub, s->name};
	size_t o = 0, i;
	const char *p;

	for (i = 0; i < 3; i++) {
		if (*part[i] == '\0')
			continue;
		if (o > 0 && o + 1 < len)
			buf[o++] = '_';
		for (p = part[i]; *p != '\0' && o + 1 < len; p++)
			buf[o++] = strchr(" .-=", *p) != NULL ? '_' : *p;
	}
	buf[o] = '\0';
	if (s->total && !s->nebula && o + 6 < len)
		memcpy(buf + o, "_total", 7);
}

static void
prom_emit(struct emitter *e, const struct series *s)
{
	char fq[512];
	const char *h;

	prom_name(e->c, s, fq, sizeof(fq));
	if (strcmp(fq, e->last) != 0) {
		sbuf_printf(e->out, "# HELP %s ", fq);
		for (h = s->help != NULL ? s->help : s->name; *h != '\0'; h++)
			if (*h == '\\')
				sbuf_puts(e->out, "\\\\");
			else if (*h == '\n')
				sbuf_puts(e->out, "\\n");
			else
				sbuf_add(e->out, h, 1);
		sbuf_printf(e->out, "\n# TYPE %s %s\n", fq,
		    s->total && !s->nebula ? "counter" : "gauge");
		snprintf(e->last, sizeof(e->last), "%s", fq);
	}
	sbuf_printf(e->out, "%s%s%s%s %lld\n", fq, s->labels ? "{" : "",
	    s->labels ? s->labels : "", s->labels ? "}" : "", (long long)s->v);
}

void
stats_prometheus(const struct node *n, const struct stats_cfg *c, int64_t now,
    struct sbuf *out)
{
	struct emitter e = {prom_emit, c, out, now, ""};
	struct series info = {"info", "Version information for this binary",
	    false, true, "version=\"" VPN_VERSION "\"", NULL, 1};

	prom_emit(&e, &info);
	collect(n, &e);
}

/* go-metrics-graphite's lines: counters ".count", gauges ".value". */
static void
graphite_emit(struct emitter *e, const struct series *s)
{
	sbuf_printf(e->out, "%s.%s%s%s.%s %lld %lld\n", e->c->prefix, s->name,
	    s->gname ? "." : "", s->gname ? s->gname : "",
	    s->total ? "count" : "value", (long long)s->v, (long long)e->now);
}

void
stats_graphite(const struct node *n, const struct stats_cfg *c, int64_t now,
    struct sbuf *out)
{
	struct emitter e = {graphite_emit, c, out, now, ""};

	collect(n, &e);
}

static socklen_t
to_sockaddr(const struct udp_addr *a, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (udp_addr_is_v4(a)) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a->ip + 12, 4);
		sin->sin_port = htons(a->port);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, a->ip, 16);
	sin6->sin6_port = htons(a->port);
	return sizeof(*sin6);
}

static void
from_sockaddr(const struct sockaddr_storage *ss, struct udp_addr *a)
{
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;

	if (ss->ss_family == AF_INET) {
		udp_addr_from_v4(
		    a, ntohl(sin->sin_addr.s_addr), ntohs(sin->sin_port));
		return;
	}
	memcpy(a->ip, &sin6->sin6_addr, 16);
	a->port = ntohs(sin6->sin6_port);
}

static int64_t
now_s(void)
{
	return node_real_ns() / 1000000000;
}

/* --- Prometheus ------------------------------------------------------ */

/* Go's ServeMux: a path ending in '/' is a subtree. */
static bool
path_matches(const char *want, const char *path)
{
	size_t wl = strlen(want);

	if (path == NULL)
		return false;
	if (wl > 0 && want[wl - 1] == '/')
		return strncmp(path, want, wl) == 0;
	return strcmp(path, want) == 0;
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct stats *s = arg;
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	struct evkeyvalq *h;
	struct evbuffer *body;
	struct sbuf b;
	char len[24];

	if (u == NULL || !path_matches(s->c.path, evhttp_uri_get_path(u))) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	sbuf_init(&b);
	stats_prometheus(s->n, &s->c, now_s(), &b);
	if (!sbuf_ok(&b) || (body = evbuffer_new()) == NULL) {
		sbuf_free(&b);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(
	    h, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	/* HEAD: the length of what GET would get, and nothing */
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		snprintf(len, sizeof(len), "%zu", b.len);
		evhttp_add_header(h, "Content-Length", len);
	} else {
		evbuffer_add(body, b.s, b.len);
	}
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
	sbuf_free(&b);
}

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct stats *s = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(s->lev);
}

/* accept() failed for another reason than a connection gone (out of
 * descriptors, say): level-triggered, it would fail again at once, so
 * wait a moment. */
static void
on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct timeval tv = {ACCEPT_PAUSE, 0};
	struct stats *s;
	int e = errno;

	(void)arg; /* evhttp's */
	for (s = endpoints; s != NULL && s->lev != lev; s = s->next)
		;
	if (s == NULL)
		return;
	if (log_limit_allow(&s->lim, now_s(), 1.0 / 60, 3))
		log_warnx("stats: cannot accept a connection: %s", strerror(e));
	evconnlistener_disable(lev);
	event_add(s->ev_resume, &tv);
}

/* The listening socket of stats.listen; -1 with the reason logged. */
static int
listen_socket(const struct stats_cfg *c, struct udp_addr *bound)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&ss;
	struct udp_addr any;
	socklen_t sl;
	int fd, one = 1, zero = 0, e;

	if (c->listen_any) { /* every address, IPv6 and IPv4 */
		memset(&ss, 0, sizeof(ss));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons(c->listen_addr.port);
		sl = sizeof(*sin6);
	} else {
		sl = to_sockaddr(&c->listen_addr, &ss);
	}
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && c->listen_any && errno == EAFNOSUPPORT) {
		udp_addr_from_v4(&any, 0, c->listen_addr.port);
		sl = to_sockaddr(&any, &ss); /* an IPv4-only kernel */
		fd = socket(
		    AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0) {
		log_msg(LOG_LVL_FATAL, "stats.listen %s: socket: %s", c->listen,
		    strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6 && c->listen_any)
		(void)setsockopt(
		    fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
	    listen(fd, HTTP_BACKLOG) != 0) {
		e = errno;
		log_msg(LOG_LVL_FATAL, "stats.listen %s: %s", c->listen,
		    strerror(e));
		close(fd);
		return -1;
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		from_sockaddr(&ss, bound);
	return fd;
}

static int
prometheus_start(struct stats *s)
{
	struct evhttp_bound_socket *bs;
	struct udp_addr bound = s->c.listen_addr;
	char a[UDP_ADDR_STRLEN];
	int fd;

	if ((fd = listen_socket(&s->c, &bound)) < 0)
		return -1;
	if ((s->http = evhttp_new(s->n->base)) == NULL ||
	    (s->ev_resume = evtimer_new(s->n->base, on_resume, s)) == NULL ||
	    (bs = evhttp_accept_socket_with_handle(s->http, fd)) == NULL) {
		close(fd);
		return -1;
	}
	evhttp_set_timeout(s->http, HTTP_TIMEOUT);
	evhttp_set_max_headers_size(s->http, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(s->http, HTTP_MAX_BODY);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(s->http, on_request, s);
	s->lev = evhttp_bound_socket_get_listener(bs);
	evconnlistener_set_error_cb(s->lev, on_accept_error);
	s->next = endpoints;
	endpoints = s;
	udp_addr_format(&bound, a);
	log_info("Prometheus stats listening on %s at %s", a, s->c.path);
	return 0;
}

/* --- Graphite -------------------------------------------------------- */

static void
round_close(struct stats *s)
{
	if (s->ev_fd != NULL)
		event_free(s->ev_fd);
	s->ev_fd = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	sbuf_free(&s->out);
	sbuf_init(&s->out);
	s->off = 0;
}

static void
graphite_warn(struct stats *s, const char *what, int e)
{
	if (log_limit_allow(&s->lim, now_s(), 1.0 / 60, 3))
		log_warnx(
		    "stats: graphite %s %s: %s", what, s->c.host, strerror(e));
}

/* TCP: connected (or not), then the round, as the socket takes it. */
static void
on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct stats *s = arg;
	socklen_t el = sizeof(int);
	ssize_t w;
	int e = 0;

	(void)what;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
		e = errno;
	while (e == 0 && s->off < s->out.len) {
		w = send(fd, s->out.s + s->off, s->out.len - s->off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return; /* the next time it is writable */
		if (w < 0)
			e = errno;
		else
			s->off += (size_t)w;
	}
	if (e != 0)
		graphite_warn(s, "sending to", e);
	round_close(s);
}

/* UDP: datagrams of whole lines, up to GRAPHITE_DGRAM bytes. */
static void
send_udp(struct stats *s, const struct sbuf *b)
{
	size_t off = 0, end;
	const char *nl;

	while (off < b->len) {
		end = b->len - off > GRAPHITE_DGRAM ? off + GRAPHITE_DGRAM
		                                    : b->len;
		while (end < b->len && end > off && b->s[end - 1] != '\n')
			end--;
		if (end == off) /* one line longer than a datagram */
			end = (nl = memchr(b->s + off, '\n', b->len - off))
			          ? (size_t)(nl - b->s) + 1
			          : b->len;
		if (send(s->fd, b->s + off, end - off, MSG_DONTWAIT) < 0)
			graphite_warn(s, "sending to", errno);
		off = end;
	}
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct stats *s = arg;
	struct sockaddr_storage ss;
	struct sbuf b;
	socklen_t sl;

	(void)fd;
	(void)what;
	if (s->udp) {
		sbuf_init(&b);
		stats_graphite(s->n, &s->c, now_s(), &b);
		if (sbuf_ok(&b))
			send_udp(s, &b);
		sbuf_free(&b);
		return;
	}
	if (s->fd >= 0) { /* the last round is not through: dropped */
		graphite_warn(s, "did not take a round in time:", ETIMEDOUT);
		round_close(s);
	}
	stats_graphite(s->n, &s->c, now_s(), &s->out);
	sl = to_sockaddr(&s->c.host_addr, &ss);
	if (!sbuf_ok(&s->out) ||
	    (s->fd = socket(ss.ss_family,
	         SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    (connect(s->fd, (struct sockaddr *)&ss, sl) != 0 &&
	        errno != EINPROGRESS) ||
	    (s->ev_fd = event_new(s->n->base, s->fd, EV_WRITE | EV_PERSIST,
	         on_writable, s)) == NULL ||
	    event_add(s->ev_fd, NULL) != 0) {
		graphite_warn(s, "connecting to", errno);
		round_close(s);
	}
}

static int
graphite_start(struct stats *s)
{
	struct sockaddr_storage ss;
	struct timeval tv = {(time_t)(s->c.interval / 1000000000),
	    (suseconds_t)(s->c.interval % 1000000000 / 1000)};
	char a[UDP_ADDR_STRLEN], iv[GOTIME_DURATION_LEN];
	socklen_t sl;

	s->udp = strncmp(s->c.protocol, "udp", 3) == 0;
	if (s->udp) { /* one socket, connected: the kernel keeps the route */
		sl = to_sockaddr(&s->c.host_addr, &ss);
		if ((s->fd = socket(ss.ss_family,
		         SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
		    connect(s->fd, (struct sockaddr *)&ss, sl) != 0) {
			log_msg(LOG_LVL_FATAL, "stats.host %s: %s", s->c.host,
			    strerror(errno));
			return -1;
		}
	}
	if ((s->ev_tick = event_new(s->n->base, -1, EV_PERSIST, on_tick, s)) ==
	        NULL ||
	    event_add(s->ev_tick, &tv) != 0)
		return -1;
	go_format_duration(s->c.interval, iv, sizeof(iv));
	udp_addr_format(&s->c.host_addr, a);
	log_info("Starting graphite. Interval: %s, prefix: %s, addr: %s "
	         "(%s)",
	    iv, s->c.prefix, a, s->udp ? "udp" : "tcp");
	return 0;
}

int
stats_start(struct node *n, struct stats **out)
{
	struct stats *s;
	int r;

	*out = NULL;
	if (n->cfg->stats.type == STATS_NONE)
		return 0;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->n = n;
	s->c = n->cfg->stats;
	s->fd = -1;
	sbuf_init(&s->out);
	/* stats.message_metrics: what is sent is counted by type */
	n->wk->count_tx = s->c.message_metrics;
	r = s->c.type == STATS_PROMETHEUS ? prometheus_start(s)
	                                  : graphite_start(s);
	if (r != 0) {
		stats_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void
stats_free(struct stats *s)
{
	struct stats **p;

	if (s == NULL)
		return;
	for (p = &endpoints; *p != NULL; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	if (s->n->wk != NULL)
		s->n->wk->count_tx = false;
	if (s->http != NULL)
		evhttp_free(s->http); /* its sockets and connections */
	if (s->ev_resume != NULL)
		event_free(s->ev_resume);
	if (s->ev_tick != NULL)
		event_free(s->ev_tick);
	round_close(s);
	sbuf_free(&s->out);
	free(s);
}
