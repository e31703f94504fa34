// SPDX-License-Identifier: GPL-2.0
/*
 * `xwgp server CONFIG`: open -> configure -> load -> attach -> run, and on
 * SIGTERM/SIGINT leave the program and maps pinned so transport keeps
 * flowing while no agent runs (docs/DESIGN.md section 7).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <sodium.h>

#include "bpf_loader.h"
#include "cache.h"
#include "cache_writer.h"
#include "cache_lock.h"
#include "clock.h"
#include "cmds.h"
#include "config.h"
#include "dh_batch.h"
#include "event.h"
#include "frame.h"
#include "fwd_check.h"
#include "handler.h"
#include "local_addrs.h"
#include "nexthop.h"
#include "log.h"
#include "metrics.h"
#include "pin_check.h"
#include "tc_attach.h"
#include "reload.h"
#include "udp_batch.h"
#include "udp_io.h"
#include "route_cache.h"
#include "xsk_rx.h"
#include "xwgp.skel.h"
#include "xwgp_hs_budget.h"
#include "xwgp_rl.h"

#define MAX_XSKS XWGP_MAX_XSKS
/* A slot of the UDP receive batch: any datagram (larger ones are TOO_BIG). */
#define RX_SLOT 65536
/* What one send queue may hold in copies: a batch of the largest datagrams we send. */
#define TX_ARENA (4 * HANDLER_OBFS_BUF_LEN)

struct server {
	struct xwgp_server_config cfg;
	struct xwgp_loader loader;
	struct handler h;
	struct local_addrs local; /* what a wildcard claims; martian sources */
	struct nexthops nexthops; /* XDP's next hops where the host does not forward */
	struct local_nl_hook nl_hook; /* local's socket hands nexthops its events */
	int listen_fd, upstream_fd;
	/* Route lookups of initiations (on the loop): a kept socket, and its answers cached. */
	struct udp_router router;
	struct route_cache route_cache; /* cleared on every netlink event */
	uint16_t listen_port, upstream_port;
	struct xsk_rx xsks[MAX_XSKS];
	int n_xsks;
	int epfd, sigfd, timerfd;
	struct metrics_server *metrics; /* metrics_listen; NULL: off */
	bool no_xsk;
	int xdp_mode_override; /* -1: none */
	const char *config_path;
	const char *cache_opt; /* --cache-file */
	char cache_path[PATH_MAX];
	int cache_lock_fd; /* one server per cache file (cache_lock.h) */
	/* Agent counters as last written to the pinned map. */
	uint64_t stats_synced[XWGP_AGENT_STAT__MAX];
	/* Counters that move when the table changes, as of the last cache write. */
	uint64_t cache_marks[5];
	bool cache_dirty;
	uint64_t cache_not_before_ns; /* CLOCK_BOOTTIME: no debounced write before */
	struct cache_writer cache_writer; /* writes the file off the loop */
	bool cfg_under_load; /* XWGP_CFG_UNDER_LOAD as last written */
	bool local_tc; /* XWGP_CFG_LOCAL_TC: the TC programs are attached (agent/tc_attach.h) */
	uint64_t xsk_busy_ns, xsk_frames; /* AF_XDP work since the last budget update */
	__u32 hs_refused; /* xwgp_hs_budget.refused at the last update ... */
	uint64_t hs_refused_ns; /* ... and when (0: never read) */
	/*
	 * Sends of one receive batch, per socket ([XWGP_SIDE_CLIENT]: listen,
	 * [XWGP_SIDE_SERVER]: upstream), flushed by batch_end(); copies, since
	 * AF_XDP frames go back to the kernel after their batch.
	 */
	struct udp_txq txq[2];
	struct udp_rxb rx; /* recvmmsg on the two UDP sockets */
};

/* Queued for batch_end(); refusals are counted there, per datagram. */
static int io_send(void *ctx, enum xwgp_side side, const struct xwgp_ep *local,
		   const struct xwgp_ep *remote, const uint8_t *data, size_t len)
{
	struct server *s = ctx;

	return udp_txq_add(&s->txq[side], local, remote, data, len);
}

/* Send what the batch queued, and count it: never blocks, never reorders a socket's datagrams. */
static void tx_flush(struct server *s)
{
	for (int side = 0; side < 2; side++) {
		struct udp_txq *q = &s->txq[side];

		if (q->n)
			udp_txq_flush(q);
		s->h.stats[XWGP_AGENT_STAT_SEND_ERRORS] += q->errors;
		s->h.stats[XWGP_AGENT_STAT_TX_SYSCALLS] += q->calls;
		s->h.stats[XWGP_AGENT_STAT_TX_GSO_SEGMENTS] += q->gso_segs;
		q->errors = q->calls = q->gso_segs = q->sent = 0;
	}
}

/*
 * The end of one receive batch (AF_XDP or recvmmsg): the sessions' counters
 * and the initiations whose DH is done (handler_collect), then its sends
 * (docs/DESIGN.md section 2, "Batches").
 */
