/*
 * record.c: encoders and decoders for the stored records (see record.h for the format).
 *
 * Both directions go through a cursor that turns any overrun into a sticky `bad` flag,
 * so a codec reads as a plain list of fields and checks once at the end.
 */
#include "storage/record.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "storage/key.h"

enum {
    V_INFLUENCER = 1,
    V_CAMPAIGN = 1,
    V_LINK = 1,
    V_CLICK = 1,
    V_SHOP = 1,
    V_COUPON = 1,
    V_CONVERSION = 1,
    V_METRIC = 1,
    V_COST = 1,
    V_PAYMODEL = 1,
    V_APIKEY = 1
};

void rec_put_u8(rec_writer *w, uint8_t v)
{
    rec_put_bytes(w, &v, 1);
}

void rec_put_u16(rec_writer *w, uint16_t v)
{
    uint8_t b[2];
    key_put_u16(b, v);
    rec_put_bytes(w, b, 2);
}

void rec_put_u32(rec_writer *w, uint32_t v)
{
    uint8_t b[4];
    key_put_u32(b, v);
    rec_put_bytes(w, b, 4);
}

void rec_put_u64(rec_writer *w, uint64_t v)
{
    uint8_t b[8];
    key_put_u64(b, v);
    rec_put_bytes(w, b, 8);
}

void rec_put_bytes(rec_writer *w, const void *b, size_t n)
{
    if (w->bad || n > w->cap - w->len) {
        w->bad = true;
        return;
    }
    memcpy(w->p + w->len, b, n);
    w->len += n;
}

void rec_put_str(rec_writer *w, const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n >= cap || n > 0xffff) {
        w->bad = true;
        return;
    }
    rec_put_u16(w, (uint16_t)n);
    rec_put_bytes(w, s, n);
}

void rec_get_bytes(rec_reader *r, void *b, size_t n)
{
    if (r->bad || n > r->len - r->off) {
        r->bad = true;
        memset(b, 0, n);
        return;
    }
    memcpy(b, r->p + r->off, n);
    r->off += n;
}

uint8_t rec_get_u8(rec_reader *r)
{
    uint8_t v;
    rec_get_bytes(r, &v, 1);
    return v;
}

uint16_t rec_get_u16(rec_reader *r)
{
    uint8_t b[2];
    rec_get_bytes(r, b, 2);
    return key_get_u16(b);
}

uint32_t rec_get_u32(rec_reader *r)
{
    uint8_t b[4];
    rec_get_bytes(r, b, 4);
    return key_get_u32(b);
}

uint64_t rec_get_u64(rec_reader *r)
{
    uint8_t b[8];
    rec_get_bytes(r, b, 8);
    return key_get_u64(b);
}

void rec_get_str(rec_reader *r, char *s, size_t cap)
{
    size_t n = rec_get_u16(r);
    if (r->bad || n >= cap || n > r->len - r->off || memchr(r->p + r->off, 0, n)) {
        r->bad = true;
        s[0] = '\0';
        return;
    }
    memcpy(s, r->p + r->off, n);
    s[n] = '\0';
    r->off += n;
}

/* A decoder accepts exactly its own version and exactly the bytes it reads. */
static int finish(const rec_reader *r)
{
    return r->bad || r->off != r->len ? -1 : 0;
}

static size_t done(const rec_writer *w)
{
    return w->bad ? 0 : w->len;
}

size_t rec_influencer_encode(const rec_influencer *r, uint8_t *out, size_t outlen)
{
    rec_writer w = {out, 0, outlen, false};
    rec_put_u8(&w, V_INFLUENCER);
    rec_put_str(&w, r->id, sizeof(r->id));
    rec_put_str(&w, r->name, sizeof(r->name));
    rec_put_str(&w, r->platform, sizeof(r->platform));
    rec_put_str(&w, r->handle, sizeof(r->handle));
    rec_put_u64(&w, r->followers);
    rec_put_u64(&w, (uint64_t)r->created_ms);
    return done(&w);
}

int rec_influencer_decode(const uint8_t *in, size_t len, rec_influencer *r)
{
    rec_reader rd = {in, len, 0, false};
    if (rec_get_u8(&rd) != V_INFLUENCER)
        return -1;
    rec_get_str(&rd, r->id, sizeof(r->id));
    rec_get_str(&rd, r->name, sizeof(r->name));
    rec_get_str(&rd, r->platform, sizeof(r->platform));
    rec_get_str(&rd, r->handle, sizeof(r->handle));
    r->followers = rec_get_u64(&rd);
    r->created_ms = (int64_t)rec_get_u64(&rd);
    return finish(&rd);
}

