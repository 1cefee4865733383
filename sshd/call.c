/*
 * sshd/call.c: one command on the node (helper.h).  A new stream socket
 * pair per command: one end goes to the node over the channel, a 1-byte
 * message "S" carrying it (node/sshd.c takes exactly that), and the
 * control protocol (lib/ctlproto.h, lib/ctlclient.h) runs on the other.
 * Every wait is bounded by CALL_TIMEOUT_NS.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctlclient.h"
#include "err.h"
#include "helper.h"

#define CALL_TIMEOUT_NS (30 * 1000000000LL)
#define CALL_TIMEOUT_MS 30000

/* Send fd to the node over the channel. */
static int
send_fd(int chan, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct pollfd p = {chan, POLLOUT, 0};
	struct cmsghdr *cm;
	struct msghdr msg;
	struct iovec iov;
	char body = 'S';
	ssize_t n;

	memset(&u, 0, sizeof(u));
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &body;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	for (;;) {
		n = sendmsg(chan, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == 1)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN &&
		    poll(&p, 1, CALL_TIMEOUT_MS) > 0)
			continue;
		return -1;
	}
}

int
node_call(int argc, char **argv, emit_fn emit, void *arg, enum ctl_status *st,
    const char **why)
{
	char buf[16384];
	struct pollfd p;
	size_t left;
	ssize_t n;
	int sv[2], r = -1;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		*why = "cannot make a socket pair";
		return -1;
	}
	if (send_fd(HELPER_CHAN_FD, sv[1]) != 0) {
		close(sv[0]);
		close(sv[1]);
		*why = "the node is not answering";
		return -1;
	}
	close(sv[1]);
	switch (ctlc_send(sv[0], argc, argv, CALL_TIMEOUT_NS)) {
	case 0:
		break;
	case VPN_ERR_RANGE:
		*why = "too many arguments, or one empty or too long";
		goto out;
	default:
		*why = "the node is not answering";
		goto out;
	}
	if (ctlc_recv_head(sv[0], CALL_TIMEOUT_NS, st, &left, why) != 0) {
		if (*why == NULL)
			*why = "the node is not answering";
		goto out;
	}
	p.fd = sv[0];
	p.events = POLLIN;
	while (left > 0) {
		n = recv(sv[0], buf, left < sizeof(buf) ? left : sizeof(buf),
		    MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (poll(&p, 1, CALL_TIMEOUT_MS) > 0)
				continue;
			*why = "the node stopped answering";
			goto out;
		}
		if (n <= 0) {
			*why =
			    "the node closed the connection inside its answer";
			goto out;
		}
		left -= (size_t)n;
		if (emit(arg, buf, (size_t)n) != 0) {
			*why = "the client is gone";
			goto out;
		}
	}
	r = 0;
out:
	close(sv[0]);
	return r;
}