static void batch_end(struct server *s)
{
	handler_collect(&s->h);
	tx_flush(s);
}

/* handler.route: the cached answer, else the kernel's (kept for the next initiations). */
static int io_route(void *ctx, const struct xwgp_ep *remote, struct xwgp_ep *local)
{
	struct server *s = ctx;
	uint64_t now = xwgp_now_ns();
	int err;

	if (route_cache_get(&s->route_cache, remote, now, local))
		return 0;
	err = udp_route_local_kept(&s->router, remote, local);
	if (!err)
		route_cache_put(&s->route_cache, remote, local, now);
	return err;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: xwgp server [OPTIONS] CONFIG.json\n"
		"\n"
		"Serve vanilla (and mwgp-obfuscated) WireGuard clients on the config's `listen'\n"
		"port and forward each to the backend chosen by its public key. Transport\n"
		"packets are forwarded in XDP on the config's `interface' list; handshakes go\n"
		"through this agent. On SIGTERM/SIGINT the XDP program and the maps stay pinned\n"
		"under `pin_path' so forwarding continues; `xwgp down' removes them.\n"
		"SIGHUP reloads CONFIG.json, keeping the sessions it still serves.\n"
		"\n"
		"The session table is also saved to a cache file (after changes, at most once\n"
		"a second, and on exit) and restored from it when the pinned maps are empty\n"
		"(after a reboot or `xwgp down'). Its path: --cache-file, else $XWGP_CACHE_FILE,\n"
		"else the config's `cache_file_path', else /var/cache/xwgp/<instance>.json\n"
		"for root ($XDG_CACHE_HOME/xwgp/ or ~/.cache/xwgp/ for other users).\n"
		"\n"
		"Options:\n"
		"  --cache-file PATH    the session cache file (see above)\n"
		"  --force-translation  no effect (accepted for old scripts): since WGIT v2 xwgp\n"
		"                       assigns and translates every index\n"
		"  --no-xsk             do not open AF_XDP sockets; punts reach the UDP socket\n"
		"  --xdp-mode MODE      override `xdp_mode': native, skb, auto or off\n"
		"  -v, --verbose        debug logging (same as `xwgp -v server')\n"
		"  -h, --help           this help\n");
}

static int setup_cfg_map(struct server *s)
{
	/* The per-source limits' keys and transport budget (include/xwgp_rl.h), per load. */
	struct xwgp_limits l = {
		.v6_prefix = s->cfg.punt_ipv6_prefix,
		.tpunt_rate_pps = s->cfg.tpunt_rate_pps,
		.tpunt_burst = s->cfg.tpunt_burst,
		.flags = s->cfg.tpunt_rate_pps ? 0 : XWGP_LIM_TPUNT_OFF,
	};
	struct xwgp_cfg c = {
		.abi_version = XWGP_ABI_VERSION,
		.punt_rate_pps = s->cfg.punt_rate_pps,
		.punt_burst = s->cfg.punt_burst,
		.max_packet_size = s->cfg.max_packet_size,
		.fib_cache_ms = s->cfg.fib_cache_ms,
	};
	__u32 key = 0;
	int err;

	c.listen = s->cfg.listen;
	c.listen.port = htons(s->listen_port);
	c.upstream = s->cfg.upstream;
	c.upstream.port = htons(s->upstream_port);
	if (s->h.guard.under_load)
		c.flags |= XWGP_CFG_UNDER_LOAD; /* bpf/hs_budget.h */
	if (s->local_tc)
		c.flags |= XWGP_CFG_LOCAL_TC; /* bpf/tc_local.h */
	s->cfg_under_load = s->h.guard.under_load;
	if (s->cfg.obfs) {
		c.flags |= XWGP_CFG_OBFS;
		crypto_hash_sha256(c.obfs_key, (const uint8_t *)s->cfg.obfs, strlen(s->cfg.obfs));
	}
	err = bpf_map_update_elem(s->loader.maps.cfg, &key, &c, BPF_ANY) ? -errno : 0;
	sodium_memzero(c.obfs_key, sizeof(c.obfs_key)); /* derived from the password */
	if (!err && bpf_map_update_elem(bpf_map__fd(s->loader.skel->maps.xwgp_limits), &key, &l, 0))
		err = -errno;
	return err;
}

static enum xwgp_attach_mode attach_mode(enum xwgp_xdp_mode m)
{
	switch (m) {
	case XWGP_XDP_SKB:
		return XWGP_ATTACH_SKB;
	case XWGP_XDP_AUTO:
		return XWGP_ATTACH_AUTO;
	default:
		return XWGP_ATTACH_NATIVE;
	}
}

