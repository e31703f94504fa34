// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP program (bpf/xwgp.bpf.c) under BPF_PROG_TEST_RUN, table-driven like
 * the kernel selftests: each case is a description, an input frame, the
 * expected action and reason counter, and the expected output frame (the
 * input itself when the packet must leave untouched).
 *
 * Expected frames are built from scratch by build() with checksums computed
 * over the whole header/datagram, never by replaying the program's
 * incremental updates; forwarded output is also re-verified by a full
 * checksum recomputation. Every case asserts the complete change of the
 * stats map (RX + exactly one reason, + PUNT_STACK/PUNT_XSK for punts) and
 * of the session counters.
 *
 * The test runs in its own network namespace (unshare at first use) with
 * veth devices, addresses and permanent neighbour entries, so
 * bpf_fib_lookup() has real answers:
 *   xv0 02:00:00:00:00:01  192.0.2.1/24, 2001:db8:1::1/64  (clients, backend A, in devmap)
 *       neighbours: 192.0.2.10/.11 and 2001:db8:1::10 (clients), 192.0.2.20 and
 *       2001:db8:1::20 (backend A); 192.0.2.30 has none
 *   xv2 02:00:00:00:00:02  198.51.100.1/24  backend B 198.51.100.20 (in devmap)
 *   xv4 02:00:00:00:00:04  203.0.113.1/25   backend D 203.0.113.20 (not in devmap);
 *       203.0.113.200 has no route
 */
#include <errno.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xdp/xsk.h>

#include "bpf_env.h"
#include "clock.h"
#include "cookie_guard.h"
#include "xwgp_hs_budget.h"
#include "xwgp_rl.h"
#include "test.h"
#include "wg_proto.h"

/*
 * The frame macros below (C2S_IN etc.) take designated initializers that
 * override their defaults, the way kernel tables do.
 */
#pragma GCC diagnostic ignored "-Woverride-init"
/* Case tables list their fields in order and leave trailing knobs zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define LISTEN_PORT   51820
#define UPSTREAM_PORT 40000
#define BACKEND_PORT  51821
#define IN_TTL	      17 /* any value but 64, so the TTL rewrite shows */
#define OUT_TTL	      64
#define ULL(x)	      ((unsigned long long)(x))

#define MAC_XV0	    "02:00:00:00:00:01"
#define MAC_XV2	    "02:00:00:00:00:02"
#define MAC_XV4	    "02:00:00:00:00:04"
#define MAC_CLIENT  "02:00:00:00:0c:01"
#define MAC_CLIENT2 "02:00:00:00:0c:02"
#define MAC_A	    "02:00:00:00:0a:01"
#define MAC_B	    "02:00:00:00:0b:01"
#define MAC_D	    "02:00:00:00:0d:01"
#define MAC_A_NEW   "02:00:00:00:0a:02" /* backend A's router after a failover */

/* Index numbering of test session n: origin and (translated) proxy indexes. */
#define CO(n) (0x0c000000u | (n)) /* client origin */
#define CP(n) (0x1c000000u | (n)) /* client proxy: the session key */
#define SO(n) (0x0a000000u | (n)) /* server origin */
#define SP(n) (0x1a000000u | (n)) /* server proxy */

/* ---- frames ---------------------------------------------------------------- */

struct spec {
	const char *smac, *dmac;
	const char *src, *dst; /* IP literals; a ':' makes it IPv6 */
	uint16_t sport, dport;
	uint16_t vlan_tpid, vlan_tci; /* one tag when tpid is set */
	uint16_t ethertype;	      /* override (e.g. ARP) */
	uint8_t ttl;		      /* 0: IN_TTL */
	uint8_t proto;		      /* 0: UDP */
	uint8_t ipopt;		      /* IPv4 option bytes, multiple of 4 */
	uint16_t frag;		      /* IPv4 frag_off (host order); 0: DF */
	bool exthdr;		      /* IPv6: a destination options header before the UDP header */
	bool exthdr_chain;	      /* with exthdr: hop-by-hop + fragment (offset: .frag) instead */
	bool no_csum;		      /* UDP checksum 0 */
	uint8_t type;		      /* WireGuard message type byte */
	uint8_t reserved;	      /* value of byte 1 (must be 0) */
	uint32_t receiver;	      /* LE u32 at offset 4 */
	uint16_t len;		      /* message length; 0: the type's size (transport 96) */
	bool empty;		      /* no UDP payload at all */
	uint8_t seed;		      /* body pattern */
	int udp_len_delta;	      /* damage: added to the UDP length field */
	size_t truncate;	      /* damage: cut the frame to this many bytes */
	bool zero_mac2;		      /* initiation: MAC2 (bytes 132..147) all zero */
	int8_t mac2_byte;	      /* with zero_mac2: 1 + index of a MAC2 byte set to 1 */
	/*
	 * The header XDP builds when the family changes (bpf/xlat.h): IPv4
	 * TOS .tos, ID 0, DF; IPv6 traffic class .tos, flow label 0.
	 */
	bool xlat_hdr;
	uint8_t tos;
};

static void parse_mac(uint8_t *out, const char *s)
{
	unsigned int m[6] = { 0 };

	sscanf(s ? s : "02:00:00:00:ff:ff", "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4],
	       &m[5]);
	for (int i = 0; i < 6; i++)
		out[i] = m[i];
}

static uint16_t default_len(uint8_t type)
{
	switch (type) {
	case WG_MSG_INITIATION:
		return WG_INIT_LEN;
	case WG_MSG_RESPONSE:
		return WG_RESP_LEN;
	case WG_MSG_COOKIE_REPLY:
		return WG_COOKIE_REPLY_LEN;
	default:
		return 96;
	}
}

static void build_msg(uint8_t *m, const struct spec *s, uint16_t len)
{
	for (size_t i = 0; i < len; i++)
		m[i] = (uint8_t)(i * 31 + s->seed + 7);
	if (len > 0)
		m[0] = s->type;
	if (len > 3)
		m[1] = s->reserved, m[2] = 0, m[3] = 0;
	if (len >= 8)
		put_le32(m + 4, s->receiver);
	if (s->zero_mac2 && len >= WG_INIT_LEN) {
		memset(m + WG_INIT_OFF_MAC2, 0, WG_MAC_LEN);
		if (s->mac2_byte)
			m[WG_INIT_OFF_MAC2 + s->mac2_byte - 1] = 1;
	}
}

/* Build a complete frame with all lengths and checksums computed in full. */
static void build(struct pkt_frame *f, const struct spec *s)
{
	bool v6 = strchr(s->src, ':');
	uint16_t mlen = s->empty ? 0 : s->len ? s->len : default_len(s->type);
	uint16_t ulen = 8 + mlen;
	uint8_t proto = s->proto ? s->proto : IPPROTO_UDP;
	uint8_t *p = f->b, *ip, *udp;
	size_t off = 12, l4;

	memset(f, 0, sizeof(*f));
	parse_mac(p, s->dmac);
	parse_mac(p + 6, s->smac);
	if (s->vlan_tpid) {
		pkt_put16(p + 12, s->vlan_tpid);
		pkt_put16(p + 14, s->vlan_tci);
		off = 16;
	}
	pkt_put16(p + off, s->ethertype ? s->ethertype : v6 ? 0x86dd : 0x0800);
	ip = p + off + 2;
	if (!v6) {
		uint8_t ihl = 5 + s->ipopt / 4;

		ip[0] = 0x40 | ihl;
		ip[1] = s->xlat_hdr ? s->tos : 0x28; /* TOS, carried into the FIB lookup */
		pkt_put16(ip + 2, ihl * 4 + ulen);
		pkt_put16(ip + 4, s->xlat_hdr ? 0 : 0x1234);
		pkt_put16(ip + 6, s->frag ? s->frag : 0x4000);
		ip[8] = s->ttl ? s->ttl : IN_TTL;
		ip[9] = proto;
		inet_pton(AF_INET, s->src, ip + 12);
		inet_pton(AF_INET, s->dst, ip + 16);
		memset(ip + 20, 1, s->ipopt); /* NOP options */
		pkt_put16(ip + 10, ~pkt_fold(pkt_sum16(ip, ihl * 4, 0)));
		l4 = ihl * 4;
	} else {
		ip[0] = 0x60;
		ip[1] = 0x01; /* flow label 0x12345 */
		ip[2] = 0x23;
		ip[3] = 0x45;
		if (s->xlat_hdr) {
			ip[0] = 0x60 | s->tos >> 4;
			ip[1] = (uint8_t)(s->tos << 4);
			ip[2] = ip[3] = 0;
		}
		pkt_put16(ip + 4, ulen + (s->exthdr ? 8 : 0));
		ip[6] = s->exthdr ? 60 : proto;
		ip[7] = s->ttl ? s->ttl : IN_TTL;
		inet_pton(AF_INET6, s->src, ip + 8);
		inet_pton(AF_INET6, s->dst, ip + 24);
		l4 = 40;
		if (s->exthdr && s->exthdr_chain) {
			/* Hop-by-hop (PadN) -> fragment (offset s->frag >> 3 units) -> UDP. */
			uint8_t hop[8] = { 44, 0, 1, 4, 0, 0, 0, 0 };
			uint8_t frag[8] = { proto, 0, (uint8_t)(s->frag >> 8), (uint8_t)s->frag,
					    0, 0, 0x12, 0x34 };

			ip[6] = 0;
			pkt_put16(ip + 4, ulen + 16);
			memcpy(ip + 40, hop, 8);
			memcpy(ip + 48, frag, 8);
			l4 += 16;
		} else if (s->exthdr) {
			uint8_t dopt[8] = { proto, 0, 1, 4, 0, 0, 0, 0 }; /* PadN */

			memcpy(ip + 40, dopt, 8);
			l4 += 8;
		}
	}
	udp = ip + l4;
	pkt_put16(udp, s->sport);
	pkt_put16(udp + 2, s->dport);
	pkt_put16(udp + 4, ulen);
	build_msg(udp + 8, s, mlen);
	if (proto == IPPROTO_UDP && !s->no_csum && !s->exthdr) {
		uint16_t c = ~pkt_fold(pkt_sum16(udp, ulen, pkt_pseudo(ip, v6, ulen)));

		pkt_put16(udp + 6, c ? c : 0xffff);
	}
	f->len = (size_t)(udp - p) + ulen;
	if (s->udp_len_delta)
		pkt_put16(udp + 4, ulen + s->udp_len_delta);
	if (s->truncate)
		f->len = s->truncate;
}

/* Full recomputation of the IPv4 header and UDP checksums of a frame. */
static int verify_csums(const uint8_t *f, size_t len, char *why, size_t why_len)
{
	size_t off = (f[12] == 0x81 || f[12] == 0x88) ? 18 : 14;
	bool v6 = f[off - 2] == 0x86;
	const uint8_t *ip = f + off, *udp;
	uint16_t ulen;

	if (!v6) {
		if (pkt_fold(pkt_sum16(ip, (ip[0] & 15) * 4, 0)) != 0xffff)
			return snprintf(why, why_len, "bad IPv4 header checksum"), -1;
		udp = ip + (ip[0] & 15) * 4;
	} else {
		udp = ip + 40;
	}
	ulen = udp[4] << 8 | udp[5];
	if ((size_t)(udp - f) + ulen > len)
		return snprintf(why, why_len, "UDP length beyond the frame"), -1;
	if (!v6 && !udp[6] && !udp[7])
		return 0;
	if (pkt_fold(pkt_sum16(udp, ulen, pkt_pseudo(ip, v6, ulen))) != 0xffff)
		return snprintf(why, why_len, "bad UDP checksum"), -1;
	return 0;
}

/* ---- environment --------------------------------------------------------- */

enum dev { DEV_XV0, DEV_XV2, DEV_XV4, DEV__MAX };
static const char *const dev_names[DEV__MAX] = { "xv0", "xv2", "xv4" };

/* What the suite keeps beside bpf_env: its devices and the config each case starts from. */
static struct {
	int ifindex[DEV__MAX];
	struct xwgp_cfg base_cfg;
} env;

static const char *const topo_cmds[] = {
	"ip link add xv0 address " MAC_XV0 " type veth peer name xv1",
	"ip link add xv2 address " MAC_XV2 " type veth peer name xv3",
	"ip link add xv4 address " MAC_XV4 " type veth peer name xv5",
	"for d in lo xv0 xv1 xv2 xv3 xv4 xv5; do ip link set $d up || exit 1; done",
	"ip addr add 192.0.2.1/24 dev xv0",
	"ip -6 addr add 2001:db8:1::1/64 dev xv0 nodad",
	"ip addr add 198.51.100.1/24 dev xv2",
	"ip addr add 203.0.113.1/25 dev xv4",
	"ip neigh add 192.0.2.10 lladdr " MAC_CLIENT " dev xv0 nud permanent",
	"ip neigh add 192.0.2.11 lladdr " MAC_CLIENT2 " dev xv0 nud permanent",
	"ip neigh add 192.0.2.20 lladdr " MAC_A " dev xv0 nud permanent",
	"ip -6 neigh add 2001:db8:1::10 lladdr " MAC_CLIENT " dev xv0 nud permanent",
	"ip -6 neigh add 2001:db8:1::20 lladdr " MAC_A " dev xv0 nud permanent",
	"ip neigh add 198.51.100.20 lladdr " MAC_B " dev xv2 nud permanent",
	"ip neigh add 203.0.113.20 lladdr " MAC_D " dev xv4 nud permanent",
};

