// SPDX-License-Identifier: GPL-2.0
/*
 * The session cache file: see cache.h for what it holds and why times are
 * ages. Layout (every field required unless marked optional):
 *
 * {
 *   "version": 1,
 *   "written": { "boot_id": "...", "boottime_ms": N, "realtime_ms": N },
 *   "upstream_port": 51900,
 *   "sessions": [ { "client_proxy_index": N, "client_origin_index": N,
 *                   "server_proxy_index": N, "server_origin_index": N,
 *                   "flags": N, "csvl": N, "ssvl": N,
 *                   "client": "ep", "client_local": "ep",
 *                   "server": "ep", "server_local": "ep",
 *                   "created_age_ms": N, "last_seen_age_ms": N,
 *                   "handshake_age_ms": N, "established_age_ms": N (optional),
 *                   "c2s_packets": N, "c2s_bytes": N, "s2c_packets": N, "s2c_bytes": N,
 *                   (totals: XDP's and the agent's share, restored as the session's)
 *                   "client_pubkey": "b64", "server_pubkey": "b64",
 *                   "sent_mac1": "hex", "client_mac1": "hex" } ],
 *   "peers": [ { "server_pubkey": "b64", "client_pubkey": "b64",
 *                "last_tai64n": "hex", "cookie": "hex" (optional),
 *                "cookie_age_ms": N (with cookie) } ]
 * }
 *
 * Numbers are integers a double holds exactly (<= 2^53): cJSON parses every
 * number into a double.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <cjson/cJSON.h>
#include <sodium.h>

#include "addr.h"
#include "cache.h"
#include "log.h"
#include "wg_crypto.h"

#define NSEC_PER_MSEC 1000000ull
#define NSEC_PER_SEC 1000000000ull
#define JSON_INT_MAX 9007199254740992.0 /* 2^53 */
#define SESSION_FLAGS_KNOWN \
	(XWGP_SF_ESTABLISHED | XWGP_SF_OBFS | XWGP_SF_XLAT_CLIENT | XWGP_SF_XLAT_SERVER)

/* ---- paths --------------------------------------------------------------- */

int cache_default_path(char *buf, size_t len, const char *instance)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;

	if (!instance)
		instance = XWGP_INSTANCE_DEFAULT;
	/* A system service: FHS cache directory (systemd CacheDirectory=xwgp). */
	if (geteuid() == 0)
		n = snprintf(buf, len, "/var/cache/xwgp/%s.json", instance);
	else if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/xwgp/%s.json", xdg, instance);
	else if (home && home[0] == '/')
		n = snprintf(buf, len, "%s/.cache/xwgp/%s.json", home, instance);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int cache_resolve_path(char *buf, size_t len, const char *cli, const char *config_path,
		       const char *instance)
{
	const char *env = getenv("XWGP_CACHE_FILE");
	const char *p = cli && *cli ? cli : env && *env ? env : config_path;
	int n;

	if (!p)
		return cache_default_path(buf, len, instance);
	n = snprintf(buf, len, "%s", p);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* ---- clocks -------------------------------------------------------------- */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void cache_clock_now(struct cache_clock *c)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	memset(c, 0, sizeof(*c));
	if (f) {
		if (!fgets(c->boot_id, sizeof(c->boot_id), f))
			c->boot_id[0] = '\0';
		c->boot_id[strcspn(c->boot_id, "\n")] = '\0';
		fclose(f);
	}
	c->boot_ns = clock_ns(CLOCK_BOOTTIME);
	c->real_ns = clock_ns(CLOCK_REALTIME);
}

/* ---- the in-memory table --------------------------------------------------- */

