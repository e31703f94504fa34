// SPDX-License-Identifier: GPL-2.0
/*
 * Attaching and detaching the TC programs of local backends
 * (agent/tc_attach.h, bpf/tc_local.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_loader.h"
#include "log.h"
#include "tc_attach.h"
#include "xwgp.skel.h"

/*
 * What the kernel needs to take our packets on lo (measured on 6.18,
 * docs/DESIGN.md section 12): a packet put into lo by bpf_redirect has no
 * route yet, so ip_route_input() checks it as if it came from outside,
 * and its source is one of our addresses (martian source unless
 * accept_local) and, for a 127.0.0.0/8 backend, its destination a
 * loopback address (martian destination unless route_localnet). Both are
 * set on lo only: lo never receives from the wire, and locally sent
 * packets on lo carry their route and skip these checks.
 *
 * The backend's replies: TC on lo asks bpf_fib_lookup() with lo as the
 * input device, which answers FWD_DISABLED unless lo forwards (the check is
 * on that device whatever the flags, docs/DESIGN.md section 8). Forwarding
 * on lo alone makes no router of the host: nothing arrives on lo to be
 * forwarded but what TC sends on itself. Optional: without it the agent
 * forwards the replies (PUNT_NO_ROUTE), as for a host that does not forward.
 */
static const char *const lo_sysctls[] = {
	"/proc/sys/net/ipv4/conf/lo/accept_local",
	"/proc/sys/net/ipv4/conf/lo/route_localnet",
};
static const char *const lo_sysctls_optional[] = {
	"/proc/sys/net/ipv4/conf/lo/forwarding",
	"/proc/sys/net/ipv6/conf/lo/forwarding",
};

static int sysctl_set_one(const char *path)
{
	char cur = 0;
	int fd = open(path, O_RDWR | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (read(fd, &cur, 1) == 1 && cur == '1')
		goto out;
	if (lseek(fd, 0, SEEK_SET) < 0 || write(fd, "1\n", 2) != 2)
		err = -errno;
	else
		pr_info("set %s to 1 (local backends forwarded in the kernel, "
			"docs/DESIGN.md section 12)",
			path);
out:
	close(fd);
	return err;
}

/* The prog id attached at (ifindex, point) under our handle and priority, 0: none. */
static uint32_t tc_query(int ifindex, enum bpf_tc_attach_point point)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XWGP_TC_HANDLE, .priority = XWGP_TC_PRIORITY);
	libbpf_print_fn_t print;
	int err;

	/* "No such filter" is an answer here, not an error for the log. */
	print = libbpf_set_print(NULL);
	err = bpf_tc_query(&hook, &opts);
	libbpf_set_print(print);
	return err ? 0 : opts.prog_id;
}

static bool prog_id_ours(uint32_t id, uint32_t sessions_id)
{
	int fd = bpf_prog_get_fd_by_id(id);
	bool ours;

	if (fd < 0)
		return false;
	ours = sessions_id && xwgp_prog_uses_map(fd, sessions_id);
	close(fd);
	return ours;
}

static int tc_attach_one(struct xwgp_loader *l, const char *ifname, int ifindex,
			 enum bpf_tc_attach_point point, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XWGP_TC_HANDLE, .priority = XWGP_TC_PRIORITY,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	const char *where = point == BPF_TC_INGRESS ? "ingress" : "egress";
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), cur;
	libbpf_print_fn_t print;
	int err;

	/* The clsact qdisc; -EEXIST (already there, e.g. a restart) is no error to log. */
	print = libbpf_set_print(NULL);
	err = bpf_tc_hook_create(&hook);
	libbpf_set_print(print);
	if (err && err != -EEXIST) {
		pr_warn("TC %s hook on %s: %s", where, ifname, strerror(-err));
		return err;
	}
	cur = tc_query(ifindex, point);
	if (cur && !bpf_obj_get_info_by_fd(l->maps.sessions, &info, &len) &&
	    !prog_id_ours(cur, info.id)) {
		pr_warn("TC %s of %s: handle %#x priority %#x holds program id %u, not this "
			"instance's; leaving it",
			where, ifname, XWGP_TC_HANDLE, XWGP_TC_PRIORITY, cur);
		return -EBUSY;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		pr_warn("attaching TC %s to %s: %s", where, ifname, strerror(-err));
	return err;
}

