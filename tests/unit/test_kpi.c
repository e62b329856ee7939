/*
 * test_kpi.c: report formulas and influencer tiers (attribution/kpi.c), one test per row
 * of the KPI table in known-answers.md, plus every n/a case and every tier boundary.
 * Money inputs are minor units: 200.00 USD is 20000.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "attribution/kpi.h"

/* Exact where the inputs make it exact; otherwise to 1e-9 relative. */
static void is_value(kpi_value v, double want)
{
    assert_int_equal(v.ok, 1);
    if (!(fabs(v.value - want) <= 1e-9 * fabs(want)))
        fail_msg("got %.17g, want %.17g", v.value, want);
}

static void is_na(kpi_value v)
{
    assert_int_equal(v.ok, 0);
}

static void test_ctr(void **state)
{
    (void)state;
    kpi_value v = kpi_ctr(5, 1000);
    assert_int_equal(v.ok, 1);
    assert_true(v.value == 0.5); /* exactly 0.5% */
    is_na(kpi_ctr(5, 0));
    is_na(kpi_ctr(0, 0));
    is_value(kpi_ctr(0, 1000), 0);
}

static void test_conversion_rate(void **state)
{
    (void)state;
    kpi_value v = kpi_conversion_rate(50, 1000);
    assert_int_equal(v.ok, 1);
    assert_true(v.value == 5.0);
    /* fractional (attributed) conversions */
    is_value(kpi_conversion_rate(2.5, 100), 2.5);
    is_na(kpi_conversion_rate(50, 0));
}

static void test_cost_per_conversion(void **state)
{
    (void)state;
    kpi_value v = kpi_cost_per_conversion(20000, 6); /* 200.00 / 6 = 33.33 */
    is_value(v, 20000.0 / 6.0);
    assert_int_equal((int64_t)llround(v.value), 3333);
    is_na(kpi_cost_per_conversion(20000, 0));
}

static void test_cpe(void **state)
{
    (void)state;
    kpi_value v = kpi_cpe(50000, 1000); /* 500.00 USD / 1,000 = 0.50 USD */
    assert_int_equal(v.ok, 1);
    assert_true(v.value == 50.0);
    is_na(kpi_cpe(50000, 0));
}

static void test_roi(void **state)
{
    (void)state;
    kpi_value v = kpi_roi(300000, 100000); /* cost 1,000.00, revenue 3,000.00 */
    assert_int_equal(v.ok, 1);
    assert_true(v.value == 200.0);
    v = kpi_roi(250000000, 50000000); /* Rp2.500.000 vs Rp500.000 in IDR minor units */
    assert_int_equal(v.ok, 1);
    assert_true(v.value == 400.0);
    is_value(kpi_roi(50000, 100000), -50.0); /* a loss */
    is_value(kpi_roi(0, 100000), -100.0);
    is_na(kpi_roi(300000, 0)); /* zero cost: n/a, not infinity */
    is_na(kpi_roi(0, 0));
    is_value(kpi_roi(INT64_MAX, 1), ((double)INT64_MAX - 1.0) * 100.0); /* no int overflow */
}

static void test_roas(void **state)
{
    (void)state;
    kpi_value v = kpi_roas(120000, 20000); /* revenue 1,200 over cost 200 */
    assert_int_equal(v.ok, 1);
    assert_true(v.value == 6.0);
    v = kpi_roas(300000, 100000);
    assert_int_equal(v.ok, 1);
    assert_true(v.value == 3.0);
    is_na(kpi_roas(120000, 0));
}

static void test_epc(void **state)
{
    (void)state;
    kpi_value v = kpi_epc(100000, 10000); /* 1,000.00 over 10,000 clicks = 0.10 */
    assert_int_equal(v.ok, 1);
    assert_true(v.value == 10.0);
    v = kpi_epc(125000, 15000); /* 1,250.00 over 15,000 clicks = 0.0833 */
    is_value(v, 125000.0 / 15000.0);
    assert_int_equal((int64_t)llround(v.value * 100), 833); /* 0.0833 major units */
    is_na(kpi_epc(125000, 0));
}

