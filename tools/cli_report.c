/*
 * cli_report.c: what the marketer runs: `jejak report`, `jejak metrics import`,
 * `jejak cost add|model`, `jejak config set|get tz`, `jejak apikey add` and
 * `jejak rollups rebuild [--check]`.
 */
#include <errno.h>
#include <getopt.h>
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

int cmd_report(int argc, char **argv)
{
    enum {
        O_DATA = 1000,
        O_BY,
        O_MODEL,
        O_FROM,
        O_TO,
        O_TZ,
        O_INF,
        O_CAMP,
        O_CUR,
        O_FORMAT,
        O_WIDE
    };
    static const struct option opts[] = {{"data", required_argument, NULL, O_DATA},
                                         {"by", required_argument, NULL, O_BY},
                                         {"model", required_argument, NULL, O_MODEL},
                                         {"from", required_argument, NULL, O_FROM},
                                         {"to", required_argument, NULL, O_TO},
                                         {"tz", required_argument, NULL, O_TZ},
                                         {"influencer", required_argument, NULL, O_INF},
                                         {"campaign", required_argument, NULL, O_CAMP},
                                         {"currency", required_argument, NULL, O_CUR},
                                         {"format", required_argument, NULL, O_FORMAT},
                                         {"wide", no_argument, NULL, O_WIDE},
                                         {NULL, 0, NULL, 0}};
    static const char *const keys[] = {[O_BY - O_BY] = "by",         [O_MODEL - O_BY] = "model",
                                       [O_FROM - O_BY] = "from",     [O_TO - O_BY] = "to",
                                       [O_TZ - O_BY] = "tz",         [O_INF - O_BY] = "influencer",
                                       [O_CAMP - O_BY] = "campaign", [O_CUR - O_BY] = "currency"};
    report_param params[16];
    size_t np = 0;
    const char *data = NULL, *format = "table";
    bool wide = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == O_DATA)
            data = optarg;
        else if (c == O_FORMAT)
            format = optarg;
        else if (c == O_WIDE)
            wide = true;
        else if (c >= O_BY && c <= O_CUR && np < 16)
            params[np++] = (report_param){keys[c - O_BY], optarg};
        else
            return CLI_USAGE;
    }
    if (optind < argc)
        return cli_error("unexpected argument '%s'", argv[optind]);
    report_format f;
    if (!strcmp(format, "table"))
        f = REPORT_TABLE;
    else if (!strcmp(format, "csv"))
        f = REPORT_CSV;
    else if (!strcmp(format, "json"))
        f = REPORT_JSON;
    else
        return cli_error("--format must be table, csv or json, not '%s'", format);
    store *s = cli_open_existing(data);
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

int cmd_metrics(int argc, char **argv)
{
    enum { O_DATA = 1000 };
    static const struct option opts[] = {{"data", required_argument, NULL, O_DATA},
                                         {NULL, 0, NULL, 0}};
    if (argc < 2 || strcmp(argv[1], "import"))
        return cli_error("usage: jejak metrics import FILE.csv"), CLI_USAGE;
    const char *data = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        if (c != O_DATA)
            return CLI_USAGE;
        data = optarg;
    }
    if (optind != argc - 2)
        return cli_error("usage: jejak metrics import FILE.csv"), CLI_USAGE;
    const char *path = argv[optind + 1];
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
    store *s = cli_open(data);
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

int cmd_cost(int argc, char **argv)
{
    enum { O_DATA = 1000, O_INF, O_CAMP, O_AMOUNT, O_CUR, O_DATE };
    static const struct option opts[] = {{"data", required_argument, NULL, O_DATA},
                                         {"influencer", required_argument, NULL, O_INF},
                                         {"campaign", required_argument, NULL, O_CAMP},
                                         {"amount", required_argument, NULL, O_AMOUNT},
                                         {"currency", required_argument, NULL, O_CUR},
                                         {"date", required_argument, NULL, O_DATE},
                                         {NULL, 0, NULL, 0}};
    const char *verb = argc > 1 ? argv[1] : "";
    bool pay = !strcmp(verb, "model");
    if (!pay && strcmp(verb, "add"))
        return cli_error("usage: jejak cost add --influencer ID [--campaign ID] --amount A "
                         "--currency C [--date D] | jejak cost model --influencer ID "
                         "[--campaign ID] cpc|cpa PRICE CURRENCY | revshare PCT%%"),
               CLI_USAGE;
    const char *data = NULL, *inf = NULL, *camp = "", *amount = NULL, *cur = NULL, *date = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_INF:
            inf = optarg;
            break;
        case O_CAMP:
            camp = optarg;
            break;
        case O_AMOUNT:
            amount = optarg;
            break;
        case O_CUR:
            cur = optarg;
            break;
        case O_DATE:
            date = optarg;
            break;
        default:
            return CLI_USAGE;
        }
    }
    char **rest = argv + 1 + optind;
    int nrest = argc - 1 - optind;
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
        store *cs = cli_open(data);
        if (!cs)
            return CLI_FAIL;
        store_txn *ct;
        if (store_read_begin(cs, &ct) == STORE_OK) {
            reg_get_config(ct, "tz", tz, sizeof(tz));
            store_read_end(ct);
        }
        store_close(cs);
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
    store *s = cli_open(data);
    if (!s)
        return CLI_FAIL;
    int rc = store_update(s, put_cost, &x);
    store_close(s);
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

