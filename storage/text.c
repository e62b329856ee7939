/*
 * text.c: bounded string building, JSON/CSV escaping (with spreadsheet formulas
 * neutralized in CSV text cells), identifier rules and UTC time.
 *
 * Used by the CLI, the HTTP routes and the exporters, so that every JSON string and
 * every CSV field in jejak is escaped by one piece of code.
 */
#include "storage/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void text_buf_init(text_buf *b, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->cap = cap;
}

void text_buf_free(text_buf *b)
{
    free(b->ptr);
    memset(b, 0, sizeof(*b));
}

void text_buf_reset(text_buf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->ptr)
        b->ptr[0] = '\0';
}

static bool grow(text_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (extra > b->cap - b->len) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->size)
        return true;
    size_t size = b->size ? b->size : 256;
    while (size < need)
        size *= 2;
    char *p = realloc(b->ptr, size);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->ptr = p;
    b->size = size;
    return true;
}

bool text_append(text_buf *b, const char *s, size_t n)
{
    if (!grow(b, n))
        return false;
    memcpy(b->ptr + b->len, s, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return true;
}

bool text_puts(text_buf *b, const char *s)
{
    return text_append(b, s, strlen(s));
}

bool text_printf(text_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return false;
    }
    if ((size_t)n < sizeof(small))
        return text_append(b, small, (size_t)n);
    if (!grow(b, (size_t)n))
        return false;
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629), or 0. Reads no further than the first
 * byte that is not a continuation, so a NUL ends it. */
static int utf8_len(const unsigned char *p)
{
    unsigned char b = p[0];
    if (b < 0x80)
        return 1;
    int n = (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 : (b & 0xf8) == 0xf0 ? 4 : 0;
    if (!n || (n == 2 && b < 0xc2) || b > 0xf4)
        return 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((n == 3 && ((b == 0xe0 && p[1] < 0xa0) || (b == 0xed && p[1] >= 0xa0))) ||
        (n == 4 && ((b == 0xf0 && p[1] < 0x90) || (b == 0xf4 && p[1] >= 0x90))))
        return 0; /* overlong, a surrogate, or past U+10FFFF */
    return n;
}

bool text_json_str(text_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    text_append(b, "\"", 1);
    const char *run = s;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x80) {
            /* Valid UTF-8 passes through; a stray byte (stored by an older jejak) would
             * make the whole document unparseable, so it becomes U+FFFD. */
            int n = utf8_len(p);
            if (n) {
                p += n - 1;
                continue;
            }
            text_append(b, run, (size_t)((const char *)p - run));
            text_append(b, "\\ufffd", 6);
            run = (const char *)p + 1;
            continue;
        }
        if (*p >= 0x20 && *p != '"' && *p != '\\' && *p != 0x7f)
            continue;
        text_append(b, run, (size_t)((const char *)p - run));
        char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
        if (*p == '"' || *p == '\\') {
            esc[1] = (char)*p;
            text_append(b, esc, 2);
        } else if (*p == '\n') {
            text_append(b, "\\n", 2);
        } else {
            text_append(b, esc, 6);
        }
        run = (const char *)p + 1;
    }
    text_puts(b, run);
    return text_append(b, "\"", 1);
}

bool text_csv_field(text_buf *b, const char *s)
{
    /* OWASP, CSV injection: the first characters a spreadsheet reads as a formula. */
    const char *formula = *s && strchr("=+-@\t\r", *s) ? "'" : "";
    if (!strpbrk(s, ",;\"\r\n"))
        return text_puts(b, formula) && text_puts(b, s);
    text_append(b, "\"", 1);
    text_puts(b, formula);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            text_append(b, "\"", 1);
        text_append(b, p, 1);
    }
    return text_append(b, "\"", 1);
}

/* -?digits[.digits][(e|E)[+-]digits]: what jejak's own number formats produce. */
static bool plain_number(const char *s)
{
    const char *p = s + (*s == '-');
    size_t n = strspn(p, "0123456789");
    if (!n)
        return false;
    p += n;
    if (*p == '.') {
        n = strspn(++p, "0123456789");
        if (!n)
            return false;
        p += n;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        p += *p == '+' || *p == '-';
        n = strspn(p, "0123456789");
        if (!n)
            return false;
        p += n;
    }
    return *p == '\0';
}

