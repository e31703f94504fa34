// SPDX-License-Identifier: GPL-2.0
/*
 * `xwgp show`, `xwgp stats`, `xwgp down`: read (or remove) the pinned state
 * of a running or stopped instance. Everything shown comes from the pinned
 * maps, the same store the XDP program forwards with.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cjson/cJSON.h>

#include "addr.h"
#include "bpf_loader.h"
#include "cmds.h"
#include "clock.h"
#include "fwd_check.h"
#include "log.h"
#include "metrics_collect.h"
#include "prom.h"
#include "wgit.h"
#include "wg_crypto.h"
#include "xwgp_abi.h"
#include "xwgp_agent_stats.h"

struct target_opts {
	const char *instance;
	const char *pin_path;
	bool json;
	bool prometheus;
	int watch;
};

static int parse_target(int argc, char **argv, struct target_opts *o, const char *usage_text,
			bool allow_json, bool allow_watch)
{
	static const struct option opts[] = {
		{ "instance", required_argument, NULL, 'i' },
		{ "pin-path", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "watch", required_argument, NULL, 'w' },
		{ "prometheus", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "i:p:jw:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->instance = optarg;
			break;
		case 'p':
			o->pin_path = optarg;
			break;
		case 'j':
			if (!allow_json)
				goto bad;
			o->json = true;
			break;
		case 'P':
			if (!allow_watch) /* stats only, like --watch */
				goto bad;
			o->prometheus = true;
			break;
		case 'w':
			if (!allow_watch)
				goto bad;
			o->watch = atoi(optarg);
			if (o->watch <= 0) {
				pr_err("--watch: invalid interval `%s'", optarg);
				return -EINVAL;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	return 0;
bad:
	fputs(usage_text, stderr);
	return -EINVAL;
}

static void resolve_pin_path(const struct target_opts *o, char *buf, size_t len)
{
	if (o->pin_path)
		snprintf(buf, len, "%s", o->pin_path);
	else
		xwgp_default_pin_path(buf, len, o->instance);
}

static cJSON *counters_json(const struct metrics_snapshot *snap)
{
	cJSON *root = cJSON_CreateObject(), *xdp = cJSON_AddObjectToObject(root, "xdp"),
	      *agent = cJSON_AddObjectToObject(root, "agent");

	for (__u32 i = 0; i < XWGP_STAT__MAX; i++) {
		cJSON *o = cJSON_AddObjectToObject(xdp, xwgp_xdp_stat_names[i]);

		cJSON_AddNumberToObject(o, "packets", (double)snap->xdp[i].packets);
		cJSON_AddNumberToObject(o, "bytes", (double)snap->xdp[i].bytes);
	}
	for (__u32 i = 0; i < XWGP_AGENT_STAT__MAX; i++)
		cJSON_AddNumberToObject(agent, xwgp_agent_stat_names[i], (double)snap->agent[i]);
	return root;
}

static void print_counters(const struct metrics_snapshot *snap, bool all)
{
	printf("xdp counters:\n");
	for (__u32 i = 0; i < XWGP_STAT__MAX; i++) {
		const struct xwgp_stat_val *v = &snap->xdp[i];

		if (!all && !v->packets)
			continue;
		printf("  %-22s %12llu pkts %14llu bytes  %s\n", xwgp_xdp_stat_names[i],
		       (unsigned long long)v->packets, (unsigned long long)v->bytes,
		       xwgp_xdp_stat_desc[i]);
	}
	printf("agent counters:\n");
	for (__u32 i = 0; i < XWGP_AGENT_STAT__MAX; i++) {
		if (!all && !snap->agent[i])
			continue;
		printf("  %-22s %12llu  %s\n", xwgp_agent_stat_names[i],
		       (unsigned long long)snap->agent[i], xwgp_agent_stat_desc[i]);
	}
}

/*
 * Open the instance's pins; when they are missing, say the likely reason a
 * running agent is still invisible (README "bpffs, ip netns exec").
 */
static int open_pins(struct xwgp_maps *m, const char *pin_path)
{
	int err = xwgp_maps_open_pinned(m, pin_path);

	if (err == -ENOENT)
		pr_info("if the agent was started under `ip netns exec' with pin_path under /sys, "
			"its pins are in a bpffs only its own mount namespace sees (its log warns "
			"about it): see README \"bpffs, ip netns exec and restart survival\"");
	return err;
}

