/*
 * clicks.c: the click write path (see clicks.h for why it is shaped this way).
 *
 * The unique set is a set of 64-bit xxh3 hashes of (day, link, visitor) (hashmap.h); a
 * false "not unique" needs a 64-bit collision among one day's pairs. Days are local days of
 * the store's zone (config tz, read once per batch, through the day function the caller
 * gives: storage does not know zones). Two days are kept so that a click stamped just
 * before midnight and committed just after is judged by its own day.
 */
#include "storage/clicks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/hashmap.h"
#include "storage/key.h"
#include "storage/registry.h"
#include "storage/rollup.h"
#include "storage/text.h"

/* A flush writes at most SLICE entries (each likely a page of its own: visitors are
 * random), so no commit carries more than SLICE extra pages and clicks never stall
 * behind a second's worth of index; FLUSH_MS bounds how late an entry can be. */
enum { SLICE = 1024, FLUSH_MS = 200, REINDEX_MS = 60000 };

typedef struct {
    bool live;
    int64_t day;
    hmap set; /* xxh3 of (day, link, visitor); values unused */
} day_set;

enum { DAY_SET_FIRST = 4096, FLOOD_FIRST = 1024 };

/* A local day of the store's zone and its UTC bounds, as the day function gave them. */
typedef struct {
    int64_t day, start_ms, end_ms; /* empty (start == end) until filled */
} day_span;

struct clicks {
    store *s;
    /* The store's zone (config tz), read once per batch; the days it asked for last. */
    clicks_day_fn day_fn;
    char zone[CLICKS_ZONE_MAX];
    bool zone_read; /* in this attempt */
    day_span span[2];
    unsigned span_next; /* the slot the next miss replaces */
    day_set days[2];    /* [0] newer, in local days of the zone */
    uint8_t *pending;   /* KEY_VISIT_LEN bytes each */
    size_t npending, cap_pending;
    size_t npending_committed;  /* entries [0, this) are of clicks that committed */
    int64_t pending_max_ts;     /* newest click among pending */
    int64_t last_flush_ms;      /* the last flush of the attempt under way */
    int64_t committed_flush_ms; /* the last flush that committed */
    size_t flushed;  /* entries [0, flushed) of pending written by the attempt under way */
    uint8_t *sorted; /* scratch for a flush */
    size_t cap_sorted;
    /* Flood detection: clicks per (source, link) in the current minute. */
    unsigned flood_limit; /* 0 = off */
    int64_t flood_minute;
    hmap flood; /* xxh3 of (source, link) -> clicks this minute */
    /* This batch's rollup counts, per (bucket, link). */
    struct pending_row {
        int64_t bucket;
        char link[REC_ID];
        rollup_row delta; /* counters only */
    } * rows;
    size_t nrows, caprows;
};

/* Counts this click against its (source, link) in its minute; true past the limit. A
 * minute's table is dropped when the next minute begins, so memory follows one minute's
 * distinct pairs. */
static bool flooded(clicks *c, const rec_click *k, uint64_t source)
{
    if (!c->flood_limit || !source)
        return false;
    int64_t minute = k->ts_ms / 60000;
    if (minute > c->flood_minute) {
        c->flood_minute = minute;
        hmap_clear(&c->flood);
    }
    if (hmap_reserve(&c->flood))
        return false;
    uint8_t buf[8 + REC_ID];
    size_t n = strnlen(k->link, REC_ID - 1);
    memcpy(buf, &source, 8);
    memcpy(buf + 8, k->link, n);
    uint64_t key = hmap_hash(buf, 8 + n);
    size_t j = hmap_probe(&c->flood, key);
    if (!hmap_taken(&c->flood, j))
        hmap_put(&c->flood, j, key, 0);
    return ++*hmap_value(&c->flood, j) > c->flood_limit;
}

void clicks_set_flood_limit(clicks *c, unsigned per_minute)
{
    c->flood_limit = per_minute;
}

static void set_free(day_set *d)
{
    hmap_free(&d->set);
    memset(d, 0, sizeof(*d));
}

static void set_start(day_set *d, int64_t day)
{
    memset(d, 0, sizeof(*d));
    hmap_init(&d->set, DAY_SET_FIRST, false);
    d->live = true;
    d->day = day;
}

