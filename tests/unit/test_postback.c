/*
 * test_postback.c: reading and authenticating conversion callbacks (tracker/postback.c).
 *
 * pb_hmac_hex against RFC 4231; pb_check_signature for a good signature, a missing,
 * malformed or wrong one, the +-300 s window and several v1= entries; pb_from_json and
 * pb_from_pairs for a full body (every conv field), money per currency exponent, defaults,
 * each refused field by name, the GET aliases and token, and occurred_at's bounds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/text.h"
#include "tracker/postback.h"

static const int64_t NOW_MS = 1795000000000LL; /* 2026-11-18T11:06:40Z */
static const int64_t NOW_S = 1795000000LL;
static const char SECRET[] = "3f1c0a9e8b7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170605f4e3";
static const char BODY[] = "{\"shop\":\"toko-a\",\"order_id\":\"INV-1\",\"amount\":\"10.00\","
                           "\"currency\":\"USD\"}";

/* ---- HMAC and signatures --------------------------------------------------------------- */

static void test_hmac_rfc4231_case2(void **state)
{
    (void)state;
    char out[65];
    const char *msg = "what do ya want for nothing?";
    pb_hmac_hex("Jefe", 4, msg, strlen(msg), out);
    assert_string_equal(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

/* The v1 value a shop computes: HMAC-SHA256(secret text, "<t>.<body>"). */
static void sign(long long t, const char *body, char *mac)
{
    char msg[1024];
    int n = snprintf(msg, sizeof(msg), "%lld.%s", t, body);
    pb_hmac_hex(SECRET, strlen(SECRET), msg, (size_t)n, mac);
}

static void header_for(long long t, const char *body, char *header, size_t len)
{
    char mac[65];
    sign(t, body, mac);
    snprintf(header, len, "t=%lld,v1=%s", t, mac);
}

static int check(const char *header, pb_error *err)
{
    return pb_check_signature(header, BODY, strlen(BODY), SECRET, NOW_S, err);
}

static void refused_401(const char *header, const char *why)
{
    pb_error err;
    memset(&err, 0x55, sizeof(err));
    assert_int_equal(check(header, &err), -1);
    assert_int_equal(err.status, 401);
    assert_string_equal(err.field, "signature");
    if (why && !strstr(err.error, why))
        fail_msg("header \"%s\": error \"%s\" lacks \"%s\"", header ? header : "(null)", err.error,
                 why);
}

static void test_signature_good(void **state)
{
    (void)state;
    char h[200];
    pb_error err;
    header_for(NOW_S, BODY, h, sizeof(h));
    assert_int_equal(check(h, &err), 0);
    /* Order of parts and a space after the comma do not matter. */
    char mac[65];
    sign(NOW_S, BODY, mac);
    snprintf(h, sizeof(h), "v1=%s, t=%lld", mac, (long long)NOW_S);
    assert_int_equal(check(h, &err), 0);
}

static void test_signature_missing(void **state)
{
    (void)state;
    refused_401(NULL, "required");
    refused_401("", "required");
}

static void test_signature_malformed(void **state)
{
    (void)state;
    char mac[65], h[300];
    sign(NOW_S, BODY, mac);
    snprintf(h, sizeof(h), "v1=%s", mac); /* no t */
    refused_401(h, "t=<unix seconds>,v1=<hex>");
    snprintf(h, sizeof(h), "t=%lld", (long long)NOW_S); /* no v1 */
    refused_401(h, "t=<unix seconds>,v1=<hex>");
    snprintf(h, sizeof(h), "t=abc,v1=%s", mac);
    refused_401(h, "unix seconds");
    snprintf(h, sizeof(h), "t=,v1=%s", mac);
    refused_401(h, "unix seconds");
    snprintf(h, sizeof(h), "t=-5,v1=%s", mac);
    refused_401(h, "unix seconds");
    snprintf(h, sizeof(h), "t=1795000000000000,v1=%s", mac); /* more than 12 digits */
    refused_401(h, "unix seconds");
    refused_401("garbage", NULL);
    refused_401(",,,", NULL);
    snprintf(h, sizeof(h), "t=%lld,v1=%.63s", (long long)NOW_S, mac); /* 63 digits */
    refused_401(h, "64 hex digits");
    snprintf(h, sizeof(h), "t=%lld,v1=%sff", (long long)NOW_S, mac); /* 66 digits */
    refused_401(h, "64 hex digits");
    snprintf(h, sizeof(h), "t=%lld,v1=%.62szz", (long long)NOW_S, mac); /* not hex */
    refused_401(h, "64 hex digits");
    snprintf(h, sizeof(h), "t=%lld,v0=%s", (long long)NOW_S, mac); /* another scheme */
    refused_401(h, NULL);
    char longh[1100];
    memset(longh, 'a', sizeof(longh) - 1);
    longh[sizeof(longh) - 1] = '\0';
    refused_401(longh, "too long");
}

static void test_signature_wrong(void **state)
{
    (void)state;
    char mac[65], h[200];
    sign(NOW_S, BODY, mac);
    mac[10] = mac[10] == 'a' ? 'b' : 'a'; /* one hex digit changed */
    snprintf(h, sizeof(h), "t=%lld,v1=%s", (long long)NOW_S, mac);
    refused_401(h, "does not match");
    /* Signed over another body, with another secret, or for another t. */
    header_for(NOW_S, "{}", h, sizeof(h));
    refused_401(h, "does not match");
    sign(NOW_S - 1, BODY, mac);
    snprintf(h, sizeof(h), "t=%lld,v1=%s", (long long)NOW_S, mac);
    refused_401(h, "does not match");
    char other[65];
    pb_hmac_hex("another-secret", 14, BODY, strlen(BODY), other);
    snprintf(h, sizeof(h), "t=%lld,v1=%s", (long long)NOW_S, other);
    refused_401(h, "does not match");
    /* Uppercase hex of the right MAC is the same bytes. */
    sign(NOW_S, BODY, mac);
    for (char *p = mac; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    snprintf(h, sizeof(h), "t=%lld,v1=%s", (long long)NOW_S, mac);
    pb_error err;
    assert_int_equal(check(h, &err), 0);
}

static void test_signature_window(void **state)
{
    (void)state;
    char h[200];
    pb_error err;
    header_for(NOW_S - 301, BODY, h, sizeof(h));
    refused_401(h, "300 s");
    header_for(NOW_S + 301, BODY, h, sizeof(h));
    refused_401(h, "300 s");
    header_for(NOW_S - 300, BODY, h, sizeof(h));
    assert_int_equal(check(h, &err), 0);
    header_for(NOW_S + 300, BODY, h, sizeof(h));
    assert_int_equal(check(h, &err), 0);
}

static void test_signature_several_v1(void **state)
{
    (void)state;
    char good[65], bad[65], h[400];
    pb_error err;
    sign(NOW_S, BODY, good);
    pb_hmac_hex("old-secret", 10, BODY, strlen(BODY), bad);
    snprintf(h, sizeof(h), "t=%lld,v1=%s,v1=%s", (long long)NOW_S, bad, good);
    assert_int_equal(check(h, &err), 0);
    snprintf(h, sizeof(h), "t=%lld,v1=%s,v1=%s", (long long)NOW_S, good, bad);
    assert_int_equal(check(h, &err), 0);
    snprintf(h, sizeof(h), "t=%lld,v1=%s,v1=%s", (long long)NOW_S, bad, bad);
    refused_401(h, "does not match");
    /* A value that is not a MAC is not skipped: it is refused. */
    snprintf(h, sizeof(h), "t=%lld,v1=zz,v1=%s", (long long)NOW_S, good);
    refused_401(h, "64 hex digits");
    /* Up to 8 values are read; a 9th is refused, not dropped. */
    char many[1100];
    int n = snprintf(many, sizeof(many), "t=%lld", (long long)NOW_S);
    for (int i = 0; i < 7; i++)
        n += snprintf(many + n, sizeof(many) - (size_t)n, ",v1=%s", bad);
    snprintf(many + n, sizeof(many) - (size_t)n, ",v1=%s", good);
    assert_int_equal(check(many, &err), 0); /* 8: the last one matches */
    snprintf(many + n, sizeof(many) - (size_t)n, ",v1=%s,v1=%s", bad, good);
    refused_401(many, "at most 8");
}

/* The MAC covers the header's t exactly as sent, and every part of the header is read. */
static void test_signature_as_sent(void **state)
{
    (void)state;
    char mac[65], h[300];
    pb_error err;
    /* A leading zero is another text than the one signed, though the same number. */
    sign(NOW_S, BODY, mac);
    snprintf(h, sizeof(h), "t=0%lld,v1=%s", (long long)NOW_S, mac);
    refused_401(h, "does not match");
    char msg[1024], zmac[65];
    int len = snprintf(msg, sizeof(msg), "0%lld.%s", (long long)NOW_S, BODY);
    pb_hmac_hex(SECRET, strlen(SECRET), msg, (size_t)len, zmac);
    snprintf(h, sizeof(h), "t=0%lld,v1=%s", (long long)NOW_S, zmac);
    assert_int_equal(check(h, &err), 0); /* signed as sent */
    /* t given twice: which one was signed? Refused. */
    snprintf(h, sizeof(h), "t=%lld,v1=%s,t=%lld", (long long)NOW_S, mac, (long long)NOW_S);
    refused_401(h, "twice");
    snprintf(h, sizeof(h), "t=%lld,v1=%s,t=1", (long long)NOW_S, mac);
    refused_401(h, "twice");
    /* A part that is not t= or v1=, or an empty one, is not read: refused. */
    snprintf(h, sizeof(h), "t=%lld,v1=%s,v0=abc", (long long)NOW_S, mac);
    refused_401(h, "v0=abc");
    snprintf(h, sizeof(h), "t=%lld,,v1=%s", (long long)NOW_S, mac);
    refused_401(h, "empty");
    snprintf(h, sizeof(h), "t=%lld,v1=%s,", (long long)NOW_S, mac);
    refused_401(h, "empty");
    snprintf(h, sizeof(h), "t=%lld,v1=%s ", (long long)NOW_S, mac);
    refused_401(h, "64 hex digits");
}

/* ---- fields ---------------------------------------------------------------------------- */

static pb_input IN;
static pb_error ERR;

static int from_json(const char *body)
{
    memset(&IN, 0x55, sizeof(IN));
    memset(&ERR, 0x55, sizeof(ERR));
    return pb_from_json(body, strlen(body), NOW_MS, &IN, &ERR);
}

/* body is refused with status and field. */
static void json_refused(const char *body, unsigned status, const char *field)
{
    assert_int_equal(from_json(body), -1);
    if (ERR.status != status || strcmp(ERR.field, field) != 0)
        fail_msg("body %s: got %u \"%s\" (%s), want %u \"%s\"", body, ERR.status, ERR.field,
                 ERR.error, status, field);
    assert_true(ERR.error[0] != '\0');
}

static void test_full_body(void **state)
{
    (void)state;
    assert_int_equal(from_json("{\"shop\":\"toko-a\",\"click_id\":\"01JD8X3T9YB6K2ZQ4WVN7RH5EM\","
                               "\"order_id\":\"INV-2026-0001\",\"amount\":\"149000.00\","
                               "\"currency\":\"IDR\",\"coupon\":\"RINA10\","
                               "\"occurred_at\":\"2026-11-17T10:00:00+07:00\"}"),
                     0);
    const rec_conversion *c = &IN.conv;
    static const uint8_t zero_id[16];
    assert_memory_equal(c->id, zero_id, 16);
    assert_string_equal(c->shop, "toko-a");
    assert_string_equal(c->order_id, "INV-2026-0001");
    assert_int_equal(c->event, REC_EVENT_PURCHASE);
    assert_int_equal(c->status, REC_STATUS_APPROVED);
    assert_int_equal(c->via, REC_VIA_NONE);
    assert_int_equal(c->amount, 14900000);
    assert_string_equal(c->currency, "IDR");
    assert_string_equal(c->click_id, "01JD8X3T9YB6K2ZQ4WVN7RH5EM");
    assert_string_equal(c->coupon, "RINA10");
    assert_int_equal(c->ts_ms, 1794884400000LL); /* 2026-11-17T03:00:00Z */
    assert_int_equal(c->created_ms, 0);
    assert_int_equal(c->updated_ms, 0);
    for (int m = 0; m < REC_MODELS; m++) {
        assert_int_equal(c->ncredits[m], 0);
        assert_null(c->credits[m]);
    }
    assert_true(IN.has_occurred);
    assert_false(IN.has_status);
    assert_true(IN.has_amount);
    assert_true(IN.has_currency);
    assert_string_equal(IN.token, "");
    assert_int_equal(ERR.status, 0);
}

static void test_minimal_body_defaults(void **state)
{
    (void)state;
    assert_int_equal(from_json("{\"shop\":\"toko-a\",\"order_id\":\"A1\"}"), 0);
    assert_int_equal(IN.conv.event, REC_EVENT_PURCHASE);
    assert_int_equal(IN.conv.status, REC_STATUS_APPROVED);
    assert_int_equal(IN.conv.amount, 0);
    assert_string_equal(IN.conv.currency, "");
    assert_string_equal(IN.conv.click_id, "");
    assert_string_equal(IN.conv.coupon, "");
    assert_int_equal(IN.conv.ts_ms, NOW_MS);
    assert_false(IN.has_occurred);
    /* Defaults are marked as not given: a repeat of a stored order must not apply them. */
    assert_false(IN.has_status);
    assert_false(IN.has_amount);
    assert_false(IN.has_currency);
    /* null and "" are absent values. */
    assert_int_equal(from_json("{\"shop\":\"toko-a\",\"order_id\":\"A1\",\"event\":null,"
                               "\"status\":\"\",\"amount\":null,\"occurred_at\":\"\"}"),
                     0);
    assert_int_equal(IN.conv.event, REC_EVENT_PURCHASE);
    assert_int_equal(IN.conv.status, REC_STATUS_APPROVED);
    assert_false(IN.has_occurred);
    assert_false(IN.has_status);
    assert_false(IN.has_amount);
}

static void test_event_and_status(void **state)
{
    (void)state;
    static const char *events[] = {"purchase", "lead", "signup", "install"};
    static const char *statuses[] = {"approved", "pending", "declined", "refunded"};
    char body[200];
    for (int i = 0; i < 4; i++) {
        snprintf(body, sizeof(body),
                 "{\"shop\":\"s\",\"order_id\":\"1\",\"event\":\"%s\",\"status\":\"%s\"}",
                 events[i], statuses[i]);
        assert_int_equal(from_json(body), 0);
        assert_int_equal(IN.conv.event, i);
        assert_int_equal(IN.conv.status, i);
        assert_true(IN.has_status);
    }
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"event\":\"buy\"}", 400, "event");
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"event\":\"purchases\"}", 400, "event");
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"status\":\"done\"}", 400, "status");
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"status\":\"approve\"}", 400, "status");
}