void cache_free(struct xwgp_cache *c)
{
	if (c->sessions)
		sodium_memzero(c->sessions, c->cap_sessions * sizeof(*c->sessions));
	if (c->peers)
		sodium_memzero(c->peers, c->cap_peers * sizeof(*c->peers)); /* cookies */
	free(c->sessions);
	free(c->peers);
	memset(c, 0, sizeof(*c));
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = reallocarray(*arr, ncap, elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int cache_add_session(struct xwgp_cache *c, const struct xwgp_session *s,
		      const struct xwgp_session_meta *m)
{
	int err = grow((void **)&c->sessions, &c->cap_sessions, c->n_sessions,
		       sizeof(*c->sessions));

	if (err)
		return err;
	c->sessions[c->n_sessions].s = *s;
	c->sessions[c->n_sessions].m = *m;
	c->n_sessions++;
	return 0;
}

int cache_add_peer(struct xwgp_cache *c, const struct xwgp_peer_key *k,
		   const struct xwgp_peer_state *st)
{
	int err = grow((void **)&c->peers, &c->cap_peers, c->n_peers, sizeof(*c->peers));

	if (err)
		return err;
	c->peers[c->n_peers].k = *k;
	c->peers[c->n_peers].st = *st;
	c->n_peers++;
	return 0;
}

/* ---- writing --------------------------------------------------------------- */

static uint64_t age_ms(const struct cache_clock *at, uint64_t t)
{
	return t && at->boot_ns > t ? (at->boot_ns - t) / NSEC_PER_MSEC : 0;
}

/*
 * The writer streams text (open_memstream) instead of building a cJSON tree:
 * at 65536 sessions the tree alone took seconds of the event loop. Every
 * string written is base64, hex, an endpoint or a boot id, none of which
 * needs JSON escaping; the boot id is checked to be so. Integers are
 * written exactly (cJSON rounds above ~10^15); above 2^53 (counters after
 * 9 PB) they are clamped, so the reader, which goes through a double, takes
 * them.
 */
static uint64_t json_int(uint64_t v)
{
	return v > (uint64_t)JSON_INT_MAX ? (uint64_t)JSON_INT_MAX : v;
}

static void put_u64(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, ", \"%s\": %llu", name, (unsigned long long)json_int(v));
}

static void put_hex(FILE *f, const char *name, const uint8_t *p, size_t n)
{
	char hex[2 * 32 + 1];

	sodium_bin2hex(hex, sizeof(hex), p, n);
	fprintf(f, ", \"%s\": \"%s\"", name, hex);
}

static void put_key(FILE *f, const char *name, const uint8_t key[static 32])
{
	char b64[WG_KEY_B64_LEN + 1];

	wg_key_to_base64(b64, key);
	fprintf(f, ", \"%s\": \"%s\"", name, b64);
}

static void put_ep(FILE *f, const char *name, const struct xwgp_ep *ep)
{
	char buf[XWGP_EP_STRLEN];

	if (xwgp_ep_format(buf, sizeof(buf), ep))
		snprintf(buf, sizeof(buf), ":%u", xwgp_ep_port(ep));
	fprintf(f, ", \"%s\": \"%s\"", name, buf);
}

static void put_session(FILE *f, const struct cache_session *cs, const struct cache_clock *at)
{
	struct xwgp_session s = cs->s;
	const struct xwgp_session_meta *m = &cs->m;

	/* One set of counters in the file: XDP's and the agent's together. */
	wgit_session_totals(&s, m);
	fprintf(f, "{ \"client_proxy_index\": %u", s.client_proxy_index);
	put_u64(f, "client_origin_index", s.client_origin_index);
	put_u64(f, "server_proxy_index", s.server_proxy_index);
	put_u64(f, "server_origin_index", s.server_origin_index);
	put_u64(f, "flags", s.flags & SESSION_FLAGS_KNOWN);
	put_u64(f, "csvl", s.csvl);
	put_u64(f, "ssvl", s.ssvl);
	put_ep(f, "client", &s.client);
	put_ep(f, "client_local", &s.client_local);
	put_ep(f, "server", &s.server);
	put_ep(f, "server_local", &s.server_local);
	put_u64(f, "created_age_ms", age_ms(at, s.created_ns));
	put_u64(f, "last_seen_age_ms", age_ms(at, s.last_seen_ns));
	put_u64(f, "handshake_age_ms", age_ms(at, m->handshake_ns));
	if (m->established_ns)
		put_u64(f, "established_age_ms", age_ms(at, m->established_ns));
	put_u64(f, "c2s_packets", s.c2s_packets);
	put_u64(f, "c2s_bytes", s.c2s_bytes);
	put_u64(f, "s2c_packets", s.s2c_packets);
	put_u64(f, "s2c_bytes", s.s2c_bytes);
	put_key(f, "client_pubkey", m->client_pub);
	put_key(f, "server_pubkey", m->server_pub);
	put_hex(f, "sent_mac1", m->sent_mac1, sizeof(m->sent_mac1));
	put_hex(f, "client_mac1", m->client_mac1, sizeof(m->client_mac1));
	fputs(" }", f);
}

static void put_peer(FILE *f, const struct cache_peer *p, const struct cache_clock *at)
{
	char b64[WG_KEY_B64_LEN + 1];

	wg_key_to_base64(b64, p->k.server_pub);
	fprintf(f, "{ \"server_pubkey\": \"%s\"", b64);
	put_key(f, "client_pubkey", p->k.client_pub);
	put_hex(f, "last_tai64n", p->st.last_tai64n, sizeof(p->st.last_tai64n));
	if (p->st.cookie_ns) {
		put_hex(f, "cookie", p->st.cookie, sizeof(p->st.cookie));
		put_u64(f, "cookie_age_ms", age_ms(at, p->st.cookie_ns));
	}
	fputs(" }", f);
}

/* A boot id as the kernel prints it (hex and dashes): nothing to escape. */
static const char *safe_boot_id(const char *id)
{
	return strspn(id, "0123456789abcdefABCDEF-") == strlen(id) ? id : "";
}

char *cache_format(const struct xwgp_cache *c, const struct cache_clock *at)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f,
		"{\n  \"version\": %d,\n"
		"  \"written\": { \"boot_id\": \"%s\", \"boottime_ms\": %llu, \"realtime_ms\": %llu },\n"
		"  \"upstream_port\": %u,\n  \"sessions\": [",
		XWGP_CACHE_VERSION, safe_boot_id(at->boot_id),
		(unsigned long long)json_int(at->boot_ns / NSEC_PER_MSEC),
		(unsigned long long)json_int(at->real_ns / NSEC_PER_MSEC), c->upstream_port);
	for (size_t i = 0; i < c->n_sessions; i++) {
		fputs(i ? ",\n    " : "\n    ", f);
		put_session(f, &c->sessions[i], at);
	}
	fputs(c->n_sessions ? "\n  ],\n  \"peers\": [" : "],\n  \"peers\": [", f);
	for (size_t i = 0; i < c->n_peers; i++) {
		fputs(i ? ",\n    " : "\n    ", f);
		put_peer(f, &c->peers[i], at);
	}
	fputs(c->n_peers ? "\n  ]\n}\n" : "]\n}\n", f);
	if (ferror(f)) {
		fclose(f);
		if (text)
			sodium_memzero(text, len);
		free(text);
		return NULL;
	}
	if (fclose(f)) {
		if (text)
			sodium_memzero(text, len);
		free(text);
		return NULL;
	}
	return text;
}

