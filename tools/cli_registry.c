/*
 * cli_registry.c: `jejak influencer|campaign|link add|list`: the registries a marketer
 * fills before sharing links. Every field is checked before anything is written; a
 * refused command stores nothing.
 */
#include <errno.h>
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
    OPT_NAME = 1,
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

typedef struct {
    const char *v[OPT_PUBLIC + 1];
    const char *positional;
    const cli_args *ca;
} args;

#define ARG(a, opt) ((a)->v[(opt)])

/* Takes the options given and at most one argument. */
static int load(const cli_args *ca, args *a)
{
    memset(a, 0, sizeof(*a));
    a->ca = ca;
    for (int i = 0; i < ca->ngiven; i++)
        a->v[ca->given[i].id] = ca->given[i].arg;
    if (ca->npos > 0)
        a->positional = ca->pos[0];
    if (ca->npos > 1)
        return cli_error("unexpected argument '%s'", ca->pos[1]), -1;
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

static int influencer_list(const cli_args *ca)
{
    args a;
    if (load(ca, &a))
        return CLI_USAGE;
    return cli_read(ca, list_influencers, NULL);
}

static int influencer_add(const cli_args *ca)
{
    args a;
    if (load(ca, &a))
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
    if (cli_update(ca, put_influencer, &r, &rc))
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

static int campaign_list(const cli_args *ca)
{
    args a;
    if (load(ca, &a))
        return CLI_USAGE;
    return cli_read(ca, list_campaigns, NULL);
}

static int campaign_add(const cli_args *ca)
{
    args a;
    if (load(ca, &a))
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
    if (cli_update(ca, put_campaign, &r, &rc))
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

static int link_list(const cli_args *ca)
{
    args a;
    if (load(ca, &a))
        return CLI_USAGE;
    return cli_read(ca, list_links, NULL);
}

static int link_add(const cli_args *ca)
{
    args a;
    if (load(ca, &a))
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
    if (!ARG(&a, OPT_PUBLIC) && cli_setting(ca, "public_url", configured, sizeof(configured)))
        return CLI_FAIL;
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
    if (cli_update(ca, put_link, &c, &rc))
        return CLI_FAIL;
    if (rc == STORE_NOTFOUND)
        return cli_error("no %s '%s': add it first", c.missing, c.missing[0] == 'i' ? inf : camp);
    if (report_put(rc, "link", l->slug))
        return CLI_FAIL;
    size_t n = strlen(pub);
    printf("%.*s/l/%s\n", (int)(n && pub[n - 1] == '/' ? n - 1 : n), pub, l->slug);
    return CLI_OK;
}

/* ---- the commands ----------------------------------------------------------------- */

static const cli_opt influencer_opts[] = {
    {OPT_NAME, "name", "NAME", "the name shown in reports (required)"},
    {OPT_PLATFORM, "platform", "P", "instagram, tiktok, youtube, x, ... (required)"},
    {OPT_HANDLE, "handle", "H", "the account's handle, such as @ayu.ramadan"},
    {OPT_FOLLOWERS, "followers", "N", "the follower count (for engagement rates and tiers)"},
    {0, NULL, NULL, NULL}};

static const cli_cmd influencer_subs[] = {
    {"add", "ID --name NAME --platform P [options]", "register an influencer", influencer_opts,
     influencer_add, NULL, 0},
    {"list", "", "list the influencers", NULL, influencer_list, NULL, CLI_READS},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0}};

const cli_cmd cli_cmd_influencer = {
    "influencer", "COMMAND", "the influencers who share links", NULL, NULL, influencer_subs, 0};

static const cli_opt campaign_opts[] = {
    {OPT_NAME, "name", "NAME", "the name shown in reports (required)"},
    {OPT_START, "start", "YYYY-MM-DD", "the first day of the campaign"},
    {OPT_END, "end", "YYYY-MM-DD", "the last day of the campaign"},
    {0, NULL, NULL, NULL}};

static const cli_cmd campaign_subs[] = {
    {"add", "ID --name NAME [options]", "register a campaign", campaign_opts, campaign_add, NULL,
     0},
    {"list", "", "list the campaigns", NULL, campaign_list, NULL, CLI_READS},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0}};

const cli_cmd cli_cmd_campaign = {
    "campaign", "COMMAND", "the campaigns links belong to", NULL, NULL, campaign_subs, 0};

static const cli_opt link_opts[] = {
    {OPT_INFLUENCER, "influencer", "ID", "the influencer who shares the link (required)"},
    {OPT_CAMPAIGN, "campaign", "ID", "the campaign it belongs to (required)"},
    {OPT_TO, "to", "URL", "where the link sends visitors (required)"},
    {OPT_SLUG, "slug", "S", "the link's path, /l/S (default: 7 random characters)"},
    {OPT_SOURCE, "source", "S", "utm_source (default: the influencer's platform)"},
    {OPT_MEDIUM, "medium", "M", "utm_medium (default: influencer)"},
    {OPT_CTAG, "campaign-tag", "C", "utm_campaign (default: the campaign's ID)"},
    {OPT_CONTENT, "content", "C", "utm_content (default: the influencer's ID)"},
    {OPT_TERM, "term", "T", "utm_term"},
    {OPT_PUBLIC, "public-url", "URL", "the address printed (default: config public-url)"},
    {0, NULL, NULL, NULL}};

static const cli_cmd link_subs[] = {
    {"add", "--influencer ID --campaign ID --to URL [options]",
     "create a tracking link and print its address", link_opts, link_add, NULL, 0},
    {"list", "", "list the tracking links", NULL, link_list, NULL, CLI_READS},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0}};

const cli_cmd cli_cmd_link = {
    "link", "COMMAND", "the tracking links influencers share", NULL, NULL, link_subs, 0};
