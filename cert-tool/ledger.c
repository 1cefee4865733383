/*
 * cert-tool/ledger.c: the issuance ledger.  One line per event,
 * tab-separated, appended with O_APPEND under an exclusive lock and
 * fsync'd before any certificate is written (cairn-cert(1)).  A ledger is
 * only ever appended to: a revocation is a record of its own.
 *
 *   issued   name  ips  groups  subnets  fingerprint  notAfter  ca  publicKey
 *   revoked  time  fingerprint  name  reason
 *
 * An issue record of version 1 (cert-tool before 0.2) has no publicKey;
 * it is read as before, but its certificate cannot be re-issued.  Times
 * are RFC 3339 UTC; lists are comma-separated; a tab, newline, carriage
 * return, comma or backslash inside a field is escaped with a backslash
 * (\t \n \r \, \\); fingerprints, the CA's and the public key are
 * lowercase hex.  The first line is a header (LEDGER_HEADER, or the
 * version 1 one, which stays valid); other lines starting with '#' are
 * comments.
 *
 * One reader, ledger_next(), decides what a ledger is: every mode reads
 * through it, and nothing is appended to a file it rejects, so that
 * nothing ever writes to a file the ledger mode cannot read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ct.h"
#include "ipaddr.h"
#include "sbuf.h"
#include "u32map.h"
#include "wire.h"

#define LEDGER_HEADER_V1                                                      \
	"# cert-tool issuance ledger v1: issued\tname\tips\tgroups\tsubnets" \
	"\tfingerprint\tnotAfter\tca\n"
#define LEDGER_HEADER                                                         \
	"# cert-tool issuance ledger v2: issued\tname\tips\tgroups\tsubnets" \
	"\tfingerprint\tnotAfter\tca\tpublicKey | revoked\ttime"            \
	"\tfingerprint\tname\treason\n"
#define NFIELDS 9	/* the most a record has */
#define NFIELDS_V1 8	/* an issue record of version 1 */
#define NFIELDS_REVOKE 5
#define REVOKED "revoked"

struct ledger {
	int fd;
	off_t start; /* size before this session's appends */
	off_t end;   /* size now */
	bool need_nl; /* the file does not end with a newline */
	const char *path;
};

/* One record: its fields as stored (escaped), not NUL-terminated. */
struct ledger_rec {
	const char *f[NFIELDS];
	size_t flen[NFIELDS];
	size_t nf;
	bool revoke;
};

/* A cursor over a ledger's text. */
struct ledger_rd {
	const char *p;
	size_t len, off; /* off <= len */
	size_t line;	 /* the last line read, 1-based */
	char why[LEDGER_WHY_MAX];
};

void
ledger_utc(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

static void
esc(struct sbuf *b, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '\t':
			sbuf_add(b, "\\t", 2);
			break;
		case '\n':
			sbuf_add(b, "\\n", 2);
			break;
		case '\r':
			sbuf_add(b, "\\r", 2);
			break;
		case ',':
			sbuf_add(b, "\\,", 2);
			break;
		case '\\':
			sbuf_add(b, "\\\\", 2);
			break;
		default:
			sbuf_add(b, s + i, 1);
		}
	}
}

static void
nets(struct sbuf *b, const struct ip4net *n, size_t count)
{
	char buf[IP4NET_STRLEN];
	size_t i;

	for (i = 0; i < count; i++) {
		ip4net_format(&n[i], buf);
		sbuf_printf(b, "%s%s", i > 0 ? "," : "", buf);
	}
}

