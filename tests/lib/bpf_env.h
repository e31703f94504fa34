/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared setup of the BPF test suites: a private network namespace (unshare
 * at first use) with the caller's topology commands and forwarding on, the
 * xwgp skeleton loaded (not pinned, not attached) with its map fds and the
 * caller's map contents, and BPF_PROG_TEST_RUN with the change of the stats
 * map. Frames are built and parsed by tests/lib/pkt.h.
 *
 *   static const char *const topo[] = { "ip link add ...", ... };
 *   static int fill(void) { ... bpf_env.maps.cfg ... }      (optional)
 *   TEST(x) { BPF_ENV_REQUIRE(topo, fill); ... bpf_env_run(&in, ifindex, &res) ... }
 *
 * Environment problems (not root, no netns, a topology command) skip; a
 * program that does not load, or maps that cannot be filled, fail.
 */
#ifndef XWGP_TEST_BPF_ENV_H
#define XWGP_TEST_BPF_ENV_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_loader.h"
#include "pkt.h"
#include "test.h"
#include "xwgp.skel.h"
#include "xwgp_abi.h"

/*
 * The array slot of a proxy index in a skeleton of default size (WGIT v2:
 * xwgp_slot_mask): the key tests write sessions under.
 */
#define SLOT(idx) ((uint32_t)(idx) & XWGP_SLOT_MASK_DEFAULT)

enum bpf_env_state { BPF_ENV_NEW, BPF_ENV_READY, BPF_ENV_SKIP, BPF_ENV_BROKEN };

static struct {
	enum bpf_env_state state;
	char why[512];
	struct xwgp_bpf *skel;
	struct xwgp_maps maps;
	int prog, ncpus;
} bpf_env;

static inline int bpf_env_sh(const char *cmd)
{
	char full[600];
	int rc;

	snprintf(full, sizeof(full), "%s >/dev/null", cmd);
	rc = system(full);
	if (rc)
		snprintf(bpf_env.why, sizeof(bpf_env.why), "`%s' failed (status %d)", cmd, rc);
	return rc ? -1 : 0;
}

