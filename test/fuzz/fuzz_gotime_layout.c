/*
 * test/fuzz/fuzz_gotime_layout.c: logging.timestamp_format, a Go layout
 * given by the operator (go_format_layout).  The first 8 bytes pick the
 * time (seconds, nanoseconds, UTC offset, zone name); the rest, up to a
 * NUL, is the layout.  Oracles: no crash or over-read; the output is
 * NUL-terminated within the buffer; a buffer that fits gives 0 and the
 * same text as a larger one, one a byte short of it gives VPN_ERR_RANGE
 * and its prefix.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "gotime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char zone[] = "XYZ";
	char layout[512], big[8192], small[8192];
	struct tm tm;
	time_t t;
	long nsec;
	size_t n, len;

	if (size < 8)
		return 0;
	t = (time_t)(((uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
	                 (uint32_t)data[2] << 8 | data[3]) &
	             0x7fffffff);
	nsec = (long)(((uint32_t)data[4] << 16 | (uint32_t)data[5] << 8 |
	                  data[6]) %
	              1000000000);
	n = size - 8 < sizeof(layout) - 1 ? size - 8 : sizeof(layout) - 1;
	memcpy(layout, data + 8, n);
	layout[n] = '\0';
	if (gmtime_r(&t, &tm) == NULL)
		return 0;
	/* an offset of -12h..+14h in 15-minute steps, and a zone name */
	tm.tm_gmtoff = ((long)(data[7] % 105) - 48) * 900;
	tm.tm_zone = zone;
	memset(big, 0x55, sizeof(big));
	if (go_format_layout(layout, &tm, nsec, big, sizeof(big)) != 0)
		abort(); /* 511 layout bytes cannot make 8 KiB */
	len = strlen(big);
	if (len >= sizeof(big))
		abort();
	if (go_format_layout(layout, &tm, nsec, small, len + 1) != 0 ||
	    strcmp(small, big) != 0)
		abort();
	if (len > 0) {
		if (go_format_layout(layout, &tm, nsec, small, len) !=
		        VPN_ERR_RANGE ||
		    strlen(small) != len - 1 || memcmp(small, big, len - 1))
			abort();
	}
	return 0;
}
