/*
 * seed.c: jejak-seed, the store builder for tools/bench-report.sh.
 *
 *   jejak-seed --data DIR --clicks N --conversions M [--days D] [--influencers I]
 *              [--links-per L] [--campaigns C] [--visitors V] [--batch B] [--seed S]
 *              [--csv-dir DIR]
 *
 * Writes, into a fresh or existing data folder, I influencers, C campaigns and I x L links
 * (registry puts), then N clicks spread over the D whole UTC days before today, then M
 * approved IDR conversions, each naming a random earlier non-bot click by its id text.
 *
 * Everything goes through the same calls the daemon makes, so the store is what the
 * daemon would have written: clicks through clicks_put (unique flags, rollup
 * counts, visits queue) inside store_update, between the writer's hooks (tracker/daemon.c):
 * clicks_begin first, clicks_flush_visits(force) at the end of each transaction (rollup
 * rows and visits index), clicks_committed after it;
 * conversions through ledger_record (journey from the visits index, credits under every
 * model, rollups), after clicks_flush_visits as postback_apply does. Only the batching is
 * larger than the daemon's: --batch clicks per transaction (default about three hours' worth,
 * from 2,000 to 50,000).
 *
 * The data: click times follow a day curve (busy evenings in UTC+7) and a weekly one,
 * in time order, as a daemon receives them; links are chosen with Zipf-like popularity
 * (influencer rank^-0.9, then 1/(j+1) among an influencer's links); 10% of clicks are
 * bots (a small pool of bot visitor ids); people are drawn from V visitors (default N/5),
 * 30% of them a link's returning "fans", so that repeats and multi-touch journeys exist.
 * Conversions happen from minutes to days after their click, within the period.
 *
 * --csv-dir DIR also writes DIR/clicks.csv (click_id,ts,link,influencer,campaign,bot,uniq,susp)
 * and DIR/conversions.csv (id,ts,amount,currency,status,influencer,campaign,link: the
 * last-click credit as stored), the same raw records for SQLite.
 *
 * Progress goes to stderr every 5%; a key=value summary to stdout (from, to, times, rates).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "attribution/ledger.h"
#include "attribution/model.h"
#include "attribution/tz.h"
#include "storage/clicks.h"
#include "storage/id.h"
#include "storage/registry.h"
#include "storage/store.h"
#include "storage/text.h"

enum { DAY_MS = 86400000, BUCKET_MS = 15 * 60 * 1000, BUCKETS_PER_DAY = 96, BOT_POOL = 1000 };

/* ---- a fast PRNG (xoshiro256**): the data's shape, not its secrecy -------------------- */

static uint64_t rng_s[4];

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(void)
{
    uint64_t r = rotl(rng_s[1] * 5, 7) * 9, t = rng_s[1] << 17;
    rng_s[2] ^= rng_s[0];
    rng_s[3] ^= rng_s[1];
    rng_s[1] ^= rng_s[2];
    rng_s[0] ^= rng_s[3];
    rng_s[2] ^= t;
    rng_s[3] = rotl(rng_s[3], 45);
    return r;
}

static void rng_seed(uint64_t seed)
{
    for (int i = 0; i < 4; i++) { /* splitmix64 */
        uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        rng_s[i] = z ^ (z >> 31);
    }
}

/* Uniform in [0, n). */
static uint64_t below(uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rnd() * n) >> 64);
}

