/*
 * test/fuzz/fuzz_goflag.c: cert-tool's command line.  The input, split at
 * NUL bytes, is an argument vector for goflag_parse with a flag set
 * shaped like sign's (strings, a duration, booleans); the values of -ip,
 * -subnets and -groups then go through cert-tool's list parsers.
 *
 * Oracles: the result is 0, GOFLAG_HELP or -1 with a message; parsing
 * stops inside the vector; a string value points into its argument;
 * parsing again gives the same, and a short error buffer a prefix of
 * the message; the defaults print and quote without overrunning; the
 * list splitter gives trimmed, non-empty items without commas, and
 * ct_parse_nets and ct_parse_groups take a list whose items all parse,
 * adding one entry per item.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "err.h"
#include "goflag.h"
#include "ipaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXARGS 32

enum { F_NAME, F_IP, F_GROUPS, F_SUBNETS, F_DURATION, F_JSON, F_V, F_COUNT };

static void
flags_init(struct goflag *f)
{
	memset(f, 0, F_COUNT * sizeof(*f));
	f[F_NAME] = (struct goflag){.name = "name",
	    .type = GOFLAG_STRING,
	    .usage = "Required: name of the `cert`",
	    .s = ""};
	f[F_IP] = (struct goflag){
	    .name = "ip", .type = GOFLAG_STRING, .usage = "ip", .s = ""};
	f[F_GROUPS] = (struct goflag){.name = "groups",
	    .type = GOFLAG_STRING,
	    .usage = "groups",
	    .s = "a,b"};
	f[F_SUBNETS] = (struct goflag){.name = "subnets",
	    .type = GOFLAG_STRING,
	    .usage = "subnets",
	    .s = ""};
	f[F_DURATION] = (struct goflag){.name = "duration",
	    .type = GOFLAG_DURATION,
	    .usage = "how long",
	    .d = 3600000000000};
	f[F_JSON] = (struct goflag){
	    .name = "json", .type = GOFLAG_BOOL, .usage = "json"};
	f[F_V] = (struct goflag){
	    .name = "v", .type = GOFLAG_BOOL, .usage = "v", .b = true};
}

static bool
same_flags(const struct goflag *a, const struct goflag *b)
{
	size_t i;

	for (i = 0; i < F_COUNT; i++)
		if (a[i].s != b[i].s || a[i].b != b[i].b || a[i].d != b[i].d ||
		    a[i].set != b[i].set)
			return false;
	return true;
}

/* cert-tool's list parsers on one value. */
static void
lists(const char *v, bool nets)
{
	struct ct ct;
	struct ip4net n;
	struct cert *c;
	char *copy, **items;
	size_t max = strlen(v) / 2 + 1, count, i, len;
	bool all = true;

	if ((copy = strdup(v)) == NULL ||
	    (items = calloc(max, sizeof(*items))) == NULL)
		abort();
	count = ct_split(copy, items, max, nets);
	if (count > max)
		abort();
	for (i = 0; i < count; i++) {
		len = strlen(items[i]);
		if (len == 0 || strchr(items[i], ',') != NULL ||
		    items[i][0] == ' ' || items[i][len - 1] == ' ' ||
		    (!nets && (isspace((unsigned char)items[i][0]) ||
		                  isspace((unsigned char)items[i][len - 1]))))
			abort();
		if (nets && ip4net_parse(items[i], &n) != 0)
			all = false;
	}
	memset(&ct, 0, sizeof(ct));
	ct.argv0 = "cert-tool";
	if ((c = cert_new()) == NULL)
		abort();
	if (!nets) {
		if (ct_parse_groups(&ct, v, c) != CT_OK || c->ngroups != count)
			abort();
	} else if (all) { /* a bad one would print its error */
		if (ct_parse_nets(&ct, v, true, c) != CT_OK ||
		    c->nsubnets != count ||
		    ct_parse_nets(&ct, v, false, c) != CT_OK ||
		    c->nips != count)
			abort();
		for (i = 0; i < count; i++)
			if ((c->subnets[i].addr & ~c->subnets[i].mask) != 0)
				abort(); /* subnets are networks */
	}
	cert_free(c);
	free(items);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct goflag f[F_COUNT], g[F_COUNT];
	char *buf, *argv[MAXARGS + 1], err[512], err2[512], small[9], q[64];
	char *ms = NULL;
	size_t off, msl = 0, i;
	int argc = 0, argi = 0, argi2 = 0, r, r2, k;
	FILE *mf;

	if (size > 4096 || (buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (off = 0; off <= size && argc < MAXARGS; argc++) {
		argv[argc] = buf + off;
		off += strlen(buf + off) + 1;
	}
	argv[argc] = NULL;

	flags_init(f);
	r = goflag_parse(f, F_COUNT, argc, argv, &argi, err, sizeof(err));
	if (argi < 0 || argi > argc || strlen(err) >= sizeof(err))
		abort();
	if (r == -1 && err[0] == '\0')
		abort();
	if (r != 0 && r != -1 && r != GOFLAG_HELP)
		abort();
	if (r == 0)
		for (i = 0; i < F_COUNT; i++) {
			if (f[i].type != GOFLAG_STRING || !f[i].set)
				continue;
			for (k = 0; k < argi; k++)
				if (f[i].s >= argv[k] &&
				    f[i].s <= argv[k] + strlen(argv[k]))
					break;
			if (k == argi)
				abort(); /* not inside an argument parsed */
		}

	/* again, and with a short error buffer */
	flags_init(g);
	r2 = goflag_parse(g, F_COUNT, argc, argv, &argi2, err2, sizeof(err2));
	if (r2 != r || argi2 != argi || strcmp(err, err2) != 0 ||
	    !same_flags(f, g))
		abort();
	flags_init(g);
	argi2 = 0;
	r2 = goflag_parse(g, F_COUNT, argc, argv, &argi2, small, sizeof(small));
	if (r2 != r || argi2 != argi ||
	    (r == -1 && strncmp(err, small, strlen(small)) != 0))
		abort();
	flags_init(g);
	argi2 = 0;
	if (goflag_parse(g, F_COUNT, argc, argv, &argi2, NULL, 0) != r)
		abort();

	/* the defaults, with the values parsed, and quoting */
	if ((mf = open_memstream(&ms, &msl)) == NULL)
		abort();
	goflag_print_defaults(mf, f, F_COUNT);
	if (fclose(mf) != 0 || ms == NULL || strlen(ms) != msl)
		abort();
	free(ms);
	for (k = 0; k < argc; k++) {
		goflag_quote(argv[k], q, sizeof(q));
		goflag_quote(argv[k], small, sizeof(small));
		if (strlen(q) >= sizeof(q) || strlen(small) >= sizeof(small))
			abort();
	}

	if (r == 0) {
		lists(f[F_GROUPS].s, false);
		lists(f[F_SUBNETS].s, true);
		lists(f[F_IP].s, true);
	}
	free(buf);
	return 0;
}
