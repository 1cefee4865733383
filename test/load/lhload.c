/*
 * test/load/lhload.c: a load generator for a Nebula 1.6.1 lighthouse (ours
 * or the real one).  It simulates thousands of AUTHENTICATED hosts, each
 * with its own certificate and X25519 key, minted in memory from the CA:
 *
 *   register  every host makes a real Noise IX handshake with the
 *             lighthouse (wire.md 4) and sends one HostUpdateNotification
 *             (wire.md 8.2) through its tunnel (wire.md 6)
 *   query     then Q HostQuery from random hosts for random other hosts;
 *             each HostQueryReply is matched and timed, and the
 *             HostPunchNotifications the queried hosts receive are counted
 *   evil      then hostile but authenticated traffic: updates that claim
 *             other hosts' VPN IPs, queries for unknown IPs, forged tags,
 *             replays, oversized and in-overlay address lists; every check
 *             prints PASS or FAIL and a FAIL makes the exit status 1
 *   flood     then one host sends updates, and/or unauthenticated recvError
 *             packets, as fast as it can (or at -frate) for -duration
 *             while another host keeps asking: is it still served?
 *
 * Sockets: -sockets S UDP sockets; host i uses socket i % S, so hosts on
 * one socket share a source address and port (the lighthouse tells them
 * apart by their tunnel index).  Traffic goes only to the -lighthouse
 * address; datagrams from anywhere else are ignored.
 *
 * One thread drives all sockets (epoll); certificates are minted on all
 * CPUs, and can be kept in a cache file (-cache) for the next run.  Every
 * mode is bounded by -timeout (exit 2 when reached).
 *
 * Exit: 0 done, 1 a check failed (evil FAIL, hosts that never registered,
 * a flood follow-up query unanswered), 2 wall-clock limit, 64 usage or
 * setup error.  See test/load/README.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cert.h"
#include "crypto.h"
#include "err.h"
#include "fileio.h"
#include "goflag.h"
#include "header.h"
#include "hspayload.h"
#include "ipaddr.h"
#include "lhmsg.h"
#include "noise.h"
#include "pem.h"
#include "pki.h"
#include "udp.h"

#define SEC 1000000000LL
#define MS 1000000LL
#define HOST_PORT 4242 /* the port every host reports */
#define EVIL_PORT 6666 /* the port of every address an attacker forges */
#define PKT_MAX 2048   /* a handshake message 1 */
#define REPORT_ADDR_SPAN 4000000u /* made-up underlay addresses in use */
#define EXIT_FAIL 1
#define EXIT_TIMEOUT 2
#define EXIT_USAGE 64

enum mode { M_REGISTER, M_QUERY, M_EVIL, M_FLOOD };
enum hstate { H_NEW, H_HS, H_UP, H_FAILED, H_CLOSED };

/* One simulated host.  Its local index is L->idx_base + its number. */
struct host {
	uint32_t vpn_ip;       /* Ips[0] of its certificate */
	uint32_t addr4;        /* the underlay IPv4 it reports, port 4242 */
	uint32_t remote_index; /* the lighthouse's index for our tunnel */
	uint32_t q_target;     /* outstanding query, when q_pos >= 0 */
	int32_t q_pos;         /* position in L->qout, or -1 */
	int32_t pend;          /* pending handshake slot, or -1 */
	uint16_t sock;
	uint8_t state; /* enum hstate */
	uint64_t tx_ctr;
	uint64_t rx_max, rx_bits; /* a 64-counter replay window */
	int64_t q_sent;
	uint8_t priv[32], pub[32];
	uint8_t ktx[32], krx[32]; /* k_i2r and k_r2i: we are the initiator */
	uint8_t *cert;            /* the certificate without its key */
	size_t cert_len;
};

/* A handshake on its way: message 1 is built once and re-sent as is. */
struct pend {
	bool used;
	uint32_t host;
	int attempts;
	int64_t first_at, next_at;
	struct noise_hs hs;
	size_t len;
	uint8_t pkt[PKT_MAX];
};

struct sock {
	struct lhl *L;
	struct udp *u;
	uint16_t id;
	bool dirty;
};

struct lstats {
	uint64_t rx, rx_foreign, rx_short, rx_bad_index, rx_wrong_sock;
	uint64_t rx_recv_error, rx_other, rx_not_up, rx_auth_fail, rx_replay;
	uint64_t hs_sent, hs_resent, hs_done, hs_failed, hs_dup_msg2;
	uint64_t hs_bad_msg2, hs_bad_cert;
	uint64_t updates_sent, queries_sent, replies, replies_unexpected;
	uint64_t replies_bad, missing, punches, punches_bad;
	uint64_t lh_bad, lh_other, test_req, test_reply, closed;
	uint64_t flood_sent;
};

/* A growing array of latencies in nanoseconds. */
struct lat {
	uint64_t *v;
	size_t n, cap;
};

struct lhl {
	/* configuration */
	enum mode mode;
	size_t n, nsock, queries, inflight, qinflight, probes;
	double rate, qrate, probe_rate, frate;
	enum crypto_cipher cipher;
	bool json;
	long pid;
	int64_t timeout, retry, reply_timeout, flood_for, settle;
	int attempts_max;
	bool rehandshake; /* a second round: every host handshakes again */
	int round;        /* 0: registering; 1: handshaking again */
	size_t nredone;   /* hosts whose second handshake completed */
	struct udp_addr lh;
	uint32_t lh_vpn;
	struct ip4net net;
	uint32_t report_base; /* made-up underlay addresses start here */
	/* PKI */
	struct ca_pool *pool;
	struct cert *ca;
	uint8_t ca_key[64], ca_fp[CERT_FP_LEN];
	int64_t not_before, not_after;
	bool lh_known;
	uint8_t lh_pub[32];
	uint8_t *lh_cert;
	size_t lh_cert_len;
	/* hosts and sockets */
	struct host *h;
	uint32_t idx_base;
	struct sock *socks;
	uint16_t *dirty;
	size_t ndirty;
	int ep;
	struct pend *pend;
	int32_t *pfree;
	size_t npfree;
	uint32_t *reg; /* registered hosts, in order */
	size_t nreg;
	uint32_t *qout; /* hosts with a query outstanding */
	size_t nqout;
	/* run state */
	int64_t t0, deadline, next_scan, tok_at, last_reply;
	double tokens;
	size_t next_host, queries_left, q_cap;
	double q_rate;     /* the current query phase's */
	struct lat *q_cur; /* where the current phase's latencies go */
	bool timed_out;
	uint64_t rng;
	struct lstats st;
	struct lat hs_lat, q_lat, p_lat;
	struct lhmsg m; /* decode scratch */
	uint8_t scratch[UDP_MAX_PACKET];
	/* evil: the last matched reply */
	bool cap_on, cap_got;
	struct lhmsg cap;
	int fails, passes;
	FILE *out; /* human-readable lines */
};

/* --- small helpers ------------------------------------------------------ */

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static int64_t
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static uint64_t
rnd(struct lhl *L)
{
	/* xorshift64*: plenty for picking hosts */
	L->rng ^= L->rng >> 12;
	L->rng ^= L->rng << 25;
	L->rng ^= L->rng >> 27;
	return L->rng * 2685821657736338717ULL;
}

static __attribute__((format(printf, 1, 2), noreturn)) void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "lhload: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

static void
lat_add(struct lat *a, uint64_t v)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4096;
		uint64_t *p = realloc(a->v, cap * sizeof(*p));

		if (p == NULL)
			return;
		a->v = p;
		a->cap = cap;
	}
	a->v[a->n++] = v;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile in microseconds of a sorted array. */
static double
pct_us(const struct lat *a, double p)
{
	size_t i;

	if (a->n == 0)
		return 0;
	i = (size_t)(p * (double)a->n + 0.999999);
	if (i == 0)
		i = 1;
	if (i > a->n)
		i = a->n;
	return (double)a->v[i - 1] / 1e3;
}

