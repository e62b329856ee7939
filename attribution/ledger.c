/*
 * ledger.c: conversions joined to clicks (see ledger.h). The only file in attribution/
 * that reads the store; the arithmetic is model.c's and journey.c's.
 */
#include "attribution/ledger.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attribution/journey.h"
#include "attribution/money.h"
#include "attribution/model.h"
#include "storage/id.h"
#include "storage/registry.h"
#include "storage/rollup.h"

enum { COLLECT_MAX = 1024 }; /* a visitor's clicks read per journey, the latest kept */

typedef struct {
    journey_touch touch[COLLECT_MAX];
    char link[COLLECT_MAX][REC_ID];
    size_t n, seen;
} journey_buf;

static int collect(const rec_click *k, void *arg)
{
    journey_buf *j = arg;
    /* A ring: when a visitor has more clicks than we keep, the oldest go first. */
    size_t i = j->seen++ % COLLECT_MAX;
    j->touch[i].ts = k->ts_ms;
    memcpy(j->touch[i].id, k->id, 16);
    j->touch[i].bot = (k->flags & REC_CLICK_BOT) != 0;
    j->touch[i].ref = (uint32_t)i;
    memcpy(j->link[i], k->link, REC_ID);
    if (j->n < COLLECT_MAX)
        j->n++;
    return 0;
}

/* Adds share and amount to the line of link (one line per link and model). */
static int add_credit(store_txn *t, rec_conversion *c, int m, const char *link, int64_t share,
                      int64_t amount)
{
    for (unsigned i = 0; i < c->ncredits[m]; i++) {
        if (!strcmp(c->credits[m][i].link, link)) {
            c->credits[m][i].share += share;
            c->credits[m][i].amount += amount;
            return STORE_OK;
        }
    }
    rec_link l;
    int rc = reg_get_link(t, link, &l);
    if (rc)
        return rc;
    rec_credit *line = &c->credits[m][c->ncredits[m]++];
    snprintf(line->link, sizeof(line->link), "%s", link);
    snprintf(line->influencer, sizeof(line->influencer), "%s", l.influencer);
    snprintf(line->campaign, sizeof(line->campaign), "%s", l.campaign);
    line->share = share;
    line->amount = amount;
    return STORE_OK;
}

static int alloc_credits(rec_conversion *c, size_t lines)
{
    rec_conversion_free(c);
    for (int m = 0; m < REC_MODELS; m++) {
        c->credits[m] = calloc(lines ? lines : 1, sizeof(rec_credit));
        if (!c->credits[m])
            return STORE_ERROR;
    }
    return STORE_OK;
}

static int credit_journey(store_txn *t, rec_conversion *c, journey_buf *j, size_t n)
{
    int64_t ts[MODEL_MAX_TOUCHES], share[MODEL_MAX_TOUCHES], credit[MODEL_MAX_TOUCHES];
    for (size_t i = 0; i < n; i++)
        ts[i] = j->touch[i].ts;
    int rc = alloc_credits(c, n);
    for (int m = 0; m < REC_MODELS && rc == STORE_OK; m++) {
        if (model_credit((model_kind)m, ts, n, c->ts_ms, c->amount, share, credit) < 0)
            return STORE_ERROR;
        for (size_t i = 0; i < n && rc == STORE_OK; i++)
            if (share[i] || credit[i]) /* a click a model gives nothing is not listed */
                rc = add_credit(t, c, m, j->link[j->touch[i].ref], share[i], credit[i]);
    }
    c->via = REC_VIA_CLICK;
    return rc;
}

static int credit_coupon(rec_conversion *c, const rec_coupon *k)
{
    int rc = alloc_credits(c, 1);
    for (int m = 0; m < REC_MODELS && rc == STORE_OK; m++) {
        rec_credit *line = &c->credits[m][0];
        memcpy(line->influencer, k->influencer, sizeof(line->influencer));
        memcpy(line->campaign, k->campaign, sizeof(line->campaign));
        line->share = MODEL_SHARE_ONE;
        line->amount = c->amount;
        c->ncredits[m] = 1;
    }
    c->via = REC_VIA_COUPON;
    return rc;
}

static const char *const reason_names[LEDGER_REASON_COUNT] = {
    [LEDGER_REASON_NONE] = "",
    [LEDGER_REASON_UNFILLED_MACRO] = "unfilled_macro",
    [LEDGER_REASON_UNKNOWN_CLICK] = "unknown_click",
    [LEDGER_REASON_BOT_CLICK] = "bot_click",
    [LEDGER_REASON_OUTSIDE_LOOKBACK] = "outside_lookback",
    [LEDGER_REASON_UNKNOWN_COUPON] = "unknown_coupon",
    [LEDGER_REASON_NO_CLICK_NO_COUPON] = "no_click_no_coupon",
};

const char *ledger_reason_name(unsigned reason)
{
    return reason < LEDGER_REASON_COUNT ? reason_names[reason] : "";
}

/* Placeholders of shop and affiliate platforms' URL templates, as data: a click id wrapped in
 * one of these pairs (with something inside), or one of these words. A real click id is
 * Crockford base32, which has none of these characters. */
