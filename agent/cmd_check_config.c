// SPDX-License-Identifier: GPL-2.0
/*
 * xwgp check-config: validate a server or client config and print it
 * resolved, the way the agent would use it, with secrets redacted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "cmds.h"
#include "config.h"
#include "log.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: xwgp check-config [--server|--client] FILE\n"
		"\n"
		"Validate an xwgp (mwgp-compatible) config file, JSON or JSON5 (comments,\n"
		"unquoted keys, single quotes, hex numbers...), and print it resolved:\n"
		"defaults filled in, forward_to hosts completed with the server address,\n"
		"host names resolved, csvl/ssvl inherited down to each peer, public keys\n"
		"derived. Private keys and the obfs password are never printed.\n"
		"\n"
		"The kind of config is detected from its top-level keys: `servers' means a\n"
		"server config, `server' a client config.\n"
		"\n"
		"Options:\n"
		"  --server    treat FILE as a server config\n"
		"  --client    treat FILE as a client config\n"
		"  -h, --help  this help\n"
		"\n"
		"Exit status: 0 valid, 1 invalid or unreadable, 2 usage error.\n");
}

struct check_args {
	const char *path;
	int kind; /* enum xwgp_config_kind, or -1: detect */
};

/* 0: run; 1: --help printed; -EINVAL: usage error (printed). */
static int parse_args(int argc, char **argv, struct check_args *a)
{
	bool opts = true;
	int i;

	a->path = NULL;
	a->kind = -1;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (opts && (!strcmp(arg, "-h") || !strcmp(arg, "--help"))) {
			usage(stdout);
			return 1;
		} else if (opts && !strcmp(arg, "--server")) {
			a->kind = XWGP_CONFIG_SERVER;
		} else if (opts && !strcmp(arg, "--client")) {
			a->kind = XWGP_CONFIG_CLIENT;
		} else if (opts && !strcmp(arg, "--")) {
			opts = false;
		} else if (opts && arg[0] == '-' && arg[1]) {
			pr_err("check-config: unknown option `%s'", arg);
			usage(stderr);
			return -EINVAL;
		} else if (a->path) {
			pr_err("check-config: more than one FILE (`%s', `%s')", a->path, arg);
			usage(stderr);
			return -EINVAL;
		} else {
			a->path = arg;
		}
	}
	if (!a->path) {
		pr_err("check-config: FILE missing");
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static int check_server(const char *text, const char *path)
{
	struct xwgp_server_config c;

	struct stat st;

	if (config_parse_server(text, path, &c))
		return 1;
	if (!stat(path, &st))
		config_warn_inline_keys(path, st.st_mode, &c);
	config_print_server(stdout, &c);
	config_free_server(&c);
	return 0;
}

static int check_client(const char *text, const char *path)
{
	struct xwgp_client_config c;

	if (config_parse_client(text, path, &c))
		return 1;
	config_print_client(stdout, &c);
	config_free_client(&c);
	return 0;
}

int cmd_check_config(int argc, char **argv)
{
	struct check_args a;
	enum xwgp_config_kind kind;
	char *text;
	int ret;

	ret = parse_args(argc, argv, &a);
	if (ret)
		return ret > 0 ? 0 : 2;
	ret = config_read_file(a.path, &text);
	if (ret) {
		pr_err("%s: cannot read: %s", a.path,
		       ret == -EILSEQ ? "not a text file (NUL byte)" : strerror(-ret));
		return 1;
	}
	ret = 1;
	if (a.kind >= 0)
		kind = (enum xwgp_config_kind)a.kind;
	else if (config_detect_kind(text, a.path, &kind))
		goto out;
	if (kind == XWGP_CONFIG_SERVER)
		ret = check_server(text, a.path);
	else
		ret = check_client(text, a.path);
out:
	/* The text may hold inline private keys. */
	sodium_memzero(text, strlen(text));
	free(text);
	if (ret)
		pr_err("%s: invalid config", a.path);
	return ret;
}