/* VmRSS of a process in bytes, or -1. */
static long long
rss_of(long pid)
{
	char path[64], line[256];
	long long kb = -1;
	FILE *f;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

/* utime + stime of a process (all its threads) in seconds, or -1. */
static double
cpu_of(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	ssize_t r;
	int fd;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	/* after "(comm)": state is field 3, utime 14, stime 15 */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2,
	        "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
	        &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* --- output ------------------------------------------------------------- */

struct jbuf {
	char s[8192];
	size_t len;
};

static __attribute__((format(printf, 2, 3))) void
jadd(struct jbuf *j, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (j->len >= sizeof(j->s))
		return;
	va_start(ap, fmt);
	r = vsnprintf(j->s + j->len, sizeof(j->s) - j->len, fmt, ap);
	va_end(ap);
	if (r > 0)
		j->len += (size_t)r;
}

static void
jnum(struct jbuf *j, const char *k, double v)
{
	jadd(j, "%s\"%s\":%.6g", j->len > 1 ? "," : "", k, v);
}

static void
jint(struct jbuf *j, const char *k, long long v)
{
	jadd(j, "%s\"%s\":%lld", j->len > 1 ? "," : "", k, v);
}

static void
jstr(struct jbuf *j, const char *k, const char *v)
{
	jadd(j, "%s\"%s\":\"%s\"", j->len > 1 ? "," : "", k, v);
}

struct flood_res;
static void jflood(struct jbuf *j, const char *p, const struct flood_res *r);

static __attribute__((format(printf, 2, 3))) void
say(struct lhl *L, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(L->out, fmt, ap);
	va_end(ap);
	fputc('\n', L->out);
	fflush(L->out);
}

/* --- certificates ------------------------------------------------------- */

static void
load_ca(struct lhl *L, const char *crt, const char *key)
{
	char err[512], *buf = NULL;
	size_t len, nexp = 0;
	int r;

	if (fileio_read(key, FILEIO_MAX, &buf, &len, err, sizeof(err)) != 0)
		die("-ca-key: %s", err);
	r = pem_ed25519_private(buf, len, L->ca_key, NULL);
	crypto_cleanse(buf, len);
	free(buf);
	if (r != 0)
		die("-ca-key %s: %s (an encrypted key is not supported)", key,
		    vpn_strerror(r));
	if (fileio_read(crt, FILEIO_MAX, &buf, &len, err, sizeof(err)) != 0)
		die("-ca: %s", err);
	if ((r = cert_from_pem(buf, len, &L->ca, NULL)) != 0)
		die("-ca %s: %s", crt, vpn_strerror(r));
	if ((L->pool = ca_pool_new()) == NULL ||
	    (r = ca_pool_load_pem(
	         L->pool, buf, len, time(NULL), false, &nexp, NULL, 0)) != 0)
		die("-ca %s: %s", crt, vpn_strerror(r));
	free(buf);
	if (cert_check_private_key(L->ca, L->ca_key, 64) != 0)
		die("-ca-key does not belong to -ca");
	if (cert_fingerprint(L->ca, L->ca_fp) != 0)
		die("out of memory");
	L->not_before = time(NULL);
	if (L->not_before < L->ca->not_before)
		L->not_before = L->ca->not_before;
	L->not_after = L->ca->not_after - 1;
	if (L->not_after <= L->not_before)
		die("-ca is expired or about to expire");
}

struct mint_job {
	struct lhl *L;
	size_t from, to;
	int err;
	char detail[256];
};

static void *
mint_thread(void *arg)
{
	struct mint_job *j = arg;
	struct lhl *L = j->L;
	struct cert *c;
	struct ip4net ip;
	char name[32];
	size_t i;
	int r;

	for (i = j->from; i < j->to; i++) {
		struct host *h = &L->h[i];

		snprintf(name, sizeof(name), "h%zu", i);
		ip.addr = h->vpn_ip;
		ip.mask = L->net.mask;
		if ((c = cert_new()) == NULL) {
			j->err = VPN_ERR_NOMEM;
			return NULL;
		}
		c->not_before = L->not_before;
		c->not_after = L->not_after;
		if ((r = cert_set_name(c, name, strlen(name))) != 0 ||
		    (r = cert_add_ip(c, &ip)) != 0 ||
		    (r = crypto_x25519_keypair(h->priv, h->pub)) != 0 ||
		    (r = cert_set_pubkey(c, h->pub, 32)) != 0 ||
		    (r = cert_set_issuer(c, L->ca_fp, sizeof(L->ca_fp))) != 0 ||
		    (i == j->from &&
		        (r = cert_check_constraints(
		             c, L->ca, j->detail, sizeof(j->detail))) != 0) ||
		    (r = cert_sign(c, L->ca_key)) != 0 ||
		    (r = cert_marshal(
		         c, CERT_NO_PUBKEY, &h->cert, &h->cert_len)) != 0) {
			j->err = r;
			cert_free(c);
			return NULL;
		}
		cert_free(c);
	}
	return NULL;
}

/*
 * The cache: "LHLOAD1\n", CA fingerprint, net addr, mask, lighthouse VPN
 * IP, host count (4 bytes each, BE), then per host its X25519 private and
 * public keys, a 2-byte length and the certificate without its key.  A
 * cache made for the same CA, net and lighthouse IP with at least N hosts
 * serves the first N (IPs are handed out in order).
 */
static void
put32(FILE *f, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v};

	fwrite(b, 1, 4, f);
}

static bool
get32(FILE *f, uint32_t *v)
{
	uint8_t b[4];

	if (fread(b, 1, 4, f) != 4)
		return false;
	*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
	     b[3];
	return true;
}

static bool
cache_load(struct lhl *L, const char *path)
{
	uint8_t fp[CERT_FP_LEN], lb[2];
	char magic[8];
	uint32_t a, m, lh, cnt;
	struct cert *c = NULL;
	FILE *f;
	size_t i;
	bool ok = false;

	if ((f = fopen(path, "rb")) == NULL)
		return false;
	if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "LHLOAD1\n", 8) != 0 ||
	    fread(fp, 1, sizeof(fp), f) != sizeof(fp) ||
	    memcmp(fp, L->ca_fp, sizeof(fp)) != 0 || !get32(f, &a) ||
	    !get32(f, &m) || !get32(f, &lh) || !get32(f, &cnt) ||
	    a != (L->net.addr & L->net.mask) || m != L->net.mask ||
	    lh != L->lh_vpn || cnt < L->n)
		goto out;
	for (i = 0; i < L->n; i++) {
		struct host *h = &L->h[i];

		if (fread(h->priv, 1, 32, f) != 32 ||
		    fread(h->pub, 1, 32, f) != 32 || fread(lb, 1, 2, f) != 2)
			goto out;
		h->cert_len = (size_t)lb[0] << 8 | lb[1];
		if (h->cert_len == 0 ||
		    (h->cert = malloc(h->cert_len)) == NULL ||
		    fread(h->cert, 1, h->cert_len, f) != h->cert_len)
			goto out;
	}
	/* The first certificate must still be what we would mint. */
	if (cert_unmarshal_nokey(L->h[0].cert, L->h[0].cert_len, &c) != 0 ||
	    c->nips != 1 || c->ips[0].addr != L->h[0].vpn_ip ||
	    cert_set_pubkey(c, L->h[0].pub, 32) != 0 ||
	    ca_pool_verify(L->pool, c, time(NULL), NULL, 0) != 0)
		goto out;
	ok = true;
out:
	cert_free(c);
	fclose(f);
	if (!ok)
		for (i = 0; i < L->n; i++) {
			free(L->h[i].cert);
			L->h[i].cert = NULL;
		}
	return ok;
}

static void
cache_save(struct lhl *L, const char *path)
{
	char tmp[4096];
	FILE *f;
	size_t i;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    (f = fdopen(fd, "wb")) == NULL) {
		fprintf(stderr, "lhload: cannot write cache %s: %s\n", tmp,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	fwrite("LHLOAD1\n", 1, 8, f);
	fwrite(L->ca_fp, 1, sizeof(L->ca_fp), f);
	put32(f, L->net.addr & L->net.mask);
	put32(f, L->net.mask);
	put32(f, L->lh_vpn);
	put32(f, (uint32_t)L->n);
	for (i = 0; i < L->n; i++) {
		uint8_t lb[2] = {(uint8_t)(L->h[i].cert_len >> 8),
		    (uint8_t)L->h[i].cert_len};

		fwrite(L->h[i].priv, 1, 32, f);
		fwrite(L->h[i].pub, 1, 32, f);
		fwrite(lb, 1, 2, f);
		fwrite(L->h[i].cert, 1, L->h[i].cert_len, f);
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "lhload: cannot write cache %s: %s\n", path,
		    strerror(errno));
		unlink(tmp);
	}
}

/* VPN IPs in order from -net, skipping the network and broadcast
 * addresses and the lighthouse's; reported addresses outside -net. */
static void
assign_addresses(struct lhl *L)
{
	static const uint32_t bases[] = {
	    0x0a000000u, 0xac100000u, 0x64400000u, 0x0b000000u};
	uint32_t net = L->net.addr & L->net.mask, bc = net | ~L->net.mask;
	uint64_t avail = (uint64_t)bc - net - 1, ip = (uint64_t)net + 1;
	size_t i, k;

	if (L->net.mask == 0xffffffffu || L->net.mask == 0xfffffffeu)
		avail = 0;
	if (ip4net_contains(&L->net, L->lh_vpn) && L->lh_vpn != net &&
	    L->lh_vpn != bc)
		avail--;
	if (avail < L->n)
		die("-net has room for %" PRIu64 " hosts, -hosts is %zu "
		    "(use a shorter prefix, e.g. /14 for 100000)",
		    avail, L->n);
	if (!ip4net_contains(&L->net, L->lh_vpn))
		die("-lh-vpn is not inside -net");
	for (i = 0; i < L->n; i++) {
		if (ip == L->lh_vpn)
			ip++;
		L->h[i].vpn_ip = (uint32_t)ip++;
	}
	/* [base+1, base+SPAN] must not meet -net */
	for (k = 0; k < sizeof(bases) / sizeof(bases[0]); k++) {
		uint64_t lo = (uint64_t)bases[k] + 1,
		         hi = (uint64_t)bases[k] + REPORT_ADDR_SPAN;

		if (hi < net || lo > bc)
			break;
	}
	if (k == sizeof(bases) / sizeof(bases[0]))
		die("-net overlaps every range used for made-up addresses");
	L->report_base = bases[k];
	for (i = 0; i < L->n; i++)
		L->h[i].addr4 = L->report_base + 1 + (uint32_t)i;
}

static void
mint(struct lhl *L, const char *cache)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct mint_job *jobs;
	pthread_t *th;
	size_t nt, i, per;
	int64_t t = mono_ns();

	if (cache != NULL && *cache != '\0' && cache_load(L, cache)) {
		say(L, "mint: %zu hosts from cache %s in %.2f s", L->n, cache,
		    (double)(mono_ns() - t) / SEC);
		return;
	}
	nt = ncpu > 0 ? (size_t)ncpu : 1;
	if (nt > 64)
		nt = 64;
	if (nt > L->n)
		nt = L->n;
	jobs = calloc(nt, sizeof(*jobs));
	th = calloc(nt, sizeof(*th));
	if (jobs == NULL || th == NULL)
		die("out of memory");
	per = (L->n + nt - 1) / nt;
	for (i = 0; i < nt; i++) {
		jobs[i].L = L;
		jobs[i].from = i * per;
		jobs[i].to = (i + 1) * per < L->n ? (i + 1) * per : L->n;
		if (pthread_create(&th[i], NULL, mint_thread, &jobs[i]) != 0)
			die("pthread_create: %s", strerror(errno));
	}
	for (i = 0; i < nt; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < nt; i++)
		if (jobs[i].err != 0)
			die("minting host certificates: %s%s%s",
			    vpn_strerror(jobs[i].err),
			    *jobs[i].detail ? ": " : "", jobs[i].detail);
	say(L, "mint: %zu host certificates in %.2f s (%zu threads)", L->n,
	    (double)(mono_ns() - t) / SEC, nt);
	free(jobs);
	free(th);
	if (cache != NULL && *cache != '\0')
		cache_save(L, cache);
}

/* --- sockets ------------------------------------------------------------ */

static void
mark_dirty(struct lhl *L, uint16_t sid)
{
	if (!L->socks[sid].dirty) {
		L->socks[sid].dirty = true;
		L->dirty[L->ndirty++] = sid;
	}
}

static void
flush_all(struct lhl *L)
{
	size_t i;

	for (i = 0; i < L->ndirty; i++) {
		udp_flush(L->socks[L->dirty[i]].u);
		L->socks[L->dirty[i]].dirty = false;
	}
	L->ndirty = 0;
}

static void
send_raw(struct lhl *L, uint16_t sid, const uint8_t *p, size_t len)
{
	uint8_t *slot = udp_tx_slot(L->socks[sid].u);

	memcpy(slot, p, len);
	udp_tx_commit(L->socks[sid].u, &L->lh, len);
	mark_dirty(L, sid);
}

/* Header, then AEAD(pt) with the header as AD (wire.md 6), into out;
 * returns the length.  corrupt flips a bit of the tag. */
