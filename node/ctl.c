/*
 * node/ctl.c: the control socket's server (ctl.h): the unix socket, its
 * connections, and requests in and answers out on the node's loop.  The
 * commands are in ctlcmd.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "ctl.h"
#include "err.h"
#include "log.h"
#include "nodeint.h"

struct conn {
	struct ctl *c;
	struct bufferevent *bev;
	struct conn *next, **prevp;
	bool closing; /* the last answer is going out, then close */
};

struct ctl {
	struct node *n;
	struct evconnlistener *lis;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool bound; /* path is ours to unlink */
	struct conn *conns;
	size_t nconns;
	uint64_t refused; /* connections over CTL_MAX_CLIENTS */
};

static void conn_free(struct conn *k);

/* The answer to one request goes out in full before the next is read:
 * an unread answer stops the reading (no growth behind a client that
 * does not read). */
static void
conn_answer(struct conn *k, enum ctl_status st, const struct sbuf *body)
{
	struct evbuffer *out = bufferevent_get_output(k->bev);
	struct sbuf head;
	size_t len = body != NULL ? body->len : 0;

	sbuf_init(&head);
	ctl_resp_head(&head, st, len);
	if (!sbuf_ok(&head) ||
	    evbuffer_add(out, head.s, head.len) != 0 ||
	    (len > 0 && evbuffer_add(out, body->s, len) != 0))
		k->closing = true; /* out of memory: drop the client */
	sbuf_free(&head);
}

static void
conn_fail(struct conn *k, const char *why)
{
	struct sbuf b;

	sbuf_init(&b);
	sbuf_printf(&b, "%s\n", why);
	conn_answer(k, CTL_BADREQ, &b);
	sbuf_free(&b);
	k->closing = true;
	bufferevent_disable(k->bev, EV_READ);
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct conn *k = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct ctl_req *req;
	struct sbuf body;
	enum ctl_status st;
	const char *why = "";
	size_t len;
	uint8_t *p;
	int r;

	if ((req = malloc(sizeof(*req))) == NULL) {
		conn_free(k);
		return;
	}
	while (!k->closing &&
	       evbuffer_get_length(bufferevent_get_output(bev)) == 0 &&
	       (len = evbuffer_get_length(in)) > 0) {
		if (len > CTL_MAX_REQ)
			len = CTL_MAX_REQ;
		if ((p = evbuffer_pullup(in, (ev_ssize_t)len)) == NULL) {
			k->closing = true;
			break;
		}
		if ((r = ctl_req_parse(p, len, req, &why)) == 0)
			break; /* more to come */
		if (r < 0) {
			conn_fail(k, why);
			break;
		}
		evbuffer_drain(in, (size_t)r);
		sbuf_init(&body);
		st = ctl_run(k->c->n, req->argc, req->argv, &body);
		if (!sbuf_ok(&body)) {
			sbuf_free(&body);
			sbuf_init(&body);
			sbuf_puts(&body, "out of memory\n");
			st = CTL_FAIL;
		} else if (body.len > CTL_MAX_BODY) {
			sbuf_free(&body);
			sbuf_init(&body);
			sbuf_printf(&body, "the answer is longer than %u bytes\n",
			    CTL_MAX_BODY);
			st = CTL_FAIL;
		}
		conn_answer(k, st, &body);
		sbuf_free(&body);
	}
	free(req);
	if (k->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(k);
}

/* An answer went out: read the next request (already buffered ones
 * too), or close. */
static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct conn *k = arg;

	if (k->closing) {
		conn_free(k);
		return;
	}
	if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
		conn_read(bev, k);
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what; /* EOF, an error or a timeout: done with it */
	conn_free(arg);
}

static void
conn_free(struct conn *k)
{
	if (k == NULL)
		return;
	*k->prevp = k->next;
	if (k->next != NULL)
		k->next->prevp = k->prevp;
	k->c->nconns--;
	bufferevent_free(k->bev); /* closes the socket */
	free(k);
}

/* Serve fd; idle: whether a client that sends nothing is dropped (the
 * socket's clients are; the sshd helper's sessions time out there). */
