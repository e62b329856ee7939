/*
 * test_store.c: the LMDB store (storage/store.c) and the typed registry over it
 * (storage/registry.c), each test on a fresh store in its own temporary folder.
 *
 * Covers: creating the folder (and, for read-only commands, refusing to), the schema version check,
 * the primitives (put, get, del, each, count and their flags), map growth under store_update with
 * every record read back, an aborted update leaving nothing, snapshot reads from other threads
 * while a writer writes and grows the map, and the registry's records, click scans and visits
 * index.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/tmpstore.h"

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/clicks.h"
#include "storage/registry.h"
#include "storage/store.h"

/* ---- fixtures -------------------------------------------------------------------------- */

typedef struct {
    char tmp[64];  /* the mkdtemp folder */
    char dir[128]; /* tmp/data: the store's folder, created by store_open */
    store *s;
} fixture;

static void rm_rf(const char *dir)
{
    tmpstore_remove(dir);
}

static void open_or_fail(fixture *f)
{
    char err[512] = "";
    int rc = store_open(&f->s, f->dir, err, sizeof(err));
    if (rc != STORE_OK)
        fail_msg("store_open(%s): %d %s", f->dir, rc, err);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->tmp, sizeof(f->tmp), "/tmp/jejak-test-store-XXXXXX");
    if (!mkdtemp(f->tmp)) {
        free(f);
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "%s/data", f->tmp);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->s);
    rm_rf(f->tmp);
    free(f);
    unsetenv("JEJAK_MAP_SIZE");
    return 0;
}

static void reopen(fixture *f)
{
    store_close(f->s);
    f->s = NULL;
    open_or_fail(f);
}

/* ---- open and schema ------------------------------------------------------------------- */

