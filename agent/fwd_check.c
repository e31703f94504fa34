// SPDX-License-Identifier: GPL-2.0
/*
 * The forwarding sysctls that decide whether XDP can forward transport
 * (see fwd_check.h). A proxy terminates UDP at its own address, so a host
 * that does not route is a normal deployment: the agent must then say that
 * the accelerator is idle instead of punting silently.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "fwd_check.h"
#include "log.h"

static int sysctl_read(const char *family_dir, const char *ifname)
{
	char path[128], buf[16];
	FILE *f;
	int v;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/forwarding", family_dir, ifname);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	v = fgets(buf, sizeof(buf), f) ? atoi(buf) != 0 : -EIO;
	fclose(f);
	return v;
}

/* sysctl(8) spells a dot in an interface name (VLAN "eth0.100") as '/'. */
static void sysctl_name(char *out, size_t len, const char *family_dir, const char *ifname)
{
	int n = snprintf(out, len, "net.%s.conf.", family_dir);

	for (const char *c = ifname; *c && n + 1 < (int)len; c++)
		out[n++] = *c == '.' ? '/' : *c;
	snprintf(out + n, len - (size_t)n, ".forwarding");
}

void fwd_state_read(const char *ifname, struct fwd_state *st)
{
	struct ifaddrs *ifa, *i;

	*st = (struct fwd_state){};
	if (getifaddrs(&ifa) == 0) {
		for (i = ifa; i; i = i->ifa_next) {
			if (!i->ifa_addr || strcmp(i->ifa_name, ifname))
				continue;
			if (i->ifa_addr->sa_family == AF_INET)
				st->has_v4 = true;
			else if (i->ifa_addr->sa_family == AF_INET6 &&
				 !IN6_IS_ADDR_LINKLOCAL(
					 &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
				st->has_v6 = true;
		}
		freeifaddrs(ifa);
	}
	st->v4 = sysctl_read("ipv4", ifname);
	st->v6 = sysctl_read("ipv6", ifname);
}

bool fwd_state_off(const struct fwd_state *st)
{
	return (st->has_v4 && st->v4 == 0) || (st->has_v6 && st->v6 == 0);
}

int fwd_check_warn(char *const *ifnames, size_t n, bool next_hops)
{
	int warned = 0;

	for (size_t i = 0; i < n; i++) {
		struct fwd_state st;
		char name[IF_NAMESIZE + 40];

		fwd_state_read(ifnames[i], &st);
		for (int v6 = 0; v6 <= 1; v6++) {
			const char *dir = v6 ? "ipv6" : "ipv4";

			if (!(v6 ? st.has_v6 : st.has_v4) || (v6 ? st.v6 : st.v4) != 0)
				continue;
			sysctl_name(name, sizeof(name), dir, ifnames[i]);
			if (next_hops)
				pr_warn("interface `%s': %s is 0, so bpf_fib_lookup answers "
					"FWD_DISABLED for %s transport arriving there: XDP forwards "
					"it with next hops the agent resolves over netlink (each "
					"destination's first packets, and any whose neighbour is "
					"unresolved, go through the agent); `sysctl -w %s=1' lets the "
					"kernel's FIB answer instead",
					ifnames[i], name, v6 ? "IPv6" : "IPv4", name);
			else
				pr_warn("interface `%s': %s is 0, so XDP cannot forward %s transport "
					"arriving there (bpf_fib_lookup answers FWD_DISABLED) and the "
					"agent forwards every packet instead, many times slower; set "
					"`sysctl -w %s=1' to use the XDP fast path",
					ifnames[i], name, v6 ? "IPv6" : "IPv4", name);
			warned++;
		}
	}
	return warned;
}

static const char *onoff(int v)
{
	return v > 0 ? "on" : v == 0 ? "off" : "unknown";
}

void fwd_print_devmap(int devmap_fd)
{
	__u32 key, next, *prev = NULL;

	while (bpf_map_get_next_key(devmap_fd, prev, &next) == 0) {
		char ifname[IF_NAMESIZE];
		struct fwd_state st;

		key = next;
		prev = &key;
		if (!if_indextoname(key, ifname))
			continue;
		fwd_state_read(ifname, &st);
		if (!fwd_state_off(&st))
			continue;
		printf("interface %s: forwarding ipv4 %s, ipv6 %s: XDP forwards transport arriving "
		       "there with the agent's next hops, not the kernel's FIB (turn the forwarding "
		       "sysctl on for that)\n",
		       ifname, st.has_v4 ? onoff(st.v4) : "n/a", st.has_v6 ? onoff(st.v6) : "n/a");
	}
}

static void json_family(cJSON *o, const char *key, bool has, int v)
{
	if (!has)
		cJSON_AddNullToObject(o, key);
	else if (v < 0)
		cJSON_AddStringToObject(o, key, "unknown");
	else
		cJSON_AddBoolToObject(o, key, v);
}

cJSON *fwd_json_devmap(int devmap_fd)
{
	cJSON *arr = cJSON_CreateArray();
	__u32 key, next, *prev = NULL;

	while (bpf_map_get_next_key(devmap_fd, prev, &next) == 0) {
		char ifname[IF_NAMESIZE];
		struct fwd_state st;
		cJSON *o;

		key = next;
		prev = &key;
		if (!if_indextoname(key, ifname))
			continue;
		fwd_state_read(ifname, &st);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "interface", ifname);
		json_family(o, "ipv4_forwarding", st.has_v4, st.v4);
		json_family(o, "ipv6_forwarding", st.has_v6, st.v6);
		cJSON_AddBoolToObject(o, "xdp_can_forward", !fwd_state_off(&st));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}