static int __attribute__((format(printf, 2, 3)))
bad(struct ledger_rd *rd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rd->why, sizeof(rd->why), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Split a record line into its fields on tabs (a tab inside a field is
 * always escaped), checking that every escape is one esc() writes.
 */
static int
split_rec(struct ledger_rd *rd, const char *s, size_t n,
    struct ledger_rec *rec)
{
	size_t i, nf = 0, start = 0;
	unsigned char c;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] == '\\') {
			if (i + 1 == n)
				return bad(rd, "malformed record: "
				               "backslash at the end of the line");
			c = (unsigned char)s[++i];
			if (memchr("tnr,\\", c, 5) != NULL)
				continue;
			if (c > 0x20 && c < 0x7f)
				return bad(rd, "malformed record: unknown "
				               "escape \\%c", c);
			return bad(rd, "malformed record: unknown escape "
			               "\\ and byte 0x%02x", c);
		}
		if (i < n && s[i] != '\t')
			continue;
		if (nf < NFIELDS) {
			rec->f[nf] = s + start;
			rec->flen[nf] = i - start;
		}
		nf++;
		start = i + 1;
	}
	rec->nf = nf;
	rec->revoke = nf > 0 && rec->flen[0] == strlen(REVOKED) &&
	              memcmp(rec->f[0], REVOKED, strlen(REVOKED)) == 0;
	if (rec->revoke && nf != NFIELDS_REVOKE)
		return bad(rd, "malformed revocation: %zu field%s, not %d", nf,
		    nf == 1 ? "" : "s", NFIELDS_REVOKE);
	if (!rec->revoke && nf != NFIELDS_V1 && nf != NFIELDS)
		return bad(rd, "malformed record: %zu field%s, not %d or %d",
		    nf, nf == 1 ? "" : "s", NFIELDS_V1, NFIELDS);
	return 1;
}

/* "2006-01-02T15:04:05Z" as utc() writes it, or the plain number of
 * seconds it falls back to.  0 or -1. */
