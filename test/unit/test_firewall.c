/* test/unit/test_firewall.c: rule parsing, the merged table, fw_match. */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "config.h"
#include "conntrack.h"
#include "err.h"
#include "firewall.h"
#include "ipaddr.h"
#include "ippkt.h"
#include "pki.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define FIXTURES "fixtures/nebula-1.6.1/"
#define NOW 1893456000 /* 2030-01-01 */

#define CA_FP "e82a24ed49c6df9add385663af24e706f6eaca699494e6e78fc9a08720f43bcd"
#define CA2_FP                                                                 \
	"a197d098205e30755a4206395c361555a648ed1a3b1e632d261b57ce9e66662f"

#define IP_A "192.168.100.10" /* host-a: we are host-a */

/* --- fixtures ---------------------------------------------------------- */

struct env {
	struct cert *host_a, *host_b, *other;
	struct ca_pool *pool;
};

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->host_a = tu_load_cert("host-a.crt");
	e->host_b = tu_load_cert("host-b.crt");
	e->other = tu_load_cert("other-host.crt");
	e->pool = tu_load_pool("ca-bundle.crt", NOW);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;

	cert_free(e->host_a);
	cert_free(e->host_b);
	cert_free(e->other);
	ca_pool_free(e->pool);
	free(e);
	return 0;
}

static uint32_t
ip(const char *s)
{
	uint32_t a = 0;

	if (!ip4_parse(s, &a))
		fail_msg("bad test address %s", s);
	return a;
}

/* YAML text from inbound and outbound rule lists in flow style. */
static char *
yaml_rules(const char *in, const char *out, const char *extra)
{
	char *y = NULL;
	int n;

	n = asprintf(&y, "firewall:\n%s%s%s%s%s%s",
	    in != NULL ? "  inbound: [" : "", in != NULL ? in : "",
	    in != NULL ? "]\n" : "", out != NULL ? "  outbound: [" : "",
	    out != NULL ? out : "", out != NULL ? "]\n" : "");
	assert_true(n > 0);
	if (extra != NULL) {
		char *z = NULL;

		assert_true(asprintf(&z, "%s%s", y, extra) > 0);
		free(y);
		y = z;
	}
	return y;
}

static struct config *
load_yaml(const char *y)
{
	struct config *cfg = NULL;
	struct config_err err;

	if (config_load_string(y, strlen(y), "fw.yml", &cfg, &err) != 0)
		fail_msg("yaml: %s\n%s", err.msg, y);
	return cfg;
}

/* Build from YAML text; fails the test on error. */
static struct fw *
build_yaml(const struct env *e, const char *y, uint64_t version)
{
	struct config *cfg = load_yaml(y);
	struct config_err err;
	struct fw *fw = NULL;
	int r;

	memset(&err, 0, sizeof(err));
	r = fw_build(cfg, e->host_a, version, &fw, &err);
	if (r != 0)
		fail_msg("fw_build: %d %s: %s\n%s", r, err.key, err.msg, y);
	config_free(cfg);
	return fw;
}

static struct fw *
build(const struct env *e, const char *in, const char *out)
{
	char *y = yaml_rules(in, out, NULL);
	struct fw *fw = build_yaml(e, y, 1);

	free(y);
	return fw;
}

/* fw_build's error for YAML text (which must load). */
static int
build_err(const struct env *e, const char *y, struct config_err *err)
{
	struct config *cfg = load_yaml(y);
	struct fw *fw = NULL;
	int r;

	memset(err, 0, sizeof(*err));
	r = fw_build(cfg, e->host_a, 1, &fw, err);
	assert_null(fw);
	config_free(cfg);
	return r;
}

static const struct cert *
peer_cert(const struct env *e, const char *name)
{
	if (strcmp(name, "host-b") == 0)
		return e->host_b;
	if (strcmp(name, "other-host") == 0)
		return e->other;
	if (strcmp(name, "host-a") == 0)
		return e->host_a;
	fail_msg("no peer %s", name);
	return NULL;
}

/* A packet of our node (host-a, 192.168.100.10) with a peer. */
static struct fw_packet
pkt(bool in, uint8_t proto, int dport, uint32_t local, uint32_t remote)
{
	struct fw_packet p;

	memset(&p, 0, sizeof(p));
	p.local_ip = local;
	p.remote_ip = remote;
	p.proto = proto;
	if (dport < 0) {
		p.fragment = true;
	} else if (proto != IPPKT_PROTO_ICMP) {
		if (in) {
			p.local_port = (uint16_t)dport;
			p.remote_port = 40000;
		} else {
			p.remote_port = (uint16_t)dport;
			p.local_port = 40000;
		}
	}
	return p;
}

/* --- the matcher, table-driven ---------------------------------------- */

#define TCP IPPKT_PROTO_TCP
#define UDP IPPKT_PROTO_UDP
#define ICMP IPPKT_PROTO_ICMP
#define GRE 47
#define FRAG (-1)
#define IN true
#define OUT false

struct probe {
	const char *peer; /* NULL ends the list */
	bool in;
	uint8_t proto;
	int port;        /* destination port; FRAG: a non-first fragment */
	const char *rip; /* NULL: the peer's first IP */
	bool want;
};

struct mcase {
	const char *what;
	const char *in, *out; /* rules in flow style */
	struct probe p[12];
};

