/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One server per cache file: two instances writing one file would restore
 * each other's sessions. The lock is flock(2) on "<cache file>.lock" (the
 * cache file itself is replaced by rename, so a lock on it would not
 * hold); the kernel drops it when the agent exits, even on SIGKILL.
 */
#ifndef XWGP_CACHE_LOCK_H
#define XWGP_CACHE_LOCK_H

/*
 * Take the lock (creating the directory 0700 and the lock file 0600 as
 * needed). Returns the fd to keep open, or -errno; -EWOULDBLOCK when
 * another process holds it (logged, naming the file and that process).
 */
int cache_lock(const char *cache_path);
void cache_unlock(int fd);

#endif
