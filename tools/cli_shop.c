/*
 * cli_shop.c: `jejak shop add|list`, `jejak coupon add|list` and `jejak conversions export`:
 * what a shop needs to send postbacks, and reading the conversions back.
 *
 * A shop's secret and token are printed once, at creation. The secret is stored (it is
 * the HMAC key jejak verifies with); the token only as its SHA-256.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "attribution/model.h"
#include "attribution/money.h"
#include "storage/id.h"
#include "storage/registry.h"
#include "storage/text.h"
#include "tools/cli.h"

enum { OPT_INFLUENCER = 1, OPT_CAMPAIGN, OPT_FORMAT };

typedef struct {
    const char *influencer, *campaign, *format, *positional;
} args;

/* Takes the options given and at most one argument. */
static int load(const cli_args *ca, args *a)
{
    memset(a, 0, sizeof(*a));
    a->influencer = cli_get(ca, OPT_INFLUENCER);
    a->campaign = cli_get(ca, OPT_CAMPAIGN);
    a->format = cli_get(ca, OPT_FORMAT);
    if (ca->npos > 0)
        a->positional = ca->pos[0];
    if (ca->npos > 1)
        return cli_error("unexpected argument '%s'", ca->pos[1]), -1;
    return 0;
}

/* Runs fn in a write transaction: its result, or -1 if the store did not open. */
static int run_write(const cli_args *ca, store_update_fn fn, void *ctx)
{
    int rc;
    return cli_update(ca, fn, ctx, &rc) ? -1 : rc;
}

/* ---- shops ------------------------------------------------------------------------ */

static int put_shop(store_txn *t, void *ctx)
{
    return reg_put_shop(t, ctx);
}

static int print_shop(const rec_shop *r, void *ctx)
{
    (void)ctx;
    char when[32];
    text_format_time(r->created_ms, when, sizeof(when));
    printf("%-24s %s\n", r->id, when);
    return 0;
}

static int list_shops(store_txn *t, void *ctx)
{
    (void)ctx;
    printf("%-24s %s\n", "ID", "CREATED");
    return reg_each_shop(t, print_shop, NULL);
}

static int shop_list(const cli_args *ca)
{
    args a;
    if (load(ca, &a))
        return CLI_USAGE;
    return cli_read(ca, list_shops, NULL);
}

static int shop_add(const cli_args *ca)
{
    args a;
    if (load(ca, &a))
        return CLI_USAGE;
    if (!a.positional || !text_valid_id(a.positional))
        return cli_error("shop add needs an ID: 1-64 letters, digits, '-' or '_'");
    if (sodium_init() < 0)
        return cli_error("libsodium failed to initialize");
    rec_shop r;
    memset(&r, 0, sizeof(r));
    char token[64];
    snprintf(r.id, sizeof(r.id), "%s", a.positional);
    id_hex_new(r.secret, 32);
    id_token_new(token, 24);
    crypto_hash_sha256(r.token_hash, (const unsigned char *)token, strlen(token));
    r.created_ms = text_now_ms();
    int rc = run_write(ca, put_shop, &r);
    if (rc == STORE_EXISTS)
        return cli_error("shop '%s' already exists (its secret was shown when it was added)", r.id);
    if (rc)
        return rc < 0 ? CLI_FAIL : cli_error("cannot store the shop: %s", store_strerror(rc));
    printf("shop %s added. Keep these two lines: they are not shown again.\n", r.id);
    printf("secret=%s\ntoken=%s\n", r.secret, token);
    sodium_memzero(&r, sizeof(r));
    sodium_memzero(token, sizeof(token));
    return CLI_OK;
}

/* ---- coupons ---------------------------------------------------------------------- */

typedef struct {
    rec_coupon c;
    const char *missing;
} coupon_ctx;

static int put_coupon(store_txn *t, void *arg)
{
    coupon_ctx *x = arg;
    int rc = reg_check_owner(t, x->c.influencer, x->c.campaign, NULL, &x->missing);
    return rc ? rc : reg_put_coupon(t, &x->c);
}

static int print_coupon(const rec_coupon *r, void *ctx)
{
    (void)ctx;
    printf("%-20s %-24s %s\n", r->code, r->influencer, r->campaign);
    return 0;
}

static int list_coupons(store_txn *t, void *ctx)
{
    (void)ctx;
    printf("%-20s %-24s %s\n", "CODE", "INFLUENCER", "CAMPAIGN");
    return reg_each_coupon(t, print_coupon, NULL);
}

