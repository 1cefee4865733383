/*
 * node/notify.h: telling systemd how the daemon is doing, by the
 * sd_notify(3) protocol without libsystemd: one datagram of newline-
 * separated VAR=value lines per message, to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or an abstract name after '@'), as a unit of
 * Type=notify expects (config-examples/systemd/; ENVIRONMENT in
 * cairn(8)).
 *
 * Only node_run notifies: the in-process tests never call notify_init,
 * and every other function does nothing until it has been called.
 * Nothing here is fatal: a failure is logged at debug and forgotten.
 * $NOTIFY_SOCKET is left in the environment: the only child, the exit
 * node's nft(8), does not speak the protocol, and systemd ignores what
 * does not come from the main process (NotifyAccess=main); the socket
 * itself is close-on-exec.
 *
 * Owns: the socket and its address, process-wide as $NOTIFY_SOCKET is.
 */
#ifndef NODE_NOTIFY_H
#define NODE_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

/* Read $NOTIFY_SOCKET and open a socket for it: true when messages will
 * be sent; false when the variable is unset, empty or unusable (logged
 * at debug).  A second call starts over. */
bool notify_init(void);
/* Close the socket; the functions below do nothing again. */
void notify_close(void);

/* Send msg as one datagram: 0 when sent or when there is nowhere to send
 * it, -1 when sending failed (logged at debug).  The callers below
 * ignore the result. */
int notify_send(const char *msg);

/* "READY=1\nSTATUS=5 tunnels, 1 pending handshake": start-up done, or a
 * reload over (applied or refused). */
int notify_ready(size_t tunnels, size_t pending);
/* "RELOADING=1\nMONOTONIC_USEC=<CLOCK_MONOTONIC in µs>": before a
 * reload. */
int notify_reloading(void);
/* "STOPPING=1": SIGTERM or SIGINT, the shutdown begins. */
int notify_stopping(void);

#endif
