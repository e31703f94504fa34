// SPDX-License-Identifier: GPL-2.0
/*
 * Reading the session cache file (layout in cache_format.c): every field
 * checked with the config's getters (config_json.h), times rebased onto
 * this boot's clock (cache.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "addr.h"
#include "cache.h"
#include "clock.h"
#include "config_json.h"
#include "log.h"
#include "wg_crypto.h"

/*
 * The first problem only, as "cache file NAME: PATH: MSG; starting with an
 * empty session table": one broken field makes the whole file untrusted,
 * and what follows it says nothing more. cfg_err() sets ctx->err after
 * reporting, so a set one means a problem was already told.
 */
static void cache_report(struct cfg_ctx *ctx, bool error, const char *msg)
{
	(void)error; /* the getters only warn through cfg_err() here */
	if (ctx->err)
		return;
	pr_warn("cache file %s: %s; starting with an empty session table", ctx->source, msg);
}

/* "PREFIX.FIELD: MSG" (no field: "PREFIX: MSG") as the file's problem; -EINVAL. */
__attribute__((format(printf, 4, 5))) static int bad(struct cfg_ctx *ctx, const char *prefix,
						     const char *field, const char *fmt, ...)
{
	char path[CFG_JPATH_LEN], msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg_err(ctx, -EINVAL, "%s: %s", field ? cfg_jkey(path, prefix, field) : prefix, msg);
	return -EINVAL;
}

/* Every field the writer puts in is required, unless the caller says so. */
static int get_u64(struct cfg_ctx *ctx, const cJSON *o, const char *prefix, const char *field,
		   uint64_t max, uint64_t *out)
{
	return cfg_require(ctx, o, prefix, field)
		       ?: cfg_get_u64(ctx, o, prefix, field, 0, max, out);
}

static int get_u32(struct cfg_ctx *ctx, const cJSON *o, const char *prefix, const char *field,
		   uint32_t max, uint32_t *out)
{
	return cfg_require(ctx, o, prefix, field)
		       ?: cfg_get_uint(ctx, o, prefix, field, 0, max, out);
}

/* A required string, or NULL after reporting. */
static const char *get_str(struct cfg_ctx *ctx, const cJSON *o, const char *prefix,
			   const char *field)
{
	const char *s = NULL;

	if (cfg_require(ctx, o, prefix, field) || cfg_get_string(ctx, o, prefix, field, &s))
		return NULL;
	return s;
}

/* Exactly n bytes as 2n hex digits. */
static int get_hex(struct cfg_ctx *ctx, const cJSON *o, const char *prefix, const char *field,
		   uint8_t *out, size_t n)
{
	const char *s = get_str(ctx, o, prefix, field);
	size_t bin_len = 0;
	const char *end;

	if (!s)
		return -EINVAL;
	if (strlen(s) != 2 * n || sodium_hex2bin(out, n, s, 2 * n, NULL, &bin_len, &end) ||
	    bin_len != n)
		return bad(ctx, prefix, field, "`%.80s' is not %zu hex digits", s, 2 * n);
	return 0;
}

/* A base64 WireGuard key (public: the value may be echoed). */
static int get_key(struct cfg_ctx *ctx, const cJSON *o, const char *prefix, const char *field,
		   uint8_t out[static WG_KEY_LEN])
{
	const char *s = get_str(ctx, o, prefix, field);

	if (!s)
		return -EINVAL;
	if (wg_key_from_base64(out, s))
		return bad(ctx, prefix, field, "`%.80s' is not a base64 WireGuard key", s);
	return 0;
}

