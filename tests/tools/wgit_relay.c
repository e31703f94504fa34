// SPDX-License-Identifier: GPL-2.0
/*
 * wgit_relay: a one-client WireGuard Index Translation relay, to prove the
 * agent's MAC recomputation (agent/wg_crypto.h) against real WireGuard peers.
 *
 *   wgit_relay --listen ADDR:PORT --server ADDR:PORT
 *              --server-pub B64 --client-pub B64 [--no-remac]
 *
 * The client uses --listen as its Endpoint. The relay gives every client
 * index (initiation sender, or response sender when the server initiates) a
 * different random proxy index and recomputes MAC1/MAC2 for the receiver;
 * server -> client it maps the receiver index of responses, cookie replies
 * and transport back to the client's own index (recomputing a response's
 * MAC1 with the client's key). Server indexes are not translated, so client
 * -> server transport passes unchanged. --no-remac keeps the original MACs
 * after rewriting: a negative control that a real peer must reject.
 *
 * Prints one line per translated index and, on SIGTERM/SIGINT, the counters
 * as "NAME VALUE" lines on stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "byteorder.h"
#include "log.h"
#include "wg_crypto.h"
#include "wg_proto.h"

/* Translations remembered: a handful of handshakes per test is plenty. */
#define MAP_SLOTS 64
#define POLL_MS 200

struct endpoint {
	struct sockaddr_storage sa;
	socklen_t len;
};

struct index_map {
	uint32_t origin; /* the client's own index */
	uint32_t proxy; /* what the server knows it as; 0: free slot */
};

#define RELAY_COUNTERS(X)                                                                          \
	X(init_rx)                                                                                 \
	X(init_rewritten)                                                                          \
	X(init_mac1_bad)                                                                           \
	X(resp_rx)                                                                                 \
	X(resp_rewritten)                                                                          \
	X(resp_mac1_bad)                                                                           \
	X(resp_unknown)                                                                            \
	X(server_init_fwd)                                                                         \
	X(client_resp_rewritten)                                                                   \
	X(cookie_rewritten)                                                                        \
	X(c2s_transport)                                                                           \
	X(c2s_cookie)                                                                              \
	X(s2c_transport_translated)                                                                \
	X(s2c_unknown)                                                                             \
	X(dropped_other)                                                                           \
	X(send_errors)

struct counters {
#define X(n) uint64_t n;
	RELAY_COUNTERS(X)
#undef X
};

struct relay {
	int client_fd; /* bound to --listen */
	int server_fd; /* ephemeral port towards the server */
	struct endpoint server;
	struct endpoint client; /* last source seen on client_fd; len 0: none yet */
	struct wg_mac_keys server_mac;
	struct wg_mac_keys client_mac;
	int remac;
	struct index_map map[MAP_SLOTS];
	size_t next_slot;
	struct counters c;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* "1.2.3.4:5" or "[2001:db8::1]:5". 0 or -EINVAL. */
static int parse_endpoint(struct endpoint *ep, const char *s)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ep->sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ep->sa;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;
	size_t hlen;

	if (!colon)
		goto bad;
	port = strtoul(colon + 1, &end, 10);
	if (*end || !colon[1] || port > 65535)
		goto bad;
	hlen = (size_t)(colon - s);
	if (hlen >= sizeof(host))
		goto bad;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	memset(ep, 0, sizeof(*ep));
	if (hlen > 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			goto bad;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		ep->len = sizeof(*in6);
		return 0;
	}
	if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
		goto bad;
	in4->sin_family = AF_INET;
	in4->sin_port = htons((uint16_t)port);
	ep->len = sizeof(*in4);
	return 0;
bad:
	pr_err("invalid endpoint `%s' (want ADDR:PORT or [ADDR6]:PORT)", s);
	return -EINVAL;
}

static int same_endpoint(const struct endpoint *a, const struct sockaddr_storage *b,
			 socklen_t blen)
{
	return a->len == blen && !memcmp(&a->sa, b, blen);
}