static void test_open_creates_dir(void **state)
{
    fixture *f = *state;
    struct stat st;
    assert_int_equal(stat(f->dir, &st), -1);
    open_or_fail(f);
    assert_non_null(f->s);
    assert_int_equal(stat(f->dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    char path[256];
    snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_string_equal(store_path(f->s), f->dir);
    assert_true(store_map_size(f->s) >= (64u << 20));

    /* A fresh store records schema version 1, 4 bytes big-endian. */
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    store_val v = {NULL, 0};
    assert_int_equal(store_get(t, STORE_DB_META, "schema", 6, &v), STORE_OK);
    assert_int_equal(v.len, 4);
    const uint8_t one[4] = {0, 0, 0, STORE_SCHEMA_VERSION};
    assert_memory_equal(v.data, one, 4);
    store_read_end(t);

    /* Reopening an existing store works. */
    reopen(f);
}

static void test_open_refuses_missing_parent(void **state)
{
    fixture *f = *state;
    char dir[256], err[512] = "";
    snprintf(dir, sizeof(dir), "%s/no/such/parent", f->tmp);
    store *s = (store *)&err; /* must be reset to NULL */
    int rc = store_open(&s, dir, err, sizeof(err));
    assert_int_equal(rc, STORE_IO);
    assert_null(s);
    assert_non_null(strstr(err, "cannot create data folder"));
    assert_non_null(strstr(err, dir));
}

static void test_open_existing_creates_nothing(void **state)
{
    fixture *f = *state;
    char err[512] = "";
    struct stat st;
    /* A missing folder: refused, and not created. */
    store *s = (store *)&err; /* must be reset to NULL */
    assert_int_equal(store_open_existing(&s, f->dir, err, sizeof(err)), STORE_NOTFOUND);
    assert_null(s);
    assert_non_null(strstr(err, "no data folder"));
    assert_non_null(strstr(err, f->dir));
    assert_int_equal(stat(f->dir, &st), -1);
    /* A folder without a store: refused, and left empty. */
    assert_int_equal(mkdir(f->dir, 0700), 0);
    assert_int_equal(store_open_existing(&s, f->dir, err, sizeof(err)), STORE_NOTFOUND);
    assert_null(s);
    assert_non_null(strstr(err, "no jejak store in"));
    char path[256];
    snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
    assert_int_equal(stat(path, &st), -1);
    snprintf(path, sizeof(path), "%s/lock.mdb", f->dir);
    assert_int_equal(stat(path, &st), -1);
    /* A file where the folder should be: refused. */
    char file[256];
    snprintf(file, sizeof(file), "%s/file", f->tmp);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(store_open_existing(&s, file, err, sizeof(err)), STORE_NOTFOUND);
    assert_non_null(strstr(err, "not a folder"));
    /* Once a store is there, it opens. */
    open_or_fail(f);
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open_existing(&s, f->dir, err, sizeof(err)), STORE_OK);
    assert_non_null(s);
    store_close(s);
}

static void test_open_refuses_a_file(void **state)
{
    fixture *f = *state;
    FILE *fp = fopen(f->dir, "w");
    assert_non_null(fp);
    fclose(fp);
    char err[512] = "";
    store *s = NULL;
    int rc = store_open(&s, f->dir, err, sizeof(err));
    assert_true(rc < 0);
    assert_null(s);
    assert_true(strlen(err) > 0);
}

typedef struct {
    const void *val;
    size_t len;
} raw_schema;

static int put_schema(store_txn *t, void *ctx)
{
    raw_schema *r = ctx;
    return store_put(t, STORE_DB_META, "schema", 6, r->val, r->len, 0);
}

static void test_schema_newer_refused(void **state)
{
    fixture *f = *state;
    open_or_fail(f);
    const uint8_t v99[4] = {0, 0, 0, 99};
    raw_schema r = {v99, 4};
    assert_int_equal(store_update(f->s, put_schema, &r), STORE_OK);
    store_close(f->s);
    f->s = NULL;

    char err[512] = "";
    store *s = NULL;
    int rc = store_open(&s, f->dir, err, sizeof(err));
    assert_int_equal(rc, STORE_VERSION);
    assert_null(s);
    assert_non_null(strstr(err, "newer"));
    assert_non_null(strstr(err, "99"));
    assert_non_null(strstr(err, f->dir));
    assert_string_equal(store_strerror(STORE_VERSION), "the store was written by a newer jejak");

    /* Refused again: the open did not rewrite the version. */
    err[0] = '\0';
    assert_int_equal(store_open(&s, f->dir, err, sizeof(err)), STORE_VERSION);
    assert_null(s);
}

/* A version above 2^31 is newer too, not a negative number. */
static void test_schema_big_version_refused(void **state)
{
    fixture *f = *state;
    open_or_fail(f);
    const uint8_t vbig[4] = {0x80, 0, 0, 1};
    raw_schema r = {vbig, 4};
    assert_int_equal(store_update(f->s, put_schema, &r), STORE_OK);
    store_close(f->s);
    f->s = NULL;
    char err[512] = "";
    store *s = NULL;
    int rc = store_open(&s, f->dir, err, sizeof(err));
    if (s)
        store_close(s);
    assert_int_equal(rc, STORE_VERSION);
}

static void test_schema_malformed_refused(void **state)
{
    fixture *f = *state;
    open_or_fail(f);
    const uint8_t v3[3] = {0, 0, 1};
    raw_schema r = {v3, 3};
    assert_int_equal(store_update(f->s, put_schema, &r), STORE_OK);
    store_close(f->s);
    f->s = NULL;
    char err[512] = "";
    store *s = NULL;
    assert_int_equal(store_open(&s, f->dir, err, sizeof(err)), STORE_CORRUPT);
    assert_null(s);
    assert_non_null(strstr(err, "schema"));
    assert_non_null(strstr(err, "corrupt"));
}

/* ---- primitives ------------------------------------------------------------------------ */

static int put_abc(store_txn *t, void *ctx)
{
    (void)ctx;
    int rc = store_put(t, STORE_DB_META, "b", 1, "B", 1, 0);
    if (!rc)
        rc = store_put(t, STORE_DB_META, "a", 1, "A", 1, 0);
    if (!rc)
        rc = store_put(t, STORE_DB_META, "c", 1, "C", 1, 0);
    if (!rc)
        rc = store_put(t, STORE_DB_LINKS, "b", 1, "other db", 8, 0);
    return rc;
}

typedef struct {
    char keys[16];
    char vals[16];
    int n;
    int stop_at; /* return 42 on this call (1-based), 0 never */
} collect;

static int collect_one(const store_val *k, const store_val *v, void *ctx)
{
    collect *c = ctx;
    assert_true(k->len >= 1);
    c->keys[c->n] = *(const char *)k->data;
    c->vals[c->n] = v->len ? *(const char *)v->data : '-';
    c->n++;
    return c->n == c->stop_at ? 42 : 0;
}

static int del_b(store_txn *t, void *ctx)
{
    int *rc = ctx;
    int r = store_del(t, STORE_DB_META, "b", 1);
    if (r)
        return r;
    *rc = store_del(t, STORE_DB_META, "zz", 2);
    return STORE_OK;
}

static int overwrite_a(store_txn *t, void *ctx)
{
    (void)ctx;
    return store_put(t, STORE_DB_META, "a", 1, "AA", 2, 0);
}

static void test_put_get_del_each_count(void **state)
{
    fixture *f = *state;
    open_or_fail(f);
    assert_int_equal(store_update(f->s, put_abc, NULL), STORE_OK);

    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    store_val v = {NULL, 0};
    assert_int_equal(store_get(t, STORE_DB_META, "a", 1, &v), STORE_OK);
    assert_int_equal(v.len, 1);
    assert_memory_equal(v.data, "A", 1);
    assert_int_equal(store_get(t, STORE_DB_LINKS, "b", 1, &v), STORE_OK);
    assert_int_equal(v.len, 8);
    assert_memory_equal(v.data, "other db", 8);
    assert_int_equal(store_get(t, STORE_DB_META, "d", 1, &v), STORE_NOTFOUND);
    assert_int_equal(store_get(t, STORE_DB_LINKS, "a", 1, &v), STORE_NOTFOUND);
    /* meta holds the schema as well */
    assert_int_equal(store_count(t, STORE_DB_META), 4);
    assert_int_equal(store_count(t, STORE_DB_LINKS), 1);
    assert_int_equal(store_count(t, STORE_DB_CLICKS), 0);

    collect c = {.stop_at = 0};
    assert_int_equal(store_each(t, STORE_DB_META, "a", 1, collect_one, &c), STORE_OK);
    assert_int_equal(c.n, 4);
    assert_memory_equal(c.keys, "abcs", 4);
    assert_memory_equal(c.vals, "ABC", 3);

    c = (collect){.stop_at = 0};
    assert_int_equal(store_each(t, STORE_DB_META, "b", 1, collect_one, &c), STORE_OK);
    assert_int_equal(c.n, 3);
    assert_memory_equal(c.keys, "bcs", 3);

    c = (collect){.stop_at = 0};
    assert_int_equal(store_each(t, STORE_DB_META, "bb", 2, collect_one, &c), STORE_OK);
    assert_int_equal(c.n, 2);
    assert_memory_equal(c.keys, "cs", 2);

    c = (collect){.stop_at = 0};
    assert_int_equal(store_each(t, STORE_DB_META, "t", 1, collect_one, &c), STORE_OK);
    assert_int_equal(c.n, 0);

    c = (collect){.stop_at = 2};
    assert_int_equal(store_each(t, STORE_DB_META, NULL, 0, collect_one, &c), 42);
    assert_int_equal(c.n, 2);
    assert_memory_equal(c.keys, "ab", 2);

    c = (collect){.stop_at = 0};
    assert_int_equal(store_each(t, STORE_DB_VISITS, NULL, 0, collect_one, &c), STORE_OK);
    assert_int_equal(c.n, 0);
    store_read_end(t);

    int missing = 0;
    assert_int_equal(store_update(f->s, del_b, &missing), STORE_OK);
    assert_int_equal(missing, STORE_NOTFOUND);
    assert_int_equal(store_update(f->s, overwrite_a, NULL), STORE_OK);

    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    assert_int_equal(store_get(t, STORE_DB_META, "b", 1, &v), STORE_NOTFOUND);
    assert_int_equal(store_get(t, STORE_DB_META, "a", 1, &v), STORE_OK);
    assert_int_equal(v.len, 2);
    assert_memory_equal(v.data, "AA", 2);
    assert_int_equal(store_count(t, STORE_DB_META), 3);
    store_read_end(t);

    /* Everything is still there after a reopen. */
    reopen(f);
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    assert_int_equal(store_count(t, STORE_DB_META), 3);
    assert_int_equal(store_get(t, STORE_DB_META, "c", 1, &v), STORE_OK);
    assert_memory_equal(v.data, "C", 1);
    store_read_end(t);
}

typedef struct {
    int rc[8];
} flag_results;

static int flags_fn(store_txn *t, void *ctx)
{
    flag_results *r = ctx;
    r->rc[0] = store_put(t, STORE_DB_META, "k", 1, "first", 5, STORE_NOOVERWRITE);
    r->rc[1] = store_put(t, STORE_DB_META, "k", 1, "second", 6, STORE_NOOVERWRITE);
    /* APPEND: in order, then out of order (before the last key), then the last key again. */
    r->rc[2] = store_put(t, STORE_DB_CLICKS, "m", 1, "M", 1, STORE_APPEND);
    r->rc[3] = store_put(t, STORE_DB_CLICKS, "z", 1, "Z", 1, STORE_APPEND);
    r->rc[4] = store_put(t, STORE_DB_CLICKS, "a", 1, "A", 1, STORE_APPEND);
    r->rc[5] = store_put(t, STORE_DB_CLICKS, "z", 1, "Z2", 2, STORE_APPEND);
    r->rc[6] = store_put(t, STORE_DB_CLICKS, "z", 1, "Z3", 2, STORE_APPEND | STORE_NOOVERWRITE);
    r->rc[7] = store_put(t, STORE_DB_CLICKS, "m", 1, "M2", 2, STORE_APPEND | STORE_NOOVERWRITE);
    return STORE_OK;
}

static void test_put_flags(void **state)
{
    fixture *f = *state;
    open_or_fail(f);
    flag_results r;
    memset(&r, 0x7f, sizeof(r));
    assert_int_equal(store_update(f->s, flags_fn, &r), STORE_OK);
    assert_int_equal(r.rc[0], STORE_OK);
    assert_int_equal(r.rc[1], STORE_EXISTS);
    assert_int_equal(r.rc[2], STORE_OK);
    assert_int_equal(r.rc[3], STORE_OK);
    assert_int_equal(r.rc[4], STORE_OK);
    assert_int_equal(r.rc[5], STORE_OK);
    assert_int_equal(r.rc[6], STORE_EXISTS);
    assert_int_equal(r.rc[7], STORE_EXISTS);

    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    store_val v = {NULL, 0};
    assert_int_equal(store_get(t, STORE_DB_META, "k", 1, &v), STORE_OK);
    assert_int_equal(v.len, 5);
    assert_memory_equal(v.data, "first", 5);
    collect c = {.stop_at = 0};
    assert_int_equal(store_each(t, STORE_DB_CLICKS, NULL, 0, collect_one, &c), STORE_OK);
    assert_int_equal(c.n, 3);
    assert_memory_equal(c.keys, "amz", 3);
    assert_int_equal(store_get(t, STORE_DB_CLICKS, "z", 1, &v), STORE_OK);
    assert_int_equal(v.len, 2);
    assert_memory_equal(v.data, "Z2", 2);
    assert_int_equal(store_get(t, STORE_DB_CLICKS, "m", 1, &v), STORE_OK);
    assert_int_equal(v.len, 1);
    store_read_end(t);
}

/* ---- store_update: abort and growth ---------------------------------------------------- */

static int put_then_fail(store_txn *t, void *ctx)
{
    int *fail_with = ctx;
    for (int i = 0; i < 10; i++) {
        char key[8];
        snprintf(key, sizeof(key), "f%d", i);
        int rc = store_put(t, STORE_DB_LINKS, key, strlen(key), "x", 1, 0);
        if (rc)
            return rc;
    }
    int rc = store_put(t, STORE_DB_META, "a", 1, "changed", 7, 0);
    return rc ? rc : *fail_with;
}

static void test_update_error_leaves_nothing(void **state)
{
    fixture *f = *state;
    open_or_fail(f);
    assert_int_equal(store_update(f->s, put_abc, NULL), STORE_OK);
    const int errors[] = {STORE_CORRUPT, STORE_NOTFOUND, STORE_ERROR, -1, 7};
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        int e = errors[i];
        assert_int_equal(store_update(f->s, put_then_fail, &e), e);
        store_txn *t;
        assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
        assert_int_equal(store_count(t, STORE_DB_LINKS), 1); /* only put_abc's */
        store_val v = {NULL, 0};
        assert_int_equal(store_get(t, STORE_DB_LINKS, "f0", 2, &v), STORE_NOTFOUND);
        assert_int_equal(store_get(t, STORE_DB_META, "a", 1, &v), STORE_OK);
        assert_int_equal(v.len, 1);
        assert_memory_equal(v.data, "A", 1);
        store_read_end(t);
    }
    /* And the store still takes writes. */
    int ok = STORE_OK;
    assert_int_equal(store_update(f->s, put_then_fail, &ok), STORE_OK);
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    assert_int_equal(store_count(t, STORE_DB_LINKS), 11);
    store_read_end(t);
}

