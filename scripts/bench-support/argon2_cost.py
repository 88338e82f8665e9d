#!/usr/bin/env python3
"""The Argon2 cost of one sign-in on the reference server: `secinfo admin user
add` hashes one password; `admin user list` is the same process start and
database open without the hash. The difference of the minimums is the hash.

    argon2_cost.py SECINFO_BIN DB_PATH
"""
import statistics
import subprocess
import sys
import time

b, db = sys.argv[1], sys.argv[2]


def run(args, stdin=b""):
    t = time.perf_counter()
    subprocess.run([b, "admin", "--db", db, *args], input=stdin, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


run(["user", "add", "warm"], b"pw-long-enough-123\n")
add, lst = [], []
for i in range(15):
    add.append(run(["user", "add", f"u{i}"], b"pw-long-enough-123\n"))
    lst.append(run(["user", "list"]))
cost = min(add) - min(lst)
print(f"one hash: {cost * 1000:.0f} ms (min add {min(add) * 1000:.0f} ms - min list {min(lst) * 1000:.0f} ms;"
      f" medians {statistics.median(add) * 1000:.0f} / {statistics.median(lst) * 1000:.0f} ms)")
print(f"sign-ins per second this allows: {2 / cost:.0f} with --hashing-workers 2 on 2 cores ({1 / cost:.0f} per core)")
