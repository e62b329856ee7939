/*
 * test_import.c: the metrics CSV reader (attribution/import.c): headers in any order, the
 * things spreadsheets add (a UTF-8 BOM, CRLF, quoted fields with doubled quotes, blank
 * lines, header names in any case, trailing empty columns, `;` as the separator), every
 * header error, every row error reported with its line and reason, the count of errors
 * going on past the IMPORT_MAX_ERRORS kept, two rows of one key, and the registry check
 * (import_check_ids) against a fake registry: unknown ids, a link of someone else.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribution/import.h"

static int run(const char *csv, import_result *r)
{
    return import_metrics(csv, strlen(csv), r);
}

static bool has_error(const import_result *r, size_t line, const char *part)
{
    size_t n = r->nerrors < IMPORT_MAX_ERRORS ? r->nerrors : IMPORT_MAX_ERRORS;
    for (size_t i = 0; i < n; i++)
        if (r->errors[i].line == line && strstr(r->errors[i].reason, part))
            return true;
    return false;
}

static void expect_error(const import_result *r, size_t line, const char *part)
{
    if (!has_error(r, line, part)) {
        for (size_t i = 0; i < r->nerrors && i < IMPORT_MAX_ERRORS; i++)
            fprintf(stderr, "  line %zu: %s\n", r->errors[i].line, r->errors[i].reason);
        fail_msg("no error on line %zu mentioning \"%s\"", line, part);
    }
}

/* ---- good files ------------------------------------------------------------------------ */

static void test_all_columns(void **state)
{
    (void)state;
    import_result r;
    const char *csv = "date,influencer,campaign,link,impressions,reach,engagements,followers\n"
                      "2026-11-20,budi,launch,budi-ig,1000,800,50,12000\n"
                      "2026-11-21,ayu,,,0,,7,\n";
    assert_int_equal(run(csv, &r), 0);
    assert_int_equal(r.nerrors, 0);
    assert_int_equal(r.nrows, 2);
    const rec_metric *m = &r.rows[0];
    assert_string_equal(m->date, "2026-11-20");
    assert_string_equal(m->influencer, "budi");
    assert_string_equal(m->campaign, "launch");
    assert_string_equal(m->link, "budi-ig");
    assert_int_equal(m->impressions, 1000);
    assert_int_equal(m->reach, 800);
    assert_int_equal(m->engagements, 50);
    assert_int_equal(m->followers, 12000);
    assert_int_equal(m->has,
                     REC_HAS_IMPRESSIONS | REC_HAS_REACH | REC_HAS_ENGAGEMENTS | REC_HAS_FOLLOWERS);
    assert_int_equal(r.lines[0], 2);
    /* Empty cells are absent, not zero; a 0 is present. */
    m = &r.rows[1];
    assert_string_equal(m->influencer, "ayu");
    assert_string_equal(m->campaign, "");
    assert_string_equal(m->link, "");
    assert_int_equal(m->has, REC_HAS_IMPRESSIONS | REC_HAS_ENGAGEMENTS);
    assert_int_equal(m->impressions, 0);
    assert_int_equal(m->engagements, 7);
    assert_int_equal(r.lines[1], 3);
    import_free(&r);
    assert_null(r.rows);
    assert_int_equal(r.nrows, 0);
}

static void test_any_order_and_only_required(void **state)
{
    (void)state;
    import_result r;
    const char *csv = "reach,followers,influencer,engagements,link,date,impressions,campaign\n"
                      "800,12000,budi,50,budi-ig,2026-11-20,1000,launch\n";
    assert_int_equal(run(csv, &r), 0);
    assert_int_equal(r.nrows, 1);
    assert_string_equal(r.rows[0].date, "2026-11-20");
    assert_string_equal(r.rows[0].influencer, "budi");
    assert_string_equal(r.rows[0].campaign, "launch");
    assert_string_equal(r.rows[0].link, "budi-ig");
    assert_int_equal(r.rows[0].impressions, 1000);
    assert_int_equal(r.rows[0].reach, 800);
    assert_int_equal(r.rows[0].engagements, 50);
    assert_int_equal(r.rows[0].followers, 12000);
    import_free(&r);

    /* Only the two required columns: nothing else is present. */
    assert_int_equal(run("influencer,date\nayu,2026-01-31\n", &r), 0);
    assert_int_equal(r.nrows, 1);
    assert_string_equal(r.rows[0].influencer, "ayu");
    assert_string_equal(r.rows[0].date, "2026-01-31");
    assert_int_equal(r.rows[0].has, 0);
    import_free(&r);

    /* A header alone is a usable, empty file; so is one without a final newline. */
    assert_int_equal(run("date,influencer\n", &r), 0);
    assert_int_equal(r.nrows, 0);
    import_free(&r);
    assert_int_equal(run("date,influencer,reach\n2026-11-20,budi,5", &r), 0);
    assert_int_equal(r.nrows, 1);
    assert_int_equal(r.rows[0].reach, 5);
    import_free(&r);
}

