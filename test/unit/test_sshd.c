/*
 * test/unit/test_sshd.c: the sshd section (node/sshd.h): what a good one
 * gives, each refusal with its file:line: key: reason, authorized_keys
 * lines, and when a reload restarts the helper (sshd_cfg_same).
 */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <string.h>

#include "err.h"
#include "sshd.h"

#include "cfgfixture.h"

/* cairn-sshd's line editor and argument splitting (no libssh calls) */
#include "../../sshd/term.c"

#define SX "fixtures/sshd/"
#define ED_PUB                                                                 \
	"ssh-ed25519 "                                                         \
	"AAAAC3NzaC1lZDI1NTE5AAAAILuOf+X3hK5N6eZgA5l6jT2shexnYuouxLe2wBwl0JZk"
#define EC_PUB                                                                 \
	"ecdsa-sha2-nistp256 "                                                 \
	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCMxPTMlbBDcm27h" \
	"6A452SEII94CyKhdf5fDqbzOfOjJkcWAyE0+QpyB+IkPsdj1/hqPzMPUiS1gDz+3ohZp" \
	"Fpo="
#define RSA_PUB                                                                \
	"ssh-rsa "                                                             \
	"AAAAB3NzaC1yc2EAAAADAQABAAAAgQDs6Uf4wK3T7FYvsSGsNen2xrebFLnQrhQYH2LX" \
	"RHnCMs2gYzKm9QPS5yAB8QSeDG2nDtqpXxho7OcauUMtcI1oEM4mpiu5JCNeSjdPoN0U" \
	"b5xlSqIv6dMEhdfY+sXzHUCwdm4V6oW7bd0tBdmSMs6n/yg+HSSZNv76AAuzWvuxqQ=="

/* The section after the fixtures' pki (4 lines: "sshd:" is line 5). */
#define HEAD                                                                   \
	"sshd:\n"                                                              \
	"  enabled: true\n"
#define GOOD_KEY "  host_key: " SX "host_ed25519\n"

