/*
 * node/remotes.c: a peer's candidate addresses (remotes.h).
 */
#include <stdlib.h>
#include <string.h>

#include "lhmsg.h"
#include "remotes.h"

struct rcache {
	/* addresses where another host answered for this peer ("Incorrect
	 * host responded"): never tried again for it; the oldest goes */
	struct udp_addr blocked[REMOTES_BLOCKED];
	size_t nblocked;
	struct {
		uint32_t lh; /* 0: unused slot */
		size_t n;
		struct udp_addr a[RC_MAX];
		size_t nrel;
		uint32_t rel[RELAYS_MAX]; /* the peer's relay.relays */
	} by[LH_MAX_HOSTS];
};

struct remotes {
	struct u32map cache; /* vpn ip -> struct rcache */
};

struct remotes *
remotes_new(void)
{
	struct remotes *r = calloc(1, sizeof(*r));

	if (r != NULL)
		u32map_init(&r->cache);
	return r;
}

void
remotes_free(struct remotes *r)
{
	size_t it = 0;
	uint32_t k;
	void *v;

	if (r == NULL)
		return;
	while (u32map_next(&r->cache, &it, &k, &v))
		free(v);
	u32map_free(&r->cache);
	free(r);
}

/*
 * wire.md 8.6: preferred ranges first; then IPv6 before IPv4; among IPv4,
 * public before private (RFC 1918); then by address bytes, then port.
 */
static int
addr_rank(const struct node_cfg *c, const struct udp_addr *a)
{
	uint32_t v;

	if (node_cfg_preferred(c, a))
		return 0;
	if (!udp_addr_is_v4(a))
		return 1;
	v = udp_addr_v4(a);
	if ((v >> 24) == 10 || (v >> 20) == 0xac1 || (v >> 16) == 0xc0a8)
		return 3;
	return 2;
}

static int
addr_cmp(const void *x, const void *y, void *cfg)
{
	const struct udp_addr *a = x, *b = y;
	int ra = addr_rank(cfg, a), rb = addr_rank(cfg, b), c;

	if (ra != rb)
		return ra - rb;
	if ((c = memcmp(a->ip, b->ip, 16)) != 0)
		return c;
	return (int)a->port - (int)b->port;
}

static size_t
addrs_unsorted(const struct remotes *r, const struct node_cfg *c,
    uint32_t vpn_ip, struct udp_addr *out, size_t max)
{
	const struct static_host *sh = node_cfg_static(c, vpn_ip);
	const struct rcache *rc = u32map_get(&r->cache, vpn_ip);
	const struct udp_addr *cand;
	size_t cnt = 0, i, j, k, total;

	total = (sh != NULL ? sh->naddrs : 0);
	for (i = 0; rc != NULL && i < LH_MAX_HOSTS; i++)
		total += rc->by[i].n;
	for (k = 0; k < total && cnt < max; k++) {
		if (sh != NULL && k < sh->naddrs) {
			cand = &sh->addrs[k];
		} else {
			size_t off = k - (sh != NULL ? sh->naddrs : 0);

			for (i = 0; off >= rc->by[i].n; i++)
				off -= rc->by[i].n;
			cand = &rc->by[i].a[off];
		}
		for (j = 0; j < cnt; j++)
			if (udp_addr_eq(&out[j], cand))
				break;
		for (i = 0; rc != NULL && i < rc->nblocked && j == cnt; i++)
			if (udp_addr_eq(&rc->blocked[i], cand))
				j = cnt + 1;
		if (j == cnt)
			out[cnt++] = *cand;
	}
	return cnt;
}

size_t
remotes_addrs(const struct remotes *r, const struct node_cfg *c,
    uint32_t vpn_ip, struct udp_addr *out, size_t max)
{
	struct udp_addr all[REMOTES_MAX]; /* all of them: the best max */
	size_t cnt = addrs_unsorted(r, c, vpn_ip, all, REMOTES_MAX);

	qsort_r(all, cnt, sizeof(*all), addr_cmp, (void *)c);
	if (cnt > max)
		cnt = max;
	memcpy(out, all, cnt * sizeof(*out));
	return cnt;
}

/* The cache entry for vpn_ip, made if need be; NULL: out of memory. */
static struct rcache *
entry(struct remotes *r, uint32_t vpn_ip)
{
	struct rcache *rc = u32map_get(&r->cache, vpn_ip);

	if (rc == NULL) {
		if ((rc = calloc(1, sizeof(*rc))) == NULL ||
		    u32map_put(&r->cache, vpn_ip, rc) != 0) {
			free(rc);
			return NULL;
		}
	}
	return rc;
}

