/*
 * report_int.h: what the report's three files share, and no other module includes:
 * report_query.c (the question), report_agg.c (one pass over the rollups, metrics and
 * fees into groups) and report.c (the answer: pay-model costs settled, groups sorted,
 * the total).
 */
#ifndef JEJAK_REPORT_INT_H
#define JEJAK_REPORT_INT_H

#include "attribution/report.h"

/* One currency's money in a group, as it is summed. */
typedef struct {
    char currency[4];
    int64_t conv_parts, revenue, cost;
    __int128 cpa_acc; /* cost of cpa, in minor units x 1e9 */
    __int128 rev_acc; /* cost of revshare, in minor units x 1e4 */
    uint8_t overflow; /* REPORT_OVERFLOW_*: a sum left int64 (the figure is not shown) */
} money_acc;

typedef struct {
    report_group g; /* counts and metrics; g.money is unused here */
    money_acc *acc; /* nacc currencies, owned by the group */
    unsigned nacc, capacc;
} group_acc;

/* The groups of a report, in the order they were first met. */
typedef struct {
    group_acc *groups;
    size_t ngroups;
} report_groups;

/* Puts every rollup row of q's period, then its metrics and flat fees, into its group.
 * Inside a read transaction. On success the caller owns *out (report_groups_free); on
 * failure *out is empty. */
int report_aggregate(store_txn *t, const report_query *q, report_groups *out);
void report_groups_free(report_groups *g);

/* Checked sums of the money path: a sum that would leave int64 sets the figure's overflow
 * bit instead of wrapping. */
void report_add_checked(int64_t *sum, int64_t v, uint8_t *overflow, uint8_t bit);

#endif
