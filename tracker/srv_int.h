/*
 * srv_int.h: what the rooms of the daemon share; included by them only (tracker/server.h is
 * the daemon's API). The rooms, each opening with what it owns and what it may touch:
 *
 *   daemon.c          srv_start, srv_stop: libmicrohttpd's options, the writer's hooks, the
 *                     stop sequence
 *   request.c         the request: its per-thread pool, its answers (queueing, the fixed
 *                     responses, the one JSON error writer), latency, the hand-off to the
 *                     writer and the resume after its commit
 *   sweeper.c         the slow-client sweeper: one deadline per request, headers and body
 *   dispatch.c        the access handler: first-call refusals (framing, sizes), the route
 *                     table, 404 and the 405s with Allow
 *   route_click.c     GET|HEAD /l/{slug}: the redirect
 *   route_postback.c  GET|POST /postback: conversions from shops
 *   route_report.c    GET /api/v1/report
 *   route_health.c    GET|HEAD /healthz and /metrics
 *
 * A new route is one row in dispatch.c's table plus its own file. A route touches its request,
 * its own counters in srv, and the store through read transactions or a writer job.
 */
#ifndef JEJAK_SRV_INT_H
#define JEJAK_SRV_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attribution/ledger.h"
#include "storage/clicks.h"
#include "storage/id.h"
#include "storage/text.h"
#include "storage/writer.h"
#include "tracker/postback.h"
#include "tracker/server.h"
#include "tracker/url.h"

/* SRV_QUERY_MAX: query parameters kept (a click forwards them; the report API refuses more).
 * SRV_DISCARD_MAX: body bytes read and dropped before the connection is simply closed. */
enum {
    SRV_QUERY_MAX = 64,
    SRV_LOCATION_BUF = 8192,
    SRV_BUCKETS = 12,
    SRV_DISCARD_MAX = 16 << 20,
    SRV_ROUTES_MAX = 16
};

/* Caps on a request, set once: its target (path and query), its query parameters, and its
 * header lines, answered 414, 414 and 431 (dispatch.c). libmicrohttpd keeps the request line,
 * the headers and one record per header line, cookie and query parameter in one pool per
 * connection; past the pool it closes the connection with no answer at all, which its
 * 32 KiB default did at about 450 parameters (a 3.4 KB URL). It also clears the whole pool
 * for every request, so the pool's size is paid on every redirect (256 KiB cost a third of the
 * redirect rate: tools/bench-redirect.sh). 48 KiB holds about 700 "name=value" records:
 * every request within the parameter cap, and somewhat past it, reaches the handler and
 * gets its answer; only more (a thousand parameters and up) can still exhaust it. */
enum {
    SRV_TARGET_MAX = 8192,
    SRV_PARAMS_MAX = 512,
    SRV_HEADERS_MAX = 16384,
    SRV_CONN_POOL_BYTES = 48 * 1024
};

/* The answers that never change, built once (request.c). Each exists twice: [0] as is, [1]
 * with "Connection: close" for the time the daemon is stopping (a shared response cannot be
 * changed while other threads queue it). */
typedef enum { FIX_NOT_FOUND_LINK, FIX_NOT_FOUND, FIX_HEALTHY, FIX_UNHEALTHY, FIX_COUNT } srv_fixed;

/* Latency buckets in microseconds, exported in seconds (request.c measures, metrics shows). */
extern const uint64_t srv_bucket_us[SRV_BUCKETS];

typedef struct srv_conn srv_conn; /* sweeper.c */

struct srv {
    struct MHD_Daemon *mhd;
    store *s;
    writer *w;
    clicks *clk; /* the writer thread's */
    srv_config cfg;
    struct MHD_Response *fixed[FIX_COUNT][2];
    struct MHD_Response *not_allowed[SRV_ROUTES_MAX][2]; /* a 405 per route (dispatch.c) */
    atomic_bool stopping;          /* srv_stop has begun: close after each answer, no suspend */
    atomic_uint_fast64_t inflight; /* requests handed to the writer and not yet answered */
    pthread_mutex_t sync_lock;     /* while stopping: a request waiting for its commit */
    pthread_cond_t sync_done;
    atomic_uint_fast64_t requests, lat_bucket[SRV_BUCKETS + 1], lat_sum_us, lat_count;
    /* route_click.c */
    atomic_uint_fast64_t clicks, bot_clicks, suspicious_clicks, unique_clicks, excluded,
        unknown_slugs, storage_errors, prefetch_clicks;
    atomic_int_fast64_t last_error_log_s;
    uint8_t source_key[crypto_shorthash_KEYBYTES]; /* made at start, never stored */
    /* route_postback.c */
    atomic_uint_fast64_t postbacks[3], postbacks_unattributed, postbacks_refused,
        postback_storage_errors;
    ledger_config ledger;
    /* sweeper.c */
    pthread_mutex_t track_lock; /* guards tracked and sweeper_stop */
    pthread_cond_t sweeper_wake;
    srv_conn *tracked;
    bool sweeper_stop;
    pthread_t sweeper;
    atomic_uint_fast64_t slow_closed;
};

typedef enum { REQ_NEW, REQ_WAITING, REQ_COMMITTED } srv_req_state;

/* Methods as route table bits; any other method is 0 and matches no route's. */
enum { SRV_GET = 1u, SRV_HEAD = 2u, SRV_POST = 4u };

typedef struct srv_request srv_request;
typedef struct srv_route srv_route;
typedef enum MHD_Result (*srv_answer)(srv_request *r);

