/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared setup of the BPF test suites: a private network namespace (unshare
 * at first use) with the caller's topology commands, the xwgp skeleton
 * loaded (not pinned, not attached), its map fds, BPF_PROG_TEST_RUN with
 * the change of the stats map, and Ethernet/IP/UDP frames built and parsed
 * with checksums computed in full (never by the program's incremental rule).
 *
 *   static const char *const topo[] = { "ip link add ...", ... };
 *   TEST(x) { BPF_ENV_REQUIRE(topo); ... bpf_env_run(&in, &res) ... }
 *
 * Environment problems (not root, no netns) skip; a program that does not
 * load fails.
 */
#ifndef XWGP_TEST_BPF_ENV_H
#define XWGP_TEST_BPF_ENV_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_loader.h"
#include "test.h"
#include "xwgp.skel.h"
#include "xwgp_abi.h"

#define BPF_ENV_FRAME_CAP 4096

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

static inline enum bpf_env_state bpf_env_up(const char *const *cmds, size_t n)
{
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
	if (bpf_env_sysctl("/proc/sys/net/ipv4/ip_forward", "1") ||
	    bpf_env_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1"))
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
	return bpf_env.state = BPF_ENV_READY;
}

#define BPF_ENV_REQUIRE(cmds)                                                                      \
	do {                                                                                       \
		enum bpf_env_state st__ = bpf_env_up(cmds, sizeof(cmds) / sizeof(cmds[0]));       \
		if (st__ == BPF_ENV_SKIP)                                                          \
			SKIP("%s", bpf_env.why);                                                   \
		CHECK(st__ == BPF_ENV_READY, "%s", bpf_env.why);                                   \
	} while (0)

/* ---- endpoints ----------------------------------------------------------- */

/* An IP literal (a ':' makes it IPv6) and a port; NULL ip: family NONE. */
static inline struct xwgp_ep bpf_env_ep(const char *ip, uint16_t port)
{
	struct xwgp_ep e = { .port = htons(port) };

	if (!ip)
		return e;
	if (strchr(ip, ':')) {
		inet_pton(AF_INET6, ip, e.addr);
		e.family = XWGP_FAMILY_IPV6;
	} else {
		e.addr[2] = htonl(0xffff);
		inet_pton(AF_INET, ip, &e.addr[3]);
		e.family = XWGP_FAMILY_IPV4;
	}
	return e;
}

static inline bool bpf_env_ep_eq(const struct xwgp_ep *a, const struct xwgp_ep *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static inline const char *bpf_env_ep_str(const struct xwgp_ep *e, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "-";

	if (e->family == XWGP_FAMILY_IPV4)
		inet_ntop(AF_INET, &e->addr[3], ip, sizeof(ip));
	else if (e->family == XWGP_FAMILY_IPV6)
		inet_ntop(AF_INET6, e->addr, ip, sizeof(ip));
	snprintf(buf, len, "%s:%u", ip, ntohs(e->port));
	return buf;
}

/* ---- frames -------------------------------------------------------------- */

struct bpf_env_frame {
	uint8_t b[BPF_ENV_FRAME_CAP];
	size_t len;
};

/* RFC 1071 sum of big-endian 16-bit words. */
static inline uint32_t bpf_env_sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static inline uint16_t bpf_env_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static inline void bpf_env_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline uint32_t bpf_env_pseudo(const uint8_t *ip, bool v6, uint16_t ulen)
{
	uint8_t tail[4] = { 0, IPPROTO_UDP, ulen >> 8, ulen };

	if (v6)
		return bpf_env_sum16(ip + 8, 32, ulen + IPPROTO_UDP);
	return bpf_env_sum16(tail, 4, bpf_env_sum16(ip + 12, 8, 0));
}

struct bpf_env_frame_opts {
	bool no_udp_csum; /* IPv4: UDP checksum 0 ("none") */
	size_t pad;	  /* link-layer bytes after the IP datagram */
};

/* Ethernet + IP + UDP around payload, checksums in full; src and dst of one family. */
static inline void bpf_env_build(struct bpf_env_frame *f, const struct xwgp_ep *src,
				 const struct xwgp_ep *dst, const uint8_t *payload, size_t plen,
				 const struct bpf_env_frame_opts *o)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0xc, 1 };
	bool v6 = src->family == XWGP_FAMILY_IPV6;
	uint16_t ulen = 8 + plen, c;
	uint8_t *ip = f->b + 14, *udp;

	memset(f, 0, sizeof(*f));
	memcpy(f->b, macs, 12);
	bpf_env_put16(f->b + 12, v6 ? 0x86dd : 0x0800);
	if (v6) {
		ip[0] = 0x60;
		bpf_env_put16(ip + 4, ulen);
		ip[6] = IPPROTO_UDP;
		ip[7] = 55;
		memcpy(ip + 8, src->addr, 16);
		memcpy(ip + 24, dst->addr, 16);
		udp = ip + 40;
	} else {
		ip[0] = 0x45;
		bpf_env_put16(ip + 2, 20 + ulen);
		bpf_env_put16(ip + 6, 0x4000);
		ip[8] = 55;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, &src->addr[3], 4);
		memcpy(ip + 16, &dst->addr[3], 4);
		bpf_env_put16(ip + 10, ~bpf_env_fold(bpf_env_sum16(ip, 20, 0)));
		udp = ip + 20;
	}
	memcpy(udp, &src->port, 2);
	memcpy(udp + 2, &dst->port, 2);
	bpf_env_put16(udp + 4, ulen);
	memcpy(udp + 8, payload, plen);
	if (!(o && o->no_udp_csum && !v6)) {
		c = ~bpf_env_fold(bpf_env_sum16(udp, ulen, bpf_env_pseudo(ip, v6, ulen)));
		bpf_env_put16(udp + 6, c ? c : 0xffff);
	}
	f->len = (size_t)(udp - f->b) + ulen + (o ? o->pad : 0);
}

