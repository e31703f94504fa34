/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Resolving the server name of `xwgp client' without ever blocking the
 * packet loop: through the resolver named by the config's `dns' key (our
 * own A + AAAA queries over UDP, agent/dns.h), or through the system
 * resolver (getaddrinfo_a, completion signalled on an eventfd). An IP
 * literal needs neither. Results list IPv4 addresses first, as mwgp (Go's
 * ResolveUDPAddr) prefers them.
 *
 * The resolver registers its file descriptor in the caller's epoll set
 * with the caller's tag; when it is readable, or on the caller's periodic
 * tick (timeouts, retries), call resolver_poll().
 */
#ifndef XWGP_CLIENT_RESOLVE_H
#define XWGP_CLIENT_RESOLVE_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "xwgp_abi.h"

#define RESOLVE_MAX_ADDRS (2 * DNS_MAX_ADDRS)
#define RESOLVE_DNS_TRIES 3 /* per resolution; try i waits i seconds */

enum resolve_mode {
	RESOLVE_LITERAL, /* the host is an IP address */
	RESOLVE_SYSTEM,	 /* getaddrinfo */
	RESOLVE_DNS,	 /* our own queries to cfg `dns' */
};

struct resolve_result {
	size_t n;
	struct xwgp_ep ep[RESOLVE_MAX_ADDRS]; /* port set; IPv4 first */
};

struct resolver {
	enum resolve_mode mode;
	const char *host;
	uint16_t port;		/* host order */
	struct xwgp_ep literal; /* RESOLVE_LITERAL */
	struct xwgp_ep dns;	/* RESOLVE_DNS: the server to ask */
	int epfd;
	uint64_t tag;
	bool busy;
	/* RESOLVE_DNS, while busy: one socket per resolution (fresh source port) */
	int fd;
	int tries;
	uint64_t try_deadline_ns;
	uint16_t id[2]; /* [0] A, [1] AAAA */
	bool done[2];
	int err[2];
	struct dns_result res[2];
	/* RESOLVE_SYSTEM */
	int evfd;
	struct gaicb gcb;
	struct addrinfo hints;
	char service[8];
};

/*
 * host/port from the config; dns family NONE selects the system resolver.
 * host must outlive the resolver. 0 or -errno.
 */
int resolver_init(struct resolver *r, const char *host, uint16_t port, const struct xwgp_ep *dns,
		  int epfd, uint64_t tag);
/* Cancels a resolution in flight and closes everything. */
void resolver_fini(struct resolver *r);

/*
 * Resolve now and wait up to timeout_ms (startup, `--resolve-once' style
 * uses, tests). 0 with out filled (n >= 1), or -ENOENT (no such name or no
 * address), -ETIMEDOUT, -EAGAIN (temporary failure), -errno.
 */
int resolver_resolve_sync(struct resolver *r, int timeout_ms, struct resolve_result *out);

/* Start an asynchronous resolution (no-op while one runs). 0 or -errno. */
int resolver_start(struct resolver *r, uint64_t now_ns);

/*
 * Progress an asynchronous resolution. Returns 1 when it finished with out
 * filled, 0 while pending (or idle), or a negative error as for
 * resolver_resolve_sync when it finished without an address.
 */
int resolver_poll(struct resolver *r, uint64_t now_ns, struct resolve_result *out);

/* "system resolver" / "DNS server 192.0.2.53:53" / "IP literal", for logs. */
const char *resolver_describe(const struct resolver *r, char *buf, size_t len);

/* Does out hold ep (address and port)? */
bool resolve_result_has(const struct resolve_result *out, const struct xwgp_ep *ep);

#endif /* XWGP_CLIENT_RESOLVE_H */
