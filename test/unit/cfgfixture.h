/*
 * test/unit/cfgfixture.h: a node configuration from YAML text, for the
 * unit tests of what the node reads (test_nodecfg, test_stats): the
 * text, after the fixtures' pki section when asked, goes to a temporary
 * file that node_cfg_load reads at NOW.
 */
#ifndef TEST_CFGFIXTURE_H
#define TEST_CFGFIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "node.h"

#define NOW 1893456000 /* 2030-01-01: inside the fixtures' validity */
#define FX "fixtures/nebula-1.6.1/"

static const char PKI[] = "pki:\n"
                          "  ca: " FX "ca.crt\n"
                          "  cert: " FX "host-a.crt\n"
                          "  key: " FX "host-a.key\n";

static inline int
cfg_load(const char *extra, bool with_pki, struct node_cfg **out, char *err,
    size_t errlen)
{
	char path[] = "/tmp/test_cfg_XXXXXX.yml";
	FILE *f;
	int fd, r;

	fd = mkstemps(path, 4);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, "%s%s", with_pki ? PKI : "", extra);
	fclose(f);
	r = node_cfg_load(path, NOW, out, err, errlen);
	unlink(path);
	return r;
}

#endif