/* ---- reading ---------------------------------------------------------------- */

struct pctx {
	const char *name; /* file name, for messages */
	char path[64]; /* JSON path of the object being read, e.g. "sessions[3]" */
	bool failed;
};

__attribute__((format(printf, 3, 4))) static int bad(struct pctx *p, const char *field,
						     const char *fmt, ...)
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

static int get_uint(struct pctx *p, const cJSON *o, const char *field, double max, uint64_t *out,
		    bool optional, bool *present)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);
	double d;

	if (present)
		*present = v != NULL;
	if (!v) {
		if (optional)
			return 0;
		return bad(p, field, "missing");
	}
	if (!cJSON_IsNumber(v))
		return bad(p, field, "not a number");
	d = v->valuedouble;
	if (!isfinite(d) || d < 0 || d > max || floor(d) != d)
		return bad(p, field, "`%g' is not an integer in 0..%.0f", d, max);
	*out = (uint64_t)d;
	return 0;
}

static int get_u32(struct pctx *p, const cJSON *o, const char *field, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int err = get_uint(p, o, field, max, &v, false, NULL);

	if (!err)
		*out = (uint32_t)v;
	return err;
}

static const char *get_str(struct pctx *p, const cJSON *o, const char *field)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);

	if (!v) {
		bad(p, field, "missing");
		return NULL;
	}
	if (!cJSON_IsString(v) || !v->valuestring) {
		bad(p, field, "not a string");
		return NULL;
	}
	return v->valuestring;
}