static day_set *set_for_existing(clicks *c, int64_t day)
{
    for (int i = 0; i < 2; i++)
        if (c->days[i].live && c->days[i].day == day)
            return &c->days[i];
    return NULL;
}

/* The set for day, making room by dropping the oldest; NULL for a day older than the two
 * kept (whose pairs may already be counted in the store: never count them twice). */
static day_set *set_for(clicks *c, int64_t day)
{
    for (int i = 0; i < 2; i++)
        if (c->days[i].live && c->days[i].day == day)
            return &c->days[i];
    if (!c->days[0].live || day > c->days[0].day) {
        set_free(&c->days[1]);
        c->days[1] = c->days[0];
        set_start(&c->days[0], day);
        return &c->days[0];
    }
    if (day == c->days[0].day - 1 && !c->days[1].live) {
        set_start(&c->days[1], day);
        return &c->days[1];
    }
    return NULL;
}

static uint64_t pair_hash(int64_t day, const char *link, const uint8_t visitor[16])
{
    uint8_t buf[8 + REC_ID + 16];
    size_t n = strlen(link);
    memcpy(buf, &day, 8);
    memcpy(buf + 8, visitor, 16);
    memcpy(buf + 24, link, n);
    return hmap_hash(buf, 24 + n);
}

static int64_t utc_days(const char *zone, int64_t utc_ms, int64_t *start_ms, int64_t *end_ms)
{
    (void)zone;
    int64_t day = utc_ms >= 0 ? utc_ms / 86400000 : -((-utc_ms + 86399999) / 86400000);
    *start_ms = day * 86400000;
    *end_ms = *start_ms + 86400000;
    return day;
}

/* The local day a click counts in for uniqueness: two days' bounds are kept (today's, and
 * yesterday's for clicks committed late), so the day function runs only when a click
 * crosses a local midnight. */
static int64_t local_day(clicks *c, int64_t ts_ms)
{
    for (int i = 0; i < 2; i++)
        if (ts_ms >= c->span[i].start_ms && ts_ms < c->span[i].end_ms)
            return c->span[i].day;
    day_span *sp = &c->span[c->span_next];
    c->span_next ^= 1;
    sp->day = c->day_fn(c->zone, ts_ms, &sp->start_ms, &sp->end_ms);
    if (sp->end_ms <= sp->start_ms || ts_ms < sp->start_ms || ts_ms >= sp->end_ms)
        sp->start_ms = sp->end_ms = 0; /* not a span that holds ts: never cache it */
    return sp->day;
}

/* Reads the zone (once per attempt: one lookup per batch); a change empties the cache of
 * day bounds, and the next clicks are judged in the new zone's days. */
static void read_zone(clicks *c, store_txn *t)
{
    char zone[CLICKS_ZONE_MAX];
    if (reg_get_config(t, "tz", zone, sizeof(zone)) != STORE_OK)
        snprintf(zone, sizeof(zone), "UTC");
    c->zone_read = true;
    if (!strcmp(zone, c->zone))
        return;
    memcpy(c->zone, zone, sizeof(zone));
    memset(c->span, 0, sizeof(c->span));
}

/* 1 if this is the first non-bot click of the pair in its local day. */
static int mark_unique(clicks *c, const rec_click *k)
{
    int64_t day = local_day(c, k->ts_ms);
    day_set *d = set_for(c, day);
    if (!d)
        return 0; /* older than yesterday: a clock far behind; never count it twice */
    int r = hmap_add(&d->set, pair_hash(day, k->link, k->visitor));
    return r < 0 ? 0 : r;
}

static int queue_visit(clicks *c, const rec_click *k)
{
    if (c->npending == c->cap_pending) {
        size_t cap = c->cap_pending ? c->cap_pending * 2 : 1024;
        uint8_t *p = realloc(c->pending, cap * KEY_VISIT_LEN);
        if (!p)
            return STORE_ERROR;
        c->pending = p;
        c->cap_pending = cap;
    }
    key_visit(c->pending + c->npending++ * KEY_VISIT_LEN, k->visitor, k->ts_ms, k->id);
    if (k->ts_ms > c->pending_max_ts)
        c->pending_max_ts = k->ts_ms;
    return STORE_OK;
}

