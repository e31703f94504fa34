// SPDX-License-Identifier: GPL-2.0
/*
 * Differential test of xwgp's JSON5 reader (agent/json5.c, driven through
 * $BUILD/tools/json5_canon) against the reference implementation, the
 * JSON5 project's own `json5' package as Debian ships it (node-json5).
 *
 *   node tests/e2e/json5_diff.js TOOL [SEED] [COUNT]
 *
 * Random value trees are rendered in random JSON5 styles (every kind of
 * white space and comment, unquoted/single/double-quoted keys, every
 * escape and line continuation, hex, signs, leading/trailing points,
 * exponents, Infinity, NaN, trailing commas); both readers must accept
 * each and give the same tree. Then mutated documents: each valid one with
 * one invalid construct spliced in (both must refuse), and with random
 * ASCII edits (both must agree: same tree, or both refuse).
 *
 * Why node-json5 and not Debian's python3-json5 (0.9.10): the Python one
 * refuses two constructs the spec allows (a raw U+2028 or U+2029 inside a
 * string: JSON5SingleStringCharacter; and +Infinity: JSON5Number), which
 * would need excluding here; node-json5 (2.2.3, the JSON5 project's own)
 * follows the spec in everything generated below.
 *
 * Left out of the generator, on purpose:
 *  - Letters added to Unicode after version 10 (the reference's tables are
 *    Unicode 10, xwgp's are newer): identifiers use older letters only.
 *  - Lone surrogates (\uD800): JavaScript strings hold them, UTF-8 cannot;
 *    xwgp keeps them as WTF-8, which the table test checks.
 *  - Duplicate keys (JSON5 leaves them open; xwgp's config refuses them).
 *    Random edits can still make one: json5_canon then counts the last
 *    value, as the reference does.
 *  - __proto__ as a key (a JavaScript object quirk, not JSON5).
 * Prints PASS/FAIL lines (tests/run.sh) and exits non-zero on a failure.
 */
'use strict';
const { spawnSync } = require('child_process');
const JSON5 = require('/usr/share/nodejs/json5');

const tool = process.argv[2];
let seed = Number(process.argv[3] || 20261206) >>> 0;
const COUNT = Number(process.argv[4] || 3000);

