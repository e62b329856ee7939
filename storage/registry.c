/*
 * registry.c: typed records over the store (see registry.h).
 *
 * Secondary indexes are written in the same transaction as the record they index, so
 * they can never disagree with it after a crash.
 */
#include "storage/registry.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "storage/id.h"
#include "storage/key.h"

enum { VISIT_END = 1 }; /* stops a scan without an error */

static int put_encoded(store_txn *t, store_db db, const char *key, const uint8_t *buf, size_t n,
                       unsigned flags)
{
    if (n == 0)
        return STORE_CORRUPT; /* a field longer than its record allows */
    return store_put(t, db, key, strlen(key), buf, n, flags);
}

int reg_put_influencer(store_txn *t, const rec_influencer *r)
{
    uint8_t buf[REC_MAX_BYTES];
    size_t n = rec_influencer_encode(r, buf, sizeof(buf));
    return put_encoded(t, STORE_DB_INFLUENCERS, r->id, buf, n, STORE_NOOVERWRITE);
}

int reg_get_influencer(store_txn *t, const char *id, rec_influencer *r)
{
    store_val v = {NULL, 0};
    int rc = store_get(t, STORE_DB_INFLUENCERS, id, strlen(id), &v);
    if (rc)
        return rc;
    return rec_influencer_decode(v.data, v.len, r) ? STORE_CORRUPT : STORE_OK;
}

int reg_check_owner(store_txn *t, const char *influencer, const char *campaign, rec_influencer *inf,
                    const char **missing)
{
    rec_influencer i;
    rec_campaign c;
    int rc = reg_get_influencer(t, influencer, inf ? inf : &i);
    if (rc == STORE_NOTFOUND)
        *missing = "influencer";
    if (!rc && campaign[0] && (rc = reg_get_campaign(t, campaign, &c)) == STORE_NOTFOUND)
        *missing = "campaign";
    return rc;
}

int reg_put_campaign(store_txn *t, const rec_campaign *r)
{
    uint8_t buf[REC_MAX_BYTES];
    size_t n = rec_campaign_encode(r, buf, sizeof(buf));
    return put_encoded(t, STORE_DB_CAMPAIGNS, r->id, buf, n, STORE_NOOVERWRITE);
}

int reg_get_campaign(store_txn *t, const char *id, rec_campaign *r)
{
    store_val v = {NULL, 0};
    int rc = store_get(t, STORE_DB_CAMPAIGNS, id, strlen(id), &v);
    if (rc)
        return rc;
    return rec_campaign_decode(v.data, v.len, r) ? STORE_CORRUPT : STORE_OK;
}

int reg_put_link(store_txn *t, const rec_link *r)
{
    uint8_t buf[REC_MAX_BYTES];
    size_t n = rec_link_encode(r, buf, sizeof(buf));
    return put_encoded(t, STORE_DB_LINKS, r->slug, buf, n, STORE_NOOVERWRITE);
}

int reg_get_link(store_txn *t, const char *slug, rec_link *r)
{
    store_val v = {NULL, 0};
    int rc = store_get(t, STORE_DB_LINKS, slug, strlen(slug), &v);
    if (rc)
        return rc;
    return rec_link_decode(v.data, v.len, r) ? STORE_CORRUPT : STORE_OK;
}

/* One iterator for every registry: decode each value with `decode` into `rec`. */
typedef struct {
    int (*decode)(const uint8_t *, size_t, void *);
    int (*fn)(const void *, void *);
    void *rec;
    void *ctx;
} each_ctx;

static int each_one(const store_val *k, const store_val *v, void *arg)
{
    (void)k;
    each_ctx *e = arg;
    if (e->decode(v->data, v->len, e->rec))
        return STORE_CORRUPT;
    return e->fn(e->rec, e->ctx);
}

static int dec_influencer(const uint8_t *p, size_t n, void *r)
{
    return rec_influencer_decode(p, n, r);
}
static int dec_campaign(const uint8_t *p, size_t n, void *r)
{
    return rec_campaign_decode(p, n, r);
}
static int dec_link(const uint8_t *p, size_t n, void *r)
{
    return rec_link_decode(p, n, r);
}

int reg_each_influencer(store_txn *t, int (*fn)(const rec_influencer *, void *), void *ctx)
{
    rec_influencer r;
    each_ctx e = {dec_influencer, (int (*)(const void *, void *))fn, &r, ctx};
    return store_each(t, STORE_DB_INFLUENCERS, NULL, 0, each_one, &e);
}

