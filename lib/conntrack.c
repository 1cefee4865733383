/*
 * lib/conntrack.c: the connection table: a chained hash over an entry
 * pool addressed by index (so the pool can grow by realloc), a timer
 * wheel of doubly linked slot lists through the same entries, and one
 * doubly linked list per owner (tunnel) through them too.
 */
#include <stdlib.h>
#include <string.h>

#include "conntrack.h"
#include "crypto.h"
#include "err.h"

#define NIL UINT32_MAX
#define FREE UINT16_MAX /* wslot of an unused entry */
#define WHEEL_MASK (CONNTRACK_WHEEL_SLOTS - 1)
_Static_assert(CONNTRACK_WHEEL_SLOTS < UINT16_MAX &&
                   (CONNTRACK_WHEEL_SLOTS & WHEEL_MASK) == 0,
    "wheel slots: a power of two that fits wslot");
#define POOL_MIN 1024u
#define MAX_LIMIT (UINT32_C(1) << 31)

struct ct_entry {
	uint64_t ka, kb; /* the packed tuple */
	int64_t expires; /* ns; expired when now >= expires */
	uint64_t version;
	struct ct_owner *owner; /* part of the key; NULL: no owner */
	uint32_t hnext;		/* hash chain, or free list */
	uint32_t wnext, wprev;
	uint32_t onext, oprev; /* the owner's list */
	uint16_t wslot;	       /* FREE: not in use */
	bool incoming;
};
_Static_assert(sizeof(struct ct_entry) <= 64, "conntrack entry size");

struct conntrack {
	struct ct_entry *e;
	uint32_t cap, count, max;
	uint32_t owner_max; /* entries per owner */
	uint32_t free_head;
	uint32_t *buckets;
	uint32_t nbuckets; /* a power of two, >= cap */
	uint32_t wheel[CONNTRACK_WHEEL_SLOTS];
	int64_t cursor; /* the next tick to process */
	int64_t due;    /* (cursor + 1) * tick: expire has work from then */
	bool started;
	uint64_t seed[2];
	struct conntrack_stats st;
};

static inline void
pack(const struct fw_packet *p, uint64_t *ka, uint64_t *kb)
{
	*ka = (uint64_t)p->local_ip << 32 | p->remote_ip;
	*kb = (uint64_t)p->local_port << 32 | (uint64_t)p->remote_port << 16 |
	      (uint64_t)p->proto << 8 | (p->fragment ? 1u : 0u);
}

/* Seeded so that colliding tuples cannot be computed in advance. */
static inline uint32_t
hash(const struct conntrack *ct, uint64_t ka, uint64_t kb)
{
	uint64_t h = (ka ^ ct->seed[0]) * UINT64_C(0x9e3779b97f4a7c15);

	h = (h ^ (h >> 31) ^ kb ^ ct->seed[1]) * UINT64_C(0xff51afd7ed558ccd);
	return (uint32_t)(h >> 32);
}

static inline int64_t
tick_of(int64_t ns)
{
	return ns < 0 ? 0 : ns / CONNTRACK_TICK_NS;
}

static inline int64_t
add_sat(int64_t a, int64_t b)
{
	return b > 0 && a > INT64_MAX - b ? INT64_MAX : a + b;
}

static void
set_cursor(struct conntrack *ct, int64_t tick)
{
	ct->cursor = tick;
	ct->due = tick >= INT64_MAX / CONNTRACK_TICK_NS - 1
	              ? INT64_MAX
	              : (tick + 1) * CONNTRACK_TICK_NS;
}

static void
start(struct conntrack *ct, int64_t now)
{
	if (!ct->started) {
		set_cursor(ct, tick_of(now));
		ct->started = true;
	}
}

static void
wheel_unlink(struct conntrack *ct, uint32_t i)
{
	struct ct_entry *e = &ct->e[i];

	if (e->wprev != NIL)
		ct->e[e->wprev].wnext = e->wnext;
	else
		ct->wheel[e->wslot] = e->wnext;
	if (e->wnext != NIL)
		ct->e[e->wnext].wprev = e->wprev;
	e->wnext = e->wprev = NIL;
}

