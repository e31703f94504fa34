// SPDX-License-Identifier: GPL-2.0
/*
 * Handshake rate of the agent on one core: how many initiations per second
 * handler_packet() (agent/handler.c) turns into forwarded initiations, with
 * real crypto (MAC1 search over the configured servers, the responder's two
 * X25519 and AEAD opens, replay check) and real session maps (the XDP
 * program's, from the skeleton: every initiation creates a session and its
 * peer state with map syscalls, as in `xwgp server').
 *
 * The initiations are made beforehand by wg_create_initiation() from many
 * client keys, each client sending a few with growing timestamps, and all
 * addressed to one server key T; the first initiation of every client comes
 * before any client's second. The runs alternate between a config with
 * 1 server (T) and one with 8 servers (7 others, then T): MAC1 picks the
 * server before any Diffie-Hellman, so 8 servers should cost 7 more MAC1
 * checks per initiation, not 7 more DH. Each run starts from empty maps and
 * a new handler, so an empty static-static DH cache (agent/dh_cache.h).
 *
 * Each run is timed in two parts: cold, the first initiation of every client
 * key (a DH cache miss: two X25519 each, as a gateway does for a client it
 * has not seen since it started); warm, all the others (re-handshakes of
 * known keys, one X25519 each: what a gateway mostly sees, every client
 * re-handshaking every two minutes with the same static key). The DH
 * cache's hit and miss counters must confirm each part.
 * Rates are per CPU second of this thread (CLOCK_THREAD_CPUTIME_ID, user +
 * system), so other work on the machine does not count against the agent;
 * the best run of each config and part counts.
 *
 * Also timed: one X25519 on its own. A responder does two per cold
 * initiation and one per warm one, so 1e6 / (2 * x25519_us) and
 * 1e6 / x25519_us bound what any handler can do on this machine.
 *
 * Also timed: the cookie reply under load (agent/cookie_guard.c), the same
 * initiations fed with `under_load' 0, each answered by a 64-byte cookie
 * reply instead of a DH (handshake.cookie_reply); the handshake runs above
 * have the load meter off (under_load UINT32_MAX), so they measure DH.
 * And the rejection rate under load (handshake.mac2_reject): the same
 * initiations with a random MAC2, the under-load path XDP cannot filter
 * (it punts every initiation carrying a MAC2): MAC1 and MAC2 checked, the
 * first COOKIE_INVALID_REPLIES per window answered, the rest dropped.
 *
 * Also timed: BLAKE2s compressions per CPU second, the portable one and
 * the x86-64 SIMD one (agent/blake2s_impl.h), alternated in one run
 * (handshake.blake2s): the handler above uses the SIMD one where the CPU
 * has it, ~35 compressions per warm initiation.
 *
 * Usage: bench_handshake [--inits N] [--clients K] [--rounds R]
 * Prints JSON objects on stdout: per config, the cold rate
 * (handshake.serversN) and the warm one (handshake.warm.serversN).
 */
#include <getopt.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sodium.h>

#include "bench_util.h"
#include "addr.h"
#include "blake2s_impl.h"
#include "config.h"
#include "handler.h"
#include "index_pick.h"
#include "log.h"
#include "wg_crypto.h"
#include "x25519_x4.h"
#include "xwgp.skel.h"

#define N_SERVERS_MAX 8

struct init_msg {
	uint8_t b[WG_INIT_LEN];
	struct xwgp_ep src; /* the client's address and port */
};

static struct {
	unsigned int n_inits, n_clients, rounds;
	struct init_msg *inits;
	uint8_t server_priv[N_SERVERS_MAX][32]; /* [N_SERVERS_MAX - 1] is T */
	struct xwgp_bpf *skel;
	struct xwgp_maps maps;
	struct xwgp_ep dst; /* our listening address */
	uint64_t sent, cookies;
} env = { .n_inits = 8192, .n_clients = 2048, .rounds = 3 };

static int count_send(void *ctx, enum xwgp_side side, const struct xwgp_ep *local,
		      const struct xwgp_ep *remote, const uint8_t *data, size_t len)
{
	(void)ctx, (void)local, (void)remote;
	if (side == XWGP_SIDE_SERVER && len == WG_INIT_LEN)
		env.sent++;
	if (side == XWGP_SIDE_CLIENT && len == WG_COOKIE_REPLY_LEN && data[0] == WG_MSG_COOKIE_REPLY)
		env.cookies++;
	return 0;
}