/* Test sessions, numbered; see CO/CP/SO/SP for their indexes. */
enum {
	S_V4 = 1,  /* client 192.0.2.10:1111 (csvl 1) <-> backend A (ssvl 3), both on xv0 */
	S_V6,	   /* same over IPv6 */
	S_CSVL3,   /* client 192.0.2.10:2222, csvl 3 */
	S_CSVL2,   /* client 192.0.2.10:3333, csvl 2 */
	S_REDIR,   /* client on xv0 <-> backend B on xv2 (devmap) */
	S_NODEV,   /* backend D on xv4, not in the devmap */
	S_NONEIGH, /* backend 192.0.2.30: no neighbour entry */
	S_NOROUTE, /* backend 203.0.113.200: no route */
	S_UNEST,   /* no backend response yet */
	S_FAMILY,  /* IPv4 client, IPv6 backend */
	S_NOLOCAL, /* no local address towards the backend */
	S_SSVL1,   /* client 192.0.2.10:1212, backend A at ssvl 1 (may roam) */
	S_FAMILY6, /* IPv6 client, IPv4 backend */
	S__MAX
};

struct sess_def {
	const char *client;
	uint16_t cport;
	const char *client_local;
	const char *server;
	const char *server_local;
	uint8_t csvl, ssvl, flags;
};

static const struct sess_def sess_defs[S__MAX] = {
	[S_V4] = { "192.0.2.10", 1111, "192.0.2.1", "192.0.2.20", "192.0.2.1", 1, 3, 1 },
	[S_V6] = { "2001:db8:1::10", 1111, "2001:db8:1::1", "2001:db8:1::20", "2001:db8:1::1", 1, 3,
		   1 },
	[S_CSVL3] = { "192.0.2.10", 2222, "192.0.2.1", "192.0.2.20", "192.0.2.1", 3, 3, 1 },
	[S_CSVL2] = { "192.0.2.10", 3333, "192.0.2.1", "192.0.2.20", "192.0.2.1", 2, 3, 1 },
	[S_REDIR] = { "192.0.2.10", 4444, "192.0.2.1", "198.51.100.20", "198.51.100.1", 1, 3, 1 },
	[S_NODEV] = { "192.0.2.10", 5555, "192.0.2.1", "203.0.113.20", "203.0.113.1", 1, 3, 1 },
	[S_NONEIGH] = { "192.0.2.10", 6666, "192.0.2.1", "192.0.2.30", "192.0.2.1", 1, 3, 1 },
	[S_NOROUTE] = { "192.0.2.10", 7777, "192.0.2.1", "203.0.113.200", "203.0.113.1", 1, 3, 1 },
	[S_UNEST] = { "192.0.2.10", 8888, "192.0.2.1", "192.0.2.20", "192.0.2.1", 1, 3, 0 },
	[S_FAMILY] = { "192.0.2.10", 9999, "192.0.2.1", "2001:db8:1::20", "2001:db8:1::1", 1, 3,
		       1 },
	[S_NOLOCAL] = { "192.0.2.10", 1234, "192.0.2.1", "192.0.2.20", NULL, 1, 3, 1 },
	[S_SSVL1] = { "192.0.2.10", 1212, "192.0.2.1", "192.0.2.20", "192.0.2.1", 1, 1, 1 },
	[S_FAMILY6] = { "2001:db8:1::10", 9898, "2001:db8:1::1", "192.0.2.20", "192.0.2.1", 1, 3,
			1 },
};

static struct xwgp_session sess_make(int n)
{
	const struct sess_def *d = &sess_defs[n];
	struct xwgp_session s = {
		.client = pkt_ep(d->client, d->cport),
		.client_local = pkt_ep(d->client_local, LISTEN_PORT),
		.server = pkt_ep(d->server, BACKEND_PORT),
		.server_local = pkt_ep(d->server_local, UPSTREAM_PORT),
		.client_origin_index = CO(n),
		.client_proxy_index = CP(n),
		.server_origin_index = d->flags ? SO(n) : 0,
		.server_proxy_index = SP(n),
		.csvl = d->csvl,
		.ssvl = d->ssvl,
		.flags = d->flags ? XWGP_SF_ESTABLISHED | XWGP_SF_XLAT_CLIENT | XWGP_SF_XLAT_SERVER
				  : 0,
	};

	return s;
}

/* The devices' indexes, then the config and every session (bpf_env_up's fill). */
static int maps_fill(void)
{
	struct bpf_devmap_val dv = { 0 };
	uint32_t k = 0, stale_slot = 0x7f;
	struct xwgp_session stale = sess_make(1);
	int err = 0;

	for (int d = 0; d < DEV__MAX; d++) {
		env.ifindex[d] = if_nametoindex(dev_names[d]);
		if (!env.ifindex[d]) {
			snprintf(bpf_env.why, sizeof(bpf_env.why), "no ifindex for %s",
				 dev_names[d]);
			return -1;
		}
	}

	env.base_cfg = (struct xwgp_cfg){
		.abi_version = XWGP_ABI_VERSION,
		.listen = { .port = htons(LISTEN_PORT) },
		.upstream = { .port = htons(UPSTREAM_PORT) },
		.max_packet_size = XWGP_MAX_PACKET_SIZE_DEFAULT,
	};
	err = err ?: bpf_map_update_elem(bpf_env.maps.cfg, &k, &env.base_cfg, BPF_ANY);
	for (int n = 1; n < S__MAX && !err; n++) {
		struct xwgp_session s = sess_make(n);
		uint32_t slot = SLOT(CP(n)); /* CP(n) and SP(n) both name slot n */

		err = bpf_map_update_elem(bpf_env.maps.sessions, &slot, &s, BPF_ANY);
	}
	/*
	 * Slot 0x7f holds another generation's session: SP(0x7f) and CP(0x7f)
	 * name the slot, but not that session (an expired index, or a guess).
	 */
	stale.client_proxy_index = CP(0x7f) ^ 0x01000000u;
	stale.server_proxy_index = SP(0x7f) ^ 0x01000000u;
	err = err ?: bpf_map_update_elem(bpf_env.maps.sessions, &stale_slot, &stale, BPF_ANY);
	/* The devices' addresses are ours, as the agent tells the program. */
	err = err ?: bpf_env_local("192.0.2.1", XWGP_LOCAL_ADDR);
	err = err ?: bpf_env_local("2001:db8:1::1", XWGP_LOCAL_ADDR);
	err = err ?: bpf_env_local("198.51.100.1", XWGP_LOCAL_ADDR);
	err = err ?: bpf_env_local("203.0.113.1", XWGP_LOCAL_ADDR);
	err = err ?: bpf_env_local("192.0.2.255", XWGP_LOCAL_BROADCAST);
	if (err)
		return -1;
	dv.ifindex = env.ifindex[DEV_XV0];
	err = err ?: bpf_map_update_elem(bpf_env.maps.devmap, &dv.ifindex, &dv, BPF_NOEXIST);
	dv.ifindex = env.ifindex[DEV_XV2];
	err = err ?: bpf_map_update_elem(bpf_env.maps.devmap, &dv.ifindex, &dv, BPF_NOEXIST);
	if (err)
		snprintf(bpf_env.why, sizeof(bpf_env.why), "map update: %s", strerror(errno));
	return err ? -1 : 0;
}

#define ENV_REQUIRE() BPF_ENV_REQUIRE(topo_cmds, maps_fill)

/* ---- running one case ---------------------------------------------------- */

