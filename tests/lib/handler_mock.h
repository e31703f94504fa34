/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A mock network for driving agent/handler.c in tests: records what the
 * handler sends, routes every backend through 198.51.100.1, and small
 * helpers for building WireGuard messages. Shared by tests/bpf/test_handler.c
 * and tests/bpf/test_handler_obfs.c.
 */
#ifndef XWGP_HANDLER_MOCK_H
#define XWGP_HANDLER_MOCK_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "addr.h"
#include "transport.h"
#include "wg_crypto.h"

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
	struct sent *s = ctx;

	s->count++;
	s->side = side;
	s->local = *local;
	s->remote = *remote;
	s->len = len < sizeof(s->data) ? len : sizeof(s->data);
	memcpy(s->data, data, s->len);
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

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

/* The next TAI64N after *state: a real client's clock moves forward. */
static inline void tai_next(uint8_t state[12], uint8_t out[12])
{
	for (int i = 11; i >= 0 && ++state[i] == 0; i--)
		;
	memcpy(out, state, 12);
}

#endif
