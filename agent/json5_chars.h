/* SPDX-License-Identifier: GPL-2.0 */
/* Characters for the JSON5 reader (internal to json5.c; json5_chars.c). */
#ifndef XWGP_JSON5_CHARS_H
#define XWGP_JSON5_CHARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json5.h"

/* IdentifierStart without the \u escape: UnicodeLetter (L*, Nl), $, _ */
bool json5_id_start_cp(uint32_t cp);
/* IdentifierPart: also digits (Nd), combining marks (Mn, Mc), Pc, ZWNJ, ZWJ. */
bool json5_id_part_cp(uint32_t cp);
bool json5_is_digit(int c);
/* 0-15, or -1. */
int json5_hex_val(int c);
/*
 * The UTF-8 character at s[i]: its length (1-4), or 0 for a byte that does
 * not start a well-formed character (overlong, surrogate, beyond U+10FFFF,
 * truncated).
 */
size_t json5_utf8_at(const unsigned char *s, size_t len, size_t i, uint32_t *cp);
/* cp as UTF-8 into u; U+0000 as C0 80, surrogates as their 3 WTF-8 bytes. Returns the length. */
size_t json5_utf8_put(unsigned char u[static 4], uint32_t cp);
/* LineTerminator (LF, CR, LS, PS) at s[i]: its length, or 0. */
size_t json5_line_term_at(const unsigned char *s, size_t len, size_t i);
/* JSON5WhiteSpace (TAB VT FF SP NBSP BOM, other Zs) or a LineTerminator. */
bool json5_is_space_cp(uint32_t cp);
/* e->line and e->column of byte offset off (CRLF is one line break, columns count characters). */
void json5_position(const unsigned char *s, size_t len, size_t off, struct json5_error *e);

#endif /* XWGP_JSON5_CHARS_H */