static int
parse_utc(const char *s, size_t n, int64_t *out)
{
	char buf[32], *end;
	struct tm tm;
	long long v;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (n == 20 && buf[19] == 'Z') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (end == NULL || *end != '\0')
			return -1;
		*out = (int64_t)timegm(&tm);
		return 0;
	}
	if (!(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')))
		return -1;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (int64_t)v;
	return 0;
}

/* n lowercase hex digits decoding to exactly want bytes (want 0: any
 * even count up to 64). */
static bool
is_hex(const char *s, size_t n, size_t want)
{
	size_t i;

	if (want != 0 ? n != 2 * want : (n % 2 != 0 || n > 64))
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A list of networks as nets() writes it (no escapes in it). */
static bool
is_nets(const char *s, size_t n)
{
	char buf[IP4NET_STRLEN];
	struct ip4net net;
	size_t i, start = 0;

	for (i = 0; i <= n && n > 0; i++) {
		if (i < n && s[i] != ',')
			continue;
		if (i - start == 0 || i - start >= sizeof(buf))
			return false;
		memcpy(buf, s + start, i - start);
		buf[i - start] = '\0';
		if (ip4net_parse(buf, &net) != 0)
			return false;
		start = i + 1;
	}
	return true;
}

/* What each field of a record holds (split_rec checked its escapes). */
static int
check_rec(struct ledger_rd *rd, const struct ledger_rec *r)
{
	int64_t t;

	if (r->revoke) {
		if (parse_utc(r->f[1], r->flen[1], &t) != 0)
			return bad(rd, "malformed revocation: bad time");
		if (!is_hex(r->f[2], r->flen[2], CERT_FP_LEN))
			return bad(rd, "malformed revocation: bad fingerprint");
		return 1;
	}
	if (parse_utc(r->f[0], r->flen[0], &t) != 0)
		return bad(rd, "malformed record: bad issued time");
	if (!is_nets(r->f[2], r->flen[2]))
		return bad(rd, "malformed record: bad ips");
	if (!is_nets(r->f[4], r->flen[4]))
		return bad(rd, "malformed record: bad subnets");
	if (!is_hex(r->f[5], r->flen[5], CERT_FP_LEN))
		return bad(rd, "malformed record: bad fingerprint");
	if (parse_utc(r->f[6], r->flen[6], &t) != 0)
		return bad(rd, "malformed record: bad notAfter");
	if (!is_hex(r->f[7], r->flen[7], 0))
		return bad(rd, "malformed record: bad ca");
	if (r->nf == NFIELDS && !is_hex(r->f[8], r->flen[8], 32))
		return bad(rd, "malformed record: bad publicKey");
	return 1;
}

/*
 * The next record: 1 and *rec filled, 0 at the end, or -1 with rd->line
 * and rd->why saying what is wrong.  Text that is not empty must begin
 * with the header line; after it, empty lines and lines starting with '#'
 * are skipped.  No line may hold a NUL byte.
 */
static int
ledger_next(struct ledger_rd *rd, struct ledger_rec *rec)
{
	const char *s, *nl;
	size_t n;

	while (rd->off < rd->len) {
		s = rd->p + rd->off;
		nl = memchr(s, '\n', rd->len - rd->off);
		n = nl != NULL ? (size_t)(nl - s) : rd->len - rd->off;
		rd->off += n + (nl != NULL ? 1 : 0);
		rd->line++;
		if (rd->line == 1) {
			if (!((n == strlen(LEDGER_HEADER) - 1 &&
			          memcmp(s, LEDGER_HEADER, n) == 0) ||
			        (n == strlen(LEDGER_HEADER_V1) - 1 &&
			            memcmp(s, LEDGER_HEADER_V1, n) == 0)))
				return bad(rd, "not a cairn-cert ledger "
				               "(no header line)");
			continue;
		}
		if (memchr(s, '\0', n) != NULL)
			return bad(rd, "malformed line: it holds a NUL byte");
		if (n == 0 || s[0] == '#')
			continue;
		if (split_rec(rd, s, n, rec) < 0)
			return -1;
		return check_rec(rd, rec);
	}
	return 0;
}

int
ledger_check(const char *data, size_t len, size_t *line, char *why,
    size_t whylen)
{
	struct ledger_db db;

	if (ledger_load(data, len, &db, line, why, whylen) != 0)
		return -1;
	ledger_db_free(&db);
	return 0;
}

/*
 * Check the ledger open on fd (locked by the caller) as the ledger mode
 * would read it, and with db != NULL load it there.  0 and *last (its
 * last byte, or '\n' when empty), or a LEDGER_ERR_* with errbuf.
 */
static int
check_fd(int fd, const char *path, char *last, struct ledger_db *db,
    char *errbuf, size_t errlen)
{
	char why[LEDGER_WHY_MAX], *buf = NULL;
	struct stat st;
	size_t n = 0, line;
	ssize_t got;
	int r = LEDGER_ERR_SYS;

	if (fstat(fd, &st) == -1) {
		fileio_oserr(errbuf, errlen, "stat", path, errno);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(errbuf, errlen, "open %s: not a regular file", path);
		return r;
	}
	if ((uint64_t)st.st_size > CT_MAX_LEDGER) {
		snprintf(errbuf, errlen, "read %s: file is larger than %u MiB",
		    path, CT_MAX_LEDGER >> 20);
		return r;
	}
	*last = '\n';
	if (st.st_size == 0)
		return 0;
	if ((buf = malloc((size_t)st.st_size)) == NULL) {
		snprintf(errbuf, errlen, "read %s: out of memory", path);
		return r;
	}
	while (n < (size_t)st.st_size) {
		got = pread(fd, buf + n, (size_t)st.st_size - n, (off_t)n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			fileio_oserr(errbuf, errlen, "read", path, errno);
			goto out;
		}
		if (got == 0)
			break; /* shrunk under us: check what there is */
		n += (size_t)got;
	}
	if ((db != NULL ? ledger_load(buf, n, db, &line, why, sizeof(why))
	                : ledger_check(buf, n, &line, why, sizeof(why))) != 0) {
		snprintf(errbuf, errlen, "%s:%zu: %s", path, line, why);
		r = LEDGER_ERR_FORMAT;
		goto out;
	}
	if (n > 0)
		*last = buf[n - 1];
	r = 0;
out:
	free(buf);
	return r;
}

int
ledger_load_file(const char *path, bool absent_ok, struct ledger_db *db,
    char *errbuf, size_t errlen)
{
	char last;
	int fd, r;

	if (db != NULL)
		memset(db, 0, sizeof(*db));
	/* O_NONBLOCK: a FIFO is refused, not waited on. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT && absent_ok)
		return 0; /* sign creates it */
	if (fd == -1) {
		fileio_oserr(errbuf, errlen, "open", path, errno);
		return LEDGER_ERR_SYS;
	}
	/* Shared: wait for a sign that is appending to finish. */
	if (flock(fd, LOCK_SH) == -1) {
		fileio_oserr(errbuf, errlen, "lock", path, errno);
		close(fd);
		return LEDGER_ERR_SYS;
	}
	r = check_fd(fd, path, &last, db, errbuf, errlen);
	close(fd);
	return r;
}

enum ct_status
ledger_fail(struct ct *ct, int r, const char *op, const char *err)
{
	if (r == LEDGER_ERR_FORMAT)
		return ct_fail(ct, "%s", err); /* "<path>:<line>: <reason>" */
	return ct_fail(ct, "error while %s ledger: %s", op, err);
}

int
ledger_check_file(const char *path, char *errbuf, size_t errlen)
{
	return ledger_load_file(path, true, NULL, errbuf, errlen);
}

int
ledger_begin_load(const char *path, struct ledger **out, struct ledger_db *db,
    char *errbuf, size_t errlen)
{
	struct ledger *l;
	char last;
	int fd, r;

	*out = NULL;
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NONBLOCK | O_NOCTTY |
	        O_CLOEXEC, 0600);
	if (fd == -1) {
		fileio_oserr(errbuf, errlen, "open", path, errno);
		return LEDGER_ERR_SYS;
	}
	if (flock(fd, LOCK_EX) == -1) {
		fileio_oserr(errbuf, errlen, "lock", path, errno);
		close(fd);
		return LEDGER_ERR_SYS;
	}
	/* Again, under the lock: it may have changed since the check. */
	if ((r = check_fd(fd, path, &last, db, errbuf, errlen)) != 0) {
		close(fd);
		return r;
	}
	if ((l = malloc(sizeof(*l))) == NULL) {
		snprintf(errbuf, errlen, "open %s: out of memory", path);
		close(fd);
		if (db != NULL)
			ledger_db_free(db);
		return LEDGER_ERR_SYS;
	}
	l->fd = fd;
	l->start = l->end = lseek(fd, 0, SEEK_END);
	l->need_nl = last != '\n'; /* an edited ledger lost its last newline */
	l->path = path;
	if (l->start == -1) {
		fileio_oserr(errbuf, errlen, "seek", path, errno);
		close(fd);
		free(l);
		if (db != NULL)
			ledger_db_free(db);
		return LEDGER_ERR_SYS;
	}
	*out = l;
	return 0;
}

int
ledger_begin(const char *path, struct ledger **out, char *errbuf,
    size_t errlen)
{
	return ledger_begin_load(path, out, NULL, errbuf, errlen);
}

/* Write one record (text, ending in a newline) after the header if the
 * file is empty, and fsync; on failure cut the file back to where this
 * session began. */
static int
append_text(struct ledger *l, struct sbuf *rec, char *errbuf, size_t errlen)
{
	struct sbuf b;
	char rb[256];
	size_t off = 0, i;
	ssize_t n;
	int r = LEDGER_ERR_SYS;

	sbuf_init(&b);
	if (l->end == 0)
		sbuf_puts(&b, LEDGER_HEADER);
	else if (l->need_nl)
		sbuf_puts(&b, "\n");
	sbuf_add(&b, rec->s, rec->len);
	if (!sbuf_ok(&b) || !sbuf_ok(rec)) {
		snprintf(errbuf, errlen, "out of memory");
		goto out;
	}
	while (off < b.len) {
		n = write(l->fd, b.s + off, b.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			fileio_oserr(errbuf, errlen, "write", l->path,
			    n == 0 ? EIO : errno);
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(l->fd) == -1) {
		fileio_oserr(errbuf, errlen, "sync", l->path, errno);
		goto fail;
	}
	l->end += (off_t)b.len;
	l->need_nl = false;
	r = 0;
	goto out;
fail:
	/* Never leave part of a record behind without saying so. */
	if (ledger_rollback(l, rb, sizeof(rb)) != 0) {
		i = strlen(errbuf);
		snprintf(errbuf + i, errlen - i, "; %s", rb);
	}
out:
	sbuf_free(&b);
	return r;
}

int
ledger_append(struct ledger *l, int64_t issued, const struct cert *c,
    char *errbuf, size_t errlen)
{
	char t[32], fp[CERT_FP_HEXLEN], ca[CERT_FP_HEXLEN], pk[65];
	struct sbuf b;
	size_t i;
	int r;

	if (c->pubkey == NULL || c->pubkey_len < 32) {
		snprintf(errbuf, errlen, "the certificate has no public key");
		return LEDGER_ERR_SYS;
	}
	if (cert_fingerprint_hex(c, fp) != 0) {
		snprintf(errbuf, errlen, "out of memory");
		return LEDGER_ERR_SYS;
	}
	hex_encode(c->issuer, c->issuer_len < 32 ? c->issuer_len : 32, ca);
	hex_encode(c->pubkey, 32, pk);
	sbuf_init(&b);
	ledger_utc(issued, t, sizeof(t));
	sbuf_printf(&b, "%s\t", t);
	esc(&b, c->name.s, c->name.len);
	sbuf_puts(&b, "\t");
	nets(&b, c->ips, c->nips);
	sbuf_puts(&b, "\t");
	for (i = 0; i < c->ngroups; i++) {
		if (i > 0)
			sbuf_puts(&b, ",");
		esc(&b, c->groups[i].s, c->groups[i].len);
	}
	sbuf_puts(&b, "\t");
	nets(&b, c->subnets, c->nsubnets);
	ledger_utc(c->not_after, t, sizeof(t));
	sbuf_printf(&b, "\t%s\t%s\t%s\t%s\n", fp, t, ca, pk);
	r = append_text(l, &b, errbuf, errlen);
	sbuf_free(&b);
	return r;
}

int
ledger_append_revoke(struct ledger *l, int64_t when, const char *fp_hex,
    const char *name, size_t name_len, const char *reason, char *errbuf,
    size_t errlen)
{
	struct sbuf b;
	char t[32];
	int r;

	sbuf_init(&b);
	ledger_utc(when, t, sizeof(t));
	sbuf_printf(&b, "%s\t%s\t%s\t", REVOKED, t, fp_hex);
	esc(&b, name, name_len);
	sbuf_puts(&b, "\t");
	esc(&b, reason, strlen(reason));
	sbuf_puts(&b, "\n");
	r = append_text(l, &b, errbuf, errlen);
	sbuf_free(&b);
	return r;
}

int
ledger_rollback(struct ledger *l, char *errbuf, size_t errlen)
{
	char why[256];

	/* We hold the lock, so the file ends with what we appended. */
	if (ftruncate(l->fd, l->start) == 0 && fsync(l->fd) == 0) {
		l->end = l->start;
		return 0;
	}
	fileio_oserr(why, sizeof(why), "truncate", l->path, errno);
	snprintf(errbuf, errlen, "%s: the ledger may keep (part of) the "
	    "record of a certificate that was not issued; cut it back to "
	    "%lld bytes", why, (long long)l->start);
	return LEDGER_ERR_SYS;
}

int
ledger_end(struct ledger *l, char *errbuf, size_t errlen)
{
	int r = 0;

	if (l == NULL)
		return 0;
	if (close(l->fd) == -1) {
		fileio_oserr(errbuf, errlen, "close", l->path, errno);
		r = LEDGER_ERR_SYS;
	}
	free(l);
	return r;
}

/* Undo esc(); out has room for len bytes. */
static size_t
unescape(const char *s, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len) {
			i++;
			out[o++] = s[i] == 't' ? '\t' :
			    s[i] == 'n'        ? '\n' :
			    s[i] == 'r'        ? '\r' :
			                         s[i];
		} else {
			out[o++] = s[i];
		}
	}
	return o;
}