/* Put entry i in the slot of its expiry, no earlier than tick `from`. */
static void
wheel_insert(struct conntrack *ct, uint32_t i, int64_t from)
{
	struct ct_entry *e = &ct->e[i];
	int64_t t = tick_of(e->expires);
	uint32_t s;

	if (t < from)
		t = from;
	if (t > ct->cursor + CONNTRACK_WHEEL_SLOTS - 1)
		t = ct->cursor + CONNTRACK_WHEEL_SLOTS - 1;
	s = (uint32_t)(t & WHEEL_MASK);
	e->wslot = (uint16_t)s;
	e->wprev = NIL;
	e->wnext = ct->wheel[s];
	if (e->wnext != NIL)
		ct->e[e->wnext].wprev = i;
	ct->wheel[s] = i;
}

/* Index of the entry for (ka, kb) of owner o, or NIL; *prev its chain
 * predecessor.  The hash is of the tuple alone: an owner's entries can
 * move to another owner without a rehash. */
static inline uint32_t
find(const struct conntrack *ct, uint64_t ka, uint64_t kb,
    const struct ct_owner *o, uint32_t *prev)
{
	uint32_t i, pv = NIL;

	for (i = ct->buckets[hash(ct, ka, kb) & (ct->nbuckets - 1)]; i != NIL;
	     i = ct->e[i].hnext) {
		if (ct->e[i].ka == ka && ct->e[i].kb == kb &&
		    ct->e[i].owner == o)
			break;
		pv = i;
	}
	if (prev != NULL)
		*prev = pv;
	return i;
}

static void
owner_link(struct conntrack *ct, uint32_t i, struct ct_owner *o)
{
	struct ct_entry *e = &ct->e[i];

	e->owner = o;
	e->oprev = NIL;
	e->onext = NIL;
	if (o == NULL)
		return;
	e->onext = o->head;
	if (o->head != NIL)
		ct->e[o->head].oprev = i;
	o->head = i;
	o->count++;
}

static void
owner_unlink(struct conntrack *ct, uint32_t i)
{
	struct ct_entry *e = &ct->e[i];
	struct ct_owner *o = e->owner;

	if (o == NULL)
		return;
	if (e->oprev != NIL)
		ct->e[e->oprev].onext = e->onext;
	else
		o->head = e->onext;
	if (e->onext != NIL)
		ct->e[e->onext].oprev = e->oprev;
	o->count--;
	e->owner = NULL;
	e->onext = e->oprev = NIL;
}

static void
remove_at(struct conntrack *ct, uint32_t i, uint32_t prev)
{
	struct ct_entry *e = &ct->e[i];

	owner_unlink(ct, i);

	if (prev != NIL)
		ct->e[prev].hnext = e->hnext;
	else
		ct->buckets[hash(ct, e->ka, e->kb) & (ct->nbuckets - 1)] =
		    e->hnext;
	wheel_unlink(ct, i);
	e->wslot = FREE;
	e->hnext = ct->free_head;
	ct->free_head = i;
	ct->count--;
}

static void
remove_entry(struct conntrack *ct, uint32_t i)
{
	uint32_t prev;

	(void)find(ct, ct->e[i].ka, ct->e[i].kb, ct->e[i].owner, &prev);
	remove_at(ct, i, prev);
}

/* Rebuild the chains over nb buckets (nb a power of two). */
static int
rehash(struct conntrack *ct, uint32_t nb)
{
	uint32_t *b, i, h;

	if ((b = malloc((size_t)nb * sizeof(*b))) == NULL)
		return VPN_ERR_NOMEM;
	memset(b, 0xff, (size_t)nb * sizeof(*b));
	for (i = 0; i < ct->cap; i++) {
		if (ct->e[i].wslot == FREE)
			continue;
		h = hash(ct, ct->e[i].ka, ct->e[i].kb) & (nb - 1);
		ct->e[i].hnext = b[h];
		b[h] = i;
	}
	free(ct->buckets);
	ct->buckets = b;
	ct->nbuckets = nb;
	return 0;
}

