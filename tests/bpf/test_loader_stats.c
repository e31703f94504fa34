// SPDX-License-Identifier: GPL-2.0
/*
 * The pinned agent counter array grows with a newer xwgp (agent/bpf_loader.c):
 * a smaller xwgp_agent_st left by an older agent is re-created at
 * XWGP_AGENT_STAT__MAX entries, its values carried over, so new counters
 * (e.g. COOKIE_SENT, UNDER_LOAD) are published and the old ones continue.
 * Pins go to a bpffs of the test's own mount namespace (never the host's).
 */
#include <errno.h>
#include <sched.h>
#include <sys/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_loader.h"
#include "log.h"
#include "test.h"
#include "xwgp_agent_stats.h"

#define OLD_N 10 /* an older agent with 10 counters */

TEST(smaller_pinned_agent_counters_grow_values_kept)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	struct xwgp_loader l;
	char pin[128], path[192];
	int fd, err;

	if (geteuid())
		SKIP("needs root (bpffs pins)");
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL))
		SKIP("no private mount namespace with a bpffs: %s", strerror(errno));
	log_level = LOG_WARN;
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/xwgp-test-loader-%d", getpid());
	CHECK(mkdir(pin, 0700) == 0, "mkdir %s: %s", pin, strerror(errno));
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xwgp_agent_st", 4, 8, OLD_N, NULL);
	CHECK(fd >= 0, "map create: %s", strerror(errno));
	for (__u32 i = 0; i < OLD_N; i++) {
		__u64 v = 1000 + i;

		bpf_map_update_elem(fd, &i, &v, BPF_ANY);
	}
	snprintf(path, sizeof(path), "%s/xwgp_agent_st", pin);
	err = bpf_obj_pin(fd, path);
	close(fd);
	CHECK(!err, "pin: %s", strerror(errno));

	err = xwgp_loader_load(&l, pin, 1024);
	if (err) {
		xwgp_loader_down(pin);
		rmdir(pin);
		CHECK(0, "load: %s", strerror(-err));
	}
	err = bpf_obj_get_info_by_fd(l.maps.agent_stats, &info, &info_len);
	CHECK(!err && info.max_entries == XWGP_AGENT_STAT__MAX, "max_entries %u, want %u",
	      info.max_entries, XWGP_AGENT_STAT__MAX);
	for (__u32 i = 0; i < XWGP_AGENT_STAT__MAX; i++) {
		__u64 v = 1;

		CHECK(!bpf_map_lookup_elem(l.maps.agent_stats, &i, &v), "lookup %u", i);
		CHECK(v == (i < OLD_N ? 1000 + i : 0), "counter %u = %llu", i,
		      (unsigned long long)v);
	}
	/* The new array is the pinned one (what `xwgp show' opens). */
	fd = bpf_obj_get(path);
	info_len = sizeof(info);
	CHECK(fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &info_len) &&
		      info.max_entries == XWGP_AGENT_STAT__MAX,
	      "pinned array has %u entries", info.max_entries);
	close(fd);
	xwgp_loader_close(&l);
	CHECK(xwgp_loader_down(pin) == 0, "down");
	rmdir(pin);
}

TEST_MAIN()
