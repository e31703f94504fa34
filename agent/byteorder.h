/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Little-endian loads and stores at any alignment: WireGuard's message
 * fields (type, indexes, counters) and BLAKE2s words are little-endian,
 * and packet buffers give no alignment, so bytes are assembled one by one.
 */
#ifndef XWGP_BYTEORDER_H
#define XWGP_BYTEORDER_H

#include <stdint.h>

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

#endif /* XWGP_BYTEORDER_H */