/* Transport punt reasons: why the agent rather than XDP carried a packet. */
static const enum xwgp_stat transport_punts[] = {
	XWGP_STAT_PUNT_NO_ROUTE, XWGP_STAT_PUNT_NO_NEIGH,	  XWGP_STAT_PUNT_NO_DEVMAP,
	XWGP_STAT_PUNT_FAMILY,	 XWGP_STAT_PUNT_ROAM,	  XWGP_STAT_PUNT_NOT_ESTABLISHED,
	XWGP_STAT_PUNT_OBFS,	 XWGP_STAT_PUNT_AGENT_ONLY, XWGP_STAT_PUNT_LOCAL_META,
	XWGP_STAT_PUNT_GSO,
};

/* Where transport of backends on this host goes (agent/tc_attach.h). */
static const char *local_backends_path(int cfg_fd)
{
	struct xwgp_cfg c;
	__u32 key = 0;

	if (bpf_map_lookup_elem(cfg_fd, &key, &c))
		return "unknown";
	return c.flags & XWGP_CFG_LOCAL_TC ? "kernel" : "agent";
}

static const char *local_backends_text(const char *path)
{
	return !strcmp(path, "kernel") ?
		       "local backends: forwarded in the kernel (XDP + TC on lo)" :
		       "local backends: forwarded by the agent (TC programs not attached)";
}

/*
 * One line saying who carries the transport, XDP or the agent, and why the
 * agent when it does: the first thing to check when the accelerator seems
 * idle. From the counters only (they survive agent restarts).
 */
static void transport_summary(const struct metrics_snapshot *s, char *buf, size_t len)
{
	const struct xwgp_stat_val *x = s->xdp;
	/* In the kernel: XDP, and XDP + TC for local backends (bpf/tc_local.h). */
	uint64_t xdp = x[XWGP_STAT_C2S_TX].packets + x[XWGP_STAT_C2S_REDIRECT].packets +
		       x[XWGP_STAT_S2C_TX].packets + x[XWGP_STAT_S2C_REDIRECT].packets +
		       x[XWGP_STAT_C2S_LOCAL].packets + x[XWGP_STAT_S2C_LOCAL].packets;
	uint64_t agent = s->agent[XWGP_AGENT_STAT_TRANSPORT_C2S] +
			 s->agent[XWGP_AGENT_STAT_TRANSPORT_S2C];
	uint64_t total = xdp + agent;
	size_t n;

	if (!total) {
		snprintf(buf, len, "transport: none carried yet");
		return;
	}
	n = snprintf(buf, len, "transport: %s carries it: XDP %.1f%%, agent %.1f%% of %llu packets",
		     xdp >= agent ? "XDP (accelerated)" : "the agent", 100.0 * xdp / total,
		     100.0 * agent / total, (unsigned long long)total);
	if (!agent || n >= len)
		return;
	if (!x[XWGP_STAT_RX].packets) {
		snprintf(buf + n, len - n,
			 "; the XDP program sees no packet: not attached (xdp_mode off, or no "
			 "`interface')");
		return;
	}
	n += snprintf(buf + n, len - n, "; punted to the agent:");
	for (size_t i = 0; i < sizeof(transport_punts) / sizeof(transport_punts[0]) && n < len; i++) {
		uint64_t v = x[transport_punts[i]].packets;

		if (v)
			n += snprintf(buf + n, len - n, " %s %llu", xwgp_xdp_stat_names[transport_punts[i]],
				      (unsigned long long)v);
	}
	if (n < len && x[XWGP_STAT_PUNT_NO_ROUTE].packets)
		snprintf(buf + n, len - n, " (PUNT_NO_ROUTE: no route, or forwarding off and the "
					   "agent's next hop unresolved; with forwarding on "
					   "(net.ipv4.ip_forward=1, net.ipv6.conf.all.forwarding=1) the "
					   "kernel's FIB answers)");
}

static double ago_sec(uint64_t now, uint64_t then)
{
	return then && now > then ? (double)(now - then) / 1e9 : 0;
}

