/*
 * ledger.h: recording a conversion and deciding who earned it: the join of a shop's
 * postback with the clicks in the store, under every attribution model at once.
 *
 * One conversion per (shop, order_id). Posting it again is a duplicate and changes
 * nothing; posting it with another status updates that status (reports count revenue of
 * approved conversions only). Credits are computed once, when the conversion is first
 * recorded, for all five models, and stored with it, so reports never replay journeys.
 *
 * Attribution: the click id names a click; its visitor's non-bot clicks from lookback
 * before the conversion up to it form the journey, credited by model.c. Without a
 * journey, a known coupon gets 100% (and wins over a journey with coupon_priority).
 * Otherwise the conversion is stored unattributed: a shop's sale is never dropped.
 */
#ifndef JEJAK_LEDGER_H
#define JEJAK_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/record.h"
#include "storage/store.h"

typedef struct {
    int64_t lookback_ms;
    bool coupon_priority;
} ledger_config;

typedef enum { LEDGER_RECORDED, LEDGER_DUPLICATE, LEDGER_UPDATED } ledger_outcome;

typedef struct {
    ledger_outcome outcome;
    uint8_t via;        /* rec_via of the stored conversion */
    uint8_t old_status; /* LEDGER_UPDATED: the status before */
    uint8_t id[16];     /* the conversion's id */
} ledger_result;

/* Records in (shop, order_id, event, status, amount, currency, click_id, coupon, ts_ms
 * filled; id, credits, via and the jejak times are set here) inside t, atomically (a
 * nested transaction: on error nothing of it is written). now_ms stamps the record. */
int ledger_record(store_txn *t, const rec_conversion *in, const ledger_config *cfg, int64_t now_ms,
                  ledger_result *out);

/* Computes the credits of c (via, credits[]) from the store, as ledger_record does; exposed
 * for rebuilds and tests. Frees and replaces c's credit arrays. */
int ledger_attribute(store_txn *t, rec_conversion *c, const ledger_config *cfg);

#endif
