// SPDX-License-Identifier: GPL-2.0
/*
 * The session cache file and the pinned maps: collect the maps into a
 * cache and save it; restore a loaded cache into fresh maps, keeping only
 * what the config still serves (xwgp_session_cfg_check, reload.h).
 */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <sodium.h>

#include "cache.h"
#include "file_util.h"
#include "handler.h"
#include "log.h"
#include "reload.h"

static int collect_peer(void *ctx, const struct xwgp_peer_key *k, const struct xwgp_peer_state *st)
{
	return cache_add_peer(ctx, k, st);
}

int cache_collect(const struct wgit *w, struct xwgp_cache *out)
{
	struct xwgp_session s;
	uint32_t cursor = 0;
	int err;

	memset(out, 0, sizeof(*out));
	while (wgit_session_next(w->maps, &cursor, &s)) {
		struct xwgp_session_meta m;

		/* A session without meta cannot be checked against a config: skip it. */
		if (wgit_meta_get(w, s.client_proxy_index, &m))
			continue;
		err = cache_add_session(out, &s, &m);
		if (err)
			goto err;
	}
	err = wgit_peer_each(w, collect_peer, out);
	if (err)
		goto err;
	return 0;
err:
	cache_free(out);
	return err;
}

int cache_write_file(const struct xwgp_cache *c, const struct cache_clock *at, const char *path)
{
	char *text = cache_format(c, at);
	int err;

	if (!text) {
		pr_warn("cache file %s: out of memory formatting %zu sessions", path, c->n_sessions);
		return -ENOMEM;
	}
	err = xwgp_write_atomic(path, text);
	if (err)
		pr_warn("cache file %s: writing failed: %s", path, strerror(-err));
	else
		pr_debug("cache file %s: wrote %zu sessions, %zu peers", path, c->n_sessions,
			 c->n_peers);
	sodium_memzero(text, strlen(text));
	free(text);
	return err;
}

int cache_snapshot(const struct wgit *w, uint16_t upstream_port, struct xwgp_cache *out)
{
	int err = cache_collect(w, out);

	if (err) {
		pr_warn("cache file: reading the maps failed: %s", strerror(-err));
		return err;
	}
	out->upstream_port = upstream_port;
	cache_clock_now(&out->taken);
	return 0;
}

int cache_save(const struct wgit *w, const char *path, uint16_t upstream_port)
{
	struct xwgp_cache c;
	int err;

	err = cache_snapshot(w, upstream_port, &c);
	if (err)
		return err;
	err = cache_write_file(&c, &c.taken, path);
	cache_free(&c);
	return err;
}

static int restore_session(struct wgit *w, const struct cache_session *cs, uint16_t upstream_port)
{
	struct xwgp_session s = cs->s;
	uint32_t idx = s.client_proxy_index;
	int err;

	s.server_local.port = htons(upstream_port);
	/*
	 * Under the indexes its peers know (wgit_session_place): a cache of
	 * WGIT v1 (random indexes) keeps a session only where both indexes
	 * name one free slot of this table; the others re-handshake.
	 */
	err = wgit_session_place(w, &s);
	if (err)
		return err;
	err = wgit_meta_put(w, idx, &cs->m);
	if (err)
		wgit_session_delete(w, idx);
	return err;
}

int cache_restore(struct wgit *w, const struct xwgp_cache *c, const struct xwgp_server_config *cfg,
		  uint16_t upstream_port)
{
	size_t dropped = 0, clashed = 0, misfit = 0, peers = 0;
	uint64_t now = xwgp_now_ns();
	int restored = 0, err;

	/* Peer states first: each restored session is then recorded in its pair's. */
	for (size_t i = 0; i < c->n_peers; i++) {
		struct xwgp_peer_state cur;

		if (!xwgp_server_cfg_by_pub(cfg, c->peers[i].k.server_pub))
			continue;
		/* The map is the newer truth where it already knows the peer. */
		if (wgit_peer_get(w, &c->peers[i].k, &cur) == 0)
			continue;
		if (wgit_peer_put(w, &c->peers[i].k, &c->peers[i].st) == 0)
			peers++;
	}
	for (size_t i = 0; i < c->n_sessions; i++) {
		const struct cache_session *cs = &c->sessions[i];
		struct xwgp_peer_key pk;
		const char *why;

		if (!xwgp_session_cfg_check(cfg, &cs->s, &cs->m, &why)) {
			pr_debug("cached session %#x not restored: %s", cs->s.client_proxy_index, why);
			dropped++;
			continue;
		}
		err = restore_session(w, cs, upstream_port);
		if (err == -EEXIST) {
			clashed++; /* its slot is taken (another index of the file) */
			continue;
		}
		if (err == -EINVAL) {
			misfit++; /* 0, STUN, or not one slot of this table (an older xwgp's) */
			continue;
		}
		if (err) {
			pr_warn("restoring cached session %#x failed: %s", cs->s.client_proxy_index,
				strerror(-err));
			if (err == -E2BIG || err == -ENOMEM)
				break; /* the table is full */
			continue;
		}
		/* The per-key cap holds for restored sessions too (wgit_admit.c). */
		memcpy(pk.server_pub, cs->m.server_pub, 32);
		memcpy(pk.client_pub, cs->m.client_pub, 32);
		wgit_peer_track(w, &pk, cs->s.client_proxy_index, now);
		restored++;
	}
	if (c->n_sessions || c->n_peers)
		pr_info("cache: restored %d of %zu sessions (%zu no longer match the config, %zu "
			"in a slot already taken, %zu with indexes this table cannot hold: their "
			"clients re-handshake) and %zu peer states",
			restored, c->n_sessions, dropped, clashed, misfit, peers);
	return restored;
}