static int pin_prog(struct xwgp_loader *l, struct bpf_program *prog, const char *name)
{
	char path[512];
	int err;

	snprintf(path, sizeof(path), "%s/%s", l->pin_path, name);
	unlink(path); /* the pinned program is always the attached one */
	err = bpf_program__pin(prog, path);
	if (err)
		pr_warn("pinning %s: %s", path, strerror(-err));
	return err;
}

int xwgp_tc_local_setup(struct xwgp_loader *l, char *const *ifnames, size_t n)
{
	int in_fd = bpf_program__fd(l->skel->progs.xwgp_tc_in);
	int lo_fd = bpf_program__fd(l->skel->progs.xwgp_tc_lo);
	int err;

	for (size_t i = 0; i < sizeof(lo_sysctls) / sizeof(lo_sysctls[0]); i++) {
		err = sysctl_set_one(lo_sysctls[i]);
		if (err) {
			pr_warn("cannot set %s (%s): transport of local backends goes through "
				"the agent",
				lo_sysctls[i], strerror(-err));
			return err;
		}
	}
	for (size_t i = 0; i < sizeof(lo_sysctls_optional) / sizeof(lo_sysctls_optional[0]); i++) {
		err = sysctl_set_one(lo_sysctls_optional[i]);
		if (err)
			pr_warn("cannot set %s (%s): the agent forwards the replies of local "
				"backends",
				lo_sysctls_optional[i], strerror(-err));
	}
	/* lo first: a packet XDP hands to TC must find its way back too. */
	err = tc_attach_one(l, "lo", 1, BPF_TC_EGRESS, lo_fd);
	for (size_t i = 0; !err && i < n; i++) {
		int ifindex = (int)if_nametoindex(ifnames[i]);

		err = ifindex ? tc_attach_one(l, ifnames[i], ifindex, BPF_TC_INGRESS, in_fd)
			      : -ENODEV;
	}
	if (err) {
		pr_warn("local backends: TC not attached (%s): their transport goes through "
			"the agent",
			strerror(-err));
		return err;
	}
	pin_prog(l, l->skel->progs.xwgp_tc_in, XWGP_TC_IN_PIN_NAME);
	pin_prog(l, l->skel->progs.xwgp_tc_lo, XWGP_TC_LO_PIN_NAME);
	pr_info("local backends: forwarded in the kernel (TC on lo egress and on the ingress "
		"of %zu interface(s))",
		n);
	return 0;
}

/* The kernel id of the program pinned at pin_path/name, 0: none. */
static uint32_t pinned_id(const char *pin_path, const char *name)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_path, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

int xwgp_tc_down(const char *pin_path, uint32_t sessions_id)
{
	uint32_t pinned[2] = { pinned_id(pin_path, XWGP_TC_IN_PIN_NAME),
			       pinned_id(pin_path, XWGP_TC_LO_PIN_NAME) };
	struct if_nameindex *ifs = if_nameindex(), *it;
	char path[512];
	int detached = 0;

	for (it = ifs; it && it->if_index; it++) {
		for (int e = 0; e < 2; e++) {
			enum bpf_tc_attach_point point = e ? BPF_TC_EGRESS : BPF_TC_INGRESS;
			LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)it->if_index,
				    .attach_point = point);
			LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XWGP_TC_HANDLE,
				    .priority = XWGP_TC_PRIORITY);
			uint32_t cur = tc_query((int)it->if_index, point);

			if (!cur || (cur != pinned[0] && cur != pinned[1] &&
				     !prog_id_ours(cur, sessions_id)))
				continue;
			if (!bpf_tc_detach(&hook, &opts)) {
				pr_info("detached TC %s from %s", e ? "egress" : "ingress",
					it->if_name);
				detached++;
			}
		}
	}
	if (ifs)
		if_freenameindex(ifs);
	snprintf(path, sizeof(path), "%s/" XWGP_TC_IN_PIN_NAME, pin_path);
	unlink(path);
	snprintf(path, sizeof(path), "%s/" XWGP_TC_LO_PIN_NAME, pin_path);
	unlink(path);
	return detached;
}
