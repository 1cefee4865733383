/*
 * lib/pb.h: the little of protocol buffers we need (proto3, as Go's
 * google.golang.org/protobuf reads and writes it).  Messages are decoded
 * field by field with pb_next() and encoded straight into a struct wr.
 */
#ifndef VPN_PB_H
#define VPN_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

enum pb_wiretype {
	PB_VARINT = 0,
	PB_I64 = 1,
	PB_LEN = 2,
	PB_SGROUP = 3,
	PB_EGROUP = 4,
	PB_I32 = 5,
};

struct pb_field {
	uint32_t num;
	enum pb_wiretype wt;
	uint64_t v;	  /* PB_VARINT, PB_I64, PB_I32 */
	const uint8_t *p; /* PB_LEN: the payload, inside the input */
	size_t len;
};

/*
 * Read the next field of a message.  1: *f holds it; 0: the input is
 * exhausted; negative VPN_ERR_PB_* or VPN_ERR_TRUNCATED on malformed input.
 * Groups (wire types 3/4, which proto3 never writes) are skipped whole, as
 * Go skips them as unknown fields, and reported with wt PB_SGROUP.
 */
int pb_next(struct rd *r, struct pb_field *f);

/* Go's rule for proto3 string fields. */
bool pb_utf8_valid(const uint8_t *p, size_t len);

static inline void
pb_put_tag(struct wr *w, uint32_t num, enum pb_wiretype wt)
{
	wr_varint(w, (uint64_t)num << 3 | (unsigned)wt);
}

static inline void
pb_put_varint(struct wr *w, uint32_t num, uint64_t v)
{
	pb_put_tag(w, num, PB_VARINT);
	wr_varint(w, v);
}

static inline void
pb_put_bytes(struct wr *w, uint32_t num, const void *p, size_t len)
{
	pb_put_tag(w, num, PB_LEN);
	wr_varint(w, len);
	wr_bytes(w, p, len);
}

#endif
