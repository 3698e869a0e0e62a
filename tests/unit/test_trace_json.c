/*
 * test_trace_json.c -- the JSON document reader (lib/trace/json.c) and the
 * replay driver (lib/trace/replay.c): every rejected document with its
 * exact one-line message, the fields of accepted events, and replays whose
 * status and messages are checked.
 */
#include "test_util.h"

#include "trace/trace.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Open text as "t.json"; on failure format the message into line. */
static int open_doc(const char *text, struct vmsim__reader **r, char *line, size_t len)
{
    vmsim_trace_error_t err;
    int rc = vmsim__reader_open_buffer("t.json", text, strlen(text), r, &err);

    line[0] = '\0';
    if (rc < 0) {
        assert_int_equal(err.code, rc);
        vmsim_trace_error_format(&err, line, len);
    }
    return rc;
}

struct bad_doc {
    const char *text;
    const char *want; /* the exact message */
};

static void check_bad_docs(const struct bad_doc *cases, size_t n)
{
    char line[1024];

    for (size_t i = 0; i < n; i++) {
        struct vmsim__reader *r = NULL;
        int rc = open_doc(cases[i].text, &r, line, sizeof(line));

        if (rc == 0) {
            vmsim__reader_close(r);
            fail_msg("accepted: %s", cases[i].text);
        }
        if (strcmp(line, cases[i].want) != 0)
            fail_msg("document %zu: %s\n  got  %s\n  want %s", i, cases[i].text, line,
                     cases[i].want);
    }
}

/* ---- syntax errors: FILE:LINE:COLUMN at the start of the bad token ------ */

static void test_syntax_errors(void **state)
{
    static const struct bad_doc cases[] = {
        {"", "t.json:1:1: empty trace (expected a JSON object)"},
        {" \n\t\n", "t.json:1:1: empty trace (expected a JSON object)"},
        {"{\"vmsim\": 1, \"events\": [",
         "t.json:1:25: ']' expected near end of file"},
        {"{\"vmsim\": 1,\n \"events\": [\n  {\"op\": \"w\"\n",
         "t.json:3:13: '}' expected near end of file"}, /* just past the last token */
        {"{\"vmsim\": 1, \"vmsim\": 1, \"events\": []}",
         "t.json:1:14: duplicate object key near '\"vmsim\"'"},
        {"garbage", "t.json:1:1: '[' or '{' expected near 'garbage'"},
        {"{\"vmsim\": 1, \"events\": []} x", "t.json:1:28: end of file expected near 'x'"},
        {"{\"vmsim\": 1,\n \"events\": [{\"op\": \"w\", \"addr\": 18446744073709551616}]}",
         "t.json:2:33: too big integer (overflows 64 bits; give large values as strings) near "
         "'18446744073709551616'"},
        {"{\"vmsim\": 1, \"events\": [1,,2]}", "t.json:1:27: unexpected token near ','"},
        {"{\"vmsim\": 1, \"name\": \"a\xff\", \"events\": []}",
         "t.json:1:24: unable to decode byte 0xff near '\"a'"},
        {"{\"vmsim\": 1, \"name\": \"a\nb\", \"events\": []}",
         "t.json:1:22: unexpected newline near '\"a'"},
        {"{\"vmsim\": 1, \"name\": \"\\u0000\", \"events\": []}",
         "t.json:1:22: \\u0000 is not allowed in a string near '\"\\u0000\"'"},
        {"{\"vmsim\": 1, \"events\": [{\"op\": \"w\", \"addr\": 1e400}]}",
         "t.json:1:45: real number overflow near '1e400'"},
        {"{\"vmsim\": 1, \"name\": \"\xc3\xa9\xc3\xa9\", \"events\": [,]}",
         "t.json:1:39: unexpected token near ','"}, /* columns count characters */
        {"{\"vmsim\": 1, \"events\": [{\"op\": \"w\", \"addr\": 123456789012345678901234567}]}",
         "t.json:1:45: too big integer (overflows 64 bits; give large values as strings)"},
        {"\x01\x02\x03", "t.json:1:1: '[' or '{' expected near '\\x01'"},
        /* an integer past 2^63 read as it is: the columns and the text near
         * the error are the file's (the second comma is character 96) */
        {"{\"vmsim\": 1, \"events\": [{\"op\": \"w\", \"addr\": 18446744073709551615, "
         "\"size\": 9223372036854775808},,]}",
         "t.json:1:96: unexpected token near ','"},
        {"{\"vmsim\": 1, \"events\": [18446744073709551615 9223372036854775808]}",
         "t.json:1:46: ']' expected near '9223372036854775808'"},
        /* not a key, and not past a \u0000 of the trace's own */
        {"{\"vmsim\": 1, 18446744073709551615: 2, \"events\": []}",
         "t.json:1:14: too big integer (overflows 64 bits; give large values as strings) near "
         "'18446744073709551615'"}, /* jansson's words for a number where a key goes */
        {"{\"vmsim\": 1, \"name\": \"\\u0000\", \"events\": [18446744073709551615]}",
         "t.json:1:22: \\u0000 is not allowed in a string near '\"\\u0000\"'"},
    };

    (void)state;
    check_bad_docs(cases, ARRAY_LEN(cases));
}

/* ---- the top level and the system object ------------------------------- */