enum { GROW_VAL = 1000, GROW_PER_TXN = 2000, GROW_TXNS = 10 }; /* 20 MB of values */

typedef struct {
    int first, count;
    int runs;
} grow_ctx;

static void grow_value(int i, uint8_t *v)
{
    for (int k = 0; k < GROW_VAL; k++)
        v[k] = (uint8_t)(i * 31 + k * 7);
    memcpy(v, &i, sizeof(i));
}

static void grow_key(int i, uint8_t *k)
{
    k[0] = (uint8_t)(i >> 24);
    k[1] = (uint8_t)(i >> 16);
    k[2] = (uint8_t)(i >> 8);
    k[3] = (uint8_t)i;
}

static int grow_fn(store_txn *t, void *ctx)
{
    grow_ctx *g = ctx;
    g->runs++;
    uint8_t k[4], v[GROW_VAL];
    for (int i = g->first; i < g->first + g->count; i++) {
        grow_key(i, k);
        grow_value(i, v);
        int rc = store_put(t, STORE_DB_CLICKS, k, 4, v, sizeof(v), STORE_NOOVERWRITE);
        if (rc)
            return rc;
    }
    return STORE_OK;
}

static void check_grown(store *s, int n)
{
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), STORE_OK);
    assert_int_equal(store_count(t, STORE_DB_CLICKS), n);
    uint8_t k[4], want[GROW_VAL];
    for (int i = 0; i < n; i++) {
        grow_key(i, k);
        grow_value(i, want);
        store_val v = {NULL, 0};
        assert_int_equal(store_get(t, STORE_DB_CLICKS, k, 4, &v), STORE_OK);
        assert_int_equal(v.len, GROW_VAL);
        if (memcmp(v.data, want, GROW_VAL) != 0)
            fail_msg("record %d reads back different", i);
    }
    store_read_end(t);
}

