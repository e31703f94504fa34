// SPDX-License-Identifier: GPL-2.0
/*
 * WGIT v2 sessions are rewritten in place (array slots), while XDP may be
 * reading them: agent/wgit.c publishes a slot under its seq (odd while
 * written) and bpf/session.h re-checks seq after its last read, punting or
 * dropping a packet that met a rewrite (docs/DESIGN.md section 4).
 *
 * The hammer: a thread rewrites one session between two versions A and B
 * (other client address, port and index) through the agent's own path
 * (wgit_session_put) while BPF_PROG_TEST_RUN forwards server->client
 * packets through it. Every forwarded packet must carry all of A's rewrite
 * or all of B's: destination address, port, MAC and receiver index.
 */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "bpf_env.h"
#include "byteorder.h"
#include "wg_proto.h"
#include "wgit.h"

#define LISTEN_PORT 51820
#define UPSTREAM_PORT 40000
#define BACKEND_PORT 51821

static const char *const topo_cmds[] = {
	"ip link add xv0 address 02:00:00:00:00:01 type veth peer name xv1",
	"ip link set xv0 up && ip link set xv1 up",
	"ip addr add 192.0.2.1/24 dev xv0",
	"ip neigh add 192.0.2.10 lladdr 02:00:00:00:0c:01 dev xv0 nud permanent",
	"ip neigh add 192.0.2.11 lladdr 02:00:00:00:0c:02 dev xv0 nud permanent",
	"ip neigh add 192.0.2.20 lladdr 02:00:00:00:0a:01 dev xv0 nud permanent",
};

static int fill(void)
{
	return bpf_env_cfg(LISTEN_PORT, UPSTREAM_PORT);
}

/* The two versions: the client moved (address, port) and its index differs. */
static const struct {
	const char *addr;
	uint16_t port;
	uint32_t origin;
	uint8_t mac_last;
} ver[2] = {
	{ "192.0.2.10", 1111, 0x0c0000a1, 0x01 },
	{ "192.0.2.11", 2222, 0x0c0000b2, 0x02 },
};

static struct wgit w = { .maps = &bpf_env.maps };
static struct xwgp_session sv[2];
static atomic_bool stop;
static atomic_ulong writes;
static bool raw; /* the control: plain map updates, no seq protocol */

static void *writer(void *arg)
{
	(void)arg;
	for (unsigned long i = 0; !atomic_load(&stop); i++) {
		const struct xwgp_session *s = &sv[i & 1];
		uint32_t slot = SLOT(s->client_proxy_index);

		if (raw ? bpf_map_update_elem(bpf_env.maps.sessions, &slot, s, BPF_EXIST) :
			  wgit_session_put(&w, s))
			break;
		atomic_fetch_add(&writes, 1);
	}
	return NULL;
}

struct tally {
	unsigned long runs, fwd, mixed, seen[2], other;
};

/* Forward s2c packets for ms milliseconds while the writer rewrites the session. */
static int hammer(const struct pkt_frame *in, int ifindex, unsigned int ms, struct tally *t)
{
	struct xdp_md ctx = { .data_end = in->len, .ingress_ifindex = ifindex };
	struct timespec t0, now;
	struct pkt_frame out;
	pthread_t th;

	memset(t, 0, sizeof(*t));
	atomic_store(&stop, false);
	if (pthread_create(&th, NULL, writer, NULL))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in->b, .data_size_in = in->len,
			    .data_out = out.b, .data_size_out = sizeof(out.b), .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = 1);
		struct pkt_parsed p;
		int v = -1;

		if (bpf_prog_test_run_opts(bpf_env.prog, &o))
			break;
		t->runs++;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (o.retval != XDP_TX && o.retval != XDP_REDIRECT)
			continue;
		t->fwd++;
		out.len = o.data_size_out;
		pkt_parse(&out, &p);
		for (int k = 0; k < 2; k++) {
			struct xwgp_ep e = pkt_ep(ver[k].addr, ver[k].port);

			if (pkt_ep_eq(&p.dst, &e) && p.len >= 8 &&
			    get_le32(p.payload + WG_TRANSPORT_OFF_RECEIVER) == ver[k].origin &&
			    out.b[5] == ver[k].mac_last && !p.bad[0])
				v = k;
		}
		if (v < 0)
			t->mixed++;
		else
			t->seen[v]++;
	} while ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 < ms);
	atomic_store(&stop, true);
	pthread_join(th, NULL);
	return 0;
}

