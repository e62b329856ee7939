/*
 * cli_registry.c: `jejak influencer|campaign|link add|list`: the registries a marketer
 * fills before sharing links. Every field is checked before anything is written; a
 * refused command stores nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/id.h"
#include "storage/registry.h"
#include "storage/text.h"
#include "tools/cli.h"
#include "tracker/url.h"

enum {
    OPT_DATA = 1000,
    OPT_NAME,
    OPT_PLATFORM,
    OPT_HANDLE,
    OPT_FOLLOWERS,
    OPT_START,
    OPT_END,
    OPT_INFLUENCER,
    OPT_CAMPAIGN,
    OPT_TO,
    OPT_SLUG,
    OPT_SOURCE,
    OPT_MEDIUM,
    OPT_CTAG,
    OPT_CONTENT,
    OPT_TERM,
    OPT_PUBLIC
};

static const struct option options[] = {{"data", required_argument, NULL, OPT_DATA},
                                        {"name", required_argument, NULL, OPT_NAME},
                                        {"platform", required_argument, NULL, OPT_PLATFORM},
                                        {"handle", required_argument, NULL, OPT_HANDLE},
                                        {"followers", required_argument, NULL, OPT_FOLLOWERS},
                                        {"start", required_argument, NULL, OPT_START},
                                        {"end", required_argument, NULL, OPT_END},
                                        {"influencer", required_argument, NULL, OPT_INFLUENCER},
                                        {"campaign", required_argument, NULL, OPT_CAMPAIGN},
                                        {"to", required_argument, NULL, OPT_TO},
                                        {"slug", required_argument, NULL, OPT_SLUG},
                                        {"source", required_argument, NULL, OPT_SOURCE},
                                        {"medium", required_argument, NULL, OPT_MEDIUM},
                                        {"campaign-tag", required_argument, NULL, OPT_CTAG},
                                        {"content", required_argument, NULL, OPT_CONTENT},
                                        {"term", required_argument, NULL, OPT_TERM},
                                        {"public-url", required_argument, NULL, OPT_PUBLIC},
                                        {NULL, 0, NULL, 0}};

typedef struct {
    const char *v[OPT_PUBLIC - OPT_DATA + 1];
    const char *positional;
} args;

#define ARG(a, opt) ((a)->v[(opt)-OPT_DATA])

/* Parses argv (argv[0] is the verb) accepting only the options in `allowed`. */
static int parse(int argc, char **argv, const int *allowed, args *a)
{
    memset(a, 0, sizeof(*a));
    optind = 1;
    opterr = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (c == '?')
            return -1;
        bool ok = c == OPT_DATA;
        for (const int *p = allowed; *p; p++)
            ok |= *p == c;
        if (!ok)
            return cli_error("%s does not take --%s", argv[0], options[c - OPT_DATA].name), -1;
        ARG(a, c) = optarg;
    }
    if (optind < argc)
        a->positional = argv[optind++];
    if (optind < argc)
        return cli_error("unexpected argument '%s'", argv[optind]), -1;
    return 0;
}

static int report_put(int rc, const char *what, const char *id)
{
    if (rc == STORE_EXISTS)
        return cli_error("%s '%s' already exists", what, id);
    if (rc)
        return cli_error("cannot store %s '%s': %s", what, id, store_strerror(rc));
    return CLI_OK;
}

/* ---- influencers ------------------------------------------------------------------ */

static int put_influencer(store_txn *t, void *ctx)
{
    return reg_put_influencer(t, ctx);
}

static bool valid_platform(const char *p)
{
    if (!*p || strlen(p) > 32)
        return false;
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return false;
    return true;
}

static int parse_count(const char *s, uint64_t *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 15)
        return -1;
    *out = strtoull(s, NULL, 10);
    return 0;
}

static int print_influencer(const rec_influencer *r, void *ctx)
{
    (void)ctx;
    printf("%-24s %-24s %-10s %-20s %12" PRIu64 "\n", r->id, r->name, r->platform,
           r->handle[0] ? r->handle : "-", r->followers);
    return 0;
}

static int list_influencers(store_txn *t, void *ctx)
{
    (void)ctx;
    printf("%-24s %-24s %-10s %-20s %12s\n", "ID", "NAME", "PLATFORM", "HANDLE", "FOLLOWERS");
    return reg_each_influencer(t, print_influencer, NULL);
}