static const struct mcase mcases[] = {
    {"proto icmp only via icmp or any", "{port: any, proto: icmp, host: any}",
        NULL,
        {
            {"host-b", IN, ICMP, 0, NULL, true},
            {"host-b", IN, TCP, 80, NULL, false},
            {"host-b", IN, UDP, 80, NULL, false},
            {"host-b", OUT, ICMP, 0, NULL, false}, /* no outbound rules */
        }},
    {"proto any with a port: tcp, udp, gre, never icmp",
        "{port: 443, proto: any, host: any}", NULL,
        {
            {"host-b", IN, TCP, 443, NULL, true},
            {"host-b", IN, UDP, 443, NULL, true},
            {"host-b", IN, GRE, 443, NULL, true},
            {"host-b", IN, ICMP, 0, NULL, false},
            {"host-b", IN, TCP, 444, NULL, false},
            {"host-b", IN, TCP, FRAG, NULL, false},
        }},
    {"proto tcp is not udp", "{port: 53, proto: tcp, host: any}", NULL,
        {
            {"host-b", IN, TCP, 53, NULL, true},
            {"host-b", IN, UDP, 53, NULL, false},
            {"host-b", IN, GRE, 53, NULL, false},
        }},
    {"other protocols only via proto any",
        "{port: any, proto: any, group: laptop}", NULL,
        {
            {"host-b", IN, GRE, 7, NULL, true},
            {"host-b", IN, 50, 0, NULL, true},
            {"host-b", IN, ICMP, 0, NULL, true},
            {"other-host", IN, GRE, 7, NULL, false},
        }},
    {"port any also matches fragments, a number does not",
        "{port: any, proto: tcp, host: any}, {port: 80, proto: udp, host: "
        "any}",
        NULL,
        {
            {"host-b", IN, TCP, FRAG, NULL, true},
            {"host-b", IN, TCP, 1, NULL, true},
            {"host-b", IN, TCP, 65535, NULL, true},
            {"host-b", IN, UDP, 80, NULL, true},
            {"host-b", IN, UDP, FRAG, NULL, false},
            {"host-b", IN, ICMP, FRAG, NULL, false},
        }},
    {"port fragment matches only fragments",
        "{port: fragment, proto: any, host: any}", NULL,
        {
            {"host-b", IN, UDP, FRAG, NULL, true},
            {"host-b", IN, ICMP, FRAG, NULL, true},
            {"host-b", IN, UDP, 80, NULL, false},
            {"host-b", IN, ICMP, 0, NULL, false},
        }},
    {"port 0 is any; code: any for icmp",
        "{port: 0, proto: udp, host: any}, {code: any, proto: icmp, host: "
        "any}",
        NULL,
        {
            {"host-b", IN, UDP, 12345, NULL, true},
            {"host-b", IN, UDP, FRAG, NULL, true},
            {"host-b", IN, ICMP, 0, NULL, true},
            {"host-b", IN, TCP, 12345, NULL, false},
        }},
    {"code 8 never matches icmp", "{code: 8, proto: icmp, host: any}", NULL,
        {
            {"host-b", IN, ICMP, 0, NULL, false},
        }},
    {"ranges are inclusive, spaces allowed",
        "{port: ' 8000 - 8100 ', proto: udp, host: any}", NULL,
        {
            {"host-b", IN, UDP, 7999, NULL, false},
            {"host-b", IN, UDP, 8000, NULL, true},
            {"host-b", IN, UDP, 8050, NULL, true},
            {"host-b", IN, UDP, 8100, NULL, true},
            {"host-b", IN, UDP, 8101, NULL, false},
            {"host-b", IN, UDP, FRAG, NULL, false},
        }},
    {"a range from 0 is any (even 0--5)",
        "{port: 0-5, proto: tcp, host: any}, {port: 0--5, proto: udp, host: "
        "any}",
        NULL,
        {
            {"host-b", IN, TCP, 9999, NULL, true},
            {"host-b", IN, TCP, FRAG, NULL, true},
            {"host-b", IN, UDP, 9999, NULL, true},
        }},
    {"ports above 65535 never match",
        "{port: 70000, proto: tcp, host: any}, {port: 65530-70000, proto: "
        "udp, host: any}",
        NULL,
        {
            {"host-b", IN, TCP, 70000 - 65536, NULL, false},
            {"host-b", IN, TCP, 65535, NULL, false},
            {"host-b", IN, UDP, 65535, NULL, true},
            {"host-b", IN, UDP, 65530, NULL, true},
            {"host-b", IN, UDP, 65529, NULL, false},
            {"host-b", IN, UDP, 70000 - 65536, NULL, false},
        }},
    {"ports wrap as Go int32: 2^32+1 is 1, 2^32-1 is fragment",
        "{port: 4294967297, proto: tcp, host: any}, {port: 4294967295, "
        "proto: udp, host: any}",
        NULL,
        {
            {"host-b", IN, TCP, 1, NULL, true},
            {"host-b", IN, TCP, 2, NULL, false},
            {"host-b", IN, UDP, FRAG, NULL, true},
            {"host-b", IN, UDP, 1, NULL, false},
        }},
    {"a leading + is a number", "{port: '+22', proto: tcp, host: any}", NULL,
        {
            {"host-b", IN, TCP, 22, NULL, true},
        }},
    {"the destination port: local inbound, remote outbound",
        "{port: 22, proto: tcp, host: any}",
        "{port: 443, proto: tcp, host: any}",
        {
            {"host-b", IN, TCP, 22, NULL, true},
            {"host-b", IN, TCP, 443, NULL, false},
            {"host-b", OUT, TCP, 443, NULL, true},
            {"host-b", OUT, TCP, 22, NULL, false},
        }},
    {"groups need all (AND)", "{port: 443, proto: tcp, groups: [laptop, home]}",
        NULL,
        {
            {"host-b", IN, TCP, 443, NULL, true},
            {"host-a", IN, TCP, 443, IP_A, false},
            {"other-host", IN, TCP, 443, NULL, false},
        }},
    {"groups missing one fail",
        "{port: 443, proto: tcp, groups: [laptop, servers]}", NULL,
        {
            {"host-b", IN, TCP, 443, NULL, false},
            {"host-a", IN, TCP, 443, IP_A, false},
        }},
    {"groups as a single string; group as a one-item list",
        "{port: 1, proto: tcp, groups: laptop}, {port: 2, proto: tcp, group: "
        "[ops]}",
        NULL,
        {
            {"host-b", IN, TCP, 1, NULL, true},
            {"other-host", IN, TCP, 1, NULL, false},
            {"other-host", IN, TCP, 2, NULL, true},
            {"host-b", IN, TCP, 2, NULL, false},
        }},
    {"host, group and cidr are alternatives (OR)",
        "{port: 22, proto: tcp, host: other-host, group: laptop, cidr: "
        "10.60.1.0/25}, {port: 23, proto: tcp, group: laptop, cidr: "
        "10.60.1.0/25}",
        NULL,
        {
            {"host-b", IN, TCP, 22, NULL, true},
            {"other-host", IN, TCP, 22, NULL, true},
            {"host-a", IN, TCP, 22, IP_A, false},
            {"other-host", IN, TCP, 23, "10.60.1.7", true},
            {"other-host", IN, TCP, 23, "10.60.1.200", false},
            {"other-host", IN, TCP, 23, NULL, false},
            {"host-b", IN, TCP, 23, NULL, true},
        }},
    {"host compares the cert name exactly",
        "{port: 22, proto: tcp, host: host-b}", NULL,
        {
            {"host-b", IN, TCP, 22, NULL, true},
            {"host-a", IN, TCP, 22, IP_A, false},
        }},
    {"cidr is the remote address",
        "{port: any, proto: any, cidr: 192.168.100.16/28}",
        "{port: any, proto: any, cidr: 10.60.1.0/24}",
        {
            {"host-b", IN, TCP, 1, NULL, true},
            {"host-a", IN, TCP, 1, IP_A, false},
            {"other-host", OUT, UDP, 9, "10.60.1.9", true},
            {"other-host", OUT, UDP, 9, NULL, false},
        }},
    {"cidr holding 0.0.0.0 is any",
        "{port: 5, proto: tcp, cidr: 0.0.0.0/8}, {port: 6, proto: tcp, cidr: "
        "1.2.3.4/0}, {port: 7, proto: tcp, cidr: 0.0.0.1/32}",
        NULL,
        {
            {"host-b", IN, TCP, 5, NULL, true},
            {"other-host", IN, TCP, 5, NULL, true},
            {"host-b", IN, TCP, 6, NULL, true},
            {"host-b", IN, TCP, 7, NULL, false},
        }},
    {"host any and group any are any",
        "{port: 1, proto: tcp, host: any}, {port: 2, proto: tcp, group: any}, "
        "{port: 3, proto: tcp, groups: [ops, any]}",
        NULL,
        {
            {"host-b", IN, TCP, 1, NULL, true},
            {"other-host", IN, TCP, 2, NULL, true},
            {"host-b", IN, TCP, 3, NULL, true},
            {"host-b", IN, TCP, 4, NULL, false},
        }},
    {"ca_name alone: any host of that CA",
        "{port: 8000-8100, proto: udp, ca_name: nebtest-ca}", NULL,
        {
            {"host-b", IN, UDP, 8080, NULL, true},
            {"host-a", IN, UDP, 8080, IP_A, true},
            {"other-host", IN, UDP, 8080, NULL, false},
        }},
    {"ca_sha alone, lowercase only",
        "{port: 1, proto: tcp, ca_sha: " CA2_FP "}, {port: 2, proto: tcp, "
        "ca_sha: E82A24ED49C6DF9ADD385663AF24E706F6EACA699494E6E78FC9A08720F4"
        "3BCD}",
        NULL,
        {
            {"other-host", IN, TCP, 1, NULL, true},
            {"host-b", IN, TCP, 1, NULL, false},
            {"host-b", IN, TCP, 2, NULL, false},
        }},
    {"ca_name OR ca_sha",
        "{port: 1, proto: tcp, ca_name: nebtest-ca2-constrained, ca_sha: " CA_FP
        "}",
        NULL,
        {
            {"other-host", IN, TCP, 1, NULL, true},
            {"host-b", IN, TCP, 1, NULL, true},
        }},
    {"CA AND peer condition",
        "{port: 1, proto: tcp, ca_name: nebtest-ca, group: ops}, {port: 2, "
        "proto: tcp, ca_sha: " CA2_FP ", group: ops}",
        NULL,
        {
            {"other-host", IN, TCP, 1, NULL, false},
            {"host-b", IN, TCP, 1, NULL, false},
            {"other-host", IN, TCP, 2, NULL, true},
        }},
    {"an unknown CA name matches nobody",
        "{port: 1, proto: tcp, ca_name: nosuch-ca}", NULL,
        {
            {"other-host", IN, TCP, 1, NULL, false},
            {"host-b", IN, TCP, 1, NULL, false},
        }},
    {"rules merge per port: union, any wins",
        "{port: 80, proto: tcp, host: other-host}, {port: 80, proto: tcp, "
        "group: laptop}, {port: 81, proto: tcp, group: laptop}, {port: 81, "
        "proto: tcp, host: any}",
        NULL,
        {
            {"host-b", IN, TCP, 80, NULL, true},
            {"other-host", IN, TCP, 80, NULL, true},
            {"host-a", IN, TCP, 80, IP_A, false},
            {"host-a", IN, TCP, 81, IP_A, true},
        }},
    {"overlapping ranges keep each rule's peers",
        "{port: 1000-2000, proto: tcp, group: laptop}, {port: 1500-2500, "
        "proto: tcp, host: other-host}, {port: 1800, proto: tcp, group: web}, "
        "{port: any, proto: any, ca_name: nobody}",
        NULL,
        {
            {"host-b", IN, TCP, 1000, NULL, true},
            {"host-b", IN, TCP, 2000, NULL, true},
            {"host-b", IN, TCP, 2001, NULL, false},
            {"other-host", IN, TCP, 1499, NULL, false},
            {"other-host", IN, TCP, 1500, NULL, true},
            {"other-host", IN, TCP, 2500, NULL, true},
            {"host-a", IN, TCP, 1800, IP_A, true},
            {"host-a", IN, TCP, 1799, IP_A, false},
            {"host-b", IN, TCP, 1800, NULL, true},
            {"other-host", IN, TCP, 1800, NULL, true},
        }},
    {"an any-proto rule and a tcp rule both apply",
        "{port: 10, proto: any, group: ops}, {port: 10, proto: tcp, group: "
        "laptop}",
        NULL,
        {
            {"other-host", IN, TCP, 10, NULL, true},
            {"host-b", IN, TCP, 10, NULL, true},
            {"host-b", IN, UDP, 10, NULL, false},
            {"other-host", IN, UDP, 10, NULL, true},
        }},
    {"empty tables refuse everything", "", "",
        {
            {"host-b", IN, TCP, 10, NULL, false},
            {"host-b", OUT, ICMP, 0, NULL, false},
        }},
};

/*
 * local_cidr (Nebula 1.7's key, AND-ed with the rest of the rule as in
 * Nebula 1.9): probes with our address in the packet.
 */
struct lprobe {
	const char *lip; /* NULL ends the list */
	struct probe p;
};

struct lcase {
	const char *what;
	const char *in, *out;
	struct lprobe p[12];
};

static const struct lcase lcases[] = {
    {"local_cidr is the local address, AND the peer and port",
        "{port: 22, proto: tcp, group: laptop, local_cidr: 10.200.1.0/28}",
        NULL,
        {
            {"10.200.1.5", {"host-b", IN, TCP, 22, NULL, true}},
            {"10.200.1.0", {"host-b", IN, TCP, 22, NULL, true}},
            {"10.200.1.15", {"host-b", IN, TCP, 22, NULL, true}},
            {"10.200.1.16", {"host-b", IN, TCP, 22, NULL, false}},
            {IP_A, {"host-b", IN, TCP, 22, NULL, false}},
            {"10.200.1.5", {"other-host", IN, TCP, 22, NULL, false}},
            {"10.200.1.5", {"host-b", IN, TCP, 23, NULL, false}},
            {"10.200.1.5", {"host-b", IN, UDP, 22, NULL, false}},
        }},
    {"local_cidr outbound is the local (source) address",
        "{port: any, proto: any, host: any}",
        "{port: any, proto: any, host: any, local_cidr: 192.168.100.10/32}",
        {
            {IP_A, {"host-b", OUT, UDP, 53, NULL, true}},
            {IP_A, {"host-b", OUT, TCP, 443, NULL, true}},
            {"10.200.1.1", {"host-b", OUT, UDP, 53, NULL, false}},
            {"10.200.1.1", {"host-b", IN, UDP, 53, NULL, true}},
        }},
    {"local_cidr AND cidr",
        "{port: 80, proto: tcp, cidr: 10.60.1.0/25, local_cidr: "
        "10.201.0.0/16}",
        NULL,
        {
            {"10.201.3.4", {"other-host", IN, TCP, 80, "10.60.1.7", true}},
            {"10.201.3.4", {"other-host", IN, TCP, 80, "10.60.1.200", false}},
            {"10.200.1.1", {"other-host", IN, TCP, 80, "10.60.1.7", false}},
            {IP_A, {"other-host", IN, TCP, 80, "10.60.1.7", false}},
        }},
    {"local_cidr alone: every peer, only that local network",
        "{port: 443, proto: tcp, local_cidr: 10.200.1.0/24}", NULL,
        {
            {"10.200.1.9", {"host-b", IN, TCP, 443, NULL, true}},
            {"10.200.1.9", {"other-host", IN, TCP, 443, NULL, true}},
            {"10.200.1.255", {"host-a", IN, TCP, 443, IP_A, true}},
            {IP_A, {"host-b", IN, TCP, 443, NULL, false}},
            {"10.201.0.1", {"host-b", IN, TCP, 443, NULL, false}},
        }},
    {"host any does not lift local_cidr (Nebula 1.7 did)",
        "{port: 5, proto: udp, host: any, local_cidr: 10.200.1.0/24}, "
        "{port: 6, proto: udp, cidr: 0.0.0.0/0, local_cidr: 10.200.1.0/24}",
        NULL,
        {
            {"10.200.1.1", {"host-b", IN, UDP, 5, NULL, true}},
            {IP_A, {"host-b", IN, UDP, 5, NULL, false}},
            {"10.200.1.1", {"other-host", IN, UDP, 6, NULL, true}},
            {IP_A, {"other-host", IN, UDP, 6, NULL, false}},
        }},
    {"local_cidr holding 0.0.0.0 is any local address",
        "{port: 1, proto: tcp, group: laptop, local_cidr: 0.0.0.0/0}, {port: "
        "2, proto: tcp, group: laptop, local_cidr: 0.0.0.0/8}, {port: 3, "
        "proto: tcp, group: laptop, local_cidr: 0.0.0.1/32}",
        NULL,
        {
            {"10.200.1.1", {"host-b", IN, TCP, 1, NULL, true}},
            {IP_A, {"host-b", IN, TCP, 1, NULL, true}},
            {IP_A, {"other-host", IN, TCP, 1, NULL, false}},
            {IP_A, {"host-b", IN, TCP, 2, NULL, true}},
            {IP_A, {"host-b", IN, TCP, 3, NULL, false}},
            {"0.0.0.1", {"host-b", IN, TCP, 3, NULL, true}},
            {"0.0.0.0", {"host-b", IN, TCP, 3, NULL, false}},
        }},
    {"local_cidr host bits are masked",
        "{port: 9, proto: tcp, host: host-b, local_cidr: 10.200.1.7/24}", NULL,
        {
            {"10.200.1.200", {"host-b", IN, TCP, 9, NULL, true}},
            {"10.200.2.7", {"host-b", IN, TCP, 9, NULL, false}},
        }},
    {"a rule whose local_cidr fails falls through to the others",
        "{port: 22, proto: tcp, group: laptop, local_cidr: 10.200.1.0/24}, "
        "{port: 22, proto: tcp, group: ops}, {port: any, proto: tcp, host: "
        "host-b, local_cidr: 10.201.0.0/16}, {port: any, proto: any, group: "
        "laptop, local_cidr: 10.201.7.0/24}",
        NULL,
        {
            {"10.200.1.1", {"host-b", IN, TCP, 22, NULL, true}},
            {IP_A, {"host-b", IN, TCP, 22, NULL, false}},
            {"10.201.1.1", {"host-b", IN, TCP, 22, NULL, true}},
            {IP_A, {"other-host", IN, TCP, 22, NULL, true}},
            {"10.201.1.1", {"other-host", IN, TCP, 22, NULL, true}},
            {"10.201.1.1", {"host-b", IN, TCP, 23, NULL, true}},
            {"10.200.1.1", {"host-b", IN, TCP, 23, NULL, false}},
            {"10.201.1.1", {"host-b", IN, UDP, 23, NULL, false}},
            {"10.201.7.1", {"host-b", IN, UDP, 23, NULL, true}},
        }},
    {"local networks are not shared between merged rules",
        "{port: 80, proto: tcp, group: laptop, local_cidr: 10.200.1.0/25}, "
        "{port: 80, proto: tcp, host: other-host, local_cidr: "
        "10.200.1.128/25}, {port: 80, proto: tcp, group: laptop, local_cidr: "
        "10.201.0.0/16}, {port: 80, proto: tcp, host: host-a}",
        NULL,
        {
            {"10.200.1.5", {"host-b", IN, TCP, 80, NULL, true}},
            {"10.200.1.200", {"host-b", IN, TCP, 80, NULL, false}},
            {"10.201.9.9", {"host-b", IN, TCP, 80, NULL, true}},
            {IP_A, {"host-b", IN, TCP, 80, NULL, false}},
            {"10.200.1.200", {"other-host", IN, TCP, 80, NULL, true}},
            {"10.200.1.5", {"other-host", IN, TCP, 80, NULL, false}},
            {"10.201.9.9", {"other-host", IN, TCP, 80, NULL, false}},
            {"10.200.1.5", {"host-a", IN, TCP, 80, IP_A, true}},
            {IP_A, {"host-a", IN, TCP, 80, IP_A, true}},
        }},
    {"local_cidr AND the CA",
        "{port: 7, proto: udp, ca_name: nebtest-ca, local_cidr: "
        "10.200.1.0/24}, {port: 8, proto: udp, ca_sha: " CA2_FP
        ", local_cidr: 10.200.1.0/24}",
        NULL,
        {
            {"10.200.1.1", {"host-b", IN, UDP, 7, NULL, true}},
            {IP_A, {"host-b", IN, UDP, 7, NULL, false}},
            {"10.200.1.1", {"other-host", IN, UDP, 7, NULL, false}},
            {"10.200.1.1", {"other-host", IN, UDP, 8, NULL, true}},
            {IP_A, {"other-host", IN, UDP, 8, NULL, false}},
            {"10.200.1.1", {"host-b", IN, UDP, 8, NULL, false}},
        }},
    {"local_cidr with fragments and icmp",
        "{port: fragment, proto: any, host: any, local_cidr: 10.200.1.0/24}, "
        "{port: any, proto: icmp, group: laptop, local_cidr: 10.201.0.0/16}",
        NULL,
        {
            {"10.200.1.1", {"host-b", IN, UDP, FRAG, NULL, true}},
            {IP_A, {"host-b", IN, UDP, FRAG, NULL, false}},
            {"10.201.0.0", {"host-b", IN, ICMP, 0, NULL, true}},
            {"10.200.1.1", {"host-b", IN, ICMP, 0, NULL, false}},
            {"10.201.0.0", {"host-b", IN, ICMP, FRAG, NULL, true}},
        }},
};

