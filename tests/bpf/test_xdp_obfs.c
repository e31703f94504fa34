// SPDX-License-Identifier: GPL-2.0
/*
 * Obfuscation in the XDP program (bpf/obfs_xdp.h, bpf/xxh64.h) under
 * BPF_PROG_TEST_RUN, against mwgp's own vectors and agent/obfs.c:
 *
 *  - client->server: every transport vector (32, 100, 255, 256, 1400 bytes
 *    and the 48/512 key_0 edge cases, both passwords), as it came on the
 *    wire, is de-obfuscated and forwarded byte for byte, over IPv4 and IPv6,
 *    the nonce stripped where the flag says so;
 *  - server->client: plain transport of an obfuscating session leaves
 *    obfuscated, and obfs_decode() of what XDP sent gives the plain message
 *    (with the rewritten index) back; sessions without obfs stay plain;
 *  - random messages through obfs_encode() and XDP's decoding agree;
 *  - obfuscated handshakes are punted unmodified (rate limited like plain
 *    ones), garbage is dropped as undecodable, runts as malformed.
 *
 * Every forwarded frame has its lengths and checksums recomputed in full
 * (tests/lib/pkt.h). Own network namespace: xv0 02:00:00:00:00:01 with
 * 192.0.2.1/24 and 2001:db8:1::1/64; client .10 / ::10 and backend .20 /
 * ::20 with permanent neighbour entries, so XDP_TX forwards.
 */
#include <errno.h>
#include <net/if.h>
#include <stdint.h>

#include <sodium.h>

#include "bpf_env.h"
#include "config.h"
#include "handler.h"
#include "obfs.h"
#include "obfs_vectors.h"
#include "test.h"
#include "wg_crypto.h"
#include "wg_proto.h"

#define LISTEN_PORT 51820
#define UPSTREAM_PORT 40000
#define BACKEND_PORT 51821
#define CLIENT_PORT 1111
#define XDP_TX_ACT 3
#define XDP_DROP_ACT 1

#define CO(n) (0x0c000000u | (n))
#define CP(n) (0x1c000000u | (n))
#define SO(n) (0x0a000000u | (n))

static const char *const topo[] = {
	"ip link add xv0 address 02:00:00:00:00:01 type veth peer name xv1",
	"ip link set lo up && ip link set xv0 up && ip link set xv1 up",
	"ip addr add 192.0.2.1/24 dev xv0",
	"ip -6 addr add 2001:db8:1::1/64 dev xv0 nodad",
	"ip neigh add 192.0.2.10 lladdr 02:00:00:00:0c:01 dev xv0 nud permanent",
	"ip neigh add 192.0.2.20 lladdr 02:00:00:00:0a:01 dev xv0 nud permanent",
	"ip -6 neigh add 2001:db8:1::10 lladdr 02:00:00:00:0c:01 dev xv0 nud permanent",
	"ip -6 neigh add 2001:db8:1::20 lladdr 02:00:00:00:0a:01 dev xv0 nud permanent",
};

static struct obfs_vectors vs;
static int vs_err = -1;

/* The addresses of xv0 are ours, as the agent would tell the program. */
static int locals_fill(void)
{
	return bpf_env_local("192.0.2.1", XWGP_LOCAL_ADDR) ?:
	       bpf_env_local("2001:db8:1::1", XWGP_LOCAL_ADDR);
}

#define ENV_REQUIRE()                                                                              \
	do {                                                                                       \
		BPF_ENV_REQUIRE(topo, locals_fill);                                                  \
		if (vs_err) {                                                                      \
			CHECK(sodium_init() >= 0, "sodium_init");                                  \
			vs_err = obfs_vectors_load(&vs);                                           \
		}                                                                                  \
		CHECK(!vs_err, "%s", vs.why);                                                      \
	} while (0)

static int ifindex(void)
{
	return if_nametoindex("xv0");
}

static const char *addr_of(bool v6, const char *v4, const char *v6s)
{
	return v6 ? v6s : v4;
}

/*
 * Families of a test session, "fam": 0 IPv4, 1 IPv6 (the callers' old
 * bool v6), 2 an IPv4 client with an IPv6 backend, 3 the reverse (bpf/xlat.h).
 */
#define FAM_V4_V6 2
#define FAM_V6_V4 3
static bool client_v6(int fam)
{
	return fam & 1;
}

static bool backend_v6(int fam)
{
	return (fam & 1) ^ (fam >> 1 & 1);
}

