/*
 * report_agg.c: the report's one pass (see report.h for the counting rules). Each rollup row
 * of the period goes into its group; imported metrics and flat fees are added after, a fee
 * split over its influencer's groups by clicks. Link and influencer details are looked up
 * once per report (small caches), so the cost is one rollup decode and one hash probe per
 * row, and nothing is allocated per row. The groups go to report.c to be settled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribution/kpi.h"
#include "attribution/money.h"
#include "attribution/report_int.h"
#include "attribution/tz.h"
#include "storage/hashmap.h"
#include "storage/registry.h"
#include "storage/rollup.h"

void report_add_checked(int64_t *sum, int64_t v, uint8_t *overflow, uint8_t bit)
{
    if (money_add(*sum, v, sum))
        *overflow |= bit;
}

/* ---- caches of links and influencers ------------------------------------------------ */

typedef struct {
    char slug[REC_ID]; /* first: the name a named cache finds it by */
    char influencer[REC_ID], campaign[REC_ID];
    char source[REC_UTM], medium[REC_UTM], content[REC_UTM];
    const char *tier;
} link_info;

typedef struct {
    char id[REC_ID]; /* first: the name a named cache finds it by */
    uint64_t followers;
    bool known;
} inf_info;

static void add_checked128(__int128 *sum, __int128 a, int64_t b, uint8_t *overflow)
{
    __int128 p;
    if (__builtin_mul_overflow(a, (__int128)b, &p) || __builtin_add_overflow(*sum, p, sum))
        *overflow |= REPORT_OVERFLOW_COST;
}

typedef struct {
    char influencer[REC_ID], campaign[REC_ID];
    int64_t day; /* -1 when days are not a dimension */
    uint32_t group;
    uint64_t clicks;
} weight;

/* Entries looked up by the name they start with (link_info, inf_info): each is read from
 * the registry once per report. */
typedef struct {
    char *items; /* n entries of size bytes */
    size_t n, cap, size;
    hmap map; /* hash of the name -> index */
} named;

typedef struct {
    store_txn *t;
    const report_query *q;
    named links; /* of link_info */
    named infs;  /* of inf_info */
    rec_paymodel *pays;
    size_t npays, cappays;
    group_acc *groups;
    size_t ngroups, capgroups;
    hmap group_map;
    weight *weights;
    size_t nweights, capweights;
    hmap weight_map;
    int64_t *starts; /* local day starts, UTC ms: [0] = from_day ... [n] = to_day + 1 */
    int ndays;
    size_t day_cursor;
    bool link_level, by_day;
    int rc;
} run_ctx;

enum { MAP_FIRST = 256 }; /* the first capacity of each table */

static void *grow_array(void *p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return p;
    size_t c = *cap ? *cap * 2 : 64;
    void *q = realloc(p, c * size);
    if (q)
        *cap = c;
    return q;
}

static uint64_t hash_str(const char *s)
{
    return hmap_hash(s, strlen(s));
}

/* The entry named name (its first name_cap bytes), *fresh telling whether it was just
 * added (zeroed but for its name); NULL when memory ran out. */
static void *named_get(named *c, const char *name, size_t name_cap, bool *fresh)
{
    uint64_t h = hash_str(name);
    if (hmap_reserve(&c->map))
        return NULL;
    size_t j = hmap_probe(&c->map, h);
    for (; hmap_taken(&c->map, j); j = hmap_probe_next(&c->map, h, j)) {
        char *e = c->items + *hmap_value(&c->map, j) * c->size;
        if (!strcmp(e, name)) {
            *fresh = false;
            return e;
        }
    }
    char *p = grow_array(c->items, &c->cap, c->n, c->size);
    if (!p)
        return NULL;
    c->items = p;
    char *e = p + c->n * c->size;
    memset(e, 0, c->size);
    snprintf(e, name_cap, "%s", name);
    hmap_put(&c->map, j, h, (uint32_t)c->n++);
    *fresh = true;
    return e;
}

