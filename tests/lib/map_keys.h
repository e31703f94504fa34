/* SPDX-License-Identifier: GPL-2.0 */
/* Counting a BPF map's entries in tests (keys up to 64 bytes). */
#ifndef XWGP_TEST_MAP_KEYS_H
#define XWGP_TEST_MAP_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <bpf/bpf.h>

static inline int count_keys(int fd, size_t key_size)
{
	uint8_t key[64], next[64];
	void *prev = NULL;
	int n = 0;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	return n;
}

#ifdef XWGP_BPF_LOADER_H
#include "xwgp_abi.h"

/* Live sessions of a WGIT v2 array (a free slot has client proxy index 0). */
static inline int count_sessions(const struct xwgp_maps *m)
{
	struct xwgp_session s;
	int n = 0;

	for (uint32_t slot = 0; slot < m->n_slots; slot++)
		n += bpf_map_lookup_elem(m->sessions, &slot, &s) == 0 && s.client_proxy_index;
	return n;
}

/* Slots whose metadata is set (a client key): live sessions' and leftovers alike. */
static inline int count_metas(const struct xwgp_maps *m)
{
	struct xwgp_sess_meta v;
	int n = 0;

	for (uint32_t slot = 0; slot < m->n_slots; slot++) {
		uint8_t any = 0;

		if (bpf_map_lookup_elem(m->sess_meta, &slot, &v))
			continue;
		for (size_t i = 0; i < sizeof(v.client_pub); i++)
			any |= v.client_pub[i];
		n += any != 0;
	}
	return n;
}
#endif

#endif /* XWGP_TEST_MAP_KEYS_H */