static void test_aov(void **state)
{
    (void)state;
    kpi_value v = kpi_aov(120000, 6); /* 1,200.00 over 6 orders = 200.00 */
    assert_int_equal(v.ok, 1);
    assert_true(v.value == 20000.0);
    v = kpi_aov(1200, 6); /* in a 0-decimal currency: 200 */
    assert_true(v.value == 200.0);
    is_na(kpi_aov(120000, 0));
}

static void test_engagement_rate(void **state)
{
    (void)state;
    int by_imp = -1;
    kpi_value v = kpi_engagement_rate(50, 1000, 50, 2000, &by_imp);
    assert_int_equal(v.ok, 1);
    assert_true(v.value == 5.0);
    assert_int_equal(by_imp, 0);

    by_imp = -1;
    v = kpi_engagement_rate(0, 0, 50, 2000, &by_imp);
    assert_int_equal(v.ok, 1);
    assert_true(v.value == 2.5);
    assert_int_equal(by_imp, 1);

    v = kpi_engagement_rate(0, 0, 50, 2000, NULL);
    assert_true(v.ok == 1 && v.value == 2.5);

    is_na(kpi_engagement_rate(50, 0, 50, 0, &by_imp));
    is_na(kpi_engagement_rate(0, 0, 0, 0, NULL));
}

/* known-answers.md, "Engagement rate over several rows": A impressions 250,000, no reach,
 * engagements 18,000; B impressions 20,000, reach 15,000, engagements 1,300. By reach (B
 * only): 8.67%; by impressions (both): 7.15%; never 19,300 / 15,000 = 128.67%. */
static void test_engagement_rate_over_rows(void **state)
{
    (void)state;
    int by_imp = -1;
    kpi_value v = kpi_engagement_rate(1300, 15000, 18000 + 1300, 250000 + 20000, &by_imp);
    assert_int_equal(v.ok, 1);
    assert_int_equal(by_imp, 0);
    assert_true(fabs(v.value - 8.666666666666666) < 1e-12);
    v = kpi_engagement_rate(0, 0, 18000 + 1300, 250000 + 20000, &by_imp);
    assert_int_equal(by_imp, 1);
    assert_true(fabs(v.value - 7.148148148148148) < 1e-12);
}

static void test_na_is_not_a_number(void **state)
{
    (void)state;
    /* negative or NaN denominators are n/a too; n/a carries value 0, never inf */
    kpi_value v = kpi_ctr(5, -1);
    is_na(v);
    assert_true(v.value == 0.0);
    is_na(kpi_ctr(5, NAN));
    is_na(kpi_conversion_rate(5, -10));
    is_na(kpi_roi(100, -100));
    is_na(kpi_roas(100, -100));
    is_na(kpi_epc(100, NAN));
}

static void test_tiers(void **state)
{
    (void)state;
    assert_null(kpi_tier(0));
    assert_null(kpi_tier(999));
    assert_string_equal(kpi_tier(1000), "nano");
    assert_string_equal(kpi_tier(9999), "nano");
    assert_string_equal(kpi_tier(10000), "micro");
    assert_string_equal(kpi_tier(49999), "micro");
    assert_string_equal(kpi_tier(50000), "mid-tier");
    assert_string_equal(kpi_tier(499999), "mid-tier");
    assert_string_equal(kpi_tier(500000), "macro");
    assert_string_equal(kpi_tier(999999), "macro");
    assert_string_equal(kpi_tier(1000000), "mega");
    assert_string_equal(kpi_tier(UINT64_MAX), "mega");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctr),
        cmocka_unit_test(test_conversion_rate),
        cmocka_unit_test(test_cost_per_conversion),
        cmocka_unit_test(test_cpe),
        cmocka_unit_test(test_roi),
        cmocka_unit_test(test_roas),
        cmocka_unit_test(test_epc),
        cmocka_unit_test(test_aov),
        cmocka_unit_test(test_engagement_rate),
        cmocka_unit_test(test_engagement_rate_over_rows),
        cmocka_unit_test(test_na_is_not_a_number),
        cmocka_unit_test(test_tiers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
