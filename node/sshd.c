/*
 * node/sshd.c: the sshd section (sshd.h): its keys, read and checked as
 * Nebula 1.6.1's configSSH reads them but refused with file, line and
 * reason where Nebula logs and skips; and the supervisor of the helper,
 * cairn-sshd: started after the privilege drop, restarted with a backoff
 * when it dies and at once when a reload changes its settings, stopped at
 * node_stop.  The helper's exit is seen through a pidfd on the loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "crypto.h"
#include "ctl.h"
#include "err.h"
#include "fileio.h"
#include "log.h"
#include "nodeint.h"
#include "pem.h"
#include "sbuf.h"
#include "sshd.h"
#include "wire.h"

#ifndef SSHD_HELPER_DIR
#define SSHD_HELPER_DIR "/usr/local/libexec/cairn"
#endif

#define BACKOFF_MIN_S 1
#define BACKOFF_MAX_S 60
#define STABLE_NS (60 * 1000000000LL) /* a run this long resets backoff */
#define KILL_AFTER_S 5                /* SIGTERM, then SIGKILL */
#define CHAN_BATCH 16                 /* messages taken per wakeup */
#define CHAN_FD 3                     /* the helper's fds */
#define SETTINGS_FD 4

/* ---- the section ---------------------------------------------------- */

static const char *const key_types[] = {
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
};

static bool
known_type(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (strlen(key_types[i]) == len &&
		    memcmp(key_types[i], s, len) == 0)
			return true;
	return false;
}

/* An SSH wire string (RFC 4251: uint32 length, bytes). */
static const uint8_t *
rd_sshstr(struct rd *r, size_t *len)
{
	uint32_t n = rd_be32(r);

	*len = n;
	return rd_take(r, n);
}

static bool
str_is(const uint8_t *p, size_t len, const char *s)
{
	return p != NULL && strlen(s) == len && memcmp(p, s, len) == 0;
}

/* The public key blob of an authorized key: its type, as declared, and
 * for ed25519 the 32 bytes; the other types' fields are left to the
 * helper's libssh, which reads them for real. */
static int
check_blob(const uint8_t *blob, size_t len, const char *type, size_t tl,
    const char **why)
{
	struct rd r;
	const uint8_t *t, *k;
	size_t n, kl;

	rd_init(&r, blob, len);
	t = rd_sshstr(&r, &n);
	if (r.bad || n != tl || memcmp(t, type, tl) != 0) {
		*why = "the key inside is not of the type written before it";
		return VPN_ERR_INVAL;
	}
	if (str_is(t, n, "ssh-ed25519")) {
		k = rd_sshstr(&r, &kl);
		if (r.bad || k == NULL || kl != 32 || rd_left(&r) != 0) {
			*why = "not an ed25519 public key";
			return VPN_ERR_INVAL;
		}
	} else if (rd_left(&r) == 0) {
		*why = "the key is empty";
		return VPN_ERR_INVAL;
	}
	return 0;
}

