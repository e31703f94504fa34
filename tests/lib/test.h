/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny test framework for xwgp's C test suites.
 *
 *   TEST(name) { CHECK(x == 1, "x is %d", x); CHECK_MEM(a, b, n); }
 *   TEST_MAIN()
 *
 * Each test prints exactly one line: "PASS <suite>/<name>",
 * "FAIL <suite>/<name>: <file>:<line>: <message>" or
 * "SKIP <suite>/<name>: <reason>". tests/run.sh counts these lines.
 * A test fails on its first failed CHECK (it returns from the test body).
 * Run one binary with a test name as argument to run only that test (a shell
 * glob: test_config 'json5_*'), or with --list to print the names.
 */
#ifndef XWGP_TEST_H
#define XWGP_TEST_H

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
	struct test_case *next;
};

enum test_state { TEST_RUNNING, TEST_FAILED, TEST_SKIPPED };

extern struct test_case *test_list__;
extern enum test_state test_state__;
extern const char *test_suite__;

static inline void test_register__(struct test_case *tc)
{
	struct test_case **p = &test_list__;
	while (*p)
		p = &(*p)->next; /* keep file order */
	*p = tc;
}

#define TEST(n)                                                                                    \
	static void test_fn_##n(void);                                                             \
	static struct test_case test_case_##n = { .name = #n, .fn = test_fn_##n };                 \
	__attribute__((constructor)) static void test_reg_##n(void)                                \
	{                                                                                          \
		test_register__(&test_case_##n);                                                   \
	}                                                                                          \
	static void test_fn_##n(void)

__attribute__((format(printf, 4, 5))) static inline void
test_fail__(const char *file, int line, const char *name, const char *fmt, ...)
{
	va_list ap;
	printf("FAIL %s/%s: %s:%d: ", test_suite__, name, file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	test_state__ = TEST_FAILED;
}

extern const char *test_current__;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			test_fail__(__FILE__, __LINE__, test_current__, "CHECK(" #cond ") "        \
								       __VA_ARGS__);               \
			return;                                                                    \
		}                                                                                  \
	} while (0)

/* Compare n bytes; on mismatch print the first differing offset and both bytes. */
#define CHECK_MEM(a, b, n)                                                                         \
	do {                                                                                       \
		const unsigned char *ca__ = (const unsigned char *)(a);                            \
		const unsigned char *cb__ = (const unsigned char *)(b);                            \
		size_t n__ = (n), i__;                                                             \
		for (i__ = 0; i__ < n__ && ca__[i__] == cb__[i__]; i__++)                         \
			;                                                                          \
		if (i__ != n__) {                                                                  \
			test_fail__(__FILE__, __LINE__, test_current__,                            \
				    "%s != %s at byte %zu of %zu: %02x vs %02x", #a, #b, i__, n__, \
				    ca__[i__], cb__[i__]);                                         \
			return;                                                                    \
		}                                                                                  \
	} while (0)

/* Mark the current test skipped, with the reason, and leave it. */
#define SKIP(...)                                                                                  \
	do {                                                                                       \
		printf("SKIP %s/%s: ", test_suite__, test_current__);                             \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		test_state__ = TEST_SKIPPED;                                                       \
		return;                                                                            \
	} while (0)

/* Decode hex into buf (at most cap bytes); returns the length or -1. */
static inline int test_unhex(unsigned char *buf, size_t cap, const char *hex)
{
	size_t n = strlen(hex), i;
	if (n % 2 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned int v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		buf[i] = (unsigned char)v;
	}
	return (int)(n / 2);
}

#define TEST_MAIN()                                                                                \
	struct test_case *test_list__;                                                             \
	enum test_state test_state__;                                                              \
	const char *test_suite__;                                                                  \
	const char *test_current__;                                                                \
	int main(int argc, char **argv)                                                            \
	{                                                                                          \
		int failed = 0;                                                                    \
		const char *slash = strrchr(argv[0], '/');                                        \
		test_suite__ = slash ? slash + 1 : argv[0];                                        \
		for (struct test_case *tc = test_list__; tc; tc = tc->next) {                      \
			if (argc > 1 && !strcmp(argv[1], "--list")) {                              \
				printf("%s\n", tc->name);                                          \
				continue;                                                          \
			}                                                                          \
			if (argc > 1 && fnmatch(argv[1], tc->name, 0))                             \
				continue;                                                          \
			test_current__ = tc->name;                                                 \
			test_state__ = TEST_RUNNING;                                               \
			tc->fn();                                                                  \
			if (test_state__ == TEST_RUNNING)                                          \
				printf("PASS %s/%s\n", test_suite__, tc->name);                    \
			else if (test_state__ == TEST_FAILED)                                      \
				failed++;                                                          \
			fflush(stdout);                                                            \
		}                                                                                  \
		return failed ? 1 : 0;                                                             \
	}

#endif /* XWGP_TEST_H */