static int setup_interfaces(struct server *s)
{
	int err;

	for (size_t i = 0; i < s->cfg.n_interfaces; i++) {
		const char *ifname = s->cfg.interfaces[i];
		struct bpf_devmap_val dv = {};
		__u32 ifindex = if_nametoindex(ifname);
		int nq;

		if (!ifindex) {
			pr_err("interface[%zu]: `%s': %s", i, ifname, strerror(errno));
			return -ENODEV;
		}
		err = xwgp_loader_attach(&s->loader, ifname, attach_mode(s->cfg.xdp_mode));
		if (err)
			return err;
		/* Allow redirects between our interfaces. */
		dv.ifindex = ifindex;
		if (bpf_map_update_elem(s->loader.maps.devmap, &ifindex, &dv, BPF_ANY))
			pr_warn("interface `%s': adding it to the devmap failed: %s", ifname,
				strerror(errno));
		if (s->no_xsk)
			continue;
		nq = xsk_rx_queue_count(ifname);
		if (nq > XWGP_MAX_QUEUES_PER_DEV) {
			pr_warn("interface `%s' has %d RX queues; AF_XDP on the first %d, "
				"the rest punt to the UDP socket",
				ifname, nq, XWGP_MAX_QUEUES_PER_DEV);
			nq = XWGP_MAX_QUEUES_PER_DEV;
		}
		for (int q = 0; q < nq && s->n_xsks < MAX_XSKS; q++) {
			err = xsk_rx_open(&s->xsks[s->n_xsks], ifname, q, s->loader.maps.xsks,
					  xsk_map_key(i, q));
			if (err) {
				pr_warn("interface `%s' queue %d: AF_XDP socket failed (%s); punts "
					"from it reach the UDP socket instead",
					ifname, q, strerror(-err));
				continue;
			}
			s->n_xsks++;
		}
		/* Tell XDP which xsk slot this interface uses. */
		{
			__u32 slot = i;

			if (bpf_map_update_elem(s->loader.maps.xsk_slot, &ifindex, &slot, BPF_ANY))
				pr_warn("interface `%s': xsk slot: %s", ifname, strerror(errno));
		}
	}
	return 0;
}

/* AF_XDP batches one socket may take per event-loop turn (drain_udp: 1024 datagrams). */
#define XSK_TURN_BATCHES 16

enum { TAG_LISTEN = 1, TAG_UPSTREAM, TAG_SIGNAL, TAG_TIMER, TAG_LOCAL, TAG_HS_DONE, TAG_XSK_BASE = 16 };

/* recvmmsg batches one socket may take per event-loop turn (1024 datagrams). */
#define UDP_TURN_BATCHES (1024 / UDP_BATCH)

static void drain_udp(struct server *s, int fd, enum xwgp_side side, uint16_t port)
{
	for (int b = 0; b < UDP_TURN_BATCHES; b++) {
		int n = udp_rxb_recv(&s->rx, fd);

		if (n < 0 && n != -EINTR)
			pr_debug("recvmmsg: %s", strerror(-n));
		for (int i = 0; i < n; i++) {
			struct handler_pkt p = { .side = side, .cap = s->rx.slot_size };

			if (!udp_rxb_get(&s->rx, i, port, &p.src, &p.dst, &p.data, &p.len)) {
				s->h.stats[XWGP_AGENT_STAT_TOO_BIG]++;
				continue;
			}
			handler_packet(&s->h, &p);
		}
		batch_end(s);
		if (n < UDP_BATCH)
			break;
	}
}

static bool on_xsk_frame(void *ctx, uint8_t *frame, size_t len, bool last)
{
	struct server *s = ctx;

	return handler_frame(&s->h, frame, len, last);
}

/* Continue the counters of the previous agent (they live in the pinned map). */
static void stats_load(struct server *s)
{
	for (__u32 i = 0; i < XWGP_AGENT_STAT__MAX; i++) {
		__u64 v;

		if (bpf_map_lookup_elem(s->loader.maps.agent_stats, &i, &v) == 0)
			s->h.stats[i] = s->stats_synced[i] = v;
	}
}

/*
 * Publish the counters that moved in the pinned map. Called after every
 * turn of the event loop, so even a SIGKILLed agent leaves them complete
 * for its successor: one system call for all of them (a batch update),
 * else (an older kernel, or an older agent's shorter array) one per
 * changed counter.
 */
static void stats_publish(struct server *s)
{
	__u32 keys[XWGP_AGENT_STAT__MAX], n = 0, done;
	__u64 vals[XWGP_AGENT_STAT__MAX];

	for (__u32 i = 0; i < XWGP_AGENT_STAT__MAX; i++) {
		if (s->h.stats[i] == s->stats_synced[i])
			continue;
		keys[n] = i;
		vals[n++] = s->h.stats[i];
	}
	if (!n)
		return;
	done = n;
	if (bpf_map_update_batch(s->loader.maps.agent_stats, keys, vals, &done, NULL))
		done = done < n ? done : 0; /* the first `done' went in (array: in key order) */
	for (__u32 k = 0; k < n; k++) {
		if (k >= done &&
		    bpf_map_update_elem(s->loader.maps.agent_stats, &keys[k], &vals[k], BPF_ANY))
			continue;
		s->stats_synced[keys[k]] = vals[k];
	}
}

