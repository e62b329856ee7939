/*
 * test_money.c: exact parsing and formatting of amounts (attribution/money.c), including
 * every rejected form, the int64 edges and the ISO 4217 table itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "attribution/money.h"

static void test_exponent_known(void **state)
{
    (void)state;
    assert_int_equal(money_exponent("IDR"), 2);
    assert_int_equal(money_exponent("JPY"), 0);
    assert_int_equal(money_exponent("KWD"), 3);
    assert_int_equal(money_exponent("USD"), 2);
    assert_int_equal(money_exponent("EUR"), 2);
    assert_int_equal(money_exponent("BHD"), 3);
    assert_int_equal(money_exponent("CLP"), 0);
    assert_int_equal(money_exponent("KRW"), 0);
    assert_int_equal(money_exponent("VND"), 0);
    assert_int_equal(money_exponent("CLF"), 4);
    assert_int_equal(money_exponent("UYW"), 4);
    assert_int_equal(money_exponent("AED"), 2); /* first entry */
    assert_int_equal(money_exponent("ZWG"), 2); /* last entry */
    assert_int_equal(money_exponent("XOF"), 0);
}

static void test_exponent_unknown(void **state)
{
    (void)state;
    assert_int_equal(money_exponent(NULL), -1);
    assert_int_equal(money_exponent(""), -1);
    assert_int_equal(money_exponent("US"), -1);
    assert_int_equal(money_exponent("USDX"), -1);
    assert_int_equal(money_exponent("usd"), -1);
    assert_int_equal(money_exponent("Usd"), -1);
    assert_int_equal(money_exponent("ABC"), -1);
    assert_int_equal(money_exponent("XDR"), -1); /* minor unit N.A. */
    assert_int_equal(money_exponent("XAU"), -1);
    assert_int_equal(money_exponent("AAA"), -1);
    assert_int_equal(money_exponent("ZZZ"), -1);
    assert_int_equal(money_exponent("US1"), -1);
}

/* Every code the table holds is found by the binary search only if the table is sorted:
 * scan all 26^3 codes and count. */
static void test_exponent_table_sorted_and_complete(void **state)
{
    (void)state;
    int found = 0;
    char code[4] = {0};
    for (char a = 'A'; a <= 'Z'; a++)
        for (char b = 'A'; b <= 'Z'; b++)
            for (char c = 'A'; c <= 'Z'; c++) {
                code[0] = a;
                code[1] = b;
                code[2] = c;
                int e = money_exponent(code);
                assert_true(e >= -1 && e <= 4);
                if (e >= 0)
                    found++;
            }
    assert_int_equal(found, 165);
}

static int64_t parse_ok(const char *text, const char *cur, int neg)
{
    int64_t v = 12345;
    char err[128] = "";
    int rc = money_parse(text, cur, neg, &v, err, sizeof err);
    if (rc != 0)
        fail_msg("money_parse(\"%s\", %s) failed: %s", text, cur, err);
    return v;
}

static void parse_err(const char *text, const char *cur, int neg, const char *reason)
{
    int64_t v = 777;
    char err[128] = "";
    assert_int_equal(money_parse(text, cur, neg, &v, err, sizeof err), -1);
    assert_int_equal(v, 777); /* untouched on failure */
    assert_string_equal(err, reason);
}

static void test_parse_valid(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("149000.00", "IDR", 0), 14900000);
    assert_int_equal(parse_ok("149000", "IDR", 0), 14900000);
    assert_int_equal(parse_ok("149000.5", "IDR", 0), 14900050);
    assert_int_equal(parse_ok("0.5", "USD", 0), 50);
    assert_int_equal(parse_ok("0.05", "USD", 0), 5);
    assert_int_equal(parse_ok("007.50", "USD", 0), 750);
    assert_int_equal(parse_ok("0", "USD", 0), 0);
    assert_int_equal(parse_ok("0.00", "USD", 0), 0);
    assert_int_equal(parse_ok("5", "JPY", 0), 5);
    assert_int_equal(parse_ok("1.234", "KWD", 0), 1234);
    assert_int_equal(parse_ok("1.2", "KWD", 0), 1200);
    assert_int_equal(parse_ok("0.0001", "CLF", 0), 1);
    assert_int_equal(parse_ok("000000000000000000000000000001.00", "USD", 0), 100);
    assert_int_equal(parse_ok("-1.50", "USD", 1), -150);
    assert_int_equal(parse_ok("-0", "USD", 1), 0);
    assert_int_equal(parse_ok("-5", "JPY", 1), -5);
}

