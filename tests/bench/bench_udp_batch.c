// SPDX-License-Identifier: GPL-2.0
/*
 * What the agent's sends cost (agent/udp_batch.c), on loopback: CPU time
 * per datagram of one thread sending runs of UDP_BATCH same-size datagrams
 * to one destination (one flow, as the agent path forwards it) three ways:
 * one sendmsg each (the agent before batching), one sendmmsg per run, and
 * sendmmsg with the run merged into one UDP GSO message. The sends include
 * what the kernel does for them in the sender's context (loopback delivers
 * in it); a reader drains the receiving socket between runs, outside the
 * measured time, and checks that every datagram arrived.
 *
 *   bench_udp_batch [--len BYTES] [--runs N]
 *
 * Result: one JSON object on stdout (id agent.send).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "addr.h"
#include "udp_batch.h"
#include "udp_io.h"

enum mode { M_SENDMSG, M_SENDMMSG, M_GSO, M__MAX };
static const char *const mode_name[M__MAX] = { "sendmsg", "sendmmsg", "gso" };

static uint64_t thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Receive n datagrams from fd (len bytes each); false when some never came. */
static bool drain(struct udp_rxb *rx, int fd, int n, size_t len)
{
	int got = 0;

	for (int idle = 0; got < n && idle < 1000;) {
		int k = udp_rxb_recv(rx, fd);

		if (k <= 0) {
			idle++;
			usleep(100);
			continue;
		}
		for (int i = 0; i < k; i++)
			if (rx->msgs[i].msg_len != len)
				return false;
		got += k;
	}
	return got == n;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "len", required_argument, NULL, 'l' },
		{ "runs", required_argument, NULL, 'r' },
		{},
	};
	struct xwgp_ep any = { 0 }, to, from;
	size_t len = 128;
	int runs = 2000, c, a, b;
	uint16_t pa, pb;
	uint8_t msg[2048];
	double ns[M__MAX];
	struct udp_rxb rx;
	struct udp_txq q;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'l')
			len = strtoul(optarg, NULL, 0);
		else if (c == 'r')
			runs = atoi(optarg);
		else
			return 2;
	}
	if (len < 32 || len > sizeof(msg) || runs < 1)
		return 2;
	memset(msg, 0x44, sizeof(msg));
	a = udp_open(&any, &pa);
	b = udp_open(&any, &pb);
	if (a < 0 || b < 0 || udp_rxb_init(&rx, 4096)) {
		fprintf(stderr, "bench_udp_batch: sockets: %s\n", strerror(a < 0 ? -a : -b));
		return 1;
	}
	xwgp_ep_set_ip4(&to, htonl(INADDR_LOOPBACK), htons(pb));
	xwgp_ep_set_ip4(&from, htonl(INADDR_LOOPBACK), 0);
	for (int m = 0; m < M__MAX; m++) {
		uint64_t spent = 0, segs = 0;

		if (udp_txq_init(&q, a, 256 * 1024, m == M_GSO))
			return 1;
		for (int r = 0; r < runs; r++) {
			uint64_t t0 = thread_ns();

			for (int i = 0; i < UDP_BATCH; i++) {
				if (m == M_SENDMSG)
					udp_send(a, &from, &to, msg, len);
				else
					udp_txq_add(&q, &from, &to, msg, len);
			}
			if (m != M_SENDMSG)
				udp_txq_flush(&q);
			spent += thread_ns() - t0;
			if (!drain(&rx, b, UDP_BATCH, len)) {
				fprintf(stderr, "bench_udp_batch: %s: datagrams lost or cut\n",
					mode_name[m]);
				return 1;
			}
		}
		segs = q.gso_segs;
		if (m == M_GSO && !segs)
			fprintf(stderr, "bench_udp_batch: the kernel refused UDP GSO here\n");
		udp_txq_free(&q);
		ns[m] = (double)spent / ((double)runs * UDP_BATCH);
		fprintf(stderr, "# %s: %.0f ns CPU per datagram\n", mode_name[m], ns[m]);
	}
	printf("{\"id\":\"agent.send\",\"len\":%zu,\"batch\":%d,\"runs\":%d,\"sendmsg_ns\":%.1f,"
	       "\"sendmmsg_ns\":%.1f,\"gso_ns\":%.1f}\n",
	       len, UDP_BATCH, runs, ns[M_SENDMSG], ns[M_SENDMMSG], ns[M_GSO]);
	udp_rxb_free(&rx);
	close(a);
	close(b);
	return 0;
}