/*
 * The session table changes exactly when one of these counters moves
 * (sessions and peer states created, established, given a cookie, roamed,
 * expired), so they tell whether the cache file is stale without the
 * handler tracking it. Counter and packet churn alone does not rewrite it.
 */
static const enum xwgp_agent_stat cache_mark_stats[] = {
	XWGP_AGENT_STAT_INIT_FORWARDED, XWGP_AGENT_STAT_RESP_FORWARDED,
	XWGP_AGENT_STAT_COOKIE_FORWARDED, XWGP_AGENT_STAT_ROAMED, XWGP_AGENT_STAT_EXPIRED,
};
_Static_assert(sizeof(cache_mark_stats) / sizeof(cache_mark_stats[0]) ==
		       sizeof(((struct server *)0)->cache_marks) /
			       sizeof(((struct server *)0)->cache_marks[0]),
	       "one mark per counter");

static void cache_marks_take(struct server *s)
{
	for (size_t i = 0; i < sizeof(cache_mark_stats) / sizeof(cache_mark_stats[0]); i++)
		s->cache_marks[i] = s->h.stats[cache_mark_stats[i]];
}

/*
 * Write the cache file if the table changed since the last write (or
 * always: at exit, waiting for it). The writing runs on cache_writer's
 * thread; spaced so that it takes at most a tenth of the time.
 */
#define CACHE_WRITE_SPACING 10

static void cache_sync(struct server *s, bool always)
{
	struct cache_writer *cw = &s->cache_writer;
	bool changed = s->cache_dirty;
	struct xwgp_cache c;
	uint64_t now;

	if (!s->cache_path[0])
		return;
	if (always)
		cache_writer_wait(cw);
	else if (cache_writer_busy(cw))
		return; /* still writing the last snapshot: the next tick looks again */
	if (cw->started) {
		/* The last write is done: space the next one by what it took. */
		cache_writer_wait(cw);
		s->cache_not_before_ns = xwgp_now_ns() + cw->took_ns * CACHE_WRITE_SPACING;
	}
	for (size_t i = 0; i < sizeof(cache_mark_stats) / sizeof(cache_mark_stats[0]); i++)
		changed |= s->cache_marks[i] != s->h.stats[cache_mark_stats[i]];
	now = xwgp_now_ns();
	if (!always && (!changed || now < s->cache_not_before_ns))
		return;
	/* On failure (logged) the next change retries: no warning every second. */
	if (cache_snapshot(&s->h.wgit, s->upstream_port, &c))
		return;
	cache_marks_take(s);
	s->cache_dirty = false;
	if (always) {
		cache_write_file(&c, &c.taken, s->cache_path);
		cache_free(&c);
		return;
	}
	if (cache_writer_start(cw, &c, s->cache_path)) {
		/* No thread: write here, as before the writer existed. */
		cache_write_file(&c, &c.taken, s->cache_path);
		cache_free(&c);
		s->cache_not_before_ns = now + (xwgp_now_ns() - now) * CACHE_WRITE_SPACING;
	}
}

/*
 * Once a second: the XDP budget for initiations without MAC2, from the
 * agent's measured cost; and while XDP refuses initiations, the flood goes
 * on: the agent stays under load (include/xwgp_hs_budget.h).
 */
static void hs_budget_update(struct server *s)
{
	int fd = bpf_map__fd(s->loader.skel->maps.xwgp_hs_budget);
	struct xwgp_hs_budget b = {};
	__u32 key = 0, limit = cookie_guard_xdp_budget(s->xsk_busy_ns, s->xsk_frames);
	uint64_t now;

	s->xsk_busy_ns = s->xsk_frames = 0;
	if (bpf_map_lookup_elem(fd, &key, &b))
		return;
	now = xwgp_now_ns();
	if (s->hs_refused_ns)
		cookie_guard_xdp_refused(&s->h.guard, now, (__u32)(b.refused - s->hs_refused),
					 now - s->hs_refused_ns, s->cfg.under_load_pps);
	s->hs_refused = b.refused;
	s->hs_refused_ns = now;
	if (limit && limit != b.limit) {
		b.limit = limit; /* XDP's concurrent counts may be lost: harmless */
		bpf_map_update_elem(fd, &key, &b, BPF_ANY);
	}
}

static void nh_msg(void *ctx, const struct nlmsghdr *nh)
{
	nexthops_on_msg(ctx, nh);
}

static void nh_lost(void *ctx)
{
	nexthops_lost(ctx);
}

static void nh_done(void *ctx)
{
	nexthops_settle(ctx, xwgp_now_ns());
}

