// SPDX-License-Identifier: GPL-2.0
/*
 * `xwgp client CONFIG': the mwgp client. The local WireGuard's Endpoint= is
 * our `listen' address; we forward its packets to `server' (obfuscated when
 * `obfs' is set) and the server's replies back to it. Userspace only (no
 * XDP, no privileges beyond binding `listen'), batched with recvmmsg and
 * sendmmsg. Packet rules: client_relay.c; name resolution: client_resolve.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>

#include "addr.h"
#include "client_relay.h"
#include "client_resolve.h"
#include "clock.h"
#include "cmds.h"
#include "config.h"
#include "event.h"
#include "log.h"
#include "udp_batch.h"
#include "udp_io.h"

#define ROUNDS			 8  /* batches per socket per wakeup, so neither side starves */
#define RESOLVE_INTERVAL_DEFAULT 60
#define RESOLVE_RETRY_SEC	 5 /* after a failed resolution */
#define STARTUP_RESOLVE_MS	 6000
#define STATS_MAX_SESSIONS	 64 /* listed in --stats-file */

enum tag { TAG_LISTEN = 1, TAG_UPSTREAM, TAG_SIGNAL, TAG_TIMER, TAG_RESOLVER };

struct client {
	struct xwgp_client_config cfg;
	struct client_relay relay;
	struct resolver res;
	const char *config_path;
	const char *stats_file;
	unsigned int resolve_interval; /* seconds; 0: resolve until it works, then never */
	bool force_xlat;
	int listen_fd, upstream_fd, epfd, sigfd, timerfd;
	uint16_t listen_port, upstream_port;
	uint64_t next_resolve_ns; /* 0: none planned */
	bool stop;
	struct udp_txq txq[2]; /* [RELAY_LOCAL], [RELAY_SERVER]; zero copy: data in rx */
	struct udp_rxb rx;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: xwgp client [OPTIONS] CONFIG.json\n"
		"\n"
		"The mwgp client. Point the local WireGuard's Endpoint= at the config's\n"
		"`listen' address: its packets are forwarded to `server' (an xwgp or mwgp\n"
		"server; host:port, the host may be a name) and the replies come back to the\n"
		"endpoint each session was learned from. With `obfs' set, everything sent to\n"
		"the server is obfuscated (mwgp 2.1.4+ compatible) and replies are\n"
		"de-obfuscated; plain replies are accepted too. Sessions are tracked by\n"
		"WireGuard index (translated, with MAC1/MAC2 recomputed for `server_pubkey' /\n"
		"`client_pubkey', only when two local peers pick the same index) and expire\n"
		"after `timeout' idle seconds.\n"
		"\n"
		"A server name is resolved at start and again every --resolve-interval\n"
		"seconds, through the config's `dns' server (our own UDP A/AAAA queries;\n"
		"IPv4 preferred) or else the system resolver, without stalling traffic; a\n"
		"changed address is followed and logged. Userspace only: no XDP, no\n"
		"privileges beyond binding `listen'.\n"
		"\n"
		"Signals: SIGUSR1 prints the counters (and writes --stats-file), SIGHUP\n"
		"resolves the server name now, SIGINT/SIGTERM exit (printing the counters).\n"
		"\n"
		"Options:\n"
		"  --resolve-interval SECS  re-resolve a server name every SECS seconds\n"
		"                           (default %d; 0: only until it first resolves)\n"
		"  --stats-file PATH        write the counters as JSON to PATH every second,\n"
		"                           on SIGUSR1 and at exit (replaced atomically)\n"
		"  --force-translation      translate every index (tests MAC recomputation)\n"
		"  -v, --verbose            debug logging (same as `xwgp -v client')\n"
		"  -h, --help               this help\n",
		RESOLVE_INTERVAL_DEFAULT);
}

static int parse_args(struct client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "resolve-interval", required_argument, NULL, 'r' },
		{ "stats-file", required_argument, NULL, 's' },
		{ "force-translation", no_argument, NULL, 'x' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	char *end;
	long v;
	int o;

	c->resolve_interval = RESOLVE_INTERVAL_DEFAULT;
	optind = 1;
	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0 || v > 86400) {
				pr_err("--resolve-interval: `%s' is not a number of seconds in "
				       "0..86400",
				       optarg);
				return 2;
			}
			c->resolve_interval = (unsigned int)v;
			break;
		case 's':
			c->stats_file = optarg;
			break;
		case 'x':
			c->force_xlat = true;
			break;
		case 'v':
			log_level = LOG_DEBUG;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		pr_err("client: expected exactly one CONFIG.json argument");
		usage(stderr);
		return 2;
	}
	c->config_path = argv[optind];
	return 0;
}

