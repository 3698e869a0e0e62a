#!/bin/sh
# Run libvmsim's libFuzzer targets one after the other (docs/fuzzing.md).
#
#   sh tests/fuzz/run_fuzz.sh BUILD_DIR [SECONDS [TARGET...]]
#
# BUILD_DIR was configured with CC=clang -DVMSIM_FUZZ=ON and holds
# bin/fuzz_<target>. Each target runs SECONDS (default 60) in one process,
# seeded from tests/fuzz/corpus/<target>; what it learns goes to
# BUILD_DIR/fuzz/corpus/<target> (the source corpus is not touched) and a
# crash to BUILD_DIR/fuzz/artifacts/<target>/. A crashing target does not
# stop the others; the exit status is 1 if any crashed. Extra libFuzzer
# flags can come in FUZZ_FLAGS (e.g. FUZZ_FLAGS=-jobs=1).
set -u
build=${1:?usage: run_fuzz.sh BUILD_DIR [SECONDS [TARGET...]]}
seconds=${2:-60}
[ $# -ge 2 ] && shift 2 || shift $#
targets=${*:-json jsonl lackey vmtr gzip value}
src=$(cd "$(dirname "$0")" && pwd)
failed=""

for t in $targets; do
    bin=$build/bin/fuzz_$t
    if [ ! -x "$bin" ]; then
        echo "run_fuzz.sh: no $bin (configure with CC=clang -DVMSIM_FUZZ=ON and build)" >&2
        exit 2
    fi
    work=$build/fuzz/corpus/$t
    art=$build/fuzz/artifacts/$t
    mkdir -p "$work" "$art"
    max_len=65536
    [ "$t" = value ] && max_len=4096
    dict=""
    [ -f "$src/dict/$t.dict" ] && dict="-dict=$src/dict/$t.dict"
    echo "== fuzz_$t for ${seconds}s"
    # shellcheck disable=SC2086 # FUZZ_FLAGS and dict are word lists
    "$bin" -max_total_time="$seconds" -max_len=$max_len -timeout=30 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$art/" $dict ${FUZZ_FLAGS:-} \
        "$work" "$src/corpus/$t"
    rc=$?
    # 72: libFuzzer's exit status when interrupted (SIGINT), not a crash
    if [ $rc -eq 72 ]; then
        echo "run_fuzz.sh: fuzz_$t interrupted" >&2
    elif [ $rc -ne 0 ]; then
        failed="$failed $t"
    fi
done
if [ -n "$failed" ]; then
    echo "run_fuzz.sh: crashed:$failed (inputs in $build/fuzz/artifacts/)" >&2
    exit 1
fi
