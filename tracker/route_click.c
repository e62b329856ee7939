/*
 * route_click.c: GET|HEAD /l/{slug}, the redirect. Owns reading the link, building the click
 * (visitor cookie, anonymized address, device class, referrer host, language, prefetch and
 * preview detection, the flood source), the Location, the click's writer job and the 302.
 *
 * The redirect is sacred: once the link is read, the visitor reaches the shop whatever the
 * writer says; a click that cannot be stored is counted and logged. This is the hot path:
 * no allocation (the request comes from request.c's pool), one read transaction.
 *
 * May touch: the request, srv's click counters and source_key, the link registry (read),
 * the clicks write path (in the writer's job).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "storage/registry.h"
#include "tracker/headers.h"
#include "tracker/ip.h"
#include "tracker/srv_int.h"
#include "tracker/ua.h"

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
static void client_ip(srv_request *r, ip_addr *ip)
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

static int click_apply(store_txn *t, writer_job *job)
{
    srv_request *r = (srv_request *)job;
    return clicks_put_from(r->d->clk, t, &r->click, r->source, &r->decided);
}

static void click_done(writer_job *job, int rc)
{
    srv_request *r = (srv_request *)job;
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
    srv_committed(r);
}

static enum MHD_Result send_redirect(srv_request *r)
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
    enum MHD_Result ret = srv_queue(r, MHD_HTTP_FOUND, resp);
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

enum MHD_Result route_click(srv_request *r, const char *slug, unsigned method)
{
    srv *d = r->d;
    bool head = method == SRV_HEAD;
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
            return srv_queue_fixed(r, MHD_HTTP_NOT_FOUND, d->fixed[FIX_NOT_FOUND_LINK]);
        }
        /* The store cannot even be read: nothing to redirect to, say so. */
        atomic_fetch_add_explicit(&d->storage_errors, 1, memory_order_relaxed);
        return srv_queue_text(r, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
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
    srv_query fwd;
    srv_query_read(r, &fwd);
    if (url_build_location(r->location, sizeof(r->location), link->dest, utm, 5, fwd.p,
                           fwd.has_nul ? 0 : fwd.n, jclid) < 0 &&
        url_build_location(r->location, sizeof(r->location), link->dest, utm, 5, NULL, 0, jclid) <
            0)
        snprintf(r->location, sizeof(r->location), "%s", link->dest);

    if (skip) {
        atomic_fetch_add_explicit(&d->excluded, 1, memory_order_relaxed);
        return send_redirect(r);
    }
    return srv_hand_to_writer(r, click_apply, click_done, send_redirect);
}
