/*
 * sshd/helper.h: cairn-sshd, the node's SSH server for the sshd section
 * (node/sshd.h has the design and the node's side).
 *
 *   main.c  the settings from the node, listening, a process per
 *           connection (at most HELPER_MAX_CONNS), the end when the
 *           node goes
 *   conn.c  one connection, with libssh: public key authentication,
 *           session channels, exec and shell requests
 *   term.c  the shell's line editor, and a line split into arguments
 *   call.c  one command run on the node: a new socket pair, one end
 *           sent over the channel, the control protocol on the other
 */
#ifndef SSHD_HELPER_H
#define SSHD_HELPER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "ctlproto.h"
#include "sbuf.h"

#define HELPER_CHAN_FD 3     /* the node's channel: SOCK_SEQPACKET */
#define HELPER_SETTINGS_FD 4 /* the settings, read once */
#define HELPER_MAX_CONNS 8   /* connections served at once */
#define HELPER_GRACE_S 30    /* from accept to logged in */
#define HELPER_EXIT_GRACE 3  /* a connection's exit status: grace over */
#define HELPER_USER_MAX 64

struct authkey {
	char user[HELPER_USER_MAX + 1];
	ssh_key key;
};

struct settings {
	char host[64]; /* numeric; "*": every address */
	uint16_t port;
	char host_key[1024];
	struct authkey *keys;
	size_t nkeys;
};

/* conn.c: serve the connection on fd (its peer's address in peer) and
 * return when it is over: the exit status of its process.  Once
 * conn_ending is set (SIGTERM: the helper stops or restarts), the command
 * running finishes, its output goes out, and the sessions end. */
extern volatile sig_atomic_t conn_ending;
int conn_serve(
    const struct settings *set, ssh_bind bind, int fd, const char *peer);

/* call.c: run argv on the node.  Its answer's body goes to emit in
 * pieces (a non-zero return stops the copy: the client is gone).  0
 * with *st, or -1 with *why (static text) when the node could not be
 * asked or did not answer in full. */
typedef int (*emit_fn)(void *arg, const char *p, size_t len);
int node_call(int argc, char **argv, emit_fn emit, void *arg,
    enum ctl_status *st, const char **why);

/* term.c: a line editor for a session with a terminal (pty) or a plain
 * stream of lines (no pty: no echo, lines end at '\n'). */
#define TERM_LINE_MAX 4096
#define TERM_HISTORY 32

enum term_ev {
	TERM_NONE, /* all input taken, no line yet */
	TERM_LINE, /* term->line holds a whole line */
	TERM_INTR, /* ^C: the line was dropped */
	TERM_EOF,  /* ^D on an empty line */
};

struct term {
	bool pty;
	const char *prompt;
	char line[TERM_LINE_MAX];
	size_t len;
	bool skip_lf; /* a '\r' ended the last line */
	int esc;      /* 0, 1: after ESC, 2: inside a CSI sequence */
	char hist[TERM_HISTORY][TERM_LINE_MAX];
	size_t nhist, hpos; /* hpos == nhist: not browsing */
};

void term_init(struct term *t, bool pty, const char *prompt);
/* Take input bytes until a line or an event: the count taken (the rest
 * is for the next call), *ev what happened; what to echo is appended to
 * echo.  After TERM_LINE, t->line is NUL-terminated until the next call. */
size_t term_feed(struct term *t, const char *in, size_t len, struct sbuf *echo,
    enum term_ev *ev);
/*
 * Split line in place into at most max arguments, as a shell would at its
 * simplest: blanks separate, '...' and "..." quote (\" and \\ inside
 * double quotes), a backslash outside quotes takes the next character as
 * it is.  argv has max + 1 slots (argv[count] is NULL).  The count, or -1
 * with *why (an open quote, too many).
 */
int split_args(char *line, char **argv, int max, const char **why);

#endif
