/*
 * rollup.c: the report rollups (see rollup.h).
 *
 * Key: bucket index (u32, 15-minute periods since 1970) | kind byte | name [NUL name2]
 * (kind 'U', the unattributed conversions, has no name).
 * Value: version byte, four u64 counters, u16 count, then the money entries.
 *
 * A decoded row's money lives in a rollup_buf (the row plus room for ROLLUP_MAX_MONEY
 * entries), one per use and thread, so that no row is ever allocated per record; a stored
 * row is as long as its entries, so rows with one currency stay small. The rebuild and its
 * check live in rollup_rebuild.c.
 */
#include "storage/rollup.h"

#include <stdlib.h>
#include <string.h>

#include "storage/key.h"
#include "storage/rollup_int.h"

enum { V_ROLLUP = 1 };

/* One conversion, in parts (MODEL_SHARE_ONE in attribution/model.h). */
static const int64_t SHARE_ONE = 1000000000;

rollup_row *rollup_row_of(rollup_buf *b)
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

int rollup_decode(const uint8_t *p, size_t len, rollup_row *r)
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
        rollup_money scratch = {0}, *m = r->money ? &r->money[i] : &scratch; /* NULL: check */
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
    return rollup_decode(v.data, v.len, r) ? STORE_CORRUPT : STORE_OK;
}

int rollup_save(store_txn *t, store_db db, const uint8_t *key, size_t klen, const rollup_row *r)
{
    size_t n = encode(r, row_bytes, sizeof(row_bytes));
    if (!n)
        return STORE_CORRUPT;
    return store_put(t, db, key, klen, row_bytes, n, 0);
}

/* The row being updated (rollup_add_counts, rollup_add_conversion: never nested). */
static _Thread_local rollup_buf update_buf;

int rollup_add_counts(store_txn *t, int64_t ts_ms, const char *link, const rollup_row *delta)
{
    rollup_row *r = rollup_row_of(&update_buf);
    for (int lv = 0; lv < 2; lv++) {
        uint8_t key[ROLLUP_KEY_MAX];
        size_t klen = make_key(key, ts_ms, ROLLUP_LINK, link, NULL, levels[lv]);
        int rc = load(t, levels[lv], key, klen, r);
        if (rc)
            return rc;
        r->clicks += delta->clicks;
        r->unique += delta->unique;
        r->bots += delta->bots;
        r->suspicious += delta->suspicious;
        if ((rc = rollup_save(t, levels[lv], key, klen, r)))
            return rc;
    }
    return STORE_OK;
}

int rollup_check_counts(store_txn *t, int64_t ts_ms, const char *link)
{
    rollup_row *r = rollup_row_of(&update_buf); /* not nested in an update either */
    for (int lv = 0; lv < 2; lv++) {
        uint8_t key[ROLLUP_KEY_MAX];
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
    rollup_row *r = rollup_row_of(&update_buf);
    for (int lv = 0; lv < 2; lv++) {
        uint8_t key[ROLLUP_KEY_MAX];
        size_t klen = make_key(key, c->ts_ms, ROLLUP_NONE, "", NULL, levels[lv]);
        int rc = load(t, levels[lv], key, klen, r);
        for (int m = 0; m < REC_MODELS && !rc; m++)
            rc = add_money(r, (uint8_t)m, currency, sign, SHARE_ONE, c->amount);
        if (!rc)
            rc = rollup_save(t, levels[lv], key, klen, r);
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
    rollup_row *r = rollup_row_of(&update_buf);
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
                uint8_t key[ROLLUP_KEY_MAX];
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
                    rc = rollup_save(t, levels[lv], key, klen, r);
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
    if (k->len < 5 || k->len > ROLLUP_KEY_MAX)
        return STORE_CORRUPT;
    uint32_t b = key_get_u32(p);
    if (b >= x->to_bucket)
        return SCAN_END;
    char name[REC_ID], name2[REC_ID];
    if (key_rollup_names(p, k->len, name, name2, REC_ID))
        return STORE_CORRUPT;
    static _Thread_local rollup_buf scan_buf;
    rollup_row *row = rollup_row_of(&scan_buf);
    if (rollup_decode(v->data, v->len, row))
        return STORE_CORRUPT;
    return x->fn((int64_t)b * ROLLUP_BUCKET_MS, (rollup_kind)p[4], name, name2, row, x->ctx);
}

static int scan_level(store_txn *t, store_db db, int64_t from_ms, int64_t to_ms, rollup_fn fn,
                      void *ctx);

int rollup_row_check(const void *p, size_t len)
{
    rollup_row r = {.money = NULL}; /* counters only: the money entries are read, not kept */
    return rollup_decode(p, len, &r);
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
    uint8_t key[4];
    key_put_u32(key, from);
    int rc = store_each(t, db, key, 4, scan_one, &x);
    return rc == SCAN_END ? STORE_OK : rc;
}