static void test_document_errors(void **state)
{
    static const struct bad_doc cases[] = {
        {"[]", "t.json: a trace is a JSON object {\"vmsim\": 1, ...}, not an array"},
        {"{\"events\": []}",
         "t.json: missing \"vmsim\": 1 (the format version) at the top level"},
        {"{\"vmsim\": 2, \"events\": []}",
         "t.json: unsupported trace format version 2 (\"vmsim\": this reader knows version 1)"},
        {"{\"vmsim\": \"1\", \"events\": []}",
         "t.json: \"vmsim\" must be the integer 1 (the format version), got a string"},
        {"{\"vmsim\": 1}", "t.json: missing \"events\" (a list of events)"},
        {"{\"vmsim\": 1, \"events\": {}}", "t.json: \"events\" must be a list, got an object"},
        {"{\"vmsim\": 1, \"events\": [], \"foo\": 1}",
         "t.json: unknown top-level key \"foo\" (expected vmsim, system, events, name, why)"},
        {"{\"vmsim\": 1, \"events\": [], \"why\": 3}",
         "t.json: \"why\" must be a string, got an integer"},
        {"{\"vmsim\": 1, \"system\": [], \"events\": []}",
         "t.json: \"system\" must be an object, got an array"},
        {"{\"vmsim\": 1, \"system\": {\"memory\": \"1XB\"}, \"events\": []}",
         "t.json: system \"memory\": bad size \"1XB\": unknown unit \"XB\" (use B, KiB, MiB, "
         "GiB, TiB, K, M, G, T or p)"},
        {"{\"vmsim\": 1, \"system\": {\"memory\": \"512GiB\"}, \"events\": []}",
         "t.json: system \"memory\": 549755813888 bytes is more than the supported maximum of "
         "274877906944 (256GiB)"},
        {"{\"vmsim\": 1, \"system\": {\"memory\": 4097}, \"events\": []}",
         "t.json: system \"memory\": 4097 bytes is not a multiple of 4KiB"},
        {"{\"vmsim\": 1, \"system\": {\"memory\": -1}, \"events\": []}",
         "t.json: system \"memory\": a size cannot be negative (got -1)"},
        {"{\"vmsim\": 1, \"system\": {\"memory\": 1.5}, \"events\": []}",
         "t.json: system \"memory\": expected a size (an integer or a string like \"4KiB\"), "
         "got a real number"},
        {"{\"vmsim\": 1, \"system\": {\"swappiness\": 201}, \"events\": []}",
         "t.json: system \"swappiness\": 201 is out of range 0..200"},
        {"{\"vmsim\": 1, \"system\": {\"thp\": \"sometimes\"}, \"events\": []}",
         "t.json: system \"thp\": unknown value \"sometimes\" (use always, madvise, never)"},
        {"{\"vmsim\": 1, \"system\": {\"profile\": \"bsd\"}, \"events\": []}",
         "t.json: system \"profile\": unknown value \"bsd\" (use linux, textbook)"},
        {"{\"vmsim\": 1, \"system\": {\"tlb\": {\"l3\": 4}}, \"events\": []}",
         "t.json: system \"tlb\": unknown TLB key \"l3\" (use l1_4k, l1_2m, l1_1g, l2, ways, "
         "pcid)"},
        {"{\"vmsim\": 1, \"system\": {\"tlb\": {\"ways\": 0}}, \"events\": []}",
         "t.json: system \"tlb\": \"ways\": 0 is out of range 1..4294967295"},
        {"{\"vmsim\": 1, \"system\": {\"hugepages\": {\"4MiB\": 1}}, \"events\": []}",
         "t.json: system \"hugepages\": unknown huge page size \"4MiB\" (use 2MiB, 1GiB)"},
        {"{\"vmsim\": 1, \"system\": {\"latency_ns\": {\"major_fault\": -5}}, \"events\": []}",
         "t.json: system \"latency_ns\": \"major_fault\": a count cannot be negative (got -5)"},
        {"{\"vmsim\": 1, \"system\": {\"track_data\": 1}, \"events\": []}",
         "t.json: system \"track_data\": expected true or false, got an integer"},
        {"{\"vmsim\": 1, \"system\": {\"fault_around_bytes\": \"4MiB\"}, \"events\": []}",
         "t.json: system \"fault_around_bytes\": at most 2MiB (512 pages), as Linux"},
        {"{\"vmsim\": 1, \"system\": {\"page_cluster\": 32}, \"events\": []}",
         "t.json: system \"page_cluster\": 32 is out of range 0..31"},
        {"{\"vmsim\": 1, \"system\": {\"policy\": \"\"}, \"events\": []}",
         "t.json: system \"policy\": must not be empty"},
    };

    (void)state;
    check_bad_docs(cases, ARRAY_LEN(cases));
}

static void test_system_unknown_key(void **state)
{
    char line[1024];
    struct vmsim__reader *r = NULL;

    (void)state;
    assert_int_equal(open_doc("{\"vmsim\": 1, \"system\": {\"ram\": \"1GiB\"}, \"events\": []}",
                              &r, line, sizeof(line)),
                     VMSIM_EPARSE);
    assert_non_null(strstr(line, "t.json: system: unknown key \"ram\" (expected one of profile, "
                                 "memory, swap, policy, resident_limit,"));
}

/* ---- events: FILE: event N (op "..."): ... ------------------------------ */

#define DOC(ev) "{\"vmsim\": 1, \"events\": [{\"op\": \"spawn\", \"pid\": 2}, " ev "]}"

