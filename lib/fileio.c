/* lib/fileio.c: reading and writing whole files. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

void
fileio_oserr(char *buf, size_t len, const char *op, const char *path, int err)
{
	char reason[128];

	/* Go's syscall errors are glibc's texts in lower case. */
	snprintf(reason, sizeof(reason), "%s", strerror(err));
	reason[0] = (char)tolower((unsigned char)reason[0]);
	snprintf(buf, len, "%s %s: %s", op, path, reason);
}

int
fileio_read(const char *path, size_t max, char **data, size_t *len,
    char *errbuf, size_t errlen)
{
	struct stat st;
	size_t cap, n = 0;
	ssize_t got;
	char *b = NULL, *nb;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fileio_oserr(errbuf, errlen, "open", path, errno);
		return -1;
	}
	if (fstat(fd, &st) == -1 || S_ISDIR(st.st_mode)) {
		fileio_oserr(errbuf, errlen, "read", path,
		    S_ISDIR(st.st_mode) ? EISDIR : errno);
		goto fail;
	}
	cap = st.st_size > 0 && (uint64_t)st.st_size < max ?
	    (size_t)st.st_size + 1 : 4096;
	if ((b = malloc(cap)) == NULL)
		goto nomem;
	for (;;) {
		if (n + 1 >= cap) {
			if (cap >= max) {
				snprintf(errbuf, errlen,
				    "read %s: file is larger than %zu MiB", path,
				    (size_t)max >> 20);
				goto fail;
			}
			if ((nb = realloc(b, cap * 2)) == NULL)
				goto nomem;
			b = nb, cap *= 2;
		}
		got = read(fd, b + n, cap - n - 1);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			fileio_oserr(errbuf, errlen, "read", path, errno);
			goto fail;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	b[n] = '\0';
	*data = b;
	*len = n;
	return 0;
nomem:
	snprintf(errbuf, errlen, "read %s: out of memory", path);
fail:
	free(b);
	close(fd);
	return -1;
}

int
fileio_write_new(const char *path, const void *data, size_t len, char *errbuf,
    size_t errlen)
{
	const char *p = data;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		fileio_oserr(errbuf, errlen, "open", path, errno);
		return -1;
	}
	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	fileio_oserr(errbuf, errlen, "write", path, errno);
	if (fd != -1)
		close(fd);
	unlink(path);
	return -1;
}

bool
fileio_exists(const char *path)
{
	struct stat st;

	/* Go's os.Stat(path) == nil: follows symlinks. */
	return stat(path, &st) == 0;
}
