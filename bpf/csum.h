/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Incremental Internet checksum updates (RFC 1624, eqn. 3:
 * HC' = ~(~HC + ~m + m')).
 *
 * A rewrite accumulates "~old + new" for every changed word into a 32-bit
 * one's complement sum (the diff), then applies the diff to the checksum
 * field once. All words are taken in raw memory order, exactly as they sit
 * in the packet: the Internet checksum is byte-order independent (RFC 1071
 * section 2B), so no byte swapping is needed as long as every word of a
 * checksum is read the same way. A 32-bit one's complement sum folds to the
 * 16-bit one (2^32 - 1 is a multiple of 2^16 - 1), so 32-bit words such as
 * addresses and the receiver index go in whole, provided they start at an
 * even offset from the start of the checksummed area.
 */
#ifndef XWGP_BPF_CSUM_H
#define XWGP_BPF_CSUM_H

/* One's complement addition: add, then wrap the carry around. */
static __always_inline __u32 csum_add(__u32 sum, __u32 v)
{
	sum += v;
	return sum + (sum < v);
}

/* Record that a 32-bit word changed from old to new. */
static __always_inline __u32 csum_diff32(__u32 diff, __u32 old, __u32 new)
{
	return csum_add(csum_add(diff, ~old), new);
}

/* Record that a 16-bit word changed from old to new. */
static __always_inline __u32 csum_diff16(__u32 diff, __u16 old, __u16 new)
{
	return csum_add(csum_add(diff, (__u16)~old), new);
}

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Apply an accumulated diff to a checksum field (raw order in, raw order out). */
static __always_inline __u16 csum_apply(__u16 check, __u32 diff)
{
	return (__u16)~csum_fold(csum_add((__u16)~check, diff));
}

/*
 * Same for a UDP checksum: a computed 0 is sent as 0xffff (RFC 768), since 0
 * on the wire means "no checksum" for IPv4 and is invalid for IPv6.
 */
static __always_inline __u16 csum_apply_udp(__u16 check, __u32 diff)
{
	__u16 c = csum_apply(check, diff);

	return c ? c : 0xffff;
}

#endif /* XWGP_BPF_CSUM_H */
