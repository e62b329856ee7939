/*
 * rollup.h: the pre-aggregated counts reports are answered from, so that a report's cost
 * follows the number of links and time buckets in its period, not the number of clicks.
 *
 * A rollup row is keyed by (15-minute bucket, subject): the subject is a link (clicks and
 * click-attributed credit) or an influencer+campaign pair (coupon credit, which has no
 * link). 15 minutes divides every UTC offset in use (+05:45, +08:45, ...), so a day in any
 * IANA time zone is an exact union of buckets. Each row holds click counts and, per model
 * and currency, conversions (parts of 1e9) and revenue (minor units) of approved
 * conversions.
 *
 * Every row exists at two levels: the quarter hour, and the UTC day holding it (the sum of
 * its quarter hours), so that a long period reads one row per link and day
 * (rollup_scan_days) and only its edges in quarter hours.
 *
 * Rows are updated in the same transaction as the click or conversion they count, so they
 * can never disagree with the raw records; rollup_rebuild recomputes them from those
 * records (and a test proves the two agree).
 */
#ifndef JEJAK_ROLLUP_H
#define JEJAK_ROLLUP_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/record.h"
#include "storage/store.h"

enum { ROLLUP_BUCKET_MS = 15 * 60 * 1000, ROLLUP_MAX_MONEY = 64 };

typedef struct {
    uint8_t model;
    char currency[4];
    int64_t parts;   /* conversions, in parts of 1e9 */
    int64_t revenue; /* minor units */
} rollup_money;

typedef struct {
    uint64_t clicks, unique, bots, suspicious;
    uint16_t nmoney;
    rollup_money money[ROLLUP_MAX_MONEY];
} rollup_row;

typedef enum { ROLLUP_LINK = 'L', ROLLUP_COUPON = 'C' } rollup_kind;

/* Counts a stored click (bot, unique and suspicious flags as stored). */
int rollup_add_click(store_txn *t, const rec_click *c);
/* The counts one click adds (only the counters of d are set). */
void rollup_click_delta(const rec_click *c, rollup_row *d);
/* Adds counts to the link's row of the bucket holding ts_ms (many clicks at once). */
int rollup_add_counts(store_txn *t, int64_t ts_ms, const char *link, const rollup_row *delta);
/* Adds (sign +1) or removes (-1) an approved conversion's credits under every model. */
int rollup_add_conversion(store_txn *t, const rec_conversion *c, int sign);

/* Decodes a stored row (for `jejak check`): 0, or -1 if it does not decode. */
int rollup_row_decode(const void *p, size_t len, rollup_row *r);

/* Calls fn for every row with from_ms <= bucket start < to_ms, in bucket order. For a
 * coupon row, name is "influencer" and name2 "campaign"; for a link row name2 is "". */
typedef int (*rollup_fn)(int64_t bucket_ms, rollup_kind kind, const char *name, const char *name2,
                         const rollup_row *row, void *ctx);
int rollup_scan(store_txn *t, int64_t from_ms, int64_t to_ms, rollup_fn fn, void *ctx);
/* The same over the day-level rows (bucket_ms is a UTC midnight): the sum of a UTC day's
 * quarter-hour rows, kept so that long periods read one row per link and day. */
int rollup_scan_days(store_txn *t, int64_t from_ms, int64_t to_ms, rollup_fn fn, void *ctx);

/* Recomputes every row (both levels) from the clicks and conversions; *rows counts the
 * quarter-hour rows. With check, nothing is written:
 * returns STORE_OK if the live rows equal the recomputed ones, else STORE_CORRUPT and the
 * number of differing rows in *diffs. Runs its own transaction. */
int rollup_rebuild(store *s, bool check, uint64_t *rows, uint64_t *diffs);

#endif
