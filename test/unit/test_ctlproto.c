/*
 * test/unit/test_ctlproto.c: the control protocol's codec (ctlproto.h):
 * exact bytes, round trips, every limit at and over its edge, malformed
 * requests and response headers, and feeding byte by byte, each prefix
 * in a buffer of its own size so that ASan sees any read past it.
 */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"
#include "err.h"
#include "sbuf.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* A string literal and its length, NULs included; SU as bytes. */
#define S(x) x, sizeof(x) - 1
#define SU(x) (const uint8_t *)(x), sizeof(x) - 1

/* ctl_req_parse on a copy of p[0..n-1] that ends where the bytes end. */
static int
parse_exact(const uint8_t *p, size_t n, struct ctl_req *req, const char **why)
{
	uint8_t *c = malloc(n > 0 ? n : 1);
	int rc;

	assert_non_null(c);
	if (n > 0)
		memcpy(c, p, n);
	rc = ctl_req_parse(c, n, req, why);
	free(c);
	return rc;
}

static int
resp_exact(const uint8_t *p, size_t n, enum ctl_status *st, size_t *blen,
    const char **why)
{
	uint8_t *c = malloc(n > 0 ? n : 1);
	int rc;

	assert_non_null(c);
	if (n > 0)
		memcpy(c, p, n);
	rc = ctl_resp_parse(c, n, st, blen, why);
	free(c);
	return rc;
}

/* Every proper prefix of a whole request needs more; the whole is n. */
static void
feed_valid(const uint8_t *p, size_t n)
{
	struct ctl_req *req = malloc(sizeof(*req));
	const char *why = "x";
	size_t k;

	assert_non_null(req);
	for (k = 0; k < n; k++) {
		if (parse_exact(p, k, req, &why) != 0)
			fail_msg("prefix %zu of %zu: %s", k, n,
			    why != NULL ? why : "?");
		assert_null(why);
		assert_int_equal(req->argc, 0);
		assert_null(req->argv[0]);
	}
	assert_int_equal(parse_exact(p, n, req, &why), (int)n);
	assert_null(why);
	free(req);
}

/*
 * A bad request: prefixes need more until the first that shows the
 * fault, and from there on every prefix fails the same way; *at is that
 * prefix's length.  Returns the error of the whole, with its reason in
 * why[whylen].
 */
static int
feed_bad(const uint8_t *p, size_t n, size_t *at, char *why, size_t whylen)
{
	struct ctl_req *req = malloc(sizeof(*req));
	const char *w;
	int rc, first = 0;
	size_t k;

	assert_non_null(req);
	*at = n + 1;
	for (k = 0; k <= n; k++) {
		rc = parse_exact(p, k, req, &w);
		if (first == 0) {
			assert_true(rc <= 0);
			if (rc < 0) {
				first = rc;
				*at = k;
			}
		} else {
			assert_int_equal(rc, first);
		}
		if (rc < 0) {
			assert_non_null(w);
			assert_int_equal(req->argc, 0);
			snprintf(why, whylen, "%s", w);
		}
	}
	free(req);
	assert_true(first < 0);
	return first;
}

static void
encode_ok(int argc, char *const argv[], struct sbuf *b)
{
	sbuf_init(b);
	assert_int_equal(ctl_req_encode(argc, argv, b), 0);
	assert_true(sbuf_ok(b));
}

/* Encode, compare with want, parse back and compare the arguments. */
static void
round_trip(int argc, char *const argv[], const char *want)
{
	struct ctl_req *req = malloc(sizeof(*req));
	const char *why;
	struct sbuf b;
	int i;

	assert_non_null(req);
	encode_ok(argc, argv, &b);
	if (want != NULL) {
		assert_int_equal(b.len, strlen(want));
		assert_memory_equal(b.s, want, b.len);
	}
	assert_int_equal(
	    parse_exact((const uint8_t *)b.s, b.len, req, &why), (int)b.len);
	assert_int_equal(req->argc, argc);
	for (i = 0; i < argc; i++)
		assert_string_equal(req->argv[i], argv[i]);
	assert_null(req->argv[argc]);
	sbuf_free(&b);
	free(req);
}

