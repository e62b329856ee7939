/*
 * cli_report.c: what the marketer runs: `jejak report`, `jejak metrics import`,
 * `jejak cost add|model`, `jejak config set|get tz`, `jejak apikey add` and
 * `jejak rollups rebuild [--check]`.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribution/import.h"
#include "attribution/money.h"
#include "attribution/report.h"
#include "attribution/tz.h"
#include "storage/id.h"
#include "storage/registry.h"
#include "storage/rollup.h"
#include "storage/text.h"
#include "tools/cli.h"
#include "tracker/url.h"

/* ---- report ----------------------------------------------------------------------- */

enum {
    O_BY = 1,
    O_MODEL,
    O_FROM,
    O_TO,
    O_TZ,
    O_INF,
    O_CAMP,
    O_CUR,
    O_FORMAT,
    O_WIDE,
    O_AMOUNT,
    O_DATE,
    O_ROLE,
    O_CHECK
};

static int report(const cli_args *a)
{
    static const char *const keys[] = {
        [O_BY] = "by", [O_MODEL] = "model",    [O_FROM] = "from",     [O_TO] = "to",
        [O_TZ] = "tz", [O_INF] = "influencer", [O_CAMP] = "campaign", [O_CUR] = "currency"};
    report_param params[16];
    size_t np = 0;
    const char *format = cli_get(a, O_FORMAT) ? cli_get(a, O_FORMAT) : "table";
    bool wide = cli_has(a, O_WIDE);
    for (int i = 0; i < a->ngiven; i++)
        if (a->given[i].id >= O_BY && a->given[i].id <= O_CUR && np < 16)
            params[np++] = (report_param){keys[a->given[i].id], a->given[i].arg};
    if (a->npos > 0)
        return cli_error("unexpected argument '%s'", a->pos[0]);
    report_format f;
    if (!strcmp(format, "table"))
        f = REPORT_TABLE;
    else if (!strcmp(format, "csv"))
        f = REPORT_CSV;
    else if (!strcmp(format, "json"))
        f = REPORT_JSON;
    else
        return cli_error("--format must be table, csv or json, not '%s'", format);
    store *s = cli_store(a);
    if (!s)
        return CLI_FAIL;
    store_txn *t;
    int rc = store_read_begin(s, &t);
    if (rc) {
        store_close(s);
        return cli_error("cannot read the store: %s", store_strerror(rc));
    }
    char tz[65] = "UTC", field[32], why[200];
    reg_get_config(t, "tz", tz, sizeof(tz));
    report_query q;
    report_result r;
    text_buf out;
    text_buf_init(&out, (size_t)1 << 30);
    int ret = CLI_OK;
    if (report_query_parse(params, np, tz, text_now_ms(), &q, field, sizeof(field), why,
                           sizeof(why))) {
        ret = cli_error("--%s: %s", field, why);
    } else if ((rc = report_check_ids(t, &q, field, sizeof(field), why, sizeof(why)))) {
        ret = rc == STORE_NOTFOUND ? cli_error("--%s: %s", field, why)
                                   : cli_error("cannot read the store: %s", store_strerror(rc));
    } else if ((rc = report_run(t, &q, &r))) {
        ret = cli_error("cannot compute the report: %s", store_strerror(rc));
    } else {
        report_write(&q, &r, f, wide, &out);
        report_free(&r);
    }
    store_read_end(t);
    store_close(s);
    if (ret == CLI_OK &&
        (out.failed || fwrite(out.ptr, 1, out.len, stdout) != out.len || fflush(stdout)))
        ret = cli_error("cannot write the report");
    text_buf_free(&out);
    return ret;
}

/* ---- metrics import ---------------------------------------------------------------- */

static int has_influencer(void *txn, const char *id)
{
    rec_influencer r;
    int rc = reg_get_influencer(txn, id, &r);
    return rc == STORE_NOTFOUND ? 1 : rc;
}

static int has_campaign(void *txn, const char *id)
{
    rec_campaign r;
    int rc = reg_get_campaign(txn, id, &r);
    return rc == STORE_NOTFOUND ? 1 : rc;
}

static int link_owner(void *txn, const char *slug, char *influencer, char *campaign)
{
    rec_link r;
    int rc = reg_get_link(txn, slug, &r);
    if (rc)
        return rc == STORE_NOTFOUND ? 1 : rc;
    memcpy(influencer, r.influencer, REC_ID);
    memcpy(campaign, r.campaign, REC_ID);
    return 0;
}

