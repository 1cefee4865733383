/*
 * test/unit/test_stats.c: the stats section: its keys and refusals, the
 * Prometheus text (names as Nebula's exporter makes them, every counter
 * of the table, the options), the Graphite lines, and the exporters
 * running on an event loop: a scrape over HTTP, rounds over UDP and TCP.
 */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "counters.h"
#include "hostmap.h"
#include "io.h"
#include "lhmsg.h"
#include "nodeint.h"
#include "sbuf.h"
#include "stats.h"
#include "worker.h"

#include "cfgfixture.h"

/* PKI + extra, loaded from a temporary file. */
static int
load(const char *extra, struct node_cfg **out, char *err, size_t errlen)
{
	return cfg_load(extra, true, out, err, errlen);
}

static struct node_cfg *
load_ok(const char *extra)
{
	struct node_cfg *c = NULL;
	char err[512];

	if (load(extra, &c, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	return c;
}

static void
test_stats_config(void **state)
{
	struct node_cfg *c;

	(void)state;
	c = load_ok("");
	assert_int_equal(c->stats.type, STATS_NONE);
	assert_false(c->stats.message_metrics);
	node_cfg_free(c);
	c = load_ok("stats: {type: none, interval: nonsense}\n");
	assert_int_equal(c->stats.type, STATS_NONE);
	node_cfg_free(c);
	c = load_ok("stats:\n  type: prometheus\n  listen: 127.0.0.1:8080\n"
	            "  path: /metrics\n  interval: 10s\n  namespace: neb\n"
	            "  subsystem: node-1\n  message_metrics: true\n"
	            "  lighthouse_metrics: yes\n");
	assert_int_equal(c->stats.type, STATS_PROMETHEUS);
	assert_int_equal(c->stats.interval, 10000000000LL);
	assert_string_equal(c->stats.path, "/metrics");
	assert_string_equal(c->stats.ns, "neb");
	assert_string_equal(c->stats.sub, "node-1");
	assert_false(c->stats.listen_any);
	assert_int_equal(c->stats.listen_addr.port, 8080);
	assert_true(c->stats.message_metrics);
	assert_true(c->stats.lighthouse_metrics);
	node_cfg_free(c);
	c = load_ok("stats: {type: prometheus, listen: \":9100\", path: /, "
	            "interval: 1s}\n");
	assert_true(c->stats.listen_any);
	assert_int_equal(c->stats.listen_addr.port, 9100);
	node_cfg_free(c);
	c = load_ok("stats:\n  type: graphite\n  host: 127.0.0.1:2003\n"
	            "  interval: 500ms\n");
	assert_int_equal(c->stats.type, STATS_GRAPHITE);
	assert_string_equal(c->stats.prefix, "nebula");
	assert_string_equal(c->stats.protocol, "tcp");
	assert_int_equal(c->stats.host_addr.port, 2003);
	node_cfg_free(c);
	c = load_ok("stats: {type: graphite, host: \"[::1]:2003\", "
	            "protocol: udp6, prefix: a.b, interval: 1m}\n");
	assert_string_equal(c->stats.protocol, "udp6");
	assert_string_equal(c->stats.prefix, "a.b");
	node_cfg_free(c);
}

static void
test_stats_config_refusals(void **state)
{
	static const struct {
		const char *yaml, *want;
	} bad[] = {
	    {"stats: {type: influx, interval: 1s}\n",
	        "stats.type: stats.type was not understood: influx"},
	    {"stats: {type: prometheus, listen: \":1\", path: /m}\n",
	        "stats.interval: needed with stats.type prometheus"},
	    {"stats: {type: graphite, host: \"1.2.3.4:5\", interval: 0s}\n",
	        "stats.interval: needed with stats.type graphite"},
	    {"stats: {type: graphite, host: \"1.2.3.4:5\", interval: 10}\n",
	        "stats.interval"},
	    {"stats: {type: graphite, host: \"1.2.3.4:5\", interval: 10ms}\n",
	        "stats.interval: must be at least 100ms"},
	    {"stats: {type: prometheus, path: /m, interval: 1s}\n",
	        "stats.listen: stats.listen should not be empty"},
	    {"stats: {type: prometheus, listen: \":1\", interval: 1s}\n",
	        "stats.path: stats.path should not be empty"},
	    {"stats: {type: prometheus, listen: \":1\", path: m, "
	     "interval: 1s}\n",
	        "stats.path: must start with /"},
	    {"stats: {type: prometheus, listen: \"1.2.3.4\", path: /m, "
	     "interval: 1s}\n",
	        "stats.listen: expected host:port"},
	    {"stats: {type: prometheus, listen: \":99999\", path: /m, "
	     "interval: 1s}\n",
	        "stats.listen: expected [host]:port"},
	    {"stats: {type: prometheus, listen: \":1\", path: /m, "
	     "interval: 1s, namespace: \"9lives\"}\n",
	        "stats.namespace: not usable in a Prometheus metric name"},
	    {"stats: {type: prometheus, listen: \":1\", path: /m, "
	     "interval: 1s, subsystem: \"a/b\"}\n",
	        "stats.subsystem: not usable in a Prometheus metric name"},
	    {"stats: {type: graphite, interval: 1s}\n",
	        "stats.host: stats.host can not be empty"},
	    {"stats: {type: graphite, interval: 1s, host: \"1.2.3.4:0\"}\n",
	        "stats.host: port 0"},
	    {"stats: {type: graphite, interval: 1s, host: \"1.2.3.4:5\", "
	     "protocol: sctp}\n",
	        "stats.protocol: expected tcp or udp"},
	    {"stats: {type: graphite, interval: 1s, host: \"1.2.3.4:5\", "
	     "protocol: tcp6}\n",
	        "stats.host: 1.2.3.4:5 has no IPv6 address"},
	    {"stats: {type: graphite, interval: 1s, host: \"1.2.3.4:5\", "
	     "prefix: \"a b\"}\n",
	        "stats.prefix: must be a non-empty name without spaces"},
	    {"stats: {message_metrics: maybe}\n", "stats.message_metrics"},
	};
	struct node_cfg *c;
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = NULL;
		if (load(bad[i].yaml, &c, err, sizeof(err)) == 0)
			fail_msg("loaded: %s", bad[i].yaml);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("%s: got \"%s\", want \"%s\"", bad[i].yaml,
			    err, bad[i].want);
		/* file and line, as every refusal */
		if (strstr(bad[i].want, "message_metrics") == NULL &&
		    strstr(err, "/tmp/test_cfg_") != err)
			fail_msg("no file in \"%s\"", err);
		assert_null(c);
	}
}

/* A node on base with its worker (a kernel socket on 127.0.0.1) and
 * host map, with cfg: what the counters and the exporters read. */
static void
node_up(struct node *n, struct event_base *base, struct node_cfg *cfg)
{
	struct io_udp *udp;
	char err[256];

	memset(n, 0, sizeof(*n));
	n->base = base;
	n->cfg = cfg;
	assert_int_equal(io_udp_kernel("127.0.0.1", 0, 0, 0, false, 0, &udp,
	                     err, sizeof(err)),
	    0);
	assert_int_equal(worker_start(n, udp, NULL, &n->wk), 0);
	assert_non_null(n->hm = hostmap_new());
}

static void
node_down(struct node *n)
{
	stats_free(n->stats);
	hostmap_free(n->hm);
	worker_free(n->wk);
	node_cfg_free(n->cfg);
}

static char *
text(struct sbuf *b)
{
	sbuf_add(b, "", 1);
	assert_true(sbuf_ok(b));
	return b->s;
}

static bool
name_char(char ch, bool first)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       ch == '_' || ch == ':' || (!first && ch >= '0' && ch <= '9');
}