/* Grow the pool (and buckets) to ncap entries; new ones go free. */
static int
grow(struct conntrack *ct, uint32_t ncap)
{
	struct ct_entry *ne;
	uint32_t i, nb;

	if ((ne = realloc(ct->e, (size_t)ncap * sizeof(*ne))) == NULL)
		return VPN_ERR_NOMEM;
	ct->e = ne;
	for (i = ncap; i > ct->cap; i--) {
		ne[i - 1].wslot = FREE;
		ne[i - 1].wnext = ne[i - 1].wprev = NIL;
		ne[i - 1].owner = NULL;
		ne[i - 1].hnext = ct->free_head;
		ct->free_head = i - 1;
	}
	ct->cap = ncap;
	for (nb = ct->nbuckets == 0 ? 1 : ct->nbuckets; nb < ncap; nb *= 2)
		;
	if (nb != ct->nbuckets && rehash(ct, nb) != 0 && ct->buckets == NULL)
		return VPN_ERR_NOMEM;
	/* a failed rehash keeps the old, smaller bucket array: still valid */
	return 0;
}

int
conntrack_new(size_t max, struct conntrack **out)
{
	struct conntrack *ct;
	uint32_t i;
	int e;

	*out = NULL;
	if (max == 0)
		max = CONNTRACK_DEFAULT_MAX;
	if (max > MAX_LIMIT)
		return VPN_ERR_RANGE;
	if ((ct = calloc(1, sizeof(*ct))) == NULL)
		return VPN_ERR_NOMEM;
	ct->max = (uint32_t)max;
	ct->owner_max = (uint32_t)max;
	ct->free_head = NIL;
	for (i = 0; i < CONNTRACK_WHEEL_SLOTS; i++)
		ct->wheel[i] = NIL;
	if ((e = crypto_random(ct->seed, sizeof(ct->seed))) != 0 ||
	    (e = grow(ct, ct->max < POOL_MIN ? ct->max : POOL_MIN)) != 0) {
		conntrack_free(ct);
		return e;
	}
	*out = ct;
	return 0;
}

void
conntrack_free(struct conntrack *ct)
{
	if (ct == NULL)
		return;
	free(ct->e);
	free(ct->buckets);
	free(ct);
}

size_t
conntrack_expire(struct conntrack *ct, int64_t now, size_t budget)
{
	int64_t now_tick = tick_of(now);
	size_t freed = 0, empty = 0;
	uint32_t slot, i;

	start(ct, now);
	if (now < ct->due)
		return 0; /* the current tick is not over: nothing is due */
	if (ct->count == 0) {
		if (ct->cursor < now_tick)
			set_cursor(ct, now_tick);
		return 0;
	}
	/*
	 * Tick t is done once now has passed its end.  Entries cost budget;
	 * empty slots do not (the cursor passes each tick once, so over
	 * time that is one step per elapsed second), but one call passes
	 * at most a wheel's worth of them.
	 */
	while (ct->cursor < now_tick && budget > 0 &&
	       empty < CONNTRACK_WHEEL_SLOTS) {
		slot = (uint32_t)(ct->cursor & WHEEL_MASK);
		if (ct->wheel[slot] == NIL)
			empty++;
		while ((i = ct->wheel[slot]) != NIL && budget > 0) {
			budget--;
			if (ct->e[i].expires <= now) {
				remove_entry(ct, i);
				ct->st.expired++;
				freed++;
			} else {
				wheel_unlink(ct, i);
				wheel_insert(ct, i, ct->cursor + 1);
			}
		}
		if (ct->wheel[slot] != NIL)
			break;
		set_cursor(ct, ct->count == 0 && ct->cursor + 1 < now_tick
		                   ? now_tick
		                   : ct->cursor + 1);
	}
	return freed;
}

/* The live entry for p at now, or NIL (an expired one is removed). */
static inline uint32_t
live(struct conntrack *ct, const struct fw_packet *p,
    const struct ct_owner *o, int64_t now)
{
	uint64_t ka, kb;
	uint32_t i, prev;

	if (ct->count == 0)
		return NIL;
	pack(p, &ka, &kb);
	if ((i = find(ct, ka, kb, o, &prev)) == NIL)
		return NIL;
	if (ct->e[i].expires <= now) {
		remove_at(ct, i, prev);
		ct->st.expired++;
		return NIL;
	}
	return i;
}

