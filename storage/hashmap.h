/*
 * hashmap.h: one open-addressing hash table, for every in-memory index of jejak (the
 * report's groups and caches, the writer's unique set and flood counts).
 *
 * The table holds 64-bit hashes and, optionally, a 32-bit value per entry; it never sees
 * the keys. A caller that needs exact keys keeps them in its own array, stores the index in
 * the value, and compares keys while it walks the probe (hmap_probe, hmap_probe_next visit
 * only the slots holding the hash). A caller that trusts 64-bit hashes (the unique set)
 * uses the hashes as the keys (hmap_add, hmap_del).
 *
 * Linear probing, capacity a power of two, at most half full; hash 0 marks an empty slot,
 * so a hash of 0 is stored as 1 (hmap_hash does the same). Lookups, inserts into reserved
 * room, deletes and hmap_clear never allocate: only hmap_reserve (and hmap_add through it)
 * grows the table, doubling, when the next entry would make it more than half full.
 *
 * Memory: the table owns its slot arrays (hmap_free releases them); an hmap_t is a plain
 * struct the caller embeds and owns. Not thread-safe: one owner at a time.
 */
#ifndef JEJAK_HASHMAP_H
#define JEJAK_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t *hm_hash;  /* cap slots; 0 = empty */
    uint32_t *hm_value; /* cap slots, or NULL for a set */
    size_t hm_cap, hm_used;
    size_t hm_first_cap; /* the capacity of the first allocation (a power of two) */
    bool hm_values;
} hmap;

/* An empty table (allocates nothing). first_cap: its capacity when the first entry comes,
 * rounded up to a power of two (at least 8); values: whether entries carry a value. */
void hmap_init(hmap *m, size_t first_cap, bool values);
void hmap_free(hmap *m); /* releases the slots; the table is empty and usable again */

/* XXH3 of n bytes, never 0: the hash callers should use. */
uint64_t hmap_hash(const void *p, size_t n);

/* Makes room for one more entry: 0, or -1 when memory ran out (the table is unchanged).
 * May move every entry: slot indexes from before are void. */
int hmap_reserve(hmap *m);

/* The first slot of h's probe that holds h or is empty; hmap_probe_next the next one after
 * slot i. Walk while hmap_taken, comparing keys; the empty slot that ends the walk is where
 * h goes (hmap_put), if hmap_reserve was called before the walk. On an empty table (no
 * slots yet) returns 0 and hmap_taken is false, and hmap_put needs hmap_reserve first. */
size_t hmap_probe(const hmap *m, uint64_t h);
size_t hmap_probe_next(const hmap *m, uint64_t h, size_t i);
bool hmap_taken(const hmap *m, size_t i);
/* The value of the taken slot i (a table made with values). */
uint32_t *hmap_value(hmap *m, size_t i);
/* Fills the empty slot i (found by a probe for h after hmap_reserve) with h and value
 * (ignored for a set). */
void hmap_put(hmap *m, size_t i, uint64_t h, uint32_t value);

/* The set view: 1 if h was added, 0 if it was there, -1 when memory ran out. */
int hmap_add(hmap *m, uint64_t h);
bool hmap_has(const hmap *m, uint64_t h);
/* Removes one entry of hash h, if any (backward shift: later entries of its run move back,
 * so every probe still finds them). */
void hmap_del(hmap *m, uint64_t h);

/* Empties the table, keeping its capacity (no allocation). */
void hmap_clear(hmap *m);
size_t hmap_count(const hmap *m);

#endif