/* Every line is "# HELP name text", "# TYPE name counter|gauge" (each
 * once per name, before its samples) or "name[{labels}] integer". */
static void
check_exposition(const char *s)
{
	char name[256], typed[256] = "";
	const char *eol, *p;
	size_t n;

	for (; *s != '\0'; s = eol + 1) {
		eol = strchr(s, '\n');
		assert_non_null(eol);
		p = s;
		if (strncmp(p, "# HELP ", 7) == 0 ||
		    strncmp(p, "# TYPE ", 7) == 0)
			p += 7;
		for (n = 0; name_char(p[n], n == 0); n++)
			;
		if (n == 0 || n >= sizeof(name))
			fail_msg("bad line: %.*s", (int)(eol - s), s);
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		if (strncmp(s, "# TYPE ", 7) == 0) {
			if (strcmp(name, typed) == 0)
				fail_msg("%s typed twice", name);
			snprintf(typed, sizeof(typed), "%s", name);
			if (strncmp(p, " counter\n", 9) != 0 &&
			    strncmp(p, " gauge\n", 7) != 0)
				fail_msg("bad type: %.*s", (int)(eol - s), s);
			continue;
		}
		if (strncmp(s, "# HELP ", 7) == 0) {
			if (*p != ' ' || p + 1 >= eol)
				fail_msg("bad help: %.*s", (int)(eol - s), s);
			continue;
		}
		if (strcmp(name, typed) != 0)
			fail_msg("%s: sample before its TYPE", name);
		if (*p == '{')
			p = strchr(p, '}') + 1;
		if (*p++ != ' ')
			fail_msg("bad sample: %.*s", (int)(eol - s), s);
		if (*p == '-')
			p++;
		if (p == eol)
			fail_msg("no value: %.*s", (int)(eol - s), s);
		for (; p < eol; p++)
			if (*p < '0' || *p > '9')
				fail_msg("bad value: %.*s", (int)(eol - s), s);
	}
}

