/*
 * cli.h: what the `jejak` subcommands share: the data folder, opening the store, and
 * reporting errors (a message on stderr and a non-zero exit).
 */
#ifndef JEJAK_CLI_H
#define JEJAK_CLI_H

#include <stdbool.h>

#include "storage/store.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* The data folder: --data, else $JEJAK_DATA, else ./jejak-data. */
const char *cli_data_dir(const char *flag);
/* Opens the store or prints why not; NULL on failure. */
store *cli_open(const char *flag);
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True if s is non-empty text of at most max bytes with no control characters. */
bool cli_valid_text(const char *s, size_t max);

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
