/*
 * node/hsguard.c: admission of handshake messages 1 (hsguard.h).
 */
#include <stdlib.h>

#include "err.h"
#include "hsguard.h"

#define SEC 1000000000LL
#define TOKEN 1024 /* a message's worth in a source's bucket */

struct bucket {
	uint32_t src;
	uint32_t tokens; /* in 1/TOKEN messages */
	int64_t at;      /* last refill */
};

struct hsguard {
	int pct, rate;
	uint64_t seed;
	int64_t budget, at; /* ns of work allowed; last refill */
	int64_t last_busy;  /* INT64_MIN: never */
	bool loaded;        /* in load mode at the last look */
	struct bucket *src; /* HSGUARD_SOURCES, when first under load */
	uint32_t *known;    /* HSGUARD_KNOWN, at the first completion */
	struct hsguard_stats st;
};

int
hsguard_new(int cpu_percent, int per_source_rate, uint64_t seed, int64_t now,
    struct hsguard **out)
{
	struct hsguard *g;

	*out = NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return VPN_ERR_NOMEM;
	g->seed = seed | 1;
	g->budget = HSGUARD_BURST_NS;
	g->at = now;
	g->last_busy = INT64_MIN;
	hsguard_set(g, cpu_percent, per_source_rate);
	*out = g;
	return 0;
}

void
hsguard_free(struct hsguard *g)
{
	if (g == NULL)
		return;
	free(g->src);
	free(g->known);
	free(g);
}

void
hsguard_set(struct hsguard *g, int cpu_percent, int per_source_rate)
{
	g->pct = cpu_percent < 1 ? 1 : cpu_percent > 100 ? 100 : cpu_percent;
	g->rate = per_source_rate < 1 ? 1 : per_source_rate;
}

/* A slot for src in a table of n (a power of two), keyed so that an
 * outsider cannot aim many addresses at one slot without knowing seed. */
static size_t
slot_of(const struct hsguard *g, uint32_t src, size_t n)
{
	uint64_t h = ((uint64_t)src ^ g->seed) * 0x9e3779b97f4a7c15ULL;

	h ^= h >> 29;
	h *= g->seed | 0x100000001ULL;
	return (size_t)(h >> 32) & (n - 1);
}

static void
refill(struct hsguard *g, int64_t now)
{
	int64_t d = now - g->at;

	if (d <= 0)
		return;
	g->at = now;
	if (d > SEC)
		d = SEC; /* more than fills the bucket anyway */
	g->budget += d * g->pct / 100;
	if (g->budget > HSGUARD_BURST_NS)
		g->budget = HSGUARD_BURST_NS;
}

static bool
loaded(const struct hsguard *g, int64_t now)
{
	return g->budget < HSGUARD_BURST_NS / 2 ||
	    (g->last_busy != INT64_MIN && now - g->last_busy < SEC);
}

/* Note the load mode, counting its entries. */
static bool
look(struct hsguard *g, int64_t now)
{
	bool under;

	refill(g, now);
	under = loaded(g, now);
	if (under && !g->loaded)
		g->st.under_load++;
	g->loaded = under;
	return under;
}

bool
hsguard_under_load(struct hsguard *g, int64_t now)
{
	return look(g, now);
}

bool
hsguard_known(const struct hsguard *g, uint32_t src)
{
	return g->known != NULL && src != 0 &&
	    g->known[slot_of(g, src, HSGUARD_KNOWN)] == src;
}

void
hsguard_completed(struct hsguard *g, uint32_t src)
{
	if (src == 0)
		return;
	if (g->known == NULL &&
	    (g->known = calloc(HSGUARD_KNOWN, sizeof(*g->known))) == NULL)
		return; /* only a preference lost */
	g->known[slot_of(g, src, HSGUARD_KNOWN)] = src;
}

/* The budget a message must find: under load, the last quarter is for
 * known sources. */
static int64_t
floor_for(bool under, bool known)
{
	return under && !known ? HSGUARD_BURST_NS / 4 : 0;
}

enum hsguard_verdict
hsguard_admit(struct hsguard *g, uint32_t src, int64_t now)
{
	bool under = look(g, now), known = hsguard_known(g, src);

	if (g->budget <= floor_for(under, known)) {
		g->st.busy++;
		g->last_busy = now;
		g->loaded = true;
		return HSG_BUSY;
	}
	g->st.admitted++;
	if (under && known)
		g->st.known_first++;
	return HSG_ADMIT;
}

bool
hsguard_over_rate(struct hsguard *g, uint32_t src, int64_t now)
{
	struct bucket *b;
	int64_t d, add;

	if (!look(g, now))
		return false;
	if (g->src == NULL &&
	    (g->src = calloc(HSGUARD_SOURCES, sizeof(*g->src))) == NULL)
		return false;
	b = &g->src[slot_of(g, src, HSGUARD_SOURCES)];
	if (b->src != src || b->at == 0) { /* a newcomer takes the slot */
		b->src = src;
		b->tokens = (uint32_t)g->rate * TOKEN;
		b->at = now;
	}
	d = now - b->at;
	if (d > 0) {
		if (d > 10 * SEC)
			d = 10 * SEC;
		add = d * g->rate * TOKEN / SEC;
		if (add > 0) { /* else keep the time: the fraction adds up */
			b->tokens = (uint32_t)(b->tokens + add >
			                    (int64_t)g->rate * TOKEN
			                ? (int64_t)g->rate * TOKEN
			                : b->tokens + add);
			b->at = now;
		}
	}
	if (b->tokens < TOKEN) {
		g->st.source_limited++;
		return true;
	}
	b->tokens -= TOKEN;
	return false;
}

void
hsguard_spent(struct hsguard *g, int64_t ns)
{
	if (ns > 0)
		g->budget -= ns;
	if (g->budget < -HSGUARD_BURST_NS)
		g->budget = -HSGUARD_BURST_NS;
}

int64_t
hsguard_wait(struct hsguard *g, bool known, int64_t now)
{
	int64_t need;

	need = floor_for(look(g, now), known) - g->budget + 1;
	return need <= 0 ? 0 : need * 100 / g->pct + 1;
}

const struct hsguard_stats *
hsguard_stats(const struct hsguard *g)
{
	return &g->st;
}
