# xwgp — WireGuard port-multiplexing proxy with an XDP data path.
#
#   make            build BPF objects, skeletons and the xwgp binary
#   make check      install deps, build, run every test suite
#   make demo       install deps, build, run the end-to-end demo
#   make bench      install deps, build, run the benchmarks
#   make deps       install the Debian packages everything needs
#   make vmlinux    regenerate vmlinux/vmlinux.h from the running kernel
#   make SANITIZE=1 build the agent and tests with ASan+UBSan (in build-san/)
#   V=1             show full commands

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PREFIX ?= /usr/local

ifeq ($(SANITIZE),1)
BUILD ?= build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD ?= build
SAN_FLAGS :=
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
LDLIBS := -lxdp -lbpf -lelf -lz -lsodium -lcjson -lm

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

.DELETE_ON_ERROR:
# Keep generated skeletons: they are intermediates, and make would delete
# them after the build (printing after the test summary).
.SECONDARY:
.PHONY: all deps check demo bench vmlinux clean install format fuzz

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

check: deps all
	$(Q)BUILD=$(BUILD) tests/run.sh

demo: deps all
	$(Q)BUILD=$(BUILD) tests/e2e/demo.sh

bench: deps all
	$(Q)BUILD=$(BUILD) tests/bench/run.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

format:
	clang-format -i $(wildcard agent/*.[ch] bpf/*.[ch] include/*.h tests/*/*.[ch])

install: all
	install -D -m 0755 $(XWGP) $(DESTDIR)$(PREFIX)/bin/xwgp
	install -D -m 0644 $(BUILD)/xwgp.bpf.o $(DESTDIR)$(PREFIX)/lib/xwgp/xwgp.bpf.o

clean:
	rm -rf build build-san

-include $(AGENT_OBJS:.o=.d) $(BUILD)/agent/main.d
