/*
 * test_ledger.c: recording conversions (attribution/ledger.c) on a fresh store: clicks
 * written the way the writer writes them (clicks.c), then a shop's conversion naming one
 * click, credited under all five models, with the known answers of known-answers.md
 * (time decay 1/3 and 2/3 for clicks 8 days and 1 day old; lookback 30 days). Also
 * duplicates and status changes, bots, unknown clicks, coupons, and the rollups that
 * follow every change.
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

#include "attribution/ledger.h"
#include "attribution/model.h"
#include "storage/clicks.h"
#include "storage/id.h"
#include "storage/registry.h"
#include "storage/rollup.h"
#include "storage/store.h"
#include "storage/text.h"

enum { MIN = 60000, HOUR = 3600000 };
static const int64_t DAY = 86400000;

typedef struct {
    char tmp[64];
    store *s;
    clicks *c;
    int64_t conv_ts; /* 2026-11-20T10:00:00Z: when the conversions happen */
    ledger_config cfg;
} fixture;

/* ---- writing through the APIs ----------------------------------------------------------- */

typedef struct {
    const rec_influencer *inf;
    const rec_campaign *camp;
    const rec_link *link;
    const rec_coupon *coupon;
} reg_ctx;

static int put_reg(store_txn *t, void *arg)
{
    reg_ctx *x = arg;
    int rc = STORE_OK;
    if (x->inf)
        rc = reg_put_influencer(t, x->inf);
    if (!rc && x->camp)
        rc = reg_put_campaign(t, x->camp);
    if (!rc && x->link)
        rc = reg_put_link(t, x->link);
    if (!rc && x->coupon)
        rc = reg_put_coupon(t, x->coupon);
    return rc;
}

static void add_influencer(fixture *f, const char *id)
{
    rec_influencer r;
    memset(&r, 0, sizeof(r));
    snprintf(r.id, sizeof(r.id), "%s", id);
    snprintf(r.name, sizeof(r.name), "%s", id);
    r.followers = 20000;
    reg_ctx x = {.inf = &r};
    assert_int_equal(store_update(f->s, put_reg, &x), STORE_OK);
}

static void add_link(fixture *f, const char *slug, const char *inf, const char *camp)
{
    rec_link l;
    memset(&l, 0, sizeof(l));
    snprintf(l.slug, sizeof(l.slug), "%s", slug);
    snprintf(l.dest, sizeof(l.dest), "https://shop.example/");
    snprintf(l.influencer, sizeof(l.influencer), "%s", inf);
    snprintf(l.campaign, sizeof(l.campaign), "%s", camp);
    reg_ctx x = {.link = &l};
    assert_int_equal(store_update(f->s, put_reg, &x), STORE_OK);
}

static void add_coupon(fixture *f, const char *code, const char *inf, const char *camp)
{
    rec_coupon k;
    memset(&k, 0, sizeof(k));
    snprintf(k.code, sizeof(k.code), "%s", code);
    snprintf(k.influencer, sizeof(k.influencer), "%s", inf);
    snprintf(k.campaign, sizeof(k.campaign), "%s", camp);
    reg_ctx x = {.coupon = &k};
    assert_int_equal(store_update(f->s, put_reg, &x), STORE_OK);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->tmp, sizeof(f->tmp), "/tmp/jejak-test-ledger-XXXXXX");
    if (!mkdtemp(f->tmp)) {
        free(f);
        return -1;
    }
    char err[512] = "";
    if (store_open(&f->s, f->tmp, err, sizeof(err)) != STORE_OK ||
        clicks_open(&f->c, f->s, NULL) != STORE_OK) {
        fprintf(stderr, "store_open: %s\n", err);
        store_close(f->s);
        tmpstore_remove(f->tmp);
        free(f);
        return -1;
    }
    f->conv_ts = text_days_from_civil(2026, 11, 20) * DAY + 10 * HOUR;
    f->cfg.lookback_ms = 30 * DAY;
    f->cfg.coupon_priority = false;
    *state = f;
    add_influencer(f, "budi");
    add_influencer(f, "ayu");
    rec_campaign c;
    memset(&c, 0, sizeof(c));
    snprintf(c.id, sizeof(c.id), "launch");
    reg_ctx x = {.camp = &c};
    assert_int_equal(store_update(f->s, put_reg, &x), STORE_OK);
    add_link(f, "budi-ig", "budi", "launch");
    add_link(f, "ayu-tt", "ayu", "launch");
    add_coupon(f, "ayu10", "ayu", "launch");
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

static rec_click make_click(const uint8_t visitor[16], const char *link, int64_t ts, bool bot)
{
    rec_click k;
    memset(&k, 0, sizeof(k));
    id_click_new(k.id, ts);
    k.ts_ms = ts;
    snprintf(k.link, sizeof(k.link), "%s", link);
    memcpy(k.visitor, visitor, 16);
    k.ip_family = 4;
    k.ip[0] = 10;
    k.device = bot ? REC_DEVICE_BOT : REC_DEVICE_MOBILE;
    k.flags = bot ? REC_CLICK_BOT : 0;
    return k;
}