int
sshd_parse_authorized_key(
    const char *line, char *out, size_t outlen, const char **why)
{
	const char *p = line, *type, *b64;
	size_t tl, bl, blen, end;
	uint8_t *blob;
	bool quote = false;
	int r;

	*why = "ssh: no key found";
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return VPN_ERR_INVAL;
	end = strlen(p);
	while (end > 0 && strchr(" \t\r\n", p[end - 1]) != NULL)
		end--;
	if (memchr(p, '\n', end) != NULL || memchr(p, '\r', end) != NULL) {
		*why = "one key per string";
		return VPN_ERR_INVAL;
	}
	tl = strcspn(p, " \t\r\n");
	if (!known_type(p, tl)) {
		/* options first: up to a blank outside double quotes */
		for (; *p != '\0'; p++) {
			if (*p == '\\' && quote && p[1] != '\0')
				p++;
			else if (*p == '"')
				quote = !quote;
			else if (!quote && (*p == ' ' || *p == '\t'))
				break;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		tl = strcspn(p, " \t\r\n");
		if (!known_type(p, tl)) {
			*why = tl == 0 ? "ssh: no key found"
			               : "not a key type this version takes "
			                 "(ssh-ed25519, ssh-rsa, ecdsa-sha2-*, "
			                 "sk-*)";
			return VPN_ERR_INVAL;
		}
	}
	type = p;
	p += tl;
	while (*p == ' ' || *p == '\t')
		p++;
	b64 = p;
	bl = strcspn(p, " \t\r\n");
	if (bl == 0 || bl > SSHD_KEY_MAX) {
		*why =
		    bl == 0 ? "no key after its type" : "the key is too long";
		return VPN_ERR_INVAL;
	}
	if ((blob = malloc(bl / 4 * 3 + 3)) == NULL)
		return VPN_ERR_NOMEM;
	if (pem_base64_decode(b64, bl, blob, &blen) != 0) {
		*why = "the key is not valid base64";
		r = VPN_ERR_INVAL;
	} else {
		r = check_blob(blob, blen, type, tl, why);
	}
	free(blob);
	if (r != 0)
		return r;
	if (tl + 1 + bl >= outlen) {
		*why = "the key is too long";
		return VPN_ERR_RANGE;
	}
	snprintf(out, outlen, "%.*s %.*s", (int)tl, type, (int)bl, b64);
	return 0;
}

/* Go's net.SplitHostPort, and a port of ours: numeric, 1..65535. */
static int
split_listen(const struct config_node *n, const char *s, char *host,
    size_t hostlen, uint16_t *port, struct config_err *ce)
{
	const char *h = s, *colon, *ps;
	size_t hl;
	char *end;
	long v;

	if (*s == '[') {
		if ((colon = strchr(s, ']')) == NULL)
			return config_node_err(ce, n, "sshd.listen",
			    VPN_ERR_INVAL,
			    "invalid sshd.listen address: address %s: missing "
			    "']' in address",
			    s);
		h = s + 1;
		hl = (size_t)(colon - h);
		if (colon[1] != ':')
			return config_node_err(ce, n, "sshd.listen",
			    VPN_ERR_INVAL,
			    "invalid sshd.listen address: address %s: missing "
			    "port in address",
			    s);
		ps = colon + 2;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return config_node_err(ce, n, "sshd.listen",
			    VPN_ERR_INVAL,
			    "invalid sshd.listen address: address %s: missing "
			    "port in address",
			    s);
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl) != NULL)
			return config_node_err(ce, n, "sshd.listen",
			    VPN_ERR_INVAL,
			    "invalid sshd.listen address: address %s: too many "
			    "colons in address",
			    s);
		ps = colon + 1;
	}
	if (strcmp(ps, "22") == 0)
		return config_node_err(ce, n, "sshd.listen", VPN_ERR_INVAL,
		    "sshd.listen can not use port 22");
	errno = 0;
	v = strtol(ps, &end, 10);
	if (*ps < '0' || *ps > '9' || *end != '\0' || errno != 0 || v < 1 ||
	    v > 65535)
		return config_node_err(ce, n, "sshd.listen", VPN_ERR_INVAL,
		    "invalid sshd.listen address: the port of %s is not a "
		    "number from 1 to 65535",
		    s);
	if (v == 22)
		return config_node_err(ce, n, "sshd.listen", VPN_ERR_INVAL,
		    "sshd.listen can not use port 22");
	if (hl >= hostlen)
		return config_node_err(ce, n, "sshd.listen", VPN_ERR_INVAL,
		    "invalid sshd.listen address: the host of %s is too long",
		    s);
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)v;
	return 0;
}

/* Where a key missing from the section is reported: the line of
 * "sshd:" itself. */
static const struct config_node *
section(const struct config *raw)
{
	const struct config_node *root = config_get(raw, "");
	size_t i;

	for (i = 0; i < config_node_len(root); i++)
		if (config_node_key(root, i) != NULL &&
		    strcmp(config_node_key(root, i), "sshd") == 0)
			return config_node_keynode(root, i);
	return config_get(raw, "sshd");
}

/* The host of sshd.listen as a numeric address ("" stays: every
 * address).  A name is resolved now, once, as static_host_map's are. */
static int
resolve_host(
    const struct config_node *n, struct sshd_cfg *c, struct config_err *ce)
{
	struct addrinfo hints, *res = NULL;
	uint8_t a[16];
	char num[INET6_ADDRSTRLEN];
	int r;

	if (*c->host == '\0' || inet_pton(AF_INET, c->host, a) == 1 ||
	    inet_pton(AF_INET6, c->host, a) == 1)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(c->host, NULL, &hints, &res)) != 0 || res == NULL)
		return config_node_err(ce, n, "sshd.listen", VPN_ERR_INVAL,
		    "invalid sshd.listen address: cannot resolve %s: %s",
		    c->host, r != 0 ? gai_strerror(r) : "no address");
	r = getnameinfo(res->ai_addr, res->ai_addrlen, num, sizeof(num), NULL,
	    0, NI_NUMERICHOST);
	freeaddrinfo(res);
	if (r != 0)
		return config_node_err(ce, n, "sshd.listen", VPN_ERR_INVAL,
		    "invalid sshd.listen address: cannot resolve %s", c->host);
	snprintf(c->host, sizeof(c->host), "%s", num);
	return 0;
}

/* An OpenSSH private key file's body: unencrypted, one key, of a type
 * the helper takes.  The texts are those of Go's x/crypto/ssh. */
