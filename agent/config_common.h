/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by config_server.c and config_client.c (not a public API). */
#ifndef XWGP_CONFIG_COMMON_H
#define XWGP_CONFIG_COMMON_H

#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "config_json.h"
#include "xwgp_abi.h"
#include "xwgp_svl.h"

/* Smallest packet worth accepting: a handshake initiation. */
#define MIN_PACKET_SIZE 148

/* `obfs' and `cache_file_path' ("" as absent), copied to the heap. */
void cfg_parse_optional_strings(struct cfg_ctx *ctx, const cJSON *root, char **obfs,
				char **cache_file_path);

/*
 * Read path, then parse it with parse_fn; the text (keys inside) is wiped
 * either way. *mode: the file's st_mode (0 if unknown).
 */
int cfg_load_file(const char *path, void *out,
		  int (*parse_fn)(const char *text, const char *source, void *out), mode_t *mode);

#endif /* XWGP_CONFIG_COMMON_H */
