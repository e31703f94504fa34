// SPDX-License-Identifier: GPL-2.0
/*
 * agent/route_cache.c: a kept answer is given back only for the same
 * backend (address, port, family), until the cache is cleared and within
 * its TTL; a colliding backend replaces it, never reads it.
 */
#include <string.h>

#include "route_cache.h"
#include "test.h"

#define SEC 1000000000ull

static struct xwgp_ep ep4(uint32_t a, uint16_t port)
{
	struct xwgp_ep e = { .family = XWGP_FAMILY_IPV4, .port = port };

	e.addr[2] = 0xffff0000u;
	e.addr[3] = a;
	return e;
}

TEST(answer_kept_for_its_backend_until_cleared_or_ttl)
{
	static struct route_cache c;
	struct xwgp_ep be = ep4(0x0a000002, 51820), src = ep4(0x0a000001, 0), got;
	struct xwgp_ep other_port = ep4(0x0a000002, 51821), v6 = be;
	uint64_t t = 5 * SEC;

	v6.family = XWGP_FAMILY_IPV6;
	CHECK(!route_cache_get(&c, &be, t, &got), "empty cache answered");
	route_cache_put(&c, &be, &src, t);
	memset(&got, 0, sizeof(got));
	CHECK(route_cache_get(&c, &be, t + SEC / 2, &got) && !memcmp(&got, &src, sizeof(got)));
	route_cache_clear(&c);
	CHECK(!route_cache_get(&c, &be, t + 1, &got), "answer given after a clear (routing changed)");
	route_cache_put(&c, &be, &src, t);
	CHECK(route_cache_get(&c, &be, t + 1, &got), "no answer after a new put");
	CHECK(!route_cache_get(&c, &be, t + ROUTE_CACHE_TTL_NS, &got), "answer past its TTL given");
	CHECK(!route_cache_get(&c, &be, t - 1, &got), "answer from a clock that went back given");
	CHECK(!route_cache_get(&c, &other_port, t + 1, &got), "another port's answer given");
	CHECK(!route_cache_get(&c, &v6, t + 1, &got), "another family's answer given");
	CHECK(c.hits == 2 && c.misses == 6, "hits %llu misses %llu", (unsigned long long)c.hits,
	      (unsigned long long)c.misses);
}

TEST(colliding_backends_replace_never_confuse)
{
	static struct route_cache c;
	struct xwgp_ep src1 = ep4(0x0a000001, 0), src2 = ep4(0x0b000001, 0), got;
	int wrong = 0, hits = 0;

	/* More backends than slots: every lookup is the right answer or a miss. */
	for (uint32_t i = 0; i < 4 * ROUTE_CACHE_SLOTS; i++) {
		struct xwgp_ep be = ep4(0x0a000100 + i, 51820);

		route_cache_put(&c, &be, i & 1 ? &src1 : &src2, SEC);
	}
	for (uint32_t i = 0; i < 4 * ROUTE_CACHE_SLOTS; i++) {
		struct xwgp_ep be = ep4(0x0a000100 + i, 51820);

		if (route_cache_get(&c, &be, SEC, &got)) {
			hits++;
			wrong += memcmp(&got, i & 1 ? &src1 : &src2, sizeof(got)) != 0;
		}
	}
	CHECK(wrong == 0, "%d answers of another backend", wrong);
	CHECK(hits > 0 && hits <= ROUTE_CACHE_SLOTS, "%d hits", hits);
}

TEST_MAIN()