struct srv_request {
    writer_job job; /* first: the writer hands it back to its done() */
    srv *d;
    struct MHD_Connection *conn;
    srv_request *next_free;
    const srv_route *route; /* NULL: no route has the path (404) */
    srv_answer answer;      /* what answers once the writer has committed */
    srv_req_state state;
    int rc;
    uint64_t t0_us;
    bool decided;    /* the click's unique flag is settled */
    uint64_t source; /* keyed hash of the full address and User-Agent (route_click.c) */
    bool sync;     /* stopping: the handler waits for the commit, the connection is not suspended */
    bool inflight; /* counted in srv.inflight: from the hand-off until answered or gone */
    const char *refusal, *refusal_field; /* a framing refusal to answer (static text) */
    unsigned refusal_status;
    char *body; /* postback body, at most PB_BODY_MAX bytes; owned */
    size_t body_len;
    bool body_too_large;
    uint64_t body_seen; /* bytes received, kept or dropped */
    /* Not cleared for a new request: each route fills what it reads. */
    pb_input pb;
    ledger_result result;
    char visitor_text[ID_VISITOR_TEXT + 1];
    rec_click click;
    rec_link link;
    char location[SRV_LOCATION_BUF];
};

/* A row of the route table (dispatch.c). */
struct srv_route {
    const char *path; /* the whole path, or its beginning when prefix */
    size_t len;       /* strlen(path) */
    bool prefix;
    unsigned methods;      /* SRV_* bits answered; any other method gets a 405 with Allow */
    unsigned body_methods; /* methods whose body goes to body(); any other body is dropped */
    /* The request, what follows path (a prefix route's rest; "" for a whole path), the method. */
    enum MHD_Result (*handle)(srv_request *r, const char *rest, unsigned method);
    enum MHD_Result (*body)(srv_request *r, const char *data, size_t *size);
    /* On the first call, when the request gives a Content-Length: MHD_YES to go on, or the
     * answer of an early refusal (which closes the connection). */
    enum MHD_Result (*announced)(srv_request *r, uint64_t length);
};

/* ---- request.c ---- */
uint64_t srv_now_us(void);
/* A request from this thread's pool; freed by srv_on_completed on the same thread. */
srv_request *srv_request_new(void);
/* Ends r's count in srv.inflight, once: when it is answered, or its client has gone. */
void srv_settle(srv_request *r);
void srv_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe);
/* A response made for this request only; the caller destroys it after. */
enum MHD_Result srv_queue(srv_request *r, unsigned status, struct MHD_Response *resp);
/* One of a pair of shared responses ([1]: with Connection: close, used while stopping). */
enum MHD_Result srv_queue_fixed(srv_request *r, unsigned status,
                                struct MHD_Response *const pair[2]);
enum MHD_Result srv_queue_text(srv_request *r, unsigned status, const char *type, const char *body,
                               size_t len);
/* Queues b's text as JSON and frees b (a failed buffer answers nothing: MHD_NO). */
enum MHD_Result srv_queue_json(srv_request *r, unsigned status, text_buf *b);
/* The one JSON error of every route: {"error":msg,"field":field} (no field when ""), msg
 * cut at 199 bytes and field at 23, as a pb_error holds them. */
enum MHD_Result srv_error(srv_request *r, unsigned status, const char *field, const char *msg);
/* A persistent response with Content-Type and Cache-Control: no-store; NULL when out of
 * memory. body must outlive the response. */
struct MHD_Response *srv_static_response(const char *type, const char *body, bool close);
bool srv_responses_make(srv *d);
void srv_responses_destroy(srv *d);
/* Hands r to the writer with its job's apply and done; answer queues the reply once done()
 * has called srv_committed. */
enum MHD_Result srv_hand_to_writer(srv_request *r, int (*apply)(store_txn *, writer_job *),
                                   void (*done)(writer_job *, int), srv_answer answer);
/* The writer has committed r's transaction: wake whoever waits for it. */
void srv_committed(srv_request *r);

/* The query as libmicrohttpd decoded it: the first SRV_QUERY_MAX named parameters. A key or
 * value that held a NUL (%00) marks the whole query (has_nul): it must not be read as what
 * comes before the NUL. */
typedef struct {
    url_param p[SRV_QUERY_MAX];
    size_t n;
    size_t seen; /* named parameters in the query, kept or not (past SRV_QUERY_MAX) */
    bool has_nul;
    const char *nul_key; /* the first key whose value held a NUL; NULL if the key did */
} srv_query;
void srv_query_read(srv_request *r, srv_query *q);

/* ---- sweeper.c ---- */
void srv_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode toe);
/* waiting: the connection awaits (the rest of) a request, its deadline runs; else it ends. */
void srv_track_waiting(struct MHD_Connection *conn, bool waiting);
int srv_sweeper_start(srv *d);
void srv_sweeper_stop(srv *d);

/* ---- dispatch.c ---- */
enum MHD_Result srv_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls);
size_t srv_unescape(void *cls, struct MHD_Connection *conn, char *s);
/* The routes' 405 responses (d->not_allowed); false when one is missing. */
bool srv_routes_make(srv *d);
void srv_routes_destroy(srv *d);

/* ---- the routes ---- */
enum MHD_Result route_click(srv_request *r, const char *slug, unsigned method);
enum MHD_Result route_postback(srv_request *r, const char *rest, unsigned method);
enum MHD_Result route_postback_body(srv_request *r, const char *data, size_t *size);
enum MHD_Result route_postback_announced(srv_request *r, uint64_t length);
enum MHD_Result route_report(srv_request *r, const char *rest, unsigned method);
enum MHD_Result route_healthz(srv_request *r, const char *rest, unsigned method);
enum MHD_Result route_metrics(srv_request *r, const char *rest, unsigned method);

#endif
