/*
 * lib/goflag.c: Go 1.19 flag package semantics (parseOne, PrintDefaults,
 * UnquoteUsage) and strconv.Quote for its messages.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "goflag.h"
#include "gotime.h"

/* Output to a FILE, or into a NUL-terminated buffer that truncates. */
struct gf_out {
	FILE *f;
	char *buf;
	size_t len, off; /* off < len whenever len > 0 */
};

static void
gf_putn(struct gf_out *o, const char *p, size_t n)
{
	if (o->f != NULL) {
		fwrite(p, 1, n, o->f);
		return;
	}
	if (o->len == 0)
		return;
	if (n > o->len - 1 - o->off)
		n = o->len - 1 - o->off;
	memcpy(o->buf + o->off, p, n);
	o->off += n;
	o->buf[o->off] = '\0';
}

static void
gf_puts(struct gf_out *o, const char *s)
{
	gf_putn(o, s, strlen(s));
}

static void
gf_putc(struct gf_out *o, char c)
{
	gf_putn(o, &c, 1);
}

/*
 * Decode one rune as Go's utf8.DecodeRuneInString does, from a
 * NUL-terminated string with p[0] != 0.  Returns the width; 0 means an
 * invalid byte (Go's RuneError of width 1).
 */
static size_t
gf_utf8(const unsigned char *p, uint32_t *r)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80) {
		*r = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		*r = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		*r = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		*r = c & 0x07;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* > U+10FFFF */
	} else {
		return 0;
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 1; i < n; i++) {
		/* a NUL stops here: it is not a continuation byte */
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*r = (*r << 6) | (p[i] & 0x3f);
	}
	return n;
}

/*
 * unicode.IsPrint for r >= 0x80, approximately: letters, marks, numbers,
 * punctuation and symbols are printable; spaces other than U+0020, and
 * control, format, private-use and noncharacter code points are not.
 */
static bool
gf_isprint(uint32_t r)
{
	static const struct {
		uint32_t lo, hi;
	} np[] = {
	    {0x0080, 0x00a0},    /* C1 controls, no-break space */
	    {0x00ad, 0x00ad},    /* soft hyphen */
	    {0x0600, 0x0605},    /* Arabic number signs */
	    {0x061c, 0x061c},    /* Arabic letter mark */
	    {0x06dd, 0x06dd},    /* Arabic end of ayah */
	    {0x070f, 0x070f},    /* Syriac abbreviation mark */
	    {0x08e2, 0x08e2},    /* Arabic disputed end of ayah */
	    {0x1680, 0x1680},    /* Ogham space mark */
	    {0x180e, 0x180e},    /* Mongolian vowel separator */
	    {0x2000, 0x200f},    /* spaces, ZW joiners, LRM/RLM */
	    {0x2028, 0x202f},    /* separators, bidi embeddings */
	    {0x205f, 0x206f},    /* math space, invisibles, bidi */
	    {0x3000, 0x3000},    /* ideographic space */
	    {0xd800, 0xf8ff},    /* surrogates, private use */
	    {0xfdd0, 0xfdef},    /* noncharacters */
	    {0xfeff, 0xfeff},    /* byte order mark */
	    {0xfff0, 0xfffb},    /* specials, annotation controls */
	    {0xfffe, 0xffff},    /* noncharacters */
	    {0x110bd, 0x110bd},  /* Kaithi number sign */
	    {0x1bca0, 0x1bca3},  /* shorthand format controls */
	    {0x1d173, 0x1d17a},  /* musical symbol formats */
	    {0xe0000, 0xe00ff},  /* tags */
	    {0xe01f0, 0x10ffff}, /* private use planes */
	};
	size_t i;

	if ((r & 0xfffe) == 0xfffe) /* U+xFFFE, U+xFFFF */
		return false;
	for (i = 0; i < sizeof(np) / sizeof(np[0]); i++)
		if (r >= np[i].lo && r <= np[i].hi)
			return false;
	return true;
}

static void
gf_hex(struct gf_out *o, const char *prefix, uint32_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	gf_puts(o, prefix);
	for (i = digits - 1; i >= 0; i--)
		gf_putc(o, hex[(v >> (4 * i)) & 0xf]);
}

