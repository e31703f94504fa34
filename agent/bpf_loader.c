// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_loader.h"
#include "file_util.h"
#include "log.h"
#include "tc_attach.h"
#include "wgit_index.h"
#include "xwgp.skel.h"
#include "xwgp_abi.h"
#include "xwgp_agent_stats.h"

#define BPFFS_ROOT "/sys/fs/bpf"

int xwgp_default_pin_path(char *buf, size_t len, const char *instance)
{
	int n = snprintf(buf, len, BPFFS_ROOT "/xwgp/%s", instance ? instance : "default");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int xwgp_ensure_bpffs(void)
{
	struct statfs st;

	if (statfs(BPFFS_ROOT, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700")) {
		int err = -errno;

		pr_err("bpffs is not mounted at " BPFFS_ROOT " and mounting it failed: %s",
		       strerror(errno));
		return err;
	}
	pr_info("mounted bpffs at " BPFFS_ROOT);
	return 0;
}

/*
 * Compare a pinned map with the one this binary would create, so a layout
 * change is reported by name instead of libbpf's generic reuse failure.
 * A different max_entries is adopted (the pinned table keeps its size).
 */
static int check_pinned_map(struct bpf_map *map, const char *path)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	const char *name = bpf_map__name(map);
	int fd, err = 0;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &info_len)) {
		err = -errno;
		goto out;
	}
	/*
	 * The kernel adds BPF_F_RDONLY_PROG to every devmap it creates (and
	 * refuses it at creation): expect it on the pinned one, or libbpf
	 * sees different flags and will not reuse the map (agent restart).
	 */
	if ((info.type == BPF_MAP_TYPE_DEVMAP || info.type == BPF_MAP_TYPE_DEVMAP_HASH) &&
	    info.type == bpf_map__type(map) &&
	    info.map_flags == (bpf_map__map_flags(map) | BPF_F_RDONLY_PROG))
		bpf_map__set_map_flags(map, info.map_flags);
	if (info.type != bpf_map__type(map)) {
		pr_err("pinned map %s: type %u, this xwgp uses type %u", path, info.type,
		       bpf_map__type(map));
		err = -EINVAL;
	} else if (info.key_size != bpf_map__key_size(map)) {
		pr_err("pinned map %s: key size %u, this xwgp uses %u", path, info.key_size,
		       bpf_map__key_size(map));
		err = -EINVAL;
	} else if (info.value_size != bpf_map__value_size(map)) {
		pr_err("pinned map %s: value size %u, this xwgp uses %u", path, info.value_size,
		       bpf_map__value_size(map));
		err = -EINVAL;
	} else if (info.map_flags != bpf_map__map_flags(map)) {
		pr_err("pinned map %s: flags %#x, this xwgp uses %#x", path, info.map_flags,
		       bpf_map__map_flags(map));
		err = -EINVAL;
	} else if (info.max_entries != bpf_map__max_entries(map)) {
		pr_warn("pinned map %s holds %u entries, config asks %u: keeping %u (run `xwgp down' to resize)",
			name, info.max_entries, bpf_map__max_entries(map), info.max_entries);
		bpf_map__set_max_entries(map, info.max_entries);
	}
	if (err)
		pr_err("the maps pinned under this pin path were made by an incompatible xwgp; "
		       "stop it and run `xwgp down' (sessions are lost) or use another instance");
out:
	close(fd);
	return err;
}

void xwgp_skel_size_sessions(struct xwgp_bpf *s, uint32_t max_sessions)
{
	bpf_map__set_max_entries(s->maps.xwgp_sessions, max_sessions);
	bpf_map__set_max_entries(s->maps.xwgp_sess_meta, max_sessions);
	s->rodata->xwgp_slot_mask = wgit_slot_mask(wgit_slot_bits(max_sessions));
}

