// SPDX-License-Identifier: GPL-2.0
/*
 * wg_flood: send bogus WireGuard traffic at a fixed rate with sendmmsg(),
 * for the flood tests (tests/e2e/test_flood.sh).
 *
 *   wg_flood --dst IP:PORT --mode MODE [--src IP] [--rate PPS] [--seconds S]
 *            [--server-pub B64] [--client-priv B64] [--pool N] [--keys N]
 *            [--spoof CIDR --ifname IF --dst-mac MAC]
 *
 * Modes (each packet differs; a pool of --pool packets, default 4096, is
 * built first and cycled):
 *   random     4..200 random bytes that never start with a WireGuard header
 *   badmac     148-byte initiations (type 1, zero reserved bytes), random
 *              body and MAC1, so MAC1 matches no server
 *   mac1       as badmac, but MAC1 is computed for --server-pub: it passes
 *              the MAC1 check of that server, then fails to decrypt
 *   mac2       as mac1 with a random non-zero MAC2 (made with no cookie):
 *              what XDP must punt under load for the agent to check
 *   transport  type 4, random non-zero receiver index, 32..200 bytes
 *   init       valid initiations of the client key --client-priv to
 *              --server-pub: fresh ephemeral and sender index each, TAI64N
 *              timestamps growing by 1 us per packet (a pool sent once is
 *              all fresh; sent round again it is all replays); with
 *              --keys N instead, N random client keys take turns (the
 *              handshake benchmark: real, distinct keys)
 *
 * --spoof (IPv4): raw Ethernet frames on IF (AF_PACKET, qdisc bypassed) to
 * --dst-mac, from every address of CIDR in turn (the pool grows to at least
 * one packet per address), each with a random source port: many spoofed
 * sources, so no per-source limit applies.
 *
 * Pacing: every batch of 64 is sent once the clock says it is due, so the
 * rate holds without bursts above it; if the machine cannot keep up, it
 * sends as fast as it can and reports what it achieved. Prints (stdout):
 *   sent N        datagrams the kernel accepted
 *   errors N      sendmmsg failures (ENOBUFS, ...)
 *   seconds S     wall time of the flood
 *   rate PPS      N / S
 *   cpu S         this process's CPU time (user + system) while flooding:
 *                 what the generator itself costs (the pool is built before)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "byteorder.h"
#include "clock.h"
#include "addr.h"
#include "wg_crypto.h"
#include "wg_proto.h"

#define BATCH	     64
#define MAX_LEN	     200
#define HDR_LEN	     (14 + 20 + 8) /* Ethernet, IPv4, UDP (--spoof) */
#define POOL_DEFAULT 4096

enum mode { M_RANDOM, M_BADMAC, M_MAC1, M_TRANSPORT, M_INIT, M_MAC2 };

struct pool {
	uint8_t (*buf)[HDR_LEN + MAX_LEN];
	size_t *len;
	size_t n;
};

static bool plain_header(const uint8_t *p)
{
	return p[0] >= WG_MSG_INITIATION && p[0] <= WG_MSG_TRANSPORT && !p[1] && !p[2] && !p[3];
}

static size_t make_packet(enum mode m, uint8_t *p, const struct wg_mac_keys *mk)
{
	size_t len;

	switch (m) {
	case M_RANDOM:
		len = 4 + randombytes_uniform(MAX_LEN - 4 + 1);
		do
			randombytes_buf(p, len);
		while (plain_header(p));
		return len;
	case M_BADMAC:
	case M_MAC1:
	case M_MAC2:
		randombytes_buf(p, WG_INIT_LEN);
		put_le32(p, WG_MSG_INITIATION);
		if (m != M_MAC2)
			memset(p + WG_INIT_OFF_MAC2, 0, WG_MAC_LEN);
		else
			p[WG_INIT_OFF_MAC2] |= 1; /* never all zero */
		if (m != M_BADMAC)
			wg_mac(p + WG_INIT_OFF_MAC1, mk->mac1_key, p, WG_INIT_OFF_MAC1);
		return WG_INIT_LEN;
	case M_TRANSPORT:
		len = WG_TRANSPORT_MIN_LEN +
		      randombytes_uniform(MAX_LEN - WG_TRANSPORT_MIN_LEN + 1);
		randombytes_buf(p, len);
		put_le32(p, WG_MSG_TRANSPORT);
		put_le32(p + WG_TRANSPORT_OFF_RECEIVER, 1 + randombytes_uniform(UINT32_MAX));
		return len;
	case M_INIT:
		break; /* make_inits(): needs keys and the packet's place in the pool */
	}
	return 0;
}

