// SPDX-License-Identifier: GPL-2.0
/*
 * The static-static DH cache: a chained hash table over a fixed array of
 * entries, with a doubly linked LRU list through the same entries (indexes,
 * not pointers: one allocation, nothing to chase outside it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dh_cache.h"

#define NONE UINT32_MAX
/* Keeps n_buckets (a power of two >= capacity) and the indexes in range. */
#define DH_CACHE_MAX_CAPACITY (1u << 24)

struct dh_cache_entry {
	uint8_t server_pub[DH_CACHE_KEY_LEN];
	uint8_t client_pub[DH_CACHE_KEY_LEN];
	uint8_t secret[DH_CACHE_KEY_LEN];
	uint32_t hnext; /* next in the bucket, or in the free list */
	uint32_t prev, next; /* LRU list */
};

static uint32_t bucket_of(const struct dh_cache *c, const uint8_t server_pub[static 32],
			  const uint8_t client_pub[static 32])
{
	uint8_t in[2 * DH_CACHE_KEY_LEN], out[crypto_shorthash_BYTES];
	uint32_t h;

	memcpy(in, server_pub, DH_CACHE_KEY_LEN);
	memcpy(in + DH_CACHE_KEY_LEN, client_pub, DH_CACHE_KEY_LEN);
	crypto_shorthash(out, in, sizeof(in), c->hash_key);
	memcpy(&h, out, sizeof(h));
	return h & (c->n_buckets - 1);
}

static void lru_unlink(struct dh_cache *c, uint32_t i)
{
	struct dh_cache_entry *e = &c->e[i];

	if (e->prev != NONE)
		c->e[e->prev].next = e->next;
	else
		c->lru_head = e->next;
	if (e->next != NONE)
		c->e[e->next].prev = e->prev;
	else
		c->lru_tail = e->prev;
	e->prev = e->next = NONE;
}

static void lru_push_head(struct dh_cache *c, uint32_t i)
{
	struct dh_cache_entry *e = &c->e[i];

	e->prev = NONE;
	e->next = c->lru_head;
	if (c->lru_head != NONE)
		c->e[c->lru_head].prev = i;
	else
		c->lru_tail = i;
	c->lru_head = i;
}

/* Remove entry i from its bucket (found again from its keys) and the LRU list, wipe it, free it. */
static void entry_drop(struct dh_cache *c, uint32_t i)
{
	struct dh_cache_entry *e = &c->e[i];
	uint32_t *link = &c->buckets[bucket_of(c, e->server_pub, e->client_pub)];

	while (*link != NONE && *link != i)
		link = &c->e[*link].hnext;
	if (*link == i)
		*link = e->hnext;
	lru_unlink(c, i);
	sodium_memzero(e, sizeof(*e));
	e->prev = e->next = NONE;
	e->hnext = c->free_head;
	c->free_head = i;
	c->used--;
}

static uint32_t find(const struct dh_cache *c, uint32_t b, const uint8_t server_pub[static 32],
		     const uint8_t client_pub[static 32])
{
	uint32_t i;

	/* Public keys: a plain memcmp leaks nothing secret. */
	for (i = c->buckets[b]; i != NONE; i = c->e[i].hnext)
		if (!memcmp(c->e[i].client_pub, client_pub, DH_CACHE_KEY_LEN) &&
		    !memcmp(c->e[i].server_pub, server_pub, DH_CACHE_KEY_LEN))
			return i;
	return NONE;
}

/* Every entry free, every bucket empty; the secrets wiped. */
static void reset(struct dh_cache *c)
{
	sodium_memzero(c->e, (size_t)c->capacity * sizeof(*c->e));
	for (uint32_t i = 0; i < c->capacity; i++) {
		c->e[i].hnext = i + 1 < c->capacity ? i + 1 : NONE;
		c->e[i].prev = c->e[i].next = NONE;
	}
	for (uint32_t b = 0; b < c->n_buckets; b++)
		c->buckets[b] = NONE;
	c->free_head = 0;
	c->lru_head = c->lru_tail = NONE;
	c->used = 0;
}