static int coupon_list(const cli_args *ca)
{
    args a;
    if (load(ca, &a))
        return CLI_USAGE;
    return cli_read(ca, list_coupons, NULL);
}

static int coupon_add(const cli_args *ca)
{
    args a;
    if (load(ca, &a))
        return CLI_USAGE;
    if (!a.positional || !text_valid_id(a.positional))
        return cli_error("coupon add needs a CODE: 1-64 letters, digits, '-' or '_'");
    if (!a.influencer || !text_valid_id(a.influencer))
        return cli_error("--influencer ID is required (an existing influencer)");
    if (!a.campaign || !text_valid_id(a.campaign))
        return cli_error("--campaign ID is required (an existing campaign)");
    coupon_ctx x;
    memset(&x, 0, sizeof(x));
    snprintf(x.c.code, sizeof(x.c.code), "%s", a.positional);
    snprintf(x.c.influencer, sizeof(x.c.influencer), "%s", a.influencer);
    snprintf(x.c.campaign, sizeof(x.c.campaign), "%s", a.campaign);
    x.c.created_ms = text_now_ms();
    int rc = run_write(ca, put_coupon, &x);
    if (rc == STORE_NOTFOUND)
        return cli_error("no %s '%s': add it first", x.missing,
                         x.missing[0] == 'i' ? a.influencer : a.campaign);
    if (rc == STORE_EXISTS)
        return cli_error("coupon '%s' already exists (codes match case-insensitively)",
                         a.positional);
    if (rc)
        return rc < 0 ? CLI_FAIL : cli_error("cannot store the coupon: %s", store_strerror(rc));
    printf("coupon %s added for %s / %s\n", x.c.code, a.influencer, a.campaign);
    return CLI_OK;
}

/* ---- conversions export ----------------------------------------------------------- */

typedef struct {
    bool csv;
    text_buf out;
} export_ctx;

/* "0.333333333" for 333333333 parts of a billion: exact, no float. */
static void share_text(int64_t share, char *out, size_t n)
{
    snprintf(out, n, "%lld.%09lld", (long long)(share / MODEL_SHARE_ONE),
             (long long)(share % MODEL_SHARE_ONE));
    size_t len = strlen(out);
    while (len > 3 && out[len - 1] == '0')
        out[--len] = '\0';
}

static void credits_json(text_buf *b, const rec_conversion *c, int m)
{
    text_puts(b, "[");
    for (unsigned i = 0; i < c->ncredits[m]; i++) {
        const rec_credit *k = &c->credits[m][i];
        char share[32], amount[MONEY_TEXT_MAX];
        share_text(k->share, share, sizeof(share));
        if (money_format(k->amount, c->currency[0] ? c->currency : "XXX", amount, sizeof(amount)) <
            0)
            snprintf(amount, sizeof(amount), "%lld", (long long)k->amount);
        text_puts(b, i ? ",{\"influencer\":" : "{\"influencer\":");
        text_json_str(b, k->influencer);
        text_puts(b, ",\"campaign\":");
        text_json_str(b, k->campaign);
        text_puts(b, ",\"link\":");
        if (k->link[0])
            text_json_str(b, k->link);
        else
            text_puts(b, "null");
        text_printf(b, ",\"share\":%s,\"amount\":\"%s\"}", share, amount);
    }
    text_puts(b, "]");
}

static const char *const conv_columns[] = {"conversion_id", "shop",   "order_id",     "event",
                                           "status",        "amount", "currency",     "click_id",
                                           "coupon",        "ts",     "attributed_to"};

