/*
 * money.h: amounts of money as integer minor units plus an ISO 4217 code, and the only
 * place that turns them into text and back. No float ever touches an amount: a shop's
 * "149000.00" becomes 14900000 IDR cents exactly, and reports print exactly what was stored.
 *
 * The currency decides the number of decimals (IDR 2, JPY 0, KWD 3), from the ISO 4217
 * list of active codes embedded in money.c. Codes are uppercase and exactly 3 letters.
 *
 * Pure functions: no I/O, no allocation; every output goes into a caller-owned buffer.
 */
#ifndef JEJAK_MONEY_H
#define JEJAK_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* Enough for any int64 amount in any currency, with sign, point, separators and NUL. */
enum { MONEY_TEXT_MAX = 32 };

/* The largest amount money_parse accepts, either sign: 10^15 minor units (10,000,000,000,000.00
 * IDR or USD, 1,000,000,000,000,000 JPY, 100,000,000,000.0000 CLF). Far above any order or
 * fee, and small enough that 9,223 of them add up inside int64: a total passes it only
 * through many amounts, and every sum is checked (money_add, money_mul). */
#define MONEY_MAX_MINOR INT64_C(1000000000000000)

/* Checked arithmetic for the money path: *out = a + b (a * b) and 0, or -1 and *out left
 * alone when the exact result is outside int64. Never a wrapped number. */
static inline int money_add(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return -1;
    *out = r;
    return 0;
}

static inline int money_mul(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return -1;
    *out = r;
    return 0;
}

/* ISO 4217 minor-unit digits (0..4) of an active uppercase 3-letter code; -1 if unknown
 * (lowercase, funds without minor units such as XDR, metals, withdrawn codes, NULL). */
int money_exponent(const char *code);

/* Parses a plain decimal amount exactly into minor units of currency:
 *   "149000.00" IDR -> 14900000, "149000" IDR -> 14900000, "0.5" USD -> 50, "007.50" ok.
 * Grammar: ['-'] digit+ ['.' digit+], at most money_exponent(currency) decimals. A '-' is
 * accepted only when allow_negative (shop amounts and costs pass 0). Rejected: empty,
 * spaces, '+', thousands separators, exponents, "1.", ".5", more decimals than the
 * currency has ("1.234" IDR, "1.2" JPY), values beyond MONEY_MAX_MINOR either way
 * ("amount is too large (at most 10000000000000.00 USD)"; checked, no UB).
 * Returns 0 and sets *minor; or -1, leaves *minor alone and writes a human-readable reason
 * into err (NUL-terminated, truncated to errlen; err may be NULL). */
int money_parse(const char *text, const char *currency, int allow_negative, int64_t *minor,
                char *err, size_t errlen);

/* Writes minor as a plain decimal in major units with exactly the currency's decimals:
 * 14900000 IDR -> "149000.00", 5 JPY -> "5", -150 USD -> "-1.50"; INT64_MIN works.
 * Returns the length written (without NUL), or -1 if the currency is unknown or the text
 * plus NUL does not fit in outlen (out is then left as an empty string when outlen > 0).
 * The output parses back to the same value with money_parse(..., 1, ...) when
 * |minor| <= MONEY_MAX_MINOR (a report's sums may be larger, and still print). */
int money_format(int64_t minor, const char *currency, char *out, size_t outlen);

/* Same, with "," between groups of three integer digits, for tables:
 * 14900000 IDR -> "149,000.00". Not accepted by money_parse (on purpose). */
int money_format_grouped(int64_t minor, const char *currency, char *out, size_t outlen);

#endif
