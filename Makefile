# tacnet build.
#   make                              build every binary into $(BUILD)/bin
#   make test                         unit + integration tests (Criterion)
#   make SANITIZE=address,undefined test
#                                     the same under ASan+UBSan, in its own build dir;
#                                     a LeakSanitizer report fails the run
#   make test-browser                 headless Chromium through the dashboard (tests/browser),
#                                     then the FHIR view against the FHIR R4 JSON schema
#   make run                          provision, start broker + five agencies, play the scenario
#   make bench                        optimised build in build/bench, every benchmark scenario
#                                     three times, bench/results/<date>.{json,md}
#                                     (BENCH_QUICK=1: tiny sizes, one run)
#   make test-ha                      two brokers on a three-server NATS cluster: kill -9, partition
#   make run-ha                       make run with replicated brokers (scripts/run-ha.sh)
#   make test-reliability [REL_SIZE=large] [REL_SEED=n]
#                                     reliability and security suite (tests/reliability, T01-T32)
#                                     with fuzzing; ends with a summary table
#   make fuzz [FUZZ_SECONDS=n]        libFuzzer targets (tests/fuzz), each for FUZZ_SECONDS
#   make test-valgrind                unit tests and short T01/T13 runs (broker and daemons too)
#                                     under valgrind (scripts/valgrind.sh)
#   make install [PREFIX=/usr/local] [DESTDIR=dir]
#                                     binaries, data, systemd units, libtacnet-client (.so,
#                                     headers, tacnet-client.pc); make test-install checks it
#   make format | format-check | clean
# Each target first makes sure the Debian packages it needs are installed (scripts/deps.sh with
# the target's set: `make` only the build dependencies, `make test` Criterion and the Python
# example's, `make bench` mosquitto, ...). `scripts/deps.sh all` installs everything.
.SUFFIXES:
comma    := ,
SANITIZE ?=
ifeq ($(SANITIZE),)
  BUILD  ?= build/default
  OPT    ?= -O2 -g
else
  BUILD  ?= build/san-$(subst $(comma),-,$(SANITIZE))
  OPT    ?= -O1 -g -fno-omit-frame-pointer
  SAN    := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
endif
ifneq ($(FAULT),)
  BUILD  := $(BUILD)-fault
  CPPFLAGS += -DTACNET_FAULT=1
endif
WERROR   ?= -Werror
WARN     := -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wvla -Wpointer-arith -Wundef
CPPFLAGS += -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Icommon -Iservices \
            -isystem $(BUILD)/gen -MMD -MP
CFLAGS   += -std=c11 $(WARN) $(OPT) $(SAN)
LDFLAGS  += $(SAN)
LDLIBS   := -lzmq -lprotobuf-c -llmdb -lsodium -lmicrohttpd -ljansson -linih -lm
# NATS (the broker's replicated journal): the broker, and what links its library.
NATS_LIBS := $(shell pkg-config --libs libnats 2>/dev/null || echo -lnats)

