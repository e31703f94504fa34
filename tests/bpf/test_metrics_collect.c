// SPDX-License-Identifier: GPL-2.0
/*
 * The metrics snapshot (agent/metrics_collect.c) against the real maps of a
 * loaded program: per-CPU counters summed, the agent's counters, sessions
 * by state, per-backend totals including what the agent forwarded itself
 * (added to the same session counters through its mapping),
 * and the cost of one scrape of a full 65536-session table.
 */
#include <time.h>

#include "addr.h"
#include "bpf_env.h"
#include "metrics_collect.h"
#include "wgit.h"

static const char *const topo[] = { "ip link set lo up" };

static struct xwgp_session sess(uint32_t key, const char *backend, bool established, uint64_t pk)
{
	struct xwgp_session s = {};

	xwgp_ep_parse(backend, 0, &s.server);
	s.client_proxy_index = key;
	s.created_ns = 1000 + key;
	s.flags = established ? XWGP_SF_ESTABLISHED : 0;
	s.c2s_packets = pk;
	s.c2s_bytes = pk * 100;
	s.s2c_packets = 2 * pk;
	s.s2c_bytes = 2 * pk * 100;
	return s;
}

/* Every slot emptied (WGIT v2 arrays cannot delete), every meta gone. */
static void clear_sessions(void)
{
	static const struct xwgp_session empty;

	for (uint32_t slot = 0; slot < bpf_env.maps.n_slots; slot++)
		bpf_map_update_elem(bpf_env.maps.sessions, &slot, &empty, BPF_ANY);
}

/* Session index key (not 0) in its slot: the key's low bits. */
static int sess_store(uint32_t key, const struct xwgp_session *x)
{
	uint32_t slot = SLOT(key);

	return bpf_map_update_elem(bpf_env.maps.sessions, &slot, x, BPF_ANY);
}

static const struct metrics_backend *find(const struct metrics_snapshot *s, const char *ep)
{
	struct xwgp_ep e;

	xwgp_ep_parse(ep, 0, &e);
	for (size_t i = 0; i < s->n_backends; i++)
		if (xwgp_ep_equal(&s->backends[i].ep, &e))
			return &s->backends[i];
	return NULL;
}

TEST(sessions_and_backends)
{
	struct metrics_snapshot s = { .want_rows = true };
	struct wgit w = { .maps = &bpf_env.maps };
	const struct metrics_backend *b;

	BPF_ENV_REQUIRE(topo, NULL);
	clear_sessions();
	for (uint32_t k = 1; k <= 6; k++) {
		struct xwgp_session x =
			sess(k, k <= 4 ? "198.51.100.2:51820" : "[2001:db8::2]:51821", k != 3, k);

		CHECK(sess_store(k, &x) == 0);
	}
	/* The agent forwarded some of session 2's packets itself. */
	for (int i = 0; i < 7; i++) {
		struct xwgp_session x = sess(2, "198.51.100.2:51820", true, 2);

		CHECK(wgit_transport_commit(&w, &x, true, 100, 5000, &(struct transport_out){ 0 }) ==
		      0);
	}
	CHECK(metrics_collect(&bpf_env.maps, &s) == 0);
	CHECK(s.up);
	CHECK(s.established == 5 && s.pending == 1, "%llu/%llu", (unsigned long long)s.established,
	      (unsigned long long)s.pending);
	CHECK(s.n_backends == 2 && s.n_rows == 6, "%zu backends %zu rows", s.n_backends, s.n_rows);
	b = find(&s, "198.51.100.2:51820");
	CHECK(b && b->c2s_packets == 1 + 2 + 3 + 4 + 7 && b->c2s_bytes == 1000 + 700 &&
		      b->s2c_packets == 20,
	      "c2s %llu/%llu s2c %llu", b ? (unsigned long long)b->c2s_packets : 0,
	      b ? (unsigned long long)b->c2s_bytes : 0, b ? (unsigned long long)b->s2c_packets : 0);
	b = find(&s, "[2001:db8::2]:51821");
	CHECK(b && b->c2s_packets == 11 && b->s2c_bytes == 2200);
	for (size_t i = 1; i < s.n_rows; i++)
		CHECK(s.rows[i - 1].key < s.rows[i].key, "rows sorted and unique");
	metrics_snapshot_free(&s);
	clear_sessions();
}

