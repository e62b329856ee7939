/*
 * cli.h: what the `jejak` subcommands share: the data folder, opening the store, and
 * reporting errors (a message on stderr and a non-zero exit).
 */
#ifndef JEJAK_CLI_H
#define JEJAK_CLI_H

#include <stdbool.h>

#include "storage/store.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* The data folder: the command's --data, else --data before the command, else $JEJAK_DATA,
 * else ./jejak-data. */
const char *cli_data_dir(const char *flag);
/* Opens the store (creating the folder if missing) or prints why not; NULL on failure.
 * Two different --data, before and after the command, are refused. */
store *cli_open(const char *flag);
/* The same for a command that only reads: a missing folder or store is refused, and
 * nothing is created. */
store *cli_open_existing(const char *flag);
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_serve(int argc, char **argv);
int cmd_influencer(int argc, char **argv);
int cmd_campaign(int argc, char **argv);
int cmd_link(int argc, char **argv);
int cmd_clicks(int argc, char **argv);
int cmd_shop(int argc, char **argv);
int cmd_coupon(int argc, char **argv);
int cmd_conversions(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_cost(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_apikey(int argc, char **argv);
int cmd_rollups(int argc, char **argv);
int cmd_check(int argc, char **argv);

#endif
