// SPDX-License-Identifier: GPL-2.0
/* The cache file written on a thread of its own (see cache_writer.h). */
#include <errno.h>
#include <string.h>

#include "cache_writer.h"
#include "clock.h"

bool cache_writer_busy(const struct cache_writer *cw)
{
	return __atomic_load_n(&cw->busy, __ATOMIC_ACQUIRE);
}

static void *writer_main(void *arg)
{
	struct cache_writer *cw = arg;
	uint64_t t0 = xwgp_now_ns();
	int err = cache_write_file(&cw->c, &cw->c.taken, cw->path);

	cache_free(&cw->c);
	__atomic_store_n(&cw->err, err, __ATOMIC_RELAXED);
	__atomic_store_n(&cw->took_ns, xwgp_now_ns() - t0, __ATOMIC_RELAXED);
	__atomic_store_n(&cw->busy, false, __ATOMIC_RELEASE);
	return NULL;
}

void cache_writer_wait(struct cache_writer *cw)
{
	if (!cw->started)
		return;
	pthread_join(cw->tid, NULL);
	cw->started = false;
}

int cache_writer_start(struct cache_writer *cw, struct xwgp_cache *c, const char *path)
{
	int err;

	if (cache_writer_busy(cw))
		return -EBUSY;
	cache_writer_wait(cw); /* the finished thread of the previous write */
	if (strlen(path) >= sizeof(cw->path))
		return -ENAMETOOLONG;
	strcpy(cw->path, path);
	cw->c = *c;
	__atomic_store_n(&cw->busy, true, __ATOMIC_RELAXED);
	err = pthread_create(&cw->tid, NULL, writer_main, cw);
	if (err) {
		__atomic_store_n(&cw->busy, false, __ATOMIC_RELAXED);
		memset(&cw->c, 0, sizeof(cw->c));
		return -err;
	}
	cw->started = true;
	memset(c, 0, sizeof(*c));
	return 0;
}
