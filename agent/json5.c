// SPDX-License-Identifier: GPL-2.0
/*
 * JSON5 by recursive descent straight into cJSON nodes (spec.json5.org
 * 1.0.0; the grammar's names are used below). The first error stops the
 * parse; its offset becomes a line and column only then.
 *
 * Strings are built in buffers that are wiped when they grow or are
 * dropped, and handed to cJSON without a copy: config files hold private
 * keys, and no copy of one is left behind in freed memory.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "json5.h"
#include "json5_chars.h"

/* Where the reader is: a member's key or an element's index per level. */
struct frame {
	const char *key; /* NULL: an array element (idx), or between members */
	size_t idx;
};

struct rd {
	const unsigned char *s;
	size_t len, i;
	unsigned int depth; /* frames in use */
	struct frame path[JSON5_MAX_DEPTH];
	struct json5_error *err;
	bool failed;
	bool in_string; /* reading a string's contents (it may be a secret) */
};

/* The path of the value being read, as the config layer names keys: a.b[2].c */
static void path_text(const struct rd *r, char *out, size_t size)
{
	size_t n = 0;
	unsigned int i;

	out[0] = '\0';
	for (i = 0; i < r->depth && n < size; i++) {
		const struct frame *f = &r->path[i];

		if (f->key)
			n += (size_t)snprintf(out + n, size - n, "%s%s", n ? "." : "", f->key);
		else if (f->idx != SIZE_MAX)
			n += (size_t)snprintf(out + n, size - n, "[%zu]", f->idx);
		else
			break; /* between members: the path so far */
	}
}

struct sbuf {
	char *p;
	size_t n, cap;
};

__attribute__((format(printf, 3, 4))) static void fail(struct rd *r, size_t off,
							const char *fmt, ...)
{
	va_list ap;

	if (r->failed)
		return;
	r->failed = true;
	r->err->code = -EINVAL;
	r->err->offset = off;
	r->err->in_string = r->in_string;
	path_text(r, r->err->path, sizeof(r->err->path));
	va_start(ap, fmt);
	vsnprintf(r->err->msg, sizeof(r->err->msg), fmt, ap);
	va_end(ap);
}

static void fail_nomem(struct rd *r)
{
	if (r->failed)
		return;
	fail(r, r->i, "out of memory");
	r->err->code = -ENOMEM;
}

/* ---- characters ---------------------------------------------------------- */

/* The character at r->i (0 past the end); *n its length (0: invalid UTF-8). */
static uint32_t peek_cp(const struct rd *r, size_t *n)
{
	uint32_t cp = 0;

	*n = r->i < r->len ? json5_utf8_at(r->s, r->len, r->i, &cp) : 0;
	return cp;
}

static int peek(const struct rd *r, size_t ahead)
{
	return r->i + ahead < r->len ? r->s[r->i + ahead] : -1;
}

/* White space and comments; false after an unterminated comment. */
static bool skip_space(struct rd *r)
{
	while (r->i < r->len) {
		size_t n, start = r->i;
		uint32_t cp = peek_cp(r, &n);

		if (n && json5_is_space_cp(cp)) {
			r->i += n;
		} else if (cp == '/' && peek(r, 1) == '/') {
			while (r->i < r->len && !json5_line_term_at(r->s, r->len, r->i))
				r->i++;
		} else if (cp == '/' && peek(r, 1) == '*') {
			for (r->i += 2; !(peek(r, 0) == '*' && peek(r, 1) == '/'); r->i++) {
				if (r->i >= r->len) {
					fail(r, start, "unterminated /* comment");
					return false;
				}
			}
			r->i += 2;
		} else {
			break;
		}
	}
	return true;
}

/* ---- string buffers ------------------------------------------------------ */

