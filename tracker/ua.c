/* ua: User-Agent classification, run on every click.
 *
 * One pass lowercases the head of the User-Agent into a stack buffer, then fixed tokens are
 * searched with memmem: no allocation, no regular expressions. Bot tokens are checked first,
 * because many previews and crawlers imitate a phone (Googlebot smartphone is "Android ...
 * Mobile"). The generic word "bot" is the one token needing care: phone brand Cubot
 * ("CUBOT P30", "Cubot_Note_20") contains it, so it counts only at the start of a word
 * ("/bot.html", "Some-Bot") or at the end of a product name ("Foobot/1.0", "Foobot;").
 */
#include "tracker/ua.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Lowercase, matched as substrings. Kept as literals so their lengths are compile-time. */
#define TOK(s)                                                                                     \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }
typedef struct {
    const char *s;
    size_t n;
} token;

static const token bot_tokens[] = {
    /* link previews of messengers and social networks */
    TOK("facebookexternalhit"),
    TOK("facebookcatalog"),
    TOK("meta-externalagent"),
    TOK("twitterbot"),
    TOK("slackbot"),
    TOK("slack-imgproxy"),
    TOK("whatsapp"),
    TOK("telegrambot"),
    TOK("linkedinbot"),
    TOK("discordbot"),
    TOK("pinterestbot"),
    TOK("redditbot"),
    TOK("skypeuripreview"),
    TOK("embedly"),
    TOK("iframely"),
    TOK("vkshare"),
    TOK("snap url preview"),
    TOK("viber"),
    /* search engines and ad checkers */
    TOK("googlebot"),
    TOK("google-inspectiontool"),
    TOK("adsbot-google"),
    TOK("apis-google"),
    TOK("mediapartners-google"),
    TOK("bingbot"),
    TOK("bingpreview"),
    TOK("msnbot"),
    TOK("yandexbot"),
    TOK("baiduspider"),
    TOK("duckduckbot"),
    TOK("applebot"),
    TOK("yahoo! slurp"),
    TOK("petalbot"),
    /* SEO and AI crawlers */
    TOK("semrushbot"),
    TOK("ahrefsbot"),
    TOK("mj12bot"),
    TOK("dotbot"),
    TOK("gptbot"),
    TOK("chatgpt-user"),
    TOK("claudebot"),
    TOK("perplexitybot"),
    TOK("ccbot"),
    TOK("bytespider"),
    /* automation and HTTP libraries; okhttp is left out: real Android apps use it */
    TOK("headlesschrome"),
    TOK("phantomjs"),
    TOK("curl/"),
    TOK("wget/"),
    TOK("python-requests"),
    TOK("python-urllib"),
    TOK("aiohttp"),
    TOK("go-http-client"),
    TOK("java/"),
    TOK("libwww-perl"),
    TOK("apache-httpclient"),
    TOK("axios/"),
    TOK("node-fetch"),
    TOK("scrapy"),
    /* generic words; "crawl" also covers "crawler" */
    TOK("crawl"),
    TOK("spider"),
    TOK("preview"),
    TOK("fetcher"),
    TOK("monitor"),
};

static const token tablet_tokens[] = {
    TOK("kindle"),  TOK("silk"),    TOK("playbook"), TOK("tablet"),
    TOK("nexus 7"), TOK("nexus 9"), TOK("nexus 10"),
};

static const token mobile_tokens[] = {
    TOK("mobi"),
    TOK("opera mini"),
    TOK("blackberry"),
};

static bool has(const char *buf, size_t len, const char *tok, size_t toklen)
{
    return memmem(buf, len, tok, toklen) != NULL;
}

static bool has_any(const char *buf, size_t len, const token *toks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (has(buf, len, toks[i].s, toks[i].n))
            return true;
    return false;
}

/* The bot list is long and runs on every click: rather than one memmem per token, one pass
 * over the User-Agent tries, at each byte, only the tokens that start with that byte. */
enum { NBOT = sizeof bot_tokens / sizeof bot_tokens[0], PER_BYTE = 16 };
static uint8_t by_first[256][PER_BYTE]; /* token index + 1; 0 ends the list */
static pthread_once_t by_first_once = PTHREAD_ONCE_INIT;

static void index_bots(void)
{
    for (size_t i = 0; i < NBOT; i++) {
        uint8_t *slot = by_first[(unsigned char)bot_tokens[i].s[0]];
        for (int k = 0; k < PER_BYTE - 1; k++)
            if (!slot[k]) {
                slot[k] = (uint8_t)(i + 1);
                break;
            }
    }
}

static bool has_bot_token(const char *buf, size_t len)
{
    pthread_once(&by_first_once, index_bots);
    for (size_t at = 0; at < len; at++) {
        const uint8_t *slot = by_first[(unsigned char)buf[at]];
        for (int k = 0; slot[k]; k++) {
            const token *t = &bot_tokens[slot[k] - 1];
            if (t->n <= len - at && !memcmp(buf + at, t->s, t->n))
                return true;
        }
    }
    return false;
}

static bool is_letter(char c)
{
    return c >= 'a' && c <= 'z';
}

/* The word "bot" at the start of a word, or ending a product name before '/', ';' or ')'
 * or the end of the string; never the tail of "cubot". */
static bool has_bot_word(const char *buf, size_t len)
{
    const char *p = buf;
    const char *end = buf + len;
    while ((p = memmem(p, (size_t)(end - p), "bot", 3)) != NULL) {
        size_t at = (size_t)(p - buf);
        char next = at + 3 < len ? buf[at + 3] : '\0';
        bool word_start = at == 0 || !is_letter(buf[at - 1]);
        bool cubot = at >= 2 && buf[at - 2] == 'c' && buf[at - 1] == 'u';
        bool name_end = next == '\0' || next == '/' || next == ';' || next == ')';
        if (word_start || (name_end && !cubot))
            return true;
        p += 3;
    }
    return false;
}

ua_class ua_classify(const char *ua)
{
    if (ua == NULL || ua[0] == '\0')
        return UA_BOT;

    char buf[UA_SCAN_MAX];
    size_t len = 0;
    for (; len < sizeof buf && ua[len] != '\0'; len++) {
        char c = ua[len];
        buf[len] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }

    if (has_bot_token(buf, len) || has_bot_word(buf, len))
        return UA_BOT;

    /* Windows Phone also claims "Android" and "iPhone"; the iPad check precedes "Mobile"
     * because iPad Safari says "Mobile/15E148". */
    if (has(buf, len, "windows phone", 13) || has(buf, len, "iemobile", 8))
        return UA_MOBILE;
    if (has(buf, len, "ipad", 4))
        return UA_TABLET;
    if (has(buf, len, "iphone", 6) || has(buf, len, "ipod", 4))
        return UA_MOBILE;
    if (has_any(buf, len, tablet_tokens, sizeof tablet_tokens / sizeof tablet_tokens[0]))
        return UA_TABLET;
    if (has(buf, len, "android", 7))
        return has(buf, len, "mobile", 6) ? UA_MOBILE : UA_TABLET;
    if (has_any(buf, len, mobile_tokens, sizeof mobile_tokens / sizeof mobile_tokens[0]))
        return UA_MOBILE;
    return UA_DESKTOP;
}

const char *ua_class_name(ua_class c)
{
    switch (c) {
    case UA_DESKTOP:
        return "desktop";
    case UA_MOBILE:
        return "mobile";
    case UA_TABLET:
        return "tablet";
    case UA_BOT:
        return "bot";
    }
    return "unknown";
}
