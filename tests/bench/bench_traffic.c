// SPDX-License-Identifier: GPL-2.0
/*
 * Traffic for the end-to-end benchmarks (tests/bench/run.sh), on veths in
 * network namespaces (docs/DESIGN.md section 8 says what works there):
 *
 *   bench_traffic sink-attach --ifname IF --pin PATH
 *       Attach the counting sink (bench_sink.bpf.c) to IF in native mode and
 *       pin its counter map at PATH. It stays attached after this exits.
 *   bench_traffic sink-attach-tc --ifname IF --pin PATH
 *       The same sink on TC ingress of IF (lo: local backends); stays too.
 *   bench_traffic redirect-attach --ifname IF --to OUT
 *       Attach the bare devmap redirect IF -> OUT (bench_redirect.bpf.c):
 *       the ceiling any forwarding XDP program can reach between them.
 *   bench_traffic gen --ifname IF --dmac MAC --src IP:PORT --dst IP:PORT
 *                     --receiver IDX [--len BYTES] --sink PATH --label NAME
 *                     (--search [--step-sec S] | --rate PPS --duration S)
 *       Replay one WireGuard transport frame (from src to dst, receiver
 *       index IDX: a real session's) out of IF with BPF_PROG_TEST_RUN and
 *       BPF_F_TEST_XDP_LIVE_FRAMES (bench_gen.bpf.c: XDP_TX, self-paced
 *       to PPS), and count what the sink at PATH received meanwhile.
 *       --search: first as fast as possible; if 1% or more is lost, step the
 *       offered rate (bisection) to the highest one that loses less than 1%.
 *       --rate/--duration: one steady stream (the restart measurement).
 *   bench_traffic sink-watch --sink PATH [--duration S]
 *       Count the handshake initiations the sink at PATH receives (polled
 *       every millisecond, in this process: no tool spawned per poll):
 *       from the first one after start until none came for 500 ms, or S
 *       seconds (default 120) passed without any. Prints {"delivered": N,
 *       "busy_ns": time from the first to the last, "machine_busy_sec": CPU
 *       seconds all CPUs spent busy meanwhile (/proc/stat), "steal_sec":
 *       of them, the time the hypervisor ran something else}.
 *
 * Results: one JSON object on stdout. Delivered counts are exact (the sink
 * counts every transport frame it sees; nothing else sends transport to
 * it); offered rates are what the generator achieved, not what was asked.
 */
#include <getopt.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_gen.skel.h"
#include "bench_redirect.skel.h"
#include "bench_sink.skel.h"
#include "bench_util.h"

#define LOSS_LIMIT   0.01 /* "< 1% loss" */
#define SEARCH_STEPS 7
#define DRAIN_MS     300 /* after a step: frames still queued in the agent's socket land */
#define MAX_STEPS    (SEARCH_STEPS + 1)

struct opts {
	const char *ifname, *to, *pin, *dmac, *src, *dst, *sink, *label;
	uint32_t receiver;
	size_t len;
	bool search;
	double rate, duration, step_sec;
};

struct step {
	double asked; /* pps asked for; 0: unpaced */
	uint64_t sent, delivered;
	double secs; /* sending time */
};

static struct {
	int prog, sink_fd, ifindex, ncpus;
	struct bench_gen_bpf *skel;
	struct bench_frame frame;
} g;

static double offered(const struct step *s)
{
	return s->sent / s->secs;
}

static double loss(const struct step *s)
{
	return s->sent ? 1.0 - (double)s->delivered / s->sent : 1.0;
}

/* "IP:PORT" / "[IPv6]:PORT" into ip (no brackets) and port. */
static int split_ep(const char *s, char *ip, size_t cap, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	size_t n;

	if (!colon)
		return -EINVAL;
	n = colon - s;
	if (s[0] == '[' && n >= 2 && colon[-1] == ']')
		s++, n -= 2;
	if (n >= cap)
		return -EINVAL;
	memcpy(ip, s, n);
	ip[n] = '\0';
	*port = atoi(colon + 1);
	return *port ? 0 : -EINVAL;
}