/* Checks every row against the registry and stores them all, or nothing. */
static int store_metrics(store_txn *t, void *arg)
{
    import_result *r = arg;
    import_registry reg = {has_influencer, has_campaign, link_owner, t};
    int rc = import_check_ids(r, &reg); /* -1: bad rows, else a storage error */
    if (rc)
        return rc == -1 ? STORE_ROLLBACK : rc;
    for (size_t i = 0; i < r->nrows && !rc; i++)
        rc = reg_put_metric(t, &r->rows[i]);
    return rc;
}

/* Prints a file's errors and returns CLI_FAIL. */
static int import_refused(const char *path, const import_result *r)
{
    for (size_t i = 0; i < r->nerrors && i < IMPORT_MAX_ERRORS; i++)
        fprintf(stderr, "%s:%zu: %s\n", path, r->errors[i].line, r->errors[i].reason);
    if (r->nerrors > IMPORT_MAX_ERRORS)
        fprintf(stderr, "%s: ... and %zu more\n", path, r->nerrors - IMPORT_MAX_ERRORS);
    return cli_error("%s: %zu bad row%s: nothing imported", path, r->nerrors,
                     r->nerrors == 1 ? "" : "s");
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = !strcmp(path, "-") ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        if (cap > IMPORT_MAX_BYTES) {
            break;
        }
        char *p = realloc(buf, cap * 2);
        if (!p) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = p;
        cap *= 2;
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf;
}

static int metrics_import(const cli_args *a)
{
    if (a->npos != 1)
        return cli_error("usage: jejak metrics import FILE.csv"), CLI_USAGE;
    const char *path = a->pos[0];
    size_t len;
    char *buf = slurp(path, &len);
    if (!buf)
        return cli_error("cannot read %s: %s", path, strerror(errno));
    import_result r;
    int bad = import_metrics(buf, len, &r);
    free(buf);
    if (bad) {
        import_free(&r);
        return import_refused(path, &r);
    }
    store *s = cli_store(a);
    if (!s) {
        import_free(&r);
        return CLI_FAIL;
    }
    int rc = store_update(s, store_metrics, &r);
    store_close(s);
    size_t rows = r.nrows;
    import_free(&r);
    if (rc == STORE_ROLLBACK)
        return import_refused(path, &r);
    if (rc)
        return cli_error("cannot store the metrics: %s", store_strerror(rc));
    printf("imported %zu row%s from %s\n", rows, rows == 1 ? "" : "s", path);
    return CLI_OK;
}

/* ---- costs ------------------------------------------------------------------------- */

typedef struct {
    rec_cost cost;
    rec_paymodel pay;
    bool is_pay;
    const char *missing;
} cost_ctx;

static int put_cost(store_txn *t, void *arg)
{
    cost_ctx *x = arg;
    const char *inf = x->is_pay ? x->pay.influencer : x->cost.influencer;
    const char *camp = x->is_pay ? x->pay.campaign : x->cost.campaign;
    int rc = reg_check_owner(t, inf, camp, NULL, &x->missing);
    if (rc)
        return rc;
    return x->is_pay ? reg_put_paymodel(t, &x->pay) : reg_put_cost(t, &x->cost);
}

