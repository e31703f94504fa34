// SPDX-License-Identifier: GPL-2.0
/*
 * Local backends (docs/DESIGN.md section 12): the kernel path and the agent
 * agree. Each transport packet goes through the programs (BPF_PROG_TEST_RUN)
 * and through the agent's transport_parse() + session lookup +
 * transport_forward() on the same bytes:
 *
 *   client->server, backend on this host   XDP_PASS, C2S_LOCAL, XDP's note to
 *     (xwgp_xdp)                           TC in the metadata, lo's zero MACs;
 *                                          the agent forwards: the same
 *                                          payload, src and dst; the
 *                                          checksums right from scratch
 *   the same, TC not attached (flag off)   PUNT_NO_ROUTE, unmodified; the
 *                                          agent forwards to the backend
 *   server->client from a local backend    TC_ACT_REDIRECT, S2C_LOCAL, MACs of
 *     (xwgp_tc_lo, on lo's egress)         the FIB; the agent forwards: the
 *                                          same payload (obfuscated sessions:
 *                                          the payload decodes with the
 *                                          agent's obfs_decode to it), src,
 *                                          dst; checksums right; the session
 *                                          counted the same
 *   forged towards lo: unknown index,      TC_ACT_SHOT with the agent's drop
 *     a source that is not the backend     reason (DROP_UNKNOWN_INDEX,
 *                                          DROP_SRC_INVALID), unmodified
 *   handshakes, GSO super-packets          TC_ACT_OK to the agent's socket,
 *                                          PUNT_HANDSHAKE / PUNT_GSO + STACK
 *   not to our upstream port; an unmarked  TC_ACT_OK, no counter moved
 *     frame at TC ingress (from the wire)
 *
 * Topology (own network namespace): lo up; xv0 02:00:00:00:00:01 with
 * 192.0.2.1/24 and 2001:db8:1::1/64, the client 192.0.2.10 /
 * 2001:db8:1::10 a permanent neighbour (02:00:00:00:0c:01).
 */
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include <sodium.h>

#include "bpf_env.h"
#include "clock.h"
#include "local_addrs.h"
#include "obfs.h"
#include "test.h"
#include "transport.h"
#include "wg_proto.h"
#include "wgit.h"

#define LISTEN_PORT   51820
#define UPSTREAM_PORT 40000
#define MAX_PACKET    1500
#define PW	      "local backends"

#define CO(n) (0x0c000000u | (n))
#define CP(n) (0x1c000000u | (n))
#define SO(n) (0x0a000000u | (n))
#define SP(n) (0x1a000000u | (n))

/* linux/pkt_cls.h */
#define TC_OK	    0
#define TC_SHOT	    2
#define TC_REDIRECT 7

static const char *const topo_cmds[] = {
	"ip link set lo up",
	"ip link add xv0 address 02:00:00:00:00:01 type veth peer name xv1",
	"ip link set xv0 up && ip link set xv1 up",
	"ip addr add 192.0.2.1/24 dev xv0",
	"ip -6 addr add 2001:db8:1::1/64 dev xv0 nodad",
	"ip neigh add 192.0.2.10 lladdr 02:00:00:00:0c:01 dev xv0 nud permanent",
	"ip -6 neigh add 2001:db8:1::10 lladdr 02:00:00:00:0c:01 dev xv0 nud permanent",
};

struct sess_def {
	const char *client;
	uint16_t cport;
	const char *client_local;
	const char *server;
	uint16_t sport;
	const char *server_local;
	bool obfs;
	bool xfam; /* client and backend of different families: the agent's (across_families) */
};