static size_t
seal_pkt(struct lhl *L, struct host *h, uint8_t type, uint8_t sub, uint64_t ctr,
    const uint8_t *pt, size_t len, uint8_t *out, bool corrupt)
{
	header_encode(out, type, sub, h->remote_index, ctr);
	if (crypto_aead_seal1(L->cipher, h->ktx, ctr, out, HEADER_LEN, pt, len,
	        out + HEADER_LEN) != 0)
		die("AEAD seal failed");
	if (corrupt)
		out[HEADER_LEN + len + 15] ^= 0x01;
	return HEADER_LEN + len + CRYPTO_AEAD_TAG_LEN;
}

static void
send_sealed(struct lhl *L, struct host *h, uint8_t type, uint8_t sub,
    const uint8_t *pt, size_t len)
{
	struct udp *u = L->socks[h->sock].u;
	uint8_t *slot = udp_tx_slot(u);
	size_t n = seal_pkt(L, h, type, sub, ++h->tx_ctr, pt, len, slot, false);

	udp_tx_commit(u, &L->lh, n);
	mark_dirty(L, h->sock);
}

static size_t
encode_lh(const struct lhmsg *m, uint8_t *buf, size_t cap)
{
	size_t len;

	if (lhmsg_encode(m, buf, cap, &len) != 0)
		die("lhmsg_encode failed");
	return len;
}

static void
send_lh(struct lhl *L, struct host *h, const struct lhmsg *m)
{
	uint8_t buf[LHMSG_ENCODED_MAX];

	send_sealed(L, h, HDR_LIGHTHOUSE, HDR_SUB_NONE, buf,
	    encode_lh(m, buf, sizeof(buf)));
}

static void
mk_update(struct lhmsg *m, uint32_t vpn, const uint32_t *ip,
    const uint16_t *port, size_t n)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	m->type = LHMSG_HOST_UPDATE_NOTIFICATION;
	m->has_details = true;
	m->vpn_ip = vpn;
	for (i = 0; i < n && i < LHMSG_MAX; i++) {
		m->v4[i].ip = ip[i];
		m->v4[i].port = port[i];
	}
	m->n4 = i;
}

static void
send_update1(
    struct lhl *L, struct host *h, uint32_t vpn, uint32_t ip, uint16_t port)
{
	struct lhmsg m;

	mk_update(&m, vpn, &ip, &port, 1);
	send_lh(L, h, &m);
	L->st.updates_sent++;
}

static void
send_query(struct lhl *L, struct host *h, uint32_t vpn)
{
	struct lhmsg m;

	memset(&m, 0, sizeof(m));
	m.type = LHMSG_HOST_QUERY;
	m.has_details = true;
	m.vpn_ip = vpn;
	send_lh(L, h, &m);
	L->st.queries_sent++;
}

/* --- handshakes --------------------------------------------------------- */

static struct host *
host_by_index(struct lhl *L, uint32_t idx)
{
	uint32_t i = idx - L->idx_base - 1;

	return i < L->n ? &L->h[i] : NULL;
}

