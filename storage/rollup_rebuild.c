/*
 * rollup_rebuild.c: the rollups recomputed from the raw records (rollup_rebuild,
 * rollup_rebuild_sliced; see rollup.h), and the same walk as a check that writes nothing
 * and counts the rows that differ.
 *
 * The rebuild goes in slices of time, each its own write transaction, so that the daemon's
 * writer gets its turn between them (how a slice stays exact: the comment above
 * SLICE_RECORDS). The row layout and codec are rollup.c's (rollup_int.h); this file only
 * deletes, recomputes and compares rows.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/id.h"
#include "storage/key.h"
#include "storage/registry.h"
#include "storage/rollup.h"
#include "storage/rollup_int.h"

typedef struct {
    uint8_t *key, *val;
    size_t klen, vlen;
} kv;

typedef struct {
    kv *items;
    size_t n, cap;
} kv_list;

static int keep(const store_val *k, const store_val *v, void *arg)
{
    kv_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        kv *p = realloc(l->items, cap * sizeof(*p));
        if (!p)
            return STORE_ERROR;
        l->items = p;
        l->cap = cap;
    }
    kv *e = &l->items[l->n];
    e->key = malloc(k->len);
    e->val = malloc(v->len);
    if (!e->key || !e->val) {
        free(e->key);
        free(e->val);
        return STORE_ERROR;
    }
    memcpy(e->key, k->data, k->len);
    memcpy(e->val, v->data, v->len);
    e->klen = k->len;
    e->vlen = v->len;
    l->n++;
    return 0;
}

static void kv_free(kv_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].key);
        free(l->items[i].val);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

/* The rows same_row and zero_row compare (one call at a time). */
static _Thread_local rollup_buf rebuild_bufs[2];

/* Rows equal when they decode to the same counts: a money entry at zero is the same as
 * none (a refund leaves zeros behind that a rebuild never writes). */
static bool same_row(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    rollup_row *ra = rollup_row_of(&rebuild_bufs[0]), *rb = rollup_row_of(&rebuild_bufs[1]);
    if (rollup_decode(a, alen, ra) || rollup_decode(b, blen, rb))
        return false;
    if (ra->clicks != rb->clicks || ra->unique != rb->unique || ra->bots != rb->bots ||
        ra->suspicious != rb->suspicious)
        return false;
    for (int pass = 0; pass < 2; pass++) {
        const rollup_row *x = pass ? rb : ra, *y = pass ? ra : rb;
        for (unsigned i = 0; i < x->nmoney; i++) {
            const rollup_money *m = &x->money[i];
            int64_t parts = 0, revenue = 0;
            for (unsigned j = 0; j < y->nmoney; j++)
                if (y->money[j].model == m->model &&
                    !memcmp(y->money[j].currency, m->currency, 3)) {
                    parts = y->money[j].parts;
                    revenue = y->money[j].revenue;
                }
            if (parts != m->parts || revenue != m->revenue)
                return false;
        }
    }
    return true;
}

static bool zero_row(const uint8_t *a, size_t alen)
{
    rollup_row *r = rollup_row_of(&rebuild_bufs[0]);
    if (rollup_decode(a, alen, r) || r->clicks || r->unique || r->bots || r->suspicious)
        return false;
    for (unsigned i = 0; i < r->nmoney; i++)
        if (r->money[i].parts || r->money[i].revenue)
            return false;
    return true;
}

/* Counts the rows that differ between two key-ordered lists. */
static uint64_t count_diffs(const kv_list *before, const kv_list *after)
{
    uint64_t diffs = 0;
    size_t i = 0, j = 0;
    while (i < before->n || j < after->n) {
        int cmp;
        if (i == before->n)
            cmp = 1;
        else if (j == after->n)
            cmp = -1;
        else {
            const kv *a = &before->items[i], *b = &after->items[j];
            cmp = memcmp(a->key, b->key, a->klen < b->klen ? a->klen : b->klen);
            if (!cmp)
                cmp = (a->klen > b->klen) - (a->klen < b->klen);
        }
        if (cmp < 0) {
            diffs += !zero_row(before->items[i].val, before->items[i].vlen);
            i++;
        } else if (cmp > 0) {
            diffs += !zero_row(after->items[j].val, after->items[j].vlen);
            j++;
        } else {
            diffs += !same_row(before->items[i].val, before->items[i].vlen, after->items[j].val,
                               after->items[j].vlen);
            i++;
            j++;
        }
    }
    return diffs;
}

