/* lib/gotime.c: Go-compatible duration parsing and time formatting. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "gotime.h"

#define NS_US 1000ULL
#define NS_MS (1000ULL * NS_US)
#define NS_S (1000ULL * NS_MS)
#define NS_M (60ULL * NS_S)
#define NS_H (60ULL * NS_M)
#define U63 (1ULL << 63) /* |INT64_MIN| */

static const struct {
	const char *name;
	uint64_t ns;
} gotime_units[] = {
    {"ns", 1},
    {"us", NS_US},
    {"\xc2\xb5s", NS_US}, /* U+00B5 micro sign */
    {"\xce\xbcs", NS_US}, /* U+03BC Greek small letter mu */
    {"ms", NS_MS},
    {"s", NS_S},
    {"m", NS_M},
    {"h", NS_H},
};

static bool
gotime_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

static uint64_t
gotime_unit(const char *u, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(gotime_units) / sizeof(gotime_units[0]); i++)
		if (strlen(gotime_units[i].name) == len &&
		    memcmp(gotime_units[i].name, u, len) == 0)
			return gotime_units[i].ns;
	return 0;
}

/*
 * A transcription of Go's time.ParseDuration (go1.19 src/time/format.go),
 * including its float64 arithmetic for fractions.  Go reports every error
 * as a string; we split them into syntax (INVAL) and overflow (RANGE).
 */
int
go_parse_duration(const char *s, int64_t *ns)
{
	const char *p = s, *start;
	uint64_t d = 0, v, f, y, unit;
	double scale;
	bool neg = false, pre, post, overflow;

	if (*p == '-' || *p == '+') {
		neg = *p == '-';
		p++;
	}
	if (strcmp(p, "0") == 0) { /* special case: "0", "-0", "+0" */
		*ns = 0;
		return 0;
	}
	if (*p == '\0')
		return VPN_ERR_INVAL;
	while (*p != '\0') {
		v = 0;
		f = 0;
		scale = 1;
		/* The next character must be [0-9.] */
		if (*p != '.' && !gotime_isdigit(*p))
			return VPN_ERR_INVAL;
		/* [0-9]* */
		for (start = p; gotime_isdigit(*p); p++) {
			if (v > U63 / 10)
				return VPN_ERR_RANGE;
			v = v * 10 + (uint64_t)(*p - '0');
			if (v > U63)
				return VPN_ERR_RANGE;
		}
		pre = p != start;
		/* (\.[0-9]*)?  Fraction digits past uint64 precision are
		 * skipped, not an error. */
		post = false;
		if (*p == '.') {
			overflow = false;
			for (start = ++p; gotime_isdigit(*p); p++) {
				if (overflow)
					continue;
				if (f > (U63 - 1) / 10) {
					overflow = true;
					continue;
				}
				y = f * 10 + (uint64_t)(*p - '0');
				if (y > U63) {
					overflow = true;
					continue;
				}
				f = y;
				scale *= 10;
			}
			post = p != start;
		}
		if (!pre && !post) /* no digits, e.g. ".s" or "-.s" */
			return VPN_ERR_INVAL;
		/* The unit runs to the next [0-9.] or the end. */
		for (start = p; *p != '\0' && *p != '.' && !gotime_isdigit(*p);
		     p++)
			;
		if (p == start) /* missing unit */
			return VPN_ERR_INVAL;
		if ((unit = gotime_unit(start, (size_t)(p - start))) == 0)
			return VPN_ERR_INVAL;
		if (v > U63 / unit)
			return VPN_ERR_RANGE;
		v *= unit;
		if (f > 0) {
			/* float64 keeps fractions of hours exact to the ns */
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > U63)
				return VPN_ERR_RANGE;
		}
		/*
		 * d, v <= 2^63, so the sum cannot wrap unless both are 2^63;
		 * Go wraps to 0 there, we report the overflow instead.
		 */
		if (v > U63 - d)
			return VPN_ERR_RANGE;
		d += v;
	}
	if (neg) {
		*ns = d == U63 ? INT64_MIN : -(int64_t)d;
		return 0;
	}
	if (d > (uint64_t)INT64_MAX)
		return VPN_ERR_RANGE;
	*ns = (int64_t)d;
	return 0;
}

/*
 * Go's fmtFrac: writes v % 10^prec backwards before buf[w] as a decimal
 * fraction without trailing zeros (and no '.' if it is all zeros).
 * Returns the new w; *v becomes v / 10^prec.
 */
