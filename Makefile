# xwgp — WireGuard port-multiplexing proxy with an XDP data path.
#
#   make            build BPF objects, skeletons and the xwgp binary
#   make check      install deps, build, run every test suite
#   make check T=PATTERN  build, run only the matching suites or SUITE/CASE
#                   (no deps step; T=--list lists them)
#   make demo       install deps, build, run the end-to-end demo
#   make bench      install deps, build, run the benchmarks
#   make deps       install the Debian packages everything needs
#   make vmlinux    regenerate vmlinux/vmlinux.h from the running kernel
#   make SANITIZE=1 build the agent and tests with ASan+UBSan (in build-san/)
#   make SANITIZE=thread  the same with ThreadSanitizer (in build-tsan/)
#   V=1             show full commands

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
# systemd reads units from /usr/local/lib/systemd/system too (systemd.unit(5)).
SYSTEMD_UNITDIR ?= $(PREFIX)/lib/systemd/system

ifeq ($(SANITIZE),1)
BUILD ?= build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else ifeq ($(SANITIZE),thread)
# ThreadSanitizer, for the handshake threads (tests/bpf/test_handler, unit/test_hs_ring).
BUILD ?= build-tsan
# -Wno-tsan: the session seqlock's fences (agent/wgit.c) order the agent
# against XDP, which ThreadSanitizer cannot see anyway.
SAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan
else
BUILD ?= build
SAN_FLAGS :=
endif
# make check SANITIZE=1: every sanitizer report (also of agents running in the
# background of e2e tests) goes to a file; tests/run.sh counts each as a failure.
ifeq ($(SANITIZE),1)
SAN_LOGS = $(abspath $(BUILD))/sanitizer
SAN_ENV = XWGP_SANITIZER_LOG_DIR=$(SAN_LOGS) ASAN_OPTIONS=log_path=$(SAN_LOGS)/asan \
	  UBSAN_OPTIONS=log_path=$(SAN_LOGS)/ubsan:print_stacktrace=1
endif

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -MMD -MP -D_GNU_SOURCE \
	  -Iinclude -Iagent -I$(BUILD) $(SAN_FLAGS)
LDFLAGS += $(SAN_FLAGS)
LDLIBS := -lxdp -lbpf -lelf -lz -lsodium -lcjson -lmicrohttpd -lpthread -lm
# xwgp_info{version=...} of the metrics: the git description at build time.
XWGP_VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
.DEFAULT_GOAL := all
# Rewritten only when the description changes, so prom.o is rebuilt on a new
# commit (or a dirty tree) and not on every make.
$(BUILD)/xwgp_version.h: FORCE | $(BUILD)
	$(Q)v='#define XWGP_VERSION "$(XWGP_VERSION)"'; \
	[ "$$(cat $@ 2>/dev/null)" = "$$v" ] || echo "$$v" > $@
$(BUILD)/agent/prom.o: $(BUILD)/xwgp_version.h
FORCE:

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
	      -Ivmlinux -Iinclude -Ibpf

