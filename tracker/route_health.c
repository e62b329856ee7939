/*
 * route_health.c: GET|HEAD /healthz and /metrics. Owns the health check (healthy means the
 * store answers a read, not only that HTTP is up) and the Prometheus text of every counter
 * the other rooms keep, the writer's commits, the map size and the latency histogram.
 *
 * May touch: srv's counters (read only), the writer's stats, the store's map size.
 */
#include "tracker/srv_int.h"

enum MHD_Result route_healthz(srv_request *r, const char *rest, unsigned method)
{
    (void)rest;
    (void)method;
    store_txn *t;
    if (store_read_begin(r->d->s, &t))
        return srv_queue_fixed(r, MHD_HTTP_SERVICE_UNAVAILABLE, r->d->fixed[FIX_UNHEALTHY]);
    store_read_end(t);
    return srv_queue_fixed(r, MHD_HTTP_OK, r->d->fixed[FIX_HEALTHY]);
}

enum MHD_Result route_metrics(srv_request *r, const char *rest, unsigned method)
{
    (void)rest;
    (void)method;
    srv *d = r->d;
    text_buf b;
    text_buf_init(&b, 1 << 16);
#define COUNTER(name, help, v)                                                                     \
    text_printf(&b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,          \
                (unsigned long long)atomic_load(&(v)))
    COUNTER("jejak_clicks_total", "Clicks stored, bots excluded.", d->clicks);
    COUNTER("jejak_unique_clicks_total",
            "First clicks of a visitor on a link in a day of the store's zone (config tz).",
            d->unique_clicks);
    COUNTER("jejak_bot_clicks_total",
            "Clicks from bots and link-preview fetchers (stored, not "
            "counted).",
            d->bot_clicks);
    COUNTER("jejak_prefetch_clicks_total",
            "Prefetches and link previews (Sec-Purpose, Purpose, X-Purpose, X-Moz): stored "
            "as bot clicks, not counted.",
            d->prefetch_clicks);
    COUNTER("jejak_suspicious_clicks_total",
            "Clicks past --flood-limit from one address and User-Agent on one link (stored, "
            "not counted).",
            d->suspicious_clicks);
    COUNTER("jejak_excluded_clicks_total", "Clicks from --exclude-ip ranges (not stored).",
            d->excluded);
    COUNTER("jejak_unknown_slugs_total", "Requests for a slug that is not a link.",
            d->unknown_slugs);
    COUNTER("jejak_storage_errors_total", "Clicks that could not be stored (visitor redirected).",
            d->storage_errors);
    text_puts(&b, "# HELP jejak_postbacks_total Postbacks accepted, by outcome.\n"
                  "# TYPE jejak_postbacks_total counter\n");
    static const char *const outcome[] = {"recorded", "duplicate", "updated"};
    for (int i = 0; i < 3; i++)
        text_printf(&b, "jejak_postbacks_total{outcome=\"%s\"} %llu\n", outcome[i],
                    (unsigned long long)atomic_load(&d->postbacks[i]));
    COUNTER("jejak_postbacks_unattributed_total", "Conversions stored without a click or coupon.",
            d->postbacks_unattributed);
    COUNTER("jejak_postbacks_refused_total", "Postbacks refused (4xx).", d->postbacks_refused);
    COUNTER("jejak_postback_storage_errors_total", "Postbacks answered 503 (not stored).",
            d->postback_storage_errors);
#undef COUNTER
    writer_stats ws;
    writer_get_stats(d->w, &ws);
    text_printf(&b,
                "# HELP jejak_commits_total Write transactions committed.\n"
                "# TYPE jejak_commits_total counter\njejak_commits_total %llu\n",
                (unsigned long long)ws.commits);
    text_printf(&b,
                "# HELP jejak_map_size_bytes Size of the LMDB map.\n"
                "# TYPE jejak_map_size_bytes gauge\njejak_map_size_bytes %zu\n",
                store_map_size(d->s));
    text_puts(&b, "# HELP jejak_request_duration_seconds Time from request to response.\n"
                  "# TYPE jejak_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i <= SRV_BUCKETS; i++) {
        cum += atomic_load(&d->lat_bucket[i]);
        if (i < SRV_BUCKETS)
            text_printf(&b, "jejak_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                        (double)srv_bucket_us[i] / 1e6, (unsigned long long)cum);
        else
            text_printf(&b, "jejak_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                        (unsigned long long)cum);
    }
    text_printf(&b, "jejak_request_duration_seconds_sum %.6f\n",
                (double)atomic_load(&d->lat_sum_us) / 1e6);
    text_printf(&b, "jejak_request_duration_seconds_count %llu\n",
                (unsigned long long)atomic_load(&d->lat_count));
    enum MHD_Result ret =
        b.failed ? MHD_NO
                 : srv_queue_text(r, MHD_HTTP_OK, "text/plain; version=0.0.4", b.ptr, b.len);
    text_buf_free(&b);
    return ret;
}
