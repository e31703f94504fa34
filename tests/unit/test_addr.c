// SPDX-License-Identifier: GPL-2.0
/* Endpoint parsing, formatting and sockaddr conversion (agent/addr.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "addr.h"
#include "test.h"

static const uint8_t v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Parse s and compare with the expected family, address text and port. */
static int expect_ep(const char *s, uint32_t flags, int family, const char *ip, uint16_t port,
		     char *why, size_t why_len)
{
	struct xwgp_ep ep, want = { 0 };
	uint8_t a[16];
	int ret;

	memset(&ep, 0xa5, sizeof(ep));
	ret = xwgp_ep_parse(s, flags, &ep);
	if (ret) {
		snprintf(why, why_len, "`%s' -> %d (%s)", s, ret, xwgp_ep_strerror(ret));
		return -1;
	}
	if (family == XWGP_FAMILY_IPV4) {
		uint32_t a4;

		inet_pton(AF_INET, ip, &a4);
		xwgp_ep_set_ip4(&want, a4, htons(port));
	} else if (family == XWGP_FAMILY_IPV6) {
		inet_pton(AF_INET6, ip, a);
		xwgp_ep_set_ip6(&want, a, htons(port));
	} else {
		want.port = htons(port);
	}
	if (memcmp(&ep, &want, sizeof(ep))) {
		snprintf(why, why_len, "`%s': family %u port %u differs from expected", s, ep.family,
			 xwgp_ep_port(&ep));
		return -1;
	}
	return 0;
}

