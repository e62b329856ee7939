/*
 * report.c: the report engine (see report.h for the counting rules).
 *
 * One pass over the rollup rows of the period puts each row into its group; imported
 * metrics and flat fees are added after. Link and influencer details are looked up once
 * per report (small caches), so the cost is one rollup decode and one hash probe per row.
 */
#include "attribution/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "attribution/kpi.h"
#include "attribution/money.h"
#include "attribution/tz.h"
#include "storage/registry.h"
#include "storage/rollup.h"

static const char *const dim_names[DIM_COUNT] = {"influencer", "campaign", "link", "source",
                                                 "medium",     "content",  "day",  "tier"};

const char *report_dim_name(report_dim d)
{
    return d < DIM_COUNT ? dim_names[d] : "";
}

int report_dim_parse(const char *s, report_dim *out)
{
    for (int i = 0; i < DIM_COUNT; i++)
        if (!strcmp(s, dim_names[i])) {
            *out = (report_dim)i;
            return 0;
        }
    return -1;
}

static int bad(char *field, size_t fl, char *err, size_t el, const char *f, const char *msg)
{
    snprintf(field, fl, "%s", f);
    snprintf(err, el, "%s", msg);
    return -1;
}

int report_query_parse(const report_param *p, size_t n, const char *default_tz, int64_t now_ms,
                       report_query *q, char *field, size_t fl, char *err, size_t el)
{
    memset(q, 0, sizeof(*q));
    q->model = MODEL_LAST_CLICK;
    snprintf(q->tz, sizeof(q->tz), "%s", default_tz && *default_tz ? default_tz : "UTC");
    const char *from = NULL, *to = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *k = p[i].key, *v = p[i].value ? p[i].value : "";
        if (!strcmp(k, "by")) {
            if (q->nby == 2)
                return bad(field, fl, err, el, "by", "at most two --by");
            if (report_dim_parse(v, &q->by[q->nby]))
                return bad(field, fl, err, el, "by",
                           "by must be influencer, campaign, link, source, medium, content, "
                           "day or tier");
            if (q->nby == 1 && q->by[0] == q->by[1])
                return bad(field, fl, err, el, "by", "the same --by twice");
            q->nby++;
        } else if (!strcmp(k, "model")) {
            if (model_parse(v, &q->model))
                return bad(field, fl, err, el, "model",
                           "model must be last-click, first-click, linear, time-decay or "
                           "position-based");
        } else if (!strcmp(k, "from")) {
            from = v;
        } else if (!strcmp(k, "to")) {
            to = v;
        } else if (!strcmp(k, "tz")) {
            if (!tz_valid(v))
                return bad(field, fl, err, el, "tz",
                           "tz must be an IANA time zone such as Asia/Jakarta or UTC");
            snprintf(q->tz, sizeof(q->tz), "%s", v);
        } else if (!strcmp(k, "influencer") || !strcmp(k, "campaign")) {
            if (!text_valid_id(v))
                return bad(field, fl, err, el, k, "not a valid id");
            snprintf(k[0] == 'i' ? q->influencer : q->campaign, REC_ID, "%s", v);
        } else if (!strcmp(k, "currency")) {
            if (strlen(v) != 3 || money_exponent(v) < 0)
                return bad(field, fl, err, el, "currency", "currency must be an ISO 4217 code");
            memcpy(q->currency, v, 4);
        } else if (strcmp(k, "format") && strcmp(k, "wide")) {
            snprintf(field, fl, "%s", k);
            snprintf(err, el, "unknown parameter %.40s", k);
            return -1;
        }
    }
    if (q->nby == 0)
        q->by[q->nby++] = DIM_INFLUENCER;
    int64_t today = tz_local_day(q->tz, now_ms);
    int64_t ms;
    q->to_day = today;
    if (to) {
        if (!text_valid_date(to) || text_parse_time(to, &ms))
            return bad(field, fl, err, el, "to", "to must be a date YYYY-MM-DD");
        q->to_day = ms / 86400000;
    }
    q->from_day = q->to_day - 29;
    if (from) {
        if (!text_valid_date(from) || text_parse_time(from, &ms))
            return bad(field, fl, err, el, "from", "from must be a date YYYY-MM-DD");
        q->from_day = ms / 86400000;
    }
    if (q->from_day > q->to_day)
        return bad(field, fl, err, el, "from", "from is after to");
    if (q->to_day - q->from_day > 3660)
        return bad(field, fl, err, el, "from", "a report covers at most ten years");
    return 0;
}

