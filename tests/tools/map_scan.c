// SPDX-License-Identifier: GPL-2.0
/*
 * map_scan: search every entry (keys and values, every CPU's copy) of every
 * BPF map pinned in a directory for byte strings.
 *
 *   map_scan PIN_DIR HEX...
 *
 * Prints "found MAP NEEDLE_INDEX" per hit and "scanned N maps, M entries";
 * exits 1 when any needle was found, 0 when none, 2 on errors. The key test
 * (tests/e2e/test_keys.sh) uses it to prove no private key reaches the maps,
 * and, as a control, that a public key does.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define MAX_NEEDLES 16

struct needle {
	uint8_t b[64];
	size_t len;
};

static int unhex(const char *s, struct needle *n)
{
	size_t len = strlen(s);

	if (len % 2 || len / 2 > sizeof(n->b) || !len)
		return -EINVAL;
	for (size_t i = 0; i < len / 2; i++) {
		unsigned int v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		n->b[i] = (uint8_t)v;
	}
	n->len = len / 2;
	return 0;
}

static bool per_cpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

static int search(const char *map, const uint8_t *buf, size_t len, const struct needle *nd,
		  int n_needles)
{
	int hits = 0;

	for (int i = 0; i < n_needles; i++)
		if (memmem(buf, len, nd[i].b, nd[i].len)) {
			printf("found %s %d\n", map, i);
			hits++;
		}
	return hits;
}

/* A pinned object is a map when its fdinfo names a map type (programs are pinned too). */
static bool is_map(int fd)
{
	char path[64], line[256];
	bool map = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!map && fgets(line, sizeof(line), f))
		map = !strncmp(line, "map_type:", 9);
	fclose(f);
	return map;
}

/* Scan one map; returns the number of hits, adds its entries to *entries. */
static int scan_map(const char *name, int fd, const struct needle *nd, int n_needles,
		    unsigned long *entries)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	uint8_t *key, *next, *val;
	size_t vsize;
	int hits = 0, ncpu = libbpf_num_possible_cpus();
	bool first = true;

	if (bpf_obj_get_info_by_fd(fd, &info, &info_len))
		return 0;
	vsize = (size_t)info.value_size * (per_cpu(info.type) ? (size_t)(ncpu > 0 ? ncpu : 1) : 1);
	key = calloc(1, info.key_size + 1);
	next = calloc(1, info.key_size + 1);
	val = calloc(1, vsize + 8);
	if (!key || !next || !val)
		goto out;
	while (!bpf_map_get_next_key(fd, first ? NULL : key, next)) {
		first = false;
		memcpy(key, next, info.key_size);
		hits += search(name, key, info.key_size, nd, n_needles);
		/* XSKMAP and others refuse lookups from user space: keys only then. */
		if (!bpf_map_lookup_elem(fd, key, val))
			hits += search(name, val, vsize, nd, n_needles);
		(*entries)++;
	}
out:
	free(key);
	free(next);
	free(val);
	return hits;
}

int main(int argc, char **argv)
{
	struct needle nd[MAX_NEEDLES];
	unsigned long entries = 0;
	int n = argc - 2, hits = 0, maps = 0;
	struct dirent *de;
	char path[4096];
	DIR *dir;

	if (argc < 3 || n > MAX_NEEDLES) {
		fprintf(stderr, "usage: map_scan PIN_DIR HEX... (at most %d)\n", MAX_NEEDLES);
		return 2;
	}
	for (int i = 0; i < n; i++)
		if (unhex(argv[i + 2], &nd[i])) {
			fprintf(stderr, "map_scan: bad hex `%s'\n", argv[i + 2]);
			return 2;
		}
	libbpf_set_print(NULL);
	dir = opendir(argv[1]);
	if (!dir) {
		fprintf(stderr, "map_scan: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	while ((de = readdir(dir))) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (is_map(fd)) {
			hits += scan_map(de->d_name, fd, nd, n, &entries);
			maps++;
		}
		close(fd);
	}
	closedir(dir);
	printf("scanned %d maps, %lu entries\n", maps, entries);
	return hits ? 1 : 0;
}
