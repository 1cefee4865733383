/* lib/pb.c: protobuf wire-format reader. */
#include "pb.h"
#include "err.h"

#define PB_MAX_FIELD ((1u << 29) - 1)
#define PB_MAX_DEPTH 64

static int skip_group(struct rd *r, uint32_t num, int depth);

static int
read_tag(struct rd *r, uint32_t *num, enum pb_wiretype *wt)
{
	uint64_t t = rd_varint(r);

	if (r->bad)
		return VPN_ERR_PB_VARINT;
	if ((t >> 3) == 0 || (t >> 3) > PB_MAX_FIELD)
		return VPN_ERR_PB_FIELD;
	if ((t & 7) > 5)
		return VPN_ERR_PB_WIRETYPE;
	*num = (uint32_t)(t >> 3);
	*wt = (enum pb_wiretype)(t & 7);
	return 0;
}

/* Read the value of a field whose tag was just read. */
static int
read_value(struct rd *r, struct pb_field *f, int depth)
{
	const uint8_t *b;
	uint64_t n;

	f->v = 0;
	f->p = NULL;
	f->len = 0;
	switch (f->wt) {
	case PB_VARINT:
		f->v = rd_varint(r);
		return r->bad ? VPN_ERR_PB_VARINT : 0;
	case PB_I64:
		if ((b = rd_take(r, 8)) == NULL)
			return VPN_ERR_TRUNCATED;
		for (n = 8; n > 0; n--)
			f->v = f->v << 8 | b[n - 1];
		return 0;
	case PB_I32:
		if ((b = rd_take(r, 4)) == NULL)
			return VPN_ERR_TRUNCATED;
		f->v = (uint64_t)b[3] << 24 | (uint64_t)b[2] << 16 |
		    (uint64_t)b[1] << 8 | b[0];
		return 0;
	case PB_LEN:
		n = rd_varint(r);
		if (r->bad)
			return VPN_ERR_PB_VARINT;
		if (n > rd_left(r)) {
			r->bad = true;
			return VPN_ERR_TRUNCATED;
		}
		f->len = (size_t)n;
		f->p = rd_take(r, f->len);
		return 0;
	case PB_SGROUP:
		return skip_group(r, f->num, depth + 1);
	case PB_EGROUP:
		return VPN_ERR_PB_WIRETYPE; /* an end without a start */
	}
	return VPN_ERR_PB_WIRETYPE;
}

static int
skip_group(struct rd *r, uint32_t num, int depth)
{
	struct pb_field f;
	int e;

	if (depth > PB_MAX_DEPTH)
		return VPN_ERR_PB_DEPTH;
	for (;;) {
		if (rd_left(r) == 0)
			return VPN_ERR_TRUNCATED;
		if ((e = read_tag(r, &f.num, &f.wt)) != 0)
			return e;
		if (f.wt == PB_EGROUP)
			return f.num == num ? 0 : VPN_ERR_PB_WIRETYPE;
		if ((e = read_value(r, &f, depth)) != 0)
			return e;
	}
}

int
pb_next(struct rd *r, struct pb_field *f)
{
	int e;

	if (r->bad)
		return VPN_ERR_TRUNCATED;
	if (rd_left(r) == 0)
		return 0;
	if ((e = read_tag(r, &f->num, &f->wt)) != 0 ||
	    (e = read_value(r, f, 0)) != 0)
		return e;
	return 1;
}

bool
pb_utf8_valid(const uint8_t *p, size_t len)
{
	size_t i = 0, n, k;
	uint32_t c, min;

	while (i < len) {
		c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1, c &= 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, c &= 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, c &= 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n > len - i - 1)
			return false;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			c = c << 6 | (p[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}