static void test_map_grows(void **state)
{
    fixture *f = *state;
    setenv("JEJAK_MAP_SIZE", "262144", 1);
    open_or_fail(f);
    size_t before = store_map_size(f->s);
    assert_true(before >= 262144 && before < 1048576);
    int runs = 0;
    for (int b = 0; b < GROW_TXNS; b++) {
        grow_ctx g = {b * GROW_PER_TXN, GROW_PER_TXN, 0};
        assert_int_equal(store_update(f->s, grow_fn, &g), STORE_OK);
        assert_true(g.runs >= 1);
        runs += g.runs;
    }
    size_t after = store_map_size(f->s);
    assert_true(after >= (size_t)GROW_TXNS * GROW_PER_TXN * GROW_VAL);
    assert_true(after > before);
    /* The first transaction alone (2 MB into a 256 KB map) had to run again. */
    assert_true(runs > GROW_TXNS);
    check_grown(f->s, GROW_TXNS * GROW_PER_TXN);

    /* Reopened with the small size asked for again, the store keeps its size and data. */
    reopen(f);
    assert_true(store_map_size(f->s) >= (size_t)GROW_TXNS * GROW_PER_TXN * GROW_VAL);
    check_grown(f->s, GROW_TXNS * GROW_PER_TXN);
    grow_ctx g = {GROW_TXNS * GROW_PER_TXN, 100, 0};
    assert_int_equal(store_update(f->s, grow_fn, &g), STORE_OK);
    check_grown(f->s, GROW_TXNS * GROW_PER_TXN + 100);
}

/* ---- readers on other threads ---------------------------------------------------------- */

enum { PAIR_ROUNDS = 300 };

typedef struct {
    store *s;
    atomic_bool stop;
    atomic_int reads;
    atomic_int bad;
    atomic_int max_seen;
} pair_ctx;

typedef struct {
    uint32_t n;
    int pad; /* bytes per round, to make the map grow */
} pair_write;

/* Writes a = b = n, and a bulk record, in one transaction: a reader must never see a != b. */
static int pair_fn(store_txn *t, void *ctx)
{
    pair_write *w = ctx;
    uint8_t v[4] = {(uint8_t)(w->n >> 24), (uint8_t)(w->n >> 16), (uint8_t)(w->n >> 8),
                    (uint8_t)w->n};
    int rc = store_put(t, STORE_DB_META, "pa", 2, v, 4, 0);
    if (!rc && w->pad) {
        static uint8_t blob[32768];
        rc = store_put(t, STORE_DB_CLICKS, v, 4, blob, (size_t)w->pad, 0);
    }
    if (!rc)
        rc = store_put(t, STORE_DB_META, "pb", 2, v, 4, 0);
    return rc;
}

