// SPDX-License-Identifier: GPL-2.0
/* File-system steps: see file_util.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_util.h"

int xwgp_dirname(char *dir, size_t len, const char *path)
{
	char *slash;

	if ((size_t)snprintf(dir, len, "%s", path) >= len)
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, len, ".");
	return 0;
}

int xwgp_mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

int xwgp_write_atomic(const char *path, const char *text)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, dfd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (xwgp_dirname(dir, sizeof(dir), path))
		return -ENAMETOOLONG;
	if (strchr(path, '/')) {
		err = xwgp_mkdir_p(dir, 0700);
		if (err)
			return err;
	}
	fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600: cookies */
	if (fd < 0)
		return -errno;
	err = write_all(fd, text, strlen(text));
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	/* The rename is durable only once the directory is on disk. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd))
		err = -errno;
	close(dfd);
	return err;
}
