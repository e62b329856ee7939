/*
 * rollup.c: the report rollups (see rollup.h).
 *
 * Key: bucket index (u32, 15-minute periods since 1970) | kind byte | name [NUL name2]
 * (kind 'U', the unattributed conversions, has no name).
 * Value: version byte, four u64 counters, u16 count, then the money entries.
 *
 * A decoded row's money lives in a row_buf (the row plus room for ROLLUP_MAX_MONEY entries),
 * one per use and thread, so that no row is ever allocated per record; a stored row is as
 * long as its entries, so rows with one currency stay small.
 */
#include "storage/rollup.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/id.h"
#include "storage/key.h"
#include "storage/registry.h"

enum { V_ROLLUP = 1, KEY_MAX = 4 + 1 + 2 * REC_ID };

/* One conversion, in parts (MODEL_SHARE_ONE in attribution/model.h). */
static const int64_t SHARE_ONE = 1000000000;

typedef struct {
    rollup_row row;
    rollup_money money[ROLLUP_MAX_MONEY];
} row_buf;

static rollup_row *row_of(row_buf *b)
{
    b->row.money = b->money;
    return &b->row;
}

/* The two levels: quarter hours (exact days in every zone) and UTC days (few rows for long
 * periods; a report uses them for the whole UTC days inside its period). */
static const store_db levels[2] = {STORE_DB_ROLLUPS, STORE_DB_ROLLUPS_DAY};

static size_t make_key(uint8_t *key, int64_t ts_ms, rollup_kind kind, const char *name,
                       const char *name2, store_db level)
{
    if (level == STORE_DB_ROLLUPS_DAY)
        ts_ms -= ts_ms % 86400000;
    return key_rollup(key, (uint32_t)(ts_ms / ROLLUP_BUCKET_MS), (uint8_t)kind, name, name2,
                      REC_ID);
}

static int decode(const uint8_t *p, size_t len, rollup_row *r)
{
    rec_reader rd = {p, len, 0, false};
    memset(r, 0, offsetof(rollup_row, money));
    if (rec_get_u8(&rd) != V_ROLLUP)
        return -1;
    r->clicks = rec_get_u64(&rd);
    r->unique = rec_get_u64(&rd);
    r->bots = rec_get_u64(&rd);
    r->suspicious = rec_get_u64(&rd);
    r->nmoney = rec_get_u16(&rd);
    if (rd.bad || r->nmoney > ROLLUP_MAX_MONEY)
        return -1;
    for (unsigned i = 0; i < r->nmoney; i++) {
        rollup_money *m = &r->money[i];
        m->model = rec_get_u8(&rd);
        rec_get_bytes(&rd, m->currency, 3);
        m->currency[3] = '\0';
        m->parts = (int64_t)rec_get_u64(&rd);
        m->revenue = (int64_t)rec_get_u64(&rd);
    }
    return rd.bad || rd.off != rd.len ? -1 : 0;
}

static size_t encode(const rollup_row *r, uint8_t *out, size_t cap)
{
    rec_writer w = {out, 0, cap, false};
    rec_put_u8(&w, V_ROLLUP);
    rec_put_u64(&w, r->clicks);
    rec_put_u64(&w, r->unique);
    rec_put_u64(&w, r->bots);
    rec_put_u64(&w, r->suspicious);
    rec_put_u16(&w, r->nmoney);
    for (unsigned i = 0; i < r->nmoney; i++) {
        const rollup_money *m = &r->money[i];
        rec_put_u8(&w, m->model);
        rec_put_bytes(&w, m->currency, 3);
        rec_put_u64(&w, (uint64_t)m->parts);
        rec_put_u64(&w, (uint64_t)m->revenue);
    }
    return w.bad ? 0 : w.len;
}

enum { ROW_BYTES = 1 + 32 + 2 + ROLLUP_MAX_MONEY * 20 };
static _Thread_local uint8_t row_bytes[ROW_BYTES];

static int load(store_txn *t, store_db db, const uint8_t *key, size_t klen, rollup_row *r)
{
    store_val v = {NULL, 0};
    int rc = store_get(t, db, key, klen, &v);
    if (rc == STORE_NOTFOUND) {
        memset(r, 0, offsetof(rollup_row, money));
        return STORE_OK;
    }
    if (rc)
        return rc;
    return decode(v.data, v.len, r) ? STORE_CORRUPT : STORE_OK;
}

static int save(store_txn *t, store_db db, const uint8_t *key, size_t klen, const rollup_row *r)
{
    size_t n = encode(r, row_bytes, sizeof(row_bytes));
    if (!n)
        return STORE_CORRUPT;
    return store_put(t, db, key, klen, row_bytes, n, 0);
}

/* The row being updated (rollup_add_counts, rollup_add_conversion: never nested). */
static _Thread_local row_buf update_buf;