static int cost(const cli_args *a, bool pay)
{
    const char *inf = cli_get(a, O_INF), *camp = cli_get(a, O_CAMP) ? cli_get(a, O_CAMP) : "";
    const char *amount = cli_get(a, O_AMOUNT), *cur = cli_get(a, O_CUR);
    const char *date = cli_get(a, O_DATE);
    char **rest = a->pos;
    int nrest = a->npos;
    if (!inf || !text_valid_id(inf))
        return cli_error("--influencer ID is required");
    if (*camp && !text_valid_id(camp))
        return cli_error("--campaign must be a campaign id");
    cost_ctx x;
    memset(&x, 0, sizeof(x));
    char why[160];
    if (!pay) {
        if (nrest)
            return cli_error("unexpected argument '%s'", rest[0]);
        if (!amount || !cur)
            return cli_error("--amount and --currency are required (--amount 500000 "
                             "--currency IDR)");
        if (strlen(cur) != 3 || money_exponent(cur) < 0)
            return cli_error("--currency must be an ISO 4217 code such as IDR or USD");
        if (money_parse(amount, cur, 0, &x.cost.amount, why, sizeof(why)))
            return cli_error("--amount: %s", why);
        /* Without --date, the fee is dated today in the marketer's zone (config tz). */
        char today[32], tz[65] = "UTC";
        if (cli_setting(a, "tz", tz, sizeof(tz)))
            return CLI_FAIL;
        text_format_time(tz_day_start("UTC", tz_local_day(tz, text_now_ms())), today,
                         sizeof(today));
        today[10] = '\0';
        if (date && !text_valid_date(date))
            return cli_error("--date must be YYYY-MM-DD, not '%s'", date);
        id_click_new(x.cost.id, text_now_ms());
        snprintf(x.cost.influencer, sizeof(x.cost.influencer), "%s", inf);
        snprintf(x.cost.campaign, sizeof(x.cost.campaign), "%s", camp);
        memcpy(x.cost.date, date ? date : today, 10);
        x.cost.date[10] = '\0';
        memcpy(x.cost.currency, cur, 4);
    } else {
        x.is_pay = true;
        if (amount || cur || date)
            return cli_error("cost model takes: cpc PRICE CURRENCY | cpa PRICE CURRENCY | "
                             "revshare PCT%%");
        snprintf(x.pay.influencer, sizeof(x.pay.influencer), "%s", inf);
        snprintf(x.pay.campaign, sizeof(x.pay.campaign), "%s", camp);
        if (nrest == 3 && (!strcmp(rest[0], "cpc") || !strcmp(rest[0], "cpa"))) {
            x.pay.kind = rest[0][2] == 'c' ? REC_PAY_CPC : REC_PAY_CPA;
            if (strlen(rest[2]) != 3 || money_exponent(rest[2]) < 0)
                return cli_error("the currency must be an ISO 4217 code such as IDR");
            if (money_parse(rest[1], rest[2], 0, &x.pay.price, why, sizeof(why)))
                return cli_error("price: %s", why);
            memcpy(x.pay.currency, rest[2], 4);
        } else if (nrest == 2 && !strcmp(rest[0], "revshare")) {
            /* "10%" or "12.5%": parsed exactly, as basis points. */
            char pct[32];
            size_t n = strlen(rest[1]);
            if (n < 2 || n >= sizeof(pct) || rest[1][n - 1] != '%')
                return cli_error("revshare takes a percentage such as 10%%");
            memcpy(pct, rest[1], n - 1);
            pct[n - 1] = '\0';
            int64_t hundredths;
            if (money_parse(pct, "USD", 0, &hundredths, why, sizeof(why)) || hundredths > 10000)
                return cli_error("revshare takes a percentage from 0%% to 100%% with at most "
                                 "two decimals");
            x.pay.kind = REC_PAY_REVSHARE;
            x.pay.basis_points = hundredths;
        } else {
            return cli_error("cost model takes: cpc PRICE CURRENCY | cpa PRICE CURRENCY | "
                             "revshare PCT%%");
        }
    }
    int rc;
    if (cli_update(a, put_cost, &x, &rc))
        return CLI_FAIL;
    if (rc == STORE_NOTFOUND)
        return cli_error("no %s '%s': add it first", x.missing, x.missing[0] == 'i' ? inf : camp);
    if (rc)
        return cli_error("cannot store the cost: %s", store_strerror(rc));
    if (pay)
        printf("pay model set for %s%s%s\n", inf, *camp ? " / " : "", camp);
    else
        printf("cost of %s %s added for %s%s%s on %s\n", amount, cur, inf, *camp ? " / " : "", camp,
               x.cost.date);
    return CLI_OK;
}

static int cost_add(const cli_args *a)
{
    return cost(a, false);
}

static int cost_model(const cli_args *a)
{
    return cost(a, true);
}

/* ---- config, API keys, rollups ----------------------------------------------------- */

typedef struct {
    const char *key, *value;
} config_ctx;

static int set_config(store_txn *t, void *arg)
{
    config_ctx *x = arg;
    return reg_set_config(t, x->key, x->value);
}

static int config_set(const cli_args *a)
{
    bool tz = a->npos >= 1 && !strcmp(a->pos[0], "tz");
    bool url = a->npos >= 1 && !strcmp(a->pos[0], "public-url");
    if (a->npos != 2 || !(tz || url))
        return cli_error("usage: jejak config set tz ZONE | jejak config set public-url URL"),
               CLI_USAGE;
    const char *value = a->pos[1];
    char err[200];
    if (tz && !tz_valid(value))
        return cli_error("'%s' is not an IANA time zone (Asia/Jakarta, Europe/Berlin, UTC)", value);
    if (url && url_check_destination(value, err, sizeof(err)))
        return cli_error("public-url refused: %s", err);
    config_ctx x = {tz ? "tz" : "public_url", value};
    int rc;
    if (cli_update(a, set_config, &x, &rc))
        return CLI_FAIL;
    if (rc)
        return cli_error("cannot store the setting: %s", store_strerror(rc));
    printf("%s = %s\n", a->pos[0], value);
    return CLI_OK;
}

