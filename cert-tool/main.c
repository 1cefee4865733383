/*
 * cert-tool: the offline CA tool, a drop-in for nebula-cert 1.6.1.
 * Modes ca, keygen, sign, print, verify (nebula-cert's flags and
 * messages) and ledger.  See cairn-cert(1).
 */
#include <stdio.h>
#include <string.h>

#include "ct.h"
#include "version.h"

static const struct mode {
	const char *name;
	enum ct_status (*run)(struct ct *, int, char **);
	const char *summary;
} modes[] = {
    {"ca", cmd_ca, "ca <flags>: create a self signed certificate authority"},
    {"keygen", cmd_keygen, "keygen <flags>: create a public/private key "
                           "pair. the public key can be passed to "
                           "`cert-tool sign`"},
    {"sign", cmd_sign, "sign <flags>: create and sign a certificate"},
    {"print", cmd_print, "print <flags>: prints details about a "
                         "certificate"},
    {"verify", cmd_verify, "verify <flags>: verifies a certificate isn't "
                           "expired and was signed by a trusted "
                           "authority."},
    {"ledger", cmd_ledger, "ledger <flags>: lists the certificates "
                           "recorded by sign -ledger; -expiring, "
                           "-blocklist"},
    {"revoke", cmd_revoke, "revoke <flags>: records the revocation of "
                           "certificates in the ledger"},
    {"reissue", cmd_reissue, "reissue <flags>: re-issues every live "
                             "certificate of the ledger under a new CA"},
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

static void
help(const char *argv0, const char *err)
{
	size_t i;

	if (err != NULL)
		fprintf(stderr, "Error: %s\n\n", err);
	fprintf(stderr, "Usage of %s <global flags> <mode>:\n", argv0);
	fprintf(stderr, "  Global flags:\n"
	                "    -version: Prints the version\n"
	                "    -h, -help: Prints this help message\n\n"
	                "  Modes:\n");
	for (i = 0; i < NMODES; i++)
		fprintf(stderr, "    %s\n", modes[i].summary);
}

/* A mode's usage, for "cert-tool -h <mode>": the mode prints it on -h. */
static void
mode_help(struct ct *ct, const struct mode *m)
{
	char *argv[] = {(char *)"-h", NULL};

	m->run(ct, 1, argv);
}

int
main(int argc, char **argv)
{
	struct goflag g[] = {
	    {"h", GOFLAG_BOOL, "Print command line usage", "", false, 0, false},
	    {"help", GOFLAG_BOOL, "Print command line usage", "", false, 0,
	        false},
	    {"version", GOFLAG_BOOL, "Print version", "", false, 0, false},
	};
	struct ct ct;
	const struct mode *m = NULL;
	enum ct_status st;
	char err[512];
	int argi = 1;
	size_t i;

	memset(&ct, 0, sizeof(ct));
	ct.argv0 = argv[0] != NULL ? argv[0] : "cairn-cert";
	if (goflag_parse(g, 3, argc, argv, &argi, err, sizeof(err)) != 0) {
		/* Go's top-level flag.Parse: message, usage, exit 1. */
		if (*err != '\0')
			fprintf(stderr, "%s\n", err);
		help(ct.argv0, NULL);
		return 1;
	}
	if (g[2].b) {
		version_print(ct.argv0, stdout, stderr);
		return 0;
	}
	if (argi >= argc) {
		if (g[0].b || g[1].b) {
			help(ct.argv0, NULL);
			return 0;
		}
		help(ct.argv0, "No mode was provided");
		return 1;
	}
	for (i = 0; i < NMODES; i++)
		if (strcmp(argv[argi], modes[i].name) == 0)
			m = &modes[i];
	ct.mode = argv[argi];
	ct.summary = m != NULL ? m->summary : NULL;
	if (g[0].b || g[1].b) {
		if (m != NULL)
			mode_help(&ct, m);
		return 0;
	}
	if (m == NULL) {
		fprintf(stderr, "Error: unknown mode: %s\n", argv[argi]);
		return 1;
	}
	st = m->run(&ct, argc - argi - 1, argv + argi + 1);
	switch (st) {
	case CT_OK:
	case CT_HELP:
		return 0;
	case CT_USAGE_ERR:
		return 1;
	case CT_FOUND:
		return 3;
	case CT_ERR:
		fprintf(stderr, "Error: %s\n", ct.msg);
		return 1;
	}
	return 1;
}
