/*
 * sshd/main.c: cairn-sshd's main (helper.h).  Run by the node only
 * (node/sshd.c): fd 3 is its channel to the node, fd 4 its settings,
 * stdout the node's log stream.  It reads the settings and the host key,
 * listens, and serves each connection in a process of its own, at most
 * HELPER_MAX_CONNS at once (more wait in the listen backlog), so that a
 * slow client holds up nobody else.  It ends, and its connections with
 * it, on SIGTERM and when the node's end of the channel closes.
 *
 * The settings, one per line:
 *
 *   cairn-sshd 1
 *   log text|json LEVEL NOTIME
 *   log_time LAYOUT             (logging.timestamp_format; optional)
 *   listen HOST|* PORT
 *   host_key PATH
 *   key USER TYPE BASE64        (any number)
 *   end
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "helper.h"
#include "log.h"

#define EXIT_SETTINGS 2 /* the node's settings could not be used */
#define EXIT_LISTEN 3
#define SETTINGS_MAX (4u << 20)

struct kid {
	pid_t pid;
	char peer[64];
};

static struct kid kids[HELPER_MAX_CONNS];
static size_t nkids;

static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_msg(LOG_LVL_ERROR, "sshd: %s", buf);
	exit(EXIT_SETTINGS);
}

static char *
read_settings(size_t *len)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap), *nb;
	ssize_t r;

	if (b == NULL)
		return NULL;
	for (;;) {
		if (n + 1 >= cap) {
			if (cap >= SETTINGS_MAX ||
			    (nb = realloc(b, cap * 2)) == NULL) {
				free(b);
				return NULL;
			}
			b = nb;
			cap *= 2;
		}
		r = read(HELPER_SETTINGS_FD, b + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(b);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	b[n] = '\0';
	*len = n;
	close(HELPER_SETTINGS_FD);
	return b;
}

static void
set_log(char *args)
{
	char fmt[8], lvl[16];
	enum log_format f = LOG_FMT_TEXT;
	enum log_level l = LOG_LVL_INFO;
	int notime = 0;

	if (sscanf(args, "%7s %15s %d", fmt, lvl, &notime) != 3 ||
	    log_format_parse(fmt, &f) != 0 || log_level_parse(lvl, &l) != 0)
		die("bad log settings: %s", args);
	log_setup(stdout, l, f);
	(void)log_setup_time(notime != 0, NULL);
}

static void
add_key(struct settings *set, char *args)
{
	char *user = args, *type, *b64, *sp;
	struct authkey *k;
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL;
	struct log_ev ev;

	if ((sp = strchr(user, ' ')) == NULL)
		die("bad key line");
	*sp = '\0';
	type = sp + 1;
	if ((sp = strchr(type, ' ')) == NULL)
		die("bad key line");
	*sp = '\0';
	b64 = sp + 1;
	if (strlen(user) > HELPER_USER_MAX)
		die("user name too long");
	if (ssh_pki_import_pubkey_base64(
	        b64, ssh_key_type_from_name(type), &key) != SSH_OK) {
		log_msg(LOG_LVL_WARN,
		    "sshd: Failed to authorize key: user=%s type=%s (not "
		    "usable by libssh)",
		    user, type);
		return;
	}
	if ((k = reallocarray(set->keys, set->nkeys + 1, sizeof(*k))) == NULL)
		die("out of memory");
	set->keys = k;
	k = &set->keys[set->nkeys++];
	snprintf(k->user, sizeof(k->user), "%s", user);
	k->key = key;
	if (ssh_get_publickey_hash(
	        key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == SSH_OK)
		fp = ssh_get_fingerprint_hash(
		    SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	if (log_ev_begin(&ev, LOG_LVL_INFO, "Authorized ssh key")) {
		log_ev_str(&ev, "subsystem", "sshd");
		log_ev_str(&ev, "sshUser", user);
		log_ev_str(&ev, "sshFingerprint", fp != NULL ? fp : "?");
		log_ev_end(&ev);
	}
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
}

static void
settings_free(struct settings *set)
{
	size_t i;

	for (i = 0; i < set->nkeys; i++)
		ssh_key_free(set->keys[i].key);
	free(set->keys);
	set->keys = NULL;
	set->nkeys = 0;
}

static void
parse_settings(struct settings *set)
{
	char *text, *line, *next, *arg;
	size_t len;
	bool end = false;
	int n = 0;

	if ((text = read_settings(&len)) == NULL)
		die("cannot read the settings: %s", strerror(errno));
	for (line = text; line != NULL && *line != '\0'; line = next, n++) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((arg = strchr(line, ' ')) != NULL)
			*arg++ = '\0';
		else
			arg = line + strlen(line);
		if (n == 0) {
			if (strcmp(line, "cairn-sshd") != 0 ||
			    strcmp(arg, "1") != 0)
				die("settings of another version");
		} else if (strcmp(line, "log") == 0) {
			set_log(arg);
		} else if (strcmp(line, "log_time") == 0) {
			(void)log_setup_time(false, arg);
		} else if (strcmp(line, "listen") == 0) {
			unsigned port;

			if (sscanf(arg, "%63s %u", set->host, &port) != 2 ||
			    port == 0 || port > 65535)
				die("bad listen settings");
			set->port = (uint16_t)port;
		} else if (strcmp(line, "host_key") == 0) {
			snprintf(
			    set->host_key, sizeof(set->host_key), "%s", arg);
		} else if (strcmp(line, "key") == 0) {
			add_key(set, arg);
		} else if (strcmp(line, "end") == 0) {
			end = true;
			break;
		}
	}
	free(text);
	if (!end || set->port == 0 || *set->host_key == '\0')
		die("incomplete settings");
	if (set->nkeys == 0)
		log_info("sshd: no ssh users to authorize");
}

/* The listening socket, non-blocking; "*" is every address, IPv6 and
 * IPv4 where the kernel has IPv6. */
static int
listen_on(const struct settings *set)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	int fd, on = 1, off = 0, fam;

	memset(&ss, 0, sizeof(ss));
	if (strcmp(set->host, "*") == 0) {
		fam = AF_INET6;
		s6->sin6_addr = in6addr_any;
	} else if (inet_pton(AF_INET, set->host, &s4->sin_addr) == 1) {
		fam = AF_INET;
	} else if (inet_pton(AF_INET6, set->host, &s6->sin6_addr) == 1) {
		fam = AF_INET6;
	} else {
		errno = EINVAL;
		return -1;
	}
	fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 && errno == EAFNOSUPPORT && strcmp(set->host, "*") == 0) {
		fam = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	}
	if (fd < 0)
		return -1;
	ss.ss_family = (sa_family_t)fam;
	if (fam == AF_INET) {
		s4->sin_port = htons(set->port);
		sl = sizeof(*s4);
	} else {
		s6->sin6_port = htons(set->port);
		sl = sizeof(*s6);
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		    strcmp(set->host, "*") == 0 ? &off : &on, sizeof(int));
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 16) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void
peer_name(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s6->sin6_port));
	} else {
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	}
}