static void
test_ctlproto_encode_exact_bytes(void **state)
{
	char *a1[] = {(char *)"show"};
	char *a3[] = {(char *)"peer", (char *)"10.42.0.12", (char *)"-json"};
	char *odd[] = {(char *)"a b", (char *)"\n", (char *)"C1 1\n",
	    (char *)"\xff\xfe\x01"};

	(void)state;
	round_trip(1, a1, "C1 1\n4 show\n");
	round_trip(3, a3, "C1 3\n4 peer\n10 10.42.0.12\n5 -json\n");
	/* Any byte but NUL, newlines and spaces included. */
	round_trip(4, odd, "C1 4\n3 a b\n1 \n\n5 C1 1\n\n3 \xff\xfe\x01\n");
}

static void
test_ctlproto_round_trip_every_byte(void **state)
{
	char *argv[CTL_MAX_ARGS];
	char bytes[255];
	int i;

	(void)state;
	for (i = 0; i < 255; i++)
		bytes[i] = (char)(i + 1);
	/* One argument of each byte value 1..255, then 255 bytes in one. */
	for (i = 1; i < 256; i++) {
		char one[2] = {(char)i, '\0'};

		argv[0] = one;
		round_trip(1, argv, NULL);
	}
	{
		char all[256];

		memcpy(all, bytes, 255);
		all[255] = '\0';
		argv[0] = (char *)"x";
		argv[1] = all;
		round_trip(2, argv, NULL);
	}
}

static void
test_ctlproto_args_limit(void **state)
{
	char *argv[CTL_MAX_ARGS + 2];
	struct sbuf b;
	int i;

	(void)state;
	for (i = 0; i < CTL_MAX_ARGS + 2; i++)
		argv[i] = (char *)"a";
	round_trip(CTL_MAX_ARGS, argv, NULL);
	sbuf_init(&b);
	assert_int_equal(
	    ctl_req_encode(CTL_MAX_ARGS + 1, argv, &b), VPN_ERR_RANGE);
	assert_int_equal(ctl_req_encode(0, argv, &b), VPN_ERR_RANGE);
	assert_int_equal(ctl_req_encode(-1, argv, &b), VPN_ERR_RANGE);
	assert_int_equal(b.len, 0);
	sbuf_free(&b);
}

static void
test_ctlproto_arg_length_limit(void **state)
{
	char *big = malloc(CTL_MAX_ARG + 2), *argv[2];
	struct sbuf b;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', CTL_MAX_ARG + 1);
	big[CTL_MAX_ARG] = '\0';
	argv[0] = (char *)"cmd";
	argv[1] = big;
	round_trip(2, argv, NULL);
	big[CTL_MAX_ARG] = 'x';
	big[CTL_MAX_ARG + 1] = '\0';
	sbuf_init(&b);
	sbuf_puts(&b, "kept");
	assert_int_equal(ctl_req_encode(2, argv, &b), VPN_ERR_RANGE);
	argv[1] = (char *)"";
	assert_int_equal(ctl_req_encode(2, argv, &b), VPN_ERR_RANGE);
	argv[1] = NULL;
	assert_int_equal(ctl_req_encode(2, argv, &b), VPN_ERR_RANGE);
	/* out is unchanged on error */
	assert_int_equal(b.len, 4);
	assert_string_equal(b.s, "kept");
	assert_true(sbuf_ok(&b));
	sbuf_free(&b);
	free(big);
}

/*
 * argv for a request of exactly total bytes: "C1 N\n", then arguments
 * of CTL_MAX_ARG bytes and a last one that makes up the rest.
 */
