/*
 * fuzz.h: the few helpers the libFuzzer harnesses share (tests/fuzz/fuzz_*.c).
 *
 * A harness checks properties, not just survival: FUZZ_CHECK aborts with the failed
 * condition, which libFuzzer reports as a crash and saves as a reproducer. Inputs are
 * copied into exact-size heap buffers so that AddressSanitizer sees any read past the end.
 */
#ifndef JEJAK_FUZZ_H
#define JEJAK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A NUL-terminated heap copy of data[0..n) (cut at its first NUL, as a C caller would see). */
static inline char *fuzz_strndup(const uint8_t *data, size_t n)
{
    size_t len = 0;
    while (len < n && data[len] != 0)
        len++;
    char *s = malloc(len + 1);
    if (s == NULL)
        abort();
    memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

/* An exact-size heap copy of data[0..n) (at least 1 byte allocated). */
static inline uint8_t *fuzz_dup(const uint8_t *data, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    if (p == NULL)
        abort();
    if (n)
        memcpy(p, data, n);
    return p;
}

/* Whether s[0..cap) holds a NUL: a string that stays inside its array. */
static inline int fuzz_terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

/* Splits [*p, end) at the next sep: returns the piece and moves *p past the separator. */
static inline const uint8_t *fuzz_next(const uint8_t **p, const uint8_t *end, uint8_t sep,
                                       size_t *n)
{
    const uint8_t *start = *p;
    const uint8_t *q = start < end ? memchr(start, sep, (size_t)(end - start)) : NULL;
    *n = (size_t)((q ? q : end) - start);
    *p = q ? q + 1 : end;
    return start;
}

#endif
