// SPDX-License-Identifier: GPL-2.0
/*
 * The server config keys of issue 16: `metrics_listen' (host and port
 * required, IPv4 or IPv6, absent = off), a restart-only key on reload, and
 * the instance name a pin_path implies when `instance' is absent.
 */
#include <errno.h>

#include "addr.h"
#include "capture.h"
#include "config.h"
#include "reload.h"
#include "test.h"

#define SRV                                                                                        \
	"'servers': [{'privkey': 'EFt3ELmZeM/M47qFkgF4RbSOijtdHS43BNIxvxstREI=', "                 \
	"'address': '192.0.2.1', 'peers': [{'forward_to': ':1'}]}]"

static char *errs;

static int parse(const char *top, struct xwgp_server_config *c)
{
	char json[1024];
	struct capture cap;
	int ret;

	snprintf(json, sizeof(json), "{'listen': ':1000', %s " SRV "}", top);
	for (char *p = json; *p; p++)
		if (*p == '\'')
			*p = '"';
	memset(c, 0, sizeof(*c));
	capture_start(&cap, 2);
	ret = config_parse_server(json, "test.json", c);
	free(errs);
	errs = capture_end(&cap);
	return ret;
}

TEST(metrics_listen_forms)
{
	struct xwgp_server_config c;
	char buf[XWGP_EP_STRLEN];

	CHECK(parse("", &c) == 0, "%s", errs);
	CHECK(c.metrics_listen.port == 0, "absent: off");
	config_free_server(&c);
	CHECK(parse("'metrics_listen': '127.0.0.1:9586',", &c) == 0, "%s", errs);
	xwgp_ep_format(buf, sizeof(buf), &c.metrics_listen);
	CHECK(!strcmp(buf, "127.0.0.1:9586"), "got %s", buf);
	config_free_server(&c);
	CHECK(parse("'metrics_listen': '[::1]:9586',", &c) == 0, "%s", errs);
	CHECK(c.metrics_listen.family == XWGP_FAMILY_IPV6 &&
	      xwgp_ep_port(&c.metrics_listen) == 9586);
	config_free_server(&c);
}

TEST(metrics_listen_errors)
{
	static const struct {
		const char *top, *want;
	} bad[] = {
		{ "'metrics_listen': ':9586',", "metrics_listen: invalid address `:9586'" },
		{ "'metrics_listen': '127.0.0.1:0',",
		  "metrics_listen: invalid address `127.0.0.1:0'" },
		{ "'metrics_listen': 'localhost:9586',",
		  "metrics_listen: invalid address `localhost:9586'" },
		{ "'metrics_listen': 9586,", "metrics_listen: expected a string, got number" },
	};
	struct xwgp_server_config c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(parse(bad[i].top, &c) == -EINVAL, "%s accepted", bad[i].top);
		CHECK(strstr(errs, bad[i].want), "%s: got %s", bad[i].top, errs);
	}
}

TEST(metrics_listen_needs_restart)
{
	struct xwgp_server_config run, next;
	struct capture cap;
	char *out;
	int n;

	CHECK(parse("'metrics_listen': '127.0.0.1:9586',", &run) == 0, "%s", errs);
	CHECK(parse("'metrics_listen': '127.0.0.1:9587',", &next) == 0, "%s", errs);
	capture_start(&cap, 2);
	n = reload_keep_restart_only(&run, &next);
	out = capture_end(&cap);
	CHECK(n == 1 && strstr(out, "`metrics_listen' changed; it takes effect after a restart"),
	      "n=%d: %s", n, out);
	CHECK(xwgp_ep_equal(&next.metrics_listen, &run.metrics_listen), "the running value kept");
	free(out);
	config_free_server(&run);
	config_free_server(&next);
}

TEST(instance_from_pin_path)
{
	struct xwgp_server_config c;

	CHECK(parse("'pin_path': '/run/xwgp/bpf/edge',", &c) == 0, "%s", errs);
	CHECK(!strcmp(c.instance, "edge"), "got %s", c.instance);
	config_free_server(&c);
	CHECK(parse("'pin_path': '/run/xwgp/bpf/edge', 'instance': 'other',", &c) == 0, "%s", errs);
	CHECK(!strcmp(c.instance, "other") && !strcmp(c.pin_path, "/run/xwgp/bpf/edge"));
	config_free_server(&c);
	CHECK(parse("", &c) == 0, "%s", errs);
	CHECK(!strcmp(c.instance, "default") && !strcmp(c.pin_path, "/sys/fs/bpf/xwgp/default"));
	config_free_server(&c);
}

TEST_MAIN()
