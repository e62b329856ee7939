/*
 * server.c: HTTP front of the daemon. Owns the libmicrohttpd daemon, the request state
 * machine, the redirect route, health and metrics.
 *
 * A request goes through the access handler up to three times:
 *   1. first call: allocate the request; answer nothing (libmicrohttpd 0.9.75 closes
 *      the connection when a response is queued on the first call);
 *   2. second call: route. Cheap answers (404, /healthz, /metrics) are queued now. A click
 *      is built, handed to the writer, and the connection suspended;
 *   3. after the writer has committed the click's transaction, it resumes the connection
 *      and the handler queues the 302. So a visitor is answered only once the click is
 *      durable, and many clicks share one commit.
 * If the commit fails, step 3 still redirects: the visitor always reaches the shop; the
 * loss is counted and logged.
 *
 * Stopping (srv_stop): from the moment `stopping` is set, every answer carries
 * "Connection: close" and no connection is suspended any more (a request that reaches the
 * writer then waits for its commit on its own thread); once nothing is in flight, no
 * connection is suspended, so libmicrohttpd can be stopped (it aborts if one is), then the
 * writer drains and makes its last flush. There is no deadline of our own: a stalled disk
 * holds the stop until the service manager's stop timeout.
 */
#include "tracker/server.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <sodium.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attribution/ledger.h"
#include "attribution/report.h"
#include "attribution/tz.h"
#include "storage/clicks.h"
#include "storage/id.h"
#include "storage/registry.h"
#include "storage/text.h"
#include "storage/writer.h"
#include "tracker/headers.h"
#include "tracker/postback.h"
#include "tracker/ua.h"
#include "tracker/url.h"

enum { MAX_FORWARDED = 64, LOCATION_BUF = 8192, NBUCKETS = 12, DISCARD_MAX = 16 << 20 };

/* Caps on a request, set once: its target (path and query), its query parameters, and its
 * header lines, answered 414, 414 and 431. libmicrohttpd keeps the request line, the
 * headers and one 64-byte record per header line, cookie and query parameter in one pool per
 * connection; past the pool it closes the connection with no answer at all, which its
 * 32 KiB default did at about 450 parameters (a 3.4 KB URL). 256 KiB holds the records of a
 * target at the cap in any ordinary shape (1,024 parameters of "name=value" within 8 KiB),
 * so such a request reaches the handler and gets its answer; only something past the caps
 * in both length and count (thousands of empty parameters) can still exhaust it. The pool
 * is mapped, and an idle connection touches only its first pages. */
enum { TARGET_MAX = 8192, PARAMS_MAX = 1024, HEADERS_MAX = 16384, CONN_POOL_BYTES = 256 * 1024 };

/* The answers that never change, built once. Each exists twice: as is, and with
 * "Connection: close" for the time the daemon is stopping (a shared response cannot be
 * changed while other threads queue it). */
typedef enum {
    FIX_NOT_FOUND_LINK,
    FIX_NOT_FOUND,
    FIX_HEALTHY,
    FIX_UNHEALTHY,
    FIX_METHOD_LINK,
    FIX_METHOD_POSTBACK,
    FIX_METHOD_GET,
    FIX_COUNT
} fixed_answer;

/* Latency buckets in microseconds, exported in seconds. */
static const uint64_t bucket_us[NBUCKETS] = {50,   100,   250,   500,    1000,   2500,
                                             5000, 10000, 25000, 100000, 500000, 1000000};

typedef struct conn_track conn_track;
static uint64_t now_us(void);

struct srv {
    struct MHD_Daemon *mhd;
    store *s;
    writer *w;
    clicks *clk; /* the writer thread's */
    srv_config cfg;
    struct MHD_Response *fixed[2][FIX_COUNT]; /* [1]: with Connection: close */
    atomic_bool stopping;          /* srv_stop has begun: close after each answer, no suspend */
    atomic_uint_fast64_t inflight; /* requests handed to the writer and not yet answered */
    pthread_mutex_t sync_lock;     /* while stopping: a request waiting for its commit */
    pthread_cond_t sync_done;
    atomic_uint_fast64_t clicks, bot_clicks, suspicious_clicks, unique_clicks, excluded,
        unknown_slugs, storage_errors, requests, prefetch_clicks;
    atomic_uint_fast64_t postbacks[3], postbacks_unattributed, postbacks_refused,
        postback_storage_errors;
    atomic_uint_fast64_t lat_bucket[NBUCKETS + 1], lat_sum_us, lat_count;
    ledger_config ledger;
    pthread_mutex_t track_lock; /* guards tracked and sweeper_stop */
    pthread_cond_t sweeper_wake;
    conn_track *tracked;
    bool sweeper_stop;
    pthread_t sweeper;
    atomic_uint_fast64_t slow_closed;
    atomic_int_fast64_t last_error_log_s;
    uint8_t source_key[crypto_shorthash_KEYBYTES]; /* made at start, never stored */
};

/* ---- slow clients ----------------------------------------------------------------
 *
 * libmicrohttpd's connection timeout restarts with every byte received, so a client that
 * sends its headers, or its body, one byte a second would hold a connection forever. Each
 * connection is tracked from the moment it starts waiting for a request until that request
 * is answered or handed to the writer (headers and body: the whole request has one
 * deadline); a sweeper thread shuts down connections that wait longer than the timeout. */
struct conn_track {
    conn_track *prev, *next;
    int fd;
    atomic_int_fast64_t waiting_since_ms; /* 0: no request being received */
};

static int64_t mono_ms(void)
{
    return (int64_t)(now_us() / 1000);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    srv *d = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_track *c = calloc(1, sizeof(*c));
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!c || !ci) {
            free(c);
            return;
        }
        c->fd = ci->connect_fd;
        atomic_store(&c->waiting_since_ms, mono_ms());
        pthread_mutex_lock(&d->track_lock);
        c->next = d->tracked;
        if (d->tracked)
            d->tracked->prev = c;
        d->tracked = c;
        pthread_mutex_unlock(&d->track_lock);
        *socket_context = c;
    } else if (*socket_context) {
        conn_track *c = *socket_context;
        pthread_mutex_lock(&d->track_lock);
        if (c->prev)
            c->prev->next = c->next;
        else
            d->tracked = c->next;
        if (c->next)
            c->next->prev = c->prev;
        pthread_mutex_unlock(&d->track_lock);
        free(c);
        *socket_context = NULL;
    }
}

