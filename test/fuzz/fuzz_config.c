/*
 * test/fuzz/fuzz_config.c: YAML loading (config_load_string), then every
 * accessor and getter on every node, and the YAML dump.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "allowlist.h"
#include "cert.h"
#include "config.h"
#include "firewall.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Expanded nodes visited per input: the loader caps documents at a
 * million, which is too slow to walk on every input. */
#define WALK_BUDGET 200000

static void
visit(const struct config_node *n, const char *path, size_t *budget)
{
	struct config_err err;
	const char *s, **list;
	char sub[CONFIG_PATH_LEN];
	int64_t i;
	bool b;
	size_t k, cnt;

	if (*budget == 0)
		return;
	(*budget)--;
	(void)config_node_file(n);
	(void)config_node_line(n);
	(void)config_node_raw(n);
	(void)config_node_str(n, path, "d", &s, &err);
	(void)config_node_int(n, path, 0, -100, 100000, &i, &err);
	(void)config_node_bool(n, path, false, &b, &err);
	(void)config_node_duration(n, path, 0, &i, &err);
	if (config_node_str_list(n, path, &list, &cnt, &err) == 0)
		free(list);
	s = config_node_scalar(n);
	if (s != NULL && strlen(s) == SIZE_MAX)
		abort();
	switch (config_node_type(n)) {
	case CONFIG_SEQ:
		for (k = 0; k < config_node_len(n); k++) {
			config_path_index(sub, sizeof(sub), path, k);
			visit(config_node_item(n, k), sub, budget);
		}
		break;
	case CONFIG_MAP:
		for (k = 0; k < config_node_len(n); k++) {
			s = config_node_key(n, k);
			if (s == NULL || config_node_keynode(n, k) == NULL)
				abort();
			config_path_key(sub, sizeof(sub), path, s);
			(void)config_node_get(n, s);
			visit(config_node_value(n, k), sub, budget);
		}
		break;
	case CONFIG_NULL:
	case CONFIG_SCALAR:
		break;
	}
}

/* The parsers built on the config: firewall rules and allow lists. */
static void
rules(const struct config *cfg)
{
	static struct cert *own;
	struct ip4net net = {0x0a000001, 0xffff0000};
	struct allowlist *al = NULL;
	struct allowranges *ar = NULL;
	struct config_err err;
	struct fw *fw = NULL;

	if (own == NULL && ((own = cert_new()) == NULL ||
	                       cert_add_ip(own, &net) != 0))
		abort();
	if (fw_build(cfg, own, 1, &fw, &err) == 0 && fw == NULL)
		abort();
	fw_free(fw);
	if (allowlist_build(config_get(cfg, "lighthouse.remote_allow_list"),
	        "lighthouse.remote_allow_list", false, &al, &err) == 0)
		allowlist_free(al);
	al = NULL;
	if (allowlist_build(config_get(cfg, "lighthouse.local_allow_list"),
	        "lighthouse.local_allow_list", true, &al, &err) == 0)
		allowlist_free(al);
	if (allowranges_build(config_get(cfg, "lighthouse.remote_allow_ranges"),
	        "lighthouse.remote_allow_ranges", &ar, &err) == 0)
		allowranges_free(ar);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL, *again = NULL;
	struct config_err err;
	char buf[1024], *dump, *dump2;
	const char *s, **list;
	size_t budget = WALK_BUDGET, n;
	int64_t i;
	int r;

	r = config_load_string(
	    (const char *)data, size, "fuzz.yml", &cfg, &err);
	if (r != 0) {
		if (cfg != NULL || r >= 0)
			abort();
		config_err_format(&err, buf, sizeof(buf));
		return 0;
	}
	visit(config_get(cfg, ""), "", &budget);
	(void)config_str(cfg, "pki.ca", NULL, &s, &err);
	(void)config_int(cfg, "listen.port", 0, 0, 65535, &i, &err);
	if (config_str_list(cfg, "lighthouse.hosts", &list, &n, &err) == 0)
		free(list);
	(void)config_get(cfg, "firewall.inbound");
	rules(cfg);
	if (budget > 0 && (dump = config_dump(cfg)) != NULL) {
		/* the dump loads back, and dumps the same */
		if (config_load_string(
		        dump, strlen(dump), "dump", &again, &err) != 0)
			abort();
		dump2 = config_dump(again);
		if (dump2 != NULL && strcmp(dump, dump2) != 0)
			abort();
		free(dump2);
		config_free(again);
		free(dump);
	}
	config_free(cfg);
	return 0;
}