/* mulberry32: a small seeded PRNG, so a failure can be replayed */
function rnd() {
	seed = (seed + 0x6d2b79f5) >>> 0;
	let t = seed;
	t = Math.imul(t ^ (t >>> 15), t | 1);
	t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
	return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(rnd() * n);
const pick = (a) => a[int(a.length)];
const chance = (p) => rnd() < p;

/* ---- values ---------------------------------------------------------- */

const ID_START = ['a', 'Z', '$', '_', 'é', 'ĉ', 'Ω', 'ж', '日', 'Ⅻ', 'ª', '𝐀'];
const ID_PART = ID_START.concat(['0', '9', '\u0301', '\u0661', '\u203f', '\u200c', '\u200d']);
const WORDS = ['if', 'null', 'true', 'false', 'class', 'NaN', 'Infinity', 'var', 'listen',
	'servers', 'peers', 'forward_to'];
const STR_CHARS = ['a', 'b', ' ', '"', "'", '\\', '/', '*', '\t', '\u0001', '\u001f', '\u007f',
	'é', '日', '😀', '\u2028', '\u2029', '\u00a0', '\ufeff', '\u0000', '\n', '\r', '0', '8',
	'x', 'u'];

function genKey() {
	if (chance(0.3))
		return pick(WORDS);
	if (chance(0.5)) {
		let k = pick(ID_START);
		for (let n = int(6); n > 0; n--)
			k += pick(ID_PART);
		return k;
	}
	return genString();
}

function genString() {
	let s = '';
	for (let n = int(8); n > 0; n--)
		s += pick(STR_CHARS);
	return s;
}

function genNumber() {
	switch (int(7)) {
	case 0: return int(1000);
	case 1: return -int(100000);
	case 2: return int(2 ** 31) * 2 ** 22 + int(2 ** 22); /* up to 2^53 */
	case 3: return int(100000) / 1000;
	case 4: return (rnd() - 0.5) * 10 ** (int(40) - 20);
	case 5: return pick([Infinity, -Infinity, NaN, 0, -0]);
	default: return rnd();
	}
}

function genValue(depth) {
	const k = depth > 3 ? int(4) : int(6);
	switch (k) {
	case 0: return pick([null, true, false]);
	case 1: return genNumber();
	case 2: case 3: return genString();
	case 4: {
		const a = [];
		for (let n = int(5); n > 0; n--)
			a.push(genValue(depth + 1));
		return a;
	}
	default: {
		const o = new Map();
		for (let n = int(5); n > 0; n--) {
			const key = genKey();
			if (key !== '__proto__' && !o.has(key))
				o.set(key, genValue(depth + 1));
		}
		return o;
	}
	}
}

/* ---- rendering --------------------------------------------------------- */

const SPACES = [' ', '\t', '\n', '\r\n', '\r', '\v', '\f', '\u00a0', '\ufeff', '\u2028', '\u2029',
	'\u3000', '\u1680', '\u2000', '\u202f', '// c\n', '/* c */', '/* * / **/', '//\u2028'];

function ws() {
	let s = '';
	while (chance(0.3))
		s += pick(SPACES);
	return s;
}

const hex2 = (c) => c.toString(16).padStart(2, '0');
const hex4 = (c) => c.toString(16).padStart(4, '0');
/* hex digits in either case; the escape letter itself stays lower case */
const caseFlip = (s) => (chance(0.5) ? s.slice(0, 2) + s.slice(2).toUpperCase() : s);

function renderChar(ch, q) {
	const c = ch.codePointAt(0);
	const named = { '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v' };
	const r = int(6);
	if (c > 0xffff) { /* a surrogate pair, raw or escaped */
		const hi = 0xd800 + ((c - 0x10000) >> 10), lo = 0xdc00 + ((c - 0x10000) & 0x3ff);
		return r < 3 ? ch : caseFlip('\\u' + hex4(hi) + '\\u' + hex4(lo));
	}
	if (ch === '\0')
		return pick(['\\0', '\\x00', '\\u0000']);
	if (ch === q || ch === '\\' || ch === '\n' || ch === '\r' || r === 0)
		return named[ch] && chance(0.5) ? '\\' + named[ch] : caseFlip('\\u' + hex4(c));
	if (r === 1 && c < 0x100)
		return caseFlip('\\x' + hex2(c));
	if (r === 2 && named[ch])
		return '\\' + named[ch];
	/* NonEscapeCharacter: a backslash before it changes nothing */
	if (r === 3 && !/[0-9xubfnrtv\u2028\u2029]/.test(ch))
		return '\\' + ch;
	if (r === 4 && ch === "'")
		return "\\'";
	if (r === 4 && ch === '"')
		return '\\"';
	return ch;
}

function renderString(s) {
	const q = chance(0.5) ? "'" : '"';
	let out = q;
	const cs = [...s];
	cs.forEach((ch, i) => {
		if (chance(0.05)) /* a line continuation adds nothing */
			out += '\\' + pick(['\n', '\r', '\r\n', '\u2028', '\u2029']);
		let r = renderChar(ch, q);
		/* "\0" then a digit would be an octal escape: spell that NUL longer */
		if (r === '\\0' && /[0-9]/.test(cs[i + 1] || ''))
			r = '\\x00';
		out += r;
	});
	return out + q;
}

function isIdentifier(k) {
	return /^[\p{L}\p{Nl}$_][\p{L}\p{Nl}$_\p{Mn}\p{Mc}\p{Nd}\p{Pc}\u200c\u200d]*$/u.test(k);
}

function renderKey(k) {
	if (!isIdentifier(k) || chance(0.3))
		return renderString(k);
	let out = '';
	for (const ch of k) /* \u escapes are allowed in identifiers */
		out += ch.length === 1 && chance(0.15) ? caseFlip('\\u' + hex4(ch.codePointAt(0))) : ch;
	return out;
}

function renderNumber(n) {
	if (Number.isNaN(n))
		return pick(['NaN', '+NaN', '-NaN']);
	if (n === Infinity)
		return pick(['Infinity', '+Infinity']);
	if (n === -Infinity)
		return '-Infinity';
	if (Object.is(n, -0))
		return pick(['-0', '-0.0', '-.0', '-0e0', '-0x0']);
	const neg = n < 0, a = Math.abs(n);
	const sign = neg ? '-' : chance(0.2) ? '+' : '';
	if (Number.isInteger(a) && chance(0.4))
		return sign + (chance(0.5) ? '0x' : '0X') + (chance(0.5) ? a.toString(16) : a.toString(16).toUpperCase());
	let s = String(a);
	if (chance(0.3) && !/e/.test(s))
		s = a.toExponential();
	if (/^0\./.test(s) && chance(0.5))
		s = s.slice(1); /* .5 */
	else if (/^\d+$/.test(s) && chance(0.3))
		s += '.'; /* 5. */
	if (chance(0.3))
		s = s.replace('e', 'E');
	return sign + s;
}

function render(v) {
	if (v === null || typeof v === 'boolean')
		return String(v);
	if (typeof v === 'number')
		return renderNumber(v);
	if (typeof v === 'string')
		return renderString(v);
	const obj = v instanceof Map;
	const items = obj ? [...v].map(([k, x]) => renderKey(k) + ws() + ':' + ws() + render(x))
		: v.map(render);
	let out = (obj ? '{' : '[') + ws() + items.join(ws() + ',' + ws());
	if (items.length && chance(0.3))
		out += ws() + ','; /* trailing comma */
	return out + ws() + (obj ? '}' : ']');
}

/* ---- canonical trees (as json5_canon prints them) ------------------------ */

/* UTF-8, with a lone surrogate as its 3-byte WTF-8 form (as xwgp holds it) */
function utf8hex(s) {
	let out = '';
	for (let i = 0; i < s.length; i++) {
		let c = s.charCodeAt(i);
		const d = s.charCodeAt(i + 1);
		if (c >= 0xd800 && c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
			c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
			i++;
		}
		const bytes = c < 0x80 ? [c]
			: c < 0x800 ? [0xc0 | (c >> 6), 0x80 | (c & 63)]
			: c < 0x10000 ? [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)]
			: [0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)];
		out += bytes.map(hex2).join('');
	}
	return out;
}

