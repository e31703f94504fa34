// SPDX-License-Identifier: GPL-2.0
/*
 * Endpoint parsing and formatting. Numeric literals go through inet_pton(),
 * not getaddrinfo(AI_NUMERICHOST): glibc's numeric parsing follows
 * inet_aton() and would take "127.1" or "0x7f.0.0.1" for addresses, which a
 * config should refuse rather than guess at.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

/* A DNS name is at most 253 characters; an IPv6 literal far less. */
#define HOST_BUF 256

struct ep_parts {
	char host[HOST_BUF];
	bool bracketed;
	uint16_t port;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int parse_port(const char *s, uint32_t flags, uint16_t *port)
{
	uint32_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (!is_digit(*s))
			return -EINVAL;
		/* Saturate instead of overflowing; keep scanning for junk. */
		v = v * 10 + (uint32_t)(*s - '0');
		if (v > 65535)
			v = 65536;
	}
	if (v > 65535 || (v == 0 && !(flags & XWGP_EP_PORT_ZERO)))
		return -ERANGE;
	*port = (uint16_t)v;
	return 0;
}

/* "[host]:port", "host:port" or, with XWGP_EP_HOST_ONLY, "host" / "[host]". */
static int split_host_port(const char *s, uint32_t flags, struct ep_parts *p)
{
	const char *host = s, *host_end, *port = NULL;
	size_t len;

	if (s[0] == '[') {
		host = s + 1;
		host_end = strchr(host, ']');
		if (!host_end)
			return -EINVAL;
		p->bracketed = true;
		if (flags & XWGP_EP_HOST_ONLY) {
			if (host_end[1])
				return -EINVAL;
		} else {
			if (host_end[1] != ':')
				return -EINVAL;
			port = host_end + 2;
		}
	} else if (flags & XWGP_EP_HOST_ONLY) {
		host_end = s + strlen(s);
	} else {
		host_end = strrchr(s, ':');
		if (!host_end)
			return -EINVAL; /* no port */
		/* An IPv6 literal followed by a port is ambiguous without brackets. */
		if (memchr(s, ':', (size_t)(host_end - s)))
			return -EINVAL;
		port = host_end + 1;
	}
	len = (size_t)(host_end - host);
	if (len >= sizeof(p->host) || (p->bracketed && !len))
		return -EINVAL;
	memcpy(p->host, host, len);
	p->host[len] = '\0';
	p->port = 0;
	return port ? parse_port(port, flags, &p->port) : 0;
}

void xwgp_ep_set_ip4(struct xwgp_ep *ep, uint32_t addr_be, uint16_t port_be)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr[2] = htonl(0xffff);
	ep->addr[3] = addr_be;
	ep->port = port_be;
	ep->family = XWGP_FAMILY_IPV4;
}

void xwgp_ep_set_ip6(struct xwgp_ep *ep, const uint8_t addr[static 16], uint16_t port_be)
{
	memset(ep, 0, sizeof(*ep));
	memcpy(ep->addr, addr, 16);
	ep->port = port_be;
	ep->family = IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)ep->addr) ? XWGP_FAMILY_IPV4
									      : XWGP_FAMILY_IPV6;
}

uint16_t xwgp_ep_port(const struct xwgp_ep *ep)
{
	return ntohs(ep->port);
}

/* IPv4 only unbracketed; IPv6 bracketed, or bare when no port follows. */
static int parse_ip(const struct ep_parts *p, struct xwgp_ep *ep)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (!p->bracketed && inet_pton(AF_INET, p->host, &a4) == 1) {
		xwgp_ep_set_ip4(ep, a4.s_addr, 0);
		return 0;
	}
	if (inet_pton(AF_INET6, p->host, &a6) == 1) {
		xwgp_ep_set_ip6(ep, a6.s6_addr, 0);
		return 0;
	}
	return -EINVAL;
}

/*
 * RFC 1123 host names: labels of letters, digits, '-' (and '_', seen in the
 * wild), 1-63 characters, 253 in total, one optional trailing dot. The last
 * label must hold a letter, so that "1.2.3" never reaches the resolver, which
 * would read it as an inet_aton() address.
 */
