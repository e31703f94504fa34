// SPDX-License-Identifier: GPL-2.0
/* The cache file reader's getters: see cache_json.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "addr.h"
#include "cache_json.h"
#include "log.h"
#include "wg_crypto.h"


int cache_bad(struct cache_pctx *p, const char *field, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (p->failed)
		return -EINVAL; /* report the first problem only */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_warn("cache file %s: %s%s%s%s%s; starting with an empty session table", p->name,
		p->path, *p->path && field ? "." : "", field ? field : "",
		*p->path || field ? ": " : "", msg);
	p->failed = true;
	return -EINVAL;
}

int cache_get_uint(struct cache_pctx *p, const cJSON *o, const char *field, double max, uint64_t *out,
		    bool optional, bool *present)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);
	double d;

	if (present)
		*present = v != NULL;
	if (!v) {
		if (optional)
			return 0;
		return cache_bad(p, field, "missing");
	}
	if (!cJSON_IsNumber(v))
		return cache_bad(p, field, "not a number");
	d = v->valuedouble;
	if (!isfinite(d) || d < 0 || d > max || floor(d) != d)
		return cache_bad(p, field, "`%g' is not an integer in 0..%.0f", d, max);
	*out = (uint64_t)d;
	return 0;
}

int cache_get_u32(struct cache_pctx *p, const cJSON *o, const char *field, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int err = cache_get_uint(p, o, field, max, &v, false, NULL);

	if (!err)
		*out = (uint32_t)v;
	return err;
}

const char *cache_get_str(struct cache_pctx *p, const cJSON *o, const char *field)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);

	if (!v) {
		cache_bad(p, field, "missing");
		return NULL;
	}
	if (!cJSON_IsString(v) || !v->valuestring) {
		cache_bad(p, field, "not a string");
		return NULL;
	}
	return v->valuestring;
}

int cache_get_hex(struct cache_pctx *p, const cJSON *o, const char *field, uint8_t *out, size_t n)
{
	const char *s = cache_get_str(p, o, field);
	size_t bin_len = 0;
	const char *end;

	if (!s)
		return -EINVAL;
	if (strlen(s) != 2 * n || sodium_hex2bin(out, n, s, 2 * n, NULL, &bin_len, &end) ||
	    bin_len != n)
		return cache_bad(p, field, "`%.80s' is not %zu hex digits", s, 2 * n);
	return 0;
}

int cache_get_key(struct cache_pctx *p, const cJSON *o, const char *field, uint8_t out[static 32])
{
	const char *s = cache_get_str(p, o, field);

	if (!s)
		return -EINVAL;
	if (wg_key_from_base64(out, s))
		return cache_bad(p, field, "`%.80s' is not a base64 WireGuard key", s);
	return 0;
}

int cache_get_ep(struct cache_pctx *p, const cJSON *o, const char *field, bool local,
		  struct xwgp_ep *out)
{
	const char *s = cache_get_str(p, o, field);
	int err;

	if (!s)
		return -EINVAL;
	/* Our own addresses may be wildcards; peers' never are. */
	err = xwgp_ep_parse(s, local ? XWGP_EP_HOST_OPTIONAL | XWGP_EP_PORT_ZERO : 0, out);
	if (err)
		return cache_bad(p, field, "`%.80s': %s", s, xwgp_ep_strerror(err));
	return 0;
}