static int config_get(const cli_args *a)
{
    bool tz = a->npos >= 1 && !strcmp(a->pos[0], "tz");
    bool url = a->npos >= 1 && !strcmp(a->pos[0], "public-url");
    if (a->npos != 1 || !(tz || url))
        return cli_error("usage: jejak config get tz|public-url"), CLI_USAGE;
    char value[256];
    snprintf(value, sizeof(value), "%s", tz ? "UTC" : "http://127.0.0.1:8080");
    if (cli_setting(a, tz ? "tz" : "public_url", value, sizeof(value)))
        return CLI_FAIL;
    printf("%s\n", value);
    return CLI_OK;
}

static int put_apikey(store_txn *t, void *arg)
{
    rec_apikey *k = arg;
    rec_influencer inf;
    if (k->influencer[0]) {
        int rc = reg_get_influencer(t, k->influencer, &inf);
        if (rc)
            return rc;
    }
    return reg_put_apikey(t, k);
}

static int apikey_add(const cli_args *a)
{
    const char *role = cli_get(a, O_ROLE);
    rec_apikey k;
    memset(&k, 0, sizeof(k));
    if (!role)
        return cli_error("--role admin or --role influencer:ID is required");
    if (!strncmp(role, "influencer:", 11)) {
        if (!text_valid_id(role + 11))
            return cli_error("--role influencer:ID needs an influencer id");
        snprintf(k.influencer, sizeof(k.influencer), "%s", role + 11);
    } else if (strcmp(role, "admin")) {
        return cli_error("--role must be admin or influencer:ID");
    }
    if (sodium_init() < 0)
        return cli_error("libsodium failed to initialize");
    char key[64] = "jk_";
    id_token_new(key + 3, 32);
    crypto_hash_sha256(k.hash, (const unsigned char *)key, strlen(key));
    k.created_ms = text_now_ms();
    int rc;
    if (cli_update(a, put_apikey, &k, &rc))
        return CLI_FAIL;
    if (rc == STORE_NOTFOUND)
        return cli_error("no influencer '%s': add it first", k.influencer);
    if (rc)
        return cli_error("cannot store the key: %s", store_strerror(rc));
    printf("key=%s\n", key);
    fprintf(stderr, "jejak: keep this key: it is stored only as a hash and not shown again\n");
    sodium_memzero(key, sizeof(key));
    return CLI_OK;
}

static int rollups_rebuild(const cli_args *a)
{
    bool check = cli_has(a, O_CHECK);
    if (a->npos > 0)
        return cli_error("unexpected argument '%s'", a->pos[0]);
    store *s = cli_store(a);
    if (!s)
        return CLI_FAIL;
    uint64_t rows = 0, diffs = 0;
    int rc = rollup_rebuild(s, check, &rows, &diffs);
    store_close(s);
    /* STORE_CORRUPT with no differing row: a raw record did not decode (the rebuild could
     * not be made), which `jejak check` names. */
    if (check && rc == STORE_CORRUPT && diffs)
        return cli_error("%llu of the live rollup rows differ from a rebuild from raw records",
                         (unsigned long long)diffs);
    if (rc == STORE_CORRUPT)
        return cli_error("cannot rebuild the rollups: a stored record does not decode (the store "
                         "is damaged: run `jejak check` to see where)");
    if (rc)
        return cli_error("cannot rebuild the rollups: %s", store_strerror(rc));
    if (check)
        printf("rollups match a rebuild from raw records (%llu rows)\n", (unsigned long long)rows);
    else
        printf("rollups rebuilt: %llu rows (%llu differed)\n", (unsigned long long)rows,
               (unsigned long long)diffs);
    return CLI_OK;
}

/* ---- the commands ----------------------------------------------------------------- */

