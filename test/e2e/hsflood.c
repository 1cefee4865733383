/*
 * test/e2e/hsflood.c: a flood of handshake messages 1 (wire.md 4) at one
 * target, for the e2e test of handshake floods (hs_flood.sh).  Only ever
 * sends to -target, for -duration at most (60 s), then prints what it
 * sent as one line of "kind=count" fields.
 *
 *   hsflood -target IP:PORT -duration 10s [-pps N] [-bind IP:PORT]
 *           KIND:CRT:KEY ...
 *
 * Each KIND names a certificate and its X25519 key (PEM files):
 *   fresh   a valid message 1, made anew each time (new ephemeral key,
 *           index and time): the work of a real handshake, every time
 *   replay  one valid message 1, built once and sent again and again
 *   badsig  the certificate with its name changed, so that its
 *           signature fails (the issuer is the target's CA: the check
 *           costs a signature verification), new ephemeral each time
 *   plain   the certificate as it is, new ephemeral each time (give a
 *           foreign CA's or a blocklisted certificate)
 * Kinds take turns, one message each.  -pps 0: as fast as the socket
 * takes them.  Exit 0, or 64 on a usage or setup error.
 */
#include <errno.h>
#include <stdarg.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cert.h"
#include "crypto.h"
#include "err.h"
#include "fileio.h"
#include "header.h"
#include "hspayload.h"
#include "noise.h"
#include "pem.h"

#define MAX_KINDS 8
#define BATCH 64
#define PKT_MAX 4096
#define SEC 1000000000LL

enum kind { K_FRESH, K_REPLAY, K_BADSIG, K_PLAIN };

struct src {
	enum kind kind;
	const char *name;
	uint8_t priv[32];
	uint8_t *cert; /* without its public key, as in a handshake */
	size_t cert_len;
	uint8_t fixed[PKT_MAX]; /* replay: the one message */
	size_t fixed_len;
	uint64_t sent;
};

static __attribute__((format(printf, 1, 2), noreturn)) void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("hsflood: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(64);
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static uint64_t
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static bool
parse_ipport(const char *s, struct sockaddr_in *sa)
{
	char ip[64];
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(ip))
		return false;
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = '\0';
	port = strtoul(colon + 1, &end, 10);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return *end == '\0' && port <= 65535 &&
	    inet_pton(AF_INET, ip, &sa->sin_addr) == 1;
}

/* A message 1 from s into out; 0 when it could not be built. */
static size_t
build(struct src *s, uint8_t *out)
{
	struct noise_hs hs;
	struct hspayload hp;
	uint8_t pl[PKT_MAX], b[4];
	size_t plen, body;

	if (s->kind == K_REPLAY && s->fixed_len > 0) {
		memcpy(out, s->fixed, s->fixed_len);
		return s->fixed_len;
	}
	if (crypto_random(b, sizeof(b)) != 0)
		return 0;
	memset(&hp, 0, sizeof(hp));
	hp.cert = s->cert;
	hp.cert_len = s->cert_len;
	hp.initiator_index = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3] | 1;
	hp.time = real_ns();
	if (noise_init(&hs, CRYPTO_AES256GCM, true, s->priv, NULL) != 0 ||
	    hspayload_encode(&hp, pl, sizeof(pl), &plen) != 0 ||
	    noise_write_msg1(&hs, pl, plen, out + HEADER_LEN,
	        PKT_MAX - HEADER_LEN, &body) != 0) {
		noise_clear(&hs);
		return 0;
	}
	noise_clear(&hs);
	header_encode(out, HDR_HANDSHAKE, HDR_SUB_HANDSHAKE_IXPSK0, 0, 1);
	if (s->kind == K_REPLAY) {
		memcpy(s->fixed, out, HEADER_LEN + body);
		s->fixed_len = HEADER_LEN + body;
	}
	return HEADER_LEN + body;
}