static int udp_socket(int family, const struct endpoint *bind_to)
{
	int fd, ret;

	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		pr_err("socket: %s", strerror(-ret));
		return ret;
	}
	if (bind_to && bind(fd, (const struct sockaddr *)&bind_to->sa, bind_to->len)) {
		ret = -errno;
		pr_err("bind: %s", strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

static void send_to(struct relay *r, int fd, const struct endpoint *to, const uint8_t *msg,
		    size_t len)
{
	if (sendto(fd, msg, len, 0, (const struct sockaddr *)&to->sa, to->len) < 0) {
		r->c.send_errors++;
		pr_warn("sendto: %s", strerror(errno));
	}
}

static int is_msg(const uint8_t *p, size_t len, uint8_t type)
{
	static const size_t size[] = {
		[WG_MSG_INITIATION] = WG_INIT_LEN,
		[WG_MSG_RESPONSE] = WG_RESP_LEN,
		[WG_MSG_COOKIE_REPLY] = WG_COOKIE_REPLY_LEN,
	};

	if (len < WG_HEADER_LEN || p[0] != type || p[1] || p[2] || p[3])
		return 0;
	if (type == WG_MSG_TRANSPORT)
		return len >= WG_TRANSPORT_MIN_LEN;
	return len == size[type];
}

static int proxy_in_use(const struct relay *r, uint32_t proxy)
{
	for (size_t i = 0; i < MAP_SLOTS; i++)
		if (r->map[i].proxy == proxy)
			return 1;
	return 0;
}

/* A fresh proxy index: never 0, never the origin, never one still mapped. */
static uint32_t map_client_index(struct relay *r, uint32_t origin)
{
	struct index_map *m = &r->map[r->next_slot++ % MAP_SLOTS];
	uint32_t proxy;

	do
		proxy = randombytes_random();
	while (!proxy || proxy == origin || proxy_in_use(r, proxy));
	m->origin = origin;
	m->proxy = proxy;
	return proxy;
}

static int unmap_index(const struct relay *r, uint32_t proxy, uint32_t *origin)
{
	for (size_t i = 0; i < MAP_SLOTS; i++) {
		if (r->map[i].proxy && r->map[i].proxy == proxy) {
			*origin = r->map[i].origin;
			return 0;
		}
	}
	return -ENOENT;
}

/* Client -> server handshake message (initiation or response): translate its sender. */
static void client_handshake(struct relay *r, uint8_t *msg, size_t len, const char *what)
{
	uint32_t origin = get_le32(msg + WG_INIT_OFF_SENDER), proxy;

	proxy = map_client_index(r, origin);
	put_le32(msg + WG_INIT_OFF_SENDER, proxy);
	if (r->remac)
		wg_macs_set(msg, len, &r->server_mac, NULL);
	printf("%s sender %08x -> %08x%s\n", what, origin, proxy,
	       r->remac ? "" : " (MACs left stale)");
	send_to(r, r->server_fd, &r->server, msg, len);
}

static void from_client(struct relay *r, uint8_t *msg, size_t len)
{
	if (is_msg(msg, len, WG_MSG_INITIATION)) {
		r->c.init_rx++;
		/* The real server would drop it too; translating it proves nothing. */
		if (wg_mac1_verify(msg, len, &r->server_mac)) {
			r->c.init_mac1_bad++;
			return;
		}
		r->c.init_rewritten++;
		client_handshake(r, msg, len, "initiation");
	} else if (is_msg(msg, len, WG_MSG_RESPONSE)) {
		/* The server initiated; its index is untranslated, the client's is new. */
		r->c.client_resp_rewritten++;
		client_handshake(r, msg, len, "response");
	} else if (is_msg(msg, len, WG_MSG_TRANSPORT)) {
		r->c.c2s_transport++;
		send_to(r, r->server_fd, &r->server, msg, len);
	} else if (is_msg(msg, len, WG_MSG_COOKIE_REPLY)) {
		/* Answers a server initiation: its receiver is a server index. */
		r->c.c2s_cookie++;
		send_to(r, r->server_fd, &r->server, msg, len);
	} else {
		r->c.dropped_other++;
	}
}

/* Server -> client message whose receiver is a proxy index: map it back. */
static int restore_receiver(struct relay *r, uint8_t *msg, size_t off)
{
	uint32_t origin;

	if (unmap_index(r, get_le32(msg + off), &origin))
		return -ENOENT;
	put_le32(msg + off, origin);
	return 0;
}

static void server_response(struct relay *r, uint8_t *msg, size_t len)
{
	r->c.resp_rx++;
	if (wg_mac1_verify(msg, len, &r->client_mac)) {
		r->c.resp_mac1_bad++;
		return;
	}
	if (restore_receiver(r, msg, WG_RESP_OFF_RECEIVER)) {
		r->c.resp_unknown++;
		return;
	}
	if (r->remac)
		wg_macs_set(msg, len, &r->client_mac, NULL);
	r->c.resp_rewritten++;
	printf("response receiver -> %08x\n", get_le32(msg + WG_RESP_OFF_RECEIVER));
	send_to(r, r->client_fd, &r->client, msg, len);
}

static void from_server(struct relay *r, uint8_t *msg, size_t len)
{
	if (!r->client.len) {
		r->c.dropped_other++;
		return;
	}
	if (is_msg(msg, len, WG_MSG_RESPONSE)) {
		server_response(r, msg, len);
	} else if (is_msg(msg, len, WG_MSG_TRANSPORT)) {
		if (restore_receiver(r, msg, WG_TRANSPORT_OFF_RECEIVER)) {
			r->c.s2c_unknown++;
			return;
		}
		r->c.s2c_transport_translated++;
		send_to(r, r->client_fd, &r->client, msg, len);
	} else if (is_msg(msg, len, WG_MSG_INITIATION)) {
		/* Server indexes are not translated and MAC1 is keyed to the client. */
		r->c.server_init_fwd++;
		send_to(r, r->client_fd, &r->client, msg, len);
	} else if (is_msg(msg, len, WG_MSG_COOKIE_REPLY)) {
		/*
		 * Its cookie is sealed over the MAC1 we computed, which the
		 * client never saw: it cannot open it. The receiver is mapped
		 * back anyway and counted; the client simply retries.
		 */
		if (restore_receiver(r, msg, WG_COOKIE_OFF_RECEIVER)) {
			r->c.s2c_unknown++;
			return;
		}
		r->c.cookie_rewritten++;
		send_to(r, r->client_fd, &r->client, msg, len);
	} else {
		r->c.dropped_other++;
	}
}

static void receive(struct relay *r, int fd)
{
	static uint8_t buf[65536];
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	ssize_t n;

	n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
	if (n < 0)
		return;
	if (fd == r->client_fd) {
		/* One client; follow it if it roams, as WireGuard does. */
		memcpy(&r->client.sa, &from, flen);
		r->client.len = flen;
		from_client(r, buf, (size_t)n);
	} else if (same_endpoint(&r->server, &from, flen)) {
		from_server(r, buf, (size_t)n);
	} else {
		r->c.dropped_other++;
	}
}

static int run(struct relay *r)
{
	struct pollfd pfd[2] = {
		{ .fd = r->client_fd, .events = POLLIN },
		{ .fd = r->server_fd, .events = POLLIN },
	};
	int ret;

	while (!stop) {
		ret = poll(pfd, 2, POLL_MS);
		if (ret < 0 && errno != EINTR) {
			ret = -errno;
			pr_err("poll: %s", strerror(-ret));
			return ret;
		}
		for (int i = 0; ret > 0 && i < 2; i++)
			if (pfd[i].revents & POLLIN)
				receive(r, pfd[i].fd);
	}
	return 0;
}

static void print_counters(const struct counters *c)
{
#define X(n) printf("%s %llu\n", #n, (unsigned long long)c->n);
	RELAY_COUNTERS(X)
#undef X
	fflush(stdout);
}

static int parse_key(struct wg_mac_keys *k, const char *b64)
{
	uint8_t pub[32];

	if (wg_key_from_base64(pub, b64)) {
		pr_err("invalid public key `%s'", b64);
		return -EINVAL;
	}
	wg_mac_keys_init(k, pub);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "Usage: wgit_relay --listen ADDR:PORT --server ADDR:PORT\n"
			"                  --server-pub B64 --client-pub B64 [--no-remac]\n");
}

static int parse_args(struct relay *r, struct endpoint *listen_ep, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "server", required_argument, NULL, 's' },
		{ "server-pub", required_argument, NULL, 'S' },
		{ "client-pub", required_argument, NULL, 'C' },
		{ "no-remac", no_argument, NULL, 'n' },
		{ 0 },
	};
	int have = 0, opt;

	r->remac = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (parse_endpoint(listen_ep, optarg))
				return -EINVAL;
			have |= 1;
			break;
		case 's':
			if (parse_endpoint(&r->server, optarg))
				return -EINVAL;
			have |= 2;
			break;
		case 'S':
			if (parse_key(&r->server_mac, optarg))
				return -EINVAL;
			have |= 4;
			break;
		case 'C':
			if (parse_key(&r->client_mac, optarg))
				return -EINVAL;
			have |= 8;
			break;
		case 'n':
			r->remac = 0;
			break;
		default:
			return -EINVAL;
		}
	}
	return have == 15 && optind == argc ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct endpoint listen_ep;
	static struct relay r;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (wg_crypto_init())
		return 1;
	if (parse_args(&r, &listen_ep, argc, argv)) {
		usage();
		return 2;
	}
	/* No SA_RESTART: poll returns EINTR and the loop sees stop at once. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	r.client_fd = udp_socket(listen_ep.sa.ss_family, &listen_ep);
	if (r.client_fd < 0)
		return 1;
	r.server_fd = udp_socket(r.server.sa.ss_family, NULL);
	if (r.server_fd < 0) {
		close(r.client_fd);
		return 1;
	}
	printf("relay ready%s\n", r.remac ? "" : " (no remac)");
	ret = run(&r);
	print_counters(&r.c);
	close(r.server_fd);
	close(r.client_fd);
	return ret ? 1 : 0;
}
