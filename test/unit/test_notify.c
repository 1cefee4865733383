/*
 * test/unit/test_notify.c: the sd_notify(3) datagrams of node/notify.c,
 * read back from a socket of our own, by path and abstract name, with
 * the sender's credentials as systemd sees them; and nothing (no error,
 * no crash) when $NOTIFY_SOCKET is unset, unusable, or names no socket.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "log.h"
#include "notify.h"

/* A datagram socket bound to name ("/path" or "@abstract"), passing
 * credentials as systemd's notify socket does. */
static int
listener(const char *name)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(name) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, name, strlen(name));
	len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	if (*name == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	assert_int_equal(
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	return fd;
}

/* The next datagram, already queued (sendto on AF_UNIX queues it before
 * returning), NUL-terminated; checks it came from this process. */
static void
next_msg(int fd, char *buf, size_t len)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred))];
	} c;
	struct iovec iov = {buf, len - 1};
	struct msghdr m = {0};
	struct cmsghdr *h;
	struct ucred cr;
	ssize_t n;
	bool got = false;

	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = c.b;
	m.msg_controllen = sizeof(c.b);
	n = recvmsg(fd, &m, MSG_DONTWAIT);
	if (n < 0)
		fail_msg("no datagram: %s", strerror(errno));
	assert_int_equal(m.msg_flags & MSG_TRUNC, 0);
	buf[n] = '\0';
	for (h = CMSG_FIRSTHDR(&m); h != NULL; h = CMSG_NXTHDR(&m, h))
		if (h->cmsg_level == SOL_SOCKET &&
		    h->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&cr, CMSG_DATA(h), sizeof(cr));
			assert_int_equal(cr.pid, getpid());
			got = true;
		}
	assert_true(got);
}

static void
nothing_queued(int fd)
{
	char b[8];

	assert_int_equal(recv(fd, b, sizeof(b), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

static uint64_t
mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Every message, exactly, to the socket in fd. */
static void
check_messages(int fd)
{
	char buf[512];
	uint64_t before, after, usec;
	char *end;

	assert_int_equal(notify_ready(5, 1), 0);
	next_msg(fd, buf, sizeof(buf));
	assert_string_equal(
	    buf, "READY=1\nSTATUS=5 tunnels, 1 pending handshake");
	assert_int_equal(notify_ready(1, 0), 0);
	next_msg(fd, buf, sizeof(buf));
	assert_string_equal(
	    buf, "READY=1\nSTATUS=1 tunnel, 0 pending handshakes");

	before = mono_usec();
	assert_int_equal(notify_reloading(), 0);
	after = mono_usec();
	next_msg(fd, buf, sizeof(buf));
	assert_memory_equal(buf, "RELOADING=1\nMONOTONIC_USEC=", 27);
	errno = 0;
	usec = strtoull(buf + 27, &end, 10);
	assert_int_equal(errno, 0);
	assert_true(end != buf + 27 && *end == '\0');
	assert_true(usec >= before && usec <= after);

	assert_int_equal(notify_stopping(), 0);
	next_msg(fd, buf, sizeof(buf));
	assert_string_equal(buf, "STOPPING=1");
	assert_int_equal(notify_send("STATUS=x\nWATCHDOG=1"), 0);
	next_msg(fd, buf, sizeof(buf));
	assert_string_equal(buf, "STATUS=x\nWATCHDOG=1");
	nothing_queued(fd);
}

static void
test_notify_path(void **state)
{
	char dir[] = "/tmp/test_notify.XXXXXX", path[64];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listener(path);
	assert_int_equal(setenv("NOTIFY_SOCKET", path, 1), 0);
	assert_true(notify_init());
	check_messages(fd);
	/* after notify_close, nothing is sent */
	notify_close();
	assert_int_equal(notify_stopping(), 0);
	nothing_queued(fd);
	/* the variable stays for children (notify.h) */
	assert_string_equal(getenv("NOTIFY_SOCKET"), path);
	close(fd);
	unlink(path);
	rmdir(dir);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_notify_abstract(void **state)
{
	char name[64];
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@test_notify.%ld.%ld", (long)getpid(),
	    (long)time(NULL));
	fd = listener(name);
	assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
	assert_true(notify_init());
	check_messages(fd);
	notify_close();
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static char *logbuf;
static size_t loglen;
static FILE *log_fp;

static void
log_capture(enum log_level level)
{
	log_fp = open_memstream(&logbuf, &loglen);
	assert_non_null(log_fp);
	log_setup(log_fp, level, LOG_FMT_TEXT);
}

/* What was logged since log_capture; the caller frees it. */
static char *
log_done(void)
{
	fclose(log_fp);
	log_setup(NULL, LOG_LVL_INFO, LOG_FMT_TEXT);
	return logbuf;
}

/* Every message, sent to nowhere without an error: 0 from each. */
static void
send_all_quietly(void)
{
	assert_int_equal(notify_ready(3, 0), 0);
	assert_int_equal(notify_reloading(), 0);
	assert_int_equal(notify_stopping(), 0);
}

static void
test_notify_unset(void **state)
{
	char *out;

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	log_capture(LOG_LVL_DEBUG);
	assert_false(notify_init());
	send_all_quietly();
	assert_int_equal(setenv("NOTIFY_SOCKET", "", 1), 0);
	assert_false(notify_init());
	send_all_quietly();
	notify_close();
	notify_close();
	out = log_done();
	assert_string_equal(out, ""); /* not even at debug */
	free(out);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_notify_bad_address(void **state)
{
	char longpath[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	const char *bad[] = {
	    "relative/notify", "notify", "@", "/", "vsock:2:1234", longpath};
	char *out;
	size_t i;

	(void)state;
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(setenv("NOTIFY_SOCKET", bad[i], 1), 0);
		/* nothing above debug */
		log_capture(LOG_LVL_INFO);
		assert_false(notify_init());
		send_all_quietly();
		out = log_done();
		assert_string_equal(out, "");
		free(out);
		/* and a reason at debug */
		log_capture(LOG_LVL_DEBUG);
		assert_false(notify_init());
		out = log_done();
		assert_non_null(strstr(out, "NOTIFY_SOCKET"));
		free(out);
	}
	unsetenv("NOTIFY_SOCKET");
}

/* A well-formed address where nobody listens: each send fails, -1 and a
 * line at debug, and nothing else happens. */
static void
test_notify_nobody_listens(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(
	    setenv("NOTIFY_SOCKET", "/nonexistent/test_notify/notify", 1), 0);
	log_capture(LOG_LVL_INFO);
	assert_true(notify_init());
	assert_int_equal(notify_ready(0, 0), -1);
	assert_int_equal(notify_stopping(), -1);
	out = log_done();
	assert_string_equal(out, "");
	free(out);
	log_capture(LOG_LVL_DEBUG);
	assert_int_equal(notify_reloading(), -1);
	out = log_done();
	assert_non_null(strstr(out, "sd_notify: sending"));
	assert_non_null(strstr(out, "RELOADING=1"));
	assert_null(strstr(out, "MONOTONIC_USEC")); /* first line only */
	free(out);
	notify_close();
	unsetenv("NOTIFY_SOCKET");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_notify_path),
	    cmocka_unit_test(test_notify_abstract),
	    cmocka_unit_test(test_notify_unset),
	    cmocka_unit_test(test_notify_bad_address),
	    cmocka_unit_test(test_notify_nobody_listens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