void
remotes_store(struct remotes *r, const struct node_cfg *c, uint32_t lh,
    const struct lhmsg *m)
{
	struct rcache *rc;
	size_t i, slot = LH_MAX_HOSTS, cnt = 0;
	struct udp_addr a;

	if (m->vpn_ip == c->vpn_ip ||
	    (m->vpn_ip & c->vpn_mask) != (c->vpn_ip & c->vpn_mask) ||
	    (rc = entry(r, m->vpn_ip)) == NULL)
		return;
	for (i = 0; i < LH_MAX_HOSTS; i++)
		if (rc->by[i].lh == lh ||
		    (slot == LH_MAX_HOSTS && rc->by[i].lh == 0))
			slot = i;
	if (slot == LH_MAX_HOSTS)
		return;
	rc->by[slot].lh = lh;
	for (i = 0; i < m->n4 && i < LHREG_MAX_ADDRS; i++) {
		udp_addr_from_v4(&a, m->v4[i].ip, m->v4[i].port);
		if (allowlist_remote_allow(
		        c->remote_allow, c->remote_ranges, m->vpn_ip, a.ip))
			rc->by[slot].a[cnt++] = a;
	}
	for (i = 0; i < m->n6 && i < LHREG_MAX_ADDRS; i++) {
		memcpy(a.ip, m->v6[i].ip, 16);
		a.port = m->v6[i].port;
		if (allowlist_remote_allow(
		        c->remote_allow, c->remote_ranges, m->vpn_ip, a.ip))
			rc->by[slot].a[cnt++] = a;
	}
	rc->by[slot].n = cnt;
	for (i = cnt = 0; i < m->nrelays && cnt < RELAYS_MAX; i++)
		if (m->relays[i] != c->vpn_ip && m->relays[i] != m->vpn_ip &&
		    (m->relays[i] & c->vpn_mask) == (c->vpn_ip & c->vpn_mask))
			rc->by[slot].rel[cnt++] = m->relays[i];
	rc->by[slot].nrel = cnt;
}

size_t
remotes_relays(const struct remotes *r, uint32_t vpn_ip, uint32_t *out,
    size_t max)
{
	const struct rcache *rc = u32map_get(&r->cache, vpn_ip);
	size_t cnt = 0, i, j, k;

	for (i = 0; rc != NULL && i < LH_MAX_HOSTS; i++) {
		for (j = 0; j < rc->by[i].nrel && cnt < max; j++) {
			for (k = 0; k < cnt && out[k] != rc->by[i].rel[j]; k++)
				;
			if (k == cnt)
				out[cnt++] = rc->by[i].rel[j];
		}
	}
	return cnt;
}

void
remotes_block(struct remotes *r, uint32_t vpn_ip, const struct udp_addr *a)
{
	struct rcache *rc = entry(r, vpn_ip);

	if (rc == NULL)
		return;
	if (rc->nblocked == REMOTES_BLOCKED) {
		memmove(rc->blocked, rc->blocked + 1,
		    (REMOTES_BLOCKED - 1) * sizeof(rc->blocked[0]));
		rc->nblocked--;
	}
	rc->blocked[rc->nblocked++] = *a;
}

void
remotes_forget(struct remotes *r, uint32_t vpn_ip)
{
	free(u32map_del(&r->cache, vpn_ip));
}

bool
remotes_next(const struct remotes *r, size_t *it, uint32_t *vpn_ip)
{
	void *v;

	return u32map_next(&r->cache, it, vpn_ip, &v) != 0;
}

bool
remotes_answer(const struct remotes *r, uint32_t vpn_ip, size_t i,
    uint32_t *lh, struct udp_addr *addrs, size_t *naddrs, uint32_t *relays,
    size_t *nrelays)
{
	const struct rcache *rc = u32map_get(&r->cache, vpn_ip);

	if (rc == NULL || i >= LH_MAX_HOSTS || rc->by[i].lh == 0)
		return false;
	*lh = rc->by[i].lh;
	*naddrs = rc->by[i].n;
	memcpy(addrs, rc->by[i].a, rc->by[i].n * sizeof(addrs[0]));
	*nrelays = rc->by[i].nrel;
	memcpy(relays, rc->by[i].rel, rc->by[i].nrel * sizeof(relays[0]));
	return true;
}

size_t
remotes_count(const struct remotes *r)
{
	return r->cache.len;
}
