// SPDX-License-Identifier: GPL-2.0
/* The static-static DH cache (agent/dh_cache.c). */
#include <errno.h>
#include <stdint.h>

#include <sodium.h>

#include "dh_cache.h"
#include "test.h"

/* A distinct key per number: byte 0..3 the number, the rest a tag. */
static void key(uint8_t out[32], uint32_t n, uint8_t tag)
{
	memset(out, tag, 32);
	memcpy(out, &n, sizeof(n));
}

/* The secret stored for (server s, client n): derived, so a mix-up shows. */
static void secret(uint8_t out[32], uint32_t s, uint32_t n)
{
	key(out, n * 31 + s, (uint8_t)(0xa0 + s));
}

/* 1 when the 32 bytes of needle appear anywhere in hay[0..len). */
static int contains(const uint8_t *hay, size_t len, const uint8_t needle[32])
{
	for (size_t i = 0; i + 32 <= len; i++)
		if (!memcmp(hay + i, needle, 32))
			return 1;
	return 0;
}

/* The entry array as the cache holds it: 3 keys of 32 bytes and 3 u32 indexes each. */
#define ENTRY_BYTES (3 * 32 + 3 * 4)

TEST(hit_returns_the_same_secret)
{
	uint8_t srv[32], cli[32], ss[32], got[32];
	struct dh_cache c;

	CHECK(dh_cache_init(&c, 8) == 0);
	key(srv, 1, 0x11);
	key(cli, 2, 0x22);
	secret(ss, 1, 2);
	memset(got, 0x5a, 32);
	CHECK(dh_cache_get(&c, srv, cli, got) == -ENOENT);
	CHECK(got[0] == 0x5a && got[31] == 0x5a, "a miss must leave ss untouched");
	dh_cache_put(&c, srv, cli, ss);
	CHECK(dh_cache_get(&c, srv, cli, got) == 0);
	CHECK_MEM(got, ss, 32);
	CHECK(c.hits == 1 && c.misses == 1 && c.used == 1, "hits %llu misses %llu used %u",
	      (unsigned long long)c.hits, (unsigned long long)c.misses, c.used);
	/* Putting the same pair again replaces, never duplicates. */
	dh_cache_put(&c, srv, cli, ss);
	CHECK(c.used == 1, "used %u", c.used);
	dh_cache_free(&c);
	CHECK(c.e == NULL && c.buckets == NULL && c.used == 0);
}

TEST(miss_on_other_keys)
{
	uint8_t srv[32], cli[32], ss[32], got[32];
	struct dh_cache c;

	CHECK(dh_cache_init(&c, 16) == 0);
	key(srv, 1, 0x11);
	key(cli, 2, 0x22);
	secret(ss, 1, 2);
	dh_cache_put(&c, srv, cli, ss);
	cli[31] ^= 1; /* one bit off the client key */
	CHECK(dh_cache_get(&c, srv, cli, got) == -ENOENT);
	cli[31] ^= 1;
	srv[0] ^= 0x80; /* one bit off the server key */
	CHECK(dh_cache_get(&c, srv, cli, got) == -ENOENT);
	/* Server and client keys swapped is another pair. */
	CHECK(dh_cache_get(&c, cli, srv, got) == -ENOENT);
	dh_cache_free(&c);
}

/* The same client key under two servers: two entries, each with its own secret. */
TEST(servers_do_not_mix)
{
	uint8_t s1[32], s2[32], cli[32], ss1[32], ss2[32], got[32];
	struct dh_cache c;

	CHECK(dh_cache_init(&c, 64) == 0);
	key(s1, 1, 0x11);
	key(s2, 2, 0x11);
	key(cli, 7, 0x22);
	secret(ss1, 1, 7);
	secret(ss2, 2, 7);
	dh_cache_put(&c, s1, cli, ss1);
	dh_cache_put(&c, s2, cli, ss2);
	CHECK(c.used == 2, "used %u", c.used);
	CHECK(dh_cache_get(&c, s1, cli, got) == 0);
	CHECK_MEM(got, ss1, 32);
	CHECK(dh_cache_get(&c, s2, cli, got) == 0);
	CHECK_MEM(got, ss2, 32);

	/* Forgetting one server wipes its entries only. */
	CHECK(dh_cache_forget_server(&c, s1) == 1);
	CHECK(dh_cache_get(&c, s1, cli, got) == -ENOENT);
	CHECK(dh_cache_get(&c, s2, cli, got) == 0);
	CHECK_MEM(got, ss2, 32);
	CHECK(!contains((const uint8_t *)c.e, (size_t)c.capacity * ENTRY_BYTES, ss1),
	      "a forgotten secret is still in memory");
	CHECK(dh_cache_forget_server(&c, s1) == 0);
	dh_cache_free(&c);

	/* One entry, one bucket: whatever the hash, the server key must be compared. */
	CHECK(dh_cache_init(&c, 1) == 0);
	dh_cache_put(&c, s1, cli, ss1);
	CHECK(dh_cache_get(&c, s2, cli, got) == -ENOENT, "another server's secret returned");
	dh_cache_put(&c, s2, cli, ss2);
	CHECK(c.evictions == 1 && dh_cache_get(&c, s2, cli, got) == 0);
	CHECK_MEM(got, ss2, 32);
	dh_cache_free(&c);
}

