"""Times shell commands, interleaved, and prints medians and ratios.

usage: timeit.py RUNS LABEL=COMMAND [LABEL=COMMAND ...]
The first command is ours; every other is a reference.  Each round runs every
command once (in order), so machine-load drift affects them alike.  Prints
one line per command: median seconds, the ratio ours/this (<1 means
we are faster) and, for commands writing OUT=<file>, its size.
"""
import os
import statistics
import subprocess
import sys
import time

runs = int(sys.argv[1])
cmds = [a.split("=", 1) for a in sys.argv[2:]]
times = {label: [] for label, _ in cmds}
for _ in range(runs):
    for label, cmd in cmds:
        t0 = time.perf_counter()
        r = subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        dt = time.perf_counter() - t0
        if r.returncode != 0:
            sys.exit(f"{label}: exit {r.returncode}: {r.stderr.decode()[-300:]}")
        times[label].append(dt)
ours = statistics.median(times[cmds[0][0]])
for label, _ in cmds:
    med = statistics.median(times[label])
    ratio = f"ours/this = {ours / med:.2f}" if label != cmds[0][0] else "(ours)"
    print(f"  {label:<28} median {med:7.3f} s over {runs} runs   {ratio}")