static const struct sess_def sess_defs[] = {
	[1] = { "192.0.2.10", 1111, "192.0.2.1", "127.0.0.1", 51821, "127.0.0.1", false },
	[2] = { "192.0.2.10", 2222, "192.0.2.1", "192.0.2.1", 51822, "192.0.2.1", false },
	[3] = { "2001:db8:1::10", 3333, "2001:db8:1::1", "::1", 51821, "::1", false },
	[4] = { "192.0.2.10", 4444, "192.0.2.1", "127.0.0.1", 51823, "127.0.0.1", true },
	[5] = { "2001:db8:1::10", 5555, "2001:db8:1::1", "2001:db8:1::1", 51824, "2001:db8:1::1",
		true },
	[6] = { "192.0.2.10", 6666, "192.0.2.1", "::1", 51825, "::1", false, true },
};
#define N_SESS ((int)(sizeof(sess_defs) / sizeof(sess_defs[0])))

static struct xwgp_session sess_make(int n)
{
	const struct sess_def *d = &sess_defs[n];

	return (struct xwgp_session){
		.client = pkt_ep(d->client, d->cport),
		.client_local = pkt_ep(d->client_local, LISTEN_PORT),
		.server = pkt_ep(d->server, d->sport),
		.server_local = pkt_ep(d->server_local, UPSTREAM_PORT),
		.client_origin_index = CO(n),
		.client_proxy_index = CP(n),
		.server_origin_index = SO(n),
		.server_proxy_index = SP(n),
		.csvl = XWGP_SVL_NONE,
		.ssvl = XWGP_SVL_IP_PORT,
		.flags = XWGP_SF_ESTABLISHED | (d->obfs ? XWGP_SF_OBFS : 0),
	};
}

static int sess_reset(int n)
{
	struct xwgp_session s = sess_make(n);
	uint32_t slot = SLOT(CP(n));

	return bpf_map_update_elem(bpf_env.maps.sessions, &slot, &s, BPF_ANY);
}

static int xv0_ifindex;
static struct wgit agent_wgit = { .maps = &bpf_env.maps };
static struct local_addrs agent_local = { .nl_fd = -1, .map_fd = -1 };
static struct obfs_key agent_obfs;

static const char *const local_defs[] = { "192.0.2.1", "2001:db8:1::1", "127.0.0.1", "::1" };

static int cfg_set(bool local_tc)
{
	struct xwgp_cfg cfg = {
		.abi_version = XWGP_ABI_VERSION,
		.flags = XWGP_CFG_OBFS | (local_tc ? XWGP_CFG_LOCAL_TC : 0),
		.listen = { .port = htons(LISTEN_PORT) },
		.upstream = { .port = htons(UPSTREAM_PORT) },
		.max_packet_size = MAX_PACKET,
	};
	uint32_t k = 0;

	crypto_hash_sha256(cfg.obfs_key, (const uint8_t *)PW, strlen(PW));
	return bpf_map_update_elem(bpf_env.maps.cfg, &k, &cfg, BPF_ANY);
}

static int maps_fill(void)
{
	xv0_ifindex = if_nametoindex("xv0");
	obfs_key_init(&agent_obfs, PW);
	agent_local.map_fd = bpf_map__fd(bpf_env.skel->maps.xwgp_local_addr);
	for (size_t i = 0; i < sizeof(local_defs) / sizeof(local_defs[0]); i++) {
		struct xwgp_ep e = pkt_ep(local_defs[i], 1);
		uint32_t key[4];

		memcpy(key, e.addr, sizeof(key));
		if (local_addrs_change(&agent_local, key, 1, XWGP_LOCAL_ADDR, 0, true)) {
			snprintf(bpf_env.why, sizeof(bpf_env.why), "local %s", local_defs[i]);
			return -1;
		}
	}
	if (!xv0_ifindex || cfg_set(true)) {
		snprintf(bpf_env.why, sizeof(bpf_env.why), "xv0 / cfg: %s", strerror(errno));
		return -1;
	}
	for (int n = 1; n < N_SESS; n++)
		if (sess_reset(n)) {
			snprintf(bpf_env.why, sizeof(bpf_env.why), "session %d", n);
			return -1;
		}
	return 0;
}

