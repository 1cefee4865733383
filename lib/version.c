/* lib/version.c: what -version prints (version.h). */
#include <string.h>

#include "version.h"

bool
version_as_nebula(const char *argv0)
{
	const char *base;

	if (argv0 == NULL)
		return false;
	base = strrchr(argv0, '/');
	base = base != NULL ? base + 1 : argv0;
	return strncmp(base, "nebula", 6) == 0;
}

void
version_print(const char *argv0, FILE *out, FILE *err)
{
	if (version_as_nebula(argv0)) {
		fprintf(out, "Version: %s\n", NEBULA_COMPAT_VERSION);
		fflush(out);
		fprintf(err, "cairn %s, compatible with Nebula %s\n",
		    VPN_VERSION, NEBULA_COMPAT_VERSION);
		return;
	}
	fprintf(out, "Version: %s\nCompatible with Nebula %s\n", VPN_VERSION,
	    NEBULA_COMPAT_VERSION);
}
