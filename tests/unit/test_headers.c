/* Tests of tracker/headers: Referer host, first Accept-Language tag and cookie lookup, with
 * the refusals that keep odd header values out of reports. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tracker/headers.h"

static const char *ref(const char *referer)
{
    static char out[256];
    memset(out, 'x', sizeof out);
    size_t n = hdr_referrer_host(referer, out, sizeof out);
    assert_int_equal(n, strlen(out));
    return out;
}

static void test_referrer_host(void **state)
{
    (void)state;
    assert_string_equal(ref("https://l.instagram.com/?u=https%3A%2F%2Fshop.example"),
                        "l.instagram.com");
    assert_string_equal(ref("https://www.google.com/"), "www.google.com");
    assert_string_equal(ref("http://t.co"), "t.co");
    assert_string_equal(ref("HTTPS://M.Facebook.COM/story.php"), "m.facebook.com");
    assert_string_equal(ref("https://shop.example:8443/path"), "shop.example");
    assert_string_equal(ref("https://user:pw@shop.example:8443/"), "shop.example");
    assert_string_equal(ref("https://a@b@shop.example/"), "shop.example");
    assert_string_equal(ref("https://shop.example?x=1"), "shop.example");
    assert_string_equal(ref("https://shop.example#top"), "shop.example");
    assert_string_equal(ref("https://my_host.example/"), "my_host.example");
    assert_string_equal(ref("android-app://com.instagram.android/"), "com.instagram.android");
    assert_string_equal(ref("android-app://com.google.android.gm"), "com.google.android.gm");
    assert_string_equal(ref("Android-App://org.telegram.messenger/"), "org.telegram.messenger");
    assert_string_equal(ref("http://127.0.0.1:8080/"), "127.0.0.1");
}

static void test_referrer_refusals(void **state)
{
    (void)state;
    static const char *const bad[] = {"",
                                      "shop.example",
                                      "/relative",
                                      "//shop.example/",
                                      "ftp://shop.example/",
                                      "javascript:alert(1)",
                                      "ios-app://123/",
                                      "https://",
                                      "https:///path",
                                      "https://:443/",
                                      "https://user@/",
                                      "https://[2001:db8::1]/",
                                      "https://sh op.example/",
                                      "https://shop\r\n.example/",
                                      "https://caf\xc3\xa9.example/",
                                      "https://shop%2eexample/",
                                      "https://shop.example\\evil/",
                                      "https://<script>/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (strcmp(ref(bad[i]), "") != 0)
            fail_msg("\"%s\" gave host \"%s\"", bad[i], ref(bad[i]));
    char out[4] = "abc";
    assert_int_equal(hdr_referrer_host(NULL, out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(hdr_referrer_host("https://a.example/", NULL, 10), 0);
    assert_int_equal(hdr_referrer_host("https://a.example/", out, 0), 0);
}

static void test_referrer_caps(void **state)
{
    (void)state;
    char out[8];
    assert_int_equal(hdr_referrer_host("https://abcdefg/", out, sizeof out), 7);
    assert_string_equal(out, "abcdefg");
    /* Too long for out: "", never a truncated host. */
    assert_int_equal(hdr_referrer_host("https://abcdefgh/", out, sizeof out), 0);
    assert_string_equal(out, "");

    static char longref[512];
    static char big[512];
    strcpy(longref, "https://");
    memset(longref + 8, 'a', HDR_HOST_MAX);
    strcpy(longref + 8 + HDR_HOST_MAX, "/x");
    assert_int_equal(hdr_referrer_host(longref, big, sizeof big), HDR_HOST_MAX);
    memset(longref + 8, 'a', HDR_HOST_MAX + 1);
    strcpy(longref + 8 + HDR_HOST_MAX + 1, "/x");
    assert_int_equal(hdr_referrer_host(longref, big, sizeof big), 0);
    assert_string_equal(big, "");
}

static const char *lang(const char *al)
{
    static char out[64];
    memset(out, 'x', sizeof out);
    size_t n = hdr_first_language(al, out, sizeof out);
    assert_int_equal(n, strlen(out));
    return out;
}

