/* Tests of tracker/url: which destinations are refused and why, percent-encoding, and the
 * exact Location built from destination, link UTM parameters, forwarded query and click id. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tracker/url.h"

static void assert_ok(const char *dest)
{
    char err[256] = "untouched";
    int rc = url_check_destination(dest, err, sizeof err);
    if (rc != 0)
        fail_msg("refused \"%s\": %s", dest, err);
    assert_string_equal(err, "");
}

/* Refused, with a reason containing `why`. */
static void assert_refused(const char *dest, const char *why)
{
    char err[256] = "";
    assert_int_equal(url_check_destination(dest, err, sizeof err), -1);
    if (strstr(err, why) == NULL)
        fail_msg("reason for \"%s\" is \"%s\", expected it to contain \"%s\"", dest, err, why);
}

static void test_check_accepts(void **state)
{
    (void)state;
    assert_ok("https://shop.example");
    assert_ok("https://shop.example/");
    assert_ok("http://shop.example/p?ref=ig#top");
    assert_ok("HTTPS://Shop.Example/Path");
    assert_ok("HtTp://shop.example");
    assert_ok("https://shop.example:8443/x");
    assert_ok("https://shop.example:1");
    assert_ok("https://shop.example:65535/");
    assert_ok("https://shop.example?x=1");
    assert_ok("https://shop.example#frag");
    assert_ok("https://127.0.0.1/");
    assert_ok("https://[2001:db8::1]/");
    assert_ok("https://[2001:db8::1]:8080/a");
    assert_ok("https://[::ffff:1.2.3.4]/");
    assert_ok("https://shop.example/caf%C3%A9?q=a%20b&r=%2f");
    assert_ok("https://shop.example/a@b"); /* '@' after the host is just a path byte */
    assert_ok("https://shop.example/?");
    assert_ok("https://xn--80ak6aa92e.example/");
}

static void test_check_refuses_scheme(void **state)
{
    (void)state;
    const char *scheme = "destination must start with http:// or https://";
    assert_refused("ftp://shop.example/", scheme);
    assert_refused("/relative/path", scheme);
    assert_refused("shop.example/p", scheme);
    assert_refused("//shop.example/p", scheme);
    assert_refused("javascript:alert(1)", scheme);
    assert_refused("JavaScript://shop.example/%0aalert(1)", scheme);
    assert_refused("data:text/html,hi", scheme);
    assert_refused("https:/shop.example", scheme);
    assert_refused("https:shop.example", scheme);
    assert_refused("httpx://shop.example", scheme);
    assert_refused(" https://shop.example", scheme);
    assert_refused("", "destination is empty");
    assert_refused(NULL, "destination is empty");
}

static void test_check_refuses_bytes(void **state)
{
    (void)state;
    const char *ctl = "space or control character";
    assert_refused("https://shop.example/a\r\nSet-Cookie: x=1",
                   "space or control character at byte 22");
    assert_refused("https://shop.example/a\rb", ctl);
    assert_refused("https://shop.example/a\nb", ctl);
    assert_refused("https://shop.example/a b", "space or control character at byte 22");
    assert_refused("https://shop.example/a\tb", ctl);
    assert_refused("https://shop.example/a\x7f", ctl);
    assert_refused("https://shop.example/a\x01", ctl);
    assert_refused("https://shop.ex\nample/", ctl);
    assert_refused("https://shop.example/caf\xc3\xa9",
                   "non-ASCII characters must be percent-encoded");
    assert_refused("https://shop.example/\x80", "non-ASCII byte at byte 21");
    assert_refused("https://shop.example/\xff", "non-ASCII");
    assert_refused("https://shop.example\\@evil.example/", "backslash at byte 20");
    assert_refused("https://shop.example/a\\b", "backslash");
    assert_refused("https://shop.example/%", "'%' not followed by two hex digits at byte 21");
    assert_refused("https://shop.example/%2", "'%' not followed by two hex digits");
    assert_refused("https://shop.example/%zz", "'%' not followed by two hex digits");
    assert_refused("https://shop.example/?q=100%", "'%' not followed by two hex digits");
    assert_refused("https://shop.example/%g1", "'%' not followed by two hex digits");
}

