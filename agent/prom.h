/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Prometheus text exposition format (version 0.0.4), written into a
 * growing buffer. One writer for `GET /metrics' (agent/metrics.c) and
 * `xwgp stats --prometheus' (agent/show.c), so both print the same bytes.
 *
 * Format rules kept here (prometheus.io/docs/instrumenting/exposition_formats):
 * every family gets `# HELP' then `# TYPE' before its samples; HELP text
 * escapes `\' and line feed; label values escape `\', `"' and line feed;
 * samples of one family are contiguous; lines end with '\n'.
 */
#ifndef XWGP_PROM_H
#define XWGP_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics_collect.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct prom_buf {
	char *p;
	size_t len, cap;
	bool oom; /* an allocation failed: the text is incomplete, do not serve it */
};

struct prom_label {
	const char *name;  /* [a-zA-Z_][a-zA-Z0-9_]*: written as given */
	const char *value; /* any bytes: escaped */
};

enum prom_type { PROM_COUNTER, PROM_GAUGE };

void prom_buf_free(struct prom_buf *b);

/* `# HELP name help' and `# TYPE name counter|gauge'. */
void prom_family(struct prom_buf *b, const char *name, enum prom_type type, const char *help);
/* `name{l1="v1",...} value'. */
void prom_sample(struct prom_buf *b, const char *name, const struct prom_label *labels,
		 size_t n_labels, uint64_t value);

/* The whole exposition of a snapshot (every family, README "Metrics"). */
void prom_write_snapshot(struct prom_buf *b, const struct metrics_snapshot *s);

#endif
