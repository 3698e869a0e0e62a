#!/usr/bin/env python3
"""Write the binary malformed traces of bad/ (vmtr and gzip cases).

Run from this directory with the vmsim tool: python3 mkbinary.py VMSIM.
Each case is a valid trace made by `vmsim convert`, then damaged; its
bad/NAME.err (kept by hand) holds the message it must give.
"""
import gzip
import os
import subprocess
import sys
import tempfile
import zlib

VMSIM = sys.argv[1]
SMALL = ('{"vmsim": 1, "system": {"memory": "64MiB"}, "events": [\n'
         ' {"op": "mmap", "addr": "0x7f0000000000", "len": "4p", "prot": "rw", "flags": "private|anonymous|fixed", "as": "a"},\n'
         ' {"op": "w", "addr": "0x7f0000000000"},\n'
         ' {"op": "r", "addr": "0x7f0000000008", "size": 8},\n'
         ' {"op": "expect", "minflt": 1}\n]}\n')


def vmtr(text):
    with tempfile.TemporaryDirectory() as d:
        src, out = os.path.join(d, "t.json"), os.path.join(d, "t.vmtr")
        with open(src, "w") as f:
            f.write(text)
        subprocess.run([VMSIM, "convert", src, out], check=True)
        with open(out, "rb") as f:
            return bytearray(f.read())


def put(name, data):
    with open(os.path.join("bad", name), "wb") as f:
        f.write(bytes(data))


good = vmtr(SMALL)
hlen = int.from_bytes(good[12:16], "little")
first = 16 + hlen  # the first record: the mmap event

put("vmtr_truncated.vmtr", good[:-2])                 # the end record cut off
put("vmtr_cut_record.vmtr", good[:first + 5])         # inside the mmap record
bad_tag = bytearray(good)
bad_tag[first] = 0x55                                 # a reserved tag
put("vmtr_bad_tag.vmtr", bad_tag)
v2 = bytearray(good)
v2[8] = 2                                             # major version 2
put("vmtr_version.vmtr", v2)
count = bytearray(good)
count[-1] += 1                                        # the end record's count
put("vmtr_count.vmtr", count)
put("vmtr_trailing.vmtr", good + b"\0\0")             # bytes after the end
field = bytearray(good)
field[first + 2] = 1                                  # mmap's first field -> "child"
put("vmtr_bad_field.vmtr", field)
hdr = bytearray(good)
hdr[16] = ord("[")                                    # the JSON header broken
put("vmtr_bad_header.vmtr", hdr)

doc = gzip.compress(SMALL.encode(), mtime=0)
put("gzip_truncated.json", doc[:len(doc) // 2])
corrupt = bytearray(doc)
corrupt[15] ^= 0xff                                   # inside the deflate data
put("gzip_corrupt.json", corrupt)
put("gzip_trailing.json", doc + b"garbage")
put("gzip_jsonl_syntax.jsonl.gz",
    gzip.compress(b'{"vmsim": 1}\n{"op": "exit"}\n{"op": exit}\n', mtime=0))
