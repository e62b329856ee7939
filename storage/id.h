/*
 * id.h: identifiers that must be unguessable: click ids, visitor ids, generated slugs,
 * shop secrets. Randomness comes from getrandom() only (xxHash is not a secure hash).
 *
 * Click ids are ULID-shaped: 48 bits of UTC milliseconds then 80 random bits, written in
 * Crockford base32 (26 characters, URL-safe), so that byte order, text order and time
 * order agree and the clicks table can be appended to.
 *
 * All functions write into caller-owned buffers.
 */
#ifndef JEJAK_ID_H
#define JEJAK_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { ID_CLICK_BYTES = 16, ID_CLICK_TEXT = 26, ID_VISITOR_BYTES = 16, ID_VISITOR_TEXT = 22 };

/* Fills buf with n bytes from getrandom(); aborts the process if the kernel refuses, since
 * no id may ever be predictable. Buffered per thread so the redirect makes no syscall per id. */
void id_random(void *buf, size_t n);

void id_click_new(uint8_t id[ID_CLICK_BYTES], int64_t ts_ms);
int64_t id_click_time(const uint8_t id[ID_CLICK_BYTES]);
/* out needs ID_CLICK_TEXT + 1 bytes. */
void id_click_format(const uint8_t id[ID_CLICK_BYTES], char *out);
/* Case-insensitive; accepts Crockford's aliases (O->0, I/L->1). 0 or -1. */
int id_click_parse(const char *text, uint8_t id[ID_CLICK_BYTES]);

void id_visitor_new(uint8_t id[ID_VISITOR_BYTES]);
/* base64url without padding; out needs ID_VISITOR_TEXT + 1 bytes. */
void id_visitor_format(const uint8_t id[ID_VISITOR_BYTES], char *out);
int id_visitor_parse(const char *text, uint8_t id[ID_VISITOR_BYTES]);

/* A short URL-safe slug of len characters from [a-z0-9] (no look-alikes 0/o, 1/l). */
void id_slug_new(char *out, size_t len);

/* Lowercase hex of n random bytes; out needs 2n + 1 bytes. */
void id_hex_new(char *out, size_t nbytes);
/* base64url of n random bytes; out needs 4*n/3 + 2 bytes. */
void id_token_new(char *out, size_t nbytes);

#endif
