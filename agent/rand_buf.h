/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Random 32-bit values for indexes, from a per-thread buffer that
 * randombytes_buf() (getrandom) refills 64 values at a time. libsodium's
 * randombytes_random() is one getrandom syscall per value, which was about
 * 1% of an initiation's CPU (one new proxy index each). The values are the
 * kernel's CSPRNG output all the same; each is wiped from the buffer as it
 * is handed out.
 */
#ifndef XWGP_RAND_BUF_H
#define XWGP_RAND_BUF_H

#include <stdint.h>

uint32_t xwgp_rand32(void);

#endif
