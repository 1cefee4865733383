/*
 * test/e2e/evilpeer.c: a hostile but authenticated peer for the e2e
 * tests.  It holds a real certificate, makes a real Noise IX handshake
 * with a node as initiator (wire.md 4), checks the responder's
 * certificate against the CA, and then sends through its own tunnel
 * what a well-behaved peer would not: oversized test requests and ICMP
 * echoes, inner packets with someone else's source address, many flows.
 *
 *   evilpeer -ca CA.crt -cert E.crt -key E.key -target IP:PORT
 *       [-bind IP:PORT] [-cipher aes|chachapoly] [-timeout SECONDS] CMD...
 *
 * -timeout bounds the handshake (default 5 s).  Commands run in order;
 * each prints one line on stdout:
 *
 *   test N              a test request with an N-byte random body; waits
 *                       1 s for a test reply with the same body:
 *                       "test N reply" or "test N noreply"
 *   echo DSTIP N        an ICMP echo request from our overlay IP (the
 *                       certificate's first) to DSTIP, N bytes of IPv4 in
 *                       all; waits 1 s for the matching echo reply:
 *                       "echo N reply" or "echo N noreply"
 *   udp SRCIP:SPORT DSTIP:DPORT TEXT
 *                       one UDP datagram with any source: "sent udp"
 *   icmpreply SRCIP DSTIP ID SEQ
 *                       one ICMP echo reply with any source:
 *                       "sent icmpreply"
 *   flows DSTIP:DPORT COUNT
 *                       COUNT UDP datagrams from our overlay IP, each from
 *                       its own source port (1024 up): "sent flows COUNT"
 *   burst K             K empty test requests, not waited for:
 *                       "sent burst K"
 *   lhquery COUNT       COUNT lighthouse HostQuery messages (wire.md 8),
 *                       each for a random IP: every other one in the
 *                       upper half (.128-.254) of our overlay /24, the
 *                       others anywhere; then receives for 500 ms and
 *                       counts the HostQueryReply messages that came
 *                       back: "sent lhquery COUNT replies R"
 *   hold PID            SIGSTOP process PID; the next test or echo sends
 *                       its packet and then resumes PID (SIGCONT) before
 *                       it waits, so that the node finds everything sent
 *                       meanwhile in one read batch: "held PID".  A held
 *                       process is also resumed when we exit.
 *   sleep MS            receive for MS milliseconds: "slept MS"
 *
 * Datagrams may be up to 65,507 bytes: the socket allows fragmentation
 * (IP_PMTUDISC_DONT).  What comes back is taken only from the target
 * address, authenticated, checked against a replay window (wire.md 5.2)
 * and matched against what a command waits for; nothing is answered.
 * A summary of what was received goes to stderr at the end.
 *
 * Exit: 0 the handshake completed and every command ran (a "noreply" is
 * for the caller to judge), 1 the handshake or a send failed, 64 usage
 * or an unusable certificate, key or CA file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "cert.h"
#include "crypto.h"
#include "csum.h"
#include "err.h"
#include "fileio.h"
#include "header.h"
#include "hspayload.h"
#include "ipaddr.h"
#include "lhmsg.h"
#include "log.h"
#include "noise.h"
#include "pem.h"
#include "pki.h"
#include "replay.h"
#include "wire.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 64
#define DGRAM_MAX 65507 /* the largest UDP payload over IPv4 */
#define BODY_MAX (DGRAM_MAX - HEADER_LEN - CRYPTO_AEAD_TAG_LEN)
#define BUF_LEN 65536
#define WAIT_MS 1000  /* for a test or echo reply */
#define RESEND_MS 250 /* handshake message 1 */
#define IP_HLEN 20
#define ICMP_HLEN 8
#define UDP_HLEN 8
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO 8
#define ICMPREPLY_DATA 32
#define BURST_MAX 4096
#define FLOW_PORT0 1024
#define FLOWS_MAX (65536 - FLOW_PORT0)
#define FLOWS_PACE 32 /* datagrams between short pauses */
#define LHQUERY_MAX 100000
#define LHQUERY_WAIT_MS 500

enum cmd_kind {
	C_TEST,
	C_ECHO,
	C_UDP,
	C_ICMPREPLY,
	C_FLOWS,
	C_BURST,
	C_LHQUERY,
	C_HOLD,
	C_SLEEP,
};

struct cmd {
	enum cmd_kind kind;
	uint32_t src, dst;
	uint16_t sport, dport, id, seq;
	unsigned long n; /* body/packet length, count, pid or ms */
	const char *text;
};

struct ident {
	struct ca_pool *pool;
	uint8_t *cert; /* ours, without its key (the handshake form) */
	size_t cert_len;
	uint8_t priv[32];
	uint32_t ip;
};

struct rxstats {
	unsigned long rx, foreign, bad, auth, replay, stray, recv_error;
	unsigned long closed;
};

