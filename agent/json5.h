/* SPDX-License-Identifier: GPL-2.0 */
/*
 * JSON5 text (spec.json5.org) into a cJSON tree. The config layer
 * (config_json.c) reads files through this; nothing here knows about keys.
 *
 * On a refusal the error names the byte offset, line and column (both from
 * 1; columns count bytes) of the offending input and what was expected.
 */
#ifndef XWGP_JSON5_H
#define XWGP_JSON5_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct json5_error {
	int code; /* -EINVAL, or -ENOMEM */
	size_t offset; /* byte offset into the text */
	unsigned int line, column;
	char msg[96]; /* e.g. "unterminated comment" */
};

/* The parsed tree (free with cJSON_Delete), or NULL with *err filled in. */
cJSON *json5_parse(const char *text, size_t len, struct json5_error *err);

#endif /* XWGP_JSON5_H */