static void test_amount_per_currency(void **state)
{
    (void)state;
    assert_int_equal(from_json("{\"shop\":\"s\",\"order_id\":\"1\",\"amount\":\"1500\","
                               "\"currency\":\"JPY\"}"),
                     0);
    assert_int_equal(IN.conv.amount, 1500);
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"amount\":\"1500.5\",\"currency\":\"JPY\"}",
                 400, "amount");
    assert_non_null(strstr(ERR.error, "decimals"));
    assert_int_equal(from_json("{\"shop\":\"s\",\"order_id\":\"1\",\"amount\":\"12.345\","
                               "\"currency\":\"KWD\"}"),
                     0);
    assert_int_equal(IN.conv.amount, 12345);
    assert_string_equal(IN.conv.currency, "KWD");
    assert_int_equal(from_json("{\"shop\":\"s\",\"order_id\":\"1\",\"amount\":\"7\","
                               "\"currency\":\"KWD\"}"),
                     0);
    assert_int_equal(IN.conv.amount, 7000);
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"amount\":\"12.3456\",\"currency\":\"KWD\"}",
                 400, "amount");
    /* A JSON number is read by its text, exactly. */
    assert_int_equal(from_json("{\"shop\":\"s\",\"order_id\":\"1\",\"amount\":149000.00,"
                               "\"currency\":\"IDR\"}"),
                     0);
    assert_int_equal(IN.conv.amount, 14900000);
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"amount\":1e5,\"currency\":\"IDR\"}", 400,
                 "amount");
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"amount\":\"-1.00\",\"currency\":\"IDR\"}",
                 400, "amount");
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"amount\":\"1,000\",\"currency\":\"IDR\"}",
                 400, "amount");
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"amount\":\"99999999999999999999\","
                 "\"currency\":\"IDR\"}",
                 400, "amount");
}

