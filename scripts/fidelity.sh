#!/bin/sh
# fidelity.sh -- print docs/fidelity.md's table: each number Linux shows in
# an experiment of the book's chapter 5 (as the trace in traces/ states it)
# against the number libvmsim produces now.
#
#   sh scripts/fidelity.sh [path/to/vmsim]     (default: build/bin/vmsim)
#
# Every libvmsim number is produced by replaying a trace, never copied.
# For a row backed by an `expect` of a trace, the expected value is swapped
# for an impossible one (424242000 + the row's number) in a temporary copy
# of the trace, and the value the simulator really had is read from the
# failed check's message ("expected 424242007, got 25600"). Other rows
# read the `vmsim replay --json` summary of the same run (a failed expect
# changes nothing in the machine). The Linux column is the value the trace
# states: its expect, or a phrase that must occur in the trace (its "why"),
# so a trace and this table cannot drift apart.
#
# Exit status: 0, or 1 if a trace could not be replayed or a value was not
# found (the table then shows "?").
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
vmsim=${1:-$here/build/bin/vmsim}
traces=$here/traces
tmp=${TMPDIR:-/tmp}/vmsim-fidelity.$$
status=0

if [ ! -x "$vmsim" ]; then
    echo "fidelity.sh: $vmsim: no such program (build first: make)" >&2
    exit 1