static void
json_field(struct sbuf *b, const char *s, size_t len)
{
	char *u = malloc(len + 1);

	if (u == NULL) {
		b->bad = true;
		return;
	}
	sbuf_json_str(b, u, unescape(s, len, u));
	free(u);
}

/* A list field as a JSON array: split on commas that are not escaped. */
static void
json_list(struct sbuf *b, const char *s, size_t len)
{
	size_t i, start = 0;

	sbuf_puts(b, "[");
	for (i = 0; i <= len && len > 0; i++) {
		if (i < len && s[i] == '\\') {
			i++;
			continue;
		}
		if (i < len && s[i] != ',')
			continue;
		if (start > 0)
			sbuf_puts(b, ",");
		json_field(b, s + start, i - start);
		start = i + 1;
	}
	sbuf_puts(b, "]");
}

/* The escaped field as stored, with any other control byte shown. */
static void
text_field(struct sbuf *b, const char *label, const char *s, size_t len)
{
	size_t i;

	sbuf_printf(b, "%s%s=",
	    strcmp(label, "issued") == 0 || strcmp(label, REVOKED) == 0 ? ""
	                                                                : "  ",
	    label);
	if (len == 0)
		sbuf_puts(b, "-");
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			sbuf_printf(b, "\\x%02x", (unsigned char)s[i]);
		else
			sbuf_add(b, s + i, 1);
}