static int get_hex(struct pctx *p, const cJSON *o, const char *field, uint8_t *out, size_t n)
{
	const char *s = get_str(p, o, field);
	size_t bin_len = 0;
	const char *end;

	if (!s)
		return -EINVAL;
	if (strlen(s) != 2 * n || sodium_hex2bin(out, n, s, 2 * n, NULL, &bin_len, &end) ||
	    bin_len != n)
		return bad(p, field, "`%.80s' is not %zu hex digits", s, 2 * n);
	return 0;
}

static int get_key(struct pctx *p, const cJSON *o, const char *field, uint8_t out[static 32])
{
	const char *s = get_str(p, o, field);

	if (!s)
		return -EINVAL;
	if (wg_key_from_base64(out, s))
		return bad(p, field, "`%.80s' is not a base64 WireGuard key", s);
	return 0;
}

static int get_ep(struct pctx *p, const cJSON *o, const char *field, bool local,
		  struct xwgp_ep *out)
{
	const char *s = get_str(p, o, field);
	int err;

	if (!s)
		return -EINVAL;
	/* Our own addresses may be wildcards; peers' never are. */
	err = xwgp_ep_parse(s, local ? XWGP_EP_HOST_OPTIONAL | XWGP_EP_PORT_ZERO : 0, out);
	if (err)
		return bad(p, field, "`%.80s': %s", s, xwgp_ep_strerror(err));
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
};

/* Age measured at write time, plus the time since: a key's true age. */
static uint64_t rebase_age(const struct rebase *r, uint64_t age_ms, bool count_downtime)
{
	uint64_t age = age_ms * NSEC_PER_MSEC + (count_downtime ? r->down_ns : 0);

	/* Before this boot: the earliest instant the boot clock can name. */
	return age < r->now_ns ? r->now_ns - age : 1;
}

static int parse_session(struct pctx *p, const cJSON *o, const struct rebase *r,
			 struct xwgp_cache *out)
{
	struct xwgp_session s = {};
	struct xwgp_session_meta m = {};
	uint64_t created, seen, hs, est = 0, v[4];
	uint32_t flags, csvl, ssvl;
	bool has_est;
	int err;

	if (!cJSON_IsObject(o))
		return bad(p, NULL, "not an object");
	err = get_u32(p, o, "client_proxy_index", UINT32_MAX, &s.client_proxy_index) ||
	      get_u32(p, o, "client_origin_index", UINT32_MAX, &s.client_origin_index) ||
	      get_u32(p, o, "server_proxy_index", UINT32_MAX, &s.server_proxy_index) ||
	      get_u32(p, o, "server_origin_index", UINT32_MAX, &s.server_origin_index) ||
	      get_u32(p, o, "flags", UINT8_MAX, &flags) || get_u32(p, o, "csvl", UINT8_MAX, &csvl) ||
	      get_u32(p, o, "ssvl", UINT8_MAX, &ssvl) ||
	      get_ep(p, o, "client", false, &s.client) ||
	      get_ep(p, o, "client_local", true, &s.client_local) ||
	      get_ep(p, o, "server", false, &s.server) ||
	      get_ep(p, o, "server_local", true, &s.server_local) ||
	      get_uint(p, o, "created_age_ms", JSON_INT_MAX, &created, false, NULL) ||
	      get_uint(p, o, "last_seen_age_ms", JSON_INT_MAX, &seen, false, NULL) ||
	      get_uint(p, o, "handshake_age_ms", JSON_INT_MAX, &hs, false, NULL) ||
	      get_uint(p, o, "established_age_ms", JSON_INT_MAX, &est, true, &has_est) ||
	      get_uint(p, o, "c2s_packets", JSON_INT_MAX, &v[0], false, NULL) ||
	      get_uint(p, o, "c2s_bytes", JSON_INT_MAX, &v[1], false, NULL) ||
	      get_uint(p, o, "s2c_packets", JSON_INT_MAX, &v[2], false, NULL) ||
	      get_uint(p, o, "s2c_bytes", JSON_INT_MAX, &v[3], false, NULL) ||
	      get_key(p, o, "client_pubkey", m.client_pub) ||
	      get_key(p, o, "server_pubkey", m.server_pub) ||
	      get_hex(p, o, "sent_mac1", m.sent_mac1, sizeof(m.sent_mac1)) ||
	      get_hex(p, o, "client_mac1", m.client_mac1, sizeof(m.client_mac1));
	if (err)
		return -EINVAL;
	/* What the fast path relies on: index 0 is never a key. */
	if (!s.client_proxy_index)
		return bad(p, "client_proxy_index", "0 is not a valid index");
	if (flags & ~SESSION_FLAGS_KNOWN)
		return bad(p, "flags", "unknown bits in %#x", flags);
	if ((flags & XWGP_SF_ESTABLISHED) && !s.server_proxy_index)
		return bad(p, "server_proxy_index", "0 in an established session");
	if (!svl_ok(csvl) || !svl_ok(ssvl))
		return bad(p, svl_ok(csvl) ? "ssvl" : "csvl", "not a level 1-3");
	s.flags = flags;
	s.csvl = csvl;
	s.ssvl = ssvl;
	s.c2s_packets = v[0];
	s.c2s_bytes = v[1];
	s.s2c_packets = v[2];
	s.s2c_bytes = v[3];

