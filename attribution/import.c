/*
 * import.c: the metrics CSV reader (see import.h). A field-by-field RFC 4180 scanner
 * (quoted fields, doubled quotes, CRLF or LF, ',' or ';' between fields), then per-row
 * validation, then a check that no two rows share a key. The registry check
 * (import_check_ids) asks the caller's lookups: this file never touches the store.
 */
#include "attribution/import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "storage/text.h"

enum {
    COL_DATE,
    COL_INFLUENCER,
    COL_CAMPAIGN,
    COL_LINK,
    COL_IMPRESSIONS,
    COL_REACH,
    COL_ENGAGEMENTS,
    COL_FOLLOWERS,
    NCOLS
};
static const char *const col_names[NCOLS] = {
    "date", "influencer", "campaign", "link", "impressions", "reach", "engagements", "followers"};
enum { MAX_FIELDS = 32, FIELD_MAX = 256 };

typedef struct {
    const char *p, *end;
    size_t line;
    char sep; /* ',' or ';' (detected from the header) */
} scanner;

/* Reads one record's fields; returns the count, 0 at the end, -1 on a malformed quote.
 * *used is the count up to the last non-empty field (0 for a blank line): a spreadsheet
 * writes the empty columns right of its data as trailing separators. */
static int read_record(scanner *s, char fields[MAX_FIELDS][FIELD_MAX], size_t *start_line,
                       bool *too_long, int *used)
{
    if (s->p >= s->end)
        return 0;
    *start_line = s->line;
    *too_long = false;
    *used = 0;
    int n = 0;
    for (;;) {
        char buf[FIELD_MAX];
        size_t len = 0;
        bool quoted = false;
        if (s->p < s->end && *s->p == '"') {
            quoted = true;
            s->p++;
        }
        for (;;) {
            if (s->p >= s->end) {
                if (quoted)
                    return -1;
                break;
            }
            char c = *s->p;
            if (quoted) {
                if (c == '"') {
                    if (s->p + 1 < s->end && s->p[1] == '"') {
                        s->p += 2;
                        if (len + 1 < FIELD_MAX)
                            buf[len++] = '"';
                        else
                            *too_long = true;
                        continue;
                    }
                    s->p++;
                    quoted = false;
                    if (s->p < s->end && *s->p != s->sep && *s->p != '\n' && *s->p != '\r')
                        return -1;
                    continue;
                }
                if (c == '\n')
                    s->line++;
            } else if (c == s->sep || c == '\n' || c == '\r') {
                break;
            }
            if (len + 1 < FIELD_MAX)
                buf[len++] = c;
            else
                *too_long = true;
            s->p++;
        }
        buf[len] = '\0';
        if (n < MAX_FIELDS)
            memcpy(fields[n], buf, len + 1);
        n++;
        if (len)
            *used = n;
        if (s->p < s->end && *s->p == s->sep) {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == '\r')
            s->p++;
        if (s->p < s->end && *s->p == '\n')
            s->p++;
        s->line++;
        return n;
    }
}

/* The separator: ';' when the header line holds a ';' and no ',' outside quotes (what a
 * spreadsheet in a decimal-comma locale writes), else ','. */
static char detect_sep(const char *p, const char *end)
{
    bool quoted = false, comma = false, semicolon = false;
    for (; p < end && (quoted || (*p != '\n' && *p != '\r')); p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (!quoted && *p == ',')
            comma = true;
        else if (!quoted && *p == ';')
            semicolon = true;
    }
    return semicolon && !comma ? ';' : ',';
}

static void add_error(import_result *r, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_error(import_result *r, size_t line, const char *fmt, ...)
{
    if (r->nerrors < IMPORT_MAX_ERRORS) {
        import_error *e = &r->errors[r->nerrors];
        e->line = line;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
        va_end(ap);
    }
    r->nerrors++;
}

static int parse_count(const char *s, uint64_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 15 || strspn(s, "0123456789") != n)
        return -1;
    *out = strtoull(s, NULL, 10);
    return 0;
}

/* Rows are sorted by key to find two rows of one (date, influencer, campaign, link). */
typedef struct {
    const rec_metric *m;
    size_t line;
} keyed;

