/*
 * cert-tool/ledger.c: the issuance ledger.  One line per issued
 * certificate, tab-separated, appended with O_APPEND under an exclusive
 * lock and fsync'd before the certificate is written (cert-tool(1)):
 *
 *   issued  name  ips  groups  subnets  fingerprint  notAfter  ca
 *
 * Times are RFC 3339 UTC; lists are comma-separated; a tab, newline,
 * carriage return, comma or backslash inside a field is escaped with a
 * backslash (\t \n \r \, \\).  The first line is LEDGER_HEADER; other
 * lines starting with '#' are comments.
 *
 * One reader, ledger_next(), decides what a ledger is: the ledger mode
 * lists what it yields, and sign refuses to append to a file it rejects,
 * so that sign never writes to a file the ledger mode cannot read.
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
#include "sbuf.h"

#define LEDGER_HEADER                                                         \
	"# cert-tool issuance ledger v1: issued\tname\tips\tgroups\tsubnets" \
	"\tfingerprint\tnotAfter\tca\n"
#define HEADER_LEN (sizeof(LEDGER_HEADER) - 2) /* without "\n" and NUL */
#define NFIELDS 8

struct ledger {
	int fd;
	off_t start; /* size before our append */
	bool need_nl; /* the file does not end with a newline */
	const char *path;
};

/* One record: its fields as stored (escaped), not NUL-terminated. */
struct ledger_rec {
	const char *f[NFIELDS];
	size_t flen[NFIELDS];
};

/* A cursor over a ledger's text. */
struct ledger_rd {
	const char *p;
	size_t len, off; /* off <= len */
	size_t line;	 /* the last line read, 1-based */
	char why[LEDGER_WHY_MAX];
};

static void
utc(int64_t t, char *buf, size_t len)
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
	if (nf != NFIELDS)
		return bad(rd, "malformed record: %zu field%s, not %d", nf,
		    nf == 1 ? "" : "s", NFIELDS);
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
			if (n != HEADER_LEN || memcmp(s, LEDGER_HEADER, n) != 0)
				return bad(rd, "not a cert-tool ledger "
				               "(no header line)");
			continue;
		}
		if (memchr(s, '\0', n) != NULL)
			return bad(rd, "malformed line: it holds a NUL byte");
		if (n == 0 || s[0] == '#')
			continue;
		return split_rec(rd, s, n, rec);
	}
	return 0;
}

int
ledger_check(const char *data, size_t len, size_t *line, char *why,
    size_t whylen)
{
	struct ledger_rd rd = {data, len, 0, 0, ""};
	struct ledger_rec rec;
	int r;

	while ((r = ledger_next(&rd, &rec)) > 0)
		;
	if (r == 0)
		return 0;
	*line = rd.line;
	snprintf(why, whylen, "%s", rd.why);
	return -1;
}

/*
 * Check the ledger open on fd (locked by the caller) as the ledger mode
 * would read it.  0 and *last (its last byte, or '\n' when empty), or a
 * LEDGER_ERR_* with errbuf.
 */
static int
check_fd(int fd, const char *path, char *last, char *errbuf, size_t errlen)
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
	if (ledger_check(buf, n, &line, why, sizeof(why)) != 0) {
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
ledger_check_file(const char *path, char *errbuf, size_t errlen)
{
	char last;
	int fd, r;

	/* O_NONBLOCK: a FIFO is refused, not waited on. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
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
	r = check_fd(fd, path, &last, errbuf, errlen);
	close(fd);
	return r;
}

int
ledger_begin(const char *path, struct ledger **out, char *errbuf,
    size_t errlen)
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
	if ((r = check_fd(fd, path, &last, errbuf, errlen)) != 0) {
		close(fd);
		return r;
	}
	if ((l = malloc(sizeof(*l))) == NULL) {
		snprintf(errbuf, errlen, "open %s: out of memory", path);
		close(fd);
		return LEDGER_ERR_SYS;
	}
	l->fd = fd;
	l->start = lseek(fd, 0, SEEK_END);
	l->need_nl = last != '\n'; /* an edited ledger lost its last newline */
	l->path = path;
	if (l->start == -1) {
		fileio_oserr(errbuf, errlen, "seek", path, errno);
		close(fd);
		free(l);
		return LEDGER_ERR_SYS;
	}
	*out = l;
	return 0;
}

int
ledger_append(struct ledger *l, int64_t issued, const struct cert *c,
    char *errbuf, size_t errlen)
{
	char t[32], fp[CERT_FP_HEXLEN], ca[CERT_FP_HEXLEN], rb[256];
	struct sbuf b;
	size_t i, off = 0;
	ssize_t n;
	int r = LEDGER_ERR_SYS;

	if (cert_fingerprint_hex(c, fp) != 0) {
		snprintf(errbuf, errlen, "out of memory");
		return r;
	}
	hex_encode(c->issuer, c->issuer_len < 32 ? c->issuer_len : 32, ca);
	sbuf_init(&b);
	if (l->start == 0)
		sbuf_puts(&b, LEDGER_HEADER);
	else if (l->need_nl)
		sbuf_puts(&b, "\n");
	utc(issued, t, sizeof(t));
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
	utc(c->not_after, t, sizeof(t));
	sbuf_printf(&b, "\t%s\t%s\t%s\n", fp, t, ca);
	if (!sbuf_ok(&b)) {
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
ledger_rollback(struct ledger *l, char *errbuf, size_t errlen)
{
	char why[256];

	/* We hold the lock, so the file ends with what we appended. */
	if (ftruncate(l->fd, l->start) == 0 && fsync(l->fd) == 0)
		return 0;
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

	sbuf_printf(b, "%s%s=", strcmp(label, "issued") == 0 ? "" : "  ",
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
	struct sbuf b;
	enum ct_status st = CT_OK;
	int r;

	sbuf_init(&b);
	while ((r = ledger_next(&rd, &rec)) > 0) {
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
