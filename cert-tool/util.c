/* cert-tool/util.c: errors, flags, files and time for the modes. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ct.h"
#include "err.h"

static enum ct_status __attribute__((format(printf, 3, 0)))
vfail(struct ct *ct, enum ct_status st, const char *fmt, va_list ap)
{
	vsnprintf(ct->msg, sizeof(ct->msg), fmt, ap);
	return st;
}

enum ct_status
ct_fail(struct ct *ct, const char *fmt, ...)
{
	enum ct_status st;
	va_list ap;

	va_start(ap, fmt);
	st = vfail(ct, CT_ERR, fmt, ap);
	va_end(ap);
	return st;
}

enum ct_status
ct_usage(struct ct *ct, const char *fmt, ...)
{
	enum ct_status st;
	va_list ap;

	va_start(ap, fmt);
	st = vfail(ct, CT_USAGE_ERR, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Error: %s\n", ct->msg);
	ct_print_usage(ct);
	return st;
}

enum ct_status
ct_parse(struct ct *ct, struct goflag *flags, size_t n, int argc,
    char **argv)
{
	int argi = 0, r;

	if (n > CT_MAX_FLAGS)
		return ct_fail(ct, "internal error: too many flags");
	memcpy(ct->defaults, flags, n * sizeof(*flags));
	ct->nflags = n;
	r = goflag_parse(flags, n, argc, argv, &argi, ct->msg, sizeof(ct->msg));
	if (r == GOFLAG_HELP) {
		ct_print_usage(ct);
		return CT_HELP;
	}
	if (r != 0) {
		/* Go's FlagSet prints the message itself before returning. */
		fprintf(stderr, "%s\n", ct->msg);
		return CT_ERR;
	}
	return CT_OK;
}

void
ct_print_usage(const struct ct *ct)
{
	if (ct->nflags == 0)
		return;
	fprintf(stderr, "Usage of %s %s\n", ct->argv0, ct->summary);
	goflag_print_defaults(stderr, ct->defaults, ct->nflags);
}

size_t
ct_split(char *s, char **items, size_t max, bool spaces_only)
{
	size_t n = 0;
	char *tok, *end, *save = NULL;

	/* strtok_r would merge separators; do it by hand to keep Go's
	 * strings.Split + TrimSpace + drop-empty behaviour. */
	for (tok = s; tok != NULL; tok = save) {
		save = strchr(tok, ',');
		if (save != NULL)
			*save++ = '\0';
		while (*tok == ' ' || (!spaces_only && isspace((unsigned char)*tok)))
			tok++;
		end = tok + strlen(tok);
		while (end > tok && (end[-1] == ' ' ||
		    (!spaces_only && isspace((unsigned char)end[-1]))))
			*--end = '\0';
		if (*tok == '\0')
			continue;
		if (n < max)
			items[n] = tok;
		n++;
	}
	return n;
}

void
ct_now(int64_t *sec, int64_t *nsec)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	*sec = ts.tv_sec;
	*nsec = ts.tv_nsec;
}

int64_t
ct_add(int64_t sec, int64_t nsec, int64_t d)
{
	int64_t s = sec + d / 1000000000, ns = nsec + d % 1000000000;

	if (ns < 0) {
		ns += 1000000000;
		s--;
	} else if (ns >= 1000000000) {
		s++;
	}
	return s;
}

enum ct_status
ct_parse_nets(struct ct *ct, const char *list, bool subnets, struct cert *c)
{
	const char *what = subnets ? "subnet" : "ip";
	struct ip4net n;
	char *copy, **items = NULL;
	size_t count, i;
	enum ct_status st = CT_OK;
	int r;

	if (*list == '\0')
		return CT_OK;
	if ((copy = strdup(list)) == NULL ||
	    (items = calloc(strlen(list) / 2 + 1, sizeof(*items))) == NULL) {
		free(copy);
		return ct_fail(ct, "out of memory");
	}
	count = ct_split(copy, items, strlen(list) / 2 + 1, true);
	for (i = 0; i < count && st == CT_OK; i++) {
		r = ip4net_parse(items[i], &n);
		if (r == VPN_ERR_RANGE)
			st = ct_usage(ct,
			    "invalid %s definition: can only be ipv4, have %s",
			    what, items[i]);
		else if (r != 0)
			st = ct_usage(ct,
			    "invalid %s definition: invalid CIDR address: %s",
			    what, items[i]);
		else if (subnets)
			n.addr &= n.mask;
		if (st == CT_OK && (subnets ? cert_add_subnet(c, &n) :
		                              cert_add_ip(c, &n)) != 0)
			st = ct_fail(ct, "out of memory");
	}
	free(items);
	free(copy);
	return st;
}

enum ct_status
ct_parse_groups(struct ct *ct, const char *list, struct cert *c)
{
	char *copy, **items = NULL;
	size_t count, i;
	enum ct_status st = CT_OK;

	if (*list == '\0')
		return CT_OK;
	if ((copy = strdup(list)) == NULL ||
	    (items = calloc(strlen(list) / 2 + 1, sizeof(*items))) == NULL) {
		free(copy);
		return ct_fail(ct, "out of memory");
	}
	count = ct_split(copy, items, strlen(list) / 2 + 1, false);
	for (i = 0; i < count && st == CT_OK; i++)
		if (cert_add_group(c, items[i], strlen(items[i])) != 0)
			st = ct_fail(ct, "out of memory");
	free(items);
	free(copy);
	return st;
}
