#!/bin/sh
# fidelity.sh -- print docs/fidelity.md's table: each number Linux shows in
# an experiment of the book's chapter 5 (as the trace in traces/ states it)
# against the number libvmsim produces now.
#
#   sh scripts/fidelity.sh [path/to/vmsim]     (default: build/bin/vmsim)
#
# Every libvmsim number below is produced by replaying a trace, never
# copied: for a row backed by an `expect` of a trace, the expected value is
# swapped for an impossible one in a temporary copy of the trace, and the
# value the simulator really had is read from the failed check's message
# ("expected 4242424242, got N"); for other rows it is read from the
# `vmsim replay --json` summary. The Linux column is the value the trace
# states (its expect, or a phrase of its "why" that must be found there),
# so a trace and this table cannot drift apart.
#
# Exit status: 0, or 1 if a trace could not be replayed or a value was not
# found (the table then shows "?").
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
vmsim=${1:-$here/build/bin/vmsim}
traces=$here/traces
tmp=${TMPDIR:-/tmp}/vmsim-fidelity.$$
SENTINEL=4242424242
status=0

if [ ! -x "$vmsim" ]; then
    echo "fidelity.sh: $vmsim: no such program (build first: make, or cmake --build build)" >&2
    exit 1
fi
mkdir "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# Scale a byte count to the unit a trace's value uses ("2056KiB" -> KiB).
scale() { # bytes unit-example
    awk -v b="$1" -v u="$2" 'BEGIN {
        if (u ~ /GiB"?$/) printf "%gGiB", b / 1073741824
        else if (u ~ /MiB"?$/) printf "%gMiB", b / 1048576
        else if (u ~ /KiB"?$/) printf "%gKiB", b / 1024
        else if (u ~ /p"?$/) printf "%gp", b / 4096
        else printf "%s", b
    }'
}

# An expect-backed row: the value of KEY in the one line of TRACE that
# contains CONTEXT (which holds "KEY": VALUE).
#   expect TRACE SOURCE LABEL KEY CONTEXT
expect() {
    trace=$traces/$1.json source=$2 label=$3 key=$4 context=$5
    got="?"
    nlines=$(grep -cF -- "$context" "$trace")
    linux=$(printf '%s\n' "$context" | awk -v k="\"$key\": " '{
        i = index($0, k); if (i == 0) exit
        v = substr($0, i + length(k)); sub(/[,}].*/, "", v); print v }')
    if [ "$nlines" != 1 ] || [ -z "$linux" ]; then
        echo "fidelity.sh: $1: context not found exactly once: $context" >&2
        status=1
    else
        awk -v c="$context" -v k="\"$key\": " -v s="$SENTINEL" '{
            i = index($0, c)
            if (i > 0) {
                j = index(substr($0, i), k) + i - 1
                rest = substr($0, j + length(k))
                match(rest, /^("[^"]*"|[-0-9a-zA-Z.]+)/)
                $0 = substr($0, 1, j - 1) k s substr(rest, RLENGTH + 1)
            }
            print }' "$trace" > "$tmp/t.json"
        "$vmsim" replay "$tmp/t.json" > /dev/null 2> "$tmp/err"
        rc=$?
        line=$(grep -F "$key: expected $SENTINEL" "$tmp/err" | head -n 1)
        n=$(printf '%s\n' "$line" | sed -n "s/.*expected $SENTINEL[^,]*, got \\([0-9][0-9]*\\).*/\\1/p")
        if [ "$rc" -ne 1 ] || [ -z "$n" ]; then
            echo "fidelity.sh: $1: no value for $key (status $rc)" >&2
            cat "$tmp/err" >&2
            status=1
        else
            case $line in
            *"$SENTINEL bytes"*) got=$(scale "$n" "$linux") ;;
            *) got=$n ;;
            esac
        fi
    fi
    linux=$(printf '%s' "$linux" | tr -d '"')
    printf '| %s | %s | %s | %s | %s |\n' "$1" "$label" "$linux" "$source" "$got"
}

