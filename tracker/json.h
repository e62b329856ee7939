/*
 * json.h: a strict parser for the one JSON shape jejak accepts: a flat object whose values
 * are strings, numbers, booleans or null (a postback body). Nested values are refused.
 *
 * Strict on purpose: invalid UTF-8, lone surrogates, duplicate keys, trailing bytes and
 * control characters in strings are errors, so that what a shop signed is exactly what we
 * read. Decoded text goes into a caller-owned arena; fields point into it.
 */
#ifndef JEJAK_JSON_H
#define JEJAK_JSON_H

#include <stddef.h>

typedef enum { JSON_STRING, JSON_NUMBER, JSON_TRUE, JSON_FALSE, JSON_NULL } json_type;

typedef struct {
    const char *key;
    const char *value; /* decoded string, the number's text, "true", "false" or "" for null */
    json_type type;
} json_field;

enum { JSON_MAX_FIELDS = 64 };

/* Parses in[0..len). The arena needs len + 1 bytes at least. Returns the number of fields,
 * or -1 with a reason in err. */
int json_parse_flat(const char *in, size_t len, char *arena, size_t arena_len, json_field *fields,
                    int max_fields, char *err, size_t errlen);

#endif
