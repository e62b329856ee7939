/*
 * hashmap.c: the open-addressing table of hashmap.h. One copy of probing, growth and
 * deletion, so that the report's tables and the writer's sets share their invariants:
 * cap is a power of two (or 0 before the first entry), used <= cap / 2, and every entry
 * lies on the unbroken run of taken slots that starts at its home slot (hash & (cap - 1)).
 */
#include "storage/hashmap.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static uint64_t nonzero(uint64_t h)
{
    return h ? h : 1;
}

void hmap_init(hmap *m, size_t first_cap, bool values)
{
    memset(m, 0, sizeof(*m));
    size_t cap = 8;
    while (cap < first_cap)
        cap *= 2;
    m->hm_first_cap = cap;
    m->hm_values = values;
}

void hmap_free(hmap *m)
{
    free(m->hm_hash);
    free(m->hm_value);
    m->hm_hash = NULL;
    m->hm_value = NULL;
    m->hm_cap = m->hm_used = 0;
}

uint64_t hmap_hash(const void *p, size_t n)
{
    return nonzero(XXH3_64bits(p, n));
}

int hmap_reserve(hmap *m)
{
    if (2 * (m->hm_used + 1) <= m->hm_cap)
        return 0;
    size_t cap = m->hm_cap ? m->hm_cap * 2 : (m->hm_first_cap ? m->hm_first_cap : 8);
    uint64_t *h = calloc(cap, sizeof(*h));
    uint32_t *v = m->hm_values ? calloc(cap, sizeof(*v)) : NULL;
    if (!h || (m->hm_values && !v)) {
        free(h);
        free(v);
        return -1;
    }
    for (size_t i = 0; i < m->hm_cap; i++) {
        if (!m->hm_hash[i])
            continue;
        size_t j = (size_t)m->hm_hash[i] & (cap - 1);
        while (h[j])
            j = (j + 1) & (cap - 1);
        h[j] = m->hm_hash[i];
        if (v)
            v[j] = m->hm_value[i];
    }
    free(m->hm_hash);
    free(m->hm_value);
    m->hm_hash = h;
    m->hm_value = v;
    m->hm_cap = cap;
    return 0;
}

size_t hmap_probe(const hmap *m, uint64_t h)
{
    if (!m->hm_cap)
        return 0;
    h = nonzero(h);
    size_t mask = m->hm_cap - 1, i = (size_t)h & mask;
    while (m->hm_hash[i] && m->hm_hash[i] != h)
        i = (i + 1) & mask;
    return i;
}

size_t hmap_probe_next(const hmap *m, uint64_t h, size_t i)
{
    h = nonzero(h);
    size_t mask = m->hm_cap - 1;
    i = (i + 1) & mask;
    while (m->hm_hash[i] && m->hm_hash[i] != h)
        i = (i + 1) & mask;
    return i;
}

bool hmap_taken(const hmap *m, size_t i)
{
    return m->hm_cap && m->hm_hash[i];
}

uint32_t *hmap_value(hmap *m, size_t i)
{
    return &m->hm_value[i];
}

void hmap_put(hmap *m, size_t i, uint64_t h, uint32_t value)
{
    m->hm_hash[i] = nonzero(h);
    if (m->hm_value)
        m->hm_value[i] = value;
    m->hm_used++;
}

int hmap_add(hmap *m, uint64_t h)
{
    if (hmap_has(m, h))
        return 0;
    if (hmap_reserve(m))
        return -1;
    hmap_put(m, hmap_probe(m, h), h, 0);
    return 1;
}

bool hmap_has(const hmap *m, uint64_t h)
{
    return hmap_taken(m, hmap_probe(m, h));
}

void hmap_del(hmap *m, uint64_t h)
{
    size_t i = hmap_probe(m, h);
    if (!hmap_taken(m, i))
        return;
    size_t mask = m->hm_cap - 1;
    m->hm_hash[i] = 0;
    m->hm_used--;
    for (size_t j = (i + 1) & mask; m->hm_hash[j]; j = (j + 1) & mask) {
        size_t home = (size_t)m->hm_hash[j] & mask;
        /* The entry at j may move to the hole at i unless its home lies in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        m->hm_hash[i] = m->hm_hash[j];
        m->hm_hash[j] = 0;
        if (m->hm_value)
            m->hm_value[i] = m->hm_value[j];
        i = j;
    }
}

void hmap_clear(hmap *m)
{
    if (m->hm_cap) {
        memset(m->hm_hash, 0, m->hm_cap * sizeof(*m->hm_hash));
        if (m->hm_value)
            memset(m->hm_value, 0, m->hm_cap * sizeof(*m->hm_value));
    }
    m->hm_used = 0;
}

size_t hmap_count(const hmap *m)
{
    return m->hm_used;
}
