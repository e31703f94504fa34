// SPDX-License-Identifier: GPL-2.0
/*
 * DNS query builder and response parser (agent/dns.c), and the resolver
 * state machine (agent/client_resolve.c) against a fake DNS server on
 * loopback. Responses are crafted byte by byte here: well-formed ones with
 * compression and CNAME chains, and malicious ones (pointer loops, forward
 * pointers, truncation at every byte, lying lengths, CNAME loops).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "client_resolve.h"
#include "dns.h"
#include "test.h"

/* ---- a tiny message writer ---------------------------------------------------- */

struct msg {
	uint8_t b[1024];
	size_t n;
};

static void put8(struct msg *m, uint8_t v)
{
	m->b[m->n++] = v;
}

static void put16(struct msg *m, uint16_t v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

static void put_bytes(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

/* Labels from a dotted name, then the root byte (no compression). */
static void put_name(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		put8(m, (uint8_t)l);
		put_bytes(m, name, l);
		name += l + (dot ? 1 : 0);
	}
	put8(m, 0);
}

/* Labels without the root byte: the caller ends with a pointer. */
static void put_labels(struct msg *m, const char *labels)
{
	struct msg tmp = {};

	put_name(&tmp, labels);
	put_bytes(m, tmp.b, tmp.n - 1);
}

static void put_ptr(struct msg *m, uint16_t off)
{
	put16(m, 0xc000 | off);
}

static void header(struct msg *m, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an)
{
	m->n = 0;
	put16(m, id);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, 0);
	put16(m, 0);
}

/* The question at offset 12: name, qtype, IN. */
static void question(struct msg *m, const char *name, uint16_t qtype)
{
	put_name(m, name);
	put16(m, qtype);
	put16(m, DNS_CLASS_IN);
}

static void rr_fixed(struct msg *m, uint16_t type, uint32_t ttl, uint16_t rdlen)
{
	put16(m, type);
	put16(m, DNS_CLASS_IN);
	put32(m, ttl);
	put16(m, rdlen);
}

static void rr_a(struct msg *m, uint32_t ttl, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	rr_fixed(m, DNS_TYPE_A, ttl, 4);
	put8(m, a);
	put8(m, b);
	put8(m, c);
	put8(m, d);
}

#define ID    0x5a17
#define RESP  0x8180 /* QR, RD, RA, NOERROR */
#define QNAME "vpn.example.org"

/* vpn.example.org A -> 192.0.2.7, owner compressed to the question. */
static void simple_a(struct msg *m)
{
	header(m, ID, RESP, 1, 1);
	question(m, QNAME, DNS_TYPE_A);
	put_ptr(m, 12);
	rr_a(m, 300, 192, 0, 2, 7);
}

/* ---- query builder ------------------------------------------------------------ */

TEST(query_bytes)
{
	static const uint8_t want[] = { 0x12, 0x34, 0x01, 0x00, 0,   1,	  0,   0,   0,	 0,   0,
					0,    3,    'v',  'p',	'n', 7,	  'e', 'x', 'a', 'm', 'p',
					'l',  'e',  3,	  'o',	'r', 'g', 0,   0,   28,	 0,   1 };
	uint8_t q[DNS_QUERY_MAX];
	int n = dns_build_query(q, sizeof(q), 0x1234, "VPN.Example.org.", DNS_TYPE_AAAA);

	CHECK(n == (int)sizeof(want), "length %d", n);
	CHECK_MEM(q, want, sizeof(want));
}

