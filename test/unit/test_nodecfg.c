/* test/unit/test_nodecfg.c: the node's configuration: what loads, and
 * each refusal with its file, key, line and reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "err.h"
#include "log.h"
#include "certwatch.h"
#include "node.h"

#include "cfgfixture.h"

/* Write PKI + extra into a temporary file and load it. */
static int
load(const char *extra, bool with_pki, struct node_cfg **out, char *err,
    size_t errlen)
{
	return cfg_load(extra, with_pki, out, err, errlen);
}

static void
test_nodecfg_loads_defaults(void **state)
{
	struct node_cfg *c;
	char err[512];

	(void)state;
	assert_int_equal(load("", true, &c, err, sizeof(err)), 0);
	assert_int_equal(c->vpn_ip, 0xc0a8640a);	 /* 192.168.100.10 */
	assert_int_equal(c->vpn_mask, 0xffffff00);
	assert_string_equal(c->name, "host-a");
	assert_int_equal(c->listen_port, 0);
	assert_string_equal(c->listen_host, "0.0.0.0");
	assert_int_equal(c->tun_mtu, 1300);
	assert_int_equal(c->tx_queue, 500);
	assert_true(c->tun_offload);
	assert_true(c->listen_offload);
	assert_int_equal(c->busy_poll_ns, 0);
	assert_int_equal(c->cipher, CRYPTO_AES256GCM);
	assert_int_equal(c->hs_try_interval, 100000000);
	assert_int_equal(c->hs_retries, 10);
	assert_int_equal(c->send_recv_error, SRE_ALWAYS);
	assert_int_equal(c->log_level, LOG_LVL_INFO);
	assert_int_equal(c->log_format, LOG_FMT_TEXT);
	assert_false(c->log_no_time);
	assert_string_equal(c->log_time_format, "");
	/* The handshake form of our certificate starts 0a 64 (wire.md). */
	assert_true(c->cert_nokey_len > 2);
	assert_int_equal(c->cert_nokey[0], 0x0a);
	node_cfg_free(c);
}

static void
test_nodecfg_reads_values(void **state)
{
	struct node_cfg *c;
	const struct static_host *h;
	char err[512];

	(void)state;
	assert_int_equal(load("static_host_map:\n"
	                      "  \"192.168.100.1\": [\"10.99.0.1:4242\", "
	                      "\"[fd00::1]:4243\"]\n"
	                      "  \"192.168.100.20\": \"10.99.0.20:4242\"\n"
	                      "listen:\n  port: 4242\n  host: \"[::]\"\n"
	                      "  send_recv_error: private\n  busy_poll: 200us\n"
	                      "cipher: chachapoly\n"
	                      "tun:\n  mtu: 1400\n  dev: nebula1\n"
	                      "  routes:\n    - mtu: 8000\n"
	                      "      route: 192.168.100.128/25\n"
	                      "handshakes:\n  try_interval: 250ms\n"
	                      "  retries: 3\n"
	                      "logging:\n  level: DEBUG\n  format: json\n",
	                     true, &c, err, sizeof(err)),
	    0);
	assert_int_equal(c->listen_port, 4242);
	assert_string_equal(c->listen_host, "::");
	assert_int_equal(c->send_recv_error, SRE_PRIVATE);
	assert_int_equal(c->busy_poll_ns, 200000);
	assert_int_equal(c->cipher, CRYPTO_CHACHAPOLY);
	assert_int_equal(c->tun_mtu, 1400);
	assert_string_equal(c->tun_dev, "nebula1");
	assert_int_equal(c->nroutes, 1);
	assert_int_equal(c->routes[0].mtu, 8000);
	assert_int_equal(c->routes[0].addr, 0xc0a86480);
	assert_int_equal(c->hs_try_interval, 250000000);
	assert_int_equal(c->hs_retries, 3);
	assert_int_equal(c->log_level, LOG_LVL_DEBUG);
	assert_int_equal(c->log_format, LOG_FMT_JSON);
	h = node_cfg_static(c, 0xc0a86401);
	assert_non_null(h);
	assert_int_equal(h->naddrs, 2);
	assert_int_equal(h->addrs[0].port, 4242);
	assert_int_equal(h->addrs[1].port, 4243);
	h = node_cfg_static(c, 0xc0a86414);
	assert_non_null(h);
	assert_int_equal(h->naddrs, 1);
	assert_null(node_cfg_static(c, 0xc0a86402));
	node_cfg_free(c);
}

