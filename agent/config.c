// SPDX-License-Identifier: GPL-2.0
/*
 * Config files: mwgp's JSON (with comments and trailing commas, which mwgp's
 * JSON5 parser accepts and its README examples use) into struct
 * xwgp_server_config / xwgp_client_config.
 *
 * The parser keeps going after an error so that one run reports every
 * problem; each message names the file, the JSON path and the bad value.
 * Secrets (private keys, obfs passwords) never appear in messages or in the
 * printout, and every buffer that held one is wiped before it is freed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "addr.h"
#include "config.h"
#include "cookie_guard.h"
#include "log.h"

/* Longest JSON path we print ("servers[12].peers[65535].forward_to" and keys). */
#define JPATH_LEN 256
#define CONFIG_FILE_MAX (16u << 20)
#define KEY_FILE_MAX 256
#define KEY_B64_LEN sodium_base64_ENCODED_LEN(XWGP_KEY_LEN, sodium_base64_VARIANT_ORIGINAL)
#define INSTANCE_MAX 64
/* Smallest packet worth accepting: a handshake initiation. */
#define MIN_PACKET_SIZE 148

struct cfg_ctx {
	const char *source; /* file name for messages */
	int err; /* first error (-errno); 0 while the config is valid */
};

__attribute__((format(printf, 3, 4))) static void cfg_err(struct cfg_ctx *ctx, int err,
							   const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err("%s: %s", ctx->source, msg);
	if (!ctx->err)
		ctx->err = err;
}

__attribute__((format(printf, 2, 3))) static void cfg_warn(struct cfg_ctx *ctx, const char *fmt,
							   ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_warn("%s: %s", ctx->source, msg);
}

static char *cfg_strdup(struct cfg_ctx *ctx, const char *s)
{
	char *d = strdup(s);

	if (!d)
		cfg_err(ctx, -ENOMEM, "out of memory");
	return d;
}

static void free_secret(char *s)
{
	if (!s)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}

/* A path cut short (only absurdly long unknown keys do that) ends in "...". */
static const char *jpath_done(char buf[static JPATH_LEN], int n)
{
	if (n < 0 || n >= JPATH_LEN)
		memcpy(buf + JPATH_LEN - 4, "...", 4);
	return buf;
}

/* "prefix.key", or just "key" at the top level. */
static const char *jkey(char buf[static JPATH_LEN], const char *prefix, const char *key)
{
	return jpath_done(buf, snprintf(buf, JPATH_LEN, "%s%s%s", prefix, *prefix ? "." : "", key));
}

/* "prefix.key[i]" */
static const char *jidx(char buf[static JPATH_LEN], const char *prefix, const char *key, size_t i)
{
	return jpath_done(buf, snprintf(buf, JPATH_LEN, "%s%s%s[%zu]", prefix, *prefix ? "." : "",
					key, i));
}

/* ---- JSON with comments -------------------------------------------------- */

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

/*
 * Blank out comments in place, keeping newlines, so cJSON (strict JSON) can
 * read the file and its error offsets still match the original lines and
 * columns. Strings are skipped: "//" in a path or a password survives.
 */
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

static void line_col(const char *s, size_t off, unsigned int *line, unsigned int *col)
{
	size_t i, bol = 0;

	*line = 1;
	for (i = 0; i < off && s[i]; i++) {
		if (s[i] == '\n') {
			(*line)++;
			bol = i + 1;
		}
	}
	*col = (unsigned int)(off - bol + 1);
}

/* Wipe every string value: the tree holds copies of private keys. */
static void json_wipe(cJSON *node)
{
	for (; node; node = node->next) {
		if (cJSON_IsString(node) && node->valuestring)
			sodium_memzero(node->valuestring, strlen(node->valuestring));
		json_wipe(node->child);
	}
}

static void json_free(cJSON *root)
{
	json_wipe(root);
	cJSON_Delete(root);
}

static void report_syntax_error(struct cfg_ctx *ctx, const char *text, size_t off,
				const char *what)
{
	unsigned int line, col;
	char near[24];
	size_t n;

	line_col(text, off, &line, &col);
	for (n = 0; n < sizeof(near) - 1 && text[off + n] && text[off + n] != '\n'; n++)
		near[n] = text[off + n];
	near[n] = '\0';
	if (n)
		cfg_err(ctx, -EINVAL, "line %u, column %u: %s near `%s'", line, col, what, near);
	else
		cfg_err(ctx, -EINVAL, "line %u, column %u: %s", line, col, what);
}

static int json_parse(struct cfg_ctx *ctx, const char *text, cJSON **root)
{
	size_t len, off = 0, i;
	const char *end = NULL;
	char *buf;

	*root = NULL;
	if (!text) {
		cfg_err(ctx, -EINVAL, "no config text");
		return -EINVAL;
	}
	len = strlen(text);
	buf = malloc(len + 1);
	if (!buf) {
		cfg_err(ctx, -ENOMEM, "out of memory");
		return -ENOMEM;
	}
	memcpy(buf, text, len + 1);
	/* A UTF-8 byte order mark, as some editors write it. */
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		memset(buf, ' ', 3);
	if (strip_comments(buf, len, &off)) {
		report_syntax_error(ctx, text, off, "unterminated /* comment");
		goto out;
	}
	strip_trailing_commas(buf, len);
	for (i = 0; i < len && is_space(buf[i]); i++)
		;
	if (i == len) {
		cfg_err(ctx, -EINVAL, "empty document: expected a JSON object");
		goto out;
	}
	*root = cJSON_ParseWithOpts(buf, &end, 1);
	if (!*root) {
		off = end && end >= buf && end <= buf + len ? (size_t)(end - buf) : 0;
		report_syntax_error(ctx, text, off, "JSON syntax error");
	}
out:
	sodium_memzero(buf, len);
	free(buf);
	return *root ? 0 : ctx->err;
}

/* ---- typed getters --------------------------------------------------------- */

static const char *json_type(const cJSON *v)
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

/* The value of `key', or NULL when absent or null (Go leaves those zero). */
static const cJSON *get(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNull(v) ? NULL : v;
}

