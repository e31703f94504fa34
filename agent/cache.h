/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The session cache file (docs/DESIGN.md section 7): a JSON copy of the WGIT
 * table (sessions, their meta, per-peer state) that brings the tunnels back
 * after a reboot or `xwgp down', when the pinned maps are gone. While the
 * maps are pinned they are the truth and the file is not read.
 *
 * Never holds private keys. Times are stored as ages in milliseconds at the
 * moment of writing, with a header saying when that was (boot id, boot
 * clock and wall clock), so a reader can rebase them onto its own
 * CLOCK_BOOTTIME whether or not the machine rebooted meanwhile.
 *
 * Reading is paranoid: a truncated or corrupt file is reported (file name
 * and what is wrong) and treated as empty; nothing in it can crash the agent.
 */
#ifndef XWGP_CACHE_H
#define XWGP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "wgit.h"
#include "xwgp_abi.h"

#define XWGP_CACHE_VERSION 1
#define XWGP_CACHE_MAX_BYTES (256u << 20) /* refuse larger files */
/* WireGuard's REJECT_AFTER_TIME: keys of an older handshake are dead. */
#define XWGP_CACHE_REJECT_AFTER_SEC 180
/* The largest clock reading in ms whose nanoseconds fit 64 bits (~584 years). */
#define XWGP_CACHE_CLOCK_MAX_MS (UINT64_MAX / 1000000u)
/* WireGuard's cookie lifetime. */
#define XWGP_CACHE_COOKIE_LIFETIME_SEC 120
/* The session flags the file carries. */
#define XWGP_CACHE_SESSION_FLAGS \
	(XWGP_SF_ESTABLISHED | XWGP_SF_OBFS | XWGP_SF_XLAT_CLIENT | XWGP_SF_XLAT_SERVER)

struct cache_session {
	struct xwgp_session s;
	struct xwgp_session_meta m;
};

struct cache_peer {
	struct xwgp_peer_key k;
	struct xwgp_peer_state st;
};

/* Clocks at one instant: when a file was written, or now. */
struct cache_clock {
	char boot_id[40]; /* /proc/sys/kernel/random/boot_id, "" if unknown */
	uint64_t boot_ns; /* CLOCK_BOOTTIME */
	uint64_t real_ns; /* CLOCK_REALTIME */
};

struct xwgp_cache {
	uint16_t upstream_port; /* host order; 0: unknown */
	struct cache_session *sessions;
	size_t n_sessions, cap_sessions;
	struct cache_peer *peers;
	size_t n_peers, cap_peers;
	struct cache_clock taken; /* cache_snapshot: when the maps were read */
};

/* Path: --cache-file, else $XWGP_CACHE_FILE, else config, else the default. */
int cache_resolve_path(char *buf, size_t len, const char *cli, const char *config_path,
		       const char *instance);
/*
 * The default: /var/cache/xwgp/<instance>.json for root, else
 * $XDG_CACHE_HOME/xwgp/<instance>.json, else ~/.cache/xwgp/<instance>.json.
 */
int cache_default_path(char *buf, size_t len, const char *instance);

void cache_clock_now(struct cache_clock *c);

void cache_free(struct xwgp_cache *c);
int cache_add_session(struct xwgp_cache *c, const struct xwgp_session *s,
		      const struct xwgp_session_meta *m);
int cache_add_peer(struct xwgp_cache *c, const struct xwgp_peer_key *k,
		   const struct xwgp_peer_state *st);

/*
 * JSON text of c written at instant `at' (heap, free()). Sessions and peers
 * whose timestamps lie after `at' are written with age 0.
 */
char *cache_format(const struct xwgp_cache *c, const struct cache_clock *at);

/*
 * Parse a cache file's text (len bytes, need not be NUL-terminated) and
 * rebase its times onto now->boot_ns: key lifetimes (handshake, cookie,
 * created) count the time the proxy was down, idleness (last seen) does
 * not, since nothing could be seen meanwhile. Sessions whose handshake is
 * older than REJECT_AFTER are dropped, older cookies cleared. An age larger
 * than the writer's boot clock (written.boottime_ms), or a clock reading
 * whose nanoseconds would not fit 64 bits, is an error naming the field.
 * Returns 0, or -EINVAL with a warning naming `name' and the problem (out is
 * then empty), -ENOMEM.
 */
int cache_parse(const char *text, size_t len, const char *name, const struct cache_clock *now,
		struct xwgp_cache *out);

/*
 * Read and parse path; a missing file is an empty cache (returns -ENOENT
 * quietly). A file not ours, or writable by others, or in a directory not
 * ours or writable by others, is not trusted (-EPERM, warned); a directory
 * readable by others only draws a warning.
 */
int cache_load(const char *path, const struct cache_clock *now, struct xwgp_cache *out);

/* Every session (with meta) and peer state in the maps. */
int cache_collect(const struct wgit *w, struct xwgp_cache *out);

/*
 * cache_collect, with the upstream port and the clock of the moment (the
 * file's ages are counted from it, however late it is written): 0, or
 * -errno (logged).
 */
int cache_snapshot(const struct wgit *w, uint16_t upstream_port, struct xwgp_cache *out);

/* Format c as of `at' and replace path with it atomically: 0, or -errno (logged). */
int cache_write_file(const struct xwgp_cache *c, const struct cache_clock *at, const char *path);

/* Snapshot and write at once (the loop uses cache_writer.h instead); 0 or -errno. */
int cache_save(const struct wgit *w, const char *path, uint16_t upstream_port);

/*
 * Insert the cached sessions still valid for cfg (server key configured,
 * peer still there with the same forward_to: xwgp_session_cfg_check in
 * reload.h) into
 * the maps, with their server local port set to upstream_port (backends
 * follow a changed source port, as WireGuard roams), and the peer states of
 * configured servers. Returns how many sessions were restored, or -errno.
 */
int cache_restore(struct wgit *w, const struct xwgp_cache *c, const struct xwgp_server_config *cfg,
		  uint16_t upstream_port);

#endif /* XWGP_CACHE_H */
