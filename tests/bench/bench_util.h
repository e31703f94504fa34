/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the benchmark drivers (tests/bench/bench_*.c): complete
 * Ethernet/IP/UDP frames with correct checksums (what a real peer sends;
 * the bytes and checksums come from tests/lib/pkt.h, as in the BPF tests),
 * WireGuard transport messages, clocks, shell commands and JSON result
 * lines. Header-only: each driver is one translation unit.
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

#include "clock.h"
#include "pkt.h"
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

/* A complete frame, IPv4 header and UDP checksums computed in full. 0 or -EINVAL. */
static inline int bench_build_udp(struct bench_frame *f, const struct bench_udp_spec *s)
{
	struct xwgp_ep src = pkt_ep(s->src, s->sport), dst = pkt_ep(s->dst, s->dport);
	const struct pkt_udp_opts o = { .dmac = s->dmac, .smac = s->smac, .ttl = s->ttl };
	int af = strchr(s->src, ':') ? AF_INET6 : AF_INET;
	uint8_t a[16];
	ssize_t n;

	/* pkt_ep() takes a literal on trust: both must parse, as one family. */
	if (inet_pton(af, s->src, a) != 1 || inet_pton(af, s->dst, a) != 1)
		return -EINVAL;
	n = pkt_udp_write(f->b, sizeof(f->b), &src, &dst, s->payload, s->payload_len, &o);
	if (n < 0)
		return n;
	f->len = n;
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
	put_le32(m + WG_TRANSPORT_OFF_RECEIVER, receiver);
	for (int i = 0; i < 8; i++)
		m[8 + i] = counter >> (8 * i);
}

/* The drivers' name for pkt_ep(): an endpoint in the ABI layout. */
static inline struct xwgp_ep bench_ep(const char *ip, uint16_t port)
{
	return pkt_ep(ip, port);
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
