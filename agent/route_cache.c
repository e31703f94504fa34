// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include <string.h>

#include "route_cache.h"

static struct route_cache_entry *slot_of(struct route_cache *c, const struct xwgp_ep *remote)
{
	/* FNV-1a over the address and port: backends are few, any spread does. */
	const uint8_t *b = (const uint8_t *)remote;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < offsetof(struct xwgp_ep, family); i++)
		h = (h ^ b[i]) * 16777619u;
	return &c->e[h % ROUTE_CACHE_SLOTS];
}

static bool same_ep(const struct xwgp_ep *a, const struct xwgp_ep *b)
{
	return a->family == b->family && a->port == b->port &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

bool route_cache_get(struct route_cache *c, const struct xwgp_ep *remote, uint64_t now_ns,
		     struct xwgp_ep *local)
{
	const struct route_cache_entry *e = slot_of(c, remote);

	/* A clock that went back is not trusted to keep an answer alive. */
	if (e->taken_ns && now_ns >= e->taken_ns &&
	    now_ns - e->taken_ns < ROUTE_CACHE_TTL_NS && same_ep(&e->remote, remote)) {
		*local = e->local;
		c->hits++;
		return true;
	}
	c->misses++;
	return false;
}

void route_cache_put(struct route_cache *c, const struct xwgp_ep *remote,
		     const struct xwgp_ep *local, uint64_t now_ns)
{
	struct route_cache_entry *e = slot_of(c, remote);

	e->remote = *remote;
	e->local = *local;
	e->taken_ns = now_ns ? now_ns : 1;
}

void route_cache_clear(struct route_cache *c)
{
	memset(c->e, 0, sizeof(c->e));
}
