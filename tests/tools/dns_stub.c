// SPDX-License-Identifier: GPL-2.0
/*
 * dns_stub: a minimal authoritative DNS server for end-to-end tests of
 * `xwgp client' name resolution (the config's `dns' key).
 *
 *   dns_stub LISTEN_IP:PORT ZONEFILE
 *
 * ZONEFILE has lines "NAME ADDRESS" (IPv4 gives an A record, IPv6 an
 * AAAA record; several lines per name allowed; '#' starts a comment). It is
 * re-read for every query, so a test changes an answer by rewriting it.
 * Names not in the file get NXDOMAIN; a name with records of the other
 * type only gets an empty NOERROR answer. Every query is logged on stdout
 * ("query NAME TYPE -> N answers"). Runs until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "dns.h"

#define MAX_ANSWERS 16

struct answer {
	uint8_t addr[16];
	int len; /* 4 or 16 */
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* Records of (wire) name and qtype; *exists tells whether the name has any. */
static int lookup(const char *zone, const uint8_t *qname, int qlen, uint16_t qtype,
		  struct answer *ans, int *exists)
{
	char line[512], name[300], addr[100];
	FILE *f = fopen(zone, "r");
	int n = 0;

	*exists = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		uint8_t wire[DNS_NAME_MAX];
		struct answer a = {};
		int wlen;

		if (line[0] == '#' || sscanf(line, "%299s %99s", name, addr) != 2)
			continue;
		wlen = dns_name_encode(wire, name);
		if (wlen != qlen || memcmp(wire, qname, qlen))
			continue;
		*exists = 1;
		if (inet_pton(AF_INET, addr, a.addr) == 1)
			a.len = 4;
		else if (inet_pton(AF_INET6, addr, a.addr) == 1)
			a.len = 16;
		if ((a.len == 4 && qtype == DNS_TYPE_A) || (a.len == 16 && qtype == DNS_TYPE_AAAA))
			if (n < MAX_ANSWERS)
				ans[n++] = a;
	}
	fclose(f);
	return n;
}

static size_t answer(const char *zone, const uint8_t *q, size_t qn, uint8_t *out)
{
	uint8_t qname[DNS_NAME_MAX];
	struct answer ans[MAX_ANSWERS];
	size_t qend, pos;
	uint16_t qtype;
	int qlen, n, exists;

	if (qn < DNS_HEADER_LEN || (q[2] & 0x80) || q[4] || q[5] != 1)
		return 0; /* not a one-question query */
	qlen = dns_read_name(q, qn, DNS_HEADER_LEN, qname, &qend);
	if (qlen < 0 || qend + 4 > qn)
		return 0;
	qtype = (uint16_t)(q[qend] << 8 | q[qend + 1]);
	qend += 4;
	n = lookup(zone, qname, qlen, qtype, ans, &exists);
	memcpy(out, q, qend);
	out[2] = 0x84 | (q[2] & 0x01); /* QR, AA, RD copied */
	out[3] = exists ? 0x00 : 0x03; /* NOERROR / NXDOMAIN */
	put16(out + 6, (uint16_t)n);
	memset(out + 8, 0, 4);
	pos = qend;
	for (int i = 0; i < n; i++) {
		put16(out + pos, 0xc000 | DNS_HEADER_LEN); /* owner: the question's name */
		put16(out + pos + 2, qtype);
		put16(out + pos + 4, DNS_CLASS_IN);
		memset(out + pos + 6, 0, 2);
		put16(out + pos + 8, 5); /* TTL 5 s */
		put16(out + pos + 10, (uint16_t)ans[i].len);
		memcpy(out + pos + 12, ans[i].addr, ans[i].len);
		pos += 12 + (size_t)ans[i].len;
	}
	printf("query ");
	for (int i = 0; qname[i]; i += qname[i] + 1)
		printf("%.*s.", qname[i], (const char *)qname + i + 1);
	printf(" type %u -> %d answers%s\n", qtype, n, exists ? "" : " (NXDOMAIN)");
	fflush(stdout);
	return pos;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct xwgp_ep ep;
	socklen_t slen;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: dns_stub LISTEN_IP:PORT ZONEFILE\n");
		return 2;
	}
	if (xwgp_ep_parse(argv[1], 0, &ep) || xwgp_ep_to_sockaddr(&ep, &ss, &slen)) {
		fprintf(stderr, "dns_stub: bad address `%s'\n", argv[1]);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, slen)) {
		fprintf(stderr, "dns_stub: bind %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (;;) {
		/* Queries fit in DNS_MSG_MAX; answers add at most 16 x 28 bytes. */
		uint8_t q[DNS_MSG_MAX], out[DNS_MSG_MAX + MAX_ANSWERS * 28];
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
		size_t m;

		if (n < 0)
			continue;
		m = answer(argv[2], q, (size_t)n, out);
		if (m)
			sendto(fd, out, m, 0, (struct sockaddr *)&from, flen);
	}
}
