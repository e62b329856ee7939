/*
 * daemon.c: the daemon's life (tracker/server.h). Owns srv_start (the listen address,
 * libmicrohttpd's options and callbacks, the writer and its hooks, the sweeper thread) and
 * srv_stop, whose order is what makes a clean stop.
 *
 * Stopping (srv_stop): from the moment `stopping` is set, every answer carries
 * "Connection: close" and no connection is suspended any more (a request that reaches the
 * writer then waits for its commit on its own thread, srv_hand_to_writer); once nothing is
 * in flight, no connection is suspended, so libmicrohttpd can be stopped (it aborts if one
 * is), then the writer drains and makes its last flush. There is no deadline of our own: a
 * stalled disk holds the stop until the service manager's stop timeout.
 *
 * May touch: every room's start and stop (request.c's responses, dispatch.c's, sweeper.c),
 * the writer, the clicks write path's lifetime. Answers no request.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attribution/tz.h"
#include "tracker/srv_int.h"

/* The writer's hooks: the clicks write path's batch, its visits index and their commit. */
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
    if (!srv_responses_make(d) || !srv_routes_make(d)) {
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
        0, NULL, NULL, srv_on_request, d, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, cfg->conn_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->conn_timeout_s, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SRV_CONN_POOL_BYTES,
        MHD_OPTION_NOTIFY_CONNECTION, srv_on_connection, d, MHD_OPTION_NOTIFY_COMPLETED,
        srv_on_completed, d, MHD_OPTION_UNESCAPE_CALLBACK, srv_unescape, NULL, MHD_OPTION_END);
    if (!d->mhd) {
        snprintf(err, errlen, "cannot listen on %s (address in use, or not ours?)", cfg->listen);
        goto fail;
    }
    if (srv_sweeper_start(d)) {
        MHD_stop_daemon(d->mhd);
        snprintf(err, errlen, "cannot start the slow-client sweeper");
        goto fail;
    }
    *out = d;
    return 0;
fail:
    writer_stop(d->w);
    clicks_free(d->clk);
    srv_responses_destroy(d);
    srv_routes_destroy(d);
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
     * (srv_hand_to_writer). Once every suspended request has been resumed and answered, none
     * can be suspended again, and libmicrohttpd may be stopped (it aborts if one is). No
     * deadline here: only the service manager's stop timeout. */
    atomic_store(&d->stopping, true);
    MHD_socket fd = MHD_quiesce_daemon(d->mhd);
    while (atomic_load(&d->inflight) > 0)
        usleep(5000);
    usleep(20000); /* the last answers leave before their connections are closed */
    srv_sweeper_stop(d);
    MHD_stop_daemon(d->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    writer_stop(d->w); /* after the last job: its final flush writes the visits index */
    clicks_free(d->clk);
    srv_responses_destroy(d);
    srv_routes_destroy(d);
    sodium_memzero(d->source_key, sizeof(d->source_key));
    pthread_cond_destroy(&d->sync_done);
    pthread_mutex_destroy(&d->sync_lock);
    free(d);
}
