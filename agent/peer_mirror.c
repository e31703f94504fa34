// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "peer_mirror.h"

#define PEER_MIRROR_MIN_SLOTS 64

/* n slots, zeroed; NULL when out of memory. */
static struct peer_mirror_entry *slots_alloc(uint32_t n)
{
	return calloc(n, sizeof(struct peer_mirror_entry));
}

/* Wipe (backend cookies, timestamps) and free n slots. */
static void slots_free(struct peer_mirror_entry *e, uint32_t n)
{
	if (!e)
		return;
	sodium_memzero(e, (size_t)n * sizeof(*e));
	free(e);
}

int peer_mirror_init(struct peer_mirror *m, uint32_t capacity)
{
	memset(m, 0, sizeof(*m));
	if (!capacity || capacity > (1u << 28))
		return -EINVAL;
	m->e = slots_alloc(PEER_MIRROR_MIN_SLOTS);
	if (!m->e)
		return -ENOMEM;
	m->n_slots = PEER_MIRROR_MIN_SLOTS;
	m->capacity = capacity;
	randombytes_buf(m->hash_key, sizeof(m->hash_key));
	return 0;
}

void peer_mirror_free(struct peer_mirror *m)
{
	slots_free(m->e, m->n_slots);
	sodium_memzero(m, sizeof(*m));
}

static uint32_t home_of(const struct peer_mirror *m, const struct xwgp_peer_key *k)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint32_t v;

	crypto_shorthash(h, (const uint8_t *)k, sizeof(*k), m->hash_key);
	memcpy(&v, h, sizeof(v));
	return v & (m->n_slots - 1);
}

/* The slot holding k, or the empty slot where probing for it ended. */
static uint32_t probe(const struct peer_mirror *m, const struct xwgp_peer_key *k)
{
	uint32_t i = home_of(m, k);

	/* At most half full (peer_mirror_put grows it first): an empty slot ends the probe. */
	while (m->e[i].used && memcmp(&m->e[i].k, k, sizeof(*k)))
		i = (i + 1) & (m->n_slots - 1);
	return i;
}

int peer_mirror_get(const struct peer_mirror *m, const struct xwgp_peer_key *k,
		    struct xwgp_peer_state *st)
{
	uint32_t i = probe(m, k);

	if (!m->e[i].used)
		return -ENOENT;
	*st = m->e[i].st;
	return 0;
}

/* Twice the slots, every entry placed again. 0 or -ENOMEM (then unchanged). */
static int grow(struct peer_mirror *m)
{
	struct peer_mirror old = *m;

	m->e = slots_alloc(old.n_slots * 2);
	if (!m->e) {
		m->e = old.e;
		return -ENOMEM;
	}
	m->n_slots = old.n_slots * 2;
	for (uint32_t i = 0; i < old.n_slots; i++)
		if (old.e[i].used)
			m->e[probe(m, &old.e[i].k)] = old.e[i];
	slots_free(old.e, old.n_slots);
	return 0;
}

int peer_mirror_put(struct peer_mirror *m, const struct xwgp_peer_key *k,
		    const struct xwgp_peer_state *st)
{
	uint32_t i = probe(m, k);

	if (!m->e[i].used) {
		if (m->n_used >= m->capacity)
			return -E2BIG;
		/* Grown before it is more than half full: probes stay short and end. */
		if (2 * (m->n_used + 1) > m->n_slots) {
			if (grow(m))
				return -ENOMEM;
			i = probe(m, k);
		}
		m->e[i].used = true;
		m->e[i].k = *k;
		m->n_used++;
	}
	m->e[i].st = *st;
	return 0;
}

int peer_mirror_del(struct peer_mirror *m, const struct xwgp_peer_key *k)
{
	uint32_t mask = m->n_slots - 1, i = probe(m, k), j;

	if (!m->e[i].used)
		return -ENOENT;
	/*
	 * Backward shift: move later entries of the run into the hole when
	 * their home is not between the hole and them (cyclically), so every
	 * probe still reaches its entry before an empty slot.
	 */
	for (j = (i + 1) & mask; m->e[j].used; j = (j + 1) & mask) {
		uint32_t home = home_of(m, &m->e[j].k);

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->e[i] = m->e[j];
			i = j;
		}
	}
	sodium_memzero(&m->e[i], sizeof(m->e[i]));
	m->n_used--;
	return 0;
}

const struct peer_mirror_entry *peer_mirror_next(const struct peer_mirror *m, uint32_t *cursor)
{
	while (*cursor < m->n_slots) {
		const struct peer_mirror_entry *e = &m->e[(*cursor)++];

		if (e->used)
			return e;
	}
	return NULL;
}