/*
 * Next hops for XDP where the host does not forward (agent/nexthop.h),
 * kept from the events of the local-address socket. Without them XDP
 * punts as before: a warning, not a failure.
 */
static void nexthops_start(struct server *s)
{
	int err = nexthops_init(&s->nexthops, bpf_map__fd(s->loader.skel->maps.xwgp_nexthop));

	s->nl_hook = (struct local_nl_hook){ .msg = nh_msg, .lost = nh_lost, .done = nh_done,
					     .ctx = &s->nexthops };
	err = err ?: local_addrs_watch_routes(&s->local, &s->nl_hook);
	if (err) {
		pr_warn("next hops for XDP (hosts that do not forward): %s", strerror(-err));
		nexthops_fini(&s->nexthops);
	}
}

/*
 * Where every attached interface forwards, FWD_DISABLED never comes and the
 * agent resolves nothing: its punts (no neighbour yet, roaming, agent-only
 * benchmarks) need no next hop. Decided at start and on each reload, with
 * the warning (fwd_off: how many interface/family pairs have forwarding off).
 */
static void nexthops_use(struct server *s, int fwd_off)
{
	s->h.nexthops = s->nexthops.map_fd >= 0 && fwd_off > 0 ? &s->nexthops : NULL;
}

static void on_timer(struct server *s)
{
	uint64_t ticks;
	int n;

	if (read(s->timerfd, &ticks, sizeof(ticks)) < 0)
		return;
	hs_budget_update(s); /* first: it may extend the hold the tick would end */
	cookie_guard_tick(&s->h.guard, xwgp_now_ns(), s->h.stats);
	nexthops_tick(&s->nexthops, xwgp_now_ns());
	n = wgit_expire(&s->h.wgit, xwgp_now_ns(), (uint64_t)s->cfg.timeout_sec * NSEC_PER_SEC);
	if (n > 0) {
		s->h.stats[XWGP_AGENT_STAT_EXPIRED] += n;
		pr_debug("expired %d idle sessions", n);
	}
	/* Debounced: at most one cache write a second. */
	cache_sync(s, false);
}

static int setup_cfg_map(struct server *s);

/* SIGHUP: the same config file again; see reload.h for what may change. */
static void reload(struct server *s)
{
	struct xwgp_server_config next = {};
	int err, n;

	pr_info("SIGHUP: reloading %s", s->config_path);
	if (config_load_server(s->config_path, &next)) {
		pr_err("reload: %s has errors (above); keeping the running config",
		       s->config_path);
		return;
	}
	if (s->xdp_mode_override >= 0)
		next.xdp_mode = s->xdp_mode_override;
	if (!next.n_interfaces)
		next.xdp_mode = XWGP_XDP_OFF; /* as at start: nothing to attach to */
	reload_keep_restart_only(&s->cfg, &next);
	err = reload_apply(&s->h, &s->cfg, &next);
	config_free_server(&next); /* the old config, or the refused new one */
	if (err) {
		pr_err("reload: %s; keeping the running config", strerror(-err));
		return;
	}
	err = setup_cfg_map(s);
	if (err)
		pr_warn("reload: updating the config map failed: %s", strerror(-err));
	n = reload_prune(&s->h.wgit, &s->cfg);
	if (n < 0) {
		pr_warn("reload: pruning sessions failed: %s", strerror(-n));
		n = 0;
	}
	s->cache_dirty |= n > 0;
	if (s->cfg.xdp_mode != XWGP_XDP_OFF) /* a sysctl may have changed meanwhile */
		nexthops_use(s, fwd_check_warn(s->cfg.interfaces, s->cfg.n_interfaces,
					       s->nexthops.map_fd >= 0));
	pr_info("reload: now serving %zu server(s); removed %d session(s) the config no longer "
		"serves",
		s->cfg.n_servers, n);
}