static void test_bom_crlf_quotes_blank_lines(void **state)
{
    (void)state;
    import_result r;
    const char *csv = "\xef\xbb\xbf"
                      "\"date\",influencer,\"impressions\",campaign\r\n"
                      "\r\n"
                      "2026-11-20,\"budi\",\"1000\",launch\r\n"
                      "\n"
                      "\"2026-11-21\",ayu,,\"\"\r\n"
                      "\r\n";
    assert_int_equal(run(csv, &r), 0);
    assert_int_equal(r.nerrors, 0);
    assert_int_equal(r.nrows, 2);
    assert_string_equal(r.rows[0].date, "2026-11-20");
    assert_string_equal(r.rows[0].influencer, "budi");
    assert_string_equal(r.rows[0].campaign, "launch");
    assert_int_equal(r.rows[0].impressions, 1000);
    assert_int_equal(r.rows[0].has, REC_HAS_IMPRESSIONS);
    assert_int_equal(r.lines[0], 3); /* the BOM header is line 1, a blank line 2 */
    assert_string_equal(r.rows[1].date, "2026-11-21");
    assert_string_equal(r.rows[1].influencer, "ayu");
    assert_string_equal(r.rows[1].campaign, "");
    assert_int_equal(r.rows[1].has, 0);
    assert_int_equal(r.lines[1], 5);
    import_free(&r);
}

/* Doubled quotes are one quote; a comma or newline inside quotes is data. Those values are
 * not valid ids, so they come back as errors that quote the unescaped text, and a quoted
 * newline moves the following rows' line numbers on. */
static void test_quoted_fields(void **state)
{
    (void)state;
    import_result r;
    const char *csv = "date,influencer,campaign\n"
                      "2026-11-20,budi,\"la\"\"unch\"\n"
                      "2026-11-20,budi,\"a,b\"\n"
                      "2026-11-20,budi,\"two\nlines\"\n"
                      "2026-11-20,x y,\n";
    assert_int_equal(run(csv, &r), -1);
    assert_int_equal(r.nerrors, 4);
    expect_error(&r, 2, "campaign \"la\"unch\"");
    expect_error(&r, 3, "campaign \"a,b\"");
    expect_error(&r, 4, "campaign");
    expect_error(&r, 6, "influencer \"x y\"");
    import_free(&r);

    /* A quoted field that never ends, and text after a closing quote, are malformed. */
    assert_int_equal(run("date,influencer\n2026-11-20,\"budi\n", &r), -1);
    expect_error(&r, 2, "malformed quotes");
    import_free(&r);
    assert_int_equal(run("date,influencer\n2026-11-20,\"bu\"di\n", &r), -1);
    expect_error(&r, 2, "malformed quotes");
    import_free(&r);
    assert_int_equal(run("\"date,influencer\n", &r), -1);
    expect_error(&r, 1, "malformed quotes in the header");
    import_free(&r);
}

/* ---- header errors ---------------------------------------------------------------------- */

