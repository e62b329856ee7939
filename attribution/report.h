/*
 * report.h: the marketer's report: one row per group (influencer, campaign, link, source,
 * medium, content, day or tier; one or two of them) and currency, answered from the
 * rollups (rollup.h), the imported metrics and the costs, never from raw clicks.
 *
 * Counting rules, in one place:
 *   - clicks are non-bot, non-suspicious clicks; unique clicks and bot clicks beside them;
 *   - conversions and revenue are those of approved conversions, credited under the chosen
 *     model (fractional under multi-touch models); refunded and declined ones leave both;
 *   - cost = flat fees dated in the period + pay models (cpc x clicks, cpa x conversions,
 *     revshare x revenue). When rows are finer than an influencer (link, source, medium,
 *     content), a flat fee is split over that influencer's rows by their clicks;
 *   - money in different currencies is never added: each currency gets its own row, and
 *     the total one per currency (none is ever left out);
 *   - approved conversions credited to no one (no journey, no coupon) are a group of their
 *     own, "(unattributed)" in every dimension but the day, so the totals hold every sale;
 *     an influencer or campaign filter leaves them out;
 *   - every money sum is checked: one that would leave int64 is flagged (overflow);
 *   - the engagement rate divides engagements by reach over the metric rows that have both
 *     when there are any, else by impressions likewise (numerator and denominator from the
 *     same rows);
 *   - days are local days in the report's time zone; 15-minute rollup buckets make them
 *     exact for every zone.
 * Rates are computed when the report is formatted (kpi.h): a zero denominator is n/a.
 */
#ifndef JEJAK_REPORT_H
#define JEJAK_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "attribution/model.h"
#include "storage/record.h"
#include "storage/store.h"
#include "storage/text.h"

typedef enum {
    DIM_INFLUENCER,
    DIM_CAMPAIGN,
    DIM_LINK,
    DIM_SOURCE,
    DIM_MEDIUM,
    DIM_CONTENT,
    DIM_DAY,
    DIM_TIER,
    DIM_COUNT
} report_dim;

typedef struct {
    report_dim by[2];
    int nby; /* 1 or 2 */
    model_kind model;
    int64_t from_day; /* local days since 1970-01-01, inclusive */
    int64_t to_day;   /* inclusive */
    char tz[65];
    char influencer[REC_ID]; /* filters; "" = all */
    char campaign[REC_ID];
    char currency[4];
} report_query;

/* Bits of report_money.overflow: that figure's exact sum is outside int64, so it is shown as
 * "overflow" (and so is every rate made from it), never as a wrapped number. */
enum { REPORT_OVERFLOW_CONVERSIONS = 1, REPORT_OVERFLOW_REVENUE = 2, REPORT_OVERFLOW_COST = 4 };

typedef struct {
    char currency[4]; /* "" when the group has no money at all */
    int64_t conv_parts, revenue, cost;
    uint8_t overflow; /* REPORT_OVERFLOW_* */
} report_money;

typedef struct {
    char key[2][REC_NAME];
    uint64_t impressions, reach, engagements;
    bool has_impressions, has_reach, has_engagements;
    /* The engagement rate's two bases, each summed over the same metric rows: engagements
     * and reach of the rows that have both, engagements and impressions likewise. */
    uint64_t er_reach_engagements, er_reach, er_impr_engagements, er_impressions;
    uint64_t clicks, unique, bots, suspicious;
    unsigned nmoney;
    report_money *money;
} report_group;

typedef struct {
    report_group *groups; /* sorted by key */
    size_t ngroups;
    report_group total;
} report_result;

/* Reads a query from name/value pairs, the same for the CLI and the HTTP API: by (once or
 * twice), model, from, to (YYYY-MM-DD, inclusive; default the last 30 days), tz (default
 * default_tz), influencer, campaign, currency. 0, or -1 with the field and reason. */
typedef struct {
    const char *key, *value;
} report_param;
int report_query_parse(const report_param *p, size_t n, const char *default_tz, int64_t now_ms,
                       report_query *q, char *field, size_t fieldlen, char *err, size_t errlen);

const char *report_dim_name(report_dim d);
int report_dim_parse(const char *s, report_dim *out);

/* Computes the report inside a read transaction. out is owned by the caller: report_free. */
int report_run(store_txn *t, const report_query *q, report_result *out);

/* Checks that the query's influencer and campaign filters name records that exist: STORE_OK,
 * or STORE_NOTFOUND with the field ("influencer", "campaign") and "no influencer 'x'", or
 * another STORE_* code if the store cannot be read. Call it before report_run: a filter on
 * a typo would otherwise give an empty, plausible report. */
int report_check_ids(store_txn *t, const report_query *q, char *field, size_t fieldlen, char *err,
                     size_t errlen);
void report_free(report_result *r);

typedef enum { REPORT_TABLE, REPORT_CSV, REPORT_JSON } report_format;
/* Appends the formatted report to out. wide: every column in the table format. */
void report_write(const report_query *q, const report_result *r, report_format f, bool wide,
                  text_buf *out);

#endif