static int run_loop(struct server *s)
{
	struct epoll_event evs[16];

	for (;;) {
		/* DHs nobody took yet: the loop takes its share after a look at its sockets. */
		int n = epoll_wait(s->epfd, evs, 16, handler_ring_untaken(&s->h) ? 0 : -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag == TAG_LISTEN) {
				drain_udp(s, s->listen_fd, XWGP_SIDE_CLIENT, s->listen_port);
			} else if (tag == TAG_UPSTREAM) {
				drain_udp(s, s->upstream_fd, XWGP_SIDE_SERVER, s->upstream_port);
			} else if (tag == TAG_TIMER) {
				on_timer(s);
			} else if (tag == TAG_HS_DONE) {
				handler_ring_ack(&s->h); /* the turn's end collects them */
			} else if (tag == TAG_LOCAL) {
				local_addrs_update(&s->local);
				/* An address, route or neighbour changed: routes are asked afresh. */
				route_cache_clear(&s->route_cache);
			} else if (tag == TAG_SIGNAL) {
				struct signalfd_siginfo si;

				if (read(s->sigfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					reload(s);
					continue;
				}
				pr_info("%s: leaving XDP and maps pinned; forwarding continues",
					strsignal(si.ssi_signo));
				return 0;
			} else if (tag >= TAG_XSK_BASE) {
				struct xsk_rx *x = &s->xsks[tag - TAG_XSK_BASE];
				uint64_t t0 = xwgp_now_ns();
				int got;

				/*
				 * A bounded share per turn: under a punt flood the
				 * ring never empties, and signals, the timer and the
				 * other queues must still get theirs. What is left
				 * keeps the socket readable (epoll is level-triggered).
				 */
				for (int b = 0; b < XSK_TURN_BATCHES; b++) {
					got = xsk_rx_poll(x, on_xsk_frame, s);
					batch_end(s); /* counters, the batch's DHs, its sends */
					s->xsk_frames += got;
					if (got < XSK_RX_BATCH)
						break;
				}
				s->xsk_busy_ns += xwgp_now_ns() - t0;
			}
		}
		/*
		 * Nothing queued may wait while the loop blocks; an initiation
		 * whose DH ends after this collect wakes it (hs_ring.h).
		 */
		handler_ring_arm(&s->h);
		batch_end(s);
		/* Tell XDP when the agent goes under load or leaves it. */
		if (s->h.guard.under_load != s->cfg_under_load && setup_cfg_map(s))
			pr_warn("updating the config map (under load) failed");
		stats_publish(s);
	}
}

/*
 * prefer_upstream: with an ephemeral `upstream', the port the sessions were
 * made with (pinned config map, or cache file): backends keep sending there.
 */
static int open_sockets(struct server *s, uint16_t prefer_upstream)
{
	struct xwgp_ep up = s->cfg.upstream;
	int fd;

	fd = udp_open(&s->cfg.listen, &s->listen_port);
	if (fd < 0) {
		pr_err("listen: cannot bind: %s", strerror(-fd));
		return fd;
	}
	s->listen_fd = fd;
	fd = -EADDRINUSE;
	if (!up.port && prefer_upstream && prefer_upstream != s->listen_port) {
		up.port = htons(prefer_upstream);
		fd = udp_open(&up, &s->upstream_port);
		if (fd < 0)
			pr_warn("upstream: the previous port %u is not free (%s); using a new one "
				"(backends follow it on the next packet)",
				prefer_upstream, strerror(-fd));
		up.port = 0;
	}
	if (fd < 0)
		fd = udp_open(&up, &s->upstream_port);
	if (fd < 0) {
		pr_err("upstream: cannot bind: %s", strerror(-fd));
		return fd;
	}
	s->upstream_fd = fd;
	if (s->upstream_port == s->listen_port) {
		pr_err("upstream port %u equals the listen port: the two index spaces must be "
		       "separate",
		       s->upstream_port);
		return -EINVAL;
	}
	pr_info("listening on port %u, upstream port %u", s->listen_port, s->upstream_port);
	return 0;
}

static int setup_events(struct server *s)
{
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	sigset_t mask;
	int err;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	s->sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	s->timerfd = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->sigfd < 0 || s->timerfd < 0 || s->epfd < 0)
		return -errno;
	timerfd_settime(s->timerfd, 0, &its, NULL);
	err = epoll_add(s->epfd, s->listen_fd, TAG_LISTEN);
	err = err ?: epoll_add(s->epfd, s->upstream_fd, TAG_UPSTREAM);
	err = err ?: epoll_add(s->epfd, s->sigfd, TAG_SIGNAL);
	err = err ?: epoll_add(s->epfd, s->timerfd, TAG_TIMER);
	err = err ?: epoll_add(s->epfd, local_addrs_fd(&s->local), TAG_LOCAL);
	for (int i = 0; !err && i < s->n_xsks; i++)
		err = epoll_add(s->epfd, xsk_rx_fd(&s->xsks[i]), TAG_XSK_BASE + i);
	if (!err && handler_ring_fd(&s->h) >= 0)
		err = epoll_add(s->epfd, handler_ring_fd(&s->h), TAG_HS_DONE);
	return err;
}

/* The upstream port of the previous agent, from the pinned config map (0: none). */
static uint16_t pinned_upstream_port(const struct server *s)
{
	struct xwgp_cfg c;
	__u32 key = 0;

	if (!s->loader.reused || bpf_map_lookup_elem(s->loader.maps.cfg, &key, &c) ||
	    c.abi_version != XWGP_ABI_VERSION)
		return 0;
	return ntohs(c.upstream.port);
}

static bool sessions_empty(const struct xwgp_maps *m)
{
	struct xwgp_session s;
	uint32_t cursor = 0;

	return !wgit_session_next(m, &cursor, &s);
}

/*
 * The upstream port changed across a restart (the config names another
 * one): sessions must send from the new port, where replies now arrive;
 * WireGuard backends follow our new source port on the next packet.
 */