/* Duplicate keys are errors (cJSON would silently use the first); unknown ones warnings. */
static void check_keys(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix,
		       const char *const *known)
{
	char path[JPATH_LEN];
	const cJSON *c, *d;
	size_t k;

	for (c = obj->child; c; c = c->next) {
		if (!c->string)
			continue;
		for (d = obj->child; d != c; d = d->next) {
			if (d->string && !strcmp(d->string, c->string)) {
				cfg_err(ctx, -EINVAL, "%s: duplicate key", jkey(path, prefix, c->string));
				break;
			}
		}
		for (k = 0; known[k] && strcmp(known[k], c->string); k++)
			;
		if (!known[k])
			cfg_warn(ctx, "%s: unknown key (ignored)", jkey(path, prefix, c->string));
	}
}

/* *out = the string, or NULL if absent. */
static int get_string(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		      const char **out)
{
	const cJSON *v = get(obj, key);
	char path[JPATH_LEN];

	*out = NULL;
	if (!v)
		return 0;
	if (!cJSON_IsString(v)) {
		cfg_err(ctx, -EINVAL, "%s: expected a string, got %s", jkey(path, prefix, key),
			json_type(v));
		return -EINVAL;
	}
	*out = v->valuestring;
	return 0;
}

/* Like get_string(), but "" counts as absent (mwgp's omitempty fields). */
static int get_nonempty(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix,
			const char *key, const char **out)
{
	int ret = get_string(ctx, obj, prefix, key, out);

	if (!ret && *out && !**out)
		*out = NULL;
	return ret;
}

/* An integer in [min, max]; *out untouched (the default) when absent. */
static int get_uint(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		    uint32_t min, uint32_t max, uint32_t *out)
{
	const cJSON *v = get(obj, key);
	char path[JPATH_LEN];
	double d;

	if (!v)
		return 0;
	jkey(path, prefix, key);
	if (!cJSON_IsNumber(v)) {
		cfg_err(ctx, -EINVAL, "%s: expected a number, got %s", path, json_type(v));
		return -EINVAL;
	}
	d = v->valuedouble;
	if (!(d >= min && d <= max)) {
		cfg_err(ctx, -EINVAL, "%s: %g is out of range (%u-%u)", path, d, min, max);
		return -EINVAL;
	}
	if (d != (double)(uint32_t)d) {
		cfg_err(ctx, -EINVAL, "%s: %g is not an integer", path, d);
		return -EINVAL;
	}
	*out = (uint32_t)d;
	return 0;
}

static int get_svl(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
		   uint8_t *out)
{
	uint32_t v = XWGP_SVL_INHERIT;
	int ret;

	ret = get_uint(ctx, obj, prefix, key, XWGP_SVL_INHERIT, XWGP_SVL_IP_PORT, &v);
	*out = (uint8_t)v;
	return ret;
}

static uint8_t svl_resolve(uint8_t peer, uint8_t server, uint8_t def)
{
	if (peer != XWGP_SVL_INHERIT)
		return peer;
	return server != XWGP_SVL_INHERIT ? server : def;
}

/* ---- keys ------------------------------------------------------------------ */

/*
 * Standard padded base64 (what `wg genkey' prints) to a 32-byte key. A secret
 * key's value is never echoed in the message.
 */
static int decode_key(struct cfg_ctx *ctx, const char *path, const char *b64, bool secret,
		      uint8_t key[static XWGP_KEY_LEN])
{
	size_t b64_len = strlen(b64), cap = b64_len / 4 * 3 + 3, bin_len = 0;
	uint8_t *bin;
	int ret = 0;

	bin = malloc(cap);
	if (!bin) {
		cfg_err(ctx, -ENOMEM, "out of memory");
		return -ENOMEM;
	}
	if (sodium_base642bin(bin, cap, b64, b64_len, NULL, &bin_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL)) {
		if (secret)
			cfg_err(ctx, -EINVAL, "%s: invalid base64 key", path);
		else
			cfg_err(ctx, -EINVAL, "%s: invalid base64 key `%s'", path, b64);
		ret = -EINVAL;
	} else if (bin_len != XWGP_KEY_LEN) {
		cfg_err(ctx, -EINVAL, "%s: key is %zu bytes, want %d", path, bin_len, XWGP_KEY_LEN);
		ret = -EINVAL;
	} else {
		memcpy(key, bin, XWGP_KEY_LEN);
	}
	sodium_memzero(bin, cap);
	free(bin);
	return ret;
}

static void key_b64(char out[static KEY_B64_LEN], const uint8_t key[static XWGP_KEY_LEN])
{
	sodium_bin2base64(out, KEY_B64_LEN, key, XWGP_KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
}

/*
 * Read up to max-1 bytes; -EFBIG if the file holds more. *len is what was
 * read even on error, so the caller can wipe it (it may hold keys).
 */
static int read_fd(int fd, char *buf, size_t max, size_t *len)
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

/* Like PrivateKeyFile= of systemd.netdev(5): base64, trailing whitespace allowed. */
static int read_key_file(struct cfg_ctx *ctx, const char *path, const char *file,
			 uint8_t key[static XWGP_KEY_LEN])
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
	ret = read_fd(fd, buf, sizeof(buf), &len);
	close(fd);
	if (ret == -EFBIG) {
		cfg_err(ctx, -EINVAL, "%s: `%s' is too large for a key file", path, file);
	} else if (ret) {
		cfg_err(ctx, ret, "%s: cannot read `%s': %s", path, file, strerror(-ret));
	} else {
		while (len && (is_space(buf[len - 1]) || buf[len - 1] == '\v' ||
			       buf[len - 1] == '\f'))
			len--;
		buf[len] = '\0';
		ret = decode_key(ctx, path, buf, true, key);
	}
	sodium_memzero(buf, sizeof(buf));
	return ret;
}

/* Exactly one of privkey / privkey_file (mwgp); derives the public key. */
static void parse_server_key(struct cfg_ctx *ctx, const cJSON *js, const char *prefix,
			     struct xwgp_server_cfg *s)
{
	const char *inline_key, *file;
	char path[JPATH_LEN];
	int ret;