BIN      := $(BUILD)/bin
PROTOS   := $(wildcard proto/*.proto)
GEN_C    := $(PROTOS:proto/%.proto=$(BUILD)/gen/%.pb-c.c)
GEN_H    := $(GEN_C:.c=.h)
LIBTACNET := $(BUILD)/libtacnet.a
COMMON_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard common/*.c)) $(GEN_C:.c=.o)

# Service libraries: everything in services/<s>/ except main.c, so tests can link them.
SERVICES := $(foreach d,$(notdir $(wildcard services/*)),$(if $(filter-out services/$(d)/main.c,$(wildcard services/$(d)/*.c)),$(d)))
svc_lib   = $(BUILD)/services/$(1)/lib$(1).a
svc_objs  = $(patsubst %.c,$(BUILD)/%.o,$(filter-out services/$(1)/main.c,$(wildcard services/$(1)/*.c)))
SVC_LIBS := $(foreach s,$(SERVICES),$(call svc_lib,$(s)))

# Binaries: name, service dir, extra service libraries it links.
# generic: tacnet-agency, the daemon for any agency the roster declares with the generic profile.
AGENCIES := camhs school health_visiting social_care generic
bin_broker          := tacnet-broker
bin_camhs           := tacnet-camhs
bin_school          := tacnet-school
bin_health_visiting := tacnet-hv
bin_social_care     := tacnet-social-care
bin_generic         := tacnet-agency
bin_cli             := tacnet
extra_broker        := casework
ldlibs_broker       := $(NATS_LIBS)
extra_cli           := client casework
$(foreach a,$(AGENCIES),$(eval extra_$(a) := agencyd agency dashboard casework))
BINARIES := $(foreach s,broker cli $(AGENCIES),$(if $(wildcard services/$(s)/main.c),$(s)))
ALL_BINS := $(foreach s,$(BINARIES),$(BIN)/$(bin_$(s)))

TEST_SRC := $(wildcard tests/unit/test_*.c tests/integration/test_*.c tests/fuzz/test_*.c)
TESTS    := $(TEST_SRC:%.c=$(BUILD)/%)
REL_SRC  := $(wildcard tests/reliability/test_*.c)
REL_TESTS := $(REL_SRC:%.c=$(BUILD)/%)
HA_SRC   := $(wildcard tests/ha/test_*.c)
HA_TESTS := $(HA_SRC:%.c=$(BUILD)/%)
# The test support library (tests/support): the integration harness, the reliability
# producers and checker, fixtures and the fuzz targets, linked by every test program and the
# benchmark. check_criterion.o, linked into the Criterion programs only, makes a failed check
# fail the running test; the benchmark installs its own hook instead.
SUPPORT_SRC := $(filter-out tests/support/check_criterion.c,$(wildcard tests/support/*.c))
SUPPORT_LIB := $(BUILD)/tests/support/libsupport.a
CR_HOOK     := $(BUILD)/tests/support/check_criterion.o
DEPS     := $(patsubst %.c,$(BUILD)/%.d,$(wildcard common/*.c services/*/*.c tests/support/*.c) \
              $(TEST_SRC) $(REL_SRC) $(HA_SRC))

all: deps-build $(ALL_BINS)

# deps-<set>: scripts/deps.sh <set>, at most once per make. Objects name their set as an
# order-only prerequisite, so nothing compiles before its headers are installed, even with -j.
DEP_SETS := build run test format browser bench fuzz valgrind reliability
$(foreach s,$(DEP_SETS),$(eval deps-$(s): ; @scripts/deps.sh $(s)))
deps: deps-build

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: proto/%.proto | deps-build
	@mkdir -p $(@D)
	protoc-c --c_out=$(@D) -Iproto $<

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c | $(GEN_H)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# The generated headers are real prerequisites: -MMD leaves -isystem headers out of the .d
# files, so a changed .proto would otherwise leave stale objects with the old struct layouts.
$(BUILD)/%.o: %.c $(GEN_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIBTACNET): $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

define service_rules
$(call svc_lib,$(1)): $(call svc_objs,$(1))
	@mkdir -p $$(@D)
	@rm -f $$@
	$$(AR) rcs $$@ $$^
endef
$(foreach s,$(SERVICES),$(eval $(call service_rules,$(s))))

define binary_rules
$(BIN)/$(bin_$(1)): $(BUILD)/services/$(1)/main.o $(call svc_lib,$(1)) $(foreach e,$(extra_$(1)),$(call svc_lib,$(e))) $(LIBTACNET)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$< -Wl,--start-group $$(filter %.a,$$^) -Wl,--end-group $$(LDLIBS) $$(ldlibs_$(1))
endef
$(foreach s,$(BINARIES),$(eval $(call binary_rules,$(s))))

$(BUILD)/tests/%.o $(BUILD)/bench/%.o: CPPFLAGS += -Itests/support
$(TESTS:=.o) $(REL_TESTS:=.o) $(HA_TESTS:=.o) $(CR_HOOK): | deps-test

$(SUPPORT_LIB): $(SUPPORT_SRC:%.c=$(BUILD)/%.o)
	@rm -f $@
	$(AR) rcs $@ $^

# Tests link every service library (hence the service prefixes on non-static names).
$(TESTS) $(REL_TESTS) $(HA_TESTS): %: %.o $(CR_HOOK) $(SUPPORT_LIB) $(SVC_LIBS) $(LIBTACNET)
	$(CC) $(LDFLAGS) -o $@ $< $(CR_HOOK) -Wl,--start-group $(SUPPORT_LIB) $(SVC_LIBS) \
	    $(LIBTACNET) -Wl,--end-group $(LDLIBS) $(NATS_LIBS) -lcriterion

# Criterion runs each test in its own process. A LeakSanitizer report from a test that
# otherwise passed does not fail it, so each log is checked too. Integration tests start
# the real binaries from TACNET_BIN; their logs land in the test's temp dir and are
# checked by the test's teardown. Criterion does not fail a test for a check that fails in its
# suite's .fini (where the harness stops the daemons and reads their sanitizer reports), so any
# "Assertion Failed" in a log fails the run too.
CRITERION_FLAGS := --jobs 1 --timeout 300
export TACNET_BIN = $(abspath $(BIN))
export TACNET_SRC = $(CURDIR)
export TACNET_SANITIZE = $(SANITIZE)
test: deps-test all $(TESTS)
	@fail=0; for t in $(TESTS); do \
	    $$t $(CRITERION_FLAGS) >$$t.log 2>&1 || { fail=1; echo "FAILED: $$t"; }; \
	    grep -E '^\[(====|FAIL|----)\]|SKIPPED' $$t.log | grep -v '^\[----\] *$$' || true; \
	    if grep -q 'ERROR: LeakSanitizer' $$t.log; then echo "LEAK: $$t"; fail=1; fi; \
	    if grep -q 'Assertion Failed' $$t.log; then echo "FAILED CHECK: $$t"; fail=1; fi; \
	    if [ $$fail = 1 ]; then tail -40 $$t.log; fi; \
	done; \
	if [ $$fail = 0 ]; then echo "make test: all passed ($(BUILD))"; fi; exit $$fail

run: deps-run all
	@scripts/run-local.sh $(BIN)

# Debian's Chromium driven by playwright-core (pinned in tests/browser/package-lock.json);
# screenshots land in $(BUILD)/../browser (build/browser).
test-browser: deps-browser all
	cd tests/browser && npm ci --no-audit --no-fund
	TACNET_BIN=$(abspath $(BIN)) node tests/browser/dashboard.test.js
	TACNET_BIN=$(abspath $(BIN)) node tests/browser/fhir.test.js

# Benchmarks (bench/README.md). The bench program reuses the integration harness from the
# test support library, outside Criterion, and links every service library like the tests do.
BENCH_SRC := $(wildcard bench/*.c)
BENCH_OBJ := $(BENCH_SRC:%.c=$(BUILD)/%.o)
$(BENCH_OBJ): | deps-bench
$(BUILD)/bench/tacnet-bench: $(BENCH_OBJ) $(SUPPORT_LIB) $(SVC_LIBS) $(LIBTACNET) \
                             $(BUILD)/bench/libnoflush.so
	$(CC) $(LDFLAGS) -o $@ $(BENCH_OBJ) -Wl,--start-group $(SUPPORT_LIB) $(SVC_LIBS) \
	    $(LIBTACNET) -Wl,--end-group $(LDLIBS) $(NATS_LIBS) -lmosquitto
# The e2e scenario's no-flush diagnostic preloads this into a throwaway world (the file says why).
$(BUILD)/bench/libnoflush.so: bench/tools/noflush.c
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARN) -O2 -fPIC -shared -o $@ $< -ldl
bench: deps-bench
	$(MAKE) --no-print-directory BUILD=build/bench OPT="-O2 -DNDEBUG" all build/bench/bench/tacnet-bench
	scripts/bench.sh build/bench

# Reliability suite (the README's Reliability section). REL_SIZE=ci fits CI (about 10 minutes
# on two cores); REL_SIZE=large uses the suite's full sizes. Both print and write the summary
# table to $(BUILD)/reliability-summary.txt.
REL_SIZE     ?= ci
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BUILD   := $(BUILD)/fuzz
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_CC      ?= clang
FUZZ_CFLAGS  := -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=all -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
                -DTACNET_NO_FAULT -Icommon -Iservices -isystem $(BUILD)/gen
# The decoders and what they call: libtacnet and the agency core with the four profiles.
FUZZ_SRC     := $(wildcard common/*.c) \
                $(wildcard services/agency/*.c) \
                $(wildcard services/casework/*.c services/dashboard/*.c) \
                $(foreach a,$(AGENCIES),services/$(a)/profile.c)
FUZZ_OBJ     := $(FUZZ_SRC:%.c=$(FUZZ_BUILD)/%.o) $(GEN_C:$(BUILD)/gen/%.c=$(FUZZ_BUILD)/gen/%.o) \
                $(FUZZ_BUILD)/tests/support/fuzz_targets.o

$(FUZZ_OBJ): | deps-fuzz
$(FUZZ_BUILD)/gen/%.o: $(BUILD)/gen/%.c | $(GEN_H)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ_BUILD)/%.o: %.c $(GEN_H)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/support/fuzz_targets.h $(FUZZ_OBJ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Itests/support -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LDLIBS)

fuzz-build: deps-fuzz all $(FUZZ_BINS)

fuzz: fuzz-build
	@scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

test-reliability: deps-reliability all $(REL_TESTS) fuzz-build
	@scripts/reliability.sh $(REL_SIZE) $(BUILD) $(REL_TESTS) -- $(FUZZ_BINS)

# Broker failover on a NATS JetStream cluster (tests/ha/test_ha.c): one `HA: ...` line.
test-ha: deps-test all $(HA_TESTS)
	@command -v nats-server >/dev/null || { echo "test-ha: SKIPPED: nats-server is not installed (scripts/deps.sh test)"; exit 0; }
	@for t in $(HA_TESTS); do $$t --jobs 1 >$$t.log 2>&1 || { tail -60 $$t.log; exit 1; }; \
	    grep -E '^HA:|SKIPPED' $$t.log; done

run-ha: deps-run deps-test all
	@scripts/run-ha.sh $(BIN)

# Reliability T23: valgrind over the unit tests and short T01/T13 runs, the daemons they start
# included (TACNET_WRAP in the harness). Slow; not part of .ci/run.
test-valgrind: deps-valgrind all $(TESTS) $(REL_TESTS)
	@scripts/valgrind.sh $(BUILD)


# libtacnet-client as a shared library for agency systems: the client, the error names and the
# generated API messages, compiled position-independent in a build dir of their own.
CLIENT_SO_VER := 0
CLIENT_SO     := $(BUILD)/lib/libtacnet-client.so.$(CLIENT_SO_VER)
CLIENT_PIC    := $(patsubst %.c,$(BUILD)/pic/%.o,services/client/client.c common/err.c) \
                 $(GEN_C:$(BUILD)/gen/%.c=$(BUILD)/pic/gen/%.o)
$(BUILD)/pic/gen/%.o: $(BUILD)/gen/%.c | $(GEN_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -c $< -o $@
$(BUILD)/pic/%.o: %.c $(GEN_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -c $< -o $@
$(CLIENT_SO): $(CLIENT_PIC)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libtacnet-client.so.$(CLIENT_SO_VER) -o $@ $^ \
	    -lzmq -lprotobuf-c
client-shared: $(CLIENT_SO)
# The shared library is part of every build (agency systems link it; test_install uses it).
# all's own prerequisite list is read before CLIENT_SO is defined (so expands empty there).
all: $(CLIENT_SO)

# make install [PREFIX=/usr/local] [DESTDIR=...]: binaries, shared data, the systemd units (their
# paths rewritten for PREFIX), and libtacnet-client with its headers and pkg-config file.
# make test-install runs tests/integration/test_install (make test runs it too): it installs into
# a scratch DESTDIR, builds the C example with pkg-config and runs it against a live daemon, and
# verifies the units with systemd-analyze.
PREFIX ?= /usr/local
install: all
	@scripts/install.sh "$(BUILD)" "$(DESTDIR)" "$(PREFIX)" "$(CLIENT_SO_VER)"
INSTALL_TEST := $(BUILD)/tests/integration/test_install
test-install: deps-test all $(INSTALL_TEST)
	@$(INSTALL_TEST) $(CRITERION_FLAGS) >$(INSTALL_TEST).log 2>&1 || { tail -40 $(INSTALL_TEST).log; exit 1; }; \
	    grep -E '^\[(====|FAIL)\]|SKIPPED' $(INSTALL_TEST).log

FMT_SRC := $(wildcard common/*.[ch] services/*/*.[ch] tests/*/*.[ch] bench/*.[ch] bench/tools/*.c)
format: deps-format
	clang-format -i $(FMT_SRC)
format-check: deps-format
	clang-format --dry-run --Werror $(FMT_SRC)

clean:
	rm -rf build

# The dashboard's static files are linked in with .incbin (services/dashboard/assets.c).
$(BUILD)/services/dashboard/assets.o: $(wildcard services/dashboard/assets/*)

.PHONY: all deps $(DEP_SETS:%=deps-%) install test-install client-shared test test-browser test-reliability test-ha run-ha test-valgrind fuzz fuzz-build run bench format format-check clean
.SECONDARY:
-include $(DEPS) $(BENCH_SRC:%.c=$(BUILD)/%.d)
