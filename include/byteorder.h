/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Little-endian loads and stores at any alignment, for the XDP program and the
 * agent alike: WireGuard's message fields (type, indexes, counters), BLAKE2s
 * and XXH64 words are little-endian, and packet buffers give no alignment, so
 * bytes are assembled one by one (which also keeps the BPF verifier happy).
 */
#ifndef XWGP_BYTEORDER_H
#define XWGP_BYTEORDER_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

static __always_inline __u32 get_le32(const __u8 *p)
{
	return (__u32)p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16 | (__u32)p[3] << 24;
}

static __always_inline void put_le32(__u8 *p, __u32 v)
{
	p[0] = (__u8)v;
	p[1] = (__u8)(v >> 8);
	p[2] = (__u8)(v >> 16);
	p[3] = (__u8)(v >> 24);
}

#endif /* XWGP_BYTEORDER_H */