static void test_first_language(void **state)
{
    (void)state;
    assert_string_equal(lang("id-ID,id;q=0.9,en;q=0.8"), "id-ID");
    assert_string_equal(lang("en-US"), "en-US");
    assert_string_equal(lang("en"), "en");
    assert_string_equal(lang("de;q=0.7, en"), "de");
    assert_string_equal(lang("  fr-CA , fr;q=0.9"), "fr-CA");
    assert_string_equal(lang("\tpt-BR\t;q=1"), "pt-BR");
    assert_string_equal(lang(", , ja-JP,en"), "ja-JP");
    assert_string_equal(lang("zh-Hant-TW"), "zh-Hant-TW");
    assert_string_equal(lang("es-419,es;q=0.9"), "es-419");
    assert_string_equal(lang("*"), "");
    assert_string_equal(lang("*;q=0.5, en"), "");
    assert_string_equal(lang(""), "");
    assert_string_equal(lang("   "), "");
    assert_string_equal(lang(";q=0.5,en"), "");
    assert_string_equal(lang("en_US"), "");
    assert_string_equal(lang("en US"), "");
    assert_string_equal(lang("<script>"), "");
    assert_string_equal(lang("fran\xc3\xa7"
                             "ais"),
                        "");
    assert_string_equal(lang("en\r\nX-Injected: 1"), "");
    /* 35 characters are accepted, 36 are not. */
    assert_string_equal(lang("a2345678-b2345678-c2345678-d2345678"),
                        "a2345678-b2345678-c2345678-d2345678");
    assert_string_equal(lang("a2345678-b2345678-c2345678-d23456789"), "");
    char out[6] = "xxxxx";
    assert_int_equal(hdr_first_language("id-ID", out, sizeof out), 5);
    assert_string_equal(out, "id-ID");
    assert_int_equal(hdr_first_language("en-GB", out, 5), 0);
    assert_string_equal(out, "");
    assert_int_equal(hdr_first_language(NULL, out, sizeof out), 0);
    assert_int_equal(hdr_first_language("en", NULL, 4), 0);
    assert_int_equal(hdr_first_language("en", out, 0), 0);
}

