"""docs/examples run as written: the GNU parallel and Slurm array recipes.

usage: scale_examples.py DCMPREP DCMPREP_SYNTH WORKDIR [nextflow]

A manifest of synthetic CT series (and one missing input) goes through
`dcmprep batch` on one machine, then through docs/examples/shards_parallel.sh
(GNU parallel, 3 shards) and docs/examples/slurm_array.sbatch (run as Slurm
would: task K of 4 with SLURM_ARRAY_TASK_ID=K): each gives exactly the
single-machine outputs, byte for byte, and the failing item is logged by
exactly one shard.  With "nextflow", docs/examples/main.nf runs on Nextflow's
local executor instead (skipped when nextflow is not installed).
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import Checks, fresh_dir, skip, tree  # noqa: E402

cli, synth, work = sys.argv[1:4]
mode = sys.argv[4] if len(sys.argv) > 4 else "shell"
examples = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "examples")
examples = os.path.abspath(examples)
if mode == "nextflow" and not shutil.which("nextflow"):
    skip("nextflow is not installed (it is not a Debian package); main.nf not run")
if mode == "shell" and not shutil.which("parallel"):
    skip("GNU parallel is not installed (Debian package parallel)")
fresh_dir(work)
check = Checks()


def failed_items(root):
    n = 0
    for f in os.listdir(root):
        if f.startswith("batch-log"):
            n += sum(1 for line in open(os.path.join(root, f)) if json.loads(line).get("status") == "failed")
    return n


rows = ["input,output"]
for i in range(7):
    d = os.path.join(work, "dicom", f"s{i}")
    os.makedirs(os.path.dirname(d), exist_ok=True)
    r = subprocess.run([synth, "-o", d, "--slices", str(10 + i), "--rows", "40", "--cols", "36",
                        "--orientation", ["axial", "coronal", "sagittal"][i % 3]], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rows.append(f"dicom/s{i},subject{i}/ct")
rows.append("dicom/missing,subject7/ct")
manifest = os.path.join(work, "cohort.csv")
with open(manifest, "w") as f:
    f.write("\n".join(rows) + "\n")
pipeline = os.path.join(examples, "pipeline.txt")
single = os.path.join(work, "single")
r = subprocess.run([cli, "batch", "--manifest", manifest, "--pipeline", pipeline, "-o", single, "-q"],
                   capture_output=True, text=True)
ref = tree(single)
check(r.returncode == 1 and len(ref) == 14 and failed_items(single) == 1,
      f"single machine: 7 outputs + sidecars, 1 failed item (exit {r.returncode}, {len(ref)} files)")
env = dict(os.environ, DCMPREP=cli)

if mode == "shell":
    out = os.path.join(work, "parallel")
    r = subprocess.run(["sh", os.path.join(examples, "shards_parallel.sh"), manifest, pipeline, out, "3"],
                       capture_output=True, text=True, env=env)
    check(r.returncode == 1, f"shards_parallel.sh: one shard fails (exit {r.returncode}: {r.stderr})")
    check(tree(out) == ref, "GNU parallel, 3 shards: the same outputs, byte for byte")
    check(failed_items(out) == 1, "the failing item is logged once")
    check(sorted(f for f in os.listdir(out) if f.startswith("batch-log")) ==
          [f"batch-log-{k}-of-3.jsonl" for k in (1, 2, 3)], "one log per shard")

    out = os.path.join(work, "slurm")
    codes = []
    for k in range(1, 5):
        e = dict(env, SLURM_ARRAY_TASK_ID=str(k), SLURM_ARRAY_TASK_COUNT="4", SLURM_ARRAY_TASK_MIN="1",
                 SLURM_ARRAY_TASK_MAX="4", SLURM_CPUS_PER_TASK="1", MANIFEST=manifest, PIPELINE=pipeline, OUTROOT=out)
        codes.append(subprocess.run(["bash", os.path.join(examples, "slurm_array.sbatch")], env=e,
                                    capture_output=True, text=True).returncode)
    check(sorted(codes) == [0, 0, 0, 1], f"slurm_array.sbatch tasks 1..4 exit {codes}")
    check(tree(out) == ref, "Slurm array (run locally), 4 tasks: the same outputs, byte for byte")
    # one task resubmitted (--array=2: Slurm says 1 task, numbered 2) needs
    # SHARDS; without it the script refuses rather than guess N
    e = dict(env, SLURM_ARRAY_TASK_ID="2", SLURM_ARRAY_TASK_COUNT="1", SLURM_ARRAY_TASK_MIN="2",
             SLURM_ARRAY_TASK_MAX="2", MANIFEST=manifest, PIPELINE=pipeline, OUTROOT=out)
    r = subprocess.run(["bash", os.path.join(examples, "slurm_array.sbatch")], env=e, capture_output=True, text=True)
    check(r.returncode == 2 and "SHARDS" in r.stderr, f"--array=2 without SHARDS: refused ({r.returncode} {r.stderr})")
    # with it, the rerun (as after a preempted task) redoes nothing
    r = subprocess.run(["bash", os.path.join(examples, "slurm_array.sbatch")], env=dict(e, SHARDS="4"),
                       capture_output=True, text=True)
    last = [json.loads(x) for x in open(os.path.join(out, "batch-log-2-of-4.jsonl"))][-1]
    check(r.returncode == 0 and last["written"] == 0 and last["up_to_date"] == 2,
          f"task 2 rerun with SHARDS=4: all up to date ({last})")
else:
    out = os.path.join(work, "nextflow")
    r = subprocess.run(["nextflow", "run", os.path.join(examples, "main.nf"), "--manifest", manifest,
                        "--pipeline", pipeline, "--outroot", out, "--shards", "3", "--dcmprep", cli],
                       capture_output=True, text=True, cwd=work)
    check(tree(out) == ref, f"Nextflow, 3 shards: the same outputs ({r.stdout[-500:]} {r.stderr[-500:]})")
check.done("scale examples")