#define ENV_REQUIRE() BPF_ENV_REQUIRE(topo_cmds, maps_fill)

/* ---- the two paths ------------------------------------------------------- */

/* One run of a TC program: its action, the one reason counter that moved. */
static int tc_run(const char *prog, const struct pkt_frame *in, uint32_t gso_size,
		  struct bpf_env_result *r)
{
	struct xwgp_stat_val before[XWGP_STAT__MAX], after[XWGP_STAT__MAX];
	struct bpf_program *p = bpf_object__find_program_by_name(bpf_env.skel->obj, prog);
	struct __sk_buff ctx = { .gso_size = gso_size, .gso_segs = gso_size ? 2 : 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in->b, .data_size_in = in->len,
		    .data_out = r->out.b, .data_size_out = sizeof(r->out.b), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (!p)
		return -ENOENT;
	bpf_env_stats_sum(before);
	if (bpf_prog_test_run_opts(bpf_program__fd(p), &o))
		return -errno;
	bpf_env_stats_sum(after);
	r->act = o.retval;
	r->out.len = o.data_size_out;
	r->reason = -1;
	for (int k = 0; k < XWGP_STAT__MAX; k++) {
		uint64_t d = after[k].packets - before[k].packets;

		if (k == XWGP_STAT_TC_LO_RX || k == XWGP_STAT_PUNT_STACK || !d)
			continue;
		r->reason = r->reason == -1 && d == 1 ? k : -2;
	}
	return 0;
}

struct agent_result {
	int ret; /* 0 or -reason */
	struct xwgp_session s;
	struct transport_out out;
	uint8_t payload[PKT_FRAME_CAP];
};

static void run_agent(enum xwgp_side side, const struct xwgp_ep *from, const struct xwgp_ep *to,
		      const uint8_t *payload, size_t len, struct agent_result *r)
{
	struct transport_roam roam = { .local = &agent_local };
	uint32_t receiver;

	memset(r, 0, sizeof(*r));
	memcpy(r->payload, payload, len);
	r->ret = transport_parse(r->payload, len, MAX_PACKET, &receiver);
	if (r->ret)
		return;
	if (side == XWGP_SIDE_CLIENT ? wgit_session_by_server_index(&agent_wgit, receiver, &r->s) :
				       wgit_session_get(&agent_wgit, receiver, &r->s)) {
		r->ret = -XWGP_STAT_DROP_UNKNOWN_INDEX;
		return;
	}
	r->ret = transport_forward(&r->s, side, from, to, r->payload, len, xwgp_now_ns(), &roam,
				   &r->out);
}

/* A transport message for receiver rcv, len bytes, content from seed. */
static void msg_fill(uint8_t *m, size_t len, uint32_t rcv, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		m[i] = (uint8_t)(seed * 31 + i * 7);
	m[0] = WG_MSG_TRANSPORT;
	m[1] = m[2] = m[3] = 0;
	put_le32(m + 4, rcv);
}

static const uint8_t zero_mac[6], client_mac[6] = { 2, 0, 0, 0, 0xc, 1 },
			      xv0_mac[6] = { 2, 0, 0, 0, 0, 1 };

/* The session's counters in the map equal the agent's after one forward. */
static void check_counted(const char *desc, int n, const struct agent_result *a)
{
	struct xwgp_session xs;
	uint32_t key = SLOT(CP(n));

	CHECK(!bpf_map_lookup_elem(bpf_env.maps.sessions, &key, &xs), "%s: session", desc);
	CHECK(xs.c2s_packets == a->s.c2s_packets && xs.c2s_bytes == a->s.c2s_bytes &&
		      xs.s2c_packets == a->s.s2c_packets && xs.s2c_bytes == a->s.s2c_bytes,
	      "%s: counted %llu/%llu %llu/%llu, agent %llu/%llu %llu/%llu", desc,
	      (unsigned long long)xs.c2s_packets, (unsigned long long)xs.c2s_bytes,
	      (unsigned long long)xs.s2c_packets, (unsigned long long)xs.s2c_bytes,
	      (unsigned long long)a->s.c2s_packets, (unsigned long long)a->s.c2s_bytes,
	      (unsigned long long)a->s.s2c_packets, (unsigned long long)a->s.s2c_bytes);
}

/* The forwarded frame f (Ethernet onwards) carries what the agent would send. */
static void check_same(const char *desc, const struct pkt_frame *f, const struct agent_result *a,
		       size_t len, bool obfs)
{
	struct pkt_parsed p;
	uint8_t dec[PKT_FRAME_CAP];
	char b1[64], b2[64];
	bool decoded = false;
	int n;

	pkt_parse(f, &p);
	CHECK(!p.bad[0], "%s: output: %s", desc, p.bad);
	CHECK(pkt_ep_eq(&p.src, &a->out.src), "%s: src %s, agent %s", desc,
	      pkt_ep_str(&p.src, b1, sizeof(b1)), pkt_ep_str(&a->out.src, b2, sizeof(b2)));
	CHECK(pkt_ep_eq(&p.dst, &a->out.dst), "%s: dst %s, agent %s", desc,
	      pkt_ep_str(&p.dst, b1, sizeof(b1)), pkt_ep_str(&a->out.dst, b2, sizeof(b2)));
	if (!obfs) {
		CHECK(p.len == len && !memcmp(p.payload, a->payload, len),
		      "%s: payload %zu bytes, agent %zu, or the bytes differ", desc, p.len, len);
		return;
	}
	/* The agent's own decoder reads the obfuscated message as the plain one. */
	memcpy(dec, p.payload, p.len);
	n = obfs_decode(&agent_obfs, dec, p.len, &decoded);
	CHECK(decoded && n == (int)len && !memcmp(dec, a->payload, len),
	      "%s: obfuscated %zu bytes decode to %d (%d), agent %zu", desc, p.len, n, decoded,
	      len);
	CHECK(len >= 256 ? p.len == len : p.len == len + 16, "%s: %zu bytes on the wire for %zu",
	      desc, p.len, len);
}

/* Client -> server to a backend on this host: XDP rewrites and hands it to TC. */
static void c2s_case(int n, size_t len, unsigned seed)
{
	const struct xwgp_session s0 = sess_make(n);
	struct pkt_frame in, frame;
	struct bpf_env_result x;
	struct agent_result a;
	uint8_t m[PKT_FRAME_CAP];
	char desc[96];
	uint32_t magic;

	snprintf(desc, sizeof(desc), "c2s session %d, %zu bytes", n, len);
	CHECK(!sess_reset(n), "%s: reset", desc);
	msg_fill(m, len, SP(n), seed);
	pkt_build(&in, &s0.client, &s0.client_local, m, len, NULL);
	run_agent(XWGP_SIDE_CLIENT, &s0.client, &s0.client_local, m, len, &a);
	CHECK(a.ret == 0 && pkt_ep_eq(&a.out.dst, &s0.server), "%s: agent %d", desc, a.ret);
	CHECK(!bpf_env_run(&in, xv0_ifindex, &x), "%s: run: %s", desc, strerror(errno));
	CHECK(x.act == 2 /* XDP_PASS */ && x.reason == XWGP_STAT_C2S_LOCAL,
	      "%s: XDP %u, reason %s", desc, x.act, bpf_env_reason(x.reason));
	/* The test run returns the metadata in front of the frame. */
	CHECK(x.out.len == in.len + 8, "%s: %zu bytes out for %zu in", desc, x.out.len, in.len);
	memcpy(&magic, x.out.b, 4);
	CHECK(magic == 0x7877676cu, "%s: note to TC %#x", desc, magic);
	frame.len = x.out.len - 8;
	memcpy(frame.b, x.out.b + 8, frame.len);
	CHECK(!memcmp(frame.b, zero_mac, 6) && !memcmp(frame.b + 6, zero_mac, 6),
	      "%s: MACs are not lo's", desc);
	check_same(desc, &frame, &a, len, false);
	if (test_state__ == TEST_RUNNING)
		check_counted(desc, n, &a);
}

/* Server -> client from a backend on this host, through TC on lo. */
static void s2c_case(int n, size_t len, unsigned seed)
{
	const struct xwgp_session s0 = sess_make(n);
	struct pkt_udp_opts lo = { .dmac = zero_mac, .smac = zero_mac, .ttl = 64 };
	struct pkt_frame in;
	struct bpf_env_result x;
	struct agent_result a;
	uint8_t m[PKT_FRAME_CAP];
	char desc[96];

	snprintf(desc, sizeof(desc), "s2c session %d, %zu bytes", n, len);
	CHECK(!sess_reset(n), "%s: reset", desc);
	msg_fill(m, len, CP(n), seed);
	pkt_build(&in, &s0.server, &s0.server_local, m, len, &lo);
	run_agent(XWGP_SIDE_SERVER, &s0.server, &s0.server_local, m, len, &a);
	CHECK(a.ret == 0 && pkt_ep_eq(&a.out.dst, &s0.client), "%s: agent %d", desc, a.ret);
	CHECK(!tc_run("xwgp_tc_lo", &in, 0, &x), "%s: run: %s", desc, strerror(errno));
	CHECK(x.act == TC_REDIRECT && x.reason == XWGP_STAT_S2C_LOCAL, "%s: TC %u, reason %s",
	      desc, x.act, bpf_env_reason(x.reason));
	CHECK(!memcmp(x.out.b, client_mac, 6) && !memcmp(x.out.b + 6, xv0_mac, 6),
	      "%s: MACs are not the FIB's", desc);
	check_same(desc, &x.out, &a, len, sess_defs[n].obfs);
	if (test_state__ == TEST_RUNNING)
		check_counted(desc, n, &a);
}

static const size_t lens[] = { 32, 33, 48, 148, 255, 256, 257, 300, 1000, 1399, 1452 };

TEST(c2s_local_backends)
{
	ENV_REQUIRE();
	for (int n = 1; n < N_SESS && test_state__ == TEST_RUNNING; n++)
		if (!sess_defs[n].obfs && !sess_defs[n].xfam)
			for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
				c2s_case(n, lens[i], (unsigned)(n * 100 + i));
}

TEST(s2c_local_backends)
{
	ENV_REQUIRE();
	for (int n = 1; n < N_SESS && test_state__ == TEST_RUNNING; n++)
		if (!sess_defs[n].xfam)
			for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
				s2c_case(n, lens[i], (unsigned)(n * 100 + i));
}

/* Random lengths and contents, both directions. */
TEST(random)
{
	ENV_REQUIRE();
	srand(4242);
	for (int i = 0; i < 400 && test_state__ == TEST_RUNNING; i++) {
		int n = 1 + rand() % (N_SESS - 1);
		size_t len = 32 + (size_t)(rand() % 1400);

		if (sess_defs[n].xfam)
			continue;

		if (rand() & 1 && !sess_defs[n].obfs)
			c2s_case(n, len, (unsigned)rand());
		else
			s2c_case(n, len, (unsigned)rand());
	}
}

/* Without the TC programs XDP leaves local backends to the agent, unmodified. */
TEST(c2s_without_tc_punts)
{
	const struct xwgp_session s0 = sess_make(1);
	struct pkt_frame in;
	struct bpf_env_result x;
	struct agent_result a;
	uint8_t m[128];

	ENV_REQUIRE();
	CHECK(!cfg_set(false), "cfg");
	msg_fill(m, sizeof(m), SP(1), 1);
	pkt_build(&in, &s0.client, &s0.client_local, m, sizeof(m), NULL);
	run_agent(XWGP_SIDE_CLIENT, &s0.client, &s0.client_local, m, sizeof(m), &a);
	CHECK(!bpf_env_run(&in, xv0_ifindex, &x), "run");
	cfg_set(true);
	CHECK(x.reason == XWGP_STAT_PUNT_NO_ROUTE, "XDP %s", bpf_env_reason(x.reason));
	CHECK(x.out.len == in.len && !memcmp(x.out.b, in.b, in.len), "XDP modified the packet");
	CHECK(a.ret == 0 && pkt_ep_eq(&a.out.dst, &s0.server), "agent %d", a.ret);
}

/*
 * An IPv4 client of a backend on ::1: the kernel path keeps a packet's
 * family (XDP hands it to TC with lo's MACs, tc_rewrite edits in place), so
 * both directions go to the agent unmodified (PUNT_FAMILY), which forwards
 * them through its sockets.
 */
TEST(across_families_left_to_agent)
{
	struct pkt_udp_opts lo = { .dmac = zero_mac, .smac = zero_mac, .ttl = 64 };
	const struct xwgp_session s0 = sess_make(6);
	struct pkt_frame in;
	struct bpf_env_result x;
	struct agent_result a;
	uint8_t m[128];

	ENV_REQUIRE();
	CHECK(!sess_reset(6), "reset");
	msg_fill(m, sizeof(m), SP(6), 6);
	pkt_build(&in, &s0.client, &s0.client_local, m, sizeof(m), NULL);
	CHECK(!bpf_env_run(&in, xv0_ifindex, &x), "run");
	CHECK(x.reason == XWGP_STAT_PUNT_FAMILY, "c2s: XDP %s", bpf_env_reason(x.reason));
	CHECK(x.out.len == in.len && !memcmp(x.out.b, in.b, in.len), "c2s: XDP modified it");
	run_agent(XWGP_SIDE_CLIENT, &s0.client, &s0.client_local, m, sizeof(m), &a);
	CHECK(a.ret == 0 && pkt_ep_eq(&a.out.dst, &s0.server), "c2s: agent %d", a.ret);

	msg_fill(m, sizeof(m), CP(6), 7);
	pkt_build(&in, &s0.server, &s0.server_local, m, sizeof(m), &lo);
	CHECK(!tc_run("xwgp_tc_lo", &in, 0, &x), "run");
	CHECK(x.act == TC_OK && x.reason == XWGP_STAT_PUNT_FAMILY, "s2c: TC %u %s", x.act,
	      bpf_env_reason(x.reason));
	CHECK(x.out.len == in.len && !memcmp(x.out.b, in.b, in.len), "s2c: TC modified it");
	run_agent(XWGP_SIDE_SERVER, &s0.server, &s0.server_local, m, sizeof(m), &a);
	CHECK(a.ret == 0 && pkt_ep_eq(&a.out.dst, &s0.client), "s2c: agent %d", a.ret);
}

/*
 * The attacker's side of lo: a guessed index, and a session's index from a
 * local port that is not its backend's (ssvl IP_PORT). TC drops both,
 * unmodified, for the agent's reasons; the session is not counted.
 */
TEST(forged_towards_lo_dropped)
{
	struct pkt_udp_opts lo = { .dmac = zero_mac, .smac = zero_mac };
	const struct xwgp_session s0 = sess_make(1);
	struct xwgp_ep spoof = s0.server;
	struct pkt_frame in;
	struct bpf_env_result x;
	struct agent_result a;
	struct xwgp_session xs;
	uint32_t key = SLOT(CP(1));
	uint8_t m[64];

	ENV_REQUIRE();
	CHECK(!sess_reset(1), "reset");
	msg_fill(m, sizeof(m), CP(1) ^ 0x00100000u, 1); /* same slot, another generation */
	pkt_build(&in, &s0.server, &s0.server_local, m, sizeof(m), &lo);
	run_agent(XWGP_SIDE_SERVER, &s0.server, &s0.server_local, m, sizeof(m), &a);
	CHECK(!tc_run("xwgp_tc_lo", &in, 0, &x), "run");
	CHECK(x.act == TC_SHOT && x.reason == XWGP_STAT_DROP_UNKNOWN_INDEX &&
		      a.ret == -XWGP_STAT_DROP_UNKNOWN_INDEX,
	      "unknown index: TC %u %s, agent %d", x.act, bpf_env_reason(x.reason), a.ret);
	CHECK(x.out.len == in.len && !memcmp(x.out.b, in.b, in.len), "modified");

	spoof.port = htons(ntohs(spoof.port) + 1);
	msg_fill(m, sizeof(m), CP(1), 2);
	pkt_build(&in, &spoof, &s0.server_local, m, sizeof(m), &lo);
	run_agent(XWGP_SIDE_SERVER, &spoof, &s0.server_local, m, sizeof(m), &a);
	CHECK(!tc_run("xwgp_tc_lo", &in, 0, &x), "run");
	CHECK(x.act == TC_SHOT && x.reason == XWGP_STAT_DROP_SRC_INVALID &&
		      a.ret == -XWGP_STAT_DROP_SRC_INVALID,
	      "spoofed port: TC %u %s, agent %d", x.act, bpf_env_reason(x.reason), a.ret);
	CHECK(x.out.len == in.len && !memcmp(x.out.b, in.b, in.len), "modified");
	CHECK(!bpf_map_lookup_elem(bpf_env.maps.sessions, &key, &xs) && !xs.s2c_packets,
	      "a forged packet was counted");
}

/* What TC on lo leaves to the stack: handshakes, GSO, and what is not ours. */
TEST(tc_lo_passes)
{
	struct pkt_udp_opts lo = { .dmac = zero_mac, .smac = zero_mac };
	const struct xwgp_session s0 = sess_make(1);
	struct xwgp_ep other = s0.server_local;
	struct pkt_frame in;
	struct bpf_env_result x;
	uint8_t m[WG_RESP_LEN] = { WG_MSG_RESPONSE };

	ENV_REQUIRE();
	pkt_build(&in, &s0.server, &s0.server_local, m, sizeof(m), &lo);
	CHECK(!tc_run("xwgp_tc_lo", &in, 0, &x), "run");
	CHECK(x.act == TC_OK && x.reason == XWGP_STAT_PUNT_HANDSHAKE, "response: TC %u %s",
	      x.act, bpf_env_reason(x.reason));
	CHECK(x.out.len == in.len && !memcmp(x.out.b, in.b, in.len), "response modified");

	msg_fill(m, 64, CP(1), 3);
	pkt_build(&in, &s0.server, &s0.server_local, m, 64, &lo);
	CHECK(!tc_run("xwgp_tc_lo", &in, 1000, &x), "run");
	CHECK(x.act == TC_OK && x.reason == XWGP_STAT_PUNT_GSO, "GSO: TC %u %s", x.act,
	      bpf_env_reason(x.reason));

	other.port = htons(5353);
	pkt_build(&in, &s0.server, &other, m, 64, &lo);
	CHECK(!tc_run("xwgp_tc_lo", &in, 0, &x), "run");
	CHECK(x.act == TC_OK && x.reason == -1, "not ours: TC %u, reason %d", x.act, x.reason);

	/* From the wire: no XDP note, nothing goes into lo. */
	msg_fill(m, 64, SP(1), 4);
	pkt_build(&in, &s0.client, &s0.client_local, m, 64, NULL);
	CHECK(!tc_run("xwgp_tc_in", &in, 0, &x), "run");
	CHECK(x.act == TC_OK && x.reason == -1, "unmarked at ingress: TC %u, reason %d", x.act,
	      x.reason);
}

TEST_MAIN()
