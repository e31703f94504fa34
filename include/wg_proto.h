/* SPDX-License-Identifier: GPL-2.0 */
/*
 * WireGuard message layouts, shared by the XDP program and the agent.
 * All integers on the wire are little-endian (docs/DESIGN.md section 5).
 * Offsets are relative to the start of the UDP payload.
 */
#ifndef XWGP_WG_PROTO_H
#define XWGP_WG_PROTO_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <stdbool.h>
#endif
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

enum wg_msg_type {
	WG_MSG_INITIATION = 1,
	WG_MSG_RESPONSE = 2,
	WG_MSG_COOKIE_REPLY = 3,
	WG_MSG_TRANSPORT = 4,
};

#define WG_KEY_LEN 32
#define WG_MAC_LEN 16
#define WG_AEAD_TAG_LEN 16
#define WG_TAI64N_LEN 12
#define WG_COOKIE_LEN 16
#define WG_COOKIE_NONCE_LEN 24
/* A cookie from a cookie reply may be used for MAC2 this long. */
#define WG_COOKIE_LIFETIME_SEC 120

/* Every message starts with type (1 byte) and three reserved zero bytes. */
#define WG_HEADER_LEN 4

/*
 * A plain WireGuard header: type 1..4 followed by three zero bytes (the
 * caller has checked WG_HEADER_LEN bytes are there). What obfuscation never
 * produces, so plain and obfuscated clients share one port (docs/DESIGN.md
 * section 6).
 */
static __always_inline bool wg_header_plain(const __u8 *m)
{
	return m[0] >= WG_MSG_INITIATION && m[0] <= WG_MSG_TRANSPORT && !m[1] && !m[2] && !m[3];
}

/* type 1: handshake initiation, 148 bytes */
#define WG_INIT_LEN 148
#define WG_INIT_OFF_SENDER 4
#define WG_INIT_OFF_EPHEMERAL 8
#define WG_INIT_OFF_STATIC 40 /* 32 + 16 tag */
#define WG_INIT_OFF_TIMESTAMP 88 /* 12 + 16 tag */
#define WG_INIT_OFF_MAC1 116
#define WG_INIT_OFF_MAC2 132

/* type 2: handshake response, 92 bytes */
#define WG_RESP_LEN 92
#define WG_RESP_OFF_SENDER 4
#define WG_RESP_OFF_RECEIVER 8
#define WG_RESP_OFF_EPHEMERAL 12
#define WG_RESP_OFF_EMPTY 44 /* 0 + 16 tag */
#define WG_RESP_OFF_MAC1 60
#define WG_RESP_OFF_MAC2 76

/* type 3: cookie reply, 64 bytes */
#define WG_COOKIE_REPLY_LEN 64
#define WG_COOKIE_OFF_RECEIVER 4
#define WG_COOKIE_OFF_NONCE 8
#define WG_COOKIE_OFF_COOKIE 32 /* 16 + 16 tag */

/* type 4: transport data, 16-byte header then ciphertext + 16-byte tag */
#define WG_TRANSPORT_HEADER_LEN 16
#define WG_TRANSPORT_MIN_LEN 32 /* header + tag: a keepalive */
#define WG_TRANSPORT_OFF_RECEIVER 4
#define WG_TRANSPORT_OFF_COUNTER 8

/* Offset of the 4-byte receiver index in types 2, 3 and 4 (type 1 has none). */
#define WG_OFF_RECEIVER_RESP WG_RESP_OFF_RECEIVER
#define WG_OFF_RECEIVER_COOKIE WG_COOKIE_OFF_RECEIVER
#define WG_OFF_RECEIVER_TRANSPORT WG_TRANSPORT_OFF_RECEIVER

#endif /* XWGP_WG_PROTO_H */