/* Full: the least recently used entry goes, and its secret with it. */
TEST(eviction_when_full)
{
	uint8_t srv[32], cli[32], ss[32], got[32];
	const uint32_t cap = 4;
	struct dh_cache c;

	CHECK(dh_cache_init(&c, cap) == 0);
	key(srv, 1, 0x11);
	for (uint32_t n = 0; n < cap; n++) {
		key(cli, n, 0x22);
		secret(ss, 1, n);
		dh_cache_put(&c, srv, cli, ss);
	}
	CHECK(c.used == cap && c.evictions == 0);
	/* Touch client 0: client 1 is now the least recently used. */
	key(cli, 0, 0x22);
	CHECK(dh_cache_get(&c, srv, cli, got) == 0);
	key(cli, 100, 0x22);
	secret(ss, 1, 100);
	dh_cache_put(&c, srv, cli, ss);
	CHECK(c.used == cap && c.evictions == 1, "used %u evictions %llu", c.used,
	      (unsigned long long)c.evictions);
	key(cli, 1, 0x22);
	CHECK(dh_cache_get(&c, srv, cli, got) == -ENOENT, "client 1 should have been evicted");
	secret(ss, 1, 1);
	CHECK(!contains((const uint8_t *)c.e, (size_t)c.capacity * ENTRY_BYTES, ss),
	      "an evicted secret is still in memory");
	for (uint32_t n = 0; n < cap; n++) {
		uint32_t want = n == 1 ? 100 : n;

		key(cli, want, 0x22);
		secret(ss, 1, want);
		CHECK(dh_cache_get(&c, srv, cli, got) == 0, "client %u", want);
		CHECK_MEM(got, ss, 32);
	}
	dh_cache_free(&c);
}

/* Many more keys than entries, through every bucket: never more than capacity, all consistent. */
TEST(churn)
{
	uint8_t srv[32], cli[32], ss[32], got[32];
	const uint32_t cap = 100, n = 1000;
	struct dh_cache c;

	CHECK(dh_cache_init(&c, cap) == 0);
	key(srv, 3, 0x33);
	for (uint32_t i = 0; i < n; i++) {
		key(cli, i, 0x44);
		secret(ss, 3, i);
		dh_cache_put(&c, srv, cli, ss);
		CHECK(c.used <= cap);
	}
	CHECK(c.evictions == n - cap, "evictions %llu", (unsigned long long)c.evictions);
	for (uint32_t i = 0; i < n; i++) {
		int hit;

		key(cli, i, 0x44);
		hit = dh_cache_get(&c, srv, cli, got) == 0;
		CHECK(hit == (i >= n - cap), "client %u: hit %d", i, hit);
		if (hit) {
			secret(ss, 3, i);
			CHECK_MEM(got, ss, 32);
		}
	}
	dh_cache_free(&c);
}

TEST(clear_wipes)
{
	uint8_t srv[32], cli[32], ss[32], got[32];
	struct dh_cache c;

	CHECK(dh_cache_init(&c, 32) == 0);
	key(srv, 5, 0x55);
	for (uint32_t i = 0; i < 10; i++) {
		key(cli, i, 0x66);
		secret(ss, 5, i);
		dh_cache_put(&c, srv, cli, ss);
	}
	dh_cache_clear(&c);
	CHECK(c.used == 0, "used %u", c.used);
	for (uint32_t i = 0; i < 10; i++) {
		key(cli, i, 0x66);
		CHECK(dh_cache_get(&c, srv, cli, got) == -ENOENT, "client %u", i);
		secret(ss, 5, i);
		CHECK(!contains((const uint8_t *)c.e, (size_t)c.capacity * ENTRY_BYTES, ss),
		      "secret %u still in memory after clear", i);
	}
	/* Usable again after a clear, to its full capacity. */
	for (uint32_t i = 0; i < 32; i++) {
		key(cli, i, 0x77);
		secret(ss, 5, i);
		dh_cache_put(&c, srv, cli, ss);
	}
	CHECK(c.used == 32 && c.evictions == 0);
	dh_cache_free(&c);
}

TEST(bad_capacity)
{
	struct dh_cache c;

	CHECK(dh_cache_init(&c, 0) == -EINVAL);
	CHECK(dh_cache_init(&c, UINT32_MAX) == -EINVAL);
	dh_cache_free(&c); /* harmless after a failed init */
	dh_cache_clear(&c);
}

TEST_MAIN()