struct peer {
	int fd;
	struct sockaddr_in to;
	enum crypto_cipher cipher;
	uint32_t my_ip;
	uint32_t local_index, remote_index;
	uint64_t tx_ctr;
	struct replay win;
	uint8_t ktx[CRYPTO_AEAD_KEY_LEN], krx[CRYPTO_AEAD_KEY_LEN];
	uint16_t ip_id, icmp_id, icmp_seq;
	struct rxstats st;
	uint8_t tx[BUF_LEN];   /* a sealed datagram on its way out */
	uint8_t in[BUF_LEN];   /* a plaintext being built */
	uint8_t rx[BUF_LEN];   /* a datagram received */
	uint8_t pt[BUF_LEN];   /* its plaintext */
	uint8_t want[BUF_LEN]; /* the body a test reply must carry */
};

/* The process "hold" stopped; resumed after the next send, at exit and
 * on a fatal signal.  A global because the signal handler needs it. */
static volatile sig_atomic_t held_pid;

static void
release(void)
{
	pid_t p = (pid_t)held_pid;

	if (p > 0) {
		kill(p, SIGCONT);
		held_pid = 0;
	}
}

static void
on_fatal(int sig)
{
	release();
	signal(sig, SIG_DFL);
	raise(sig);
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr,
	    "usage: evilpeer -ca CA.crt -cert E.crt -key E.key "
	    "-target IP:PORT\n"
	    "           [-bind IP:PORT] [-cipher aes|chachapoly] "
	    "[-timeout SECONDS] CMD...\n"
	    "commands: test N | echo DSTIP N | "
	    "udp SRCIP:SPORT DSTIP:DPORT TEXT |\n"
	    "          icmpreply SRCIP DSTIP ID SEQ | flows DSTIP:DPORT COUNT "
	    "|\n"
	    "          burst K | lhquery COUNT | hold PID | sleep MS\n");
	exit(EXIT_USAGE);
}

static __attribute__((format(printf, 1, 2), noreturn)) void
bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "evilpeer: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage();
}

