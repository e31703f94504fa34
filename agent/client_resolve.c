// SPDX-License-Identifier: GPL-2.0
/*
 * Server name resolution for `xwgp client': see client_resolve.h.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sodium.h>

#include "addr.h"
#include "client_resolve.h"
#include "clock.h"
#include "log.h"

static const uint16_t qtypes[2] = { DNS_TYPE_A, DNS_TYPE_AAAA };

static void ep_watch(struct resolver *r, int fd, int op)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = r->tag };

	if (r->epfd >= 0 && epoll_ctl(r->epfd, op, fd, &ev))
		pr_warn("resolver: epoll_ctl on fd %d: %s", fd, strerror(errno));
}

static void gai_notify(union sigval sv)
{
	struct resolver *r = sv.sival_ptr;
	uint64_t one = 1;

	/* Runs in a glibc helper thread: only wake the loop. */
	if (write(r->evfd, &one, sizeof(one)) < 0) {
		/* the loop also polls on its tick */
	}
}

int resolver_init(struct resolver *r, const char *host, uint16_t port, const struct xwgp_ep *dns,
		  int epfd, uint64_t tag)
{
	memset(r, 0, sizeof(*r));
	r->host = host;
	r->port = port;
	r->epfd = epfd;
	r->tag = tag;
	r->fd = -1;
	r->evfd = -1;
	if (!xwgp_ep_parse(host, XWGP_EP_HOST_ONLY, &r->literal)) {
		r->mode = RESOLVE_LITERAL;
		r->literal.port = htons(port);
		return 0;
	}
	if (dns && dns->family != XWGP_FAMILY_NONE) {
		r->mode = RESOLVE_DNS;
		r->dns = *dns;
		return 0;
	}
	r->mode = RESOLVE_SYSTEM;
	r->hints.ai_family = AF_UNSPEC;
	r->hints.ai_socktype = SOCK_DGRAM;
	r->hints.ai_protocol = IPPROTO_UDP;
	snprintf(r->service, sizeof(r->service), "%u", port);
	r->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->evfd < 0)
		return -errno;
	ep_watch(r, r->evfd, EPOLL_CTL_ADD);
	return 0;
}

static void dns_close(struct resolver *r)
{
	if (r->fd < 0)
		return;
	ep_watch(r, r->fd, EPOLL_CTL_DEL);
	close(r->fd);
	r->fd = -1;
}

void resolver_fini(struct resolver *r)
{
	dns_close(r);
	if (r->mode == RESOLVE_SYSTEM && r->busy) {
		struct timespec wait = { .tv_sec = 5 };
		const struct gaicb *list[1] = { &r->gcb };

		/* A lookup already running cannot be cancelled: let it finish. */
		if (gai_cancel(&r->gcb) == EAI_NOTCANCELED)
			gai_suspend(list, 1, &wait);
		if (gai_error(&r->gcb) == 0 && r->gcb.ar_result)
			freeaddrinfo(r->gcb.ar_result);
	}
	r->busy = false;
	if (r->evfd >= 0) {
		ep_watch(r, r->evfd, EPOLL_CTL_DEL);
		close(r->evfd);
		r->evfd = -1;
	}
}

const char *resolver_describe(const struct resolver *r, char *buf, size_t len)
{
	char ep[XWGP_EP_STRLEN];

	switch (r->mode) {
	case RESOLVE_LITERAL:
		snprintf(buf, len, "IP literal");
		break;
	case RESOLVE_SYSTEM:
		snprintf(buf, len, "system resolver");
		break;
	case RESOLVE_DNS:
		xwgp_ep_format(ep, sizeof(ep), &r->dns);
		snprintf(buf, len, "DNS server %s", ep);
		break;
	}
	return buf;
}

bool resolve_result_has(const struct resolve_result *out, const struct xwgp_ep *ep)
{
	for (size_t i = 0; i < out->n; i++)
		if (xwgp_ep_equal(&out->ep[i], ep))
			return true;
	return false;
}

/* ---- our own DNS queries ----------------------------------------------------- */

static int dns_send(struct resolver *r, int k)
{
	uint8_t q[DNS_QUERY_MAX];
	int n = dns_build_query(q, sizeof(q), r->id[k], r->host, qtypes[k]);

	if (n < 0)
		return n;
	if (send(r->fd, q, (size_t)n, 0) < 0)
		return -errno;
	return 0;
}