static void
reap(void)
{
	struct log_ev ev;
	size_t i;
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < nkids && kids[i].pid != pid; i++)
			;
		if (i == nkids)
			continue;
		if (WIFEXITED(st) && WEXITSTATUS(st) == HELPER_EXIT_GRACE &&
		    log_ev_begin(&ev, LOG_LVL_WARN, "failed to handshake")) {
			log_ev_str(&ev, "subsystem", "sshd");
			log_ev_err(&ev, "no login within the grace time");
			log_ev_str(&ev, "remoteAddress", kids[i].peer);
			log_ev_end(&ev);
		}
		kids[i] = kids[--nkids];
	}
}

static void
on_grace(int sig)
{
	(void)sig;
	_exit(HELPER_EXIT_GRACE);
}

static void
on_term(int sig)
{
	(void)sig;
	conn_ending = 1;
}

/* The process of one connection: it ends with its parent (SIGTERM:
 * after the command running), and within the grace time unless it logs
 * in (conn.c stops the alarm). */
static void __attribute__((noreturn)) serve(
    struct settings *set, ssh_bind bind, int fd, const char *peer, pid_t parent)
{
	struct sigaction sa;
	sigset_t none;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&none);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGALRM, on_grace);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
		_exit(1);
	alarm(HELPER_GRACE_S);
	rc = conn_serve(set, bind, fd, peer);
	ssh_bind_free(bind);
	settings_free(set);
	ssh_finalize();
	exit(rc);
}

static void
stop_kids(void)
{
	size_t i;
	int tries;

	for (i = 0; i < nkids; i++)
		kill(kids[i].pid, SIGTERM);
	for (tries = 0; tries < 40 && nkids > 0; tries++) {
		usleep(50000);
		reap();
	}
	for (i = 0; i < nkids; i++)
		kill(kids[i].pid, SIGKILL);
}

