/*
 * cli.c: the command layer of `jejak` (cli.h): finds the command and subcommand in the
 * table, parses their options with getopt_long from the same rows that write the usage,
 * answers help and command-line mistakes, and opens the store the one way every command
 * shares. The commands themselves live in cli_*.c; the program's table in jejak.c.
 */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/registry.h"
#include "tools/cli.h"

enum { OPT_BASE = 1000, OPT_DATA = 1, OPT_HELP = 2, MAX_OPTS = 48, HELP_COL = 26 };

/* --data given before the command (jejak --data DIR report). */
static const char *global_data;

static const char data_help[] = "the data folder (default $JEJAK_DATA or ./jejak-data)";

static const char global_text[] =
    "Every command takes --data DIR, before or after the command (default $JEJAK_DATA or\n"
    "./jejak-data). Commands that only read (list, export, report, config get, rollups,\n"
    "check) refuse a folder that does not exist; the others create it.\n"
    "Run `jejak COMMAND --help` (or `jejak help COMMAND [SUB]`) for a command's options.\n";

/* ---- usage ------------------------------------------------------------------------ */

/* "  LEFT<padding>HELP": one line, the help starting at HELP_COL (or two spaces on). */
static void help_line(FILE *f, const char *left, const char *help)
{
    int n = fprintf(f, "  %s", left);
    int pad = HELP_COL - n;
    fprintf(f, "%*s%s\n", pad < 2 ? 2 : pad, "", help);
}

static void opt_line(FILE *f, const char *name, const char *arg, const char *help)
{
    char left[80];
    snprintf(left, sizeof(left), "--%s%s%s", name, arg ? " " : "", arg ? arg : "");
    help_line(f, left, help);
}

static void usage(FILE *f, const cli_cmd *parent, const cli_cmd *c)
{
    char name[64];
    snprintf(name, sizeof(name), "%s%s%s", parent ? parent->name : "", parent ? " " : "", c->name);
    if (c->subs) {
        fprintf(f, "usage: jejak %s COMMAND [options]\n\n%s\n\ncommands:\n", name, c->help);
        for (const cli_cmd *s = c->subs; s->name; s++) {
            help_line(f, s->name, s->help);
        }
        fprintf(f, "\nRun `jejak %s COMMAND --help` for a command's options.\n", name);
        return;
    }
    fprintf(f, "usage: jejak %s%s%s\n\n%s\n\noptions:\n", name, *c->synopsis ? " " : "",
            c->synopsis, c->help);
    for (const cli_opt *o = c->opts; o && o->name; o++)
        opt_line(f, o->name, o->arg, o->help);
    opt_line(f, "data", "DIR", data_help);
    opt_line(f, "help", NULL, "print this help and exit (also -h)");
}

static void global_usage(FILE *f, const cli_cmd *const *cmds)
{
    fputs("usage: jejak [--data DIR] COMMAND [options]\n\ncommands:\n", f);
    for (; *cmds; cmds++) {
        const cli_cmd *c = *cmds;
        if (!c->subs) {
            help_line(f, c->name, c->help);
            continue;
        }
        for (const cli_cmd *s = c->subs; s->name; s++) {
            char left[64];
            snprintf(left, sizeof(left), "%s %s", c->name, s->name);
            help_line(f, left, s->help);
        }
    }
    help_line(f, "help [COMMAND [SUB]]", "print a command's usage and options");
    fprintf(f, "\n%s", global_text);
}

/* ---- parsing ---------------------------------------------------------------------- */

static const cli_cmd *find(const cli_cmd *const *cmds, const char *name)
{
    for (; *cmds; cmds++)
        if (!strcmp((*cmds)->name, name))
            return *cmds;
    return NULL;
}

static const cli_cmd *find_sub(const cli_cmd *c, const char *name)
{
    for (const cli_cmd *s = c->subs; s->name; s++)
        if (!strcmp(s->name, name))
            return s;
    return NULL;
}

