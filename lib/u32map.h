/*
 * lib/u32map.h: a hash table from uint32 keys (indexes, VPN IPs) to
 * pointers.  Open addressing with linear probing and backward-shift
 * deletion; grows by doubling at 50% load, never shrinks.  Lookups do
 * not allocate.
 */
#ifndef VPN_U32MAP_H
#define VPN_U32MAP_H

#include <stddef.h>
#include <stdint.h>

struct u32map {
	uint32_t *keys;
	void **vals; /* NULL marks an empty slot */
	size_t cap;  /* a power of two, or 0 */
	size_t len;
};

void u32map_init(struct u32map *m);
void u32map_free(struct u32map *m); /* frees the table, not the values */
/* The value for key, or NULL. */
void *u32map_get(const struct u32map *m, uint32_t key);
/* Insert or replace (val != NULL).  0 or VPN_ERR_NOMEM. */
int u32map_put(struct u32map *m, uint32_t key, void *val);
/* Remove and return the value, or NULL if absent. */
void *u32map_del(struct u32map *m, uint32_t key);

/* Iterate: for (i = 0; u32map_next(m, &i, &k, &v);) ... ; the map must not
 * change meanwhile (collect keys first to delete while walking). */
int u32map_next(const struct u32map *m, size_t *i, uint32_t *key,
    void **val);

#endif
