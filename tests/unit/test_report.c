/*
 * test_report.c: the marketer's report (attribution/report.c, report_format.c) on small
 * stores built through the real write paths: clicks through clicks.c, conversions through
 * the ledger, costs, pay models and metrics through the registry. Checks the query parser
 * (defaults, and an error naming the field for every bad input), exact sums per group and
 * currency (never adding IDR to USD), tiers at their boundaries, local days in
 * Asia/Jakarta and UTC, a flat fee split over links by clicks, and the KPI known answers
 * of known-answers.md through the JSON output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/tmpstore.h"

#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribution/ledger.h"
#include "attribution/model.h"
#include "attribution/report.h"
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
    int64_t d;   /* 2026-11-20 00:00Z, the report's day */
    int visitor; /* the next visitor number */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->tmp, sizeof(f->tmp), "/tmp/jejak-test-report-XXXXXX");
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
    f->d = text_days_from_civil(2026, 11, 20) * DAY;
    f->visitor = 1;
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

/* ---- building the store ------------------------------------------------------------------ */

typedef enum { P_INF, P_CAMP, P_LINK, P_COUPON, P_COST, P_PAY, P_METRIC, P_COUNTS } put_kind;
typedef struct {
    put_kind kind;
    const void *rec;
    int64_t ts;
    const char *link;
} put_ctx;

static int put_fn(store_txn *t, void *arg)
{
    put_ctx *x = arg;
    switch (x->kind) {
    case P_INF:
        return reg_put_influencer(t, x->rec);
    case P_CAMP:
        return reg_put_campaign(t, x->rec);
    case P_LINK:
        return reg_put_link(t, x->rec);
    case P_COUPON:
        return reg_put_coupon(t, x->rec);
    case P_COST:
        return reg_put_cost(t, x->rec);
    case P_PAY:
        return reg_put_paymodel(t, x->rec);
    case P_METRIC:
        return reg_put_metric(t, x->rec);
    case P_COUNTS:
        return rollup_add_counts(t, x->ts, x->link, x->rec);
    }
    return STORE_ERROR;
}

static void put(fixture *f, put_kind kind, const void *rec)
{
    put_ctx x = {kind, rec, 0, NULL};
    assert_int_equal(store_update(f->s, put_fn, &x), STORE_OK);
}

static void add_influencer(fixture *f, const char *id, uint64_t followers)
{
    rec_influencer r;
    memset(&r, 0, sizeof(r));
    snprintf(r.id, sizeof(r.id), "%s", id);
    r.followers = followers;
    put(f, P_INF, &r);
}

static void add_link(fixture *f, const char *slug, const char *inf, const char *camp,
                     const char *source, const char *medium, const char *content)
{
    rec_link l;
    memset(&l, 0, sizeof(l));
    snprintf(l.slug, sizeof(l.slug), "%s", slug);
    snprintf(l.dest, sizeof(l.dest), "https://shop.example/");
    snprintf(l.influencer, sizeof(l.influencer), "%s", inf);
    snprintf(l.campaign, sizeof(l.campaign), "%s", camp);
    snprintf(l.utm_source, sizeof(l.utm_source), "%s", source);
    snprintf(l.utm_medium, sizeof(l.utm_medium), "%s", medium);
    snprintf(l.utm_content, sizeof(l.utm_content), "%s", content);
    put(f, P_LINK, &l);
}

static void add_coupon(fixture *f, const char *code, const char *inf, const char *camp)
{
    rec_coupon k;
    memset(&k, 0, sizeof(k));
    snprintf(k.code, sizeof(k.code), "%s", code);
    snprintf(k.influencer, sizeof(k.influencer), "%s", inf);
    snprintf(k.campaign, sizeof(k.campaign), "%s", camp);
    put(f, P_COUPON, &k);
}

static void add_cost(fixture *f, const char *inf, const char *camp, const char *date,
                     int64_t amount, const char *cur)
{
    rec_cost c;
    memset(&c, 0, sizeof(c));
    id_click_new(c.id, f->d);
    snprintf(c.influencer, sizeof(c.influencer), "%s", inf);
    snprintf(c.campaign, sizeof(c.campaign), "%s", camp);
    snprintf(c.date, sizeof(c.date), "%s", date);
    c.amount = amount;
    snprintf(c.currency, sizeof(c.currency), "%s", cur);
    put(f, P_COST, &c);
}

static void add_pay(fixture *f, const char *inf, const char *camp, rec_pay kind, int64_t price,
                    const char *cur, int64_t bp)
{
    rec_paymodel p;
    memset(&p, 0, sizeof(p));
    snprintf(p.influencer, sizeof(p.influencer), "%s", inf);
    snprintf(p.campaign, sizeof(p.campaign), "%s", camp);
    p.kind = (uint8_t)kind;
    p.price = price;
    snprintf(p.currency, sizeof(p.currency), "%s", cur);
    p.basis_points = bp;
    put(f, P_PAY, &p);
}

/* has: which of impressions, reach, engagements are present (REC_HAS_*). */
static void add_metric(fixture *f, const char *date, const char *inf, uint8_t has,
                       uint64_t impressions, uint64_t reach, uint64_t engagements)
{
    rec_metric m;
    memset(&m, 0, sizeof(m));
    snprintf(m.date, sizeof(m.date), "%s", date);
    snprintf(m.influencer, sizeof(m.influencer), "%s", inf);
    m.has = has;
    m.impressions = impressions;
    m.reach = reach;
    m.engagements = engagements;
    put(f, P_METRIC, &m);
}

/* Many clicks at once, straight into the rollups (the report reads nothing else). */
static void add_counts(fixture *f, const char *link, int64_t ts, uint64_t n)
{
    rollup_row d;
    memset(&d, 0, sizeof(d));
    d.clicks = n;
    put_ctx x = {P_COUNTS, &d, ts, link};
    assert_int_equal(store_update(f->s, put_fn, &x), STORE_OK);
}

typedef struct {
    clicks *c;
    rec_click *k;
    bool decided;
} one_click;

static int click_fn(store_txn *t, void *arg)
{
    one_click *x = arg;
    clicks_begin(x->c);
    int rc = clicks_put(x->c, t, x->k, &x->decided);
    return rc ? rc : clicks_flush_visits(x->c, t, true);
}

/* Writes one click of a new visitor (or of visitor `who` when > 0) as the writer does. */
static rec_click click_as(fixture *f, const char *link, int64_t ts, bool bot, int who)
{
    rec_click k;
    memset(&k, 0, sizeof(k));
    id_click_new(k.id, ts);
    k.ts_ms = ts;
    snprintf(k.link, sizeof(k.link), "%s", link);
    int v = who > 0 ? who : f->visitor++;
    k.visitor[0] = 0x7e;
    k.visitor[1] = (uint8_t)(v >> 8);
    k.visitor[2] = (uint8_t)v;
    k.device = bot ? REC_DEVICE_BOT : REC_DEVICE_MOBILE;
    k.flags = bot ? REC_CLICK_BOT : 0;
    one_click x = {f->c, &k, false};
    int rc = store_update(f->s, click_fn, &x);
    clicks_committed(f->c, rc);
    assert_int_equal(rc, STORE_OK);
    return k;
}

static rec_click click(fixture *f, const char *link, int64_t ts)
{
    return click_as(f, link, ts, false, 0);
}

typedef struct {
    rec_conversion *c;
    ledger_result res;
} conv_ctx;

static int conv_fn(store_txn *t, void *arg)
{
    conv_ctx *x = arg;
    ledger_config cfg = {30 * DAY, false};
    return ledger_record(t, x->c, &cfg, x->c->ts_ms, &x->res);
}

/* A conversion through the ledger, naming click k (or a coupon when k is NULL). */
static ledger_result convert(fixture *f, const char *order, const rec_click *k, const char *coupon,
                             int64_t amount, const char *cur, int64_t ts, uint8_t status)
{
    rec_conversion c;
    memset(&c, 0, sizeof(c));
    snprintf(c.shop, sizeof(c.shop), "shop1");
    snprintf(c.order_id, sizeof(c.order_id), "%s", order);
    c.status = status;
    c.amount = amount;
    snprintf(c.currency, sizeof(c.currency), "%s", cur);
    if (k)
        id_click_format(k->id, c.click_id);
    if (coupon)
        snprintf(c.coupon, sizeof(c.coupon), "%s", coupon);
    c.ts_ms = ts;
    conv_ctx x = {&c, {0}};
    assert_int_equal(store_update(f->s, conv_fn, &x), STORE_OK);
    return x.res;
}

/* ---- running a report --------------------------------------------------------------------- */

/* Parses "key=value" strings (now = the report day, 12:00Z) and runs the report. */
static void run(fixture *f, const char *const *args, report_query *q, report_result *r)
{
    report_param p[16];
    size_t n = 0;
    static char buf[16][128];
    for (; args[n]; n++) {
        assert_true(n < 16);
        snprintf(buf[n], sizeof(buf[n]), "%s", args[n]);
        char *eq = strchr(buf[n], '=');
        assert_non_null(eq);
        *eq = '\0';
        p[n].key = buf[n];
        p[n].value = eq + 1;
    }
    char field[32] = "", err[160] = "";
    if (report_query_parse(p, n, "UTC", f->d + 12 * HOUR, q, field, sizeof(field), err,
                           sizeof(err)))
        fail_msg("report_query_parse: %s: %s", field, err);
    store_txn *t;
    assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
    int rc = report_run(t, q, r);
    store_read_end(t);
    assert_int_equal(rc, STORE_OK);
}