/* ---- small hash maps --------------------------------------------------------------- */

/* Open addressing from a 64-bit hash to an index; the caller compares keys. */
typedef struct {
    uint64_t *hash;
    uint32_t *index;
    size_t cap, used;
} hmap;

static int hmap_grow(hmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 256;
    uint64_t *h = calloc(cap, sizeof(*h));
    uint32_t *ix = calloc(cap, sizeof(*ix));
    if (!h || !ix) {
        free(h);
        free(ix);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->index[i])
            continue;
        size_t j = (size_t)m->hash[i] & (cap - 1);
        while (ix[j])
            j = (j + 1) & (cap - 1);
        h[j] = m->hash[i];
        ix[j] = m->index[i];
    }
    free(m->hash);
    free(m->index);
    m->hash = h;
    m->index = ix;
    m->cap = cap;
    return 0;
}

static void hmap_free(hmap *m)
{
    free(m->hash);
    free(m->index);
    memset(m, 0, sizeof(*m));
}

/* ---- caches of links and influencers ------------------------------------------------ */

typedef struct {
    char slug[REC_ID], influencer[REC_ID], campaign[REC_ID];
    char source[REC_UTM], medium[REC_UTM], content[REC_UTM];
    const char *tier;
} link_info;

typedef struct {
    char id[REC_ID];
    uint64_t followers;
    bool known;
} inf_info;

typedef struct {
    int64_t price; /* cpc, cpa */
    char currency[4];
    int64_t basis_points;
    uint8_t kind;
    bool set;
} pay_info;

typedef struct {
    char currency[4];
    int64_t conv_parts, revenue, cost;
    __int128 cpa_acc; /* cost of cpa, in minor units x 1e9 */
    __int128 rev_acc; /* cost of revshare, in minor units x 1e4 */
} money_acc;

typedef struct {
    report_group g;
    money_acc *acc;
    unsigned nacc, capacc;
} group_acc;

typedef struct {
    char influencer[REC_ID], campaign[REC_ID];
    int64_t day; /* -1 when days are not a dimension */
    uint32_t group;
    uint64_t clicks;
} weight;

typedef struct {
    store_txn *t;
    const report_query *q;
    link_info *links;
    size_t nlinks, caplinks;
    hmap link_map;
    inf_info *infs;
    size_t ninfs, capinfs;
    hmap inf_map;
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
    uint64_t h = XXH3_64bits(s, strlen(s));
    return h ? h : 1;
}

