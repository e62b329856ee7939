/*
 * import.h: reading a metrics export (impressions, reach, engagements, followers) that a
 * marketer copied from Instagram or TikTok insights, as CSV (RFC 4180).
 *
 * The header names the columns, in any order and any case: date and influencer are
 * required; campaign, link, impressions, reach, engagements and followers are optional.
 * What spreadsheets write is read as they mean it: a UTF-8 byte-order mark, CRLF, ';'
 * between columns (detected from the header), empty trailing columns. Every bad row is
 * reported with its line number and reason, including a second row of one (date,
 * influencer, campaign, link), which names the first; the caller stores nothing unless
 * there are none. import_check_ids then checks the ids against the registry.
 *
 * Pure: parses a buffer; rows and errors go into caller-owned, caller-freed arrays.
 */
#ifndef JEJAK_IMPORT_H
#define JEJAK_IMPORT_H

#include <stddef.h>

#include "storage/record.h"

enum { IMPORT_MAX_ERRORS = 100, IMPORT_MAX_BYTES = 64 << 20 };

typedef struct {
    size_t line;
    char reason[256];
} import_error;

typedef struct {
    rec_metric *rows; /* malloc'd: import_free */
    size_t *lines;    /* the line each row came from */
    size_t nrows;
    import_error errors[IMPORT_MAX_ERRORS];
    size_t nerrors; /* errors found (only the first IMPORT_MAX_ERRORS are kept) */
} import_result;

/* Parses data[0..len). Returns 0 when the file is usable (nerrors == 0), -1 otherwise. */
int import_metrics(const char *data, size_t len, import_result *out);

/* What the registry knows, for import_check_ids: each lookup returns 0 when the id exists,
 * 1 when it does not, or a negative storage error. link() also fills in the link's
 * influencer and campaign (REC_ID bytes each). */
typedef struct {
    int (*influencer)(void *ctx, const char *id);
    int (*campaign)(void *ctx, const char *id);
    int (*link)(void *ctx, const char *slug, char *influencer, char *campaign);
    void *ctx;
} import_registry;

/* Checks every row of a parsed file against the registry: its influencer, campaign and link
 * exist, and a link belongs to the row's influencer and campaign (its impressions would
 * otherwise be credited to someone else). Replaces r's errors with one per bad row.
 * Returns 0 when every row is good, -1 when some are not, or a lookup's negative error. */
int import_check_ids(import_result *r, const import_registry *reg);
void import_free(import_result *r);

#endif
