// SPDX-License-Identifier: GPL-2.0
/*
 * json5_canon: parse NUL-separated JSON5 documents from stdin with xwgp's
 * reader (agent/json5.c) and print one line per document:
 *
 *   OK <tree>          the canonical tree (below)
 *   ERR <line>:<col> <message>
 *
 * The canonical tree is what tests/e2e/json5_diff.js computes from the
 * reference implementation's value, so the two can be compared as text:
 *   null n, true t, false f, NaN N, other numbers d<IEEE-754 bits, 16 hex>,
 *   strings s<UTF-8 bytes in hex>; (U+0000, held as C0 80, as 00),
 *   arrays [a,b], objects {<key hex>:v,...} sorted by key hex.
 * A key given twice (JSON5 leaves that to the application; xwgp's tree
 * keeps both and its config layer refuses them) counts with its last
 * value, as in the reference.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json5.h"

static char *hex_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = malloc(2 * strlen(s) + 1), *o = out;

	if (!out)
		exit(2);
	for (; *p; p++) {
		if (p[0] == 0xC0 && p[1] == 0x80) {
			o += sprintf(o, "00");
			p++;
		} else {
			o += sprintf(o, "%02x", *p);
		}
	}
	*o = '\0';
	return out;
}

struct member {
	char *key;
	const cJSON *v;
	size_t idx;
};

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : x->idx < y->idx ? -1 : 1;
}

static void canon(FILE *f, const cJSON *v)
{
	const cJSON *c;
	uint64_t bits;
	size_t n = 0, i;

	if (cJSON_IsNull(v)) {
		fputc('n', f);
	} else if (cJSON_IsBool(v)) {
		fputc(cJSON_IsTrue(v) ? 't' : 'f', f);
	} else if (cJSON_IsNumber(v)) {
		if (isnan(v->valuedouble)) {
			fputc('N', f);
		} else {
			memcpy(&bits, &v->valuedouble, sizeof(bits));
			fprintf(f, "d%016llx", (unsigned long long)bits);
		}
	} else if (cJSON_IsString(v)) {
		char *h = hex_str(v->valuestring);

		fprintf(f, "s%s;", h);
		free(h);
	} else if (cJSON_IsArray(v)) {
		fputc('[', f);
		for (c = v->child; c; c = c->next) {
			canon(f, c);
			if (c->next)
				fputc(',', f);
		}
		fputc(']', f);
	} else {
		struct member *m;
		bool first = true;

		for (c = v->child; c; c = c->next)
			n++;
		m = calloc(n ? n : 1, sizeof(*m));
		if (!m)
			exit(2);
		for (c = v->child, i = 0; c; c = c->next, i++)
			m[i] = (struct member){ hex_str(c->string), c, i };
		qsort(m, n, sizeof(*m), member_cmp);
		fputc('{', f);
		for (i = 0; i < n; i++) {
			bool last = i + 1 == n || strcmp(m[i].key, m[i + 1].key);

			if (last) {
				fprintf(f, "%s%s:", first ? "" : ",", m[i].key);
				canon(f, m[i].v);
				first = false;
			}
			free(m[i].key);
		}
		fputc('}', f);
		free(m);
	}
}

int main(void)
{
	size_t cap = 1 << 20, len = 0, start = 0, i;
	char *buf = malloc(cap);
	struct json5_error e;
	size_t r;
	cJSON *t;

	if (!buf)
		return 2;
	while ((r = fread(buf + len, 1, cap - len, stdin)) > 0) {
		len += r;
		if (len == cap) {
			buf = realloc(buf, cap *= 2);
			if (!buf)
				return 2;
		}
	}
	for (i = 0; i <= len; i++) {
		if (i < len && buf[i])
			continue;
		if (i == len && start == len)
			break; /* nothing after the last separator */
		t = json5_parse(buf + start, i - start, &e);
		if (t) {
			fputs("OK ", stdout);
			canon(stdout, t);
			fputc('\n', stdout);
			cJSON_Delete(t);
		} else {
			printf("ERR %u:%u %s\n", e.line, e.column, e.msg);
		}
		start = i + 1;
	}
	free(buf);
	return 0;
}
