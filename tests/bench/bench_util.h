/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the benchmark drivers (tests/bench/bench_*.c): building
 * complete Ethernet/IP/UDP frames with correct checksums (what a real peer
 * sends), endpoints in the ABI's layout, clocks, shell commands and JSON
 * result lines. Header-only: each driver is one translation unit.
 *
 * Every driver prints its results as one JSON object per line on stdout
 * ({"id": ..., ...}); tests/bench/run.sh collects them into the table.
 */
#ifndef XWGP_BENCH_UTIL_H
#define XWGP_BENCH_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wg_proto.h"
#include "xwgp_abi.h"

#define BENCH_FRAME_CAP 2048

struct bench_frame {
	uint8_t b[BENCH_FRAME_CAP];
	size_t len;
};

/* One UDP datagram to build: addresses are IP literals, a ':' makes it IPv6. */
struct bench_udp_spec {
	uint8_t smac[6], dmac[6];
	const char *src, *dst;
	uint16_t sport, dport; /* host order */
	uint8_t ttl;
	const uint8_t *payload;
	size_t payload_len;
};

static inline uint64_t bench_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void bench_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void bench_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static inline uint32_t bench_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* "aa:bb:cc:dd:ee:ff" -> 6 bytes; 0 or -EINVAL. */
static inline int bench_parse_mac(uint8_t out[6], const char *s)
{
	unsigned int m[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		out[i] = m[i];
	return 0;
}

/* MAC of an interface of the current network namespace (sysfs may show another). */
static inline int bench_if_mac(uint8_t out[6], const char *ifname)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return -EINVAL;
	strcpy(ifr.ifr_name, ifname);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(out, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

/* RFC 1071 sum of big-endian 16-bit words. */
static inline uint32_t bench_sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static inline uint16_t bench_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* A complete frame, IPv4 header and UDP checksums computed in full. 0 or -EINVAL. */
static inline int bench_build_udp(struct bench_frame *f, const struct bench_udp_spec *s)
{
	bool v6 = strchr(s->src, ':');
	size_t ulen = 8 + s->payload_len, ip_len = v6 ? 40 : 20;
	uint8_t *eth = f->b, *ip = eth + 14, *udp = ip + ip_len;
	uint32_t sum;
	uint16_t c;

	if (14 + ip_len + ulen > sizeof(f->b))
		return -EINVAL;
	memset(f, 0, sizeof(*f));
	memcpy(eth, s->dmac, 6);
	memcpy(eth + 6, s->smac, 6);
	bench_put16(eth + 12, v6 ? 0x86dd : 0x0800);
	if (v6) {
		ip[0] = 0x60;
		bench_put16(ip + 4, ulen);
		ip[6] = IPPROTO_UDP;
		ip[7] = s->ttl;
		if (inet_pton(AF_INET6, s->src, ip + 8) != 1 ||
		    inet_pton(AF_INET6, s->dst, ip + 24) != 1)
			return -EINVAL;
		sum = bench_sum16(ip + 8, 32, ulen + IPPROTO_UDP);
	} else {
		uint8_t tail[4] = { 0, IPPROTO_UDP, ulen >> 8, ulen };

		ip[0] = 0x45;
		bench_put16(ip + 2, 20 + ulen);
		bench_put16(ip + 6, 0x4000); /* DF */
		ip[8] = s->ttl;
		ip[9] = IPPROTO_UDP;
		if (inet_pton(AF_INET, s->src, ip + 12) != 1 ||
		    inet_pton(AF_INET, s->dst, ip + 16) != 1)
			return -EINVAL;
		bench_put16(ip + 10, ~bench_fold(bench_sum16(ip, 20, 0)));
		sum = bench_sum16(tail, 4, bench_sum16(ip + 12, 8, 0));
	}
	bench_put16(udp, s->sport);
	bench_put16(udp + 2, s->dport);
	bench_put16(udp + 4, ulen);
	memcpy(udp + 8, s->payload, s->payload_len);
	c = ~bench_fold(bench_sum16(udp, ulen, sum));
	bench_put16(udp + 6, c ? c : 0xffff);
	f->len = 14 + ip_len + ulen;
	return 0;
}

/*
 * A WireGuard transport message of len bytes (>= 32) as a client sends it:
 * header, receiver index, counter, then ciphertext and tag (random-looking
 * bytes: nothing on the path may look inside).
 */
static inline void bench_transport_msg(uint8_t *m, size_t len, uint32_t receiver, uint64_t counter)
{
	for (size_t i = 0; i < len; i++)
		m[i] = (uint8_t)(i * 167 + 13);
	m[0] = WG_MSG_TRANSPORT;
	m[1] = m[2] = m[3] = 0;
	bench_put_le32(m + WG_TRANSPORT_OFF_RECEIVER, receiver);
	for (int i = 0; i < 8; i++)
		m[8 + i] = counter >> (8 * i);
}

/* An endpoint in the ABI layout (IPv4 stored IPv4-mapped). */
static inline struct xwgp_ep bench_ep(const char *ip, uint16_t port)
{
	struct xwgp_ep e = { .port = htons(port) };

	if (strchr(ip, ':')) {
		inet_pton(AF_INET6, ip, e.addr);
		e.family = XWGP_FAMILY_IPV6;
	} else {
		e.addr[2] = htonl(0xffff);
		inet_pton(AF_INET, ip, &e.addr[3]);
		e.family = XWGP_FAMILY_IPV4;
	}
	return e;
}

/* Run a shell command; its output is discarded unless it fails. */
static inline int bench_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc)
		fprintf(stderr, "bench: `%s' failed (status %d)\n", cmd, rc);
	return rc ? -EIO : 0;
}

static inline int bench_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

/* Progress and diagnostics go to stderr as "# ..." lines; stdout is results only. */
__attribute__((format(printf, 1, 2))) static inline void bench_log(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#endif /* XWGP_BENCH_UTIL_H */
