/*
 * node/privs.c: running unprivileged (privs.h).  The capability sets
 * are set by capset(2) directly: one capability to keep does not need
 * libcap.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "node.h"
#include "privs.h"

#define PASSWD_FILE "/etc/passwd"
#define GROUP_FILE "/etc/group"
#define KEEP CAP_NET_ADMIN /* the capability kept, in every set */
#define KEEP_NAME "cap_net_admin"
#define BIT(c) ((uint64_t)1 << (c))

int
privs_user(const char *name, uint32_t *uid, uint32_t *gid)
{
	struct passwd *pw;
	FILE *f;
	int r = VPN_ERR_INVAL;

	if ((f = fopen(PASSWD_FILE, "re")) == NULL)
		return VPN_ERR_SYS;
	while ((pw = fgetpwent(f)) != NULL)
		if (strcmp(pw->pw_name, name) == 0) {
			*uid = pw->pw_uid;
			*gid = pw->pw_gid;
			r = 0;
			break;
		}
	fclose(f);
	return r;
}

int
privs_group(const char *name, uint32_t *gid)
{
	struct group *gr;
	FILE *f;
	int r = VPN_ERR_INVAL;

	if ((f = fopen(GROUP_FILE, "re")) == NULL)
		return VPN_ERR_SYS;
	while ((gr = fgetgrent(f)) != NULL)
		if (strcmp(gr->gr_name, name) == 0) {
			*gid = gr->gr_gid;
			r = 0;
			break;
		}
	fclose(f);
	return r;
}

static bool
member(const struct group *gr, const char *user)
{
	char **m;

	for (m = gr->gr_mem; m != NULL && *m != NULL; m++)
		if (strcmp(*m, user) == 0)
			return true;
	return false;
}

/*
 * The groups to become a member of: gid first, then (unless only is
 * set) every group of /etc/group that lists user; gid's name in gname
 * (its number when /etc/group has none).  0, or VPN_ERR_SYS /
 * VPN_ERR_NOMEM; *out is the caller's.
 */
static int
groups_of(const char *user, gid_t gid, bool only, gid_t **out, size_t *n,
    char *gname, size_t glen)
{
	struct group *gr;
	gid_t *g, *t;
	size_t cap = 16, i;
	FILE *f;

	*out = NULL;
	*n = 0;
	snprintf(gname, glen, "%u", (unsigned)gid);
	if ((g = malloc(cap * sizeof(*g))) == NULL)
		return VPN_ERR_NOMEM;
	g[(*n)++] = gid;
	if ((f = fopen(GROUP_FILE, "re")) == NULL) {
		free(g);
		return VPN_ERR_SYS;
	}
	while ((gr = fgetgrent(f)) != NULL) {
		if (gr->gr_gid == gid)
			snprintf(gname, glen, "%s", gr->gr_name);
		if (only || !member(gr, user))
			continue;
		for (i = 0; i < *n && g[i] != gr->gr_gid; i++)
			;
		if (i < *n)
			continue;
		if (*n == cap) {
			if ((t = realloc(g, 2 * cap * sizeof(*g))) == NULL) {
				fclose(f);
				free(g);
				return VPN_ERR_NOMEM;
			}
			g = t;
			cap *= 2;
		}
		g[(*n)++] = gr->gr_gid;
	}
	fclose(f);
	*out = g;
	return 0;
}

static int __attribute__((format(printf, 1, 2)))
failed(const char *fmt, ...)
{
	char what[256];
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	log_msg(LOG_LVL_FATAL, "Failed to drop privileges: %s: %s", what,
	    strerror(e));
	return -1;
}

/* Everything but KEEP out of the bounding set, so that no later exec
 * can gain it (the running process keeps its permitted set); without
 * CAP_SETPCAP (a container) the set stays. */
static int
narrow_bounding(void)
{
	int cap, r;

	for (cap = 0; cap < 64; cap++) {
		if (cap == KEEP)
			continue;
		if ((r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0)) < 0)
			break; /* past the kernel's last capability */
		if (r == 0 || prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno != EPERM)
			return failed("prctl(PR_CAPBSET_DROP, %d)", cap);
		log_warnx("Capability bounding set left as it is: no "
		          "CAP_SETPCAP (no_new_privs still applies)");
		break;
	}
	return 0;
}

