/*
 * cert-tool/keyfile.c: the CA private key, plain (nebula-cert's format)
 * or encrypted at rest with a passphrase.
 *
 * Encrypted format, inside a PEM block "NEBULA ED25519 SCRYPT ENCRYPTED
 * PRIVATE KEY" (every field a byte or a byte string; cairn-cert(1)):
 *   0   4  magic "NCKE"
 *   4   1  version, 1
 *   5   1  log2 of scrypt N (10..22)
 *   6   1  scrypt r (1..32)
 *   7   1  scrypt p (1..16)
 *   8  16  salt
 *  24  12  AES-256-GCM nonce
 *  36  64  ciphertext of the 64-byte key (seed || public key)
 * 100  16  GCM tag
 * The GCM key is scrypt(passphrase, salt, N, r, p, 32 bytes) and bytes
 * 0..35 are the associated data, so no header byte can be altered.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "crypto.h"
#include "ct.h"
#include "err.h"
#include "pem.h"

#define KF_MAGIC "NCKE"
#define KF_HDR 36
#define KF_LEN (KF_HDR + 64 + 16)
#define KF_LOG2N 17 /* 128 MiB, about half a second */
#define KF_R 8
#define KF_P 1
#define PASS_MAX 1024
#define PASS_ENV "NEBULA_CA_PASSPHRASE"

/*
 * The scrypt N of a file's log2 N.  The fuzz build (CAIRN_FUZZING, set
 * only by the Makefile's build/fuzz rules) caps it at 2^KF_FUZZ_LOG2N, so
 * that each input costs microseconds instead of up to a second; its files
 * and a release build's do not open each other.  Release builds are
 * unchanged.
 */
#ifdef CAIRN_FUZZING
#define KF_FUZZ_LOG2N 2
#endif
static uint64_t
kf_n(unsigned log2n)
{
#ifdef CAIRN_FUZZING
	if (log2n > KF_FUZZ_LOG2N)
		log2n = KF_FUZZ_LOG2N;
#endif
	return 1ull << log2n;
}

/* scrypt's cost within what keyfile_open takes: at most 512 MiB. */
static bool
kf_cost_ok(unsigned log2n, unsigned r)
{
	return log2n >= 10 && log2n <= 22 && (1ull << log2n) * r <= (1ull << 22);
}

int
keyfile_seal(const uint8_t key[64], const char *pass, size_t passlen,
    unsigned log2n, uint8_t **out, size_t *outlen)
{
	uint8_t *b, k[32];
	int r;

	if (!kf_cost_ok(log2n, KF_R))
		return VPN_ERR_RANGE;
	if ((b = malloc(KF_LEN)) == NULL)
		return VPN_ERR_NOMEM;
	memcpy(b, KF_MAGIC, 4);
	b[4] = 1;
	b[5] = (uint8_t)log2n;
	b[6] = KF_R;
	b[7] = KF_P;
	if ((r = crypto_random(b + 8, 16 + 12)) != 0 ||
	    (r = crypto_scrypt(pass, passlen, b + 8, 16, kf_n(log2n), KF_R,
	         KF_P, k, sizeof(k))) != 0 ||
	    (r = crypto_gcm_seal(k, b + 24, b, KF_HDR, key, 64,
	         b + KF_HDR)) != 0) {
		crypto_cleanse(k, sizeof(k));
		free(b);
		return r;
	}
	crypto_cleanse(k, sizeof(k));
	*out = b;
	*outlen = KF_LEN;
	return 0;
}

int
keyfile_open(const uint8_t *in, size_t inlen, const char *pass,
    size_t passlen, uint8_t key[64])
{
	uint8_t k[32];
	int r;

	if (inlen != KF_LEN || memcmp(in, KF_MAGIC, 4) != 0 || in[4] != 1 ||
	    in[6] < 1 || in[6] > 32 || in[7] < 1 || in[7] > 16 ||
	    !kf_cost_ok(in[5], in[6]))
		return VPN_ERR_KEY_FORMAT;
	if ((r = crypto_scrypt(pass, passlen, in + 8, 16, kf_n(in[5]), in[6],
	         in[7], k, sizeof(k))) != 0)
		return r;
	r = crypto_gcm_open(k, in + 24, in, KF_HDR, in + KF_HDR, 64 + 16, key);
	crypto_cleanse(k, sizeof(k));
	return r == 0 ? 0 : VPN_ERR_KEY_PASSPHRASE;
}

