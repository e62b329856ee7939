/*
 * fuzz_import.c: the metrics CSV importer (attribution/import.c).
 *
 * Properties: any bytes give either rows or errors, never both lost: a file that imports
 * (return 0) has no errors and every row has a valid date and influencer id, NUL-terminated
 * fields within their arrays, a line number inside the file, and no two rows with the same
 * (date, influencer, campaign, link); a refused file (-1) has at least one error, each with
 * a line number no larger than the file's line count, the kept errors in line order.
 */
#include "tests/fuzz/fuzz.h"

#include "attribution/import.h"
#include "storage/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *buf = malloc(size ? size : 1);
    FUZZ_CHECK(buf != NULL);
    memcpy(buf, data, size);
    /* Lines end with LF, CRLF or a lone CR (old spreadsheets), as the importer counts them. */
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += buf[i] == '\n' || (buf[i] == '\r' && (i + 1 == size || buf[i + 1] != '\n'));
    import_result r;
    int rc = import_metrics(buf, size, &r);
    if (rc == 0) {
        FUZZ_CHECK(r.nerrors == 0);
        for (size_t i = 0; i < r.nrows; i++) {
            const rec_metric *m = &r.rows[i];
            FUZZ_CHECK(memchr(m->date, 0, sizeof m->date) && text_valid_date(m->date));
            FUZZ_CHECK(memchr(m->influencer, 0, sizeof m->influencer) &&
                       text_valid_id(m->influencer));
            FUZZ_CHECK(memchr(m->campaign, 0, sizeof m->campaign));
            FUZZ_CHECK(memchr(m->link, 0, sizeof m->link));
            FUZZ_CHECK(r.lines[i] >= 2 && r.lines[i] <= lines);
            for (size_t j = 0; j < i && j < 64; j++) /* a bounded look back */
                FUZZ_CHECK(strcmp(m->date, r.rows[j].date) ||
                           strcmp(m->influencer, r.rows[j].influencer) ||
                           strcmp(m->campaign, r.rows[j].campaign) ||
                           strcmp(m->link, r.rows[j].link));
        }
    } else {
        FUZZ_CHECK(rc == -1 && r.nerrors > 0);
        for (size_t i = 0; i < r.nerrors && i < IMPORT_MAX_ERRORS; i++) {
            FUZZ_CHECK(r.errors[i].line <= lines &&
                       memchr(r.errors[i].reason, 0, sizeof r.errors[i].reason));
            FUZZ_CHECK(i == 0 || r.errors[i - 1].line <= r.errors[i].line);
        }
    }
    import_free(&r);
    free(buf);
    return 0;
}
