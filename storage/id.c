/*
 * id.c: random identifiers. See id.h for the formats and why they look the way they do.
 */
#include "storage/id.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "storage/key.h"

static _Thread_local uint8_t pool[512];
static _Thread_local size_t pool_left;

static void fill(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            abort();
        }
        p += got;
        n -= (size_t)got;
    }
}

void id_random(void *buf, size_t n)
{
    if (n > sizeof(pool) / 2) {
        fill(buf, n);
        return;
    }
    if (pool_left < n) {
        fill(pool, sizeof(pool));
        pool_left = sizeof(pool);
    }
    /* Take from the end and wipe, so no byte is ever handed out twice. */
    memcpy(buf, pool + pool_left - n, n);
    memset(pool + pool_left - n, 0, n);
    pool_left -= n;
}

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void id_click_new(uint8_t id[ID_CLICK_BYTES], int64_t ts_ms)
{
    key_put_u48(id, (uint64_t)ts_ms);
    id_random(id + 6, ID_CLICK_BYTES - 6);
}

int64_t id_click_time(const uint8_t id[ID_CLICK_BYTES])
{
    return key_click_time(id);
}

/* 128 bits as 26 base32 digits: the first digit carries the top 3 bits (ULID layout). */
void id_click_format(const uint8_t id[ID_CLICK_BYTES], char *out)
{
    unsigned bit = 0; /* bit position in the 130-bit zero-padded number */
    for (int i = 0; i < ID_CLICK_TEXT; i++, bit += 5) {
        unsigned v = 0;
        for (int k = 0; k < 5; k++) {
            int b = (int)(bit + (unsigned)k) - 2; /* two leading pad bits */
            unsigned x = b < 0 ? 0 : (id[b / 8] >> (7 - b % 8)) & 1;
            v = v << 1 | x;
        }
        out[i] = crockford[v];
    }
    out[ID_CLICK_TEXT] = '\0';
}

static int crockford_value(char c)
{
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    if (c == 'O')
        c = '0';
    if (c == 'I' || c == 'L')
        c = '1';
    const char *p = c ? strchr(crockford, c) : NULL;
    return p ? (int)(p - crockford) : -1;
}

int id_click_parse(const char *text, uint8_t id[ID_CLICK_BYTES])
{
    if (strlen(text) != ID_CLICK_TEXT)
        return -1;
    memset(id, 0, ID_CLICK_BYTES);
    for (int i = 0; i < ID_CLICK_TEXT; i++) {
        int v = crockford_value(text[i]);
        if (v < 0 || (i == 0 && v > 7))
            return -1;
        for (int k = 0; k < 5; k++) {
            int b = i * 5 + k - 2;
            if (b >= 0 && (v >> (4 - k) & 1))
                id[b / 8] |= (uint8_t)(1u << (7 - b % 8));
        }
    }
    return 0;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = acc << 8 | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = b64url[(acc >> bits) & 63];
        }
    }
    if (bits > 0)
        out[o++] = b64url[(acc << (6 - bits)) & 63];
    out[o] = '\0';
}

void id_visitor_new(uint8_t id[ID_VISITOR_BYTES])
{
    id_random(id, ID_VISITOR_BYTES);
}

void id_visitor_format(const uint8_t id[ID_VISITOR_BYTES], char *out)
{
    b64_encode(id, ID_VISITOR_BYTES, out);
}

int id_visitor_parse(const char *text, uint8_t id[ID_VISITOR_BYTES])
{
    if (strlen(text) != ID_VISITOR_TEXT)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (int i = 0; i < ID_VISITOR_TEXT; i++) {
        const char *p = strchr(b64url, text[i]);
        if (!text[i] || !p)
            return -1;
        acc = acc << 6 | (uint32_t)(p - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            id[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* 22 digits carry 132 bits: the 4 spare bits must be zero for one canonical form. */
    return (acc & ((1u << bits) - 1)) == 0 ? 0 : -1;
}

void id_slug_new(char *out, size_t len)
{
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789"; /* 32: no 0 o 1 l */
    uint8_t r[64];
    if (len > sizeof(r))
        len = sizeof(r);
    id_random(r, len);
    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[r[i] & 31];
    out[len] = '\0';
}

void id_hex_new(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t r[64];
    if (nbytes > sizeof(r))
        nbytes = sizeof(r);
    id_random(r, nbytes);
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[2 * nbytes] = '\0';
}

void id_token_new(char *out, size_t nbytes)
{
    uint8_t r[64];
    if (nbytes > sizeof(r))
        nbytes = sizeof(r);
    id_random(r, nbytes);
    b64_encode(r, nbytes, out);
}
