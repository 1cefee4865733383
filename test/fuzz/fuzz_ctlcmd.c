/*
 * test/fuzz/fuzz_ctlcmd.c: the control socket's commands (node/ctlcmd.c,
 * ctl_run), which also serve the sshd console: fuzz_ctlproto covers the
 * framing, this the arguments.  Two nodes run in the process on a
 * simulated network (test/unit/simnet.c), host-a and its lighthouse of
 * the fixtures, with a tunnel between them; the first byte of the input
 * picks the node, the rest, split at NUL bytes (empty pieces dropped, as
 * the protocol has no empty argument), is the command.  The event loop
 * turns once after each command.
 *
 * Oracles: the status is one of the protocol's; an answer under -json
 * that succeeds is one JSON value (and a newline).  The nodes' tables
 * change from input to input (close-tunnel, reload, log-level, ...),
 * which is what an operator does too.  With FUZZ_CTLCMD_VERBOSE set,
 * each answer is printed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "crypto.h"
#include "ctl.h"
#include "ctlproto.h"
#include "io.h"
#include "log.h"
#include "nodeint.h"
#include "sbuf.h"
#include "simnet.h"
#include "tun.h"
#include "udp.h"

#include "fixture.h"
#include "jsoncheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	const char *name, *ip, *extra;
	uint8_t underlay[4];
	struct node n;
	int cfg_fd, tun_fd;
	char path[64];
	bool up;
} peers[2] = {
    {"host-a", "192.168.100.10",
        "static_host_map: {\"192.168.100.1\": [\"192.0.2.1:4242\"]}\n"
        "lighthouse: {am_lighthouse: false, interval: 1, "
        "hosts: [\"192.168.100.1\"]}\n"
        "relay: {relays: [\"192.168.100.1\"], use_relays: true}\n",
        {192, 0, 2, 10}, {0}, -1, -1, "", false},
    {"lighthouse", "192.168.100.1",
        "lighthouse: {am_lighthouse: true, serve_dns: false}\n"
        "relay: {am_relay: true}\n",
        {192, 0, 2, 1}, {0}, -1, -1, "", false},
};
static struct event_base *base;
static struct simnet *net;

static void
teardown(void)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		if (peers[i].up)
			node_stop(&peers[i].n);
		if (peers[i].tun_fd != -1)
			close(peers[i].tun_fd);
		if (peers[i].cfg_fd != -1)
			close(peers[i].cfg_fd);
	}
	ctl_cleanup();
	if (net != NULL)
		simnet_free(net);
	if (base != NULL)
		event_base_free(base);
}

static void
pump(int64_t ms)
{
	int64_t until = node_mono_ns() + ms * 1000000;

	while (node_mono_ns() < until) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(500);
	}
}

static void
start(size_t i, FILE *logf)
{
	char root[PATH_MAX], *yml = NULL, err[1024];
	struct node_cfg *cfg = NULL;
	struct udp_addr ua;
	struct io_udp *udp;
	struct io_tun *iot;
	struct tun *tun;
	size_t len;
	int sv[2];
	FILE *f;

	fx_root(root, sizeof(root));
	if ((f = open_memstream(&yml, &len)) == NULL)
		abort();
	fprintf(f,
	    "pki:\n"
	    "  ca: %s/test/fixtures/nebula-1.6.1/ca.crt\n"
	    "  cert: %s/test/fixtures/nebula-1.6.1/%s.crt\n"
	    "  key: %s/test/fixtures/nebula-1.6.1/%s.key\n"
	    "listen: {host: 0.0.0.0, port: 4242}\n"
	    "tun: {dev: fuzz%zu}\n"
	    "handshakes: {try_interval: 20ms}\n"
	    "logging: {level: error}\n"
	    "control: {enabled: false}\n"
	    "firewall:\n"
	    "  outbound: [{port: any, proto: any, host: any}]\n"
	    "  inbound: [{port: any, proto: any, host: any}]\n"
	    "%s",
	    root, root, peers[i].name, root, peers[i].name, i, peers[i].extra);
	if (fclose(f) != 0)
		abort();
	if ((peers[i].cfg_fd = memfd_create("fuzz.yml", MFD_CLOEXEC)) == -1 ||
	    write(peers[i].cfg_fd, yml, len) != (ssize_t)len)
		abort();
	free(yml);
	snprintf(peers[i].path, sizeof(peers[i].path), "/proc/self/fd/%d",
	    peers[i].cfg_fd);
	if (node_cfg_load(peers[i].path, node_real_ns() / 1000000000, &cfg, err,
	        sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", peers[i].name, err);
		abort();
	}
	log_setup(logf, LOG_LVL_ERROR, LOG_FMT_TEXT);
	udp_addr_from_v4(&ua,
	    (uint32_t)peers[i].underlay[0] << 24 |
	        (uint32_t)peers[i].underlay[1] << 16 |
	        (uint32_t)peers[i].underlay[2] << 8 | peers[i].underlay[3],
	    4242);
	if ((udp = simnet_open(net, &ua)) == NULL ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	        sv) != 0 ||
	    tun_from_fd(sv[0], peers[i].name, &tun) != 0 ||
	    io_tun_kernel(tun, &iot) != 0)
		abort();
	peers[i].tun_fd = sv[1];
	if (node_start(&peers[i].n, cfg, peers[i].path, base, udp, iot) != 0)
		abort();
	peers[i].up = true;
}

static void
setup(void)
{
	static FILE *devnull;

	/* OpenSSL's exit handler first, so that it runs after ours (the
	 * nodes say goodbye to each other, encrypted) */
	if (crypto_init() != 0 || (devnull = fopen("/dev/null", "w")) == NULL ||
	    (base = event_base_new()) == NULL || (net = simnet_new()) == NULL)
		abort();
	atexit(teardown);
	start(1, devnull);
	start(0, devnull);
	pump(300); /* host-a registers with its lighthouse: a tunnel */
}