# BPF programs: bpf/<name>.bpf.c -> $(BUILD)/<name>.bpf.o + <name>.skel.h
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
BPF_HDRS := $(wildcard bpf/*.h) $(wildcard include/*.h)

# Agent: every agent/*.c but main.c goes into a library the tests link too.
AGENT_SRCS := $(filter-out agent/main.c,$(wildcard agent/*.c))
AGENT_OBJS := $(patsubst agent/%.c,$(BUILD)/agent/%.o,$(AGENT_SRCS))
AGENT_LIB := $(BUILD)/libxwgp.a
XWGP := $(BUILD)/xwgp

# Tests: tests/{unit,bpf}/test_*.c -> $(BUILD)/tests/<suite>/test_*
TEST_SRCS := $(wildcard tests/unit/test_*.c tests/bpf/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
# Helper tools used by the end-to-end tests and benchmarks.
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))
# Benchmarks (make bench only): tests/bench/<name>.bpf.c -> $(BUILD)/bench/<name>.bpf.o
# + <name>.skel.h; tests/bench/bench_*.c -> $(BUILD)/bench/bench_* (agent library linked).
BENCH_BPF_SRCS := $(wildcard tests/bench/*.bpf.c)
BENCH_SKELS := $(patsubst tests/bench/%.bpf.c,$(BUILD)/bench/%.skel.h,$(BENCH_BPF_SRCS))
BENCH_SRCS := $(filter-out %.bpf.c,$(wildcard tests/bench/bench_*.c))
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

.DELETE_ON_ERROR:
# Keep generated skeletons: they are intermediates, and make would delete
# them after the build (printing after the test summary).
.SECONDARY:
.PHONY: all deps check demo bench vmlinux clean install format fuzz FORCE

all: $(XWGP) $(BPF_OBJS) $(TEST_BINS) $(TOOL_BINS)

deps:
	$(Q)scripts/deps.sh

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# Agent and test objects include the skeletons, so build them first.
$(BUILD)/agent/%.o: agent/%.c | $(BUILD)/agent $(BPF_SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# The four-lane X25519 is ~1.13x faster at -O3 (its element loops fully
# unrolled into the ladder; bench_handshake, handshake.x25519_x4).
$(BUILD)/agent/x25519_x4.o: CFLAGS += -O3

$(AGENT_LIB): $(AGENT_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(XWGP): $(BUILD)/agent/main.o $(AGENT_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c tests/lib/test.h $(AGENT_LIB) | $(BPF_SKELS)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib $(LDFLAGS) $< $(AGENT_LIB) $(LDLIBS) -o $@

$(BUILD)/tools/%: tests/tools/%.c $(AGENT_LIB) | $(BPF_SKELS)
	$(call msg,TOOL,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib $(LDFLAGS) $< $(AGENT_LIB) $(LDLIBS) -o $@

$(BUILD) $(BUILD)/agent:
	$(Q)mkdir -p $@

$(BUILD)/bench/%.bpf.o: tests/bench/%.bpf.c $(BPF_HDRS) tests/bench/swap_tx.h | $(BUILD)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/%.skel.h: $(BUILD)/bench/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# The skeletons embed the BPF objects: a changed program relinks its driver.
$(BENCH_BINS): $(BUILD)/bench/%: tests/bench/%.c $(wildcard tests/bench/*.h) $(AGENT_LIB) \
		$(BPF_SKELS) $(BENCH_SKELS)
	$(call msg,BENCH,$@)
	$(Q)$(CC) $(CFLAGS) -I$(BUILD)/bench -Itests/bench -Itests/lib $(LDFLAGS) $< $(AGENT_LIB) $(LDLIBS) -o $@

$(BUILD)/bench:
	$(Q)mkdir -p $@

-include $(BENCH_BINS:=.d)

# make check T=PATTERN: only the matching suites (or SUITE/CASE), no deps step;
# make check T=--list: what PATTERN can name (tests/run.sh documents both).
ifeq ($(T),)
check: deps all
else
check: all
endif
	$(Q)$(SAN_ENV) BUILD=$(BUILD) tests/run.sh $(if $(T),'$(T)')

demo: deps all
	$(Q)BUILD=$(BUILD) tests/e2e/demo.sh

# BENCH_ARGS: e.g. "--json results.json" or "--only fastpath,memory" (tests/bench/run.sh -h).
bench: deps all $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) tests/bench/run.sh $(BENCH_ARGS)

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

format:
	clang-format -i $(wildcard agent/*.[ch] bpf/*.[ch] include/*.h tests/*/*.[ch])

# make install [DESTDIR=...] [PREFIX=/usr/local]: the binary, the BPF object
# (for inspection: the binary embeds it), the systemd units (ExecStart= points
# at $(BINDIR)), and example configs in $(SYSCONFDIR)/xwgp/ only where absent.
install: $(XWGP) $(BPF_OBJS)
	install -D -m 0755 $(XWGP) $(DESTDIR)$(BINDIR)/xwgp
	install -D -m 0644 $(BUILD)/xwgp.bpf.o $(DESTDIR)$(PREFIX)/lib/xwgp/xwgp.bpf.o
	install -d -m 0755 $(DESTDIR)$(SYSTEMD_UNITDIR)
	for u in dist/systemd/*.service; do \
		sed 's|@BINDIR@|$(BINDIR)|g' "$$u" >"$(DESTDIR)$(SYSTEMD_UNITDIR)/$${u##*/}.tmp" && \
		chmod 0644 "$(DESTDIR)$(SYSTEMD_UNITDIR)/$${u##*/}.tmp" && \
		mv "$(DESTDIR)$(SYSTEMD_UNITDIR)/$${u##*/}.tmp" "$(DESTDIR)$(SYSTEMD_UNITDIR)/$${u##*/}" || exit 1; \
	done
	install -d -m 0700 $(DESTDIR)$(SYSCONFDIR)/xwgp
	for c in server client; do \
		f="$(DESTDIR)$(SYSCONFDIR)/xwgp/example-$$c.json"; \
		[ -e "$$f" ] || install -m 0600 "examples/$$c.json" "$$f" || exit 1; \
	done

clean:
	rm -rf build build-san build-fuzz

-include $(AGENT_OBJS:.o=.d) $(BUILD)/agent/main.d $(TEST_BINS:=.d) $(TOOL_BINS:=.d)

# Fuzz harnesses: `make fuzz', and their corpus replays in every build.
include tests/fuzz/fuzz.mk