static void track_waiting(struct MHD_Connection *conn, bool waiting)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_track *c = ci ? ci->socket_context : NULL;
    if (c)
        atomic_store(&c->waiting_since_ms, waiting ? mono_ms() : 0);
}

static void *sweep(void *arg)
{
    srv *d = arg;
    int64_t limit = (int64_t)d->cfg.conn_timeout_s * 1000;
    pthread_mutex_lock(&d->track_lock);
    while (!d->sweeper_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&d->sweeper_wake, &d->track_lock, &until);
        int64_t now = mono_ms();
        for (conn_track *c = d->tracked; c; c = c->next) {
            int64_t since = atomic_load(&c->waiting_since_ms);
            if (since && now - since > limit) {
                atomic_store(&c->waiting_since_ms, 0);
                shutdown(c->fd, SHUT_RDWR); /* libmicrohttpd sees EOF and closes it */
                atomic_fetch_add_explicit(&d->slow_closed, 1, memory_order_relaxed);
            }
        }
    }
    pthread_mutex_unlock(&d->track_lock);
    return NULL;
}

typedef enum { REQ_NEW, REQ_WAITING, REQ_COMMITTED } req_state;

typedef struct request request;
struct request {
    writer_job job; /* first: the writer hands it back to done() */
    srv *d;
    struct MHD_Connection *conn;
    request *next_free;
    req_state state;
    int rc;
    uint64_t t0_us;
    bool decided;    /* the click's unique flag is settled */
    uint64_t source; /* keyed hash of the full address and User-Agent (click_source) */
    bool postback;
    bool sync; /* stopping: the handler waits for the commit, the connection is not suspended */
    const char *refusal, *refusal_field; /* a framing refusal to answer (static text) */
    unsigned refusal_status;
    char *body; /* postback body, at most PB_BODY_MAX bytes; owned */
    size_t body_len;
    bool body_too_large;
    uint64_t body_seen; /* bytes received, kept or dropped */
    pb_input pb;
    ledger_result result;
    char visitor_text[ID_VISITOR_TEXT + 1];
    rec_click click;
    rec_link link;
    char location[LOCATION_BUF];
};

/* Requests are big (a link, a click, a Location) and many: each HTTP thread keeps a few
 * for reuse instead of going to malloc for every click. A request is allocated and freed
 * on the thread that serves its connection. */
enum { POOL_MAX = 256 };
static _Thread_local request *pool;
static _Thread_local unsigned pool_len;
static pthread_key_t pool_key; /* its destructor empties a thread's pool when it exits */
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_drain(void *unused)
{
    (void)unused;
    while (pool) {
        request *r = pool;
        pool = r->next_free;
        free(r);
    }
    pool_len = 0;
}

static void pool_init(void)
{
    pthread_key_create(&pool_key, pool_drain);
}

static request *request_new(void)
{
    request *r = pool;
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
    memset(r, 0, offsetof(request, pb));
    memset(&r->click, 0, sizeof(r->click));
    return r;
}

static void request_free(request *r)
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

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void observe_latency(srv *d, uint64_t t0)
{
    uint64_t us = now_us() - t0;
    int b = 0;
    while (b < NBUCKETS && us > bucket_us[b])
        b++;
    atomic_fetch_add_explicit(&d->lat_bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&d->lat_sum_us, us, memory_order_relaxed);
    atomic_fetch_add_explicit(&d->lat_count, 1, memory_order_relaxed);
}

/* Every answer goes through here: the request is received, its deadline ends. */
static enum MHD_Result queue_shared(request *r, unsigned status, struct MHD_Response *resp)
{
    track_waiting(r->conn, false);
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    observe_latency(r->d, r->t0_us);
    return ret;
}

/* Queues a response made for this request only. */
static enum MHD_Result queue(request *r, unsigned status, struct MHD_Response *resp)
{
    if (atomic_load(&r->d->stopping) || r->refusal)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    return queue_shared(r, status, resp);
}

static enum MHD_Result queue_fixed(request *r, unsigned status, fixed_answer which)
{
    srv *d = r->d;
    return queue_shared(r, status, d->fixed[atomic_load(&d->stopping) ? 1 : 0][which]);
}