static const report_group *group(const report_result *r, const char *k0, const char *k1)
{
    for (size_t i = 0; i < r->ngroups; i++)
        if (!strcmp(r->groups[i].key[0], k0) && !strcmp(r->groups[i].key[1], k1 ? k1 : ""))
            return &r->groups[i];
    for (size_t i = 0; i < r->ngroups; i++)
        fprintf(stderr, "  group [%s][%s]\n", r->groups[i].key[0], r->groups[i].key[1]);
    fail_msg("no group [%s][%s]", k0, k1 ? k1 : "");
    return NULL;
}

static const report_money *money(const report_group *g, const char *cur)
{
    for (unsigned i = 0; i < g->nmoney; i++)
        if (!strcmp(g->money[i].currency, cur))
            return &g->money[i];
    fail_msg("group [%s] has no %s money", g->key[0], cur);
    return NULL;
}

static bool has_money(const report_group *g, const char *cur)
{
    for (unsigned i = 0; i < g->nmoney; i++)
        if (!strcmp(g->money[i].currency, cur))
            return true;
    return false;
}

static void expect_money(const report_group *g, const char *cur, int64_t parts, int64_t revenue,
                         int64_t cost)
{
    const report_money *m = money(g, cur);
    if (m->conv_parts != parts || m->revenue != revenue || m->cost != cost)
        fail_msg("[%s][%s] %s: conversions %lld revenue %lld cost %lld, want %lld %lld %lld",
                 g->key[0], g->key[1], cur, (long long)m->conv_parts, (long long)m->revenue,
                 (long long)m->cost, (long long)parts, (long long)revenue, (long long)cost);
}

/* ---- the query parser ---------------------------------------------------------------------- */

static int parse(const report_param *p, size_t n, const char *tz, int64_t now, report_query *q,
                 char *field, char *err)
{
    field[0] = err[0] = '\0';
    return report_query_parse(p, n, tz, now, q, field, 32, err, 160);
}

static void test_parse_defaults(void **state)
{
    fixture *f = *state;
    report_query q;
    char field[32], err[160];
    int64_t d = f->d / DAY;
    assert_int_equal(parse(NULL, 0, "UTC", f->d + 10 * HOUR, &q, field, err), 0);
    assert_int_equal(q.nby, 1);
    assert_int_equal(q.by[0], DIM_INFLUENCER);
    assert_int_equal(q.model, MODEL_LAST_CLICK);
    assert_string_equal(q.tz, "UTC");
    assert_int_equal(q.to_day, d);
    assert_int_equal(q.from_day, d - 29); /* the last 30 days, today included */
    assert_string_equal(q.influencer, "");
    assert_string_equal(q.campaign, "");
    assert_string_equal(q.currency, "");

    /* No default zone: UTC. */
    assert_int_equal(parse(NULL, 0, NULL, f->d + 10 * HOUR, &q, field, err), 0);
    assert_string_equal(q.tz, "UTC");
    assert_int_equal(parse(NULL, 0, "", f->d + 10 * HOUR, &q, field, err), 0);
    assert_string_equal(q.tz, "UTC");

    /* "Today" is the zone's: 18:30Z on the 20th is the 21st in Jakarta. */
    assert_int_equal(parse(NULL, 0, "Asia/Jakarta", f->d + 18 * HOUR + 30 * MIN, &q, field, err),
                     0);
    assert_string_equal(q.tz, "Asia/Jakarta");
    assert_int_equal(q.to_day, d + 1);
    assert_int_equal(q.from_day, d + 1 - 29);

    /* Everything given. */
    const report_param all[] = {
        {"by", "link"},         {"by", "day"},          {"model", "time-decay"},
        {"from", "2026-11-01"}, {"to", "2026-11-20"},   {"tz", "America/New_York"},
        {"influencer", "budi"}, {"campaign", "launch"}, {"currency", "IDR"},
        {"format", "json"},     {"wide", "1"}};
    assert_int_equal(parse(all, sizeof(all) / sizeof(all[0]), "UTC", f->d, &q, field, err), 0);
    assert_int_equal(q.nby, 2);
    assert_int_equal(q.by[0], DIM_LINK);
    assert_int_equal(q.by[1], DIM_DAY);
    assert_int_equal(q.model, MODEL_TIME_DECAY);
    assert_int_equal(q.from_day, text_days_from_civil(2026, 11, 1));
    assert_int_equal(q.to_day, d);
    assert_string_equal(q.tz, "America/New_York");
    assert_string_equal(q.influencer, "budi");
    assert_string_equal(q.campaign, "launch");
    assert_string_equal(q.currency, "IDR");

    /* from alone: to is today; to alone: from is 29 days before it; one day is fine. */
    const report_param from_only[] = {{"from", "2026-11-15"}};
    assert_int_equal(parse(from_only, 1, "UTC", f->d, &q, field, err), 0);
    assert_int_equal(q.from_day, d - 5);
    assert_int_equal(q.to_day, d);
    const report_param to_only[] = {{"to", "2026-10-31"}};
    assert_int_equal(parse(to_only, 1, "UTC", f->d, &q, field, err), 0);
    assert_int_equal(q.to_day, text_days_from_civil(2026, 10, 31));
    assert_int_equal(q.from_day, text_days_from_civil(2026, 10, 2));
    const report_param one_day[] = {{"from", "2026-11-20"}, {"to", "2026-11-20"}};
    assert_int_equal(parse(one_day, 2, "UTC", f->d, &q, field, err), 0);
    assert_int_equal(q.from_day, d);
    assert_int_equal(q.to_day, d);

    /* Every dimension name, and its name back. */
    for (int i = 0; i < DIM_COUNT; i++) {
        report_dim dim;
        assert_int_equal(report_dim_parse(report_dim_name((report_dim)i), &dim), 0);
        assert_int_equal(dim, i);
    }
    report_dim dim;
    assert_int_equal(report_dim_parse("Influencer", &dim), -1);
}

typedef struct {
    report_param p[3];
    size_t n;
    const char *field;
} bad_case;

