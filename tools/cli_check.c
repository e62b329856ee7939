/*
 * cli_check.c: `jejak check [--rollups]`: walks every table of the store, decodes every
 * record and verifies what the code relies on, and says what is wrong.
 *
 * LMDB keeps no checksums, so damage shows only as records that do not decode, keys that
 * disagree with their record, broken references between tables, or, when a B-tree page
 * itself is damaged, liblmdb reading out of its map and crashing. The walk therefore runs in
 * a child process: if liblmdb dies there (SIGSEGV, SIGBUS), the parent reports which table
 * it was reading ("the B-tree is damaged") and exits 1 instead of crashing. A flipped bit
 * inside a value that still decodes to valid fields is invisible to any of this.
 *
 * Checked, per table (store.h lists them):
 *   - every record decodes (the record codecs refuse bad lengths, versions and text), and
 *     the number of records walked equals the count in the B-tree's own header;
 *   - keys match their record: an influencer's, campaign's, shop's id, a link's slug, a
 *     coupon's code, an API key's hash, a metric's or pay model's parts, the 16-byte id of
 *     a click, conversion and cost; a click's id carries its time;
 *   - references: a link's, coupon's, cost's and pay model's influencer and campaign
 *     exist, a click's link exists, every visits entry points to a click of that visitor
 *     at that time (an entry of a click never stored is only a warning: older trackers
 *     left one when a commit failed, and journeys skip it), every order entry to a conversion of
 * that shop and order id, and every conversion has its order entry; credits name existing links and
 * influencers;
 *   - rollup rows decode and a day row sits on a UTC midnight; with --rollups, every row
 *     equals a rebuild from the raw records (rollup_rebuild's check: a write transaction
 *     that writes nothing, so it waits for the daemon's writer).
 *
 * Output: one line per problem on stdout ("TABLE KEY: what is wrong"; at most MAX_SHOWN
 * per table, then a count), warnings the same way, then a summary. Exit 0 if clean (warnings
 * allowed), 1 if anything is wrong.
 * The walk reads one snapshot (one read transaction) from start to end.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/id.h"
#include "storage/key.h"
#include "storage/record.h"
#include "storage/rollup.h"
#include "tools/cli.h"

enum { MAX_SHOWN = 20, DAY_BUCKETS = 96 };

/* What the child is reading, in memory shared with the parent: named if liblmdb crashes. */
typedef struct {
    char table[32];
    unsigned long long records;
} progress;

typedef struct {
    store_txn *t;
    store_db db;
    const char *table;
    unsigned long long records, problems, shown, warnings;
    progress *prog;
} walk;

static void key_text(store_db db, const store_val *k, char *out, size_t cap)
{
    const uint8_t *p = k->data;
    if ((db == STORE_DB_CLICKS || db == STORE_DB_CONVERSIONS || db == STORE_DB_COSTS) &&
        k->len == ID_CLICK_BYTES) {
        char id[ID_CLICK_TEXT + 1];
        id_click_format(p, id);
        snprintf(out, cap, "%s", id);
        return;
    }
    if (db == STORE_DB_VISITS && k->len == KEY_VISIT_LEN) {
        char v[ID_VISITOR_TEXT + 1], id[ID_CLICK_TEXT + 1];
        id_visitor_format(p, v);
        id_click_format(p + KEY_VISIT_ID, id);
        snprintf(out, cap, "%s/%s", v, id);
        return;
    }
    bool text = k->len > 0;
    for (size_t i = 0; i < k->len; i++)
        if ((p[i] < 0x20 && p[i] != 0) || p[i] >= 0x7f)
            text = false;
    size_t o = 0;
    for (size_t i = 0; i < k->len && o + 3 < cap; i++) {
        if (text)
            out[o++] = p[i] ? (char)p[i] : '/';
        else
            o += (size_t)snprintf(out + o, cap - o, "%02x", p[i]);
    }
    out[o < cap ? o : cap - 1] = 0;
    if (!k->len)
        snprintf(out, cap, "(empty key)");
}