/* Whether the flags ask for -json, and neither -raw (PEM) nor -h
 * (ctlcmd.c's parse_flags: flags first, "--" ends them, -address takes a
 * value). */
static bool
wants_json(int argc, char **argv)
{
	bool json = false, raw = false;
	const char *a;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		a = argv[i] + 1 + (argv[i][1] == '-');
		if (*a == '\0')
			break;
		if (strcmp(a, "h") == 0 || strcmp(a, "help") == 0)
			return false;
		if (strcmp(a, "json") == 0 || strcmp(a, "json=true") == 0 ||
		    strcmp(a, "json=1") == 0)
			json = true;
		else if (strcmp(a, "json=false") == 0 ||
		         strcmp(a, "json=0") == 0)
			json = false;
		else if (strcmp(a, "raw") == 0 || strcmp(a, "raw=true") == 0 ||
		         strcmp(a, "raw=1") == 0)
			raw = true;
		else if (strcmp(a, "raw=false") == 0 || strcmp(a, "raw=0") == 0)
			raw = false;
		else if (strcmp(a, "address") == 0)
			i++;
	}
	return json && !raw;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[CTL_MAX_ARGS * (CTL_MAX_ARG + 1)];
	char *argv[CTL_MAX_ARGS + 1];
	struct node *n;
	struct sbuf out;
	enum ctl_status st;
	size_t off = 1, len, w = 0;
	int argc = 0;

	if (base == NULL)
		setup();
	if (size < 2)
		return 0;
	n = &peers[data[0] & 1].n;
	while (off < size && argc < CTL_MAX_ARGS) {
		len = strnlen((const char *)data + off, size - off);
		if (len > 0) {
			if (len > CTL_MAX_ARG)
				len = CTL_MAX_ARG;
			memcpy(buf + w, data + off, len);
			buf[w + len] = '\0';
			argv[argc++] = buf + w;
			w += len + 1;
		}
		off += strnlen((const char *)data + off, size - off) + 1;
	}
	argv[argc] = NULL;
	if (argc == 0)
		return 0;

	sbuf_init(&out);
	st = ctl_run(n, argc, argv, &out);
	if (getenv("FUZZ_CTLCMD_VERBOSE") != NULL)
		fprintf(stderr, "%s: status %d\n%.*s", argv[0], (int)st,
		    (int)out.len, out.s != NULL ? out.s : "");
	if (st != CTL_OK && st != CTL_FAIL && st != CTL_USAGE &&
	    st != CTL_BADREQ)
		abort();
	if (!sbuf_ok(&out) || out.len > CTL_MAX_BODY)
		abort();
	if (st == CTL_OK && wants_json(argc, argv) &&
	    !is_json(out.s != NULL ? out.s : "", out.len)) {
		fprintf(stderr, "not JSON: %.*s\n", (int)out.len, out.s);
		abort();
	}
	sbuf_free(&out);
	event_base_loop(base, EVLOOP_NONBLOCK);
	return 0;
}