/* What a frame carries, every length and checksum checked from scratch. */
struct bpf_env_parsed {
	struct xwgp_ep src, dst;
	const uint8_t *payload;
	size_t len;
	bool udp_csum_zero;
	char bad[128]; /* empty when every length and checksum is right */
};

static inline void bpf_env_parse(const struct bpf_env_frame *f, struct bpf_env_parsed *p)
{
	const uint8_t *ip = f->b + 14, *udp;
	bool v6 = f->b[12] == 0x86;
	uint16_t ulen;

	memset(p, 0, sizeof(*p));
	p->src.family = p->dst.family = v6 ? XWGP_FAMILY_IPV6 : XWGP_FAMILY_IPV4;
	if (v6) {
		memcpy(p->src.addr, ip + 8, 16);
		memcpy(p->dst.addr, ip + 24, 16);
		udp = ip + 40;
	} else {
		p->src.addr[2] = p->dst.addr[2] = htonl(0xffff);
		memcpy(&p->src.addr[3], ip + 12, 4);
		memcpy(&p->dst.addr[3], ip + 16, 4);
		udp = ip + 20;
	}
	ulen = udp[4] << 8 | udp[5];
	memcpy(&p->src.port, udp, 2);
	memcpy(&p->dst.port, udp + 2, 2);
	p->payload = udp + 8;
	p->len = ulen >= 8 ? ulen - 8u : 0;
	if ((size_t)(udp - f->b) + ulen != f->len)
		snprintf(p->bad, sizeof(p->bad), "UDP length %u, frame %zu", ulen, f->len);
	else if (v6 && (ip[4] << 8 | ip[5]) != ulen)
		snprintf(p->bad, sizeof(p->bad), "IPv6 payload length %u, UDP %u",
			 ip[4] << 8 | ip[5], ulen);
	else if (!v6 && (ip[2] << 8 | ip[3]) != 20 + ulen)
		snprintf(p->bad, sizeof(p->bad), "IPv4 total length %u, UDP %u",
			 ip[2] << 8 | ip[3], ulen);
	else if (!v6 && bpf_env_fold(bpf_env_sum16(ip, 20, 0)) != 0xffff)
		snprintf(p->bad, sizeof(p->bad), "bad IPv4 header checksum");
	if (p->bad[0])
		return;
	p->udp_csum_zero = !v6 && !udp[6] && !udp[7];
	if (!p->udp_csum_zero &&
	    bpf_env_fold(bpf_env_sum16(udp, ulen, bpf_env_pseudo(ip, v6, ulen))) != 0xffff)
		snprintf(p->bad, sizeof(p->bad), "bad UDP checksum");
}

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

static inline void bpf_env_stats(uint64_t *pk)
{
	struct xwgp_stat_val v[bpf_env.ncpus];

	for (uint32_t k = 0; k < XWGP_STAT__MAX; k++) {
		pk[k] = 0;
		if (!bpf_map_lookup_elem(bpf_env.maps.stats, &k, v))
			for (int c = 0; c < bpf_env.ncpus; c++)
				pk[k] += v[c].packets;
	}
}

struct bpf_env_result {
	int reason; /* the one reason counter that moved; -1 none, -2 several */
	uint32_t act;
	struct bpf_env_frame out;
};

/* One test run on ingress ifindex; 0 or -errno. */
static inline int bpf_env_run(const struct bpf_env_frame *in, int ifindex,
			      struct bpf_env_result *r)
{
	uint64_t before[XWGP_STAT__MAX], after[XWGP_STAT__MAX];
	struct xdp_md ctx = { .data_end = in->len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in->b, .data_size_in = in->len,
		    .data_out = r->out.b, .data_size_out = sizeof(r->out.b), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	bpf_env_stats(before);
	if (bpf_prog_test_run_opts(bpf_env.prog, &o))
		return -errno;
	bpf_env_stats(after);
	r->act = o.retval;
	r->out.len = o.data_size_out;
	r->reason = -1;
	for (int k = 0; k < XWGP_STAT__MAX; k++) {
		if (k == XWGP_STAT_RX || k == XWGP_STAT_PUNT_STACK || k == XWGP_STAT_PUNT_XSK ||
		    after[k] == before[k])
			continue;
		r->reason = r->reason == -1 && after[k] - before[k] == 1 ? k : -2;
	}
	return 0;
}

#endif /* XWGP_TEST_BPF_ENV_H */
