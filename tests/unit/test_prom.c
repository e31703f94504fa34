// SPDX-License-Identifier: GPL-2.0
/*
 * The Prometheus exposition writer (agent/prom.c): escaping, HELP/TYPE
 * before every family, contiguous families, names by the conventions, and
 * the families and label values the README promises.
 */
#include <ctype.h>

#include "addr.h"
#include "prom.h"
#include "test.h"

static bool valid_name(const char *s, size_t n)
{
	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return false;
	return true;
}

/* Count lines of b that equal line exactly. */
static int count_line(const struct prom_buf *b, const char *line)
{
	size_t n = strlen(line);
	int hits = 0;

	for (const char *p = b->p; p < b->p + b->len;) {
		const char *e = memchr(p, '\n', b->p + b->len - p);

		if (!e)
			break;
		hits += (size_t)(e - p) == n && !memcmp(p, line, n);
		p = e + 1;
	}
	return hits;
}

/*
 * Walk the text as a scraper would: every sample's metric must be the
 * family announced by the HELP and TYPE lines just above its run, no
 * family may come twice, and every line ends with a newline.
 */
static int check_structure(const struct prom_buf *b, char *why, size_t len)
{
	char family[128] = "", seen[4096] = " ";
	int state = 0; /* 0: want HELP, 1: want TYPE, 2: samples */

	if (!b->len || b->p[b->len - 1] != '\n')
		return snprintf(why, len, "does not end with a newline"), -1;
	for (const char *p = b->p; p < b->p + b->len;) {
		const char *e = memchr(p, '\n', b->p + b->len - p);
		size_t n = (size_t)(e - p), name_len = strcspn(p, "{ \n");
		char key[140];

		if (!strncmp(p, "# HELP ", 7)) {
			size_t fl = strcspn(p + 7, " \n");

			if (fl >= sizeof(family) || !valid_name(p + 7, fl))
				return snprintf(why, len, "bad HELP name: %.*s", (int)n, p), -1;
			memcpy(family, p + 7, fl);
			family[fl] = '\0';
			snprintf(key, sizeof(key), " %s ", family);
			if (strstr(seen, key))
				return snprintf(why, len, "family %s twice", family), -1;
			strncat(seen, key + 1, sizeof(seen) - strlen(seen) - 1);
			state = 1;
		} else if (!strncmp(p, "# TYPE ", 7)) {
			const char *t = p + 7 + strlen(family) + 1;

			if (state != 1 || strncmp(p + 7, family, strlen(family)) ||
			    (strncmp(t, "counter\n", 8) && strncmp(t, "gauge\n", 6)))
				return snprintf(why, len, "TYPE out of place: %.*s", (int)n, p), -1;
			if (!strncmp(t, "counter", 7) &&
			    (strlen(family) < 6 || strcmp(family + strlen(family) - 6, "_total")))
				return snprintf(why, len, "counter %s lacks _total", family), -1;
			state = 2;
		} else {
			if (state != 2 || name_len != strlen(family) ||
			    strncmp(p, family, name_len))
				return snprintf(why, len, "sample outside its family: %.*s", (int)n,
						p),
				       -1;
			if (!isdigit((unsigned char)e[-1]))
				return snprintf(why, len, "no value: %.*s", (int)n, p), -1;
		}
		p = e + 1;
	}
	return 0;
}

TEST(label_values_escaped)
{
	struct prom_buf b = {};
	struct prom_label l[] = { { "a", "x\\y" }, { "b", "say \"hi\"" }, { "c", "two\nlines" } };

	prom_sample(&b, "m_total", l, 3, 42);
	CHECK(!b.oom);
	CHECK(b.len == strlen("m_total{a=\"x\\\\y\",b=\"say \\\"hi\\\"\",c=\"two\\nlines\"} "
			      "42\n") &&
		      !memcmp(b.p,
			      "m_total{a=\"x\\\\y\",b=\"say \\\"hi\\\"\",c=\"two\\nlines\"} 42\n",
			      b.len),
	      "got: %.*s", (int)b.len, b.p);
	prom_buf_free(&b);
}

TEST(help_escaped_type_after)
{
	struct prom_buf b = {};

	/* In HELP only `\' and line feed are escaped; a quote stays. */
	prom_family(&b, "m_total", PROM_COUNTER, "a \\ b\n\"c\"");
	prom_sample(&b, "m_total", NULL, 0, 18446744073709551615ull);
	CHECK(count_line(&b, "# HELP m_total a \\\\ b\\n\"c\"") == 1, "got: %.*s", (int)b.len, b.p);
	CHECK(count_line(&b, "# TYPE m_total counter") == 1);
	CHECK(count_line(&b, "m_total 18446744073709551615") == 1, "u64 max printed exactly");
	prom_buf_free(&b);
}

static void fill(struct metrics_snapshot *s)
{
	struct metrics_backend be = {
		.c2s_packets = 5, .c2s_bytes = 500, .s2c_packets = 7, .s2c_bytes = 700
	};

	s->up = true;
	s->instance = "edge \"1\"";
	s->xdp_mode = "native";
	for (int i = 0; i < XWGP_STAT__MAX; i++)
		s->xdp[i] = (struct xwgp_stat_val){ 100 + i, 1000 + i };
	for (int i = 0; i < XWGP_AGENT_STAT__MAX; i++)
		s->agent[i] = 200 + i;
	s->established = 3;
	s->pending = 1;
	xwgp_ep_parse("198.51.100.2:51820", 0, &be.ep);
	metrics_backend_add(s, &be);
	xwgp_ep_parse("[2001:db8::2]:51821", 0, &be.ep);
	metrics_backend_add(s, &be);
	metrics_backend_add(s, &be); /* the same backend sums */
}