TEST(valid_forms)
{
	static const struct {
		const char *s;
		uint32_t flags;
		int family;
		const char *ip;
		uint16_t port;
	} cases[] = {
		{ "1.2.3.4:51820", 0, XWGP_FAMILY_IPV4, "1.2.3.4", 51820 },
		{ "192.0.2.1:1", 0, XWGP_FAMILY_IPV4, "192.0.2.1", 1 },
		{ "203.0.113.255:65535", 0, XWGP_FAMILY_IPV4, "203.0.113.255", 65535 },
		{ "0.0.0.0:1", 0, XWGP_FAMILY_IPV4, "0.0.0.0", 1 },
		{ "[2001:db8::1]:51820", 0, XWGP_FAMILY_IPV6, "2001:db8::1", 51820 },
		{ "[::]:1", 0, XWGP_FAMILY_IPV6, "::", 1 },
		{ "[::1]:53", 0, XWGP_FAMILY_IPV6, "::1", 53 },
		{ "[::ffff:192.0.2.7]:9", 0, XWGP_FAMILY_IPV4, "192.0.2.7", 9 },
		{ ":51820", XWGP_EP_HOST_OPTIONAL, XWGP_FAMILY_NONE, NULL, 51820 },
		{ ":0", XWGP_EP_HOST_OPTIONAL | XWGP_EP_PORT_ZERO, XWGP_FAMILY_NONE, NULL, 0 },
		{ "198.51.100.1:0", XWGP_EP_PORT_ZERO, XWGP_FAMILY_IPV4, "198.51.100.1", 0 },
		{ "1.2.3.4:00080", 0, XWGP_FAMILY_IPV4, "1.2.3.4", 80 },
		{ "192.0.2.1", XWGP_EP_HOST_ONLY, XWGP_FAMILY_IPV4, "192.0.2.1", 0 },
		{ "2001:db8::1", XWGP_EP_HOST_ONLY, XWGP_FAMILY_IPV6, "2001:db8::1", 0 },
		{ "[2001:db8::1]", XWGP_EP_HOST_ONLY, XWGP_FAMILY_IPV6, "2001:db8::1", 0 },
		{ "::ffff:198.51.100.9", XWGP_EP_HOST_ONLY, XWGP_FAMILY_IPV4, "198.51.100.9", 0 },
	};
	char why[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(!expect_ep(cases[i].s, cases[i].flags, cases[i].family, cases[i].ip,
				 cases[i].port, why, sizeof(why)),
		      "%s", why);
}

TEST(ipv4_is_stored_mapped_in_network_order)
{
	struct xwgp_ep ep;
	const uint8_t want[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 };

	CHECK(!xwgp_ep_parse("192.0.2.1:51820", 0, &ep));
	CHECK_MEM(ep.addr, want, 16);
	CHECK(ep.family == XWGP_FAMILY_IPV4);
	CHECK(((uint8_t *)&ep.port)[0] == 0xca && ((uint8_t *)&ep.port)[1] == 0x6c,
	      "port bytes %02x %02x", ((uint8_t *)&ep.port)[0], ((uint8_t *)&ep.port)[1]);
	CHECK_MEM(ep.addr, v4_prefix, 12);
}

TEST(invalid_forms)
{
	static const struct {
		const char *s;
		uint32_t flags;
		int err;
	} cases[] = {
		{ "foo:bar:1", 0, -EINVAL },
		{ "1.2.3.4", 0, -EINVAL }, /* no port */
		{ "1.2.3.4:", 0, -EINVAL },
		{ "1.2.3.4:abc", 0, -EINVAL },
		{ "1.2.3.4:-1", 0, -EINVAL },
		{ "1.2.3.4:+1", 0, -EINVAL },
		{ "1.2.3.4:1x", 0, -EINVAL },
		{ "1.2.3.4:0", 0, -ERANGE },
		{ "1.2.3.4:65536", 0, -ERANGE },
		{ "1.2.3.4:99999999999999999999", 0, -ERANGE },
		{ ":0", XWGP_EP_HOST_OPTIONAL, -ERANGE },
		{ ":51820", 0, -EDESTADDRREQ },
		{ "", XWGP_EP_HOST_ONLY, -EDESTADDRREQ },
		{ ":", XWGP_EP_HOST_OPTIONAL, -EINVAL },
		{ "", 0, -EINVAL },
		{ "2001:db8::1:51820", 0, -EINVAL }, /* IPv6 with a port needs brackets */
		{ "[2001:db8::1]", 0, -EINVAL }, /* no port */
		{ "[2001:db8::1]51820", 0, -EINVAL },
		{ "[2001:db8::1:51820", 0, -EINVAL },
		{ "[1.2.3.4]:5", 0, -EINVAL }, /* brackets are for IPv6 */
		{ "[]:5", 0, -EINVAL },
		{ "[]", XWGP_EP_HOST_ONLY, -EINVAL },
		{ "256.1.1.1:5", 0, -EINVAL },
		{ "1.2.3:5", 0, -EINVAL }, /* inet_aton would take these */
		{ "127.1:5", 0, -EINVAL },
		{ "0x7f.0.0.1:5", 0, -EINVAL },
		{ " 1.2.3.4:5", 0, -EINVAL },
		{ "1.2.3.4:5 ", 0, -EINVAL },
		{ "1.2.3.4 :5", 0, -EINVAL },
		{ "[fe80::1%eth0]:5", 0, -EINVAL }, /* no room for a zone */
		{ "fe80::1%eth0", XWGP_EP_HOST_ONLY, -EINVAL },
		{ "host.example:5", 0, -EINVAL }, /* names only through resolve */
		{ "192.0.2.1:5", XWGP_EP_HOST_ONLY, -EINVAL },
		{ "[2001:db8::1]:5", XWGP_EP_HOST_ONLY, -EINVAL },
		{ "2001:db8::g", XWGP_EP_HOST_ONLY, -EINVAL },
	};
	struct xwgp_ep ep, before;

	memset(&before, 0x5a, sizeof(before));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret;

		ep = before;
		ret = xwgp_ep_parse(cases[i].s, cases[i].flags, &ep);
		CHECK(ret == cases[i].err, "`%s' (flags %u): got %d, want %d", cases[i].s,
		      cases[i].flags, ret, cases[i].err);
		CHECK(!memcmp(&ep, &before, sizeof(ep)), "`%s': output written on error",
		      cases[i].s);
	}
	CHECK(xwgp_ep_parse(NULL, 0, &ep) == -EINVAL);
}

TEST(resolve_numeric_never_by_name)
{
	struct xwgp_ep ep;
	bool by_name = true;

	CHECK(!xwgp_ep_resolve("192.0.2.1:5", 0, &ep, &by_name));
	CHECK(!by_name);
	CHECK(ep.family == XWGP_FAMILY_IPV4 && xwgp_ep_port(&ep) == 5);
	by_name = true;
	CHECK(!xwgp_ep_resolve("2001:db8::5", XWGP_EP_HOST_ONLY, &ep, &by_name));
	CHECK(!by_name && ep.family == XWGP_FAMILY_IPV6);
	/* Numeric-looking junk never reaches the resolver. */
	CHECK(xwgp_ep_resolve("1.2.3:5", 0, &ep, NULL) == -EINVAL);
	CHECK(xwgp_ep_resolve("127.1", XWGP_EP_HOST_ONLY, &ep, NULL) == -EINVAL);
}

