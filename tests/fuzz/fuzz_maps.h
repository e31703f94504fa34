/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzz harnesses that run the agent on real BPF maps (fuzz_cache,
 * fuzz_handler) start every input from empty session tables.
 */
#ifndef XWGP_FUZZ_MAPS_H
#define XWGP_FUZZ_MAPS_H

#include <errno.h>
#include <bpf/bpf.h>

#include "bpf_loader.h"
#include "fuzz.h"
#include "xwgp_abi.h"
#include "xwgp.skel.h"

static inline void fuzz_map_clear(int fd, size_t key_size)
{
	uint8_t key[64];

	if (key_size > sizeof(key))
		fuzz_bug("key of %zu bytes", key_size);
	while (!bpf_map_get_next_key(fd, NULL, key))
		if (bpf_map_delete_elem(fd, key))
			fuzz_bug("cannot delete a map entry: %s", strerror(errno));
}

/* The harnesses' session array: every input empties it, so it is small. */
#define FUZZ_SESSION_SLOTS 256

/* The xwgp object loaded with FUZZ_SESSION_SLOTS slots; NULL (errno) when it does not load. */
static inline struct xwgp_bpf *fuzz_skel_load(void)
{
	struct xwgp_bpf *skel = xwgp_bpf__open();

	if (skel) {
		xwgp_skel_size_sessions(skel, FUZZ_SESSION_SLOTS);
		if (xwgp_bpf__load(skel)) {
			xwgp_bpf__destroy(skel);
			skel = NULL;
		}
	}
	return skel;
}

/*
 * Sessions (every slot of the WGIT v2 array emptied), their meta, and the
 * per-key peer state: all gone. The caller frees its wgit's slot bitmap
 * (wgit_slots_free), which this clears behind its back.
 */
static inline void fuzz_session_tables_clear(const struct xwgp_maps *m)
{
	static const struct xwgp_session empty;

	for (uint32_t slot = 0; slot < m->n_slots; slot++)
		if (bpf_map_update_elem(m->sessions, &slot, &empty, BPF_ANY))
			fuzz_bug("cannot empty slot %u: %s", slot, strerror(errno));
	if (m->meta)
		memset(m->meta, 0, (size_t)m->n_slots * sizeof(*m->meta));
	fuzz_map_clear(m->peer_state, sizeof(struct xwgp_peer_key));
}

#endif