static void test_currency_refusals(void **state)
{
    (void)state;
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"amount\":\"10.00\"}", 400, "currency");
    assert_non_null(strstr(ERR.error, "required"));
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"amount\":\"10\",\"currency\":\"ABC\"}", 400,
                 "currency");
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"amount\":\"10\",\"currency\":\"idr\"}", 400,
                 "currency");
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"amount\":\"10\",\"currency\":\"IDRX\"}", 400,
                 "currency");
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"currency\":\"XDR\"}", 400, "currency");
    /* A currency alone is fine (amount 0). */
    assert_int_equal(from_json("{\"shop\":\"s\",\"order_id\":\"1\",\"currency\":\"USD\"}"), 0);
    assert_string_equal(IN.conv.currency, "USD");
    assert_int_equal(IN.conv.amount, 0);
}

static void test_order_id(void **state)
{
    (void)state;
    json_refused("{\"shop\":\"s\"}", 400, "order_id");
    json_refused("{\"shop\":\"s\",\"order_id\":\"\"}", 400, "order_id");
    json_refused("{\"shop\":\"s\",\"order_id\":null}", 400, "order_id");
    json_refused("{\"shop\":\"s\",\"order_id\":\"a\\nb\"}", 400, "order_id");
    char order[200], body[300];
    memset(order, 'x', 129);
    order[129] = '\0';
    snprintf(body, sizeof(body), "{\"shop\":\"s\",\"order_id\":\"%s\"}", order);
    json_refused(body, 400, "order_id");
    assert_non_null(strstr(ERR.error, "128"));
    order[128] = '\0';
    snprintf(body, sizeof(body), "{\"shop\":\"s\",\"order_id\":\"%s\"}", order);
    assert_int_equal(from_json(body), 0);
    assert_int_equal(strlen(IN.conv.order_id), 128);
    assert_string_equal(IN.conv.order_id, order);
    /* A numeric order id is its text. */
    assert_int_equal(from_json("{\"shop\":\"s\",\"order_id\":1234567}"), 0);
    assert_string_equal(IN.conv.order_id, "1234567");
}