/* Obfuscation on with password pw (NULL: off). */
static int cfg_set(const char *pw, uint32_t punt_rate)
{
	struct xwgp_cfg c = {
		.abi_version = XWGP_ABI_VERSION,
		.listen = { .port = htons(LISTEN_PORT) },
		.upstream = { .port = htons(UPSTREAM_PORT) },
		.max_packet_size = 1500,
		.punt_rate_pps = punt_rate,
		.punt_burst = 1,
	};
	uint32_t k = 0;

	if (pw) {
		struct obfs_key key;

		obfs_key_init(&key, pw);
		memcpy(c.obfs_key, key.hash, 32);
		obfs_key_wipe(&key);
		c.flags |= XWGP_CFG_OBFS;
	}
	return bpf_map_update_elem(bpf_env.maps.cfg, &k, &c, BPF_ANY);
}

/*
 * Session n: client .10/::10 port 1111, backend .20/::20, established;
 * the client knows the backend as server_proxy (the vectors' receivers).
 */
/* Session n's client proxy index as put (0: CP(n)): it names the slot of its server proxy index. */
static uint32_t sess_cps[1024];

static uint32_t sess_cp(int n)
{
	return (size_t)n < sizeof(sess_cps) / sizeof(sess_cps[0]) && sess_cps[n] ? sess_cps[n] :
										    CP(n);
}

static int sess_put(int n, int fam, uint32_t server_proxy, bool obfs)
{
	bool cv6 = client_v6(fam), bv6 = backend_v6(fam);
	struct xwgp_session s = {
		.client = pkt_ep(addr_of(cv6, "192.0.2.10", "2001:db8:1::10"), CLIENT_PORT),
		.client_local = pkt_ep(addr_of(cv6, "192.0.2.1", "2001:db8:1::1"), LISTEN_PORT),
		.server = pkt_ep(addr_of(bv6, "192.0.2.20", "2001:db8:1::20"), BACKEND_PORT),
		.server_local = pkt_ep(addr_of(bv6, "192.0.2.1", "2001:db8:1::1"), UPSTREAM_PORT),
		.client_origin_index = CO(n),
		.client_proxy_index = CP(n),
		.server_origin_index = SO(n),
		.server_proxy_index = server_proxy,
		.csvl = XWGP_SVL_NONE,
		.ssvl = XWGP_SVL_IP_PORT,
		.flags = XWGP_SF_ESTABLISHED | (obfs ? XWGP_SF_OBFS : 0),
	};
	/* WGIT v2: both indexes name the slot of server_proxy (the vectors' receiver). */
	uint32_t slot = SLOT(server_proxy);

	s.client_proxy_index = (CP(n) & ~XWGP_SLOT_MASK_DEFAULT) | slot;
	if ((size_t)n < sizeof(sess_cps) / sizeof(sess_cps[0]))
		sess_cps[n] = s.client_proxy_index;
	return bpf_map_update_elem(bpf_env.maps.sessions, &slot, &s, BPF_ANY);
}

static int sess_get(int n, struct xwgp_session *s)
{
	uint32_t slot = SLOT(sess_cp(n));

	return bpf_map_lookup_elem(bpf_env.maps.sessions, &slot, s);
}

static struct xwgp_ep client_ep(bool v6)
{
	return pkt_ep(addr_of(v6, "192.0.2.10", "2001:db8:1::10"), CLIENT_PORT);
}

static struct xwgp_ep listen_ep(bool v6)
{
	return pkt_ep(addr_of(v6, "192.0.2.1", "2001:db8:1::1"), LISTEN_PORT);
}

static struct xwgp_ep backend_ep(bool v6)
{
	return pkt_ep(addr_of(v6, "192.0.2.20", "2001:db8:1::20"), BACKEND_PORT);
}

static struct xwgp_ep upstream_ep(bool v6)
{
	return pkt_ep(addr_of(v6, "192.0.2.1", "2001:db8:1::1"), UPSTREAM_PORT);
}

/*
 * A client->server frame carrying wire[len] through XDP: it must be
 * forwarded to the backend as want[want_len] with sound lengths/checksums.
 */
static void check_c2s(const char *desc, int n, int fam, const uint8_t *wire, size_t len,
		      const uint8_t *want, size_t want_len, size_t pad)
{
	const struct xwgp_ep from = client_ep(client_v6(fam)), to = listen_ep(client_v6(fam));
	const struct xwgp_ep be = backend_ep(backend_v6(fam)), up = upstream_ep(backend_v6(fam));
	struct pkt_udp_opts o = { .pad = pad };
	struct pkt_frame in;
	struct bpf_env_result r;
	struct pkt_parsed p;
	struct xwgp_session s;

	pkt_build(&in, &from, &to, wire, len, &o);
	CHECK(!bpf_env_run(&in, ifindex(), &r), "%s: test run: %s", desc, strerror(errno));
	CHECK(r.act == XDP_TX_ACT && r.reason == XWGP_STAT_C2S_TX, "%s: act %u, reason %s", desc,
	      r.act, bpf_env_reason(r.reason));
	pkt_parse(&r.out, &p);
	CHECK(!p.bad[0], "%s: %s", desc, p.bad);
	CHECK(pkt_ep_eq(&p.src, &up) && pkt_ep_eq(&p.dst, &be), "%s: addresses", desc);
	CHECK(p.len == want_len, "%s: %zu bytes forwarded, want %zu", desc, p.len, want_len);
	CHECK_MEM(p.payload, want, want_len);
	CHECK(!sess_get(n, &s) && s.c2s_packets == 1 && s.c2s_bytes == want_len,
	      "%s: session counted %llu packets, %llu bytes", desc,
	      (unsigned long long)s.c2s_packets, (unsigned long long)s.c2s_bytes);
}