static int
fill_to(size_t total, char **argv, char *bytes)
{
	size_t left, n, want;
	int argc = 0, nargs;

	memset(bytes, 'y', CTL_MAX_REQ);
	for (nargs = 1; nargs <= CTL_MAX_ARGS; nargs++) {
		left = total - (nargs < 10 ? 5 : 6);
		argc = 0;
		while (argc < nargs - 1) {
			/* "1024 " + bytes + "\n" */
			if (left < 1030 + 4)
				break;
			argv[argc++] = bytes + CTL_MAX_REQ - CTL_MAX_ARG - 1;
			left -= 1030;
		}
		if (argc != nargs - 1)
			continue;
		/* The last: d digits + " " + n + "\n" == left */
		for (n = 1; n <= CTL_MAX_ARG; n++) {
			want = (n < 10        ? 1
			           : n < 100  ? 2
			           : n < 1000 ? 3
			                      : 4) +
			       1 + n + 1;
			if (want == left)
				break;
		}
		if (n > CTL_MAX_ARG)
			continue;
		bytes[CTL_MAX_REQ - 1] = '\0';
		argv[argc] = bytes + CTL_MAX_REQ - 1 - n;
		return argc + 1;
	}
	fail_msg("no fill for %zu", total);
	return 0;
}

static void
test_ctlproto_request_size_limit(void **state)
{
	char *bytes = malloc(CTL_MAX_REQ), *argv[CTL_MAX_ARGS];
	char *wire = malloc(CTL_MAX_REQ + 64), why[128];
	struct ctl_req *req = malloc(sizeof(*req));
	const char *w;
	struct sbuf b;
	size_t at;
	int argc;

	(void)state;
	assert_non_null(bytes);
	assert_non_null(wire);
	assert_non_null(req);
	/* Bytes 1 and 7 (one last argument), 8 (two), CTL_MAX_REQ - 1 and
	 * CTL_MAX_REQ are all whole requests. */
	argc = fill_to(CTL_MAX_REQ, argv, bytes);
	encode_ok(argc, argv, &b);
	assert_int_equal(b.len, CTL_MAX_REQ);
	feed_valid((const uint8_t *)b.s, b.len);
	/* With the next request's bytes behind it, still exactly it. */
	memcpy(wire, b.s, b.len);
	memcpy(wire + b.len, "C1 1\n", 5);
	assert_int_equal(
	    ctl_req_parse((const uint8_t *)wire, b.len + 5, req, &w),
	    CTL_MAX_REQ);
	assert_int_equal(req->argc, argc);
	sbuf_free(&b);

	argc = fill_to(CTL_MAX_REQ - 1, argv, bytes);
	encode_ok(argc, argv, &b);
	assert_int_equal(b.len, CTL_MAX_REQ - 1);
	feed_valid((const uint8_t *)b.s, b.len);
	sbuf_free(&b);

	/* One byte over: the encoder refuses, the parser too, as soon as
	 * the last length is read. */
	argc = fill_to(CTL_MAX_REQ, argv, bytes);
	argv[argc - 1]--; /* one byte longer */
	sbuf_init(&b);
	assert_int_equal(ctl_req_encode(argc, argv, &b), VPN_ERR_RANGE);
	assert_int_equal(b.len, 0);
	argv[argc - 1]++;
	encode_ok(argc, argv, &b);
	/* Hand-make the longer one: bump the last length by one. */
	{
		char *last = strrchr(b.s, '\n'), *p;
		size_t n = strlen(argv[argc - 1]), o;
		char num[24];

		/* The last argument starts after the previous "\n". */
		*last = '\0';
		p = last - n - 1; /* the space */
		while (p > b.s && p[-1] != '\n')
			p--;
		o = (size_t)(p - b.s);
		memcpy(wire, b.s, o);
		snprintf(num, sizeof(num), "%zu ", n + 1);
		memcpy(wire + o, num, strlen(num));
		o += strlen(num);
		memset(wire + o, 'y', n + 1);
		o += n + 1;
		wire[o++] = '\n';
		assert_true(o == CTL_MAX_REQ + 1 || o == CTL_MAX_REQ + 2);
		assert_int_equal(
		    feed_bad((const uint8_t *)wire, o, &at, why, sizeof(why)),
		    VPN_ERR_RANGE);
		assert_string_equal(why, "request longer than 8192 bytes");
		/* Found at the length, long before the bytes arrive. */
		assert_true(at <= (size_t)(p - b.s) + strlen(num));
	}
	sbuf_free(&b);

	/* 32 arguments announced, then too long: found at the length that
	 * leaves no room for the rest. */
	{
		size_t o = 0;
		int i;

		o += (size_t)snprintf(wire, 16, "C1 32\n");
		for (i = 0; i < 7; i++) {
			o += (size_t)snprintf(wire + o, 8, "1024 ");
			memset(wire + o, 'z', 1024);
			o += 1024;
			wire[o++] = '\n';
		}
		o += (size_t)snprintf(wire + o, 8, "1024 ");
		assert_int_equal(
		    feed_bad((const uint8_t *)wire, o, &at, why, sizeof(why)),
		    VPN_ERR_RANGE);
		assert_string_equal(why, "request longer than 8192 bytes");
		assert_true(at < o);
	}

	free(req);
	free(wire);
	free(bytes);
}

