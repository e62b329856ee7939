/*
 * report_format.c: a report as an aligned table (for a terminal), CSV or JSON (for
 * spreadsheets and programs). Every rate is computed here, from the counts, by kpi.h; a
 * zero denominator prints "n/a" (null in JSON). A money figure whose sum overflowed, and
 * every rate made from it, prints "overflow" (a JSON string). CSV and JSON carry every
 * column unrounded; the table rounds for reading (two decimals, or two significant digits
 * for a rate under 0.1) and groups thousands.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribution/kpi.h"
#include "attribution/money.h"
#include "attribution/report.h"

typedef struct {
    const report_group *g;
    const report_money *m; /* NULL: the group has no money in the report's currencies */
    const char *currency;  /* "" = none */
} line;

typedef enum {
    C_IMPRESSIONS,
    C_REACH,
    C_ENGAGEMENTS,
    C_CLICKS,
    C_UNIQUE,
    C_BOTS,
    C_SUSPICIOUS,
    C_CONVERSIONS,
    C_REVENUE,
    C_COST,
    C_CTR,
    C_CR,
    C_CPCONV,
    C_ROI,
    C_ROAS,
    C_EPC,
    C_AOV,
    C_CPE,
    C_ER,
    C_ER_BASIS,
    C_COUNT
} column;

static const char *const col_names[C_COUNT] = {"impressions",
                                               "reach",
                                               "engagements",
                                               "clicks",
                                               "unique_clicks",
                                               "bot_clicks",
                                               "suspicious_clicks",
                                               "conversions",
                                               "revenue",
                                               "cost",
                                               "ctr",
                                               "conversion_rate",
                                               "cost_per_conversion",
                                               "roi",
                                               "roas",
                                               "epc",
                                               "aov",
                                               "cpe",
                                               "engagement_rate",
                                               "engagement_basis"};

/* A cell: text plus how JSON should carry it. */
typedef enum { V_NULL, V_NUMBER, V_STRING } vkind;
typedef struct {
    vkind kind;
    char text[64];  /* exact, for csv/json */
    char table[64]; /* rounded and grouped, for the table */
} cell;

static void set_null(cell *c)
{
    c->kind = V_NULL;
    strcpy(c->text, "n/a");
    strcpy(c->table, "n/a");
}

static void set_overflow(cell *c)
{
    c->kind = V_STRING;
    strcpy(c->text, "overflow");
    strcpy(c->table, "overflow");
}

static void group_digits(const char *in, char *out, size_t n)
{
    /* in: optional '-', digits, optional fraction. */
    const char *dot = strchr(in, '.');
    size_t neg = in[0] == '-', intlen = (size_t)((dot ? dot : in + strlen(in)) - in) - neg;
    size_t o = 0;
    if (neg && o + 1 < n)
        out[o++] = '-';
    for (size_t i = 0; i < intlen && o + 1 < n; i++) {
        if (i && (intlen - i) % 3 == 0 && o + 1 < n)
            out[o++] = ',';
        out[o++] = in[neg + i];
    }
    for (const char *p = dot; p && *p && o + 1 < n; p++)
        out[o++] = *p;
    out[o] = '\0';
}

static void set_count(cell *c, uint64_t v, bool present)
{
    if (!present) {
        set_null(c);
        return;
    }
    c->kind = V_NUMBER;
    snprintf(c->text, sizeof(c->text), "%llu", (unsigned long long)v);
    group_digits(c->text, c->table, sizeof(c->table));
}

/* Conversions are parts of 1e9: printed exactly, trailing zeros dropped. */
static void set_parts(cell *c, int64_t parts)
{
    c->kind = V_NUMBER;
    int64_t a = parts < 0 ? -parts : parts;
    snprintf(c->text, sizeof(c->text), "%s%lld.%09lld", parts < 0 ? "-" : "",
             (long long)(a / MODEL_SHARE_ONE), (long long)(a % MODEL_SHARE_ONE));
    size_t n = strlen(c->text);
    while (c->text[n - 1] == '0')
        c->text[--n] = '\0';
    if (c->text[n - 1] == '.')
        c->text[--n] = '\0';
    char rounded[64];
    snprintf(rounded, sizeof(rounded), "%.2f", (double)parts / MODEL_SHARE_ONE);
    if (parts % MODEL_SHARE_ONE == 0)
        snprintf(rounded, sizeof(rounded), "%lld", (long long)(parts / MODEL_SHARE_ONE));
    group_digits(rounded, c->table, sizeof(c->table));
}

/* "XXX" is ISO 4217's "no currency": conversions reported without an amount. */
static bool is_money(const char *currency)
{
    return currency[0] && money_exponent(currency) >= 0;
}

