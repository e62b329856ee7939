/*
 * test_clicks.c: the click write path (storage/clicks.c) on a fresh store: the unique
 * decision per (visitor, link, UTC day), the `decided` flag across a batch retry, the
 * visits index written by clicks_flush_visits, and what clicks_open rebuilds after a
 * restart or a crash (the unique set, and visits entries that were never flushed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/tmpstore.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribution/tz.h"
#include "storage/clicks.h"
#include "storage/id.h"
#include "storage/registry.h"
#include "storage/rollup.h"
#include "storage/store.h"
#include "storage/text.h"

enum { DAY = 86400000 };

typedef struct {
    char tmp[64];
    store *s;
    clicks *c;
    int64_t today; /* 00:00 UTC of the current day, in ms */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->tmp, sizeof(f->tmp), "/tmp/jejak-test-clicks-XXXXXX");
    if (!mkdtemp(f->tmp)) {
        free(f);
        return -1;
    }
    char err[512] = "";
    if (store_open(&f->s, f->tmp, err, sizeof(err)) != STORE_OK) {
        fprintf(stderr, "store_open: %s\n", err);
        tmpstore_remove(f->tmp);
        free(f);
        return -1;
    }
    f->today = text_now_ms() / DAY * DAY;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    clicks_free(f->c);
    store_close(f->s);
    tmpstore_remove(f->tmp);
    free(f);
    return 0;
}

static void open_clicks(fixture *f)
{
    assert_int_equal(clicks_open(&f->c, f->s, tz_day_bounds), STORE_OK);
    assert_non_null(f->c);
}

/* A simulated restart (or crash: whatever was queued and not flushed is dropped). */
static void restart(fixture *f)
{
    clicks_free(f->c);
    f->c = NULL;
    open_clicks(f);
}

/* ---- building and writing clicks ------------------------------------------------------- */