/* A rebuild runs in slices of time, one write transaction each, so that the daemon's writer
 * gets in between: a slice [a, b) holds at most `slice` clicks and as many conversions
 * (unless one quarter hour holds more), then the rebuild pauses SLICE_PAUSE_MS. In its
 * transaction a slice
 *   1. deletes the quarter-hour rows of [a, b) and recomputes them from the clicks and
 *      conversions of [a, b) (which also add to day rows, overwritten next);
 *   2. rewrites the day rows of every UTC day it touched as the sum of that day's quarter
 *      rows, so that "a day row is the sum of its quarter hours" holds at every commit.
 * A slice is exact at its commit (nothing else writes meanwhile), and the daemon's writes
 * after it keep it exact: a rebuild interrupted between slices leaves consistent rows. The
 * last slice runs to the end of time (clicks arriving meanwhile included).
 *
 * Clicks are found by id, whose time is the click's (id_click_new); conversions by the time
 * they happened, which their id (the time jejak recorded them) does not give: their times
 * are read once at the start, and conversions recorded since (ids from CONV_TAIL_MS before
 * the newest one then) are read again by every slice. */
enum { SLICE_RECORDS = 2500, SLICE_PAUSE_MS = 5, CONV_TAIL_MS = 60000, SLICE_END = 2 };

static const int64_t DAY_MS = 86400000;

typedef struct {
    int64_t ts;
    uint8_t id[16];
} conv_ref;

typedef struct {
    bool check;
    unsigned slice;
    conv_ref *by_ts, *by_id; /* the conversions at the start, by time and by id */
    size_t nconv;
    uint8_t tail_from[16];
    int64_t a; /* the slice: [a, b), b == INT64_MAX for the last */
    int64_t b; /* set by the slice */
    /* A check commits nothing: the quarter rows it recomputed for the day that a and b are
     * in, from its start to a, are carried to the next slice (into next_carry, then carry
     * once the slice succeeds) so that day rows are compared with sums of recomputed rows. */
    kv_list carry, next_carry;
    /* The day rows of the day a slice ended in, as they were before the rebuild touched
     * them (a slice rewrites them at once): compared when the day is complete. */
    kv_list orig, next_orig;
    uint64_t rows, diffs; /* the slice's, set by each attempt */
} rebuild_args;

static uint32_t bucket_of(const store_val *k)
{
    return key_get_u32(k->data);
}

static void bucket_key(uint8_t key[4], int64_t ms)
{
    key_put_u32(key, (uint32_t)(ms / ROLLUP_BUCKET_MS));
}

/* ms at the end of the quarter hour holding ms. */
static int64_t bucket_after(int64_t ms)
{
    return (ms / ROLLUP_BUCKET_MS + 1) * ROLLUP_BUCKET_MS;
}

/* Rows whose bucket starts in [from_ms, to_ms), copied. */
typedef struct {
    kv_list *l;
    uint64_t to_bucket;
} range_ctx;

static int keep_range(const store_val *k, const store_val *v, void *arg)
{
    range_ctx *x = arg;
    if (k->len < 5)
        return STORE_CORRUPT;
    if (bucket_of(k) >= x->to_bucket)
        return SLICE_END;
    return keep(k, v, x->l);
}

static int rows_in(store_txn *t, store_db db, int64_t from_ms, int64_t to_ms, kv_list *out)
{
    uint8_t key[4];
    bucket_key(key, from_ms);
    range_ctx x = {out, to_ms == INT64_MAX ? UINT64_MAX : (uint64_t)(to_ms / ROLLUP_BUCKET_MS)};
    int rc = store_each(t, db, key, 4, keep_range, &x);
    return rc == SLICE_END ? STORE_OK : rc;
}

static int del_all(store_txn *t, store_db db, const kv_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        int rc = store_del(t, db, l->items[i].key, l->items[i].klen);
        if (rc && rc != STORE_NOTFOUND)
            return rc;
    }
    return STORE_OK;
}