static const struct {
    const char *open, *close;
} macro_marks[] = {{"${", "}"}, {"{", "}"}, {"[", "]"}, {"%", "%"}, {"#", "#"}, {"<", ">"}};
static const char *const macro_words[] = {"REPLACE", "REPLACE_ME", "REPLACEME"};

bool ledger_is_macro(const char *click_id)
{
    size_t n = strlen(click_id);
    for (size_t i = 0; i < sizeof(macro_marks) / sizeof(macro_marks[0]); i++) {
        size_t o = strlen(macro_marks[i].open), c = strlen(macro_marks[i].close);
        if (n > o + c && !strncmp(click_id, macro_marks[i].open, o) &&
            !strcmp(click_id + n - c, macro_marks[i].close))
            return true;
    }
    for (size_t i = 0; i < sizeof(macro_words) / sizeof(macro_words[0]); i++)
        if (!strcasecmp(click_id, macro_words[i]))
            return true;
    return false;
}

int ledger_attribute(store_txn *t, rec_conversion *c, const ledger_config *cfg)
{
    return ledger_attribute_why(t, c, cfg, NULL);
}

int ledger_attribute_why(store_txn *t, rec_conversion *c, const ledger_config *cfg,
                         ledger_reason *why)
{
    journey_buf *j = NULL;
    size_t n = 0;
    int rc = STORE_OK;
    ledger_reason reason = LEDGER_REASON_NONE;
    rec_conversion_free(c);
    c->via = REC_VIA_NONE;

    uint8_t click_id[16];
    rec_click clicked;
    if (!c->click_id[0]) {
        reason = c->coupon[0] ? LEDGER_REASON_UNKNOWN_COUPON : LEDGER_REASON_NO_CLICK_NO_COUPON;
    } else if (ledger_is_macro(c->click_id)) {
        reason = LEDGER_REASON_UNFILLED_MACRO;
    } else if (id_click_parse(c->click_id, click_id) != 0 ||
               (rc = reg_get_click(t, click_id, &clicked)) == STORE_NOTFOUND) {
        reason = LEDGER_REASON_UNKNOWN_CLICK;
        rc = STORE_OK;
    } else if (rc == STORE_OK) {
        if (!(j = malloc(sizeof(*j))))
            return STORE_ERROR;
        j->n = j->seen = 0;
        rc = reg_each_visit(t, clicked.visitor, c->ts_ms - cfg->lookback_ms, c->ts_ms, collect, j);
        /* A prefetch or in-app preview is stored as a bot (nobody may have seen it) and is
         * in no visits entry; when the app shows the page it fetched, the tap never reaches
         * us, and the sale names the prefetch: proof that a person used it. It joins the
         * journey; prefetches no sale names still count nowhere. */
        if (rc == STORE_OK && (clicked.flags & REC_CLICK_PREFETCH) &&
            !(clicked.flags & REC_CLICK_SUSPICIOUS)) {
            collect(&clicked, j);
            j->touch[(j->seen - 1) % COLLECT_MAX].bot = false;
        }
        if (rc == STORE_OK)
            n = journey_select(j->touch, j->n, c->ts_ms, cfg->lookback_ms);
        /* Without a journey the clicked click says why: its visitor's others had their turn. */
        bool in_window = clicked.ts_ms <= c->ts_ms && clicked.ts_ms >= c->ts_ms - cfg->lookback_ms;
        bool prefetch = (clicked.flags & REC_CLICK_PREFETCH) != 0; /* a person's, above */
        bool bot = ((clicked.flags & REC_CLICK_BOT) && !prefetch) ||
                   ((clicked.flags & REC_CLICK_SUSPICIOUS) && in_window);
        reason = bot ? LEDGER_REASON_BOT_CLICK : LEDGER_REASON_OUTSIDE_LOOKBACK;
    }
    rec_coupon coupon;
    bool has_coupon =
        rc == STORE_OK && c->coupon[0] && reg_get_coupon(t, c->coupon, &coupon) == STORE_OK;
    if (rc == STORE_OK) {
        if (has_coupon && (n == 0 || cfg->coupon_priority))
            rc = credit_coupon(c, &coupon);
        else if (n > 0)
            rc = credit_journey(t, c, j, n);
    }
    free(j);
    if (why)
        *why = c->via == REC_VIA_NONE ? reason : LEDGER_REASON_NONE;
    return rc;
}

/* allowed[from][to]: the status changes a repeat of an order may make (ledger.h). */
static const bool allowed[REC_STATUS_COUNT][REC_STATUS_COUNT] = {
    [REC_STATUS_PENDING] = {[REC_STATUS_APPROVED] = true, [REC_STATUS_DECLINED] = true},
    [REC_STATUS_APPROVED] = {[REC_STATUS_REFUNDED] = true},
};
/* What each status may still become, for the shop's 409. */
static const char *const next_text[REC_STATUS_COUNT] = {
    [REC_STATUS_PENDING] = "a pending order may become approved or declined",
    [REC_STATUS_APPROVED] = "an approved order may only become refunded",
    [REC_STATUS_DECLINED] = "declined is final",
    [REC_STATUS_REFUNDED] = "refunded is final",
};