typedef struct {
    clicks *c;
    rec_click *k;
    bool decided[16];
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

/* Writes the clicks (in time order) as the writer does, visits flushed at once. */
static void write_clicks(fixture *f, rec_click *k, int n)
{
    assert_true(n <= 16);
    batch b;
    memset(&b, 0, sizeof(b));
    b.c = f->c;
    b.k = k;
    b.n = n;
    int rc = store_update(f->s, batch_fn, &b);
    clicks_committed(f->c, rc);
    assert_int_equal(rc, STORE_OK);
}

static rec_conversion make_conv(fixture *f, const char *order, const char *click_id,
                                const char *coupon, int64_t amount, const char *currency)
{
    rec_conversion c;
    memset(&c, 0, sizeof(c));
    snprintf(c.shop, sizeof(c.shop), "shop1");
    snprintf(c.order_id, sizeof(c.order_id), "%s", order);
    c.event = REC_EVENT_PURCHASE;
    c.status = REC_STATUS_APPROVED;
    c.amount = amount;
    snprintf(c.currency, sizeof(c.currency), "%s", currency);
    if (click_id)
        snprintf(c.click_id, sizeof(c.click_id), "%s", click_id);
    if (coupon)
        snprintf(c.coupon, sizeof(c.coupon), "%s", coupon);
    c.ts_ms = f->conv_ts;
    return c;
}

typedef struct {
    const rec_conversion *in;
    unsigned given;
    const ledger_config *cfg;
    int64_t now;
    ledger_result *out;
} given_ctx;

static int given_fn(store_txn *t, void *arg)
{
    given_ctx *x = arg;
    return ledger_record_given(t, x->in, x->given, x->cfg, x->now, x->out);
}

/* Records c as a postback that gave only the fields in given (LEDGER_GAVE_*). */
static ledger_result record_given(fixture *f, const rec_conversion *c, unsigned given, int64_t now)
{
    ledger_result res;
    memset(&res, 0xee, sizeof(res));
    given_ctx x = {c, given, &f->cfg, now, &res};
    assert_int_equal(store_update(f->s, given_fn, &x), STORE_OK);
    return res;
}

static ledger_result record_at(fixture *f, const rec_conversion *c, int64_t now)
{
    return record_given(f, c, LEDGER_GAVE_ALL, now);
}

static ledger_result record(fixture *f, const rec_conversion *c)
{
    return record_at(f, c, f->conv_ts + MIN);
}

/* Reads the stored conversion of shop1's order (found through the order index). */
static void load(fixture *f, const char *order, rec_conversion *out, uint8_t id[16])
{
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    assert_int_equal(reg_find_order(t, "shop1", order, id), STORE_OK);
    int rc = reg_get_conversion(t, id, out);
    store_read_end(t);
    assert_int_equal(rc, STORE_OK);
}

/* Expects under model m exactly one credit line per (link, share, amount) given. */
typedef struct {
    const char *link, *influencer;
    int64_t share, amount;
} want_line;

static void expect_credits(const rec_conversion *c, int m, const want_line *w, int n)
{
    if (c->ncredits[m] != n)
        fail_msg("model %s: %u credit lines, want %d", model_name((model_kind)m), c->ncredits[m],
                 n);
    int64_t shares = 0, amounts = 0;
    for (int i = 0; i < n; i++) {
        const rec_credit *k = NULL;
        for (unsigned j = 0; j < c->ncredits[m]; j++)
            if (!strcmp(c->credits[m][j].link, w[i].link) &&
                !strcmp(c->credits[m][j].influencer, w[i].influencer))
                k = &c->credits[m][j];
        if (!k)
            fail_msg("model %s: no line for link \"%s\"", model_name((model_kind)m), w[i].link);
        if (k->share != w[i].share || k->amount != w[i].amount)
            fail_msg("model %s, link \"%s\": share %lld amount %lld, want %lld %lld",
                     model_name((model_kind)m), w[i].link, (long long)k->share,
                     (long long)k->amount, (long long)w[i].share, (long long)w[i].amount);
        assert_string_equal(k->campaign, "launch");
        shares += k->share;
        amounts += k->amount;
    }
    assert_int_equal(shares, MODEL_SHARE_ONE);
    assert_int_equal(amounts, c->amount);
}

static void expect_no_credits(const rec_conversion *c)
{
    for (int m = 0; m < REC_MODELS; m++)
        assert_int_equal(c->ncredits[m], 0);
}

/* Every model gives the whole conversion to one link (or to a coupon when link is ""). */
static void expect_all_to(const rec_conversion *c, const char *link, const char *influencer)
{
    want_line w = {link, influencer, MODEL_SHARE_ONE, c->amount};
    for (int m = 0; m < REC_MODELS; m++)
        expect_credits(c, m, &w, 1);
}

/* ---- rollup totals -------------------------------------------------------------------- */

typedef struct {
    int64_t parts[REC_MODELS], revenue[REC_MODELS];
    uint64_t clicks, bots, rows;
    char currency[4];
    int coupon_rows;
} totals;

static int sum_row(int64_t bucket, rollup_kind kind, const char *name, const char *name2,
                   const rollup_row *row, void *arg)
{
    totals *x = arg;
    (void)name;
    (void)name2;
    assert_int_equal(bucket % ROLLUP_BUCKET_MS, 0);
    x->rows++;
    x->clicks += row->clicks;
    x->bots += row->bots;
    x->coupon_rows += kind == ROLLUP_COUPON;
    for (unsigned i = 0; i < row->nmoney; i++) {
        assert_true(row->money[i].model < REC_MODELS);
        x->parts[row->money[i].model] += row->money[i].parts;
        x->revenue[row->money[i].model] += row->money[i].revenue;
        if (row->money[i].parts || row->money[i].revenue)
            memcpy(x->currency, row->money[i].currency, 4);
    }
    return 0;
}

static totals scan_all(fixture *f)
{
    totals x;
    memset(&x, 0, sizeof(x));
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    int rc = rollup_scan(t, 0, f->conv_ts + 365 * DAY, sum_row, &x);
    store_read_end(t);
    assert_int_equal(rc, STORE_OK);
    return x;
}

/* Per link: the money of one model in the rollup row of the conversion's bucket. */
typedef struct {
    const char *link;
    int model;
    int64_t parts, revenue;
    int found;
} link_money;

static int find_link_money(int64_t bucket, rollup_kind kind, const char *name, const char *name2,
                           const rollup_row *row, void *arg)
{
    link_money *x = arg;
    (void)bucket;
    (void)name2;
    if (kind != ROLLUP_LINK || strcmp(name, x->link))
        return 0;
    for (unsigned i = 0; i < row->nmoney; i++)
        if (row->money[i].model == x->model) {
            assert_string_equal(row->money[i].currency, "USD");
            x->parts += row->money[i].parts;
            x->revenue += row->money[i].revenue;
            x->found++;
        }
    return 0;
}

static link_money money_of(fixture *f, const char *link, int model)
{
    link_money x = {link, model, 0, 0, 0};
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    /* Conversion credit is counted in the conversion's own bucket. */
    int64_t b = f->conv_ts / ROLLUP_BUCKET_MS * ROLLUP_BUCKET_MS;
    assert_int_equal(rollup_scan(t, b, b + ROLLUP_BUCKET_MS, find_link_money, &x), STORE_OK);
    store_read_end(t);
    return x;
}

/* ---- the journey: budi 8 days before, ayu 1 day before ------------------------------- */

static const uint8_t VIS[16] = {0x51, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* Writes the two clicks and records order A-1 for 90.00 USD naming ayu's click. */
static ledger_result two_touch(fixture *f, rec_click k[2])
{
    k[0] = make_click(VIS, "budi-ig", f->conv_ts - 8 * DAY, false);
    k[1] = make_click(VIS, "ayu-tt", f->conv_ts - 1 * DAY, false);
    write_clicks(f, k, 2);
    char text[ID_CLICK_TEXT + 1];
    id_click_format(k[1].id, text);
    rec_conversion c = make_conv(f, "A-1", text, NULL, 9000, "USD");
    return record(f, &c);
}

static void test_credits_per_model(void **state)
{
    fixture *f = *state;
    rec_click k[2];
    ledger_result res = two_touch(f, k);
    assert_int_equal(res.outcome, LEDGER_RECORDED);
    assert_int_equal(res.via, REC_VIA_CLICK);

    rec_conversion c;
    uint8_t id[16];
    load(f, "A-1", &c, id);
    assert_memory_equal(id, res.id, 16);
    assert_memory_equal(c.id, res.id, 16);
    assert_int_equal(c.via, REC_VIA_CLICK);

    const want_line ayu_all = {"ayu-tt", "ayu", MODEL_SHARE_ONE, 9000};
    const want_line budi_all = {"budi-ig", "budi", MODEL_SHARE_ONE, 9000};
    expect_credits(&c, MODEL_LAST_CLICK, &ayu_all, 1);
    expect_credits(&c, MODEL_FIRST_CLICK, &budi_all, 1);
    const want_line half[] = {{"budi-ig", "budi", 500000000, 4500},
                              {"ayu-tt", "ayu", 500000000, 4500}};
    expect_credits(&c, MODEL_LINEAR, half, 2);
    expect_credits(&c, MODEL_POSITION_BASED, half, 2);
    /* Weights 1/2 : 1 exactly; the share's leftover part goes to the larger remainder. */
    const want_line decay[] = {{"budi-ig", "budi", 333333333, 3000},
                               {"ayu-tt", "ayu", 666666667, 6000}};
    expect_credits(&c, MODEL_TIME_DECAY, decay, 2);
    rec_conversion_free(&c);
}

static void test_order_round_trip(void **state)
{
    fixture *f = *state;
    rec_click k[2];
    ledger_result res = two_touch(f, k);
    char text[ID_CLICK_TEXT + 1];
    id_click_format(k[1].id, text);

    rec_conversion c;
    uint8_t id[16];
    load(f, "A-1", &c, id);
    assert_memory_equal(id, res.id, 16);
    assert_string_equal(c.shop, "shop1");
    assert_string_equal(c.order_id, "A-1");
    assert_int_equal(c.event, REC_EVENT_PURCHASE);
    assert_int_equal(c.status, REC_STATUS_APPROVED);
    assert_int_equal(c.amount, 9000);
    assert_string_equal(c.currency, "USD");
    assert_string_equal(c.click_id, text);
    assert_string_equal(c.coupon, "");
    assert_int_equal(c.ts_ms, f->conv_ts);
    assert_int_equal(c.created_ms, f->conv_ts + MIN);
    assert_int_equal(c.updated_ms, f->conv_ts + MIN);
    /* The id is time-ordered by when jejak recorded it. */
    assert_int_equal(id_click_time(c.id), f->conv_ts + MIN);
    rec_conversion_free(&c);

    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    assert_int_equal(reg_find_order(t, "shop1", "A-2", id), STORE_NOTFOUND);
    assert_int_equal(reg_find_order(t, "shop2", "A-1", id), STORE_NOTFOUND);
    assert_int_equal(store_count(t, STORE_DB_CONVERSIONS), 1);
    assert_int_equal(store_count(t, STORE_DB_ORDERS), 1);
    store_read_end(t);
}

static void test_duplicate_changes_nothing(void **state)
{
    fixture *f = *state;
    rec_click k[2];
    ledger_result first = two_touch(f, k);
    totals before = scan_all(f);

    /* The shop posts the same order again, later, even with another click and coupon. */
    rec_conversion again = make_conv(f, "A-1", "", "AYU10", 9000, "USD");
    ledger_result res = record_at(f, &again, f->conv_ts + HOUR);
    assert_int_equal(res.outcome, LEDGER_DUPLICATE);
    assert_memory_equal(res.id, first.id, 16);
    assert_int_equal(res.via, REC_VIA_CLICK);

    rec_conversion c;
    uint8_t id[16];
    load(f, "A-1", &c, id);
    assert_memory_equal(id, first.id, 16);
    assert_int_equal(c.amount, 9000);
    assert_int_equal(c.status, REC_STATUS_APPROVED);
    assert_int_equal(c.via, REC_VIA_CLICK);
    assert_int_equal(c.updated_ms, f->conv_ts + MIN);
    assert_string_equal(c.coupon, "");
    const want_line ayu_all = {"ayu-tt", "ayu", MODEL_SHARE_ONE, 9000};
    expect_credits(&c, MODEL_LAST_CLICK, &ayu_all, 1);
    rec_conversion_free(&c);

    totals after = scan_all(f);
    assert_memory_equal(&before, &after, sizeof(before));
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    assert_int_equal(store_count(t, STORE_DB_CONVERSIONS), 1);
    store_read_end(t);
}

static uint8_t stored_status(fixture *f, const char *order)
{
    rec_conversion c;
    uint8_t id[16];
    load(f, order, &c, id);
    uint8_t s = c.status;
    rec_conversion_free(&c);
    return s;
}

/* Known answer "late retry after a refund": the original postback (no status) after a
 * refund changes nothing, whenever it comes. */
static void test_late_retry_after_refund(void **state)
{
    fixture *f = *state;
    rec_click k[2];
    ledger_result first = two_touch(f, k);
    rec_conversion refund = make_conv(f, "A-1", "", NULL, 0, "");
    refund.status = REC_STATUS_REFUNDED;
    ledger_result res = record_given(f, &refund, LEDGER_GAVE_STATUS, f->conv_ts + DAY);
    assert_int_equal(res.outcome, LEDGER_UPDATED);
    totals before = scan_all(f);

    /* The original, retried late: approved by default, but no status was sent. */
    char text[ID_CLICK_TEXT + 1];
    id_click_format(k[1].id, text);
    rec_conversion orig = make_conv(f, "A-1", text, NULL, 9000, "USD");
    res = record_given(f, &orig, LEDGER_GAVE_AMOUNT | LEDGER_GAVE_CURRENCY, f->conv_ts + 9 * DAY);
    assert_int_equal(res.outcome, LEDGER_DUPLICATE);
    assert_memory_equal(res.id, first.id, 16);
    assert_int_equal(res.old_status, REC_STATUS_REFUNDED);
    assert_int_equal(stored_status(f, "A-1"), REC_STATUS_REFUNDED);
    totals after = scan_all(f);
    assert_memory_equal(&before, &after, sizeof(before));
    for (int m = 0; m < REC_MODELS; m++)
        assert_int_equal(after.revenue[m], 0);

    /* The same retry naming status approved is refused, and changes nothing either. */
    res = record_given(f, &orig, LEDGER_GAVE_ALL, f->conv_ts + 9 * DAY);
    assert_int_equal(res.outcome, LEDGER_CONFLICT);
    assert_string_equal(res.field, "status");
    assert_non_null(strstr(res.why, "refunded is final"));
    assert_int_equal(stored_status(f, "A-1"), REC_STATUS_REFUNDED);
    after = scan_all(f);
    assert_memory_equal(&before, &after, sizeof(before));
}

/* Every (from, to) pair: allowed changes update, the others are 409 conflicts. */
static void test_status_table(void **state)
{
    fixture *f = *state;
    static const bool want[REC_STATUS_COUNT][REC_STATUS_COUNT] = {
        [REC_STATUS_PENDING] = {[REC_STATUS_APPROVED] = true, [REC_STATUS_DECLINED] = true},
        [REC_STATUS_APPROVED] = {[REC_STATUS_REFUNDED] = true},
    };
    for (uint8_t from = 0; from < REC_STATUS_COUNT; from++) {
        for (uint8_t to = 0; to < REC_STATUS_COUNT; to++) {
            assert_int_equal(ledger_status_change_allowed(from, to), want[from][to]);
            char order[16];
            snprintf(order, sizeof(order), "T-%u-%u", from, to);
            rec_conversion c = make_conv(f, order, NULL, "AYU10", 1000, "USD");
            c.status = from;
            assert_int_equal(record(f, &c).outcome, LEDGER_RECORDED); /* any first status */
            totals before = scan_all(f);
            rec_conversion next = make_conv(f, order, NULL, NULL, 0, "");
            next.status = to;
            ledger_result res = record_given(f, &next, LEDGER_GAVE_STATUS, f->conv_ts + HOUR);
            assert_int_equal(res.old_status, from);
            if (from == to) {
                assert_int_equal(res.outcome, LEDGER_DUPLICATE);
            } else if (want[from][to]) {
                assert_int_equal(res.outcome, LEDGER_UPDATED);
                assert_int_equal(stored_status(f, order), to);
            } else {
                if (res.outcome != LEDGER_CONFLICT)
                    fail_msg("%s -> %s: outcome %d, want a conflict", rec_status_name(from),
                             rec_status_name(to), res.outcome);
                assert_string_equal(res.field, "status");
                assert_non_null(strstr(res.why, rec_status_name(from)));
                assert_non_null(strstr(res.why, rec_status_name(to)));
                assert_int_equal(stored_status(f, order), from);
                totals after = scan_all(f);
                assert_memory_equal(&before, &after, sizeof(before));
            }
        }
    }
    assert_false(ledger_status_change_allowed(REC_STATUS_COUNT, REC_STATUS_APPROVED));
    assert_false(ledger_status_change_allowed(REC_STATUS_PENDING, REC_STATUS_COUNT));
    uint64_t rows = 0, diffs = 0;
    assert_int_equal(rollup_rebuild(f->s, true, &rows, &diffs), STORE_OK);
    assert_int_equal(diffs, 0);
}

/* A repeat with another amount or currency is a conflict, never a silent duplicate; a
 * repeat that sends no amount is compared on what it sent. */
static void test_amount_mismatch(void **state)
{
    fixture *f = *state;
    rec_click k[2];
    ledger_result first = two_touch(f, k); /* A-1: 90.00 USD, approved */
    totals before = scan_all(f);
    rec_conversion again = make_conv(f, "A-1", "", NULL, 9001, "USD");
    ledger_result res = record(f, &again);
    assert_int_equal(res.outcome, LEDGER_CONFLICT);
    assert_memory_equal(res.id, first.id, 16);
    assert_string_equal(res.field, "amount");
    assert_non_null(strstr(res.why, "90.00 USD"));
    again = make_conv(f, "A-1", "", NULL, 9000, "IDR");
    res = record(f, &again);
    assert_int_equal(res.outcome, LEDGER_CONFLICT);
    assert_string_equal(res.field, "currency");
    /* Another amount with a status change: refused, the status stays. */
    again = make_conv(f, "A-1", "", NULL, 100, "USD");
    again.status = REC_STATUS_REFUNDED;
    res = record(f, &again);
    assert_int_equal(res.outcome, LEDGER_CONFLICT);
    assert_string_equal(res.field, "amount");
    assert_int_equal(stored_status(f, "A-1"), REC_STATUS_APPROVED);
    totals after = scan_all(f);
    assert_memory_equal(&before, &after, sizeof(before));
    rec_conversion c;
    uint8_t id[16];
    load(f, "A-1", &c, id);
    assert_int_equal(c.amount, 9000);
    assert_int_equal(c.updated_ms, f->conv_ts + MIN);
    rec_conversion_free(&c);
    /* The same money, or none sent: fine. */
    again = make_conv(f, "A-1", "", NULL, 9000, "USD");
    assert_int_equal(record(f, &again).outcome, LEDGER_DUPLICATE);
    again = make_conv(f, "A-1", "", NULL, 0, "");
    again.status = REC_STATUS_REFUNDED;
    assert_int_equal(record_given(f, &again, LEDGER_GAVE_STATUS, f->conv_ts + HOUR).outcome,
                     LEDGER_UPDATED);
}

static void test_rollups_follow_status(void **state)
{
    fixture *f = *state;
    rec_click k[2];
    ledger_result first = two_touch(f, k);

    totals x = scan_all(f);
    assert_int_equal(x.clicks, 2);
    assert_string_equal(x.currency, "USD");
    for (int m = 0; m < REC_MODELS; m++) {
        assert_int_equal(x.parts[m], MODEL_SHARE_ONE);
        assert_int_equal(x.revenue[m], 9000);
    }
    /* Per link, in the conversion's bucket. */
    link_money a = money_of(f, "ayu-tt", MODEL_LAST_CLICK);
    assert_int_equal(a.parts, MODEL_SHARE_ONE);
    assert_int_equal(a.revenue, 9000);
    a = money_of(f, "ayu-tt", MODEL_TIME_DECAY);
    assert_int_equal(a.parts, 666666667);
    assert_int_equal(a.revenue, 6000);
    link_money b = money_of(f, "budi-ig", MODEL_TIME_DECAY);
    assert_int_equal(b.parts, 333333333);
    assert_int_equal(b.revenue, 3000);
    b = money_of(f, "budi-ig", MODEL_FIRST_CLICK);
    assert_int_equal(b.parts, MODEL_SHARE_ONE);
    assert_int_equal(b.revenue, 9000);
    b = money_of(f, "budi-ig", MODEL_LAST_CLICK);
    assert_int_equal(b.found, 0);
    b = money_of(f, "budi-ig", MODEL_POSITION_BASED);
    assert_int_equal(b.parts, 500000000);
    assert_int_equal(b.revenue, 4500);

    /* Refunded: the status changes, the totals go back to zero. */
    rec_conversion refund = make_conv(f, "A-1", "", NULL, 9000, "USD");
    refund.status = REC_STATUS_REFUNDED;
    ledger_result res = record_at(f, &refund, f->conv_ts + 2 * DAY);
    assert_int_equal(res.outcome, LEDGER_UPDATED);
    assert_int_equal(res.old_status, REC_STATUS_APPROVED);
    assert_memory_equal(res.id, first.id, 16);
    assert_int_equal(res.via, REC_VIA_CLICK);
    rec_conversion c;
    uint8_t id[16];
    load(f, "A-1", &c, id);
    assert_int_equal(c.status, REC_STATUS_REFUNDED);
    assert_int_equal(c.updated_ms, f->conv_ts + 2 * DAY);
    assert_int_equal(c.created_ms, f->conv_ts + MIN);
    /* The credits stay as first computed. */
    const want_line ayu_all = {"ayu-tt", "ayu", MODEL_SHARE_ONE, 9000};
    expect_credits(&c, MODEL_LAST_CLICK, &ayu_all, 1);
    rec_conversion_free(&c);
    x = scan_all(f);
    assert_int_equal(x.clicks, 2);
    for (int m = 0; m < REC_MODELS; m++) {
        assert_int_equal(x.parts[m], 0);
        assert_int_equal(x.revenue[m], 0);
    }

    /* Refunded again: a duplicate. */
    res = record_at(f, &refund, f->conv_ts + 3 * DAY);
    assert_int_equal(res.outcome, LEDGER_DUPLICATE);

    /* Pending -> approved later: counted once approved. */
    rec_conversion p = make_conv(f, "A-9", "", "AYU10", 500, "USD");
    p.status = REC_STATUS_PENDING;
    res = record(f, &p);
    assert_int_equal(res.outcome, LEDGER_RECORDED);
    assert_int_equal(res.via, REC_VIA_COUPON);
    x = scan_all(f);
    assert_int_equal(x.revenue[MODEL_LAST_CLICK], 0);
    p.status = REC_STATUS_APPROVED;
    res = record(f, &p);
    assert_int_equal(res.outcome, LEDGER_UPDATED);
    assert_int_equal(res.old_status, REC_STATUS_PENDING);
    x = scan_all(f);
    for (int m = 0; m < REC_MODELS; m++) {
        assert_int_equal(x.parts[m], MODEL_SHARE_ONE);
        assert_int_equal(x.revenue[m], 500);
    }
    assert_int_equal(x.coupon_rows, 1);

    /* The live rollups agree with a rebuild from the raw records. */
    uint64_t rows = 0, diffs = 0;
    assert_int_equal(rollup_rebuild(f->s, true, &rows, &diffs), STORE_OK);
    assert_int_equal(diffs, 0);
}

/* ---- who gets nothing ------------------------------------------------------------------- */

static const uint8_t VIS_W[16] = {0x77, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t VIS_X[16] = {0x78, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t VIS_B[16] = {0xb0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static void test_lookback(void **state)
{
    fixture *f = *state;
    /* Known answer: clicks 31 and 2 days old, 100.00, lookback 30 days: the 2-day click gets
     * 100.00 under every model. */
    rec_click k[2] = {make_click(VIS_W, "budi-ig", f->conv_ts - 31 * DAY, false),
                      make_click(VIS_W, "ayu-tt", f->conv_ts - 2 * DAY, false)};
    write_clicks(f, k, 2);
    char text[ID_CLICK_TEXT + 1];
    id_click_format(k[0].id, text); /* the shop names the old click: its visitor counts */
    rec_conversion in = make_conv(f, "L-1", text, NULL, 10000, "USD");
    ledger_result res = record(f, &in);
    assert_int_equal(res.via, REC_VIA_CLICK);
    rec_conversion c;
    uint8_t id[16];
    load(f, "L-1", &c, id);
    expect_all_to(&c, "ayu-tt", "ayu");
    rec_conversion_free(&c);

    /* Only a click 31 days old: nothing to credit. */
    rec_click old = make_click(VIS_X, "budi-ig", f->conv_ts - 31 * DAY, false);
    write_clicks(f, &old, 1);
    id_click_format(old.id, text);
    in = make_conv(f, "L-2", text, NULL, 10000, "USD");
    res = record(f, &in);
    assert_int_equal(res.outcome, LEDGER_RECORDED);
    assert_int_equal(res.via, REC_VIA_NONE);
    assert_int_equal(res.reason, LEDGER_REASON_OUTSIDE_LOOKBACK);
    assert_string_equal(ledger_reason_name(res.reason), "outside_lookback");
    load(f, "L-2", &c, id);
    expect_no_credits(&c);
    rec_conversion_free(&c);

    /* The window's edge is inclusive: exactly 30 days old still counts. */
    rec_click edge = make_click(VIS_X, "ayu-tt", f->conv_ts - 30 * DAY, false);
    write_clicks(f, &edge, 1);
    id_click_format(edge.id, text);
    in = make_conv(f, "L-3", text, NULL, 10000, "USD");
    res = record(f, &in);
    assert_int_equal(res.via, REC_VIA_CLICK);
    assert_int_equal(res.reason, LEDGER_REASON_NONE);
    load(f, "L-3", &c, id);
    expect_all_to(&c, "ayu-tt", "ayu");
    rec_conversion_free(&c);

    /* A click after the conversion time is not part of its journey. */
    static const uint8_t VIS_L[16] = {0x4c, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    rec_click late[2] = {make_click(VIS_L, "budi-ig", f->conv_ts - HOUR, false),
                         make_click(VIS_L, "ayu-tt", f->conv_ts + MIN, false)};
    write_clicks(f, late, 2);
    id_click_format(late[1].id, text);
    in = make_conv(f, "L-4", text, NULL, 10000, "USD");
    res = record(f, &in);
    assert_int_equal(res.via, REC_VIA_CLICK);
    load(f, "L-4", &c, id);
    expect_all_to(&c, "budi-ig", "budi");
    rec_conversion_free(&c);

    /* A visitor whose only click came after the order: outside the window too. */
    static const uint8_t VIS_A[16] = {0x4d, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    rec_click after = make_click(VIS_A, "ayu-tt", f->conv_ts + MIN, false);
    write_clicks(f, &after, 1);
    id_click_format(after.id, text);
    in = make_conv(f, "L-5", text, NULL, 10000, "USD");
    res = record(f, &in);
    assert_int_equal(res.via, REC_VIA_NONE);
    assert_int_equal(res.reason, LEDGER_REASON_OUTSIDE_LOOKBACK);
}

static void test_bots_get_nothing(void **state)
{
    fixture *f = *state;
    /* A visitor whose only click is a bot's. */
    rec_click bot = make_click(VIS_B, "ayu-tt", f->conv_ts - HOUR, true);
    write_clicks(f, &bot, 1);
    char text[ID_CLICK_TEXT + 1];
    id_click_format(bot.id, text);
    rec_conversion in = make_conv(f, "B-1", text, NULL, 9000, "USD");
    ledger_result res = record(f, &in);
    assert_int_equal(res.outcome, LEDGER_RECORDED);
    assert_int_equal(res.via, REC_VIA_NONE);
    assert_int_equal(res.reason, LEDGER_REASON_BOT_CLICK);
    assert_string_equal(ledger_reason_name(res.reason), "bot_click");
    rec_conversion c;
    uint8_t id[16];
    load(f, "B-1", &c, id);
    expect_no_credits(&c);
    rec_conversion_free(&c);

    /* The same visitor later clicks as a person: the person's click takes it all, the bot's
     * later click nothing. */
    rec_click k[2] = {make_click(VIS_B, "budi-ig", f->conv_ts - 30 * MIN, false),
                      make_click(VIS_B, "ayu-tt", f->conv_ts - 10 * MIN, true)};
    write_clicks(f, k, 2);
    id_click_format(k[1].id, text);
    in = make_conv(f, "B-2", text, NULL, 9000, "USD");
    res = record(f, &in);
    assert_int_equal(res.via, REC_VIA_CLICK);
    assert_int_equal(res.reason, LEDGER_REASON_NONE);
    load(f, "B-2", &c, id);
    expect_all_to(&c, "budi-ig", "budi");
    rec_conversion_free(&c);

    totals x = scan_all(f);
    assert_int_equal(x.bots, 2);
    assert_int_equal(x.clicks, 1);
    assert_int_equal(x.revenue[MODEL_LINEAR], 9000 + 9000); /* B-2, and B-1 unattributed */
}

/* A prefetch (or an in-app preview) is stored as a bot: nobody may have seen it. When the
 * app then shows the page it fetched, the tap never reaches jejak, and the sale names the
 * prefetch's click id: that proves a person used it, so that click takes part in the journey
 * (with the visitor's other clicks). A prefetch no sale names still gets nothing. */
static const uint8_t VIS_P[16] = {0x9f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static void test_prefetch_named_by_a_sale_is_credited(void **state)
{
    fixture *f = *state;
    rec_click k[3] = {make_click(VIS_P, "budi-ig", f->conv_ts - 2 * DAY, false),
                      make_click(VIS_P, "ayu-tt", f->conv_ts - 3 * HOUR, true),
                      make_click(VIS_P, "budi-ig", f->conv_ts - 2 * HOUR, true)};
    k[1].flags |= REC_CLICK_PREFETCH;
    k[2].flags |= REC_CLICK_PREFETCH;
    write_clicks(f, k, 3);
    char text[ID_CLICK_TEXT + 1];
    id_click_format(k[1].id, text);
    rec_conversion in = make_conv(f, "P-1", text, NULL, 9000, "USD");
    ledger_result res = record(f, &in);
    assert_int_equal(res.outcome, LEDGER_RECORDED);
    assert_int_equal(res.via, REC_VIA_CLICK);
    assert_int_equal(res.reason, LEDGER_REASON_NONE);
    rec_conversion c;
    uint8_t id[16];
    load(f, "P-1", &c, id);
    const want_line ayu_all = {"ayu-tt", "ayu", MODEL_SHARE_ONE, 9000};
    const want_line budi_all = {"budi-ig", "budi", MODEL_SHARE_ONE, 9000};
    expect_credits(&c, MODEL_LAST_CLICK, &ayu_all, 1);   /* the named prefetch */
    expect_credits(&c, MODEL_FIRST_CLICK, &budi_all, 1); /* the person's click; not k[2] */
    rec_conversion_free(&c);
}

static void test_unknown_click_is_stored_unattributed(void **state)
{
    fixture *f = *state;
    const char *ids[] = {"01KAHZZZZZZZZZZZZZZZZZZZZZ", "not-a-click-id", ""};
    const ledger_reason why[] = {LEDGER_REASON_UNKNOWN_CLICK, LEDGER_REASON_UNKNOWN_CLICK,
                                 LEDGER_REASON_NO_CLICK_NO_COUPON};
    for (int i = 0; i < 3; i++) {
        char order[16];
        snprintf(order, sizeof(order), "U-%d", i);
        rec_conversion in = make_conv(f, order, ids[i], NULL, 2500, "USD");
        ledger_result res = record(f, &in);
        assert_int_equal(res.outcome, LEDGER_RECORDED);
        assert_int_equal(res.via, REC_VIA_NONE);
        assert_int_equal(res.reason, why[i]);
        rec_conversion c;
        uint8_t id[16];
        load(f, order, &c, id);
        assert_memory_equal(id, res.id, 16);
        assert_int_equal(c.via, REC_VIA_NONE);
        assert_int_equal(c.amount, 2500);
        assert_string_equal(c.click_id, ids[i]);
        expect_no_credits(&c);
        rec_conversion_free(&c);
    }
    /* An unknown coupon does not help either. */
    rec_conversion in = make_conv(f, "U-9", NULL, "NOPE", 2500, "USD");
    ledger_result res = record(f, &in);
    assert_int_equal(res.via, REC_VIA_NONE);
    assert_int_equal(res.reason, LEDGER_REASON_UNKNOWN_COUPON);
    assert_string_equal(ledger_reason_name(res.reason), "unknown_coupon");
    /* With an unknown click id as well, the click is what the shop must fix first. */
    in = make_conv(f, "U-10", "01KAHZZZZZZZZZZZZZZZZZZZZZ", "NOPE", 2500, "USD");
    assert_int_equal(record(f, &in).reason, LEDGER_REASON_UNKNOWN_CLICK);
    /* A duplicate says nothing new. */
    assert_int_equal(record(f, &in).outcome, LEDGER_DUPLICATE);

    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    assert_int_equal(store_count(t, STORE_DB_CONVERSIONS), 5);
    assert_int_equal(store_count(t, STORE_DB_ROLLUPS), 1); /* the unattributed row only */
    store_read_end(t);
}

/* Template placeholders a platform left unfilled are recognized without a lookup; a coupon
 * still credits the order. */
static void test_unfilled_macro(void **state)
{
    fixture *f = *state;
    static const char *const macros[] = {"{clickid}",  "{click_id}", "REPLACE",     "replace",
                                         "%CLICK_ID%", "[clickid]",  "{{clickid}}", "${click_id}",
                                         "#clickid#",  "<clickid>"};
    for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
        if (!ledger_is_macro(macros[i]))
            fail_msg("\"%s\" is not seen as a macro", macros[i]);
        char order[16];
        snprintf(order, sizeof(order), "M-%zu", i);
        rec_conversion in = make_conv(f, order, macros[i], NULL, 2500, "USD");
        ledger_result res = record(f, &in);
        assert_int_equal(res.via, REC_VIA_NONE);
        assert_int_equal(res.reason, LEDGER_REASON_UNFILLED_MACRO);
        assert_string_equal(ledger_reason_name(res.reason), "unfilled_macro");
    }
    static const char *const ids[] = {"01KAHZZZZZZZZZZZZZZZZZZZZZ",
                                      "abc",
                                      "{",
                                      "%",
                                      "{}",
                                      "[]",
                                      "%%",
                                      "REPLACED",
                                      "a{clickid}",
                                      ""};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        if (ledger_is_macro(ids[i]))
            fail_msg("\"%s\" is seen as a macro", ids[i]);
    rec_conversion in = make_conv(f, "M-C", "{clickid}", "ayu10", 2500, "USD");
    ledger_result res = record(f, &in);
    assert_int_equal(res.via, REC_VIA_COUPON);
    assert_int_equal(res.reason, LEDGER_REASON_NONE);
    assert_string_equal(ledger_reason_name(LEDGER_REASON_NONE), "");
    assert_string_equal(ledger_reason_name(LEDGER_REASON_COUNT), "");
}

/* ---- coupons ---------------------------------------------------------------------------- */

static void test_coupon_without_click(void **state)
{
    fixture *f = *state;
    const char *codes[] = {"AYU10", "ayu10", "Ayu10"};
    for (int i = 0; i < 3; i++) {
        char order[16];
        snprintf(order, sizeof(order), "C-%d", i);
        rec_conversion in = make_conv(f, order, NULL, codes[i], 4000, "IDR");
        ledger_result res = record(f, &in);
        assert_int_equal(res.outcome, LEDGER_RECORDED);
        assert_int_equal(res.via, REC_VIA_COUPON);
        rec_conversion c;
        uint8_t id[16];
        load(f, order, &c, id);
        assert_int_equal(c.via, REC_VIA_COUPON);
        assert_string_equal(c.coupon, codes[i]); /* as the shop sent it */
        for (int m = 0; m < REC_MODELS; m++) {
            assert_int_equal(c.ncredits[m], 1);
            assert_string_equal(c.credits[m][0].link, "");
            assert_string_equal(c.credits[m][0].influencer, "ayu");
            assert_string_equal(c.credits[m][0].campaign, "launch");
            assert_int_equal(c.credits[m][0].share, MODEL_SHARE_ONE);
            assert_int_equal(c.credits[m][0].amount, 4000);
        }
        rec_conversion_free(&c);
    }
    totals x = scan_all(f);
    assert_int_equal(x.coupon_rows, 1);
    assert_string_equal(x.currency, "IDR");
    for (int m = 0; m < REC_MODELS; m++) {
        assert_int_equal(x.parts[m], 3 * (int64_t)MODEL_SHARE_ONE);
        assert_int_equal(x.revenue[m], 12000);
    }
}

static void test_coupon_priority(void **state)
{
    fixture *f = *state;
    rec_click k = make_click(VIS, "budi-ig", f->conv_ts - DAY, false);
    write_clicks(f, &k, 1);
    char text[ID_CLICK_TEXT + 1];
    id_click_format(k.id, text);

    /* Without priority the journey wins over the coupon. */
    rec_conversion in = make_conv(f, "P-1", text, "ayu10", 7000, "USD");
    ledger_result res = record(f, &in);
    assert_int_equal(res.via, REC_VIA_CLICK);
    rec_conversion c;
    uint8_t id[16];
    load(f, "P-1", &c, id);
    expect_all_to(&c, "budi-ig", "budi");
    rec_conversion_free(&c);

    /* With priority the coupon wins. */
    f->cfg.coupon_priority = true;
    in = make_conv(f, "P-2", text, "ayu10", 7000, "USD");
    res = record(f, &in);
    assert_int_equal(res.via, REC_VIA_COUPON);
    load(f, "P-2", &c, id);
    for (int m = 0; m < REC_MODELS; m++) {
        assert_int_equal(c.ncredits[m], 1);
        assert_string_equal(c.credits[m][0].influencer, "ayu");
        assert_string_equal(c.credits[m][0].link, "");
        assert_int_equal(c.credits[m][0].amount, 7000);
    }
    rec_conversion_free(&c);

    /* With priority but an unknown coupon, the journey still counts. */
    in = make_conv(f, "P-3", text, "nope", 7000, "USD");
    res = record(f, &in);
    assert_int_equal(res.via, REC_VIA_CLICK);
    load(f, "P-3", &c, id);
    expect_all_to(&c, "budi-ig", "budi");
    rec_conversion_free(&c);
}

/* ledger_attribute recomputes what ledger_record stored. */
typedef struct {
    rec_conversion *c;
    const ledger_config *cfg;
} attr_ctx;

static int attr_fn(store_txn *t, void *arg)
{
    attr_ctx *x = arg;
    return ledger_attribute(t, x->c, x->cfg);
}

static void test_attribute_matches_record(void **state)
{
    fixture *f = *state;
    rec_click k[2];
    (void)two_touch(f, k);
    rec_conversion stored, again;
    uint8_t id[16];
    load(f, "A-1", &stored, id);
    load(f, "A-1", &again, id);
    attr_ctx x = {&again, &f->cfg};
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    int rc = attr_fn(t, &x);
    store_read_end(t);
    assert_int_equal(rc, STORE_OK);
    assert_int_equal(again.via, stored.via);
    for (int m = 0; m < REC_MODELS; m++) {
        assert_int_equal(again.ncredits[m], stored.ncredits[m]);
        for (unsigned i = 0; i < stored.ncredits[m]; i++)
            assert_memory_equal(&again.credits[m][i], &stored.credits[m][i], sizeof(rec_credit));
    }
    rec_conversion_free(&stored);
    rec_conversion_free(&again);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_credits_per_model),
        T(test_order_round_trip),
        T(test_duplicate_changes_nothing),
        T(test_rollups_follow_status),
        T(test_late_retry_after_refund),
        T(test_status_table),
        T(test_amount_mismatch),
        T(test_lookback),
        T(test_bots_get_nothing),
        T(test_prefetch_named_by_a_sale_is_credited),
        T(test_unknown_click_is_stored_unattributed),
        T(test_unfilled_macro),
        T(test_coupon_without_click),
        T(test_coupon_priority),
        T(test_attribute_matches_record),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