TEST(snapshot_families)
{
	struct metrics_snapshot s = {};
	struct prom_buf b = {};
	char why[256] = "", line[256];

	fill(&s);
	prom_write_snapshot(&b, &s);
	CHECK(!b.oom);
	CHECK(check_structure(&b, why, sizeof(why)) == 0, "%s\n%.*s", why, (int)b.len, b.p);
	CHECK(count_line(&b, "xwgp_up 1") == 1);
	CHECK(strstr(b.p, "xwgp_info{version=\"") &&
		      strstr(b.p, "instance=\"edge \\\"1\\\"\",xdp_mode=\"native\"} 1\n"),
	      "%.*s", (int)b.len, b.p);
	for (int i = 0; i < XWGP_STAT__MAX; i++) {
		snprintf(line, sizeof(line), "xwgp_xdp_packets_total{reason=\"%s\"} %d",
			 xwgp_xdp_stat_names[i], 100 + i);
		CHECK(count_line(&b, line) == 1, "missing: %s", line);
		snprintf(line, sizeof(line), "xwgp_xdp_bytes_total{reason=\"%s\"} %d",
			 xwgp_xdp_stat_names[i], 1000 + i);
		CHECK(count_line(&b, line) == 1, "missing: %s", line);
	}
	CHECK(count_line(&b, "xwgp_xdp_packets_total{reason=\"C2S_REDIRECT\"} 105") == 1);
	for (int i = 0; i < XWGP_AGENT_STAT__MAX; i++) {
		snprintf(line, sizeof(line), "xwgp_agent_events_total{event=\"%s\"} %d",
			 xwgp_agent_stat_names[i], 200 + i);
		CHECK(count_line(&b, line) == 1, "missing: %s", line);
	}
	snprintf(line, sizeof(line), "xwgp_handshakes_total{result=\"forwarded\"} %d",
		 200 + XWGP_AGENT_STAT_INIT_FORWARDED);
	CHECK(count_line(&b, line) == 1, "missing: %s", line);
	snprintf(line, sizeof(line), "xwgp_handshakes_total{result=\"replay\"} %d",
		 200 + XWGP_AGENT_STAT_INIT_REPLAY);
	CHECK(count_line(&b, line) == 1, "missing: %s", line);
	CHECK(count_line(&b, "xwgp_sessions{state=\"established\"} 3") == 1);
	CHECK(count_line(&b, "xwgp_sessions{state=\"pending\"} 1") == 1);
	CHECK(count_line(&b, "xwgp_backend_packets_total{backend=\"198.51.100.2:51820\",direction="
			     "\"c2s\"} 5") == 1);
	CHECK(count_line(&b, "xwgp_backend_bytes_total{backend=\"198.51.100.2:51820\",direction="
			     "\"s2c\"} 700") == 1);
	CHECK(count_line(&b, "xwgp_backend_packets_total{backend=\"[2001:db8::2]:51821\",direction="
			     "\"c2s\"} 10") == 1,
	      "%.*s", (int)b.len, b.p);
	CHECK(count_line(&b, "xwgp_backend_bytes_total{backend=\"[2001:db8::2]:51821\",direction="
			     "\"s2c\"} 1400") == 1);
	prom_buf_free(&b);
	metrics_snapshot_free(&s);
}

TEST(down_only_up_and_info)
{
	struct metrics_snapshot s = {};
	struct prom_buf b = {};
	char why[256] = "";

	fill(&s);
	s.up = false;
	prom_write_snapshot(&b, &s);
	CHECK(check_structure(&b, why, sizeof(why)) == 0, "%s", why);
	CHECK(count_line(&b, "xwgp_up 0") == 1);
	CHECK(!strstr(b.p, "xwgp_xdp_packets_total"), "no counters when the maps were not read");
	prom_buf_free(&b);
	metrics_snapshot_free(&s);
}

/* Backends beyond METRICS_MAX_BACKENDS are summed as backend="other". */
TEST(backend_cardinality_capped)
{
	struct metrics_snapshot s = { .up = true };
	struct metrics_backend be = { .c2s_packets = 1 };
	struct prom_buf b = {};
	char why[256] = "";

	for (int i = 0; i < METRICS_MAX_BACKENDS + 10; i++) {
		char ep[32];

		snprintf(ep, sizeof(ep), "10.%d.%d.1:51820", i / 256, i % 256);
		CHECK(xwgp_ep_parse(ep, 0, &be.ep) == 0);
		metrics_backend_add(&s, &be);
	}
	CHECK(s.n_backends == METRICS_MAX_BACKENDS + 1, "%zu rows", s.n_backends);
	prom_write_snapshot(&b, &s);
	CHECK(!b.oom && b.len > 100000, "the buffer grew to %zu", b.len);
	CHECK(check_structure(&b, why, sizeof(why)) == 0, "%s", why);
	CHECK(count_line(&b,
			 "xwgp_backend_packets_total{backend=\"other\",direction=\"c2s\"} 10") ==
	      1);
	prom_buf_free(&b);
	metrics_snapshot_free(&s);
}

TEST_MAIN()