/*
 * Maps pinned by an xwgp before WGIT v2 (hash tables keyed by random
 * indexes, a server-index map) cannot serve this program, and their
 * sessions cannot move into the array while that xwgp's program forwards
 * with them; nor can the WGIT v2 layout before ABI 5 (metadata in a hash by
 * client proxy index, arrays not mappable). Refuse, naming the way out and
 * what it costs.
 */
static int refuse_old_layout(const char *pin_path)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0, abi = 0;
	struct xwgp_cfg c;
	char path[512];
	bool v1;
	int fd;

	snprintf(path, sizeof(path), "%s/xwgp_srv_index", pin_path);
	v1 = access(path, F_OK) == 0;
	snprintf(path, sizeof(path), "%s/xwgp_cfg", pin_path);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.value_size == sizeof(c) &&
		    !bpf_map_lookup_elem(fd, &zero, &c))
			abi = c.abi_version;
		close(fd);
	}
	if (abi && abi < XWGP_ABI_WGIT_V2)
		v1 = true;
	if (!v1 && (!abi || abi >= XWGP_ABI_VERSION))
		return 0;
	pr_err("the maps pinned under %s were made by %s and cannot be reused. Stop "
	       "the old xwgp and run `xwgp down' first. Cost: its XDP program is detached and "
	       "the established tunnels stop until xwgp runs again; sessions then come back "
	       "from the cache file (those whose index fits the new layout keep working, the "
	       "others' clients re-handshake, within ~2 minutes), without a cache file every "
	       "client re-handshakes.",
	       pin_path,
	       v1 ? "an xwgp before WGIT v2 (session hash tables; this xwgp keeps sessions in "
		    "arrays by slot)" :
		    "an xwgp of an older session layout (ABI 4: metadata in a hash; this xwgp keeps "
		    "it in an array by slot mapped into the agent, ABI 5)");
	return -EPROTO;
}

void xwgp_maps_from_skel(struct xwgp_maps *m, struct xwgp_bpf *s)
{
	m->sessions = bpf_map__fd(s->maps.xwgp_sessions);
	m->n_slots = bpf_map__max_entries(s->maps.xwgp_sessions);
	m->sess_meta = bpf_map__fd(s->maps.xwgp_sess_meta);
	m->peer_state = bpf_map__fd(s->maps.xwgp_peer_state);
	m->cfg = bpf_map__fd(s->maps.xwgp_cfg);
	m->stats = bpf_map__fd(s->maps.xwgp_stats);
	m->xsks = bpf_map__fd(s->maps.xwgp_xsks);
	m->devmap = bpf_map__fd(s->maps.xwgp_devmap);
	m->punt_rl = bpf_map__fd(s->maps.xwgp_punt_rl);
	m->agent_stats = bpf_map__fd(s->maps.xwgp_agent_st);
	m->xsk_slot = bpf_map__fd(s->maps.xwgp_xsk_slot);
	m->srv_keys = bpf_map__fd(s->maps.xwgp_srv_keys);
	m->n_srv_keys = bpf_map__max_entries(s->maps.xwgp_srv_keys);
	m->sess = NULL;
	m->meta = NULL;
	m->srv_key = NULL;
	if (xwgp_maps_mmap(m, false))
		pr_err("mapping the session arrays failed: %s", strerror(errno));
}

/* Bytes the kernel maps for an array of n values of size vsize. */
static size_t array_map_len(uint32_t n, size_t vsize)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return ((size_t)n * ((vsize + 7) & ~(size_t)7) + page - 1) / page * page;
}