static void test_check_refuses_authority(void **state)
{
    (void)state;
    const char *userinfo = "user name or password";
    assert_refused("https://bank.example@evil.example/", userinfo);
    assert_refused("https://user:pass@shop.example/", userinfo);
    assert_refused("https://@shop.example/", userinfo);
    assert_refused("https:///path", "empty host");
    assert_refused("https://", "empty host");
    assert_refused("https://?q=1", "empty host");
    assert_refused("https://:443/", "empty host");
    const char *port = "port must be a number from 1 to 65535";
    assert_refused("https://shop.example:0/", port);
    assert_refused("https://shop.example:65536/", port);
    assert_refused("https://shop.example:99999999999/", port);
    assert_refused("https://shop.example:/", port);
    assert_refused("https://shop.example:80a/", port);
    assert_refused("https://shop.example:-1/", port);
    assert_refused("https://shop_example.com/", "host may contain only");
    assert_refused("https://shop.example!/", "host may contain only");
    assert_refused("https://shop.%65xample/", "host may contain only");
    assert_refused("https://[2001:db8::1/", "invalid IPv6 host");
    assert_refused("https://[zz::1]/", "invalid IPv6 host");
    assert_refused("https://[]/", "invalid IPv6 host");
    assert_refused("https://[::1]x/", "host may contain only");
    assert_refused("https://[::1]:0/", port);
}

static void test_check_length(void **state)
{
    (void)state;
    static char dest[URL_DEST_MAX + 2];
    const char *prefix = "https://shop.example/";
    size_t plen = strlen(prefix);
    memcpy(dest, prefix, plen);
    memset(dest + plen, 'a', URL_DEST_MAX - plen);
    dest[URL_DEST_MAX] = '\0';
    assert_int_equal(strlen(dest), 2048);
    assert_ok(dest);
    dest[URL_DEST_MAX] = 'a';
    dest[URL_DEST_MAX + 1] = '\0';
    assert_refused(dest, "destination is longer than 2048 bytes");
}

static void test_check_err_buffer(void **state)
{
    (void)state;
    char err[8];
    memset(err, 'x', sizeof err);
    assert_int_equal(url_check_destination("ftp://x", err, sizeof err), -1);
    assert_int_equal(strlen(err), sizeof err - 1); /* truncated, still terminated */
    assert_int_equal(url_check_destination("ftp://x", NULL, 0), -1);
    assert_int_equal(url_check_destination("https://x", NULL, 0), 0);
}

static void test_encode(void **state)
{
    (void)state;
    char out[128];
    assert_int_equal(url_encode(out, sizeof out, "AZaz09-._~"), 10);
    assert_string_equal(out, "AZaz09-._~");
    assert_int_equal(url_encode(out, sizeof out, "story 2"), 9);
    assert_string_equal(out, "story%202");
    assert_int_equal(url_encode(out, sizeof out, ":/?#[]@!$&'()*+,;=%\""), 60);
    assert_string_equal(out, "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%25%22");
    assert_int_equal(url_encode(out, sizeof out, "caf\xc3\xa9 \xe2\x98\x95"), 21);
    assert_string_equal(out, "caf%C3%A9%20%E2%98%95");
    assert_int_equal(url_encode(out, sizeof out, "\r\n\t\x7f"), 12);
    assert_string_equal(out, "%0D%0A%09%7F");
    assert_int_equal(url_encode(out, sizeof out, ""), 0);
    assert_string_equal(out, "");
    assert_int_equal(url_encode(out, sizeof out, NULL), 0);
    assert_string_equal(out, "");
}

