/*
 * money.c: exact decimal <-> minor-unit conversion and the ISO 4217 exponent table.
 *
 * Why hand-written instead of strtod/printf("%.2f"): a double cannot hold 0.1, and a
 * tracker that adds up revenue must produce the same cents the shop sent. Parsing
 * accumulates the magnitude in uint64_t with a check against MONEY_MAX_MINOR before every
 * step, so any input, however long, is either exact and within the cap or rejected;
 * formatting works on the unsigned magnitude, so INT64_MIN needs no special case.
 *
 * The table is ISO 4217 list one (SIX, published 2026-01-01): active codes with a numeric
 * minor unit. Codes whose minor unit is "N.A." (XDR, XUA, XSU, XBA..XBD, metals, XTS,
 * XXX) are left out on purpose: they are not amounts a shop can charge. When ISO amends
 * the list, edit the table and keep it sorted (money_exponent does a binary search and
 * test_money checks the order).
 */
#include "attribution/money.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    char code[4];
    unsigned char exp;
} money_currency;

static const money_currency money_table[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2}, {"AWG", 2},
    {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BHD", 3}, {"BIF", 0}, {"BMD", 2}, {"BND", 2},
    {"BOB", 2}, {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2}, {"BYN", 2}, {"BZD", 2},
    {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2}, {"CHW", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2},
    {"COP", 2}, {"COU", 2}, {"CRC", 2}, {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DJF", 0}, {"DKK", 2},
    {"DOP", 2}, {"DZD", 2}, {"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2}, {"FJD", 2}, {"FKP", 2},
    {"GBP", 2}, {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2}, {"GNF", 0}, {"GTQ", 2}, {"GYD", 2},
    {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"IQD", 3},
    {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0}, {"KES", 2}, {"KGS", 2}, {"KHR", 2},
    {"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2}, {"KZT", 2}, {"LAK", 2}, {"LBP", 2},
    {"LKR", 2}, {"LRD", 2}, {"LSL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2}, {"MKD", 2},
    {"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2}, {"MVR", 2}, {"MWK", 2}, {"MXN", 2},
    {"MXV", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2}, {"NIO", 2}, {"NOK", 2}, {"NPR", 2},
    {"NZD", 2}, {"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2},
    {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2}, {"RWF", 0}, {"SAR", 2}, {"SBD", 2},
    {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2}, {"SHP", 2}, {"SLE", 2}, {"SOS", 2}, {"SRD", 2},
    {"SSP", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2}, {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2},
    {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2}, {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"UGX", 0},
    {"USD", 2}, {"USN", 2}, {"UYI", 0}, {"UYU", 2}, {"UYW", 4}, {"UZS", 2}, {"VED", 2}, {"VES", 2},
    {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAD", 2}, {"XAF", 0}, {"XCD", 2}, {"XCG", 2}, {"XOF", 0},
    {"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
};

enum { MONEY_TABLE_LEN = sizeof money_table / sizeof money_table[0] };

int money_exponent(const char *code)
{
    if (code == NULL)
        return -1;
    for (int i = 0; i < 3; i++)
        if (code[i] < 'A' || code[i] > 'Z')
            return -1;
    if (code[3] != '\0')
        return -1;
    size_t lo = 0, hi = MONEY_TABLE_LEN;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(code, money_table[mid].code, 3);
        if (c == 0)
            return money_table[mid].exp;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

static int money_fail(char *err, size_t errlen, const char *reason)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", reason);
    return -1;
}

/* Appends one decimal digit to *mag unless the result would exceed limit. */
static int money_push_digit(uint64_t *mag, unsigned d, uint64_t limit)
{
    if (*mag > (limit - d) / 10)
        return -1;
    *mag = *mag * 10 + d;
    return 0;
}

static int money_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int money_parse(const char *text, const char *currency, int allow_negative, int64_t *minor,
                char *err, size_t errlen)
{
    int exp = money_exponent(currency);
    if (exp < 0)
        return money_fail(err, errlen, "unknown currency");
    if (text == NULL || minor == NULL)
        return money_fail(err, errlen, "amount is not a decimal number");

    const char *p = text;
    int neg = 0;
    if (*p == '-') {
        if (!allow_negative)
            return money_fail(err, errlen, "amount must not be negative");
        neg = 1;
        p++;
    }
    uint64_t limit = (uint64_t)MONEY_MAX_MINOR;
    uint64_t mag = 0;
    int too_large = 0;

    const char *int_start = p;
    while (money_is_digit(*p)) {
        if (money_push_digit(&mag, (unsigned)(*p - '0'), limit) != 0)
            too_large = 1;
        p++;
    }
    if (p == int_start)
        return money_fail(err, errlen, "amount is not a decimal number");

    int decimals = 0;
    if (*p == '.') {
        p++;
        const char *frac_start = p;
        while (money_is_digit(*p)) {
            decimals++;
            if (decimals <= exp && money_push_digit(&mag, (unsigned)(*p - '0'), limit) != 0)
                too_large = 1;
            p++;
        }
        if (p == frac_start)
            return money_fail(err, errlen, "amount is not a decimal number");
    }
    if (*p != '\0')
        return money_fail(err, errlen, "amount is not a decimal number");
    if (decimals > exp) {
        char reason[80];
        snprintf(reason, sizeof reason, "amount has more decimals than %s allows (%d)", currency,
                 exp);
        return money_fail(err, errlen, reason);
    }
    for (int i = decimals; i < exp && !too_large; i++)
        if (money_push_digit(&mag, 0, limit) != 0)
            too_large = 1;
    if (too_large) {
        char max[MONEY_TEXT_MAX], reason[96];
        money_format(MONEY_MAX_MINOR, currency, max, sizeof max);
        snprintf(reason, sizeof reason, "amount is too large (at most %s %s)", max, currency);
        return money_fail(err, errlen, reason);
    }

    *minor = neg ? -(int64_t)mag : (int64_t)mag;
    return 0;
}

/* Shared by both formatters: builds the text right to left in a local buffer. */
static int money_format_impl(int64_t minor, const char *currency, int grouped, char *out,
                             size_t outlen)
{
    if (out == NULL || outlen == 0)
        return -1;
    out[0] = '\0';
    int exp = money_exponent(currency);
    if (exp < 0)
        return -1;

    uint64_t mag = minor < 0 ? 0u - (uint64_t)minor : (uint64_t)minor;
    char buf[MONEY_TEXT_MAX];
    size_t pos = sizeof buf;
    buf[--pos] = '\0';

    for (int i = 0; i < exp; i++) {
        buf[--pos] = (char)('0' + mag % 10);
        mag /= 10;
    }
    if (exp > 0)
        buf[--pos] = '.';
    int digits = 0;
    do {
        if (grouped && digits > 0 && digits % 3 == 0)
            buf[--pos] = ',';
        buf[--pos] = (char)('0' + mag % 10);
        mag /= 10;
        digits++;
    } while (mag > 0);
    if (minor < 0)
        buf[--pos] = '-';

    size_t len = sizeof buf - 1 - pos;
    if (len + 1 > outlen)
        return -1;
    memcpy(out, buf + pos, len + 1);
    return (int)len;
}

int money_format(int64_t minor, const char *currency, char *out, size_t outlen)
{
    return money_format_impl(minor, currency, 0, out, outlen);
}

int money_format_grouped(int64_t minor, const char *currency, char *out, size_t outlen)
{
    return money_format_impl(minor, currency, 1, out, outlen);
}