/* strconv.Quote */
static void
gf_quote(struct gf_out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	uint32_t r;
	size_t w;

	gf_putc(o, '"');
	for (; *p != '\0'; p += w) {
		if ((w = gf_utf8(p, &r)) == 0) {
			gf_hex(o, "\\x", *p, 2);
			w = 1;
			continue;
		}
		if (r == '"' || r == '\\') {
			gf_putc(o, '\\');
			gf_putc(o, (char)r);
		} else if (r >= 0x20 && r < 0x7f) {
			gf_putc(o, (char)r);
		} else if (r >= 0x80 && gf_isprint(r)) {
			gf_putn(o, (const char *)p, w);
		} else if (r == '\a') {
			gf_puts(o, "\\a");
		} else if (r == '\b') {
			gf_puts(o, "\\b");
		} else if (r == '\f') {
			gf_puts(o, "\\f");
		} else if (r == '\n') {
			gf_puts(o, "\\n");
		} else if (r == '\r') {
			gf_puts(o, "\\r");
		} else if (r == '\t') {
			gf_puts(o, "\\t");
		} else if (r == '\v') {
			gf_puts(o, "\\v");
		} else if (r < 0x80) {
			gf_hex(o, "\\x", r, 2);
		} else if (r < 0x10000) {
			gf_hex(o, "\\u", r, 4);
		} else {
			gf_hex(o, "\\U", r, 8);
		}
	}
	gf_putc(o, '"');
}

void
goflag_quote(const char *s, char *buf, size_t len)
{
	struct gf_out o = {NULL, buf, len, 0};

	if (len > 0)
		buf[0] = '\0';
	gf_quote(&o, s);
}

/* strconv.ParseBool */
static bool
gf_parse_bool(const char *s, bool *b)
{
	static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const f[] = {
	    "0", "f", "F", "FALSE", "false", "False"};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(s, t[i]) == 0) {
			*b = true;
			return true;
		}
		if (strcmp(s, f[i]) == 0) {
			*b = false;
			return true;
		}
	}
	return false;
}

static struct goflag *
gf_lookup(struct goflag *flags, size_t n, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strncmp(flags[i].name, name, len) == 0 &&
		    flags[i].name[len] == '\0')
			return &flags[i];
	return NULL;
}

/* Go's FlagSet.parseOne, in a loop, with ContinueOnError. */
int
goflag_parse(struct goflag *flags, size_t n, int argc, char **argv, int *argi,
    char *err, size_t errlen)
{
	struct gf_out e = {NULL, err, errlen, 0};
	struct goflag *fl;
	const char *s, *name, *eq, *value;
	size_t nlen;
	int i = *argi, r = -1;

	if (errlen > 0)
		err[0] = '\0';
	while (i < argc) {
		s = argv[i];
		if (s[0] != '-' || s[1] == '\0') /* non-flag, or "-" */
			break;
		name = s + 1;
		if (s[1] == '-') {
			if (s[2] == '\0') { /* "--" ends the flags */
				i++;
				break;
			}
			name = s + 2;
		}
		if (name[0] == '\0' || name[0] == '-' || name[0] == '=') {
			gf_puts(&e, "bad flag syntax: ");
			gf_puts(&e, s);
			goto out;
		}
		i++;
		/* "-name=value"; the '=' cannot be first */
		value = NULL;
		if ((eq = strchr(name + 1, '=')) != NULL) {
			nlen = (size_t)(eq - name);
			value = eq + 1;
		} else {
			nlen = strlen(name);
		}
		if ((fl = gf_lookup(flags, n, name, nlen)) == NULL) {
			if ((nlen == 4 && memcmp(name, "help", 4) == 0) ||
			    (nlen == 1 && name[0] == 'h')) {
				r = GOFLAG_HELP;
				goto out;
			}
			gf_puts(&e, "flag provided but not defined: -");
			gf_putn(&e, name, nlen);
			goto out;
		}
		switch (fl->type) {
		case GOFLAG_BOOL:
			/* takes no argument: -b means -b=true */
			if (value == NULL) {
				fl->b = true;
			} else if (!gf_parse_bool(value, &fl->b)) {
				fl->b = false;
				gf_puts(&e, "invalid boolean value ");
				gf_quote(&e, value);
				gf_puts(&e, " for -");
				gf_puts(&e, fl->name);
				gf_puts(&e, ": parse error");
				goto out;
			}
			break;
		case GOFLAG_STRING:
		case GOFLAG_DURATION:
			if (value == NULL && i < argc)
				value = argv[i++];
			if (value == NULL) {
				gf_puts(&e, "flag needs an argument: -");
				gf_puts(&e, fl->name);
				goto out;
			}
			if (fl->type == GOFLAG_STRING) {
				fl->s = value;
			} else if (go_parse_duration(value, &fl->d) != 0) {
				fl->d = 0;
				gf_puts(&e, "invalid value ");
				gf_quote(&e, value);
				gf_puts(&e, " for flag -");
				gf_puts(&e, fl->name);
				gf_puts(&e, ": parse error");
				goto out;
			}
			break;
		}
		fl->set = true;
	}
	r = 0;
out:
	*argi = i;
	return r;
}