size_t rec_campaign_encode(const rec_campaign *r, uint8_t *out, size_t outlen)
{
    rec_writer w = {out, 0, outlen, false};
    rec_put_u8(&w, V_CAMPAIGN);
    rec_put_str(&w, r->id, sizeof(r->id));
    rec_put_str(&w, r->name, sizeof(r->name));
    rec_put_str(&w, r->start, sizeof(r->start));
    rec_put_str(&w, r->end, sizeof(r->end));
    rec_put_u64(&w, (uint64_t)r->created_ms);
    return done(&w);
}

int rec_campaign_decode(const uint8_t *in, size_t len, rec_campaign *r)
{
    rec_reader rd = {in, len, 0, false};
    if (rec_get_u8(&rd) != V_CAMPAIGN)
        return -1;
    rec_get_str(&rd, r->id, sizeof(r->id));
    rec_get_str(&rd, r->name, sizeof(r->name));
    rec_get_str(&rd, r->start, sizeof(r->start));
    rec_get_str(&rd, r->end, sizeof(r->end));
    r->created_ms = (int64_t)rec_get_u64(&rd);
    return finish(&rd);
}

size_t rec_link_encode(const rec_link *r, uint8_t *out, size_t outlen)
{
    rec_writer w = {out, 0, outlen, false};
    rec_put_u8(&w, V_LINK);
    rec_put_str(&w, r->slug, sizeof(r->slug));
    rec_put_str(&w, r->dest, sizeof(r->dest));
    rec_put_str(&w, r->influencer, sizeof(r->influencer));
    rec_put_str(&w, r->campaign, sizeof(r->campaign));
    rec_put_str(&w, r->utm_source, sizeof(r->utm_source));
    rec_put_str(&w, r->utm_medium, sizeof(r->utm_medium));
    rec_put_str(&w, r->utm_campaign, sizeof(r->utm_campaign));
    rec_put_str(&w, r->utm_content, sizeof(r->utm_content));
    rec_put_str(&w, r->utm_term, sizeof(r->utm_term));
    rec_put_u64(&w, (uint64_t)r->created_ms);
    return done(&w);
}

int rec_link_decode(const uint8_t *in, size_t len, rec_link *r)
{
    rec_reader rd = {in, len, 0, false};
    if (rec_get_u8(&rd) != V_LINK)
        return -1;
    rec_get_str(&rd, r->slug, sizeof(r->slug));
    rec_get_str(&rd, r->dest, sizeof(r->dest));
    rec_get_str(&rd, r->influencer, sizeof(r->influencer));
    rec_get_str(&rd, r->campaign, sizeof(r->campaign));
    rec_get_str(&rd, r->utm_source, sizeof(r->utm_source));
    rec_get_str(&rd, r->utm_medium, sizeof(r->utm_medium));
    rec_get_str(&rd, r->utm_campaign, sizeof(r->utm_campaign));
    rec_get_str(&rd, r->utm_content, sizeof(r->utm_content));
    rec_get_str(&rd, r->utm_term, sizeof(r->utm_term));
    r->created_ms = (int64_t)rec_get_u64(&rd);
    return finish(&rd);
}

size_t rec_click_encode(const rec_click *r, uint8_t *out, size_t outlen)
{
    rec_writer w = {out, 0, outlen, false};
    rec_put_u8(&w, V_CLICK);
    rec_put_u64(&w, (uint64_t)r->ts_ms);
    rec_put_str(&w, r->link, sizeof(r->link));
    rec_put_bytes(&w, r->visitor, sizeof(r->visitor));
    rec_put_u8(&w, r->ip_family);
    if (r->ip_family == 4)
        rec_put_bytes(&w, r->ip, 4);
    else if (r->ip_family == 6)
        rec_put_bytes(&w, r->ip, 16);
    else if (r->ip_family != 0)
        w.bad = true;
    if (r->device > REC_DEVICE_BOT)
        w.bad = true;
    rec_put_u8(&w, r->device);
    rec_put_u8(&w, r->flags);
    rec_put_str(&w, r->referrer, sizeof(r->referrer));
    rec_put_str(&w, r->lang, sizeof(r->lang));
    return done(&w);
}

