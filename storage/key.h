/*
 * key.h: how integers and composite keys are laid out in bytes, in one place.
 *
 * Every integer in a key or a record is big-endian, so that LMDB's byte order is numeric
 * order (a range scan walks time). The key layouts:
 *   - click id (16 bytes): 48-bit UTC ms | 80 random bits (ULID, storage/id.h); a scan of
 *     the clicks or conversions tables from a time starts at key_click_from;
 *   - visits key (KEY_VISIT_LEN = 40): visitor (16) | click time ms (u64) | click id (16),
 *     so one visitor's clicks are contiguous and in time order;
 *   - rollup key: bucket (u32, 15-minute periods since 1970) | kind byte | name [NUL name2];
 *   - order index key: shop | NUL | order id.
 *
 * Pure functions over caller-owned buffers: nothing here allocates or keeps state.
 */
#ifndef JEJAK_KEY_H
#define JEJAK_KEY_H

#include <stddef.h>
#include <stdint.h>

enum {
    KEY_CLICK_ID = 16,
    KEY_VISIT_LEN = 40,
    KEY_VISIT_TS = 16, /* offset of the time in a visits key */
    KEY_VISIT_ID = 24, /* offset of the click id */
};

void key_put_u16(uint8_t *p, uint16_t v);
void key_put_u32(uint8_t *p, uint32_t v);
void key_put_u48(uint8_t *p, uint64_t v); /* the low 48 bits of v, in 6 bytes */
void key_put_u64(uint8_t *p, uint64_t v);
uint16_t key_get_u16(const uint8_t *p);
uint32_t key_get_u32(const uint8_t *p);
uint64_t key_get_u48(const uint8_t *p);
uint64_t key_get_u64(const uint8_t *p);

/* The time prefix of a click (or conversion) id: ms since 1970, 48 bits. */
int64_t key_click_time(const uint8_t id[KEY_CLICK_ID]);
/* The smallest id of time ms (negative: 0): where a scan from ms starts. */
void key_click_from(uint8_t out[KEY_CLICK_ID], int64_t ms);

/* The visits key of a click; key_visit_from writes the first KEY_VISIT_ID bytes only (the
 * start of a scan of visitor's clicks from ms; negative: 0). */
void key_visit(uint8_t out[KEY_VISIT_LEN], const uint8_t visitor[16], int64_t ts_ms,
               const uint8_t click_id[KEY_CLICK_ID]);
void key_visit_from(uint8_t out[KEY_VISIT_ID], const uint8_t visitor[16], int64_t ms);
int64_t key_visit_ts(const uint8_t key[KEY_VISIT_LEN]);

/* A rollup key into key (room for 5 + 2 * (name_max - 1) + 1 bytes); names are cut at
 * name_max - 1 bytes; name2 NULL: none. Returns the key's length. */
size_t key_rollup(uint8_t *key, uint32_t bucket, uint8_t kind, const char *name, const char *name2,
                  size_t name_max);
/* Splits a rollup key's names into name and name2 (each name_max bytes, NUL-terminated;
 * name2 empty when there is none). -1 when the key is too short or a name too long. */
int key_rollup_names(const uint8_t *key, size_t len, char *name, char *name2, size_t name_max);

/* The order index key of (shop, order id) into key (room for both and a NUL); its length. */
size_t key_order(uint8_t *key, const char *shop, const char *order_id);

#endif
