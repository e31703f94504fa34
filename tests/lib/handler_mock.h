/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A mock network for driving agent/handler.c in tests: records what the
 * handler sends, routes every backend through 198.51.100.1, sets up the
 * handler under test on the maps of the loaded (not attached) skeleton, and
 * small helpers for building WireGuard messages. Shared by
 * tests/bpf/test_handler.c and tests/bpf/test_handler_obfs.c.
 */
#ifndef XWGP_HANDLER_MOCK_H
#define XWGP_HANDLER_MOCK_H

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "addr.h"
#include "bpf_loader.h"
#include "config.h"
#include "handler.h"
#include "pkt.h"
#include "test.h"
#include "transport.h"
#include "wg_crypto.h"
#include "xwgp.skel.h"

/* What the handler sent last. */
struct sent {
	int count;
	enum xwgp_side side;
	struct xwgp_ep local, remote;
	uint8_t data[2048];
	size_t len;
};

/* handler_send_fn: ctx is a struct sent. */
static inline int mock_send(void *ctx, enum xwgp_side side, const struct xwgp_ep *local,
			    const struct xwgp_ep *remote, const uint8_t *data, size_t len)
{
	/* Sends come from one thread (the handshake threads only run DHs); the lock costs nothing. */
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	struct sent *s = ctx;

	pthread_mutex_lock(&mu);
	s->count++;
	s->side = side;
	s->local = *local;
	s->remote = *remote;
	s->len = len < sizeof(s->data) ? len : sizeof(s->data);
	memcpy(s->data, data, s->len);
	pthread_mutex_unlock(&mu);
	return 0;
}

static inline void ep4(struct xwgp_ep *ep, const char *ip, uint16_t port)
{
	uint32_t a = 0;

	inet_pton(AF_INET, ip, &a);
	xwgp_ep_set_ip4(ep, a, htons(port));
}

/* handler_route_fn: every backend is reached from 198.51.100.1. */
static inline int mock_route(void *ctx, const struct xwgp_ep *remote, struct xwgp_ep *local)
{
	(void)ctx;
	(void)remote;
	ep4(local, "198.51.100.1", 0);
	return 0;
}

static inline void keypair(uint8_t priv[32], uint8_t pub[32])
{
	randombytes_buf(priv, 32);
	wg_pubkey(pub, priv);
}

/*
 * The handler under test for the server config cfgtext (wiped here): on the
 * maps of the skeleton, loaded and never attached (kept in *skelp for the
 * test's life, for its map fds), listening on 51820, upstream port 51900, sending
 * into *sent and routing through mock_route(). 0, or -1 with errno set
 * where the library set it.
 */
static inline int mock_handler_up(struct handler *h, struct xwgp_server_config *cfg,
				  struct xwgp_maps *maps, struct xwgp_bpf **skelp, struct sent *sent,
				  char *cfgtext, size_t cfgsize)
{
	struct xwgp_bpf *skel = *skelp = xwgp_bpf__open_and_load();
	int err;

	if (!skel) {
		sodium_memzero(cfgtext, cfgsize);
		return -1;
	}
	xwgp_maps_from_skel(maps, skel);
	err = config_parse_server(cfgtext, "<test>", cfg);
	sodium_memzero(cfgtext, cfgsize);
	if (err || handler_init(h, cfg, maps))
		return -1;
	h->listen_port = 51820;
	h->upstream_port = 51900;
	h->send = mock_send;
	h->route = mock_route;
	h->io_ctx = sent;
	return 0;
}

/*
 * Start of every test: env (a struct with .ready, .sent and .h) is set up
 * once by setup() (0 or -1), or the test skips; then nothing is sent yet
 * and the handler's counters are 0, whatever the test before left.
 */
#define MOCK_HANDLER_REQUIRE(env, setup)                                                           \
	do {                                                                                       \
		if (!(env).ready && setup())                                                       \
			SKIP("cannot load the BPF object or set up (needs root): %s",              \
			     strerror(errno));                                                     \
		(env).ready = true;                                                                \
		memset(&(env).sent, 0, sizeof((env).sent));                                        \
		memset((env).h.stats, 0, sizeof((env).h.stats));                                   \
	} while (0)

/* The next TAI64N after *state: a real client's clock moves forward. */
/*
 * WGIT v2 assigns every proxy index: the client proxy index of the live
 * session of wgit w that an initiation with sender index `origin' made
 * (0: none), and a session's server proxy index (0: none).
 */
static inline uint32_t mock_proxy_of(const struct wgit *w, uint32_t origin)
{
	struct xwgp_session s;
	uint32_t cursor = 0;

	while (wgit_session_next(w->maps, &cursor, &s))
		if (s.client_origin_index == origin)
			return s.client_proxy_index;
	return 0;
}

static inline uint32_t mock_srv_of(const struct wgit *w, uint32_t proxy)
{
	struct xwgp_session s;

	return wgit_session_get(w, proxy, &s) == 0 ? s.server_proxy_index : 0;
}

static inline void tai_next(uint8_t state[12], uint8_t out[12])
{
	for (int i = 11; i >= 0 && ++state[i] == 0; i--)
		;
	memcpy(out, state, 12);
}

#endif
