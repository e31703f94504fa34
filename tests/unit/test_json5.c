// SPDX-License-Identifier: GPL-2.0
/*
 * The JSON5 reader (agent/json5.c) against a table: every production of
 * spec.json5.org 1.0.0 with the tree it must give, and every class of
 * invalid input with the line and column it must be refused at. The
 * differential test against the reference implementation is
 * tests/e2e/test_json5_diff.sh.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json5.h"
#include "test.h"

/*
 * The tree as compact text: strings in double quotes with bytes outside
 * printable ASCII as \xHH (U+0000, held as C0 80, as \0), numbers with %.17g
 * (-0, Infinity, -Infinity, NaN by name), members in document order.
 */
static void canon(FILE *f, const cJSON *v)
{
	const unsigned char *p;
	const cJSON *c;
	double d;

	if (cJSON_IsNull(v)) {
		fputs("null", f);
	} else if (cJSON_IsBool(v)) {
		fputs(cJSON_IsTrue(v) ? "true" : "false", f);
	} else if (cJSON_IsNumber(v)) {
		d = v->valuedouble;
		if (isnan(d))
			fputs("NaN", f);
		else if (isinf(d))
			fputs(d > 0 ? "Infinity" : "-Infinity", f);
		else if (d == 0 && signbit(d))
			fputs("-0", f);
		else
			fprintf(f, "%.17g", d);
	} else if (cJSON_IsString(v)) {
		fputc('"', f);
		for (p = (const unsigned char *)v->valuestring; *p; p++) {
			if (p[0] == 0xC0 && p[1] == 0x80)
				fputs("\\0", f), p++;
			else if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
				fprintf(f, "\\x%02X", *p);
			else
				fputc(*p, f);
		}
		fputc('"', f);
	} else {
		bool obj = cJSON_IsObject(v);

		fputc(obj ? '{' : '[', f);
		for (c = v->child; c; c = c->next) {
			if (obj) {
				cJSON key = { .type = cJSON_String, .valuestring = c->string };

				canon(f, &key);
				fputc(':', f);
			}
			canon(f, c);
			if (c->next)
				fputc(',', f);
		}
		fputc(obj ? '}' : ']', f);
	}
}

static char *canon_str(const cJSON *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	canon(f, v);
	fclose(f);
	return buf;
}

struct valid_case {
	const char *doc;
	const char *want; /* canonical tree */
};