static void test_shop_click_coupon(void **state)
{
    (void)state;
    json_refused("{\"order_id\":\"1\"}", 400, "shop");
    json_refused("{\"shop\":\"\",\"order_id\":\"1\"}", 400, "shop");
    json_refused("{\"shop\":\"toko a\",\"order_id\":\"1\"}", 400, "shop");
    json_refused("{\"shop\":\"-toko\",\"order_id\":\"1\"}", 400, "shop");
    char id[100], body[300];
    memset(id, 'c', 65);
    id[65] = '\0';
    snprintf(body, sizeof(body), "{\"shop\":\"s\",\"order_id\":\"1\",\"click_id\":\"%s\"}", id);
    json_refused(body, 400, "click_id");
    id[64] = '\0';
    snprintf(body, sizeof(body), "{\"shop\":\"s\",\"order_id\":\"1\",\"click_id\":\"%s\"}", id);
    assert_int_equal(from_json(body), 0);
    assert_string_equal(IN.conv.click_id, id);
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"coupon\":\"RINA 10\"}", 400, "coupon");
}

static void test_json_form_refusals(void **state)
{
    (void)state;
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"amount\":true,\"currency\":\"USD\"}", 400,
                 "");
    assert_non_null(strstr(ERR.error, "must be a string"));
    json_refused("{\"shop\":\"s\",\"order_id\":false}", 400, "");
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\"", 400, "");
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"order_id\":\"2\"}", 400, "");
    json_refused("{\"shop\":\"s\",\"order_id\":{\"a\":1}}", 400, "");
    /* The GET aliases mean nothing in a JSON body. */
    json_refused("{\"shop\":\"s\",\"txid\":\"1\"}", 400, "order_id");
    assert_int_equal(from_json("{\"shop\":\"s\",\"order_id\":\"1\",\"clickid\":\"X\"}"), 0);
    assert_string_equal(IN.conv.click_id, "");
    assert_int_equal(from_json("{\"shop\":\"s\",\"order_id\":\"1\",\"payout\":\"5\"}"), 0);
    assert_int_equal(IN.conv.amount, 0);
    /* A token in a JSON body is not read either. */
    assert_int_equal(from_json("{\"shop\":\"s\",\"order_id\":\"1\",\"token\":\"t\"}"), 0);
    assert_string_equal(IN.token, "");
    /* Too large. */
    size_t big = PB_BODY_MAX + 1;
    char *body = malloc(big);
    memset(body, ' ', big);
    assert_int_equal(pb_from_json(body, big, NOW_MS, &IN, &ERR), -1);
    assert_int_equal(ERR.status, 413);
    free(body);
}

