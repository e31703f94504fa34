// SPDX-License-Identifier: GPL-2.0
/*
 * Next hops the XDP program uses where the host does not forward (see
 * nexthop.h). Requests go over a netlink socket of their own, answered
 * before the call returns (like local_addrs.c's dump); the change events
 * arrive on local_addrs.c's subscribed socket, in the agent's one loop.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/if_ether.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "log.h"
#include "nexthop.h"

#define NH_BUF 8192
/* The kernel's NUD_VALID (include/net/neighbour.h): what bpf_fib_lookup() accepts. */
#define NH_NUD_VALID                                                                       \
	(NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY)
#define NH_TIMEOUT_MS 200

static bool is_v4(const uint32_t a[4])
{
	return !a[0] && !a[1] && a[2] == htonl(0xffff);
}

static void key_from_ep(uint32_t key[4], const struct xwgp_ep *ep)
{
	memcpy(key, ep->addr, 4 * sizeof(uint32_t));
	if (ep->family == XWGP_FAMILY_IPV4) {
		key[0] = key[1] = 0;
		key[2] = htonl(0xffff);
	}
}

int nexthops_init(struct nexthops *t, int map_fd)
{
	memset(t, 0, sizeof(*t));
	t->map_fd = map_fd;
	t->q_fd = -1;
	if (map_fd < 0)
		return 0;
	t->q_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (t->q_fd < 0) {
		t->map_fd = -1;
		return -errno;
	}
	return 0;
}

static void map_del(struct nexthops *t, struct nexthop_dest *d)
{
	struct xwgp_nexthop_key k;

	if (!d->in_map)
		return;
	memcpy(k.addr, d->addr, sizeof(k.addr));
	bpf_map_delete_elem(t->map_fd, &k);
	d->in_map = false;
}

void nexthops_fini(struct nexthops *t)
{
	for (size_t i = 0; i < t->n; i++)
		map_del(t, &t->v[i]);
	if (t->q_fd >= 0)
		close(t->q_fd);
	free(t->v);
	memset(t, 0, sizeof(*t));
	t->map_fd = t->q_fd = -1;
}

static void attr_put(struct nlmsghdr *nh, uint16_t type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* Send req, copy the answer of type want into buf: its length, or -errno. */
static int request(struct nexthops *t, struct nlmsghdr *req, uint16_t want, char *buf)
{
	req->nlmsg_flags = NLM_F_REQUEST;
	req->nlmsg_seq = ++t->seq;
	if (send(t->q_fd, req, req->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		struct pollfd pfd = { .fd = t->q_fd, .events = POLLIN };
		const struct nlmsghdr *nh;
		ssize_t n;
		size_t len;

		if (poll(&pfd, 1, NH_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
		n = recv(t->q_fd, buf, NH_BUF, 0);
		if (n < 0)
			return -errno;
		len = (size_t)n;
		for (nh = (void *)buf; len >= sizeof(*nh) && nh->nlmsg_len >= sizeof(*nh) &&
				       nh->nlmsg_len <= len;
		     len -= NLMSG_ALIGN(nh->nlmsg_len) < len ? NLMSG_ALIGN(nh->nlmsg_len) : len,
		     nh = (const void *)((const char *)nh + NLMSG_ALIGN(nh->nlmsg_len))) {
			if (nh->nlmsg_seq != t->seq)
				continue; /* an answer to an earlier request that timed out */
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				return e->error ? e->error : -ENOENT;
			}
			if (nh->nlmsg_type == want) {
				memmove(buf, nh, nh->nlmsg_len);
				return (int)nh->nlmsg_len;
			}
		}
	}
}

struct route_answer {
	uint32_t ifindex;
	uint32_t via[4];
	uint32_t mtu; /* 0: the device's */
};

static int route_get(struct nexthops *t, const uint32_t dst[4], struct route_answer *r, char *buf)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rtm;
		char attrs[64];
	} req = { .nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
			  .nlmsg_type = RTM_GETROUTE } };
	bool v4 = is_v4(dst);
	const struct nlmsghdr *nh = (const void *)buf;
	const struct rtmsg *rtm;
	const struct rtattr *rta;
	int len, alen = v4 ? 4 : 16;

	req.rtm.rtm_family = v4 ? AF_INET : AF_INET6;
	req.rtm.rtm_dst_len = v4 ? 32 : 128;
	attr_put(&req.nh, RTA_DST, v4 ? &dst[3] : dst, (size_t)alen);
	len = request(t, &req.nh, RTM_NEWROUTE, buf);
	if (len < 0)
		return len;
	rtm = NLMSG_DATA(nh);
	/* Local, broadcast, blackhole...: nothing XDP may send to. */
	if (rtm->rtm_type != RTN_UNICAST)
		return -ENETUNREACH;
	memset(r, 0, sizeof(*r));
	memcpy(r->via, dst, sizeof(r->via));
	len = (int)RTM_PAYLOAD(nh);
	for (rta = RTM_RTA(rtm); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == RTA_OIF && RTA_PAYLOAD(rta) == 4) {
			memcpy(&r->ifindex, RTA_DATA(rta), 4);
		} else if (rta->rta_type == RTA_GATEWAY && (int)RTA_PAYLOAD(rta) == alen) {
			memcpy(v4 ? &r->via[3] : r->via, RTA_DATA(rta), (size_t)alen);
		} else if (rta->rta_type == RTA_VIA || rta->rta_type == RTA_MULTIPATH ||
			   rta->rta_type == RTA_ENCAP) {
			return -EOPNOTSUPP; /* another family's gateway, ECMP, tunnels: the stack */
		} else if (rta->rta_type == RTA_METRICS) {
			const struct rtattr *m = RTA_DATA(rta);
			int mlen = (int)RTA_PAYLOAD(rta);

			for (; RTA_OK(m, mlen); m = RTA_NEXT(m, mlen))
				if (m->rta_type == RTAX_MTU && RTA_PAYLOAD(m) == 4)
					memcpy(&r->mtu, RTA_DATA(m), 4);
		}
	}
	return r->ifindex ? 0 : -ENETUNREACH;
}

