// SPDX-License-Identifier: GPL-2.0
/*
 * A main() for the fuzz harnesses without libFuzzer: run every file named on
 * the command line (directories: every regular file in them, in name order)
 * through LLVMFuzzerTestOneInput() once. tests/fuzz/replay.sh uses it in
 * `make check' so every corpus file, and every crash ever found (kept in the
 * corpora as regression inputs), is replayed by every build, including the
 * sanitized one. Prints how many inputs ran; a harness bug aborts.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define REPLAY_MAX_INPUT (1u << 20)

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static int run_file(const char *path, unsigned long *n)
{
	static uint8_t buf[REPLAY_MAX_INPUT];
	size_t len;
	uint8_t *copy;
	FILE *f;

	f = fopen(path, "rb");
	if (!f) {
		fprintf(stdout, "replay: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	/* An exact-size heap copy, so ASan catches any read past the input. */
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	(*n)++;
	return 0;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int run_dir(const char *dir, unsigned long *n)
{
	struct dirent **ents;
	char path[4096];
	struct stat st;
	int count, err = 0;

	count = scandir(dir, &ents, NULL, name_cmp);
	if (count < 0) {
		fprintf(stdout, "replay: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	for (int i = 0; i < count; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && !stat(path, &st) && S_ISREG(st.st_mode) && !err)
			err = run_file(path, n);
		free(ents[i]);
	}
	free(ents);
	return err;
}

int main(int argc, char **argv)
{
	unsigned long n = 0;
	struct stat st;
	int err = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc && !err; i++) {
		if (stat(argv[i], &st)) {
			fprintf(stdout, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		err = S_ISDIR(st.st_mode) ? run_dir(argv[i], &n) : run_file(argv[i], &n);
	}
	fprintf(stdout, "replay: %lu inputs\n", n);
	return err ? 1 : 0;
}
