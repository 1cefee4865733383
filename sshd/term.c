/*
 * sshd/term.c: the shell's line editor and argument splitting
 * (helper.h).  With a terminal the client sends keys raw: printable
 * characters are echoed, DEL and ^H erase a character (a whole UTF-8
 * sequence), ^U the line, ^C drops it, ^D on an empty line ends the
 * session, the up and down arrows walk the history; other escape
 * sequences and control characters are ignored.  Without one the input
 * is taken as lines.
 */
#include <string.h>

#include "helper.h"

void
term_init(struct term *t, bool pty, const char *prompt)
{
	memset(t, 0, sizeof(*t));
	t->pty = pty;
	t->prompt = prompt;
}

/* Show line as the line being edited: back to the prompt, clear, redraw. */
static void
redraw(struct term *t, struct sbuf *echo)
{
	sbuf_puts(echo, "\r\033[K");
	sbuf_puts(echo, t->prompt);
	sbuf_add(echo, t->line, t->len);
}

static void
history_add(struct term *t)
{
	if (t->len == 0)
		return;
	if (t->nhist > 0 && strcmp(t->hist[t->nhist - 1], t->line) == 0) {
		t->hpos = t->nhist;
		return;
	}
	if (t->nhist == TERM_HISTORY) {
		memmove(t->hist[0], t->hist[1],
		    sizeof(t->hist[0]) * (TERM_HISTORY - 1));
		t->nhist--;
	}
	memcpy(t->hist[t->nhist], t->line, t->len + 1);
	t->nhist++;
	t->hpos = t->nhist;
}

static void
history_move(struct term *t, int dir, struct sbuf *echo)
{
	if (dir < 0 && t->hpos > 0)
		t->hpos--;
	else if (dir > 0 && t->hpos < t->nhist)
		t->hpos++;
	else
		return;
	if (t->hpos == t->nhist) {
		t->len = 0;
	} else {
		t->len = strlen(t->hist[t->hpos]);
		memcpy(t->line, t->hist[t->hpos], t->len);
	}
	t->line[t->len] = '\0';
	redraw(t, echo);
}

/* A line without a terminal: up to '\n', '\r's dropped. */
static size_t
feed_plain(struct term *t, const char *in, size_t len, enum term_ev *ev)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (in[i] == '\n') {
			t->line[t->len] = '\0';
			*ev = TERM_LINE;
			return i + 1;
		}
		if (in[i] != '\r' && t->len < TERM_LINE_MAX - 1)
			t->line[t->len++] = in[i];
	}
	return len;
}

size_t
term_feed(struct term *t, const char *in, size_t len, struct sbuf *echo,
    enum term_ev *ev)
{
	unsigned char c;
	size_t i;

	*ev = TERM_NONE;
	if (!t->pty)
		return feed_plain(t, in, len, ev);
	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (t->esc == 1) { /* after ESC: CSI or SS3, else done */
			t->esc = c == '[' || c == 'O' ? 2 : 0;
			continue;
		}
		if (t->esc == 2) { /* parameters until a final byte */
			if (c >= 0x40 && c <= 0x7e) {
				t->esc = 0;
				if (c == 'A')
					history_move(t, -1, echo);
				else if (c == 'B')
					history_move(t, 1, echo);
			}
			continue;
		}
		if (t->skip_lf) {
			t->skip_lf = false;
			if (c == '\n')
				continue;
		}
		if (c == '\r' || c == '\n') {
			t->skip_lf = c == '\r';
			sbuf_puts(echo, "\r\n");
			t->line[t->len] = '\0';
			history_add(t);
			*ev = TERM_LINE;
			return i + 1;
		}
		switch (c) {
		case 0x7f:
		case 0x08:
			if (t->len == 0)
				break;
			do
				t->len--;
			while (t->len > 0 &&
			       ((unsigned char)t->line[t->len] & 0xc0) == 0x80);
			t->line[t->len] = '\0';
			sbuf_puts(echo, "\b \b");
			break;
		case 0x15: /* ^U */
			t->len = 0;
			t->line[0] = '\0';
			redraw(t, echo);
			break;
		case 0x03: /* ^C */
			sbuf_puts(echo, "^C\r\n");
			t->len = 0;
			t->line[0] = '\0';
			t->hpos = t->nhist;
			*ev = TERM_INTR;
			return i + 1;
		case 0x04: /* ^D */
			if (t->len == 0) {
				sbuf_puts(echo, "\r\n");
				*ev = TERM_EOF;
				return i + 1;
			}
			break;
		case 0x1b:
			t->esc = 1;
			break;
		default:
			if (c < 0x20)
				break; /* tab and the other controls */
			if (t->len >= TERM_LINE_MAX - 1) {
				sbuf_puts(echo, "\a");
				break;
			}
			t->line[t->len++] = (char)c;
			t->line[t->len] = '\0';
			sbuf_add(echo, (const char *)&in[i], 1);
		}
	}
	return len;
}

int
split_args(char *line, char **argv, int max, const char **why)
{
	char *r = line, *w = line, q;
	int argc = 0;

	for (;;) {
		while (*r == ' ' || *r == '\t')
			r++;
		if (*r == '\0')
			break;
		if (argc == max) {
			*why = "too many arguments";
			return -1;
		}
		argv[argc++] = w;
		while (*r != '\0' && *r != ' ' && *r != '\t') {
			if (*r == '\'' || *r == '"') {
				q = *r++;
				while (*r != q) {
					if (*r == '\0') {
						*why = "unterminated quote";
						return -1;
					}
					if (q == '"' && *r == '\\' &&
					    (r[1] == '"' || r[1] == '\\'))
						r++;
					*w++ = *r++;
				}
				r++;
			} else if (*r == '\\' && r[1] != '\0') {
				r++;
				*w++ = *r++;
			} else {
				*w++ = *r++;
			}
		}
		if (*r != '\0')
			r++; /* the blank after the argument */
		*w++ = '\0';
	}
	argv[argc] = NULL;
	return argc;
}