static void problem(walk *w, const store_val *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void problem(walk *w, const store_val *k, const char *fmt, ...)
{
    w->problems++;
    if (w->shown++ >= MAX_SHOWN)
        return;
    char key[200];
    key_text(w->db, k, key, sizeof(key));
    printf("%s %s: ", w->table, key);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout); /* printed before a crash in liblmdb can lose it */
}

/* Something inconsistent that the code tolerates by design: printed, not a failure. */
static void warning(walk *w, const store_val *k, const char *what)
{
    if (w->warnings++ < MAX_SHOWN) {
        char key[200];
        key_text(w->db, k, key, sizeof(key));
        printf("%s %s: warning: %s\n", w->table, key, what);
        fflush(stdout);
    }
}

static bool exists(store_txn *t, store_db db, const char *key)
{
    store_val v;
    return store_get(t, db, key, strlen(key), &v) == STORE_OK;
}

static bool key_is(const store_val *k, const char *s)
{
    return k->len == strlen(s) && !memcmp(k->data, s, k->len);
}

static void owner(walk *w, const store_val *k, const char *inf, const char *camp)
{
    if (!exists(w->t, STORE_DB_INFLUENCERS, inf))
        problem(w, k, "influencer '%s' does not exist", inf);
    if (camp && *camp && !exists(w->t, STORE_DB_CAMPAIGNS, camp))
        problem(w, k, "campaign '%s' does not exist", camp);
}

/* Joins parts with NUL, as registry.c builds composite keys. */
static size_t join(char *out, size_t cap, const char *const *parts, int n)
{
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(parts[i]);
        if (o + len + 1 > cap)
            return 0;
        memcpy(out + o, parts[i], len);
        o += len;
        if (i + 1 < n)
            out[o++] = 0;
    }
    return o;
}

static bool key_eq(const store_val *k, const void *p, size_t n)
{
    return k->len == n && !memcmp(k->data, p, n);
}

static void check_meta(walk *w, const store_val *k, const store_val *v)
{
    if (key_is(k, "schema")) {
        const uint8_t *b = v->data;
        if (v->len != 4)
            problem(w, k, "%zu bytes, not 4", v->len);
        else if (key_get_u32(b) != STORE_SCHEMA_VERSION)
            problem(w, k, "schema version is not %d", STORE_SCHEMA_VERSION);
    } else if (key_is(k, "visits_mark")) {
        if (v->len != 8)
            problem(w, k, "%zu bytes, not 8", v->len);
    } else if (k->len > 7 && !memcmp(k->data, "config.", 7)) {
        if (v->len > 255 || memchr(v->data, 0, v->len))
            problem(w, k, "not a setting (%zu bytes)", v->len);
    } else {
        problem(w, k, "unknown meta key");
    }
}

