/*
 * node/ctl.h: the control socket (lib/ctlproto.h, version 1) and the
 * commands it serves (ctlcmd.c), shared with the sshd helper (sshd.h),
 * whose sessions reach them through ctl_adopt().
 *
 * Served on the node's event loop: a command runs to completion there
 * (each is bounded work over the node's tables), its whole answer is
 * queued on the connection, and the loop goes on.  A client that sends
 * nothing for CTL_IDLE_S seconds, or leaves an answer unread for as long,
 * is dropped; at most CTL_MAX_CLIENTS connections at once (more are
 * closed at accept), so a slow or dead client holds no more than its own
 * buffers.
 */
#ifndef NODE_CTL_H
#define NODE_CTL_H

#include <stdbool.h>

#include "ctlproto.h"
#include "sbuf.h"

struct node;
struct ctl;

#define CTL_MAX_CLIENTS 16
#define CTL_IDLE_S 30

/* The control socket of n->cfg (control.*), listening; or, with
 * control.enabled false, a server with no socket (ctl_adopt still
 * works).  0, or an error logged and returned. */
int ctl_start(struct node *n, struct ctl **out);
void ctl_free(struct ctl *c); /* NULL-safe; closes every connection */
/* Serve the protocol on fd, a connected stream socket the server owns
 * from the call on (closed on error too).  0, VPN_ERR_RANGE (too many
 * clients) or VPN_ERR_NOMEM. */
int ctl_adopt(struct node *n, int fd);

/* Run one command (argv[0] its name) and append its answer, human or
 * -json as the arguments say, to out.  The status for the response. */
enum ctl_status ctl_run(struct node *n, int argc, char **argv,
    struct sbuf *out);
/* What the commands keep between calls (log-level's timer): freed. */
void ctl_cleanup(void);

#endif
