// SPDX-License-Identifier: GPL-2.0
/* Instance names from pin paths, and the private-bpffs test (agent/pin_check.c). */
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pin_check.h"
#include "test.h"

TEST(instance_from_pin_path)
{
	static const struct {
		const char *pin, *want;
	} cases[] = {
		{ "/sys/fs/bpf/xwgp/edge", "edge" },
		{ "/run/xwgp/bpf/edge-2/", "edge-2" },
		{ "/x//y//", "y" },
		{ "/a/b c$d", "b_c_d" },
		{ "/a/.hidden", "_hidden" },
		{ "/a/-dash", "_dash" },
		{ "/", "default" },
		{ "", "default" },
	};
	char buf[65];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		xwgp_instance_from_pin_path(cases[i].pin, buf, sizeof(buf));
		CHECK(!strcmp(buf, cases[i].want), "`%s' -> `%s', want `%s'", cases[i].pin, buf,
		      cases[i].want);
	}
	/* Truncated to the buffer, never past it. */
	xwgp_instance_from_pin_path("/p/abcdefgh", buf, 4);
	CHECK(!strcmp(buf, "abc"), "got `%s'", buf);
}

/* A mountinfo listing (or not) the device of the directory we test. */
TEST(bpffs_private_by_device)
{
	char dir[] = "/tmp/xwgp-pincheck.XXXXXX", mi[64], line[256];
	struct stat st;
	FILE *f;

	CHECK(mkdtemp(dir));
	CHECK(stat(dir, &st) == 0);
	snprintf(mi, sizeof(mi), "%s/mountinfo", dir);
	f = fopen(mi, "w");
	CHECK(f);
	fprintf(f, "22 1 0:21 / /proc rw - proc proc rw\n");
	fclose(f);
	CHECK(xwgp_bpffs_private(dir, mi) == 1, "device not listed: private");
	snprintf(line, sizeof(line), "36 35 %u:%u / /somewhere rw - bpf bpf rw\n", major(st.st_dev),
		 minor(st.st_dev));
	f = fopen(mi, "a");
	CHECK(f);
	fputs(line, f);
	fclose(f);
	CHECK(xwgp_bpffs_private(dir, mi) == 0, "device listed: shared");
	CHECK(xwgp_bpffs_private("/nonexistent/xwgp", mi) < 0);
	CHECK(xwgp_bpffs_private(dir, "/nonexistent/mountinfo") < 0);
	unlink(mi);
	rmdir(dir);
}

TEST_MAIN()