TEST(rewrites_never_forward_a_mix)
{
	struct xwgp_session_meta m = {};
	struct pkt_frame in;
	struct xwgp_ep from = pkt_ep("192.0.2.20", BACKEND_PORT), to;
	uint8_t msg[64] = { WG_MSG_TRANSPORT };
	struct xwgp_session s = {
		.client = pkt_ep(ver[0].addr, ver[0].port),
		.client_local = pkt_ep("192.0.2.1", LISTEN_PORT),
		.server = from,
		.server_local = pkt_ep("192.0.2.1", UPSTREAM_PORT),
		.client_origin_index = ver[0].origin,
		.csvl = XWGP_SVL_NONE,
		.ssvl = XWGP_SVL_IP_PORT,
	};
	struct tally t;
	int ifindex;

	BPF_ENV_REQUIRE(topo_cmds, fill);
	ifindex = if_nametoindex("xv0");
	CHECK(ifindex > 0, "xv0");
	CHECK(wgit_session_create(&w, &s, &m) == 0, "create");
	CHECK(wgit_session_establish(&w, &s, 0x0a0000a1) == 0, "establish");
	sv[0] = sv[1] = s;
	sv[1].client = pkt_ep(ver[1].addr, ver[1].port);
	sv[1].client_origin_index = ver[1].origin;

	to = s.server_local;
	put_le32(msg + WG_TRANSPORT_OFF_RECEIVER, s.client_proxy_index);
	pkt_build(&in, &from, &to, msg, sizeof(msg), NULL);

	CHECK(hammer(&in, ifindex, 3000, &t) == 0, "hammer: %s", strerror(errno));
	fprintf(stderr,
		"# publish: %lu runs, %lu forwarded (A %lu, B %lu), %lu mixed, %lu writes\n",
		t.runs, t.fwd, t.seen[0], t.seen[1], t.mixed, (unsigned long)atomic_load(&writes));
	CHECK(t.mixed == 0, "%lu of %lu forwarded packets mixed two versions", t.mixed, t.fwd);
	/* The test means something only if both versions went out while being rewritten. */
	CHECK(t.seen[0] > 0 && t.seen[1] > 0 && atomic_load(&writes) > 1000,
	      "A %lu, B %lu, %lu writes: no race exercised", t.seen[0], t.seen[1],
	      (unsigned long)atomic_load(&writes));

	/* The control: the same race with plain updates (no seq), for the record only. */
	raw = true;
	atomic_store(&writes, 0);
	CHECK(hammer(&in, ifindex, 1000, &t) == 0, "control: %s", strerror(errno));
	fprintf(stderr, "# control without the seq protocol: %lu of %lu forwarded mixed\n", t.mixed,
		t.fwd);
	raw = false;
	wgit_session_delete(&w, s.client_proxy_index);
}

/* A stale generation of a slot names nothing, on the agent's side as in XDP (test_xdp). */
TEST(stale_generation_is_unknown)
{
	struct xwgp_session_meta m = {};
	struct xwgp_session a = { .client_origin_index = 1 }, b = { .client_origin_index = 2 }, got;

	BPF_ENV_REQUIRE(topo_cmds, fill);
	CHECK(wgit_session_create(&w, &a, &m) == 0);
	CHECK(wgit_session_delete(&w, a.client_proxy_index) == 0);
	/* The slot is free again and the next session takes it, with a new generation. */
	CHECK(wgit_session_create(&w, &b, &m) == 0);
	CHECK(SLOT(b.client_proxy_index) == SLOT(a.client_proxy_index) &&
		      b.client_proxy_index != a.client_proxy_index,
	      "a %#x b %#x", a.client_proxy_index, b.client_proxy_index);
	CHECK(wgit_session_get(&w, a.client_proxy_index, &got) == -ENOENT, "old index answers");
	CHECK(wgit_session_get(&w, b.client_proxy_index, &got) == 0);
	CHECK(!(got.seq & 1) && got.seq >= 6, "seq %u after three writes", got.seq);
	wgit_session_delete(&w, b.client_proxy_index);
}

TEST_MAIN()