static void set_money(cell *c, int64_t minor, const char *currency)
{
    if (!is_money(currency)) {
        set_null(c);
        return;
    }
    c->kind = V_STRING;
    money_format(minor, currency, c->text, sizeof(c->text));
    money_format_grouped(minor, currency, c->table, sizeof(c->table));
}

/* Decimals for the table: two, or as many as show two significant digits of a rate under
 * 0.1 (a mega influencer's CTR of 0.0015% would read 0.00%), at most 12. */
static int table_decimals(double x)
{
    double a = fabs(x);
    if (a == 0 || a >= 0.1)
        return 2;
    int d = 1 - (int)floor(log10(a));
    return d > 12 ? 12 : d;
}

/* A rate: unrounded in text, rounded (plus suffix) in the table. scale divides a money rate
 * from minor to major units. overflow: an input's sum overflowed, so the rate is unknown. */
static void set_rate(cell *c, kpi_value v, double scale, const char *suffix, bool overflow)
{
    if (overflow) {
        set_overflow(c);
        return;
    }
    if (!v.ok || !isfinite(v.value)) {
        set_null(c);
        return;
    }
    c->kind = V_NUMBER;
    double x = v.value / scale;
    snprintf(c->text, sizeof(c->text), "%.15g", x);
    char rounded[48];
    snprintf(rounded, sizeof(rounded), "%.*f", table_decimals(x), x);
    group_digits(rounded, c->table, sizeof(c->table) - 4);
    strcat(c->table, suffix);
}

static void fill(const line *l, cell *cells)
{
    const report_group *g = l->g;
    const char *cur = is_money(l->currency) ? l->currency : "";
    int64_t parts = l->m ? l->m->conv_parts : 0, revenue = l->m ? l->m->revenue : 0,
            cost = l->m ? l->m->cost : 0;
    unsigned ovf = l->m ? l->m->overflow : 0;
    bool o_conv = ovf & REPORT_OVERFLOW_CONVERSIONS, o_rev = ovf & REPORT_OVERFLOW_REVENUE,
         o_cost = ovf & REPORT_OVERFLOW_COST;
    double conv = (double)parts / MODEL_SHARE_ONE;
    int exp = cur[0] ? money_exponent(cur) : 0;
    double scale = pow(10, exp < 0 ? 0 : exp);
    set_count(&cells[C_IMPRESSIONS], g->impressions, g->has_impressions);
    set_count(&cells[C_REACH], g->reach, g->has_reach);
    set_count(&cells[C_ENGAGEMENTS], g->engagements, g->has_engagements);
    set_count(&cells[C_CLICKS], g->clicks, true);
    set_count(&cells[C_UNIQUE], g->unique, true);
    set_count(&cells[C_BOTS], g->bots, true);
    set_count(&cells[C_SUSPICIOUS], g->suspicious, true);
    if (o_conv)
        set_overflow(&cells[C_CONVERSIONS]);
    else
        set_parts(&cells[C_CONVERSIONS], parts);
    if (o_rev && cur[0])
        set_overflow(&cells[C_REVENUE]);
    else
        set_money(&cells[C_REVENUE], revenue, cur);
    if (o_cost && cur[0])
        set_overflow(&cells[C_COST]);
    else
        set_money(&cells[C_COST], cost, cur);
    set_rate(&cells[C_CTR], kpi_ctr((double)g->clicks, (double)g->impressions), 1, "%", false);
    set_rate(&cells[C_CR], kpi_conversion_rate(conv, (double)g->clicks), 1, "%", o_conv);
    kpi_value none = {0, 0};
    bool m = cur[0] != '\0'; /* money rates need a currency */
    set_rate(&cells[C_CPCONV], m ? kpi_cost_per_conversion(cost, conv) : none, scale, "",
             m && (o_cost || o_conv));
    set_rate(&cells[C_ROI], m ? kpi_roi(revenue, cost) : none, 1, "%", m && (o_rev || o_cost));
    set_rate(&cells[C_ROAS], m ? kpi_roas(revenue, cost) : none, 1, "", m && (o_rev || o_cost));
    set_rate(&cells[C_EPC], m ? kpi_epc(revenue, (double)g->clicks) : none, scale, "", m && o_rev);
    set_rate(&cells[C_AOV], m ? kpi_aov(revenue, conv) : none, scale, "", m && (o_rev || o_conv));
    set_rate(&cells[C_CPE], m ? kpi_cpe(cost, (double)g->engagements) : none, scale, "",
             m && o_cost);
    int by_impressions = 0;
    kpi_value er = kpi_engagement_rate((double)g->er_reach_engagements, (double)g->er_reach,
                                       (double)g->er_impr_engagements, (double)g->er_impressions,
                                       &by_impressions);
    set_rate(&cells[C_ER], er, 1, "%", false);
    cell *b = &cells[C_ER_BASIS];
    if (er.ok) {
        b->kind = V_STRING;
        strcpy(b->text, by_impressions ? "impressions" : "reach");
        strcpy(b->table, by_impressions ? "impr." : "reach");
    } else {
        set_null(b);
    }
}