/* fw_match_rules for probe pr, with the peer resolved or not. */
static bool
probe(const struct env *e, const struct fw *fw, const struct probe *pr,
    const char *lip, const struct fw_peer *peer)
{
	const struct cert *c = peer_cert(e, pr->peer);
	uint32_t rip = pr->rip != NULL ? ip(pr->rip) : c->ips[0].addr;
	struct fw_packet p = pkt(pr->in, pr->proto, pr->port, ip(lip), rip);

	return fw_match_rules(fw, pr->in, &p, peer);
}

/* Probe pr of case `what` with a fresh, a stale and an unresolved peer. */
static void
check_probe(const struct env *e, const struct fw *fw, const struct fw *other,
    const char *what, size_t k, const struct probe *pr, const char *lip)
{
	const struct cert *c = peer_cert(e, pr->peer);
	struct fw_peer fresh, stale, unresolved;

	assert_int_equal(fw_peer_init(&fresh, fw, c, e->pool), 0);
	assert_int_equal(fw_peer_init(&stale, other, c, e->pool), 0);
	assert_int_equal(fw_peer_init(&unresolved, NULL, c, e->pool), 0);
	if (probe(e, fw, pr, lip, &fresh) != pr->want ||
	    probe(e, fw, pr, lip, &stale) != pr->want ||
	    probe(e, fw, pr, lip, &unresolved) != pr->want)
		fail_msg("case \"%s\", probe %zu (%s %s proto %u port %d local "
		         "%s): want %d",
		    what, k, pr->peer, pr->in ? "in" : "out", pr->proto,
		    pr->port, lip, pr->want);
	fw_peer_clear(&fresh);
	fw_peer_clear(&stale);
	fw_peer_clear(&unresolved);
}

static void
test_firewall_match_table(void **state)
{
	struct env *e = *state;
	struct fw *fw, *other;
	const struct probe *pr;
	const struct lprobe *lp;
	size_t i;

	/* a table with other interned ids, to make peers stale */
	other = build(e,
	    "{port: 1, proto: tcp, groups: [zz, ops, home, a]}, "
	    "{port: 2, proto: tcp, host: aaa}",
	    NULL);
	for (i = 0; i < NELEM(mcases); i++) {
		fw = build(e, mcases[i].in, mcases[i].out);
		for (pr = mcases[i].p; pr->peer != NULL; pr++)
			check_probe(e, fw, other, mcases[i].what,
			    (size_t)(pr - mcases[i].p), pr, IP_A);
		fw_free(fw);
	}
	for (i = 0; i < NELEM(lcases); i++) {
		fw = build(e, lcases[i].in, lcases[i].out);
		for (lp = lcases[i].p; lp->lip != NULL; lp++)
			check_probe(e, fw, other, lcases[i].what,
			    (size_t)(lp - lcases[i].p), &lp->p, lp->lip);
		fw_free(fw);
	}
	fw_free(other);
}

/*
 * Differential: random rule sets against a naive reading of firewall.md
 * 3.2-3.3 that walks every rule (Nebula's semantics without its merge),
 * plus local_cidr: AND-ed with the rest, any when it holds 0.0.0.0.
 */

struct rrule {
	int cls; /* 0 any, 6 tcp, 17 udp, 1 icmp */
	long lo, hi;
	const char *port;
	const char *host, *groups[3], *ca_name, *ca_sha;
	int ngroups;
	bool has_cidr;
	uint32_t net, mask;
	bool has_local;
	uint32_t lnet, lmask;
};

static uint64_t rng = 0x243f6a8885a308d3u;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static const char *const pool_groups[] = {
    "laptop", "home", "servers", "web", "ops", "dev", "x"};
static const char *const pool_hosts[] = {
    "host-a", "host-b", "other-host", "nobody"};
static const char *const pool_ca_names[] = {
    "nebtest-ca", "nebtest-ca2-constrained", "nope"};
static const char *const pool_ca_shas[] = {CA_FP, CA2_FP, "00"};
static const uint32_t pool_addrs[] = {0xc0a8640au, 0xc0a86414u, 0x0a320105u,
    0x0a3c0107u, 0x0a3c01f0u, 0x01020304u};
/* our addresses: IP_A, in 10.200.1.0/24, in 10.201.0.0/16 */
static const uint32_t pool_local[] = {
    0xc0a8640au, 0x0ac80105u, 0x0ac801f0u, 0x0ac90101u, 0x0ac9ff02u};

static void
random_rule(struct rrule *r)
{
	static const struct {
		const char *s;
		long lo, hi;
	} ports[] = {{"any", 0, 0}, {"0", 0, 0}, {"fragment", -1, -1},
	    {"22", 22, 22}, {"80", 80, 80}, {"443", 443, 443},
	    {"1000-1005", 1000, 1005}, {"1003-1010", 1003, 1010},
	    {"0-1000", 0, 0}, {"65535", 65535, 65535},
	    {"65000-70000", 65000, 70000}, {"1-65535", 1, 65535},
	    {"70000", 70000, 70000}, {"4294967295", -1, -1}};
	static const int classes[] = {0, 6, 17, 1};
	static const unsigned bits[] = {0, 8, 16, 24, 28, 30, 32};
	unsigned i, b;

	memset(r, 0, sizeof(*r));
	r->cls = classes[rnd(4)];
	i = rnd(NELEM(ports));
	r->port = ports[i].s;
	r->lo = ports[i].lo;
	r->hi = ports[i].hi;
	do {
		if (rnd(4) == 0)
			r->host = rnd(8) == 0 ? "any" : pool_hosts[rnd(4)];
		if (rnd(3) == 0) {
			r->ngroups = 1 + (int)rnd(3);
			for (i = 0; i < (unsigned)r->ngroups; i++)
				r->groups[i] =
				    rnd(20) == 0
				        ? "any"
				        : pool_groups[rnd(NELEM(pool_groups))];
		}
		if (rnd(4) == 0) {
			b = bits[rnd(NELEM(bits))];
			r->has_cidr = true;
			r->mask = b == 0 ? 0 : 0xffffffffu << (32 - b);
			r->net = pool_addrs[rnd(NELEM(pool_addrs))] & r->mask;
		}
		if (rnd(5) == 0)
			r->ca_name = pool_ca_names[rnd(3)];
		if (rnd(5) == 0)
			r->ca_sha = pool_ca_shas[rnd(3)];
		if (rnd(3) == 0) {
			b = bits[rnd(NELEM(bits))];
			r->has_local = true;
			r->lmask = b == 0 ? 0 : 0xffffffffu << (32 - b);
			r->lnet = pool_local[rnd(NELEM(pool_local))] & r->lmask;
		}
	} while (r->host == NULL && r->ngroups == 0 && !r->has_cidr &&
	         r->ca_name == NULL && r->ca_sha == NULL && !r->has_local);
}

