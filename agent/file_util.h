/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small file-system steps shared by the agent: creating private directories
 * (bpffs pins, the cache directory) and replacing a file atomically.
 */
#ifndef XWGP_FILE_UTIL_H
#define XWGP_FILE_UTIL_H

#include <stddef.h>
#include <sys/types.h>

/* The directory part of path ("/" for "/x", "." for "x"): 0 or -ENAMETOOLONG. */
int xwgp_dirname(char *dir, size_t len, const char *path);

/*
 * mkdir -p: create path and every missing parent with `mode' (existing
 * ones are left as they are). Returns 0 or -errno.
 */
int xwgp_mkdir_p(const char *path, mode_t mode);

/*
 * Write text to path atomically: temp file in the same directory (mode
 * 0600), fsync, rename, fsync the directory. Creates missing directories
 * (0700). A reader sees the old file or the new one, never a mix, even
 * after a crash. Returns 0 or -errno.
 */
int xwgp_write_atomic(const char *path, const char *text);

#endif /* XWGP_FILE_UTIL_H */
