/* lib/udp.c: batched UDP I/O on one dual-stack socket. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "udp.h"

struct udp {
	int fd;
	int family; /* AF_INET6, or AF_INET where IPv6 is disabled */
	uint16_t port;
	/* receive side */
	struct mmsghdr rx_msgs[UDP_BATCH];
	struct iovec rx_iov[UDP_BATCH];
	struct sockaddr_in6 rx_addrs[UDP_BATCH];
	/* send side: n queued slots */
	struct mmsghdr tx_msgs[UDP_BATCH];
	struct iovec tx_iov[UDP_BATCH];
	struct sockaddr_in6 tx_addrs[UDP_BATCH];
	size_t tx_n;
	struct udp_stats stats;
	uint8_t *rx_bufs; /* UDP_BATCH * UDP_MAX_PACKET */
	uint8_t *tx_bufs;
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
    struct udp **out, char *errbuf, size_t errlen)
{
	struct sockaddr_in6 sa;
	struct udp_addr a;
	socklen_t sl = sizeof(sa);
	struct udp *u;
	int off = 0, r;
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
	if ((u = calloc(1, sizeof(*u))) == NULL ||
	    (u->rx_bufs = malloc(UDP_BATCH * UDP_MAX_PACKET)) == NULL ||
	    (u->tx_bufs = malloc(UDP_BATCH * UDP_MAX_PACKET)) == NULL) {
		if (u != NULL)
			free(u->rx_bufs);
		free(u);
		return VPN_ERR_NOMEM;
	}
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
	for (i = 0; i < UDP_BATCH; i++) {
		u->rx_iov[i].iov_base = u->rx_bufs + i * UDP_MAX_PACKET;
		u->rx_iov[i].iov_len = UDP_MAX_PACKET;
		u->rx_msgs[i].msg_hdr.msg_iov = &u->rx_iov[i];
		u->rx_msgs[i].msg_hdr.msg_iovlen = 1;
		u->rx_msgs[i].msg_hdr.msg_name = &u->rx_addrs[i];
		u->tx_iov[i].iov_base = u->tx_bufs + i * UDP_MAX_PACKET;
		u->tx_msgs[i].msg_hdr.msg_iov = &u->tx_iov[i];
		u->tx_msgs[i].msg_hdr.msg_iovlen = 1;
		u->tx_msgs[i].msg_hdr.msg_name = &u->tx_addrs[i];
	}
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
udp_recv_batch(struct udp *u, udp_rx_fn fn, void *arg)
{
	struct udp_addr from;
	int n, i;

	for (i = 0; i < UDP_BATCH; i++) /* value-result: reset */
		u->rx_msgs[i].msg_hdr.msg_namelen = sizeof(u->rx_addrs[i]);
	n = recvmmsg(u->fd, u->rx_msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		u->stats.rx_errors++;
		return VPN_ERR_SYS;
	}
	for (i = 0; i < n; i++) {
		if (u->rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			u->stats.rx_truncated++;
			continue;
		}
		u->stats.rx_packets++;
		from_sockaddr(&u->rx_addrs[i], &from);
		fn(arg, &from, u->rx_bufs + (size_t)i * UDP_MAX_PACKET,
		    u->rx_msgs[i].msg_len);
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
	if (u->family == AF_INET && !udp_addr_is_v4(to)) {
		u->stats.tx_errors++; /* no IPv6 here */
		return;
	}
	u->tx_msgs[u->tx_n].msg_hdr.msg_namelen =
	    to_sockaddr(u->family, to, &u->tx_addrs[u->tx_n]);
	u->tx_iov[u->tx_n].iov_len = len;
	u->tx_n++;
}

int
udp_flush(struct udp *u)
{
	size_t done = 0;
	int n;

	while (done < u->tx_n) {
		n = sendmmsg(u->fd, u->tx_msgs + done,
		    (unsigned)(u->tx_n - done), 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			/* EAGAIN (buffer full) or a per-destination error:
			 * drop this datagram, as UDP would, and go on. */
			u->stats.tx_errors++;
			done++;
			continue;
		}
		u->stats.tx_packets += (uint64_t)n;
		done += (size_t)n;
	}
	u->tx_n = 0;
	return 0;
}