static void named_init(named *c, size_t size)
{
    memset(c, 0, sizeof(*c));
    c->size = size;
    hmap_init(&c->map, MAP_FIRST, true);
}

static void named_free(named *c)
{
    free(c->items);
    hmap_free(&c->map);
}

static const inf_info *influencer(run_ctx *x, const char *id)
{
    bool fresh;
    inf_info *e = named_get(&x->infs, id, REC_ID, &fresh);
    if (!e || !fresh)
        return e;
    rec_influencer r;
    if (reg_get_influencer(x->t, id, &r) == STORE_OK) {
        e->followers = r.followers;
        e->known = true;
    }
    return e;
}

static const char *tier_of(run_ctx *x, const char *inf)
{
    const inf_info *i = influencer(x, inf);
    const char *t = i && i->known ? kpi_tier(i->followers) : NULL;
    return t ? t : "(none)";
}

static const link_info *link_of(run_ctx *x, const char *slug)
{
    bool fresh;
    link_info *e = named_get(&x->links, slug, REC_ID, &fresh);
    if (!e || !fresh)
        return e;
    static _Thread_local rec_link l;
    if (reg_get_link(x->t, slug, &l) == STORE_OK) {
        memcpy(e->influencer, l.influencer, sizeof(e->influencer));
        memcpy(e->campaign, l.campaign, sizeof(e->campaign));
        memcpy(e->source, l.utm_source, sizeof(e->source));
        memcpy(e->medium, l.utm_medium, sizeof(e->medium));
        memcpy(e->content, l.utm_content, sizeof(e->content));
    } else {
        strcpy(e->influencer, "(unknown)");
        strcpy(e->campaign, "(unknown)");
    }
    e->tier = tier_of(x, e->influencer);
    return e;
}

static const rec_paymodel *pay_for(run_ctx *x, const char *inf, const char *camp)
{
    const rec_paymodel *any = NULL;
    for (size_t i = 0; i < x->npays; i++) {
        if (strcmp(x->pays[i].influencer, inf))
            continue;
        if (!strcmp(x->pays[i].campaign, camp))
            return &x->pays[i];
        if (!x->pays[i].campaign[0])
            any = &x->pays[i];
    }
    return any;
}

/* ---- groups ------------------------------------------------------------------------ */

typedef struct {
    const char *v[DIM_COUNT];
} dims;

static _Thread_local char day_text[4][11]; /* scratch for day_name: reports run on many threads */

static const char *day_name(int64_t day, int slot)
{
    int64_t y;
    unsigned m, d;
    text_civil_from_days(day, &y, &m, &d);
    snprintf(day_text[slot], sizeof(day_text[slot]), "%04lld-%02u-%02u", (long long)y, m, d);
    return day_text[slot];
}

static group_acc *group_for(run_ctx *x, const dims *d)
{
    char key[2 * REC_NAME + 2];
    const char *k0 = d->v[x->q->by[0]], *k1 = x->q->nby > 1 ? d->v[x->q->by[1]] : "";
    snprintf(key, sizeof(key), "%s\x1f%s", k0, k1);
    uint64_t h = hash_str(key);
    if (hmap_reserve(&x->group_map))
        return NULL;
    size_t j = hmap_probe(&x->group_map, h);
    for (; hmap_taken(&x->group_map, j); j = hmap_probe_next(&x->group_map, h, j)) {
        group_acc *g = &x->groups[*hmap_value(&x->group_map, j)];
        if (!strcmp(g->g.key[0], k0) && !strcmp(g->g.key[1], k1))
            return g;
    }
    group_acc *p = grow_array(x->groups, &x->capgroups, x->ngroups, sizeof(*p));
    if (!p)
        return NULL;
    x->groups = p;
    group_acc *g = &x->groups[x->ngroups++];
    memset(g, 0, sizeof(*g));
    snprintf(g->g.key[0], sizeof(g->g.key[0]), "%s", k0);
    snprintf(g->g.key[1], sizeof(g->g.key[1]), "%s", k1);
    hmap_put(&x->group_map, j, h, (uint32_t)(x->ngroups - 1));
    return g;
}