static void
load(struct src *s, const char *spec)
{
	char kind[16], crt[512], key[512], err[512], *buf;
	struct cert *c = NULL;
	const char *p = strchr(spec, ':'), *q;
	size_t len;
	int r;

	q = p != NULL ? strchr(p + 1, ':') : NULL;
	if (p == NULL || q == NULL || (size_t)(p - spec) >= sizeof(kind) ||
	    (size_t)(q - p - 1) >= sizeof(crt) || strlen(q + 1) >= sizeof(key))
		die("not KIND:CRT:KEY: %s", spec);
	memcpy(kind, spec, (size_t)(p - spec));
	kind[p - spec] = '\0';
	memcpy(crt, p + 1, (size_t)(q - p - 1));
	crt[q - p - 1] = '\0';
	strcpy(key, q + 1);
	if (strcmp(kind, "fresh") == 0)
		s->kind = K_FRESH;
	else if (strcmp(kind, "replay") == 0)
		s->kind = K_REPLAY;
	else if (strcmp(kind, "badsig") == 0)
		s->kind = K_BADSIG;
	else if (strcmp(kind, "plain") == 0)
		s->kind = K_PLAIN;
	else
		die("unknown kind %s", kind);
	s->name = s->kind == K_FRESH    ? "fresh"
	          : s->kind == K_REPLAY ? "replay"
	          : s->kind == K_BADSIG ? "badsig"
	                                : "plain";
	if (fileio_read(key, FILEIO_MAX, &buf, &len, err, sizeof(err)) != 0)
		die("%s", err);
	r = pem_x25519_private(buf, len, s->priv, NULL);
	crypto_cleanse(buf, len);
	free(buf);
	if (r != 0)
		die("%s: %s", key, vpn_strerror(r));
	if (fileio_read(crt, FILEIO_MAX, &buf, &len, err, sizeof(err)) != 0)
		die("%s", err);
	if ((r = cert_from_pem(buf, len, &c, NULL)) != 0)
		die("%s: %s", crt, vpn_strerror(r));
	free(buf);
	if (s->kind == K_BADSIG &&
	    (r = cert_set_name(c, "hsflood-forged", 14)) != 0)
		die("%s: %s", crt, vpn_strerror(r));
	if ((r = cert_marshal(c, CERT_NO_PUBKEY, &s->cert, &s->cert_len)) != 0)
		die("%s: %s", crt, vpn_strerror(r));
	cert_free(c);
}

int
main(int argc, char **argv)
{
	static uint8_t pkts[BATCH][PKT_MAX];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	struct src srcs[MAX_KINDS];
	struct sockaddr_in to, from;
	const char *target = NULL, *bind_to = NULL;
	int64_t duration = 10 * SEC, pps = 0, start, now;
	size_t nsrc = 0, turn = 0, i, n;
	uint64_t total = 0, dropped = 0;
	char *end;
	int fd, a, v, sent;

	memset(srcs, 0, sizeof(srcs));
	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "-target") == 0 && a + 1 < argc)
			target = argv[++a];
		else if (strcmp(argv[a], "-bind") == 0 && a + 1 < argc)
			bind_to = argv[++a];
		else if (strcmp(argv[a], "-duration") == 0 && a + 1 < argc) {
			duration = (int64_t)(strtod(argv[++a], &end) * SEC);
			if (*end != 's' || end[1] != '\0' || duration <= 0 ||
			    duration > 60 * SEC)
				die("-duration: 0s to 60s, e.g. 10s");
		} else if (strcmp(argv[a], "-pps") == 0 && a + 1 < argc) {
			pps = strtoll(argv[++a], &end, 10);
			if (*end != '\0' || pps < 0)
				die("-pps: a number");
		} else if (argv[a][0] != '-' && nsrc < MAX_KINDS)
			load(&srcs[nsrc++], argv[a]);
		else
			die("usage: hsflood -target IP:PORT [-duration 10s] "
			    "[-pps N] [-bind IP:PORT] KIND:CRT:KEY ...");
	}
	if (target == NULL || !parse_ipport(target, &to) || nsrc == 0)
		die("-target IP:PORT and at least one KIND:CRT:KEY");
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		die("socket: %s", strerror(errno));
	v = 4 << 20;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v));
	if (bind_to != NULL && (!parse_ipport(bind_to, &from) ||
	                           bind(fd, (struct sockaddr *)&from,
	                               sizeof(from)) != 0))
		die("-bind %s: %s", bind_to, strerror(errno));
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0)
		die("connect %s: %s", target, strerror(errno));
	start = mono_ns();
	while ((now = mono_ns()) - start < duration) {
		n = BATCH;
		if (pps > 0) {
			int64_t owed = (now - start) * pps / SEC - (int64_t)total;

			if (owed <= 0) {
				struct timespec ts = {0, 1000000};

				nanosleep(&ts, NULL);
				continue;
			}
			n = owed < BATCH ? (size_t)owed : BATCH;
		}
		for (i = 0; i < n; i++) {
			struct src *s = &srcs[turn++ % nsrc];

			iov[i].iov_base = pkts[i];
			iov[i].iov_len = build(s, pkts[i]);
			memset(&mm[i], 0, sizeof(mm[i]));
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			s->sent++;
		}
		sent = sendmmsg(fd, mm, (unsigned)n, 0);
		if (sent < 0) {
			dropped += n; /* ENOBUFS, ECONNREFUSED: go on */
			sent = 0;
		}
		total += (uint64_t)n;
	}
	printf("sent=%llu socket_errors=%llu seconds=%.2f",
	    (unsigned long long)total, (unsigned long long)dropped,
	    (double)(mono_ns() - start) / SEC);
	for (i = 0; i < nsrc; i++)
		printf(" %s=%llu", srcs[i].name,
		    (unsigned long long)srcs[i].sent);
	printf("\n");
	close(fd);
	return 0;
}