static int parse_mode(const char *s, enum mode *m)
{
	static const char *const names[] = { "random", "badmac", "mac1", "transport", "init", "mac2" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*m = (enum mode)i;
			return 0;
		}
	fprintf(stderr, "wg_flood: unknown mode `%s' (random, badmac, mac1, transport, init, mac2)\n", s);
	return -EINVAL;
}

static void report(uint64_t sent, uint64_t errors, double secs)
{
	printf("sent %llu\nerrors %llu\nseconds %.3f\nrate %.0f\n", (unsigned long long)sent,
	       (unsigned long long)errors, secs, (double)sent / secs);
}

static void usage(void)
{
	fprintf(stderr, "usage: wg_flood --dst IP:PORT --mode random|badmac|mac1|transport|init|mac2 "
			"[--src IP] [--rate PPS] [--seconds S] [--server-pub B64] [--client-priv B64] "
			"[--pool N] [--keys N]\n"
			"\t[--spoof CIDR --ifname IF --dst-mac MAC]\n");
}

static int open_socket(const struct xwgp_ep *dst, const char *src)
{
	struct sockaddr_storage ss;
	struct xwgp_ep local;
	socklen_t sl;
	int fd, sndbuf = 4 << 20;

	fd = socket(dst->family == XWGP_FAMILY_IPV6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (src) {
		if (xwgp_ep_parse(src, XWGP_EP_HOST_ONLY, &local) ||
		    xwgp_ep_to_sockaddr(&local, &ss, &sl) || bind(fd, (struct sockaddr *)&ss, sl)) {
			fprintf(stderr, "wg_flood: cannot bind to `%s': %s\n", src,
				strerror(errno));
			close(fd);
			return -EINVAL;
		}
	}
	if (xwgp_ep_to_sockaddr(dst, &ss, &sl) || connect(fd, (struct sockaddr *)&ss, sl)) {
		fprintf(stderr, "wg_flood: cannot connect: %s\n", strerror(errno));
		close(fd);
		return -EINVAL;
	}
	return fd;
}

struct opts {
	const char *dst, *src, *pub, *cli_priv, *spoof, *ifname, *dst_mac;
	double rate, seconds;
	enum mode mode;
	size_t pool, keys;
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option opts[] = {
		{ "dst", required_argument, NULL, 'd' },
		{ "src", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 't' },
		{ "server-pub", required_argument, NULL, 'k' },
		{ "pool", required_argument, NULL, 'p' },
		{ "client-priv", required_argument, NULL, 'c' },
		{ "spoof", required_argument, NULL, 'S' },
		{ "ifname", required_argument, NULL, 'i' },
		{ "dst-mac", required_argument, NULL, 'M' },
		{ "keys", required_argument, NULL, 'K' },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->dst = optarg;
			break;
		case 's':
			o->src = optarg;
			break;
		case 'k':
			o->pub = optarg;
			break;
		case 'c':
			o->cli_priv = optarg;
			break;
		case 'r':
			o->rate = atof(optarg);
			break;
		case 't':
			o->seconds = atof(optarg);
			break;
		case 'p':
			o->pool = (size_t)atol(optarg);
			break;
		case 'S':
			o->spoof = optarg;
			break;
		case 'i':
			o->ifname = optarg;
			break;
		case 'M':
			o->dst_mac = optarg;
			break;
		case 'K':
			o->keys = (size_t)atol(optarg);
			break;
		case 'm':
			if (parse_mode(optarg, &o->mode))
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	if (o->spoof && (!o->ifname || !o->dst_mac))
		return -EINVAL;
	return o->dst && o->rate > 0 && o->seconds > 0 && o->pool ? 0 : -EINVAL;
}

/* TAI64N t plus us microseconds (big-endian seconds, then nanoseconds). */
static void tai_add_us(uint8_t t[12], uint64_t us)
{
	uint64_t sec = 0, ns = 0;

	for (int i = 0; i < 8; i++)
		sec = sec << 8 | t[i];
	for (int i = 8; i < 12; i++)
		ns = ns << 8 | t[i];
	ns += us * 1000;
	sec += ns / 1000000000;
	ns %= 1000000000;
	for (int i = 7; i >= 0; i--, sec >>= 8)
		t[i] = (uint8_t)sec;
	for (int i = 11; i >= 8; i--, ns >>= 8)
		t[i] = (uint8_t)ns;
}

/* --mode init: a real client's initiations, each newer than the one before. */
static int make_inits(struct pool *pool, const struct opts *o)
{
	uint8_t pub[32], eph[32], base[12], tai[12];
	size_t n_keys = o->keys ? o->keys : 1;
	uint8_t (*priv)[32] = sodium_allocarray(n_keys, 32);

	if (!priv)
		return -ENOMEM;
	if (!o->pub || wg_key_from_base64(pub, o->pub) ||
	    (!o->keys && (!o->cli_priv || wg_key_from_base64(priv[0], o->cli_priv)))) {
		fprintf(stderr, "wg_flood: --mode init needs a valid --server-pub and --client-priv "
				"or --keys\n");
		sodium_free(priv);
		return -EINVAL;
	}
	if (o->keys)
		randombytes_buf(priv, n_keys * 32);
	wg_tai64n_now(base);
	for (size_t i = 0; i < pool->n; i++) {
		memcpy(tai, base, sizeof(tai));
		tai_add_us(tai, i);
		randombytes_buf(eph, sizeof(eph));
		if (wg_create_initiation(pool->buf[i], priv[i % n_keys], pub,
					 1 + randombytes_uniform(UINT32_MAX), eph, tai, NULL)) {
			sodium_free(priv);
			return -EINVAL;
		}
		pool->len[i] = WG_INIT_LEN;
	}
	sodium_free(priv); /* wipes */
	sodium_memzero(eph, sizeof(eph));
	return 0;
}

/* The raw-frame side of --spoof. */
struct spoof {
	uint32_t base, count; /* host order */
	uint8_t src_mac[6], dst_mac[6];
	int ifindex;
};

static uint16_t csum16(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static int spoof_setup(struct spoof *sp, const struct opts *o)
{
	char ip[64];
	const char *slash = strchr(o->spoof, '/');
	unsigned int plen = slash ? (unsigned int)atoi(slash + 1) : 32;
	struct in_addr a;
	struct ifreq ifr = {};
	int fd;

	snprintf(ip, sizeof(ip), "%.*s", slash ? (int)(slash - o->spoof) : 63, o->spoof);
	if (inet_pton(AF_INET, ip, &a) != 1 || plen < 12 || plen > 32 ||
	    sscanf(o->dst_mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &sp->dst_mac[0], &sp->dst_mac[1],
		   &sp->dst_mac[2], &sp->dst_mac[3], &sp->dst_mac[4], &sp->dst_mac[5]) != 6) {
		fprintf(stderr, "wg_flood: bad --spoof `%s' (IPv4 CIDR, /12../32) or --dst-mac `%s'\n",
			o->spoof, o->dst_mac);
		return -EINVAL;
	}
	sp->count = plen == 32 ? 1 : 1u << (32 - plen);
	sp->base = ntohl(a.s_addr) & ~(sp->count - 1);
	sp->ifindex = (int)if_nametoindex(o->ifname);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->ifname);
	if (!sp->ifindex || fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		fprintf(stderr, "wg_flood: interface `%s': %s\n", o->ifname, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -ENODEV;
	}
	close(fd);
	memcpy(sp->src_mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

/* Wrap payload p[HDR_LEN..HDR_LEN+len) in Ethernet/IPv4/UDP from source number i. */
static size_t spoof_frame(uint8_t *p, size_t len, const struct spoof *sp, const struct xwgp_ep *dst,
			  size_t i)
{
	/* Built aside and copied in: p + 14 is not 4-byte aligned for struct iphdr. */
	struct iphdr ip = {};
	struct udphdr udp = {};

	memcpy(p, sp->dst_mac, 6);
	memcpy(p + 6, sp->src_mac, 6);
	p[12] = 0x08;
	p[13] = 0x00;
	ip.version = 4;
	ip.ihl = 5;
	ip.tot_len = htons((uint16_t)(20 + 8 + len));
	ip.ttl = 64;
	ip.protocol = IPPROTO_UDP;
	ip.saddr = htonl(sp->base + (uint32_t)(i % sp->count));
	ip.daddr = dst->addr[3];
	ip.check = csum16(&ip, 20);
	udp.source = htons((uint16_t)(1024 + randombytes_uniform(64512)));
	udp.dest = dst->port;
	udp.len = htons((uint16_t)(8 + len));
	udp.check = 0; /* optional over IPv4 */
	memcpy(p + 14, &ip, sizeof(ip));
	memcpy(p + 34, &udp, sizeof(udp));
	return HDR_LEN + len;
}

static int open_packet_socket(const struct spoof *sp)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_ifindex = sp->ifindex,
				  .sll_protocol = htons(ETH_P_IP), .sll_halen = 6 };
	int fd = socket(AF_PACKET, SOCK_RAW, 0), one = 1, sndbuf = 4 << 20;

	if (fd < 0)
		return -errno;
	memcpy(ll.sll_addr, sp->dst_mac, 6);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ll, sizeof(ll))) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int make_pool(struct pool *pool, const struct opts *o)
{
	struct wg_mac_keys mk = {};
	uint8_t pub[32];

	if (o->mode == M_MAC1 || o->mode == M_MAC2) {
		if (!o->pub || wg_key_from_base64(pub, o->pub)) {
			fprintf(stderr, "wg_flood: --mode mac1/mac2 needs a valid --server-pub\n");
			return -EINVAL;
		}
		wg_mac_keys_init(&mk, pub);
	}
	pool->n = o->pool;
	pool->buf = calloc(pool->n, sizeof(*pool->buf));
	pool->len = calloc(pool->n, sizeof(*pool->len));
	if (!pool->buf || !pool->len)
		return -ENOMEM;
	if (o->mode == M_INIT)
		return make_inits(pool, o);
	for (size_t i = 0; i < pool->n; i++)
		pool->len[i] = make_packet(o->mode, pool->buf[i], &mk);
	return 0;
}

/* --spoof: every pool packet framed, one source address after the other. */
static void pool_frame(struct pool *pool, const struct spoof *sp, const struct xwgp_ep *dst)
{
	for (size_t i = 0; i < pool->n; i++) {
		memmove(pool->buf[i] + HDR_LEN, pool->buf[i], pool->len[i]);
		pool->len[i] = spoof_frame(pool->buf[i], pool->len[i], sp, dst, i);
	}
}

static double cpu_sec(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Send the pool round and round at o->rate for o->seconds; prints the report. */
static void flood(int fd, const struct pool *pool, const struct opts *o)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	double cpu0 = cpu_sec();
	uint64_t start = xwgp_mono_ns(), end, due, sent = 0, errors = 0, k = 0;

	end = start + (uint64_t)(o->seconds * 1e9);
	for (uint64_t t = start; t < end; t = xwgp_mono_ns()) {
		int n;

		/* The batch is due when the packets already sent were owed. */
		due = start + (uint64_t)((double)sent * 1e9 / o->rate);
		if (t < due) {
			struct timespec ts = { 0, (long)(due - t) };

			nanosleep(&ts, NULL);
			continue;
		}
		memset(msgs, 0, sizeof(msgs));
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = pool->buf[(k + i) % pool->n];
			iov[i].iov_len = pool->len[(k + i) % pool->n];
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = sendmmsg(fd, msgs, BATCH, 0);
		if (n < 0) {
			errors++;
			continue;
		}
		sent += (uint64_t)n;
		k += (uint64_t)n;
	}
	report(sent, errors, (double)(xwgp_mono_ns() - start) / 1e9);
	printf("cpu %.3f\n", cpu_sec() - cpu0);
}

int main(int argc, char **argv)
{
	struct opts o = { .rate = 60000, .seconds = 10, .pool = POOL_DEFAULT };
	struct pool pool = {};
	struct spoof sp = {};
	struct xwgp_ep dst;
	int fd;

	if (parse_args(argc, argv, &o) || xwgp_ep_parse(o.dst, 0, &dst) ||
	    (o.spoof && dst.family != XWGP_FAMILY_IPV4)) {
		usage();
		return 2;
	}
	if (sodium_init() < 0 || (o.spoof && spoof_setup(&sp, &o)))
		return 1;
	if (o.spoof && o.pool < sp.count)
		o.pool = sp.count;
	if (make_pool(&pool, &o))
		return 1;
	if (o.spoof) {
		pool_frame(&pool, &sp, &dst);
		fd = open_packet_socket(&sp);
		if (fd < 0)
			fprintf(stderr, "wg_flood: AF_PACKET socket on `%s': %s\n", o.ifname,
				strerror(-fd));
	} else {
		fd = open_socket(&dst, o.src);
	}
	if (fd < 0)
		return 1;
	flood(fd, &pool, &o);
	close(fd);
	free(pool.buf);
	free(pool.len);
	return 0;
}
