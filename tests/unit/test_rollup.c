/*
 * test_rollup.c: the report rollups (storage/rollup.c): counts per 15-minute bucket and
 * link, conversion credit per model and currency (link rows and coupon rows), the scan's
 * [from, to) bounds, and rollup_rebuild checking and repairing rows against the raw clicks
 * and conversions.
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

#include "attribution/ledger.h"
#include "attribution/money.h"
#include "attribution/model.h"
#include "storage/clicks.h"
#include "storage/id.h"
#include "storage/registry.h"
#include "storage/rollup.h"
#include "storage/store.h"
#include "storage/text.h"

enum { MIN = 60000, BUCKET = ROLLUP_BUCKET_MS };
static const int64_t DAY = 86400000;

typedef struct {
    char tmp[64];
    store *s;
    int64_t t0; /* 2026-11-20T10:00:00Z, a bucket start */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->tmp, sizeof(f->tmp), "/tmp/jejak-test-rollup-XXXXXX");
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
    f->t0 = text_days_from_civil(2026, 11, 20) * DAY + 10 * 60 * (int64_t)MIN;
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

static rec_click make_click(const char *link, int64_t ts, uint8_t flags)
{
    rec_click k;
    memset(&k, 0, sizeof(k));
    id_click_new(k.id, ts);
    k.ts_ms = ts;
    snprintf(k.link, sizeof(k.link), "%s", link);
    k.visitor[0] = 0x42;
    k.flags = flags;
    return k;
}

/* A conversion with one link credit and one coupon credit under every model; the caller
 * frees it with rec_conversion_free. */
static rec_conversion make_conv(int64_t ts, uint8_t status, const char *currency)
{
    rec_conversion c;
    memset(&c, 0, sizeof(c));
    id_click_new(c.id, ts);
    snprintf(c.shop, sizeof(c.shop), "shop1");
    snprintf(c.order_id, sizeof(c.order_id), "O-%lld", (long long)ts);
    c.status = status;
    c.via = REC_VIA_CLICK;
    c.amount = 10000;
    snprintf(c.currency, sizeof(c.currency), "%s", currency);
    c.ts_ms = ts;
    for (int m = 0; m < REC_MODELS; m++) {
        c.credits[m] = calloc(2, sizeof(rec_credit));
        assert_non_null(c.credits[m]);
        c.ncredits[m] = 2;
        rec_credit *a = &c.credits[m][0], *b = &c.credits[m][1];
        snprintf(a->link, sizeof(a->link), "budi-ig");
        snprintf(a->influencer, sizeof(a->influencer), "budi");
        snprintf(a->campaign, sizeof(a->campaign), "launch");
        snprintf(b->influencer, sizeof(b->influencer), "ayu");
        snprintf(b->campaign, sizeof(b->campaign), "launch");
        /* Different per model so a mix-up shows: model m gives the link (m+1)/10. */
        a->share = (int64_t)(m + 1) * 100000000;
        a->amount = (int64_t)(m + 1) * 1000;
        b->share = MODEL_SHARE_ONE - a->share;
        b->amount = c.amount - a->amount;
    }
    return c;
}

/* ---- updates inside a write transaction ------------------------------------------------- */

typedef struct {
    const rec_click *clicks;
    int nclicks;
    int64_t counts_ts;
    const char *counts_link;
    const rollup_row *counts;
    const rec_conversion *conv;
    int sign;
} add_ctx;

static int add_fn(store_txn *t, void *arg)
{
    add_ctx *x = arg;
    for (int i = 0; i < x->nclicks; i++) {
        int rc = rollup_add_click(t, &x->clicks[i]);
        if (rc)
            return rc;
    }
    if (x->counts) {
        int rc = rollup_add_counts(t, x->counts_ts, x->counts_link, x->counts);
        if (rc)
            return rc;
    }
    if (x->conv)
        return rollup_add_conversion(t, x->conv, x->sign);
    return STORE_OK;
}

static void add(fixture *f, add_ctx *x)
{
    assert_int_equal(store_update(f->s, add_fn, x), STORE_OK);
}

/* ---- scanning ---------------------------------------------------------------------------- */

enum { MAX_ROWS = 32, MAX_GOT_MONEY = 128 };
typedef struct {
    int64_t bucket;
    rollup_kind kind;
    char name[REC_ID], name2[REC_ID];
    rollup_row row; /* row.money points to money below */
    rollup_money money[MAX_GOT_MONEY];
} got_row;

typedef struct {
    got_row rows[MAX_ROWS];
    int n;
    int stop_after; /* 0: never */
} got;

static int collect(int64_t bucket, rollup_kind kind, const char *name, const char *name2,
                   const rollup_row *row, void *arg)
{
    got *g = arg;
    assert_true(g->n < MAX_ROWS);
    assert_int_equal(bucket % BUCKET, 0);
    if (g->n)
        assert_true(bucket >= g->rows[g->n - 1].bucket); /* bucket order */
    got_row *r = &g->rows[g->n++];
    r->bucket = bucket;
    r->kind = kind;
    snprintf(r->name, sizeof(r->name), "%s", name);
    snprintf(r->name2, sizeof(r->name2), "%s", name2);
    /* A scanned row's money is rollup.c's, valid during the call: keep a copy. */
    assert_true(row->nmoney <= MAX_GOT_MONEY);
    r->row = *row;
    memcpy(r->money, row->money, row->nmoney * sizeof(*row->money));
    r->row.money = r->money;
    return g->stop_after && g->n == g->stop_after ? 7 : 0;
}

static int scan(fixture *f, int64_t from, int64_t to, got *g)
{
    memset(g, 0, sizeof(*g));
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    int rc = rollup_scan(t, from, to, collect, g);
    store_read_end(t);
    return rc;
}

