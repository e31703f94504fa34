/* SPDX-License-Identifier: GPL-2.0 */
/*
 * UDP endpoints as struct xwgp_ep (include/xwgp_abi.h): parse the strings of
 * mwgp configs, format them back, convert to and from struct sockaddr.
 *
 * Accepted forms (flags below widen or narrow them):
 *   "192.0.2.1:51820"     IPv4 host and port
 *   "[2001:db8::1]:51820" IPv6 literals only inside brackets when a port follows
 *   ":51820"              host omitted (XWGP_EP_HOST_OPTIONAL): family NONE
 *   "192.0.2.1", "2001:db8::1", "[2001:db8::1]"  bare hosts (XWGP_EP_HOST_ONLY)
 *   "host.example:51820"  host names, only through xwgp_ep_resolve()
 * IPv4-mapped IPv6 literals ("[::ffff:192.0.2.1]:1") are stored as IPv4, the
 * way a dual-stack socket reports such peers. Zone ids ("fe80::1%eth0") are
 * refused: struct xwgp_ep has no room for a scope.
 */
#ifndef XWGP_ADDR_H
#define XWGP_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "xwgp_abi.h"

/* Buffer size that fits any xwgp_ep_format() result: "[<46>]:65535" + NUL. */
#define XWGP_EP_STRLEN 56

/* Flags for xwgp_ep_parse() / xwgp_ep_resolve(). */
#define XWGP_EP_HOST_OPTIONAL (1u << 0) /* ":port" accepted: family NONE, addr zero */
#define XWGP_EP_PORT_ZERO (1u << 1) /* port 0 accepted (an ephemeral port) */
#define XWGP_EP_HOST_ONLY (1u << 2) /* a bare host without port; result has port 0 */

/*
 * Parse a numeric endpoint. Returns 0, or
 *   -EINVAL       malformed (bad IP literal, missing or non-numeric port, a host
 *                 name, IPv6 without brackets before a port, zone id, spaces)
 *   -EDESTADDRREQ the host is empty and XWGP_EP_HOST_OPTIONAL is not set
 *   -ERANGE       port above 65535, or 0 without XWGP_EP_PORT_ZERO
 * *out is written only on success.
 */
int xwgp_ep_parse(const char *s, uint32_t flags, struct xwgp_ep *out);

/*
 * Like xwgp_ep_parse(), but a syntactically valid host name is resolved with
 * getaddrinfo() (first result; numeric literals never reach the resolver).
 * *by_name (may be NULL) tells whether a name was resolved. Extra errors:
 *   -ENOENT  the name does not resolve; -EAGAIN  temporary resolver failure;
 *   -EIO     any other resolver failure.
 */
int xwgp_ep_resolve(const char *s, uint32_t flags, struct xwgp_ep *out, bool *by_name);

/*
 * Split "host:port" / "[v6]:port" without resolving (mwgp client `server',
 * resolved again and again at run time). The host must be an IP literal or a
 * valid host name; brackets are removed. Port 1-65535. Errors as above.
 */
int xwgp_hostport_split(const char *s, char *host, size_t host_len, uint16_t *port);

/* A short reason for an error returned by the parsers above. */
const char *xwgp_ep_strerror(int err);

/*
 * Complete an endpoint whose host was omitted (family NONE) with the host of
 * `host' (mwgp: forward_to ":1000" + server address "192.0.2.1"). An endpoint
 * that has a host is copied unchanged. -EDESTADDRREQ if neither has a host.
 */
int xwgp_ep_combine(struct xwgp_ep *out, const struct xwgp_ep *ep, const struct xwgp_ep *host);

/* Set an endpoint from an IPv4 address / IPv6 address and port (network order). */
void xwgp_ep_set_ip4(struct xwgp_ep *ep, uint32_t addr_be, uint16_t port_be);
void xwgp_ep_set_ip6(struct xwgp_ep *ep, const uint8_t addr[static 16], uint16_t port_be);

/* Port in host byte order. */
uint16_t xwgp_ep_port(const struct xwgp_ep *ep);

/* 0.0.0.0, ::, or family NONE: a wildcard, never a destination. */
bool xwgp_ep_is_unspecified(const struct xwgp_ep *ep);

/*
 * To a sockaddr_in (IPv4) or sockaddr_in6 (IPv6). Family NONE gives the IPv6
 * wildcard [::]:port, meant for binding a dual-stack socket (the caller clears
 * IPV6_V6ONLY). -EAFNOSUPPORT for an unknown family.
 */
int xwgp_ep_to_sockaddr(const struct xwgp_ep *ep, struct sockaddr_storage *ss, socklen_t *len);

/* From AF_INET or AF_INET6 (v4-mapped becomes IPv4). -EAFNOSUPPORT, -EINVAL. */
int xwgp_ep_from_sockaddr(struct xwgp_ep *ep, const struct sockaddr *sa, socklen_t len);

/*
 * For a dual-stack AF_INET6 socket: IPv4 stays IPv4-mapped, exactly what such
 * a socket takes and reports. Family NONE gives the wildcard [::]:port.
 */
void xwgp_ep_to_sin6(const struct xwgp_ep *ep, struct sockaddr_in6 *sin6);
void xwgp_ep_from_in6(struct xwgp_ep *ep, const struct in6_addr *a, uint16_t port_be);

/*
 * "192.0.2.1:5", "[2001:db8::1]:5", or ":5" for family NONE. -ENOSPC if buf is
 * too small (XWGP_EP_STRLEN always fits), -EAFNOSUPPORT for an unknown family.
 */
int xwgp_ep_format(char *buf, size_t len, const struct xwgp_ep *ep);

/* The host alone: "192.0.2.1", "2001:db8::1", or "" for family NONE. */
int xwgp_ep_format_ip(char *buf, size_t len, const struct xwgp_ep *ep);

/* Same family and address (ports ignored). */
bool xwgp_ep_equal_ip(const struct xwgp_ep *a, const struct xwgp_ep *b);

/* Same family, address and port. */
bool xwgp_ep_equal(const struct xwgp_ep *a, const struct xwgp_ep *b);

#endif /* XWGP_ADDR_H */