static int attach(int prog, const char *ifname)
{
	int ifindex = if_nametoindex(ifname);
	int err;

	if (!ifindex) {
		bench_log("interface `%s': %s", ifname, strerror(errno));
		return -ENODEV;
	}
	err = bpf_xdp_attach(ifindex, prog, XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		bench_log("attaching XDP to `%s' failed: %s", ifname, strerror(-err));
	return err;
}

static int cmd_sink_attach(const struct opts *o)
{
	struct bench_sink_bpf *s;
	int err;

	if (!o->ifname || !o->pin) {
		bench_log("sink-attach: need --ifname and --pin");
		return 2;
	}
	s = bench_sink_bpf__open_and_load();
	if (!s) {
		bench_log("loading the sink failed: %s", strerror(errno));
		return 1;
	}
	unlink(o->pin);
	err = bpf_map__pin(s->maps.bench_sink_cnt, o->pin);
	if (err)
		bench_log("pinning the sink counters at %s failed: %s", o->pin, strerror(-err));
	err = err ?: attach(bpf_program__fd(s->progs.bench_sink), o->ifname);
	bench_sink_bpf__destroy(s); /* the device holds the program, the pin the map */
	return err ? 1 : 0;
}

static int cmd_sink_attach_tc(const struct opts *o)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, topts, .handle = 1, .priority = 1, .flags = BPF_TC_F_REPLACE);
	struct bench_sink_bpf *s;
	int err;

	hook.ifindex = (int)if_nametoindex(o->ifname ? o->ifname : "");
	if (!hook.ifindex || !o->pin) {
		bench_log("sink-attach-tc: need --ifname (existing) and --pin");
		return 2;
	}
	s = bench_sink_bpf__open_and_load();
	if (!s) {
		bench_log("loading the sink failed: %s", strerror(errno));
		return 1;
	}
	unlink(o->pin);
	err = bpf_map__pin(s->maps.bench_sink_cnt, o->pin);
	if (!err) {
		libbpf_print_fn_t print = libbpf_set_print(NULL); /* EEXIST: xwgp made it */

		err = bpf_tc_hook_create(&hook);
		libbpf_set_print(print);
		err = err == -EEXIST ? 0 : err;
	}
	topts.prog_fd = bpf_program__fd(s->progs.bench_sink_tc);
	err = err ?: bpf_tc_attach(&hook, &topts);
	if (err)
		bench_log("sink-attach-tc on %s: %s", o->ifname, strerror(-err));
	bench_sink_bpf__destroy(s);
	return err ? 1 : 0;
}

static int cmd_redirect_attach(const struct opts *o)
{
	struct bpf_devmap_val dv = {};
	struct bench_redirect_bpf *s;
	uint32_t zero = 0;
	int err;

	if (!o->ifname || !o->to) {
		bench_log("redirect-attach: need --ifname and --to");
		return 2;
	}
	dv.ifindex = if_nametoindex(o->to);
	s = bench_redirect_bpf__open_and_load();
	if (!s || !dv.ifindex) {
		bench_log("redirect-attach: loading failed or no interface `%s'", o->to);
		return 1;
	}
	err = bpf_map_update_elem(bpf_map__fd(s->maps.bench_tx_port), &zero, &dv, BPF_ANY);
	if (err)
		bench_log("devmap update: %s", strerror(errno));
	err = err ?: attach(bpf_program__fd(s->progs.bench_redirect), o->ifname);
	bench_redirect_bpf__destroy(s);
	return err ? 1 : 0;
}

static uint64_t sink_read_slot(uint32_t key)
{
	struct {
		uint64_t packets, bytes;
	} v[g.ncpus];
	uint64_t sum = 0;

	if (bpf_map_lookup_elem(g.sink_fd, &key, v))
		return 0;
	for (int i = 0; i < g.ncpus; i++)
		sum += v[i].packets;
	return sum;
}

