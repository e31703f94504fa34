/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading, pinning and attaching the XDP program, and opening its maps.
 *
 * Restart survival (docs/DESIGN.md section 7): every map and the program are
 * pinned under pin_path; the program is attached the legacy netlink way
 * (bpf_xdp_attach), which stays on the interface after the agent exits.
 * libxdp's dispatcher cannot load on this kernel (docs/DESIGN.md section 8), and a
 * netlink attachment needs no bpf_link pin, so restart keeps forwarding with
 * no extra moving part. A new agent reuses the pinned maps (after checking
 * their layout) and atomically replaces the old program (XDP_FLAGS_REPLACE).
 */
#ifndef XWGP_BPF_LOADER_H
#define XWGP_BPF_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#define XWGP_PROG_PIN_NAME "xwgp_xdp"

struct xwgp_session;
struct xwgp_sess_meta;
struct xwgp_srv_key;

/*
 * File descriptors of every map, from a loaded skeleton or from pins (the
 * first XWGP_MAPS_N_FDS members, in map_pin_names order), the size of
 * the session array, and the per-slot arrays mapped into this process
 * (xwgp_maps_mmap): the agent reads and writes sessions through them, no
 * syscall per slot (docs/DESIGN.md section 4).
 */
struct xwgp_maps {
	int sessions; /* xwgp_sessions (WGIT v2: array by slot) */
	int sess_meta; /* xwgp_sess_meta */
	int peer_state; /* xwgp_peer_state */
	int cfg; /* xwgp_cfg */
	int stats; /* xwgp_stats */
	int xsks; /* xwgp_xsks */
	int devmap; /* xwgp_devmap */
	int punt_rl; /* xwgp_punt_rl */
	int agent_stats; /* xwgp_agent_st */
	int xsk_slot; /* xwgp_xsk_slot */
	int srv_keys; /* xwgp_srv_keys */
	uint32_t n_slots; /* max_entries of xwgp_sessions (agent/wgit_index.h) */
	uint32_t n_srv_keys; /* max_entries of xwgp_srv_keys */
	uint32_t slot_mask; /* the slot bits of an index (agent/wgit_index.h), set with the mapping */
	struct xwgp_session *sess; /* xwgp_sessions mapped: n_slots entries */
	struct xwgp_sess_meta *meta; /* xwgp_sess_meta mapped: n_slots entries */
	struct xwgp_srv_key *srv_key; /* xwgp_srv_keys mapped: n_srv_keys entries */
	bool read_only; /* mapped PROT_READ (show, stats): wgit writes fail */
};
#define XWGP_MAPS_N_FDS 11

/*
 * Map xwgp_sessions, xwgp_sess_meta and xwgp_srv_keys (all BPF_F_MMAPABLE)
 * into this process, read-only or read-write: 0 or -errno. Unmapped by
 * xwgp_maps_close / xwgp_loader_close, or xwgp_maps_unmap.
 */
int xwgp_maps_mmap(struct xwgp_maps *m, bool read_only);
void xwgp_maps_unmap(struct xwgp_maps *m);

/*
 * Create the three per-slot maps as bpf/maps.h declares them (n_slots
 * sessions), unpinned, and map them read-write (tests with small tables of
 * their own). The other fds of m are left alone. 0 or -errno.
 */
int xwgp_maps_create_wgit(struct xwgp_maps *m, uint32_t n_slots);
/* Close (and unmap) what xwgp_maps_create_wgit made. */
void xwgp_maps_destroy_wgit(struct xwgp_maps *m);

/* Size the session maps of an opened skeleton (and XDP's slot mask with them). */
struct xwgp_bpf;
void xwgp_skel_size_sessions(struct xwgp_bpf *s, uint32_t max_sessions);

struct xwgp_bpf;

struct xwgp_loader {
	struct xwgp_bpf *skel;
	struct xwgp_maps maps;
	char pin_path[256];
	bool reused; /* maps were found pinned (agent restart) */
	int prog_fd;
};

enum xwgp_attach_mode { XWGP_ATTACH_NATIVE, XWGP_ATTACH_SKB, XWGP_ATTACH_AUTO };

/* Default pin path of an instance: /sys/fs/bpf/xwgp/<instance>. */
int xwgp_default_pin_path(char *buf, size_t len, const char *instance);

/* Mount bpffs at /sys/fs/bpf when it is not mounted (as under `ip netns exec`). */
int xwgp_ensure_bpffs(void);

/*
 * Open and load the program, reusing maps pinned under pin_path when their
 * layout matches (else fail naming the map and what differs), pin new maps
 * and the program. max_sessions sizes the session maps of a fresh load.
 */
int xwgp_loader_load(struct xwgp_loader *l, const char *pin_path, uint32_t max_sessions);

/* Attach (or atomically replace our previous program) on one interface. */
int xwgp_loader_attach(struct xwgp_loader *l, const char *ifname, enum xwgp_attach_mode mode);

/* Close fds; pins and attachments stay (restart survival). */
void xwgp_loader_close(struct xwgp_loader *l);

/* The map fds of a loaded skeleton (tests load one without pinning). */
void xwgp_maps_from_skel(struct xwgp_maps *m, struct xwgp_bpf *s);

/* Program prog_fd uses the map with kernel id map_id (it is this instance's). */
bool xwgp_prog_uses_map(int prog_fd, uint32_t map_id);

/* Open the maps pinned under pin_path (for show/stats/down), mapped read-only. */
int xwgp_maps_open_pinned(struct xwgp_maps *m, const char *pin_path);
void xwgp_maps_close(struct xwgp_maps *m);

/*
 * Detach the pinned program from every interface of this network namespace
 * it is attached to, and remove the pins. Returns the number of interfaces
 * it was detached from, or -errno.
 */
int xwgp_loader_down(const char *pin_path);

#endif
