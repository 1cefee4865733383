/*
 * node/privs.h: running unprivileged (not in Nebula; the `process:`
 * section, cairn.yml(5)).  Once the TUN device, its routes and the
 * sockets are set up, node_run makes the daemon process.user (and
 * process.group) with CAP_NET_ADMIN as its only capability, for what
 * still needs it at run time: routes and rules by netlink on SIGHUP,
 * the device MTU, the exit's forwarding switch and its nft(8) child at
 * stop.  The in-process tests call node_start and never come here.
 *
 * Users and groups are looked up in /etc/passwd and /etc/group only:
 * the daemons are static, and glibc's NSS modules (systemd, LDAP) cannot
 * be loaded into a static program.
 *
 * Owns nothing; calls nothing in node/.
 */
#ifndef NODE_PRIVS_H
#define NODE_PRIVS_H

#include <stddef.h>
#include <stdint.h>

struct node_cfg;

/* A user of /etc/passwd by name: 0 with its uid and primary gid;
 * VPN_ERR_INVAL: no such user; VPN_ERR_SYS: the file cannot be read
 * (errno). */
int privs_user(const char *name, uint32_t *uid, uint32_t *gid);
/* A group of /etc/group by name, the same way. */
int privs_group(const char *name, uint32_t *gid);

/*
 * Become cfg->run_uid and run_gid for good (cfg->run_user not empty):
 * the supplementary groups are the user's in /etc/group with
 * run_gid, or only the group when process.group names one; every
 * capability but CAP_NET_ADMIN is dropped from all sets, the bounding
 * set too where the kernel lets us, CAP_NET_ADMIN stays effective,
 * permitted, inheritable and ambient (for nft), and no_new_privs is
 * set.  A lighthouse with lighthouse.serve_dns also keeps
 * CAP_NET_BIND_SERVICE, effective and permitted only, so that its DNS
 * socket can be bound to port 53 again.  0 with "Dropped privileges"
 * logged, or -1 after logging why (the caller exits 1).
 */
int privs_drop(const struct node_cfg *cfg);

#endif