/* ---- choosing the slice ---- */

typedef struct {
    unsigned n, max;
    int64_t at; /* the time of the max-th click */
} count_ctx;

static int count_click_key(const store_val *k, const store_val *v, void *arg)
{
    (void)v;
    count_ctx *x = arg;
    if (k->len != 16)
        return STORE_CORRUPT;
    if (++x->n < x->max)
        return 0;
    x->at = id_click_time(k->data);
    return SLICE_END;
}

static size_t conv_lower(const rebuild_args *x, int64_t ts)
{
    size_t lo = 0, hi = x->nconv;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->by_ts[mid].ts < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int choose_end(store_txn *t, rebuild_args *x)
{
    uint8_t from[16];
    key_click_from(from, x->a);
    count_ctx c = {0, x->slice, 0};
    int rc = store_each(t, STORE_DB_CLICKS, from, 16, count_click_key, &c);
    if (rc && rc != SLICE_END)
        return rc;
    x->b = rc == SLICE_END ? bucket_after(c.at) : INT64_MAX;
    size_t lo = conv_lower(x, x->a);
    if (x->nconv - lo > x->slice && x->by_ts[lo + x->slice - 1].ts < x->b)
        x->b = bucket_after(x->by_ts[lo + x->slice - 1].ts);
    return STORE_OK;
}

/* ---- recomputing the quarter hours of [a, b) ---- */

typedef struct {
    rebuild_args *x;
    store_txn *t;
} slice_ctx;

static int slice_click(const rec_click *c, void *arg)
{
    slice_ctx *s = arg;
    if (id_click_time(c->id) >= s->x->b)
        return SLICE_END;
    if (c->ts_ms < s->x->a || c->ts_ms >= s->x->b)
        return STORE_CORRUPT; /* a click id that does not carry the click's time */
    return rollup_add_click(s->t, c);
}

static int by_id_cmp(const void *a, const void *b)
{
    return memcmp(((const conv_ref *)a)->id, ((const conv_ref *)b)->id, 16);
}

static int slice_tail(const store_val *k, const store_val *v, void *arg)
{
    slice_ctx *s = arg;
    conv_ref probe = {0, {0}};
    if (k->len != 16)
        return STORE_CORRUPT;
    memcpy(probe.id, k->data, 16);
    if (s->x->nconv && bsearch(&probe, s->x->by_id, s->x->nconv, sizeof(probe), by_id_cmp))
        return 0; /* known at the start: counted by time */
    rec_conversion c;
    if (rec_conversion_decode(k->data, k->len, v->data, v->len, &c)) {
        rec_conversion_free(&c);
        return STORE_CORRUPT;
    }
    int rc = STORE_OK;
    if (c.ts_ms >= s->x->a && c.ts_ms < s->x->b)
        rc = rollup_add_conversion(s->t, &c, +1);
    rec_conversion_free(&c);
    return rc;
}

static int slice_conversions(store_txn *t, rebuild_args *x)
{
    for (size_t i = conv_lower(x, x->a); i < x->nconv && x->by_ts[i].ts < x->b; i++) {
        rec_conversion c;
        int rc = reg_get_conversion(t, x->by_ts[i].id, &c);
        if (rc == STORE_NOTFOUND)
            continue;
        if (rc)
            return rc;
        if (c.ts_ms >= x->a && c.ts_ms < x->b)
            rc = rollup_add_conversion(t, &c, +1);
        rec_conversion_free(&c);
        if (rc)
            return rc;
    }
    slice_ctx s = {x, t};
    return store_each(t, STORE_DB_CONVERSIONS, x->tail_from, 16, slice_tail, &s);
}

/* ---- day rows: the sums of their quarter hours ---- */

static int subject_cmp(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key + 4, y->key + 4, n - 4);
    return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

static int add_row(rollup_row *acc, const rollup_row *r)
{
    if (__builtin_add_overflow(acc->clicks, r->clicks, &acc->clicks) ||
        __builtin_add_overflow(acc->unique, r->unique, &acc->unique) ||
        __builtin_add_overflow(acc->bots, r->bots, &acc->bots) ||
        __builtin_add_overflow(acc->suspicious, r->suspicious, &acc->suspicious))
        return STORE_CORRUPT;
    for (unsigned i = 0; i < r->nmoney; i++) {
        const rollup_money *m = &r->money[i];
        unsigned j = 0;
        while (j < acc->nmoney &&
               (acc->money[j].model != m->model || memcmp(acc->money[j].currency, m->currency, 3)))
            j++;
        if (j == acc->nmoney) {
            if (acc->nmoney == ROLLUP_MAX_MONEY)
                return STORE_CORRUPT;
            acc->money[acc->nmoney++] = (rollup_money){m->model, {0}, 0, 0};
            memcpy(acc->money[j].currency, m->currency, 4);
        }
        if (__builtin_add_overflow(acc->money[j].parts, m->parts, &acc->money[j].parts) ||
            __builtin_add_overflow(acc->money[j].revenue, m->revenue, &acc->money[j].revenue))
            return STORE_CORRUPT;
    }
    return STORE_OK;
}

/* Rewrites day day_ms's rows from its quarter rows. */
static int resum_day(store_txn *t, int64_t day_ms)
{
    static _Thread_local rollup_buf bufs[2];
    rollup_row *acc = rollup_row_of(&bufs[0]), *r = rollup_row_of(&bufs[1]);
    kv_list old = {0}, q = {0};
    int rc = rows_in(t, STORE_DB_ROLLUPS_DAY, day_ms, day_ms + ROLLUP_BUCKET_MS, &old);
    if (!rc)
        rc = del_all(t, STORE_DB_ROLLUPS_DAY, &old);
    if (!rc)
        rc = rows_in(t, STORE_DB_ROLLUPS, day_ms, day_ms + DAY_MS, &q);
    if (!rc && q.n)
        qsort(q.items, q.n, sizeof(kv), subject_cmp);
    for (size_t i = 0; i < q.n && !rc;) {
        memset(acc, 0, offsetof(rollup_row, money));
        size_t j = i;
        /* An undecodable quarter hour is one a later slice replaces (then sums again). */
        for (; j < q.n && !rc && !subject_cmp(&q.items[i], &q.items[j]); j++)
            rc = rollup_decode(q.items[j].val, q.items[j].vlen, r) ? STORE_OK : add_row(acc, r);
        if (!rc) {
            uint8_t key[ROLLUP_KEY_MAX];
            bucket_key(key, day_ms);
            memcpy(key + 4, q.items[i].key + 4, q.items[i].klen - 4);
            rc = rollup_save(t, STORE_DB_ROLLUPS_DAY, key, q.items[i].klen, acc);
        }
        i = j;
    }
    kv_free(&old);
    kv_free(&q);
    return rc;
}

static int64_t day_of_key(const kv *e)
{
    store_val k = {e->key, e->klen};
    int64_t ms = (int64_t)bucket_of(&k) * ROLLUP_BUCKET_MS;
    return ms - ms % DAY_MS;
}

/* The distinct days of two key-ordered lists, into *days (ascending). */
static int touched_days(const kv_list *x, const kv_list *y, int64_t **days, size_t *n)
{
    *days = malloc((x->n + y->n + 1) * sizeof(**days));
    *n = 0;
    if (!*days)
        return STORE_ERROR;
    for (int pass = 0; pass < 2; pass++) {
        const kv_list *l = pass ? y : x;
        for (size_t i = 0; i < l->n; i++) {
            int64_t d = day_of_key(&l->items[i]);
            bool seen = false;
            for (size_t j = *n; j-- > 0 && !seen;)
                seen = (*days)[j] == d;
            if (!seen)
                (*days)[(*n)++] = d;
        }
    }
    return STORE_OK;
}

/* Keeps the rows of l on days that end by b (complete in this slice). */
static void only_complete(kv_list *l, int64_t b)
{
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (b == INT64_MAX || day_of_key(&l->items[i]) + DAY_MS <= b)
            l->items[k++] = l->items[i];
        else {
            free(l->items[i].key);
            free(l->items[i].val);
        }
    }
    l->n = k;
}

