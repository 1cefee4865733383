/*
 * cert-tool/ct.h: what the cert-tool modes share.  The tool never opens a
 * socket: it reads and writes files and talks to the terminal.
 */
#ifndef CT_H
#define CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert.h"
#include "fileio.h"
#include "goflag.h"

/* What a mode returns; main() turns it into output and an exit status. */
enum ct_status {
	CT_OK = 0,
	CT_ERR,	     /* main prints "Error: <msg>", exit 1 */
	CT_USAGE_ERR, /* "Error: <msg>" and the usage already printed, exit 1 */
	CT_HELP,     /* -h: the usage already printed, exit 0 */
	CT_FOUND,    /* ledger -expiring listed something: exit 3 */
};

#define CT_MAX_FLAGS 16

struct ct {
	const char *argv0;
	const char *mode;
	char msg[2048];
	/* The mode's flags as declared (before parsing changed any value), so
	 * that its usage shows the real defaults. */
	struct goflag defaults[CT_MAX_FLAGS];
	size_t nflags;
	const char *summary; /* the mode's one-line description */
};

enum ct_status ct_fail(struct ct *ct, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "Error: <msg>" and the mode's usage, printed now (Go's helpError). */
enum ct_status ct_usage(struct ct *ct, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Parse the mode's flags; CT_OK, CT_HELP (usage printed), or CT_ERR
 * (message printed the way Go's flag package prints it, then kept for
 * "Error: ..."). */
enum ct_status ct_parse(struct ct *ct, struct goflag *flags, size_t n,
    int argc, char **argv);
void ct_print_usage(const struct ct *ct);

/* File limits for fileio_read (lib/fileio.h). */
#define CT_MAX_FILE FILEIO_MAX	 /* certificates and keys */
#define CT_MAX_LEDGER (1u << 30) /* about three million records */

/* Split on ',', trim whitespace (Go's TrimSpace, or only ' ' as Nebula
 * does for networks) and drop empty elements.  Returns the count, which
 * may exceed max (only max are stored); items[] point into s. */
size_t ct_split(char *s, char **items, size_t max, bool spaces_only);

/* Now, as Go's time.Now: seconds and nanoseconds. */
void ct_now(int64_t *sec, int64_t *nsec);
/* Unix seconds of (now + d), as Go's time.Now().Add(d).Unix(). */
int64_t ct_add(int64_t sec, int64_t nsec, int64_t d);

/* CA private key: plain or encrypted (keyfile.c). */
#define CT_ENC_BANNER "NEBULA ED25519 SCRYPT ENCRYPTED PRIVATE KEY"
int ct_read_ca_key(const char *pem, size_t len, uint8_t key[64],
    char *errbuf, size_t errlen);
/* PEM text of the key encrypted with a passphrase (asked, or from the
 * environment); malloc'd. */
int ct_encrypt_ca_key(const uint8_t key[64], char **pem, size_t *len,
    char *errbuf, size_t errlen);
/* Exposed for tests: the format with explicit scrypt cost. */
int keyfile_seal(const uint8_t key[64], const char *pass, size_t passlen,
    unsigned log2n, uint8_t **out, size_t *outlen);
int keyfile_open(const uint8_t *in, size_t inlen, const char *pass,
    size_t passlen, uint8_t key[64]);

/* Issuance ledger (ledger.c).  The functions that take errbuf return 0 or
 * one of these, with errbuf saying what went wrong. */
#define LEDGER_ERR_SYS (-1)    /* "<op> <path>: <reason>" */
#define LEDGER_ERR_FORMAT (-2) /* "<path>:<line>: <reason>": not a ledger */
#define LEDGER_WHY_MAX 96
struct ledger;
struct ledger_db;
/* Is data a ledger as the ledger mode reads it: empty, or the header
 * line and then records, comments and empty lines?  0, or -1 with *line
 * (1-based) and why saying what is wrong with that line. */
int ledger_check(const char *data, size_t len, size_t *line, char *why,
    size_t whylen);
/* Check the ledger at path before anything is signed: one that does not
 * exist yet is fine, an existing one must pass ledger_check. */
int ledger_check_file(const char *path, char *errbuf, size_t errlen);
/* Open (creating it 0600), lock exclusively and check the ledger again;
 * *out is the caller's (ledger_end). */
int ledger_begin(const char *path, struct ledger **out, char *errbuf,
    size_t errlen);
/* The same, loading what is there into *db (see ledger_load) under the
 * lock: what is read cannot change before what is appended. */
int ledger_begin_load(const char *path, struct ledger **out,
    struct ledger_db *db, char *errbuf, size_t errlen);
/* Append and fsync one record; on failure the file is cut back, and
 * errbuf also says so if even that failed. */
int ledger_append(struct ledger *l, int64_t issued, const struct cert *c,
    char *errbuf, size_t errlen);
/* Append and fsync a revocation of the certificate fp_hex (named name). */
int ledger_append_revoke(struct ledger *l, int64_t when, const char *fp_hex,
    const char *name, size_t name_len, const char *reason, char *errbuf,
    size_t errlen);
/* Cut the file back to its size at ledger_begin: every record of this
 * session goes. */
int ledger_rollback(struct ledger *l, char *errbuf, size_t errlen);
/* Close (unlocks) and free; NULL-safe.  Fails only if close(2) does. */
int ledger_end(struct ledger *l, char *errbuf, size_t errlen);

/* The ledger as a whole: one entry per issued certificate, in file
 * order, with its revocation if any. */
struct ledger_cert {
	struct cert *c; /* unsigned: name, ips, groups, subnets, notAfter,
	                 * issuer, and the public key when has_pub */
	bool has_pub;	/* version 1 records have none: not re-issuable */
	bool latest;	/* the last record of its name */
	int64_t issued;
	int64_t revoked_at; /* 0: not revoked */
	char *reason;	    /* of the revocation */
	uint8_t fp[CERT_FP_LEN];
	char fp_hex[CERT_FP_HEXLEN];
	char ca_hex[CERT_FP_HEXLEN];
	size_t line;
	uintptr_t fp_next; /* ledger.c's index */
};
struct ledger_db {
	struct ledger_cert *c;
	size_t n;
};
/* Read a whole ledger (ledger_check's rules, and every revocation must
 * name a certificate of the ledger).  0, or -1 with *line and why. */
int ledger_load(const char *data, size_t len, struct ledger_db *db,
    size_t *line, char *why, size_t whylen);
/* The same from a file, read under a shared lock; it must be a regular
 * file (a FIFO is refused, not waited on).  A file that does not exist is
 * an empty ledger when absent_ok, else an error.  db NULL: check only.
 * LEDGER_ERR_SYS or LEDGER_ERR_FORMAT with errbuf. */
int ledger_load_file(const char *path, bool absent_ok, struct ledger_db *db,
    char *errbuf, size_t errlen);
void ledger_db_free(struct ledger_db *db);
/* A ledger function's error r as the mode's failure: a format error as
 * it is ("<path>:<line>: <reason>"), else "error while <op> ledger: ...". */
enum ct_status ledger_fail(struct ct *ct, int r, const char *op,
    const char *err);
bool ledger_same_name(const struct ledger_cert *a, const struct ledger_cert *b);
/* "2006-01-02T15:04:05Z" (the seconds when strftime cannot). */
void ledger_utc(int64_t t, char *buf, size_t len);
/* The current certificate of its name, not revoked, not expired. */
bool ledger_live(const struct ledger_cert *e, int64_t now);

/* Modes. */
enum ct_status cmd_ca(struct ct *ct, int argc, char **argv);
enum ct_status cmd_keygen(struct ct *ct, int argc, char **argv);
enum ct_status cmd_sign(struct ct *ct, int argc, char **argv);
enum ct_status cmd_print(struct ct *ct, int argc, char **argv);
enum ct_status cmd_verify(struct ct *ct, int argc, char **argv);
enum ct_status cmd_ledger(struct ct *ct, int argc, char **argv);
enum ct_status cmd_revoke(struct ct *ct, int argc, char **argv);
enum ct_status cmd_reissue(struct ct *ct, int argc, char **argv);
/* ledger -expiring and -blocklist (cmd_revoke.c). */
enum ct_status ledger_expiring(struct ct *ct, const struct ledger_db *db,
    const char *bundle, int64_t within, bool json);
enum ct_status ledger_blocklist(struct ct *ct, const struct ledger_db *db,
    bool json);
/* The CA key and certificate for signing, checked against each other. */
enum ct_status ct_load_ca(struct ct *ct, const char *crt_path,
    const char *key_path, uint8_t key[64], struct cert **ca);
/* Parse and print a ledger file (read from path, named in errors); for
 * cmd_ledger and the fuzzer.  Nothing is printed if it is malformed. */
enum ct_status ledger_list(struct ct *ct, const char *path, const char *data,
    size_t len, bool json, const char *name);

/* Write the -out-qr PNG of text, if path is set. */
enum ct_status ct_write_qr(struct ct *ct, const char *path, const char *text,
    size_t len);



/* Parse a comma list of IPv4 CIDRs into c's ips (host bits kept) or
 * subnets (reduced to the network), with Nebula's error texts. */
enum ct_status ct_parse_nets(struct ct *ct, const char *list, bool subnets,
    struct cert *c);
/* Parse a comma list of groups into c. */
enum ct_status ct_parse_groups(struct ct *ct, const char *list,
    struct cert *c);
#endif