/*
 * While echo is off, a signal that would end the process must not leave
 * the terminal that way: for the length of the prompt, SIGHUP, SIGINT,
 * SIGQUIT and SIGTERM, when their action is the default, restore the
 * terminal's settings and then end the process as they would have.  The
 * handler can only reach the terminal through these two.
 */
static const int tty_sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM};
#define TTY_NSIGS (sizeof(tty_sigs) / sizeof(tty_sigs[0]))
static volatile sig_atomic_t tty_fd = -1;
static struct termios tty_saved;

static void
tty_on_signal(int sig)
{
	int saved_errno = errno;
	sigset_t set;

	if (tty_fd != -1) {
		tcsetattr(tty_fd, TCSANOW, &tty_saved);
		if (write(tty_fd, "\n", 1) < 0) {
			/* the newline after the prompt is cosmetic */
		}
	}
	/* SA_RESETHAND put back the default action: die of sig now. */
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	errno = saved_errno;
}

/* The actions that tty_guard replaced. */
struct tty_old {
	struct sigaction sa[TTY_NSIGS];
	bool set[TTY_NSIGS];
};

static void
tty_guard(int fd, const struct termios *t, struct tty_old *old)
{
	struct sigaction sa;
	size_t i;

	tty_saved = *t;
	tty_fd = fd;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tty_on_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < TTY_NSIGS; i++)
		sigaddset(&sa.sa_mask, tty_sigs[i]);
	for (i = 0; i < TTY_NSIGS; i++) {
		/* Only the default action ends the process: a signal that
		 * is ignored or has a handler is left as it is. */
		old->set[i] = sigaction(tty_sigs[i], NULL, &old->sa[i]) == 0 &&
		    (old->sa[i].sa_flags & SA_SIGINFO) == 0 &&
		    old->sa[i].sa_handler == SIG_DFL &&
		    sigaction(tty_sigs[i], &sa, NULL) == 0;
	}
}

/* Put back the actions tty_guard replaced, once the terminal is restored. */
static void
tty_unguard(const struct tty_old *old)
{
	size_t i;

	for (i = 0; i < TTY_NSIGS; i++)
		if (old->set[i])
			sigaction(tty_sigs[i], &old->sa[i], NULL);
	tty_fd = -1;
}

/* Prompt on the controlling terminal with echo off.  0; -1 when there is
 * no terminal; -2 when the answer does not fit in buf.  The terminal's
 * settings are restored on every return, and by the signals that would
 * end the process during the prompt. */
static int
tty_read(const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	struct tty_old oldsa;
	size_t n = 0;
	ssize_t got = -1;
	char c;
	int fd, r = -1;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return -1;
	if (tcgetattr(fd, &old) == -1)
		goto out;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(fd, prompt, strlen(prompt)) < 0)
		goto out;
	tty_guard(fd, &old, &oldsa); /* before echo goes off */
	if (tcsetattr(fd, TCSAFLUSH, &quiet) == 0) {
		for (;;) {
			got = read(fd, &c, 1);
			if (got == -1 && errno == EINTR)
				continue;
			if (got <= 0 || c == '\n' || c == '\r')
				break;
			if (n + 1 < len)
				buf[n] = c;
			n++; /* count on, to refuse an over-long passphrase */
		}
	}
	/* Also after a failed tcsetattr: it may have changed some flags. */
	tcsetattr(fd, TCSAFLUSH, &old);
	tty_unguard(&oldsa);
	buf[n + 1 < len ? n : len - 1] = '\0';
	if (write(fd, "\n", 1) < 0) {
		/* the echo of a newline is cosmetic */
	}
	r = got < 0 ? -1 : n + 1 > len ? -2 : 0;