static bool
name_is(const char *want, const char *s, size_t len)
{
	char *u = malloc(len + 1);
	size_t n;
	bool eq;

	if (u == NULL)
		return false;
	n = unescape(s, len, u);
	eq = n == strlen(want) && memcmp(u, want, n) == 0;
	free(u);
	return eq;
}

enum ct_status
ledger_list(struct ct *ct, const char *path, const char *data, size_t len,
    bool json, const char *name)
{
	struct ledger_rd rd = {data, len, 0, 0, ""};
	struct ledger_rec rec;
	const char *const *f = rec.f;
	const size_t *flen = rec.flen;
	struct ledger_db db;
	struct sbuf b;
	enum ct_status st = CT_OK;
	int r;

	/* The whole ledger first: a revocation must name a certificate. */
	if (ledger_load(data, len, &db, &rd.line, rd.why, sizeof(rd.why)) != 0)
		return ct_fail(ct, "%s:%zu: %s", path, rd.line, rd.why);
	ledger_db_free(&db);
	rd.line = 0;
	sbuf_init(&b);
	while ((r = ledger_next(&rd, &rec)) > 0) {
		if (rec.revoke) {
			if (name != NULL && !name_is(name, f[3], flen[3]))
				continue;
			if (json) {
				sbuf_puts(&b, "{\"fingerprint\":");
				json_field(&b, f[2], flen[2]);
				sbuf_puts(&b, ",\"name\":");
				json_field(&b, f[3], flen[3]);
				sbuf_puts(&b, ",\"reason\":");
				json_field(&b, f[4], flen[4]);
				sbuf_puts(&b, ",\"revoked\":");
				json_field(&b, f[1], flen[1]);
				sbuf_puts(&b, "}\n");
			} else {
				text_field(&b, REVOKED, f[1], flen[1]);
				text_field(&b, "name", f[3], flen[3]);
				text_field(&b, "fingerprint", f[2], flen[2]);
				text_field(&b, "reason", f[4], flen[4]);
				sbuf_puts(&b, "\n");
			}
			continue;
		}
		if (name != NULL && !name_is(name, f[1], flen[1]))
			continue;
		if (json) {
			sbuf_puts(&b, "{\"ca\":");
			json_field(&b, f[7], flen[7]);
			sbuf_puts(&b, ",\"fingerprint\":");
			json_field(&b, f[5], flen[5]);
			sbuf_puts(&b, ",\"groups\":");
			json_list(&b, f[3], flen[3]);
			sbuf_puts(&b, ",\"ips\":");
			json_list(&b, f[2], flen[2]);
			sbuf_puts(&b, ",\"issued\":");
			json_field(&b, f[0], flen[0]);
			sbuf_puts(&b, ",\"name\":");
			json_field(&b, f[1], flen[1]);
			sbuf_puts(&b, ",\"notAfter\":");
			json_field(&b, f[6], flen[6]);
			sbuf_puts(&b, ",\"publicKey\":");
			if (rec.nf == NFIELDS)
				json_field(&b, f[8], flen[8]);
			else
				sbuf_puts(&b, "null");
			sbuf_puts(&b, ",\"subnets\":");
			json_list(&b, f[4], flen[4]);
			sbuf_puts(&b, "}\n");
		} else {
			text_field(&b, "issued", f[0], flen[0]);
			text_field(&b, "name", f[1], flen[1]);
			text_field(&b, "ips", f[2], flen[2]);
			text_field(&b, "groups", f[3], flen[3]);
			text_field(&b, "subnets", f[4], flen[4]);
			text_field(&b, "notAfter", f[6], flen[6]);
			text_field(&b, "fingerprint", f[5], flen[5]);
			text_field(&b, "ca", f[7], flen[7]);
			if (rec.nf == NFIELDS)
				text_field(&b, "publicKey", f[8], flen[8]);
			sbuf_puts(&b, "\n");
		}
	}
	if (r < 0)
		st = ct_fail(ct, "%s:%zu: %s", path, rd.line, rd.why);
	else if (!sbuf_ok(&b))
		st = ct_fail(ct, "out of memory");
	if (st == CT_OK && b.len > 0)
		fwrite(b.s, 1, b.len, stdout);
	sbuf_free(&b);
	return st;
}

