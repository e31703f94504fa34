// SPDX-License-Identifier: GPL-2.0
/*
 * Map memory with many sessions: load the XDP object through the agent's
 * own loader (agent/bpf_loader.c, as `xwgp server' with max_sessions N
 * does), pinned under PIN_PATH, and fill the per-session maps with N
 * established sessions through the agent's own mapping of the arrays: the
 * xwgp_sessions array (WGIT v2: slot n holds the session whose indexes are
 * n | generation), xwgp_sess_meta at the same slot, and the one server key
 * they all name in xwgp_srv_keys.
 * The maps stay pinned when this exits, so tests/bench/run.sh reads their
 * memlock figures with `bpftool map show pinned' and removes them.
 *
 * Run it inside a network namespace with its own bpffs (ns_exec): the pins
 * must not land in the host's /sys/fs/bpf.
 *
 * Usage: bench_memory --pin-path DIR [--sessions N]
 * Prints one JSON object on stdout: sessions loaded and the time it took.
 */
#include <getopt.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_util.h"
#include "bpf_loader.h"
#include "log.h"
#include "wgit_index.h"


/* Generation 1 (client) and 2 (server) of slot n: never 0. */
static unsigned int slot_bits;
#define CP_OF(n) ((n) | (1u << slot_bits))
#define SP_OF(n) ((n) | (2u << slot_bits))

static struct xwgp_session session_n(uint32_t n)
{
	struct xwgp_session s = {
		.client = bench_ep("192.0.2.2", 1024 + n % 60000),
		.client_local = bench_ep("192.0.2.1", 51820),
		.server = bench_ep("198.51.100.2", 51820),
		.server_local = bench_ep("198.51.100.1", 51900),
		.client_origin_index = n,
		.client_proxy_index = CP_OF(n),
		.server_origin_index = n,
		.server_proxy_index = SP_OF(n),
		.csvl = XWGP_CSVL_DEFAULT,
		.ssvl = XWGP_SSVL_DEFAULT,
		.flags = XWGP_SF_ESTABLISHED,
	};

	return s;
}

/* Sessions 0..total-1 written into the mapping, as wgit_session_place would. */
static int fill(const struct xwgp_maps *m, uint32_t total)
{
	if (!m->sess || !m->meta || !m->srv_key)
		return -ENXIO;
	memset(m->srv_key[0].pub, 0xee, sizeof(m->srv_key[0].pub));
	for (uint32_t n = 0; n < total; n++) {
		struct xwgp_sess_meta *v = &m->meta[n];
		uint32_t cp = CP_OF(n);

		memset(v, 0, sizeof(*v));
		memcpy(v->client_pub, &cp, sizeof(cp));
		v->server_key = 1;
		m->sess[n] = session_n(n);
	}
	return 0;
}

/* Spot checks: the first, a middle and the last session are there, and no more. */
static int verify(const struct xwgp_maps *m, uint32_t total)
{
	uint32_t probe[] = { 0, total / 2, total - 1 }, extra = total;
	struct xwgp_sess_meta meta;
	struct xwgp_session s;

	for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		uint32_t cp = CP_OF(probe[i]);

		/* Through the kernel, not the mapping: what XDP and bpftool see. */
		if (bpf_map_lookup_elem(m->sessions, &probe[i], &s) ||
		    s.client_proxy_index != cp || s.server_proxy_index != SP_OF(probe[i]) ||
		    bpf_map_lookup_elem(m->sess_meta, &probe[i], &meta) || meta.server_key != 1 ||
		    memcmp(meta.client_pub, &cp, sizeof(cp))) {
			bench_log("session %u missing after the fill", probe[i]);
			return -ENOENT;
		}
	}
	/* Full: no slot beyond (max_entries == total). */
	s = session_n(extra);
	if (!bpf_map_update_elem(m->sessions, &extra, &s, BPF_ANY)) {
		bench_log("the session map took more than %u entries", total);
		return -EOVERFLOW;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-path", required_argument, NULL, 'p' },
		{ "sessions", required_argument, NULL, 's' },
		{},
	};
	const char *pin_path = NULL;
	uint32_t total = 1000000;
	struct xwgp_loader l;
	uint64_t t0;
	int c, err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'p')
			pin_path = optarg;
		else if (c == 's')
			total = strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if (!pin_path || !total) {
		fprintf(stderr, "usage: bench_memory --pin-path DIR [--sessions N]\n");
		return 2;
	}
	log_level = LOG_WARN;
	err = xwgp_loader_load(&l, pin_path, total);
	if (err) {
		bench_log("loading with max_sessions %u failed: %s", total, strerror(-err));
		return 1;
	}
	slot_bits = wgit_slot_bits(total);
	t0 = xwgp_clock_ns(CLOCK_MONOTONIC);
	err = fill(&l.maps, total) ?: verify(&l.maps, total);
	if (!err)
		printf("{\"id\":\"memory.fill\",\"sessions\":%u,\"fill_sec\":%.2f,"
		       "\"session_value_bytes\":%zu,\"meta_value_bytes\":%zu}\n",
		       total, (xwgp_clock_ns(CLOCK_MONOTONIC) - t0) / 1e9,
		       sizeof(struct xwgp_session), sizeof(struct xwgp_sess_meta));
	xwgp_loader_close(&l); /* the pins stay for bpftool */
	return err ? 1 : 0;
}