static void test_encode_space(void **state)
{
    (void)state;
    char out[4];
    assert_int_equal(url_encode(out, sizeof out, "abc"), 3); /* exactly fits with the NUL */
    assert_string_equal(out, "abc");
    assert_int_equal(url_encode(out, sizeof out, "abcd"), -1);
    assert_string_equal(out, "");
    assert_int_equal(url_encode(out, sizeof out, "a b"), -1); /* "a%20b" needs 6 */
    assert_string_equal(out, "");
    assert_int_equal(url_encode(out, sizeof out, " "), 3);
    assert_string_equal(out, "%20");
    assert_int_equal(url_encode(out, 0, "a"), -1);
    assert_int_equal(url_encode(NULL, 10, "a"), -1);
    char one[1] = {'x'};
    assert_int_equal(url_encode(one, 1, ""), 0);
    assert_int_equal(one[0], '\0');
}

/* Every byte of a Location must be printable ASCII without space. */
static void assert_header_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            fail_msg("byte 0x%02x in Location \"%s\"", *p, s);
}

static char loc[URL_LOCATION_MAX];

static const char *build(const char *dest, const url_param *utm, size_t nutm, const url_param *fwd,
                         size_t nfwd, const char *jclid)
{
    int n = url_build_location(loc, sizeof loc, dest, utm, nutm, fwd, nfwd, jclid);
    assert_true(n >= 0);
    assert_int_equal((size_t)n, strlen(loc));
    assert_header_safe(loc);
    assert_null(strstr(loc, "&&"));
    assert_null(strstr(loc, "?&"));
    return loc;
}

static void test_location_example(void **state)
{
    (void)state;
    const url_param utm[] = {{"utm_source", "instagram"}, {"utm_medium", "influencer"}};
    const url_param fwd[] = {{"utm_content", "story 2"}, {"sub", "a"}};
    assert_string_equal(build("https://shop.example/p?ref=ig#top", utm, 2, fwd, 2, "01ABC"),
                        "https://shop.example/p?ref=ig&utm_source=instagram&utm_medium="
                        "influencer&utm_content=story%202&sub=a&jclid=01ABC#top");
}

static void test_location_dest_utm_wins(void **state)
{
    (void)state;
    const url_param utm[] = {{"utm_source", "instagram"}, {"utm_medium", "social"}};
    assert_string_equal(build("https://shop.example/?utm_source=newsletter", utm, 2, NULL, 0, NULL),
                        "https://shop.example/?utm_source=newsletter&utm_medium=social");
    /* The raw key text is compared: an encoded key is a different key. */
    assert_string_equal(build("https://shop.example/?utm%5Fsource=x", utm, 1, NULL, 0, NULL),
                        "https://shop.example/?utm%5Fsource=x&utm_source=instagram");
    /* A key without '=' still blocks the link's parameter. */
    assert_string_equal(build("https://shop.example/?utm_source", utm, 1, NULL, 0, NULL),
                        "https://shop.example/?utm_source");
}

static void test_location_fwd_replaces(void **state)
{
    (void)state;
    const url_param utm[] = {{"utm_source", "instagram"}, {"utm_campaign", "sale"}};
    const url_param fwd[] = {{"utm_source", "tiktok"}, {"ref", "z"}};
    assert_string_equal(
        build("https://shop.example/p?ref=ig&keep=1&ref=again", utm, 2, fwd, 2, "C1"),
        "https://shop.example/p?keep=1&utm_campaign=sale&utm_source=tiktok&ref=z&jclid=C1");
    /* A forwarded empty value still replaces. */
    const url_param fwd_empty[] = {{"utm_source", ""}};
    assert_string_equal(build("https://shop.example/", utm, 2, fwd_empty, 1, NULL),
                        "https://shop.example/?utm_campaign=sale&utm_source=");
    const url_param fwd_null[] = {{"x", NULL}};
    assert_string_equal(build("https://shop.example/", NULL, 0, fwd_null, 1, NULL),
                        "https://shop.example/?x=");
}