int rec_click_decode(const uint8_t *key, size_t keylen, const uint8_t *in, size_t len, rec_click *r)
{
    if (keylen != sizeof(r->id))
        return -1;
    memcpy(r->id, key, sizeof(r->id));
    rec_reader rd = {in, len, 0, false};
    if (rec_get_u8(&rd) != V_CLICK)
        return -1;
    r->ts_ms = (int64_t)rec_get_u64(&rd);
    rec_get_str(&rd, r->link, sizeof(r->link));
    rec_get_bytes(&rd, r->visitor, sizeof(r->visitor));
    r->ip_family = rec_get_u8(&rd);
    memset(r->ip, 0, sizeof(r->ip));
    if (r->ip_family == 4)
        rec_get_bytes(&rd, r->ip, 4);
    else if (r->ip_family == 6)
        rec_get_bytes(&rd, r->ip, 16);
    else if (r->ip_family != 0)
        return -1;
    r->device = rec_get_u8(&rd);
    r->flags = rec_get_u8(&rd);
    rec_get_str(&rd, r->referrer, sizeof(r->referrer));
    rec_get_str(&rd, r->lang, sizeof(r->lang));
    if (r->device > REC_DEVICE_BOT)
        return -1;
    return finish(&rd);
}

const char *rec_device_name(uint8_t device)
{
    static const char *names[] = {"", "desktop", "mobile", "tablet", "bot"};
    return device <= REC_DEVICE_BOT ? names[device] : "";
}

size_t rec_shop_encode(const rec_shop *r, uint8_t *out, size_t outlen)
{
    rec_writer w = {out, 0, outlen, false};
    rec_put_u8(&w, V_SHOP);
    rec_put_str(&w, r->id, sizeof(r->id));
    rec_put_str(&w, r->secret, sizeof(r->secret));
    rec_put_bytes(&w, r->token_hash, sizeof(r->token_hash));
    rec_put_u64(&w, (uint64_t)r->created_ms);
    return done(&w);
}

int rec_shop_decode(const uint8_t *in, size_t len, rec_shop *r)
{
    rec_reader rd = {in, len, 0, false};
    if (rec_get_u8(&rd) != V_SHOP)
        return -1;
    rec_get_str(&rd, r->id, sizeof(r->id));
    rec_get_str(&rd, r->secret, sizeof(r->secret));
    rec_get_bytes(&rd, r->token_hash, sizeof(r->token_hash));
    r->created_ms = (int64_t)rec_get_u64(&rd);
    return finish(&rd);
}

size_t rec_coupon_encode(const rec_coupon *r, uint8_t *out, size_t outlen)
{
    rec_writer w = {out, 0, outlen, false};
    rec_put_u8(&w, V_COUPON);
    rec_put_str(&w, r->code, sizeof(r->code));
    rec_put_str(&w, r->influencer, sizeof(r->influencer));
    rec_put_str(&w, r->campaign, sizeof(r->campaign));
    rec_put_u64(&w, (uint64_t)r->created_ms);
    return done(&w);
}

int rec_coupon_decode(const uint8_t *in, size_t len, rec_coupon *r)
{
    rec_reader rd = {in, len, 0, false};
    if (rec_get_u8(&rd) != V_COUPON)
        return -1;
    rec_get_str(&rd, r->code, sizeof(r->code));
    rec_get_str(&rd, r->influencer, sizeof(r->influencer));
    rec_get_str(&rd, r->campaign, sizeof(r->campaign));
    r->created_ms = (int64_t)rec_get_u64(&rd);
    return finish(&rd);
}

static const char *const event_names[REC_EVENT_COUNT] = {"purchase", "lead", "signup", "install"};
static const char *const status_names[REC_STATUS_COUNT] = {"approved", "pending", "declined",
                                                           "refunded"};

const char *rec_event_name(uint8_t e)
{
    return e < REC_EVENT_COUNT ? event_names[e] : "";
}

const char *rec_status_name(uint8_t s)
{
    return s < REC_STATUS_COUNT ? status_names[s] : "";
}

int rec_event_parse(const char *s)
{
    for (int i = 0; i < REC_EVENT_COUNT; i++)
        if (!strcasecmp(s, event_names[i]))
            return i;
    return -1;
}

int rec_status_parse(const char *s)
{
    for (int i = 0; i < REC_STATUS_COUNT; i++)
        if (!strcasecmp(s, status_names[i]))
            return i;
    return -1;
}

enum { CREDIT_MAX_BYTES = 3 * (2 + REC_ID) + 16 };

