/* lib/udp.c: batched UDP I/O on one dual-stack socket. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "udp.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#define CTL_LEN CMSG_SPACE(sizeof(int))

struct udp {
	int fd;
	int family; /* AF_INET6, or AF_INET where IPv6 is disabled */
	uint16_t port;
	bool gso, gro;
	/* receive side: rx_n buffers of rx_size bytes */
	int rx_n;
	size_t rx_size;
	struct mmsghdr rx_msgs[UDP_BATCH];
	struct iovec rx_iov[UDP_BATCH];
	struct sockaddr_in6 rx_addrs[UDP_BATCH];
	union {
		struct cmsghdr align;
		uint8_t b[CTL_LEN];
	} rx_ctl[UDP_BATCH];
	/* send side: tx_n queued slots, sent as up to tx_n messages */
	struct mmsghdr tx_msgs[UDP_BATCH];
	struct iovec tx_iov[UDP_BATCH];
	struct sockaddr_in6 tx_addrs[UDP_BATCH];
	socklen_t tx_alen[UDP_BATCH];
	union {
		struct cmsghdr align;
		uint8_t b[CTL_LEN];
	} tx_ctl[UDP_BATCH];
	size_t tx_n;
	struct udp_stats stats;
	uint8_t *rx_bufs;
	uint8_t *tx_bufs; /* UDP_BATCH * UDP_MAX_PACKET */
};

static const uint8_t V4MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void
udp_addr_from_v4(struct udp_addr *a, uint32_t ip, uint16_t port)
{
	memcpy(a->ip, V4MAPPED, 12);
	a->ip[12] = (uint8_t)(ip >> 24);
	a->ip[13] = (uint8_t)(ip >> 16);
	a->ip[14] = (uint8_t)(ip >> 8);
	a->ip[15] = (uint8_t)ip;
	a->port = port;
}

bool
udp_addr_is_v4(const struct udp_addr *a)
{
	return memcmp(a->ip, V4MAPPED, 12) == 0;
}

uint32_t
udp_addr_v4(const struct udp_addr *a)
{
	return (uint32_t)a->ip[12] << 24 | (uint32_t)a->ip[13] << 16 |
	    (uint32_t)a->ip[14] << 8 | a->ip[15];
}

bool
udp_addr_eq(const struct udp_addr *a, const struct udp_addr *b)
{
	return a->port == b->port && memcmp(a->ip, b->ip, 16) == 0;
}

void
udp_addr_format(const struct udp_addr *a, char buf[UDP_ADDR_STRLEN])
{
	char ip[INET6_ADDRSTRLEN];

	if (udp_addr_is_v4(a)) {
		inet_ntop(AF_INET, a->ip + 12, ip, sizeof(ip));
		snprintf(buf, UDP_ADDR_STRLEN, "%s:%u", ip, a->port);
	} else {
		inet_ntop(AF_INET6, a->ip, ip, sizeof(ip));
		snprintf(buf, UDP_ADDR_STRLEN, "[%s]:%u", ip, a->port);
	}
}

static int
parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return VPN_ERR_INVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 65535)
		return VPN_ERR_INVAL;
	*port = (uint16_t)v;
	return 0;
}

int
udp_addr_parse(const char *s, struct udp_addr *a)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	size_t hl;
	uint8_t v4[4];

	if (*s == '[') {
		colon = strstr(s, "]:");
		if (colon == NULL || (hl = (size_t)(colon - s - 1)) >=
		                         sizeof(host))
			return VPN_ERR_INVAL;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET6, host, a->ip) != 1)
			return VPN_ERR_INVAL;
		return parse_port(colon + 2, &a->port);
	}
	colon = strrchr(s, ':');
	if (colon == NULL || (hl = (size_t)(colon - s)) >= sizeof(host))
		return VPN_ERR_INVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, v4) != 1)
		return VPN_ERR_INVAL;
	memcpy(a->ip, V4MAPPED, 12);
	memcpy(a->ip + 12, v4, 4);
	return parse_port(colon + 1, &a->port);
}