TEST(resolve_host_names)
{
	struct xwgp_ep ep, lo4, lo6;
	bool by_name = false;
	int ret;

	ret = xwgp_ep_resolve("localhost:51820", 0, &ep, &by_name);
	if (ret == -ENOENT || ret == -EAGAIN)
		SKIP("`localhost' does not resolve here (%d)", ret);
	CHECK(!ret, "got %d", ret);
	CHECK(by_name);
	xwgp_ep_parse("127.0.0.1:51820", 0, &lo4);
	xwgp_ep_parse("[::1]:51820", 0, &lo6);
	CHECK(xwgp_ep_equal(&ep, &lo4) || xwgp_ep_equal(&ep, &lo6), "localhost is not loopback");
	CHECK(!xwgp_ep_resolve("localhost", XWGP_EP_HOST_ONLY, &ep, &by_name));
	CHECK(by_name && xwgp_ep_port(&ep) == 0);
}

TEST(resolve_bad_names)
{
	static const char *const bad[] = {
		"bad_host!:5", "-lead.example:5", "trail-.example:5", "a..b:5",
		".lead:5",     "[localhost]:5",   "1.2.3.4.5:5",
	};
	char long_label[80], too_long[300];
	struct xwgp_ep ep;
	int ret;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(xwgp_ep_resolve(bad[i], 0, &ep, NULL) == -EINVAL, "`%s' accepted", bad[i]);
	memset(long_label, 'a', 64);
	strcpy(long_label + 64, ".example:5");
	CHECK(xwgp_ep_resolve(long_label, 0, &ep, NULL) == -EINVAL, "64-char label accepted");
	for (size_t i = 0; i < 250; i += 2)
		memcpy(too_long + i, "a.", 2);
	strcpy(too_long + 250, "example:5");
	CHECK(xwgp_ep_resolve(too_long, 0, &ep, NULL) == -EINVAL, "259-char name accepted");
	/* RFC 6761: .invalid never resolves (no network needed to fail). */
	ret = xwgp_ep_resolve("no-such-host.invalid:5", 0, &ep, NULL);
	CHECK(ret == -ENOENT || ret == -EAGAIN || ret == -EIO, "got %d", ret);
	CHECK(xwgp_ep_resolve("localhost:0", 0, &ep, NULL) == -ERANGE);
}

TEST(strerror_reasons)
{
	CHECK(!strcmp(xwgp_ep_strerror(-EINVAL), "malformed address"));
	CHECK(!strcmp(xwgp_ep_strerror(-EDESTADDRREQ), "host missing"));
	CHECK(!strcmp(xwgp_ep_strerror(-ERANGE), "port out of range"));
	CHECK(!strcmp(xwgp_ep_strerror(-ENOENT), "host name not found"));
}

TEST(format)
{
	static const struct {
		const char *in;
		uint32_t flags;
		const char *out, *ip;
	} cases[] = {
		{ "1.2.3.4:5", 0, "1.2.3.4:5", "1.2.3.4" },
		{ "[2001:db8::1]:5", 0, "[2001:db8::1]:5", "2001:db8::1" },
		{ "[2001:0db8:0:0:0:0:0:0001]:65535", 0, "[2001:db8::1]:65535", "2001:db8::1" },
		{ "[::]:1", 0, "[::]:1", "::" },
		{ ":1000", XWGP_EP_HOST_OPTIONAL, ":1000", "" },
		{ "[::ffff:192.0.2.1]:7", 0, "192.0.2.1:7", "192.0.2.1" },
	};
	char buf[XWGP_EP_STRLEN];
	struct xwgp_ep ep;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(!xwgp_ep_parse(cases[i].in, cases[i].flags, &ep), "%s", cases[i].in);
		CHECK(!xwgp_ep_format(buf, sizeof(buf), &ep));
		CHECK(!strcmp(buf, cases[i].out), "`%s' formatted as `%s'", cases[i].in, buf);
		CHECK(!xwgp_ep_format_ip(buf, sizeof(buf), &ep));
		CHECK(!strcmp(buf, cases[i].ip), "`%s' ip formatted as `%s'", cases[i].in, buf);
	}
}

