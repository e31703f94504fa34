// SPDX-License-Identifier: GPL-2.0
/*
 * Batched UDP I/O (agent/udp_batch.c) on loopback: the send queue keeps
 * each destination's order, merges runs into GSO messages, sends the rest
 * of a batch when one datagram is refused, and (with an arena) does not
 * care what happens to the caller's buffer before the flush.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "test.h"
#include "udp_batch.h"
#include "udp_io.h"

struct rx_side {
	int fd;
	uint16_t port;
	struct xwgp_ep ep;
};

static void side_open(struct rx_side *r)
{
	struct xwgp_ep any = { 0 };

	r->fd = udp_open(&any, &r->port);
	CHECK(r->fd >= 0, "udp_open: %d", r->fd);
	xwgp_ep_set_ip4(&r->ep, htonl(INADDR_LOOPBACK), htons(r->port));
}

/* A datagram numbered n: 4 bytes of n, then len - 4 bytes derived from it. */
static void numbered(uint8_t *b, size_t len, uint32_t n)
{
	memcpy(b, &n, 4);
	for (size_t i = 4; i < len; i++)
		b[i] = (uint8_t)(n + i);
}

/*
 * Read everything queued at r (waiting up to ~1 s for want datagrams) and
 * check the numbers are exactly first, first + step, ... (want of them),
 * each with its content, and that all want arrived.
 */
static void expect_seq(struct rx_side *r, struct udp_rxb *rx, uint32_t first, uint32_t step,
		       int want, size_t len)
{
	uint32_t next = first;
	int got = 0;

	for (int idle = 0; idle < 200 && got < want;) {
		int n = udp_rxb_recv(rx, r->fd);

		if (n <= 0) {
			idle++;
			usleep(5000);
			continue;
		}
		for (int i = 0; i < n; i++) {
			struct xwgp_ep src, dst;
			uint8_t *data, exp[2048];
			size_t dlen;
			uint32_t v;

			CHECK(udp_rxb_get(rx, i, r->port, &src, &dst, &data, &dlen), "truncated");
			CHECK(dlen == len, "datagram %d: %zu bytes, want %zu", got, dlen, len);
			memcpy(&v, data, 4);
			CHECK(v == next, "datagram %d: number %u, want %u (order)", got, v, next);
			numbered(exp, len, v);
			CHECK_MEM(data, exp, len);
			next += step;
			got++;
		}
	}
	CHECK(got == want, "%d of %d arrived", got, want);
}

/*
 * 3 destinations interleaved in runs, a copy arena, one buffer reused for
 * every datagram: every destination gets its datagrams in order, runs to
 * one destination become GSO messages (loopback offers GSO), and the queue
 * flushes by itself when full.
 */
TEST(order_kept_per_destination_with_gso_runs)
{
	struct rx_side r[3];
	struct xwgp_ep any = { 0 }, from;
	struct udp_txq q;
	struct udp_rxb rx;
	uint8_t buf[300];
	uint16_t pa;
	int a = udp_open(&any, &pa), total = 0;
	uint32_t n[3] = { 0, 0, 0 };

	CHECK(a >= 0);
	for (int i = 0; i < 3; i++)
		side_open(&r[i]);
	xwgp_ep_set_ip4(&from, htonl(INADDR_LOOPBACK), 0);
	CHECK(!udp_rxb_init(&rx, 2048));
	CHECK(!udp_txq_init(&q, a, 64 * 1024, true));
	/* Runs of 1..7 datagrams, cycling the destinations: 150 in all (> UDP_BATCH). */
	for (int run = 0; total < 150; run++) {
		int d = run % 3, len = run % 7 + 1;

		for (int k = 0; k < len && total < 150; k++, total++) {
			numbered(buf, sizeof(buf), n[d]++ * 3 + (uint32_t)d);
			CHECK(!udp_txq_add(&q, &from, &r[d].ep, buf, sizeof(buf)));
			memset(buf, 0xee, sizeof(buf)); /* the caller's buffer is reused at once */
		}
	}
	udp_txq_flush(&q);
	CHECK(q.errors == 0, "%llu refused", (unsigned long long)q.errors);
	CHECK(q.sent == 150, "sent %llu", (unsigned long long)q.sent);
	CHECK(q.gso_segs > 0, "no GSO message (loopback supports UDP GSO)");
	CHECK(q.calls < 150 / 2, "%llu send calls for 150 datagrams", (unsigned long long)q.calls);
	for (int d = 0; d < 3; d++)
		expect_seq(&r[d], &rx, (uint32_t)d, 3, (int)n[d], sizeof(buf));
	udp_txq_free(&q);
	udp_rxb_free(&rx);
	close(a);
	for (int i = 0; i < 3; i++)
		close(r[i].fd);
}