static size_t
gotime_frac(char *buf, size_t w, uint64_t *v, int prec)
{
	bool print = false;
	uint64_t digit;
	int i;

	for (i = 0; i < prec; i++) {
		digit = *v % 10;
		print = print || digit != 0;
		if (print)
			buf[--w] = (char)('0' + digit);
		*v /= 10;
	}
	if (print)
		buf[--w] = '.';
	return w;
}

/* Go's fmtInt: v in decimal, backwards before buf[w]. */
static size_t
gotime_int(char *buf, size_t w, uint64_t v)
{
	if (v == 0) {
		buf[--w] = '0';
		return w;
	}
	while (v > 0) {
		buf[--w] = (char)('0' + v % 10);
		v /= 10;
	}
	return w;
}

void
go_format_duration(int64_t ns, char *buf, size_t len)
{
	/* Largest is "-2562047h47m16.854775808s" (25 bytes). */
	char tmp[GOTIME_DURATION_LEN];
	size_t w = sizeof(tmp), n;
	uint64_t u = (uint64_t)ns;
	bool neg = ns < 0;

	if (neg)
		u = -u;
	if (u == 0) {
		w -= 2;
		memcpy(tmp + w, "0s", 2);
	} else if (u < NS_S) {
		/* under a second: smaller units, like "1.2ms" */
		int prec;

		tmp[--w] = 's';
		if (u < NS_US) {
			prec = 0;
			tmp[--w] = 'n';
		} else if (u < NS_MS) {
			prec = 3;
			w -= 2;
			memcpy(tmp + w, "\xc2\xb5", 2); /* U+00B5 micro sign */
		} else {
			prec = 6;
			tmp[--w] = 'm';
		}
		w = gotime_frac(tmp, w, &u, prec);
		w = gotime_int(tmp, w, u);
	} else {
		tmp[--w] = 's';
		w = gotime_frac(tmp, w, &u, 9);
		/* u is now whole seconds */
		w = gotime_int(tmp, w, u % 60);
		u /= 60;
		if (u > 0) { /* minutes */
			tmp[--w] = 'm';
			w = gotime_int(tmp, w, u % 60);
			u /= 60;
			if (u > 0) { /* hours; days vary in length */
				tmp[--w] = 'h';
				w = gotime_int(tmp, w, u);
			}
		}
	}
	if (neg)
		tmp[--w] = '-';

	if (len == 0)
		return;
	n = sizeof(tmp) - w;
	if (n > len - 1)
		n = len - 1;
	memcpy(buf, tmp + w, n);
	buf[n] = '\0';
}

static int
gotime_local(int64_t unix_secs, struct tm *tm)
{
	time_t t = (time_t)unix_secs;

	if ((int64_t)t != unix_secs)
		return VPN_ERR_RANGE;
	tzset(); /* localtime_r need not notice a changed TZ by itself */
	if (localtime_r(&t, tm) == NULL)
		return VPN_ERR_RANGE;
	return 0;
}

/* Go writes years as at least four digits, the sign in front: "-0001". */
static void
gotime_year(const struct tm *tm, const char **sign, long long *year)
{
	*year = (long long)tm->tm_year + 1900;
	*sign = "";
	if (*year < 0) {
		*sign = "-";
		*year = -*year;
	}
}

static int
gotime_done(int n, size_t len)
{
	if (n < 0 || (size_t)n >= len)
		return VPN_ERR_RANGE;
	return 0;
}

int
go_format_time(int64_t unix_secs, char *buf, size_t len)
{
	struct tm tm;
	const char *sign;
	long long year;
	long zone;
	char zsign;
	int r, n;

	if ((r = gotime_local(unix_secs, &tm)) != 0)
		return r;
	gotime_year(&tm, &sign, &year);
	/* "-0700": minutes of offset, truncated toward zero, as Go does */
	zone = tm.tm_gmtoff / 60;
	zsign = '+';
	if (zone < 0) {
		zsign = '-';
		zone = -zone;
	}
	n = snprintf(buf, len,
	    "%s%04lld-%02d-%02d %02d:%02d:%02d %c%02ld%02ld ", sign, year,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, zsign,
	    zone / 60, zone % 60);
	if ((r = gotime_done(n, len)) != 0)
		return r;
	/* "MST": the abbreviation, else the offset again in -0700 form */
	if (tm.tm_zone != NULL && tm.tm_zone[0] != '\0')
		r = snprintf(buf + n, len - (size_t)n, "%s", tm.tm_zone);
	else
		r = snprintf(buf + n, len - (size_t)n, "%c%02ld%02ld", zsign,
		    zone / 60, zone % 60);
	return gotime_done(r, len - (size_t)n);
}