	if (get_string(ctx, js, prefix, "privkey", &inline_key) |
	    get_nonempty(ctx, js, prefix, "privkey_file", &file))
		return;
	if (inline_key && file) {
		cfg_err(ctx, -EINVAL, "%s: both privkey and privkey_file given", prefix);
		return;
	}
	if (!inline_key && !file) {
		cfg_err(ctx, -EINVAL, "%s: privkey or privkey_file is required", prefix);
		return;
	}
	if (inline_key) {
		ret = decode_key(ctx, jkey(path, prefix, "privkey"), inline_key, true, s->privkey);
	} else {
		s->privkey_file = cfg_strdup(ctx, file);
		ret = read_key_file(ctx, jkey(path, prefix, "privkey_file"), file, s->privkey);
	}
	if (ret)
		return;
	if (crypto_scalarmult_base(s->pubkey, s->privkey))
		cfg_err(ctx, -EINVAL, "%s: private key gives no usable public key", path);
}

/* ---- addresses --------------------------------------------------------------- */

static void addr_err(struct cfg_ctx *ctx, const char *path, const char *value, int err)
{
	cfg_err(ctx, -EINVAL, "%s: invalid address `%s' (%s)", path, value, xwgp_ep_strerror(err));
}

/* A numeric endpoint we bind (listen, upstream): names are not accepted. */
static void parse_bind_ep(struct cfg_ctx *ctx, const cJSON *obj, const char *prefix,
			  const char *key, uint32_t flags, bool required, struct xwgp_ep *out)
{
	char path[JPATH_LEN];
	const char *s;
	int ret;

	if (get_string(ctx, obj, prefix, key, &s))
		return;
	jkey(path, prefix, key);
	if (!s) {
		if (required)
			cfg_err(ctx, -EINVAL, "%s: missing (required)", path);
		return;
	}
	ret = xwgp_ep_parse(s, flags, out);
	if (ret)
		addr_err(ctx, path, s, ret);
}

/* servers[].address: a bare host, a name resolved now. *ok: usable for forward_to. */
static void parse_server_address(struct cfg_ctx *ctx, const cJSON *js, const char *prefix,
				 struct xwgp_server_cfg *s, bool *ok)
{
	char path[JPATH_LEN];
	bool by_name = false;
	const char *v;
	int ret;

	*ok = false;
	if (get_nonempty(ctx, js, prefix, "address", &v))
		return;
	if (!v) {
		*ok = true; /* absent: forward_to must then name its host */
		return;
	}
	jkey(path, prefix, "address");
	ret = xwgp_ep_resolve(v, XWGP_EP_HOST_ONLY, &s->address, &by_name);
	if (ret) {
		addr_err(ctx, path, v, ret);
		return;
	}
	if (xwgp_ep_is_unspecified(&s->address)) {
		cfg_err(ctx, -EINVAL, "%s: `%s' is a wildcard, not a server address", path, v);
		return;
	}
	if (by_name)
		s->address_name = cfg_strdup(ctx, v);
	*ok = true;
}

/* servers[].peers[].forward_to, completed with the server address. */
static void parse_forward_to(struct cfg_ctx *ctx, const cJSON *jp, const char *prefix,
			     const char *server_prefix, const struct xwgp_server_cfg *s,
			     bool addr_ok, struct xwgp_peer_cfg *p)
{
	char path[JPATH_LEN];
	struct xwgp_ep ep;
	bool by_name = false;
	const char *v;
	int ret;

	if (get_string(ctx, jp, prefix, "forward_to", &v))
		return;
	jkey(path, prefix, "forward_to");
	if (!v || !*v) {
		cfg_err(ctx, -EINVAL, "%s: missing (required)", path);
		return;
	}
	ret = xwgp_ep_resolve(v, XWGP_EP_HOST_OPTIONAL, &ep, &by_name);
	if (ret) {
		addr_err(ctx, path, v, ret);
		return;
	}
	if (ep.family == XWGP_FAMILY_NONE && !addr_ok)
		return; /* the bad server address was reported already */
	if (xwgp_ep_combine(&p->forward_to, &ep, &s->address)) {
		cfg_err(ctx, -EINVAL, "%s: `%s' has no host and %s.address is not set", path, v,
			server_prefix);
		return;
	}
	if (xwgp_ep_is_unspecified(&p->forward_to)) {
		cfg_err(ctx, -EINVAL, "%s: `%s' is a wildcard, not a destination", path, v);
		return;
	}
	if (by_name)
		p->forward_to_name = cfg_strdup(ctx, v);
}

/* ---- server config ------------------------------------------------------- */

static const char *const peer_keys[] = { "pubkey", "forward_to", "csvl", "ssvl", NULL };

static void parse_peer(struct cfg_ctx *ctx, const cJSON *jp, const char *server_prefix,
		       size_t idx, struct xwgp_server_cfg *s, bool addr_ok)
{
	struct xwgp_peer_cfg *p = &s->peers[idx];
	char prefix[JPATH_LEN], path[JPATH_LEN];
	const char *pub;

	jidx(prefix, server_prefix, "peers", idx);
	if (!cJSON_IsObject(jp)) {
		cfg_err(ctx, -EINVAL, "%s: expected an object, got %s", prefix, json_type(jp));
		return;
	}
	check_keys(ctx, jp, prefix, peer_keys);
	if (!get_string(ctx, jp, prefix, "pubkey", &pub) && pub) {
		if (!decode_key(ctx, jkey(path, prefix, "pubkey"), pub, false, p->pubkey))
			p->has_pubkey = true;
	} else if (!pub && !get(jp, "pubkey")) {
		if (s->fallback >= 0)
			cfg_err(ctx, -EINVAL,
				"%s: second fallback peer (peers[%d] is already the fallback)",
				prefix, s->fallback);
		else
			s->fallback = (int)idx;
	}
	parse_forward_to(ctx, jp, prefix, server_prefix, s, addr_ok, p);
	get_svl(ctx, jp, prefix, "csvl", &p->csvl);
	get_svl(ctx, jp, prefix, "ssvl", &p->ssvl);
	p->csvl = svl_resolve(p->csvl, s->csvl, XWGP_CSVL_DEFAULT);
	p->ssvl = svl_resolve(p->ssvl, s->ssvl, XWGP_SSVL_DEFAULT);
}

