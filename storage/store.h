/*
 * store.h: jejak's one LMDB environment, the only place that includes lmdb.h.
 *
 * Layout: one environment in the data folder (data.mdb, lock.mdb), holding one named
 * database per kind of record (store_db). A "meta" record holds the schema version; a
 * store written by a newer jejak is refused with a message, never guessed at.
 *
 * Rules the rest of jejak can rely on:
 *   1. Writes happen only inside store_update(), which commits or leaves nothing behind.
 *      When the map fills, store_update() aborts, grows the map (twice the size) and runs
 *      the same function again: a committed record is never lost or half-written.
 *   2. Reads see a consistent snapshot from store_read_begin() to store_read_end(). Read
 *      transactions are cached per thread, so a read costs no allocation. Keep them short:
 *      a reader pins the pages it sees, and a map resize waits for readers to end.
 *   3. Several processes may use one store: the daemon writes while the CLI reads or writes.
 *      A process that finds the map grown by another adopts the new size.
 *
 * Memory: values returned by store_get/store_each point into the map and are valid only
 * until the transaction ends; decode them (record.h) to keep them.
 */
#ifndef JEJAK_STORE_H
#define JEJAK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { STORE_SCHEMA_VERSION = 1 };

typedef enum {
    STORE_DB_META,
    STORE_DB_INFLUENCERS, /* id -> rec_influencer */
    STORE_DB_CAMPAIGNS,   /* id -> rec_campaign */
    STORE_DB_LINKS,       /* slug -> rec_link */
    STORE_DB_CLICKS,      /* click id (16 bytes, time-ordered) -> rec_click */
    STORE_DB_VISITS,      /* visitor(16) ts(8) click id(16) -> "" : a visitor's journey */
    STORE_DB_SHOPS,       /* id -> rec_shop */
    STORE_DB_COUPONS,     /* uppercased code -> rec_coupon */
    STORE_DB_CONVERSIONS, /* conversion id (16 bytes, time-ordered) -> rec_conversion */
    STORE_DB_ORDERS,      /* shop NUL order_id -> conversion id: one conversion per order */
    STORE_DB_ROLLUPS,     /* bucket(4) kind(1) name -> rollup_row (rollup.h) */
    STORE_DB_ROLLUPS_DAY, /* the same, one row per UTC day */
    STORE_DB_METRICS,     /* date NUL influencer NUL campaign NUL link -> rec_metric */
    STORE_DB_COSTS,       /* cost id (16, time-ordered) -> rec_cost */
    STORE_DB_PAYMODELS,   /* influencer NUL campaign -> rec_paymodel */
    STORE_DB_APIKEYS,     /* sha256(key) -> rec_apikey */
    STORE_DB_COUNT
} store_db;

/* Result codes: 0 is success; errors are negative and outside LMDB's and errno's ranges. */
enum {
    STORE_OK = 0,
    STORE_NOTFOUND = -31001, /* no such key */
    STORE_EXISTS = -31002,   /* key already present (no-overwrite put) */
    STORE_FULL = -31003,     /* map full: store_update grows and retries */
    STORE_IO = -31004,       /* the disk refused (ENOSPC, EIO...) */
    STORE_CORRUPT = -31005,  /* a record did not decode */
    STORE_VERSION = -31006,  /* the store is newer than this program */
    STORE_ERROR = -31007,    /* anything else LMDB reported */
    STORE_ROLLBACK = -31008, /* returned by an update function: abort quietly */
    STORE_RANGE = -31009     /* a stored total would overflow: the record is refused */
};

typedef struct store store;
typedef struct store_txn store_txn;
typedef struct {
    const void *data;
    size_t len;
} store_val;

/* Opens (creating if needed, owner-only) the store in dir. On failure returns an error
 * and a message in err. The caller owns *out and frees it with store_close. */
int store_open(store **out, const char *dir, char *err, size_t errlen);
/* Opens the store in dir only if one is there, for commands that only read: a missing
 * folder, a file, or a folder without a store is refused with STORE_NOTFOUND and a
 * message in err, and nothing is created (a typo in --data must not print zeros). */
int store_open_existing(store **out, const char *dir, char *err, size_t errlen);
/* Closes the store (and releases the daemon's lock). Every other thread must have stopped
 * using it. */
void store_close(store *s);
/* Takes the data folder for one daemon (`jejak serve`): an exclusive lock on
 * <dir>/serve.lock, held until store_close. The unique-click set lives in the daemon's
 * memory, so two daemons on one folder would count a visitor unique twice; other commands
 * never take it and go on reading and writing. Returns STORE_OK, or an error with a message
 * in err naming the folder and, when known, the pid that holds it. */
int store_lock_daemon(store *s, char *err, size_t errlen);
const char *store_strerror(int rc);
/* The name of db in the environment ("clicks"...): a static string. */
const char *store_db_name(store_db db);
const char *store_path(const store *s);
/* The current map size in bytes, for metrics and tests. */
size_t store_map_size(store *s);

int store_read_begin(store *s, store_txn **t);
void store_read_end(store_txn *t);

/* Runs fn(t, ctx) in a write transaction and commits if it returns STORE_OK; any other
 * result aborts and is returned. fn may run more than once (after a map resize), so it
 * must not have effects outside the transaction that cannot be repeated. */
typedef int (*store_update_fn)(store_txn *t, void *ctx);
int store_update(store *s, store_update_fn fn, void *ctx);

/* Runs fn in a transaction nested in t: all of fn's writes land, or none of them (when fn
 * fails), while t goes on. */
int store_nested(store_txn *t, store_update_fn fn, void *ctx);

enum { STORE_NOOVERWRITE = 1, STORE_APPEND = 2 };
int store_get(store_txn *t, store_db db, const void *key, size_t klen, store_val *val);
int store_put(store_txn *t, store_db db, const void *key, size_t klen, const void *val, size_t vlen,
              unsigned flags);
int store_del(store_txn *t, store_db db, const void *key, size_t klen);
/* Deletes every record of db. */
int store_clear(store_txn *t, store_db db);
/* Calls fn for each record with key >= from (all if from is NULL), in key order, until fn
 * returns non-zero (which store_each then returns). */
typedef int (*store_each_fn)(const store_val *key, const store_val *val, void *ctx);
int store_each(store_txn *t, store_db db, const void *from, size_t fromlen, store_each_fn fn,
               void *ctx);
/* Number of records in db. */
size_t store_count(store_txn *t, store_db db);

#endif