static void test_location_jclid(void **state)
{
    (void)state;
    /* The destination's and the visitor's jclid are dropped: jejak alone sets it. */
    const url_param fwd[] = {{"jclid", "forged"}, {"a", "1"}};
    const url_param utm[] = {{"jclid", "no"}};
    assert_string_equal(build("https://shop.example/?jclid=old&b=2", utm, 1, fwd, 2, "01 Z&"),
                        "https://shop.example/?b=2&a=1&jclid=01%20Z%26");
    assert_string_equal(build("https://shop.example/?jclid=old", NULL, 0, fwd, 1, NULL),
                        "https://shop.example/");
    assert_string_equal(build("https://shop.example/?jclid", NULL, 0, NULL, 0, ""),
                        "https://shop.example/");
    assert_string_equal(build("https://shop.example/?jclidx=1", NULL, 0, NULL, 0, "K"),
                        "https://shop.example/?jclidx=1&jclid=K");
}

static void test_location_encoding(void **state)
{
    (void)state;
    const url_param utm[] = {{"utm_campaign", "Ramadan Sale 50%"},
                             {"utm_term", "kopi\xe2\x98\x95"}};
    const url_param fwd[] = {{"a b", "x&y=z"},
                             {"k\r\nSet-Cookie: s", "v\r\n"},
                             {"#", "?"},
                             {"", "skipped"},
                             {NULL, "skipped"}};
    assert_string_equal(build("https://shop.example/", utm, 2, fwd, 5, NULL),
                        "https://shop.example/?utm_campaign=Ramadan%20Sale%2050%25&utm_term=kopi%"
                        "E2%98%95&a%20b=x%26y%3Dz&k%0D%0ASet-Cookie%3A%20s=v%0D%0A&%23=%3F");
}

static void test_location_skips_empty_utm(void **state)
{
    (void)state;
    const url_param utm[] = {
        {"utm_source", ""}, {"utm_medium", NULL}, {"", "x"}, {NULL, "y"}, {"utm_campaign", "c"}};
    assert_string_equal(build("https://shop.example", utm, 5, NULL, 0, NULL),
                        "https://shop.example?utm_campaign=c");
}

static void test_location_no_params(void **state)
{
    (void)state;
    assert_string_equal(build("https://shop.example", NULL, 0, NULL, 0, NULL),
                        "https://shop.example");
    assert_string_equal(build("https://shop.example/?", NULL, 0, NULL, 0, NULL),
                        "https://shop.example/");
    assert_string_equal(build("https://shop.example/?#f", NULL, 0, NULL, 0, NULL),
                        "https://shop.example/#f");
    assert_string_equal(build("https://shop.example/#", NULL, 0, NULL, 0, NULL),
                        "https://shop.example/#");
    assert_string_equal(build("https://shop.example/?&&", NULL, 0, NULL, 0, NULL),
                        "https://shop.example/");
}

static void test_location_query_edges(void **state)
{
    (void)state;
    assert_string_equal(build("https://a.example/?", NULL, 0, NULL, 0, "J"),
                        "https://a.example/?jclid=J");
    assert_string_equal(build("https://a.example/?&a=1", NULL, 0, NULL, 0, "J"),
                        "https://a.example/?a=1&jclid=J");
    assert_string_equal(build("https://a.example/?a=1&&b=2&", NULL, 0, NULL, 0, NULL),
                        "https://a.example/?a=1&b=2");
    assert_string_equal(build("https://a.example/?flag&x=&=v&y==2", NULL, 0, NULL, 0, "J"),
                        "https://a.example/?flag&x=&=v&y==2&jclid=J");
    /* '?' inside the fragment is part of the fragment. */
    assert_string_equal(build("https://a.example/p#sec?x=1", NULL, 0, NULL, 0, "J"),
                        "https://a.example/p?jclid=J#sec?x=1");
    assert_string_equal(build("https://a.example?q=1#", NULL, 0, NULL, 0, "J"),
                        "https://a.example?q=1&jclid=J#");
    /* Percent escapes in the destination query are kept byte for byte. */
    assert_string_equal(build("https://a.example/?q=a%20b%2B", NULL, 0, NULL, 0, NULL),
                        "https://a.example/?q=a%20b%2B");
    const url_param fwd[] = {{"flag", "1"}};
    assert_string_equal(build("https://a.example/?flag&z", NULL, 0, fwd, 1, NULL),
                        "https://a.example/?z&flag=1");
}

