// SPDX-License-Identifier: GPL-2.0
/* WGIT v2 index encoding (agent/wgit_index.c). */
#include <errno.h>
#include <stdint.h>

#include <sodium.h>

#include "test.h"
#include "wg_proto.h"
#include "byteorder.h"
#include "wgit_index.h"

TEST(slot_bits_round_up)
{
	CHECK(wgit_slot_bits(1) == 0 && wgit_slot_bits(2) == 1 && wgit_slot_bits(3) == 2);
	CHECK(wgit_slot_bits(65536) == 16 && wgit_slot_bits(65537) == 17);
	CHECK(wgit_slot_bits(1000000) == 20, "%u", wgit_slot_bits(1000000));
}

TEST(encode_decode_round_trip)
{
	struct wgit_index_layout l;
	const char *why;

	CHECK(wgit_index_layout_init(&l, 1000000, 5, 3, &why) == 0, "%s", why);
	CHECK(l.slot_bits == 20 && l.node_bits == 3 && l.gen_bits == 9);
	for (uint32_t slot = 0; slot < 1000000; slot += 9973) {
		uint32_t gen = (slot * 2654435761u) & 511;
		uint32_t idx = wgit_index_encode(&l, slot, gen);

		CHECK(wgit_index_slot(&l, idx) == slot && wgit_index_gen(&l, idx) == gen &&
			      wgit_index_node(&l, idx) == 5,
		      "slot %u gen %u -> %#x", slot, gen, idx);
	}
}

TEST(node_bits_zero_by_default)
{
	struct wgit_index_layout l;
	const char *why;

	CHECK(wgit_index_layout_init(&l, 65536, 0, 0, &why) == 0);
	CHECK(l.gen_bits == 16 && wgit_index_node(&l, 0xffffffff) == 0);
	CHECK(wgit_index_encode(&l, 0x1234, 0xabcd) == 0xabcd1234);
}

TEST(layout_rejects_bad_values)
{
	struct wgit_index_layout l;
	const char *why;

	CHECK(wgit_index_layout_init(&l, 1000, 8, 3, &why) == -EINVAL && why, "node 8 in 3 bits");
	CHECK(wgit_index_layout_init(&l, 1000, 0, 9, &why) == -EINVAL && why);
	/* 2^24 slots + 1: 25 slot bits, 0 node bits leaves 7 < 8 generation bits. */
	CHECK(wgit_index_layout_init(&l, (1u << 24) + 1, 0, 0, &why) == -EINVAL && why);
	CHECK(wgit_index_layout_init(&l, 1u << 24, 0, 0, &why) == 0 && l.gen_bits == 8);
	CHECK(wgit_index_layout_init(&l, 1u << 16, 255, 8, &why) == 0 && l.gen_bits == 8);
}

/* The STUN magic cookie as clients test it: bytes 4..7 of the datagram. */
TEST(stun_cookie_never_assigned)
{
	uint8_t msg[WG_TRANSPORT_HEADER_LEN] = { WG_MSG_TRANSPORT };
	static const uint8_t cookie[4] = { 0x21, 0x12, 0xa4, 0x42 };
	struct wgit_index_layout l;
	const char *why;

	put_le32(msg + WG_TRANSPORT_OFF_RECEIVER, WGIT_INDEX_STUN);
	CHECK(!memcmp(msg + 4, cookie, 4), "WGIT_INDEX_STUN is not 21 12 a4 42 on the wire");
	CHECK(!wgit_index_wire_ok(WGIT_INDEX_STUN) && !wgit_index_wire_ok(0));
	/* A layout where the STUN value is one slot's only likely generation: 16 slot bits. */
	CHECK(wgit_index_layout_init(&l, 65536, 0, 0, &why) == 0);
	for (int i = 0; i < 200000; i++) {
		uint32_t idx = wgit_index_new(&l, WGIT_INDEX_STUN & 0xffff, 0);

		CHECK(idx != WGIT_INDEX_STUN && idx != 0 && (idx & 0xffff) == 0x1221,
		      "got %#x", idx);
	}
	/* Slot 0 with generation 0 would be index 0. */
	CHECK(wgit_index_layout_init(&l, 1u << 24, 0, 0, &why) == 0);
	for (int i = 0; i < 20000; i++)
		CHECK(wgit_index_new(&l, 0, 0) != 0);
}

TEST(new_index_differs_from_previous)
{
	struct wgit_index_layout l;
	const char *why;

	/* 8 generation bits: the previous one would come back 1 time in 256. */
	CHECK(wgit_index_layout_init(&l, 1u << 24, 0, 0, &why) == 0);
	for (int i = 0; i < 20000; i++) {
		uint32_t prev = wgit_index_encode(&l, 77, (uint32_t)i & 255);

		CHECK(wgit_index_new(&l, 77, prev) != prev);
	}
}

TEST_MAIN()