/* Every transport vector, as mwgp put it on the wire, through XDP. */
TEST(c2s_vectors)
{
	int n = 0, stripped = 0, edge = 0;

	ENV_REQUIRE();
	for (int i = 0; i < vs.n; i++) {
		const struct obfs_vector *v = &vs.v[i];
		uint8_t want[OV_MAX];
		char desc[128];

		if (v->type != WG_MSG_TRANSPORT)
			continue;
		CHECK(!cfg_set(v->password, 0), "cfg");
		memcpy(want, v->in, v->in_len);
		put_le32(want + WG_TRANSPORT_OFF_RECEIVER, SO(i));
		for (int v6 = 0; v6 < 2; v6++) {
			snprintf(desc, sizeof(desc), "%s over IPv%d", v->name, v6 ? 6 : 4);
			CHECK(!sess_put(i, v6, get_le32(v->in + 4), false), "%s: session", desc);
			check_c2s(desc, i, v6, v->out, v->out_len, want, v->in_len, 0);
			if (test_state__ != TEST_RUNNING)
				return;
			n++;
		}
		stripped += v->out_len != v->in_len;
		edge += v->key0_modified;
	}
	CHECK(n == 2 * 12 && stripped == 7 && edge == 2, "%d runs, %d stripped, %d edge", n,
	      stripped, edge);
}

/* Link padding after the datagram goes with the stripped nonce. */
TEST(c2s_padded_frame)
{
	const struct obfs_vector *v = NULL;
	uint8_t want[OV_MAX];

	ENV_REQUIRE();
	for (int i = 0; i < vs.n && !v; i++)
		if (!strcmp(vs.v[i].name, "pw1_transport_100"))
			v = &vs.v[i];
	CHECK(v, "no pw1_transport_100 vector");
	CHECK(!cfg_set(v->password, 0), "cfg");
	CHECK(!sess_put(60, false, get_le32(v->in + 4), false), "session");
	memcpy(want, v->in, v->in_len);
	put_le32(want + 4, SO(60));
	check_c2s("100 + nonce + 7 padding bytes", 60, false, v->out, v->out_len, want, v->in_len,
		  7);
}

static void rnd_fill(void *ctx, uint8_t *out, size_t n)
{
	uint64_t *s = ctx;

	for (size_t i = 0; i < n; i++) {
		*s ^= *s << 13;
		*s ^= *s >> 7;
		*s ^= *s << 17;
		out[i] = *s >> 24;
	}
}

/* Random transport messages obfuscated by agent/obfs.c, decoded by XDP. */
TEST(c2s_random_agree)
{
	uint64_t st = 0xfeedface;

	ENV_REQUIRE();
	CHECK(!cfg_set("random pw", 0), "cfg");
	for (int i = 0; i < 600 && test_state__ == TEST_RUNNING; i++) {
		uint8_t plain[1500], wire[1500 + OBFS_MAX_OVERHEAD], len_r[2];
		bool v6 = i & 1;
		struct obfs_key k;
		size_t len;
		char desc[64];
		int n = 100 + i, wl;

		rnd_fill(&st, len_r, 2);
		len = 32 + (len_r[0] << 8 | len_r[1]) % (1400 - 32);
		if (i % 3 == 0)
			len = 32 + len % 240; /* more of the short (nonce) kind */
		rnd_fill(&st, plain, len);
		plain[0] = 4, plain[1] = plain[2] = plain[3] = 0;
		put_le32(plain + 4, 0x5a000000u | n);
		memcpy(wire, plain, len);
		obfs_key_init(&k, "random pw");
		wl = obfs_encode(&k, wire, len, sizeof(wire), rnd_fill, &st);
		obfs_key_wipe(&k);
		CHECK(wl > 0, "encode");
		put_le32(plain + 4, SO(n));
		snprintf(desc, sizeof(desc), "random #%d (%zu bytes, IPv%d)", i, len, v6 ? 6 : 4);
		CHECK(!sess_put(n, v6, 0x5a000000u | n, false), "session");
		check_c2s(desc, n, v6, wire, wl, plain, len, 0);
	}
}

/*
 * A server->client frame of session n carrying plain[len] through XDP: it
 * must reach the client as the obfuscation (or not) of the message with the
 * client's index. Returns the wire length, 0 on failure.
 */