static enum MHD_Result queue_text(request *r, unsigned status, const char *type, const char *body,
                                  size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = queue(r, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- the redirect ---------------------------------------------------------------- */

/* libmicrohttpd decodes %XX in the path and in each query key and value, in place; a %00
 * would end the C string early, so that "/l/ayu%00junk" read as "/l/ayu" and
 * "/postback%00x" as "/postback". A decoded string holding a NUL is emptied instead: the
 * path then matches no route (404), and a query key or value keeps its decoded length,
 * which collect_arg_n compares with what is left of it. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    size_t n = MHD_http_unescape(s);
    if (strlen(s) != n)
        s[0] = '\0';
    return n;
}

typedef struct {
    url_param p[MAX_FORWARDED];
    size_t n;
    size_t seen; /* named parameters in the query, kept or not (past MAX_FORWARDED) */
    bool has_nul;
    const char *nul_key; /* the first key whose value held a NUL; NULL if the key did */
} forwarded;

/* Collects the query; a key or value that held a NUL (%00) marks the whole query as
 * refused: it must not be read as what comes before the NUL. */
static enum MHD_Result collect_arg_n(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
    forwarded *f = cls;
    if ((key && strlen(key) != key_size) || (value && strlen(value) != value_size)) {
        if (!f->has_nul && key && strlen(key) == key_size)
            f->nul_key = key;
        f->has_nul = true;
        return MHD_YES;
    }
    (void)kind;
    if (key && *key) /* "?&x=1" has an empty name: nothing to keep */
        f->seen++;
    if (f->n < MAX_FORWARDED && key && *key) {
        f->p[f->n].key = key;
        f->p[f->n].value = value ? value : "";
        f->n++;
    }
    return MHD_YES;
}

static enum MHD_Result last_forwarded_line(void *cls, enum MHD_ValueKind kind, const char *key,
                                           const char *value)
{
    (void)kind;
    if (strcasecmp(key, "X-Forwarded-For") == 0 && value)
        *(const char **)cls = value;
    return MHD_YES;
}

/* With --trust-proxy, the last entry of the last X-Forwarded-For line: the one our proxy
 * wrote. A proxy may append its entry to the client's line or add a line of its own
 * (HAProxy's option forwardfor); libmicrohttpd keeps lines apart, and whatever comes
 * before the proxy's entry is the client's to choose. */
static void client_ip(request *r, ip_addr *ip)
{
    memset(ip, 0, sizeof(*ip));
    if (r->d->cfg.trust_proxy) {
        const char *xff = NULL;
        MHD_get_connection_values(r->conn, MHD_HEADER_KIND, last_forwarded_line, &xff);
        if (xff) {
            const char *last = strrchr(xff, ',');
            last = last ? last + 1 : xff;
            while (*last == ' ')
                last++;
            char buf[IP_TEXT_MAX];
            size_t n = strcspn(last, " ");
            if (n < sizeof(buf)) {
                memcpy(buf, last, n);
                buf[n] = '\0';
                if (ip_parse(buf, ip) == 0)
                    return;
            }
        }
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr)
        ip_from_sockaddr(ci->client_addr, ip);
}

/* Who sent a click, as far as flood detection needs to know: a keyed hash (SipHash-2-4
 * under a random key made at start) of the full address and the User-Agent. The stored
 * address keeps only its /24 (/48), which many phones behind one carrier's NAT share; this
 * number tells them apart, goes only to the writer's in-memory flood count (never stored),
 * and without the key, which never leaves this process, says nothing of the address.
 * 0: no address. */
static uint64_t click_source(const srv *d, const ip_addr *ip, const char *ua)
{
    if (!ip->family)
        return 0;
    uint8_t buf[1 + 16 + HDR_SCAN_MAX];
    size_t n = ua ? strnlen(ua, HDR_SCAN_MAX) : 0;
    buf[0] = ip->family;
    memcpy(buf + 1, ip->addr, 16);
    if (n)
        memcpy(buf + 17, ua, n);
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, buf, 17 + n, d->source_key);
    sodium_memzero(buf, 17);
    uint64_t v;
    memcpy(&v, h, sizeof(v));
    return v ? v : 1;
}

/* The writer has committed r's transaction: wake whoever waits for it. */
static void committed(request *r)
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

static enum MHD_Result send_redirect(request *r);
static enum MHD_Result send_postback_result(request *r);

/* Hands r (its job filled in) to the writer. The connection is suspended until the commit,
 * except once the daemon is stopping: then this thread waits for the commit and answers, so
 * that srv_stop, once nothing is in flight, knows no connection is suspended. */
static enum MHD_Result hand_to_writer(request *r)
{
    srv *d = r->d;
    r->state = REQ_WAITING;
    track_waiting(r->conn, false); /* the request is received: the writer's time is ours */
    /* Counted before `stopping` is read; srv_stop sets it before it reads the count: one
     * of the two sees the other. */
    atomic_fetch_add(&d->inflight, 1);
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
    atomic_fetch_sub(&d->inflight, 1);
    return r->postback ? send_postback_result(r) : send_redirect(r);
}

static int click_apply(store_txn *t, writer_job *job)
{
    request *r = (request *)job;
    return clicks_put_from(r->d->clk, t, &r->click, r->source, &r->decided);
}

static void click_done(writer_job *job, int rc)
{
    request *r = (request *)job;
    srv *d = r->d;
    r->rc = rc;
    if (rc == STORE_OK) {
        if (r->click.flags & REC_CLICK_BOT) {
            atomic_fetch_add_explicit(&d->bot_clicks, 1, memory_order_relaxed);
            if (r->click.flags & REC_CLICK_PREFETCH)
                atomic_fetch_add_explicit(&d->prefetch_clicks, 1, memory_order_relaxed);
        } else if (r->click.flags & REC_CLICK_SUSPICIOUS) {
            atomic_fetch_add_explicit(&d->suspicious_clicks, 1, memory_order_relaxed);
        } else {
            atomic_fetch_add_explicit(&d->clicks, 1, memory_order_relaxed);
            if (r->click.flags & REC_CLICK_UNIQUE)
                atomic_fetch_add_explicit(&d->unique_clicks, 1, memory_order_relaxed);
        }
    } else {
        atomic_fetch_add_explicit(&d->storage_errors, 1, memory_order_relaxed);
        int64_t now = (int64_t)time(NULL);
        int64_t last = atomic_load(&d->last_error_log_s);
        if (now != last && atomic_compare_exchange_strong(&d->last_error_log_s, &last, now))
            fprintf(stderr,
                    "jejak: a click could not be stored (%s); the visitor was "
                    "redirected anyway\n",
                    store_strerror(rc));
    }
    committed(r);
}

static enum MHD_Result send_redirect(request *r)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    char cookie[96];
    snprintf(cookie, sizeof(cookie), "jv=%s; Max-Age=31536000; Path=/; HttpOnly; SameSite=Lax",
             r->visitor_text);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer-when-downgrade");
    enum MHD_Result ret = queue(r, MHD_HTTP_FOUND, resp);
    MHD_destroy_response(resp);
    return ret;
}

static bool excluded(const srv *d, const ip_addr *ip)
{
    for (unsigned i = 0; i < d->cfg.nexclude; i++)
        if (ip_cidr_match(&d->cfg.exclude[i], ip))
            return true;
    return false;
}

/* Sets *(bool *)cls when a purpose header says the request is a prefetch or a link
 * preview (every such header is read: a list may be split over several lines). */
static enum MHD_Result purpose_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    static const char *const names[] = {"Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"};
    (void)kind;
    for (size_t i = 0; key && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(key, names[i]) == 0 && hdr_is_speculative(value)) {
            *(bool *)cls = true;
            return MHD_NO; /* settled: stop iterating */
        }
    return MHD_YES;
}

