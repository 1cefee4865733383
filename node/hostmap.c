/*
 * node/hostmap.c: the host map (hostmap.h).
 */
#include <stdlib.h>

#include "crypto.h"
#include "err.h"
#include "hostmap.h"
#include "tunnel.h"
#include "u32map.h"
#include "wire.h"

struct hostmap {
	struct u32map by_index, by_ip, by_remote; /* tunnels */
	struct u32map pend_by_index, pend_by_ip;
	size_t held; /* bytes queued behind pending handshakes */
};

struct hostmap *
hostmap_new(void)
{
	struct hostmap *hm = calloc(1, sizeof(*hm));

	if (hm == NULL)
		return NULL;
	u32map_init(&hm->by_index);
	u32map_init(&hm->by_ip);
	u32map_init(&hm->by_remote);
	u32map_init(&hm->pend_by_index);
	u32map_init(&hm->pend_by_ip);
	return hm;
}

void
hostmap_free(struct hostmap *hm)
{
	if (hm == NULL)
		return;
	u32map_free(&hm->by_index);
	u32map_free(&hm->by_ip);
	u32map_free(&hm->by_remote);
	u32map_free(&hm->pend_by_index);
	u32map_free(&hm->pend_by_ip);
	free(hm);
}

int
hostmap_new_index(const struct hostmap *hm, uint32_t *out)
{
	uint8_t b[4];
	uint32_t v;
	int i;

	for (i = 0; i < 32; i++) {
		if (crypto_random(b, 4) != 0)
			return VPN_ERR_CRYPTO;
		v = be32_get(b);
		if (v != 0 && u32map_get(&hm->by_index, v) == NULL &&
		    u32map_get(&hm->pend_by_index, v) == NULL) {
			*out = v;
			return 0;
		}
	}
	return VPN_ERR_RANGE;
}

struct tunnel *
hostmap_by_index(const struct hostmap *hm, uint32_t index)
{
	return u32map_get(&hm->by_index, index);
}

struct tunnel *
hostmap_by_ip(const struct hostmap *hm, uint32_t vpn_ip)
{
	return u32map_get(&hm->by_ip, vpn_ip);
}

struct tunnel *
hostmap_by_remote(const struct hostmap *hm, uint32_t index)
{
	return u32map_get(&hm->by_remote, index);
}

size_t
hostmap_tunnels(const struct hostmap *hm)
{
	return hm->by_ip.len;
}

bool
hostmap_next(const struct hostmap *hm, size_t *it, struct tunnel **t)
{
	uint32_t k;
	void *v;

	if (!u32map_next(&hm->by_index, it, &k, &v))
		return false;
	*t = v;
	return true;
}

/* Out of the peer-index map, if it is t's entry there. */
static void
unremote(struct hostmap *hm, struct tunnel *t)
{
	if (u32map_get(&hm->by_remote, t->remote_index) == t)
		u32map_del(&hm->by_remote, t->remote_index);
}

int
hostmap_install(struct hostmap *hm, struct tunnel *t, struct tunnel **old)
{
	struct tunnel *o = u32map_get(&hm->by_ip, t->vpn_ip);

	*old = NULL;
	if (u32map_put(&hm->by_index, t->local_index, t) != 0)
		return VPN_ERR_NOMEM;
	if (u32map_put(&hm->by_ip, t->vpn_ip, t) != 0) {
		u32map_del(&hm->by_index, t->local_index);
		return VPN_ERR_NOMEM;
	}
	if (o != NULL && o != t) {
		u32map_del(&hm->by_index, o->local_index);
		unremote(hm, o);
		*old = o;
	}
	/* Best effort: without it, only a recvError for t goes unheard. */
	(void)u32map_put(&hm->by_remote, t->remote_index, t);
	return 0;
}

void
hostmap_remove(struct hostmap *hm, struct tunnel *t)
{
	unremote(hm, t);
	if (u32map_get(&hm->by_index, t->local_index) == t)
		u32map_del(&hm->by_index, t->local_index);
	if (u32map_get(&hm->by_ip, t->vpn_ip) == t)
		u32map_del(&hm->by_ip, t->vpn_ip);
}

struct pending *
hostmap_pending_by_ip(const struct hostmap *hm, uint32_t vpn_ip)
{
	return u32map_get(&hm->pend_by_ip, vpn_ip);
}

struct pending *
hostmap_pending_by_index(const struct hostmap *hm, uint32_t index)
{
	return u32map_get(&hm->pend_by_index, index);
}

size_t
hostmap_pending(const struct hostmap *hm)
{
	return hm->pend_by_ip.len;
}

bool
hostmap_pending_next(const struct hostmap *hm, size_t *it, struct pending **p)
{
	uint32_t k;
	void *v;

	if (!u32map_next(&hm->pend_by_ip, it, &k, &v))
		return false;
	*p = v;
	return true;
}

int
hostmap_pending_add(
    struct hostmap *hm, struct pending *p, uint32_t index, uint32_t vpn_ip)
{
	if (u32map_put(&hm->pend_by_index, index, p) != 0)
		return VPN_ERR_NOMEM;
	if (u32map_put(&hm->pend_by_ip, vpn_ip, p) != 0) {
		u32map_del(&hm->pend_by_index, index);
		return VPN_ERR_NOMEM;
	}
	return 0;
}

void
hostmap_pending_unindex(struct hostmap *hm, uint32_t index)
{
	u32map_del(&hm->pend_by_index, index);
}

void
hostmap_pending_remove(
    struct hostmap *hm, struct pending *p, uint32_t index, uint32_t vpn_ip)
{
	if (u32map_get(&hm->pend_by_index, index) == p)
		u32map_del(&hm->pend_by_index, index);
	if (u32map_get(&hm->pend_by_ip, vpn_ip) == p)
		u32map_del(&hm->pend_by_ip, vpn_ip);
}

bool
hostmap_reserve(struct hostmap *hm, size_t len, size_t max)
{
	if (len > max || hm->held > max - len)
		return false;
	hm->held += len;
	return true;
}

void
hostmap_release(struct hostmap *hm, size_t len)
{
	hm->held -= len;
}

size_t
hostmap_held_bytes(const struct hostmap *hm)
{
	return hm->held;
}
