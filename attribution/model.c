/*
 * model.c: attribution weights and the largest-remainder split that turns them into
 * integer shares and credits.
 *
 * Each model first produces one uint64_t weight per click; only the ratios matter.
 * Linear, first/last click and position-based weights are exact small integers
 * (position-based n >= 3: 2(n-2), 1, ..., 1, 2(n-2) over 5(n-2), which is 40/20/40).
 * Time-decay weights are 2^52 * 2^(-(dt - dt_min) / 7 days): measuring age from the
 * youngest click keeps ratios unchanged, gives the youngest click exactly 2^52, keeps
 * whole half-lives exact (8 days vs 1 day is exactly 1:2) and stops old journeys from
 * underflowing. A click more than 52 half-lives older than the youngest gets weight 0.
 *
 * The split (model_split) is integer-only: target * w_i / W in unsigned __int128 (target
 * < 2^63, w_i <= 2^52, W <= 2^60, so nothing overflows), floors first, then the leftover
 * units one each to the largest remainders, earliest click first on a tie. Largest
 * remainder is monotone: a larger weight never gets a smaller result.
 */
#include "attribution/model.h"

#include <limits.h>
#include <math.h>
#include <string.h>

static const char *const model_names[MODEL_COUNT] = {
    "last_click", "first_click", "linear", "time_decay", "position_based",
};

const char *model_name(model_kind m)
{
    if ((unsigned)m >= MODEL_COUNT)
        return NULL;
    return model_names[m];
}

static char model_fold(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    if (c == '-')
        return '_';
    return c;
}

int model_parse(const char *s, model_kind *out)
{
    if (s == NULL || out == NULL)
        return -1;
    for (int m = 0; m < MODEL_COUNT; m++) {
        const char *name = model_names[m];
        size_t i = 0;
        while (name[i] != '\0' && model_fold(s[i]) == name[i])
            i++;
        if (name[i] == '\0' && s[i] == '\0') {
            *out = (model_kind)m;
            return 0;
        }
    }
    return -1;
}

typedef unsigned __int128 model_u128;

enum { MODEL_DECAY_SCALE_BITS = 52 };
static const int64_t model_half_life_ms = 7LL * 24 * 60 * 60 * 1000;

/* conv_ts - ts, clamped to [0, INT64_MAX]: a click after the conversion is dt = 0, and
 * absurd timestamps must not overflow. */
static int64_t model_age(int64_t conv_ts, int64_t ts)
{
    if (ts >= conv_ts)
        return 0;
    uint64_t d = (uint64_t)conv_ts - (uint64_t)ts;
    return d > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)d;
}

static void model_weights(model_kind m, const int64_t *ts, size_t n, int64_t conv_ts, uint64_t *w)
{
    switch (m) {
    case MODEL_LAST_CLICK:
    case MODEL_FIRST_CLICK:
        for (size_t i = 0; i < n; i++)
            w[i] = 0;
        w[m == MODEL_LAST_CLICK ? n - 1 : 0] = 1;
        break;
    case MODEL_LINEAR:
        for (size_t i = 0; i < n; i++)
            w[i] = 1;
        break;
    case MODEL_POSITION_BASED:
        for (size_t i = 0; i < n; i++)
            w[i] = 1;
        if (n >= 3) {
            w[0] = 2 * (uint64_t)(n - 2);
            w[n - 1] = 2 * (uint64_t)(n - 2);
        }
        break;
    case MODEL_TIME_DECAY: {
        int64_t youngest = INT64_MAX;
        for (size_t i = 0; i < n; i++) {
            int64_t age = model_age(conv_ts, ts[i]);
            if (age < youngest)
                youngest = age;
        }
        for (size_t i = 0; i < n; i++) {
            int64_t extra = model_age(conv_ts, ts[i]) - youngest; /* >= 0, no overflow */
            /* Split into whole half-lives (exact shift) and a fraction (exp2 in [0.5, 1]). */
            int64_t whole = extra / model_half_life_ms;
            int64_t rest = extra % model_half_life_ms;
            if (whole > MODEL_DECAY_SCALE_BITS) {
                w[i] = 0;
                continue;
            }
            double frac = exp2(-(double)rest / (double)model_half_life_ms);
            double scaled = ldexp(frac, MODEL_DECAY_SCALE_BITS - (int)whole);
            w[i] = (uint64_t)scaled; /* in [0, 2^52]: the cast is defined */
        }
        break;
    }
    default:
        break;
    }
}

/* Splits target (>= 0) over n weights by largest remainder into out. total must be > 0. */
static void model_split(const uint64_t *w, size_t n, model_u128 total, int64_t target, int64_t *out)
{
    model_u128 rem[MODEL_MAX_TOUCHES];
    uint16_t order[MODEL_MAX_TOUCHES];
    uint64_t given = 0;

    for (size_t i = 0; i < n; i++) {
        model_u128 p = (model_u128)(uint64_t)target * w[i];
        out[i] = (int64_t)(p / total);
        rem[i] = p % total;
        given += (uint64_t)out[i];
    }
    uint64_t left = (uint64_t)target - given; /* < n */
    if (left == 0)
        return;

    /* Stable insertion sort by remainder, largest first: ties keep the earlier click. */
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && rem[order[j - 1]] < rem[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = (uint16_t)i;
    }
    for (uint64_t k = 0; k < left; k++)
        out[order[k]]++;
}

int model_credit(model_kind m, const int64_t *touch_ts, size_t n, int64_t conv_ts, int64_t amount,
                 int64_t *share, int64_t *credit)
{
    if ((unsigned)m >= MODEL_COUNT || amount < 0 || n > INT_MAX)
        return -1;
    if (n == 0)
        return 0;
    if (touch_ts == NULL || share == NULL || credit == NULL)
        return -1;

    size_t skip = n > MODEL_MAX_TOUCHES ? n - MODEL_MAX_TOUCHES : 0;
    size_t k = n - skip;
    for (size_t i = 0; i < skip; i++)
        share[i] = credit[i] = 0;

    uint64_t w[MODEL_MAX_TOUCHES];
    model_weights(m, touch_ts + skip, k, conv_ts, w);
    model_u128 total = 0;
    for (size_t i = 0; i < k; i++)
        total += w[i];
    /* Cannot happen (every model gives the youngest or some click a positive weight), but
     * a zero total must never divide: fall back to linear. */
    if (total == 0) {
        for (size_t i = 0; i < k; i++)
            w[i] = 1;
        total = k;
    }
    model_split(w, k, total, MODEL_SHARE_ONE, share + skip);
    model_split(w, k, total, amount, credit + skip);
    return (int)n;
}
