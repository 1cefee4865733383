/*
 * lib/ctlproto.c: the control protocol's parsers and builders
 * (ctlproto.h).  The parsers read untrusted bytes with a bounds-checked
 * cursor and say "need more" only while the bytes so far can still begin
 * a valid message: each limit is checked against the shortest message
 * that could follow from them.  Every verdict depends only on the bytes
 * taken before it, so a longer input reaches the same one at the same
 * place: an error stays the same error however many bytes follow.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctlproto.h"
#include "err.h"
#include "wire.h"

/* The shortest argument on the wire: "1 x\n". */
#define ARG_MIN_WIRE 4
/* Versions are read up to this, to name them in the error. */
#define VERSION_MAX 999999u

enum dec {
	DEC_OK,   /* the number and its terminator taken */
	DEC_MORE, /* the bytes end inside the number */
	DEC_OVER, /* the digits so far exceed the maximum */
	DEC_LONG, /* the digits so far and their value exceed room */
	DEC_ZERO, /* a first digit 0 where the number is at least 1 */
	DEC_BAD,  /* no digit, a leading zero, or a wrong terminator */
};

/* The byte at the cursor, or -1 at the end. */
static int
peek(const struct rd *r)
{
	return rd_left(r) > 0 ? r->p[r->off] : -1;
}

/*
 * A decimal number of at most max followed by term, at r's cursor,
 * without sign or leading zeros.  *v is the value of the digits taken
 * (on DEC_MORE, so far) and *nd their count.  Each digit is judged as
 * it is taken: DEC_OVER when the value passes max, DEC_LONG when the
 * count of digits plus the value passes room (a length whose bytes
 * cannot fit).  With min1, a first digit 0 is DEC_ZERO at once: "0" is
 * too small and "0N" malformed, whatever follows.
 */
static enum dec
dec_get(struct rd *r, uint32_t max, bool min1, size_t room, int term,
    uint32_t *v, size_t *nd)
{
	uint64_t n = 0;
	size_t k = 0;
	int c;

	for (;;) {
		*v = (uint32_t)n;
		*nd = k;
		if ((c = peek(r)) == -1)
			return DEC_MORE;
		if (c < '0' || c > '9')
			break;
		if (k == 0 && c == '0' && min1)
			return DEC_ZERO;
		if (k == 1 && n == 0)
			return DEC_BAD; /* a leading zero */
		n = n * 10 + (uint64_t)(c - '0');
		if (n > max)
			return DEC_OVER;
		(void)rd_u8(r);
		k++;
		if (n > room || k > room - n) {
			*v = (uint32_t)n;
			*nd = k;
			return DEC_LONG;
		}
	}
	if (k == 0 || c != term)
		return DEC_BAD;
	(void)rd_u8(r);
	return DEC_OK;
}

/* An error for ctl_req_parse: the reason goes into req->buf. */
static int __attribute__((format(printf, 4, 5)))
req_fail(struct ctl_req *req, const char **why, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(req->buf, sizeof(req->buf), fmt, ap);
	va_end(ap);
	if (why != NULL)
		*why = req->buf;
	return err;
}

static int
req_too_long(struct ctl_req *req, const char **why)
{
	return req_fail(req, why, VPN_ERR_RANGE, "request longer than %d bytes",
	    CTL_MAX_REQ);
}

/*
 * The bytes ran out.  The checks as bytes are taken keep the shortest
 * whole request within CTL_MAX_REQ, so the bytes parsed, which are all of
 * them up to CTL_MAX_REQ, are fewer: this cannot be reached with len >=
 * CTL_MAX_REQ, and is checked anyway.
 */
static int
req_more(struct ctl_req *req, const char **why, size_t len)
{
	if (len >= CTL_MAX_REQ)
		return req_too_long(req, why);
	return 0;
}

