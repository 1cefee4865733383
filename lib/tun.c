/* lib/tun.c: Linux TUN device setup with ioctl(2); its routes and rules
 * by rtnetlink (libnl's message API). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fib_rules.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "err.h"
#include "ipaddr.h"
#include "tun.h"

struct tun {
	int fd;
	bool vnet;
	char name[IFNAMSIZ];
};

static void
sin_set(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(addr);
	memcpy(sa, &sin, sizeof(sin));
}

static int
fail(char *errbuf, size_t errlen, const char *what, const char *name)
{
	int e = errno;

	snprintf(errbuf, errlen, "%s %s: %s", what, name, strerror(e));
	errno = e;
	return VPN_ERR_SYS;
}

/*
 * Offload: checksums, TSO for IPv4 (with ECN).  A kernel that refuses
 * (no IFF_VNET_HDR, or no TUNSETOFFLOAD) leaves a plain device.
 */
static void
offload_on(struct tun *t, struct ifreq *ifr)
{
	int sz = VNET_HDR_LEN;

	ifr->ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(t->fd, TUNSETIFF, ifr) == -1)
		return;
	t->vnet = true;
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &sz) == -1 ||
	    ioctl(t->fd, TUNSETOFFLOAD,
	        (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN)) == -1)
		ioctl(t->fd, TUNSETOFFLOAD, 0UL); /* the header stays */
}

int
tun_open(const char *name, int mtu, int txqlen, uint32_t addr, uint32_t mask,
    bool offload, struct tun **out, char *errbuf, size_t errlen)
{
	struct ifreq ifr;
	struct tun *t;
	int s = -1, r;

	if (strlen(name) >= IFNAMSIZ) {
		snprintf(errbuf, errlen, "tun.dev %s: name longer than %d",
		    name, IFNAMSIZ - 1);
		return VPN_ERR_INVAL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return VPN_ERR_NOMEM;
	t->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (t->fd == -1) {
		r = fail(errbuf, errlen, "open", "/dev/net/tun");
		goto out;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (offload)
		offload_on(t, &ifr);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (!t->vnet && ioctl(t->fd, TUNSETIFF, &ifr) == -1) {
		r = fail(errbuf, errlen, "create tun device", name);
		goto out;
	}
	snprintf(t->name, sizeof(t->name), "%s", ifr.ifr_name);
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		r = fail(errbuf, errlen, "socket for", t->name);
		goto out;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->name);
	sin_set(&ifr.ifr_addr, addr);
	if (ioctl(s, SIOCSIFADDR, &ifr) == -1) {
		r = fail(errbuf, errlen, "set address of", t->name);
		goto out;
	}
	sin_set(&ifr.ifr_netmask, mask);
	if (ioctl(s, SIOCSIFNETMASK, &ifr) == -1) {
		r = fail(errbuf, errlen, "set netmask of", t->name);
		goto out;
	}
	ifr.ifr_mtu = mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) == -1) {
		r = fail(errbuf, errlen, "set mtu of", t->name);
		goto out;
	}
	ifr.ifr_qlen = txqlen;
	if (ioctl(s, SIOCSIFTXQLEN, &ifr) == -1) {
		r = fail(errbuf, errlen, "set tx queue length of", t->name);
		goto out;
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1) {
		r = fail(errbuf, errlen, "get flags of", t->name);
		goto out;
	}
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) == -1) {
		r = fail(errbuf, errlen, "bring up", t->name);
		goto out;
	}
	close(s);
	*out = t;
	return 0;
out:
	if (s != -1)
		close(s);
	tun_close(t);
	return r;
}

/*
 * Send one rtnetlink request m (freed here) and wait for its answer: 0,
 * or the libnl error.  Through libnl's message API only: its route and
 * rule objects would link libnl-route, whose constructors cost every
 * daemon memory at rest, and lack the rule flags we need anyway.
 */
static int
nl_request(struct nl_msg *m)
{
	struct nl_sock *sk = nl_socket_alloc();
	int e;

	if (sk == NULL) {
		nlmsg_free(m);
		return -NLE_NOMEM;
	}
	if ((e = nl_connect(sk, NETLINK_ROUTE)) >= 0)
		e = nl_send_sync(sk, m); /* frees m, also on failure */
	else
		nlmsg_free(m);
	nl_socket_free(sk);
	return e;
}

/*
 * Add (replacing an equal one) or delete a route through the device:
 * by rtnetlink, since the route ioctl cannot set a route's MTU (its
 * RTF_MTU sets the advertised MSS).  table 0: main.  src: the preferred
 * source address, or 0; kernel: mark it as the kernel's own (the overlay
 * network's route, replaced with an MTU).
 */
