// SPDX-License-Identifier: GPL-2.0
/*
 * wg_forge: send hand-made UDP datagrams, from any source, for the
 * hardening tests (replay, source validation, malformed packets), and look
 * into captures.
 *
 *   wg_forge send [--raw] --src IP:PORT --dst IP:PORT [--count N] PAYLOAD
 *       Send PAYLOAD COUNT times (default 1). Without --raw, from a UDP
 *       socket bound to the source (an address of this host). With --raw,
 *       from a raw socket with a hand-built IPv4/IPv6 + UDP header (full
 *       checksums), so the source can be any address: a spoofed sender.
 *   wg_forge hex PAYLOAD
 *       Print PAYLOAD as hex (e.g. to see what a pcap: spec picks).
 *   wg_forge count PCAP [--contains HEX] [--port P]
 *       Print how many UDP datagrams of PCAP (to or from port P) have a
 *       payload containing HEX (every datagram without --contains).
 *
 * PAYLOAD is one of
 *   hex:HEX                 these bytes ("hex:" alone: an empty datagram)
 *   pcap:FILE:TYPE          the last UDP payload in FILE that starts with a
 *                           WireGuard header of TYPE (1-4): a captured message
 *   fill:LEN:HEX            LEN bytes: HEX, then 0xa5 up to LEN
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "pcap.h"

#define MAX_PAYLOAD 65507
#define FRAME_CAP   262144
#define FILL_BYTE   0xa5

struct payload {
	uint8_t b[MAX_PAYLOAD];
	size_t len;
};

static int unhex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > cap)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

/* The last UDP payload in path starting with a plain WireGuard header of type. */
static int from_pcap(const char *path, unsigned int type, struct payload *p)
{
	static uint8_t frame[FRAME_CAP];
	struct pcap_reader r;
	struct pcap_udp u;
	size_t len;
	int trunc, ret, found = 0;

	ret = pcap_open(&r, path);
	if (ret)
		return ret;
	while ((ret = pcap_next(&r, frame, sizeof(frame), &len, &trunc)) > 0) {
		if (trunc || pcap_parse_udp(r.linktype, frame, len, &u))
			continue;
		if (u.len < 4 || u.payload[0] != type || u.payload[1] || u.payload[2] ||
		    u.payload[3] || u.len > sizeof(p->b))
			continue;
		memcpy(p->b, u.payload, u.len);
		p->len = u.len;
		found = 1;
	}
	pcap_close(&r);
	if (ret < 0)
		return ret;
	return found ? 0 : -ENOENT;
}

static int parse_payload(const char *spec, struct payload *p)
{
	char path[4096];
	unsigned int type, len;
	size_t n;

	if (!strncmp(spec, "hex:", 4))
		return unhex(spec + 4, p->b, sizeof(p->b), &p->len);
	if (sscanf(spec, "fill:%u:", &len) == 1) {
		const char *hex = strchr(spec + 5, ':') + 1;

		if (len > sizeof(p->b) || unhex(hex, p->b, len, &n))
			return -EINVAL;
		memset(p->b + n, FILL_BYTE, len - n);
		p->len = len;
		return 0;
	}
	if (!strncmp(spec, "pcap:", 5)) {
		const char *colon = strrchr(spec, ':');

		if (colon == spec + 4 || (size_t)(colon - spec - 5) >= sizeof(path) ||
		    sscanf(colon + 1, "%u", &type) != 1)
			return -EINVAL;
		memcpy(path, spec + 5, colon - spec - 5);
		path[colon - spec - 5] = '\0';
		return from_pcap(path, type, p);
	}
	return -EINVAL;
}

/* ---- checksums and raw headers -------------------------------------------------- */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* IP + UDP header + payload into pkt; returns its length. */
static size_t build_raw(uint8_t *pkt, const struct xwgp_ep *src, const struct xwgp_ep *dst,
			const struct payload *p)
{
	bool v6 = src->family == XWGP_FAMILY_IPV6;
	size_t ihl = v6 ? 40 : 20, ulen = 8 + p->len;
	uint8_t *udp = pkt + ihl;
	uint32_t ps;
	uint16_t csum;

	memset(pkt, 0, ihl + 8);
	if (v6) {
		pkt[0] = 0x60;
		put16(pkt + 4, (uint16_t)ulen);
		pkt[6] = IPPROTO_UDP;
		pkt[7] = 64;
		memcpy(pkt + 8, src->addr, 16);
		memcpy(pkt + 24, dst->addr, 16);
		ps = sum16(pkt + 8, 32, (uint32_t)ulen + IPPROTO_UDP);
	} else {
		pkt[0] = 0x45;
		put16(pkt + 2, (uint16_t)(ihl + ulen));
		pkt[8] = 64;
		pkt[9] = IPPROTO_UDP;
		memcpy(pkt + 12, &src->addr[3], 4);
		memcpy(pkt + 16, &dst->addr[3], 4);
		put16(pkt + 10, fold(sum16(pkt, 20, 0)));
		ps = sum16(pkt + 12, 8, (uint32_t)ulen + IPPROTO_UDP);
	}
	memcpy(udp, &src->port, 2);
	memcpy(udp + 2, &dst->port, 2);
	put16(udp + 4, (uint16_t)ulen);
	memcpy(udp + 8, p->b, p->len);
	csum = fold(sum16(udp, ulen, ps));
	put16(udp + 6, csum ? csum : 0xffff);
	return ihl + ulen;
}