typedef int (*read_fn)(store_txn *, void *);

/* Runs fn in a read transaction of the store named by --data. */
static int with_read(const char *data, read_fn fn, void *ctx)
{
    store *s = cli_open_existing(data);
    if (!s)
        return CLI_FAIL;
    store_txn *t;
    int rc = store_read_begin(s, &t);
    if (rc == STORE_OK) {
        rc = fn(t, ctx);
        store_read_end(t);
    }
    store_close(s);
    if (rc)
        return cli_error("cannot read the store: %s", store_strerror(rc));
    return CLI_OK;
}

static int with_write(const char *data, store_update_fn fn, void *ctx, int *rc)
{
    store *s = cli_open(data);
    if (!s)
        return CLI_FAIL;
    *rc = store_update(s, fn, ctx);
    store_close(s);
    return CLI_OK;
}

int cmd_influencer(int argc, char **argv)
{
    static const int add_opts[] = {OPT_NAME, OPT_PLATFORM, OPT_HANDLE, OPT_FOLLOWERS, 0};
    static const int no_opts[] = {0};
    args a;
    const char *verb = argc > 1 ? argv[1] : "";
    if (!strcmp(verb, "list")) {
        if (parse(argc - 1, argv + 1, no_opts, &a))
            return CLI_USAGE;
        return with_read(ARG(&a, OPT_DATA), list_influencers, NULL);
    }
    if (strcmp(verb, "add"))
        return cli_error("usage: jejak influencer add ID --name NAME --platform P [--handle H] "
                         "[--followers N] | jejak influencer list"),
               CLI_USAGE;
    if (parse(argc - 1, argv + 1, add_opts, &a))
        return CLI_USAGE;
    rec_influencer r;
    memset(&r, 0, sizeof(r));
    const char *id = a.positional, *name = ARG(&a, OPT_NAME), *platform = ARG(&a, OPT_PLATFORM);
    if (!id)
        return cli_error("influencer add needs an ID (for example ayu-ramadan)");
    if (!text_valid_id(id))
        return cli_error("influencer ID '%s' must be 1-64 letters, digits, '-' or '_'", id);
    if (!name || !text_valid_text(name, REC_NAME - 1))
        return cli_error("--name is required: 1-128 bytes of UTF-8 text, no control characters");
    if (!platform || !valid_platform(platform))
        return cli_error("--platform is required: instagram, tiktok, youtube, x, ... "
                         "(lowercase letters, digits, '-')");
    const char *handle = ARG(&a, OPT_HANDLE);
    if (handle && !text_valid_text(handle, REC_NAME - 1))
        return cli_error("--handle must be 1-128 bytes of UTF-8 text, no control characters");
    if (ARG(&a, OPT_FOLLOWERS) && parse_count(ARG(&a, OPT_FOLLOWERS), &r.followers))
        return cli_error("--followers must be a whole number, not '%s'", ARG(&a, OPT_FOLLOWERS));
    snprintf(r.id, sizeof(r.id), "%s", id);
    snprintf(r.name, sizeof(r.name), "%s", name);
    snprintf(r.platform, sizeof(r.platform), "%s", platform);
    snprintf(r.handle, sizeof(r.handle), "%s", handle ? handle : "");
    r.created_ms = text_now_ms();
    int rc;
    if (with_write(ARG(&a, OPT_DATA), put_influencer, &r, &rc))
        return CLI_FAIL;
    if (report_put(rc, "influencer", id))
        return CLI_FAIL;
    printf("influencer %s added\n", id);
    return CLI_OK;
}

/* ---- campaigns -------------------------------------------------------------------- */

static int put_campaign(store_txn *t, void *ctx)
{
    return reg_put_campaign(t, ctx);
}

static int print_campaign(const rec_campaign *r, void *ctx)
{
    (void)ctx;
    printf("%-24s %-32s %-10s %-10s\n", r->id, r->name, r->start[0] ? r->start : "-",
           r->end[0] ? r->end : "-");
    return 0;
}

static int list_campaigns(store_txn *t, void *ctx)
{
    (void)ctx;
    printf("%-24s %-32s %-10s %-10s\n", "ID", "NAME", "START", "END");
    return reg_each_campaign(t, print_campaign, NULL);
}

