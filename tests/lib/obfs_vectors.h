/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loader for tests/vectors/mwgp-obfs.json (mwgp's own obfuscation vectors,
 * tests/vectors/README.md describes the fields), shared by the unit
 * and the BPF obfuscation tests. The path is relative to the repository root
 * (tests/run.sh runs from there); XWGP_OBFS_VECTORS overrides it.
 */
#ifndef XWGP_TEST_OBFS_VECTORS_H
#define XWGP_TEST_OBFS_VECTORS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "test.h"

#define OV_MAX 2048
#define OV_MAX_VECTORS 64
#define OV_MAX_KEYS 32

struct obfs_vector {
	char name[96];
	char password[128];
	uint8_t key_hash[32];
	int type;
	uint8_t in[OV_MAX], out[OV_MAX], rnd[OV_MAX];
	int in_len, out_len, rnd_len;
	int pad_len; /* handshake types; -1 otherwise */
	int n_obfs;  /* obfuscated_part_length */
	bool flag;
	bool key0_modified;
	uint8_t nonce[16];
	uint8_t key0_unmodified[8];
	uint8_t keys[OV_MAX_KEYS][8];
	int n_keys;
};

struct obfs_passthrough {
	char name[64];
	char password[128];
	uint8_t wire[OV_MAX];
	int len;
};

struct obfs_vectors {
	struct obfs_vector v[OV_MAX_VECTORS];
	int n;
	struct obfs_passthrough pt[8];
	int n_pt;
	char why[256];
};

static inline const char *ov_str(const cJSON *o, const char *k)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(j) ? j->valuestring : NULL;
}

static inline int ov_int(const cJSON *o, const char *k, int dflt)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(j) ? j->valueint : dflt;
}

static inline bool ov_bool(const cJSON *o, const char *k)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* Hex field k of o into buf (cap bytes); the length, or -1 (missing/bad). */
static inline int ov_hex(const cJSON *o, const char *k, uint8_t *buf, size_t cap)
{
	const char *s = ov_str(o, k);

	return s ? test_unhex(buf, cap, s) : -1;
}

static inline int ov_copy(char *dst, size_t cap, const char *src)
{
	if (!src || strlen(src) >= cap)
		return -1;
	strcpy(dst, src);
	return 0;
}

static inline int ov_vector(struct obfs_vector *v, const cJSON *o)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "random");
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(o, "xor_keys_hex"), *k;

	if (ov_copy(v->name, sizeof(v->name), ov_str(o, "name")) ||
	    ov_copy(v->password, sizeof(v->password), ov_str(o, "password")))
		return -1;
	v->type = ov_int(o, "message_type", -1);
	v->in_len = ov_hex(o, "input_hex", v->in, sizeof(v->in));
	v->out_len = ov_hex(o, "output_hex", v->out, sizeof(v->out));
	v->rnd_len = r ? ov_hex(r, "bytes_hex", v->rnd, sizeof(v->rnd)) : -1;
	v->pad_len = r ? ov_int(r, "pad_len", -1) : -1;
	v->n_obfs = ov_int(o, "obfuscated_part_length", -1);
	v->flag = ov_bool(o, "flag_byte_set");
	v->key0_modified = ov_bool(o, "xor_key0_modified");
	if (v->in_len != ov_int(o, "input_len", -2) || v->out_len != ov_int(o, "output_len", -2) ||
	    v->rnd_len < 0 || v->n_obfs < 0 ||
	    ov_hex(o, "user_key_hash_hex", v->key_hash, 32) != 32 ||
	    ov_hex(o, "nonce_hex", v->nonce, 16) != 16 ||
	    ov_hex(o, "xor_key0_unmodified_hex", v->key0_unmodified, 8) != 8 ||
	    !cJSON_IsArray(keys))
		return -1;
	v->n_keys = 0;
	cJSON_ArrayForEach(k, keys) {
		if (v->n_keys == OV_MAX_KEYS || !cJSON_IsString(k) ||
		    test_unhex(v->keys[v->n_keys], 8, k->valuestring) != 8)
			return -1;
		v->n_keys++;
	}
	return 0;
}