static int fixed_route(void *ctx, const struct xwgp_ep *remote, struct xwgp_ep *local)
{
	(void)ctx, (void)remote;
	*local = bench_ep("198.51.100.1", 0);
	return 0;
}

/* TAI64N base + step seconds: each client's initiations grow like real ones. */
static void tai64n_at(uint8_t out[12], const uint8_t base[12], unsigned int step)
{
	uint64_t sec = 0;

	for (int i = 0; i < 8; i++)
		sec = sec << 8 | base[i];
	sec += step;
	for (int i = 7; i >= 0; i--, sec >>= 8)
		out[i] = sec;
	memcpy(out + 8, base + 8, 4);
}

static int make_inits(void)
{
	unsigned int per_client = (env.n_inits + env.n_clients - 1) / env.n_clients;
	uint8_t target_pub[32], client_priv[32], eph[32], tai[12], base[12];
	unsigned int n = 0;
	uint64_t t0 = xwgp_clock_ns(CLOCK_MONOTONIC);
	char ip[32];
	int err = 0;

	env.inits = calloc(env.n_inits, sizeof(*env.inits));
	if (!env.inits)
		return -ENOMEM;
	for (int i = 0; i < N_SERVERS_MAX; i++)
		randombytes_buf(env.server_priv[i], 32);
	wg_pubkey(target_pub, env.server_priv[N_SERVERS_MAX - 1]);
	wg_tai64n_now(base);
	/* Client-major would give each client's initiations back to back; interleave. */
	for (unsigned int round = 0; round < per_client && !err; round++) {
		tai64n_at(tai, base, round);
		for (unsigned int c = 0; c < env.n_clients && n < env.n_inits && !err; c++, n++) {
			/* A client key derived from its number: same key every round. */
			crypto_generichash(client_priv, 32, (const uint8_t *)&c, sizeof(c),
					   env.server_priv[0], 32);
			randombytes_buf(eph, 32);
			err = wg_create_initiation(env.inits[n].b, client_priv, target_pub,
						   xwgp_random_index(), eph, tai, NULL);
			snprintf(ip, sizeof(ip), "192.0.2.%u", 2 + c % 250);
			env.inits[n].src = bench_ep(ip, 1024 + c % 60000);
		}
	}
	sodium_memzero(client_priv, sizeof(client_priv));
	sodium_memzero(eph, sizeof(eph));
	bench_log("made %u initiations from %u client keys in %.1f s", n, env.n_clients,
		  (xwgp_clock_ns(CLOCK_MONOTONIC) - t0) / 1e9);
	return err;
}

static int maps_up(void)
{
	uint32_t cap = env.n_inits + 1024;
	struct xwgp_bpf *s = xwgp_bpf__open();

	if (!s)
		return -errno;
	xwgp_skel_size_sessions(s, cap);
	bpf_map__set_max_entries(s->maps.xwgp_peer_state, cap);
	if (xwgp_bpf__load(s)) {
		xwgp_bpf__destroy(s);
		return -EINVAL;
	}
	env.skel = s;
	memset(&env.maps, 0xff, sizeof(env.maps)); /* -1: any map added later is "none" */
	xwgp_maps_from_skel(&env.maps, s); /* every fd, and the arrays mapped as the agent maps them */
	return env.maps.sess ? 0 : -ENXIO;
}

/* Empty a hash map (every run starts with no sessions and no peer state). */
static void map_clear(int fd, size_t key_size)
{
	uint8_t key[64], next[64];

	while (bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(fd, key))
			break;
	}
}

/* Empty every slot of the WGIT v2 session array. */
static void slots_clear(void)
{
	static const struct xwgp_session empty;

	for (uint32_t slot = 0; slot < env.maps.n_slots; slot++)
		bpf_map_update_elem(env.maps.sessions, &slot, &empty, BPF_ANY);
	memset(env.maps.meta, 0, (size_t)env.maps.n_slots * sizeof(*env.maps.meta));
}