static void
test_ctlproto_encode_nomem_sticky(void **state)
{
	char *argv[] = {(char *)"show"};
	struct sbuf b;

	(void)state;
	sbuf_init(&b);
	b.bad = true;
	assert_int_equal(ctl_req_encode(1, argv, &b), VPN_ERR_NOMEM);
	assert_int_equal(b.len, 0);
	assert_true(b.bad);
}

static const struct {
	const char *in;
	size_t len;
	int rc;
	const char *why;
} bad_reqs[] = {
    {S("X1 1\n4 show\n"), VPN_ERR_INVAL, "not a control protocol request"},
    {S("c1 1\n4 show\n"), VPN_ERR_INVAL, "not a control protocol request"},
    {S("show\n"), VPN_ERR_INVAL, "not a control protocol request"},
    {S("\n"), VPN_ERR_INVAL, "not a control protocol request"},
    {S("C2 1\n4 show\n"), VPN_ERR_INVAL, "unsupported protocol version 2"},
    {S("C0 1\n4 show\n"), VPN_ERR_INVAL, "unsupported protocol version"},
    {S("C10 1\n4 show\n"), VPN_ERR_INVAL, "unsupported protocol version 10"},
    {S("C12345678901234567890 1\n"), VPN_ERR_INVAL,
        "unsupported protocol version"},
    {S("C01 1\n4 show\n"), VPN_ERR_INVAL, "unsupported protocol version"},
    {S("C 1\n4 show\n"), VPN_ERR_INVAL, "malformed protocol version"},
    {S("C+1 1\n4 show\n"), VPN_ERR_INVAL, "malformed protocol version"},
    {S("C1\n1\n4 show\n"), VPN_ERR_INVAL, "malformed protocol version"},
    {S("C1  1\n4 show\n"), VPN_ERR_INVAL, "malformed argument count"},
    {S("C1 +1\n4 show\n"), VPN_ERR_INVAL, "malformed argument count"},
    {S("C1 -1\n4 show\n"), VPN_ERR_INVAL, "malformed argument count"},
    {S("C1 01\n4 show\n"), VPN_ERR_RANGE, "no arguments"},
    {S("C1 1 \n4 show\n"), VPN_ERR_INVAL, "malformed argument count"},
    {S("C1 1\r\n4 show\n"), VPN_ERR_INVAL, "malformed argument count"},
    {S("C1 \n"), VPN_ERR_INVAL, "malformed argument count"},
    {S("C1 0\n"), VPN_ERR_RANGE, "no arguments"},
    {S("C1 33\n"), VPN_ERR_RANGE, "more than 32 arguments"},
    {S("C1 99999999999999999999\n"), VPN_ERR_RANGE, "more than 32 arguments"},
    {S("C1 1\n4show\n"), VPN_ERR_INVAL, "malformed length of argument 1"},
    {S("C1 1\n 4 show\n"), VPN_ERR_INVAL, "malformed length of argument 1"},
    {S("C1 1\n+4 show\n"), VPN_ERR_INVAL, "malformed length of argument 1"},
    {S("C1 1\n04 show\n"), VPN_ERR_RANGE, "argument 1 is empty"},
    {S("C1 1\n0 \n"), VPN_ERR_RANGE, "argument 1 is empty"},
    {S("C1 2\n4 show\n0 \n"), VPN_ERR_RANGE, "argument 2 is empty"},
    {S("C1 1\n1025 "), VPN_ERR_RANGE, "argument 1 longer than 1024 bytes"},
    {S("C1 3\n1 a\n1 b\n99999999999 "), VPN_ERR_RANGE,
        "argument 3 longer than 1024 bytes"},
    {S("C1 1\n4 show"
       "x"),
        VPN_ERR_INVAL, "argument 1 not followed by a newline"},
    {S("C1 1\n4  show\n"), VPN_ERR_INVAL,
        "argument 1 not followed by a newline"},
    {S("C1 1\n3 show\n"), VPN_ERR_INVAL,
        "argument 1 not followed by a newline"},
    {S("C1 1\n4 sh\0w\n"), VPN_ERR_INVAL, "argument 1 holds a NUL byte"},
    {S("C1 2\n4 show\n3 \0ab\n"), VPN_ERR_INVAL, "argument 2 holds a NUL byte"},
    {S("C1 2\n4 show\n\n"), VPN_ERR_INVAL, "malformed length of argument 2"},
    {S("C1 1\n\0"), VPN_ERR_INVAL, "malformed length of argument 1"},
    {S("\0"), VPN_ERR_INVAL, "not a control protocol request"},
};

