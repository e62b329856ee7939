/*
 * fuzz_time.c: text_parse_time, text_format_time and text_valid_date (storage/text.c).
 *
 * Properties: parsing never reads past the string; when an ISO form (anything but a bare
 * integer) parses, text_format_time(ms) is the 24-byte "YYYY-MM-DDTHH:MM:SS.mmmZ" form and
 * parses back to the same ms; a valid date parses as its midnight; and any ms taken from
 * the input bytes within years 0000-9999 round-trips through format and parse.
 */
#include "tests/fuzz/fuzz.h"

#include "storage/text.h"

/* 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z. */
static const int64_t min_ms = -62167219200000LL, max_ms = 253402300799999LL;

static void round_trip(int64_t ms)
{
    char text[25], extra[64];
    text_format_time(ms, text, sizeof text);
    text_format_time(ms, extra, sizeof extra);
    FUZZ_CHECK(strlen(extra) == 24 && strcmp(text, extra) == 0); /* fits the documented 25 */
    int64_t back = ms ^ 1;
    FUZZ_CHECK(text_parse_time(text, &back) == 0);
    FUZZ_CHECK(back == ms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char *s = fuzz_strndup(data, size);
    int64_t ms = 0;
    if (text_parse_time(s, &ms) == 0) {
        int bare = s[0] != '\0' && strspn(s, "0123456789") == strlen(s);
        FUZZ_CHECK(s[0] != '\0' && strlen(s) <= 40);
        if (!bare)
            round_trip(ms);
    }
    if (text_valid_date(s)) {
        int64_t y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
        unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
        unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
        FUZZ_CHECK(text_parse_time(s, &ms) == 0);
        FUZZ_CHECK(ms == text_days_from_civil(y, m, d) * 86400000LL);
        int64_t y2;
        unsigned m2, d2;
        text_civil_from_days(text_days_from_civil(y, m, d), &y2, &m2, &d2);
        FUZZ_CHECK(y2 == y && m2 == m && d2 == d);
    }
    uint64_t u = 0;
    for (size_t i = 0; i < size && i < 8; i++)
        u = u << 8 | data[i];
    int64_t span = max_ms - min_ms + 1;
    round_trip(min_ms + (int64_t)(u % (uint64_t)span));
    free(s);
    return 0;
}
