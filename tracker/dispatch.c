/*
 * dispatch.c: the access handler. Owns the route table, the checks made before any route
 * sees a request (body framing, the caps on target, parameters and headers, absolute-form
 * targets, %00 in the path), the 404, and the 405s whose Allow comes from the table.
 *
 * A request goes through the access handler up to three times:
 *   1. first call: allocate the request and find its route; answer nothing (libmicrohttpd
 *      0.9.75 closes the connection when a response is queued on the first call), unless
 *      the request is refused outright (framing, sizes, a body announced past a route's cap);
 *   2. second call (and one per piece of body): hand the body to the route or drop it, then
 *      check the method and call the route. Cheap answers are queued now; a click or a
 *      conversion is handed to the writer and the connection suspended;
 *   3. after the writer has committed the request's transaction, it resumes the connection
 *      and the route's answer is queued (r->answer). So a visitor is answered only once the
 *      click is durable, and many clicks share one commit.
 *
 * A route is one row below plus its file; the redirect's row comes first. May touch: the
 * request (request.c), the routes' entry points, libmicrohttpd's view of the request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tracker/srv_int.h"

#define PATH(p) .path = p, .len = sizeof(p) - 1

/* Walked in order on each request's first call: the redirect, the hot path, comes first. */
static const srv_route routes[] = {
    {PATH("/l/"), .prefix = true, .methods = SRV_GET | SRV_HEAD, .handle = route_click},
    {PATH("/postback"), .methods = SRV_GET | SRV_POST, .body_methods = SRV_POST,
     .handle = route_postback, .body = route_postback_body, .announced = route_postback_announced},
    {PATH("/api/v1/report"), .methods = SRV_GET, .handle = route_report},
    {PATH("/healthz"), .methods = SRV_GET | SRV_HEAD, .handle = route_healthz},
    {PATH("/metrics"), .methods = SRV_GET | SRV_HEAD, .handle = route_metrics},
};
enum { NROUTES = sizeof(routes) / sizeof(routes[0]) };
_Static_assert((int)NROUTES <= (int)SRV_ROUTES_MAX,
               "srv's not_allowed holds SRV_ROUTES_MAX routes");

static const srv_route *find_route(const char *path)
{
    for (const srv_route *rt = routes; rt < routes + NROUTES; rt++)
        if (rt->prefix ? strncmp(path, rt->path, rt->len) == 0 : strcmp(path, rt->path) == 0)
            return rt;
    return NULL;
}

static unsigned method_bit(const char *method)
{
    if (strcmp(method, MHD_HTTP_METHOD_GET) == 0)
        return SRV_GET;
    if (strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
        return SRV_HEAD;
    return strcmp(method, MHD_HTTP_METHOD_POST) == 0 ? SRV_POST : 0;
}

/* A 405 that says which methods the route takes. */
bool srv_routes_make(srv *d)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{SRV_GET, "GET"}, {SRV_HEAD, "HEAD"}, {SRV_POST, "POST"}};
    bool ok = true;
    for (int i = 0; i < NROUTES; i++) {
        char allow[32] = "";
        for (size_t m = 0; m < sizeof(names) / sizeof(names[0]); m++)
            if (routes[i].methods & names[m].bit)
                snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
                         allow[0] ? ", " : "", names[m].name);
        for (int close = 0; close < 2; close++) {
            struct MHD_Response *resp = srv_static_response(
                "application/json", "{\"error\":\"method not allowed\"}\n", close);
            if (resp)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
            d->not_allowed[i][close] = resp;
            ok = ok && resp;
        }
    }
    return ok;
}

void srv_routes_destroy(srv *d)
{
    for (int i = 0; i < NROUTES; i++)
        for (int close = 0; close < 2; close++)
            if (d->not_allowed[i][close])
                MHD_destroy_response(d->not_allowed[i][close]);
}

/* libmicrohttpd decodes %XX in the path and in each query key and value, in place; a %00
 * would end the C string early, so that "/l/ayu%00junk" read as "/l/ayu" and
 * "/postback%00x" as "/postback". A decoded string holding a NUL is emptied instead: the
 * path then matches no route (404), and a query key or value keeps its decoded length,
 * which srv_query_read compares with what is left of it. */
