/*
 * test/fuzz/fuzz_sshkey.c: the keys of the sshd section (node/sshd.c),
 * which the node checks before its helper gets them: the input as an
 * authorized_keys line (sshd_parse_authorized_key), and as the
 * sshd.host_key file, which sshd_cfg_load reads (the fuzzer serves it:
 * fileio_read is wrapped, see the Makefile) and checks (PEM, and the
 * OpenSSH private key format inside).
 *
 * Oracles: a key line that parses gives "TYPE BASE64", which parses to
 * itself; one that does not says why.  The host key file either loads
 * (its SHA-256 kept) or fails with a message naming sshd.host_key.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crypto.h"
#include "err.h"
#include "fileio.h"
#include "sshd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int __wrap_fileio_read(const char *path, size_t max, char **data, size_t *len,
    char *errbuf, size_t errlen);

static const uint8_t *file;
static size_t file_len;

/* The one file there is: the input. */
int
__wrap_fileio_read(const char *path, size_t max, char **data, size_t *len,
    char *errbuf, size_t errlen)
{
	if (file_len >= max) {
		snprintf(errbuf, errlen, "read %s: file is too large", path);
		return -1;
	}
	if ((*data = malloc(file_len + 1)) == NULL)
		abort();
	if (file_len > 0)
		memcpy(*data, file, file_len);
	(*data)[file_len] = '\0';
	*len = file_len;
	return 0;
}

static const char yaml[] =
    "sshd:\n"
    "  enabled: true\n"
    "  listen: 127.0.0.1:2222\n"
    "  host_key: /etc/nebula/ssh_host_ed25519_key\n"
    "  authorized_users:\n"
    "    - user: admin\n"
    "      keys:\n"
    "        - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILuOf+X3hK5N6eZgA5l6jT2"
    "shexnYuouxLe2wBwl0JZk\n"; /* test/fixtures/sshd/host_ed25519.pub */

static void
key_line(const uint8_t *data, size_t size)
{
	char *line, out[SSHD_KEY_MAX + 128], out2[SSHD_KEY_MAX + 128];
	const char *why = NULL;
	int r;

	if ((line = malloc(size + 1)) == NULL)
		abort();
	memcpy(line, data, size);
	line[size] = '\0';
	r = sshd_parse_authorized_key(line, out, sizeof(out), &why);
	if (r != 0) {
		if ((r != VPN_ERR_INVAL && r != VPN_ERR_RANGE) || why == NULL ||
		    *why == '\0')
			abort();
	} else {
		if (strchr(out, ' ') == NULL || strchr(out, '\n') != NULL ||
		    sshd_parse_authorized_key(out, out2, sizeof(out2), &why) !=
		        0 ||
		    strcmp(out, out2) != 0)
			abort();
	}
	free(line);
}

static void
host_key(const uint8_t *data, size_t size)
{
	static struct config *raw;
	struct config_err ce;
	struct sshd_cfg c;
	uint8_t sum[32];
	char msg[1024];
	int r;

	if (raw == NULL &&
	    config_load_string(yaml, strlen(yaml), "fuzz.yml", &raw, &ce) != 0)
		abort();
	file = data;
	file_len = size;
	r = sshd_cfg_load(raw, &c, &ce);
	if (r == 0) {
		crypto_sha256(data, size, sum);
		if (!c.enabled || c.nkeys != 1 ||
		    memcmp(sum, c.host_key_sum, sizeof(sum)) != 0)
			abort();
	} else {
		config_err_format(&ce, msg, sizeof(msg));
		if (strstr(msg, "sshd.host_key") == NULL)
			abort();
	}
	sshd_cfg_clear(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > SSHD_KEY_MAX * 2)
		return 0;
	key_line(data, size);
	host_key(data, size);
	return 0;
}