static money_acc *money_for(group_acc *g, const char *currency)
{
    for (unsigned i = 0; i < g->nacc; i++)
        if (!strcmp(g->acc[i].currency, currency))
            return &g->acc[i];
    if (g->nacc == g->capacc) {
        unsigned cap = g->capacc ? g->capacc * 2 : 2;
        money_acc *p = realloc(g->acc, cap * sizeof(*p));
        if (!p)
            return NULL;
        g->acc = p;
        g->capacc = cap;
    }
    money_acc *m = &g->acc[g->nacc++];
    memset(m, 0, sizeof(*m));
    snprintf(m->currency, sizeof(m->currency), "%s", currency);
    return m;
}

static bool wanted_currency(const run_ctx *x, const char *cur)
{
    return !x->q->currency[0] || !strcmp(x->q->currency, cur);
}

static int add_weight(run_ctx *x, const char *inf, const char *camp, int64_t day, uint32_t g,
                      uint64_t clicks)
{
    char key[3 * REC_ID + 24];
    snprintf(key, sizeof(key), "%s\x1f%s\x1f%lld\x1f%u", inf, camp, (long long)day, g);
    uint64_t h = hash_str(key);
    if (hmap_reserve(&x->weight_map))
        return STORE_ERROR;
    size_t j = hmap_probe(&x->weight_map, h);
    for (; hmap_taken(&x->weight_map, j); j = hmap_probe_next(&x->weight_map, h, j)) {
        weight *w = &x->weights[*hmap_value(&x->weight_map, j)];
        if (w->group == g && w->day == day && !strcmp(w->influencer, inf) &&
            !strcmp(w->campaign, camp)) {
            w->clicks += clicks;
            return STORE_OK;
        }
    }
    weight *p = grow_array(x->weights, &x->capweights, x->nweights, sizeof(*p));
    if (!p)
        return STORE_ERROR;
    x->weights = p;
    weight *w = &x->weights[x->nweights++];
    snprintf(w->influencer, sizeof(w->influencer), "%s", inf);
    snprintf(w->campaign, sizeof(w->campaign), "%s", camp);
    w->day = day;
    w->group = g;
    w->clicks = clicks;
    hmap_put(&x->weight_map, j, h, (uint32_t)(x->nweights - 1));
    return STORE_OK;
}

/* ---- the pass over the rollups ---------------------------------------------------- */

