/* SPDX-License-Identifier: GPL-2.0 */
/* Subcommands of the xwgp binary; main.c dispatches to these. */
#ifndef XWGP_CMDS_H
#define XWGP_CMDS_H

/* Each returns the process exit status; argv[0] is the subcommand name. */
int cmd_server(int argc, char **argv);
int cmd_client(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_down(int argc, char **argv);

#endif