static size_t check_s2c(const char *desc, int n, int fam, const uint8_t *plain, size_t len,
			bool obfs, const char *pw, bool no_csum)
{
	const struct xwgp_ep from = backend_ep(backend_v6(fam)), to = upstream_ep(backend_v6(fam));
	const struct xwgp_ep cl = client_ep(client_v6(fam)), li = listen_ep(client_v6(fam));
	bool v6 = client_v6(fam); /* the family it leaves in */
	struct pkt_udp_opts o = { .no_udp_csum = no_csum };
	uint8_t want[2048], got[2048];
	struct pkt_frame in;
	struct bpf_env_result r;
	struct pkt_parsed p;
	struct obfs_key k;
	bool decoded = false;
	int dl;

	pkt_build(&in, &from, &to, plain, len, &o);
	memcpy(want, plain, len);
	put_le32(want + 4, CO(n));
	if (bpf_env_run(&in, ifindex(), &r)) {
		test_fail__(__FILE__, __LINE__, test_current__, "%s: test run: %s", desc,
			    strerror(errno));
		return 0;
	}
	pkt_parse(&r.out, &p);
#define S2C_CHECK(cond, ...)                                                                       \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			test_fail__(__FILE__, __LINE__, test_current__, __VA_ARGS__);             \
			return 0;                                                                  \
		}                                                                                  \
	} while (0)
	S2C_CHECK(r.act == XDP_TX_ACT && r.reason == XWGP_STAT_S2C_TX, "%s: act %u, reason %s",
		  desc, r.act, bpf_env_reason(r.reason));
	S2C_CHECK(!p.bad[0], "%s: %s", desc, p.bad);
	S2C_CHECK(p.udp_csum_zero == (no_csum && !v6), "%s: UDP checksum zero %d", desc,
		  p.udp_csum_zero);
	S2C_CHECK(pkt_ep_eq(&p.src, &li) && pkt_ep_eq(&p.dst, &cl), "%s: addresses", desc);
	if (!obfs) {
		S2C_CHECK(p.len == len && !memcmp(p.payload, want, len), "%s: not plain", desc);
		return p.len;
	}
	S2C_CHECK(p.len == (len < 256 ? len + 16 : len), "%s: %zu bytes on the wire", desc, p.len);
	S2C_CHECK(!obfs_is_plain(p.payload, p.len), "%s: header looks plain", desc);
	S2C_CHECK(!memcmp(p.payload + 16, plain + 16, len - 16), "%s: body changed", desc);
	memcpy(got, p.payload, p.len);
	obfs_key_init(&k, pw);
	dl = obfs_decode(&k, got, p.len, &decoded);
	obfs_key_wipe(&k);
	S2C_CHECK(decoded && dl == (int)len, "%s: decoded %d bytes (%d)", desc, dl, decoded);
	S2C_CHECK(!memcmp(got, want, len), "%s: decodes to other bytes", desc);
#undef S2C_CHECK
	return p.len;
}

static void plain_msg(uint8_t *m, size_t len, int n, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		m[i] = (uint8_t)(i * 29 + seed);
	m[0] = 4, m[1] = m[2] = m[3] = 0;
	put_le32(m + 4, sess_cp(n));
}

/* Lengths of the vectors and around the rules: both parities, 255/256. */
static const size_t s2c_lens[] = { 32, 33, 48, 100, 101, 255, 256, 257, 512, 1400, 1401 };

TEST(s2c_obfuscate)
{
	uint8_t m[2048];

	ENV_REQUIRE();
	CHECK(!cfg_set("kisekimo, mahoumo, muryoudewaarimasen", 0), "cfg");
	for (size_t i = 0; i < sizeof(s2c_lens) / sizeof(s2c_lens[0]); i++) {
		for (int rep = 0; rep < 40; rep++) {
			bool v6 = rep & 1, no_csum = rep % 4 == 2;
			int n = 200 + (int)i;
			struct xwgp_session s;
			char desc[96];

			snprintf(desc, sizeof(desc), "%zu bytes, IPv%d, run %d%s", s2c_lens[i],
				 v6 ? 6 : 4, rep, no_csum ? ", no UDP checksum" : "");
			CHECK(!sess_put(n, v6, 0x3a000000u | n, true), "session");
			plain_msg(m, s2c_lens[i], n, rep * 7);
			if (!check_s2c(desc, n, v6, m, s2c_lens[i], true,
				       "kisekimo, mahoumo, muryoudewaarimasen", no_csum))
				return;
			CHECK(!sess_get(n, &s) && s.s2c_packets == 1 && s.s2c_bytes == s2c_lens[i],
			      "%s: session counted %llu bytes", desc,
			      (unsigned long long)s.s2c_bytes);
		}
	}
}

/*
 * IPv4 client <-> IPv6 backend and the reverse (bpf/xlat.h): the
 * de-obfuscation, the stripped nonce and the new IP header in one frame;
 * check_c2s() verifies every length and checksum from scratch.
 */