/* ---- counters ------------------------------------------------------------- */

static void print_stats(struct client *c)
{
	char ep[XWGP_EP_STRLEN] = "unresolved";

	if (c->relay.server.family != XWGP_FAMILY_NONE)
		xwgp_ep_format(ep, sizeof(ep), &c->relay.server);
	fprintf(stderr, "xwgp client: server %s (%s), %u sessions\n", c->cfg.server, ep,
		c->relay.n_sessions);
	for (int i = 0; i < CLIENT_STAT__MAX; i++)
		fprintf(stderr, "  %-24s %12llu  %s\n", client_stat_names[i],
			(unsigned long long)c->relay.stats[i], client_stat_descs[i]);
}

/* The newest STATS_MAX_SESSIONS sessions, so the file stays small. */
static void sessions_json(struct client *c, cJSON *arr)
{
	uint64_t now = xwgp_mono_ns();
	uint32_t n = c->relay.n_sessions;

	for (uint32_t i = n > STATS_MAX_SESSIONS ? n - STATS_MAX_SESSIONS : 0; arr && i < n; i++) {
		const struct client_session *s = &c->relay.sessions[i];
		cJSON *o = cJSON_CreateObject();
		char ep[XWGP_EP_STRLEN];

		if (!o)
			return;
		xwgp_ep_format(ep, sizeof(ep), &s->local);
		cJSON_AddStringToObject(o, "local_endpoint", ep);
		cJSON_AddNumberToObject(o, "client_origin_index", s->client_origin_index);
		cJSON_AddNumberToObject(o, "client_proxy_index", s->client_proxy_index);
		cJSON_AddNumberToObject(o, "server_origin_index", s->server_origin_index);
		cJSON_AddNumberToObject(o, "server_proxy_index", s->server_proxy_index);
		cJSON_AddBoolToObject(o, "established", !!(s->flags & XWGP_SF_ESTABLISHED));
		cJSON_AddNumberToObject(o, "to_server_packets", (double)s->to_server_packets);
		cJSON_AddNumberToObject(o, "to_local_packets", (double)s->to_local_packets);
		cJSON_AddNumberToObject(o, "idle_sec",
					(double)(now - s->last_seen_ns) / NSEC_PER_SEC);
		cJSON_AddItemToArray(arr, o);
	}
}

static cJSON *stats_json(struct client *c)
{
	char ep[XWGP_EP_STRLEN];
	cJSON *o = cJSON_CreateObject(), *ctr;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "server_name", c->cfg.server);
	if (c->relay.server.family != XWGP_FAMILY_NONE &&
	    !xwgp_ep_format(ep, sizeof(ep), &c->relay.server))
		cJSON_AddStringToObject(o, "server", ep);
	else
		cJSON_AddNullToObject(o, "server");
	xwgp_ep_format(ep, sizeof(ep), &c->cfg.listen);
	cJSON_AddStringToObject(o, "listen", ep);
	cJSON_AddNumberToObject(o, "listen_port", c->listen_port);
	cJSON_AddNumberToObject(o, "upstream_port", c->upstream_port);
	cJSON_AddBoolToObject(o, "obfs", c->relay.obfs);
	cJSON_AddNumberToObject(o, "sessions", c->relay.n_sessions);
	sessions_json(c, cJSON_AddArrayToObject(o, "session_list"));
	ctr = cJSON_AddObjectToObject(o, "counters");
	for (int i = 0; ctr && i < CLIENT_STAT__MAX; i++)
		cJSON_AddNumberToObject(ctr, client_stat_names[i], (double)c->relay.stats[i]);
	return o;
}

