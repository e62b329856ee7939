/*
 * test_model.c: the attribution models (attribution/model.c) and journey selection
 * (attribution/journey.c): every worked case of known-answers.md with exact integers,
 * then properties over 10,000 random journeys per model.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attribution/journey.h"
#include "attribution/model.h"

#define DAY_MS (INT64_C(86400000))
#define CONV_TS (INT64_C(1767225600000)) /* 2026-01-01T00:00:00Z */

static int64_t share[400], credit[400];

/* Runs model m over clicks aged ages_days[i] days before the conversion. */
static void run_days(model_kind m, const int64_t *ages_days, size_t n, int64_t amount)
{
    int64_t ts[16];
    for (size_t i = 0; i < n; i++)
        ts[i] = CONV_TS - ages_days[i] * DAY_MS;
    assert_int_equal(model_credit(m, ts, n, CONV_TS, amount, share, credit), (int)n);
}

static void expect(const int64_t *got, const int64_t *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i])
            fail_msg("index %zu: got %lld, want %lld", i, (long long)got[i], (long long)want[i]);
}

static void test_names(void **state)
{
    (void)state;
    static const char *const names[] = {"last_click", "first_click", "linear", "time_decay",
                                        "position_based"};
    for (int m = 0; m < MODEL_COUNT; m++) {
        assert_string_equal(model_name((model_kind)m), names[m]);
        model_kind k = MODEL_COUNT;
        assert_int_equal(model_parse(names[m], &k), 0);
        assert_int_equal(k, m);
    }
    assert_null(model_name(MODEL_COUNT));
    model_kind k = MODEL_COUNT;
    assert_int_equal(model_parse("last-click", &k), 0);
    assert_int_equal(k, MODEL_LAST_CLICK);
    assert_int_equal(model_parse("first-click", &k), 0);
    assert_int_equal(k, MODEL_FIRST_CLICK);
    assert_int_equal(model_parse("time-decay", &k), 0);
    assert_int_equal(k, MODEL_TIME_DECAY);
    assert_int_equal(model_parse("position-based", &k), 0);
    assert_int_equal(k, MODEL_POSITION_BASED);
    assert_int_equal(model_parse("Linear", &k), 0);
    assert_int_equal(k, MODEL_LINEAR);
    k = MODEL_COUNT;
    assert_int_equal(model_parse("last", &k), -1);
    assert_int_equal(model_parse("last_click_", &k), -1);
    assert_int_equal(model_parse("lastclick", &k), -1);
    assert_int_equal(model_parse("", &k), -1);
    assert_int_equal(model_parse(NULL, &k), -1);
    assert_int_equal(model_parse("linear", NULL), -1);
    assert_int_equal(k, MODEL_COUNT);
}

static void test_position_based_known(void **state)
{
    (void)state;
    static const int64_t ages[] = {20, 10, 5, 1};
    run_days(MODEL_POSITION_BASED, ages, 4, 10000);
    expect(credit, (const int64_t[]){4000, 1000, 1000, 4000}, 4);
    expect(share, (const int64_t[]){400000000, 100000000, 100000000, 400000000}, 4);

    run_days(MODEL_POSITION_BASED, ages, 3, 9000);
    expect(credit, (const int64_t[]){3600, 1800, 3600}, 3);
    expect(share, (const int64_t[]){400000000, 200000000, 400000000}, 3);

    run_days(MODEL_POSITION_BASED, ages, 2, 5000);
    expect(credit, (const int64_t[]){2500, 2500}, 2);
    expect(share, (const int64_t[]){500000000, 500000000}, 2);

    run_days(MODEL_POSITION_BASED, ages, 1, 1000);
    expect(credit, (const int64_t[]){1000}, 1);
    expect(share, (const int64_t[]){MODEL_SHARE_ONE}, 1);
}