static int
check_openssh_key(const uint8_t *p, size_t len, char *why, size_t whylen)
{
	static const char magic[] = "openssh-key-v1";
	const uint8_t *cipher, *kdf, *pub, *priv, *t, *t2;
	size_t cl, kl, pl, vl, tl, tl2;
	struct rd r, rp, rv;
	uint32_t nkeys, c1, c2;

	rd_init(&r, p, len);
	t = rd_take(&r, sizeof(magic));
	if (t == NULL || memcmp(t, magic, sizeof(magic)) != 0) {
		snprintf(
		    why, whylen, "ssh: invalid openssh private key format");
		return VPN_ERR_INVAL;
	}
	cipher = rd_sshstr(&r, &cl);
	kdf = rd_sshstr(&r, &kl);
	(void)rd_sshstr(&r, &tl); /* kdf options */
	nkeys = rd_be32(&r);
	pub = rd_sshstr(&r, &pl);
	priv = rd_sshstr(&r, &vl);
	if (r.bad) {
		snprintf(why, whylen, "ssh: malformed OpenSSH key");
		return VPN_ERR_INVAL;
	}
	if (!str_is(cipher, cl, "none") || !str_is(kdf, kl, "none")) {
		snprintf(why, whylen,
		    "ssh: this private key is passphrase protected");
		return VPN_ERR_INVAL;
	}
	if (nkeys != 1) {
		snprintf(why, whylen, "ssh: multi-key files are not supported");
		return VPN_ERR_INVAL;
	}
	rd_init(&rp, pub, pl);
	t = rd_sshstr(&rp, &tl);
	rd_init(&rv, priv, vl);
	c1 = rd_be32(&rv);
	c2 = rd_be32(&rv);
	t2 = rd_sshstr(&rv, &tl2);
	if (rp.bad || rv.bad) {
		snprintf(why, whylen, "ssh: malformed OpenSSH key");
		return VPN_ERR_INVAL;
	}
	if (c1 != c2) {
		snprintf(why, whylen, "ssh: checkint mismatch");
		return VPN_ERR_INVAL;
	}
	if (tl != tl2 || memcmp(t, t2, tl) != 0 ||
	    !known_type((const char *)t, tl) ||
	    strncmp((const char *)t, "sk-", 3) == 0) {
		snprintf(why, whylen, "ssh: unhandled key type %.*s",
		    (int)(tl < 64 ? tl : 64), (const char *)t);
		return VPN_ERR_INVAL;
	}
	return 0;
}

/* The host key file's text: a private key the helper can use. */
static int
check_host_key(const char *text, size_t len, char *why, size_t whylen)
{
	struct pem_block b;
	size_t used;
	int r;

	if (pem_decode(text, len, &b, &used) != 0) {
		snprintf(why, whylen, "ssh: no key found");
		return VPN_ERR_INVAL;
	}
	r = 0;
	if (strstr(text, "Proc-Type:") != NULL &&
	    strstr(text, "ENCRYPTED") != NULL) {
		snprintf(why, whylen,
		    "ssh: this private key is passphrase protected");
		r = VPN_ERR_INVAL;
	} else if (b.typelen == 19 &&
	           memcmp(b.type, "OPENSSH PRIVATE KEY", 19) == 0) {
		r = check_openssh_key(b.data, b.len, why, whylen);
	} else if (!((b.typelen == 15 &&
	                 memcmp(b.type, "RSA PRIVATE KEY", 15) == 0) ||
	               (b.typelen == 14 &&
	                   memcmp(b.type, "EC PRIVATE KEY", 14) == 0) ||
	               (b.typelen == 11 &&
	                   memcmp(b.type, "PRIVATE KEY", 11) == 0))) {
		snprintf(why, whylen, "ssh: unsupported key type \"%.*s\"",
		    (int)(b.typelen < 64 ? b.typelen : 64), b.type);
		r = VPN_ERR_INVAL;
	} else if (b.len == 0) {
		snprintf(why, whylen, "ssh: no key found");
		r = VPN_ERR_INVAL;
	}
	pem_block_clear(&b);
	return r;
}