static const rollup_money *money(const rollup_row *r, int model, const char *currency)
{
    for (unsigned i = 0; i < r->nmoney; i++)
        if (r->money[i].model == model && !strcmp(r->money[i].currency, currency))
            return &r->money[i];
    return NULL;
}

static void test_clicks_and_counts(void **state)
{
    fixture *f = *state;
    rec_click k[] = {
        make_click("budi-ig", f->t0 + 1 * MIN, REC_CLICK_UNIQUE),
        make_click("budi-ig", f->t0 + 14 * MIN + 59999, 0), /* last ms of the bucket */
        make_click("budi-ig", f->t0 + 2 * MIN, REC_CLICK_BOT),
        make_click("budi-ig", f->t0 + 3 * MIN, REC_CLICK_SUSPICIOUS),
        /* A bot flagged unique is a bot only. */
        make_click("budi-ig", f->t0 + 4 * MIN, REC_CLICK_BOT | REC_CLICK_UNIQUE),
        make_click("budi-ig", f->t0 + 15 * MIN, REC_CLICK_UNIQUE), /* the next bucket */
        make_click("ayu-tt", f->t0 + 5 * MIN, REC_CLICK_UNIQUE | REC_CLICK_HEAD),
    };
    rollup_row delta;
    memset(&delta, 0, sizeof(delta));
    delta.clicks = 10;
    delta.unique = 4;
    delta.bots = 3;
    delta.suspicious = 2;
    add_ctx x = {k, (int)(sizeof(k) / sizeof(k[0])), f->t0 + 7 * MIN, "budi-ig", &delta, NULL, 0};
    add(f, &x);

    got g;
    assert_int_equal(scan(f, f->t0, f->t0 + DAY, &g), STORE_OK);
    assert_int_equal(g.n, 3);
    /* Same bucket: key order (kind, then name): ayu-tt before budi-ig. */
    assert_int_equal(g.rows[0].bucket, f->t0);
    assert_int_equal(g.rows[0].kind, ROLLUP_LINK);
    assert_string_equal(g.rows[0].name, "ayu-tt");
    assert_string_equal(g.rows[0].name2, "");
    assert_int_equal(g.rows[0].row.clicks, 1);
    assert_int_equal(g.rows[0].row.unique, 1);
    assert_int_equal(g.rows[0].row.nmoney, 0);

    assert_int_equal(g.rows[1].bucket, f->t0);
    assert_string_equal(g.rows[1].name, "budi-ig");
    assert_int_equal(g.rows[1].row.clicks, 2 + 10);
    assert_int_equal(g.rows[1].row.unique, 1 + 4);
    assert_int_equal(g.rows[1].row.bots, 2 + 3);
    assert_int_equal(g.rows[1].row.suspicious, 1 + 2);

    assert_int_equal(g.rows[2].bucket, f->t0 + BUCKET);
    assert_string_equal(g.rows[2].name, "budi-ig");
    assert_int_equal(g.rows[2].row.clicks, 1);
    assert_int_equal(g.rows[2].row.unique, 1);
    assert_int_equal(g.rows[2].row.bots, 0);

    /* rollup_click_delta is what one click adds. */
    rollup_row d;
    rollup_click_delta(&k[0], &d);
    assert_int_equal(d.clicks, 1);
    assert_int_equal(d.unique, 1);
    assert_int_equal(d.bots + d.suspicious, 0);
    rollup_click_delta(&k[4], &d);
    assert_int_equal(d.bots, 1);
    assert_int_equal(d.clicks + d.unique + d.suspicious, 0);
    rollup_click_delta(&k[3], &d);
    assert_int_equal(d.suspicious, 1);
    assert_int_equal(d.clicks + d.unique + d.bots, 0);
}

static void test_conversions(void **state)
{
    fixture *f = *state;
    int64_t ts = f->t0 + 20 * MIN; /* bucket t0 + 15 min */
    rec_conversion c = make_conv(ts, REC_STATUS_APPROVED, "USD");
    add_ctx x = {.conv = &c, .sign = +1};
    add(f, &x);
    add(f, &x); /* twice: sums */

    got g;
    assert_int_equal(scan(f, f->t0, f->t0 + DAY, &g), STORE_OK);
    assert_int_equal(g.n, 2);
    /* Coupon rows ('C') sort before link rows ('L') in the same bucket. */
    const got_row *coupon = &g.rows[0], *link = &g.rows[1];
    assert_int_equal(coupon->bucket, f->t0 + BUCKET);
    assert_int_equal(coupon->kind, ROLLUP_COUPON);
    assert_string_equal(coupon->name, "ayu");
    assert_string_equal(coupon->name2, "launch");
    assert_int_equal(link->bucket, f->t0 + BUCKET);
    assert_int_equal(link->kind, ROLLUP_LINK);
    assert_string_equal(link->name, "budi-ig");
    assert_string_equal(link->name2, "");
    assert_int_equal(link->row.clicks, 0);
    assert_int_equal(link->row.nmoney, REC_MODELS);
    assert_int_equal(coupon->row.nmoney, REC_MODELS);
    for (int m = 0; m < REC_MODELS; m++) {
        const rollup_money *a = money(&link->row, m, "USD"), *b = money(&coupon->row, m, "USD");
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(a->parts, 2 * (int64_t)(m + 1) * 100000000);
        assert_int_equal(a->revenue, 2 * (int64_t)(m + 1) * 1000);
        assert_int_equal(b->parts, 2 * (MODEL_SHARE_ONE - (int64_t)(m + 1) * 100000000));
        assert_int_equal(b->revenue, 2 * (10000 - (int64_t)(m + 1) * 1000));
    }

    /* Another currency is another money entry, never added to USD. */
    rec_conversion idr = make_conv(ts, REC_STATUS_APPROVED, "IDR");
    x.conv = &idr;
    add(f, &x);
    assert_int_equal(scan(f, f->t0, f->t0 + DAY, &g), STORE_OK);
    assert_int_equal(g.rows[1].row.nmoney, 2 * REC_MODELS);
    assert_int_equal(money(&g.rows[1].row, MODEL_LINEAR, "IDR")->revenue, 3000);
    assert_int_equal(money(&g.rows[1].row, MODEL_LINEAR, "USD")->revenue, 6000);

    /* -1 takes them back out, to zero. */
    x.sign = -1;
    add(f, &x);
    x.conv = &c;
    add(f, &x);
    add(f, &x);
    assert_int_equal(scan(f, f->t0, f->t0 + DAY, &g), STORE_OK);
    assert_int_equal(g.n, 2);
    for (int i = 0; i < 2; i++)
        for (unsigned j = 0; j < g.rows[i].row.nmoney; j++) {
            assert_int_equal(g.rows[i].row.money[j].parts, 0);
            assert_int_equal(g.rows[i].row.money[j].revenue, 0);
        }
    rec_conversion_free(&c);
    rec_conversion_free(&idr);
}