static int check_record(const store_val *k, const store_val *v, void *arg)
{
    walk *w = arg;
    w->records++;
    w->prog->records = w->records;
    const uint8_t *in = v->data;
    store_txn *t = w->t;
    switch (w->db) {
    case STORE_DB_META:
        check_meta(w, k, v);
        break;
    case STORE_DB_INFLUENCERS: {
        rec_influencer r;
        if (rec_influencer_decode(in, v->len, &r))
            problem(w, k, "does not decode");
        else if (!key_is(k, r.id))
            problem(w, k, "holds influencer '%s'", r.id);
        break;
    }
    case STORE_DB_CAMPAIGNS: {
        rec_campaign r;
        if (rec_campaign_decode(in, v->len, &r))
            problem(w, k, "does not decode");
        else if (!key_is(k, r.id))
            problem(w, k, "holds campaign '%s'", r.id);
        break;
    }
    case STORE_DB_LINKS: {
        static rec_link r;
        if (rec_link_decode(in, v->len, &r)) {
            problem(w, k, "does not decode");
            break;
        }
        if (!key_is(k, r.slug))
            problem(w, k, "holds link '%s'", r.slug);
        owner(w, k, r.influencer, r.campaign);
        break;
    }
    case STORE_DB_CLICKS: {
        rec_click r;
        if (rec_click_decode(k->data, k->len, in, v->len, &r)) {
            problem(w, k, "does not decode");
            break;
        }
        if (id_click_time(r.id) != r.ts_ms)
            problem(w, k, "the id's time is not the click's (%lld ms)", (long long)r.ts_ms);
        if (!exists(t, STORE_DB_LINKS, r.link))
            problem(w, k, "link '%s' does not exist", r.link);
        break;
    }
    case STORE_DB_VISITS: {
        if (k->len != KEY_VISIT_LEN || v->len != 0) {
            problem(w, k, "not a visits entry (%zu-byte key, %zu-byte value)", k->len, v->len);
            break;
        }
        const uint8_t *p = k->data;
        int64_t ts = key_visit_ts(p);
        store_val cv;
        rec_click c;
        /* A tracker before this version kept a click's entry when its commit failed (a full
         * disk): an entry of a click never stored, which journeys skip. */
        if (store_get(t, STORE_DB_CLICKS, p + KEY_VISIT_ID, KEY_CLICK_ID, &cv))
            warning(w, k, "the click was never stored (its commit failed?); journeys skip it");
        else if (rec_click_decode(p + KEY_VISIT_ID, KEY_CLICK_ID, cv.data, cv.len, &c))
            problem(w, k, "the click does not decode");
        else if (memcmp(c.visitor, p, 16) || c.ts_ms != ts)
            problem(w, k, "the click has another visitor or time");
        break;
    }
    case STORE_DB_SHOPS: {
        rec_shop r;
        if (rec_shop_decode(in, v->len, &r))
            problem(w, k, "does not decode");
        else if (!key_is(k, r.id))
            problem(w, k, "holds shop '%s'", r.id);
        break;
    }
    case STORE_DB_COUPONS: {
        rec_coupon r;
        if (rec_coupon_decode(in, v->len, &r)) {
            problem(w, k, "does not decode");
            break;
        }
        if (!key_is(k, r.code))
            problem(w, k, "holds coupon '%s'", r.code);
        owner(w, k, r.influencer, r.campaign);
        break;
    }
    case STORE_DB_CONVERSIONS: {
        static rec_conversion r;
        memset(&r, 0, sizeof(r));
        if (rec_conversion_decode(k->data, k->len, in, v->len, &r)) {
            problem(w, k, "does not decode");
            rec_conversion_free(&r);
            break;
        }
        char ok[REC_ID + REC_ORDER];
        const char *parts[] = {r.shop, r.order_id};
        size_t n = join(ok, sizeof(ok), parts, 2);
        store_val ov;
        if (store_get(t, STORE_DB_ORDERS, ok, n, &ov) || !key_eq(k, ov.data, ov.len))
            problem(w, k, "order %s/%s does not point to it", r.shop, r.order_id);
        if (!exists(t, STORE_DB_SHOPS, r.shop))
            problem(w, k, "shop '%s' does not exist", r.shop);
        const char *missing = NULL; /* one line per conversion, not one per model */
        for (int m = 0; m < REC_MODELS && !missing; m++) {
            for (unsigned i = 0; i < r.ncredits[m] && !missing; i++) {
                const rec_credit *c = &r.credits[m][i];
                if (*c->link && !exists(t, STORE_DB_LINKS, c->link))
                    missing = c->link;
                else if (!exists(t, STORE_DB_INFLUENCERS, c->influencer))
                    missing = c->influencer;
            }
        }
        if (missing)
            problem(w, k, "credits '%s', which does not exist", missing);
        rec_conversion_free(&r);
        break;
    }
    case STORE_DB_ORDERS: {
        static rec_conversion r;
        memset(&r, 0, sizeof(r));
        store_val cv;
        const uint8_t *nul = memchr(k->data, 0, k->len);
        if (!nul || v->len != 16) {
            problem(w, k, "not an order entry");
        } else if (store_get(t, STORE_DB_CONVERSIONS, v->data, 16, &cv)) {
            problem(w, k, "its conversion does not exist");
        } else if (rec_conversion_decode(v->data, 16, cv.data, cv.len, &r)) {
            problem(w, k, "its conversion does not decode");
        } else {
            char ok[REC_ID + REC_ORDER];
            const char *parts[] = {r.shop, r.order_id};
            size_t n = join(ok, sizeof(ok), parts, 2);
            if (!key_eq(k, ok, n))
                problem(w, k, "its conversion is order %s/%s", r.shop, r.order_id);
        }
        rec_conversion_free(&r);
        break;
    }
    case STORE_DB_ROLLUPS:
    case STORE_DB_ROLLUPS_DAY: {
        const uint8_t *p = k->data;
        if (k->len < 5 || (p[4] != ROLLUP_LINK && p[4] != ROLLUP_COUPON && p[4] != ROLLUP_NONE) ||
            (p[4] == ROLLUP_NONE) != (k->len == 5)) {
            problem(w, k, "not a rollup key");
            break;
        }
        uint32_t b = key_get_u32(p);
        if (w->db == STORE_DB_ROLLUPS_DAY && b % DAY_BUCKETS)
            problem(w, k, "a day row that is not at a UTC midnight");
        if (rollup_row_check(in, v->len))
            problem(w, k, "does not decode");
        break;
    }
    case STORE_DB_METRICS: {
        rec_metric r;
        if (rec_metric_decode(in, v->len, &r)) {
            problem(w, k, "does not decode");
            break;
        }
        char mk[11 + 3 * REC_ID];
        const char *parts[] = {r.date, r.influencer, r.campaign, r.link};
        size_t n = join(mk, sizeof(mk), parts, 4);
        if (!key_eq(k, mk, n))
            problem(w, k, "holds the metrics of %s/%s/%s/%s", r.date, r.influencer, r.campaign,
                    r.link);
        break;
    }
    case STORE_DB_COSTS: {
        rec_cost r;
        if (rec_cost_decode(in, v->len, &r)) {
            problem(w, k, "does not decode");
            break;
        }
        if (!key_eq(k, r.id, sizeof(r.id)))
            problem(w, k, "holds another cost");
        owner(w, k, r.influencer, r.campaign);
        break;
    }
    case STORE_DB_PAYMODELS: {
        rec_paymodel r;
        if (rec_paymodel_decode(in, v->len, &r)) {
            problem(w, k, "does not decode");
            break;
        }
        char pk[2 * REC_ID];
        const char *parts[] = {r.influencer, r.campaign};
        size_t n = join(pk, sizeof(pk), parts, 2);
        if (!key_eq(k, pk, n))
            problem(w, k, "holds the pay model of %s/%s", r.influencer, r.campaign);
        owner(w, k, r.influencer, r.campaign);
        break;
    }
    case STORE_DB_APIKEYS: {
        rec_apikey r;
        if (rec_apikey_decode(in, v->len, &r))
            problem(w, k, "does not decode");
        else if (!key_eq(k, r.hash, sizeof(r.hash)))
            problem(w, k, "holds another key's hash");
        break;
    }
    case STORE_DB_COUNT:
        break;
    }
    return 0;
}