/* A config of n servers: n - 1 others first, then T; each with a fallback peer. */
static int config_for(struct xwgp_server_config *cfg, int n)
{
	char *json = malloc(4096), b64[45];
	size_t off = 0;
	int err;

	if (!json)
		return -ENOMEM;
	off += snprintf(json + off, 4096 - off, "{ \"listen\": \":51820\", \"servers\": [");
	for (int i = N_SERVERS_MAX - n; i < N_SERVERS_MAX; i++) {
		wg_key_to_base64(b64, env.server_priv[i]);
		off += snprintf(json + off, 4096 - off,
				"%s{ \"privkey\": \"%s\", \"address\": \"198.51.100.2\", "
				"\"peers\": [ { \"forward_to\": \":%d\" } ] }",
				i == N_SERVERS_MAX - n ? "" : ", ", b64, 51820 + i);
	}
	snprintf(json + off, 4096 - off, "] }");
	err = config_parse_server(json, "<bench>", cfg);
	sodium_memzero(json, 4096);
	free(json);
	sodium_memzero(b64, sizeof(b64));
	return err;
}

/* Rates of one run: cold (first initiation of each key) and warm (the rest). */
struct run_rates {
	double cold, warm; /* initiations per CPU second */
};

/* Feed inits [from, to) to the handler; CPU ns of this thread it took. */
static uint64_t feed(struct handler *h, unsigned int from, unsigned int to)
{
	uint8_t buf[WG_INIT_LEN];
	uint64_t t0;

	/* CPU time of this thread (user + system: the map syscalls count): what
	 * one core spends, whatever else the machine runs meanwhile. */
	t0 = xwgp_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	for (unsigned int i = from; i < to; i++) {
		struct handler_pkt p = {
			.side = XWGP_SIDE_CLIENT,
			.src = env.inits[i].src,
			.dst = env.dst,
			.data = buf,
			.len = WG_INIT_LEN,
			.cap = sizeof(buf),
		};

		memcpy(buf, env.inits[i].b, WG_INIT_LEN);
		handler_packet(h, &p);
	}
	return xwgp_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
}

/* Every initiation forwarded and sent, and the DH cache hit exactly when expected. */
static int run_check(const struct handler *h, int n_servers, uint64_t cold_misses)
{
	uint64_t fwd = h->stats[XWGP_AGENT_STAT_INIT_FORWARDED];
	uint64_t warm = env.n_inits - env.n_clients;

	if (fwd == env.n_inits && env.sent == env.n_inits && cold_misses == env.n_clients &&
	    h->dh_cache.hits == warm && h->dh_cache.misses == env.n_clients)
		return 0;
	bench_log("%d server(s): %llu of %u initiations forwarded, %llu sent "
		  "(no server %llu, decrypt failed %llu, replay %llu, table full %llu); "
		  "DH cache: %llu misses in the cold part (want %u), %llu hits (want %llu), "
		  "%llu misses in all",
		  n_servers, (unsigned long long)fwd, env.n_inits, (unsigned long long)env.sent,
		  (unsigned long long)h->stats[XWGP_AGENT_STAT_INIT_NO_SERVER],
		  (unsigned long long)h->stats[XWGP_AGENT_STAT_INIT_DECRYPT_FAILED],
		  (unsigned long long)h->stats[XWGP_AGENT_STAT_INIT_REPLAY],
		  (unsigned long long)h->stats[XWGP_AGENT_STAT_INIT_TABLE_FULL],
		  (unsigned long long)cold_misses, env.n_clients,
		  (unsigned long long)h->dh_cache.hits, (unsigned long long)warm,
		  (unsigned long long)h->dh_cache.misses);
	return -EPROTO;
}

/* A handler for n servers, under_load as given; counters of sends reset. */
static int handler_up(struct handler *h, struct xwgp_server_config *cfg, int n_servers,
		      uint32_t under_load)
{
	int err = config_for(cfg, n_servers);

	if (!err)
		err = handler_init(h, cfg, &env.maps);
	if (err) {
		config_free_server(cfg);
		return err;
	}
	cfg->under_load_pps = under_load;
	h->listen_port = 51820;
	h->upstream_port = 51900;
	h->send = count_send;
	h->route = fixed_route;
	env.sent = env.cookies = 0;
	return 0;
}

