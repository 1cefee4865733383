/*
 * test/unit/testutil.h: helpers the unit tests share (include after
 * <cmocka.h>).  Tests run with the working directory test/, so fixtures
 * are at fixtures/...
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "pki.h"

#define TU_FIXTURES "fixtures/nebula-1.6.1/"

/* A whole file, NUL-terminated; fails the test if it cannot be read. */
static inline char *
tu_slurp(const char *path, size_t *len)
{
	char *buf = NULL, *nb;
	size_t n = 0, cap = 0, got;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_non_null(f);
	do {
		if (cap - n < 4096) {
			cap = cap * 2 + 4096;
			nb = realloc(buf, cap + 1);
			assert_non_null(nb);
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	assert_int_equal(ferror(f), 0);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* A file of the real nebula-cert fixtures, by name ("host-a.crt"). */
static inline char *
tu_fixture(const char *name, size_t *len)
{
	char path[256];

	snprintf(path, sizeof(path), TU_FIXTURES "%s", name);
	return tu_slurp(path, len);
}

/* The first certificate of a fixture file. */
static inline struct cert *
tu_load_cert(const char *name)
{
	struct cert *c = NULL;
	size_t len;
	char *s = tu_fixture(name, &len);

	if (cert_from_pem(s, len, &c, NULL) != 0)
		fail_msg("%s does not decode", name);
	free(s);
	return c;
}

/* A CA pool from a fixture bundle, loaded as the daemon does. */
static inline struct ca_pool *
tu_load_pool(const char *name, int64_t now)
{
	struct ca_pool *p = ca_pool_new();
	size_t len, nexp = 0;
	char *s = tu_fixture(name, &len);

	assert_non_null(p);
	assert_int_equal(ca_pool_load_pem(p, s, len, now, false, &nexp, NULL,
	                     0),
	    0);
	free(s);
	return p;
}

/* Hex digits into at most cap bytes, spaces ignored; returns the
 * length. */
static inline size_t
tu_unhex_spaced(const char *s, uint8_t *buf, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		assert_true(n < cap);
		if (sscanf(s, "%2x", &v) != 1 || s[1] == '\0')
			fail_msg("bad hex in test vector");
		buf[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

/* Exactly 2n hex digits into n bytes. */
static inline void
tu_unhex(const char *h, uint8_t *out, size_t n)
{
	size_t i;
	unsigned v;

	assert_int_equal(strlen(h), 2 * n);
	for (i = 0; i < n; i++) {
		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			fail_msg("bad hex in test vector");
		out[i] = (uint8_t)v;
	}
}

#endif
