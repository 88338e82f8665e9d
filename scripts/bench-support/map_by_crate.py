#!/usr/bin/env python3
"""Sum a GNU ld / lld link map's kept input sections by the crate (or C
library) they came from: what a binary is made of, without cargo-bloat.

    map_by_crate.py LINK_MAP [TOP]
"""
import collections
import re
import sys

# lld -Map lines:  VMA  LMA  Size  Align  Out/In/Symbol
line_re = re.compile(r"^\s*[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s+(\S.*)$")


def crate_of(name):
    # /path/libtokio-0123abcd.rlib(tokio-0123abcd.tokio.xyz-cgu.03.rcgu.o):(.text...)
    m = re.search(r"lib([A-Za-z0-9_]+?)(?:-[0-9a-f]{16})?\.(?:rlib|a)\(", name)
    if m:
        return m.group(1)
    m = re.search(r"/([A-Za-z0-9_]+?)(?:-[0-9a-f]{16})?\.[A-Za-z0-9_.-]*\.rcgu\.o", name)
    if m:
        return m.group(1)
    if "libstd" in name or "/rustlib/" in name:
        return "std"
    return "other (" + name.split("(")[0].rsplit("/", 1)[-1][:40] + ")"


sizes = collections.Counter()
total = 0
for raw in open(sys.argv[1], errors="replace"):
    m = line_re.match(raw)
    if not m:
        continue
    size, what = int(m.group(1), 16), m.group(2).strip()
    # Input sections only (indented once, carrying a file name and a section in parentheses).
    if ":(" not in what or size == 0:
        continue
    if not any(s in what for s in (":(.text", ":(.rodata", ":(.data", ":(.eh_frame", ":(.gcc_except")):
        continue
    sizes[crate_of(what)] += size
    total += size
top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
print(f"{total / 1e6:.1f} MB of code and data in kept input sections; the largest contributors:")
for name, size in sizes.most_common(top):
    print(f"{size / 1e6:7.2f} MB  {100 * size / total:4.1f} %  {name}")
