/*
 * fuzz_record.c: every record decoder (storage/record.c) on arbitrary bytes.
 *
 * Input: byte 0 picks the record kind; for clicks and conversions the next 16 bytes are the
 * key (fewer when the input is short), the rest is the value.
 * Properties: no decoder reads out of bounds or leaks (a conversion is always freed, also
 * after a failed decode); a decoded record re-encodes to exactly the input bytes (the
 * format has one encoding per record) and decodes again to an identical struct.
 */
#include "tests/fuzz/fuzz.h"

#include "storage/record.h"

/* Decode, then encode, then decode again; a is zeroed first so that memcmp compares only
 * what the decoder wrote. */
#define PLAIN(type, dec, enc)                                                                      \
    do {                                                                                           \
        type *a = calloc(1, sizeof(type)), *b = calloc(1, sizeof(type));                           \
        uint8_t *out = malloc(REC_MAX_BYTES);                                                      \
        if (dec(in, len, a) == 0) {                                                                \
            size_t n = enc(a, out, REC_MAX_BYTES);                                                 \
            FUZZ_CHECK(n == len && memcmp(out, in, len) == 0);                                     \
            FUZZ_CHECK(dec(out, n, b) == 0);                                                       \
            FUZZ_CHECK(memcmp(a, b, sizeof(type)) == 0);                                           \
        }                                                                                          \
        free(out);                                                                                 \
        free(b);                                                                                   \
        free(a);                                                                                   \
    } while (0)

static void click(const uint8_t *key, size_t keylen, const uint8_t *in, size_t len)
{
    rec_click *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    uint8_t *out = malloc(REC_MAX_BYTES);
    if (rec_click_decode(key, keylen, in, len, a) == 0) {
        FUZZ_CHECK(keylen == 16 && memcmp(a->id, key, 16) == 0);
        FUZZ_CHECK(a->device <= REC_DEVICE_BOT);
        FUZZ_CHECK(a->ip_family == 0 || a->ip_family == 4 || a->ip_family == 6);
        size_t n = rec_click_encode(a, out, REC_MAX_BYTES);
        FUZZ_CHECK(n == len && memcmp(out, in, len) == 0);
        FUZZ_CHECK(rec_click_decode(key, keylen, out, n, b) == 0);
        FUZZ_CHECK(memcmp(a, b, sizeof *a) == 0);
    }
    free(out);
    free(b);
    free(a);
}

static void same_conversion(const rec_conversion *a, const rec_conversion *b)
{
    FUZZ_CHECK(memcmp(a->id, b->id, sizeof a->id) == 0);
    FUZZ_CHECK(strcmp(a->shop, b->shop) == 0);
    FUZZ_CHECK(strcmp(a->order_id, b->order_id) == 0);
    FUZZ_CHECK(a->event == b->event && a->status == b->status && a->via == b->via);
    FUZZ_CHECK(a->amount == b->amount);
    FUZZ_CHECK(strcmp(a->currency, b->currency) == 0);
    FUZZ_CHECK(strcmp(a->click_id, b->click_id) == 0);
    FUZZ_CHECK(strcmp(a->coupon, b->coupon) == 0);
    FUZZ_CHECK(a->ts_ms == b->ts_ms && a->created_ms == b->created_ms &&
               a->updated_ms == b->updated_ms);
    for (int m = 0; m < REC_MODELS; m++) {
        FUZZ_CHECK(a->ncredits[m] == b->ncredits[m]);
        FUZZ_CHECK((a->ncredits[m] == 0) == (a->credits[m] == NULL));
        for (unsigned i = 0; i < a->ncredits[m]; i++) {
            const rec_credit *x = &a->credits[m][i], *y = &b->credits[m][i];
            FUZZ_CHECK(strcmp(x->link, y->link) == 0);
            FUZZ_CHECK(strcmp(x->influencer, y->influencer) == 0);
            FUZZ_CHECK(strcmp(x->campaign, y->campaign) == 0);
            FUZZ_CHECK(x->share == y->share && x->amount == y->amount);
        }
    }
}

static void conversion(const uint8_t *key, size_t keylen, const uint8_t *in, size_t len)
{
    rec_conversion a, b;
    if (rec_conversion_decode(key, keylen, in, len, &a) == 0) {
        FUZZ_CHECK(keylen == 16 && memcmp(a.id, key, 16) == 0);
        FUZZ_CHECK(a.event < REC_EVENT_COUNT && a.status < REC_STATUS_COUNT &&
                   a.via <= REC_VIA_COUPON);
        size_t n = 0;
        uint8_t *out = rec_conversion_encode(&a, &n);
        FUZZ_CHECK(out != NULL);
        FUZZ_CHECK(n == len && memcmp(out, in, len) == 0);
        FUZZ_CHECK(rec_conversion_decode(key, keylen, out, n, &b) == 0);
        same_conversion(&a, &b);
        rec_conversion_free(&b);
        free(out);
    }
    rec_conversion_free(&a);
    for (int m = 0; m < REC_MODELS; m++)
        FUZZ_CHECK(a.credits[m] == NULL && a.ncredits[m] == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    uint8_t kind = data[0] % 7;
    size_t keylen = kind >= 5 ? (size - 1 < 16 ? size - 1 : 16) : 0;
    uint8_t *key = fuzz_dup(data + 1, keylen);
    size_t len = size - 1 - keylen;
    uint8_t *in = fuzz_dup(data + 1 + keylen, len);
    switch (kind) {
    case 0:
        PLAIN(rec_influencer, rec_influencer_decode, rec_influencer_encode);
        break;
    case 1:
        PLAIN(rec_campaign, rec_campaign_decode, rec_campaign_encode);
        break;
    case 2:
        PLAIN(rec_link, rec_link_decode, rec_link_encode);
        break;
    case 3:
        PLAIN(rec_shop, rec_shop_decode, rec_shop_encode);
        break;
    case 4:
        PLAIN(rec_coupon, rec_coupon_decode, rec_coupon_encode);
        break;
    case 5:
        click(key, keylen, in, len);
        break;
    default:
        conversion(key, keylen, in, len);
        break;
    }
    free(in);
    free(key);
    return 0;
}