static const char *act_name(uint32_t act)
{
	static const char *const names[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

	return act < 5 ? names[act] : "?";
}

static bool is_punt(enum xwgp_stat r)
{
	return !strncmp(bpf_env_reason(r), "PUNT_", 5);
}

struct xdp_case {
	const char *desc;
	enum dev dev; /* ingress device */
	struct spec in;
	uint32_t act;	       /* expected XDP action */
	enum xwgp_stat reason; /* expected reason counter */
	bool fwd;	       /* forwarded: output must equal .out, session .sess credited */
	struct spec out;
	int sess;
	/* cfg overrides */
	uint32_t cfg_flags;
	uint32_t max_size;
	bool listen_v4; /* listen on 192.0.2.1 only */
	uint32_t punt_rate, punt_burst;
	bool xsk; /* punts go to an AF_XDP socket */
	/* Roaming: 1 every session's endpoints sent just now, -1 long ago; 0 as left. */
	int seen;
	bool candidate; /* forwarded from a roaming candidate: ROAM_CANDIDATE moves too */
	bool nexthop_hit; /* routed by the agent's next hop: NEXTHOP_HIT moves too */
};

/* Packets credited to all sessions, both directions. */
static uint64_t sessions_packets(void)
{
	uint64_t total = 0;

	for (int n = 1; n < S__MAX; n++) {
		struct xwgp_session s;
		uint32_t k = SLOT(CP(n));

		if (!bpf_map_lookup_elem(bpf_env.maps.sessions, &k, &s))
			total += s.c2s_packets + s.s2c_packets;
	}
	return total;
}

static int cfg_set(const struct xdp_case *c)
{
	struct xwgp_cfg cfg = env.base_cfg;
	uint32_t k = 0;

	cfg.flags |= c->cfg_flags;
	if (c->max_size)
		cfg.max_packet_size = c->max_size;
	if (c->listen_v4)
		cfg.listen = pkt_ep("192.0.2.1", LISTEN_PORT);
	cfg.punt_rate_pps = c->punt_rate;
	cfg.punt_burst = c->punt_burst;
	return bpf_map_update_elem(bpf_env.maps.cfg, &k, &cfg, BPF_ANY);
}

static void cfg_reset(void)
{
	uint32_t k = 0;

	bpf_map_update_elem(bpf_env.maps.cfg, &k, &env.base_cfg, BPF_ANY);
}

/* When every session's client and backend last sent (0: never, created long ago). */
static int sessions_seen(uint64_t ns)
{
	for (int n = 1; n < S__MAX; n++) {
		struct xwgp_session s;
		uint32_t k = SLOT(CP(n));

		if (bpf_map_lookup_elem(bpf_env.maps.sessions, &k, &s))
			continue;
		s.client_seen_ns = s.server_seen_ns = ns;
		s.created_ns = 0;
		if (bpf_map_update_elem(bpf_env.maps.sessions, &k, &s, BPF_EXIST))
			return -1;
	}
	return 0;
}

static void check_stats(const struct xdp_case *c, const struct xwgp_stat_val *before,
			const struct xwgp_stat_val *after, uint64_t len)
{
	for (int k = 0; k < XWGP_STAT__MAX; k++) {
		uint64_t want = k == XWGP_STAT_RX || k == (int)c->reason;
		uint64_t dp = after[k].packets - before[k].packets;
		uint64_t db = after[k].bytes - before[k].bytes;

		if (is_punt(c->reason) && k == (c->xsk ? XWGP_STAT_PUNT_XSK : XWGP_STAT_PUNT_STACK))
			want = 1;
		if (k == XWGP_STAT_ROAM_CANDIDATE)
			want = c->candidate;
		if (k == XWGP_STAT_NEXTHOP_HIT)
			want = c->nexthop_hit;
		CHECK(dp == want && db == want * len,
		      "%s: counter %s moved by %llu packets/%llu bytes, want %llu/%llu", c->desc,
		      bpf_env_reason(k), ULL(dp), ULL(db), ULL(want), ULL(want * len));
	}
}

static void check_session(const struct xdp_case *c, const struct xwgp_session *b,
			  const struct xwgp_session *a, uint64_t t0)
{
	bool c2s = c->reason == XWGP_STAT_C2S_TX || c->reason == XWGP_STAT_C2S_REDIRECT;
	uint16_t mlen = c->in.len ? c->in.len : default_len(c->in.type);

	CHECK(a->c2s_packets - b->c2s_packets == c2s && a->s2c_packets - b->s2c_packets == !c2s,
	      "%s: session packets c2s +%llu s2c +%llu", c->desc,
	      ULL(a->c2s_packets - b->c2s_packets), ULL(a->s2c_packets - b->s2c_packets));
	CHECK(a->c2s_bytes - b->c2s_bytes == (c2s ? mlen : 0) &&
		      a->s2c_bytes - b->s2c_bytes == (c2s ? 0 : mlen),
	      "%s: session bytes c2s +%llu s2c +%llu, want +%u", c->desc,
	      ULL(a->c2s_bytes - b->c2s_bytes), ULL(a->s2c_bytes - b->s2c_bytes), mlen);
	/* Written when it moved by more than a second: stale, or refreshed now. */
	CHECK(a->last_seen_ns + 1000000000ull >= t0 && a->last_seen_ns <= xwgp_now_ns(),
	      "%s: last_seen_ns %llu not refreshed (now %llu)", c->desc, ULL(a->last_seen_ns),
	      ULL(t0));
	/* The side's current endpoint was heard, unless a candidate sent it. */
	{
		uint64_t seen = c2s ? a->client_seen_ns : a->server_seen_ns;
		uint64_t was = c2s ? b->client_seen_ns : b->server_seen_ns;

		if (c->candidate)
			CHECK(seen == was, "%s: a candidate refreshed the endpoint's time", c->desc);
		else
			CHECK(seen + 1000000000ull >= t0 && seen <= xwgp_now_ns(),
			      "%s: %s_seen_ns %llu not refreshed (now %llu)", c->desc,
			      c2s ? "client" : "server", ULL(seen), ULL(t0));
	}
}

static void check_output(const struct xdp_case *c, const struct pkt_frame *want,
			 const struct pkt_frame *out)
{
	char why[64];
	size_t i;

	CHECK(out->len == want->len, "%s: output %zu bytes, want %zu", c->desc, out->len,
	      want->len);
	for (i = 0; i < want->len && out->b[i] == want->b[i]; i++)
		;
	CHECK(i == want->len, "%s: output differs at byte %zu: %02x, want %02x", c->desc, i,
	      out->b[i], want->b[i]);
	if (c->fwd)
		CHECK(!verify_csums(out->b, out->len, why, sizeof(why)), "%s: %s", c->desc, why);
}

static void run_case(const struct xdp_case *c)
{
	struct xwgp_stat_val before[XWGP_STAT__MAX], after[XWGP_STAT__MAX];
	struct xwgp_session sb = { 0 }, sa = { 0 };
	uint32_t key = SLOT(CP(c->sess));
	struct bpf_env_result r;
	struct pkt_frame in, want;
	uint64_t pk_before, t0;
	int err;

	build(&in, &c->in);
	if (c->fwd)
		build(&want, &c->out);
	else
		want = in;
	CHECK(!cfg_set(c), "%s: cfg update: %s", c->desc, strerror(errno));
	if (c->seen)
		CHECK(!sessions_seen(c->seen > 0 ? xwgp_now_ns() : 0), "%s: seen: %s", c->desc,
		      strerror(errno));
	if (c->fwd)
		CHECK(!bpf_map_lookup_elem(bpf_env.maps.sessions, &key, &sb), "%s: no session %d",
		      c->desc, c->sess);
	pk_before = sessions_packets();
	bpf_env_stats_sum(before);
	t0 = xwgp_now_ns();
	err = bpf_env_run(&in, env.ifindex[c->dev], &r);
	bpf_env_stats_sum(after);
	cfg_reset();
	CHECK(!err, "%s: test run: %s", c->desc, strerror(-err));
	CHECK(r.act == c->act, "%s: action %s, want %s", c->desc, act_name(r.act),
	      act_name(c->act));
	check_output(c, &want, &r.out);
	if (test_state__ != TEST_RUNNING)
		return;
	check_stats(c, before, after, in.len);
	if (test_state__ != TEST_RUNNING)
		return;
	CHECK(sessions_packets() - pk_before == c->fwd, "%s: sessions credited %llu packets",
	      c->desc, ULL(sessions_packets() - pk_before));
	if (c->fwd) {
		CHECK(!bpf_map_lookup_elem(bpf_env.maps.sessions, &key, &sa), "%s: session %d gone",
		      c->desc, c->sess);
		check_session(c, &sb, &sa, t0);
	}
}

static void run_table(const struct xdp_case *t, size_t n)
{
	for (size_t i = 0; i < n && test_state__ == TEST_RUNNING; i++)
		run_case(&t[i]);
}

#define RUN_TABLE(t) run_table(t, sizeof(t) / sizeof((t)[0]))

/* ---- frames of the test sessions ----------------------------------------- */

/* Transport from session n's client to us, and what XDP must turn it into. */
#define C2S_IN(n, ...)                                                                             \
	{                                                                                          \
		.smac = MAC_CLIENT, .dmac = MAC_XV0, .src = "192.0.2.10", .dst = "192.0.2.1",      \
		.sport = sess_port(n), .dport = LISTEN_PORT, .type = 4, .receiver = SP(n),         \
		__VA_ARGS__                                                                        \
	}
#define C2S_OUT(n, ...)                                                                            \
	{                                                                                          \
		.smac = MAC_XV0, .dmac = MAC_A, .src = "192.0.2.1", .dst = "192.0.2.20",           \
		.sport = UPSTREAM_PORT, .dport = BACKEND_PORT, .ttl = OUT_TTL, .type = 4,          \
		.receiver = SO(n), __VA_ARGS__                                                     \
	}
#define S2C_IN(n, ...)                                                                             \
	{                                                                                          \
		.smac = MAC_A, .dmac = MAC_XV0, .src = "192.0.2.20", .dst = "192.0.2.1",           \
		.sport = BACKEND_PORT, .dport = UPSTREAM_PORT, .type = 4, .receiver = CP(n),       \
		__VA_ARGS__                                                                        \
	}
#define S2C_OUT(n, ...)                                                                            \
	{                                                                                          \
		.smac = MAC_XV0, .dmac = MAC_CLIENT, .src = "192.0.2.1", .dst = "192.0.2.10",      \
		.sport = LISTEN_PORT, .dport = sess_port(n), .ttl = OUT_TTL, .type = 4,            \
		.receiver = CO(n), __VA_ARGS__                                                     \
	}

#define sess_port(n)                                                                               \
	((n) == S_V4 || (n) == S_V6 ? 1111                                                         \
	 : (n) == S_CSVL3	    ? 2222                                                         \
	 : (n) == S_CSVL2	    ? 3333                                                         \
	 : (n) == S_REDIR	    ? 4444                                                         \
	 : (n) == S_NODEV	    ? 5555                                                         \
	 : (n) == S_NONEIGH	    ? 6666                                                         \
	 : (n) == S_NOROUTE	    ? 7777                                                         \
	 : (n) == S_UNEST	    ? 8888                                                         \
	 : (n) == S_SSVL1	    ? 1212                                                         \
	 : (n) == S_FAMILY	    ? 9999                                                         \
	 : (n) == S_FAMILY6	    ? 9898                                                         \
				    : 1234)

#define V6_C2S	   .src = "2001:db8:1::10", .dst = "2001:db8:1::1"
#define V6_C2S_OUT .src = "2001:db8:1::1", .dst = "2001:db8:1::20"
#define V6_S2C	   .src = "2001:db8:1::20", .dst = "2001:db8:1::1"
#define V6_S2C_OUT .src = "2001:db8:1::1", .dst = "2001:db8:1::10"

#define PASS_AS(r) .act = XDP_PASS, .reason = XWGP_STAT_##r
#define DROP_AS(r) .act = XDP_DROP, .reason = XWGP_STAT_##r
#define PUNT_AS(r) .act = XDP_PASS, .reason = XWGP_STAT_##r /* no XSK bound: the stack */

/* ---- tests --------------------------------------------------------------- */

static const struct xdp_case forward_cases[] = {
		{ "IPv4 client->server, XDP_TX", DEV_XV0, C2S_IN(S_V4), XDP_TX, XWGP_STAT_C2S_TX,
		  true, C2S_OUT(S_V4), S_V4 },
		{ "IPv4 server->client, XDP_TX", DEV_XV0, S2C_IN(S_V4), XDP_TX, XWGP_STAT_S2C_TX,
		  true, S2C_OUT(S_V4), S_V4 },
		{ "IPv6 client->server, XDP_TX", DEV_XV0, C2S_IN(S_V6, V6_C2S), XDP_TX,
		  XWGP_STAT_C2S_TX, true, C2S_OUT(S_V6, V6_C2S_OUT), S_V6 },
		{ "IPv6 server->client, XDP_TX", DEV_XV0, S2C_IN(S_V6, V6_S2C), XDP_TX,
		  XWGP_STAT_S2C_TX, true, S2C_OUT(S_V6, V6_S2C_OUT), S_V6 },
		{ "IPv4 keepalive (32 bytes)", DEV_XV0, C2S_IN(S_V4, .len = 32), XDP_TX,
		  XWGP_STAT_C2S_TX, true, C2S_OUT(S_V4, .len = 32), S_V4 },
		{ "IPv4 large transport, odd length", DEV_XV0, C2S_IN(S_V4, .len = 1401, .seed = 9),
		  XDP_TX, XWGP_STAT_C2S_TX, true, C2S_OUT(S_V4, .len = 1401, .seed = 9), S_V4 },
		{ "IPv4 with options", DEV_XV0, C2S_IN(S_V4, .ipopt = 8), XDP_TX, XWGP_STAT_C2S_TX,
		  true, C2S_OUT(S_V4, .ipopt = 8), S_V4 },
		{ "IPv4 UDP checksum 0 stays 0", DEV_XV0, S2C_IN(S_V4, .no_csum = true), XDP_TX,
		  XWGP_STAT_S2C_TX, true, S2C_OUT(S_V4, .no_csum = true), S_V4 },
		{ "802.1Q tagged IPv4 leaves untagged", DEV_XV0,
		  C2S_IN(S_V4, .vlan_tpid = 0x8100, .vlan_tci = 100), XDP_TX, XWGP_STAT_C2S_TX,
		  true, C2S_OUT(S_V4), S_V4 },
		{ "802.1ad tagged IPv6 leaves untagged", DEV_XV0,
		  S2C_IN(S_V6, V6_S2C, .vlan_tpid = 0x88a8, .vlan_tci = 7), XDP_TX,
		  XWGP_STAT_S2C_TX, true, S2C_OUT(S_V6, V6_S2C_OUT), S_V6 },
		{ "listen address configured and matching", DEV_XV0, C2S_IN(S_V4), XDP_TX,
		  XWGP_STAT_C2S_TX, true, C2S_OUT(S_V4), S_V4, .listen_v4 = true },
		{ "max_packet_size exactly reached", DEV_XV0, C2S_IN(S_V4, .len = 100), XDP_TX,
		  XWGP_STAT_C2S_TX, true, C2S_OUT(S_V4, .len = 100), S_V4, .max_size = 100 },
		{ "server->client without ESTABLISHED still forwards", DEV_XV0, S2C_IN(S_UNEST),
		  XDP_TX, XWGP_STAT_S2C_TX, true, S2C_OUT(S_UNEST), S_UNEST },
		{ "egress on another device in the devmap: client->server", DEV_XV0,
		  C2S_IN(S_REDIR), XDP_REDIRECT, XWGP_STAT_C2S_REDIRECT, true,
		  C2S_OUT(S_REDIR, .smac = MAC_XV2, .dmac = MAC_B, .src = "198.51.100.1",
			  .dst = "198.51.100.20"),
		  S_REDIR },
		{ "egress on another device in the devmap: server->client", DEV_XV2,
		  S2C_IN(S_REDIR, .smac = MAC_B, .dmac = MAC_XV2, .src = "198.51.100.20",
			 .dst = "198.51.100.1"),
		  XDP_REDIRECT, XWGP_STAT_S2C_REDIRECT, true, S2C_OUT(S_REDIR), S_REDIR },
};

/*
 * IPv4 client <-> IPv6 backend and the reverse (bpf/xlat.h): a new IP header
 * of the target's family, from the session's endpoints; expected frames
 * built from scratch as for the rest.
 */
#define XLAT_OUT(tos_) .xlat_hdr = true, .tos = (tos_)
static const struct xdp_case xlat_cases[] = {
		{ "IPv4 client -> IPv6 backend", DEV_XV0, C2S_IN(S_FAMILY), XDP_TX,
		  XWGP_STAT_C2S_TX, true, C2S_OUT(S_FAMILY, V6_C2S_OUT, XLAT_OUT(0x28)),
		  S_FAMILY },
		{ "IPv6 backend -> IPv4 client", DEV_XV0, S2C_IN(S_FAMILY, V6_S2C), XDP_TX,
		  XWGP_STAT_S2C_TX, true, S2C_OUT(S_FAMILY, XLAT_OUT(0)), S_FAMILY },
		{ "IPv6 client -> IPv4 backend", DEV_XV0, C2S_IN(S_FAMILY6, V6_C2S), XDP_TX,
		  XWGP_STAT_C2S_TX, true, C2S_OUT(S_FAMILY6, XLAT_OUT(0)), S_FAMILY6 },
		{ "IPv4 backend -> IPv6 client", DEV_XV0, S2C_IN(S_FAMILY6), XDP_TX,
		  XWGP_STAT_S2C_TX, true, S2C_OUT(S_FAMILY6, V6_S2C_OUT, XLAT_OUT(0x28)),
		  S_FAMILY6 },
		{ "IPv4 -> IPv6, keepalive", DEV_XV0, C2S_IN(S_FAMILY, .len = 32), XDP_TX,
		  XWGP_STAT_C2S_TX, true,
		  C2S_OUT(S_FAMILY, V6_C2S_OUT, XLAT_OUT(0x28), .len = 32), S_FAMILY },
		{ "IPv6 -> IPv4, odd length", DEV_XV0, C2S_IN(S_FAMILY6, V6_C2S, .len = 1401, .seed = 3),
		  XDP_TX, XWGP_STAT_C2S_TX, true,
		  C2S_OUT(S_FAMILY6, XLAT_OUT(0), .len = 1401, .seed = 3), S_FAMILY6 },
		{ "IPv4 -> IPv6, largest under the MTU", DEV_XV0, C2S_IN(S_FAMILY, .len = 1452),
		  XDP_TX, XWGP_STAT_C2S_TX, true,
		  C2S_OUT(S_FAMILY, V6_C2S_OUT, XLAT_OUT(0x28), .len = 1452), S_FAMILY },
		{ "IPv4 with options -> IPv6", DEV_XV0, C2S_IN(S_FAMILY, .ipopt = 12), XDP_TX,
		  XWGP_STAT_C2S_TX, true, C2S_OUT(S_FAMILY, V6_C2S_OUT, XLAT_OUT(0x28)), S_FAMILY },
		{ "802.1Q tagged IPv4 -> untagged IPv6", DEV_XV0,
		  C2S_IN(S_FAMILY, .vlan_tpid = 0x8100, .vlan_tci = 100), XDP_TX, XWGP_STAT_C2S_TX,
		  true, C2S_OUT(S_FAMILY, V6_C2S_OUT, XLAT_OUT(0x28)), S_FAMILY },
		{ "802.1ad tagged IPv6 -> untagged IPv4", DEV_XV0,
		  S2C_IN(S_FAMILY, V6_S2C, .vlan_tpid = 0x88a8, .vlan_tci = 7), XDP_TX,
		  XWGP_STAT_S2C_TX, true, S2C_OUT(S_FAMILY, XLAT_OUT(0)), S_FAMILY },
		{ "IPv6 hop limit 1 -> IPv4 TTL 64", DEV_XV0,
		  S2C_IN(S_FAMILY, V6_S2C, .ttl = 1), XDP_TX, XWGP_STAT_S2C_TX, true,
		  S2C_OUT(S_FAMILY, XLAT_OUT(0)), S_FAMILY },
};

TEST(family_translation)
{
	ENV_REQUIRE();
	RUN_TABLE(xlat_cases);
}

/* The same through the FIB cache: the family is part of its key. */
TEST(family_translation_fib_cached)
{
	ENV_REQUIRE();
	env.base_cfg.fib_cache_ms = 1000;
	RUN_TABLE(xlat_cases);
	RUN_TABLE(xlat_cases);
	env.base_cfg.fib_cache_ms = 0;
	cfg_reset();
}

/* ---- a host that does not forward (bpf/nexthop.h) ------------------------ */

#define MAC_NH_SRC "02:00:00:00:00:09" /* what the agent resolved: not the FIB's MACs */
#define MAC_NH_DST "02:00:00:00:0a:09"

static int nexthop_put(const char *dst, enum dev dev, uint16_t mtu, int64_t age_ns)
{
	struct xwgp_ep e = pkt_ep(dst, 1);
	struct xwgp_nexthop v = { .resolved_ns = xwgp_now_ns() - age_ns,
				  .ifindex = env.ifindex[dev],
				  .mtu = mtu };
	struct xwgp_nexthop_key k;

	memcpy(k.addr, e.addr, sizeof(k.addr));
	parse_mac(v.smac, MAC_NH_SRC);
	parse_mac(v.dmac, MAC_NH_DST);
	return bpf_map_update_elem(bpf_map__fd(bpf_env.skel->maps.xwgp_nexthop), &k, &v, BPF_ANY);
}

static void nexthop_clear(void)
{
	int fd = bpf_map__fd(bpf_env.skel->maps.xwgp_nexthop);
	struct xwgp_nexthop_key k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		bpf_map_delete_elem(fd, &k);
}

static int xv0_forwarding(const char *v)
{
	return bpf_env_sysctl("/proc/sys/net/ipv4/conf/xv0/forwarding", v) ?:
	       bpf_env_sysctl("/proc/sys/net/ipv6/conf/xv0/forwarding", v);
}

#define NH_OUT .smac = MAC_NH_SRC, .dmac = MAC_NH_DST

/*
 * Forwarding off on xv0: FWD_DISABLED. XDP forwards with the agent's entry
 * (its MACs, not the FIB's) only when it is there, young enough and the
 * packet fits its MTU; everything else is punted as before.
 */
TEST(nexthop_when_forwarding_off)
{
	static const struct xdp_case miss[] = {
		{ "no next hop: punted", DEV_XV0, C2S_IN(S_V4), PUNT_AS(PUNT_NO_ROUTE) },
	};
	static const struct xdp_case hit[] = {
		{ "IPv4 client->server with the agent's next hop", DEV_XV0, C2S_IN(S_V4), XDP_TX,
		  XWGP_STAT_C2S_TX, true, C2S_OUT(S_V4, NH_OUT), S_V4, .nexthop_hit = true },
		{ "IPv4 server->client with the agent's next hop", DEV_XV0, S2C_IN(S_V4), XDP_TX,
		  XWGP_STAT_S2C_TX, true, S2C_OUT(S_V4, NH_OUT), S_V4, .nexthop_hit = true },
		{ "IPv6 client->server with the agent's next hop", DEV_XV0, C2S_IN(S_V6, V6_C2S),
		  XDP_TX, XWGP_STAT_C2S_TX, true, C2S_OUT(S_V6, V6_C2S_OUT, NH_OUT), S_V6,
		  .nexthop_hit = true },
		{ "next hop on another device in the devmap: redirected", DEV_XV0, C2S_IN(S_REDIR),
		  XDP_REDIRECT, XWGP_STAT_C2S_REDIRECT, true,
		  C2S_OUT(S_REDIR, NH_OUT, .src = "198.51.100.1", .dst = "198.51.100.20"), S_REDIR,
		  .nexthop_hit = true },
		{ "IPv4 client -> IPv6 backend with the agent's next hop", DEV_XV0,
		  C2S_IN(S_FAMILY), XDP_TX, XWGP_STAT_C2S_TX, true,
		  C2S_OUT(S_FAMILY, V6_C2S_OUT, XLAT_OUT(0x28), NH_OUT), S_FAMILY,
		  .nexthop_hit = true },
		{ "next hop on a device not in the devmap: punted", DEV_XV0, C2S_IN(S_NODEV),
		  PUNT_AS(PUNT_NO_DEVMAP), .nexthop_hit = true },
	};
	static const struct xdp_case mtu[] = {
		{ "larger than the next hop's MTU: punted", DEV_XV0, C2S_IN(S_CSVL3, .len = 1000),
		  PUNT_AS(PUNT_NO_ROUTE) },
	};
	static const struct xdp_case stale[] = {
		{ "next hop older than the bound: punted", DEV_XV0, C2S_IN(S_V4),
		  PUNT_AS(PUNT_NO_ROUTE) },
	};

	ENV_REQUIRE();
	CHECK(!xv0_forwarding("0"), "sysctl: %s", bpf_env.why);
	RUN_TABLE(miss);
	CHECK(!nexthop_put("192.0.2.20", DEV_XV0, 1500, 0) &&
		      !nexthop_put("192.0.2.10", DEV_XV0, 1500, 0) &&
		      !nexthop_put("2001:db8:1::20", DEV_XV0, 1500, 0) &&
		      !nexthop_put("198.51.100.20", DEV_XV2, 1500, 0) &&
		      !nexthop_put("203.0.113.20", DEV_XV4, 1500, 0),
	      "next hops: %s", strerror(errno));
	RUN_TABLE(hit);
	/* The next hop of the backend (192.0.2.20) with a smaller MTU: 1028 bytes do not fit. */
	CHECK(!nexthop_put("192.0.2.20", DEV_XV0, 1000, 0), "next hop");
	RUN_TABLE(mtu);
	/* A margin for the coarse clock XDP reads (a tick behind). */
	CHECK(!nexthop_put("192.0.2.20", DEV_XV0, 1500, (int64_t)XWGP_NEXTHOP_MAX_AGE_NS + 50000000), "next hop");
	RUN_TABLE(stale);
	nexthop_clear();
	CHECK(!xv0_forwarding("1"), "sysctl: %s", bpf_env.why);
}

TEST(forward_rewrites)
{
	ENV_REQUIRE();
	RUN_TABLE(forward_cases);
}

/* Every forwarding case again with the FIB cache on: filled, then hit. */
TEST(forward_rewrites_fib_cached)
{
	ENV_REQUIRE();
	env.base_cfg.fib_cache_ms = XWGP_FIB_CACHE_MS_MAX;
	RUN_TABLE(forward_cases);
	RUN_TABLE(forward_cases);
	env.base_cfg.fib_cache_ms = 0;
	cfg_reset();
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * A cached answer is reused for fib_cache_ms and no longer: a neighbour
 * change (router failover) is followed within it; fib_cache_ms 0 stops the
 * reuse at once; a changed address (client roaming) is a different request.
 */
TEST(fib_cache_bounded_staleness)
{
	const uint32_t ttl_ms = 300;
	const struct xdp_case old_mac = { "c2s, backend router as cached", DEV_XV0, C2S_IN(S_V4),
					  XDP_TX, XWGP_STAT_C2S_TX, true, C2S_OUT(S_V4), S_V4 };
	const struct xdp_case new_mac = { "c2s, backend router after the change", DEV_XV0,
					  C2S_IN(S_V4), XDP_TX, XWGP_STAT_C2S_TX, true,
					  C2S_OUT(S_V4, .dmac = MAC_A_NEW), S_V4 };
	const struct xdp_case s2c = { "s2c to the client", DEV_XV0, S2C_IN(S_V4), XDP_TX,
				      XWGP_STAT_S2C_TX, true, S2C_OUT(S_V4), S_V4 };
	const struct xdp_case s2c_roamed = { "s2c to the roamed client", DEV_XV0, S2C_IN(S_V4),
					     XDP_TX, XWGP_STAT_S2C_TX, true,
					     S2C_OUT(S_V4, .dmac = MAC_CLIENT2,
						     .dst = "192.0.2.11"),
					     S_V4 };
	const struct xdp_case big = { "c2s above the new egress MTU", DEV_XV0,
				      C2S_IN(S_V4, .len = 1200), PUNT_AS(PUNT_NO_ROUTE) };
	struct xwgp_session s = sess_make(S_V4), roamed = s;
	uint32_t key = SLOT(CP(S_V4));
	cpu_set_t one, all;

	ENV_REQUIRE();
	/* The cache is per CPU: every run on the CPU that filled it. */
	CHECK(!sched_getaffinity(0, sizeof(all), &all), "getaffinity: %s", strerror(errno));
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	CHECK(!sched_setaffinity(0, sizeof(one), &one), "setaffinity: %s", strerror(errno));
	env.base_cfg.fib_cache_ms = ttl_ms;
	run_case(&old_mac); /* fills the entry */
	CHECK(!bpf_env_sh("ip neigh replace 192.0.2.20 lladdr " MAC_A_NEW " dev xv0 nud permanent"),
	      "neighbour change: %s", bpf_env.why);
	run_case(&old_mac); /* within the TTL: the cached MAC */
	sleep_ms(ttl_ms + 100);
	run_case(&new_mac); /* expired: looked up again */
	CHECK(!bpf_env_sh("ip neigh replace 192.0.2.20 lladdr " MAC_A " dev xv0 nud permanent"),
	      "neighbour restore: %s", bpf_env.why);
	env.base_cfg.fib_cache_ms = 0;
	run_case(&old_mac); /* cache off: the restored MAC at once */

	env.base_cfg.fib_cache_ms = ttl_ms;
	run_case(&s2c);
	roamed.client = pkt_ep("192.0.2.11", 1111);
	CHECK(!bpf_map_update_elem(bpf_env.maps.sessions, &key, &roamed, BPF_EXIST), "roam: %s",
	      strerror(errno));
	run_case(&s2c_roamed); /* new destination: not the cached answer */
	CHECK(!bpf_map_update_elem(bpf_env.maps.sessions, &key, &s, BPF_EXIST), "restore: %s",
	      strerror(errno));

	/*
	 * A larger packet than the entry has seen gets the egress MTU check.
	 * (First the entry of the router-change step ages out: within its
	 * TTL it would still name MAC_A_NEW - the staleness allowed.)
	 */
	sleep_ms(ttl_ms + 100);
	run_case(&old_mac);
	CHECK(!bpf_env_sh("ip link set xv0 mtu 1000"), "mtu: %s", bpf_env.why);
	run_case(&big);
	run_case(&old_mac);
	CHECK(!bpf_env_sh("ip link set xv0 mtu 1500"), "mtu restore: %s", bpf_env.why);
	env.base_cfg.fib_cache_ms = 0;
	cfg_reset();
	sched_setaffinity(0, sizeof(all), &all);
}

TEST(pass_untouched)
{
	static const struct xdp_case t[] = {
		{ "UDP to another port", DEV_XV0, C2S_IN(S_V4, .dport = 53),
		  PASS_AS(PASS_NOT_OURS) },
		{ "UDP from our port to another port", DEV_XV0,
		  C2S_IN(S_V4, .sport = LISTEN_PORT, .dport = 4500), PASS_AS(PASS_NOT_OURS) },
		{ "TCP to the listen port", DEV_XV0, C2S_IN(S_V4, .proto = IPPROTO_TCP),
		  PASS_AS(PASS_NOT_OURS) },
		{ "IPv6 TCP to the upstream port", DEV_XV0,
		  S2C_IN(S_V6, V6_S2C, .proto = IPPROTO_TCP), PASS_AS(PASS_NOT_OURS) },
		{ "ARP", DEV_XV0, C2S_IN(S_V4, .ethertype = 0x0806), PASS_AS(PASS_NOT_OURS) },
		{ "two VLAN tags", DEV_XV0,
		  C2S_IN(S_V4, .vlan_tpid = 0x88a8, .vlan_tci = 1, .ethertype = 0x8100),
		  PASS_AS(PASS_NOT_OURS) },
		{ "listen address configured, other local address", DEV_XV0,
		  C2S_IN(S_V4, .dst = "192.0.2.2"), PASS_AS(PASS_NOT_OURS), .listen_v4 = true },
		{ "listen address IPv4, packet IPv6", DEV_XV0, C2S_IN(S_V6, V6_C2S),
		  PASS_AS(PASS_NOT_OURS), .listen_v4 = true },
		/* Fragments / extension headers to us: dropped; to others: passed. */
		{ "IPv4 first fragment to our listen port", DEV_XV0, C2S_IN(S_V4, .frag = 0x2000),
		  DROP_AS(DROP_FRAGMENT) },
		{ "IPv4 first fragment of an initiation to our listen port", DEV_XV0,
		  C2S_IN(S_V4, .frag = 0x2000, .type = 1), DROP_AS(DROP_FRAGMENT) },
		{ "IPv4 first fragment to our upstream port", DEV_XV0,
		  S2C_IN(S_V4, .frag = 0x2000, .type = 2), DROP_AS(DROP_FRAGMENT) },
		{ "IPv4 first fragment to our address, another port", DEV_XV0,
		  C2S_IN(S_V4, .frag = 0x2000, .dport = 4500), PASS_AS(PASS_FRAGMENT) },
		{ "IPv4 first fragment to our port on another host (transit)", DEV_XV0,
		  C2S_IN(S_V4, .frag = 0x2000, .dst = "192.0.2.99", .type = 1),
		  PASS_AS(PASS_NOT_LOCAL) },
		{ "IPv4 first fragment, listen address configured, other address", DEV_XV0,
		  C2S_IN(S_V4, .frag = 0x2000, .dst = "192.0.2.2"), PASS_AS(PASS_FRAGMENT),
		  .listen_v4 = true },
		{ "IPv4 first fragment to the configured listen address", DEV_XV0,
		  C2S_IN(S_V4, .frag = 0x2000), DROP_AS(DROP_FRAGMENT), .listen_v4 = true },
		{ "IPv4 later fragment (no UDP header)", DEV_XV0, C2S_IN(S_V4, .frag = 0x0010),
		  PASS_AS(PASS_FRAGMENT) },
		{ "IPv4 last fragment (no UDP header)", DEV_XV0, S2C_IN(S_V4, .frag = 0x0100),
		  PASS_AS(PASS_FRAGMENT) },
		{ "IPv6 with a destination options header to our listen port", DEV_XV0,
		  C2S_IN(S_V6, V6_C2S, .exthdr = true), DROP_AS(DROP_IPV6_EXTHDR) },
		{ "IPv6 initiation with a destination options header to our port", DEV_XV0,
		  C2S_IN(S_V6, V6_C2S, .exthdr = true, .type = 1), DROP_AS(DROP_IPV6_EXTHDR) },
		{ "IPv6 with a destination options header to our upstream port", DEV_XV0,
		  S2C_IN(S_V6, V6_S2C, .exthdr = true, .type = 2), DROP_AS(DROP_IPV6_EXTHDR) },
		{ "IPv6 with a destination options header to another port", DEV_XV0,
		  C2S_IN(S_V6, V6_C2S, .exthdr = true, .dport = 4500), PASS_AS(PASS_IPV6_EXTHDR) },
		{ "IPv6 with a destination options header to another host (transit)", DEV_XV0,
		  C2S_IN(S_V6, .src = "2001:db8:1::10", .dst = "2001:db8:1::99", .exthdr = true,
			 .type = 1),
		  PASS_AS(PASS_NOT_LOCAL) },
		{ "IPv6 with a hop-by-hop and a fragment header (first) to our port", DEV_XV0,
		  C2S_IN(S_V6, V6_C2S, .exthdr = true, .exthdr_chain = true),
		  DROP_AS(DROP_IPV6_EXTHDR) },
		{ "IPv6 with a later fragment header to our port (no UDP header)", DEV_XV0,
		  C2S_IN(S_V6, V6_C2S, .exthdr = true, .exthdr_chain = true, .frag = 0x0010),
		  PASS_AS(PASS_IPV6_EXTHDR) },
		/* Wildcard listen/upstream: transit to the same ports is not ours. */
		{ "transit: transport of a session to another host", DEV_XV0,
		  C2S_IN(S_V4, .dst = "192.0.2.99"), PASS_AS(PASS_NOT_LOCAL) },
		{ "transit: initiation to another host", DEV_XV0,
		  C2S_IN(S_V4, .dst = "198.51.100.7", .type = 1), PASS_AS(PASS_NOT_LOCAL) },
		{ "transit: malformed initiation to another host", DEV_XV0,
		  C2S_IN(S_V4, .dst = "198.51.100.7", .type = 1, .len = 147),
		  PASS_AS(PASS_NOT_LOCAL) },
		{ "transit: plain UDP to another host", DEV_XV0,
		  C2S_IN(S_V4, .dst = "198.51.100.7", .type = 0x45, .len = 100),
		  PASS_AS(PASS_NOT_LOCAL) },
		{ "transit: transport with an unknown index", DEV_XV0,
		  C2S_IN(S_V4, .dst = "192.0.2.99", .receiver = 0x55555555),
		  PASS_AS(PASS_NOT_LOCAL) },
		{ "transit: IPv6 transport to another host", DEV_XV0,
		  C2S_IN(S_V6, V6_C2S, .dst = "2001:db8:1::99"), PASS_AS(PASS_NOT_LOCAL) },
		{ "transit: to the upstream port of another host", DEV_XV0,
		  S2C_IN(S_V4, .dst = "192.0.2.99"), PASS_AS(PASS_NOT_LOCAL) },
		{ "transit: response to the upstream port of another host", DEV_XV0,
		  S2C_IN(S_V4, .dst = "192.0.2.99", .type = 2), PASS_AS(PASS_NOT_LOCAL) },
		{ "transit: agent-only mode passes it too", DEV_XV0,
		  C2S_IN(S_V4, .dst = "192.0.2.99"), PASS_AS(PASS_NOT_LOCAL),
		  .cfg_flags = XWGP_CFG_AGENT_ONLY },
		{ "our subnet's broadcast", DEV_XV0, C2S_IN(S_V4, .dst = "192.0.2.255", .type = 1),
		  PASS_AS(PASS_NOT_LOCAL) },
		{ "limited broadcast", DEV_XV0, C2S_IN(S_V4, .dst = "255.255.255.255", .type = 1),
		  PASS_AS(PASS_NOT_LOCAL) },
		{ "multicast", DEV_XV0, C2S_IN(S_V4, .dst = "224.0.0.1"), PASS_AS(PASS_NOT_LOCAL) },
		{ "IPv6 multicast", DEV_XV0, C2S_IN(S_V6, V6_C2S, .dst = "ff02::1", .type = 1),
		  PASS_AS(PASS_NOT_LOCAL) },
	};

	ENV_REQUIRE();
	RUN_TABLE(t);
}

TEST(truncated)
{
	static const struct xdp_case t[] = {
		{ "Ethernet header only", DEV_XV0, C2S_IN(S_V4, .truncate = 14),
		  PASS_AS(PASS_NOT_OURS) },
		{ "VLAN tag without protocol", DEV_XV0,
		  C2S_IN(S_V4, .vlan_tpid = 0x8100, .truncate = 16), PASS_AS(PASS_NOT_OURS) },
		{ "VLAN tag only", DEV_XV0, C2S_IN(S_V4, .vlan_tpid = 0x8100, .truncate = 18),
		  PASS_AS(PASS_NOT_OURS) },
		{ "IPv4 header cut", DEV_XV0, C2S_IN(S_V4, .truncate = 14 + 19),
		  PASS_AS(PASS_NOT_OURS) },
		{ "IPv4 options cut", DEV_XV0, C2S_IN(S_V4, .ipopt = 8, .truncate = 14 + 24),
		  PASS_AS(PASS_NOT_OURS) },
		{ "IPv6 header cut", DEV_XV0, C2S_IN(S_V6, V6_C2S, .truncate = 14 + 39),
		  PASS_AS(PASS_NOT_OURS) },
		{ "UDP header cut", DEV_XV0, C2S_IN(S_V4, .truncate = 14 + 20 + 7),
		  PASS_AS(PASS_NOT_OURS) },
		{ "VLAN + IPv6 UDP header cut", DEV_XV0,
		  S2C_IN(S_V6, V6_S2C, .vlan_tpid = 0x8100, .truncate = 18 + 40 + 7),
		  PASS_AS(PASS_NOT_OURS) },
		{ "datagram cut after the UDP header", DEV_XV0,
		  C2S_IN(S_V4, .truncate = 14 + 20 + 8), DROP_AS(DROP_MALFORMED) },
		{ "WireGuard header cut", DEV_XV0, C2S_IN(S_V4, .truncate = 14 + 20 + 8 + 3),
		  DROP_AS(DROP_MALFORMED) },
		{ "transport cut inside its header", DEV_XV0,
		  S2C_IN(S_V4, .truncate = 14 + 20 + 8 + 12), DROP_AS(DROP_MALFORMED) },
		{ "transport cut before the tag", DEV_XV0,
		  C2S_IN(S_V6, V6_C2S, .truncate = 14 + 40 + 8 + 60), DROP_AS(DROP_MALFORMED) },
		{ "UDP payload of 3 bytes", DEV_XV0, C2S_IN(S_V4, .len = 3),
		  DROP_AS(DROP_MALFORMED) },
		{ "UDP payload of 0 bytes", DEV_XV0, C2S_IN(S_V4, .empty = true),
		  DROP_AS(DROP_MALFORMED) },
		{ "transport of 31 bytes", DEV_XV0, C2S_IN(S_V4, .len = 31),
		  DROP_AS(DROP_MALFORMED) },
		{ "UDP length beyond the IP length", DEV_XV0, C2S_IN(S_V4, .udp_len_delta = 2),
		  DROP_AS(DROP_MALFORMED) },
		{ "UDP length short of the IP length", DEV_XV0,
		  S2C_IN(S_V6, V6_S2C, .udp_len_delta = -2), DROP_AS(DROP_MALFORMED) },
		{ "UDP length below the UDP header", DEV_XV0,
		  C2S_IN(S_V4, .udp_len_delta = -(96 + 8) + 7), DROP_AS(DROP_MALFORMED) },
		{ "IPv6 UDP checksum 0", DEV_XV0, C2S_IN(S_V6, V6_C2S, .no_csum = true),
		  DROP_AS(DROP_MALFORMED) },
	};

	ENV_REQUIRE();
	RUN_TABLE(t);
}

TEST(bad_messages)
{
	static const struct xdp_case t[] = {
		{ "initiation of 147 bytes", DEV_XV0, C2S_IN(S_V4, .type = 1, .len = 147),
		  DROP_AS(DROP_MALFORMED) },
		{ "initiation of 149 bytes", DEV_XV0, C2S_IN(S_V4, .type = 1, .len = 149),
		  DROP_AS(DROP_MALFORMED) },
		{ "response of 91 bytes", DEV_XV0, S2C_IN(S_V4, .type = 2, .len = 91),
		  DROP_AS(DROP_MALFORMED) },
		{ "cookie reply of 65 bytes", DEV_XV0, S2C_IN(S_V4, .type = 3, .len = 65),
		  DROP_AS(DROP_MALFORMED) },
		{ "initiation on the server side", DEV_XV0, S2C_IN(S_V4, .type = 1),
		  DROP_AS(DROP_BAD_TYPE) },
		{ "response on the client side", DEV_XV0, C2S_IN(S_V4, .type = 2),
		  DROP_AS(DROP_BAD_TYPE) },
		{ "cookie reply on the client side", DEV_XV0, C2S_IN(S_V6, V6_C2S, .type = 3),
		  DROP_AS(DROP_BAD_TYPE) },
		{ "type 0", DEV_XV0, C2S_IN(S_V4, .type = 0), DROP_AS(DROP_MALFORMED) },
		{ "type 5", DEV_XV0, C2S_IN(S_V4, .type = 5), DROP_AS(DROP_MALFORMED) },
		{ "reserved byte set", DEV_XV0, C2S_IN(S_V4, .reserved = 1),
		  DROP_AS(DROP_MALFORMED) },
		/* Decoded in XDP (tests/bpf/test_xdp_obfs.c): garbage does not decode. */
		{ "obfs: non-WireGuard header from a client", DEV_XV0, C2S_IN(S_V4, .type = 0x9c),
		  DROP_AS(DROP_OBFS_UNDECODABLE), .cfg_flags = XWGP_CFG_OBFS },
		{ "obfs: reserved byte set from a client", DEV_XV0,
		  C2S_IN(S_V6, V6_C2S, .reserved = 0x40), DROP_AS(DROP_OBFS_UNDECODABLE),
		  .cfg_flags = XWGP_CFG_OBFS },
		{ "obfs: non-WireGuard header from a backend", DEV_XV0, S2C_IN(S_V4, .type = 0x9c),
		  DROP_AS(DROP_MALFORMED), .cfg_flags = XWGP_CFG_OBFS },
		{ "receiver 0 from a client", DEV_XV0, C2S_IN(S_V4, .receiver = 0),
		  DROP_AS(DROP_INDEX_ZERO) },
		{ "receiver 0 from a backend", DEV_XV0, S2C_IN(S_V6, V6_S2C, .receiver = 0),
		  DROP_AS(DROP_INDEX_ZERO) },
		{ "over max_packet_size", DEV_XV0, C2S_IN(S_V4, .len = 101), DROP_AS(DROP_TOO_BIG),
		  .max_size = 100 },
		{ "handshake over max_packet_size", DEV_XV0, C2S_IN(S_V4, .type = 1),
		  DROP_AS(DROP_TOO_BIG), .max_size = 100 },
		{ "unknown server proxy index", DEV_XV0, C2S_IN(S_V4, .receiver = SP(0x70)),
		  DROP_AS(DROP_UNKNOWN_INDEX) },
		{ "a client proxy index sent by a client", DEV_XV0, C2S_IN(S_V4, .receiver = CP(1)),
		  DROP_AS(DROP_UNKNOWN_INDEX) },
		{ "stale generation of a used slot, from a client", DEV_XV0,
		  C2S_IN(S_V4, .receiver = SP(0x7f)), DROP_AS(DROP_UNKNOWN_INDEX) },
		{ "stale generation of a used slot, from a backend", DEV_XV0,
		  S2C_IN(S_V4, .receiver = CP(0x7f)), DROP_AS(DROP_UNKNOWN_INDEX) },
		{ "a server proxy index sent by a backend", DEV_XV0, S2C_IN(S_V4, .receiver = SP(1)),
		  DROP_AS(DROP_UNKNOWN_INDEX) },
		{ "unknown client proxy index", DEV_XV0, S2C_IN(S_V4, .receiver = CP(0x70)),
		  DROP_AS(DROP_UNKNOWN_INDEX) },
	};

	ENV_REQUIRE();
	RUN_TABLE(t);
}

TEST(handshakes_punted)
{
	static const struct xdp_case t[] = {
		{ "initiation from a client", DEV_XV0, C2S_IN(S_V4, .type = 1, .receiver = 77),
		  PUNT_AS(PUNT_HANDSHAKE) },
		{ "IPv6 initiation from a client", DEV_XV0, C2S_IN(S_V6, V6_C2S, .type = 1),
		  PUNT_AS(PUNT_HANDSHAKE) },
		{ "response from a backend", DEV_XV0, S2C_IN(S_V4, .type = 2),
		  PUNT_AS(PUNT_HANDSHAKE) },
		{ "cookie reply from a backend", DEV_XV0, S2C_IN(S_V6, V6_S2C, .type = 3),
		  PUNT_AS(PUNT_HANDSHAKE) },
		{ "obfs on: plain initiation", DEV_XV0, C2S_IN(S_V4, .type = 1),
		  PUNT_AS(PUNT_HANDSHAKE), .cfg_flags = XWGP_CFG_OBFS },
		{ "VLAN tagged initiation, unmodified", DEV_XV0,
		  C2S_IN(S_V4, .type = 1, .vlan_tpid = 0x8100, .vlan_tci = 5),
		  PUNT_AS(PUNT_HANDSHAKE) },
	};

	ENV_REQUIRE();
	RUN_TABLE(t);
}

TEST(source_validation)
{
	static const struct xdp_case t[] = {
		{ "csvl 3: exact source forwards", DEV_XV0, C2S_IN(S_CSVL3), XDP_TX,
		  XWGP_STAT_C2S_TX, true, C2S_OUT(S_CSVL3), S_CSVL3 },
		{ "csvl 3: wrong port", DEV_XV0, C2S_IN(S_CSVL3, .sport = 2223),
		  DROP_AS(DROP_SRC_INVALID) },
		{ "csvl 3: wrong address", DEV_XV0, C2S_IN(S_CSVL3, .src = "192.0.2.11"),
		  DROP_AS(DROP_SRC_INVALID) },
		{ "csvl 2: new port, client silent: the agent decides", DEV_XV0,
		  C2S_IN(S_CSVL2, .sport = 3334), PUNT_AS(PUNT_ROAM), .seen = -1 },
		{ "csvl 2: new port, client active: a candidate", DEV_XV0,
		  C2S_IN(S_CSVL2, .sport = 3334), XDP_TX, XWGP_STAT_C2S_TX, true,
		  C2S_OUT(S_CSVL2), S_CSVL2, .seen = 1, .candidate = true },
		{ "csvl 2: wrong address", DEV_XV0, C2S_IN(S_CSVL2, .src = "192.0.2.11"),
		  DROP_AS(DROP_SRC_INVALID) },
		{ "csvl 2: exact source forwards", DEV_XV0, C2S_IN(S_CSVL2), XDP_TX,
		  XWGP_STAT_C2S_TX, true, C2S_OUT(S_CSVL2), S_CSVL2 },
		{ "csvl 1: new address, client silent: the agent decides", DEV_XV0,
		  C2S_IN(S_V4, .src = "192.0.2.11"), PUNT_AS(PUNT_ROAM), .seen = -1 },
		{ "csvl 1: new address, client active: a candidate, nothing moves", DEV_XV0,
		  C2S_IN(S_V4, .src = "192.0.2.11"), XDP_TX, XWGP_STAT_C2S_TX, true,
		  C2S_OUT(S_V4), S_V4, .seen = 1, .candidate = true },
		{ "csvl 1: new port, client silent", DEV_XV0, C2S_IN(S_V4, .sport = 1112),
		  PUNT_AS(PUNT_ROAM), .seen = -1 },
		{ "csvl 1: IPv6 source for an IPv4 client, client silent", DEV_XV0,
		  C2S_IN(S_V4, V6_C2S), PUNT_AS(PUNT_ROAM), .seen = -1 },
		{ "csvl 1: loopback source", DEV_XV0, C2S_IN(S_V4, .src = "127.0.0.1"),
		  DROP_AS(DROP_SRC_LOOPBACK), .seen = -1 },
		{ "csvl 1: loopback source, client active", DEV_XV0,
		  C2S_IN(S_V4, .src = "127.3.2.1"), DROP_AS(DROP_SRC_LOOPBACK), .seen = 1 },
		{ "csvl 1: IPv6 loopback source", DEV_XV0, C2S_IN(S_V6, V6_C2S, .src = "::1"),
		  DROP_AS(DROP_SRC_LOOPBACK), .seen = -1 },
		{ "csvl 1: IPv4-mapped loopback in IPv6", DEV_XV0,
		  C2S_IN(S_V6, V6_C2S, .src = "::ffff:127.0.0.1"), DROP_AS(DROP_SRC_LOOPBACK),
		  .seen = -1 },
		{ "csvl 1: unspecified source", DEV_XV0, C2S_IN(S_V4, .src = "0.0.0.0"),
		  DROP_AS(DROP_SRC_UNSPEC), .seen = -1 },
		{ "csvl 1: IPv6 unspecified source", DEV_XV0, C2S_IN(S_V6, V6_C2S, .src = "::"),
		  DROP_AS(DROP_SRC_UNSPEC), .seen = -1 },
		{ "csvl 1: multicast source", DEV_XV0, C2S_IN(S_V4, .src = "224.0.0.1"),
		  DROP_AS(DROP_SRC_MULTICAST), .seen = -1 },
		{ "csvl 1: IPv6 multicast source", DEV_XV0, C2S_IN(S_V6, V6_C2S, .src = "ff02::1"),
		  DROP_AS(DROP_SRC_MULTICAST), .seen = -1 },
		{ "csvl 1: limited broadcast source", DEV_XV0,
		  C2S_IN(S_V4, .src = "255.255.255.255"), DROP_AS(DROP_SRC_BROADCAST), .seen = -1 },
		{ "csvl 1: our subnet's broadcast source", DEV_XV0,
		  C2S_IN(S_V4, .src = "192.0.2.255"), DROP_AS(DROP_SRC_BROADCAST), .seen = -1 },
		{ "csvl 1: our own address as source", DEV_XV0, C2S_IN(S_V4, .src = "192.0.2.1"),
		  DROP_AS(DROP_SRC_LOCAL), .seen = -1 },
		{ "csvl 1: another address of ours as source", DEV_XV0,
		  C2S_IN(S_V4, .src = "203.0.113.1"), DROP_AS(DROP_SRC_LOCAL), .seen = -1 },
		{ "csvl 1: source port 0", DEV_XV0, C2S_IN(S_V4, .sport = 0),
		  DROP_AS(DROP_SRC_PORT0), .seen = -1 },
		{ "csvl 2: source port 0", DEV_XV0, C2S_IN(S_CSVL2, .sport = 0),
		  DROP_AS(DROP_SRC_PORT0), .seen = -1 },
		{ "csvl 3: loopback is simply not the client", DEV_XV0,
		  C2S_IN(S_CSVL3, .src = "127.0.0.1"), DROP_AS(DROP_SRC_INVALID) },
		{ "ssvl 1: new backend port, backend silent", DEV_XV0,
		  S2C_IN(S_SSVL1, .sport = 51822), PUNT_AS(PUNT_ROAM), .seen = -1 },
		{ "ssvl 1: new backend address, backend active: a candidate", DEV_XV0,
		  S2C_IN(S_SSVL1, .src = "192.0.2.21"), XDP_TX, XWGP_STAT_S2C_TX, true,
		  S2C_OUT(S_SSVL1), S_SSVL1, .seen = 1, .candidate = true },
		{ "ssvl 1: loopback backend source", DEV_XV0, S2C_IN(S_SSVL1, .src = "127.0.0.1"),
		  DROP_AS(DROP_SRC_LOOPBACK), .seen = -1 },
		{ "ssvl 1: broadcast backend source", DEV_XV0,
		  S2C_IN(S_SSVL1, .src = "192.0.2.255"), DROP_AS(DROP_SRC_BROADCAST), .seen = -1 },
		{ "ssvl 1: our own address as backend source", DEV_XV0,
		  S2C_IN(S_SSVL1, .src = "192.0.2.1"), DROP_AS(DROP_SRC_LOCAL), .seen = -1 },
		{ "ssvl 3: forged backend address", DEV_XV0, S2C_IN(S_V4, .src = "192.0.2.21"),
		  DROP_AS(DROP_SRC_INVALID) },
		{ "ssvl 3: forged backend port", DEV_XV0, S2C_IN(S_V4, .sport = 51822),
		  DROP_AS(DROP_SRC_INVALID) },
		{ "ssvl 3: IPv6 backend, forged address", DEV_XV0,
		  S2C_IN(S_V6, V6_S2C, .src = "2001:db8:1::21"), DROP_AS(DROP_SRC_INVALID) },
	};

	ENV_REQUIRE();
	RUN_TABLE(t);
}

TEST(punted_to_agent)
{
	static const struct xdp_case t[] = {
		{ "session not established", DEV_XV0, C2S_IN(S_UNEST),
		  PUNT_AS(PUNT_NOT_ESTABLISHED) },
		{ "IPv4 client without UDP checksum, IPv6 backend", DEV_XV0,
		  C2S_IN(S_FAMILY, .no_csum = true), PUNT_AS(PUNT_FAMILY) },
		{ "IPv4 backend without UDP checksum, IPv6 client", DEV_XV0,
		  S2C_IN(S_FAMILY6, .no_csum = true), PUNT_AS(PUNT_FAMILY) },
		{ "IPv4 client, IPv6 backend: 20 bytes more exceed the egress MTU", DEV_XV0,
		  C2S_IN(S_FAMILY, .len = 1460), PUNT_AS(PUNT_NO_ROUTE) },
		{ "no local address towards the backend", DEV_XV0, C2S_IN(S_NOLOCAL),
		  PUNT_AS(PUNT_FAMILY) },
		{ "no neighbour entry", DEV_XV0, C2S_IN(S_NONEIGH), PUNT_AS(PUNT_NO_NEIGH) },
		{ "no route", DEV_XV0, C2S_IN(S_NOROUTE), PUNT_AS(PUNT_NO_ROUTE) },
		{ "egress device not in the devmap", DEV_XV0, C2S_IN(S_NODEV),
		  PUNT_AS(PUNT_NO_DEVMAP) },
		{ "agent-only: forwardable transport", DEV_XV0, C2S_IN(S_V4),
		  PUNT_AS(PUNT_AGENT_ONLY), .cfg_flags = XWGP_CFG_AGENT_ONLY },
		{ "agent-only: initiation", DEV_XV0, C2S_IN(S_V4, .type = 1),
		  PUNT_AS(PUNT_AGENT_ONLY), .cfg_flags = XWGP_CFG_AGENT_ONLY },
		{ "agent-only: unknown index", DEV_XV0, S2C_IN(S_V4, .receiver = CP(0x70)),
		  PUNT_AS(PUNT_AGENT_ONLY), .cfg_flags = XWGP_CFG_AGENT_ONLY },
		{ "agent-only: malformed still dropped", DEV_XV0, C2S_IN(S_V4, .len = 20),
		  DROP_AS(DROP_MALFORMED), .cfg_flags = XWGP_CFG_AGENT_ONLY },
		{ "agent-only: receiver 0 still dropped", DEV_XV0, C2S_IN(S_V4, .receiver = 0),
		  DROP_AS(DROP_INDEX_ZERO), .cfg_flags = XWGP_CFG_AGENT_ONLY },
		{ "agent-only: not ours still passed", DEV_XV0, C2S_IN(S_V4, .dport = 53),
		  PASS_AS(PASS_NOT_OURS), .cfg_flags = XWGP_CFG_AGENT_ONLY },
	};

	ENV_REQUIRE();
	RUN_TABLE(t);
}

static void rl_clear(void)
{
	struct xwgp_rl_key k;

	while (!bpf_map_get_next_key(bpf_env.maps.punt_rl, NULL, &k))
		if (bpf_map_delete_elem(bpf_env.maps.punt_rl, &k))
			break;
}

#define RL .punt_rate = 5, .punt_burst = 3 /* 200 ms apart, 3 at once */

TEST(rate_limit)
{
	static const struct xdp_case burst = { "initiation within the burst", DEV_XV0,
					       C2S_IN(S_V4, .type = 1), PUNT_AS(PUNT_HANDSHAKE),
					       RL };
	static const struct xdp_case over = { "initiation over the burst", DEV_XV0,
					      C2S_IN(S_V4, .type = 1), DROP_AS(DROP_RATE_LIMITED),
					      RL };
	static const struct xdp_case t[] = {
		{ "initiation from another source", DEV_XV0,
		  C2S_IN(S_V4, .type = 1, .src = "192.0.2.11"), PUNT_AS(PUNT_HANDSHAKE), RL },
		{ "response from a backend", DEV_XV0, S2C_IN(S_V4, .type = 2),
		  PUNT_AS(PUNT_HANDSHAKE), RL },
		{ "transport is never rate limited", DEV_XV0, C2S_IN(S_V4), XDP_TX,
		  XWGP_STAT_C2S_TX, true, C2S_OUT(S_V4), S_V4, RL },
		{ "limit 0: unlimited", DEV_XV0, C2S_IN(S_V4, .type = 1), PUNT_AS(PUNT_HANDSHAKE) },
	};

	ENV_REQUIRE();
	rl_clear();
	/* The fourth initiation within 200 ms is refused; the bucket refills
	 * in burst * interval = 600 ms, then takes three again. */
	for (int round = 0; round < 2 && test_state__ == TEST_RUNNING; round++) {
		if (round)
			usleep(700 * 1000);
		for (int i = 0; i < 3 && test_state__ == TEST_RUNNING; i++)
			run_case(&burst);
		if (test_state__ == TEST_RUNNING)
			run_case(&over);
	}
	RUN_TABLE(t);
	rl_clear();
}

/* ---- limits keyed by source (bpf/rate_limit.h) ---------------------------- */

/* xwgp_limits as the agent writes it; every per-source bucket forgotten. */
static int limits_set(uint32_t v6_prefix, uint32_t tpunt_rate, uint32_t tpunt_burst,
		      uint32_t flags)
{
	struct xwgp_limits l = { .v6_prefix = v6_prefix, .tpunt_rate_pps = tpunt_rate,
				 .tpunt_burst = tpunt_burst, .flags = flags };
	int tp = bpf_map__fd(bpf_env.skel->maps.xwgp_tpunt_rl);
	struct xwgp_rl_key rk;
	uint32_t k = 0;

	rl_clear();
	while (!bpf_map_get_next_key(tp, NULL, &rk))
		if (bpf_map_delete_elem(tp, &rk))
			break;
	return bpf_map_update_elem(bpf_map__fd(bpf_env.skel->maps.xwgp_limits), &k, &l, BPF_ANY);
}

#define V6_INIT(src_) C2S_IN(S_V6, .src = src_, .dst = "2001:db8:1::1", .type = 1)

/* IPv6 sources share a bucket per prefix (default /64): a /64 is one source. */
TEST(rate_limit_ipv6_prefix)
{
	static const struct xdp_case in = { "IPv6 initiation within the burst", DEV_XV0,
					    V6_INIT("2001:db8:1::10"), PUNT_AS(PUNT_HANDSHAKE),
					    RL };
	static const struct xdp_case same64 = { "same /64, another address: over the burst",
						DEV_XV0, V6_INIT("2001:db8:1::ffff:1"),
						DROP_AS(DROP_RATE_LIMITED), RL };
	static const struct xdp_case other64 = { "another /64: its own bucket", DEV_XV0,
						 V6_INIT("2001:db8:1:1::10"),
						 PUNT_AS(PUNT_HANDSHAKE), RL };
	static const struct xdp_case host = { "prefix /128: another address, its own bucket",
					      DEV_XV0, V6_INIT("2001:db8:1::11"),
					      PUNT_AS(PUNT_HANDSHAKE), RL };
	static const struct xdp_case p48 = { "prefix /48: another /64 of the same /48", DEV_XV0,
					     V6_INIT("2001:db8:1:2::10"),
					     DROP_AS(DROP_RATE_LIMITED), RL };
	static const struct xdp_case v4 = { "IPv4: the whole address (192.0.2.11 apart)",
					    DEV_XV0, C2S_IN(S_V4, .type = 1, .src = "192.0.2.11"),
					    PUNT_AS(PUNT_HANDSHAKE), RL };

	ENV_REQUIRE();
	CHECK(!limits_set(0, 0, 0, 0), "limits map: %s", strerror(errno));
	for (int i = 0; i < 3; i++)
		run_case(&in);
	run_case(&same64);
	run_case(&other64);
	/* The same burst from 192.0.2.10: 192.0.2.11 is another source. */
	for (int i = 0; i < 3; i++)
		run_case(&(struct xdp_case){ "IPv4 within the burst", DEV_XV0,
					     C2S_IN(S_V4, .type = 1), PUNT_AS(PUNT_HANDSHAKE), RL });
	run_case(&v4);

	CHECK(!limits_set(128, 0, 0, 0), "limits map");
	for (int i = 0; i < 3; i++)
		run_case(&in);
	run_case(&(struct xdp_case){ "prefix /128: same address over the burst", DEV_XV0,
				     V6_INIT("2001:db8:1::10"), DROP_AS(DROP_RATE_LIMITED), RL });
	run_case(&host);

	CHECK(!limits_set(48, 0, 0, 0), "limits map");
	for (int i = 0; i < 3; i++)
		run_case(&in);
	run_case(&p48);
	limits_set(0, 0, 0, 0);
}

/* Transport punts (here: session not established) per source, then dropped and counted. */
TEST(transport_punt_limit)
{
	static const struct xdp_case in = { "unestablished transport within the burst",
					    DEV_XV0, C2S_IN(S_UNEST), PUNT_AS(PUNT_NOT_ESTABLISHED) };
	static const struct xdp_case over = { "unestablished transport over the burst", DEV_XV0,
					      C2S_IN(S_UNEST), DROP_AS(DROP_TPUNT_LIMITED) };
	static const struct xdp_case other = { "another source: its own bucket", DEV_XV0,
					       C2S_IN(S_UNEST, .src = "192.0.2.77"),
					       PUNT_AS(PUNT_NOT_ESTABLISHED) };
	static const struct xdp_case noroute = { "no route: the same source's bucket", DEV_XV0,
						 C2S_IN(S_NOROUTE), DROP_AS(DROP_TPUNT_LIMITED) };
	static const struct xdp_case fwd = { "forwarded transport is never limited", DEV_XV0,
					     C2S_IN(S_V4), XDP_TX, XWGP_STAT_C2S_TX, true,
					     C2S_OUT(S_V4), S_V4 };
	static const struct xdp_case hs = { "handshakes keep their own limit", DEV_XV0,
					    C2S_IN(S_V4, .type = 1), PUNT_AS(PUNT_HANDSHAKE) };

	ENV_REQUIRE();
	/* 4 a second (250 ms apart), 2 at once. */
	CHECK(!limits_set(0, 4, 2, 0), "limits map: %s", strerror(errno));
	run_case(&in);
	run_case(&in);
	run_case(&over);
	run_case(&noroute);
	run_case(&other);
	run_case(&fwd);
	run_case(&hs);
	usleep(300 * 1000); /* one interval: one more */
	run_case(&in);
	run_case(&over);
	CHECK(!limits_set(0, 4, 2, XWGP_LIM_TPUNT_OFF), "limits map");
	for (int i = 0; i < 5; i++)
		run_case(&(struct xdp_case){ "transport_punt_rate 0: unlimited", DEV_XV0,
					     C2S_IN(S_UNEST), PUNT_AS(PUNT_NOT_ESTABLISHED) });
	limits_set(0, 0, 0, 0);
}

/* ---- the handshake budget under load (bpf/hs_budget.h) ------------------- */

/* The global budget: used of limit in the current window; every source forgotten. */
static int hs_budget_set(uint64_t used, uint32_t limit)
{
	struct xwgp_hs_budget b = { .window = xwgp_now_ns() >> XWGP_HS_WINDOW_SHIFT,
				    .used = used, .limit = limit };
	int src = bpf_map__fd(bpf_env.skel->maps.xwgp_hs_src);
	struct xwgp_rl_key rk;
	uint32_t k = 0;

	while (!bpf_map_get_next_key(src, NULL, &rk))
		if (bpf_map_delete_elem(src, &rk))
			break;

	return bpf_map_update_elem(bpf_map__fd(bpf_env.skel->maps.xwgp_hs_budget), &k, &b, BPF_ANY);
}

/* Budget spent (in this window: the case runs within microseconds of it). */
static void run_spent(const struct xdp_case *c)
{
	CHECK(!hs_budget_set(2, 2), "budget map: %s", strerror(errno));
	run_case(c);
}

#define UL .cfg_flags = XWGP_CFG_UNDER_LOAD

TEST(hs_budget_under_load)
{
	static const struct xdp_case spent[] = {
		{ "under load, MAC2 zero, budget spent", DEV_XV0,
		  C2S_IN(S_V4, .type = 1, .zero_mac2 = true), DROP_AS(DROP_RATE_LIMITED), UL },
		{ "under load, IPv6, MAC2 zero, budget spent", DEV_XV0,
		  C2S_IN(S_V6, V6_C2S, .type = 1, .zero_mac2 = true), DROP_AS(DROP_RATE_LIMITED),
		  UL },
		{ "under load, MAC2 set: punted for the agent's check", DEV_XV0,
		  C2S_IN(S_V4, .type = 1), PUNT_AS(PUNT_HANDSHAKE), UL },
		{ "under load, MAC2 zero but its last byte", DEV_XV0,
		  C2S_IN(S_V4, .type = 1, .zero_mac2 = true, .mac2_byte = 16),
		  PUNT_AS(PUNT_HANDSHAKE), UL },
		{ "not under load, MAC2 zero", DEV_XV0, C2S_IN(S_V4, .type = 1, .zero_mac2 = true),
		  PUNT_AS(PUNT_HANDSHAKE) },
		{ "under load, response from a backend", DEV_XV0,
		  S2C_IN(S_V4, .type = 2, .zero_mac2 = true), PUNT_AS(PUNT_HANDSHAKE), UL },
	};
	static const char *const srcs[] = { "192.0.2.41", "192.0.2.42", "192.0.2.43", "192.0.2.44",
					    "192.0.2.45" };
	struct xdp_case zero = { "under load, MAC2 zero, within the budget", DEV_XV0,
				 C2S_IN(S_V4, .type = 1, .zero_mac2 = true),
				 PUNT_AS(PUNT_HANDSHAKE), UL };
	struct xdp_case over = { "under load, MAC2 zero, over the budget", DEV_XV0,
				 C2S_IN(S_V4, .type = 1, .zero_mac2 = true, .src = "192.0.2.46"),
				 DROP_AS(DROP_RATE_LIMITED), UL };
	static const struct xdp_case mac2 = { "under load, MAC2 set, over the budget", DEV_XV0,
					      C2S_IN(S_V4, .type = 1), PUNT_AS(PUNT_HANDSHAKE), UL };

	ENV_REQUIRE();
	for (size_t i = 0; i < sizeof(spent) / sizeof(spent[0]) && test_state__ == TEST_RUNNING; i++)
		run_spent(&spent[i]);
	/*
	 * A budget of 3 in a fresh window: three punts, then drops, MAC2 still
	 * through. The window is 67 ms: a sequence that straddles two is
	 * retried, so the counts checked are those of one window.
	 */
	bool checked = false;

	for (int tries = 0; tries < 10 && test_state__ == TEST_RUNNING; tries++) {
		static const uint32_t want[6] = { XDP_PASS, XDP_PASS, XDP_PASS,
						  XDP_DROP, XDP_PASS, XDP_DROP };
		struct xdp_case seq[6] = { zero, zero, zero, over, mac2, over };
		uint32_t got[6];
		uint64_t w;

		for (int i = 0; i < 3; i++)
			seq[i].in.src = srcs[i]; /* other sources: per-source limits stay out */
		seq[5].in.src = srcs[4];
		CHECK(!cfg_set(&seq[0]), "cfg");
		CHECK(!hs_budget_set(0, 3), "budget map");
		w = xwgp_now_ns() >> XWGP_HS_WINDOW_SHIFT;
		for (int i = 0; i < 6; i++) {
			struct bpf_env_result r;
			struct pkt_frame f;

			build(&f, &seq[i].in);
			CHECK(!bpf_env_run(&f, env.ifindex[DEV_XV0], &r), "run");
			got[i] = r.act;
		}
		cfg_reset();
		if ((xwgp_now_ns() >> XWGP_HS_WINDOW_SHIFT) != w)
			continue;
		for (int i = 0; i < 6; i++)
			CHECK(got[i] == want[i], "%s (#%d): %s, want %s", seq[i].desc, i,
			      act_name(got[i]), act_name(want[i]));
		checked = true;
		break;
	}
	CHECK(checked, "no try fell within one 67 ms window");
	hs_budget_set(0, 0);
}

/* Under load, per source: 2 at once, then one every 500 ms; others unaffected. */
TEST(hs_budget_per_source)
{
	static const struct xdp_case in = { "under load, MAC2 zero, within the source's burst",
					    DEV_XV0, C2S_IN(S_V4, .type = 1, .zero_mac2 = true),
					    PUNT_AS(PUNT_HANDSHAKE), UL };
	static const struct xdp_case over = { "under load, MAC2 zero, over the source's burst",
					      DEV_XV0, C2S_IN(S_V4, .type = 1, .zero_mac2 = true),
					      DROP_AS(DROP_RATE_LIMITED), UL };
	static const struct xdp_case other = { "under load, MAC2 zero, another source", DEV_XV0,
					       C2S_IN(S_V4, .type = 1, .zero_mac2 = true,
						      .src = "192.0.2.11"),
					       PUNT_AS(PUNT_HANDSHAKE), UL };
	static const struct xdp_case mac2 = { "under load, MAC2 set, same source", DEV_XV0,
					      C2S_IN(S_V4, .type = 1), PUNT_AS(PUNT_HANDSHAKE), UL };
	static const struct xdp_case calm = { "not under load, same source", DEV_XV0,
					      C2S_IN(S_V4, .type = 1, .zero_mac2 = true),
					      PUNT_AS(PUNT_HANDSHAKE) };

	struct xwgp_hs_budget b;
	uint32_t k = 0;

	ENV_REQUIRE();
	CHECK(!hs_budget_set(0, 1000), "budget map");
	run_case(&in);
	run_case(&in);
	run_case(&over);
	run_case(&other);
	run_case(&mac2);
	run_case(&calm);
	usleep(550 * 1000); /* one interval: one more */
	run_case(&in);
	run_case(&over);
	/* Each refusal counted for the agent (it stays under load while they move). */
	CHECK(!bpf_map_lookup_elem(bpf_map__fd(bpf_env.skel->maps.xwgp_hs_budget), &k, &b));
	CHECK(b.refused == 2, "refused %u, want 2", b.refused);
	hs_budget_set(0, 0);
}

/*
 * Agreement with the agent's twin: under load, with the budget spent, XDP
 * drops exactly the initiations cookie_guard_can_wait() lets wait.
 */
TEST(hs_budget_agrees_with_agent)
{
	struct cookie_guard g;
	uint8_t msg[WG_INIT_LEN] = { WG_MSG_INITIATION };
	struct xwgp_ep src;
	int n = 0;

	ENV_REQUIRE();
	cookie_guard_init(&g);
	src = pkt_ep("192.0.2.10", 1111);
	cookie_guard_check(&g, msg, &src, 1, 0, NULL); /* under_load 0: now under load */
	CHECK(g.under_load, "guard not under load");
	for (int seed = 0; seed < 4; seed++)
		for (int b = 0; b <= 16 && test_state__ == TEST_RUNNING; b++, n++) {
			struct spec sp = C2S_IN(S_V4, .type = 1, .seed = (uint8_t)(seed * 53),
						 .zero_mac2 = seed != 3, .mac2_byte = (int8_t)b);
			struct bpf_env_result r;
			struct pkt_frame f;
			bool agent;

			if (seed & 1) {
				sp.src = "2001:db8:1::10";
				sp.dst = "2001:db8:1::1";
			}
			build(&f, &sp);
			build_msg(msg, &sp, WG_INIT_LEN);
			agent = cookie_guard_can_wait(&g, msg, WG_INIT_LEN);
			CHECK(!hs_budget_set(2, 2), "budget map");
			CHECK(!cfg_set(&(struct xdp_case){ UL }), "cfg");
			CHECK(!bpf_env_run(&f, env.ifindex[DEV_XV0], &r), "run");
			cfg_reset();
			CHECK((r.act == XDP_DROP) == agent,
			      "seed %d MAC2 byte %d: XDP %s, agent %s", seed, b, act_name(r.act),
			      agent ? "waits" : "serves first");
		}
	cookie_guard_wipe(&g);
	hs_budget_set(0, 0);
	CHECK(n == 68);
}

TEST(punt_to_xsk)
{
	static const struct xdp_case t[] = {
		{ "initiation punted to the AF_XDP socket", DEV_XV0, C2S_IN(S_V4, .type = 1),
		  XDP_REDIRECT, XWGP_STAT_PUNT_HANDSHAKE, .xsk = true },
		{ "roaming punted to the AF_XDP socket", DEV_XV0, C2S_IN(S_V4, .sport = 1),
		  XDP_REDIRECT, XWGP_STAT_PUNT_ROAM, .xsk = true, .seen = -1 },
	};
	const size_t umem_size = 64 * XSK_UMEM__DEFAULT_FRAME_SIZE;
	struct xsk_socket_config xcfg = {
		.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
	struct xsk_umem *umem = NULL;
	struct xsk_socket *xsk = NULL;
	uint32_t q = 0, key, ifindex;
	void *area;
	int err, fd, slots;

	ENV_REQUIRE();
	slots = bpf_env.maps.xsk_slot;
	area = mmap(NULL, umem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(area != MAP_FAILED, "mmap: %s", strerror(errno));
	err = xsk_umem__create(&umem, area, umem_size, &fq, &cq, NULL);
	if (!err)
		err = xsk_socket__create(&xsk, "xv0", 0, umem, &rx, &tx, &xcfg);
	if (err) {
		if (umem)
			xsk_umem__delete(umem);
		munmap(area, umem_size);
		SKIP("AF_XDP socket on veth: %s", strerror(-err));
	}
	fd = xsk_socket__fd(xsk);
	/* Slot 3 for xv0: the key must be slot * XWGP_MAX_QUEUES_PER_DEV + queue. */
	key = 3 * XWGP_MAX_QUEUES_PER_DEV + q;
	ifindex = env.ifindex[DEV_XV0];
	err = bpf_map_update_elem(bpf_env.maps.xsks, &key, &fd, BPF_ANY);
	if (!err)
		err = bpf_map_update_elem(slots, &ifindex, &(uint32_t){ 3 }, BPF_ANY);
	if (!err)
		RUN_TABLE(t);
	bpf_map_delete_elem(slots, &ifindex);
	bpf_map_delete_elem(bpf_env.maps.xsks, &key);
	xsk_socket__delete(xsk);
	xsk_umem__delete(umem);
	munmap(area, umem_size);
	CHECK(!err, "xsks map update: %s", strerror(errno));
}

/*
 * A wildcard claims what the local-address map says, as it changes (the
 * agent follows netlink); a configured listen address needs no map.
 */
TEST(local_addresses_follow_the_map)
{
	static const struct xdp_case ours[] = {
		{ "initiation to our address", DEV_XV0, C2S_IN(S_V4, .type = 1),
		  PUNT_AS(PUNT_HANDSHAKE) },
	};
	static const struct xdp_case gone[] = {
		{ "initiation to an address no longer ours", DEV_XV0, C2S_IN(S_V4, .type = 1),
		  PASS_AS(PASS_NOT_LOCAL) },
		{ "transport of a session to an address no longer ours", DEV_XV0,
		  C2S_IN(S_V4), XDP_TX, XWGP_STAT_C2S_TX, true, C2S_OUT(S_V4), S_V4 },
		{ "configured listen address: no map needed", DEV_XV0, C2S_IN(S_V4, .type = 1),
		  PUNT_AS(PUNT_HANDSHAKE), .listen_v4 = true },
	};

	ENV_REQUIRE();
	RUN_TABLE(ours);
	CHECK(!bpf_env_local("192.0.2.1", 0), "%s", bpf_env.why);
	RUN_TABLE(gone);
	CHECK(!bpf_env_local("192.0.2.1", XWGP_LOCAL_ADDR), "%s", bpf_env.why);
	RUN_TABLE(ours);
}

TEST(stats_not_ours_counted_once)
{
	/* Many packets in one run: RX and the reason both count each one. */
	struct spec s = C2S_IN(S_V4, .dport = 53);
	struct xwgp_stat_val before[XWGP_STAT__MAX], after[XWGP_STAT__MAX];
	struct pkt_frame in, out;
	struct xdp_md ctx = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_out = out.b, .data_size_out = sizeof(out.b),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 50);

	ENV_REQUIRE();
	build(&in, &s);
	ctx.data_end = in.len;
	ctx.ingress_ifindex = env.ifindex[DEV_XV0];
	o.data_in = in.b;
	o.data_size_in = in.len;
	bpf_env_stats_sum(before);
	CHECK(!bpf_prog_test_run_opts(bpf_env.prog, &o), "test run: %s", strerror(errno));
	bpf_env_stats_sum(after);
	CHECK(o.retval == XDP_PASS, "action %s", act_name(o.retval));
	CHECK(after[XWGP_STAT_RX].packets - before[XWGP_STAT_RX].packets == 50, "RX moved by %llu",
	      ULL(after[XWGP_STAT_RX].packets - before[XWGP_STAT_RX].packets));
	CHECK(after[XWGP_STAT_PASS_NOT_OURS].bytes - before[XWGP_STAT_PASS_NOT_OURS].bytes ==
		      50 * in.len,
	      "PASS_NOT_OURS bytes moved by %llu",
	      ULL(after[XWGP_STAT_PASS_NOT_OURS].bytes - before[XWGP_STAT_PASS_NOT_OURS].bytes));
}

TEST_MAIN()

/* Under load, the per-source limit of initiations without MAC2 keys IPv6 by prefix too. */
TEST(hs_budget_ipv6_prefix)
{
	static const struct xdp_case in = { "under load, IPv6, MAC2 zero, within the burst",
					    DEV_XV0,
					    C2S_IN(S_V6, V6_C2S, .type = 1, .zero_mac2 = true),
					    PUNT_AS(PUNT_HANDSHAKE), UL };
	static const struct xdp_case same64 = {
		"under load, same /64, another address: over the source's burst", DEV_XV0,
		C2S_IN(S_V6, .src = "2001:db8:1::abcd", .dst = "2001:db8:1::1", .type = 1,
		       .zero_mac2 = true),
		DROP_AS(DROP_RATE_LIMITED), UL
	};

	ENV_REQUIRE();
	CHECK(!limits_set(0, 0, 0, 0), "limits map");
	CHECK(!hs_budget_set(0, 1000), "budget map");
	run_case(&in);
	run_case(&in);
	run_case(&same64);
	hs_budget_set(0, 0);
}
