/*
 * test/fuzz/fuzz_sshterm.c: what an SSH client types into the console
 * (sshd/term.c): the line editor, with and without a terminal, fed the
 * input in pieces whose sizes the first byte chooses; each line it gives
 * is split into arguments as the helper does.
 *
 * Oracles: term_feed takes at least one byte of a non-empty piece and no
 * more than it was given; a line is NUL-terminated at the length the
 * editor says, under TERM_LINE_MAX, with a terminal holds no NUL, and
 * without one no '\r' or '\n'; the history stays within bounds;
 * split_args gives at most max arguments, NULL after the last, and
 * quoting those arguments again and splitting gives them back.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "helper.h"
#include "sbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXARGS (CTL_MAX_ARGS + 1) /* as conn.c splits */

/* Each argument double-quoted, '"' and '\' escaped, blank-separated. */
static char *
requote(char **argv, int argc)
{
	struct sbuf b;
	const char *p;
	int i;

	sbuf_init(&b);
	for (i = 0; i < argc; i++) {
		sbuf_puts(&b, i > 0 ? " \"" : "\"");
		for (p = argv[i]; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				sbuf_puts(&b, "\\");
			sbuf_add(&b, p, 1);
		}
		sbuf_puts(&b, "\"");
	}
	sbuf_puts(&b, "");
	if (!sbuf_ok(&b))
		abort();
	return b.s;
}

static void
split(const char *line)
{
	static char copy[TERM_LINE_MAX], *argv[MAXARGS + 1],
	    *argv2[MAXARGS + 1];
	const char *why = NULL;
	char *q;
	int argc, argc2, i;

	memcpy(copy, line, strlen(line) + 1);
	argc = split_args(copy, argv, MAXARGS, &why);
	if (argc < 0) {
		if (argc != -1 || why == NULL)
			abort();
		return;
	}
	if (argc > MAXARGS || argv[argc] != NULL)
		abort();
	for (i = 0; i < argc; i++)
		if (argv[i] < copy || argv[i] >= copy + sizeof(copy))
			abort();
	q = requote(argv, argc);
	argc2 = split_args(q, argv2, MAXARGS, &why);
	if (argc2 != argc)
		abort();
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], argv2[i]) != 0)
			abort();
	free(q);
}

static void
edit(bool pty, const uint8_t *data, size_t size, size_t piece)
{
	static struct term t;
	const char *in = (const char *)data;
	struct sbuf echo;
	enum term_ev ev;
	size_t off = 0, n, took;

	term_init(&t, pty, "> ");
	sbuf_init(&echo);
	while (off < size) {
		n = size - off < piece ? size - off : piece;
		took = term_feed(&t, in + off, n, &echo, &ev);
		if (took == 0 || took > n || t.len >= TERM_LINE_MAX ||
		    t.nhist > TERM_HISTORY || t.hpos > t.nhist || t.esc < 0 ||
		    t.esc > 2)
			abort();
		off += took;
		switch (ev) {
		case TERM_LINE:
			/* without a terminal a NUL is taken as it comes, and
			 * ends the line as conn.c reads it */
			if (t.line[t.len] != '\0' ||
			    (pty && strlen(t.line) != t.len) ||
			    (!pty && (memchr(t.line, '\n', t.len) != NULL ||
			                 memchr(t.line, '\r', t.len) != NULL)))
				abort();
			split(t.line);
			t.len = 0; /* as conn.c does after a line */
			break;
		case TERM_NONE:
			if (took != n)
				abort();
			break;
		case TERM_INTR:
			if (t.len != 0)
				abort();
			break;
		case TERM_EOF:
			break;
		}
		if (!sbuf_ok(&echo))
			abort();
		echo.len = 0;
	}
	if (!pty && t.len > 0) { /* the last line, without its newline */
		t.line[t.len] = '\0';
		split(t.line);
	}
	sbuf_free(&echo);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t piece;

	if (size < 1)
		return 0;
	piece = data[0] % 16 == 0 ? SIZE_MAX : data[0] % 16;
	edit(true, data + 1, size - 1, piece);
	edit(false, data + 1, size - 1, piece);
	return 0;
}