int rollup_add_counts(store_txn *t, int64_t ts_ms, const char *link, const rollup_row *delta)
{
    rollup_row *r = row_of(&update_buf);
    for (int lv = 0; lv < 2; lv++) {
        uint8_t key[KEY_MAX];
        size_t klen = make_key(key, ts_ms, ROLLUP_LINK, link, NULL, levels[lv]);
        int rc = load(t, levels[lv], key, klen, r);
        if (rc)
            return rc;
        r->clicks += delta->clicks;
        r->unique += delta->unique;
        r->bots += delta->bots;
        r->suspicious += delta->suspicious;
        if ((rc = save(t, levels[lv], key, klen, r)))
            return rc;
    }
    return STORE_OK;
}

int rollup_check_counts(store_txn *t, int64_t ts_ms, const char *link)
{
    rollup_row *r = row_of(&update_buf); /* not nested in an update either */
    for (int lv = 0; lv < 2; lv++) {
        uint8_t key[KEY_MAX];
        size_t klen = make_key(key, ts_ms, ROLLUP_LINK, link, NULL, levels[lv]);
        int rc = load(t, levels[lv], key, klen, r);
        if (rc)
            return rc;
    }
    return STORE_OK;
}

/* What one click adds to its row. */
static void click_delta(const rec_click *c, rollup_row *d)
{
    memset(d, 0, offsetof(rollup_row, money));
    d->money = NULL;
    if (c->flags & REC_CLICK_BOT)
        d->bots = 1;
    else if (c->flags & REC_CLICK_SUSPICIOUS)
        d->suspicious = 1;
    else {
        d->clicks = 1;
        d->unique = (c->flags & REC_CLICK_UNIQUE) != 0;
    }
}

int rollup_add_click(store_txn *t, const rec_click *c)
{
    rollup_row d;
    click_delta(c, &d);
    return rollup_add_counts(t, c->ts_ms, c->link, &d);
}

void rollup_click_delta(const rec_click *c, rollup_row *d)
{
    click_delta(c, d);
}

/* Adds sign x (parts, revenue) to the row's entry for (model, currency); STORE_RANGE and
 * the row unchanged if a sum would leave int64. */
static int add_money(rollup_row *r, uint8_t model, const char *currency, int sign, int64_t parts,
                     int64_t revenue)
{
    int64_t dp, dr;
    if (__builtin_mul_overflow(parts, sign, &dp) || __builtin_mul_overflow(revenue, sign, &dr))
        return STORE_RANGE;
    rollup_money *m = NULL;
    for (unsigned i = 0; i < r->nmoney && !m; i++)
        if (r->money[i].model == model && !memcmp(r->money[i].currency, currency, 3))
            m = &r->money[i];
    int64_t p0 = m ? m->parts : 0, r0 = m ? m->revenue : 0;
    if (__builtin_add_overflow(p0, dp, &p0) || __builtin_add_overflow(r0, dr, &r0))
        return STORE_RANGE;
    if (!m) {
        /* Cannot happen with checked currencies (rollup.h): every code fits. */
        if (r->nmoney == ROLLUP_MAX_MONEY)
            return STORE_RANGE;
        m = &r->money[r->nmoney++];
        memset(m, 0, sizeof(*m));
        m->model = model;
        memcpy(m->currency, currency, 3);
    }
    m->parts = p0;
    m->revenue = r0;
    return STORE_OK;
}

/* An unattributed conversion: one whole conversion and its amount under every model, on the
 * NONE row of its bucket. */
static int add_unattributed(store_txn *t, const rec_conversion *c, const char *currency, int sign)
{
    rollup_row *r = row_of(&update_buf);
    for (int lv = 0; lv < 2; lv++) {
        uint8_t key[KEY_MAX];
        size_t klen = make_key(key, c->ts_ms, ROLLUP_NONE, "", NULL, levels[lv]);
        int rc = load(t, levels[lv], key, klen, r);
        for (int m = 0; m < REC_MODELS && !rc; m++)
            rc = add_money(r, (uint8_t)m, currency, sign, SHARE_ONE, c->amount);
        if (!rc)
            rc = save(t, levels[lv], key, klen, r);
        if (rc)
            return rc;
    }
    return STORE_OK;
}