bool
conntrack_lookup(struct conntrack *ct, const struct fw_packet *p,
    const struct ct_owner *owner, int64_t now, uint64_t version,
    int64_t timeout, bool *stale, bool *entry_incoming)
{
	struct ct_entry *e;
	uint32_t i;

	*stale = false;
	if ((i = live(ct, p, owner, now)) == NIL)
		return false;
	e = &ct->e[i];
	if (entry_incoming != NULL)
		*entry_incoming = e->incoming;
	if (e->version != version) {
		*stale = true;
		return true;
	}
	e->expires = add_sat(now, timeout);
	return true;
}

int
conntrack_add(struct conntrack *ct, const struct fw_packet *p,
    struct ct_owner *owner, bool incoming, int64_t now, uint64_t version,
    int64_t timeout)
{
	uint64_t ka, kb;
	uint32_t i, h, ncap;
	struct ct_entry *e;

	start(ct, now);
	pack(p, &ka, &kb);
	if ((i = find(ct, ka, kb, owner, NULL)) == NIL) {
		if (ct->count >= ct->max ||
		    (owner != NULL && owner->count >= ct->owner_max)) {
			(void)conntrack_expire(ct, now, 64);
			if (ct->count >= ct->max) {
				ct->st.full++;
				return VPN_ERR_RANGE;
			}
			if (owner != NULL && owner->count >= ct->owner_max) {
				ct->st.owner_full++;
				return VPN_ERR_RANGE;
			}
		}
		if (ct->free_head == NIL) {
			ncap = ct->cap > ct->max / 2 ? ct->max : ct->cap * 2;
			if (grow(ct, ncap) != 0) {
				ct->st.nomem++;
				return VPN_ERR_NOMEM;
			}
			ct->st.grown++;
		}
		i = ct->free_head;
		e = &ct->e[i];
		ct->free_head = e->hnext;
		e->ka = ka;
		e->kb = kb;
		h = hash(ct, ka, kb) & (ct->nbuckets - 1);
		e->hnext = ct->buckets[h];
		ct->buckets[h] = i;
		owner_link(ct, i, owner);
		ct->count++;
		ct->st.added++;
		e->expires = add_sat(now, timeout);
		wheel_insert(ct, i, ct->cursor);
	} else {
		e = &ct->e[i];
		e->expires = add_sat(now, timeout);
	}
	e->incoming = incoming;
	e->version = version;
	return 0;
}

int
conntrack_restamp(struct conntrack *ct, const struct fw_packet *p,
    const struct ct_owner *owner, int64_t now, uint64_t version,
    int64_t timeout)
{
	uint32_t i;

	if ((i = live(ct, p, owner, now)) == NIL)
		return VPN_ERR_INVAL;
	ct->e[i].version = version;
	ct->e[i].expires = add_sat(now, timeout);
	ct->st.restamped++;
	return 0;
}

bool
conntrack_del(struct conntrack *ct, const struct fw_packet *p,
    const struct ct_owner *owner, int64_t now)
{
	uint32_t i;

	if ((i = live(ct, p, owner, now)) == NIL)
		return false;
	remove_entry(ct, i);
	ct->st.deleted++;
	return true;
}

void
conntrack_owner_init(struct ct_owner *o)
{
	o->head = NIL;
	o->count = 0;
}

void
conntrack_owner_release(struct conntrack *ct, struct ct_owner *o)
{
	uint32_t i;

	while ((i = o->head) != NIL) {
		remove_entry(ct, i);
		ct->st.released++;
	}
}

void
conntrack_owner_move(
    struct conntrack *ct, struct ct_owner *from, struct ct_owner *to)
{
	uint32_t i;

	if (from == to)
		return;
	while ((i = from->head) != NIL) {
		/* Two owners may track the same tuple (overlapping subnets):
		 * `to` keeps its own entry then. */
		if (find(ct, ct->e[i].ka, ct->e[i].kb, to, NULL) != NIL) {
			remove_entry(ct, i);
			ct->st.released++;
			continue;
		}
		owner_unlink(ct, i);
		owner_link(ct, i, to);
	}
}

void
conntrack_set_owner_max(struct conntrack *ct, size_t max)
{
	ct->owner_max = max == 0 || max > ct->max ? ct->max : (uint32_t)max;
}

size_t
conntrack_owner_max(const struct conntrack *ct)
{
	return ct->owner_max;
}