TEST(format_limits)
{
	char buf[XWGP_EP_STRLEN], small[9];
	struct xwgp_ep ep;

	CHECK(!xwgp_ep_parse("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535", 0, &ep));
	CHECK(!xwgp_ep_format(buf, sizeof(buf), &ep));
	CHECK(!xwgp_ep_parse("192.0.2.1:51820", 0, &ep));
	CHECK(xwgp_ep_format(small, sizeof(small), &ep) == -ENOSPC);
	CHECK(xwgp_ep_format_ip(small, sizeof(small), &ep) == -ENOSPC);
	ep.family = 99;
	CHECK(xwgp_ep_format(buf, sizeof(buf), &ep) == -EAFNOSUPPORT);
}

TEST(combine_forward_to_with_address)
{
	struct xwgp_ep fwd, addr, out, want, none = { 0 };

	CHECK(!xwgp_ep_parse(":1000", XWGP_EP_HOST_OPTIONAL, &fwd));
	CHECK(!xwgp_ep_parse("192.0.2.1", XWGP_EP_HOST_ONLY, &addr));
	CHECK(!xwgp_ep_combine(&out, &fwd, &addr));
	CHECK(!xwgp_ep_parse("192.0.2.1:1000", 0, &want));
	CHECK(xwgp_ep_equal(&out, &want));
	CHECK(!xwgp_ep_parse("2001:db8::3", XWGP_EP_HOST_ONLY, &addr));
	CHECK(!xwgp_ep_combine(&out, &fwd, &addr));
	CHECK(!xwgp_ep_parse("[2001:db8::3]:1000", 0, &want));
	CHECK(xwgp_ep_equal(&out, &want));
	/* A complete forward_to keeps its own host. */
	CHECK(!xwgp_ep_parse("192.0.2.2:1002", 0, &fwd));
	CHECK(!xwgp_ep_combine(&out, &fwd, &addr));
	CHECK(xwgp_ep_equal(&out, &fwd));
	CHECK(!xwgp_ep_combine(&out, &fwd, &none));
	/* Neither has a host. */
	CHECK(!xwgp_ep_parse(":1003", XWGP_EP_HOST_OPTIONAL, &fwd));
	CHECK(xwgp_ep_combine(&out, &fwd, &none) == -EDESTADDRREQ);
	CHECK(xwgp_ep_combine(&out, &fwd, NULL) == -EDESTADDRREQ);
}

TEST(sockaddr_ipv4_roundtrip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct xwgp_ep ep, back;
	socklen_t len;

	CHECK(!xwgp_ep_parse("198.51.100.7:4242", 0, &ep));
	CHECK(!xwgp_ep_to_sockaddr(&ep, &ss, &len));
	CHECK(len == sizeof(struct sockaddr_in) && sin->sin_family == AF_INET);
	CHECK(sin->sin_port == htons(4242));
	CHECK(sin->sin_addr.s_addr == htonl(0xc6336407), "addr %08x", ntohl(sin->sin_addr.s_addr));
	CHECK(!xwgp_ep_from_sockaddr(&back, (struct sockaddr *)&ss, len));
	CHECK(!memcmp(&back, &ep, sizeof(ep)));
}

TEST(sockaddr_ipv6_roundtrip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct xwgp_ep ep, back;
	struct in6_addr want;
	socklen_t len;

	CHECK(!xwgp_ep_parse("[2001:db8::42]:51820", 0, &ep));
	CHECK(!xwgp_ep_to_sockaddr(&ep, &ss, &len));
	CHECK(len == sizeof(struct sockaddr_in6) && sin6->sin6_family == AF_INET6);
	inet_pton(AF_INET6, "2001:db8::42", &want);
	CHECK_MEM(&sin6->sin6_addr, &want, 16);
	CHECK(sin6->sin6_port == htons(51820));
	CHECK(!xwgp_ep_from_sockaddr(&back, (struct sockaddr *)&ss, len));
	CHECK(!memcmp(&back, &ep, sizeof(ep)));
}

TEST(sockaddr_wildcard_and_mapped)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss, s6 = { 0 };
	struct xwgp_ep ep, want;
	socklen_t len;

	/* Family NONE binds the dual-stack wildcard. */
	CHECK(!xwgp_ep_parse(":1000", XWGP_EP_HOST_OPTIONAL, &ep));
	CHECK(!xwgp_ep_to_sockaddr(&ep, &ss, &len));
	CHECK(sin6->sin6_family == AF_INET6 && sin6->sin6_port == htons(1000));
	CHECK(IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr));
	/* What a dual-stack socket reports for an IPv4 peer. */
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(9);
	inet_pton(AF_INET6, "::ffff:203.0.113.5", &s6.sin6_addr);
	CHECK(!xwgp_ep_from_sockaddr(&ep, (struct sockaddr *)&s6, sizeof(s6)));
	CHECK(!xwgp_ep_parse("203.0.113.5:9", 0, &want));
	CHECK(ep.family == XWGP_FAMILY_IPV4 && xwgp_ep_equal(&ep, &want));
}

