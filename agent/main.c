// SPDX-License-Identifier: GPL-2.0
/*
 * xwgp: WireGuard port-multiplexing proxy with an XDP data path.
 * main() only parses global options and dispatches to a subcommand.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "config.h"
#include "log.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	bool keys; /* holds private keys or passwords: made non-dumpable first */
};

static const struct command commands[] = {
	{ "server", cmd_server, "run the proxy: XDP fast path + handshake agent", true },
	{ "client", cmd_client, "run the mwgp client: local WireGuard -> (obfuscated) server", true },
	{ "show", cmd_show, "print sessions and counters of a running instance", false },
	{ "stats", cmd_stats, "print the counters (optionally every N seconds)", false },
	{ "down", cmd_down, "detach XDP and remove an instance's pinned maps", false },
	{ "check-config", cmd_check_config, "validate a config file and print it resolved (keys redacted)",
	  true },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: xwgp [-v|-q] COMMAND [ARGS...]\n"
		     "\n"
		     "WireGuard port-multiplexing proxy: many WireGuard servers behind one UDP\n"
		     "port, routed by the client's public key, transport forwarded in XDP.\n"
		     "\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n"
		     "Global options:\n"
		     "  -v, --verbose  debug logging (also libbpf/libxdp messages)\n"
		     "  -q, --quiet    warnings and errors only\n"
		     "  -h, --help     this help\n"
		     "\n"
		     "Run `xwgp COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			log_level = LOG_DEBUG;
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			log_level = LOG_WARN;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			pr_err("unknown option `%s'", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	log_setup_libbpf();
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name))
			continue;
		if (commands[c].keys && config_protect_process())
			pr_warn("cannot mark the process non-dumpable: %m");
		return commands[c].fn(argc - i, argv + i);
	}
	pr_err("unknown command `%s'", argv[i]);
	usage(stderr);
	return 2;
}