/* In a check, puts back the carried rows in place of the live ones of [day(a), a). */
static int put_carry(store_txn *t, rebuild_args *x)
{
    kv_list live = {0};
    int rc = rows_in(t, STORE_DB_ROLLUPS, x->a - x->a % DAY_MS, x->a, &live);
    if (!rc)
        rc = del_all(t, STORE_DB_ROLLUPS, &live);
    for (size_t i = 0; i < x->carry.n && !rc; i++)
        rc = store_put(t, STORE_DB_ROLLUPS, x->carry.items[i].key, x->carry.items[i].klen,
                       x->carry.items[i].val, x->carry.items[i].vlen, 0);
    kv_free(&live);
    return rc;
}

/* The rows of l on the day holding b - 1, before b, copied into out. */
static int carry_rows(const kv_list *l, int64_t b, kv_list *out)
{
    for (size_t i = 0; i < l->n; i++) {
        if (day_of_key(&l->items[i]) != b - b % DAY_MS)
            continue;
        store_val k = {l->items[i].key, l->items[i].klen}, v = {l->items[i].val, l->items[i].vlen};
        int rc = keep(&k, &v, out);
        if (rc)
            return rc;
    }
    return STORE_OK;
}

/* A slice that starts inside a day: that day's rows in *live are the ones an earlier slice
 * wrote; the ones from before (x->orig) take their place. Both lists are in key order, and
 * the day of a comes first. */
