/*
 * record.h: the stored records and their byte encodings.
 *
 * Every value in the store is a record encoded here, never a raw struct: a format byte
 * (the record's version), then its fields in a fixed order, integers big-endian, strings
 * as a 16-bit length and bytes. A decoder checks every length against the buffer and the
 * field's capacity, so that bytes from disk or a fuzzer can never read out of bounds;
 * it refuses versions it does not know rather than guess.
 *
 * Decoded strings are copied into the struct's own arrays: the caller owns the struct
 * and nothing in it points into the database.
 */
#ifndef JEJAK_RECORD_H
#define JEJAK_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    REC_ID = 65,         /* ids and slugs: 64 bytes + NUL */
    REC_NAME = 129,      /* display names, handles, platforms */
    REC_UTM = 129,       /* each utm_* value */
    REC_URL = 2049,      /* link destinations */
    REC_HOST = 256,      /* referrer host */
    REC_LANG = 36,       /* one BCP 47 tag */
    REC_MAX_BYTES = 8192 /* no encoded record is larger */
};

typedef struct {
    char id[REC_ID];
    char name[REC_NAME];
    char platform[REC_NAME];
    char handle[REC_NAME];
    uint64_t followers;
    int64_t created_ms;
} rec_influencer;

typedef struct {
    char id[REC_ID];
    char name[REC_NAME];
    char start[11]; /* "YYYY-MM-DD" or "" */
    char end[11];
    int64_t created_ms;
} rec_campaign;

typedef struct {
    char slug[REC_ID];
    char dest[REC_URL];
    char influencer[REC_ID];
    char campaign[REC_ID];
    char utm_source[REC_UTM];
    char utm_medium[REC_UTM];
    char utm_campaign[REC_UTM];
    char utm_content[REC_UTM];
    char utm_term[REC_UTM];
    int64_t created_ms;
} rec_link;

typedef enum {
    REC_DEVICE_UNKNOWN = 0,
    REC_DEVICE_DESKTOP,
    REC_DEVICE_MOBILE,
    REC_DEVICE_TABLET,
    REC_DEVICE_BOT
} rec_device;

enum { REC_CLICK_BOT = 1, REC_CLICK_UNIQUE = 2, REC_CLICK_HEAD = 4 };

typedef struct {
    uint8_t id[16];
    int64_t ts_ms;
    char link[REC_ID];
    uint8_t visitor[16];
    uint8_t ip_family; /* 0 none, 4, 6: anonymized before it gets here */
    uint8_t ip[16];
    uint8_t device; /* rec_device */
    uint8_t flags;  /* REC_CLICK_* */
    char referrer[REC_HOST];
    char lang[REC_LANG];
} rec_click;

/* Encoders return the encoded length, or 0 if out (at least REC_MAX_BYTES) is too small or a
 * string is longer than its field allows. Decoders return 0, or -1 on any malformed input. */
size_t rec_influencer_encode(const rec_influencer *r, uint8_t *out, size_t outlen);
int rec_influencer_decode(const uint8_t *in, size_t len, rec_influencer *r);
size_t rec_campaign_encode(const rec_campaign *r, uint8_t *out, size_t outlen);
int rec_campaign_decode(const uint8_t *in, size_t len, rec_campaign *r);
size_t rec_link_encode(const rec_link *r, uint8_t *out, size_t outlen);
int rec_link_decode(const uint8_t *in, size_t len, rec_link *r);
/* A click's key is its id; the value holds the rest. */
size_t rec_click_encode(const rec_click *r, uint8_t *out, size_t outlen);
int rec_click_decode(const uint8_t *key, size_t keylen, const uint8_t *in, size_t len,
                     rec_click *r);

const char *rec_device_name(uint8_t device); /* "desktop"... ; "" for unknown */

/* The low-level cursor, shared by every codec in storage/ (conversions, rollups...). */
typedef struct {
    uint8_t *p;
    size_t len, cap;
    bool bad;
} rec_writer;
typedef struct {
    const uint8_t *p;
    size_t len, off;
    bool bad;
} rec_reader;

void rec_put_u8(rec_writer *w, uint8_t v);
void rec_put_u32(rec_writer *w, uint32_t v);
void rec_put_u64(rec_writer *w, uint64_t v);
void rec_put_bytes(rec_writer *w, const void *b, size_t n);
void rec_put_str(rec_writer *w, const char *s, size_t cap); /* cap = the field's array size */
uint8_t rec_get_u8(rec_reader *r);
uint32_t rec_get_u32(rec_reader *r);
uint64_t rec_get_u64(rec_reader *r);
void rec_get_bytes(rec_reader *r, void *b, size_t n);
void rec_get_str(rec_reader *r, char *s, size_t cap);

#endif