# A field of a `vmsim replay --json` summary: pid:N:FIELD, vmstat:NAME,
# meminfo:NAME, time_ns or panic.
field() { # json-file spec
    awk -v spec="$2" '
        BEGIN { n = split(spec, s, ":"); split("", obj) }
        function val(line,   v) { v = line; sub(/^[^:]*: /, "", v); sub(/,$/, "", v)
                                 gsub(/"/, "", v); return v }
        function key(line,   k) { k = line; sub(/^ *"/, "", k); sub(/": .*/, "", k); return k }
        /^  "[^"]*": [[{]/ { sect = key($0); next }
        /^  "[^"]*": / { if (s[1] == key($0)) print val($0); next }
        sect == "processes" && /^      "/ { obj[key($0)] = val($0); next }
        sect == "processes" && /^    }/ { if (s[1] == "pid" && obj["pid"] == s[2]) print obj[s[3]]
                                         split("", obj); next }
        (sect == "vmstat" || sect == "meminfo") && /^    "/ {
            if (s[1] == sect && s[2] == key($0)) print val($0) }' "$1"
}

# A row read from the final --json summary of a replay.
#   summary TRACE SOURCE LABEL LINUX-TEXT SPEC [OVERRIDES...]
# LINUX-TEXT must occur in the trace (its "why" says it), or be "-".
summary() {
    trace=$traces/$1.json id=$1 source=$2 label=$3 linux=$4 spec=$5
    shift 5
    if [ "$linux" != "-" ] && ! grep -qF -- "$linux" "$trace"; then
        echo "fidelity.sh: $id: \"$linux\" is not in the trace" >&2
        status=1
    fi
    "$vmsim" replay --json "$trace" "$@" > "$tmp/out.json" 2> /dev/null
    rc=$?
    got=$(field "$tmp/out.json" "$spec")
    if [ "$rc" -eq 2 ] || [ "$rc" -eq 4 ] || [ -z "$got" ]; then
        echo "fidelity.sh: $id: replay failed (status $rc) or no $spec" >&2
        status=1
        got="?"
    fi
    printf '| %s | %s | %s | %s | %s |\n' "$id" "$label" "$linux" "$source" "$got"
}

# fork()'s simulated time: the trace replayed with every cost but fork_pte
# set to 0, as is (THP) and with --thp never (4 KiB pages).
forktime() { # TRACE LABEL LINUX-TEXT
    zero='{"tlb_hit":0,"walk_level":0,"minor_fault":0,"zero_page":0,"copy_page":0,"major_fault":0,"file_read":0,"swap_out":0,"writeback":0}'
    if ! grep -qF -- "$3" "$traces/$1.json"; then
        echo "fidelity.sh: $1: \"$3\" is not in the trace" >&2
        status=1
    fi
    "$vmsim" replay --json "$traces/$1.json" --latency-ns "$zero" > "$tmp/a.json" 2> /dev/null
    "$vmsim" replay --json "$traces/$1.json" --latency-ns "$zero" --thp never \
        > "$tmp/b.json" 2> /dev/null
    a=$(field "$tmp/a.json" time_ns)
    b=$(field "$tmp/b.json" time_ns)
    if [ -z "$a" ] || [ -z "$b" ] || [ "$a" -eq 0 ]; then
        got="?"
        status=1
    else
        got=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%g us against %g us (%gx)", b / 1000, a / 1000, b / a }')
    fi
    printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "measured" "$got"
}