static const cli_opt report_opts[] = {
    {O_BY, "by", "KEY",
     "influencer (default)|campaign|link|source|medium|content|day|tier; "
     "twice: two levels"},
    {O_MODEL, "model", "M",
     "last-click|first-click|linear|time-decay|position-based (default last-click)"},
    {O_FROM, "from", "DATE",
     "the first day, YYYY-MM-DD, in the report's zone (default: 29 days before --to)"},
    {O_TO, "to", "DATE", "the last day, included (default: today)"},
    {O_TZ, "tz", "ZONE", "the IANA zone days are counted in (default: config tz)"},
    {O_INF, "influencer", "ID", "only this influencer"},
    {O_CAMP, "campaign", "ID", "only this campaign"},
    {O_CUR, "currency", "CODE", "only conversions and costs in this ISO 4217 currency"},
    {O_FORMAT, "format", "F", "table|csv|json (default table)"},
    {O_WIDE, "wide", NULL,
     "every column in the table (default: clicks, conversions, revenue, cost, ROI)"},
    {0, NULL, NULL, NULL}};

const cli_cmd cli_cmd_report = {"report",
                                "[options]",
                                "clicks, conversions, revenue, costs and rates, attributed "
                                "under one model",
                                report_opts,
                                report,
                                NULL,
                                CLI_READS};

static const cli_cmd metrics_subs[] = {{"import", "FILE.csv",
                                        "import post metrics (views, likes, ...); all rows or none",
                                        NULL, metrics_import, NULL, 0},
                                       {NULL, NULL, NULL, NULL, NULL, NULL, 0}};

const cli_cmd cli_cmd_metrics = {
    "metrics", "COMMAND", "post metrics from the platforms", NULL, NULL, metrics_subs, 0};

static const cli_opt cost_add_opts[] = {
    {O_INF, "influencer", "ID", "the influencer paid (required)"},
    {O_CAMP, "campaign", "ID", "the campaign the fee is for"},
    {O_AMOUNT, "amount", "A", "the fee, such as 500000 or 12.50 (required)"},
    {O_CUR, "currency", "C", "its ISO 4217 currency, such as IDR (required)"},
    {O_DATE, "date", "D", "the day paid, YYYY-MM-DD (default: today in config tz)"},
    {0, NULL, NULL, NULL}};

static const cli_opt cost_model_opts[] = {
    {O_INF, "influencer", "ID", "the influencer paid (required)"},
    {O_CAMP, "campaign", "ID", "the campaign the model is for"},
    {0, NULL, NULL, NULL}};

static const cli_cmd cost_subs[] = {
    {"add", "--influencer ID --amount A --currency C [options]", "record a fee paid", cost_add_opts,
     cost_add, NULL, 0},
    {"model", "--influencer ID [--campaign ID] cpc|cpa PRICE CURRENCY | revshare PCT%",
     "set how an influencer is paid: per click, per order or a share of revenue", cost_model_opts,
     cost_model, NULL, 0},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0}};

const cli_cmd cli_cmd_cost = {"cost",    "COMMAND", "what influencers are paid", NULL, NULL,
                              cost_subs, 0};

static const cli_cmd config_subs[] = {
    {"set", "tz ZONE | public-url URL",
     "set the zone reports count days in, or the address links are printed with", NULL, config_set,
     NULL, 0},
    {"get", "tz|public-url", "print a setting", NULL, config_get, NULL, CLI_READS},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0}};

const cli_cmd cli_cmd_config = {
    "config", "COMMAND", "the settings kept in the data folder", NULL, NULL, config_subs, 0};

static const cli_opt apikey_opts[] = {
    {O_ROLE, "role", "ROLE", "admin, or influencer:ID (sees only that influencer's rows)"},
    {0, NULL, NULL, NULL}};

static const cli_cmd apikey_subs[] = {{"add", "--role admin|influencer:ID",
                                       "create a key for the report API; prints it, once",
                                       apikey_opts, apikey_add, NULL, 0},
                                      {NULL, NULL, NULL, NULL, NULL, NULL, 0}};

const cli_cmd cli_cmd_apikey = {"apikey",    "COMMAND", "keys for the report API", NULL, NULL,
                                apikey_subs, 0};

static const cli_opt rollups_opts[] = {
    {O_CHECK, "check", NULL, "only compare the live rollups with a rebuild; change nothing"},
    {0, NULL, NULL, NULL}};

static const cli_cmd rollups_subs[] = {{"rebuild", "[options]",
                                        "recompute the report rollups from the raw records",
                                        rollups_opts, rollups_rebuild, NULL, CLI_READS},
                                       {NULL, NULL, NULL, NULL, NULL, NULL, 0}};

const cli_cmd cli_cmd_rollups = {"rollups",    "COMMAND", "the daily sums reports read", NULL, NULL,
                                 rollups_subs, 0};