static int
load_host_key(
    const struct config *raw, struct sshd_cfg *c, struct config_err *ce)
{
	const struct config_node *n = config_get(raw, "sshd.host_key");
	char err[512], why[256], *text = NULL;
	const char *s;
	size_t len;
	int r;

	if ((r = config_str(raw, "sshd.host_key", "", &s, ce)) != 0)
		return r;
	if (*s == '\0')
		return config_node_err(ce, n != NULL ? n : section(raw),
		    "sshd.host_key", VPN_ERR_INVAL,
		    "sshd.host_key must be provided");
	if (strlen(s) >= sizeof(c->host_key) || strpbrk(s, "\r\n") != NULL)
		return config_node_err(ce, n, "sshd.host_key", VPN_ERR_INVAL,
		    "not a usable path: longer than %zu bytes or with a line "
		    "break",
		    sizeof(c->host_key) - 1);
	snprintf(c->host_key, sizeof(c->host_key), "%s", s);
	if (fileio_read(s, SSHD_KEYFILE_MAX, &text, &len, err, sizeof(err)) !=
	    0)
		return config_node_err(ce, n, "sshd.host_key", VPN_ERR_SYS,
		    "error while loading sshd.host_key file: %s", err);
	r = check_host_key(text, len, why, sizeof(why));
	crypto_sha256(text, len, c->host_key_sum);
	crypto_cleanse(text, len);
	free(text);
	if (r != 0)
		return config_node_err(ce, n, "sshd.host_key", r,
		    "error while adding sshd.host_key: failed to parse private "
		    "key: %s",
		    why);
	return 0;
}

static bool
user_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SSHD_USER_MAX)
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static int
add_key(struct sshd_cfg *c, const struct config_node *kn, const char *kp,
    const char *user, struct config_err *ce)
{
	char buf[SSHD_KEY_MAX + 64];
	struct sshd_key *k;
	const char *s, *why;
	int r;

	if ((r = config_node_str(kn, kp, "", &s, ce)) != 0)
		return r;
	if (strlen(s) > SSHD_KEY_MAX)
		return config_node_err(ce, kn, kp, VPN_ERR_RANGE,
		    "longer than %d bytes", SSHD_KEY_MAX);
	if ((r = sshd_parse_authorized_key(s, buf, sizeof(buf), &why)) != 0)
		return config_node_err(ce, kn, kp, r, "%s", why);
	if (c->nkeys >= SSHD_MAX_KEYS)
		return config_node_err(ce, kn, kp, VPN_ERR_RANGE,
		    "more than %d keys in all", SSHD_MAX_KEYS);
	if ((k = reallocarray(c->keys, c->nkeys + 1, sizeof(*k))) == NULL)
		return VPN_ERR_NOMEM;
	c->keys = k;
	k = &c->keys[c->nkeys];
	snprintf(k->user, sizeof(k->user), "%s", user);
	if ((k->key = strdup(buf)) == NULL)
		return VPN_ERR_NOMEM;
	c->nkeys++;
	return 0;
}

/* sshd.authorized_users: [{user: NAME, keys: KEY or [KEY...]}...] */
static int
load_users(const struct config *raw, struct sshd_cfg *c, struct config_err *ce)
{
	const struct config_node *list, *item, *un, *kn;
	char kp[CONFIG_PATH_LEN], ip[CONFIG_PATH_LEN], jp[CONFIG_PATH_LEN];
	const char *user;
	size_t i, j;
	int r;

	if ((r = config_list(raw, "sshd.authorized_users", &list, ce)) != 0)
		return r;
	for (i = 0; i < config_node_len(list); i++) {
		item = config_node_item(list, i);
		config_path_index(ip, sizeof(ip), "sshd.authorized_users", i);
		if (config_node_type(item) != CONFIG_MAP)
			return config_node_err(ce, item, ip, VPN_ERR_INVAL,
			    "must be a map with user and keys");
		config_path_key(kp, sizeof(kp), ip, "user");
		un = config_node_get(item, "user");
		if ((r = config_node_str(un, kp, "", &user, ce)) != 0)
			return r;
		if (*user == '\0')
			return config_node_err(ce, item, ip, VPN_ERR_INVAL,
			    "Authorized user is missing the user field");
		if (!user_ok(user))
			return config_node_err(ce, un, kp, VPN_ERR_INVAL,
			    "a user name is 1 to %d printable characters "
			    "without blanks",
			    SSHD_USER_MAX);
		config_path_key(kp, sizeof(kp), ip, "keys");
		kn = config_node_get(item, "keys");
		switch (config_node_type(kn)) {
		case CONFIG_SCALAR:
			if ((r = add_key(c, kn, kp, user, ce)) != 0)
				return r;
			break;
		case CONFIG_SEQ:
			for (j = 0; j < config_node_len(kn); j++) {
				config_path_index(jp, sizeof(jp), kp, j);
				if ((r = add_key(c, config_node_item(kn, j), jp,
				         user, ce)) != 0)
					return r;
			}
			break;
		case CONFIG_NULL:
		case CONFIG_MAP:
			return config_node_err(ce, kn != NULL ? kn : item, kp,
			    VPN_ERR_INVAL,
			    "Authorized user is missing the keys field or was "
			    "not understood: a key or a list of keys");
		}
	}
	return 0;
}

