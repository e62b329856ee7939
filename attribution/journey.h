/*
 * journey.h: which clicks of a visitor take part in a conversion, in what order.
 *
 * The storage layer collects a visitor's clicks; this module applies the rules that turn
 * them into the touch list model_credit expects: bots removed, the lookback window applied,
 * a total order (time, then click id bytes) so that every run credits the same click, and
 * the cap of MODEL_MAX_TOUCHES latest clicks so that one noisy visitor cannot make a
 * conversion cost unbounded work.
 *
 * Pure: sorts the caller's array in place; no I/O, no allocation.
 */
#ifndef JEJAK_JOURNEY_H
#define JEJAK_JOURNEY_H

#include <stddef.h>
#include <stdint.h>

#include "attribution/model.h"

typedef struct {
    int64_t ts;     /* click time, UTC ms */
    uint8_t id[16]; /* click id bytes (ID_CLICK_BYTES) */
    int bot;        /* nonzero: never credited */
    uint32_t ref;   /* caller's index, opaque, carried along */
} journey_touch;

/* Keeps the touches with !bot and conv_ts - lookback_ms <= ts <= conv_ts (both ends
 * inclusive; a negative lookback keeps nothing), sorts them by (ts, id bytes with memcmp,
 * then ref so the order is total), and if more than MODEL_MAX_TOUCHES remain keeps the
 * latest MODEL_MAX_TOUCHES. Works in place: the kept touches are t[0 .. result-1], in
 * order; the rest of the array is unspecified. Returns the new count (0 if t is NULL). */
size_t journey_select(journey_touch *t, size_t n, int64_t conv_ts, int64_t lookback_ms);

#endif