static enum MHD_Result handle_click(request *r, const char *slug, bool head)
{
    srv *d = r->d;
    rec_link *link = &r->link;
    store_txn *t;
    int rc = store_read_begin(d->s, &t);
    if (rc == STORE_OK) {
        rc = text_valid_id(slug) ? reg_get_link(t, slug, link) : STORE_NOTFOUND;
        store_read_end(t);
    }
    if (rc != STORE_OK) {
        if (rc == STORE_NOTFOUND) {
            atomic_fetch_add_explicit(&d->unknown_slugs, 1, memory_order_relaxed);
            return queue_fixed(r, MHD_HTTP_NOT_FOUND, FIX_NOT_FOUND_LINK);
        }
        /* The store cannot even be read: nothing to redirect to, say so. */
        atomic_fetch_add_explicit(&d->storage_errors, 1, memory_order_relaxed);
        return queue_text(r, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
                          "{\"error\":\"storage unavailable\"}", 31);
    }

    rec_click *c = &r->click;
    c->ts_ms = text_now_ms();
    id_click_new(c->id, c->ts_ms);
    snprintf(c->link, sizeof(c->link), "%s", link->slug);

    const char *jv = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "jv");
    if (!jv || id_visitor_parse(jv, c->visitor) != 0)
        id_visitor_new(c->visitor);
    id_visitor_format(c->visitor, r->visitor_text);

    const char *ua_text = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "User-Agent");
    ip_addr ip;
    client_ip(r, &ip);
    bool skip = excluded(d, &ip);
    r->source = click_source(d, &ip, ua_text);
    if (!d->cfg.no_ip && ip.family) {
        ip_anonymize(&ip);
        c->ip_family = ip.family;
        memcpy(c->ip, ip.addr, sizeof(c->ip));
    }
    memset(&ip, 0, sizeof(ip)); /* the raw address goes no further */

    ua_class ua = ua_classify(ua_text);
    if (ua == UA_BOT || head)
        c->flags |= REC_CLICK_BOT; /* a person's browser never sends HEAD to follow a link */
    if (head)
        c->flags |= REC_CLICK_HEAD;
    /* A prefetch or an in-app link preview is no visitor: redirected, stored, counted
     * nowhere (a bot click, marked as a prefetch). */
    bool speculative = false;
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, purpose_header, &speculative);
    if (speculative)
        c->flags |= REC_CLICK_BOT | REC_CLICK_PREFETCH;
    static const uint8_t device_of[] = {REC_DEVICE_DESKTOP, REC_DEVICE_MOBILE, REC_DEVICE_TABLET,
                                        REC_DEVICE_BOT};
    c->device = d->cfg.no_user_agent ? REC_DEVICE_UNKNOWN : device_of[ua];
    if (!d->cfg.no_referrer) {
        const char *ref = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Referer");
        if (ref)
            hdr_referrer_host(ref, c->referrer, sizeof(c->referrer));
    }
    const char *al = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept-Language");
    if (al)
        hdr_first_language(al, c->lang, sizeof(c->lang));

    char jclid[ID_CLICK_TEXT + 1];
    id_click_format(c->id, jclid);
    url_param utm[5] = {{"utm_source", link->utm_source},
                        {"utm_medium", link->utm_medium},
                        {"utm_campaign", link->utm_campaign},
                        {"utm_content", link->utm_content},
                        {"utm_term", link->utm_term}};
    /* A query with a NUL forwards nothing of the visitor's: the rest still reaches the shop. */
    forwarded fwd = {.n = 0};
    MHD_get_connection_values_n(r->conn, MHD_GET_ARGUMENT_KIND, collect_arg_n, &fwd);
    if (url_build_location(r->location, sizeof(r->location), link->dest, utm, 5, fwd.p,
                           fwd.has_nul ? 0 : fwd.n, jclid) < 0 &&
        url_build_location(r->location, sizeof(r->location), link->dest, utm, 5, NULL, 0, jclid) <
            0)
        snprintf(r->location, sizeof(r->location), "%s", link->dest);

    if (skip) {
        atomic_fetch_add_explicit(&d->excluded, 1, memory_order_relaxed);
        return send_redirect(r);
    }
    r->job.apply = click_apply;
    r->job.done = click_done;
    return hand_to_writer(r);
}

/* ---- postbacks ------------------------------------------------------------------- */

static enum MHD_Result queue_json(request *r, unsigned status, text_buf *b)
{
    enum MHD_Result ret =
        b->failed ? MHD_NO : queue_text(r, status, "application/json", b->ptr, b->len);
    text_buf_free(b);
    return ret;
}

static enum MHD_Result refuse(request *r, const pb_error *e)
{
    atomic_fetch_add_explicit(&r->d->postbacks_refused, 1, memory_order_relaxed);
    text_buf b;
    text_buf_init(&b, 1024);
    text_puts(&b, "{\"error\":");
    text_json_str(&b, e->error);
    if (e->field[0]) {
        text_puts(&b, ",\"field\":");
        text_json_str(&b, e->field);
    }
    text_puts(&b, "}\n");
    return queue_json(r, e->status ? e->status : 400, &b);
}

static int postback_apply(store_txn *t, writer_job *job)
{
    request *r = (request *)job;
    /* The journey reads the visits index: write what the click path has queued first. */
    int rc = clicks_flush_visits(r->d->clk, t, true);
    if (rc)
        return rc;
    const pb_input *in = &r->pb;
    unsigned given = (in->has_status ? LEDGER_GAVE_STATUS : 0u) |
                     (in->has_amount ? LEDGER_GAVE_AMOUNT : 0u) |
                     (in->has_currency ? LEDGER_GAVE_CURRENCY : 0u);
    return ledger_record_given(t, &in->conv, given, &r->d->ledger, text_now_ms(), &r->result);
}

static void postback_done(writer_job *job, int rc)
{
    request *r = (request *)job;
    r->rc = rc;
    committed(r);
}

