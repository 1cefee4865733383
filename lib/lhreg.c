/* lib/lhreg.c: the lighthouse registry (wire.md 8.2, 8.4). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "allowlist.h"
#include "err.h"
#include "lhreg.h"
#include "wire.h"

#define A4_LEN 6  /* ip, port: big-endian */
#define A6_LEN 18 /* ip, port */
#define REL_LEN 4
#define BLOB_MAX (A6_LEN + LHREG_MAX_ADDRS * (A4_LEN + A6_LEN + REL_LEN))

#define NO_BLOB UINT32_MAX
#define NO_SLOT UINT32_MAX
#define CLASS_SHIFT 28 /* handle: class << 28 | slot */
#define SLOT_MASK ((1u << CLASS_SHIFT) - 1)
#define PAGE_SLOTS 64 /* pool blocks per page */

#define F_L4 0x01 /* learned IPv4 address present */
#define F_L6 0x02 /* learned IPv6 address present (first in the blob) */

/* Pool block sizes; the last holds BLOB_MAX. */
static const uint16_t class_size[] = {
    8, 16, 24, 32, 48, 64, 96, 128, 176, 240, BLOB_MAX};
#define NCLASS (sizeof(class_size) / sizeof(class_size[0]))

struct pool_class {
	uint8_t **pages; /* PAGE_SLOTS blocks each */
	size_t npages, cap;
	uint32_t used; /* blocks handed out so far (high water) */
	uint32_t free; /* free list head; the next index is in the block */
};

struct lhent {
	int64_t seen; /* last update or learned address */
	uint32_t vpn_ip;
	uint32_t blob; /* pool handle or NO_BLOB */
	uint32_t l4_ip;
	uint16_t l4_port;
	uint8_t n4, n6, nrel; /* reported lists in the blob */
	uint8_t flags;
};

struct lhreg {
	struct lhent *ents; /* dense: [0, count) */
	size_t count, ecap, max;
	uint32_t *slots; /* hash: entry index + 1, 0 empty; linear probing */
	size_t scap;     /* a power of two, or 0 */
	struct pool_class pool[NCLASS];
	size_t pool_bytes;
	uint64_t refused;
};

/* An entry's lists, unpacked. */
struct view {
	bool has_l6;
	struct lh_addr6 l6;
	struct lh_addr4 v4[LHREG_MAX_ADDRS];
	struct lh_addr6 v6[LHREG_MAX_ADDRS];
	uint32_t rel[LHREG_MAX_ADDRS];
	size_t n4, n6, nrel;
};

/* --- pool ----------------------------------------------------------- */

static uint8_t *
pool_ptr(const struct lhreg *r, uint32_t h)
{
	const struct pool_class *c = &r->pool[h >> CLASS_SHIFT];
	uint32_t s = h & SLOT_MASK;

	return c->pages[s / PAGE_SLOTS] +
	       (size_t)(s % PAGE_SLOTS) * class_size[h >> CLASS_SHIFT];
}

static unsigned
pool_class_for(size_t len)
{
	unsigned i;

	for (i = 0; i + 1 < NCLASS && class_size[i] < len; i++)
		;
	return i;
}

static int
pool_alloc(struct lhreg *r, unsigned k, uint32_t *out)
{
	struct pool_class *c = &r->pool[k];
	uint8_t **np;
	size_t ncap;
	uint32_t s;

	if (c->free != NO_SLOT) {
		s = c->free;
		*out = (uint32_t)k << CLASS_SHIFT | s;
		memcpy(&c->free, pool_ptr(r, *out), sizeof(c->free));
		return 0;
	}
	if (c->used == SLOT_MASK)
		return VPN_ERR_NOMEM;
	if (c->used / PAGE_SLOTS == c->npages) {
		if (c->npages == c->cap) {
			ncap = c->cap == 0 ? 8 : c->cap * 2;
			if ((np = realloc(c->pages, ncap * sizeof(*np))) ==
			    NULL)
				return VPN_ERR_NOMEM;
			r->pool_bytes += (ncap - c->cap) * sizeof(*np);
			c->pages = np;
			c->cap = ncap;
		}
		c->pages[c->npages] =
		    malloc((size_t)PAGE_SLOTS * class_size[k]);
		if (c->pages[c->npages] == NULL)
			return VPN_ERR_NOMEM;
		c->npages++;
		r->pool_bytes += (size_t)PAGE_SLOTS * class_size[k];
	}
	*out = (uint32_t)k << CLASS_SHIFT | c->used++;
	return 0;
}

static void
pool_release(struct lhreg *r, uint32_t h)
{
	struct pool_class *c;

	if (h == NO_BLOB)
		return;
	c = &r->pool[h >> CLASS_SHIFT];
	memcpy(pool_ptr(r, h), &c->free, sizeof(c->free));
	c->free = h & SLOT_MASK;
}