size_t srv_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    size_t n = MHD_http_unescape(s);
    if (strlen(s) != n)
        s[0] = '\0';
    return n;
}

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
static bool refuse_framing(srv_request *r, enum MHD_Result *ret)
{
    framing f = {0};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, collect_framing, &f);
    if (f.encodings && strcasecmp(f.encoding, "chunked")) {
        *ret = srv_error(r, MHD_HTTP_NOT_IMPLEMENTED, "Transfer-Encoding",
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

/* Refuses a request past the caps (SRV_TARGET_MAX, SRV_PARAMS_MAX, SRV_HEADERS_MAX). The
 * sizes are counted as libmicrohttpd parsed them (decoded), so a target is never
 * over-counted. */
static bool refuse_size(srv_request *r, const char *url, enum MHD_Result *ret)
{
    tally q = {0, strlen(url), 2}, h = {0, 0, 4}; /* "&name=value", "name: value\r\n" */
    MHD_get_connection_values_n(r->conn, MHD_GET_ARGUMENT_KIND, count_value, &q);
    MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, count_value, &h);
    char why[96];
    if (q.n > SRV_PARAMS_MAX)
        snprintf(why, sizeof(why), "the query has more than %d parameters", SRV_PARAMS_MAX);
    else if (q.bytes > SRV_TARGET_MAX)
        snprintf(why, sizeof(why), "the request target is longer than %d bytes", SRV_TARGET_MAX);
    else if (h.bytes > SRV_HEADERS_MAX)
        snprintf(why, sizeof(why), "the request headers are larger than %d bytes", SRV_HEADERS_MAX);
    else
        return false;
    bool headers = h.bytes > SRV_HEADERS_MAX && q.n <= SRV_PARAMS_MAX && q.bytes <= SRV_TARGET_MAX;
    *ret = srv_error(r, headers ? MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE : MHD_HTTP_URI_TOO_LONG,
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
 * SRV_DISCARD_MAX. */
static enum MHD_Result drop_body(srv_request *r, size_t *size)
{
    r->body_seen += *size;
    *size = 0;
    return r->body_seen > SRV_DISCARD_MAX ? MHD_NO : MHD_YES;
}

/* The first call: refusals that need no body, and a route's look at the announced length. */
static enum MHD_Result first_call(srv_request *r, const char *url)
{
    enum MHD_Result ret;
    if (refuse_framing(r, &ret) || refuse_size(r, url, &ret))
        return ret;
    if (r->route && r->route->announced) {
        const char *cl =
            MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl)
            return r->route->announced(r, strtoull(cl, NULL, 10));
    }
    return MHD_YES;
}

enum MHD_Result srv_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    (void)version;
    srv *d = cls;
    srv_request *r = *con_cls;
    url = origin_path(url);
    if (!r) {
        r = srv_request_new();
        if (!r)
            return MHD_NO;
        r->d = d;
        r->conn = conn;
        r->t0_us = srv_now_us();
        r->route = find_route(url);
        *con_cls = r;
        atomic_fetch_add_explicit(&d->requests, 1, memory_order_relaxed);
        return first_call(r, url);
    }
    if (r->state == REQ_COMMITTED) {
        srv_settle(r);
        return r->answer(r);
    }
    if (r->refusal) {
        if (*upload_data_size)
            return drop_body(r, upload_data_size);
        return srv_error(r, r->refusal_status, r->refusal_field, r->refusal);
    }
    const srv_route *rt = r->route;
    unsigned m = method_bit(method);
    if (*upload_data_size)
        return rt && (rt->body_methods & m) ? rt->body(r, upload_data, upload_data_size)
                                            : drop_body(r, upload_data_size);
    if (!rt)
        return srv_queue_fixed(r, MHD_HTTP_NOT_FOUND, d->fixed[FIX_NOT_FOUND]);
    if (!(rt->methods & m))
        return srv_queue_fixed(r, MHD_HTTP_METHOD_NOT_ALLOWED, d->not_allowed[rt - routes]);
    return rt->handle(r, url + rt->len, m);
}