int
go_format_rfc3339(int64_t unix_secs, char *buf, size_t len)
{
	struct tm tm;
	const char *sign;
	long long year;
	long zone;
	char zone_s[16] = "Z";
	char zsign;
	int r, n;

	if ((r = gotime_local(unix_secs, &tm)) != 0)
		return r;
	gotime_year(&tm, &sign, &year);
	if (sign[0] != '\0' || year > 9999)
		return VPN_ERR_RANGE;
	if (tm.tm_gmtoff != 0) {
		zone = tm.tm_gmtoff / 60;
		zsign = '+';
		if (zone < 0) {
			zsign = '-';
			zone = -zone;
		}
		/* |offset| < 24h, so this always fits */
		snprintf(zone_s, sizeof(zone_s), "%c%02ld:%02ld", zsign,
		    (zone / 60) % 100, zone % 60);
	}
	n = snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d%s", year,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    zone_s);
	return gotime_done(n, len);
}

/* --- Time.Format layouts (go1.18 src/time/format.go: Nebula 1.6.1's) --- */

enum gotime_kind {
	GK_LONG_MONTH,   /* January */
	GK_MONTH,        /* Jan */
	GK_NUM_MONTH,    /* 1 */
	GK_ZERO_MONTH,   /* 01 */
	GK_LONG_WEEKDAY, /* Monday */
	GK_WEEKDAY,      /* Mon */
	GK_DAY,          /* 2 */
	GK_UNDER_DAY,    /* _2 */
	GK_ZERO_DAY,     /* 02 */
	GK_UNDER_YDAY,   /* __2 */
	GK_ZERO_YDAY,    /* 002 */
	GK_HOUR,         /* 15 */
	GK_HOUR12,       /* 3 */
	GK_ZERO_HOUR12,  /* 03 */
	GK_MINUTE,       /* 4 */
	GK_ZERO_MINUTE,  /* 04 */
	GK_SECOND,       /* 5 */
	GK_ZERO_SECOND,  /* 05 */
	GK_LONG_YEAR,    /* 2006 */
	GK_YEAR,         /* 06 */
	GK_PM,           /* PM */
	GK_LOWER_PM,     /* pm */
	GK_TZ,           /* MST */
	GK_OFFSET,       /* -0700 and the like */
	GK_FRAC,         /* .000, .999 */
};

/* One layout element: its kind, its length in the layout, and for the
 * zone offsets and fractions their details. */
struct gotime_elem {
	enum gotime_kind kind;
	size_t len;
	bool iso, colon, minutes, seconds; /* GK_OFFSET */
	bool trim;                         /* GK_FRAC: .999 */
	size_t digits;                     /* GK_FRAC */
	char sep;                          /* GK_FRAC: '.' or ',' */
};

/* The offsets after their '-' or 'Z', longest of a family first. */
static const struct {
	const char *s;
	bool colon, minutes, seconds;
} gotime_offsets[] = {
    {"070000", false, true, true},
    {"07:00:00", true, true, true},
    {"0700", false, true, false},
    {"07:00", true, true, false},
    {"07", false, false, false},
};

static const char *const gotime_months[] = {"January", "February", "March",
    "April", "May", "June", "July", "August", "September", "October",
    "November", "December"};
static const char *const gotime_days[] = {"Sunday", "Monday", "Tuesday",
    "Wednesday", "Thursday", "Friday", "Saturday"};

static bool
gotime_at(const char *p, const char *s)
{
	return strncmp(p, s, strlen(s)) == 0;
}

static bool
gotime_elem_set(struct gotime_elem *e, enum gotime_kind kind, size_t len)
{
	e->kind = kind;
	e->len = len;
	return true;
}