static void session_json(cJSON *arr, const struct xwgp_session *s,
			 const struct xwgp_session_meta *m, bool have_meta, uint64_t now)
{
	cJSON *o = cJSON_CreateObject();
	char buf[XWGP_EP_STRLEN], key[45];

	if (have_meta) {
		wg_key_to_base64(key, m->client_pub);
		cJSON_AddStringToObject(o, "client_pubkey", key);
		wg_key_to_base64(key, m->server_pub);
		cJSON_AddStringToObject(o, "server_pubkey", key);
		cJSON_AddNumberToObject(o, "handshake_age_sec", ago_sec(now, m->handshake_ns));
		if (m->established_ns)
			cJSON_AddNumberToObject(o, "established_age_sec",
						ago_sec(now, m->established_ns));
	}
	xwgp_ep_format(buf, sizeof(buf), &s->client);
	cJSON_AddStringToObject(o, "client_endpoint", buf);
	xwgp_ep_format(buf, sizeof(buf), &s->client_local);
	cJSON_AddStringToObject(o, "client_local", buf);
	xwgp_ep_format(buf, sizeof(buf), &s->server);
	cJSON_AddStringToObject(o, "server_endpoint", buf);
	xwgp_ep_format(buf, sizeof(buf), &s->server_local);
	cJSON_AddStringToObject(o, "server_local", buf);
	cJSON_AddNumberToObject(o, "client_origin_index", s->client_origin_index);
	cJSON_AddNumberToObject(o, "client_proxy_index", s->client_proxy_index);
	cJSON_AddNumberToObject(o, "server_origin_index", s->server_origin_index);
	cJSON_AddNumberToObject(o, "server_proxy_index", s->server_proxy_index);
	cJSON_AddBoolToObject(o, "established", !!(s->flags & XWGP_SF_ESTABLISHED));
	cJSON_AddBoolToObject(o, "obfs", !!(s->flags & XWGP_SF_OBFS));
	cJSON_AddNumberToObject(o, "csvl", s->csvl);
	cJSON_AddNumberToObject(o, "ssvl", s->ssvl);
	cJSON_AddNumberToObject(o, "last_seen_age_sec", ago_sec(now, s->last_seen_ns));
	cJSON_AddNumberToObject(o, "c2s_packets", (double)s->c2s_packets);
	cJSON_AddNumberToObject(o, "c2s_bytes", (double)s->c2s_bytes);
	cJSON_AddNumberToObject(o, "s2c_packets", (double)s->s2c_packets);
	cJSON_AddNumberToObject(o, "s2c_bytes", (double)s->s2c_bytes);
	cJSON_AddItemToArray(arr, o);
}

static void session_print(const struct xwgp_session *s, const struct xwgp_session_meta *m,
			  bool have_meta, uint64_t now)
{
	char a[XWGP_EP_STRLEN], b[XWGP_EP_STRLEN], key[45];

	if (have_meta) {
		wg_key_to_base64(key, m->client_pub);
		printf("client: %s\n", key);
	} else {
		printf("client: (key unknown)\n");
	}
	xwgp_ep_format(a, sizeof(a), &s->client);
	xwgp_ep_format(b, sizeof(b), &s->client_local);
	printf("  endpoint: %s (to %s)\n", a, b);
	xwgp_ep_format(a, sizeof(a), &s->server);
	xwgp_ep_format(b, sizeof(b), &s->server_local);
	printf("  backend: %s (from %s)", a, b);
	if (have_meta) {
		wg_key_to_base64(key, m->server_pub);
		printf(" server key %s", key);
	}
	printf("\n  indexes: client 0x%08x -> 0x%08x, server 0x%08x -> 0x%08x%s\n",
	       s->client_origin_index, s->client_proxy_index, s->server_origin_index,
	       s->server_proxy_index, s->flags & XWGP_SF_ESTABLISHED ? "" : " (awaiting response)");
	printf("  obfs: %s, csvl %u, ssvl %u\n", s->flags & XWGP_SF_OBFS ? "on" : "off", s->csvl,
	       s->ssvl);
	if (have_meta)
		printf("  latest handshake: %.0f seconds ago\n", ago_sec(now, m->handshake_ns));
	printf("  last seen: %.1f seconds ago\n", ago_sec(now, s->last_seen_ns));
	printf("  transfer: client->server %llu packets %llu bytes, server->client %llu packets "
	       "%llu bytes\n",
	       (unsigned long long)s->c2s_packets, (unsigned long long)s->c2s_bytes,
	       (unsigned long long)s->s2c_packets, (unsigned long long)s->s2c_bytes);
}