TEST(xlat_c2s_vectors_and_random)
{
	uint64_t st = 0xc0ffee;
	int n = 0, stripped = 0;

	ENV_REQUIRE();
	for (int i = 0; i < vs.n; i++) {
		const struct obfs_vector *v = &vs.v[i];
		uint8_t want[OV_MAX];
		char desc[128];

		if (v->type != WG_MSG_TRANSPORT)
			continue;
		CHECK(!cfg_set(v->password, 0), "cfg");
		memcpy(want, v->in, v->in_len);
		put_le32(want + WG_TRANSPORT_OFF_RECEIVER, SO(i));
		for (int fam = FAM_V4_V6; fam <= FAM_V6_V4; fam++) {
			snprintf(desc, sizeof(desc), "%s, IPv%d client, IPv%d backend", v->name,
				 client_v6(fam) ? 6 : 4, backend_v6(fam) ? 6 : 4);
			CHECK(!sess_put(i, fam, get_le32(v->in + 4), false), "%s: session", desc);
			check_c2s(desc, i, fam, v->out, v->out_len, want, v->in_len, 0);
			if (test_state__ != TEST_RUNNING)
				return;
			n++;
			stripped += v->out_len != v->in_len;
		}
	}
	CHECK(n == 2 * 12 && stripped == 2 * 7, "%d runs, %d stripped", n, stripped);
	CHECK(!cfg_set("random pw", 0), "cfg");
	for (int i = 0; i < 200 && test_state__ == TEST_RUNNING; i++) {
		uint8_t plain[1500], wire[1500 + OBFS_MAX_OVERHEAD], len_r[2];
		int fam = FAM_V4_V6 + (i & 1), sn = 400 + i, wl;
		struct obfs_key k;
		size_t len;
		char desc[64];

		rnd_fill(&st, len_r, 2);
		len = 32 + (len_r[0] << 8 | len_r[1]) % (1400 - 32);
		if (i % 3 == 0)
			len = 32 + len % 240;
		rnd_fill(&st, plain, len);
		plain[0] = 4, plain[1] = plain[2] = plain[3] = 0;
		put_le32(plain + 4, 0x5a000000u | sn);
		memcpy(wire, plain, len);
		obfs_key_init(&k, "random pw");
		wl = obfs_encode(&k, wire, len, sizeof(wire), rnd_fill, &st);
		obfs_key_wipe(&k);
		CHECK(wl > 0, "encode");
		put_le32(plain + 4, SO(sn));
		snprintf(desc, sizeof(desc), "random #%d (%zu bytes, fam %d)", i, len, fam);
		CHECK(!sess_put(sn, fam, 0x5a000000u | sn, false), "session");
		check_c2s(desc, sn, fam, wire, wl, plain, len, 0);
	}
}

/* The backend's reply in the other family, obfuscated (nonce appended or the tag) on the way. */
TEST(xlat_s2c_obfuscate)
{
	uint8_t m[2048];

	ENV_REQUIRE();
	CHECK(!cfg_set("kisekimo, mahoumo, muryoudewaarimasen", 0), "cfg");
	for (size_t i = 0; i < sizeof(s2c_lens) / sizeof(s2c_lens[0]); i++) {
		for (int fam = FAM_V4_V6; fam <= FAM_V6_V4; fam++) {
			int n = 600 + (int)i * 2 + fam;
			struct xwgp_session s;
			char desc[96];

			snprintf(desc, sizeof(desc), "%zu bytes, IPv%d backend to an IPv%d client",
				 s2c_lens[i], backend_v6(fam) ? 6 : 4, client_v6(fam) ? 6 : 4);
			CHECK(!sess_put(n, fam, 0x3a000000u | n, true), "session");
			plain_msg(m, s2c_lens[i], n, fam * 5 + (int)i);
			if (!check_s2c(desc, n, fam, m, s2c_lens[i], true,
				       "kisekimo, mahoumo, muryoudewaarimasen", false))
				return;
			CHECK(!sess_get(n, &s) && s.s2c_packets == 1 && s.s2c_bytes == s2c_lens[i],
			      "%s: session counted %llu bytes", desc,
			      (unsigned long long)s.s2c_bytes);
		}
	}
}

/* Nonces differ per packet: the same message twice gives two wires. */
TEST(s2c_fresh_nonce)
{
	uint8_t m[64];
	const struct xwgp_ep from = backend_ep(false), to = upstream_ep(false);
	struct pkt_frame in;
	struct bpf_env_result r1, r2;

	ENV_REQUIRE();
	CHECK(!cfg_set("x", 0), "cfg");
	CHECK(!sess_put(300, false, 0x3a000300, true), "session");
	plain_msg(m, 64, 300, 1);
	pkt_build(&in, &from, &to, m, 64, NULL);
	CHECK(!bpf_env_run(&in, ifindex(), &r1) && !bpf_env_run(&in, ifindex(), &r2), "run");
	CHECK(r1.out.len == r2.out.len && r1.out.len == in.len + 16, "lengths %zu %zu", r1.out.len,
	      r2.out.len);
	CHECK(memcmp(r1.out.b + r1.out.len - 16, r2.out.b + r2.out.len - 16, 16),
	      "the same nonce twice");
}

