/* SPDX-License-Identifier: GPL-2.0 */
/* The epoll loops of `xwgp server' and `xwgp client'. */
#ifndef XWGP_EVENT_H
#define XWGP_EVENT_H

#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>

/* Watch fd for input; the event carries tag. 0 or -errno. */
static inline int epoll_add(int epfd, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

#endif /* XWGP_EVENT_H */
