// SPDX-License-Identifier: GPL-2.0
/* Pin path facts for operators (see pin_check.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "log.h"
#include "pin_check.h"

void xwgp_instance_from_pin_path(const char *pin_path, char *buf, size_t max)
{
	size_t len = strlen(pin_path), n = 0;
	const char *base;

	while (len > 1 && pin_path[len - 1] == '/')
		len--; /* "/run/xwgp/edge/" names edge */
	base = pin_path + len;
	while (base > pin_path && base[-1] != '/')
		base--;
	for (; base < pin_path + len && n + 1 < max; base++, n++) {
		char ch = *base;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.';

		buf[n] = ok && !(n == 0 && (ch == '.' || ch == '-')) ? ch : '_';
	}
	buf[n] = '\0';
	if (!n)
		snprintf(buf, max, "default");
}

/*
 * The bpffs instance holding pin_path is identified by its device number
 * (every bpffs mount is an anonymous superblock: 0:NN). If PID 1's
 * mountinfo lists no mount of that device, no other shell can reach it.
 */
int xwgp_bpffs_private(const char *pin_path, const char *mountinfo1)
{
	char line[4096], want[32];
	struct stat st;
	FILE *f;
	int found = 0;

	if (stat(pin_path, &st))
		return -errno;
	snprintf(want, sizeof(want), "%u:%u", major(st.st_dev), minor(st.st_dev));
	f = fopen(mountinfo1, "re");
	if (!f)
		return -errno;
	/* "36 35 0:31 / /sys/fs/bpf rw,... - bpf bpf rw": field 3 is major:minor. */
	while (!found && fgets(line, sizeof(line), f)) {
		char dev[32];

		if (sscanf(line, "%*s %*s %31s", dev) == 1 && !strcmp(dev, want))
			found = 1;
	}
	fclose(f);
	return !found;
}

void xwgp_warn_private_pins(const char *pin_path)
{
	int r = xwgp_bpffs_private(pin_path, "/proc/1/mountinfo");

	if (r < 0) {
		pr_debug("pin_path %s: cannot tell whether its bpffs is shared: %s", pin_path,
			 strerror(-r));
		return;
	}
	if (r)
		pr_warn("pin_path %s is on a bpffs mounted only in this process's mount namespace "
			"(as under `ip netns exec'): the pins die with this agent, `xwgp show' "
			"from "
			"another shell cannot see them, and restart survival will not work. Mount "
			"a "
			"bpffs outside /sys that outlives the agent (mount -t bpf bpf "
			"/run/xwgp/bpf) "
			"and set pin_path under it, or use the host's /sys/fs/bpf",
			pin_path);
}
