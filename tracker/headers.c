/* headers: parsers for Referer, Accept-Language and Cookie values, run on every click.
 *
 * Each works on a bounded prefix of the header (HDR_SCAN_MAX) in one forward pass and
 * writes only into the caller's buffer. They refuse rather than repair: a value that does
 * not look exactly as expected becomes "" (or -1), never a partial string.
 */
#include "tracker/headers.h"

#include <stdbool.h>
#include <string.h>

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool has_prefix_ci(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != prefix[i])
            return false;
    return true;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static size_t empty(char *out, size_t outlen)
{
    if (out != NULL && outlen > 0)
        out[0] = '\0';
    return 0;
}

size_t hdr_referrer_host(const char *referer, char *out, size_t outlen)
{
    empty(out, outlen);
    if (referer == NULL || out == NULL || outlen == 0)
        return 0;
    size_t len = strnlen(referer, HDR_SCAN_MAX);

    size_t skip;
    if (has_prefix_ci(referer, len, "http://"))
        skip = 7;
    else if (has_prefix_ci(referer, len, "https://"))
        skip = 8;
    else if (has_prefix_ci(referer, len, "android-app://"))
        skip = 14;
    else
        return 0;

    const char *auth = referer + skip;
    size_t alen = 0;
    while (skip + alen < len && !strchr("/?#", auth[alen]))
        alen++;
    /* Userinfo ends at the last '@' of the authority. */
    const char *host = auth;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            host = auth + i + 1;
    size_t hlen = alen - (size_t)(host - auth);
    const char *colon = memchr(host, ':', hlen);
    if (colon != NULL)
        hlen = (size_t)(colon - host);
    if (hlen == 0 || hlen > HDR_HOST_MAX || hlen > outlen - 1)
        return 0;

    for (size_t i = 0; i < hlen; i++) {
        char c = lower(host[i]);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'))
            return empty(out, outlen);
        out[i] = c;
    }
    out[hlen] = '\0';
    return hlen;
}

size_t hdr_first_language(const char *accept_language, char *out, size_t outlen)
{
    empty(out, outlen);
    if (accept_language == NULL || out == NULL || outlen == 0)
        return 0;
    size_t len = strnlen(accept_language, HDR_SCAN_MAX);
    const char *p = accept_language;
    const char *end = p + len;

    /* The first non-empty list element: RFC 9110 lists may start with empty elements. */
    const char *tag = NULL, *tag_end = NULL;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *elem_end = comma ? comma : end;
        const char *semi = memchr(p, ';', (size_t)(elem_end - p));
        const char *s = p, *e = semi ? semi : elem_end;
        while (s < e && is_ows(*s))
            s++;
        while (e > s && is_ows(e[-1]))
            e--;
        if (e > s || semi != NULL) {
            tag = s;
            tag_end = e;
            break;
        }
        p = elem_end + 1;
    }
    if (tag == NULL)
        return 0;

    size_t n = (size_t)(tag_end - tag);
    if (n == 0 || n > HDR_LANGUAGE_MAX || n > outlen - 1)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = tag[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return empty(out, outlen); /* also refuses "*" */
    }
    memcpy(out, tag, n);
    out[n] = '\0';
    return n;
}

int hdr_cookie(const char *cookie_header, const char *name, char *out, size_t outlen)
{
    empty(out, outlen);
    if (cookie_header == NULL || name == NULL || name[0] == '\0' || out == NULL || outlen == 0)
        return -1;
    size_t namelen = strlen(name);
    size_t len = strnlen(cookie_header, HDR_SCAN_MAX);
    const char *p = cookie_header;
    const char *end = p + len;

    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *pair_end = semi ? semi : end;
        while (p < pair_end && is_ows(*p))
            p++;
        const char *eq = memchr(p, '=', (size_t)(pair_end - p));
        if (eq != NULL && (size_t)(eq - p) == namelen && memcmp(p, name, namelen) == 0) {
            const char *v = eq + 1, *ve = pair_end;
            while (ve > v && is_ows(ve[-1]))
                ve--;
            if (ve - v >= 2 && v[0] == '"' && ve[-1] == '"') {
                v++;
                ve--;
            }
            size_t n = (size_t)(ve - v);
            if (n > outlen - 1 || n > 0x7fffffff)
                return -1;
            memcpy(out, v, n);
            out[n] = '\0';
            return (int)n;
        }
        p = pair_end + 1;
    }
    return -1;
}

/* The end of one list member starting at p: the next comma outside a quoted string. */
static const char *member_end(const char *p, const char *end)
{
    bool quoted = false;
    for (; p < end; p++) {
        if (quoted && *p == '\\' && p + 1 < end)
            p++;
        else if (*p == '"')
            quoted = !quoted;
        else if (!quoted && *p == ',')
            break;
    }
    return p;
}

bool hdr_is_speculative(const char *value)
{
    static const char *const purposes[] = {"prefetch", "prerender", "preview"};
    if (value == NULL)
        return false;
    const char *p = value, *end = value + strnlen(value, HDR_SCAN_MAX);
    while (p < end) {
        const char *m_end = member_end(p, end);
        const char *semi = memchr(p, ';', (size_t)(m_end - p));
        const char *s = p, *e = semi ? semi : m_end;
        while (s < e && is_ows(*s))
            s++;
        while (e > s && is_ows(e[-1]))
            e--;
        size_t n = (size_t)(e - s);
        for (size_t i = 0; i < sizeof(purposes) / sizeof(purposes[0]); i++)
            if (n == strlen(purposes[i]) && has_prefix_ci(s, n, purposes[i]))
                return true;
        p = m_end + 1;
    }
    return false;
}