static struct host *
host_by_vpn(struct lhl *L, uint32_t vpn)
{
	size_t lo = 0, hi = L->n;

	while (lo < hi) { /* VPN IPs ascend with the host number */
		size_t mid = lo + (hi - lo) / 2;

		if (L->h[mid].vpn_ip < vpn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < L->n && L->h[lo].vpn_ip == vpn ? &L->h[lo] : NULL;
}

static void
hs_begin(struct lhl *L, uint32_t hid, int64_t now)
{
	struct host *h = &L->h[hid];
	struct hspayload hp;
	uint8_t pl[PKT_MAX];
	size_t plen, body;
	int32_t s = L->pfree[--L->npfree];
	struct pend *p = &L->pend[s];

	memset(&hp, 0, sizeof(hp));
	hp.cert = h->cert;
	hp.cert_len = h->cert_len;
	hp.initiator_index = L->idx_base + 1 + hid;
	hp.time = (uint64_t)real_ns();
	if (noise_init(&p->hs, L->cipher, true, h->priv, h->pub) != 0 ||
	    hspayload_encode(&hp, pl, sizeof(pl), &plen) != 0 ||
	    noise_write_msg1(&p->hs, pl, plen, p->pkt + HEADER_LEN,
	        sizeof(p->pkt) - HEADER_LEN, &body) != 0)
		die("building handshake message 1 failed");
	header_encode(p->pkt, HDR_HANDSHAKE, HDR_SUB_HANDSHAKE_IXPSK0, 0, 1);
	p->len = HEADER_LEN + body;
	p->used = true;
	p->host = hid;
	p->attempts = 1;
	p->first_at = now;
	p->next_at = now + L->retry;
	h->pend = s;
	h->state = H_HS;
	send_raw(L, h->sock, p->pkt, p->len);
	L->st.hs_sent++;
}

static void
pend_release(struct lhl *L, struct host *h)
{
	struct pend *p = &L->pend[h->pend];

	noise_clear(&p->hs);
	p->used = false;
	L->pfree[L->npfree++] = h->pend;
	h->pend = -1;
}

/* Is the responder the lighthouse we were told about?  The full check
 * runs once; after that the same static key and certificate bytes are
 * enough. */
static bool
lh_cert_ok(struct lhl *L, const struct hspayload *hp, const uint8_t rs[32])
{
	struct cert *c = NULL;
	char detail[128];
	bool ok;
	int r;

	if (L->lh_known)
		return crypto_memeq(rs, L->lh_pub, 32) &&
		       hp->cert_len == L->lh_cert_len &&
		       memcmp(hp->cert, L->lh_cert, hp->cert_len) == 0;
	if ((r = cert_unmarshal_nokey(hp->cert, hp->cert_len, &c)) != 0 ||
	    (r = cert_set_pubkey(c, rs, 32)) != 0 ||
	    (r = ca_pool_verify(
	         L->pool, c, time(NULL), detail, sizeof(detail))) != 0) {
		fprintf(stderr, "lhload: the lighthouse's certificate: %s\n",
		    vpn_strerror(r));
		cert_free(c);
		return false;
	}
	ok = c->nips > 0 && c->ips[0].addr == L->lh_vpn;
	if (!ok)
		fprintf(stderr, "lhload: the responder is not -lh-vpn\n");
	cert_free(c);
	if (ok && (L->lh_cert = malloc(hp->cert_len)) != NULL) {
		memcpy(L->lh_cert, hp->cert, hp->cert_len);
		L->lh_cert_len = hp->cert_len;
		memcpy(L->lh_pub, rs, 32);
		L->lh_known = true;
	}
	return ok;
}

/* Message 2: complete the tunnel and register at once. */
static void
on_msg2(struct lhl *L, struct host *h, uint8_t *pkt, size_t len)
{
	struct pend *p;
	struct hspayload hp;
	uint8_t rs[32], pl[PKT_MAX];
	size_t plen;
	int64_t now;

	if (h->state != H_HS) {
		L->st.hs_dup_msg2++; /* an answer to a re-sent message 1 */
		return;
	}
	p = &L->pend[h->pend];
	if (noise_read_msg2(&p->hs, pkt + HEADER_LEN, len - HEADER_LEN, rs, pl,
	        sizeof(pl), &plen) != 0) {
		L->st.hs_bad_msg2++; /* stays pending */
		return;
	}
	if (hspayload_decode(&hp, pl, plen) != 0 ||
	    hp.initiator_index != L->idx_base + 1 + (uint32_t)(h - L->h) ||
	    hp.responder_index == 0 || !lh_cert_ok(L, &hp, rs)) {
		L->st.hs_bad_cert++;
		pend_release(L, h);
		h->state = H_FAILED;
		L->st.hs_failed++;
		return;
	}
	if (noise_split(&p->hs, h->ktx, h->krx) != 0)
		die("noise_split failed");
	now = mono_ns();
	lat_add(&L->hs_lat, (uint64_t)(now - p->first_at));
	h->remote_index = hp.responder_index;
	h->tx_ctr = 2; /* transport starts at 3 (wire.md 5.1) */
	h->rx_max = 2;
	h->rx_bits = 7;
	pend_release(L, h);
	h->state = H_UP;
	L->st.hs_done++;
	send_update1(L, h, h->vpn_ip, h->addr4, HOST_PORT);
	if (L->round == 0)
		L->reg[L->nreg++] = (uint32_t)(h - L->h);
	else
		L->nredone++;
}

/* --- receiving ---------------------------------------------------------- */

static bool
replay_ok(struct host *h, uint64_t c)
{
	uint64_t d;

	if (c > h->rx_max) {
		d = c - h->rx_max;
		h->rx_bits = d >= 64 ? 1 : (h->rx_bits << d) | 1;
		h->rx_max = c;
		return true;
	}
	d = h->rx_max - c;
	if (d >= 64 || (h->rx_bits >> d) & 1)
		return false;
	h->rx_bits |= 1ull << d;
	return true;
}

static bool
has_addr(const struct lhmsg *m, uint32_t ip, uint16_t port)
{
	size_t i;

	for (i = 0; i < m->n4; i++)
		if (m->v4[i].ip == ip && m->v4[i].port == port)
			return true;
	return false;
}

static void
q_remove(struct lhl *L, struct host *h)
{
	struct host *last = &L->h[L->qout[--L->nqout]];

	L->qout[h->q_pos] = (uint32_t)(last - L->h);
	last->q_pos = h->q_pos;
	h->q_pos = -1;
}

static void
on_reply(struct lhl *L, struct host *h, const struct lhmsg *m)
{
	struct host *t;

	if (h->q_pos < 0 || m->vpn_ip != h->q_target) {
		L->st.replies_unexpected++;
		return;
	}
	L->last_reply = mono_ns();
	lat_add(L->q_cur, (uint64_t)(L->last_reply - h->q_sent));
	q_remove(L, h);
	L->st.replies++;
	if (L->cap_on) {
		L->cap = *m;
		L->cap_got = true;
	} else if ((t = host_by_vpn(L, m->vpn_ip)) == NULL ||
	           !has_addr(m, t->addr4, HOST_PORT)) {
		L->st.replies_bad++;
	}
}

static void
on_lh(struct lhl *L, struct host *h, const uint8_t *p, size_t len)
{
	struct lhmsg *m = &L->m;
	struct host *q;

	if (lhmsg_decode(m, p, len) != 0 || !m->has_details) {
		L->st.lh_bad++;
		return;
	}
	switch (m->type) {
	case LHMSG_HOST_QUERY_REPLY:
		on_reply(L, h, m);
		break;
	case LHMSG_HOST_PUNCH_NOTIFICATION:
		L->st.punches++;
		if ((q = host_by_vpn(L, m->vpn_ip)) == NULL ||
		    !has_addr(m, q->addr4, HOST_PORT))
			L->st.punches_bad++;
		break;
	default:
		L->st.lh_other++;
	}
}

static void
on_rx(void *arg, const struct udp_addr *from, uint8_t *pkt, size_t len)
{
	struct sock *s = arg;
	struct lhl *L = s->L;
	struct header hd;
	struct host *h;
	size_t plen;

	L->st.rx++;
	if (!udp_addr_eq(from, &L->lh)) {
		L->st.rx_foreign++;
		return;
	}
	if (header_parse(&hd, pkt, len) != 0) {
		L->st.rx_short++;
		return;
	}
	if ((h = host_by_index(L, hd.remote_index)) == NULL) {
		L->st.rx_bad_index++;
		return;
	}
	if (h->sock != s->id) {
		L->st.rx_wrong_sock++; /* the lighthouse mixed up addresses */
		return;
	}
	switch (hd.type) {
	case HDR_HANDSHAKE:
		if (hd.counter == 2)
			on_msg2(L, h, pkt, len);
		else
			L->st.rx_other++;
		return;
	case HDR_RECV_ERROR:
		L->st.rx_recv_error++;
		return;
	case HDR_LIGHTHOUSE:
	case HDR_TEST:
	case HDR_CLOSE_TUNNEL:
		break;
	default:
		L->st.rx_other++;
		return;
	}
	if (h->state != H_UP) {
		L->st.rx_not_up++;
		return;
	}
	if (len < HEADER_LEN + CRYPTO_AEAD_TAG_LEN ||
	    crypto_aead_open1(L->cipher, h->krx, hd.counter, pkt, HEADER_LEN,
	        pkt + HEADER_LEN, len - HEADER_LEN, L->scratch) != 0) {
		L->st.rx_auth_fail++;
		return;
	}
	if (!replay_ok(h, hd.counter)) {
		L->st.rx_replay++;
		return;
	}
	plen = len - HEADER_LEN - CRYPTO_AEAD_TAG_LEN;
	switch (hd.type) {
	case HDR_TEST:
		if (hd.subtype == HDR_SUB_TEST_REQUEST) {
			L->st.test_req++; /* the connection manager asks */
			send_sealed(L, h, HDR_TEST, HDR_SUB_TEST_REPLY,
			    L->scratch, plen);
		} else {
			L->st.test_reply++;
		}
		return;
	case HDR_CLOSE_TUNNEL:
		L->st.closed++;
		h->state = H_CLOSED;
		return;
	default:
		on_lh(L, h, L->scratch, plen);
	}
}

/* Wait up to ms for datagrams and read what came, a few batches per
 * socket; then send what the handlers queued. */
static void
io(struct lhl *L, int ms)
{
	struct epoll_event ev[128];
	int n, i, k;

	n = epoll_wait(L->ep, ev, 128, ms);
	for (i = 0; i < n; i++) {
		struct sock *s = &L->socks[ev[i].data.u32];

		for (k = 0; k < 16; k++)
			if (udp_recv_batch(s->u, on_rx, s) < UDP_BATCH)
				break;
	}
	flush_all(L);
}

typedef bool (*tick_fn)(struct lhl *, int64_t now, int *wait_ms);

/* Run tick and I/O until tick says done: 0, or -1 at the time limit. */
static int
run(struct lhl *L, tick_fn tick)
{
	int64_t now;
	int wait;

	for (;;) {
		now = mono_ns();
		if (now >= L->deadline) {
			L->timed_out = true;
			flush_all(L);
			return -1;
		}
		wait = 1;
		if (tick(L, now, &wait)) {
			flush_all(L);
			return 0;
		}
		flush_all(L);
		io(L, wait);
	}
}

static int64_t pause_until;

static bool
pause_tick(struct lhl *L, int64_t now, int *wait)
{
	(void)L;
	*wait = 1;
	return now >= pause_until;
}

/* Keep answering (test requests, stray replies) for ms. */
static int
pause_ms(struct lhl *L, int64_t ms)
{
	flush_all(L);
	pause_until = mono_ns() + ms * MS;
	return run(L, pause_tick);
}

/* Token bucket: may one more go out now? */
static bool
take_token(struct lhl *L, double rate, int64_t now)
{
	double cap;

	if (rate <= 0)
		return true;
	L->tokens += (double)(now - L->tok_at) * rate / 1e9;
	L->tok_at = now;
	cap = rate / 200 > 1 ? rate / 200 : 1; /* 5 ms of burst */
	if (L->tokens > cap)
		L->tokens = cap;
	if (L->tokens < 1)
		return false;
	L->tokens -= 1;
	return true;
}

/* --- register ----------------------------------------------------------- */

static bool
reg_tick(struct lhl *L, int64_t now, int *wait)
{
	size_t i, started = 0;

	if (now >= L->next_scan) { /* re-send or give up */
		L->next_scan = now + 10 * MS;
		for (i = 0; i < L->inflight; i++) {
			struct pend *p = &L->pend[i];
			struct host *h;

			if (!p->used || now < p->next_at)
				continue;
			h = &L->h[p->host];
			if (p->attempts >= L->attempts_max) {
				pend_release(L, h);
				h->state = H_FAILED;
				L->st.hs_failed++;
				continue;
			}
			p->attempts++;
			p->next_at = now + L->retry;
			send_raw(L, h->sock, p->pkt, p->len);
			L->st.hs_resent++;
		}
	}
	while (L->next_host < L->n && L->npfree > 0 && started < 256) {
		if (L->round > 0 && L->h[L->next_host].state != H_NEW) {
			L->next_host++; /* not registered: not again either */
			continue;
		}
		if (!take_token(L, L->rate, now))
			break;
		hs_begin(L, (uint32_t)L->next_host++, now);
		started++;
	}
	/* more could go out at once: do not sleep */
	*wait = started == 256 ? 0 : 1;
	return L->next_host == L->n && L->npfree == L->inflight;
}

/* --- query -------------------------------------------------------------- */

static void
q_expire(struct lhl *L, int64_t now)
{
	size_t i = 0;

	while (i < L->nqout) {
		struct host *h = &L->h[L->qout[i]];

		if (now - h->q_sent > L->reply_timeout) {
			L->st.missing++;
			q_remove(L, h); /* the last one moved to i */
			continue;
		}
		i++;
	}
}

static void
q_start(struct lhl *L, struct host *q, uint32_t vpn, int64_t now)
{
	q->q_target = vpn;
	q->q_sent = now;
	q->q_pos = (int32_t)L->nqout;
	L->qout[L->nqout++] = (uint32_t)(q - L->h);
	send_query(L, q, vpn);
}

static bool
query_tick(struct lhl *L, int64_t now, int *wait)
{
	size_t sent = 0, tries;
	struct host *q, *t;

	if (now >= L->next_scan) {
		L->next_scan = now + 10 * MS;
		q_expire(L, now);
	}
	while (L->queries_left > 0 && L->nqout < L->q_cap && sent < 256 &&
	       take_token(L, L->q_rate, now)) {
		for (tries = 0; tries < 8; tries++) {
			q = &L->h[L->reg[rnd(L) % L->nreg]];
			if (q->q_pos < 0 && q->state == H_UP)
				break;
		}
		if (tries == 8)
			break; /* every querier we drew is busy */
		do
			t = &L->h[L->reg[rnd(L) % L->nreg]];
		while (t == q);
		q_start(L, q, t->vpn_ip, now);
		L->queries_left--;
		sent++;
	}
	*wait = sent == 256 ? 0 : 1;
	return L->queries_left == 0 && L->nqout == 0;
}

/*
 * n queries at rate (0: as fast as at most cap outstanding allow), their
 * latencies into lat (sorted on return).  *answered and *secs: replies
 * and the time from the first query to the last reply.  0, or -1 at the
 * wall-clock limit.
 */
static int
query_phase(struct lhl *L, size_t n, double rate, size_t cap, struct lat *lat,
    uint64_t *answered, double *secs)
{
	uint64_t before = L->st.replies;
	int64_t t0;

	L->queries_left = n;
	L->q_rate = rate;
	L->q_cap = cap;
	L->q_cur = lat;
	L->next_scan = 0;
	L->tokens = 0;
	t0 = L->tok_at = L->last_reply = mono_ns();
	if (run(L, query_tick) != 0)
		return -1;
	*answered = L->st.replies - before;
	*secs = *answered > 0 ? (double)(L->last_reply - t0) / SEC : 0;
	if (pause_ms(L, 300) != 0) /* the last punch notifications */
		return -1;
	qsort(lat->v, lat->n, sizeof(uint64_t), cmp_u64);
	return 0;
}

/* --- evil --------------------------------------------------------------- */

static int64_t ask_until;
static struct host *ask_host;

static bool
ask_tick(struct lhl *L, int64_t now, int *wait)
{
	(void)L;
	*wait = 1;
	return ask_host->q_pos < 0 || now >= ask_until;
}

/* q asks about vpn and waits for the reply (in L->cap): true if one came. */
static bool
ask(struct lhl *L, struct host *q, uint32_t vpn)
{
	if (q->q_pos >= 0) { /* an earlier query still out: give it up */
		q_remove(L, q);
		L->st.missing++;
	}
	flush_all(L);
	L->cap_on = true;
	L->cap_got = false;
	L->q_cur = &L->q_lat;
	q_start(L, q, vpn, mono_ns());
	flush_all(L);
	ask_host = q;
	ask_until = mono_ns() + L->reply_timeout;
	run(L, ask_tick);
	if (q->q_pos >= 0) {
		q_remove(L, q);
		L->st.missing++;
	}
	L->cap_on = false;
	return L->cap_got;
}

static __attribute__((format(printf, 3, 4))) void
verdict(struct lhl *L, bool ok, const char *fmt, ...)
{
	va_list ap;

	fprintf(L->out, "%s ", ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vfprintf(L->out, fmt, ap);
	va_end(ap);
	fputc('\n', L->out);
	fflush(L->out);
	if (ok)
		L->passes++;
	else
		L->fails++;
}

static void
fmt_addrs(const struct lhmsg *m, char *buf, size_t len)
{
	char ip[IP4_STRLEN];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < m->n4 && off + 32 < len; i++) {
		ip4_format(m->v4[i].ip, ip);
		off += (size_t)snprintf(buf + off, len - off, "%s%s:%u",
		    i ? "," : "", ip, m->v4[i].port);
	}
}

/* Does a reply about victim v carry its real address and none of the
 * forged ones (EVIL_PORT)?  why receives the explanation. */
static bool
reply_intact(
    struct lhl *L, bool got, const struct host *v, char *why, size_t len)
{
	char a[512];
	size_t i;

	if (!got) {
		snprintf(why, len, "no reply (the entry was lost)");
		return false;
	}
	fmt_addrs(&L->cap, a, sizeof(a));
	for (i = 0; i < L->cap.n4; i++)
		if (L->cap.v4[i].port == EVIL_PORT) {
			snprintf(why, len, "forged address in reply: [%s]", a);
			return false;
		}
	if (!has_addr(&L->cap, v->addr4, HOST_PORT)) {
		snprintf(why, len, "real address missing: [%s]", a);
		return false;
	}
	snprintf(why, len, "reply [%s]", a);
	return true;
}

static uint32_t
evil_ip(struct lhl *L, uint32_t j)
{
	return L->report_base + (uint32_t)L->n + 1000 + j;
}

/* Send a sealed lighthouse message with a chosen counter (not advancing
 * h->tx_ctr) and optionally a broken tag. */
static void
send_lh_ctr(struct lhl *L, struct host *h, const struct lhmsg *m, uint64_t ctr,
    bool corrupt)
{
	uint8_t buf[LHMSG_ENCODED_MAX], pkt[LHMSG_ENCODED_MAX + 64];
	size_t n = encode_lh(m, buf, sizeof(buf));

	send_raw(L, h->sock, pkt,
	    seal_pkt(
	        L, h, HDR_LIGHTHOUSE, HDR_SUB_NONE, ctr, buf, n, pkt, corrupt));
}

static void
evil(struct lhl *L)
{
	struct host *V, *A, *W, *E1, *E2, *E3, *E4;
	struct lhmsg m;
	uint32_t ips[20], unknown[64], U = 0, net, bc;
	uint16_t ports[20];
	uint8_t saved[LHMSG_ENCODED_MAX + 64], buf[LHMSG_ENCODED_MAX];
	size_t nsaved, nu = 0, i, k, K, ok;
	uint64_t before;
	char why[600];
	bool got, good;

	if (L->nreg < 8) {
		verdict(L, false, "setup: only %zu hosts registered, need 8",
		    L->nreg);
		return;
	}
	V = &L->h[L->reg[0]];
	A = &L->h[L->reg[1]];
	W = &L->h[L->reg[2]];
	E1 = &L->h[L->reg[3]];
	E2 = &L->h[L->reg[4]];
	E3 = &L->h[L->reg[5]];
	E4 = &L->h[L->reg[6]];
	net = L->net.addr & L->net.mask;
	bc = net | ~L->net.mask;
	/* inside -net and never minted: from the top of -net down, so that
	 * hosts left over from an earlier, larger run are unlikely there */
	if (L->h[L->n - 1].vpn_ip + 18 < bc - 1)
		U = bc - 1;
	if (U == L->lh_vpn)
		U--;

	/* 1. An authenticated host claims other VPN IPs. */
	send_update1(L, A, V->vpn_ip, evil_ip(L, 0), EVIL_PORT);
	send_update1(L, A, L->lh_vpn, evil_ip(L, 1), EVIL_PORT);
	if (U != 0)
		send_update1(L, A, U, evil_ip(L, 2), EVIL_PORT);
	/* ... and speaks as a lighthouse would: reply and punch about V */
	memset(&m, 0, sizeof(m));
	m.type = LHMSG_HOST_QUERY_REPLY;
	m.has_details = true;
	m.vpn_ip = V->vpn_ip;
	m.v4[0].ip = evil_ip(L, 3);
	m.v4[0].port = EVIL_PORT;
	m.n4 = 1;
	send_lh(L, A, &m);
	m.type = LHMSG_HOST_PUNCH_NOTIFICATION;
	send_lh(L, A, &m);
	m.type = LHMSG_HOST_MOVED_NOTIFICATION;
	send_lh(L, A, &m);
	pause_ms(L, 200);
	got = ask(L, W, V->vpn_ip);
	good = reply_intact(L, got, V, why, sizeof(why));
	verdict(L, good,
	    "impersonation: host %s claims victim %s's VpnIp "
	    "(update, reply, punch, moved): %s",
	    "A", "V", why);
	got = ask(L, W, L->lh_vpn);
	for (i = 0, good = true; got && i < L->cap.n4; i++)
		if (L->cap.v4[i].port == EVIL_PORT)
			good = false;
	fmt_addrs(&L->cap, why, sizeof(why));
	verdict(L, good,
	    "impersonation: a host claims the lighthouse's own "
	    "VpnIp: %s%s%s",
	    got ? "reply [" : "no reply", got ? why : "", got ? "]" : "");
	if (U != 0) {
		got = ask(L, W, U);
		fmt_addrs(&L->cap, why, sizeof(why));
		verdict(L, !got,
		    "impersonation: a claim for an unregistered "
		    "VpnIp creates no entry: %s%s%s",
		    got ? "reply [" : "no reply", got ? why : "",
		    got ? "]" : "");
	}

	/* 2. Many attackers, each claiming a different victim. */
	K = (L->nreg - 7) / 2;
	if (K > 200)
		K = 200;
	for (k = 0; k < K; k++) {
		struct host *a = &L->h[L->reg[7 + k]],
		            *v = &L->h[L->reg[7 + K + k]];

		send_update1(
		    L, a, v->vpn_ip, evil_ip(L, 10 + (uint32_t)k), EVIL_PORT);
	}
	if (K > 0) {
		pause_ms(L, 300);
		for (k = 0, ok = 0, *why = '\0'; k < K; k++) {
			struct host *v = &L->h[L->reg[7 + K + k]];
			char w[600];

			if (reply_intact(
			        L, ask(L, W, v->vpn_ip), v, w, sizeof(w)))
				ok++;
			else if (*why == '\0')
				snprintf(why, sizeof(why),
				    "; first failure: "
				    "%.500s",
				    w);
		}
		verdict(L, ok == K,
		    "mass impersonation: %zu/%zu victims "
		    "intact%s",
		    ok, K, why);
	}

	/* 3. Queries for VPN IPs nobody registered, and malformed queries. */
	if (U != 0)
		for (i = 1; i <= 16; i++)
			if (U - i != L->lh_vpn)
				unknown[nu++] = U - (uint32_t)i;
	unknown[nu++] = 0;
	unknown[nu++] = 0xffffffffu;
	unknown[nu++] = 0x08080808u;
	unknown[nu++] = net;
	unknown[nu++] = bc;
	unknown[nu++] = evil_ip(L, 0);
	before = L->st.replies_unexpected;
	for (i = 0; i < nu; i++)
		send_query(L, W, unknown[i]);
	memset(&m, 0, sizeof(m));
	m.type = LHMSG_HOST_QUERY; /* no Details at all */
	send_lh(L, W, &m);
	m.type = 99; /* an unknown type, with Details */
	m.has_details = true;
	m.vpn_ip = V->vpn_ip;
	send_lh(L, W, &m);
	pause_ms(L, 500);
	verdict(L, L->st.replies_unexpected == before,
	    "unknown queries: %zu "
	    "queries for never-registered VpnIps (and 2 malformed ones) got "
	    "%" PRIu64 " replies",
	    nu, L->st.replies_unexpected - before);

	/* 4. More than 10 addresses: only the first 10 are kept. */
	for (i = 0; i < 20; i++) {
		ips[i] = E1->addr4 + (uint32_t)i * 0x100000u;
		ports[i] = (uint16_t)(5000 + i);
	}
	mk_update(&m, E1->vpn_ip, ips, ports, 20);
	send_lh(L, E1, &m);
	pause_ms(L, 100);
	got = ask(L, W, E1->vpn_ip);
	for (i = 0, k = 0, good = got; got && i < 20; i++)
		if (has_addr(&L->cap, ips[i], ports[i])) {
			k++;
			if (i >= 10)
				good = false;
		}
	fmt_addrs(&L->cap, why, sizeof(why));
	verdict(L, good && k <= 10,
	    "address limit: 20 addresses reported, "
	    "%zu kept (at most the first 10 expected): %s%s%s",
	    k, got ? "[" : "no reply", got ? why : "", got ? "]" : "");

	/* 5. An address inside the overlay network is dropped. */
	ips[0] = bc - 1;
	ports[0] = HOST_PORT;
	ips[1] = E2->addr4;
	ports[1] = HOST_PORT;
	mk_update(&m, E2->vpn_ip, ips, ports, 2);
	send_lh(L, E2, &m);
	pause_ms(L, 100);
	got = ask(L, W, E2->vpn_ip);
	fmt_addrs(&L->cap, why, sizeof(why));
	verdict(L,
	    got && !has_addr(&L->cap, ips[0], ports[0]) &&
	        has_addr(&L->cap, E2->addr4, HOST_PORT),
	    "overlay address "
	    "filtered from an update: %s%s%s",
	    got ? "[" : "no reply", got ? why : "", got ? "]" : "");

	/* 6. A forged tag changes nothing, and a forged packet with a far
	 * counter does not move the replay window (auth before replay). */
	ips[0] = evil_ip(L, 4);
	ports[0] = EVIL_PORT;
	mk_update(&m, E3->vpn_ip, ips, ports, 1);
	send_lh_ctr(L, E3, &m, ++E3->tx_ctr, true);
	send_lh_ctr(L, E3, &m, E3->tx_ctr + 1000000, true);
	pause_ms(L, 100);
	got = ask(L, W, E3->vpn_ip);
	good = reply_intact(L, got, E3, why, sizeof(why));
	verdict(L, good, "forged tag: an update with a bad tag is ignored: %s",
	    why);
	ips[0] = E3->addr4 + 0x200000u;
	ports[0] = 4343;
	mk_update(&m, E3->vpn_ip, ips, ports, 1);
	send_lh(L, E3, &m);
	pause_ms(L, 100);
	got = ask(L, W, E3->vpn_ip);
	fmt_addrs(&L->cap, why, sizeof(why));
	verdict(L, got && has_addr(&L->cap, ips[0], ports[0]),
	    "auth before "
	    "replay: after a forged packet with counter +1000000 the next "
	    "genuine update is accepted: %s%s%s",
	    got ? "[" : "no reply", got ? why : "", got ? "]" : "");

	/* 7. A replayed old update does not bring back an old address. */
	ips[0] = E4->addr4 + 0x300000u;
	ports[0] = 4001;
	mk_update(&m, E4->vpn_ip, ips, ports, 1);
	nsaved = seal_pkt(L, E4, HDR_LIGHTHOUSE, HDR_SUB_NONE, ++E4->tx_ctr,
	    buf, encode_lh(&m, buf, sizeof(buf)), saved, false);
	send_raw(L, E4->sock, saved, nsaved);
	ips[1] = E4->addr4 + 0x400000u;
	ports[1] = 4002;
	mk_update(&m, E4->vpn_ip, ips + 1, ports + 1, 1);
	send_lh(L, E4, &m);
	flush_all(L);
	send_raw(L, E4->sock, saved, nsaved);
	pause_ms(L, 100);
	got = ask(L, W, E4->vpn_ip);
	fmt_addrs(&L->cap, why, sizeof(why));
	verdict(L,
	    got && has_addr(&L->cap, ips[1], ports[1]) &&
	        !has_addr(&L->cap, ips[0], ports[0]),
	    "replay: a replayed older "
	    "update is ignored: %s%s%s",
	    got ? "[" : "no reply", got ? why : "", got ? "]" : "");

	/* 8. Still alive, and V still intact. */
	got = ask(L, W, V->vpn_ip);
	good = reply_intact(L, got, V, why, sizeof(why));
	verdict(L, good,
	    "after all of it the lighthouse answers and the "
	    "victim is intact: %s",
	    why);
}

/* --- flood -------------------------------------------------------------- */

struct flood_res {
	bool ran;
	uint64_t sent;
	double secs, cpu_s;
	long long rss0, rss1;
	size_t probes, answered;
	double p50, p99, max;
};

/*
 * One host F floods for -duration: authenticated updates (1 to 10
 * addresses, always different, so the lighthouse replaces its lists every
 * time) or, with recverr, unauthenticated 16-byte recvError packets
 * naming indexes nobody uses.  Meanwhile host W asks about a random host
 * every 10 ms: is the lighthouse still serving the others?
 */
static void
flood_one(struct lhl *L, bool recverr, struct flood_res *r)
{
	struct host *F = &L->h[L->reg[0]], *W = &L->h[L->reg[1]];
	struct lhmsg m;
	uint32_t ips[10], idx;
	uint16_t ports[10];
	uint8_t buf[LHMSG_ENCODED_MAX], *slot;
	int64_t t0, end, now, next_probe = 0;
	double c0;
	size_t len, i, k;
	uint64_t seq = 0;

	memset(r, 0, sizeof(*r));
	r->ran = true;
	L->p_lat.n = 0;
	r->rss0 = rss_of(L->pid);
	c0 = cpu_of(L->pid);
	t0 = mono_ns();
	end = t0 + L->flood_for;
	if (end > L->deadline)
		end = L->deadline;
	L->q_cur = &L->p_lat;
	L->tokens = 0;
	L->tok_at = t0;
	for (now = t0; now < end; now = mono_ns()) {
		if (now >= next_probe) {
			next_probe = now + 10 * MS;
			q_expire(L, now);
			if (W->q_pos < 0) {
				q_start(L, W,
				    L->h[L->reg[1 + rnd(L) % (L->nreg - 1)]]
				        .vpn_ip,
				    now);
				r->probes++;
			}
		}
		for (k = 0; k < 256 && take_token(L, L->frate, now);
		     k++, seq++) {
			if (recverr) {
				do /* an index none of our tunnels has */
					idx = (uint32_t)rnd(L);
				while (
				    idx == 0 || host_by_index(L, idx) != NULL);
				slot = udp_tx_slot(L->socks[F->sock].u);
				header_encode(slot, HDR_RECV_ERROR, 0, idx, 0);
				udp_tx_commit(
				    L->socks[F->sock].u, &L->lh, HEADER_LEN);
				mark_dirty(L, F->sock);
				r->sent++;
				continue;
			}
			for (i = 0; i <= seq % 10; i++) {
				ips[i] = F->addr4 +
				         (uint32_t)((seq * 7 + i) % 1000u) *
				             0x10000u;
				ports[i] = (uint16_t)(1024 + (seq + i) % 60000);
			}
			mk_update(&m, F->vpn_ip, ips, ports, i);
			len = encode_lh(&m, buf, sizeof(buf));
			send_sealed(
			    L, F, HDR_LIGHTHOUSE, HDR_SUB_NONE, buf, len);
			r->sent++;
		}
		flush_all(L);
		io(L, k < 256 ? 1 : 0);
	}
	r->secs = (double)(mono_ns() - t0) / SEC;
	pause_ms(L, 1000);
	q_expire(L, mono_ns() + L->reply_timeout + 1);
	r->cpu_s = L->pid > 0 ? cpu_of(L->pid) - c0 : -1;
	r->rss1 = rss_of(L->pid);
	qsort(L->p_lat.v, L->p_lat.n, sizeof(uint64_t), cmp_u64);
	r->answered = L->p_lat.n;
	r->p50 = pct_us(&L->p_lat, .5);
	r->p99 = pct_us(&L->p_lat, .99);
	r->max = pct_us(&L->p_lat, 1);
	say(L,
	    "flood (%s): %" PRIu64 " sent by one host in %.2f s (%.0f/s); "
	    "lighthouse RSS %lld -> %lld bytes, CPU %.2f s (%.2f us per "
	    "packet); meanwhile another host's queries: %zu/%zu answered, "
	    "latency p50 %.0f us p99 %.0f us max %.0f us",
	    recverr ? "recvError" : "updates", r->sent, r->secs,
	    r->secs > 0 ? (double)r->sent / r->secs : 0, r->rss0, r->rss1,
	    r->cpu_s, r->sent ? r->cpu_s * 1e6 / (double)r->sent : 0,
	    r->answered, r->probes, r->p50, r->p99, r->max);
	L->st.flood_sent += r->sent;
}

static void
flood(struct lhl *L, bool updates, bool recverr, struct flood_res *ru,
    struct flood_res *rr)
{
	struct host *F, *W;
	char why[600];
	bool got;

	if (L->nreg < 2) {
		verdict(L, false, "flood: need 2 registered hosts");
		return;
	}
	F = &L->h[L->reg[0]];
	W = &L->h[L->reg[1]];
	if (updates)
		flood_one(L, false, ru);
	if (recverr)
		flood_one(L, true, rr);
	/* afterwards: one distinct update, then ask for it */
	send_update1(L, F, F->vpn_ip, F->addr4, HOST_PORT);
	pause_ms(L, 200);
	got = ask(L, W, F->vpn_ip);
	fmt_addrs(&L->cap, why, sizeof(why));
	verdict(L,
	    got && has_addr(&L->cap, F->addr4, HOST_PORT) && L->cap.n4 <= 2,
	    "flood: afterwards the lighthouse answers with the "
	    "last update only: %s%s%s",
	    got ? "[" : "no reply", got ? why : "", got ? "]" : "");
}

/* --- main --------------------------------------------------------------- */

static void
jflood(struct jbuf *j, const char *p, const struct flood_res *r)
{
	char k[64];

	if (!r->ran)
		return;
#define JF(name, fn, val)                                                      \
	do {                                                                   \
		snprintf(k, sizeof(k), "%s_%s", p, name);                      \
		fn(j, k, val);                                                 \
	} while (0)
	JF("sent", jint, (long long)r->sent);
	JF("s", jnum, r->secs);
	JF("lh_cpu_s", jnum, r->cpu_s);
	JF("rss_before", jint, r->rss0);
	JF("rss_after", jint, r->rss1);
	JF("probes", jint, (long long)r->probes);
	JF("probe_answered", jint, (long long)r->answered);
	JF("probe_p50_us", jnum, r->p50);
	JF("probe_p99_us", jnum, r->p99);
	JF("probe_max_us", jnum, r->max);
#undef JF
}

static unsigned long long
parse_num(const char *flag, const char *s, double *d)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < 0)
		die("-%s: not a non-negative number: %s", flag, s);
	if (d != NULL)
		*d = v;
	return (unsigned long long)v;
}