static void test_event_errors(void **state)
{
    static const struct bad_doc cases[] = {
        {DOC("3"), "t.json: event 1: an event must be an object, got an integer"},
        {DOC("{}"), "t.json: event 1: missing \"op\""},
        {DOC("{\"op\": 5}"), "t.json: event 1: \"op\" must be a string, got an integer"},
        {DOC("{\"op\": \"mmapp\"}"), "t.json: event 1: unknown op \"mmapp\""},
        {DOC("{\"op\": \"munmap\", \"addr\": 4096, \"lenn\": 1}"),
         "t.json: event 1 (op \"munmap\"): unknown key \"lenn\" (op \"munmap\" takes pid, addr, "
         "len, why)"},
        {DOC("{\"op\": \"munmap\", \"addr\": 4096}"),
         "t.json: event 1 (op \"munmap\"): missing \"len\""},
        {DOC("{\"op\": \"munmap\", \"addr\": 4096, \"len\": true}"),
         "t.json: event 1 (op \"munmap\"): \"len\": expected a size (an integer or a string "
         "like \"4KiB\"), got true"},
        {DOC("{\"op\": \"munmap\", \"addr\": -4096, \"len\": 1}"),
         "t.json: event 1 (op \"munmap\"): \"addr\": an address cannot be negative (got -4096)"},
        {DOC("{\"op\": \"munmap\", \"addr\": \"buf+4QB\", \"len\": 1}"),
         "t.json: event 1 (op \"munmap\"): \"addr\": bad size \"buf+4QB\": unknown unit \"QB\" "
         "(use B, KiB, MiB, GiB, TiB, K, M, G, T or p)"},
        {DOC("{\"op\": \"w\", \"addr\": 0, \"pid\": 0}"),
         "t.json: event 1 (op \"w\"): \"pid\": 0 is out of range 1..4194304"},
        {DOC("{\"op\": \"w\", \"addr\": 0, \"pid\": \"1\"}"),
         "t.json: event 1 (op \"w\"): \"pid\": expected an integer, got a string"},
        {DOC("{\"op\": \"w\", \"addr\": 0, \"why\": 1}"),
         "t.json: event 1 (op \"w\"): \"why\": expected a string, got an integer"},
        /* integers past 2^63 are integers for every key, not strings */
        {DOC("{\"op\": \"w\", \"addr\": 0, \"why\": 18446744073709551615}"),
         "t.json: event 1 (op \"w\"): \"why\": expected a string, got an integer"},
        {DOC("{\"op\": \"spawn\", \"pid\": 2, \"name\": 9223372036854775808}"),
         "t.json: event 1 (op \"spawn\"): \"name\": expected a string, got an integer"},
        {DOC("{\"op\": \"w\", \"addr\": 0, \"pid\": 9223372036854775808}"),
         "t.json: event 1 (op \"w\"): \"pid\": 9223372036854775808 is out of range 1..4194304"},
        {DOC("{\"op\": 18446744073709551615}"),
         "t.json: event 1: \"op\" must be a string, got an integer"},
        /* a string of the trace's that looks like the mark is a string */
        {DOC("{\"op\": \"munmap\", \"addr\": 4096, \"len\": \"\\u000118446744073709551615\"}"),
         "t.json: event 1 (op \"munmap\"): \"len\": bad size \"\\x0118446744073709551615\": "
         "expected a number, e.g. 4096, \"4KiB\" or \"2p\""},
        {DOC("{\"op\": \"mmap\", \"len\": 4096, \"prot\": \"rwz\", "
             "\"flags\": \"private|anonymous\"}"),
         "t.json: event 1 (op \"mmap\"): \"prot\": bad prot \"rwz\": unexpected 'z' (use r, w, "
         "x, \"\" or \"none\")"},
        {DOC("{\"op\": \"mmap\", \"len\": 4096, \"prot\": \"rw\", \"flags\": [\"private\", 3]}"),
         "t.json: event 1 (op \"mmap\"): \"flags\": flag 1: expected a string, got an integer"},
        {DOC("{\"op\": \"mmap\", \"len\": 4096, \"prot\": \"rw\", \"flags\": [\"anonymous\"]}"),
         "t.json: event 1 (op \"mmap\"): \"flags\" needs exactly one of private and shared"},
        {DOC("{\"op\": \"mmap\", \"len\": 4096, \"prot\": \"rw\", \"flags\": "
             "\"private|shared|anonymous\"}"),
         "t.json: event 1 (op \"mmap\"): \"flags\" needs exactly one of private and shared"},
        {DOC("{\"op\": \"mmap\", \"len\": 4096, \"prot\": \"rw\", \"flags\": \"private\"}"),
         "t.json: event 1 (op \"mmap\"): needs the anonymous flag or a \"file\""},
        {DOC("{\"op\": \"mmap\", \"len\": 4096, \"prot\": \"rw\", \"flags\": "
             "\"private|anonymous|fixed\"}"),
         "t.json: event 1 (op \"mmap\"): the fixed flag needs an \"addr\""},
        {DOC("{\"op\": \"mmap\", \"len\": 4096, \"prot\": \"rw\", \"flags\": "
             "\"private|anonymous\", \"pagesize\": \"2MiB\"}"),
         "t.json: event 1 (op \"mmap\"): \"pagesize\" needs the hugetlb flag"},
        {DOC("{\"op\": \"mmap\", \"len\": 4096, \"prot\": \"rw\", \"flags\": "
             "\"private|anonymous|hugetlb\", \"pagesize\": \"4MiB\"}"),
         "t.json: event 1 (op \"mmap\"): \"pagesize\": a huge page size is \"2MiB\" or \"1GiB\""},
        {DOC("{\"op\": \"mmap\", \"len\": 4096, \"prot\": \"rw\", \"flags\": "
             "\"private|anonymous\", \"as\": \"my-buf\"}"),
         "t.json: event 1 (op \"mmap\"): \"as\": bad region name \"my-buf\": '-' not allowed "
         "(use letters, digits, '_' and '.')"},
        {DOC("{\"op\": \"brk\", \"addr\": 0, \"incr\": 4096}"),
         "t.json: event 1 (op \"brk\"): needs exactly one of \"addr\" and \"incr\""},
        {DOC("{\"op\": \"brk\"}"),
         "t.json: event 1 (op \"brk\"): needs exactly one of \"addr\" and \"incr\""},
        {DOC("{\"op\": \"madvise\", \"addr\": 0, \"len\": 1, \"advice\": \"free\"}"),
         "t.json: event 1 (op \"madvise\"): \"advice\": unknown value \"free\" (use hugepage, "
         "nohugepage, dontneed, willneed, pageout, random, sequential, collapse)"},
        {DOC("{\"op\": \"touch\", \"addr\": 0, \"len\": 1, \"stride\": 0}"),
         "t.json: event 1 (op \"touch\"): \"stride\": must be at least 1 byte"},
        {DOC("{\"op\": \"touch\", \"addr\": 0, \"len\": 1, \"access\": \"x\"}"),
         "t.json: event 1 (op \"touch\"): \"access\": unknown value \"x\" (use r, w)"},
        {DOC("{\"op\": \"refs\", \"base\": 0, \"pages\": [0, -1]}"),
         "t.json: event 1 (op \"refs\"): \"pages\": page 1: -1 is out of range "
         "0..2251799813685247"},
        {DOC("{\"op\": \"refs\", \"base\": 0, \"pages\": 3}"),
         "t.json: event 1 (op \"refs\"): \"pages\": expected a list of page indexes, got an "
         "integer"},
        {DOC("{\"op\": \"w\", \"addr\": 0, \"data\": \"abc\", \"size\": 2}"),
         "t.json: event 1 (op \"w\"): \"size\" is 2 but \"data\" holds 3 bytes"},
        {DOC("{\"op\": \"r\", \"addr\": 0, \"data\": \"abc\"}"),
         "t.json: event 1 (op \"r\"): unknown key \"data\" (op \"r\" takes pid, addr, size, "
         "expect, why)"},
        {DOC("{\"op\": \"file\", \"name\": \"f\", \"size\": 2, \"data\": \"abc\"}"),
         "t.json: event 1 (op \"file\"): \"data\" holds 3 bytes, more than \"size\" (2)"},
        {DOC("{\"op\": \"file\", \"pid\": 1, \"name\": \"f\", \"size\": 2}"),
         "t.json: event 1 (op \"file\"): unknown key \"pid\" (op \"file\" takes name, size, "
         "data, why)"},
        {DOC("{\"op\": \"sysctl\", \"key\": \"vm.swappiness\", \"value\": 300}"),
         "t.json: event 1 (op \"sysctl\"): \"value\": 300 is out of range 0..200"},
        {DOC("{\"op\": \"sysctl\", \"key\": \"vm.drop_caches\", \"value\": 0}"),
         "t.json: event 1 (op \"sysctl\"): \"value\": 0 is out of range 1..3"},
        {DOC("{\"op\": \"sysctl\", \"key\": \"transparent_hugepage.enabled\", \"value\": 1}"),
         "t.json: event 1 (op \"sysctl\"): \"value\": expected a string, got an integer"},
        {DOC("{\"op\": \"sysctl\", \"key\": \"vm.max_map_count\", \"value\": 1}"),
         "t.json: event 1 (op \"sysctl\"): \"key\": unknown value \"vm.max_map_count\" (use "
         "vm.panic_on_oom, vm.overcommit_memory, vm.overcommit_ratio, vm.swappiness, "
         "vm.page-cluster, vm.drop_caches, transparent_hugepage.enabled)"},
        {DOC("{\"op\": \"report\", \"what\": \"smaps\"}"),
         "t.json: event 1 (op \"report\"): \"what\": unknown report \"smaps\" (use free, "
         "meminfo, vmstat, maps, status, pagetable)"},
        {DOC("{\"op\": \"expect\"}"),
         "t.json: event 1 (op \"expect\"): checks nothing (give minflt, rss, vmstat, ...)"},
        {DOC("{\"op\": \"expect\", \"minflt\": -1}"),
         "t.json: event 1 (op \"expect\"): \"minflt\": a count cannot be negative (got -1)"},
        {DOC("{\"op\": \"expect\", \"rss\": \"4XiB\"}"),
         "t.json: event 1 (op \"expect\"): \"rss\": bad size \"4XiB\": unknown unit \"XiB\" "
         "(use B, KiB, MiB, GiB, TiB, K, M, G, T or p)"},
        {DOC("{\"op\": \"expect\", \"signal\": \"SIGILL\"}"),
         "t.json: event 1 (op \"expect\"): \"signal\": unknown value \"SIGILL\" (use SIGSEGV, "
         "SIGBUS, SIGKILL, SIGABRT)"},
        {DOC("{\"op\": \"expect\", \"si_code\": 1}"),
         "t.json: event 1 (op \"expect\"): \"si_code\": expected a string, got an integer"},
        {DOC("{\"op\": \"expect\", \"errno\": \"ENOMEMM\"}"),
         "t.json: event 1 (op \"expect\"): \"errno\": unknown errno name \"ENOMEMM\" (e.g. "
         "ENOMEM, EINVAL)"},
        {DOC("{\"op\": \"expect\", \"errno\": 12}"),
         "t.json: event 1 (op \"expect\"): \"errno\": expected 0 or an errno name like "
         "\"ENOMEM\", got a non-zero integer"},
        {DOC("{\"op\": \"expect\", \"alive\": \"yes\"}"),
         "t.json: event 1 (op \"expect\"): \"alive\": expected true or false, got a string"},
        {DOC("{\"op\": \"expect\", \"vmstat\": {\"pgfaults\": 1}}"),
         "t.json: event 1 (op \"expect\"): \"vmstat\": unknown vmstat counter \"pgfaults\""},
        {DOC("{\"op\": \"expect\", \"vmstat\": {\"pgfault\": \"1K\"}}"),
         "t.json: event 1 (op \"expect\"): \"vmstat\": \"pgfault\": expected an integer, got a "
         "string"},
        {DOC("{\"op\": \"expect\", \"meminfo\": {\"HugePages_Total\": \"2MiB\"}}"),
         "t.json: event 1 (op \"expect\"): \"meminfo\": \"HugePages_Total\": expected an "
         "integer, got a string"},
        {DOC("{\"op\": \"expect\", \"meminfo\": {\"MemFree\": \"1XB\"}}"),
         "t.json: event 1 (op \"expect\"): \"meminfo\": \"MemFree\": bad size \"1XB\": unknown "
         "unit \"XB\" (use B, KiB, MiB, GiB, TiB, K, M, G, T or p)"},
        {DOC("{\"op\": \"fork\", \"pid\": 1}"), "t.json: event 1 (op \"fork\"): missing \"child\""},
        {DOC("{\"op\": \"spawn\", \"pid\": 3, \"oom_score_adj\": 1001}"),
         "t.json: event 1 (op \"spawn\"): \"oom_score_adj\": 1001 is out of range -1000..1000"},
        {DOC("{\"op\": \"spawn\", \"pid\": 3, \"name\": \"\"}"),
         "t.json: event 1 (op \"spawn\"): \"name\": must not be empty"},
    };

    (void)state;
    check_bad_docs(cases, ARRAY_LEN(cases));
}

