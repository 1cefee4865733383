/*
 * lib/ctlclient.h: the client side of the control protocol (ctlproto.h)
 * on a Unix stream socket, for cairnctl(8) and the tests: where the
 * sockets are, connecting, one request and its answer.  Each wait for
 * the server is bounded by a timeout in nanoseconds (0: none), counted
 * afresh at each wait, so a long answer that keeps coming is not cut
 * off.  Nothing is printed: the caller words the errors.
 */
#ifndef VPN_CTLCLIENT_H
#define VPN_CTLCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctlproto.h"
#include "sbuf.h"

/* Where nodes put their control sockets by default, as NAME.sock. */
#define CTLC_RUN_DIR "/run/cairn"

/* dir "/" name ".sock" into path[len]: 0; VPN_ERR_INVAL if name is
 * empty, "." or "..", or holds a '/'; VPN_ERR_RANGE if the path does not
 * fit in len or in a Unix socket address. */
int ctlc_sock_path(const char *dir, const char *name, char *path, size_t len);

/* The sockets named *.sock in dir, as names sorted and separated by
 * ", " appended to names: how many (0 or more); VPN_ERR_SYS (errno) if
 * dir cannot be read; VPN_ERR_NOMEM. */
int ctlc_find_socks(const char *dir, struct sbuf *names);

/* A connected socket to path in *fd (close-on-exec), the caller's:
 * 0; VPN_ERR_RANGE (path too long for a Unix socket); VPN_ERR_SYS with
 * errno, ETIMEDOUT if the server's backlog stayed full. */
int ctlc_connect(const char *path, int64_t timeout_ns, int *fd);

/* Send argv[0..argc-1] as one request on fd: 0; VPN_ERR_RANGE (over the
 * protocol's limits); VPN_ERR_NOMEM; VPN_ERR_SYS with errno, ETIMEDOUT
 * if the server took nothing for timeout_ns. */
int ctlc_send(int fd, int argc, char *const argv[], int64_t timeout_ns);

/*
 * Read a response header from fd, nothing past it: 0 with *status and
 * *body_len; VPN_ERR_SYS with errno (ETIMEDOUT: nothing came for
 * timeout_ns); VPN_ERR_TRUNCATED, the server closed the connection
 * first (*why says whether it had sent anything); VPN_ERR_INVAL or
 * VPN_ERR_RANGE, not a valid header (*why says what).  *why is static
 * text, NULL on 0 and VPN_ERR_SYS.
 */
int ctlc_recv_head(int fd, int64_t timeout_ns, enum ctl_status *status,
    size_t *body_len, const char **why);

/*
 * Copy body_len bytes from fd to out as they come, writing them whole
 * (out may be a pipe or a terminal; EINTR and short writes are retried):
 * 0; VPN_ERR_TRUNCATED, the server closed the connection first;
 * VPN_ERR_SYS with errno, *out_failed telling whether writing to out
 * failed or reading fd (ETIMEDOUT: nothing came for timeout_ns).
 * *copied says how many bytes reached out.
 */
int ctlc_copy_body(int fd, int64_t timeout_ns, size_t body_len, int out,
    size_t *copied, bool *out_failed);

#endif