/* Cookie replies per CPU second under load (1 server): every initiation answered so. */
static double cookie_rate(void)
{
	struct xwgp_server_config cfg = {};
	struct handler h;
	uint64_t ns;

	if (handler_up(&h, &cfg, 1, 0))
		return 0;
	ns = feed(&h, 0, env.n_inits);
	if (env.cookies != env.n_inits || env.sent || h.stats[XWGP_AGENT_STAT_DH_CACHE_MISS]) {
		bench_log("cookie run: %llu cookie replies for %u initiations, %llu forwarded",
			  (unsigned long long)env.cookies, env.n_inits,
			  (unsigned long long)env.sent);
		ns = 0;
	}
	handler_fini(&h);
	config_free_server(&cfg);
	return ns ? env.n_inits / (ns / 1e9) : 0;
}

/* Wrong-MAC2 initiations handled per CPU second under load (mostly dropped). */
static double mac2_reject_rate(void)
{
	struct init_msg *orig = env.inits, *bad = malloc(env.n_inits * sizeof(*bad));
	struct xwgp_server_config cfg = {};
	struct handler h;
	uint64_t ns = 0, dropped;

	if (!bad || handler_up(&h, &cfg, 1, 0)) {
		free(bad);
		return 0;
	}
	memcpy(bad, orig, env.n_inits * sizeof(*bad));
	for (unsigned int i = 0; i < env.n_inits; i++)
		randombytes_buf(bad[i].b + WG_INIT_OFF_MAC2, WG_MAC_LEN);
	env.inits = bad;
	ns = feed(&h, 0, env.n_inits);
	env.inits = orig;
	dropped = h.stats[XWGP_AGENT_STAT_MAC2_INVALID_DROPPED];
	if (env.sent || dropped + env.cookies != env.n_inits || !dropped) {
		bench_log("reject run: %llu dropped + %llu cookies of %u, %llu forwarded",
			  (unsigned long long)dropped, (unsigned long long)env.cookies, env.n_inits,
			  (unsigned long long)env.sent);
		ns = 0;
	}
	handler_fini(&h);
	config_free_server(&cfg);
	free(bad);
	return ns ? env.n_inits / (ns / 1e9) : 0;
}

/* Feed every initiation once: the cold part, then the warm part. 0 or -errno. */
static int run_once(int n_servers, struct run_rates *rates)
{
	struct xwgp_server_config cfg = {};
	uint64_t cold_ns, warm_ns, cold_misses;
	struct handler h;
	int err;

	slots_clear();
	map_clear(env.maps.peer_state, sizeof(struct xwgp_peer_key));
	err = handler_up(&h, &cfg, n_servers, UINT32_MAX); /* never under load: DH every time */
	if (err)
		return err;

	/* make_inits put every client's first initiation before any second one. */
	cold_ns = feed(&h, 0, env.n_clients);
	cold_misses = h.dh_cache.misses;
	warm_ns = feed(&h, env.n_clients, env.n_inits);
	err = run_check(&h, n_servers, cold_misses);
	handler_fini(&h);
	config_free_server(&cfg);
	if (err)
		return err;
	rates->cold = env.n_clients / (cold_ns / 1e9);
	rates->warm = (env.n_inits - env.n_clients) / (warm_ns / 1e9);
	return 0;
}

/*
 * Microseconds per X25519 (crypto_scalarmult) on this machine now: a
 * responder needs two per initiation (ephemeral and static), which bounds
 * the rate whatever the rest of the handler does.
 */
