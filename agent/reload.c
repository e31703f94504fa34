// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <sodium.h>

#include "addr.h"
#include "log.h"
#include "reload.h"

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool interfaces_eq(const struct xwgp_server_config *a, const struct xwgp_server_config *b)
{
	if (a->n_interfaces != b->n_interfaces)
		return false;
	for (size_t i = 0; i < a->n_interfaces; i++)
		if (strcmp(a->interfaces[i], b->interfaces[i]))
			return false;
	return true;
}

static void swap_ptr(char **a, char **b)
{
	char *t = *a;

	*a = *b;
	*b = t;
}

int reload_keep_restart_only(const struct xwgp_server_config *running,
			     struct xwgp_server_config *next)
{
	int n = 0;

#define KEEP(cond, key)                                                                        \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			pr_warn("reload: `%s' changed; it takes effect after a restart, "       \
				"keeping the running value",                                   \
				key);                                                          \
			n++;                                                                   \
		}                                                                              \
	} while (0)

	KEEP(xwgp_ep_equal(&running->listen, &next->listen), "listen");
	next->listen = running->listen;
	KEEP(xwgp_ep_equal(&running->upstream, &next->upstream), "upstream");
	next->upstream = running->upstream;
	KEEP(running->xdp_mode == next->xdp_mode, "xdp_mode");
	next->xdp_mode = running->xdp_mode;
	KEEP(running->max_sessions == next->max_sessions, "max_sessions");
	next->max_sessions = running->max_sessions;
	KEEP(running->handshake_threads == next->handshake_threads, "handshake_threads");
	next->handshake_threads = running->handshake_threads;
	KEEP(running->node_id == next->node_id && running->node_id_bits == next->node_id_bits,
	     "node_id");
	next->node_id = running->node_id;
	next->node_id_bits = running->node_id_bits;
	KEEP(str_eq(running->instance, next->instance), "instance");
	KEEP(str_eq(running->pin_path, next->pin_path), "pin_path");
	KEEP(str_eq(running->cache_file_path, next->cache_file_path), "cache_file_path");
	KEEP(interfaces_eq(running, next), "interface");
	KEEP(xwgp_ep_equal(&running->metrics_listen, &next->metrics_listen), "metrics_listen");
	next->metrics_listen = running->metrics_listen;
#undef KEEP
	/* The strings and the interface list are kept by reload_apply. */
	return n;
}

/* Exchange the restart-only strings so the live config keeps the running ones. */
static void keep_running_strings(struct xwgp_server_config *running,
				 struct xwgp_server_config *next)
{
	char **ifs = running->interfaces;
	size_t n_ifs = running->n_interfaces;

	swap_ptr(&running->instance, &next->instance);
	swap_ptr(&running->pin_path, &next->pin_path);
	swap_ptr(&running->cache_file_path, &next->cache_file_path);
	running->interfaces = next->interfaces;
	running->n_interfaces = next->n_interfaces;
	next->interfaces = ifs;
	next->n_interfaces = n_ifs;
}

static bool key_in(const struct wg_server_key *keys, size_t n, const uint8_t pub[static 32])
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(keys[i].pub, pub, 32))
			return true;
	return false;
}

/*
 * Wipe the cached static-static DH results of every old server key the new
 * set lacks (removed or replaced): such a secret must never be used again.
 * Entries of the keys that stay are still right (the DH of the same keys)
 * and spare their clients an X25519 after the reload.
 */
static void forget_old_keys(struct handler *h, const struct wg_server_key *old, size_t n_old,
			    const struct wg_server_key *keys, size_t n)
{
	uint32_t dropped = 0;

	for (size_t i = 0; i < n_old; i++)
		if (!key_in(keys, n, old[i].pub))
			dropped += dh_cache_forget_server(&h->dh_cache, old[i].pub);
	if (dropped)
		pr_debug("reload: forgot %u cached DH results of removed server keys", dropped);
}

int reload_apply(struct handler *h, struct xwgp_server_config *live,
		 struct xwgp_server_config *next)
{
	struct xwgp_server_config tmp;
	struct wg_server_key *keys, *old;
	int err;

	/*
	 * Initiations in the handshake ring: their DHs read the keys replaced
	 * below, and their server index is the running config's.
	 */
	handler_flush(h);
	keys = sodium_allocarray(next->n_servers, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < next->n_servers; i++) {
		err = wg_server_key_init(&keys[i], next->servers[i].privkey);
		if (err) {
			pr_err("reload: servers[%zu]: cannot derive the public key", i);
			sodium_free(keys);
			return err;
		}
	}
	/* The obfuscation key (or none): fails only before changing anything. */
	err = handler_set_obfs(h, next->obfs);
	if (err) {
		sodium_free(keys);
		return err;
	}
	if (h->keys)
		forget_old_keys(h, h->keys, h->cfg->n_servers, keys, next->n_servers);
	/* The restart-only strings stay the running ones (pointers, no copy). */
	keep_running_strings(live, next);
	tmp = *live;
	*live = *next;
	*next = tmp;
	sodium_memzero(&tmp, sizeof(tmp));
	old = h->keys;
	h->keys = keys;
	h->cfg = live;
	if (old)
		sodium_free(old); /* wipes */
	return 0;
}

const struct xwgp_server_cfg *xwgp_server_cfg_by_pub(const struct xwgp_server_config *cfg,
						     const uint8_t pub[static 32])
{
	for (size_t i = 0; i < cfg->n_servers; i++)
		if (!sodium_memcmp(cfg->servers[i].pubkey, pub, 32))
			return &cfg->servers[i];
	return NULL;
}

bool xwgp_session_cfg_check(const struct xwgp_server_config *cfg, const struct xwgp_session *s,
			    const struct xwgp_session_meta *m, const char **why)
{
	const struct xwgp_server_cfg *srv = xwgp_server_cfg_by_pub(cfg, m->server_pub);
	const struct xwgp_peer_cfg *peer;
	const char *dummy;

	if (!why)
		why = &dummy;
	if (!srv) {
		*why = "its server key is no longer configured";
		return false;
	}
	/* The peer the handler would choose now: exact key, else the fallback. */
	peer = config_peer_for(srv, m->client_pub);
	if (!peer) {
		*why = "its client has no peer (and no fallback) any more";
		return false;
	}
	if (!xwgp_ep_equal(&peer->forward_to, &s->server)) {
		*why = "its peer now forwards elsewhere";
		return false;
	}
	return true;
}

static bool server_gone(const struct wgit *w, const struct xwgp_peer_key *k, void *cfg)
{
	(void)w;
	return !xwgp_server_cfg_by_pub(cfg, k->server_pub);
}

int reload_prune(const struct wgit *w, const struct xwgp_server_config *cfg)
{
	struct xwgp_session s;
	uint32_t cursor = 0;
	int total = 0, peers;

	/* An array walk is not disturbed by deleting behind it. */
	while (wgit_session_next(w->maps, &cursor, &s)) {
		struct xwgp_session_meta m;
		const char *why = "its handshake metadata is missing";
		uint32_t key = s.client_proxy_index;

		if (wgit_meta_get(w, key, &m) == 0 && xwgp_session_cfg_check(cfg, &s, &m, &why))
			continue;
		pr_debug("reload: removing session %#x: %s", key, why);
		if (wgit_session_delete(w, key) == 0)
			total++;
	}
	peers = wgit_peer_prune(w, server_gone, (void *)cfg, 0);
	if (peers)
		pr_debug("reload: removed %d peer states of servers no longer configured", peers);
	return total;
}