int reg_each_campaign(store_txn *t, int (*fn)(const rec_campaign *, void *), void *ctx)
{
    rec_campaign r;
    each_ctx e = {dec_campaign, (int (*)(const void *, void *))fn, &r, ctx};
    return store_each(t, STORE_DB_CAMPAIGNS, NULL, 0, each_one, &e);
}

int reg_each_link(store_txn *t, int (*fn)(const rec_link *, void *), void *ctx)
{
    rec_link r;
    each_ctx e = {dec_link, (int (*)(const void *, void *))fn, &r, ctx};
    return store_each(t, STORE_DB_LINKS, NULL, 0, each_one, &e);
}

int reg_put_shop(store_txn *t, const rec_shop *r)
{
    uint8_t buf[REC_MAX_BYTES];
    size_t n = rec_shop_encode(r, buf, sizeof(buf));
    return put_encoded(t, STORE_DB_SHOPS, r->id, buf, n, STORE_NOOVERWRITE);
}

int reg_get_shop(store_txn *t, const char *id, rec_shop *r)
{
    store_val v = {NULL, 0};
    int rc = store_get(t, STORE_DB_SHOPS, id, strlen(id), &v);
    if (rc)
        return rc;
    return rec_shop_decode(v.data, v.len, r) ? STORE_CORRUPT : STORE_OK;
}

static int dec_shop(const uint8_t *p, size_t n, void *r)
{
    return rec_shop_decode(p, n, r);
}

int reg_each_shop(store_txn *t, int (*fn)(const rec_shop *, void *), void *ctx)
{
    rec_shop r;
    each_ctx e = {dec_shop, (int (*)(const void *, void *))fn, &r, ctx};
    return store_each(t, STORE_DB_SHOPS, NULL, 0, each_one, &e);
}

static void upper(char *dst, const char *src, size_t cap)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++)
        dst[i] = (char)(src[i] >= 'a' && src[i] <= 'z' ? src[i] - 32 : src[i]);
    dst[i] = '\0';
}

int reg_put_coupon(store_txn *t, const rec_coupon *r)
{
    rec_coupon u = *r;
    upper(u.code, r->code, sizeof(u.code));
    uint8_t buf[REC_MAX_BYTES];
    size_t n = rec_coupon_encode(&u, buf, sizeof(buf));
    return put_encoded(t, STORE_DB_COUPONS, u.code, buf, n, STORE_NOOVERWRITE);
}

int reg_get_coupon(store_txn *t, const char *code, rec_coupon *r)
{
    char key[REC_ID];
    if (strlen(code) >= sizeof(key))
        return STORE_NOTFOUND;
    upper(key, code, sizeof(key));
    store_val v = {NULL, 0};
    int rc = store_get(t, STORE_DB_COUPONS, key, strlen(key), &v);
    if (rc)
        return rc;
    return rec_coupon_decode(v.data, v.len, r) ? STORE_CORRUPT : STORE_OK;
}

static int dec_coupon(const uint8_t *p, size_t n, void *r)
{
    return rec_coupon_decode(p, n, r);
}

int reg_each_coupon(store_txn *t, int (*fn)(const rec_coupon *, void *), void *ctx)
{
    rec_coupon r;
    each_ctx e = {dec_coupon, (int (*)(const void *, void *))fn, &r, ctx};
    return store_each(t, STORE_DB_COUPONS, NULL, 0, each_one, &e);
}

int reg_put_conversion(store_txn *t, const rec_conversion *c)
{
    size_t n;
    uint8_t *buf = rec_conversion_encode(c, &n);
    if (!buf)
        return STORE_CORRUPT;
    int rc = store_put(t, STORE_DB_CONVERSIONS, c->id, 16, buf, n, STORE_APPEND);
    free(buf);
    if (rc)
        return rc;
    uint8_t key[REC_ID + REC_ORDER];
    size_t klen = key_order(key, c->shop, c->order_id);
    return store_put(t, STORE_DB_ORDERS, key, klen, c->id, 16, 0);
}

int reg_get_conversion(store_txn *t, const uint8_t id[16], rec_conversion *r)
{
    store_val v = {NULL, 0};
    int rc = store_get(t, STORE_DB_CONVERSIONS, id, 16, &v);
    if (rc)
        return rc;
    if (rec_conversion_decode(id, 16, v.data, v.len, r)) {
        rec_conversion_free(r);
        return STORE_CORRUPT;
    }
    return STORE_OK;
}