static void test_only_approved_attributed(void **state)
{
    fixture *f = *state;
    const uint8_t statuses[] = {REC_STATUS_PENDING, REC_STATUS_DECLINED, REC_STATUS_REFUNDED};
    for (size_t i = 0; i < sizeof(statuses); i++) {
        rec_conversion c = make_conv(f->t0, statuses[i], "USD");
        add_ctx x = {.conv = &c, .sign = +1};
        add(f, &x);
        rec_conversion_free(&c);
    }
    got g;
    assert_int_equal(scan(f, 0, f->t0 + DAY, &g), STORE_OK);
    assert_int_equal(g.n, 0);
}

/* A sale credited to no one is still a sale: it has a row of its own (kind ROLLUP_NONE, no
 * name), one conversion and its whole amount under every model; a refund takes it out. */
static void test_unattributed_row(void **state)
{
    fixture *f = *state;
    rec_conversion none = make_conv(f->t0 + MIN, REC_STATUS_APPROVED, "USD");
    for (int m = 0; m < REC_MODELS; m++) {
        free(none.credits[m]);
        none.credits[m] = NULL;
        none.ncredits[m] = 0;
    }
    none.via = REC_VIA_NONE;
    none.amount = 25000;
    add_ctx x = {.conv = &none, .sign = +1};
    add(f, &x);
    add(f, &x);                 /* a second one in the same quarter hour */
    rec_conversion lead = none; /* no amount: "XXX" */
    lead.currency[0] = '\0';
    lead.amount = 0;
    x.conv = &lead;
    add(f, &x);
    got g;
    assert_int_equal(scan(f, 0, f->t0 + DAY, &g), STORE_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.rows[0].kind, ROLLUP_NONE);
    assert_int_equal(g.rows[0].bucket, f->t0);
    assert_string_equal(g.rows[0].name, "");
    assert_string_equal(g.rows[0].name2, "");
    assert_int_equal(g.rows[0].row.clicks, 0);
    for (int m = 0; m < REC_MODELS; m++) {
        const rollup_money *mm = money(&g.rows[0].row, m, "USD");
        assert_non_null(mm);
        assert_int_equal(mm->parts, 2 * (int64_t)MODEL_SHARE_ONE);
        assert_int_equal(mm->revenue, 50000);
        mm = money(&g.rows[0].row, m, "XXX");
        assert_non_null(mm);
        assert_int_equal(mm->parts, MODEL_SHARE_ONE);
    }
    /* The day level holds the same. */
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    memset(&g, 0, sizeof(g));
    assert_int_equal(rollup_scan_days(t, 0, f->t0 + DAY, collect, &g), STORE_OK);
    store_read_end(t);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.rows[0].kind, ROLLUP_NONE);
    assert_int_equal(money(&g.rows[0].row, 0, "USD")->revenue, 50000);

    x = (add_ctx){.conv = &none, .sign = -1};
    add(f, &x);
    assert_int_equal(scan(f, 0, f->t0 + DAY, &g), STORE_OK);
    assert_int_equal(money(&g.rows[0].row, 2, "USD")->parts, MODEL_SHARE_ONE);
    assert_int_equal(money(&g.rows[0].row, 2, "USD")->revenue, 25000);
    rec_conversion_free(&none);
}

/* Every currency a shop can send (all of ISO 4217's, and "no currency") fits in one link's
 * quarter hour: the 13th used to be refused as corrupt, so its postback got a 503 forever. */
typedef struct {
    unsigned nmoney, bad;
} link_count;

static int count_link_money(int64_t bucket, rollup_kind kind, const char *name, const char *name2,
                            const rollup_row *row, void *arg)
{
    link_count *x = arg;
    (void)bucket;
    (void)name2;
    if (kind != ROLLUP_LINK || strcmp(name, "budi-ig"))
        return 0;
    x->nmoney = row->nmoney;
    for (unsigned i = 0; i < row->nmoney; i++) {
        const rollup_money *m = &row->money[i];
        x->bad += m->parts != (int64_t)(m->model + 1) * 100000000 ||
                  m->revenue != (int64_t)(m->model + 1) * 1000;
    }
    return 0;
}

