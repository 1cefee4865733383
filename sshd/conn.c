/*
 * sshd/conn.c: one SSH connection (helper.h), in its own process.
 * libssh's server callbacks: public keys only (the methods offered are
 * "publickey"; password, keyboard-interactive and none are refused by
 * libssh's default answer), compared with the keys configured for the
 * user name given; session channels only, with pty-req, shell, exec and
 * window-change accepted and every other request (env, x11, agent,
 * subsystems, port forwarding) refused.
 *
 * As in Nebula 1.6.1: exec runs one command and sends exit-status 0
 * whatever the command's outcome (1 only when the node could not be
 * asked); a shell prompts "USER@nebula > " and runs a command per line,
 * an empty line being "help".  The commands, their output and their
 * error texts are the node's (node/ctl.h); we add the prompt, and
 * "logout" (also "exit", "quit") ends a shell.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/callbacks.h>

#include "helper.h"
#include "log.h"

#define MAX_AUTH_TRIES 10
#define MAX_CHANNELS 8
#define IN_MAX (1u << 20) /* input buffered per channel */

enum mode { M_NEW, M_EXEC, M_SHELL };

volatile sig_atomic_t conn_ending;

struct conn;

struct chan {
	struct conn *c;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb;
	enum mode mode;
	bool pty, eof, closed, done, prompted;
	char *cmd; /* exec */
	char *in;  /* input not yet taken by the line editor */
	size_t inlen, incap;
	struct term term;
	struct chan *next;
};

struct conn {
	const struct settings *set;
	ssh_session s;
	const char *peer;
	char user[HELPER_USER_MAX * 4 + 1]; /* sanitised, for logs */
	char prompt[HELPER_USER_MAX + 16];
	char fp[128];   /* the key that logged in */
	char fail[512]; /* why the last try failed */
	bool authed, kick;
	int tries;
	struct chan *chans;
	size_t nchans;
};

static int
chan_write(struct chan *k, const char *p, size_t len)
{
	size_t i, start = 0;

	if (k->closed || k->done)
		return -1;
	if (!k->pty)
		return ssh_channel_write(k->ch, p, (uint32_t)len) < 0 ? -1 : 0;
	for (i = 0; i < len; i++) { /* a terminal wants "\r\n" */
		if (p[i] != '\n')
			continue;
		if ((i > start && ssh_channel_write(k->ch, p + start,
		                      (uint32_t)(i - start)) < 0) ||
		    ssh_channel_write(k->ch, "\r\n", 2) < 0)
			return -1;
		start = i + 1;
	}
	if (len > start &&
	    ssh_channel_write(k->ch, p + start, (uint32_t)(len - start)) < 0)
		return -1;
	return 0;
}

static int
chan_puts(struct chan *k, const char *s)
{
	return chan_write(k, s, strlen(s));
}

static int
emit(void *arg, const char *p, size_t len)
{
	return chan_write(arg, p, len);
}

/* The end of a channel: its exit status, EOF, close. */
static void
finish(struct chan *k, int status)
{
	if (k->done)
		return;
	if (!k->closed) {
		ssh_channel_request_send_exit_status(k->ch, status);
		ssh_channel_send_eof(k->ch);
		ssh_channel_close(k->ch);
	}
	k->done = true;
}

/* Run one command line; the exit status for exec. */
static int
run_line(struct chan *k, const char *line)
{
	char *buf, *argv[CTL_MAX_ARGS + 2], help[] = "help";
	enum ctl_status st;
	const char *why = NULL;
	struct log_ev ev;
	sigset_t term, old;
	int argc, rc = 0;

	if ((buf = strdup(line)) == NULL) {
		chan_puts(k, "out of memory\n");
		return 1;
	}
	if ((argc = split_args(buf, argv, CTL_MAX_ARGS + 1, &why)) < 0) {
		chan_puts(k, why);
		chan_puts(k, "\n");
		free(buf);
		return 0;
	}
	if (argc == 0) { /* as Nebula: the list of commands */
		argv[0] = help;
		argv[1] = NULL;
		argc = 1;
	}
	if (log_ev_begin(&ev, LOG_LVL_DEBUG, "ssh command")) {
		log_ev_str(&ev, "subsystem", "sshd");
		log_ev_str(&ev, "sshUser", k->c->user);
		log_ev_peer(&ev, "command", line, strlen(line));
		log_ev_end(&ev);
	}
	/* SIGTERM waits until the answer is out (reload may be what
	 * stops us) */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old);
	if (node_call(argc, argv, emit, k, &st, &why) != 0) {
		chan_puts(k, why);
		chan_puts(k, "\n");
		rc = 1;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(buf);
	return rc;
}