static void test_parse_errors(void **state)
{
    fixture *f = *state;
    const bad_case cases[] = {
        {{{"by", "country"}}, 1, "by"},
        {{{"by", ""}}, 1, "by"},
        {{{"by", "link"}, {"by", "link"}}, 2, "by"},
        {{{"by", "link"}, {"by", "day"}, {"by", "campaign"}}, 3, "by"},
        {{{"model", "best"}}, 1, "model"},
        {{{"model", ""}}, 1, "model"},
        {{{"from", "2026-13-01"}}, 1, "from"},
        {{{"from", "2026-11-1"}}, 1, "from"},
        {{{"from", "2026-02-30"}}, 1, "from"},
        {{{"from", "2026-11-20T00:00:00Z"}}, 1, "from"},
        {{{"to", "yesterday"}}, 1, "to"},
        {{{"to", "20261120"}}, 1, "to"},
        {{{"tz", "Mars/Olympus"}}, 1, "tz"},
        {{{"tz", ""}}, 1, "tz"},
        {{{"tz", "../etc/passwd"}}, 1, "tz"},
        {{{"currency", "usd"}}, 1, "currency"},
        {{{"currency", "XYZ"}}, 1, "currency"},
        {{{"currency", "USDX"}}, 1, "currency"},
        {{{"currency", ""}}, 1, "currency"},
        {{{"influencer", "bad id"}}, 1, "influencer"},
        {{{"campaign", "-x"}}, 1, "campaign"},
        {{{"from", "2026-11-21"}, {"to", "2026-11-20"}}, 2, "from"},
        {{{"from", "2026-11-21"}}, 1, "from"}, /* after today */
        {{{"from", "2010-01-01"}, {"to", "2026-11-20"}}, 2, "from"},
        {{{"colour", "red"}}, 1, "colour"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        report_query q;
        char field[32], err[160];
        int rc = parse(cases[i].p, cases[i].n, "UTC", f->d + HOUR, &q, field, err);
        if (rc != -1 || strcmp(field, cases[i].field) || !err[0])
            fail_msg("case %zu (%s=%s): rc %d field \"%s\" err \"%s\", want field \"%s\"", i,
                     cases[i].p[0].key, cases[i].p[0].value, rc, field, err, cases[i].field);
    }
    /* The reason says what is wrong. */
    const report_param after[] = {{"from", "2026-11-21"}, {"to", "2026-11-20"}};
    report_query q;
    char field[32], err[160];
    assert_int_equal(parse(after, 2, "UTC", f->d, &q, field, err), -1);
    assert_non_null(strstr(err, "after"));
}

/* ---- sums per group and currency ------------------------------------------------------------ */

/* budi: 3 clicks + a bot (budi-ig 2, budi-tt 1), 90.00 USD approved, 50.00 USD pending,
 * 10.00 USD refunded; flat fee 30.00 USD in the period and 5.00 USD the day before; CPA
 * 10.00 USD per conversion on "launch" (and a CPC on every campaign, which "launch"'s own
 * pay model overrides).
 * ayu: 2 clicks, 150,000.00 IDR and 20.00 USD approved; flat fee 100,000.00 IDR on no
 * campaign; CPC 500.00 IDR. Clicks just outside the day count nowhere. */
static void build_two_currencies(fixture *f)
{
    int64_t d = f->d;
    add_influencer(f, "budi", 20000);
    add_influencer(f, "ayu", 5000);
    add_link(f, "budi-ig", "budi", "launch", "instagram", "social", "reel");
    add_link(f, "budi-tt", "budi", "launch", "tiktok", "social", "video");
    add_link(f, "ayu-ig", "ayu", "launch", "instagram", "social", "story");
    (void)click(f, "budi-ig", d - 1); /* the day before */
    rec_click b1 = click(f, "budi-ig", d + 9 * HOUR);
    rec_click b2 = click(f, "budi-ig", d + 9 * HOUR + MIN);
    (void)click_as(f, "budi-ig", d + 9 * HOUR + 2 * MIN, true, 0);
    rec_click b4 = click(f, "budi-tt", d + 9 * HOUR + 3 * MIN);
    rec_click a1 = click(f, "ayu-ig", d + 9 * HOUR + 4 * MIN);
    rec_click a2 = click(f, "ayu-ig", d + 9 * HOUR + 5 * MIN);
    (void)click(f, "ayu-ig", d + DAY); /* the day after */

    int64_t ts = d + 10 * HOUR;
    assert_int_equal(convert(f, "O1", &b1, NULL, 9000, "USD", ts, REC_STATUS_APPROVED).via,
                     REC_VIA_CLICK);
    assert_int_equal(convert(f, "O2", &a1, NULL, 15000000, "IDR", ts, REC_STATUS_APPROVED).via,
                     REC_VIA_CLICK);
    (void)convert(f, "O3", &b2, NULL, 5000, "USD", ts, REC_STATUS_PENDING);
    (void)convert(f, "O4", &a2, NULL, 2000, "USD", ts, REC_STATUS_APPROVED);
    (void)convert(f, "O5", &b4, NULL, 1000, "USD", ts, REC_STATUS_APPROVED);
    assert_int_equal(convert(f, "O5", &b4, NULL, 1000, "USD", ts, REC_STATUS_REFUNDED).outcome,
                     LEDGER_UPDATED);

    add_cost(f, "budi", "launch", "2026-11-20", 3000, "USD");
    add_cost(f, "budi", "launch", "2026-11-19", 500, "USD");
    add_cost(f, "ayu", "", "2026-11-20", 10000000, "IDR");
    add_pay(f, "budi", "launch", REC_PAY_CPA, 1000, "USD", 0);
    add_pay(f, "budi", "", REC_PAY_CPC, 99999, "USD", 0);
    add_pay(f, "ayu", "", REC_PAY_CPC, 50000, "IDR", 0);
}

static void test_sums_per_influencer_and_currency(void **state)
{
    fixture *f = *state;
    build_two_currencies(f);
    const char *args[] = {"from=2026-11-20", "to=2026-11-20", NULL};
    report_query q;
    report_result r;
    run(f, args, &q, &r);
    assert_int_equal(r.ngroups, 2);
    const report_group *ayu = group(&r, "ayu", NULL), *budi = group(&r, "budi", NULL);
    assert_ptr_equal(ayu, &r.groups[0]); /* sorted by key */

    assert_int_equal(ayu->clicks, 2);
    assert_int_equal(ayu->unique, 2);
    assert_int_equal(ayu->bots, 0);
    assert_int_equal(ayu->nmoney, 2);
    /* IDR: the flat fee plus 2 clicks x 500.00. */
    expect_money(ayu, "IDR", MODEL_SHARE_ONE, 15000000, 10000000 + 2 * 50000);
    expect_money(ayu, "USD", MODEL_SHARE_ONE, 2000, 0);

    assert_int_equal(budi->clicks, 3);
    assert_int_equal(budi->unique, 3);
    assert_int_equal(budi->bots, 1);
    assert_int_equal(budi->suspicious, 0);
    assert_int_equal(budi->nmoney, 1);
    /* Pending and refunded orders count nowhere; flat fee 30.00 + CPA 1 x 10.00. */
    expect_money(budi, "USD", MODEL_SHARE_ONE, 9000, 3000 + 1000);

    /* The total: counts once, money per currency. */
    assert_int_equal(r.total.clicks, 5);
    assert_int_equal(r.total.unique, 5);
    assert_int_equal(r.total.bots, 1);
    assert_int_equal(r.total.nmoney, 2);
    assert_string_equal(r.total.money[0].currency, "IDR");
    assert_string_equal(r.total.money[1].currency, "USD");
    expect_money(&r.total, "IDR", MODEL_SHARE_ONE, 15000000, 10100000);
    expect_money(&r.total, "USD", 2 * (int64_t)MODEL_SHARE_ONE, 11000, 4000);
    report_free(&r);
    assert_int_equal(r.ngroups, 0);
    assert_null(r.groups);

    /* A wider period takes in the day before: its click and its fee. */
    const char *wider[] = {"from=2026-11-19", "to=2026-11-20", NULL};
    run(f, wider, &q, &r);
    budi = group(&r, "budi", NULL);
    assert_int_equal(budi->clicks, 4);
    expect_money(budi, "USD", MODEL_SHARE_ONE, 9000, 3500 + 1000);
    report_free(&r);
}

static void test_filters(void **state)
{
    fixture *f = *state;
    build_two_currencies(f);
    report_query q;
    report_result r;
    const char *usd[] = {"from=2026-11-20", "to=2026-11-20", "currency=USD", NULL};
    run(f, usd, &q, &r);
    assert_int_equal(r.ngroups, 2);
    const report_group *ayu = group(&r, "ayu", NULL);
    assert_int_equal(ayu->clicks, 2);
    assert_int_equal(ayu->nmoney, 1);
    assert_false(has_money(ayu, "IDR"));
    expect_money(ayu, "USD", MODEL_SHARE_ONE, 2000, 0);
    assert_int_equal(r.total.nmoney, 1);
    expect_money(&r.total, "USD", 2 * (int64_t)MODEL_SHARE_ONE, 11000, 4000);
    report_free(&r);

    const char *only_budi[] = {"from=2026-11-20", "to=2026-11-20", "influencer=budi", NULL};
    run(f, only_budi, &q, &r);
    assert_int_equal(r.ngroups, 1);
    assert_string_equal(r.groups[0].key[0], "budi");
    assert_int_equal(r.total.clicks, 3);
    report_free(&r);

    /* By campaign: ayu's fee on no campaign has a row of its own. */
    const char *by_camp[] = {"from=2026-11-20", "to=2026-11-20", "by=campaign", NULL};
    run(f, by_camp, &q, &r);
    assert_int_equal(r.ngroups, 2);
    const report_group *all = group(&r, "(all)", NULL), *launch = group(&r, "launch", NULL);
    assert_int_equal(all->clicks, 0);
    expect_money(all, "IDR", 0, 0, 10000000);
    assert_int_equal(launch->clicks, 5);
    expect_money(launch, "IDR", MODEL_SHARE_ONE, 15000000, 100000);
    expect_money(launch, "USD", 2 * (int64_t)MODEL_SHARE_ONE, 11000, 4000);
    report_free(&r);

    /* Two dimensions: influencer x source. */
    const char *two[] = {"from=2026-11-20", "to=2026-11-20", "by=influencer", "by=source", NULL};
    run(f, two, &q, &r);
    const report_group *bi = group(&r, "budi", "instagram"), *bt = group(&r, "budi", "tiktok");
    assert_int_equal(bi->clicks, 2);
    assert_int_equal(bi->bots, 1);
    assert_int_equal(bt->clicks, 1);
    /* The 30.00 fee split 2:1 by clicks; the CPA follows the converting link. */
    expect_money(bi, "USD", MODEL_SHARE_ONE, 9000, 2000 + 1000);
    expect_money(bt, "USD", 0, 0, 1000);
    report_free(&r);
}

/* A journey budi-ig (08:00) -> ayu-ig (09:00), 100.00 USD at 10:00: the model decides who
 * gets the revenue, and CPA / revshare costs follow the credited parts. */
static void test_models_and_pay(void **state)
{
    fixture *f = *state;
    add_influencer(f, "budi", 20000);
    add_influencer(f, "ayu", 5000);
    add_link(f, "budi-ig", "budi", "launch", "instagram", "social", "");
    add_link(f, "ayu-ig", "ayu", "launch", "instagram", "social", "");
    (void)click_as(f, "budi-ig", f->d + 8 * HOUR, false, 500);
    rec_click k = click_as(f, "ayu-ig", f->d + 9 * HOUR, false, 500);
    (void)convert(f, "J1", &k, NULL, 10000, "USD", f->d + 10 * HOUR, REC_STATUS_APPROVED);
    add_pay(f, "budi", "", REC_PAY_CPA, 1000, "USD", 0);
    add_pay(f, "ayu", "launch", REC_PAY_REVSHARE, 0, "", 1000); /* 10% */

    report_query q;
    report_result r;
    const char *last[] = {"from=2026-11-20", "to=2026-11-20", NULL};
    run(f, last, &q, &r);
    const report_group *budi = group(&r, "budi", NULL), *ayu = group(&r, "ayu", NULL);
    assert_int_equal(budi->clicks, 1);
    assert_int_equal(budi->nmoney, 0);
    expect_money(ayu, "USD", MODEL_SHARE_ONE, 10000, 1000);
    report_free(&r);

    const char *first[] = {"from=2026-11-20", "to=2026-11-20", "model=first_click", NULL};
    run(f, first, &q, &r);
    expect_money(group(&r, "budi", NULL), "USD", MODEL_SHARE_ONE, 10000, 1000);
    assert_int_equal(group(&r, "ayu", NULL)->nmoney, 0);
    report_free(&r);

    const char *linear[] = {"from=2026-11-20", "to=2026-11-20", "model=linear", NULL};
    run(f, linear, &q, &r);
    expect_money(group(&r, "budi", NULL), "USD", 500000000, 5000, 500);
    expect_money(group(&r, "ayu", NULL), "USD", 500000000, 5000, 500);
    report_free(&r);

    const char *pos[] = {"from=2026-11-20", "to=2026-11-20", "model=position-based", NULL};
    run(f, pos, &q, &r);
    expect_money(group(&r, "budi", NULL), "USD", 500000000, 5000, 500);
    expect_money(group(&r, "ayu", NULL), "USD", 500000000, 5000, 500);
    report_free(&r);
}

/* ---- tiers ------------------------------------------------------------------------------- */

static void test_tiers(void **state)
{
    fixture *f = *state;
    const uint64_t followers[] = {999,   1000,   9999,   10000,  49999,
                                  50000, 499999, 500000, 999999, 1000000};
    for (size_t i = 0; i < sizeof(followers) / sizeof(followers[0]); i++) {
        char id[32], slug[40];
        snprintf(id, sizeof(id), "f%llu", (unsigned long long)followers[i]);
        snprintf(slug, sizeof(slug), "%s-ig", id);
        add_influencer(f, id, followers[i]);
        add_link(f, slug, id, "launch", "instagram", "social", "");
        (void)click(f, slug, f->d + HOUR + (int64_t)i * MIN);
    }
    report_query q;
    report_result r;
    const char *args[] = {"from=2026-11-20", "to=2026-11-20", "by=tier", NULL};
    run(f, args, &q, &r);
    const char *names[] = {"(none)", "macro", "mega", "micro", "mid-tier", "nano"};
    const uint64_t want[] = {1, 2, 1, 2, 2, 2};
    assert_int_equal(r.ngroups, 6);
    for (int i = 0; i < 6; i++) {
        assert_string_equal(r.groups[i].key[0], names[i]);
        if (r.groups[i].clicks != want[i])
            fail_msg("tier %s: %llu clicks, want %llu", names[i],
                     (unsigned long long)r.groups[i].clicks, (unsigned long long)want[i]);
    }
    report_free(&r);

    /* Tier x influencer shows which influencer fell on which side of each boundary. */
    const char *two[] = {"from=2026-11-20", "to=2026-11-20", "by=tier", "by=influencer", NULL};
    run(f, two, &q, &r);
    assert_int_equal(r.ngroups, 10);
    (void)group(&r, "(none)", "f999");
    (void)group(&r, "nano", "f1000");
    (void)group(&r, "nano", "f9999");
    (void)group(&r, "micro", "f10000");
    (void)group(&r, "micro", "f49999");
    (void)group(&r, "mid-tier", "f50000");
    (void)group(&r, "mid-tier", "f499999");
    (void)group(&r, "macro", "f500000");
    (void)group(&r, "macro", "f999999");
    (void)group(&r, "mega", "f1000000");
    report_free(&r);
}

/* ---- local days ------------------------------------------------------------------------------ */

static void test_days_in_jakarta_and_utc(void **state)
{
    fixture *f = *state;
    add_influencer(f, "budi", 20000);
    add_link(f, "budi-ig", "budi", "launch", "instagram", "social", "");
    int64_t d = f->d;
    (void)click(f, "budi-ig", d - 7 * HOUR);                     /* 11-20 00:00 in Jakarta */
    (void)click(f, "budi-ig", d + 17 * HOUR - MIN);              /* 11-20 23:59 in Jakarta */
    rec_click k = click(f, "budi-ig", d + 18 * HOUR + 30 * MIN); /* 11-21 01:30 in Jakarta */
    (void)click(f, "budi-ig", d + DAY + 17 * HOUR);              /* 11-22 00:00 in Jakarta */
    /* Converted at 19:00Z: the 21st in Jakarta, the 20th in UTC. */
    (void)convert(f, "D1", &k, NULL, 2500, "USD", d + 19 * HOUR, REC_STATUS_APPROVED);

    report_query q;
    report_result r;
    const char *jkt[] = {"from=2026-11-20", "to=2026-11-21", "tz=Asia/Jakarta", "by=day", NULL};
    run(f, jkt, &q, &r);
    assert_int_equal(r.ngroups, 2);
    const report_group *g20 = group(&r, "2026-11-20", NULL), *g21 = group(&r, "2026-11-21", NULL);
    assert_int_equal(g20->clicks, 2);
    assert_int_equal(g20->nmoney, 0);
    assert_int_equal(g21->clicks, 1);
    expect_money(g21, "USD", MODEL_SHARE_ONE, 2500, 0);
    assert_int_equal(r.total.clicks, 3);
    report_free(&r);

    const char *utc[] = {"from=2026-11-20", "to=2026-11-21", "tz=UTC", "by=day", NULL};
    run(f, utc, &q, &r);
    assert_int_equal(r.ngroups, 2);
    g20 = group(&r, "2026-11-20", NULL);
    g21 = group(&r, "2026-11-21", NULL);
    assert_int_equal(g20->clicks, 2);
    expect_money(g20, "USD", MODEL_SHARE_ONE, 2500, 0);
    assert_int_equal(g21->clicks, 1);
    assert_int_equal(g21->nmoney, 0);
    assert_int_equal(r.total.clicks, 3);
    report_free(&r);

    /* Influencer x day in Jakarta. */
    const char *two[] = {"from=2026-11-20", "to=2026-11-22", "tz=Asia/Jakarta",
                         "by=influencer",   "by=day",        NULL};
    run(f, two, &q, &r);
    assert_int_equal(r.ngroups, 3);
    assert_int_equal(group(&r, "budi", "2026-11-20")->clicks, 2);
    assert_int_equal(group(&r, "budi", "2026-11-21")->clicks, 1);
    assert_int_equal(group(&r, "budi", "2026-11-22")->clicks, 1);
    report_free(&r);
}

/* ---- a flat fee over links ------------------------------------------------------------------- */

static void test_flat_fee_split_by_link(void **state)
{
    fixture *f = *state;
    add_influencer(f, "budi", 20000);
    add_influencer(f, "citra", 20000);
    add_influencer(f, "dewi", 20000);
    add_link(f, "budi-ig", "budi", "launch", "instagram", "social", "");
    add_link(f, "budi-tt", "budi", "launch", "tiktok", "social", "");
    add_link(f, "citra-a", "citra", "launch", "a", "social", "");
    add_link(f, "citra-b", "citra", "launch", "b", "social", "");
    add_link(f, "citra-c", "citra", "launch", "c", "social", "");
    int64_t t = f->d + 9 * HOUR;
    (void)click(f, "budi-ig", t);
    (void)click(f, "budi-ig", t + MIN);
    (void)click(f, "budi-tt", t + 2 * MIN);
    (void)click(f, "citra-a", t + 3 * MIN);
    (void)click(f, "citra-b", t + 4 * MIN);
    (void)click(f, "citra-c", t + 5 * MIN);
    add_cost(f, "budi", "launch", "2026-11-20", 1000, "USD"); /* 10.00 over 2:1 */
    add_cost(f, "citra", "", "2026-11-20", 1000, "USD");      /* 10.00 over 1:1:1 */
    add_cost(f, "dewi", "launch", "2026-11-20", 700, "USD");  /* no clicks at all */

    report_query q;
    report_result r;
    const char *by_link[] = {"from=2026-11-20", "to=2026-11-20", "by=link", NULL};
    run(f, by_link, &q, &r);
    expect_money(group(&r, "budi-ig", NULL), "USD", 0, 0, 667);
    expect_money(group(&r, "budi-tt", NULL), "USD", 0, 0, 333);
    expect_money(group(&r, "citra-a", NULL), "USD", 0, 0, 334);
    expect_money(group(&r, "citra-b", NULL), "USD", 0, 0, 333);
    expect_money(group(&r, "citra-c", NULL), "USD", 0, 0, 333);
    /* A fee with no clicks to split by stays on a row of its own. */
    const report_group *none = group(&r, "(none)", NULL);
    assert_int_equal(none->clicks, 0);
    expect_money(none, "USD", 0, 0, 700);
    assert_int_equal(r.ngroups, 6);
    expect_money(&r.total, "USD", 0, 0, 2700);
    report_free(&r);

    /* By source: the same split under other keys. */
    const char *by_source[] = {"from=2026-11-20", "to=2026-11-20", "by=source", NULL};
    run(f, by_source, &q, &r);
    expect_money(group(&r, "instagram", NULL), "USD", 0, 0, 667);
    expect_money(group(&r, "tiktok", NULL), "USD", 0, 0, 333);
    report_free(&r);

    /* By influencer nothing is split. */
    const char *by_inf[] = {"from=2026-11-20", "to=2026-11-20", NULL};
    run(f, by_inf, &q, &r);
    expect_money(group(&r, "budi", NULL), "USD", 0, 0, 1000);
    expect_money(group(&r, "citra", NULL), "USD", 0, 0, 1000);
    expect_money(group(&r, "dewi", NULL), "USD", 0, 0, 700);
    report_free(&r);
}

/* By link and day, a fee is split over the links' clicks of its own day only. */
static void test_flat_fee_split_by_link_and_day(void **state)
{
    fixture *f = *state;
    add_influencer(f, "budi", 20000);
    add_link(f, "budi-ig", "budi", "launch", "instagram", "social", "");
    add_link(f, "budi-tt", "budi", "launch", "tiktok", "social", "");
    int64_t t = f->d + 9 * HOUR;
    (void)click(f, "budi-ig", t);
    (void)click(f, "budi-tt", t + MIN);
    (void)click(f, "budi-tt", t + DAY);
    (void)click(f, "budi-tt", t + DAY + MIN);
    (void)click(f, "budi-ig", t + DAY + 2 * MIN);
    add_cost(f, "budi", "launch", "2026-11-20", 1000, "USD");
    add_cost(f, "budi", "launch", "2026-11-21", 900, "USD");
    report_query q;
    report_result r;
    const char *args[] = {"from=2026-11-20", "to=2026-11-21", "by=link", "by=day", NULL};
    run(f, args, &q, &r);
    assert_int_equal(r.ngroups, 4);
    expect_money(group(&r, "budi-ig", "2026-11-20"), "USD", 0, 0, 500);
    expect_money(group(&r, "budi-tt", "2026-11-20"), "USD", 0, 0, 500);
    expect_money(group(&r, "budi-ig", "2026-11-21"), "USD", 0, 0, 300);
    expect_money(group(&r, "budi-tt", "2026-11-21"), "USD", 0, 0, 600);
    report_free(&r);
}

/* report.c on_cost: "largest remainder first, ties to the earlier group". 10.07 USD over
 * links with 8, 1 and 1 clicks is 805.6 / 100.7 / 100.7 cents: the two largest remainders
 * (0.7, 0.7) get the 2 cents left, 805 / 101 / 101. Two links with the same clicks must
 * not differ by a cent because of their order. */
static void test_flat_fee_largest_remainder(void **state)
{
    fixture *f = *state;
    add_influencer(f, "budi", 20000);
    add_link(f, "fa", "budi", "launch", "a", "social", "");
    add_link(f, "fb", "budi", "launch", "b", "social", "");
    add_link(f, "fc", "budi", "launch", "c", "social", "");
    int64_t t = f->d + 9 * HOUR;
    add_counts(f, "fa", t, 8);
    add_counts(f, "fb", t, 1);
    add_counts(f, "fc", t, 1);
    add_cost(f, "budi", "launch", "2026-11-20", 1007, "USD");
    report_query q;
    report_result r;
    const char *args[] = {"from=2026-11-20", "to=2026-11-20", "by=link", NULL};
    run(f, args, &q, &r);
    /* Read everything, free, then compare: a failure leaks nothing. */
    int64_t total = money(&r.total, "USD")->cost, fa = money(group(&r, "fa", NULL), "USD")->cost,
            fb = money(group(&r, "fb", NULL), "USD")->cost,
            fc = money(group(&r, "fc", NULL), "USD")->cost;
    report_free(&r);
    assert_int_equal(total, 1007);
    if (fa != 805 || fb != 101 || fc != 101)
        fail_msg("10.07 over 8:1:1 clicks: %lld / %lld / %lld, want 805 / 101 / 101", (long long)fa,
                 (long long)fb, (long long)fc);
}

/* ---- JSON and the KPI known answers ---------------------------------------------------------- */

/* The JSON object of the row whose first key is influencer=name (first match). */
static void json_row(const char *json, const char *name, char *out, size_t cap)
{
    char needle[96];
    snprintf(needle, sizeof(needle), "{\"influencer\":\"%s\",", name);
    const char *p = strstr(json, needle);
    if (!p)
        fail_msg("no row for %s in %s", name, json);
    const char *end = strchr(p, '}');
    assert_non_null(end);
    size_t n = (size_t)(end - p + 1);
    assert_true(n < cap);
    memcpy(out, p, n);
    out[n] = '\0';
}

/* The raw JSON value of key in row ("null", "200", "\"3000.00\""). */
static void json_value(const char *row, const char *key, char *out, size_t cap)
{
    char needle[64];
    snprintf(needle, sizeof(needle), "\"%s\":", key);
    const char *p = strstr(row, needle);
    if (!p)
        fail_msg("no %s in %s", key, row);
    p += strlen(needle);
    size_t n = strcspn(p, ",}");
    assert_true(n < cap);
    memcpy(out, p, n);
    out[n] = '\0';
}

static void expect_json(const char *row, const char *key, const char *want)
{
    char got[64];
    json_value(row, key, got, sizeof(got));
    if (strcmp(got, want))
        fail_msg("%s: %s, want %s in %s", key, got, want, row);
}

static void expect_json_num(const char *row, const char *key, double want)
{
    char got[64];
    json_value(row, key, got, sizeof(got));
    char *end;
    double v = strtod(got, &end);
    if (*end || end == got || fabs(v - want) > 1e-9 * (fabs(want) > 1 ? fabs(want) : 1))
        fail_msg("%s: %s, want %.12g in %s", key, got, want, row);
}

static void test_json_kpis(void **state)
{
    fixture *f = *state;
    const char *who[] = {"roi", "ctr", "zero", "nomoney", "six", "idr", "er", "epc", "epc2"};
    for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
        char slug[40], code[40];
        snprintf(slug, sizeof(slug), "%s-ig", who[i]);
        snprintf(code, sizeof(code), "%s10", who[i]);
        add_influencer(f, who[i], 20000);
        add_link(f, slug, who[i], "launch", "instagram", "social", "");
        add_coupon(f, code, who[i], "launch");
    }
    int64_t t = f->d + 9 * HOUR, ts = f->d + 10 * HOUR;
    /* ROI: cost 1,000.00, revenue 3,000.00 -> 200%; ROAS 3. */
    rec_click k = click(f, "roi-ig", t);
    (void)convert(f, "R1", &k, NULL, 300000, "USD", ts, REC_STATUS_APPROVED);
    add_cost(f, "roi", "launch", "2026-11-20", 100000, "USD");
    /* CTR: 5 clicks over 1,000 impressions -> 0.5%; CPE 500.00 over 1,000 engagements ->
     * 0.50; engagement rate by impressions (no reach): 100%. */
    for (int i = 0; i < 5; i++)
        (void)click(f, "ctr-ig", t + i * MIN);
    add_metric(f, "2026-11-20", "ctr", REC_HAS_IMPRESSIONS | REC_HAS_ENGAGEMENTS, 1000, 0, 1000);
    add_cost(f, "ctr", "", "2026-11-20", 50000, "USD");
    /* Zero cost: ROI and ROAS n/a. */
    k = click(f, "zero-ig", t);
    (void)convert(f, "Z1", &k, NULL, 10000, "USD", ts, REC_STATUS_APPROVED);
    /* No money at all. */
    (void)click(f, "nomoney-ig", t);
    (void)click(f, "nomoney-ig", t + MIN);
    /* Cost per conversion 200.00 / 6 = 33.33; AOV 1,200 / 6 = 200; ROAS 1,200 / 200 = 6. */
    for (int i = 0; i < 6; i++) {
        char order[16];
        snprintf(order, sizeof(order), "S%d", i);
        assert_int_equal(
            convert(f, order, NULL, "SIX10", 20000, "USD", ts, REC_STATUS_APPROVED).via,
            REC_VIA_COUPON);
    }
    add_cost(f, "six", "launch", "2026-11-20", 20000, "USD");
    /* ROI in rupiah: cost Rp500.000, revenue Rp2.500.000 -> 400%. */
    (void)convert(f, "I1", NULL, "idr10", 250000000, "IDR", ts, REC_STATUS_APPROVED);
    add_cost(f, "idr", "launch", "2026-11-20", 50000000, "IDR");
    /* Engagement rate: 50 engagements, reach 1,000, impressions 2,000 -> 5% by reach. */
    add_metric(f, "2026-11-20", "er", REC_HAS_IMPRESSIONS | REC_HAS_REACH | REC_HAS_ENGAGEMENTS,
               2000, 1000, 50);
    /* EPC: 1,000.00 over 10,000 clicks -> 0.10; 1,250.00 over 15,000 -> 0.0833. */
    add_counts(f, "epc-ig", t, 10000);
    (void)convert(f, "E1", NULL, "epc10", 100000, "USD", ts, REC_STATUS_APPROVED);
    add_counts(f, "epc2-ig", t, 15000);
    (void)convert(f, "E2", NULL, "epc210", 125000, "USD", ts, REC_STATUS_APPROVED);

    report_query q;
    report_result r;
    const char *args[] = {"from=2026-11-20", "to=2026-11-20", NULL};
    run(f, args, &q, &r);
    text_buf b;
    text_buf_init(&b, 1 << 20);
    report_write(&q, &r, REPORT_JSON, false, &b);
    assert_false(b.failed);
    const char *json = b.ptr;
    assert_non_null(strstr(json, "{\"model\":\"last_click\",\"from\":\"2026-11-20\","
                                 "\"to\":\"2026-11-20\",\"tz\":\"UTC\",\"by\":[\"influencer\"],"
                                 "\"rows\":["));
    char row[2048];

    json_row(json, "roi", row, sizeof(row));
    expect_json(row, "currency", "\"USD\"");
    expect_json(row, "clicks", "1");
    expect_json(row, "conversions", "1");
    expect_json(row, "revenue", "\"3000.00\"");
    expect_json(row, "cost", "\"1000.00\"");
    expect_json(row, "roi", "200");
    expect_json(row, "roas", "3");
    expect_json(row, "conversion_rate", "100");
    expect_json_num(row, "cost_per_conversion", 1000);
    expect_json_num(row, "aov", 3000);
    expect_json_num(row, "epc", 3000);
    expect_json(row, "impressions", "null");
    expect_json(row, "ctr", "null");
    expect_json(row, "cpe", "null");
    expect_json(row, "engagement_rate", "null");
    expect_json(row, "engagement_basis", "null");

    json_row(json, "ctr", row, sizeof(row));
    expect_json(row, "clicks", "5");
    expect_json(row, "impressions", "1000");
    expect_json(row, "engagements", "1000");
    expect_json(row, "reach", "null");
    expect_json(row, "ctr", "0.5");
    expect_json(row, "cpe", "0.5");
    expect_json(row, "engagement_rate", "100");
    expect_json(row, "engagement_basis", "\"impressions\"");
    expect_json(row, "cost", "\"500.00\"");
    expect_json(row, "revenue", "\"0.00\"");
    expect_json(row, "conversions", "0");
    expect_json(row, "roi", "-100");
    expect_json(row, "roas", "0");
    expect_json(row, "cost_per_conversion", "null");
    expect_json(row, "aov", "null");

    json_row(json, "zero", row, sizeof(row));
    expect_json(row, "revenue", "\"100.00\"");
    expect_json(row, "cost", "\"0.00\"");
    expect_json(row, "roi", "null");
    expect_json(row, "roas", "null");
    expect_json(row, "cost_per_conversion", "0");

    json_row(json, "nomoney", row, sizeof(row));
    expect_json(row, "currency", "null");
    expect_json(row, "clicks", "2");
    expect_json(row, "conversions", "0");
    expect_json(row, "revenue", "null");
    expect_json(row, "cost", "null");
    expect_json(row, "roi", "null");
    expect_json(row, "epc", "null");
    expect_json(row, "conversion_rate", "0");

    json_row(json, "six", row, sizeof(row));
    expect_json(row, "conversions", "6");
    expect_json(row, "clicks", "0");
    expect_json(row, "revenue", "\"1200.00\"");
    expect_json(row, "cost", "\"200.00\"");
    expect_json_num(row, "cost_per_conversion", 200.0 / 6);
    expect_json(row, "aov", "200");
    expect_json(row, "roas", "6");
    expect_json(row, "roi", "500");
    expect_json(row, "conversion_rate", "null"); /* coupon sales: no clicks to divide by */

    json_row(json, "idr", row, sizeof(row));
    expect_json(row, "currency", "\"IDR\"");
    expect_json(row, "revenue", "\"2500000.00\"");
    expect_json(row, "cost", "\"500000.00\"");
    expect_json(row, "roi", "400");
    expect_json(row, "roas", "5");

    json_row(json, "er", row, sizeof(row));
    expect_json(row, "engagement_rate", "5");
    expect_json(row, "engagement_basis", "\"reach\"");
    expect_json(row, "ctr", "0");

    json_row(json, "epc", row, sizeof(row));
    expect_json(row, "clicks", "10000");
    expect_json(row, "epc", "0.1");
    json_row(json, "epc2", row, sizeof(row));
    expect_json_num(row, "epc", 1250.0 / 15000);

    /* Two currencies: "total" carries no money, "totals" one row per currency. */
    assert_non_null(strstr(json, "\"total\":{\"currency\":null,"));
    assert_non_null(strstr(json, "\"totals\":[{\"currency\":\"IDR\","));
    assert_non_null(strstr(json, "},{\"currency\":\"USD\","));
    text_buf_free(&b);

    /* CSV: a header line, then a line per group and currency, then the totals. */
    text_buf_init(&b, 1 << 20);
    report_write(&q, &r, REPORT_CSV, false, &b);
    assert_false(b.failed);
    assert_non_null(strstr(b.ptr, "influencer,currency,impressions,reach,engagements,clicks,"));
    assert_non_null(strstr(b.ptr, "\nroi,USD,n/a,n/a,n/a,1,1,0,0,1,3000.00,1000.00,"));
    assert_non_null(strstr(b.ptr, "\ntotal,IDR,"));
    assert_non_null(strstr(b.ptr, "\ntotal,USD,"));
    text_buf_free(&b);

    /* The table: a header and the total line. */
    text_buf_init(&b, 1 << 20);
    report_write(&q, &r, REPORT_TABLE, true, &b);
    assert_false(b.failed);
    assert_true(!strncmp(b.ptr, "influencer ", 11));
    assert_non_null(strstr(b.ptr, "\ntotal "));
    text_buf_free(&b);
    report_free(&r);

    /* One currency: "total" is that currency's. */
    const char *usd[] = {"from=2026-11-20", "to=2026-11-20", "currency=USD", "influencer=roi",
                         NULL};
    run(f, usd, &q, &r);
    text_buf_init(&b, 1 << 20);
    report_write(&q, &r, REPORT_JSON, false, &b);
    assert_non_null(strstr(b.ptr, "\"total\":{\"currency\":\"USD\",\"impressions\":null,"));
    assert_non_null(strstr(b.ptr, "\"roi\":200,\"roas\":3,"));
    text_buf_free(&b);
    report_free(&r);
}