/* --- entry lists ---------------------------------------------------- */

static void
put_a4(uint8_t *p, const struct lh_addr4 *a)
{
	be32_put(p, a->ip);
	p[4] = (uint8_t)(a->port >> 8);
	p[5] = (uint8_t)a->port;
}

static void
get_a4(const uint8_t *p, struct lh_addr4 *a)
{
	a->ip = be32_get(p);
	a->port = (uint16_t)(p[4] << 8 | p[5]);
}

static void
put_a6(uint8_t *p, const struct lh_addr6 *a)
{
	memcpy(p, a->ip, 16);
	p[16] = (uint8_t)(a->port >> 8);
	p[17] = (uint8_t)a->port;
}

static void
get_a6(const uint8_t *p, struct lh_addr6 *a)
{
	memcpy(a->ip, p, 16);
	a->port = (uint16_t)(p[16] << 8 | p[17]);
}

static void
ent_load(const struct lhreg *r, const struct lhent *e, struct view *v)
{
	const uint8_t *p;
	size_t i;

	v->has_l6 = (e->flags & F_L6) != 0;
	v->n4 = e->n4;
	v->n6 = e->n6;
	v->nrel = e->nrel;
	if (e->blob == NO_BLOB)
		return;
	p = pool_ptr(r, e->blob);
	if (v->has_l6) {
		get_a6(p, &v->l6);
		p += A6_LEN;
	}
	for (i = 0; i < v->n4; i++, p += A4_LEN)
		get_a4(p, &v->v4[i]);
	for (i = 0; i < v->n6; i++, p += A6_LEN)
		get_a6(p, &v->v6[i]);
	for (i = 0; i < v->nrel; i++, p += REL_LEN)
		v->rel[i] = be32_get(p);
}

/* Pack v into e's blob, reusing the block when the class fits. */
static int
ent_store(struct lhreg *r, struct lhent *e, const struct view *v)
{
	size_t len = (v->has_l6 ? A6_LEN : 0) + v->n4 * A4_LEN +
	             v->n6 * A6_LEN + v->nrel * REL_LEN;
	uint32_t h = NO_BLOB;
	unsigned k;
	uint8_t *p;
	size_t i;
	int rc;

	if (len > 0) {
		k = pool_class_for(len);
		if (e->blob != NO_BLOB && e->blob >> CLASS_SHIFT == k)
			h = e->blob;
		else if ((rc = pool_alloc(r, k, &h)) != 0)
			return rc;
		p = pool_ptr(r, h);
		if (v->has_l6) {
			put_a6(p, &v->l6);
			p += A6_LEN;
		}
		for (i = 0; i < v->n4; i++, p += A4_LEN)
			put_a4(p, &v->v4[i]);
		for (i = 0; i < v->n6; i++, p += A6_LEN)
			put_a6(p, &v->v6[i]);
		for (i = 0; i < v->nrel; i++, p += REL_LEN)
			be32_put(p, v->rel[i]);
	}
	if (e->blob != h)
		pool_release(r, e->blob);
	e->blob = h;
	e->flags = (uint8_t)((e->flags & ~F_L6) | (v->has_l6 ? F_L6 : 0));
	e->n4 = (uint8_t)v->n4;
	e->n6 = (uint8_t)v->n6;
	e->nrel = (uint8_t)v->nrel;
	return 0;
}

/* --- hash ----------------------------------------------------------- */

static size_t
hash32(uint32_t x, size_t cap)
{
	x ^= x >> 16; /* murmur3's finaliser */
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x & (cap - 1);
}

/* The slot holding vpn_ip, or the empty slot where it would go. */
static size_t
slot_find(const struct lhreg *r, uint32_t vpn_ip)
{
	size_t i = hash32(vpn_ip, r->scap);

	while (r->slots[i] != 0 && r->ents[r->slots[i] - 1].vpn_ip != vpn_ip)
		i = (i + 1) & (r->scap - 1);
	return i;
}

static struct lhent *
ent_get(const struct lhreg *r, uint32_t vpn_ip)
{
	size_t i;

	if (r->count == 0)
		return NULL;
	i = slot_find(r, vpn_ip);
	return r->slots[i] == 0 ? NULL : &r->ents[r->slots[i] - 1];
}

static int
slots_grow(struct lhreg *r, size_t ncap)
{
	uint32_t *ns, *old = r->slots;
	size_t i, ocap = r->scap, j;

	if ((ns = calloc(ncap, sizeof(*ns))) == NULL)
		return VPN_ERR_NOMEM;
	r->slots = ns;
	r->scap = ncap;
	for (i = 0; i < ocap; i++) {
		if (old[i] == 0)
			continue;
		j = slot_find(r, r->ents[old[i] - 1].vpn_ip);
		ns[j] = old[i];
	}
	free(old);
	return 0;
}