	/* Keys older than WireGuard's REJECT_AFTER_TIME are dead: nothing to restore. */
	if (hs * NSEC_PER_MSEC + r->down_ns > XWGP_CACHE_REJECT_AFTER_SEC * NSEC_PER_SEC) {
		pr_debug("cache file %s: %s: handshake too old, not restored", p->name, p->path);
		return 0;
	}
	s.created_ns = rebase_age(r, created, true);
	s.last_seen_ns = rebase_age(r, seen, false);
	m.handshake_ns = rebase_age(r, hs, true);
	m.established_ns = has_est ? rebase_age(r, est, true) : 0;
	return cache_add_session(out, &s, &m);
}

static int parse_peer(struct pctx *p, const cJSON *o, const struct rebase *r,
		      struct xwgp_cache *out)
{
	struct cache_peer cp = {};
	uint64_t cookie_age = 0;
	bool has_cookie = cJSON_GetObjectItemCaseSensitive(o, "cookie") != NULL, has_age;
	int err;

	if (!cJSON_IsObject(o))
		return bad(p, NULL, "not an object");
	err = get_key(p, o, "server_pubkey", cp.k.server_pub) ||
	      get_key(p, o, "client_pubkey", cp.k.client_pub) ||
	      get_hex(p, o, "last_tai64n", cp.st.last_tai64n, sizeof(cp.st.last_tai64n)) ||
	      (has_cookie && get_hex(p, o, "cookie", cp.st.cookie, sizeof(cp.st.cookie))) ||
	      get_uint(p, o, "cookie_age_ms", JSON_INT_MAX, &cookie_age, true, &has_age);
	if (err)
		return -EINVAL;
	if (has_cookie != has_age)
		return bad(p, has_cookie ? "cookie_age_ms" : "cookie",
			   "missing (cookie and cookie_age_ms go together)");
	if (has_cookie && cookie_age * NSEC_PER_MSEC + r->down_ns <
				  XWGP_CACHE_COOKIE_LIFETIME_SEC * NSEC_PER_SEC)
		cp.st.cookie_ns = rebase_age(r, cookie_age, true);
	else
		sodium_memzero(cp.st.cookie, sizeof(cp.st.cookie)); /* expired */
	err = cache_add_peer(out, &cp.k, &cp.st);
	sodium_memzero(&cp, sizeof(cp));
	return err;
}

