/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Config reload (SIGHUP) without dropping the sessions that stay valid.
 *
 * The agent is single-threaded: a reload runs between two packets, so the
 * handler never sees half a config. What a reload can change: servers and
 * peers (keys, forward_to, csvl/ssvl for new sessions), timeout,
 * max_packet_size, punt_rate/punt_burst, punt_ipv6_prefix,
 * transport_punt_rate/transport_punt_burst, obfs. What needs a restart (the
 * sockets, the attachment or the maps depend on it): listen, upstream,
 * interface, xdp_mode, instance, pin_path, max_sessions, handshake_threads,
 * cache_file_path;
 * a changed value there is reported and the running one kept.
 */
#ifndef XWGP_RELOAD_H
#define XWGP_RELOAD_H

#include "config.h"
#include "handler.h"
#include "wgit.h"

/*
 * Copy the restart-only settings of `running' into `next', warning for
 * each one that differs. Returns how many differed.
 */
int reload_keep_restart_only(const struct xwgp_server_config *running,
			     struct xwgp_server_config *next);

/*
 * Make `next' the live config: derive its server keys and obfuscation key
 * (on failure nothing changes and -errno is returned), then exchange the contents of *live and
 * *next (h->cfg points at live and stays valid) and swap h's keys, wiping
 * the old ones. Afterwards *next holds the old config for the caller to
 * free.
 */
int reload_apply(struct handler *h, struct xwgp_server_config *live,
		 struct xwgp_server_config *next);

/*
 * Delete the sessions (with their server index and meta) that cfg no longer
 * serves (xwgp_session_cfg_check), and the peer states of servers no longer
 * configured. Sessions still served are not touched. Returns how many
 * sessions were deleted, or -errno.
 */
int reload_prune(const struct wgit *w, const struct xwgp_server_config *cfg);

/* The configured server with public key pub, or NULL. */
const struct xwgp_server_cfg *xwgp_server_cfg_by_pub(const struct xwgp_server_config *cfg,
						     const uint8_t pub[static 32]);

/*
 * Whether session s (meta m) still belongs to cfg: m->server_pub is a
 * configured server, the client key picks a peer there (exact or fallback)
 * whose forward_to is s->server. *why (may be NULL) says what failed.
 * Used by a reload (reload_prune) and by restoring the cache file.
 */
bool xwgp_session_cfg_check(const struct xwgp_server_config *cfg, const struct xwgp_session *s,
			    const struct xwgp_session_meta *m, const char **why);

#endif /* XWGP_RELOAD_H */
