// SPDX-License-Identifier: GPL-2.0
/*
 * Reading the session cache file (layout in cache_format.c): every field
 * checked, times rebased onto this boot's clock (cache.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "cache.h"
#include "cache_json.h"
#include "log.h"

static bool svl_ok(uint32_t v)
{
	return v >= XWGP_SVL_NONE && v <= XWGP_SVL_IP_PORT;
}
/* How to turn ages from the file into CLOCK_BOOTTIME values of now. */
struct rebase {
	uint64_t now_ns; /* now, CLOCK_BOOTTIME */
	uint64_t down_ns; /* time since the file was written */
	uint64_t written_boot_ms; /* the writer's boot clock: no age can exceed it */
};

/* Sums of clock values saturate: a wrapped sum would make an old key young. */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/*
 * An age (ms at write time). The writer measures every age on its boot
 * clock, so none exceeds the header's boottime_ms: a larger one is corrupt
 * (e.g. 2^53 ms, which would wrap when made nanoseconds), not just old.
 */
static int get_age(struct cache_pctx *p, const cJSON *o, const char *field, const struct rebase *r,
		   uint64_t *out, bool optional, bool *present)
{
	bool here = true;
	int err = cache_get_uint(p, o, field, JSON_INT_MAX, out, optional, &here);

	if (present)
		*present = here;
	if (err || !here)
		return err;
	if (*out > r->written_boot_ms)
		return cache_bad(p, field,
				 "age %llu ms is older than the boot the file was written in "
				 "(written.boottime_ms %llu)",
				 (unsigned long long)*out, (unsigned long long)r->written_boot_ms);
	return 0;
}

/* Age measured at write time, plus the time since: a key's true age. */
static uint64_t rebase_age(const struct rebase *r, uint64_t age_ms, bool count_downtime)
{
	uint64_t age = sat_add(age_ms * NSEC_PER_MSEC, count_downtime ? r->down_ns : 0);

	/* Before this boot: the earliest instant the boot clock can name. */
	return age < r->now_ns ? r->now_ns - age : 1;
}

static int parse_session(struct cache_pctx *p, const cJSON *o, const struct rebase *r,
			 struct xwgp_cache *out)
{
	struct xwgp_session s = {};
	struct xwgp_session_meta m = {};
	uint64_t created, seen, hs, est = 0, v[4];
	uint32_t flags, csvl, ssvl;
	bool has_est;
	int err;

	if (!cJSON_IsObject(o))
		return cache_bad(p, NULL, "not an object");
	err = cache_get_u32(p, o, "client_proxy_index", UINT32_MAX, &s.client_proxy_index) ||
	      cache_get_u32(p, o, "client_origin_index", UINT32_MAX, &s.client_origin_index) ||
	      cache_get_u32(p, o, "server_proxy_index", UINT32_MAX, &s.server_proxy_index) ||
	      cache_get_u32(p, o, "server_origin_index", UINT32_MAX, &s.server_origin_index) ||
	      cache_get_u32(p, o, "flags", UINT8_MAX, &flags) || cache_get_u32(p, o, "csvl", UINT8_MAX, &csvl) ||
	      cache_get_u32(p, o, "ssvl", UINT8_MAX, &ssvl) ||
	      cache_get_ep(p, o, "client", false, &s.client) ||
	      cache_get_ep(p, o, "client_local", true, &s.client_local) ||
	      cache_get_ep(p, o, "server", false, &s.server) ||
	      cache_get_ep(p, o, "server_local", true, &s.server_local) ||
	      get_age(p, o, "created_age_ms", r, &created, false, NULL) ||
	      get_age(p, o, "last_seen_age_ms", r, &seen, false, NULL) ||
	      get_age(p, o, "handshake_age_ms", r, &hs, false, NULL) ||
	      get_age(p, o, "established_age_ms", r, &est, true, &has_est) ||
	      cache_get_uint(p, o, "c2s_packets", JSON_INT_MAX, &v[0], false, NULL) ||
	      cache_get_uint(p, o, "c2s_bytes", JSON_INT_MAX, &v[1], false, NULL) ||
	      cache_get_uint(p, o, "s2c_packets", JSON_INT_MAX, &v[2], false, NULL) ||
	      cache_get_uint(p, o, "s2c_bytes", JSON_INT_MAX, &v[3], false, NULL) ||
	      cache_get_key(p, o, "client_pubkey", m.client_pub) ||
	      cache_get_key(p, o, "server_pubkey", m.server_pub) ||
	      cache_get_hex(p, o, "sent_mac1", m.sent_mac1, sizeof(m.sent_mac1)) ||
	      cache_get_hex(p, o, "client_mac1", m.client_mac1, sizeof(m.client_mac1));
	if (err)
		return -EINVAL;
	/* What the fast path relies on: index 0 is never a key. */
	if (!s.client_proxy_index)
		return cache_bad(p, "client_proxy_index", "0 is not a valid index");
	if (flags & ~XWGP_CACHE_SESSION_FLAGS)
		return cache_bad(p, "flags", "unknown bits in %#x", flags);
	if ((flags & XWGP_SF_ESTABLISHED) && !s.server_proxy_index)
		return cache_bad(p, "server_proxy_index", "0 in an established session");
	if (!svl_ok(csvl) || !svl_ok(ssvl))
		return cache_bad(p, svl_ok(csvl) ? "ssvl" : "csvl", "not a level 1-3");
	s.flags = flags;
	s.csvl = csvl;
	s.ssvl = ssvl;
	s.c2s_packets = v[0];
	s.c2s_bytes = v[1];
	s.s2c_packets = v[2];
	s.s2c_bytes = v[3];