static void test_time_decay_known(void **state)
{
    (void)state;
    /* A click 8 days before gets half as much credit as one 1 day before: 1/3, 2/3. The
     * leftover part goes to the larger remainder (0.67 > 0.33), i.e. the later click. */
    static const int64_t two[] = {8, 1};
    run_days(MODEL_TIME_DECAY, two, 2, 10000);
    expect(share, (const int64_t[]){333333333, 666666667}, 2);
    expect(credit, (const int64_t[]){3333, 6667}, 2);

    /* 28, 14, 7, 0 days: weights 1/16, 1/4, 1/2, 1 over 1.8125 = 1/29, 4/29, 8/29, 16/29 */
    static const int64_t four[] = {28, 14, 7, 0};
    run_days(MODEL_TIME_DECAY, four, 4, 10000);
    expect(share, (const int64_t[]){34482759, 137931034, 275862069, 551724138}, 4);
    expect(credit, (const int64_t[]){345, 1379, 2759, 5517}, 4);
    /* to 4 decimals as published: 0.0345, 0.1379, 0.2759, 0.5517 */
    static const int64_t four_dp[] = {345, 1379, 2759, 5517};
    for (int i = 0; i < 4; i++)
        assert_int_equal((share[i] + 50000) / 100000, four_dp[i]);

    /* a click after the conversion counts as dt = 0: same weight as one at conversion */
    int64_t ts[2] = {CONV_TS, CONV_TS + 5 * DAY_MS};
    assert_int_equal(model_credit(MODEL_TIME_DECAY, ts, 2, CONV_TS, 101, share, credit), 2);
    expect(share, (const int64_t[]){500000000, 500000000}, 2);
    expect(credit, (const int64_t[]){51, 50}, 2); /* tie goes to the earlier click */
}

static void test_linear_known(void **state)
{
    (void)state;
    static const int64_t ages[] = {9, 7, 5, 3, 1};
    run_days(MODEL_LINEAR, ages, 5, 100);
    expect(share, (const int64_t[]){200000000, 200000000, 200000000, 200000000, 200000000}, 5);
    expect(credit, (const int64_t[]){20, 20, 20, 20, 20}, 5);

    run_days(MODEL_LINEAR, ages, 3, 10000);
    expect(credit, (const int64_t[]){3334, 3333, 3333}, 3);
    expect(share, (const int64_t[]){333333334, 333333333, 333333333}, 3);

    run_days(MODEL_LINEAR, ages, 3, 2);
    expect(credit, (const int64_t[]){1, 1, 0}, 3);
}

static void test_first_last_known(void **state)
{
    (void)state;
    static const int64_t ages[] = {9, 5, 1};
    run_days(MODEL_FIRST_CLICK, ages, 3, 10000);
    expect(credit, (const int64_t[]){10000, 0, 0}, 3);
    expect(share, (const int64_t[]){MODEL_SHARE_ONE, 0, 0}, 3);
    run_days(MODEL_LAST_CLICK, ages, 3, 10000);
    expect(credit, (const int64_t[]){0, 0, 10000}, 3);
    expect(share, (const int64_t[]){0, 0, MODEL_SHARE_ONE}, 3);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    int64_t ts[2] = {CONV_TS - DAY_MS, CONV_TS};
    share[0] = credit[0] = 42;
    assert_int_equal(model_credit(MODEL_LINEAR, ts, 0, CONV_TS, 100, share, credit), 0);
    assert_int_equal(model_credit(MODEL_LINEAR, NULL, 0, CONV_TS, 100, NULL, NULL), 0);
    assert_int_equal(share[0], 42); /* n == 0 writes nothing */
    assert_int_equal(credit[0], 42);
    assert_int_equal(model_credit(MODEL_LINEAR, ts, 2, CONV_TS, -1, share, credit), -1);
    assert_int_equal(model_credit(MODEL_COUNT, ts, 2, CONV_TS, 100, share, credit), -1);
    assert_int_equal(model_credit((model_kind)-1, ts, 2, CONV_TS, 100, share, credit), -1);
    assert_int_equal(model_credit(MODEL_LINEAR, NULL, 2, CONV_TS, 100, share, credit), -1);
    assert_int_equal(model_credit(MODEL_LINEAR, ts, 2, CONV_TS, 100, NULL, credit), -1);
    assert_int_equal(model_credit(MODEL_LINEAR, ts, 2, CONV_TS, 100, share, NULL), -1);
    assert_int_equal(share[0], 42);

    /* amount 0 and INT64_MAX are both fine */
    assert_int_equal(model_credit(MODEL_LINEAR, ts, 2, CONV_TS, 0, share, credit), 2);
    expect(credit, (const int64_t[]){0, 0}, 2);
    assert_int_equal(model_credit(MODEL_LINEAR, ts, 2, CONV_TS, INT64_MAX, share, credit), 2);
    expect(credit, (const int64_t[]){INT64_MAX / 2 + 1, INT64_MAX / 2}, 2);
    /* extreme timestamps do not overflow */
    int64_t ext[2] = {INT64_MIN, INT64_MAX};
    assert_int_equal(model_credit(MODEL_TIME_DECAY, ext, 2, INT64_MAX, 100, share, credit), 2);
    expect(credit, (const int64_t[]){0, 100}, 2);
    assert_int_equal(model_credit(MODEL_TIME_DECAY, ext, 2, INT64_MIN, 100, share, credit), 2);
    expect(credit, (const int64_t[]){50, 50}, 2);
}

