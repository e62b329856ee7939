/*
 * request.c: the request and its answers. Owns the per-thread pool of requests, every way
 * an answer is queued (made for one request, or one of the fixed responses built at start),
 * the one JSON error writer all routes use, the latency histogram, the query reader, and the
 * hand-off to the writer with the resume after its commit.
 *
 * May touch: libmicrohttpd's connection and response calls, the writer's submit, the
 * sweeper's deadline (srv_track_waiting). Knows no route.
 *
 * Every answer goes through queue_shared: the request is received, its deadline ends, its
 * latency is counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tracker/srv_int.h"

const uint64_t srv_bucket_us[SRV_BUCKETS] = {50,   100,   250,   500,    1000,   2500,
                                             5000, 10000, 25000, 100000, 500000, 1000000};

uint64_t srv_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- the pool ---------------------------------------------------------------------
 *
 * Requests are big (a link, a click, a Location) and many: each HTTP thread keeps a few
 * for reuse instead of going to malloc for every click. A request is allocated and freed
 * on the thread that serves its connection. */
enum { POOL_MAX = 256 };
static _Thread_local srv_request *pool;
static _Thread_local unsigned pool_len;
static pthread_key_t pool_key; /* its destructor empties a thread's pool when it exits */
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_drain(void *unused)
{
    (void)unused;
    while (pool) {
        srv_request *r = pool;
        pool = r->next_free;
        free(r);
    }
    pool_len = 0;
}

static void pool_init(void)
{
    pthread_key_create(&pool_key, pool_drain);
}

srv_request *srv_request_new(void)
{
    srv_request *r = pool;
    if (r) {
        pool = r->next_free;
        pool_len--;
    } else {
        /* Only a thread that allocates can end up holding a pool: arm its destructor then,
         * not on every request. */
        pthread_once(&pool_once, pool_init);
        pthread_setspecific(pool_key, &pool_once); /* any non-NULL value arms it */
        if (!(r = malloc(sizeof(*r))))
            return NULL;
    }
    memset(r, 0, offsetof(srv_request, pb));
    memset(&r->click, 0, sizeof(r->click));
    return r;
}

static void request_free(srv_request *r)
{
    free(r->body);
    r->body = NULL;
    if (pool_len < POOL_MAX) {
        r->next_free = pool;
        pool = r;
        pool_len++;
    } else {
        free(r);
    }
}

/* The request handed to the writer is no longer in flight: answered, or its client gone. */
void srv_settle(srv_request *r)
{
    if (r->inflight) {
        r->inflight = false;
        atomic_fetch_sub(&r->d->inflight, 1);
    }
}

void srv_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)toe;
    /* A client that left while its request waited for the writer gets no answer: the
     * handler is not called again, so the request settles here (or srv_stop waits on). */
    if (*con_cls) {
        srv_settle(*con_cls);
        request_free(*con_cls);
    }
    *con_cls = NULL;
    srv_track_waiting(conn, true); /* kept alive: the next request's headers are awaited */
}

/* ---- answers ---------------------------------------------------------------------- */

static void observe_latency(srv *d, uint64_t t0)
{
    uint64_t us = srv_now_us() - t0;
    int b = 0;
    while (b < SRV_BUCKETS && us > srv_bucket_us[b])
        b++;
    atomic_fetch_add_explicit(&d->lat_bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&d->lat_sum_us, us, memory_order_relaxed);
    atomic_fetch_add_explicit(&d->lat_count, 1, memory_order_relaxed);
}

static enum MHD_Result queue_shared(srv_request *r, unsigned status, struct MHD_Response *resp)
{
    srv_track_waiting(r->conn, false);
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    observe_latency(r->d, r->t0_us);
    return ret;
}

enum MHD_Result srv_queue(srv_request *r, unsigned status, struct MHD_Response *resp)
{
    if (atomic_load(&r->d->stopping) || r->refusal)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    return queue_shared(r, status, resp);
}

enum MHD_Result srv_queue_fixed(srv_request *r, unsigned status, struct MHD_Response *const pair[2])
{
    return queue_shared(r, status, pair[atomic_load(&r->d->stopping) ? 1 : 0]);
}

