/*
 * cairnctl: runs one command on a running node through its control
 * socket (lib/ctlproto.h, lib/ctlclient.h) and prints the answer.  See
 * cairnctl(8).
 *   cairnctl [-socket PATH | -dev NAME] [-timeout DURATION] COMMAND [ARGS...]
 *   cairnctl -version
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlclient.h"
#include "ctlproto.h"
#include "err.h"
#include "goflag.h"
#include "gotime.h"
#include "version.h"

/* The exit statuses of cairnctl(8). */
enum exit_status {
	ST_OK = 0,    /* the command succeeded */
	ST_FAIL = 1,  /* the command failed; its output says why */
	ST_USAGE = 2, /* a bad command line, ours or the command's */
	ST_CONN = 3,  /* no node reached, or no valid answer from it */
};

enum { F_SOCKET, F_DEV, F_TIMEOUT, F_VERSION, NFLAGS };

#define PROG "cairnctl"

static void
usage(const struct goflag *f)
{
	fprintf(stderr,
	    "Usage: " PROG " [-socket PATH | -dev NAME] [-timeout DURATION] "
	    "COMMAND [ARGS...]\n"
	    "       " PROG " -version\n"
	    "Runs COMMAND on a running node through its control socket and "
	    "prints the\nanswer; \"" PROG " help\" lists the commands.\n");
	goflag_print_defaults(stderr, f, NFLAGS);
}

/* The one socket in CTLC_RUN_DIR into path[len]: 0, or -1 said. */
static int
only_socket(char *path, size_t len)
{
	struct sbuf names;
	int n, r = -1;

	sbuf_init(&names);
	n = ctlc_find_socks(CTLC_RUN_DIR, &names);
	if (n == VPN_ERR_SYS && errno == ENOENT)
		fprintf(stderr,
		    PROG ": no control socket: %s does not exist (is the "
		         "node running? or give -socket PATH)\n",
		    CTLC_RUN_DIR);
	else if (n < 0)
		fprintf(
		    stderr, PROG ": %s: %s\n", CTLC_RUN_DIR, vpn_strerror(n));
	else if (n == 0)
		fprintf(stderr,
		    PROG ": no control socket in %s (is the node running? "
		         "control.listen; or give -socket PATH)\n",
		    CTLC_RUN_DIR);
	else if (n > 1)
		fprintf(stderr,
		    PROG ": %d control sockets in %s: %s; choose one with "
		         "-dev NAME or -socket PATH\n",
		    n, CTLC_RUN_DIR, names.s);
	else if (snprintf(path, len, "%s/%s", CTLC_RUN_DIR, names.s) >=
	         (int)len)
		fprintf(stderr, PROG ": %s/%s: path too long\n", CTLC_RUN_DIR,
		    names.s);
	else
		r = 0;
	sbuf_free(&names);
	return r;
}

/* Why connect() failed, and what to look at. */
static void
connect_failed(const char *path, int e, const char *tmo)
{
	const char *hint = "";

	switch (e) {
	case ENOENT:
	case ECONNREFUSED:
		hint = " (is the node running? control.listen)";
		break;
	case EACCES:
	case EPERM:
		hint = " (run as root, or as a member of control.group)";
		break;
	case ETIMEDOUT:
		fprintf(stderr,
		    PROG ": %s: connect: timed out after %s (the node is "
		         "not accepting connections)\n",
		    path, tmo);
		return;
	default:
		break;
	}
	fprintf(stderr, PROG ": %s: connect: %s%s\n", path, strerror(e), hint);
}

/* One request on the socket at path and its answer: the exit status. */
static int
call(const char *path, int argc, char **argv, int64_t timeout, const char *tmo)
{
	enum ctl_status st;
	size_t blen, copied;
	const char *why;
	bool out_failed;
	int fd = -1, r, ret = ST_CONN, out;

	if ((r = ctlc_connect(path, timeout, &fd)) != 0) {
		if (r == VPN_ERR_RANGE)
			fprintf(stderr,
			    PROG ": %s: path too long for a Unix socket\n",
			    path);
		else
			connect_failed(path, errno, tmo);
		return ST_CONN;
	}
	if ((r = ctlc_send(fd, argc, argv, timeout)) != 0) {
		if (r == VPN_ERR_SYS && errno == ETIMEDOUT)
			fprintf(stderr,
			    PROG ": %s: sending the request: timed out after "
			         "%s\n",
			    path, tmo);
		else
			fprintf(stderr, PROG ": %s: sending the request: %s\n",
			    path, vpn_strerror(r));
		goto out;
	}
	if ((r = ctlc_recv_head(fd, timeout, &st, &blen, &why)) != 0) {
		if (r == VPN_ERR_SYS && errno == ETIMEDOUT)
			fprintf(stderr, PROG ": %s: no answer within %s\n",
			    path, tmo);
		else if (r == VPN_ERR_SYS)
			fprintf(stderr, PROG ": %s: reading the answer: %s\n",
			    path, vpn_strerror(r));
		else if (r == VPN_ERR_TRUNCATED)
			fprintf(stderr, PROG ": %s: %s\n", path, why);
		else
			fprintf(stderr, PROG ": %s: protocol error: %s\n", path,
			    why);
		goto out;
	}
	switch (st) {
	case CTL_OK:
		ret = ST_OK;
		out = STDOUT_FILENO;
		break;
	case CTL_FAIL:
		ret = ST_FAIL;
		out = STDOUT_FILENO;
		break;
	case CTL_USAGE:
		ret = ST_USAGE;
		out = STDERR_FILENO;
		break;
	case CTL_BADREQ:
	default:
		ret = ST_CONN;
		out = STDERR_FILENO;
		fprintf(stderr, PROG ": %s: request refused: ", path);
		fflush(stderr);
		break;
	}
	r = ctlc_copy_body(fd, timeout, blen, out, &copied, &out_failed);
	if (r == 0)
		goto out;
	if (out_failed) {
		/* A reader that went away (cairnctl ... | head) is no news. */
		if (errno != EPIPE)
			fprintf(stderr, PROG ": writing the answer: %s\n",
			    strerror(errno));
		if (ret == ST_OK)
			ret = ST_FAIL;
	} else if (r == VPN_ERR_TRUNCATED) {
		fprintf(stderr,
		    PROG ": %s: connection closed after %zu of the answer's "
		         "%zu bytes\n",
		    path, copied, blen);
		ret = ST_CONN;
	} else if (r == VPN_ERR_SYS && errno == ETIMEDOUT) {
		fprintf(stderr,
		    PROG ": %s: the answer stopped after %zu of %zu bytes: "
		         "nothing more within %s\n",
		    path, copied, blen, tmo);
		ret = ST_CONN;
	} else {
		fprintf(stderr, PROG ": %s: reading the answer: %s\n", path,
		    vpn_strerror(r));
		ret = ST_CONN;
	}
out:
	close(fd);
	return ret;
}

