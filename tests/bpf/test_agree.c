// SPDX-License-Identifier: GPL-2.0
/*
 * Fast path and slow path agree: every transport packet of a table (sessions
 * x directions x source addresses x payloads), and then a few thousand random
 * ones, goes through the XDP program (BPF_PROG_TEST_RUN) and through the
 * agent's transport_parse() + session lookup + transport_forward() on the
 * same bytes, and the outcomes must correspond:
 *
 *   XDP                                  agent
 *   C2S/S2C_TX, C2S/S2C_REDIRECT         0, no endpoint change, the same payload
 *                                        bytes, src/dst = the frame's new src/dst
 *   DROP_<r>                             -XWGP_STAT_DROP_<r>
 *   C2S/S2C_* + ROAM_CANDIDATE           0 with candidate, no endpoint change
 *                                        (the current endpoint is active)
 *   PUNT_ROAM (the agent decides)        0 with candidate and cand_changed (the
 *                                        current endpoint is silent): the first
 *                                        packet is remembered; the agent run
 *                                        again with that candidate moves: the
 *                                        peer endpoint now the packet's
 *                                        source; and XDP, run again on the
 *                                        session the agent wrote back, agrees
 *   DROP_SRC_<martian>                   the same drop (both consult the same
 *                                        local addresses: the XDP map and the
 *                                        agent's table hold the same entries)
 *   PUNT_NOT_ESTABLISHED (agent decides) -XWGP_STAT_DROP_UNKNOWN_INDEX: no
 *                                        backend index to forward to
 *   PUNT_FAMILY / NO_ROUTE / NO_NEIGH /  0, no endpoint change, dst = the
 *   NO_DEVMAP (XDP-only limits)          session's target: the socket path can
 *   anything else                        a failure: not a transport outcome
 *
 * A packet XDP does not forward must leave it unmodified.
 *
 * Topology (own network namespace): xv0 02:00:00:00:00:01 with 192.0.2.1/24
 * and 2001:db8:1::1/64; permanent neighbours for the clients 192.0.2.10/.11,
 * 2001:db8:1::10/::11 and backends 192.0.2.20, 2001:db8:1::20; 192.0.2.30 has
 * no neighbour entry and 198.51.100.200 no route. Local addresses (the XDP
 * map and the agent's table): 192.0.2.1 and 2001:db8:1::1 ours, 192.0.2.255
 * the subnet's broadcast.
 */
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bpf_env.h"
#include "clock.h"
#include "local_addrs.h"
#include "test.h"
#include "transport.h"
#include "wg_proto.h"
#include "wgit.h"

#define LISTEN_PORT   51820
#define UPSTREAM_PORT 40000
#define BACKEND_PORT  51821
#define MAX_PACKET    1500
#define FRAME_CAP     2048

#define CO(n) (0x0c000000u | (n))
#define CP(n) (0x1c000000u | (n))
#define SO(n) (0x0a000000u | (n))
#define SP(n) (0x1a000000u | (n))

/* ---- environment --------------------------------------------------------- */

static const char *const topo_cmds[] = {
	"ip link add xv0 address 02:00:00:00:00:01 type veth peer name xv1",
	"ip link set xv0 up && ip link set xv1 up",
	"ip addr add 192.0.2.1/24 dev xv0",
	"ip -6 addr add 2001:db8:1::1/64 dev xv0 nodad",
	"ip neigh add 192.0.2.10 lladdr 02:00:00:00:0c:01 dev xv0 nud permanent",
	"ip neigh add 192.0.2.11 lladdr 02:00:00:00:0c:02 dev xv0 nud permanent",
	"ip neigh add 192.0.2.20 lladdr 02:00:00:00:0a:01 dev xv0 nud permanent",
	"ip -6 neigh add 2001:db8:1::10 lladdr 02:00:00:00:0c:01 dev xv0 nud permanent",
	"ip -6 neigh add 2001:db8:1::11 lladdr 02:00:00:00:0c:02 dev xv0 nud permanent",
	"ip -6 neigh add 2001:db8:1::20 lladdr 02:00:00:00:0a:01 dev xv0 nud permanent",
};

/* Sessions: n -> definition; indexes from CO/CP/SO/SP. */
struct sess_def {
	const char *client;
	uint16_t cport;
	const char *client_local;
	const char *server;
	const char *server_local;
	uint8_t csvl, ssvl;
	bool established;
};