/* An endpoint; `local' (our own) ones may be wildcards with port 0. */
static int get_ep(struct cfg_ctx *ctx, const cJSON *o, const char *prefix, const char *field,
		  bool local, struct xwgp_ep *out)
{
	const char *s = get_str(ctx, o, prefix, field);
	int err;

	if (!s)
		return -EINVAL;
	/* Our own addresses may be wildcards; peers' never are. */
	err = xwgp_ep_parse(s, local ? XWGP_EP_HOST_OPTIONAL | XWGP_EP_PORT_ZERO : 0, out);
	if (err)
		return bad(ctx, prefix, field, "`%.80s': %s", s, xwgp_ep_strerror(err));
	return 0;
}

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
static int get_age(struct cfg_ctx *ctx, const cJSON *o, const char *at, const char *field,
		   const struct rebase *r, uint64_t *out, bool optional, bool *present)
{
	/* An own file: a null is present (and of the wrong type), see cfg_ctx. */
	bool here = cJSON_GetObjectItemCaseSensitive(o, field) != NULL;
	int err;

	if (present)
		*present = here;
	if (!here && optional)
		return 0;
	err = get_u64(ctx, o, at, field, CFG_INT_MAX, out);
	if (err)
		return err;
	if (*out > r->written_boot_ms)
		return bad(ctx, at, field,
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

static int parse_session(struct cfg_ctx *ctx, const cJSON *o, const char *at,
			 const struct rebase *r, struct xwgp_cache *out)
{
	struct xwgp_session s = {};
	struct xwgp_session_meta m = {};
	uint64_t created, seen, hs, est = 0, v[4];
	uint32_t flags, csvl, ssvl;
	bool has_est;
	int err;

	if (!cJSON_IsObject(o))
		return bad(ctx, at, NULL, "not an object");
	err = get_u32(ctx, o, at, "client_proxy_index", UINT32_MAX, &s.client_proxy_index) ||
	      get_u32(ctx, o, at, "client_origin_index", UINT32_MAX, &s.client_origin_index) ||
	      get_u32(ctx, o, at, "server_proxy_index", UINT32_MAX, &s.server_proxy_index) ||
	      get_u32(ctx, o, at, "server_origin_index", UINT32_MAX, &s.server_origin_index) ||
	      get_u32(ctx, o, at, "flags", UINT8_MAX, &flags) ||
	      get_u32(ctx, o, at, "csvl", UINT8_MAX, &csvl) ||
	      get_u32(ctx, o, at, "ssvl", UINT8_MAX, &ssvl) ||
	      get_ep(ctx, o, at, "client", false, &s.client) ||
	      get_ep(ctx, o, at, "client_local", true, &s.client_local) ||
	      get_ep(ctx, o, at, "server", false, &s.server) ||
	      get_ep(ctx, o, at, "server_local", true, &s.server_local) ||
	      get_age(ctx, o, at, "created_age_ms", r, &created, false, NULL) ||
	      get_age(ctx, o, at, "last_seen_age_ms", r, &seen, false, NULL) ||
	      get_age(ctx, o, at, "handshake_age_ms", r, &hs, false, NULL) ||
	      get_age(ctx, o, at, "established_age_ms", r, &est, true, &has_est) ||
	      get_u64(ctx, o, at, "c2s_packets", CFG_INT_MAX, &v[0]) ||
	      get_u64(ctx, o, at, "c2s_bytes", CFG_INT_MAX, &v[1]) ||
	      get_u64(ctx, o, at, "s2c_packets", CFG_INT_MAX, &v[2]) ||
	      get_u64(ctx, o, at, "s2c_bytes", CFG_INT_MAX, &v[3]) ||
	      get_key(ctx, o, at, "client_pubkey", m.client_pub) ||
	      get_key(ctx, o, at, "server_pubkey", m.server_pub) ||
	      get_hex(ctx, o, at, "sent_mac1", m.sent_mac1, sizeof(m.sent_mac1)) ||
	      get_hex(ctx, o, at, "client_mac1", m.client_mac1, sizeof(m.client_mac1));
	if (err)
		return -EINVAL;
	/* What the fast path relies on: index 0 is never a key. */
	if (!s.client_proxy_index)
		return bad(ctx, at, "client_proxy_index", "0 is not a valid index");
	if (flags & ~XWGP_CACHE_SESSION_FLAGS)
		return bad(ctx, at, "flags", "unknown bits in %#x", flags);
	if ((flags & XWGP_SF_ESTABLISHED) && !s.server_proxy_index)
		return bad(ctx, at, "server_proxy_index", "0 in an established session");
	if (!svl_ok(csvl) || !svl_ok(ssvl))
		return bad(ctx, at, svl_ok(csvl) ? "ssvl" : "csvl", "not a level 1-3");
	s.flags = flags;
	s.csvl = csvl;
	s.ssvl = ssvl;
	s.c2s_packets = v[0];
	s.c2s_bytes = v[1];
	s.s2c_packets = v[2];
	s.s2c_bytes = v[3];

	/* Keys older than WireGuard's REJECT_AFTER_TIME are dead: nothing to restore. */
	if (sat_add(hs * NSEC_PER_MSEC, r->down_ns) > XWGP_CACHE_REJECT_AFTER_SEC * NSEC_PER_SEC) {
		pr_debug("cache file %s: %s: handshake too old, not restored", ctx->source, at);
		return 0;
	}
	s.created_ns = rebase_age(r, created, true);
	s.last_seen_ns = rebase_age(r, seen, false);
	m.handshake_ns = rebase_age(r, hs, true);
	m.established_ns = has_est ? rebase_age(r, est, true) : 0;
	return cache_add_session(out, &s, &m);
}

static int parse_peer(struct cfg_ctx *ctx, const cJSON *o, const char *at, const struct rebase *r,
		      struct xwgp_cache *out)
{
	struct cache_peer cp = {};
	uint64_t cookie_age = 0;
	bool has_cookie = cJSON_GetObjectItemCaseSensitive(o, "cookie") != NULL, has_age;
	int err;

	if (!cJSON_IsObject(o))
		return bad(ctx, at, NULL, "not an object");
	err = get_key(ctx, o, at, "server_pubkey", cp.k.server_pub) ||
	      get_key(ctx, o, at, "client_pubkey", cp.k.client_pub) ||
	      get_hex(ctx, o, at, "last_tai64n", cp.st.last_tai64n, sizeof(cp.st.last_tai64n)) ||
	      (has_cookie && get_hex(ctx, o, at, "cookie", cp.st.cookie, sizeof(cp.st.cookie))) ||
	      get_age(ctx, o, at, "cookie_age_ms", r, &cookie_age, true, &has_age);
	if (err)
		return -EINVAL;
	if (has_cookie != has_age)
		return bad(ctx, at, has_cookie ? "cookie_age_ms" : "cookie",
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

static int parse_array(struct cfg_ctx *ctx, const cJSON *root, const char *field,
		       const struct rebase *r, struct xwgp_cache *out,
		       int (*fn)(struct cfg_ctx *, const cJSON *, const char *,
				 const struct rebase *, struct xwgp_cache *))
{
	char at[CFG_JPATH_LEN];
	const cJSON *arr, *it;
	size_t i = 0;
	int err;

	if (cfg_require(ctx, root, "", field) || cfg_get_array(ctx, root, "", field, &arr))
		return -EINVAL;
	cJSON_ArrayForEach(it, arr) {
		err = fn(ctx, it, cfg_jidx(at, "", field, i++), r, out);
		if (err)
			return err;
	}
	return 0;
}

/* The header: version, when it was written; fills the rebase. */
static int parse_header(struct cfg_ctx *ctx, const cJSON *root, const struct cache_clock *now,
			struct rebase *r, uint16_t *upstream_port)
{
	uint64_t version, boot_ms, real_ms, port;
	const char *boot_id;
	uint64_t wboot, wreal;
	const cJSON *w;

	if (get_u64(ctx, root, "", "version", CFG_INT_MAX, &version))
		return -EINVAL;
	if (version != XWGP_CACHE_VERSION)
		return bad(ctx, "", "version", "%llu is not supported (this xwgp reads %d)",
			   (unsigned long long)version, XWGP_CACHE_VERSION);
	if (cfg_require(ctx, root, "", "written") || cfg_get_object(ctx, root, "", "written", &w))
		return -EINVAL;
	boot_id = get_str(ctx, w, "written", "boot_id");
	/* Clock readings a 64-bit nanosecond clock can hold (~584 years). */
	if (!boot_id ||
	    get_u64(ctx, w, "written", "boottime_ms", XWGP_CACHE_CLOCK_MAX_MS, &boot_ms) ||
	    get_u64(ctx, w, "written", "realtime_ms", XWGP_CACHE_CLOCK_MAX_MS, &real_ms) ||
	    get_u64(ctx, root, "", "upstream_port", 65535, &port))
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
	struct cfg_ctx ctx = { .source = name, .report = cache_report, .own_file = true };
	const char *end = NULL;
	struct rebase r;
	cJSON *root;
	int err;

	memset(out, 0, sizeof(*out));
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (!root || !end || end < text || end > text + len || !only_space(end, text + len)) {
		size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : len;

		cJSON_Delete(root);
		cfg_err(&ctx, -EINVAL, "not valid JSON (truncated or corrupt) at byte %zu of %zu",
			off, len);
		return -EINVAL;
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		cfg_err(&ctx, -EINVAL, "the top level is not an object");
		return -EINVAL;
	}
	err = parse_header(&ctx, root, now, &r, &out->upstream_port);
	err = err ?: parse_array(&ctx, root, "sessions", &r, out, parse_session);
	err = err ?: parse_array(&ctx, root, "peers", &r, out, parse_peer);
	cJSON_Delete(root);
	if (err) {
		if (err == -ENOMEM)
			pr_warn("cache file %s: out of memory", name);
		cache_free(out);
	}
	return err;
}
