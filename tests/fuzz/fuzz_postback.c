/*
 * fuzz_postback.c: the postback readers (tracker/postback.c) on arbitrary bytes.
 *
 * 1. pb_from_json on the whole input: on success every conv string is NUL-terminated within
 *    its array, shop/coupon are ids, the amount is >= 0 with a known currency, event and
 *    status are in range, and occurred_at lies in [2000, now + 1 day]; on failure the error
 *    names a status and a NUL-terminated reason.
 * 2. pb_from_pairs (GET form) on the input read as "k=v&k=v": the same checks, plus a token.
 * 3. pb_check_signature with the input split at its first '\n' into header and body: only 0
 *    or a 401 on "signature"; an accepted header is one t= and 1..PB_SIG_MAX v1= parts and
 *    nothing else; a signature made with pb_hmac_hex is accepted, and the same one with a
 *    digit changed, or with t spelled with a leading zero, is not.
 */
#include "tests/fuzz/fuzz.h"

#include "attribution/money.h"
#include "storage/text.h"
#include "tracker/postback.h"

static const int64_t now_ms = 1795000000000LL; /* 2026-11-18 */
static const char secret[] = "3f1c0a9e8b7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170605f4e3";

static void check_error(const pb_error *err)
{
    FUZZ_CHECK(err->status == 400 || err->status == 401 || err->status == 413);
    FUZZ_CHECK(fuzz_terminated(err->error, sizeof err->error) && err->error[0] != '\0');
    FUZZ_CHECK(fuzz_terminated(err->field, sizeof err->field));
}

static void check_input(const pb_input *in, int query)
{
    const rec_conversion *c = &in->conv;
    FUZZ_CHECK(fuzz_terminated(c->shop, sizeof c->shop) && text_valid_id(c->shop));
    FUZZ_CHECK(fuzz_terminated(c->order_id, sizeof c->order_id) && c->order_id[0] != '\0');
    FUZZ_CHECK(fuzz_terminated(c->currency, sizeof c->currency));
    FUZZ_CHECK(fuzz_terminated(c->click_id, sizeof c->click_id));
    FUZZ_CHECK(fuzz_terminated(c->coupon, sizeof c->coupon));
    FUZZ_CHECK(c->coupon[0] == '\0' || text_valid_id(c->coupon));
    FUZZ_CHECK(fuzz_terminated(in->token, sizeof in->token));
    FUZZ_CHECK(!query || in->token[0] != '\0');
    FUZZ_CHECK(c->amount >= 0);
    FUZZ_CHECK(c->amount == 0 || money_exponent(c->currency) >= 0);
    FUZZ_CHECK(c->currency[0] == '\0' || money_exponent(c->currency) >= 0);
    FUZZ_CHECK(c->event < REC_EVENT_COUNT && c->status < REC_STATUS_COUNT);
    FUZZ_CHECK(c->via == REC_VIA_NONE);
    for (int m = 0; m < REC_MODELS; m++)
        FUZZ_CHECK(c->ncredits[m] == 0 && c->credits[m] == NULL);
    if (in->has_occurred)
        FUZZ_CHECK(c->ts_ms >= 946684800000LL && c->ts_ms <= now_ms + 86400000LL);
    else
        FUZZ_CHECK(c->ts_ms == now_ms);
    /* What was accepted must print and parse back as money. */
    if (c->currency[0]) {
        char text[MONEY_TEXT_MAX];
        int64_t back = -1;
        FUZZ_CHECK(money_format(c->amount, c->currency, text, sizeof text) > 0);
        FUZZ_CHECK(money_parse(text, c->currency, 0, &back, NULL, 0) == 0 && back == c->amount);
    }
}

static void fuzz_json(const uint8_t *data, size_t size)
{
    char *body = (char *)fuzz_dup(data, size);
    pb_input in;
    pb_error err;
    if (pb_from_json(body, size, now_ms, &in, &err) == 0)
        check_input(&in, 0);
    else
        check_error(&err);
    free(body);
}

/* The GET form: "k=v&k=v..." taken raw (no percent-decoding), at most 64 pairs. */
static void fuzz_query(const uint8_t *data, size_t size)
{
    char *q = fuzz_strndup(data, size);
    url_param kv[64];
    size_t n = 0;
    for (char *save = NULL, *part = strtok_r(q, "&", &save); part && n < 64;
         part = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(part, '=');
        if (eq)
            *eq = '\0';
        kv[n].key = part;
        kv[n].value = eq ? eq + 1 : (n % 2 ? NULL : "");
        n++;
    }
    pb_input in;
    pb_error err;
    if (pb_from_pairs(kv, n, true, now_ms, &in, &err) == 0)
        check_input(&in, 1);
    else
        check_error(&err);
    free(q);
}

static void fuzz_signature(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    size_t hn, bn;
    const uint8_t *h = fuzz_next(&p, end, '\n', &hn);
    const uint8_t *b = p;
    bn = (size_t)(end - p);
    char *header = fuzz_strndup(h, hn);
    char *body = (char *)fuzz_dup(b, bn);
    pb_error err;
    int64_t now_s = now_ms / 1000;
    int r = pb_check_signature(header, body, bn, secret, now_s, &err);
    FUZZ_CHECK(r == 0 || r == -1);
    if (r == -1) {
        check_error(&err);
        FUZZ_CHECK(err.status == 401 && strcmp(err.field, "signature") == 0);
    } else {
        /* Accepted: at most PB_SIG_MAX v1= parts, and nothing else but one t=. */
        size_t v1 = 0, parts = 1;
        for (const char *q = header; (q = strstr(q, "v1=")); q++)
            v1++;
        for (const char *q = header; *q; q++)
            parts += *q == ',';
        FUZZ_CHECK(v1 >= 1 && v1 <= PB_SIG_MAX && parts == v1 + 1);
    }

    /* A genuine signature over this body verifies; one changed digit does not. */
    char t[24];
    int tn = snprintf(t, sizeof t, "%lld.", (long long)now_s);
    char *msg = malloc((size_t)tn + bn + 1);
    memcpy(msg, t, (size_t)tn);
    if (bn)
        memcpy(msg + tn, body, bn);
    char mac[65], good[128];
    pb_hmac_hex(secret, strlen(secret), msg, (size_t)tn + bn, mac);
    FUZZ_CHECK(strlen(mac) == 64 && strspn(mac, "0123456789abcdef") == 64);
    snprintf(good, sizeof good, "t=%lld,v1=%s", (long long)now_s, mac);
    FUZZ_CHECK(pb_check_signature(good, body, bn, secret, now_s, &err) == 0);
    /* The same number spelled otherwise is another signed text. */
    snprintf(good, sizeof good, "t=0%lld,v1=%s", (long long)now_s, mac);
    FUZZ_CHECK(pb_check_signature(good, body, bn, secret, now_s, &err) == -1);
    size_t k = size % 64;
    mac[k] = mac[k] == '0' ? '1' : '0';
    snprintf(good, sizeof good, "t=%lld,v1=%s", (long long)now_s, mac);
    FUZZ_CHECK(pb_check_signature(good, body, bn, secret, now_s, &err) == -1);
    free(msg);
    free(body);
    free(header);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > PB_BODY_MAX + 16)
        return 0;
    fuzz_json(data, size);
    fuzz_query(data, size);
    fuzz_signature(data, size);
    return 0;
}