/* The next hop's MAC, when the kernel holds a usable neighbour entry (NUD_VALID, as the FIB). */
static int neigh_get(struct nexthops *t, uint32_t ifindex, const uint32_t via[4],
		     uint8_t mac[ETH_ALEN], char *buf)
{
	struct {
		struct nlmsghdr nh;
		struct ndmsg nd;
		char attrs[64];
	} req = { .nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
			  .nlmsg_type = RTM_GETNEIGH } };
	bool v4 = is_v4(via);
	const struct nlmsghdr *nh = (const void *)buf;
	const struct ndmsg *nd;
	const struct rtattr *rta;
	bool found = false;
	int len;

	req.nd.ndm_family = v4 ? AF_INET : AF_INET6;
	req.nd.ndm_ifindex = (int)ifindex;
	attr_put(&req.nh, NDA_DST, v4 ? &via[3] : via, v4 ? 4 : 16);
	len = request(t, &req.nh, RTM_NEWNEIGH, buf);
	if (len < 0)
		return len;
	nd = NLMSG_DATA(nh);
	if (!(nd->ndm_state & NH_NUD_VALID))
		return -EHOSTUNREACH;
	len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
	for (rta = (const void *)((const char *)nd + NLMSG_ALIGN(sizeof(*nd))); RTA_OK(rta, len);
	     rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == NDA_LLADDR && RTA_PAYLOAD(rta) == ETH_ALEN) {
			memcpy(mac, RTA_DATA(rta), ETH_ALEN);
			found = true;
		}
	}
	return found ? 0 : -EHOSTUNREACH;
}

/* The egress device's MAC (Ethernet only: what XDP can send on) and MTU. */
static int dev_get(struct nexthops *t, uint32_t ifindex, uint8_t mac[ETH_ALEN], uint32_t *mtu)
{
	struct ifreq ifr = { 0 };

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return -ENODEV;
	if (ioctl(t->q_fd, SIOCGIFHWADDR, &ifr))
		return -errno;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -EOPNOTSUPP;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	if (ioctl(t->q_fd, SIOCGIFMTU, &ifr))
		return -errno;
	*mtu = (uint32_t)ifr.ifr_mtu;
	return 0;
}

int nexthops_resolve(struct nexthops *t, struct nexthop_dest *d, uint64_t now)
{
	struct xwgp_nexthop v = { .resolved_ns = now };
	struct xwgp_nexthop_key k;
	struct route_answer r;
	uint32_t mtu = 0;
	char *buf;
	int err;

	if (t->map_fd < 0)
		return -ENOTCONN;
	buf = malloc(NH_BUF);
	if (!buf)
		return -ENOMEM;
	d->tried_ns = now;
	err = route_get(t, d->addr, &r, buf);
	if (!err) {
		d->ifindex = r.ifindex;
		memcpy(d->via, r.via, sizeof(d->via));
		err = neigh_get(t, r.ifindex, r.via, v.dmac, buf);
	}
	err = err ?: dev_get(t, r.ifindex, v.smac, &mtu);
	free(buf);
	if (err) {
		/* Whatever the map said may be wrong now: the agent's socket carries it. */
		map_del(t, d);
		return err;
	}
	if (r.mtu && r.mtu < mtu)
		mtu = r.mtu;
	v.ifindex = r.ifindex;
	v.mtu = mtu > 0xffff ? 0xffff : (uint16_t)mtu;
	memcpy(k.addr, d->addr, sizeof(k.addr));
	if (bpf_map_update_elem(t->map_fd, &k, &v, BPF_ANY)) {
		err = -errno;
		map_del(t, d);
		return err;
	}
	d->in_map = true;
	return 0;
}