static void test_occurred_at(void **state)
{
    (void)state;
    assert_int_equal(from_json("{\"shop\":\"s\",\"order_id\":\"1\","
                               "\"occurred_at\":\"2026-11-19T11:06:40Z\"}"),
                     0); /* now + 1 day exactly */
    assert_int_equal(IN.conv.ts_ms, NOW_MS + 86400000LL);
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"occurred_at\":\"2026-11-19T11:06:41Z\"}",
                 400, "occurred_at");
    assert_non_null(strstr(ERR.error, "future"));
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"occurred_at\":\"2030-01-01T00:00:00Z\"}",
                 400, "occurred_at");
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"occurred_at\":\"1999-12-31T23:59:59Z\"}",
                 400, "occurred_at");
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"occurred_at\":\"yesterday\"}", 400,
                 "occurred_at");
    json_refused("{\"shop\":\"s\",\"order_id\":\"1\",\"occurred_at\":\"2026-13-01\"}", 400,
                 "occurred_at");
    assert_int_equal(from_json("{\"shop\":\"s\",\"order_id\":\"1\","
                               "\"occurred_at\":\"2000-01-01T00:00:00Z\"}"),
                     0);
    assert_int_equal(IN.conv.ts_ms, 946684800000LL);
    assert_int_equal(from_json("{\"shop\":\"s\",\"order_id\":\"1\","
                               "\"occurred_at\":\"1794884400000\"}"),
                     0); /* bare milliseconds */
    assert_int_equal(IN.conv.ts_ms, 1794884400000LL);
}

