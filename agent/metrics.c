// SPDX-License-Identifier: GPL-2.0
/*
 * The metrics endpoint (see metrics.h). libmicrohttpd runs without a thread
 * of its own (MHD_USE_EPOLL): this file's thread waits on MHD's epoll fd
 * and a stop eventfd, and every request is answered in it, so the state
 * below (the previous scrape's sessions) needs no lock.
 *
 * Per-backend counters must not fall when a session expires (a WireGuard
 * client re-handshakes every 2 minutes, into a new session): each scrape
 * remembers the sessions it saw, and a session gone by the next scrape
 * adds its last totals to a per-backend "retired" sum. Exact as long as
 * scrapes come more often than `timeout' (a session expires only after that
 * long without traffic); an agent restart starts the sums again (a counter
 * reset, which Prometheus handles).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "addr.h"
#include "log.h"
#include "metrics.h"
#include "metrics_collect.h"
#include "prom.h"

struct metrics_server {
	struct MHD_Daemon *d;
	pthread_t thread;
	int stop_fd, epfd;
	struct xwgp_maps maps;
	char *instance, *xdp_mode; /* copies: a reload may free the config's */
	struct metrics_row *prev;  /* sessions of the previous scrape, sorted */
	size_t n_prev;
	struct metrics_snapshot retired; /* only backends[] used */
	char last_msg[256];		 /* libmicrohttpd's last message: why a start failed */
};

/* Sessions of prev that are not in cur (both sorted) retire into ms->retired. */
static void retire_gone(struct metrics_server *ms, const struct metrics_snapshot *cur)
{
	size_t i = 0, j = 0;

	while (i < ms->n_prev) {
		const struct metrics_row *p = &ms->prev[i];

		while (j < cur->n_rows &&
		       (cur->rows[j].key < p->key ||
			(cur->rows[j].key == p->key && cur->rows[j].created_ns < p->created_ns)))
			j++;
		if (j == cur->n_rows || cur->rows[j].key != p->key ||
		    cur->rows[j].created_ns != p->created_ns)
			metrics_backend_add(&ms->retired, &p->t);
		i++;
	}
}

static int scrape(struct metrics_server *ms, struct prom_buf *b)
{
	struct metrics_snapshot s = { .want_rows = true,
				      .instance = ms->instance,
				      .xdp_mode = ms->xdp_mode };

	metrics_collect(&ms->maps, &s);
	retire_gone(ms, &s);
	for (size_t i = 0; i < ms->retired.n_backends; i++)
		metrics_backend_add(&s, &ms->retired.backends[i]);
	free(ms->prev);
	ms->prev = s.rows;
	ms->n_prev = s.n_rows;
	s.rows = NULL;
	prom_write_snapshot(b, &s);
	metrics_snapshot_free(&s);
	return b->oom ? -ENOMEM : 0;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int status, const char *text)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct metrics_server *ms = cls;
	struct MHD_Response *r;
	struct prom_buf b = {};
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	(void)req_cls;
	*upload_data_size = 0; /* a body is never read: answered on the headers */
	if (strcmp(url, "/metrics"))
		return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics\n");
	if (scrape(ms, &b)) {
		prom_buf_free(&b);
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	r = MHD_create_response_from_buffer(b.len, b.p, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		prom_buf_free(&b);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, PROM_CONTENT_TYPE);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * libmicrohttpd's own messages ("reached connection limit", ...) would come
 * once per refused connection under a flood: debug level only.
 */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct metrics_server *ms = cls;

	vsnprintf(ms->last_msg, sizeof(ms->last_msg), fmt, ap);
	ms->last_msg[strcspn(ms->last_msg, "\n")] = '\0';
	pr_debug("metrics: %s", ms->last_msg);
}

