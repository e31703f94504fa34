// SPDX-License-Identifier: GPL-2.0
/*
 * The agent reads and writes sessions through its mapping of the
 * BPF_F_MMAPABLE arrays (agent/bpf_loader.c xwgp_maps_mmap, agent/wgit.c;
 * docs/DESIGN.md section 4), against the program XDP runs:
 *
 *   - agreement: what the mapping shows equals what bpf_map_lookup_elem
 *     returns, for every slot of the sessions and of their metadata, in the
 *     read-write mapping of the agent and the read-only one of `show';
 *   - counters: XDP (BPF_PROG_TEST_RUN in this thread) and the agent
 *     (wgit_transport_commit in another) add to the same session counters
 *     at the same time, and not one increment is lost;
 *   - forged indexes: a wrong generation, a free slot, the other side's
 *     index are DROP_UNKNOWN_INDEX with sessions published by the mapping.
 */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "bpf_env.h"
#include "byteorder.h"
#include "transport.h"
#include "wg_proto.h"
#include "wgit.h"

#define LISTEN_PORT   51820
#define UPSTREAM_PORT 40000
#define BACKEND_PORT  51821
#define MSG_LEN	      64

static const char *const topo_cmds[] = {
	"ip link add xv0 address 02:00:00:00:00:01 type veth peer name xv1",
	"ip link set xv0 up && ip link set xv1 up",
	"ip addr add 192.0.2.1/24 dev xv0",
	"ip neigh add 192.0.2.10 lladdr 02:00:00:00:0c:01 dev xv0 nud permanent",
	"ip neigh add 192.0.2.20 lladdr 02:00:00:00:0a:01 dev xv0 nud permanent",
};

static int fill(void)
{
	if (bpf_env_cfg(LISTEN_PORT, UPSTREAM_PORT) || bpf_env_local("192.0.2.1", XWGP_LOCAL_ADDR))
		return -1;
	return 0;
}

static struct wgit w = { .maps = &bpf_env.maps };

/* An established session client 192.0.2.10:1111 <-> backend 192.0.2.20. */
static struct xwgp_session session_new(uint32_t origin, uint8_t key_byte)
{
	struct xwgp_session_meta m = { .handshake_ns = 1000000000ull * origin,
				       .established_ns = 1000000000ull * origin + 1500000000ull };
	struct xwgp_session s = {
		.client = pkt_ep("192.0.2.10", 1111),
		.client_local = pkt_ep("192.0.2.1", LISTEN_PORT),
		.server = pkt_ep("192.0.2.20", BACKEND_PORT),
		.server_local = pkt_ep("192.0.2.1", UPSTREAM_PORT),
		.client_origin_index = origin,
		.csvl = XWGP_SVL_NONE,
		.ssvl = XWGP_SVL_IP_PORT,
		.created_ns = 1000000000ull * origin,
	};

	memset(m.client_pub, key_byte, 32);
	memset(m.server_pub, 0xee - (key_byte & 1), 32); /* two server keys between them */
	memset(m.client_mac1, key_byte, 16);
	if (wgit_session_create(&w, &s, &m) || wgit_session_establish(&w, &s, origin + 0x100))
		s.client_proxy_index = 0;
	return s;
}

/* Every slot of both arrays: the mapping m shows what the kernel returns. */
static unsigned long disagreements(const struct xwgp_maps *m)
{
	unsigned long bad = 0;

	for (uint32_t slot = 0; slot < m->n_slots; slot++) {
		struct xwgp_session s;
		struct xwgp_sess_meta v;

		if (bpf_map_lookup_elem(m->sessions, &slot, &s) ||
		    memcmp(&s, &m->sess[slot], sizeof(s)))
			bad++;
		if (bpf_map_lookup_elem(m->sess_meta, &slot, &v) ||
		    memcmp(&v, &m->meta[slot], sizeof(v)))
			bad++;
	}
	for (uint32_t i = 0; i < m->n_srv_keys; i++) {
		struct xwgp_srv_key k;

		if (bpf_map_lookup_elem(m->srv_keys, &i, &k) ||
		    memcmp(&k, &m->srv_key[i], sizeof(k)))
			bad++;
	}
	return bad;
}