static enum MHD_Result send_postback_result(request *r)
{
    srv *d = r->d;
    if (r->rc == STORE_RANGE) { /* refused for good: a retry would overflow again */
        static const pb_error range = {422, "the amount would overflow a stored total", "amount"};
        return refuse(r, &range);
    }
    if (r->rc != STORE_OK) {
        atomic_fetch_add_explicit(&d->postback_storage_errors, 1, memory_order_relaxed);
        static const pb_error busy = {503, "the conversion could not be stored; retry later", ""};
        return refuse(r, &busy);
    }
    if (r->result.outcome == LEDGER_CONFLICT) { /* nothing was written */
        pb_error e = {409, "", ""};
        snprintf(e.error, sizeof(e.error), "%s", r->result.why);
        snprintf(e.field, sizeof(e.field), "%s", r->result.field);
        return refuse(r, &e);
    }
    static const char *const outcome[] = {"recorded", "duplicate", "updated"};
    static const char *const via[] = {"null", "\"click\"", "\"coupon\""};
    bool unattributed = r->result.outcome == LEDGER_RECORDED && r->result.via == REC_VIA_NONE;
    atomic_fetch_add_explicit(&d->postbacks[r->result.outcome], 1, memory_order_relaxed);
    if (unattributed)
        atomic_fetch_add_explicit(&d->postbacks_unattributed, 1, memory_order_relaxed);
    char id[ID_CLICK_TEXT + 1];
    id_click_format(r->result.id, id);
    text_buf b;
    text_buf_init(&b, 1024);
    text_printf(&b, "{\"status\":\"%s\",\"conversion_id\":\"%s\",\"attributed_to\":%s",
                unattributed ? "unattributed" : outcome[r->result.outcome], id,
                via[r->result.via <= REC_VIA_COUPON ? r->result.via : 0]);
    if (unattributed) /* what the shop can fix: a macro left unfilled, a stale click... */
        text_printf(&b, ",\"reason\":\"%s\"", ledger_reason_name(r->result.reason));
    text_puts(&b, "}\n");
    return queue_json(r, unattributed ? MHD_HTTP_ACCEPTED : MHD_HTTP_OK, &b);
}

/* Collects a postback body, refusing it early once it passes PB_BODY_MAX. */
static enum MHD_Result take_body(request *r, const char *data, size_t *size)
{
    /* Past the cap the body is read and dropped, so the 413 reaches a client that is still
     * sending (closing on unread data would reset the connection and lose the answer);
     * past DISCARD_MAX the connection is simply closed. */
    r->body_seen += *size;
    if (r->body_seen > DISCARD_MAX)
        return MHD_NO;
    if (!r->body_too_large) {
        if (r->body_len + *size > PB_BODY_MAX) {
            r->body_too_large = true;
        } else {
            if (!r->body && !(r->body = malloc(PB_BODY_MAX + 1)))
                return MHD_NO;
            memcpy(r->body + r->body_len, data, *size);
            r->body_len += *size;
        }
    }
    *size = 0;
    return MHD_YES;
}

static enum MHD_Result handle_postback(request *r, bool post)
{
    srv *d = r->d;
    pb_error err;
    int64_t now = text_now_ms();
    if (post) {
        if (r->body_too_large) {
            pb_error big = {413, "", ""};
            snprintf(big.error, sizeof(big.error), "the body is larger than %d bytes", PB_BODY_MAX);
            return refuse(r, &big);
        }
        if (pb_from_json(r->body ? r->body : "", r->body_len, now, &r->pb, &err))
            return refuse(r, &err);
    } else {
        forwarded q = {.n = 0};
        MHD_get_connection_values_n(r->conn, MHD_GET_ARGUMENT_KIND, collect_arg_n, &q);
        if (q.has_nul) {
            pb_error nul = {400, "a query value contains a NUL byte (%00)", ""};
            return refuse(r, &nul);
        }
        if (pb_from_pairs(q.p, q.n, true, now, &r->pb, &err))
            return refuse(r, &err);
    }
    rec_shop shop;
    store_txn *t;
    int rc = store_read_begin(d->s, &t);
    if (rc == STORE_OK) {
        rc = reg_get_shop(t, r->pb.conv.shop, &shop);
        store_read_end(t);
    }
    if (rc == STORE_NOTFOUND) {
        pb_error unknown = {401, "unknown shop", "shop"};
        return refuse(r, &unknown);
    }
    if (rc) {
        pb_error busy = {503, "storage unavailable; retry later", ""};
        return refuse(r, &busy);
    }
    if (post) {
        const char *sig =
            MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Jejak-Signature");
        rc = pb_check_signature(sig, r->body ? r->body : "", r->body_len, shop.secret, now / 1000,
                                &err);
    } else {
        uint8_t h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const unsigned char *)r->pb.token, strlen(r->pb.token));
        rc = sodium_memcmp(h, shop.token_hash, sizeof(h));
        err = (pb_error){401, "the token does not match the shop", "token"};
    }
    sodium_memzero(shop.secret, sizeof(shop.secret));
    if (rc)
        return refuse(r, &err);
    r->job.apply = postback_apply;
    r->job.done = postback_done;
    return hand_to_writer(r);
}

/* ---- the report API ---------------------------------------------------------------- */

static enum MHD_Result api_error(request *r, unsigned status, const char *field, const char *msg)
{
    pb_error e = {status, "", ""};
    snprintf(e.error, sizeof(e.error), "%s", msg);
    snprintf(e.field, sizeof(e.field), "%s", field);
    text_buf b;
    text_buf_init(&b, 1024);
    text_puts(&b, "{\"error\":");
    text_json_str(&b, e.error);
    if (field[0]) {
        text_puts(&b, ",\"field\":");
        text_json_str(&b, e.field);
    }
    text_puts(&b, "}\n");
    return queue_json(r, status, &b);
}

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