static void
test_ctlproto_rejects_malformed(void **state)
{
	char why[128];
	size_t i, at;
	int rc;

	(void)state;
	for (i = 0; i < NELEM(bad_reqs); i++) {
		rc = feed_bad((const uint8_t *)bad_reqs[i].in, bad_reqs[i].len,
		    &at, why, sizeof(why));
		if (rc != bad_reqs[i].rc || strcmp(why, bad_reqs[i].why) != 0)
			fail_msg("case %zu: rc %d why \"%s\", want %d \"%s\"",
			    i, rc, why, bad_reqs[i].rc, bad_reqs[i].why);
	}
}

/* Where the fault is seen: the first byte that shows it. */
static void
test_ctlproto_rejects_early(void **state)
{
	static const struct {
		const char *in;
		size_t len, at;
	} cases[] = {
	    {S("X"), 1}, {S("C2"), 2}, /* 2.. can never be 1 */
	    {S("C0"), 2},              /* "C0 " or "C01": neither is 1 */
	    {S("C12"), 3},             /* 12.. */
	    {S("C1 0"), 4},            /* "0\n": none; "01": leading zero */
	    {S("C1 33"), 5},           /* over 32 at the second digit */
	    {S("C1 4\n0"), 6},         /* "0 ": empty; "01": leading zero */
	    {S("C1 1\n1025"), 9},
	    {S("C1 1\n3 a\0"), 9}, /* the NUL, before the rest arrives */
	};
	char why[128];
	size_t i, at;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		feed_bad((const uint8_t *)cases[i].in, cases[i].len, &at, why,
		    sizeof(why));
		if (at != cases[i].at)
			fail_msg("case %zu: seen at %zu, want %zu (%s)", i, at,
			    cases[i].at, why);
	}
}

static void
test_ctlproto_incremental(void **state)
{
	char *argv[CTL_MAX_ARGS], big[CTL_MAX_ARG + 1];
	struct sbuf b;
	int i;

	(void)state;
	feed_valid(SU("C1 1\n4 show\n"));
	feed_valid(SU("C1 3\n4 peer\n10 10.42.0.12\n5 -json\n"));
	feed_valid(SU("C1 1\n1 \n\n"));
	memset(big, 'q', CTL_MAX_ARG);
	big[CTL_MAX_ARG] = '\0';
	for (i = 0; i < 7; i++)
		argv[i] = big;
	encode_ok(7, argv, &b);
	feed_valid((const uint8_t *)b.s, b.len);
	sbuf_free(&b);
	for (i = 0; i < CTL_MAX_ARGS; i++)
		argv[i] = (char *)(i % 2 ? "-json" : "1234567890");
	encode_ok(CTL_MAX_ARGS, argv, &b);
	feed_valid((const uint8_t *)b.s, b.len);
	sbuf_free(&b);
}