/* Sessions whose client spoke plain stay plain, obfuscation on or not. */
TEST(s2c_plain_session)
{
	uint8_t m[300];

	ENV_REQUIRE();
	CHECK(!cfg_set("x", 0), "cfg");
	CHECK(!sess_put(310, false, 0x3a000310, false), "session");
	plain_msg(m, 100, 310, 3);
	if (!check_s2c("obfs on, plain session", 310, false, m, 100, false, NULL, false))
		return;
	/* An obfs session while the config has obfuscation off: plain too (agent's rule). */
	CHECK(!cfg_set(NULL, 0), "cfg");
	CHECK(!sess_put(311, false, 0x3a000311, true), "session");
	plain_msg(m, 100, 311, 3);
	check_s2c("obfs off, obfs session", 311, false, m, 100, false, NULL, false);
}

static const struct obfs_vector *vector(const char *name)
{
	for (int i = 0; i < vs.n; i++)
		if (!strcmp(vs.v[i].name, name))
			return &vs.v[i];
	return NULL;
}

/* A client frame carrying payload: the action and reason; unmodified unless forwarded. */
static void check_verdict(const char *desc, const uint8_t *payload, size_t len, uint32_t act,
			  int reason)
{
	const struct xwgp_ep from = client_ep(false), to = listen_ep(false);
	struct pkt_frame in;
	struct bpf_env_result r;

	pkt_build(&in, &from, &to, payload, len, NULL);
	CHECK(!bpf_env_run(&in, ifindex(), &r), "%s: run", desc);
	CHECK(r.act == act && r.reason == reason, "%s: act %u reason %s, want %u %s", desc, r.act,
	      bpf_env_reason(r.reason), act, bpf_env_reason(reason));
	CHECK(r.out.len == in.len && !memcmp(r.out.b, in.b, in.len), "%s: modified", desc);
}

TEST(c2s_punts_and_drops)
{
	const struct obfs_vector *init = vector("pw1_initiation_mac2_zero");
	const struct obfs_vector *edge = vector("pw1_edge_initiation_key0_modified");
	const struct obfs_vector *resp = vector("pw1_response_mac2_nonzero");
	const struct obfs_vector *cookie = vector("pw1_cookie_reply");
	const struct obfs_vector *t100 = vector("pw1_transport_100");
	const struct obfs_vector *t100b = vector("pw2_transport_100");
	uint8_t buf[1500];
	uint64_t st = 5;
	int undecodable = 0;

	ENV_REQUIRE();
	CHECK(init && edge && resp && cookie && t100 && t100b, "vectors missing");
	CHECK(!cfg_set(init->password, 0), "cfg");
	/* Handshakes go to the agent as they came (PASS: no AF_XDP socket here). */
	check_verdict("obfuscated initiation", init->out, init->out_len, 2,
		      XWGP_STAT_PUNT_HANDSHAKE);
	check_verdict("obfuscated initiation, key_0 changed", edge->out, edge->out_len, 2,
		      XWGP_STAT_PUNT_HANDSHAKE);
	check_verdict("obfuscated response from a client", resp->out, resp->out_len, XDP_DROP_ACT,
		      XWGP_STAT_DROP_BAD_TYPE);
	check_verdict("obfuscated cookie reply from a client", cookie->out, cookie->out_len,
		      XDP_DROP_ACT, XWGP_STAT_DROP_BAD_TYPE);
	/* An initiation cut short: the type decodes, the size cannot hold it. */
	memcpy(buf, init->out, init->out_len);
	memcpy(buf + 150 - 16, init->out + init->out_len - 16, 16);
	check_verdict("initiation in 150 bytes", buf, 150, XDP_DROP_ACT,
		      XWGP_STAT_DROP_OBFS_UNDECODABLE);
	/* The other password's packet does not decode with this key. */
	check_verdict("transport of another password", t100b->out, t100b->out_len, XDP_DROP_ACT,
		      XWGP_STAT_DROP_OBFS_UNDECODABLE);
	check_verdict("obfuscated runt", t100->out, 31, XDP_DROP_ACT, XWGP_STAT_DROP_MALFORMED);
	/* Random bytes: (almost) all undecodable, never forwarded. */
	for (int i = 0; i < 200; i++) {
		const struct xwgp_ep from = client_ep(false), to = listen_ep(false);
		struct pkt_frame in;
		struct bpf_env_result r;

		rnd_fill(&st, buf, 200);
		buf[0] |= 0x10; /* never plain */
		pkt_build(&in, &from, &to, buf, 200, NULL);
		CHECK(!bpf_env_run(&in, ifindex(), &r), "run");
		CHECK(r.act == XDP_DROP_ACT || r.act == 2, "random #%d: act %u", i, r.act);
		undecodable += r.reason == XWGP_STAT_DROP_OBFS_UNDECODABLE;
	}
	CHECK(undecodable > 190, "only %d of 200 random packets undecodable", undecodable);
	/* Obfuscation off: a non-plain header is simply malformed. */
	CHECK(!cfg_set(NULL, 0), "cfg");
	check_verdict("obfs off", t100->out, t100->out_len, XDP_DROP_ACT,
		      XWGP_STAT_DROP_MALFORMED);
}

