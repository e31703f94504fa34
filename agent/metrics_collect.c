// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot of the counters and the session table from the pinned maps
 * (see metrics_collect.h). Called by the metrics thread while the agent
 * forwards: it only reads maps through the bpf() syscall, which takes no
 * lock the XDP program or the agent's event loop waits on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "metrics_collect.h"
#include "wgit.h"

/* Names and descriptions from the X-macro lists of the ABI headers. */
#define STAT_NAME(n, d) #n,
#define STAT_DESC(n, d) d,
const char *const xwgp_xdp_stat_names[XWGP_STAT__MAX] = { XWGP_STATS(STAT_NAME) };
const char *const xwgp_xdp_stat_desc[XWGP_STAT__MAX] = { XWGP_STATS(STAT_DESC) };
const char *const xwgp_agent_stat_names[XWGP_AGENT_STAT__MAX] = { XWGP_AGENT_STATS(STAT_NAME) };
const char *const xwgp_agent_stat_desc[XWGP_AGENT_STAT__MAX] = { XWGP_AGENT_STATS(STAT_DESC) };
#undef STAT_NAME
#undef STAT_DESC

int metrics_read_xdp_stat(int fd, uint32_t slot, struct xwgp_stat_val *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xwgp_stat_val *v;

	memset(sum, 0, sizeof(*sum));
	if (ncpu <= 0)
		return -EINVAL;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &slot, v)) {
		int err = -errno;

		free(v);
		return err;
	}
	for (int c = 0; c < ncpu; c++) {
		sum->packets += v[c].packets;
		sum->bytes += v[c].bytes;
	}
	free(v);
	return 0;
}

/* Room for one more element in *p (n used of *cap); false when out of memory. */
static bool grow(void **p, size_t *cap, size_t n, size_t elem, size_t first)
{
	size_t c = *cap ? *cap * 2 : first;
	void *q;

	if (n < *cap)
		return true;
	q = realloc(*p, c * elem);
	if (!q)
		return false;
	*p = q;
	*cap = c;
	return true;
}

static void backend_sum(struct metrics_backend *to, const struct metrics_backend *from)
{
	to->c2s_packets += from->c2s_packets;
	to->c2s_bytes += from->c2s_bytes;
	to->s2c_packets += from->s2c_packets;
	to->s2c_bytes += from->s2c_bytes;
}

/*
 * Linear search: rows are bounded by the configured backends (a handful to
 * a few hundred; METRICS_MAX_BACKENDS at most).
 */
void metrics_backend_add(struct metrics_snapshot *s, const struct metrics_backend *b)
{
	static const struct xwgp_ep other = {};
	const struct xwgp_ep *ep = &b->ep;
	size_t i;

	for (i = 0; i < s->n_backends; i++)
		if (xwgp_ep_equal(&s->backends[i].ep, ep))
			goto found;
	if (s->n_backends >= METRICS_MAX_BACKENDS)
		ep = &other;
	for (i = 0; i < s->n_backends; i++)
		if (xwgp_ep_equal(&s->backends[i].ep, ep))
			goto found;
	if (!grow((void **)&s->backends, &s->cap_backends, s->n_backends, sizeof(*s->backends), 16))
		return;
	i = s->n_backends++;
	memset(&s->backends[i], 0, sizeof(s->backends[i]));
	s->backends[i].ep = *ep;
found:
	backend_sum(&s->backends[i], b);
}

static int row_cmp(const void *a, const void *b)
{
	const struct metrics_row *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->created_ns < y->created_ns ? -1 : x->created_ns > y->created_ns;
}

static void row_add(struct metrics_snapshot *s, uint32_t key, const struct xwgp_session *sess)
{
	struct metrics_row *r;

	if (!grow((void **)&s->rows, &s->cap_rows, s->n_rows, sizeof(*s->rows), 256))
		return;
	r = &s->rows[s->n_rows++];
	r->key = key;
	r->created_ns = sess->created_ns;
	r->established = !!(sess->flags & XWGP_SF_ESTABLISHED);
	r->t = (struct metrics_backend){ sess->server, sess->c2s_packets, sess->c2s_bytes,
					 sess->s2c_packets, sess->s2c_bytes };
}

/*
 * Every live session, walked in the agent's (or show's) mapping of the
 * array: no syscall per slot, and an array walk meets each slot once. A
 * session's counters are XDP's and the agent's together (agent/wgit.c).
 */
static void collect_sessions(const struct xwgp_maps *m, struct metrics_snapshot *s)
{
	struct xwgp_session sess;
	uint32_t cursor = 0;

	while (wgit_session_next(m, &cursor, &sess))
		row_add(s, sess.client_proxy_index, &sess);
	if (s->n_rows)
		qsort(s->rows, s->n_rows, sizeof(*s->rows), row_cmp);
	for (size_t i = 0; i < s->n_rows; i++) {
		const struct metrics_row *r = &s->rows[i];

		*(r->established ? &s->established : &s->pending) += 1;
		metrics_backend_add(s, &r->t);
	}
	if (!s->want_rows) {
		free(s->rows);
		s->rows = NULL;
		s->n_rows = s->cap_rows = 0;
	}
}

int metrics_collect_counters(const struct xwgp_maps *m, struct metrics_snapshot *s)
{
	int err = 0;

	for (uint32_t i = 0; i < XWGP_STAT__MAX; i++) {
		int e = metrics_read_xdp_stat(m->stats, i, &s->xdp[i]);

		err = err ?: e;
	}
	for (uint32_t i = 0; i < XWGP_AGENT_STAT__MAX; i++) {
		s->agent[i] = 0;
		if (bpf_map_lookup_elem(m->agent_stats, &i, &s->agent[i]))
			err = err ?: -errno;
	}
	s->up = !err;
	return err;
}

int metrics_collect(const struct xwgp_maps *m, struct metrics_snapshot *s)
{
	int err = metrics_collect_counters(m, s);

	collect_sessions(m, s);
	return err;
}

void metrics_snapshot_free(struct metrics_snapshot *s)
{
	free(s->backends);
	free(s->rows);
	s->backends = NULL;
	s->rows = NULL;
	s->n_backends = s->cap_backends = s->n_rows = s->cap_rows = 0;
}