static void test_every_currency_in_one_row(void **state)
{
    fixture *f = *state;
    unsigned n = 0;
    char code[4] = "AAA";
    for (code[0] = 'A'; code[0] <= 'Z'; code[0]++)
        for (code[1] = 'A'; code[1] <= 'Z'; code[1]++)
            for (code[2] = 'A'; code[2] <= 'Z'; code[2]++) {
                if (money_exponent(code) < 0)
                    continue;
                rec_conversion c = make_conv(f->t0 + MIN, REC_STATUS_APPROVED, code);
                add_ctx x = {.conv = &c, .sign = +1};
                if (store_update(f->s, add_fn, &x) != STORE_OK)
                    fail_msg("currency number %u (%s) refused", n + 1, code);
                rec_conversion_free(&c);
                n++;
            }
    rec_conversion c = make_conv(f->t0 + MIN, REC_STATUS_APPROVED, ""); /* "XXX" */
    add_ctx x = {.conv = &c, .sign = +1};
    add(f, &x);
    rec_conversion_free(&c);
    n++;
    assert_true(n <= ROLLUP_MAX_CURRENCIES);
    link_count lc = {0, 0};
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    assert_int_equal(rollup_scan(t, 0, f->t0 + DAY, count_link_money, &lc), STORE_OK);
    assert_int_equal(lc.nmoney, n * REC_MODELS);
    assert_int_equal(lc.bad, 0);
    lc = (link_count){0, 0};
    assert_int_equal(rollup_scan_days(t, 0, f->t0 + DAY, count_link_money, &lc), STORE_OK);
    store_read_end(t);
    assert_int_equal(lc.nmoney, n * REC_MODELS);
}

/* A sum that would leave int64 refuses the conversion with STORE_RANGE and changes
 * nothing: never a wrapped number. */
static void test_sum_overflow_refused(void **state)
{
    fixture *f = *state;
    rec_conversion big = make_conv(f->t0, REC_STATUS_APPROVED, "JPY");
    for (int m = 0; m < REC_MODELS; m++)
        big.credits[m][0].amount = INT64_MAX - 5;
    add_ctx x = {.conv = &big, .sign = +1};
    add(f, &x);
    rec_conversion more = make_conv(f->t0 + MIN, REC_STATUS_APPROVED, "JPY");
    x.conv = &more;
    assert_int_equal(store_update(f->s, add_fn, &x), STORE_RANGE);
    got g;
    assert_int_equal(scan(f, 0, f->t0 + DAY, &g), STORE_OK);
    assert_int_equal(g.n, 2); /* the coupon row and the link row, as after the first */
    const rollup_row *link = g.rows[0].kind == ROLLUP_LINK ? &g.rows[0].row : &g.rows[1].row;
    assert_true(money(link, 0, "JPY")->revenue == INT64_MAX - 5);
    assert_int_equal(money(link, 0, "JPY")->parts, 100000000);
    /* Parts too. */
    rec_conversion parts = make_conv(f->t0 + 2 * MIN, REC_STATUS_APPROVED, "EUR");
    parts.credits[1][0].share = INT64_MAX;
    x.conv = &parts;
    add(f, &x);
    parts.credits[1][0].share = 1;
    assert_int_equal(store_update(f->s, add_fn, &x), STORE_RANGE);
    /* Taking a stored amount out can never overflow: the refund goes through. */
    x = (add_ctx){.conv = &big, .sign = -1};
    add(f, &x);
    assert_string_equal(store_strerror(STORE_RANGE), "a total would overflow");
    rec_conversion_free(&big);
    rec_conversion_free(&more);
    rec_conversion_free(&parts);
}

static void test_scan_bounds(void **state)
{
    fixture *f = *state;
    int64_t from = f->t0, to = f->t0 + 4 * BUCKET;
    rec_click k[] = {
        make_click("a", from - BUCKET, 0),         /* the bucket just before from */
        make_click("a", from - 1, 0),              /* (the same one) */
        make_click("b", from, 0),                  /* from's bucket */
        make_click("c", from + 2 * BUCKET + 5, 0), /* inside */
        make_click("d", to - 1, 0),                /* the last bucket before to */
        make_click("e", to, 0),                    /* to's bucket: excluded */
        make_click("e", to + BUCKET - 1, 0),       /* (the same one) */
    };
    add_ctx x = {k, (int)(sizeof(k) / sizeof(k[0])), 0, NULL, NULL, NULL, 0};
    add(f, &x);

    got g;
    assert_int_equal(scan(f, from, to, &g), STORE_OK);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.rows[0].name, "b");
    assert_int_equal(g.rows[0].bucket, from);
    assert_string_equal(g.rows[1].name, "c");
    assert_int_equal(g.rows[1].bucket, from + 2 * BUCKET);
    assert_string_equal(g.rows[2].name, "d");
    assert_int_equal(g.rows[2].bucket, to - BUCKET);

    /* Empty and inverted ranges call nothing. */
    assert_int_equal(scan(f, from, from, &g), STORE_OK);
    assert_int_equal(g.n, 0);
    assert_int_equal(scan(f, to, from, &g), STORE_OK);
    assert_int_equal(g.n, 0);
    /* A negative from is the start of time. */
    assert_int_equal(scan(f, -DAY, to + DAY, &g), STORE_OK);
    assert_int_equal(g.n, 5);
    assert_string_equal(g.rows[0].name, "a");
    assert_int_equal(g.rows[0].row.clicks, 2);
    assert_string_equal(g.rows[4].name, "e");
    assert_int_equal(g.rows[4].row.clicks, 2);
    /* to inside a bucket includes that bucket (its start is < to). */
    assert_int_equal(scan(f, from, to + 1, &g), STORE_OK);
    assert_int_equal(g.n, 4);
    assert_string_equal(g.rows[3].name, "e");

    /* A callback's non-zero result stops the scan and is returned. */
    memset(&g, 0, sizeof(g));
    g.stop_after = 2;
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    int rc = rollup_scan(t, 0, to + DAY, collect, &g);
    store_read_end(t);
    assert_int_equal(rc, 7);
    assert_int_equal(g.n, 2);
}