TEST(query_bad_names)
{
	static const char *const bad[] = { "", ".", "a..b", "a..", ".a", "..", NULL };
	char label63[80], label64[80], longname[300];
	uint8_t q[DNS_QUERY_MAX];

	for (int i = 0; bad[i]; i++)
		CHECK(dns_build_query(q, sizeof(q), 1, bad[i], DNS_TYPE_A) == -EINVAL, "`%s'",
		      bad[i]);
	memset(label63, 'a', 63);
	strcpy(label63 + 63, ".org");
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".org");
	CHECK(dns_build_query(q, sizeof(q), 1, label63, DNS_TYPE_A) > 0, "63-byte label");
	CHECK(dns_build_query(q, sizeof(q), 1, label64, DNS_TYPE_A) == -EINVAL, "64-byte label");
	/* 4 x 63-byte labels: 256 wire bytes with the root, one too many */
	/* "aaa...a.aaa...a.aaa...a.aaa...a": four 63-byte labels */
	memset(longname, 'a', 4 * 64 - 1);
	for (int i = 1; i < 4; i++)
		longname[i * 64 - 1] = '.';
	longname[4 * 64 - 1] = 0;
	CHECK(dns_build_query(q, sizeof(q), 1, longname, DNS_TYPE_A) == -EINVAL, "256 bytes");
	longname[253] = 0; /* 253 characters = 255 wire bytes: the maximum */
	CHECK(dns_build_query(q, sizeof(q), 1, longname, DNS_TYPE_A) == DNS_QUERY_MAX, "255");
	CHECK(dns_build_query(q, 20, 1, QNAME, DNS_TYPE_A) == -ENOSPC, "small buffer");
}

/* ---- well-formed answers --------------------------------------------------------- */

TEST(answer_simple)
{
	struct dns_result r;
	struct msg m;

	simple_a(&m);
	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_A, &r) == 0);
	CHECK(r.n == 1 && r.ttl == 300 && !r.truncated, "n %zu ttl %u", r.n, r.ttl);
	CHECK(!memcmp(r.addr[0], "\xc0\x00\x02\x07", 4), "address");
	/* case-insensitive, trailing dot */
	CHECK(dns_parse_response(m.b, m.n, ID, "VPN.EXAMPLE.ORG.", DNS_TYPE_A, &r) == 0 &&
	      r.n == 1);
}

TEST(answer_cname_chain_and_filtering)
{
	struct dns_result r;
	struct msg m;
	size_t cname1;

	/*
	 * vpn.example.org CNAME edge.example.org (compressed into the question)
	 * edge.example.org CNAME host.cdn.net
	 * an unrelated record for evil.example (must be ignored)
	 * host.cdn.net AAAA 2001:db8::9, an A record (wrong type, ignored), AAAA 2001:db8::a
	 */
	header(&m, ID, RESP, 1, 6);
	question(&m, QNAME, DNS_TYPE_AAAA);
	put_ptr(&m, 12);
	cname1 = m.n + 10;
	rr_fixed(&m, DNS_TYPE_CNAME, 600, 7);
	put_labels(&m, "edge");
	put_ptr(&m, 16);	       /* "example.org" inside the question */
	put_ptr(&m, (uint16_t)cname1); /* owner: edge.example.org */
	rr_fixed(&m, DNS_TYPE_CNAME, 120, 14);
	put_name(&m, "host.cdn.net");
	put_name(&m, "evil.example");
	rr_fixed(&m, DNS_TYPE_AAAA, 5, 16);
	put_bytes(&m, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x66", 16);
	put_name(&m, "host.cdn.net");
	rr_fixed(&m, DNS_TYPE_AAAA, 90, 16);
	put_bytes(&m, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x09", 16);
	put_name(&m, "host.cdn.net");
	rr_a(&m, 1, 198, 51, 100, 9);
	put_name(&m, "HOST.cdn.NET");
	rr_fixed(&m, DNS_TYPE_AAAA, 300, 16);
	put_bytes(&m, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x0a", 16);

	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_AAAA, &r) == 0);
	CHECK(r.n == 2, "n %zu", r.n);
	CHECK(r.addr[0][15] == 0x09 && r.addr[1][15] == 0x0a, "addresses %02x %02x", r.addr[0][15],
	      r.addr[1][15]);
	CHECK(r.ttl == 90, "min ttl over the chain: %u", r.ttl);
}

TEST(answer_nodata_and_rcodes)
{
	struct dns_result r;
	struct msg m;

	header(&m, ID, RESP, 1, 0);
	question(&m, QNAME, DNS_TYPE_A);
	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_A, &r) == 0 && r.n == 0, "NODATA");
	header(&m, ID, RESP | 3, 1, 0);
	question(&m, QNAME, DNS_TYPE_A);
	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_A, &r) == -ENOENT, "NXDOMAIN");
	header(&m, ID, RESP | 2, 1, 0);
	question(&m, QNAME, DNS_TYPE_A);
	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_A, &r) == -EAGAIN, "SERVFAIL");
	header(&m, ID, RESP | 5, 1, 0);
	question(&m, QNAME, DNS_TYPE_A);
	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_A, &r) == -EIO, "REFUSED");
}