static void sbuf_drop(struct sbuf *b)
{
	if (b->p) {
		sodium_memzero(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}

static bool sbuf_put(struct rd *r, struct sbuf *b, const void *p, size_t n)
{
	if (b->cap - b->n <= n) {
		size_t cap = b->cap ? b->cap : 32;
		char *q;

		while (cap - b->n <= n)
			cap *= 2;
		q = malloc(cap);
		if (!q) {
			fail_nomem(r);
			return false;
		}
		/* Never realloc: the old block may hold a key and would be freed as is. */
		if (b->n)
			memcpy(q, b->p, b->n);
		sbuf_drop(&(struct sbuf){ b->p, b->n, b->cap });
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
	return true;
}

/* A code point as UTF-8; U+0000 as C0 80, surrogates as their WTF-8 bytes. */
static bool sbuf_put_cp(struct rd *r, struct sbuf *b, uint32_t cp)
{
	const unsigned char *end = b->n >= 3 ? (const unsigned char *)b->p + b->n : NULL;
	unsigned char u[4];

	/*
	 * A low surrogate right after a high one (as in "\uD83D\uDE00", or
	 * "\uD83D\<LF>\uDE00") joins it into one character, as the two UTF-16
	 * units would in JavaScript (WTF-8's rule).
	 */
	if (cp >= 0xDC00 && cp <= 0xDFFF && end && end[-3] == 0xED && (end[-2] & 0xF0) == 0xA0) {
		uint32_t hi = 0xD000 | (uint32_t)(end[-2] & 0x3F) << 6 | (end[-1] & 0x3F);

		cp = 0x10000 + ((hi - 0xD800) << 10) + (cp - 0xDC00);
		b->n -= 3;
	}
	return sbuf_put(r, b, u, json5_utf8_put(u, cp));
}

/* ---- strings ------------------------------------------------------------- */

/* n hex digits at r->i into *v; false (reported) if they are not there. */
static bool hex_digits(struct rd *r, size_t esc, int n, const char *what, uint32_t *v)
{
	int k, h;

	*v = 0;
	for (k = 0; k < n; k++) {
		h = peek(r, (size_t)k);
		if (h < 0 || json5_hex_val(h) < 0) {
			fail(r, esc, "%s needs %d hexadecimal digits", what, n);
			return false;
		}
		*v = *v << 4 | (uint32_t)json5_hex_val(h);
	}
	r->i += (size_t)n;
	return true;
}

/* EscapeSequence or LineContinuation after the backslash at esc. */
static bool string_escape(struct rd *r, struct sbuf *b, size_t esc)
{
	static const char single[] = "'\"\\bfnrtv", value[] = "'\"\\\b\f\n\r\t\v";
	const char *p;
	uint32_t cp;
	size_t n;
	int c;

	r->i = esc + 1;
	c = peek(r, 0);
	if (c < 0) {
		fail(r, esc, "unterminated string");
		return false;
	}
	if (c && (p = strchr(single, c))) {
		r->i++;
		return sbuf_put(r, b, &value[p - single], 1);
	}
	if (c == '0') {
		if (json5_is_digit(peek(r, 1))) {
			fail(r, esc, "invalid escape `\\0%c' (JSON5 has no octal escapes)", peek(r, 1));
			return false;
		}
		r->i++;
		return sbuf_put_cp(r, b, 0);
	}
	if (json5_is_digit(c)) {
		fail(r, esc, "invalid escape `\\%c' (JSON5 has no octal escapes)", c);
		return false;
	}
	if (c == 'x' || c == 'u') {
		r->i++;
		/* A surrogate pair's two halves join in sbuf_put_cp(). */
		if (!hex_digits(r, esc, c == 'x' ? 2 : 4, c == 'x' ? "\\x" : "\\u", &cp))
			return false;
		return sbuf_put_cp(r, b, cp);
	}
	n = json5_line_term_at(r->s, r->len, r->i);
	if (n) { /* LineContinuation: nothing goes into the string */
		r->i += c == '\r' && peek(r, 1) == '\n' ? 2 : n;
		return true;
	}
	cp = peek_cp(r, &n);
	if (!n) {
		fail(r, r->i, "invalid UTF-8 in a string");
		return false;
	}
	/* NonEscapeCharacter: stands for itself (\a is a, \/ is /) */
	r->i += n;
	return cp ? sbuf_put(r, b, r->s + r->i - n, n) : sbuf_put_cp(r, b, 0);
}

/* A '…' or "…" string at r->i into b (NUL-terminated). */
static bool read_string(struct rd *r, struct sbuf *b)
{
	unsigned char q = r->s[r->i];
	size_t start = r->i, n;
	uint32_t cp;

	if (!sbuf_put(r, b, "", 0))
		return false;
	for (r->i++;;) {
		if (r->i >= r->len) {
			fail(r, start, "unterminated string");
			return false;
		}
		if (r->s[r->i] == q) {
			r->i++;
			return true;
		}
		if (r->s[r->i] == '\\') {
			if (!string_escape(r, b, r->i))
				return false;
			continue;
		}
		if (r->s[r->i] == '\n' || r->s[r->i] == '\r') {
			fail(r, r->i, "line break in a string (write \\n, or end the line with \\)");
			return false;
		}
		cp = peek_cp(r, &n);
		if (!n) {
			fail(r, r->i, "invalid UTF-8 in a string");
			return false;
		}
		if (!(cp ? sbuf_put(r, b, r->s + r->i, n) : sbuf_put_cp(r, b, 0)))
			return false;
		r->i += n;
	}
}

static bool parse_string(struct rd *r, struct sbuf *b)
{
	bool ok;

	r->in_string = true;
	ok = read_string(r, b);
	r->in_string = false;
	return ok;
}

/* ---- identifiers (unquoted keys) ----------------------------------------- */

/* An IdentifierName at r->i into b; what names the expected thing for errors. */
static bool parse_identifier(struct rd *r, struct sbuf *b, const char *what)
{
	size_t start = r->i, at, n;
	uint32_t cp;

	if (!sbuf_put(r, b, "", 0))
		return false;
	for (;;) {
		at = r->i;
		cp = peek_cp(r, &n);
		if (r->i < r->len && cp == '\\') {
			if (peek(r, 1) != 'u') {
				fail(r, at, "invalid escape in an identifier (only \\uXXXX)");
				return false;
			}
			r->i += 2;
			/*
			 * One UTF-16 unit, never a pair (ES5.1 7.6): a surrogate
			 * is no letter, so an escaped astral letter is refused.
			 */
			if (!hex_digits(r, at, 4, "\\u", &cp))
				return false;
			if (at == start ? !json5_id_start_cp(cp) : !json5_id_part_cp(cp)) {
				fail(r, at, "\\u%04X cannot %s an identifier", (unsigned int)cp,
				     at == start ? "start" : "be part of");
				return false;
			}
		} else if (n && (at == start ? json5_id_start_cp(cp) : json5_id_part_cp(cp))) {
			r->i += n;
		} else {
			break;
		}
		if (!sbuf_put_cp(r, b, cp))
			return false;
	}
	if (r->i == start) {
		fail(r, start, "expected %s", what);
		return false;
	}
	return true;
}

/* ---- numbers --------------------------------------------------------------- */

/* ES5 7.8.3: no IdentifierStart or digit right after a numeric literal. */
static bool number_end_ok(struct rd *r)
{
	size_t n;
	uint32_t cp = peek_cp(r, &n);

	if (r->i < r->len && (json5_is_digit((int)cp) || cp == '\\' || (n && json5_id_start_cp(cp)))) {
		fail(r, r->i, "unexpected character after a number");
		return false;
	}
	return true;
}

static bool match_word(struct rd *r, const char *w)
{
	size_t n = strlen(w);

	if (r->len - r->i < n || memcmp(r->s + r->i, w, n))
		return false;
	r->i += n;
	return true;
}

static cJSON *number_node(struct rd *r, double d)
{
	cJSON *v = cJSON_CreateNumber(isfinite(d) ? d : 0);

	if (!v) {
		fail_nomem(r);
		return NULL;
	}
	v->valuedouble = d; /* cJSON would convert an infinity or NaN to int */
	return v;
}

/* strtod on s[from, r->i) (syntax checked already): correctly rounded, hex too. */
static bool to_double(struct rd *r, size_t from, double *d)
{
	char small[64], *copy;
	size_t n = r->i - from;

	copy = n < sizeof(small) ? small : malloc(n + 1);
	if (!copy) {
		fail_nomem(r);
		return false;
	}
	memcpy(copy, r->s + from, n);
	copy[n] = '\0';
	*d = strtod(copy, NULL);
	if (copy != small)
		free(copy);
	return true;
}

static cJSON *hex_number(struct rd *r, size_t start, bool neg)
{
	size_t digits = r->i;
	double d;

	while (json5_hex_val(peek(r, 0)) >= 0)
		r->i++;
	if (r->i == digits) {
		fail(r, start, "hexadecimal number without digits");
		return NULL;
	}
	if (peek(r, 0) == '.') {
		fail(r, r->i, "a hexadecimal number has no fraction");
		return NULL;
	}
	if (!number_end_ok(r) || !to_double(r, digits - 2, &d))
		return NULL;
	return number_node(r, neg ? -d : d);
}

static cJSON *parse_number(struct rd *r)
{
	size_t start = r->i, digits;
	bool neg = false, has_int, has_frac = false;
	double d;

	if (peek(r, 0) == '+' || peek(r, 0) == '-')
		neg = r->s[r->i++] == '-';
	if (match_word(r, "Infinity"))
		return number_end_ok(r) ? number_node(r, neg ? -INFINITY : INFINITY) : NULL;
	if (match_word(r, "NaN"))
		return number_end_ok(r) ? number_node(r, NAN) : NULL;
	if (peek(r, 0) == '0' && (peek(r, 1) == 'x' || peek(r, 1) == 'X')) {
		r->i += 2;
		return hex_number(r, start, neg);
	}
	digits = r->i;
	if (peek(r, 0) == '0' && json5_is_digit(peek(r, 1))) {
		fail(r, start, "leading zero in a number (JSON5 has no octal numbers)");
		return NULL;
	}
	while (json5_is_digit(peek(r, 0)))
		r->i++;
	has_int = r->i > digits;
	if (peek(r, 0) == '.') {
		r->i++;
		while (json5_is_digit(peek(r, 0))) {
			r->i++;
			has_frac = true;
		}
	}
	if (!has_int && !has_frac) {
		fail(r, start, "invalid number");
		return NULL;
	}
	if (peek(r, 0) == 'e' || peek(r, 0) == 'E') {
		r->i++;
		if (peek(r, 0) == '+' || peek(r, 0) == '-')
			r->i++;
		if (!json5_is_digit(peek(r, 0))) {
			fail(r, start, "exponent without digits");
			return NULL;
		}
		while (json5_is_digit(peek(r, 0)))
			r->i++;
	}
	if (!number_end_ok(r))
		return NULL;
	if (!to_double(r, digits, &d))
		return NULL;
	return number_node(r, neg ? -d : d);
}

/* Config strings hold keys: wipe before freeing (recursion is depth-bounded). */
static void wipe_tree(cJSON *n)
{
	for (; n; n = n->next) {
		if (n->valuestring)
			sodium_memzero(n->valuestring, strlen(n->valuestring));
		wipe_tree(n->child);
	}
}

/* ---- values ---------------------------------------------------------------- */

static cJSON *parse_value(struct rd *r);

/* A string node owning b's buffer (no copy of a secret is made). */
static cJSON *string_node(struct rd *r, struct sbuf *b)
{
	cJSON *v = cJSON_CreateNull();

	if (!v) {
		fail_nomem(r);
		sbuf_drop(b);
		return NULL;
	}
	v->type = cJSON_String;
	v->valuestring = b->p;
	memset(b, 0, sizeof(*b));
	return v;
}

static bool enter(struct rd *r)
{
	if (r->depth >= JSON5_MAX_DEPTH) {
		fail(r, r->i, "nested deeper than %d levels", JSON5_MAX_DEPTH);
		return false;
	}
	r->path[r->depth++] = (struct frame){ NULL, SIZE_MAX };
	return true;
}

/* After a member or element: ',' (maybe trailing) or the closing bracket. */
static int after_item(struct rd *r, char close)
{
	if (!skip_space(r))
		return -1;
	if (peek(r, 0) == ',') {
		r->i++;
		if (!skip_space(r))
			return -1;
		if (peek(r, 0) == close) {
			r->i++;
			return 1;
		}
		return 0;
	}
	if (peek(r, 0) == close) {
		r->i++;
		return 1;
	}
	fail(r, r->i, r->i < r->len ? "expected `,' or `%c'" : "unexpected end: expected `,' or `%c'",
	     close);
	return -1;
}

static bool parse_member(struct rd *r, cJSON *obj)
{
	struct sbuf key = { 0 };
	cJSON *v;
	int c = peek(r, 0);

	if (c == '"' || c == '\'' ? !parse_string(r, &key)
				  : !parse_identifier(r, &key, "a key (a string or an identifier)"))
		goto err;
	if (!skip_space(r))
		goto err;
	if (peek(r, 0) != ':') {
		fail(r, r->i, "expected `:' after a key");
		goto err;
	}
	r->i++;
	if (!skip_space(r))
		goto err;
	r->path[r->depth - 1].key = key.p;
	v = parse_value(r);
	if (!v)
		goto err;
	r->path[r->depth - 1].key = NULL;
	v->string = key.p; /* the node owns the key now: no copy of it */
	cJSON_AddItemToArray(obj, v); /* appends to any parent, objects too */
	return true;
err:
	r->path[r->depth - 1].key = NULL; /* it points into key */
	sbuf_drop(&key);
	return false;
}

static cJSON *parse_container(struct rd *r, bool object)
{
	char close = object ? '}' : ']';
	cJSON *c = object ? cJSON_CreateObject() : cJSON_CreateArray(), *v;
	size_t idx = 0;
	int more;

	if (!c) {
		fail_nomem(r);
		return NULL;
	}
	if (!enter(r)) /* reported at the bracket */
		goto err;
	r->i++;
	if (!skip_space(r))
		goto err;
	if (peek(r, 0) == close) {
		r->i++;
		r->depth--;
		return c;
	}
	do {
		if (object) {
			if (!parse_member(r, c))
				goto err;
		} else {
			r->path[r->depth - 1].idx = idx++;
			v = parse_value(r);
			if (!v)
				goto err;
			r->path[r->depth - 1].idx = SIZE_MAX;
			cJSON_AddItemToArray(c, v);
		}
		more = after_item(r, close);
	} while (!more);
	if (more < 0)
		goto err;
	r->depth--;
	return c;
err:
	wipe_tree(c);
	cJSON_Delete(c);
	return NULL;
}

static cJSON *literal(struct rd *r)
{
	size_t start = r->i;
	struct sbuf word = { 0 };
	cJSON *v = NULL;

	if (!parse_identifier(r, &word, "a value")) {
		sbuf_drop(&word);
		return NULL;
	}
	if (!strcmp(word.p, "null") && r->i - start == 4)
		v = cJSON_CreateNull();
	else if (!strcmp(word.p, "true") && r->i - start == 4)
		v = cJSON_CreateTrue();
	else if (!strcmp(word.p, "false") && r->i - start == 5)
		v = cJSON_CreateFalse();
	else if ((!strcmp(word.p, "Infinity") && r->i - start == 8) ||
		 (!strcmp(word.p, "NaN") && r->i - start == 3))
		v = number_node(r, word.p[0] == 'N' ? NAN : INFINITY);
	else
		fail(r, start, "expected a value, got the word `%.40s'", word.p);
	if (!v && !r->failed)
		fail_nomem(r);
	sbuf_drop(&word);
	return v;
}

static cJSON *parse_value(struct rd *r)
{
	struct sbuf b = { 0 };
	int c = peek(r, 0);

	if (c < 0) {
		fail(r, r->i, "unexpected end: expected a value");
		return NULL;
	}
	if (c == '{' || c == '[')
		return parse_container(r, c == '{');
	if (c == '"' || c == '\'') {
		if (!parse_string(r, &b)) {
			sbuf_drop(&b);
			return NULL;
		}
		return string_node(r, &b);
	}
	if (json5_is_digit(c) || c == '-' || c == '+' || c == '.')
		return parse_number(r);
	if (c == '\\' || c >= 0x80 || json5_id_start_cp((uint32_t)c))
		return literal(r);
	fail(r, r->i, "expected a value");
	return NULL;
}

/* ---- the document ---------------------------------------------------------- */

cJSON *json5_parse(const char *text, size_t len, struct json5_error *err)
{
	struct rd r = { .s = (const unsigned char *)text, .len = len, .err = err };
	cJSON *root = NULL;

	memset(err, 0, sizeof(*err));
	if (!skip_space(&r))
		goto out;
	if (r.i >= r.len) {
		fail(&r, r.i, "empty document: expected a value");
		goto out;
	}
	root = parse_value(&r);
	if (root && skip_space(&r) && r.i < r.len)
		fail(&r, r.i, "unexpected text after the value");
out:
	if (r.failed) {
		if (root) {
			wipe_tree(root);
			cJSON_Delete(root);
		}
		root = NULL;
		if (err->code != -ENOMEM)
			json5_position(r.s, r.len, err->offset, err);
	}
	return root;
}

int json5_has_nul(const char *s)
{
	return s && strstr(s, "\xC0\x80") != NULL;
}