static bool valid_hostname(const char *h)
{
	size_t len = strlen(h), label = 0, i;
	bool alpha = false;

	if (len && h[len - 1] == '.')
		len--;
	if (!len || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		char c = h[i];

		if (c == '.') {
			if (!label || h[i - 1] == '-')
				return false;
			label = 0;
			alpha = false;
			continue;
		}
		if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_')
			return false;
		if (c == '-' && !label)
			return false;
		if (++label > 63)
			return false;
		alpha |= is_alpha(c);
	}
	return label && h[len - 1] != '-' && alpha;
}

static int resolve_name(const char *host, struct xwgp_ep *ep)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res;
	int ret;

	ret = getaddrinfo(host, NULL, &hints, &res);
	switch (ret) {
	case 0:
		break;
	case EAI_NONAME:
	case EAI_NODATA:
	case EAI_ADDRFAMILY:
		return -ENOENT;
	case EAI_AGAIN:
		return -EAGAIN;
	default:
		return -EIO;
	}
	ret = xwgp_ep_from_sockaddr(ep, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return ret;
}

static int ep_parse(const char *s, uint32_t flags, struct xwgp_ep *out, bool resolve,
		    bool *by_name)
{
	struct xwgp_ep ep = { 0 };
	struct ep_parts p = { 0 };
	bool named = false;
	int ret;

	if (!s)
		return -EINVAL;
	ret = split_host_port(s, flags, &p);
	if (ret)
		return ret;
	if (!p.host[0]) {
		if (!(flags & XWGP_EP_HOST_OPTIONAL) || (flags & XWGP_EP_HOST_ONLY))
			return -EDESTADDRREQ;
		ep.family = XWGP_FAMILY_NONE;
	} else if (parse_ip(&p, &ep)) {
		if (!resolve || p.bracketed || !valid_hostname(p.host))
			return -EINVAL;
		ret = resolve_name(p.host, &ep);
		if (ret)
			return ret;
		named = true;
	}
	ep.port = htons(p.port);
	*out = ep;
	if (by_name)
		*by_name = named;
	return 0;
}

int xwgp_ep_parse(const char *s, uint32_t flags, struct xwgp_ep *out)
{
	return ep_parse(s, flags, out, false, NULL);
}

int xwgp_ep_resolve(const char *s, uint32_t flags, struct xwgp_ep *out, bool *by_name)
{
	return ep_parse(s, flags, out, true, by_name);
}

int xwgp_hostport_split(const char *s, char *host, size_t host_len, uint16_t *port)
{
	struct ep_parts p = { 0 };
	struct xwgp_ep ep;
	int ret;

	if (!s)
		return -EINVAL;
	ret = split_host_port(s, 0, &p);
	if (ret)
		return ret;
	if (!p.host[0])
		return -EDESTADDRREQ;
	if (parse_ip(&p, &ep) && (p.bracketed || !valid_hostname(p.host)))
		return -EINVAL;
	if (strlen(p.host) >= host_len)
		return -ENOSPC;
	strcpy(host, p.host);
	*port = p.port;
	return 0;
}

const char *xwgp_ep_strerror(int err)
{
	switch (err) {
	case 0:
		return "no error";
	case -EINVAL:
		return "malformed address";
	case -EDESTADDRREQ:
		return "host missing";
	case -ERANGE:
		return "port out of range";
	case -ENOENT:
		return "host name not found";
	case -EAGAIN:
		return "temporary failure in name resolution";
	case -EIO:
		return "name resolution failed";
	default:
		return strerror(-err);
	}
}

int xwgp_ep_combine(struct xwgp_ep *out, const struct xwgp_ep *ep, const struct xwgp_ep *host)
{
	struct xwgp_ep r;

	if (ep->family != XWGP_FAMILY_NONE) {
		*out = *ep;
		return 0;
	}
	if (!host || host->family == XWGP_FAMILY_NONE)
		return -EDESTADDRREQ;
	r = *host;
	r.port = ep->port;
	*out = r;
	return 0;
}

