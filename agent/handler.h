/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's packet handler: every packet that reaches the agent (from an
 * AF_XDP socket or a UDP socket) ends here, whichever path brought it.
 * It is a complete implementation of every forwarding rule (docs/DESIGN.md
 * section 2): handshakes (WGIT, MAC recomputation, cookies) and transport
 * (through transport_forward, the twin of the XDP rule).
 */
#ifndef XWGP_HANDLER_H
#define XWGP_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "cookie_guard.h"
#include "dh_cache.h"
#include "hs_ring.h"
#include "local_addrs.h"
#include "nexthop.h"
#include "obfs.h"
#include "transport.h"
#include "wg_crypto.h"
#include "wgit.h"
#include "xwgp_abi.h"
#include "xwgp_agent_stats.h"

/* One UDP datagram as the handler sees it. */
struct handler_pkt {
	enum xwgp_side side; /* arrived on listen (client) or upstream (server) */
	struct xwgp_ep src; /* remote sender */
	struct xwgp_ep dst; /* our local address it was sent to */
	uint8_t *data; /* UDP payload; the handler rewrites it in place */
	size_t len;
	size_t cap; /* room in data (obfuscation may grow a packet) */
	bool via_xsk;
	bool obfs; /* arrived obfuscated (de-obfuscated before the handler) */
};

/* Send data from our local address `local` to `remote` on socket `side`. */
typedef int (*handler_send_fn)(void *ctx, enum xwgp_side side, const struct xwgp_ep *local,
			       const struct xwgp_ep *remote, const uint8_t *data, size_t len);
/* Our local address the kernel would use to reach remote (port left 0). */
typedef int (*handler_route_fn)(void *ctx, const struct xwgp_ep *remote, struct xwgp_ep *local);

/* An initiation between its cheap checks and its DH (the handshake ring, hs_ring.h). */
struct hs_item {
	struct handler_pkt pkt; /* data: msg */
	uint8_t msg[WG_INIT_LEN];
	int si; /* cfg->servers[] its MAC1 picked */
	bool mac2_ours;
	uint64_t now;
	/* The DH's results (a handshake thread writes them). */
	enum wg_init_result r;
	uint8_t client_pub[32], tai64n[12];
};

/* Sessions whose agent counters one batch accumulates at most (then they are written). */
#define HANDLER_ACC 64

/* One session's share of the batch (handler_acc.c). */
struct handler_acc {
	uint32_t client_proxy; /* the session */
	struct wgit_agent_delta d;
};

struct handler {
	const struct xwgp_server_config *cfg;
	struct wg_server_key *keys; /* one per cfg->servers[] */
	struct dh_cache dh_cache; /* static-static DH per (server, client) key; see reload_apply */
	struct wgit wgit;
	uint16_t listen_port; /* host order */
	uint16_t upstream_port;
	/* Called on the event loop only (handshake threads run nothing but DHs). */
	handler_send_fn send;
	handler_route_fn route;
	void *io_ctx;
	/* Our addresses (wildcard claims, martian sources); NULL: none known. */
	const struct local_addrs *local;
	/* Next hops XDP uses where the host does not forward; NULL: none. */
	struct nexthops *nexthops;
	uint64_t stats[XWGP_AGENT_STAT__MAX];
	/* Obfuscation (cfg->obfs set): the key, and where replies to obfs clients are encoded. */
	bool obfs;
	struct obfs_key obfs_key;
	uint8_t *obfs_buf; /* HANDLER_OBFS_BUF_LEN bytes */
	struct cookie_guard guard; /* our own cookie replies under load */
	/*
	 * Handshake threads (cfg->handshake_threads): with batch set (the
	 * server's event loop), initiations that passed their cheap checks go
	 * into the ring (items: its HS_RING_SLOTS entries, by slot); the
	 * threads run their DHs, and the loop finishes them in arrival order
	 * (handler_collect, handler_flush): peer, replay check, admission,
	 * MACs, the send. Everything but the DH stays on the loop, so the
	 * maps have one writer. Without batch (tests, fuzzing) every
	 * initiation completes at once.
	 */
	struct hs_ring *ring;
	struct hs_item *items;
	bool batch;
	uint64_t dh_hits_seen, dh_misses_seen; /* the DH cache's counters as last counted */
	/*
	 * With batch set, the agent's per-session counters and seen times of
	 * transport from current endpoints add up here and are written once
	 * per session per batch by handler_flush() (docs/DESIGN.md section 2, "Batches").
	 */
	unsigned int n_acc, acc_hint;
	struct handler_acc acc[HANDLER_ACC];
};

/*
 * One static-static DH per (server key, client key) pair the peer-state map
 * can track (about 7 MiB); beyond that the least recently used is recomputed.
 */
#define HANDLER_DH_CACHE_ENTRIES XWGP_MAX_PEERS_DEFAULT

/* Largest UDP payload plus what obfuscation may add to it. */
#define HANDLER_OBFS_BUF_LEN (65535 + OBFS_MAX_OVERHEAD)

/* Derive the server keys (and the obfs key) from cfg; wipe with handler_fini. */
int handler_init(struct handler *h, const struct xwgp_server_config *cfg,
		 const struct xwgp_maps *maps);
void handler_fini(struct handler *h);
/*
 * Obfuscation password (NULL: off), e.g. after a config reload; the XDP
 * side reads the key from the cfg map. 0 or -ENOMEM (then unchanged).
 */
int handler_set_obfs(struct handler *h, const char *password);

void handler_packet(struct handler *h, struct handler_pkt *p);
/*
 * The end of a receive batch (h->batch): write the sessions' accumulated
 * agent counters, then finish the initiations whose DH is done, in arrival
 * order, without waiting for the others (with no handshake thread but the
 * loop, it runs their DHs now). The caller then sends what was queued.
 */
void handler_collect(struct handler *h);
/* As handler_collect, and every initiation in the ring is finished too (waiting for DHs). */
void handler_flush(struct handler *h);
/*
 * Finish what the ring holds and start it again with n_threads handshake
 * threads (hs_ring_init). The config's handshake_threads takes a restart;
 * this is for tests. 0 or -errno (then no ring: initiations complete at once).
 */
int handler_ring_restart(struct handler *h, unsigned int n_threads);
/* The handshake ring's eventfd (hs_ring.h), -1 without handshake threads; and its arm/ack. */
int handler_ring_fd(const struct handler *h);
/* Initiations wait for a DH no thread has taken: the loop should collect again without sleeping. */
bool handler_ring_untaken(const struct handler *h);
void handler_ring_arm(struct handler *h);
void handler_ring_ack(struct handler *h);

/*
 * handler_acc.c: count one forwarded transport packet of session s from its
 * current endpoint (side c2s or not) into the batch; write every session's
 * total (wgit_agent_account, one map write per session).
 */
void handler_acc_add(struct handler *h, const struct xwgp_session *s, bool c2s, size_t len,
		     uint64_t now_ns);
void handler_acc_flush(struct handler *h);
/*
 * A whole frame from AF_XDP (handler_frame.c): parsed, then handler_packet().
 * Returns true, without handling it, when the frame may wait for a second
 * pass over its batch (under load, a zero-MAC2 initiation while !last: see
 * xsk_rx_deliver); false when it was handled (or dropped).
 */
bool handler_frame(struct handler *h, uint8_t *frame, size_t len, bool last);

#endif