static size_t
rule_yaml(char *buf, size_t cap, const struct rrule *r)
{
	static const char *const cname[] = {
	    [0] = "any", [1] = "icmp", [6] = "tcp", [17] = "udp"};
	size_t o = 0;
	int i;

	o += (size_t)snprintf(
	    buf + o, cap - o, "{port: '%s', proto: %s", r->port, cname[r->cls]);
	if (r->host != NULL)
		o += (size_t)snprintf(buf + o, cap - o, ", host: %s", r->host);
	if (r->ngroups == 1 && rnd(2))
		o += (size_t)snprintf(
		    buf + o, cap - o, ", group: %s", r->groups[0]);
	else if (r->ngroups > 0) {
		o += (size_t)snprintf(buf + o, cap - o, ", groups: [");
		for (i = 0; i < r->ngroups; i++)
			o += (size_t)snprintf(buf + o, cap - o, "%s%s",
			    i ? ", " : "", r->groups[i]);
		o += (size_t)snprintf(buf + o, cap - o, "]");
	}
	if (r->has_cidr) {
		char a[IP4NET_STRLEN];
		struct ip4net n = {r->net, r->mask};

		ip4net_format(&n, a);
		o += (size_t)snprintf(buf + o, cap - o, ", cidr: %s", a);
	}
	if (r->has_local) {
		char a[IP4NET_STRLEN];
		struct ip4net n = {r->lnet, r->lmask};

		ip4net_format(&n, a);
		o += (size_t)snprintf(buf + o, cap - o, ", local_cidr: %s", a);
	}
	if (r->ca_name != NULL)
		o += (size_t)snprintf(
		    buf + o, cap - o, ", ca_name: %s", r->ca_name);
	if (r->ca_sha != NULL)
		o += (size_t)snprintf(
		    buf + o, cap - o, ", ca_sha: %s", r->ca_sha);
	o += (size_t)snprintf(buf + o, cap - o, "}");
	return o;
}

static bool
cert_has_group(const struct cert *c, const char *g)
{
	size_t i;

	for (i = 0; i < c->ngroups; i++)
		if (strcmp(c->groups[i].s, g) == 0)
			return true;
	return false;
}

/* One rule, as firewall.md 3.2 reads it. */
static bool
naive_rule(const struct env *e, const struct rrule *r,
    const struct fw_packet *p, bool in, const struct cert *c)
{
	long port =
	    p->fragment ? -1 : (long)(in ? p->local_port : p->remote_port);
	char issuer[2 * CERT_FP_LEN + 1] = "";
	const struct cert *ca;
	bool any, all;
	int i, ignored;

	if (r->cls != 0 && r->cls != p->proto)
		return false;
	if (!((r->lo <= port && port <= r->hi) || (r->lo <= 0 && 0 <= r->hi)))
		return false;
	if (r->has_local && r->lnet != 0 && (p->local_ip & r->lmask) != r->lnet)
		return false;
	if (r->ca_name != NULL || r->ca_sha != NULL) {
		bool ok = false;

		if (c->issuer_len == CERT_FP_LEN)
			hex_encode(c->issuer, c->issuer_len, issuer);
		if (r->ca_sha != NULL && strcmp(r->ca_sha, issuer) == 0)
			ok = true;
		ca = ca_pool_issuer(e->pool, c, &ignored);
		if (r->ca_name != NULL && ca != NULL &&
		    strcmp(r->ca_name, ca->name.s) == 0)
			ok = true;
		if (!ok)
			return false;
	}
	any = r->host == NULL && r->ngroups == 0 && !r->has_cidr;
	if (r->host != NULL && strcmp(r->host, "any") == 0)
		any = true;
	for (i = 0; i < r->ngroups; i++)
		if (strcmp(r->groups[i], "any") == 0)
			any = true;
	if (r->has_cidr && r->net == 0)
		any = true;
	if (any)
		return true;
	if (r->host != NULL && strcmp(r->host, c->name.s) == 0)
		return true;
	if (r->ngroups > 0) {
		for (all = true, i = 0; i < r->ngroups; i++)
			all = all && cert_has_group(c, r->groups[i]);
		if (all)
			return true;
	}
	return r->has_cidr && (p->remote_ip & r->mask) == r->net;
}

static void
test_firewall_matches_naive_reading(void **state)
{
	struct env *e = *state;
	static const uint8_t protos[] = {6, 17, 1, 47};
	static const int dports[] = {0, 1, 22, 80, 443, 999, 1000, 1004, 1005,
	    1006, 1010, 1011, 64999, 65000, 65535, -1};
	struct rrule rules[2][12];
	size_t nr[2], o, i, d;
	struct cert *c[4];
	struct fw_peer peers[4];
	struct fw_packet p;
	struct fw *fw;
	char *y, in[4096], out[4096];
	int iter, k, pi;
	size_t nyes = 0, nno = 0;
	bool want;

	c[0] = e->host_a;
	c[1] = e->host_b;
	c[2] = e->other;
	c[3] = cert_new();
	assert_non_null(c[3]);
	assert_int_equal(cert_set_name(c[3], "nobody", 6), 0);
	assert_int_equal(cert_add_group(c[3], "x", 1), 0);
	assert_int_equal(cert_add_group(c[3], "web", 3), 0);
	for (iter = 0; iter < 400; iter++) {
		for (d = 0; d < 2; d++) {
			char *buf = d ? in : out;

			nr[d] = rnd(12);
			for (o = 0, i = 0; i < nr[d]; i++) {
				random_rule(&rules[d][i]);
				if (i > 0)
					o += (size_t)snprintf(
					    buf + o, 4096 - o, ", ");
				o += rule_yaml(buf + o, 4096 - o, &rules[d][i]);
			}
			buf[o] = '\0';
		}
		y = yaml_rules(in, out, NULL);
		fw = build_yaml(e, y, 1);
		for (k = 0; k < 4; k++)
			assert_int_equal(
			    fw_peer_init(
			        &peers[k], iter % 2 ? fw : NULL, c[k], e->pool),
			    0);
		for (k = 0; k < 300; k++) {
			bool dir = rnd(2);
			int dp = dports[rnd(NELEM(dports))];
			uint8_t proto = protos[rnd(NELEM(protos))];
			uint32_t lip = pool_local[rnd(NELEM(pool_local))];

			pi = (int)rnd(4);
			p = pkt(dir, proto, dp, lip,
			    pool_addrs[rnd(NELEM(pool_addrs))]);
			if (dp == 0 && proto != ICMP)
				p.local_port = p.remote_port = 0;
			for (want = false, i = 0; i < nr[dir] && !want; i++)
				want = naive_rule(
				    e, &rules[dir][i], &p, dir, c[pi]);
			if (want)
				nyes++;
			else
				nno++;
			if (fw_match_rules(fw, dir, &p, &peers[pi]) != want)
				fail_msg("iteration %d: %s packet proto %u "
				         "port %d frag %d from %s local %08x: "
				         "want %d\n%s",
				    iter, dir ? "in" : "out", proto, dp,
				    p.fragment, c[pi]->name.s, p.local_ip, want,
				    y);
		}
		for (k = 0; k < 4; k++)
			fw_peer_clear(&peers[k]);
		fw_free(fw);
		free(y);
	}
	cert_free(c[3]);
	/* both outcomes are well represented */
	print_message("naive reading: %zu accepted, %zu refused\n", nyes, nno);
	assert_true(nyes > 10000 && nno > 10000);
}

/* --- steps 2 and 3: addresses ----------------------------------------- */

static void
test_firewall_remote_ip_one_ip_no_subnet(void **state)
{
	struct env *e = *state;
	struct fw *fw = build(e, "{port: any, proto: any, host: any}", NULL);
	struct fw_peer peer;
	struct fw_packet p;

	assert_int_equal(fw_peer_init(&peer, fw, e->host_b, e->pool), 0);
	p = pkt(IN, TCP, 22, ip(IP_A), ip("192.168.100.20"));
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_OK);
	assert_true(fw_match(fw, IN, &p, &peer));
	/* the cert's /24 does not count: only the address */
	p.remote_ip = ip("192.168.100.21");
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_BAD_REMOTE_IP);
	assert_false(fw_match(fw, IN, &p, &peer));
	p.remote_ip = ip("10.60.1.5");
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_BAD_REMOTE_IP);
	fw_peer_clear(&peer);
	fw_free(fw);
}

static void
test_firewall_remote_ip_in_subnets(void **state)
{
	struct env *e = *state;
	struct fw *fw = build(e, "{port: any, proto: any, host: any}", NULL);
	struct fw_peer peer;
	struct fw_packet p;
	static const struct {
		const char *rip;
		enum fw_reason want;
	} v[] = {
	    {"10.50.1.5", FW_OK},
	    {"10.50.1.6", FW_BAD_REMOTE_IP}, /* in the IP's /16, not /32 */
	    {"10.60.1.0", FW_OK},
	    {"10.60.1.255", FW_OK},
	    {"10.60.2.0", FW_BAD_REMOTE_IP},
	    {"10.60.0.255", FW_BAD_REMOTE_IP},
	};
	size_t i;

	assert_int_equal(fw_peer_init(&peer, fw, e->other, e->pool), 0);
	for (i = 0; i < NELEM(v); i++) {
		p = pkt(IN, UDP, 53, ip(IP_A), ip(v[i].rip));
		assert_int_equal(fw_check(fw, IN, &p, &peer), v[i].want);
		p = pkt(OUT, UDP, 53, ip(IP_A), ip(v[i].rip));
		assert_int_equal(fw_check(fw, OUT, &p, &peer),
		    v[i].want == FW_OK ? FW_NO_RULE : v[i].want);
	}
	fw_peer_clear(&peer);
	fw_free(fw);
}

static void
test_firewall_local_ip_is_ours(void **state)
{
	struct env *e = *state;
	struct fw *fw = build(e, "{port: any, proto: any, host: any}",
	    "{port: any, proto: any, host: any}");
	struct fw_peer peer;
	struct fw_packet p;
	static const struct {
		const char *lip;
		enum fw_reason want;
	} v[] = {
	    {"192.168.100.10", FW_OK},
	    {"192.168.100.11", FW_BAD_LOCAL_IP}, /* our /24 is not ours */
	    {"10.200.1.0", FW_OK},               /* our subnets are */
	    {"10.200.1.255", FW_OK},
	    {"10.200.2.1", FW_BAD_LOCAL_IP},
	    {"10.201.255.255", FW_OK},
	    {"10.202.0.0", FW_BAD_LOCAL_IP},
	    {"0.0.0.0", FW_BAD_LOCAL_IP},
	};
	size_t i;

	assert_int_equal(fw_peer_init(&peer, fw, e->host_b, e->pool), 0);
	for (i = 0; i < NELEM(v); i++) {
		p = pkt(IN, TCP, 1, ip(v[i].lip), ip("192.168.100.20"));
		assert_int_equal(fw_check(fw, IN, &p, &peer), v[i].want);
		p = pkt(OUT, TCP, 1, ip(v[i].lip), ip("192.168.100.20"));
		assert_int_equal(fw_check(fw, OUT, &p, &peer), v[i].want);
	}
	/* the remote check comes first */
	p = pkt(IN, TCP, 1, ip("1.1.1.1"), ip("1.1.1.2"));
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_BAD_REMOTE_IP);
	fw_peer_clear(&peer);
	fw_free(fw);
}

/* --- local_cidr (Nebula 1.7's key) ------------------------------------ */