/* Obfuscated initiations share the per-source punt budget of plain ones. */
TEST(c2s_handshake_rate_limited)
{
	const struct obfs_vector *init = vector("pw2_initiation_mac2_nonzero");

	ENV_REQUIRE();
	CHECK(init, "vector missing");
	CHECK(!cfg_set(init->password, 1), "cfg"); /* 1 per second, burst 1 */
	check_verdict("first", init->out, init->out_len, 2, XWGP_STAT_PUNT_HANDSHAKE);
	check_verdict("second", init->out, init->out_len, XDP_DROP_ACT,
		      XWGP_STAT_DROP_RATE_LIMITED);
}

/* ---- XDP and the agent's handler agree ------------------------------------ */

static int null_send(void *ctx, enum xwgp_side side, const struct xwgp_ep *local,
		     const struct xwgp_ep *remote, const uint8_t *data, size_t len)
{
	(void)side, (void)local, (void)remote, (void)data, (void)len;
	++*(int *)ctx;
	return 0;
}

static int null_route(void *ctx, const struct xwgp_ep *remote, struct xwgp_ep *local)
{
	(void)ctx, (void)remote;
	*local = upstream_ep(false);
	return 0;
}

/* A handler on the same maps, obfuscation password pw. */
static int agent_up(struct handler *h, struct xwgp_server_config *cfg, int *sent, const char *pw)
{
	char text[512], b64[45];
	uint8_t priv[32];

	if (wg_crypto_init())
		return -1;
	randombytes_buf(priv, sizeof(priv));
	wg_key_to_base64(b64, priv);
	snprintf(text, sizeof(text),
		 "{ \"listen\": \":%d\", \"obfs\": \"%s\", \"servers\": [ { \"privkey\":"
		 " \"%s\", \"address\": \"192.0.2.20\", \"peers\": [ { \"forward_to\":"
		 " \":%d\" } ] } ] }",
		 LISTEN_PORT, pw, b64, BACKEND_PORT);
	sodium_memzero(priv, sizeof(priv));
	if (config_parse_server(text, "<test>", cfg) || handler_init(h, cfg, &bpf_env.maps))
		return -1;
	sodium_memzero(text, sizeof(text));
	h->listen_port = LISTEN_PORT;
	h->upstream_port = UPSTREAM_PORT;
	h->send = null_send;
	h->route = null_route;
	h->io_ctx = sent;
	return 0;
}

/* The XDP reason that corresponds to the one agent counter that moved (-1: none/several). */
static int agent_outcome(const uint64_t *before, const uint64_t *after)
{
	static const struct {
		int agent, xdp;
	} map[] = {
		{ XWGP_AGENT_STAT_OBFS_UNDECODABLE, XWGP_STAT_DROP_OBFS_UNDECODABLE },
		{ XWGP_AGENT_STAT_MALFORMED, XWGP_STAT_DROP_MALFORMED },
		{ XWGP_AGENT_STAT_BAD_TYPE, XWGP_STAT_DROP_BAD_TYPE },
		{ XWGP_AGENT_STAT_TOO_BIG, XWGP_STAT_DROP_TOO_BIG },
		{ XWGP_AGENT_STAT_INIT_NO_SERVER, XWGP_STAT_PUNT_HANDSHAKE },
		{ XWGP_AGENT_STAT_TRANSPORT_C2S, XWGP_STAT_C2S_TX },
		{ XWGP_AGENT_STAT_TRANSPORT_UNKNOWN_INDEX, XWGP_STAT_DROP_UNKNOWN_INDEX },
	};
	int out = -1;

	for (int k = 0; k < XWGP_AGENT_STAT__MAX; k++) {
		/* Bookkeeping that moves with an outcome, not an outcome. */
		if (k == XWGP_AGENT_STAT_RX_CLIENT || k == XWGP_AGENT_STAT_SESS_WRITES ||
		    after[k] == before[k])
			continue;
		if (out != -1)
			return -2;
		for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (map[i].agent == k)
				out = map[i].xdp;
		if (out == -1)
			return -3 - k;
	}
	return out;
}