static void test_header_errors(void **state)
{
    (void)state;
    import_result r;
    assert_int_equal(run("", &r), -1);
    expect_error(&r, 1, "empty");
    import_free(&r);

    assert_int_equal(run("influencer,reach\nbudi,1\n", &r), -1);
    assert_int_equal(r.nerrors, 1);
    expect_error(&r, 1, "date and influencer");
    assert_int_equal(r.nrows, 0);
    import_free(&r);

    assert_int_equal(run("date,reach\n2026-11-20,1\n", &r), -1);
    expect_error(&r, 1, "date and influencer");
    import_free(&r);

    assert_int_equal(run("date,influencer,likes\n2026-11-20,budi,3\n", &r), -1);
    assert_int_equal(r.nerrors, 1);
    expect_error(&r, 1, "unknown column \"likes\"");
    assert_int_equal(r.nrows, 0);
    import_free(&r);

    /* Case does not matter (tested below); spaces do. */
    assert_int_equal(run(" date,influencer\n", &r), -1);
    expect_error(&r, 1, "unknown column \" date\"");
    import_free(&r);

    assert_int_equal(run("date,influencer,reach,reach\n2026-11-20,budi,1,2\n", &r), -1);
    assert_int_equal(r.nerrors, 1);
    expect_error(&r, 1, "\"reach\" appears twice");
    import_free(&r);

    assert_int_equal(run("date,influencer,date\n", &r), -1);
    expect_error(&r, 1, "\"date\" appears twice");
    import_free(&r);
}

/* ---- row errors ------------------------------------------------------------------------- */

static void test_bad_rows_named_by_line(void **state)
{
    (void)state;
    import_result r;
    const char *csv = "date,influencer,impressions,reach,engagements,followers\n" /* 1 */
                      "2026-11-20,budi,1,2,3,4\n"                                 /* 2 ok */
                      "2026-02-30,budi,1,2,3,4\n"                                 /* 3 */
                      "20-11-2026,budi,1,2,3,4\n"                                 /* 4 */
                      "2026-11-20,bu di,1,2,3,4\n"                                /* 5 */
                      "2026-11-20,-budi,1,2,3,4\n"                                /* 6 */
                      "2026-11-20,budi,12a,2,3,4\n"                               /* 7 */
                      "2026-11-20,budi,1,-2,3,4\n"                                /* 8 */
                      "2026-11-20,budi,1,2,1234567890123456,4\n"                  /* 9 */
                      "2026-11-20,budi,1,2,3,1e6\n"                               /* 10 */
                      "2026-11-20,budi,1,2,3\n"                                   /* 11 */
                      "2026-11-20,budi,1,2,3,4,5\n"                               /* 12 */
                      "\n"                                                        /* 13 */
                      "2026-11-21,ayu,999999999999999,+2, 3,4.0\n"                /* 14 */
                      "2026-11-22,ayu,999999999999999,,,\n";                      /* 15 ok */
    assert_int_equal(run(csv, &r), -1);
    expect_error(&r, 3, "date \"2026-02-30\"");
    expect_error(&r, 4, "date \"20-11-2026\"");
    expect_error(&r, 5, "influencer \"bu di\"");
    expect_error(&r, 6, "influencer \"-budi\"");
    expect_error(&r, 7, "impressions \"12a\" is not a whole number");
    expect_error(&r, 8, "reach \"-2\" is not a whole number");
    expect_error(&r, 9, "engagements \"1234567890123456\" is not a whole number");
    expect_error(&r, 10, "followers \"1e6\" is not a whole number");
    expect_error(&r, 11, "5 fields, the header has 6");
    expect_error(&r, 12, "7 fields, the header has 6");
    expect_error(&r, 14, "reach \"+2\" is not a whole number");
    assert_int_equal(r.nerrors, 11);
    /* The good rows are parsed, but the result says not to use them. */
    assert_int_equal(r.nrows, 2);
    assert_int_equal(r.lines[0], 2);
    assert_int_equal(r.lines[1], 15);
    assert_int_equal(r.rows[1].impressions, 999999999999999ULL); /* 15 digits: the most */
    import_free(&r);
}