uint8_t *rec_conversion_encode(const rec_conversion *r, size_t *len)
{
    size_t cap = 1024;
    for (int m = 0; m < REC_MODELS; m++) {
        if (r->ncredits[m] > REC_MAX_CREDITS)
            return NULL;
        cap += 2 + (size_t)r->ncredits[m] * CREDIT_MAX_BYTES;
    }
    uint8_t *out = malloc(cap);
    if (!out)
        return NULL;
    rec_writer w = {out, 0, cap, false};
    rec_put_u8(&w, V_CONVERSION);
    rec_put_str(&w, r->shop, sizeof(r->shop));
    rec_put_str(&w, r->order_id, sizeof(r->order_id));
    rec_put_u8(&w, r->event);
    rec_put_u8(&w, r->status);
    rec_put_u8(&w, r->via);
    rec_put_u64(&w, (uint64_t)r->amount);
    rec_put_str(&w, r->currency, sizeof(r->currency));
    rec_put_str(&w, r->click_id, sizeof(r->click_id));
    rec_put_str(&w, r->coupon, sizeof(r->coupon));
    rec_put_u64(&w, (uint64_t)r->ts_ms);
    rec_put_u64(&w, (uint64_t)r->created_ms);
    rec_put_u64(&w, (uint64_t)r->updated_ms);
    for (int m = 0; m < REC_MODELS; m++) {
        rec_put_u16(&w, (uint16_t)r->ncredits[m]);
        for (unsigned i = 0; i < r->ncredits[m]; i++) {
            const rec_credit *c = &r->credits[m][i];
            rec_put_str(&w, c->link, sizeof(c->link));
            rec_put_str(&w, c->influencer, sizeof(c->influencer));
            rec_put_str(&w, c->campaign, sizeof(c->campaign));
            rec_put_u64(&w, (uint64_t)c->share);
            rec_put_u64(&w, (uint64_t)c->amount);
        }
    }
    if (w.bad || r->event >= REC_EVENT_COUNT || r->status >= REC_STATUS_COUNT ||
        r->via > REC_VIA_COUPON) {
        free(out);
        return NULL;
    }
    *len = w.len;
    return out;
}

int rec_conversion_decode(const uint8_t *key, size_t keylen, const uint8_t *in, size_t len,
                          rec_conversion *r)
{
    memset(r, 0, sizeof(*r));
    if (keylen != sizeof(r->id))
        return -1;
    memcpy(r->id, key, sizeof(r->id));
    rec_reader rd = {in, len, 0, false};
    if (rec_get_u8(&rd) != V_CONVERSION)
        return -1;
    rec_get_str(&rd, r->shop, sizeof(r->shop));
    rec_get_str(&rd, r->order_id, sizeof(r->order_id));
    r->event = rec_get_u8(&rd);
    r->status = rec_get_u8(&rd);
    r->via = rec_get_u8(&rd);
    r->amount = (int64_t)rec_get_u64(&rd);
    rec_get_str(&rd, r->currency, sizeof(r->currency));
    rec_get_str(&rd, r->click_id, sizeof(r->click_id));
    rec_get_str(&rd, r->coupon, sizeof(r->coupon));
    r->ts_ms = (int64_t)rec_get_u64(&rd);
    r->created_ms = (int64_t)rec_get_u64(&rd);
    r->updated_ms = (int64_t)rec_get_u64(&rd);
    if (rd.bad || r->event >= REC_EVENT_COUNT || r->status >= REC_STATUS_COUNT ||
        r->via > REC_VIA_COUPON)
        return -1;
    for (int m = 0; m < REC_MODELS; m++) {
        unsigned n = rec_get_u16(&rd);
        /* Each line takes at least 22 bytes: a count larger than the rest is a lie. */
        if (rd.bad || n > REC_MAX_CREDITS || n * 22u > len - rd.off)
            return -1;
        if (n == 0)
            continue;
        r->credits[m] = calloc(n, sizeof(rec_credit));
        if (!r->credits[m])
            return -1;
        r->ncredits[m] = (uint16_t)n;
        for (unsigned i = 0; i < n; i++) {
            rec_credit *c = &r->credits[m][i];
            rec_get_str(&rd, c->link, sizeof(c->link));
            rec_get_str(&rd, c->influencer, sizeof(c->influencer));
            rec_get_str(&rd, c->campaign, sizeof(c->campaign));
            c->share = (int64_t)rec_get_u64(&rd);
            c->amount = (int64_t)rec_get_u64(&rd);
        }
    }
    return finish(&rd);
}

void rec_conversion_free(rec_conversion *r)
{
    for (int m = 0; m < REC_MODELS; m++) {
        free(r->credits[m]);
        r->credits[m] = NULL;
        r->ncredits[m] = 0;
    }
}

size_t rec_metric_encode(const rec_metric *r, uint8_t *out, size_t outlen)
{
    rec_writer w = {out, 0, outlen, false};
    rec_put_u8(&w, V_METRIC);
    rec_put_str(&w, r->date, sizeof(r->date));
    rec_put_str(&w, r->influencer, sizeof(r->influencer));
    rec_put_str(&w, r->campaign, sizeof(r->campaign));
    rec_put_str(&w, r->link, sizeof(r->link));
    rec_put_u8(&w, r->has);
    rec_put_u64(&w, r->impressions);
    rec_put_u64(&w, r->reach);
    rec_put_u64(&w, r->engagements);
    rec_put_u64(&w, r->followers);
    return done(&w);
}