static int key_cmp(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = strcmp(x->m->date, y->m->date);
    if (!c)
        c = strcmp(x->m->influencer, y->m->influencer);
    if (!c)
        c = strcmp(x->m->campaign, y->m->campaign);
    if (!c)
        c = strcmp(x->m->link, y->m->link);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int error_cmp(const void *a, const void *b)
{
    const import_error *x = a, *y = b;
    return (x->line > y->line) - (x->line < y->line);
}

/* The store keeps one row per key: a second row in the same file would silently replace
 * the first. Each repeat is an error naming the key's first line. */
static void find_duplicates(import_result *r)
{
    if (r->nrows < 2)
        return;
    keyed *k = malloc(r->nrows * sizeof(*k));
    if (!k) {
        add_error(r, 0, "out of memory");
        return;
    }
    for (size_t i = 0; i < r->nrows; i++)
        k[i] = (keyed){&r->rows[i], r->lines[i]};
    qsort(k, r->nrows, sizeof(*k), key_cmp);
    size_t first = 0;
    for (size_t i = 1; i < r->nrows; i++) {
        keyed a = k[first], b = k[i];
        a.line = b.line = 0;
        if (key_cmp(&a, &b)) {
            first = i;
            continue;
        }
        add_error(r, k[i].line, "the same date, influencer, campaign and link as line %zu",
                  k[first].line);
    }
    free(k);
}

int import_metrics(const char *data, size_t len, import_result *out)
{
    memset(out, 0, sizeof(*out));
    static _Thread_local char fields[MAX_FIELDS][FIELD_MAX];
    scanner s = {data, data + len, 1, ','};
    size_t line;
    bool too_long;
    if (len > IMPORT_MAX_BYTES) {
        add_error(out, 0, "the file is larger than %d MiB", IMPORT_MAX_BYTES >> 20);
        return -1;
    }
    if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) /* a spreadsheet's UTF-8 mark */
        s.p += 3;
    s.sep = detect_sep(s.p, s.end);
    int used, n = read_record(&s, fields, &line, &too_long, &used);
    if (n <= 0) {
        add_error(out, 1, n < 0 ? "malformed quotes in the header" : "the file is empty");
        return -1;
    }
    int where[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        where[c] = -1;
    for (int i = 0; i < used && i < MAX_FIELDS; i++) {
        int c = 0;
        while (c < NCOLS && strcasecmp(fields[i], col_names[c]))
            c++;
        if (!fields[i][0])
            add_error(out, 1, "column %d has no name", i + 1);
        else if (c < NCOLS && where[c] >= 0)
            add_error(out, 1, "column \"%s\" appears twice", col_names[c]);
        else if (c < NCOLS)
            where[c] = i;
        else if (strchr(fields[i], ';'))
            add_error(out, 1,
                      "unknown column \"%.40s\": the header has both ',' and ';' between "
                      "columns; save the file with one separator",
                      fields[i]);
        else if (strchr(fields[i], '\t'))
            add_error(out, 1,
                      "unknown column \"%.40s\": the columns are separated by tabs; save "
                      "the file as CSV, with ',' or ';' between columns",
                      fields[i]);
        else
            add_error(out, 1,
                      "unknown column \"%.40s\" (expected date, influencer, campaign, "
                      "link, impressions, reach, engagements, followers)",
                      fields[i]);
    }
    if (used > MAX_FIELDS)
        add_error(out, 1, "more than %d columns", MAX_FIELDS);
    if (where[COL_DATE] < 0 || where[COL_INFLUENCER] < 0)
        add_error(out, 1, "the header must name the date and influencer columns");
    if (out->nerrors)
        return -1;
    int ncols = used, header_fields = n;
    size_t cap = 0;
    while ((n = read_record(&s, fields, &line, &too_long, &used)) != 0) {
        if (n < 0) {
            add_error(out, line, "malformed quotes");
            break;
        }
        if (!used)
            continue;
        if (n < ncols) {
            add_error(out, line, "%d fields, the header has %d", n, ncols);
            continue;
        }
        if (used > ncols) {
            if (used <= header_fields)
                add_error(out, line, "column %d has no name in the header", used);
            else
                add_error(out, line, "%d fields, the header has %d", n, header_fields);
            continue;
        }
        if (too_long) {
            add_error(out, line, "a field is longer than %d bytes", FIELD_MAX - 1);
            continue;
        }
        rec_metric m;
        memset(&m, 0, sizeof(m));
        const char *date = fields[where[COL_DATE]], *inf = fields[where[COL_INFLUENCER]];
        if (!text_valid_date(date)) {
            add_error(out, line, "date \"%.20s\" is not YYYY-MM-DD", date);
            continue;
        }
        if (!text_valid_id(inf)) {
            add_error(out, line, "influencer \"%.64s\" is not a valid id", inf);
            continue;
        }
        snprintf(m.date, sizeof(m.date), "%s", date);
        snprintf(m.influencer, sizeof(m.influencer), "%s", inf);
        bool ok = true;
        for (int c = COL_CAMPAIGN; c <= COL_LINK && ok; c++) {
            const char *v = where[c] >= 0 ? fields[where[c]] : "";
            if (*v && !text_valid_id(v)) {
                add_error(out, line, "%s \"%.64s\" is not a valid id", col_names[c], v);
                ok = false;
            }
            snprintf(c == COL_CAMPAIGN ? m.campaign : m.link, REC_ID, "%s", v);
        }
        static const uint8_t flag[] = {REC_HAS_IMPRESSIONS, REC_HAS_REACH, REC_HAS_ENGAGEMENTS,
                                       REC_HAS_FOLLOWERS};
        uint64_t *dst[] = {&m.impressions, &m.reach, &m.engagements, &m.followers};
        for (int c = COL_IMPRESSIONS; c <= COL_FOLLOWERS && ok; c++) {
            const char *v = where[c] >= 0 ? fields[where[c]] : "";
            if (!*v)
                continue;
            if (parse_count(v, dst[c - COL_IMPRESSIONS])) {
                add_error(out, line, "%s \"%.20s\" is not a whole number", col_names[c], v);
                ok = false;
            }
            m.has |= flag[c - COL_IMPRESSIONS];
        }
        if (!ok)
            continue;
        if (out->nrows == cap) {
            cap = cap ? cap * 2 : 256;
            rec_metric *rows = realloc(out->rows, cap * sizeof(*rows));
            size_t *lines = realloc(out->lines, cap * sizeof(*lines));
            if (rows)
                out->rows = rows;
            if (lines)
                out->lines = lines;
            if (!rows || !lines) {
                add_error(out, line, "out of memory");
                return -1;
            }
        }
        out->lines[out->nrows] = line;
        out->rows[out->nrows++] = m;
    }
    find_duplicates(out);
    size_t kept = out->nerrors < IMPORT_MAX_ERRORS ? out->nerrors : IMPORT_MAX_ERRORS;
    qsort(out->errors, kept, sizeof(out->errors[0]), error_cmp);
    return out->nerrors ? -1 : 0;
}

int import_check_ids(import_result *r, const import_registry *reg)
{
    r->nerrors = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        const rec_metric *m = &r->rows[i];
        size_t line = r->lines[i];
        char inf[REC_ID] = "", camp[REC_ID] = "";
        /* rc: 0 all found, 1/2/3 the influencer/campaign/link is unknown, < 0 an error */
        int rc = reg->influencer(reg->ctx, m->influencer);
        if (rc == 0 && m->campaign[0] && (rc = reg->campaign(reg->ctx, m->campaign)) > 0)
            rc = 2;
        if (rc == 0 && m->link[0] && (rc = reg->link(reg->ctx, m->link, inf, camp)) > 0)
            rc = 3;
        if (rc < 0)
            return rc;
        if (rc == 1)
            add_error(r, line, "unknown influencer \"%s\"", m->influencer);
        else if (rc == 2)
            add_error(r, line, "unknown campaign \"%s\"", m->campaign);
        else if (rc == 3)
            add_error(r, line, "unknown link \"%s\"", m->link);
        else if (m->link[0] && strcmp(inf, m->influencer))
            add_error(r, line, "link \"%s\" belongs to influencer \"%s\", not \"%s\"", m->link, inf,
                      m->influencer);
        else if (m->link[0] && !m->campaign[0])
            add_error(r, line, "link \"%s\" belongs to campaign \"%s\", not an empty campaign",
                      m->link, camp);
        else if (m->link[0] && strcmp(camp, m->campaign))
            add_error(r, line, "link \"%s\" belongs to campaign \"%s\", not \"%s\"", m->link, camp,
                      m->campaign);
    }
    return r->nerrors ? -1 : 0;
}

void import_free(import_result *r)
{
    free(r->rows);
    free(r->lines);
    r->rows = NULL;
    r->lines = NULL;
    r->nrows = 0;
}