int
ctl_req_parse(
    const uint8_t *p, size_t len, struct ctl_req *req, const char **why)
{
	size_t start[CTL_MAX_ARGS], alen[CTL_MAX_ARGS], nd, rem, o;
	uint32_t ver, nargs, n, i;
	struct rd r;
	int c;

	req->argc = 0;
	req->argv[0] = NULL;
	if (why != NULL)
		*why = NULL;
	/* Nothing beyond CTL_MAX_REQ can belong to a request. */
	rd_init(&r, p, len < CTL_MAX_REQ ? len : CTL_MAX_REQ);

	if ((c = peek(&r)) == -1)
		return req_more(req, why, len);
	if (c != 'C')
		return req_fail(
		    req, why, VPN_ERR_INVAL, "not a control protocol request");
	(void)rd_u8(&r);
	switch (dec_get(&r, VERSION_MAX, true, SIZE_MAX, ' ', &ver, &nd)) {
	case DEC_OK:
		if (ver != CTL_PROTO_VERSION)
			return req_fail(req, why, VPN_ERR_INVAL,
			    "unsupported protocol version %u", ver);
		break;
	case DEC_MORE:
		if (nd == 0 || ver == CTL_PROTO_VERSION)
			return req_more(req, why, len);
		return req_fail(
		    req, why, VPN_ERR_INVAL, "unsupported protocol version");
	case DEC_OVER:
	case DEC_LONG:
	case DEC_ZERO:
		return req_fail(
		    req, why, VPN_ERR_INVAL, "unsupported protocol version");
	case DEC_BAD:
		return req_fail(
		    req, why, VPN_ERR_INVAL, "malformed protocol version");
	}

	/* 32 shortest arguments fit: the count needs no room. */
	switch (dec_get(&r, CTL_MAX_ARGS, true, SIZE_MAX, '\n', &nargs, &nd)) {
	case DEC_OK:
		break;
	case DEC_MORE:
		return req_more(req, why, len);
	case DEC_ZERO: /* "0\n", or "0N" with a leading zero */
		return req_fail(req, why, VPN_ERR_RANGE, "no arguments");
	case DEC_OVER:
	case DEC_LONG:
		return req_fail(req, why, VPN_ERR_RANGE,
		    "more than %d arguments", CTL_MAX_ARGS);
	case DEC_BAD:
		return req_fail(
		    req, why, VPN_ERR_INVAL, "malformed argument count");
	}

	for (i = 0; i < nargs; i++) {
		/* The shortest of the arguments after this one. */
		rem = (size_t)(nargs - i - 1) * ARG_MIN_WIRE;
		/* This one: LEN " " BYTES "\n", LEN's digits and value at most
		 * the room left.  The previous argument's check left room
		 * for this one's shortest form; the test guards the
		 * subtraction (r.off <= CTL_MAX_REQ). */
		if (ARG_MIN_WIRE + rem > CTL_MAX_REQ - r.off)
			return req_too_long(req, why);
		switch (dec_get(&r, CTL_MAX_ARG, true,
		    CTL_MAX_REQ - r.off - 2 - rem, ' ', &n, &nd)) {
		case DEC_OK:
			break;
		case DEC_MORE:
			return req_more(req, why, len);
		case DEC_ZERO:
			return req_fail(req, why, VPN_ERR_RANGE,
			    "argument %u is empty", i + 1);
		case DEC_OVER:
			return req_fail(req, why, VPN_ERR_RANGE,
			    "argument %u longer than %d bytes", i + 1,
			    CTL_MAX_ARG);
		case DEC_LONG:
			return req_too_long(req, why);
		case DEC_BAD:
			return req_fail(req, why, VPN_ERR_INVAL,
			    "malformed length of argument %u", i + 1);
		}
		/* Now r.off + n + 1 + rem <= CTL_MAX_REQ. */
		o = rd_left(&r) < n ? rd_left(&r) : n;
		if (memchr(r.p + r.off, '\0', o) != NULL)
			return req_fail(req, why, VPN_ERR_INVAL,
			    "argument %u holds a NUL byte", i + 1);
		if (o < n)
			return req_more(req, why, len);
		start[i] = r.off;
		alen[i] = n;
		(void)rd_take(&r, n);
		if ((c = peek(&r)) == -1)
			return req_more(req, why, len);
		if (c != '\n')
			return req_fail(req, why, VPN_ERR_INVAL,
			    "argument %u not followed by a newline", i + 1);
		(void)rd_u8(&r);
	}
	if (r.bad) /* cannot happen: every take was checked */
		return req_fail(req, why, VPN_ERR_INVAL, "malformed request");

	/*
	 * Each argument's bytes and NUL fit in its share of the request
	 * ("LEN BYTES\n" is longer), so all fit in buf.
	 */
	for (i = 0, o = 0; i < nargs; i++) {
		memcpy(req->buf + o, p + start[i], alen[i]);
		req->buf[o + alen[i]] = '\0';
		req->argv[i] = req->buf + o;
		o += alen[i] + 1;
	}
	req->argv[nargs] = NULL;
	req->argc = (int)nargs;
	return (int)r.off;
}

