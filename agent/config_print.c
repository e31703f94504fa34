// SPDX-License-Identifier: GPL-2.0
/*
 * The `xwgp check-config' printout: a config as the agent will use it,
 * resolved, with private keys and the obfs password never printed.
 */
#include <stdio.h>

#include "addr.h"
#include "config.h"
#include "wg_crypto.h"

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
	char ep[XWGP_EP_STRLEN], b64[WG_KEY_B64_LEN + 1], label[32];

	if (xwgp_ep_format(ep, sizeof(ep), &p->forward_to))
		snprintf(ep, sizeof(ep), "?");
	if (p->has_pubkey)
		wg_key_to_base64(b64, p->pubkey);
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
	char b64[WG_KEY_B64_LEN + 1], ip[XWGP_EP_STRLEN];
	size_t j;

	fprintf(out, "servers[%zu]\n", i);
	wg_key_to_base64(b64, s->pubkey);
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
	fprintf(out, "%-17s /%u (IPv6 sources share a limit per prefix)\n", "punt_ipv6_prefix",
		c->punt_ipv6_prefix);
	if (c->tpunt_rate_pps)
		fprintf(out, "%-17s %u/s per source, burst %u\n", "transport_punt_rate",
			c->tpunt_rate_pps, c->tpunt_burst);
	else
		fprintf(out, "%-17s unlimited\n", "transport_punt_rate");
	if (c->handshake_threads)
		fprintf(out, "%-17s %u\n", "handshake_threads", c->handshake_threads);
	else
		fprintf(out, "%-17s one per CPU\n", "handshake_threads");
	fprintf(out, "%-17s %u\n", "max_sessions", c->max_sessions);
	if (c->node_id_bits)
		fprintf(out, "%-17s %u (%u bits)\n", "node_id", c->node_id, c->node_id_bits);
	fprintf(out, "%-17s %u ms\n", "fib_cache_ms", c->fib_cache_ms);
	if (c->metrics_listen.port)
		print_ep(out, "metrics_listen", &c->metrics_listen, "");
	fprintf(out, "%-17s %u initiations/s%s\n", "under_load", c->under_load_pps,
		c->under_load_pps ? "" : " (0: always cookies first)");
	for (i = 0; i < c->n_servers; i++)
		print_server(out, i, &c->servers[i]);
}

void config_print_client(FILE *out, const struct xwgp_client_config *c)
{
	char b64[WG_KEY_B64_LEN + 1];

	fprintf(out, "# xwgp client config, resolved (obfs password redacted)\n");
	fprintf(out, "%-17s %s  (resolved at run time)\n", "server", c->server ? c->server : "?");
	print_ep(out, "listen", &c->listen,
		 c->listen.family == XWGP_FAMILY_NONE ? "  (every local address)" : "");
	print_common(out, c->timeout_sec, c->max_packet_size, c->obfs, c->cache_file_path);
	wg_key_to_base64(b64, c->server_pubkey);
	fprintf(out, "%-17s %s\n", "server_pubkey", b64);
	wg_key_to_base64(b64, c->client_pubkey);
	fprintf(out, "%-17s %s\n", "client_pubkey", b64);
	if (c->dns.family == XWGP_FAMILY_NONE)
		fprintf(out, "%-17s (system resolver)\n", "dns");
	else
		print_ep(out, "dns", &c->dns, "");
	fprintf(out, "%-17s csvl %u (%s), ssvl %u (%s)\n", "levels", c->csvl, svl_name(c->csvl),
		c->ssvl, svl_name(c->ssvl));
}
