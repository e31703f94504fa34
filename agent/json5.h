/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A JSON5 reader (spec.json5.org, 1.0.0) building a cJSON tree. The config
 * layer (config_json.c) reads files through this; nothing here knows keys.
 *
 * Everything the spec allows is read: comments, trailing commas, unquoted
 * keys (ECMAScript IdentifierNames, \u escapes included), single-quoted
 * strings, every escape and line continuation, hexadecimal numbers, leading
 * and trailing decimal points, an explicit +, Infinity and NaN, and the
 * extra white space (NBSP, BOM, U+2028/2029, every Zs). Everything it
 * forbids is refused with the line and column of the first bad character:
 * leading zeros (010, -08), \1-\9 escapes, a raw line break in a string,
 * unterminated strings and comments, an empty document, text after the
 * value, and invalid UTF-8.
 *
 * Two representation choices, since cJSON strings end at a NUL byte:
 *  - U+0000 in a string or key (from \0, \x00 or \u0000) is held as the
 *    two bytes C0 80 (as in Java's modified UTF-8). No valid UTF-8 text
 *    holds them, so such a string can never equal a real value, and the
 *    config layer refuses it by name instead of cutting it short.
 *  - A lone surrogate escape (\uD800 without its pair) is held as its three
 *    byte WTF-8 form, as JavaScript keeps it in a string.
 * Infinity and NaN become numbers with valuedouble ±INFINITY / NAN (and
 * valueint 0). Nesting is limited to JSON5_MAX_DEPTH, so deep input cannot
 * exhaust the stack; the parser does not recurse otherwise.
 */
#ifndef XWGP_JSON5_H
#define XWGP_JSON5_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define JSON5_MAX_DEPTH 128

struct json5_error {
	int code; /* -EINVAL, or -ENOMEM */
	size_t offset; /* byte offset into the text */
	/*
	 * From 1; 0 when there is no position (out of memory). Lines end at
	 * LF, CR, CRLF, U+2028 and U+2029; columns count characters.
	 */
	unsigned int line, column;
	char msg[128]; /* what was wrong, e.g. "leading zero in a number" */
	/*
	 * The JSON path of the value being read ("servers[0].peers[1].pubkey"),
	 * or of the object or array the error is in; "" at the top level.
	 */
	char path[160];
	/* The error is inside a string literal: its text may be a secret. */
	bool in_string;
};

/*
 * The parsed tree (free with cJSON_Delete), or NULL with *err filled in.
 * text need not be NUL-terminated; a NUL byte in it is an error outside
 * strings and held as C0 80 inside them.
 */
cJSON *json5_parse(const char *text, size_t len, struct json5_error *err);

/* Does a string from the tree hold U+0000 (as C0 80)? */
int json5_has_nul(const char *s);

#endif /* XWGP_JSON5_H */
