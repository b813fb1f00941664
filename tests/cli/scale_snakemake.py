"""docs/examples/Snakefile run by Snakemake (`snakemake --cores 2`).

usage: scale_snakemake.py DCMPREP SYNTH WORKDIR

A manifest of synthetic CT series (DICOM folders, and one NIfTI input with a
label) goes through `dcmprep batch` on one machine and through the
Snakefile, with one rule per item and with one rule per shard:

- the outputs are those of batch, byte for byte;
- a rerun has nothing to do ("Nothing to be done") and touches no file;
- after one input series changes, only its item runs again, and the outputs
  are again those of batch over the changed cohort.
"""
import os
import shutil
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
from testutil import Checks, fresh_dir, skip  # noqa: E402
from testutil import tree as tree_of  # noqa: E402

if not shutil.which("snakemake"):
    skip("snakemake is not installed (Debian package snakemake)")
try:
    import numpy as np
    import nibabel as nib
except ImportError as e:
    skip(f"{e} (install python3-nibabel)")

cli, synth, work = (os.path.abspath(a) for a in sys.argv[1:4])
examples = os.path.abspath(os.path.join(here, "..", "..", "docs", "examples"))
snakefile = os.path.join(examples, "Snakefile")
pipeline = os.path.join(examples, "pipeline.txt")
fresh_dir(work)
check = Checks()


def tree(root):
    return tree_of(root, mtimes=True)


def digests(t):
    return {k: v[0] for k, v in t.items()}


def series(i, phantom="body"):
    d = os.path.join(work, "dicom", f"s{i}")
    shutil.rmtree(d, ignore_errors=True)
    r = subprocess.run([synth, "-o", d, "--rows", "40", "--cols", "36", "--slices", str(10 + i), "--phantom", phantom,
                        "--rescale", "1,-1024", "--orientation", ["axial", "coronal", "sagittal"][i % 3],
                        "--series-number", str(i + 1)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


os.makedirs(os.path.join(work, "dicom"))
rows = ["input,output,label"]
for i in range(5):
    series(i)
    rows.append(f"dicom/s{i},sub-{i}/ct,")
# a NIfTI input with a label on its grid
r = subprocess.run([cli, "convert", os.path.join(work, "dicom", "s0"), "-o", os.path.join(work, "nifti"), "-q",
                    "--name", "ct"], capture_output=True, text=True)
assert r.returncode == 0, r.stderr
img = nib.load(os.path.join(work, "nifti", "ct.nii.gz"))
lab = (np.asarray(img.dataobj) > 0).astype(np.uint8)
nib.save(nib.Nifti1Image(lab, img.affine), os.path.join(work, "nifti", "mask.nii.gz"))
rows.append("nifti/ct.nii.gz,sub-9/ct,nifti/mask.nii.gz")
manifest = os.path.join(work, "cohort.csv")
with open(manifest, "w") as f:
    f.write("\n".join(rows) + "\n")


def batch(out):
    r = subprocess.run([cli, "batch", "--manifest", manifest, "--pipeline", pipeline, "-o", out, "-q"],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"batch: {r.stderr}")
    return tree(out)


def snakemake(out, *extra):
    cfg = [f"manifest={manifest}", f"pipeline={pipeline}", f"outroot={out}", f"dcmprep={cli}", *extra]
    return subprocess.run(["snakemake", "-s", snakefile, "--cores", "2", "--config", *cfg],
                          capture_output=True, text=True, cwd=work)


ref = batch(os.path.join(work, "single"))
check(len(ref) == 14, f"batch: 6 items, 7 outputs with sidecars ({len(ref)} files)")
for mode, extra in (("per item", ()), ("per shard", ("shards=3",))):
    out = os.path.join(work, "snake_" + mode.replace(" ", "_"))
    r = snakemake(out, *extra)
    check(r.returncode == 0, f"{mode}: snakemake exit {r.returncode}: {r.stderr[-1500:]}")
    first = tree(out)
    check(digests(first) == digests(ref), f"{mode}: the outputs of batch, byte for byte")
    steps = 6 if mode == "per item" else 3
    check(f"{steps + 1} of {steps + 1} steps (100%) done" in r.stderr, f"{mode}: {steps} jobs and 'all'")
    r = snakemake(out, *extra)
    check(r.returncode == 0 and "Nothing to be done" in r.stderr, f"{mode}: rerun has nothing to do ({r.stderr[-600:]})")
    check(tree(out) == first, f"{mode}: rerun touched no file")

# one input changes: only its item runs again
out = os.path.join(work, "snake_per_item")
before = tree(out)
series(3, phantom="ramp")
ref2 = batch(os.path.join(work, "single"))
r = snakemake(out)
after = tree(out)
check(r.returncode == 0 and "2 of 2 steps (100%) done" in r.stderr, f"changed input: one job and 'all' ({r.stderr[-800:]})")
check(digests(after) == digests(ref2), "changed input: the outputs of batch over the changed cohort")
changed = sorted(k for k in after if after[k] != before[k])
check(changed == ["sub-3/ct.json", "sub-3/ct.nii.gz"], f"changed input: only its outputs rewritten ({changed})")
check.done("snakemake")
