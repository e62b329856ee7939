/*
 * cli_serve.c: `jejak serve`: takes the data folder's daemon lock (one daemon per folder),
 * runs the daemon until SIGINT or SIGTERM, then stops it cleanly (srv_stop: stop accepting,
 * answer what is in flight with Connection: close, commit, close) and exits 0. With --demo
 * it first seeds a demo influencer, campaign and link (if absent) and prints the tracking
 * URL.
 */
#include <getopt.h>
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

int cmd_serve(int argc, char **argv)
{
    static const struct option options[] = {
        {"data", required_argument, NULL, OPT_DATA},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"demo", no_argument, NULL, OPT_DEMO},
        {"no-ip", no_argument, NULL, OPT_NO_IP},
        {"no-user-agent", no_argument, NULL, OPT_NO_UA},
        {"no-referrer", no_argument, NULL, OPT_NO_REF},
        {"exclude-ip", required_argument, NULL, OPT_EXCLUDE},
        {"trust-proxy", no_argument, NULL, OPT_TRUST},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"conn-limit", required_argument, NULL, OPT_CONN_LIMIT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"public-url", required_argument, NULL, OPT_PUBLIC},
        {"lookback-days", required_argument, NULL, OPT_LOOKBACK},
        {"coupon-priority", no_argument, NULL, OPT_COUPON_PRIORITY},
        {"flood-limit", required_argument, NULL, OPT_FLOOD},
        {NULL, 0, NULL, 0}};
    srv_config cfg;
    srv_config_default(&cfg);
    const char *data = NULL, *public_url = NULL;
    bool demo = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case OPT_DATA:
            data = optarg;
            break;
        case OPT_LISTEN:
            cfg.listen = optarg;
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
            if (ip_cidr_parse(optarg, &cfg.exclude[cfg.nexclude]))
                return cli_error("--exclude-ip '%s' is not an address or CIDR range "
                                 "(203.0.113.0/24, 2001:db8::/32)",
                                 optarg);
            cfg.nexclude++;
            break;
        case OPT_THREADS:
            if (parse_uint(optarg, 256, &cfg.threads))
                return cli_error("--threads must be a number from 0 to 256");
            break;
        case OPT_CONN_LIMIT:
            if (parse_uint(optarg, 1000000, &cfg.conn_limit) || !cfg.conn_limit)
                return cli_error("--conn-limit must be a number from 1 to 1000000");
            break;
        case OPT_TIMEOUT:
            if (parse_uint(optarg, 86400, &cfg.conn_timeout_s) || !cfg.conn_timeout_s)
                return cli_error("--timeout must be seconds from 1 to 86400");
            break;
        case OPT_PUBLIC:
            public_url = optarg;
            break;
        case OPT_LOOKBACK:
            if (parse_uint(optarg, 3650, &cfg.lookback_days) || !cfg.lookback_days)
                return cli_error("--lookback-days must be a number of days from 1 to 3650");
            break;
        case OPT_COUPON_PRIORITY:
            cfg.coupon_priority = true;
            break;
        case OPT_FLOOD:
            if (parse_uint(optarg, 1000000, &cfg.flood_limit))
                return cli_error("--flood-limit must be clicks per minute (0 = no limit)");
            break;
        default:
            return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_error("unexpected argument '%s'", argv[optind]);

    store *s = cli_open(data);
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