static uint32_t be32_get(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void *reader_main(void *arg)
{
    pair_ctx *c = arg;
    while (!atomic_load(&c->stop)) {
        store_txn *t;
        if (store_read_begin(c->s, &t) != STORE_OK) {
            atomic_fetch_add(&c->bad, 1);
            break;
        }
        store_val a = {NULL, 0}, b = {NULL, 0};
        int ra = store_get(t, STORE_DB_META, "pa", 2, &a);
        int rb = store_get(t, STORE_DB_META, "pb", 2, &b);
        if (ra != rb) {
            atomic_fetch_add(&c->bad, 1);
        } else if (ra == STORE_OK) {
            uint32_t na = be32_get(a.data), nb = be32_get(b.data);
            /* The clicks table holds exactly the rounds the snapshot has seen. */
            size_t rows = store_count(t, STORE_DB_CLICKS);
            if (na != nb || rows != na + 1)
                atomic_fetch_add(&c->bad, 1);
            if ((int)na > atomic_load(&c->max_seen))
                atomic_store(&c->max_seen, (int)na);
        }
        store_read_end(t);
        atomic_fetch_add(&c->reads, 1);
    }
    return NULL;
}

static void run_pairs(fixture *f, int pad)
{
    pair_ctx c = {.s = f->s};
    atomic_init(&c.stop, false);
    atomic_init(&c.reads, 0);
    atomic_init(&c.bad, 0);
    atomic_init(&c.max_seen, 0);
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reader_main, &c), 0);
    for (uint32_t n = 0; n < PAIR_ROUNDS; n++) {
        pair_write w = {n, pad};
        assert_int_equal(store_update(f->s, pair_fn, &w), STORE_OK);
    }
    /* Let the readers catch the last round. */
    for (int spin = 0; spin < 2000 && atomic_load(&c.max_seen) < PAIR_ROUNDS - 1; spin++)
        usleep(1000);
    atomic_store(&c.stop, true);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&c.bad), 0);
    assert_true(atomic_load(&c.reads) > 0);
    assert_int_equal(atomic_load(&c.max_seen), PAIR_ROUNDS - 1);
}

static void test_readers_see_snapshots(void **state)
{
    fixture *f = *state;
    open_or_fail(f);
    run_pairs(f, 16);
}

/* The same while the writer grows the map under the readers (about 9 MB into 256 KB). */
static void test_readers_during_map_growth(void **state)
{
    fixture *f = *state;
    setenv("JEJAK_MAP_SIZE", "262144", 1);
    open_or_fail(f);
    size_t before = store_map_size(f->s);
    run_pairs(f, 30000);
    assert_true(store_map_size(f->s) > before);
}

static void *write_once(void *arg)
{
    store *s = arg;
    pair_write w = {7, 0};
    int rc = store_update(s, pair_fn, &w);
    return (void *)(intptr_t)rc;
}

/* A read transaction keeps seeing what it saw at its start while another thread commits. */
static void test_read_is_a_snapshot(void **state)
{
    fixture *f = *state;
    open_or_fail(f);
    pair_write w0 = {1, 0};
    assert_int_equal(store_update(f->s, pair_fn, &w0), STORE_OK);

    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    store_val v = {NULL, 0};
    assert_int_equal(store_get(t, STORE_DB_META, "pa", 2, &v), STORE_OK);
    assert_int_equal(be32_get(v.data), 1);

    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, write_once, f->s), 0);
    void *ret;
    pthread_join(th, &ret);
    assert_int_equal((int)(intptr_t)ret, STORE_OK);

    assert_int_equal(store_get(t, STORE_DB_META, "pa", 2, &v), STORE_OK);
    assert_int_equal(be32_get(v.data), 1);
    store_read_end(t);

    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    assert_int_equal(store_get(t, STORE_DB_META, "pa", 2, &v), STORE_OK);
    assert_int_equal(be32_get(v.data), 7);
    assert_int_equal(store_get(t, STORE_DB_META, "pb", 2, &v), STORE_OK);
    assert_int_equal(be32_get(v.data), 7);
    store_read_end(t);
}

/* ---- registry -------------------------------------------------------------------------- */

static void make_influencer(rec_influencer *r, const char *id, uint64_t followers)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s", id);
    snprintf(r->name, sizeof(r->name), "Name of %s", id);
    snprintf(r->platform, sizeof(r->platform), "instagram");
    snprintf(r->handle, sizeof(r->handle), "@%s", id);
    r->followers = followers;
    r->created_ms = 1795168800000LL + (int64_t)followers;
}

static void make_link(rec_link *r, const char *slug)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->slug, sizeof(r->slug), "%s", slug);
    snprintf(r->dest, sizeof(r->dest), "https://shop.example/p?x=%s", slug);
    snprintf(r->influencer, sizeof(r->influencer), "ayu");
    snprintf(r->campaign, sizeof(r->campaign), "promo-1111");
    snprintf(r->utm_source, sizeof(r->utm_source), "instagram");
    snprintf(r->utm_medium, sizeof(r->utm_medium), "influencer");
    snprintf(r->utm_campaign, sizeof(r->utm_campaign), "promo-1111");
    snprintf(r->utm_content, sizeof(r->utm_content), "story-%s", slug);
    snprintf(r->utm_term, sizeof(r->utm_term), "shoes");
    r->created_ms = 1795168800000LL;
}