/* More than MODEL_MAX_TOUCHES: only the last MODEL_MAX_TOUCHES count. */
static void test_over_cap(void **state)
{
    (void)state;
    enum { N = 300, SKIP = N - MODEL_MAX_TOUCHES };
    int64_t ts[N];
    for (int i = 0; i < N; i++)
        ts[i] = CONV_TS - (N - i) * 60000;
    assert_int_equal(model_credit(MODEL_FIRST_CLICK, ts, N, CONV_TS, 500, share, credit), N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(credit[i], i == SKIP ? 500 : 0);
        assert_int_equal(share[i], i == SKIP ? MODEL_SHARE_ONE : 0);
    }
    assert_int_equal(model_credit(MODEL_LINEAR, ts, N, CONV_TS, 2560, share, credit), N);
    for (int i = 0; i < N; i++)
        assert_int_equal(credit[i], i < SKIP ? 0 : 10);
    /* position-based over 256: 2*254 / 5*254 to the ends = 40% */
    assert_int_equal(model_credit(MODEL_POSITION_BASED, ts, N, CONV_TS, 127000, share, credit), N);
    assert_int_equal(credit[SKIP - 1], 0);
    assert_int_equal(credit[SKIP], 50800);
    assert_int_equal(credit[SKIP + 1], 100);
    assert_int_equal(credit[N - 1], 50800);
}

/* Deterministic xorshift64* so the property tests are reproducible. */
static uint64_t rng_state = 0x243F6A8885A308D3u;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Du;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Reference weight in double, independent of model.c's fixed point. */
static double ref_weight(model_kind m, const int64_t *ts, size_t n, size_t i, int64_t conv)
{
    switch (m) {
    case MODEL_LAST_CLICK:
        return i == n - 1;
    case MODEL_FIRST_CLICK:
        return i == 0;
    case MODEL_LINEAR:
        return 1;
    case MODEL_POSITION_BASED:
        if (n < 3)
            return 1;
        return (i == 0 || i == n - 1) ? 2.0 * (double)(n - 2) : 1;
    case MODEL_TIME_DECAY: {
        int64_t dt = ts[i] >= conv ? 0 : conv - ts[i];
        return exp2(-(double)dt / (7.0 * (double)DAY_MS));
    }
    default:
        return 0;
    }
}