int reg_find_order(store_txn *t, const char *shop, const char *order_id, uint8_t id[16])
{
    if (strlen(shop) >= REC_ID || strlen(order_id) >= REC_ORDER)
        return STORE_NOTFOUND;
    uint8_t key[REC_ID + REC_ORDER];
    size_t klen = key_order(key, shop, order_id);
    store_val v = {NULL, 0};
    int rc = store_get(t, STORE_DB_ORDERS, key, klen, &v);
    if (rc)
        return rc;
    if (v.len != 16)
        return STORE_CORRUPT;
    memcpy(id, v.data, 16);
    return STORE_OK;
}

typedef struct {
    int (*fn)(const rec_conversion *, void *);
    void *ctx;
} conv_ctx;

static int conv_one(const store_val *k, const store_val *v, void *arg)
{
    conv_ctx *e = arg;
    rec_conversion c;
    int rc = rec_conversion_decode(k->data, k->len, v->data, v->len, &c) ? STORE_CORRUPT
                                                                         : e->fn(&c, e->ctx);
    rec_conversion_free(&c);
    return rc;
}

int reg_each_conversion(store_txn *t, int (*fn)(const rec_conversion *, void *), void *ctx)
{
    conv_ctx e = {fn, ctx};
    return store_each(t, STORE_DB_CONVERSIONS, NULL, 0, conv_one, &e);
}

static size_t join_key(uint8_t *key, const char *const *parts, int n)
{
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        size_t k = strnlen(parts[i], REC_ID - 1);
        if (i)
            key[len++] = 0;
        memcpy(key + len, parts[i], k);
        len += k;
    }
    return len;
}

int reg_put_metric(store_txn *t, const rec_metric *r)
{
    uint8_t key[4 * REC_ID], buf[REC_MAX_BYTES];
    const char *parts[] = {r->date, r->influencer, r->campaign, r->link};
    size_t klen = join_key(key, parts, 4);
    size_t n = rec_metric_encode(r, buf, sizeof(buf));
    if (!n)
        return STORE_CORRUPT;
    return store_put(t, STORE_DB_METRICS, key, klen, buf, n, 0);
}

typedef struct {
    int (*fn)(const rec_metric *, void *);
    void *ctx;
    const char *to;
} metric_ctx;

static int metric_one(const store_val *k, const store_val *v, void *arg)
{
    (void)k;
    metric_ctx *x = arg;
    rec_metric m;
    if (rec_metric_decode(v->data, v->len, &m))
        return STORE_CORRUPT;
    if (x->to && strcmp(m.date, x->to) > 0)
        return VISIT_END;
    return x->fn(&m, x->ctx);
}

int reg_each_metric(store_txn *t, const char *from, const char *to,
                    int (*fn)(const rec_metric *, void *), void *ctx)
{
    metric_ctx x = {fn, ctx, to};
    int rc = store_each(t, STORE_DB_METRICS, from, from ? strlen(from) : 0, metric_one, &x);
    return rc == VISIT_END ? STORE_OK : rc;
}

int reg_put_cost(store_txn *t, const rec_cost *r)
{
    uint8_t buf[REC_MAX_BYTES];
    size_t n = rec_cost_encode(r, buf, sizeof(buf));
    if (!n)
        return STORE_CORRUPT;
    return store_put(t, STORE_DB_COSTS, r->id, 16, buf, n, STORE_NOOVERWRITE);
}

static int dec_cost(const uint8_t *p, size_t n, void *r)
{
    return rec_cost_decode(p, n, r);
}

int reg_each_cost(store_txn *t, int (*fn)(const rec_cost *, void *), void *ctx)
{
    rec_cost r;
    each_ctx e = {dec_cost, (int (*)(const void *, void *))fn, &r, ctx};
    return store_each(t, STORE_DB_COSTS, NULL, 0, each_one, &e);
}

int reg_put_paymodel(store_txn *t, const rec_paymodel *r)
{
    uint8_t key[2 * REC_ID], buf[REC_MAX_BYTES];
    const char *parts[] = {r->influencer, r->campaign};
    size_t klen = join_key(key, parts, 2);
    size_t n = rec_paymodel_encode(r, buf, sizeof(buf));
    if (!n)
        return STORE_CORRUPT;
    return store_put(t, STORE_DB_PAYMODELS, key, klen, buf, n, 0);
}

static int dec_paymodel(const uint8_t *p, size_t n, void *r)
{
    return rec_paymodel_decode(p, n, r);
}

int reg_each_paymodel(store_txn *t, int (*fn)(const rec_paymodel *, void *), void *ctx)
{
    rec_paymodel r;
    each_ctx e = {dec_paymodel, (int (*)(const void *, void *))fn, &r, ctx};
    return store_each(t, STORE_DB_PAYMODELS, NULL, 0, each_one, &e);
}

