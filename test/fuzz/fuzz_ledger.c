/* test/fuzz/fuzz_ledger.c: the issuance ledger reader (cert-tool ledger). */
#include <stdio.h>
#include <string.h>

#include "ct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	struct ct ct;

	if (!quiet) { /* the listing goes to stdout; drop it */
		quiet = freopen("/dev/null", "w", stdout) != NULL;
	}
	memset(&ct, 0, sizeof(ct));
	ledger_list(&ct, (const char *)data, size, false, NULL);
	ledger_list(&ct, (const char *)data, size, true, "web1");
	return 0;
}
