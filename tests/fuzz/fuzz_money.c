/*
 * fuzz_money.c: money_parse / money_format (attribution/money.c).
 *
 * Input: byte 0 picks a currency from a fixed list (exponents 0 to 4, and two codes that
 * must be refused), byte 1's low bit is allow_negative, the rest is the amount text.
 * Properties: whatever parses formats back (money_format and the grouped form fit in
 * MONEY_TEXT_MAX) to a string that parses to the same minor value; a refused amount leaves
 * *minor alone and gives a reason; nothing beyond MONEY_MAX_MINOR parses; and any int64
 * taken from the input bytes formats, and parses back when within MONEY_MAX_MINOR.
 */
#include "tests/fuzz/fuzz.h"

#include "attribution/money.h"

static const char *const currencies[] = {"IDR", "JPY", "KWD", "USD", "CLF",
                                         "BHD", "EUR", "XDR", "usd"};
enum { NCUR = sizeof currencies / sizeof currencies[0] };

static void round_trip(int64_t minor, const char *cur)
{
    char text[MONEY_TEXT_MAX], grouped[MONEY_TEXT_MAX];
    int n = money_format(minor, cur, text, sizeof text);
    int g = money_format_grouped(minor, cur, grouped, sizeof grouped);
    if (money_exponent(cur) < 0) {
        FUZZ_CHECK(n == -1 && text[0] == '\0' && g == -1);
        return;
    }
    FUZZ_CHECK(n > 0 && (size_t)n == strlen(text));
    FUZZ_CHECK(g >= n && (size_t)g == strlen(grouped));
    int64_t back = minor ^ 1;
    char err[100];
    if (minor > MONEY_MAX_MINOR || minor < -MONEY_MAX_MINOR) {
        /* Prints (a report's sums may be this large) but is refused as an input. */
        FUZZ_CHECK(money_parse(text, cur, 1, &back, err, sizeof err) == -1 && back == (minor ^ 1));
    } else {
        FUZZ_CHECK(money_parse(text, cur, 1, &back, err, sizeof err) == 0);
        FUZZ_CHECK(back == minor);
    }
    /* The grouped form is the same digits with commas. */
    size_t j = 0;
    for (size_t i = 0; grouped[i]; i++)
        if (grouped[i] != ',')
            FUZZ_CHECK(grouped[i] == text[j++]);
    FUZZ_CHECK(text[j] == '\0');
    /* Exactly as many bytes as needed: one less is refused and leaves "". */
    FUZZ_CHECK(money_format(minor, cur, text, (size_t)n) == -1 && text[0] == '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 4096)
        return 0;
    const char *cur = currencies[data[0] % NCUR];
    int allow_negative = data[1] & 1;
    char *text = fuzz_strndup(data + 2, size - 2);
    int64_t minor = 0x5a5a5a5a5a5a5a5a;
    char err[120];
    memset(err, 'x', sizeof err);
    int r = money_parse(text, cur, allow_negative, &minor, err, sizeof err);
    if (r == 0) {
        FUZZ_CHECK(money_exponent(cur) >= 0);
        FUZZ_CHECK(allow_negative || minor >= 0);
        FUZZ_CHECK(minor <= MONEY_MAX_MINOR && minor >= -MONEY_MAX_MINOR);
        FUZZ_CHECK(strchr(text, '-') == NULL || text[0] == '-');
        round_trip(minor, cur);
    } else {
        FUZZ_CHECK(r == -1 && minor == 0x5a5a5a5a5a5a5a5a);
        FUZZ_CHECK(fuzz_terminated(err, sizeof err) && err[0] != '\0');
    }
    /* Any int64 from the bytes, in every currency of the list. */
    uint64_t u = 0;
    for (size_t i = 2; i < size && i < 10; i++)
        u = u << 8 | data[i];
    for (int c = 0; c < NCUR; c++)
        round_trip((int64_t)u, currencies[c]);
    free(text);
    return 0;
}
