// SPDX-License-Identifier: GPL-2.0
/*
 * Server configs: mwgp's server keys (servers[], peers[], keys, addresses)
 * and xwgp's own (interface, xdp_mode, instance, pin_path, upstream, the
 * punt and session limits) into struct xwgp_server_config.
 *
 * The parser keeps going after an error so that one run reports every
 * problem; each message names the file, the JSON path and the bad value.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "config_common.h"
#include "config_json.h"
#include "cookie_guard.h"
#include "hs_ring.h"
#include "xwgp_rl.h"
#include "pin_check.h"
#include "wg_crypto.h"
#include "wgit_index.h"

#define INSTANCE_MAX 64

/* Exactly one of privkey / privkey_file (mwgp); derives the public key. */
static void parse_server_key(struct cfg_ctx *ctx, const cJSON *js, const char *prefix,
			     struct xwgp_server_cfg *s)
{
	const char *inline_key, *file;
	char path[CFG_JPATH_LEN];
	int ret;

	if (cfg_get_string(ctx, js, prefix, "privkey", &inline_key) |
	    cfg_get_nonempty(ctx, js, prefix, "privkey_file", &file))
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
		ret = cfg_decode_key(ctx, cfg_jkey(path, prefix, "privkey"), inline_key, true, s->privkey);
	} else {
		s->privkey_file = cfg_strdup(ctx, file);
		ret = cfg_read_key_file(ctx, cfg_jkey(path, prefix, "privkey_file"), file, s->privkey);
	}
	if (ret)
		return;
	if (crypto_scalarmult_base(s->pubkey, s->privkey))
		cfg_err(ctx, -EINVAL, "%s: private key gives no usable public key", path);
}

/* servers[].address: a bare host, a name resolved now. *ok: usable for forward_to. */
static void parse_server_address(struct cfg_ctx *ctx, const cJSON *js, const char *prefix,
				 struct xwgp_server_cfg *s, bool *ok)
{
	char path[CFG_JPATH_LEN];
	bool by_name = false;
	const char *v;
	int ret;

