/*
 * import.c: the metrics CSV reader (see import.h). A field-by-field RFC 4180 scanner
 * (quoted fields, doubled quotes, CRLF or LF), then per-row validation.
 */
#include "attribution/import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
} scanner;

/* Reads one record's fields; returns the count, 0 at the end, -1 on a malformed quote. */
static int read_record(scanner *s, char fields[MAX_FIELDS][FIELD_MAX], size_t *start_line,
                       bool *too_long)
{
    if (s->p >= s->end)
        return 0;
    *start_line = s->line;
    *too_long = false;
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
                    if (s->p < s->end && *s->p != ',' && *s->p != '\n' && *s->p != '\r')
                        return -1;
                    continue;
                }
                if (c == '\n')
                    s->line++;
            } else if (c == ',' || c == '\n' || c == '\r') {
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
        if (s->p < s->end && *s->p == ',') {
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

static bool blank(char fields[MAX_FIELDS][FIELD_MAX], int n)
{
    for (int i = 0; i < n && i < MAX_FIELDS; i++)
        if (fields[i][0])
            return false;
    return true;
}

int import_metrics(const char *data, size_t len, import_result *out)
{
    memset(out, 0, sizeof(*out));
    static _Thread_local char fields[MAX_FIELDS][FIELD_MAX];
    scanner s = {data, data + len, 1};
    size_t line;
    bool too_long;
    if (len > IMPORT_MAX_BYTES) {
        add_error(out, 0, "the file is larger than %d MiB", IMPORT_MAX_BYTES >> 20);
        return -1;
    }
    if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) /* a spreadsheet's UTF-8 mark */
        s.p += 3;
    int n = read_record(&s, fields, &line, &too_long);
    if (n <= 0) {
        add_error(out, 1, n < 0 ? "malformed quotes in the header" : "the file is empty");
        return -1;
    }
    int where[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        where[c] = -1;
    for (int i = 0; i < n && i < MAX_FIELDS; i++) {
        int c = 0;
        while (c < NCOLS && strcmp(fields[i], col_names[c]))
            c++;
        if (c == NCOLS)
            add_error(out, 1,
                      "unknown column \"%.40s\" (expected date, influencer, campaign, "
                      "link, impressions, reach, engagements, followers)",
                      fields[i]);
        else if (where[c] >= 0)
            add_error(out, 1, "column \"%s\" appears twice", col_names[c]);
        else
            where[c] = i;
    }
    if (n > MAX_FIELDS)
        add_error(out, 1, "more than %d columns", MAX_FIELDS);
    if (where[COL_DATE] < 0 || where[COL_INFLUENCER] < 0)
        add_error(out, 1, "the header must name the date and influencer columns");
    if (out->nerrors)
        return -1;
    int ncols = n;
    size_t cap = 0;
    while ((n = read_record(&s, fields, &line, &too_long)) != 0) {
        if (n < 0) {
            add_error(out, line, "malformed quotes");
            break;
        }
        if (blank(fields, n))
            continue;
        if (n != ncols) {
            add_error(out, line, "%d fields, the header has %d", n, ncols);
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
    return out->nerrors ? -1 : 0;
}

void import_free(import_result *r)
{
    free(r->rows);
    free(r->lines);
    r->rows = NULL;
    r->lines = NULL;
    r->nrows = 0;
}
