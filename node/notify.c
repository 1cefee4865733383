/*
 * node/notify.c: the sd_notify(3) protocol without libsystemd
 * (notify.h).  The address is read once, by notify_init, and each
 * message goes out by sendto(2) with it, as sd_notify(3) does; a message
 * waits at most a second for room at the receiver, so that a systemd
 * that does not read cannot stall the data path for long.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

static int sock = -1;
static struct sockaddr_un addr;
static socklen_t addrlen;

/* $NOTIFY_SOCKET as sd_notify(3) reads it: "/path" or "@abstract", of
 * less than sizeof(sun_path) bytes.  false: anything else. */
static bool
parse_addr(const char *s, struct sockaddr_un *sa, socklen_t *len)
{
	size_t l = strlen(s);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (l < 2 || l >= sizeof(sa->sun_path) || (*s != '/' && *s != '@'))
		return false;
	memcpy(sa->sun_path, s, l);
	/* a path counts its NUL; an abstract name starts with one and
	 * ends without */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + l);
	if (*s == '@')
		sa->sun_path[0] = '\0';
	else
		(*len)++;
	return true;
}

void
notify_close(void)
{
	if (sock >= 0)
		close(sock);
	sock = -1;
}

bool
notify_init(void)
{
	struct timeval tv = {1, 0};
	const char *s = getenv("NOTIFY_SOCKET");

	notify_close();
	if (s == NULL || *s == '\0')
		return false;
	if (!parse_addr(s, &addr, &addrlen)) {
		log_debug("sd_notify: NOTIFY_SOCKET is not an absolute path "
		          "or an abstract socket (@name) of less than %zu "
		          "bytes: nothing is sent",
		    sizeof(addr.sun_path));
		return false;
	}
	if ((sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_debug("sd_notify: socket: %s", strerror(errno));
		return false;
	}
	if (setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		log_debug("sd_notify: SO_SNDTIMEO: %s", strerror(errno));
	return true;
}

int
notify_send(const char *msg)
{
	size_t len = strlen(msg);
	ssize_t n;

	if (sock < 0)
		return 0;
	do
		n = sendto(sock, msg, len, MSG_NOSIGNAL,
		    (const struct sockaddr *)&addr, addrlen);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)len) {
		log_debug("sd_notify: sending \"%.*s\": %s",
		    (int)strcspn(msg, "\n"), msg,
		    n == -1 ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}

int
notify_ready(size_t tunnels, size_t pending)
{
	char msg[128];

	snprintf(msg, sizeof(msg),
	    "READY=1\nSTATUS=%zu tunnel%s, %zu pending handshake%s", tunnels,
	    tunnels == 1 ? "" : "s", pending, pending == 1 ? "" : "s");
	return notify_send(msg);
}

int
notify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
	    (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
	return notify_send(msg);
}

int
notify_stopping(void)
{
	return notify_send("STOPPING=1");
}