static uint64_t sink_read(void)
{
	return sink_read_slot(0); /* SINK_TRANSPORT */
}

#define SINK_INIT    2 /* bench_sink.bpf.c */

/*
 * Busy ticks of all CPUs (user nice system irq softirq steal) and, of them,
 * steal (time the hypervisor gave the vCPUs to someone else); 0 if unreadable.
 */
static uint64_t machine_ticks(uint64_t *steal)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	if (f) {
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			   &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
			memset(v, 0, sizeof(v));
		fclose(f);
	}
	*steal = v[7];
	return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

#define WATCH_IDLE_NS 500000000ull

static int cmd_sink_watch(const struct opts *o)
{
	uint64_t base, now_n, last_n, start, first = 0, last = 0, tick0 = 0, tick1 = 0;
	uint64_t steal0 = 0, steal1 = 0;
	uint64_t give_up = (uint64_t)((o->duration > 0 ? o->duration : 120) * 1e9);

	g.ncpus = libbpf_num_possible_cpus();
	g.sink_fd = o->sink ? bpf_obj_get(o->sink) : -1;
	if (g.ncpus <= 0 || g.sink_fd < 0) {
		bench_log("sink-watch: need --sink, a pinned sink map");
		return 1;
	}
	base = last_n = sink_read_slot(SINK_INIT);
	start = xwgp_clock_ns(CLOCK_MONOTONIC);
	for (;;) {
		struct timespec ts = { 0, 1000000 };
		uint64_t t;

		nanosleep(&ts, NULL);
		t = xwgp_clock_ns(CLOCK_MONOTONIC);
		now_n = sink_read_slot(SINK_INIT);
		if (now_n != last_n) {
			if (!first) {
				first = t;
				tick0 = machine_ticks(&steal0);
			}
			last = t;
			tick1 = machine_ticks(&steal1);
			last_n = now_n;
		} else if (first ? t - last > WATCH_IDLE_NS : t - start > give_up) {
			break;
		}
	}
	printf("{\"delivered\": %llu, \"busy_ns\": %llu, \"machine_busy_sec\": %.2f, "
	       "\"steal_sec\": %.2f}\n",
	       (unsigned long long)(last_n - base), (unsigned long long)(last - first),
	       (double)(tick1 - tick0) / (double)sysconf(_SC_CLK_TCK),
	       (double)(steal1 - steal0) / (double)sysconf(_SC_CLK_TCK));
	close(g.sink_fd);
	return 0;
}