TEST(answer_ttl_tc_dedup_cap)
{
	struct dns_result r;
	struct msg m;

	header(&m, ID, RESP | 0x0200, 1, 12);
	question(&m, QNAME, DNS_TYPE_A);
	put_ptr(&m, 12);
	rr_a(&m, 0x80000001u, 192, 0, 2, 1); /* top bit set: TTL 0 (RFC 2181) */
	put_ptr(&m, 12);
	rr_a(&m, 50, 192, 0, 2, 1); /* duplicate */
	for (int i = 2; i < 12; i++) {
		put_ptr(&m, 12);
		rr_a(&m, 50, 192, 0, 2, (uint8_t)i);
	}
	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_A, &r) == 0);
	CHECK(r.truncated, "TC bit");
	CHECK(r.ttl == 0, "ttl %u", r.ttl);
	CHECK(r.n == DNS_MAX_ADDRS, "capped at %d: %zu", DNS_MAX_ADDRS, r.n);
	CHECK(r.addr[0][3] == 1 && r.addr[1][3] == 2, "dedup: %u %u", r.addr[0][3], r.addr[1][3]);
}

/* ---- not our answer ------------------------------------------------------------------ */

TEST(answer_not_ours)
{
	struct dns_result r;
	struct msg m;

	simple_a(&m);
	CHECK(dns_parse_response(m.b, m.n, ID + 1, QNAME, DNS_TYPE_A, &r) == -EPROTO, "other id");
	CHECK(dns_parse_response(m.b, m.n, ID, "vpn.example.com", DNS_TYPE_A, &r) == -EPROTO,
	      "other name");
	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_AAAA, &r) == -EPROTO, "other type");
	m.b[2] &= 0x7f; /* QR clear: a query, not a response */
	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_A, &r) == -EPROTO, "QR");
	simple_a(&m);
	m.b[5] = 2; /* two questions */
	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_A, &r) == -EPROTO, "QDCOUNT");
	simple_a(&m);
	m.b[2] |= 0x10; /* opcode 2 (STATUS) */
	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_A, &r) == -EPROTO, "opcode");
}

/* ---- malicious answers ------------------------------------------------------------------ */

TEST(malicious_truncated_at_every_byte)
{
	struct dns_result r;
	struct msg m;

	simple_a(&m);
	for (size_t cut = 0; cut < m.n; cut++) {
		int err = dns_parse_response(m.b, cut, ID, QNAME, DNS_TYPE_A, &r);

		CHECK(err == -EBADMSG, "cut at %zu of %zu: %d", cut, m.n, err);
	}
}