static void *map_array(int fd, uint32_t n, size_t vsize, bool ro)
{
	void *p;

	if (fd < 0 || !n)
		return NULL;
	p = mmap(NULL, array_map_len(n, vsize), ro ? PROT_READ : PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

void xwgp_maps_unmap(struct xwgp_maps *m)
{
	if (m->sess)
		munmap(m->sess, array_map_len(m->n_slots, sizeof(*m->sess)));
	if (m->meta)
		munmap(m->meta, array_map_len(m->n_slots, sizeof(*m->meta)));
	if (m->srv_key)
		munmap(m->srv_key, array_map_len(m->n_srv_keys, sizeof(*m->srv_key)));
	m->sess = NULL;
	m->meta = NULL;
	m->srv_key = NULL;
}

int xwgp_maps_mmap(struct xwgp_maps *m, bool read_only)
{
	int err;

	xwgp_maps_unmap(m);
	m->read_only = read_only;
	m->slot_mask = wgit_slot_mask(wgit_slot_bits(m->n_slots));
	m->sess = map_array(m->sessions, m->n_slots, sizeof(*m->sess), read_only);
	err = m->sess ? 0 : -errno;
	m->meta = map_array(m->sess_meta, m->n_slots, sizeof(*m->meta), read_only);
	err = err ?: m->meta ? 0 : -errno;
	m->srv_key = map_array(m->srv_keys, m->n_srv_keys, sizeof(*m->srv_key), read_only);
	err = err ?: m->srv_key ? 0 : -errno;
	if (err) {
		xwgp_maps_unmap(m);
		errno = -err;
	}
	return err;
}

int xwgp_maps_create_wgit(struct xwgp_maps *m, uint32_t n_slots)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);

	m->sessions = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_sess", 4, sizeof(struct xwgp_session),
				     n_slots, &o);
	m->sess_meta = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_meta", 4,
				      sizeof(struct xwgp_sess_meta), n_slots, &o);
	m->srv_keys = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_srv_keys", 4,
				     sizeof(struct xwgp_srv_key), XWGP_SRV_KEYS_MAX, &o);
	m->n_slots = n_slots;
	m->n_srv_keys = XWGP_SRV_KEYS_MAX;
	m->sess = NULL;
	m->meta = NULL;
	m->srv_key = NULL;
	if (m->sessions < 0 || m->sess_meta < 0 || m->srv_keys < 0)
		return -EPERM;
	return xwgp_maps_mmap(m, false);
}

void xwgp_maps_destroy_wgit(struct xwgp_maps *m)
{
	xwgp_maps_unmap(m);
	close(m->sessions);
	close(m->sess_meta);
	close(m->srv_keys);
	m->sessions = m->sess_meta = m->srv_keys = -1;
}

/*
 * The maps that outlive the program, in struct xwgp_maps order. The others
 * (bpf/maps.h: the per-CPU clock and FIB caches) start empty with each
 * program and are never pinned.
 */
static const char *const map_pin_names[] = {
	"xwgp_sessions", "xwgp_sess_meta", "xwgp_peer_state", "xwgp_cfg",      "xwgp_stats",
	"xwgp_xsks",	 "xwgp_devmap",	   "xwgp_punt_rl",    "xwgp_agent_st",  "xwgp_xsk_slot",
	"xwgp_srv_keys",
};

/*
 * The agent's counter array grows when a newer xwgp adds counters. XDP
 * never reads it, so a smaller pinned one is unpinned here (its values kept
 * in vals[0..*n)) for libbpf to create it at the new size; the values are
 * written back after the load. Any other mismatch is check_pinned_map's.
 */
static int agent_stats_take_smaller(const char *path, __u64 *vals, __u32 *n)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path);

	*n = 0;
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_MAP_TYPE_ARRAY ||
	    info.key_size != 4 || info.value_size != 8 || info.max_entries >= XWGP_AGENT_STAT__MAX) {
		close(fd);
		return 0;
	}
	for (__u32 i = 0; i < info.max_entries; i++)
		if (bpf_map_lookup_elem(fd, &i, &vals[i]))
			vals[i] = 0;
	close(fd);
	if (unlink(path))
		return -errno;
	*n = info.max_entries;
	pr_info("%s: %u agent counters pinned, this xwgp has %u: re-created, values kept", path,
		info.max_entries, XWGP_AGENT_STAT__MAX);
	return 0;
}

static bool map_is_pinned(const char *name)
{
	for (size_t i = 0; i < sizeof(map_pin_names) / sizeof(map_pin_names[0]); i++)
		if (!strcmp(name, map_pin_names[i]))
			return true;
	return false;
}