struct key_ref {
	const uint8_t *key;
	size_t idx;
};

static int key_ref_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = memcmp(x->key, y->key, XWGP_KEY_LEN);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Sort the keyed peers by key into s->peer_order (config_peer_for searches
 * it) and refuse one client key twice under one server: which backend would
 * it go to?
 */
static void index_peers(struct cfg_ctx *ctx, const char *prefix, struct xwgp_server_cfg *s)
{
	char path[JPATH_LEN], b64[KEY_B64_LEN];
	struct key_ref *refs;
	size_t n = 0, i, first = 0;

	refs = calloc(s->n_peers, sizeof(*refs));
	if (!refs) {
		cfg_err(ctx, -ENOMEM, "out of memory");
		return;
	}
	for (i = 0; i < s->n_peers; i++)
		if (s->peers[i].has_pubkey)
			refs[n++] = (struct key_ref){ s->peers[i].pubkey, i };
	qsort(refs, n, sizeof(*refs), key_ref_cmp);
	for (i = 1; i < n; i++) {
		if (memcmp(refs[i].key, refs[first].key, XWGP_KEY_LEN)) {
			first = i;
			continue;
		}
		jidx(path, prefix, "peers", refs[i].idx);
		key_b64(b64, refs[i].key);
		cfg_err(ctx, -EINVAL, "%s.pubkey: `%s' is already peers[%zu] of this server", path,
			b64, refs[first].idx);
	}
	s->peer_order = calloc(n ? n : 1, sizeof(*s->peer_order));
	if (!s->peer_order)
		cfg_err(ctx, -ENOMEM, "out of memory");
	for (i = 0; s->peer_order && i < n; i++)
		s->peer_order[i] = (uint32_t)refs[i].idx;
	s->n_keyed = s->peer_order ? n : 0;
	free(refs);
}

const struct xwgp_peer_cfg *config_peer_for(const struct xwgp_server_cfg *s,
					    const uint8_t client_pub[static XWGP_KEY_LEN])
{
	size_t lo = 0, hi = s->n_keyed;

	/* Public keys: a comparison that leaks timing gives nothing away. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct xwgp_peer_cfg *p = &s->peers[s->peer_order[mid]];
		int c = memcmp(client_pub, p->pubkey, XWGP_KEY_LEN);

		if (!c)
			return p;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return s->fallback >= 0 ? &s->peers[s->fallback] : NULL;
}

static const char *const server_keys[] = { "privkey", "privkey_file", "address", "peers",
					   "csvl", "ssvl", NULL };

static void parse_peers(struct cfg_ctx *ctx, const cJSON *js, const char *prefix,
			struct xwgp_server_cfg *s, bool addr_ok)
{
	const cJSON *jpeers = get(js, "peers"), *jp;
	char path[JPATH_LEN];
	size_t n, i = 0;

	jkey(path, prefix, "peers");
	if (!jpeers) {
		cfg_err(ctx, -EINVAL, "%s: missing (required)", path);
		return;
	}
	if (!cJSON_IsArray(jpeers)) {
		cfg_err(ctx, -EINVAL, "%s: expected an array, got %s", path, json_type(jpeers));
		return;
	}
	n = (size_t)cJSON_GetArraySize(jpeers);
	if (!n) {
		cfg_err(ctx, -EINVAL, "%s: empty (at least one peer is required)", path);
		return;
	}
	s->peers = calloc(n, sizeof(*s->peers));
	if (!s->peers) {
		cfg_err(ctx, -ENOMEM, "out of memory");
		return;
	}
	s->n_peers = n;
	cJSON_ArrayForEach(jp, jpeers)
		parse_peer(ctx, jp, prefix, i++, s, addr_ok);
	index_peers(ctx, prefix, s);
}

static void parse_server(struct cfg_ctx *ctx, const cJSON *js, size_t idx,
			 struct xwgp_server_cfg *s)
{
	char prefix[JPATH_LEN];
	bool addr_ok;

	s->fallback = -1;
	jidx(prefix, "", "servers", idx);
	if (!cJSON_IsObject(js)) {
		cfg_err(ctx, -EINVAL, "%s: expected an object, got %s", prefix, json_type(js));
		return;
	}
	check_keys(ctx, js, prefix, server_keys);
	parse_server_key(ctx, js, prefix, s);
	parse_server_address(ctx, js, prefix, s, &addr_ok);
	/* Server-level levels first: peers inherit them. */
	get_svl(ctx, js, prefix, "csvl", &s->csvl);
	get_svl(ctx, js, prefix, "ssvl", &s->ssvl);
	parse_peers(ctx, js, prefix, s, addr_ok);
}

/* Two servers with one private key: initiations would always match the first. */
static void check_duplicate_servers(struct cfg_ctx *ctx, const struct xwgp_server_config *c)
{
	size_t i, j;

	for (i = 1; i < c->n_servers; i++) {
		if (sodium_is_zero(c->servers[i].pubkey, XWGP_KEY_LEN))
			continue;
		for (j = 0; j < i; j++) {
			if (!memcmp(c->servers[i].pubkey, c->servers[j].pubkey, XWGP_KEY_LEN)) {
				cfg_err(ctx, -EINVAL, "servers[%zu]: same private key as servers[%zu]",
					i, j);
				break;
			}
		}
	}
}

