// SPDX-License-Identifier: GPL-2.0
/*
 * Typed getters over a cJSON tree, keys and addresses: the layer between
 * the JSON5 reader (json5.c) and the server and client configs.
 *
 * Secrets (private keys, obfs passwords) never appear in messages, and
 * every buffer that held one is wiped before it is freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "config_json.h"
#include "json5.h"
#include "log.h"
#include "wg_crypto.h"
#include "xwgp_abi.h"

#define KEY_FILE_MAX 256

static void cfg_vreport(struct cfg_ctx *ctx, bool error, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (ctx->report)
		ctx->report(ctx, error, msg);
	else if (error)
		pr_err("%s: %s", ctx->source, msg);
	else
		pr_warn("%s: %s", ctx->source, msg);
}

void cfg_err(struct cfg_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_vreport(ctx, true, fmt, ap);
	va_end(ap);
	if (!ctx->err)
		ctx->err = err;
}

void cfg_warn(struct cfg_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_vreport(ctx, false, fmt, ap);
	va_end(ap);
}

char *cfg_strdup(struct cfg_ctx *ctx, const char *s)
{
	char *d = strdup(s);

	if (!d)
		cfg_err(ctx, -ENOMEM, "out of memory");
	return d;
}

void cfg_free_secret(char *s)
{
	if (!s)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}

/* A path cut short (only absurdly long unknown keys do that) ends in "...". */
static const char *jpath_done(char buf[static CFG_JPATH_LEN], int n)
{
	if (n < 0 || n >= CFG_JPATH_LEN)
		memcpy(buf + CFG_JPATH_LEN - 4, "...", 4);
	return buf;
}

const char *cfg_jkey(char buf[static CFG_JPATH_LEN], const char *prefix, const char *key)
{
	return jpath_done(buf,
			  snprintf(buf, CFG_JPATH_LEN, "%s%s%s", prefix, *prefix ? "." : "", key));
}

const char *cfg_jidx(char buf[static CFG_JPATH_LEN], const char *prefix, const char *key,
		     size_t i)
{
	return jpath_done(buf, snprintf(buf, CFG_JPATH_LEN, "%s%s%s[%zu]", prefix,
					*prefix ? "." : "", key, i));
}

/* ---- the tree ------------------------------------------------------------ */

static void json_wipe(cJSON *node)
{
	for (; node; node = node->next) {
		if (cJSON_IsString(node) && node->valuestring)
			sodium_memzero(node->valuestring, strlen(node->valuestring));
		json_wipe(node->child);
	}
}

void cfg_json_free(cJSON *root)
{
	json_wipe(root);
	cJSON_Delete(root);
}

static void report_syntax_error(struct cfg_ctx *ctx, const char *text,
				const struct json5_error *e)
{
	char near[24];
	size_t n;

	if (!e->line) {
		cfg_err(ctx, e->code, "%s", e->msg);
		return;
	}
	/* Inside a string the text may be a private key or password: not echoed. */
	for (n = 0; !e->in_string && n < sizeof(near) - 1 && text[e->offset + n] &&
		    text[e->offset + n] != '\n';
	     n++)
		near[n] = text[e->offset + n];
	near[n] = '\0';
	cfg_err(ctx, e->code, "line %u, column %u%s%s%s: %s%s%s%s", e->line, e->column,
		*e->path ? " (in " : "", e->path, *e->path ? ")" : "", e->msg, n ? " near `" : "",
		near, n ? "'" : "");
}

int cfg_parse_root(struct cfg_ctx *ctx, const char *text, cJSON **root)
{
	struct json5_error e;

	*root = NULL;
	if (sodium_init() < 0) {
		cfg_err(ctx, -EIO, "libsodium failed to initialise");
		return -EIO;
	}
	if (!text) {
		cfg_err(ctx, -EINVAL, "no config text");
		return -EINVAL;
	}
	*root = json5_parse(text, strlen(text), &e);
	if (!*root) {
		report_syntax_error(ctx, text, &e);
		return ctx->err;
	}
	if (!cJSON_IsObject(*root)) {
		cfg_err(ctx, -EINVAL, "top level: expected an object, got %s",
			cfg_json_type(*root));
		cfg_json_free(*root);
		*root = NULL;
		return -EINVAL;
	}
	return 0;
}

/* ---- typed getters ------------------------------------------------------- */

const char *cfg_json_type(const cJSON *v)
{
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsBool(v))
		return "boolean";
	if (cJSON_IsNumber(v))
		return "number";
	if (cJSON_IsString(v))
		return "string";
	if (cJSON_IsArray(v))
		return "array";
	if (cJSON_IsObject(v))
		return "object";
	return "invalid";
}

