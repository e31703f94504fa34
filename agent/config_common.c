// SPDX-License-Identifier: GPL-2.0
/*
 * What server and client configs share: reading the file, telling the two
 * kinds apart, and the optional mwgp keys both have.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "config_common.h"
#include "config_json.h"
#include "log.h"

#define CONFIG_FILE_MAX (16u << 20)

void cfg_parse_optional_strings(struct cfg_ctx *ctx, const cJSON *root, char **obfs,
				char **cache_file_path)
{
	const char *v;

	if (!cfg_get_nonempty(ctx, root, "", "obfs", &v) && v)
		*obfs = cfg_strdup(ctx, v);
	if (!cfg_get_nonempty(ctx, root, "", "cache_file_path", &v) && v)
		*cache_file_path = cfg_strdup(ctx, v);
}

/* config_read_file(), and the file's mode bits (for the permission warning). */
static int read_text(const char *path, char **text, mode_t *mode)
{
	struct stat st;
	size_t len = 0;
	char *buf;
	int fd, ret;

	*text = NULL;
	*mode = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!fstat(fd, &st))
		*mode = st.st_mode;
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	ret = cfg_read_fd(fd, buf, CONFIG_FILE_MAX + 1, &len);
	close(fd);
	if (ret) {
		sodium_memzero(buf, len);
		free(buf);
		return ret;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		sodium_memzero(buf, len);
		free(buf);
		return -EILSEQ; /* a NUL byte: not a text file */
	}
	*text = buf;
	return 0;
}

int config_read_file(const char *path, char **text)
{
	mode_t mode;

	return read_text(path, text, &mode);
}

int cfg_load_file(const char *path, void *out,
		  int (*parse_fn)(const char *, const char *, void *), mode_t *mode)
{
	char *text;
	int ret;

	ret = read_text(path, &text, mode);
	if (ret) {
		pr_err("%s: cannot read: %s", path,
		       ret == -EILSEQ ? "not a text file (NUL byte)" : strerror(-ret));
		return ret;
	}
	ret = parse_fn(text, path, out);
	sodium_memzero(text, strlen(text));
	free(text);
	return ret;
}

void config_warn_inline_keys(const char *path, unsigned int mode,
			     const struct xwgp_server_config *c)
{
	size_t i;

	if (!(mode & (S_IRGRP | S_IROTH)))
		return;
	for (i = 0; i < c->n_servers; i++) {
		if (c->servers[i].privkey_file)
			continue;
		pr_warn("%s: holds servers[%zu].privkey inline and is readable by group/others "
			"(mode %04o): chmod 600 it, or use privkey_file",
			path, i, mode & 07777);
		return; /* one warning per file */
	}
}

int config_protect_process(void)
{
	/* No core dump and no ptrace/proc access by the same user: the keys stay in here. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return -errno;
	return 0;
}

int config_detect_kind(const char *json_text, const char *source_name,
		       enum xwgp_config_kind *kind)
{
	struct cfg_ctx ctx = { .source = source_name ? source_name : "<config>" };
	bool servers, server;
	cJSON *root;

	if (cfg_parse_root(&ctx, json_text, &root))
		return ctx.err;
	servers = cJSON_HasObjectItem(root, "servers");
	server = cJSON_HasObjectItem(root, "server");
	cfg_json_free(root);
	if (servers == server) {
		cfg_err(&ctx, -EINVAL,
			"cannot tell server from client config: %s (use --server or --client)",
			servers ? "both `servers' and `server' present"
				: "neither `servers' nor `server' present");
		return -EINVAL;
	}
	*kind = servers ? XWGP_CONFIG_SERVER : XWGP_CONFIG_CLIENT;
	return 0;
}

