/*
 * postback.c: reading and authenticating conversion callbacks (see postback.h).
 *
 * Crypto is libsodium's: HMAC-SHA256 and constant-time comparison. The GET form's token is
 * compared by its SHA-256 (storage keeps only that hash) in the route, not here.
 */
#include "tracker/postback.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attribution/money.h"
#include "storage/text.h"
#include "tracker/json.h"

static int fail(pb_error *err, unsigned status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(pb_error *err, unsigned status, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->error, sizeof(err->error), fmt, ap);
    va_end(ap);
    snprintf(err->field, sizeof(err->field), "%s", field);
    err->status = status;
    return -1;
}

/* The names a field goes by; the first is its own, the rest are GET-only aliases. */
enum {
    F_SHOP,
    F_TOKEN,
    F_CLICK,
    F_ORDER,
    F_EVENT,
    F_AMOUNT,
    F_CURRENCY,
    F_STATUS,
    F_COUPON,
    F_OCCURRED,
    F_COUNT
};
static const char *const names[F_COUNT][4] = {
    [F_SHOP] = {"shop"},
    [F_TOKEN] = {"token"},
    [F_CLICK] = {"click_id", "clickid", "cid", "subid"},
    [F_ORDER] = {"order_id", "txid", "tid", "transaction_id"},
    [F_EVENT] = {"event"},
    [F_AMOUNT] = {"amount", "payout", "revenue"},
    [F_CURRENCY] = {"currency"},
    [F_STATUS] = {"status"},
    [F_COUPON] = {"coupon"},
    [F_OCCURRED] = {"occurred_at"},
};

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static int copy_field(char *dst, size_t cap, const char *v, const char *field, pb_error *err)
{
    if (strlen(v) >= cap)
        return fail(err, 400, field, "%s is longer than %zu bytes", field, cap - 1);
    if (!printable(v))
        return fail(err, 400, field, "%s contains a control character", field);
    if (!text_valid_utf8(v))
        return fail(err, 400, field, "%s is not valid UTF-8", field);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

int pb_from_pairs(const url_param *kv, size_t n, bool query, int64_t now_ms, pb_input *in,
                  pb_error *err)
{
    const char *v[F_COUNT] = {0};
    const char *given[F_COUNT] = {0}; /* the name the value came under */
    memset(in, 0, sizeof(*in));
    memset(err, 0, sizeof(*err));
    for (size_t i = 0; i < n; i++) {
        for (int f = 0; f < F_COUNT; f++) {
            for (int a = 0; a < 4 && names[f][a]; a++) {
                if (strcmp(kv[i].key, names[f][a]) || (a > 0 && !query))
                    continue;
                if (v[f])
                    return fail(err, 400, names[f][0], "%s is given twice (as %s and %s)",
                                names[f][0], given[f], kv[i].key);
                v[f] = kv[i].value ? kv[i].value : "";
                given[f] = kv[i].key;
            }
        }
    }
    rec_conversion *c = &in->conv;
    if (!v[F_SHOP] || !*v[F_SHOP])
        return fail(err, 400, "shop", "shop is required");
    if (!text_valid_id(v[F_SHOP]))
        return fail(err, 400, "shop", "shop must be a shop id (letters, digits, '-', '_')");
    snprintf(c->shop, sizeof(c->shop), "%s", v[F_SHOP]);
    if (query) {
        if (!v[F_TOKEN] || !*v[F_TOKEN])
            return fail(err, 401, "token", "token is required");
        if (copy_field(in->token, sizeof(in->token), v[F_TOKEN], "token", err))
            return -1;
    }
    if (!v[F_ORDER] || !*v[F_ORDER])
        return fail(err, 400, "order_id", "order_id is required");
    if (copy_field(c->order_id, sizeof(c->order_id), v[F_ORDER], "order_id", err))
        return -1;
    int e = REC_EVENT_PURCHASE;
    if (v[F_EVENT] && *v[F_EVENT] && (e = rec_event_parse(v[F_EVENT])) < 0)
        return fail(err, 400, "event", "event must be purchase, lead, signup or install");
    c->event = (uint8_t)e;
    int s = REC_STATUS_APPROVED;
    if (v[F_STATUS] && *v[F_STATUS] && (s = rec_status_parse(v[F_STATUS])) < 0)
        return fail(err, 400, "status", "status must be approved, pending, declined or refunded");
    c->status = (uint8_t)s;
    in->has_status = v[F_STATUS] && *v[F_STATUS];
    if (v[F_CURRENCY] && *v[F_CURRENCY]) {
        if (strlen(v[F_CURRENCY]) != 3 || money_exponent(v[F_CURRENCY]) < 0)
            return fail(err, 400, "currency",
                        "currency must be an ISO 4217 code such as IDR, "
                        "USD or JPY");
        memcpy(c->currency, v[F_CURRENCY], 4);
        in->has_currency = true;
    }
    if (v[F_AMOUNT] && *v[F_AMOUNT]) {
        char why[160];
        if (!c->currency[0])
            return fail(err, 400, "currency", "currency is required with an amount");
        if (money_parse(v[F_AMOUNT], c->currency, 0, &c->amount, why, sizeof(why)))
            return fail(err, 400, "amount", "%s", why);
        in->has_amount = true;
    }
    if (v[F_CLICK] && *v[F_CLICK] &&
        copy_field(c->click_id, sizeof(c->click_id), v[F_CLICK], "click_id", err))
        return -1;
    if (v[F_COUPON] && *v[F_COUPON]) {
        if (!text_valid_id(v[F_COUPON]))
            return fail(err, 400, "coupon", "coupon must be 1-64 letters, digits, '-' or '_'");
        snprintf(c->coupon, sizeof(c->coupon), "%s", v[F_COUPON]);
    }
    c->ts_ms = now_ms;
    if (v[F_OCCURRED] && *v[F_OCCURRED]) {
        int64_t ts;
        int r = text_parse_time_zoned(v[F_OCCURRED], &ts);
        if (r == -2) /* read as UTC, a shop's local time would land hours off */
            return fail(err, 400, "occurred_at",
                        "occurred_at needs a zone: Z for UTC or an offset such as +07:00 "
                        "(2026-11-20T17:00:00+07:00)");
        if (r)
            return fail(err, 400, "occurred_at",
                        "occurred_at must be an ISO 8601 time with a zone such as "
                        "2026-11-20T10:00:00Z or 2026-11-20T17:00:00+07:00, or Unix ms");
        if (ts < 946684800000LL || ts > now_ms + 86400000LL)
            return fail(err, 400, "occurred_at", "occurred_at is before 2000 or in the future");
        c->ts_ms = ts;
        in->has_occurred = true;
    }
    return 0;
}

int pb_from_json(const char *body, size_t len, int64_t now_ms, pb_input *in, pb_error *err)
{
    static _Thread_local char arena[PB_BODY_MAX + 1];
    json_field f[JSON_MAX_FIELDS];
    url_param kv[JSON_MAX_FIELDS];
    char why[160];
    memset(err, 0, sizeof(*err));
    if (len > PB_BODY_MAX)
        return fail(err, 413, "", "the body is larger than %d bytes", PB_BODY_MAX);
    int n = json_parse_flat(body, len, arena, sizeof(arena), f, JSON_MAX_FIELDS, why, sizeof(why));
    if (n < 0)
        return fail(err, 400, "", "%s", why);
    for (int i = 0; i < n; i++) {
        kv[i].key = f[i].key;
        kv[i].value = f[i].value;
        if (f[i].type == JSON_TRUE || f[i].type == JSON_FALSE)
            return fail(err, 400, "", "field \"%.40s\" must be a string", f[i].key);
    }
    return pb_from_pairs(kv, (size_t)n, false, now_ms, in, err);
}

void pb_hmac_hex(const char *key, size_t keylen, const void *msg, size_t len, char *out)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, keylen);
    crypto_auth_hmacsha256_update(&st, msg, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, 65, mac, sizeof(mac));
    sodium_memzero(&st, sizeof(st));
}