static int from_pairs(const url_param *kv, size_t n, bool query);

/* A time without a zone is refused, not read as UTC: a Jakarta shop's local 21:00 is 14:00
 * UTC, and read as UTC it would land 7 hours off, on another day. */
static void test_occurred_at_needs_a_zone(void **state)
{
    (void)state;
    static const char *const local[] = {"2026-11-17T21:00:00", "2026-11-17 02:30:00", "2026-11-17",
                                        "2026-11-17T21:00", "2026-11-17T21:00:00.5"};
    char body[200];
    for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
        snprintf(body, sizeof(body), "{\"shop\":\"s\",\"order_id\":\"1\",\"occurred_at\":\"%s\"}",
                 local[i]);
        json_refused(body, 400, "occurred_at");
        if (!strstr(ERR.error, "zone") || !strstr(ERR.error, "+07:00"))
            fail_msg("occurred_at %s: error \"%s\" does not ask for a zone", local[i], ERR.error);
    }
    url_param kv[] = {
        {"shop", "s"}, {"token", "t"}, {"txid", "1"}, {"occurred_at", "2026-11-17T21:00:00"}};
    assert_int_equal(from_pairs(kv, 4, true), -1);
    assert_string_equal(ERR.field, "occurred_at");
    /* The same local time with its zone is the instant meant. */
    static const char *const zoned[] = {"2026-11-17T21:00:00+07:00", "2026-11-17T21:00:00+0700",
                                        "2026-11-17T14:00:00Z",      "2026-11-17T14:00:00z",
                                        "2026-11-17T09:00:00-05:00", "1794924000000"};
    for (size_t i = 0; i < sizeof(zoned) / sizeof(zoned[0]); i++) {
        snprintf(body, sizeof(body), "{\"shop\":\"s\",\"order_id\":\"1\",\"occurred_at\":\"%s\"}",
                 zoned[i]);
        if (from_json(body))
            fail_msg("occurred_at %s refused: %s", zoned[i], ERR.error);
        assert_int_equal(IN.conv.ts_ms, 1794924000000LL); /* 2026-11-17T14:00:00Z */
    }
    /* text_parse_time itself still reads zone-less times (reports read bare dates). */
    int64_t ms = 0;
    assert_int_equal(text_parse_time_zoned("2026-11-17", &ms), -2);
    assert_int_equal(text_parse_time_zoned("2026-11-17T25:00:00Z", &ms), -1);
    assert_int_equal(ms, 0);
    assert_int_equal(text_parse_time("2026-11-17T14:00:00", &ms), 0);
    assert_int_equal(ms, 1794924000000LL);
}

