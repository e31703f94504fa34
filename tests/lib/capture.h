/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Capture what a test's code under test writes to a file descriptor (its
 * error messages on stderr), to assert on the text.
 */
#ifndef XWGP_TEST_CAPTURE_H
#define XWGP_TEST_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct capture {
	int fd, saved;
	FILE *f;
};

static inline void capture_start(struct capture *c, int fd)
{
	fflush(stdout);
	fflush(stderr);
	c->fd = fd;
	c->f = tmpfile();
	c->saved = dup(fd);
	dup2(fileno(c->f), fd);
}

/* Restore the fd; returns what was written meanwhile (heap, NUL-terminated). */
static inline char *capture_end(struct capture *c)
{
	long len;
	char *buf;

	fflush(stdout);
	fflush(stderr);
	dup2(c->saved, c->fd);
	close(c->saved);
	len = ftell(c->f);
	buf = calloc(1, (size_t)(len > 0 ? len : 0) + 1);
	rewind(c->f);
	if (len > 0 && fread(buf, 1, (size_t)len, c->f) != (size_t)len)
		buf[0] = '\0';
	fclose(c->f);
	return buf;
}

#endif