/* --- the ledger as a whole ----------------------------------------------- */

/* Each unescaped item of a comma list field to fn; 0 or -1. */
static int
each_item(const char *s, size_t len, struct cert *c,
    int (*fn)(struct cert *, const char *, size_t))
{
	size_t i, start = 0, n;
	char *u;
	int r;

	for (i = 0; i <= len && len > 0; i++) {
		if (i < len && s[i] == '\\') {
			i++;
			continue;
		}
		if (i < len && s[i] != ',')
			continue;
		if ((u = malloc(i - start + 1)) == NULL)
			return -1;
		n = unescape(s + start, i - start, u);
		u[n] = '\0';
		r = fn(c, u, n);
		free(u);
		if (r != 0)
			return -1;
		start = i + 1;
	}
	return 0;
}

static int
add_group(struct cert *c, const char *s, size_t n)
{
	return cert_add_group(c, s, n);
}

static int
add_ip(struct cert *c, const char *s, size_t n)
{
	struct ip4net net;

	(void)n;
	return ip4net_parse(s, &net) != 0 ? -1 : cert_add_ip(c, &net);
}

static int
add_subnet(struct cert *c, const char *s, size_t n)
{
	struct ip4net net;

	(void)n;
	return ip4net_parse(s, &net) != 0 ? -1 : cert_add_subnet(c, &net);
}