/* Valid forms load and count as a peer selector of their own. */
static void
test_firewall_local_cidr_loads(void **state)
{
	struct env *e = *state;
	struct fw *fw;
	struct fw_peer peer;
	struct fw_packet p;

	fw = build_yaml(e,
	    "firewall:\n"
	    "  inbound:\n"
	    "    - port: 443\n"
	    "      proto: tcp\n"
	    "      local_cidr: 10.200.1.0/24\n"
	    "    - {port: 22, proto: tcp, group: laptop, local_cidr: "
	    "'10.201.0.0/16'}\n"
	    "    - {port: 53, proto: udp, ca_name: nebtest-ca, local_cidr: "
	    "0.0.0.0/0}\n"
	    "  outbound:\n"
	    "    - {port: any, proto: any, host: any, local_cidr: "
	    "192.168.100.10/32}\n",
	    1);
	assert_int_equal(fw_nrules(fw, IN), 3);
	assert_int_equal(fw_nrules(fw, OUT), 1);
	assert_int_equal(fw_nwarnings(fw), 0);
	assert_int_equal(fw_peer_init(&peer, fw, e->host_b, e->pool), 0);
	p = pkt(IN, TCP, 443, ip("10.200.1.1"), ip("192.168.100.20"));
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_OK);
	p = pkt(IN, TCP, 443, ip(IP_A), ip("192.168.100.20"));
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_NO_RULE);
	p = pkt(IN, TCP, 22, ip("10.201.9.9"), ip("192.168.100.20"));
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_OK);
	p = pkt(IN, UDP, 53, ip(IP_A), ip("192.168.100.20"));
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_OK);
	p = pkt(OUT, UDP, 53, ip(IP_A), ip("192.168.100.20"));
	assert_int_equal(fw_check(fw, OUT, &p, &peer), FW_OK);
	p = pkt(OUT, UDP, 53, ip("10.200.1.1"), ip("192.168.100.20"));
	assert_int_equal(fw_check(fw, OUT, &p, &peer), FW_NO_RULE);
	/* local_cidr does not widen step 3: the address must still be ours */
	fw_peer_clear(&peer);
	fw_free(fw);
	fw = build(e,
	    "{port: any, proto: any, host: any, local_cidr: 0.0.0.0/0}", NULL);
	assert_int_equal(fw_peer_init(&peer, fw, e->host_b, e->pool), 0);
	p = pkt(IN, TCP, 1, ip("10.200.2.1"), ip("192.168.100.20"));
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_BAD_LOCAL_IP);
	p = pkt(IN, TCP, 1, ip("10.200.1.1"), ip("192.168.100.20"));
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_OK);
	fw_peer_clear(&peer);
	fw_free(fw);
}

/* An IPv4 header and 20 bytes of TCP with the two ports; 40 bytes. */
static size_t
raw_tcp(uint8_t *b, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	memset(b, 0, 40);
	b[0] = 0x45;
	b[3] = 40;
	b[8] = 64;
	b[9] = IPPKT_PROTO_TCP;
	b[12] = (uint8_t)(src >> 24), b[13] = (uint8_t)(src >> 16);
	b[14] = (uint8_t)(src >> 8), b[15] = (uint8_t)src;
	b[16] = (uint8_t)(dst >> 24), b[17] = (uint8_t)(dst >> 16);
	b[18] = (uint8_t)(dst >> 8), b[19] = (uint8_t)dst;
	b[20] = (uint8_t)(sport >> 8), b[21] = (uint8_t)sport;
	b[22] = (uint8_t)(dport >> 8), b[23] = (uint8_t)dport;
	b[32] = 0x50;
	return 40;
}

/*
 * From the wire: LocalIP is the destination of an inbound packet and the
 * source of an outbound one (firewall.md 1); local_cidr looks at it.
 */
static void
test_firewall_local_cidr_packet_direction(void **state)
{
	struct env *e = *state;
	/* a router (host-a, subnets 10.200.1.0/24 and 10.201.0.0/16) */
	struct fw *fw = build(e,
	    "{port: 22, proto: tcp, group: laptop, local_cidr: 10.200.1.0/24}, "
	    "{port: 23, proto: tcp, host: any, local_cidr: 192.168.100.20/32}",
	    "{port: any, proto: any, host: any, local_cidr: "
	    "192.168.100.10/32}");
	uint32_t b = ip("192.168.100.20"), lan = ip("10.200.1.7");
	struct fw_peer peer;
	struct fw_packet p;
	uint8_t raw[40];
	size_t n;

	assert_int_equal(fw_peer_init(&peer, fw, e->host_b, e->pool), 0);
	/* inbound to the routed network: allowed */
	n = raw_tcp(raw, b, lan, 40000, 22);
	assert_int_equal(ippkt_parse(raw, n, IN, &p), 0);
	assert_int_equal(p.local_ip, lan);
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_OK);
	/* inbound to the router itself: not by that rule */
	n = raw_tcp(raw, b, ip(IP_A), 40000, 22);
	assert_int_equal(ippkt_parse(raw, n, IN, &p), 0);
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_NO_RULE);
	/* inbound: the source is not the local address */
	n = raw_tcp(raw, b, ip(IP_A), 40000, 23);
	assert_int_equal(ippkt_parse(raw, n, IN, &p), 0);
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_NO_RULE);
	/* outbound from the router's own address: allowed */
	n = raw_tcp(raw, ip(IP_A), b, 40000, 443);
	assert_int_equal(ippkt_parse(raw, n, OUT, &p), 0);
	assert_int_equal(p.local_ip, ip(IP_A));
	assert_int_equal(fw_check(fw, OUT, &p, &peer), FW_OK);
	/* outbound from the routed network: not by that rule */
	n = raw_tcp(raw, lan, b, 40000, 443);
	assert_int_equal(ippkt_parse(raw, n, OUT, &p), 0);
	assert_int_equal(fw_check(fw, OUT, &p, &peer), FW_NO_RULE);
	fw_peer_clear(&peer);
	fw_free(fw);
}

/*
 * Conntrack is as before: an accepted flow's replies pass without a rule,
 * other local addresses do not ride on it, and a reload re-checks the
 * flow against the new local_cidr.
 */
static void
test_firewall_local_cidr_conntrack(void **state)
{
	struct env *e = *state;
	struct fw *fw1 = build(e,
	    "{port: 22, proto: tcp, group: laptop, local_cidr: 10.200.1.0/25}",
	    NULL);
	char *y = yaml_rules(
	    "{port: 22, proto: tcp, group: laptop, local_cidr: 10.200.1.0/24}",
	    NULL, NULL);
	struct fw *fw2 = build_yaml(e, y, 2);
	struct fw *fw3;
	struct conntrack *ct = NULL;
	struct ct_owner own;
	struct fw_peer peer;
	struct fw_packet p, q;
	enum fw_why why;

	free(y);
	y = yaml_rules("{port: 22, proto: tcp, group: laptop, local_cidr: "
	               "10.200.1.128/25}",
	    NULL, NULL);
	fw3 = build_yaml(e, y, 3);
	free(y);
	assert_int_equal(conntrack_new(0, &ct), 0);
	conntrack_owner_init(&own);
	assert_int_equal(fw_peer_init(&peer, fw1, e->host_b, e->pool), 0);

	p = pkt(IN, TCP, 22, ip("10.200.1.7"), ip("192.168.100.20"));
	assert_int_equal(
	    fw_decide_why(fw1, ct, IN, &p, &peer, &own, 1000, &why), FW_ACCEPT);
	assert_int_equal(why, FW_WHY_RULE);
	assert_int_equal(
	    fw_decide_why(fw1, ct, IN, &p, &peer, &own, 2000, &why), FW_ACCEPT);
	assert_int_equal(why, FW_WHY_CONNTRACK);
	/* the reply: no outbound rule, the tracked flow lets it out */
	assert_int_equal(
	    fw_decide_why(fw1, ct, OUT, &p, &peer, &own, 3000, &why),
	    FW_ACCEPT);
	assert_int_equal(why, FW_WHY_CONNTRACK);
	/* the same ports to a local address outside the rule's network */
	q = p;
	q.local_ip = ip("10.200.1.200");
	assert_int_equal(
	    fw_decide_why(fw1, ct, IN, &q, &peer, &own, 4000, &why), FW_DROP);
	assert_int_equal(why, FW_WHY_NO_RULE);
	q.local_ip = ip(IP_A);
	assert_int_equal(
	    fw_decide_why(fw1, ct, OUT, &q, &peer, &own, 4000, &why), FW_DROP);
	assert_int_equal(why, FW_WHY_NO_RULE);
	assert_int_equal(conntrack_count(ct), 1);

	/* reload to a wider network: the flow is kept */
	assert_int_equal(
	    fw_decide_why(fw2, ct, OUT, &p, &peer, &own, 5000, &why),
	    FW_ACCEPT);
	assert_int_equal(why, FW_WHY_CONNTRACK);
	/* reload to a network without its address: forgotten, refused */
	assert_int_equal(
	    fw_decide_why(fw3, ct, OUT, &p, &peer, &own, 6000, &why), FW_DROP);
	assert_int_equal(why, FW_WHY_NO_RULE);
	assert_int_equal(conntrack_count(ct), 0);
	/* where the new rules allow, a new flow starts */
	q = p;
	q.local_ip = ip("10.200.1.200");
	assert_int_equal(
	    fw_decide_why(fw3, ct, IN, &q, &peer, &own, 7000, &why), FW_ACCEPT);
	assert_int_equal(why, FW_WHY_RULE);

	conntrack_owner_release(ct, &own);
	assert_int_equal(conntrack_count(ct), 0);
	conntrack_free(ct);
	fw_peer_clear(&peer);
	fw_free(fw1);
	fw_free(fw2);
	fw_free(fw3);
}

static void
test_firewall_cert_masks_as_cidr_tree(void **state)
{
	struct env *e = *state;
	struct fw *fw = build(e, "{port: any, proto: any, host: any}", NULL);
	struct cert *c = cert_new();
	struct ip4net n;
	struct fw_peer peer;
	struct fw_packet p;

	assert_non_null(c);
	assert_int_equal(cert_set_name(c, "odd", 3), 0);
	n.addr = ip("10.9.8.7");
	n.mask = ip("255.255.0.0");
	assert_int_equal(cert_add_ip(c, &n), 0);
	/* a non-contiguous mask: Nebula's tree uses the leading ones (/8) */
	n.addr = ip("172.16.5.0");
	n.mask = ip("255.0.255.0");
	assert_int_equal(cert_add_subnet(c, &n), 0);
	assert_int_equal(fw_peer_init(&peer, fw, c, e->pool), 0);
	p = pkt(IN, TCP, 1, ip(IP_A), ip("10.9.8.7"));
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_OK);
	p.remote_ip = ip("10.9.8.8");
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_BAD_REMOTE_IP);
	p.remote_ip = ip("172.99.99.99");
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_OK);
	p.remote_ip = ip("173.16.5.1");
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_BAD_REMOTE_IP);
	fw_peer_clear(&peer);
	cert_free(c);

	/* no IPs at all: nothing is the peer's */
	c = cert_new();
	assert_non_null(c);
	assert_int_equal(fw_peer_init(&peer, fw, c, NULL), 0);
	p.remote_ip = 0;
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_BAD_REMOTE_IP);
	fw_peer_clear(&peer);
	cert_free(c);
	fw_free(fw);
}

/*
 * Property: whatever the flows and whoever sends, the firewall never
 * accepts a packet whose remote address is not the sending peer's (its
 * certificate IP or subnets), tracked flow or not; and an inbound packet
 * that no rule allows passes only as the reply to a flow that the same
 * peer's tunnel (owner) opened.  Peers get random IPs and random
 * overlapping subnets; packets claim random addresses, often another
 * peer's, on a few ports so that flows collide.  Nebula 1.6.1, which
 * looks up conntrack first, fails both.
 */
#define PP_PEERS 6
#define PP_ROUNDS 40000
#define PP_MODEL (PP_ROUNDS / 2)

struct pp_peer {
	struct cert *c;
	struct fw_peer fwp;
	struct ct_owner own;
	uint32_t ip, net, mask; /* mask 0: no subnet */
};

static uint64_t pp_rng = 0x2545f4914f6cdd1du;

static uint32_t
pp_rand(uint32_t n)
{
	pp_rng ^= pp_rng << 13;
	pp_rng ^= pp_rng >> 7;
	pp_rng ^= pp_rng << 17;
	return (uint32_t)(pp_rng % n);
}