static int export_one(const rec_conversion *c, void *arg)
{
    export_ctx *e = arg;
    char id[ID_CLICK_TEXT + 1], amount[MONEY_TEXT_MAX], ts[24];
    id_click_format(c->id, id);
    if (!c->currency[0] || money_format(c->amount, c->currency, amount, sizeof(amount)) < 0)
        snprintf(amount, sizeof(amount), "%lld", (long long)c->amount);
    snprintf(ts, sizeof(ts), "%lld", (long long)c->ts_ms);
    static const char *const via[] = {"", "click", "coupon"};
    const char *vals[] = {id,
                          c->shop,
                          c->order_id,
                          rec_event_name(c->event),
                          rec_status_name(c->status),
                          amount,
                          c->currency,
                          c->click_id,
                          c->coupon,
                          ts,
                          via[c->via]};
    static const text_kind kinds[] = {TEXT_STR,         TEXT_STR,         TEXT_STR,
                                      TEXT_STR,         TEXT_STR,         TEXT_NUM_STR,
                                      TEXT_STR_OR_NULL, TEXT_STR_OR_NULL, TEXT_STR_OR_NULL,
                                      TEXT_RAW,         TEXT_STR_OR_NULL};
    text_buf *b = &e->out;
    text_buf_reset(b);
    if (!e->csv)
        text_puts(b, "{");
    text_row(b, e->csv, conv_columns, vals, kinds, sizeof(vals) / sizeof(vals[0]));
    if (e->csv) {
        /* One column per model, each holding that model's credit lines as JSON. */
        for (int m = 0; m < MODEL_COUNT; m++) {
            text_buf cell;
            text_buf_init(&cell, 1 << 20);
            credits_json(&cell, c, m);
            text_puts(b, ",");
            text_csv_field(b, cell.ptr ? cell.ptr : "[]");
            text_buf_free(&cell);
        }
        text_puts(b, "\n");
    } else {
        text_puts(b, ",\"credits\":{");
        for (int m = 0; m < MODEL_COUNT; m++) {
            text_printf(b, "%s\"%s\":", m ? "," : "", model_name((model_kind)m));
            credits_json(b, c, m);
        }
        text_puts(b, "}}\n");
    }
    if (b->failed || fwrite(b->ptr, 1, b->len, stdout) != b->len)
        return STORE_ERROR;
    return 0;
}

static int export_all(store_txn *t, void *arg)
{
    export_ctx *e = arg;
    if (e->csv) {
        for (size_t i = 0; i < sizeof(conv_columns) / sizeof(conv_columns[0]); i++)
            printf("%s%s", i ? "," : "", conv_columns[i]);
        for (int m = 0; m < MODEL_COUNT; m++)
            printf(",%s", model_name((model_kind)m));
        printf("\n");
    }
    return reg_each_conversion(t, export_one, e);
}

static int conversions_export(const cli_args *ca)
{
    args a;
    if (load(ca, &a))
        return CLI_USAGE;
    if (a.positional)
        return cli_error("conversions export takes only --format and --data"), CLI_USAGE;
    const char *format = a.format ? a.format : "jsonl";
    if (strcmp(format, "jsonl") && strcmp(format, "csv"))
        return cli_error("--format must be jsonl or csv, not '%s'", format);
    export_ctx e = {.csv = !strcmp(format, "csv")};
    text_buf_init(&e.out, 1 << 22);
    int rc = cli_read(ca, export_all, &e);
    text_buf_free(&e.out);
    return rc;
}

/* ---- the commands ----------------------------------------------------------------- */

static const cli_cmd shop_subs[] = {
    {"add", "ID", "register a shop; prints its secret and token, once", NULL, shop_add, NULL, 0},
    {"list", "", "list the shops", NULL, shop_list, NULL, CLI_READS},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0}};

const cli_cmd cli_cmd_shop = {"shop",    "COMMAND", "the shops that send postbacks", NULL, NULL,
                              shop_subs, 0};

static const cli_opt coupon_opts[] = {
    {OPT_INFLUENCER, "influencer", "ID", "the influencer the code belongs to (required)"},
    {OPT_CAMPAIGN, "campaign", "ID", "the campaign it belongs to (required)"},
    {0, NULL, NULL, NULL}};

static const cli_cmd coupon_subs[] = {
    {"add", "CODE --influencer ID --campaign ID", "register an influencer's coupon code",
     coupon_opts, coupon_add, NULL, 0},
    {"list", "", "list the coupon codes", NULL, coupon_list, NULL, CLI_READS},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0}};

const cli_cmd cli_cmd_coupon = {
    "coupon", "COMMAND", "coupon codes that attribute orders", NULL, NULL, coupon_subs, 0};

static const cli_opt conversions_opts[] = {
    {OPT_FORMAT, "format", "jsonl|csv", "the output format (default jsonl)"},
    {0, NULL, NULL, NULL}};

static const cli_cmd conversions_subs[] = {{"export", "[options]",
                                            "every conversion with its credits under each model",
                                            conversions_opts, conversions_export, NULL, CLI_READS},
                                           {NULL, NULL, NULL, NULL, NULL, NULL, 0}};

const cli_cmd cli_cmd_conversions = {
    "conversions", "COMMAND", "the conversions shops reported", NULL, NULL, conversions_subs, 0};
