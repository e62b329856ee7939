/*
 * cli_serve.c: `jejak serve`: takes the data folder's daemon lock (one daemon per folder),
 * runs the daemon until SIGINT or SIGTERM, then stops it cleanly (srv_stop: stop accepting,
 * answer what is in flight with Connection: close, commit, close) and exits 0. With --demo
 * it first seeds a demo influencer, campaign and link (if absent) and prints the tracking
 * URL.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "storage/registry.h"
#include "storage/text.h"
#include "tools/cli.h"
#include "tracker/server.h"

enum {
    OPT_DATA = 1000,
    OPT_LISTEN,
    OPT_DEMO,
    OPT_NO_IP,
    OPT_NO_UA,
    OPT_NO_REF,
    OPT_EXCLUDE,
    OPT_TRUST,
    OPT_THREADS,
    OPT_CONN_LIMIT,
    OPT_TIMEOUT,
    OPT_PUBLIC,
    OPT_LOOKBACK,
    OPT_COUPON_PRIORITY,
    OPT_FLOOD
};

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
        return -1;
    unsigned long v = strtoul(s, NULL, 10);
    if (v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int seed_demo(store_txn *t, void *ctx)
{
    (void)ctx;
    rec_influencer inf = {.id = "ayu-ramadan",
                          .name = "Ayu Ramadan",
                          .platform = "instagram",
                          .handle = "@ayu.ramadan",
                          .followers = 48200};
    rec_campaign camp = {.id = "demo", .name = "Demo campaign"};
    rec_link link = {.slug = "ayu-ramadan",
                     .dest = "https://shop.example/products/batik-dress",
                     .influencer = "ayu-ramadan",
                     .campaign = "demo",
                     .utm_source = "instagram",
                     .utm_medium = "influencer",
                     .utm_campaign = "demo",
                     .utm_content = "ayu-ramadan"};
    inf.created_ms = camp.created_ms = link.created_ms = text_now_ms();
    int rc = reg_put_influencer(t, &inf);
    if (rc == STORE_OK || rc == STORE_EXISTS)
        rc = reg_put_campaign(t, &camp);
    if (rc == STORE_OK || rc == STORE_EXISTS)
        rc = reg_put_link(t, &link);
    return rc == STORE_EXISTS ? STORE_OK : rc;
}

/* More connections than the default 1024 descriptors allow: take what the hard limit gives. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int serve(const cli_args *a)
{
    srv_config cfg;
    srv_config_default(&cfg);
    const char *public_url = NULL;
    bool demo = false;
    for (int i = 0; i < a->ngiven; i++) {
        const char *arg = a->given[i].arg;
        switch (a->given[i].id) {
        case OPT_LISTEN:
            cfg.listen = arg;
            break;
        case OPT_DEMO:
            demo = true;
            break;
        case OPT_NO_IP:
            cfg.no_ip = true;
            break;
        case OPT_NO_UA:
            cfg.no_user_agent = true;
            break;
        case OPT_NO_REF:
            cfg.no_referrer = true;
            break;
        case OPT_TRUST:
            cfg.trust_proxy = true;
            break;
        case OPT_EXCLUDE:
            if (cfg.nexclude == SRV_MAX_EXCLUDES)
                return cli_error("at most %d --exclude-ip ranges", SRV_MAX_EXCLUDES);
            if (ip_cidr_parse(arg, &cfg.exclude[cfg.nexclude]))
                return cli_error("--exclude-ip '%s' is not an address or CIDR range "
                                 "(203.0.113.0/24, 2001:db8::/32)",
                                 arg);
            cfg.nexclude++;
            break;
        case OPT_THREADS:
            if (parse_uint(arg, 256, &cfg.threads))
                return cli_error("--threads must be a number from 0 to 256");
            break;
        case OPT_CONN_LIMIT:
            if (parse_uint(arg, 1000000, &cfg.conn_limit) || !cfg.conn_limit)
                return cli_error("--conn-limit must be a number from 1 to 1000000");
            break;
        case OPT_TIMEOUT:
            if (parse_uint(arg, 86400, &cfg.conn_timeout_s) || !cfg.conn_timeout_s)
                return cli_error("--timeout must be seconds from 1 to 86400");
            break;
        case OPT_PUBLIC:
            public_url = arg;
            break;
        case OPT_LOOKBACK:
            if (parse_uint(arg, 3650, &cfg.lookback_days) || !cfg.lookback_days)
                return cli_error("--lookback-days must be a number of days from 1 to 3650");
            break;
        case OPT_COUPON_PRIORITY:
            cfg.coupon_priority = true;
            break;
        case OPT_FLOOD:
            if (parse_uint(arg, 1000000, &cfg.flood_limit))
                return cli_error("--flood-limit must be clicks per minute (0 = no limit)");
            break;
        }
    }
    if (a->npos > 0)
        return cli_error("unexpected argument '%s'", a->pos[0]);

    store *s = cli_store(a);
    if (!s)
        return CLI_FAIL;
    char err[512];
    if (store_lock_daemon(s, err, sizeof(err))) {
        store_close(s);
        return cli_error("%s", err);
    }
    if (demo) {
        int rc = store_update(s, seed_demo, NULL);
        if (rc) {
            store_close(s);
            return cli_error("cannot seed the demo: %s", store_strerror(rc));
        }
    }
    raise_fd_limit();
    /* Threads inherit this mask: only the main thread takes SIGINT/SIGTERM, in sigwait. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    srv *d;
    if (srv_start(&d, s, &cfg, err, sizeof(err))) {
        store_close(s);
        return cli_error("%s", err);
    }
    char host[64];
    snprintf(host, sizeof(host), "%.*s", (int)(strrchr(cfg.listen, ':') - cfg.listen), cfg.listen);
    printf("jejak: listening on http://%s:%u (data in %s)\n", host, srv_port(d), store_path(s));
    if (demo) {
        if (public_url)
            printf("jejak: demo tracking link: %s/l/ayu-ramadan\n", public_url);
        else
            printf("jejak: demo tracking link: http://%s:%u/l/ayu-ramadan\n", host, srv_port(d));
    }
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "jejak: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    srv_stop(d);
    store_close(s);
    fprintf(stderr, "jejak: stopped cleanly\n");
    return CLI_OK;
}

static const cli_opt serve_opts[] = {
    {OPT_LISTEN, "listen", "ADDR:PORT",
     "the address to listen on (default 127.0.0.1:8080; port 0: any free)"},
    {OPT_DEMO, "demo", NULL, "add a demo influencer, campaign and link if absent; print its URL"},
    {OPT_NO_IP, "no-ip", NULL, "store no address at all"},
    {OPT_NO_UA, "no-user-agent", NULL, "store no device class (bots are still recognized)"},
    {OPT_NO_REF, "no-referrer", NULL, "store no referrer host"},
    {OPT_EXCLUDE, "exclude-ip", "CIDR",
     "clicks from this range are redirected, not stored (repeatable)"},
    {OPT_TRUST, "trust-proxy", NULL,
     "take the visitor's address from the last X-Forwarded-For entry"},
    {OPT_THREADS, "threads", "N", "HTTP threads, 0 to 256 (default 0: one per CPU)"},
    {OPT_LOOKBACK, "lookback-days", "N", "the attribution window in days, 1 to 3650 (default 30)"},
    {OPT_COUPON_PRIORITY, "coupon-priority", NULL,
     "a registered coupon in an order wins over the click journey"},
    {OPT_FLOOD, "flood-limit", "N",
     "clicks a minute from one client on one link, then suspicious (default 30; 0: off)"},
    {OPT_CONN_LIMIT, "conn-limit", "N", "open connections at most, 1 to 1000000 (default 16384)"},
    {OPT_TIMEOUT, "timeout", "S", "an idle connection is closed after S seconds (default 30)"},
    {OPT_PUBLIC, "public-url", "URL", "the address printed for the demo link"},
    {0, NULL, NULL, NULL}};

const cli_cmd cli_cmd_serve = {
    "serve",        "[options]", "run the tracker: redirects, clicks, postbacks, the report API",
    serve_opts,     serve,       NULL,
    CLI_OWN_CRASHES};
