/*
 * test_import.c: the metrics CSV reader (attribution/import.c): headers in any order, the
 * things spreadsheets add (a UTF-8 BOM, CRLF, quoted fields with doubled quotes, blank
 * lines), every header error, and every row error reported with its line and reason, the
 * count of errors going on past the IMPORT_MAX_ERRORS kept.
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

    /* Column names are exact: case and spaces matter. */
    assert_int_equal(run("Date,influencer\n", &r), -1);
    expect_error(&r, 1, "unknown column \"Date\"");
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
