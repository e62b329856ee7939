/*
 * cli_export.c: `jejak clicks export`: every stored click, one row each, in time order,
 * as JSON lines or CSV. Runs beside a live daemon: it reads one consistent snapshot.
 */
#include <stdio.h>
#include <string.h>

#include "storage/id.h"
#include "storage/key.h"
#include "storage/registry.h"
#include "storage/text.h"
#include "tools/cli.h"
#include "tracker/ip.h"

typedef struct {
    store_txn *t;
    bool csv;
    rec_link link; /* the last link looked up: clicks of one link come in runs */
    bool have_link;
    text_buf out;
    uint8_t last[16]; /* the last click written */
    bool more;
    size_t rows_in_chunk;
    int64_t chunk_start;
} export_ctx;

static const char *const columns[] = {"click_id", "ts",     "link",      "influencer", "campaign",
                                      "visitor",  "ip",     "device",    "referrer",   "lang",
                                      "bot",      "unique", "suspicious"};

static int export_one(const rec_click *c, void *arg)
{
    export_ctx *e = arg;
    if (!e->have_link || strcmp(e->link.slug, c->link) != 0) {
        e->have_link = reg_get_link(e->t, c->link, &e->link) == STORE_OK;
        if (!e->have_link) {
            memset(&e->link, 0, sizeof(e->link));
            snprintf(e->link.slug, sizeof(e->link.slug), "%s", c->link);
        }
    }
    char id[ID_CLICK_TEXT + 1], visitor[ID_VISITOR_TEXT + 1], ts[24], ip[IP_TEXT_MAX];
    id_click_format(c->id, id);
    id_visitor_format(c->visitor, visitor);
    snprintf(ts, sizeof(ts), "%lld", (long long)c->ts_ms);
    ip_addr a = {.family = c->ip_family};
    memcpy(a.addr, c->ip, sizeof(a.addr));
    if (ip_format(&a, ip, sizeof(ip)))
        ip[0] = '\0';
    const char *vals[] = {id,
                          ts,
                          c->link,
                          e->link.influencer,
                          e->link.campaign,
                          visitor,
                          ip,
                          rec_device_name(c->device),
                          c->referrer,
                          c->lang,
                          (c->flags & REC_CLICK_BOT) ? "true" : "false",
                          (c->flags & REC_CLICK_UNIQUE) ? "true" : "false",
                          (c->flags & REC_CLICK_SUSPICIOUS) ? "true" : "false"};
    text_buf *b = &e->out; /* the chunk: written out after its snapshot ends */
    static const text_kind kinds[] = {TEXT_STR, TEXT_RAW,         TEXT_STR, TEXT_STR, TEXT_STR,
                                      TEXT_STR, TEXT_STR_OR_NULL, TEXT_STR, TEXT_STR, TEXT_STR,
                                      TEXT_RAW, TEXT_RAW,         TEXT_RAW};
    if (!e->csv)
        text_puts(b, "{");
    text_row(b, e->csv, columns, vals, kinds, sizeof(vals) / sizeof(vals[0]));
    text_puts(b, e->csv ? "\n" : "}\n");
    if (b->failed)
        return STORE_ERROR;
    return 0;
}

/* A reader pins every page of its snapshot: a long export would keep the daemon's freed
 * pages from reuse and grow the file. So the export reads in chunks of at most
 * CHUNK_ROWS rows or CHUNK_MS of time, each in a fresh snapshot, resuming after the last
 * click id written. Clicks are appended in id order, so nothing is missed or repeated
 * except a click committed out of order behind the resume point in that instant. */
enum { CHUNK_ROWS = 20000, CHUNK_MS = 1000, CHUNK_END = 1 };

static int export_chunk(const rec_click *c, void *arg)
{
    export_ctx *e = arg;
    if (e->rows_in_chunk >= CHUNK_ROWS || text_now_ms() - e->chunk_start > CHUNK_MS) {
        e->more = true;
        return CHUNK_END;
    }
    int rc = export_one(c, e);
    memcpy(e->last, c->id, 16);
    e->rows_in_chunk++;
    return rc;
}

static int export_all(store *s, int64_t since, bool csv)
{
    export_ctx e = {.csv = csv};
    text_buf_init(&e.out, (size_t)64 << 20);
    if (csv) {
        for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++)
            printf("%s%s", i ? "," : "", columns[i]);
        printf("\n");
    }
    uint8_t from[KEY_CLICK_ID];
    key_click_from(from, since);
    int rc;
    do {
        store_txn *t;
        if ((rc = store_read_begin(s, &t)))
            break;
        e.t = t;
        e.have_link = false;
        e.more = false;
        e.rows_in_chunk = 0;
        e.chunk_start = text_now_ms();
        rc = reg_each_click_from(t, from, export_chunk, &e);
        store_read_end(t);
        /* Written only now, outside the snapshot: a reader that stops reading the pipe
         * (`| less`) blocks here, holding no pages. */
        if (e.out.failed || fwrite(e.out.ptr ? e.out.ptr : "", 1, e.out.len, stdout) != e.out.len)
            rc = rc ? rc : STORE_ERROR;
        text_buf_reset(&e.out);
        if (rc == CHUNK_END)
            rc = STORE_OK;
        /* Resume just after the last id written: add one to it, as a 128-bit number. */
        memcpy(from, e.last, 16);
        for (int i = 15; i >= 0 && ++from[i] == 0; i--)
            ;
    } while (rc == STORE_OK && e.more);
    text_buf_free(&e.out);
    return rc;
}

enum { OPT_SINCE = 1, OPT_FORMAT };

static int clicks_export(const cli_args *a)
{
    const char *format = cli_get(a, OPT_FORMAT) ? cli_get(a, OPT_FORMAT) : "jsonl";
    int64_t since = 0;
    for (int i = 0; i < a->ngiven; i++) {
        /* A time without a zone (or a bare date) would be a guess: refused. */
        if (a->given[i].id == OPT_SINCE && text_parse_time_zoned(a->given[i].arg, &since))
            return cli_error("--since must be a time with its zone (2026-11-20T10:00:00Z, "
                             "2026-11-20T17:00:00+07:00) or Unix milliseconds, not '%s'",
                             a->given[i].arg);
    }
    if (a->npos > 0)
        return cli_error("unexpected argument '%s'", a->pos[0]);
    if (strcmp(format, "jsonl") && strcmp(format, "csv"))
        return cli_error("--format must be jsonl or csv, not '%s'", format);
    store *s = cli_store(a);
    if (!s)
        return CLI_FAIL;
    int rc = export_all(s, since, !strcmp(format, "csv"));
    store_close(s);
    if (fflush(stdout) || rc)
        return cli_error("export failed: %s", store_strerror(rc));
    return CLI_OK;
}

static const cli_opt export_opts[] = {
    {OPT_SINCE, "since", "TIME", "only clicks from TIME on (with its zone, or Unix ms)"},
    {OPT_FORMAT, "format", "jsonl|csv", "the output format (default jsonl)"},
    {0, NULL, NULL, NULL}};

static const cli_cmd clicks_subs[] = {{"export", "[options]",
                                       "every stored click, one row each, in time order",
                                       export_opts, clicks_export, NULL, CLI_READS},
                                      {NULL, NULL, NULL, NULL, NULL, NULL, 0}};

const cli_cmd cli_cmd_clicks = {"clicks",    "COMMAND", "the clicks the tracker stored", NULL, NULL,
                                clicks_subs, 0};
