/*
 * report_query.c: the report's question: its parameters (by, model, from/to, tz, filters,
 * currency) parsed and checked into a report_query, and the filter ids checked against the
 * registry. Every refusal names its field (see report.h); nothing here reads rollups.
 */
#include <stdio.h>
#include <string.h>

#include "attribution/model.h"
#include "attribution/money.h"
#include "attribution/report.h"
#include "attribution/tz.h"
#include "storage/registry.h"
#include "storage/text.h"

static const char *const dim_names[DIM_COUNT] = {"influencer", "campaign", "link", "source",
                                                 "medium",     "content",  "day",  "tier"};

const char *report_dim_name(report_dim d)
{
    return d < DIM_COUNT ? dim_names[d] : "";
}

int report_dim_parse(const char *s, report_dim *out)
{
    for (int i = 0; i < DIM_COUNT; i++)
        if (!strcmp(s, dim_names[i])) {
            *out = (report_dim)i;
            return 0;
        }
    return -1;
}

static int bad(char *field, size_t fl, char *err, size_t el, const char *f, const char *msg)
{
    snprintf(field, fl, "%s", f);
    snprintf(err, el, "%s", msg);
    return -1;
}

int report_query_parse(const report_param *p, size_t n, const char *default_tz, int64_t now_ms,
                       report_query *q, char *field, size_t fl, char *err, size_t el)
{
    memset(q, 0, sizeof(*q));
    q->model = MODEL_LAST_CLICK;
    snprintf(q->tz, sizeof(q->tz), "%s", default_tz && *default_tz ? default_tz : "UTC");
    const char *from = NULL, *to = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *k = p[i].key, *v = p[i].value ? p[i].value : "";
        if (!strcmp(k, "by")) {
            if (q->nby == 2)
                return bad(field, fl, err, el, "by", "at most two --by");
            if (report_dim_parse(v, &q->by[q->nby]))
                return bad(field, fl, err, el, "by",
                           "by must be influencer, campaign, link, source, medium, content, "
                           "day or tier");
            if (q->nby == 1 && q->by[0] == q->by[1])
                return bad(field, fl, err, el, "by", "the same --by twice");
            q->nby++;
        } else if (!strcmp(k, "model")) {
            if (model_parse(v, &q->model))
                return bad(field, fl, err, el, "model",
                           "model must be last-click, first-click, linear, time-decay or "
                           "position-based");
        } else if (!strcmp(k, "from")) {
            from = v;
        } else if (!strcmp(k, "to")) {
            to = v;
        } else if (!strcmp(k, "tz")) {
            if (!tz_valid(v))
                return bad(field, fl, err, el, "tz",
                           "tz must be an IANA time zone such as Asia/Jakarta or UTC");
            snprintf(q->tz, sizeof(q->tz), "%s", v);
        } else if (!strcmp(k, "influencer") || !strcmp(k, "campaign")) {
            if (!text_valid_id(v))
                return bad(field, fl, err, el, k, "not a valid id");
            snprintf(k[0] == 'i' ? q->influencer : q->campaign, REC_ID, "%s", v);
        } else if (!strcmp(k, "currency")) {
            if (strlen(v) != 3 || money_exponent(v) < 0)
                return bad(field, fl, err, el, "currency", "currency must be an ISO 4217 code");
            memcpy(q->currency, v, 4);
        } else if (strcmp(k, "format") && strcmp(k, "wide")) {
            snprintf(field, fl, "%s", k);
            snprintf(err, el, "unknown parameter %.40s", k);
            return -1;
        }
    }
    if (q->nby == 0)
        q->by[q->nby++] = DIM_INFLUENCER;
    int64_t today = tz_local_day(q->tz, now_ms);
    int64_t ms;
    q->to_day = today;
    if (to) {
        if (!text_valid_date(to) || text_parse_time(to, &ms))
            return bad(field, fl, err, el, "to", "to must be a date YYYY-MM-DD");
        q->to_day = ms / 86400000;
    }
    q->from_day = q->to_day - 29;
    if (from) {
        if (!text_valid_date(from) || text_parse_time(from, &ms))
            return bad(field, fl, err, el, "from", "from must be a date YYYY-MM-DD");
        q->from_day = ms / 86400000;
    }
    if (q->from_day > q->to_day)
        return bad(field, fl, err, el, "from", "from is after to");
    if (q->to_day - q->from_day > 3660)
        return bad(field, fl, err, el, "from", "a report covers at most ten years");
    return 0;
}

int report_check_ids(store_txn *t, const report_query *q, char *field, size_t fl, char *err,
                     size_t el)
{
    field[0] = err[0] = '\0';
    if (q->influencer[0]) {
        rec_influencer r;
        int rc = reg_get_influencer(t, q->influencer, &r);
        if (rc == STORE_NOTFOUND) {
            snprintf(field, fl, "influencer");
            snprintf(err, el, "no influencer '%s'", q->influencer);
        }
        if (rc)
            return rc;
    }
    if (q->campaign[0]) {
        rec_campaign r;
        int rc = reg_get_campaign(t, q->campaign, &r);
        if (rc == STORE_NOTFOUND) {
            snprintf(field, fl, "campaign");
            snprintf(err, el, "no campaign '%s'", q->campaign);
        }
        if (rc)
            return rc;
    }
    return STORE_OK;
}