/* ---- config, API keys, rollups ----------------------------------------------------- */

typedef struct {
    const char *key, *value;
} config_ctx;

static int set_config(store_txn *t, void *arg)
{
    config_ctx *x = arg;
    return reg_set_config(t, x->key, x->value);
}

int cmd_config(int argc, char **argv)
{
    const char *data = NULL;
    int i = 1;
    char *args[4];
    int n = 0;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc)
            data = argv[++i];
        else if (!strncmp(argv[i], "--data=", 7))
            data = argv[i] + 7;
        else if (n < 4)
            args[n++] = argv[i];
        else
            return CLI_USAGE;
    }
    bool tz = n >= 2 && !strcmp(args[1], "tz");
    bool url = n >= 2 && !strcmp(args[1], "public-url");
    if (n == 3 && !strcmp(args[0], "set") && (tz || url)) {
        char err[200];
        if (tz && !tz_valid(args[2]))
            return cli_error("'%s' is not an IANA time zone (Asia/Jakarta, Europe/Berlin, UTC)",
                             args[2]);
        if (url && url_check_destination(args[2], err, sizeof(err)))
            return cli_error("public-url refused: %s", err);
        store *s = cli_open(data);
        if (!s)
            return CLI_FAIL;
        config_ctx x = {tz ? "tz" : "public_url", args[2]};
        int rc = store_update(s, set_config, &x);
        store_close(s);
        if (rc)
            return cli_error("cannot store the setting: %s", store_strerror(rc));
        printf("%s = %s\n", args[1], args[2]);
        return CLI_OK;
    }
    if (n == 2 && !strcmp(args[0], "get") && (tz || url)) {
        store *s = cli_open_existing(data);
        if (!s)
            return CLI_FAIL;
        store_txn *t;
        char value[256];
        snprintf(value, sizeof(value), "%s", tz ? "UTC" : "http://127.0.0.1:8080");
        if (store_read_begin(s, &t) == STORE_OK) {
            reg_get_config(t, tz ? "tz" : "public_url", value, sizeof(value));
            store_read_end(t);
        }
        store_close(s);
        printf("%s\n", value);
        return CLI_OK;
    }
    return cli_error("usage: jejak config set tz ZONE | jejak config set public-url URL | "
                     "jejak config get tz|public-url"),
           CLI_USAGE;
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

int cmd_apikey(int argc, char **argv)
{
    enum { O_DATA = 1000, O_ROLE };
    static const struct option opts[] = {{"data", required_argument, NULL, O_DATA},
                                         {"role", required_argument, NULL, O_ROLE},
                                         {NULL, 0, NULL, 0}};
    if (argc < 2 || strcmp(argv[1], "add"))
        return cli_error("usage: jejak apikey add --role admin|influencer:ID"), CLI_USAGE;
    const char *data = NULL, *role = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        if (c == O_DATA)
            data = optarg;
        else if (c == O_ROLE)
            role = optarg;
        else
            return CLI_USAGE;
    }
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
    store *s = cli_open(data);
    if (!s)
        return CLI_FAIL;
    int rc = store_update(s, put_apikey, &k);
    store_close(s);
    if (rc == STORE_NOTFOUND)
        return cli_error("no influencer '%s': add it first", k.influencer);
    if (rc)
        return cli_error("cannot store the key: %s", store_strerror(rc));
    printf("key=%s\n", key);
    fprintf(stderr, "jejak: keep this key: it is stored only as a hash and not shown again\n");
    sodium_memzero(key, sizeof(key));
    return CLI_OK;
}

int cmd_rollups(int argc, char **argv)
{
    const char *data = NULL;
    bool check = false;
    if (argc < 2 || strcmp(argv[1], "rebuild"))
        return cli_error("usage: jejak rollups rebuild [--check]"), CLI_USAGE;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--check"))
            check = true;
        else if (!strcmp(argv[i], "--data") && i + 1 < argc)
            data = argv[++i];
        else
            return cli_error("unexpected argument '%s'", argv[i]);
    }
    store *s = cli_open_existing(data);
    if (!s)
        return CLI_FAIL;
    uint64_t rows = 0, diffs = 0;
    int rc = rollup_rebuild(s, check, &rows, &diffs);
    store_close(s);
    if (check && rc == STORE_CORRUPT)
        return cli_error("%llu of the live rollup rows differ from a rebuild from raw records",
                         (unsigned long long)diffs);
    if (rc)
        return cli_error("cannot rebuild the rollups: %s", store_strerror(rc));
    if (check)
        printf("rollups match a rebuild from raw records (%llu rows)\n", (unsigned long long)rows);
    else
        printf("rollups rebuilt: %llu rows (%llu differed)\n", (unsigned long long)rows,
               (unsigned long long)diffs);
    return CLI_OK;
}