/* logging: format in any case (as Nebula), the timestamp keys. */
static void
test_nodecfg_logging(void **state)
{
	struct node_cfg *c;
	char err[512], yaml[256];

	(void)state;
	assert_int_equal(load("logging:\n  format: JSON\n"
	                      "  disable_timestamp: true\n"
	                      "  timestamp_format: \"Jan _2 15:04:05.000\"\n",
	                     true, &c, err, sizeof(err)),
	    0);
	assert_int_equal(c->log_format, LOG_FMT_JSON);
	assert_true(c->log_no_time);
	assert_string_equal(c->log_time_format, "Jan _2 15:04:05.000");
	node_cfg_free(c);
	/* an unquoted layout is the text as written */
	assert_int_equal(load("logging:\n  format: Text\n"
	                      "  timestamp_format: 2006-01-02T15:04:05Z07:00\n",
	                     true, &c, err, sizeof(err)),
	    0);
	assert_int_equal(c->log_format, LOG_FMT_TEXT);
	assert_false(c->log_no_time);
	assert_string_equal(c->log_time_format, "2006-01-02T15:04:05Z07:00");
	node_cfg_free(c);
	/* at most LOG_LAYOUT_MAX - 1 bytes */
	snprintf(yaml, sizeof(yaml), "logging:\n  timestamp_format: \"%0*d\"\n",
	    LOG_LAYOUT_MAX, 0);
	c = NULL;
	assert_int_equal(load(yaml, true, &c, err, sizeof(err)), VPN_ERR_RANGE);
	assert_null(c);
	assert_non_null(strstr(err, ":6: logging.timestamp_format: longer than "
	                            "127 bytes"));
	snprintf(yaml, sizeof(yaml), "logging:\n  timestamp_format: \"%0*d\"\n",
	    LOG_LAYOUT_MAX - 1, 0);
	assert_int_equal(load(yaml, true, &c, err, sizeof(err)), 0);
	assert_int_equal(strlen(c->log_time_format), LOG_LAYOUT_MAX - 1);
	node_cfg_free(c);
}

/* An unknown top-level key is loaded past with a warning that names the
 * nearest known key, if one is near. */
static void
test_nodecfg_unknown_key_warning(void **state)
{
	struct node_cfg *c;
	char err[512], *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_non_null(f = open_memstream(&out, &len));
	log_setup(f, LOG_LVL_WARN, LOG_FMT_TEXT);
	assert_int_equal(load("firwall:\n  outbound: []\n"
	                      "Listen:\n  port: 4242\n"
	                      "exti: {}\n"
	                      "stat: {}\n"
	                      "lisnet: {}\n"
	                      "zzz_ours: 1\n"
	                      "routines: 2\n",
	                     true, &c, err, sizeof(err)),
	    0);
	node_cfg_free(c);
	fclose(f);
	log_setup(fopen("/dev/null", "w"), LOG_LVL_ERROR, LOG_FMT_TEXT);
	/* file, line and key as fields, sorted as logrus sorts them */
	assert_non_null(strstr(out, "msg=\"Unknown configuration key\" "
	                            "didYouMean=firewall file="));
	assert_non_null(strstr(out, " key=firwall line=5\n"));
	assert_non_null(strstr(out, "didYouMean=listen file="));
	assert_non_null(strstr(out, " key=Listen line=7\n"));
	assert_non_null(strstr(out, "didYouMean=exit file="));
	assert_non_null(strstr(out, " key=exti line=9\n"));
	assert_non_null(strstr(out, "didYouMean=stats file="));
	assert_non_null(strstr(out, " key=stat line=10\n"));
	assert_non_null(strstr(out, " key=lisnet line=11\n"));
	/* no near key: no didYouMean */
	assert_non_null(strstr(out, "msg=\"Unknown configuration key\" file="));
	assert_non_null(strstr(out, " key=zzz_ours line=12\n"));
	assert_null(strstr(out, "routines"));
	assert_null(strstr(out, "pki"));
	free(out);
}

