/*
 * route_report.c: GET /api/v1/report, the report API. Owns the bearer key (its SHA-256 is
 * looked up, never the key), the query's limits (no NUL, at most SRV_QUERY_MAX parameters:
 * refused, not cut short), the format, an influencer key's restriction to her own rows, and
 * the answer in JSON or CSV.
 *
 * May touch: the request, the API keys and config registry (read), the report
 * (attribution/report.c) in one read transaction, ended before the answer is formatted.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "attribution/report.h"
#include "storage/registry.h"
#include "tracker/srv_int.h"

/* The key of "Authorization: Bearer <key>": the scheme is case-insensitive (RFC 9110
 * 11.1) and followed by one or more spaces. NULL if it is missing or another scheme. */
static const char *bearer_key(const char *auth)
{
    if (!auth || strlen(auth) > 200 || strncasecmp(auth, "Bearer ", 7))
        return NULL;
    auth += 7;
    while (*auth == ' ')
        auth++;
    return *auth ? auth : NULL;
}

enum MHD_Result route_report(srv_request *r, const char *rest, unsigned method)
{
    (void)rest;
    (void)method;
    srv *d = r->d;
    const char *key_text =
        bearer_key(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization"));
    if (!key_text)
        return srv_error(r, 401, "authorization", "Authorization: Bearer <key> is required");
    /* Keys are stored as their SHA-256: the lookup compares hashes, never the key. */
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)key_text, strlen(key_text));
    srv_query q;
    srv_query_read(r, &q);
    if (q.has_nul)
        return srv_error(r, 400, q.nul_key ? q.nul_key : "",
                         "a query parameter contains a NUL byte (%00)");
    if (q.seen > SRV_QUERY_MAX) { /* refused, not cut short: a dropped filter would mislead */
        char msg[80];
        snprintf(msg, sizeof(msg), "too many query parameters (%zu; at most %d)", q.seen,
                 SRV_QUERY_MAX);
        return srv_error(r, 400, "query", msg);
    }
    report_param params[SRV_QUERY_MAX];
    const char *format = "json";
    for (size_t i = 0; i < q.n; i++) {
        params[i] = (report_param){q.p[i].key, q.p[i].value};
        if (!strcmp(q.p[i].key, "format"))
            format = q.p[i].value;
    }
    if (strcmp(format, "json") && strcmp(format, "csv"))
        return srv_error(r, 400, "format", "format must be json or csv");
    store_txn *t;
    if (store_read_begin(d->s, &t))
        return srv_error(r, 503, "", "storage unavailable; retry later");
    rec_apikey key;
    int rc = reg_get_apikey(t, h, &key);
    enum MHD_Result ret;
    char tz[65] = "UTC", field[32], why[200];
    report_query rq;
    report_result res;
    reg_get_config(t, "tz", tz, sizeof(tz)); /* the marketer's zone, if set */
    if (rc) {
        ret = srv_error(r, 401, "authorization", "unknown API key");
    } else if (report_query_parse(params, q.n, tz, text_now_ms(), &rq, field, sizeof(field), why,
                                  sizeof(why))) {
        ret = srv_error(r, 400, field, why);
    } else if (key.influencer[0] && rq.influencer[0] && strcmp(rq.influencer, key.influencer)) {
        ret = srv_error(r, 403, "influencer", "this key sees only its own influencer's rows");
    } else if ((rc = report_check_ids(t, &rq, field, sizeof(field), why, sizeof(why)))) {
        ret = rc == STORE_NOTFOUND ? srv_error(r, 400, field, why)
                                   : srv_error(r, 503, "", "storage unavailable; retry later");
    } else {
        if (key.influencer[0]) /* an influencer's key: her rows only */
            memcpy(rq.influencer, key.influencer, sizeof(rq.influencer));
        rc = report_run(t, &rq, &res);
        /* The result owns its data: end the read transaction (and release the resize lock)
         * before formatting and copying up to 256 MiB, so that commits never wait on it. */
        store_read_end(t);
        if (rc)
            return srv_error(r, 500, "", store_strerror(rc));
        text_buf b;
        text_buf_init(&b, (size_t)256 << 20);
        report_write(&rq, &res, format[0] == 'c' ? REPORT_CSV : REPORT_JSON, true, &b);
        report_free(&res);
        ret = b.failed ? MHD_NO
                       : srv_queue_text(r, MHD_HTTP_OK,
                                        format[0] == 'c' ? "text/csv; charset=utf-8"
                                                         : "application/json",
                                        b.ptr, b.len);
        text_buf_free(&b);
        return ret;
    }
    store_read_end(t);
    return ret;
}