static int send_raw(const struct xwgp_ep *src, const struct xwgp_ep *dst, const struct payload *p,
		    unsigned int count)
{
	static uint8_t pkt[MAX_PAYLOAD + 48];
	bool v6 = src->family == XWGP_FAMILY_IPV6;
	struct sockaddr_storage ss;
	size_t len = build_raw(pkt, src, dst, p);
	socklen_t sl;
	int fd, on = 1;

	if (src->family != dst->family) {
		fprintf(stderr, "wg_forge: --raw needs source and destination of one family\n");
		return -EINVAL;
	}
	/* IPPROTO_RAW implies IP_HDRINCL for IPv4; IPv6 asks for it. */
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0 || (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_HDRINCL, &on, sizeof(on)))) {
		fprintf(stderr, "wg_forge: raw socket: %s\n", strerror(errno));
		return -errno;
	}
	xwgp_ep_to_sockaddr(dst, &ss, &sl);
	/* Raw IPv6 sockets want port 0 in the address (it is the protocol). */
	((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	if (!v6)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	for (unsigned int i = 0; i < count; i++) {
		if (sendto(fd, pkt, len, 0, (struct sockaddr *)&ss, sl) != (ssize_t)len) {
			fprintf(stderr, "wg_forge: sendto: %s\n", strerror(errno));
			close(fd);
			return -errno;
		}
	}
	close(fd);
	return 0;
}

static int send_udp(const struct xwgp_ep *src, const struct xwgp_ep *dst, const struct payload *p,
		    unsigned int count)
{
	struct sockaddr_storage ss, ds;
	socklen_t sl, dl;
	int fd, on = 1;

	if (src->family != dst->family) {
		fprintf(stderr, "wg_forge: source and destination of different families\n");
		return -EINVAL;
	}
	fd = socket(src->family == XWGP_FAMILY_IPV6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (xwgp_ep_to_sockaddr(src, &ss, &sl) || bind(fd, (struct sockaddr *)&ss, sl)) {
		fprintf(stderr, "wg_forge: bind: %s\n", strerror(errno));
		close(fd);
		return -EINVAL;
	}
	xwgp_ep_to_sockaddr(dst, &ds, &dl);
	for (unsigned int i = 0; i < count; i++) {
		if (sendto(fd, p->b, p->len, 0, (struct sockaddr *)&ds, dl) != (ssize_t)p->len) {
			fprintf(stderr, "wg_forge: sendto: %s\n", strerror(errno));
			close(fd);
			return -EIO;
		}
	}
	close(fd);
	return 0;
}

/* ---- commands ------------------------------------------------------------------------ */

static int cmd_send(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "raw", no_argument, NULL, 'r' },
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'c' },
		{},
	};
	static struct payload p;
	const char *src_s = NULL, *dst_s = NULL;
	struct xwgp_ep src, dst;
	unsigned int count = 1;
	bool raw = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			raw = true;
			break;
		case 's':
			src_s = optarg;
			break;
		case 'd':
			dst_s = optarg;
			break;
		case 'c':
			count = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		default:
			return 2;
		}
	}
	if (!src_s || !dst_s || optind != argc - 1) {
		fprintf(stderr, "usage: wg_forge send [--raw] --src IP:PORT --dst IP:PORT "
				"[--count N] PAYLOAD\n");
		return 2;
	}
	if (xwgp_ep_parse(src_s, XWGP_EP_PORT_ZERO, &src) || xwgp_ep_parse(dst_s, 0, &dst)) {
		fprintf(stderr, "wg_forge: bad endpoint `%s' or `%s'\n", src_s, dst_s);
		return 2;
	}
	ret = parse_payload(argv[optind], &p);
	if (ret) {
		fprintf(stderr, "wg_forge: payload `%s': %s\n", argv[optind], strerror(-ret));
		return 2;
	}
	ret = raw ? send_raw(&src, &dst, &p, count) : send_udp(&src, &dst, &p, count);
	return ret ? 1 : 0;
}

static int cmd_hex(int argc, char **argv)
{
	static struct payload p;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: wg_forge hex PAYLOAD\n");
		return 2;
	}
	ret = parse_payload(argv[1], &p);
	if (ret) {
		fprintf(stderr, "wg_forge: payload `%s': %s\n", argv[1], strerror(-ret));
		return 1;
	}
	for (size_t i = 0; i < p.len; i++)
		printf("%02x", p.b[i]);
	printf("\n");
	return 0;
}

static int cmd_count(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "contains", required_argument, NULL, 'c' },
		{ "port", required_argument, NULL, 'p' },
		{},
	};
	static uint8_t frame[FRAME_CAP];
	uint8_t needle[256];
	size_t nlen = 0, len;
	long port = -1, n = 0;
	struct pcap_reader r;
	struct pcap_udp u;
	int c, trunc, ret;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (unhex(optarg, needle, sizeof(needle), &nlen) || !nlen) {
				fprintf(stderr, "wg_forge: bad --contains `%s'\n", optarg);
				return 2;
			}
			break;
		case 'p':
			port = strtol(optarg, NULL, 0);
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: wg_forge count PCAP [--contains HEX] [--port P]\n");
		return 2;
	}
	ret = pcap_open(&r, argv[optind]);
	if (ret) {
		fprintf(stderr, "wg_forge: %s: %s\n", argv[optind], strerror(-ret));
		return 1;
	}
	while ((ret = pcap_next(&r, frame, sizeof(frame), &len, &trunc)) > 0) {
		if (pcap_parse_udp(r.linktype, frame, len, &u))
			continue;
		if (port >= 0 && u.sport != port && u.dport != port)
			continue;
		if (nlen && !memmem(u.payload, u.len, needle, nlen))
			continue;
		n++;
	}
	pcap_close(&r);
	printf("%ld\n", n);
	return ret < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "send"))
		return cmd_send(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "hex"))
		return cmd_hex(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "count"))
		return cmd_count(argc - 1, argv + 1);
	fprintf(stderr, "usage: wg_forge send|hex|count ... (see the comment at the top)\n");
	return 2;
}
