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

/* HEAD and PREFETCH (a prefetch, prerender or link preview: tracker/headers.h) always come
 * with BOT: every count, unique set, journey and report leaves BOT clicks out, so they say
 * only why. */
enum {
    REC_CLICK_BOT = 1,
    REC_CLICK_UNIQUE = 2,
    REC_CLICK_HEAD = 4,
    REC_CLICK_SUSPICIOUS = 8,
    REC_CLICK_PREFETCH = 16
};

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

typedef struct {
    char id[REC_ID];
    char secret[65];        /* 64 hex digits: the HMAC key, as printed once */
    uint8_t token_hash[32]; /* SHA-256 of the URL token: the token itself is never stored */
    int64_t created_ms;
} rec_shop;

typedef struct {
    char code[REC_ID]; /* uppercased: codes match case-insensitively */
    char influencer[REC_ID];
    char campaign[REC_ID];
    int64_t created_ms;
} rec_coupon;

typedef enum {
    REC_EVENT_PURCHASE,
    REC_EVENT_LEAD,
    REC_EVENT_SIGNUP,
    REC_EVENT_INSTALL,
    REC_EVENT_COUNT
} rec_event;
typedef enum {
    REC_STATUS_APPROVED,
    REC_STATUS_PENDING,
    REC_STATUS_DECLINED,
    REC_STATUS_REFUNDED,
    REC_STATUS_COUNT
} rec_status;
typedef enum { REC_VIA_NONE, REC_VIA_CLICK, REC_VIA_COUPON } rec_via;

enum { REC_MODELS = 5, REC_MAX_CREDITS = 256, REC_ORDER = 129, REC_CLICK_TEXT = 65 };

/* One line of a conversion's credit under one model: who earned which part. */
typedef struct {
    char link[REC_ID]; /* "" for a coupon credit */
    char influencer[REC_ID];
    char campaign[REC_ID];
    int64_t share;  /* parts of 1e9 (MODEL_SHARE_ONE) of one conversion */
    int64_t amount; /* minor units */
} rec_credit;

typedef struct {
    uint8_t id[16]; /* time-ordered like a click id: the key */
    char shop[REC_ID];
    char order_id[REC_ORDER];
    uint8_t event;  /* rec_event */
    uint8_t status; /* rec_status */
    uint8_t via;    /* rec_via */
    int64_t amount; /* minor units of currency */
    char currency[4];
    char click_id[REC_CLICK_TEXT]; /* as the shop sent it */
    char coupon[REC_ID];
    int64_t ts_ms;      /* when it happened (occurred_at) */
    int64_t created_ms; /* when jejak first recorded it */
    int64_t updated_ms; /* last status change */
    uint16_t ncredits[REC_MODELS];
    rec_credit *credits[REC_MODELS]; /* owned: rec_conversion_free */
} rec_conversion;

/* Imported platform metrics for one (date, influencer, campaign, link): what a redirect
 * tracker cannot see. A field that was not in the import is marked absent, not zero. */
enum { REC_HAS_IMPRESSIONS = 1, REC_HAS_REACH = 2, REC_HAS_ENGAGEMENTS = 4, REC_HAS_FOLLOWERS = 8 };
typedef struct {
    char date[11]; /* YYYY-MM-DD in the marketer's zone */
    char influencer[REC_ID];
    char campaign[REC_ID]; /* "" = the influencer overall */
    char link[REC_ID];     /* "" = not tied to one link */
    uint8_t has;
    uint64_t impressions, reach, engagements, followers;
} rec_metric;

/* A flat fee paid to an influencer (for a campaign, or overall). */
typedef struct {
    uint8_t id[16];
    char influencer[REC_ID];
    char campaign[REC_ID];
    char date[11];
    int64_t amount; /* minor units */
    char currency[4];
} rec_cost;

/* A pay model on top of flat fees: cost follows from the period's clicks or conversions. */
typedef enum { REC_PAY_CPC, REC_PAY_CPA, REC_PAY_REVSHARE } rec_pay;
typedef struct {
    char influencer[REC_ID];
    char campaign[REC_ID]; /* "" = every campaign */
    uint8_t kind;          /* rec_pay */
    int64_t price;         /* cpc/cpa: minor units per click/conversion */
    char currency[4];      /* cpc/cpa */
    int64_t basis_points;  /* revshare: 10% = 1000 */
} rec_paymodel;

/* An API key, stored as the SHA-256 of the key (the key itself is shown once). */
typedef struct {
    uint8_t hash[32];
    char influencer[REC_ID]; /* "" = admin: every row */
    int64_t created_ms;
} rec_apikey;

const char *rec_event_name(uint8_t e);
const char *rec_status_name(uint8_t s);
int rec_event_parse(const char *s);  /* -1 if unknown */
int rec_status_parse(const char *s); /* -1 if unknown */

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

size_t rec_shop_encode(const rec_shop *r, uint8_t *out, size_t outlen);
int rec_shop_decode(const uint8_t *in, size_t len, rec_shop *r);
size_t rec_coupon_encode(const rec_coupon *r, uint8_t *out, size_t outlen);
int rec_coupon_decode(const uint8_t *in, size_t len, rec_coupon *r);
/* A conversion is larger than REC_MAX_BYTES when many links share the credit: its encoder
 * allocates. Returns a buffer the caller frees (and its length), or NULL. The decoder
 * allocates the credit arrays; free them with rec_conversion_free (also after a failed
 * decode). */
uint8_t *rec_conversion_encode(const rec_conversion *r, size_t *len);
int rec_conversion_decode(const uint8_t *key, size_t keylen, const uint8_t *in, size_t len,
                          rec_conversion *r);
void rec_conversion_free(rec_conversion *r);

size_t rec_metric_encode(const rec_metric *r, uint8_t *out, size_t outlen);
int rec_metric_decode(const uint8_t *in, size_t len, rec_metric *r);
size_t rec_cost_encode(const rec_cost *r, uint8_t *out, size_t outlen);
int rec_cost_decode(const uint8_t *in, size_t len, rec_cost *r);
size_t rec_paymodel_encode(const rec_paymodel *r, uint8_t *out, size_t outlen);
int rec_paymodel_decode(const uint8_t *in, size_t len, rec_paymodel *r);
size_t rec_apikey_encode(const rec_apikey *r, uint8_t *out, size_t outlen);
int rec_apikey_decode(const uint8_t *in, size_t len, rec_apikey *r);

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
void rec_put_u16(rec_writer *w, uint16_t v);
void rec_put_u32(rec_writer *w, uint32_t v);
void rec_put_u64(rec_writer *w, uint64_t v);
void rec_put_bytes(rec_writer *w, const void *b, size_t n);
void rec_put_str(rec_writer *w, const char *s, size_t cap); /* cap = the field's array size */
uint8_t rec_get_u8(rec_reader *r);
uint16_t rec_get_u16(rec_reader *r);
uint32_t rec_get_u32(rec_reader *r);
uint64_t rec_get_u64(rec_reader *r);
void rec_get_bytes(rec_reader *r, void *b, size_t n);
void rec_get_str(rec_reader *r, char *s, size_t cap);

#endif