TEST(sockaddr_errors)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_storage ss;
	struct xwgp_ep ep = { .family = 7 };
	socklen_t len;

	CHECK(xwgp_ep_to_sockaddr(&ep, &ss, &len) == -EAFNOSUPPORT);
	CHECK(xwgp_ep_from_sockaddr(&ep, (struct sockaddr *)&sun, sizeof(sun)) == -EAFNOSUPPORT);
	CHECK(xwgp_ep_from_sockaddr(&ep, (struct sockaddr *)&sin, sizeof(sin) - 1) == -EINVAL);
	CHECK(xwgp_ep_from_sockaddr(&ep, (struct sockaddr *)&sin, 1) == -EINVAL);
}

TEST(equality)
{
	struct xwgp_ep a, b, c, d, n1, n2;

	xwgp_ep_parse("192.0.2.1:1", 0, &a);
	xwgp_ep_parse("192.0.2.1:2", 0, &b);
	xwgp_ep_parse("192.0.2.2:1", 0, &c);
	xwgp_ep_parse("[::ffff:192.0.2.1]:1", 0, &d);
	xwgp_ep_parse(":1", XWGP_EP_HOST_OPTIONAL, &n1);
	xwgp_ep_parse(":2", XWGP_EP_HOST_OPTIONAL, &n2);
	CHECK(xwgp_ep_equal(&a, &a) && xwgp_ep_equal(&a, &d));
	CHECK(xwgp_ep_equal_ip(&a, &b) && !xwgp_ep_equal(&a, &b));
	CHECK(!xwgp_ep_equal_ip(&a, &c) && !xwgp_ep_equal(&a, &c));
	CHECK(xwgp_ep_equal_ip(&n1, &n2) && !xwgp_ep_equal(&n1, &n2));
	CHECK(!xwgp_ep_equal_ip(&a, &n1));
}

TEST(unspecified)
{
	struct xwgp_ep ep;

	xwgp_ep_parse("0.0.0.0:1", 0, &ep);
	CHECK(xwgp_ep_is_unspecified(&ep));
	xwgp_ep_parse("[::]:1", 0, &ep);
	CHECK(xwgp_ep_is_unspecified(&ep));
	xwgp_ep_parse(":1", XWGP_EP_HOST_OPTIONAL, &ep);
	CHECK(xwgp_ep_is_unspecified(&ep));
	xwgp_ep_parse("0.0.0.1:1", 0, &ep);
	CHECK(!xwgp_ep_is_unspecified(&ep));
	xwgp_ep_parse("[::1]:1", 0, &ep);
	CHECK(!xwgp_ep_is_unspecified(&ep));
}

TEST(hostport_split)
{
	char host[64], tiny[4];
	uint16_t port = 0;

	CHECK(!xwgp_hostport_split("vpn.example.com:1000", host, sizeof(host), &port));
	CHECK(!strcmp(host, "vpn.example.com") && port == 1000);
	CHECK(!xwgp_hostport_split("[2001:db8::1]:51820", host, sizeof(host), &port));
	CHECK(!strcmp(host, "2001:db8::1") && port == 51820, "host `%s'", host);
	CHECK(!xwgp_hostport_split("192.0.2.1:1", host, sizeof(host), &port));
	CHECK(!strcmp(host, "192.0.2.1") && port == 1);
	CHECK(xwgp_hostport_split("vpn.example.com", host, sizeof(host), &port) == -EINVAL);
	CHECK(xwgp_hostport_split(":1000", host, sizeof(host), &port) == -EDESTADDRREQ);
	CHECK(xwgp_hostport_split("vpn.example.com:0", host, sizeof(host), &port) == -ERANGE);
	CHECK(xwgp_hostport_split("bad host:1", host, sizeof(host), &port) == -EINVAL);
	CHECK(xwgp_hostport_split("1.2.3:1", host, sizeof(host), &port) == -EINVAL);
	CHECK(xwgp_hostport_split("example.com:1", tiny, sizeof(tiny), &port) == -ENOSPC);
}

TEST_MAIN()
