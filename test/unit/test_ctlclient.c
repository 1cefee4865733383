/*
 * test/unit/test_ctlclient.c: the control protocol's client side
 * (ctlclient.h), which cairnctl(8) is made of, against a fake server in
 * a thread on a socketpair or a socket in a temporary directory: socket
 * discovery, connecting (a full backlog times out), one request and its
 * answer dribbled a byte at a time or large, a server that closes early
 * or says nothing, a bad header, and an output that goes away.
 */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctlclient.h"
#include "ctlproto.h"
#include "err.h"
#include "sbuf.h"

#define MS (int64_t)1000000

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A fake server: reads one request, then writes resp in chunks. */
struct srv {
	int fd;
	const char *resp;
	size_t resp_len, chunk;
	bool read_req, hold; /* hold: wait for the client to close */
	int argc;
	char argv0[64], last[64];
	pthread_t th;
};

static void *
srv_run(void *arg)
{
	struct srv *s = arg;
	static struct ctl_req req; /* one server at a time */
	uint8_t buf[CTL_MAX_REQ];
	size_t n = 0, off, k;
	ssize_t got;
	int rc = 0;

	while (s->read_req && rc == 0 && n < sizeof(buf)) {
		if ((got = read(s->fd, buf + n, sizeof(buf) - n)) <= 0)
			break;
		n += (size_t)got;
		rc = ctl_req_parse(buf, n, &req, NULL);
	}
	if (rc > 0) {
		s->argc = req.argc;
		snprintf(s->argv0, sizeof(s->argv0), "%s", req.argv[0]);
		snprintf(
		    s->last, sizeof(s->last), "%s", req.argv[req.argc - 1]);
	}
	for (off = 0; off < s->resp_len; off += k) {
		k = s->resp_len - off < s->chunk ? s->resp_len - off : s->chunk;
		if (write(s->fd, s->resp + off, k) != (ssize_t)k)
			break;
		if (s->chunk < 16)
			usleep(200);
	}
	if (s->hold)
		while (read(s->fd, buf, sizeof(buf)) > 0)
			;
	close(s->fd);
	return NULL;
}

/* Start a server on one end of a socketpair; the other end is returned. */
static int
srv_start(struct srv *s, const char *resp, size_t len, size_t chunk)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	s->fd = sv[1];
	s->resp = resp;
	s->resp_len = len;
	s->chunk = chunk;
	assert_int_equal(pthread_create(&s->th, NULL, srv_run, s), 0);
	return sv[0];
}

/* A temporary file's fd and a reader of its content. */
static int
tmp_out(void)
{
	FILE *f = tmpfile();
	int fd;

	assert_non_null(f);
	fd = dup(fileno(f));
	fclose(f);
	assert_true(fd >= 0);
	return fd;
}

static char *
tmp_read(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	char *p = malloc((size_t)end + 1);

	assert_non_null(p);
	assert_int_equal(pread(fd, p, (size_t)end, 0), end);
	p[end] = '\0';
	*len = (size_t)end;
	return p;
}

static void
test_ctlclient_sock_path(void **state)
{
	char path[128], small[16], name[200];

	(void)state;
	assert_int_equal(
	    ctlc_sock_path("/run/cairn", "nebula1", path, sizeof(path)), 0);
	assert_string_equal(path, "/run/cairn/nebula1.sock");
	assert_int_equal(ctlc_sock_path("/run/cairn", "", path, sizeof(path)),
	    VPN_ERR_INVAL);
	assert_int_equal(
	    ctlc_sock_path("/run/cairn", "a/b", path, sizeof(path)),
	    VPN_ERR_INVAL);
	assert_int_equal(ctlc_sock_path("/run/cairn", "..", path, sizeof(path)),
	    VPN_ERR_INVAL);
	assert_int_equal(ctlc_sock_path("/run/cairn", ".", path, sizeof(path)),
	    VPN_ERR_INVAL);
	assert_int_equal(
	    ctlc_sock_path("/run/cairn", "nebula1", small, sizeof(small)),
	    VPN_ERR_RANGE);
	/* Fits the buffer, not a Unix socket address. */
	memset(name, 'n', 120);
	name[120] = '\0';
	assert_int_equal(
	    ctlc_sock_path("/r", name, path, sizeof(path)), VPN_ERR_RANGE);
}

/* A listening socket at dir/name: its fd. */
static int
listen_at(const char *dir, const char *name, int backlog)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, name);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (backlog >= 0)
		assert_int_equal(listen(fd, backlog), 0);
	return fd;
}

static void
rm_dir(const char *dir, const char *const *names)
{
	char p[256];

	for (; *names != NULL; names++) {
		snprintf(p, sizeof(p), "%s/%s", dir, *names);
		unlink(p);
	}
	rmdir(dir);
}

