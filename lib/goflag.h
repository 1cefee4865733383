/*
 * lib/goflag.h: command-line flags with Go 1.19's flag package grammar and
 * messages, so that cert-tool is a drop-in for nebula-cert.
 *
 * Accepted forms: -flag, --flag, -flag=value, and -flag value for
 * non-boolean flags.  Parsing stops before the first non-flag argument
 * ("-" alone is one) or after "--".  A flag may repeat; the last wins.
 * Boolean values are those of Go's strconv.ParseBool: 1 t T TRUE true True
 * 0 f F FALSE false False.  Durations are go_parse_duration()'s.
 *
 * Unlike Go, nothing is printed: on error the caller prints the message
 * (and decides what else to print and how to exit); on GOFLAG_HELP it
 * prints the usage.
 */
#ifndef VPN_GOFLAG_H
#define VPN_GOFLAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum goflag_type { GOFLAG_STRING, GOFLAG_BOOL, GOFLAG_DURATION };

struct goflag {
	const char *name; /* without dash; must not begin '-' or hold '=' */
	enum goflag_type type;
	const char *usage; /* a `back-quoted` word names the value */
	const char *s;     /* STRING value; starts as the default */
	bool b;            /* BOOL value; starts as the default */
	int64_t d; /* DURATION value in nanoseconds; starts as default */
	bool set;  /* set on the command line */
};

#define GOFLAG_HELP 1

/*
 * Parse argv[*argi..argc-1] against flags[0..n-1].  Stops at the first
 * non-flag argument ("-" alone counts as a non-flag), or after "--" (which
 * is consumed).  On return *argi indexes the first unparsed argument.
 * A STRING value points into argv.
 *
 * Returns 0; GOFLAG_HELP when -h/-help/--h/--help was given (with or
 * without "=value") and no flag of that name is defined; or -1 with Go's
 * error message, NUL-terminated and without a newline, in err[errlen]
 * (truncated to fit; err may be NULL when errlen is 0).  As in Go, a flag
 * whose value fails to parse is left at false or 0.
 */
int goflag_parse(struct goflag *flags, size_t n, int argc, char **argv,
    int *argi, char *err, size_t errlen);

/*
 * Go's FlagSet.PrintDefaults() output for flags[0..n-1], byte for byte,
 * taking each flag's current value as its default: flags sorted by name,
 * "  -name type" then the usage, and " (default ...)" unless the default
 * is the zero value.
 */
void goflag_print_defaults(FILE *out, const struct goflag *flags, size_t n);

/*
 * Go's strconv.Quote of s into buf, NUL-terminated and truncated to fit
 * in len bytes.  Non-ASCII printability follows unicode.IsPrint only
 * approximately (no Unicode tables: unassigned code points count as
 * printable).
 */
void goflag_quote(const char *s, char *buf, size_t len);

#endif