int rec_metric_decode(const uint8_t *in, size_t len, rec_metric *r)
{
    rec_reader rd = {in, len, 0, false};
    if (rec_get_u8(&rd) != V_METRIC)
        return -1;
    rec_get_str(&rd, r->date, sizeof(r->date));
    rec_get_str(&rd, r->influencer, sizeof(r->influencer));
    rec_get_str(&rd, r->campaign, sizeof(r->campaign));
    rec_get_str(&rd, r->link, sizeof(r->link));
    r->has = rec_get_u8(&rd);
    r->impressions = rec_get_u64(&rd);
    r->reach = rec_get_u64(&rd);
    r->engagements = rec_get_u64(&rd);
    r->followers = rec_get_u64(&rd);
    return finish(&rd);
}

size_t rec_cost_encode(const rec_cost *r, uint8_t *out, size_t outlen)
{
    rec_writer w = {out, 0, outlen, false};
    rec_put_u8(&w, V_COST);
    rec_put_bytes(&w, r->id, sizeof(r->id));
    rec_put_str(&w, r->influencer, sizeof(r->influencer));
    rec_put_str(&w, r->campaign, sizeof(r->campaign));
    rec_put_str(&w, r->date, sizeof(r->date));
    rec_put_u64(&w, (uint64_t)r->amount);
    rec_put_str(&w, r->currency, sizeof(r->currency));
    return done(&w);
}

int rec_cost_decode(const uint8_t *in, size_t len, rec_cost *r)
{
    rec_reader rd = {in, len, 0, false};
    if (rec_get_u8(&rd) != V_COST)
        return -1;
    rec_get_bytes(&rd, r->id, sizeof(r->id));
    rec_get_str(&rd, r->influencer, sizeof(r->influencer));
    rec_get_str(&rd, r->campaign, sizeof(r->campaign));
    rec_get_str(&rd, r->date, sizeof(r->date));
    r->amount = (int64_t)rec_get_u64(&rd);
    rec_get_str(&rd, r->currency, sizeof(r->currency));
    return finish(&rd);
}

size_t rec_paymodel_encode(const rec_paymodel *r, uint8_t *out, size_t outlen)
{
    rec_writer w = {out, 0, outlen, false};
    rec_put_u8(&w, V_PAYMODEL);
    rec_put_str(&w, r->influencer, sizeof(r->influencer));
    rec_put_str(&w, r->campaign, sizeof(r->campaign));
    rec_put_u8(&w, r->kind);
    rec_put_u64(&w, (uint64_t)r->price);
    rec_put_str(&w, r->currency, sizeof(r->currency));
    rec_put_u64(&w, (uint64_t)r->basis_points);
    return done(&w);
}

int rec_paymodel_decode(const uint8_t *in, size_t len, rec_paymodel *r)
{
    rec_reader rd = {in, len, 0, false};
    if (rec_get_u8(&rd) != V_PAYMODEL)
        return -1;
    rec_get_str(&rd, r->influencer, sizeof(r->influencer));
    rec_get_str(&rd, r->campaign, sizeof(r->campaign));
    r->kind = rec_get_u8(&rd);
    r->price = (int64_t)rec_get_u64(&rd);
    rec_get_str(&rd, r->currency, sizeof(r->currency));
    r->basis_points = (int64_t)rec_get_u64(&rd);
    if (r->kind > REC_PAY_REVSHARE)
        return -1;
    return finish(&rd);
}

size_t rec_apikey_encode(const rec_apikey *r, uint8_t *out, size_t outlen)
{
    rec_writer w = {out, 0, outlen, false};
    rec_put_u8(&w, V_APIKEY);
    rec_put_bytes(&w, r->hash, sizeof(r->hash));
    rec_put_str(&w, r->influencer, sizeof(r->influencer));
    rec_put_u64(&w, (uint64_t)r->created_ms);
    return done(&w);
}

int rec_apikey_decode(const uint8_t *in, size_t len, rec_apikey *r)
{
    rec_reader rd = {in, len, 0, false};
    if (rec_get_u8(&rd) != V_APIKEY)
        return -1;
    rec_get_bytes(&rd, r->hash, sizeof(r->hash));
    rec_get_str(&rd, r->influencer, sizeof(r->influencer));
    r->created_ms = (int64_t)rec_get_u64(&rd);
    return finish(&rd);
}