/* Sums over every session, for `show': what the table carries in total. */
struct show_totals {
	int sessions, established;
	uint64_t c2s_packets, c2s_bytes, s2c_packets, s2c_bytes;
};

static void totals_add(struct show_totals *t, const struct xwgp_session *s)
{
	t->sessions++;
	t->established += !!(s->flags & XWGP_SF_ESTABLISHED);
	t->c2s_packets += s->c2s_packets;
	t->c2s_bytes += s->c2s_bytes;
	t->s2c_packets += s->s2c_packets;
	t->s2c_bytes += s->s2c_bytes;
}

static cJSON *totals_json(const struct show_totals *t)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "sessions", t->sessions);
	cJSON_AddNumberToObject(o, "established", t->established);
	cJSON_AddNumberToObject(o, "c2s_packets", (double)t->c2s_packets);
	cJSON_AddNumberToObject(o, "c2s_bytes", (double)t->c2s_bytes);
	cJSON_AddNumberToObject(o, "s2c_packets", (double)t->s2c_packets);
	cJSON_AddNumberToObject(o, "s2c_bytes", (double)t->s2c_bytes);
	return o;
}

/* The agent's UNDER_LOAD state (cookie_guard.h), as it last published it. */
static bool under_load(const struct xwgp_maps *m)
{
	__u32 i = XWGP_AGENT_STAT_UNDER_LOAD;
	__u64 v = 0;

	return bpf_map_lookup_elem(m->agent_stats, &i, &v) == 0 && v;
}

static const char show_usage[] =
	"Usage: xwgp show [--json] [--instance NAME | --pin-path DIR]\n"
	"\n"
	"Print every session (client key and endpoint, backend, indexes origin->proxy,\n"
	"obfs, last handshake, last seen, packets and bytes each way) and the global\n"
	"counters of the XDP program and the agent, read from the pinned maps.\n";

int cmd_show(int argc, char **argv)
{
	struct target_opts o = {};
	struct xwgp_maps m;
	char pin_path[256];
	uint32_t cursor = 0;
	struct xwgp_session s;
	uint64_t now = xwgp_now_ns();
	cJSON *root = NULL, *arr = NULL;
	struct show_totals tot = {};
	struct metrics_snapshot snap = {};
	char transport[512];
	int err;

	err = parse_target(argc, argv, &o, show_usage, true, false);
	if (err)
		return err > 0 ? 0 : 2;
	resolve_pin_path(&o, pin_path, sizeof(pin_path));
	if (open_pins(&m, pin_path))
		return 1;
	if (o.json) {
		root = cJSON_CreateObject();
		cJSON_AddStringToObject(root, "pin_path", pin_path);
		arr = cJSON_AddArrayToObject(root, "sessions");
	}
	while (wgit_session_next(&m, &cursor, &s)) {
		struct xwgp_session_meta meta;
		bool have_meta;

		/* Through the read-only mapping: no syscall per session. */
		have_meta = wgit_meta_read(&m, &s, &meta) == 0;
		if (o.json)
			session_json(arr, &s, &meta, have_meta, now);
		else
			session_print(&s, &meta, have_meta, now);
		totals_add(&tot, &s);
	}
	metrics_collect_counters(&m, &snap);
	transport_summary(&snap, transport, sizeof(transport));
	if (o.json) {
		char *text;

		cJSON_AddBoolToObject(root, "under_load", under_load(&m));
		cJSON_AddItemToObject(root, "totals", totals_json(&tot));
		cJSON_AddItemToObject(root, "counters", counters_json(&snap));
		cJSON_AddStringToObject(root, "transport", transport);
		cJSON_AddStringToObject(root, "local_backends", local_backends_path(m.cfg));
		cJSON_AddItemToObject(root, "interfaces", fwd_json_devmap(m.devmap));
		text = cJSON_Print(root);
		puts(text);
		free(text);
		cJSON_Delete(root);
	} else {
		printf("%d session(s), %d established; client->server %llu packets %llu bytes, "
		       "server->client %llu packets %llu bytes\n",
		       tot.sessions, tot.established, (unsigned long long)tot.c2s_packets,
		       (unsigned long long)tot.c2s_bytes, (unsigned long long)tot.s2c_packets,
		       (unsigned long long)tot.s2c_bytes);
		puts(transport);
		puts(local_backends_text(local_backends_path(m.cfg)));
		if (under_load(&m))
			printf("UNDER LOAD: initiations without a valid MAC2 get cookie replies, "
			       "no handshake\n");
		print_counters(&snap, false);
		fwd_print_devmap(m.devmap);
	}
	xwgp_maps_close(&m);
	return 0;
}

