// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz the session cache file loader (agent/cache.c): the input is a cache
 * file's text, parsed with cache_parse() at a fixed "now". Whatever parses
 * must survive a round trip: cache_format() at the same instant, parsed
 * again, gives the same sessions and peers, field for field. Then it is
 * restored into real session maps (a loaded, unattached xwgp skeleton,
 * when running as root) against a fixed config, which must not insert a
 * session the config does not allow, nor one with index 0.
 */
#include <errno.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_loader.h"
#include "cache.h"
#include "config.h"
#include "fuzz.h"
#include "fuzz_maps.h"
#include "reload.h"
#include "wg_crypto.h"
#include "xwgp.skel.h"

#define MAX_TEXT    (256 * 1024)
#define NSEC_PER_MS 1000000ull

static struct {
	struct xwgp_bpf *skel; /* NULL: parse only (not root) */
	struct wgit wgit;
	struct xwgp_maps maps;
	struct xwgp_server_config cfg;
	struct cache_clock now;
} fc;

/* The config the cache seeds were written for (tests/fuzz/corpus/fuzz_cache). */
static const char config_text[] =
	"{ \"listen\": \":51820\", \"xdp_mode\": \"off\", \"servers\": [\n"
	"  { \"privkey\": \"wMGVxWMHt0IBxsK/aNiRYPVRkPjYOkHeGaNrS4o91VM=\",\n"
	"    \"address\": \"198.51.100.2\", \"peers\": [\n"
	"      { \"pubkey\": \"F5Ilx9+KKg3KoImWwVyBNhevKH9jtvg1xfCTF/Ddz0U=\", \"forward_to\": "
	"\":51820\" },\n"
	"      { \"forward_to\": \":51821\" } ] } ] }\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_agent_log();
	libbpf_set_print(NULL);
	if (wg_crypto_init())
		fuzz_bug("libsodium does not initialise");
	if (config_parse_server(config_text, "<fuzz>", &fc.cfg))
		fuzz_bug("the harness config does not parse");
	/* A fixed instant: the corpus files were written relative to it. */
	snprintf(fc.now.boot_id, sizeof(fc.now.boot_id), "00000000-0000-4000-8000-00000000f022");
	fc.now.boot_ns = 1000000ull * 1000000000ull;
	fc.now.real_ns = 1700000000ull * 1000000000ull;
	if (geteuid())
		return 0;
	fc.skel = fuzz_skel_load();
	if (!fc.skel)
		return 0;
	xwgp_maps_from_skel(&fc.maps, fc.skel);
	fc.wgit.maps = &fc.maps;
	return 0;
}

/* The file stores milliseconds: a time may move by less than one. */
static bool ms_close(uint64_t a, uint64_t b)
{
	return (a > b ? a - b : b - a) < NSEC_PER_MS;
}

static void check_times(size_t i, const char *what, uint64_t a, uint64_t b)
{
	if (!ms_close(a, b))
		fuzz_bug("round trip: session/peer %zu: %s %llu became %llu", i, what,
			 (unsigned long long)a, (unsigned long long)b);
}

static void check_session(size_t i, const struct cache_session *a, const struct cache_session *b)
{
	struct cache_session x = *a, y = *b;

	check_times(i, "created", x.s.created_ns, y.s.created_ns);
	check_times(i, "last seen", x.s.last_seen_ns, y.s.last_seen_ns);
	check_times(i, "handshake", x.m.handshake_ns, y.m.handshake_ns);
	check_times(i, "established", x.m.established_ns, y.m.established_ns);
	x.s.created_ns = y.s.created_ns = x.s.last_seen_ns = y.s.last_seen_ns = 0;
	x.m.handshake_ns = y.m.handshake_ns = x.m.established_ns = y.m.established_ns = 0;
	if (memcmp(&x.s, &y.s, sizeof(x.s)))
		fuzz_bug("round trip: session %zu changed", i);
	if (memcmp(&x.m, &y.m, sizeof(x.m)))
		fuzz_bug("round trip: session %zu meta changed", i);
}

static void check_same(const struct xwgp_cache *a, const struct xwgp_cache *b)
{
	if (a->n_sessions != b->n_sessions || a->n_peers != b->n_peers)
		fuzz_bug("round trip: %zu sessions, %zu peers became %zu, %zu", a->n_sessions,
			 a->n_peers, b->n_sessions, b->n_peers);
	if (a->upstream_port != b->upstream_port)
		fuzz_bug("round trip: upstream port %u became %u", a->upstream_port,
			 b->upstream_port);
	for (size_t i = 0; i < a->n_sessions; i++)
		check_session(i, &a->sessions[i], &b->sessions[i]);
	for (size_t i = 0; i < a->n_peers; i++) {
		struct cache_peer x = a->peers[i], y = b->peers[i];

		check_times(i, "cookie", x.st.cookie_ns, y.st.cookie_ns);
		x.st.cookie_ns = y.st.cookie_ns = 0;
		if (memcmp(&x, &y, sizeof(x)))
			fuzz_bug("round trip: peer %zu changed", i);
	}
}

/* Restore, then every session in the maps must be one the config allows. */
static void restore(const struct xwgp_cache *c)
{
	struct xwgp_session_meta m;
	uint32_t key, cursor = 0, mask = fc.maps.n_slots - 1; /* a power of two: see setup */
	struct xwgp_session s;
	const char *why;
	int n;

	fuzz_session_tables_clear(&fc.maps);
	wgit_slots_free(&fc.wgit);
	n = cache_restore(&fc.wgit, c, &fc.cfg, 40000);
	if (n < 0)
		return;
	while (wgit_session_next(&fc.maps, &cursor, &s)) {
		key = s.client_proxy_index;
		if (key == 0x42a41221u)
			fuzz_bug("restored a session with the STUN cookie as index");
		if ((key & mask) != cursor - 1)
			fuzz_bug("session %#x in slot %u", key, cursor - 1);
		if ((s.flags & XWGP_SF_ESTABLISHED) &&
		    ((s.server_proxy_index & mask) != cursor - 1 || !s.server_proxy_index ||
		     s.server_proxy_index == 0x42a41221u))
			fuzz_bug("session %#x with server index %#x", key, s.server_proxy_index);
		if (wgit_meta_get(&fc.wgit, key, &m))
			fuzz_bug("restored session %u has no meta", key);
		if (!xwgp_session_cfg_check(&fc.cfg, &s, &m, &why))
			fuzz_bug("restored session %u the config refuses: %s", key, why);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xwgp_cache a, b;
	char *text;

	if (size > MAX_TEXT)
		return 0;
	if (cache_parse((const char *)data, size, "<fuzz>", &fc.now, &a))
		return 0;
	text = cache_format(&a, &fc.now);
	if (!text)
		fuzz_bug("cache_format failed on a parsed cache");
	if (cache_parse(text, strlen(text), "<fuzz round trip>", &fc.now, &b))
		fuzz_bug("cache_format wrote what cache_parse refuses:\n%s", text);
	check_same(&a, &b);
	free(text);
	cache_free(&b);
	if (fc.skel)
		restore(&a);
	cache_free(&a);
	return 0;
}
