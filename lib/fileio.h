/*
 * lib/fileio.h: whole-file reads and careful writes, with Go's error texts
 * ("open PATH: no such file or directory") so that messages match Nebula's.
 */
#ifndef VPN_FILEIO_H
#define VPN_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

#define FILEIO_MAX (16u << 20) /* certificates, keys, configs */

/* Go's error text for a failed syscall on path: "open x: permission denied". */
void fileio_oserr(char *buf, size_t len, const char *op, const char *path,
    int err);
/* Read a whole file (NUL-terminated, at most max bytes).  0 or -1 with
 * errbuf holding Go's "open <path>: <reason>". */
int fileio_read(const char *path, size_t max, char **data, size_t *len,
    char *errbuf, size_t errlen);
/* Create path with mode 0600, refusing an existing file (O_EXCL), write,
 * fsync.  On failure nothing is left behind.  0 or -1 with errbuf. */
int fileio_write_new(const char *path, const void *data, size_t len,
    char *errbuf, size_t errlen);
/* Does path exist (following symlinks, as Go's os.Stat)? */
bool fileio_exists(const char *path);

#endif
