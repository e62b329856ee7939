/*
 * test_key.c: the byte layouts (storage/key.c): big-endian integers against bytes written
 * out by hand, byte order agreeing with numeric order, and each key layout (click-id time
 * prefix, visits key, rollup key, order key) byte for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "storage/id.h"
#include "storage/key.h"

static void test_integers_known_bytes(void **state)
{
    (void)state;
    uint8_t b[8];
    key_put_u16(b, 0x0102);
    assert_memory_equal(b, "\x01\x02", 2);
    assert_int_equal(key_get_u16(b), 0x0102);
    key_put_u32(b, 0xA1B2C3D4u);
    assert_memory_equal(b, "\xA1\xB2\xC3\xD4", 4);
    assert_int_equal(key_get_u32(b), 0xA1B2C3D4u);
    key_put_u48(b, 0xFFFF123456789ABCull); /* the top 16 bits are not kept */
    assert_memory_equal(b, "\x12\x34\x56\x78\x9A\xBC", 6);
    assert_true(key_get_u48(b) == 0x123456789ABCull);
    key_put_u64(b, 0x0102030405060708ull);
    assert_memory_equal(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    assert_true(key_get_u64(b) == 0x0102030405060708ull);
}

static void test_byte_order_is_numeric_order(void **state)
{
    (void)state;
    const uint64_t v[] = {
        0,         1, 255, 256, 65535, 65536, 0xFFFFFFFFull, 0x100000000ull, 0x7FFFFFFFFFFFFFFFull,
        UINT64_MAX};
    for (size_t i = 0; i + 1 < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t a[8], b[8];
        key_put_u64(a, v[i]);
        key_put_u64(b, v[i + 1]);
        assert_true(memcmp(a, b, 8) < 0);
        assert_true(key_get_u64(a) == v[i]);
    }
}

static void test_click_prefix(void **state)
{
    (void)state;
    uint8_t from[KEY_CLICK_ID], id[ID_CLICK_BYTES];
    int64_t ms = 1795168800123LL;
    key_click_from(from, ms);
    assert_true(key_click_time(from) == ms);
    for (int i = 6; i < KEY_CLICK_ID; i++)
        assert_int_equal(from[i], 0);
    /* Every id made at ms or later sorts at or after the start of a scan from ms. */
    id_click_new(id, ms);
    assert_true(memcmp(from, id, KEY_CLICK_ID) <= 0);
    assert_true(key_click_time(id) == ms);
    id_click_new(id, ms - 1);
    assert_true(memcmp(id, from, KEY_CLICK_ID) < 0);
    key_click_from(from, -5); /* before 1970: the very start */
    for (int i = 0; i < KEY_CLICK_ID; i++)
        assert_int_equal(from[i], 0);
}

static void test_visit_key(void **state)
{
    (void)state;
    uint8_t visitor[16], id[16], k[KEY_VISIT_LEN], from[KEY_VISIT_ID];
    for (int i = 0; i < 16; i++) {
        visitor[i] = (uint8_t)(0xA0 + i);
        id[i] = (uint8_t)(0x10 + i);
    }
    key_visit(k, visitor, 0x0102030405LL, id);
    assert_memory_equal(k, visitor, 16);
    assert_memory_equal(k + 16, "\0\0\0\x01\x02\x03\x04\x05", 8);
    assert_memory_equal(k + 24, id, 16);
    assert_true(key_visit_ts(k) == 0x0102030405LL);
    key_visit_from(from, visitor, 0x0102030405LL);
    assert_memory_equal(from, k, KEY_VISIT_ID);
    key_visit_from(from, visitor, -1);
    assert_memory_equal(from + 16, "\0\0\0\0\0\0\0\0", 8);
}

static void test_rollup_key(void **state)
{
    (void)state;
    uint8_t k[5 + 2 * 32];
    char a[32], b[32];
    size_t n = key_rollup(k, 0x01020304u, 'L', "spring-ig", NULL, 32);
    assert_int_equal(n, 5 + 9);
    assert_memory_equal(k, "\x01\x02\x03\x04L", 5); /* bucket and kind */
    assert_memory_equal(k + 5, "spring-ig", 9);
    assert_int_equal(key_get_u32(k), 0x01020304u);
    assert_int_equal(key_rollup_names(k, n, a, b, 32), 0);
    assert_string_equal(a, "spring-ig");
    assert_string_equal(b, "");
    n = key_rollup(k, 7, 'C', "ayu", "spring", 32);
    assert_int_equal(n, 5 + 3 + 1 + 6);
    assert_memory_equal(k + 5, "ayu\0spring", 10);
    assert_int_equal(key_rollup_names(k, n, a, b, 32), 0);
    assert_string_equal(a, "ayu");
    assert_string_equal(b, "spring");
    n = key_rollup(k, 7, 'U', "", NULL, 32);
    assert_int_equal(n, 5);
    assert_int_equal(key_rollup_names(k, n, a, b, 32), 0);
    assert_string_equal(a, "");
    /* Too short, or a name that does not fit: refused. */
    assert_int_equal(key_rollup_names(k, 4, a, b, 32), -1);
    memset(k + 5, 'x', 40);
    assert_int_equal(key_rollup_names(k, 45, a, b, 32), -1);
}

static void test_order_key(void **state)
{
    (void)state;
    uint8_t k[64];
    size_t n = key_order(k, "shop1", "ORD-9");
    assert_int_equal(n, 11);
    assert_memory_equal(k, "shop1\0ORD-9", 11);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers_known_bytes),
        cmocka_unit_test(test_byte_order_is_numeric_order),
        cmocka_unit_test(test_click_prefix),
        cmocka_unit_test(test_visit_key),
        cmocka_unit_test(test_rollup_key),
        cmocka_unit_test(test_order_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