/* The walk, in the child. Returns the exit status. */
static int run_walk(const char *data, bool rollups, progress *prog)
{
    store *s = cli_open_existing(data);
    if (!s) {
        fprintf(stderr, "jejak: check: the store cannot be opened: its meta pages or "
                        "headers are damaged, or it is not a jejak store\n");
        return CLI_FAIL;
    }
    store_txn *t;
    int rc = store_read_begin(s, &t);
    if (rc) {
        store_close(s);
        return cli_error("check: cannot read the store: %s", store_strerror(rc));
    }
    unsigned long long records = 0, problems = 0, warnings = 0;
    for (int db = 0; db < STORE_DB_COUNT; db++) {
        walk w = {t, (store_db)db, store_db_name((store_db)db), 0, 0, 0, 0, prog};
        snprintf(prog->table, sizeof(prog->table), "%s", w.table);
        prog->records = 0;
        rc = store_each(t, w.db, NULL, 0, check_record, &w);
        size_t count = rc ? 0 : store_count(t, w.db);
        if (rc) {
            printf("%s: the walk stopped after %llu records: %s\n", w.table, w.records,
                   store_strerror(rc));
            w.problems++;
            /* LMDB refuses a transaction once it met a damaged page: a new one, next table. */
            store_read_end(t);
            if ((rc = store_read_begin(s, &t))) {
                store_close(s);
                return cli_error("check: cannot read the store: %s", store_strerror(rc));
            }
        } else if (count != w.records) {
            printf("%s: the B-tree counts %zu records, the walk found %llu\n", w.table, count,
                   w.records);
            w.problems++;
        }
        if (w.shown > MAX_SHOWN)
            printf("%s: %llu more problems not shown\n", w.table, w.shown - MAX_SHOWN);
        if (w.warnings > MAX_SHOWN)
            printf("%s: %llu more warnings not shown\n", w.table, w.warnings - MAX_SHOWN);
        fflush(stdout);
        records += w.records;
        problems += w.problems;
        warnings += w.warnings;
    }
    store_read_end(t);
    if (rollups) {
        snprintf(prog->table, sizeof(prog->table), "rollups (rebuild)");
        uint64_t rows = 0, diffs = 0;
        rc = rollup_rebuild(s, true, &rows, &diffs);
        if (rc == STORE_CORRUPT) {
            printf("rollups: %llu rows differ from a rebuild from raw records\n",
                   (unsigned long long)diffs);
            problems++;
        } else if (rc) {
            printf("rollups: cannot rebuild: %s\n", store_strerror(rc));
            problems++;
        }
    }
    store_close(s);
    if (problems)
        return cli_error("check: %llu problems in %s (%llu records read)", problems,
                         cli_data_dir(data), records);
    char extra[64] = "";
    if (warnings)
        snprintf(extra, sizeof(extra), " (%llu warnings)", warnings);
    printf("store %s: %llu records in %d tables, no problem found%s%s\n", cli_data_dir(data),
           records, STORE_DB_COUNT, extra, rollups ? "; rollups equal a rebuild" : "");
    return CLI_OK;
}