/* sa has room for a sockaddr_in6; an AF_INET socket gets a sockaddr_in.
 * Returns the length. */
static socklen_t
to_sockaddr(int family, const struct udp_addr *a, struct sockaddr_in6 *sa)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)sa;

	memset(sa, 0, sizeof(*sa));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a->ip + 12, 4);
		sin->sin_port = htons(a->port);
		return sizeof(*sin);
	}
	sa->sin6_family = AF_INET6;
	memcpy(&sa->sin6_addr, a->ip, 16);
	sa->sin6_port = htons(a->port);
	return sizeof(*sa);
}

static void
from_sockaddr(const struct sockaddr_in6 *sa, struct udp_addr *a)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)(
	    const void *)sa;

	if (sa->sin6_family == AF_INET) {
		udp_addr_from_v4(a, ntohl(sin->sin_addr.s_addr),
		    ntohs(sin->sin_port));
		return;
	}
	memcpy(a->ip, &sa->sin6_addr, 16);
	a->port = ntohs(sa->sin6_port);
}

static int
fail(char *errbuf, size_t errlen, const char *what, const char *host,
    uint16_t port)
{
	int e = errno;

	snprintf(errbuf, errlen, "%s %s:%u: %s", what, host, port,
	    strerror(e));
	errno = e;
	return VPN_ERR_SYS;
}

int
udp_open(const char *host, uint16_t port, int rcvbuf, int sndbuf,
    bool offload, struct udp **out, char *errbuf, size_t errlen)
{
	struct sockaddr_in6 sa;
	struct udp_addr a;
	socklen_t sl = sizeof(sa);
	struct udp *u;
	int off = 0, one = 1, r;
	size_t i;
	uint8_t v4[4];

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, host, v4) == 1) {
		memcpy(a.ip, V4MAPPED, 12);
		memcpy(a.ip + 12, v4, 4);
	} else if (inet_pton(AF_INET6, host, a.ip) != 1) {
		snprintf(errbuf, errlen, "listen.host %s is not an IP address",
		    host);
		return VPN_ERR_INVAL;
	}
	a.port = port;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return VPN_ERR_NOMEM;
	u->fd = -1;
	/* Blocking for sends (backpressure instead of drops); reads use
	 * MSG_DONTWAIT. */
	u->family = AF_INET6;
	u->fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (u->fd == -1 && errno == EAFNOSUPPORT && udp_addr_is_v4(&a)) {
		u->family = AF_INET; /* IPv6 disabled in this kernel */
		u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	}
	if (u->fd == -1) {
		r = fail(errbuf, errlen, "socket for", host, port);
		goto out;
	}
	if (u->family == AF_INET6)
		setsockopt(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (rcvbuf > 0 &&
	    setsockopt(u->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	        sizeof(rcvbuf)) == -1 &&
	    setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	        sizeof(rcvbuf)) == -1) {
		r = fail(errbuf, errlen, "set receive buffer of", host, port);
		goto out;
	}
	if (sndbuf > 0 &&
	    setsockopt(u->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
	        sizeof(sndbuf)) == -1 &&
	    setsockopt(u->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
	        sizeof(sndbuf)) == -1) {
		r = fail(errbuf, errlen, "set send buffer of", host, port);
		goto out;
	}
	sl = to_sockaddr(u->family, &a, &sa);
	if (bind(u->fd, (struct sockaddr *)&sa, sl) == -1) {
		r = fail(errbuf, errlen, "bind", host, port);
		goto out;
	}
	sl = sizeof(sa);
	if (getsockname(u->fd, (struct sockaddr *)&sa, &sl) == -1) {
		r = fail(errbuf, errlen, "getsockname", host, port);
		goto out;
	}
	from_sockaddr(&sa, &a);
	u->port = a.port;
	/* Segmented sends are tried on the first run that has several
	 * datagrams; GRO is known now. */
	u->gso = offload;
	u->gro = offload && setsockopt(u->fd, SOL_UDP, UDP_GRO, &one,
	                        sizeof(one)) == 0;
	u->rx_n = u->gro ? UDP_GRO_BATCH : UDP_BATCH;
	u->rx_size = u->gro ? UDP_GRO_BUF : UDP_MAX_PACKET;
	if ((u->rx_bufs = malloc((size_t)u->rx_n * u->rx_size)) == NULL ||
	    (u->tx_bufs = malloc(UDP_BATCH * UDP_MAX_PACKET)) == NULL) {
		r = VPN_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < (size_t)u->rx_n; i++) {
		u->rx_iov[i].iov_base = u->rx_bufs + i * u->rx_size;
		u->rx_iov[i].iov_len = u->rx_size;
		u->rx_msgs[i].msg_hdr.msg_iov = &u->rx_iov[i];
		u->rx_msgs[i].msg_hdr.msg_iovlen = 1;
		u->rx_msgs[i].msg_hdr.msg_name = &u->rx_addrs[i];
	}
	for (i = 0; i < UDP_BATCH; i++)
		u->tx_iov[i].iov_base = u->tx_bufs + i * UDP_MAX_PACKET;
	*out = u;
	return 0;