/* Writes the report in format fmt into a fresh buffer the caller frees. */
static void write_to(const report_query *q, const report_result *r, report_format fmt, bool wide,
                     text_buf *b)
{
    text_buf_init(b, 1 << 22);
    report_write(q, r, fmt, wide, b);
    assert_false(b->failed);
}

/* An approved sale credited to no one is in every grouped report, as an (unattributed) row,
 * and in the totals; a filter on an influencer or campaign leaves it out. */
static void test_unattributed_row(void **state)
{
    fixture *f = *state;
    add_influencer(f, "budi", 20000);
    add_link(f, "budi-ig", "budi", "launch", "instagram", "social", "reel");
    rec_click k = click(f, "budi-ig", f->d + 9 * HOUR);
    int64_t ts = f->d + 10 * HOUR;
    (void)convert(f, "A1", &k, NULL, 9000, "USD", ts, REC_STATUS_APPROVED);
    assert_int_equal(convert(f, "U1", NULL, NULL, 4000, "USD", ts, REC_STATUS_APPROVED).via,
                     REC_VIA_NONE);
    assert_int_equal(convert(f, "U2", NULL, "NOPE", 1000, "USD", ts, REC_STATUS_APPROVED).via,
                     REC_VIA_NONE);
    (void)convert(f, "U3", NULL, NULL, 50000, "USD", ts, REC_STATUS_PENDING); /* not counted */

    static const char *const dims[] = {"influencer", "campaign", "link", "source",
                                       "medium",     "content",  "tier"};
    for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
        char by[32];
        snprintf(by, sizeof(by), "by=%s", dims[i]);
        const char *args[] = {"from=2026-11-20", "to=2026-11-20", by, NULL};
        report_query q;
        report_result r;
        run(f, args, &q, &r);
        const report_group *u = group(&r, "(unattributed)", NULL);
        assert_int_equal(u->clicks, 0);
        expect_money(u, "USD", 2 * (int64_t)MODEL_SHARE_ONE, 5000, 0);
        expect_money(&r.total, "USD", 3 * (int64_t)MODEL_SHARE_ONE, 14000, 0);
        report_free(&r);
    }
    /* Under every model, and beside a day. */
    const char *lin[] = {"from=2026-11-20", "to=2026-11-20", "model=linear",
                         "by=influencer",   "by=day",        NULL};
    report_query q;
    report_result r;
    run(f, lin, &q, &r);
    expect_money(group(&r, "(unattributed)", "2026-11-20"), "USD", 2 * (int64_t)MODEL_SHARE_ONE,
                 5000, 0);
    report_free(&r);
    /* By day alone, the day holds every sale. */
    const char *day[] = {"from=2026-11-20", "to=2026-11-20", "by=day", NULL};
    run(f, day, &q, &r);
    expect_money(group(&r, "2026-11-20", NULL), "USD", 3 * (int64_t)MODEL_SHARE_ONE, 14000, 0);
    report_free(&r);
    /* Filters: only budi's. */
    const char *mine[] = {"from=2026-11-20", "to=2026-11-20", "influencer=budi", NULL};
    run(f, mine, &q, &r);
    assert_int_equal(r.ngroups, 1);
    expect_money(&r.total, "USD", MODEL_SHARE_ONE, 9000, 0);
    report_free(&r);
    /* The JSON names the row. */
    const char *all[] = {"from=2026-11-20", "to=2026-11-20", NULL};
    run(f, all, &q, &r);
    text_buf b;
    write_to(&q, &r, REPORT_JSON, false, &b);
    char row[2048];
    json_row(b.ptr, "(unattributed)", row, sizeof(row));
    expect_json(row, "conversions", "2");
    expect_json(row, "revenue", "\"50.00\"");
    text_buf_free(&b);
    report_free(&r);
}

