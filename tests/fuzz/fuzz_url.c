/*
 * fuzz_url.c: destination checks and Location building (tracker/url.c).
 *
 * The input is split at '\n': the first line is a destination, every further line a
 * forwarded "key=value" parameter (at most 32, the HTTP layer's kind of cap).
 * Properties:
 *  - when url_check_destination accepts dest, url_build_location's output (when >= 0) has
 *    exactly the returned length, holds no byte <= 0x20 or 0x7f, and starts with dest's
 *    scheme and authority; with a short buffer it fails cleanly ("" and -1);
 *  - the builder never emits a control byte, whatever dest it is given;
 *  - url_encode's output is only unreserved characters and %XX (uppercase hex), and
 *    decodes back to its input.
 */
#include "tests/fuzz/fuzz.h"

#include "tracker/url.h"

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void check_clean(const char *out, int r)
{
    FUZZ_CHECK((size_t)r == strlen(out));
    for (const unsigned char *p = (const unsigned char *)out; *p; p++)
        FUZZ_CHECK(*p > 0x20 && *p != 0x7f);
}

static void check_encode(const char *s)
{
    size_t slen = strlen(s), need = 3 * slen + 1;
    char *out = malloc(need);
    int r = url_encode(out, need, s);
    FUZZ_CHECK(r >= 0 && (size_t)r == strlen(out));
    char *back = malloc(slen + 1);
    size_t b = 0;
    for (const char *p = out; *p;) {
        if (*p == '%') {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            FUZZ_CHECK(hi >= 0 && lo >= 0);
            back[b++] = (char)(hi << 4 | lo);
            p += 3;
        } else {
            FUZZ_CHECK(unreserved((unsigned char)*p));
            back[b++] = *p++;
        }
        FUZZ_CHECK(b <= slen);
    }
    back[b] = '\0';
    FUZZ_CHECK(strcmp(back, s) == 0);
    /* One byte short: refused, and out is "". */
    if (need > 1) {
        r = url_encode(out, (size_t)r, s);
        FUZZ_CHECK(r == -1 && out[0] == '\0');
    }
    free(back);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 3 * URL_DEST_MAX)
        return 0;
    const uint8_t *p = data, *end = data + size;
    size_t n;
    const uint8_t *d = fuzz_next(&p, end, '\n', &n);
    char *dest = fuzz_strndup(d, n);

    enum { NFWD = 32 };
    char *lines[NFWD];
    url_param fwd[NFWD];
    size_t nfwd = 0;
    while (p < end && nfwd < NFWD) {
        const uint8_t *l = fuzz_next(&p, end, '\n', &n);
        lines[nfwd] = fuzz_strndup(l, n);
        char *eq = strchr(lines[nfwd], '=');
        if (eq)
            *eq = '\0';
        fwd[nfwd].key = lines[nfwd];
        fwd[nfwd].value = eq ? eq + 1 : NULL;
        nfwd++;
    }
    static const url_param utm[] = {{"utm_source", "instagram"},
                                    {"utm_medium", "influencer"},
                                    {"utm_campaign", "harbolnas 12.12"},
                                    {"utm_content", ""},
                                    {"utm_term", NULL},
                                    {"jclid", "spoof"}};
    const char *jclid = size % 2 ? "01JD8X3T9YB6K2ZQ4WVN7RH5EM" : NULL;

    char err[256];
    char *out = malloc(URL_LOCATION_MAX);
    int ok = url_check_destination(dest, err, sizeof err);
    FUZZ_CHECK(ok == 0 || ok == -1);
    FUZZ_CHECK(fuzz_terminated(err, sizeof err));
    FUZZ_CHECK(ok == 0 ? err[0] == '\0' : err[0] != '\0');
    int r = url_build_location(out, URL_LOCATION_MAX, dest, utm, sizeof utm / sizeof utm[0], fwd,
                               nfwd, jclid);
    if (r >= 0) {
        check_clean(out, r);
    } else {
        FUZZ_CHECK(r == -1 && out[0] == '\0');
    }
    if (ok == 0) {
        FUZZ_CHECK(strlen(dest) <= URL_DEST_MAX);
        const char *auth = strstr(dest, "://");
        FUZZ_CHECK(auth != NULL);
        size_t prefix = (size_t)(auth + 3 - dest) + strcspn(auth + 3, "/?#");
        if (r >= 0) {
            FUZZ_CHECK((size_t)r >= prefix && memcmp(out, dest, prefix) == 0);
            FUZZ_CHECK(out[prefix] == '\0' || strchr("/?#", out[prefix]));
            /* Too short by one byte: refused cleanly. */
            int r2 = url_build_location(out, (size_t)r, dest, utm, sizeof utm / sizeof utm[0], fwd,
                                        nfwd, jclid);
            FUZZ_CHECK(r2 == -1 && out[0] == '\0');
        }
    }
    check_encode(dest);
    for (size_t i = 0; i < nfwd; i++) {
        check_encode(lines[i]);
        free(lines[i]);
    }
    free(out);
    free(dest);
    return 0;
}