function canon(v) {
	if (v === null)
		return 'n';
	if (v === true || v === false)
		return v ? 't' : 'f';
	if (typeof v === 'number') {
		if (Number.isNaN(v))
			return 'N';
		const b = Buffer.alloc(8);
		b.writeDoubleBE(v);
		return 'd' + b.toString('hex');
	}
	if (typeof v === 'string')
		return 's' + utf8hex(v) + ';';
	if (Array.isArray(v))
		return '[' + v.map(canon).join(',') + ']';
	const keys = Object.keys(v).map((k) => [utf8hex(k), v[k]]);
	keys.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
	return '{' + keys.map(([k, x]) => k + ':' + canon(x)).join(',') + '}';
}

/* ---- invalid documents --------------------------------------------------- */

/* One construct JSON5 forbids, spliced into a valid document. */
const BAD = ['010', '-08', '080', '00', '0x', '0x1.5', '1e', '.', '+', '1a', "'\\1'", "'\\08'",
	"'a\nb'", "'a\rb'", "'\\x4'", "'\\u12'", 'undefined', 'nan', '[,]', '{,}', '{1:2}',
	'{a b:1}', "{'a' 1}", '[1,,2]', '{a:1,,}', '#', '\u200b1'];
// Unterminated: only at the very end (a later comment end or quote would close them).
const BAD_END = ['/* open', "'open", '"open', '[', '{a:'];