static void test_unknown_key_lists_expect_checks(void **state)
{
    char line[1024];
    struct vmsim__reader *r = NULL;

    (void)state;
    assert_int_equal(open_doc(DOC("{\"op\": \"expect\", \"minflts\": 1}"), &r, line,
                              sizeof(line)),
                     VMSIM_EPARSE);
    assert_string_equal(line, "t.json: event 1 (op \"expect\"): unknown key \"minflts\" (op "
                              "\"expect\" takes pid, minflt, majflt, cow, rss, vmsize, swap, "
                              "pte, alive, signal, si_code, oom_killed, panic, errno, vmstat, "
                              "meminfo, why)");
}

/* ---- accepted events ---------------------------------------------------- */

static const char good_doc[] =
    "{\"vmsim\": 1, \"name\": \"all\", \"why\": \"every op once\",\n"
    " \"system\": {\"profile\": \"textbook\", \"memory\": \"64MiB\", \"swap\": \"16MiB\",\n"
    "   \"policy\": \"lru\", \"resident_limit\": \"300p\", \"thp\": \"never\",\n"
    "   \"hugepages\": {\"2MiB\": 2, \"1GiB\": 0}, \"overcommit_memory\": 2,\n"
    "   \"overcommit_ratio\": 80, \"panic_on_oom\": 1, \"swappiness\": 100,\n"
    "   \"page_cluster\": 0, \"fault_around_bytes\": 4096, \"read_ahead_kb\": 0,\n"
    "   \"tlb\": {\"l2\": 512, \"pcid\": false}, \"track_data\": true, \"seed\": 42,\n"
    "   \"latency_ns\": {\"major_fault\": 5000}},\n"
    " \"events\": [\n"
    "  {\"op\": \"spawn\", \"pid\": 1, \"name\": \"sh\", \"oom_score_adj\": -100},\n"
    "  {\"op\": \"mmap\", \"len\": \"8p\", \"prot\": \"rw\", \"flags\": [\"private\", "
    "\"anonymous\"], \"as\": \"buf\", \"why\": \"a buffer\"},\n"
    "  {\"op\": \"w\", \"addr\": \"buf+1.5KiB\", \"data\": \"0x00ff\"},\n"
    "  {\"op\": \"r\", \"pid\": 1, \"addr\": \"buf-0x10\"},\n"
    "  {\"op\": \"touch\", \"addr\": \"0x7f0000000000\", \"len\": \"1MiB\", \"access\": \"r\"},\n"
    "  {\"op\": \"refs\", \"base\": \"buf\", \"pages\": [0, 1, 7, 1]},\n"
    "  {\"op\": \"brk\", \"incr\": \"-4KiB\"},\n"
    "  {\"op\": \"mmap\", \"addr\": 4096, \"len\": 4096, \"prot\": \"\", \"flags\": "
    "\"shared|anonymous|fixed|hugetlb\", \"pagesize\": \"1GiB\"},\n"
    "  {\"op\": \"sysctl\", \"key\": \"transparent_hugepage.enabled\", \"value\": \"always\"},\n"
    "  {\"op\": \"report\", \"what\": \"maps\", \"pid\": 1},\n"
    "  {\"op\": \"expect\", \"pid\": 1, \"minflt\": 3, \"rss\": \"2p\", \"signal\": null,\n"
    "   \"si_code\": \"SEGV_ACCERR\", \"errno\": \"ENOMEM\", \"alive\": true,\n"
    "   \"vmstat\": {\"pgfault\": 3, \"pswpin\": 0}, \"meminfo\": {\"AnonPages\": \"8KiB\", "
    "\"HugePages_Total\": 2}}\n"
    " ]}\n";

static void next_ok(struct vmsim__reader *r, struct vmsim__event *ev, vmsim__op op)
{
    vmsim_trace_error_t err;
    const struct vmsim__event *e = NULL;
    int rc = vmsim__reader_next(r, &e, &err);

    if (rc != 1)
        fail_msg("next: %d (%s)", rc, err.text);
    *ev = *e;
    assert_string_equal(vmsim__op_name(ev->op), vmsim__op_name(op));
}