/* The element that starts at p, if one does (Go's nextStdChunk). */
static bool
gotime_elem(const char *p, struct gotime_elem *e)
{
	static const enum gotime_kind zero_x[] = {GK_ZERO_MONTH, GK_ZERO_DAY,
	    GK_ZERO_HOUR12, GK_ZERO_MINUTE, GK_ZERO_SECOND, GK_YEAR};
	size_t i, n;

	memset(e, 0, sizeof(*e));
	switch (p[0]) {
	case 'J':
		if (gotime_at(p, "January"))
			return gotime_elem_set(e, GK_LONG_MONTH, 7);
		if (gotime_at(p, "Jan") && !(p[3] >= 'a' && p[3] <= 'z'))
			return gotime_elem_set(e, GK_MONTH, 3);
		return false;
	case 'M':
		if (gotime_at(p, "Monday"))
			return gotime_elem_set(e, GK_LONG_WEEKDAY, 6);
		if (gotime_at(p, "Mon") && !(p[3] >= 'a' && p[3] <= 'z'))
			return gotime_elem_set(e, GK_WEEKDAY, 3);
		if (gotime_at(p, "MST"))
			return gotime_elem_set(e, GK_TZ, 3);
		return false;
	case '0':
		if (p[1] >= '1' && p[1] <= '6')
			return gotime_elem_set(e, zero_x[p[1] - '1'], 2);
		if (gotime_at(p, "002"))
			return gotime_elem_set(e, GK_ZERO_YDAY, 3);
		return false;
	case '1':
		if (p[1] == '5')
			return gotime_elem_set(e, GK_HOUR, 2);
		return gotime_elem_set(e, GK_NUM_MONTH, 1);
	case '2':
		if (gotime_at(p, "2006"))
			return gotime_elem_set(e, GK_LONG_YEAR, 4);
		return gotime_elem_set(e, GK_DAY, 1);
	case '_':
		/* "_2006" is a literal '_' and then the year */
		if (p[1] == '2' && !gotime_at(p + 1, "2006"))
			return gotime_elem_set(e, GK_UNDER_DAY, 2);
		if (gotime_at(p, "__2"))
			return gotime_elem_set(e, GK_UNDER_YDAY, 3);
		return false;
	case '3':
		return gotime_elem_set(e, GK_HOUR12, 1);
	case '4':
		return gotime_elem_set(e, GK_MINUTE, 1);
	case '5':
		return gotime_elem_set(e, GK_SECOND, 1);
	case 'P':
		return p[1] == 'M' && gotime_elem_set(e, GK_PM, 2);
	case 'p':
		return p[1] == 'm' && gotime_elem_set(e, GK_LOWER_PM, 2);
	case '-':
	case 'Z':
		for (i = 0;
		     i < sizeof(gotime_offsets) / sizeof(gotime_offsets[0]);
		     i++) {
			if (!gotime_at(p + 1, gotime_offsets[i].s))
				continue;
			e->iso = p[0] == 'Z';
			e->colon = gotime_offsets[i].colon;
			e->minutes = gotime_offsets[i].minutes;
			e->seconds = gotime_offsets[i].seconds;
			return gotime_elem_set(
			    e, GK_OFFSET, 1 + strlen(gotime_offsets[i].s));
		}
		return false;
	case '.':
	case ',':
		if (p[1] != '0' && p[1] != '9')
			return false;
		for (n = 1; p[1 + n] == p[1]; n++)
			;
		if (gotime_isdigit(p[1 + n]))
			return false; /* "05.0001" is no fraction */
		e->trim = p[1] == '9';
		e->digits = n;
		e->sep = p[0];
		return gotime_elem_set(e, GK_FRAC, 1 + n);
	default:
		return false;
	}
}

/* Output into a fixed buffer; what does not fit is dropped and noted. */
struct gotime_out {
	char *buf;
	size_t len, off; /* off < len once len > 0 */
	bool over;
};

static void
gotime_put(struct gotime_out *o, const char *s, size_t n)
{
	size_t room = o->len > o->off ? o->len - o->off - 1 : 0;

	if (n > room) {
		n = room;
		o->over = true;
	}
	if (n > 0)
		memcpy(o->buf + o->off, s, n);
	o->off += n;
}

/* Go's appendInt: the sign, then at least width digits. */
static void
gotime_num(struct gotime_out *o, long long v, int width)
{
	unsigned long long u = (unsigned long long)v;
	char tmp[32];
	int n;

	if (v < 0) {
		gotime_put(o, "-", 1);
		u = -u;
	}
	n = snprintf(tmp, sizeof(tmp), "%0*llu", width, u);
	gotime_put(o, tmp, (size_t)n);
}

/* The numeric zones: Go's "-07:00" family, "Z" at offset zero for the
 * ISO 8601 ones; hours and minutes truncate toward zero. */
static void
gotime_offset(struct gotime_out *o, const struct gotime_elem *e, long off)
{
	long zone = off / 60, abs_off = off;

	if (off == 0 && e->iso) {
		gotime_put(o, "Z", 1);
		return;
	}
	if (zone < 0) {
		gotime_put(o, "-", 1);
		zone = -zone;
		abs_off = -abs_off;
	} else {
		gotime_put(o, "+", 1);
	}
	gotime_num(o, zone / 60, 2);
	if (e->colon)
		gotime_put(o, ":", 1);
	if (e->minutes)
		gotime_num(o, zone % 60, 2);
	if (e->seconds) {
		if (e->colon)
			gotime_put(o, ":", 1);
		gotime_num(o, abs_off % 60, 2);
	}
}

