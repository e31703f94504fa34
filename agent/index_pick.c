// SPDX-License-Identifier: GPL-2.0
/* Proxy index choice: see index_pick.h. */
#include <errno.h>


#include "index_pick.h"
#include "rand_buf.h"

uint32_t xwgp_random_index(void)
{
	uint32_t v;

	do
		v = xwgp_rand32();
	while (v == 0);
	return v;
}

int xwgp_index_pick(uint32_t origin, bool force, int (*claim)(uint32_t idx, void *ctx), void *ctx,
		    uint32_t *out)
{
	uint32_t idx = origin;
	int err = -EEXIST;

	/* Try -1 is the origin itself, the others random. */
	for (int i = -1; i < XWGP_INDEX_TRIES && err == -EEXIST; i++) {
		if (i < 0 && (!origin || force))
			continue;
		if (i >= 0) {
			idx = xwgp_random_index();
			if (idx == origin)
				continue;
		}
		err = claim(idx, ctx);
	}
	if (!err)
		*out = idx;
	return err;
}
