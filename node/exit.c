/*
 * node/exit.c: the exit node's rules, forwarding and masquerading
 * (exit.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "exit.h"
#include "ipaddr.h"
#include "log.h"
#include "node.h"
#include "tun.h"

#define FORWARD "/proc/sys/net/ipv4/ip_forward"
#define RT_MAIN 254

extern char **environ;

struct exitnode {
	bool rules;	      /* client: the two rules are ours to remove */
	uint32_t prio, table, mark;
	bool forward_set;     /* server: we turned forwarding on */
	char nft_table[64];   /* server: our nftables table, or "" */
};

/* The two rules of a client, added or removed; 0 or VPN_ERR_SYS. */
static int
rules(bool add, uint32_t prio, uint32_t table, uint32_t mark, char *err,
    size_t errlen)
{
	int r;

	r = tun_rule(add, prio, RT_MAIN, 0, false, 0, err, errlen);
	if (r == 0)
		r = tun_rule(add, prio + 1, table, mark, true, -1, err, errlen);
	return r;
}

/* Run nft(8) with script on its standard input; 0 when it exits 0.
 * quiet: its complaints go nowhere (deleting what may not exist). */
static int
nft(const char *script, bool quiet)
{
	static const char *const paths[] = {"/usr/sbin/nft", "/sbin/nft",
	    "/usr/bin/nft"};
	static char a0[] = "nft", a1[] = "-f", a2[] = "-";
	char *argv[] = {a0, a1, a2, NULL};
	posix_spawn_file_actions_t fa;
	size_t i, len = strlen(script);
	int p[2], st, r = -1, null = -1;
	pid_t pid = -1;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], X_OK) == 0)
			break;
	if (i == sizeof(paths) / sizeof(paths[0])) {
		log_warnx("exit: nft(8) not found (Debian package nftables)");
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	if (quiet && (null = open("/dev/null", O_WRONLY | O_CLOEXEC)) >= 0) {
		posix_spawn_file_actions_adddup2(&fa, null, 1);
		posix_spawn_file_actions_adddup2(&fa, null, 2);
	}
	if (posix_spawn(&pid, paths[i], &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	if (null >= 0)
		close(null);
	if (pid > 0 && write(p[1], script, len) == (ssize_t)len)
		r = 0;
	close(p[1]);
	if (pid <= 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return r == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* The forwarding switch: its value now ('0' or '1'), or -1. */
static int
forward_get(void)
{
	char c;
	int fd = open(FORWARD, O_RDONLY | O_CLOEXEC), r = -1;

	if (fd >= 0 && read(fd, &c, 1) == 1)
		r = c;
	if (fd >= 0)
		close(fd);
	return r;
}

static int
forward_set(char v)
{
	int fd = open(FORWARD, O_WRONLY | O_CLOEXEC), r = -1;

	if (fd >= 0 && write(fd, &v, 1) == 1)
		r = 0;
	if (fd >= 0)
		close(fd);
	return r;
}

/* The server side: forwarding on, and the masquerade. */
static int
serve(struct exitnode *x, const struct node_cfg *cfg, const char *dev)
{
	char script[512], net[IP4NET_STRLEN];
	struct ip4net n = {cfg->vpn_ip & cfg->vpn_mask, cfg->vpn_mask};
	size_t i;

	if (forward_get() == '0') {
		if (forward_set('1') != 0) {
			log_msg(LOG_LVL_ERROR, "exit.serve: cannot turn IPv4 "
			                       "forwarding on (%s)",
			    FORWARD);
			return VPN_ERR_SYS;
		}
		x->forward_set = true;
	}
	if (!cfg->exit_masquerade)
		return 0;
	/* a table per device: two nodes on a machine do not collide */
	snprintf(x->nft_table, sizeof(x->nft_table), "cairn_exit_%s", dev);
	for (i = 0; x->nft_table[i] != '\0'; i++)
		if (!((x->nft_table[i] >= 'a' && x->nft_table[i] <= 'z') ||
		        (x->nft_table[i] >= 'A' && x->nft_table[i] <= 'Z') ||
		        (x->nft_table[i] >= '0' && x->nft_table[i] <= '9')))
			x->nft_table[i] = '_';
	ip4net_format(&n, net);
	/* made and emptied first, so that a table left by a crash is
	 * replaced, in one transaction */
	snprintf(script, sizeof(script),
	    "table ip %s\n"
	    "flush table ip %s\n"
	    "table ip %s {\n"
	    "  chain postrouting {\n"
	    "    type nat hook postrouting priority srcnat; policy accept;\n"
	    "    ip saddr %s oifname != \"%s\" masquerade\n"
	    "  }\n"
	    "}\n",
	    x->nft_table, x->nft_table, x->nft_table, net, dev);
	if (nft(script, false) != 0) {
		log_msg(LOG_LVL_ERROR, "exit.masquerade: nft(8) refused the "
		                       "masquerade table");
		x->nft_table[0] = '\0';
		return VPN_ERR_SYS;
	}
	log_info("Exit node: forwarding, masquerading %s out of every "
	         "interface but %s (nftables table ip %s)",
	    net, dev, x->nft_table);
	return 0;
}

int
exitnode_start(const struct node_cfg *cfg, const char *dev,
    struct exitnode **out)
{
	struct exitnode *x = calloc(1, sizeof(*x));
	char err[256], via[IP4_STRLEN];

	*out = x;
	if (x == NULL)
		return VPN_ERR_NOMEM;
	if (cfg->exit_serve && dev != NULL && serve(x, cfg, dev) != 0)
		return VPN_ERR_SYS;
	if (cfg->exit_via == 0 || dev == NULL)
		return 0;
	x->prio = cfg->exit_priority;
	x->table = cfg->exit_table;
	x->mark = cfg->exit_fwmark;
	/* rules left by a node that did not stop cleanly go first */
	(void)rules(false, x->prio, x->table, x->mark, err, sizeof(err));
	if (rules(true, x->prio, x->table, x->mark, err, sizeof(err)) != 0) {
		log_msg(LOG_LVL_ERROR, "exit.via: %s", err);
		x->rules = true; /* the first may be there */
		return VPN_ERR_SYS;
	}
	x->rules = true;
	ip4_format(cfg->exit_via, via);
	log_info("Exit: %zu route%s via %s in table %u; rules %u (main "
	         "without its default route) and %u (all but fwmark %u)",
	    cfg->nexit_routes, cfg->nexit_routes == 1 ? "" : "s", via, x->table,
	    x->prio, x->prio + 1, x->mark);
	return 0;
}

void
exitnode_free(struct exitnode *x)
{
	char err[256], script[256];

	if (x == NULL)
		return;
	if (x->rules &&
	    rules(false, x->prio, x->table, x->mark, err, sizeof(err)) != 0)
		log_warnx("exit: %s", err);
	if (x->nft_table[0] != '\0') {
		snprintf(script, sizeof(script), "delete table ip %s\n",
		    x->nft_table);
		if (nft(script, true) != 0)
			log_warnx("exit: could not delete nftables table ip %s",
			    x->nft_table);
	}
	if (x->forward_set && forward_set('0') != 0)
		log_warnx("exit: could not turn IPv4 forwarding back off");
	free(x);
}
