// SPDX-License-Identifier: GPL-2.0
/*
 * udp_seq: numbered UDP datagrams in bursts, and a receiver that checks
 * they all arrived in order (tests/e2e/server_suite.sh: through a real
 * tunnel, so the agent's batched sends are proven not to reorder or lose).
 *
 *   udp_seq recv --listen IP:PORT --count N [--timeout SEC]
 *       Print one JSON line once N datagrams came or SEC (default 10) passed
 *       since the last: received, in_order (each number one more than the
 *       one before), reordered (numbers below one already seen), lost.
 *   udp_seq send --to IP:PORT --count N [--burst B] [--gap-us US] [--len BYTES]
 *       N datagrams numbered 0..N-1 (first 4 bytes, big-endian; the rest a
 *       pattern of the number), B at once with one sendmmsg, US between bursts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_BURST 256
#define MAX_LEN	  1400

static int parse_ep(const char *s, struct sockaddr_in *sin)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, colon - s);
	host[colon - s] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

static void fill(uint8_t *b, size_t len, uint32_t n)
{
	uint32_t be = htonl(n);

	memcpy(b, &be, 4);
	for (size_t i = 4; i < len; i++)
		b[i] = (uint8_t)(n * 31 + i);
}

static int do_recv(const struct sockaddr_in *at, unsigned int count, int timeout)
{
	unsigned int received = 0, in_order = 1, reordered = 0, bad = 0;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), size = 8 << 20;
	uint8_t buf[MAX_LEN + 64], want[MAX_LEN + 64];
	long long last = -1;

	if (fd < 0 || bind(fd, (const struct sockaddr *)at, sizeof(*at))) {
		perror("udp_seq recv: bind");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	printf("ready\n");
	fflush(stdout);
	while (received < count) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		uint32_t v;

		if (poll(&p, 1, timeout * 1000) <= 0)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 4)
			continue;
		memcpy(&v, buf, 4);
		v = ntohl(v);
		fill(want, (size_t)n, v);
		bad += memcmp(buf, want, (size_t)n) != 0;
		received++;
		if ((long long)v <= last) {
			reordered++;
			in_order = 0;
		} else {
			if ((long long)v != last + 1)
				in_order = 0;
			last = v;
		}
	}
	printf("{\"received\":%u,\"in_order\":%s,\"reordered\":%u,\"corrupt\":%u,\"lost\":%u,"
	       "\"last\":%lld}\n",
	       received, in_order ? "true" : "false", reordered, bad, count - received, last);
	close(fd);
	return 0;
}

static int do_send(const struct sockaddr_in *to, unsigned int count, unsigned int burst,
		   unsigned int gap_us, size_t len)
{
	static uint8_t bufs[MAX_BURST][MAX_LEN];
	struct mmsghdr msgs[MAX_BURST];
	struct iovec iov[MAX_BURST];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned int next = 0;

	if (fd < 0 || connect(fd, (const struct sockaddr *)to, sizeof(*to))) {
		perror("udp_seq send: connect");
		return 1;
	}
	while (next < count) {
		unsigned int n = count - next < burst ? count - next : burst, done = 0;

		for (unsigned int i = 0; i < n; i++) {
			fill(bufs[i], len, next + i);
			iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = len };
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		while (done < n) {
			int k = sendmmsg(fd, msgs + done, n - done, 0);

			if (k < 0 && errno != EINTR && errno != ENOBUFS && errno != EAGAIN) {
				perror("udp_seq send: sendmmsg");
				return 1;
			}
			/* A full queue waits: a number is never skipped. */
			if (k > 0)
				done += (unsigned int)k;
			else
				usleep(100);
		}
		next += n;
		if (gap_us)
			usleep(gap_us);
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "to", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'c' },
		{ "burst", required_argument, NULL, 'b' },
		{ "gap-us", required_argument, NULL, 'g' },
		{ "len", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 'T' },
		{},
	};
	unsigned int count = 0, burst = 64, gap = 2000;
	int timeout = 10, c;
	size_t len = 200;
	const char *ep = NULL;
	struct sockaddr_in sin;

	if (argc < 2)
		return 2;
	while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
		case 't':
			ep = optarg;
			break;
		case 'c':
			count = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'b':
			burst = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'g':
			gap = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'n':
			len = strtoul(optarg, NULL, 0);
			break;
		case 'T':
			timeout = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!ep || parse_ep(ep, &sin) || !count || !burst || burst > MAX_BURST || len < 4 ||
	    len > MAX_LEN) {
		fprintf(stderr, "udp_seq: bad arguments\n");
		return 2;
	}
	if (!strcmp(argv[1], "recv"))
		return do_recv(&sin, count, timeout);
	if (!strcmp(argv[1], "send"))
		return do_send(&sin, count, burst, gap, len);
	return 2;
}
