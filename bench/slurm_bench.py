"""docs/examples/slurm_array.sbatch on a private single-node Slurm cluster,
against `dcmprep batch -j 2` on the same machine, in the same run.

usage: slurm_bench.py DCMPREP COHORT_MANIFEST WORK RUNS

Rounds run every case once, in order (interleaved).  Per case: the median
time from sbatch's submission to the last output written (the results are
there), and to `sbatch --wait` returning (it polls the controller every 2 s
at first, then less often, up to every 10 s).
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "cli"))
from slurm_cluster import SlurmCluster, SlurmUnavailable  # noqa: E402

cli, manifest, work, runs = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3], int(sys.argv[4])
script = os.path.join(here, "..", "docs", "examples", "slurm_array.sbatch")
work = os.path.abspath(work)
os.makedirs(work, exist_ok=True)


def last_write(root):
    return max(os.stat(os.path.join(d, f)).st_mtime for d, _, fs in os.walk(root) for f in fs
               if f.endswith(".nii.gz"))


def batch(out):
    shutil.rmtree(out, ignore_errors=True)
    t = time.time()
    r = subprocess.run([cli, "batch", "--manifest", manifest, "-o", out, "-q", "-j", "2"], capture_output=True)
    if r.returncode:
        sys.exit(f"batch: {r.stderr.decode()}")
    return time.time() - t, None


def array(cluster, out, tasks, cpus, fresh=True):
    if fresh:
        shutil.rmtree(out, ignore_errors=True)
    t = time.time()
    r = cluster.run(["sbatch", "--wait", f"--array=1-{tasks}", f"--cpus-per-task={cpus}", "--mem=2G", "--time=20",
                     f"--export=ALL,MANIFEST={manifest},PIPELINE=/dev/null,OUTROOT={out},DCMPREP={cli}", script],
                    cwd=work, timeout=600)
    waited = time.time() - t
    if r.returncode:
        sys.exit(f"sbatch: {r.stderr}")
    return (last_write(out) - t if fresh else float("nan")), waited


try:
    with SlurmCluster(os.path.join(work, "cluster")) as c:
        print(f"  {c.cpus} CPUs; {c.run(['sbatch', '-V']).stdout.strip()}")
        cases = [("dcmprep batch -j 2 (one machine)", lambda: batch(os.path.join(work, "single"))),
                 ("array 1-4, 1 CPU per task", lambda: array(c, os.path.join(work, "a4"), 4, 1)),
                 ("array 1-2, 2 CPUs per task", lambda: array(c, os.path.join(work, "a2"), 2, 2)),
                 ("array 1-4 rerun, up to date", lambda: array(c, os.path.join(work, "a4"), 4, 1, fresh=False))]
        res = {name: [] for name, _ in cases}
        for _ in range(runs):
            for name, f in cases:
                res[name].append(f())
except SlurmUnavailable as e:
    print(f"SKIP: Slurm cannot start here: {e}")
    sys.exit(0)
ours = statistics.median(x[0] for x in res[cases[0][0]])
for name, _ in cases:
    done = statistics.median(x[0] for x in res[name])
    wait = [x[1] for x in res[name] if x[1] is not None]
    line = f"  {name:<34}"
    line += f" results after {done:6.2f} s" if done == done else " nothing written"
    if name != cases[0][0] and done == done:
        line += f" = {done / ours:.2f} x batch"
    if wait:
        line += f"; sbatch --wait returned after {statistics.median(wait):5.2f} s"
    print(line)