static void parse_servers(struct cfg_ctx *ctx, const cJSON *root, struct xwgp_server_config *c)
{
	const cJSON *jservers = get(root, "servers"), *js;
	size_t n, i = 0;

	if (!jservers) {
		cfg_err(ctx, -EINVAL, "servers: missing (required)");
		return;
	}
	if (!cJSON_IsArray(jservers)) {
		cfg_err(ctx, -EINVAL, "servers: expected an array, got %s", json_type(jservers));
		return;
	}
	n = (size_t)cJSON_GetArraySize(jservers);
	if (!n) {
		cfg_err(ctx, -EINVAL, "servers: empty (at least one server is required)");
		return;
	}
	c->servers = calloc(n, sizeof(*c->servers));
	if (!c->servers) {
		cfg_err(ctx, -ENOMEM, "out of memory");
		return;
	}
	c->n_servers = n;
	cJSON_ArrayForEach(js, jservers) {
		parse_server(ctx, js, i, &c->servers[i]);
		i++;
	}
	check_duplicate_servers(ctx, c);
}

/* The kernel's dev_valid_name(): 1-15 bytes, no '/', ':' or whitespace, not . or .. */
static bool valid_ifname(const char *n)
{
	size_t len = strlen(n);

	if (!len || len >= IFNAMSIZ || !strcmp(n, ".") || !strcmp(n, ".."))
		return false;
	for (; *n; n++)
		if (*n == '/' || *n == ':' || is_space(*n) || *n == '\v' || *n == '\f')
			return false;
	return true;
}

static void add_interface(struct cfg_ctx *ctx, const cJSON *v, const char *path,
			  struct xwgp_server_config *c)
{
	size_t i;

	if (!cJSON_IsString(v)) {
		cfg_err(ctx, -EINVAL, "%s: expected a string, got %s", path, json_type(v));
		return;
	}
	if (!valid_ifname(v->valuestring)) {
		cfg_err(ctx, -EINVAL, "%s: invalid interface name `%s'", path, v->valuestring);
		return;
	}
	for (i = 0; i < c->n_interfaces; i++) {
		if (!strcmp(c->interfaces[i], v->valuestring)) {
			cfg_err(ctx, -EINVAL, "%s: `%s' is listed twice", path, v->valuestring);
			return;
		}
	}
	c->interfaces[c->n_interfaces] = cfg_strdup(ctx, v->valuestring);
	if (c->interfaces[c->n_interfaces])
		c->n_interfaces++;
}

/* `interface': one NIC name or an array of them. */
static void parse_interfaces(struct cfg_ctx *ctx, const cJSON *root, struct xwgp_server_config *c)
{
	const cJSON *v = get(root, "interface"), *it;
	char path[JPATH_LEN];
	size_t n, i = 0;

	if (!v)
		return;
	if (!cJSON_IsString(v) && !cJSON_IsArray(v)) {
		cfg_err(ctx, -EINVAL, "interface: expected a string or an array of strings, got %s",
			json_type(v));
		return;
	}
	n = cJSON_IsString(v) ? 1 : (size_t)cJSON_GetArraySize(v);
	if (!n)
		return;
	c->interfaces = calloc(n, sizeof(*c->interfaces));
	if (!c->interfaces) {
		cfg_err(ctx, -ENOMEM, "out of memory");
		return;
	}
	if (cJSON_IsString(v)) {
		add_interface(ctx, v, "interface", c);
		return;
	}
	cJSON_ArrayForEach(it, v)
		add_interface(ctx, it, jidx(path, "", "interface", i++), c);
}

static const char *const xdp_mode_names[] = {
	[XWGP_XDP_NATIVE] = "native",
	[XWGP_XDP_SKB] = "skb",
	[XWGP_XDP_AUTO] = "auto",
	[XWGP_XDP_OFF] = "off",
};

const char *config_xdp_mode_name(enum xwgp_xdp_mode mode)
{
	if ((size_t)mode >= sizeof(xdp_mode_names) / sizeof(xdp_mode_names[0]))
		return "?";
	return xdp_mode_names[mode];
}

static void parse_xdp_mode(struct cfg_ctx *ctx, const cJSON *root, struct xwgp_server_config *c)
{
	const char *v;
	size_t m;

	c->xdp_mode = XWGP_XDP_NATIVE;
	if (get_string(ctx, root, "", "xdp_mode", &v) || !v)
		return;
	for (m = 0; m < sizeof(xdp_mode_names) / sizeof(xdp_mode_names[0]); m++) {
		if (!strcmp(v, xdp_mode_names[m])) {
			c->xdp_mode = (enum xwgp_xdp_mode)m;
			return;
		}
	}
	cfg_err(ctx, -EINVAL, "xdp_mode: unknown mode `%s' (want native, skb, auto or off)", v);
}