typedef struct {
    int rc[12];
} reg_results;

static int reg_fill(store_txn *t, void *ctx)
{
    reg_results *r = ctx;
    rec_influencer i;
    make_influencer(&i, "rina", 5000);
    r->rc[0] = reg_put_influencer(t, &i);
    make_influencer(&i, "ayu", 12000);
    r->rc[1] = reg_put_influencer(t, &i);
    make_influencer(&i, "ayu", 1);
    r->rc[2] = reg_put_influencer(t, &i); /* taken */
    rec_campaign c;
    memset(&c, 0, sizeof(c));
    strcpy(c.id, "promo-1111");
    strcpy(c.name, "11.11 sale");
    strcpy(c.start, "2026-11-01");
    strcpy(c.end, "2026-11-12");
    c.created_ms = 99;
    r->rc[3] = reg_put_campaign(t, &c);
    r->rc[4] = reg_put_campaign(t, &c);
    rec_link l;
    make_link(&l, "x2");
    r->rc[5] = reg_put_link(t, &l);
    make_link(&l, "x1");
    r->rc[6] = reg_put_link(t, &l);
    r->rc[7] = reg_put_link(t, &l);
    make_link(&l, "bad");
    memset(l.utm_term, 't', sizeof(l.utm_term)); /* longer than its field */
    r->rc[8] = reg_put_link(t, &l);
    return STORE_OK;
}

typedef struct {
    char ids[8][REC_ID];
    int n, stop_at;
} id_list;

static int list_influencer(const rec_influencer *r, void *ctx)
{
    id_list *l = ctx;
    snprintf(l->ids[l->n++], REC_ID, "%s", r->id);
    return l->n == l->stop_at ? 5 : 0;
}

static int list_campaign(const rec_campaign *r, void *ctx)
{
    id_list *l = ctx;
    snprintf(l->ids[l->n++], REC_ID, "%s", r->id);
    return 0;
}

static int list_link(const rec_link *r, void *ctx)
{
    id_list *l = ctx;
    snprintf(l->ids[l->n++], REC_ID, "%s", r->slug);
    return 0;
}

static void test_registry_records(void **state)
{
    fixture *f = *state;
    open_or_fail(f);
    reg_results r;
    memset(&r, 0x7f, sizeof(r));
    assert_int_equal(store_update(f->s, reg_fill, &r), STORE_OK);
    assert_int_equal(r.rc[0], STORE_OK);
    assert_int_equal(r.rc[1], STORE_OK);
    assert_int_equal(r.rc[2], STORE_EXISTS);
    assert_int_equal(r.rc[3], STORE_OK);
    assert_int_equal(r.rc[4], STORE_EXISTS);
    assert_int_equal(r.rc[5], STORE_OK);
    assert_int_equal(r.rc[6], STORE_OK);
    assert_int_equal(r.rc[7], STORE_EXISTS);
    assert_int_equal(r.rc[8], STORE_CORRUPT);

    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    rec_influencer i;
    assert_int_equal(reg_get_influencer(t, "ayu", &i), STORE_OK);
    assert_string_equal(i.id, "ayu");
    assert_string_equal(i.name, "Name of ayu");
    assert_string_equal(i.platform, "instagram");
    assert_string_equal(i.handle, "@ayu");
    assert_true(i.followers == 12000); /* the first put, not the refused one */
    assert_true(i.created_ms == 1795168812000LL);
    assert_int_equal(reg_get_influencer(t, "nobody", &i), STORE_NOTFOUND);
    assert_int_equal(reg_get_influencer(t, "ay", &i), STORE_NOTFOUND);

    rec_campaign c;
    assert_int_equal(reg_get_campaign(t, "promo-1111", &c), STORE_OK);
    assert_string_equal(c.name, "11.11 sale");
    assert_string_equal(c.start, "2026-11-01");
    assert_string_equal(c.end, "2026-11-12");
    assert_true(c.created_ms == 99);
    assert_int_equal(reg_get_campaign(t, "rina", &c), STORE_NOTFOUND);

    rec_link l, want;
    assert_int_equal(reg_get_link(t, "x1", &l), STORE_OK);
    make_link(&want, "x1");
    assert_string_equal(l.dest, want.dest);
    assert_string_equal(l.influencer, "ayu");
    assert_string_equal(l.campaign, "promo-1111");
    assert_string_equal(l.utm_source, "instagram");
    assert_string_equal(l.utm_medium, "influencer");
    assert_string_equal(l.utm_campaign, "promo-1111");
    assert_string_equal(l.utm_content, "story-x1");
    assert_string_equal(l.utm_term, "shoes");
    assert_true(l.created_ms == want.created_ms);
    assert_int_equal(reg_get_link(t, "bad", &l), STORE_NOTFOUND);

    id_list list = {.n = 0};
    assert_int_equal(reg_each_influencer(t, list_influencer, &list), STORE_OK);
    assert_int_equal(list.n, 2);
    assert_string_equal(list.ids[0], "ayu");
    assert_string_equal(list.ids[1], "rina");
    list = (id_list){.n = 0, .stop_at = 1};
    assert_int_equal(reg_each_influencer(t, list_influencer, &list), 5);
    assert_int_equal(list.n, 1);
    list = (id_list){.n = 0};
    assert_int_equal(reg_each_campaign(t, list_campaign, &list), STORE_OK);
    assert_int_equal(list.n, 1);
    assert_string_equal(list.ids[0], "promo-1111");
    list = (id_list){.n = 0};
    assert_int_equal(reg_each_link(t, list_link, &list), STORE_OK);
    assert_int_equal(list.n, 2);
    assert_string_equal(list.ids[0], "x1");
    assert_string_equal(list.ids[1], "x2");
    store_read_end(t);
}