static void *metrics_thread(void *arg)
{
	struct metrics_server *ms = arg;

	/* Linux nice is per thread: this one yields the CPU to the packet loop. */
	setpriority(PRIO_PROCESS, (id_t)gettid(), METRICS_NICE);
	for (;;) {
		struct epoll_event ev[2];
		MHD_UNSIGNED_LONG_LONG to;
		int timeout = -1, n;

		if (MHD_get_timeout(ms->d, &to) == MHD_YES)
			timeout = to > 1000 ? 1000 : (int)to;
		n = epoll_wait(ms->epfd, ev, 2, timeout);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++)
			if (ev[i].data.fd == ms->stop_fd)
				return NULL;
		MHD_run(ms->d);
	}
	return NULL;
}

static int epoll_watch(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void free_server(struct metrics_server *ms)
{
	if (ms->d)
		MHD_stop_daemon(ms->d);
	if (ms->epfd >= 0)
		close(ms->epfd);
	if (ms->stop_fd >= 0)
		close(ms->stop_fd);
	free(ms->prev);
	free(ms->instance);
	free(ms->xdp_mode);
	metrics_snapshot_free(&ms->retired);
	free(ms);
}

int metrics_start(struct metrics_server **out, const struct xwgp_ep *listen,
		  const struct xwgp_maps *maps, const char *instance, const char *xdp_mode)
{
	struct metrics_server *ms = calloc(1, sizeof(*ms));
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	char name[XWGP_EP_STRLEN];
	socklen_t sl;
	int err;

	*out = NULL;
	if (!ms)
		return -ENOMEM;
	ms->stop_fd = ms->epfd = -1;
	ms->maps = *maps;
	ms->instance = strdup(instance ? instance : "");
	ms->xdp_mode = strdup(xdp_mode ? xdp_mode : "unknown");
	if (!ms->instance || !ms->xdp_mode) {
		err = -ENOMEM;
		goto fail;
	}
	xwgp_ep_format(name, sizeof(name), listen);
	err = xwgp_ep_to_sockaddr(listen, &ss, &sl);
	if (err)
		goto fail;
	/* Without a thread of its own; MHD_USE_ERROR_LOG: its messages to mhd_log. */
	ms->d = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			(listen->family == XWGP_FAMILY_IPV6 ? MHD_USE_IPv6 : 0),
		xwgp_ep_port(listen), NULL, NULL, on_request, ms, MHD_OPTION_SOCK_ADDR, &ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_MAX_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)METRICS_MAX_PER_IP,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_TIMEOUT_SEC,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_CONN_MEMORY,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, ms, MHD_OPTION_END);
	if (!ms->d) {
		err = -EADDRNOTAVAIL;
		pr_err("metrics_listen: cannot serve on %s: %s", name,
		       ms->last_msg[0] ? ms->last_msg : "libmicrohttpd refused to start");
		goto out;
	}
	info = MHD_get_daemon_info(ms->d, MHD_DAEMON_INFO_EPOLL_FD);
	ms->epfd = epoll_create1(EPOLL_CLOEXEC);
	ms->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!info || ms->epfd < 0 || ms->stop_fd < 0) {
		err = -EIO;
		goto fail;
	}
	err = epoll_watch(ms->epfd, info->epoll_fd);
	err = err ?: epoll_watch(ms->epfd, ms->stop_fd);
	if (err)
		goto fail;
	err = -pthread_create(&ms->thread, NULL, metrics_thread, ms);
	if (err)
		goto fail;
	pr_info("metrics: serving GET /metrics on %s", name);
	*out = ms;
	return 0;
fail:
	pr_err("metrics_listen %s: %s", name, strerror(-err));
out:
	free_server(ms);
	return err;
}

void metrics_stop(struct metrics_server *ms)
{
	uint64_t one = 1;

	if (!ms)
		return;
	/* An eventfd write fails only on counter overflow: retry until it lands. */
	while (write(ms->stop_fd, &one, sizeof(one)) != sizeof(one) && errno == EINTR)
		;
	pthread_join(ms->thread, NULL);
	free_server(ms);
}
