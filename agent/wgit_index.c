// SPDX-License-Identifier: GPL-2.0
/* WGIT v2 index encoding: see wgit_index.h. */
#include <errno.h>
#include <stddef.h>


#include "rand_buf.h"
#include "wgit_index.h"

unsigned int wgit_slot_bits(uint32_t n_slots)
{
	unsigned int bits = 0;

	while (bits < 32 && ((uint64_t)1 << bits) < n_slots)
		bits++;
	return bits;
}

int wgit_index_layout_init(struct wgit_index_layout *l, uint32_t n_slots, uint32_t node_id,
			   unsigned int node_bits, const char **why)
{
	unsigned int slot_bits = wgit_slot_bits(n_slots ? n_slots : 1);

	*why = NULL;
	if (node_bits > WGIT_NODE_BITS_MAX) {
		*why = "node_id_bits is larger than 8";
		return -EINVAL;
	}
	if (node_bits < 32 && (uint64_t)node_id >> node_bits) {
		*why = "node_id does not fit in node_id_bits";
		return -EINVAL;
	}
	if (slot_bits + node_bits + WGIT_GEN_BITS_MIN > 32) {
		*why = "max_sessions and node_id_bits leave fewer than 8 generation bits";
		return -EINVAL;
	}
	l->slot_bits = (uint8_t)slot_bits;
	l->node_bits = (uint8_t)node_bits;
	l->gen_bits = (uint8_t)(32 - slot_bits - node_bits);
	l->node_id = node_id;
	l->n_slots = n_slots ? n_slots : 1;
	return 0;
}

uint32_t wgit_index_encode(const struct wgit_index_layout *l, uint32_t slot, uint32_t gen)
{
	uint32_t idx = slot & wgit_slot_mask(l->slot_bits);

	idx |= (gen & wgit_slot_mask(l->gen_bits)) << l->slot_bits;
	if (l->node_bits)
		idx |= l->node_id << (32 - l->node_bits);
	return idx;
}

uint32_t wgit_index_gen(const struct wgit_index_layout *l, uint32_t idx)
{
	return (idx >> l->slot_bits) & wgit_slot_mask(l->gen_bits);
}

uint32_t wgit_index_node(const struct wgit_index_layout *l, uint32_t idx)
{
	return l->node_bits ? idx >> (32 - l->node_bits) : 0;
}

uint32_t wgit_index_new(const struct wgit_index_layout *l, uint32_t slot, uint32_t avoid)
{
	uint32_t idx;

	/* At least 2^8 generations: at most three are refused, the loop ends. */
	do
		idx = wgit_index_encode(l, slot, xwgp_rand32());
	while (!wgit_index_wire_ok(idx) || idx == avoid);
	return idx;
}