static void test_good_document(void **state)
{
    struct vmsim__reader *r = NULL;
    struct vmsim__event ev;
    vmsim_trace_error_t err;
    const struct vmsim__system *s;
    char line[1024];

    (void)state;
    if (open_doc(good_doc, &r, line, sizeof(line)) != 0)
        fail_msg("rejected: %s", line);
    s = &r->system;
    assert_int_equal(s->profile, VMSIM_PROFILE_TEXTBOOK);
    assert_true(s->memory == 64 * MiB);
    assert_true(s->swap == 16 * MiB);
    assert_string_equal(s->policy, "lru");
    assert_true(s->resident_limit == 300 * 4096);
    assert_int_equal(s->thp, VMSIM_THP_NEVER);
    assert_int_equal(s->hugepages_2m, 2);
    assert_int_equal(s->overcommit_memory, 2);
    assert_int_equal(s->panic_on_oom, 1);
    assert_true(s->tlb.enabled);
    assert_int_equal(s->tlb.l2, 512);
    assert_false(s->tlb.pcid);
    assert_int_equal(s->tlb_given, (1u << 3) | (1u << 5));
    assert_true(s->track_data);
    assert_int_equal(s->seed, 42);
    assert_int_equal(s->latency.major_fault, 5000);
    assert_int_equal(s->present, (1u << VMSIM__SYS__COUNT) - 1); /* every key given */

    next_ok(r, &ev, VMSIM__OP_SPAWN);
    assert_int_equal(ev.index, 0);
    assert_int_equal(ev.pid, 1);
    assert_string_equal(ev.name, "sh");
    assert_int_equal(ev.oom_score_adj, -100);

    next_ok(r, &ev, VMSIM__OP_MMAP);
    assert_true(ev.len == 8 * 4096);
    assert_int_equal(ev.prot, VMSIM_PROT_READ | VMSIM_PROT_WRITE);
    assert_int_equal(ev.flags, VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS);
    assert_string_equal(ev.as, "buf");
    assert_string_equal(ev.why, "a buffer");
    assert_false(VMSIM__HAS(&ev, ADDR));

    next_ok(r, &ev, VMSIM__OP_W);
    assert_int_equal(ev.addr.name_len, 3);
    assert_int_equal(ev.addr.value, 1536);
    assert_int_equal(ev.data_len, 2);
    assert_memory_equal(ev.data, "\x00\xff", 2);
    assert_int_equal(ev.size, 2); /* from data */

    next_ok(r, &ev, VMSIM__OP_R);
    assert_true(ev.addr.minus);
    assert_int_equal(ev.addr.value, 16);
    assert_int_equal(ev.size, 1); /* the default */

    next_ok(r, &ev, VMSIM__OP_TOUCH);
    assert_null(ev.addr.name);
    assert_true(ev.addr.value == 0x7f0000000000);
    assert_true(ev.len == MiB);
    assert_int_equal(ev.stride, 4096);
    assert_int_equal(ev.access, VMSIM_READ);

    next_ok(r, &ev, VMSIM__OP_REFS);
    assert_int_equal(ev.nr_pages, 4);
    assert_int_equal(ev.pages[2], 7);
    assert_int_equal(ev.access, VMSIM_WRITE);

    next_ok(r, &ev, VMSIM__OP_BRK);
    assert_int_equal(ev.incr, -4096);

    next_ok(r, &ev, VMSIM__OP_MMAP);
    assert_int_equal(ev.prot, VMSIM_PROT_NONE);
    assert_true(ev.pagesize == GiB);

    next_ok(r, &ev, VMSIM__OP_SYSCTL);
    assert_int_equal(ev.sysctl, VMSIM__SYSCTL_THP_ENABLED);
    assert_int_equal(ev.value, VMSIM_THP_ALWAYS);

    next_ok(r, &ev, VMSIM__OP_REPORT);
    assert_int_equal(ev.report, VMSIM_REPORT_MAPS);

    next_ok(r, &ev, VMSIM__OP_EXPECT);
    assert_int_equal(ev.index, 10);
    assert_int_equal(ev.nr_checks, 10); /* 7 keys, 2 vmstat, 2 meminfo, minus nothing */
    assert_int_equal(ev.checks[0].key, VMSIM__CHECK_MINFLT);
    assert_int_equal(ev.checks[0].u, 3);
    assert_int_equal(ev.checks[1].key, VMSIM__CHECK_RSS);
    assert_int_equal(ev.checks[1].u, 8192);
    assert_string_equal(ev.checks[1].text, "2p");
    assert_true(ev.checks[2].is_null);
    assert_int_equal(ev.checks[4].i, VMSIM_SYS_ENOMEM);
    assert_string_equal(ev.checks[6].counter, "pgfault");
    assert_int_equal(ev.checks[8].u, 8192);
    assert_string_equal(ev.checks[9].counter, "HugePages_Total");

    {
        const struct vmsim__event *e = NULL;

        assert_int_equal(vmsim__reader_next(r, &e, &err), 0); /* the end */
    }
    vmsim__reader_close(r);
}

/* ---- overrides ---------------------------------------------------------- */

static void test_overrides(void **state)
{
    struct vmsim__system s;
    vmsim_trace_error_t err;
    char line[1024];

    (void)state;
    memset(&s, 0, sizeof(s));
    vmsim__error_init(&err, "t.json");
    assert_int_equal(vmsim__system_override(&s, "memory", "64MiB", &err), 0);
    assert_true(s.memory == 64 * MiB);
    assert_int_equal(vmsim__system_override(&s, "memory", "65536", &err), 0);
    assert_int_equal(s.memory, 65536);
    assert_int_equal(vmsim__system_override(&s, "memory", "4096", &err), VMSIM_ERANGE);
    vmsim_trace_error_format(&err, line, sizeof(line));
    assert_string_equal(line, "t.json: system \"memory\" (command line): 4096 bytes is below "
                              "the minimum of 65536");
    assert_int_equal(vmsim__system_override(&s, "tlb", "false", &err), 0);
    assert_false(s.tlb.enabled);
    assert_int_equal(vmsim__system_override(&s, "hugepages", "{\"2MiB\": 4}", &err), 0);
    assert_int_equal(s.hugepages_2m, 4);
    assert_int_equal(vmsim__system_override(&s, "policy", "fifo", &err), 0);
    assert_string_equal(s.policy, "fifo");
    assert_int_equal(vmsim__system_override(&s, "resident_limit", "300p", &err), 0);
    assert_true(s.resident_limit == 300 * 4096);

    assert_int_equal(vmsim__system_override(&s, "swappiness", "lots", &err), VMSIM_EPARSE);
    vmsim_trace_error_format(&err, line, sizeof(line));
    assert_string_equal(line, "t.json: system \"swappiness\" (command line): expected an "
                              "integer, got a string");
    assert_int_equal(vmsim__system_override(&s, "ram", "1", &err), VMSIM_EPARSE);
    vmsim_trace_error_format(&err, line, sizeof(line));
    assert_string_equal(line, "t.json: unknown system key \"ram\" (command line)");
}

static void test_error_format(void **state)
{
    vmsim_trace_error_t err;
    char line[256], small[12];
    int n;

    (void)state;
    vmsim__error_init(&err, "a\nb.json");
    vmsim__error_set(&err, VMSIM_EPARSE, "bad\nthing");
    n = vmsim_trace_error_format(&err, line, sizeof(line));
    assert_string_equal(line, "a b.json: bad thing"); /* always one line */
    assert_int_equal(n, (int)strlen(line));
    err.event_index = 0;
    vmsim_trace_error_format(&err, line, sizeof(line));
    assert_string_equal(line, "a b.json: event 0: bad thing");
    snprintf(err.op, sizeof(err.op), "mmap");
    vmsim_trace_error_format(&err, line, sizeof(line));
    assert_string_equal(line, "a b.json: event 0 (op \"mmap\"): bad thing");
    err.line = 3;
    err.column = 7;
    vmsim_trace_error_format(&err, line, sizeof(line));
    assert_string_equal(line, "a b.json:3:7: op \"mmap\": bad thing");
    err.op[0] = '\0';
    vmsim_trace_error_format(&err, line, sizeof(line));
    assert_string_equal(line, "a b.json:3:7: bad thing");
    n = vmsim_trace_error_format(&err, small, sizeof(small));
    assert_int_equal(n, (int)strlen("a b.json:3:7: bad thing"));
    assert_string_equal(small, "a b.json:3:");
}

