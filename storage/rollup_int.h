/*
 * rollup_int.h: what rollup.c (the rows, their codec, updates and scans) shares with
 * rollup_rebuild.c (the rebuild and check), and no other module includes.
 */
#ifndef JEJAK_ROLLUP_INT_H
#define JEJAK_ROLLUP_INT_H

#include "storage/rollup.h"

/* The longest rollup key: bucket, kind, two names and the NUL between them. */
enum { ROLLUP_KEY_MAX = 4 + 1 + 2 * REC_ID };

/* A decoded row and room for its money entries: one per use and thread, so that no row is
 * allocated per record. */
typedef struct {
    rollup_row row;
    rollup_money money[ROLLUP_MAX_MONEY];
} rollup_buf;

/* b's row, its money pointing into b. */
rollup_row *rollup_row_of(rollup_buf *b);
/* A stored value into r (whose money must have room for ROLLUP_MAX_MONEY): 0, or -1 when it
 * does not decode. */
int rollup_decode(const uint8_t *p, size_t len, rollup_row *r);
/* Encodes r and puts it at key in db. */
int rollup_save(store_txn *t, store_db db, const uint8_t *key, size_t klen, const rollup_row *r);

#endif
