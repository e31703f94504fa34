// SPDX-License-Identifier: GPL-2.0
/*
 * Characters for the JSON5 reader (json5.c): UTF-8, the Unicode classes of
 * ECMAScript identifiers and white space, line terminators, positions.
 */
#include "json5_chars.h"
#include "json5_unicode.h"

static bool in_ranges(const struct json5_range *t, size_t n, uint32_t cp)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < t[mid].lo)
			hi = mid;
		else if (cp > t[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

#define IN(table, cp) in_ranges(table, sizeof(table) / sizeof(table[0]), cp)

/* IdentifierStart without the \u escape: UnicodeLetter, $, _ */
bool json5_id_start_cp(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '$' || cp == '_';
	return IN(json5_id_start, cp);
}

/* IdentifierPart: also digits, combining marks, connectors, ZWNJ, ZWJ. */
bool json5_id_part_cp(uint32_t cp)
{
	if (cp < 0x80)
		return json5_id_start_cp(cp) || (cp >= '0' && cp <= '9');
	return json5_id_start_cp(cp) || cp == 0x200C || cp == 0x200D || IN(json5_id_part, cp);
}

bool json5_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

int json5_hex_val(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The UTF-8 character at s[i]: its length (1-4), or 0 for a byte that does
 * not start a well-formed character (overlong, surrogate, beyond U+10FFFF,
 * truncated).
 */
size_t json5_utf8_at(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	unsigned char c = s[i];
	size_t n, k;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, v = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, v = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, v = c & 0x07;
	else
		return 0;
	if (len - i < n)
		return 0;
	for (k = 1; k < n; k++) {
		if ((s[i + k] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i + k] & 0x3F);
	}
	if (v < min[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

/* LineTerminator: LF, CR, LS, PS. Returns its length at s[i], or 0. */
size_t json5_line_term_at(const unsigned char *s, size_t len, size_t i)
{
	if (s[i] == '\n' || s[i] == '\r')
		return 1;
	if (len - i >= 3 && s[i] == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))
		return 3;
	return 0;
}

/* JSON5WhiteSpace (TAB VT FF SP NBSP BOM, other Zs) and LineTerminator. */
bool json5_is_space_cp(uint32_t cp)
{
	switch (cp) {
	case '\t': case '\v': case '\f': case ' ': case '\n': case '\r':
	case 0xA0: case 0xFEFF: case 0x2028: case 0x2029:
		return true;
	}
	return cp >= 0x80 && IN(json5_space, cp);
}

/* Line and column of off (from 1; CRLF is one line break, columns count characters). */
void json5_position(const unsigned char *s, size_t len, size_t off, struct json5_error *e)
{
	uint32_t cp;
	size_t i = 0, n;

	e->line = 1;
	e->column = 1;
	while (i < off && i < len) {
		n = json5_line_term_at(s, len, i);
		if (n) {
			if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
				n = 2;
			e->line++;
			e->column = 1;
		} else {
			n = json5_utf8_at(s, len, i, &cp);
			n = n ? n : 1;
			e->column++;
		}
		i += n;
	}
}

/* cp as UTF-8 into u; U+0000 as C0 80, surrogates as their 3 WTF-8 bytes. Returns the length. */
size_t json5_utf8_put(unsigned char u[static 4], uint32_t cp)
{
	size_t n;

	if (cp == 0) {
		u[0] = 0xC0, u[1] = 0x80, n = 2;
	} else if (cp < 0x80) {
		u[0] = (unsigned char)cp, n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xC0 | cp >> 6), u[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xE0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xF0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		u[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return n;
}
