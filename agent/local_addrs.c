// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "local_addrs.h"
#include "log.h"

#define NL_BUF 32768
#define DUMP_TIMEOUT_MS 2000

/* IPv4 entries compare by their address word only, as XDP does. */
static bool addr_eq(const uint32_t a[4], const uint32_t b[4])
{
	return !memcmp(a, b, 4 * sizeof(uint32_t));
}

static void key_from_ep(uint32_t key[4], const struct xwgp_ep *ep)
{
	memcpy(key, ep->addr, 4 * sizeof(uint32_t));
	if (ep->family == XWGP_FAMILY_IPV4) {
		key[0] = key[1] = 0;
		key[2] = htonl(0xffff);
	}
}

static uint32_t kind_of(const struct local_addrs *la, const uint32_t key[4])
{
	uint32_t kind = 0;

	for (size_t i = 0; i < la->n; i++) {
		if (!addr_eq(la->v[i].addr, key))
			continue;
		if (la->v[i].kind == XWGP_LOCAL_ADDR)
			return XWGP_LOCAL_ADDR; /* ours wins over a broadcast role */
		kind = la->v[i].kind;
	}
	return kind;
}

/* Mirror the table's answer for one address into the XDP map. */
static void map_sync(const struct local_addrs *la, const uint32_t key[4])
{
	struct xwgp_local_key k;
	uint32_t kind = kind_of(la, key);

	if (la->map_fd < 0)
		return;
	memcpy(k.addr, key, sizeof(k.addr));
	if (!kind) {
		bpf_map_delete_elem(la->map_fd, &k);
		return;
	}
	if (bpf_map_update_elem(la->map_fd, &k, &kind, BPF_ANY))
		pr_warn("local address map: %s", strerror(errno));
}

int local_addrs_change(struct local_addrs *la, const uint32_t addr[4], uint32_t ifindex,
		       uint32_t kind, uint32_t owner, bool add)
{
	size_t i;

	/* XDP's dst_local() trusts the map: never one of ours (netlink has none). */
	if (kind == XWGP_LOCAL_ADDR && xwgp_dst_never_ours(XWGP_FAMILY_IPV6, addr))
		return -EINVAL;
	for (i = 0; i < la->n; i++)
		if (la->v[i].ifindex == ifindex && la->v[i].kind == kind &&
		    la->v[i].owner == owner && addr_eq(la->v[i].addr, addr))
			break;
	if (!add) {
		if (i == la->n)
			return 0;
		la->v[i] = la->v[--la->n];
		map_sync(la, addr);
		return 0;
	}
	if (i < la->n)
		return 0; /* already known (a dump and an event both said so) */
	if (la->n == XWGP_LOCAL_ADDRS_MAX) {
		if (!la->full_warned)
			pr_warn("more than %d local addresses: the rest are not served by a wildcard",
				XWGP_LOCAL_ADDRS_MAX);
		la->full_warned = true;
		return -ENOSPC;
	}
	if (la->n == la->cap) {
		size_t cap = la->cap ? la->cap * 2 : 16;
		struct local_addr *v = realloc(la->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		la->v = v;
		la->cap = cap;
	}
	la->v[la->n].ifindex = ifindex;
	la->v[la->n].kind = kind;
	la->v[la->n].owner = owner;
	memcpy(la->v[la->n].addr, addr, sizeof(la->v[la->n].addr));
	la->n++;
	map_sync(la, addr);
	return 0;
}

uint32_t local_addrs_kind(const struct local_addrs *la, const struct xwgp_ep *ep)
{
	uint32_t key[4];

	if (!la || ep->family == XWGP_FAMILY_NONE)
		return 0;
	key_from_ep(key, ep);
	return kind_of(la, key);
}

enum xwgp_martian local_addrs_martian(const struct local_addrs *la, const struct xwgp_ep *src)
{
	enum xwgp_martian m = xwgp_martian_static(src->family, src->addr, src->port);

	return m != XWGP_MARTIAN_NONE ? m : xwgp_martian_kind(local_addrs_kind(la, src));
}

bool local_addrs_claims(const struct local_addrs *la, const struct xwgp_ep *cfg,
			const struct xwgp_ep *dst)
{
	if (dst->family == XWGP_FAMILY_NONE)
		return true;
	if (cfg->family != XWGP_FAMILY_NONE) {
		if (cfg->family != dst->family)
			return false;
		if (dst->family == XWGP_FAMILY_IPV4)
			return cfg->addr[3] == dst->addr[3];
		return !memcmp(cfg->addr, dst->addr, sizeof(cfg->addr));
	}
	if (xwgp_dst_never_ours(dst->family, dst->addr))
		return false;
	/* Without a table (unit tests) the socket's delivery is all we know. */
	return !la || local_addrs_kind(la, dst) == XWGP_LOCAL_ADDR;
}

/* ---- netlink --------------------------------------------------------------- */

static void on_addr_msg(struct local_addrs *la, const struct nlmsghdr *nh)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	const struct rtattr *rta;
	const void *local = NULL, *address = NULL, *bcast = NULL;
	bool add = nh->nlmsg_type == RTM_NEWADDR;
	int len = (int)IFA_PAYLOAD(nh);
	uint32_t key[4] = { 0, 0, 0, 0 }, owner = 0;
	size_t alen;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return;
	if (ifa->ifa_family == AF_INET)
		alen = 4;
	else if (ifa->ifa_family == AF_INET6)
		alen = 16;
	else
		return;
	for (rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (RTA_PAYLOAD(rta) != alen)
			continue;
		if (rta->rta_type == IFA_LOCAL)
			local = RTA_DATA(rta);
		else if (rta->rta_type == IFA_ADDRESS)
			address = RTA_DATA(rta);
		else if (rta->rta_type == IFA_BROADCAST)
			bcast = RTA_DATA(rta);
	}
	/* IPv4 point-to-point: IFA_ADDRESS is the peer's, IFA_LOCAL ours. */
	if (!local)
		local = address;
	if (alen == 4)
		key[2] = htonl(0xffff);
	if (local) {
		memcpy(alen == 4 ? &key[3] : key, local, alen);
		local_addrs_change(la, key, ifa->ifa_index, XWGP_LOCAL_ADDR, 0, add);
		if (alen == 4)
			owner = key[3];
	}
	if (bcast && alen == 4) {
		memcpy(&key[3], bcast, 4);
		local_addrs_change(la, key, ifa->ifa_index, XWGP_LOCAL_BROADCAST, owner, add);
	}
	/*
	 * The subnet's directed broadcast, whether or not `brd' was given
	 * (`ip addr add A/24' sets none): no host sends from it.
	 */
	if (local && alen == 4 && ifa->ifa_prefixlen && ifa->ifa_prefixlen <= 30) {
		uint32_t a;

		memcpy(&a, local, 4);
		key[3] = htonl(ntohl(a) | (0xffffffffu >> ifa->ifa_prefixlen));
		local_addrs_change(la, key, ifa->ifa_index, XWGP_LOCAL_BROADCAST, owner, add);
	}
}

