/*
 * route_postback.c: GET|POST /postback, conversions from shops. Owns the body (kept up to
 * PB_BODY_MAX, the rest read and dropped, a length announced past it refused early), the
 * checks made on the HTTP thread (parse, look the shop up, verify the signature or the
 * token), the conversion's writer job and its answer (200, 202 with the reason, 409, 413,
 * 422, 503).
 *
 * May touch: the request, srv's postback counters and ledger config, the shop registry
 * (read), the ledger (in the writer's job). The parsing and the signature are postback.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "storage/registry.h"
#include "tracker/srv_int.h"

/* A refusal of the postback's own, counted in jejak_postbacks_refused_total. */
static enum MHD_Result refuse(srv_request *r, const pb_error *e)
{
    atomic_fetch_add_explicit(&r->d->postbacks_refused, 1, memory_order_relaxed);
    return srv_error(r, e->status ? e->status : 400, e->field, e->error);
}

static int postback_apply(store_txn *t, writer_job *job)
{
    srv_request *r = (srv_request *)job;
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
    srv_request *r = (srv_request *)job;
    r->rc = rc;
    srv_committed(r);
}

static enum MHD_Result send_result(srv_request *r)
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
    return srv_queue_json(r, unattributed ? MHD_HTTP_ACCEPTED : MHD_HTTP_OK, &b);
}

enum MHD_Result route_postback_body(srv_request *r, const char *data, size_t *size)
{
    /* Past the cap the body is read and dropped, so the 413 reaches a client that is still
     * sending (closing on unread data would reset the connection and lose the answer);
     * past SRV_DISCARD_MAX the connection is simply closed. */
    r->body_seen += *size;
    if (r->body_seen > SRV_DISCARD_MAX)
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

static enum MHD_Result postback(srv_request *r, bool post)
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
        srv_query q;
        srv_query_read(r, &q);
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
    return srv_hand_to_writer(r, postback_apply, postback_done, send_result);
}

enum MHD_Result route_postback(srv_request *r, const char *rest, unsigned method)
{
    (void)rest;
    if (method == SRV_GET && r->body_seen)
        return srv_error(r, MHD_HTTP_BAD_REQUEST, "body",
                         "a GET postback carries its fields in the query; POST a body");
    return postback(r, method == SRV_POST);
}

/* A body announced past the cap is refused before it is sent when the client waits for
 * "100 Continue": answering now (this closes the connection, which is what an oversized
 * upload deserves) spares us reading it. */
enum MHD_Result route_postback_announced(srv_request *r, uint64_t length)
{
    if (length <= PB_BODY_MAX)
        return MHD_YES;
    r->body_too_large = true;
    const char *expect = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Expect");
    if (expect && strcasecmp(expect, "100-continue") == 0)
        return postback(r, true);
    return MHD_YES;
}