/* A batch's clicks mostly fall on a few (quarter hour, link) rows: their counts are summed
 * here and written once per row in clicks_flush (a read-modify-write per row, not per
 * click). Cleared by clicks_begin whenever the batch is (re)applied. A row joins the batch
 * only once its stored rows are known to decode, so the flush cannot fail on them: an
 * undecodable row fails the clicks that count into it, not every batch. *added tells
 * whether the row is new to this attempt (to be dropped again if the click fails). */
static int row_for(clicks *c, store_txn *t, const rec_click *k, size_t *at, bool *added)
{
    int64_t bucket = k->ts_ms / ROLLUP_BUCKET_MS;
    size_t i = 0;
    while (i < c->nrows && (c->rows[i].bucket != bucket || strcmp(c->rows[i].link, k->link)))
        i++;
    *at = i;
    *added = i == c->nrows;
    if (!*added)
        return STORE_OK;
    if (c->nrows == c->caprows) {
        size_t cap = c->caprows ? c->caprows * 2 : 16;
        struct pending_row *p = realloc(c->rows, cap * sizeof(*p));
        if (!p)
            return STORE_ERROR;
        c->rows = p;
        c->caprows = cap;
    }
    int rc = rollup_check_counts(t, k->ts_ms, k->link);
    if (rc)
        return rc;
    memset(&c->rows[i], 0, sizeof(c->rows[i]));
    c->rows[i].bucket = bucket;
    memcpy(c->rows[i].link, k->link, sizeof(c->rows[i].link));
    c->nrows++;
    return STORE_OK;
}

static void count_click(clicks *c, size_t i, const rec_click *k)
{
    rollup_row d;
    rollup_click_delta(k, &d);
    c->rows[i].delta.clicks += d.clicks;
    c->rows[i].delta.unique += d.unique;
    c->rows[i].delta.bots += d.bots;
    c->rows[i].delta.suspicious += d.suspicious;
}

void clicks_begin(clicks *c)
{
    /* A new attempt starts from what has committed: a flush of an attempt that was thrown
     * away wrote nothing, and must neither be dropped from the queue nor delay the next. */
    c->nrows = 0;
    c->zone_read = false;
    c->flushed = 0;
    c->last_flush_ms = c->committed_flush_ms;
}

static int flush_rows(clicks *c, store_txn *t)
{
    for (size_t i = 0; i < c->nrows; i++) {
        int rc = rollup_add_counts(t, c->rows[i].bucket * ROLLUP_BUCKET_MS, c->rows[i].link,
                                   &c->rows[i].delta);
        if (rc)
            return rc;
    }
    c->nrows = 0;
    return STORE_OK;
}

/* Takes back what deciding a click did, when its job fails for good: the pair leaves the
 * unique set (its next click is still the first) and its visits entry leaves the queue (it
 * would point at no click). The rare path: a linear search of the queue. */
static void forget(clicks *c, const rec_click *k)
{
    if (k->flags & REC_CLICK_UNIQUE) {
        int64_t day = local_day(c, k->ts_ms);
        day_set *d = set_for_existing(c, day);
        if (d)
            hmap_del(&d->set, pair_hash(day, k->link, k->visitor));
    }
    for (size_t i = c->npending; i-- > 0;) {
        uint8_t *key = c->pending + i * KEY_VISIT_LEN;
        if (memcmp(key + KEY_VISIT_ID, k->id, 16) || memcmp(key, k->visitor, 16))
            continue;
        memmove(key, key + KEY_VISIT_LEN, (c->npending - i - 1) * KEY_VISIT_LEN);
        c->npending--;
        if (i < c->flushed)
            c->flushed--;
        if (i < c->npending_committed)
            c->npending_committed--;
        break;
    }
}

int clicks_put(clicks *c, store_txn *t, rec_click *click, bool *decided)
{
    return clicks_put_from(c, t, click, 0, decided);
}