static struct node_cfg *
load_ok(const char *extra)
{
	struct node_cfg *c = NULL;
	char err[1024];

	if (cfg_load(extra, true, &c, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	return c;
}

static int mismatches;

/* Refused, with an error ending in want (after the temporary file's
 * name: ".yml:LINE: KEY: reason"). */
static void
refused(const char *extra, const char *want)
{
	struct node_cfg *c = NULL;
	char err[1024];
	size_t el, wl = strlen(want);

	if (cfg_load(extra, true, &c, err, sizeof(err)) == 0) {
		node_cfg_free(c);
		fail_msg("accepted, wanted %s", want);
	}
	el = strlen(err);
	if (el < wl || strcmp(err + el - wl, want) != 0) {
		print_error("got \"%s\", wanted \"...%s\"\n", err, want);
		mismatches++;
	}
}

static void
test_sshd_off(void **state)
{
	struct node_cfg *c;

	(void)state;
	mismatches = 0;
	c = load_ok("");
	assert_false(c->sshd.enabled);
	assert_int_equal(c->sshd.nkeys, 0);
	node_cfg_free(c);
	/* as Nebula: with enabled false the rest is not read */
	c = load_ok("sshd:\n  enabled: false\n  listen: 127.0.0.1:22\n"
	            "  host_key: /nonexistent\n");
	assert_false(c->sshd.enabled);
	node_cfg_free(c);
	c = load_ok("sshd:\n  listen: 127.0.0.1:2222\n");
	assert_false(c->sshd.enabled);
	node_cfg_free(c);
	c = load_ok("sshd: false\n");
	assert_false(c->sshd.enabled);
	node_cfg_free(c);
	refused("sshd: true\n", ".yml:5: sshd: expected a map, got \"true\"");
	assert_int_equal(mismatches, 0);
}

static void
test_sshd_good(void **state)
{
	struct node_cfg *c;

	(void)state;
	c = load_ok(
	    HEAD "  listen: 127.0.0.1:2222\n" GOOD_KEY "  authorized_users:\n"
	         "    - user: steeeeve\n"
	         "      keys:\n"
	         "        - \"" ED_PUB " steeeeve@laptop\"\n"
	         "        - \"" RSA_PUB "\"\n"
	         "    - user: ops\n"
	         "      keys: 'from=\"10.0.0.0/8,a b\" " EC_PUB
	         " with a comment  '\n");
	assert_true(c->sshd.enabled);
	assert_string_equal(c->sshd.listen, "127.0.0.1:2222");
	assert_string_equal(c->sshd.host, "127.0.0.1");
	assert_int_equal(c->sshd.port, 2222);
	assert_string_equal(c->sshd.host_key, SX "host_ed25519");
	assert_int_equal(c->sshd.nkeys, 3);
	assert_string_equal(c->sshd.keys[0].user, "steeeeve");
	assert_string_equal(c->sshd.keys[0].key, ED_PUB);
	assert_string_equal(c->sshd.keys[1].user, "steeeeve");
	assert_string_equal(c->sshd.keys[1].key, RSA_PUB);
	assert_string_equal(c->sshd.keys[2].user, "ops");
	assert_string_equal(c->sshd.keys[2].key, EC_PUB);
	node_cfg_free(c);
	/* every address; IPv6; an RSA key in PEM; no users */
	c = load_ok(HEAD "  listen: \":2222\"\n"
	                 "  host_key: " SX "host_rsa.pem\n");
	assert_string_equal(c->sshd.host, "");
	assert_int_equal(c->sshd.port, 2222);
	assert_int_equal(c->sshd.nkeys, 0);
	node_cfg_free(c);
	c = load_ok(HEAD "  listen: \"[::1]:65535\"\n" GOOD_KEY
	                 "  authorized_users: []\n");
	assert_string_equal(c->sshd.host, "::1");
	assert_int_equal(c->sshd.port, 65535);
	node_cfg_free(c);
	/* a name is resolved at load */
	c = load_ok(HEAD "  listen: localhost:2222\n" GOOD_KEY);
	assert_true(strcmp(c->sshd.host, "127.0.0.1") == 0 ||
	            strcmp(c->sshd.host, "::1") == 0);
	node_cfg_free(c);
}

static void
test_sshd_bad_listen(void **state)
{
	(void)state;
	mismatches = 0;
	refused(HEAD, ".yml:5: sshd.listen: sshd.listen must be provided");
	refused(HEAD "  listen: \"\"\n" GOOD_KEY,
	    ".yml:7: sshd.listen: sshd.listen must be provided");
	refused(HEAD "  listen: 127.0.0.1:22\n" GOOD_KEY,
	    ".yml:7: sshd.listen: sshd.listen can not use port 22");
	refused(HEAD "  listen: 127.0.0.1:022\n" GOOD_KEY,
	    ".yml:7: sshd.listen: sshd.listen can not use port 22");
	refused(HEAD "  listen: 127.0.0.1\n" GOOD_KEY,
	    ".yml:7: sshd.listen: invalid sshd.listen address: address "
	    "127.0.0.1: missing port in address");
	refused(HEAD "  listen: \"::1:2222\"\n" GOOD_KEY,
	    ".yml:7: sshd.listen: invalid sshd.listen address: address "
	    "::1:2222: too many colons in address");
	refused(HEAD "  listen: \"[::1:2222\"\n" GOOD_KEY,
	    ".yml:7: sshd.listen: invalid sshd.listen address: address "
	    "[::1:2222: missing ']' in address");
	refused(HEAD "  listen: \"[::1]\"\n" GOOD_KEY,
	    ".yml:7: sshd.listen: invalid sshd.listen address: address "
	    "[::1]: missing port in address");
	refused(HEAD "  listen: 127.0.0.1:ssh\n" GOOD_KEY,
	    ".yml:7: sshd.listen: invalid sshd.listen address: the port of "
	    "127.0.0.1:ssh is not a number from 1 to 65535");
	refused(HEAD "  listen: 127.0.0.1:0\n" GOOD_KEY,
	    ".yml:7: sshd.listen: invalid sshd.listen address: the port of "
	    "127.0.0.1:0 is not a number from 1 to 65535");
	refused(HEAD "  listen: 127.0.0.1:65536\n" GOOD_KEY,
	    ".yml:7: sshd.listen: invalid sshd.listen address: the port of "
	    "127.0.0.1:65536 is not a number from 1 to 65535");
	refused(HEAD "  listen: [127.0.0.1, 2222]\n" GOOD_KEY,
	    ".yml:7: sshd.listen: expected a string, got a list");
	refused("sshd:\n  enabled: maybe\n",
	    ".yml:6: sshd.enabled: expected a boolean (true/false), got "
	    "\"maybe\"");
	assert_int_equal(mismatches, 0);
}

static void
test_sshd_bad_host_key(void **state)
{
	(void)state;
	mismatches = 0;
	refused(HEAD "  listen: :2222\n",
	    ".yml:5: sshd.host_key: sshd.host_key must be provided");
	refused(HEAD "  listen: :2222\n  host_key: " SX "nonexistent\n",
	    ".yml:8: sshd.host_key: error while loading sshd.host_key file: "
	    "open " SX "nonexistent: no such file or directory");
	refused(HEAD "  listen: :2222\n  host_key: " SX "host_ed25519.pub\n",
	    ".yml:8: sshd.host_key: error while adding sshd.host_key: failed "
	    "to parse private key: ssh: no key found");
	refused(HEAD "  listen: :2222\n  host_key: " SX "host_encrypted\n",
	    ".yml:8: sshd.host_key: error while adding sshd.host_key: failed "
	    "to parse private key: ssh: this private key is passphrase "
	    "protected");
	refused(HEAD "  listen: :2222\n  host_key: " FX "ca.crt\n",
	    ".yml:8: sshd.host_key: error while adding sshd.host_key: failed "
	    "to parse private key: ssh: unsupported key type \"NEBULA "
	    "CERTIFICATE\"");
	assert_int_equal(mismatches, 0);
}

static void
test_sshd_bad_users(void **state)
{
	(void)state;
	mismatches = 0;
	refused(HEAD "  listen: :2222\n" GOOD_KEY "  authorized_users: alice\n",
	    ".yml:9: sshd.authorized_users: expected a list, got \"alice\"");
	refused(HEAD "  listen: :2222\n" GOOD_KEY
	             "  authorized_users:\n    - alice\n",
	    ".yml:10: sshd.authorized_users[0]: must be a map with user and "
	    "keys");
	refused(HEAD "  listen: :2222\n" GOOD_KEY
	             "  authorized_users:\n    - keys: \"" ED_PUB "\"\n",
	    ".yml:10: sshd.authorized_users[0]: Authorized user is missing "
	    "the user field");
	refused(HEAD "  listen: :2222\n" GOOD_KEY
	             "  authorized_users:\n    - user: a b\n"
	             "      keys: \"" ED_PUB "\"\n",
	    ".yml:10: sshd.authorized_users[0].user: a user name is 1 to 64 "
	    "printable characters without blanks");
	refused(HEAD "  listen: :2222\n" GOOD_KEY
	             "  authorized_users:\n    - user: alice\n",
	    ".yml:10: sshd.authorized_users[0].keys: Authorized user is "
	    "missing the keys field or was not understood: a key or a list "
	    "of keys");
	refused(HEAD "  listen: :2222\n" GOOD_KEY
	             "  authorized_users:\n    - user: alice\n"
	             "      keys: {a: b}\n",
	    ".yml:11: sshd.authorized_users[0].keys: Authorized user is "
	    "missing the keys field or was not understood: a key or a list "
	    "of keys");
	refused(HEAD "  listen: :2222\n" GOOD_KEY
	             "  authorized_users:\n    - user: alice\n"
	             "      keys:\n        - \"" ED_PUB "\"\n"
	             "        - ssh-ed25519 AAAA!!!!\n",
	    ".yml:13: sshd.authorized_users[0].keys[1]: the key is not valid "
	    "base64");
	refused(HEAD
	    "  listen: :2222\n" GOOD_KEY
	    "  authorized_users:\n    - user: alice\n"
	    "      keys: [\"ssh-rsa "
	    "AAAAC3NzaC1lZDI1NTE5AAAAILuOf+X3hK5N6eZgA5l6jT2shexnYuouxL"
	    "e2wBwl0JZk\"]\n",
	    ".yml:11: sshd.authorized_users[0].keys[0]: the key inside is not "
	    "of the type written before it");
	refused(HEAD "  listen: :2222\n" GOOD_KEY
	             "  authorized_users:\n    - user: alice\n"
	             "      keys: [\"ssh-dss AAAAB3NzaC1kc3M=\"]\n",
	    ".yml:11: sshd.authorized_users[0].keys[0]: not a key type this "
	    "version takes (ssh-ed25519, ssh-rsa, ecdsa-sha2-*, sk-*)");
	refused(HEAD "  listen: :2222\n" GOOD_KEY
	             "  authorized_users:\n    - user: alice\n"
	             "      keys: [\"\"]\n",
	    ".yml:11: sshd.authorized_users[0].keys[0]: ssh: no key found");
	refused(HEAD "  listen: :2222\n" GOOD_KEY
	             "  authorized_users:\n    - user: alice\n"
	             "      keys: \"" ED_PUB "\\n" RSA_PUB "\"\n",
	    ".yml:11: sshd.authorized_users[0].keys: one key per string");
	assert_int_equal(mismatches, 0);
}

static void
test_sshd_authorized_key_lines(void **state)
{
	char out[1024];
	const char *why;

	(void)state;
	assert_int_equal(sshd_parse_authorized_key(
	                     "  " ED_PUB " c  \n", out, sizeof(out), &why),
	    0);
	assert_string_equal(out, ED_PUB);
	assert_int_equal(
	    sshd_parse_authorized_key(
	        "no-pty,command=\"a \\\" b\" " RSA_PUB, out, sizeof(out), &why),
	    0);
	assert_string_equal(out, RSA_PUB);
	assert_int_equal(
	    sshd_parse_authorized_key("# " ED_PUB, out, sizeof(out), &why),
	    VPN_ERR_INVAL);
	assert_string_equal(why, "ssh: no key found");
	assert_int_equal(
	    sshd_parse_authorized_key("ssh-ed25519", out, sizeof(out), &why),
	    VPN_ERR_INVAL);
	assert_string_equal(why, "no key after its type");
	/* base64 that is not quite: no padding, padding inside */
	assert_int_equal(sshd_parse_authorized_key(
	                     "ssh-ed25519 AAAAC3N", out, sizeof(out), &why),
	    VPN_ERR_INVAL);
	assert_int_equal(sshd_parse_authorized_key(
	                     "ssh-ed25519 AA=AC3Nz", out, sizeof(out), &why),
	    VPN_ERR_INVAL);
	assert_string_equal(why, "the key is not valid base64");
	/* an ed25519 blob with a short key */
	assert_int_equal(
	    sshd_parse_authorized_key("ssh-ed25519 "
	                              "AAAAC3NzaC1lZDI1NTE5AAAAAQA=",
	        out, sizeof(out), &why),
	    VPN_ERR_INVAL);
	assert_string_equal(why, "not an ed25519 public key");
	/* out too small */
	assert_int_equal(
	    sshd_parse_authorized_key(ED_PUB, out, 20, &why), VPN_ERR_RANGE);
}

/* What restarts the helper at a reload. */
static void
test_sshd_same(void **state)
{
	struct node_cfg *a, *b;

	(void)state;
	a = load_ok(
	    HEAD "  listen: :2222\n" GOOD_KEY
	         "  authorized_users: [{user: a, keys: \"" ED_PUB " one\"}]\n");
	b = load_ok(HEAD "  listen: :2222\n" GOOD_KEY
	                 "  authorized_users: [{user: a, keys: \"" ED_PUB
	                 " another comment\"}]\n");
	assert_true(sshd_cfg_same(&a->sshd, &b->sshd));
	node_cfg_free(b);
	b = load_ok(
	    HEAD "  listen: :2222\n" GOOD_KEY
	         "  authorized_users: [{user: b, keys: \"" ED_PUB "\"}]\n");
	assert_false(sshd_cfg_same(&a->sshd, &b->sshd));
	node_cfg_free(b);
	b = load_ok(
	    HEAD "  listen: :2223\n" GOOD_KEY
	         "  authorized_users: [{user: a, keys: \"" ED_PUB "\"}]\n");
	assert_false(sshd_cfg_same(&a->sshd, &b->sshd));
	node_cfg_free(b);
	b = load_ok(
	    HEAD "  listen: :2222\n  host_key: " SX "host_rsa.pem\n"
	         "  authorized_users: [{user: a, keys: \"" ED_PUB "\"}]\n");
	assert_false(sshd_cfg_same(&a->sshd, &b->sshd));
	node_cfg_free(b);
	b = load_ok("sshd: {enabled: false}\n");
	assert_false(sshd_cfg_same(&a->sshd, &b->sshd));
	node_cfg_free(a);
	a = load_ok("");
	assert_true(sshd_cfg_same(&a->sshd, &b->sshd));
	node_cfg_free(a);
	node_cfg_free(b);
}

static void
test_sshd_split_args(void **state)
{
	char line[256], *argv[5];
	const char *why = NULL;

	(void)state;
	snprintf(line, sizeof(line), "  list-hostmap\t -json  ");
	assert_int_equal(split_args(line, argv, 4, &why), 2);
	assert_string_equal(argv[0], "list-hostmap");
	assert_string_equal(argv[1], "-json");
	assert_null(argv[2]);
	snprintf(line, sizeof(line), "a 'b c' \"d \\\" e\" f\\ g");
	assert_int_equal(split_args(line, argv, 4, &why), 4);
	assert_string_equal(argv[1], "b c");
	assert_string_equal(argv[2], "d \" e");
	assert_string_equal(argv[3], "f g");
	snprintf(line, sizeof(line), "x hi'i'j");
	assert_int_equal(split_args(line, argv, 4, &why), 2);
	assert_string_equal(argv[1], "hiij");
	snprintf(line, sizeof(line), "   ");
	assert_int_equal(split_args(line, argv, 4, &why), 0);
	assert_null(argv[0]);
	snprintf(line, sizeof(line), "a 'b");
	assert_int_equal(split_args(line, argv, 4, &why), -1);
	assert_string_equal(why, "unterminated quote");
	snprintf(line, sizeof(line), "1 2 3 4 5");
	assert_int_equal(split_args(line, argv, 4, &why), -1);
	assert_string_equal(why, "too many arguments");
}

/* Feed all of in; the lines that came out, joined by '|'; the echo. */
static void
feed(struct term *t, const char *in, char *lines, size_t ll, struct sbuf *echo)
{
	size_t off = 0, len = strlen(in), used;
	enum term_ev ev;

	*lines = '\0';
	while (off < len) {
		used = term_feed(t, in + off, len - off, echo, &ev);
		off += used;
		if (ev == TERM_LINE) {
			snprintf(lines + strlen(lines), ll - strlen(lines),
			    "%s|", t->line);
			t->len = 0;
		} else if (ev == TERM_INTR) {
			snprintf(
			    lines + strlen(lines), ll - strlen(lines), "^C|");
		} else if (ev == TERM_EOF) {
			snprintf(
			    lines + strlen(lines), ll - strlen(lines), "^D|");
		}
	}
}

static void
test_sshd_line_editor(void **state)
{
	static struct term t;
	char lines[512];
	struct sbuf echo;

	(void)state;
	sbuf_init(&echo);
	/* no terminal: lines, no echo, \r dropped, a partial line kept */
	term_init(&t, false, "> ");
	feed(&t, "version\r\nhelp\n\nlast", lines, sizeof(lines), &echo);
	assert_string_equal(lines, "version|help||");
	assert_int_equal(echo.len, 0);
	assert_int_equal(t.len, 4);
	/* a terminal: echo, erase (UTF-8 whole), ^U, ^C, CR LF once */
	term_init(&t, true, "> ");
	feed(&t, "verz\x7fsion\r\n", lines, sizeof(lines), &echo);
	assert_string_equal(lines, "version|");
	sbuf_add(&echo, "", 1);
	assert_string_equal(echo.s, "verz\b \bsion\r\n");
	feed(&t, "x\xc3\xa9\x7f\r", lines, sizeof(lines), &echo);
	assert_string_equal(lines, "x|");
	feed(&t, "junk\x15help\r", lines, sizeof(lines), &echo);
	assert_string_equal(lines, "help|");
	feed(&t, "abc\x03\x04", lines, sizeof(lines), &echo);
	assert_string_equal(lines, "^C|^D|");
	/* ^D with text on the line does nothing; arrows walk the history */
	feed(&t, "q\x04\x7f\x1b[A\x1b[A\r", lines, sizeof(lines), &echo);
	assert_string_equal(lines, "x|");
	feed(&t, "\x1b[A\x1b[B\x1b[B\x1bOA\r", lines, sizeof(lines), &echo);
	assert_string_equal(lines, "x|");
	sbuf_free(&echo);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sshd_off),
	    cmocka_unit_test(test_sshd_good),
	    cmocka_unit_test(test_sshd_bad_listen),
	    cmocka_unit_test(test_sshd_bad_host_key),
	    cmocka_unit_test(test_sshd_bad_users),
	    cmocka_unit_test(test_sshd_authorized_key_lines),
	    cmocka_unit_test(test_sshd_same),
	    cmocka_unit_test(test_sshd_split_args),
	    cmocka_unit_test(test_sshd_line_editor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
