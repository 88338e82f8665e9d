#!/usr/bin/env python3
"""Time two commands in alternation (A B A B …, so drift hits both alike) and
print each one's median wall time and the ratio A/B. Both must succeed every
time and their output is discarded.

    pairs.py RUNS LABEL_A 'command a' LABEL_B 'command b'

Each command runs through `sh -c`; the shell's start is in both figures alike.
"""
import statistics
import subprocess
import sys
import time


def once(cmd):
    t = time.perf_counter()
    subprocess.run(["sh", "-c", cmd], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main():
    runs, label_a, cmd_a, label_b, cmd_b = int(sys.argv[1]), *sys.argv[2:6]
    once(cmd_a), once(cmd_b)  # warm the page cache and the server
    a, b = [], []
    for _ in range(runs):
        a.append(once(cmd_a))
        b.append(once(cmd_b))
    ma, mb = statistics.median(a), statistics.median(b)
    print(
        f"{label_a}: median {ma * 1000:.1f} ms (min {min(a) * 1000:.1f}) | "
        f"{label_b}: median {mb * 1000:.1f} ms (min {min(b) * 1000:.1f}) | "
        f"ratio {ma / mb:.2f} of medians, {min(a) / min(b):.2f} of minimums, over {runs} pairs"
    )


if __name__ == "__main__":
    main()
