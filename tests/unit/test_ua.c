/* Tests of tracker/ua: real User-Agent strings of browsers, in-app browsers, link-preview
 * fetchers and crawlers, each with the class jejak must give it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "tracker/ua.h"

typedef struct {
    const char *ua;
    ua_class want;
} ua_case;

static void check_cases(const ua_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ua_class got = ua_classify(cases[i].ua);
        if (got != cases[i].want)
            fail_msg("\"%s\": got %s, want %s", cases[i].ua, ua_class_name(got),
                     ua_class_name(cases[i].want));
    }
}

#define CHECK(cases) check_cases(cases, sizeof cases / sizeof cases[0])

static void test_browsers(void **state)
{
    (void)state;
    static const ua_case cases[] = {
        /* iPhone Safari */
        {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
         "like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
         UA_MOBILE},
        /* iPhone Chrome */
        {"Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
         "like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
         UA_MOBILE},
        /* iPod touch */
        {"Mozilla/5.0 (iPod touch; CPU iPhone OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1",
         UA_MOBILE},
        /* Android Chrome mobile */
        {"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/124.0.0.0 Mobile Safari/537.36",
         UA_MOBILE},
        /* Samsung Internet on a Galaxy phone */
        {"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A546E) AppleWebKit/537.36 (KHTML, like "
         "Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
         UA_MOBILE},
        /* Firefox on an Android phone and tablet */
        {"Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0", UA_MOBILE},
        {"Mozilla/5.0 (Android 14; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0", UA_TABLET},
        /* Samsung Galaxy Tab, Chrome and Samsung Internet */
        {"Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/124.0.0.0 Safari/537.36",
         UA_TABLET},
        {"Mozilla/5.0 (Linux; Android 12; SAMSUNG SM-T505) AppleWebKit/537.36 (KHTML, like "
         "Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36",
         UA_TABLET},
        /* iPad (older iPadOS, or "request mobile site") */
        {"Mozilla/5.0 (iPad; CPU OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
         "Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
         UA_TABLET},
        /* Kindle Fire Silk, Nexus 7, PlayBook */
        {"Mozilla/5.0 (Linux; Android 9; KFMAWI Build/PS7326.3183N) AppleWebKit/537.36 (KHTML, "
         "like Gecko) Silk/121.3.1 like Chrome/121.0.6167.101 Safari/537.36",
         UA_TABLET},
        {"Mozilla/5.0 (X11; U; Linux armv7l like Android; en-us) AppleWebKit/531.2+ (KHTML, "
         "like Gecko) Version/5.0 Safari/533.2+ Kindle/3.0+",
         UA_TABLET},
        {"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 7 Build/MOB30X) AppleWebKit/537.36 (KHTML, "
         "like Gecko) Chrome/61.0.3163.98 Mobile Safari/537.36",
         UA_TABLET},
        {"Mozilla/5.0 (PlayBook; U; RIM Tablet OS 2.1.0; en-US) AppleWebKit/536.2+ (KHTML, "
         "like Gecko) Version/7.2.1.0 Safari/536.2+",
         UA_TABLET},
        /* Windows Chrome, Edge, Firefox */
        {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/124.0.0.0 Safari/537.36",
         UA_DESKTOP},
        {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
         UA_DESKTOP},
        {"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
         UA_DESKTOP},
        /* Mac Safari; also what iPadOS 13+ Safari sends */
        {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
         "Gecko) Version/17.4.1 Safari/605.1.15",
         UA_DESKTOP},
        /* Linux Firefox, ChromeOS */
        {"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", UA_DESKTOP},
        {"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
         UA_DESKTOP},
        {"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/124.0.0.0 Safari/537.36",
         UA_DESKTOP},
        /* Old phones */
        {"Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) "
         "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 "
         "Edge/15.15063",
         UA_MOBILE},
        {"Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; "
         "ARM; Touch; NOKIA; Lumia 920)",
         UA_MOBILE},
        {"Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) "
         "Presto/2.5.25 Version/10.54",
         UA_MOBILE},
        {"Mozilla/5.0 (BlackBerry; U; BlackBerry 9900; en) AppleWebKit/534.11+ (KHTML, like "
         "Gecko) Version/7.1.0.346 Mobile Safari/534.11+",
         UA_MOBILE},
        {"Mozilla/5.0 (BB10; Touch) AppleWebKit/537.10+ (KHTML, like Gecko) Version/10.0.9.2372 "
         "Mobile Safari/537.10+",
         UA_MOBILE},
    };
    CHECK(cases);
}