TEST(counters_summed_over_cpus)
{
	struct metrics_snapshot s = {};
	struct xwgp_stat_val *v;
	uint32_t slot = XWGP_STAT_C2S_REDIRECT, a = XWGP_AGENT_STAT_INIT_REPLAY;
	uint64_t n = 4242;

	BPF_ENV_REQUIRE(topo, NULL);
	v = calloc(bpf_env.ncpus, sizeof(*v));
	CHECK(v);
	for (int c = 0; c < bpf_env.ncpus; c++)
		v[c] = (struct xwgp_stat_val){ 10, 1000 };
	CHECK(bpf_map_update_elem(bpf_env.maps.stats, &slot, v, BPF_ANY) == 0);
	free(v);
	CHECK(bpf_map_update_elem(bpf_env.maps.agent_stats, &a, &n, BPF_ANY) == 0);
	CHECK(metrics_collect_counters(&bpf_env.maps, &s) == 0);
	CHECK(s.xdp[slot].packets == 10ull * bpf_env.ncpus &&
	      s.xdp[slot].bytes == 1000ull * bpf_env.ncpus);
	CHECK(s.agent[a] == 4242);
	CHECK(s.n_backends == 0, "counters only: no session walk");
}

/* A full default table: what one scrape costs the metrics thread. */
TEST(full_table_scrape_cost)
{
	struct metrics_snapshot s = { .want_rows = true };
	struct timespec t0, t1;
	char ep[32];
	uint32_t k;
	double ms;

	BPF_ENV_REQUIRE(topo, NULL);
	clear_sessions();
	/* Every slot: indexes 1 .. 65536 (the last one's low bits name slot 0). */
	for (k = 1; k <= XWGP_MAX_SESSIONS_DEFAULT; k++) {
		struct xwgp_session x;

		snprintf(ep, sizeof(ep), "10.0.%u.1:51820", k % 64); /* 64 backends */
		x = sess(k, ep, true, 1);
		CHECK(sess_store(k, &x) == 0, "key %u", k);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(metrics_collect(&bpf_env.maps, &s) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	fprintf(stderr, "# metrics_collect: %u sessions, 64 backends: %.1f ms\n",
		XWGP_MAX_SESSIONS_DEFAULT, ms);
	CHECK(s.established == XWGP_MAX_SESSIONS_DEFAULT && s.n_backends == 64 &&
	      s.n_rows == XWGP_MAX_SESSIONS_DEFAULT);
	metrics_snapshot_free(&s);
	/*
	 * The walk alone (show, expiry, cache save, the slot bitmap): the
	 * agent's mapping against one lookup syscall per slot, in one run.
	 */
	{
		struct xwgp_session x;
		uint32_t cursor = 0, n_map = 0, n_sys = 0;
		double ms_map, ms_sys;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (wgit_session_next(&bpf_env.maps, &cursor, &x))
			n_map++;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms_map = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
		for (uint32_t slot = 0; slot < bpf_env.maps.n_slots; slot++)
			n_sys += bpf_map_lookup_elem(bpf_env.maps.sessions, &slot, &x) == 0 &&
				 x.client_proxy_index;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ms_sys = (t0.tv_sec - t1.tv_sec) * 1e3 + (t0.tv_nsec - t1.tv_nsec) / 1e6;
		fprintf(stderr, "# session walk, %u slots: mapping %.2f ms, a syscall per slot %.1f ms\n",
			bpf_env.maps.n_slots, ms_map, ms_sys);
		CHECK(n_map == XWGP_MAX_SESSIONS_DEFAULT && n_sys == n_map, "%u / %u sessions", n_map,
		      n_sys);
	}
	clear_sessions();
}

TEST_MAIN()