out:
	udp_close(u);
	return r;
}

void
udp_close(struct udp *u)
{
	if (u == NULL)
		return;
	if (u->fd >= 0)
		close(u->fd);
	free(u->rx_bufs);
	free(u->tx_bufs);
	free(u);
}

int
udp_fd(const struct udp *u)
{
	return u->fd;
}

uint16_t
udp_port(const struct udp *u)
{
	return u->port;
}

const struct udp_stats *
udp_stats(const struct udp *u)
{
	return &u->stats;
}

int
udp_rx_batch(const struct udp *u)
{
	return u->rx_n;
}

bool
udp_gso(const struct udp *u)
{
	return u->gso;
}

bool
udp_gro(const struct udp *u)
{
	return u->gro;
}

/* The segment size of a GRO message; 0 when it holds one datagram. */
static size_t
gro_size(struct msghdr *m)
{
	struct cmsghdr *c;
	int v;

	for (c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			return v > 0 ? (size_t)v : 0;
		}
	return 0;
}

int
udp_recv_batch(struct udp *u, udp_rx_fn fn, void *arg)
{
	struct udp_addr from;
	struct msghdr *m;
	uint8_t *buf;
	size_t len, seg, off;
	int n, i;

	for (i = 0; i < u->rx_n; i++) { /* value-result: reset */
		m = &u->rx_msgs[i].msg_hdr;
		m->msg_namelen = sizeof(u->rx_addrs[i]);
		if (u->gro) {
			m->msg_control = u->rx_ctl[i].b;
			m->msg_controllen = sizeof(u->rx_ctl[i].b);
		}
	}
	n = recvmmsg(u->fd, u->rx_msgs, (unsigned)u->rx_n, MSG_DONTWAIT, NULL);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		u->stats.rx_errors++;
		return VPN_ERR_SYS;
	}
	u->stats.rx_msgs += (uint64_t)n;
	for (i = 0; i < n; i++) {
		m = &u->rx_msgs[i].msg_hdr;
		if (m->msg_flags & MSG_TRUNC) {
			u->stats.rx_truncated++;
			continue;
		}
		from_sockaddr(&u->rx_addrs[i], &from);
		buf = u->rx_bufs + (size_t)i * u->rx_size;
		len = u->rx_msgs[i].msg_len;
		seg = u->gro ? gro_size(m) : 0;
		if (seg == 0 || seg >= len)
			seg = len;
		/* One datagram, or a GRO message cut back into its datagrams.
		 * None longer than the protocol's largest packet reaches the
		 * handler: IP fragments reassemble to up to 65,507 bytes, and
		 * what the protocol echoes must fit a send slot.  An empty
		 * datagram goes to the handler too, once, to be counted. */
		off = 0;
		do {
			size_t dl = len - off < seg ? len - off : seg;

			off += dl;
			if (dl > UDP_MAX_PACKET) {
				u->stats.rx_oversize++;
				continue;
			}
			u->stats.rx_packets++;
			u->stats.rx_bytes += dl;
			fn(arg, &from, buf + off - dl, dl);
		} while (off < len);
	}
	return n;
}

