/*
 * postback.h: what a shop's conversion callback says, read from either form:
 *   POST /postback   a JSON body signed with X-Jejak-Signature: t=<unix s>,v1=<hex HMAC>
 *   GET  /postback?shop=..&token=..   affiliate-network style, authenticated by a token
 * and checked field by field. Every refusal names the field and the reason, so a shop's
 * developer can fix their integration from the response alone.
 *
 * No I/O and no allocation: callers own every struct.
 */
#ifndef JEJAK_POSTBACK_H
#define JEJAK_POSTBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/record.h"
#include "tracker/url.h"

enum { PB_BODY_MAX = 65536, PB_SKEW_S = 300, PB_TOKEN_MAX = 128, PB_SIG_MAX = 8 };

typedef struct {
    unsigned status; /* HTTP status: 400, 401, 413 ... */
    char error[200];
    char field[24]; /* "" when no single field is to blame */
} pb_error;

/* A validated postback; conv is filled except id, credits and the times jejak sets. */
typedef struct {
    rec_conversion conv;
    bool has_occurred; /* occurred_at was given (else conv.ts_ms = now) */
    bool has_status;   /* status was given (else conv.status = approved, which a
                          repeat of a stored order must not apply) */
    bool has_amount, has_currency;
    char token[PB_TOKEN_MAX + 1]; /* GET form only */
} pb_input;

/* Reads the fields of a parsed JSON body (POST) or query (GET: aliases accepted, token
 * required). now_ms fills occurred_at's default. 0, or -1 with err. */
int pb_from_pairs(const url_param *kv, size_t n, bool query, int64_t now_ms, pb_input *in,
                  pb_error *err);
/* Parses the JSON body and reads its fields. */
int pb_from_json(const char *body, size_t len, int64_t now_ms, pb_input *in, pb_error *err);

/* Checks X-Jejak-Signature against HMAC-SHA256(secret, "<t>.<body>"), t's text as sent,
 * constant time, with |now - t| <= PB_SKEW_S. The header is t=<digits> once and v1=<64 hex>
 * one to PB_SIG_MAX times, comma-separated (spaces after a comma allowed); any other part is
 * refused, never skipped. 0, or -1 with a 401 err. */
int pb_check_signature(const char *header, const char *body, size_t len, const char *secret,
                       int64_t now_s, pb_error *err);
/* Lowercase hex HMAC-SHA256 of msg under key; out needs 65 bytes. */
void pb_hmac_hex(const char *key, size_t keylen, const void *msg, size_t len, char *out);

#endif