TEST(malicious_pointer_loops)
{
	uint8_t out[DNS_NAME_MAX];
	struct dns_result r;
	struct msg m;
	size_t next;

	/* An answer owner pointing at itself. */
	header(&m, ID, RESP, 1, 1);
	question(&m, QNAME, DNS_TYPE_A);
	put_ptr(&m, (uint16_t)m.n);
	rr_a(&m, 1, 192, 0, 2, 1);
	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_A, &r) == -EBADMSG, "self");

	/* A forward pointer (to the record's own A data). */
	header(&m, ID, RESP, 1, 1);
	question(&m, QNAME, DNS_TYPE_A);
	put_ptr(&m, (uint16_t)(m.n + 12));
	rr_a(&m, 1, 192, 0, 2, 1);
	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_A, &r) == -EBADMSG, "forward");

	/*
	 * Two names pointing at each other through a label: at 40 "a" + ptr(44),
	 * at 44 "b" + ptr(40). Each pointer is backwards from where it sits,
	 * yet following them never ends: the parser refuses the second jump,
	 * which does not go below the first one.
	 */
	memset(m.b, 0, sizeof(m.b));
	m.b[40] = 1, m.b[41] = 'a', m.b[42] = 0xc0, m.b[43] = 44;
	m.b[44] = 1, m.b[45] = 'b', m.b[46] = 0xc0, m.b[47] = 40;
	CHECK(dns_read_name(m.b, 60, 40, out, &next) == -EBADMSG, "forward first jump");
	CHECK(dns_read_name(m.b, 60, 44, out, &next) == -EBADMSG, "cycle 44 -> 40 -> 44");
	/* A label followed by a pointer back to it: "x.x.x.x..." forever. */
	m.b[20] = 1, m.b[21] = 'x', m.b[22] = 0xc0, m.b[23] = 20;
	CHECK(dns_read_name(m.b, 60, 20, out, &next) == -EBADMSG, "x + pointer to x");

	/* A reserved label type (0x40). */
	m.b[0] = 0x41;
	m.b[1] = 'x';
	CHECK(dns_read_name(m.b, 60, 0, out, &next) == -EBADMSG, "label type 0x40");
	/* A pointer whose second byte is past the end. */
	m.b[0] = 0xc0;
	CHECK(dns_read_name(m.b, 1, 0, out, &next) == -EBADMSG, "half a pointer");
}

TEST(malicious_long_names)
{
	uint8_t out[DNS_NAME_MAX];
	struct msg m = {};
	size_t next, base[4];

	/*
	 * At base[i]: a 63-byte label, then a pointer to base[i-1] (base[0]
	 * points at a root byte). Every jump is legal, but the name at base[3]
	 * has four 63-byte labels: 257 wire bytes, over the 255 limit.
	 */
	put8(&m, 0);
	for (int i = 0; i < 4; i++) {
		base[i] = m.n;
		put8(&m, 63);
		for (int k = 0; k < 63; k++)
			put8(&m, (uint8_t)('a' + i));
		put_ptr(&m, i ? (uint16_t)base[i - 1] : 0);
	}
	CHECK(dns_read_name(m.b, m.n, base[2], out, &next) == 3 * 64 + 1, "three labels");
	CHECK(next == base[2] + 66, "next %zu", next);
	CHECK(out[0] == 63 && out[1] == 'c' && out[64] == 63 && out[65] == 'b', "uncompressed");
	CHECK(dns_read_name(m.b, m.n, base[3], out, &next) == -EBADMSG, "four labels");
}

TEST(malicious_lengths)
{
	struct dns_result r;
	struct msg m;

	/* A record with a 5-byte RDATA */
	header(&m, ID, RESP, 1, 1);
	question(&m, QNAME, DNS_TYPE_A);
	put_ptr(&m, 12);
	rr_fixed(&m, DNS_TYPE_A, 1, 5);
	put_bytes(&m, "\xc0\x00\x02\x01\x00", 5);
	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_A, &r) == -EBADMSG, "rdlen 5");

	/* RDLENGTH past the end */
	simple_a(&m);
	m.b[m.n - 5] = 200;
	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_A, &r) == -EBADMSG, "rdlen 200");

	/* ANCOUNT larger than the records present */
	simple_a(&m);
	m.b[7] = 2;
	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_A, &r) == -EBADMSG, "ancount");

	/* A CNAME whose target name runs past its RDLENGTH */
	header(&m, ID, RESP, 1, 1);
	question(&m, QNAME, DNS_TYPE_A);
	put_ptr(&m, 12);
	rr_fixed(&m, DNS_TYPE_CNAME, 1, 3);
	put_name(&m, "target.example");
	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_A, &r) == -EBADMSG, "cname rdlen");
}

