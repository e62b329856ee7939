/*
 * registry.h: typed access to the stored records: influencers, campaigns, links and
 * clicks, on top of store.h and record.h.
 *
 * Every function works inside a transaction the caller opened (store_read_begin or
 * store_update) and copies records into caller-owned structs.
 */
#ifndef JEJAK_REGISTRY_H
#define JEJAK_REGISTRY_H

#include "storage/record.h"
#include "storage/store.h"

/* Puts fail with STORE_EXISTS when the id is taken; nothing is overwritten. */
int reg_put_influencer(store_txn *t, const rec_influencer *r);
int reg_get_influencer(store_txn *t, const char *id, rec_influencer *r);
int reg_put_campaign(store_txn *t, const rec_campaign *r);
int reg_get_campaign(store_txn *t, const char *id, rec_campaign *r);
int reg_put_link(store_txn *t, const rec_link *r);
int reg_get_link(store_txn *t, const char *slug, rec_link *r);

/* Checks that the influencer (and the campaign, unless "") exist, as every record that names
 * them requires. STORE_NOTFOUND sets *missing to "influencer" or "campaign". inf may be NULL. */
int reg_check_owner(store_txn *t, const char *influencer, const char *campaign, rec_influencer *inf,
                    const char **missing);

/* Iteration in key order; fn returns non-zero to stop (that value is returned). */
int reg_each_influencer(store_txn *t, int (*fn)(const rec_influencer *, void *), void *ctx);
int reg_each_campaign(store_txn *t, int (*fn)(const rec_campaign *, void *), void *ctx);
int reg_each_link(store_txn *t, int (*fn)(const rec_link *, void *), void *ctx);

int reg_put_shop(store_txn *t, const rec_shop *r);
int reg_get_shop(store_txn *t, const char *id, rec_shop *r);
int reg_each_shop(store_txn *t, int (*fn)(const rec_shop *, void *), void *ctx);
/* Coupon codes are stored and looked up uppercased (ASCII). */
int reg_put_coupon(store_txn *t, const rec_coupon *r);
int reg_get_coupon(store_txn *t, const char *code, rec_coupon *r);
int reg_each_coupon(store_txn *t, int (*fn)(const rec_coupon *, void *), void *ctx);

/* Conversions: put (new or replacing the same id) also maintains the order index. */
int reg_put_conversion(store_txn *t, const rec_conversion *c);
/* r must be released with rec_conversion_free after a STORE_OK. */
int reg_get_conversion(store_txn *t, const uint8_t id[16], rec_conversion *r);
int reg_find_order(store_txn *t, const char *shop, const char *order_id, uint8_t id[16]);
/* fn gets each conversion (freed after fn returns). */
int reg_each_conversion(store_txn *t, int (*fn)(const rec_conversion *, void *), void *ctx);

/* Imported metrics: a put replaces the row of the same (date, influencer, campaign, link). */
int reg_put_metric(store_txn *t, const rec_metric *r);
/* Rows with from <= date <= to (YYYY-MM-DD; NULL = open). */
int reg_each_metric(store_txn *t, const char *from, const char *to,
                    int (*fn)(const rec_metric *, void *), void *ctx);
int reg_put_cost(store_txn *t, const rec_cost *r);
int reg_each_cost(store_txn *t, int (*fn)(const rec_cost *, void *), void *ctx);
/* A put replaces the pay model of the same (influencer, campaign). */
int reg_put_paymodel(store_txn *t, const rec_paymodel *r);
int reg_each_paymodel(store_txn *t, int (*fn)(const rec_paymodel *, void *), void *ctx);
int reg_put_apikey(store_txn *t, const rec_apikey *r);
int reg_get_apikey(store_txn *t, const uint8_t hash[32], rec_apikey *r);
/* Small settings in the meta database ("tz"); values up to 255 bytes. */
int reg_set_config(store_txn *t, const char *key, const char *value);
int reg_get_config(store_txn *t, const char *key, char *value, size_t cap);

/* Stores a click record (clicks.c decides its unique flag and indexes it). */
int reg_put_click(store_txn *t, const rec_click *c);
int reg_get_click(store_txn *t, const uint8_t id[16], rec_click *c);
/* Clicks with ts >= since_ms, in time order. */
int reg_each_click(store_txn *t, int64_t since_ms, int (*fn)(const rec_click *, void *), void *ctx);
/* Clicks with id >= from, in id (time) order. */
int reg_each_click_from(store_txn *t, const uint8_t from[16], int (*fn)(const rec_click *, void *),
                        void *ctx);
/* A visitor's non-bot clicks with from_ms <= ts <= to_ms, in time order. */
int reg_each_visit(store_txn *t, const uint8_t visitor[16], int64_t from_ms, int64_t to_ms,
                   int (*fn)(const rec_click *, void *), void *ctx);

#endif
