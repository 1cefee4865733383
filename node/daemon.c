/*
 * node/daemon.c: the command line shared by cairn(8) and
 * cairn-lighthouse(8), Nebula's:
 *   cairn -config FILE|DIR [-test [-restart-keys OLD]]
 *   cairn -version
 * -restart-keys is ours; run as "nebula", usage does not show it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "goflag.h"
#include "log.h"
#include "node.h"
#include "reload.h"
#include "version.h"

/* The flags as Nebula has them, then ours. */
#define NEBULA_FLAGS 3
#define FLAGS 4

static void
usage(const char *argv0, const struct goflag *f)
{
	fprintf(stderr, "Usage of %s:\n", argv0);
	goflag_print_defaults(
	    stderr, f, version_as_nebula(argv0) ? NEBULA_FLAGS : FLAGS);
}

static void
say_key(const char *key, void *arg)
{
	(void)arg;
	printf("%s\n", key);
}

/* -test -restart-keys OLD: the keys whose change from OLD to cfg only a
 * restart applies, one per line, and nothing else on the output (the log
 * goes to the error stream in this mode).  An OLD that does not load (a
 * running node keeps what it had) is "*": restart. */
static int
restart_keys(const char *old_path, bool lighthouse, struct node_cfg *cfg)
{
	struct node_cfg *old;
	char err[1024];
	int r;

	log_hold();
	r = lighthouse ? node_cfg_load_lighthouse(old_path, time(NULL), &old,
	                     err, sizeof(err))
	               : node_cfg_load(old_path, time(NULL), &old, err,
	                     sizeof(err));
	log_release();
	if (r != 0) {
		fprintf(stderr, "-restart-keys: %s does not load, so a "
		                "restart: %s\n", old_path, err);
		printf("*\n");
		return 0;
	}
	(void)reload_restart_keys(old, cfg, say_key, NULL);
	node_cfg_free(old);
	return fflush(stdout) == 0 ? 0 : 1;
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
	    {"restart-keys", GOFLAG_STRING, "With -test: print the keys "
	        "whose change from this configuration needs a restart", "",
	        false, 0, false},
	};
	const char *argv0 = argv[0] != NULL ? argv[0] :
	    lighthouse                       ? "cairn-lighthouse" :
	                                       "cairn";
	struct goflag defaults[FLAGS];
	struct node_cfg *cfg;
	struct log_ev ev;
	char err[1024], *dump;
	FILE *logto = stdout;
	int argi = 1, r;

	memcpy(defaults, f, sizeof(defaults)); /* usage shows these */
	log_setup(stdout, LOG_LVL_INFO, LOG_FMT_TEXT);
	if (crypto_init() != 0) {
		log_msg(LOG_LVL_FATAL, "Failed to initialise libcrypto");
		return 1;
	}
	r = goflag_parse(f, FLAGS, argc, argv, &argi, err, sizeof(err));
	if (r == GOFLAG_HELP) {
		usage(argv0, defaults);
		return 0;
	}
	if (r != 0) {
		fprintf(stderr, "%s\n", err);
		usage(argv0, defaults);
		return 1;
	}
	if (f[2].b) {
		version_print(argv0, stdout, stderr);
		return 0;
	}
	if (*f[0].s == '\0') {
		fprintf(stderr, "-config flag must be set\n");
		usage(argv0, defaults);
		return 1;
	}
	if (*f[3].s != '\0' && !f[1].b) {
		fprintf(stderr, "-restart-keys needs -test\n");
		usage(argv0, defaults);
		return 1;
	}
	if (*f[3].s != '\0') {
		logto = stderr;
		log_setup(logto, LOG_LVL_INFO, LOG_FMT_TEXT);
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
	log_setup(logto, cfg->log_level, cfg->log_format);
	(void)log_setup_time(cfg->log_no_time, cfg->log_time_format);
	log_release();
	if (f[1].b && *f[3].s != '\0') {
		r = restart_keys(f[3].s, lighthouse, cfg);
		node_cfg_free(cfg);
		return r;
	}
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
