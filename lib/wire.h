/*
 * lib/wire.h: bounds-checked byte cursors.
 *
 * struct rd reads from a buffer it does not own.  The invariant is
 * off <= len; every read tests "n > len - off", never "off + n > len".  A
 * failed read sets the sticky bad flag and yields zeroes or NULL, so a
 * parser can do a run of reads and check rd.bad once at the end.
 *
 * struct wr writes into a caller-provided buffer of fixed capacity.  With
 * p == NULL it only counts, which gives the exact size before allocating.
 * Overflow sets the sticky bad flag and writes nothing further.
 */
#ifndef VPN_WIRE_H
#define VPN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rd {
	const uint8_t *p;
	size_t len, off; /* off <= len */
	bool bad;
};

struct wr {
	uint8_t *p; /* NULL: count only */
	size_t cap, off;
	bool bad;
};

static inline void
rd_init(struct rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->bad = false;
}

static inline size_t
rd_left(const struct rd *r)
{
	return r->len - r->off;
}

static inline const uint8_t *
rd_take(struct rd *r, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	r->off += n;
	return r->p + r->off - n;
}

static inline uint8_t
rd_u8(struct rd *r)
{
	const uint8_t *b = rd_take(r, 1);

	return b == NULL ? 0 : b[0];
}

static inline uint16_t
rd_be16(struct rd *r)
{
	const uint8_t *b = rd_take(r, 2);

	return b == NULL ? 0 : (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

static inline uint32_t
rd_be32(struct rd *r)
{
	const uint8_t *b = rd_take(r, 4);

	if (b == NULL)
		return 0;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

static inline uint64_t
rd_be64(struct rd *r)
{
	uint64_t hi = rd_be32(r);

	return hi << 32 | rd_be32(r);
}

/*
 * A protobuf varint: at most 10 bytes, and the 10th may only carry the
 * top bit of a 64-bit value (Go's protowire rejects anything else).
 */
static inline uint64_t
rd_varint(struct rd *r)
{
	uint64_t v = 0;
	unsigned shift, i;
	uint8_t b;

	for (i = 0, shift = 0; i < 10; i++, shift += 7) {
		b = rd_u8(r);
		if (r->bad)
			return 0;
		if (i == 9 && b > 1) {
			r->bad = true;
			return 0;
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return v;
	}
	r->bad = true;
	return 0;
}

static inline void
wr_init(struct wr *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->off = 0;
	w->bad = false;
}

/* Reserve n bytes; NULL when counting only or on overflow. */
static inline uint8_t *
wr_take(struct wr *w, size_t n)
{
	if (w->bad)
		return NULL;
	if (w->p == NULL) {
		if (n > SIZE_MAX - w->off)
			w->bad = true;
		else
			w->off += n;
		return NULL;
	}
	if (n > w->cap - w->off) {
		w->bad = true;
		return NULL;
	}
	w->off += n;
	return w->p + w->off - n;
}

static inline void
wr_bytes(struct wr *w, const void *src, size_t n)
{
	uint8_t *b = wr_take(w, n);

	if (b != NULL && n > 0)
		memcpy(b, src, n);
}

static inline void
wr_u8(struct wr *w, uint8_t v)
{
	wr_bytes(w, &v, 1);
}

static inline void
wr_be16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	wr_bytes(w, b, 2);
}

static inline void
wr_be32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v};

	wr_bytes(w, b, 4);
}

static inline void
wr_be64(struct wr *w, uint64_t v)
{
	wr_be32(w, (uint32_t)(v >> 32));
	wr_be32(w, (uint32_t)v);
}

static inline size_t
varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline void
wr_varint(struct wr *w, uint64_t v)
{
	uint8_t b[10];
	size_t n = 0;

	while (v >= 0x80) {
		b[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b[n++] = (uint8_t)v;
	wr_bytes(w, b, n);
}

static inline void
be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
be64_put(uint8_t *p, uint64_t v)
{
	be32_put(p, (uint32_t)(v >> 32));
	be32_put(p + 4, (uint32_t)v);
}

static inline uint32_t
be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

#endif