/* An instance names a directory under the bpffs root: keep it a plain word. */
static bool valid_instance(const char *s)
{
	size_t len = strlen(s), i;

	if (!len || len > INSTANCE_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

static void parse_pinning(struct cfg_ctx *ctx, const cJSON *root, struct xwgp_server_config *c)
{
	const char *instance, *pin;
	char def[PATH_MAX];

	if (get_nonempty(ctx, root, "", "instance", &instance) ||
	    get_nonempty(ctx, root, "", "pin_path", &pin))
		return;
	if (!instance)
		instance = XWGP_INSTANCE_DEFAULT;
	if (!valid_instance(instance)) {
		cfg_err(ctx, -EINVAL,
			"instance: invalid name `%s' (1-%d of A-Z a-z 0-9 _ - ., not starting with . or -)",
			instance, INSTANCE_MAX);
		return;
	}
	c->instance = cfg_strdup(ctx, instance);
	if (pin && (pin[0] != '/' || strlen(pin) >= PATH_MAX)) {
		cfg_err(ctx, -EINVAL, "pin_path: `%s' is not an absolute path", pin);
		return;
	}
	if (!pin) {
		snprintf(def, sizeof(def), "%s/%s", XWGP_PIN_ROOT, instance);
		pin = def;
	}
	c->pin_path = cfg_strdup(ctx, pin);
}

static void parse_upstream(struct cfg_ctx *ctx, const cJSON *root, struct xwgp_server_config *c)
{
	parse_bind_ep(ctx, root, "", "upstream", XWGP_EP_HOST_OPTIONAL | XWGP_EP_PORT_ZERO, false,
		      &c->upstream);
	/*
	 * The port tells the directions apart (DESIGN.md section 3): a packet to
	 * listen is client->server, one to upstream server->client.
	 */
	if (c->upstream.port && c->upstream.port == c->listen.port)
		cfg_err(ctx, -EINVAL, "upstream: port %u is the listen port too (they must differ)",
			xwgp_ep_port(&c->upstream));
}

static void parse_optional_strings(struct cfg_ctx *ctx, const cJSON *root, char **obfs,
				   char **cache_file_path)
{
	const char *v;

	if (!get_nonempty(ctx, root, "", "obfs", &v) && v)
		*obfs = cfg_strdup(ctx, v);
	if (!get_nonempty(ctx, root, "", "cache_file_path", &v) && v)
		*cache_file_path = cfg_strdup(ctx, v);
}

static const char *const server_top_keys[] = {
	"listen",	"timeout",  "max_packet_size", "servers",   "obfs",
	"cache_file_path", "interface", "xdp_mode",	"pin_path",  "instance",
	"upstream",	"punt_rate", "punt_burst",	"max_sessions", "fib_cache_ms", "under_load", NULL,
};

static void parse_server_root(struct cfg_ctx *ctx, const cJSON *root, struct xwgp_server_config *c)
{
	c->timeout_sec = XWGP_TIMEOUT_DEFAULT_SEC;
	c->max_packet_size = XWGP_MAX_PACKET_SIZE_DEFAULT;
	c->punt_rate_pps = XWGP_PUNT_RATE_DEFAULT_PPS;
	c->punt_burst = XWGP_PUNT_BURST_DEFAULT;
	c->max_sessions = XWGP_MAX_SESSIONS_DEFAULT;
	c->fib_cache_ms = XWGP_FIB_CACHE_MS_DEFAULT;
	c->under_load_pps = COOKIE_LOAD_DEFAULT_PPS;

	check_keys(ctx, root, "", server_top_keys);
	parse_bind_ep(ctx, root, "", "listen", XWGP_EP_HOST_OPTIONAL, true, &c->listen);
	get_uint(ctx, root, "", "timeout", 1, INT32_MAX, &c->timeout_sec);
	get_uint(ctx, root, "", "max_packet_size", MIN_PACKET_SIZE, 65535, &c->max_packet_size);
	parse_optional_strings(ctx, root, &c->obfs, &c->cache_file_path);
	parse_interfaces(ctx, root, c);
	parse_xdp_mode(ctx, root, c);
	parse_pinning(ctx, root, c);
	parse_upstream(ctx, root, c);
	get_uint(ctx, root, "", "punt_rate", 0, UINT32_MAX, &c->punt_rate_pps);
	get_uint(ctx, root, "", "punt_burst", 1, UINT32_MAX, &c->punt_burst);
	get_uint(ctx, root, "", "max_sessions", 1, XWGP_MAX_SESSIONS_LIMIT, &c->max_sessions);
	get_uint(ctx, root, "", "fib_cache_ms", 0, XWGP_FIB_CACHE_MS_MAX, &c->fib_cache_ms);
	get_uint(ctx, root, "", "under_load", 0, UINT32_MAX, &c->under_load_pps);
	parse_servers(ctx, root, c);
}

/* Parse into a tree whose root must be an object. */
static int parse_root(struct cfg_ctx *ctx, const char *text, cJSON **root)
{
	if (sodium_init() < 0) {
		cfg_err(ctx, -EIO, "libsodium failed to initialise");
		return -EIO;
	}
	if (json_parse(ctx, text, root))
		return ctx->err;
	if (!cJSON_IsObject(*root)) {
		cfg_err(ctx, -EINVAL, "top level: expected an object, got %s", json_type(*root));
		json_free(*root);
		*root = NULL;
		return -EINVAL;
	}
	return 0;
}

int config_parse_server(const char *json_text, const char *source_name,
			struct xwgp_server_config *out)
{
	struct cfg_ctx ctx = { .source = source_name ? source_name : "<config>" };
	struct xwgp_server_config c = { 0 };
	cJSON *root;

	memset(out, 0, sizeof(*out));
	if (parse_root(&ctx, json_text, &root))
		return ctx.err;
	parse_server_root(&ctx, root, &c);
	json_free(root);
	if (ctx.err) {
		config_free_server(&c);
		return ctx.err;
	}
	*out = c;
	sodium_memzero(&c, sizeof(c));
	return 0;
}

void config_free_server(struct xwgp_server_config *c)
{
	size_t i, j;

	for (i = 0; c->servers && i < c->n_servers; i++) {
		struct xwgp_server_cfg *s = &c->servers[i];

		sodium_memzero(s->privkey, sizeof(s->privkey));
		free(s->privkey_file);
		free(s->address_name);
		for (j = 0; s->peers && j < s->n_peers; j++)
			free(s->peers[j].forward_to_name);
		free(s->peers);
		free(s->peer_order);
	}
	free(c->servers);
	for (i = 0; c->interfaces && i < c->n_interfaces; i++)
		free(c->interfaces[i]);
	free(c->interfaces);
	free_secret(c->obfs);
	free(c->cache_file_path);
	free(c->instance);
	free(c->pin_path);
	memset(c, 0, sizeof(*c));
}

/* ---- client config ------------------------------------------------------- */

/* `dns' "IP:PORT" or "IP" (port 53); `resolver' also as mwgp's "dns+udp://IP:PORT". */
static void parse_dns(struct cfg_ctx *ctx, const cJSON *root, struct xwgp_client_config *c)
{
	static const char scheme[] = "dns+udp://";
	const char *dns, *resolver, *v, *key;
	int ret;

	if (get_nonempty(ctx, root, "", "dns", &dns) |
	    get_nonempty(ctx, root, "", "resolver", &resolver))
		return;
	if (dns && resolver) {
		cfg_err(ctx, -EINVAL, "resolver: both dns and resolver given (one is an alias of the other)");
		return;
	}
	key = dns ? "dns" : "resolver";
	v = dns ? dns : resolver;
	if (!v)
		return;
	if (resolver && !strncmp(v, scheme, sizeof(scheme) - 1))
		v += sizeof(scheme) - 1;
	else if (resolver && strstr(v, "://")) {
		cfg_err(ctx, -EINVAL, "resolver: unsupported resolver `%s' (want dns+udp://IP:PORT)",
			resolver);
		return;
	}
	ret = xwgp_ep_parse(v, 0, &c->dns);
	if (ret == -EINVAL && !xwgp_ep_parse(v, XWGP_EP_HOST_ONLY, &c->dns)) {
		c->dns.port = htons(53);
		ret = 0;
	}
	if (ret)
		addr_err(ctx, key, dns ? dns : resolver, ret);
}

static void parse_client_server(struct cfg_ctx *ctx, const cJSON *root,
				struct xwgp_client_config *c)
{
	char host[256];
	const char *v;
	int ret;

	if (get_string(ctx, root, "", "server", &v))
		return;
	if (!v || !*v) {
		cfg_err(ctx, -EINVAL, "server: missing (required)");
		return;
	}
	ret = xwgp_hostport_split(v, host, sizeof(host), &c->server_port);
	if (ret) {
		addr_err(ctx, "server", v, ret);
		return;
	}
	c->server = cfg_strdup(ctx, v);
	c->server_host = cfg_strdup(ctx, host);
}

static void parse_client_key(struct cfg_ctx *ctx, const cJSON *root, const char *key,
			     uint8_t out[static XWGP_KEY_LEN])
{
	const char *v;

	if (get_string(ctx, root, "", key, &v))
		return;
	if (!v) {
		cfg_err(ctx, -EINVAL, "%s: missing (required)", key);
		return;
	}
	decode_key(ctx, key, v, false, out);
}

static const char *const client_top_keys[] = {
	"server", "listen",   "timeout", "max_packet_size", "server_pubkey",   "client_pubkey",
	"dns",	  "resolver", "obfs",	 "csvl",	    "ssvl",		"cache_file_path",
	NULL,
};

static void parse_client_root(struct cfg_ctx *ctx, const cJSON *root, struct xwgp_client_config *c)
{
	c->timeout_sec = XWGP_TIMEOUT_DEFAULT_SEC;
	c->max_packet_size = XWGP_MAX_PACKET_SIZE_DEFAULT;

	check_keys(ctx, root, "", client_top_keys);
	parse_client_server(ctx, root, c);
	parse_bind_ep(ctx, root, "", "listen", XWGP_EP_HOST_OPTIONAL, true, &c->listen);
	get_uint(ctx, root, "", "timeout", 1, INT32_MAX, &c->timeout_sec);
	get_uint(ctx, root, "", "max_packet_size", MIN_PACKET_SIZE, 65535, &c->max_packet_size);
	parse_client_key(ctx, root, "server_pubkey", c->server_pubkey);
	parse_client_key(ctx, root, "client_pubkey", c->client_pubkey);
	parse_dns(ctx, root, c);
	parse_optional_strings(ctx, root, &c->obfs, &c->cache_file_path);
	get_svl(ctx, root, "", "csvl", &c->csvl);
	get_svl(ctx, root, "", "ssvl", &c->ssvl);
	c->csvl = svl_resolve(c->csvl, XWGP_SVL_INHERIT, XWGP_CSVL_DEFAULT);
	c->ssvl = svl_resolve(c->ssvl, XWGP_SVL_INHERIT, XWGP_SSVL_DEFAULT);
}

int config_parse_client(const char *json_text, const char *source_name,
			struct xwgp_client_config *out)
{
	struct cfg_ctx ctx = { .source = source_name ? source_name : "<config>" };
	struct xwgp_client_config c = { 0 };
	cJSON *root;

	memset(out, 0, sizeof(*out));
	if (parse_root(&ctx, json_text, &root))
		return ctx.err;
	parse_client_root(&ctx, root, &c);
	json_free(root);
	if (ctx.err) {
		config_free_client(&c);
		return ctx.err;
	}
	*out = c;
	return 0;
}

void config_free_client(struct xwgp_client_config *c)
{
	free(c->server);
	free(c->server_host);
	free_secret(c->obfs);
	free(c->cache_file_path);
	memset(c, 0, sizeof(*c));
}

/* ---- files and detection ------------------------------------------------- */

int config_read_file(const char *path, char **text)
{
	size_t len = 0;
	char *buf;
	int fd, ret;

	*text = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	ret = read_fd(fd, buf, CONFIG_FILE_MAX + 1, &len);
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

/* Read, then parse with parse_fn; the text (keys inside) is wiped either way. */
static int load_file(const char *path, void *out,
		     int (*parse_fn)(const char *, const char *, void *))
{
	char *text;
	int ret;

	ret = config_read_file(path, &text);
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

static int parse_server_cb(const char *text, const char *src, void *out)
{
	return config_parse_server(text, src, out);
}

static int parse_client_cb(const char *text, const char *src, void *out)
{
	return config_parse_client(text, src, out);
}

int config_load_server(const char *path, struct xwgp_server_config *out)
{
	memset(out, 0, sizeof(*out));
	return load_file(path, out, parse_server_cb);
}

int config_load_client(const char *path, struct xwgp_client_config *out)
{
	memset(out, 0, sizeof(*out));
	return load_file(path, out, parse_client_cb);
}

int config_detect_kind(const char *json_text, const char *source_name,
		       enum xwgp_config_kind *kind)
{
	struct cfg_ctx ctx = { .source = source_name ? source_name : "<config>" };
	bool servers, server;
	cJSON *root;

	if (parse_root(&ctx, json_text, &root))
		return ctx.err;
	servers = cJSON_HasObjectItem(root, "servers");
	server = cJSON_HasObjectItem(root, "server");
	json_free(root);
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

/* ---- printing ------------------------------------------------------------ */

static const char *svl_name(uint8_t svl)
{
	switch (svl) {
	case XWGP_SVL_NONE:
		return "none";
	case XWGP_SVL_IP:
		return "ip";
	case XWGP_SVL_IP_PORT:
		return "ip+port";
	default:
		return "inherit";
	}
}

static void print_ep(FILE *out, const char *label, const struct xwgp_ep *ep, const char *note)
{
	char buf[XWGP_EP_STRLEN];

	if (xwgp_ep_format(buf, sizeof(buf), ep))
		snprintf(buf, sizeof(buf), "?");
	fprintf(out, "%-17s %s%s\n", label, buf, note);
}

static void print_peer(FILE *out, size_t i, const struct xwgp_peer_cfg *p)
{
	char ep[XWGP_EP_STRLEN], b64[KEY_B64_LEN], label[32];

	if (xwgp_ep_format(ep, sizeof(ep), &p->forward_to))
		snprintf(ep, sizeof(ep), "?");
	if (p->has_pubkey)
		key_b64(b64, p->pubkey);
	else
		snprintf(b64, sizeof(b64), "(fallback: any other client)");
	snprintf(label, sizeof(label), "peers[%zu]", i);
	fprintf(out, "  %-15s %-44s -> %s  csvl %u (%s)  ssvl %u (%s)", label, b64, ep, p->csvl,
		svl_name(p->csvl), p->ssvl, svl_name(p->ssvl));
	if (p->forward_to_name)
		fprintf(out, "  [resolved from `%s']", p->forward_to_name);
	fputc('\n', out);
}

static void print_server(FILE *out, size_t i, const struct xwgp_server_cfg *s)
{
	char b64[KEY_B64_LEN], ip[XWGP_EP_STRLEN];
	size_t j;

	fprintf(out, "servers[%zu]\n", i);
	key_b64(b64, s->pubkey);
	fprintf(out, "  %-15s %s\n", "pubkey", b64);
	if (s->privkey_file)
		fprintf(out, "  %-15s (redacted; read from `%s')\n", "privkey", s->privkey_file);
	else
		fprintf(out, "  %-15s (redacted; inline)\n", "privkey");
	if (s->address.family == XWGP_FAMILY_NONE) {
		fprintf(out, "  %-15s (none)\n", "address");
	} else {
		xwgp_ep_format_ip(ip, sizeof(ip), &s->address);
		fprintf(out, "  %-15s %s", "address", ip);
		if (s->address_name)
			fprintf(out, "  [resolved from `%s']", s->address_name);
		fputc('\n', out);
	}
	fprintf(out, "  %-15s csvl %s, ssvl %s (server level; peers inherit)\n", "levels",
		s->csvl ? svl_name(s->csvl) : "not set", s->ssvl ? svl_name(s->ssvl) : "not set");
	if (s->fallback >= 0)
		fprintf(out, "  %-15s peers[%d]\n", "fallback", s->fallback);
	else
		fprintf(out, "  %-15s (none: unknown clients are refused)\n", "fallback");
	for (j = 0; j < s->n_peers; j++)
		print_peer(out, j, &s->peers[j]);
}

static void print_common(FILE *out, uint32_t timeout, uint32_t mps, const char *obfs,
			 const char *cache)
{
	fprintf(out, "%-17s %u s\n", "timeout", timeout);
	fprintf(out, "%-17s %u\n", "max_packet_size", mps);
	fprintf(out, "%-17s %s\n", "obfs", obfs ? "on (password redacted)" : "off");
	fprintf(out, "%-17s %s\n", "cache_file_path", cache ? cache : "(default)");
}

void config_print_server(FILE *out, const struct xwgp_server_config *c)
{
	size_t i;

	fprintf(out, "# xwgp server config, resolved (private keys and obfs password redacted)\n");
	print_ep(out, "listen", &c->listen,
		 c->listen.family == XWGP_FAMILY_NONE ? "  (every local address)" : "");
	print_ep(out, "upstream", &c->upstream, c->upstream.port ? "" : "  (ephemeral port)");
	print_common(out, c->timeout_sec, c->max_packet_size, c->obfs, c->cache_file_path);
	fprintf(out, "%-17s", "interface");
	for (i = 0; i < c->n_interfaces; i++)
		fprintf(out, " %s", c->interfaces[i]);
	fprintf(out, "%s\n", c->n_interfaces ? "" : " (none)");
	fprintf(out, "%-17s %s\n", "xdp_mode", config_xdp_mode_name(c->xdp_mode));
	fprintf(out, "%-17s %s\n", "instance", c->instance ? c->instance : "?");
	fprintf(out, "%-17s %s\n", "pin_path", c->pin_path ? c->pin_path : "?");
	if (c->punt_rate_pps)
		fprintf(out, "%-17s %u/s per source, burst %u\n", "punt_rate", c->punt_rate_pps,
			c->punt_burst);
	else
		fprintf(out, "%-17s unlimited\n", "punt_rate");
	fprintf(out, "%-17s %u\n", "max_sessions", c->max_sessions);
	fprintf(out, "%-17s %u ms\n", "fib_cache_ms", c->fib_cache_ms);
	fprintf(out, "%-17s %u initiations/s%s\n", "under_load", c->under_load_pps,
		c->under_load_pps ? "" : " (0: always cookies first)");
	for (i = 0; i < c->n_servers; i++)
		print_server(out, i, &c->servers[i]);
}

void config_print_client(FILE *out, const struct xwgp_client_config *c)
{
	char b64[KEY_B64_LEN];

	fprintf(out, "# xwgp client config, resolved (obfs password redacted)\n");
	fprintf(out, "%-17s %s  (resolved at run time)\n", "server", c->server ? c->server : "?");
	print_ep(out, "listen", &c->listen,
		 c->listen.family == XWGP_FAMILY_NONE ? "  (every local address)" : "");
	print_common(out, c->timeout_sec, c->max_packet_size, c->obfs, c->cache_file_path);
	key_b64(b64, c->server_pubkey);
	fprintf(out, "%-17s %s\n", "server_pubkey", b64);
	key_b64(b64, c->client_pubkey);
	fprintf(out, "%-17s %s\n", "client_pubkey", b64);
	if (c->dns.family == XWGP_FAMILY_NONE)
		fprintf(out, "%-17s (system resolver)\n", "dns");
	else
		print_ep(out, "dns", &c->dns, "");
	fprintf(out, "%-17s csvl %u (%s), ssvl %u (%s)\n", "levels", c->csvl, svl_name(c->csvl),
		c->ssvl, svl_name(c->ssvl));
}
