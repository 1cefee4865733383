/*
 * test/fuzz/jsoncheck.h: is a text exactly one JSON value (RFC 8259),
 * then only whitespace?  For the targets whose output is JSON.
 */
#ifndef FUZZ_JSONCHECK_H
#define FUZZ_JSONCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct js {
	const char *p, *end;
	int depth;
};

static bool js_value(struct js *j);

static void
js_ws(struct js *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	                            *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool
js_lit(struct js *j, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, s, n) != 0)
		return false;
	j->p += n;
	return true;
}

static bool
js_string(struct js *j)
{
	int k;

	if (j->p >= j->end || *j->p++ != '"')
		return false;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p++;

		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (j->p >= j->end)
			return false;
		c = (unsigned char)*j->p++;
		if (c == 'u') {
			for (k = 0; k < 4; k++, j->p++)
				if (j->p >= j->end ||
				    strchr("0123456789abcdefABCDEF", *j->p) ==
				        NULL ||
				    *j->p == '\0')
					return false;
		} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
			return false;
		}
	}
	return false;
}

static bool
js_digits(struct js *j)
{
	const char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static bool
js_number(struct js *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!js_digits(j))
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!js_digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!js_digits(j))
			return false;
	}
	return true;
}

static bool
js_members(struct js *j, char close, bool keyed)
{
	js_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return true;
	}
	for (;;) {
		js_ws(j);
		if (keyed) {
			if (!js_string(j))
				return false;
			js_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return false;
		}
		if (!js_value(j))
			return false;
		js_ws(j);
		if (j->p >= j->end)
			return false;
		if (*j->p == close) {
			j->p++;
			return true;
		}
		if (*j->p++ != ',')
			return false;
	}
}

static bool
js_value(struct js *j)
{
	bool ok;

	js_ws(j);
	if (j->p >= j->end || j->depth > 64)
		return false;
	switch (*j->p) {
	case '{':
	case '[':
		j->depth++;
		j->p++;
		ok =
		    js_members(j, j->p[-1] == '{' ? '}' : ']', j->p[-1] == '{');
		j->depth--;
		return ok;
	case '"':
		return js_string(j);
	case 't':
		return js_lit(j, "true");
	case 'f':
		return js_lit(j, "false");
	case 'n':
		return js_lit(j, "null");
	default:
		return js_number(j);
	}
}

/* One JSON value, then only whitespace. */
static inline bool
is_json(const char *s, size_t len)
{
	struct js j = {s, s + len, 0};

	if (!js_value(&j))
		return false;
	js_ws(&j);
	return j.p == j.end;
}

#endif