/* Go's formatNano: digits of the nanoseconds, truncated, not rounded. */
static void
gotime_nano(struct gotime_out *o, const struct gotime_elem *e, long nsec)
{
	char d[16];
	size_t n = e->digits < 9 ? e->digits : 9;

	if (nsec < 0 || nsec > 999999999)
		nsec = 0;
	snprintf(d, sizeof(d), "%09ld", nsec);
	if (e->trim) {
		while (n > 0 && d[n - 1] == '0')
			n--;
		if (n == 0)
			return;
	}
	gotime_put(o, &e->sep, 1);
	gotime_put(o, d, n);
}

static void
gotime_emit(struct gotime_out *o, const struct gotime_elem *e,
    const struct tm *tm, long nsec)
{
	const char *name;
	long long year = (long long)tm->tm_year + 1900;
	int hour12 = tm->tm_hour % 12 == 0 ? 12 : tm->tm_hour % 12;
	int yday = tm->tm_yday + 1;

	switch (e->kind) {
	case GK_LONG_MONTH:
	case GK_MONTH:
		name = gotime_months[(unsigned)tm->tm_mon % 12];
		gotime_put(o, name, e->kind == GK_MONTH ? 3 : strlen(name));
		return;
	case GK_NUM_MONTH:
	case GK_ZERO_MONTH:
		gotime_num(o, tm->tm_mon + 1, e->kind == GK_ZERO_MONTH ? 2 : 0);
		return;
	case GK_LONG_WEEKDAY:
	case GK_WEEKDAY:
		name = gotime_days[(unsigned)tm->tm_wday % 7];
		gotime_put(o, name, e->kind == GK_WEEKDAY ? 3 : strlen(name));
		return;
	case GK_DAY:
	case GK_UNDER_DAY:
		if (e->kind == GK_UNDER_DAY && tm->tm_mday < 10)
			gotime_put(o, " ", 1);
		gotime_num(o, tm->tm_mday, 0);
		return;
	case GK_ZERO_DAY:
		gotime_num(o, tm->tm_mday, 2);
		return;
	case GK_UNDER_YDAY:
		if (yday < 100)
			gotime_put(
			    o, yday < 10 ? "  " : " ", yday < 10 ? 2 : 1);
		gotime_num(o, yday, 0);
		return;
	case GK_ZERO_YDAY:
		gotime_num(o, yday, 3);
		return;
	case GK_HOUR:
		gotime_num(o, tm->tm_hour, 2);
		return;
	case GK_HOUR12:
	case GK_ZERO_HOUR12:
		gotime_num(o, hour12, e->kind == GK_ZERO_HOUR12 ? 2 : 0);
		return;
	case GK_MINUTE:
	case GK_ZERO_MINUTE:
		gotime_num(o, tm->tm_min, e->kind == GK_ZERO_MINUTE ? 2 : 0);
		return;
	case GK_SECOND:
	case GK_ZERO_SECOND:
		gotime_num(o, tm->tm_sec, e->kind == GK_ZERO_SECOND ? 2 : 0);
		return;
	case GK_LONG_YEAR:
		gotime_num(o, year, 4);
		return;
	case GK_YEAR:
		gotime_num(o, year % 100, 2);
		return;
	case GK_PM:
		gotime_put(o, tm->tm_hour >= 12 ? "PM" : "AM", 2);
		return;
	case GK_LOWER_PM:
		gotime_put(o, tm->tm_hour >= 12 ? "pm" : "am", 2);
		return;
	case GK_TZ:
		/* the abbreviation, else the offset as -0700 */
		if (tm->tm_zone != NULL && tm->tm_zone[0] != '\0') {
			gotime_put(o, tm->tm_zone, strlen(tm->tm_zone));
		} else {
			struct gotime_elem num = {.minutes = true};

			gotime_offset(o, &num, tm->tm_gmtoff);
		}
		return;
	case GK_OFFSET:
		gotime_offset(o, e, tm->tm_gmtoff);
		return;
	case GK_FRAC:
		gotime_nano(o, e, nsec);
		return;
	}
}

int
go_format_layout(
    const char *layout, const struct tm *tm, long nsec, char *buf, size_t len)
{
	struct gotime_out o = {buf, len, 0, len == 0};
	struct gotime_elem e;
	const char *p;

	for (p = layout; *p != '\0'; p += e.len) {
		if (gotime_elem(p, &e)) {
			gotime_emit(&o, &e, tm, nsec);
		} else {
			gotime_put(&o, p, 1);
			e.len = 1;
		}
	}
	if (len > 0)
		buf[o.off] = '\0';
	return o.over ? VPN_ERR_RANGE : 0;
}
