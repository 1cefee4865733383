/*
 * cert-tool/ledger.c: the issuance ledger.  One line per issued
 * certificate, tab-separated, appended with O_APPEND under an exclusive
 * lock and fsync'd before the certificate is written (cert-tool(1)):
 *
 *   issued  name  ips  groups  subnets  fingerprint  notAfter  ca
 *
 * Times are RFC 3339 UTC; lists are comma-separated; a tab, newline,
 * carriage return, comma or backslash inside a field is escaped with a
 * backslash (\t \n \r \, \\).  Lines starting with '#' are comments.
 */
#include <errno.h>
#include <fcntl.h>
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
#define NFIELDS 8

struct ledger {
	int fd;
	off_t start; /* size before our append */
	const char *path;
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

int
ledger_begin(const char *path, struct ledger **out, char *errbuf,
    size_t errlen)
{
	struct ledger *l;
	struct stat st;
	int fd;

	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		fileio_oserr(errbuf, errlen, "open", path, errno);
		return -1;
	}
	if (flock(fd, LOCK_EX) == -1 || fstat(fd, &st) == -1) {
		fileio_oserr(errbuf, errlen, "lock", path, errno);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (l = malloc(sizeof(*l))) == NULL) {
		fileio_oserr(errbuf, errlen, "open", path,
		    S_ISREG(st.st_mode) ? ENOMEM : EINVAL);
		close(fd);
		return -1;
	}
	l->fd = fd;
	l->start = st.st_size;
	l->path = path;
	*out = l;
	return 0;
}

int
ledger_append(struct ledger *l, int64_t issued, const struct cert *c,
    char *errbuf, size_t errlen)
{
	char t[32], fp[CERT_FP_HEXLEN], ca[CERT_FP_HEXLEN];
	struct sbuf b;
	size_t i, off = 0;
	ssize_t n;
	int r = -1;

	if (cert_fingerprint_hex(c, fp) != 0) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	hex_encode(c->issuer, c->issuer_len < 32 ? c->issuer_len : 32, ca);
	sbuf_init(&b);
	if (l->start == 0)
		sbuf_puts(&b, LEDGER_HEADER);
	else if (pread(l->fd, t, 1, l->start - 1) == 1 && t[0] != '\n')
		sbuf_puts(&b, "\n"); /* an edited ledger lost its last newline */
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
		if (n == -1)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(l->fd) == -1)
		goto fail;
	r = 0;
	goto out;
fail:
	fileio_oserr(errbuf, errlen, "write", l->path, errno);
	ledger_rollback(l);
out:
	sbuf_free(&b);
	return r;
}

void
ledger_rollback(struct ledger *l)
{
	/* We hold the lock, so the file ends with what we appended. */
	if (ftruncate(l->fd, l->start) == 0)
		fsync(l->fd);
}

void
ledger_end(struct ledger *l)
{
	if (l == NULL)
		return;
	close(l->fd);
	free(l);
}

/*
 * Split one line into its fields on tabs (a tab inside a field is always
 * escaped), checking that every escape is one we write.
 */
static int
split_line(char *line, char **f, size_t *flen)
{
	size_t n = 0;
	char *p;

	f[0] = line;
	for (p = line;; p++) {
		if (*p == '\\') {
			if (p[1] == '\0' || strchr("tnr,\\", p[1]) == NULL)
				return -1;
			p++;
		} else if (*p == '\t' || *p == '\0') {
			flen[n] = (size_t)(p - f[n]);
			n++;
			if (*p == '\0')
				return n == NFIELDS ? 0 : -1;
			if (n == NFIELDS)
				return -1; /* a ninth field */
			*p = '\0';
			f[n] = p + 1;
		}
	}
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
ledger_list(struct ct *ct, const char *data, size_t len, bool json,
    const char *name)
{
	char *copy, *line, *next, *f[NFIELDS];
	size_t flen[NFIELDS], lineno = 0;
	struct sbuf b;
	enum ct_status st = CT_OK;

	if ((copy = malloc(len + 1)) == NULL)
		return ct_fail(ct, "out of memory");
	memcpy(copy, data, len);
	copy[len] = '\0';
	sbuf_init(&b);
	for (line = copy; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (strlen(line) != (size_t)((next != NULL ? next - 1 :
		                                 copy + len) - line) ||
		    split_line(line, f, flen) != 0) {
			st = ct_fail(ct, "ledger line %zu is malformed", lineno);
			break;
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
	if (st == CT_OK && !sbuf_ok(&b))
		st = ct_fail(ct, "out of memory");
	if (st == CT_OK && b.len > 0)
		fwrite(b.s, 1, b.len, stdout);
	sbuf_free(&b);
	free(copy);
	return st;
}
