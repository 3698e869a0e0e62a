# Thin wrapper around CMake. The two commands of the README:
#   make demo   install missing packages, build, replay the bundled traces
#   make test   install missing packages, build with -Werror, run every test
#               (plain build, then an ASan+UBSan build)
JOBS   ?= 2
BUILD  ?= build
FUZZ   ?= build-fuzz
FUZZ_SECONDS ?= 60
SAN    ?= build-san
CMAKE  ?= cmake

.PHONY: all deps build demo test test-plain test-san bench soak fuzz clean

all: build

deps:
	@sh scripts/deps.sh

build: deps
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMSIM_WERROR=ON
	$(CMAKE) --build $(BUILD) -j $(JOBS)

# A trace whose name says "panic" ends in a kernel panic: status 3.
demo: build
	@for t in traces/*.json; do \
	    echo "== $$t"; \
	    $(BUILD)/bin/vmsim replay "$$t"; rc=$$?; \
	    case "$$t" in *panic*) [ $$rc -eq 3 ] || exit 1 ;; *) [ $$rc -eq 0 ] || exit $$rc ;; esac; \
	done

test-plain: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-san: deps
	$(CMAKE) -S . -B $(SAN) -DCMAKE_BUILD_TYPE=Debug -DVMSIM_WERROR=ON \
	    -DVMSIM_ASAN=ON -DVMSIM_UBSAN=ON
	$(CMAKE) --build $(SAN) -j $(JOBS)
	ctest --test-dir $(SAN) --output-on-failure -j $(JOBS)

test: test-plain test-san

bench: deps
	$(CMAKE) -S . -B $(BUILD)-bench -DCMAKE_BUILD_TYPE=Release -DVMSIM_BUILD_BENCH=ON
	$(CMAKE) --build $(BUILD)-bench -j $(JOBS)
	$(CMAKE) --build $(BUILD)-bench --target bench

# millions of differential operations (VMSIM_SOAK_OPS, default 2 M)
soak: build
	$(CMAKE) --build $(BUILD) --target soak

# libFuzzer targets (docs/fuzzing.md), each run FUZZ_SECONDS, one after the
# other; needs clang and libclang-rt-14-dev. Crashes: $(FUZZ)/fuzz/artifacts/.
fuzz: deps
	@command -v clang >/dev/null || { echo "make fuzz needs clang: apt-get install clang libclang-rt-14-dev"; exit 1; }
	CC=clang $(CMAKE) -S . -B $(FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMSIM_FUZZ=ON
	$(CMAKE) --build $(FUZZ) -j $(JOBS) --target fuzz_targets
	sh tests/fuzz/run_fuzz.sh $(FUZZ) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(SAN) $(BUILD)-bench $(FUZZ)
