/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Typed reads from a parsed JSON(5) tree, each naming the JSON path and the
 * bad value in its error: the one getter family for every JSON file xwgp
 * reads (server and client configs, the session cache).
 *
 * A struct cfg_ctx collects errors: the first error's -errno is kept in
 * ctx->err and reading goes on, so one run reports every problem. Messages
 * go to pr_err/pr_warn as "SOURCE: MESSAGE", or to ctx->report when set
 * (e.g. a reader that reports only its first problem, in its own words).
 *
 * Paths are built by the caller with cfg_jkey()/cfg_jidx(): a getter takes
 * the object, the path of that object ("" at the top level) and the key.
 * Absent keys and null values read as absent (Go leaves those zero, and
 * mwgp is written in Go): the output is left as it was (the default).
 */
#ifndef XWGP_CONFIG_JSON_H
#define XWGP_CONFIG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "addr.h"
#include "wg_proto.h"

/* Longest JSON path we print ("servers[12].peers[65535].forward_to" and keys). */
#define CFG_JPATH_LEN 256
/* The largest integer every double holds (2^53): cJSON reads numbers as doubles. */
#define CFG_INT_MAX 9007199254740992ULL
/* Standard padded base64 of a WireGuard key, with its NUL. */
#define CFG_KEY_B64_LEN 45

struct cfg_ctx {
	const char *source; /* file name for messages */
	int err; /* first error (-errno); 0 while the input is valid */
	/* NULL: pr_err/pr_warn "source: msg". error: false for a warning. */
	void (*report)(struct cfg_ctx *ctx, bool error, const char *msg);
	void *priv; /* for report */
	/*
	 * A file xwgp wrote itself (the session cache), not one a person
	 * wrote: xwgp never writes null, so a null is a wrong type rather than
	 * an absent key, and problems read "PATH: not a T", "PATH: missing"
	 * and "PATH: `V' is not an integer in MIN..MAX".
	 */
	bool own_file;
};

__attribute__((format(printf, 3, 4))) void cfg_err(struct cfg_ctx *ctx, int err,
						   const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void cfg_warn(struct cfg_ctx *ctx, const char *fmt, ...);

/* strdup, reporting -ENOMEM. */
char *cfg_strdup(struct cfg_ctx *ctx, const char *s);
/* Wipe a NUL-terminated secret, then free it; NULL is fine. */
void cfg_free_secret(char *s);

/* "prefix.key", or just "key" at the top level; cut short with "...". */
const char *cfg_jkey(char buf[static CFG_JPATH_LEN], const char *prefix, const char *key);
/* "prefix.key[i]" */
const char *cfg_jidx(char buf[static CFG_JPATH_LEN], const char *prefix, const char *key,
		     size_t i);

/*
 * The text (JSON5) into a tree whose root is an object; syntax errors name
 * line and column. 0, or ctx->err. Free the tree with cfg_json_free().
 */
int cfg_parse_root(struct cfg_ctx *ctx, const char *text, cJSON **root);
/* Wipe every string in the tree (it may hold private keys), then free it. */
void cfg_json_free(cJSON *root);

/* "null", "boolean", "number", "string", "array", "object". */
const char *cfg_json_type(const cJSON *v);
/* The value of `key', or NULL when absent or null (whatever ctx->own_file says). */
const cJSON *cfg_get(const cJSON *obj, const char *key);
/* Duplicate keys are errors (cJSON would silently use the first); unknown ones warnings. */
void cfg_check_keys(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix,
		    const char *const *known);

/*
 * Getters: 0, or -EINVAL after reporting "PATH: expected a T, got U" (or
 * the range error). *out untouched when the key is absent, except that the
 * string getters set it to NULL.
 */
int cfg_get_string(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		   const char **out);
/* Like cfg_get_string(), but "" counts as absent (mwgp's omitempty fields). */
int cfg_get_nonempty(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		     const char **out);
/* An integer in [min, max]: a fraction, NaN or an infinity is refused by name. */
int cfg_get_uint(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		 uint32_t min, uint32_t max, uint32_t *out);
/* The same for up to 2^53 (the largest integer every double holds). */
int cfg_get_u64(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		uint64_t min, uint64_t max, uint64_t *out);
int cfg_get_bool(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		 bool *out);
/* An object (or array) value: *out NULL when absent. */
int cfg_get_object(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		   const cJSON **out);
int cfg_get_array(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		  const cJSON **out);
/* Present or "PATH: missing (required)": for keys without a default. */
int cfg_require(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key);

/* csvl/ssvl: 0 (inherit) to 3. */
int cfg_get_svl(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		uint8_t *out);

/*
 * A base64 WireGuard key (what `wg genkey' prints) at path. A secret key's
 * value is never echoed in the message.
 */
int cfg_decode_key(struct cfg_ctx *ctx, const char *path, const char *b64, bool secret,
		   uint8_t key[static WG_KEY_LEN]);
/* Like PrivateKeyFile= of systemd.netdev(5): base64, trailing whitespace allowed. */
int cfg_read_key_file(struct cfg_ctx *ctx, const char *path, const char *file,
		      uint8_t key[static WG_KEY_LEN]);

void cfg_addr_err(struct cfg_ctx *ctx, const char *path, const char *value, int err);
/* A numeric endpoint we bind (listen, upstream): names are not accepted. */
void cfg_parse_bind_ep(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix,
		       const char *key, uint32_t flags, bool required, struct xwgp_ep *out);

/*
 * Read up to max-1 bytes; -EFBIG if the file holds more. *len is what was
 * read even on error, so the caller can wipe it (it may hold keys).
 */
int cfg_read_fd(int fd, char *buf, size_t max, size_t *len);

#endif /* XWGP_CONFIG_JSON_H */
