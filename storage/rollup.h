/*
 * rollup.h: the pre-aggregated counts reports are answered from, so that a report's cost
 * follows the number of links and time buckets in its period, not the number of clicks.
 *
 * A rollup row is keyed by (15-minute bucket, subject): the subject is a link (clicks and
 * click-attributed credit) or an influencer+campaign pair (coupon credit, which has no
 * link). 15 minutes divides every UTC offset in use (+05:45, +08:45, ...), so a day in any
 * IANA time zone is an exact union of buckets. Each row holds click counts and, per model
 * and currency, conversions (parts of 1e9) and revenue (minor units) of approved
 * conversions; every sum is checked. A third kind of row, with no subject, counts the
 * approved conversions credited to no one.
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

/* A row holds one money entry per model and currency: ROLLUP_MAX_CURRENCIES is above the
 * number of ISO 4217 codes a conversion can carry (165 active ones and "XXX"), so no
 * currency is ever refused for want of room. */
enum {
    ROLLUP_BUCKET_MS = 15 * 60 * 1000,
    ROLLUP_MAX_CURRENCIES = 192,
    ROLLUP_MAX_MONEY = REC_MODELS * ROLLUP_MAX_CURRENCIES
};

typedef struct {
    uint8_t model;
    char currency[4];
    int64_t parts;   /* conversions, in parts of 1e9 */
    int64_t revenue; /* minor units */
} rollup_money;

/* In a row handed to a rollup_fn, money (nmoney entries) is owned by rollup.c and valid only
 * during the call: copy what you keep. A delta passed to rollup_add_counts needs only its
 * counters (money is not read). */
typedef struct {
    uint64_t clicks, unique, bots, suspicious;
    uint16_t nmoney;
    rollup_money *money;
} rollup_row;

/* LINK: name is a link slug. COUPON: name is an influencer, name2 a campaign. NONE: no name,
 * the conversions credited to no one (neither a journey nor a coupon), under every model
 * with their whole amount, so that a report's totals hold every approved sale. */
typedef enum { ROLLUP_LINK = 'L', ROLLUP_COUPON = 'C', ROLLUP_NONE = 'U' } rollup_kind;

/* Counts a stored click (bot, unique and suspicious flags as stored). */
int rollup_add_click(store_txn *t, const rec_click *c);
/* The counts one click adds (only the counters of d are set). */
void rollup_click_delta(const rec_click *c, rollup_row *d);
/* Adds counts to the link's row of the bucket holding ts_ms (many clicks at once). */
int rollup_add_counts(store_txn *t, int64_t ts_ms, const char *link, const rollup_row *delta);
/* STORE_OK if the link's rows (both levels) of the bucket holding ts_ms decode or do not
 * exist yet, so that rollup_add_counts on them cannot fail for their content; STORE_CORRUPT
 * if one does not. Writes nothing. */
int rollup_check_counts(store_txn *t, int64_t ts_ms, const char *link);
/* Adds (sign +1) or removes (-1) an approved conversion's credits under every model (an
 * unattributed one to the NONE row). STORE_RANGE when a sum would leave int64: the caller
 * abandons its transaction (ledger_record's nested one is) and refuses the conversion (a
 * 4xx, not a retry); no row ever holds a wrapped number. */
int rollup_add_conversion(store_txn *t, const rec_conversion *c, int sign);

/* Whether a stored row decodes (for `jejak check`): 0, or -1 if it does not. */
int rollup_row_check(const void *p, size_t len);

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
 * number of differing rows in *diffs. Safe on a live store: it runs in slices of time of
 * at most 2,500 clicks and 2,500 conversions, one short write transaction each (tens of
 * milliseconds), pausing between them so that the daemon's writer goes on; every slice
 * leaves consistent rows, so an interrupted rebuild can simply be run again. */
int rollup_rebuild(store *s, bool check, uint64_t *rows, uint64_t *diffs);
/* The same with at most `slice` clicks (and conversions) per slice; *slices counts them. */
int rollup_rebuild_sliced(store *s, bool check, unsigned slice, uint64_t *rows, uint64_t *diffs,
                          uint64_t *slices);

#endif