static const inf_info *influencer(run_ctx *x, const char *id)
{
    uint64_t h = hash_str(id);
    if (2 * (x->inf_map.used + 1) > x->inf_map.cap && hmap_grow(&x->inf_map))
        return NULL;
    size_t j = (size_t)h & (x->inf_map.cap - 1);
    for (; x->inf_map.index[j]; j = (j + 1) & (x->inf_map.cap - 1))
        if (x->inf_map.hash[j] == h && !strcmp(x->infs[x->inf_map.index[j] - 1].id, id))
            return &x->infs[x->inf_map.index[j] - 1];
    inf_info *p = grow_array(x->infs, &x->capinfs, x->ninfs, sizeof(*p));
    if (!p)
        return NULL;
    x->infs = p;
    inf_info *e = &x->infs[x->ninfs++];
    memset(e, 0, sizeof(*e));
    snprintf(e->id, sizeof(e->id), "%s", id);
    rec_influencer r;
    if (reg_get_influencer(x->t, id, &r) == STORE_OK) {
        e->followers = r.followers;
        e->known = true;
    }
    x->inf_map.hash[j] = h;
    x->inf_map.index[j] = (uint32_t)x->ninfs;
    x->inf_map.used++;
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
    uint64_t h = hash_str(slug);
    if (2 * (x->link_map.used + 1) > x->link_map.cap && hmap_grow(&x->link_map))
        return NULL;
    size_t j = (size_t)h & (x->link_map.cap - 1);
    for (; x->link_map.index[j]; j = (j + 1) & (x->link_map.cap - 1))
        if (x->link_map.hash[j] == h && !strcmp(x->links[x->link_map.index[j] - 1].slug, slug))
            return &x->links[x->link_map.index[j] - 1];
    link_info *p = grow_array(x->links, &x->caplinks, x->nlinks, sizeof(*p));
    if (!p)
        return NULL;
    x->links = p;
    link_info *e = &x->links[x->nlinks++];
    memset(e, 0, sizeof(*e));
    snprintf(e->slug, sizeof(e->slug), "%s", slug);
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
    x->link_map.hash[j] = h;
    x->link_map.index[j] = (uint32_t)x->nlinks;
    x->link_map.used++;
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
    if (2 * (x->group_map.used + 1) > x->group_map.cap && hmap_grow(&x->group_map))
        return NULL;
    size_t j = (size_t)h & (x->group_map.cap - 1);
    for (; x->group_map.index[j]; j = (j + 1) & (x->group_map.cap - 1)) {
        group_acc *g = &x->groups[x->group_map.index[j] - 1];
        if (x->group_map.hash[j] == h && !strcmp(g->g.key[0], k0) && !strcmp(g->g.key[1], k1))
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
    x->group_map.hash[j] = h;
    x->group_map.index[j] = (uint32_t)x->ngroups;
    x->group_map.used++;
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
    if (2 * (x->weight_map.used + 1) > x->weight_map.cap && hmap_grow(&x->weight_map))
        return STORE_ERROR;
    size_t j = (size_t)h & (x->weight_map.cap - 1);
    for (; x->weight_map.index[j]; j = (j + 1) & (x->weight_map.cap - 1)) {
        weight *w = &x->weights[x->weight_map.index[j] - 1];
        if (x->weight_map.hash[j] == h && w->group == g && w->day == day &&
            !strcmp(w->influencer, inf) && !strcmp(w->campaign, camp)) {
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
    x->weight_map.hash[j] = h;
    x->weight_map.index[j] = (uint32_t)x->nweights;
    x->weight_map.used++;
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
        m->cost += pay->price * (int64_t)row->clicks;
    }
    for (unsigned i = 0; i < row->nmoney; i++) {
        const rollup_money *rm = &row->money[i];
        if (rm->model != x->q->model || !wanted_currency(x, rm->currency))
            continue;
        money_acc *m = money_for(g, rm->currency);
        if (!m)
            return STORE_ERROR;
        m->conv_parts += rm->parts;
        m->revenue += rm->revenue;
        if (pay && pay->kind == REC_PAY_REVSHARE)
            m->rev_acc += (__int128)rm->revenue * pay->basis_points;
        if (pay && pay->kind == REC_PAY_CPA && wanted_currency(x, pay->currency)) {
            money_acc *c = money_for(g, pay->currency);
            if (!c)
                return STORE_ERROR;
            c->cpa_acc += (__int128)rm->parts * pay->price;
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
        m->cost += c->amount;
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
        m->cost += share;
        given += share;
    }
    qsort(lines, n, sizeof(*lines), by_remainder);
    for (size_t k = 0; given < c->amount; k = (k + 1) % n, given++)
        money_for(&x->groups[lines[k].group], c->currency)->cost++;
    free(lines);
    return 0;
}

static int64_t round_div(__int128 num, int64_t den)
{
    __int128 q = num / den, r = num % den;
    if (r * 2 >= den)
        q++;
    else if (r * 2 <= -den)
        q--;
    return (int64_t)q;
}

static int cmp_group(const void *a, const void *b)
{
    const report_group *x = a, *y = b;
    int c = strcmp(x->key[0], y->key[0]);
    return c ? c : strcmp(x->key[1], y->key[1]);
}

static int cmp_money(const void *a, const void *b)
{
    return strcmp(((const report_money *)a)->currency, ((const report_money *)b)->currency);
}

static void add_total(report_group *t, const report_group *g)
{
    t->impressions += g->impressions;
    t->reach += g->reach;
    t->engagements += g->engagements;
    t->has_impressions |= g->has_impressions;
    t->has_reach |= g->has_reach;
    t->has_engagements |= g->has_engagements;
    t->clicks += g->clicks;
    t->unique += g->unique;
    t->bots += g->bots;
    t->suspicious += g->suspicious;
}

int report_run(store_txn *t, const report_query *q, report_result *out)
{
    memset(out, 0, sizeof(*out));
    run_ctx x = {.t = t, .q = q};
    for (int i = 0; i < q->nby; i++) {
        x.link_level |= q->by[i] == DIM_LINK || q->by[i] == DIM_SOURCE || q->by[i] == DIM_MEDIUM ||
                        q->by[i] == DIM_CONTENT;
        x.by_day |= q->by[i] == DIM_DAY;
    }
    int rc = STORE_OK;
    if (q->to_day < q->from_day || q->to_day - q->from_day > 3660)
        return STORE_ERROR;
    x.ndays = (int)(q->to_day - q->from_day + 1);
    x.starts = malloc((size_t)(x.ndays + 1) * sizeof(*x.starts));
    if (!x.starts)
        return STORE_ERROR;
    tz_day_starts(q->tz, q->from_day, x.ndays + 1, x.starts);
    rc = reg_each_paymodel(t, keep_pay, &x);
    if (!rc)
        rc = scan_period(t, &x);
    char from[11], to[11];
    snprintf(from, sizeof(from), "%s", day_name(q->from_day, 2));
    snprintf(to, sizeof(to), "%s", day_name(q->to_day, 3));
    if (!rc)
        rc = reg_each_metric(t, from, to, on_metric, &x);
    if (!rc)
        rc = reg_each_cost(t, on_cost, &x);

    /* Settle pay-model costs, then move the groups out with their money rows. */
    if (!rc && x.ngroups) {
        out->groups = calloc(x.ngroups, sizeof(*out->groups));
        if (!out->groups)
            rc = STORE_ERROR;
    }
    for (size_t i = 0; !rc && i < x.ngroups; i++) {
        group_acc *g = &x.groups[i];
        for (unsigned k = 0; k < g->nacc; k++) {
            money_acc *m = &g->acc[k];
            m->cost += round_div(m->cpa_acc, MODEL_SHARE_ONE) + round_div(m->rev_acc, 10000);
        }
        out->groups[i] = g->g;
        out->groups[i].money = calloc(g->nacc ? g->nacc : 1, sizeof(report_money));
        if (!out->groups[i].money) {
            rc = STORE_ERROR;
            break;
        }
        for (unsigned k = 0; k < g->nacc; k++) {
            report_money *m = &out->groups[i].money[k];
            memcpy(m->currency, g->acc[k].currency, sizeof(m->currency));
            m->conv_parts = g->acc[k].conv_parts;
            m->revenue = g->acc[k].revenue;
            m->cost = g->acc[k].cost;
        }
        out->groups[i].nmoney = g->nacc;
        qsort(out->groups[i].money, g->nacc, sizeof(report_money), cmp_money);
        out->ngroups++;
    }
    if (!rc) {
        if (out->ngroups) /* qsort(NULL, 0) is undefined: an empty report has no array */
            qsort(out->groups, out->ngroups, sizeof(*out->groups), cmp_group);
        /* The total: counts once per group, money per currency. */
        report_group *tot = &out->total;
        strcpy(tot->key[0], "total");
        tot->money = calloc(16, sizeof(report_money));
        for (size_t i = 0; i < out->ngroups && tot->money; i++) {
            const report_group *g = &out->groups[i];
            add_total(tot, g);
            for (unsigned k = 0; k < g->nmoney; k++) {
                unsigned j = 0;
                while (j < tot->nmoney && strcmp(tot->money[j].currency, g->money[k].currency))
                    j++;
                if (j == tot->nmoney) {
                    if (j == 16)
                        continue; /* more currencies than any shop has: left out of the total */
                    memcpy(tot->money[j].currency, g->money[k].currency, 4);
                    tot->nmoney++;
                }
                tot->money[j].conv_parts += g->money[k].conv_parts;
                tot->money[j].revenue += g->money[k].revenue;
                tot->money[j].cost += g->money[k].cost;
            }
        }
        if (!tot->money)
            rc = STORE_ERROR;
        else
            qsort(tot->money, tot->nmoney, sizeof(report_money), cmp_money);
    }
    for (size_t i = 0; i < x.ngroups; i++)
        free(x.groups[i].acc);
    free(x.groups);
    free(x.links);
    free(x.infs);
    free(x.pays);
    free(x.weights);
    free(x.starts);
    hmap_free(&x.link_map);
    hmap_free(&x.inf_map);
    hmap_free(&x.group_map);
    hmap_free(&x.weight_map);
    if (rc)
        report_free(out);
    return rc;
}

void report_free(report_result *r)
{
    for (size_t i = 0; i < r->ngroups; i++)
        free(r->groups[i].money);
    free(r->groups);
    free(r->total.money);
    memset(r, 0, sizeof(*r));
}