static const struct valid_case valid[] = {
	/* plain JSON is JSON5 */
	{ "{\"a\": [1, {\"b\": null}], \"c\": true, \"d\": false, \"e\": \"x\"}",
	  "{\"a\":[1,{\"b\":null}],\"c\":true,\"d\":false,\"e\":\"x\"}" },
	{ "null", "null" }, { "[]", "[]" }, { "{}", "{}" }, { "\"s\"", "\"s\"" },
	{ "-1.5e-3", "-0.0015" },
	/* comments */
	{ "// c\n{/* x */a:1// y\n}", "{\"a\":1}" },
	{ "/* a * b / c **/1", "1" },
	{ "1 // no newline at the end", "1" },
	{ "[1, /* in\n the middle */ 2]", "[1,2]" },
	{ "// CR ends a line comment too\r1", "1" },
	{ "// LS ends one\xe2\x80\xa8" "1", "1" },
	/* trailing commas */
	{ "[1, 2, ]", "[1,2]" },
	{ "{a: 1, b: [true,], }", "{\"a\":1,\"b\":[true]}" },
	/* unquoted keys: IdentifierName */
	{ "{$: 1, _: 2, a1: 3, $_$9: 4}", "{\"$\":1,\"_\":2,\"a1\":3,\"$_$9\":4}" },
	{ "{if: 1, null: 2, true: 3, class: 4, NaN: 5, Infinity: 6}",
	  "{\"if\":1,\"null\":2,\"true\":3,\"class\":4,\"NaN\":5,\"Infinity\":6}" },
	{ "{\\u0061b: 1, a\\u0062: 2, \\u0024: 3}", "{\"ab\":1,\"ab\":2,\"$\":3}" },
	{ "{\xc4\x89: 1}", "{\"\\xC4\\x89\":1}" }, /* ĉ: Ll */
	{ "{\xe6\x97\xa5\xe6\x9c\xac: 1}", "{\"\\xE6\\x97\\xA5\\xE6\\x9C\\xAC\":1}" }, /* Lo */
	{ "{\xe2\x85\xab: 1}", "{\"\\xE2\\x85\\xAB\":1}" }, /* Ⅻ: Nl starts one */
	{ "{a\xcc\x81: 1}", "{\"a\\xCC\\x81\":1}" }, /* U+0301: Mn continues one */
	{ "{a\xd9\xa1: 1}", "{\"a\\xD9\\xA1\":1}" }, /* U+0661: Nd */
	{ "{a\xe2\x80\xbf" "b: 1}", "{\"a\\xE2\\x80\\xBFb\":1}" }, /* U+203F: Pc */
	{ "{a\xe2\x80\x8c" "b: 1}", "{\"a\\xE2\\x80\\x8Cb\":1}" }, /* ZWNJ */
	{ "{a\\u200Db: 1}", "{\"a\\xE2\\x80\\x8Db\":1}" }, /* ZWJ, escaped */
	{ "{\\u00e9: 1}", "{\"\\xC3\\xA9\":1}" },
	{ "{\xf0\x9d\x90\x80: 1}", "{\"\\xF0\\x9D\\x90\\x80\":1}" }, /* raw astral letter (Lu) */
	/* single quotes */
	{ "'a\"b'", "\"a\\x22b\"" },
	{ "{'a b': 'c', \"d'\": 1}", "{\"a b\":\"c\",\"d'\":1}" },
	/* escapes */
	{ "['\\'', \"\\\"\", '\\\\', '\\/']", "[\"'\",\"\\x22\",\"\\x5C\",\"/\"]" },
	{ "'\\b\\f\\n\\r\\t\\v'", "\"\\x08\\x0C\\x0A\\x0D\\x09\\x0B\"" },
	{ "'\\x41\\x7e\\xe9'", "\"A~\\xC3\\xA9\"" },
	{ "'\\u0041\\u00E9\\u20ac'", "\"A\\xC3\\xA9\\xE2\\x82\\xAC\"" },
	{ "'\\uD83D\\uDE00'", "\"\\xF0\\x9F\\x98\\x80\"" }, /* surrogate pair */
	{ "'\\uD800x'", "\"\\xED\\xA0\\x80x\"" }, /* lone surrogate: WTF-8 */
	{ "'\\uDE00\\uD83D'", "\"\\xED\\xB8\\x80\\xED\\xA0\\xBD\"" }, /* low, high: two lone ones */
	{ "'\\uD83D\\\n\\uDE00'", "\"\\xF0\\x9F\\x98\\x80\"" }, /* a pair split by a continuation */
	{ "'a\\0b'", "\"a\\0b\"" }, { "'\\0'", "\"\\0\"" }, { "'\\x00'", "\"\\0\"" },
	{ "'\\a\\c\\q\\ \\%'", "\"acq %\"" }, /* NonEscapeCharacter: itself */
	{ "'\\\xc3\xa9'", "\"\\xC3\\xA9\"" },
	/* line continuations */
	{ "'a\\\nb'", "\"ab\"" }, { "'a\\\rb'", "\"ab\"" }, { "'a\\\r\nb'", "\"ab\"" },
	{ "'a\\\xe2\x80\xa8" "b'", "\"ab\"" }, { "'a\\\xe2\x80\xa9" "b'", "\"ab\"" },
	/* LS and PS may stand raw in a string; tab and other controls too */
	{ "'a\xe2\x80\xa8" "b\xe2\x80\xa9" "c'", "\"a\\xE2\\x80\\xA8b\\xE2\\x80\\xA9c\"" },
	{ "'a\tb\x01'", "\"a\\x09b\\x01\"" },
	/* numbers */
	{ "[.5, 5., +1, -.5e1, 5.e2, 0, -0, 0.0, 0e0, 1E-2, 1e+2]",
	  "[0.5,5,1,-5,500,0,-0,0,0,0.01,100]" },
	{ "[0x1F, 0X1f, -0xA, +0x0, 0x1e5, 0xFFFFFFFF]", "[31,31,-10,0,485,4294967295]" },
	{ "[Infinity, -Infinity, +Infinity, NaN, -NaN, +NaN]",
	  "[Infinity,-Infinity,Infinity,NaN,NaN,NaN]" },
	{ "1e400", "Infinity" },
	/* correctly rounded beyond 2^53, hex like decimal (ties to even) */
	{ "[0x20000000000001, 0x20000000000003, 9007199254740993]",
	  "[9007199254740992,9007199254740996,9007199254740992]" },
	/* white space: TAB VT FF SP NBSP BOM LS PS and the other Zs */
	{ "\t\v\f \xc2\xa0\xef\xbb\xbf\xe2\x80\xa8\xe2\x80\xa9\r\n1", "1" },
	{ "\xe1\x9a\x80\xe2\x80\x80\xe2\x80\x8a\xe2\x80\xaf\xe2\x81\x9f\xe3\x80\x80[1]", "[1]" },
	{ "\xef\xbb\xbf{a: 1}", "{\"a\":1}" }, /* a BOM first */
};

