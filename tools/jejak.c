/*
 * jejak.c: the `jejak` program: git-style subcommands over one data folder. The commands
 * are rows of one table (cli.h); each row's file (cli_*.c) holds its usage and its code.
 */
#include "tools/cli.h"

int main(int argc, char **argv)
{
    static const cli_cmd *const commands[] = {
        &cli_cmd_serve,  &cli_cmd_influencer, &cli_cmd_campaign, &cli_cmd_link,
        &cli_cmd_clicks, &cli_cmd_shop,       &cli_cmd_coupon,   &cli_cmd_conversions,
        &cli_cmd_report, &cli_cmd_metrics,    &cli_cmd_cost,     &cli_cmd_config,
        &cli_cmd_apikey, &cli_cmd_rollups,    &cli_cmd_check,    NULL};
    return cli_main(commands, argc, argv);
}