/* Writes p[0..len-1] with each "\n" turned into "\n    \t". */
static void
gf_usage_part(FILE *out, const char *p, size_t len)
{
	const char *nl;

	while (len > 0 && (nl = memchr(p, '\n', len)) != NULL) {
		fwrite(p, 1, (size_t)(nl - p), out);
		fputs("\n    \t", out);
		len -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	fwrite(p, 1, len, out);
}

/* One flag, as Go's PrintDefaults (with UnquoteUsage) writes it. */
static void
gf_print_one(FILE *out, const struct goflag *fl)
{
	struct gf_out o = {out, NULL, 0, 0};
	const char *usage = fl->usage != NULL ? fl->usage : "";
	const char *bq1, *bq2 = NULL, *type = "";
	char dur[GOTIME_DURATION_LEN];
	size_t col, tlen;

	/* The first `word` in the usage names the value. */
	if ((bq1 = strchr(usage, '`')) != NULL)
		bq2 = strchr(bq1 + 1, '`');
	if (bq2 != NULL) {
		type = bq1 + 1;
		tlen = (size_t)(bq2 - type);
	} else {
		switch (fl->type) {
		case GOFLAG_STRING:
			type = "string";
			break;
		case GOFLAG_DURATION:
			type = "duration";
			break;
		case GOFLAG_BOOL:
			break;
		}
		tlen = strlen(type);
	}

	fputs("  -", out);
	fputs(fl->name, out);
	col = 3 + strlen(fl->name);
	if (tlen > 0) {
		fputc(' ', out);
		fwrite(type, 1, tlen, out);
		col += 1 + tlen;
	}
	/* one-letter bool flags keep their usage on the same line */
	fputs(col <= 4 ? "\t" : "\n    \t", out);
	if (bq2 != NULL) {
		gf_usage_part(out, usage, (size_t)(bq1 - usage));
		gf_usage_part(out, type, tlen);
		gf_usage_part(out, bq2 + 1, strlen(bq2 + 1));
	} else {
		gf_usage_part(out, usage, strlen(usage));
	}

	/* the default, unless it is the type's zero value */
	switch (fl->type) {
	case GOFLAG_STRING:
		if (fl->s != NULL && fl->s[0] != '\0') {
			fputs(" (default ", out);
			gf_quote(&o, fl->s);
			fputc(')', out);
		}
		break;
	case GOFLAG_BOOL:
		if (fl->b)
			fputs(" (default true)", out);
		break;
	case GOFLAG_DURATION:
		if (fl->d != 0) {
			go_format_duration(fl->d, dur, sizeof(dur));
			fprintf(out, " (default %s)", dur);
		}
		break;
	}
	fputc('\n', out);
}

/* Go sorts by name; ties (duplicate names) keep array order. */
static bool
gf_before(const struct goflag *flags, size_t a, size_t b)
{
	int c = strcmp(flags[a].name, flags[b].name);

	return c < 0 || (c == 0 && a < b);
}

void
goflag_print_defaults(FILE *out, const struct goflag *flags, size_t n)
{
	size_t k, j, best, prev = 0;

	/* selection by (name, index), so no allocation; n is small */
	for (k = 0; k < n; k++) {
		best = n;
		for (j = 0; j < n; j++) {
			if (k > 0 && !gf_before(flags, prev, j))
				continue;
			if (best == n || gf_before(flags, j, best))
				best = j;
		}
		gf_print_one(out, &flags[best]);
		prev = best;
	}
}