void
conntrack_flush(struct conntrack *ct)
{
	uint32_t i;

	for (i = 0; i < ct->cap; i++) /* every owner's list goes too */
		if (ct->e[i].wslot != FREE && ct->e[i].owner != NULL)
			conntrack_owner_init(ct->e[i].owner);
	ct->st.flushed += ct->count;
	ct->free_head = NIL;
	for (i = ct->cap; i > 0; i--) {
		ct->e[i - 1].wslot = FREE;
		ct->e[i - 1].wnext = ct->e[i - 1].wprev = NIL;
		ct->e[i - 1].owner = NULL;
		ct->e[i - 1].hnext = ct->free_head;
		ct->free_head = i - 1;
	}
	memset(ct->buckets, 0xff, (size_t)ct->nbuckets * sizeof(*ct->buckets));
	for (i = 0; i < CONNTRACK_WHEEL_SLOTS; i++)
		ct->wheel[i] = NIL;
	ct->count = 0;
}

size_t
conntrack_count(const struct conntrack *ct)
{
	return ct->count;
}

size_t
conntrack_max(const struct conntrack *ct)
{
	return ct->max;
}

const struct conntrack_stats *
conntrack_stats(const struct conntrack *ct)
{
	return &ct->st;
}

/* --- the decision ----------------------------------------------------- */

static enum fw_verdict
refuse(const struct fw *fw, bool incoming)
{
	return fw_action(fw, incoming) == FW_ACTION_REJECT ? FW_REJECT
	                                                   : FW_DROP;
}

enum fw_verdict
fw_decide_why(const struct fw *fw, struct conntrack *ct, bool incoming,
    const struct fw_packet *p, const struct fw_peer *peer,
    struct ct_owner *owner, int64_t now, enum fw_why *why)
{
	enum fw_why w;
	enum fw_verdict v;
	int64_t timeout = fw_timeout(fw, p->proto);
	uint64_t version = fw_version(fw);
	struct ct_entry *e;
	uint32_t i;

	/* The addresses first, for every packet: a tracked flow never lets
	 * a peer speak for an address that is not its own. */
	switch (fw_check_addrs(fw, p, peer)) {
	case FW_OK:
		break;
	case FW_BAD_REMOTE_IP:
		w = FW_WHY_REMOTE_IP;
		v = refuse(fw, incoming);
		goto out;
	case FW_BAD_LOCAL_IP:
	case FW_NO_RULE:
	default:
		w = FW_WHY_LOCAL_IP;
		v = refuse(fw, incoming);
		goto out;
	}
	if (now >= ct->due || !ct->started)
		(void)conntrack_expire(ct, now, CONNTRACK_PACKET_BUDGET);
	if ((i = live(ct, p, owner, now)) != NIL) {
		e = &ct->e[i];
		if (e->version == version) {
			e->expires = add_sat(now, timeout);
			w = FW_WHY_CONNTRACK;
			v = FW_ACCEPT;
			goto out;
		}
		/* made under older rules: re-check as the entry was made */
		if (fw_match_rules(fw, e->incoming, p, peer)) {
			e->version = version;
			e->expires = add_sat(now, timeout);
			ct->st.restamped++;
			w = FW_WHY_CONNTRACK;
			v = FW_ACCEPT;
			goto out;
		}
		remove_entry(ct, i);
		ct->st.deleted++;
	}
	if (!fw_match_rules(fw, incoming, p, peer)) {
		w = FW_WHY_NO_RULE;
		v = refuse(fw, incoming);
		goto out;
	}
	if (conntrack_add(ct, p, owner, incoming, now, version, timeout) != 0) {
		w = owner != NULL && owner->count >= ct->owner_max
		        ? FW_WHY_PEER_FULL
		        : FW_WHY_CT_FULL;
		v = FW_DROP;
		goto out;
	}
	w = FW_WHY_RULE;
	v = FW_ACCEPT;
out:
	if (why != NULL)
		*why = w;
	return v;
}

enum fw_verdict
fw_decide(const struct fw *fw, struct conntrack *ct, bool incoming,
    const struct fw_packet *p, const struct fw_peer *peer,
    struct ct_owner *owner, int64_t now)
{
	return fw_decide_why(fw, ct, incoming, p, peer, owner, now, NULL);
}