int cmd_campaign(int argc, char **argv)
{
    static const int add_opts[] = {OPT_NAME, OPT_START, OPT_END, 0};
    static const int no_opts[] = {0};
    args a;
    const char *verb = argc > 1 ? argv[1] : "";
    if (!strcmp(verb, "list")) {
        if (parse(argc - 1, argv + 1, no_opts, &a))
            return CLI_USAGE;
        return with_read(ARG(&a, OPT_DATA), list_campaigns, NULL);
    }
    if (strcmp(verb, "add"))
        return cli_error("usage: jejak campaign add ID --name NAME [--start YYYY-MM-DD] "
                         "[--end YYYY-MM-DD] | jejak campaign list"),
               CLI_USAGE;
    if (parse(argc - 1, argv + 1, add_opts, &a))
        return CLI_USAGE;
    rec_campaign r;
    memset(&r, 0, sizeof(r));
    const char *id = a.positional, *name = ARG(&a, OPT_NAME);
    const char *start = ARG(&a, OPT_START), *end = ARG(&a, OPT_END);
    if (!id)
        return cli_error("campaign add needs an ID (for example ramadan-2026)");
    if (!text_valid_id(id))
        return cli_error("campaign ID '%s' must be 1-64 letters, digits, '-' or '_'", id);
    if (!name || !text_valid_text(name, REC_NAME - 1))
        return cli_error("--name is required: 1-128 bytes of UTF-8 text, no control characters");
    if (start && !text_valid_date(start))
        return cli_error("--start must be a date YYYY-MM-DD, not '%s'", start);
    if (end && !text_valid_date(end))
        return cli_error("--end must be a date YYYY-MM-DD, not '%s'", end);
    if (start && end && strcmp(start, end) > 0)
        return cli_error("--end (%s) is before --start (%s)", end, start);
    snprintf(r.id, sizeof(r.id), "%s", id);
    snprintf(r.name, sizeof(r.name), "%s", name);
    snprintf(r.start, sizeof(r.start), "%s", start ? start : "");
    snprintf(r.end, sizeof(r.end), "%s", end ? end : "");
    r.created_ms = text_now_ms();
    int rc;
    if (with_write(ARG(&a, OPT_DATA), put_campaign, &r, &rc))
        return CLI_FAIL;
    if (report_put(rc, "campaign", id))
        return CLI_FAIL;
    printf("campaign %s added\n", id);
    return CLI_OK;
}

/* ---- links ------------------------------------------------------------------------ */

typedef struct {
    rec_link link;
    bool generated; /* retry another slug on a collision */
    const char *missing;
} link_ctx;

static int put_link(store_txn *t, void *arg)
{
    link_ctx *c = arg;
    rec_influencer inf;
    int rc = reg_check_owner(t, c->link.influencer, c->link.campaign, &inf, &c->missing);
    if (rc)
        return rc;
    if (!c->link.utm_source[0]) /* the default: the influencer's platform */
        snprintf(c->link.utm_source, sizeof(c->link.utm_source), "%s", inf.platform);
    for (int attempt = 0; attempt < 8; attempt++) {
        rc = reg_put_link(t, &c->link);
        if (rc != STORE_EXISTS || !c->generated)
            return rc;
        id_slug_new(c->link.slug, 7);
    }
    return rc;
}

static int print_link(const rec_link *r, void *ctx)
{
    (void)ctx;
    printf("%-16s %-20s %-20s %s\n", r->slug, r->influencer, r->campaign, r->dest);
    return 0;
}

static int list_links(store_txn *t, void *ctx)
{
    (void)ctx;
    printf("%-16s %-20s %-20s %s\n", "SLUG", "INFLUENCER", "CAMPAIGN", "DESTINATION");
    return reg_each_link(t, print_link, NULL);
}

static int set_utm(char *dst, size_t cap, const char *flag, const char *v)
{
    if (!v)
        return 0;
    if (!text_valid_text(v, cap - 1))
        return cli_error("--%s must be 1-%zu bytes of UTF-8 text, no control characters", flag,
                         cap - 1),
               -1;
    snprintf(dst, cap, "%s", v);
    return 0;
}