	*ok = false;
	if (cfg_get_nonempty(ctx, js, prefix, "address", &v))
		return;
	if (!v) {
		*ok = true; /* absent: forward_to must then name its host */
		return;
	}
	cfg_jkey(path, prefix, "address");
	ret = xwgp_ep_resolve(v, XWGP_EP_HOST_ONLY, &s->address, &by_name);
	if (ret) {
		cfg_addr_err(ctx, path, v, ret);
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
	char path[CFG_JPATH_LEN];
	struct xwgp_ep ep;
	bool by_name = false;
	const char *v;
	int ret;

	if (cfg_get_string(ctx, jp, prefix, "forward_to", &v))
		return;
	cfg_jkey(path, prefix, "forward_to");
	if (!v || !*v) {
		cfg_err(ctx, -EINVAL, "%s: missing (required)", path);
		return;
	}
	ret = xwgp_ep_resolve(v, XWGP_EP_HOST_OPTIONAL, &ep, &by_name);
	if (ret) {
		cfg_addr_err(ctx, path, v, ret);
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
	char prefix[CFG_JPATH_LEN], path[CFG_JPATH_LEN];
	const char *pub;

	cfg_jidx(prefix, server_prefix, "peers", idx);
	if (!cJSON_IsObject(jp)) {
		cfg_err(ctx, -EINVAL, "%s: expected an object, got %s", prefix, cfg_json_type(jp));
		return;
	}
	cfg_check_keys(ctx, jp, prefix, peer_keys);
	if (!cfg_get_string(ctx, jp, prefix, "pubkey", &pub) && pub) {
		if (!cfg_decode_key(ctx, cfg_jkey(path, prefix, "pubkey"), pub, false, p->pubkey))
			p->has_pubkey = true;
	} else if (!pub && !cfg_get(jp, "pubkey")) {
		if (s->fallback >= 0)
			cfg_err(ctx, -EINVAL,
				"%s: second fallback peer (peers[%d] is already the fallback)",
				prefix, s->fallback);
		else
			s->fallback = (int)idx;
	}
	parse_forward_to(ctx, jp, prefix, server_prefix, s, addr_ok, p);
	cfg_get_svl(ctx, jp, prefix, "csvl", &p->csvl);
	cfg_get_svl(ctx, jp, prefix, "ssvl", &p->ssvl);
	p->csvl = xwgp_svl_resolve(p->csvl, s->csvl, XWGP_CSVL_DEFAULT);
	p->ssvl = xwgp_svl_resolve(p->ssvl, s->ssvl, XWGP_SSVL_DEFAULT);
}

struct key_ref {
	const uint8_t *key;
	size_t idx;
};

static int key_ref_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = memcmp(x->key, y->key, WG_KEY_LEN);

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
	char path[CFG_JPATH_LEN], b64[WG_KEY_B64_LEN + 1];
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
		if (memcmp(refs[i].key, refs[first].key, WG_KEY_LEN)) {
			first = i;
			continue;
		}
		cfg_jidx(path, prefix, "peers", refs[i].idx);
		wg_key_to_base64(b64, refs[i].key);
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
					    const uint8_t client_pub[static WG_KEY_LEN])
{
	size_t lo = 0, hi = s->n_keyed;

	/* Public keys: a comparison that leaks timing gives nothing away. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct xwgp_peer_cfg *p = &s->peers[s->peer_order[mid]];
		int c = memcmp(client_pub, p->pubkey, WG_KEY_LEN);

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
	const cJSON *jpeers = cfg_get(js, "peers"), *jp;
	char path[CFG_JPATH_LEN];
	size_t n, i = 0;

	cfg_jkey(path, prefix, "peers");
	if (!jpeers) {
		cfg_err(ctx, -EINVAL, "%s: missing (required)", path);
		return;
	}
	if (!cJSON_IsArray(jpeers)) {
		cfg_err(ctx, -EINVAL, "%s: expected an array, got %s", path, cfg_json_type(jpeers));
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
	char prefix[CFG_JPATH_LEN];
	bool addr_ok;

	s->fallback = -1;
	cfg_jidx(prefix, "", "servers", idx);
	if (!cJSON_IsObject(js)) {
		cfg_err(ctx, -EINVAL, "%s: expected an object, got %s", prefix, cfg_json_type(js));
		return;
	}
	cfg_check_keys(ctx, js, prefix, server_keys);
	parse_server_key(ctx, js, prefix, s);
	parse_server_address(ctx, js, prefix, s, &addr_ok);
	/* Server-level levels first: peers inherit them. */
	cfg_get_svl(ctx, js, prefix, "csvl", &s->csvl);
	cfg_get_svl(ctx, js, prefix, "ssvl", &s->ssvl);
	parse_peers(ctx, js, prefix, s, addr_ok);
}

/* Two servers with one private key: initiations would always match the first. */
static void check_duplicate_servers(struct cfg_ctx *ctx, const struct xwgp_server_config *c)
{
	size_t i, j;

	for (i = 1; i < c->n_servers; i++) {
		if (sodium_is_zero(c->servers[i].pubkey, WG_KEY_LEN))
			continue;
		for (j = 0; j < i; j++) {
			if (!memcmp(c->servers[i].pubkey, c->servers[j].pubkey, WG_KEY_LEN)) {
				cfg_err(ctx, -EINVAL, "servers[%zu]: same private key as servers[%zu]",
					i, j);
				break;
			}
		}
	}
}

static void parse_servers(struct cfg_ctx *ctx, const cJSON *root, struct xwgp_server_config *c)
{
	const cJSON *jservers = cfg_get(root, "servers"), *js;
	size_t n, i = 0;

	if (!jservers) {
		cfg_err(ctx, -EINVAL, "servers: missing (required)");
		return;
	}
	if (!cJSON_IsArray(jservers)) {
		cfg_err(ctx, -EINVAL, "servers: expected an array, got %s", cfg_json_type(jservers));
		return;
	}
	n = (size_t)cJSON_GetArraySize(jservers);
	if (!n) {
		cfg_err(ctx, -EINVAL, "servers: empty (at least one server is required)");
		return;
	}
	c->servers = calloc(n, sizeof(*c->servers));
	c->key_store = sodium_allocarray(n, WG_KEY_LEN);
	if (c->key_store)
		sodium_memzero(c->key_store, n * WG_KEY_LEN);
	if (!c->servers || !c->key_store) {
		cfg_err(ctx, -ENOMEM, "out of memory");
		return;
	}
	c->n_servers = n;
	cJSON_ArrayForEach(js, jservers) {
		c->servers[i].privkey = c->key_store + i * WG_KEY_LEN;
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
		if (strchr("/: \t\n\r\v\f", *n))
			return false;
	return true;
}

static void add_interface(struct cfg_ctx *ctx, const cJSON *v, const char *path,
			  struct xwgp_server_config *c)
{
	size_t i;

	if (!cJSON_IsString(v)) {
		cfg_err(ctx, -EINVAL, "%s: expected a string, got %s", path, cfg_json_type(v));
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
	const cJSON *v = cfg_get(root, "interface"), *it;
	char path[CFG_JPATH_LEN];
	size_t n, i = 0;

	if (!v)
		return;
	if (!cJSON_IsString(v) && !cJSON_IsArray(v)) {
		cfg_err(ctx, -EINVAL, "interface: expected a string or an array of strings, got %s",
			cfg_json_type(v));
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
		add_interface(ctx, it, cfg_jidx(path, "", "interface", i++), c);
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
	if (cfg_get_string(ctx, root, "", "xdp_mode", &v) || !v)
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
	char def[PATH_MAX], derived[INSTANCE_MAX + 1];

	if (cfg_get_nonempty(ctx, root, "", "instance", &instance) ||
	    cfg_get_nonempty(ctx, root, "", "pin_path", &pin))
		return;
	if (!instance && pin) { /* two pin paths: two instances, two cache files */
		xwgp_instance_from_pin_path(pin, derived, sizeof(derived));
		instance = derived;
	}
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
	cfg_parse_bind_ep(ctx, root, "", "upstream", XWGP_EP_HOST_OPTIONAL | XWGP_EP_PORT_ZERO, false,
		      &c->upstream);
	/*
	 * The port tells the directions apart (docs/DESIGN.md section 3): a packet to
	 * listen is client->server, one to upstream server->client.
	 */
	if (c->upstream.port && c->upstream.port == c->listen.port)
		cfg_err(ctx, -EINVAL, "upstream: port %u is the listen port too (they must differ)",
			xwgp_ep_port(&c->upstream));
}

static const char *const server_top_keys[] = {
	"listen",	"timeout",  "max_packet_size", "servers",   "obfs",
	"cache_file_path", "interface", "xdp_mode",	"pin_path",  "instance",
	"upstream",	"punt_rate", "punt_burst",	"max_sessions", "fib_cache_ms",
	"metrics_listen", "under_load", "punt_ipv6_prefix", "transport_punt_rate",
	"transport_punt_burst", "handshake_threads", "node_id", "node_id_bits", NULL,
};

/* node_id / node_id_bits: the cluster bits of every proxy index (agent/wgit_index.h). */
static void parse_node_id(struct cfg_ctx *ctx, const cJSON *root, struct xwgp_server_config *c)
{
	struct wgit_index_layout l;
	const char *why;

	cfg_get_uint(ctx, root, "", "node_id_bits", 0, WGIT_NODE_BITS_MAX, &c->node_id_bits);
	cfg_get_uint(ctx, root, "", "node_id", 0, UINT32_MAX, &c->node_id);
	if (wgit_index_layout_init(&l, c->max_sessions, c->node_id, c->node_id_bits, &why))
		cfg_err(ctx, -EINVAL, "node_id %u, node_id_bits %u, max_sessions %u: %s", c->node_id,
			c->node_id_bits, c->max_sessions, why);
}

static void parse_server_root(struct cfg_ctx *ctx, const cJSON *root, struct xwgp_server_config *c)
{
	c->timeout_sec = XWGP_TIMEOUT_DEFAULT_SEC;
	c->max_packet_size = XWGP_MAX_PACKET_SIZE_DEFAULT;
	c->punt_rate_pps = XWGP_PUNT_RATE_DEFAULT_PPS;
	c->punt_burst = XWGP_PUNT_BURST_DEFAULT;
	c->punt_ipv6_prefix = XWGP_V6_PREFIX_DEFAULT;
	c->tpunt_rate_pps = XWGP_TPUNT_RATE_DEFAULT_PPS;
	c->tpunt_burst = XWGP_TPUNT_BURST_DEFAULT;
	c->max_sessions = XWGP_MAX_SESSIONS_DEFAULT;
	c->fib_cache_ms = XWGP_FIB_CACHE_MS_DEFAULT;
	c->under_load_pps = COOKIE_LOAD_DEFAULT_PPS;

	cfg_check_keys(ctx, root, "", server_top_keys);
	cfg_parse_bind_ep(ctx, root, "", "listen", XWGP_EP_HOST_OPTIONAL, true, &c->listen);
	cfg_get_uint(ctx, root, "", "timeout", 1, INT32_MAX, &c->timeout_sec);
	cfg_get_uint(ctx, root, "", "max_packet_size", MIN_PACKET_SIZE, 65535, &c->max_packet_size);
	cfg_parse_optional_strings(ctx, root, &c->obfs, &c->cache_file_path);
	parse_interfaces(ctx, root, c);
	parse_xdp_mode(ctx, root, c);
	parse_pinning(ctx, root, c);
	parse_upstream(ctx, root, c);
	cfg_get_uint(ctx, root, "", "punt_rate", 0, UINT32_MAX, &c->punt_rate_pps);
	cfg_get_uint(ctx, root, "", "punt_burst", 1, UINT32_MAX, &c->punt_burst);
	cfg_get_uint(ctx, root, "", "punt_ipv6_prefix", 1, 128, &c->punt_ipv6_prefix);
	cfg_get_uint(ctx, root, "", "transport_punt_rate", 0, UINT32_MAX, &c->tpunt_rate_pps);
	cfg_get_uint(ctx, root, "", "transport_punt_burst", 1, UINT32_MAX, &c->tpunt_burst);
	cfg_get_uint(ctx, root, "", "handshake_threads", 0, HS_RING_MAX_THREADS,
		     &c->handshake_threads);
	cfg_get_uint(ctx, root, "", "max_sessions", 1, XWGP_MAX_SESSIONS_LIMIT, &c->max_sessions);
	cfg_get_uint(ctx, root, "", "fib_cache_ms", 0, XWGP_FIB_CACHE_MS_MAX, &c->fib_cache_ms);
	cfg_parse_bind_ep(ctx, root, "", "metrics_listen", 0, false, &c->metrics_listen);
	cfg_get_uint(ctx, root, "", "under_load", 0, UINT32_MAX, &c->under_load_pps);
	parse_node_id(ctx, root, c);
	parse_servers(ctx, root, c);
}

int config_parse_server(const char *json_text, const char *source_name,
			struct xwgp_server_config *out)
{
	struct cfg_ctx ctx = { .source = source_name ? source_name : "<config>" };
	struct xwgp_server_config c = { 0 };
	cJSON *root;

	memset(out, 0, sizeof(*out));
	if (cfg_parse_root(&ctx, json_text, &root))
		return ctx.err;
	parse_server_root(&ctx, root, &c);
	cfg_json_free(root);
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

		free(s->privkey_file);
		free(s->address_name);
		for (j = 0; s->peers && j < s->n_peers; j++)
			free(s->peers[j].forward_to_name);
		free(s->peers);
		free(s->peer_order);
	}
	free(c->servers);
	if (c->key_store)
		sodium_free(c->key_store); /* wipes the keys */
	for (i = 0; c->interfaces && i < c->n_interfaces; i++)
		free(c->interfaces[i]);
	free(c->interfaces);
	cfg_free_secret(c->obfs);
	free(c->cache_file_path);
	free(c->instance);
	free(c->pin_path);
	memset(c, 0, sizeof(*c));
}

static int parse_server_cb(const char *text, const char *src, void *out)
{
	return config_parse_server(text, src, out);
}

int config_load_server(const char *path, struct xwgp_server_config *out)
{
	mode_t mode = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = cfg_load_file(path, out, parse_server_cb, &mode);
	if (!ret)
		config_warn_inline_keys(path, mode, out);
	return ret;
}