TEST(malicious_cname_loop)
{
	struct dns_result r;
	struct msg m;
	size_t a_off;

	/* vpn.example.org CNAME a.example ; a.example CNAME vpn.example.org */
	header(&m, ID, RESP, 1, 2);
	question(&m, QNAME, DNS_TYPE_A);
	put_ptr(&m, 12);
	a_off = m.n + 10;
	rr_fixed(&m, DNS_TYPE_CNAME, 1, 11);
	put_name(&m, "a.example");
	put_ptr(&m, (uint16_t)a_off);
	rr_fixed(&m, DNS_TYPE_CNAME, 1, 2);
	put_ptr(&m, 12);
	CHECK(dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_A, &r) == -EBADMSG, "loop");
}

/* Random corruption of valid answers: never a crash, never more than the cap. */
TEST(malicious_random_mutations)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct dns_result r;
	struct msg base, m;
	int ok = 0;

	simple_a(&base);
	for (int round = 0; round < 200000; round++) {
		int flips;

		m = base;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		flips = 1 + (int)(x % 4);
		for (int f = 0; f < flips; f++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			m.b[12 + (x >> 8) % (m.n - 12)] = (uint8_t)x;
		}
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		m.n = 12 + (size_t)(x % (base.n - 11));
		if (dns_parse_response(m.b, m.n, ID, QNAME, DNS_TYPE_A, &r) == 0) {
			CHECK(r.n <= DNS_MAX_ADDRS, "n %zu", r.n);
			ok++;
		}
	}
	CHECK(ok > 0, "some mutations still parse (only the address or TTL changed)");
}

/* ---- the resolver against a fake DNS server on loopback ------------------------------ */

struct fake_dns {
	int fd;
	uint16_t port;
	int drop_first; /* queries to ignore (retransmission test) */
	int queries;
	uint8_t a[4]; /* A answer; AAAA gets NODATA */
	int nxdomain;
};

static void *fake_dns_run(void *arg)
{
	struct fake_dns *f = arg;

	for (;;) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		struct pollfd p = { .fd = f->fd, .events = POLLIN };
		uint8_t q[512];
		struct msg m;
		ssize_t n;
		size_t qend;
		uint16_t qtype;

		if (poll(&p, 1, 8000) <= 0)
			return NULL;
		n = recvfrom(f->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
		if (n < 17)
			return NULL; /* the test's stop message */
		f->queries++;
		if (f->drop_first > 0) {
			f->drop_first--;
			continue;
		}
		qend = (size_t)n;
		qtype = (uint16_t)(q[qend - 4] << 8 | q[qend - 3]);
		m.n = 0;
		put_bytes(&m, q, (size_t)n);
		m.b[2] = 0x81;
		m.b[3] = f->nxdomain ? 0x83 : 0x80;
		if (qtype == DNS_TYPE_A && !f->nxdomain) {
			m.b[7] = 1;
			put_ptr(&m, 12);
			rr_a(&m, 30, f->a[0], f->a[1], f->a[2], f->a[3]);
		}
		sendto(f->fd, m.b, m.n, 0, (struct sockaddr *)&from, flen);
	}
}

static int fake_dns_start(struct fake_dns *f, pthread_t *th)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t slen = sizeof(sin);

	f->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (f->fd < 0 || bind(f->fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(f->fd, (struct sockaddr *)&sin, &slen))
		return -1;
	f->port = ntohs(sin.sin_port);
	return pthread_create(th, NULL, fake_dns_run, f);
}