uint8_t *
udp_tx_slot(struct udp *u)
{
	if (u->tx_n == UDP_BATCH)
		udp_flush(u);
	return u->tx_bufs + u->tx_n * UDP_MAX_PACKET;
}

void
udp_tx_commit(struct udp *u, const struct udp_addr *to, size_t len)
{
	if (len > UDP_MAX_PACKET) { /* the caller wrote past its slot */
		u->stats.tx_errors++;
		return;
	}
	if (u->family == AF_INET && !udp_addr_is_v4(to)) {
		u->stats.tx_errors++; /* no IPv6 here */
		return;
	}
	u->tx_alen[u->tx_n] = to_sockaddr(u->family, to, &u->tx_addrs[u->tx_n]);
	u->tx_iov[u->tx_n].iov_len = len;
	u->tx_n++;
}

/*
 * Slots [i, j) as one message: with GSO, the run of datagrams to the
 * same address and of the same length as the first (the last may be
 * shorter), within the kernel's limits; j - i otherwise 1.
 */
static size_t
tx_run(struct udp *u, size_t i, struct mmsghdr *mm)
{
	struct msghdr *m = &mm->msg_hdr;
	size_t j = i + 1, seg = u->tx_iov[i].iov_len, total = seg;
	struct cmsghdr *c;
	uint16_t v = (uint16_t)seg;

	if (u->gso)
		while (j < u->tx_n && j - i < UDP_GSO_SEGS &&
		    u->tx_iov[j - 1].iov_len == seg &&
		    u->tx_iov[j].iov_len <= seg &&
		    total + u->tx_iov[j].iov_len <= UDP_GSO_BYTES &&
		    u->tx_alen[j] == u->tx_alen[i] &&
		    memcmp(&u->tx_addrs[j], &u->tx_addrs[i], u->tx_alen[i]) == 0)
			total += u->tx_iov[j++].iov_len;
	memset(m, 0, sizeof(*m));
	m->msg_name = &u->tx_addrs[i];
	m->msg_namelen = u->tx_alen[i];
	m->msg_iov = &u->tx_iov[i];
	m->msg_iovlen = j - i;
	if (j - i > 1) {
		m->msg_control = u->tx_ctl[i].b;
		m->msg_controllen = CMSG_SPACE(sizeof(v));
		c = CMSG_FIRSTHDR(m);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(v));
		memcpy(CMSG_DATA(c), &v, sizeof(v));
	}
	return j - i;
}

/* Messages for the queued slots from slot i on; how many. */
static size_t
tx_plan(struct udp *u, size_t i, size_t *first, size_t *cnt)
{
	size_t nm = 0;

	for (; i < u->tx_n; i += cnt[nm++]) {
		first[nm] = i;
		cnt[nm] = tx_run(u, i, &u->tx_msgs[nm]);
	}
	return nm;
}

int
udp_flush(struct udp *u)
{
	size_t first[UDP_BATCH], cnt[UDP_BATCH], nm, done = 0, k;
	int n;

	nm = tx_plan(u, 0, first, cnt);
	while (done < nm) {
		n = sendmmsg(u->fd, u->tx_msgs + done, (unsigned)(nm - done), 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (cnt[done] > 1 && (errno == EIO || errno == EINVAL ||
			                         errno == ENOPROTOOPT ||
			                         errno == EOPNOTSUPP)) {
				/* The kernel (or the route's device) will not
				 * segment: datagram by datagram from now on. */
				u->gso = false;
				nm = tx_plan(u, first[done], first, cnt);
				done = 0;
				continue;
			}
			/* EAGAIN (buffer full) or a per-destination error:
			 * drop this message, as UDP would, and go on. */
			u->stats.tx_errors += cnt[done];
			done++;
			continue;
		}
		for (k = 0; k < (size_t)n; k++) {
			u->stats.tx_packets += cnt[done + k];
			u->stats.tx_bytes += u->tx_msgs[done + k].msg_len;
		}
		u->stats.tx_msgs += (uint64_t)n;
		done += (size_t)n;
	}
	u->tx_n = 0;
	return 0;
}
