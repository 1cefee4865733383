/* lib/u32map.c: uint32 -> pointer hash table. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "u32map.h"

static inline size_t
slot(uint32_t key, size_t cap)
{
	/* Fibonacci hashing spreads sequential and random keys alike. */
	return (size_t)((key * 2654435769u) & (uint32_t)(cap - 1));
}

void
u32map_init(struct u32map *m)
{
	memset(m, 0, sizeof(*m));
}

void
u32map_free(struct u32map *m)
{
	free(m->keys);
	free(m->vals);
	u32map_init(m);
}

void *
u32map_get(const struct u32map *m, uint32_t key)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	for (i = slot(key, m->cap); m->vals[i] != NULL;
	     i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key)
			return m->vals[i];
	return NULL;
}

static int
grow(struct u32map *m)
{
	struct u32map n;
	size_t i;

	n.cap = m->cap == 0 ? 16 : m->cap * 2;
	n.len = 0;
	n.keys = calloc(n.cap, sizeof(*n.keys));
	n.vals = calloc(n.cap, sizeof(*n.vals));
	if (n.keys == NULL || n.vals == NULL || n.cap < m->cap) {
		free(n.keys);
		free(n.vals);
		return VPN_ERR_NOMEM;
	}
	for (i = 0; i < m->cap; i++)
		if (m->vals[i] != NULL)
			u32map_put(&n, m->keys[i], m->vals[i]);
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

int
u32map_put(struct u32map *m, uint32_t key, void *val)
{
	size_t i;
	int r;

	if (val == NULL)
		return VPN_ERR_INVAL;
	if ((m->len + 1) * 2 > m->cap && (r = grow(m)) != 0)
		return r;
	for (i = slot(key, m->cap); m->vals[i] != NULL;
	     i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return 0;
		}
	}
	m->keys[i] = key;
	m->vals[i] = val;
	m->len++;
	return 0;
}

void *
u32map_del(struct u32map *m, uint32_t key)
{
	size_t i, j, home, mask = m->cap - 1;
	void *v;

	if (m->cap == 0)
		return NULL;
	for (i = slot(key, m->cap); m->vals[i] != NULL; i = (i + 1) & mask)
		if (m->keys[i] == key)
			break;
	if (m->vals[i] == NULL)
		return NULL;
	v = m->vals[i];
	m->vals[i] = NULL;
	m->len--;
	/* Backward shift: move later entries of the run into the hole when
	 * their home slot does not lie (cyclically) after it. */
	for (j = (i + 1) & mask; m->vals[j] != NULL; j = (j + 1) & mask) {
		home = slot(m->keys[j], m->cap);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			m->vals[j] = NULL;
			i = j;
		}
	}
	return v;
}

int
u32map_next(const struct u32map *m, size_t *i, uint32_t *key, void **val)
{
	for (; *i < m->cap; (*i)++) {
		if (m->vals[*i] != NULL) {
			*key = m->keys[*i];
			*val = m->vals[*i];
			(*i)++;
			return 1;
		}
	}
	return 0;
}