enum MHD_Result srv_queue_text(srv_request *r, unsigned status, const char *type, const char *body,
                               size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = srv_queue(r, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result srv_queue_json(srv_request *r, unsigned status, text_buf *b)
{
    enum MHD_Result ret =
        b->failed ? MHD_NO : srv_queue_text(r, status, "application/json", b->ptr, b->len);
    text_buf_free(b);
    return ret;
}

enum MHD_Result srv_error(srv_request *r, unsigned status, const char *field, const char *msg)
{
    pb_error e = {status, "", ""};
    snprintf(e.error, sizeof(e.error), "%s", msg);
    snprintf(e.field, sizeof(e.field), "%s", field);
    text_buf b;
    text_buf_init(&b, 1024);
    text_puts(&b, "{\"error\":");
    text_json_str(&b, e.error);
    if (e.field[0]) {
        text_puts(&b, ",\"field\":");
        text_json_str(&b, e.field);
    }
    text_puts(&b, "}\n");
    return srv_queue_json(r, status, &b);
}

struct MHD_Response *srv_static_response(const char *type, const char *body, bool close)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (resp) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        if (close)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    return resp;
}

bool srv_responses_make(srv *d)
{
    bool ok = true;
    for (int close = 0; close < 2; close++) {
        d->fixed[FIX_NOT_FOUND_LINK][close] = srv_static_response(
            "text/html; charset=utf-8",
            "<!doctype html><title>Link not found</title><h1>Link not found</h1>"
            "<p>This tracking link does not exist. Check the address you were given.</p>\n",
            close);
        d->fixed[FIX_NOT_FOUND][close] =
            srv_static_response("application/json", "{\"error\":\"not found\"}\n", close);
        d->fixed[FIX_HEALTHY][close] =
            srv_static_response("application/json", "{\"status\":\"ok\"}\n", close);
        d->fixed[FIX_UNHEALTHY][close] = srv_static_response(
            "application/json", "{\"status\":\"storage unavailable\"}\n", close);
        for (int i = 0; i < FIX_COUNT; i++)
            ok = ok && d->fixed[i][close];
    }
    return ok;
}

void srv_responses_destroy(srv *d)
{
    for (int i = 0; i < FIX_COUNT; i++)
        for (int close = 0; close < 2; close++)
            if (d->fixed[i][close])
                MHD_destroy_response(d->fixed[i][close]);
}

/* ---- the query -------------------------------------------------------------------- */

/* libmicrohttpd gives each key and value with its decoded length; a shorter C string held
 * a NUL (srv_unescape keeps the decoded length). */
static enum MHD_Result collect_arg_n(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
    srv_query *f = cls;
    if ((key && strlen(key) != key_size) || (value && strlen(value) != value_size)) {
        if (!f->has_nul && key && strlen(key) == key_size)
            f->nul_key = key;
        f->has_nul = true;
        return MHD_YES;
    }
    (void)kind;
    if (key && *key) /* "?&x=1" has an empty name: nothing to keep */
        f->seen++;
    if (f->n < SRV_QUERY_MAX && key && *key) {
        f->p[f->n].key = key;
        f->p[f->n].value = value ? value : "";
        f->n++;
    }
    return MHD_YES;
}

void srv_query_read(srv_request *r, srv_query *q)
{
    q->n = q->seen = 0;
    q->has_nul = false;
    q->nul_key = NULL;
    MHD_get_connection_values_n(r->conn, MHD_GET_ARGUMENT_KIND, collect_arg_n, q);
}

/* ---- the writer ------------------------------------------------------------------- */

void srv_committed(srv_request *r)
{
    srv *d = r->d;
    if (!r->sync) {
        r->state = REQ_COMMITTED;
        MHD_resume_connection(r->conn);
        return;
    }
    pthread_mutex_lock(&d->sync_lock);
    r->state = REQ_COMMITTED; /* r may be gone once the lock is released */
    pthread_cond_broadcast(&d->sync_done);
    pthread_mutex_unlock(&d->sync_lock);
}

/* The connection is suspended until the commit, except once the daemon is stopping: then
 * this thread waits for the commit and answers, so that srv_stop, once nothing is in flight,
 * knows no connection is suspended. */
enum MHD_Result srv_hand_to_writer(srv_request *r, int (*apply)(store_txn *, writer_job *),
                                   void (*done)(writer_job *, int), srv_answer answer)
{
    srv *d = r->d;
    r->job.apply = apply;
    r->job.done = done;
    r->answer = answer;
    r->state = REQ_WAITING;
    srv_track_waiting(r->conn, false); /* the request is received: the writer's time is ours */
    /* Counted before `stopping` is read; srv_stop sets it before it reads the count: one
     * of the two sees the other. */
    atomic_fetch_add(&d->inflight, 1);
    r->inflight = true;
    if (!atomic_load(&d->stopping)) {
        MHD_suspend_connection(r->conn);
        writer_submit(d->w, &r->job);
        return MHD_YES;
    }
    r->sync = true;
    writer_submit(d->w, &r->job);
    pthread_mutex_lock(&d->sync_lock);
    while (r->state != REQ_COMMITTED)
        pthread_cond_wait(&d->sync_done, &d->sync_lock);
    pthread_mutex_unlock(&d->sync_lock);
    srv_settle(r);
    return r->answer(r);
}