/* A command-line mistake: "jejak NAME: what", then the usage on stderr. */
static int mistake(const cli_cmd *parent, const cli_cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int mistake(const cli_cmd *parent, const cli_cmd *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "jejak %s%s%s: ", parent ? parent->name : "", parent ? " " : "", c->name);
    vfprintf(stderr, fmt, ap);
    fputs("\n\n", stderr);
    va_end(ap);
    usage(stderr, parent, c);
    return CLI_USAGE;
}

/* Parses argv (argv[0] is the command's own name) into *a. Returns -1 to go on, else the
 * exit status (help printed, or a mistake named). */
static int parse(const cli_cmd *parent, const cli_cmd *c, int argc, char **argv, cli_args *a)
{
    struct option longs[MAX_OPTS + 3];
    size_t n = 0;
    for (const cli_opt *o = c->opts; o && o->name && n < MAX_OPTS; o++, n++)
        longs[n] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
                                   OPT_BASE + (int)n};
    longs[n++] = (struct option){"data", required_argument, NULL, OPT_DATA};
    longs[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    longs[n] = (struct option){NULL, 0, NULL, 0};
    memset(a, 0, sizeof(*a));
    a->cmd = c;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
        if (ch == 'h' || ch == OPT_HELP) {
            usage(stdout, parent, c);
            return fflush(stdout) ? CLI_FAIL : CLI_OK;
        }
        if (ch == OPT_DATA) {
            a->data = optarg;
            continue;
        }
        if (ch == ':' || ch == '?') {
            const struct option *o = NULL;
            for (size_t i = 0; longs[i].name; i++)
                if (longs[i].val == optopt)
                    o = &longs[i];
            if (ch == ':' && o)
                return mistake(parent, c, "option '--%s' needs an argument", o->name);
            if (o)
                return mistake(parent, c, "option '--%s' takes no argument", o->name);
            if (optopt > 0 && optopt < 256)
                return mistake(parent, c, "unknown option '-%c'", optopt);
            const char *bad = argv[optind - 1];
            return mistake(parent, c, "unknown option '%.*s'", (int)strcspn(bad, "="), bad);
        }
        if (a->ngiven == CLI_MAX_GIVEN)
            return mistake(parent, c, "more than %d options", CLI_MAX_GIVEN);
        a->given[a->ngiven].id = c->opts[ch - OPT_BASE].id;
        a->given[a->ngiven++].arg = optarg;
    }
    a->npos = argc - optind;
    a->pos = argv + optind;
    return -1;
}

/* ---- crashes ---------------------------------------------------------------------- */

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