static void
test_ctlproto_pipelined(void **state)
{
	static const char two[] = "C1 1\n4 show\nC1 2\n5 hosts\n5 -json\n";
	struct ctl_req req;
	const char *why;
	int n;

	(void)state;
	n = ctl_req_parse((const uint8_t *)two, sizeof(two) - 1, &req, &why);
	assert_int_equal(n, 12);
	assert_int_equal(req.argc, 1);
	assert_string_equal(req.argv[0], "show");
	assert_null(req.argv[1]);
	assert_int_equal(ctl_req_parse((const uint8_t *)two + n,
	                     sizeof(two) - 1 - (size_t)n, &req, &why),
	    (int)(sizeof(two) - 1 - (size_t)n));
	assert_int_equal(req.argc, 2);
	assert_string_equal(req.argv[0], "hosts");
	assert_string_equal(req.argv[1], "-json");
	assert_null(req.argv[2]);
	/* why may be NULL */
	assert_int_equal(
	    ctl_req_parse((const uint8_t *)"Z", 1, &req, NULL), VPN_ERR_INVAL);
	assert_int_equal(ctl_req_parse((const uint8_t *)two, 3, &req, NULL), 0);
}

/* Random bytes over the protocol's alphabet: never "more" at the cap,
 * and whatever parses re-encodes to the same bytes. */
static void
test_ctlproto_random(void **state)
{
	static const char alpha[] = "C1 0923\n\nxa\0";
	uint8_t *buf = malloc(CTL_MAX_REQ + 16);
	struct ctl_req *req = malloc(sizeof(*req));
	uint32_t seed = 12345;
	const char *why;
	struct sbuf b;
	size_t n, k;
	int i, rc;

	(void)state;
	assert_non_null(buf);
	assert_non_null(req);
	for (i = 0; i < 20000; i++) {
		seed = seed * 1103515245u + 12345u;
		n = (seed >> 8) % 64;
		if (i % 100 == 0)
			n = CTL_MAX_REQ + (seed >> 4) % 16;
		memcpy(buf, "C1 ", 3);
		for (k = 3; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[k] =
			    (uint8_t)alpha[(seed >> 16) % (sizeof(alpha) - 1)];
		}
		rc = ctl_req_parse(buf, n, req, &why);
		if (rc == 0) {
			assert_true(n < CTL_MAX_REQ);
			continue;
		}
		if (rc < 0) {
			assert_non_null(why);
			continue;
		}
		assert_true((size_t)rc <= n);
		encode_ok(req->argc, req->argv, &b);
		assert_int_equal(b.len, (size_t)rc);
		assert_memory_equal(b.s, buf, b.len);
		sbuf_free(&b);
	}
	free(req);
	free(buf);
}

static void
test_ctlproto_resp_head(void **state)
{
	static const enum ctl_status all[] = {
	    CTL_OK, CTL_FAIL, CTL_USAGE, CTL_BADREQ};
	static const size_t lens[] = {0, 1, 9, 10, 4096, CTL_MAX_BODY};
	enum ctl_status st;
	const char *why = "x";
	size_t i, j, k, blen;
	struct sbuf b;
	char want[64];

	(void)state;
	for (i = 0; i < NELEM(all); i++) {
		for (j = 0; j < NELEM(lens); j++) {
			sbuf_init(&b);
			ctl_resp_head(&b, all[i], lens[j]);
			snprintf(want, sizeof(want), "R1 %d %zu\n", (int)all[i],
			    lens[j]);
			assert_string_equal(b.s, want);
			assert_true(b.len <= CTL_HEAD_MAX);
			for (k = 0; k < b.len; k++) {
				assert_int_equal(
				    resp_exact((const uint8_t *)b.s, k, &st,
				        &blen, &why),
				    0);
				assert_null(why);
			}
			/* A body behind the header is not the header's. */
			sbuf_puts(&b, "body\n");
			st = CTL_USAGE;
			blen = 7;
			assert_int_equal(resp_exact((const uint8_t *)b.s, b.len,
			                     &st, &blen, &why),
			    (int)(b.len - 5));
			assert_int_equal(st, all[i]);
			assert_int_equal(blen, lens[j]);
			assert_null(why);
			sbuf_free(&b);
		}
	}
}