int rollup_add_conversion(store_txn *t, const rec_conversion *c, int sign)
{
    if (c->status != REC_STATUS_APPROVED)
        return STORE_OK;
    const char *currency = c->currency[0] ? c->currency : "XXX"; /* ISO 4217: no currency */
    if (c->via == REC_VIA_NONE)
        return add_unattributed(t, c, currency, sign);
    /* The five models mostly credit the same links: one read-modify-write per row, applying
     * every model's lines for that row. */
    rollup_row *r = row_of(&update_buf);
    for (int m = 0; m < REC_MODELS; m++) {
        for (unsigned i = 0; i < c->ncredits[m]; i++) {
            const rec_credit *k = &c->credits[m][i];
            bool seen = false; /* this row was already written for an earlier line */
            for (int pm = 0; pm <= m && !seen; pm++)
                for (unsigned pi = 0; pi < (pm == m ? i : c->ncredits[pm]) && !seen; pi++) {
                    const rec_credit *p = &c->credits[pm][pi];
                    seen = !strcmp(p->link, k->link) &&
                           (k->link[0] || (!strcmp(p->influencer, k->influencer) &&
                                           !strcmp(p->campaign, k->campaign)));
                }
            if (seen)
                continue;
            for (int lv = 0; lv < 2; lv++) {
                uint8_t key[KEY_MAX];
                size_t klen = k->link[0]
                                  ? make_key(key, c->ts_ms, ROLLUP_LINK, k->link, NULL, levels[lv])
                                  : make_key(key, c->ts_ms, ROLLUP_COUPON, k->influencer,
                                             k->campaign, levels[lv]);
                int rc = load(t, levels[lv], key, klen, r);
                for (int qm = m; qm < REC_MODELS && !rc; qm++)
                    for (unsigned qi = qm == m ? i : 0; qi < c->ncredits[qm] && !rc; qi++) {
                        const rec_credit *q = &c->credits[qm][qi];
                        if (strcmp(q->link, k->link) ||
                            (!k->link[0] && (strcmp(q->influencer, k->influencer) ||
                                             strcmp(q->campaign, k->campaign))))
                            continue;
                        rc = add_money(r, (uint8_t)qm, currency, sign, q->share, q->amount);
                    }
                if (!rc)
                    rc = save(t, levels[lv], key, klen, r);
                if (rc)
                    return rc;
            }
        }
    }
    return STORE_OK;
}

typedef struct {
    rollup_fn fn;
    void *ctx;
    uint32_t to_bucket;
} scan_ctx;

enum { SCAN_END = 1 };

static int scan_one(const store_val *k, const store_val *v, void *arg)
{
    scan_ctx *x = arg;
    const uint8_t *p = k->data;
    if (k->len < 5 || k->len > KEY_MAX)
        return STORE_CORRUPT;
    uint32_t b = key_get_u32(p);
    if (b >= x->to_bucket)
        return SCAN_END;
    char name[REC_ID], name2[REC_ID];
    if (key_rollup_names(p, k->len, name, name2, REC_ID))
        return STORE_CORRUPT;
    static _Thread_local row_buf scan_buf;
    rollup_row *row = row_of(&scan_buf);
    if (decode(v->data, v->len, row))
        return STORE_CORRUPT;
    return x->fn((int64_t)b * ROLLUP_BUCKET_MS, (rollup_kind)p[4], name, name2, row, x->ctx);
}

static int scan_level(store_txn *t, store_db db, int64_t from_ms, int64_t to_ms, rollup_fn fn,
                      void *ctx);

int rollup_scan(store_txn *t, int64_t from_ms, int64_t to_ms, rollup_fn fn, void *ctx)
{
    return scan_level(t, STORE_DB_ROLLUPS, from_ms, to_ms, fn, ctx);
}

int rollup_scan_days(store_txn *t, int64_t from_ms, int64_t to_ms, rollup_fn fn, void *ctx)
{
    return scan_level(t, STORE_DB_ROLLUPS_DAY, from_ms, to_ms, fn, ctx);
}

static int scan_level(store_txn *t, store_db db, int64_t from_ms, int64_t to_ms, rollup_fn fn,
                      void *ctx)
{
    if (from_ms < 0)
        from_ms = 0;
    if (to_ms <= from_ms)
        return STORE_OK;
    /* Buckets that start at or after from_ms: round up. */
    uint32_t from = (uint32_t)((from_ms + ROLLUP_BUCKET_MS - 1) / ROLLUP_BUCKET_MS);
    int64_t to = (to_ms + ROLLUP_BUCKET_MS - 1) / ROLLUP_BUCKET_MS;
    scan_ctx x = {fn, ctx, to > UINT32_MAX ? UINT32_MAX : (uint32_t)to};
    uint8_t key[4];
    key_put_u32(key, from);
    int rc = store_each(t, db, key, 4, scan_one, &x);
    return rc == SCAN_END ? STORE_OK : rc;
}

/* ---- rebuild ----------------------------------------------------------------------- */

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
static _Thread_local row_buf rebuild_bufs[2];

/* Rows equal when they decode to the same counts: a money entry at zero is the same as
 * none (a refund leaves zeros behind that a rebuild never writes). */
static bool same_row(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    rollup_row *ra = row_of(&rebuild_bufs[0]), *rb = row_of(&rebuild_bufs[1]);
    if (decode(a, alen, ra) || decode(b, blen, rb))
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
    rollup_row *r = row_of(&rebuild_bufs[0]);
    if (decode(a, alen, r) || r->clicks || r->unique || r->bots || r->suspicious)
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
    static _Thread_local row_buf bufs[2];
    rollup_row *acc = row_of(&bufs[0]), *r = row_of(&bufs[1]);
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
            rc = decode(q.items[j].val, q.items[j].vlen, r) ? STORE_OK : add_row(acc, r);
        if (!rc) {
            uint8_t key[KEY_MAX];
            bucket_key(key, day_ms);
            memcpy(key + 4, q.items[i].key + 4, q.items[i].klen - 4);
            rc = save(t, STORE_DB_ROLLUPS_DAY, key, q.items[i].klen, acc);
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