function spliceBad(doc) {
	const bad = pick(BAD);
	switch (int(4)) {
	case 3: return doc + ws() + pick(BAD_END);
	case 0: return bad;
	case 1: return '[' + doc + ',' + bad + ']';
	default: return '{k:' + bad + ',z:' + doc + '}';
	}
}

function mutate(doc) {
	const cs = [...doc];
	const edits = ['"', "'", ',', ':', '[', ']', '{', '}', '\\', '/', '*', '0', '.', 'x', 'e',
		'-', '+', ' ', '\n', 'a', '\u00a0', '\u2028', '\ufeff', '\u200b', '\u0301', 'é', '𝐀',
		'\u3000', '\r', '\t', '\v', "'", 'I', 'N', '$', '_'];
	for (let n = 1 + int(2); n > 0; n--) {
		const i = int(cs.length + 1);
		switch (int(3)) {
		case 0: cs.splice(i, 0, pick(edits)); break;
		case 1: cs.splice(i, 1); break;
		default: cs.splice(i, 1, pick(edits)); break;
		}
	}
	return cs.join('');
}

function reference(doc) {
	const warn = console.warn;
	console.warn = () => {}; /* the reference warns about raw U+2028 in strings */
	try {
		return 'OK ' + canon(JSON5.parse(doc));
	} catch (e) {
		return 'ERR ' + e.message;
	} finally {
		console.warn = warn;
	}
}

/* ---- run ------------------------------------------------------------------ */

const startSeed = seed;
const docs = [], kinds = [];
for (let i = 0; i < COUNT; i++) {
	const doc = ws() + render(genValue(0)) + ws();
	docs.push(doc, spliceBad(doc), mutate(doc));
	kinds.push('valid', 'invalid', 'mutated');
}
docs.push('', '   ', '/* */');
kinds.push('invalid', 'invalid', 'invalid');

const input = Buffer.concat(docs.map((d) => Buffer.concat([Buffer.from(d, 'utf8'),
	Buffer.from([0])])));
const run = spawnSync(tool, [], { input, maxBuffer: 1 << 28 });
if (run.status !== 0) {
	console.log(`FAIL json5-diff/run: ${tool} exited ${run.status} ${run.stderr}`);
	process.exit(1);
}
const ours = run.stdout.toString('utf8').split('\n');
const tally = { valid: [0, 0], invalid: [0, 0], mutated: [0, 0] };
const shown = { valid: 0, invalid: 0, mutated: 0 };
let mutatedAccepted = 0;

docs.forEach((doc, i) => {
	const kind = kinds[i], ref = reference(doc), got = ours[i] || '(no output)';
	let ok;
	if (kind === 'valid')
		ok = ref.startsWith('OK ') && got === ref;
	else if (kind === 'invalid')
		ok = ref.startsWith('ERR ') && got.startsWith('ERR ');
	else
		ok = ref.startsWith('OK ') ? got === ref : got.startsWith('ERR ');
	if (kind === 'mutated' && ref.startsWith('OK '))
		mutatedAccepted++;
	tally[kind][ok ? 0 : 1]++;
	if (!ok && shown[kind]++ < 5)
		console.log(`# ${kind} #${i}: ${JSON.stringify(doc)}\n#   reference: ${ref}\n#   xwgp:      ${got}`);
});

let failed = 0;
for (const kind of ['valid', 'invalid', 'mutated']) {
	const [good, bad] = tally[kind];
	const what = kind === 'valid' ? 'both accept, same tree'
		: kind === 'invalid' ? 'both refuse' : `agree (${mutatedAccepted} accepted by both)`;
	if (bad) {
		failed++;
		console.log(`FAIL json5-diff/${kind}: ${bad} of ${good + bad} documents disagree (seed ${startSeed})`);
	} else {
		console.log(`PASS json5-diff/${kind}: ${good} documents, ${what}`);
	}
}
process.exit(failed ? 1 : 0);