static void
unhex(const char *s, size_t n, uint8_t *out)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		out[i / 2] = (uint8_t)(hex_digit(s[i]) << 4 | hex_digit(s[i + 1]));
}

/* One issue record as a certificate (unsigned): name, ips, groups,
 * subnets, notAfter, issuer and, from version 2, the public key. */
static int
rec_cert(const struct ledger_rec *r, struct ledger_cert *e)
{
	uint8_t buf[32];
	char *u;
	size_t n;

	if ((e->c = cert_new()) == NULL || (u = malloc(r->flen[1] + 1)) == NULL)
		return -1;
	n = unescape(r->f[1], r->flen[1], u);
	if (cert_set_name(e->c, u, n) != 0) {
		free(u);
		return -1;
	}
	free(u);
	if (each_item(r->f[2], r->flen[2], e->c, add_ip) != 0 ||
	    each_item(r->f[3], r->flen[3], e->c, add_group) != 0 ||
	    each_item(r->f[4], r->flen[4], e->c, add_subnet) != 0)
		return -1;
	(void)parse_utc(r->f[0], r->flen[0], &e->issued);
	(void)parse_utc(r->f[6], r->flen[6], &e->c->not_after);
	memcpy(e->fp_hex, r->f[5], 64);
	e->fp_hex[64] = '\0';
	unhex(r->f[5], 64, e->fp);
	unhex(r->f[7], r->flen[7], buf);
	if (cert_set_issuer(e->c, buf, r->flen[7] / 2) != 0)
		return -1;
	memcpy(e->ca_hex, r->f[7], r->flen[7]);
	e->ca_hex[r->flen[7]] = '\0';
	if (r->nf == NFIELDS) {
		unhex(r->f[8], 64, buf);
		if (cert_set_pubkey(e->c, buf, 32) != 0)
			return -1;
		e->has_pub = true;
	}
	return 0;
}

/* The record of fingerprint fp (the latest, if issued twice), or NULL. */
static struct ledger_cert *
by_fp(const struct ledger_db *db, const struct u32map *idx,
    const uint8_t fp[CERT_FP_LEN])
{
	uintptr_t i = (uintptr_t)u32map_get(idx, be32_get(fp));

	for (; i != 0; i = db->c[i - 1].fp_next)
		if (memcmp(db->c[i - 1].fp, fp, CERT_FP_LEN) == 0)
			return &db->c[i - 1];
	return NULL;
}

