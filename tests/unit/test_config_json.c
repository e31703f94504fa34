// SPDX-License-Identifier: GPL-2.0
/*
 * The JSON getter family (agent/config_json.c) on its own, as any reader of
 * a JSON5 file uses it: every getter's value, absence, wrong type and range
 * error naming the path, and a custom report hook (a reader that keeps only
 * its first problem, in its own words).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "config_json.h"
#include "test.h"

struct log {
	char text[2048];
	int errors, warnings;
};

static void record(struct cfg_ctx *ctx, bool error, const char *msg)
{
	struct log *l = ctx->priv;
	size_t n = strlen(l->text);

	snprintf(l->text + n, sizeof(l->text) - n, "%s %s\n", error ? "E" : "W", msg);
	if (error)
		l->errors++;
	else
		l->warnings++;
}

static const char doc[] = "{\n"
			  "  s: 'str', empty: '', n: 42, big: 0x20000000000000, frac: 2.5,\n"
			  "  nan: NaN, inf: -Infinity, t: true, f: false, nul: null,\n"
			  "  o: { inner: { deep: 7 } }, a: [1, 2], zero: '\\0',\n"
			  "}";

TEST(getters)
{
	struct log l = { 0 };
	struct cfg_ctx ctx = { .source = "t", .report = record, .priv = &l };
	const cJSON *root_c, *o, *a;
	const char *s;
	uint64_t u64 = 99;
	uint32_t u = 7;
	bool b = false;
	cJSON *root;
	char path[CFG_JPATH_LEN];

	CHECK(!cfg_parse_root(&ctx, doc, &root), "%s", l.text);
	root_c = root;
	CHECK(!cfg_get_string(&ctx, root_c, "", "s", &s) && s && !strcmp(s, "str"));
	CHECK(!cfg_get_nonempty(&ctx, root_c, "", "empty", &s) && !s);
	CHECK(!cfg_get_string(&ctx, root_c, "", "absent", &s) && !s);
	CHECK(!cfg_get_uint(&ctx, root_c, "", "n", 0, 100, &u) && u == 42);
	CHECK(!cfg_get_uint(&ctx, root_c, "", "absent", 0, 100, &u) && u == 42, "default kept");
	CHECK(!cfg_get_uint(&ctx, root_c, "", "nul", 0, 100, &u) && u == 42, "null is absent");
	CHECK(!cfg_get_u64(&ctx, root_c, "", "big", 0, 1ull << 53, &u64) && u64 == 1ull << 53);
	CHECK(!cfg_get_bool(&ctx, root_c, "", "t", &b) && b);
	CHECK(!cfg_get_bool(&ctx, root_c, "", "f", &b) && !b);
	CHECK(!cfg_get_object(&ctx, root_c, "", "o", &o) && o);
	CHECK(!cfg_get_object(&ctx, o, "o", "inner", &o) && o);
	CHECK(!cfg_get_uint(&ctx, o, cfg_jkey(path, "o", "inner"), "deep", 0, 9, &u) && u == 7);
	CHECK(!cfg_get_array(&ctx, root_c, "", "a", &a) && cJSON_GetArraySize(a) == 2);
	CHECK(!cfg_require(&ctx, root_c, "", "n"));
	CHECK(l.errors == 0, "%s", l.text);

	/* Each failure names the path and the value, and sets ctx.err once. */
	CHECK(cfg_get_uint(&ctx, root_c, "", "frac", 0, 100, &u) == -EINVAL);
	CHECK(cfg_get_uint(&ctx, root_c, "", "nan", 0, 100, &u) == -EINVAL);
	CHECK(cfg_get_u64(&ctx, root_c, "", "inf", 0, 5, &u64) == -EINVAL);
	CHECK(cfg_get_uint(&ctx, root_c, "", "big", 0, UINT32_MAX, &u) == -EINVAL);
	CHECK(cfg_get_bool(&ctx, root_c, "", "n", &b) == -EINVAL);
	CHECK(cfg_get_object(&ctx, root_c, "", "a", &o) == -EINVAL && !o);
	CHECK(cfg_get_array(&ctx, root_c, "", "o", &a) == -EINVAL && !a);
	CHECK(cfg_get_uint(&ctx, cfg_get(cfg_get(root_c, "o"), "inner"), "o.inner", "deep", 8, 9,
			   &u) == -EINVAL);
	CHECK(cfg_require(&ctx, root_c, "", "nul") == -EINVAL);
	CHECK(cfg_get_string(&ctx, root_c, "", "zero", &s) == -EINVAL && !s);
	CHECK(ctx.err == -EINVAL && l.errors == 10, "%d errors:\n%s", l.errors, l.text);
	CHECK(u == 7 && u64 == 1ull << 53 && !b, "outputs changed by failed reads");
	CHECK(strstr(l.text, "E frac: 2.5 is not an integer\n"), "%s", l.text);
	CHECK(strstr(l.text, "E nan: nan is out of range (0-100)\n"), "%s", l.text);
	CHECK(strstr(l.text, "E inf: -inf is out of range (0-5)\n"), "%s", l.text);
	CHECK(strstr(l.text, "E big: 9.0072e+15 is out of range (0-4294967295)\n"), "%s", l.text);
	CHECK(strstr(l.text, "E n: expected a boolean, got number\n"), "%s", l.text);
	CHECK(strstr(l.text, "E a: expected an object, got array\n"), "%s", l.text);
	CHECK(strstr(l.text, "E o: expected an array, got object\n"), "%s", l.text);
	CHECK(strstr(l.text, "E o.inner.deep: 7 is out of range (8-9)\n"), "%s", l.text);
	CHECK(strstr(l.text, "E nul: missing (required)\n"), "%s", l.text);
	CHECK(strstr(l.text, "E zero: holds a NUL character"), "%s", l.text);
	cfg_json_free(root);
}

TEST(keys_and_syntax_errors)
{
	struct log l = { 0 };
	struct cfg_ctx ctx = { .source = "t", .report = record, .priv = &l };
	static const char *const known[] = { "a", NULL };
	cJSON *root;

	CHECK(!cfg_parse_root(&ctx, "{a: 1, a: 2, b: 3}", &root));
	cfg_check_keys(&ctx, root, "top", known);
	cfg_json_free(root);
	CHECK(strstr(l.text, "E top.a: duplicate key\n") && strstr(l.text, "W top.b: unknown key"),
	      "%s", l.text);
	CHECK(l.errors == 1 && l.warnings == 1, "%s", l.text);
	CHECK(cfg_parse_root(&ctx, "[1]", &root) == -EINVAL && !root);
	CHECK(strstr(l.text, "E top level: expected an object, got array\n"), "%s", l.text);
	CHECK(cfg_parse_root(&ctx, "{\n a: 08 }", &root) == -EINVAL && !root);
	CHECK(strstr(l.text, "E line 2, column 5 (in a): leading zero in a number (JSON5 has no octal numbers) near `08 }'\n"),
	      "%s", l.text);
}

TEST_MAIN()
