/*
 * test_json.c: the strict flat-object JSON parser (tracker/json.c). Every accepted form
 * (each escape, \u escapes and surrogate pairs to UTF-8, numbers kept as text, literals,
 * whitespace) and every refusal with its reason: nesting, duplicate keys, trailing bytes,
 * invalid UTF-8, lone surrogates, control characters, NUL, unterminated strings, malformed
 * numbers, too many fields and an arena smaller than len + 1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracker/json.h"

typedef struct {
    char *arena;
    size_t arena_len;
    json_field f[JSON_MAX_FIELDS + 1];
    char err[200];
} parsed;

static parsed P;

/* Parses in[0..len) with the documented minimum arena, len + 1 bytes. */
static int parse_n(const char *in, size_t len)
{
    free(P.arena);
    P.arena_len = len + 1;
    P.arena = malloc(P.arena_len);
    assert_non_null(P.arena);
    memset(P.err, 0, sizeof(P.err));
    return json_parse_flat(in, len, P.arena, P.arena_len, P.f, JSON_MAX_FIELDS, P.err,
                           sizeof(P.err));
}

static int parse(const char *in)
{
    return parse_n(in, strlen(in));
}

static void inside_arena(const char *s)
{
    assert_true(s >= P.arena && s < P.arena + P.arena_len);
}

/* The value of field i is a string equal to want. */
static void field_is(int i, const char *key, json_type type, const char *want)
{
    assert_string_equal(P.f[i].key, key);
    assert_int_equal(P.f[i].type, type);
    assert_string_equal(P.f[i].value, want);
    inside_arena(P.f[i].key);
    if (type == JSON_STRING || type == JSON_NUMBER)
        inside_arena(P.f[i].value);
}

/* in is refused and the reason contains why. */
static void refused_n(const char *in, size_t len, const char *why)
{
    assert_int_equal(parse_n(in, len), -1);
    if (strstr(P.err, why) == NULL)
        fail_msg("input %.*s: reason \"%s\" lacks \"%s\"", (int)len, in, P.err, why);
}

static void refused(const char *in, const char *why)
{
    refused_n(in, strlen(in), why);
}

static int teardown(void **state)
{
    (void)state;
    free(P.arena);
    P.arena = NULL;
    return 0;
}

/* ---- accepted ------------------------------------------------------------------------- */

static void test_simple_object(void **state)
{
    (void)state;
    assert_int_equal(parse("{\"shop\":\"toko-a\",\"order_id\":\"INV-1\"}"), 2);
    field_is(0, "shop", JSON_STRING, "toko-a");
    field_is(1, "order_id", JSON_STRING, "INV-1");
}

static void test_every_escape(void **state)
{
    (void)state;
    assert_int_equal(parse("{\"s\":\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t end\"}"), 1);
    field_is(0, "s", JSON_STRING, "q\" b\\ s/ \b\f\n\r\t end");
}

static void test_unicode_escapes(void **state)
{
    (void)state;
    assert_int_equal(parse("{\"e\":\"caf\\u00e9\",\"E\":\"caf\\u00C9\",\"a\":\"\\u0041\","
                           "\"euro\":\"\\u20ac\",\"max\":\"\\uffff\"}"),
                     5);
    field_is(0, "e", JSON_STRING, "caf\xc3\xa9");
    field_is(1, "E", JSON_STRING, "caf\xc3\x89");
    field_is(2, "a", JSON_STRING, "A");
    field_is(3, "euro", JSON_STRING, "\xe2\x82\xac");
    field_is(4, "max", JSON_STRING, "\xef\xbf\xbf");
}