/* ep the effective and permitted sets, KEEP alone inheritable. */
static int
set_caps(uint64_t ep)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	size_t i;

	memset(d, 0, sizeof(d));
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		d[i].effective = d[i].permitted = (uint32_t)(ep >> (32 * i));
		d[i].inheritable = (uint32_t)(BIT(KEEP) >> (32 * i));
	}
	if (syscall(SYS_capset, &h, d) != 0)
		return failed("capset");
	return 0;
}

/* What we asked for is what we have, and root cannot come back. */
static int
verify(uid_t uid, gid_t gid, uint64_t ep)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	size_t i;

	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
	    syscall(SYS_capget, &h, d) != 0)
		return failed("reading back the credentials");
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		if (d[i].effective != (uint32_t)(ep >> (32 * i)) ||
		    d[i].permitted != (uint32_t)(ep >> (32 * i)) ||
		    d[i].inheritable != (uint32_t)(BIT(KEEP) >> (32 * i))) {
			errno = EPERM;
			return failed("other capabilities are still held");
		}
	}
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid) {
		errno = EPERM;
		return failed("the user or group did not change");
	}
	if (setresuid(0, 0, 0) == 0 || setresgid(0, 0, 0) == 0) {
		errno = EPERM;
		return failed("root could be regained");
	}
	return 0;
}

int
privs_drop(const struct node_cfg *cfg)
{
	uid_t uid = (uid_t)cfg->run_uid;
	gid_t gid = (gid_t)cfg->run_gid, *groups = NULL;
	/* a lighthouse's DNS responder may have to bind port 53 again */
	bool dns = cfg->am_lighthouse && cfg->serve_dns;
	uint64_t ep = BIT(KEEP) | (dns ? BIT(CAP_NET_BIND_SERVICE) : 0);
	char gname[64];
	struct log_ev ev;
	size_t ngroups;
	int r = -1;

	if (geteuid() != 0) {
		log_msg(LOG_LVL_FATAL,
		    "Failed to drop privileges: process.user %s needs the "
		    "daemon started as root (it runs as uid %u)",
		    cfg->run_user, (unsigned)geteuid());
		return -1;
	}
	if ((r = groups_of(cfg->run_user, gid, *cfg->run_group != '\0', &groups,
	         &ngroups, gname, sizeof(gname))) != 0) {
		if (r == VPN_ERR_SYS)
			return failed("%s", GROUP_FILE);
		log_msg(LOG_LVL_FATAL, "Failed to drop privileges: %s",
		    vpn_strerror(r));
		return -1;
	}
	r = -1;
	/* the permitted set survives the change of user; the bounding set
	 * is narrowed while we still hold CAP_SETPCAP */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
		failed("prctl(PR_SET_KEEPCAPS)");
		goto out;
	}
	if (narrow_bounding() != 0)
		goto out;
	if (setgroups(ngroups, groups) != 0) {
		failed("setgroups(%zu groups)", ngroups);
		goto out;
	}
	if (setresgid(gid, gid, gid) != 0) {
		failed("setresgid(%u)", (unsigned)gid);
		goto out;
	}
	if (setresuid(uid, uid, uid) != 0) {
		failed("setresuid(%u)", (unsigned)uid);
		goto out;
	}
	if (set_caps(ep) != 0)
		goto out;
	/* ambient: nft(8), which the exit node runs at stop, inherits it */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, KEEP, 0, 0) != 0) {
		failed("prctl(PR_CAP_AMBIENT_RAISE, " KEEP_NAME ")");
		goto out;
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
		failed("prctl(PR_SET_KEEPCAPS, 0)");
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		failed("prctl(PR_SET_NO_NEW_PRIVS)");
		goto out;
	}
	if (verify(uid, gid, ep) != 0)
		goto out;
	if (log_ev_begin(&ev, LOG_LVL_INFO, "Dropped privileges")) {
		log_ev_str(&ev, "user", cfg->run_user);
		log_ev_str(&ev, "group", gname);
		log_ev_str(&ev, "capabilities",
		    dns ? KEEP_NAME ",cap_net_bind_service" : KEEP_NAME);
		log_ev_end(&ev);
	}
	r = 0;
out:
	free(groups);
	return r;
}