static double x25519_us(void)
{
	uint8_t q[32], n[32], p[32];
	uint64_t t0;
	int ok = 0;

	randombytes_buf(n, sizeof(n));
	crypto_scalarmult_base(p, n);
	t0 = xwgp_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	for (int i = 0; i < 1000; i++) {
		ok |= crypto_scalarmult(q, n, p);
		n[0] ^= q[0]; /* a chain: nothing can be hoisted */
	}
	sodium_memzero(n, sizeof(n));
	return ok ? -1 : (xwgp_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / 1e3 / 1000;
}

/*
 * CPU microseconds wg_find_server_by_mac1() takes per initiation for the
 * target with n servers configured (the target last): the whole difference
 * between the two configs, measured without the noise of the full handler.
 */
/*
 * Peer choice per initiation (config_peer_for) with N_PEERS_MANY keyed peers
 * under one server, as parsed from a config file: microseconds per lookup,
 * every lookup checked to find its own peer; -1 on failure.
 */
#define N_PEERS_MANY 10000
static double peer_choice_us(void)
{
	const size_t cap = N_PEERS_MANY * 96 + 512;
	const unsigned int lookups = 100000;
	uint8_t(*keys)[32] = calloc(N_PEERS_MANY, 32);
	char *json = malloc(cap), b64[45];
	struct xwgp_server_config cfg;
	unsigned int found = 0;
	size_t off = 0;
	uint64_t t0;

	if (!keys || !json) {
		free(keys);
		free(json);
		return -1;
	}
	wg_key_to_base64(b64, env.server_priv[0]);
	off += snprintf(json + off, cap - off,
			"{ \"listen\": \":51820\", \"servers\": [ { \"privkey\": \"%s\", "
			"\"address\": \"198.51.100.2\", \"peers\": [",
			b64);
	for (int i = 0; i < N_PEERS_MANY; i++) {
		randombytes_buf(keys[i], 32);
		wg_key_to_base64(b64, keys[i]);
		off += snprintf(json + off, cap - off, "%s{ \"pubkey\": \"%s\", \"forward_to\": \":%d\" }",
				i ? ", " : "", b64, 1 + i);
	}
	snprintf(json + off, cap - off, "] } ] }");
	if (config_parse_server(json, "<bench peers>", &cfg)) {
		free(keys);
		free(json);
		return -1;
	}
	t0 = xwgp_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	for (unsigned int i = 0; i < lookups; i++) {
		unsigned int k = (i * 7919u) % N_PEERS_MANY;
		const struct xwgp_peer_cfg *p = config_peer_for(&cfg.servers[0], keys[k]);

		found += p && xwgp_ep_port(&p->forward_to) == 1 + (int)k;
	}
	t0 = xwgp_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	config_free_server(&cfg);
	free(keys);
	free(json);
	return found == lookups ? t0 / 1e3 / lookups : -1;
}

static double mac1_search_us(int n)
{
	struct wg_server_key *keys = sodium_allocarray(N_SERVERS_MAX, sizeof(*keys));
	uint64_t t0;
	int found = 0;

	if (!keys)
		return -1;
	for (int i = 0; i < N_SERVERS_MAX; i++)
		wg_server_key_init(&keys[i], env.server_priv[i]);
	t0 = xwgp_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	for (unsigned int i = 0; i < env.n_inits; i++)
		found += wg_find_server_by_mac1(env.inits[i].b, WG_INIT_LEN,
						keys + N_SERVERS_MAX - n, n) == n - 1;
	t0 = xwgp_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	sodium_free(keys); /* wipes */
	return found == (int)env.n_inits ? t0 / 1e3 / env.n_inits : -1;
}

/*
 * Compressions per CPU second of one compression function: a chain (each
 * block compressed into the state the previous left, as a hash does), the
 * best of `rounds' timings, each alternating with the other function's.
 */
static double b2s_time(blake2s_compress_fn *f)
{
	const unsigned int n = 100000;
	uint8_t block[BLAKE2S_BLOCK_LEN];
	struct blake2s_state s;
	uint64_t t0;

	blake2s_init(&s, 32, NULL, 0);
	randombytes_buf(block, sizeof(block));
	t0 = xwgp_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	for (unsigned int i = 0; i < n; i++)
		f(&s, block, 0);
	t0 = xwgp_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	return t0 ? n * 1e9 / t0 : 0;
}

static void print_blake2s_rates(void)
{
	double scalar = 0, simd = 0;
#if defined(__x86_64__)
	blake2s_compress_fn *simd_fn = blake2s_simd_supported() ? blake2s_compress_sse41 : NULL;
#else
	blake2s_compress_fn *simd_fn = NULL;
#endif

	for (int r = 0; r < 10; r++) {
		double x = b2s_time(blake2s_compress_scalar), y = simd_fn ? b2s_time(simd_fn) : 0;

		scalar = x > scalar ? x : scalar;
		simd = y > simd ? y : simd;
	}
	printf("{\"id\":\"handshake.blake2s\",\"simd\":%s,\"scalar_per_sec\":%.0f,"
	       "\"simd_per_sec\":%.0f,\"scalar_ns\":%.1f,\"simd_ns\":%.1f,\"ratio\":%.2f}\n",
	       blake2s_simd_supported() ? "true" : "false", scalar, simd, scalar ? 1e9 / scalar : 0,
	       simd ? 1e9 / simd : 0, scalar && simd ? simd / scalar : 0);
}

/*
 * CPU microseconds per DH: libsodium one by one, and the four-lane ladder
 * (x25519_x4) four at a time; each a chain (every output changes the next
 * key), the best of `rounds' timings, the two alternating. The ladder's
 * cost in libsodium DHs is what DH_BATCH_LANES_MIN rests on.
 */
#define X4_DHS 400
static double dh_sodium_us(void)
{
	uint8_t k[32], u[32], out[32];
	uint64_t t0;

	randombytes_buf(k, sizeof(k));
	crypto_scalarmult_base(u, k);
	t0 = xwgp_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	for (int i = 0; i < X4_DHS; i++) {
		if (crypto_scalarmult(out, k, u))
			return -1;
		k[0] ^= out[0];
	}
	return (xwgp_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / 1e3 / X4_DHS;
}

static double dh_x4_us(void)
{
	uint8_t k[X25519_X4_LANES][32], u[X25519_X4_LANES][32], out[X25519_X4_LANES][32];
	const uint8_t *kp[X25519_X4_LANES], *up[X25519_X4_LANES];
	uint64_t t0;

	for (int l = 0; l < X25519_X4_LANES; l++) {
		randombytes_buf(k[l], 32);
		crypto_scalarmult_base(u[l], k[l]);
		kp[l] = k[l];
		up[l] = u[l];
	}
	t0 = xwgp_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	for (int i = 0; i < X4_DHS / X25519_X4_LANES; i++) {
		if (x25519_x4(out, kp, up))
			return -1;
		for (int l = 0; l < X25519_X4_LANES; l++)
			k[l][0] ^= out[l][0];
	}
	return (xwgp_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / 1e3 / X4_DHS;
}

static void print_x25519_x4_rates(void)
{
	double sodium = 0, x4 = 0;

	if (!x25519_x4_supported()) {
		printf("{\"id\":\"handshake.x25519_x4\",\"supported\":false}\n");
		return;
	}
	for (int r = 0; r < 10; r++) {
		double a = dh_sodium_us(), b = dh_x4_us();

		sodium = a > 0 && (!sodium || a < sodium) ? a : sodium;
		x4 = b > 0 && (!x4 || b < x4) ? b : x4;
	}
	printf("{\"id\":\"handshake.x25519_x4\",\"supported\":true,\"sodium_us\":%.2f,"
	       "\"x4_us_per_dh\":%.2f,\"ratio\":%.2f,\"x4_call_in_sodium_dhs\":%.2f}\n",
	       sodium, x4, x4 > 0 ? sodium / x4 : 0,
	       sodium > 0 ? x4 * X25519_X4_LANES / sodium : 0);
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "inits", required_argument, NULL, 'i' },
		{ "clients", required_argument, NULL, 'c' },
		{ "rounds", required_argument, NULL, 'r' },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			env.n_inits = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			env.n_clients = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			env.rounds = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr,
				"usage: bench_handshake [--inits N] [--clients K] [--rounds R]\n");
			return -EINVAL;
		}
	}
	/* Every client needs a re-handshake for the warm part. */
	if (!env.n_inits || !env.n_clients || env.n_clients >= env.n_inits ||
	    env.n_clients > HANDLER_DH_CACHE_ENTRIES || !env.rounds) {
		fprintf(stderr, "bench_handshake: need 0 < --clients < --inits, --clients <= %u, "
				"--rounds > 0\n",
			HANDLER_DH_CACHE_ENTRIES);
		return -EINVAL;
	}
	return 0;
}