int
sshd_cfg_load(
    const struct config *raw, struct sshd_cfg *c, struct config_err *ce)
{
	const struct config_node *n;
	const char *s;
	int r;

	memset(c, 0, sizeof(*c));
	/* "sshd: false" (or none, or empty) is off too, as it was when
	 * the section was not acted on */
	n = config_get(raw, "sshd");
	if (config_node_type(n) == CONFIG_SCALAR &&
	    (strcmp(config_node_scalar(n), "false") == 0 ||
	        strcmp(config_node_scalar(n), "none") == 0 ||
	        *config_node_scalar(n) == '\0'))
		return 0;
	if ((r = config_bool(raw, "sshd.enabled", false, &c->enabled, ce)) !=
	        0 ||
	    !c->enabled)
		return r;
	/* listen */
	if ((r = config_str(raw, "sshd.listen", "", &s, ce)) != 0)
		return r;
	n = config_get(raw, "sshd.listen");
	if (*s == '\0')
		return config_node_err(ce, n != NULL ? n : section(raw),
		    "sshd.listen", VPN_ERR_INVAL,
		    "sshd.listen must be provided");
	if (strlen(s) >= sizeof(c->listen))
		return config_node_err(ce, n, "sshd.listen", VPN_ERR_INVAL,
		    "longer than %zu bytes", sizeof(c->listen) - 1);
	snprintf(c->listen, sizeof(c->listen), "%s", s);
	if ((r = split_listen(n, s, c->host, sizeof(c->host), &c->port, ce)) !=
	        0 ||
	    (r = resolve_host(n, c, ce)) != 0 ||
	    (r = load_host_key(raw, c, ce)) != 0)
		return r;
	return load_users(raw, c, ce);
}

void
sshd_cfg_clear(struct sshd_cfg *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nkeys; i++)
		free(c->keys[i].key);
	free(c->keys);
	memset(c, 0, sizeof(*c));
}

static bool
keys_same(const struct sshd_cfg *a, const struct sshd_cfg *b)
{
	size_t i;

	if (a->nkeys != b->nkeys)
		return false;
	for (i = 0; i < a->nkeys; i++)
		if (strcmp(a->keys[i].user, b->keys[i].user) != 0 ||
		    strcmp(a->keys[i].key, b->keys[i].key) != 0)
			return false;
	return true;
}

bool
sshd_cfg_same(const struct sshd_cfg *a, const struct sshd_cfg *b)
{
	if (a->enabled != b->enabled)
		return false;
	if (!a->enabled)
		return true;
	return strcmp(a->host, b->host) == 0 && a->port == b->port &&
	       strcmp(a->host_key, b->host_key) == 0 &&
	       memcmp(a->host_key_sum, b->host_key_sum,
	           sizeof(a->host_key_sum)) == 0 &&
	       keys_same(a, b);
}

static int
cfg_copy(struct sshd_cfg *dst, const struct sshd_cfg *src)
{
	size_t i;

	sshd_cfg_clear(dst);
	*dst = *src;
	dst->keys = NULL;
	dst->nkeys = 0;
	if (src->nkeys == 0)
		return 0;
	if ((dst->keys = calloc(src->nkeys, sizeof(*dst->keys))) == NULL)
		return VPN_ERR_NOMEM;
	for (i = 0; i < src->nkeys; i++) {
		dst->keys[i] = src->keys[i];
		if ((dst->keys[i].key = strdup(src->keys[i].key)) == NULL) {
			sshd_cfg_clear(dst);
			return VPN_ERR_NOMEM;
		}
		dst->nkeys++;
	}
	return 0;
}

/* ---- the supervisor ------------------------------------------------- */

struct sshd {
	struct node *n;
	char path[PATH_MAX]; /* the helper's executable */
	pid_t pid;           /* 0: not running */
	int pidfd, chan;     /* -1: none */
	struct event *ev_exit, *ev_chan, *ev_kill, *ev_retry;
	bool stopping;       /* SIGTERM sent; respawn at reap if enabled */
	int backoff;         /* seconds before the next restart */
	int64_t started;     /* node_mono_ns() at spawn */
	struct sshd_cfg run; /* what the running helper was given */
};

static void spawn(struct sshd *s);

/* The helper next to our executable (a build tree, or an install that
 * keeps them together), else where `make install` puts it. */
static int
helper_path(char *buf, size_t len)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if ((size_t)snprintf(
			        buf, len, "%s/%s", self, SSHD_HELPER) < len &&
			    access(buf, X_OK) == 0)
				return 0;
		}
	}
	if ((size_t)snprintf(buf, len, "%s/%s", SSHD_HELPER_DIR, SSHD_HELPER) >=
	    len)
		return -1;
	return access(buf, X_OK) == 0 ? 0 : -1;
}

