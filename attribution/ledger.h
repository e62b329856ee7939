/*
 * ledger.h: recording a conversion and deciding who earned it: the join of a shop's
 * postback with the clicks in the store, under every attribution model at once.
 *
 * One conversion per (shop, order_id). Posting it again is a duplicate and changes
 * nothing; posting it with another status moves it along the state table below (reports
 * count revenue of approved conversions only). A repeat that leaves the status out never
 * changes it, so a shop's late retry is harmless at any time. A repeat that asks for a
 * change the table does not allow, or names another amount or currency, is a conflict:
 * nothing is written. Credits are computed once, when the conversion is first recorded,
 * for all five models, and stored with it, so reports never replay journeys.
 *
 *   stored      may become            (docs/shops.md shows the same table)
 *   pending     approved, declined
 *   approved    refunded
 *   declined    nothing: final
 *   refunded    nothing: final
 *
 * A new order may start in any status.
 *
 * Attribution: the click id names a click; its visitor's non-bot clicks from lookback
 * before the conversion up to it form the journey, credited by model.c. Without a
 * journey, a known coupon gets 100% (and wins over a journey with coupon_priority).
 * Otherwise the conversion is stored unattributed (ledger_reason says why): a shop's sale
 * is never dropped.
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

/* Why a conversion is unattributed: the first of these that applies. A click id that looks
 * like a template macro is recognized, not looked up. */
typedef enum {
    LEDGER_REASON_NONE,               /* attributed (or not a new conversion) */
    LEDGER_REASON_UNFILLED_MACRO,     /* click id "{clickid}", "%CLICK_ID%", "REPLACE"... */
    LEDGER_REASON_UNKNOWN_CLICK,      /* no click has this id */
    LEDGER_REASON_BOT_CLICK,          /* the click is a bot's (or a flood's), and its visitor
                                         has no other click that counts */
    LEDGER_REASON_OUTSIDE_LOOKBACK,   /* the click is older than the lookback, or after
                                         occurred_at, and so are its visitor's others */
    LEDGER_REASON_UNKNOWN_COUPON,     /* no click id; a coupon no one registered */
    LEDGER_REASON_NO_CLICK_NO_COUPON, /* neither a click id nor a coupon */
    LEDGER_REASON_COUNT
} ledger_reason;

/* The reason's name in JSON ("unknown_click", ...); "" for LEDGER_REASON_NONE and unknown
 * values. Static storage. */
const char *ledger_reason_name(unsigned reason);
/* Whether click_id is a shop platform's template placeholder left unfilled: "{clickid}",
 * "{click_id}", "[clickid]", "%CLICK_ID%", "#clickid#", "<clickid>", "${clickid}",
 * "REPLACE". */
bool ledger_is_macro(const char *click_id);

/* LEDGER_CONFLICT is last: the outcomes before it are the accepted ones. */
typedef enum { LEDGER_RECORDED, LEDGER_DUPLICATE, LEDGER_UPDATED, LEDGER_CONFLICT } ledger_outcome;

typedef struct {
    ledger_outcome outcome;
    uint8_t via;        /* rec_via of the stored conversion */
    uint8_t old_status; /* LEDGER_UPDATED, LEDGER_CONFLICT: the stored status (before) */
    uint8_t id[16];     /* the conversion's id */
    uint8_t reason;     /* LEDGER_RECORDED with via REC_VIA_NONE: why (ledger_reason) */
    char field[16];     /* LEDGER_CONFLICT: "status", "amount" or "currency" */
    char why[200];      /* LEDGER_CONFLICT: the reason, for the shop */
} ledger_result;

/* Which fields a postback gave: one it left out is neither changed nor compared. */
enum {
    LEDGER_GAVE_STATUS = 1,
    LEDGER_GAVE_AMOUNT = 2,
    LEDGER_GAVE_CURRENCY = 4,
    LEDGER_GAVE_ALL = 7
};

/* Records in (shop, order_id, event, status, amount, currency, click_id, coupon, ts_ms
 * filled; id, credits, via and the jejak times are set here) inside t, atomically (a
 * nested transaction: on error or conflict nothing of it is written). given says which of
 * status, amount and currency the shop sent (LEDGER_GAVE_*); for a new order the defaults
 * in in count as given. now_ms stamps the record. */
int ledger_record_given(store_txn *t, const rec_conversion *in, unsigned given,
                        const ledger_config *cfg, int64_t now_ms, ledger_result *out);
/* ledger_record_given with every field given. */
int ledger_record(store_txn *t, const rec_conversion *in, const ledger_config *cfg, int64_t now_ms,
                  ledger_result *out);

/* Whether a stored order in status from may move to status to (the table above); false for
 * from == to (that is a duplicate, not a change) and for unknown statuses. */
bool ledger_status_change_allowed(uint8_t from, uint8_t to);

/* Computes the credits of c (via, credits[]) from the store, as ledger_record does; exposed
 * for rebuilds and tests. Frees and replaces c's credit arrays. */
int ledger_attribute(store_txn *t, rec_conversion *c, const ledger_config *cfg);
/* The same, and why c is unattributed (LEDGER_REASON_NONE when it is not); why may be NULL. */
int ledger_attribute_why(store_txn *t, rec_conversion *c, const ledger_config *cfg,
                         ledger_reason *why);

#endif
