/*
 * sweeper.c: the slow-client sweeper. Owns the list of open connections and the thread that
 * shuts down the ones past their deadline.
 *
 * libmicrohttpd's connection timeout restarts with every byte received, so a client that
 * sends its headers, or its body, one byte a second would hold a connection forever. Each
 * connection is tracked from the moment it starts waiting for a request until that request
 * is answered or handed to the writer (headers and body: the whole request has one
 * deadline, --timeout); a sweeper thread shuts down connections that wait longer.
 *
 * May touch: srv's track_lock, sweeper_wake, tracked, sweeper_stop, sweeper and slow_closed;
 * libmicrohttpd's connection info. Knows no request and no route.
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "tracker/srv_int.h"

struct srv_conn {
    srv_conn *prev, *next;
    int fd;
    atomic_int_fast64_t waiting_since_ms; /* 0: no request being received */
};

static int64_t mono_ms(void)
{
    return (int64_t)(srv_now_us() / 1000);
}

void srv_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode toe)
{
    srv *d = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        srv_conn *c = calloc(1, sizeof(*c));
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
        srv_conn *c = *socket_context;
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

void srv_track_waiting(struct MHD_Connection *conn, bool waiting)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    srv_conn *c = ci ? ci->socket_context : NULL;
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
        for (srv_conn *c = d->tracked; c; c = c->next) {
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

int srv_sweeper_start(srv *d)
{
    return pthread_create(&d->sweeper, NULL, sweep, d);
}

void srv_sweeper_stop(srv *d)
{
    pthread_mutex_lock(&d->track_lock);
    d->sweeper_stop = true;
    pthread_cond_signal(&d->sweeper_wake);
    pthread_mutex_unlock(&d->track_lock);
    pthread_join(d->sweeper, NULL);
}