static inline int bpf_env_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n = -1;

	if (fd >= 0) {
		n = write(fd, val, strlen(val));
		close(fd);
	}
	if (n != (ssize_t)strlen(val)) {
		snprintf(bpf_env.why, sizeof(bpf_env.why), "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Set up once. fill (NULL: none) writes the suite's map contents after the
 * load and says what failed in bpf_env.why.
 */
static inline enum bpf_env_state bpf_env_up(const char *const *cmds, size_t n, int (*fill)(void))
{
	/* bpf_fib_lookup() answers "not forwarded" unless forwarding is on. */
	static const char *const sysctls[] = {
		"/proc/sys/net/ipv4/ip_forward",
		"/proc/sys/net/ipv6/conf/all/forwarding",
		"/proc/sys/net/ipv6/conf/default/forwarding",
	};

	if (bpf_env.state != BPF_ENV_NEW)
		return bpf_env.state;
	if (geteuid() != 0) {
		snprintf(bpf_env.why, sizeof(bpf_env.why), "needs root (netns, BPF)");
		return bpf_env.state = BPF_ENV_SKIP;
	}
	if (unshare(CLONE_NEWNET)) {
		snprintf(bpf_env.why, sizeof(bpf_env.why), "unshare(CLONE_NEWNET): %s",
			 strerror(errno));
		return bpf_env.state = BPF_ENV_SKIP;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_env_sh(cmds[i]))
			return bpf_env.state = BPF_ENV_SKIP;
	for (size_t i = 0; i < sizeof(sysctls) / sizeof(sysctls[0]); i++)
		if (bpf_env_sysctl(sysctls[i], "1"))
			return bpf_env.state = BPF_ENV_SKIP;
	bpf_env.skel = xwgp_bpf__open_and_load();
	if (!bpf_env.skel) {
		snprintf(bpf_env.why, sizeof(bpf_env.why), "xwgp_bpf__open_and_load: %s",
			 strerror(errno));
		return bpf_env.state = BPF_ENV_BROKEN;
	}
	bpf_env.prog = bpf_program__fd(bpf_env.skel->progs.xwgp_xdp);
	xwgp_maps_from_skel(&bpf_env.maps, bpf_env.skel);
	bpf_env.ncpus = libbpf_num_possible_cpus();
	if (fill && fill())
		return bpf_env.state = BPF_ENV_BROKEN;
	return bpf_env.state = BPF_ENV_READY;
}

/*
 * Tell the program an address is ours (XWGP_LOCAL_ADDR) or a subnet
 * broadcast (XWGP_LOCAL_BROADCAST), as the agent does from netlink; kind 0
 * removes it. 0 or -1 (bpf_env.why says why).
 */
static inline int bpf_env_local(const char *ip, uint32_t kind)
{
	struct xwgp_ep e = pkt_ep(ip, 1);
	struct xwgp_local_key k;
	int fd = bpf_map__fd(bpf_env.skel->maps.xwgp_local_addr), err;

	memcpy(k.addr, e.addr, sizeof(k.addr));
	err = kind ? bpf_map_update_elem(fd, &k, &kind, BPF_ANY) : bpf_map_delete_elem(fd, &k);
	if (err)
		snprintf(bpf_env.why, sizeof(bpf_env.why), "local address %s: %s", ip,
			 strerror(errno));
	return err ? -1 : 0;
}

/*
 * The cfg map's one entry with only our ports set (max_packet_size 1500,
 * no flags): what a plain transport test needs. 0 or -1 (bpf_env.why).
 */
static inline int bpf_env_cfg(uint16_t listen_port, uint16_t upstream_port)
{
	struct xwgp_cfg cfg = {
		.abi_version = XWGP_ABI_VERSION,
		.listen = { .port = htons(listen_port) },
		.upstream = { .port = htons(upstream_port) },
		.max_packet_size = 1500,
	};
	uint32_t k = 0;

	if (bpf_map_update_elem(bpf_env.maps.cfg, &k, &cfg, BPF_ANY)) {
		snprintf(bpf_env.why, sizeof(bpf_env.why), "cfg: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The test skips when the environment is missing and fails when the program is broken. */
#define BPF_ENV_REQUIRE(cmds, fill)                                                                \
	do {                                                                                       \
		enum bpf_env_state st__ = bpf_env_up(cmds, sizeof(cmds) / sizeof(cmds[0]), fill);  \
		if (st__ == BPF_ENV_SKIP)                                                          \
			SKIP("%s", bpf_env.why);                                                   \
		CHECK(st__ == BPF_ENV_READY, "%s", bpf_env.why);                                   \
	} while (0)

/* ---- running the program ------------------------------------------------- */

static const char *const bpf_env_stat_names[XWGP_STAT__MAX] = {
#define BPF_ENV_STAT_NAME(name, desc) #name,
	XWGP_STATS(BPF_ENV_STAT_NAME)
#undef BPF_ENV_STAT_NAME
};

static inline const char *bpf_env_reason(int r)
{
	return r >= 0 && r < XWGP_STAT__MAX ? bpf_env_stat_names[r] : "?";
}

/* The stats map summed over CPUs, packets and bytes. */
static inline void bpf_env_stats_sum(struct xwgp_stat_val *sum)
{
	struct xwgp_stat_val v[bpf_env.ncpus];

	for (uint32_t k = 0; k < XWGP_STAT__MAX; k++) {
		sum[k] = (struct xwgp_stat_val){ 0 };
		if (bpf_map_lookup_elem(bpf_env.maps.stats, &k, v))
			continue;
		for (int c = 0; c < bpf_env.ncpus; c++) {
			sum[k].packets += v[c].packets;
			sum[k].bytes += v[c].bytes;
		}
	}
}

struct bpf_env_result {
	int reason; /* the one reason counter that moved; -1 none, -2 several */
	bool candidate; /* forwarded from a roaming candidate (ROAM_CANDIDATE moved too) */
	uint32_t act;
	struct pkt_frame out;
};

/* One test run on ingress ifindex; 0 or -errno. */
static inline int bpf_env_run(const struct pkt_frame *in, int ifindex, struct bpf_env_result *r)
{
	struct xwgp_stat_val before[XWGP_STAT__MAX], after[XWGP_STAT__MAX];
	struct xdp_md ctx = { .data_end = in->len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in->b, .data_size_in = in->len,
		    .data_out = r->out.b, .data_size_out = sizeof(r->out.b), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	bpf_env_stats_sum(before);
	if (bpf_prog_test_run_opts(bpf_env.prog, &o))
		return -errno;
	bpf_env_stats_sum(after);
	r->act = o.retval;
	r->out.len = o.data_size_out;
	r->reason = -1;
	r->candidate = after[XWGP_STAT_ROAM_CANDIDATE].packets !=
		       before[XWGP_STAT_ROAM_CANDIDATE].packets;
	for (int k = 0; k < XWGP_STAT__MAX; k++) {
		uint64_t d = after[k].packets - before[k].packets;

		/* RX, the punt totals and candidates move along with a reason. */
		if (k == XWGP_STAT_RX || k == XWGP_STAT_PUNT_STACK || k == XWGP_STAT_PUNT_XSK ||
		    k == XWGP_STAT_ROAM_CANDIDATE || !d)
			continue;
		r->reason = r->reason == -1 && d == 1 ? k : -2;
	}
	return 0;
}

#endif /* XWGP_TEST_BPF_ENV_H */
