/*
 * test/fuzz/fuzz_nodecfg.c: the whole node configuration, node_cfg_load
 * and the lighthouse's node_cfg_load_lighthouse, on the input as the
 * YAML file (fuzz_config covers lib/config alone).
 *
 * The configuration names files and hosts; the fuzzer answers for them
 * (linked with --wrap, see the Makefile): a file is served from the
 * fixtures by its base name (ca.crt, host-a.key, host_ed25519, ...), so
 * that pki.ca: /etc/nebula/ca.crt works, and any other path does not
 * exist; a few host names resolve to documentation addresses and no name
 * is looked up for real.  The YAML file itself is a memfd: nothing is
 * written to disk.
 *
 * Oracles: an error says why and gives no configuration; a configuration
 * that loads has our certificate and key, our VPN address from it, a
 * firewall, each static host and lighthouse findable; loading is
 * deterministic (a second load gives the same verdict, message and
 * sshd settings).  With FUZZ_NODECFG_VERBOSE set, each verdict is printed
 * (to see how far a seed gets).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "log.h"
#include "node.h"

#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int __wrap_fileio_read(const char *path, size_t max, char **data, size_t *len,
    char *errbuf, size_t errlen);
int __wrap_getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res);
void __wrap_freeaddrinfo(struct addrinfo *ai);

#define NOW 1893456000 /* 2030-01-01, in the fixtures' validity */

/* The files a configuration may name, by base name. */
static struct {
	const char *name, *fixture;
	char *data;
	size_t len;
} files[] = {
    {"ca.crt", "nebula-1.6.1/ca.crt", NULL, 0},
    {"ca2.crt", "nebula-1.6.1/ca2.crt", NULL, 0},
    {"ca-bundle.crt", "nebula-1.6.1/ca-bundle.crt", NULL, 0},
    {"ca-bundle-with-expired.crt", "nebula-1.6.1/ca-bundle-with-expired.crt",
        NULL, 0},
    {"ca-expired.crt", "nebula-1.6.1/ca-expired.crt", NULL, 0},
    {"host-a.crt", "nebula-1.6.1/host-a.crt", NULL, 0},
    {"host-a.key", "nebula-1.6.1/host-a.key", NULL, 0},
    {"host-b.crt", "nebula-1.6.1/host-b.crt", NULL, 0},
    {"host-b.key", "nebula-1.6.1/host-b.key", NULL, 0},
    {"lighthouse.crt", "nebula-1.6.1/lighthouse.crt", NULL, 0},
    {"lighthouse.key", "nebula-1.6.1/lighthouse.key", NULL, 0},
    {"other-host.crt", "nebula-1.6.1/other-host.crt", NULL, 0},
    {"other-host.key", "nebula-1.6.1/other-host.key", NULL, 0},
    {"expired.crt", "nebula-1.6.1/expired.crt", NULL, 0},
    {"expired.key", "nebula-1.6.1/expired.key", NULL, 0},
    {"host_ed25519", "sshd/host_ed25519", NULL, 0},
    {"host_encrypted", "sshd/host_encrypted", NULL, 0},
    {"host_rsa.pem", "sshd/host_rsa.pem", NULL, 0},
};
#define NFILES (sizeof(files) / sizeof(files[0]))

int
__wrap_fileio_read(const char *path, size_t max, char **data, size_t *len,
    char *errbuf, size_t errlen)
{
	const char *base = strrchr(path, '/');
	size_t i;

	base = base != NULL ? base + 1 : path;
	for (i = 0; i < NFILES; i++) {
		if (strcmp(base, files[i].name) != 0)
			continue;
		if (files[i].len >= max) {
			snprintf(
			    errbuf, errlen, "read %s: file is too large", path);
			return -1;
		}
		if ((*data = malloc(files[i].len + 1)) == NULL)
			abort();
		memcpy(*data, files[i].data, files[i].len + 1);
		*len = files[i].len;
		return 0;
	}
	fileio_oserr(errbuf, errlen, "open", path, ENOENT);
	return -1;
}

/* A resolver that knows three names. */
static const struct {
	const char *name;
	int family;
	uint8_t addr[16];
} hosts[] = {
    {"localhost", AF_INET, {127, 0, 0, 1}},
    {"localhost", AF_INET6, {[15] = 1}},
    {"lighthouse.example.com", AF_INET, {192, 0, 2, 1}},
    {"lighthouse.example.com", AF_INET6, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}},
    {"v6.example.com", AF_INET6, {0x20, 0x01, 0x0d, 0xb8, [15] = 6}},
};