TEST(mapping_agrees_with_lookup)
{
	struct xwgp_session s[32], raw, got;
	struct xwgp_maps ro;
	struct xwgp_session_meta meta;
	uint32_t cursor = 0, live = 0, slot;
	int n = 0;

	BPF_ENV_REQUIRE(topo_cmds, fill);
	CHECK(bpf_env.maps.sess && bpf_env.maps.meta && bpf_env.maps.srv_key, "not mapped");
	for (int i = 0; i < 32; i++) {
		s[i] = session_new(0x1000 + i, (uint8_t)(i + 1));
		CHECK(s[i].client_proxy_index, "session %d", i);
	}
	/* Some leave, some move (roaming), some carry the agent's packets. */
	for (int i = 0; i < 32; i += 5)
		CHECK(wgit_session_delete(&w, s[i].client_proxy_index) == 0);
	for (int i = 1; i < 32; i += 5) {
		s[i].client = pkt_ep("192.0.2.11", 2222);
		CHECK(wgit_transport_commit(&w, &s[i], false, 100, 77,
					    &(struct transport_out){ .endpoint_changed = true }) ==
		      0);
	}
	/* A write from outside the mapping (as XDP or bpftool would) shows in it. */
	slot = SLOT(s[2].client_proxy_index);
	CHECK(bpf_map_lookup_elem(bpf_env.maps.sessions, &slot, &raw) == 0);
	raw.s2c_bytes += 12345;
	CHECK(bpf_map_update_elem(bpf_env.maps.sessions, &slot, &raw, BPF_EXIST) == 0);
	CHECK(wgit_session_get(&w, s[2].client_proxy_index, &got) == 0 &&
		      got.s2c_bytes == raw.s2c_bytes,
	      "the mapping missed a syscall write");

	CHECK(disagreements(&bpf_env.maps) == 0, "%lu slots differ", disagreements(&bpf_env.maps));
	/* show's read-only mapping: the same bytes, and no write gets through. */
	ro = bpf_env.maps;
	ro.sess = NULL;
	ro.meta = NULL;
	ro.srv_key = NULL;
	CHECK(xwgp_maps_mmap(&ro, true) == 0, "read-only mapping: %s", strerror(errno));
	CHECK(disagreements(&ro) == 0, "read-only view differs");
	while (wgit_session_next(&ro, &cursor, &got)) {
		live++;
		CHECK(wgit_meta_read(&ro, &got, &meta) == 0, "no meta for %#x",
		      got.client_proxy_index);
		uint8_t want_srv = (uint8_t)(0xee - (meta.client_pub[0] & 1));

		CHECK(meta.client_pub[0] == (uint8_t)(got.client_origin_index - 0x1000 + 1) &&
			      meta.server_pub[0] == want_srv &&
			      meta.established_ns == meta.handshake_ns + 1500000000ull,
		      "meta of %#x: key %02x server %02x", got.client_proxy_index,
		      meta.client_pub[0], meta.server_pub[0]);
		n += got.client.port == htons(2222);
	}
	CHECK(live == 32 - 7 && n == 7, "%u live sessions, %d roamed", live, n);
	{
		struct wgit rw = { .maps = &ro };

		CHECK(wgit_session_put(&rw, &s[3]) == -EROFS,
		      "a write through the read-only mapping");
	}
	xwgp_maps_unmap(&ro);
	for (int i = 0; i < 32; i++)
		if (i % 5)
			wgit_session_delete(&w, s[i].client_proxy_index);
	CHECK(disagreements(&bpf_env.maps) == 0, "after deletes");
}

/* ---- XDP and the agent on one session's counters ---------------------------------- */

static atomic_bool stop;
static unsigned long commits;
static struct xwgp_session target;

static void *agent_thread(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop))
		if (wgit_transport_commit(&w, &target, false, MSG_LEN, 5000,
					  &(struct transport_out){ 0 }) == 0)
			commits++;
	return NULL;
}