int reg_put_apikey(store_txn *t, const rec_apikey *r)
{
    uint8_t buf[REC_MAX_BYTES];
    size_t n = rec_apikey_encode(r, buf, sizeof(buf));
    if (!n)
        return STORE_CORRUPT;
    return store_put(t, STORE_DB_APIKEYS, r->hash, 32, buf, n, STORE_NOOVERWRITE);
}

int reg_get_apikey(store_txn *t, const uint8_t hash[32], rec_apikey *r)
{
    store_val v = {NULL, 0};
    int rc = store_get(t, STORE_DB_APIKEYS, hash, 32, &v);
    if (rc)
        return rc;
    return rec_apikey_decode(v.data, v.len, r) ? STORE_CORRUPT : STORE_OK;
}

int reg_set_config(store_txn *t, const char *key, const char *value)
{
    char k[64];
    snprintf(k, sizeof(k), "config.%s", key);
    return store_put(t, STORE_DB_META, k, strlen(k), value, strlen(value), 0);
}

int reg_get_config(store_txn *t, const char *key, char *value, size_t cap)
{
    char k[64];
    snprintf(k, sizeof(k), "config.%s", key);
    store_val v = {NULL, 0};
    int rc = store_get(t, STORE_DB_META, k, strlen(k), &v);
    if (rc)
        return rc;
    if (v.len >= cap)
        return STORE_CORRUPT;
    memcpy(value, v.data, v.len);
    value[v.len] = '\0';
    return STORE_OK;
}

int reg_put_click(store_txn *t, const rec_click *c)
{
    uint8_t buf[REC_MAX_BYTES];
    size_t n = rec_click_encode(c, buf, sizeof(buf));
    if (n == 0)
        return STORE_CORRUPT;
    return store_put(t, STORE_DB_CLICKS, c->id, 16, buf, n, STORE_APPEND | STORE_NOOVERWRITE);
}

int reg_get_click(store_txn *t, const uint8_t id[16], rec_click *c)
{
    store_val v = {NULL, 0};
    int rc = store_get(t, STORE_DB_CLICKS, id, 16, &v);
    if (rc)
        return rc;
    return rec_click_decode(id, 16, v.data, v.len, c) ? STORE_CORRUPT : STORE_OK;
}

typedef struct {
    int (*fn)(const rec_click *, void *);
    void *ctx;
    store_txn *t;
    const uint8_t *visitor; /* visits only */
    int64_t to_ms;
} click_ctx;

static int click_one(const store_val *k, const store_val *v, void *arg)
{
    click_ctx *e = arg;
    rec_click c;
    if (rec_click_decode(k->data, k->len, v->data, v->len, &c))
        return STORE_CORRUPT;
    return e->fn(&c, e->ctx);
}

int reg_each_click(store_txn *t, int64_t since_ms, int (*fn)(const rec_click *, void *), void *ctx)
{
    uint8_t from[KEY_CLICK_ID];
    key_click_from(from, since_ms);
    return reg_each_click_from(t, from, fn, ctx);
}

int reg_each_click_from(store_txn *t, const uint8_t from[16], int (*fn)(const rec_click *, void *),
                        void *ctx)
{
    click_ctx e = {fn, ctx, t, NULL, 0};
    return store_each(t, STORE_DB_CLICKS, from, 16, click_one, &e);
}

static int visit_one(const store_val *k, const store_val *v, void *arg)
{
    (void)v;
    click_ctx *e = arg;
    const uint8_t *p = k->data;
    if (k->len != KEY_VISIT_LEN || memcmp(p, e->visitor, 16) != 0)
        return VISIT_END;
    if (key_visit_ts(p) > e->to_ms)
        return VISIT_END;
    rec_click c;
    int rc = reg_get_click(e->t, p + KEY_VISIT_ID, &c);
    if (rc == STORE_NOTFOUND)
        return 0;
    return rc ? rc : e->fn(&c, e->ctx);
}

int reg_each_visit(store_txn *t, const uint8_t visitor[16], int64_t from_ms, int64_t to_ms,
                   int (*fn)(const rec_click *, void *), void *ctx)
{
    uint8_t from[KEY_VISIT_ID];
    key_visit_from(from, visitor, from_ms);
    click_ctx e = {fn, ctx, t, visitor, to_ms};
    int rc = store_each(t, STORE_DB_VISITS, from, sizeof(from), visit_one, &e);
    return rc == VISIT_END ? STORE_OK : rc;
}
