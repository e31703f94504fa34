/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Choosing proxy indexes (docs/DESIGN.md section 4), once for every table that
 * needs one: the server's WGIT session and server-index maps and the
 * client's relay tables. A proxy index equals the peer's own (origin) index
 * unless that one is taken, zero (never valid on the fast path) or
 * translation is forced; else it is a fresh random non-zero one.
 */
#ifndef XWGP_INDEX_PICK_H
#define XWGP_INDEX_PICK_H

#include <stdbool.h>
#include <stdint.h>

/* Random tries after the origin: collisions are rare (tables are tiny vs 2^32). */
#define XWGP_INDEX_TRIES 16

/* Random non-zero 32-bit index (CSPRNG). */
uint32_t xwgp_random_index(void);

/*
 * Try candidates (origin unless 0 or force, then XWGP_INDEX_TRIES random
 * ones other than origin) until claim(idx, ctx) takes one: claim returns 0
 * when idx is now ours, -EEXIST when it is in use (try the next), another
 * -errno to stop. Returns 0 with *out set, -EEXIST when every try was in
 * use, or claim's error.
 */
int xwgp_index_pick(uint32_t origin, bool force, int (*claim)(uint32_t idx, void *ctx), void *ctx,
		    uint32_t *out);

#endif /* XWGP_INDEX_PICK_H */
