# SPDX-License-Identifier: GPL-2.0
# Fuzz harnesses (tests/fuzz/fuzz_*.c), included by the top-level Makefile.
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="fuzz_handler fuzz_config"]
#       Build every harness with clang -fsanitize=fuzzer,address,undefined
#       against the agent compiled with the same flags (in $(FUZZ_BUILD)),
#       then run each for FUZZ_SECONDS on its corpus (tests/fuzz/run.sh).
#
# Every normal build also links each harness with tests/fuzz/replay_main.c
# into $(BUILD)/tests/fuzz/<harness>; `make check' runs them over their
# corpora once (tests/fuzz/replay.sh), so a crash ever found, kept in the
# corpus, stays fixed in every build, the sanitized one included.

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRCS))
FUZZ_REPLAY_BINS := $(patsubst %,$(BUILD)/tests/fuzz/%,$(FUZZ_NAMES))
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.PHONY: fuzz fuzz-bins

all: $(FUZZ_REPLAY_BINS)

$(BUILD)/tests/fuzz/%: tests/fuzz/%.c tests/fuzz/replay_main.c tests/fuzz/fuzz.h $(AGENT_LIB) \
		| $(BPF_SKELS)
	$(call msg,FUZZREP,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests/fuzz $(LDFLAGS) $< tests/fuzz/replay_main.c $(AGENT_LIB) \
		$(LDLIBS) -o $@

# libFuzzer binaries: only built in $(FUZZ_BUILD), by the sub-make below,
# where SAN_FLAGS instruments the agent library for coverage as well.
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(AGENT_LIB) | $(BPF_SKELS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests/fuzz -fsanitize=fuzzer $(LDFLAGS) $< $(AGENT_LIB) \
		$(LDLIBS) -o $@

fuzz-bins: $(patsubst %,$(BUILD)/fuzz/%,$(FUZZ_TARGETS))

fuzz: deps
	$(Q)$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(CLANG) \
		SAN_FLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" fuzz-bins
	$(Q)FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) \
		tests/fuzz/run.sh $(FUZZ_TARGETS)