static void test_properties(void **state)
{
    (void)state;
    static int64_t ts[400];
    static double w[400];
    for (int m = 0; m < MODEL_COUNT; m++) {
        for (int c = 0; c < 10000; c++) {
            uint64_t r = rng();
            size_t n;
            if (r % 100 < 70)
                n = 1 + (size_t)(rng() % 10);
            else if (r % 100 < 97)
                n = 11 + (size_t)(rng() % 246);
            else
                n = 1 + (size_t)(rng() % 300);
            int64_t span = (int64_t)(rng() % (uint64_t)(90 * DAY_MS)) + 1;
            for (size_t i = 0; i < n; i++) {
                uint64_t q = rng();
                if (q % 10 == 0 && i > 0)
                    ts[i] = ts[i - 1]; /* same millisecond */
                else
                    ts[i] = CONV_TS - (int64_t)(q % (uint64_t)span) + (q % 50 == 1 ? DAY_MS : 0);
            }
            qsort(ts, n, sizeof ts[0], cmp_i64);
            int64_t amount;
            uint64_t a = rng();
            if (a % 10 == 0)
                amount = (int64_t)(rng() >> 1); /* anything up to INT64_MAX */
            else if (a % 10 == 1)
                amount = (int64_t)(rng() % 5);
            else
                amount = (int64_t)(rng() % INT64_C(1000000000000));

            assert_int_equal(model_credit((model_kind)m, ts, n, CONV_TS, amount, share, credit),
                             (int)n);
            size_t skip = n > MODEL_MAX_TOUCHES ? n - MODEL_MAX_TOUCHES : 0;
            size_t k = n - skip;
            int64_t sum_s = 0, sum_c = 0;
            double sum_w = 0;
            for (size_t i = 0; i < n; i++) {
                assert_true(share[i] >= 0);
                assert_true(credit[i] >= 0);
                sum_s += share[i];
                assert_true(credit[i] <= amount - sum_c);
                sum_c += credit[i];
                if (i < skip) {
                    assert_true(share[i] == 0 && credit[i] == 0);
                    continue;
                }
                w[i] = ref_weight((model_kind)m, ts + skip, k, i - skip, CONV_TS);
                sum_w += w[i];
            }
            assert_true(sum_s == MODEL_SHARE_ONE);
            assert_true(sum_c == amount);

            for (size_t i = skip; i < n; i++) {
                /* largest remainder: within one unit of the exact share */
                double exact = (double)MODEL_SHARE_ONE * w[i] / sum_w;
                assert_true(fabs((double)share[i] - exact) < 1.0 + 1e-6 * exact);
                if (amount < INT64_C(1000000000000)) {
                    double ec = (double)amount * w[i] / sum_w;
                    assert_true(fabs((double)credit[i] - ec) < 1.0 + 1e-6);
                }
                /* monotone with weights: strictly larger weight never gets less */
                for (size_t j = skip; j < n; j++) {
                    if (w[i] > w[j] * (1 + 1e-9)) {
                        assert_true(credit[i] >= credit[j]);
                        assert_true(share[i] >= share[j]);
                    }
                    if (w[i] == w[j] && i < j) { /* equal weights: earlier first, <= 1 apart */
                        assert_true(credit[i] - credit[j] >= 0 && credit[i] - credit[j] <= 1);
                        assert_true(share[i] - share[j] >= 0 && share[i] - share[j] <= 1);
                    }
                }
            }
        }
    }
}

/* ---- journey_select ---- */

static journey_touch touch(int64_t ts, uint8_t id0, int bot, uint32_t ref)
{
    journey_touch t;
    memset(&t, 0, sizeof t);
    t.ts = ts;
    t.id[0] = id0;
    t.id[15] = (uint8_t)ref;
    t.bot = bot;
    t.ref = ref;
    return t;
}

static void test_journey_lookback_known(void **state)
{
    (void)state;
    for (int m = 0; m < MODEL_COUNT; m++) {
        journey_touch t[2] = {touch(CONV_TS - 31 * DAY_MS, 1, 0, 0),
                              touch(CONV_TS - 2 * DAY_MS, 2, 0, 1)};
        size_t n = journey_select(t, 2, CONV_TS, 30 * DAY_MS);
        assert_int_equal(n, 1);
        assert_int_equal(t[0].ref, 1);
        int64_t ts[1] = {t[0].ts};
        assert_int_equal(model_credit((model_kind)m, ts, n, CONV_TS, 10000, share, credit), 1);
        assert_int_equal(credit[0], 10000);
        assert_int_equal(share[0], MODEL_SHARE_ONE);
    }
}

static void test_journey_bots_get_nothing(void **state)
{
    (void)state;
    journey_touch t[4] = {
        touch(CONV_TS - 3 * DAY_MS, 1, 0, 0),
        touch(CONV_TS - 1 * DAY_MS, 2, 1, 1), /* bot, latest */
        touch(CONV_TS - 5 * DAY_MS, 3, 1, 2), /* bot, earliest */
        touch(CONV_TS - 2 * DAY_MS, 4, 0, 3),
    };
    size_t n = journey_select(t, 4, CONV_TS, 30 * DAY_MS);
    assert_int_equal(n, 2);
    assert_int_equal(t[0].ref, 0);
    assert_int_equal(t[1].ref, 3);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(t[i].bot, 0);
}

