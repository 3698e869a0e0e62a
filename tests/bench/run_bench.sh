#!/bin/sh
# run_bench.sh BINDIR SHARED_BENCH_DIR DATADIR -- the driver behind `make bench`.
#
# 1. Generates the standard traces with tracegen into DATADIR (kept between
#    runs; regenerated when tracegen is rebuilt): zipf (1 M pages, alpha
#    0.99), seq (200 k pages), uniform (1 M pages), seed 42, 10 M references
#    (1 M with BENCH_QUICK=1).
# 2. Checks refmodel.c (refcheck) against refsim.py on the first 200 000
#    references of each trace, every policy, 1/10/50 % (skip with
#    BENCH_VALIDATE=0, or when python3 is missing; seq: 600 000 refs).
# 3. Runs every benchmark, one process each, one after the other (never two
#    at once): policy replay, the TLB-hit loop, host memory (machine sizes,
#    bytes per resident page, address-space spread), the trace readers
#    (JSON, JSON Lines, lackey: end to end, then parse only) and the
#    one-pass fault curves; prints one table; DATADIR/results.txt keeps a
#    copy.
#
# Environment: BENCH_QUICK=1 (short traces and loops, for development),
# BENCH_RUNS=N (median of N runs; default 3, create/destroy 5),
# BENCH_VALIDATE=0, BENCH_POLICIES="lru opt" and BENCH_TRACES="zipf" to run
# a subset. Exit status 1 if any count check failed (a fast wrong answer),
# 0 otherwise; missed performance targets are reported, not failed.
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 BINDIR SHARED_BENCH_DIR DATADIR" >&2
    exit 2
fi
bin=$1
shared=$2
data=$3
mkdir -p "$data" || exit 1
status_file=$data/.status
echo 0 >"$status_file"

fail() {
    echo 1 >"$status_file"
}

quick=${BENCH_QUICK:-0}
[ "$quick" = "" ] && quick=0
if [ "$quick" != 0 ]; then nref=1000000; else nref=10000000; fi
policies=${BENCH_POLICIES:-"fifo lru clock opt"}
traces=${BENCH_TRACES:-"zipf seq uniform"}

# tracegen parameters of the standard set: pages, alpha
trace_args() {
    case $1 in
    zipf) echo "1000000 0.99" ;;
    seq) echo "200000 0" ;;
    uniform) echo "1000000 0" ;;
    *) echo "run_bench.sh: unknown trace $1" >&2; return 1 ;;
    esac
}

gen_trace() {
    kind=$1
    prefix=$data/$kind-$nref
    # kept unless missing or older than the tracegen that made them
    if [ -s "$prefix.oracleGeneral.bin" ] && [ -s "$prefix.info" ] &&
        [ -z "$(find "$bin/tracegen" -newer "$prefix.info")" ]; then
        return 0
    fi
    args=$(trace_args "$kind") || return 1
    # shellcheck disable=SC2086 # two words: pages, alpha
    set -- $args
    echo "generating $kind: tracegen $kind $nref $1 $2 42 $prefix"
    "$bin/tracegen" "$kind" "$nref" "$1" "$2" 42 "$prefix" >"$prefix.info.tmp" &&
        mv "$prefix.info.tmp" "$prefix.info"
}

validate() {
    if [ "${BENCH_VALIDATE:-1}" = 0 ]; then
        echo "reference model check: skipped (BENCH_VALIDATE=0)"
        return 0
    fi
    if ! command -v python3 >/dev/null 2>&1; then
        echo "reference model check: skipped (no python3 for refsim.py)"
        return 0
    fi
    agree=0
    total=0
    for kind in $traces; do
        # 200 000 refs; the loop over 200 k pages needs three laps to say much
        n=200000
        [ "$kind" = seq ] && n=600000
        txt=$data/$kind-$nref.txt
        ws=$(head -n $n "$txt" | sort -u | wc -l)
        sizes="1,$((ws / 100)),$((ws / 10)),$((ws / 2))"
        for pol in lru fifo opt clock1; do
            a=$(python3 "$shared/refsim.py" "$txt" $pol "$sizes" $n) || a="refsim failed"
            b=$("$bin/refcheck" "$txt" $pol "$sizes" $n) || b="refcheck failed"
            total=$((total + 1))
            if [ "$a" = "$b" ]; then
                agree=$((agree + 1))
            else
                echo "MISMATCH $kind $pol (first $n refs, sizes $sizes):"
                echo "  refsim.py: $a"
                echo "  refcheck:  $b"
                fail
            fi
        done
    done
    echo "reference model check: refmodel.c agrees with refsim.py on $agree of $total" \
        "(trace, policy) pairs, 4 sizes each (1 frame, 1/10/50 % of the prefix's working" \
        "set), first 200 000 refs (seq: 600 000)"
}

