// SPDX-License-Identifier: GPL-2.0
/*
 * The session cache file (cache.h): where it lives, the clocks its ages are
 * measured on, the in-memory table, and loading a file. The text format is
 * in cache_format.c (writing) and cache_parse.c (reading); the maps <-> file
 * steps in cache_restore.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cache.h"
#include "clock.h"
#include "file_util.h"
#include "log.h"

/* ---- paths --------------------------------------------------------------- */

int cache_default_path(char *buf, size_t len, const char *instance)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;

	if (!instance)
		instance = XWGP_INSTANCE_DEFAULT;
	/* A system service: FHS cache directory (systemd CacheDirectory=xwgp). */
	if (geteuid() == 0)
		n = snprintf(buf, len, "/var/cache/xwgp/%s.json", instance);
	else if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/xwgp/%s.json", xdg, instance);
	else if (home && home[0] == '/')
		n = snprintf(buf, len, "%s/.cache/xwgp/%s.json", home, instance);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int cache_resolve_path(char *buf, size_t len, const char *cli, const char *config_path,
		       const char *instance)
{
	const char *env = getenv("XWGP_CACHE_FILE");
	const char *p = cli && *cli ? cli : env && *env ? env : config_path;
	int n;

	if (!p)
		return cache_default_path(buf, len, instance);
	n = snprintf(buf, len, "%s", p);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* ---- clocks -------------------------------------------------------------- */

void cache_clock_now(struct cache_clock *c)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	memset(c, 0, sizeof(*c));
	if (f) {
		if (!fgets(c->boot_id, sizeof(c->boot_id), f))
			c->boot_id[0] = '\0';
		c->boot_id[strcspn(c->boot_id, "\n")] = '\0';
		fclose(f);
	}
	c->boot_ns = xwgp_clock_ns(CLOCK_BOOTTIME);
	c->real_ns = xwgp_clock_ns(CLOCK_REALTIME);
}

/* ---- the in-memory table --------------------------------------------------- */

void cache_free(struct xwgp_cache *c)
{
	if (c->sessions)
		sodium_memzero(c->sessions, c->cap_sessions * sizeof(*c->sessions));
	if (c->peers)
		sodium_memzero(c->peers, c->cap_peers * sizeof(*c->peers)); /* cookies */
	free(c->sessions);
	free(c->peers);
	memset(c, 0, sizeof(*c));
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = reallocarray(*arr, ncap, elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int cache_add_session(struct xwgp_cache *c, const struct xwgp_session *s,
		      const struct xwgp_session_meta *m)
{
	int err = grow((void **)&c->sessions, &c->cap_sessions, c->n_sessions,
		       sizeof(*c->sessions));

	if (err)
		return err;
	c->sessions[c->n_sessions].s = *s;
	c->sessions[c->n_sessions].m = *m;
	c->n_sessions++;
	return 0;
}

int cache_add_peer(struct xwgp_cache *c, const struct xwgp_peer_key *k,
		   const struct xwgp_peer_state *st)
{
	int err = grow((void **)&c->peers, &c->cap_peers, c->n_peers, sizeof(*c->peers));

	if (err)
		return err;
	c->peers[c->n_peers].k = *k;
	c->peers[c->n_peers].st = *st;
	c->n_peers++;
	return 0;
}

/* ---- loading ---------------------------------------------------------------- */

/*
 * Whether the file at path (fstat *st) may be trusted. Sessions in it steer
 * traffic, so whoever can write it controls forwarding: it must be ours
 * (owner our euid or root, not writable by group or others) in a directory
 * that is ours and that nobody else can write into (or at least not
 * replace our file in: sticky). Anything else is refused. A directory only
 * readable by others is the one deviation warned about and accepted: the
 * file itself is 0600, others see its name only (the README promises 0700;
 * a directory made by xwgp, or by the systemd unit, has it).
 */
static int cache_trusted(const char *path, const struct stat *st)
{
	char dir[PATH_MAX];
	uid_t me = geteuid();
	struct stat ds;

	if (st->st_uid != me && st->st_uid != 0) {
		pr_warn("cache file %s: owned by uid %u, not by this user (%u) or root: not trusted; "
			"starting with an empty session table",
			path, (unsigned int)st->st_uid, (unsigned int)me);
		return -EPERM;
	}
	if (st->st_mode & 022) {
		pr_warn("cache file %s: writable by group or others (mode %04o): not trusted; "
			"starting with an empty session table",
			path, (unsigned int)(st->st_mode & 07777));
		return -EPERM;
	}
	if (xwgp_dirname(dir, sizeof(dir), path))
		return -ENAMETOOLONG; /* not after open() succeeded */
	if (stat(dir, &ds)) {
		pr_warn("cache file %s: directory %s: %s; starting with an empty session table",
			path, dir, strerror(errno));
		return -errno;
	}
	if (ds.st_uid != me && ds.st_uid != 0) {
		pr_warn("cache file %s: directory %s is owned by uid %u, not by this user (%u) or "
			"root: not trusted; starting with an empty session table",
			path, dir, (unsigned int)ds.st_uid, (unsigned int)me);
		return -EPERM;
	}
	if ((ds.st_mode & 022) && !(ds.st_mode & S_ISVTX)) {
		pr_warn("cache file %s: directory %s is writable by group or others (mode %04o), "
			"so anyone could replace the file: not trusted; starting with an empty "
			"session table (chmod 700 %s)",
			path, dir, (unsigned int)(ds.st_mode & 07777), dir);
		return -EPERM;
	}
	if (ds.st_mode & 077)
		pr_warn("cache file %s: directory %s has mode %04o, not 0700: others can list it "
			"(chmod 700 %s)",
			path, dir, (unsigned int)(ds.st_mode & 07777), dir);
	return 0;
}

int cache_load(const char *path, const struct cache_clock *now, struct xwgp_cache *out)
{
	struct stat st;
	char *text;
	ssize_t n;
	size_t len = 0;
	int fd, err;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err != -ENOENT)
			pr_warn("cache file %s: cannot open: %s; starting with an empty session table",
				path, strerror(errno));
		return err;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > XWGP_CACHE_MAX_BYTES) {
		pr_warn("cache file %s: not a regular file of at most %u bytes; starting with an "
			"empty session table",
			path, XWGP_CACHE_MAX_BYTES);
		close(fd);
		return -EINVAL;
	}
	err = cache_trusted(path, &st);
	if (err) {
		close(fd);
		return err;
	}
	text = malloc(st.st_size ? st.st_size : 1);
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, text + len, st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	err = cache_parse(text, len, path, now, out);
	sodium_memzero(text, len); /* cookies */
	free(text);
	return err;
}