static int on_rollup(int64_t bucket_ms, rollup_kind kind, const char *name, const char *name2,
                     const rollup_row *row, void *arg)
{
    run_ctx *x = arg;
    while ((int)x->day_cursor < x->ndays && bucket_ms >= x->starts[x->day_cursor + 1])
        x->day_cursor++;
    if ((int)x->day_cursor >= x->ndays || bucket_ms < x->starts[0])
        return 0; /* a bucket straddling the period's edge cannot happen: 15 min | offsets */
    int64_t day = x->q->from_day + (int64_t)x->day_cursor;
    dims d;
    const char *inf, *camp;
    if (kind == ROLLUP_LINK) {
        const link_info *l = link_of(x, name);
        if (!l)
            return STORE_ERROR;
        inf = l->influencer;
        camp = l->campaign;
        d = (dims){
            {l->influencer, l->campaign, l->slug, l->source, l->medium, l->content, NULL, l->tier}};
    } else if (kind == ROLLUP_NONE) {
        /* Credited to no one: its own group in every dimension but the day. Not an id (ids
         * have no parentheses), so an influencer or campaign filter never matches it. */
        static const char none[] = "(unattributed)";
        inf = camp = none;
        d = (dims){{none, none, none, none, none, none, NULL, none}};
    } else {
        inf = name;
        camp = name2;
        d = (dims){
            {name, name2, "(coupon)", "(coupon)", "(coupon)", "(coupon)", NULL, tier_of(x, name)}};
    }
    if ((x->q->influencer[0] && strcmp(x->q->influencer, inf)) ||
        (x->q->campaign[0] && strcmp(x->q->campaign, camp)))
        return 0;
    d.v[DIM_DAY] = day_name(day, 0);
    group_acc *g = group_for(x, &d);
    if (!g)
        return STORE_ERROR;
    g->g.clicks += row->clicks;
    g->g.unique += row->unique;
    g->g.bots += row->bots;
    g->g.suspicious += row->suspicious;
    uint32_t gi = (uint32_t)(g - x->groups);
    if (row->clicks && x->link_level && kind == ROLLUP_LINK &&
        add_weight(x, inf, camp, x->by_day ? day : -1, gi, row->clicks))
        return STORE_ERROR;
    const rec_paymodel *pay = pay_for(x, inf, camp);
    if (pay && pay->kind == REC_PAY_CPC && row->clicks && wanted_currency(x, pay->currency)) {
        money_acc *m = money_for(g, pay->currency);
        if (!m)
            return STORE_ERROR;
        int64_t c;
        if (row->clicks > INT64_MAX || money_mul(pay->price, (int64_t)row->clicks, &c))
            m->overflow |= REPORT_OVERFLOW_COST;
        else
            report_add_checked(&m->cost, c, &m->overflow, REPORT_OVERFLOW_COST);
    }
    for (unsigned i = 0; i < row->nmoney; i++) {
        const rollup_money *rm = &row->money[i];
        if (rm->model != x->q->model || !wanted_currency(x, rm->currency))
            continue;
        money_acc *m = money_for(g, rm->currency);
        if (!m)
            return STORE_ERROR;
        report_add_checked(&m->conv_parts, rm->parts, &m->overflow, REPORT_OVERFLOW_CONVERSIONS);
        report_add_checked(&m->revenue, rm->revenue, &m->overflow, REPORT_OVERFLOW_REVENUE);
        if (pay && pay->kind == REC_PAY_REVSHARE)
            add_checked128(&m->rev_acc, rm->revenue, pay->basis_points, &m->overflow);
        if (pay && pay->kind == REC_PAY_CPA && wanted_currency(x, pay->currency)) {
            money_acc *c = money_for(g, pay->currency);
            if (!c)
                return STORE_ERROR;
            add_checked128(&c->cpa_acc, rm->parts, pay->price, &c->overflow);
        }
    }
    return 0;
}

/* The period [S, E) in UTC ms is read as quarter hours up to the first UTC midnight, whole
 * UTC days from the day-level rows, and quarter hours after the last UTC midnight: exact,
 * and about 96 times fewer rows in the middle. Days in another zone are not whole UTC days,
 * so grouping by day outside UTC reads quarter hours throughout. */
static int scan_period(store_txn *t, run_ctx *x)
{
    int64_t s = x->starts[0], e = x->starts[x->ndays];
    int64_t s_day = (s + 86399999) / 86400000 * 86400000, e_day = e / 86400000 * 86400000;
    bool utc = !strcmp(x->q->tz, "UTC");
    if ((x->by_day && !utc) || s_day >= e_day)
        return rollup_scan(t, s, e, on_rollup, x);
    int rc = rollup_scan(t, s, s_day, on_rollup, x);
    if (!rc)
        rc = rollup_scan_days(t, s_day, e_day, on_rollup, x);
    if (!rc)
        rc = rollup_scan(t, e_day, e, on_rollup, x);
    return rc;
}

