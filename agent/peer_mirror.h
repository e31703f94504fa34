/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's copy of the xwgp_peer_state map (per server/client key pair:
 * the replay timestamp, the backend's cookie, the pair's sessions). XDP
 * never reads that map and the agent is its only writer, so its reads can
 * come from here: one bpf syscall less per initiation (about 1.7 µs, 3% of
 * a warm initiation's CPU), and a cache snapshot walks memory instead of
 * two syscalls per pair (get_next_key and lookup). The map stays the truth
 * a restart finds: wgit writes it first and this copy only after the map
 * took the write (wgit.c), and the copy is loaded from the map when the
 * agent starts (wgit_peers_mirror, through wgit_peer_each).
 *
 * An open-addressing table (linear probing, backward-shift deletion) that
 * doubles before it is half full, up to the map's max_entries pairs (a few
 * peers take a few KiB, not the 17 MiB of a full map's worth); keyed
 * SipHash over the pair (crypto_shorthash, random key), since a fallback
 * peer lets any client key make an entry.
 */
#ifndef XWGP_PEER_MIRROR_H
#define XWGP_PEER_MIRROR_H

#include <stdbool.h>
#include <stdint.h>

#include "xwgp_abi.h"

struct peer_mirror_entry {
	struct xwgp_peer_key k;
	struct xwgp_peer_state st;
	bool used;
};

struct peer_mirror {
	struct peer_mirror_entry *e; /* n_slots (wiped when freed: cookies, timestamps) */
	uint32_t n_slots; /* a power of two, >= 2 x n_used */
	uint32_t capacity; /* the map's max_entries: puts beyond it are refused */
	uint32_t n_used;
	uint8_t hash_key[16];
};

/* Room for capacity pairs. 0 or -ENOMEM / -EINVAL. */
int peer_mirror_init(struct peer_mirror *m, uint32_t capacity);
void peer_mirror_free(struct peer_mirror *m);

int peer_mirror_get(const struct peer_mirror *m, const struct xwgp_peer_key *k,
		    struct xwgp_peer_state *st);
/*
 * Insert or replace; -E2BIG when a new pair would exceed the capacity,
 * -ENOMEM when the table could not grow (then unchanged).
 */
int peer_mirror_put(struct peer_mirror *m, const struct xwgp_peer_key *k,
		    const struct xwgp_peer_state *st);
/* 0, or -ENOENT when the pair is not there. */
int peer_mirror_del(struct peer_mirror *m, const struct xwgp_peer_key *k);

/* The next used slot from *cursor on (start at 0): its entry, or NULL at the end. */
const struct peer_mirror_entry *peer_mirror_next(const struct peer_mirror *m, uint32_t *cursor);

#endif