/* One JSON line: part "cold" (id handshake.serversN) or "warm" (handshake.warm.serversN). */
static void print_rate(const char *part, int servers, double rate, double rate_1_server,
		       double dh_us, int n_dh)
{
	bool warm = !strcmp(part, "warm");

	printf("{\"id\":\"handshake.%sservers%d\",\"part\":\"%s\",\"servers\":%d,"
	       "\"inits_per_sec\":%.0f,\"inits\":%u,\"timed_inits\":%u,\"clients\":%u,"
	       "\"rounds\":%u,\"ratio_to_1_server\":%.3f,\"x25519_us\":%.1f,"
	       "\"x25519_per_init\":%d,\"dh_bound_per_sec\":%.0f,\"us_per_init\":%.1f}\n",
	       warm ? "warm." : "", servers, part, servers, rate, env.n_inits,
	       warm ? env.n_inits - env.n_clients : env.n_clients, env.n_clients, env.rounds,
	       rate / rate_1_server, dh_us, n_dh, 1e6 / (n_dh * dh_us), 1e6 / rate);
}

int main(int argc, char **argv)
{
	static const int configs[] = { 1, N_SERVERS_MAX };
	struct run_rates best[2] = {}, rates;
	double dh_us = 0, cookies = 0, rejects = 0;
	int err;

	if (parse_args(argc, argv))
		return 2;
	log_level = LOG_WARN; /* the handler's per-packet debug lines stay off */
	env.dst = bench_ep("192.0.2.1", 51820);
	if (wg_crypto_init() || make_inits() || maps_up()) {
		bench_log("setup failed (root needed for the BPF maps)");
		return 1;
	}
	for (unsigned int r = 0; r < env.rounds; r++) {
		for (int c = 0; c < 2; c++) {
			err = run_once(configs[c], &rates);
			if (err) {
				bench_log("handshake run failed: %s", strerror(-err));
				return 1;
			}
			bench_log("round %u, %d server(s): cold %.0f, warm %.0f initiations/s", r + 1,
				  configs[c], rates.cold, rates.warm);
			if (rates.cold > best[c].cold)
				best[c].cold = rates.cold;
			if (rates.warm > best[c].warm)
				best[c].warm = rates.warm;
		}
		/* The fastest DH seen, like the fastest run: the least disturbed. */
		double us = x25519_us(), cr = cookie_rate();

		double rj = mac2_reject_rate();

		bench_log("round %u: %.0f cookie replies/s, %.0f wrong-MAC2 initiations/s", r + 1, cr,
			  rj);
		if (cr > cookies)
			cookies = cr;
		if (rj > rejects)
			rejects = rj;

		if (us > 0 && (!dh_us || us < dh_us))
			dh_us = us;
	}
	for (int c = 0; c < 2; c++)
		printf("{\"id\":\"handshake.mac1_servers%d\",\"servers\":%d,\"mac1_search_us\":%."
		       "2f}\n",
		       configs[c], configs[c], mac1_search_us(configs[c]));
	print_blake2s_rates();
	print_x25519_x4_rates();
	printf("{\"id\":\"handshake.peer_choice\",\"peers\":%d,\"peer_choice_us\":%.3f}\n",
	       N_PEERS_MANY, peer_choice_us());
	for (int c = 0; c < 2; c++)
		print_rate("cold", configs[c], best[c].cold, best[0].cold, dh_us, 2);
	for (int c = 0; c < 2; c++)
		print_rate("warm", configs[c], best[c].warm, best[0].warm, dh_us, 1);
	printf("{\"id\":\"handshake.cookie_reply\",\"servers\":1,\"cookies_per_sec\":%.0f,"
	       "\"us_per_cookie\":%.2f,\"ratio_to_warm\":%.1f,\"ratio_to_cold\":%.1f}\n",
	       cookies, cookies ? 1e6 / cookies : 0, best[0].warm ? cookies / best[0].warm : 0,
	       best[0].cold ? cookies / best[0].cold : 0);
	printf("{\"id\":\"handshake.mac2_reject\",\"servers\":1,\"rejects_per_sec\":%.0f,"
	       "\"us_per_reject\":%.2f,\"ratio_to_warm\":%.1f}\n",
	       rejects, rejects ? 1e6 / rejects : 0, best[0].warm ? rejects / best[0].warm : 0);
	xwgp_bpf__destroy(env.skel);
	free(env.inits);
	return 0;
}