int clicks_put_from(clicks *c, store_txn *t, rec_click *click, uint64_t source, bool *decided)
{
    if (!c->zone_read)
        read_zone(c, t);
    if (!*decided) {
        /* Bots first, then floods: neither counts, is unique or takes part in a journey. */
        click->flags &= (uint8_t) ~(REC_CLICK_UNIQUE | REC_CLICK_SUSPICIOUS);
        if (!(click->flags & REC_CLICK_BOT) && flooded(c, click, source))
            click->flags |= REC_CLICK_SUSPICIOUS;
        bool counted = !(click->flags & (REC_CLICK_BOT | REC_CLICK_SUSPICIOUS));
        if (counted && mark_unique(c, click))
            click->flags |= REC_CLICK_UNIQUE;
        *decided = true;
        if (counted && queue_visit(c, click)) {
            forget(c, click);
            return STORE_ERROR;
        }
    }
    /* Everything that can fail comes before the one write, so a failed job writes nothing. */
    size_t row;
    bool added;
    int rc = row_for(c, t, click, &row, &added);
    if (!rc && (rc = reg_put_click(t, click)) && added)
        c->nrows--;
    if (rc) {
        if (rc != STORE_FULL) /* STORE_FULL: the batch is retried, decision kept */
            forget(c, click);
        return rc;
    }
    count_click(c, row, click);
    return STORE_OK;
}

static int put_mark(store_txn *t, int64_t ts)
{
    uint8_t b[8];
    key_put_u64(b, (uint64_t)ts);
    return store_put(t, STORE_DB_META, "visits_mark", 11, b, 8, 0);
}

static int cmp_visit(const void *a, const void *b)
{
    return memcmp(a, b, KEY_VISIT_LEN);
}

int clicks_flush_visits(clicks *c, store_txn *t, bool force)
{
    int rc = flush_rows(c, t);
    if (rc)
        return rc;
    int64_t now = text_now_ms();
    size_t left = c->npending - c->flushed; /* not yet written by this attempt */
    if (!left || (!force && left < SLICE && now - c->last_flush_ms < FLUSH_MS))
        return STORE_OK;
    /* The oldest entries go first; sorted, the slice walks the tree in key order. */
    size_t n = force || left < SLICE ? left : SLICE;
    if (n > c->cap_sorted) {
        uint8_t *p = realloc(c->sorted, n * KEY_VISIT_LEN);
        if (!p)
            return STORE_ERROR;
        c->sorted = p;
        c->cap_sorted = n;
    }
    memcpy(c->sorted, c->pending + c->flushed * KEY_VISIT_LEN, n * KEY_VISIT_LEN);
    qsort(c->sorted, n, KEY_VISIT_LEN, cmp_visit);
    for (size_t i = 0; i < n; i++) {
        rc = store_put(t, STORE_DB_VISITS, c->sorted + i * KEY_VISIT_LEN, KEY_VISIT_LEN, "", 0, 0);
        if (rc)
            return rc; /* STORE_FULL: the batch is retried with the queue intact */
    }
    /* The mark promises "every click older than this is indexed": with entries left in
     * the queue, that is just before the oldest of them. */
    int64_t mark = c->pending_max_ts;
    for (size_t i = c->flushed + n; i < c->npending; i++) {
        int64_t ts = key_visit_ts(c->pending + i * KEY_VISIT_LEN) - 1;
        if (ts < mark)
            mark = ts;
    }
    if ((rc = put_mark(t, mark)))
        return rc;
    c->flushed += n; /* dropped from the queue once the commit lands */
    c->last_flush_ms = now;
    return STORE_OK;
}

void clicks_committed(clicks *c, int rc)
{
    if (rc == STORE_OK && c->flushed) {
        memmove(c->pending, c->pending + c->flushed * KEY_VISIT_LEN,
                (c->npending - c->flushed) * KEY_VISIT_LEN);
        c->npending -= c->flushed;
        c->committed_flush_ms = c->last_flush_ms;
    }
    /* A failed commit stored none of its batch's clicks: their entries would point at
     * nothing. Entries of batches that committed stay queued either way. */
    if (rc == STORE_OK)
        c->npending_committed = c->npending;
    else
        c->npending = c->npending_committed;
    c->flushed = 0;
    c->last_flush_ms = c->committed_flush_ms;
}

/* ---- start: rebuild what lives in memory ------------------------------------------ */

typedef struct {
    clicks *c;
    store_txn *t;
    int64_t mark;
    size_t indexed;
    uint8_t resume[16]; /* where the next chunk starts */
    uint8_t next[16];   /* where the chunk after it starts, once this one commits */
    bool more;
} scan_ctx;

