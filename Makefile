# Thin wrapper over CMake/ctest. `make demo` and `make test` work on a fresh
# Debian 12 machine: both first run scripts/setup.sh, which installs what is
# missing (idempotent; Debian packages and the npm registry only).
BUILD       ?= build
ASAN_BUILD  ?= build-asan
CLANG_BUILD ?= build-clang
FUZZ_BUILD  ?= build-fuzz
FUZZ_SECONDS ?= 20
JOBS        ?= $(shell nproc)
MAKEFLAGS   += --no-print-directory

.PHONY: all setup build build-clang test test-asan fuzz demo bench clean format images

all: build

setup:
	@scripts/setup.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: setup $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

# The suite runs on the gcc build; the clang build is compiled (not run) so a change that only one of the
# two compilers rejects fails `make test` too. Release (-O3) there: its flow analysis differs from -O2's.
# Then every fuzz target runs FUZZ_SMOKE_SECONDS from its committed corpus (ctest has replayed the corpora
# already): a target or harness that no longer builds or runs, or a finding, fails `make test`.
FUZZ_SMOKE_SECONDS ?= 5
test: build build-clang
	cd $(BUILD) && ctest --output-on-failure -j2 --timeout 600
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) FUZZ_TARGETS=

$(CLANG_BUILD)/CMakeCache.txt:
	CC=clang cmake -S . -B $(CLANG_BUILD) -DCMAKE_BUILD_TYPE=Release

build-clang: setup $(CLANG_BUILD)/CMakeCache.txt
	cmake --build $(CLANG_BUILD) -j$(JOBS)

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DRIPSTOP_SANITIZE=ON

# Every test's temp files (and so every child's log) go under ASAN_TMP, which is then scanned for
# sanitizer reports: a report in a grandchild's log (ripstop run's sidecars) fails the target too.
ASAN_TMP = $(abspath $(ASAN_BUILD))/tmp
test-asan: setup $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	rm -rf $(ASAN_TMP) && mkdir -p $(ASAN_TMP)
	cd $(ASAN_BUILD) && rc=0; TMPDIR=$(ASAN_TMP) ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp:print_suppressions=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j2 --timeout 900 -LE noasan || rc=1; \
		$(CURDIR)/scripts/sanitizer-reports.sh $(ASAN_TMP) || rc=1; exit $$rc

# libFuzzer targets (tests/fuzz/, docs/testing.md): clang with ASan+UBSan in $(FUZZ_BUILD)/, then each target for
# FUZZ_SECONDS from its committed corpus. FUZZ_TARGETS="cron cel" runs only those.
$(FUZZ_BUILD)/CMakeCache.txt:
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DRIPSTOP_SANITIZE=ON -DRIPSTOP_FUZZ=ON

fuzz: setup $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_all
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

demo: build
	$(BUILD)/ripstop demo $(DEMO_ARGS)

# The container image for Kubernetes (Dockerfile, docs/kubernetes.md): every binary in one image.
IMAGE ?= ripstop:1.0
images:
	@engine=$$(scripts/container-engine.sh) || { echo "make images: nothing built (see above)"; exit 1; }; \
		echo "make images: $$engine build -t $(IMAGE) ."; $$engine build -t $(IMAGE) .

bench: build
	@for b in $(BUILD)/bench/*; do [ -x "$$b" ] && "$$b"; done; true

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(CLANG_BUILD) $(FUZZ_BUILD)