/* The settings the helper reads from fd 4 (sshd/main.c). */
static void
settings_text(const struct node_cfg *cfg, struct sbuf *b)
{
	const struct sshd_cfg *c = &cfg->sshd;
	size_t i;

	sbuf_printf(b, "cairn-sshd 1\n");
	sbuf_printf(b, "log %s %s %d\n",
	    cfg->log_format == LOG_FMT_JSON ? "json" : "text",
	    cfg->log_level >= LOG_LVL_DEBUG  ? "debug"
	    : cfg->log_level >= LOG_LVL_INFO ? "info"
	    : cfg->log_level >= LOG_LVL_WARN ? "warning"
	                                     : "error",
	    cfg->log_no_time ? 1 : 0);
	if (!cfg->log_no_time && *cfg->log_time_format != '\0' &&
	    strchr(cfg->log_time_format, '\n') == NULL)
		sbuf_printf(b, "log_time %s\n", cfg->log_time_format);
	sbuf_printf(b, "listen %s %u\n", *c->host != '\0' ? c->host : "*",
	    (unsigned)c->port);
	sbuf_printf(b, "host_key %s\n", c->host_key);
	for (i = 0; i < c->nkeys; i++)
		sbuf_printf(b, "key %s %s\n", c->keys[i].user, c->keys[i].key);
	sbuf_printf(b, "end\n");
}

/* In the child, between fork and exec: the channel at 3, the settings
 * at 4, nothing else open; default signals; no capabilities (the
 * node's ambient CAP_NET_ADMIN stays behind) and none to gain. */
static void __attribute__((noreturn))
child(const char *path, int chan, int set, pid_t parent)
{
	static const char msg[] = "cairn-sshd: cannot run the sshd helper\n";
	char *const argv[] = {(char *)SSHD_HELPER, NULL};
	struct sigaction sa;
	sigset_t none;
	int a, b, i;

	if ((a = fcntl(chan, F_DUPFD_CLOEXEC, 10)) < 0 ||
	    (b = fcntl(set, F_DUPFD_CLOEXEC, 10)) < 0 ||
	    dup2(a, CHAN_FD) != CHAN_FD || dup2(b, SETTINGS_FD) != SETTINGS_FD)
		goto fail;
	if (syscall(SYS_close_range, SETTINGS_FD + 1, ~0U, 0) != 0)
		for (i = SETTINGS_FD + 1; i < 1024; i++)
			(void)close(i);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 1; i < NSIG; i++)
		(void)sigaction(i, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
		goto fail;
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		goto fail;
	execv(path, argv);
fail:
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(127);
}

static void
retry_in(struct sshd *s, int secs)
{
	struct timeval tv = {secs, 0};

	event_add(s->ev_retry, &tv);
}

/* The helper is gone (st as from waitpid, or -1: unknown). */
static void
reaped(struct sshd *s, int st)
{
	bool expected = s->stopping;
	int64_t ran = node_mono_ns() - s->started;
	char why[64];

	event_del(s->ev_exit);
	event_del(s->ev_chan);
	event_del(s->ev_kill);
	if (s->pidfd >= 0)
		close(s->pidfd);
	if (s->chan >= 0)
		close(s->chan);
	s->pidfd = s->chan = -1;
	s->pid = 0;
	s->stopping = false;
	if (st == -1)
		snprintf(why, sizeof(why), "is gone");
	else if (WIFSIGNALED(st))
		snprintf(
		    why, sizeof(why), "was killed by signal %d", WTERMSIG(st));
	else
		snprintf(
		    why, sizeof(why), "exited with status %d", WEXITSTATUS(st));
	if (expected) {
		log_info("sshd helper stopped");
		if (s->n->cfg->sshd.enabled)
			retry_in(s, 0); /* from the loop, not this callback */
		return;
	}
	if (ran >= STABLE_NS)
		s->backoff = BACKOFF_MIN_S;
	log_msg(LOG_LVL_ERROR, "sshd helper %s; restarting it in %ds", why,
	    s->backoff);
	retry_in(s, s->backoff);
	s->backoff =
	    s->backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : s->backoff * 2;
}

/* The pidfd is readable (the helper exited), or, without pidfds, the
 * poll timer went off. */
static void
on_exit_ev(evutil_socket_t fd, short what, void *arg)
{
	struct sshd *s = arg;
	pid_t r;
	int st = 0;

	(void)fd;
	(void)what;
	if (s->pid == 0)
		return;
	while ((r = waitpid(s->pid, &st, WNOHANG)) < 0 && errno == EINTR)
		;
	if (r == 0)
		return; /* still running (the timer fallback) */
	reaped(s, r == s->pid ? st : -1);
}