const cJSON *cfg_get(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNull(v) ? NULL : v;
}

/* The value the getters read: in an own file, null is a value (of the wrong type). */
static const cJSON *lookup(const struct cfg_ctx *ctx, const cJSON *obj, const char *key)
{
	return ctx->own_file ? cJSON_GetObjectItemCaseSensitive(obj, key) : cfg_get(obj, key);
}

void cfg_check_keys(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix,
		    const char *const *known)
{
	char path[CFG_JPATH_LEN];
	const cJSON *c, *d;
	size_t k;

	for (c = obj->child; c; c = c->next) {
		if (!c->string)
			continue;
		for (d = obj->child; d != c; d = d->next) {
			if (d->string && !strcmp(d->string, c->string)) {
				cfg_err(ctx, -EINVAL, "%s: duplicate key",
					cfg_jkey(path, prefix, c->string));
				break;
			}
		}
		for (k = 0; known[k] && strcmp(known[k], c->string); k++)
			;
		if (!known[k])
			cfg_warn(ctx, "%s: unknown key (ignored)", cfg_jkey(path, prefix, c->string));
	}
}

/* v is present: is it of the wanted type? Reports "PATH: expected a T, got U". */
static int want_type(struct cfg_ctx *ctx, const cJSON *v, const char *prefix, const char *key,
		     cJSON_bool (*is)(const cJSON *), const char *what)
{
	char path[CFG_JPATH_LEN];

	if (is(v))
		return 0;
	if (ctx->own_file)
		cfg_err(ctx, -EINVAL, "%s: not %s", cfg_jkey(path, prefix, key), what);
	else
		cfg_err(ctx, -EINVAL, "%s: expected %s, got %s", cfg_jkey(path, prefix, key), what,
			cfg_json_type(v));
	return -EINVAL;
}

int cfg_get_string(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		   const char **out)
{
	const cJSON *v = lookup(ctx, obj, key);
	char path[CFG_JPATH_LEN];

	*out = NULL;
	if (!v)
		return 0;
	if (want_type(ctx, v, prefix, key, cJSON_IsString, "a string"))
		return -EINVAL;
	if (json5_has_nul(v->valuestring)) {
		/* A C string would end there: refuse rather than read a shorter value. */
		cfg_err(ctx, -EINVAL, "%s: holds a NUL character (\\0, \\x00 or \\u0000)",
			cfg_jkey(path, prefix, key));
		return -EINVAL;
	}
	*out = v->valuestring;
	return 0;
}

int cfg_get_nonempty(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		     const char **out)
{
	int ret = cfg_get_string(ctx, obj, prefix, key, out);

	if (!ret && *out && !**out)
		*out = NULL;
	return ret;
}

