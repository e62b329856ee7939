/*
 * jejak.c: the `jejak` program: git-style subcommands over one data folder.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/cli.h"

static const char usage[] =
    "usage: jejak [--data DIR] <command> [options]\n"
    "\n"
    "  serve [--listen ADDR:PORT] [--demo] [--no-ip] [--no-user-agent] [--no-referrer]\n"
    "        [--exclude-ip CIDR]... [--trust-proxy] [--threads N] [--lookback-days N]\n"
    "        [--coupon-priority] [--flood-limit N] [--conn-limit N] [--timeout S]\n"
    "        [--public-url URL]\n"
    "                          run the tracker (redirects, clicks)\n"
    "  influencer add ID --name NAME --platform P [--handle H] [--followers N]\n"
    "  influencer list\n"
    "  campaign add ID --name NAME [--start YYYY-MM-DD] [--end YYYY-MM-DD]\n"
    "  campaign list\n"
    "  link add --influencer ID --campaign ID --to URL [--slug S] [--source S] [--medium M]\n"
    "           [--campaign-tag C] [--content C] [--term T] [--public-url URL]\n"
    "  link list\n"
    "  clicks export [--since TIME] [--format jsonl|csv]\n"
    "  shop add ID             prints the shop's secret and token, once\n"
    "  shop list\n"
    "  coupon add CODE --influencer ID --campaign ID\n"
    "  coupon list\n"
    "  conversions export [--format jsonl|csv]\n"
    "  report [--by influencer|campaign|link|source|medium|content|day|tier]...\n"
    "         [--model last-click|first-click|linear|time-decay|position-based]\n"
    "         [--from DATE] [--to DATE] [--tz ZONE] [--influencer ID] [--campaign ID]\n"
    "         [--currency CODE] [--format table|csv|json] [--wide]\n"
    "  metrics import FILE.csv\n"
    "  cost add --influencer ID [--campaign ID] --amount A --currency C [--date D]\n"
    "  cost model --influencer ID [--campaign ID] cpc|cpa PRICE CURRENCY | revshare PCT%\n"
    "  config set tz ZONE | config set public-url URL | config get tz|public-url\n"
    "  apikey add --role admin|influencer:ID\n"
    "  rollups rebuild [--check]\n"
    "  check [--rollups]       walk every record and say what is damaged\n"
    "\n"
    "Every command takes --data DIR, before or after the command (default $JEJAK_DATA or\n"
    "./jejak-data). Commands that only read (list, export, report, config get, rollups)\n"
    "refuse a folder that does not exist; the others create it.\n";

/* --data given before the command (jejak --data DIR report). */
static const char *global_data;

const char *cli_data_dir(const char *flag)
{
    if (flag && *flag)
        return flag;
    if (global_data)
        return global_data;
    const char *env = getenv("JEJAK_DATA");
    return env && *env ? env : "./jejak-data";
}

static store *open_store(const char *flag, bool existing)
{
    if (flag && global_data && strcmp(flag, global_data)) {
        cli_error("--data is given twice, as %s and %s", global_data, flag);
        return NULL;
    }
    char err[512] = "";
    store *s = NULL;
    const char *dir = cli_data_dir(flag);
    int rc = existing ? store_open_existing(&s, dir, err, sizeof(err))
                      : store_open(&s, dir, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "jejak: %s\n", err);
        return NULL;
    }
    return s;
}

store *cli_open(const char *flag)
{
    return open_store(flag, false);
}

store *cli_open_existing(const char *flag)
{
    return open_store(flag, true);
}

int cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("jejak: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_FAIL;
}

/* LMDB keeps no checksums: a damaged B-tree page can make liblmdb read outside its map
 * (SIGSEGV, SIGBUS) or fail an assertion (SIGABRT). A command other than serve then says
 * so and exits 1 rather than dying without a word; `jejak check` finds what is damaged.
 * The daemon keeps the default: a crash there must stay a crash (a core, a restart); and
 * `jejak check` runs its walk in a child of its own, to name the table it was reading. */
static char crash_msg[256];
static size_t crash_len;

static void on_crash(int sig)
{
    (void)sig;
    if (write(2, crash_msg, crash_len) < 0)
        _exit(1);
    _exit(1);
}

static void crash_message(int argc, char **argv)
{
    const char *data = global_data;
    for (int i = 2; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--data"))
            data = argv[i + 1];
    int n = snprintf(crash_msg, sizeof(crash_msg),
                     "jejak: %s crashed reading the store in %s: it is probably damaged "
                     "(LMDB keeps no checksums); run `jejak check`\n",
                     argv[1], cli_data_dir(data));
    crash_len = n < 0 ? 0 : (size_t)n < sizeof(crash_msg) ? (size_t)n : sizeof(crash_msg) - 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"serve", cmd_serve},       {"influencer", cmd_influencer},
                {"campaign", cmd_campaign}, {"link", cmd_link},
                {"clicks", cmd_clicks},     {"shop", cmd_shop},
                {"coupon", cmd_coupon},     {"conversions", cmd_conversions},
                {"report", cmd_report},     {"metrics", cmd_metrics},
                {"cost", cmd_cost},         {"config", cmd_config},
                {"apikey", cmd_apikey},     {"rollups", cmd_rollups},
                {"check", cmd_check}};
    /* Options before the command: only --data. */
    int first = 1;
    while (first < argc) {
        const char *opt = argv[first], *dir;
        if (!strcmp(opt, "--data"))
            dir = first + 1 < argc ? argv[++first] : "";
        else if (!strncmp(opt, "--data=", 7))
            dir = opt + 7;
        else
            break;
        first++;
        if (!*dir) {
            fprintf(stderr, "jejak: --data needs a folder\n\n%s", usage);
            return CLI_USAGE;
        }
        if (global_data && strcmp(global_data, dir))
            return cli_error("--data is given twice, as %s and %s", global_data, dir), CLI_USAGE;
        global_data = dir;
    }
    argc -= first - 1;
    argv += first - 1;
    if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "-h")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (!strcmp(argv[1], cmds[i].name)) {
            if (strcmp(argv[1], "serve") && strcmp(argv[1], "check"))
                crash_message(argc, argv);
            return cmds[i].fn(argc - 1, argv + 1);
        }
    }
    if (argv[1][0] == '-')
        fprintf(stderr,
                "jejak: unknown option '%s' (only --data DIR goes before the command)\n\n%s",
                argv[1], usage);
    else
        fprintf(stderr, "jejak: unknown command '%s'\n\n%s", argv[1], usage);
    return CLI_USAGE;
}