bool text_csv_number(text_buf *b, const char *s)
{
    return plain_number(s) ? text_puts(b, s) : text_csv_field(b, s);
}

bool text_row(text_buf *b, bool csv, const char *const *names, const char *const *vals,
              const text_kind *kinds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            text_puts(b, ",");
        text_kind k = kinds ? kinds[i] : TEXT_STR;
        if (csv) {
            if (k == TEXT_RAW || k == TEXT_NUM_STR)
                text_csv_number(b, vals[i]);
            else
                text_csv_field(b, vals[i]);
            continue;
        }
        text_json_str(b, names[i]);
        text_puts(b, ":");
        if (k == TEXT_RAW)
            text_puts(b, vals[i]);
        else if (k == TEXT_STR_OR_NULL && !vals[i][0])
            text_puts(b, "null");
        else
            text_json_str(b, vals[i]);
    }
    return !b->failed;
}

bool text_valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    for (int n; *p; p += n)
        if (!(n = utf8_len(p)))
            return false;
    return true;
}

bool text_valid_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return text_valid_utf8(s);
}

bool text_valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TEXT_ID_MAX || s[0] == '-' || s[0] == '_')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

int64_t text_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Howard Hinnant's civil-date algorithms: exact for every proleptic Gregorian date. */
int64_t text_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void text_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void text_format_time(int64_t ms, char *out, size_t outlen)
{
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000;
    int64_t y;
    unsigned m, d;
    text_civil_from_days(days, &y, &m, &d);
    snprintf(out, outlen, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ", (long long)y, m, d,
             (unsigned)(rem / 3600000), (unsigned)(rem / 60000 % 60), (unsigned)(rem / 1000 % 60),
             (unsigned)(rem % 1000));
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int parse_date(const char **p, int *y, int *m, int *d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (digits(p, 4, y) || *(*p)++ != '-' || digits(p, 2, m) || *(*p)++ != '-' || digits(p, 2, d))
        return -1;
    if (*m < 1 || *m > 12 || *d < 1 || *d > mdays[*m - 1] + (*m == 2 && leap(*y)))
        return -1;
    return 0;
}

bool text_valid_date(const char *s)
{
    int y, m, d;
    return strlen(s) == 10 && parse_date(&s, &y, &m, &d) == 0;
}

/* *zoned says whether the text fixed its instant: Unix ms, 'Z' or an offset. */
static int parse_time(const char *s, int64_t *ms, bool *zoned)
{
    *zoned = false;
    if (!*s)
        return -1;
    if (strlen(s) > 40)
        return -1;
    if (strspn(s, "0123456789") == strlen(s) && strlen(s) <= 15) {
        *ms = strtoll(s, NULL, 10);
        *zoned = true;
        return 0;
    }
    int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
    const char *p = s;
    if (parse_date(&p, &y, &mo, &d))
        return -1;
    int64_t offset_min = 0;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
            return -1;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &sec))
                return -1;
            if (*p == '.') {
                p++;
                int n = 0;
                while (*p >= '0' && *p <= '9') {
                    if (n < 3)
                        frac = frac * 10 + (*p - '0');
                    n++;
                    p++;
                }
                if (n == 0)
                    return -1;
                for (; n < 3; n++)
                    frac *= 10;
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return -1;
        *zoned = *p == 'Z' || *p == 'z' || *p == '+' || *p == '-';
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (digits(&p, 2, &oh))
                return -1;
            if (*p == ':')
                p++;
            if (digits(&p, 2, &om) || oh > 23 || om > 59)
                return -1;
            offset_min = sign * (oh * 60 + om);
        }
    }
    if (*p)
        return -1;
    int64_t days = text_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t t = ((days * 86400 + h * 3600 + mi * 60 + sec) - offset_min * 60) * 1000 + frac;
    /* An offset or a leap second can carry a time past year 0000 or 9999, which no
     * four-digit year can print back: refuse it. */
    if (t < -62167219200000LL || t > 253402300799999LL)
        return -1;
    *ms = t;
    return 0;
}

int text_parse_time(const char *s, int64_t *ms)
{
    bool zoned;
    return parse_time(s, ms, &zoned);
}

int text_parse_time_zoned(const char *s, int64_t *ms)
{
    bool zoned;
    int64_t t;
    if (parse_time(s, &t, &zoned))
        return -1;
    if (!zoned)
        return -2;
    *ms = t;
    return 0;
}
