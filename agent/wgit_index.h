/* SPDX-License-Identifier: GPL-2.0 */
/*
 * WGIT v2 proxy indexes (issue 13, docs/DESIGN.md section 4): every index
 * xwgp assigns encodes where its session lives and which lifetime of that
 * place it names:
 *
 *   bit 31 ...                                               ... bit 0
 *   [ node_id (node_bits) | generation (gen_bits) | slot (slot_bits) ]
 *
 * slot_bits is the smallest width that holds every slot of the session
 * array, node_bits (0..WGIT_NODE_BITS_MAX, default 0) carries the optional
 * cluster node id (so several nodes behind ECMP can later tell the owner of
 * a session from any transport packet, as Katran routes QUIC by a server id
 * in the connection id); the generation takes the rest and is drawn at
 * random each time a slot is used, so a stale or guessed index fails the
 * generation compare.
 *
 * Two values never go on the wire: 0 (WireGuard's "no index", dropped by
 * XDP as DROP_INDEX_ZERO) and WGIT_INDEX_STUN. Clients that multiplex STUN
 * and WireGuard on one socket (e.g. Tailscale's magicsock, libjuice/ICE
 * stacks) classify a datagram as STUN when bytes 4..7 are the RFC 5389 magic
 * cookie 0x2112A442 in network byte order (21 12 A4 42); a WireGuard index
 * sits in bytes 4..7 little-endian, so the index 0x42A41221 would be
 * misrouted by such clients.
 *
 * Blind hit: a guessed index names a live session only if its slot is in use
 * and its generation is that slot's: with A live sessions a random 32-bit
 * guess hits with probability A / 2^(32 - node_bits) (the node bits are
 * public). With node_bits 0 that is A / 2^32, as for WGIT v1's random
 * indexes.
 */
#ifndef XWGP_WGIT_INDEX_H
#define XWGP_WGIT_INDEX_H

#include <stdbool.h>
#include <stdint.h>

/* le32 of the bytes 21 12 A4 42: the STUN magic cookie where WireGuard keeps its index. */
#define WGIT_INDEX_STUN 0x42A41221u
#define WGIT_NODE_BITS_MAX 8
/* Fewer generation bits than this make a stale index too easy to hit again. */
#define WGIT_GEN_BITS_MIN 8

struct wgit_index_layout {
	uint8_t slot_bits, node_bits, gen_bits;
	uint32_t node_id;
	uint32_t n_slots; /* slots below n_slots exist */
};

/*
 * Layout for an array of n_slots (>= 1) slots and the cluster node id:
 * 0, or -EINVAL (message in *why) when node_id does not fit node_bits or
 * fewer than WGIT_GEN_BITS_MIN bits remain for the generation.
 */
int wgit_index_layout_init(struct wgit_index_layout *l, uint32_t n_slots, uint32_t node_id,
			   unsigned int node_bits, const char **why);

/* Smallest width that numbers n slots (0 for one slot). */
unsigned int wgit_slot_bits(uint32_t n_slots);

static inline uint32_t wgit_slot_mask(unsigned int slot_bits)
{
	return slot_bits >= 32 ? UINT32_MAX : (1u << slot_bits) - 1;
}

uint32_t wgit_index_encode(const struct wgit_index_layout *l, uint32_t slot, uint32_t gen);

static inline uint32_t wgit_index_slot(const struct wgit_index_layout *l, uint32_t idx)
{
	return idx & wgit_slot_mask(l->slot_bits);
}

uint32_t wgit_index_gen(const struct wgit_index_layout *l, uint32_t idx);
uint32_t wgit_index_node(const struct wgit_index_layout *l, uint32_t idx);

/* An index xwgp may hand out: not 0, not the STUN cookie. */
static inline bool wgit_index_wire_ok(uint32_t idx)
{
	return idx != 0 && idx != WGIT_INDEX_STUN;
}

/*
 * A fresh index for slot (random generation, CSPRNG), never 0, never
 * WGIT_INDEX_STUN and never `avoid' (the slot's previous index, so a
 * reused slot never gives an old index back at once).
 */
uint32_t wgit_index_new(const struct wgit_index_layout *l, uint32_t slot, uint32_t avoid);

#endif /* XWGP_WGIT_INDEX_H */