int
__wrap_getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo *head = NULL, **tail = &head, *ai;
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	int fam = hints != NULL ? hints->ai_family : AF_UNSPEC;
	size_t i;

	(void)service;
	*res = NULL;
	if (node == NULL)
		return EAI_NONAME;
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		if (strcmp(node, hosts[i].name) != 0 ||
		    (fam != AF_UNSPEC && fam != hosts[i].family))
			continue;
		/* the address in the same block, freed with it */
		if ((ai = calloc(1, sizeof(*ai) + sizeof(*sin6))) == NULL)
			abort();
		ai->ai_family = hosts[i].family;
		ai->ai_socktype = hints != NULL ? hints->ai_socktype : 0;
		ai->ai_addr = (struct sockaddr *)(ai + 1);
		if (hosts[i].family == AF_INET) {
			sin = (struct sockaddr_in *)(ai + 1);
			sin->sin_family = AF_INET;
			memcpy(&sin->sin_addr, hosts[i].addr, 4);
			ai->ai_addrlen = sizeof(*sin);
		} else {
			sin6 = (struct sockaddr_in6 *)(ai + 1);
			sin6->sin6_family = AF_INET6;
			memcpy(&sin6->sin6_addr, hosts[i].addr, 16);
			ai->ai_addrlen = sizeof(*sin6);
		}
		*tail = ai;
		tail = &ai->ai_next;
	}
	if (head == NULL)
		return EAI_NONAME;
	*res = head;
	return 0;
}

void
__wrap_freeaddrinfo(struct addrinfo *ai)
{
	struct addrinfo *next;

	for (; ai != NULL; ai = next) {
		next = ai->ai_next;
		free(ai);
	}
}

static int yml = -1;
static char yml_path[64];
static bool verbose;

static void
setup(void)
{
	static FILE *devnull;
	size_t i;

	for (i = 0; i < NFILES; i++)
		files[i].data = fx_read(files[i].fixture, &files[i].len);
	if ((yml = memfd_create("fuzz.yml", MFD_CLOEXEC)) == -1)
		abort();
	snprintf(yml_path, sizeof(yml_path), "/proc/self/fd/%d", yml);
	/* every log line is formatted, then dropped */
	if ((devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	log_setup(devnull, LOG_LVL_DEBUG, LOG_FMT_TEXT);
	verbose = getenv("FUZZ_NODECFG_VERBOSE") != NULL;
}

static void
check(const struct node_cfg *c)
{
	size_t i;

	if (c->raw == NULL || c->ca == NULL || c->cert == NULL ||
	    c->fw == NULL || c->cert->nips == 0 ||
	    c->vpn_ip != c->cert->ips[0].addr ||
	    c->vpn_mask != c->cert->ips[0].mask ||
	    memcmp(c->pub, c->cert->pubkey, 32) != 0 || c->cert_nokey == NULL ||
	    c->cert_nokey_len == 0 || strlen(c->name) >= sizeof(c->name) ||
	    c->nlighthouses > LH_MAX_HOSTS || c->nrelays > RELAYS_MAX)
		abort();
	for (i = 0; i < c->nstatics; i++)
		if (node_cfg_static(c, c->statics[i].vpn_ip) == NULL)
			abort();
	for (i = 0; i < c->nlighthouses; i++)
		if (!node_cfg_is_lighthouse(c, c->lighthouses[i]))
			abort();
	for (i = 0; i < c->nadvertise; i++)
		(void)node_cfg_preferred(c, &c->advertise[i]);
	if (c->sshd.enabled && c->sshd.nkeys > SSHD_MAX_KEYS)
		abort();
}

static void
load(bool lighthouse)
{
	struct node_cfg *c = NULL, *c2 = NULL;
	char err[1024], err2[1024];
	int r, r2;

	err[0] = err2[0] = '\0';
	r = lighthouse
	        ? node_cfg_load_lighthouse(yml_path, NOW, &c, err, sizeof(err))
	        : node_cfg_load(yml_path, NOW, &c, err, sizeof(err));
	if (r != 0) {
		if (r > 0 || c != NULL || err[0] == '\0')
			abort();
	} else {
		if (c == NULL || (lighthouse && !c->am_lighthouse))
			abort();
		check(c);
	}
	if (verbose)
		fprintf(stderr, "%s: %s\n", lighthouse ? "lighthouse" : "node",
		    r == 0 ? "loads" : err);
	r2 = node_cfg_load_v(
	    yml_path, NOW, 7, lighthouse, &c2, err2, sizeof(err2));
	if (r2 != r || (r != 0 && strcmp(err, err2) != 0) ||
	    (r == 0 && !sshd_cfg_same(&c->sshd, &c2->sshd)))
		abort();
	node_cfg_free(c);
	node_cfg_free(c2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (yml == -1)
		setup();
	if (size > 65536)
		return 0;
	if (ftruncate(yml, 0) != 0 ||
	    (size > 0 && pwrite(yml, data, size, 0) != (ssize_t)size))
		abort();
	load(false);
	load(true);
	return 0;
}
