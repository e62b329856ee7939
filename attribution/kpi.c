/*
 * kpi.c: report formulas. Percentages multiply before dividing (clicks * 100 / impressions)
 * so that round inputs give round outputs (5 clicks / 1,000 impressions is exactly 0.5,
 * not 0.5000000000000001). ROI subtracts in double because revenue - cost can overflow
 * int64 for absurd inputs.
 */
#include "attribution/kpi.h"

#include <stddef.h>

static const kpi_value kpi_na = {0, 0.0};

/* n/a unless den > 0; written as !(den > 0) so NaN is n/a too. */
static kpi_value kpi_div(double num, double den)
{
    if (!(den > 0.0))
        return kpi_na;
    kpi_value v = {1, num / den};
    return v;
}

kpi_value kpi_ctr(double clicks, double impressions)
{
    return kpi_div(clicks * 100.0, impressions);
}

kpi_value kpi_conversion_rate(double conversions, double clicks)
{
    return kpi_div(conversions * 100.0, clicks);
}

kpi_value kpi_cost_per_conversion(int64_t cost_minor, double conversions)
{
    return kpi_div((double)cost_minor, conversions);
}

kpi_value kpi_roi(int64_t revenue_minor, int64_t cost_minor)
{
    return kpi_div(((double)revenue_minor - (double)cost_minor) * 100.0, (double)cost_minor);
}

kpi_value kpi_roas(int64_t revenue_minor, int64_t cost_minor)
{
    return kpi_div((double)revenue_minor, (double)cost_minor);
}

kpi_value kpi_epc(int64_t revenue_minor, double clicks)
{
    return kpi_div((double)revenue_minor, clicks);
}

kpi_value kpi_aov(int64_t revenue_minor, double conversions)
{
    return kpi_div((double)revenue_minor, conversions);
}

kpi_value kpi_cpe(int64_t cost_minor, double engagements)
{
    return kpi_div((double)cost_minor, engagements);
}

kpi_value kpi_engagement_rate(double eng_reach, double reach, double eng_impressions,
                              double impressions, int *by_impressions)
{
    int use_impressions = !(reach > 0.0);
    if (by_impressions != NULL)
        *by_impressions = use_impressions;
    if (use_impressions)
        return kpi_div(eng_impressions * 100.0, impressions);
    return kpi_div(eng_reach * 100.0, reach);
}

const char *kpi_tier(uint64_t followers)
{
    if (followers >= 1000000)
        return "mega";
    if (followers >= 500000)
        return "macro";
    if (followers >= 50000)
        return "mid-tier";
    if (followers >= 10000)
        return "micro";
    if (followers >= 1000)
        return "nano";
    return NULL;
}