static int keep_pay(const rec_paymodel *p, void *arg)
{
    run_ctx *x = arg;
    rec_paymodel *a = grow_array(x->pays, &x->cappays, x->npays, sizeof(*a));
    if (!a)
        return STORE_ERROR;
    x->pays = a;
    x->pays[x->npays++] = *p;
    return 0;
}

static dims dims_of(run_ctx *x, const char *inf, const char *camp, const char *link, int64_t day)
{
    if (link && *link) {
        const link_info *l = link_of(x, link);
        if (l)
            return (dims){{inf, camp, l->slug, l->source, l->medium, l->content, day_name(day, 1),
                           tier_of(x, inf)}};
    }
    return (dims){
        {inf, camp, "(none)", "(none)", "(none)", "(none)", day_name(day, 1), tier_of(x, inf)}};
}

static int64_t date_day(const char *date)
{
    int64_t ms = 0;
    text_parse_time(date, &ms);
    return ms / 86400000;
}

static int on_metric(const rec_metric *m, void *arg)
{
    run_ctx *x = arg;
    if ((x->q->influencer[0] && strcmp(x->q->influencer, m->influencer)) ||
        (x->q->campaign[0] && strcmp(x->q->campaign, m->campaign)))
        return 0;
    dims d = dims_of(x, m->influencer, m->campaign[0] ? m->campaign : "(all)", m->link,
                     date_day(m->date));
    group_acc *g = group_for(x, &d);
    if (!g)
        return STORE_ERROR;
    if (m->has & REC_HAS_IMPRESSIONS) {
        g->g.impressions += m->impressions;
        g->g.has_impressions = true;
    }
    if (m->has & REC_HAS_REACH) {
        g->g.reach += m->reach;
        g->g.has_reach = true;
    }
    if (m->has & REC_HAS_ENGAGEMENTS) {
        g->g.engagements += m->engagements;
        g->g.has_engagements = true;
        if (m->has & REC_HAS_REACH) {
            g->g.er_reach_engagements += m->engagements;
            g->g.er_reach += m->reach;
        }
        if (m->has & REC_HAS_IMPRESSIONS) {
            g->g.er_impr_engagements += m->engagements;
            g->g.er_impressions += m->impressions;
        }
    }
    return 0;
}

/* Splits a flat fee over the groups of its influencer (and campaign, and day) by clicks:
 * each gets floor(amount * clicks / total), and the cents left go one each to the largest
 * remainders, ties to the earlier group. With no clicks to go by, the fee stays on a row of
 * its own. */
static bool fee_matches(const run_ctx *x, const weight *w, const rec_cost *c, int64_t day)
{
    return !strcmp(w->influencer, c->influencer) &&
           (!c->campaign[0] || !strcmp(w->campaign, c->campaign)) && (!x->by_day || w->day == day);
}

typedef struct {
    uint32_t group;
    uint64_t clicks;
    __int128 rem;
    size_t order;
} share_line;