static void test_in_app_browsers(void **state)
{
    (void)state;
    static const ua_case cases[] = {
        /* Instagram on iPhone and Android */
        {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
         "like Gecko) Mobile/15E148 Instagram 327.1.6.30.88 (iPhone14,5; iOS 17_4_1; en_US; "
         "en; scale=3.00; 1170x2532; 587303060)",
         UA_MOBILE},
        {"Mozilla/5.0 (Linux; Android 12; SM-G991B Build/SP1A.210812.016; wv) "
         "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/108.0.5359.128 Mobile "
         "Safari/537.36 Instagram 264.0.0.22.106 Android (31/12; 420dpi; 1080x2176; samsung; "
         "SM-G991B; o1s; exynos2100; en_GB; 430370697)",
         UA_MOBILE},
        /* Instagram on iPad */
        {"Mozilla/5.0 (iPad; CPU OS 16_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Mobile/15E148 Instagram 270.0.0.13.83 (iPad13,1; iPadOS 16_3; en_US; en; scale=2.00; "
         "1640x2360; 445843434)",
         UA_TABLET},
        /* Facebook on iPhone */
        {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
         "like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/450.0.0.38.108;FBBV/564431005;FBDV/"
         "iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.3;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
         UA_MOBILE},
        /* TikTok on Android and iPhone */
        {"Mozilla/5.0 (Linux; Android 13; 2201117TG Build/TKQ1.221114.001; wv) "
         "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile "
         "Safari/537.36 trill_310904 JsSdk/1.0 NetType/WIFI Channel/googleplay "
         "AppName/musical_ly app_version/31.9.4 ByteLocale/id-ID ByteFullLocale/id-ID Region/ID "
         "AppId/1233 Spark/1.4.0.4-bugfix AppVersion/31.9.4 BytedanceWebview/d8a21c6",
         UA_MOBILE},
        {"Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
         "like Gecko) Mobile/15E148 musical_ly_30.8.0 JsSdk/2.0 NetType/WIFI Channel/App Store "
         "ByteLocale/en Region/US isDarkMode/0 WKWebView/1 RevealType/Dialog "
         "BytedanceWebview/d8a21c6 FalconTag/",
         UA_MOBILE},
        /* LINE in-app, a human despite "Line" */
        {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
         "like Gecko) Mobile/15E148 Safari Line/13.20.0",
         UA_MOBILE},
    };
    CHECK(cases);
}

static void test_cubot_is_not_a_bot(void **state)
{
    (void)state;
    static const ua_case cases[] = {
        {"Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0.6099.144 Mobile Safari/537.36",
         UA_MOBILE},
        {"Mozilla/5.0 (Linux; Android 8.1.0; CUBOT_P20) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/99.0.4844.88 Mobile Safari/537.36",
         UA_MOBILE},
        {"Mozilla/5.0 (Linux; Android 11; Cubot Note 20 Build/RP1A.200720.011) "
         "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.5735.196 Mobile Safari/537.36",
         UA_MOBILE},
        {"Mozilla/5.0 (Linux; Android 12; CUBOT; TAB 40) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/118.0.0.0 Safari/537.36",
         UA_TABLET},
        {"Mozilla/5.0 (Linux; Android 10; KINGKONG MINI2 Build/QP1A; CUBOT) AppleWebKit/537.36 "
         "(KHTML, like Gecko) Chrome/110.0.0.0 Mobile Safari/537.36",
         UA_MOBILE},
    };
    CHECK(cases);
}

/* Real UAs of the named previewers and crawlers. */
static void test_real_bots(void **state)
{
    (void)state;
    static const ua_case cases[] = {
        {"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", UA_BOT},
        {"WhatsApp/2.23.20.0", UA_BOT},
        {"WhatsApp/2.2407.3 A", UA_BOT},
        {"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", UA_BOT},
        {"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, "
         "like Gecko) Chrome/124.0.6367.118 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
         "+http://www.google.com/bot.html)",
         UA_BOT},
        {"Twitterbot/1.0", UA_BOT},
        {"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", UA_BOT},
        {"TelegramBot (like TwitterBot)", UA_BOT},
        {"LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
         UA_BOT},
        {"Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", UA_BOT},
        {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
         "like Gecko) Version/17.0 Mobile/15E148 Safari/604.1 (compatible; AdsBot-Google-Mobile; "
         "+http://www.google.com/mobile/adsbot.html)",
         UA_BOT},
        {"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
         "+http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
         UA_BOT},
        {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
         "Gecko) Version/17.0 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
         UA_BOT},
        {"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.1; "
         "+https://openai.com/gptbot)",
         UA_BOT},
        {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "HeadlessChrome/124.0.6367.60 Safari/537.36",
         UA_BOT},
        {"Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0.0.0 Mobile Safari/537.36 Snap URL Preview Service; bot; "
         "snapchat_preview",
         UA_BOT},
        {"curl/8.5.0", UA_BOT},
        {"Wget/1.21.4", UA_BOT},
        {"python-requests/2.31.0", UA_BOT},
        {"Go-http-client/2.0", UA_BOT},
        {"Java/17.0.2", UA_BOT},
        /* generic words */
        {"Mozilla/5.0 (compatible; SomeNewBot/1.0; +https://example.com/bot)", UA_BOT},
        {"Foobot", UA_BOT},
        {"Mozilla/5.0 (compatible; foobot; +https://example.com)", UA_BOT},
        {"Mozilla/5.0 (compatible; Bot Framework)", UA_BOT},
        {"acme-bot 3.1", UA_BOT},
        {"NewsCrawler/2", UA_BOT},
        {"Example Web Spider", UA_BOT},
        {"SiteFetcher 1.0", UA_BOT},
        {"Pingdom uptime monitor", UA_BOT},
        {"Mozilla/5.0 (compatible; LinkPreview/3.0)", UA_BOT},
    };
    CHECK(cases);
}

