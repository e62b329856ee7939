/*
 * clicks.h: how a click is written, on the writer thread: the click record, the decision
 * "first click of this visitor on this link today" (unique), and the visits index
 * (visitor -> clicks) that journeys are built from.
 *
 * A click is unique when it is the visitor's first non-bot click on the link in a day of
 * the store's zone (`jejak config set tz`, UTC when unset). The zone is read at the start
 * of every batch: a change applies to the next batch (on the day of the change, a visitor
 * who clicked on both sides of it may be judged against the other zone's day once).
 *
 * Why not write the indexes with each click: both are keyed by visitor, so each click
 * would dirty a random page of each index, and those pages, not the click, would make up
 * most of every commit's flush. Instead:
 *   - unique is decided in memory (a set of today's and yesterday's (day, link, visitor)
 *     hashes, rebuilt from the clicks table at start) and stored in the click itself;
 *   - visits index entries are queued and written in bulk, at most a second late, and
 *     at once before anything reads the index (clicks_flush_visits). A watermark in the
 *     meta records how far the index has been written; at start, the clicks after it are
 *     indexed again (idempotent), so a crash loses no index entry.
 *
 * All functions run on one thread (the writer's) except where noted.
 */
#ifndef JEJAK_CLICKS_H
#define JEJAK_CLICKS_H

#include <stdbool.h>

#include "storage/record.h"
#include "storage/store.h"

typedef struct clicks clicks;

enum { CLICKS_ZONE_MAX = 65 };

/* The local day holding utc_ms in zone, and that day's UTC bounds [*start_ms, *end_ms)
 * (attribution's tz_day_bounds; storage sits below attribution, so the caller hands it in).
 * Called on the writer thread, rarely: only when a click falls outside the days it gave. */
typedef int64_t (*clicks_day_fn)(const char *zone, int64_t utc_ms, int64_t *start_ms,
                                 int64_t *end_ms);

/* Rebuilds the in-memory state from the store (yesterday's and today's clicks in the store's
 * zone; visits after the watermark). day_fn: NULL for UTC days whatever the zone (tests).
 * Call without a transaction open. The caller owns *out (clicks_free). */
int clicks_open(clicks **out, store *s, clicks_day_fn day_fn);
void clicks_free(clicks *c);

/* Decides c's unique flag (once: *decided remembers it across a batch retry), then writes
 * the click record and queues its visits entry. Inside the writer's transaction. The
 * click's source is unknown: it is never flagged as a flood. On an error other than
 * STORE_FULL it has written nothing and taken its decision back (its rollup rows do not
 * decode: STORE_CORRUPT; or memory ran out), and the batch goes on. */
int clicks_put(clicks *c, store_txn *t, rec_click *click, bool *decided);
/* As clicks_put, for a click from a known source: a 64-bit keyed hash of the client's full
 * address and User-Agent, made by the daemon (tracker/route_click.c). The stored address is
 * anonymized and cannot tell the phones behind one carrier's NAT range apart; the source
 * can, and it is only counted in memory, never stored. 0 = unknown. */
int clicks_put_from(clicks *c, store_txn *t, rec_click *click, uint64_t source, bool *decided);
/* Clicks beyond per_minute from one source on one link, within a UTC minute, are flagged
 * REC_CLICK_SUSPICIOUS: stored, but left out of counts and journeys. 0 = off. */
void clicks_set_flood_limit(clicks *c, unsigned per_minute);

/* Called as a batch is (re)applied, before its first clicks_put: forgets the rollup counts
 * of an attempt that did not commit. */
void clicks_begin(clicks *c);

/* At the end of a batch, inside its transaction: writes the batch's rollup counts, then
 * queued visits entries if forced, or if enough time or entries have piled up. */
int clicks_flush_visits(clicks *c, store_txn *t, bool force);
/* Tells the outcome of the transaction that clicks_flush_visits wrote into. */
void clicks_committed(clicks *c, int rc);

#endif
