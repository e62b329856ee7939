/*
 * report.c: the report's answer. report_agg.c has summed the period into groups; here the
 * pay-model costs are settled (rounded once per group and currency, not per row), each
 * group's money rows sorted by currency, the groups sorted by key, and the total made:
 * counts once per group, money per currency with checked sums. The question is parsed in
 * report_query.c; rates are left to the formatter (report_format.c, kpi.h).
 */
#include "attribution/report.h"

#include <stdlib.h>
#include <string.h>

#include "attribution/report_int.h"

/* num / den rounded half away from zero, added to *sum; the overflow bit if either leaves
 * int64. */
static void add_round_div(int64_t *sum, __int128 num, int64_t den, uint8_t *overflow)
{
    __int128 q = num / den, r = num % den;
    if (r * 2 >= den)
        q++;
    else if (r * 2 <= -den)
        q--;
    if (q > INT64_MAX || q < INT64_MIN)
        *overflow |= REPORT_OVERFLOW_COST;
    else
        report_add_checked(sum, (int64_t)q, overflow, REPORT_OVERFLOW_COST);
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
    t->er_reach_engagements += g->er_reach_engagements;
    t->er_reach += g->er_reach;
    t->er_impr_engagements += g->er_impr_engagements;
    t->er_impressions += g->er_impressions;
    t->clicks += g->clicks;
    t->unique += g->unique;
    t->bots += g->bots;
    t->suspicious += g->suspicious;
}

int report_run(store_txn *t, const report_query *q, report_result *out)
{
    memset(out, 0, sizeof(*out));
    report_groups gs;
    int rc = report_aggregate(t, q, &gs);

    /* Settle pay-model costs, then move the groups out with their money rows. */
    if (!rc && gs.ngroups) {
        out->groups = calloc(gs.ngroups, sizeof(*out->groups));
        if (!out->groups)
            rc = STORE_ERROR;
    }
    for (size_t i = 0; !rc && i < gs.ngroups; i++) {
        group_acc *g = &gs.groups[i];
        for (unsigned k = 0; k < g->nacc; k++) {
            money_acc *m = &g->acc[k];
            add_round_div(&m->cost, m->cpa_acc, MODEL_SHARE_ONE, &m->overflow);
            add_round_div(&m->cost, m->rev_acc, 10000, &m->overflow);
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
            m->overflow = g->acc[k].overflow;
        }
        out->groups[i].nmoney = g->nacc;
        if (g->nacc > 1)
            qsort(out->groups[i].money, g->nacc, sizeof(report_money), cmp_money);
        out->ngroups++;
    }
    if (!rc) {
        if (out->ngroups > 1) /* qsort(NULL, 0, ...) is undefined */
            qsort(out->groups, out->ngroups, sizeof(*out->groups), cmp_group);
        /* The total: counts once per group, money per currency (room for every currency of
         * every group: none is left out). */
        report_group *tot = &out->total;
        strcpy(tot->key[0], "total");
        size_t room = 1;
        for (size_t i = 0; i < out->ngroups; i++)
            room += out->groups[i].nmoney;
        tot->money = calloc(room, sizeof(report_money));
        for (size_t i = 0; i < out->ngroups && tot->money; i++) {
            const report_group *g = &out->groups[i];
            add_total(tot, g);
            for (unsigned k = 0; k < g->nmoney; k++) {
                const report_money *gm = &g->money[k];
                unsigned j = 0;
                while (j < tot->nmoney && strcmp(tot->money[j].currency, gm->currency))
                    j++;
                report_money *tm = &tot->money[j];
                if (j == tot->nmoney) {
                    memcpy(tm->currency, gm->currency, 4);
                    tot->nmoney++;
                }
                tm->overflow |= gm->overflow;
                report_add_checked(&tm->conv_parts, gm->conv_parts, &tm->overflow,
                                   REPORT_OVERFLOW_CONVERSIONS);
                report_add_checked(&tm->revenue, gm->revenue, &tm->overflow,
                                   REPORT_OVERFLOW_REVENUE);
                report_add_checked(&tm->cost, gm->cost, &tm->overflow, REPORT_OVERFLOW_COST);
            }
        }
        if (!tot->money)
            rc = STORE_ERROR;
        else if (tot->nmoney > 1)
            qsort(tot->money, tot->nmoney, sizeof(report_money), cmp_money);
    }
    report_groups_free(&gs);
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