static void fake_dns_stop(struct fake_dns *f, pthread_t th)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(0x7f000001),
				   .sin_port = htons(f->port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	sendto(fd, "x", 1, 0, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	pthread_join(th, NULL);
	close(f->fd);
}

static int resolve_via(struct fake_dns *f, const char *host, struct resolve_result *out)
{
	struct resolver res;
	struct xwgp_ep dns;
	int err;

	xwgp_ep_set_ip4(&dns, htonl(0x7f000001), htons(f->port));
	err = resolver_init(&res, host, 51820, &dns, -1, 0);
	if (err)
		return err;
	err = resolver_resolve_sync(&res, 8000, out);
	resolver_fini(&res);
	return err;
}

TEST(resolver_fake_server)
{
	struct fake_dns f = { .a = { 203, 0, 113, 77 } };
	struct resolve_result out;
	char buf[XWGP_EP_STRLEN];
	pthread_t th;
	int err;

	if (fake_dns_start(&f, &th))
		SKIP("no loopback UDP socket: %s", strerror(errno));
	err = resolve_via(&f, "vpn.test", &out);
	fake_dns_stop(&f, th);
	CHECK(err == 0, "resolve: %s", strerror(-err));
	xwgp_ep_format(buf, sizeof(buf), &out.ep[0]);
	CHECK(out.n == 1 && !strcmp(buf, "203.0.113.77:51820"), "got %zu, first %s", out.n, buf);
	CHECK(f.queries == 2, "one A and one AAAA query: %d", f.queries);
}

TEST(resolver_retransmits)
{
	struct fake_dns f = { .a = { 198, 51, 100, 5 }, .drop_first = 2 };
	struct resolve_result out;
	pthread_t th;
	int err;

	if (fake_dns_start(&f, &th))
		SKIP("no loopback UDP socket: %s", strerror(errno));
	err = resolve_via(&f, "vpn.test", &out);
	fake_dns_stop(&f, th);
	CHECK(err == 0, "resolve after lost queries: %s", strerror(-err));
	CHECK(out.n == 1 && out.ep[0].family == XWGP_FAMILY_IPV4, "n %zu", out.n);
	CHECK(f.queries == 4, "both queries sent again: %d", f.queries);
}

TEST(resolver_nxdomain_and_literal)
{
	struct fake_dns f = { .nxdomain = 1 };
	struct resolve_result out;
	struct resolver res;
	pthread_t th;
	int err;

	if (fake_dns_start(&f, &th))
		SKIP("no loopback UDP socket: %s", strerror(errno));
	err = resolve_via(&f, "nope.test", &out);
	fake_dns_stop(&f, th);
	CHECK(err == -ENOENT, "NXDOMAIN: %d", err);

	CHECK(resolver_init(&res, "2001:db8::5", 7, NULL, -1, 0) == 0);
	CHECK(res.mode == RESOLVE_LITERAL);
	CHECK(resolver_resolve_sync(&res, 10, &out) == 0 && out.n == 1 &&
		      out.ep[0].family == XWGP_FAMILY_IPV6 && xwgp_ep_port(&out.ep[0]) == 7,
	      "literal");
	CHECK(resolver_poll(&res, 0, &out) == 0, "a literal is reported once, not on every poll");
	CHECK(resolver_start(&res, 0) == 0 && resolver_poll(&res, 0, &out) == 1 && out.n == 1,
	      "and again when asked");
	resolver_fini(&res);
}

TEST(resolver_timeout)
{
	struct fake_dns f = { .drop_first = 100 };
	struct resolve_result out;
	struct resolver res;
	struct xwgp_ep dns;
	pthread_t th;
	int err;

	if (fake_dns_start(&f, &th))
		SKIP("no loopback UDP socket: %s", strerror(errno));
	xwgp_ep_set_ip4(&dns, htonl(0x7f000001), htons(f.port));
	CHECK(resolver_init(&res, "vpn.test", 1, &dns, -1, 0) == 0);
	err = resolver_resolve_sync(&res, 1500, &out);
	resolver_fini(&res);
	fake_dns_stop(&f, th);
	CHECK(err == -ETIMEDOUT, "no answer: %d", err);
}

TEST_MAIN()