static void sessions_move_upstream(struct server *s, uint16_t old_port)
{
	struct xwgp_session sess;
	uint32_t cursor = 0;
	int n = 0;

	while (wgit_session_next(&s->loader.maps, &cursor, &sess)) {
		if (ntohs(sess.server_local.port) != old_port)
			continue;
		sess.server_local.port = htons(s->upstream_port);
		n += wgit_session_put(&s->h.wgit, &sess) == 0;
	}
	pr_warn("upstream port changed from %u to %u: moved %d session(s) to the new port", old_port,
		s->upstream_port, n);
}

static int parse_args(struct server *s, int argc, char **argv, int *xdp_mode_override)
{
	static const struct option opts[] = {
		{ "force-translation", no_argument, NULL, 'F' },
		{ "cache-file", required_argument, NULL, 'c' },
		{ "no-xsk", no_argument, NULL, 'N' },
		{ "xdp-mode", required_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			log_level = LOG_DEBUG;
			break;
		case 'F':
			/* --force-translation: a no-op since WGIT v2 (see usage). */
			break;
		case 'c':
			s->cache_opt = optarg;
			break;
		case 'N':
			s->no_xsk = true;
			break;
		case 'm':
			if (!strcmp(optarg, "native"))
				*xdp_mode_override = XWGP_XDP_NATIVE;
			else if (!strcmp(optarg, "skb"))
				*xdp_mode_override = XWGP_XDP_SKB;
			else if (!strcmp(optarg, "auto"))
				*xdp_mode_override = XWGP_XDP_AUTO;
			else if (!strcmp(optarg, "off"))
				*xdp_mode_override = XWGP_XDP_OFF;
			else {
				pr_err("--xdp-mode: invalid mode `%s' (native, skb, auto, off)",
				       optarg);
				return -EINVAL;
			}
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return -EINVAL;
	}
	s->config_path = argv[optind];
	return 0;
}

int cmd_server(int argc, char **argv)
{
	struct xwgp_cache cache = {};
	struct cache_clock now;
	struct server *s;
	char pin_path[256];
	uint16_t old_upstream;
	int xdp_mode = -1, err, ret = 1, fwd_off = 0;

	s = calloc(1, sizeof(*s));
	if (!s)
		return 1;
	s->listen_fd = s->upstream_fd = s->epfd = s->sigfd = s->timerfd = s->cache_lock_fd = -1;
	s->local.nl_fd = -1;
	s->router = UDP_ROUTER_INIT;
	nexthops_init(&s->nexthops, -1);
	err = parse_args(s, argc, argv, &xdp_mode);
	if (err) {
		free(s);
		return err > 0 ? 0 : 2;
	}
	if (sodium_init() < 0 || wg_crypto_init()) {
		pr_err("libsodium failed to initialise");
		goto out_free;
	}
	if (config_load_server(s->config_path, &s->cfg))
		goto out_free;
	if (xdp_mode >= 0)
		s->cfg.xdp_mode = xdp_mode;
	s->xdp_mode_override = xdp_mode;
	err = cache_resolve_path(s->cache_path, sizeof(s->cache_path), s->cache_opt,
				 s->cfg.cache_file_path, s->cfg.instance);
	if (err) {
		pr_warn("no session cache file (%s): set --cache-file or XWGP_CACHE_FILE",
			strerror(-err));
		s->cache_path[0] = '\0';
	} else if ((s->cache_lock_fd = cache_lock(s->cache_path)) < 0) {
		goto out_cfg;
	}

	snprintf(pin_path, sizeof(pin_path), "%s", s->cfg.pin_path);
	err = xwgp_loader_load(&s->loader, pin_path, s->cfg.max_sessions);
	if (err)
		goto out_cfg;
	xwgp_warn_private_pins(pin_path);
	/* Pinned sessions are the truth; the cache only refills an empty table. */
	if (s->cache_path[0] && sessions_empty(&s->loader.maps)) {
		cache_clock_now(&now);
		if (cache_load(s->cache_path, &now, &cache) == 0)
			pr_info("session cache %s: %zu usable sessions, %zu peer states",
				s->cache_path, cache.n_sessions, cache.n_peers);
	}
	old_upstream = pinned_upstream_port(s);
	err = open_sockets(s, s->cfg.upstream.port ? 0 : old_upstream ?: cache.upstream_port);
	if (err)
		goto out_sockets;
	err = setup_cfg_map(s);
	if (err) {
		pr_err("writing the config map failed: %s", strerror(-err));
		goto out_sockets;
	}
	err = local_addrs_open(&s->local, bpf_map__fd(s->loader.skel->maps.xwgp_local_addr));
	if (err)
		goto out_sockets;
	s->h.wgit.maps = &s->loader.maps;
	s->h.wgit.node_id = s->cfg.node_id;
	s->h.wgit.node_bits = (uint8_t)s->cfg.node_id_bits;
	if (old_upstream && old_upstream != s->upstream_port)
		sessions_move_upstream(s, old_upstream);
	if (cache.n_sessions || cache.n_peers) {
		s->cache_dirty = cache_restore(&s->h.wgit, &cache, &s->cfg, s->upstream_port) > 0;
		cache_free(&cache);
		wgit_slots_free(&s->h.wgit); /* handler_init starts the wgit afresh */
	}
	if (s->cfg.xdp_mode != XWGP_XDP_OFF && !s->cfg.n_interfaces) {
		pr_warn("no `interface' configured: XDP is not attached and every packet goes "
			"through the agent (set `interface' to use the XDP fast path)");
		s->cfg.xdp_mode = XWGP_XDP_OFF;
	}
	if (s->cfg.xdp_mode != XWGP_XDP_OFF) {
		err = setup_interfaces(s);
		if (err)
			goto out_xsk;
		/* Local backends in the kernel; on failure the agent forwards them. */
		s->local_tc = !xwgp_tc_local_setup(&s->loader, s->cfg.interfaces,
						   s->cfg.n_interfaces);
		if (s->local_tc && setup_cfg_map(s))
			pr_warn("writing the config map failed: local backends stay with the agent");
		nexthops_start(s);
		fwd_off = fwd_check_warn(s->cfg.interfaces, s->cfg.n_interfaces,
					 s->nexthops.map_fd >= 0);
	} else {
		pr_info("xdp_mode off: every packet goes through the agent");
	}
	err = handler_init(&s->h, &s->cfg, &s->loader.maps);
	if (err)
		goto out_xsk;
	s->h.listen_port = s->listen_port;
	s->h.upstream_port = s->upstream_port;
	s->h.send = io_send;
	s->h.route = io_route;
	s->h.io_ctx = s;
	s->h.local = &s->local;
	nexthops_use(s, fwd_off);
	s->h.batch = true; /* DHs on the handshake threads, counters per batch: handler_flush() */
	err = udp_rxb_init(&s->rx, RX_SLOT);
	err = err ?: udp_txq_init(&s->txq[XWGP_SIDE_CLIENT], s->listen_fd, TX_ARENA, true);
	err = err ?: udp_txq_init(&s->txq[XWGP_SIDE_SERVER], s->upstream_fd, TX_ARENA, true);
	if (err) {
		pr_err("I/O buffers: %s", strerror(-err));
		goto out_handler;
	}
	stats_load(s);
	s->h.stats[XWGP_AGENT_STAT_UNDER_LOAD] = 0; /* a state: not the last agent's */
	cache_marks_take(s);
	err = setup_events(s);
	if (err) {
		pr_err("event setup failed: %s", strerror(-err));
		goto out_handler;
	}
	if (s->cfg.metrics_listen.port &&
	    metrics_start(&s->metrics, &s->cfg.metrics_listen, &s->loader.maps, s->cfg.instance,
			  config_xdp_mode_name(s->cfg.xdp_mode)))
		goto out_handler;
	pr_info("serving %zu server(s) on %zu interface(s), %d AF_XDP socket(s)", s->cfg.n_servers,
		s->cfg.xdp_mode == XWGP_XDP_OFF ? 0 : s->cfg.n_interfaces, s->n_xsks);
	/* Which X25519 runs decides the handshake rate (README "Benchmarks"): say it. */
	pr_info("handshakes on %u thread(s); X25519 %s", s->h.ring ? s->h.ring->n_workers + 1 : 1,
		dh_batch_lanes() ? "four at a time on AVX2 (three or more queued), else libsodium"
				 : "by libsodium, one at a time (this CPU has no AVX2)");
	err = run_loop(s);
	metrics_stop(s->metrics);
	cookie_guard_tick(&s->h.guard, UINT64_MAX, s->h.stats); /* no agent: not under load */
	if (s->cfg_under_load)
		setup_cfg_map(s);
	handler_flush(&s->h); /* every initiation in the handshake ring */
	tx_flush(s);
	stats_publish(s);
	cache_sync(s, true);
	ret = err ? 1 : 0;

out_handler:
	handler_fini(&s->h);
	tx_flush(s); /* what handler_fini() finished */
	udp_txq_free(&s->txq[XWGP_SIDE_CLIENT]);
	udp_txq_free(&s->txq[XWGP_SIDE_SERVER]);
	udp_rxb_free(&s->rx);
	udp_router_close(&s->router);
out_xsk:
	for (int i = 0; i < s->n_xsks; i++)
		xsk_rx_close(&s->xsks[i], s->loader.maps.xsks);
out_sockets:
	nexthops_fini(&s->nexthops);
	local_addrs_close(&s->local);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->upstream_fd >= 0)
		close(s->upstream_fd);
	xwgp_loader_close(&s->loader);
out_cfg:
	cache_unlock(s->cache_lock_fd);
	cache_free(&cache);
	config_free_server(&s->cfg);
out_free:
	free(s);
	return ret;
}
