/*
 * fuzz_ua.c: the per-click header readers: ua_classify (tracker/ua.c), the Referer,
 * Accept-Language and Cookie readers (tracker/headers.c) and the address codecs
 * (tracker/ip.c).
 *
 * Input: byte 0 sets the output buffer size (1..256) for the header readers; the rest is
 * split at '\n' into User-Agent, Referer, Accept-Language, Cookie header, cookie name, and
 * an address or CIDR text.
 * Properties: ua_classify returns one of the four classes; header outputs are
 * NUL-terminated within outlen, the returned length is strlen(out), and the text uses only
 * the documented characters; ip_format(ip_parse(x)) parses back to the same address (also
 * after ip_anonymize); a parsed CIDR has no host bits and contains its own network.
 */
#include "tests/fuzz/fuzz.h"

#include "tracker/headers.h"
#include "tracker/ip.h"
#include "tracker/ua.h"

static void check_ip(const char *s)
{
    ip_addr a, b;
    char text[IP_TEXT_MAX];
    if (ip_parse(s, &a) == 0) {
        FUZZ_CHECK(a.family == 4 || a.family == 6);
        FUZZ_CHECK(ip_format(&a, text, sizeof text) == 0);
        FUZZ_CHECK(ip_parse(text, &b) == 0 && memcmp(&a, &b, sizeof a) == 0);
        ip_anonymize(&a);
        FUZZ_CHECK(ip_format(&a, text, sizeof text) == 0);
        FUZZ_CHECK(ip_parse(text, &b) == 0 && memcmp(&a, &b, sizeof a) == 0);
        /* Too small a buffer: -1 and "". */
        FUZZ_CHECK(ip_format(&a, text, 2) == -1 && text[0] == '\0');
    } else {
        FUZZ_CHECK(a.family == 0);
    }
    ip_cidr c;
    if (ip_cidr_parse(s, &c) == 0) {
        unsigned max = c.net.family == 4 ? 32 : 128;
        FUZZ_CHECK(c.net.family == 4 || c.net.family == 6);
        FUZZ_CHECK(c.prefix <= max);
        for (unsigned bit = c.prefix; bit < 128; bit++)
            FUZZ_CHECK(!(c.net.addr[bit / 8] & (0x80 >> (bit % 8))));
        FUZZ_CHECK(ip_cidr_match(&c, &c.net));
        FUZZ_CHECK(ip_format(&c.net, text, sizeof text) == 0);
    }
}

static int host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

static int lang_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 3 * HDR_SCAN_MAX)
        return 0;
    size_t outlen = (size_t)data[0] + 1;
    const uint8_t *p = data + 1, *end = data + size;
    char *part[6];
    for (int i = 0; i < 6; i++) {
        size_t n;
        const uint8_t *s = fuzz_next(&p, end, '\n', &n);
        part[i] = fuzz_strndup(s, n);
    }

    ua_class k = ua_classify(part[0]);
    FUZZ_CHECK(k == UA_DESKTOP || k == UA_MOBILE || k == UA_TABLET || k == UA_BOT);
    FUZZ_CHECK(strcmp(ua_class_name(k), "unknown") != 0);

    char *out = malloc(outlen); /* exact size: ASan sees a write past outlen */
    size_t n = hdr_referrer_host(part[1], out, outlen);
    FUZZ_CHECK(fuzz_terminated(out, outlen) && n == strlen(out) && n <= HDR_HOST_MAX);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(host_char(out[i]));

    n = hdr_first_language(part[2], out, outlen);
    FUZZ_CHECK(fuzz_terminated(out, outlen) && n == strlen(out) && n <= HDR_LANGUAGE_MAX);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(lang_char(out[i]));

    int c = hdr_cookie(part[3], part[4], out, outlen);
    FUZZ_CHECK(fuzz_terminated(out, outlen));
    FUZZ_CHECK(c == -1 ? out[0] == '\0' : (size_t)c == strlen(out) && (size_t)c < outlen);
    if (c >= 0)
        FUZZ_CHECK(strstr(part[3], out) != NULL);

    check_ip(part[5]);
    check_ip(part[0]);
    free(out);
    for (int i = 0; i < 6; i++)
        free(part[i]);
    return 0;
}
