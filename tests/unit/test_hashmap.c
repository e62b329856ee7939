/*
 * test_hashmap.c: the one open-addressing table (storage/hashmap.c): the set view against
 * a plain list, deletion inside and across the wrap of a probe run, exact keys behind equal
 * hashes, growth only when the next entry needs it, and clear keeping the room.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "storage/hashmap.h"

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_empty(void **state)
{
    (void)state;
    hmap m;
    hmap_init(&m, 0, false);
    assert_int_equal(hmap_count(&m), 0);
    assert_false(hmap_has(&m, 42));
    assert_false(hmap_taken(&m, hmap_probe(&m, 42)));
    hmap_del(&m, 42); /* nothing to remove: no effect */
    hmap_clear(&m);
    assert_null(m.hm_hash); /* nothing allocated until the first entry */
    hmap_free(&m);
}

/* Random adds and deletes, checked against a list after every step. */
static void test_set_matches_list(void **state)
{
    (void)state;
    enum { N = 3000, SPACE = 1500 };
    hmap m;
    hmap_init(&m, 16, false);
    bool *in = calloc(SPACE, sizeof(*in));
    assert_non_null(in);
    uint64_t seed = 88172645463325252ull;
    size_t count = 0;
    for (int step = 0; step < N; step++) {
        /* Hashes with few distinct low bits: long runs, many wraps. */
        unsigned k = (unsigned)(next_rand(&seed) % SPACE);
        uint64_t h = ((uint64_t)(k + 1) << 40) | (k % 7);
        if (next_rand(&seed) % 3) {
            int r = hmap_add(&m, h);
            assert_int_equal(r, in[k] ? 0 : 1);
            count += !in[k];
            in[k] = true;
        } else {
            hmap_del(&m, h);
            count -= in[k];
            in[k] = false;
        }
        assert_int_equal(hmap_count(&m), count);
        if (step % 100 == 0)
            for (unsigned j = 0; j < SPACE; j++)
                assert_int_equal(hmap_has(&m, ((uint64_t)(j + 1) << 40) | (j % 7)), in[j]);
    }
    assert_true(2 * hmap_count(&m) <= m.hm_cap);
    free(in);
    hmap_free(&m);
}

/* Entries homed at the last slots run over the end of the table; deleting the first of the
 * run must leave the ones that wrapped findable. */
static void test_delete_across_wrap(void **state)
{
    (void)state;
    hmap m;
    hmap_init(&m, 16, false);
    assert_int_equal(hmap_reserve(&m), 0);
    assert_int_equal(m.hm_cap, 16);
    const uint64_t h[] = {0x10F, 0x20F, 0x30E, 0x400, 0x501}; /* homes 15, 15, 14, 0, 1 */
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(hmap_add(&m, h[i]), 1);
    hmap_del(&m, 0x10F);
    for (size_t i = 1; i < 5; i++)
        assert_true(hmap_has(&m, h[i]));
    assert_false(hmap_has(&m, 0x10F));
    hmap_del(&m, 0x30E);
    assert_true(hmap_has(&m, 0x20F));
    assert_true(hmap_has(&m, 0x400));
    assert_true(hmap_has(&m, 0x501));
    assert_int_equal(hmap_count(&m), 3);
    hmap_free(&m);
}

static void test_hash_zero_is_one(void **state)
{
    (void)state;
    hmap m;
    hmap_init(&m, 8, false);
    assert_int_equal(hmap_add(&m, 0), 1);
    assert_true(hmap_has(&m, 0));
    assert_int_equal(hmap_add(&m, 1), 0); /* 0 is stored as 1: the same entry */
    assert_true(hmap_hash("", 0) != 0);
    assert_true(hmap_hash("abc", 3) == hmap_hash("abc", 3));
    assert_true(hmap_hash("abc", 3) != hmap_hash("abd", 3));
    hmap_free(&m);
}

/* The caller's view: keys in its own array, the index as the value, keys compared along
 * the probe. Every key hashes alike here, so only the comparison tells them apart. */
static const char *const words[] = {"ayu", "budi", "citra", "dewi", "eka", "fajar"};

static size_t find_or_add(hmap *m, const char *key, size_t *n, const char **arr)
{
    uint64_t h = 77; /* a collision for everyone */
    assert_int_equal(hmap_reserve(m), 0);
    size_t j = hmap_probe(m, h);
    for (; hmap_taken(m, j); j = hmap_probe_next(m, h, j))
        if (!strcmp(arr[*hmap_value(m, j)], key))
            return *hmap_value(m, j);
    arr[*n] = key;
    hmap_put(m, j, h, (uint32_t)*n);
    return (*n)++;
}

static void test_values_with_equal_hashes(void **state)
{
    (void)state;
    hmap m;
    hmap_init(&m, 8, true);
    const char *arr[8];
    size_t n = 0;
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < 6; i++)
            assert_int_equal(find_or_add(&m, words[i], &n, arr), i);
    assert_int_equal(n, 6);
    assert_int_equal(hmap_count(&m), 6);
    hmap_free(&m);
}

static void test_grows_only_when_it_must(void **state)
{
    (void)state;
    hmap m;
    hmap_init(&m, 100, true); /* rounded up to 128 */
    assert_int_equal(hmap_reserve(&m), 0);
    assert_int_equal(m.hm_cap, 128);
    for (uint64_t i = 1; i <= 64; i++) {
        assert_int_equal(hmap_reserve(&m), 0);
        size_t j = hmap_probe(&m, i * 0x9E3779B97F4A7C15ull);
        assert_false(hmap_taken(&m, j));
        hmap_put(&m, j, i * 0x9E3779B97F4A7C15ull, (uint32_t)i);
    }
    assert_int_equal(m.hm_cap, 128); /* 64 of 128: still half */
    const uint64_t *before = m.hm_hash;
    for (uint64_t i = 1; i <= 64; i++) /* lookups never grow */
        assert_true(hmap_has(&m, i * 0x9E3779B97F4A7C15ull));
    assert_ptr_equal(m.hm_hash, before);
    assert_int_equal(hmap_reserve(&m), 0); /* the 65th would pass half: doubles */
    assert_int_equal(m.hm_cap, 256);
    for (uint64_t i = 1; i <= 64; i++) { /* entries and their values moved along */
        size_t j = hmap_probe(&m, i * 0x9E3779B97F4A7C15ull);
        assert_true(hmap_taken(&m, j));
        assert_int_equal(*hmap_value(&m, j), i);
    }
    hmap_clear(&m); /* empty, same room, values gone */
    assert_int_equal(hmap_count(&m), 0);
    assert_int_equal(m.hm_cap, 256);
    assert_false(hmap_has(&m, 0x9E3779B97F4A7C15ull));
    size_t j = hmap_probe(&m, 5);
    hmap_put(&m, j, 5, 0);
    assert_int_equal(*hmap_value(&m, j), 0);
    hmap_free(&m);
    assert_int_equal(hmap_count(&m), 0);
    assert_int_equal(hmap_add(&m, 9), 1); /* usable again after free */
    hmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_set_matches_list),
        cmocka_unit_test(test_delete_across_wrap),
        cmocka_unit_test(test_hash_zero_is_one),
        cmocka_unit_test(test_values_with_equal_hashes),
        cmocka_unit_test(test_grows_only_when_it_must),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