int cmd_link(int argc, char **argv)
{
    static const int add_opts[] = {OPT_INFLUENCER, OPT_CAMPAIGN, OPT_TO,   OPT_SLUG,
                                   OPT_SOURCE,     OPT_MEDIUM,   OPT_CTAG, OPT_CONTENT,
                                   OPT_TERM,       OPT_PUBLIC,   0};
    static const int no_opts[] = {0};
    args a;
    const char *verb = argc > 1 ? argv[1] : "";
    if (!strcmp(verb, "list")) {
        if (parse(argc - 1, argv + 1, no_opts, &a))
            return CLI_USAGE;
        return with_read(ARG(&a, OPT_DATA), list_links, NULL);
    }
    if (strcmp(verb, "add"))
        return cli_error("usage: jejak link add --influencer ID --campaign ID --to URL "
                         "[--slug S] ... | jejak link list"),
               CLI_USAGE;
    if (parse(argc - 1, argv + 1, add_opts, &a))
        return CLI_USAGE;
    if (a.positional)
        return cli_error("unexpected argument '%s'", a.positional);
    link_ctx c;
    memset(&c, 0, sizeof(c));
    rec_link *l = &c.link;
    const char *inf = ARG(&a, OPT_INFLUENCER), *camp = ARG(&a, OPT_CAMPAIGN);
    const char *to = ARG(&a, OPT_TO), *slug = ARG(&a, OPT_SLUG);
    /* The printed address: --public-url, else `config set public-url`, else the default. */
    char configured[256] = "http://127.0.0.1:8080";
    if (!ARG(&a, OPT_PUBLIC)) {
        store *cs = cli_open(ARG(&a, OPT_DATA));
        store_txn *ct;
        if (!cs)
            return CLI_FAIL;
        if (store_read_begin(cs, &ct) == STORE_OK) {
            reg_get_config(ct, "public_url", configured, sizeof(configured));
            store_read_end(ct);
        }
        store_close(cs);
    }
    const char *pub = ARG(&a, OPT_PUBLIC) ? ARG(&a, OPT_PUBLIC) : configured;
    char err[256];
    if (!inf || !text_valid_id(inf))
        return cli_error("--influencer ID is required (an existing influencer)");
    if (!camp || !text_valid_id(camp))
        return cli_error("--campaign ID is required (an existing campaign)");
    if (!to)
        return cli_error("--to URL is required: where the link sends visitors");
    if (url_check_destination(to, err, sizeof(err)))
        return cli_error("--to refused: %s", err);
    if (slug && !text_valid_id(slug))
        return cli_error("--slug '%s' must be 1-64 letters, digits, '-' or '_'", slug);
    if (url_check_destination(pub, err, sizeof(err)))
        return cli_error("--public-url refused: %s", err);
    snprintf(l->dest, sizeof(l->dest), "%s", to);
    snprintf(l->influencer, sizeof(l->influencer), "%s", inf);
    snprintf(l->campaign, sizeof(l->campaign), "%s", camp);
    snprintf(l->utm_medium, sizeof(l->utm_medium), "influencer");
    snprintf(l->utm_campaign, sizeof(l->utm_campaign), "%s", camp);
    snprintf(l->utm_content, sizeof(l->utm_content), "%s", inf);
    if (set_utm(l->utm_source, sizeof(l->utm_source), "source", ARG(&a, OPT_SOURCE)) ||
        set_utm(l->utm_medium, sizeof(l->utm_medium), "medium", ARG(&a, OPT_MEDIUM)) ||
        set_utm(l->utm_campaign, sizeof(l->utm_campaign), "campaign-tag", ARG(&a, OPT_CTAG)) ||
        set_utm(l->utm_content, sizeof(l->utm_content), "content", ARG(&a, OPT_CONTENT)) ||
        set_utm(l->utm_term, sizeof(l->utm_term), "term", ARG(&a, OPT_TERM)))
        return CLI_FAIL;
    if (slug) {
        snprintf(l->slug, sizeof(l->slug), "%s", slug);
    } else {
        id_slug_new(l->slug, 7);
        c.generated = true;
    }
    l->created_ms = text_now_ms();
    int rc;
    if (with_write(ARG(&a, OPT_DATA), put_link, &c, &rc))
        return CLI_FAIL;
    if (rc == STORE_NOTFOUND)
        return cli_error("no %s '%s': add it first", c.missing, c.missing[0] == 'i' ? inf : camp);
    if (report_put(rc, "link", l->slug))
        return CLI_FAIL;
    size_t n = strlen(pub);
    printf("%.*s/l/%s\n", (int)(n && pub[n - 1] == '/' ? n - 1 : n), pub, l->slug);
    return CLI_OK;
}