/* An obfuscated client message, sometimes damaged: header bits, length, or all of it. */
static size_t agree_input(uint64_t *st, const struct obfs_key *k, uint8_t *w, int n)
{
	static const size_t sizes[] = { 0, WG_INIT_LEN, WG_RESP_LEN, WG_COOKIE_REPLY_LEN };
	uint8_t r[4], nonce[16];
	uint8_t type;
	size_t len;
	int wl;

	rnd_fill(st, r, sizeof(r));
	type = 1 + r[0] % 4;
	len = type == 4 ? 32u + (r[1] << 8 | r[2]) % 1200u : sizes[type];
	rnd_fill(st, w, len);
	w[0] = type, w[1] = w[2] = w[3] = 0;
	if (type == 4) {
		/* Known session, unknown index, or index 0. */
		uint32_t rcv = r[2] % 8 ? 0x5a000000u | n : r[1] % 2 ? 0x5b000000u : 0;

		put_le32(w + 4, rcv);
	}
	wl = obfs_encode(k, w, len, 1500, rnd_fill, st);
	switch (r[3] % 6) {
	case 0: /* flip bits of the (XORed) reserved/flag bytes: decodes to them flipped */
		w[1 + r[1] % 3] ^= 1u << (r[2] % 8);
		break;
	case 1: /* another length, the nonce kept at the end */
		memcpy(nonce, w + wl - 16, 16);
		wl = 16 + (r[1] << 8 | r[2]) % 700;
		memcpy(w + wl - 16, nonce, 16);
		break;
	case 2: /* not obfuscated with our key at all */
		rnd_fill(st, w, wl);
		w[0] |= 0x10;
		break;
	default:
		break;
	}
	return wl;
}

/*
 * The same client bytes through XDP and through the agent's handler (on
 * the same maps) end the same way: forwarded, punted as a handshake, or
 * dropped for the corresponding reason.
 */
TEST(verdicts_agree_with_agent)
{
	static struct xwgp_server_config cfg;
	static struct handler h;
	uint64_t st = 0xabcdef, before[XWGP_AGENT_STAT__MAX];
	const struct xwgp_ep from = client_ep(false), to = listen_ep(false);
	int sent = 0, seen[XWGP_STAT__MAX] = { 0 };
	struct obfs_key k;

	ENV_REQUIRE();
	CHECK(!cfg_set("agree", 0), "cfg");
	CHECK(!agent_up(&h, &cfg, &sent, "agree"), "handler setup");
	obfs_key_init(&k, "agree");
	for (int i = 0; i < 1500 && test_state__ == TEST_RUNNING; i++) {
		uint8_t w[1500 + OBFS_MAX_OVERHEAD];
		struct pkt_frame in;
		struct bpf_env_result r;
		struct handler_pkt p = { .side = XWGP_SIDE_CLIENT, .src = from, .dst = to };
		int n = 600 + i % 4, want;
		size_t wl;

		CHECK(!sess_put(n, false, 0x5a000000u | n, true), "session");
		wl = agree_input(&st, &k, w, n);
		pkt_build(&in, &from, &to, w, wl, NULL);
		CHECK(!bpf_env_run(&in, ifindex(), &r), "run");
		memcpy(before, h.stats, sizeof(before));
		p.data = w, p.len = wl, p.cap = wl;
		handler_packet(&h, &p);
		want = agent_outcome(before, h.stats);
		/* The agent counts index 0 as any unknown index. */
		if (r.reason == XWGP_STAT_DROP_INDEX_ZERO && want == XWGP_STAT_DROP_UNKNOWN_INDEX)
			want = r.reason;
		CHECK(r.reason == want, "#%d (%zu bytes, type byte %02x): XDP %s, agent %s (%d)", i,
		      wl, w[0], bpf_env_reason(r.reason), bpf_env_reason(want), want);
		seen[r.reason]++;
	}
	obfs_key_wipe(&k);
	handler_fini(&h);
	config_free_server(&cfg);
	/* The mix must have reached every outcome. */
	CHECK(seen[XWGP_STAT_C2S_TX] && seen[XWGP_STAT_PUNT_HANDSHAKE] &&
		      seen[XWGP_STAT_DROP_BAD_TYPE] && seen[XWGP_STAT_DROP_MALFORMED] &&
		      seen[XWGP_STAT_DROP_OBFS_UNDECODABLE] && seen[XWGP_STAT_DROP_UNKNOWN_INDEX],
	      "outcomes: fwd %d hs %d badtype %d malformed %d undecodable %d unknown %d",
	      seen[XWGP_STAT_C2S_TX], seen[XWGP_STAT_PUNT_HANDSHAKE],
	      seen[XWGP_STAT_DROP_BAD_TYPE], seen[XWGP_STAT_DROP_MALFORMED],
	      seen[XWGP_STAT_DROP_OBFS_UNDECODABLE], seen[XWGP_STAT_DROP_UNKNOWN_INDEX]);
}

TEST_MAIN()