static int rebuild_one(const rec_click *k, void *arg)
{
    scan_ctx *x = arg;
    if ((k->flags & (REC_CLICK_BOT | REC_CLICK_SUSPICIOUS | REC_CLICK_UNIQUE)) ==
        REC_CLICK_UNIQUE) {
        int64_t day = local_day(x->c, k->ts_ms);
        day_set *d = set_for(x->c, day);
        if (d && hmap_add(&d->set, pair_hash(day, k->link, k->visitor)) < 0)
            return STORE_ERROR;
    }
    return 0;
}

enum { REINDEX_CHUNK = 100000, CHUNK_FULL = 1 };

static int reindex_one(const rec_click *k, void *arg)
{
    scan_ctx *x = arg;
    if (x->indexed == REINDEX_CHUNK) {
        memcpy(x->next, k->id, 16);
        x->more = true;
        return CHUNK_FULL;
    }
    x->indexed++;
    if (k->flags & (REC_CLICK_BOT | REC_CLICK_SUSPICIOUS))
        return 0;
    uint8_t key[KEY_VISIT_LEN];
    key_visit(key, k->visitor, k->ts_ms, k->id);
    if (k->ts_ms > x->mark)
        x->mark = k->ts_ms;
    return store_put(x->t, STORE_DB_VISITS, key, KEY_VISIT_LEN, "", 0, 0);
}

static int reindex_chunk(store_txn *t, void *arg)
{
    scan_ctx *x = arg;
    x->t = t;
    x->indexed = 0;
    x->more = false;
    uint8_t from[16];
    memcpy(from, x->resume, 16);
    int rc = reg_each_click_from(t, from, reindex_one, x);
    if (rc && rc != CHUNK_FULL)
        return rc;
    return put_mark(t, x->mark);
}

static int read_mark(store_txn *t, void *arg)
{
    int64_t *mark = arg;
    store_val v;
    int rc = store_get(t, STORE_DB_META, "visits_mark", 11, &v);
    *mark = 0;
    if (rc == STORE_NOTFOUND)
        return STORE_OK;
    if (rc || v.len != 8)
        return rc ? rc : STORE_CORRUPT;
    *mark = (int64_t)key_get_u64(v.data);
    return STORE_OK;
}

int clicks_open(clicks **out, store *s, clicks_day_fn day_fn)
{
    clicks *c = calloc(1, sizeof(*c));
    if (!c)
        return STORE_ERROR;
    c->s = s;
    hmap_init(&c->flood, FLOOD_FIRST, true);
    c->day_fn = day_fn ? day_fn : utc_days;
    c->last_flush_ms = c->committed_flush_ms = text_now_ms();
    scan_ctx x = {.c = c};
    store_txn *t;
    int rc = store_read_begin(s, &t);
    if (rc == STORE_OK) {
        read_zone(c, t); /* the set is rebuilt in the zone's days, from yesterday's start */
        int64_t start, end;
        (void)c->day_fn(c->zone, text_now_ms(), &start, &end);
        (void)c->day_fn(c->zone, start - 1, &start, &end);
        rc = reg_each_click(t, start, rebuild_one, &x);
        if (rc == STORE_OK)
            rc = read_mark(t, &x.mark);
        store_read_end(t);
    }
    /* Index every click since shortly before the mark: clicks commit slightly out of
     * time order, and putting an entry twice is harmless. */
    int64_t from = x.mark > REINDEX_MS ? x.mark - REINDEX_MS : 0;
    key_click_from(x.resume, from);
    do {
        if (rc == STORE_OK)
            rc = store_update(s, reindex_chunk, &x);
        if (rc == STORE_OK && x.more) /* only a committed chunk moves the start on */
            memcpy(x.resume, x.next, 16);
    } while (rc == STORE_OK && x.more);
    if (rc) {
        clicks_free(c);
        return rc;
    }
    *out = c;
    return STORE_OK;
}

void clicks_free(clicks *c)
{
    if (!c)
        return;
    set_free(&c->days[0]);
    set_free(&c->days[1]);
    free(c->pending);
    free(c->sorted);
    hmap_free(&c->flood);
    free(c->rows);
    free(c);
}