	/* Keys older than WireGuard's REJECT_AFTER_TIME are dead: nothing to restore. */
	if (sat_add(hs * NSEC_PER_MSEC, r->down_ns) > XWGP_CACHE_REJECT_AFTER_SEC * NSEC_PER_SEC) {
		pr_debug("cache file %s: %s: handshake too old, not restored", p->name, p->path);
		return 0;
	}
	s.created_ns = rebase_age(r, created, true);
	s.last_seen_ns = rebase_age(r, seen, false);
	m.handshake_ns = rebase_age(r, hs, true);
	m.established_ns = has_est ? rebase_age(r, est, true) : 0;
	return cache_add_session(out, &s, &m);
}

static int parse_peer(struct cache_pctx *p, const cJSON *o, const struct rebase *r,
		      struct xwgp_cache *out)
{
	struct cache_peer cp = {};
	uint64_t cookie_age = 0;
	bool has_cookie = cJSON_GetObjectItemCaseSensitive(o, "cookie") != NULL, has_age;
	int err;

	if (!cJSON_IsObject(o))
		return cache_bad(p, NULL, "not an object");
	err = cache_get_key(p, o, "server_pubkey", cp.k.server_pub) ||
	      cache_get_key(p, o, "client_pubkey", cp.k.client_pub) ||
	      cache_get_hex(p, o, "last_tai64n", cp.st.last_tai64n, sizeof(cp.st.last_tai64n)) ||
	      (has_cookie && cache_get_hex(p, o, "cookie", cp.st.cookie, sizeof(cp.st.cookie))) ||
	      get_age(p, o, "cookie_age_ms", r, &cookie_age, true, &has_age);
	if (err)
		return -EINVAL;
	if (has_cookie != has_age)
		return cache_bad(p, has_cookie ? "cookie_age_ms" : "cookie",
			   "missing (cookie and cookie_age_ms go together)");
	if (has_cookie && sat_add(cookie_age * NSEC_PER_MSEC, r->down_ns) <
				  XWGP_CACHE_COOKIE_LIFETIME_SEC * NSEC_PER_SEC)
		cp.st.cookie_ns = rebase_age(r, cookie_age, true);
	else
		sodium_memzero(cp.st.cookie, sizeof(cp.st.cookie)); /* expired */
	/* Not in the file: a restored state counts as accepted now (wgit_admit.c). */
	cp.st.updated_ns = r->now_ns;
	err = cache_add_peer(out, &cp.k, &cp.st);
	sodium_memzero(&cp, sizeof(cp));
	return err;
}