static struct nexthop_dest *find(struct nexthops *t, const uint32_t addr[4])
{
	for (size_t i = 0; i < t->n; i++)
		if (!memcmp(t->v[i].addr, addr, sizeof(t->v[i].addr)))
			return &t->v[i];
	return NULL;
}

void nexthops_want(struct nexthops *t, const struct xwgp_ep *dst, uint64_t now)
{
	struct nexthop_dest *d;
	uint32_t key[4];

	if (t->map_fd < 0 || dst->family == XWGP_FAMILY_NONE)
		return;
	key_from_ep(key, dst);
	d = find(t, key);
	if (!d) {
		if (t->n == XWGP_NEXTHOP_MAX)
			return;
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 16;
			struct nexthop_dest *v = realloc(t->v, cap * sizeof(*v));

			if (!v)
				return;
			t->v = v;
			t->cap = cap;
		}
		d = &t->v[t->n++];
		memset(d, 0, sizeof(*d));
		memcpy(d->addr, key, sizeof(d->addr));
	}
	d->wanted_ns = now;
	/*
	 * Unresolved (no neighbour yet): the socket send resolves it; retry
	 * soon, not per packet. In the map but punted anyway: XDP found it
	 * too old, unless nexthops_tick() refreshed it lately.
	 */
	if (!d->tried_ns ||
	    now - d->tried_ns >= (d->in_map ? XWGP_NEXTHOP_REFRESH_NS : NEXTHOPS_RETRY_NS)) {
		int err = nexthops_resolve(t, d, now);

		if (err)
			pr_debug("next hop: not yet (%s)", strerror(-err));
	}
}

void nexthops_tick(struct nexthops *t, uint64_t now)
{
	size_t i = 0;

	while (i < t->n) {
		struct nexthop_dest *d = &t->v[i];

		if (now - d->wanted_ns > NEXTHOPS_IDLE_NS) {
			map_del(t, d);
			*d = t->v[--t->n];
			continue;
		}
		if (d->in_map && now - d->tried_ns >= XWGP_NEXTHOP_REFRESH_NS / 2)
			nexthops_resolve(t, d, now);
		i++;
	}
}

static void mark(struct nexthops *t, struct nexthop_dest *d)
{
	map_del(t, d);
	d->dirty = true;
	t->any_dirty = true;
}

void nexthops_lost(struct nexthops *t)
{
	for (size_t i = 0; i < t->n; i++)
		mark(t, &t->v[i]);
}

static void on_neigh(struct nexthops *t, const struct nlmsghdr *nh)
{
	const struct ndmsg *nd = NLMSG_DATA(nh);
	const struct rtattr *rta;
	uint32_t via[4] = { 0, 0, 0, 0 };
	int len;
	bool have = false;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*nd)) ||
	    (nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6))
		return;
	len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
	for (rta = (const void *)((const char *)nd + NLMSG_ALIGN(sizeof(*nd))); RTA_OK(rta, len);
	     rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type != NDA_DST)
			continue;
		if (nd->ndm_family == AF_INET && RTA_PAYLOAD(rta) == 4) {
			via[2] = htonl(0xffff);
			memcpy(&via[3], RTA_DATA(rta), 4);
			have = true;
		} else if (nd->ndm_family == AF_INET6 && RTA_PAYLOAD(rta) == 16) {
			memcpy(via, RTA_DATA(rta), 16);
			have = true;
		}
	}
	if (!have)
		return;
	/* Any change of a next hop we use (a new MAC, gone, failed): resolve it again. */
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].ifindex == (uint32_t)nd->ndm_ifindex &&
		    !memcmp(t->v[i].via, via, sizeof(via)))
			mark(t, &t->v[i]);
}

void nexthops_on_msg(struct nexthops *t, const struct nlmsghdr *nh)
{
	if (t->map_fd < 0 || !t->n)
		return;
	switch (nh->nlmsg_type) {
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		on_neigh(t, nh);
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE: {
		const struct rtmsg *rtm = NLMSG_DATA(nh);

		/* IPv6 route exceptions (PMTU) are not routing changes. */
		if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(*rtm)) && (rtm->rtm_flags & RTM_F_CLONED))
			break;
		/* Which destinations a route covers is the kernel's business: all of them again. */
		nexthops_lost(t);
		break;
	}
	default:
		break;
	}
}

void nexthops_settle(struct nexthops *t, uint64_t now)
{
	if (!t->any_dirty)
		return;
	t->any_dirty = false;
	for (size_t i = 0; i < t->n; i++) {
		if (!t->v[i].dirty)
			continue;
		t->v[i].dirty = false;
		nexthops_resolve(t, &t->v[i], now);
	}
}
