/* lib/ctlclient.c: the control protocol's client side (ctlclient.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctlclient.h"
#include "err.h"

#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)NULL)->sun_path)
#define COPY_BUF 65536

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Wait until fd is ready for events, at most timeout_ns (0: no limit):
 * 0, or -1 with errno (ETIMEDOUT). */
static int
wait_fd(int fd, short events, int64_t timeout_ns)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int64_t deadline = timeout_ns > 0 ? now_ns() + timeout_ns : 0, left;
	int ms, n;

	for (;;) {
		ms = -1;
		if (timeout_ns > 0) {
			if ((left = deadline - now_ns()) <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			/* Round up, so as not to spin on the last millisecond.
			 */
			left = left / 1000000 + 1;
			ms = left > INT_MAX ? INT_MAX : (int)left;
		}
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 0; /* also on POLLHUP, POLLERR: I/O tells */
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

int
ctlc_sock_path(const char *dir, const char *name, char *path, size_t len)
{
	int n;

	if (*name == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return VPN_ERR_INVAL;
	n = snprintf(path, len, "%s/%s.sock", dir, name);
	if (n < 0 || (size_t)n >= len || (size_t)n >= SUN_PATH_MAX)
		return VPN_ERR_RANGE;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_sock_name(const char *s)
{
	size_t n = strlen(s);

	return n > 5 && strcmp(s + n - 5, ".sock") == 0;
}

int
ctlc_find_socks(const char *dir, struct sbuf *names)
{
	char **v = NULL, **nv;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r = VPN_ERR_NOMEM;

	if ((d = opendir(dir)) == NULL)
		return VPN_ERR_SYS;
	while ((de = readdir(d)) != NULL) {
		if (!is_sock_name(de->d_name))
			continue;
		if (de->d_type != DT_SOCK &&
		    (de->d_type != DT_UNKNOWN && de->d_type != DT_LNK))
			continue;
		if (de->d_type != DT_SOCK &&
		    (fstatat(dirfd(d), de->d_name, &st, 0) != 0 ||
		        !S_ISSOCK(st.st_mode)))
			continue;
		if (n == cap) {
			cap = cap > 0 ? cap * 2 : 8;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				goto out;
			v = nv;
		}
		if ((v[n] = strdup(de->d_name)) == NULL)
			goto out;
		n++;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++) {
		if (i > 0)
			sbuf_puts(names, ", ");
		sbuf_puts(names, v[i]);
	}
	if (!sbuf_ok(names))
		goto out;
	r = n > INT_MAX ? INT_MAX : (int)n;
out:
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	closedir(d);
	return r;
}

int
ctlc_connect(const char *path, int64_t timeout_ns, int *fd)
{
	struct sockaddr_un sa;
	int64_t deadline = timeout_ns > 0 ? now_ns() + timeout_ns : 0, left;
	struct timeval tv;
	int s, e;

	*fd = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return VPN_ERR_RANGE;
	memcpy(sa.sun_path, path, strlen(path));
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return VPN_ERR_SYS;
	for (;;) {
		/* A Unix socket's connect() waits only while the server's
		 * backlog is full, as long as SO_SNDTIMEO says, then fails
		 * with EAGAIN. */
		if (timeout_ns > 0) {
			if ((left = deadline - now_ns()) <= 0) {
				e = ETIMEDOUT;
				break;
			}
			tv.tv_sec = (time_t)(left / 1000000000);
			tv.tv_usec = (suseconds_t)(left % 1000000000 / 1000);
			if (tv.tv_sec == 0 && tv.tv_usec == 0)
				tv.tv_usec = 1;
			if (setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv,
			        sizeof(tv)) != 0) {
				e = errno;
				break;
			}
		}
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 ||
		    errno == EISCONN) {
			*fd = s;
			return 0;
		}
		e = errno == EAGAIN ? ETIMEDOUT : errno;
		if (errno != EINTR)
			break;
	}
	close(s);
	errno = e;
	return VPN_ERR_SYS;
}

int
ctlc_send(int fd, int argc, char *const argv[], int64_t timeout_ns)
{
	struct sbuf b;
	size_t off = 0;
	ssize_t n;
	int r;

	sbuf_init(&b);
	if ((r = ctl_req_encode(argc, argv, &b)) != 0)
		goto out;
	while (off < b.len) {
		n = send(
		    fd, b.s + off, b.len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN &&
		    wait_fd(fd, POLLOUT, timeout_ns) == 0)
			continue;
		r = VPN_ERR_SYS;
		goto out;
	}
out:
	/* free() may not change errno (POSIX 2024), but be sure. */
	n = errno;
	sbuf_free(&b);
	errno = (int)n;
	return r;
}

/* Read up to len bytes of fd once some are there: > 0; 0 at the end;
 * -1 with errno (ETIMEDOUT: none for timeout_ns). */
static ssize_t
recv_some(int fd, void *buf, size_t len, int64_t timeout_ns)
{
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, len, MSG_DONTWAIT);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		if (wait_fd(fd, POLLIN, timeout_ns) != 0)
			return -1;
	}
}

int
ctlc_recv_head(int fd, int64_t timeout_ns, enum ctl_status *status,
    size_t *body_len, const char **why)
{
	uint8_t buf[CTL_HEAD_MAX];
	size_t n = 0;
	ssize_t got;
	int rc;

	*why = NULL;
	/* A byte at a time, so as to take nothing of the body: the
	 * header is a dozen bytes. */
	for (;;) {
		if ((got = recv_some(fd, buf + n, 1, timeout_ns)) < 0)
			return VPN_ERR_SYS;
		if (got == 0) {
			*why = n == 0 ? "connection closed without an answer"
			              : "connection closed inside the answer";
			return VPN_ERR_TRUNCATED;
		}
		n++;
		rc = ctl_resp_parse(buf, n, status, body_len, why);
		if (rc > 0)
			return 0;
		if (rc < 0)
			return rc;
		/* rc 0 only below CTL_HEAD_MAX bytes: n stays in buf */
	}
}

/* All of p[0..len-1] to out, a file, pipe or terminal. */
static int
write_all(int out, const char *p, size_t len)
{
	struct pollfd pfd = {.fd = out, .events = POLLOUT};
	ssize_t n;

	while (len > 0) {
		n = write(out, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			(void)poll(&pfd, 1, -1); /* someone's O_NONBLOCK */
			continue;
		}
		if (n == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

int
ctlc_copy_body(int fd, int64_t timeout_ns, size_t body_len, int out,
    size_t *copied, bool *out_failed)
{
	char *buf;
	size_t want;
	ssize_t got;
	int r = 0, e;

	*copied = 0;
	*out_failed = false;
	if (body_len == 0)
		return 0;
	if ((buf = malloc(COPY_BUF)) == NULL)
		return VPN_ERR_NOMEM;
	while (*copied < body_len) {
		want = body_len - *copied;
		if (want > COPY_BUF)
			want = COPY_BUF;
		if ((got = recv_some(fd, buf, want, timeout_ns)) < 0) {
			r = VPN_ERR_SYS;
			break;
		}
		if (got == 0) {
			r = VPN_ERR_TRUNCATED;
			break;
		}
		if (write_all(out, buf, (size_t)got) != 0) {
			*out_failed = true;
			r = VPN_ERR_SYS;
			break;
		}
		*copied += (size_t)got;
	}
	e = errno;
	free(buf);
	errno = e;
	return r;
}