/* tun.unsafe_routes: each entry's values, defaults, and a default route
 * (which holds the overlay network: allowed, as in Nebula). */
static void
test_nodecfg_unsafe_routes(void **state)
{
	struct node_cfg *c;
	char err[512];

	(void)state;
	if (load("tun:\n  unsafe_routes:\n"
	         "    - route: 10.9.0.0/16\n      via: 192.168.100.1\n"
	         "      mtu: 1200\n      metric: \"7\"\n"
	         "    - {route: 0.0.0.0/0, via: 192.168.100.2, install: false}\n",
	        true, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c->nunsafe, 2);
	assert_int_equal(c->unsafe[0].addr, 0x0a090000);
	assert_int_equal(c->unsafe[0].mask, 0xffff0000);
	assert_int_equal(c->unsafe[0].via, 0xc0a86401);
	assert_int_equal(c->unsafe[0].mtu, 1200);
	assert_int_equal(c->unsafe[0].metric, 7);
	assert_true(c->unsafe[0].install);
	assert_int_equal(c->unsafe[1].addr, 0);
	assert_int_equal(c->unsafe[1].mask, 0);
	assert_int_equal(c->unsafe[1].via, 0xc0a86402);
	assert_int_equal(c->unsafe[1].mtu, 0);
	assert_int_equal(c->unsafe[1].metric, 0);
	assert_false(c->unsafe[1].install);
	node_cfg_free(c);
}

/* exit: a client's defaults (everything, table and mark 51842) and an
 * exit node's. */
static void
test_nodecfg_exit(void **state)
{
	struct node_cfg *c;
	char err[512];

	(void)state;
	if (load("exit:\n  via: 192.168.100.1\n", true, &c, err,
	        sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c->exit_via, 0xc0a86401);
	assert_int_equal(c->nexit_routes, 1);
	assert_int_equal(c->exit_routes[0].addr, 0);
	assert_int_equal(c->exit_routes[0].mask, 0);
	assert_int_equal(c->exit_table, EXIT_TABLE_DEFAULT);
	assert_int_equal(c->exit_fwmark, EXIT_TABLE_DEFAULT);
	assert_int_equal(c->exit_priority, EXIT_PRIORITY_DEFAULT);
	assert_false(c->exit_serve);
	node_cfg_free(c);
	if (load("exit:\n  via: 192.168.100.1\n"
	         "  routes: [\"10.0.0.0/8\", \"172.16.0.0/12\"]\n"
	         "  table: 77\n  fwmark: 0x4d\n  priority: 1000\n",
	        true, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c->nexit_routes, 2);
	assert_int_equal(c->exit_routes[1].addr, 0xac100000);
	assert_int_equal(c->exit_routes[1].mask, 0xfff00000);
	assert_int_equal(c->exit_table, 77);
	assert_int_equal(c->exit_fwmark, 77);
	assert_int_equal(c->exit_priority, 1000);
	node_cfg_free(c);
	if (load("exit:\n  serve: true\n  masquerade: false\n", true, &c,
	        err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c->exit_via, 0);
	assert_int_equal(c->nexit_routes, 0);
	assert_true(c->exit_serve);
	assert_false(c->exit_masquerade);
	node_cfg_free(c);
}

/* relay: defaults, a relay list, and a relay that lists none and uses
 * none. */
static void
test_nodecfg_relay(void **state)
{
	struct node_cfg *c;
	char err[512];

	(void)state;
	if (load("", true, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_false(c->am_relay);
	assert_true(c->use_relays);
	assert_int_equal(c->nrelays, 0);
	node_cfg_free(c);
	/* host-a is 192.168.100.10: its own IP is skipped */
	if (load("relay:\n  relays: [\"192.168.100.9\", \"192.168.100.10\", "
	         "\"192.168.100.7\"]\n  use_relays: false\n",
	        true, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c->nrelays, 2);
	assert_int_equal(c->relays[0], 0xc0a86409);
	assert_int_equal(c->relays[1], 0xc0a86407);
	assert_false(c->use_relays);
	node_cfg_free(c);
	if (load("relay:\n  am_relay: true\n  relays: [\"192.168.100.9\"]\n",
	        true, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_true(c->am_relay);
	assert_false(c->use_relays);
	assert_int_equal(c->nrelays, 0);
	node_cfg_free(c);
}

/* pki.expiry_warning: the default (30 days), and what is due when:
 * host-a's certificate and its CA, inside the window or expired. */
static void
test_nodecfg_expiry_warning(void **state)
{
	struct node_cfg *c;
	char err[512];
	int64_t end;

	(void)state;
	if (load("", true, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c->expiry_warning, 720LL * 3600 * 1000000000);
	end = c->cert->not_after;
	assert_int_equal(certwatch_check(c, NOW, 3600), 0);
	assert_true(certwatch_check(c, end - 100, 3600) >= 1);
	assert_true(certwatch_check(c, end + 100, 0) >= 1);
	node_cfg_free(c);
	if (load("pki:\n  expiry_warning: 0\n", false, &c, err, sizeof(err)) ==
	    0)
		node_cfg_free(c); /* no pki: refused, not the point here */
	if (load("pki:\n  ca: " FX "ca.crt\n  cert: " FX "host-a.crt\n"
	         "  key: " FX "host-a.key\n  expiry_warning: 48h\n",
	        false, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c->expiry_warning, 48LL * 3600 * 1000000000);
	node_cfg_free(c);
}

/* Every refusal: the text must name the key (or the PKI reason) and,
 * for YAML values, the line. */
static void
test_nodecfg_refusals(void **state)
{
	static const struct {
		bool pki;
		const char *yaml, *want1, *want2;
	} v[] = {
	    {false, "", "no pki.ca path or PEM data provided", NULL},
	    {false, "pki:\n  ca: /nonexistent/ca.crt\n",
	        "unable to read pki.ca file /nonexistent/ca.crt",
	        "no such file or directory"},
	    {false, "pki:\n  ca: " FX "host-a.crt\n",
	        "host-a: certificate is not a CA", NULL},
	    {false, "pki:\n  ca: " FX "ca-expired.crt\n",
	        "no valid CA certificates present", NULL},
	    {false,
	        "pki:\n  ca: " FX "ca.crt\n  cert: " FX "host-a.crt\n"
	        "  key: " FX "host-b.key\n",
	        "private key is not a pair with public key in nebula cert",
	        NULL},
	    {false,
	        "pki:\n  ca: " FX "ca.crt\n  cert: " FX "expired.crt\n"
	        "  key: " FX "expired.key\n",
	        "nebula certificate for this host is expired", NULL},
	    {false,
	        "pki:\n  ca: " FX "ca.crt\n  cert: " FX "host-a.key\n"
	        "  key: " FX "host-a.key\n",
	        "bytes did not contain a proper nebula certificate banner",
	        NULL},
	    {true, "listen:\n  port: 70000\n", "listen.port", ":6:"},
	    {true, "listen:\n  port: abc\n", "listen.port", "abc"},
	    {true, "listen:\n  host: nowhere\n", "listen.host", ":6:"},
	    {true, "cipher: des\n", "unknown cipher: des", "cipher"},
	    {true, "tun:\n  mtu: 100\n", "tun.mtu", ":6:"},
	    {true, "tun:\n  disabled: maybe\n", "tun.disabled", "maybe"},
	    {true, "tun:\n  offload: sometimes\n", "tun.offload", ":6:"},
	    {true, "listen:\n  offload: 2\n", "listen.offload", ":6:"},
	    {true, "listen:\n  busy_poll: 11ms\n", "listen.busy_poll",
	        "between 0 and 10ms"},
	    {true, "handshakes:\n  try_interval: 1\n",
	        "handshakes.try_interval", ":6:"},
	    {true, "static_host_map:\n  \"10.1.1.1\": [\"1.2.3.4:4242\"]\n",
	        "static_host_map key is not in our subnet", "10.1.1.1"},
	    {true, "static_host_map:\n  \"192.168.100.1\": [\"1.2.3.4\"]\n",
	        "Static host address could not be parsed", ":6:"},
	    {true, "static_host_map:\n  \"nope\": [\"1.2.3.4:1\"]\n",
	        "not an IPv4 address", "nope"},
	    {true, "tun:\n  routes:\n    - route: 192.168.100.0/25\n",
	        "tun.routes[0].mtu", "is not present"},
	    {true,
	        "tun:\n  routes:\n    - mtu: 1300\n      route: 10.0.0.0/8\n",
	        "tun.routes[0].route", "not contained within the network"},
	    {true, "logging:\n  level: loud\n", "logging.level", "loud"},
	    {true, "logging:\n  format: xml\n", "unknown log format `xml`",
	        NULL},
	    {true, "logging:\n  format: XML\n", "unknown log format `xml`",
	        "logging.format"},
	    {true, "logging:\n  disable_timestamp: sometimes\n",
	        "logging.disable_timestamp", ":6:"},
	    {true, "logging:\n  timestamp_format: [15:04]\n",
	        "logging.timestamp_format", ":6:"},
	    {true, "logging:\n  timestamp_format:\n    a: b\n",
	        ":7: logging.timestamp_format", "got a map"},
	    {true, "listen:\n  send_recv_error: sometimes\n",
	        "listen.send_recv_error", "sometimes"},
	    {true, "pki:\n  blocklist: []\n", "duplicate", NULL},
	    {true, "preferred_ranges: [\"10.0.0.0/8\", \"bogus\"]\n",
	        "Failed to parse preferred ranges: bogus", "[1]"},
	    {true, "lighthouse:\n  hosts: [\"192.168.100.1\"]\n",
	        "does not have a static_host_map entry", ":6:"},
	    {true, "lighthouse:\n  am_lighthouse: true\n",
	        "no port number is set", NULL},
	    {true, "punchy:\n  delay: -1s\n", "punchy.delay",
	        "must not be negative"},
	    {true, "tun:\n  unsafe_routes: [5]\n",
	        "entry 1 in tun.unsafe_routes is invalid", ":6:"},
	    {true, "tun:\n  unsafe_routes:\n    - route: 10.9.0.0/16\n",
	        "entry 1.via in tun.unsafe_routes is not present", ":7:"},
	    {true,
	        "tun:\n  unsafe_routes:\n    - route: 10.9.0.0/16\n"
	        "      via: [1]\n",
	        "entry 1.via in tun.unsafe_routes is not a string", ":8:"},
	    {true,
	        "tun:\n  unsafe_routes:\n    - route: 10.9.0.0/16\n"
	        "      via: bogus\n",
	        "entry 1.via in tun.unsafe_routes failed to parse address: "
	        "bogus",
	        "tun.unsafe_routes[0].via"},
	    {true,
	        "tun:\n  unsafe_routes:\n    - route: 10.9.0.0/16\n"
	        "      via: 10.1.1.1\n",
	        "is not a peer in the network attached to the certificate",
	        ":8:"},
	    {true,
	        "tun:\n  unsafe_routes:\n    - route: 10.9.0.0/16\n"
	        "      via: 192.168.100.10\n",
	        "is not a peer in the network", NULL},
	    {true, "tun:\n  unsafe_routes:\n    - via: 192.168.100.1\n",
	        "entry 1.route in tun.unsafe_routes is not present", NULL},
	    {true,
	        "tun:\n  unsafe_routes:\n    - via: 192.168.100.1\n"
	        "      route: 10.9.0.0/33\n",
	        "entry 1.route in tun.unsafe_routes failed to parse: "
	        "10.9.0.0/33",
	        ":8:"},
	    {true,
	        "tun:\n  unsafe_routes:\n    - via: 192.168.100.1\n"
	        "      route: 192.168.100.128/25\n",
	        "entry 1.route in tun.unsafe_routes is contained within the "
	        "network attached to the certificate",
	        NULL},
	    {true,
	        "tun:\n  unsafe_routes:\n    - via: 192.168.100.1\n"
	        "      route: 10.9.0.0/16\n      mtu: 100\n",
	        "entry 1.mtu in tun.unsafe_routes is below 500: 100", ":9:"},
	    {true,
	        "tun:\n  unsafe_routes:\n    - via: 192.168.100.1\n"
	        "      route: 10.9.0.0/16\n      metric: -1\n",
	        "tun.unsafe_routes[0].metric", ":9:"},
	    {true,
	        "tun:\n  unsafe_routes:\n    - via: 192.168.100.1\n"
	        "      route: 10.9.0.0/16\n      install: maybe\n",
	        "tun.unsafe_routes[0].install", "maybe"},
	    {true, "exit:\n  via: nowhere\n", "exit.via",
	        "not an IPv4 address: nowhere"},
	    {true, "exit:\n  via: 10.0.0.1\n", "exit.via",
	        "is not a peer in the network"},
	    {true, "exit:\n  routes: [\"0.0.0.0/1\"]\n", "exit.routes",
	        "needs exit.via"},
	    {true, "exit:\n  via: 192.168.100.1\n  routes: [\"bogus\"]\n",
	        "exit.routes", "entry 1 failed to parse: bogus"},
	    {true,
	        "exit:\n  via: 192.168.100.1\n"
	        "  routes: [\"192.168.100.0/25\"]\n",
	        "exit.routes", "contained within the network"},
	    {true, "exit:\n  table: 254\n", "exit.table",
	        "one of the kernel's own tables"},
	    {true, "exit:\n  priority: 40000\n", "exit.priority", ":6:"},
	    {true, "exit:\n  serve: perhaps\n", "exit.serve", "perhaps"},
	    {true, "tun:\n  disabled: true\nexit:\n  serve: true\n",
	        "exit.serve", "needs a TUN device"},
	    {true, "relay:\n  relays: [\"nope\"]\n", "relay.relays[0]",
	        "not an IPv4 address: nope"},
	    {true, "relay:\n  relays: [\"192.168.100.5\", \"10.1.1.1\"]\n",
	        "relay.relays[1]", "not in our overlay network"},
	    {true,
	        "relay:\n  relays: [192.168.100.1, 192.168.100.2, "
	        "192.168.100.3, 192.168.100.4, 192.168.100.5, 192.168.100.6, "
	        "192.168.100.7, 192.168.100.8, 192.168.100.9, 192.168.100.12, "
	        "192.168.100.10, 192.168.100.11]\n",
	        "relay.relays[10]", "at most 10 relays"},
	    {true, "relay:\n  am_relay: sure\n", "relay.am_relay", ":6:"},
	    {false,
	        "pki:\n  ca: " FX "ca.crt\n  cert: " FX "host-a.crt\n"
	        "  key: " FX "host-a.key\n  expiry_warning: -1h\n",
	        "pki.expiry_warning", "must not be negative"},
	    {true, "relay:\n  use_relays: 3\n", "relay.use_relays", ":6:"},
	    {true, "process:\n  user: no-such-user-x\n",
	        ":6: process.user: no such user in /etc/passwd",
	        "no-such-user-x"},
	    {true, "process:\n  user: root\n", "process.user",
	        "nothing would be dropped"},
	    {true, "process:\n  group: nogroup\n", "process.group",
	        "needs process.user"},
	};
	struct node_cfg *c;
	char err[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		c = NULL;
		err[0] = '\0';
		if (load(v[i].yaml, v[i].pki, &c, err, sizeof(err)) == 0) {
			node_cfg_free(c);
			fail_msg("case %zu loaded: %s", i, v[i].yaml);
		}
		if (strstr(err, v[i].want1) == NULL ||
		    (v[i].want2 != NULL && strstr(err, v[i].want2) == NULL))
			fail_msg("case %zu: got \"%s\"", i, err);
	}
}

/* More than 10 addresses for a host: the last 10 are kept (as Nebula). */
static void
test_nodecfg_static_host_keeps_last_ten(void **state)
{
	char yaml[1024], err[512];
	const struct static_host *h;
	struct node_cfg *c;
	size_t i, off;

	(void)state;
	off = (size_t)snprintf(yaml, sizeof(yaml),
	    "static_host_map:\n  \"192.168.100.1\": [");
	for (i = 1; i <= 13; i++)
		off += (size_t)snprintf(yaml + off, sizeof(yaml) - off,
		    "%s\"10.0.0.%zu:4242\"", i > 1 ? ", " : "", i);
	snprintf(yaml + off, sizeof(yaml) - off, "]\n");
	assert_int_equal(load(yaml, true, &c, err, sizeof(err)), 0);
	h = node_cfg_static(c, 0xc0a86401);
	assert_non_null(h);
	assert_int_equal(h->naddrs, 10);
	assert_int_equal(udp_addr_v4(&h->addrs[0]), 0x0a000004);
	assert_int_equal(udp_addr_v4(&h->addrs[9]), 0x0a00000d);
	node_cfg_free(c);
}

static void
test_nodecfg_lighthouse_and_preferred(void **state)
{
	struct node_cfg *c;
	struct udp_addr a;
	char err[512];

	(void)state;
	assert_int_equal(load("static_host_map:\n"
	                      "  \"192.168.100.1\": [\"10.99.0.1:4242\"]\n"
	                      "lighthouse:\n  hosts: [\"192.168.100.1\"]\n"
	                      "  interval: 30\n"
	                      "  advertise_addrs: [\"198.51.100.7:0\"]\n"
	                      "punchy:\n  punch: true\n  respond: yes\n"
	                      "  delay: 250ms\n"
	                      "preferred_ranges: [\"10.99.0.0/16\"]\n"
	                      "local_range: 172.16.0.0/12\n",
	                     true, &c, err, sizeof(err)),
	    0);
	assert_int_equal(c->nlighthouses, 1);
	assert_true(node_cfg_is_lighthouse(c, 0xc0a86401));
	assert_false(node_cfg_is_lighthouse(c, 0xc0a86402));
	assert_int_equal(c->lh_interval, 30);
	assert_int_equal(c->nadvertise, 1);
	assert_true(c->punch && c->punch_respond);
	assert_int_equal(c->punch_delay, 250000000);
	assert_int_equal(c->npreferred, 2);
	udp_addr_from_v4(&a, 0x0a630203, 1);
	assert_true(node_cfg_preferred(c, &a));
	udp_addr_from_v4(&a, 0xac100001, 1); /* local_range */
	assert_true(node_cfg_preferred(c, &a));
	udp_addr_from_v4(&a, 0x0a640001, 1);
	assert_false(node_cfg_preferred(c, &a));
	assert_false(c->am_lighthouse);
	node_cfg_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nodecfg_loads_defaults),
	    cmocka_unit_test(test_nodecfg_reads_values),
	    cmocka_unit_test(test_nodecfg_refusals),
	    cmocka_unit_test(test_nodecfg_logging),
	    cmocka_unit_test(test_nodecfg_unknown_key_warning),
	    cmocka_unit_test(test_nodecfg_unsafe_routes),
	    cmocka_unit_test(test_nodecfg_relay),
	    cmocka_unit_test(test_nodecfg_expiry_warning),
	    cmocka_unit_test(test_nodecfg_exit),
	    cmocka_unit_test(test_nodecfg_static_host_keeps_last_ten),
	    cmocka_unit_test(test_nodecfg_lighthouse_and_preferred),
	};

	log_setup(fopen("/dev/null", "w"), LOG_LVL_ERROR, LOG_FMT_TEXT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