/* Each listed token alone, and inside a phone UA (bots often imitate one). */
static void test_every_bot_token(void **state)
{
    (void)state;
    static const char *const tokens[] = {"facebookexternalhit",
                                         "facebookcatalog",
                                         "meta-externalagent",
                                         "Twitterbot",
                                         "Slackbot",
                                         "Slack-ImgProxy",
                                         "WhatsApp",
                                         "TelegramBot",
                                         "LinkedInBot",
                                         "Discordbot",
                                         "Googlebot",
                                         "Google-InspectionTool",
                                         "AdsBot-Google",
                                         "APIs-Google",
                                         "Mediapartners-Google",
                                         "bingbot",
                                         "BingPreview",
                                         "msnbot",
                                         "YandexBot",
                                         "Baiduspider",
                                         "DuckDuckBot",
                                         "Applebot",
                                         "Pinterestbot",
                                         "redditbot",
                                         "SkypeUriPreview",
                                         "Embedly",
                                         "Iframely",
                                         "vkShare",
                                         "snap url preview",
                                         "Viber",
                                         "Yahoo! Slurp",
                                         "PetalBot",
                                         "SemrushBot",
                                         "AhrefsBot",
                                         "MJ12bot",
                                         "DotBot",
                                         "GPTBot",
                                         "ChatGPT-User",
                                         "ClaudeBot",
                                         "PerplexityBot",
                                         "CCBot",
                                         "Bytespider",
                                         "HeadlessChrome",
                                         "PhantomJS",
                                         "curl/",
                                         "Wget/",
                                         "python-requests",
                                         "python-urllib",
                                         "aiohttp",
                                         "Go-http-client",
                                         "Java/",
                                         "libwww-perl",
                                         "Apache-HttpClient",
                                         "axios/",
                                         "node-fetch",
                                         "Scrapy",
                                         "bot/",
                                         "crawler",
                                         "spider",
                                         "crawl",
                                         "preview",
                                         "fetcher",
                                         "monitor"};
    char buf[600];
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
        if (ua_classify(tokens[i]) != UA_BOT)
            fail_msg("\"%s\" alone is not a bot", tokens[i]);
        /* Case must not matter. */
        size_t n = strlen(tokens[i]);
        for (size_t j = 0; j <= n; j++)
            buf[j] = (char)((tokens[i][j] >= 'a' && tokens[i][j] <= 'z') ? tokens[i][j] - 32
                                                                         : tokens[i][j]);
        if (ua_classify(buf) != UA_BOT)
            fail_msg("\"%s\" is not a bot", buf);
        snprintf(buf, sizeof buf,
                 "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Mobile/15E148 %s",
                 tokens[i]);
        if (ua_classify(buf) != UA_BOT)
            fail_msg("\"%s\" is not a bot", buf);
    }
}

static void test_edges(void **state)
{
    (void)state;
    assert_int_equal(ua_classify(NULL), UA_BOT);
    assert_int_equal(ua_classify(""), UA_BOT);
    assert_int_equal(ua_classify("Mozilla/5.0"), UA_DESKTOP);
    assert_int_equal(ua_classify("bot"), UA_BOT);
    assert_int_equal(ua_classify("robot"), UA_BOT);
    assert_int_equal(ua_classify("cubot"), UA_DESKTOP);
    assert_int_equal(ua_classify("abbot x"), UA_DESKTOP);
    assert_int_equal(ua_classify("Bottle/1.0"), UA_BOT); /* word start: accepted cost */

    /* Only the first UA_SCAN_MAX bytes are read. */
    static char longua[4096];
    memset(longua, 'x', sizeof longua - 1);
    memcpy(longua, "Mozilla/5.0 (iPhone; ", 21);
    memcpy(longua + 3000, "Googlebot", 9);
    assert_int_equal(ua_classify(longua), UA_MOBILE);
    memcpy(longua + UA_SCAN_MAX - 9, "Googlebot", 9);
    assert_int_equal(ua_classify(longua), UA_BOT);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(ua_class_name(UA_DESKTOP), "desktop");
    assert_string_equal(ua_class_name(UA_MOBILE), "mobile");
    assert_string_equal(ua_class_name(UA_TABLET), "tablet");
    assert_string_equal(ua_class_name(UA_BOT), "bot");
    assert_string_equal(ua_class_name((ua_class)42), "unknown");
    assert_int_equal(UA_DESKTOP, 0);
    assert_int_equal(UA_MOBILE, 1);
    assert_int_equal(UA_TABLET, 2);
    assert_int_equal(UA_BOT, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_browsers),
        cmocka_unit_test(test_in_app_browsers),
        cmocka_unit_test(test_cubot_is_not_a_bot),
        cmocka_unit_test(test_real_bots),
        cmocka_unit_test(test_every_bot_token),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
