/*
 * model.h: the five attribution models, which split one conversion (a count of 1 and an
 * amount of money) over the clicks of its journey.
 *
 * Invariants every model keeps, for every journey, so that reports add up:
 *   1. shares sum to exactly MODEL_SHARE_ONE and credits sum to exactly the amount;
 *   2. every share and credit is >= 0;
 *   3. a click with a larger weight never gets less than one with a smaller weight.
 * Both splits use largest-remainder rounding on exact integer weights; a tie in the
 * remainder goes to the earlier click. Floating point only ever computes time-decay
 * weights, which are turned into integers before money is split.
 *
 * Definitions (Google Analytics, Matomo):
 *   last_click      100% to the last click;
 *   first_click     100% to the first click;
 *   linear          equal parts;
 *   time_decay      weight 2^(-dt / 7 days), dt = conversion time - click time in ms
 *                   (a click after the conversion counts as dt = 0);
 *   position_based  1 click 100%; 2 clicks 50/50; n >= 3 clicks 40% first, 40% last and
 *                   20% split evenly over the n - 2 middle clicks.
 *
 * Pure functions: no I/O, no allocation; outputs go into caller-owned arrays.
 */
#ifndef JEJAK_MODEL_H
#define JEJAK_MODEL_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    MODEL_LAST_CLICK,
    MODEL_FIRST_CLICK,
    MODEL_LINEAR,
    MODEL_TIME_DECAY,
    MODEL_POSITION_BASED,
    MODEL_COUNT
} model_kind;

/* "last_click", "first_click", "linear", "time_decay", "position_based"; NULL if m is out
 * of range. Static strings. */
const char *model_name(model_kind m);

/* Accepts the names above with '_' or '-' ("last-click"), ASCII case-insensitive.
 * 0 and sets *out, or -1 if unknown. */
int model_parse(const char *s, model_kind *out);

/* A conversion is MODEL_SHARE_ONE parts, so fractional conversion counts are integers that
 * add up exactly. */
enum { MODEL_SHARE_ONE = 1000000000 };

/* The longest journey credited; journey_select keeps the latest this many clicks. */
enum { MODEL_MAX_TOUCHES = 256 };

/* Credits one conversion to a journey.
 *   touch_ts  n click times (UTC ms) in time order, ties already ordered by click id, bots
 *             and clicks outside the lookback already removed (see journey_select);
 *   conv_ts   conversion time (UTC ms);
 *   amount    conversion value in minor units, >= 0;
 *   share     out: n parts of MODEL_SHARE_ONE, summing to exactly MODEL_SHARE_ONE;
 *   credit    out: n amounts in minor units, summing to exactly amount.
 * If n > MODEL_MAX_TOUCHES only the last MODEL_MAX_TOUCHES clicks count (the first of them
 * is "the first click" for first_click and position_based); the earlier ones get share and
 * credit 0. Callers normally pass the tail that journey_select kept, so this never happens.
 * n == 0 returns 0 and writes nothing. Returns n, or -1 on bad arguments (unknown model,
 * amount < 0, NULL arrays with n > 0, n > INT_MAX), writing nothing. */
int model_credit(model_kind m, const int64_t *touch_ts, size_t n, int64_t conv_ts, int64_t amount,
                 int64_t *share, int64_t *credit);

#endif