static void test_cookie(void **state)
{
    (void)state;
    char out[64];
    const char *h = "a=1; jv=XYZ; b=2";
    assert_int_equal(hdr_cookie(h, "jv", out, sizeof out), 3);
    assert_string_equal(out, "XYZ");
    assert_int_equal(hdr_cookie(h, "a", out, sizeof out), 1);
    assert_string_equal(out, "1");
    assert_int_equal(hdr_cookie(h, "b", out, sizeof out), 1);
    assert_string_equal(out, "2");
    assert_int_equal(hdr_cookie("jv=first; jv=second", "jv", out, sizeof out), 5);
    assert_string_equal(out, "first");
    assert_int_equal(hdr_cookie("xjv=1; jvx=2; jv=3", "jv", out, sizeof out), 1);
    assert_string_equal(out, "3");
    assert_int_equal(hdr_cookie("a=1;jv=tight;b=2", "jv", out, sizeof out), 5);
    assert_string_equal(out, "tight");
    assert_int_equal(hdr_cookie("jv=\"quoted\"; a=1", "jv", out, sizeof out), 6);
    assert_string_equal(out, "quoted");
    assert_int_equal(hdr_cookie("jv=; a=1", "jv", out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(hdr_cookie("jv=a=b", "jv", out, sizeof out), 3);
    assert_string_equal(out, "a=b");
    assert_int_equal(hdr_cookie("jv=v  ;  a=1", "jv", out, sizeof out), 1);
    assert_string_equal(out, "v");
    assert_int_equal(hdr_cookie("a=1;  \tjv=tab", "jv", out, sizeof out), 3);
    assert_string_equal(out, "tab");

    assert_int_equal(hdr_cookie(h, "c", out, sizeof out), -1);
    assert_string_equal(out, "");
    assert_int_equal(hdr_cookie(h, "J", out, sizeof out), -1);
    assert_int_equal(hdr_cookie(h, "JV", out, sizeof out), -1); /* names are case-sensitive */
    assert_int_equal(hdr_cookie("jv", "jv", out, sizeof out), -1);
    assert_int_equal(hdr_cookie("", "jv", out, sizeof out), -1);
    assert_int_equal(hdr_cookie(";;;", "jv", out, sizeof out), -1);
    assert_int_equal(hdr_cookie("a=1; jv =2", "jv", out, sizeof out), -1);
    assert_int_equal(hdr_cookie(NULL, "jv", out, sizeof out), -1);
    assert_int_equal(hdr_cookie(h, NULL, out, sizeof out), -1);
    assert_int_equal(hdr_cookie(h, "", out, sizeof out), -1);
    assert_int_equal(hdr_cookie(h, "jv", NULL, 10), -1);
    assert_int_equal(hdr_cookie(h, "jv", out, 0), -1);
}

static void test_cookie_space(void **state)
{
    (void)state;
    char out[4];
    assert_int_equal(hdr_cookie("jv=XYZ", "jv", out, sizeof out), 3);
    assert_string_equal(out, "XYZ");
    assert_int_equal(hdr_cookie("jv=WXYZ", "jv", out, sizeof out), -1);
    assert_string_equal(out, "");

    /* Only the first HDR_SCAN_MAX bytes are read. */
    static char h[HDR_SCAN_MAX + 64];
    memset(h, 'x', sizeof h - 1);
    memcpy(h, "a=", 2);
    memcpy(h + HDR_SCAN_MAX + 10, "; jv=1", 6);
    assert_int_equal(hdr_cookie(h, "jv", out, sizeof out), -1);
    memcpy(h + HDR_SCAN_MAX - 6, "; jv=1", 6);
    assert_int_equal(hdr_cookie(h, "jv", out, sizeof out), 1);
    assert_string_equal(out, "1");
}

static void test_speculative(void **state)
{
    (void)state;
    /* Sec-Purpose (a structured-field list), Purpose, X-Purpose and X-Moz values. */
    static const char *const yes[] = {"prefetch",
                                      "prefetch;anonymous-client-ip",
                                      "prefetch;prerender",
                                      "prerender",
                                      "preview",
                                      "Preview",
                                      "PREFETCH",
                                      " prefetch ",
                                      "\tprefetch\t",
                                      "prefetch ; anonymous-client-ip",
                                      "prefetch;a=1;b=\"x,y\"",
                                      "foo, prefetch",
                                      "foo;q=1,preview",
                                      ",prefetch"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        if (!hdr_is_speculative(yes[i]))
            fail_msg("not speculative: '%s'", yes[i]);
    static const char *const no[] = {"",
                                     " ",
                                     "prefetchx",
                                     "xprefetch",
                                     "pre fetch",
                                     "\"prefetch\"",
                                     "foo;prefetch",
                                     "foo;x=prefetch",
                                     "foo;b=\"x, prefetch\"",
                                     "foo;b=\"x\\\", prefetch\"",
                                     "instant",
                                     "prefetch-free",
                                     "pre\x00fetch",
                                     "navigate"};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (hdr_is_speculative(no[i]))
            fail_msg("speculative: '%s'", no[i]);
    assert_false(hdr_is_speculative(NULL));
    /* Only the first HDR_SCAN_MAX bytes are read. */
    static char longv[HDR_SCAN_MAX + 64];
    memset(longv, 'a', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    memcpy(longv + sizeof(longv) - 10, ",prefetch", 9);
    assert_false(hdr_is_speculative(longv));
    memcpy(longv, "prefetch,", 9);
    assert_true(hdr_is_speculative(longv));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_referrer_host), cmocka_unit_test(test_referrer_refusals),
        cmocka_unit_test(test_referrer_caps), cmocka_unit_test(test_first_language),
        cmocka_unit_test(test_cookie),        cmocka_unit_test(test_cookie_space),
        cmocka_unit_test(test_speculative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