/* Find or make the entry; a new one starts empty. */
static int
ent_make(struct lhreg *r, uint32_t vpn_ip, struct lhent **out)
{
	struct lhent *ne;
	size_t ncap, s;
	int rc;

	if ((*out = ent_get(r, vpn_ip)) != NULL)
		return 0;
	if (r->count >= r->max) {
		r->refused++;
		return VPN_ERR_RANGE;
	}
	if (r->count == r->ecap) {
		ncap = r->ecap == 0 ? 16 : r->ecap * 2;
		if (ncap > r->max)
			ncap = r->max;
		if ((ne = realloc(r->ents, ncap * sizeof(*ne))) == NULL)
			return VPN_ERR_NOMEM;
		r->ents = ne;
		r->ecap = ncap;
	}
	if ((r->count + 1) * 2 > r->scap &&
	    (rc = slots_grow(r, r->scap == 0 ? 32 : r->scap * 2)) != 0)
		return rc;
	s = slot_find(r, vpn_ip);
	ne = &r->ents[r->count];
	memset(ne, 0, sizeof(*ne));
	ne->vpn_ip = vpn_ip;
	ne->blob = NO_BLOB;
	r->slots[s] = (uint32_t)++r->count;
	*out = ne;
	return 0;
}

/* Remove entry idx: backward-shift its slot out, move the last entry in. */
static void
ent_del(struct lhreg *r, size_t idx)
{
	size_t i, j, h, last = r->count - 1;

	pool_release(r, r->ents[idx].blob);
	i = slot_find(r, r->ents[idx].vpn_ip);
	r->slots[i] = 0;
	for (j = (i + 1) & (r->scap - 1); r->slots[j] != 0;
	     j = (j + 1) & (r->scap - 1)) {
		h = hash32(r->ents[r->slots[j] - 1].vpn_ip, r->scap);
		/* Move j back to i unless its home lies in (i, j]. */
		if ((j > i && (h <= i || h > j)) ||
		    (j < i && (h <= i && h > j))) {
			r->slots[i] = r->slots[j];
			r->slots[j] = 0;
			i = j;
		}
	}
	if (idx != last) {
		r->ents[idx] = r->ents[last];
		r->slots[slot_find(r, r->ents[idx].vpn_ip)] = (uint32_t)idx + 1;
	}
	r->count--;
}

/* --- API ------------------------------------------------------------ */

struct lhreg *
lhreg_new(size_t max_hosts)
{
	struct lhreg *r;
	size_t k;

	if (max_hosts == 0 || max_hosts > LHREG_HOSTS_LIMIT)
		return NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->max = max_hosts;
	for (k = 0; k < NCLASS; k++)
		r->pool[k].free = NO_SLOT;
	return r;
}

void
lhreg_free(struct lhreg *r)
{
	size_t k, i;

	if (r == NULL)
		return;
	for (k = 0; k < NCLASS; k++) {
		for (i = 0; i < r->pool[k].npages; i++)
			free(r->pool[k].pages[i]);
		free(r->pool[k].pages);
	}
	free(r->slots);
	free(r->ents);
	free(r);
}

int
lhreg_update(struct lhreg *r, uint32_t vpn_ip, const struct lhmsg *u,
    const struct allowlist *remote_allow, const struct allowranges *ranges,
    uint32_t own_net, uint32_t own_mask, int64_t now)
{
	struct lhent *e;
	struct view v;
	size_t i, n;
	int rc;

	/* Nebula: "Host sent invalid update" unless VpnIp is the sender. */
	if (!u->has_details || u->vpn_ip != vpn_ip)
		return VPN_ERR_INVAL;
	if ((rc = ent_make(r, vpn_ip, &e)) != 0)
		return rc;
	ent_load(r, e, &v); /* for the learned IPv6 address */
	n = u->n4 < LHREG_MAX_ADDRS ? u->n4 : LHREG_MAX_ADDRS;
	for (i = 0, v.n4 = 0; i < n; i++) {
		if (!allowlist_remote_allow4(
		        remote_allow, ranges, vpn_ip, u->v4[i].ip) ||
		    (u->v4[i].ip & own_mask) == (own_net & own_mask))
			continue;
		v.v4[v.n4++] = u->v4[i];
	}
	n = u->n6 < LHREG_MAX_ADDRS ? u->n6 : LHREG_MAX_ADDRS;
	for (i = 0, v.n6 = 0; i < n; i++) {
		/* Nebula does not check IPv6 against its own network. */
		if (!allowlist_remote_allow6(
		        remote_allow, ranges, vpn_ip, u->v6[i].ip))
			continue;
		v.v6[v.n6++] = u->v6[i];
	}
	v.nrel = u->nrelays < LHREG_MAX_ADDRS ? u->nrelays : LHREG_MAX_ADDRS;
	memcpy(v.rel, u->relays, v.nrel * sizeof(v.rel[0]));
	if ((rc = ent_store(r, e, &v)) != 0)
		return rc;
	e->seen = now;
	return 0;
}