echo "| trace | what | Linux | source | libvmsim |"
echo "|---|---|---|---|---|"
expect free measured "100 MiB written: AnonPages" AnonPages '"rss": "100MiB", "meminfo": {"AnonPages": "100MiB"'
expect free measured "100 MiB file read: page cache (Cached)" Cached '"majflt": 0, "meminfo": {"Cached": "100MiB"}'
summary oom rule "OOM: the process with the highest badness dies first" "pid 3 dies" pid:3:oom_killed
summary oom rule "OOM kills in all" "pid 4 and then pid 2" vmstat:oom_kill
summary panic-on-oom rule "vm.panic_on_oom=1: the kernel panics" "panic_on_oom" panic
expect virtual-addresses measured "one address in two processes: frames (AnonPages)" AnonPages '"meminfo": {"AnonPages": "8KiB"}'
summary segv rule "NULL dereference: signal" SIGSEGV pid:1:signal
summary segv rule "NULL dereference: si_code" SEGV_MAPERR pid:1:si_code
summary segv rule "non-canonical address: si_code" SI_KERNEL pid:3:si_code
expect mmap measured "mmap() of 100 MiB: VmSize" vmsize '"vmsize": "100MiB", "rss": 0'
expect mmap measured "mmap() of 100 MiB: VmRSS" rss '"vmsize": "100MiB", "rss": 0'
expect malloc rule "first malloc(): heap size (glibc)" vmsize '"errno": 0, "rss": "4KiB", "vmsize": "132KiB"'
expect malloc rule "malloc(1 MiB) before use: VmRSS" rss '"rss": "8KiB", "vmsize": "1160KiB"'
expect filemap rule "first read of a mapped cold file: major faults" majflt '"majflt": 1'
expect demand-paging measured "write 100 MiB, one byte a page: minor faults" minflt '"minflt": 25600, "majflt": 0'
expect demand-paging measured "write 100 MiB: VmRSS" rss '"majflt": 0, "rss": "100MiB"'
expect demand-paging measured "read 100 MiB untouched: minor faults (zero page)" minflt '"pid": 2, "minflt": 25600, "rss": 0'
expect demand-paging measured "read 100 MiB untouched: VmRSS" rss '"pid": 2, "minflt": 25600, "rss": 0'
expect demand-paging measured "read, then write 100 MiB: minor faults" minflt '"minflt": 51200, "rss": "100MiB"'
expect overcommit rule "overcommit_memory=2: CommitLimit (256 MiB RAM, 256 MiB swap)" CommitLimit '"CommitLimit": "384MiB"'
expect cow measured "child reads 100 MiB after fork(): faults" minflt '{"op": "expect", "pid": 2, "minflt": 0}'
expect cow measured "child writes 100 MiB after fork(): faults" minflt '"pid": 2, "minflt": 25600, "cow": 25600'
expect cow measured "child writes 100 MiB after fork(): copies" cow '"pid": 2, "minflt": 25600, "cow": 25600'
expect cow measured "parent writes while the child lives: faults in all" minflt '"pid": 1, "minflt": 51200'
expect cow measured "parent writes after the child exited: pages reused" pgreuse '"vmstat": {"pgreuse": 25600}'
summary swap-thrashing libvmsim "96 MiB working set, 64 MiB RAM, 3 passes: major faults" - pid:2:majflt
summary swap-thrashing libvmsim "same: simulated time (ns)" - time_ns
expect page-tables measured "one page touched: VmPTE" pte '"pte": "12KiB"'
expect page-tables measured "1 GiB touched: VmPTE" pte '"pte": "2056KiB"'
expect hugetlb rule "mmap(MAP_HUGETLB) 100 MiB: HugePages_Rsvd" HugePages_Rsvd '"meminfo": {"HugePages_Rsvd": 50'
expect hugetlb rule "touched: HugePages_Free (pool of 64)" HugePages_Free '"meminfo": {"HugePages_Free": 14'
expect hugetlb rule "touched: VmPTE (no PTE tables)" pte '"minflt": 50, "rss": 0, "pte": "8KiB"'
expect thp measured "100 MiB, MADV_HUGEPAGE: minor faults" minflt '"minflt": 50, "rss": "100MiB"'
expect thp measured "100 MiB, MADV_HUGEPAGE: AnonHugePages" AnonHugePages '"minflt": 50, "rss": "100MiB", "meminfo": {"AnonHugePages": "100MiB"}'
expect thp measured "child writes 1 byte of a shared THP: faults" minflt '"pid": 2, "minflt": 1, "cow": 1'
expect thp measured "child writes 1 byte of a shared THP: PMDs split" thp_split_pmd '"vmstat": {"thp_split_pmd": 1}'
forktime thp "fork() of 100 MiB written: 4 KiB pages against THP" "1350 us with 4 KiB pages against 72 us with THP"
expect shared-memory rule "a shared anonymous page: Shmem" Shmem '"pid": 1, "meminfo": {"Shmem": "4KiB"}'
summary textbook-fifo textbook "7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1, 3 frames, FIFO: faults" "FIFO 15" vmstat:pgfault
summary textbook-lru textbook "same string, LRU: faults" "LRU 12" vmstat:pgfault
summary textbook-opt textbook "same string, OPT: faults" "OPT 9" vmstat:pgfault
summary belady textbook "1 2 3 4 1 2 5 1 2 3 4 5, FIFO, 3 frames: faults" "9 faults with 3 frames" vmstat:pgfault
summary belady-4frames textbook "same string, FIFO, 4 frames: faults" "takes 10 faults" vmstat:pgfault
exit $status
