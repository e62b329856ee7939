/*
 * test_id.c: the random identifiers (storage/id.c): the click id's time prefix and its
 * Crockford base32 text, whose orders must agree; the visitor id's canonical base64url;
 * slugs, hex secrets and tokens drawn from their alphabets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/id.h"

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void test_click_time_prefix(void **state)
{
    (void)state;
    const int64_t times[] = {0,
                             1,
                             255,
                             256,
                             1795168800123LL,
                             4107587696000LL,
                             ((int64_t)1 << 48) - 1, /* the largest 48-bit time */
                             0x0102030405LL};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        uint8_t id[ID_CLICK_BYTES];
        id_click_new(id, times[i]);
        assert_int_equal(id_click_time(id), times[i]);
    }
    /* Big-endian: the first 6 bytes are the time. */
    uint8_t id[ID_CLICK_BYTES];
    id_click_new(id, 0x010203040506LL);
    const uint8_t want[6] = {1, 2, 3, 4, 5, 6};
    assert_memory_equal(id, want, 6);
}

static void test_click_format_known(void **state)
{
    (void)state;
    char out[ID_CLICK_TEXT + 1];
    uint8_t id[ID_CLICK_BYTES];
    memset(id, 0, sizeof(id));
    id_click_format(id, out);
    assert_string_equal(out, "00000000000000000000000000");
    memset(id, 0xff, sizeof(id));
    id_click_format(id, out);
    assert_string_equal(out, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
    memset(id, 0, sizeof(id));
    id[15] = 1;
    id_click_format(id, out);
    assert_string_equal(out, "00000000000000000000000001");
    memset(id, 0, sizeof(id));
    id[0] = 0x80; /* the top bit: first digit carries 3 bits */
    id_click_format(id, out);
    assert_string_equal(out, "40000000000000000000000000");
    /* ULID's published example: time 1469918176385 => "01ARYZ6S41". */
    id_click_new(id, 1469918176385LL);
    id_click_format(id, out);
    assert_memory_equal(out, "01ARYZ6S41", 10);
}

static void test_click_format_alphabet_and_round_trip(void **state)
{
    (void)state;
    for (int i = 0; i < 20000; i++) {
        uint8_t id[ID_CLICK_BYTES], back[ID_CLICK_BYTES];
        id_random(id, sizeof(id));
        char out[ID_CLICK_TEXT + 2];
        memset(out, 'x', sizeof(out));
        id_click_format(id, out);
        assert_int_equal(strlen(out), ID_CLICK_TEXT);
        assert_true(out[0] >= '0' && out[0] <= '7');
        for (int k = 0; k < ID_CLICK_TEXT; k++)
            assert_non_null(strchr(crockford, out[k]));
        memset(back, 0xa5, sizeof(back));
        assert_int_equal(id_click_parse(out, back), 0);
        assert_memory_equal(back, id, ID_CLICK_BYTES);
    }
}

static int cmp_sign(int c)
{
    return (c > 0) - (c < 0);
}

/* Text order == byte order == time order, for ids made at increasing times. */
static void test_click_orders_agree(void **state)
{
    (void)state;
    enum { N = 2000 };
    uint8_t ids[N][ID_CLICK_BYTES];
    char text[N][ID_CLICK_TEXT + 1];
    int64_t t = 1700000000000LL;
    for (int i = 0; i < N; i++) {
        t += i % 3; /* some share a millisecond */
        id_click_new(ids[i], t);
        id_click_format(ids[i], text[i]);
    }
    for (int i = 0; i < N; i++) {
        for (int j = i + 1; j < N && j < i + 40; j++) {
            int b = cmp_sign(memcmp(ids[i], ids[j], ID_CLICK_BYTES));
            int s = cmp_sign(strcmp(text[i], text[j]));
            assert_int_equal(b, s);
            int64_t ti = id_click_time(ids[i]), tj = id_click_time(ids[j]);
            if (ti < tj)
                assert_int_equal(b, -1);
        }
    }
    /* And for random pairs of random ids. */
    for (int i = 0; i < 20000; i++) {
        uint8_t a[ID_CLICK_BYTES], b[ID_CLICK_BYTES];
        id_random(a, sizeof(a));
        id_random(b, sizeof(b));
        if (i % 2)
            memcpy(b, a, 6 + (size_t)(i % 10)); /* share a prefix */
        char ta[ID_CLICK_TEXT + 1], tb[ID_CLICK_TEXT + 1];
        id_click_format(a, ta);
        id_click_format(b, tb);
        assert_int_equal(cmp_sign(memcmp(a, b, ID_CLICK_BYTES)), cmp_sign(strcmp(ta, tb)));
    }
}

static void test_click_same_ms_differ(void **state)
{
    (void)state;
    uint8_t a[ID_CLICK_BYTES], b[ID_CLICK_BYTES];
    for (int i = 0; i < 1000; i++) {
        id_click_new(a, 1795168800123LL);
        id_click_new(b, 1795168800123LL);
        assert_memory_equal(a, b, 6);
        assert_memory_not_equal(a + 6, b + 6, ID_CLICK_BYTES - 6);
    }
}

static void test_click_parse_aliases_and_case(void **state)
{
    (void)state;
    uint8_t id[ID_CLICK_BYTES];
    id_random(id, sizeof(id));
    char out[ID_CLICK_TEXT + 1], low[ID_CLICK_TEXT + 1];
    id_click_format(id, out);
    for (int i = 0; i <= ID_CLICK_TEXT; i++)
        low[i] = (char)((out[i] >= 'A' && out[i] <= 'Z') ? out[i] - 'A' + 'a' : out[i]);
    uint8_t back[ID_CLICK_BYTES];
    assert_int_equal(id_click_parse(low, back), 0);
    assert_memory_equal(back, id, ID_CLICK_BYTES);

    uint8_t want[ID_CLICK_BYTES], got[ID_CLICK_BYTES];
    assert_int_equal(id_click_parse("01000000000000000000000001", want), 0);
    assert_int_equal(id_click_parse("OI000000000000000000000001", got), 0);
    assert_memory_equal(got, want, ID_CLICK_BYTES);
    assert_int_equal(id_click_parse("oL00000000000000000000000l", got), 0);
    assert_memory_equal(got, want, ID_CLICK_BYTES);
    assert_int_equal(id_click_parse("0i0000000000000000000000oI", got), 0);
    assert_memory_equal(got, want, ID_CLICK_BYTES);
    assert_int_equal(id_click_parse("7zzzzzzzzzzzzzzzzzzzzzzzzz", got), 0);
    memset(want, 0xff, sizeof(want));
    assert_memory_equal(got, want, ID_CLICK_BYTES);
}

static void test_click_parse_refusals(void **state)
{
    (void)state;
    uint8_t id[ID_CLICK_BYTES];
    assert_int_equal(id_click_parse("", id), -1);
    assert_int_equal(id_click_parse("0000000000000000000000000", id), -1);   /* 25 */
    assert_int_equal(id_click_parse("000000000000000000000000000", id), -1); /* 27 */
    assert_int_equal(id_click_parse("0000000000000000000000000U", id), -1);
    assert_int_equal(id_click_parse("0000000000000000000000000u", id), -1);
    assert_int_equal(id_click_parse("80000000000000000000000000", id), -1); /* > 128 bits */
    assert_int_equal(id_click_parse("Z0000000000000000000000000", id), -1);
    assert_int_equal(id_click_parse("0000000000000-000000000000", id), -1);
    assert_int_equal(id_click_parse("0000000000000 000000000000", id), -1);
    assert_int_equal(id_click_parse("000000000000000000000000=0", id), -1);
    assert_int_equal(id_click_parse("0000000000000\xc3\xa9"
                                    "00000000000",
                                    id),
                     -1);
    /* Every character that is neither a digit nor an alias is refused. */
    int accepted = 0;
    for (int c = 1; c < 256; c++) {
        char s[ID_CLICK_TEXT + 1];
        memset(s, '0', ID_CLICK_TEXT);
        s[ID_CLICK_TEXT] = '\0';
        s[ID_CLICK_TEXT - 1] = (char)c;
        if (id_click_parse(s, id) == 0)
            accepted++;
    }
    /* 32 digits, 22 lowercase letters, and O o I i L l. */
    assert_int_equal(accepted, 32 + 22 + 6);
    /* First digit: 0-7 only. */
    for (const char *p = "89ABCDEFGHJKMNPQRSTVWXYZ"; *p; p++) {
        char s[ID_CLICK_TEXT + 1];
        memset(s, '0', ID_CLICK_TEXT);
        s[ID_CLICK_TEXT] = '\0';
        s[0] = *p;
        assert_int_equal(id_click_parse(s, id), -1);
    }
}

static void test_visitor_format_and_round_trip(void **state)
{
    (void)state;
    for (int i = 0; i < 20000; i++) {
        uint8_t v[ID_VISITOR_BYTES], back[ID_VISITOR_BYTES];
        id_visitor_new(v);
        char out[ID_VISITOR_TEXT + 2];
        memset(out, 'x', sizeof(out));
        id_visitor_format(v, out);
        assert_int_equal(strlen(out), ID_VISITOR_TEXT);
        for (int k = 0; k < ID_VISITOR_TEXT; k++)
            assert_non_null(strchr(b64url, out[k]));
        /* The last digit carries 2 bits and 4 zero bits. */
        assert_non_null(strchr("AQgw", out[ID_VISITOR_TEXT - 1]));
        memset(back, 0x5a, sizeof(back));
        assert_int_equal(id_visitor_parse(out, back), 0);
        assert_memory_equal(back, v, ID_VISITOR_BYTES);
    }
    uint8_t v[ID_VISITOR_BYTES];
    char out[ID_VISITOR_TEXT + 1];
    memset(v, 0, sizeof(v));
    id_visitor_format(v, out);
    assert_string_equal(out, "AAAAAAAAAAAAAAAAAAAAAA");
    memset(v, 0xff, sizeof(v));
    id_visitor_format(v, out);
    assert_string_equal(out, "_____________________w");
    memset(v, 0xfb, sizeof(v));
    id_visitor_format(v, out);
    assert_string_equal(out, "-_v7-_v7-_v7-_v7-_v7-w");
}

static void test_visitor_parse_refusals(void **state)
{
    (void)state;
    uint8_t v[ID_VISITOR_BYTES];
    assert_int_equal(id_visitor_parse("AAAAAAAAAAAAAAAAAAAAAA", v), 0);
    assert_int_equal(id_visitor_parse("_____________________w", v), 0);
    /* Non-canonical last digit: any of the 4 spare bits set. */
    int ok = 0;
    for (const char *p = b64url; *p; p++) {
        char s[ID_VISITOR_TEXT + 1] = "AAAAAAAAAAAAAAAAAAAAAA";
        s[ID_VISITOR_TEXT - 1] = *p;
        if (id_visitor_parse(s, v) == 0)
            ok++;
        else
            assert_null(strchr("AQgw", *p));
    }
    assert_int_equal(ok, 4);
    assert_int_equal(id_visitor_parse("AAAAAAAAAAAAAAAAAAAAAB", v), -1);
    assert_int_equal(id_visitor_parse("_____________________x", v), -1);
    assert_int_equal(id_visitor_parse("_____________________-", v), -1);
    /* Wrong length. */
    assert_int_equal(id_visitor_parse("", v), -1);
    assert_int_equal(id_visitor_parse("AAAAAAAAAAAAAAAAAAAAA", v), -1);
    assert_int_equal(id_visitor_parse("AAAAAAAAAAAAAAAAAAAAAAA", v), -1);
    assert_int_equal(id_visitor_parse("AAAAAAAAAAAAAAAAAAAAAA==", v), -1);
    /* Standard base64's '+' and '/', padding and others. */
    assert_int_equal(id_visitor_parse("AAAAAAAAAA+AAAAAAAAAAA", v), -1);
    assert_int_equal(id_visitor_parse("AAAAAAAAAA/AAAAAAAAAAA", v), -1);
    assert_int_equal(id_visitor_parse("AAAAAAAAAA=AAAAAAAAAAA", v), -1);
    assert_int_equal(id_visitor_parse("AAAAAAAAAA.AAAAAAAAAAA", v), -1);
    assert_int_equal(id_visitor_parse("AAAAAAAAAA AAAAAAAAAAA", v), -1);
}

static void test_slug(void **state)
{
    (void)state;
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
    int seen[256] = {0};
    for (int i = 0; i < 2000; i++) {
        char out[16];
        memset(out, 'Q', sizeof(out));
        id_slug_new(out, 8);
        assert_int_equal(strlen(out), 8);
        for (int k = 0; k < 8; k++) {
            assert_non_null(strchr(alphabet, out[k]));
            seen[(unsigned char)out[k]]++;
        }
    }
    /* 16000 draws from 32 letters: every one of them shows up; 0 o 1 l never. */
    for (const char *p = alphabet; *p; p++)
        assert_true(seen[(unsigned char)*p] > 0);
    assert_int_equal(seen['0'] + seen['o'] + seen['1'] + seen['l'], 0);
    char one[2];
    id_slug_new(one, 1);
    assert_int_equal(strlen(one), 1);
    char empty[1] = {'x'};
    id_slug_new(empty, 0);
    assert_string_equal(empty, "");
}

static void test_hex_and_token(void **state)
{
    (void)state;
    char hex[65 + 1];
    memset(hex, 'x', sizeof(hex));
    id_hex_new(hex, 32);
    assert_int_equal(strlen(hex), 64);
    for (int i = 0; i < 64; i++)
        assert_non_null(strchr("0123456789abcdef", hex[i]));
    char hex2[65];
    id_hex_new(hex2, 32);
    assert_string_not_equal(hex, hex2);

    char tok[4 * 32 / 3 + 2];
    id_token_new(tok, 32);
    assert_int_equal(strlen(tok), 43);
    for (int i = 0; i < 43; i++)
        assert_non_null(strchr(b64url, tok[i]));
}

/* The per-thread pool never hands out the same bytes twice, across refills. */
static void test_random_no_repeats(void **state)
{
    (void)state;
    enum { N = 5000 };
    uint64_t *v = malloc(N * sizeof(*v));
    assert_non_null(v);
    for (int i = 0; i < N; i++)
        id_random(&v[i], sizeof(v[i]));
    int dup = 0;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            dup += v[i] == v[j];
    assert_int_equal(dup, 0);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_click_time_prefix),
        cmocka_unit_test(test_click_format_known),
        cmocka_unit_test(test_click_format_alphabet_and_round_trip),
        cmocka_unit_test(test_click_orders_agree),
        cmocka_unit_test(test_click_same_ms_differ),
        cmocka_unit_test(test_click_parse_aliases_and_case),
        cmocka_unit_test(test_click_parse_refusals),
        cmocka_unit_test(test_visitor_format_and_round_trip),
        cmocka_unit_test(test_visitor_parse_refusals),
        cmocka_unit_test(test_slug),
        cmocka_unit_test(test_hex_and_token),
        cmocka_unit_test(test_random_no_repeats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
