/*
 * rollup.c: the report rollups (see rollup.h).
 *
 * Key: bucket index (u32, 15-minute periods since 1970) | kind byte | name [NUL name2].
 * Value: version byte, four u64 counters, u16 count, then the money entries.
 */
#include "storage/rollup.h"

#include <stdlib.h>
#include <string.h>

#include "storage/registry.h"

enum { V_ROLLUP = 1, KEY_MAX = 4 + 1 + 2 * REC_ID };

/* The two levels: quarter hours (exact days in every zone) and UTC days (few rows for long
 * periods; a report uses them for the whole UTC days inside its period). */
static const store_db levels[2] = {STORE_DB_ROLLUPS, STORE_DB_ROLLUPS_DAY};

static size_t make_key(uint8_t *key, int64_t ts_ms, rollup_kind kind, const char *name,
                       const char *name2, store_db level)
{
    if (level == STORE_DB_ROLLUPS_DAY)
        ts_ms -= ts_ms % 86400000;
    uint32_t b = (uint32_t)(ts_ms / ROLLUP_BUCKET_MS);
    key[0] = (uint8_t)(b >> 24);
    key[1] = (uint8_t)(b >> 16);
    key[2] = (uint8_t)(b >> 8);
    key[3] = (uint8_t)b;
    key[4] = (uint8_t)kind;
    size_t n = strnlen(name, REC_ID - 1);
    memcpy(key + 5, name, n);
    size_t len = 5 + n;
    if (name2) {
        size_t n2 = strnlen(name2, REC_ID - 1);
        key[len++] = 0;
        memcpy(key + len, name2, n2);
        len += n2;
    }
    return len;
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
    r->nmoney = (uint16_t)(rec_get_u8(&rd) << 8);
    r->nmoney |= rec_get_u8(&rd);
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
    rec_put_u8(&w, (uint8_t)(r->nmoney >> 8));
    rec_put_u8(&w, (uint8_t)r->nmoney);
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
    uint8_t buf[ROW_BYTES];
    size_t n = encode(r, buf, sizeof(buf));
    if (!n)
        return STORE_CORRUPT;
    return store_put(t, db, key, klen, buf, n, 0);
}

int rollup_add_counts(store_txn *t, int64_t ts_ms, const char *link, const rollup_row *delta)
{
    for (int lv = 0; lv < 2; lv++) {
        uint8_t key[KEY_MAX];
        size_t klen = make_key(key, ts_ms, ROLLUP_LINK, link, NULL, levels[lv]);
        rollup_row r;
        int rc = load(t, levels[lv], key, klen, &r);
        if (rc)
            return rc;
        r.clicks += delta->clicks;
        r.unique += delta->unique;
        r.bots += delta->bots;
        r.suspicious += delta->suspicious;
        if ((rc = save(t, levels[lv], key, klen, &r)))
            return rc;
    }
    return STORE_OK;
}

/* What one click adds to its row. */
static void click_delta(const rec_click *c, rollup_row *d)
{
    memset(d, 0, offsetof(rollup_row, money));
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

static int add_money(rollup_row *r, uint8_t model, const char *currency, int64_t parts,
                     int64_t revenue)
{
    rollup_money *m = NULL;
    for (unsigned i = 0; i < r->nmoney && !m; i++)
        if (r->money[i].model == model && !memcmp(r->money[i].currency, currency, 3))
            m = &r->money[i];
    if (!m) {
        if (r->nmoney == ROLLUP_MAX_MONEY)
            return STORE_CORRUPT; /* more than 12 currencies in one link's quarter hour */
        m = &r->money[r->nmoney++];
        memset(m, 0, sizeof(*m));
        m->model = model;
        memcpy(m->currency, currency, 3);
    }
    m->parts += parts;
    m->revenue += revenue;
    return STORE_OK;
}

int rollup_add_conversion(store_txn *t, const rec_conversion *c, int sign)
{
    if (c->status != REC_STATUS_APPROVED || c->via == REC_VIA_NONE)
        return STORE_OK;
    const char *currency = c->currency[0] ? c->currency : "XXX"; /* ISO 4217: no currency */
    /* The five models mostly credit the same links: one read-modify-write per row, applying
     * every model's lines for that row. */
    static _Thread_local rollup_row r;
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
                int rc = load(t, levels[lv], key, klen, &r);
                for (int qm = m; qm < REC_MODELS && !rc; qm++)
                    for (unsigned qi = qm == m ? i : 0; qi < c->ncredits[qm] && !rc; qi++) {
                        const rec_credit *q = &c->credits[qm][qi];
                        if (strcmp(q->link, k->link) ||
                            (!k->link[0] && (strcmp(q->influencer, k->influencer) ||
                                             strcmp(q->campaign, k->campaign))))
                            continue;
                        rc =
                            add_money(&r, (uint8_t)qm, currency, sign * q->share, sign * q->amount);
                    }
                if (!rc)
                    rc = save(t, levels[lv], key, klen, &r);
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
    uint32_t b = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (b >= x->to_bucket)
        return SCAN_END;
    char name[REC_ID] = "", name2[REC_ID] = "";
    const uint8_t *s = p + 5, *end = p + k->len;
    const uint8_t *nul = memchr(s, 0, (size_t)(end - s));
    size_t n1 = (size_t)((nul ? nul : end) - s);
    if (n1 >= REC_ID)
        return STORE_CORRUPT;
    memcpy(name, s, n1);
    if (nul) {
        size_t n2 = (size_t)(end - nul - 1);
        if (n2 >= REC_ID)
            return STORE_CORRUPT;
        memcpy(name2, nul + 1, n2);
    }
    static _Thread_local rollup_row row;
    if (decode(v->data, v->len, &row))
        return STORE_CORRUPT;
    return x->fn((int64_t)b * ROLLUP_BUCKET_MS, (rollup_kind)p[4], name, name2, &row, x->ctx);
}

static int scan_level(store_txn *t, store_db db, int64_t from_ms, int64_t to_ms, rollup_fn fn,
                      void *ctx);

int rollup_row_decode(const void *p, size_t len, rollup_row *r)
{
    return decode(p, len, r);
}

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
    uint8_t key[4] = {(uint8_t)(from >> 24), (uint8_t)(from >> 16), (uint8_t)(from >> 8),
                      (uint8_t)from};
    int rc = store_each(t, db, key, 4, scan_one, &x);
    return rc == SCAN_END ? STORE_OK : rc;
}

