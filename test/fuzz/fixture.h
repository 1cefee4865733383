/*
 * test/fuzz/fixture.h: the repository's test fixtures for the fuzz
 * targets, found from the binary's own path (build/fuzz/bin/<target>),
 * so that a target runs the same from any directory.
 */
#ifndef FUZZ_FIXTURE_H
#define FUZZ_FIXTURE_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The repository's root into buf (no trailing '/'); aborts if the binary
 * is not three levels below it. */
static inline void
fx_root(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n;
	int up;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		abort();
	exe[n] = '\0';
	for (up = 0; up < 4; up++) { /* <target>, bin, fuzz, build */
		char *slash = strrchr(exe, '/');

		if (slash == NULL)
			abort();
		*slash = '\0';
	}
	if ((size_t)snprintf(buf, len, "%s", exe) >= len)
		abort();
}

/* test/fixtures/<rel>, whole and NUL-terminated (malloc'd); aborts if it
 * cannot be read.  Plain stdio, not fileio_read, which a target may
 * wrap. */
static inline char *
fx_read(const char *rel, size_t *len)
{
	char root[PATH_MAX], path[PATH_MAX + 64], *data;
	FILE *f;
	long n;

	fx_root(root, sizeof(root));
	if ((size_t)snprintf(path, sizeof(path), "%s/test/fixtures/%s", root,
	        rel) >= sizeof(path) ||
	    (f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "fixture %s: cannot open\n", rel);
		abort();
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 ||
	    (data = malloc((size_t)n + 1)) == NULL ||
	    fread(data, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	data[n] = '\0';
	*len = (size_t)n;
	return data;
}

#endif
