/*
 * test/fuzz/fuzz_ctlproto.c: the control protocol's parsers (ctlproto.h),
 * on the bytes as a request and as a response header.  A request that
 * parses must hold 1..CTL_MAX_ARGS arguments of 1..CTL_MAX_ARG bytes
 * without NUL and re-encode to exactly the bytes consumed; each shorter
 * prefix of it must need more.  "Need more" must never come at
 * CTL_MAX_REQ bytes or past an error.  A response header must re-build
 * to the bytes consumed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"
#include "err.h"
#include "sbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ctl_req req, req2;

static void
check_request(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	struct sbuf b;
	size_t n, k;
	int rc, prev, i;

	rc = ctl_req_parse(data, size, &req, &why);
	/* One byte more changes nothing once the answer is known. */
	if (size > 0) {
		prev = ctl_req_parse(data, size - 1, &req2, NULL);
		if ((prev < 0 && rc != prev) || (prev > 0 && rc != prev))
			abort();
	}
	if (rc < 0) {
		if (why == NULL || *why == '\0' || req.argc != 0 ||
		    (rc != VPN_ERR_INVAL && rc != VPN_ERR_RANGE))
			abort();
		return;
	}
	if (why != NULL || (rc == 0 && size >= CTL_MAX_REQ))
		abort();
	if (rc == 0) {
		if (req.argc != 0)
			abort();
		return;
	}
	n = (size_t)rc;
	if (n > size || n > CTL_MAX_REQ || req.argc < 1 ||
	    req.argc > CTL_MAX_ARGS || req.argv[req.argc] != NULL)
		abort();
	for (i = 0; i < req.argc; i++) {
		size_t len = strlen(req.argv[i]);

		if (len < 1 || len > CTL_MAX_ARG || req.argv[i] < req.buf ||
		    req.argv[i] + len >= req.buf + sizeof(req.buf))
			abort();
	}
	sbuf_init(&b);
	if (ctl_req_encode(req.argc, req.argv, &b) != 0 || b.len != n ||
	    memcmp(b.s, data, n) != 0)
		abort();
	sbuf_free(&b);
	/* Each prefix needs more; cheap enough for the short ones. */
	if (n <= 256)
		for (k = 0; k < n; k++)
			if (ctl_req_parse(data, k, &req2, &why) != 0)
				abort();
}

static void
check_response(const uint8_t *data, size_t size)
{
	enum ctl_status st = CTL_OK, st2;
	const char *why = NULL;
	size_t blen = 0, blen2;
	struct sbuf b;
	int rc, prev;

	rc = ctl_resp_parse(data, size, &st, &blen, &why);
	if (size > 0) {
		prev = ctl_resp_parse(data, size - 1, &st2, &blen2, NULL);
		if ((prev < 0 && rc != prev) || (prev > 0 && rc != prev))
			abort();
	}
	if (rc < 0) {
		if (why == NULL || (rc != VPN_ERR_INVAL && rc != VPN_ERR_RANGE))
			abort();
		return;
	}
	if (why != NULL || (rc == 0 && size >= CTL_HEAD_MAX))
		abort();
	if (rc == 0)
		return;
	if ((size_t)rc > size || rc > CTL_HEAD_MAX || blen > CTL_MAX_BODY ||
	    (st != CTL_OK && st != CTL_FAIL && st != CTL_USAGE &&
	        st != CTL_BADREQ))
		abort();
	sbuf_init(&b);
	ctl_resp_head(&b, st, blen);
	if (!sbuf_ok(&b) || b.len != (size_t)rc || memcmp(b.s, data, b.len))
		abort();
	sbuf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_request(data, size);
	check_response(data, size);
	return 0;
}