/* No currency is dropped: 20 currencies in one group give 20 lines and 20 totals. */
static void test_many_currencies(void **state)
{
    fixture *f = *state;
    static const char *const codes[] = {"AED", "AUD", "BRL", "CAD", "CHF", "CNY", "DKK",
                                        "EUR", "GBP", "HKD", "IDR", "INR", "JPY", "KRW",
                                        "MYR", "NOK", "PHP", "SEK", "SGD", "USD"};
    enum { N = sizeof(codes) / sizeof(codes[0]) };
    add_influencer(f, "budi", 20000);
    add_link(f, "budi-ig", "budi", "launch", "instagram", "social", "reel");
    int64_t ts = f->d + 10 * HOUR;
    for (int i = 0; i < N; i++) {
        rec_click k = click(f, "budi-ig", f->d + 9 * HOUR + i * MIN);
        char order[16];
        snprintf(order, sizeof(order), "M%d", i);
        (void)convert(f, order, &k, NULL, 100 + i, codes[i], ts, REC_STATUS_APPROVED);
    }
    const char *args[] = {"from=2026-11-20", "to=2026-11-20", NULL};
    report_query q;
    report_result r;
    run(f, args, &q, &r);
    assert_int_equal(r.total.nmoney, N);
    for (int i = 0; i < N; i++)
        expect_money(&r.total, codes[i], MODEL_SHARE_ONE, 100 + i, 0);
    text_buf b;
    write_to(&q, &r, REPORT_CSV, false, &b);
    size_t lines = 0, totals = 0;
    for (const char *p = b.ptr; (p = strchr(p, '\n')); p++) {
        lines++;
        totals += !strncmp(p + 1, "total,", 6);
    }
    assert_int_equal(lines, 1 + N + N); /* header, rows, totals */
    assert_int_equal(totals, N);
    text_buf_free(&b);
    write_to(&q, &r, REPORT_JSON, false, &b);
    size_t n = 0;
    for (const char *p = b.ptr; (p = strstr(p, "\"currency\":\"")); p++)
        n++;
    assert_int_equal(n, N + N); /* rows, then totals ("total" has none: many currencies) */
    text_buf_free(&b);
    write_to(&q, &r, REPORT_TABLE, false, &b);
    lines = 0;
    for (const char *p = b.ptr; (p = strchr(p, '\n')); p++)
        lines++;
    assert_int_equal(lines, 1 + N + 1 + N); /* header, rows, rule, totals */
    text_buf_free(&b);
    report_free(&r);
}

