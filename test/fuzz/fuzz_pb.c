/*
 * test/fuzz/fuzz_pb.c: the protobuf field reader.  Walks every field,
 * descends into LEN payloads as if they were messages (depth-bounded), and
 * re-encodes each well-formed message to check that it reads back the same.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pb.h"
#include "wire.h"

#define MAX_DEPTH 12
#define MAX_FIELDS 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
put_field(struct wr *w, const struct pb_field *f)
{
	uint8_t le[8];
	size_t i;

	switch (f->wt) {
	case PB_VARINT:
		pb_put_varint(w, f->num, f->v);
		break;
	case PB_LEN:
		pb_put_bytes(w, f->num, f->p, f->len);
		break;
	case PB_I64:
	case PB_I32:
		pb_put_tag(w, f->num, f->wt);
		for (i = 0; i < 8; i++)
			le[i] = (uint8_t)(f->v >> (8 * i));
		wr_bytes(w, le, f->wt == PB_I64 ? 8 : 4);
		break;
	case PB_SGROUP: /* skipped whole: write it back empty */
		pb_put_tag(w, f->num, PB_SGROUP);
		pb_put_tag(w, f->num, PB_EGROUP);
		break;
	case PB_EGROUP:
		abort(); /* pb_next never reports one */
	}
}

static bool
same_field(const struct pb_field *a, const struct pb_field *b)
{
	if (a->num != b->num || a->wt != b->wt)
		return false;
	if (a->wt == PB_LEN)
		return a->len == b->len &&
		    (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
	if (a->wt == PB_SGROUP)
		return true;
	return a->v == b->v;
}

/* Re-encode the fields and read them back. */
static void
reencode(const struct pb_field *fs, size_t n)
{
	struct pb_field f;
	struct wr w;
	struct rd r;
	uint8_t *buf;
	size_t i;

	wr_init(&w, NULL, 0);
	for (i = 0; i < n; i++)
		put_field(&w, &fs[i]);
	if (w.bad || (buf = malloc(w.off > 0 ? w.off : 1)) == NULL)
		abort();
	wr_init(&w, buf, w.off);
	for (i = 0; i < n; i++)
		put_field(&w, &fs[i]);
	if (w.bad)
		abort();
	rd_init(&r, buf, w.off);
	for (i = 0; i < n; i++)
		if (pb_next(&r, &f) != 1 || !same_field(&f, &fs[i]))
			abort();
	if (pb_next(&r, &f) != 0)
		abort();
	free(buf);
}

static void
walk(const uint8_t *p, size_t len, int depth)
{
	struct pb_field *fs, f;
	struct rd r;
	size_t n = 0;
	int e;

	if ((fs = malloc(MAX_FIELDS * sizeof(*fs))) == NULL)
		abort();
	rd_init(&r, p, len);
	while ((e = pb_next(&r, &f)) == 1) {
		if (f.num == 0 || f.num > (1u << 29) - 1 || f.wt == PB_EGROUP ||
		    r.off > len)
			abort();
		if (f.wt == PB_LEN) {
			if (f.len > len || (f.len > 0 && (f.p < p ||
			                                     f.p + f.len > p + len)))
				abort();
			(void)pb_utf8_valid(f.p, f.len);
			if (depth < MAX_DEPTH)
				walk(f.p, f.len, depth + 1);
		}
		if (n < MAX_FIELDS)
			fs[n++] = f;
	}
	if (e > 1 || (e == 0 && (r.bad || r.off != len)))
		abort();
	if (e == 0 && n < MAX_FIELDS)
		reencode(fs, n);
	free(fs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	walk(data, size, 0);
	(void)pb_utf8_valid(data, size);
	return 0;
}