static int put_garbage_link(store_txn *t, void *ctx)
{
    (void)ctx;
    return store_put(t, STORE_DB_LINKS, "zz", 2, "\x02garbage", 8, 0);
}

/* A value that does not decode is reported as corrupt, by get and by each. */
static void test_registry_corrupt_record(void **state)
{
    fixture *f = *state;
    open_or_fail(f);
    reg_results r;
    assert_int_equal(store_update(f->s, reg_fill, &r), STORE_OK);
    assert_int_equal(store_update(f->s, put_garbage_link, NULL), STORE_OK);
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    rec_link l;
    assert_int_equal(reg_get_link(t, "zz", &l), STORE_CORRUPT);
    id_list list = {.n = 0};
    assert_int_equal(reg_each_link(t, list_link, &list), STORE_CORRUPT);
    assert_int_equal(list.n, 2); /* x1, x2 came before it */
    store_read_end(t);
}

/* ---- registry: clicks and visits ------------------------------------------------------- */

static const uint8_t VIS_A[16] = {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                  0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11};
static const uint8_t VIS_B[16] = {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                  0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x12};
static const uint8_t VIS_0[16] = {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                  0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x10};

enum { NCLICKS = 12 };
static const int64_t T0 = 1795168800000LL; /* 2026-11-20T10:00:00Z */

/* Click i: at T0 + i s; visitor A for even i, B for odd; every 4th (i % 4 == 2) a bot. */
static void make_click(rec_click *k, int i)
{
    memset(k, 0, sizeof(*k));
    k->ts_ms = T0 + i * 1000;
    /* id: the time prefix of the id, then i, so that id order is time order */
    uint64_t t = (uint64_t)k->ts_ms;
    for (int b = 5; b >= 0; b--, t >>= 8)
        k->id[b] = (uint8_t)t;
    k->id[15] = (uint8_t)i;
    snprintf(k->link, sizeof(k->link), "x%d", i % 3);
    memcpy(k->visitor, i % 2 ? VIS_B : VIS_A, 16);
    k->ip_family = 4;
    k->ip[0] = 10;
    k->ip[3] = (uint8_t)i;
    k->device = i % 4 == 2 ? REC_DEVICE_BOT : REC_DEVICE_MOBILE;
    k->flags = i % 4 == 2 ? REC_CLICK_BOT : 0;
    snprintf(k->referrer, sizeof(k->referrer), "l.instagram.com");
    snprintf(k->lang, sizeof(k->lang), "id-ID");
}

typedef struct {
    int idx[64];
    int n;
    int stop_at;
} click_list;

static int list_click(const rec_click *k, void *ctx)
{
    click_list *l = ctx;
    int i = k->id[15];
    rec_click want;
    make_click(&want, i);
    assert_true(k->ts_ms == want.ts_ms);
    assert_string_equal(k->link, want.link);
    assert_memory_equal(k->visitor, want.visitor, 16);
    assert_memory_equal(k->ip, want.ip, 16);
    assert_int_equal(k->device, want.device);
    assert_string_equal(k->lang, "id-ID");
    l->idx[l->n++] = i;
    return l->n == l->stop_at ? 9 : 0;
}

static int put_clicks_raw(store_txn *t, void *ctx)
{
    int *order = ctx; /* puts in this order, -1 terminated */
    for (int j = 0; order[j] >= 0; j++) {
        rec_click k;
        make_click(&k, order[j]);
        int rc = reg_put_click(t, &k);
        if (rc)
            return rc;
    }
    return STORE_OK;
}

static void test_registry_clicks_since(void **state)
{
    fixture *f = *state;
    open_or_fail(f);
    /* Out of time order on purpose: the append falls back to an ordinary put. */
    int order[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, -1};
    int late[] = {5, -1};
    order[5] = 11;
    order[11] = -1;
    assert_int_equal(store_update(f->s, put_clicks_raw, order), STORE_OK);
    assert_int_equal(store_update(f->s, put_clicks_raw, late), STORE_OK);

    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    assert_int_equal(store_count(t, STORE_DB_CLICKS), NCLICKS);

    click_list l = {.n = 0};
    assert_int_equal(reg_each_click(t, 0, list_click, &l), STORE_OK);
    assert_int_equal(l.n, NCLICKS);
    for (int i = 0; i < NCLICKS; i++)
        assert_int_equal(l.idx[i], i);

    l = (click_list){.n = 0};
    assert_int_equal(reg_each_click(t, T0 + 5000, list_click, &l), STORE_OK);
    assert_int_equal(l.n, 7);
    for (int i = 0; i < 7; i++)
        assert_int_equal(l.idx[i], 5 + i);

    l = (click_list){.n = 0};
    assert_int_equal(reg_each_click(t, T0 + 4999, list_click, &l), STORE_OK);
    assert_int_equal(l.n, 7);
    assert_int_equal(l.idx[0], 5);

    l = (click_list){.n = 0};
    assert_int_equal(reg_each_click(t, T0 + 5001, list_click, &l), STORE_OK);
    assert_int_equal(l.n, 6);
    assert_int_equal(l.idx[0], 6);

    l = (click_list){.n = 0};
    assert_int_equal(reg_each_click(t, T0 + 60000, list_click, &l), STORE_OK);
    assert_int_equal(l.n, 0);

    l = (click_list){.n = 0};
    assert_int_equal(reg_each_click(t, -5, list_click, &l), STORE_OK);
    assert_int_equal(l.n, NCLICKS);

    l = (click_list){.n = 0, .stop_at = 3};
    assert_int_equal(reg_each_click(t, T0, list_click, &l), 9);
    assert_int_equal(l.n, 3);

    /* From an id: inclusive. */
    rec_click k;
    make_click(&k, 8);
    l = (click_list){.n = 0};
    assert_int_equal(reg_each_click_from(t, k.id, list_click, &l), STORE_OK);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.idx[0], 8);

    rec_click got;
    assert_int_equal(reg_get_click(t, k.id, &got), STORE_OK);
    assert_true(got.ts_ms == k.ts_ms);
    assert_int_equal(got.flags, 0);
    k.id[15] = 99;
    assert_int_equal(reg_get_click(t, k.id, &got), STORE_NOTFOUND);
    store_read_end(t);
}