static const struct sess_def sess_defs[] = {
	[1] = { "192.0.2.10", 1111, "192.0.2.1", "192.0.2.20", "192.0.2.1", 1, 3, true },
	[2] = { "2001:db8:1::10", 1111, "2001:db8:1::1", "2001:db8:1::20", "2001:db8:1::1", 1, 3,
		true },
	[3] = { "192.0.2.10", 3333, "192.0.2.1", "192.0.2.20", "192.0.2.1", 2, 2, true },
	[4] = { "192.0.2.10", 2222, "192.0.2.1", "192.0.2.20", "192.0.2.1", 3, 1, true },
	[5] = { "192.0.2.10", 5555, "192.0.2.1", "192.0.2.20", "192.0.2.1", 1, 3, false },
	[6] = { "192.0.2.10", 6666, "192.0.2.1", "2001:db8:1::20", "2001:db8:1::1", 1, 3, true },
	[7] = { "192.0.2.10", 7777, "192.0.2.1", "198.51.100.200", "192.0.2.1", 1, 3, true },
	[8] = { "192.0.2.10", 8888, "192.0.2.1", "192.0.2.30", "192.0.2.1", 1, 3, true },
	[9] = { "192.0.2.10", 9999, "192.0.2.1", "192.0.2.20", NULL, 1, 3, true },
	[10] = { "2001:db8:1::10", 1010, "2001:db8:1::1", "2001:db8:1::20", "2001:db8:1::1", 2, 2,
		 true },
	[11] = { "2001:db8:1::10", 1011, "2001:db8:1::1", "2001:db8:1::20", "2001:db8:1::1", 0, 7,
		 true }, /* levels out of range: both paths must act as IP_PORT */
	/* The other family towards the backend (bpf/xlat.h; session 6 the reverse). */
	[12] = { "2001:db8:1::10", 1212, "2001:db8:1::1", "192.0.2.20", "192.0.2.1", 1, 3, true },
};
#define N_SESS ((int)(sizeof(sess_defs) / sizeof(sess_defs[0])))

/* When every session's client and backend last sent (0: never: roaming decides). */
static uint64_t seen_ns;

static struct xwgp_session sess_make(int n)
{
	const struct sess_def *d = &sess_defs[n];

	return (struct xwgp_session){
		.client_seen_ns = seen_ns,
		.server_seen_ns = seen_ns,
		.client = pkt_ep(d->client, d->cport),
		.client_local = pkt_ep(d->client_local, LISTEN_PORT),
		.server = pkt_ep(d->server, BACKEND_PORT),
		.server_local = pkt_ep(d->server_local, UPSTREAM_PORT),
		.client_origin_index = CO(n),
		.client_proxy_index = CP(n),
		.server_origin_index = d->established ? SO(n) : 0,
		.server_proxy_index = SP(n),
		.csvl = d->csvl,
		.ssvl = d->ssvl,
		.flags = d->established ? XWGP_SF_ESTABLISHED : 0,
	};
}

/* Put session n back as created (counters 0, original endpoints). */
static int sess_reset(int n)
{
	struct xwgp_session s = sess_make(n);
	uint32_t slot = SLOT(CP(n)); /* CP(n) and SP(n) both name slot n */

	return bpf_map_update_elem(bpf_env.maps.sessions, &slot, &s, BPF_ANY);
}

static int xv0_ifindex;
static struct wgit agent_wgit = { .maps = &bpf_env.maps };
static struct local_addrs agent_local = { .nl_fd = -1, .map_fd = -1 };

static const struct {
	const char *addr;
	uint32_t kind;
} local_defs[] = {
	{ "192.0.2.1", XWGP_LOCAL_ADDR },
	{ "2001:db8:1::1", XWGP_LOCAL_ADDR },
	{ "192.0.2.255", XWGP_LOCAL_BROADCAST },
};

/* The same entries in the XDP map and the agent's table. */
static int locals_fill(void)
{
	agent_local.map_fd = bpf_map__fd(bpf_env.skel->maps.xwgp_local_addr);
	for (size_t i = 0; i < sizeof(local_defs) / sizeof(local_defs[0]); i++) {
		struct xwgp_ep e = pkt_ep(local_defs[i].addr, 1);
		uint32_t key[4];

		memcpy(key, e.addr, sizeof(key));
		if (local_addrs_change(&agent_local, key, 1, local_defs[i].kind, 0, true))
			return -1;
	}
	return 0;
}