enum {
	F_CA,
	F_CA_KEY,
	F_LH,
	F_LH_VPN,
	F_NET,
	F_HOSTS,
	F_SOCKETS,
	F_QUERIES,
	F_RATE,
	F_QRATE,
	F_INFLIGHT,
	F_QINFLIGHT,
	F_PROBES,
	F_PROBE_RATE,
	F_CIPHER,
	F_MODE,
	F_JSON,
	F_PID,
	F_TIMEOUT,
	F_RETRY,
	F_ATTEMPTS,
	F_REPLY_TIMEOUT,
	F_DURATION,
	F_FLOOD_KIND,
	F_FRATE,
	F_SETTLE,
	F_REHS,
	F_BIND,
	F_CACHE,
	F_SEED,
	F_COUNT
};

int
main(int argc, char **argv)
{
	struct goflag f[F_COUNT] = {
	    [F_CA] = {"ca", GOFLAG_STRING, "CA certificate (PEM)", "ca.crt",
	        false, 0, false},
	    [F_CA_KEY] = {"ca-key", GOFLAG_STRING,
	        "CA private key (PEM, not "
	        "encrypted)",
	        "ca.key", false, 0, false},
	    [F_LH] = {"lighthouse", GOFLAG_STRING,
	        "the lighthouse's "
	        "`IP:PORT`",
	        "127.0.0.1:4242", false, 0, false},
	    [F_LH_VPN] = {"lh-vpn", GOFLAG_STRING, "the lighthouse's VPN IP",
	        "10.200.0.1", false, 0, false},
	    [F_NET] = {"net", GOFLAG_STRING,
	        "overlay network of the hosts "
	        "(CIDR)",
	        "10.200.0.0/16", false, 0, false},
	    [F_HOSTS] = {"hosts", GOFLAG_STRING, "number of hosts", "1000",
	        false, 0, false},
	    [F_SOCKETS] = {"sockets", GOFLAG_STRING,
	        "UDP sockets; host i "
	        "uses socket i % S",
	        "64", false, 0, false},
	    [F_QUERIES] = {"queries", GOFLAG_STRING,
	        "HostQuery messages "
	        "(query mode)",
	        "10000", false, 0, false},
	    [F_RATE] = {"rate", GOFLAG_STRING,
	        "handshakes per second, 0 = as "
	        "fast as -inflight allows",
	        "0", false, 0, false},
	    [F_QRATE] = {"qrate", GOFLAG_STRING,
	        "queries per second, 0 = as "
	        "fast as -inflight allows",
	        "0", false, 0, false},
	    [F_INFLIGHT] = {"inflight", GOFLAG_STRING,
	        "handshakes "
	        "outstanding at most",
	        "256", false, 0, false},
	    [F_QINFLIGHT] = {"qinflight", GOFLAG_STRING,
	        "queries "
	        "outstanding at most",
	        "256", false, 0, false},
	    [F_PROBES] = {"probes", GOFLAG_STRING,
	        "query mode: after the "
	        "throughput run, this many queries at -probe-rate for the "
	        "latency of a lightly loaded lighthouse",
	        "1000", false, 0, false},
	    [F_PROBE_RATE] = {"probe-rate", GOFLAG_STRING,
	        "queries per "
	        "second of the latency probe",
	        "1000", false, 0, false},
	    [F_CIPHER] = {"cipher", GOFLAG_STRING, "aes or chachapoly", "aes",
	        false, 0, false},
	    [F_MODE] = {"mode", GOFLAG_STRING,
	        "register, query, evil or "
	        "flood",
	        "register", false, 0, false},
	    [F_JSON] = {"json", GOFLAG_BOOL,
	        "print one JSON line on stdout "
	        "(human lines go to stderr)",
	        "", false, 0, false},
	    [F_PID] = {"pid", GOFLAG_STRING,
	        "the lighthouse's PID, for "
	        "memory and CPU figures",
	        "0", false, 0, false},
	    [F_TIMEOUT] = {"timeout", GOFLAG_DURATION,
	        "wall-clock limit of "
	        "the whole run",
	        "", false, 300 * SEC, false},
	    [F_RETRY] = {"retry", GOFLAG_DURATION,
	        "re-send an unanswered "
	        "message 1 after",
	        "", false, 1 * SEC, false},
	    [F_ATTEMPTS] = {"attempts", GOFLAG_STRING,
	        "message 1 sends per "
	        "host before it counts as failed",
	        "10", false, 0, false},
	    [F_REPLY_TIMEOUT] = {"reply-timeout", GOFLAG_DURATION,
	        "a query "
	        "unanswered after this counts as missing",
	        "", false, 2 * SEC, false},
	    [F_DURATION] = {"duration", GOFLAG_DURATION,
	        "flood mode: how "
	        "long (at most 60s)",
	        "", false, 5 * SEC, false},
	    [F_FLOOD_KIND] = {"flood-kind", GOFLAG_STRING,
	        "flood mode: "
	        "updates, recverror (unauthenticated recvError packets) or "
	        "both",
	        "both", false, 0, false},
	    [F_FRATE] = {"frate", GOFLAG_STRING,
	        "flood mode: packets per "
	        "second, 0 = as fast as possible",
	        "0", false, 0, false},
	    [F_REHS] = {"rehandshake", GOFLAG_BOOL,
	        "after registering, every host makes a new handshake with "
	        "the same certificate (a reconnect), measured apart",
	        "", false, 0, false},
	    [F_SETTLE] = {"settle", GOFLAG_DURATION,
	        "wait after registering "
	        "before measuring memory and querying",
	        "", false, 1 * SEC, false},
	    [F_BIND] = {"bind", GOFLAG_STRING,
	        "local address of the "
	        "sockets",
	        "0.0.0.0", false, 0, false},
	    [F_CACHE] = {"cache", GOFLAG_STRING,
	        "file to keep minted hosts "
	        "in between runs (private keys!)",
	        "", false, 0, false},
	    [F_SEED] = {"seed", GOFLAG_STRING,
	        "random seed for picking "
	        "hosts, 0 = random",
	        "0", false, 0, false},
	};
	struct lhl *L;
	struct jbuf j = {{0}, 0};
	char err[512];
	int argi = 1, r, rc = 0;
	size_t i;
	long long rss0 = -1, rss1 = -1;
	double cpu0 = -1, cpu1 = -1, reg_cpu = -1, qcpu = -1, v;
	struct flood_res fu, fr;
	bool fl_upd = true, fl_rerr = true;
	double reg_s = 0, q_s = 0, mint_s, re_s = 0, re_cpu = -1;
	int64_t t;
	uint64_t q_before, q_ans = 0, q_missing = 0, p_ans = 0, p_missing = 0;
	double p_s = 0;
	const char *mode_name;

	r = goflag_parse(f, F_COUNT, argc, argv, &argi, err, sizeof(err));
	if (r == GOFLAG_HELP) {
		fprintf(stderr, "Usage: lhload -ca ca.crt -ca-key ca.key "
		                "-lighthouse IP:PORT -lh-vpn IP -net CIDR "
		                "-hosts N [flags]\n");
		goflag_print_defaults(stderr, f, F_COUNT);
		return 0;
	}
	if (r != 0 || argi != argc) {
		fprintf(stderr, "lhload: %s\n",
		    r != 0 ? err : "unexpected argument");
		return EXIT_USAGE;
	}
	if ((L = calloc(1, sizeof(*L))) == NULL)
		die("out of memory");
	L->t0 = mono_ns();
	L->json = f[F_JSON].b;
	L->out = L->json ? stderr : stdout;
	L->n = parse_num("hosts", f[F_HOSTS].s, NULL);
	L->nsock = parse_num("sockets", f[F_SOCKETS].s, NULL);
	L->queries = parse_num("queries", f[F_QUERIES].s, NULL);
	parse_num("rate", f[F_RATE].s, &L->rate);
	parse_num("qrate", f[F_QRATE].s, &L->qrate);
	L->inflight = parse_num("inflight", f[F_INFLIGHT].s, NULL);
	L->qinflight = parse_num("qinflight", f[F_QINFLIGHT].s, NULL);
	L->probes = parse_num("probes", f[F_PROBES].s, NULL);
	parse_num("probe-rate", f[F_PROBE_RATE].s, &L->probe_rate);
	parse_num("frate", f[F_FRATE].s, &L->frate);
	L->pid = (long)parse_num("pid", f[F_PID].s, NULL);
	L->attempts_max = (int)parse_num("attempts", f[F_ATTEMPTS].s, NULL);
	L->timeout = f[F_TIMEOUT].d;
	L->retry = f[F_RETRY].d;
	L->reply_timeout = f[F_REPLY_TIMEOUT].d;
	L->flood_for = f[F_DURATION].d;
	L->settle = f[F_SETTLE].d;
	L->rehandshake = f[F_REHS].b;
	L->rng = parse_num("seed", f[F_SEED].s, NULL);
	if (L->n < 2 || L->n > 16000000)
		die("-hosts must be 2 to 16000000");
	if (L->nsock < 1 || L->nsock > 4096)
		die("-sockets must be 1 to 4096");
	if (L->nsock > L->n)
		L->nsock = L->n;
	if (L->inflight < 1 || L->inflight > 1000000)
		die("-inflight must be 1 to 1000000");
	if (L->qinflight < 1)
		die("-qinflight must be at least 1");
	if (L->probes > 0 && L->probe_rate <= 0)
		die("-probe-rate must be positive");
	if (L->attempts_max < 1 || L->attempts_max > 1000)
		die("-attempts must be 1 to 1000");
	if (L->timeout <= 0 || L->retry <= 0 || L->reply_timeout <= 0)
		die("-timeout, -retry and -reply-timeout must be positive");
	if (L->flood_for <= 0 || L->flood_for > 60 * SEC)
		die("-duration must be positive and at most 60s");
	if (L->queries > 100000000)
		die("-queries at most 100000000");
	if (strcmp(f[F_CIPHER].s, "aes") == 0)
		L->cipher = CRYPTO_AES256GCM;
	else if (strcmp(f[F_CIPHER].s, "chachapoly") == 0)
		L->cipher = CRYPTO_CHACHAPOLY;
	else
		die("-cipher must be aes or chachapoly");
	mode_name = f[F_MODE].s;
	if (strcmp(mode_name, "register") == 0)
		L->mode = M_REGISTER;
	else if (strcmp(mode_name, "query") == 0)
		L->mode = M_QUERY;
	else if (strcmp(mode_name, "evil") == 0)
		L->mode = M_EVIL;
	else if (strcmp(mode_name, "flood") == 0)
		L->mode = M_FLOOD;
	else
		die("-mode must be register, query, evil or flood");
	if (strcmp(f[F_FLOOD_KIND].s, "updates") == 0)
		fl_rerr = false;
	else if (strcmp(f[F_FLOOD_KIND].s, "recverror") == 0)
		fl_upd = false;
	else if (strcmp(f[F_FLOOD_KIND].s, "both") != 0)
		die("-flood-kind must be updates, recverror or both");
	memset(&fu, 0, sizeof(fu));
	memset(&fr, 0, sizeof(fr));
	if (L->mode == M_EVIL && L->n < 8)
		die("-mode evil needs at least 8 hosts");
	if (udp_addr_parse(f[F_LH].s, &L->lh) != 0 || !udp_addr_is_v4(&L->lh))
		die("-lighthouse: want IPv4:PORT, have %s", f[F_LH].s);
	if (!ip4_parse(f[F_LH_VPN].s, &L->lh_vpn))
		die("-lh-vpn: not an IPv4 address: %s", f[F_LH_VPN].s);
	if (ip4net_parse(f[F_NET].s, &L->net) != 0)
		die("-net: not an IPv4 CIDR: %s", f[F_NET].s);
	/* the backstop, should the loop itself wedge */
	signal(SIGALRM, SIG_DFL);
	alarm((unsigned)(L->timeout / SEC + 30));
	L->deadline = L->t0 + L->timeout;
	if (L->rng == 0 && crypto_random(&L->rng, sizeof(L->rng)) != 0)
		die("no randomness");
	if (L->rng == 0)
		L->rng = 1;
	if (crypto_random(&L->idx_base, sizeof(L->idx_base)) != 0)
		die("no randomness");
	L->idx_base &= 0x7fffffffu; /* base + n + 1 never wraps to 0 */

	load_ca(L, f[F_CA].s, f[F_CA_KEY].s);
	L->h = calloc(L->n, sizeof(*L->h));
	L->reg = calloc(L->n, sizeof(*L->reg));
	L->qout = calloc(L->n, sizeof(*L->qout));
	L->pend = calloc(L->inflight, sizeof(*L->pend));
	L->pfree = calloc(L->inflight, sizeof(*L->pfree));
	L->socks = calloc(L->nsock, sizeof(*L->socks));
	L->dirty = calloc(L->nsock, sizeof(*L->dirty));
	if (!L->h || !L->reg || !L->qout || !L->pend || !L->pfree ||
	    !L->socks || !L->dirty)
		die("out of memory");
	assign_addresses(L);
	for (i = 0; i < L->n; i++) {
		L->h[i].sock = (uint16_t)(i % L->nsock);
		L->h[i].q_pos = -1;
		L->h[i].pend = -1;
	}
	for (i = 0; i < L->inflight; i++)
		L->pfree[L->npfree++] = (int32_t)(L->inflight - 1 - i);
	t = mono_ns();
	mint(L, f[F_CACHE].s);
	mint_s = (double)(mono_ns() - t) / SEC;

	if ((L->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1: %s", strerror(errno));
	for (i = 0; i < L->nsock; i++) {
		struct epoll_event ev = {.events = EPOLLIN};

		L->socks[i].L = L;
		L->socks[i].id = (uint16_t)i;
		if (udp_open(f[F_BIND].s, 0, 4 << 20, 4 << 20, false, &L->socks[i].u,
		        err, sizeof(err)) != 0)
			die("socket %zu: %s", i, err);
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(
		        L->ep, EPOLL_CTL_ADD, udp_fd(L->socks[i].u), &ev) != 0)
			die("epoll_ctl: %s", strerror(errno));
	}

	/* register */
	rss0 = rss_of(L->pid);
	cpu0 = cpu_of(L->pid);
	t = mono_ns();
	L->tok_at = t;
	if (run(L, reg_tick) != 0)
		goto done;
	reg_s = (double)(mono_ns() - t) / SEC;
	cpu1 = cpu_of(L->pid);
	if (cpu0 >= 0 && cpu1 >= 0)
		reg_cpu = cpu1 - cpu0;
	say(L,
	    "register: %zu/%zu hosts registered in %.2f s (%.0f "
	    "handshakes/s), %" PRIu64 " re-sent, %" PRIu64 " failed",
	    L->nreg, L->n, reg_s, reg_s > 0 ? (double)L->nreg / reg_s : 0,
	    L->st.hs_resent, L->st.hs_failed);
	if (pause_ms(L, L->settle / MS) != 0)
		goto done;
	rss1 = rss_of(L->pid);
	if (L->pid > 0)
		say(L,
		    "memory: lighthouse RSS %lld -> %lld bytes, %.0f "
		    "bytes/host; CPU %.2f s for the handshakes (%.0f us "
		    "each)",
		    rss0, rss1,
		    L->nreg ? (double)(rss1 - rss0) / (double)L->nreg : 0,
		    reg_cpu, L->nreg ? reg_cpu * 1e6 / (double)L->nreg : 0);
	if (L->nreg < L->n)
		rc = EXIT_FAIL;
	if (L->rehandshake) {
		/* the registered hosts again, with new ephemeral keys and a
		 * later time: a reconnect with certificates the lighthouse
		 * has seen */
		for (i = 0; i < L->n; i++)
			if (L->h[i].state == H_UP)
				L->h[i].state = H_NEW;
		L->round = 1;
		L->next_host = 0;
		cpu0 = cpu_of(L->pid);
		t = mono_ns();
		L->tok_at = t;
		if (run(L, reg_tick) != 0)
			goto done;
		re_s = (double)(mono_ns() - t) / SEC;
		cpu1 = cpu_of(L->pid);
		if (cpu0 >= 0 && cpu1 >= 0)
			re_cpu = cpu1 - cpu0;
		say(L,
		    "rehandshake: %zu/%zu hosts again in %.2f s (%.0f "
		    "handshakes/s); lighthouse CPU %.2f s (%.0f us each)",
		    L->nredone, L->nreg, re_s,
		    re_s > 0 ? (double)L->nredone / re_s : 0, re_cpu,
		    L->nredone ? re_cpu * 1e6 / (double)L->nredone : 0);
		if (L->nredone < L->nreg)
			rc = EXIT_FAIL;
		if (pause_ms(L, L->settle / MS) != 0)
			goto done;
	}

	switch (L->mode) {
	case M_QUERY:
		if (L->nreg < 2) {
			say(L, "query: fewer than 2 hosts registered");
			rc = EXIT_FAIL;
			break;
		}
		cpu0 = cpu_of(L->pid);
		q_before = L->st.missing;
		if (query_phase(L, L->queries, L->qrate, L->qinflight,
		        &L->q_lat, &q_ans, &q_s) != 0)
			goto done;
		qcpu = L->pid > 0 ? cpu_of(L->pid) - cpu0 : -1;
		q_missing = L->st.missing - q_before;
		say(L,
		    "query: %zu sent, %" PRIu64 " answered in %.2f s (%.0f "
		    "queries/s), %" PRIu64 " missing, %" PRIu64 " wrong; "
		    "latency p50 %.0f us p90 %.0f us p99 %.0f us max %.0f "
		    "us; %" PRIu64 " punch notifications (%" PRIu64 " bad)",
		    L->queries, q_ans, q_s, q_s > 0 ? (double)q_ans / q_s : 0,
		    q_missing, L->st.replies_bad, pct_us(&L->q_lat, .5),
		    pct_us(&L->q_lat, .9), pct_us(&L->q_lat, .99),
		    pct_us(&L->q_lat, 1), L->st.punches, L->st.punches_bad);
		if (qcpu >= 0 && q_ans > 0)
			say(L,
			    "query: lighthouse CPU %.2f s (%.1f us per "
			    "query)",
			    qcpu, qcpu * 1e6 / (double)q_ans);
		if (L->probes > 0) {
			q_before = L->st.missing;
			if (query_phase(L, L->probes, L->probe_rate,
			        L->qinflight, &L->p_lat, &p_ans, &p_s) != 0)
				goto done;
			p_missing = L->st.missing - q_before;
			say(L,
			    "probe: %zu queries at %.0f/s: latency p50 %.0f us "
			    "p90 %.0f us p99 %.0f us max %.0f us, %" PRIu64
			    " missing",
			    L->probes, L->probe_rate, pct_us(&L->p_lat, .5),
			    pct_us(&L->p_lat, .9), pct_us(&L->p_lat, .99),
			    pct_us(&L->p_lat, 1), p_missing);
		}
		break;
	case M_EVIL:
		evil(L);
		if (L->fails > 0)
			rc = EXIT_FAIL;
		break;
	case M_FLOOD:
		flood(L, fl_upd, fl_rerr, &fu, &fr);
		if (L->fails > 0)
			rc = EXIT_FAIL;
		break;
	case M_REGISTER:
		break;
	}
	pause_ms(L, 100);
done:
	if (L->timed_out) {
		say(L, "lhload: wall-clock limit of %.0f s reached",
		    (double)L->timeout / SEC);
		rc = EXIT_TIMEOUT;
	}
	qsort(L->hs_lat.v, L->hs_lat.n, sizeof(uint64_t), cmp_u64);
	if (L->q_lat.n > 0 && L->mode != M_QUERY)
		qsort(L->q_lat.v, L->q_lat.n, sizeof(uint64_t), cmp_u64);
	say(L,
	    "handshake latency p50 %.0f us p99 %.0f us max %.0f us; "
	    "test requests answered %" PRIu64 ", closeTunnel %" PRIu64
	    ", recvError %" PRIu64 ", auth failures %" PRIu64
	    ", unexpected replies %" PRIu64,
	    pct_us(&L->hs_lat, .5), pct_us(&L->hs_lat, .99),
	    pct_us(&L->hs_lat, 1), L->st.test_req, L->st.closed,
	    L->st.rx_recv_error, L->st.rx_auth_fail, L->st.replies_unexpected);
	if (L->json) {
		jadd(&j, "{");
		jstr(&j, "mode", mode_name);
		jint(&j, "hosts", (long long)L->n);
		jint(&j, "sockets", (long long)L->nsock);
		jstr(&j, "cipher", f[F_CIPHER].s);
		jnum(&j, "mint_s", mint_s);
		jint(&j, "registered", (long long)L->nreg);
		jint(&j, "hs_failed", (long long)L->st.hs_failed);
		jint(&j, "hs_resent", (long long)L->st.hs_resent);
		jint(&j, "hs_dup_msg2", (long long)L->st.hs_dup_msg2);
		jint(&j, "hs_bad_msg2", (long long)L->st.hs_bad_msg2);
		jint(&j, "hs_bad_cert", (long long)L->st.hs_bad_cert);
		jnum(&j, "register_s", reg_s);
		if (L->rehandshake) {
			jint(&j, "rehandshaked", (long long)L->nredone);
			jnum(&j, "rehs_s", re_s);
			jnum(&j, "rehs_cpu_us",
			    L->nredone ? re_cpu * 1e6 / (double)L->nredone : -1);
		}
		jnum(&j, "hs_per_s", reg_s > 0 ? (double)L->nreg / reg_s : 0);
		jnum(&j, "hs_p50_us", pct_us(&L->hs_lat, .5));
		jnum(&j, "hs_p99_us", pct_us(&L->hs_lat, .99));
		jnum(&j, "hs_max_us", pct_us(&L->hs_lat, 1));
		jint(&j, "rss_before", rss0);
		jint(&j, "rss_after", rss1);
		v = L->nreg > 0 && rss0 >= 0 && rss1 >= 0
		        ? (double)(rss1 - rss0) / (double)L->nreg
		        : -1;
		jnum(&j, "bytes_per_host", v);
		jnum(&j, "lh_cpu_register_s", reg_cpu);
		jint(&j, "updates_sent", (long long)L->st.updates_sent);
		jint(&j, "queries_sent", (long long)L->st.queries_sent);
		jint(&j, "replies", (long long)L->st.replies);
		jint(&j, "missing", (long long)L->st.missing);
		jint(&j, "replies_bad", (long long)L->st.replies_bad);
		jint(&j, "replies_unexpected",
		    (long long)L->st.replies_unexpected);
		jint(&j, "punches", (long long)L->st.punches);
		jint(&j, "punches_bad", (long long)L->st.punches_bad);
		jnum(&j, "query_s", q_s);
		jint(&j, "answered", (long long)q_ans);
		jint(&j, "query_missing", (long long)q_missing);
		jnum(&j, "qps", q_s > 0 ? (double)q_ans / q_s : 0);
		jnum(&j, "lat_p50_us", pct_us(&L->q_lat, .5));
		jnum(&j, "lat_p90_us", pct_us(&L->q_lat, .9));
		jnum(&j, "lat_p99_us", pct_us(&L->q_lat, .99));
		jnum(&j, "lat_max_us", pct_us(&L->q_lat, 1));
		jnum(&j, "lh_cpu_query_s", qcpu);
		jint(&j, "probes", (long long)L->probes);
		jint(&j, "probe_missing", (long long)p_missing);
		jnum(&j, "probe_p50_us", pct_us(&L->p_lat, .5));
		jnum(&j, "probe_p90_us", pct_us(&L->p_lat, .9));
		jnum(&j, "probe_p99_us", pct_us(&L->p_lat, .99));
		jnum(&j, "probe_max_us", pct_us(&L->p_lat, 1));
		jint(&j, "test_requests", (long long)L->st.test_req);
		jint(&j, "close_tunnel", (long long)L->st.closed);
		jint(&j, "recv_errors", (long long)L->st.rx_recv_error);
		jint(&j, "auth_failures", (long long)L->st.rx_auth_fail);
		jint(&j, "rx_wrong_socket", (long long)L->st.rx_wrong_sock);
		jint(&j, "rx_foreign", (long long)L->st.rx_foreign);
		jint(&j, "lh_bad", (long long)L->st.lh_bad);
		jflood(&j, "flood", &fu);
		jflood(&j, "recverr", &fr);
		jint(&j, "checks_passed", L->passes);
		jint(&j, "checks_failed", L->fails);
		jadd(&j, ",\"timeout\":%s,\"exit\":%d}",
		    L->timed_out ? "true" : "false", rc);
		printf("%s\n", j.s);
		fflush(stdout);
	}
	return rc;
}
