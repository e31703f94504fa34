// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz the DNS answer parser of `xwgp client' (agent/dns.c): what comes
 * back from the resolver named in the config is network input.
 *
 * Byte 0 picks the query type (A or AAAA); the rest is the response. It is
 * parsed as the answer to a fixed query, with the query's id and question
 * patched in half of the time so the fuzzer reaches the answer section.
 * Checks: at most DNS_MAX_ADDRS addresses; every name dns_read_name() reads
 * at any offset fits DNS_NAME_MAX and leaves *next inside the message.
 */
#include "dns.h"
#include "fuzz.h"

#define QNAME "vpn.example.org"
#define QID   0x5157

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_agent_log();
	return 0;
}

static void read_names(const uint8_t *msg, size_t len)
{
	uint8_t name[DNS_NAME_MAX];
	size_t next;
	int n;

	for (size_t off = 0; off < len && off < 64; off++) {
		n = dns_read_name(msg, len, off, name, &next);
		if (n < 0)
			continue;
		if (n > DNS_NAME_MAX)
			fuzz_bug("dns_read_name at %zu: %d bytes", off, n);
		if (next <= off || next > len)
			fuzz_bug("dns_read_name at %zu: next %zu outside (%zu, %zu]", off, next,
				 off, len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t qtype;
	struct dns_result res;
	uint8_t *msg;
	size_t len;
	int qlen;

	if (size < 1 || size > 4096)
		return 0;
	qtype = data[0] & 1 ? DNS_TYPE_AAAA : DNS_TYPE_A;
	len = size - 1;
	msg = malloc(len ? len : 1); /* exact size: ASan sees any overrun */
	if (!msg)
		return 0;
	memcpy(msg, data + 1, len);
	/* Make it answer our query: header id/flags and the question section. */
	if (data[0] & 2) {
		uint8_t q[DNS_QUERY_MAX];

		qlen = dns_build_query(q, sizeof(q), QID, QNAME, qtype);
		if (qlen > 0 && len >= (size_t)qlen) {
			memcpy(msg + 12, q + 12, (size_t)qlen - 12);
			msg[0] = QID >> 8;
			msg[1] = QID & 0xff;
			msg[2] = (uint8_t)((msg[2] & ~0x78) | 0x80); /* QR, opcode QUERY */
			msg[4] = 0;				     /* QDCOUNT 1 */
			msg[5] = 1;
		}
	}
	if (!dns_parse_response(msg, len, QID, QNAME, qtype, &res) && res.n > DNS_MAX_ADDRS)
		fuzz_bug("%zu addresses (max %d)", res.n, DNS_MAX_ADDRS);
	read_names(msg, len);
	free(msg);
	return 0;
}