static const uint8_t VIS_A[16] = {0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t VIS_B[16] = {0xb0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t VIS_C[16] = {0xc0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t VIS_D[16] = {0xd0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static rec_click click(const uint8_t visitor[16], const char *link, int64_t ts, bool bot)
{
    rec_click k;
    memset(&k, 0, sizeof(k));
    id_click_new(k.id, ts);
    k.ts_ms = ts;
    snprintf(k.link, sizeof(k.link), "%s", link);
    memcpy(k.visitor, visitor, 16);
    k.ip_family = 4;
    k.ip[0] = 192;
    k.ip[1] = 168;
    k.device = bot ? REC_DEVICE_BOT : REC_DEVICE_DESKTOP;
    k.flags = bot ? REC_CLICK_BOT : 0;
    snprintf(k.lang, sizeof(k.lang), "en");
    return k;
}

enum { MAX_BATCH = 32 };

/* One writer transaction: clicks_put each click, then optionally a forced flush. */
typedef struct {
    clicks *c;
    rec_click *k;
    bool decided[MAX_BATCH];
    int n;
    bool flush;
    int fail_after; /* return this error after the puts (and the flush), 0 never */
    int full_once;  /* return STORE_FULL on the first run, to make store_update retry */
    int runs;
} batch;

static int batch_fn(store_txn *t, void *ctx)
{
    batch *b = ctx;
    b->runs++;
    clicks_begin(b->c); /* as the writer does before every attempt */
    for (int i = 0; i < b->n; i++) {
        int rc = clicks_put(b->c, t, &b->k[i], &b->decided[i]);
        if (rc)
            return rc;
    }
    if (b->flush) {
        int rc = clicks_flush_visits(b->c, t, true);
        if (rc)
            return rc;
    }
    if (b->full_once && b->runs == 1)
        return STORE_FULL;
    return b->fail_after;
}

/* Writes the clicks as the writer does: the batch, its commit, then clicks_committed. */
static int write_batch(fixture *f, rec_click *k, int n, bool flush)
{
    assert_true(n <= MAX_BATCH);
    batch b = {.c = f->c, .k = k, .n = n, .flush = flush};
    int rc = store_update(f->s, batch_fn, &b);
    clicks_committed(f->c, rc);
    return rc;
}

static uint8_t stored_flags(fixture *f, const rec_click *k)
{
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    rec_click got;
    int rc = reg_get_click(t, k->id, &got);
    store_read_end(t);
    assert_int_equal(rc, STORE_OK);
    return got.flags;
}

static size_t count(fixture *f, store_db db)
{
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    size_t n = store_count(t, db);
    store_read_end(t);
    return n;
}

typedef struct {
    int64_t ts[64];
    char link[64][REC_ID];
    int n;
} visit_list;

static int list_visit(const rec_click *k, void *ctx)
{
    visit_list *v = ctx;
    v->ts[v->n] = k->ts_ms;
    snprintf(v->link[v->n], REC_ID, "%s", k->link);
    v->n++;
    return 0;
}

static visit_list visits_of(fixture *f, const uint8_t visitor[16])
{
    visit_list v;
    memset(&v, 0, sizeof(v));
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    assert_int_equal(reg_each_visit(t, visitor, 0, INT64_MAX, list_visit, &v), STORE_OK);
    store_read_end(t);
    return v;
}

static bool is_unique(const rec_click *k)
{
    return (k->flags & REC_CLICK_UNIQUE) != 0;
}

/* ---- unique ---------------------------------------------------------------------------- */

static void test_unique_per_visitor_link_day(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    int64_t t0 = f->today + 1000;
    rec_click k[] = {
        click(VIS_A, "x", t0, false),                 /* 0: first A/x today */
        click(VIS_A, "x", t0 + 2000, false),          /* 1: again */
        click(VIS_A, "y", t0 + 3000, false),          /* 2: another link */
        click(VIS_B, "x", t0 + 4000, false),          /* 3: another visitor */
        click(VIS_A, "x", t0 + DAY, false),           /* 4: another day */
        click(VIS_A, "x", t0 + DAY + 5000, false),    /* 5: again that day */
        click(VIS_A, "x", t0 + 6000, false),          /* 6: back to today: still not unique */
        click(VIS_D, "x", t0 + 7000, false),          /* 7: today, judged by today's set */
        click(VIS_A, "xx", t0 + 8000, false),         /* 8: a link that extends "x" */
        click(VIS_A, "X", t0 + 9000, false),          /* 9: links are case-sensitive */
        click(VIS_A, "x", f->today + DAY - 1, false), /* 10: today's last ms */
    };
    int n = (int)(sizeof(k) / sizeof(k[0]));
    /* A caller's stale unique flag is not trusted. */
    k[1].flags = REC_CLICK_UNIQUE;
    assert_int_equal(write_batch(f, k, n, false), STORE_OK);
    const bool want[] = {true, false, true, true, true, false, false, true, true, true, false};
    for (int i = 0; i < n; i++) {
        if (is_unique(&k[i]) != want[i])
            fail_msg("click %d: unique %d, want %d", i, is_unique(&k[i]), want[i]);
        assert_int_equal(stored_flags(f, &k[i]), k[i].flags);
    }
    assert_int_equal(count(f, STORE_DB_CLICKS), n);
}

static void test_unique_across_batches(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    int64_t t0 = f->today + 60000;
    rec_click a = click(VIS_A, "x", t0, false);
    assert_int_equal(write_batch(f, &a, 1, true), STORE_OK);
    assert_true(is_unique(&a));
    rec_click b = click(VIS_A, "x", t0 + 1, false);
    assert_int_equal(write_batch(f, &b, 1, false), STORE_OK);
    assert_false(is_unique(&b));
    assert_int_equal(stored_flags(f, &b), 0);
}

static void test_bot_never_unique_nor_visit(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    int64_t t0 = f->today + 2000;
    rec_click k[] = {
        click(VIS_C, "z", t0, true),         /* a bot first */
        click(VIS_C, "z", t0 + 1000, true),  /* and again */
        click(VIS_C, "z", t0 + 2000, false), /* the same visitor as a person: first */
        click(VIS_C, "z", t0 + 3000, true),
    };
    k[0].flags |= REC_CLICK_UNIQUE; /* even if the caller claims it */
    assert_int_equal(write_batch(f, k, 4, true), STORE_OK);
    assert_false(is_unique(&k[0]));
    assert_false(is_unique(&k[1]));
    assert_true(is_unique(&k[2]));
    assert_false(is_unique(&k[3]));
    assert_int_equal(stored_flags(f, &k[0]), REC_CLICK_BOT);
    assert_int_equal(stored_flags(f, &k[3]), REC_CLICK_BOT);
    visit_list v = visits_of(f, VIS_C);
    assert_int_equal(v.n, 1);
    assert_true(v.ts[0] == t0 + 2000);
    assert_int_equal(count(f, STORE_DB_VISITS), 1);
}

/* A click stamped yesterday (just before midnight, committed just after) is judged by its
 * own day: the first of its pair yesterday is unique, even when the in-memory set holds
 * only today so far. */
static void test_unique_late_click_from_yesterday(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    rec_click k[] = {
        click(VIS_A, "x", f->today + 5, false), /* today's first click */
        click(VIS_B, "x", f->today - 1, false), /* 23:59:59.999 yesterday, committed late */
        click(VIS_B, "x", f->today - 2, false), /* the same pair, same day: a repeat */
    };
    assert_int_equal(write_batch(f, k, 3, false), STORE_OK);
    assert_true(is_unique(&k[0]));
    assert_true(is_unique(&k[1]));
    assert_false(is_unique(&k[2]));
}

/* A click older than yesterday is never counted twice: not unique. */
static void test_unique_far_past_refused(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    rec_click k[] = {
        click(VIS_A, "x", f->today + 5, false),
        click(VIS_A, "x", f->today + 6 + DAY, false), /* tomorrow: yesterday is today now */
        click(VIS_B, "x", f->today - 3 * DAY, false), /* older than both sets */
    };
    assert_int_equal(write_batch(f, k, 3, false), STORE_OK);
    assert_true(is_unique(&k[0]));
    assert_true(is_unique(&k[1]));
    assert_false(is_unique(&k[2]));
}

/* ---- unique in the store's zone (config tz) --------------------------------------------- */

static int set_tz(store_txn *t, void *ctx)
{
    return reg_set_config(t, "tz", ctx);
}

/* The Jakarta day (UTC+7) of now: it starts at 17:00 UTC the UTC day before. */
static int64_t jakarta_start(void)
{
    return tz_day_start("Asia/Jakarta", tz_local_day("Asia/Jakarta", text_now_ms()));
}

static void test_unique_in_store_zone(void **state)
{
    fixture *f = *state;
    assert_int_equal(store_update(f->s, set_tz, "Asia/Jakarta"), STORE_OK);
    open_clicks(f);
    int64_t j0 = jakarta_start(); /* 00:00 in Jakarta, 17:00 UTC */
    rec_click k[] = {
        click(VIS_A, "x", j0 - 1000, false),        /* 0: 23:59:59 yesterday in Jakarta */
        click(VIS_A, "x", j0 + 1000, false),        /* 1: the same UTC day, a new Jakarta day */
        click(VIS_A, "x", j0 + 8 * 3600000, false), /* 2: the next UTC day, same Jakarta day */
        click(VIS_B, "x", j0 + 8 * 3600000, false), /* 3: another visitor */
    };
    assert_int_equal(write_batch(f, k, 4, false), STORE_OK);
    assert_true(is_unique(&k[0]));
    assert_true(is_unique(&k[1]));
    assert_false(is_unique(&k[2]));
    assert_true(is_unique(&k[3]));

    /* A restart rebuilds the set in Jakarta days. */
    restart(f);
    rec_click again = click(VIS_A, "x", j0 + 9 * 3600000, false);
    assert_int_equal(write_batch(f, &again, 1, false), STORE_OK);
    assert_false(is_unique(&again));
    rec_click late = click(VIS_C, "x", j0 - 2000, false); /* yesterday in Jakarta */
    assert_int_equal(write_batch(f, &late, 1, false), STORE_OK);
    assert_true(is_unique(&late));
}

/* The zone is read once a batch: a change applies from the next batch, without a restart. */
static void test_zone_change_applies_to_next_batch(void **state)
{
    fixture *f = *state;
    open_clicks(f); /* UTC: no zone set */
    int64_t j0 = jakarta_start();
    rec_click a = click(VIS_D, "z", j0 - 1000, false);
    rec_click b = click(VIS_D, "z", j0 + 1000, false); /* the same UTC day */
    assert_int_equal(write_batch(f, &a, 1, false), STORE_OK);
    assert_int_equal(write_batch(f, &b, 1, false), STORE_OK);
    assert_true(is_unique(&a));
    assert_false(is_unique(&b));
    assert_int_equal(store_update(f->s, set_tz, "Asia/Jakarta"), STORE_OK);
    rec_click c = click(VIS_D, "w", j0 - 1000, false);
    rec_click d = click(VIS_D, "w", j0 + 1000, false);
    assert_int_equal(write_batch(f, &c, 1, false), STORE_OK);
    assert_int_equal(write_batch(f, &d, 1, false), STORE_OK);
    assert_true(is_unique(&c));
    assert_true(is_unique(&d)); /* 00:00:01 in Jakarta: a new day there */
}

/* ---- a click that fails alone ---------------------------------------------------------- */

static int put_rollup_raw(store_txn *t, void *ctx)
{
    const rec_click *k = ctx;
    uint32_t b = (uint32_t)(k->ts_ms / ROLLUP_BUCKET_MS);
    uint8_t key[8] = {(uint8_t)(b >> 24),
                      (uint8_t)(b >> 16),
                      (uint8_t)(b >> 8),
                      (uint8_t)b,
                      ROLLUP_LINK,
                      'b',
                      'a',
                      'd'};
    if (k->flags) /* the repair */
        return store_del(t, STORE_DB_ROLLUPS, key, sizeof(key));
    return store_put(t, STORE_DB_ROLLUPS, key, sizeof(key), "\x7f garbage", 9, 0);
}

/* Each click is its own job in a batch: one whose rollup row does not decode fails with
 * STORE_CORRUPT, writes nothing and takes its decision back (its visitor's next click is
 * still the first of the day), while the others of the batch are written. */
typedef struct {
    batch b;
    int rc[MAX_BATCH];
} jobs;

static int jobs_fn(store_txn *t, void *ctx)
{
    jobs *j = ctx;
    clicks_begin(j->b.c);
    for (int i = 0; i < j->b.n; i++)
        j->rc[i] = clicks_put(j->b.c, t, &j->b.k[i], &j->b.decided[i]);
    return clicks_flush_visits(j->b.c, t, true);
}

static void test_failed_click_writes_nothing(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    int64_t t0 = f->today + 70000;
    rec_click bad = click(VIS_A, "bad", t0, false);
    assert_int_equal(store_update(f->s, put_rollup_raw, &bad), STORE_OK);
    rec_click k[] = {click(VIS_B, "x", t0 + 1, false), click(VIS_A, "bad", t0 + 2, false),
                     click(VIS_C, "x", t0 + 3, false)};
    jobs j = {.b = {.c = f->c, .k = k, .n = 3}};
    int rc = store_update(f->s, jobs_fn, &j);
    clicks_committed(f->c, rc);
    assert_int_equal(rc, STORE_OK);
    assert_int_equal(j.rc[0], STORE_OK);
    assert_int_equal(j.rc[1], STORE_CORRUPT);
    assert_int_equal(j.rc[2], STORE_OK);
    assert_int_equal(count(f, STORE_DB_CLICKS), 2);
    assert_int_equal(count(f, STORE_DB_VISITS), 2);
    assert_int_equal(visits_of(f, VIS_A).n, 0);
    /* Repaired, the visitor's next click on the link is the first of the day. */
    bad.flags = 1;
    assert_int_equal(store_update(f->s, put_rollup_raw, &bad), STORE_OK);
    rec_click again = click(VIS_A, "bad", t0 + 4, false);
    assert_int_equal(write_batch(f, &again, 1, true), STORE_OK);
    assert_true(is_unique(&again));
    assert_int_equal(visits_of(f, VIS_A).n, 1);
}

/* ---- the decided flag ------------------------------------------------------------------ */

static void test_decided_survives_retry(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    int64_t t0 = f->today + 3000;
    rec_click k[] = {click(VIS_A, "x", t0, false), click(VIS_A, "x", t0 + 1, false)};
    /* The first run decides and is thrown away (STORE_FULL): the retry keeps the decision
     * instead of finding the pair already in the set and calling the first click a repeat. */
    batch b = {.c = f->c, .k = k, .n = 2, .flush = true, .full_once = 1};
    int rc = store_update(f->s, batch_fn, &b);
    clicks_committed(f->c, rc);
    assert_int_equal(rc, STORE_OK);
    assert_int_equal(b.runs, 2);
    assert_true(b.decided[0] && b.decided[1]);
    assert_true(is_unique(&k[0]));
    assert_false(is_unique(&k[1]));
    assert_int_equal(stored_flags(f, &k[0]), REC_CLICK_UNIQUE);
    assert_int_equal(stored_flags(f, &k[1]), 0);
    /* Queued once: two visits, no duplicates. */
    visit_list v = visits_of(f, VIS_A);
    assert_int_equal(v.n, 2);
    assert_true(v.ts[0] == t0);
    assert_true(v.ts[1] == t0 + 1);
}

/* With decided already true, clicks_put keeps whatever flag the click carries. */
static void test_decided_keeps_flag(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    int64_t t0 = f->today + 4000;
    rec_click k[] = {
        click(VIS_A, "x", t0, false),     /* decided: not unique, though it is the first */
        click(VIS_A, "y", t0 + 1, false), /* decided: unique */
        click(VIS_A, "x", t0 + 2, false), /* undecided: the pair was never marked: unique */
        click(VIS_A, "y", t0 + 3, false), /* undecided: first of its pair in the set */
    };
    k[1].flags = REC_CLICK_UNIQUE;
    batch b = {.c = f->c, .k = k, .n = 4, .flush = false};
    b.decided[0] = b.decided[1] = true;
    int rc = store_update(f->s, batch_fn, &b);
    clicks_committed(f->c, rc);
    assert_int_equal(rc, STORE_OK);
    assert_int_equal(k[0].flags, 0);
    assert_int_equal(k[1].flags, REC_CLICK_UNIQUE);
    assert_int_equal(stored_flags(f, &k[0]), 0);
    assert_int_equal(stored_flags(f, &k[1]), REC_CLICK_UNIQUE);
    assert_true(is_unique(&k[2]));
    assert_true(is_unique(&k[3]));

    /* The same click again, decided: the flag is unchanged, and the record is not
     * overwritten (click ids are never reused). */
    bool decided = true;
    rec_click again = k[1];
    batch b2 = {.c = f->c, .k = &again, .n = 1};
    b2.decided[0] = decided;
    rc = store_update(f->s, batch_fn, &b2);
    clicks_committed(f->c, rc);
    assert_int_equal(rc, STORE_EXISTS);
    assert_int_equal(again.flags, REC_CLICK_UNIQUE);
    assert_int_equal(stored_flags(f, &k[1]), REC_CLICK_UNIQUE);
}

/* ---- visits ---------------------------------------------------------------------------- */

static void test_flush_visits_in_time_order(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    int64_t t0 = f->today + 10000;
    rec_click k[] = {
        click(VIS_A, "y", t0 + 3000, false), click(VIS_B, "x", t0 + 500, false),
        click(VIS_A, "x", t0 + 1000, false), click(VIS_A, "z", t0 + 2000, true),
        click(VIS_A, "x", t0, false),        click(VIS_A, "w", t0 + 4000, false),
    };
    /* The clicks first, their visits only queued. */
    assert_int_equal(write_batch(f, k, 6, false), STORE_OK);
    assert_int_equal(count(f, STORE_DB_CLICKS), 6);

    /* Forced: every queued entry lands, in time order per visitor, bots left out. */
    batch fl = {.c = f->c, .n = 0, .flush = true};
    int rc = store_update(f->s, batch_fn, &fl);
    clicks_committed(f->c, rc);
    assert_int_equal(rc, STORE_OK);
    visit_list v = visits_of(f, VIS_A);
    assert_int_equal(v.n, 4);
    const int64_t want_ts[] = {t0, t0 + 1000, t0 + 3000, t0 + 4000};
    const char *want_link[] = {"x", "x", "y", "w"};
    for (int i = 0; i < 4; i++) {
        assert_true(v.ts[i] == want_ts[i]);
        assert_string_equal(v.link[i], want_link[i]);
    }
    v = visits_of(f, VIS_B);
    assert_int_equal(v.n, 1);
    assert_true(v.ts[0] == t0 + 500);
    assert_int_equal(count(f, STORE_DB_VISITS), 5);

    /* The queue was emptied by the commit: a new click and a flush add exactly one. */
    rec_click more = click(VIS_B, "x", t0 + 9000, false);
    assert_int_equal(write_batch(f, &more, 1, true), STORE_OK);
    assert_int_equal(count(f, STORE_DB_VISITS), 6);
    v = visits_of(f, VIS_B);
    assert_int_equal(v.n, 2);
    assert_true(v.ts[1] == t0 + 9000);
}

static int flush_unforced(store_txn *t, void *ctx)
{
    return clicks_flush_visits(ctx, t, false);
}

static void test_flush_unforced_waits(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    int64_t start = text_now_ms();
    rec_click k = click(VIS_A, "x", f->today + 7, false);
    assert_int_equal(write_batch(f, &k, 1, false), STORE_OK);
    int rc = store_update(f->s, flush_unforced, f->c);
    clicks_committed(f->c, rc);
    assert_int_equal(rc, STORE_OK);
    bool quick = text_now_ms() - start < 900; /* FLUSH_MS is 1000 */
    if (quick)
        assert_int_equal(count(f, STORE_DB_VISITS), 0);
    /* Forced, it lands. */
    batch fl = {.c = f->c, .n = 0, .flush = true};
    rc = store_update(f->s, batch_fn, &fl);
    clicks_committed(f->c, rc);
    assert_int_equal(rc, STORE_OK);
    assert_int_equal(count(f, STORE_DB_VISITS), 1);
}

/* A flush whose transaction fails keeps the queue: the next flush writes it. */
static void test_flush_failed_commit_keeps_queue(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    int64_t t0 = f->today + 20000;
    rec_click k[] = {click(VIS_A, "x", t0, false), click(VIS_A, "y", t0 + 1, false)};
    assert_int_equal(write_batch(f, k, 2, false), STORE_OK);

    batch fail = {.c = f->c, .n = 0, .flush = true, .fail_after = STORE_IO};
    int rc = store_update(f->s, batch_fn, &fail);
    clicks_committed(f->c, rc);
    assert_int_equal(rc, STORE_IO);
    assert_int_equal(count(f, STORE_DB_VISITS), 0);

    batch fl = {.c = f->c, .n = 0, .flush = true};
    rc = store_update(f->s, batch_fn, &fl);
    clicks_committed(f->c, rc);
    assert_int_equal(rc, STORE_OK);
    visit_list v = visits_of(f, VIS_A);
    assert_int_equal(v.n, 2);
    assert_string_equal(v.link[0], "x");
    assert_string_equal(v.link[1], "y");
}

/* A batch whose commit fails stored none of its clicks: their visits entries must leave the
 * queue, or a later flush indexes clicks that do not exist (a visitor's journey then holds
 * dangling entries: `jejak check` found one per click lost to a full disk). Entries of
 * batches that did commit stay queued. */
static void test_failed_commit_drops_its_entries(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    int64_t t0 = f->today + 30000;
    rec_click kept[] = {click(VIS_A, "x", t0, false)};
    assert_int_equal(write_batch(f, kept, 1, false), STORE_OK);

    rec_click lost[] = {click(VIS_A, "y", t0 + 1, false), click(VIS_B, "y", t0 + 2, false)};
    batch fail = {.c = f->c, .k = lost, .n = 2, .fail_after = STORE_IO};
    int rc = store_update(f->s, batch_fn, &fail);
    clicks_committed(f->c, rc);
    assert_int_equal(rc, STORE_IO);

    batch fl = {.c = f->c, .n = 0, .flush = true};
    rc = store_update(f->s, batch_fn, &fl);
    clicks_committed(f->c, rc);
    assert_int_equal(rc, STORE_OK);
    assert_int_equal(count(f, STORE_DB_VISITS), 1);
    visit_list v = visits_of(f, VIS_A);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.link[0], "x");
    assert_int_equal(visits_of(f, VIS_B).n, 0);
}

/* The writer's retry: an attempt applies the clicks, a postback forces a flush, and the
 * map fills at commit; the retry (clicks_begin again) then runs only the unforced flush of
 * the batch's end, soon after the first attempt's. Whatever the committed attempt did not
 * write must stay queued: every entry lands in the index. */
typedef struct {
    clicks *c;
    rec_click *k;
    bool decided[MAX_BATCH];
    int n, runs;
} retry_batch;

static int retry_fn(store_txn *t, void *ctx)
{
    retry_batch *b = ctx;
    b->runs++;
    clicks_begin(b->c);
    for (int i = 0; i < b->n; i++) {
        int rc = clicks_put(b->c, t, &b->k[i], &b->decided[i]);
        if (rc)
            return rc;
        if (i == 0 && b->runs == 1 && (rc = clicks_flush_visits(b->c, t, true)))
            return rc; /* a postback after the first click, on the first attempt only */
    }
    int rc = clicks_flush_visits(b->c, t, false);
    if (rc)
        return rc;
    return b->runs == 1 ? STORE_FULL : STORE_OK;
}

static void test_flush_on_retry_keeps_unwritten(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    int64_t t0 = f->today + 40000;
    rec_click k[] = {click(VIS_A, "x", t0, false), click(VIS_B, "x", t0 + 1, false),
                     click(VIS_C, "y", t0 + 2, false)};
    retry_batch b = {.c = f->c, .k = k, .n = 3};
    int rc = store_update(f->s, retry_fn, &b);
    clicks_committed(f->c, rc);
    assert_int_equal(rc, STORE_OK);
    assert_int_equal(b.runs, 2);
    /* Flushed now or queued for later: nothing is dropped. */
    batch fl = {.c = f->c, .n = 0, .flush = true};
    rc = store_update(f->s, batch_fn, &fl);
    clicks_committed(f->c, rc);
    assert_int_equal(rc, STORE_OK);
    assert_int_equal(count(f, STORE_DB_VISITS), 3);
    assert_int_equal(visits_of(f, VIS_A).n, 1);
    assert_int_equal(visits_of(f, VIS_B).n, 1);
    assert_int_equal(visits_of(f, VIS_C).n, 1);
}

/* Two forced flushes in one transaction (two postbacks in a batch): the second writes only
 * what the first did not, and the commit drops exactly what both wrote. */
static int two_flushes(store_txn *t, void *ctx)
{
    retry_batch *b = ctx;
    clicks_begin(b->c);
    for (int i = 0; i < b->n; i++) {
        int rc = clicks_put(b->c, t, &b->k[i], &b->decided[i]);
        if (!rc)
            rc = clicks_flush_visits(b->c, t, true);
        if (rc)
            return rc;
    }
    return STORE_OK;
}

static void test_two_forced_flushes_in_one_batch(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    int64_t t0 = f->today + 50000;
    rec_click k[] = {click(VIS_A, "x", t0, false), click(VIS_B, "x", t0 + 1, false),
                     click(VIS_C, "x", t0 + 2, false)};
    assert_int_equal(write_batch(f, k, 1, false), STORE_OK); /* queued, not written */
    retry_batch b = {.c = f->c, .k = k + 1, .n = 2};
    int rc = store_update(f->s, two_flushes, &b);
    clicks_committed(f->c, rc);
    assert_int_equal(rc, STORE_OK);
    assert_int_equal(count(f, STORE_DB_VISITS), 3);
    /* Nothing is left queued, and nothing is written twice. */
    rec_click more = click(VIS_D, "x", t0 + 3, false);
    assert_int_equal(write_batch(f, &more, 1, true), STORE_OK);
    assert_int_equal(count(f, STORE_DB_VISITS), 4);
}

/* ---- restart and crash ----------------------------------------------------------------- */

static void test_reopen_rebuilds_unique_set(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    int64_t t0 = f->today + 30000;
    rec_click k[] = {
        click(VIS_A, "y", f->today - DAY + 5, false),              /* yesterday */
        click(VIS_A, "x", t0, false), click(VIS_C, "z", t0, true), /* a bot: never in the set */
    };
    assert_int_equal(write_batch(f, k, 3, true), STORE_OK);
    assert_true(is_unique(&k[0]));
    assert_true(is_unique(&k[1]));
    restart(f);

    rec_click n[] = {
        click(VIS_A, "x", t0 + 1000, false),          /* today, seen before the restart */
        click(VIS_B, "x", t0 + 1000, false),          /* another visitor */
        click(VIS_A, "y", f->today - DAY + 6, false), /* yesterday, seen before too */
        click(VIS_C, "z", t0 + 2000, false),          /* the bot's visitor as a person */
        click(VIS_A, "y", t0 + 3000, false),          /* y today: first today */
    };
    assert_int_equal(write_batch(f, n, 5, true), STORE_OK);
    assert_false(is_unique(&n[0]));
    assert_true(is_unique(&n[1]));
    assert_false(is_unique(&n[2]));
    assert_true(is_unique(&n[3]));
    assert_true(is_unique(&n[4]));

    /* And again: a second restart rebuilds the same set from the same table. */
    restart(f);
    rec_click m[] = {
        click(VIS_B, "x", t0 + 5000, false),
        click(VIS_C, "z", t0 + 5000, false),
        click(VIS_D, "x", t0 + 5000, false),
    };
    assert_int_equal(write_batch(f, m, 3, false), STORE_OK);
    assert_false(is_unique(&m[0]));
    assert_false(is_unique(&m[1]));
    assert_true(is_unique(&m[2]));
}

static void test_crash_before_flush_reindexes_visits(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    int64_t t0 = f->today + 40000;
    /* A first batch, flushed: it sets the watermark. */
    rec_click a[] = {click(VIS_A, "x", t0, false), click(VIS_B, "x", t0 + 100, false)};
    assert_int_equal(write_batch(f, a, 2, true), STORE_OK);
    assert_int_equal(count(f, STORE_DB_VISITS), 2);

    /* Then clicks committed but their visits only queued: the process dies. */
    rec_click b[] = {
        click(VIS_A, "y", t0 + 1000, false),
        click(VIS_A, "z", t0 + 2000, true), /* a bot: no visit */
        click(VIS_B, "y", t0 + 3000, false),
        click(VIS_A, "w", t0 + 4000, false),
    };
    assert_int_equal(write_batch(f, b, 4, false), STORE_OK);
    assert_int_equal(count(f, STORE_DB_VISITS), 2);
    assert_int_equal(count(f, STORE_DB_CLICKS), 6);
    clicks_free(f->c); /* no flush: the queue is lost */
    f->c = NULL;

    open_clicks(f);
    assert_int_equal(count(f, STORE_DB_VISITS), 5);
    visit_list v = visits_of(f, VIS_A);
    assert_int_equal(v.n, 3);
    assert_true(v.ts[0] == t0);
    assert_true(v.ts[1] == t0 + 1000);
    assert_true(v.ts[2] == t0 + 4000);
    assert_string_equal(v.link[2], "w");
    v = visits_of(f, VIS_B);
    assert_int_equal(v.n, 2);
    assert_true(v.ts[1] == t0 + 3000);

    /* Reindexing is idempotent. */
    restart(f);
    assert_int_equal(count(f, STORE_DB_VISITS), 5);
}

/* Crash before any flush at all: no watermark, every click is indexed. */
static void test_crash_without_any_flush(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    rec_click k[] = {
        click(VIS_D, "x", f->today - 5 * DAY, false), /* days old: still indexed */
        click(VIS_D, "x", f->today + 1, false),
        click(VIS_D, "x", f->today + 2, true),
    };
    assert_int_equal(write_batch(f, k, 3, false), STORE_OK);
    restart(f);
    visit_list v = visits_of(f, VIS_D);
    assert_int_equal(v.n, 2);
    assert_true(v.ts[0] == f->today - 5 * DAY);
    assert_true(v.ts[1] == f->today + 1);
}

typedef struct {
    int first, n;
    int64_t t0;
} raw_clicks;

/* Clicks stored directly (as if the visits queue had been lost), 1 in 10 a bot. */
static int put_raw(store_txn *t, void *ctx)
{
    raw_clicks *r = ctx;
    for (int i = r->first; i < r->first + r->n; i++) {
        uint8_t vis[16] = {0x77};
        vis[15] = (uint8_t)(i % 200);
        rec_click k = click(vis, "x", r->t0 + i, i % 10 == 9);
        int rc = reg_put_click(t, &k);
        if (rc)
            return rc;
    }
    return STORE_OK;
}

/* More clicks than one reindex chunk (100,000): every one is indexed. */
static void test_reindex_in_chunks(void **state)
{
    fixture *f = *state;
    enum { N = 100000 + 1234 };
    raw_clicks r = {0, 0, f->today - 2 * DAY};
    for (r.first = 0; r.first < N; r.first += r.n) {
        r.n = N - r.first < 20000 ? N - r.first : 20000;
        assert_int_equal(store_update(f->s, put_raw, &r), STORE_OK);
    }
    assert_int_equal(count(f, STORE_DB_CLICKS), N);
    open_clicks(f);
    int bots = N / 10;
    assert_int_equal(count(f, STORE_DB_VISITS), N - bots);
}

/* ---- flood detection ------------------------------------------------------------------ */

typedef struct {
    clicks *c;
    rec_click *k;
    const uint64_t *source;
    bool *decided;
    int n;
} source_batch;

static int source_batch_fn(store_txn *t, void *ctx)
{
    source_batch *b = ctx;
    for (int i = 0; i < b->n; i++) {
        int rc = b->source ? clicks_put_from(b->c, t, &b->k[i], b->source[i], &b->decided[i])
                           : clicks_put(b->c, t, &b->k[i], &b->decided[i]);
        if (rc)
            return rc;
    }
    return clicks_flush_visits(b->c, t, true);
}

/* n clicks on link within one minute (10 ms apart from ts), one visitor each, all from the
 * same anonymized /24 (click() sets 192.168.0.0): source[i] is the i-th click's source,
 * or every click goes through clicks_put when source is NULL. Returns how many were
 * flagged suspicious, as stored. */
static int flood_run(fixture *f, const char *link, int64_t ts, int n, const uint64_t *source)
{
    rec_click *k = calloc((size_t)n, sizeof(*k));
    bool *decided = calloc((size_t)n, sizeof(*decided));
    assert_non_null(k);
    assert_non_null(decided);
    for (int i = 0; i < n; i++) {
        uint8_t vis[16];
        id_random(vis, sizeof(vis));
        k[i] = click(vis, link, ts + 10 * i, false);
    }
    source_batch b = {f->c, k, source, decided, n};
    int rc = store_update(f->s, source_batch_fn, &b);
    clicks_committed(f->c, rc);
    assert_int_equal(rc, STORE_OK);
    int flagged = 0;
    for (int i = 0; i < n; i++) {
        uint8_t stored = stored_flags(f, &k[i]);
        assert_int_equal(stored, k[i].flags);
        if (stored & REC_CLICK_SUSPICIOUS) {
            flagged++;
            assert_false(stored & REC_CLICK_UNIQUE); /* a flood is never unique */
        }
    }
    free(k);
    free(decided);
    return flagged;
}

/* 75 phones behind one carrier's NAT range: one anonymized /24, 75 sources; none flagged. */
static void test_flood_crowd_behind_nat(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    clicks_set_flood_limit(f->c, 30);
    uint64_t source[75];
    for (int i = 0; i < 75; i++)
        source[i] = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
    int64_t minute = text_now_ms() / 60000 * 60000;
    assert_int_equal(flood_run(f, "ayu-ig", minute, 75, source), 0);
    /* Each of them again, twice more, in the same minute: still a crowd, not a flood. */
    assert_int_equal(flood_run(f, "ayu-ig", minute + 1000, 75, source), 0);
    assert_int_equal(flood_run(f, "ayu-ig", minute + 2000, 75, source), 0);
}

/* One source clicking 200 times in a minute: the 31st on are flagged; the same source on
 * another link, and the next minute, are counted afresh. */
static void test_flood_one_source(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    clicks_set_flood_limit(f->c, 30);
    uint64_t source[200];
    for (int i = 0; i < 200; i++)
        source[i] = 42;
    int64_t minute = text_now_ms() / 60000 * 60000;
    assert_int_equal(flood_run(f, "ayu-ig", minute, 20, source), 0);
    assert_int_equal(flood_run(f, "ayu-ig", minute + 1000, 180, source), 170);
    assert_int_equal(flood_run(f, "budi-tt", minute + 3000, 31, source), 1);
    uint64_t other[1] = {43};
    assert_int_equal(flood_run(f, "ayu-ig", minute + 4000, 1, other), 0);
    assert_int_equal(flood_run(f, "ayu-ig", minute + 60000, 30, source), 0);
    assert_int_equal(flood_run(f, "ayu-ig", minute + 60000 + 1000, 1, source), 1);
}

/* Off (0), or a source unknown (clicks_put, source 0): nothing is ever flagged. */
static void test_flood_off_or_unknown(void **state)
{
    fixture *f = *state;
    open_clicks(f);
    uint64_t source[100];
    for (int i = 0; i < 100; i++)
        source[i] = i % 2 ? 7 : 0;
    int64_t minute = text_now_ms() / 60000 * 60000;
    clicks_set_flood_limit(f->c, 0);
    assert_int_equal(flood_run(f, "ayu-ig", minute, 100, source), 0);
    clicks_set_flood_limit(f->c, 30);
    assert_int_equal(flood_run(f, "ayu-ig", minute + 60000, 100, NULL), 0);
    assert_int_equal(flood_run(f, "ayu-ig", minute + 60000 + 1000, 100, source), 20);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_unique_per_visitor_link_day),
        T(test_unique_across_batches),
        T(test_bot_never_unique_nor_visit),
        T(test_unique_late_click_from_yesterday),
        T(test_unique_far_past_refused),
        T(test_decided_survives_retry),
        T(test_decided_keeps_flag),
        T(test_flush_visits_in_time_order),
        T(test_flush_unforced_waits),
        T(test_flush_failed_commit_keeps_queue),
        T(test_failed_commit_drops_its_entries),
        T(test_reopen_rebuilds_unique_set),
        T(test_crash_before_flush_reindexes_visits),
        T(test_crash_without_any_flush),
        T(test_reindex_in_chunks),
        T(test_flush_on_retry_keeps_unwritten),
        T(test_two_forced_flushes_in_one_batch),
        T(test_unique_in_store_zone),
        T(test_zone_change_applies_to_next_batch),
        T(test_failed_click_writes_nothing),
        T(test_flood_crowd_behind_nat),
        T(test_flood_one_source),
        T(test_flood_off_or_unknown),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