static inline int ov_passthrough(struct obfs_passthrough *p, const cJSON *o)
{
	uint8_t res[OV_MAX];

	if (ov_copy(p->name, sizeof(p->name), ov_str(o, "name")) ||
	    ov_copy(p->password, sizeof(p->password), ov_str(o, "password")))
		return -1;
	p->len = ov_hex(o, "wire_hex", p->wire, sizeof(p->wire));
	if (p->len < 0 || p->len != ov_int(o, "wire_len", -2) ||
	    ov_hex(o, "result_hex", res, sizeof(res)) != p->len || memcmp(res, p->wire, p->len) ||
	    ov_bool(o, "marked_deobfuscated"))
		return -1;
	return 0;
}

static inline char *ov_read_file(const char *path, char *why, size_t why_len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (!f) {
		snprintf(why, why_len, "%s: cannot open", path);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(buf = calloc(1, n + 1)) || fread(buf, 1, n, f) != (size_t)n) {
		snprintf(why, why_len, "%s: cannot read", path);
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Load every vector; 0, or -1 with vs->why set. vs is large: make it static. */
static inline int obfs_vectors_load(struct obfs_vectors *vs)
{
	const char *path = getenv("XWGP_OBFS_VECTORS");
	cJSON *root, *arr, *o;
	char *text;
	int err = -1;

	memset(vs, 0, sizeof(*vs));
	if (!path)
		path = "tests/vectors/mwgp-obfs.json";
	text = ov_read_file(path, vs->why, sizeof(vs->why));
	if (!text)
		return -1;
	root = cJSON_Parse(text);
	free(text);
	if (!root) {
		snprintf(vs->why, sizeof(vs->why), "%s: not JSON", path);
		return -1;
	}
	arr = cJSON_GetObjectItemCaseSensitive(root, "vectors");
	cJSON_ArrayForEach(o, arr) {
		if (vs->n == OV_MAX_VECTORS || ov_vector(&vs->v[vs->n], o)) {
			snprintf(vs->why, sizeof(vs->why), "vector #%d unreadable", vs->n);
			goto out;
		}
		vs->n++;
	}
	arr = cJSON_GetObjectItemCaseSensitive(root, "deobfuscate_passthrough");
	cJSON_ArrayForEach(o, arr) {
		if (vs->n_pt == (int)(sizeof(vs->pt) / sizeof(vs->pt[0])) ||
		    ov_passthrough(&vs->pt[vs->n_pt], o)) {
			snprintf(vs->why, sizeof(vs->why), "pass-through #%d unreadable", vs->n_pt);
			goto out;
		}
		vs->n_pt++;
	}
	err = 0;
out:
	cJSON_Delete(root);
	return err;
}

/*
 * A replaying obfs_rand_fn: hands out a vector's recorded randomness.
 * Handshakes (pad_len >= 0) first draw 8 bytes, read little-endian, whose
 * value % 384 is the pad length: the replay gives pad_len itself. Then the
 * recorded bytes, in the order and sizes the sender asks for them.
 */
struct ov_replay {
	const struct obfs_vector *v;
	int pos;
	bool pad_given;
	bool error; /* asked for more, or in another shape, than recorded */
};

static inline void ov_replay_fn(void *ctx, uint8_t *out, size_t n)
{
	struct ov_replay *r = ctx;

	if (r->v->pad_len >= 0 && !r->pad_given) {
		uint64_t v = (uint64_t)r->v->pad_len;

		r->pad_given = true;
		if (n != 8) {
			r->error = true;
			memset(out, 0, n);
			return;
		}
		for (size_t i = 0; i < 8; i++)
			out[i] = v >> (8 * i);
		return;
	}
	if (r->pos + (int)n > r->v->rnd_len) {
		r->error = true;
		memset(out, 0, n);
		return;
	}
	memcpy(out, r->v->rnd + r->pos, n);
	r->pos += n;
}

#endif
