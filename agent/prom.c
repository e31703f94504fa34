// SPDX-License-Identifier: GPL-2.0
/* Prometheus text exposition 0.0.4 (see prom.h for the rules kept). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "prom.h"

/* $(BUILD)/xwgp_version.h: the git description, written by the Makefile. */
#if __has_include("xwgp_version.h")
#include "xwgp_version.h"
#endif
#ifndef XWGP_VERSION
#define XWGP_VERSION "unknown"
#endif

void prom_buf_free(struct prom_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static bool reserve(struct prom_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *n;

	if (b->oom)
		return false;
	while (cap - b->len <= more) /* <=: room for the NUL vsnprintf writes */
		cap *= 2;
	if (cap == b->cap)
		return true;
	n = realloc(b->p, cap);
	if (!n) {
		b->oom = true;
		return false;
	}
	b->p = n;
	b->cap = cap;
	return true;
}

__attribute__((format(printf, 2, 3))) static void put(struct prom_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Escape `\' and line feed, and `"' too in label values. */
static void put_escaped(struct prom_buf *b, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			put(b, "\\\\");
		else if (*s == '\n')
			put(b, "\\n");
		else if (*s == '"' && quote)
			put(b, "\\\"");
		else
			put(b, "%c", *s);
	}
}

void prom_family(struct prom_buf *b, const char *name, enum prom_type type, const char *help)
{
	put(b, "# HELP %s ", name);
	put_escaped(b, help, false);
	put(b, "\n# TYPE %s %s\n", name, type == PROM_COUNTER ? "counter" : "gauge");
}

void prom_sample(struct prom_buf *b, const char *name, const struct prom_label *labels,
		 size_t n_labels, uint64_t value)
{
	put(b, "%s", name);
	for (size_t i = 0; i < n_labels; i++) {
		put(b, "%s%s=\"", i ? "," : "{", labels[i].name);
		put_escaped(b, labels[i].value, true);
		put(b, "\"");
	}
	put(b, "%s %llu\n", n_labels ? "}" : "", (unsigned long long)value);
}

/* One sample per counter name: the families keyed by reason and by event. */
static void named_family(struct prom_buf *b, const char *name, const char *help, const char *label,
			 const char *const *names, const uint64_t *values, size_t n)
{
	prom_family(b, name, PROM_COUNTER, help);
	for (size_t i = 0; i < n; i++) {
		struct prom_label l = { label, names[i] };

		prom_sample(b, name, &l, 1, values[i]);
	}
}

static void xdp_families(struct prom_buf *b, const struct metrics_snapshot *s)
{
	uint64_t pkts[XWGP_STAT__MAX], bytes[XWGP_STAT__MAX];

	for (size_t i = 0; i < XWGP_STAT__MAX; i++) {
		pkts[i] = s->xdp[i].packets;
		bytes[i] = s->xdp[i].bytes;
	}
	named_family(b, "xwgp_xdp_packets_total",
		     "Packets the XDP program counted, by verdict and reason (as `xwgp stats' "
		     "names them); a punt counts under its reason and under PUNT_XSK or "
		     "PUNT_STACK, RX counts every packet seen.",
		     "reason", xwgp_xdp_stat_names, pkts, XWGP_STAT__MAX);
	named_family(b, "xwgp_xdp_bytes_total",
		     "Bytes of the frames (as received, link-layer header included) counted "
		     "in xwgp_xdp_packets_total, by the same reason.",
		     "reason", xwgp_xdp_stat_names, bytes, XWGP_STAT__MAX);
}

/* The agent's initiation outcomes; INIT_TRANSLATED is a part of forwarded. */
static const struct {
	const char *result;
	enum xwgp_agent_stat stat;
} handshake_results[] = {
	{ "forwarded", XWGP_AGENT_STAT_INIT_FORWARDED },
	{ "no_server", XWGP_AGENT_STAT_INIT_NO_SERVER },
	{ "decrypt_failed", XWGP_AGENT_STAT_INIT_DECRYPT_FAILED },
	{ "no_peer", XWGP_AGENT_STAT_INIT_NO_PEER },
	{ "replay", XWGP_AGENT_STAT_INIT_REPLAY },
	{ "table_full", XWGP_AGENT_STAT_INIT_TABLE_FULL },
};

static void agent_families(struct prom_buf *b, const struct metrics_snapshot *s)
{
	named_family(b, "xwgp_agent_events_total",
		     "Events of the agent (slow path), one per agent counter of `xwgp stats'.",
		     "event", xwgp_agent_stat_names, s->agent, XWGP_AGENT_STAT__MAX);
	prom_family(b, "xwgp_handshakes_total", PROM_COUNTER,
		    "Handshake initiations the agent handled, by result (forwarded to a "
		    "backend, or why not).");
	for (size_t i = 0; i < sizeof(handshake_results) / sizeof(handshake_results[0]); i++) {
		struct prom_label l = { "result", handshake_results[i].result };

		prom_sample(b, "xwgp_handshakes_total", &l, 1, s->agent[handshake_results[i].stat]);
	}
}

static void session_families(struct prom_buf *b, const struct metrics_snapshot *s)
{
	static const char *const dirs[] = { "c2s", "s2c" };
	struct prom_label l[2];
	char ep[XWGP_EP_STRLEN];

	prom_family(b, "xwgp_sessions", PROM_GAUGE,
		    "Sessions in the table: established (backend answered) or pending.");
	l[0] = (struct prom_label){ "state", "established" };
	prom_sample(b, "xwgp_sessions", l, 1, s->established);
	l[0].value = "pending";
	prom_sample(b, "xwgp_sessions", l, 1, s->pending);

	for (int bytes = 0; bytes < 2; bytes++) {
		const char *name =
			bytes ? "xwgp_backend_bytes_total" : "xwgp_backend_packets_total";

		prom_family(b, name, PROM_COUNTER,
			    bytes ? "Transport UDP payload bytes forwarded, per backend and "
				    "direction (XDP and agent)."
				  : "Transport packets forwarded, per backend and direction "
				    "(XDP and agent).");
		for (size_t i = 0; i < s->n_backends; i++) {
			const struct metrics_backend *be = &s->backends[i];
			uint64_t v[2] = { bytes ? be->c2s_bytes : be->c2s_packets,
					  bytes ? be->s2c_bytes : be->s2c_packets };

			if (be->ep.family == XWGP_FAMILY_NONE)
				snprintf(ep, sizeof(ep), "other");
			else
				xwgp_ep_format(ep, sizeof(ep), &be->ep);
			l[0] = (struct prom_label){ "backend", ep };
			for (int d = 0; d < 2; d++) {
				l[1] = (struct prom_label){ "direction", dirs[d] };
				prom_sample(b, name, l, 2, v[d]);
			}
		}
	}
}

void prom_write_snapshot(struct prom_buf *b, const struct metrics_snapshot *s)
{
	struct prom_label info[] = {
		{ "version", XWGP_VERSION },
		{ "instance", s->instance ? s->instance : "" },
		{ "xdp_mode", s->xdp_mode ? s->xdp_mode : "unknown" },
	};

	prom_family(b, "xwgp_up", PROM_GAUGE,
		    "1 when the counters below were read from the instance's maps.");
	prom_sample(b, "xwgp_up", NULL, 0, s->up);
	prom_family(b, "xwgp_info", PROM_GAUGE, "Build and instance of this xwgp (always 1).");
	prom_sample(b, "xwgp_info", info, 3, 1);
	if (!s->up)
		return;
	xdp_families(b, s);
	agent_families(b, s);
	session_families(b, s);
}
