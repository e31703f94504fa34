// SPDX-License-Identifier: GPL-2.0
/*
 * Client configs (mwgp's client keys: server, listen, the two public keys,
 * dns/resolver, obfs, csvl/ssvl) into struct xwgp_client_config.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_common.h"
#include "config_json.h"

/* `dns' "IP:PORT" or "IP" (port 53); `resolver' also as mwgp's "dns+udp://IP:PORT". */
static void parse_dns(struct cfg_ctx *ctx, const cJSON *root, struct xwgp_client_config *c)
{
	static const char scheme[] = "dns+udp://";
	const char *dns, *resolver, *v, *key;
	int ret;

	if (cfg_get_nonempty(ctx, root, "", "dns", &dns) |
	    cfg_get_nonempty(ctx, root, "", "resolver", &resolver))
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
		cfg_addr_err(ctx, key, dns ? dns : resolver, ret);
}

static void parse_client_server(struct cfg_ctx *ctx, const cJSON *root,
				struct xwgp_client_config *c)
{
	char host[256];
	const char *v;
	int ret;

	if (cfg_get_string(ctx, root, "", "server", &v))
		return;
	if (!v || !*v) {
		cfg_err(ctx, -EINVAL, "server: missing (required)");
		return;
	}
	ret = xwgp_hostport_split(v, host, sizeof(host), &c->server_port);
	if (ret) {
		cfg_addr_err(ctx, "server", v, ret);
		return;
	}
	c->server = cfg_strdup(ctx, v);
	c->server_host = cfg_strdup(ctx, host);
}

static void parse_client_key(struct cfg_ctx *ctx, const cJSON *root, const char *key,
			     uint8_t out[static WG_KEY_LEN])
{
	const char *v;

	if (cfg_get_string(ctx, root, "", key, &v))
		return;
	if (!v) {
		cfg_err(ctx, -EINVAL, "%s: missing (required)", key);
		return;
	}
	cfg_decode_key(ctx, key, v, false, out);
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

	cfg_check_keys(ctx, root, "", client_top_keys);
	parse_client_server(ctx, root, c);
	cfg_parse_bind_ep(ctx, root, "", "listen", XWGP_EP_HOST_OPTIONAL, true, &c->listen);
	cfg_get_uint(ctx, root, "", "timeout", 1, INT32_MAX, &c->timeout_sec);
	cfg_get_uint(ctx, root, "", "max_packet_size", MIN_PACKET_SIZE, 65535, &c->max_packet_size);
	parse_client_key(ctx, root, "server_pubkey", c->server_pubkey);
	parse_client_key(ctx, root, "client_pubkey", c->client_pubkey);
	parse_dns(ctx, root, c);
	cfg_parse_optional_strings(ctx, root, &c->obfs, &c->cache_file_path);
	cfg_get_svl(ctx, root, "", "csvl", &c->csvl);
	cfg_get_svl(ctx, root, "", "ssvl", &c->ssvl);
	c->csvl = xwgp_svl_resolve(c->csvl, XWGP_SVL_INHERIT, XWGP_CSVL_DEFAULT);
	c->ssvl = xwgp_svl_resolve(c->ssvl, XWGP_SVL_INHERIT, XWGP_SSVL_DEFAULT);
}

int config_parse_client(const char *json_text, const char *source_name,
			struct xwgp_client_config *out)
{
	struct cfg_ctx ctx = { .source = source_name ? source_name : "<config>" };
	struct xwgp_client_config c = { 0 };
	cJSON *root;

	memset(out, 0, sizeof(*out));
	if (cfg_parse_root(&ctx, json_text, &root))
		return ctx.err;
	parse_client_root(&ctx, root, &c);
	cfg_json_free(root);
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
	cfg_free_secret(c->obfs);
	free(c->cache_file_path);
	memset(c, 0, sizeof(*c));
}

static int parse_client_cb(const char *text, const char *src, void *out)
{
	return config_parse_client(text, src, out);
}

int config_load_client(const char *path, struct xwgp_client_config *out)
{
	mode_t mode;

	memset(out, 0, sizeof(*out));
	return cfg_load_file(path, out, parse_client_cb, &mode);
}
