/* test/unit/test_qr.c: -out-qr PNG: its framing, and decoding it back. */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "err.h"
#include "qr.h"

#define HOST_A "fixtures/nebula-1.6.1/host-a.crt"
#define SCALE 5
#define QUIET 4
#define MAX_M_BYTES 2331 /* 8-bit data at version 40, level M */

/* What png_decode found; pixels are the filtered scanlines, unfiltered. */
struct img {
	uint32_t width, height;
	uint8_t depth, color;
	size_t stride; /* bytes per scanline, after the filter byte */
	uint8_t *pix;  /* height * stride */
	uint32_t adler;
	size_t nblocks;
	size_t blocklen[8]; /* the first stored blocks' lengths */
};

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Bitwise, so it shares nothing with qr.c's table. */
static uint32_t
ref_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffU;
	int k;

	while (n-- > 0) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320U & (0U - (c & 1)));
	}
	return ~c;
}

static uint32_t
ref_adler32(const uint8_t *p, size_t n)
{
	uint32_t a = 1, b = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		a = (a + p[i]) % 65521;
		b = (b + a) % 65521;
	}
	return b << 16 | a;
}

/* Inflates a zlib stream of stored blocks only; checks its Adler-32. */
static uint8_t *
inflate_stored(const uint8_t *z, size_t zlen, struct img *im, size_t *outlen)
{
	uint8_t *out = NULL;
	size_t off = 2, len = 0, n;
	bool final = false;

	assert_true(zlen >= 2 + 4);
	assert_int_equal(z[0] & 0x0f, 8);             /* CM: deflate */
	assert_true((z[0] >> 4) <= 7);                /* CINFO */
	assert_int_equal((z[0] << 8 | z[1]) % 31, 0); /* FCHECK */
	assert_int_equal(z[1] & 0x20, 0);             /* FDICT */
	while (!final) {
		assert_true(zlen - off >= 5 + 4);
		assert_int_equal(z[off] & ~1, 0); /* BTYPE 00, no stray bits */
		final = z[off] & 1;
		n = (size_t)z[off + 1] | (size_t)z[off + 2] << 8;
		assert_int_equal(
		    n ^ 0xffff, (size_t)z[off + 3] | (size_t)z[off + 4] << 8);
		off += 5;
		assert_true(n <= zlen - off - 4);
		assert_non_null(out = realloc(out, len + n + 1));
		memcpy(out + len, z + off, n);
		if (im->nblocks < 8)
			im->blocklen[im->nblocks] = n;
		im->nblocks++;
		len += n;
		off += n;
	}
	assert_int_equal(zlen - off, 4); /* just the Adler-32 left */
	im->adler = be32(z + off);
	assert_int_equal(im->adler, ref_adler32(out, len));
	*outlen = len;
	return out;
}

