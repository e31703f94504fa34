/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cache file reader's typed getters (internal to cache_*.c): each takes
 * one field of a cJSON object, checks it and, when it is wrong, warns once
 * naming the file, the JSON path and the bad value. Kept in one place so the
 * reader can move onto the config's shared getters in one step.
 */
#ifndef XWGP_CACHE_JSON_H
#define XWGP_CACHE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "xwgp_abi.h"

/* Numbers are integers a double holds exactly: cJSON parses into a double. */
#define JSON_INT_MAX 9007199254740992.0 /* 2^53 */

/* Where the reader is, for messages. */
struct cache_pctx {
	const char *name; /* file name, for messages */
	char path[64];	  /* JSON path of the object being read, e.g. "sessions[3]" */
	bool failed;
};

/*
 * Warn "cache file NAME: PATH.FIELD: MSG; starting with an empty session
 * table" (the first problem only) and return -EINVAL.
 */
__attribute__((format(printf, 3, 4))) int cache_bad(struct cache_pctx *p, const char *field,
						    const char *fmt, ...);

/* An integer in 0..max; optional fields may be absent (*present says). */
int cache_get_uint(struct cache_pctx *p, const cJSON *o, const char *field, double max,
		   uint64_t *out, bool optional, bool *present);
int cache_get_u32(struct cache_pctx *p, const cJSON *o, const char *field, uint32_t max,
		  uint32_t *out);
/* A string (NULL, warned, when missing or not a string). */
const char *cache_get_str(struct cache_pctx *p, const cJSON *o, const char *field);
/* Exactly n bytes as 2n hex digits. */
int cache_get_hex(struct cache_pctx *p, const cJSON *o, const char *field, uint8_t *out, size_t n);
/* A base64 WireGuard key. */
int cache_get_key(struct cache_pctx *p, const cJSON *o, const char *field, uint8_t out[static 32]);
/* An endpoint; `local' (our own) ones may be wildcards with port 0. */
int cache_get_ep(struct cache_pctx *p, const cJSON *o, const char *field, bool local,
		 struct xwgp_ep *out);

#endif /* XWGP_CACHE_JSON_H */