/* tmp + rename: a reader never sees a half-written file. */
static void write_stats_file(struct client *c)
{
	char tmp[4096];
	cJSON *o;
	char *text;
	FILE *f;

	if (!c->stats_file)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", c->stats_file) >= (int)sizeof(tmp))
		return;
	o = stats_json(c);
	text = o ? cJSON_Print(o) : NULL;
	cJSON_Delete(o);
	if (!text)
		return;
	f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0 || fclose(f)) {
		pr_warn("--stats-file: writing `%s': %s", tmp, strerror(errno));
		if (f)
			unlink(tmp);
	} else if (rename(tmp, c->stats_file)) {
		pr_warn("--stats-file: renaming `%s' to `%s': %s", tmp, c->stats_file,
			strerror(errno));
		unlink(tmp);
	}
	free(text);
}

/* ---- batched I/O ------------------------------------------------------------ */

/* Datagrams the kernel refused are counted as send errors, not as sent. */
static void txq_flush(struct client *c, enum relay_side side)
{
	unsigned int failed = udp_txq_flush(&c->txq[side]);
	enum client_stat tx = side == RELAY_LOCAL ? CLIENT_STAT_TX_LOCAL : CLIENT_STAT_TX_SERVER;

	c->relay.stats[CLIENT_STAT_SEND_ERRORS] += failed;
	c->relay.stats[tx] -= failed;
}

static int io_send(void *ctx, enum relay_side side, const struct xwgp_ep *local,
		   const struct xwgp_ep *remote, const uint8_t *data, size_t len)
{
	struct client *c = ctx;
	struct udp_txq *q = &c->txq[side];

	if (q->n_iov == UDP_BATCH)
		txq_flush(c, side); /* so that its failures are counted here */
	return udp_txq_add(q, local, remote, data, len);
}

/* One recvmmsg batch from side; returns how many datagrams it held. */
static int rx_batch(struct client *c, enum relay_side side)
{
	int fd = side == RELAY_LOCAL ? c->listen_fd : c->upstream_fd;
	uint16_t port = side == RELAY_LOCAL ? c->listen_port : c->upstream_port;
	uint64_t now = xwgp_mono_ns();
	int n = udp_rxb_recv(&c->rx, fd);

	if (n < 0) {
		if (n != -EINTR)
			pr_debug("recvmmsg: %s", strerror(-n));
		return 0;
	}
	for (int i = 0; i < n; i++) {
		struct xwgp_ep src, dst;
		uint8_t *data;
		size_t len;

		if (!udp_rxb_get(&c->rx, i, port, &src, &dst, &data, &len)) {
			c->relay.stats[side == RELAY_LOCAL ? CLIENT_STAT_RX_LOCAL
							   : CLIENT_STAT_RX_SERVER]++;
			c->relay.stats[CLIENT_STAT_TOO_BIG]++;
			continue;
		}
		relay_packet(&c->relay, side, &src, &dst, data, len, c->rx.slot_size, now);
	}
	/* Replies point into rx buffers: send them before the next batch. */
	txq_flush(c, RELAY_LOCAL);
	txq_flush(c, RELAY_SERVER);
	return n;
}

static void on_readable(struct client *c, enum relay_side side)
{
	for (int round = 0; round < ROUNDS; round++)
		if (rx_batch(c, side) < UDP_BATCH)
			break;
}

/* ---- resolution ---------------------------------------------------------------- */

static void schedule_resolve(struct client *c, uint64_t now, bool ok)
{
	if (ok && !c->resolve_interval)
		c->next_resolve_ns = 0;
	else if (ok)
		c->next_resolve_ns = now + (uint64_t)c->resolve_interval * NSEC_PER_SEC;
	else
		c->next_resolve_ns =
			now +
			(uint64_t)(c->resolve_interval && c->resolve_interval < RESOLVE_RETRY_SEC
					   ? c->resolve_interval
					   : RESOLVE_RETRY_SEC) *
				NSEC_PER_SEC;
}

static const char *resolve_strerror(int err)
{
	switch (err) {
	case -ENOENT:
		return "no such name, or no A/AAAA record";
	case -ETIMEDOUT:
		return "no answer (timed out)";
	case -EAGAIN:
		return "temporary failure";
	case -EIO:
		return "the resolver refused or failed";
	case -EBADMSG:
		return "malformed answer";
	default:
		return strerror(-err);
	}
}