static void test_system_keys(void **state)
{
    (void)state;
    assert_string_equal(vmsim_trace_system_key(0), "profile");
    assert_string_equal(vmsim_trace_system_key(VMSIM__SYS__COUNT - 1), "latency_ns");
    assert_null(vmsim_trace_system_key(VMSIM__SYS__COUNT));
    assert_int_equal(vmsim__syskey_from_name("resident_limit"), VMSIM__SYS_RESIDENT_LIMIT);
    assert_int_equal(vmsim__syskey_from_name("resident-limit"), -1);
}

/* ---- replay ------------------------------------------------------------- */

/* Write text to a file in the build tree; return its path (static buffer
 * per call site is enough: each test uses one at a time). */
static const char *write_trace(const char *name, const char *text, char *path, size_t len)
{
    FILE *f;

    snprintf(path, len, "%s/test_trace_json_%s.json", VMSIM_BINARY_DIR, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    return path;
}

struct fails {
    int n;
    char first[1024], last[1024];
};

static void collect_fail(void *ctx, const vmsim_trace_error_t *err)
{
    struct fails *f = ctx;

    vmsim_trace_error_format(err, f->n == 0 ? f->first : f->last, sizeof(f->first));
    if (f->n == 0)
        memcpy(f->last, f->first, sizeof(f->last));
    f->n++;
}

/* Replay text; return the status, the formatted error and failures. */
static int replay_text(const char *name, const char *text, bool check, char *line, size_t len,
                       struct fails *fails, vmsim_t **sim_out)
{
    vmsim_replay_options_t opt;
    vmsim_trace_error_t err;
    char path[512];
    FILE *null = fopen("/dev/null", "w");
    int status;

    assert_non_null(null);
    vmsim_replay_options_init(&opt);
    opt.check = check;
    opt.report_out = null;
    opt.on_fail = collect_fail;
    opt.fail_ctx = fails;
    status = vmsim_replay(write_trace(name, text, path, sizeof(path)), &opt, sim_out, NULL,
                          &err);
    fclose(null);
    line[0] = '\0';
    if (status != VMSIM_REPLAY_OK) {
        const char *slash;

        vmsim_trace_error_format(&err, line, len);
        /* Keep messages independent of the build directory. */
        slash = strstr(line, "test_trace_json_");
        if (slash != NULL)
            memmove(line, slash, strlen(slash) + 1);
    }
    return status;
}

#define TRACE(events)                                                                    \
    "{\"vmsim\": 1, \"system\": {\"memory\": \"64MiB\"}, \"events\": [" events "]}"

static void test_replay_ok(void **state)
{
    struct fails fails = {0};
    char line[1024];
    vmsim_t *sim = NULL;
    int status;

    (void)state;
    status = replay_text("ok",
                         TRACE("{\"op\": \"mmap\", \"len\": \"4p\", \"prot\": \"rw\", \"flags\": "
                               "\"private|anonymous\", \"as\": \"buf\"},"
                               "{\"op\": \"touch\", \"addr\": \"buf\", \"len\": \"4p\"},"
                               "{\"op\": \"r\", \"addr\": \"buf+3p\"},"
                               "{\"op\": \"expect\", \"minflt\": 4, \"rss\": \"4p\", \"errno\": 0, "
                               "\"alive\": true, \"signal\": null},"
                               /* a missing file is open()'s ENOENT, not a trace error */
                               "{\"op\": \"read\", \"file\": \"nofile\", \"offset\": 0, "
                               "\"len\": 1},"
                               "{\"op\": \"expect\", \"errno\": \"ENOENT\"}"),
                         true, line, sizeof(line), &fails, &sim);
    if (status != VMSIM_REPLAY_OK)
        fail_msg("status %d: %s / %s", status, line, fails.first);
    assert_non_null(sim);
    assert_int_equal(test_info(sim, 1).minflt, 4);
    assert_string_equal(test_info(sim, 1).name, "init");
    test_sim_free(sim);
}

static void test_replay_expect_fails_and_continues(void **state)
{
    struct fails fails = {0};
    char line[1024];
    vmsim_t *sim = NULL;
    int status;

    (void)state;
    status = replay_text("expect",
                         TRACE("{\"op\": \"mmap\", \"len\": \"2p\", \"prot\": \"rw\", \"flags\": "
                               "\"private|anonymous\", \"as\": \"buf\"},"
                               "{\"op\": \"w\", \"addr\": \"buf\"},"
                               "{\"op\": \"expect\", \"minflt\": 2, \"why\": \"one page\"},"
                               "{\"op\": \"w\", \"addr\": \"buf+1p\"},"
                               "{\"op\": \"expect\", \"rss\": \"1p\", \"minflt\": 2}"),
                         false, line, sizeof(line), &fails, &sim);
    assert_int_equal(status, VMSIM_REPLAY_EXPECT_FAILED);
    assert_int_equal(fails.n, 2);
    assert_string_equal(line, "test_trace_json_expect.json: event 2 (op \"expect\"): pid 1 "
                              "minflt: expected 2, got 1 (why: one page)");
    assert_non_null(strstr(fails.last, "event 4 (op \"expect\"): pid 1 rss: expected 4096 "
                                       "bytes (\"1p\"), got 8192 bytes"));
    /* replay went on after the failure: the second write happened */
    assert_int_equal(test_info(sim, 1).minflt, 2);
    test_sim_free(sim);
}

static void test_replay_runtime_errors(void **state)
{
    static const struct {
        const char *events;
        const char *want; /* after "test_trace_json_rt.json: " */
    } cases[] = {
        {"{\"op\": \"w\", \"addr\": \"nowhere\"}",
         "event 0 (op \"w\"): \"addr\": region \"nowhere\" is not bound (no earlier event "
         "named it with \"as\")"},
        {"{\"op\": \"w\", \"pid\": 7, \"addr\": 0}",
         "event 0 (op \"w\"): no process 7 (spawn it first)"},
        {"{\"op\": \"w\", \"addr\": 0}, {\"op\": \"r\", \"addr\": 0}",
         "event 1 (op \"r\"): process 1 is dead (it was killed by SIGSEGV); only spawn and "
         "expect may name it"},
        {"{\"op\": \"exit\"}, {\"op\": \"exit\"}",
         "event 1 (op \"exit\"): process 1 is dead (it exited); only spawn and expect may "
         "name it"},
        {"{\"op\": \"expect\", \"alive\": true}, {\"op\": \"spawn\", \"pid\": 1}",
         "event 1 (op \"spawn\"): process 1 is alive (spawn needs a new or dead pid)"},
        {"{\"op\": \"spawn\", \"pid\": 2}, {\"op\": \"spawn\", \"pid\": 2}",
         "event 1 (op \"spawn\"): process 2 is alive (spawn needs a new or dead pid)"},
        {"{\"op\": \"mmap\", \"len\": \"1TiB\", \"prot\": \"rw\", \"flags\": "
         "\"private|anonymous\", \"as\": \"big\"},"
         "{\"op\": \"expect\", \"errno\": \"ENOMEM\"},"
         "{\"op\": \"w\", \"addr\": \"big\"}",
         "event 2 (op \"w\"): \"addr\": region \"big\" is not bound: its call at event 0 "
         "failed with ENOMEM"},
        {"{\"op\": \"expect\", \"pid\": 9, \"minflt\": 0}",
         "event 0 (op \"expect\"): no process 9 (spawn it first)"},
        {"{\"op\": \"report\", \"what\": \"maps\", \"pid\": 4}",
         "event 0 (op \"report\"): no process 4 (spawn it first)"},
        {"{\"op\": \"w\", \"addr\": 4096, \"data\": \"x\"}",
         "event 0 (op \"w\"): \"data\" needs \"track_data\": true in \"system\""},
    };
    char line[1024], want[1024];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct fails fails = {0};
        char text[2048];
        int status;

        snprintf(text, sizeof(text), TRACE("%s"), cases[i].events);
        status = replay_text("rt", text, true, line, sizeof(line), &fails, NULL);
        if (status != VMSIM_REPLAY_BAD_TRACE)
            fail_msg("case %zu: status %d, want 2: %s", i, status, line);
        snprintf(want, sizeof(want), "test_trace_json_rt.json: %s", cases[i].want);
        if (strcmp(line, want) != 0)
            fail_msg("case %zu:\n  got  %s\n  want %s", i, line, want);
    }
}