static bool
pp_owns(const struct pp_peer *p, uint32_t a)
{
	return a == p->ip || (p->mask != 0 && (a & p->mask) == p->net);
}

static void
test_firewall_no_spoofed_source_ever(void **state)
{
	struct env *e = *state;
	/* outbound anything; inbound only TCP 22: other inbound packets
	 * pass only as replies */
	struct fw *fw = build(e, "{port: 22, proto: tcp, host: any}",
	    "{port: any, proto: any, host: any}");
	struct conntrack *ct = NULL;
	struct pp_peer pe[PP_PEERS];
	struct {
		uint32_t owner;
		struct fw_packet p;
	} *opened = calloc(PP_MODEL, sizeof(*opened));
	size_t nopened = 0, hits = 0, spoofs = 0, spoof_tries = 0, k;
	static const uint16_t ports[] = {22, 53, 80, 443};
	struct ip4net n;
	struct fw_packet p;
	enum fw_why why;
	uint32_t i, r, a;
	bool in, ok;

	assert_non_null(opened);
	assert_int_equal(conntrack_new(0, &ct), 0);
	for (i = 0; i < PP_PEERS; i++) {
		pe[i].c = cert_new();
		assert_non_null(pe[i].c);
		assert_int_equal(cert_set_name(pe[i].c, "p", 1), 0);
		pe[i].ip = ip("10.1.0.0") + i + 1;
		n.addr = pe[i].ip;
		n.mask = ip("255.255.0.0");
		assert_int_equal(cert_add_ip(pe[i].c, &n), 0);
		pe[i].mask = 0;
		if (i % 2 == 0) { /* 172.16.{0,1}.0/24: shared by three */
			pe[i].net = ip("172.16.0.0") + (pp_rand(2) << 8);
			pe[i].mask = ip("255.255.255.0");
			n.addr = pe[i].net;
			n.mask = pe[i].mask;
			assert_int_equal(cert_add_subnet(pe[i].c, &n), 0);
		}
		assert_int_equal(fw_peer_init(&pe[i].fwp, fw, pe[i].c, NULL), 0);
		conntrack_owner_init(&pe[i].own);
	}
	for (r = 0; r < PP_ROUNDS; r++) {
		i = pp_rand(PP_PEERS);
		in = pp_rand(2) == 0;
		switch (pp_rand(4)) {
		case 0:
			a = pe[i].ip;
			break;
		case 1:
			a = pe[pp_rand(PP_PEERS)].ip;
			break;
		case 2:
			a = ip("172.16.0.0") + (pp_rand(2) << 8) + 1 + pp_rand(2);
			break;
		default:
			a = ip("10.1.0.0") + pp_rand(64);
		}
		p = pkt(in, pp_rand(3) == 0 ? IPPKT_PROTO_UDP : IPPKT_PROTO_TCP,
		    ports[pp_rand(4)], ip(IP_A), a);
		p.local_port = ports[pp_rand(4)];
		p.remote_port = ports[pp_rand(4)];
		if (!pp_owns(&pe[i], a))
			spoof_tries++;
		if (fw_decide_why(fw, ct, in, &p, &pe[i].fwp, &pe[i].own,
		        (int64_t)r * 1000, &why) != FW_ACCEPT)
			continue;
		if (!pp_owns(&pe[i], a)) {
			spoofs++;
			continue;
		}
		if (!in && why == FW_WHY_RULE && nopened < PP_MODEL) {
			opened[nopened].owner = i;
			opened[nopened++].p = p;
		}
		if (in && !(p.proto == IPPKT_PROTO_TCP && p.local_port == 22)) {
			/* let in by conntrack: the same peer opened it */
			assert_int_equal(why, FW_WHY_CONNTRACK);
			for (ok = false, k = 0; k < nopened && !ok; k++)
				ok = opened[k].owner == i &&
				     memcmp(&opened[k].p, &p, sizeof(p)) == 0;
			if (!ok)
				fail_msg("round %u: peer %u rode on a flow it "
				         "did not open",
				    r, i);
			hits++;
		}
	}
	assert_int_equal(spoofs, 0);
	/* not vacuous: spoofs were tried, replies went through */
	assert_true(spoof_tries > PP_ROUNDS / 4);
	assert_true(hits > 100);
	for (i = 0; i < PP_PEERS; i++) {
		conntrack_owner_release(ct, &pe[i].own);
		assert_int_equal(pe[i].own.count, 0);
		fw_peer_clear(&pe[i].fwp);
		cert_free(pe[i].c);
	}
	assert_int_equal(conntrack_count(ct), 0);
	conntrack_free(ct);
	free(opened);
	fw_free(fw);
}

static void
test_firewall_reason_strings(void **state)
{
	(void)state;
	assert_string_equal(fw_reason_str(FW_BAD_REMOTE_IP),
	    "remote IP is not in remote certificate subnets");
	assert_string_equal(fw_reason_str(FW_BAD_LOCAL_IP),
	    "local IP is not in list of handled local IPs");
	assert_string_equal(
	    fw_reason_str(FW_NO_RULE), "no matching rule in firewall table");
	assert_string_equal(fw_reason_str(FW_OK), "");
}

/* --- peers --------------------------------------------------------------- */

static void
test_firewall_peer_refresh_after_reload(void **state)
{
	struct env *e = *state;
	struct fw *fw1 = build(e, "{port: 1, proto: tcp, group: laptop}", NULL);
	struct fw *fw2 = build(e,
	    "{port: 1, proto: tcp, groups: [a, b, c, home]}, {port: 2, proto: "
	    "tcp, group: laptop}",
	    NULL);
	struct fw_peer peer;
	struct fw_packet p1 = pkt(IN, TCP, 1, ip(IP_A), ip("192.168.100.20"));
	struct fw_packet p2 = pkt(IN, TCP, 2, ip(IP_A), ip("192.168.100.20"));

	assert_int_equal(fw_peer_init(&peer, fw1, e->host_b, e->pool), 0);
	assert_true(peer.resolved);
	assert_true(fw_match(fw1, IN, &p1, &peer));
	/* stale for fw2: still right through the slow path */
	assert_false(fw_match(fw2, IN, &p1, &peer));
	assert_true(fw_match(fw2, IN, &p2, &peer));
	assert_int_equal(fw_peer_refresh(&peer, fw2), 0);
	assert_true(peer.resolved);
	assert_false(fw_match(fw2, IN, &p1, &peer));
	assert_true(fw_match(fw2, IN, &p2, &peer));
	/* and back */
	assert_true(fw_match(fw1, IN, &p1, &peer));
	assert_int_equal(fw_peer_refresh(&peer, NULL), 0);
	assert_false(peer.resolved);
	assert_true(fw_match(fw1, IN, &p1, &peer));
	fw_peer_clear(&peer);
	fw_peer_clear(&peer); /* idempotent */
	fw_peer_clear(NULL);
	fw_free(fw1);
	fw_free(fw2);
}

/* Same version, different tables: the tag, not the version, resolves. */
static void
test_firewall_peer_tag_not_version(void **state)
{
	struct env *e = *state;
	struct fw *fw1 =
	    build(e, "{port: 1, proto: tcp, groups: [home, x]}", NULL);
	struct fw *fw2 =
	    build(e, "{port: 1, proto: tcp, groups: [x, y]}", NULL);
	struct fw_peer peer;
	struct fw_packet p = pkt(IN, TCP, 1, ip(IP_A), ip("192.168.100.20"));
	struct cert *c = cert_new();
	struct ip4net n = {ip("192.168.100.20"), 0xffffffffu};

	assert_non_null(c);
	assert_int_equal(cert_set_name(c, "hx", 2), 0);
	assert_int_equal(cert_add_group(c, "home", 4), 0);
	assert_int_equal(cert_add_group(c, "x", 1), 0);
	assert_int_equal(cert_add_ip(c, &n), 0);
	assert_int_equal(fw_version(fw1), fw_version(fw2));
	assert_int_equal(fw_peer_init(&peer, fw1, c, NULL), 0);
	assert_true(fw_match(fw1, IN, &p, &peer));
	assert_false(fw_match(fw2, IN, &p, &peer));
	fw_peer_clear(&peer);
	cert_free(c);
	fw_free(fw1);
	fw_free(fw2);
}

/* More than 64 groups: bitsets of several words, fast and slow paths. */
static void
test_firewall_many_groups(void **state)
{
	struct env *e = *state;
	char rules[16384], g[16], *y;
	struct cert *c = cert_new();
	struct ip4net n = {ip("192.168.100.20"), 0xffffffffu};
	struct fw *fw, *other;
	struct fw_peer fast, slow;
	struct fw_packet p;
	size_t off = 0, i;

	assert_non_null(c);
	assert_int_equal(cert_set_name(c, "many", 4), 0);
	assert_int_equal(cert_add_ip(c, &n), 0);
	/* rule port i needs group gi; port 1000 needs g3, g70 and g150 */
	for (i = 0; i < 200; i++)
		off += (size_t)snprintf(rules + off, sizeof(rules) - off,
		    "%s{port: %zu, proto: tcp, group: g%zu}", i ? ", " : "",
		    i + 1, i);
	snprintf(rules + off, sizeof(rules) - off,
	    ", {port: 1000, proto: tcp, groups: [g3, g70, g150]}");
	for (i = 0; i < 200; i += 2) { /* the even groups */
		snprintf(g, sizeof(g), "g%zu", i);
		assert_int_equal(cert_add_group(c, g, strlen(g)), 0);
	}
	y = yaml_rules(rules, NULL, NULL);
	fw = build_yaml(e, y, 1);
	free(y);
	other = build(e, "{port: 1, proto: tcp, group: g150}", NULL);
	assert_int_equal(fw_peer_init(&fast, fw, c, NULL), 0);
	assert_int_equal(fw_peer_init(&slow, other, c, NULL), 0);
	for (i = 0; i < 200; i++) {
		p = pkt(IN, TCP, (int)i + 1, ip(IP_A), n.addr);
		assert_int_equal(fw_match(fw, IN, &p, &fast), i % 2 == 0);
		assert_int_equal(fw_match(fw, IN, &p, &slow), i % 2 == 0);
	}
	p = pkt(IN, TCP, 1000, ip(IP_A), n.addr);
	assert_false(fw_match(fw, IN, &p, &fast)); /* no g3 */
	assert_false(fw_match(fw, IN, &p, &slow));
	assert_int_equal(cert_add_group(c, "g3", 2), 0);
	fw_peer_clear(&fast);
	fw_peer_clear(&slow);
	assert_int_equal(fw_peer_init(&fast, fw, c, NULL), 0);
	assert_int_equal(fw_peer_init(&slow, other, c, NULL), 0);
	/* g70 and g150 are even, g3 now present */
	assert_true(fw_match(fw, IN, &p, &fast));
	assert_true(fw_match(fw, IN, &p, &slow));
	fw_peer_clear(&fast);
	fw_peer_clear(&slow);
	fw_free(fw);
	fw_free(other);
	cert_free(c);
}