TEST(xdp_and_agent_counters_add_up)
{
	uint8_t msg[MSG_LEN] = { WG_MSG_TRANSPORT };
	struct xwgp_ep from = pkt_ep("192.0.2.20", BACKEND_PORT), to;
	unsigned long runs = 0, fwd = 0;
	struct xwgp_session before, after;
	struct timespec t0, now;
	struct pkt_frame in, out;
	struct xdp_md ctx;
	pthread_t th;
	int ifindex;

	BPF_ENV_REQUIRE(topo_cmds, fill);
	ifindex = if_nametoindex("xv0");
	target = session_new(0x2000, 9);
	CHECK(target.client_proxy_index, "session");
	to = target.server_local;
	put_le32(msg + WG_TRANSPORT_OFF_RECEIVER, target.client_proxy_index);
	pkt_build(&in, &from, &to, msg, sizeof(msg), NULL);
	CHECK(wgit_session_get(&w, target.client_proxy_index, &before) == 0);

	atomic_store(&stop, false);
	commits = 0;
	CHECK(pthread_create(&th, NULL, agent_thread, NULL) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		ctx = (struct xdp_md){ .data_end = in.len, .ingress_ifindex = (uint32_t)ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in.b, .data_size_in = in.len,
			    .data_out = out.b, .data_size_out = sizeof(out.b), .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = 1);

		if (bpf_prog_test_run_opts(bpf_env.prog, &o))
			break;
		runs++;
		fwd += o.retval == XDP_TX || o.retval == XDP_REDIRECT;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 < 2000);
	atomic_store(&stop, true);
	pthread_join(th, NULL);

	CHECK(wgit_session_get(&w, target.client_proxy_index, &after) == 0);
	fprintf(stderr, "# counters: %lu XDP runs (%lu forwarded), %lu agent commits\n", runs, fwd,
		commits);
	CHECK(fwd == runs && fwd > 1000 && commits > 1000, "no race exercised (%lu/%lu, %lu)", fwd,
	      runs, commits);
	CHECK(after.s2c_packets - before.s2c_packets == fwd + commits,
	      "s2c packets moved by %llu, XDP forwarded %lu and the agent %lu",
	      (unsigned long long)(after.s2c_packets - before.s2c_packets), fwd, commits);
	CHECK(after.s2c_bytes - before.s2c_bytes == (fwd + commits) * MSG_LEN,
	      "s2c bytes moved by %llu, want %lu",
	      (unsigned long long)(after.s2c_bytes - before.s2c_bytes), (fwd + commits) * MSG_LEN);
	wgit_session_delete(&w, target.client_proxy_index);
}

/* ---- forged indexes ----------------------------------------------------------------- */

static int verdict(uint32_t receiver, bool from_client, struct bpf_env_result *r)
{
	uint8_t msg[MSG_LEN] = { WG_MSG_TRANSPORT };
	struct xwgp_ep cli = pkt_ep("192.0.2.10", 1111), be = pkt_ep("192.0.2.20", BACKEND_PORT);
	struct xwgp_ep lis = pkt_ep("192.0.2.1", LISTEN_PORT),
		       up = pkt_ep("192.0.2.1", UPSTREAM_PORT);
	struct pkt_frame in;

	put_le32(msg + WG_TRANSPORT_OFF_RECEIVER, receiver);
	if (from_client)
		pkt_build(&in, &cli, &lis, msg, sizeof(msg), NULL);
	else
		pkt_build(&in, &be, &up, msg, sizeof(msg), NULL);
	return bpf_env_run(&in, (int)if_nametoindex("xv0"), r);
}

TEST(forged_indexes_unknown)
{
	struct xwgp_session s;
	struct bpf_env_result r;
	struct {
		const char *desc;
		uint32_t idx;
		bool from_client;
	} forged[] = {
		{ "client index, other generation", 0, false },
		{ "server index, other generation", 0, true },
		{ "a free slot", 0, false },
		{ "the client's index sent by the client", 0, true },
		{ "the server's index sent by the backend", 0, false },
	};

	BPF_ENV_REQUIRE(topo_cmds, fill);
	s = session_new(0x3000, 3);
	CHECK(s.client_proxy_index, "session");
	/* The genuine ones forward. */
	CHECK(verdict(s.client_proxy_index, false, &r) == 0 && r.act == XDP_TX, "s2c act %u (%s)",
	      r.act, bpf_env_reason(r.reason));
	CHECK(verdict(s.server_proxy_index, true, &r) == 0 && r.act == XDP_TX, "c2s act %u (%s)",
	      r.act, bpf_env_reason(r.reason));
	forged[0].idx = s.client_proxy_index ^ (1u << 20);
	forged[1].idx = s.server_proxy_index ^ (1u << 24);
	forged[2].idx = (SLOT(s.client_proxy_index) + 7) & XWGP_SLOT_MASK_DEFAULT;
	forged[2].idx |= 0x5a5a0000u;
	forged[3].idx = s.client_proxy_index;
	forged[4].idx = s.server_proxy_index;
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		CHECK(verdict(forged[i].idx, forged[i].from_client, &r) == 0, "%s", forged[i].desc);
		CHECK(r.act == XDP_DROP && r.reason == XWGP_STAT_DROP_UNKNOWN_INDEX,
		      "%s (%#x): act %u, %s", forged[i].desc, forged[i].idx, r.act,
		      bpf_env_reason(r.reason));
	}
	wgit_session_delete(&w, s.client_proxy_index);
}

TEST_MAIN()
