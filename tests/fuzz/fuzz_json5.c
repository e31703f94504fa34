// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz the JSON5 reader (agent/json5.c): any bytes, any length (no NUL
 * terminator: the reader must not look past size). Besides ASan/UBSan:
 *  - a refusal names a position inside the text (line and column >= 1,
 *    offset <= size) and a message;
 *  - an accepted tree, printed back as JSON5 (every string \u-escaped,
 *    numbers to 17 digits) and read again, gives the same tree: nothing
 *    the reader accepts is lost or changed on the way into cJSON.
 */
#include <errno.h>
#include <math.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "json5.h"

struct out {
	char *p;
	size_t n, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->cap - o->n < n + 1) {
		while (o->cap - o->n < n + 1)
			o->cap = o->cap ? 2 * o->cap : 256;
		o->p = realloc(o->p, o->cap);
		if (!o->p)
			abort();
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

/*
 * ASCII as \xHH, U+0000 (C0 80) as \0, a lone surrogate (WTF-8 ED A0-BF xx)
 * as \uXXXX, other UTF-8 raw: the same bytes must come back.
 */
static void put_string(struct out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[8];

	put(o, "'", 1);
	for (; *p; p++) {
		if (p[0] == 0xC0 && p[1] == 0x80) {
			put(o, "\\0", 2);
			p++;
		} else if (p[0] == 0xED && p[1] >= 0xA0 && p[1] <= 0xBF && p[2]) {
			snprintf(esc, sizeof(esc), "\\u%04X",
				 0xD000 | (p[1] & 0x3F) << 6 | (p[2] & 0x3F));
			put(o, esc, 6);
			p += 2;
		} else if (*p >= 0x80) {
			put(o, (const char *)p, 1); /* raw UTF-8 (or WTF-8) bytes */
		} else {
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			put(o, esc, 4);
		}
	}
	put(o, "'", 1);
}

static void print(struct out *o, const cJSON *v)
{
	char num[40];
	const cJSON *c;

	if (cJSON_IsNull(v)) {
		put(o, "null", 4);
	} else if (cJSON_IsBool(v)) {
		put(o, cJSON_IsTrue(v) ? "true" : "false", cJSON_IsTrue(v) ? 4 : 5);
	} else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		if (isnan(d))
			snprintf(num, sizeof(num), "NaN");
		else if (isinf(d))
			snprintf(num, sizeof(num), "%sInfinity", d < 0 ? "-" : "");
		else
			snprintf(num, sizeof(num), "%.17g", d);
		put(o, num, strlen(num));
	} else if (cJSON_IsString(v)) {
		put_string(o, v->valuestring);
	} else {
		bool obj = cJSON_IsObject(v);

		put(o, obj ? "{" : "[", 1);
		for (c = v->child; c; c = c->next) {
			if (obj) {
				put_string(o, c->string);
				put(o, ":", 1);
			}
			print(o, c);
			put(o, ",", 1); /* trailing commas are fine */
		}
		put(o, obj ? "}" : "]", 1);
	}
}

static bool same(const cJSON *a, const cJSON *b)
{
	if ((a->type & 0xff) != (b->type & 0xff))
		return false;
	if (cJSON_IsNumber(a))
		return (isnan(a->valuedouble) && isnan(b->valuedouble)) ||
		       (a->valuedouble == b->valuedouble &&
			signbit(a->valuedouble) == signbit(b->valuedouble));
	if (cJSON_IsString(a))
		return !strcmp(a->valuestring, b->valuestring);
	if (cJSON_IsArray(a) || cJSON_IsObject(a)) {
		for (a = a->child, b = b->child; a && b; a = a->next, b = b->next) {
			if (!a->string != !b->string || (a->string && strcmp(a->string, b->string)))
				return false;
			if (!same(a, b))
				return false;
		}
		return !a && !b;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json5_error e, e2;
	struct out o = { 0 };
	cJSON *t, *t2;
	/* An exact-size copy: ASan catches a read of one byte past the text. */
	char *text = malloc(size ? size : 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	t = json5_parse(text, size, &e);
	free(text);
	if (!t) {
		if (e.code != -EINVAL && e.code != -ENOMEM)
			fuzz_bug("refused with code %d", e.code);
		if (e.code == -EINVAL && (!e.line || !e.column || e.offset > size || !e.msg[0]))
			fuzz_bug("refusal without a position: %u:%u off %zu of %zu `%s'", e.line,
				 e.column, e.offset, size, e.msg);
		return 0;
	}
	print(&o, t);
	t2 = json5_parse(o.p, o.n, &e2);
	if (!t2)
		fuzz_bug("printed tree refused at %u:%u: %s\n%.*s", e2.line, e2.column, e2.msg,
			 (int)o.n, o.p);
	if (!same(t, t2))
		fuzz_bug("round trip changed the tree:\n%.*s", (int)o.n, o.p);
	cJSON_Delete(t2);
	cJSON_Delete(t);
	free(o.p);
	return 0;
}
