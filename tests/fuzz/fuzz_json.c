/*
 * fuzz_json.c: json_parse_flat (tracker/json.c) on arbitrary bytes.
 *
 * Properties: the parse never reads outside the input nor writes outside the arena, given
 * the documented minimum arena (len + 1 bytes); on success every key and string/number value
 * is a NUL-terminated string inside the arena, keys are distinct, decoded strings are valid
 * UTF-8 without NUL, and writing the fields back as JSON parses to the same fields; on
 * failure the reason is a non-empty string.
 */
#include "tests/fuzz/fuzz.h"

#include "tracker/json.h"

/* Valid UTF-8 per RFC 3629 (no overlongs, no surrogates, nothing above U+10FFFF). */
static int valid_utf8(const unsigned char *s)
{
    while (*s) {
        unsigned char b = *s;
        int n = b < 0x80                 ? 1
                : b >= 0xc2 && b <= 0xdf ? 2
                : b >= 0xe0 && b <= 0xef ? 3
                : b >= 0xf0 && b <= 0xf4 ? 4
                                         : 0;
        if (n == 0)
            return 0;
        for (int i = 1; i < n; i++)
            if ((s[i] & 0xc0) != 0x80)
                return 0;
        if ((b == 0xe0 && s[1] < 0xa0) || (b == 0xed && s[1] >= 0xa0) ||
            (b == 0xf0 && s[1] < 0x90) || (b == 0xf4 && s[1] >= 0x90))
            return 0;
        s += n;
    }
    return 1;
}

static int in_arena(const char *p, const char *arena, size_t arena_len)
{
    return p >= arena && p < arena + arena_len &&
           memchr(p, '\0', (size_t)(arena + arena_len - p)) != NULL;
}

/* Appends s as a JSON string literal; control bytes as \u00XX, the rest raw. */
static size_t put_str(char *out, size_t o, const char *s)
{
    out[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            out[o++] = '\\';
            out[o++] = (char)*p;
        } else if (*p < 0x20) {
            o += (size_t)sprintf(out + o, "\\u%04x", *p);
        } else {
            out[o++] = (char)*p;
        }
    }
    out[o++] = '"';
    return o;
}

static void check_reserialized(const json_field *f, int n, size_t len)
{
    /* Worst case: each decoded byte becomes 6 (\u00XX), plus quotes and separators. */
    size_t cap = 6 * len + 16;
    char *out = malloc(cap);
    size_t o = 0;
    out[o++] = '{';
    for (int i = 0; i < n; i++) {
        if (i)
            out[o++] = ',';
        o = put_str(out, o, f[i].key);
        out[o++] = ':';
        if (f[i].type == JSON_STRING) {
            o = put_str(out, o, f[i].value);
        } else {
            const char *lit = f[i].type == JSON_NUMBER  ? f[i].value
                              : f[i].type == JSON_TRUE  ? "true"
                              : f[i].type == JSON_FALSE ? "false"
                                                        : "null";
            memcpy(out + o, lit, strlen(lit));
            o += strlen(lit);
        }
    }
    out[o++] = '}';
    FUZZ_CHECK(o <= cap);
    char *arena2 = malloc(o + 1);
    json_field f2[JSON_MAX_FIELDS];
    char err[160];
    int n2 = json_parse_flat(out, o, arena2, o + 1, f2, JSON_MAX_FIELDS, err, sizeof err);
    FUZZ_CHECK(n2 == n);
    for (int i = 0; i < n; i++) {
        FUZZ_CHECK(f2[i].type == f[i].type);
        FUZZ_CHECK(strcmp(f2[i].key, f[i].key) == 0);
        FUZZ_CHECK(strcmp(f2[i].value, f[i].value) == 0);
    }
    free(arena2);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *in = (char *)fuzz_dup(data, size);
    size_t arena_len = size + 1; /* the documented minimum */
    char *arena = malloc(arena_len);
    json_field f[JSON_MAX_FIELDS];
    char err[160];
    int max = size > 0 && data[0] == ' ' ? 2 : JSON_MAX_FIELDS; /* also a small field cap */
    memset(err, 'x', sizeof err);
    int n = json_parse_flat(in, size, arena, arena_len, f, max, err, sizeof err);
    if (n < 0) {
        FUZZ_CHECK(n == -1);
        FUZZ_CHECK(fuzz_terminated(err, sizeof err) && err[0] != '\0');
    } else {
        FUZZ_CHECK(n <= max);
        for (int i = 0; i < n; i++) {
            FUZZ_CHECK(in_arena(f[i].key, arena, arena_len));
            FUZZ_CHECK(valid_utf8((const unsigned char *)f[i].key));
            switch (f[i].type) {
            case JSON_STRING:
                FUZZ_CHECK(in_arena(f[i].value, arena, arena_len));
                FUZZ_CHECK(valid_utf8((const unsigned char *)f[i].value));
                break;
            case JSON_NUMBER:
                FUZZ_CHECK(in_arena(f[i].value, arena, arena_len));
                FUZZ_CHECK(f[i].value[0] == '-' || (f[i].value[0] >= '0' && f[i].value[0] <= '9'));
                FUZZ_CHECK(strspn(f[i].value, "-+.eE0123456789") == strlen(f[i].value));
                break;
            case JSON_TRUE:
                FUZZ_CHECK(strcmp(f[i].value, "true") == 0);
                break;
            case JSON_FALSE:
                FUZZ_CHECK(strcmp(f[i].value, "false") == 0);
                break;
            case JSON_NULL:
                FUZZ_CHECK(strcmp(f[i].value, "") == 0);
                break;
            default:
                FUZZ_CHECK(!"type out of range");
            }
            for (int j = 0; j < i; j++)
                FUZZ_CHECK(strcmp(f[i].key, f[j].key) != 0);
        }
        check_reserialized(f, n, size);
    }
    /* A too-small arena is refused up front, never overrun. */
    if (size > 0) {
        char *small = malloc(size);
        FUZZ_CHECK(json_parse_flat(in, size, small, size, f, JSON_MAX_FIELDS, err, sizeof err) ==
                   -1);
        free(small);
    }
    free(arena);
    free(in);
    return 0;
}