static void on_resolved(struct client *c, int ret, const struct resolve_result *out, uint64_t now)
{
	char old[XWGP_EP_STRLEN], new[XWGP_EP_STRLEN], how[80];

	resolver_describe(&c->res, how, sizeof(how));
	if (ret < 0) {
		c->relay.stats[CLIENT_STAT_RESOLVE_FAILURES]++;
		schedule_resolve(c, now, false);
		pr_warn("resolving server `%s' through the %s failed: %s; trying again in %llu s",
			c->cfg.server_host, how, resolve_strerror(ret),
			(unsigned long long)((c->next_resolve_ns - now) / NSEC_PER_SEC));
		return;
	}
	c->relay.stats[CLIENT_STAT_RESOLVES]++;
	schedule_resolve(c, now, true);
	xwgp_ep_format(new, sizeof(new), &out->ep[0]);
	if (c->relay.server.family == XWGP_FAMILY_NONE) {
		pr_info("server `%s' is %s (%s)", c->cfg.server, new, how);
	} else if (!resolve_result_has(out, &c->relay.server)) {
		/* Only a vanished address moves us: round-robin answers do not flap. */
		xwgp_ep_format(old, sizeof(old), &c->relay.server);
		pr_info("server `%s' moved: %s -> %s (%s)", c->cfg.server, old, new, how);
		c->relay.stats[CLIENT_STAT_SERVER_CHANGED]++;
	} else {
		pr_debug("server `%s' still at %s", c->cfg.server, new);
		return;
	}
	relay_set_server(&c->relay, &out->ep[0]);
}

static void resolve_poll(struct client *c, uint64_t now)
{
	struct resolve_result out;
	int ret = resolver_poll(&c->res, now, &out);

	if (ret)
		on_resolved(c, ret, &out, now);
}

static void resolve_start(struct client *c, uint64_t now)
{
	int err;

	c->next_resolve_ns = 0;
	err = resolver_start(&c->res, now);
	if (err) {
		on_resolved(c, err, NULL, now);
		return;
	}
	if (c->res.mode == RESOLVE_LITERAL)
		resolve_poll(c, now);
}

/* At start: wait for the first answer, so a typo shows at once (not fatal). */
static void resolve_initial(struct client *c)
{
	struct resolve_result out;
	uint64_t now;
	int ret;

	ret = resolver_resolve_sync(&c->res, STARTUP_RESOLVE_MS, &out);
	now = xwgp_mono_ns();
	on_resolved(c, ret ? ret : 1, &out, now);
	if (c->res.mode == RESOLVE_LITERAL)
		c->next_resolve_ns = 0; /* nothing to re-resolve */
}

/* ---- setup and loop ---------------------------------------------------------- */

/*
 * udp_open gives non-blocking sockets; ours block on send so a full socket
 * buffer slows us down instead of dropping (receives use MSG_DONTWAIT).
 */
static int open_socket(const struct xwgp_ep *ep, uint16_t *port, const char *what)
{
	char buf[XWGP_EP_STRLEN];
	int fd;

	fd = udp_open(ep, port);
	if (fd < 0) {
		xwgp_ep_format(buf, sizeof(buf), ep);
		pr_err("%s: cannot bind UDP %s: %s", what, buf, strerror(-fd));
		return fd;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

static int setup_signals(struct client *c)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	c->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	return c->sigfd < 0 ? -errno : 0;
}

static int setup_timer(struct client *c)
{
	struct itimerspec its = { .it_interval = { .tv_sec = 1 }, .it_value = { .tv_sec = 1 } };

	c->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->timerfd < 0)
		return -errno;
	return timerfd_settime(c->timerfd, 0, &its, NULL) ? -errno : 0;
}

