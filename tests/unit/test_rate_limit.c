// SPDX-License-Identifier: GPL-2.0
/*
 * The source keys and GCRA step every XDP punt limit uses
 * (include/xwgp_rl.h, bpf/rate_limit.h); tests/bpf/test_xdp.c checks the
 * program acts on them.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "test.h"
#include "xwgp_rl.h"

static void key_of(const char *ip, uint32_t prefix, char *out, size_t len)
{
	__u32 a[4] = { 0 }, k[4];
	int v6 = strchr(ip, ':') != NULL;

	if (v6) {
		inet_pton(AF_INET6, ip, a);
	} else {
		a[2] = htonl(0xffff);
		inet_pton(AF_INET, ip, &a[3]);
	}
	xwgp_rl_source(k, a, v6, prefix);
	inet_ntop(AF_INET6, k, out, (socklen_t)len);
}

TEST(ipv6_cut_to_prefix)
{
	static const struct {
		const char *ip;
		uint32_t prefix;
		const char *key;
	} t[] = {
		{ "2001:db8:1:2:3:4:5:6", 0, "2001:db8:1:2::" }, /* 0: the default /64 */
		{ "2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::" },
		{ "2001:db8:1:2:ffff:ffff:ffff:ffff", 64, "2001:db8:1:2::" },
		{ "2001:db8:1:2:3:4:5:6", 128, "2001:db8:1:2:3:4:5:6" },
		{ "2001:db8:1:2:3:4:5:6", 48, "2001:db8:1::" },
		{ "2001:db8:1:2:3:4:5:6", 56, "2001:db8:1::" },
		{ "2001:db8:1:ff:3:4:5:6", 56, "2001:db8:1::" },
		{ "2001:db8:1:1ff:3:4:5:6", 56, "2001:db8:1:100::" },
		{ "2001:db8:1:2:3:4:5:6", 1, "::" },
		{ "a001:db8::1", 1, "8000::" },
		{ "2001:db8:1:2:3:4:5:7", 127, "2001:db8:1:2:3:4:5:6" },
		{ "2001:db8:1:2:3:4:5:6", 129, "2001:db8:1:2::" }, /* out of range: the default */
		/* IPv4 is never cut, whatever the prefix. */
		{ "192.0.2.10", 64, "::ffff:192.0.2.10" },
		{ "192.0.2.10", 1, "::ffff:192.0.2.10" },
	};
	char got[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		key_of(t[i].ip, t[i].prefix, got, sizeof(got));
		CHECK(!strcmp(got, t[i].key), "%s /%u: key %s, want %s", t[i].ip, t[i].prefix, got,
		      t[i].key);
	}
}

/* Burst 3 at 10 ns apart: 3 at once, then one per interval; idle time never banks more. */
TEST(gcra_burst_then_rate)
{
	const __u64 iv = 10, tol = 2 * iv;
	__u64 tat = 0, now = 1000;
	int n = 0;

	for (int i = 0; i < 10; i++)
		n += xwgp_gcra(&tat, now, iv, tol);
	CHECK(n == 3, "%d admitted at once, want 3", n);
	CHECK(tat == now + 3 * iv, "tat %llu", (unsigned long long)tat);
	CHECK(!xwgp_gcra(&tat, now + iv - 1, iv, tol), "admitted before an interval passed");
	CHECK(xwgp_gcra(&tat, now + iv, iv, tol), "refused after an interval");
	CHECK(!xwgp_gcra(&tat, now + iv, iv, tol), "two in one interval");
	now += 1000000;
	n = 0;
	for (int i = 0; i < 10; i++)
		n += xwgp_gcra(&tat, now, iv, tol);
	CHECK(n == 3, "after a long idle: %d at once, want 3 (the burst, no more)", n);
}

/* Burst 1 (tolerance 0): exactly one per interval. */
TEST(gcra_no_burst)
{
	__u64 tat = 0;

	CHECK(xwgp_gcra(&tat, 100, 50, 0), "first refused");
	CHECK(!xwgp_gcra(&tat, 149, 50, 0), "second within the interval admitted");
	CHECK(xwgp_gcra(&tat, 150, 50, 0), "second after the interval refused");
}

TEST_MAIN()