static const char stats_usage[] =
	"Usage: xwgp stats [--json | --prometheus] [--watch SECS] [--instance NAME | --pin-path DIR]\n"
	"\n"
	"Print every counter of the XDP program (per verdict and reason, summed over\n"
	"CPUs) and of the agent; --watch repeats every SECS seconds. --prometheus\n"
	"prints the exposition `metrics_listen' serves (text format 0.0.4), e.g. for\n"
	"node_exporter's textfile collector; its per-backend counters are the sums\n"
	"over the live sessions (the agent's endpoint keeps expired ones counted).\n";

/* Instance label of the CLI's exposition: --instance, else the pin directory's name. */
static const char *target_instance(const struct target_opts *o, const char *pin_path)
{
	const char *slash = strrchr(pin_path, '/');

	return o->instance ? o->instance : slash && slash[1] ? slash + 1 : pin_path;
}

static void print_prometheus(const struct xwgp_maps *m, const char *instance)
{
	struct metrics_snapshot snap = { .instance = instance };
	struct prom_buf b = {};

	metrics_collect(m, &snap);
	prom_write_snapshot(&b, &snap);
	if (!b.oom && b.len)
		fwrite(b.p, 1, b.len, stdout);
	else
		pr_err("out of memory formatting the exposition");
	prom_buf_free(&b);
	metrics_snapshot_free(&snap);
}

int cmd_stats(int argc, char **argv)
{
	struct target_opts o = {};
	struct xwgp_maps m;
	char pin_path[256];
	int err;

	err = parse_target(argc, argv, &o, stats_usage, true, true);
	if (err)
		return err > 0 ? 0 : 2;
	resolve_pin_path(&o, pin_path, sizeof(pin_path));
	if (open_pins(&m, pin_path))
		return 1;
	if (o.json && o.prometheus) {
		fputs(stats_usage, stderr);
		xwgp_maps_close(&m);
		return 2;
	}
	for (;;) {
		struct metrics_snapshot snap = {};

		metrics_collect_counters(&m, &snap);
		if (o.prometheus) {
			print_prometheus(&m, target_instance(&o, pin_path));
		} else if (o.json) {
			cJSON *c = counters_json(&snap);
			char *text = cJSON_PrintUnformatted(c);

			puts(text);
			free(text);
			cJSON_Delete(c);
		} else {
			print_counters(&snap, true);
		}
		fflush(stdout);
		if (!o.watch)
			break;
		sleep(o.watch);
	}
	xwgp_maps_close(&m);
	return 0;
}

static const char down_usage[] =
	"Usage: xwgp down [--instance NAME | --pin-path DIR]\n"
	"\n"
	"Detach the instance's XDP program from every interface of this network\n"
	"namespace and remove its pinned program and maps (all sessions are lost;\n"
	"stop the agent first).\n";

int cmd_down(int argc, char **argv)
{
	struct target_opts o = {};
	char pin_path[256];
	int n;

	n = parse_target(argc, argv, &o, down_usage, false, false);
	if (n)
		return n > 0 ? 0 : 2;
	resolve_pin_path(&o, pin_path, sizeof(pin_path));
	if (access(pin_path, F_OK)) {
		pr_err("nothing pinned at %s", pin_path);
		return 1;
	}
	n = xwgp_loader_down(pin_path);
	if (n < 0)
		return 1;
	pr_info("instance at %s removed (detached from %d interface(s))", pin_path, n);
	return 0;
}
