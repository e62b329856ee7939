/*
 * test_writer.c: the group-commit writer (storage/writer.c) on a fresh store, alone and
 * with the click path's hooks (storage/clicks.c) as the daemon runs it: a job that fails
 * writes nothing and fails alone (the other jobs of its batch and every later batch
 * commit), an undecodable rollup row fails only the clicks that count into it, and
 * writer_stop runs every submitted job's done().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/tmpstore.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/clicks.h"
#include "storage/id.h"
#include "storage/registry.h"
#include "storage/rollup.h"
#include "storage/store.h"
#include "storage/text.h"
#include "storage/writer.h"

typedef struct {
    char tmp[64];
    store *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->tmp, sizeof(f->tmp), "/tmp/jejak-test-writer-XXXXXX");
    char err[512] = "";
    if (!mkdtemp(f->tmp) || store_open(&f->s, f->tmp, err, sizeof(err)) != STORE_OK) {
        fprintf(stderr, "store_open: %s\n", err);
        tmpstore_remove(f->tmp);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->s);
    tmpstore_remove(f->tmp);
    free(f);
    return 0;
}

/* ---- plain jobs: each puts one META key, or fails -------------------------------------- */

typedef struct {
    writer_job job; /* first */
    char key[32];
    int fail; /* returned after writing nothing, 0 = succeed */
    atomic_int done_calls;
    int done_rc;
    /* A gate: apply waits here until opened, so that jobs submitted meanwhile queue up and
     * go into one batch together. */
    bool gate;
    pthread_mutex_t *lock;
    pthread_cond_t *cond;
    bool *entered, *open;
} test_job;

static int job_apply(store_txn *t, writer_job *job)
{
    test_job *j = (test_job *)job;
    if (j->gate) {
        pthread_mutex_lock(j->lock);
        *j->entered = true;
        pthread_cond_broadcast(j->cond);
        while (!*j->open)
            pthread_cond_wait(j->cond, j->lock);
        pthread_mutex_unlock(j->lock);
    }
    if (j->fail)
        return j->fail;
    return store_put(t, STORE_DB_META, j->key, strlen(j->key), "v", 1, 0);
}

static void job_done(writer_job *job, int rc)
{
    test_job *j = (test_job *)job;
    j->done_rc = rc;
    atomic_fetch_add(&j->done_calls, 1);
}

static void job_init(test_job *j, const char *key, int fail)
{
    memset(j, 0, sizeof(*j));
    j->job.apply = job_apply;
    j->job.done = job_done;
    snprintf(j->key, sizeof(j->key), "%s", key);
    j->fail = fail;
}

static bool has_key(fixture *f, const char *key)
{
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    store_val v;
    int rc = store_get(t, STORE_DB_META, key, strlen(key), &v);
    store_read_end(t);
    return rc == STORE_OK;
}

/* A gate job is submitted and waited for; returns once the writer is inside its apply. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool entered, open;
    test_job job;
} gate;

static void gate_start(gate *g, writer *w)
{
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
    g->entered = g->open = false;
    job_init(&g->job, "gate", 0);
    g->job.gate = true;
    g->job.lock = &g->lock;
    g->job.cond = &g->cond;
    g->job.entered = &g->entered;
    g->job.open = &g->open;
    writer_submit(w, &g->job.job);
    pthread_mutex_lock(&g->lock);
    while (!g->entered)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static void gate_open(gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

static void gate_end(gate *g)
{
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
}

static void test_failing_job_fails_alone(void **state)
{
    fixture *f = *state;
    writer *w;
    assert_int_equal(writer_start(&w, f->s, NULL), STORE_OK);
    gate g;
    gate_start(&g, w);
    /* One batch: a, bad, c (queued while the gate's batch is applied). */
    test_job a, bad, c, later;
    job_init(&a, "a", 0);
    job_init(&bad, "bad", STORE_CORRUPT);
    job_init(&c, "c", 0);
    writer_submit(w, &a.job);
    writer_submit(w, &bad.job);
    writer_submit(w, &c.job);
    gate_open(&g);
    writer_stop(w);
    assert_int_equal(a.done_rc, STORE_OK);
    assert_int_equal(bad.done_rc, STORE_CORRUPT);
    assert_int_equal(c.done_rc, STORE_OK);
    assert_true(has_key(f, "a") && has_key(f, "c"));
    assert_false(has_key(f, "bad"));
    /* A later batch. */
    assert_int_equal(writer_start(&w, f->s, NULL), STORE_OK);
    job_init(&later, "later", 0);
    writer_submit(w, &later.job);
    writer_stop(w);
    assert_int_equal(later.done_rc, STORE_OK);
    assert_true(has_key(f, "later"));
    gate_end(&g);
}

/* writer_stop applies everything already submitted: every job's done() runs once. */
static void test_stop_drains(void **state)
{
    fixture *f = *state;
    enum { N = 10000 };
    test_job *jobs = calloc(N, sizeof(*jobs));
    assert_non_null(jobs);
    writer *w;
    assert_int_equal(writer_start(&w, f->s, NULL), STORE_OK);
    for (int i = 0; i < N; i++) {
        char key[32];
        snprintf(key, sizeof(key), "k%05d", i);
        job_init(&jobs[i], key, i % 97 == 0 ? STORE_IO : 0);
        writer_submit(w, &jobs[i].job);
    }
    writer_stop(w);
    for (int i = 0; i < N; i++) {
        assert_int_equal(atomic_load(&jobs[i].done_calls), 1);
        assert_int_equal(jobs[i].done_rc, i % 97 == 0 ? STORE_IO : STORE_OK);
    }
    assert_true(has_key(f, "k00001") && has_key(f, "k09999"));
    assert_false(has_key(f, "k00000"));
    free(jobs);
}

