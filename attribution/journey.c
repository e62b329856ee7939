/*
 * journey.c: filtering, ordering and capping a visitor's clicks before attribution.
 *
 * The window bound conv_ts - lookback_ms is computed with saturation, so a huge lookback
 * ("all time") or an extreme timestamp cannot overflow. Ordering uses qsort with a
 * comparator that is a total order on (ts, id, ref), so qsort's instability cannot change
 * which click a model credits.
 */
#include "attribution/journey.h"

#include <stdlib.h>
#include <string.h>

static int journey_cmp(const void *a, const void *b)
{
    const journey_touch *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    int c = memcmp(x->id, y->id, sizeof x->id);
    if (c != 0)
        return c;
    if (x->ref != y->ref)
        return x->ref < y->ref ? -1 : 1;
    return 0;
}

size_t journey_select(journey_touch *t, size_t n, int64_t conv_ts, int64_t lookback_ms)
{
    if (t == NULL || lookback_ms < 0)
        return 0;
    int64_t from = conv_ts < INT64_MIN + lookback_ms ? INT64_MIN : conv_ts - lookback_ms;

    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i].bot || t[i].ts < from || t[i].ts > conv_ts)
            continue;
        if (kept != i)
            t[kept] = t[i];
        kept++;
    }
    if (kept > 1)
        qsort(t, kept, sizeof *t, journey_cmp);
    if (kept > MODEL_MAX_TOUCHES) {
        memmove(t, t + (kept - MODEL_MAX_TOUCHES), MODEL_MAX_TOUCHES * sizeof *t);
        kept = MODEL_MAX_TOUCHES;
    }
    return kept;
}