static enum MHD_Result handle_report(request *r)
{
    srv *d = r->d;
    const char *key_text =
        bearer_key(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization"));
    if (!key_text)
        return api_error(r, 401, "authorization", "Authorization: Bearer <key> is required");
    /* Keys are stored as their SHA-256: the lookup compares hashes, never the key. */
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)key_text, strlen(key_text));
    forwarded q = {.n = 0};
    MHD_get_connection_values_n(r->conn, MHD_GET_ARGUMENT_KIND, collect_arg_n, &q);
    if (q.has_nul)
        return api_error(r, 400, q.nul_key ? q.nul_key : "",
                         "a query parameter contains a NUL byte (%00)");
    if (q.seen > MAX_FORWARDED) { /* refused, not cut short: a dropped filter would mislead */
        char msg[80];
        snprintf(msg, sizeof(msg), "too many query parameters (%zu; at most %d)", q.seen,
                 MAX_FORWARDED);
        return api_error(r, 400, "query", msg);
    }
    report_param params[MAX_FORWARDED];
    const char *format = "json";
    for (size_t i = 0; i < q.n; i++) {
        params[i] = (report_param){q.p[i].key, q.p[i].value};
        if (!strcmp(q.p[i].key, "format"))
            format = q.p[i].value;
    }
    if (strcmp(format, "json") && strcmp(format, "csv"))
        return api_error(r, 400, "format", "format must be json or csv");
    store_txn *t;
    if (store_read_begin(d->s, &t))
        return api_error(r, 503, "", "storage unavailable; retry later");
    rec_apikey key;
    int rc = reg_get_apikey(t, h, &key);
    enum MHD_Result ret;
    char tz[65] = "UTC", field[32], why[200];
    report_query rq;
    report_result res;
    reg_get_config(t, "tz", tz, sizeof(tz)); /* the marketer's zone, if set */
    if (rc) {
        ret = api_error(r, 401, "authorization", "unknown API key");
    } else if (report_query_parse(params, q.n, tz, text_now_ms(), &rq, field, sizeof(field), why,
                                  sizeof(why))) {
        ret = api_error(r, 400, field, why);
    } else if (key.influencer[0] && rq.influencer[0] && strcmp(rq.influencer, key.influencer)) {
        ret = api_error(r, 403, "influencer", "this key sees only its own influencer's rows");
    } else if ((rc = report_check_ids(t, &rq, field, sizeof(field), why, sizeof(why)))) {
        ret = rc == STORE_NOTFOUND ? api_error(r, 400, field, why)
                                   : api_error(r, 503, "", "storage unavailable; retry later");
    } else {
        if (key.influencer[0]) /* an influencer's key: her rows only */
            memcpy(rq.influencer, key.influencer, sizeof(rq.influencer));
        rc = report_run(t, &rq, &res);
        /* The result owns its data: end the read transaction (and release the resize lock)
         * before formatting and copying up to 256 MiB, so that commits never wait on it. */
        store_read_end(t);
        if (rc)
            return api_error(r, 500, "", store_strerror(rc));
        text_buf b;
        text_buf_init(&b, (size_t)256 << 20);
        report_write(&rq, &res, format[0] == 'c' ? REPORT_CSV : REPORT_JSON, true, &b);
        report_free(&res);
        ret = b.failed
                  ? MHD_NO
                  : queue_text(r, MHD_HTTP_OK,
                               format[0] == 'c' ? "text/csv; charset=utf-8" : "application/json",
                               b.ptr, b.len);
        text_buf_free(&b);
        return ret;
    }
    store_read_end(t);
    return ret;
}

/* ---- health and metrics ---------------------------------------------------------- */

static enum MHD_Result handle_metrics(request *r)
{
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
    for (int i = 0; i <= NBUCKETS; i++) {
        cum += atomic_load(&d->lat_bucket[i]);
        if (i < NBUCKETS)
            text_printf(&b, "jejak_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                        (double)bucket_us[i] / 1e6, (unsigned long long)cum);
        else
            text_printf(&b, "jejak_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                        (unsigned long long)cum);
    }
    text_printf(&b, "jejak_request_duration_seconds_sum %.6f\n",
                (double)atomic_load(&d->lat_sum_us) / 1e6);
    text_printf(&b, "jejak_request_duration_seconds_count %llu\n",
                (unsigned long long)atomic_load(&d->lat_count));
    enum MHD_Result ret =
        b.failed ? MHD_NO : queue_text(r, MHD_HTTP_OK, "text/plain; version=0.0.4", b.ptr, b.len);
    text_buf_free(&b);
    return ret;
}

/* ---- dispatch -------------------------------------------------------------------- */

/* How the request says its body is framed: every Content-Length and Transfer-Encoding
 * line (libmicrohttpd keeps repeated lines apart, and itself reads only the first). */
typedef struct {
    const char *length;   /* the first Content-Length */
    bool length_differs;  /* another Content-Length line says something else */
    const char *encoding; /* the first Transfer-Encoding */
    unsigned encodings;   /* Transfer-Encoding lines */
} framing;

static enum MHD_Result collect_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    (void)kind;
    framing *f = cls;
    value = value ? value : "";
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (!f->length)
            f->length = value;
        else if (strcmp(f->length, value))
            f->length_differs = true;
        if (!*value || strspn(value, "0123456789") != strlen(value))
            f->length_differs = true; /* "5, 5", "+5" or "": not one plain length */
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        if (!f->encodings++)
            f->encoding = value;
    }
    return MHD_YES;
}

/* A request whose body length is ambiguous is refused and its connection closed after the
 * answer: a proxy in front could read the body differently, and what it takes for the next
 * request would be smuggled past it. When libmicrohttpd can frame the body (by its first
 * length, or as chunked when the first Transfer-Encoding is exactly that), the body is read
 * and dropped before the answer (closing with bytes unread resets the connection, and the
 * answer is lost); when it cannot (any other coding: it would wait for the end of the
 * stream), the answer goes at once, which closes it.
 * Returns true when the request was refused (*ret is then the handler's result). */
static bool refuse_framing(request *r, enum MHD_Result *ret)
{
    framing f = {0};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, collect_framing, &f);
    if (f.encodings && strcasecmp(f.encoding, "chunked")) {
        *ret = api_error(r, MHD_HTTP_NOT_IMPLEMENTED, "Transfer-Encoding",
                         "the only Transfer-Encoding understood is chunked");
        return true;
    }
    bool encoding = f.encodings > 1;
    if (encoding)
        r->refusal = "the only Transfer-Encoding understood is chunked, given once";
    else if (f.encodings && f.length)
        r->refusal = "a request with both Content-Length and Transfer-Encoding is refused";
    else if (f.length_differs)
        r->refusal = "Content-Length must be given once, as one number";
    if (!r->refusal)
        return false;
    r->refusal_field = encoding ? "Transfer-Encoding" : "Content-Length";
    r->refusal_status = encoding ? MHD_HTTP_NOT_IMPLEMENTED : MHD_HTTP_BAD_REQUEST;
    *ret = MHD_YES; /* answered once the body is dropped */
    return true;
}

