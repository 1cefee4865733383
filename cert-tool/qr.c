/*
 * cert-tool/qr.c: nebula-cert's -out-qr.
 *
 * Nebula calls go-qrcode's Encode(pem, Medium, -5): level M, 5x5 pixels per
 * module, a 4-module quiet zone, black on white.  libqrencode makes the
 * module matrix; the PNG is written here without zlib: 1-bit grayscale, its
 * IDAT a zlib stream of stored (uncompressed) deflate blocks.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "err.h"
#include "qr.h"

#define QR_SCALE 5       /* pixels per module: go-qrcode's size -5 */
#define QR_QUIET 4       /* quiet zone, in modules */
#define STORED_MAX 65535 /* payload of one stored deflate block */

static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

/* An output buffer sized exactly beforehand, so writes need no checks. */
struct png {
	uint8_t *p;
	size_t off;
	uint32_t crctab[256];
};

/* CRC-32 (ISO 3309, reflected 0xedb88320), as PNG chunks use it. */
static void
crc_init(uint32_t tab[256])
{
	uint32_t c;
	int n, k;

	for (n = 0; n < 256; n++) {
		c = (uint32_t)n;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320U ^ (c >> 1) : c >> 1;
		tab[n] = c;
	}
}

static uint32_t
crc32_buf(const uint32_t tab[256], const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffU;

	while (n-- > 0)
		c = tab[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffU;
}

/* Adler-32 (RFC 1950), the zlib stream's trailer. */
static uint32_t
adler32(const uint8_t *p, size_t n)
{
	uint32_t a = 1, b = 0;

	while (n-- > 0) {
		a = (a + *p++) % 65521;
		b = (b + a) % 65521;
	}
	return b << 16 | a;
}

static void
put(struct png *w, const void *p, size_t n)
{
	memcpy(w->p + w->off, p, n);
	w->off += n;
}

static void
put8(struct png *w, uint8_t v)
{
	w->p[w->off++] = v;
}

static void
put16le(struct png *w, uint16_t v)
{
	put8(w, (uint8_t)v);
	put8(w, (uint8_t)(v >> 8));
}

static void
put32be(struct png *w, uint32_t v)
{
	put8(w, (uint8_t)(v >> 24));
	put8(w, (uint8_t)(v >> 16));
	put8(w, (uint8_t)(v >> 8));
	put8(w, (uint8_t)v);
}

/* Writes a chunk's length and type; returns where the CRC starts. */
static size_t
chunk_begin(struct png *w, const char *type, uint32_t len)
{
	size_t start;

	put32be(w, len);
	start = w->off;
	put(w, type, 4);
	return start;
}

/* Appends the CRC of the chunk's type and data. */
static void
chunk_end(struct png *w, size_t start)
{
	put32be(w, crc32_buf(w->crctab, w->p + start, w->off - start));
}

static int
dark(const QRcode *qr, size_t x, size_t y)
{
	int mx = (int)(x / QR_SCALE) - QR_QUIET;
	int my = (int)(y / QR_SCALE) - QR_QUIET;

	if (mx < 0 || my < 0 || mx >= qr->width || my >= qr->width)
		return 0;
	return qr->data[my * qr->width + mx] & 1;
}

/* Filtered scanlines: each a 0 (filter None) and 1-bit pixels, 1 = white. */
static void
raster(const QRcode *qr, uint8_t *raw, size_t side, size_t stride)
{
	uint8_t *row;
	size_t x, y;

	for (y = 0; y < side; y++) {
		row = raw + y * stride;
		row[0] = 0;
		memset(row + 1, 0xff, stride - 1);
		for (x = 0; x < side; x++)
			if (dark(qr, x, y))
				row[1 + x / 8] &= (uint8_t) ~(0x80 >> (x % 8));
	}
}

int
qr_png(const char *text, size_t len, uint8_t **png, size_t *pnglen)
{
	QRcode *qr = NULL;
	uint8_t *raw = NULL;
	struct png w = {.p = NULL};
	size_t side, stride, rawlen, nblk, zlen, total, off, n, start;
	int r;

	*png = NULL;
	*pnglen = 0;
	if (len > INT_MAX)
		return VPN_ERR_RANGE;
	errno = 0;
	qr = QRcode_encodeData(
	    (int)len, (const unsigned char *)text, 0, QR_ECLEVEL_M);
	if (qr == NULL) {
		if (errno == ERANGE)
			return VPN_ERR_RANGE;
		return errno == ENOMEM ? VPN_ERR_NOMEM : VPN_ERR_INVAL;
	}

	/* At most version 40: 185 * 5 = 925 pixels a side, 108 KB raw. */
	side = ((size_t)qr->width + 2 * QR_QUIET) * QR_SCALE;
	stride = 1 + (side + 7) / 8;
	rawlen = stride * side;
	nblk = (rawlen + STORED_MAX - 1) / STORED_MAX;
	zlen = 2 + nblk * 5 + rawlen + 4;
	total = sizeof(png_sig) + (12 + 13) + (12 + zlen) + 12;

	r = VPN_ERR_NOMEM;
	if ((raw = malloc(rawlen)) == NULL || (w.p = malloc(total)) == NULL)
		goto out;
	raster(qr, raw, side, stride);
	crc_init(w.crctab);

	put(&w, png_sig, sizeof(png_sig));

	start = chunk_begin(&w, "IHDR", 13);
	put32be(&w, (uint32_t)side); /* width */
	put32be(&w, (uint32_t)side); /* height */
	put8(&w, 1);                 /* bit depth */
	put8(&w, 0);                 /* colour type: grayscale */
	put8(&w, 0);                 /* compression: deflate */
	put8(&w, 0);                 /* filter method */
	put8(&w, 0);                 /* no interlace */
	chunk_end(&w, start);

	start = chunk_begin(&w, "IDAT", (uint32_t)zlen);
	put8(&w, 0x78); /* CMF: deflate, 32 KiB window */
	put8(&w, 0x01); /* FLG: (0x78 << 8 | 0x01) % 31 == 0, no dict */
	for (off = 0; off < rawlen; off += n) {
		n = rawlen - off < STORED_MAX ? rawlen - off : STORED_MAX;
		put8(&w, off + n == rawlen); /* BFINAL, BTYPE 00: stored */
		put16le(&w, (uint16_t)n);
		put16le(&w, (uint16_t)~n);
		put(&w, raw + off, n);
	}
	put32be(&w, adler32(raw, rawlen));
	chunk_end(&w, start);

	start = chunk_begin(&w, "IEND", 0);
	chunk_end(&w, start);

	*png = w.p;
	*pnglen = w.off;
	w.p = NULL;
	r = 0;
out:
	free(w.p);
	free(raw);
	QRcode_free(qr);
	return r;
}