int dh_cache_init(struct dh_cache *c, uint32_t capacity)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	if (!capacity || capacity > DH_CACHE_MAX_CAPACITY)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	c->n_buckets = 1;
	while (c->n_buckets < capacity)
		c->n_buckets <<= 1;
	c->capacity = capacity;
	/* sodium_allocarray: guard pages, mlock when RLIMIT_MEMLOCK allows, wiped on free. */
	c->e = sodium_allocarray(capacity, sizeof(*c->e));
	c->buckets = calloc(c->n_buckets, sizeof(*c->buckets));
	if (!c->e || !c->buckets) {
		dh_cache_free(c);
		return -ENOMEM;
	}
	randombytes_buf(c->hash_key, sizeof(c->hash_key));
	reset(c);
	return 0;
}

void dh_cache_free(struct dh_cache *c)
{
	if (c->e)
		sodium_free(c->e); /* wipes */
	free(c->buckets);
	pthread_mutex_destroy(&c->mu);
	sodium_memzero(c, sizeof(*c));
}

static int get_locked(struct dh_cache *c, const uint8_t server_pub[static 32],
		      const uint8_t client_pub[static 32], uint8_t ss[static 32])
{
	uint32_t i = find(c, bucket_of(c, server_pub, client_pub), server_pub, client_pub);

	if (i == NONE) {
		__atomic_fetch_add(&c->misses, 1, __ATOMIC_RELAXED); /* read by the loop unlocked */
		return -ENOENT;
	}
	__atomic_fetch_add(&c->hits, 1, __ATOMIC_RELAXED);
	if (c->lru_head != i) {
		lru_unlink(c, i);
		lru_push_head(c, i);
	}
	memcpy(ss, c->e[i].secret, DH_CACHE_KEY_LEN);
	return 0;
}

static void put_locked(struct dh_cache *c, const uint8_t server_pub[static 32],
		       const uint8_t client_pub[static 32], const uint8_t ss[static 32])
{
	uint32_t b = bucket_of(c, server_pub, client_pub);
	uint32_t i = find(c, b, server_pub, client_pub);
	struct dh_cache_entry *e;

	if (i != NONE) {
		/* The same keys give the same DH; refresh rather than duplicate. */
		memcpy(c->e[i].secret, ss, DH_CACHE_KEY_LEN);
		lru_unlink(c, i);
		lru_push_head(c, i);
		return;
	}
	if (c->free_head == NONE) {
		entry_drop(c, c->lru_tail);
		c->evictions++;
	}
	i = c->free_head;
	e = &c->e[i];
	c->free_head = e->hnext;
	memcpy(e->server_pub, server_pub, DH_CACHE_KEY_LEN);
	memcpy(e->client_pub, client_pub, DH_CACHE_KEY_LEN);
	memcpy(e->secret, ss, DH_CACHE_KEY_LEN);
	e->hnext = c->buckets[b];
	c->buckets[b] = i;
	lru_push_head(c, i);
	c->used++;
}

int dh_cache_get(struct dh_cache *c, const uint8_t server_pub[static 32],
		 const uint8_t client_pub[static 32], uint8_t ss[static 32])
{
	int r;

	pthread_mutex_lock(&c->mu);
	r = get_locked(c, server_pub, client_pub, ss);
	pthread_mutex_unlock(&c->mu);
	return r;
}

void dh_cache_put(struct dh_cache *c, const uint8_t server_pub[static 32],
		  const uint8_t client_pub[static 32], const uint8_t ss[static 32])
{
	pthread_mutex_lock(&c->mu);
	put_locked(c, server_pub, client_pub, ss);
	pthread_mutex_unlock(&c->mu);
}

uint32_t dh_cache_forget_server(struct dh_cache *c, const uint8_t server_pub[static 32])
{
	uint32_t i, n = 0;

	pthread_mutex_lock(&c->mu);
	i = c->lru_head;

	while (i != NONE) {
		uint32_t next = c->e[i].next;

		if (!memcmp(c->e[i].server_pub, server_pub, DH_CACHE_KEY_LEN)) {
			entry_drop(c, i);
			n++;
		}
		i = next;
	}
	pthread_mutex_unlock(&c->mu);
	return n;
}

void dh_cache_clear(struct dh_cache *c)
{
	pthread_mutex_lock(&c->mu);
	if (c->e)
		reset(c);
	pthread_mutex_unlock(&c->mu);
}
