/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Static-static Diffie-Hellman results per (server key, client key): what
 * kernel WireGuard precomputes per peer (static_identity / precomputed
 * static_static). A client re-handshakes every two minutes with the same
 * static key, so a responder that remembers DH(Sr, Si_pub) does one X25519
 * per initiation instead of two.
 *
 * Only a speed-up: a miss costs the X25519 it saves. Bounded (fixed
 * capacity, least recently used entry evicted), O(1) lookups through a hash
 * keyed with a random SipHash key, so clients cannot aim at one bucket.
 *
 * The secrets are key material: they live in sodium_malloc'd memory
 * (guarded, locked when the limit allows) and only here, never in a BPF map,
 * the cache file or a log; every entry is wiped when it is evicted, forgotten
 * or cleared, and dh_cache_free wipes everything. Thread-safe (one mutex:
 * a lookup is ~100 ns against the ~40 us X25519 it saves): the handshake
 * threads (agent/hs_ring.h) share the handler's instance.
 */
#ifndef XWGP_DH_CACHE_H
#define XWGP_DH_CACHE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define DH_CACHE_KEY_LEN 32

struct dh_cache_entry;

struct dh_cache {
	struct dh_cache_entry *e; /* capacity entries, sodium_malloc'd */
	uint32_t *buckets; /* n_buckets chain heads */
	uint32_t capacity, n_buckets, used;
	uint32_t lru_head, lru_tail; /* most and least recently used */
	uint32_t free_head; /* never used entries, chained by hnext */
	uint8_t hash_key[16]; /* SipHash key, random per instance */
	uint64_t hits, misses; /* atomic adds under mu: the event loop reads them unlocked */
	uint64_t evictions; /* under mu */
	pthread_mutex_t mu;
};

/* capacity >= 1 entries; 0, -EINVAL or -ENOMEM. Free with dh_cache_free. */
int dh_cache_init(struct dh_cache *c, uint32_t capacity);
void dh_cache_free(struct dh_cache *c);

/* Copy the cached secret into ss: 0, or -ENOENT (ss untouched). */
int dh_cache_get(struct dh_cache *c, const uint8_t server_pub[static 32],
		 const uint8_t client_pub[static 32], uint8_t ss[static 32]);
/* Remember ss (a non-zero DH result), evicting the least recently used entry when full. */
void dh_cache_put(struct dh_cache *c, const uint8_t server_pub[static 32],
		  const uint8_t client_pub[static 32], const uint8_t ss[static 32]);
/* Wipe every entry of one server key (removed or replaced); returns how many. */
uint32_t dh_cache_forget_server(struct dh_cache *c, const uint8_t server_pub[static 32]);
/* Wipe every entry. */
void dh_cache_clear(struct dh_cache *c);

#endif /* XWGP_DH_CACHE_H */