/* rollup.h: "Calls fn for every row with from_ms <= bucket start < to_ms". A from inside a
 * bucket must leave that bucket out (its start is before from). */
static void test_scan_from_inside_a_bucket(void **state)
{
    fixture *f = *state;
    rec_click k[] = {make_click("a", f->t0, 0), make_click("b", f->t0 + BUCKET, 0)};
    add_ctx x = {k, 2, 0, NULL, NULL, NULL, 0};
    add(f, &x);
    got g;
    assert_int_equal(scan(f, f->t0 + MIN, f->t0 + DAY, &g), STORE_OK);
    if (g.n != 1)
        fail_msg("rollup_scan(from = bucket start + 1 min): %d rows, want 1 (the bucket "
                 "starting before from was included)",
                 g.n);
    assert_string_equal(g.rows[0].name, "b");
}

/* ---- rebuild ----------------------------------------------------------------------------- */

typedef struct {
    clicks *c;
    rec_click *k;
    bool decided[8];
    int n;
} batch;

static int batch_fn(store_txn *t, void *arg)
{
    batch *b = arg;
    clicks_begin(b->c);
    for (int i = 0; i < b->n; i++) {
        int rc = clicks_put(b->c, t, &b->k[i], &b->decided[i]);
        if (rc)
            return rc;
    }
    return clicks_flush_visits(b->c, t, true);
}

typedef struct {
    const rec_link *links;
    int nlinks;
    const rec_conversion *conv;
} seed_ctx;

static int seed_fn(store_txn *t, void *arg)
{
    seed_ctx *x = arg;
    int rc = STORE_OK;
    for (int i = 0; i < x->nlinks && !rc; i++)
        rc = reg_put_link(t, &x->links[i]);
    if (!rc && x->conv) {
        ledger_config cfg = {30 * DAY, false};
        ledger_result res;
        rc = ledger_record(t, x->conv, &cfg, x->conv->ts_ms, &res);
    }
    return rc;
}

/* Clicks through clicks.c and conversions through the ledger: the live rollups as jejak
 * writes them. */
static void seed(fixture *f)
{
    rec_link l[2];
    memset(l, 0, sizeof(l));
    snprintf(l[0].slug, sizeof(l[0].slug), "budi-ig");
    snprintf(l[0].influencer, sizeof(l[0].influencer), "budi");
    snprintf(l[0].campaign, sizeof(l[0].campaign), "launch");
    snprintf(l[1].slug, sizeof(l[1].slug), "ayu-tt");
    snprintf(l[1].influencer, sizeof(l[1].influencer), "ayu");
    seed_ctx s = {l, 2, NULL};
    assert_int_equal(store_update(f->s, seed_fn, &s), STORE_OK);

    clicks *c;
    assert_int_equal(clicks_open(&c, f->s, NULL), STORE_OK);
    rec_click k[] = {
        make_click("budi-ig", f->t0 - 2 * DAY, 0),
        make_click("budi-ig", f->t0 - 2 * DAY + MIN, 0),
        make_click("ayu-tt", f->t0 - DAY, REC_CLICK_BOT),
        make_click("ayu-tt", f->t0 - 5 * MIN, 0),
    };
    k[0].visitor[0] = k[1].visitor[0] = 0x43; /* budi's clicks: another visitor's */
    batch b;
    memset(&b, 0, sizeof(b));
    b.c = c;
    b.k = k;
    b.n = 4;
    int rc = store_update(f->s, batch_fn, &b);
    clicks_committed(c, rc);
    assert_int_equal(rc, STORE_OK);
    clicks_free(c);

    rec_conversion conv;
    memset(&conv, 0, sizeof(conv));
    snprintf(conv.shop, sizeof(conv.shop), "shop1");
    snprintf(conv.order_id, sizeof(conv.order_id), "A-1");
    conv.status = REC_STATUS_APPROVED;
    conv.amount = 9000;
    snprintf(conv.currency, sizeof(conv.currency), "USD");
    id_click_format(k[3].id, conv.click_id);
    conv.ts_ms = f->t0;
    s = (seed_ctx){NULL, 0, &conv};
    assert_int_equal(store_update(f->s, seed_fn, &s), STORE_OK);
}

typedef struct {
    const void *key;
    size_t klen;
    const void *val;
    size_t vlen;
    bool del;
} raw_ctx;

static int raw_fn(store_txn *t, void *arg)
{
    raw_ctx *x = arg;
    if (x->del)
        return store_del(t, STORE_DB_ROLLUPS, x->key, x->klen);
    return store_put(t, STORE_DB_ROLLUPS, x->key, x->klen, x->val, x->vlen, 0);
}

/* The key of a link row: bucket index (u32 big-endian), 'L', slug. */
static size_t link_key(uint8_t *key, int64_t ts, const char *slug)
{
    uint32_t b = (uint32_t)(ts / BUCKET);
    key[0] = (uint8_t)(b >> 24);
    key[1] = (uint8_t)(b >> 16);
    key[2] = (uint8_t)(b >> 8);
    key[3] = (uint8_t)b;
    key[4] = 'L';
    memcpy(key + 5, slug, strlen(slug));
    return 5 + strlen(slug);
}