static __attribute__((format(printf, 2, 3), noreturn)) void
die(int code, const char *fmt, ...)
{
	va_list ap;

	release();
	fprintf(stderr, "evilpeer: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
be16_get(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* --- arguments ---------------------------------------------------------- */

/* A decimal number in [min, max], nothing else in s. */
static bool
parse_num(
    const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool
parse_ip(const char *s, uint32_t *ip)
{
	return ip4_parse(s, ip);
}

/* "a.b.c.d:port", port in [minport, 65535]. */
static bool
parse_ipport(const char *s, unsigned long minport, uint32_t *ip, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	char host[IP4_STRLEN];
	unsigned long p;
	size_t hl;

	if (colon == NULL || (hl = (size_t)(colon - s)) >= sizeof(host))
		return false;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (!ip4_parse(host, ip) || !parse_num(colon + 1, minport, 65535, &p))
		return false;
	*port = (uint16_t)p;
	return true;
}

/* Take the next argument of command `name`, or fail with usage. */
static const char *
arg(int argc, char **argv, int *i, const char *name)
{
	if (*i >= argc)
		bad_usage("%s: missing argument", name);
	return argv[(*i)++];
}

/* Parse argv[i..argc) into cmds (room for argc); returns the count. */
static size_t
parse_cmds(int argc, char **argv, int i, struct cmd *cmds)
{
	size_t n = 0;
	unsigned long v;
	const char *w, *a;

	while (i < argc) {
		struct cmd *c = &cmds[n++];

		memset(c, 0, sizeof(*c));
		w = argv[i++];
		if (strcmp(w, "test") == 0) {
			c->kind = C_TEST;
			a = arg(argc, argv, &i, w);
			if (!parse_num(a, 0, BODY_MAX, &c->n))
				bad_usage(
				    "test: N must be 0..%d: %s", BODY_MAX, a);
		} else if (strcmp(w, "echo") == 0) {
			c->kind = C_ECHO;
			a = arg(argc, argv, &i, w);
			if (!parse_ip(a, &c->dst))
				bad_usage("echo: bad DSTIP: %s", a);
			a = arg(argc, argv, &i, w);
			if (!parse_num(a, IP_HLEN + ICMP_HLEN, BODY_MAX, &c->n))
				bad_usage("echo: N must be %d..%d: %s",
				    IP_HLEN + ICMP_HLEN, BODY_MAX, a);
		} else if (strcmp(w, "udp") == 0) {
			c->kind = C_UDP;
			a = arg(argc, argv, &i, w);
			if (!parse_ipport(a, 0, &c->src, &c->sport))
				bad_usage("udp: bad SRCIP:SPORT: %s", a);
			a = arg(argc, argv, &i, w);
			if (!parse_ipport(a, 0, &c->dst, &c->dport))
				bad_usage("udp: bad DSTIP:DPORT: %s", a);
			c->text = arg(argc, argv, &i, w);
			if (strlen(c->text) > BODY_MAX - IP_HLEN - UDP_HLEN)
				bad_usage("udp: TEXT too long");
		} else if (strcmp(w, "icmpreply") == 0) {
			c->kind = C_ICMPREPLY;
			a = arg(argc, argv, &i, w);
			if (!parse_ip(a, &c->src))
				bad_usage("icmpreply: bad SRCIP: %s", a);
			a = arg(argc, argv, &i, w);
			if (!parse_ip(a, &c->dst))
				bad_usage("icmpreply: bad DSTIP: %s", a);
			a = arg(argc, argv, &i, w);
			if (!parse_num(a, 0, 65535, &v))
				bad_usage("icmpreply: bad ID: %s", a);
			c->id = (uint16_t)v;
			a = arg(argc, argv, &i, w);
			if (!parse_num(a, 0, 65535, &v))
				bad_usage("icmpreply: bad SEQ: %s", a);
			c->seq = (uint16_t)v;
		} else if (strcmp(w, "flows") == 0) {
			c->kind = C_FLOWS;
			a = arg(argc, argv, &i, w);
			if (!parse_ipport(a, 0, &c->dst, &c->dport))
				bad_usage("flows: bad DSTIP:DPORT: %s", a);
			a = arg(argc, argv, &i, w);
			if (!parse_num(a, 1, FLOWS_MAX, &c->n))
				bad_usage("flows: COUNT must be 1..%d: %s",
				    FLOWS_MAX, a);
		} else if (strcmp(w, "burst") == 0) {
			c->kind = C_BURST;
			a = arg(argc, argv, &i, w);
			if (!parse_num(a, 1, BURST_MAX, &c->n))
				bad_usage(
				    "burst: K must be 1..%d: %s", BURST_MAX, a);
		} else if (strcmp(w, "lhquery") == 0) {
			c->kind = C_LHQUERY;
			a = arg(argc, argv, &i, w);
			if (!parse_num(a, 1, LHQUERY_MAX, &c->n))
				bad_usage("lhquery: COUNT must be 1..%d: %s",
				    LHQUERY_MAX, a);
		} else if (strcmp(w, "hold") == 0) {
			c->kind = C_HOLD;
			a = arg(argc, argv, &i, w);
			if (!parse_num(a, 2, INT_MAX, &c->n))
				bad_usage("hold: bad PID: %s", a);
		} else if (strcmp(w, "sleep") == 0) {
			c->kind = C_SLEEP;
			a = arg(argc, argv, &i, w);
			if (!parse_num(a, 0, 600000, &c->n))
				bad_usage("sleep: MS must be 0..600000: %s", a);
		} else {
			bad_usage("unknown command: %s", w);
		}
	}
	return n;
}

/* --- identity ----------------------------------------------------------- */

static void
load_ident(const char *ca, const char *crt, const char *key, struct ident *id)
{
	char err[512], detail[128], *buf = NULL;
	struct cert *c = NULL;
	size_t len, nexp = 0;
	int r;

	if (fileio_read(ca, FILEIO_MAX, &buf, &len, err, sizeof(err)) != 0)
		die(EXIT_USAGE, "-ca: %s", err);
	if ((id->pool = ca_pool_new()) == NULL)
		die(EXIT_USAGE, "out of memory");
	if ((r = ca_pool_load_pem(
	         id->pool, buf, len, time(NULL), false, &nexp, NULL, 0)) != 0)
		die(EXIT_USAGE, "-ca %s: %s", ca, vpn_strerror(r));
	free(buf);
	if (fileio_read(key, FILEIO_MAX, &buf, &len, err, sizeof(err)) != 0)
		die(EXIT_USAGE, "-key: %s", err);
	r = pem_x25519_private(buf, len, id->priv, NULL);
	crypto_cleanse(buf, len);
	free(buf);
	if (r != 0)
		die(EXIT_USAGE, "-key %s: %s", key, vpn_strerror(r));
	if (fileio_read(crt, FILEIO_MAX, &buf, &len, err, sizeof(err)) != 0)
		die(EXIT_USAGE, "-cert: %s", err);
	if ((r = cert_from_pem(buf, len, &c, NULL)) != 0)
		die(EXIT_USAGE, "-cert %s: %s", crt, vpn_strerror(r));
	free(buf);
	if (c->nips == 0)
		die(EXIT_USAGE, "-cert %s: the certificate has no IP", crt);
	if (cert_check_private_key(c, id->priv, 32) != 0)
		die(EXIT_USAGE, "-key does not belong to -cert");
	/* Not fatal: a test may want the node to see a bad certificate. */
	if ((r = ca_pool_verify(
	         id->pool, c, time(NULL), detail, sizeof(detail))) != 0)
		fprintf(stderr,
		    "evilpeer: warning: -cert does not verify: %s\n",
		    vpn_strerror(r));
	id->ip = c->ips[0].addr;
	if ((r = cert_marshal(c, CERT_NO_PUBKEY, &id->cert, &id->cert_len)) !=
	    0)
		die(EXIT_USAGE, "-cert: %s", vpn_strerror(r));
	cert_free(c);
}

/* --- sending and receiving ---------------------------------------------- */

static void
send_raw(struct peer *P, const uint8_t *p, size_t len)
{
	ssize_t r;

	do
		r = sendto(P->fd, p, len, 0, (const struct sockaddr *)&P->to,
		    sizeof(P->to));
	while (r == -1 && errno == EINTR);
	if (r == -1)
		die(EXIT_FAIL, "sending %zu bytes: %s", len, strerror(errno));
	if ((size_t)r != len)
		die(EXIT_FAIL, "short send: %zd of %zu bytes", r, len);
}

/* Header, then AEAD(body) with the header as AD (wire.md 6). */
static void
seal_send(
    struct peer *P, uint8_t type, uint8_t sub, const uint8_t *body, size_t len)
{
	uint64_t ctr = ++P->tx_ctr;

	if (len > BODY_MAX)
		die(EXIT_FAIL, "internal: body of %zu bytes", len);
	header_encode(P->tx, type, sub, P->remote_index, ctr);
	if (crypto_aead_seal1(P->cipher, P->ktx, ctr, P->tx, HEADER_LEN, body,
	        len, P->tx + HEADER_LEN) != 0)
		die(EXIT_FAIL, "AEAD seal failed");
	send_raw(P, P->tx, HEADER_LEN + len + CRYPTO_AEAD_TAG_LEN);
}

static bool
from_target(
    const struct peer *P, const struct sockaddr_in *from, socklen_t flen)
{
	return flen >= sizeof(*from) && from->sin_family == AF_INET &&
	       from->sin_addr.s_addr == P->to.sin_addr.s_addr &&
	       from->sin_port == P->to.sin_port;
}

/*
 * Read one datagram from the target into P->rx before deadline (ms on
 * the monotonic clock); its length, or 0 when time ran out.
 */
static size_t
recv_raw(struct peer *P, int64_t deadline)
{
	struct sockaddr_in from;
	struct pollfd pfd;
	socklen_t flen;
	int64_t left;
	ssize_t n;
	int r;

	for (;;) {
		if ((left = deadline - now_ms()) < 0)
			return 0;
		pfd.fd = P->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			die(EXIT_FAIL, "poll: %s", strerror(errno));
		if (r == 0)
			return 0;
		flen = sizeof(from);
		n = recvfrom(P->fd, P->rx, sizeof(P->rx), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &flen);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNREFUSED)
				continue;
			die(EXIT_FAIL, "recvfrom: %s", strerror(errno));
		}
		P->st.rx++;
		if (!from_target(P, &from, flen)) {
			P->st.foreign++;
			continue;
		}
		if (n == 0) {
			P->st.bad++;
			continue;
		}
		return (size_t)n;
	}
}

/*
 * The next authenticated transport packet before deadline: its header in
 * *h and its plaintext in P->pt (*plen bytes).  False when time ran out.
 * Order as the node's (STYLE 2.4): header, index, window check, AEAD,
 * window update.
 */
static bool
recv_auth(struct peer *P, int64_t deadline, struct header *h, size_t *plen)
{
	size_t n;

	while ((n = recv_raw(P, deadline)) > 0) {
		if (header_parse(h, P->rx, n) != 0) {
			P->st.bad++; /* a hole punch */
			continue;
		}
		if (h->type == HDR_HANDSHAKE) {
			P->st.stray++; /* message 2 again: ignored */
			continue;
		}
		if (h->type == HDR_RECV_ERROR) {
			P->st.recv_error++;
			continue;
		}
		if (h->remote_index != P->local_index ||
		    n < HEADER_LEN + CRYPTO_AEAD_TAG_LEN ||
		    (h->type == HDR_MESSAGE &&
		        h->subtype != HDR_SUB_MESSAGE_NONE)) {
			P->st.bad++;
			continue;
		}
		if (!replay_check(&P->win, h->counter)) {
			P->st.replay++;
			continue;
		}
		if (crypto_aead_open1(P->cipher, P->krx, h->counter, P->rx,
		        HEADER_LEN, P->rx + HEADER_LEN, n - HEADER_LEN,
		        P->pt) != 0) {
			P->st.auth++;
			continue;
		}
		if (!replay_update(&P->win, h->counter)) {
			P->st.replay++;
			continue;
		}
		if (h->type == HDR_CLOSE_TUNNEL) {
			P->st.closed++;
			fprintf(
			    stderr, "evilpeer: the node closed the tunnel\n");
		}
		*plen = n - HEADER_LEN - CRYPTO_AEAD_TAG_LEN;
		return true;
	}
	return false;
}

/* Receive (and drop) whatever arrives for ms milliseconds. */
static void
drain(struct peer *P, int64_t ms)
{
	int64_t deadline = now_ms() + ms;
	struct header h;
	size_t plen;

	while (recv_auth(P, deadline, &h, &plen))
		P->st.stray++;
}

/* --- the handshake ------------------------------------------------------ */

static void
print_peer(const struct peer *P, const struct cert *c)
{
	char name[256], ip[IP4_STRLEN];

	log_sanitize(c->name.s, c->name.len, name, sizeof(name));
	ip4_format(c->ips[0].addr, ip);
	printf("handshake ok peer=%s vpnIp=%s localIndex=%u remoteIndex=%u\n",
	    name, ip, P->local_index, P->remote_index);
}

/*
 * Message 2, authenticated by Noise: its payload must name our index and
 * carry a certificate that the CA vouches for, with the Noise static key
 * put back in.  0, or a negative VPN_ERR_* with why filled.
 */
static int
check_msg2(struct peer *P, const struct ident *id, const uint8_t *pl,
    size_t plen, const uint8_t rs[32], char *why, size_t whylen)
{
	struct hspayload hp;
	struct cert *c = NULL;
	char detail[128];
	int r;

	if ((r = hspayload_decode(&hp, pl, plen)) != 0) {
		snprintf(why, whylen, "payload: %s", vpn_strerror(r));
		return r;
	}
	if (hp.initiator_index != P->local_index || hp.responder_index == 0) {
		snprintf(why, whylen, "payload: wrong indexes");
		return VPN_ERR_INVAL;
	}
	detail[0] = '\0';
	if ((r = cert_unmarshal_nokey(hp.cert, hp.cert_len, &c)) != 0 ||
	    (r = cert_set_pubkey(c, rs, 32)) != 0 ||
	    (r = ca_pool_verify(
	         id->pool, c, time(NULL), detail, sizeof(detail))) != 0) {
		snprintf(why, whylen, "responder certificate: %s%s%s",
		    vpn_strerror(r), *detail != '\0' ? ": " : "", detail);
		cert_free(c);
		return r;
	}
	if (c->nips == 0) {
		snprintf(why, whylen, "responder certificate has no IP");
		cert_free(c);
		return VPN_ERR_INVAL;
	}
	P->remote_index = hp.responder_index;
	print_peer(P, c);
	cert_free(c);
	return 0;
}

/* Noise IX as initiator; message 1 is built once and re-sent as is. */
static bool
handshake(struct peer *P, const struct ident *id, int64_t timeout_ms)
{
	struct noise_hs hs;
	struct hspayload hp;
	struct header h;
	uint8_t rs[32], b[4];
	size_t plen, body, msg1_len, n;
	int64_t deadline = now_ms() + timeout_ms, next = 0, until;
	char why[512];
	bool ok = false;

	do {
		if (crypto_random(b, sizeof(b)) != 0)
			die(EXIT_FAIL, "no randomness");
		P->local_index = be32_get(b);
	} while (P->local_index == 0);
	memset(&hp, 0, sizeof(hp));
	hp.cert = id->cert;
	hp.cert_len = id->cert_len;
	hp.initiator_index = P->local_index;
	hp.time = real_ns();
	if (noise_init(&hs, P->cipher, true, id->priv, NULL) != 0 ||
	    hspayload_encode(&hp, P->in, sizeof(P->in), &plen) != 0 ||
	    noise_write_msg1(&hs, P->in, plen, P->tx + HEADER_LEN,
	        sizeof(P->tx) - HEADER_LEN, &body) != 0)
		die(EXIT_FAIL, "building handshake message 1 failed");
	header_encode(P->tx, HDR_HANDSHAKE, HDR_SUB_HANDSHAKE_IXPSK0, 0, 1);
	msg1_len = HEADER_LEN + body;
	snprintf(why, sizeof(why), "no answer within %lld ms",
	    (long long)timeout_ms);
	while (now_ms() < deadline) {
		if (now_ms() >= next) {
			send_raw(P, P->tx, msg1_len);
			next = now_ms() + RESEND_MS;
		}
		until = next < deadline ? next : deadline;
		if ((n = recv_raw(P, until)) == 0)
			continue;
		if (header_parse(&h, P->rx, n) != 0 ||
		    h.type != HDR_HANDSHAKE || h.counter != 2 ||
		    h.remote_index != P->local_index) {
			P->st.stray++;
			continue;
		}
		/* A forgery leaves the state as it was: keep waiting. */
		if (noise_read_msg2(&hs, P->rx + HEADER_LEN, n - HEADER_LEN, rs,
		        P->in, sizeof(P->in), &plen) != 0) {
			P->st.auth++;
			snprintf(why, sizeof(why),
			    "message 2 did not authenticate (another cipher?)");
			continue;
		}
		if (check_msg2(P, id, P->in, plen, rs, why, sizeof(why)) != 0)
			break;
		if (noise_split(&hs, P->ktx, P->krx) != 0) {
			snprintf(why, sizeof(why), "noise_split failed");
			break;
		}
		P->tx_ctr = 2; /* transport starts at 3 (wire.md 5.1) */
		replay_init(&P->win);
		replay_update(&P->win, 1);
		replay_update(&P->win, 2);
		ok = true;
		break;
	}
	noise_clear(&hs);
	if (!ok)
		fprintf(stderr, "evilpeer: handshake failed: %s\n", why);
	return ok;
}

/* --- inner packets ------------------------------------------------------ */

/* A 20-byte IPv4 header with a correct checksum. */
static void
ip4_header(struct peer *P, uint8_t *p, size_t total, uint8_t proto,
    uint32_t src, uint32_t dst)
{
	uint16_t c;

	p[0] = 0x45;
	p[1] = 0;
	be16_put(p + 2, (uint16_t)total);
	be16_put(p + 4, ++P->ip_id);
	p[6] = p[7] = 0; /* no DF, no fragment */
	p[8] = 64;
	p[9] = proto;
	p[10] = p[11] = 0;
	be32_put(p + 12, src);
	be32_put(p + 16, dst);
	c = (uint16_t)~csum_fold(csum_add(0, p, IP_HLEN));
	memcpy(p + 10, &c, 2);
}

/* An ICMP echo request or reply of total bytes (>= 28) into P->in. */
static size_t
build_icmp(struct peer *P, size_t total, uint8_t type, uint32_t src,
    uint32_t dst, uint16_t id, uint16_t seq)
{
	uint8_t *ic = P->in + IP_HLEN;
	size_t ilen = total - IP_HLEN, i;
	uint16_t c;

	ip4_header(P, P->in, total, 1, src, dst);
	ic[0] = type;
	ic[1] = 0;
	ic[2] = ic[3] = 0;
	be16_put(ic + 4, id);
	be16_put(ic + 6, seq);
	for (i = ICMP_HLEN; i < ilen; i++)
		ic[i] = (uint8_t)i;
	c = (uint16_t)~csum_fold(csum_add(0, ic, ilen));
	memcpy(ic + 2, &c, 2);
	return total;
}

/* A UDP datagram into P->in; the caller checked that it fits. */
static size_t
build_udp(struct peer *P, uint32_t src, uint16_t sport, uint32_t dst,
    uint16_t dport, const void *data, size_t dlen)
{
	uint8_t *u = P->in + IP_HLEN, ph[12];
	size_t ulen = UDP_HLEN + dlen;
	uint16_t c;

	ip4_header(P, P->in, IP_HLEN + ulen, 17, src, dst);
	be16_put(u, sport);
	be16_put(u + 2, dport);
	be16_put(u + 4, (uint16_t)ulen);
	u[6] = u[7] = 0;
	if (dlen > 0)
		memcpy(u + UDP_HLEN, data, dlen);
	be32_put(ph, src);
	be32_put(ph + 4, dst);
	ph[8] = 0;
	ph[9] = 17;
	be16_put(ph + 10, (uint16_t)ulen);
	c = (uint16_t)~csum_fold(csum_add(csum_add(0, ph, 12), u, ulen));
	if (c == 0)
		c = 0xffff; /* 0 means "no checksum" */
	memcpy(u + 6, &c, 2);
	return IP_HLEN + ulen;
}

/* Is p (plen bytes of IPv4) the first fragment of an echo reply from
 * src to dst with this id and sequence number? */
static bool
is_echo_reply(const uint8_t *p, size_t plen, uint32_t src, uint32_t dst,
    uint16_t id, uint16_t seq)
{
	size_t ihl;

	if (plen < IP_HLEN || (p[0] >> 4) != 4)
		return false;
	ihl = (size_t)(p[0] & 15) * 4;
	if (ihl < IP_HLEN || plen - ihl < ICMP_HLEN || p[9] != 1 ||
	    (p[6] & 0x1f) != 0 || p[7] != 0)
		return false;
	return be32_get(p + 12) == src && be32_get(p + 16) == dst &&
	       p[ihl] == ICMP_ECHO_REPLY && p[ihl + 1] == 0 &&
	       be16_get(p + ihl + 4) == id && be16_get(p + ihl + 6) == seq;
}

/* --- commands ----------------------------------------------------------- */

static void
cmd_test(struct peer *P, size_t n)
{
	int64_t deadline;
	struct header h;
	size_t plen;

	if (n > 0 && crypto_random(P->want, n) != 0)
		die(EXIT_FAIL, "no randomness");
	seal_send(P, HDR_TEST, HDR_SUB_TEST_REQUEST, P->want, n);
	release();
	deadline = now_ms() + WAIT_MS;
	while (recv_auth(P, deadline, &h, &plen)) {
		if (h.type == HDR_TEST && h.subtype == HDR_SUB_TEST_REPLY &&
		    plen == n && memcmp(P->pt, P->want, n) == 0) {
			printf("test %zu reply\n", n);
			return;
		}
		P->st.stray++;
	}
	printf("test %zu noreply\n", n);
}

static void
cmd_echo(struct peer *P, uint32_t dst, size_t n)
{
	uint16_t id = P->icmp_id, seq = ++P->icmp_seq;
	int64_t deadline;
	struct header h;
	size_t plen;

	seal_send(P, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE, P->in,
	    build_icmp(P, n, ICMP_ECHO, P->my_ip, dst, id, seq));
	release();
	deadline = now_ms() + WAIT_MS;
	while (recv_auth(P, deadline, &h, &plen)) {
		if (h.type == HDR_MESSAGE &&
		    is_echo_reply(P->pt, plen, dst, P->my_ip, id, seq)) {
			printf("echo %zu reply\n", n);
			return;
		}
		P->st.stray++;
	}
	printf("echo %zu noreply\n", n);
}

static void
cmd_flows(struct peer *P, const struct cmd *c)
{
	static const char data[] = "evilpeer flow";
	unsigned long i;

	for (i = 0; i < c->n; i++) {
		seal_send(P, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE, P->in,
		    build_udp(P, P->my_ip, (uint16_t)(FLOW_PORT0 + i), c->dst,
		        c->dport, data, sizeof(data) - 1));
		/* Short pauses so that the node's socket buffer keeps up. */
		if ((i + 1) % FLOWS_PACE == 0)
			drain(P, 1);
	}
	printf("sent flows %lu\n", c->n);
}

/* Receive for ms milliseconds; count the HostQueryReply messages. */
static void
drain_lh(struct peer *P, int64_t ms, unsigned long *replies)
{
	static struct lhmsg m; /* large: not on the stack */
	int64_t deadline = now_ms() + ms;
	struct header h;
	size_t plen;

	while (recv_auth(P, deadline, &h, &plen)) {
		if (h.type == HDR_LIGHTHOUSE &&
		    lhmsg_decode(&m, P->pt, plen) == 0 &&
		    m.type == LHMSG_HOST_QUERY_REPLY)
			(*replies)++;
		else
			P->st.stray++;
	}
}

/* HostQuery messages for random IPs, nobody's as far as we know. */
static void
cmd_lhquery(struct peer *P, unsigned long count)
{
	static struct lhmsg m;
	unsigned long i, replies = 0;
	uint8_t b[4];
	uint32_t ip;
	size_t len;

	for (i = 0; i < count; i++) {
		if (crypto_random(b, sizeof(b)) != 0)
			die(EXIT_FAIL, "no randomness");
		ip = be32_get(b);
		if (i % 2 == 0)
			ip = (P->my_ip & 0xffffff00u) | (128 + ip % 127);
		memset(&m, 0, sizeof(m));
		m.type = LHMSG_HOST_QUERY;
		m.has_details = true;
		m.vpn_ip = ip;
		if (lhmsg_encode(&m, P->in, sizeof(P->in), &len) != 0)
			die(EXIT_FAIL, "internal: HostQuery encoding failed");
		seal_send(P, HDR_LIGHTHOUSE, HDR_SUB_NONE, P->in, len);
		if ((i + 1) % FLOWS_PACE == 0)
			drain_lh(P, 1, &replies);
	}
	drain_lh(P, LHQUERY_WAIT_MS, &replies);
	printf("sent lhquery %lu replies %lu\n", count, replies);
}

static void
run(struct peer *P, const struct cmd *c)
{
	unsigned long i;

	switch (c->kind) {
	case C_TEST:
		cmd_test(P, c->n);
		break;
	case C_ECHO:
		cmd_echo(P, c->dst, c->n);
		break;
	case C_UDP:
		seal_send(P, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE, P->in,
		    build_udp(P, c->src, c->sport, c->dst, c->dport, c->text,
		        strlen(c->text)));
		printf("sent udp\n");
		break;
	case C_ICMPREPLY:
		seal_send(P, HDR_MESSAGE, HDR_SUB_MESSAGE_NONE, P->in,
		    build_icmp(P, IP_HLEN + ICMP_HLEN + ICMPREPLY_DATA,
		        ICMP_ECHO_REPLY, c->src, c->dst, c->id, c->seq));
		printf("sent icmpreply\n");
		break;
	case C_FLOWS:
		cmd_flows(P, c);
		break;
	case C_BURST:
		for (i = 0; i < c->n; i++)
			seal_send(P, HDR_TEST, HDR_SUB_TEST_REQUEST, NULL, 0);
		printf("sent burst %lu\n", c->n);
		break;
	case C_LHQUERY:
		cmd_lhquery(P, c->n);
		break;
	case C_HOLD:
		release(); /* one at a time */
		if (kill((pid_t)c->n, SIGSTOP) != 0)
			die(EXIT_FAIL, "hold %lu: %s", c->n, strerror(errno));
		held_pid = (sig_atomic_t)c->n;
		printf("held %lu\n", c->n);
		break;
	case C_SLEEP:
		drain(P, (int64_t)c->n);
		printf("slept %lu\n", c->n);
		break;
	}
}

/* --- main --------------------------------------------------------------- */

static int
open_socket(const char *bind_to)
{
	int fd, v;
	struct sockaddr_in sa;
	uint32_t ip;
	uint16_t port;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		die(EXIT_FAIL, "socket: %s", strerror(errno));
	v = IP_PMTUDISC_DONT; /* let the kernel fragment big datagrams */
	if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v)) != 0)
		die(EXIT_FAIL, "IP_MTU_DISCOVER: %s", strerror(errno));
	v = 4 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	if (bind_to != NULL) {
		if (!parse_ipport(bind_to, 0, &ip, &port))
			bad_usage("-bind: not IP:PORT: %s", bind_to);
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(ip);
		sa.sin_port = htons(port);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			die(EXIT_FAIL, "bind %s: %s", bind_to, strerror(errno));
	}
	return fd;
}