int pb_check_signature(const char *header, const char *body, size_t len, const char *secret,
                       int64_t now_s, pb_error *err)
{
    memset(err, 0, sizeof(*err));
    if (!header || !*header)
        return fail(err, 401, "signature", "X-Jejak-Signature is required");
    if (strlen(header) > 1024)
        return fail(err, 401, "signature", "X-Jejak-Signature is too long");
    /* Every part is read or the header is refused: t= once, v1= one to PB_SIG_MAX times. The
     * MAC covers t's text exactly as sent, so no other spelling of the number verifies. */
    const char *ttext = NULL;
    size_t tlen = 0;
    long long t = -1;
    unsigned char sigs[PB_SIG_MAX][crypto_auth_hmacsha256_BYTES];
    size_t nsig = 0;
    for (const char *part = header; part;) {
        const char *comma = strchr(part, ',');
        size_t n = comma ? (size_t)(comma - part) : strlen(part);
        while (n && *part == ' ')
            part++, n--;
        if (n == 0)
            return fail(err, 401, "signature",
                        "X-Jejak-Signature has an empty part: send t=<unix seconds>,v1=<hex>");
        if (n > 2 && !strncmp(part, "t=", 2)) {
            if (ttext)
                return fail(err, 401, "signature", "the signature's t= is given twice");
            ttext = part + 2;
            tlen = n - 2;
            if (tlen > 12 || strspn(ttext, "0123456789") < tlen)
                return fail(err, 401, "signature", "the signature's t= must be unix seconds");
            t = 0;
            for (size_t i = 0; i < tlen; i++)
                t = t * 10 + (ttext[i] - '0');
        } else if (n >= 3 && !strncmp(part, "v1=", 3)) {
            size_t bin_len = 0;
            if (nsig == PB_SIG_MAX)
                return fail(err, 401, "signature",
                            "X-Jejak-Signature may carry at most %d v1= values", PB_SIG_MAX);
            if (n - 3 != 64 || strspn(part + 3, "0123456789abcdefABCDEF") < 64 ||
                sodium_hex2bin(sigs[nsig], sizeof(sigs[nsig]), part + 3, 64, NULL, &bin_len,
                               NULL) ||
                bin_len != sizeof(sigs[nsig]))
                return fail(err, 401, "signature", "each v1= must be 64 hex digits");
            nsig++;
        } else if (!strncmp(part, "t=", 2)) {
            return fail(err, 401, "signature", "the signature's t= must be unix seconds");
        } else {
            return fail(err, 401, "signature",
                        "X-Jejak-Signature has a part jejak does not read: \"%.*s\" (send "
                        "t=<unix seconds>,v1=<hex>)",
                        (int)(n < 24 ? n : 24), part);
        }
        part = comma ? comma + 1 : NULL;
    }
    if (!ttext || nsig == 0)
        return fail(err, 401, "signature", "X-Jejak-Signature must be t=<unix seconds>,v1=<hex>");
    if (t > now_s + PB_SKEW_S || t < now_s - PB_SKEW_S)
        return fail(err, 401, "signature",
                    "the signature's timestamp is more than %d s from now: check the clock "
                    "or sign again",
                    PB_SKEW_S);
    /* HMAC over "<t as sent>.<raw body>", keyed with the secret's text as printed (as Stripe
     * does). */
    unsigned char want[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ttext, tlen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, want);
    int ok = 0;
    for (size_t i = 0; i < nsig; i++)
        ok |= sodium_memcmp(sigs[i], want, sizeof(want)) == 0;
    sodium_memzero(want, sizeof(want));
    sodium_memzero(&st, sizeof(st));
    if (!ok)
        return fail(err, 401, "signature", "the signature does not match the body");
    return 0;
}