static void test_replay_first_event_spawns_init(void **state)
{
    struct fails fails = {0};
    char line[1024];
    vmsim_t *sim = NULL;
    int status;

    (void)state;
    status = replay_text("spawn1",
                         TRACE("{\"op\": \"spawn\", \"pid\": 1, \"name\": \"systemd\"},"
                               "{\"op\": \"spawn\", \"pid\": 2},"
                               "{\"op\": \"expect\", \"pid\": 2, \"vmsize\": 0}"),
                         true, line, sizeof(line), &fails, &sim);
    if (status != VMSIM_REPLAY_OK)
        fail_msg("status %d: %s", status, line);
    assert_string_equal(test_info(sim, 1).name, "systemd");
    assert_string_equal(test_info(sim, 2).name, "proc2");
    test_sim_free(sim);
}

static void test_replay_overrides_and_bad_paths(void **state)
{
    vmsim_replay_options_t opt;
    vmsim_trace_error_t err;
    vmsim_trace_override_t ov[] = {{"memory", "32MiB"}, {"swappiness", "0"}};
    vmsim_t *sim = NULL;
    char path[512], line[1024];
    int status;

    (void)state;
    vmsim_replay_options_init(&opt);
    opt.overrides = ov;
    opt.nr_overrides = 2;
    status = vmsim_replay(write_trace("ov", TRACE(""), path, sizeof(path)), &opt, &sim, NULL,
                          &err);
    assert_int_equal(status, VMSIM_REPLAY_OK);
    assert_true(vmsim_config(sim)->memory == 32 * MiB);
    assert_int_equal(vmsim_config(sim)->swappiness, 0);
    assert_true(test_info(sim, 1).alive); /* init exists even with no events */
    test_sim_free(sim);

    ov[0].value = "32XB";
    status = vmsim_replay(path, &opt, &sim, NULL, &err);
    assert_int_equal(status, VMSIM_REPLAY_BAD_TRACE);
    assert_null(sim);
    assert_string_equal(err.text, "system \"memory\" (command line): bad size \"32XB\": unknown "
                                  "unit \"XB\" (use B, KiB, MiB, GiB, TiB, K, M, G, T or p)");

    status = vmsim_replay(VMSIM_BINARY_DIR "/no/such/trace.json", NULL, NULL, NULL, &err);
    assert_int_equal(status, VMSIM_REPLAY_BAD_TRACE);
    vmsim_trace_error_format(&err, line, sizeof(line));
    assert_non_null(strstr(line, "no/such/trace.json: cannot open: No such file or directory"));

    vmsim_replay_options_init(&opt);
    opt.format = "lackey";
    status = vmsim_replay(path, &opt, NULL, NULL, &err);
    assert_int_equal(status, VMSIM_REPLAY_BAD_TRACE);
    assert_string_equal(err.text, "no lackey record (\"I  ADDR,SIZE\", \" L ADDR,SIZE\", "
                                  "\" S ...\", \" M ...\") in the file");
    opt.format = "xml";
    status = vmsim_replay(path, &opt, NULL, NULL, &err);
    assert_int_equal(status, VMSIM_REPLAY_BAD_TRACE);
    assert_int_equal(err.code, VMSIM_EINVAL);
}

static void test_replay_resident_limit_above_memory(void **state)
{
    struct fails fails = {0};
    char line[1024];
    int status;

    (void)state;
    status = replay_text("rl",
                         "{\"vmsim\": 1, \"system\": {\"memory\": \"1MiB\", \"resident_limit\": "
                         "\"2MiB\"}, \"events\": []}",
                         false, line, sizeof(line), &fails, NULL);
    assert_int_equal(status, VMSIM_REPLAY_BAD_TRACE);
    assert_string_equal(line, "test_trace_json_rl.json: system \"resident_limit\" (2097152 "
                              "bytes) is more than \"memory\" (1048576 bytes)");
}

static void test_replay_panic(void **state)
{
    struct fails fails = {0};
    char line[1024];
    vmsim_t *sim = NULL;
    int status;

    (void)state;
    status = replay_text("panic",
                         "{\"vmsim\": 1, \"system\": {\"memory\": \"1MiB\", \"panic_on_oom\": 1, "
                         "\"overcommit_memory\": 1},"
                         " \"events\": ["
                         "{\"op\": \"mmap\", \"len\": \"2MiB\", \"prot\": \"rw\", "
                         "\"flags\": \"private|anonymous\", \"as\": \"big\"},"
                         "{\"op\": \"touch\", \"addr\": \"big\", \"len\": \"2MiB\"},"
                         "{\"op\": \"w\", \"addr\": \"nowhere\", \"why\": \"never reached\"},"
                         "{\"op\": \"expect\", \"panic\": false}]}",
                         true, line, sizeof(line), &fails, &sim);
    assert_int_equal(status, VMSIM_REPLAY_PANIC);
    assert_string_equal(line, "test_trace_json_panic.json: event 1 (op \"touch\"): Kernel panic - "
                              "not syncing: Out of memory: system-wide panic_on_oom is enabled");
    /* replay stopped at the panic: neither the bad name nor the expect ran */
    assert_int_equal(fails.n, 0);
    assert_true(vmsim_panicked(sim));
    vmsim_destroy(sim);
}