int
main(int argc, char **argv)
{
	const char *ca = NULL, *crt = NULL, *key = NULL, *target = NULL;
	const char *bind_to = NULL, *cipher = "aes", **opt;
	unsigned long timeout = 5;
	struct ident id;
	struct cmd *cmds;
	struct peer *P;
	uint32_t tip;
	uint16_t tport;
	size_t ncmd, k;
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc && argv[i][0] == '-'; i += 2) {
		const char *o = argv[i] + (argv[i][1] == '-'); /* --x as -x */

		if (strcmp(o, "-h") == 0 || strcmp(o, "-help") == 0)
			usage();
		if (strcmp(o, "-ca") == 0)
			opt = &ca;
		else if (strcmp(o, "-cert") == 0)
			opt = &crt;
		else if (strcmp(o, "-key") == 0)
			opt = &key;
		else if (strcmp(o, "-target") == 0)
			opt = &target;
		else if (strcmp(o, "-bind") == 0)
			opt = &bind_to;
		else if (strcmp(o, "-cipher") == 0)
			opt = &cipher;
		else if (strcmp(o, "-timeout") == 0)
			opt = NULL;
		else
			bad_usage("unknown option: %s", argv[i]);
		if (i + 1 >= argc)
			bad_usage("%s needs a value", argv[i]);
		if (opt != NULL)
			*opt = argv[i + 1];
		else if (!parse_num(argv[i + 1], 1, 3600, &timeout))
			bad_usage("-timeout: 1..3600 seconds: %s", argv[i + 1]);
	}
	if (ca == NULL || crt == NULL || key == NULL || target == NULL)
		bad_usage("-ca, -cert, -key and -target are required");
	if (!parse_ipport(target, 1, &tip, &tport))
		bad_usage("-target: not IP:PORT: %s", target);
	if ((cmds = calloc((size_t)argc, sizeof(*cmds))) == NULL ||
	    (P = calloc(1, sizeof(*P))) == NULL)
		die(EXIT_FAIL, "out of memory");
	if (strcmp(cipher, "aes") == 0)
		P->cipher = CRYPTO_AES256GCM;
	else if (strcmp(cipher, "chachapoly") == 0)
		P->cipher = CRYPTO_CHACHAPOLY;
	else
		bad_usage("-cipher: aes or chachapoly: %s", cipher);
	ncmd = parse_cmds(argc, argv, i, cmds);

	signal(SIGTERM, on_fatal);
	signal(SIGINT, on_fatal);
	signal(SIGHUP, on_fatal);
	memset(&id, 0, sizeof(id));
	load_ident(ca, crt, key, &id);
	P->my_ip = id.ip;
	P->to.sin_family = AF_INET;
	P->to.sin_addr.s_addr = htonl(tip);
	P->to.sin_port = htons(tport);
	P->fd = open_socket(bind_to);
	P->icmp_id = (uint16_t)getpid();
	if (!handshake(P, &id, (int64_t)timeout * 1000)) {
		crypto_cleanse(id.priv, sizeof(id.priv));
		return EXIT_FAIL;
	}
	crypto_cleanse(id.priv, sizeof(id.priv));
	for (k = 0; k < ncmd; k++)
		run(P, &cmds[k]);
	release();
	fprintf(stderr,
	    "evilpeer: received %lu datagrams: %lu from elsewhere, %lu bad, "
	    "%lu failed authentication, %lu replayed, %lu recvError, "
	    "%lu not waited for, %lu closeTunnel\n",
	    P->st.rx, P->st.foreign, P->st.bad, P->st.auth, P->st.replay,
	    P->st.recv_error, P->st.stray, P->st.closed);
	crypto_cleanse(P->ktx, sizeof(P->ktx));
	crypto_cleanse(P->krx, sizeof(P->krx));
	close(P->fd);
	free(P);
	free(cmds);
	free(id.cert);
	ca_pool_free(id.pool);
	return 0;
}