/* Parses a PNG as qr_png writes it, checking every chunk's CRC. */
static void
png_decode(const uint8_t *png, size_t len, struct img *im)
{
	static const uint8_t sig[8] = {
	    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	uint8_t *z = NULL, *raw;
	size_t off = sizeof(sig), zlen = 0, rawlen, n, y;
	int nchunk = 0;
	bool end = false;

	memset(im, 0, sizeof(*im));
	assert_true(len > sizeof(sig));
	assert_memory_equal(png, sig, sizeof(sig));
	while (!end) {
		assert_true(len - off >= 12);
		n = be32(png + off);
		assert_true(n <= len - off - 12);
		assert_int_equal(
		    be32(png + off + 8 + n), ref_crc32(png + off + 4, 4 + n));
		if (memcmp(png + off + 4, "IHDR", 4) == 0) {
			assert_int_equal(nchunk, 0);
			assert_int_equal(n, 13);
			im->width = be32(png + off + 8);
			im->height = be32(png + off + 12);
			im->depth = png[off + 16];
			im->color = png[off + 17];
			assert_int_equal(png[off + 18], 0); /* deflate */
			assert_int_equal(png[off + 19], 0); /* filter method */
			assert_int_equal(png[off + 20], 0); /* no interlace */
		} else if (memcmp(png + off + 4, "IDAT", 4) == 0) {
			assert_true(nchunk > 0);
			assert_non_null(z = realloc(z, zlen + n + 1));
			memcpy(z + zlen, png + off + 8, n);
			zlen += n;
		} else if (memcmp(png + off + 4, "IEND", 4) == 0) {
			assert_int_equal(n, 0);
			end = true;
		} else {
			fail_msg("unexpected chunk %.4s", png + off + 4);
		}
		nchunk++;
		off += 12 + n;
	}
	assert_int_equal(off, len);     /* nothing after IEND */
	assert_int_equal(im->color, 0); /* grayscale */
	assert_true(im->depth == 1 || im->depth == 8);
	assert_true(im->width > 0 && im->height > 0);

	raw = inflate_stored(z, zlen, im, &rawlen);
	free(z);
	im->stride = ((size_t)im->width * im->depth + 7) / 8;
	assert_int_equal(rawlen, (1 + im->stride) * im->height);
	assert_non_null(im->pix = malloc(im->stride * im->height));
	for (y = 0; y < im->height; y++) {
		assert_int_equal(raw[y * (1 + im->stride)], 0); /* None */
		memcpy(im->pix + y * im->stride, raw + y * (1 + im->stride) + 1,
		    im->stride);
	}
	free(raw);
}

static bool
pixel_dark(const struct img *im, size_t x, size_t y)
{
	const uint8_t *row = im->pix + y * im->stride;
	uint8_t v;

	if (im->depth == 8) {
		v = row[x];
		assert_true(v == 0 || v == 255);
		return v == 0;
	}
	return !(row[x / 8] & (0x80 >> (x % 8)));
}

/* qr_png of text, decoded; *qr is libqrencode's matrix for the same text. */
static void
encode(const char *text, size_t len, struct img *im, QRcode **qr)
{
	uint8_t *png = NULL;
	size_t pnglen = 0;

	assert_int_equal(qr_png(text, len, &png, &pnglen), 0);
	assert_non_null(png);
	png_decode(png, pnglen, im);
	free(png);
	assert_non_null(*qr = QRcode_encodeData((int)len,
	                    (const unsigned char *)text, 0, QR_ECLEVEL_M));
}

/* Samples each module's centre and compares with libqrencode's matrix;
 * then every pixel, so the modules are solid and the quiet zone white. */
static void
check_modules(const char *text, size_t len)
{
	struct img im;
	QRcode *qr;
	size_t side, x, y;
	int mx, my;
	bool want;

	encode(text, len, &im, &qr);
	side = ((size_t)qr->width + 2 * QUIET) * SCALE;
	assert_int_equal(im.width, side);
	assert_int_equal(im.height, side);
	for (my = 0; my < qr->width; my++)
		for (mx = 0; mx < qr->width; mx++)
			assert_int_equal(
			    pixel_dark(&im,
			        (size_t)(mx + QUIET) * SCALE + SCALE / 2,
			        (size_t)(my + QUIET) * SCALE + SCALE / 2),
			    qr->data[my * qr->width + mx] & 1);
	for (y = 0; y < side; y++)
		for (x = 0; x < side; x++) {
			mx = (int)(x / SCALE) - QUIET;
			my = (int)(y / SCALE) - QUIET;
			want = mx >= 0 && my >= 0 && mx < qr->width &&
			       my < qr->width &&
			       (qr->data[my * qr->width + mx] & 1);
			if (pixel_dark(&im, x, y) != want)
				fail_msg("pixel (%zu, %zu)", x, y);
		}
	QRcode_free(qr);
	free(im.pix);
}

static void
test_qr_png_framing(void **state)
{
	static const uint8_t sig[8] = {
	    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	uint8_t *png = NULL;
	size_t pnglen = 0, len;
	char *pem = tu_slurp(HOST_A, &len);

	(void)state;
	assert_int_equal(qr_png(pem, len, &png, &pnglen), 0);
	assert_true(pnglen > 8 + 25 + 12 + 12);
	assert_memory_equal(png, sig, sizeof(sig));
	/* IHDR first, IEND last, each with its CRC */
	assert_int_equal(be32(png + 8), 13);
	assert_memory_equal(png + 12, "IHDR", 4);
	assert_int_equal(be32(png + 29), ref_crc32(png + 12, 17));
	assert_memory_equal(
	    png + pnglen - 12, "\0\0\0\0IEND\xae\x42\x60\x82", 12);
	free(png);
	free(pem);
}

static void
test_qr_ihdr_size(void **state)
{
	static const struct {
		const char *text;
		int version;
		uint32_t side; /* (21 + 4 * (version - 1) + 8) * 5 */
	} tc[] = {
	    {"a", 1, 145},
	    {"https://github.com/slackhq", 2, 165},
	    {"-----BEGIN NEBULA CERTIFICATE-----\n", 3, 185},
	};
	struct img im;
	QRcode *qr;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		encode(tc[i].text, strlen(tc[i].text), &im, &qr);
		assert_int_equal(qr->version, tc[i].version);
		assert_int_equal(im.width, ((uint32_t)qr->width + 8) * 5);
		assert_int_equal(im.height, im.width);
		assert_int_equal(im.width, tc[i].side);
		QRcode_free(qr);
		free(im.pix);
	}
}

static void
test_qr_chunk_crcs_and_adler(void **state)
{
	struct img im;
	QRcode *qr;
	size_t len;
	char *pem = tu_slurp(HOST_A, &len);

	(void)state;
	/* png_decode fails on any bad CRC; inflate_stored on the Adler-32 */
	encode(pem, len, &im, &qr);
	assert_int_equal(im.nblocks, 1);
	assert_int_not_equal(im.adler, 1); /* not the empty stream's */
	QRcode_free(qr);
	free(im.pix);
	free(pem);
}

static void
test_qr_cert_decodes_to_matrix(void **state)
{
	size_t len;
	char *pem = tu_slurp(HOST_A, &len);

	(void)state;
	check_modules(pem, len);
	free(pem);
}

static void
test_qr_short_and_binary_decode_to_matrix(void **state)
{
	static const char bin[] = "a\0b\xff\x80\n";

	(void)state;
	check_modules("a", 1);
	check_modules("-----BEGIN NEBULA CERTIFICATE-----\n", 35);
	check_modules(bin, sizeof(bin) - 1);
}

/* Version 40: 108 KB of scanlines, so more than one stored block. */
static void
test_qr_largest_uses_several_blocks(void **state)
{
	struct img im;
	QRcode *qr;
	char *text;
	size_t i;

	(void)state;
	assert_non_null(text = malloc(MAX_M_BYTES));
	for (i = 0; i < MAX_M_BYTES; i++)
		text[i] = (char)('!' + i % 90);
	check_modules(text, MAX_M_BYTES);
	encode(text, MAX_M_BYTES, &im, &qr);
	assert_int_equal(qr->version, 40);
	assert_int_equal(im.width, (177 + 8) * 5);
	assert_int_equal(im.nblocks, 2);
	assert_int_equal(im.blocklen[0], 65535);
	QRcode_free(qr);
	free(im.pix);
	free(text);
}

static void
test_qr_finder_pattern_in_place(void **state)
{
	struct img im;
	QRcode *qr;

	(void)state;
	encode("a", 1, &im, &qr);
	/* the top-left finder's outer ring starts at module (4, 4) */
	assert_false(pixel_dark(&im, 19, 19));
	assert_true(pixel_dark(&im, 20, 20));
	assert_true(pixel_dark(&im, 20 + 6 * 5 + 4, 20));
	assert_false(pixel_dark(&im, 20 + 7 * 5, 20));
	assert_false(pixel_dark(&im, 25, 25));   /* inner white ring */
	assert_true(pixel_dark(&im, 30, 30));    /* 3x3 centre */
	assert_false(pixel_dark(&im, 144, 144)); /* quiet zone */
	QRcode_free(qr);
	free(im.pix);
}

static void
test_qr_too_large_is_range(void **state)
{
	static const size_t sizes[] = {MAX_M_BYTES + 1, 10000};
	uint8_t *png = (uint8_t *)"x";
	size_t pnglen = 1, i;
	char *text;

	(void)state;
	assert_non_null(text = malloc(10000));
	memset(text, 'A', 10000);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(
		    qr_png(text, sizes[i], &png, &pnglen), VPN_ERR_RANGE);
		assert_null(png);
		assert_int_equal(pnglen, 0);
	}
	free(text);
}

static void
test_qr_empty_is_an_error(void **state)
{
	uint8_t *png = NULL;
	size_t pnglen = 0;

	(void)state;
	assert_int_equal(qr_png("", 0, &png, &pnglen), VPN_ERR_INVAL);
	assert_null(png);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_qr_png_framing),
	    cmocka_unit_test(test_qr_ihdr_size),
	    cmocka_unit_test(test_qr_chunk_crcs_and_adler),
	    cmocka_unit_test(test_qr_cert_decodes_to_matrix),
	    cmocka_unit_test(test_qr_short_and_binary_decode_to_matrix),
	    cmocka_unit_test(test_qr_largest_uses_several_blocks),
	    cmocka_unit_test(test_qr_finder_pattern_in_place),
	    cmocka_unit_test(test_qr_too_large_is_range),
	    cmocka_unit_test(test_qr_empty_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