struct invalid_case {
	const char *doc;
	unsigned int line, col;
	const char *msg; /* expected in the message */
};

static const struct invalid_case invalid[] = {
	/* leading zeros and octal */
	{ "010", 1, 1, "leading zero" },
	{ "-08", 1, 1, "leading zero" },
	{ "080", 1, 1, "leading zero" },
	{ "[1, 00]", 1, 5, "leading zero" },
	{ "00.5", 1, 1, "leading zero" },
	{ "'\\1'", 1, 2, "no octal escapes" },
	{ "'\\01'", 1, 2, "no octal escapes" },
	{ "'\\08'", 1, 2, "no octal escapes" },
	{ "'\\9'", 1, 2, "no octal escapes" },
	/* line breaks in strings */
	{ "'a\nb'", 1, 3, "line break in a string" },
	{ "\"a\rb\"", 1, 3, "line break in a string" },
	{ "[\n 'ok',\n 'a\r\nb']", 3, 4, "line break in a string" },
	/* unterminated */
	{ "1 /* x", 1, 3, "unterminated /* comment" },
	{ "/* never closed *", 1, 1, "unterminated /* comment" },
	{ "'abc", 1, 1, "unterminated string" },
	{ "\"abc\\", 1, 5, "unterminated string" },
	{ "[1", 1, 3, "unexpected end: expected `,' or `]'" },
	{ "{a: 1", 1, 6, "unexpected end: expected `,' or `}'" },
	{ "[", 1, 2, "unexpected end: expected a value" },
	{ "{", 1, 2, "expected a key" },
	{ "{a:", 1, 4, "unexpected end: expected a value" },
	/* empty documents */
	{ "", 1, 1, "empty document" },
	{ "   \n  ", 2, 3, "empty document" },
	{ "/* c */ // d", 1, 13, "empty document" },
	/* text after the value */
	{ "1 2", 1, 3, "unexpected text after the value" },
	{ "{} x", 1, 4, "unexpected text after the value" },
	{ "'// not a comment', ", 1, 19, "unexpected text after the value" },
	/* commas */
	{ "{a: 1,, b: 2}", 1, 7, "expected a key" },
	{ "[,]", 1, 2, "expected a value" },
	{ "[1,,2]", 1, 4, "expected a value" },
	{ "{,}", 1, 2, "expected a key" },
	{ "[1 2]", 1, 4, "expected `,' or `]'" },
	/* hexadecimal */
	{ "0x", 1, 1, "hexadecimal number without digits" },
	{ "0xG", 1, 1, "hexadecimal number without digits" },
	{ "0x1.5", 1, 4, "hexadecimal number has no fraction" },
	{ "0x1p3", 1, 4, "unexpected character after a number" },
	/* other numbers */
	{ "1e", 1, 1, "exponent without digits" },
	{ "1e+", 1, 1, "exponent without digits" },
	{ ".", 1, 1, "invalid number" },
	{ "+", 1, 1, "invalid number" },
	{ "-", 1, 1, "invalid number" },
	{ ".e1", 1, 1, "invalid number" },
	{ "1a", 1, 2, "unexpected character after a number" },
	{ "1_000", 1, 2, "unexpected character after a number" },
	{ "Infinityx", 1, 1, "got the word `Infinityx'" },
	{ "+Infinityx", 1, 10, "unexpected character after a number" },
	{ "-NaN1", 1, 5, "unexpected character after a number" },
	{ "- Infinity", 1, 1, "invalid number" },
	{ "infinity", 1, 1, "got the word `infinity'" },
	{ "nan", 1, 1, "got the word `nan'" },
	{ "undefined", 1, 1, "got the word `undefined'" },
	{ "n\\u0075ll", 1, 1, "got the word `null'" }, /* an escaped keyword is no keyword */
	{ "#", 1, 1, "expected a value" },
	/* escapes */
	{ "'\\x4'", 1, 2, "\\x needs 2 hexadecimal digits" },
	{ "'\\u12'", 1, 2, "\\u needs 4 hexadecimal digits" },
	{ "'\\u12G4'", 1, 2, "\\u needs 4 hexadecimal digits" },
	{ "'\\uD800\\u12'", 1, 8, "\\u needs 4 hexadecimal digits" },
	/* keys */
	{ "{1: 2}", 1, 2, "expected a key" },
	{ "{a b: 1}", 1, 4, "expected `:' after a key" },
	{ "{a-b: 1}", 1, 3, "expected `:' after a key" },
	{ "{'a' 1}", 1, 6, "expected `:' after a key" },
	{ "{\\u0031a: 1}", 1, 2, "\\u0031 cannot start an identifier" },
	{ "{a\\u002D: 1}", 1, 3, "\\u002D cannot be part of an identifier" },
	{ "{a\\x41: 1}", 1, 3, "invalid escape in an identifier" },
	/* \u in an identifier is one UTF-16 unit: an escaped pair is two non-letters */
	{ "{\\uD835\\uDC00: 1}", 1, 2, "\\uD835 cannot start an identifier" },
	{ "{a\\uD835\\uDC00: 1}", 1, 3, "\\uD835 cannot be part of an identifier" },
	{ "{\xcc\x81" "a: 1}", 1, 2, "expected a key" }, /* Mn cannot start one */
	/* UTF-8 and characters that are not white space */
	{ "'\xff'", 1, 2, "invalid UTF-8" },
	{ "'\xc0\xaf'", 1, 2, "invalid UTF-8" }, /* overlong */
	{ "'\xed\xa0\x80'", 1, 2, "invalid UTF-8" }, /* an encoded surrogate */
	{ "{\xff: 1}", 1, 2, "expected a key" },
	{ "1\xe2\x80\x8b", 1, 2, "unexpected text after the value" }, /* ZWSP is Cf */
	{ "1\xc2\x85", 1, 2, "unexpected text after the value" }, /* NEL is Cc */
	/* positions: lines end at LF, CR, CRLF, LS, PS; columns count characters */
	{ "{\n  a: 1,\n  b: 010\n}", 3, 6, "leading zero" },
	{ "{\r\n a:\r\n 08}", 3, 2, "leading zero" },
	{ "{\r a:\r 08}", 3, 2, "leading zero" },
	{ "[\xe2\x80\xa8 01]", 2, 2, "leading zero" },
	{ "[\xe2\x80\xa9\xe2\x80\xa9 01]", 3, 2, "leading zero" },
	{ "['\xc3\xa9\xe6\x97\xa5', 01]", 1, 8, "leading zero" },
};