/* ---- GET form -------------------------------------------------------------------------- */

static int from_pairs(const url_param *kv, size_t n, bool query)
{
    memset(&IN, 0x55, sizeof(IN));
    memset(&ERR, 0x55, sizeof(ERR));
    return pb_from_pairs(kv, n, query, NOW_MS, &IN, &ERR);
}

static void test_get_aliases(void **state)
{
    (void)state;
    static const char *clicks[] = {"click_id", "clickid", "cid", "subid"};
    static const char *orders[] = {"order_id", "txid", "tid", "transaction_id"};
    static const char *amounts[] = {"amount", "payout", "revenue"};
    for (int c = 0; c < 4; c++) {
        for (int o = 0; o < 4; o++) {
            for (int a = 0; a < 3; a++) {
                url_param kv[] = {{"shop", "toko-a"},   {"token", "tok_123"},  {clicks[c], "CLK"},
                                  {orders[o], "ORD-9"}, {amounts[a], "25.50"}, {"currency", "USD"}};
                assert_int_equal(from_pairs(kv, 6, true), 0);
                assert_string_equal(IN.conv.click_id, "CLK");
                assert_string_equal(IN.conv.order_id, "ORD-9");
                assert_int_equal(IN.conv.amount, 2550);
                assert_string_equal(IN.token, "tok_123");
                /* Without query=true only the own names count. */
                int r = from_pairs(kv, 6, false);
                if (o > 0) {
                    assert_int_equal(r, -1);
                    assert_string_equal(ERR.field, "order_id");
                } else if (a > 0) {
                    assert_int_equal(r, 0);
                    assert_int_equal(IN.conv.amount, 0);
                } else {
                    assert_int_equal(r, 0);
                    assert_string_equal(IN.conv.click_id, c == 0 ? "CLK" : "");
                }
            }
        }
    }
}