static bool
is_logout(const char *line)
{
	char buf[16];

	if (sscanf(line, " %15s", buf) != 1)
		return false;
	if (strcmp(buf, "logout") != 0 && strcmp(buf, "exit") != 0 &&
	    strcmp(buf, "quit") != 0)
		return false;
	line += strspn(line, " \t");
	line += strlen(buf);
	return line[strspn(line, " \t")] == '\0';
}

static void
goodbye(struct chan *k)
{
	chan_puts(k, "Goodbye\n");
	finish(k, 0);
}

/* A shell channel: take what came in, line by line. */
static void
shell_service(struct chan *k)
{
	enum term_ev ev;
	struct sbuf echo;
	size_t used;

	if (!k->prompted) {
		k->prompted = true;
		if (chan_puts(k, k->c->prompt) != 0)
			return;
	}
	while (!k->done && k->inlen > 0) {
		sbuf_init(&echo);
		used = term_feed(&k->term, k->in, k->inlen, &echo, &ev);
		memmove(k->in, k->in + used, k->inlen - used);
		k->inlen -= used;
		if (echo.len > 0)
			(void)ssh_channel_write(
			    k->ch, echo.s, (uint32_t)echo.len);
		sbuf_free(&echo);
		switch (ev) {
		case TERM_NONE:
			break;
		case TERM_LINE:
			if (is_logout(k->term.line)) {
				goodbye(k);
				return;
			}
			run_line(k, k->term.line);
			k->term.len = 0;
			chan_puts(k, k->c->prompt);
			break;
		case TERM_INTR:
			chan_puts(k, k->c->prompt);
			break;
		case TERM_EOF:
			goodbye(k);
			return;
		}
	}
	if (k->eof && !k->done) {
		/* the client's input ended: a last line without its
		 * newline still runs */
		if (!k->pty && k->term.len > 0) {
			k->term.line[k->term.len] = '\0';
			run_line(k, k->term.line);
			k->term.len = 0;
		}
		finish(k, 0);
	}
}

static void
service(struct chan *k)
{
	if (k->done || k->closed)
		return;
	switch (k->mode) {
	case M_NEW:
		break;
	case M_EXEC:
		finish(k, run_line(k, k->cmd));
		break;
	case M_SHELL:
		shell_service(k);
		break;
	}
}

/* ---- libssh callbacks ----------------------------------------------- */

static int
on_data(ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr,
    void *arg)
{
	struct chan *k = arg;
	size_t cap;
	char *n;

	(void)s;
	(void)ch;
	(void)is_stderr;
	if (k->mode != M_SHELL || k->done)
		return (int)len; /* exec takes no input: dropped */
	if (k->inlen + len > IN_MAX) {
		k->eof = true; /* too much unread: the session ends */
		return (int)len;
	}
	if (k->inlen + len > k->incap) {
		cap = k->incap == 0 ? 4096 : k->incap;
		while (cap < k->inlen + len)
			cap *= 2;
		if ((n = realloc(k->in, cap)) == NULL)
			return 0;
		k->in = n;
		k->incap = cap;
	}
	memcpy(k->in + k->inlen, data, len);
	k->inlen += len;
	return (int)len;
}

static void
on_eof(ssh_session s, ssh_channel ch, void *arg)
{
	(void)s;
	(void)ch;
	((struct chan *)arg)->eof = true;
}

static void
on_close(ssh_session s, ssh_channel ch, void *arg)
{
	(void)s;
	(void)ch;
	((struct chan *)arg)->closed = true;
}

static int
on_pty(ssh_session s, ssh_channel ch, const char *term, int w, int h, int pw,
    int ph, void *arg)
{
	struct chan *k = arg;

	(void)s;
	(void)ch;
	(void)term;
	(void)w;
	(void)h;
	(void)pw;
	(void)ph;
	if (k->mode != M_NEW)
		return -1;
	k->pty = true;
	return 0;
}

