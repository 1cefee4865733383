/*
 * node/sshd.h: Nebula's debug console, the sshd section.  The SSH server
 * is a separate program, cairn-sshd (sshd/), which the node runs once it
 * is started and its privileges are dropped, and restarts when it dies
 * or when a reload changes the section.  The node gives it one end of a
 * SOCK_SEQPACKET socket pair (its fd 3) and its settings (fd 4, a memfd:
 * the listening address, the host key's path, the authorized keys); for
 * each command run over SSH the helper sends the node one end of a new
 * stream socket pair over fd 3 (SCM_RIGHTS), and the node serves the
 * control protocol (ctl.h) on it, so that the commands, their output and
 * their errors are the control socket's.  Parsing strangers' SSH bytes
 * thus stays out of the node's process; the helper holds the host key.
 */
#ifndef NODE_SSHD_H
#define NODE_SSHD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define SSHD_MAX_KEYS 1024          /* authorized keys in all */
#define SSHD_KEY_MAX 8192           /* one authorized_keys line */
#define SSHD_USER_MAX 64            /* a user name, NUL excluded */
#define SSHD_KEYFILE_MAX (1u << 20) /* sshd.host_key's file */
#define SSHD_HELPER "cairn-sshd"

/* One authorized key: a user and the key as "TYPE BASE64" (options and
 * comment dropped). */
struct sshd_key {
	char user[SSHD_USER_MAX + 1];
	char *key; /* malloc'd */
};

/* The sshd section, validated; with enabled false nothing else is read,
 * as in Nebula. */
struct sshd_cfg {
	bool enabled;
	char listen[256]; /* sshd.listen as written */
	char host[64];    /* numeric; "": every address */
	uint16_t port;
	char host_key[1024];      /* sshd.host_key: a path */
	uint8_t host_key_sum[32]; /* SHA-256 of that file when loaded */
	struct sshd_key *keys;
	size_t nkeys;
};

/*
 * Read the sshd section of raw into *out (zeroed first; sshd_cfg_clear
 * frees it, also after an error).  The host key file is read and checked
 * here, so that -test finds a missing or unusable one.  0, or an error
 * with *ce filled ("FILE:LINE: KEY: reason").
 */
int sshd_cfg_load(
    const struct config *raw, struct sshd_cfg *out, struct config_err *ce);
void sshd_cfg_clear(struct sshd_cfg *c);
/* Would a helper started with a run as one started with b? */
bool sshd_cfg_same(const struct sshd_cfg *a, const struct sshd_cfg *b);

/*
 * An authorized_keys line as OpenSSH (and Go's ssh.ParseAuthorizedKey)
 * read it: [OPTIONS] TYPE BASE64 [COMMENT].  0 with "TYPE BASE64" in
 * out, or VPN_ERR_INVAL with the reason in why.
 */
int sshd_parse_authorized_key(
    const char *line, char *out, size_t outlen, const char **why);

struct node;
struct sshd;

/* The supervisor, for n (node_run, after privileges are dropped): it runs
 * the helper now if n->cfg->sshd.enabled, and later as reloads say.
 * 0, or an error (logged). */
int sshd_start(struct node *n, struct sshd **out);
/* After a reload has swapped n->cfg: restart the helper if its settings
 * changed, start or stop it if sshd.enabled did.  NULL-safe. */
void sshd_reload(struct sshd *s);
/* Stop the helper (SIGTERM, then SIGKILL after a while) and reap it;
 * NULL-safe.  Blocks for at most a few seconds: for node_stop. */
void sshd_free(struct sshd *s);

#endif
