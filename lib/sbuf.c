/* lib/sbuf.c: growable text buffer. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

void
sbuf_init(struct sbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void
sbuf_free(struct sbuf *b)
{
	free(b->s);
	sbuf_init(b);
}

static bool
reserve(struct sbuf *b, size_t more)
{
	size_t cap;
	char *n;

	if (b->bad)
		return false;
	if (more < b->cap - b->len)
		return true;
	if (more > SIZE_MAX / 2 - b->len) {
		b->bad = true;
		return false;
	}
	cap = b->cap > 0 ? b->cap : 64;
	while (cap - b->len <= more)
		cap *= 2;
	if ((n = realloc(b->s, cap)) == NULL) {
		b->bad = true;
		return false;
	}
	b->s = n;
	b->cap = cap;
	return true;
}

void
sbuf_add(struct sbuf *b, const char *s, size_t len)
{
	if (!reserve(b, len))
		return;
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

void
sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

void
sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || !reserve(b, (size_t)n)) {
		b->bad = true;
		return;
	}
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sbuf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* Length of a valid UTF-8 sequence at p, or 0 if invalid. */
static size_t
utf8_seq(const unsigned char *p, size_t left, uint32_t *cp)
{
	uint32_t c = p[0], min;
	size_t n, k;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		n = 2, c &= 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, c &= 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n > left)
		return 0;
	for (k = 1; k < n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

void
sbuf_json_str(struct sbuf *b, const char *str, size_t len)
{
	static const char H[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, start = 0, n;
	uint32_t cp;
	char esc[7];

	sbuf_add(b, "\"", 1);
	while (i < len) {
		n = utf8_seq(s + i, len - i, &cp);
		if (n == 1 && cp >= 0x20 && cp != '"' && cp != '\\' &&
		    cp != '<' && cp != '>' && cp != '&') {
			i++;
			continue;
		}
		if (n > 1 && cp != 0x2028 && cp != 0x2029) {
			i += n;
			continue;
		}
		sbuf_add(b, str + start, i - start);
		if (n == 0) {
			sbuf_add(b, "\\ufffd", 6);
			n = 1;
		} else if (cp == '"' || cp == '\\') {
			esc[0] = '\\', esc[1] = (char)cp;
			sbuf_add(b, esc, 2);
		} else if (cp == '\n') {
			sbuf_add(b, "\\n", 2);
		} else if (cp == '\r') {
			sbuf_add(b, "\\r", 2);
		} else if (cp == '\t') {
			sbuf_add(b, "\\t", 2);
		} else {
			memcpy(esc, "\\u", 2);
			esc[2] = H[cp >> 12 & 15], esc[3] = H[cp >> 8 & 15];
			esc[4] = H[cp >> 4 & 15], esc[5] = H[cp & 15];
			sbuf_add(b, esc, 6);
		}
		i += n;
		start = i;
	}
	sbuf_add(b, str + start, i - start);
	sbuf_add(b, "\"", 1);
}

/* Does Go's unicode.IsPrint say no to cp (>= 0x80)?  The characters
 * that are not letters, marks, numbers, punctuation or symbols, as far
 * as a short list knows them (unassigned code points are not known). */
static bool
go_unprintable(uint32_t cp)
{
	static const uint32_t r[][2] = {
	    {0x80, 0xa0},
	    {0xad, 0xad},
	    {0x600, 0x605},
	    {0x61c, 0x61c},
	    {0x6dd, 0x6dd},
	    {0x70f, 0x70f},
	    {0x1680, 0x1680},
	    {0x180e, 0x180e},
	    {0x2000, 0x200f},
	    {0x2028, 0x202f},
	    {0x205f, 0x206f},
	    {0x3000, 0x3000},
	    {0xe000, 0xf8ff},
	    {0xfeff, 0xfeff},
	    {0xfff0, 0xfffb},
	    {0xfffe, 0xffff},
	    {0x110bd, 0x110bd},
	    {0x1bca0, 0x1bca3},
	    {0x1d173, 0x1d17a},
	    {0xe0000, 0xe0fff},
	    {0xf0000, 0x10ffff},
	};
	size_t i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (cp >= r[i][0] && cp <= r[i][1])
			return true;
	return (cp & 0xfffe) == 0xfffe; /* U+nFFFE, U+nFFFF */
}

void
sbuf_go_quote(struct sbuf *b, const char *str, size_t len)
{
	static const char H[] = "0123456789abcdef";
	static const char ctl[] = "\a\b\f\n\r\t\v", let[] = "abfnrtv";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, start = 0, n, k, j;
	uint32_t cp;
	char esc[10];
	const char *c;

	sbuf_add(b, "\"", 1);
	while (i < len) {
		n = utf8_seq(s + i, len - i, &cp);
		if (n == 1 && cp >= 0x20 && cp < 0x7f && cp != '"' &&
		    cp != '\\') {
			i++;
			continue;
		}
		if (n > 1 && !go_unprintable(cp)) {
			i += n;
			continue;
		}
		sbuf_add(b, str + start, i - start);
		if (n == 0) { /* one byte that is not UTF-8 */
			cp = s[i];
			n = 1;
			esc[0] = '\\', esc[1] = 'x';
			esc[2] = H[cp >> 4], esc[3] = H[cp & 15];
			sbuf_add(b, esc, 4);
		} else if (cp == '"' || cp == '\\') {
			esc[0] = '\\', esc[1] = (char)cp;
			sbuf_add(b, esc, 2);
		} else if (cp > 0 && cp < 0x20 &&
		           (c = strchr(ctl, (int)cp)) != NULL) {
			esc[0] = '\\', esc[1] = let[c - ctl];
			sbuf_add(b, esc, 2);
		} else if (cp < 0x20 || cp == 0x7f) {
			esc[0] = '\\', esc[1] = 'x';
			esc[2] = H[cp >> 4], esc[3] = H[cp & 15];
			sbuf_add(b, esc, 4);
		} else {
			k = cp < 0x10000 ? 4 : 8;
			esc[0] = '\\', esc[1] = k == 4 ? 'u' : 'U';
			for (j = 0; j < k; j++)
				esc[2 + j] = H[cp >> (4 * (k - 1 - j)) & 15];
			sbuf_add(b, esc, 2 + k);
		}
		i += n;
		start = i;
	}
	sbuf_add(b, str + start, i - start);
	sbuf_add(b, "\"", 1);
}