main() {
    cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')
    mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
    echo "== libvmsim benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "   host: $(nproc) CPUs, ${cpu:-unknown CPU}, $mem RAM; load average:" \
        "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
    echo "   refs per trace: $nref; runs per figure: ${BENCH_RUNS:-3} (median)"
    echo
    for kind in $traces; do
        gen_trace "$kind" || { echo "tracegen failed for $kind"; fail; return; }
    done
    for kind in $traces; do
        echo "   $kind: $(tr '\n' ' ' <"$data/$kind-$nref.info")"
    done
    echo
    validate
    echo

    echo "== 1. policy replay: one process, pages of one anonymous region, textbook profile"
    echo "   faults = minflt + majflt, checked against refmodel.c; Mrefs/s = median [min-max]"
    echo "   with one vmsim_access per reference, batch = the same 4096 at a time through"
    echo "   vmsim_access_batch (runs alternate); refmodel = the plain C reference model's"
    echo "   speed on the same trace (no simulator); peak = ru_maxrss of the process"
    echo "   (includes the trace in memory), mach = RSS growth of the simulated machine;"
    echo "   target in Mrefs/s (issue 8), verdict of the better of the two"
    printf '%-7s %-6s %4s %7s %9s %9s %-5s %6s %13s %6s %13s %7s %5s %5s %4s  %s\n' \
        trace policy limit frames refs faults check Mrefs/s "[min-max]" batch "[min-max]" \
        refmodel peak mach tgt verdict
    for kind in $traces; do
        for pct in 1 10 50; do
            for pol in $policies; do
                "$bin/bench_policy" "$data/$kind-$nref" "$kind" "$pol" "$pct" || fail
            done
        done
    done
    echo

    echo "== 2. TLB-hit loop (profile linux, TLB on; 16 pages, read round-robin)"
    "$bin/bench_tlb" || fail
    echo

    echo "== 3. host memory and simulated machine size (profile linux; each line a fresh process)"
    for gib in 64 1 8 256; do
        "$bin/bench_machine" create $gib || fail
    done
    "$bin/bench_machine" resident || fail
    echo "scaling with address-space spread (16 384 resident pages):"
    "$bin/bench_machine" spread || fail
    echo

    echo "== 4. trace readers: vmsim_replay of generated traces, end to end, then parse only"
    echo "   (textbook, lru, resident_limit 2048 pages; faults checked; peak RSS must stay"
    echo "   flat in trace length for the streaming readers: jsonl and lackey run twice)"
    "$bin/bench_trace" json "$data/bench-trace.json" || fail
    "$bin/bench_trace" jsonl "$data/bench-trace.jsonl" $((nref / 100)) || fail
    "$bin/bench_trace" jsonl "$data/bench-trace.jsonl" $((nref / 10)) || fail
    "$bin/bench_trace" lackey "$data/bench-trace.lackey" $((nref / 10)) || fail
    "$bin/bench_trace" lackey "$data/bench-trace.lackey" "$nref" || fail
    "$bin/bench_trace" lackey-hits "$data/bench-trace.lackey" "$nref" || fail
    echo "   parse only: the internal reader alone (vmsim__reader_open/next, no machine);"
    echo "   events counted by op and address sum against the generator's"
    "$bin/bench_trace" parse json "$data/bench-trace.json" $((nref / 10)) || fail
    "$bin/bench_trace" parse jsonl "$data/bench-trace.jsonl" $((nref / 100)) || fail
    "$bin/bench_trace" parse jsonl "$data/bench-trace.jsonl" $((nref / 10)) || fail
    "$bin/bench_trace" parse lackey "$data/bench-trace.lackey" $((nref / 10)) || fail
    "$bin/bench_trace" parse lackey "$data/bench-trace.lackey" "$nref" || fail
    rm -f "$data/bench-trace.json" "$data/bench-trace.jsonl" "$data/bench-trace.lackey"
    echo

    echo "== 5. one-pass fault curves (streaming builder, every size at once; target: LRU;"
    echo "   OPT on the first tenth of each trace: its one pass is far slower on uniform)"
    for kind in $traces; do
        "$bin/bench_curve" "$data/$kind-$nref" "$kind" lru || fail
        "$bin/bench_curve" "$data/$kind-$nref" "$kind" opt $((nref / 10)) || fail
    done
    echo
    echo "   load average at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
}

main 2>&1 | tee "$data/results.txt"
status=$(cat "$status_file")
if [ "$status" != 0 ]; then
    echo "make bench: some count checks FAILED (see above)"
fi
exit "$status"