/* The lines of a group: one per currency, or one without money. */
static size_t nlines(const report_group *g)
{
    return g->nmoney ? g->nmoney : 1;
}

static line line_of(const report_query *q, const report_group *g, size_t i)
{
    if (g->nmoney == 0)
        return (line){g, NULL, q->currency};
    return (line){g, &g->money[i], g->money[i].currency};
}

static void write_json_line(text_buf *b, const report_query *q, const line *l, bool keys)
{
    cell cells[C_COUNT];
    fill(l, cells);
    text_puts(b, "{");
    if (keys)
        for (int k = 0; k < q->nby; k++) {
            text_printf(b, "\"%s\":", report_dim_name(q->by[k]));
            text_json_str(b, l->g->key[k]);
            text_puts(b, ",");
        }
    text_puts(b, "\"currency\":");
    if (is_money(l->currency))
        text_json_str(b, l->currency);
    else
        text_puts(b, "null");
    for (int c = 0; c < C_COUNT; c++) {
        text_printf(b, ",\"%s\":", col_names[c]);
        if (cells[c].kind == V_NULL)
            text_puts(b, "null");
        else if (cells[c].kind == V_STRING)
            text_json_str(b, cells[c].text);
        else
            text_puts(b, cells[c].text);
    }
    text_puts(b, "}");
}

static void write_csv_line(text_buf *b, const report_query *q, const line *l, bool total)
{
    cell cells[C_COUNT];
    fill(l, cells);
    for (int k = 0; k < q->nby; k++) {
        text_csv_field(b, total ? (k ? "" : "total") : l->g->key[k]);
        text_puts(b, ",");
    }
    text_csv_field(b, is_money(l->currency) ? l->currency : "");
    for (int c = 0; c < C_COUNT; c++) {
        text_puts(b, ",");
        text_csv_number(b, cells[c].text); /* numbers stay numbers; n/a, basis: text */
    }
    text_puts(b, "\n");
}

static void date_text(int64_t day, char *out)
{
    int64_t y;
    unsigned m, d;
    text_civil_from_days(day, &y, &m, &d);
    snprintf(out, 11, "%04lld-%02u-%02u", (long long)y, m, d);
}

static void write_json(const report_query *q, const report_result *r, text_buf *b)
{
    char from[11], to[11];
    date_text(q->from_day, from);
    date_text(q->to_day, to);
    text_printf(b, "{\"model\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"tz\":", model_name(q->model),
                from, to);
    text_json_str(b, q->tz);
    text_puts(b, ",\"by\":[");
    for (int k = 0; k < q->nby; k++)
        text_printf(b, "%s\"%s\"", k ? "," : "", report_dim_name(q->by[k]));
    text_puts(b, "],\"rows\":[");
    bool first = true;
    for (size_t i = 0; i < r->ngroups; i++) {
        for (size_t j = 0; j < nlines(&r->groups[i]); j++) {
            line l = line_of(q, &r->groups[i], j);
            text_puts(b, first ? "" : ",");
            first = false;
            write_json_line(b, q, &l, true);
        }
    }
    /* "total" is the one total when there is one currency (or none); "totals" always
     * lists one per currency. */
    size_t n = nlines(&r->total);
    text_puts(b, "],\"total\":");
    line t = n == 1 ? line_of(q, &r->total, 0) : (line){&r->total, NULL, ""};
    write_json_line(b, q, &t, false);
    text_puts(b, ",\"totals\":[");
    for (size_t j = 0; j < n; j++) {
        line l = line_of(q, &r->total, j);
        text_puts(b, j ? "," : "");
        write_json_line(b, q, &l, false);
    }
    text_puts(b, "]}\n");
}

static void write_csv(const report_query *q, const report_result *r, text_buf *b)
{
    for (int k = 0; k < q->nby; k++)
        text_printf(b, "%s,", report_dim_name(q->by[k]));
    text_puts(b, "currency");
    for (int c = 0; c < C_COUNT; c++)
        text_printf(b, ",%s", col_names[c]);
    text_puts(b, "\n");
    for (size_t i = 0; i < r->ngroups; i++)
        for (size_t j = 0; j < nlines(&r->groups[i]); j++) {
            line l = line_of(q, &r->groups[i], j);
            write_csv_line(b, q, &l, false);
        }
    for (size_t j = 0; j < nlines(&r->total); j++) {
        line l = line_of(q, &r->total, j);
        write_csv_line(b, q, &l, true);
    }
}

/* ---- the table --------------------------------------------------------------------- */