static int
route_nl(struct tun *t, bool add, uint32_t dst, uint32_t mask, int mtu,
    int metric, uint32_t table, uint32_t src, bool kernel, char *errbuf,
    size_t errlen)
{
	unsigned int ifx = if_nametoindex(t->name);
	struct rtmsg rtm;
	struct nlattr *mx;
	struct nl_msg *m;
	uint32_t a;
	int e, bits;

	if (ifx == 0)
		return fail(errbuf, errlen, "find device", t->name);
	if ((bits = ip4_mask_bits(mask)) < 0) {
		snprintf(errbuf, errlen,
		    "route via %s: not a prefix mask: %08x", t->name, mask);
		return VPN_ERR_INVAL;
	}
	memset(&rtm, 0, sizeof(rtm));
	rtm.rtm_family = AF_INET;
	rtm.rtm_dst_len = (unsigned char)bits;
	rtm.rtm_table = table != 0 && table < 256 ? (unsigned char)table
	                : table == 0              ? RT_TABLE_MAIN
	                                          : RT_TABLE_UNSPEC;
	rtm.rtm_protocol = kernel ? RTPROT_KERNEL : RTPROT_BOOT;
	rtm.rtm_scope = RT_SCOPE_LINK;
	rtm.rtm_type = RTN_UNICAST;
	m = nlmsg_alloc_simple(add ? RTM_NEWROUTE : RTM_DELROUTE,
	    add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	if (m == NULL)
		return VPN_ERR_NOMEM;
	a = htonl(dst & mask);
	if (nlmsg_append(m, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(m, RTA_DST, 4, &a) < 0 ||
	    nla_put_u32(m, RTA_OIF, ifx) < 0 ||
	    nla_put_u32(m, RTA_PRIORITY, (uint32_t)metric) < 0 ||
	    nla_put_u32(m, RTA_TABLE, table != 0 ? table : RT_TABLE_MAIN) < 0)
		goto nomem;
	if (src != 0) {
		a = htonl(src);
		if (nla_put(m, RTA_PREFSRC, 4, &a) < 0)
			goto nomem;
	}
	if (add && mtu > 0) {
		if ((mx = nla_nest_start(m, RTA_METRICS)) == NULL ||
		    nla_put_u32(m, RTAX_MTU, (uint32_t)mtu) < 0)
			goto nomem;
		nla_nest_end(m, mx);
	}
	e = nl_request(m);
	if (e < 0 && !(!add && e == -NLE_OBJ_NOTFOUND)) {
		snprintf(errbuf, errlen, "%s route via %s: %s",
		    add ? "add" : "delete", t->name, nl_geterror(e));
		return VPN_ERR_SYS;
	}
	return 0;
nomem:
	nlmsg_free(m);
	return VPN_ERR_NOMEM;
}

int
tun_add_route(struct tun *t, uint32_t dst, uint32_t mask, int mtu, int metric,
    char *errbuf, size_t errlen)
{
	return route_nl(
	    t, true, dst, mask, mtu, metric, 0, 0, false, errbuf, errlen);
}

int
tun_del_route(struct tun *t, uint32_t dst, uint32_t mask, int metric,
    char *errbuf, size_t errlen)
{
	return route_nl(
	    t, false, dst, mask, 0, metric, 0, 0, false, errbuf, errlen);
}

int
tun_route_table(struct tun *t, bool add, uint32_t table, uint32_t dst,
    uint32_t mask, int mtu, int metric, char *errbuf, size_t errlen)
{
	return route_nl(
	    t, add, dst, mask, mtu, metric, table, 0, false, errbuf, errlen);
}

int
tun_set_net_mtu(struct tun *t, uint32_t addr, uint32_t mask, int mtu,
    char *errbuf, size_t errlen)
{
	return route_nl(
	    t, true, addr, mask, mtu, 0, 0, addr, true, errbuf, errlen);
}

/*
 * One IPv4 policy routing rule, made with libnl's message API (its rule
 * object has no invert flag nor suppress_prefixlength): priority prio,
 * action "lookup table"; with mark != 0 it matches that firewall mark
 * (the opposite with invert); suppress >= 0 refuses routes with a prefix
 * that short or shorter.
 */
int
tun_rule(bool add, uint32_t prio, uint32_t table, uint32_t mark, bool invert,
    int suppress, char *errbuf, size_t errlen)
{
	struct fib_rule_hdr frh;
	struct nl_msg *m;
	int e;

	m = nlmsg_alloc_simple(add ? RTM_NEWRULE : RTM_DELRULE,
	    add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	if (m == NULL)
		return VPN_ERR_NOMEM;
	memset(&frh, 0, sizeof(frh));
	frh.family = AF_INET;
	frh.action = FR_ACT_TO_TBL;
	frh.table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	frh.flags = invert ? FIB_RULE_INVERT : 0;
	if (nlmsg_append(m, &frh, sizeof(frh), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(m, FRA_PRIORITY, prio) < 0 ||
	    nla_put_u32(m, FRA_TABLE, table) < 0 ||
	    (mark != 0 && (nla_put_u32(m, FRA_FWMARK, mark) < 0 ||
	                      nla_put_u32(m, FRA_FWMASK, 0xffffffffu) < 0)) ||
	    (suppress >= 0 && nla_put_u32(m, FRA_SUPPRESS_PREFIXLEN,
	                          (uint32_t)suppress) < 0)) {
		nlmsg_free(m);
		return VPN_ERR_NOMEM;
	}
	e = nl_request(m);
	if (e < 0 && !(add && e == -NLE_EXIST) &&
	    !(!add && e == -NLE_OBJ_NOTFOUND)) {
		snprintf(errbuf, errlen, "%s rule %u: %s",
		    add ? "add" : "delete", prio, nl_geterror(e));
		return VPN_ERR_SYS;
	}
	return 0;
}

/* One SIOCSIF* ioctl on the device with an int value (the MTU, the queue
 * length: they share the ifreq union's first int). */
static int
set_int(struct tun *t, unsigned long req, int v, const char *what,
    char *errbuf, size_t errlen)
{
	struct ifreq ifr;
	int s, r = 0;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return fail(errbuf, errlen, "socket for", t->name);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->name);
	if (req == SIOCSIFMTU)
		ifr.ifr_mtu = v;
	else
		ifr.ifr_qlen = v;
	if (ioctl(s, req, &ifr) == -1)
		r = fail(errbuf, errlen, what, t->name);
	close(s);
	return r;
}

int
tun_set_mtu(struct tun *t, int mtu, char *errbuf, size_t errlen)
{
	return set_int(t, SIOCSIFMTU, mtu, "set mtu of", errbuf, errlen);
}

int
tun_set_txqlen(struct tun *t, int txqlen, char *errbuf, size_t errlen)
{
	return set_int(t, SIOCSIFTXQLEN, txqlen, "set tx queue length of",
	    errbuf, errlen);
}

int
tun_from_fd(int fd, const char *name, struct tun **out)
{
	struct tun *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (t == NULL)
		return VPN_ERR_NOMEM;
	t->fd = fd;
	t->vnet = false;
	snprintf(t->name, sizeof(t->name), "%s", name);
	*out = t;
	return 0;
}

int
tun_fd(const struct tun *t)
{
	return t->fd;
}

bool
tun_offload(const struct tun *t)
{
	return t->vnet;
}

ssize_t
tun_read(struct tun *t, uint8_t *buf, size_t cap, struct vnet_hdr *h)
{
	uint8_t hb[VNET_HDR_LEN];
	struct iovec iov[2] = {{hb, sizeof(hb)}, {buf, cap}};
	ssize_t r;

	if (!t->vnet) {
		memset(h, 0, sizeof(*h));
		r = read(t->fd, buf, cap);
	} else if ((r = readv(t->fd, iov, 2)) >= VNET_HDR_LEN) {
		vnet_hdr_get(hb, h);
		r -= VNET_HDR_LEN;
	} else if (r >= 0) {
		errno = EPROTO; /* shorter than its header */
		r = -1;
	}
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return r;
}

ssize_t
tun_write(struct tun *t, const uint8_t *pkt, size_t len)
{
	static const uint8_t zero[VNET_HDR_LEN];
	struct iovec iov[2] = {
	    {(void *)zero, sizeof(zero)}, {(void *)pkt, len}};

	if (!t->vnet)
		return write(t->fd, pkt, len);
	return writev(t->fd, iov, 2);
}

ssize_t
tun_writev(struct tun *t, const struct iovec *iov, int iovcnt)
{
	return writev(t->fd, iov, iovcnt);
}

const char *
tun_name(const struct tun *t)
{
	return t->name;
}

void
tun_close(struct tun *t)
{
	if (t == NULL)
		return;
	if (t->fd != -1)
		close(t->fd);
	free(t);
}
