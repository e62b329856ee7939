/*
 * cli.h: the `jejak` command layer, shared by every subcommand: each command is one table
 * row (cli_cmd: its name, its usage, its options with their help lines, its subcommands,
 * the function that runs it), parsed by one option parser (cli_main, over getopt_long); the
 * usage text of `jejak help`, `jejak COMMAND --help` and the man page comes from those rows
 * only. Also here: the data folder, the one way a command opens the store, and reporting
 * errors (a message on stderr and a non-zero exit).
 *
 * Exit codes: CLI_OK, CLI_FAIL (the command failed), CLI_USAGE (the command line is wrong:
 * an unknown command or option, a missing argument; the usage goes to stderr).
 */
#ifndef JEJAK_CLI_H
#define JEJAK_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "storage/store.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* One option of a command: `--name ARG` (arg NULL: a flag). The id is the command's own
 * (any number but unique in the table), reported back in cli_args. --data and --help are implied
 * for every command. */
typedef struct {
    int id;
    const char *name;
    const char *arg;
    const char *help;
} cli_opt;

enum { CLI_MAX_GIVEN = 256 }; /* more than serve's 64 --exclude-ip and the rest */

typedef struct cli_cmd cli_cmd;

/* A parsed command line. Strings point into argv. */
typedef struct {
    const cli_cmd *cmd;
    const char *data; /* --data after the command, or NULL */
    int ngiven;       /* the options given, in order (a repeated one appears each time) */
    struct {
        int id;
        const char *arg; /* NULL for a flag */
    } given[CLI_MAX_GIVEN];
    int npos; /* the arguments that are not options, in order */
    char **pos;
} cli_args;

enum {
    CLI_READS = 1,       /* only reads: a missing folder or store is refused, not created */
    CLI_OWN_CRASHES = 2, /* no "the store is probably damaged" handler (serve, check) */
};

struct cli_cmd {
    const char *name;     /* "report"; a subcommand: "add" */
    const char *synopsis; /* what follows the name in the usage line: "ID --name NAME [options]" */
    const char *help;     /* one line: what it does */
    const cli_opt *opts;  /* ended by {0}; NULL: none but --data */
    int (*run)(const cli_args *a);
    const cli_cmd *subs; /* ended by {0}; a command with subcommands has no run */
    unsigned flags;
};

/* Runs `jejak [--data DIR] COMMAND [SUB] [options]` over the commands (ended by NULL):
 * `jejak help [COMMAND [SUB]]` and `--help`/`-h` print usage to stdout (exit 0); an
 * unknown command or option, or an option without its argument, names itself and prints
 * the usage to stderr (exit CLI_USAGE). Returns the exit status. */
int cli_main(const cli_cmd *const *commands, int argc, char **argv);

/* The last value given for option id, or NULL; whether it was given at all. */
const char *cli_get(const cli_args *a, int id);
bool cli_has(const cli_args *a, int id);

/* The data folder: the command's --data, else --data before the command, else $JEJAK_DATA,
 * else ./jejak-data. */
const char *cli_data_dir(const char *flag);
/* Opens the store of a->data, or prints why not; NULL on failure. A command marked
 * CLI_READS opens it as cli_open_existing, the others as cli_open. The caller closes it. */
store *cli_store(const cli_args *a);
/* Opens the store (creating the folder if missing) or prints why not; NULL on failure.
 * Two different --data, before and after the command, are refused. */
store *cli_open(const char *flag);
/* The same for a command that only reads: a missing folder or store is refused, and
 * nothing is created. */
store *cli_open_existing(const char *flag);
/* Runs fn in one read transaction of cli_store(a), then flushes stdout: CLI_OK, or
 * CLI_FAIL with the reason printed. */
int cli_read(const cli_args *a, int (*fn)(store_txn *, void *), void *ctx);
/* Runs fn in a write transaction of cli_store(a): CLI_FAIL if the store did not open
 * (said why), else CLI_OK with fn's result in *rc. */
int cli_update(const cli_args *a, store_update_fn fn, void *ctx, int *rc);

/* Reads the setting key (`jejak config set`) from cli_store(a) into value, which keeps
 * what it held (the default) if the setting is absent or unreadable. -1 if the store did
 * not open (said why), else 0. */
int cli_setting(const cli_args *a, const char *key, char *value, size_t cap);

/* Prints "jejak: <message>" on stderr; returns CLI_FAIL. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The commands, one row each, in the order `jejak help` lists them. */
extern const cli_cmd cli_cmd_serve, cli_cmd_influencer, cli_cmd_campaign, cli_cmd_link,
    cli_cmd_clicks, cli_cmd_shop, cli_cmd_coupon, cli_cmd_conversions, cli_cmd_report,
    cli_cmd_metrics, cli_cmd_cost, cli_cmd_config, cli_cmd_apikey, cli_cmd_rollups, cli_cmd_check;

#endif