static const column narrow[] = {C_CLICKS, C_CONVERSIONS, C_REVENUE, C_COST, C_ROI};
static const char *const short_names[C_COUNT] = {
    "impr", "reach", "eng",       "clicks", "unique", "bots", "susp", "conv", "revenue",  "cost",
    "ctr",  "cr",    "cost/conv", "roi",    "roas",   "epc",  "aov",  "cpe",  "eng rate", "basis"};

static void pad(text_buf *b, const char *s, size_t width, bool right)
{
    size_t n = strlen(s);
    if (n > width) {
        text_append(b, s, width - 1);
        text_puts(b, "~");
        return;
    }
    if (right)
        for (size_t i = n; i < width; i++)
            text_puts(b, " ");
    text_puts(b, s);
    if (!right)
        for (size_t i = n; i < width; i++)
            text_puts(b, " ");
}

static void write_table(const report_query *q, const report_result *r, bool wide, text_buf *b)
{
    column cols[C_COUNT];
    size_t ncols = 0;
    if (wide)
        for (int c = 0; c < C_COUNT; c++)
            cols[ncols++] = (column)c;
    else
        for (size_t c = 0; c < sizeof(narrow) / sizeof(narrow[0]); c++)
            cols[ncols++] = narrow[c];

    /* Collect every line's cells to size the columns. */
    size_t nl = 0, capl = nlines(&r->total);
    for (size_t i = 0; i < r->ngroups; i++)
        capl += nlines(&r->groups[i]);
    line *ls = calloc(capl, sizeof(*ls));
    cell(*cells)[C_COUNT] = calloc(capl, sizeof(*cells));
    if (!ls || !cells) {
        free(ls);
        free(cells);
        b->failed = true;
        return;
    }
    for (size_t i = 0; i < r->ngroups; i++)
        for (size_t j = 0; j < nlines(&r->groups[i]); j++)
            ls[nl++] = line_of(q, &r->groups[i], j);
    size_t ngroup_lines = nl;
    for (size_t j = 0; j < nlines(&r->total); j++)
        ls[nl++] = line_of(q, &r->total, j);
    size_t keyw[2] = {0, 0}, w[C_COUNT] = {0};
    for (int k = 0; k < q->nby; k++)
        keyw[k] = strlen(report_dim_name(q->by[k]));
    if (keyw[0] < 5)
        keyw[0] = 5; /* "total" */
    for (size_t i = 0; i < nl; i++) {
        fill(&ls[i], cells[i]);
        for (int k = 0; k < q->nby && i < ngroup_lines; k++)
            if (strlen(ls[i].g->key[k]) > keyw[k])
                keyw[k] = strlen(ls[i].g->key[k]);
        for (size_t c = 0; c < ncols; c++)
            if (strlen(cells[i][cols[c]].table) > w[cols[c]])
                w[cols[c]] = strlen(cells[i][cols[c]].table);
    }
    for (int k = 0; k < q->nby; k++)
        if (keyw[k] > (wide ? 32u : 18u))
            keyw[k] = wide ? 32 : 18;
    for (size_t c = 0; c < ncols; c++)
        if (strlen(short_names[cols[c]]) > w[cols[c]])
            w[cols[c]] = strlen(short_names[cols[c]]);
    /* header */
    for (int k = 0; k < q->nby; k++) {
        pad(b, report_dim_name(q->by[k]), keyw[k], false);
        text_puts(b, " ");
    }
    text_puts(b, "cur");
    for (size_t c = 0; c < ncols; c++) {
        text_puts(b, " ");
        pad(b, short_names[cols[c]], w[cols[c]], true);
    }
    text_puts(b, "\n");
    for (size_t i = 0; i < nl; i++) {
        if (i == ngroup_lines) {
            size_t len = 3 + ncols;
            for (int k = 0; k < q->nby; k++)
                len += keyw[k] + 1;
            for (size_t c = 0; c < ncols; c++)
                len += w[cols[c]];
            for (size_t j = 0; j < len; j++)
                text_puts(b, "-");
            text_puts(b, "\n");
        }
        for (int k = 0; k < q->nby; k++) {
            pad(b, i < ngroup_lines ? ls[i].g->key[k] : (k ? "" : "total"), keyw[k], false);
            text_puts(b, " ");
        }
        pad(b, is_money(ls[i].currency) ? ls[i].currency : "-", 3, false);
        for (size_t c = 0; c < ncols; c++) {
            text_puts(b, " ");
            pad(b, cells[i][cols[c]].table, w[cols[c]], true);
        }
        text_puts(b, "\n");
    }
    free(ls);
    free(cells);
}

void report_write(const report_query *q, const report_result *r, report_format f, bool wide,
                  text_buf *out)
{
    if (f == REPORT_JSON)
        write_json(q, r, out);
    else if (f == REPORT_CSV)
        write_csv(q, r, out);
    else
        write_table(q, r, wide, out);
}