enum { OPT_ROLLUPS = 1 };

static int check(const cli_args *a)
{
    const char *data = a->data;
    bool rollups = cli_has(a, OPT_ROLLUPS);
    if (a->npos > 0)
        return cli_error("usage: jejak check [--rollups] [--data DIR]"), CLI_USAGE;
    if (access(cli_data_dir(data), F_OK))
        return cli_error("check: no data folder %s", cli_data_dir(data));
    progress *prog =
        mmap(NULL, sizeof(*prog), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (prog == MAP_FAILED)
        return cli_error("check: out of memory");
    memset(prog, 0, sizeof(*prog));
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return cli_error("check: cannot start the walk");
    if (pid == 0) {
        int code = run_walk(data, rollups, prog);
        fflush(stdout);
        _exit(code);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        ;
    int rc = CLI_FAIL;
    if (WIFEXITED(status) && WEXITSTATUS(status) <= CLI_USAGE) {
        rc = WEXITSTATUS(status);
    } else {
        /* A signal, or a sanitizer's own exit status after it caught one. */
        char how[64];
        if (WIFSIGNALED(status))
            snprintf(how, sizeof(how), "%s", strsignal(WTERMSIG(status)));
        else
            snprintf(how, sizeof(how), "exit status %d", WEXITSTATUS(status));
        printf("%s: the B-tree is damaged: liblmdb crashed (%s) after %llu records of this "
               "table\n",
               prog->table[0] ? prog->table : "(opening)", how, prog->records);
        cli_error("check: the store in %s is damaged (LMDB has no checksums: a damaged page "
                  "can only be found by reading it)",
                  cli_data_dir(data));
    }
    munmap(prog, sizeof(*prog));
    return rc;
}

static const cli_opt check_opts[] = {
    {OPT_ROLLUPS, "rollups", NULL,
     "also compare every rollup row with a rebuild (waits for the daemon's writer)"},
    {0, NULL, NULL, NULL}};

const cli_cmd cli_cmd_check = {"check",
                               "[options]",
                               "walk every record of the store and say what is damaged",
                               check_opts,
                               check,
                               NULL,
                               CLI_READS | CLI_OWN_CRASHES};