static int original_days(rebuild_args *x, kv_list *live)
{
    kv_list l = {0};
    int64_t day = x->a - x->a % DAY_MS;
    int rc = carry_rows(&x->orig, x->a, &l);
    for (size_t i = 0; i < live->n && !rc; i++) {
        if (day_of_key(&live->items[i]) == day)
            continue;
        store_val k = {live->items[i].key, live->items[i].klen},
                  v = {live->items[i].val, live->items[i].vlen};
        rc = keep(&k, &v, &l);
    }
    kv_free(live);
    *live = l;
    return rc;
}

static int rebuild_slice(store_txn *t, void *arg)
{
    rebuild_args *x = arg;
    kv_list before_q = {0}, after_q = {0}, before_d = {0}, after_d = {0};
    int64_t *days = NULL;
    size_t ndays = 0;
    x->rows = x->diffs = 0;
    kv_free(&x->next_carry);
    kv_free(&x->next_orig);
    int rc = choose_end(t, x);
    if (!rc && x->check && x->carry.n)
        rc = put_carry(t, x);
    /* 1. The quarter hours of [a, b), and the day rows of the days they are in. */
    if (!rc)
        rc = rows_in(t, STORE_DB_ROLLUPS, x->a, x->b, &before_q);
    if (!rc)
        rc = rows_in(t, STORE_DB_ROLLUPS_DAY, x->a - x->a % DAY_MS, x->b, &before_d);
    if (!rc && x->a % DAY_MS)
        rc = original_days(x, &before_d);
    if (!rc && x->b != INT64_MAX && x->b % DAY_MS)
        rc = carry_rows(&before_d, x->b, &x->next_orig);
    if (!rc)
        rc = del_all(t, STORE_DB_ROLLUPS, &before_q);
    if (!rc) /* rewritten in 2.; gone first, so that the adds never read an undecodable one */
        rc = del_all(t, STORE_DB_ROLLUPS_DAY, &before_d);
    slice_ctx sc = {x, t};
    if (!rc) {
        rc = reg_each_click(t, x->a, slice_click, &sc);
        rc = rc == SLICE_END ? STORE_OK : rc;
    }
    if (!rc)
        rc = slice_conversions(t, x);
    if (!rc)
        rc = rows_in(t, STORE_DB_ROLLUPS, x->a, x->b, &after_q);
    /* 2. Their days, summed again. */
    if (!rc)
        rc = touched_days(&before_d, &after_q, &days, &ndays);
    for (size_t i = 0; i < ndays && !rc; i++)
        rc = resum_day(t, days[i]);
    if (!rc)
        rc = rows_in(t, STORE_DB_ROLLUPS_DAY, x->a - x->a % DAY_MS, x->b, &after_d);
    if (!rc) {
        /* Day rows are compared once, in the slice that completes their day. */
        only_complete(&before_d, x->b);
        only_complete(&after_d, x->b);
        x->rows = after_q.n;
        x->diffs = count_diffs(&before_q, &after_q) + count_diffs(&before_d, &after_d);
        if (x->check && x->b != INT64_MAX && x->b % DAY_MS) {
            rc = carry_rows(&x->carry, x->b, &x->next_carry);
            if (!rc)
                rc = carry_rows(&after_q, x->b, &x->next_carry);
        }
    }
    free(days);
    kv_free(&before_q);
    kv_free(&after_q);
    kv_free(&before_d);
    kv_free(&after_d);
    if (!rc && x->check)
        return STORE_ROLLBACK;
    return rc;
}