static void
on_kill(evutil_socket_t fd, short what, void *arg)
{
	struct sshd *s = arg;

	(void)fd;
	(void)what;
	if (s->pid > 0) {
		log_warnx("sshd helper did not stop in %ds: killing it",
		    KILL_AFTER_S);
		kill(s->pid, SIGKILL);
	}
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct sshd *s = arg;

	(void)fd;
	(void)what;
	if (s->pid == 0 && s->n->cfg->sshd.enabled)
		spawn(s);
}

/* One session's socket from the helper: a 1-byte message carrying
 * exactly one fd, a connected unix stream socket.  Anything else is
 * closed and dropped. */
static void
take_one(struct sshd *s, struct msghdr *msg, ssize_t len, const char *body)
{
	int fds[8], nfds = 0, type = 0, dom = 0, i;
	socklen_t sl = sizeof(type), dl = sizeof(dom);
	struct cmsghdr *cm;
	size_t k;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len < CMSG_LEN(0))
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (; k > 0; k--) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + (k - 1) * sizeof(int),
			    sizeof(fd));
			if (nfds < (int)(sizeof(fds) / sizeof(fds[0])))
				fds[nfds++] = fd;
			else
				close(fd);
		}
	}
	if (nfds != 1 || len != 1 || body[0] != 'S' ||
	    (msg->msg_flags & (MSG_CTRUNC | MSG_TRUNC)) != 0 ||
	    getsockopt(fds[0], SOL_SOCKET, SO_TYPE, &type, &sl) != 0 ||
	    getsockopt(fds[0], SOL_SOCKET, SO_DOMAIN, &dom, &dl) != 0 ||
	    type != SOCK_STREAM || dom != AF_UNIX) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		log_warnx("sshd helper: a malformed message on its channel "
		          "(%zd bytes, %d fds), dropped",
		    len, nfds);
		return;
	}
	if (ctl_adopt(s->n, fds[0]) == VPN_ERR_RANGE)
		log_warnx("sshd: more than %d control clients at once, an SSH "
		          "command refused",
		    CTL_MAX_CLIENTS);
}

static void
on_chan(evutil_socket_t fd, short what, void *arg)
{
	struct sshd *s = arg;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} u;
	struct msghdr msg;
	struct iovec iov;
	char body[16];
	ssize_t n;
	int i;

	(void)what;
	for (i = 0; i < CHAN_BATCH; i++) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = body;
		iov.iov_len = sizeof(body);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				log_warn("sshd helper channel");
				event_del(s->ev_chan);
			}
			return;
		}
		if (n == 0 && msg.msg_controllen == 0) {
			event_del(s->ev_chan); /* closed: the pidfd tells */
			return;
		}
		take_one(s, &msg, n, body);
	}
}