/* NLMSG_OK without its int/unsigned comparison (clang -Wsign-compare). */
static bool nl_msg_ok(const struct nlmsghdr *nh, size_t len)
{
	return len >= sizeof(*nh) && nh->nlmsg_len >= sizeof(*nh) && nh->nlmsg_len <= len;
}

/* NLMSG_NEXT whose remaining length cannot wrap below zero (size_t). */
static const struct nlmsghdr *nl_msg_next(const struct nlmsghdr *nh, size_t *len)
{
	size_t step = NLMSG_ALIGN(nh->nlmsg_len);

	step = step < *len ? step : *len;
	*len -= step;
	return (const struct nlmsghdr *)((const char *)nh + step);
}

/* Process one buffer of messages; 1 when the dump is done, 0 if not, -errno. */
static int on_buf(struct local_addrs *la, const void *buf, ssize_t n)
{
	const struct nlmsghdr *nh;
	size_t len = n > 0 ? (size_t)n : 0;

	for (nh = buf; nl_msg_ok(nh, len); nh = nl_msg_next(nh, &len)) {
		if (nh->nlmsg_type == NLMSG_DONE)
			return 1;
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);

			return e->error ? e->error : 1;
		}
		if (nh->nlmsg_type == RTM_NEWADDR || nh->nlmsg_type == RTM_DELADDR)
			on_addr_msg(la, nh);
		else if (la->hook && la->hook->msg)
			la->hook->msg(la->hook->ctx, nh);
	}
	return 0;
}

/* Every address now (on its own socket: the event socket keeps its queue). */
static int dump(struct local_addrs *la)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETADDR,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.ifa = { .ifa_family = AF_UNSPEC },
	};
	char *buf = malloc(NL_BUF);
	int fd, ret = 0;

	if (!buf)
		return -ENOMEM;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	if (send(fd, &req, sizeof(req), 0) < 0)
		ret = -errno;
	while (!ret) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, DUMP_TIMEOUT_MS) <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		n = recv(fd, buf, NL_BUF, 0);
		if (n < 0) {
			ret = -errno;
			break;
		}
		ret = on_buf(la, buf, n);
	}
	close(fd);
	free(buf);
	return ret < 0 ? ret : 0;
}

static void clear(struct local_addrs *la)
{
	while (la->n) {
		uint32_t key[4];

		memcpy(key, la->v[la->n - 1].addr, sizeof(key));
		la->n--;
		map_sync(la, key);
	}
}

int local_addrs_open(struct local_addrs *la, int map_fd)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };
	int err;

	memset(la, 0, sizeof(*la));
	la->map_fd = map_fd;
	/* Subscribed before the dump: an address added meanwhile is not missed. */
	la->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (la->nl_fd < 0)
		return -errno;
	if (bind(la->nl_fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		goto fail;
	}
	err = dump(la);
	if (err)
		goto fail;
	pr_debug("%zu local address entries", la->n);
	return 0;
fail:
	pr_err("reading the local addresses (netlink): %s", strerror(-err));
	local_addrs_close(la);
	return err;
}

void local_addrs_update(struct local_addrs *la)
{
	char *buf = malloc(NL_BUF);
	ssize_t n;

	if (!buf)
		return;
	for (;;) {
		n = recv(la->nl_fd, buf, NL_BUF, 0);
		if (n > 0) {
			on_buf(la, buf, n);
			continue;
		}
		if (n < 0 && errno == ENOBUFS) {
			/* Events were lost: start over from what the kernel has now. */
			pr_warn("local address events overflowed: reloading them");
			if (la->hook && la->hook->lost)
				la->hook->lost(la->hook->ctx);
			clear(la);
			if (dump(la))
				pr_warn("reloading the local addresses failed");
			continue;
		}
		break; /* EAGAIN: drained */
	}
	free(buf);
	if (la->hook && la->hook->done)
		la->hook->done(la->hook->ctx);
}

int local_addrs_watch_routes(struct local_addrs *la, const struct local_nl_hook *hook)
{
	static const int groups[] = { RTNLGRP_NEIGH, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE };

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (setsockopt(la->nl_fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i],
			       sizeof(groups[i])))
			return -errno;
	la->hook = hook;
	return 0;
}

void local_addrs_close(struct local_addrs *la)
{
	if (la->nl_fd >= 0)
		close(la->nl_fd);
	la->nl_fd = -1;
	free(la->v);
	la->v = NULL;
	la->n = la->cap = 0;
}