static void test_surrogate_pair(void **state)
{
    (void)state;
    assert_int_equal(parse("{\"smile\":\"\\ud83d\\ude00\",\"last\":\"\\udbff\\udfff\"}"), 2);
    field_is(0, "smile", JSON_STRING, "\xf0\x9f\x98\x80");
    assert_int_equal(strlen(P.f[0].value), 4);
    field_is(1, "last", JSON_STRING, "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
}

static void test_raw_utf8(void **state)
{
    (void)state;
    assert_int_equal(parse("{\"n\":\"Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}"), 1);
    field_is(0, "n", JSON_STRING, "Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

static void test_escaped_key(void **state)
{
    (void)state;
    assert_int_equal(parse("{\"caf\\u00e9\":\"1\",\"\":\"empty key\"}"), 2);
    field_is(0, "caf\xc3\xa9", JSON_STRING, "1");
    field_is(1, "", JSON_STRING, "empty key");
}

static void test_numbers_kept_as_text(void **state)
{
    (void)state;
    assert_int_equal(parse("{\"a\":-0,\"b\":1.5e10,\"c\":0,\"d\":-12.50,\"e\":1E+2,\"f\":2e-3,"
                           "\"g\":149000.00,\"h\":0.5}"),
                     8);
    field_is(0, "a", JSON_NUMBER, "-0");
    field_is(1, "b", JSON_NUMBER, "1.5e10");
    field_is(2, "c", JSON_NUMBER, "0");
    field_is(3, "d", JSON_NUMBER, "-12.50");
    field_is(4, "e", JSON_NUMBER, "1E+2");
    field_is(5, "f", JSON_NUMBER, "2e-3");
    field_is(6, "g", JSON_NUMBER, "149000.00");
    field_is(7, "h", JSON_NUMBER, "0.5");
}

static void test_literals(void **state)
{
    (void)state;
    assert_int_equal(parse("{\"t\":true,\"f\":false,\"n\":null}"), 3);
    field_is(0, "t", JSON_TRUE, "true");
    field_is(1, "f", JSON_FALSE, "false");
    field_is(2, "n", JSON_NULL, "");
}

static void test_empty_object(void **state)
{
    (void)state;
    assert_int_equal(parse("{}"), 0);
    assert_int_equal(parse(" \t\r\n{ \t\r\n} \t\r\n"), 0);
}

static void test_whitespace_everywhere(void **state)
{
    (void)state;
    assert_int_equal(parse(" \n{ \"a\" \t: \"x\" ,\r\n\"b\" :1 , \"c\":\ttrue }\n"), 3);
    field_is(0, "a", JSON_STRING, "x");
    field_is(1, "b", JSON_NUMBER, "1");
    field_is(2, "c", JSON_TRUE, "true");
}

static void test_exact_arena(void **state)
{
    (void)state;
    /* Numbers gain a NUL without losing quotes: still fits in len + 1. */
    const char *in = "{\"\":0,\"\":1}";
    char arena[32];
    json_field f[4];
    char err[100];
    size_t len = strlen(in);
    /* Duplicate empty keys are refused, but only after both parsed inside the arena. */
    assert_int_equal(json_parse_flat(in, len, arena, len + 1, f, 4, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "duplicate"));
    in = "{\"\":0,\"a\":1}";
    len = strlen(in);
    assert_int_equal(json_parse_flat(in, len, arena, len + 1, f, 4, err, sizeof(err)), 2);
    assert_string_equal(f[1].value, "1");
}

static void test_not_nul_terminated_input(void **state)
{
    (void)state;
    /* Only in[0..len) is read: the rest of the buffer is not part of the body. */
    const char buf[] = "{\"a\":\"b\"}GARBAGE";
    assert_int_equal(parse_n(buf, 9), 1);
    field_is(0, "a", JSON_STRING, "b");
    refused_n(buf, 10, "trailing bytes");
    refused_n(buf, 8, "expected ',' or '}'");
}

/* ---- refused -------------------------------------------------------------------------- */

static void test_nested_refused(void **state)
{
    (void)state;
    refused("{\"a\":{\"b\":1}}", "nested objects and arrays are not accepted");
    refused("{\"a\":[1,2]}", "nested objects and arrays are not accepted");
    refused("{\"a\":[]}", "nested objects and arrays are not accepted");
    refused("[]", "the body must be a JSON object");
    refused("\"text\"", "the body must be a JSON object");
    refused("42", "the body must be a JSON object");
    refused("", "the body must be a JSON object");
    refused("   ", "the body must be a JSON object");
}

static void test_duplicate_key_refused(void **state)
{
    (void)state;
    refused("{\"a\":1,\"a\":2}", "duplicate field \"a\"");
    refused("{\"amount\":\"1\",\"b\":2,\"amount\":\"1\"}", "duplicate field \"amount\"");
    /* Keys compare decoded: an escaped spelling is the same key. */
    refused("{\"a\":1,\"\\u0061\":2}", "duplicate field \"a\"");
}

static void test_trailing_bytes_refused(void **state)
{
    (void)state;
    refused("{}x", "trailing bytes after the object");
    refused("{\"a\":1} {}", "trailing bytes after the object");
    refused("{\"a\":1}}", "trailing bytes after the object");
    refused_n("{}\0", 3, "trailing bytes after the object");
    /* The byte position is in the reason. */
    refused("{} x", "at byte 3");
}

static void test_invalid_utf8_refused(void **state)
{
    (void)state;
    refused("{\"a\":\"\xc0\x80\"}", "invalid UTF-8");             /* overlong NUL */
    refused("{\"a\":\"\xc1\xbf\"}", "invalid UTF-8");             /* overlong '\x7f' */
    refused("{\"a\":\"\xe0\x80\x80\"}", "invalid UTF-8");         /* overlong 3-byte */
    refused("{\"a\":\"\xf0\x80\x80\x80\"}", "invalid UTF-8");     /* overlong 4-byte */
    refused("{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8");         /* U+D800 encoded */
    refused("{\"a\":\"\xed\xbf\xbf\"}", "invalid UTF-8");         /* U+DFFF encoded */
    refused("{\"a\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8");     /* above U+10FFFF */
    refused("{\"a\":\"\xf5\x80\x80\x80\"}", "invalid UTF-8");     /* F5 lead */
    refused("{\"a\":\"\xf8\x88\x80\x80\x80\"}", "invalid UTF-8"); /* 5-byte form */
    refused("{\"a\":\"\xff\"}", "invalid UTF-8");
    refused("{\"a\":\"\x80\"}", "invalid UTF-8");       /* lone continuation */
    refused("{\"a\":\"\xc3\"}", "invalid UTF-8");       /* truncated before the quote */
    refused("{\"a\":\"\xe2\x82\"}", "invalid UTF-8");   /* truncated 3-byte */
    refused("{\"\xc0\x80\":\"a\"}", "invalid UTF-8");   /* in a key too */
    refused_n("{\"a\":\"\xe2\x82", 8, "invalid UTF-8"); /* cut by the end of input */
}

static void test_lone_surrogate_escape_refused(void **state)
{
    (void)state;
    refused("{\"a\":\"\\ud800\"}", "invalid escape in a string");
    refused("{\"a\":\"\\udc00\"}", "invalid escape in a string");
    refused("{\"a\":\"\\udfff\"}", "invalid escape in a string");
    refused("{\"a\":\"\\ud83d\\u0041\"}", "invalid escape in a string");
    refused("{\"a\":\"\\ud83d\\ud83d\"}", "invalid escape in a string");
    refused("{\"a\":\"\\ud83dx\\ude00\"}", "invalid escape in a string");
    refused("{\"a\":\"\\ude00\\ud83d\"}", "invalid escape in a string"); /* reversed */
    refused_n("{\"a\":\"\\ud83d", 11, "invalid escape in a string");
}

static void test_bad_escapes_refused(void **state)
{
    (void)state;
    refused("{\"a\":\"\\x41\"}", "invalid escape in a string");
    refused("{\"a\":\"\\u00g1\"}", "invalid escape in a string");
    refused("{\"a\":\"\\u12\"}", "invalid escape in a string");
    refused("{\"a\":\"\\U00e9\"}", "invalid escape in a string");
    refused("{\"a\":\"\\'\"}", "invalid escape in a string");
    refused("{\"a\":\"\\0\"}", "invalid escape in a string");
}

static void test_control_character_refused(void **state)
{
    (void)state;
    refused("{\"a\":\"line\nbreak\"}", "control character in a string");
    refused("{\"a\":\"tab\there\"}", "control character in a string");
    refused("{\"a\":\"\x1f\"}", "control character in a string");
    refused("{\"a\r\":\"1\"}", "control character in a string");
    refused_n("{\"a\":\"x\0y\"}", 11, "control character in a string");
}

static void test_escaped_nul_refused(void **state)
{
    (void)state;
    refused("{\"a\":\"x\\u0000y\"}", "NUL character in a string");
    refused("{\"\\u0000\":\"1\"}", "NUL character in a string");
}

static void test_unterminated_refused(void **state)
{
    (void)state;
    refused("{\"a\":\"abc", "unterminated string");
    refused("{\"a\":\"abc\\\"}", "unterminated string");
    refused("{\"abc", "unterminated string");
    refused("{\"a\":\"\\", "unterminated string");
    refused("{\"a\":\"x\"", "expected ',' or '}'");
    refused("{\"a\":", "expected a value");
    refused("{\"a\"", "expected ':' after a field name");
    refused("{", "expected a field name");
    refused("{\"a\":1,", "expected a field name");
    refused("{\"a\":1,}", "expected a field name"); /* trailing comma */
    refused("{,}", "expected a field name");
    refused("{a:1}", "expected a field name");
    refused("{'a':1}", "expected a field name");
}

static void test_bad_number_refused(void **state)
{
    (void)state;
    refused("{\"a\":01}", "expected ',' or '}'"); /* a leading zero ends the number */
    refused("{\"a\":-01}", "expected ',' or '}'");
    refused("{\"a\":1.}", "invalid number");
    refused("{\"a\":1.e5}", "invalid number");
    refused("{\"a\":.5}", "invalid value");
    refused("{\"a\":-}", "invalid number");
    refused("{\"a\":-.5}", "invalid number");
    refused("{\"a\":1e}", "invalid number");
    refused("{\"a\":1e+}", "invalid number");
    refused("{\"a\":+1}", "invalid value");
    refused("{\"a\":0x10}", "expected ',' or '}'");
    refused("{\"a\":1 2}", "expected ',' or '}'");
    refused_n("{\"a\":-", 6, "invalid number");
}

static void test_bad_literals_refused(void **state)
{
    (void)state;
    refused("{\"a\":tru}", "invalid value");
    refused("{\"a\":True}", "invalid value");
    refused("{\"a\":nul}", "invalid value");
    refused("{\"a\":falsey}", "expected ',' or '}'");
    refused("{\"a\":undefined}", "invalid value");
    refused("{\"a\":'x'}", "invalid value");
}

static char *many_fields(int n)
{
    char *s = malloc((size_t)n * 16 + 4);
    size_t o = 0;
    s[o++] = '{';
    for (int i = 0; i < n; i++)
        o += (size_t)sprintf(s + o, "%s\"k%d\":%d", i ? "," : "", i, i);
    s[o++] = '}';
    s[o] = '\0';
    return s;
}

static void test_too_many_fields(void **state)
{
    (void)state;
    char *s = many_fields(JSON_MAX_FIELDS);
    assert_int_equal(parse(s), JSON_MAX_FIELDS);
    field_is(JSON_MAX_FIELDS - 1, "k63", JSON_NUMBER, "63");
    free(s);
    s = many_fields(JSON_MAX_FIELDS + 1);
    refused(s, "too many fields");
    free(s);
    /* The caller's max_fields is the cap, whatever it is. */
    char arena[64], err[100];
    json_field f[2];
    const char *in = "{\"a\":1,\"b\":2,\"c\":3}";
    assert_int_equal(json_parse_flat(in, strlen(in), arena, sizeof(arena), f, 2, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "too many fields"));
    in = "{\"a\":1,\"b\":2}";
    assert_int_equal(json_parse_flat(in, strlen(in), arena, sizeof(arena), f, 2, err, sizeof(err)),
                     2);
}

static void test_arena_too_small(void **state)
{
    (void)state;
    const char *in = "{\"a\":\"b\"}";
    size_t len = strlen(in);
    char arena[16], err[100];
    json_field f[2];
    assert_int_equal(json_parse_flat(in, len, arena, len, f, 2, err, sizeof(err)), -1);
    assert_string_equal(err, "body too large");
    assert_int_equal(json_parse_flat(in, len, arena, 0, f, 2, err, sizeof(err)), -1);
    assert_int_equal(json_parse_flat(in, len, arena, len + 1, f, 2, err, sizeof(err)), 1);
    assert_string_equal(f[0].value, "b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_simple_object, teardown),
        cmocka_unit_test_teardown(test_every_escape, teardown),
        cmocka_unit_test_teardown(test_unicode_escapes, teardown),
        cmocka_unit_test_teardown(test_surrogate_pair, teardown),
        cmocka_unit_test_teardown(test_raw_utf8, teardown),
        cmocka_unit_test_teardown(test_escaped_key, teardown),
        cmocka_unit_test_teardown(test_numbers_kept_as_text, teardown),
        cmocka_unit_test_teardown(test_literals, teardown),
        cmocka_unit_test_teardown(test_empty_object, teardown),
        cmocka_unit_test_teardown(test_whitespace_everywhere, teardown),
        cmocka_unit_test_teardown(test_exact_arena, teardown),
        cmocka_unit_test_teardown(test_not_nul_terminated_input, teardown),
        cmocka_unit_test_teardown(test_nested_refused, teardown),
        cmocka_unit_test_teardown(test_duplicate_key_refused, teardown),
        cmocka_unit_test_teardown(test_trailing_bytes_refused, teardown),
        cmocka_unit_test_teardown(test_invalid_utf8_refused, teardown),
        cmocka_unit_test_teardown(test_lone_surrogate_escape_refused, teardown),
        cmocka_unit_test_teardown(test_bad_escapes_refused, teardown),
        cmocka_unit_test_teardown(test_control_character_refused, teardown),
        cmocka_unit_test_teardown(test_escaped_nul_refused, teardown),
        cmocka_unit_test_teardown(test_unterminated_refused, teardown),
        cmocka_unit_test_teardown(test_bad_number_refused, teardown),
        cmocka_unit_test_teardown(test_bad_literals_refused, teardown),
        cmocka_unit_test_teardown(test_too_many_fields, teardown),
        cmocka_unit_test_teardown(test_arena_too_small, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