static int copy_val(fixture *f, const uint8_t *key, size_t klen, uint8_t *out, size_t cap)
{
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    store_val v;
    int rc = store_get(t, STORE_DB_ROLLUPS, key, klen, &v);
    size_t n = rc ? 0 : v.len;
    if (!rc) {
        assert_true(v.len <= cap);
        memcpy(out, v.data, v.len);
    }
    store_read_end(t);
    assert_int_equal(rc, STORE_OK);
    return (int)n;
}

/* Through the ledger, as a postback is recorded: the conversion whose sums would overflow
 * gets STORE_RANGE (the postback route's 422), and it is not stored at all. */
static void test_ledger_refuses_overflow(void **state)
{
    fixture *f = *state;
    rec_conversion c;
    memset(&c, 0, sizeof(c));
    snprintf(c.shop, sizeof(c.shop), "shop1");
    snprintf(c.order_id, sizeof(c.order_id), "BIG-1");
    c.status = REC_STATUS_APPROVED;
    c.amount = INT64_MAX - 5; /* stored before amounts were capped at parse */
    snprintf(c.currency, sizeof(c.currency), "JPY");
    c.ts_ms = f->t0;
    seed_ctx s = {NULL, 0, &c};
    assert_int_equal(store_update(f->s, seed_fn, &s), STORE_OK);
    snprintf(c.order_id, sizeof(c.order_id), "BIG-2");
    c.amount = 100;
    assert_int_equal(store_update(f->s, seed_fn, &s), STORE_RANGE);
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    assert_int_equal(store_count(t, STORE_DB_CONVERSIONS), 1);
    store_read_end(t);
    got g;
    assert_int_equal(scan(f, 0, f->t0 + DAY, &g), STORE_OK);
    assert_int_equal(g.n, 1);
    assert_true(money(&g.rows[0].row, 0, "JPY")->revenue == INT64_MAX - 5);
}

static void test_rebuild(void **state)
{
    fixture *f = *state;
    seed(f);
    uint64_t rows = 0, diffs = 99;
    assert_int_equal(rollup_rebuild(f->s, true, &rows, &diffs), STORE_OK);
    assert_int_equal(diffs, 0);
    /* Rows: budi-ig's bucket 2 days back, ayu-tt's bot bucket, ayu-tt's click bucket (t0-15)
     * and the conversion's bucket (t0). */
    assert_int_equal(rows, 4);

    /* Tamper: one more click in budi-ig's row (the clicks counter is the u64 after the
     * version byte). */
    uint8_t key[80], val[2048];
    size_t klen = link_key(key, f->t0 - 2 * DAY, "budi-ig");
    int vlen = copy_val(f, key, klen, val, sizeof(val));
    assert_true(vlen >= 9);
    assert_int_equal(val[8], 2);
    val[8] = 3;
    raw_ctx r = {key, klen, val, (size_t)vlen, false};
    assert_int_equal(store_update(f->s, raw_fn, &r), STORE_OK);

    got g;
    assert_int_equal(scan(f, f->t0 - 2 * DAY, f->t0 - 2 * DAY + BUCKET, &g), STORE_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.rows[0].row.clicks, 3);

    assert_int_equal(rollup_rebuild(f->s, true, &rows, &diffs), STORE_CORRUPT);
    assert_int_equal(diffs, 1);
    /* A check writes nothing: the tampered row is still there. */
    assert_int_equal(scan(f, f->t0 - 2 * DAY, f->t0 - 2 * DAY + BUCKET, &g), STORE_OK);
    assert_int_equal(g.rows[0].row.clicks, 3);

    /* A row for a link with no clicks at all, and a missing row, are differences too. */
    uint8_t key2[80];
    size_t klen2 = link_key(key2, f->t0 + DAY, "ghost");
    raw_ctx r2 = {key2, klen2, val, (size_t)vlen, false};
    assert_int_equal(store_update(f->s, raw_fn, &r2), STORE_OK);
    uint8_t key3[80];
    size_t klen3 = link_key(key3, f->t0, "ayu-tt"); /* the conversion's credit */
    raw_ctx r3 = {key3, klen3, NULL, 0, true};
    assert_int_equal(store_update(f->s, raw_fn, &r3), STORE_OK);
    assert_int_equal(rollup_rebuild(f->s, true, &rows, &diffs), STORE_CORRUPT);
    assert_int_equal(diffs, 3);

    /* Repair. */
    assert_int_equal(rollup_rebuild(f->s, false, &rows, &diffs), STORE_OK);
    assert_int_equal(diffs, 3);
    assert_int_equal(rows, 4);
    assert_int_equal(rollup_rebuild(f->s, true, &rows, &diffs), STORE_OK);
    assert_int_equal(diffs, 0);
    assert_int_equal(scan(f, f->t0 - 2 * DAY, f->t0 - 2 * DAY + BUCKET, &g), STORE_OK);
    assert_int_equal(g.rows[0].row.clicks, 2);
    assert_int_equal(scan(f, f->t0 + DAY, f->t0 + 2 * DAY, &g), STORE_OK);
    assert_int_equal(g.n, 0);
    assert_int_equal(scan(f, f->t0, f->t0 + BUCKET, &g), STORE_OK);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.rows[0].name, "ayu-tt");
    for (int m = 0; m < REC_MODELS; m++) {
        const rollup_money *mm = money(&g.rows[0].row, m, "USD");
        assert_non_null(mm);
        assert_int_equal(mm->parts, MODEL_SHARE_ONE);
        assert_int_equal(mm->revenue, 9000);
    }
}