TEST(valid_productions)
{
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		struct json5_error e;
		cJSON *t;
		char *got;

		t = json5_parse(valid[i].doc, strlen(valid[i].doc), &e);
		CHECK(t, "case %zu `%s': refused at %u:%u: %s", i, valid[i].doc, e.line, e.column,
		      e.msg);
		got = canon_str(t);
		cJSON_Delete(t);
		CHECK(!strcmp(got, valid[i].want), "case %zu `%s': got %s, want %s", i, valid[i].doc,
		      got, valid[i].want);
		free(got);
	}
}

TEST(invalid_refused_with_line_and_column)
{
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		const struct invalid_case *c = &invalid[i];
		struct json5_error e;
		cJSON *t = json5_parse(c->doc, strlen(c->doc), &e);

		if (t) {
			char *got = canon_str(t);

			cJSON_Delete(t);
			CHECK(0, "case %zu `%s': accepted as %s", i, c->doc, got);
		}
		CHECK(e.code == -EINVAL, "case %zu: code %d", i, e.code);
		CHECK(e.line == c->line && e.column == c->col && strstr(e.msg, c->msg),
		      "case %zu `%s': got %u:%u `%s', want %u:%u `%s'", i, c->doc, e.line, e.column,
		      e.msg, c->line, c->col, c->msg);
	}
}