static int put_clicks_twice(store_txn *t, void *ctx)
{
    int *rc2 = ctx;
    rec_click k;
    make_click(&k, 3);
    int rc = reg_put_click(t, &k);
    if (rc)
        return rc;
    *rc2 = reg_put_click(t, &k);
    return STORE_OK;
}

static void test_registry_click_no_overwrite(void **state)
{
    fixture *f = *state;
    open_or_fail(f);
    int rc2 = 0;
    assert_int_equal(store_update(f->s, put_clicks_twice, &rc2), STORE_OK);
    assert_int_equal(rc2, STORE_EXISTS);
}

typedef struct {
    clicks *c;
    int n;
} visit_fill;

static int fill_visits(store_txn *t, void *ctx)
{
    visit_fill *v = ctx;
    for (int i = v->n - 1; i >= 0; i--) { /* newest first: the index sorts them */
        rec_click k;
        make_click(&k, i);
        bool decided = false;
        int rc = clicks_put(v->c, t, &k, &decided);
        if (rc)
            return rc;
    }
    return clicks_flush_visits(v->c, t, true);
}

static void test_registry_visits(void **state)
{
    fixture *f = *state;
    open_or_fail(f);
    clicks *c = NULL;
    assert_int_equal(clicks_open(&c, f->s, NULL), STORE_OK);
    visit_fill v = {c, NCLICKS};
    int rc = store_update(f->s, fill_visits, &v);
    clicks_committed(c, rc);
    assert_int_equal(rc, STORE_OK);

    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    /* A: clicks 0, 4, 8 (2, 6, 10 are bots). */
    assert_int_equal(store_count(t, STORE_DB_VISITS), 9);
    click_list l = {.n = 0};
    assert_int_equal(reg_each_visit(t, VIS_A, 0, INT64_MAX, list_click, &l), STORE_OK);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.idx[0], 0);
    assert_int_equal(l.idx[1], 4);
    assert_int_equal(l.idx[2], 8);
    /* B: every odd click, none a bot. */
    l = (click_list){.n = 0};
    assert_int_equal(reg_each_visit(t, VIS_B, 0, INT64_MAX, list_click, &l), STORE_OK);
    assert_int_equal(l.n, 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(l.idx[i], 2 * i + 1);
    /* Bounds are inclusive on both ends. */
    l = (click_list){.n = 0};
    assert_int_equal(reg_each_visit(t, VIS_B, T0 + 3000, T0 + 7000, list_click, &l), STORE_OK);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.idx[0], 3);
    assert_int_equal(l.idx[2], 7);
    l = (click_list){.n = 0};
    assert_int_equal(reg_each_visit(t, VIS_B, T0 + 3001, T0 + 6999, list_click, &l), STORE_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.idx[0], 5);
    l = (click_list){.n = 0};
    assert_int_equal(reg_each_visit(t, VIS_A, -100, T0, list_click, &l), STORE_OK);
    assert_int_equal(l.n, 1);
    l = (click_list){.n = 0};
    assert_int_equal(reg_each_visit(t, VIS_A, T0 + 1, T0 - 1, list_click, &l), STORE_OK);
    assert_int_equal(l.n, 0);
    /* A visitor just before A, or with no clicks, sees nothing. */
    l = (click_list){.n = 0};
    assert_int_equal(reg_each_visit(t, VIS_0, 0, INT64_MAX, list_click, &l), STORE_OK);
    assert_int_equal(l.n, 0);
    /* fn's non-zero result stops the walk and is returned. */
    l = (click_list){.n = 0, .stop_at = 2};
    assert_int_equal(reg_each_visit(t, VIS_B, 0, INT64_MAX, list_click, &l), 9);
    assert_int_equal(l.n, 2);
    store_read_end(t);
    clicks_free(c);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_open_creates_dir),
        T(test_open_refuses_missing_parent),
        T(test_open_refuses_a_file),
        T(test_open_existing_creates_nothing),
        T(test_schema_newer_refused),
        T(test_schema_big_version_refused),
        T(test_schema_malformed_refused),
        T(test_put_get_del_each_count),
        T(test_put_flags),
        T(test_update_error_leaves_nothing),
        T(test_map_grows),
        T(test_readers_see_snapshots),
        T(test_readers_during_map_growth),
        T(test_read_is_a_snapshot),
        T(test_registry_records),
        T(test_registry_corrupt_record),
        T(test_registry_clicks_since),
        T(test_registry_click_no_overwrite),
        T(test_registry_visits),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