/* A sum past int64 is never shown wrapped: the figure reads "overflow", and so do the rates
 * made from it. */
static void test_money_overflow_shown(void **state)
{
    fixture *f = *state;
    add_influencer(f, "budi", 20000);
    add_influencer(f, "ayu", 20000);
    add_link(f, "budi-ig", "budi", "launch", "instagram", "social", "reel");
    add_link(f, "ayu-ig", "ayu", "launch", "instagram", "social", "reel");
    /* Two fees that each fit (stored before amounts were capped) but not their sum. */
    add_cost(f, "budi", "launch", "2026-11-20", INT64_MAX - 1, "USD");
    add_cost(f, "budi", "launch", "2026-11-20", INT64_MAX - 1, "USD");
    /* CPC: 10^15 x 10,000 clicks. */
    add_pay(f, "ayu", "", REC_PAY_CPC, INT64_C(1000000000000000), "IDR", 0);
    add_counts(f, "ayu-ig", f->d + 9 * HOUR, 10000);
    rec_click k = click(f, "ayu-ig", f->d + 9 * HOUR);
    (void)convert(f, "A1", &k, NULL, 5000, "IDR", f->d + 10 * HOUR, REC_STATUS_APPROVED);
    const char *args[] = {"from=2026-11-20", "to=2026-11-20", NULL};
    report_query q;
    report_result r;
    run(f, args, &q, &r);
    const report_money *bm = money(group(&r, "budi", NULL), "USD");
    assert_true(bm->overflow & REPORT_OVERFLOW_COST);
    const report_money *am = money(group(&r, "ayu", NULL), "IDR");
    assert_true(am->overflow & REPORT_OVERFLOW_COST);
    assert_false(am->overflow & REPORT_OVERFLOW_REVENUE);
    assert_int_equal(am->revenue, 5000);
    text_buf b;
    write_to(&q, &r, REPORT_JSON, false, &b);
    char row[2048];
    json_row(b.ptr, "budi", row, sizeof(row));
    expect_json(row, "cost", "\"overflow\"");
    expect_json(row, "roi", "\"overflow\"");
    expect_json(row, "roas", "\"overflow\"");
    json_row(b.ptr, "ayu", row, sizeof(row));
    expect_json(row, "cost", "\"overflow\"");
    expect_json(row, "revenue", "\"50.00\"");
    expect_json_num(row, "epc", 50.0 / 10001); /* revenue is fine: 50.00 over 10,001 clicks */
    assert_null(strstr(b.ptr, "\"-"));         /* nothing wrapped negative */
    text_buf_free(&b);
    write_to(&q, &r, REPORT_TABLE, true, &b);
    assert_non_null(strstr(b.ptr, "overflow"));
    assert_null(strstr(b.ptr, " -"));
    text_buf_free(&b);
    report_free(&r);

    /* A total over groups that each fit. */
    add_influencer(f, "cici", 20000);
    add_cost(f, "ayu", "", "2026-11-21", INT64_MAX / 2 + 1, "EUR");
    add_cost(f, "cici", "", "2026-11-21", INT64_MAX / 2 + 1, "EUR");
    const char *next[] = {"from=2026-11-21", "to=2026-11-21", NULL};
    run(f, next, &q, &r);
    assert_false(money(group(&r, "ayu", NULL), "EUR")->overflow);
    assert_true(money(&r.total, "EUR")->overflow & REPORT_OVERFLOW_COST);
    write_to(&q, &r, REPORT_CSV, false, &b);
    assert_non_null(strstr(b.ptr, "\ntotal,EUR,n/a,n/a,n/a,0,0,0,0,0,0.00,overflow,"));
    text_buf_free(&b);
    report_free(&r);
}

