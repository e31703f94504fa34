// SPDX-License-Identifier: GPL-2.0
/* The cache file's lock (see cache_lock.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cache.h"
#include "cache_lock.h"
#include "file_util.h"
#include "log.h"

int cache_lock(const char *cache_path)
{
	char path[PATH_MAX], dir[PATH_MAX], pid[32] = "";
	ssize_t n;
	int fd, err;

	if (snprintf(path, sizeof(path), "%s.lock", cache_path) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	err = xwgp_dirname(dir, sizeof(dir), path) ?: xwgp_mkdir_p(dir, 0700);
	if (err) {
		pr_err("session cache lock %s: cannot create its directory: %s", path,
		       strerror(-err));
		return err;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err = -errno;
		pr_err("session cache lock %s: %s", path, strerror(errno));
		return err;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (err == -EWOULDBLOCK)
			pr_err("session cache %s is in use by another xwgp server (pid %s, lock "
			       "%s): "
			       "two instances on one cache file would restore each other's "
			       "sessions; "
			       "give each its own `instance' (or `cache_file_path', --cache-file)",
			       cache_path, pid[0] ? pid : "?", path);
		else
			pr_err("session cache lock %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	/* For the message above in the next one: who holds it. */
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, strlen(pid), 0) < 0)
		pr_debug("session cache lock %s: cannot record the pid: %s", path, strerror(errno));
	return fd;
}

void cache_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