static void
test_ctlclient_find_socks(void **state)
{
	static const char *const names[] = {
	    "b.sock", "a.sock", "file.sock", ".sock", "c.socket", "x", NULL};
	char dir[] = "/tmp/ctlclient.XXXXXX", p[256];
	struct sbuf b;
	int fa, fb, fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sbuf_init(&b);
	assert_int_equal(ctlc_find_socks(dir, &b), 0);
	assert_int_equal(b.len, 0);
	/* Not sockets, or not *.sock: none of them count. */
	snprintf(p, sizeof(p), "%s/file.sock", dir);
	assert_true((fd = open(p, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	fd = listen_at(dir, ".sock", 1);
	close(fd);
	fd = listen_at(dir, "c.socket", 1);
	close(fd);
	fd = listen_at(dir, "x", 1);
	close(fd);
	assert_int_equal(ctlc_find_socks(dir, &b), 0);
	fb = listen_at(dir, "b.sock", 1);
	assert_int_equal(ctlc_find_socks(dir, &b), 1);
	assert_string_equal(b.s, "b.sock");
	sbuf_free(&b);
	/* A stale one counts too: connecting says it is not running. */
	fa = listen_at(dir, "a.sock", -1);
	assert_int_equal(ctlc_find_socks(dir, &b), 2);
	assert_string_equal(b.s, "a.sock, b.sock");
	sbuf_free(&b);
	close(fa);
	close(fb);
	rm_dir(dir, names);
	errno = 0;
	assert_int_equal(ctlc_find_socks(dir, &b), VPN_ERR_SYS);
	assert_int_equal(errno, ENOENT);
	sbuf_free(&b);
}

static void
test_ctlclient_connect(void **state)
{
	static const char *const names[] = {"n.sock", "s.sock", "f.sock", NULL};
	char dir[] = "/tmp/ctlclient.XXXXXX", p[256], longp[200];
	int ls, fd, stale, full, extra;
	int64_t t0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/none.sock", dir);
	assert_int_equal(ctlc_connect(p, 100 * MS, &fd), VPN_ERR_SYS);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(fd, -1);
	/* Bound, not listening: what a node killed -9 leaves. */
	stale = listen_at(dir, "s.sock", -1);
	snprintf(p, sizeof(p), "%s/s.sock", dir);
	assert_int_equal(ctlc_connect(p, 100 * MS, &fd), VPN_ERR_SYS);
	assert_int_equal(errno, ECONNREFUSED);
	close(stale);
	memset(longp, 'l', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(ctlc_connect(longp, 100 * MS, &fd), VPN_ERR_RANGE);

	ls = listen_at(dir, "n.sock", 4);
	snprintf(p, sizeof(p), "%s/n.sock", dir);
	assert_int_equal(ctlc_connect(p, 0, &fd), 0);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	close(ls);

	/* A backlog that stays full: connect gives up after the timeout. */
	full = listen_at(dir, "f.sock", 0);
	snprintf(p, sizeof(p), "%s/f.sock", dir);
	assert_int_equal(ctlc_connect(p, 100 * MS, &extra), 0);
	t0 = mono_ms();
	assert_int_equal(ctlc_connect(p, 150 * MS, &fd), VPN_ERR_SYS);
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(mono_ms() - t0 >= 140);
	assert_true(mono_ms() - t0 < 3000);
	close(extra);
	close(full);
	rm_dir(dir, names);
}

static void
test_ctlclient_exchange_dribbled(void **state)
{
	static const char resp[] = "R1 1 13\nno such peer\n";
	char *argv[] = {(char *)"peer", (char *)"-json", (char *)"10.42.0.9"};
	struct srv s = {.read_req = true, .hold = true};
	enum ctl_status st;
	size_t blen, copied, len;
	const char *why;
	bool of;
	int fd, out;
	char *got;

	(void)state;
	fd = srv_start(&s, resp, sizeof(resp) - 1, 1);
	assert_int_equal(ctlc_send(fd, 3, argv, 2000 * MS), 0);
	assert_int_equal(ctlc_recv_head(fd, 2000 * MS, &st, &blen, &why), 0);
	assert_int_equal(st, CTL_FAIL);
	assert_int_equal(blen, 13);
	out = tmp_out();
	assert_int_equal(
	    ctlc_copy_body(fd, 2000 * MS, blen, out, &copied, &of), 0);
	assert_int_equal(copied, 13);
	assert_false(of);
	got = tmp_read(out, &len);
	assert_string_equal(got, "no such peer\n");
	free(got);
	close(out);
	close(fd);
	pthread_join(s.th, NULL);
	assert_int_equal(s.argc, 3);
	assert_string_equal(s.argv0, "peer");
	assert_string_equal(s.last, "10.42.0.9");
}

/* The header is read to its end and no further: two answers back to
 * back on one connection come apart. */
static void
test_ctlclient_head_takes_nothing_more(void **state)
{
	static const char resp[] = "R1 0 3\nabcR1 2 0\n";
	struct srv s = {.read_req = false};
	enum ctl_status st;
	size_t blen, copied, len;
	const char *why;
	bool of;
	int fd, out;
	char *got;

	(void)state;
	fd = srv_start(&s, resp, sizeof(resp) - 1, sizeof(resp));
	assert_int_equal(ctlc_recv_head(fd, 2000 * MS, &st, &blen, &why), 0);
	assert_int_equal(st, CTL_OK);
	assert_int_equal(blen, 3);
	out = tmp_out();
	assert_int_equal(
	    ctlc_copy_body(fd, 2000 * MS, blen, out, &copied, &of), 0);
	assert_int_equal(ctlc_recv_head(fd, 2000 * MS, &st, &blen, &why), 0);
	assert_int_equal(st, CTL_USAGE);
	assert_int_equal(blen, 0);
	assert_int_equal(
	    ctlc_copy_body(fd, 2000 * MS, 0, out, &copied, &of), 0);
	assert_int_equal(copied, 0);
	got = tmp_read(out, &len);
	assert_string_equal(got, "abc");
	free(got);
	close(out);
	close(fd);
	pthread_join(s.th, NULL);
}

static void
test_ctlclient_large_body(void **state)
{
	size_t n = 5u << 20, hl, blen, copied, len, i;
	char *resp = malloc(n + 32), *got;
	struct srv s = {.read_req = true};
	char *argv[] = {(char *)"list-hostmap"};
	enum ctl_status st;
	const char *why;
	bool of;
	int fd, out;

	(void)state;
	assert_non_null(resp);
	hl = (size_t)snprintf(resp, 32, "R1 0 %zu\n", n);
	for (i = 0; i < n; i++)
		resp[hl + i] = (char)(i * 7 + i / 251);
	fd = srv_start(&s, resp, hl + n, 100000);
	assert_int_equal(ctlc_send(fd, 1, argv, 2000 * MS), 0);
	assert_int_equal(ctlc_recv_head(fd, 2000 * MS, &st, &blen, &why), 0);
	assert_int_equal(st, CTL_OK);
	assert_int_equal(blen, n);
	out = tmp_out();
	assert_int_equal(
	    ctlc_copy_body(fd, 2000 * MS, blen, out, &copied, &of), 0);
	assert_int_equal(copied, n);
	got = tmp_read(out, &len);
	assert_int_equal(len, n);
	assert_memory_equal(got, resp + hl, n);
	free(got);
	close(out);
	close(fd);
	pthread_join(s.th, NULL);
	assert_string_equal(s.argv0, "list-hostmap");
	free(resp);
}

static void
test_ctlclient_no_answer_times_out(void **state)
{
	struct srv s = {.read_req = true, .hold = true};
	char *argv[] = {(char *)"show"};
	enum ctl_status st;
	size_t blen, copied;
	const char *why;
	int64_t t0;
	bool of;
	int fd;

	(void)state;
	fd = srv_start(&s, "", 0, 1);
	assert_int_equal(ctlc_send(fd, 1, argv, 2000 * MS), 0);
	t0 = mono_ms();
	assert_int_equal(
	    ctlc_recv_head(fd, 120 * MS, &st, &blen, &why), VPN_ERR_SYS);
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(mono_ms() - t0 >= 110);
	assert_true(mono_ms() - t0 < 3000);
	/* The body too, when it stops coming. */
	t0 = mono_ms();
	assert_int_equal(
	    ctlc_copy_body(fd, 120 * MS, 10, STDOUT_FILENO, &copied, &of),
	    VPN_ERR_SYS);
	assert_int_equal(errno, ETIMEDOUT);
	assert_false(of);
	assert_int_equal(copied, 0);
	assert_true(mono_ms() - t0 >= 110);
	close(fd);
	pthread_join(s.th, NULL);
}

static void
test_ctlclient_closed_early(void **state)
{
	static const char part[] = "R1 0 10\nabc";
	struct srv s = {.read_req = false};
	enum ctl_status st;
	size_t blen, copied, len;
	const char *why;
	bool of;
	int fd, out;
	char *got;

	(void)state;
	/* Nothing at all: turned away, as beyond the node's client limit. */
	fd = srv_start(&s, "", 0, 1);
	assert_int_equal(
	    ctlc_recv_head(fd, 2000 * MS, &st, &blen, &why), VPN_ERR_TRUNCATED);
	assert_string_equal(why, "connection closed without an answer");
	close(fd);
	pthread_join(s.th, NULL);
	/* Inside the header. */
	fd = srv_start(&s, "R1 0", 4, 1);
	assert_int_equal(
	    ctlc_recv_head(fd, 2000 * MS, &st, &blen, &why), VPN_ERR_TRUNCATED);
	assert_string_equal(why, "connection closed inside the answer");
	close(fd);
	pthread_join(s.th, NULL);
	/* Inside the body: what came is out, and how much. */
	fd = srv_start(&s, part, sizeof(part) - 1, 1);
	assert_int_equal(ctlc_recv_head(fd, 2000 * MS, &st, &blen, &why), 0);
	out = tmp_out();
	assert_int_equal(ctlc_copy_body(fd, 2000 * MS, blen, out, &copied, &of),
	    VPN_ERR_TRUNCATED);
	assert_int_equal(copied, 3);
	assert_false(of);
	got = tmp_read(out, &len);
	assert_string_equal(got, "abc");
	free(got);
	close(out);
	close(fd);
	pthread_join(s.th, NULL);
}

static void
test_ctlclient_bad_header(void **state)
{
	static const struct {
		const char *resp;
		int rc;
		const char *why;
	} cases[] = {
	    {"R2 0 0\n", VPN_ERR_INVAL, "unsupported protocol version"},
	    {"HTTP/1.1 400\r\n", VPN_ERR_INVAL,
	        "not a control protocol response"},
	    {"R1 7 0\n", VPN_ERR_RANGE, "unknown status"},
	    {"R1 0 99999999\n", VPN_ERR_RANGE,
	        "response body longer than CTL_MAX_BODY (64 MiB)"},
	};
	struct srv s = {.read_req = false, .hold = true};
	enum ctl_status st;
	const char *why;
	size_t blen, i;
	int fd;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fd = srv_start(&s, cases[i].resp, strlen(cases[i].resp), 64);
		assert_int_equal(
		    ctlc_recv_head(fd, 2000 * MS, &st, &blen, &why),
		    cases[i].rc);
		assert_string_equal(why, cases[i].why);
		close(fd);
		pthread_join(s.th, NULL);
	}
}

static void
test_ctlclient_output_gone(void **state)
{
	static const char resp[] = "R1 0 5\nhello";
	struct srv s = {.read_req = false, .hold = true};
	enum ctl_status st;
	size_t blen, copied;
	const char *why;
	int fd, p[2];
	bool of;

	(void)state;
	assert_int_equal(pipe(p), 0);
	close(p[0]); /* cairnctl ... | head, and head is done */
	fd = srv_start(&s, resp, sizeof(resp) - 1, 64);
	assert_int_equal(ctlc_recv_head(fd, 2000 * MS, &st, &blen, &why), 0);
	assert_int_equal(
	    ctlc_copy_body(fd, 2000 * MS, blen, p[1], &copied, &of),
	    VPN_ERR_SYS);
	assert_int_equal(errno, EPIPE);
	assert_true(of);
	assert_int_equal(copied, 0);
	close(p[1]);
	close(fd);
	pthread_join(s.th, NULL);
}

static void
test_ctlclient_send_limits(void **state)
{
	char *argv[CTL_MAX_ARGS + 1];
	int sv[2], i;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (i = 0; i <= CTL_MAX_ARGS; i++)
		argv[i] = (char *)"x";
	assert_int_equal(
	    ctlc_send(sv[0], CTL_MAX_ARGS + 1, argv, 0), VPN_ERR_RANGE);
	argv[1] = (char *)"";
	assert_int_equal(ctlc_send(sv[0], 2, argv, 0), VPN_ERR_RANGE);
	/* The server is gone: EPIPE, not SIGPIPE. */
	close(sv[1]);
	assert_int_equal(ctlc_send(sv[0], 1, argv, 0), VPN_ERR_SYS);
	assert_int_equal(errno, EPIPE);
	close(sv[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ctlclient_sock_path),
	    cmocka_unit_test(test_ctlclient_find_socks),
	    cmocka_unit_test(test_ctlclient_connect),
	    cmocka_unit_test(test_ctlclient_exchange_dribbled),
	    cmocka_unit_test(test_ctlclient_head_takes_nothing_more),
	    cmocka_unit_test(test_ctlclient_large_body),
	    cmocka_unit_test(test_ctlclient_no_answer_times_out),
	    cmocka_unit_test(test_ctlclient_closed_early),
	    cmocka_unit_test(test_ctlclient_bad_header),
	    cmocka_unit_test(test_ctlclient_output_gone),
	    cmocka_unit_test(test_ctlclient_send_limits),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
