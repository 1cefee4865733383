/* lib/tun.c: Linux TUN device setup with ioctl(2). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
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
	        (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN)) ==
	        -1)
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

int
tun_add_route(struct tun *t, uint32_t dst, uint32_t mask, int mtu, int metric,
    char *errbuf, size_t errlen)
{
	struct rtentry rt;
	int s, r = 0;

	memset(&rt, 0, sizeof(rt));
	sin_set(&rt.rt_dst, dst & mask);
	sin_set(&rt.rt_genmask, mask);
	sin_set(&rt.rt_gateway, 0);
	rt.rt_flags = RTF_UP;
	rt.rt_dev = t->name;
	rt.rt_metric = (short)(metric + 1); /* the ioctl stores metric - 1 */
	if (mtu > 0) {
		rt.rt_flags |= RTF_MTU;
		rt.rt_mtu = (unsigned long)mtu;
	}
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return fail(errbuf, errlen, "socket for route via", t->name);
	if (ioctl(s, SIOCADDRT, &rt) == -1 && errno != EEXIST)
		r = fail(errbuf, errlen, "add route via", t->name);
	close(s);
	return r;
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
	struct iovec iov[2] = {{(void *)zero, sizeof(zero)},
	    {(void *)pkt, len}};

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
