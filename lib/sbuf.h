/*
 * lib/sbuf.h: a growable text buffer for building output (never on a
 * per-packet path).  Allocation failure is sticky: sbuf_ok() tells.
 */
#ifndef VPN_SBUF_H
#define VPN_SBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *s; /* NUL-terminated when len > 0 */
	size_t len, cap;
	bool bad;
};

void sbuf_init(struct sbuf *b);
void sbuf_free(struct sbuf *b);
void sbuf_add(struct sbuf *b, const char *s, size_t len);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* A JSON string literal with Go encoding/json's escaping (HTML-safe). */
void sbuf_json_str(struct sbuf *b, const char *s, size_t len);
/*
 * A Go string literal as fmt's %q (strconv.Quote) writes it: \" and \\,
 * \a \b \f \n \r \t \v, \xHH for other control bytes, DEL and bytes that
 * are not UTF-8, \uHHHH or \UHHHHHHHH for characters that Go does not
 * print (outside ASCII an approximation of unicode.IsPrint: controls,
 * format characters, separators, private use and noncharacters).
 */
void sbuf_go_quote(struct sbuf *b, const char *s, size_t len);
static inline bool
sbuf_ok(const struct sbuf *b)
{
	return !b->bad;
}

#endif