static int parse_array(struct pctx *p, const cJSON *root, const char *field,
		       const struct rebase *r, struct xwgp_cache *out,
		       int (*fn)(struct pctx *, const cJSON *, const struct rebase *,
				 struct xwgp_cache *))
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, field), *it;
	size_t i = 0;
	int err;

	if (!arr)
		return bad(p, field, "missing");
	if (!cJSON_IsArray(arr))
		return bad(p, field, "not an array");
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
static int parse_header(struct pctx *p, const cJSON *root, const struct cache_clock *now,
			struct rebase *r, uint16_t *upstream_port)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "written");
	uint64_t version, boot_ms, real_ms, port;
	const char *boot_id;
	uint64_t wboot, wreal;

	if (get_uint(p, root, "version", JSON_INT_MAX, &version, false, NULL))
		return -EINVAL;
	if (version != XWGP_CACHE_VERSION)
		return bad(p, "version", "%llu is not supported (this xwgp reads %d)",
			   (unsigned long long)version, XWGP_CACHE_VERSION);
	if (!w)
		return bad(p, "written", "missing");
	if (!cJSON_IsObject(w))
		return bad(p, "written", "not an object");
	snprintf(p->path, sizeof(p->path), "written");
	boot_id = get_str(p, w, "boot_id");
	if (!boot_id || get_uint(p, w, "boottime_ms", JSON_INT_MAX, &boot_ms, false, NULL) ||
	    get_uint(p, w, "realtime_ms", JSON_INT_MAX, &real_ms, false, NULL))
		return -EINVAL;
	p->path[0] = '\0';
	if (get_uint(p, root, "upstream_port", 65535, &port, false, NULL))
		return -EINVAL;
	*upstream_port = port;

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
	struct pctx p = { .name = name };
	const char *end = NULL;
	struct rebase r;
	cJSON *root;
	int err;

	memset(out, 0, sizeof(*out));
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (!root || !end || end < text || end > text + len || !only_space(end, text + len)) {
		size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : len;

		cJSON_Delete(root);
		return bad(&p, NULL, "not valid JSON (truncated or corrupt) at byte %zu of %zu", off,
			   len);
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return bad(&p, NULL, "the top level is not an object");
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

int cache_load(const char *path, const struct cache_clock *now, struct xwgp_cache *out)
{
	struct stat st;
	char *text;
	ssize_t n;
	size_t len = 0;
	int fd, err;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err != -ENOENT)
			pr_warn("cache file %s: cannot open: %s; starting with an empty session table",
				path, strerror(errno));
		return err;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > XWGP_CACHE_MAX_BYTES) {
		pr_warn("cache file %s: not a regular file of at most %u bytes; starting with an "
			"empty session table",
			path, XWGP_CACHE_MAX_BYTES);
		close(fd);
		return -EINVAL;
	}
	text = malloc(st.st_size ? st.st_size : 1);
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, text + len, st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	err = cache_parse(text, len, path, now, out);
	sodium_memzero(text, len); /* cookies */
	free(text);
	return err;
}

/* ---- atomic write -------------------------------------------------------------- */

int cache_mkdir_parents(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST) {
			int err = -errno;

			*p = '/';
			return err;
		}
		*p = '/';
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