int
main(int argc, char **argv)
{
	struct goflag f[NFLAGS] = {
	    [F_SOCKET] = {"socket", GOFLAG_STRING,
	        "Connect to the control socket at `path`", "", false, 0, false},
	    [F_DEV] = {"dev", GOFLAG_STRING,
	        "Connect to " CTLC_RUN_DIR "/`name`.sock, the socket of the "
	        "node whose tun.dev is name",
	        "", false, 0, false},
	    [F_TIMEOUT] = {"timeout", GOFLAG_DURATION,
	        "Give up when the node has not answered, or has sent "
	        "nothing more, for this long (0: never)",
	        "", false, 10 * (int64_t)1000000000, false},
	    [F_VERSION] = {"version", GOFLAG_BOOL, "Print version", "", false,
	        0, false},
	};
	struct goflag defaults[NFLAGS];
	char err[1024], path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	char tmo[GOTIME_DURATION_LEN];
	const char *sock = path;
	struct sbuf probe;
	int argi = 1, r;

	/* A node that closes early must not kill us: send() says EPIPE,
	 * and so does write() to a reader of our output that went away. */
	signal(SIGPIPE, SIG_IGN);
	memcpy(defaults, f, sizeof(defaults));
	r = goflag_parse(f, NFLAGS, argc, argv, &argi, err, sizeof(err));
	if (r == GOFLAG_HELP) {
		usage(defaults);
		return ST_OK;
	}
	if (r != 0) {
		fprintf(stderr, "%s\n", err);
		usage(defaults);
		return ST_USAGE;
	}
	if (f[F_VERSION].b) {
		version_print(argv[0], stdout, stderr);
		return ST_OK;
	}
	if (argi >= argc) {
		fprintf(stderr, PROG ": no command given\n");
		usage(defaults);
		return ST_USAGE;
	}
	if (f[F_SOCKET].set && f[F_DEV].set) {
		fprintf(stderr, PROG ": -socket and -dev exclude each other\n");
		return ST_USAGE;
	}
	if (f[F_TIMEOUT].d < 0) {
		fprintf(stderr, PROG ": -timeout must not be negative\n");
		return ST_USAGE;
	}
	go_format_duration(f[F_TIMEOUT].d, tmo, sizeof(tmo));
	/* The command's own limits first: no node is needed to say so. */
	sbuf_init(&probe);
	r = ctl_req_encode(argc - argi, argv + argi, &probe);
	sbuf_free(&probe);
	if (r == VPN_ERR_RANGE) {
		fprintf(stderr,
		    PROG ": the command is over the protocol's limits: at most "
		         "%d words (with the command's name) of 1 to %d bytes, "
		         "%d bytes in all\n",
		    CTL_MAX_ARGS, CTL_MAX_ARG, CTL_MAX_REQ);
		return ST_USAGE;
	}
	if (r != 0) {
		fprintf(stderr, PROG ": %s\n", vpn_strerror(r));
		return ST_CONN;
	}

	if (f[F_SOCKET].set) {
		sock = f[F_SOCKET].s;
		if (*sock == '\0' || strlen(sock) >= sizeof(path)) {
			fprintf(stderr, PROG ": -socket %s: %s\n", sock,
			    *sock == '\0' ? "an empty path"
			                  : "too long for a Unix socket");
			return ST_USAGE;
		}
	} else if (f[F_DEV].set) {
		r = ctlc_sock_path(
		    CTLC_RUN_DIR, f[F_DEV].s, path, sizeof(path));
		if (r != 0) {
			fprintf(stderr, PROG ": -dev %s: %s\n", f[F_DEV].s,
			    r == VPN_ERR_INVAL ? "not a device name"
			                       : "too long");
			return ST_USAGE;
		}
	} else if (only_socket(path, sizeof(path)) != 0) {
		return ST_CONN;
	}
	return call(sock, argc - argi, argv + argi, f[F_TIMEOUT].d, tmo);
}