static void
test_ctlproto_resp_rejects(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		int rc;
		const char *why;
		size_t at; /* the prefix that shows it */
	} cases[] = {
	    {S("C1 0 0\n"), VPN_ERR_INVAL, "not a control protocol response",
	        1},
	    {S("R2 0 0\n"), VPN_ERR_INVAL, "unsupported protocol version", 2},
	    {S("R0 0 0\n"), VPN_ERR_INVAL, "unsupported protocol version", 2},
	    {S("R11 0 0\n"), VPN_ERR_INVAL, "unsupported protocol version", 3},
	    {S("R01 0 0\n"), VPN_ERR_INVAL, "unsupported protocol version", 2},
	    {S("R 0 0\n"), VPN_ERR_INVAL, "malformed protocol version", 2},
	    {S("R1 4 0\n"), VPN_ERR_RANGE, "unknown status", 4},
	    {S("R1 10 0\n"), VPN_ERR_RANGE, "unknown status", 5},
	    {S("R1 00 0\n"), VPN_ERR_INVAL, "malformed status", 5},
	    {S("R1 -0 0\n"), VPN_ERR_INVAL, "malformed status", 4},
	    {S("R1 0\n0\n"), VPN_ERR_INVAL, "malformed status", 5},
	    {S("R1 0 01\n"), VPN_ERR_INVAL, "malformed body length", 7},
	    {S("R1 0 1 \n"), VPN_ERR_INVAL, "malformed body length", 7},
	    {S("R1 0 \n"), VPN_ERR_INVAL, "malformed body length", 6},
	    {S("R1 0 1\r\n"), VPN_ERR_INVAL, "malformed body length", 7},
	    {S("R1 0 67108865\n"), VPN_ERR_RANGE,
	        "response body longer than CTL_MAX_BODY (64 MiB)", 13},
	    {S("R1 0 99999999999999999999999\n"), VPN_ERR_RANGE,
	        "response body longer than CTL_MAX_BODY (64 MiB)", 13},
	};
	enum ctl_status st = CTL_USAGE;
	size_t i, k, blen = 7;
	const char *why;
	int rc;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		for (k = 0; k <= cases[i].len; k++) {
			rc = resp_exact(
			    (const uint8_t *)cases[i].in, k, &st, &blen, &why);
			if (k < cases[i].at) {
				if (rc != 0)
					fail_msg("case %zu prefix %zu: %d", i,
					    k, rc);
				continue;
			}
			if (rc != cases[i].rc || why == NULL ||
			    strcmp(why, cases[i].why) != 0)
				fail_msg("case %zu prefix %zu: %d %s", i, k, rc,
				    why != NULL ? why : "(null)");
		}
		/* Untouched on error. */
		assert_int_equal(st, CTL_USAGE);
		assert_int_equal(blen, 7);
	}
	/* CTL_MAX_BODY exactly is fine; why may be NULL. */
	assert_int_equal(ctl_resp_parse((const uint8_t *)"R1 1 67108864\n", 14,
	                     &st, &blen, NULL),
	    14);
	assert_int_equal(st, CTL_FAIL);
	assert_int_equal(blen, CTL_MAX_BODY);
	assert_int_equal(
	    ctl_resp_parse((const uint8_t *)"X", 1, &st, &blen, NULL),
	    VPN_ERR_INVAL);
	/* Never "more" at CTL_HEAD_MAX bytes. */
	{
		uint8_t buf[CTL_HEAD_MAX];

		memset(buf, '0', sizeof(buf));
		memcpy(buf, "R1 0 1", 6);
		assert_true(
		    ctl_resp_parse(buf, sizeof(buf), &st, &blen, &why) < 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ctlproto_encode_exact_bytes),
	    cmocka_unit_test(test_ctlproto_round_trip_every_byte),
	    cmocka_unit_test(test_ctlproto_args_limit),
	    cmocka_unit_test(test_ctlproto_arg_length_limit),
	    cmocka_unit_test(test_ctlproto_request_size_limit),
	    cmocka_unit_test(test_ctlproto_encode_nomem_sticky),
	    cmocka_unit_test(test_ctlproto_rejects_malformed),
	    cmocka_unit_test(test_ctlproto_rejects_early),
	    cmocka_unit_test(test_ctlproto_incremental),
	    cmocka_unit_test(test_ctlproto_pipelined),
	    cmocka_unit_test(test_ctlproto_random),
	    cmocka_unit_test(test_ctlproto_resp_head),
	    cmocka_unit_test(test_ctlproto_resp_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