static void crash_message(const char *command, const char *data)
{
    int n = snprintf(crash_msg, sizeof(crash_msg),
                     "jejak: %s crashed reading the store in %s: it is probably damaged "
                     "(LMDB keeps no checksums); run `jejak check`\n",
                     command, cli_data_dir(data));
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

/* ---- the program ------------------------------------------------------------------ */

static bool is_help(const char *s)
{
    return !strcmp(s, "--help") || !strcmp(s, "-h");
}

/* `jejak help [COMMAND [SUB]]`. */
static int help(const cli_cmd *const *cmds, int argc, char **argv)
{
    if (argc < 1) {
        global_usage(stdout, cmds);
        return fflush(stdout) ? CLI_FAIL : CLI_OK;
    }
    const cli_cmd *c = find(cmds, argv[0]), *s = NULL;
    if (!c) {
        fprintf(stderr, "jejak help: unknown command '%s'\n\n", argv[0]);
        global_usage(stderr, cmds);
        return CLI_USAGE;
    }
    if (argc > 1 && c->subs && !(s = find_sub(c, argv[1])))
        return mistake(NULL, c, "unknown command '%s'", argv[1]);
    if (argc > (c->subs ? 2 : 1)) {
        fprintf(stderr, "jejak help: unexpected argument '%s'\n", argv[c->subs ? 2 : 1]);
        return CLI_USAGE;
    }
    if (s)
        usage(stdout, c, s);
    else
        usage(stdout, NULL, c);
    return fflush(stdout) ? CLI_FAIL : CLI_OK;
}

int cli_main(const cli_cmd *const *cmds, int argc, char **argv)
{
    /* Options before the command: only --data (and --help). */
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
            fputs("jejak: --data needs a folder\n\n", stderr);
            global_usage(stderr, cmds);
            return CLI_USAGE;
        }
        if (global_data && strcmp(global_data, dir))
            return cli_error("--data is given twice, as %s and %s", global_data, dir), CLI_USAGE;
        global_data = dir;
    }
    argc -= first;
    argv += first;
    if (argc < 1) {
        global_usage(stderr, cmds);
        return CLI_USAGE;
    }
    if (!strcmp(argv[0], "help") || is_help(argv[0]))
        return help(cmds, argc - 1, argv + 1);
    const cli_cmd *parent = NULL, *c = find(cmds, argv[0]);
    if (!c) {
        if (argv[0][0] == '-')
            fprintf(stderr,
                    "jejak: unknown option '%s' (only --data DIR goes before the command)\n\n",
                    argv[0]);
        else
            fprintf(stderr, "jejak: unknown command '%s'\n\n", argv[0]);
        global_usage(stderr, cmds);
        return CLI_USAGE;
    }
    if (c->subs) {
        if (argc < 2)
            return mistake(NULL, c, "missing command");
        if (is_help(argv[1])) {
            usage(stdout, NULL, c);
            return fflush(stdout) ? CLI_FAIL : CLI_OK;
        }
        parent = c;
        if (!(c = find_sub(parent, argv[1])))
            return mistake(NULL, parent, "unknown command '%s'", argv[1]);
        argc--;
        argv++;
    }
    cli_args a;
    int rc = parse(parent, c, argc, argv, &a);
    if (rc >= 0)
        return rc;
    if (!(c->flags & CLI_OWN_CRASHES))
        crash_message(parent ? parent->name : c->name, a.data ? a.data : global_data);
    return c->run(&a);
}

/* ---- what commands share ---------------------------------------------------------- */

const char *cli_get(const cli_args *a, int id)
{
    const char *v = NULL;
    for (int i = 0; i < a->ngiven; i++)
        if (a->given[i].id == id)
            v = a->given[i].arg;
    return v;
}

bool cli_has(const cli_args *a, int id)
{
    for (int i = 0; i < a->ngiven; i++)
        if (a->given[i].id == id)
            return true;
    return false;
}

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

store *cli_store(const cli_args *a)
{
    return open_store(a->data, a->cmd->flags & CLI_READS);
}

int cli_read(const cli_args *a, int (*fn)(store_txn *, void *), void *ctx)
{
    store *s = cli_store(a);
    if (!s)
        return CLI_FAIL;
    store_txn *t;
    int rc = store_read_begin(s, &t);
    if (rc == STORE_OK) {
        rc = fn(t, ctx);
        store_read_end(t);
    }
    store_close(s);
    if (fflush(stdout) || rc)
        return cli_error("cannot read the store: %s", store_strerror(rc));
    return CLI_OK;
}

int cli_update(const cli_args *a, store_update_fn fn, void *ctx, int *rc)
{
    store *s = cli_store(a);
    if (!s)
        return CLI_FAIL;
    *rc = store_update(s, fn, ctx);
    store_close(s);
    return CLI_OK;
}

int cli_setting(const cli_args *a, const char *key, char *value, size_t cap)
{
    store *s = cli_store(a);
    if (!s)
        return -1;
    store_txn *t;
    if (store_read_begin(s, &t) == STORE_OK) {
        reg_get_config(t, key, value, cap);
        store_read_end(t);
    }
    store_close(s);
    return 0;
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