static void test_parse_limits(void **state)
{
    (void)state;
    /* The documented maximum: 10^15 minor units, either sign, in every currency. */
    assert_true(MONEY_MAX_MINOR == INT64_C(1000000000000000));
    assert_true(parse_ok("10000000000000.00", "USD", 0) == MONEY_MAX_MINOR);
    assert_true(parse_ok("10000000000000", "IDR", 0) == MONEY_MAX_MINOR);
    assert_true(parse_ok("-10000000000000.00", "USD", 1) == -MONEY_MAX_MINOR);
    assert_true(parse_ok("1000000000000000", "JPY", 0) == MONEY_MAX_MINOR);
    assert_true(parse_ok("100000000000.0000", "CLF", 0) == MONEY_MAX_MINOR);
    assert_true(parse_ok("9999999999999.99", "IDR", 0) == MONEY_MAX_MINOR - 1);

    parse_err("10000000000000.01", "USD", 0, "amount is too large (at most 10000000000000.00 USD)");
    parse_err("-10000000000000.01", "USD", 1,
              "amount is too large (at most 10000000000000.00 USD)");
    parse_err("1000000000000001", "JPY", 0, "amount is too large (at most 1000000000000000 JPY)");
    parse_err("100000000000.0001", "CLF", 0, "amount is too large (at most 100000000000.0000 CLF)");
    /* The figures of the issue: each wrapped a sum before the cap. */
    parse_err("40000000000000000.00", "IDR", 0,
              "amount is too large (at most 10000000000000.00 IDR)");
    parse_err("9223372036854775807", "JPY", 0,
              "amount is too large (at most 1000000000000000 JPY)");
    parse_err("92233720368547758.07", "USD", 0,
              "amount is too large (at most 10000000000000.00 USD)");
    /* Far beyond int64: still a clean refusal, no UB. */
    parse_err("92233720368547758.08", "USD", 1,
              "amount is too large (at most 10000000000000.00 USD)");
    parse_err("-9223372036854775809", "JPY", 1,
              "amount is too large (at most 1000000000000000 JPY)");
    parse_err("92233720368547759", "USD", 0, "amount is too large (at most 10000000000000.00 USD)");
    parse_err("99999999999999999999999999999999999999", "IDR", 0,
              "amount is too large (at most 10000000000000.00 IDR)");
    parse_err("18446744073709551616", "JPY", 0,
              "amount is too large (at most 1000000000000000 JPY)");
}