typedef struct {
    size_t n, bytes, overhead; /* overhead: the bytes around each name and value */
} tally;

static enum MHD_Result count_value(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    (void)key;
    (void)value;
    tally *t = cls;
    t->n++;
    t->bytes += key_size + value_size + t->overhead;
    return MHD_YES;
}

/* Refuses a request past the caps (TARGET_MAX, PARAMS_MAX, HEADERS_MAX). The sizes are
 * counted as libmicrohttpd parsed them (decoded), so a target is never over-counted. */
static bool refuse_size(request *r, const char *url, enum MHD_Result *ret)
{
    tally q = {0, strlen(url), 2}, h = {0, 0, 4}; /* "&name=value", "name: value\r\n" */
    MHD_get_connection_values_n(r->conn, MHD_GET_ARGUMENT_KIND, count_value, &q);
    MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, count_value, &h);
    char why[96];
    if (q.n > PARAMS_MAX)
        snprintf(why, sizeof(why), "the query has more than %d parameters", PARAMS_MAX);
    else if (q.bytes > TARGET_MAX)
        snprintf(why, sizeof(why), "the request target is longer than %d bytes", TARGET_MAX);
    else if (h.bytes > HEADERS_MAX)
        snprintf(why, sizeof(why), "the request headers are larger than %d bytes", HEADERS_MAX);
    else
        return false;
    bool headers = h.bytes > HEADERS_MAX && q.n <= PARAMS_MAX && q.bytes <= TARGET_MAX;
    *ret = api_error(r, headers ? MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE : MHD_HTTP_URI_TOO_LONG,
                     headers ? "headers" : "url", why);
    return true;
}

/* The path of an absolute-form target ("http://host/l/slug", RFC 9112 section 3.2.2, which
 * servers must accept); any other target as it is. */
static const char *origin_path(const char *url)
{
    size_t skip = strncasecmp(url, "http://", 7) == 0    ? 7
                  : strncasecmp(url, "https://", 8) == 0 ? 8
                                                         : 0;
    if (!skip)
        return url;
    const char *path = strchr(url + skip, '/');
    return path ? path : "/";
}

/* A body on a route that takes none, or with a method that takes none, is read and dropped
 * (closing with it unread would reset the connection and lose the answer), up to
 * DISCARD_MAX. */
static enum MHD_Result drop_body(request *r, size_t *size)
{
    r->body_seen += *size;
    *size = 0;
    return r->body_seen > DISCARD_MAX ? MHD_NO : MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    srv *d = cls;
    request *r = *con_cls;
    url = origin_path(url);
    if (!r) {
        r = request_new();
        if (!r)
            return MHD_NO;
        r->d = d;
        r->conn = conn;
        r->t0_us = now_us();
        *con_cls = r;
        atomic_fetch_add_explicit(&d->requests, 1, memory_order_relaxed);
        enum MHD_Result ret;
        if (refuse_framing(r, &ret) || refuse_size(r, url, &ret))
            return ret;
        /* A postback body announced past the cap is refused before it is sent when the
         * client waits for "100 Continue": answering now (this closes the connection,
         * which is what an oversized upload deserves) spares us reading it. */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > PB_BODY_MAX && strcmp(url, "/postback") == 0) {
            r->postback = true;
            r->body_too_large = true;
            const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
            if (expect && strcasecmp(expect, "100-continue") == 0)
                return handle_postback(r, true);
        }
        return MHD_YES;
    }
    if (r->state == REQ_COMMITTED) {
        atomic_fetch_sub(&d->inflight, 1);
        return r->postback ? send_postback_result(r) : send_redirect(r);
    }
    if (r->refusal) {
        if (*upload_data_size)
            return drop_body(r, upload_data_size);
        return api_error(r, r->refusal_status, r->refusal_field, r->refusal);
    }
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    bool head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (strcmp(url, "/postback") == 0) {
        r->postback = true;
        if (*upload_data_size)
            return post ? take_body(r, upload_data, upload_data_size)
                        : drop_body(r, upload_data_size);
        if (!get && !post)
            return queue_fixed(r, MHD_HTTP_METHOD_NOT_ALLOWED, FIX_METHOD_POSTBACK);
        if (get && r->body_seen)
            return api_error(r, MHD_HTTP_BAD_REQUEST, "body",
                             "a GET postback carries its fields in the query; POST a body");
        return handle_postback(r, post);
    }
    if (*upload_data_size)
        return drop_body(r, upload_data_size); /* no other route takes a body */
    if (strncmp(url, "/l/", 3) == 0) {
        if (!get && !head)
            return queue_fixed(r, MHD_HTTP_METHOD_NOT_ALLOWED, FIX_METHOD_LINK);
        return handle_click(r, url + 3, head);
    }
    if (strcmp(url, "/api/v1/report") == 0) {
        if (!get)
            return queue_fixed(r, MHD_HTTP_METHOD_NOT_ALLOWED, FIX_METHOD_GET);
        return handle_report(r);
    }
    if (strcmp(url, "/healthz") == 0 || strcmp(url, "/metrics") == 0) {
        if (!get && !head)
            return queue_fixed(r, MHD_HTTP_METHOD_NOT_ALLOWED, FIX_METHOD_LINK);
        if (url[1] == 'm')
            return handle_metrics(r);
        /* Healthy means the store answers a read, not only that HTTP is up. */
        store_txn *t;
        if (store_read_begin(d->s, &t))
            return queue_fixed(r, MHD_HTTP_SERVICE_UNAVAILABLE, FIX_UNHEALTHY);
        store_read_end(t);
        return queue_fixed(r, MHD_HTTP_OK, FIX_HEALTHY);
    }
    return queue_fixed(r, MHD_HTTP_NOT_FOUND, FIX_NOT_FOUND);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)toe;
    if (*con_cls)
        request_free(*con_cls);
    *con_cls = NULL;
    track_waiting(conn, true); /* kept alive: the next request's headers are awaited */
}