bool
ledger_same_name(const struct ledger_cert *a, const struct ledger_cert *b)
{
	return a->c->name.len == b->c->name.len &&
	       (a->c->name.len == 0 ||
	           memcmp(a->c->name.s, b->c->name.s, a->c->name.len) == 0);
}

static int
cmp_name_line(const void *a, const void *b, void *arg)
{
	const struct ledger_db *db = arg;
	const struct ledger_cert *x = &db->c[*(const size_t *)a];
	const struct ledger_cert *y = &db->c[*(const size_t *)b];
	size_t n = x->c->name.len < y->c->name.len ? x->c->name.len
	                                            : y->c->name.len;
	int d = n > 0 ? memcmp(x->c->name.s, y->c->name.s, n) : 0;

	if (d != 0)
		return d;
	if (x->c->name.len != y->c->name.len)
		return x->c->name.len < y->c->name.len ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

int
ledger_load(const char *data, size_t len, struct ledger_db *db,
    size_t *line, char *why, size_t whylen)
{
	struct ledger_rd rd = {data, len, 0, 0, ""};
	struct ledger_rec rec;
	struct ledger_cert *e, *ne;
	struct u32map idx;
	uint8_t fp[CERT_FP_LEN];
	size_t cap = 0, i, *ord = NULL;
	uintptr_t prev;
	char *u;
	int r;

	memset(db, 0, sizeof(*db));
	u32map_init(&idx);
	while ((r = ledger_next(&rd, &rec)) > 0) {
		if (rec.revoke) {
			unhex(rec.f[2], 64, fp);
			if ((e = by_fp(db, &idx, fp)) == NULL) {
				r = bad(&rd, "revocation of a certificate that "
				             "is not in the ledger");
				break;
			}
			if (e->revoked_at != 0)
				continue; /* revoked twice: the first counts */
			(void)parse_utc(rec.f[1], rec.flen[1], &e->revoked_at);
			if (e->revoked_at == 0)
				e->revoked_at = 1;
			if ((u = malloc(rec.flen[4] + 1)) == NULL)
				goto nomem;
			u[unescape(rec.f[4], rec.flen[4], u)] = '\0';
			free(e->reason);
			e->reason = u;
			continue;
		}
		if (db->n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((ne = realloc(db->c, cap * sizeof(*ne))) == NULL)
				goto nomem;
			db->c = ne;
		}
		e = &db->c[db->n];
		memset(e, 0, sizeof(*e));
		e->line = rd.line;
		db->n++;
		if (rec_cert(&rec, e) != 0)
			goto nomem;
		prev = (uintptr_t)u32map_get(&idx, be32_get(e->fp));
		e->fp_next = prev; /* newest first */
		if (u32map_put(&idx, be32_get(e->fp), (void *)(uintptr_t)db->n) !=
		    0)
			goto nomem;
	}
	u32map_free(&idx);
	if (r < 0) {
		*line = rd.line;
		snprintf(why, whylen, "%s", rd.why);
		ledger_db_free(db);
		return -1;
	}
	/* The latest record of each name. */
	if (db->n > 0 && (ord = malloc(db->n * sizeof(*ord))) == NULL)
		goto nomem_late;
	for (i = 0; i < db->n; i++)
		ord[i] = i;
	if (db->n > 0)
		qsort_r(ord, db->n, sizeof(*ord), cmp_name_line, db);
	for (i = 0; i < db->n; i++)
		db->c[ord[i]].latest = i + 1 == db->n ||
		                       !ledger_same_name(&db->c[ord[i]],
		                           &db->c[ord[i + 1]]);
	free(ord);
	return 0;
nomem:
	u32map_free(&idx);
nomem_late:
	*line = rd.line;
	snprintf(why, whylen, "out of memory");
	ledger_db_free(db);
	return -1;
}

void
ledger_db_free(struct ledger_db *db)
{
	size_t i;

	for (i = 0; i < db->n; i++) {
		cert_free(db->c[i].c);
		free(db->c[i].reason);
	}
	free(db->c);
	memset(db, 0, sizeof(*db));
}

bool
ledger_live(const struct ledger_cert *e, int64_t now)
{
	return e->latest && e->revoked_at == 0 && e->c->not_after > now;
}
