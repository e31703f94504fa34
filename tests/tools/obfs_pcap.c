// SPDX-License-Identifier: GPL-2.0
/*
 * obfs_pcap: list what an obfuscated WireGuard flow put on the wire.
 *
 *   obfs_pcap CAPTURE.pcap PASSWORD PORT
 *
 * For every complete UDP datagram to or from PORT in a tcpdump -w capture,
 * prints one line:
 *
 *   DIR WIRE_LEN KIND TYPE LEN
 *
 *   DIR       "to" (destination port PORT) or "from" (source port PORT)
 *   WIRE_LEN  UDP payload length on the wire
 *   KIND      "plain"  the first 4 bytes form a plain WireGuard header
 *                      (type 1-4 and three zero bytes)
 *             "obfs"   not plain, and de-obfuscates with PASSWORD to a
 *                      WireGuard message (agent/obfs.c, mwgp rules)
 *             "undecodable"  neither
 *   TYPE      the WireGuard message type (after de-obfuscation), or 0
 *   LEN       the message length after de-obfuscation (WIRE_LEN if plain)
 *
 * Exits 0, or 1 when the capture cannot be read. Scripts assert on the lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obfs.h"
#include "pcap.h"

#define FRAME_CAP 65536

static void classify(const struct obfs_key *k, const struct pcap_udp *u, const char *dir)
{
	static uint8_t buf[FRAME_CAP];
	const char *kind;
	bool decoded = false;
	int type = 0, n;

	memcpy(buf, u->payload, u->len);
	if (obfs_is_plain(buf, u->len)) {
		kind = "plain";
		type = buf[0];
		n = (int)u->len;
	} else {
		n = obfs_decode(k, buf, u->len, &decoded);
		if (n >= 0 && decoded && obfs_is_plain(buf, (size_t)n)) {
			kind = "obfs";
			type = buf[0];
		} else {
			kind = "undecodable";
			n = (int)u->len;
		}
	}
	printf("%s %zu %s %d %d\n", dir, u->len, kind, type, n);
}

int main(int argc, char **argv)
{
	static uint8_t frame[FRAME_CAP];
	struct pcap_reader r;
	struct obfs_key k;
	struct pcap_udp u;
	size_t len;
	long port;
	int truncated, ret;

	if (argc != 4) {
		fprintf(stderr, "usage: obfs_pcap CAPTURE.pcap PASSWORD PORT\n");
		return 2;
	}
	port = strtol(argv[3], NULL, 10);
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "obfs_pcap: bad port `%s'\n", argv[3]);
		return 2;
	}
	ret = pcap_open(&r, argv[1]);
	if (ret) {
		fprintf(stderr, "obfs_pcap: %s: %s\n", argv[1], strerror(-ret));
		return 1;
	}
	obfs_key_init(&k, argv[2]);
	while ((ret = pcap_next(&r, frame, sizeof(frame), &len, &truncated)) == 1) {
		if (truncated || pcap_parse_udp(r.linktype, frame, len, &u))
			continue;
		if (u.dport == port)
			classify(&k, &u, "to");
		else if (u.sport == port)
			classify(&k, &u, "from");
	}
	pcap_close(&r);
	obfs_key_wipe(&k);
	if (ret < 0) {
		fprintf(stderr, "obfs_pcap: %s: malformed record\n", argv[1]);
		return 1;
	}
	return 0;
}