static void test_rebuild_empty_and_undecodable(void **state)
{
    fixture *f = *state;
    uint64_t rows = 9, diffs = 9;
    assert_int_equal(rollup_rebuild(f->s, true, &rows, &diffs), STORE_OK);
    assert_int_equal(rows, 0);
    assert_int_equal(diffs, 0);

    /* A row that does not decode differs from anything, and the scan refuses it. */
    uint8_t key[80];
    size_t klen = link_key(key, f->t0, "junk");
    raw_ctx r = {key, klen, "\x09junk", 5, false};
    assert_int_equal(store_update(f->s, raw_fn, &r), STORE_OK);
    got g;
    assert_int_equal(scan(f, f->t0, f->t0 + BUCKET, &g), STORE_CORRUPT);
    assert_int_equal(rollup_rebuild(f->s, true, &rows, &diffs), STORE_CORRUPT);
    assert_int_equal(diffs, 1);
    assert_int_equal(rollup_rebuild(f->s, false, &rows, &diffs), STORE_OK);
    assert_int_equal(rows, 0);
    assert_int_equal(scan(f, 0, f->t0 + DAY, &g), STORE_OK);
    assert_int_equal(g.n, 0);
}

/* ---- rebuild in slices ------------------------------------------------------------------ */

typedef struct {
    const rec_conversion *conv;
    const ledger_config *cfg;
    int64_t now_ms;
} late_ctx;

static int late_fn(store_txn *t, void *arg)
{
    late_ctx *x = arg;
    ledger_result res;
    return ledger_record(t, x->conv, x->cfg, x->now_ms, &res);
}

/* One day with a click in each of 8 quarter hours, and a conversion recorded days after the
 * click it credits (its id carries the later time, its ts the click's day). */
static void seed_day(fixture *f, int64_t day_ts, rec_click *k)
{
    clicks *c;
    assert_int_equal(clicks_open(&c, f->s, NULL), STORE_OK);
    for (int i = 0; i < 8; i++) {
        k[i] = make_click("budi-ig", day_ts + i * BUCKET + 7 * MIN, 0);
        k[i].visitor[1] = (uint8_t)i;
    }
    batch b;
    memset(&b, 0, sizeof(b));
    b.c = c;
    b.k = k;
    b.n = 8;
    int rc = store_update(f->s, batch_fn, &b);
    clicks_committed(c, rc);
    assert_int_equal(rc, STORE_OK);
    clicks_free(c);

    rec_conversion conv;
    memset(&conv, 0, sizeof(conv));
    snprintf(conv.shop, sizeof(conv.shop), "shop1");
    snprintf(conv.order_id, sizeof(conv.order_id), "LATE-1");
    conv.status = REC_STATUS_APPROVED;
    conv.amount = 4200;
    snprintf(conv.currency, sizeof(conv.currency), "USD");
    id_click_format(k[5].id, conv.click_id);
    conv.ts_ms = k[5].ts_ms + MIN;
    ledger_config cfg = {30 * DAY, false};
    late_ctx x = {&conv, &cfg, f->t0 + 3 * DAY};
    assert_int_equal(store_update(f->s, late_fn, &x), STORE_OK);
}

static void test_rebuild_in_slices(void **state)
{
    fixture *f = *state;
    seed(f);
    rec_click k[8];
    int64_t day = f->t0 - f->t0 % DAY - 3 * DAY;
    seed_day(f, day, k);
    uint64_t rows, diffs, slices, all_rows;
    assert_int_equal(rollup_rebuild(f->s, true, &all_rows, &diffs), STORE_OK);
    assert_int_equal(diffs, 0);
    /* One click per slice: the day of 8 quarter hours spans 8 slices. */
    assert_int_equal(rollup_rebuild_sliced(f->s, true, 1, &rows, &diffs, &slices), STORE_OK);
    assert_int_equal(diffs, 0);
    assert_int_equal(rows, all_rows);
    assert_true(slices >= 10);

    /* Tamper with a quarter hour in the middle of that day: found once (its day row is
     * right), by a sliced check as by a whole one, and repaired slice by slice. */
    uint8_t key[80], val[2048];
    size_t klen = link_key(key, k[3].ts_ms, "budi-ig");
    int vlen = copy_val(f, key, klen, val, sizeof(val));
    assert_int_equal(val[8], 1);
    val[8] = 5;
    raw_ctx r = {key, klen, val, (size_t)vlen, false};
    assert_int_equal(store_update(f->s, raw_fn, &r), STORE_OK);
    assert_int_equal(rollup_rebuild_sliced(f->s, true, 1, &rows, &diffs, &slices), STORE_CORRUPT);
    assert_int_equal(diffs, 1);
    assert_int_equal(rollup_rebuild(f->s, true, &rows, &diffs), STORE_CORRUPT);
    assert_int_equal(diffs, 1);
    assert_int_equal(rollup_rebuild_sliced(f->s, false, 2, &rows, &diffs, &slices), STORE_OK);
    assert_int_equal(diffs, 1);
    assert_int_equal(rows, all_rows);
    assert_int_equal(rollup_rebuild(f->s, true, &rows, &diffs), STORE_OK);
    assert_int_equal(diffs, 0);
    got g;
    assert_int_equal(scan(f, k[3].ts_ms - k[3].ts_ms % BUCKET, k[3].ts_ms + 1, &g), STORE_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.rows[0].row.clicks, 1);
    /* The late conversion is credited in its own quarter hour, not its id's. */
    assert_int_equal(scan(f, k[5].ts_ms - k[5].ts_ms % BUCKET, k[5].ts_ms + MIN + 1, &g), STORE_OK);
    assert_int_equal(g.n, 1);
    const rollup_money *m = money(&g.rows[0].row, MODEL_LAST_CLICK, "USD");
    assert_non_null(m);
    assert_int_equal(m->revenue, 4200);
}