bool xwgp_ep_is_unspecified(const struct xwgp_ep *ep)
{
	static const uint32_t zero[4];

	switch (ep->family) {
	case XWGP_FAMILY_IPV4:
		return ep->addr[3] == 0;
	case XWGP_FAMILY_IPV6:
		return !memcmp(ep->addr, zero, sizeof(zero));
	default:
		return true;
	}
}

int xwgp_ep_to_sockaddr(const struct xwgp_ep *ep, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	switch (ep->family) {
	case XWGP_FAMILY_IPV4: {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = ep->port;
		sin->sin_addr.s_addr = ep->addr[3];
		*len = sizeof(*sin);
		return 0;
	}
	case XWGP_FAMILY_IPV6:
	case XWGP_FAMILY_NONE: {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = ep->port;
		if (ep->family == XWGP_FAMILY_IPV6)
			memcpy(&sin6->sin6_addr, ep->addr, 16);
		*len = sizeof(*sin6);
		return 0;
	}
	default:
		return -EAFNOSUPPORT;
	}
}

void xwgp_ep_to_sin6(const struct xwgp_ep *ep, struct sockaddr_in6 *sin6)
{
	memset(sin6, 0, sizeof(*sin6));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = ep->port;
	if (ep->family != XWGP_FAMILY_NONE)
		memcpy(&sin6->sin6_addr, ep->addr, 16);
}

void xwgp_ep_from_in6(struct xwgp_ep *ep, const struct in6_addr *a, uint16_t port_be)
{
	memcpy(ep->addr, a, 16);
	ep->port = port_be;
	ep->family = IN6_IS_ADDR_V4MAPPED(a) ? XWGP_FAMILY_IPV4 : XWGP_FAMILY_IPV6;
}

int xwgp_ep_from_sockaddr(struct xwgp_ep *ep, const struct sockaddr *sa, socklen_t len)
{
	if (len < sizeof(sa_family_t))
		return -EINVAL;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		if (len < sizeof(*sin))
			return -EINVAL;
		xwgp_ep_set_ip4(ep, sin->sin_addr.s_addr, sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		if (len < sizeof(*sin6))
			return -EINVAL;
		xwgp_ep_set_ip6(ep, sin6->sin6_addr.s6_addr, sin6->sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

int xwgp_ep_format_ip(char *buf, size_t len, const struct xwgp_ep *ep)
{
	char ip[INET6_ADDRSTRLEN] = "";
	int n;

	switch (ep->family) {
	case XWGP_FAMILY_NONE:
		break;
	case XWGP_FAMILY_IPV4:
		inet_ntop(AF_INET, &ep->addr[3], ip, sizeof(ip));
		break;
	case XWGP_FAMILY_IPV6:
		inet_ntop(AF_INET6, ep->addr, ip, sizeof(ip));
		break;
	default:
		return -EAFNOSUPPORT;
	}
	n = snprintf(buf, len, "%s", ip);
	return (size_t)n >= len ? -ENOSPC : 0;
}

int xwgp_ep_format(char *buf, size_t len, const struct xwgp_ep *ep)
{
	char ip[INET6_ADDRSTRLEN];
	int n, ret;

	ret = xwgp_ep_format_ip(ip, sizeof(ip), ep);
	if (ret)
		return ret;
	if (ep->family == XWGP_FAMILY_IPV6)
		n = snprintf(buf, len, "[%s]:%u", ip, xwgp_ep_port(ep));
	else
		n = snprintf(buf, len, "%s:%u", ip, xwgp_ep_port(ep));
	return (size_t)n >= len ? -ENOSPC : 0;
}

bool xwgp_ep_equal_ip(const struct xwgp_ep *a, const struct xwgp_ep *b)
{
	if (a->family != b->family)
		return false;
	return a->family == XWGP_FAMILY_NONE || !memcmp(a->addr, b->addr, sizeof(a->addr));
}

bool xwgp_ep_equal(const struct xwgp_ep *a, const struct xwgp_ep *b)
{
	return xwgp_ep_equal_ip(a, b) && a->port == b->port;
}