int cache_write_atomic(const char *path, const char *text)
{
	char tmp[PATH_MAX], dir[PATH_MAX], *slash;
	int fd, dfd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	err = cache_mkdir_parents(tmp);
	if (err)
		return err;
	fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600: cookies */
	if (fd < 0)
		return -errno;
	err = write_all(fd, text, strlen(text));
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	/* The rename is durable only once the directory is on disk. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd))
		err = -errno;
	close(dfd);
	return err;
}

/* ---- maps <-> cache ------------------------------------------------------------ */

int cache_collect(const struct wgit *w, struct xwgp_cache *out)
{
	uint32_t key, next, *prev = NULL;
	struct xwgp_peer_key pk, pnext, *pprev = NULL;
	struct xwgp_peer_state st;
	int err;

	memset(out, 0, sizeof(*out));
	while (bpf_map_get_next_key(w->maps->sessions, prev, &next) == 0) {
		struct xwgp_session s;
		struct xwgp_session_meta m;

		key = next;
		prev = &key;
		/* A session without meta cannot be checked against a config: skip it. */
		if (wgit_session_get(w, key, &s) || wgit_meta_get(w, key, &m))
			continue;
		err = cache_add_session(out, &s, &m);
		if (err)
			goto err;
	}
	while (bpf_map_get_next_key(w->maps->peer_state, pprev, &pnext) == 0) {
		pk = pnext;
		pprev = &pk;
		if (wgit_peer_get(w, &pk, &st))
			continue;
		err = cache_add_peer(out, &pk, &st);
		sodium_memzero(&st, sizeof(st));
		if (err)
			goto err;
	}
	return 0;
err:
	cache_free(out);
	return err;
}

int cache_save(const struct wgit *w, const char *path, uint16_t upstream_port)
{
	struct xwgp_cache c;
	struct cache_clock now;
	char *text;
	int err;

	err = cache_collect(w, &c);
	if (err) {
		pr_warn("cache file %s: reading the maps failed: %s", path, strerror(-err));
		return err;
	}
	c.upstream_port = upstream_port;
	cache_clock_now(&now);
	text = cache_format(&c, &now);
	if (!text) {
		pr_warn("cache file %s: out of memory formatting %zu sessions", path, c.n_sessions);
		cache_free(&c);
		return -ENOMEM;
	}
	err = cache_write_atomic(path, text);
	if (err)
		pr_warn("cache file %s: writing failed: %s", path, strerror(-err));
	else
		pr_debug("cache file %s: wrote %zu sessions, %zu peers", path, c.n_sessions,
			 c.n_peers);
	sodium_memzero(text, strlen(text));
	free(text);
	cache_free(&c);
	return err;
}

static const struct xwgp_server_cfg *find_server(const struct xwgp_server_config *cfg,
						 const uint8_t pub[static 32])
{
	for (size_t i = 0; i < cfg->n_servers; i++)
		if (!sodium_memcmp(cfg->servers[i].pubkey, pub, 32))
			return &cfg->servers[i];
	return NULL;
}

bool xwgp_session_cfg_check(const struct xwgp_server_config *cfg, const struct xwgp_session *s,
			    const struct xwgp_session_meta *m, const char **why)
{
	const struct xwgp_server_cfg *srv = find_server(cfg, m->server_pub);
	const struct xwgp_peer_cfg *peer;
	const char *dummy;

	if (!why)
		why = &dummy;
	if (!srv) {
		*why = "its server key is no longer configured";
		return false;
	}
	/* The peer the handler would choose now: exact key, else the fallback. */
	peer = config_peer_for(srv, m->client_pub);
	if (!peer) {
		*why = "its client has no peer (and no fallback) any more";
		return false;
	}
	if (!xwgp_ep_equal(&peer->forward_to, &s->server)) {
		*why = "its peer now forwards elsewhere";
		return false;
	}
	return true;
}

static int restore_session(struct wgit *w, const struct cache_session *cs, uint16_t upstream_port)
{
	struct xwgp_session s = cs->s;
	uint32_t idx = s.client_proxy_index;
	int err;

	s.server_local.port = htons(upstream_port);
	if (bpf_map_update_elem(w->maps->sessions, &idx, &s, BPF_NOEXIST))
		return -errno;
	if ((s.flags & XWGP_SF_ESTABLISHED) &&
	    bpf_map_update_elem(w->maps->srv_index, &s.server_proxy_index, &idx, BPF_NOEXIST)) {
		err = -errno;
		bpf_map_delete_elem(w->maps->sessions, &idx);
		return err;
	}
	err = wgit_meta_put(w, idx, &cs->m);
	if (err)
		wgit_session_delete(w, idx);
	return err;
}

int cache_restore(struct wgit *w, const struct xwgp_cache *c, const struct xwgp_server_config *cfg,
		  uint16_t upstream_port)
{
	size_t dropped = 0, clashed = 0, peers = 0;
	int restored = 0, err;

	for (size_t i = 0; i < c->n_sessions; i++) {
		const struct cache_session *cs = &c->sessions[i];
		const char *why;

		if (!xwgp_session_cfg_check(cfg, &cs->s, &cs->m, &why)) {
			pr_debug("cached session %#x not restored: %s", cs->s.client_proxy_index, why);
			dropped++;
			continue;
		}
		err = restore_session(w, cs, upstream_port);
		if (err == -EEXIST) {
			clashed++; /* a duplicate index in the file */
			continue;
		}
		if (err) {
			pr_warn("restoring cached session %#x failed: %s", cs->s.client_proxy_index,
				strerror(-err));
			if (err == -E2BIG || err == -ENOMEM)
				break; /* the table is full */
			continue;
		}
		restored++;
	}
	for (size_t i = 0; i < c->n_peers; i++) {
		struct xwgp_peer_state cur;

		if (!find_server(cfg, c->peers[i].k.server_pub))
			continue;
		/* The map is the newer truth where it already knows the peer. */
		if (wgit_peer_get(w, &c->peers[i].k, &cur) == 0)
			continue;
		if (wgit_peer_put(w, &c->peers[i].k, &c->peers[i].st) == 0)
			peers++;
	}
	if (c->n_sessions || c->n_peers)
		pr_info("cache: restored %d of %zu sessions (%zu no longer match the config, %zu "
			"duplicate indexes) and %zu peer states",
			restored, c->n_sessions, dropped, clashed, peers);
	return restored;
}