static int by_remainder(const void *a, const void *b)
{
    const share_line *x = a, *y = b;
    if (x->rem != y->rem)
        return x->rem > y->rem ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

static int on_cost(const rec_cost *c, void *arg)
{
    run_ctx *x = arg;
    int64_t day = date_day(c->date);
    if (day < x->q->from_day || day > x->q->to_day || !wanted_currency(x, c->currency) ||
        (x->q->influencer[0] && strcmp(x->q->influencer, c->influencer)) ||
        (x->q->campaign[0] && strcmp(x->q->campaign, c->campaign)))
        return 0;
    /* The groups this fee may land on, with their clicks (one line per group). */
    share_line *lines = NULL;
    size_t n = 0, cap = 0;
    uint64_t total = 0;
    for (size_t i = 0; x->link_level && i < x->nweights; i++) {
        const weight *w = &x->weights[i];
        if (!fee_matches(x, w, c, day))
            continue;
        size_t k = 0;
        while (k < n && lines[k].group != w->group)
            k++;
        if (k == n) {
            share_line *p = grow_array(lines, &cap, n, sizeof(*p));
            if (!p) {
                free(lines);
                return STORE_ERROR;
            }
            lines = p;
            lines[n] = (share_line){w->group, 0, 0, n};
            n++;
        }
        lines[k].clicks += w->clicks;
        total += w->clicks;
    }
    if (total == 0) {
        free(lines);
        dims d = dims_of(x, c->influencer, c->campaign[0] ? c->campaign : "(all)", NULL, day);
        group_acc *g = group_for(x, &d);
        money_acc *m = g ? money_for(g, c->currency) : NULL;
        if (!m)
            return STORE_ERROR;
        report_add_checked(&m->cost, c->amount, &m->overflow, REPORT_OVERFLOW_COST);
        return 0;
    }
    int64_t given = 0;
    for (size_t k = 0; k < n; k++) {
        __int128 num = (__int128)c->amount * (__int128)lines[k].clicks;
        int64_t share = (int64_t)(num / total);
        lines[k].rem = num % total;
        money_acc *m = money_for(&x->groups[lines[k].group], c->currency);
        if (!m) {
            free(lines);
            return STORE_ERROR;
        }
        report_add_checked(&m->cost, share, &m->overflow, REPORT_OVERFLOW_COST);
        given += share;
    }
    qsort(lines, n, sizeof(*lines), by_remainder);
    for (size_t k = 0; given < c->amount; k = (k + 1) % n, given++) {
        money_acc *m = money_for(&x->groups[lines[k].group], c->currency);
        report_add_checked(&m->cost, 1, &m->overflow, REPORT_OVERFLOW_COST);
    }
    free(lines);
    return 0;
}

static void run_free(run_ctx *x)
{
    named_free(&x->links);
    named_free(&x->infs);
    free(x->pays);
    free(x->weights);
    free(x->starts);
    hmap_free(&x->group_map);
    hmap_free(&x->weight_map);
}

int report_aggregate(store_txn *t, const report_query *q, report_groups *out)
{
    memset(out, 0, sizeof(*out));
    if (q->to_day < q->from_day || q->to_day - q->from_day > 3660)
        return STORE_ERROR;
    run_ctx x = {.t = t, .q = q};
    named_init(&x.links, sizeof(link_info));
    named_init(&x.infs, sizeof(inf_info));
    hmap_init(&x.group_map, MAP_FIRST, true);
    hmap_init(&x.weight_map, MAP_FIRST, true);
    for (int i = 0; i < q->nby; i++) {
        x.link_level |= q->by[i] == DIM_LINK || q->by[i] == DIM_SOURCE || q->by[i] == DIM_MEDIUM ||
                        q->by[i] == DIM_CONTENT;
        x.by_day |= q->by[i] == DIM_DAY;
    }
    x.ndays = (int)(q->to_day - q->from_day + 1);
    x.starts = malloc((size_t)(x.ndays + 1) * sizeof(*x.starts));
    if (!x.starts)
        return STORE_ERROR;
    tz_day_starts(q->tz, q->from_day, x.ndays + 1, x.starts);
    int rc = reg_each_paymodel(t, keep_pay, &x);
    if (!rc)
        rc = scan_period(t, &x);
    char from[11], to[11];
    snprintf(from, sizeof(from), "%s", day_name(q->from_day, 2));
    snprintf(to, sizeof(to), "%s", day_name(q->to_day, 3));
    if (!rc)
        rc = reg_each_metric(t, from, to, on_metric, &x);
    if (!rc)
        rc = reg_each_cost(t, on_cost, &x);
    run_free(&x);
    out->groups = x.groups;
    out->ngroups = x.ngroups;
    if (rc)
        report_groups_free(out);
    return rc;
}

void report_groups_free(report_groups *g)
{
    for (size_t i = 0; i < g->ngroups; i++)
        free(g->groups[i].acc);
    free(g->groups);
    memset(g, 0, sizeof(*g));
}