static void test_journey_window_edges(void **state)
{
    (void)state;
    const int64_t lb = 30 * DAY_MS;
    journey_touch t[5] = {
        touch(CONV_TS + 1, 1, 0, 0),      /* after the conversion: out */
        touch(CONV_TS, 1, 0, 1),          /* at the conversion: in */
        touch(CONV_TS - lb, 1, 0, 2),     /* exactly at the lookback: in */
        touch(CONV_TS - lb - 1, 1, 0, 3), /* 1 ms too old: out */
        touch(CONV_TS - DAY_MS, 1, 0, 4),
    };
    assert_int_equal(journey_select(t, 5, CONV_TS, lb), 3);
    assert_int_equal(t[0].ref, 2);
    assert_int_equal(t[1].ref, 4);
    assert_int_equal(t[2].ref, 1);

    /* "all time": no overflow in conv_ts - lookback */
    journey_touch u[2] = {touch(INT64_MIN, 1, 0, 0), touch(-5, 1, 0, 1)};
    assert_int_equal(journey_select(u, 2, -5, INT64_MAX), 2);
    assert_int_equal(u[0].ref, 0);
    journey_touch v[1] = {touch(CONV_TS, 1, 0, 0)};
    assert_int_equal(journey_select(v, 1, CONV_TS, -1), 0);
    assert_int_equal(journey_select(NULL, 3, CONV_TS, lb), 0);
    assert_int_equal(journey_select(v, 0, CONV_TS, lb), 0);
}

static void test_journey_order_ties_by_id(void **state)
{
    (void)state;
    const int64_t t0 = CONV_TS - DAY_MS;
    journey_touch t[4] = {
        touch(t0, 0x20, 0, 0), touch(t0, 0x10, 0, 1), touch(t0 - 1, 0xff, 0, 2),
        touch(t0, 0x10, 0, 3), /* same first byte as ref 1; differs at byte 15 */
    };
    assert_int_equal(journey_select(t, 4, CONV_TS, 30 * DAY_MS), 4);
    assert_int_equal(t[0].ref, 2);
    assert_int_equal(t[1].ref, 1);
    assert_int_equal(t[2].ref, 3);
    assert_int_equal(t[3].ref, 0);
}

static void test_journey_cap_keeps_latest(void **state)
{
    (void)state;
    enum { N = 400 };
    static journey_touch t[N];
    /* reverse time order plus every 10th a bot: 360 humans, the latest 256 must remain */
    for (uint32_t i = 0; i < N; i++)
        t[i] = touch(CONV_TS - (int64_t)(i + 1) * 1000, (uint8_t)i, i % 10 == 0, i);
    size_t n = journey_select(t, N, CONV_TS, 30 * DAY_MS);
    assert_int_equal(n, MODEL_MAX_TOUCHES);
    for (size_t i = 1; i < n; i++)
        assert_true(t[i - 1].ts < t[i].ts);
    assert_int_equal(t[n - 1].ref, 1); /* youngest human */
    int humans_younger = 0;            /* the oldest kept has 255 younger humans */
    for (uint32_t i = 0; i < t[0].ref; i++)
        humans_younger += i % 10 != 0;
    assert_int_equal(humans_younger, MODEL_MAX_TOUCHES - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_position_based_known),
        cmocka_unit_test(test_time_decay_known),
        cmocka_unit_test(test_linear_known),
        cmocka_unit_test(test_first_last_known),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_over_cap),
        cmocka_unit_test(test_properties),
        cmocka_unit_test(test_journey_lookback_known),
        cmocka_unit_test(test_journey_bots_get_nothing),
        cmocka_unit_test(test_journey_window_edges),
        cmocka_unit_test(test_journey_order_ties_by_id),
        cmocka_unit_test(test_journey_cap_keeps_latest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
