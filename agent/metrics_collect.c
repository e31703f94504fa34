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

/* The agent's share of one session's transport (xwgp_sess_meta), by key. */
struct agent_share {
	uint32_t key;
	struct xwgp_session_meta m; /* only the agent_* counters are filled */
};

static int share_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct walk_ctx {
	struct metrics_snapshot *s;
	struct agent_share *shares;
	size_t n_shares, cap_shares;
	int fd_meta; /* -1: shares[] is complete; else look each session up */
};

static void each_meta(struct walk_ctx *w, uint32_t key, const void *val)
{
	const struct xwgp_session_meta *m = val;
	struct agent_share *a;

	if (!grow((void **)&w->shares, &w->cap_shares, w->n_shares, sizeof(*w->shares), 256))
		return;
	a = &w->shares[w->n_shares++];
	memset(a, 0, sizeof(*a));
	a->key = key;
	a->m.agent_c2s_packets = m->agent_c2s_packets;
	a->m.agent_c2s_bytes = m->agent_c2s_bytes;
	a->m.agent_s2c_packets = m->agent_s2c_packets;
	a->m.agent_s2c_bytes = m->agent_s2c_bytes;
}

static void each_session(struct walk_ctx *w, uint32_t slot, const void *val)
{
	struct xwgp_session sess = *(const struct xwgp_session *)val;
	uint32_t key = sess.client_proxy_index; /* the meta's key; 0: a free slot */
	struct xwgp_session_meta meta;

	(void)slot;
	if (!key)
		return;
	if (w->fd_meta >= 0) {
		if (bpf_map_lookup_elem(w->fd_meta, &key, &meta) == 0)
			wgit_session_totals(&sess, &meta); /* XDP's counters + the agent's */
	} else {
		const struct agent_share *a = w->n_shares ? bsearch(&key, w->shares, w->n_shares,
								    sizeof(*w->shares), share_cmp)
							  : NULL;

		if (a)
			wgit_session_totals(&sess, &a->m);
	}
	row_add(w->s, key, &sess);
}

/*
 * Every (key, value) of a map, BATCH at a time (one syscall per batch: a
 * full default table is 64 calls instead of 131072). -errno when the kernel
 * refuses batches (or a bucket outgrows one): entries may then have been
 * passed already, and the caller starts over another way.
 */
#define BATCH 1024

static int walk_batch(int fd, size_t vsize, struct walk_ctx *w,
		      void (*each)(struct walk_ctx *w, uint32_t key, const void *val))
{
	uint32_t *keys = calloc(BATCH, sizeof(*keys)), token, count;
	char *vals = calloc(BATCH, vsize);
	void *in = NULL;
	int err = 0;

	while (keys && vals) {
		int r;

		count = BATCH;
		r = bpf_map_lookup_batch(fd, in, &token, keys, vals, &count, NULL);
		if (r && errno != ENOENT) {
			err = -errno;
			break;
		}
		for (uint32_t i = 0; i < count; i++)
			each(w, keys[i], vals + i * vsize);
		if (r)
			break; /* ENOENT: that was the last batch */
		in = &token;
	}
	if (!keys || !vals)
		err = -ENOMEM;
	free(keys);
	free(vals);
	return err;
}

/*
 * One key at a time, where batches fail. A hash map walk restarts from the
 * first key when the key it stands on is deleted meanwhile (the agent
 * expiring a session), so it can meet a session twice: collect_sessions
 * counts each (key, created_ns) once.
 */
static void walk_keys(const struct xwgp_maps *m, struct walk_ctx *w)
{
	struct xwgp_session sess;
	uint32_t cursor = 0;

	while (wgit_session_next(m, &cursor, &sess))
		each_session(w, cursor - 1, &sess);
}

static void collect_sessions(const struct xwgp_maps *m, struct metrics_snapshot *s)
{
	struct walk_ctx w = { .s = s, .fd_meta = -1 };
	size_t n = 0;

	if (walk_batch(m->sess_meta, sizeof(struct xwgp_session_meta), &w, each_meta))
		w.fd_meta = m->sess_meta;
	else if (w.n_shares)
		qsort(w.shares, w.n_shares, sizeof(*w.shares), share_cmp);
	if (walk_batch(m->sessions, sizeof(struct xwgp_session), &w, each_session)) {
		s->n_rows = 0;
		walk_keys(m, &w);
	}
	free(w.shares);
	if (s->n_rows)
		qsort(s->rows, s->n_rows, sizeof(*s->rows), row_cmp);
	for (size_t i = 0; i < s->n_rows; i++) {
		const struct metrics_row *r = &s->rows[i];

		if (n && !row_cmp(r, &s->rows[n - 1]))
			continue; /* met twice */
		s->rows[n++] = *r;
		*(r->established ? &s->established : &s->pending) += 1;
		metrics_backend_add(s, &r->t);
	}
	s->n_rows = n;
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
