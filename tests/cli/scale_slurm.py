"""docs/examples/slurm_array.sbatch on a real Slurm cluster.

usage: scale_slurm.py DCMPREP SYNTH WORKDIR

Starts a private single-node cluster (tests/cli/slurm_cluster.py: munged,
slurmctld, slurmd, all in WORKDIR/cluster) and runs a manifest of 8
synthetic CT series through the example script as a 4-task array:

1. `sbatch --wait --array=1-4`: the outputs equal the single-machine
   `dcmprep batch` byte for byte; sacct shows the 4 tasks COMPLETED.
2. The array again into a fresh folder; task 2 is cancelled with scancel
   while it converts its first item (a larger series).  Its log says
   interrupted, sacct says CANCELLED (the other tasks COMPLETED), and
   nothing is partial: no temporary file, every output there equals the
   single-machine one, with its sidecar.
3. `sbatch --wait --array=2` with SHARDS=4 (the task resubmitted alone)
   finishes the cohort: the outputs equal the single-machine ones; sacct:
   COMPLETED.
4. The whole array resubmitted: every item is up to date, no file touched.

Exits 77 (skipped) only when the cluster cannot start (Slurm or munge not
installed, or a daemon failing, with its log).  The daemons are stopped at
the end whatever happened, and the test fails if any process of the
cluster is left.  Prints the times (wall time of each sbatch --wait, and
the tasks' span from sacct) used in docs/scale.md.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, here)
from testutil import Checks, fresh_dir, skip, tree  # noqa: E402
from slurm_cluster import SlurmCluster, SlurmUnavailable  # noqa: E402

cli, synth, work = (os.path.abspath(a) for a in sys.argv[1:4])
examples = os.path.abspath(os.path.join(here, "..", "..", "docs", "examples"))
script = os.path.join(examples, "slurm_array.sbatch")
pipeline = os.path.join(examples, "pipeline.txt")
fresh_dir(work)
check = Checks()
signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))  # ctest's timeout: stop the cluster on the way out


def last_summary(root, k, n=4):
    lines = [json.loads(x) for x in open(os.path.join(root, f"batch-log-{k}-of-{n}.jsonl"))]
    return [x for x in lines if x.get("event") == "summary"][-1], lines


# A cohort of 8 series; rows 2 and 6 (shard 2 of 4) are larger, so that
# task 2 is still converting when it is cancelled.
rows = ["input,output"]
os.makedirs(os.path.join(work, "dicom"))
for i in range(8):
    d = os.path.join(work, "dicom", f"s{i}")
    big = i in (1, 5)
    size = ["--rows", "320", "--cols", "320", "--slices", "120", "--pixel-spacing", "0.7,0.7",
            "--slice-spacing", "1"] if big else ["--rows", "48", "--cols", "40", "--slices", str(12 + i)]
    r = subprocess.run([synth, "-o", d, *size, "--orientation", ["axial", "coronal", "sagittal"][i % 3],
                        "--series-number", str(i + 1)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rows.append(f"dicom/s{i},sub-{i:02d}/ct")
manifest = os.path.join(work, "cohort.csv")
with open(manifest, "w") as f:
    f.write("\n".join(rows) + "\n")
single = os.path.join(work, "single")
t0 = time.monotonic()
r = subprocess.run([cli, "batch", "--manifest", manifest, "--pipeline", pipeline, "-o", single, "-q", "-j", "2"],
                   capture_output=True, text=True)
t_single = time.monotonic() - t0
ref = tree(single)
check(r.returncode == 0 and len(ref) == 16, f"single machine: 8 outputs + sidecars ({r.returncode}, {len(ref)})")

try:
    cluster = SlurmCluster(os.path.join(work, "cluster")).__enter__()
except SlurmUnavailable as e:
    skip(f"Slurm cannot start here: {e}")
jobs = fresh_dir(os.path.join(work, "jobs"))
times = {}


def sbatch(outroot, array, wait=True, extra_env=""):
    # --mem and --cpus-per-task from the command line override the script's
    # #SBATCH lines (8G, 2): small items, and two tasks at once on 2 cores.
    env = f"ALL,MANIFEST={manifest},PIPELINE={pipeline},OUTROOT={outroot},DCMPREP={cli}{extra_env}"
    argv = ["sbatch", "--parsable", f"--array={array}", "--mem=1G", "--cpus-per-task=1", "--time=10",
            f"--export={env}"] + (["--wait"] if wait else []) + [script]
    t = time.monotonic()
    r = cluster.run(argv, cwd=jobs, timeout=300)
    job = re.match(r"(\d+)", r.stdout.strip())
    return r, int(job.group(1)) if job else None, time.monotonic() - t


def states(job):
    tasks = cluster.array_tasks(job)
    done = cluster.completion()
    return {k: done.get(j, ("missing",))[0] for k, j in sorted(tasks.items())}, tasks, done


def span(job):
    """Seconds from the first task's start to the last one's end (sacct, 1 s resolution)."""
    _, tasks, done = states(job)
    stamps = [done[j][2:4] for j in tasks.values() if j in done]
    if not stamps:
        return float("nan")
    parse = lambda s: time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%S"))  # noqa: E731
    return max(parse(e) for _, e in stamps) - min(parse(s) for s, _ in stamps)


try:
    # 1. the array, waited for
    out1 = os.path.join(work, "slurm")
    r, job1, times["array"] = sbatch(out1, "1-4")
    check(r.returncode == 0 and job1, f"sbatch --wait --array=1-4: exit {r.returncode} {r.stderr}")
    check(tree(out1) == ref, "Slurm array, 4 tasks: the same outputs as one machine, byte for byte")
    st, _, _ = states(job1)
    check(st == {k: "COMPLETED" for k in (1, 2, 3, 4)}, f"sacct: every task COMPLETED ({st})")
    times["array_span"] = span(job1)

    # 2. task 2 cancelled while converting its first (large) item
    out2 = os.path.join(work, "slurm_cancel")
    r, job2, _ = sbatch(out2, "1-4", wait=False)
    check(r.returncode == 0 and job2, f"sbatch --array=1-4: {r.stderr}")
    log2 = os.path.join(out2, "batch-log-2-of-4.jsonl")
    end = time.monotonic() + 120
    while time.monotonic() < end and not (os.path.exists(log2) and os.path.getsize(log2) > 0):
        time.sleep(0.02)
    time.sleep(0.05)  # the log is opened as the task starts; its first item takes about 1 s here
    r = cluster.run(["scancel", f"{job2}_2"])
    check(r.returncode == 0, f"scancel {job2}_2: {r.stderr}")
    check(cluster.wait_gone(job2, 120), "the cancelled array ends")
    summary, lines = last_summary(out2, 2)
    check(summary.get("state") == "interrupted" and any(x.get("status") == "interrupted" for x in lines),
          f"task 2 was cancelled mid-item: its log says interrupted ({lines})")
    st, _, _ = states(job2)
    check(st == {1: "COMPLETED", 2: "CANCELLED", 3: "COMPLETED", 4: "COMPLETED"}, f"sacct after scancel: {st}")
    leftovers = [f for _, _, fs in os.walk(out2) for f in fs if f.endswith(".tmp")]
    check(not leftovers, f"no temporary file left: {leftovers}")
    now = tree(out2)
    check(all(ref.get(k) == v for k, v in now.items()), "every output there is complete (the single-machine bytes)")
    check(all(k.replace(".nii.gz", ".json") in now for k in now if k.endswith(".nii.gz")), "each with its sidecar")
    missing = sorted(set(ref) - set(now))
    check(any(m.startswith(("sub-01/", "sub-05/")) for m in missing), f"task 2's outputs were not all made: {missing}")

    # 3. the cancelled task resubmitted alone
    r, job3, times["resubmit"] = sbatch(out2, "2", extra_env=",SHARDS=4")
    check(r.returncode == 0, f"sbatch --wait --array=2 SHARDS=4: exit {r.returncode} {r.stderr}")
    check(tree(out2) == ref, "after the resubmitted task: the cohort complete, the same bytes as one machine")
    st, _, _ = states(job3)
    check(st == {2: "COMPLETED"}, f"sacct, resubmitted task: {st}")
    summary, _ = last_summary(out2, 2)
    check(summary.get("written", 0) >= 1, f"the resubmitted task wrote what was missing ({summary})")

    # 4. the whole array again: nothing to do
    before = {p: os.stat(os.path.join(out1, p)).st_mtime_ns for p in ref}
    r, job4, times["rerun"] = sbatch(out1, "1-4")
    sums = [last_summary(out1, k)[0] for k in (1, 2, 3, 4)]
    check(r.returncode == 0 and all(s.get("written") == 0 and s.get("up_to_date") == 2 for s in sums),
          f"array rerun: every item up to date ({sums})")
    check({p: os.stat(os.path.join(out1, p)).st_mtime_ns for p in ref} == before, "array rerun: no file touched")
    st, _, _ = states(job4)
    check(st == {k: "COMPLETED" for k in (1, 2, 3, 4)}, f"sacct, rerun: {st}")
finally:
    cluster.stop()
    left = cluster.leftovers()
    check(not left, f"no process of the cluster left after stop: {left}")

print(f"times: single machine batch -j 2 {t_single:.2f} s; sbatch --wait --array=1-4 {times.get('array', 0):.1f} s "
      f"(tasks' span in sacct {times.get('array_span', 0):.0f} s); resubmitted task {times.get('resubmit', 0):.1f} s; "
      f"array rerun, all up to date {times.get('rerun', 0):.1f} s ({cluster.cpus} CPUs)")
check.done("real Slurm")