int xwgp_loader_load(struct xwgp_loader *l, const char *pin_path, uint32_t max_sessions)
{
	__u64 old_stats[XWGP_AGENT_STAT__MAX];
	__u32 n_old_stats = 0;
	struct bpf_map *map;
	char path[512];
	int err;

	memset(l, 0, sizeof(*l));
	l->prog_fd = -1;
	if (strlen(pin_path) >= sizeof(l->pin_path))
		return -ENAMETOOLONG;
	strcpy(l->pin_path, pin_path);

	err = xwgp_ensure_bpffs();
	if (err)
		return err;
	/* Mode 0700: the pins give full control of forwarding. */
	err = xwgp_mkdir_p(pin_path, 0700);
	if (err) {
		pr_err("pin_path `%s': cannot create: %s", pin_path, strerror(-err));
		return err;
	}

	l->skel = xwgp_bpf__open();
	if (!l->skel) {
		err = -errno;
		pr_err("opening the BPF object failed: %s", strerror(errno));
		return err;
	}
	err = refuse_old_layout(pin_path);
	if (err)
		goto err_destroy;
	if (max_sessions)
		xwgp_skel_size_sessions(l->skel, max_sessions);
	bpf_object__for_each_map(map, l->skel->obj) {
		if (snprintf(path, sizeof(path), "%s/%s", pin_path, bpf_map__name(map)) >=
		    (int)sizeof(path)) {
			err = -ENAMETOOLONG;
			goto err_destroy;
		}
		/* .rodata/.bss of the skeleton and the caches are per-load */
		if (bpf_map__is_internal(map) || !map_is_pinned(bpf_map__name(map)))
			continue;
		if (map == l->skel->maps.xwgp_agent_st) {
			err = agent_stats_take_smaller(path, old_stats, &n_old_stats);
			if (err)
				goto err_destroy;
		}
		err = check_pinned_map(map, path);
		if (err)
			goto err_destroy;
		if (access(path, F_OK) == 0)
			l->reused = true;
		err = bpf_map__set_pin_path(map, path);
		if (err)
			goto err_destroy;
	}

	/* A pinned table keeps its size (check_pinned_map): the slot mask follows it. */
	xwgp_skel_size_sessions(l->skel, bpf_map__max_entries(l->skel->maps.xwgp_sessions));
	/* libbpf reuses maps whose pin exists and pins the ones it creates. */
	err = xwgp_bpf__load(l->skel);
	if (err) {
		pr_err("loading the XDP program failed: %s (run with -v for the verifier log)",
		       strerror(-err));
		goto err_destroy;
	}
	l->prog_fd = bpf_program__fd(l->skel->progs.xwgp_xdp);
	xwgp_maps_from_skel(&l->maps, l->skel);
	if (!l->maps.sess) {
		err = -errno ?: -ENOMEM;
		pr_err("mapping the session arrays into the agent failed: %s", strerror(-err));
		goto err_destroy;
	}
	for (__u32 i = 0; i < n_old_stats; i++)
		bpf_map_update_elem(l->maps.agent_stats, &i, &old_stats[i], BPF_ANY);
	if (l->reused)
		pr_info("reusing the maps pinned under %s", pin_path);
	return 0;

err_destroy:
	xwgp_bpf__destroy(l->skel);
	l->skel = NULL;
	return err;
}

static int pinned_prog_id(const char *pin_path, __u32 *id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/" XWGP_PROG_PIN_NAME, pin_path);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	*id = info.id;
	return fd;
}

static int attach_flags(enum xwgp_attach_mode mode)
{
	switch (mode) {
	case XWGP_ATTACH_SKB:
		return XDP_FLAGS_SKB_MODE;
	default:
		return XDP_FLAGS_DRV_MODE;
	}
}

/* The kernel id of the map behind fd. */
static int obj_id(int fd, __u32 *id)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