/* Uniform in [0, 1). */
static double unit(void)
{
    return (double)(rnd() >> 11) * 0x1.0p-53;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "jejak-seed: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ---- the registry ---------------------------------------------------------------------- */

typedef struct {
    char slug[REC_ID], influencer[REC_ID], campaign[REC_ID];
} link_ref;

typedef struct {
    unsigned ninf, nper, ncamp;
    link_ref *links;
    size_t nlinks;
    int64_t now;
} registry_ctx;

static const char *const platforms[] = {"instagram", "tiktok", "youtube"};

static int put_registry(store_txn *t, void *arg)
{
    registry_ctx *x = arg;
    for (unsigned c = 0; c < x->ncamp; c++) {
        rec_campaign r;
        memset(&r, 0, sizeof(r));
        snprintf(r.id, sizeof(r.id), "camp-%02u", c + 1);
        snprintf(r.name, sizeof(r.name), "Campaign %u", c + 1);
        r.created_ms = x->now;
        int rc = reg_put_campaign(t, &r);
        if (rc && rc != STORE_EXISTS)
            return rc;
    }
    for (unsigned i = 0; i < x->ninf; i++) {
        rec_influencer r;
        memset(&r, 0, sizeof(r));
        snprintf(r.id, sizeof(r.id), "inf-%04u", i + 1);
        snprintf(r.name, sizeof(r.name), "Influencer %u", i + 1);
        snprintf(r.platform, sizeof(r.platform), "%s", platforms[i % 3]);
        snprintf(r.handle, sizeof(r.handle), "@inf%04u", i + 1);
        /* Followers fall with rank: the first few are mega, the tail nano. */
        r.followers = (uint64_t)(3000000.0 / ((double)i + 1.0) + 1500.0);
        r.created_ms = x->now;
        int rc = reg_put_influencer(t, &r);
        if (rc && rc != STORE_EXISTS)
            return rc;
        for (unsigned j = 0; j < x->nper; j++) {
            static rec_link l;
            memset(&l, 0, sizeof(l));
            link_ref *ref = &x->links[i * x->nper + j];
            snprintf(l.slug, sizeof(l.slug), "inf%04u-%u", i + 1, j + 1);
            snprintf(l.influencer, sizeof(l.influencer), "%s", r.id);
            snprintf(l.campaign, sizeof(l.campaign), "camp-%02u", (i + j) % x->ncamp + 1);
            snprintf(l.dest, sizeof(l.dest), "https://shop.example/p/%u", (i * 7 + j) % 50 + 1);
            snprintf(l.utm_source, sizeof(l.utm_source), "%s", r.platform);
            snprintf(l.utm_medium, sizeof(l.utm_medium), "influencer");
            snprintf(l.utm_campaign, sizeof(l.utm_campaign), "%s", l.campaign);
            snprintf(l.utm_content, sizeof(l.utm_content), "%s", r.id);
            l.created_ms = x->now;
            memcpy(ref->slug, l.slug, REC_ID);
            memcpy(ref->influencer, l.influencer, REC_ID);
            memcpy(ref->campaign, l.campaign, REC_ID);
            if ((rc = reg_put_link(t, &l)) && rc != STORE_EXISTS)
                return rc;
        }
    }
    rec_shop shop;
    memset(&shop, 0, sizeof(shop));
    snprintf(shop.id, sizeof(shop.id), "bench-shop");
    id_hex_new(shop.secret, 32);
    id_random(shop.token_hash, sizeof(shop.token_hash));
    shop.created_ms = x->now;
    int rc = reg_put_shop(t, &shop);
    return rc == STORE_EXISTS ? STORE_OK : rc;
}

/* ---- clicks ---------------------------------------------------------------------------- */

typedef struct {
    clicks *clk;
    rec_click *batch;
    bool *decided;
    size_t n;
} click_batch;

static int put_clicks(store_txn *t, void *arg)
{
    click_batch *b = arg;
    clicks_begin(b->clk); /* the writer's begin hook: this attempt's rollup counts start empty */
    for (size_t i = 0; i < b->n; i++) {
        int rc = clicks_put(b->clk, t, &b->batch[i], &b->decided[i]);
        if (rc)
            return rc;
    }
    /* The writer's before_commit hook, forced: the batch's rollup counts and every queued
     * visits entry land in this transaction. */
    return clicks_flush_visits(b->clk, t, true);
}

/* A click chosen to convert later. */
typedef struct {
    uint8_t click[16];
    int64_t ts; /* the conversion's time */
} pick;

static int cmp_pick(const void *a, const void *b)
{
    const pick *x = a, *y = b;
    return (x->ts > y->ts) - (x->ts < y->ts);
}

/* ---- conversions ----------------------------------------------------------------------- */

typedef struct {
    clicks *clk;
    const pick *picks;
    size_t first, n;
    uint64_t *order_no;
    int64_t *amount;
    rec_credit *last; /* per conversion: the last-click credit as stored */
    uint8_t (*ids)[16];
    ledger_config cfg;
    size_t unattributed;
} conv_batch;

static int put_conversions(store_txn *t, void *arg)
{
    conv_batch *b = arg;
    clicks_begin(b->clk); /* the writer's begin hook, as for every batch */
    /* As postback_apply: the journey reads the visits index, so write the queue first. */
    int rc = clicks_flush_visits(b->clk, t, true);
    if (rc)
        return rc;
    b->unattributed = 0;
    for (size_t i = 0; i < b->n; i++) {
        const pick *p = &b->picks[b->first + i];
        rec_conversion in;
        memset(&in, 0, sizeof(in));
        snprintf(in.shop, sizeof(in.shop), "bench-shop");
        snprintf(in.order_id, sizeof(in.order_id), "B%09" PRIu64, b->order_no[i]);
        in.event = REC_EVENT_PURCHASE;
        in.status = REC_STATUS_APPROVED;
        in.amount = b->amount[i];
        memcpy(in.currency, "IDR", 4);
        id_click_format(p->click, in.click_id);
        in.ts_ms = p->ts;
        ledger_result res = {0};
        /* now_ms = when it happened: the daemon would have recorded it then. */
        if ((rc = ledger_record(t, &in, &b->cfg, p->ts, &res)))
            return rc;
        memcpy(b->ids[i], res.id, 16);
        rec_conversion got;
        if ((rc = reg_get_conversion(t, res.id, &got)))
            return rc;
        rec_credit *last = &b->last[i];
        memset(last, 0, sizeof(*last));
        if (got.ncredits[MODEL_LAST_CLICK] > 0)
            *last = got.credits[MODEL_LAST_CLICK][0];
        else
            b->unattributed++;
        rec_conversion_free(&got);
    }
    return STORE_OK;
}

/* ---- main ------------------------------------------------------------------------------ */

static uint64_t parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < min || v > max)
        die("--%s: '%s' is out of range", opt, s);
    return v;
}