/* A shorter datagram ends a GSO run (it may be the last segment); a longer one starts a new one. */
TEST(sizes_split_runs_without_reordering)
{
	static const size_t lens[] = { 200, 200, 120, 200, 200, 300, 300, 300 };
	struct rx_side r;
	struct xwgp_ep any = { 0 };
	struct udp_txq q;
	struct udp_rxb rx;
	uint8_t buf[300];
	uint16_t pa;
	int a = udp_open(&any, &pa), got = 0;

	CHECK(a >= 0);
	side_open(&r);
	CHECK(!udp_rxb_init(&rx, 2048));
	CHECK(!udp_txq_init(&q, a, 64 * 1024, true));
	for (uint32_t i = 0; i < 8; i++) {
		numbered(buf, lens[i], i);
		CHECK(!udp_txq_add(&q, NULL, &r.ep, buf, lens[i]));
	}
	/* [200 200 120] [200 200] [300 300 300] */
	CHECK(q.n == 3 && q.n_iov == 8, "%u messages, %u datagrams", q.n, q.n_iov);
	udp_txq_flush(&q);
	CHECK(q.sent == 8 && q.errors == 0);
	for (int idle = 0; idle < 200 && got < 8;) {
		int n = udp_rxb_recv(&rx, r.fd);

		if (n <= 0) {
			idle++;
			usleep(5000);
			continue;
		}
		for (int i = 0; i < n; i++, got++) {
			uint32_t v;

			memcpy(&v, rx.iov[i].iov_base, 4);
			CHECK(v == (uint32_t)got && rx.msgs[i].msg_len == lens[got],
			      "datagram %d: number %u, %u bytes", got, v, rx.msgs[i].msg_len);
		}
	}
	CHECK(got == 8, "%d of 8 arrived", got);
	udp_txq_free(&q);
	udp_rxb_free(&rx);
	close(a);
	close(r.fd);
}

/*
 * Datagrams the kernel refuses (port 0: EINVAL), alone and as a whole GSO
 * run, in the middle of a batch: counted one by one, and everything queued
 * after them is still sent, in order.
 */
TEST(refused_datagrams_counted_rest_of_batch_sent)
{
	struct rx_side r;
	struct xwgp_ep any = { 0 }, bad;
	struct udp_txq q;
	struct udp_rxb rx;
	uint8_t buf[100];
	uint16_t pa;
	int a = udp_open(&any, &pa);
	uint32_t good = 0;
	unsigned int failed;

	CHECK(a >= 0);
	side_open(&r);
	xwgp_ep_set_ip4(&bad, htonl(INADDR_LOOPBACK), 0);
	CHECK(!udp_rxb_init(&rx, 2048));
	CHECK(!udp_txq_init(&q, a, 64 * 1024, true));
	for (int i = 0; i < 3; i++, good++) {
		numbered(buf, sizeof(buf), good);
		CHECK(!udp_txq_add(&q, NULL, &r.ep, buf, sizeof(buf)));
	}
	CHECK(!udp_txq_add(&q, NULL, &bad, buf, 50)); /* one refused datagram */
	numbered(buf, sizeof(buf), good++);
	CHECK(!udp_txq_add(&q, NULL, &r.ep, buf, sizeof(buf)));
	for (int i = 0; i < 5; i++)
		CHECK(!udp_txq_add(&q, NULL, &bad, buf, 60)); /* a refused GSO run */
	for (int i = 0; i < 4; i++, good++) {
		numbered(buf, sizeof(buf), good);
		CHECK(!udp_txq_add(&q, NULL, &r.ep, buf, sizeof(buf)));
	}
	CHECK(q.n == 5, "%u messages queued", q.n);
	failed = udp_txq_flush(&q);
	CHECK(failed == 6 && q.errors == 6, "refused %u (total %llu), want 6", failed,
	      (unsigned long long)q.errors);
	CHECK(q.sent == good, "sent %llu, want %u", (unsigned long long)q.sent, good);
	CHECK(q.gso, "EINVAL of one destination must not turn GSO off");
	expect_seq(&r, &rx, 0, 1, (int)good, sizeof(buf));
	/* The queue is usable after the failures. */
	numbered(buf, sizeof(buf), good);
	CHECK(!udp_txq_add(&q, NULL, &r.ep, buf, sizeof(buf)));
	CHECK(udp_txq_flush(&q) == 0);
	expect_seq(&r, &rx, good, 1, 1, sizeof(buf));
	udp_txq_free(&q);
	udp_rxb_free(&rx);
	close(a);
	close(r.fd);
}

/* A datagram larger than the arena is refused, not queued cut short. */
TEST(larger_than_arena_refused)
{
	struct udp_txq q;
	struct xwgp_ep to;
	uint8_t buf[512] = { 0 };

	xwgp_ep_set_ip4(&to, htonl(INADDR_LOOPBACK), htons(9));
	CHECK(!udp_txq_init(&q, -1, 256, true));
	CHECK(udp_txq_add(&q, NULL, &to, buf, sizeof(buf)) == -EMSGSIZE);
	CHECK(q.n == 0 && q.n_iov == 0);
	udp_txq_free(&q);
}

/* recvmmsg: a datagram larger than a slot is reported, not passed on cut short. */
TEST(rx_truncated_is_reported)
{
	struct rx_side r;
	struct xwgp_ep any = { 0 }, src, dst;
	struct udp_rxb rx;
	uint8_t big[600] = { 1 }, *data;
	uint16_t pa;
	size_t len;
	int a = udp_open(&any, &pa), n = 0;

	CHECK(a >= 0);
	side_open(&r);
	CHECK(!udp_rxb_init(&rx, 256));
	CHECK(!udp_send(a, NULL, &r.ep, big, sizeof(big)));
	CHECK(!udp_send(a, NULL, &r.ep, big, 100));
	for (int idle = 0; idle < 200 && n < 2; idle++) {
		int k = udp_rxb_recv(&rx, r.fd);

		if (k > 0) {
			CHECK(k == 2, "both in one batch: %d", k);
			n = k;
		} else {
			usleep(5000);
		}
	}
	CHECK(n == 2);
	CHECK(!udp_rxb_get(&rx, 0, r.port, &src, &dst, &data, &len), "the large one is cut");
	CHECK(udp_rxb_get(&rx, 1, r.port, &src, &dst, &data, &len) && len == 100);
	CHECK(ntohs(dst.port) == r.port && dst.family == XWGP_FAMILY_IPV4, "local address");
	udp_rxb_free(&rx);
	close(a);
	close(r.fd);
}

TEST_MAIN()