/*
 * Whether program prog_fd uses map map_id: a program forwarding with this
 * instance's session map is this instance's (the previous agent's, or ours
 * attached moments ago to another interface), whatever the pin says.
 */
bool xwgp_prog_uses_map(int prog_fd, uint32_t map_id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ids[64];

	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return false;
	for (__u32 i = 0; i < info.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]); i++)
		if (ids[i] == map_id)
			return true;
	return false;
}

int xwgp_loader_attach(struct xwgp_loader *l, const char *ifname, enum xwgp_attach_mode mode)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	unsigned int ifindex = if_nametoindex(ifname);
	__u32 cur_id = 0, sessions_id = 0;
	int old_fd = -1, flags, err;

	if (!ifindex) {
		pr_err("interface `%s': %s", ifname, strerror(errno));
		return -ENODEV;
	}
	err = bpf_xdp_query_id(ifindex, 0, &cur_id);
	if (err)
		cur_id = 0;
	if (cur_id) {
		old_fd = bpf_prog_get_fd_by_id(cur_id);
		if (old_fd < 0 || obj_id(l->maps.sessions, &sessions_id) ||
		    !xwgp_prog_uses_map(old_fd, sessions_id)) {
			pr_err("interface `%s' already has XDP program id %u that is not this xwgp "
			       "instance's (it does not use the maps pinned under %s); refusing to "
			       "replace it",
			       ifname, cur_id, l->pin_path);
			err = -EBUSY;
			goto out;
		}
	}
	flags = attach_flags(mode);
	if (cur_id) {
		/* Our previous agent's program: swap atomically, maps are shared. */
		flags |= XDP_FLAGS_REPLACE;
		opts.old_prog_fd = old_fd;
	} else {
		flags |= XDP_FLAGS_UPDATE_IF_NOEXIST;
	}
	err = bpf_xdp_attach(ifindex, l->prog_fd, flags, &opts);
	if (err && mode == XWGP_ATTACH_AUTO && !(flags & XDP_FLAGS_REPLACE)) {
		pr_warn("interface `%s': native XDP failed (%s); falling back to skb (generic) mode, "
			"which is much slower",
			ifname, strerror(-err));
		flags = (flags & ~XDP_FLAGS_DRV_MODE) | XDP_FLAGS_SKB_MODE;
		err = bpf_xdp_attach(ifindex, l->prog_fd, flags, &opts);
	}
	if (err && (flags & XDP_FLAGS_REPLACE)) {
		/* The old program may be attached in the other mode: swap mode bits. */
		flags ^= XDP_FLAGS_DRV_MODE | XDP_FLAGS_SKB_MODE;
		err = bpf_xdp_attach(ifindex, l->prog_fd, flags, &opts);
	}
	if (err) {
		pr_err("attaching XDP to `%s' (%s mode) failed: %s", ifname,
		       flags & XDP_FLAGS_SKB_MODE ? "skb" : "native", strerror(-err));
		goto out;
	}
	pr_info("XDP attached to %s (%s mode)%s", ifname,
		flags & XDP_FLAGS_SKB_MODE ? "skb" : "native",
		cur_id ? ", replacing the previous agent's program" : "");

	/* The pinned program is always the attached one. */
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/" XWGP_PROG_PIN_NAME, l->pin_path);
		unlink(path);
		err = bpf_program__pin(l->skel->progs.xwgp_xdp, path);
		if (err)
			pr_err("pinning the program at %s failed: %s", path, strerror(-err));
	}
out:
	if (old_fd >= 0)
		close(old_fd);
	return err;
}

void xwgp_loader_close(struct xwgp_loader *l)
{
	xwgp_maps_unmap(&l->maps);
	if (l->skel)
		xwgp_bpf__destroy(l->skel); /* closes fds; pins and XDP attachment stay */
	l->skel = NULL;
}