/* A tampered day row is found and repaired even when its day spans slices. */
typedef struct {
    const uint8_t *key;
    size_t klen;
    const uint8_t *val;
    size_t vlen;
} day_raw_ctx;

static int day_raw_fn(store_txn *t, void *arg)
{
    day_raw_ctx *x = arg;
    return store_put(t, STORE_DB_ROLLUPS_DAY, x->key, x->klen, x->val, x->vlen, 0);
}

static void test_rebuild_day_row_in_slices(void **state)
{
    fixture *f = *state;
    seed(f);
    rec_click k[8];
    int64_t day = f->t0 - f->t0 % DAY - 3 * DAY;
    seed_day(f, day, k);
    /* The day row (8 clicks) gets the value of its first quarter hour's (1 click). */
    uint8_t qkey[80], dkey[80], val[2048];
    size_t qlen = link_key(qkey, k[0].ts_ms, "budi-ig"), dlen = link_key(dkey, day, "budi-ig");
    int vlen = copy_val(f, qkey, qlen, val, sizeof(val));
    day_raw_ctx r = {dkey, dlen, val, (size_t)vlen};
    assert_int_equal(store_update(f->s, day_raw_fn, &r), STORE_OK);
    uint64_t rows, diffs, slices;
    assert_int_equal(rollup_rebuild_sliced(f->s, true, 1, &rows, &diffs, &slices), STORE_CORRUPT);
    assert_int_equal(diffs, 1);
    assert_true(slices >= 8);
    assert_int_equal(rollup_rebuild_sliced(f->s, false, 3, &rows, &diffs, &slices), STORE_OK);
    assert_int_equal(diffs, 1);
    assert_int_equal(rollup_rebuild(f->s, true, &rows, &diffs), STORE_OK);
    assert_int_equal(diffs, 0);
}

/* Undecodable rows in a day split across slices, one in a quarter hour a later slice does
 * and one at the day level, are found and repaired. */
static void test_rebuild_undecodable_in_slices(void **state)
{
    fixture *f = *state;
    seed(f);
    rec_click k[8];
    int64_t day = f->t0 - f->t0 % DAY - 3 * DAY;
    seed_day(f, day, k);
    uint8_t qkey[80], dkey[80];
    size_t qlen = link_key(qkey, k[6].ts_ms, "budi-ig"), dlen = link_key(dkey, day, "budi-ig");
    raw_ctx q = {qkey, qlen, "\x09junk", 5, false};
    assert_int_equal(store_update(f->s, raw_fn, &q), STORE_OK);
    day_raw_ctx d = {dkey, dlen, (const uint8_t *)"\x09junk", 5};
    assert_int_equal(store_update(f->s, day_raw_fn, &d), STORE_OK);
    uint64_t rows, diffs, slices;
    assert_int_equal(rollup_rebuild_sliced(f->s, true, 1, &rows, &diffs, &slices), STORE_CORRUPT);
    assert_int_equal(diffs, 2);
    assert_int_equal(rollup_rebuild_sliced(f->s, false, 1, &rows, &diffs, &slices), STORE_OK);
    assert_int_equal(diffs, 2);
    assert_int_equal(rollup_rebuild(f->s, true, &rows, &diffs), STORE_OK);
    assert_int_equal(diffs, 0);
}

typedef struct {
    store *s;
    int64_t ts;
    atomic_bool stop;
    int batches;
} writer_ctx;

static void *write_clicks(void *arg)
{
    writer_ctx *w = arg;
    clicks *c;
    if (clicks_open(&c, w->s, NULL))
        return NULL;
    while (!atomic_load(&w->stop)) {
        rec_click k[8];
        for (int i = 0; i < 8; i++) {
            k[i] = make_click(i % 2 ? "budi-ig" : "ayu-tt", w->ts + w->batches * MIN + i, 0);
            k[i].visitor[1] = (uint8_t)w->batches;
        }
        batch b;
        memset(&b, 0, sizeof(b));
        b.c = c;
        b.k = k;
        b.n = 8;
        int rc = store_update(w->s, batch_fn, &b);
        clicks_committed(c, rc);
        if (rc)
            break;
        w->batches++;
    }
    clicks_free(c);
    return NULL;
}

/* Clicks written while a rebuild runs slice by slice (in their own quarter hours, past the
 * rebuild's start, and into the slices it has yet to do) are all counted once. */
static void test_rebuild_while_writing(void **state)
{
    fixture *f = *state;
    seed(f);
    rec_click k[8];
    seed_day(f, f->t0 - f->t0 % DAY - 3 * DAY, k);
    writer_ctx w = {f->s, f->t0 - 3 * DAY + 2 * BUCKET, false, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, write_clicks, &w), 0);
    uint64_t rows, diffs, slices;
    for (int i = 0; i < 3; i++)
        assert_int_equal(rollup_rebuild_sliced(f->s, false, 2, &rows, &diffs, &slices), STORE_OK);
    atomic_store(&w.stop, true);
    pthread_join(th, NULL);
    assert_true(w.batches > 0);
    assert_int_equal(rollup_rebuild(f->s, true, &rows, &diffs), STORE_OK);
    assert_int_equal(diffs, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_clicks_and_counts),
        T(test_conversions),
        T(test_only_approved_attributed),
        T(test_unattributed_row),
        T(test_every_currency_in_one_row),
        T(test_sum_overflow_refused),
        T(test_ledger_refuses_overflow),
        T(test_scan_bounds),
        T(test_scan_from_inside_a_bucket),
        T(test_rebuild),
        T(test_rebuild_empty_and_undecodable),
        T(test_rebuild_in_slices),
        T(test_rebuild_day_row_in_slices),
        T(test_rebuild_undecodable_in_slices),
        T(test_rebuild_while_writing),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