static struct MHD_Response *static_response(const char *type, const char *body, bool close)
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

static void batch_begin(void *ctx)
{
    clicks_begin(ctx);
}

static int flush_visits(store_txn *t, void *ctx, bool stopping)
{
    return clicks_flush_visits(ctx, t, stopping);
}

static void visits_committed(void *ctx, int rc)
{
    clicks_committed(ctx, rc);
}

/* A 405 that says which methods the route takes. */
static struct MHD_Response *method_response(const char *allow, bool close)
{
    struct MHD_Response *r =
        static_response("application/json", "{\"error\":\"method not allowed\"}\n", close);
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    return r;
}

/* Builds both sets of fixed answers; false when one is missing. */
static bool make_responses(srv *d)
{
    bool ok = true;
    for (int close = 0; close < 2; close++) {
        struct MHD_Response **f = d->fixed[close];
        f[FIX_NOT_FOUND_LINK] = static_response(
            "text/html; charset=utf-8",
            "<!doctype html><title>Link not found</title><h1>Link not found</h1>"
            "<p>This tracking link does not exist. Check the address you were given.</p>\n",
            close);
        f[FIX_NOT_FOUND] =
            static_response("application/json", "{\"error\":\"not found\"}\n", close);
        f[FIX_HEALTHY] = static_response("application/json", "{\"status\":\"ok\"}\n", close);
        f[FIX_UNHEALTHY] =
            static_response("application/json", "{\"status\":\"storage unavailable\"}\n", close);
        f[FIX_METHOD_LINK] = method_response("GET, HEAD", close);
        f[FIX_METHOD_POSTBACK] = method_response("GET, POST", close);
        f[FIX_METHOD_GET] = method_response("GET", close);
        for (int i = 0; i < FIX_COUNT; i++)
            ok = ok && f[i];
    }
    return ok;
}

static void destroy_responses(srv *d)
{
    for (int close = 0; close < 2; close++)
        for (int i = 0; i < FIX_COUNT; i++)
            if (d->fixed[close][i])
                MHD_destroy_response(d->fixed[close][i]);
}

void srv_config_default(srv_config *c)
{
    memset(c, 0, sizeof(*c));
    c->listen = "127.0.0.1:8080";
    c->conn_limit = 16384;
    c->conn_timeout_s = 30;
    c->flood_limit = 30;
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss, char *err, size_t errlen)
{
    char host[64];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof(host))
        goto bad;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        goto bad;
    memset(ss, 0, sizeof(*ss));
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        host[strlen(host) - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            goto bad;
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        goto bad;
    return 0;
bad:
    snprintf(err, errlen, "--listen must be ADDRESS:PORT (127.0.0.1:8080 or [::1]:8080), not %s",
             listen);
    return -1;
}

int srv_start(srv **out, store *s, const srv_config *cfg, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    if (parse_listen(cfg->listen, &ss, err, errlen))
        return -1;
    srv *d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    d->s = s;
    d->cfg = *cfg;
    pthread_mutex_init(&d->track_lock, NULL);
    pthread_cond_init(&d->sweeper_wake, NULL);
    pthread_mutex_init(&d->sync_lock, NULL);
    pthread_cond_init(&d->sync_done, NULL);
    d->ledger.lookback_ms = (int64_t)(cfg->lookback_days ? cfg->lookback_days : 30) * 86400000;
    d->ledger.coupon_priority = cfg->coupon_priority;
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialize");
        free(d);
        return -1;
    }
    randombytes_buf(d->source_key, sizeof(d->source_key));
    if (!make_responses(d)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    int rc = clicks_open(&d->clk, s, tz_day_bounds); /* uniques: days of config tz */
    if (rc) {
        snprintf(err, errlen, "cannot load today's clicks: %s", store_strerror(rc));
        goto fail;
    }
    clicks_set_flood_limit(d->clk, cfg->flood_limit);
    writer_hooks hooks = {batch_begin, flush_visits, visits_committed, d->clk};
    if (writer_start(&d->w, s, &hooks)) {
        snprintf(err, errlen, "cannot start the writer thread");
        goto fail;
    }
    unsigned threads = cfg->threads ? cfg->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    d->mhd = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO |
            MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
        0, NULL, NULL, on_request, d, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, cfg->conn_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->conn_timeout_s, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_POOL_BYTES, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, d, MHD_OPTION_NOTIFY_COMPLETED, on_completed, d,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
    if (!d->mhd) {
        snprintf(err, errlen, "cannot listen on %s (address in use, or not ours?)", cfg->listen);
        goto fail;
    }
    if (pthread_create(&d->sweeper, NULL, sweep, d)) {
        MHD_stop_daemon(d->mhd);
        snprintf(err, errlen, "cannot start the slow-client sweeper");
        goto fail;
    }
    *out = d;
    return 0;
fail:
    writer_stop(d->w);
    clicks_free(d->clk);
    destroy_responses(d);
    free(d);
    return -1;
}

unsigned srv_port(const srv *d)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : 0;
}

void srv_stop(srv *d)
{
    if (!d)
        return;
    /* Stop accepting; from now on answers close their connection and nothing is suspended
     * (hand_to_writer). Once every suspended request has been resumed and answered, none
     * can be suspended again, and libmicrohttpd may be stopped (it aborts if one is). No
     * deadline here: only the service manager's stop timeout. */
    atomic_store(&d->stopping, true);
    MHD_socket fd = MHD_quiesce_daemon(d->mhd);
    while (atomic_load(&d->inflight) > 0)
        usleep(5000);
    usleep(20000); /* the last answers leave before their connections are closed */
    pthread_mutex_lock(&d->track_lock);
    d->sweeper_stop = true;
    pthread_cond_signal(&d->sweeper_wake);
    pthread_mutex_unlock(&d->track_lock);
    pthread_join(d->sweeper, NULL);
    MHD_stop_daemon(d->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    writer_stop(d->w); /* after the last job: its final flush writes the visits index */
    clicks_free(d->clk);
    destroy_responses(d);
    sodium_memzero(d->source_key, sizeof(d->source_key));
    pthread_cond_destroy(&d->sync_done);
    pthread_mutex_destroy(&d->sync_lock);
    free(d);
}