static void test_field_too_long(void **state)
{
    (void)state;
    import_result r;
    char csv[1024];
    char longf[400];
    memset(longf, 'a', sizeof(longf) - 1);
    longf[sizeof(longf) - 1] = '\0';
    snprintf(csv, sizeof(csv), "date,influencer,campaign\n2026-11-20,budi,%s\n", longf);
    assert_int_equal(run(csv, &r), -1);
    assert_int_equal(r.nerrors, 1);
    expect_error(&r, 2, "longer than");
    import_free(&r);

    /* 65 bytes is under the field cap but over an id's 64. */
    memset(longf, 'a', 65);
    longf[65] = '\0';
    snprintf(csv, sizeof(csv), "date,influencer\n2026-11-20,%s\n", longf);
    assert_int_equal(run(csv, &r), -1);
    expect_error(&r, 2, "is not a valid id");
    import_free(&r);
}

static void test_errors_capped(void **state)
{
    (void)state;
    enum { BAD = IMPORT_MAX_ERRORS + 50 };
    size_t cap = 64 + (size_t)BAD * 32;
    char *csv = malloc(cap);
    assert_non_null(csv);
    size_t len = (size_t)snprintf(csv, cap, "date,influencer,reach\n");
    for (int i = 0; i < BAD; i++)
        len += (size_t)snprintf(csv + len, cap - len, "2026-11-20,budi,x%d\n", i);
    len += (size_t)snprintf(csv + len, cap - len, "2026-11-20,budi,7\n");
    import_result r;
    assert_int_equal(import_metrics(csv, len, &r), -1);
    assert_int_equal(r.nerrors, BAD); /* all counted */
    assert_int_equal(r.errors[0].line, 2);
    assert_int_equal(r.errors[IMPORT_MAX_ERRORS - 1].line, IMPORT_MAX_ERRORS + 1);
    assert_non_null(strstr(r.errors[IMPORT_MAX_ERRORS - 1].reason, "reach \"x99\""));
    assert_int_equal(r.nrows, 1);
    assert_int_equal(r.lines[0], BAD + 2);
    import_free(&r);
    free(csv);
}

/* The input is not NUL-terminated: only data[0..len) is read. */
static void test_reads_only_len(void **state)
{
    (void)state;
    const char buf[] = "date,influencer\n2026-11-20,budi\n2026-11-21,GARBAGE ROW";
    size_t len = strlen("date,influencer\n2026-11-20,budi\n");
    import_result r;
    assert_int_equal(import_metrics(buf, len, &r), 0);
    assert_int_equal(r.nrows, 1);
    import_free(&r);
}

/* ---- what spreadsheets write ------------------------------------------------------------ */

static void test_header_any_case(void **state)
{
    (void)state;
    import_result r;
    assert_int_equal(run("Date,INFLUENCER,Campaign,Impressions,ReAcH\n"
                         "2026-11-20,budi,launch,10,8\n",
                         &r),
                     0);
    assert_int_equal(r.nrows, 1);
    assert_string_equal(r.rows[0].influencer, "budi");
    assert_string_equal(r.rows[0].campaign, "launch");
    assert_int_equal(r.rows[0].impressions, 10);
    assert_int_equal(r.rows[0].reach, 8);
    import_free(&r);

    /* Two names that differ only in case are the same column. */
    assert_int_equal(run("date,influencer,Reach,REACH\n", &r), -1);
    expect_error(&r, 1, "\"reach\" appears twice");
    import_free(&r);
}

/* A spreadsheet saves the empty columns right of the data as trailing separators, in the
 * header and in every row (sometimes more in one row than in another). */