/* A cert name or group with a NUL byte never equals a rule string. */
static void
test_firewall_names_with_nul(void **state)
{
	struct env *e = *state;
	struct fw *fw = build(e,
	    "{port: 1, proto: tcp, host: ab}, {port: 2, proto: tcp, group: ab}",
	    NULL);
	struct cert *c = cert_new();
	struct ip4net n = {ip("192.168.100.20"), 0xffffffffu};
	struct fw_peer peer;
	struct fw_packet p1 = pkt(IN, TCP, 1, ip(IP_A), n.addr);
	struct fw_packet p2 = pkt(IN, TCP, 2, ip(IP_A), n.addr);

	assert_non_null(c);
	assert_int_equal(cert_set_name(c, "ab\0c", 4), 0);
	assert_int_equal(cert_add_group(c, "ab\0", 3), 0);
	assert_int_equal(cert_add_ip(c, &n), 0);
	assert_int_equal(fw_peer_init(&peer, fw, c, NULL), 0);
	assert_false(fw_match(fw, IN, &p1, &peer));
	assert_false(fw_match(fw, IN, &p2, &peer));
	fw_peer_clear(&peer);
	cert_free(c);
	fw_free(fw);
}

/* --- settings ---------------------------------------------------------- */

static void
test_firewall_defaults(void **state)
{
	struct env *e = *state;
	struct fw *fw = build_yaml(e, "pki: {}\n", 7);
	struct fw_peer peer;
	struct fw_packet p = pkt(IN, ICMP, 0, ip(IP_A), ip("192.168.100.20"));

	assert_int_equal(fw_version(fw), 7);
	assert_int_equal(fw_action(fw, IN), FW_ACTION_DROP);
	assert_int_equal(fw_action(fw, OUT), FW_ACTION_DROP);
	assert_int_equal(fw_timeout(fw, TCP), 12 * 60 * INT64_C(1000000000));
	assert_int_equal(fw_timeout(fw, UDP), 3 * 60 * INT64_C(1000000000));
	assert_int_equal(fw_timeout(fw, ICMP), 10 * 60 * INT64_C(1000000000));
	assert_int_equal(fw_timeout(fw, GRE), 10 * 60 * INT64_C(1000000000));
	assert_int_equal(fw_nrules(fw, IN), 0);
	assert_int_equal(fw_nwarnings(fw), 0);
	assert_int_equal(fw_peer_init(&peer, fw, e->host_b, e->pool), 0);
	assert_int_equal(fw_check(fw, IN, &p, &peer), FW_NO_RULE);
	assert_int_equal(fw_check(fw, OUT, &p, &peer), FW_NO_RULE);
	fw_peer_clear(&peer);
	fw_free(fw);
	fw_free(NULL);
}

static void
test_firewall_settings(void **state)
{
	struct env *e = *state;
	struct fw *fw;

	fw = build_yaml(e,
	    "firewall:\n"
	    "  conntrack: {tcp_timeout: 1h, udp_timeout: 90s, "
	    "default_timeout: 0}\n"
	    "  inbound_action: reject\n"
	    "  outbound_action: drop\n"
	    "  inbound: [{port: 1, proto: tcp, host: any}, {port: 2, proto: "
	    "tcp, group: [a]}]\n"
	    "  outbound: ~\n",
	    2);
	assert_int_equal(fw_timeout(fw, TCP), 3600 * INT64_C(1000000000));
	assert_int_equal(fw_timeout(fw, UDP), 90 * INT64_C(1000000000));
	assert_int_equal(fw_timeout(fw, ICMP), 0);
	assert_int_equal(fw_action(fw, IN), FW_ACTION_REJECT);
	assert_int_equal(fw_action(fw, OUT), FW_ACTION_DROP);
	assert_int_equal(fw_nrules(fw, IN), 2);
	assert_int_equal(fw_nrules(fw, OUT), 0);
	assert_int_equal(fw_nwarnings(fw), 1);
	assert_string_equal(fw_warning(fw, 0),
	    "firewall.inbound rule #1; group was an array with a single value, "
	    "converting to simple value");
	assert_null(fw_warning(fw, 1));
	fw_free(fw);
}

/* --- load-time errors ---------------------------------------------------- */

struct ecase {
	const char *yaml;
	const char *msg; /* the whole message */
	const char *key;
	int line;
};

#define R(x) "firewall:\n  inbound:\n    - " x "\n"
#define R2(x, y) "firewall:\n  inbound:\n    - " x "\n    - " y "\n"

static const struct ecase ecases[] = {
    {"firewall:\n  inbound: {a: b}\n",
        "firewall.inbound failed to parse, should be an array of rules",
        "firewall.inbound", 2},
    {"firewall:\n  outbound: 5\n",
        "firewall.outbound failed to parse, should be an array of rules",
        "firewall.outbound", 2},
    {R("5"), "firewall.inbound rule #0; could not parse rule",
        "firewall.inbound[0]", 3},
    {R("[a]"), "firewall.inbound rule #0; could not parse rule",
        "firewall.inbound[0]", 3},
    {R("{port: 1, code: 2, proto: tcp, host: any}"),
        "firewall.inbound rule #0; only one of port or code should be "
        "provided",
        "firewall.inbound[0].code", 3},
    {R("{port: 1, proto: tcp}"),
        "firewall.inbound rule #0; at least one of host, group, cidr, "
        "local_cidr, ca_name, or ca_sha must be provided",
        "firewall.inbound[0]", 3},
    {R("{port: 1, proto: tcp, host: '', groups: []}"),
        "firewall.inbound rule #0; at least one of host, group, cidr, "
        "local_cidr, ca_name, or ca_sha must be provided",
        "firewall.inbound[0]", 3},
    {R("{port: 1, proto: tcp, group: a, groups: [b]}"),
        "firewall.inbound rule #0; only one of group or groups should be "
        "defined, both provided",
        "firewall.inbound[0].groups", 3},
    {R("{port: 1, proto: tcp, group: [a, b]}"),
        "firewall.inbound rule #0; group should contain a single value, an "
        "array with more than one entry was provided",
        "firewall.inbound[0].group", 3},
    {R("{port: ssh, proto: tcp, host: any}"),
        "firewall.inbound rule #0; port was not a number; `ssh`",
        "firewall.inbound[0].port", 3},
    {R("{proto: tcp, host: any}"),
        "firewall.inbound rule #0; port was not a number; ``",
        "firewall.inbound[0]", 3},
    {R("{port: ~, proto: tcp, host: any}"),
        "firewall.inbound rule #0; port was not a number; `<nil>`",
        "firewall.inbound[0].port", 3},
    {R("{port: [80, 443], proto: tcp, host: any}"),
        "firewall.inbound rule #0; port was not a number; `[80 443]`",
        "firewall.inbound[0].port", 3},
    {R("{port: ANY, proto: tcp, host: any}"),
        "firewall.inbound rule #0; port was not a number; `ANY`",
        "firewall.inbound[0].port", 3},
    {R("{port: 1.5, proto: tcp, host: any}"),
        "firewall.inbound rule #0; port was not a number; `1.5`",
        "firewall.inbound[0].port", 3},
    {R("{port: '99999999999999999999', proto: tcp, host: any}"),
        "firewall.inbound rule #0; port was not a number; "
        "`99999999999999999999`",
        "firewall.inbound[0].port", 3},
    {R("{port: '+9223372036854775808', proto: tcp, host: any}"),
        "firewall.inbound rule #0; port was not a number; "
        "`+9223372036854775808`",
        "firewall.inbound[0].port", 3},
    {R("{port: '1--9223372036854775809', proto: tcp, host: any}"),
        "firewall.inbound rule #0; port ending range was not a number; "
        "`-9223372036854775809`",
        "firewall.inbound[0].port", 3},
    {R("{port: '1--9223372036854775808', proto: tcp, host: any}"),
        "firewall.inbound rule #0; `start port was lower than end port`",
        "firewall.inbound[0].port", 3},
    {R("{port: '+', proto: tcp, host: any}"),
        "firewall.inbound rule #0; port was not a number; `+`",
        "firewall.inbound[0].port", 3},
    {R("{code: x, proto: icmp, host: any}"),
        "firewall.inbound rule #0; code was not a number; `x`",
        "firewall.inbound[0].code", 3},
    {R("{port: -5, proto: tcp, host: any}"),
        "firewall.inbound rule #0; port appears to be a range but could not "
        "be parsed; `-5`",
        "firewall.inbound[0].port", 3},
    {R("{port: '5- ', proto: tcp, host: any}"),
        "firewall.inbound rule #0; port appears to be a range but could not "
        "be parsed; `5- `",
        "firewall.inbound[0].port", 3},
    {R("{port: 'a-5', proto: tcp, host: any}"),
        "firewall.inbound rule #0; port beginning range was not a number; "
        "`a`",
        "firewall.inbound[0].port", 3},
    {R("{port: '5 - b ', proto: tcp, host: any}"),
        "firewall.inbound rule #0; port ending range was not a number; `b`",
        "firewall.inbound[0].port", 3},
    {R("{port: 1-2-3, proto: tcp, host: any}"),
        "firewall.inbound rule #0; port ending range was not a number; "
        "`2-3`",
        "firewall.inbound[0].port", 3},
    {R("{code: 1-x, proto: icmp, host: any}"),
        "firewall.inbound rule #0; code ending range was not a number; `x`",
        "firewall.inbound[0].code", 3},
    {R("{port: 1, proto: TCP, host: any}"),
        "firewall.inbound rule #0; proto was not understood; `TCP`",
        "firewall.inbound[0].proto", 3},
    {R("{port: 1, host: any}"),
        "firewall.inbound rule #0; proto was not understood; ``",
        "firewall.inbound[0]", 3},
    {R("{port: 1, proto: tcp, cidr: 10.0.0.0/33}"),
        "firewall.inbound rule #0; cidr did not parse; invalid CIDR address: "
        "10.0.0.0/33",
        "firewall.inbound[0].cidr", 3},
    {R("{port: 1, proto: tcp, cidr: 10.0.0.1}"),
        "firewall.inbound rule #0; cidr did not parse; invalid CIDR address: "
        "10.0.0.1",
        "firewall.inbound[0].cidr", 3},
    {R("{port: 10-5, proto: tcp, host: any}"),
        "firewall.inbound rule #0; `start port was lower than end port`",
        "firewall.inbound[0].port", 3},
    {R("{port: 1--1, proto: tcp, host: any}"),
        "firewall.inbound rule #0; `start port was lower than end port`",
        "firewall.inbound[0].port", 3},
    /* order: port before proto before cidr before the range check */
    {R("{port: x, proto: yy, cidr: z, host: any}"),
        "firewall.inbound rule #0; port was not a number; `x`",
        "firewall.inbound[0].port", 3},
    {R("{port: 10-5, proto: yy, cidr: z}"),
        "firewall.inbound rule #0; proto was not understood; `yy`",
        "firewall.inbound[0].proto", 3},
    {R("{port: 10-5, proto: tcp, cidr: z}"),
        "firewall.inbound rule #0; cidr did not parse; invalid CIDR address: "
        "z",
        "firewall.inbound[0].cidr", 3},
    {R("{port: x, code: y, proto: tcp}"),
        "firewall.inbound rule #0; only one of port or code should be "
        "provided",
        "firewall.inbound[0].code", 3},
    /* local_cidr: Nebula 1.7's texts; an empty one is not given */
    {R("{port: 1, proto: tcp, local_cidr: ''}"),
        "firewall.inbound rule #0; at least one of host, group, cidr, "
        "local_cidr, ca_name, or ca_sha must be provided",
        "firewall.inbound[0]", 3},
    {R("{port: 1, proto: tcp, group: a, local_cidr: 10.0.0.0/33}"),
        "firewall.inbound rule #0; local_cidr did not parse; invalid CIDR "
        "address: 10.0.0.0/33",
        "firewall.inbound[0].local_cidr", 3},
    {R("{port: 1, proto: tcp, local_cidr: testh}"),
        "firewall.inbound rule #0; local_cidr did not parse; invalid CIDR "
        "address: testh",
        "firewall.inbound[0].local_cidr", 3},
    {R("{port: 1, proto: tcp, host: any, local_cidr: 192.168.1.1}"),
        "firewall.inbound rule #0; local_cidr did not parse; invalid CIDR "
        "address: 192.168.1.1",
        "firewall.inbound[0].local_cidr", 3},
    {R("{port: 1, proto: tcp, host: any, local_cidr: [10.0.0.0/8]}"),
        "firewall.inbound rule #0; local_cidr did not parse; invalid CIDR "
        "address: [10.0.0.0/8]",
        "firewall.inbound[0].local_cidr", 3},
    {R("{port: 1, proto: tcp, host: any, local_cidr: {a: b}}"),
        "firewall.inbound rule #0; local_cidr did not parse; invalid CIDR "
        "address: map[a:b]",
        "firewall.inbound[0].local_cidr", 3},
    {R("{port: 1, proto: tcp, host: any, local_cidr: ~}"),
        "firewall.inbound rule #0; local_cidr did not parse; invalid CIDR "
        "address: <nil>",
        "firewall.inbound[0].local_cidr", 3},
    {R("{port: 1, proto: tcp, host: any, local_cidr: any}"),
        "firewall.inbound rule #0; local_cidr did not parse; invalid CIDR "
        "address: any",
        "firewall.inbound[0].local_cidr", 3},
    {R("{port: 1, proto: tcp, host: any, local_cidr: 24}"),
        "firewall.inbound rule #0; local_cidr did not parse; invalid CIDR "
        "address: 24",
        "firewall.inbound[0].local_cidr", 3},
    {"firewall:\n  outbound:\n    - port: any\n      proto: any\n"
     "      group: routers\n      local_cidr: 300.1.2.3/8\n",
        "firewall.outbound rule #0; local_cidr did not parse; invalid CIDR "
        "address: 300.1.2.3/8",
        "firewall.outbound[0].local_cidr", 6},
    /* order: proto, cidr, local_cidr, then the range check */
    {R("{port: 1, proto: yy, local_cidr: z}"),
        "firewall.inbound rule #0; proto was not understood; `yy`",
        "firewall.inbound[0].proto", 3},
    {R("{port: 1, proto: tcp, cidr: x, local_cidr: z}"),
        "firewall.inbound rule #0; cidr did not parse; invalid CIDR address: "
        "x",
        "firewall.inbound[0].cidr", 3},
    {R("{port: 10-5, proto: tcp, local_cidr: z}"),
        "firewall.inbound rule #0; local_cidr did not parse; invalid CIDR "
        "address: z",
        "firewall.inbound[0].local_cidr", 3},
    {R("{port: 10-5, proto: tcp, local_cidr: 10.0.0.0/8}"),
        "firewall.inbound rule #0; `start port was lower than end port`",
        "firewall.inbound[0].port", 3},
    {R2("{port: 1, proto: tcp, host: any}", "{port: 1, proto: tcp}"),
        "firewall.inbound rule #1; at least one of host, group, cidr, "
        "local_cidr, ca_name, or ca_sha must be provided",
        "firewall.inbound[1]", 4},
    /* outbound is read first */
    {"firewall:\n  inbound: [{port: x}]\n  outbound:\n    - {port: y}\n",
        "firewall.outbound rule #0; at least one of host, group, cidr, "
        "local_cidr, ca_name, or ca_sha must be provided",
        "firewall.outbound[0]", 4},
    /* beyond Nebula */
    {R("{port: 1, proto: tcp, group: []}"),
        "firewall.inbound rule #0; group should contain a single value, an "
        "empty array was provided",
        "firewall.inbound[0].group", 3},
    {R("{port: 1, proto: tcp, host: [a]}"),
        "firewall.inbound rule #0; host should be a single string value, not "
        "`[a]`",
        "firewall.inbound[0].host", 3},
    {R("{port: 1, proto: tcp, host: ~}"),
        "firewall.inbound rule #0; host should be a single string value, not "
        "`<nil>`",
        "firewall.inbound[0].host", 3},
    {R("{port: 1, proto: tcp, ca_name: {a: b}}"),
        "firewall.inbound rule #0; ca_name should be a single string value, "
        "not `map[a:b]`",
        "firewall.inbound[0].ca_name", 3},
    {R("{port: 1, proto: tcp, ca_sha: [1, 2]}"),
        "firewall.inbound rule #0; ca_sha should be a single string value, "
        "not `[1 2]`",
        "firewall.inbound[0].ca_sha", 3},
    {R("{port: 1, proto: tcp, groups: [a, [b]]}"),
        "firewall.inbound rule #0; groups should be a list of strings, not "
        "`[a [b]]`",
        "firewall.inbound[0].groups", 3},
    {R("{port: 1, proto: tcp, groups: {a: 1}}"),
        "firewall.inbound rule #0; groups should be a list of strings, not "
        "`map[a:1]`",
        "firewall.inbound[0].groups", 3},
    {R("{port: 1, proto: tcp, group: [[a]]}"),
        "firewall.inbound rule #0; group should be a single string value, "
        "not `[a]`",
        "firewall.inbound[0].group", 3},
    {R("{port: 1, proto: tcp, cidr: 'fd00::/8'}"),
        "firewall.inbound rule #0; cidr did not parse; `fd00::/8` is an IPv6 "
        "CIDR, only IPv4 is supported",
        "firewall.inbound[0].cidr", 3},
    {R("{port: 1, proto: tcp, host: any, local_cidr: '::/0'}"),
        "firewall.inbound rule #0; local_cidr did not parse; `::/0` is an "
        "IPv6 CIDR, only IPv4 is supported",
        "firewall.inbound[0].local_cidr", 3},
    {"firewall:\n  inbound_action: deny\n",
        "firewall.inbound_action must be `drop` or `reject`, not `deny`",
        "firewall.inbound_action", 2},
    {"firewall:\n  outbound_action: REJECT\n",
        "firewall.outbound_action must be `drop` or `reject`, not `REJECT`",
        "firewall.outbound_action", 2},
    {"firewall:\n  conntrack:\n    udp_timeout: -1s\n",
        "a timeout must not be negative", "firewall.conntrack.udp_timeout", 3},
};