static void test_location_space(void **state)
{
    (void)state;
    const char *dest = "https://shop.example/p?ref=ig#top";
    const url_param utm[] = {{"utm_source", "instagram"}};
    const char *want = "https://shop.example/p?ref=ig&utm_source=instagram&jclid=01ABC#top";
    size_t n = strlen(want);
    char out[128];
    assert_int_equal(url_build_location(out, n + 1, dest, utm, 1, NULL, 0, "01ABC"), (int)n);
    assert_string_equal(out, want);
    for (size_t cap = 0; cap <= n; cap++) {
        memset(out, 'x', sizeof out);
        assert_int_equal(url_build_location(out, cap, dest, utm, 1, NULL, 0, "01ABC"), -1);
        if (cap > 0)
            assert_string_equal(out, "");
    }
    assert_int_equal(url_build_location(NULL, 100, dest, NULL, 0, NULL, 0, NULL), -1);
}

static void test_location_refuses_unchecked_dest(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(
        url_build_location(out, sizeof out, "https://a.example/\r\nX: y", NULL, 0, NULL, 0, NULL),
        -1);
    assert_string_equal(out, "");
    assert_int_equal(
        url_build_location(out, sizeof out, "https://a.example/#a\nb", NULL, 0, NULL, 0, NULL), -1);
    assert_int_equal(url_build_location(out, sizeof out, NULL, NULL, 0, NULL, 0, NULL), -1);
}

static void test_location_long(void **state)
{
    (void)state;
    /* A maximal destination plus forwarded values that cannot fit: -1, never truncated. */
    static char dest[URL_DEST_MAX + 1];
    const char *prefix = "https://shop.example/?a=";
    size_t plen = strlen(prefix);
    memcpy(dest, prefix, plen);
    memset(dest + plen, 'b', URL_DEST_MAX - plen);
    dest[URL_DEST_MAX] = '\0';
    assert_int_equal(url_check_destination(dest, NULL, 0), 0);
    static char big[700];
    memset(big, ' ', sizeof big - 1); /* each space becomes 3 bytes */
    const url_param fwd[] = {{"x", big}};
    char out[URL_LOCATION_MAX];
    assert_int_equal(url_build_location(out, sizeof out, dest, NULL, 0, fwd, 1, "J"), -1);
    big[300] = '\0';
    int n = url_build_location(out, sizeof out, dest, NULL, 0, fwd, 1, "J");
    assert_int_equal(n, 2048 + 3 + 900 + 8);
    assert_header_safe(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_accepts),
        cmocka_unit_test(test_check_refuses_scheme),
        cmocka_unit_test(test_check_refuses_bytes),
        cmocka_unit_test(test_check_refuses_authority),
        cmocka_unit_test(test_check_length),
        cmocka_unit_test(test_check_err_buffer),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_encode_space),
        cmocka_unit_test(test_location_example),
        cmocka_unit_test(test_location_dest_utm_wins),
        cmocka_unit_test(test_location_fwd_replaces),
        cmocka_unit_test(test_location_jclid),
        cmocka_unit_test(test_location_encoding),
        cmocka_unit_test(test_location_skips_empty_utm),
        cmocka_unit_test(test_location_no_params),
        cmocka_unit_test(test_location_query_edges),
        cmocka_unit_test(test_location_space),
        cmocka_unit_test(test_location_refuses_unchecked_dest),
        cmocka_unit_test(test_location_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