static int
conn_new(struct ctl *c, int fd, bool idle)
{
	struct timeval tv = {CTL_IDLE_S, 0};
	struct conn *k;

	if (c->nconns >= CTL_MAX_CLIENTS) {
		c->refused++;
		close(fd);
		return VPN_ERR_RANGE;
	}
	if (evutil_make_socket_nonblocking(fd) != 0 ||
	    (k = calloc(1, sizeof(*k))) == NULL) {
		close(fd);
		return VPN_ERR_NOMEM;
	}
	k->c = c;
	k->bev = bufferevent_socket_new(c->n->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (k->bev == NULL) {
		close(fd);
		free(k);
		return VPN_ERR_NOMEM;
	}
	bufferevent_setcb(k->bev, conn_read, conn_write, conn_event, k);
	bufferevent_set_timeouts(k->bev, idle ? &tv : NULL, &tv);
	/* a request is at most CTL_MAX_REQ bytes: no more is taken in
	 * while one is being answered */
	bufferevent_setwatermark(k->bev, EV_READ, 0, CTL_MAX_REQ);
	if (bufferevent_enable(k->bev, EV_READ | EV_WRITE) != 0) {
		bufferevent_free(k->bev);
		free(k);
		return VPN_ERR_NOMEM;
	}
	k->next = c->conns;
	if (k->next != NULL)
		k->next->prevp = &k->next;
	k->prevp = &c->conns;
	c->conns = k;
	c->nconns++;
	return 0;
}

int
ctl_adopt(struct node *n, int fd)
{
	if (n->ctl == NULL) {
		close(fd);
		return VPN_ERR_INVAL;
	}
	return conn_new(n->ctl, fd, false);
}

static void
on_accept(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	(void)lis;
	(void)sa;
	(void)salen;
	if (conn_new(arg, fd, true) == VPN_ERR_RANGE)
		log_warnx("control socket: more than %d clients at once, one "
		          "refused",
		    CTL_MAX_CLIENTS);
}

/* Is a node answering at path?  (Then it is not ours to replace.) */
static bool
in_use(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return live;
}

/* Bind and listen at c->path, replacing a stale socket; the mode and
 * group as configured. */
static int
ctl_listen(struct ctl *c, const struct node_cfg *cfg)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, c->path, strlen(c->path) + 1);
	if (cfg->ctl_path_default && mkdir(CTL_DIR, 0755) != 0 &&
	    errno != EEXIST) {
		log_warn("control socket not started: mkdir %s", CTL_DIR);
		return -1;
	}
	if (lstat(c->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("control socket not started: %s exists and "
			          "is not a socket (control.listen)",
			    c->path);
			return -1;
		}
		if (in_use(&sun)) {
			log_warnx("control socket not started: %s is served "
			          "by another running node (set control.listen)",
			    c->path);
			return -1;
		}
		(void)unlink(c->path); /* stale: its node is gone */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("control socket not started: socket");
		return -1;
	}
	old = umask(0177); /* born 0600: no window with a wider mode */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		umask(old);
		log_warn("control socket not started: bind %s", c->path);
		close(fd);
		return -1;
	}
	umask(old);
	c->bound = true;
	if (*cfg->ctl_group != '\0' &&
	    (chown(c->path, (uid_t)-1, (gid_t)cfg->ctl_gid) != 0 ||
	        chmod(c->path, 0660) != 0))
		log_warn("control socket %s: group %s", c->path, cfg->ctl_group);
	c->lis = evconnlistener_new(c->n->base, on_accept, c,
	    LEV_OPT_CLOSE_ON_FREE, 8, fd);
	if (c->lis == NULL) {
		log_warnx("control socket not started: out of memory");
		close(fd);
		return -1;
	}
	return 0;
}

int
ctl_start(struct node *n, struct ctl **out)
{
	const struct node_cfg *cfg = n->cfg;
	struct log_ev ev;
	struct ctl *c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return VPN_ERR_NOMEM;
	c->n = n;
	snprintf(c->path, sizeof(c->path), "%s", cfg->ctl_path);
	/* A node without its socket still runs: the socket is for people,
	 * and its absence is logged. */
	if (cfg->ctl_enabled && ctl_listen(c, cfg) == 0 &&
	    log_ev_begin(&ev, LOG_LVL_INFO, "Control socket listening")) {
		log_ev_str(&ev, "path", c->path);
		log_ev_end(&ev);
	}
	*out = c;
	return 0;
}

void
ctl_free(struct ctl *c)
{
	if (c == NULL)
		return;
	while (c->conns != NULL)
		conn_free(c->conns);
	if (c->lis != NULL)
		evconnlistener_free(c->lis);
	if (c->bound)
		(void)unlink(c->path);
	ctl_cleanup();
	free(c);
}
