/* url: destination validation and Location building for the redirect hot path.
 *
 * Every click goes through url_build_location(), so it works in one pass into the caller's
 * buffer, with no allocation. Safety of the Location header rests on two layers: a
 * destination is refused at link creation unless it is plain ASCII with no whitespace or
 * control bytes, and everything added at click time is percent-encoded. The builder also
 * refuses a destination with control bytes, in case a caller skipped the check.
 */
#include "tracker/url.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define CLICK_ID_KEY "jclid"

/* Output cursor: writes stop at the capacity, and overflow is remembered so that the
 * builder can write unconditionally and check once at the end. */
typedef struct {
    char *buf;
    size_t cap; /* bytes usable for text, the NUL excluded */
    size_t len;
    bool overflow;
} sink;

static void sink_put(sink *s, const char *p, size_t n)
{
    if (s->overflow || n > s->cap - s->len) {
        s->overflow = true;
        return;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

static void sink_putc(sink *s, char c)
{
    sink_put(s, &c, 1);
}

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void sink_encode(sink *s, const char *str)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)str; *p && !s->overflow; p++) {
        if (is_unreserved(*p)) {
            sink_putc(s, (char)*p);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            sink_put(s, esc, sizeof esc);
        }
    }
}

/* Ends the output: NUL-terminated text and its length, or "" and -1. */
static int sink_finish(sink *s)
{
    if (s->overflow || s->len > (size_t)INT_MAX) {
        s->buf[0] = '\0';
        return -1;
    }
    s->buf[s->len] = '\0';
    return (int)s->len;
}

static bool sink_init(sink *s, char *out, size_t outlen)
{
    if (out == NULL || outlen == 0)
        return false;
    s->buf = out;
    s->cap = outlen - 1;
    s->len = 0;
    s->overflow = false;
    return true;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static bool has_prefix_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != *prefix)
            return false;
    }
    return true;
}