static void usage(void)
{
    fprintf(stderr, "usage: jejak-seed --data DIR --clicks N --conversions M [--days D (30)]\n"
                    "         [--influencers I (200)] [--links-per L (2)] [--campaigns C (8)]\n"
                    "         [--visitors V (N/5)] [--batch B (3 hours of clicks, 2000..50000)]\n"
                    "         [--seed S]\n"
                    "         [--csv-dir DIR]\n");
    exit(2);
}

static void progress(const char *what, uint64_t done, uint64_t total, double t0, unsigned *next)
{
    if (total == 0 || done * 20 < (uint64_t)*next * total)
        return;
    while ((uint64_t)*next * total <= done * 20)
        (*next)++;
    double el = now_s() - t0;
    fprintf(stderr, "jejak-seed: %s %3.0f%% (%" PRIu64 "/%" PRIu64 ") %.1fs, %.0f/s\n", what,
            100.0 * (double)done / (double)total, done, total, el,
            el > 0 ? (double)done / el : 0.0);
}

int main(int argc, char **argv)
{
    enum {
        O_DATA = 1000,
        O_CLICKS,
        O_CONV,
        O_DAYS,
        O_INF,
        O_PER,
        O_CAMP,
        O_VIS,
        O_BATCH,
        O_SEED,
        O_CSV
    };
    static const struct option opts[] = {{"data", required_argument, NULL, O_DATA},
                                         {"clicks", required_argument, NULL, O_CLICKS},
                                         {"conversions", required_argument, NULL, O_CONV},
                                         {"days", required_argument, NULL, O_DAYS},
                                         {"influencers", required_argument, NULL, O_INF},
                                         {"links-per", required_argument, NULL, O_PER},
                                         {"campaigns", required_argument, NULL, O_CAMP},
                                         {"visitors", required_argument, NULL, O_VIS},
                                         {"batch", required_argument, NULL, O_BATCH},
                                         {"seed", required_argument, NULL, O_SEED},
                                         {"csv-dir", required_argument, NULL, O_CSV},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *data = NULL, *csv_dir = NULL;
    uint64_t nclicks = 0, nconv = 0, days = 30, ninf = 200, nper = 2, ncamp = 8, nvis = 0,
             batch = 0, seed = 0;
    bool have_clicks = false, have_conv = false, have_seed = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_CLICKS:
            nclicks = parse_u64("clicks", optarg, 0, 1000000000), have_clicks = true;
            break;
        case O_CONV:
            nconv = parse_u64("conversions", optarg, 0, 100000000), have_conv = true;
            break;
        case O_DAYS:
            days = parse_u64("days", optarg, 1, 3650);
            break;
        case O_INF:
            ninf = parse_u64("influencers", optarg, 1, 9999);
            break;
        case O_PER:
            nper = parse_u64("links-per", optarg, 1, 99);
            break;
        case O_CAMP:
            ncamp = parse_u64("campaigns", optarg, 1, 99);
            break;
        case O_VIS:
            nvis = parse_u64("visitors", optarg, 1, 100000000);
            break;
        case O_BATCH:
            batch = parse_u64("batch", optarg, 1, 10000000);
            break;
        case O_SEED:
            seed = parse_u64("seed", optarg, 0, UINT64_MAX), have_seed = true;
            break;
        case O_CSV:
            csv_dir = optarg;
            break;
        default:
            usage();
        }
    }
    if (optind < argc || !data || !have_clicks || !have_conv)
        usage();
    if (nconv > nclicks)
        die("--conversions must not exceed --clicks");
    if (!nvis)
        nvis = nclicks / 5 > 0 ? nclicks / 5 : 1;
    /* By default a transaction holds about three hours of clicks (2,000 to 50,000): the
     * daemon's batches span seconds, and a batch spanning many quarter hours touches as
     * many rollup rows. */
    if (!batch) {
        batch = nclicks / (days * 8);
        batch = batch < 2000 ? 2000 : batch > 50000 ? 50000 : batch;
    }
    if (!have_seed && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
        seed = (uint64_t)time(NULL);
    rng_seed(seed);

    FILE *fclicks = NULL, *fconv = NULL;
    if (csv_dir) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/clicks.csv", csv_dir);
        if (!(fclicks = fopen(path, "w")))
            die("cannot write %s: %s", path, strerror(errno));
        snprintf(path, sizeof(path), "%s/conversions.csv", csv_dir);
        if (!(fconv = fopen(path, "w")))
            die("cannot write %s: %s", path, strerror(errno));
        setvbuf(fclicks, NULL, _IOFBF, 1 << 20);
        setvbuf(fconv, NULL, _IOFBF, 1 << 20);
        fputs("click_id,ts,link,influencer,campaign,bot,uniq,susp\n", fclicks);
        fputs("id,ts,amount,currency,status,influencer,campaign,link\n", fconv);
    }

    double t_start = now_s();
    char err[512];
    store *s;
    int rc = store_open(&s, data, err, sizeof(err));
    if (rc)
        die("%s", err);

    /* The period: the `days` whole UTC days before today. */
    int64_t today = text_now_ms() / DAY_MS;
    int64_t start_ms = (today - (int64_t)days) * DAY_MS, end_ms = today * DAY_MS;

    registry_ctx reg = {(unsigned)ninf, (unsigned)nper, (unsigned)ncamp, NULL, 0, text_now_ms()};
    reg.nlinks = ninf * nper;
    reg.links = calloc(reg.nlinks, sizeof(*reg.links));
    if (!reg.links)
        die("out of memory");
    if ((rc = store_update(s, put_registry, &reg)))
        die("cannot store the registry: %s", store_strerror(rc));

    /* Link popularity: a cumulative distribution, drawn from by binary search. */
    double *cdf = malloc(reg.nlinks * sizeof(*cdf)), sum = 0;
    for (size_t i = 0; i < ninf; i++)
        for (size_t j = 0; j < nper; j++) {
            sum += 1.0 / (pow((double)i + 1.0, 0.9) * ((double)j + 1.0));
            cdf[i * nper + j] = sum;
        }
    for (size_t i = 0; i < reg.nlinks; i++)
        cdf[i] /= sum;

    /* Clicks per 15-minute bucket: evenings busy in UTC+7, nights quiet, weekends +15%. */
    size_t nbuckets = (size_t)days * BUCKETS_PER_DAY;
    double *w = malloc(nbuckets * sizeof(*w)), wsum = 0;
    uint64_t *per_bucket = malloc(nbuckets * sizeof(*per_bucket));
    for (size_t b = 0; b < nbuckets; b++) {
        double hour = (double)((b % BUCKETS_PER_DAY) * 15) / 60.0 + 7.0; /* local */
        if (hour >= 24)
            hour -= 24;
        double curve = hour < 6 ? 0.15 : hour < 12 ? 0.6 : hour < 18 ? 0.9 : 1.6;
        int64_t day = (start_ms / DAY_MS) + (int64_t)(b / BUCKETS_PER_DAY);
        int dow = (int)((day + 4) % 7); /* 0 = Sunday */
        w[b] = curve * (dow == 0 || dow == 6 ? 1.15 : 1.0) * (0.9 + 0.2 * unit());
        wsum += w[b];
    }
    {
        double acc = 0;
        uint64_t given = 0;
        for (size_t b = 0; b < nbuckets; b++) {
            acc += w[b];
            uint64_t upto = (uint64_t)(acc / wsum * (double)nclicks + 0.5);
            if (b == nbuckets - 1 || upto > nclicks)
                upto = nclicks;
            per_bucket[b] = upto - given;
            given = upto;
        }
    }
    free(w);

    /* People: nvis visitor ids; bots come from a small pool of their own. */
    uint8_t(*visitors)[16] = malloc(nvis * 16), (*bots)[16] = malloc(BOT_POOL * 16);
    pick *picks = malloc((nconv ? nconv : 1) * sizeof(*picks));
    rec_click *cb = malloc(batch * sizeof(*cb));
    bool *decided = malloc(batch * sizeof(*decided));
    uint32_t *cl = malloc(batch * sizeof(*cl)); /* each click's link index */
    if (!cdf || !per_bucket || !visitors || !bots || !picks || !cb || !decided || !cl)
        die("out of memory");
    for (size_t i = 0; i < nvis; i++)
        for (int k = 0; k < 16; k += 8) {
            uint64_t r = rnd();
            memcpy(visitors[i] + k, &r, 8);
        }
    id_random(bots, BOT_POOL * 16);

    clicks *clk;
    if ((rc = clicks_open(&clk, s, tz_day_bounds)))
        die("cannot open the click writer: %s", store_strerror(rc));
    /* No click is flagged a flood: the daemon decides floods on the full address and
     * User-Agent (clicks_put_from), which a seeded click does not have. */

    fprintf(stderr,
            "jejak-seed: %" PRIu64 " clicks over %" PRIu64 " days, %zu links (%" PRIu64
            " influencers x %" PRIu64 "), %" PRIu64 " visitors, %" PRIu64
            " conversions, seed %" PRIu64 "\n",
            nclicks, days, reg.nlinks, ninf, nper, nvis, nconv, seed);

    /* ---- phase 1: clicks ---- */
    double t_clicks = now_s();
    uint64_t done = 0, nbots = 0, nunique = 0, nsusp = 0, npicked = 0, debt = 0, commits = 0;
    unsigned next = 1;
    size_t bucket = 0;
    uint64_t in_bucket = 0; /* clicks already made in the current bucket */
    const uint64_t fan_window = nvis < 2000 ? nvis : 2000;
    while (done < nclicks) {
        size_t n = 0;
        while (n < batch && done + n < nclicks) {
            while (in_bucket == per_bucket[bucket]) {
                bucket++;
                in_bucket = 0;
            }
            rec_click *k = &cb[n];
            memset(k, 0, offsetof(rec_click, referrer));
            k->referrer[0] = k->lang[0] = '\0';
            /* Times in order within the bucket: the i-th of m at (i + u) / m of it. */
            int64_t b0 = start_ms + (int64_t)bucket * BUCKET_MS;
            k->ts_ms = b0 + (int64_t)(((double)in_bucket + unit()) * BUCKET_MS /
                                      (double)per_bucket[bucket]);
            in_bucket++;
            id_click_new(k->id, k->ts_ms);
            double u = unit();
            size_t lo = 0, hi = reg.nlinks - 1;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (cdf[mid] < u)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            memcpy(k->link, reg.links[lo].slug, REC_ID);
            cl[n] = (uint32_t)lo;
            k->ip_family = 4;
            uint64_t r = rnd();
            k->ip[0] = (uint8_t)(36 + r % 80);
            k->ip[1] = (uint8_t)(r >> 8);
            k->ip[2] = (uint8_t)(r >> 16); /* the last octet is anonymized away */
            if (below(10) == 0) {
                k->flags = REC_CLICK_BOT;
                k->device = REC_DEVICE_BOT;
                memcpy(k->visitor, bots[below(BOT_POOL)], 16);
            } else {
                uint64_t v =
                    below(10) < 3 ? ((uint64_t)lo * 7919 + below(fan_window)) % nvis : below(nvis);
                memcpy(k->visitor, visitors[v], 16);
                unsigned d = (unsigned)below(20);
                k->device = d < 15   ? REC_DEVICE_MOBILE
                            : d < 19 ? REC_DEVICE_DESKTOP
                                     : REC_DEVICE_TABLET;
                static const char *const refs[] = {"instagram.com", "tiktok.com", "youtube.com"};
                if (below(4))
                    snprintf(k->referrer, sizeof(k->referrer), "%s", refs[lo / nper % 3]);
                snprintf(k->lang, sizeof(k->lang), "%s", below(5) ? "id-ID" : "en-US");
            }
            /* Selection sampling: exactly nconv clicks convert; a pick that lands on a bot
             * passes to the next person. */
            uint64_t i = done + n;
            if (npicked + debt < nconv && below(nclicks - i) < nconv - npicked - debt)
                debt++;
            if (debt && !(k->flags & REC_CLICK_BOT)) {
                pick *p = &picks[npicked++];
                debt--;
                memcpy(p->click, k->id, 16);
                /* 60% within the hour, the rest within a week; never after the period. */
                double delay = below(10) < 6 ? unit() * 3600e3 : 3600e3 + unit() * 6 * DAY_MS;
                p->ts = k->ts_ms + 1000 + (int64_t)delay;
                if (p->ts >= end_ms)
                    p->ts = k->ts_ms + (end_ms - k->ts_ms) / 2;
            }
            decided[n] = false;
            n++;
        }
        click_batch b = {clk, cb, decided, n};
        rc = store_update(s, put_clicks, &b);
        clicks_committed(clk, rc);
        if (rc)
            die("cannot store clicks: %s", store_strerror(rc));
        commits++;
        for (size_t i = 0; i < n; i++) {
            const rec_click *k = &cb[i];
            bool bot = k->flags & REC_CLICK_BOT, uniq = k->flags & REC_CLICK_UNIQUE,
                 susp = k->flags & REC_CLICK_SUSPICIOUS;
            nbots += bot;
            nunique += uniq;
            nsusp += susp;
            if (fclicks) {
                char id[ID_CLICK_TEXT + 1];
                id_click_format(k->id, id);
                const link_ref *l = &reg.links[cl[i]];
                fprintf(fclicks, "%s,%" PRId64 ",%s,%s,%s,%d,%d,%d\n", id, k->ts_ms, k->link,
                        l->influencer, l->campaign, bot, uniq, susp);
            }
        }
        done += n;
        progress("clicks", done, nclicks, t_clicks, &next);
    }
    double t_clicks_end = now_s();
    if (fclicks && (fflush(fclicks) || ferror(fclicks)))
        die("cannot write clicks.csv: %s", strerror(errno));

    /* ---- phase 2: conversions, in the order they happened ---- */
    qsort(picks, npicked, sizeof(*picks), cmp_pick);
    enum { CONV_BATCH = 5000 };
    conv_batch cv = {.clk = clk, .picks = picks};
    cv.cfg.lookback_ms = 30LL * DAY_MS; /* the daemon's default --lookback-days */
    cv.order_no = malloc(CONV_BATCH * sizeof(*cv.order_no));
    cv.amount = malloc(CONV_BATCH * sizeof(*cv.amount));
    cv.last = malloc(CONV_BATCH * sizeof(*cv.last));
    cv.ids = malloc(CONV_BATCH * 16);
    if (!cv.order_no || !cv.amount || !cv.last || !cv.ids)
        die("out of memory");
    double t_conv = now_s();
    uint64_t unattributed = 0, revenue = 0;
    next = 1;
    for (size_t first = 0; first < npicked; first += CONV_BATCH) {
        cv.first = first;
        cv.n = npicked - first < CONV_BATCH ? npicked - first : CONV_BATCH;
        for (size_t i = 0; i < cv.n; i++) {
            cv.order_no[i] = first + i + 1;
            /* Rp 50,000 to Rp 2,000,000 in steps of Rp 1,000, in sen (IDR has 2 decimals). */
            cv.amount[i] = (int64_t)(50 + below(1951)) * 1000 * 100;
        }
        rc = store_update(s, put_conversions, &cv);
        clicks_committed(clk, rc);
        if (rc)
            die("cannot store conversions: %s", store_strerror(rc));
        commits++;
        unattributed += cv.unattributed;
        for (size_t i = 0; i < cv.n; i++) {
            revenue += (uint64_t)cv.amount[i];
            if (fconv) {
                char id[ID_CLICK_TEXT + 1];
                id_click_format(cv.ids[i], id);
                const rec_credit *k = &cv.last[i];
                fprintf(fconv, "%s,%" PRId64 ",%" PRId64 ",IDR,approved,%s,%s,%s\n", id,
                        picks[first + i].ts, cv.amount[i], k->influencer, k->campaign, k->link);
            }
        }
        progress("conversions", first + cv.n, npicked, t_conv, &next);
    }
    double t_end = now_s();
    if (fconv && (fflush(fconv) || ferror(fconv)))
        die("cannot write conversions.csv: %s", strerror(errno));
    if (fclicks)
        fclose(fclicks);
    if (fconv)
        fclose(fconv);
    clicks_free(clk);
    size_t map = store_map_size(s);
    store_close(s);

    char from[32], to[32];
    text_format_time(start_ms, from, sizeof(from));
    text_format_time(end_ms - 1, to, sizeof(to));
    from[10] = to[10] = '\0';
    double tc = t_clicks_end - t_clicks, tv = t_end - t_conv;
    printf("from=%s\nto=%s\ndays=%" PRIu64 "\nlinks=%zu\ninfluencers=%" PRIu64 "\n", from, to, days,
           reg.nlinks, ninf);
    printf("clicks=%" PRIu64 "\nbot_clicks=%" PRIu64 "\nunique_clicks=%" PRIu64
           "\nsuspicious_clicks=%" PRIu64 "\n",
           done, nbots, nunique, nsusp);
    printf("conversions=%zu\nunattributed=%" PRIu64 "\nrevenue_minor=%" PRIu64 "\n", npicked,
           unattributed, revenue);
    printf("commits=%" PRIu64 "\nmap_bytes=%zu\nseed=%" PRIu64 "\n", commits, map, seed);
    printf("clicks_seconds=%.2f\nclicks_per_second=%.0f\n", tc, tc > 0 ? (double)done / tc : 0);
    printf("conversions_seconds=%.2f\nconversions_per_second=%.0f\n", tv,
           tv > 0 ? (double)npicked / tv : 0);
    printf("total_seconds=%.2f\n", t_end - t_start);
    fprintf(stderr,
            "jejak-seed: done in %.1fs: %" PRIu64 " clicks (%.0f/s), %zu conversions (%.0f/s)\n",
            t_end - t_start, done, tc > 0 ? (double)done / tc : 0, npicked,
            tv > 0 ? (double)npicked / tv : 0);
    free(reg.links);
    free(cdf);
    free(per_bucket);
    free(visitors);
    free(bots);
    free(picks);
    free(cb);
    free(decided);
    free(cl);
    free(cv.order_no);
    free(cv.amount);
    free(cv.last);
    free(cv.ids);
    return 0;
}
