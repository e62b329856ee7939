/*
 * key.c: big-endian integers and the key layouts (see key.h). The one copy of each: a
 * layout changed here changes for every reader and writer of it.
 */
#include "storage/key.h"

#include <string.h>

void key_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void key_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void key_put_u48(uint8_t *p, uint64_t v)
{
    key_put_u16(p, (uint16_t)(v >> 32));
    key_put_u32(p + 2, (uint32_t)v);
}

void key_put_u64(uint8_t *p, uint64_t v)
{
    key_put_u32(p, (uint32_t)(v >> 32));
    key_put_u32(p + 4, (uint32_t)v);
}

uint16_t key_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t key_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t key_get_u48(const uint8_t *p)
{
    return (uint64_t)key_get_u16(p) << 32 | key_get_u32(p + 2);
}

uint64_t key_get_u64(const uint8_t *p)
{
    return (uint64_t)key_get_u32(p) << 32 | key_get_u32(p + 4);
}

int64_t key_click_time(const uint8_t id[KEY_CLICK_ID])
{
    return (int64_t)key_get_u48(id);
}

void key_click_from(uint8_t out[KEY_CLICK_ID], int64_t ms)
{
    memset(out, 0, KEY_CLICK_ID);
    key_put_u48(out, ms > 0 ? (uint64_t)ms : 0);
}

void key_visit(uint8_t out[KEY_VISIT_LEN], const uint8_t visitor[16], int64_t ts_ms,
               const uint8_t click_id[KEY_CLICK_ID])
{
    memcpy(out, visitor, 16);
    key_put_u64(out + KEY_VISIT_TS, (uint64_t)ts_ms);
    memcpy(out + KEY_VISIT_ID, click_id, KEY_CLICK_ID);
}

void key_visit_from(uint8_t out[KEY_VISIT_ID], const uint8_t visitor[16], int64_t ms)
{
    memcpy(out, visitor, 16);
    key_put_u64(out + KEY_VISIT_TS, (uint64_t)(ms < 0 ? 0 : ms));
}

int64_t key_visit_ts(const uint8_t key[KEY_VISIT_LEN])
{
    return (int64_t)key_get_u64(key + KEY_VISIT_TS);
}

size_t key_rollup(uint8_t *key, uint32_t bucket, uint8_t kind, const char *name, const char *name2,
                  size_t name_max)
{
    key_put_u32(key, bucket);
    key[4] = kind;
    size_t n = strnlen(name, name_max - 1);
    memcpy(key + 5, name, n);
    size_t len = 5 + n;
    if (name2) {
        size_t n2 = strnlen(name2, name_max - 1);
        key[len++] = 0;
        memcpy(key + len, name2, n2);
        len += n2;
    }
    return len;
}

int key_rollup_names(const uint8_t *key, size_t len, char *name, char *name2, size_t name_max)
{
    if (len < 5)
        return -1;
    const uint8_t *s = key + 5, *end = key + len;
    const uint8_t *nul = memchr(s, 0, (size_t)(end - s));
    size_t n1 = (size_t)((nul ? nul : end) - s);
    if (n1 >= name_max)
        return -1;
    memcpy(name, s, n1);
    name[n1] = '\0';
    name2[0] = '\0';
    if (nul) {
        size_t n2 = (size_t)(end - nul - 1);
        if (n2 >= name_max)
            return -1;
        memcpy(name2, nul + 1, n2);
        name2[n2] = '\0';
    }
    return 0;
}

size_t key_order(uint8_t *key, const char *shop, const char *order_id)
{
    size_t a = strlen(shop), b = strlen(order_id);
    memcpy(key, shop, a);
    key[a] = 0;
    memcpy(key + a + 1, order_id, b);
    return a + 1 + b;
}