/* An empty report (no row at all, a day far away) is fine: no qsort of NULL. */
static void test_empty_report(void **state)
{
    fixture *f = *state;
    const char *args[] = {"from=9999-12-31", "to=9999-12-31", NULL};
    report_query q;
    report_result r;
    run(f, args, &q, &r);
    assert_int_equal(r.ngroups, 0);
    assert_int_equal(r.total.nmoney, 0);
    text_buf b;
    write_to(&q, &r, REPORT_JSON, false, &b);
    assert_non_null(strstr(b.ptr, "\"rows\":[],"));
    text_buf_free(&b);
    report_free(&r);
}

static void add_metric_for(fixture *f, const char *inf, const char *camp, uint8_t has,
                           uint64_t impressions, uint64_t reach, uint64_t engagements)
{
    rec_metric m;
    memset(&m, 0, sizeof(m));
    snprintf(m.date, sizeof(m.date), "2026-11-20");
    snprintf(m.influencer, sizeof(m.influencer), "%s", inf);
    snprintf(m.campaign, sizeof(m.campaign), "%s", camp);
    m.has = has;
    m.impressions = impressions;
    m.reach = reach;
    m.engagements = engagements;
    put(f, P_METRIC, &m);
}

/* known-answers.md, "Engagement rate over several rows": numerator and denominator come from
 * the same rows. A: impressions 250,000, no reach, 18,000 engagements; B: impressions 20,000,
 * reach 15,000, 1,300 engagements. By reach 1,300 / 15,000 = 8.67%, never 128.67%. */
static void test_engagement_rate_basis(void **state)
{
    fixture *f = *state;
    add_influencer(f, "budi", 20000);
    add_metric_for(f, "budi", "a", REC_HAS_IMPRESSIONS | REC_HAS_ENGAGEMENTS, 250000, 0, 18000);
    add_metric_for(f, "budi", "b", REC_HAS_IMPRESSIONS | REC_HAS_REACH | REC_HAS_ENGAGEMENTS, 20000,
                   15000, 1300);
    /* Reach without engagements adds to reach, not to the rate's basis. */
    add_metric_for(f, "budi", "c", REC_HAS_REACH, 0, 5000, 0);
    /* Only impressions and engagements: by impressions, both rows. */
    add_influencer(f, "ayu", 20000);
    add_metric_for(f, "ayu", "a", REC_HAS_IMPRESSIONS | REC_HAS_ENGAGEMENTS, 250000, 0, 18000);
    add_metric_for(f, "ayu", "b", REC_HAS_IMPRESSIONS | REC_HAS_ENGAGEMENTS, 20000, 0, 1300);
    add_metric_for(f, "ayu", "c", REC_HAS_ENGAGEMENTS, 0, 0, 700); /* no basis at all */
    const char *args[] = {"from=2026-11-20", "to=2026-11-20", NULL};
    report_query q;
    report_result r;
    run(f, args, &q, &r);
    text_buf b;
    write_to(&q, &r, REPORT_JSON, false, &b);
    char row[2048];
    json_row(b.ptr, "budi", row, sizeof(row));
    expect_json(row, "reach", "20000");
    expect_json(row, "engagements", "19300");
    expect_json_num(row, "engagement_rate", 1300.0 * 100 / 15000);
    expect_json(row, "engagement_basis", "\"reach\"");
    json_row(b.ptr, "ayu", row, sizeof(row));
    expect_json(row, "engagements", "20000");
    expect_json_num(row, "engagement_rate", 19300.0 * 100 / 270000);
    expect_json(row, "engagement_basis", "\"impressions\"");
    /* The total: budi's B has reach, so the total is by reach over B alone. */
    const char *tot = strstr(b.ptr, "\"total\":");
    assert_non_null(tot);
    expect_json_num(tot, "engagement_rate", 1300.0 * 100 / 15000);
    text_buf_free(&b);
    write_to(&q, &r, REPORT_TABLE, true, &b);
    assert_non_null(strstr(b.ptr, "8.67% reach"));
    assert_non_null(strstr(b.ptr, "7.15% impr."));
    assert_null(strstr(b.ptr, "128.67%"));
    text_buf_free(&b);
    report_free(&r);
}