static void
test_stats_prometheus_text(void **state)
{
	struct event_base *base = event_base_new();
	const struct counter_def *t;
	struct node n;
	struct sbuf b;
	char *s, want[256];
	size_t cnt, i, k;

	(void)state;
	node_up(&n, base,
	    load_ok("stats: {type: prometheus, listen: \":1\", "
	            "path: /metrics, interval: 1s}\n"));
	n.wk->st.rx_replay = 7;
	n.wk->st.fw_drop[1][2] = 4; /* incoming, no rule */
	n.wk->st.fw_drop[0][0] = 2; /* outgoing, remote IP */
	n.wk->st.msg_rx[MSGK_RECV_ERROR] = 3;
	n.wk->st.msg_tx[MSGK_RECV_ERROR] = 5;
	n.wk->st.msg_rx[MSGK_HANDSHAKE] = 9;
	n.wk->st.lh_rx[LHMSG_HOST_QUERY] = 2;
	sbuf_init(&b);
	stats_prometheus(&n, &n.cfg->stats, NOW, &b);
	s = text(&b);
	check_exposition(s);
	/* Nebula's, under its exporter's names: gauges, help the name */
	assert_non_null(strstr(s, "# HELP handshake_manager_initiated "
	                          "handshake_manager.initiated\n"
	                          "# TYPE handshake_manager_initiated gauge\n"
	                          "handshake_manager_initiated 0\n"));
	assert_non_null(strstr(s, "\nhostmap_main_hosts 0\n"));
	assert_non_null(strstr(s, "\nhostmap_main_remoteIndexes 0\n"));
	assert_non_null(strstr(s, "\nfirewall_incoming_dropped_no_rule 4\n"));
	assert_non_null(strstr(s, "\nfirewall_outgoing_dropped_remote_ip 2\n"));
	assert_non_null(strstr(s, "\nfirewall_rules_version 0\n"));
	assert_non_null(strstr(s, "\nmessages_rx_recv_error 3\n"));
	assert_non_null(strstr(s, "\nmessages_tx_recv_error 5\n"));
	assert_non_null(strstr(s, "\ninfo{version=\"" VPN_VERSION "\"} 1\n"));
	snprintf(want, sizeof(want), "\ncertificate_ttl_seconds %lld\n",
	    (long long)(n.cfg->cert->not_after - NOW));
	assert_non_null(strstr(s, want));
	/* the socket's memory, as Nebula's udp.0.* */
	assert_non_null(strstr(s, "\nudp_0_rcvbuf "));
	assert_non_null(strstr(s, "\nudp_0_drops 0\n"));
	/* not without the options */
	assert_null(strstr(s, "messages_rx_handshake_ixpsk0"));
	assert_null(strstr(s, "lighthouse_rx_HostQuery"));
	/* ours: every row of the table, counters with _total */
	assert_non_null(strstr(s, "# TYPE mesh_rx_replay_total counter\n"
	                          "mesh_rx_replay_total 7\n"));
	assert_non_null(
	    strstr(s, "# TYPE mesh_tunnels gauge\nmesh_tunnels 0\n"));
	assert_non_null(strstr(s, "\nmesh_udp_rx_bytes_total 0\n"));
	t = node_counters(&cnt);
	for (i = 0; i < cnt; i++) {
		k = (size_t)snprintf(want, sizeof(want), "\n# HELP mesh_");
		for (const char *p = t[i].name; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				k += (size_t)snprintf(want + k,
				    sizeof(want) - k, "_%c", *p | 0x20);
			else
				want[k++] = *p;
		snprintf(want + k, sizeof(want) - k, "%s %s\n",
		    t[i].kind == COUNTER_TOTAL ? "_total" : "", t[i].help);
		if (strstr(s, want) == NULL)
			fail_msg("no %s", want + 1);
	}
	/* each CA, by name and fingerprint */
	assert_non_null(strstr(s, "\nmesh_ca_ttl_seconds{ca=\""));
	assert_non_null(strstr(s, "\",fingerprint=\""));
	sbuf_free(&b);
	node_down(&n);

	/* namespace and subsystem; the options */
	node_up(&n, base,
	    load_ok("stats: {type: prometheus, listen: \":1\", path: /m, "
	            "interval: 1s, namespace: neb, subsystem: \"node-1\", "
	            "message_metrics: true, lighthouse_metrics: true}\n"));
	n.wk->st.msg_rx[MSGK_HANDSHAKE] = 9;
	n.wk->st.msg_tx[MSGK_TEST_RESPONSE] = 1;
	n.wk->st.lh_rx[LHMSG_HOST_QUERY] = 2;
	n.wk->st.lh_rx[LHMSG_HOST_MOVED_NOTIFICATION] = 1;
	n.wk->st.lh_tx[0] = 1; /* NebulaMeta type 0 and those above: other */
	n.wk->st.lh_tx[LH_KINDS - 1] = 1;
	sbuf_init(&b);
	stats_prometheus(&n, &n.cfg->stats, NOW, &b);
	s = text(&b);
	check_exposition(s);
	assert_non_null(strstr(s, "\nneb_node_1_info{"));
	assert_non_null(strstr(s, "\nneb_node_1_mesh_rx_replay_total 0\n"));
	assert_non_null(strstr(s, "# HELP neb_node_1_messages_rx_handshake_"
	                          "ixpsk0 messages.rx.handshake_ixpsk0\n"));
	assert_non_null(strstr(s, "\nneb_node_1_messages_rx_handshake_ixpsk0 "
	                          "9\n"));
	assert_non_null(strstr(s, "\nneb_node_1_messages_tx_test_response "
	                          "1\n"));
	assert_non_null(strstr(s, "\nneb_node_1_messages_rx_other 0\n"));
	assert_non_null(strstr(s, "\nneb_node_1_lighthouse_rx_HostQuery 2\n"));
	assert_non_null(strstr(s, "\nneb_node_1_lighthouse_rx_other 1\n"));
	assert_non_null(strstr(s, "\nneb_node_1_lighthouse_tx_other 2\n"));
	assert_non_null(strstr(s, "\nneb_node_1_lighthouse_tx_Host"
	                          "PunchNotification 0\n"));
	sbuf_free(&b);
	node_down(&n);
	event_base_free(base);
}

static void
test_stats_graphite_text(void **state)
{
	struct event_base *base = event_base_new();
	struct node n;
	struct sbuf b;
	const char *s, *p, *eol, *sp;

	(void)state;
	node_up(&n, base,
	    load_ok("stats: {type: graphite, prefix: neb.a, "
	            "host: \"127.0.0.1:2003\", interval: 1s}\n"));
	n.wk->st.rx_replay = 7;
	n.wk->st.msg_rx[MSGK_RECV_ERROR] = 3;
	sbuf_init(&b);
	stats_graphite(&n, &n.cfg->stats, NOW, &b);
	s = text(&b);
	assert_non_null(strstr(s, "neb.a.mesh.rx_replay.count 7 1893456000\n"));
	assert_non_null(strstr(s, "neb.a.mesh.tunnels.value 0 1893456000\n"));
	assert_non_null(strstr(s, "neb.a.handshake_manager.initiated.count 0 "
	                          "1893456000\n"));
	assert_non_null(strstr(s, "neb.a.hostmap.main.hosts.value 0 "
	                          "1893456000\n"));
	assert_non_null(strstr(s, "neb.a.messages.rx.recv_error.count 3 "
	                          "1893456000\n"));
	assert_non_null(strstr(s, "neb.a.mesh.ca_ttl_seconds."));
	assert_null(strstr(s, "info"));
	/* "<prefix>.<name> <integer> <time>" */
	for (p = s; *p != '\0'; p = eol + 1) {
		eol = strchr(p, '\n');
		assert_non_null(eol);
		assert_memory_equal(p, "neb.a.", 6);
		sp = strchr(p, ' ');
		assert_true(sp != NULL && sp < eol);
		assert_true(strncmp(sp - 6, ".count", 6) == 0 ||
		            strncmp(sp - 6, ".value", 6) == 0);
		assert_true(
		    eol - 11 > sp && strncmp(eol - 11, " 1893456000", 11) == 0);
	}
	sbuf_free(&b);
	node_down(&n);
	event_base_free(base);
}

/* Messages by type as Nebula's MessageMetrics counts them, and what is
 * sent counted at commit only with stats.message_metrics. */
static void
test_stats_message_kinds(void **state)
{
	struct event_base *base = event_base_new();
	struct udp_addr to;
	struct node n;
	uint8_t *slot;

	(void)state;
	assert_int_equal(
	    worker_msg_kind(HDR_HANDSHAKE, 0, false), MSGK_HANDSHAKE);
	assert_int_equal(worker_msg_kind(HDR_HANDSHAKE, 1, false), MSGK_OTHER);
	assert_int_equal(worker_msg_kind(HDR_MESSAGE, 0, true), -1);
	assert_int_equal(worker_msg_kind(HDR_MESSAGE, 1, false), -1);
	assert_int_equal(
	    worker_msg_kind(HDR_RECV_ERROR, 0, true), MSGK_RECV_ERROR);
	assert_int_equal(
	    worker_msg_kind(HDR_LIGHTHOUSE, 0, false), MSGK_LIGHTHOUSE);
	assert_int_equal(
	    worker_msg_kind(HDR_TEST, 0, false), MSGK_TEST_REQUEST);
	assert_int_equal(
	    worker_msg_kind(HDR_TEST, 1, true), MSGK_TEST_RESPONSE);
	assert_int_equal(worker_msg_kind(HDR_TEST, 2, true), MSGK_OTHER);
	assert_int_equal(
	    worker_msg_kind(HDR_CLOSE_TUNNEL, 0, true), MSGK_CLOSE_TUNNEL);
	assert_int_equal(worker_msg_kind(HDR_CONTROL, 0, false), -1);
	assert_int_equal(worker_msg_kind(HDR_CONTROL, 0, true), MSGK_OTHER);
	assert_int_equal(worker_msg_kind(9, 0, false), MSGK_OTHER);

	node_up(&n, base, load_ok(""));
	udp_addr_from_v4(&to, 0x7f000001, 9); /* discard */
	slot = worker_slot(n.wk);
	header_encode(slot, HDR_TEST, HDR_SUB_TEST_REPLY, 1, 1);
	worker_commit(n.wk, &to, HEADER_LEN + 16);
	assert_int_equal(n.wk->st.msg_tx[MSGK_TEST_RESPONSE], 0); /* off */
	n.wk->count_tx = true;
	slot = worker_slot(n.wk);
	header_encode(slot, HDR_TEST, HDR_SUB_TEST_REPLY, 1, 2);
	worker_commit(n.wk, &to, HEADER_LEN + 16);
	slot = worker_slot(n.wk);
	header_encode(slot, HDR_MESSAGE, 0, 1, 3); /* data: not counted */
	worker_commit(n.wk, &to, HEADER_LEN + 16);
	slot = worker_slot(n.wk);
	slot[0] = 0; /* a punch: one byte */
	worker_commit(n.wk, &to, 1);
	worker_flush(n.wk);
	assert_int_equal(n.wk->st.msg_tx[MSGK_TEST_RESPONSE], 1);
	assert_int_equal(n.wk->st.msg_tx[MSGK_HANDSHAKE], 0);
	assert_int_equal(n.wk->st.msg_tx[MSGK_OTHER], 0);
	node_down(&n);
	event_base_free(base);
}

/* A port on 127.0.0.1 nobody listens on now. */
static uint16_t
free_port(int type)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, type, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static int
socket_on(int type, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int fd = socket(AF_INET, type | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(port);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static void
run(struct event_base *base, int ms)
{
	struct timeval tv = {0, ms * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* A request to 127.0.0.1:port, answered while the loop runs; the
 * response, NUL-terminated, into buf. */
static void
http(struct event_base *base, uint16_t port, const char *req, char *buf,
    size_t len)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	size_t got = 0;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0), i;

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(port);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	for (i = 0; i < 40; i++) {
		run(base, 25);
		while (
		    (r = recv(fd, buf + got, len - 1 - got, MSG_DONTWAIT)) > 0)
			got += (size_t)r;
		if (r == 0)
			break; /* HTTP/1.0: closed after the response */
	}
	buf[got] = '\0';
	close(fd);
}

static void
test_stats_http(void **state)
{
	struct event_base *base = event_base_new();
	static char buf[1 << 16];
	uint16_t port = free_port(SOCK_STREAM);
	char yaml[256];
	struct node n, n2;

	(void)state;
	snprintf(yaml, sizeof(yaml),
	    "stats: {type: prometheus, listen: \"127.0.0.1:%u\", "
	    "path: /metrics, interval: 1s, namespace: t}\n",
	    port);
	node_up(&n, base, load_ok(yaml));
	assert_int_equal(stats_start(&n, &n.stats), 0);
	assert_non_null(n.stats);
	n.wk->st.rx_replay = 11;
	http(base, port, "GET /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_memory_equal(buf + 8, " 200 OK\r\n", 9);
	assert_non_null(strstr(buf, "Content-Type: text/plain; version=0.0.4"));
	assert_non_null(strstr(buf, "\nt_mesh_rx_replay_total 11\n"));
	check_exposition(strstr(buf, "\r\n\r\n") + 4);
	/* the query string is not the path */
	http(base, port, "GET /metrics?x=1 HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_memory_equal(buf + 8, " 200 OK\r\n", 9);
	http(base, port, "GET /other HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_memory_equal(buf + 8, " 404 ", 5);
	http(base, port, "GET /metrics/x HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_memory_equal(buf + 8, " 404 ", 5);
	http(base, port, "POST /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_null(strstr(buf, " 200 OK"));
	http(base, port, "HEAD /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_memory_equal(buf + 8, " 200 OK\r\n", 9);
	assert_null(strstr(buf, "mesh_"));
	assert_non_null(strstr(buf, "Content-Length: "));
	/* an address that is taken: the start fails */
	node_up(&n2, base, load_ok(yaml));
	assert_int_equal(stats_start(&n2, &n2.stats), -1);
	assert_null(n2.stats);
	node_down(&n2);
	node_down(&n);
	event_base_free(base);
}

static void
test_stats_graphite_rounds(void **state)
{
	struct event_base *base = event_base_new();
	static char buf[1 << 16];
	uint16_t port = free_port(SOCK_DGRAM);
	int fd = socket_on(SOCK_DGRAM, port), c, dgrams = 0;
	size_t got = 0;
	char yaml[256];
	struct node n;
	ssize_t r;

	(void)state;
	/* UDP: whole lines in each datagram, every interval */
	snprintf(yaml, sizeof(yaml),
	    "stats: {type: graphite, protocol: udp, prefix: gu, "
	    "host: \"127.0.0.1:%u\", interval: 100ms}\n",
	    port);
	node_up(&n, base, load_ok(yaml));
	assert_int_equal(stats_start(&n, &n.stats), 0);
	n.wk->st.rx_replay = 5;
	run(base, 250);
	while ((r = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		assert_true(r <= 1400);
		assert_int_equal(buf[r - 1], '\n');
		assert_memory_equal(buf, "gu.", 3);
		buf[r] = '\0';
		if (strstr(buf, "\ngu.mesh.rx_replay.count 5 ") != NULL)
			dgrams++;
	}
	assert_true(dgrams >= 2); /* two rounds */
	node_down(&n);
	close(fd);

	/* TCP: a connection per round, the round written, closed */
	port = free_port(SOCK_STREAM);
	fd = socket_on(SOCK_STREAM, port);
	snprintf(yaml, sizeof(yaml),
	    "stats: {type: graphite, prefix: gt, host: \"127.0.0.1:%u\", "
	    "interval: 100ms}\n",
	    port);
	node_up(&n, base, load_ok(yaml));
	assert_int_equal(stats_start(&n, &n.stats), 0);
	n.wk->st.rx_replay = 6;
	run(base, 150);
	c = accept(fd, NULL, NULL);
	assert_true(c >= 0);
	run(base, 50);
	while (
	    (r = recv(c, buf + got, sizeof(buf) - 1 - got, MSG_DONTWAIT)) > 0)
		got += (size_t)r;
	assert_int_equal(r, 0); /* closed by the node */
	buf[got] = '\0';
	assert_memory_equal(buf, "gt.", 3);
	assert_non_null(strstr(buf, "\ngt.mesh.rx_replay.count 6 "));
	assert_int_equal(buf[got - 1], '\n');
	close(c);
	node_down(&n);
	close(fd);
	/* nobody listening: each round fails quietly, the node goes on */
	node_up(&n, base, load_ok(yaml));
	assert_int_equal(stats_start(&n, &n.stats), 0);
	run(base, 250);
	node_down(&n);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stats_config),
	    cmocka_unit_test(test_stats_config_refusals),
	    cmocka_unit_test(test_stats_prometheus_text),
	    cmocka_unit_test(test_stats_graphite_text),
	    cmocka_unit_test(test_stats_message_kinds),
	    cmocka_unit_test(test_stats_http),
	    cmocka_unit_test(test_stats_graphite_rounds),
	};

	log_setup(NULL, LOG_LVL_ERROR, LOG_FMT_TEXT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