/* ---- rebuild ----------------------------------------------------------------------- */

typedef struct {
    store_txn *t;
    int rc;
} rebuild_ctx;

static int rebuild_click(const rec_click *c, void *arg)
{
    rebuild_ctx *x = arg;
    return rollup_add_click(x->t, c);
}

static int rebuild_conversion(const rec_conversion *c, void *arg)
{
    rebuild_ctx *x = arg;
    return rollup_add_conversion(x->t, c, +1);
}

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

typedef struct {
    bool check;
    uint64_t rows, diffs;
} rebuild_args;

/* Rows equal when they decode to the same counts: a money entry at zero is the same as
 * none (a refund leaves zeros behind that a rebuild never writes). */
static bool same_row(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    static _Thread_local rollup_row ra, rb;
    if (decode(a, alen, &ra) || decode(b, blen, &rb))
        return false;
    if (ra.clicks != rb.clicks || ra.unique != rb.unique || ra.bots != rb.bots ||
        ra.suspicious != rb.suspicious)
        return false;
    for (int pass = 0; pass < 2; pass++) {
        const rollup_row *x = pass ? &rb : &ra, *y = pass ? &ra : &rb;
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
    static _Thread_local rollup_row r;
    if (decode(a, alen, &r) || r.clicks || r.unique || r.bots || r.suspicious)
        return false;
    for (unsigned i = 0; i < r.nmoney; i++)
        if (r.money[i].parts || r.money[i].revenue)
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

static int rebuild(store_txn *t, void *arg)
{
    rebuild_args *a = arg;
    kv_list before[2] = {{0}}, after[2] = {{0}};
    int rc = STORE_OK;
    a->rows = a->diffs = 0;
    for (int lv = 0; lv < 2 && !rc; lv++) {
        rc = store_each(t, levels[lv], NULL, 0, keep, &before[lv]);
        if (!rc)
            rc = store_clear(t, levels[lv]);
    }
    rebuild_ctx x = {t, 0};
    if (!rc)
        rc = reg_each_click(t, 0, rebuild_click, &x);
    if (!rc)
        rc = reg_each_conversion(t, rebuild_conversion, &x);
    for (int lv = 0; lv < 2 && !rc; lv++) {
        rc = store_each(t, levels[lv], NULL, 0, keep, &after[lv]);
        if (!rc) {
            if (lv == 0) /* reported: the quarter-hour rows; day rows are their sums */
                a->rows += after[lv].n;
            a->diffs += count_diffs(&before[lv], &after[lv]);
        }
    }
    for (int lv = 0; lv < 2; lv++) {
        kv_free(&before[lv]);
        kv_free(&after[lv]);
    }
    if (!rc && a->check)
        return a->diffs ? STORE_CORRUPT : STORE_ROLLBACK;
    return rc;
}

int rollup_rebuild(store *s, bool check, uint64_t *rows, uint64_t *diffs)
{
    rebuild_args a = {check, 0, 0};
    int rc = store_update(s, rebuild, &a);
    if (rc == STORE_ROLLBACK)
        rc = STORE_OK;
    *rows = a.rows;
    *diffs = a.diffs;
    return rc;
}
