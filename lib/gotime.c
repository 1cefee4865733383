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
