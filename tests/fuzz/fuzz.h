/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared bits of xwgp's fuzz harnesses (tests/fuzz/fuzz_*.c).
 *
 * Every harness is one LLVMFuzzerTestOneInput() (plus an optional
 * LLVMFuzzerInitialize()) and is linked two ways (tests/fuzz/fuzz.mk):
 *   - with libFuzzer (clang -fsanitize=fuzzer,address,undefined) by `make fuzz';
 *   - with tests/fuzz/replay_main.c, a plain main() that runs every file of
 *     the given corpus directories once, by every normal build, so `make
 *     check' (and `make check SANITIZE=1') replays the corpora.
 * A harness reports a bug by calling fuzz_bug(), which aborts: libFuzzer
 * saves the input, the replay driver dies with a non-zero status.
 *
 * A harness that needs something the machine lacks (root for BPF maps)
 * calls fuzz_unavailable() from its init, which exits with FUZZ_EXIT_SKIP so
 * the runner reports a SKIP with the reason instead of a failure.
 */
#ifndef XWGP_FUZZ_H
#define XWGP_FUZZ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_EXIT_SKIP 66

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

__attribute__((format(printf, 1, 2), noreturn)) static inline void fuzz_bug(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: BUG: ", stdout);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	abort();
}

__attribute__((format(printf, 1, 2), noreturn)) static inline void fuzz_unavailable(const char *fmt,
										    ...)
{
	va_list ap;

	fputs("fuzz: unavailable: ", stdout);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	exit(FUZZ_EXIT_SKIP);
}

/*
 * The agent logs every bad packet or config value it meets to stderr; at
 * fuzzing rates that drowns the fuzzer's own output. Point stdio's stderr
 * at /dev/null: libFuzzer keeps the FILE it captured at start-up and the
 * sanitizers write their reports to fd 2 directly, so both still show.
 * XWGP_FUZZ_VERBOSE=1 keeps the agent's messages.
 */
static inline void fuzz_quiet_agent_log(void)
{
	FILE *null;

	if (getenv("XWGP_FUZZ_VERBOSE"))
		return;
	null = fopen("/dev/null", "w");
	if (null)
		stderr = null;
}

/* A cursor over the fuzz input, handing out bytes and small integers. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

/* Little-endian; separate statements fix the order the bytes are taken in. */
static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t lo = fuzz_u8(in);

	return (uint16_t)(lo | fuzz_u8(in) << 8);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t lo = fuzz_u16(in);

	return lo | (uint32_t)fuzz_u16(in) << 16;
}

/* Copy up to n bytes into out, zero-filling what the input lacks; returns bytes taken. */
static inline size_t fuzz_bytes(struct fuzz_in *in, void *out, size_t n)
{
	size_t k = n < in->left ? n : in->left;

	memcpy(out, in->p, k);
	memset((uint8_t *)out + k, 0, n - k);
	in->p += k;
	in->left -= k;
	return k;
}

#endif /* XWGP_FUZZ_H */