static size_t
ndigits(size_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

int
ctl_req_encode(int argc, char *const argv[], struct sbuf *out)
{
	char buf[CTL_MAX_REQ];
	size_t len, o;
	bool was_bad;
	int i, n;

	if (argc < 1 || argc > CTL_MAX_ARGS)
		return VPN_ERR_RANGE;
	n = snprintf(buf, sizeof(buf), "C%d %d\n", CTL_PROTO_VERSION, argc);
	o = (size_t)n;
	for (i = 0; i < argc; i++) {
		if (argv[i] == NULL)
			return VPN_ERR_RANGE;
		len = strnlen(argv[i], CTL_MAX_ARG + 1);
		if (len == 0 || len > CTL_MAX_ARG)
			return VPN_ERR_RANGE;
		if (ndigits(len) + 1 + len + 1 > sizeof(buf) - o)
			return VPN_ERR_RANGE;
		n = snprintf(buf + o, sizeof(buf) - o, "%zu ", len);
		o += (size_t)n;
		memcpy(buf + o, argv[i], len);
		o += len;
		buf[o++] = '\n';
	}
	/* sbuf_add() changes nothing but the sticky flag when it fails. */
	was_bad = out->bad;
	if (was_bad)
		return VPN_ERR_NOMEM;
	sbuf_add(out, buf, o);
	if (!sbuf_ok(out)) {
		out->bad = was_bad;
		return VPN_ERR_NOMEM;
	}
	return 0;
}

void
ctl_resp_head(struct sbuf *out, enum ctl_status status, size_t body_len)
{
	sbuf_printf(
	    out, "R%d %d %zu\n", CTL_PROTO_VERSION, (int)status, body_len);
}

int
ctl_resp_parse(const uint8_t *p, size_t len, enum ctl_status *status,
    size_t *body_len, const char **why)
{
	uint32_t ver, st, blen;
	const char *w = NULL;
	struct rd r;
	size_t nd;
	int c, err = VPN_ERR_INVAL;

	/* The longest header is far shorter than CTL_HEAD_MAX. */
	rd_init(&r, p, len < CTL_HEAD_MAX ? len : CTL_HEAD_MAX);
	if ((c = peek(&r)) == -1)
		goto more;
	if (c != 'R') {
		w = "not a control protocol response";
		goto out;
	}
	(void)rd_u8(&r);
	switch (dec_get(&r, VERSION_MAX, true, SIZE_MAX, ' ', &ver, &nd)) {
	case DEC_OK:
		if (ver == CTL_PROTO_VERSION)
			break;
		w = "unsupported protocol version";
		goto out;
	case DEC_MORE:
		if (nd == 0 || ver == CTL_PROTO_VERSION)
			goto more;
		w = "unsupported protocol version";
		goto out;
	case DEC_OVER:
	case DEC_LONG:
	case DEC_ZERO:
		w = "unsupported protocol version";
		goto out;
	case DEC_BAD:
		w = "malformed protocol version";
		goto out;
	}
	switch (dec_get(&r, CTL_BADREQ, false, SIZE_MAX, ' ', &st, &nd)) {
	case DEC_OK:
		break;
	case DEC_MORE:
	case DEC_ZERO: /* not with min1 false */
		goto more;
	case DEC_OVER:
	case DEC_LONG: /* not with room SIZE_MAX */
		err = VPN_ERR_RANGE;
		w = "unknown status";
		goto out;
	case DEC_BAD:
		w = "malformed status";
		goto out;
	}
	switch (dec_get(&r, CTL_MAX_BODY, false, SIZE_MAX, '\n', &blen, &nd)) {
	case DEC_OK:
		break;
	case DEC_MORE:
	case DEC_ZERO: /* not with min1 false */
		goto more;
	case DEC_OVER:
	case DEC_LONG: /* not with room SIZE_MAX */
		err = VPN_ERR_RANGE;
		w = "response body longer than CTL_MAX_BODY (64 MiB)";
		goto out;
	case DEC_BAD:
		w = "malformed body length";
		goto out;
	}
	if (r.bad) { /* cannot happen: every take was checked */
		w = "malformed response header";
		goto out;
	}
	*status = (enum ctl_status)st;
	*body_len = blen;
	if (why != NULL)
		*why = NULL;
	return (int)r.off;
more:
	if (len < CTL_HEAD_MAX) {
		if (why != NULL)
			*why = NULL;
		return 0;
	}
	err = VPN_ERR_RANGE; /* unreachable with the limits above */
	w = "response header too long";
out:
	if (why != NULL)
		*why = w;
	return err;
}