int
lhreg_learned(struct lhreg *r, uint32_t vpn_ip, const uint8_t ip[16],
    uint16_t port, int64_t now)
{
	static const uint8_t mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	struct lhent *e;
	struct view v;
	int rc;

	if ((rc = ent_make(r, vpn_ip, &e)) != 0)
		return rc;
	if (memcmp(ip, mapped, sizeof(mapped)) == 0) {
		e->l4_ip = be32_get(ip + 12);
		e->l4_port = port;
		e->flags |= F_L4;
	} else {
		ent_load(r, e, &v);
		v.has_l6 = true;
		memcpy(v.l6.ip, ip, 16);
		v.l6.port = port;
		if ((rc = ent_store(r, e, &v)) != 0)
			return rc;
	}
	e->seen = now;
	return 0;
}

void
lhreg_forget(struct lhreg *r, uint32_t vpn_ip)
{
	struct lhent *e = ent_get(r, vpn_ip);

	if (e != NULL)
		ent_del(r, (size_t)(e - r->ents));
}

int
lhreg_reply(const struct lhreg *r, uint32_t vpn_ip, struct lhmsg *m)
{
	const struct lhent *e = ent_get(r, vpn_ip);
	struct view v;
	size_t i;

	memset(m, 0, sizeof(*m));
	if (e == NULL)
		return VPN_ERR_INVAL;
	m->type = LHMSG_HOST_QUERY_REPLY;
	m->has_details = true;
	m->vpn_ip = vpn_ip;
	ent_load(r, e, &v);
	/* Nebula's coalesceAnswers: learned, then reported, per family. */
	if (e->flags & F_L4) {
		m->v4[m->n4].ip = e->l4_ip;
		m->v4[m->n4++].port = e->l4_port;
	}
	for (i = 0; i < v.n4; i++)
		m->v4[m->n4++] = v.v4[i];
	if (v.has_l6)
		m->v6[m->n6++] = v.l6;
	for (i = 0; i < v.n6; i++)
		m->v6[m->n6++] = v.v6[i];
	for (i = 0; i < v.nrel; i++)
		m->relays[m->nrelays++] = v.rel[i];
	return 0;
}

size_t
lhreg_expire(struct lhreg *r, int64_t now, int64_t ttl)
{
	size_t i = 0, n = 0;

	while (i < r->count) {
		if (r->ents[i].seen < now - ttl) {
			ent_del(r, i); /* the last entry moves to i */
			n++;
		} else {
			i++;
		}
	}
	return n;
}

int
lhreg_host(const struct lhreg *r, uint32_t vpn_ip, struct lhreg_host *out)
{
	const struct lhent *e = ent_get(r, vpn_ip);
	struct view v;

	memset(out, 0, sizeof(*out));
	if (e == NULL)
		return VPN_ERR_INVAL;
	ent_load(r, e, &v);
	out->vpn_ip = vpn_ip;
	out->seen = e->seen;
	if (e->flags & F_L4) {
		out->has_l4 = true;
		out->l4.ip = e->l4_ip;
		out->l4.port = e->l4_port;
	}
	out->has_l6 = v.has_l6;
	out->l6 = v.l6;
	memcpy(out->v4, v.v4, v.n4 * sizeof(v.v4[0]));
	memcpy(out->v6, v.v6, v.n6 * sizeof(v.v6[0]));
	memcpy(out->relays, v.rel, v.nrel * sizeof(v.rel[0]));
	out->n4 = v.n4;
	out->n6 = v.n6;
	out->nrelays = v.nrel;
	return 0;
}

uint32_t
lhreg_host_at(const struct lhreg *r, size_t i)
{
	return i < r->count ? r->ents[i].vpn_ip : 0;
}

size_t
lhreg_count(const struct lhreg *r)
{
	return r->count;
}

size_t
lhreg_bytes(const struct lhreg *r)
{
	return sizeof(*r) + r->ecap * sizeof(*r->ents) +
	       r->scap * sizeof(*r->slots) + r->pool_bytes;
}

uint64_t
lhreg_refused(const struct lhreg *r)
{
	return r->refused;
}