/* ---- clicks through the writer, as the daemon submits them ----------------------------- */

typedef struct {
    writer_job job; /* first */
    clicks *c;
    rec_click click;
    bool decided;
    int done_rc;
    atomic_int done_calls;
} click_job;

static int click_apply(store_txn *t, writer_job *job)
{
    click_job *j = (click_job *)job;
    return clicks_put(j->c, t, &j->click, &j->decided);
}

static void click_done(writer_job *job, int rc)
{
    click_job *j = (click_job *)job;
    j->done_rc = rc;
    atomic_fetch_add(&j->done_calls, 1);
}

static void hook_begin(void *ctx)
{
    clicks_begin(ctx);
}

static int hook_flush(store_txn *t, void *ctx, bool stopping)
{
    return clicks_flush_visits(ctx, t, stopping);
}

static void hook_committed(void *ctx, int rc)
{
    clicks_committed(ctx, rc);
}

static void click_init(click_job *j, clicks *c, const char *link, int64_t ts, uint8_t who)
{
    memset(j, 0, sizeof(*j));
    j->job.apply = click_apply;
    j->job.done = click_done;
    j->c = c;
    id_click_new(j->click.id, ts);
    j->click.ts_ms = ts;
    snprintf(j->click.link, sizeof(j->click.link), "%s", link);
    memset(j->click.visitor, who, 16);
    j->click.device = REC_DEVICE_DESKTOP;
    snprintf(j->click.lang, sizeof(j->click.lang), "en");
}

typedef struct {
    const char *link;
    uint64_t clicks;
} row_sum;

static int sum_row(int64_t bucket_ms, rollup_kind kind, const char *name, const char *name2,
                   const rollup_row *row, void *ctx)
{
    (void)bucket_ms;
    (void)kind;
    (void)name2;
    row_sum *x = ctx;
    if (!strcmp(name, x->link))
        x->clicks += row->clicks;
    return 0;
}

static uint64_t rollup_clicks(fixture *f, const char *link, int64_t ts)
{
    row_sum x = {link, 0};
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    int64_t day = ts - ts % 86400000; /* the day rows: the bad row is a quarter hour */
    assert_int_equal(rollup_scan_days(t, day, day + 1, sum_row, &x), STORE_OK);
    store_read_end(t);
    return x.clicks;
}

static bool click_stored(fixture *f, const rec_click *k)
{
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    rec_click got;
    int rc = reg_get_click(t, k->id, &got);
    store_read_end(t);
    return rc == STORE_OK;
}

static int plant_bad_row(store_txn *t, void *ctx)
{
    const int64_t *ts = ctx;
    uint32_t b = (uint32_t)(*ts / ROLLUP_BUCKET_MS);
    uint8_t key[8] = {(uint8_t)(b >> 24),
                      (uint8_t)(b >> 16),
                      (uint8_t)(b >> 8),
                      (uint8_t)b,
                      ROLLUP_LINK,
                      'b',
                      'a',
                      'd'};
    return store_put(t, STORE_DB_ROLLUPS, key, sizeof(key), "\x7f garbage", 9, 0);
}

static void test_bad_rollup_row_fails_its_clicks_only(void **state)
{
    fixture *f = *state;
    int64_t now = text_now_ms();
    int64_t ts = now - now % ROLLUP_BUCKET_MS; /* every click in one quarter hour */
    assert_int_equal(store_update(f->s, plant_bad_row, &ts), STORE_OK);
    clicks *c;
    assert_int_equal(clicks_open(&c, f->s, NULL), STORE_OK);
    writer_hooks hooks = {hook_begin, hook_flush, hook_committed, c};
    writer *w;
    assert_int_equal(writer_start(&w, f->s, &hooks), STORE_OK);

    gate g;
    gate_start(&g, w);
    click_job k[4];
    click_init(&k[0], c, "good", ts, 1);
    click_init(&k[1], c, "bad", ts + 1, 2);
    click_init(&k[2], c, "good", ts + 2, 3);
    for (int i = 0; i < 3; i++)
        writer_submit(w, &k[i].job);
    gate_open(&g);
    /* A later batch, once those are done. */
    while (atomic_load(&k[2].done_calls) == 0)
        ;
    click_init(&k[3], c, "good", ts + 3, 4);
    writer_submit(w, &k[3].job);
    writer_stop(w);
    clicks_free(c);
    gate_end(&g);

    assert_int_equal(k[1].done_rc, STORE_CORRUPT);
    assert_false(click_stored(f, &k[1].click)); /* a failed job writes nothing */
    for (int i = 0; i < 4; i += 1 + (i == 0)) {
        assert_int_equal(k[i].done_rc, STORE_OK);
        assert_true(click_stored(f, &k[i].click));
    }
    assert_int_equal(rollup_clicks(f, "good", ts), 3);
    /* The failed click left no visits entry behind (it would point at no click). */
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    assert_int_equal(store_count(t, STORE_DB_VISITS), 3);
    store_read_end(t);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_failing_job_fails_alone),
        T(test_stop_drains),
        T(test_bad_rollup_row_fails_its_clicks_only),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