static void test_replay_track_data(void **state)
{
    struct fails fails = {0};
    char line[1024];
    int status;

    (void)state;
    status = replay_text("data",
                         "{\"vmsim\": 1, \"system\": {\"memory\": \"64MiB\", \"track_data\": true},"
                         " \"events\": ["
                         "{\"op\": \"mmap\", \"len\": \"1p\", \"prot\": \"rw\", "
                         "\"flags\": \"private|anonymous\", \"as\": \"b\"},"
                         "{\"op\": \"w\", \"addr\": \"b+8\", \"data\": \"0x6869\"},"
                         "{\"op\": \"r\", \"addr\": \"b+8\", \"expect\": \"hi\"},"
                         "{\"op\": \"fork\", \"child\": 2},"
                         "{\"op\": \"w\", \"pid\": 2, \"addr\": \"b+8\", \"data\": \"HO\"},"
                         "{\"op\": \"r\", \"pid\": 1, \"addr\": \"b+8\", \"expect\": \"hi\"},"
                         "{\"op\": \"r\", \"pid\": 2, \"addr\": \"b+8\", \"expect\": \"Hi\"}]}",
                         true, line, sizeof(line), &fails, NULL);
    assert_int_equal(status, VMSIM_REPLAY_EXPECT_FAILED);
    assert_int_equal(fails.n, 1);
    assert_non_null(strstr(fails.first, "event 6 (op \"r\"): pid 2 bytes at 0x"));
    assert_non_null(
        strstr(fails.first, ": expected \"Hi\", got \"HO\" (first difference at byte 1)"));
}

static void test_replay_heap(void **state)
{
    struct fails fails = {0};
    char line[1024];
    vmsim_t *sim = NULL;
    int status;

    (void)state;
    status = replay_text("heap",
                         TRACE("{\"op\": \"malloc\", \"size\": 100, \"as\": \"p\"},"
                               "{\"op\": \"w\", \"addr\": \"p+99\"},"
                               "{\"op\": \"realloc\", \"ptr\": \"p\", \"size\": \"1MiB\", "
                               "\"as\": \"p\"},"
                               "{\"op\": \"w\", \"addr\": \"p+1048575\"},"
                               "{\"op\": \"free\", \"ptr\": \"p\"},"
                               "{\"op\": \"calloc\", \"n\": 4, \"size\": 8, \"as\": \"q\"},"
                               "{\"op\": \"free\", \"ptr\": \"q\"},"
                               "{\"op\": \"expect\", \"errno\": 0, \"alive\": true},"
                               "{\"op\": \"free\", \"ptr\": \"q\", \"why\": \"double free\"},"
                               "{\"op\": \"expect\", \"alive\": false, \"signal\": \"SIGABRT\", "
                               "\"si_code\": \"SI_TKILL\"}"),
                         true, line, sizeof(line), &fails, &sim);
    if (status != VMSIM_REPLAY_OK)
        fail_msg("status %d: %s / %s", status, line, fails.first);
    test_sim_free(sim);
}

static void count_event(void *ctx, const vmsim_event_t *ev)
{
    if (ev->type == VMSIM_EV_FAULT)
        ++*(int *)ctx;
}

/* The callback passes through, and the machine stays usable after the
 * replay (it holds nothing of the replay's). */
static void test_replay_events_and_machine_after(void **state)
{
    vmsim_replay_options_t opt;
    vmsim_trace_error_t err;
    vmsim_t *sim = NULL;
    char path[512];
    int faults = 0, status;
    unsigned out = 0;

    (void)state;
    vmsim_replay_options_init(&opt);
    opt.on_event = count_event;
    opt.event_ctx = &faults;
    status = vmsim_replay(write_trace("events",
                                      "{\"vmsim\": 1, \"system\": {\"memory\": \"16MiB\", "
                                      "\"profile\": \"textbook\", \"policy\": \"opt\"}, "
                                      "\"events\": [{\"op\": \"mmap\", \"addr\": \"0x10000000\", "
                                      "\"len\": \"4p\", \"prot\": \"rw\", "
                                      "\"flags\": \"private|anonymous|fixed\"},"
                                      "{\"op\": \"touch\", \"addr\": \"0x10000000\", "
                                      "\"len\": \"3p\"}]}",
                                      path, sizeof(path)),
                          &opt, &sim, NULL, &err);
    assert_int_equal(status, VMSIM_REPLAY_OK);
    assert_int_equal(faults, 3); /* not 6: OPT's pre-pass is silent */
    assert_int_equal(vmsim_access(sim, 1, 0x10003000, 1, VMSIM_WRITE, &out), 0);
    assert_true(out & VMSIM_OUT_MINOR);
    assert_int_equal(faults, 4);
    test_sim_free(sim);
}

/* Integer literals from 2^63 to 2^64 - 1 become strings of their digits,
 * marked \u0000, before jansson (an int64) sees them; nothing else
 * changes. */
static void test_big_ints_quoted(void **state)
{
    static const struct {
        const char *in, *out; /* out NULL: unchanged */
    } cases[] = {
        {"{\"a\": 9223372036854775807}", NULL},               /* INT64_MAX fits */
        {"{\"a\": 9223372036854775808}", "{\"a\": \"\\u00009223372036854775808\"}"},
        {"[18446744073709551615,1]", "[\"\\u000018446744073709551615\",1]"},
        {"[18446744073709551616]", NULL},                     /* past 2^64: jansson's error */
        {"[-9223372036854775809]", NULL},                     /* negative: left alone */
        {"[9223372036854775808.5, 9223372036854775808e0]", NULL}, /* not integers */
        {"{\"s\": \"9223372036854775808\", \"t\": \"\\\" 9223372036854775808\"}", NULL},
        {"{\"x\":99999999999999999999}", NULL},               /* 20 digits, past 2^64 */
        {"{\"x\":10000000000000000000}", "{\"x\":\"\\u000010000000000000000000\"}"},
        {"{18446744073709551615: 1}", NULL},                  /* a key: jansson's error */
        {"{\"a\": \"\\u0000\", \"b\": 18446744073709551615}", NULL}, /* a \u0000 of its own */
        {"{\"a\": \"\\\\u0000\", \"b\": 18446744073709551615}",     /* an escaped backslash */
         "{\"a\": \"\\\\u0000\", \"b\": \"\\u000018446744073709551615\"}"},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *out = NULL;
        size_t n = 0;

        assert_int_equal(vmsim__json_big_ints(cases[i].in, strlen(cases[i].in), &out, &n), 0);
        if (cases[i].out == NULL) {
            if (out != NULL)
                fail_msg("case %zu: rewritten as %s", i, out);
            continue;
        }
        assert_non_null(out);
        assert_string_equal(out, cases[i].out);
        assert_int_equal(n, strlen(cases[i].out));
        free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_document_errors),
        cmocka_unit_test(test_system_unknown_key),
        cmocka_unit_test(test_event_errors),
        cmocka_unit_test(test_unknown_key_lists_expect_checks),
        cmocka_unit_test(test_good_document),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_error_format),
        cmocka_unit_test(test_system_keys),
        cmocka_unit_test(test_replay_ok),
        cmocka_unit_test(test_replay_expect_fails_and_continues),
        cmocka_unit_test(test_replay_runtime_errors),
        cmocka_unit_test(test_replay_first_event_spawns_init),
        cmocka_unit_test(test_replay_overrides_and_bad_paths),
        cmocka_unit_test(test_replay_resident_limit_above_memory),
        cmocka_unit_test(test_replay_panic),
        cmocka_unit_test(test_replay_track_data),
        cmocka_unit_test(test_replay_heap),
        cmocka_unit_test(test_replay_events_and_machine_after),
        cmocka_unit_test(test_big_ints_quoted),
    };

    return cmocka_run_group_tests_name("trace_json", tests, NULL, NULL);
}