static int dns_start(struct resolver *r, uint64_t now)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	int err;

	err = xwgp_ep_to_sockaddr(&r->dns, &ss, &slen);
	if (err)
		return err;
	r->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		return -errno;
	/* Connected: the kernel drops datagrams from anyone but the DNS server. */
	if (connect(r->fd, (struct sockaddr *)&ss, slen)) {
		err = -errno;
		close(r->fd);
		r->fd = -1;
		return err;
	}
	ep_watch(r, r->fd, EPOLL_CTL_ADD);
	for (int k = 0; k < 2; k++) {
		/* Random ids and a fresh port make spoofed answers hard to land. */
		r->id[k] = (uint16_t)randombytes_uniform(65536);
		r->done[k] = false;
		r->err[k] = -ETIMEDOUT;
		memset(&r->res[k], 0, sizeof(r->res[k]));
		err = dns_send(r, k);
		if (err)
			pr_debug("resolver: sending a DNS query for %s failed: %s", r->host,
				 strerror(-err));
	}
	r->tries = 1;
	r->try_deadline_ns = now + NSEC_PER_SEC;
	return 0;
}

static void dns_receive(struct resolver *r)
{
	uint8_t buf[4096];
	ssize_t n;

	while ((n = recv(r->fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0 || errno == ECONNREFUSED) {
		if (n < 0) {
			pr_debug("resolver: DNS server refused (ICMP port unreachable)");
			continue;
		}
		for (int k = 0; k < 2; k++) {
			int err;

			if (r->done[k])
				continue;
			err = dns_parse_response(buf, (size_t)n, r->id[k], r->host, qtypes[k],
						 &r->res[k]);
			if (err == -EPROTO)
				continue; /* not the answer to this query */
			if (err == -EBADMSG)
				pr_debug("resolver: malformed DNS answer for %s", r->host);
			r->done[k] = true;
			r->err[k] = err;
			break;
		}
	}
}

static void add_ep(struct resolve_result *out, const struct xwgp_ep *ep)
{
	if (out->n < RESOLVE_MAX_ADDRS && !resolve_result_has(out, ep))
		out->ep[out->n++] = *ep;
}

/* A answers first, then AAAA; the error that explains an empty result. */
static int dns_finish(struct resolver *r, struct resolve_result *out)
{
	int err = 0;

	dns_close(r);
	r->busy = false;
	memset(out, 0, sizeof(*out));
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; !r->err[k] && i < r->res[k].n; i++) {
			struct xwgp_ep ep;

			if (qtypes[k] == DNS_TYPE_A) {
				uint32_t a;

				memcpy(&a, r->res[k].addr[i], 4);
				xwgp_ep_set_ip4(&ep, a, htons(r->port));
			} else {
				xwgp_ep_set_ip6(&ep, r->res[k].addr[i], htons(r->port));
			}
			add_ep(out, &ep);
		}
	}
	if (out->n)
		return 1;
	if (r->err[0] == -ENOENT || r->err[1] == -ENOENT || (!r->err[0] && !r->err[1]))
		return -ENOENT; /* NXDOMAIN, or the name has no A/AAAA record */
	if (r->err[0] == -ETIMEDOUT || r->err[1] == -ETIMEDOUT)
		err = -ETIMEDOUT;
	return err ? err : (r->err[0] ? r->err[0] : r->err[1]);
}

static int dns_poll(struct resolver *r, uint64_t now, struct resolve_result *out)
{
	dns_receive(r);
	if (r->done[0] && r->done[1])
		return dns_finish(r, out);
	if (now < r->try_deadline_ns)
		return 0;
	if (r->tries >= RESOLVE_DNS_TRIES)
		return dns_finish(r, out);
	r->tries++;
	r->try_deadline_ns = now + (uint64_t)r->tries * NSEC_PER_SEC;
	for (int k = 0; k < 2; k++)
		if (!r->done[k])
			dns_send(r, k); /* same id: a late answer to the first try still counts */
	return 0;
}

/* ---- the system resolver ------------------------------------------------------ */

