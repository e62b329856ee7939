/*
 * text.h: the text codecs every layer shares: a bounded string builder, JSON and CSV
 * escaping, identifier rules, and UTC time in both directions.
 *
 * Nothing here allocates except text_buf, whose memory the caller owns (text_buf_free).
 * Every text_buf has a hard cap set when it is created, so hostile input can never
 * grow memory without bound (the curl dynbuf rule).
 */
#ifndef JEJAK_TEXT_H
#define JEJAK_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *ptr;   /* NUL-terminated while ok */
    size_t len;  /* bytes used, excluding the NUL */
    size_t size; /* bytes allocated */
    size_t cap;  /* hard limit on len */
    bool failed; /* set once an append did not fit or malloc failed; later appends no-op */
} text_buf;

void text_buf_init(text_buf *b, size_t cap);
void text_buf_free(text_buf *b);
void text_buf_reset(text_buf *b);
bool text_append(text_buf *b, const char *s, size_t n);
bool text_puts(text_buf *b, const char *s);
bool text_printf(text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
bool text_json_str(text_buf *b, const char *s);
/* Appends s as a CSV text cell (RFC 4180: quoted when it holds a comma, semicolon, quote or
 * line break). Exports are opened in spreadsheets, which run a cell starting with '=', '+',
 * '-', '@', tab or CR as a formula (=HYPERLINK(...) in an order id, a referrer, a UTM
 * value): such a cell gets a leading "'" (OWASP's advice), which shows it as text. */
bool text_csv_field(text_buf *b, const char *s);
/* Appends s as a CSV number cell: as it is when it is a decimal number jejak wrote
 * (-1500, 0.25, 1e-05), so that a negative amount stays a number; anything else as a text
 * cell (text_csv_field). */
bool text_csv_number(text_buf *b, const char *s);

/* How a field is written: a string (a text cell in CSV), raw (a JSON number or boolean; a
 * number cell in CSV), a string that is null in JSON when empty (a text cell), or a number
 * that JSON carries as a string to keep it exact (money: "-1500.00"; a number cell). */
typedef enum { TEXT_STR, TEXT_RAW, TEXT_STR_OR_NULL, TEXT_NUM_STR } text_kind;
/* Appends one row of n fields: as CSV cells (comma-separated, no newline), or as the members
 * of a JSON object ("name":value, comma-separated, no braces). kinds may be NULL (all
 * strings). The exports share it, so a CSV and a JSON row never disagree, and every text
 * cell of a CSV row is neutralized while its numbers stay numbers. */
bool text_row(text_buf *b, bool csv, const char *const *names, const char *const *vals,
              const text_kind *kinds, size_t n);

/* Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF). */
bool text_valid_utf8(const char *s);
/* Free text a person typed (a name, a handle, a UTM value): 1 to max bytes of valid UTF-8
 * with no control characters. Every such input is checked with it before it is stored,
 * so that JSON carries only text. */
bool text_valid_text(const char *s, size_t max);

/* Identifiers of influencers, campaigns, shops and link slugs: 1-64 bytes of
 * [A-Za-z0-9_-], not starting with '-' or '_'. */
enum { TEXT_ID_MAX = 64 };
bool text_valid_id(const char *s);

/* Current UTC time in milliseconds. */
int64_t text_now_ms(void);
/* Formats UTC ms as "2026-11-20T10:00:00.123Z". out needs 25 bytes. */
void text_format_time(int64_t ms, char *out, size_t outlen);
/* Parses "2026-11-20", "2026-11-20T10:00:00Z", "...T10:00:00.123Z", "...+07:00" offsets,
 * or a bare integer of UTC milliseconds. 0 on success, -1 if malformed. */
int text_parse_time(const char *s, int64_t *ms);
/* The same for an instant from outside (a shop's occurred_at): a time without a zone, or a
 * bare date, would be a guess, so it is refused. 0; -1 if malformed; -2 if well-formed but
 * without 'Z', an offset or Unix ms (*ms then untouched). */
int text_parse_time_zoned(const char *s, int64_t *ms);
/* Parses exactly "YYYY-MM-DD" (a valid calendar date). */
bool text_valid_date(const char *s);
/* Days since 1970-01-01 for a proleptic Gregorian civil date, and back. */
int64_t text_days_from_civil(int64_t y, unsigned m, unsigned d);
void text_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