int
main(int argc, char **argv)
{
	struct settings set;
	struct sockaddr_storage ss;
	struct signalfd_siginfo si;
	struct pollfd p[3];
	struct log_ev ev;
	socklen_t sl;
	ssh_bind bind = NULL;
	ssh_key hk = NULL;
	sigset_t mask;
	bool no = false, quit = false;
	char peer[64], buf[96];
	pid_t pid, self = getpid();
	int lfd, sfd, fd, verbosity = SSH_LOG_NOLOG;

	(void)argv;
	memset(&set, 0, sizeof(set));
	log_setup(stdout, LOG_LVL_INFO, LOG_FMT_TEXT);
	if (argc != 1 || fcntl(HELPER_CHAN_FD, F_GETFD) < 0 ||
	    fcntl(HELPER_SETTINGS_FD, F_GETFD) < 0) {
		fprintf(stderr, "cairn-sshd: run by cairn(8) only, for its "
		                "sshd section\n");
		return EXIT_SETTINGS;
	}
	parse_settings(&set);
	ssh_init();
	ssh_set_log_level(SSH_LOG_NOLOG);
	if (ssh_pki_import_privkey_file(set.host_key, NULL, NULL, NULL, &hk) !=
	    SSH_OK)
		die("error while adding sshd.host_key: failed to parse private "
		    "key %s",
		    set.host_key);
	if ((bind = ssh_bind_new()) == NULL ||
	    ssh_bind_options_set(bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) !=
	        SSH_OK ||
	    ssh_bind_options_set(
	        bind, SSH_BIND_OPTIONS_LOG_VERBOSITY, &verbosity) != SSH_OK ||
	    ssh_bind_options_set(bind, SSH_BIND_OPTIONS_BANNER, "cairn") !=
	        SSH_OK ||
	    ssh_bind_options_set(bind, SSH_BIND_OPTIONS_IMPORT_KEY, hk) !=
	        SSH_OK)
		die("cannot set up libssh");
	if ((lfd = listen_on(&set)) < 0) {
		log_msg(LOG_LVL_ERROR, "sshd: cannot listen on %s port %u: %s",
		    set.host, (unsigned)set.port, strerror(errno));
		return EXIT_LISTEN;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		die("signalfd: %s", strerror(errno));
	if (strcmp(set.host, "*") == 0)
		snprintf(buf, sizeof(buf), ":%u", (unsigned)set.port);
	else if (strchr(set.host, ':') != NULL)
		snprintf(
		    buf, sizeof(buf), "[%s]:%u", set.host, (unsigned)set.port);
	else
		snprintf(
		    buf, sizeof(buf), "%s:%u", set.host, (unsigned)set.port);
	if (log_ev_begin(&ev, LOG_LVL_INFO, "SSH server is listening")) {
		log_ev_str(&ev, "subsystem", "sshd");
		log_ev_str(&ev, "sshListener", buf);
		log_ev_end(&ev);
	}
	while (!quit) {
		p[0].fd = sfd;
		p[0].events = POLLIN;
		p[1].fd = HELPER_CHAN_FD;
		p[1].events = POLLIN;
		p[2].fd = lfd;
		p[2].events = nkids < HELPER_MAX_CONNS ? POLLIN : 0;
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (p[0].revents & POLLIN) {
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				if (si.ssi_signo != SIGCHLD)
					quit = true;
			reap();
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(
			    HELPER_CHAN_FD, buf, sizeof(buf), MSG_DONTWAIT);

			if (n == 0 ||
			    (n < 0 && errno != EAGAIN && errno != EINTR)) {
				log_info("sshd: the node is gone, stopping");
				quit = true;
			}
		}
		if (quit || !(p[2].revents & POLLIN))
			continue;
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (fd < 0)
			continue; /* EAGAIN, or the client gave up */
		peer_name(&ss, peer, sizeof(peer));
		if ((pid = fork()) < 0) {
			log_warn("sshd: fork");
			close(fd);
			continue;
		}
		if (pid == 0) {
			close(lfd);
			close(sfd);
			serve(&set, bind, fd, peer, self);
		}
		close(fd);
		kids[nkids].pid = pid;
		snprintf(
		    kids[nkids].peer, sizeof(kids[nkids].peer), "%s", peer);
		nkids++;
	}
	close(lfd);
	stop_kids();
	ssh_bind_free(bind);
	settings_free(&set);
	ssh_finalize();
	log_info("SSH server stopped listening");
	return 0;
}
