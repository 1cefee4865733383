/*
 * node/daemon.c: the command line shared by node(8) and lighthouse(8):
 *   node -config FILE|DIR [-test]
 *   node -version
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "goflag.h"
#include "log.h"
#include "node.h"

static void
usage(const char *argv0, const struct goflag *f, size_t n)
{
	fprintf(stderr, "Usage of %s:\n", argv0);
	goflag_print_defaults(stderr, f, n);
}

int
daemon_main(int argc, char **argv, bool lighthouse)
{
	struct goflag f[] = {
	    {"config", GOFLAG_STRING, "Path to either a file or directory to "
	        "load configuration from", "", false, 0, false},
	    {"test", GOFLAG_BOOL, "Test the config and print the end result. "
	        "Non zero exit indicates a faulty config", "", false, 0, false},
	    {"version", GOFLAG_BOOL, "Print version", "", false, 0, false},
	};
	const char *argv0 = argv[0] != NULL ? argv[0] :
	    lighthouse                       ? "lighthouse" :
	                                       "node";
	struct goflag defaults[3];
	struct node_cfg *cfg;
	struct log_ev ev;
	char err[1024], *dump;
	int argi = 1, r;

	memcpy(defaults, f, sizeof(defaults)); /* usage shows these */
	log_setup(stdout, LOG_LVL_INFO, LOG_FMT_TEXT);
	if (crypto_init() != 0) {
		log_msg(LOG_LVL_FATAL, "Failed to initialise libcrypto");
		return 1;
	}
	r = goflag_parse(f, 3, argc, argv, &argi, err, sizeof(err));
	if (r == GOFLAG_HELP) {
		usage(argv0, defaults, 3);
		return 0;
	}
	if (r != 0) {
		fprintf(stderr, "%s\n", err);
		usage(argv0, defaults, 3);
		return 1;
	}
	if (f[2].b) {
		printf("Version: %s\n", VPN_VERSION);
		return 0;
	}
	if (*f[0].s == '\0') {
		fprintf(stderr, "-config flag must be set\n");
		usage(argv0, defaults, 3);
		return 1;
	}
	/* What the configuration says as it loads (unknown keys...) comes
	 * out in the log format it sets, or the default if it does not
	 * load. */
	log_hold();
	r = lighthouse ?
	    node_cfg_load_lighthouse(f[0].s, time(NULL), &cfg, err,
	        sizeof(err)) :
	    node_cfg_load(f[0].s, time(NULL), &cfg, err, sizeof(err));
	if (r != 0) {
		log_release();
		if (log_ev_begin(&ev, LOG_LVL_FATAL, "Failed to load config")) {
			log_ev_str(&ev, "config_path", f[0].s);
			log_ev_err(&ev, err);
			log_ev_end(&ev);
		}
		return 1;
	}
	log_setup(stdout, cfg->log_level, cfg->log_format);
	(void)log_setup_time(cfg->log_no_time, cfg->log_time_format);
	log_release();
	if (f[1].b) {
		/* Like Nebula: show the merged configuration, then the verdict;
		 * never an inline private key. */
		if (strstr(config_node_scalar(config_get(cfg->raw, "pki.key")),
		        "-----BEGIN") != NULL)
			log_info("merged configuration not shown: pki.key "
			         "holds the private key inline");
		else if ((dump = config_dump(cfg->raw)) != NULL) {
			log_info("merged configuration:\n%s", dump);
			free(dump);
		}
		log_info("config is valid: %s", f[0].s);
		node_cfg_free(cfg);
		return 0;
	}
	return node_run(cfg, f[0].s);
}