/* The table shows small rates with two significant digits: a mega influencer's CTR of
 * 30 clicks over 2,000,000 impressions is 0.0015%, not 0.00%. */
static void test_table_small_rates(void **state)
{
    fixture *f = *state;
    add_influencer(f, "mega", 2000000);
    add_link(f, "mega-ig", "mega", "launch", "instagram", "social", "reel");
    add_counts(f, "mega-ig", f->d + 9 * HOUR, 30);
    add_metric(f, "2026-11-20", "mega", REC_HAS_IMPRESSIONS, 2000000, 0, 0);
    add_influencer(f, "mid", 20000);
    add_link(f, "mid-ig", "mid", "launch", "instagram", "social", "reel");
    add_counts(f, "mid-ig", f->d + 9 * HOUR, 5);
    add_metric(f, "2026-11-20", "mid", REC_HAS_IMPRESSIONS, 1000, 0, 0);
    const char *args[] = {"from=2026-11-20", "to=2026-11-20", NULL};
    report_query q;
    report_result r;
    run(f, args, &q, &r);
    text_buf b;
    write_to(&q, &r, REPORT_TABLE, true, &b);
    const char *mega = strstr(b.ptr, "\nmega ");
    assert_non_null(mega);
    const char *eol = strchr(mega + 1, '\n');
    char line[512];
    snprintf(line, sizeof(line), "%.*s", (int)(eol - mega - 1), mega + 1);
    if (!strstr(line, " 0.0015% "))
        fail_msg("mega's CTR is not 0.0015%%: %s", line);
    const char *mid = strstr(b.ptr, "\nmid ");
    assert_non_null(mid);
    eol = strchr(mid + 1, '\n');
    snprintf(line, sizeof(line), "%.*s", (int)(eol - mid - 1), mid + 1);
    if (!strstr(line, " 0.50% "))
        fail_msg("mid's CTR is not 0.50%%: %s", line);
    text_buf_free(&b);
    report_free(&r);
}

/* Filters name ids that must exist: an unknown one is refused, naming the field. */
static void test_unknown_ids_refused(void **state)
{
    fixture *f = *state;
    add_influencer(f, "budi", 20000);
    rec_campaign c;
    memset(&c, 0, sizeof(c));
    snprintf(c.id, sizeof(c.id), "launch");
    put(f, P_CAMP, &c);
    static const struct {
        const char *key, *value;
        int rc;
        const char *field, *err;
    } cases[] = {
        {"influencer", "budi", STORE_OK, "", ""},
        {"campaign", "launch", STORE_OK, "", ""},
        {"influencer", "nobody", STORE_NOTFOUND, "influencer", "no influencer 'nobody'"},
        {"campaign", "nope", STORE_NOTFOUND, "campaign", "no campaign 'nope'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        report_param p[1] = {{cases[i].key, cases[i].value}};
        report_query q;
        char field[32] = "", err[160] = "";
        assert_int_equal(
            report_query_parse(p, 1, "UTC", f->d, &q, field, sizeof(field), err, sizeof(err)), 0);
        store_txn *t;
        assert_int_equal(store_read_begin(f->s, &t), STORE_OK);
        int rc = report_check_ids(t, &q, field, sizeof(field), err, sizeof(err));
        store_read_end(t);
        assert_int_equal(rc, cases[i].rc);
        assert_string_equal(field, cases[i].field);
        assert_string_equal(err, cases[i].err);
    }
}

/* The linear model's half conversions are printed exactly. */
static void test_json_fractional_conversions(void **state)
{
    fixture *f = *state;
    add_influencer(f, "budi", 20000);
    add_influencer(f, "ayu", 5000);
    add_link(f, "budi-ig", "budi", "launch", "instagram", "social", "");
    add_link(f, "ayu-ig", "ayu", "launch", "instagram", "social", "");
    (void)click_as(f, "budi-ig", f->d + 8 * HOUR, false, 900);
    (void)click_as(f, "ayu-ig", f->d + 8 * HOUR + MIN, false, 900);
    rec_click k = click_as(f, "budi-ig", f->d + 8 * HOUR + 2 * MIN, false, 900);
    (void)convert(f, "T1", &k, NULL, 10000, "USD", f->d + 9 * HOUR, REC_STATUS_APPROVED);
    report_query q;
    report_result r;
    const char *args[] = {"from=2026-11-20", "to=2026-11-20", "model=linear", NULL};
    run(f, args, &q, &r);
    /* Linear over 3 clicks: 33.34 / 33.33 / 33.33 (the tie goes to the earlier click). */
    expect_money(group(&r, "budi", NULL), "USD", 666666667, 6667, 0);
    expect_money(group(&r, "ayu", NULL), "USD", 333333333, 3333, 0);
    text_buf b;
    text_buf_init(&b, 1 << 20);
    report_write(&q, &r, REPORT_JSON, false, &b);
    char row[2048];
    json_row(b.ptr, "budi", row, sizeof(row));
    expect_json(row, "conversions", "0.666666667");
    expect_json(row, "revenue", "\"66.67\"");
    json_row(b.ptr, "ayu", row, sizeof(row));
    expect_json(row, "conversions", "0.333333333");
    assert_non_null(strstr(b.ptr, "\"model\":\"linear\""));
    text_buf_free(&b);
    report_free(&r);
}

/* ---- reports on several threads ----------------------------------------------------------- */

/* The HTTP API runs reports on many threads at once (tracker/route_report.c). Two threads report
 * by day over two different months of a store with one click a day per link: every group
 * must be one day with that day's clicks, whatever the other thread does. */
typedef struct {
    store *s;
    int64_t first_day;
    int errors;
} race_arg;

static void *race_thread(void *p)
{
    race_arg *a = p;
    for (int it = 0; it < 1500 && !a->errors; it++) {
        report_query q;
        memset(&q, 0, sizeof(q));
        q.by[0] = DIM_DAY;
        q.nby = 1;
        q.model = MODEL_LAST_CLICK;
        snprintf(q.tz, sizeof(q.tz), "UTC");
        q.from_day = a->first_day;
        q.to_day = a->first_day + 29;
        store_txn *t;
        if (store_read_begin(a->s, &t) != STORE_OK) {
            a->errors++;
            break;
        }
        report_result r;
        int rc = report_run(t, &q, &r);
        store_read_end(t);
        if (rc != STORE_OK) {
            a->errors++;
            break;
        }
        if (r.ngroups != 30)
            a->errors++;
        for (size_t i = 0; i < r.ngroups; i++) {
            int64_t y;
            unsigned m, d;
            text_civil_from_days(a->first_day + (int64_t)i, &y, &m, &d);
            char want[11];
            snprintf(want, sizeof(want), "%04lld-%02u-%02u", (long long)y, m, d);
            if (strcmp(r.groups[i].key[0], want) || r.groups[i].clicks != 3)
                a->errors++;
        }
        report_free(&r);
    }
    return NULL;
}

static void test_concurrent_reports(void **state)
{
    fixture *f = *state;
    int64_t first = text_days_from_civil(2026, 1, 1);
    for (int i = 0; i < 60; i++)
        for (int l = 0; l < 3; l++) {
            char slug[8];
            snprintf(slug, sizeof(slug), "l%d", l);
            add_counts(f, slug, (first + i) * DAY + HOUR, 1);
        }
    race_arg a[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (race_arg){f->s, first + (i % 2) * 30, 0};
        assert_int_equal(pthread_create(&th[i], NULL, race_thread, &a[i]), 0);
    }
    int errors = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        errors += a[i].errors;
    }
    if (errors)
        fail_msg("%d wrong groups from reports run at the same time (report.c day_name writes "
                 "a static buffer shared by all threads)",
                 errors);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_parse_defaults),
        T(test_parse_errors),
        T(test_sums_per_influencer_and_currency),
        T(test_filters),
        T(test_models_and_pay),
        T(test_tiers),
        T(test_days_in_jakarta_and_utc),
        T(test_flat_fee_split_by_link),
        T(test_flat_fee_split_by_link_and_day),
        T(test_flat_fee_largest_remainder),
        T(test_json_kpis),
        T(test_json_fractional_conversions),
        T(test_unattributed_row),
        T(test_many_currencies),
        T(test_money_overflow_shown),
        T(test_empty_report),
        T(test_engagement_rate_basis),
        T(test_table_small_rates),
        T(test_unknown_ids_refused),
        T(test_concurrent_reports),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
