/*
 * lib/ctlproto.h: the control protocol, version 1, spoken on a node's
 * control socket (cairnctl(8)) and by the sshd helper.  A connection
 * carries any number of requests, each answered in turn:
 *
 *   request   "C1 " NARGS "\n", then NARGS times: LEN " " BYTES "\n"
 *   response  "R1 " STATUS " " LEN "\n", then LEN bytes of output
 *
 * NARGS, LEN and STATUS are decimal without sign or leading zeros (0 is
 * "0").  An argument is 1..CTL_MAX_ARG bytes, any but NUL ("\n"
 * included); a request is at most CTL_MAX_REQ bytes in all and has
 * 1..CTL_MAX_ARGS arguments, the first the command's name.  STATUS is a
 * ctl_status.  A server given a request of another version answers
 * "R1 3 ..." and closes; a client given a response of another version
 * stops.  No I/O here: parsers of bytes and builders of them.
 */
#ifndef VPN_CTLPROTO_H
#define VPN_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"

#define CTL_PROTO_VERSION 1
#define CTL_MAX_ARGS 32
#define CTL_MAX_ARG 1024
#define CTL_MAX_REQ 8192
#define CTL_MAX_BODY (64u << 20) /* the most a response carries */
#define CTL_HEAD_MAX 32          /* over the longest response header */

enum ctl_status {
	CTL_OK = 0,     /* done; the output is the answer */
	CTL_FAIL = 1,   /* the command failed; the output says why */
	CTL_USAGE = 2,  /* unknown command or bad arguments */
	CTL_BADREQ = 3, /* the request itself: version, framing, limits */
};

struct ctl_req {
	int argc;
	char *argv[CTL_MAX_ARGS + 1]; /* into buf, NUL-terminated; argv[argc]
	                                 is NULL */
	char buf[CTL_MAX_REQ];
};

/*
 * A request at the start of the len bytes at p (bytes after it are the
 * next request's).  > 0: a whole request of that many bytes, now in *req.
 * 0: not whole yet, and more bytes can still make it a valid request
 * within the limits; never once len >= CTL_MAX_REQ.  < 0: not a request,
 * and no more bytes will make it one (VPN_ERR_INVAL: version, framing,
 * syntax, a NUL byte; VPN_ERR_RANGE: over a limit), found as soon as
 * the bytes so far show it; *why says what, for the answer ("argument 3
 * longer than 1024 bytes", arguments counted from 1), in req->buf, so
 * valid until req is used again.  *why is NULL when >= 0; why may be
 * NULL.  req->argc is 0 unless > 0.
 */
int ctl_req_parse(const uint8_t *p, size_t len, struct ctl_req *req,
    const char **why);
/* The request for the strings argv[0..argc-1], appended to out: 0,
 * VPN_ERR_RANGE (no argument, too many, a NULL, empty or too long one,
 * over CTL_MAX_REQ) or VPN_ERR_NOMEM (also if out was already bad); out
 * is unchanged on error. */
int ctl_req_encode(int argc, char *const argv[], struct sbuf *out);

/* A response's header line, appended to out (sbuf_ok() tells).  The
 * caller keeps body_len <= CTL_MAX_BODY, or clients refuse the answer. */
void ctl_resp_head(struct sbuf *out, enum ctl_status status, size_t body_len);
/*
 * The header of a response at the start of the len bytes at p: > 0, its
 * length (the body follows), with *status and *body_len set; 0: not
 * whole yet, and more bytes can still make it valid (never once len >=
 * CTL_HEAD_MAX); < 0, VPN_ERR_INVAL (version, syntax) or VPN_ERR_RANGE
 * (a body over CTL_MAX_BODY or a status not in ctl_status), found as
 * soon as the bytes so far show it, with *why a static text saying what.
 * *status and *body_len are set only on > 0; *why is NULL when >= 0; why
 * may be NULL.
 */
int ctl_resp_parse(const uint8_t *p, size_t len, enum ctl_status *status,
    size_t *body_len, const char **why);

#endif
