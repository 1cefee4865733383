/*
 * test/fuzz/fuzz_ledger.c: the issuance ledger reader (cert-tool ledger)
 * and the check that sign makes before appending.  They must agree, and
 * appending a record to a file that passes the check must give a file
 * that still passes it, with the old bytes untouched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void
cleanup(void)
{
	if (*path != '\0')
		unlink(path);
}

static int
setup(void)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	/* the listing goes to stdout; drop it */
	if (freopen("/dev/null", "w", stdout) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/fuzz_ledgerXXXXXX",
	    dir != NULL && strlen(dir) < 40 ? dir : "/tmp");
	if ((fd = mkstemp(path)) == -1) {
		*path = '\0';
		return -1;
	}
	close(fd);
	atexit(cleanup);
	return 0;
}

/* Write data to the scratch ledger, append a record named after the first
 * bytes of data (without NULs, which a name cannot hold), and check. */
static void
append_keeps_valid(const uint8_t *data, size_t size)
{
	char err[512], why[LEDGER_WHY_MAX], name[32], *back = NULL;
	struct ip4net net = {0x0a000001, 0xffff0000};
	uint8_t key[32] = {1}, ca[32] = {2};
	struct ledger *l = NULL;
	struct cert *c;
	size_t i, n = 0, blen, line;
	FILE *f;

	if ((f = fopen(path, "w")) == NULL)
		abort();
	if (fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	for (i = 0; i < size && n < sizeof(name); i++)
		if (data[i] != 0)
			name[n++] = (char)data[i];
	if ((c = cert_new()) == NULL || cert_set_name(c, name, n) != 0 ||
	    cert_add_ip(c, &net) != 0 || cert_add_group(c, name, n) != 0 ||
	    cert_set_pubkey(c, key, 32) != 0 || cert_set_issuer(c, ca, 32) != 0)
		abort();
	c->not_before = 1795323946;
	c->not_after = 2426043945;
	if (ledger_check_file(path, err, sizeof(err)) != 0 ||
	    ledger_begin(path, &l, err, sizeof(err)) != 0 ||
	    ledger_append(l, c->not_before, c, err, sizeof(err)) != 0 ||
	    ledger_end(l, err, sizeof(err)) != 0)
		abort(); /* a valid ledger is refused */
	if (fileio_read(path, CT_MAX_LEDGER, &back, &blen, err,
	        sizeof(err)) != 0)
		abort();
	if (blen <= size || memcmp(back, data, size) != 0)
		abort(); /* the old bytes changed */
	if (ledger_check(back, blen, &line, why, sizeof(why)) != 0)
		abort(); /* the append made it unreadable */
	free(back);
	cert_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char why[LEDGER_WHY_MAX];
	enum ct_status st;
	struct ct ct;
	size_t line = 0;
	int r;

	if (ready == 0)
		ready = setup() == 0 ? 1 : -1;
	if (ready < 0)
		abort();
	memset(&ct, 0, sizeof(ct));
	r = ledger_check((const char *)data, size, &line, why, sizeof(why));
	st = ledger_list(&ct, "fuzz", (const char *)data, size, false, NULL);
	if ((r == 0) != (st == CT_OK))
		abort(); /* sign and the ledger mode disagree */
	if (r != 0 && (line == 0 || line > size || *why == '\0'))
		abort();
	st = ledger_list(&ct, "fuzz", (const char *)data, size, true, "web1");
	if ((r == 0) != (st == CT_OK))
		abort();
	if (r == 0) {
		struct ledger_db db;

		/* The whole-ledger reader agrees, and the reports run on
		 * whatever it accepts. */
		if (ledger_load((const char *)data, size, &db, &line, why,
		        sizeof(why)) != 0)
			abort();
		if (ledger_blocklist(&ct, &db, false) != CT_OK ||
		    ledger_blocklist(&ct, &db, true) != CT_OK)
			abort();
		st = ledger_expiring(&ct, &db, NULL, INT64_C(1) << 62, true);
		if (st != CT_OK && st != CT_FOUND)
			abort();
		ledger_db_free(&db);
		append_keeps_valid(data, size);
	}
	return 0;
}