fi
mkdir "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# The rows, in the book's order: KIND|TRACE|SOURCE|WHAT|ARG1|ARG2
#   e  expect-backed: ARG1 the expect's key, ARG2 a piece of the trace that
#      occurs on exactly one line and holds "KEY": VALUE (VALUE is Linux's)
#   s  summary: ARG1 a phrase of the trace giving Linux's number ("-" if
#      none), ARG2 pid:N:FIELD, vmstat:NAME, meminfo:NAME, time_ns or panic
#   f  fork() time: ARG1 the phrase of the trace giving Linux's numbers
# SOURCE says where Linux's number comes from: measured (Linux 6.18 on
# x86_64, as the trace's "why" says), rule (the kernel's or glibc's code,
# no measurement), textbook, or libvmsim (no Linux number).
cat > "$tmp/rows" <<'EOF'
e|free|measured|100 MiB written: AnonPages|AnonPages|"rss": "100MiB", "meminfo": {"AnonPages": "100MiB"
e|free|measured|100 MiB file read: page cache (Cached)|Cached|"majflt": 0, "meminfo": {"Cached": "100MiB"}
s|oom|rule|the highest badness dies first: pid 3 (oom_score_adj 500) OOM-killed|pid 3 dies|pid:3:oom_killed
s|oom|rule|OOM kills in all (pid 3; later pid 4 and then pid 2)|pid 4 and then pid 2|vmstat:oom_kill
s|panic-on-oom|rule|vm.panic_on_oom=1: the kernel panics|a system-wide OOM panics|panic
e|virtual-addresses|measured|one address in two processes: frames (AnonPages)|AnonPages|"meminfo": {"AnonPages": "8KiB"}
s|segv|rule|NULL dereference: signal|SIGSEGV|pid:1:signal
s|segv|rule|NULL dereference: si_code|SEGV_MAPERR|pid:1:si_code
s|segv|rule|non-canonical address: si_code|SI_KERNEL|pid:3:si_code
e|mmap|measured|mmap() of 100 MiB: VmSize|vmsize|"vmsize": "100MiB", "rss": 0
e|mmap|measured|mmap() of 100 MiB: VmRSS|rss|"vmsize": "100MiB", "rss": 0
e|malloc|rule|first malloc(): heap size (glibc)|vmsize|"errno": 0, "rss": "4KiB", "vmsize": "132KiB"
e|malloc|rule|malloc(1 MiB) before use: VmRSS|rss|"rss": "8KiB", "vmsize": "1160KiB"
e|filemap|rule|first read of a mapped cold file: major faults|majflt|"majflt": 1
e|demand-paging|measured|write 100 MiB, one byte a page: minor faults|minflt|"minflt": 25600, "majflt": 0
e|demand-paging|measured|write 100 MiB: VmRSS|rss|"majflt": 0, "rss": "100MiB"
e|demand-paging|measured|read 100 MiB untouched: minor faults (zero page)|minflt|"pid": 2, "minflt": 25600, "rss": 0
e|demand-paging|measured|read 100 MiB untouched: VmRSS|rss|"pid": 2, "minflt": 25600, "rss": 0
e|demand-paging|measured|read, then write 100 MiB: minor faults|minflt|"minflt": 51200, "rss": "100MiB"
e|overcommit|rule|overcommit_memory=2: CommitLimit (256 MiB RAM, 256 MiB swap)|CommitLimit|"CommitLimit": "384MiB"
e|cow|measured|child reads 100 MiB after fork(): faults|minflt|{"op": "expect", "pid": 2, "minflt": 0}
e|cow|measured|child writes 100 MiB after fork(): faults|minflt|"pid": 2, "minflt": 25600, "cow": 25600
e|cow|measured|child writes 100 MiB after fork(): copies|cow|"pid": 2, "minflt": 25600, "cow": 25600
e|cow|measured|parent writes while the child lives: faults in all|minflt|"pid": 1, "minflt": 51200
e|cow|measured|parent writes after the child exited: pages reused|pgreuse|"vmstat": {"pgreuse": 25600}
s|swap-thrashing|libvmsim|96 MiB working set in 64 MiB of RAM, 3 passes: major faults|-|pid:2:majflt
s|swap-thrashing|libvmsim|the same: simulated time (ns)|-|time_ns
e|page-tables|measured|one page touched: VmPTE|pte|"pte": "12KiB"
e|page-tables|measured|1 GiB touched: VmPTE|pte|"pte": "2056KiB"
e|hugetlb|rule|mmap(MAP_HUGETLB) of 100 MiB: HugePages_Rsvd|HugePages_Rsvd|"meminfo": {"HugePages_Rsvd": 50
e|hugetlb|rule|100 MiB touched: faults (2 MiB pages)|minflt|"minflt": 50, "rss": 0, "pte": "8KiB"
e|hugetlb|rule|100 MiB touched: HugePages_Free (pool of 64)|HugePages_Free|"HugePages_Rsvd": 0, "HugePages_Free": 14
e|hugetlb|rule|100 MiB touched: VmPTE (no PTE tables)|pte|"minflt": 50, "rss": 0, "pte": "8KiB"
e|hugetlb|rule|MADV_DONTNEED of 10 MiB: HugePages_Free|HugePages_Free|"HugePages_Free": 19, "HugePages_Rsvd": 5
e|hugetlb|rule|MADV_DONTNEED of 10 MiB: HugePages_Rsvd (restored)|HugePages_Rsvd|"HugePages_Free": 19, "HugePages_Rsvd": 5
e|hugetlb|rule|10 MiB again, then 1 GiB of 1 GiB pages touched: faults in all|minflt|"minflt": 56
e|thp|measured|100 MiB, MADV_HUGEPAGE, aligned: minor faults|minflt|"minflt": 50, "pte": "208KiB"
e|thp|measured|the same: AnonHugePages|AnonHugePages|"meminfo": {"AnonHugePages": "100MiB"}, "vmstat": {"thp_fault_alloc": 50}
e|thp|measured|the same: VmPTE (a table deposited per THP)|pte|"minflt": 50, "pte": "208KiB"
e|thp|measured|child writes every 4 KiB after fork(): faults|minflt|"pid": 2, "minflt": 25600, "vmstat": {"thp_split_pmd": 50}
e|thp|measured|the same: PMDs split|thp_split_pmd|"pid": 2, "minflt": 25600, "vmstat": {"thp_split_pmd": 50}
e|thp|measured|100 MiB starting 1 MiB past alignment: faults|minflt|"pid": 3, "minflt": 561
e|thp|measured|a 3 MiB region: faults|minflt|"pid": 4, "minflt": 257
e|thp|measured|read, then write 100 MiB: faults in all (50 + 50)|minflt|"pid": 5, "minflt": 100
f|fork-time|measured|fork() after writing 100 MiB: 4 KiB pages against THP (simulated time)|1350 us with 4 KiB pages against 72 us with THP|
s|fork-cost|rule|fork() of 1 GiB of 4 KiB pages: entries copied|262144 PTEs|pid:10:fork_ptes_copied
s|fork-cost|rule|fork() of 1 GiB of THPs: entries copied|512 PMDs|pid:20:fork_ptes_copied
s|fork-cost|rule|fork() of one 1 GiB hugetlb page: entries copied|one PDPT entry|pid:30:fork_ptes_copied
e|shared-memory|rule|a shared anonymous page: Shmem|Shmem|"pid": 1, "meminfo": {"Shmem": "4KiB"}
s|textbook-fifo|textbook|7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1, 3 frames, FIFO: faults|FIFO 15|vmstat:pgfault
s|textbook-lru|textbook|the same string, LRU: faults|LRU 12|vmstat:pgfault
s|textbook-opt|textbook|the same string, OPT: faults|OPT 9|vmstat:pgfault
s|belady|textbook|1 2 3 4 1 2 5 1 2 3 4 5, FIFO, 3 frames: faults|9 faults with 3 frames|vmstat:pgfault
s|belady-4frames|textbook|the same string, FIFO, 4 frames: faults|takes 10 faults|vmstat:pgfault
EOF

# A field of a `vmsim replay --json` summary (jansson's 2-space layout):
# pid:N:FIELD, vmstat:NAME, meminfo:NAME, time_ns, panic.
field() { # json-file spec
    awk -v spec="$2" '
        BEGIN { split(spec, s, ":"); split("", obj) }
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

# Bytes in the unit of a trace's value ("2056KiB" -> KiB).
scale() { # bytes value-from-trace
    awk -v b="$1" -v u="$2" 'BEGIN {
        if (u ~ /GiB$/) printf "%gGiB", b / 1073741824
        else if (u ~ /MiB$/) printf "%gMiB", b / 1048576
        else if (u ~ /KiB$/) printf "%gKiB", b / 1024
        else if (u ~ /p$/) printf "%gp", b / 4096
        else printf "%s", b }'
}

# 1. One replay per trace, every expect row's value swapped for its
#    sentinel: $tmp/TRACE.json (the copy), .out (--json summary), .err.
#    $tmp/linux.N holds row N's Linux value.
for t in $(cut -d'|' -f2 "$tmp/rows" | uniq); do
    trace=$traces/$t.json
    awk -F'|' -v t="$t" -v tmp="$tmp" '
        NR == FNR { if ($1 == "e" && $2 == t) { n++; row[n] = FNR; k[n] = "\"" $5 "\": "; c[n] = $6 }
                    next }
        { line[FNR] = $0; for (i = 1; i <= n; i++) if (index($0, c[i]) > 0) { hits[i]++; at[i] = FNR } }
        END {
            for (i = 1; i <= n; i++) {
                if (hits[i] != 1) {
                    printf "fidelity.sh: %s: not on exactly one line: %s\n", t, c[i] > "/dev/stderr"
                    bad = 1; continue
                }
                s = line[at[i]]
                p = index(s, c[i]); q = index(substr(s, p), k[i])
                if (q == 0) { printf "fidelity.sh: %s: no %s in %s\n", t, k[i], c[i] > "/dev/stderr"
                              bad = 1; continue }
                col[i] = p + q - 1
                v = substr(s, col[i] + length(k[i]))
                match(v, /^("[^"]*"|[-0-9A-Za-z.]+)/); len[i] = RLENGTH
                lv = substr(v, 1, RLENGTH); gsub(/"/, "", lv)
                print lv > (tmp "/linux." row[i])
            }
            # swap values right to left on each line, so columns stay right
            for (i = 1; i <= n; i++) for (j = 1; j <= n; j++)
                if (len[i] && len[j] && at[j] == at[i] && col[j] > col[i]) later[i]++
            for (r = 0; r <= n; r++) for (i = 1; i <= n; i++) if (len[i] && later[i] == r) {
                s = line[at[i]]; pos = col[i] + length(k[i])
                line[at[i]] = substr(s, 1, pos - 1) sprintf("%d", 424242000 + row[i]) substr(s, pos + len[i])
            }
            for (l = 1; l in line; l++) print line[l] > (tmp "/" t ".json")
            exit bad }' "$tmp/rows" "$trace" || status=1
    "$vmsim" replay --json "$tmp/$t.json" > "$tmp/$t.out" 2> "$tmp/$t.err"
    echo $? > "$tmp/$t.rc"
done

# 2. The table.
echo "| trace | what | Linux | source | libvmsim |"
echo "|---|---|---|---|---|"
n=0
while IFS='|' read -r kind t source what arg1 arg2; do
    n=$((n + 1))
    rc=$(cat "$tmp/$t.rc")
    got="?"
    case $kind in
    e)
        linux=$(cat "$tmp/linux.$n" 2> /dev/null || echo "?")
        line=$(grep -F "$arg1: expected $((424242000 + n))" "$tmp/$t.err" | head -n 1)
        v=$(printf '%s\n' "$line" | sed -n 's/.*expected [0-9]*[^,]*, got \([0-9][0-9]*\).*/\1/p')
        if [ -n "$v" ]; then
            case $line in
            *" bytes"*) got=$(scale "$v" "$linux") ;;
            *) got=$v ;;
            esac
        fi
        ;;
    s)
        linux=$arg1
        if [ "$linux" != "-" ] && ! grep -qF -- "$linux" "$traces/$t.json"; then
            echo "fidelity.sh: $t: \"$linux\" is not in the trace" >&2
            status=1
        fi
        v=$(field "$tmp/$t.out" "$arg2")
        [ -n "$v" ] && got=$v
        ;;
    f)
        # the trace again, every cost but fork_pte at 0: as is (THP) and
        # with --thp never (4 KiB pages); the time left is fork()'s
        linux=$arg1
        grep -qF -- "$linux" "$traces/$t.json" || status=1
        zero='{"tlb_hit":0,"walk_level":0,"minor_fault":0,"zero_page":0,"copy_page":0,"major_fault":0,"file_read":0,"swap_out":0,"writeback":0}'
        "$vmsim" replay --json "$traces/$t.json" --latency-ns "$zero" > "$tmp/f1" 2> /dev/null
        "$vmsim" replay --json "$traces/$t.json" --latency-ns "$zero" --thp never \
            > "$tmp/f2" 2> /dev/null
        a=$(field "$tmp/f1" time_ns)
        b=$(field "$tmp/f2" time_ns)
        if [ -n "$a" ] && [ -n "$b" ] && [ "$a" -gt 0 ]; then
            got=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%g us against %g us (%gx)", b / 1000, a / 1000, b / a }')
        fi
        ;;
    esac
    # 0 or 1 (the swapped expects failed) is a full run; 3 a panic, which
    # only summary rows may read
    if [ "$rc" -ge 2 ] && { [ "$kind" != s ] || [ "$rc" -ne 3 ]; }; then
        got="?"
    fi
    if [ "$got" = "?" ]; then
        echo "fidelity.sh: $t: no value for \"$what\" (replay status $rc)" >&2
        status=1
    fi
    printf '| %s | %s | %s | %s | %s |\n' "$t" "$what" "$linux" "$source" "$got"
done < "$tmp/rows"
exit $status