/* A refusal also names the JSON path of the value being read. */
TEST(error_paths)
{
	static const struct {
		const char *doc, *path;
	} cases[] = {
		{ "{servers: [{peers: [{}, {pubkey: 010}]}]}", "servers[0].peers[1].pubkey" },
		{ "{a: [1, 2, 0x]}", "a[2]" },
		{ "{a: {b: 1 c: 2}}", "a" }, /* between members: the object */
		{ "[{}, {'x y': 'ok', z: '\\1'}]", "[1].z" },
		{ "{a: 1, 1: 2}", "" },
		{ "{a: [[[{b: 'line\nbreak'}]]]}", "a[0][0][0].b" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json5_error e;
		cJSON *t = json5_parse(cases[i].doc, strlen(cases[i].doc), &e);

		cJSON_Delete(t);
		CHECK(!t && !strcmp(e.path, cases[i].path), "case %zu: path `%s', want `%s' (%s)", i,
		      e.path, cases[i].path, e.msg);
	}
}

/* Nesting is bounded: deep input is refused by name, never a stack overflow. */
TEST(depth_limit)
{
	size_t n = 100000, i;
	char *doc = malloc(2 * n + 1);
	struct json5_error e;
	cJSON *t;

	CHECK(doc);
	for (i = 0; i < JSON5_MAX_DEPTH; i++)
		doc[i] = '[', doc[2 * JSON5_MAX_DEPTH - 1 - i] = ']';
	t = json5_parse(doc, 2 * JSON5_MAX_DEPTH, &e);
	CHECK(t, "%u levels refused: %s", JSON5_MAX_DEPTH, e.msg);
	cJSON_Delete(t);
	for (i = 0; i + 4 <= n; i += 4)
		memcpy(doc + i, "{a:[", 4);
	t = json5_parse(doc, i, &e);
	CHECK(!t && e.column == 2 * JSON5_MAX_DEPTH + 1 && strstr(e.msg, "nested deeper"),
	      "%u:%u %s", e.line, e.column, e.msg);
	for (i = 0; i < n; i++)
		doc[i] = '[';
	t = json5_parse(doc, n, &e);
	CHECK(!t && e.line == 1 && e.column == JSON5_MAX_DEPTH + 1 &&
		      strstr(e.msg, "nested deeper than 128 levels"),
	      "%u:%u %s", e.line, e.column, e.msg);
	free(doc);
}

/* The length given is the text: a NUL byte inside is not its end. */
TEST(nul_bytes)
{
	struct json5_error e;
	cJSON *t;
	char *got;

	t = json5_parse("1\0", 2, &e);
	CHECK(!t && e.line == 1 && e.column == 2, "%u:%u %s", e.line, e.column, e.msg);
	t = json5_parse("'a\0b'", 5, &e);
	CHECK(t, "%s", e.msg);
	got = canon_str(t);
	CHECK(!strcmp(got, "\"a\\0b\""), "%s", got);
	CHECK(json5_has_nul(t->valuestring));
	free(got);
	cJSON_Delete(t);
	/* Not NUL-terminated: nothing is read past len. */
	t = json5_parse("[1]]]]", 3, &e);
	CHECK(t && cJSON_GetArraySize(t) == 1);
	cJSON_Delete(t);
}

/* Many members and long strings: the parser grows its buffers correctly. */
TEST(large_input)
{
	size_t n = 20000, i, len = 0;
	char *doc = malloc(n * 40 + 16);
	struct json5_error e;
	const cJSON *v;
	cJSON *t;

	CHECK(doc);
	doc[len++] = '{';
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(doc + len, "k%zu: '%0*zu',", i, (int)(i % 30), i);
	doc[len++] = '}';
	t = json5_parse(doc, len, &e);
	free(doc);
	CHECK(t, "%s", e.msg);
	CHECK(cJSON_GetArraySize(t) == (int)n);
	v = cJSON_GetObjectItemCaseSensitive(t, "k19999");
	CHECK(cJSON_IsString(v) && !strcmp(v->valuestring, "0000000000000019999"), "%s",
	      v ? v->valuestring : "(none)");
	cJSON_Delete(t);
}

TEST_MAIN()