/* The config and every session, once after the load (bpf_env_up's fill). */
static int maps_fill(void)
{
	struct xwgp_cfg cfg = {
		.abi_version = XWGP_ABI_VERSION,
		.listen = { .port = htons(LISTEN_PORT) },
		.upstream = { .port = htons(UPSTREAM_PORT) },
		.max_packet_size = MAX_PACKET,
	};
	uint32_t k = 0;

	xv0_ifindex = if_nametoindex("xv0");
	if (!xv0_ifindex) {
		snprintf(bpf_env.why, sizeof(bpf_env.why), "no xv0_ifindex for xv0");
		return -1;
	}
	if (bpf_map_update_elem(bpf_env.maps.cfg, &k, &cfg, BPF_ANY)) {
		snprintf(bpf_env.why, sizeof(bpf_env.why), "cfg: %s", strerror(errno));
		return -1;
	}
	if (locals_fill()) {
		snprintf(bpf_env.why, sizeof(bpf_env.why), "local addresses: %s", strerror(errno));
		return -1;
	}
	for (int n = 1; n < N_SESS; n++) {
		if (sess_reset(n)) {
			snprintf(bpf_env.why, sizeof(bpf_env.why), "session %d: %s", n,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

#define ENV_REQUIRE() BPF_ENV_REQUIRE(topo_cmds, maps_fill)

/* ---- the two paths ------------------------------------------------------- */

static const char *reason_name(int r)
{
	if (!r)
		return "forward"; /* agent's 0; RX is never a reason */
	return bpf_env_reason(r);
}

/* One transport datagram as the agent receives it. */
struct agent_in {
	enum xwgp_side side;
	struct xwgp_ep from, to;
	uint8_t payload[FRAME_CAP];
	size_t len;
};

struct agent_result {
	int ret;	       /* 0 or -reason */
	int sess;	       /* session found (0: none) */
	struct xwgp_session s; /* after transport_forward */
	struct transport_out out;
	uint8_t payload[FRAME_CAP];
};

/*
 * What the agent's handler does: parse, look the session up in the maps,
 * forward. cand: the side's roaming candidate the meta would hold (NULL: none).
 */
static void run_agent(const struct agent_in *in, struct agent_result *r,
		      const struct xwgp_ep *cand)
{
	struct transport_roam roam = { .local = &agent_local };

	uint32_t receiver, key;

	memset(r, 0, sizeof(*r));
	memcpy(r->payload, in->payload, in->len);
	r->ret = transport_parse(r->payload, in->len, MAX_PACKET, &receiver);
	if (r->ret)
		return;
	/* The agent's own lookup (wgit.c), on the maps XDP reads. */
	if (in->side == XWGP_SIDE_CLIENT ? wgit_session_by_server_index(&agent_wgit, receiver, &r->s) :
					   wgit_session_get(&agent_wgit, receiver, &r->s)) {
		r->ret = -XWGP_STAT_DROP_UNKNOWN_INDEX;
		return;
	}
	key = r->s.client_proxy_index;
	r->sess = key & 0xffff;
	if (cand)
		roam.cand = *cand;
	r->ret = transport_forward(&r->s, in->side, &in->from, &in->to, r->payload, in->len,
				   xwgp_now_ns(), &roam, &r->out);
}

/* ---- comparing ----------------------------------------------------------- */

static bool is_forward(int reason)
{
	return reason == XWGP_STAT_C2S_TX || reason == XWGP_STAT_C2S_REDIRECT ||
	       reason == XWGP_STAT_S2C_TX || reason == XWGP_STAT_S2C_REDIRECT;
}

static bool is_xdp_only_punt(int reason)
{
	return reason == XWGP_STAT_PUNT_FAMILY || reason == XWGP_STAT_PUNT_NO_ROUTE ||
	       reason == XWGP_STAT_PUNT_NO_NEIGH || reason == XWGP_STAT_PUNT_NO_DEVMAP;
}

/* Both forwarded: same bytes, same addresses. */
static void check_same_forward(const char *desc, const struct bpf_env_result *x,
			       const struct agent_result *a, size_t len)
{
	struct pkt_parsed p;
	char b1[64], b2[64];

	pkt_parse(&x->out, &p);
	CHECK(!p.bad[0], "%s: XDP output: %s", desc, p.bad);
	CHECK(p.len == len, "%s: XDP payload %zu bytes, agent %zu", desc, p.len, len);
	CHECK(!memcmp(p.payload, a->payload, len), "%s: payload bytes differ", desc);
	CHECK(pkt_ep_eq(&p.src, &a->out.src), "%s: src XDP %s, agent %s", desc,
	      pkt_ep_str(&p.src, b1, sizeof(b1)), pkt_ep_str(&a->out.src, b2, sizeof(b2)));
	CHECK(pkt_ep_eq(&p.dst, &a->out.dst), "%s: dst XDP %s, agent %s", desc,
	      pkt_ep_str(&p.dst, b1, sizeof(b1)), pkt_ep_str(&a->out.dst, b2, sizeof(b2)));
}

/* Both paths' counters after one forward from a fresh session. */
static void check_same_counters(const char *desc, const struct agent_result *a)
{
	struct xwgp_session xs;
	uint32_t key = SLOT(CP(a->sess));

	CHECK(!bpf_map_lookup_elem(bpf_env.maps.sessions, &key, &xs), "%s: session gone", desc);
	CHECK(xs.c2s_packets == a->s.c2s_packets && xs.c2s_bytes == a->s.c2s_bytes &&
		      xs.s2c_packets == a->s.s2c_packets && xs.s2c_bytes == a->s.s2c_bytes,
	      "%s: counters XDP %llu/%llu %llu/%llu, agent %llu/%llu %llu/%llu", desc,
	      (unsigned long long)xs.c2s_packets, (unsigned long long)xs.c2s_bytes,
	      (unsigned long long)xs.s2c_packets, (unsigned long long)xs.s2c_bytes,
	      (unsigned long long)a->s.c2s_packets, (unsigned long long)a->s.c2s_bytes,
	      (unsigned long long)a->s.s2c_packets, (unsigned long long)a->s.s2c_bytes);
	CHECK(xs.last_seen_ns && a->s.last_seen_ns, "%s: last_seen_ns not set", desc);
}

/*
 * Roaming after the current endpoint fell silent: the agent remembers the
 * first packet's source as the candidate, the second one moves the session;
 * XDP on the written-back session agrees.
 */
static void check_roam(const char *desc, const struct pkt_frame *in, const struct agent_in *ai,
		       const struct agent_result *a1)
{
	bool c2s = ai->side == XWGP_SIDE_CLIENT;
	struct agent_result second, *a = &second;
	const struct xwgp_ep *peer = c2s ? &a->s.client : &a->s.server;
	const struct xwgp_ep *local = c2s ? &a->s.client_local : &a->s.server_local;
	uint32_t key = SLOT(CP(a1->sess));
	struct bpf_env_result x2;

	CHECK(a1->ret == 0 && a1->out.candidate && a1->out.cand_changed &&
		      !a1->out.endpoint_changed && pkt_ep_eq(&a1->out.cand, &ai->from),
	      "%s: XDP PUNT_ROAM, agent %d (%s) candidate %d/%d changed %d", desc, a1->ret,
	      reason_name(-a1->ret), a1->out.candidate, a1->out.cand_changed,
	      a1->out.endpoint_changed);
	run_agent(ai, a, &ai->from);
	CHECK(a->ret == 0 && a->out.endpoint_changed && a->out.cand_changed &&
		      a->out.cand.family == XWGP_FAMILY_NONE && !a->out.candidate,
	      "%s: second packet: agent %d (%s) changed %d", desc, a->ret, reason_name(-a->ret),
	      a->out.endpoint_changed);
	CHECK(pkt_ep_eq(peer, &ai->from), "%s: agent did not store the new endpoint", desc);
	CHECK(pkt_ep_eq(local, &ai->to), "%s: agent did not store the local endpoint", desc);
	CHECK(!bpf_map_update_elem(bpf_env.maps.sessions, &key, &a->s, BPF_EXIST), "%s: write back",
	      desc);
	CHECK(!bpf_env_run(in, xv0_ifindex, &x2), "%s: test run: %s", desc, strerror(errno));
	if (is_forward(x2.reason))
		check_same_forward(desc, &x2, a, ai->len);
	else
		CHECK(is_xdp_only_punt(x2.reason), "%s: after roaming XDP says %s", desc,
		      reason_name(x2.reason));
}

static void check_agree(const char *desc, const struct pkt_frame *in, const struct agent_in *ai)
{
	struct agent_result a;
	struct bpf_env_result x;
	int want_drop;

	/* The agent first: it reads the sessions before XDP's counters move. */
	run_agent(ai, &a, NULL);
	CHECK(!bpf_env_run(in, xv0_ifindex, &x), "%s: test run: %s", desc, strerror(errno));
	CHECK(x.reason >= 0, "%s: XDP moved %s reason counters", desc,
	      x.reason == -1 ? "no" : "several");
	if (!is_forward(x.reason))
		CHECK(x.out.len == in->len && !memcmp(x.out.b, in->b, in->len),
		      "%s: XDP %s modified the packet", desc, reason_name(x.reason));
	if (is_forward(x.reason)) {
		CHECK(a.ret == 0 && !a.out.endpoint_changed && !a.out.cand_changed &&
			      a.out.candidate == x.candidate,
		      "%s: XDP forwards (%s, candidate %d), agent %d (%s) changed %d candidate %d",
		      desc, reason_name(x.reason), x.candidate, a.ret, reason_name(-a.ret),
		      a.out.endpoint_changed, a.out.candidate);
		check_same_forward(desc, &x, &a, ai->len);
		if (test_state__ == TEST_RUNNING)
			check_same_counters(desc, &a);
		return;
	}
	if (x.reason == XWGP_STAT_PUNT_ROAM) {
		check_roam(desc, in, ai, &a);
		return;
	}
	if (is_xdp_only_punt(x.reason)) {
		const struct xwgp_session s0 = sess_make(a.sess);
		const struct xwgp_ep *dst = ai->side == XWGP_SIDE_CLIENT ? &s0.server : &s0.client;

		CHECK(a.ret == 0 && !a.out.endpoint_changed && pkt_ep_eq(&a.out.dst, dst),
		      "%s: XDP %s, agent %d (%s) changed %d", desc, reason_name(x.reason), a.ret,
		      reason_name(-a.ret), a.out.endpoint_changed);
		return;
	}
	want_drop = x.reason == XWGP_STAT_PUNT_NOT_ESTABLISHED ? XWGP_STAT_DROP_UNKNOWN_INDEX
							       : x.reason;
	CHECK(!strncmp(bpf_env_reason(want_drop), "DROP_", 5), "%s: XDP %s is no transport outcome",
	      desc, reason_name(x.reason));
	CHECK(x.act == 1 /* XDP_DROP */ || x.reason == XWGP_STAT_PUNT_NOT_ESTABLISHED,
	      "%s: XDP counted %s but returned %u", desc, reason_name(x.reason), x.act);
	CHECK(a.ret == -want_drop, "%s: XDP %s, agent %d (%s)", desc, reason_name(x.reason), a.ret,
	      reason_name(-a.ret));
}

/* ---- the table ----------------------------------------------------------- */

enum src_kind {
	SRC_EXACT,
	SRC_PORT,
	SRC_ADDR,
	SRC_FAMILY,
	/* Martians: never an endpoint, whatever the level allows. */
	SRC_LOOPBACK,
	SRC_MULTICAST,
	SRC_BROADCAST, /* our subnet's (from the local addresses) */
	SRC_LOCAL,     /* our own address */
	SRC_PORT0,
	SRC__MAX
};

/* The peer's stored endpoint, changed as kind says. */
static struct xwgp_ep source(const struct xwgp_ep *peer, enum src_kind kind)
{
	bool v6 = peer->family == XWGP_FAMILY_IPV6;
	struct xwgp_ep e = *peer;

	switch (kind) {
	case SRC_PORT:
		e.port = htons(ntohs(e.port) + 1);
		break;
	case SRC_ADDR:
		e = pkt_ep(v6 ? "2001:db8:1::11" : "192.0.2.11", ntohs(e.port));
		break;
	case SRC_FAMILY:
		e = pkt_ep(v6 ? "192.0.2.10" : "2001:db8:1::10", ntohs(e.port));
		break;
	case SRC_LOOPBACK:
		e = pkt_ep(v6 ? "::1" : "127.0.0.1", ntohs(e.port));
		break;
	case SRC_MULTICAST:
		e = pkt_ep(v6 ? "ff02::1" : "224.0.0.1", ntohs(e.port));
		break;
	case SRC_BROADCAST:
		e = pkt_ep("192.0.2.255", ntohs(e.port));
		break;
	case SRC_LOCAL:
		e = pkt_ep(v6 ? "2001:db8:1::1" : "192.0.2.1", ntohs(e.port));
		break;
	case SRC_PORT0:
		e.port = 0;
		break;
	default:
		break;
	}
	return e;
}

/* Payload shapes: length, header damage, receiver choice. */
enum rcv_kind { RCV_OK, RCV_ZERO, RCV_UNKNOWN, RCV_OTHER_SIDE };

struct payload_def {
	const char *name;
	size_t len;
	uint8_t type, reserved;
	enum rcv_kind rcv;
};

static const struct payload_def payload_defs[] = {
	{ "transport 96", 96, 4, 0, RCV_OK },
	{ "keepalive 32", 32, 4, 0, RCV_OK },
	{ "transport 1400", 1400, 4, 0, RCV_OK },
	{ "transport at max_packet_size", MAX_PACKET, 4, 0, RCV_OK },
	{ "transport over max_packet_size", MAX_PACKET + 1, 4, 0, RCV_OK },
	{ "transport 31", 31, 4, 0, RCV_OK },
	{ "header only", 4, 4, 0, RCV_OK },
	{ "3 bytes", 3, 4, 0, RCV_OK },
	{ "receiver 0", 64, 4, 0, RCV_ZERO },
	{ "unknown receiver", 64, 4, 0, RCV_UNKNOWN },
	{ "receiver of the other direction", 64, 4, 0, RCV_OTHER_SIDE },
	{ "reserved byte set", 64, 4, 1, RCV_OK },
	{ "type 5", 64, 5, 0, RCV_OK },
};

static uint32_t receiver_for(int n, enum xwgp_side side, enum rcv_kind k)
{
	bool c2s = side == XWGP_SIDE_CLIENT;

	switch (k) {
	case RCV_ZERO:
		return 0;
	case RCV_UNKNOWN:
		return c2s ? SP(0x4242) : CP(0x4242);
	case RCV_OTHER_SIDE:
		return c2s ? CP(n) : SP(n);
	default:
		return c2s ? SP(n) : CP(n);
	}
}

/* Our local address of the packet's family on the side it arrives on. */
static struct xwgp_ep local_for(const struct xwgp_ep *from, enum xwgp_side side)
{
	uint16_t port = side == XWGP_SIDE_CLIENT ? LISTEN_PORT : UPSTREAM_PORT;

	return pkt_ep(from->family == XWGP_FAMILY_IPV6 ? "2001:db8:1::1" : "192.0.2.1", port);
}

static void fill_payload(uint8_t *p, size_t len, uint8_t type, uint8_t reserved, uint32_t receiver,
			 uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 13 + seed);
	if (len > 0)
		p[0] = type;
	if (len > 3)
		p[1] = reserved, p[2] = 0, p[3] = 0;
	for (size_t i = 0; i < 4 && 4 + i < len; i++)
		p[4 + i] = receiver >> (8 * i);
}

static void run_one(int n, enum xwgp_side side, enum src_kind sk, const uint8_t *payload,
		    size_t len, const char *what)
{
	const struct xwgp_session s = sess_make(n);
	struct agent_in ai = { .side = side, .len = len };
	struct pkt_frame in;
	char desc[160];

	ai.from = source(side == XWGP_SIDE_CLIENT ? &s.client : &s.server, sk);
	ai.to = local_for(&ai.from, side);
	memcpy(ai.payload, payload, len);
	pkt_build(&in, &ai.from, &ai.to, payload, len, NULL);
	snprintf(desc, sizeof(desc), "session %d %s, source %d, %s", n,
		 side == XWGP_SIDE_CLIENT ? "c2s" : "s2c", sk, what);
	CHECK(!sess_reset(n), "%s: reset: %s", desc, strerror(errno));
	check_agree(desc, &in, &ai);
}

/*
 * Every session x direction x source x the first n_payloads payloads; with
 * active, the sessions' current endpoints "just sent" before each case.
 * Returns the number of cases run.
 */
static int run_grid(size_t n_payloads, bool active)
{
	uint8_t payload[FRAME_CAP];
	int cases = 0;

	for (int n = 1; n < N_SESS; n++)
		for (int side = 0; side < 2; side++)
			for (int sk = 0; sk < SRC__MAX; sk++)
				for (size_t i = 0; i < n_payloads; i++) {
					const struct payload_def *d = &payload_defs[i];

					fill_payload(payload, d->len, d->type, d->reserved,
						     receiver_for(n, side, d->rcv), n * 7 + i);
					seen_ns = active ? xwgp_now_ns() : 0;
					run_one(n, side, sk, payload, d->len, d->name);
					if (test_state__ != TEST_RUNNING)
						return cases;
					cases++;
				}
	seen_ns = 0;
	for (int n = 1; n < N_SESS; n++)
		sess_reset(n);
	return cases;
}

TEST(table)
{
	int cases;

	ENV_REQUIRE();
	cases = run_grid(sizeof(payload_defs) / sizeof(payload_defs[0]), false);
	CHECK(cases > 1000, "only %d cases", cases);
}

/*
 * The current endpoints just sent: a new source the level allows is a
 * candidate, forwarded by both paths with the session unchanged.
 */
TEST(candidates_while_the_endpoint_is_active)
{
	int cases;

	ENV_REQUIRE();
	cases = run_grid(3, true);
	CHECK(cases > 500, "only %d cases", cases);
}

/*
 * A wildcard listen/upstream: XDP passes (PASS_NOT_LOCAL) exactly what the
 * agent's local_addrs_claims() refuses, whatever the payload.
 */
TEST(wildcard_claims_agree)
{
	static const char *const dsts[] = {
		"192.0.2.1",	   "2001:db8:1::1", "192.0.2.99", "2001:db8:1::99",
		"192.0.2.255",	   "255.255.255.255", "224.0.0.1", "ff02::1",
		"198.51.100.200",
	};
	const struct xwgp_ep wildcard = { .port = 0 };
	uint8_t payload[FRAME_CAP];

	ENV_REQUIRE();
	for (size_t i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++)
		for (int side = 0; side < 2; side++)
			for (int kind = 0; kind < 4; kind++) {
				bool v6 = strchr(dsts[i], ':');
				uint16_t port = side == XWGP_SIDE_CLIENT ? LISTEN_PORT : UPSTREAM_PORT;
				struct xwgp_ep from = pkt_ep(v6 ? "2001:db8:1::10" : "192.0.2.10", 1111);
				struct xwgp_ep to = pkt_ep(dsts[i], port);
				/* transport of session 1/2, an initiation, a response, garbage */
				static const uint8_t types[] = { 4, 1, 2, 0x45 };
				static const size_t lens[] = { 96, 148, 92, 100 };
				struct bpf_env_result x;
				struct pkt_frame in;
				bool claims;

				fill_payload(payload, lens[kind], types[kind], 0,
					     receiver_for(v6 ? 2 : 1, side, RCV_OK), i);
				pkt_build(&in, &from, &to, payload, lens[kind], NULL);
				CHECK(!bpf_env_run(&in, xv0_ifindex, &x), "test run: %s",
				      strerror(errno));
				claims = local_addrs_claims(&agent_local, &wildcard, &to);
				CHECK(claims == (x.reason != XWGP_STAT_PASS_NOT_LOCAL),
				      "to %s (side %d, type %u): XDP %s, agent claims %d", dsts[i],
				      side, types[kind], reason_name(x.reason), claims);
				for (int n = 1; n < N_SESS; n++)
					sess_reset(n);
			}
}

/* xorshift32: reproducible, seed printed in the case description. */
static uint32_t rnd(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

TEST(random)
{
	uint8_t payload[FRAME_CAP];
	uint32_t st = 0x9e3779b9;

	ENV_REQUIRE();
	for (int i = 0; i < 3000 && test_state__ == TEST_RUNNING; i++) {
		int n = 1 + rnd(&st) % (N_SESS - 1);
		enum xwgp_side side = rnd(&st) & 1;
		enum src_kind sk = rnd(&st) % SRC__MAX;
		uint32_t r = rnd(&st);
		size_t len = r & 1 ? r % 64 : r % (MAX_PACKET + 8);
		uint8_t type = rnd(&st) % 8 ? 4 : rnd(&st) % 256;
		uint8_t reserved = rnd(&st) % 8 ? 0 : rnd(&st) % 256;
		uint32_t receiver = receiver_for(n, side, rnd(&st) % 4 ? RCV_OK : rnd(&st) % 4);
		char what[48];

		/* Plain handshake types are dispatched elsewhere by the agent. */
		if (type >= 1 && type <= 3 && !reserved)
			type = 4;
		fill_payload(payload, len, type, reserved, receiver, rnd(&st));
		snprintf(what, sizeof(what), "random #%d (%zu bytes)", i, len);
		run_one(n, side, sk, payload, len, what);
	}
}

TEST_MAIN()