static void test_get_twice_refused(void **state)
{
    (void)state;
    url_param o[] = {{"shop", "s"}, {"token", "t"}, {"order_id", "1"}, {"txid", "2"}};
    assert_int_equal(from_pairs(o, 4, true), -1);
    assert_int_equal(ERR.status, 400);
    assert_string_equal(ERR.field, "order_id");
    assert_non_null(strstr(ERR.error, "txid"));
    url_param c[] = {{"shop", "s"}, {"token", "t"}, {"tid", "1"}, {"cid", "a"}, {"subid", "b"}};
    assert_int_equal(from_pairs(c, 5, true), -1);
    assert_string_equal(ERR.field, "click_id");
    url_param a[] = {{"shop", "s"},   {"token", "t"},   {"tid", "1"},
                     {"payout", "1"}, {"revenue", "1"}, {"currency", "USD"}};
    assert_int_equal(from_pairs(a, 6, true), -1);
    assert_string_equal(ERR.field, "amount");
    url_param s[] = {{"shop", "s"}, {"token", "t"}, {"tid", "1"}, {"shop", "s"}};
    assert_int_equal(from_pairs(s, 4, true), -1);
    assert_string_equal(ERR.field, "shop");
    /* Unknown parameters are ignored. */
    url_param u[] = {{"shop", "s"}, {"token", "t"}, {"tid", "1"}, {"utm_source", "x"}};
    assert_int_equal(from_pairs(u, 4, true), 0);
}

static void test_get_token(void **state)
{
    (void)state;
    url_param none[] = {{"shop", "s"}, {"txid", "1"}};
    assert_int_equal(from_pairs(none, 2, true), -1);
    assert_int_equal(ERR.status, 401);
    assert_string_equal(ERR.field, "token");
    url_param empty[] = {{"shop", "s"}, {"token", ""}, {"txid", "1"}};
    assert_int_equal(from_pairs(empty, 3, true), -1);
    assert_int_equal(ERR.status, 401);
    assert_string_equal(ERR.field, "token");
    url_param null_value[] = {{"shop", "s"}, {"token", NULL}, {"txid", "1"}};
    assert_int_equal(from_pairs(null_value, 3, true), -1);
    assert_int_equal(ERR.status, 401);
    char tok[PB_TOKEN_MAX + 2];
    memset(tok, 'k', PB_TOKEN_MAX + 1);
    tok[PB_TOKEN_MAX + 1] = '\0';
    url_param long_token[] = {{"shop", "s"}, {"token", tok}, {"txid", "1"}};
    assert_int_equal(from_pairs(long_token, 3, true), -1);
    assert_string_equal(ERR.field, "token");
    tok[PB_TOKEN_MAX] = '\0';
    assert_int_equal(from_pairs(long_token, 3, true), 0);
    assert_string_equal(IN.token, tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_rfc4231_case2),
        cmocka_unit_test(test_signature_good),
        cmocka_unit_test(test_signature_missing),
        cmocka_unit_test(test_signature_malformed),
        cmocka_unit_test(test_signature_wrong),
        cmocka_unit_test(test_signature_window),
        cmocka_unit_test(test_signature_several_v1),
        cmocka_unit_test(test_signature_as_sent),
        cmocka_unit_test(test_full_body),
        cmocka_unit_test(test_minimal_body_defaults),
        cmocka_unit_test(test_event_and_status),
        cmocka_unit_test(test_amount_per_currency),
        cmocka_unit_test(test_currency_refusals),
        cmocka_unit_test(test_order_id),
        cmocka_unit_test(test_shop_click_coupon),
        cmocka_unit_test(test_json_form_refusals),
        cmocka_unit_test(test_occurred_at),
        cmocka_unit_test(test_occurred_at_needs_a_zone),
        cmocka_unit_test(test_get_aliases),
        cmocka_unit_test(test_get_twice_refused),
        cmocka_unit_test(test_get_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