out:
	close(fd);
	return r;
}

/* The passphrase: $NEBULA_CA_PASSPHRASE, else asked on the terminal. */
static int
get_pass(bool confirm, char *buf, size_t len, char *errbuf, size_t errlen)
{
	const char *env = getenv(PASS_ENV);
	char again[PASS_MAX];
	int i, r;

	if (env != NULL) {
		if (*env == '\0' || strlen(env) >= len) {
			snprintf(errbuf, errlen, "%s must be 1 to %zu bytes",
			    PASS_ENV, len - 1);
			return -1;
		}
		strcpy(buf, env);
		return 0;
	}
	for (i = 0; i < 3; i++) {
		if ((r = tty_read("Enter passphrase: ", buf, len)) == -2) {
			fprintf(stderr, "passphrase longer than %zu bytes, "
			                "try again\n", len - 1);
			continue;
		} else if (r != 0) {
			snprintf(errbuf, errlen,
			    "no passphrase: no terminal to ask on; set %s",
			    PASS_ENV);
			return -1;
		}
		if (buf[0] == '\0')
			continue;
		if (!confirm)
			return 0;
		if (tty_read("Confirm passphrase: ", again, sizeof(again)) ==
		    -1)
			break;
		if (strcmp(buf, again) == 0) {
			crypto_cleanse(again, sizeof(again));
			return 0;
		}
		fprintf(stderr, "passphrases do not match, try again\n");
	}
	crypto_cleanse(again, sizeof(again));
	crypto_cleanse(buf, len);
	snprintf(errbuf, errlen, "no passphrase was entered");
	return -1;
}

int
ct_read_ca_key(const char *pem, size_t len, uint8_t key[64], char *errbuf,
    size_t errlen)
{
	struct pem_block b;
	char pass[PASS_MAX];
	size_t used;
	int r;

	r = pem_decode_type(pem, len, CT_ENC_BANNER, &b, &used);
	if (r == VPN_ERR_PEM_TYPE || r == VPN_ERR_PEM_NONE) {
		/* Not ours: nebula-cert's plain key, with its errors. */
		if ((r = pem_ed25519_private(pem, len, key, NULL)) != 0)
			snprintf(errbuf, errlen, "%s", vpn_strerror(r));
		return r;
	}
	if (r != 0) {
		snprintf(errbuf, errlen, "%s", vpn_strerror(r));
		return r;
	}
	if (get_pass(false, pass, sizeof(pass), errbuf, errlen) != 0) {
		pem_block_clear(&b);
		return VPN_ERR_KEY_PASSPHRASE;
	}
	r = keyfile_open(b.data, b.len, pass, strlen(pass), key);
	crypto_cleanse(pass, sizeof(pass));
	pem_block_clear(&b);
	if (r != 0)
		snprintf(errbuf, errlen, "%s", vpn_strerror(r));
	return r;
}

int
ct_encrypt_ca_key(const uint8_t key[64], char **pem, size_t *len,
    char *errbuf, size_t errlen)
{
	char pass[PASS_MAX];
	uint8_t *b;
	size_t blen;
	int r;

	if (get_pass(true, pass, sizeof(pass), errbuf, errlen) != 0)
		return VPN_ERR_KEY_PASSPHRASE;
	r = keyfile_seal(key, pass, strlen(pass), KF_LOG2N, &b, &blen);
	crypto_cleanse(pass, sizeof(pass));
	if (r != 0) {
		snprintf(errbuf, errlen, "%s", vpn_strerror(r));
		return r;
	}
	*pem = pem_encode(CT_ENC_BANNER, b, blen, len);
	free(b);
	if (*pem == NULL) {
		snprintf(errbuf, errlen, "%s", vpn_strerror(VPN_ERR_NOMEM));
		return VPN_ERR_NOMEM;
	}
	return 0;
}