static void test_checked_arithmetic(void **state)
{
    (void)state;
    int64_t v = 7;
    assert_int_equal(money_add(1, 2, &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(money_add(INT64_MAX - 1, 1, &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(money_add(-5, INT64_MIN + 5, &v), 0);
    assert_true(v == INT64_MIN);
    v = 7;
    assert_int_equal(money_add(INT64_MAX, 1, &v), -1);
    assert_int_equal(v, 7); /* untouched */
    assert_int_equal(money_add(INT64_MIN, -1, &v), -1);
    /* Four orders of the 40,000,000,000,000,000.00 IDR: the third add fails. */
    int64_t sum = 0, one = INT64_C(4000000000000000000);
    assert_int_equal(money_add(sum, one, &sum), 0);
    assert_int_equal(money_add(sum, one, &sum), 0);
    assert_int_equal(money_add(sum, one, &sum), -1);
    assert_true(sum == 2 * one);

    assert_int_equal(money_mul(1500, 1000, &v), 0);
    assert_int_equal(v, 1500000);
    assert_int_equal(money_mul(-3, 4, &v), 0);
    assert_int_equal(v, -12);
    v = 9;
    assert_int_equal(money_mul(MONEY_MAX_MINOR, 9224, &v), -1); /* 9.224e18 > INT64_MAX */
    assert_int_equal(v, 9);
    assert_int_equal(money_mul(MONEY_MAX_MINOR, 9223, &v), 0);
    assert_true(v == INT64_C(9223000000000000000));
    assert_int_equal(money_mul(INT64_MIN, -1, &v), -1);
}

static void test_parse_too_many_decimals(void **state)
{
    (void)state;
    parse_err("1.234", "IDR", 0, "amount has more decimals than IDR allows (2)");
    parse_err("1.2", "JPY", 0, "amount has more decimals than JPY allows (0)");
    parse_err("1.0", "JPY", 0, "amount has more decimals than JPY allows (0)");
    parse_err("1.2345", "KWD", 0, "amount has more decimals than KWD allows (3)");
    parse_err("0.001", "USD", 0, "amount has more decimals than USD allows (2)");
    parse_err("0.000", "USD", 0, "amount has more decimals than USD allows (2)");
}

static void test_parse_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",     " 1",           "1 ",    " ",   "+1",  "1,000", "1.000,00", "1e3",      "1E3",
        "1.",   ".5",           ".",     "-",   "--1", "1.2.3", "0x10",     "abc",      "1-",
        "1a",   "1_000",        "1'000", "\t1", "1\n", "-.5",   "-1.",      "\xd9\xa1", "1. 5",
        "1 .5", "\xe2\x88\x9e", "NaN",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 777;
        char err[128] = "";
        int rc = money_parse(bad[i], "USD", 1, &v, err, sizeof err);
        if (rc != -1)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(v, 777);
        assert_string_equal(err, "amount is not a decimal number");
    }
    parse_err("-1", "USD", 0, "amount must not be negative");
    parse_err("-0", "USD", 0, "amount must not be negative");
}

static void test_parse_bad_arguments(void **state)
{
    (void)state;
    int64_t v = 777;
    char err[128] = "";
    parse_err("1", "XYZ", 0, "unknown currency");
    parse_err("1", "usd", 0, "unknown currency");
    assert_int_equal(money_parse("1", NULL, 0, &v, err, sizeof err), -1);
    assert_string_equal(err, "unknown currency");
    assert_int_equal(money_parse(NULL, "USD", 0, &v, err, sizeof err), -1);
    assert_int_equal(money_parse("1", "USD", 0, NULL, err, sizeof err), -1);
    /* err is optional, and a short err is truncated, still NUL-terminated */
    assert_int_equal(money_parse("x", "USD", 0, &v, NULL, 0), -1);
    char small[7];
    memset(small, 'z', sizeof small);
    assert_int_equal(money_parse("x", "USD", 0, &v, small, sizeof small), -1);
    assert_string_equal(small, "amount");
    assert_int_equal(v, 777);
}

static void fmt_is(int64_t minor, const char *cur, const char *want)
{
    char out[MONEY_TEXT_MAX];
    int n = money_format(minor, cur, out, sizeof out);
    assert_string_equal(out, want);
    assert_int_equal(n, (int)strlen(want));
}

static void grp_is(int64_t minor, const char *cur, const char *want)
{
    char out[MONEY_TEXT_MAX];
    int n = money_format_grouped(minor, cur, out, sizeof out);
    assert_string_equal(out, want);
    assert_int_equal(n, (int)strlen(want));
}

static void test_format(void **state)
{
    (void)state;
    fmt_is(14900000, "IDR", "149000.00");
    fmt_is(5, "JPY", "5");
    fmt_is(-150, "USD", "-1.50");
    fmt_is(0, "USD", "0.00");
    fmt_is(0, "JPY", "0");
    fmt_is(5, "USD", "0.05");
    fmt_is(-5, "USD", "-0.05");
    fmt_is(50, "USD", "0.50");
    fmt_is(1234, "KWD", "1.234");
    fmt_is(1, "CLF", "0.0001");
    fmt_is(INT64_MIN, "USD", "-92233720368547758.08");
    fmt_is(INT64_MAX, "USD", "92233720368547758.07");
    fmt_is(INT64_MIN, "JPY", "-9223372036854775808");
    fmt_is(INT64_MIN, "CLF", "-922337203685477.5808");
}

static void test_format_grouped(void **state)
{
    (void)state;
    grp_is(14900000, "IDR", "149,000.00");
    grp_is(250000000, "IDR", "2,500,000.00");
    grp_is(99999, "USD", "999.99");
    grp_is(100000, "USD", "1,000.00");
    grp_is(-100000, "USD", "-1,000.00");
    grp_is(0, "JPY", "0");
    grp_is(999, "JPY", "999");
    grp_is(1000, "JPY", "1,000");
    grp_is(-123456789, "JPY", "-123,456,789");
    grp_is(INT64_MIN, "JPY", "-9,223,372,036,854,775,808");
    grp_is(INT64_MAX, "KWD", "9,223,372,036,854,775.807");
}

static void test_format_does_not_fit(void **state)
{
    (void)state;
    char out[16];
    /* "149000.00" is 9 characters: needs 10 bytes */
    memset(out, 'z', sizeof out);
    assert_int_equal(money_format(14900000, "IDR", out, 9), -1);
    assert_string_equal(out, "");
    assert_int_equal(money_format(14900000, "IDR", out, 10), 9);
    assert_string_equal(out, "149000.00");
    assert_int_equal(money_format_grouped(14900000, "IDR", out, 10), -1);
    assert_int_equal(money_format_grouped(14900000, "IDR", out, 11), 10);
    assert_int_equal(money_format(1, "IDR", out, 0), -1);
    assert_int_equal(money_format(1, "IDR", NULL, 10), -1);
    assert_int_equal(money_format(1, "XYZ", out, sizeof out), -1);
    assert_int_equal(money_format_grouped(1, NULL, out, sizeof out), -1);
}

/* Deterministic xorshift64* so the property tests are reproducible. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Du;
}

static void test_round_trip(void **state)
{
    (void)state;
    static const char *const cur[] = {"IDR", "JPY", "KWD", "CLF", "USD"};
    for (int i = 0; i < 20000; i++) {
        uint64_t r = rng();
        int64_t v = (int64_t)(r >> (r & 63)); /* all magnitudes */
        if (r & 1u << 20)
            v = -v;
        v %= MONEY_MAX_MINOR + 1; /* what parses: the documented maximum, either sign */
        if (i == 0)
            v = -MONEY_MAX_MINOR;
        const char *c = cur[i % 5];
        char text[MONEY_TEXT_MAX];
        assert_true(money_format(v, c, text, sizeof text) > 0);
        int64_t back = 0;
        assert_int_equal(money_parse(text, c, 1, &back, NULL, 0), 0);
        assert_true(back == v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exponent_known),
        cmocka_unit_test(test_exponent_unknown),
        cmocka_unit_test(test_exponent_table_sorted_and_complete),
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_checked_arithmetic),
        cmocka_unit_test(test_parse_too_many_decimals),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_parse_bad_arguments),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_grouped),
        cmocka_unit_test(test_format_does_not_fit),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