static int
on_window(
    ssh_session s, ssh_channel ch, int w, int h, int pw, int ph, void *arg)
{
	(void)s;
	(void)ch;
	(void)w;
	(void)h;
	(void)pw;
	(void)ph;
	(void)arg;
	return 0;
}

static int
on_shell(ssh_session s, ssh_channel ch, void *arg)
{
	struct chan *k = arg;

	(void)s;
	(void)ch;
	if (k->mode != M_NEW)
		return 1;
	k->mode = M_SHELL;
	term_init(&k->term, k->pty, k->c->prompt);
	return 0;
}

static int
on_exec(ssh_session s, ssh_channel ch, const char *command, void *arg)
{
	struct chan *k = arg;

	(void)s;
	(void)ch;
	if (k->mode != M_NEW || (k->cmd = strdup(command)) == NULL)
		return 1;
	k->mode = M_EXEC; /* run after the reply, from the loop */
	return 0;
}

static ssh_channel
on_open(ssh_session s, void *arg)
{
	struct conn *c = arg;
	struct chan *k;

	if (!c->authed || c->nchans >= MAX_CHANNELS ||
	    (k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	if ((k->ch = ssh_channel_new(s)) == NULL) {
		free(k);
		return NULL;
	}
	k->c = c;
	k->cb.userdata = k;
	k->cb.channel_data_function = on_data;
	k->cb.channel_eof_function = on_eof;
	k->cb.channel_close_function = on_close;
	k->cb.channel_pty_request_function = on_pty;
	k->cb.channel_pty_window_change_function = on_window;
	k->cb.channel_shell_request_function = on_shell;
	k->cb.channel_exec_request_function = on_exec;
	ssh_callbacks_init(&k->cb);
	ssh_set_channel_callbacks(k->ch, &k->cb);
	k->next = c->chans;
	c->chans = k;
	c->nchans++;
	return k->ch;
}

static void
fingerprint(ssh_key key, char *buf, size_t len)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	snprintf(buf, len, "?");
	if (ssh_get_publickey_hash(
	        key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != SSH_OK)
		return;
	if ((fp = ssh_get_fingerprint_hash(
	         SSH_PUBLICKEY_HASH_SHA256, hash, hlen)) != NULL)
		snprintf(buf, len, "%s", fp);
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
}

/* As Nebula's matchPubKey: the user must be configured, and the key one
 * of that user's. */
static int
on_pubkey(ssh_session s, const char *user, struct ssh_key_struct *key,
    char state, void *arg)
{
	struct conn *c = arg;
	bool known = false, match = false;
	char fp[128];
	size_t i;

	(void)s;
	if (++c->tries > MAX_AUTH_TRIES)
		c->kick = true;
	log_sanitize(user, strlen(user), c->user, sizeof(c->user));
	for (i = 0; i < c->set->nkeys; i++) {
		if (strcmp(c->set->keys[i].user, user) != 0)
			continue;
		known = true;
		if (ssh_key_cmp(c->set->keys[i].key, key, SSH_KEY_CMP_PUBLIC) ==
		    0)
			match = true;
	}
	fingerprint(key, fp, sizeof(fp));
	if (!known) {
		snprintf(c->fail, sizeof(c->fail), "unknown user %s", c->user);
		return SSH_AUTH_DENIED;
	}
	if (!match) {
		snprintf(c->fail, sizeof(c->fail),
		    "unknown public key for %s (%s)", c->user, fp);
		return SSH_AUTH_DENIED;
	}
	if (c->kick)
		return SSH_AUTH_DENIED;
	if (state == SSH_PUBLICKEY_STATE_NONE)
		return SSH_AUTH_SUCCESS; /* a probe: "this key would do" */
	if (state != SSH_PUBLICKEY_STATE_VALID) {
		snprintf(c->fail, sizeof(c->fail), "bad signature for %s (%s)",
		    c->user, fp);
		return SSH_AUTH_DENIED;
	}
	c->authed = true;
	snprintf(c->fp, sizeof(c->fp), "%s", fp);
	snprintf(c->prompt, sizeof(c->prompt), "%s@nebula > ", user);
	return SSH_AUTH_SUCCESS;
}

static void
log_fail(const struct conn *c, const char *err)
{
	struct log_ev ev;

	if (!log_ev_begin(&ev, LOG_LVL_WARN, "failed to handshake"))
		return;
	log_ev_str(&ev, "subsystem", "sshd");
	log_ev_err(&ev, err);
	log_ev_str(&ev, "remoteAddress", c->peer);
	if (*c->user != '\0')
		log_ev_str(&ev, "sshUser", c->user);
	log_ev_end(&ev);
}

static void
free_chan(struct chan *k)
{
	if (!k->done && !k->closed)
		ssh_channel_close(k->ch);
	ssh_remove_channel_callbacks(k->ch, &k->cb);
	ssh_channel_free(k->ch);
	free(k->cmd);
	free(k->in);
	free(k);
}

int
conn_serve(const struct settings *set, ssh_bind bind, int fd, const char *peer)
{
	struct ssh_server_callbacks_struct cb;
	struct conn c;
	struct chan **kp, *k;
	struct log_ev ev;
	ssh_event loop = NULL;
	bool logged = false;
	int rc = 0, i;

	memset(&c, 0, sizeof(c));
	c.set = set;
	c.peer = peer;
	if ((c.s = ssh_new()) == NULL)
		return 1;
	memset(&cb, 0, sizeof(cb));
	cb.userdata = &c;
	cb.auth_pubkey_function = on_pubkey;
	cb.channel_open_request_session_function = on_open;
	ssh_callbacks_init(&cb);
	if (ssh_bind_accept_fd(bind, c.s, fd) != SSH_OK) {
		log_fail(&c, ssh_get_error(bind));
		ssh_free(c.s);
		return 1;
	}
	ssh_set_server_callbacks(c.s, &cb);
	ssh_set_auth_methods(c.s, SSH_AUTH_METHOD_PUBLICKEY);
	if (ssh_handle_key_exchange(c.s) != SSH_OK) {
		log_fail(&c, ssh_get_error(c.s));
		ssh_disconnect(c.s);
		ssh_free(c.s);
		return 1;
	}
	if ((loop = ssh_event_new()) == NULL ||
	    ssh_event_add_session(loop, c.s) != SSH_OK) {
		rc = 1;
		goto out;
	}
	while (!conn_ending) {
		if (ssh_event_dopoll(loop, 1000) == SSH_ERROR)
			break;
		if (c.kick || !ssh_is_connected(c.s))
			break;
		if (c.authed && !logged) {
			logged = true;
			alarm(0);
			if (log_ev_begin(
			        &ev, LOG_LVL_INFO, "ssh user logged in")) {
				log_ev_str(&ev, "subsystem", "sshd");
				log_ev_str(&ev, "sshUser", c.user);
				log_ev_str(&ev, "remoteAddress", c.peer);
				log_ev_str(&ev, "sshFingerprint", c.fp);
				log_ev_end(&ev);
			}
		}
		for (kp = &c.chans; (k = *kp) != NULL;) {
			service(k);
			if (k->done || k->closed) {
				*kp = k->next;
				c.nchans--;
				free_chan(k);
			} else {
				kp = &k->next;
			}
		}
	}
out:
	if (!c.authed)
		log_fail(&c, *c.fail != '\0' ? c.fail
		                             : "the client left before logging "
		                               "in");
	if (conn_ending && loop != NULL) {
		for (k = c.chans; k != NULL; k = k->next)
			if (k->mode == M_SHELL && !k->done && !k->closed) {
				chan_puts(k, "\nThe SSH server is stopping or "
				             "restarting: goodbye\n");
				finish(k, 0);
			}
		/* a second for the client to take it all and leave */
		for (i = 0; i < 10 && ssh_is_connected(c.s); i++)
			if (ssh_event_dopoll(loop, 100) == SSH_ERROR)
				break;
	}
	while ((k = c.chans) != NULL) {
		c.chans = k->next;
		free_chan(k);
	}
	if (loop != NULL) {
		ssh_event_remove_session(loop, c.s);
		ssh_event_free(loop);
	}
	ssh_disconnect(c.s);
	ssh_free(c.s);
	return rc;
}