/* Host and port of an authority without userinfo; [start, end) excludes the slashes. */
static int check_authority(const char *start, const char *end, char *err, size_t errlen)
{
    const char *p = start;
    if (memchr(start, '@', (size_t)(end - start)) != NULL)
        return fail(err, errlen,
                    "destination must not contain a user name or password before the host "
                    "(an '@' in the host part)");
    if (p < end && *p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        char lit[INET6_ADDRSTRLEN];
        unsigned char bin[16];
        size_t n = close ? (size_t)(close - p - 1) : 0;
        if (close == NULL || n == 0 || n >= sizeof lit)
            return fail(err, errlen, "destination has an invalid IPv6 host");
        memcpy(lit, p + 1, n);
        lit[n] = '\0';
        if (inet_pton(AF_INET6, lit, bin) != 1)
            return fail(err, errlen, "destination has an invalid IPv6 host");
        p = close + 1;
    } else {
        const char *host = p;
        while (p < end && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                           (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
            p++;
        if (p == host)
            return fail(err, errlen, "destination has an empty host");
    }
    if (p == end)
        return 0;
    if (*p != ':')
        return fail(err, errlen,
                    "destination host may contain only letters, digits, '.' and '-' "
                    "(byte %zu)",
                    (size_t)(p - start));
    p++;
    unsigned long port = 0;
    size_t digits = 0;
    for (; p < end && *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
        port = port * 10 + (unsigned long)(*p - '0');
    if (p != end || digits == 0 || port == 0 || port > 65535)
        return fail(err, errlen, "destination port must be a number from 1 to 65535");
    return 0;
}

int url_check_destination(const char *dest, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (dest == NULL || dest[0] == '\0')
        return fail(err, errlen, "destination is empty");
    size_t len = strnlen(dest, URL_DEST_MAX + 1);
    if (len > URL_DEST_MAX)
        return fail(err, errlen, "destination is longer than %d bytes", URL_DEST_MAX);

    size_t skip;
    if (has_prefix_ci(dest, "http://"))
        skip = 7;
    else if (has_prefix_ci(dest, "https://"))
        skip = 8;
    else
        return fail(err, errlen, "destination must start with http:// or https://");

    /* Bytes first: a CR hidden in the host deserves the CR message, not a host message. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)dest[i];
        if (c <= 0x20 || c == 0x7f)
            return fail(err, errlen,
                        "destination contains a space or control character at byte %zu", i);
        if (c >= 0x80)
            return fail(err, errlen,
                        "destination contains a non-ASCII byte at byte %zu; non-ASCII "
                        "characters must be percent-encoded",
                        i);
        if (c == '\\')
            return fail(err, errlen, "destination contains a backslash at byte %zu", i);
        if (c == '%' && !(is_hex((unsigned char)dest[i + 1]) && is_hex((unsigned char)dest[i + 2])))
            return fail(err, errlen,
                        "destination has a '%%' not followed by two hex digits at byte %zu", i);
    }

    const char *auth = dest + skip;
    const char *end = auth + strcspn(auth, "/?#");
    return check_authority(auth, end, err, errlen);
}

int url_encode(char *out, size_t outlen, const char *s)
{
    sink sk;
    if (!sink_init(&sk, out, outlen))
        return -1;
    if (s != NULL)
        sink_encode(&sk, s);
    return sink_finish(&sk);
}

static bool key_eq(const char *a, size_t alen, const char *b)
{
    return strncmp(a, b, alen) == 0 && b[alen] == '\0';
}

static bool in_params(const char *key, size_t keylen, const url_param *ps, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ps[i].key != NULL && ps[i].key[0] != '\0' && key_eq(key, keylen, ps[i].key))
            return true;
    return false;
}

/* Whether the raw query [q, qend) has a parameter whose key is exactly key. */
static bool in_query(const char *q, const char *qend, const char *key)
{
    while (q < qend) {
        const char *amp = memchr(q, '&', (size_t)(qend - q));
        const char *segend = amp ? amp : qend;
        const char *eq = memchr(q, '=', (size_t)(segend - q));
        const char *kend = eq ? eq : segend;
        if (key_eq(q, (size_t)(kend - q), key))
            return true;
        q = segend + 1;
    }
    return false;
}

/* Space counts: url_check_destination() refuses it, and it would end a header value early. */
static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return true;
    return false;
}

static void put_sep(sink *s, bool *first)
{
    sink_putc(s, *first ? '?' : '&');
    *first = false;
}

int url_build_location(char *out, size_t outlen, const char *dest, const url_param *utm,
                       size_t nutm, const url_param *fwd, size_t nfwd, const char *jclid)
{
    sink s;
    if (!sink_init(&s, out, outlen))
        return -1;
    if (dest == NULL || has_control(dest)) {
        s.overflow = true;
        return sink_finish(&s);
    }

    const char *frag = strchr(dest, '#');
    const char *dend = frag ? frag : dest + strlen(dest);
    const char *qmark = memchr(dest, '?', (size_t)(dend - dest));
    const char *base_end = qmark ? qmark : dend;
    const char *q = qmark ? qmark + 1 : dend;
    bool first = true;

    sink_put(&s, dest, (size_t)(base_end - dest));

    for (const char *p = q; p < dend;) {
        const char *amp = memchr(p, '&', (size_t)(dend - p));
        const char *segend = amp ? amp : dend;
        const char *eq = memchr(p, '=', (size_t)(segend - p));
        size_t keylen = (size_t)((eq ? eq : segend) - p);
        if (segend > p && !key_eq(p, keylen, CLICK_ID_KEY) && !in_params(p, keylen, fwd, nfwd)) {
            put_sep(&s, &first);
            sink_put(&s, p, (size_t)(segend - p));
        }
        p = segend + 1;
    }

    for (size_t i = 0; i < nutm; i++) {
        const char *k = utm[i].key, *v = utm[i].value;
        if (k == NULL || k[0] == '\0' || v == NULL || v[0] == '\0' ||
            strcmp(k, CLICK_ID_KEY) == 0 || in_query(q, dend, k) ||
            in_params(k, strlen(k), fwd, nfwd))
            continue;
        put_sep(&s, &first);
        sink_encode(&s, k);
        sink_putc(&s, '=');
        sink_encode(&s, v);
    }

    for (size_t i = 0; i < nfwd; i++) {
        const char *k = fwd[i].key, *v = fwd[i].value;
        if (k == NULL || k[0] == '\0' || strcmp(k, CLICK_ID_KEY) == 0)
            continue;
        put_sep(&s, &first);
        sink_encode(&s, k);
        sink_putc(&s, '=');
        sink_encode(&s, v != NULL ? v : "");
    }

    if (jclid != NULL && jclid[0] != '\0') {
        put_sep(&s, &first);
        sink_put(&s, CLICK_ID_KEY "=", sizeof(CLICK_ID_KEY "=") - 1);
        sink_encode(&s, jclid);
    }

    if (frag != NULL)
        sink_put(&s, frag, strlen(frag));
    return sink_finish(&s);
}
