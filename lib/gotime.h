/*
 * lib/gotime.h: Go's time.ParseDuration, Duration.String and the two ways
 * Nebula prints a time.Time, so that our output matches nebula-cert's
 * byte for byte; and Time.Format with a layout, for the log's timestamps.
 *
 * The time functions use the process's local zone through localtime_r(3),
 * so TZ is honoured.  Go reads TZ itself: unset means /etc/localtime, ""
 * means UTC, anything else names a zoneinfo file (a POSIX rule such as
 * "CET-1" is not understood by Go and gives UTC there, while glibc applies
 * it).  With zoneinfo names the two agree.
 */
#ifndef VPN_GOTIME_H
#define VPN_GOTIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Large enough for any go_format_duration() result plus the NUL. */
#define GOTIME_DURATION_LEN 32
/* Large enough for go_format_time() and go_format_rfc3339() results. */
#define GOTIME_TIME_LEN 96

/*
 * Go's time.ParseDuration: "300ms", "-1.5h", "2h45m", "1h30m0.5s", "0",
 * "+5s"; units ns, us, µs (U+00B5), μs (U+03BC), ms, s, m, h.  On success
 * stores nanoseconds in *ns and returns 0.  Returns VPN_ERR_INVAL for a
 * syntax error (empty, bare sign, missing or unknown unit, a number with no
 * digits such as ".s") and VPN_ERR_RANGE when the value does not fit in
 * int64 nanoseconds; *ns is then untouched.
 */
int go_parse_duration(const char *s, int64_t *ns);

/*
 * Go's Duration.String(): "8760h0m0s", "1.5s", "300ms", "0s", "-1m0s",
 * "1µs", "2ns".  Writes a NUL-terminated string into buf, truncating to
 * len - 1 bytes; GOTIME_DURATION_LEN bytes always suffice.
 */
void go_format_duration(int64_t ns, char *buf, size_t len);

/*
 * Go's time.Time %v for time.Unix(unix_secs, 0) in the local zone:
 * "2026-11-22 05:05:46 +0000 UTC".  The zone is tm_zone, or the numeric
 * "+0530" form when the zone has no abbreviation.  Returns 0, or
 * VPN_ERR_RANGE when the time cannot be broken down or the result does not
 * fit in len bytes (GOTIME_TIME_LEN always suffices).
 */
int go_format_time(int64_t unix_secs, char *buf, size_t len);

/*
 * time.RFC3339 in the local zone, as json.Marshal writes a whole-second
 * time.Time (without the quotes): "2026-11-22T05:05:46Z" when the offset is
 * zero, else "2026-11-22T07:05:46+02:00".  Returns 0, or VPN_ERR_RANGE for
 * a year outside 0..9999 (json.Marshal refuses those too) or when the
 * result does not fit in len bytes.
 */
int go_format_rfc3339(int64_t unix_secs, char *buf, size_t len);

/* Go's time.RFC3339 as a layout for go_format_layout(). */
#define GO_LAYOUT_RFC3339 "2006-01-02T15:04:05Z07:00"

/*
 * Go's Time.Format(layout) for the broken-down time TM (as localtime_r(3)
 * fills it: tm_gmtoff and tm_zone are used) plus NSEC nanoseconds.  The
 * layout is written as Go's reference time, Mon Jan 2 15:04:05 MST 2006:
 *
 *   year     2006 06            month    January Jan 01 1
 *   weekday  Monday Mon         day      02 _2 2 (day of year: 002 __2)
 *   hour     15 03 3            minute   04 4       second  05 5
 *   AM/PM    PM pm
 *   zone     MST (abbreviation), -0700 -07:00 -07 -070000 -07:00:00, and
 *            the same with Z for -, which print "Z" at offset zero
 *   fraction .000 (that many digits) or .999 (trailing zeros dropped,
 *            and the dot with them when all are), after "." or ","
 *
 * recognised where they start, in Go's order ("Jan" and "Mon" not before
 * a lowercase letter; a fraction not before another digit); anything
 * else is copied as it is.  Writes a NUL-terminated string into buf,
 * truncated to len - 1 bytes.  Returns 0, or VPN_ERR_RANGE if truncated.
 */
int go_format_layout(
    const char *layout, const struct tm *tm, long nsec, char *buf, size_t len);

#endif
