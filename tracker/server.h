/*
 * server.h: the jejak daemon: libmicrohttpd on the front, the group-commit writer behind.
 * Its rooms (tracker/srv_int.h lists them) are the only part of jejak that includes
 * microhttpd.h.
 *
 * Routes: GET|HEAD /l/{slug} (the redirect), GET|POST /postback (conversions from shops),
 * GET /api/v1/report, GET|HEAD /healthz, GET|HEAD /metrics (Prometheus).
 */
#ifndef JEJAK_SERVER_H
#define JEJAK_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/store.h"
#include "tracker/ip.h"

enum { SRV_MAX_EXCLUDES = 64 };

typedef struct {
    const char *listen;      /* "127.0.0.1:8080", "[::1]:8080", port 0 = any free port */
    unsigned threads;        /* HTTP threads; 0 = number of CPUs */
    unsigned conn_limit;     /* open connections at most */
    unsigned conn_timeout_s; /* idle connections are closed after this */
    bool no_ip;              /* store no address at all */
    bool no_user_agent;      /* store no device class (bots are still recognized) */
    bool no_referrer;        /* store no referrer host */
    bool trust_proxy;        /* take the client address from X-Forwarded-For's last entry */
    ip_cidr exclude[SRV_MAX_EXCLUDES]; /* clicks from these are redirected, never stored */
    unsigned nexclude;
    unsigned lookback_days; /* attribution window; 0 = 30 */
    bool coupon_priority;   /* a known coupon beats the click journey */
    unsigned flood_limit;   /* clicks a minute from one address and User-Agent on one link
                               before the rest are flagged suspicious; 0 = no limit */
} srv_config;

void srv_config_default(srv_config *c);

typedef struct srv srv;

/* Starts listening and writing. The caller owns *out; srv_stop frees it. Returns 0, or -1
 * with a message in err. */
int srv_start(srv **out, store *s, const srv_config *cfg, char *err, size_t errlen);
/* The port actually bound (useful with port 0). */
unsigned srv_port(const srv *d);
/* Stops accepting, answers what is in flight, commits, and frees the server. */
void srv_stop(srv *d);

#endif