bool ledger_status_change_allowed(uint8_t from, uint8_t to)
{
    return from < REC_STATUS_COUNT && to < REC_STATUS_COUNT && allowed[from][to];
}

static void conflict(ledger_result *out, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void conflict(ledger_result *out, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->why, sizeof(out->why), fmt, ap);
    va_end(ap);
    snprintf(out->field, sizeof(out->field), "%s", field);
    out->outcome = LEDGER_CONFLICT;
}

/* A repeat of a stored order: a duplicate, a status change, or a conflict (nothing written).
 * The amount and currency are compared first: a repeat naming other money is another order
 * or a correction, neither of which a status change may carry in silently. */
static int repeat(store_txn *t, rec_conversion *old, const rec_conversion *in, unsigned given,
                  int64_t now_ms, ledger_result *out)
{
    char was[MONEY_TEXT_MAX] = "0";
    if (old->currency[0])
        money_format(old->amount, old->currency, was, sizeof(was));
    if ((given & LEDGER_GAVE_CURRENCY) && strcmp(in->currency, old->currency)) {
        conflict(out, "currency", "order %.128s was recorded in %s, not %s", old->order_id,
                 old->currency[0] ? old->currency : "no currency", in->currency);
        return STORE_OK;
    }
    if ((given & LEDGER_GAVE_AMOUNT) && in->amount != old->amount) {
        conflict(out, "amount",
                 "order %.128s was recorded with amount %s%s%s; a repeat must send "
                 "the same amount",
                 old->order_id, was, old->currency[0] ? " " : "", old->currency);
        return STORE_OK;
    }
    if (!(given & LEDGER_GAVE_STATUS) || in->status == old->status) {
        out->outcome = LEDGER_DUPLICATE;
        return STORE_OK;
    }
    if (!ledger_status_change_allowed(old->status, in->status)) {
        conflict(out, "status", "order %.128s is %s and cannot become %s: %s", old->order_id,
                 rec_status_name(old->status), rec_status_name(in->status),
                 old->status < REC_STATUS_COUNT ? next_text[old->status] : "unknown status");
        return STORE_OK;
    }
    /* The rollups count approved conversions: take it out under its old status, put it
     * back under the new one (each a no-op unless approved). */
    out->outcome = LEDGER_UPDATED;
    int rc = rollup_add_conversion(t, old, -1);
    old->status = in->status;
    old->updated_ms = now_ms;
    if (rc == STORE_OK)
        rc = reg_put_conversion(t, old);
    if (rc == STORE_OK)
        rc = rollup_add_conversion(t, old, +1);
    return rc;
}

typedef struct {
    const rec_conversion *in;
    unsigned given;
    const ledger_config *cfg;
    int64_t now_ms;
    ledger_result *out;
} record_ctx;

static int record(store_txn *t, void *arg)
{
    record_ctx *x = arg;
    ledger_result *out = x->out;
    uint8_t id[16];
    int rc = reg_find_order(t, x->in->shop, x->in->order_id, id);
    if (rc == STORE_OK) {
        rec_conversion old;
        if ((rc = reg_get_conversion(t, id, &old)))
            return rc;
        memcpy(out->id, id, 16);
        out->via = old.via;
        out->old_status = old.status;
        rc = repeat(t, &old, x->in, x->given, x->now_ms, out);
        rec_conversion_free(&old);
        return rc;
    }
    if (rc != STORE_NOTFOUND)
        return rc;
    rec_conversion c = *x->in;
    memset(c.credits, 0, sizeof(c.credits));
    memset(c.ncredits, 0, sizeof(c.ncredits));
    id_click_new(c.id, x->now_ms);
    c.created_ms = c.updated_ms = x->now_ms;
    ledger_reason why = LEDGER_REASON_NONE;
    rc = ledger_attribute_why(t, &c, x->cfg, &why);
    if (rc == STORE_OK)
        rc = reg_put_conversion(t, &c);
    if (rc == STORE_OK)
        rc = rollup_add_conversion(t, &c, +1);
    out->outcome = LEDGER_RECORDED;
    out->via = c.via;
    out->reason = (uint8_t)why;
    out->old_status = c.status;
    memcpy(out->id, c.id, 16);
    rec_conversion_free(&c);
    return rc;
}

int ledger_record_given(store_txn *t, const rec_conversion *in, unsigned given,
                        const ledger_config *cfg, int64_t now_ms, ledger_result *out)
{
    record_ctx x = {in, given, cfg, now_ms, out};
    memset(out, 0, sizeof(*out));
    return store_nested(t, record, &x);
}

int ledger_record(store_txn *t, const rec_conversion *in, const ledger_config *cfg, int64_t now_ms,
                  ledger_result *out)
{
    return ledger_record_given(t, in, LEDGER_GAVE_ALL, cfg, now_ms, out);
}