int xwgp_maps_open_pinned(struct xwgp_maps *m, const char *pin_path)
{
	int *fds = (int *)m;
	char path[512];

	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	_Static_assert(offsetof(struct xwgp_maps, n_slots) == XWGP_MAPS_N_FDS * sizeof(int) &&
			       XWGP_MAPS_N_FDS == sizeof(map_pin_names) / sizeof(map_pin_names[0]),
		       "map_pin_names matches struct xwgp_maps");
	m->n_slots = 0;
	for (size_t i = 0; i < sizeof(map_pin_names) / sizeof(map_pin_names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_path, map_pin_names[i]);
		fds[i] = bpf_obj_get(path);
		if (fds[i] < 0) {
			int err = -errno;

			pr_err("cannot open pinned map %s: %s%s", path, strerror(errno),
			       errno == ENOENT ? " (is xwgp running in this network namespace, "
						 "with this pin_path/instance?)" :
						 "");
			while (i--)
				close(fds[i]);
			return err;
		}
	}
	if (!bpf_obj_get_info_by_fd(m->sessions, &info, &len))
		m->n_slots = info.max_entries;
	len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(m->srv_keys, &info, &len))
		m->n_srv_keys = info.max_entries;
	m->sess = NULL;
	m->meta = NULL;
	m->srv_key = NULL;
	/* Readers (show, stats, down) never write: a stray write faults. */
	if (xwgp_maps_mmap(m, true)) {
		int err = -errno;

		pr_err("cannot map the session arrays under %s: %s", pin_path, strerror(errno));
		xwgp_maps_close(m);
		return err;
	}
	return 0;
}

void xwgp_maps_close(struct xwgp_maps *m)
{
	int *fds = (int *)m;

	xwgp_maps_unmap(m);
	for (size_t i = 0; i < XWGP_MAPS_N_FDS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Program cur_id is ours: the pinned one, or one using our session map. */
static bool prog_is_instance(__u32 cur_id, __u32 pinned_id, __u32 sessions_id)
{
	bool ours = cur_id == pinned_id;
	int fd;

	if (!ours && sessions_id) {
		fd = bpf_prog_get_fd_by_id(cur_id);
		if (fd >= 0) {
			ours = xwgp_prog_uses_map(fd, sessions_id);
			close(fd);
		}
	}
	return ours;
}

int xwgp_loader_down(const char *pin_path)
{
	struct if_nameindex *ifs, *it;
	__u32 ours = 0, cur, sessions_id = 0;
	char path[512];
	int fd, sfd, detached = 0;

	/* An agent killed between two interfaces' attachments leaves two programs. */
	snprintf(path, sizeof(path), "%s/xwgp_sessions", pin_path);
	sfd = bpf_obj_get(path);
	if (sfd >= 0) {
		obj_id(sfd, &sessions_id);
		close(sfd);
	}
	fd = pinned_prog_id(pin_path, &ours);
	if (fd >= 0 || sessions_id) {
		ifs = if_nameindex();
		for (it = ifs; it && it->if_index; it++) {
			for (int mode = 0; mode < 2; mode++) {
				int fl = mode ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;

				if (bpf_xdp_query_id(it->if_index, fl, &cur) || !cur ||
				    !prog_is_instance(cur, ours, sessions_id))
					continue;
				if (bpf_xdp_detach(it->if_index, fl, NULL) == 0) {
					pr_info("detached XDP from %s", it->if_name);
					detached++;
				}
			}
		}
		if (ifs)
			if_freenameindex(ifs);
		if (fd >= 0)
			close(fd);
	}
	xwgp_tc_down(pin_path, sessions_id);
	snprintf(path, sizeof(path), "%s/" XWGP_PROG_PIN_NAME, pin_path);
	unlink(path);
	for (size_t i = 0; i < sizeof(map_pin_names) / sizeof(map_pin_names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_path, map_pin_names[i]);
		if (unlink(path) == 0)
			pr_debug("unpinned %s", path);
	}
	if (rmdir(pin_path) && errno != ENOENT)
		pr_warn("could not remove %s: %s", pin_path, strerror(errno));
	return detached;
}