static void
test_firewall_load_errors(void **state)
{
	struct env *e = *state;
	struct config_err err;
	char full[1024];
	size_t i;
	int r;

	for (i = 0; i < NELEM(ecases); i++) {
		r = build_err(e, ecases[i].yaml, &err);
		if (r == 0 || strcmp(err.msg, ecases[i].msg) != 0 ||
		    strcmp(err.key, ecases[i].key) != 0 ||
		    err.line != ecases[i].line ||
		    strcmp(err.file, "fw.yml") != 0)
			fail_msg("case %zu:\n%s\ngot %d %s:%d %s: %s\nwant "
			         "%d %s: %s",
			    i, ecases[i].yaml, r, err.file, err.line, err.key,
			    err.msg, ecases[i].line, ecases[i].key,
			    ecases[i].msg);
		assert_true(r == VPN_ERR_INVAL || r == VPN_ERR_RANGE);
	}
	/* the daemon's one-line form has the position and the reason */
	r = build_err(e, R("{port: 1, proto: udp, cidr: bad}"), &err);
	config_err_format(&err, full, sizeof(full));
	assert_string_equal(full,
	    "fw.yml:3: firewall.inbound[0].cidr: firewall.inbound rule #0; "
	    "cidr did not parse; invalid CIDR address: bad");
	r = build_err(e,
	    R2("{port: 1, proto: udp, host: any}",
	        "{port: 1, proto: udp, local_cidr: 10.1.2.0/24x}"),
	    &err);
	assert_int_equal(r, VPN_ERR_INVAL);
	config_err_format(&err, full, sizeof(full));
	assert_string_equal(full,
	    "fw.yml:4: firewall.inbound[1].local_cidr: firewall.inbound rule "
	    "#1; local_cidr did not parse; invalid CIDR address: 10.1.2.0/24x");
}

static void
test_firewall_config_type_errors(void **state)
{
	struct env *e = *state;
	struct config_err err;

	/* firewall itself not a map (Nebula: silently no rules) */
	assert_int_equal(build_err(e, "firewall: 5\n", &err), VPN_ERR_INVAL);
	assert_string_equal(err.key, "firewall");
	assert_int_equal(err.line, 1);
	/* a duration that does not parse (Nebula: silently the default) */
	assert_int_not_equal(
	    build_err(e, "firewall: {conntrack: {tcp_timeout: 5}}\n", &err), 0);
	assert_string_equal(err.key, "firewall.conntrack.tcp_timeout");
	/* a missing own cert */
	{
		struct config *cfg = load_yaml("firewall: {}\n");
		struct fw *fw = NULL;

		assert_int_equal(
		    fw_build(cfg, NULL, 1, &fw, &err), VPN_ERR_INVAL);
		assert_null(fw);
		config_free(cfg);
	}
}

/* Forms that load: whatever YAML spelling gives the right %v text. */
static void
test_firewall_accepted_forms_ok(void **state)
{
	struct env *e = *state;
	struct fw *fw;
	struct fw_peer peer;
	struct fw_packet p;

	/* hex YAML ints are their %v text; unknown keys are ignored;
	 * an empty code (or cidr, or local_cidr) is "not given" */
	fw = build(e,
	    "{port: 0x16, proto: tcp, host: any}, {port: 53, code: '', proto: "
	    "udp, host: any, ignored_key: 1, dst_cidr: 1.2.3.4/32}, {port: "
	    "fragment, proto: any, host: any, group: '', cidr: '', local_cidr: "
	    "''}",
	    NULL);
	assert_int_equal(fw_peer_init(&peer, fw, e->host_b, e->pool), 0);
	p = pkt(IN, TCP, 22, ip(IP_A), ip("192.168.100.20"));
	assert_true(fw_match(fw, IN, &p, &peer));
	p = pkt(IN, UDP, 53, ip(IP_A), ip("192.168.100.20"));
	assert_true(fw_match(fw, IN, &p, &peer));
	p = pkt(IN, UDP, FRAG, ip(IP_A), ip("192.168.100.20"));
	assert_true(fw_match(fw, IN, &p, &peer));
	fw_peer_clear(&peer);
	fw_free(fw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_firewall_match_table),
	    cmocka_unit_test(test_firewall_matches_naive_reading),
	    cmocka_unit_test(test_firewall_remote_ip_one_ip_no_subnet),
	    cmocka_unit_test(test_firewall_remote_ip_in_subnets),
	    cmocka_unit_test(test_firewall_local_ip_is_ours),
	    cmocka_unit_test(test_firewall_local_cidr_loads),
	    cmocka_unit_test(test_firewall_local_cidr_packet_direction),
	    cmocka_unit_test(test_firewall_local_cidr_conntrack),
	    cmocka_unit_test(test_firewall_cert_masks_as_cidr_tree),
	    cmocka_unit_test(test_firewall_reason_strings),
	    cmocka_unit_test(test_firewall_peer_refresh_after_reload),
	    cmocka_unit_test(test_firewall_peer_tag_not_version),
	    cmocka_unit_test(test_firewall_many_groups),
	    cmocka_unit_test(test_firewall_names_with_nul),
	    cmocka_unit_test(test_firewall_defaults),
	    cmocka_unit_test(test_firewall_no_spoofed_source_ever),
	    cmocka_unit_test(test_firewall_settings),
	    cmocka_unit_test(test_firewall_load_errors),
	    cmocka_unit_test(test_firewall_config_type_errors),
	    cmocka_unit_test(test_firewall_accepted_forms_ok),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