static int setup(struct client *c)
{
	struct xwgp_ep any = {};
	char buf[XWGP_EP_STRLEN];
	int err;

	c->listen_fd = c->upstream_fd = c->epfd = c->sigfd = c->timerfd = -1;
	err = udp_rxb_init(&c->rx, c->cfg.max_packet_size + OBFS_MAX_OVERHEAD);
	if (err)
		return err;
	err = relay_init(&c->relay, &c->cfg, 0, io_send, c);
	if (err)
		return err;
	c->relay.force_xlat = c->force_xlat;
	c->listen_fd = open_socket(&c->cfg.listen, &c->listen_port, "listen");
	if (c->listen_fd < 0)
		return c->listen_fd;
	c->upstream_fd = open_socket(&any, &c->upstream_port, "upstream");
	if (c->upstream_fd < 0)
		return c->upstream_fd;
	udp_txq_init(&c->txq[RELAY_LOCAL], c->listen_fd, 0, true); /* zero copy: no allocation */
	udp_txq_init(&c->txq[RELAY_SERVER], c->upstream_fd, 0, true);

	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0)
		return -errno;
	err = setup_signals(c);
	if (!err)
		err = setup_timer(c);
	if (!err)
		err = epoll_add(c->epfd, c->listen_fd, TAG_LISTEN);
	if (!err)
		err = epoll_add(c->epfd, c->upstream_fd, TAG_UPSTREAM);
	if (!err)
		err = epoll_add(c->epfd, c->sigfd, TAG_SIGNAL);
	if (!err)
		err = epoll_add(c->epfd, c->timerfd, TAG_TIMER);
	if (!err)
		err = resolver_init(&c->res, c->cfg.server_host, c->cfg.server_port, &c->cfg.dns,
				    c->epfd, TAG_RESOLVER);
	if (err)
		return err;
	xwgp_ep_format(buf, sizeof(buf), &c->cfg.listen);
	pr_info("client: listening on %s (port %u) for the local WireGuard, upstream port %u, "
		"obfs %s",
		buf, c->listen_port, c->upstream_port, c->cfg.obfs ? "on" : "off");
	return 0;
}

static void teardown(struct client *c)
{
	resolver_fini(&c->res);
	relay_fini(&c->relay);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	if (c->upstream_fd >= 0)
		close(c->upstream_fd);
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->sigfd >= 0)
		close(c->sigfd);
	if (c->timerfd >= 0)
		close(c->timerfd);
	udp_rxb_free(&c->rx);
	config_free_client(&c->cfg);
}

static void on_signal(struct client *c)
{
	struct signalfd_siginfo si;

	while (read(c->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGUSR1:
			print_stats(c);
			write_stats_file(c);
			break;
		case SIGHUP:
			if (c->res.mode == RESOLVE_LITERAL) {
				pr_info("SIGHUP: the server is an IP address; nothing to resolve");
				break;
			}
			pr_info("SIGHUP: resolving `%s' now", c->cfg.server_host);
			resolve_start(c, xwgp_mono_ns());
			break;
		default:
			c->stop = true;
		}
	}
}

static void on_timer(struct client *c)
{
	uint64_t ticks, now = xwgp_mono_ns();

	if (read(c->timerfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		pr_debug("timerfd: %s", strerror(errno));
	relay_expire(&c->relay, now);
	resolve_poll(c, now); /* DNS retries and timeouts */
	if (c->next_resolve_ns && now >= c->next_resolve_ns)
		resolve_start(c, now);
	write_stats_file(c);
}

static int run(struct client *c)
{
	struct epoll_event evs[8];

	while (!c->stop) {
		int n = epoll_wait(c->epfd, evs, 8, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_err("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			switch (evs[i].data.u64) {
			case TAG_LISTEN:
				on_readable(c, RELAY_LOCAL);
				break;
			case TAG_UPSTREAM:
				on_readable(c, RELAY_SERVER);
				break;
			case TAG_SIGNAL:
				on_signal(c);
				break;
			case TAG_TIMER:
				on_timer(c);
				break;
			case TAG_RESOLVER:
				resolve_poll(c, xwgp_mono_ns());
				break;
			}
		}
	}
	return 0;
}

int cmd_client(int argc, char **argv)
{
	static struct client c; /* large (batches); one per process */
	int ret, err;

	memset(&c, 0, sizeof(c));
	ret = parse_args(&c, argc, argv);
	if (ret)
		return ret == 1 ? 0 : ret;
	err = config_load_client(c.config_path, &c.cfg);
	if (err) {
		pr_err("%s: cannot load the client config", c.config_path);
		return 1;
	}
	err = setup(&c);
	if (err) {
		pr_err("client: setup failed: %s", strerror(-err));
		teardown(&c);
		return 1;
	}
	resolve_initial(&c);
	err = run(&c);
	print_stats(&c);
	write_stats_file(&c);
	teardown(&c);
	return err ? 1 : 0;
}