/* Run the helper with n->cfg's settings; on failure, retry later. */
static void
spawn(struct sshd *s)
{
	const struct node_cfg *cfg = s->n->cfg;
	struct timeval poll1 = {1, 0};
	int sv[2] = {-1, -1}, mfd = -1, pfd;
	pid_t pid, self = getpid();
	struct log_ev ev;
	struct sbuf set;
	size_t off = 0;
	ssize_t w;

	sbuf_init(&set);
	if (*s->path == '\0' && helper_path(s->path, sizeof(s->path)) != 0) {
		*s->path = '\0';
		log_msg(LOG_LVL_ERROR,
		    "sshd: the helper %s is neither next to this program nor "
		    "in %s; retrying in %ds",
		    SSHD_HELPER, SSHD_HELPER_DIR, BACKOFF_MAX_S);
		retry_in(s, BACKOFF_MAX_S);
		return;
	}
	settings_text(cfg, &set);
	if (!sbuf_ok(&set) ||
	    (mfd = memfd_create("cairn-sshd-settings", MFD_CLOEXEC)) < 0)
		goto fail;
	while (off < set.len) {
		if ((w = write(mfd, set.s + off, set.len - off)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (lseek(mfd, 0, SEEK_SET) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		goto fail;
	if ((pid = fork()) < 0)
		goto fail;
	if (pid == 0)
		child(s->path, sv[1], mfd, self);
	close(sv[1]);
	close(mfd);
	sbuf_free(&set);
	s->pid = pid;
	s->chan = sv[0];
	s->started = node_mono_ns();
	(void)evutil_make_socket_nonblocking(s->chan);
	event_assign(
	    s->ev_chan, s->n->base, s->chan, EV_READ | EV_PERSIST, on_chan, s);
	event_add(s->ev_chan, NULL);
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0) {
		(void)fcntl(pfd, F_SETFD, FD_CLOEXEC);
		s->pidfd = pfd;
		event_assign(s->ev_exit, s->n->base, pfd, EV_READ | EV_PERSIST,
		    on_exit_ev, s);
		event_add(s->ev_exit, NULL);
	} else {
		event_assign(
		    s->ev_exit, s->n->base, -1, EV_PERSIST, on_exit_ev, s);
		event_add(s->ev_exit, &poll1);
	}
	if (cfg_copy(&s->run, &cfg->sshd) != 0)
		sshd_cfg_clear(&s->run); /* compared as changed at reload */
	if (log_ev_begin(&ev, LOG_LVL_INFO, "sshd helper started")) {
		log_ev_i64(&ev, "pid", (int64_t)pid);
		log_ev_str(&ev, "listen", cfg->sshd.listen);
		log_ev_u64(&ev, "authorizedKeys", cfg->sshd.nkeys);
		log_ev_end(&ev);
	}
	return;
fail:
	log_warn("sshd: cannot start the helper; retrying in %ds", s->backoff);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (mfd >= 0)
		close(mfd);
	sbuf_free(&set);
	retry_in(s, s->backoff);
}

static void
stop(struct sshd *s)
{
	struct timeval tv = {KILL_AFTER_S, 0};

	if (s->pid == 0 || s->stopping)
		return;
	s->stopping = true;
	kill(s->pid, SIGTERM);
	event_add(s->ev_kill, &tv);
}

int
sshd_start(struct node *n, struct sshd **out)
{
	struct sshd *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return VPN_ERR_NOMEM;
	s->n = n;
	s->pidfd = s->chan = -1;
	s->backoff = BACKOFF_MIN_S;
	s->ev_exit = event_new(n->base, -1, 0, on_exit_ev, s);
	s->ev_chan = event_new(n->base, -1, 0, on_chan, s);
	s->ev_kill = evtimer_new(n->base, on_kill, s);
	s->ev_retry = evtimer_new(n->base, on_retry, s);
	if (s->ev_exit == NULL || s->ev_chan == NULL || s->ev_kill == NULL ||
	    s->ev_retry == NULL) {
		sshd_free(s);
		log_msg(LOG_LVL_ERROR, "sshd: out of memory");
		return VPN_ERR_NOMEM;
	}
	if (n->cfg->sshd.enabled)
		spawn(s);
	*out = s;
	return 0;
}

void
sshd_reload(struct sshd *s)
{
	const struct sshd_cfg *now;

	if (s == NULL)
		return;
	now = &s->n->cfg->sshd;
	if (!now->enabled) {
		event_del(s->ev_retry);
		if (s->pid > 0 && !s->stopping) {
			log_info("sshd disabled: stopping the helper");
			stop(s);
		}
		sshd_cfg_clear(&s->run);
		return;
	}
	if (s->pid > 0 && s->stopping)
		return; /* respawned with the new settings at reap */
	if (s->pid > 0 || event_pending(s->ev_retry, EV_TIMEOUT, NULL)) {
		if (sshd_cfg_same(&s->run, now))
			return;
		if (s->run.enabled && !keys_same(&s->run, now))
			log_info("sshd.authorized_users changed (sshd)");
		if (s->run.enabled &&
		    strcmp(s->run.host_key, now->host_key) == 0 &&
		    memcmp(s->run.host_key_sum, now->host_key_sum,
		        sizeof(now->host_key_sum)) != 0)
			log_info("sshd.host_key: the key in %s changed (sshd)",
			    now->host_key);
	}
	s->backoff = BACKOFF_MIN_S;
	if (s->pid > 0) {
		log_info("sshd settings changed: restarting the helper");
		stop(s);
		return;
	}
	event_del(s->ev_retry);
	spawn(s);
}

void
sshd_free(struct sshd *s)
{
	struct pollfd p;
	int st, i;

	if (s == NULL)
		return;
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		for (i = 0; i < 60; i++) { /* 3 s */
			if (waitpid(s->pid, &st, WNOHANG) != 0)
				break;
			p.fd = s->pidfd;
			p.events = POLLIN;
			if (s->pidfd < 0 || poll(&p, 1, 50) < 0)
				usleep(50000);
		}
		if (i == 60) {
			kill(s->pid, SIGKILL);
			while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
				;
		}
	}
	if (s->ev_exit != NULL)
		event_free(s->ev_exit);
	if (s->ev_chan != NULL)
		event_free(s->ev_chan);
	if (s->ev_kill != NULL)
		event_free(s->ev_kill);
	if (s->ev_retry != NULL)
		event_free(s->ev_retry);
	if (s->pidfd >= 0)
		close(s->pidfd);
	if (s->chan >= 0)
		close(s->chan);
	sshd_cfg_clear(&s->run);
	free(s);
}
