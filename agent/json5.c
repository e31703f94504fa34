// SPDX-License-Identifier: GPL-2.0
/*
 * JSON with comments and trailing commas (the JSON5 bits mwgp's README
 * examples use): comments and trailing commas are blanked in a copy, which
 * cJSON (strict JSON) then reads; newlines are kept, so error offsets still
 * match the original lines and columns.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "json5.h"

/* i is at an opening quote; returns the index just past the closing one. */
static size_t skip_string(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return len; /* unterminated: cJSON reports it */
}

/* Strings are skipped: "//" in a path or a password survives. */
static int strip_comments(char *s, size_t len, size_t *err_off)
{
	size_t i = 0, start;

	while (i < len) {
		if (s[i] == '"') {
			i = skip_string(s, len, i);
		} else if (s[i] == '/' && i + 1 < len && s[i + 1] == '/') {
			while (i < len && s[i] != '\n')
				s[i++] = ' ';
		} else if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
			start = i;
			s[i++] = ' ';
			s[i++] = ' ';
			while (!(i + 1 < len && s[i] == '*' && s[i + 1] == '/')) {
				if (i >= len) {
					*err_off = start;
					return -EINVAL;
				}
				if (s[i] != '\n')
					s[i] = ' ';
				i++;
			}
			s[i++] = ' ';
			s[i++] = ' ';
		} else {
			i++;
		}
	}
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* JSON5 allows a comma after the last element: blank it (not in "[,]"). */
static void strip_trailing_commas(char *s, size_t len)
{
	char prev = 0;
	size_t i = 0, j;

	while (i < len) {
		if (is_space(s[i])) {
			i++;
			continue;
		}
		if (s[i] == '"') {
			i = skip_string(s, len, i);
			prev = '"';
			continue;
		}
		if (s[i] == ',' && prev && !strchr("[{,:", prev)) {
			for (j = i + 1; j < len && is_space(s[j]); j++)
				;
			if (j < len && (s[j] == '}' || s[j] == ']')) {
				s[i++] = ' ';
				continue;
			}
		}
		prev = s[i++];
	}
}

static void set_error(struct json5_error *err, const char *text, size_t off, const char *msg)
{
	size_t i, bol = 0;

	err->code = -EINVAL;
	err->offset = off;
	err->line = 1;
	for (i = 0; i < off && text[i]; i++) {
		if (text[i] == '\n') {
			err->line++;
			bol = i + 1;
		}
	}
	err->column = (unsigned int)(off - bol + 1);
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
}

cJSON *json5_parse(const char *text, size_t len, struct json5_error *err)
{
	const char *end = NULL;
	cJSON *root = NULL;
	size_t off = 0, i;
	char *buf;

	memset(err, 0, sizeof(*err));
	buf = malloc(len + 1);
	if (!buf) {
		err->code = -ENOMEM;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return NULL;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	/* A UTF-8 byte order mark, as some editors write it. */
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		memset(buf, ' ', 3);
	if (strip_comments(buf, len, &off)) {
		set_error(err, text, off, "unterminated /* comment");
		goto out;
	}
	strip_trailing_commas(buf, len);
	for (i = 0; i < len && is_space(buf[i]); i++)
		;
	if (i == len) {
		/* line 0: no position to name */
		err->code = -EINVAL;
		snprintf(err->msg, sizeof(err->msg), "empty document: expected a JSON object");
		goto out;
	}
	root = cJSON_ParseWithOpts(buf, &end, 1);
	if (!root) {
		off = end && end >= buf && end <= buf + len ? (size_t)(end - buf) : 0;
		set_error(err, text, off, "JSON syntax error");
	}
out:
	sodium_memzero(buf, len);
	free(buf);
	return root;
}
