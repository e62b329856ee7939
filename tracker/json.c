/*
 * json.c: the flat-object JSON parser (see json.h). A recursive-descent reader over a
 * cursor; every string is decoded into the arena, which can never overflow because a
 * decoded string is never longer than its escaped form.
 */
#include "tracker/json.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *p, *end;
    char *out, *out_end;
    const char *err;
} cursor;

static void ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int hex4(cursor *c, unsigned *v)
{
    if (c->end - c->p < 4)
        return -1;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char h = c->p[i];
        unsigned d = h >= '0' && h <= '9'   ? (unsigned)(h - '0')
                     : h >= 'a' && h <= 'f' ? (unsigned)(h - 'a' + 10)
                     : h >= 'A' && h <= 'F' ? (unsigned)(h - 'A' + 10)
                                            : 16;
        if (d == 16)
            return -1;
        *v = *v << 4 | d;
    }
    c->p += 4;
    return 0;
}

static void put_utf8(cursor *c, unsigned cp)
{
    if (cp < 0x80) {
        *c->out++ = (char)cp;
    } else if (cp < 0x800) {
        *c->out++ = (char)(0xc0 | cp >> 6);
        *c->out++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *c->out++ = (char)(0xe0 | cp >> 12);
        *c->out++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *c->out++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *c->out++ = (char)(0xf0 | cp >> 18);
        *c->out++ = (char)(0x80 | (cp >> 12 & 0x3f));
        *c->out++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *c->out++ = (char)(0x80 | (cp & 0x3f));
    }
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates), or 0. */
static int utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char b = p[0];
    int n = b < 0x80             ? 1
            : (b & 0xe0) == 0xc0 ? 2
            : (b & 0xf0) == 0xe0 ? 3
            : (b & 0xf8) == 0xf0 ? 4
                                 : 0;
    if (n == 0 || end - p < n)
        return 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if (n == 2 && b < 0xc2)
        return 0;
    if (n == 3 && ((b == 0xe0 && p[1] < 0xa0) || (b == 0xed && p[1] >= 0xa0)))
        return 0;
    if (n == 4 && ((b == 0xf0 && p[1] < 0x90) || b > 0xf4 || (b == 0xf4 && p[1] >= 0x90)))
        return 0;
    return n;
}

/* Decodes the string at c->p (just after the opening quote) into the arena. */
static const char *string(cursor *c)
{
    char *start = c->out;
    while (c->p < c->end) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            c->p++;
            *c->out++ = '\0';
            return start;
        }
        if (ch < 0x20) {
            c->err = "control character in a string";
            return NULL;
        }
        if (ch == '\\') {
            if (++c->p >= c->end)
                break;
            char e = *c->p++;
            unsigned cp;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                *c->out++ = e;
                break;
            case 'b':
                *c->out++ = '\b';
                break;
            case 'f':
                *c->out++ = '\f';
                break;
            case 'n':
                *c->out++ = '\n';
                break;
            case 'r':
                *c->out++ = '\r';
                break;
            case 't':
                *c->out++ = '\t';
                break;
            case 'u':
                if (hex4(c, &cp))
                    goto bad_escape;
                if (cp >= 0xd800 && cp < 0xdc00) {
                    unsigned lo;
                    if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u')
                        goto bad_escape;
                    c->p += 2;
                    if (hex4(c, &lo) || lo < 0xdc00 || lo > 0xdfff)
                        goto bad_escape;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                } else if (cp >= 0xdc00 && cp < 0xe000) {
                    goto bad_escape;
                }
                if (cp == 0) {
                    c->err = "NUL character in a string";
                    return NULL;
                }
                put_utf8(c, cp);
                break;
            default:
                goto bad_escape;
            }
            continue;
        }
        int n = utf8_len((const unsigned char *)c->p, (const unsigned char *)c->end);
        if (!n) {
            c->err = "invalid UTF-8";
            return NULL;
        }
        memcpy(c->out, c->p, (size_t)n);
        c->out += n;
        c->p += n;
    }
    c->err = "unterminated string";
    return NULL;
bad_escape:
    c->err = "invalid escape in a string";
    return NULL;
}

static const char *number(cursor *c)
{
    const char *s = c->p;
    if (c->p < c->end && *c->p == '-')
        c->p++;
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
        goto bad;
    if (*c->p == '0')
        c->p++;
    else
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            goto bad;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            goto bad;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    }
    char *out = c->out;
    memcpy(out, s, (size_t)(c->p - s));
    c->out += c->p - s;
    *c->out++ = '\0';
    return out;
bad:
    c->err = "invalid number";
    return NULL;
}

static int literal(cursor *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n))
        return -1;
    c->p += n;
    return 0;
}

int json_parse_flat(const char *in, size_t len, char *arena, size_t arena_len, json_field *fields,
                    int max_fields, char *err, size_t errlen)
{
    cursor c = {in, in + len, arena, arena + arena_len, NULL};
    int n = 0;
    if (arena_len < len + 1) {
        snprintf(err, errlen, "body too large");
        return -1;
    }
    ws(&c);
    if (c.p >= c.end || *c.p++ != '{') {
        c.err = "the body must be a JSON object";
        goto fail;
    }
    ws(&c);
    if (c.p < c.end && *c.p == '}') {
        c.p++;
        goto end;
    }
    for (;;) {
        ws(&c);
        if (c.p >= c.end || *c.p++ != '"') {
            c.err = "expected a field name";
            goto fail;
        }
        const char *key = string(&c);
        if (!key)
            goto fail;
        ws(&c);
        if (c.p >= c.end || *c.p++ != ':') {
            c.err = "expected ':' after a field name";
            goto fail;
        }
        ws(&c);
        if (n == max_fields) {
            c.err = "too many fields";
            goto fail;
        }
        json_field *f = &fields[n];
        f->key = key;
        if (c.p >= c.end) {
            c.err = "expected a value";
            goto fail;
        }
        if (*c.p == '"') {
            c.p++;
            f->type = JSON_STRING;
            f->value = string(&c);
        } else if (*c.p == '-' || (*c.p >= '0' && *c.p <= '9')) {
            f->type = JSON_NUMBER;
            f->value = number(&c);
        } else if (!literal(&c, "true")) {
            f->type = JSON_TRUE;
            f->value = "true";
        } else if (!literal(&c, "false")) {
            f->type = JSON_FALSE;
            f->value = "false";
        } else if (!literal(&c, "null")) {
            f->type = JSON_NULL;
            f->value = "";
        } else {
            c.err = *c.p == '{' || *c.p == '[' ? "nested objects and arrays are not accepted"
                                               : "invalid value";
            goto fail;
        }
        if (!f->value)
            goto fail;
        for (int i = 0; i < n; i++) {
            if (!strcmp(fields[i].key, key)) {
                snprintf(err, errlen, "duplicate field \"%.64s\"", key);
                return -1;
            }
        }
        n++;
        ws(&c);
        if (c.p < c.end && *c.p == ',') {
            c.p++;
            continue;
        }
        if (c.p < c.end && *c.p == '}') {
            c.p++;
            break;
        }
        c.err = "expected ',' or '}'";
        goto fail;
    }
end:
    ws(&c);
    if (c.p != c.end) {
        c.err = "trailing bytes after the object";
        goto fail;
    }
    return n;
fail:
    snprintf(err, errlen, "invalid JSON at byte %zu: %s", (size_t)(c.p - in),
             c.err ? c.err : "syntax error");
    return -1;
}