/* ---- the conversions' times, read once ---- */

typedef struct {
    rebuild_args *x;
    size_t cap;
} conv_list_ctx;

static int list_conversion(const rec_conversion *c, void *arg)
{
    conv_list_ctx *l = arg;
    rebuild_args *x = l->x;
    if (x->nconv == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        conv_ref *p = realloc(x->by_id, cap * sizeof(*p));
        if (!p)
            return STORE_ERROR;
        x->by_id = p;
        l->cap = cap;
    }
    x->by_id[x->nconv].ts = c->ts_ms;
    memcpy(x->by_id[x->nconv].id, c->id, 16);
    x->nconv++;
    return 0;
}

static int by_ts_cmp(const void *a, const void *b)
{
    const conv_ref *x = a, *y = b;
    return (x->ts > y->ts) - (x->ts < y->ts);
}

static int list_conversions(store *s, rebuild_args *x)
{
    store_txn *t;
    int rc = store_read_begin(s, &t);
    if (rc)
        return rc;
    conv_list_ctx l = {x, 0};
    rc = reg_each_conversion(t, list_conversion, &l); /* in id order */
    store_read_end(t);
    if (rc)
        return rc;
    int64_t newest = x->nconv ? id_click_time(x->by_id[x->nconv - 1].id) : 0;
    key_click_from(x->tail_from, newest > CONV_TAIL_MS ? newest - CONV_TAIL_MS : 0);
    x->by_ts = malloc((x->nconv ? x->nconv : 1) * sizeof(*x->by_ts));
    if (!x->by_ts)
        return STORE_ERROR;
    if (x->nconv) {
        memcpy(x->by_ts, x->by_id, x->nconv * sizeof(*x->by_ts));
        qsort(x->by_ts, x->nconv, sizeof(*x->by_ts), by_ts_cmp);
    }
    return STORE_OK;
}

int rollup_rebuild_sliced(store *s, bool check, unsigned slice, uint64_t *rows, uint64_t *diffs,
                          uint64_t *slices)
{
    rebuild_args x = {.check = check, .slice = slice ? slice : 1};
    *rows = *diffs = *slices = 0;
    int rc = list_conversions(s, &x);
    while (!rc) {
        rc = store_update(s, rebuild_slice, &x);
        if (rc == STORE_ROLLBACK)
            rc = STORE_OK;
        if (rc)
            break;
        *rows += x.rows;
        *diffs += x.diffs;
        ++*slices;
        kv_free(&x.carry);
        x.carry = x.next_carry;
        memset(&x.next_carry, 0, sizeof(x.next_carry));
        kv_free(&x.orig);
        x.orig = x.next_orig;
        memset(&x.next_orig, 0, sizeof(x.next_orig));
        if (x.b == INT64_MAX)
            break;
        x.a = x.b;
        struct timespec pause = {0, SLICE_PAUSE_MS * 1000000L}; /* the daemon's writer's turn */
        nanosleep(&pause, NULL);
    }
    free(x.by_id);
    free(x.by_ts);
    kv_free(&x.carry);
    kv_free(&x.next_carry);
    kv_free(&x.orig);
    kv_free(&x.next_orig);
    if (!rc && check && *diffs)
        rc = STORE_CORRUPT;
    return rc;
}

int rollup_rebuild(store *s, bool check, uint64_t *rows, uint64_t *diffs)
{
    uint64_t slices;
    return rollup_rebuild_sliced(s, check, SLICE_RECORDS, rows, diffs, &slices);
}
