/*
 * kpi.h: the report-time formulas (CTR, conversion rate, cost per conversion, ROI, ROAS,
 * EPC, AOV, CPE, engagement rate) and influencer tiers.
 *
 * These run on totals that are already exact (integer minor units, integer or fixed-point
 * counts); their results are for display only and never feed back into stored money, so
 * double is fine here. A rate whose denominator is not positive (zero, negative, NaN) has
 * no meaning and is reported as n/a (ok == 0, value 0), never as 0 or infinity.
 * Percentages are 0..100 (0.5 means 0.5%); money results are in minor units of the
 * currency of their inputs (divide by 10^money_exponent to show major units).
 *
 * Pure functions: no I/O, no allocation, no state.
 */
#ifndef JEJAK_KPI_H
#define JEJAK_KPI_H

#include <stdint.h>

typedef struct {
    int ok;       /* 0: n/a (zero denominator) */
    double value; /* meaningful only when ok */
} kpi_value;

kpi_value kpi_ctr(double clicks, double impressions);                      /* percent */
kpi_value kpi_conversion_rate(double conversions, double clicks);          /* percent */
kpi_value kpi_cost_per_conversion(int64_t cost_minor, double conversions); /* minor units */
kpi_value kpi_roi(int64_t revenue_minor, int64_t cost_minor);  /* percent: (rev-cost)/cost*100 */
kpi_value kpi_roas(int64_t revenue_minor, int64_t cost_minor); /* ratio: rev/cost */
kpi_value kpi_epc(int64_t revenue_minor, double clicks);       /* minor units per click */
kpi_value kpi_aov(int64_t revenue_minor, double conversions);  /* minor units per order */
kpi_value kpi_cpe(int64_t cost_minor, double engagements);     /* minor units */

/* Percent of engagements over reach when reach > 0, else over impressions; n/a if neither
 * is positive. Each basis brings its own numerator, summed over the same rows as its
 * denominator (known-answers.md: rows without reach add nothing to eng_reach), so a rate
 * over several rows never divides one row's engagements by another's reach. If
 * by_impressions is not NULL it is set to 1 when impressions were used and 0 otherwise. */
kpi_value kpi_engagement_rate(double eng_reach, double reach, double eng_impressions,
                              double impressions, int *by_impressions);

/* Influencer tier by follower count: "nano" 1,000-9,999, "micro" 10,000-49,999,
 * "mid-tier" 50,000-499,999, "macro" 500,000-999,999, "mega" >= 1,000,000; a boundary
 * belongs to the higher tier. NULL under 1,000. Static strings. */
const char *kpi_tier(uint64_t followers);

#endif
