// SPDX-License-Identifier: GPL-2.0
/*
 * The two WireGuard ends of the end-to-end benchmark's session, just enough
 * of them to establish it through a running `xwgp server':
 *
 *   bench_peer backend --listen IP:PORT --client-pub B64 --sender IDX [--timeout S]
 *       Answer every handshake initiation with a response (type 2) whose
 *       sender is IDX, receiver the initiation's sender, and MAC1 keyed by
 *       the client's public key, as a backend does; xwgp checks MAC1 of
 *       responses (it needs no more: it never sees the Noise payload).
 *   bench_peer client --bind IP:PORT --server IP:PORT --client-priv-file FILE
 *                     --server-pub B64 --sender IDX [--timeout S]
 *       Send a real initiation (wg_create_initiation: xwgp decrypts it to
 *       learn the client key) every second until a response for IDX comes
 *       back; print that response's sender: the index the client must put
 *       in transport messages (the backend's index as xwgp translated it).
 *
 * The transport frames tests/bench/bench_traffic.c then replays carry that
 * index from the client's address and port: for xwgp they are the session's
 * real transport packets.
 */
#include <getopt.h>
#include <poll.h>
#include <sys/socket.h>

#include <sodium.h>

#include "bench_util.h"
#include "wg_crypto.h"

struct opts {
	const char *listen, *bind, *server, *client_pub, *client_priv_file, *server_pub;
	uint32_t sender;
	int timeout;
};

/* "IP:PORT" or "[IPv6]:PORT" -> sockaddr; 0 or -EINVAL. */
static int parse_sockaddr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t hl;
	int port;

	if (!colon || colon == s)
		return -EINVAL;
	hl = colon - s;
	if (s[0] == '[' && colon[-1] == ']')
		s++, hl -= 2;
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	port = atoi(colon + 1);
	memset(ss, 0, sizeof(*ss));
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (void *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		*len = sizeof(*a);
		return inet_pton(AF_INET6, host, &a->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	struct sockaddr_in *a = (void *)ss;

	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	*len = sizeof(*a);
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -EINVAL;
}

static int udp_bound(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (parse_sockaddr(addr, &ss, &len)) {
		bench_log("bad address `%s' (want IP:PORT)", addr);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len)) {
		bench_log("bind %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	return fd;
}

/* Wait up to ms for a datagram; its length, 0 on timeout, -errno. */
static ssize_t recv_wait(int fd, uint8_t *buf, size_t cap, struct sockaddr_storage *from,
			 socklen_t *flen, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n = poll(&pfd, 1, ms);

	if (n <= 0)
		return n < 0 ? -errno : 0;
	*flen = sizeof(*from);
	n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)from, flen);
	return n < 0 ? -errno : n;
}

static int cmd_backend(const struct opts *o)
{
	uint8_t client_pub[32], buf[2048], resp[WG_RESP_LEN];
	struct wg_mac_keys client_mac;
	struct sockaddr_storage from;
	uint64_t deadline;
	socklen_t flen;
	int fd, answered = 0;

	if (!o->listen || !o->client_pub || !o->sender ||
	    wg_key_from_base64(client_pub, o->client_pub)) {
		bench_log("backend: need --listen, --client-pub (base64) and --sender (non-zero)");
		return 2;
	}
	wg_mac_keys_init(&client_mac, client_pub);
	fd = udp_bound(o->listen);
	if (fd < 0)
		return 1;
	deadline = xwgp_clock_ns(CLOCK_MONOTONIC) + o->timeout * 1000000000ull;
	while (xwgp_clock_ns(CLOCK_MONOTONIC) < deadline) {
		ssize_t n = recv_wait(fd, buf, sizeof(buf), &from, &flen, 200);

		if (n != WG_INIT_LEN || buf[0] != WG_MSG_INITIATION)
			continue;
		randombytes_buf(resp, sizeof(resp));
		memset(resp, 0, 4);
		resp[0] = WG_MSG_RESPONSE;
		put_le32(resp + WG_RESP_OFF_SENDER, o->sender);
		memcpy(resp + WG_RESP_OFF_RECEIVER, buf + WG_INIT_OFF_SENDER, 4);
		wg_macs_set(resp, sizeof(resp), &client_mac, NULL);
		if (sendto(fd, resp, sizeof(resp), 0, (struct sockaddr *)&from, flen) < 0)
			bench_log("backend: sendto: %s", strerror(errno));
		else
			answered++;
	}
	close(fd);
	bench_log("backend: answered %d initiation(s)", answered);
	return answered ? 0 : 1;
}