/* Run the generator n times: it sends those of the n runs its pacing allows. */
static int gen_runs(uint32_t n)
{
	struct xdp_md ctx = { .data_end = g.frame.len, .ingress_ifindex = g.ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = g.frame.b, .data_size_in = g.frame.len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = n,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	return bpf_prog_test_run_opts(g.prog, &o) ? -errno : 0;
}

/*
 * Send for secs at rate pps (0: unpaced; the program paces, see
 * bench_gen.bpf.c), then let the path drain and count.
 */
static int run_step(double rate, double secs, struct step *s)
{
	uint64_t before = sink_read(), t0 = xwgp_clock_ns(CLOCK_MONOTONIC);
	uint64_t end = t0 + (uint64_t)(secs * 1e9);
	/* Unpaced, 2^18 frames take ~50 ms; paced, most runs are a ~100 ns drop. */
	uint32_t runs = rate > 0 ? 1u << 21 : 1u << 18;
	int err = 0;

	memset(s, 0, sizeof(*s));
	s->asked = rate;
	g.skel->bss->interval_ns = rate > 0 ? (uint64_t)(1e9 / rate) : 0;
	g.skel->bss->next_ns = 0;
	g.skel->bss->sent = 0;
	while (!err && xwgp_clock_ns(CLOCK_MONOTONIC) < end)
		err = gen_runs(runs);
	s->secs = (xwgp_clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	s->sent = g.skel->bss->sent;
	usleep(DRAIN_MS * 1000);
	s->delivered = sink_read() - before;
	bench_log("asked %.0f pps: offered %.0f pps, delivered %.0f pps (%.2f%% lost)", rate,
		  offered(s), s->delivered / s->secs, 100 * loss(s));
	if (err)
		bench_log("BPF_PROG_TEST_RUN (live frames) failed: %s", strerror(-err));
	return err;
}

static void print_step(const struct step *s, bool last)
{
	printf("{\"asked_pps\":%.0f,\"offered_pps\":%.0f,\"delivered_pps\":%.0f,\"sent\":%llu,"
	       "\"delivered\":%llu,\"loss\":%.5f}%s",
	       s->asked, offered(s), s->delivered / s->secs, (unsigned long long)s->sent,
	       (unsigned long long)s->delivered, loss(s), last ? "" : ",");
}

static int search(const struct opts *o)
{
	struct step steps[MAX_STEPS];
	int n = 0, best = -1, err;
	double lo = 0, hi, probe;

	err = run_step(0, o->step_sec, &steps[n++]);
	if (err)
		return err;
	if (loss(&steps[0]) < LOSS_LIMIT) {
		best = 0;
	} else {
		/* The delivered rate under overload is the first guess at capacity. */
		hi = offered(&steps[0]);
		probe = 0.97 * steps[0].delivered / steps[0].secs;
		for (int i = 0; i < SEARCH_STEPS && !err; i++) {
			struct step *s = &steps[n++];

			err = run_step(probe, o->step_sec, s);
			if (loss(s) < LOSS_LIMIT) {
				lo = probe;
				if (best < 0 || offered(s) > offered(&steps[best]))
					best = s - steps;
			} else {
				hi = probe;
			}
			probe = lo > 0 ? (lo + hi) / 2 : hi / 2;
		}
	}
	printf("{\"id\":\"e2e.%s\",\"frame_bytes\":%zu,\"step_sec\":%.2f,", o->label, g.frame.len,
	       o->step_sec);
	if (best >= 0)
		printf("\"offered_pps\":%.0f,\"delivered_pps\":%.0f,\"delivered_fraction\":%.5f,",
		       offered(&steps[best]), steps[best].delivered / steps[best].secs,
		       1 - loss(&steps[best]));
	else
		printf("\"na\":\"no offered rate lost less than 1%%\",");
	printf("\"max_offered_pps\":%.0f,\"max_delivered_pps\":%.0f,\"steps\":[",
	       offered(&steps[0]), steps[0].delivered / steps[0].secs);
	for (int i = 0; i < n; i++)
		print_step(&steps[i], i == n - 1);
	printf("]}\n");
	return err;
}

static int steady(const struct opts *o)
{
	struct step s;
	int err = run_step(o->rate, o->duration, &s);

	printf("{\"id\":\"e2e.%s\",\"frame_bytes\":%zu,\"asked_pps\":%.0f,\"offered_pps\":%.0f,"
	       "\"duration_sec\":%.2f,\"sent\":%llu,\"delivered\":%llu,\"lost\":%lld}\n",
	       o->label, g.frame.len, o->rate, offered(&s), s.secs, (unsigned long long)s.sent,
	       (unsigned long long)s.delivered, (long long)(s.sent - s.delivered));
	return err;
}

static int build_frame(const struct opts *o)
{
	uint8_t msg[BENCH_FRAME_CAP];
	char sip[64], dip[64];
	struct bench_udp_spec s = { .ttl = 64, .payload = msg, .payload_len = o->len };
	int err;

	err = split_ep(o->src, sip, sizeof(sip), &s.sport) ?:
	      split_ep(o->dst, dip, sizeof(dip), &s.dport) ?: bench_parse_mac(s.dmac, o->dmac) ?:
	      bench_if_mac(s.smac, o->ifname);
	if (err)
		return err;
	s.src = sip;
	s.dst = dip;
	bench_transport_msg(msg, o->len, o->receiver, 1);
	return bench_build_udp(&g.frame, &s);
}

static int cmd_gen(const struct opts *o)
{
	struct bench_gen_bpf *s;
	int err;

	if (!o->ifname || !o->dmac || !o->src || !o->dst || !o->receiver || !o->sink || !o->label ||
	    o->len < WG_TRANSPORT_MIN_LEN || (!o->search && o->duration <= 0)) {
		bench_log("gen: need --ifname, --dmac, --src, --dst, --receiver, --sink, --label, "
			  "--len >= 32, and --search or --rate/--duration");
		return 2;
	}
	g.ifindex = if_nametoindex(o->ifname);
	g.sink_fd = bpf_obj_get(o->sink);
	g.ncpus = libbpf_num_possible_cpus();
	if (!g.ifindex || g.sink_fd < 0 || build_frame(o)) {
		bench_log("gen: no interface `%s', no sink map at %s, or a bad address", o->ifname,
			  o->sink);
		return 1;
	}
	s = bench_gen_bpf__open_and_load();
	if (!s || g.frame.len < sizeof(s->bss->tmpl)) {
		bench_log("loading the generator failed (%s), or the frame is shorter than %zu",
			  strerror(errno), sizeof(s->bss->tmpl));
		bench_gen_bpf__destroy(s);
		return 1;
	}
	g.skel = s;
	g.prog = bpf_program__fd(s->progs.bench_gen);
	memcpy(s->bss->tmpl, g.frame.b, sizeof(s->bss->tmpl));
	err = o->search ? search(o) : steady(o);
	bench_gen_bpf__destroy(s);
	close(g.sink_fd);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "ifname", required_argument, NULL, 'I' },
		{ "to", required_argument, NULL, 'T' },
		{ "pin", required_argument, NULL, 'p' },
		{ "dmac", required_argument, NULL, 'm' },
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "receiver", required_argument, NULL, 'r' },
		{ "len", required_argument, NULL, 'l' },
		{ "sink", required_argument, NULL, 'k' },
		{ "label", required_argument, NULL, 'L' },
		{ "search", no_argument, NULL, 'S' },
		{ "step-sec", required_argument, NULL, 'e' },
		{ "rate", required_argument, NULL, 'R' },
		{ "duration", required_argument, NULL, 'D' },
		{},
	};
	struct opts o = { .len = 128, .step_sec = 1.0 };
	const char *cmd;
	int c;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_traffic sink-attach|redirect-attach|gen|sink-watch OPTIONS\n");
		return 2;
	}
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'I':
			o.ifname = optarg;
			break;
		case 'T':
			o.to = optarg;
			break;
		case 'p':
			o.pin = optarg;
			break;
		case 'm':
			o.dmac = optarg;
			break;
		case 's':
			o.src = optarg;
			break;
		case 'd':
			o.dst = optarg;
			break;
		case 'r':
			o.receiver = strtoul(optarg, NULL, 0);
			break;
		case 'l':
			o.len = strtoul(optarg, NULL, 0);
			break;
		case 'k':
			o.sink = optarg;
			break;
		case 'L':
			o.label = optarg;
			break;
		case 'S':
			o.search = true;
			break;
		case 'e':
			o.step_sec = atof(optarg);
			break;
		case 'R':
			o.rate = atof(optarg);
			break;
		case 'D':
			o.duration = atof(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!strcmp(cmd, "sink-attach"))
		return cmd_sink_attach(&o);
	if (!strcmp(cmd, "sink-attach-tc"))
		return cmd_sink_attach_tc(&o);
	if (!strcmp(cmd, "redirect-attach"))
		return cmd_redirect_attach(&o);
	if (!strcmp(cmd, "gen"))
		return cmd_gen(&o);
	if (!strcmp(cmd, "sink-watch"))
		return cmd_sink_watch(&o);
	fprintf(stderr, "bench_traffic: unknown command `%s'\n", cmd);
	return 2;
}