static int gai_to_errno(int e)
{
	switch (e) {
	case EAI_NONAME:
	case EAI_NODATA:
	case EAI_ADDRFAMILY:
		return -ENOENT;
	case EAI_AGAIN:
		return -EAGAIN;
	case EAI_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static void addrinfo_collect(const struct addrinfo *list, struct resolve_result *out)
{
	memset(out, 0, sizeof(*out));
	/* Two passes: IPv4 first, as mwgp picks. */
	for (int pass = 0; pass < 2; pass++) {
		for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
			struct xwgp_ep ep;

			if ((ai->ai_family == AF_INET) != (pass == 0))
				continue;
			if (xwgp_ep_from_sockaddr(&ep, ai->ai_addr, ai->ai_addrlen))
				continue;
			add_ep(out, &ep);
		}
	}
}

static int system_start(struct resolver *r)
{
	struct gaicb *list[1] = { &r->gcb };
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD,
		.sigev_notify_function = gai_notify,
		.sigev_value.sival_ptr = r,
	};
	int e;

	memset(&r->gcb, 0, sizeof(r->gcb));
	r->gcb.ar_name = r->host;
	r->gcb.ar_service = r->service;
	r->gcb.ar_request = &r->hints;
	e = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev);
	if (e) {
		pr_debug("resolver: getaddrinfo_a: %s", gai_strerror(e));
		return gai_to_errno(e);
	}
	return 0;
}

static int system_poll(struct resolver *r, struct resolve_result *out)
{
	uint64_t v;
	int e;

	if (read(r->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_debug("resolver: eventfd read: %s", strerror(errno));
	e = gai_error(&r->gcb);
	if (e == EAI_INPROGRESS)
		return 0;
	r->busy = false;
	if (e) {
		pr_debug("resolver: %s: %s", r->host, gai_strerror(e));
		return gai_to_errno(e);
	}
	addrinfo_collect(r->gcb.ar_result, out);
	freeaddrinfo(r->gcb.ar_result);
	r->gcb.ar_result = NULL;
	return out->n ? 1 : -ENOENT;
}

/* ---- entry points --------------------------------------------------------------- */

int resolver_start(struct resolver *r, uint64_t now_ns)
{
	int err = 0;

	if (r->busy)
		return 0;
	switch (r->mode) {
	case RESOLVE_LITERAL:
		break; /* resolver_poll reports it at once */
	case RESOLVE_DNS:
		err = dns_start(r, now_ns);
		break;
	case RESOLVE_SYSTEM:
		err = system_start(r);
		break;
	}
	if (!err)
		r->busy = true;
	return err;
}

int resolver_poll(struct resolver *r, uint64_t now_ns, struct resolve_result *out)
{
	switch (r->mode) {
	case RESOLVE_LITERAL:
		if (!r->busy)
			return 0;
		r->busy = false;
		memset(out, 0, sizeof(*out));
		out->ep[out->n++] = r->literal;
		return 1;
	case RESOLVE_DNS:
		return r->busy ? dns_poll(r, now_ns, out) : 0;
	case RESOLVE_SYSTEM:
		return r->busy ? system_poll(r, out) : 0;
	}
	return 0;
}

int resolver_resolve_sync(struct resolver *r, int timeout_ms, struct resolve_result *out)
{
	uint64_t deadline = xwgp_mono_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	struct addrinfo *list = NULL;
	int ret, e;

	switch (r->mode) {
	case RESOLVE_LITERAL:
		r->busy = true;
		return resolver_poll(r, 0, out) == 1 ? 0 : -EINVAL;
	case RESOLVE_SYSTEM:
		/* Blocking, with the system resolver's own timeouts (resolv.conf). */
		e = getaddrinfo(r->host, r->service, &r->hints, &list);
		if (e)
			return gai_to_errno(e);
		addrinfo_collect(list, out);
		freeaddrinfo(list);
		return out->n ? 0 : -ENOENT;
	case RESOLVE_DNS:
		break;
	}
	if (r->busy)
		return -EBUSY;
	ret = resolver_start(r, xwgp_mono_ns());
	if (ret)
		return ret;
	for (;;) {
		uint64_t now = xwgp_mono_ns();
		struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
		uint64_t until = r->try_deadline_ns < deadline ? r->try_deadline_ns : deadline;

		ret = resolver_poll(r, now, out);
		if (ret)
			return ret > 0 ? 0 : ret;
		if (now >= deadline) {
			dns_close(r);
			r->busy = false;
			return -ETIMEDOUT;
		}
		poll(&pfd, 1, (int)((until > now ? until - now : 0) / NSEC_PER_MSEC) + 1);
	}
}