/* A private key file as `wg genkey' writes it (base64 and a newline). */
static int read_key_file(uint8_t key[static 32], const char *path)
{
	char b64[64] = "";
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	n = read(fd, b64, sizeof(b64) - 1);
	close(fd);
	if (n >= WG_KEY_B64_LEN)
		b64[WG_KEY_B64_LEN] = '\0';
	err = n >= WG_KEY_B64_LEN ? wg_key_from_base64(key, b64) : -EINVAL;
	sodium_memzero(b64, sizeof(b64));
	if (err)
		bench_log("%s: not a WireGuard private key", path);
	return err;
}

static int cmd_client(const struct opts *o)
{
	uint8_t priv[32], server_pub[32], eph[32], tai[12], init[WG_INIT_LEN], buf[2048];
	struct sockaddr_storage to, from;
	socklen_t tolen, flen;
	uint64_t deadline;
	int fd, ret = 1;

	if (!o->bind || !o->server || !o->client_priv_file || !o->server_pub || !o->sender ||
	    read_key_file(priv, o->client_priv_file) ||
	    wg_key_from_base64(server_pub, o->server_pub) ||
	    parse_sockaddr(o->server, &to, &tolen)) {
		bench_log("client: need --bind, --server IP:PORT, --client-priv-file (wg genkey), "
			  "--server-pub (base64) and --sender (non-zero)");
		return 2;
	}
	fd = udp_bound(o->bind);
	if (fd < 0)
		goto out;
	deadline = xwgp_clock_ns(CLOCK_MONOTONIC) + o->timeout * 1000000000ull;
	while (ret && xwgp_clock_ns(CLOCK_MONOTONIC) < deadline) {
		uint64_t resend = xwgp_clock_ns(CLOCK_MONOTONIC) + 1000000000ull;

		randombytes_buf(eph, sizeof(eph));
		wg_tai64n_now(tai);
		if (wg_create_initiation(init, priv, server_pub, o->sender, eph, tai, NULL) ||
		    sendto(fd, init, sizeof(init), 0, (struct sockaddr *)&to, tolen) < 0) {
			bench_log("client: sending the initiation failed: %s", strerror(errno));
			break;
		}
		while (ret && xwgp_clock_ns(CLOCK_MONOTONIC) < resend) {
			ssize_t n = recv_wait(fd, buf, sizeof(buf), &from, &flen, 100);

			if (n == WG_RESP_LEN && buf[0] == WG_MSG_RESPONSE &&
			    get_le32(buf + WG_RESP_OFF_RECEIVER) == o->sender) {
				printf("%u\n", get_le32(buf + WG_RESP_OFF_SENDER));
				ret = 0;
			}
		}
	}
	if (ret)
		bench_log("client: no response within %d s", o->timeout);
	close(fd);
out:
	sodium_memzero(priv, sizeof(priv));
	sodium_memzero(eph, sizeof(eph));
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "bind", required_argument, NULL, 'b' },
		{ "server", required_argument, NULL, 's' },
		{ "client-pub", required_argument, NULL, 'P' },
		{ "client-priv-file", required_argument, NULL, 'K' },
		{ "server-pub", required_argument, NULL, 'S' },
		{ "sender", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 't' },
		{},
	};
	struct opts o = { .timeout = 10 };
	const char *cmd;
	int c;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_peer backend|client OPTIONS\n");
		return 2;
	}
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o.listen = optarg;
			break;
		case 'b':
			o.bind = optarg;
			break;
		case 's':
			o.server = optarg;
			break;
		case 'P':
			o.client_pub = optarg;
			break;
		case 'K':
			o.client_priv_file = optarg;
			break;
		case 'S':
			o.server_pub = optarg;
			break;
		case 'i':
			o.sender = strtoul(optarg, NULL, 0);
			break;
		case 't':
			o.timeout = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (wg_crypto_init())
		return 1;
	if (!strcmp(cmd, "backend"))
		return cmd_backend(&o);
	if (!strcmp(cmd, "client"))
		return cmd_client(&o);
	fprintf(stderr, "bench_peer: unknown command `%s' (backend, client)\n", cmd);
	return 2;
}