static int parse_array(struct cache_pctx *p, const cJSON *root, const char *field,
		       const struct rebase *r, struct xwgp_cache *out,
		       int (*fn)(struct cache_pctx *, const cJSON *, const struct rebase *,
				 struct xwgp_cache *))
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, field), *it;
	size_t i = 0;
	int err;

	if (!arr)
		return cache_bad(p, field, "missing");
	if (!cJSON_IsArray(arr))
		return cache_bad(p, field, "not an array");
	cJSON_ArrayForEach(it, arr) {
		snprintf(p->path, sizeof(p->path), "%s[%zu]", field, i++);
		err = fn(p, it, r, out);
		if (err)
			return err;
	}
	p->path[0] = '\0';
	return 0;
}

/* The header: version, when it was written; fills the rebase. */
static int parse_header(struct cache_pctx *p, const cJSON *root, const struct cache_clock *now,
			struct rebase *r, uint16_t *upstream_port)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "written");
	uint64_t version, boot_ms, real_ms, port;
	const char *boot_id;
	uint64_t wboot, wreal;

	if (cache_get_uint(p, root, "version", JSON_INT_MAX, &version, false, NULL))
		return -EINVAL;
	if (version != XWGP_CACHE_VERSION)
		return cache_bad(p, "version", "%llu is not supported (this xwgp reads %d)",
			   (unsigned long long)version, XWGP_CACHE_VERSION);
	if (!w)
		return cache_bad(p, "written", "missing");
	if (!cJSON_IsObject(w))
		return cache_bad(p, "written", "not an object");
	snprintf(p->path, sizeof(p->path), "written");
	boot_id = cache_get_str(p, w, "boot_id");
	/* Clock readings a 64-bit nanosecond clock can hold (~584 years). */
	if (!boot_id ||
	    cache_get_uint(p, w, "boottime_ms", XWGP_CACHE_CLOCK_MAX_MS, &boot_ms, false, NULL) ||
	    cache_get_uint(p, w, "realtime_ms", XWGP_CACHE_CLOCK_MAX_MS, &real_ms, false, NULL))
		return -EINVAL;
	p->path[0] = '\0';
	if (cache_get_uint(p, root, "upstream_port", 65535, &port, false, NULL))
		return -EINVAL;
	*upstream_port = port;

	r->written_boot_ms = boot_ms;
	wboot = boot_ms * NSEC_PER_MSEC;
	wreal = real_ms * NSEC_PER_MSEC;
	r->now_ns = now->boot_ns;
	/* Same boot: the boot clock is exact. Else the wall clock (if it went back, 0). */
	if (*boot_id && !strcmp(boot_id, now->boot_id) && now->boot_ns >= wboot)
		r->down_ns = now->boot_ns - wboot;
	else
		r->down_ns = now->real_ns > wreal ? now->real_ns - wreal : 0;
	return 0;
}

static bool only_space(const char *s, const char *end)
{
	for (; s < end; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

int cache_parse(const char *text, size_t len, const char *name, const struct cache_clock *now,
		struct xwgp_cache *out)
{
	struct cache_pctx p = { .name = name };
	const char *end = NULL;
	struct rebase r;
	cJSON *root;
	int err;

	memset(out, 0, sizeof(*out));
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (!root || !end || end < text || end > text + len || !only_space(end, text + len)) {
		size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : len;

		cJSON_Delete(root);
		return cache_bad(&p, NULL, "not valid JSON (truncated or corrupt) at byte %zu of %zu", off,
			   len);
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return cache_bad(&p, NULL, "the top level is not an object");
	}
	err = parse_header(&p, root, now, &r, &out->upstream_port);
	err = err ?: parse_array(&p, root, "sessions", &r, out, parse_session);
	err = err ?: parse_array(&p, root, "peers", &r, out, parse_peer);
	cJSON_Delete(root);
	if (err) {
		if (err == -ENOMEM)
			pr_warn("cache file %s: out of memory", name);
		cache_free(out);
	}
	return err;
}