int cfg_get_u64(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		uint64_t min, uint64_t max, uint64_t *out)
{
	const cJSON *v = lookup(ctx, obj, key);
	char path[CFG_JPATH_LEN];
	double d;

	if (!v)
		return 0;
	if (want_type(ctx, v, prefix, key, cJSON_IsNumber, "a number"))
		return -EINVAL;
	cfg_jkey(path, prefix, key);
	d = v->valuedouble;
	if (ctx->own_file && (!(d >= (double)min && d <= (double)max) || d != floor(d))) {
		cfg_err(ctx, -EINVAL, "%s: `%g' is not an integer in %llu..%llu", path, d,
			(unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	/* NaN compares false: out of range, as are the infinities. */
	if (!(d >= (double)min && d <= (double)max)) {
		cfg_err(ctx, -EINVAL, "%s: %g is out of range (%llu-%llu)", path, d,
			(unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	if (d != floor(d)) {
		cfg_err(ctx, -EINVAL, "%s: %g is not an integer", path, d);
		return -EINVAL;
	}
	*out = (uint64_t)d;
	return 0;
}

int cfg_get_uint(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		 uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = *out;
	int ret = cfg_get_u64(ctx, obj, prefix, key, min, max, &v);

	if (!ret)
		*out = (uint32_t)v;
	return ret;
}

int cfg_get_bool(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		 bool *out)
{
	const cJSON *v = lookup(ctx, obj, key);

	if (!v)
		return 0;
	if (want_type(ctx, v, prefix, key, cJSON_IsBool, "a boolean"))
		return -EINVAL;
	*out = cJSON_IsTrue(v);
	return 0;
}

/* A present value of one type, or NULL when absent. */
static int get_typed(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		     cJSON_bool (*is)(const cJSON *), const char *what, const cJSON **out)
{
	const cJSON *v = lookup(ctx, obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (want_type(ctx, v, prefix, key, is, what))
		return -EINVAL;
	*out = v;
	return 0;
}

int cfg_get_object(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		   const cJSON **out)
{
	return get_typed(ctx, obj, prefix, key, cJSON_IsObject, "an object", out);
}

int cfg_get_array(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		  const cJSON **out)
{
	return get_typed(ctx, obj, prefix, key, cJSON_IsArray, "an array", out);
}

int cfg_require(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key)
{
	char path[CFG_JPATH_LEN];

	if (lookup(ctx, obj, key))
		return 0;
	cfg_err(ctx, -EINVAL, "%s: missing%s", cfg_jkey(path, prefix, key),
		ctx->own_file ? "" : " (required)");
	return -EINVAL;
}

int cfg_get_svl(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		uint8_t *out)
{
	uint32_t v = XWGP_SVL_INHERIT;
	int ret;

	ret = cfg_get_uint(ctx, obj, prefix, key, XWGP_SVL_INHERIT, XWGP_SVL_IP_PORT, &v);
	*out = (uint8_t)v;
	return ret;
}

/* ---- keys ------------------------------------------------------------------ */

int cfg_decode_key(struct cfg_ctx *ctx, const char *path, const char *b64, bool secret,
		   uint8_t key[static WG_KEY_LEN])
{
	size_t bin_len = 0;
	int ret = wg_key_decode(key, b64, &bin_len);

	if (ret == -ENOMEM)
		cfg_err(ctx, -ENOMEM, "out of memory");
	else if (ret == -EMSGSIZE)
		cfg_err(ctx, -EINVAL, "%s: key is %zu bytes, want %d", path, bin_len, WG_KEY_LEN);
	else if (ret && secret)
		cfg_err(ctx, -EINVAL, "%s: invalid base64 key", path);
	else if (ret)
		cfg_err(ctx, -EINVAL, "%s: invalid base64 key `%s'", path, b64);
	return ret ? ctx->err : 0;
}

int cfg_read_fd(int fd, char *buf, size_t max, size_t *len)
{
	size_t n = 0;
	ssize_t r;

	*len = 0;
	for (;;) {
		r = read(fd, buf + n, max - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
		*len = n;
		if (n == max)
			return -EFBIG;
	}
	return 0;
}

static bool key_file_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int cfg_read_key_file(struct cfg_ctx *ctx, const char *path, const char *file,
		      uint8_t key[static WG_KEY_LEN])
{
	char buf[KEY_FILE_MAX];
	struct stat st;
	size_t len = 0;
	int fd, ret;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		cfg_err(ctx, ret, "%s: cannot read `%s': %s", path, file, strerror(-ret));
		return ret;
	}
	if (!fstat(fd, &st) && (st.st_mode & (S_IRGRP | S_IROTH)))
		cfg_warn(ctx, "%s: `%s' is readable by group/others (mode %04o): chmod 600 it", path,
			 file, (unsigned int)(st.st_mode & 07777));
	ret = cfg_read_fd(fd, buf, sizeof(buf), &len);
	close(fd);
	if (ret == -EFBIG) {
		cfg_err(ctx, -EINVAL, "%s: `%s' is too large for a key file", path, file);
	} else if (ret) {
		cfg_err(ctx, ret, "%s: cannot read `%s': %s", path, file, strerror(-ret));
	} else {
		while (len && key_file_space(buf[len - 1]))
			len--;
		buf[len] = '\0';
		ret = cfg_decode_key(ctx, path, buf, true, key);
	}
	sodium_memzero(buf, sizeof(buf));
	return ret;
}

/* ---- addresses --------------------------------------------------------------- */

void cfg_addr_err(struct cfg_ctx *ctx, const char *path, const char *value, int err)
{
	cfg_err(ctx, -EINVAL, "%s: invalid address `%s' (%s)", path, value, xwgp_ep_strerror(err));
}

void cfg_parse_bind_ep(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix,
		       const char *key, uint32_t flags, bool required, struct xwgp_ep *out)
{
	char path[CFG_JPATH_LEN];
	const char *s;
	int ret;

	if (cfg_get_string(ctx, obj, prefix, key, &s))
		return;
	cfg_jkey(path, prefix, key);
	if (!s) {
		if (required)
			cfg_err(ctx, -EINVAL, "%s: missing (required)", path);
		return;
	}
	ret = xwgp_ep_parse(s, flags, out);
	if (ret)
		cfg_addr_err(ctx, path, s, ret);
}