static void test_trailing_empty_columns(void **state)
{
    (void)state;
    import_result r;
    assert_int_equal(run("date,influencer,impressions,,,\r\n"
                         "2026-11-20,budi,10,,,\r\n"
                         "2026-11-21,budi,11,,\r\n"
                         "2026-11-22,budi,12,,,,,\r\n"
                         "2026-11-23,budi,13\r\n"
                         ",,,,,\r\n",
                         &r),
                     0);
    assert_int_equal(r.nerrors, 0);
    assert_int_equal(r.nrows, 4);
    assert_int_equal(r.rows[3].impressions, 13);
    assert_int_equal(r.lines[3], 5);
    import_free(&r);

    /* Quoted empty cells are empty too. */
    assert_int_equal(run("date,influencer,\"\"\n2026-11-20,budi,\"\"\n", &r), 0);
    assert_int_equal(r.nrows, 1);
    import_free(&r);

    /* Data in a column without a name is refused, not dropped. */
    assert_int_equal(run("date,influencer,impressions,,\n"
                         "2026-11-20,budi,10,,7\n",
                         &r),
                     -1);
    expect_error(&r, 2, "column 5 has no name in the header");
    import_free(&r);

    /* A column with no name between named ones is an error in the header. */
    assert_int_equal(run("date,,influencer\n", &r), -1);
    expect_error(&r, 1, "column 2 has no name");
    import_free(&r);

    /* Fewer fields than named columns is still an error. */
    assert_int_equal(run("date,influencer,impressions,,\n2026-11-20,budi\n", &r), -1);
    expect_error(&r, 2, "2 fields, the header has 3");
    import_free(&r);

    /* Many trailing separators (a formatted sheet) are still trailing empties. */
    char csv[512];
    snprintf(csv, sizeof(csv), "date,influencer%s\n2026-11-20,budi%s\n",
             ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,",
             ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,");
    assert_int_equal(run(csv, &r), 0);
    assert_int_equal(r.nrows, 1);
    import_free(&r);
}

/* Spreadsheets in locales with a decimal comma save CSV with ';' between columns. */
static void test_semicolon_separated(void **state)
{
    (void)state;
    import_result r;
    assert_int_equal(run("\xef\xbb\xbf"
                         "date;influencer;campaign;impressions;;\r\n"
                         "2026-11-20;budi;\"launch\";1000;;\r\n"
                         "2026-11-21;ayu;;5;;\r\n",
                         &r),
                     0);
    assert_int_equal(r.nerrors, 0);
    assert_int_equal(r.nrows, 2);
    assert_string_equal(r.rows[0].campaign, "launch");
    assert_int_equal(r.rows[0].impressions, 1000);
    assert_int_equal(r.rows[1].impressions, 5);
    import_free(&r);

    /* In a ';' file a comma is data: "1,5" is not a whole number. */
    assert_int_equal(run("date;influencer;reach\n2026-11-20;budi;1,5\n", &r), -1);
    expect_error(&r, 2, "reach \"1,5\" is not a whole number");
    import_free(&r);

    /* Both separators in the header: refused, naming the ';'. */
    assert_int_equal(run("date,influencer;reach\n2026-11-20,budi;1\n", &r), -1);
    expect_error(&r, 1, "unknown column \"influencer;reach\"");
    expect_error(&r, 1, "';'");
    import_free(&r);

    /* A tab-separated file is named as such. */
    assert_int_equal(run("date\tinfluencer\n2026-11-20\tbudi\n", &r), -1);
    expect_error(&r, 1, "tab");
    import_free(&r);
}

/* Two rows of one (date, influencer, campaign, link): the last would silently win. */
static void test_duplicate_keys(void **state)
{
    (void)state;
    import_result r;
    const char *csv = "date,influencer,campaign,link,impressions\n" /* 1 */
                      "2026-11-20,budi,launch,budi-ig,10\n"         /* 2 */
                      "2026-11-20,budi,launch,,11\n"                /* 3: another key */
                      "2026-11-20,budi,,,12\n"                      /* 4: another key */
                      "2026-11-21,budi,launch,budi-ig,13\n"         /* 5: another day */
                      "2026-11-20,budi,launch,budi-ig,14\n"         /* 6: = 2 */
                      "2026-11-20,budi,,,15\n"                      /* 7: = 4 */
                      "2026-11-20,budi,launch,budi-ig,16\n";        /* 8: = 2 */
    assert_int_equal(run(csv, &r), -1);
    assert_int_equal(r.nerrors, 3);
    expect_error(&r, 6, "same date, influencer, campaign and link as line 2");
    expect_error(&r, 7, "as line 4");
    expect_error(&r, 8, "as line 2");
    /* Errors come in line order. */
    assert_int_equal(r.errors[0].line, 6);
    assert_int_equal(r.errors[1].line, 7);
    assert_int_equal(r.errors[2].line, 8);
    import_free(&r);

    /* Ids are case-sensitive, so these are two keys. */
    assert_int_equal(run("date,influencer\n2026-11-20,budi\n2026-11-20,Budi\n", &r), 0);
    import_free(&r);
}

/* ---- the registry check ----------------------------------------------------------------- */

/* A fake registry: influencers ayu and budi, campaigns launch and promo, links budi-ig
 * (budi / launch) and ayu-tt (ayu / promo). */
static int fake_influencer(void *ctx, const char *id)
{
    (void)ctx;
    return strcmp(id, "ayu") && strcmp(id, "budi") ? 1 : 0;
}

static int fake_campaign(void *ctx, const char *id)
{
    (void)ctx;
    return strcmp(id, "launch") && strcmp(id, "promo") ? 1 : 0;
}

static int fake_link(void *ctx, const char *slug, char *influencer, char *campaign)
{
    int *calls = ctx;
    (*calls)++;
    if (!strcmp(slug, "broken"))
        return -31004; /* a storage error stops the check */
    const char *inf = !strcmp(slug, "budi-ig") ? "budi" : !strcmp(slug, "ayu-tt") ? "ayu" : NULL;
    if (!inf)
        return 1;
    snprintf(influencer, REC_ID, "%s", inf);
    snprintf(campaign, REC_ID, "%s", inf[0] == 'b' ? "launch" : "promo");
    return 0;
}

static void test_check_ids(void **state)
{
    (void)state;
    int calls = 0;
    import_registry reg = {fake_influencer, fake_campaign, fake_link, &calls};
    import_result r;
    const char *csv = "date,influencer,campaign,link,impressions\n" /* 1 */
                      "2026-11-20,budi,launch,budi-ig,10\n"         /* 2 ok */
                      "2026-11-20,ayu,launch,budi-ig,9999\n"        /* 3 budi's link */
                      "2026-11-20,budi,promo,budi-ig,5\n"           /* 4 other campaign */
                      "2026-11-20,budi,,budi-ig,5\n"                /* 5 no campaign */
                      "2026-11-20,nobody,launch,,1\n"               /* 6 */
                      "2026-11-20,ayu,nothing,,1\n"                 /* 7 */
                      "2026-11-20,ayu,promo,nolink,1\n"             /* 8 */
                      "2026-11-20,ayu,promo,ayu-tt,1\n"             /* 9 ok */
                      "2026-11-20,ayu,,,1\n";                       /* 10 ok */
    assert_int_equal(run(csv, &r), 0);
    assert_int_equal(import_check_ids(&r, &reg), -1);
    assert_int_equal(r.nerrors, 6);
    expect_error(&r, 3, "link \"budi-ig\" belongs to influencer \"budi\", not \"ayu\"");
    expect_error(&r, 4, "link \"budi-ig\" belongs to campaign \"launch\", not \"promo\"");
    expect_error(&r, 5, "link \"budi-ig\" belongs to campaign \"launch\", not an empty campaign");
    expect_error(&r, 6, "unknown influencer \"nobody\"");
    expect_error(&r, 7, "unknown campaign \"nothing\"");
    expect_error(&r, 8, "unknown link \"nolink\"");
    import_free(&r);

    /* A good file passes, and is checked again from scratch each time (store_update may
     * run the check twice). */
    assert_int_equal(run("date,influencer,campaign,link\n2026-11-20,budi,launch,budi-ig\n", &r), 0);
    assert_int_equal(import_check_ids(&r, &reg), 0);
    assert_int_equal(import_check_ids(&r, &reg), 0);
    assert_int_equal(r.nerrors, 0);
    import_free(&r);

    /* A lookup's storage error is returned as it is. */
    assert_int_equal(run("date,influencer,campaign,link\n2026-11-20,budi,launch,broken\n", &r), 0);
    assert_int_equal(import_check_ids(&r, &reg), -31004);
    import_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_columns),
        cmocka_unit_test(test_any_order_and_only_required),
        cmocka_unit_test(test_bom_crlf_quotes_blank_lines),
        cmocka_unit_test(test_quoted_fields),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_bad_rows_named_by_line),
        cmocka_unit_test(test_field_too_long),
        cmocka_unit_test(test_errors_capped),
        cmocka_unit_test(test_reads_only_len),
        cmocka_unit_test(test_header_any_case),
        cmocka_unit_test(test_trailing_empty_columns),
        cmocka_unit_test(test_semicolon_separated),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_check_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
