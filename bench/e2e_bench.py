"""Whole processes, side by side: each dcmprep command against the Python
script it replaces (bench/e2e_ref.py: nibabel load, the numpy/scipy op,
nibabel save in the same format) and against `cat in > out`, the I/O floor.

usage: e2e_bench.py DCMPREP TMPDIR RUNS [REF_RUNS_SLOW]
Input: a CT-like 512x512x140 int16 volume stored as dcm2niix stores CT
(raw values with scl_slope 1, scl_inter -1024), 0.7 x 0.7 x 2.5 mm.
Every command runs RUNS times, interleaved round by round so that load drift
hits all alike, each time writing a new file (the previous output is removed
before the clock starts); the elastic reference (about a minute a run) runs
REF_RUNS_SLOW times (default 1).  Prints medians, the ratio script/dcmprep,
dcmprep's peak RSS against input + output bytes, output dtype and size, and
PASS/MISS for the targets: every op >= 10x the script, no-op <= 1.5x the
I/O floor, elastic <= 1.0 s to .nii and <= 1.5 s to .nii.gz.  Then the other
steps (canonical, crops, clip, cast, random crops, intensity augmentation)
against the same numpy/nibabel code, without targets (BENCH_E2E_MORE=0 skips
them).
"""
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import nibabel as nib

cli, tmp, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
slow_runs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
here = os.path.dirname(os.path.abspath(__file__))
py = "/usr/bin/python3"
os.makedirs(tmp, exist_ok=True)
src = os.path.join(tmp, "ct.nii")
lab = os.path.join(tmp, "lab.nii")


def make_inputs():
    """The CT-like input and its label, made in a child process (see below)."""
    hu = os.path.join(tmp, "hu.nii")
    subprocess.run([py, os.path.join(here, "ctlike.py"), hu, "512", "512", "140"], check=True)
    raw = (np.asarray(nib.load(hu).dataobj).astype(np.int32) + 1024).astype(np.int16)
    img = nib.Nifti1Image(raw, np.diag([-0.7, -0.7, 2.5, 1.0]))
    img.header.set_slope_inter(1, -1024)
    img.header.set_sform(img.affine, 1)
    img.header.set_qform(img.affine, 1)
    nib.save(img, src)
    os.remove(hu)
    nib.save(nib.Nifti1Image((raw.astype(np.int32) - 1024 > 200).astype(np.uint8), img.affine), lab)


if len(sys.argv) > 5 and sys.argv[5] == "--make-inputs":
    make_inputs()
    sys.exit(0)
# A child's peak RSS (wait4's ru_maxrss) starts from its parent's: Linux
# carries the RSS high-water mark of the address space a process leaves at
# exec, and a vfork'ed child leaves its parent's.  The inputs are therefore
# made in a child, and this process never holds volume data.
if not (os.path.exists(src) and os.path.exists(lab)):
    subprocess.run([py, os.path.abspath(__file__)] + sys.argv[1:4] + [str(slow_runs), "--make-inputs"],
                   check=True)
in_bytes = os.path.getsize(src)

# (name, dcmprep arguments after "prep IN -o OUT", script op, output suffix)
OPS = [
    ("no-op", [], "noop", ".nii"),
    ("resample 1 mm linear", ["--spacing", "1,1,1"], "resample", ".nii"),
    ("percentile clip 0.5/99.5", ["--clip-percentile", "0.5,99.5"], "clip", ".nii"),
    ("window 40,400 -> [0,1]", ["--window", "40,400"], "window", ".nii"),
    ("z-score (nonzero)", ["--normalize", "zscore"], "zscore", ".nii"),
    ("rotate 15 deg linear", ["--rand-rotate", "0,0,15:15"], "rotate", ".nii"),
    ("augment rot+zoom+shift", ["--rand-rotate", "10", "--rand-zoom", "0.9,1.1", "--rand-shift", "5",
                                "--seed", "1"], "augment", ".nii"),
    ("elastic s35 a4 .nii", ["--rand-elastic", "4,35"], "elastic", ".nii"),
    ("elastic s35 a4 .nii.gz", ["--rand-elastic", "4,35"], "elastic", ".nii.gz"),
]
# the other steps, each against the same numpy/nibabel code (no target)
MORE = [
    ("canonical (LPS -> RAS)", ["--canonical"], "canonical", ".nii"),
    ("crop-or-pad 400,400,120", ["--crop-or-pad", "400,400,120"], "crop-or-pad", ".nii"),
    ("crop-foreground > -500", ["--crop-foreground=-500"], "crop-foreground", ".nii"),
    ("clip -1000,1000", ["--clip", "-1000,1000"], "clip-fixed", ".nii"),
    ("dtype f32", ["--dtype", "f32"], "cast", ".nii"),
    ("rand-crop 256,256,96", ["--rand-crop", "256,256,96", "--seed", "1"], "rand-crop", ".nii"),
    ("rand-crop-label (+label)", ["--rand-crop-label", "256,256,96", "--seed", "1"], "rand-crop-label", ".nii"),
    ("rand-noise 10", ["--rand-noise", "10", "--seed", "1"], "noise", ".nii"),
    ("rand-gamma 0.8,1.25", ["--rand-gamma", "0.8,1.25", "--seed", "1"], "gamma", ".nii"),
    ("rand-scale 0.9,1.1", ["--rand-scale", "0.9,1.1", "--seed", "1"], "scale", ".nii"),
    ("rand-offset -50,50", ["--rand-offset", "-50,50", "--seed", "1"], "offset", ".nii"),
]
if os.environ.get("BENCH_E2E_MORE", "1") == "0":
    MORE = []


def fresh(path):
    """Every command writes a new file (its old output removed before the
    clock starts): replacing a file costs the same for every command, but
    that cost belongs to the file system, not to the command."""
    for p in (path, path.replace(".nii.gz", ".json").replace(".nii", ".json")):
        if os.path.exists(p):
            os.remove(p)


def run(cmd, out):
    """Seconds and peak RSS (KiB) of one process writing out."""
    fresh(out)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    err = p.stderr.read().decode()
    p.stderr.close()
    if status != 0:
        sys.exit(f"{' '.join(cmd)}: exit status {status}: {err[-400:]}")
    return dt, ru.ru_maxrss


def cat(dst):
    fresh(dst)
    t0 = time.perf_counter()
    subprocess.run(f"cat '{src}' > '{dst}'", shell=True, check=True)
    return time.perf_counter() - t0


rows = []
floor = []
for name, args, op, ext in OPS + MORE:
    ours, rss, ref = [], [], []
    out_ours = os.path.join(tmp, "ours" + ext)
    out_ref = os.path.join(tmp, "ref" + ext)
    nref = slow_runs if op == "elastic" else runs
    for r in range(runs):
        floor.append(cat(os.path.join(tmp, "cat.nii")))
        labelled = op == "rand-crop-label"
        lab_args = ["--label", lab, "--label-out", os.path.join(tmp, "ours_lab.nii")] if labelled else []
        dt, kib = run([cli, "prep", src, "-o", out_ours] + lab_args + args, out_ours)
        ours.append(dt)
        rss.append(kib)
        if r < nref:
            ref_lab = [lab, os.path.join(tmp, "ref_lab.nii")] if labelled else []
            ref.append(run([py, os.path.join(here, "e2e_ref.py"), op, src, out_ref] + ref_lab, out_ref)[0])
    h = nib.load(out_ours).header
    out_bytes = os.path.getsize(out_ours)
    raw_bytes = int(np.prod(h.get_data_shape())) * h.get_data_dtype().itemsize + 352
    rows.append((name, statistics.median(ours), statistics.median(ref), len(ref),
                 max(rss) * 1024 / (in_bytes + raw_bytes), str(h.get_data_dtype()), out_bytes))

io_floor = statistics.median(floor)
print(f"  input {src}: {in_bytes / 1e6:.1f} MB int16 (scl 1, -1024); dcmprep medians of {runs}, "
      f"script medians of {runs} ({slow_runs} for elastic)")
print(f"  I/O floor `cat in > out.nii`: median {io_floor * 1000:.0f} ms")
self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"  peak RSS of this process {self_mb:.0f} MB: a child's peak RSS reads at least this")
print(f"  {'op':<26} {'dcmprep':>9} {'script':>9} {'ratio':>7}  {'RSS/(in+out)':>12}  output")
for k, (name, ours, ref, nref, rss_ratio, dtype, size) in enumerate(rows):
    if k == len(OPS):
        print("  the other steps (no target):")
    ratio = ref / ours
    print(f"  {name:<26} {ours:8.3f}s {ref:8.3f}s {ratio:6.1f}x  {rss_ratio:11.2f}x  {dtype} {size / 1e6:.0f} MB")
noop = rows[0][1]
el_nii, el_gz = rows[7][1], rows[8][1]
t1 = all(r[2] / r[1] >= 10 for r in rows[:len(OPS)])
t2 = noop <= 1.5 * io_floor
t3 = el_nii <= 1.0
t4 = el_gz <= 1.5
print(f"  target every op >= 10x the script: {'PASS' if t1 else 'MISS'}")
print(f"  target no-op <= 1.5x the I/O floor: {noop / io_floor:.2f}x {'PASS' if t2 else 'MISS'}")
print(f"  target elastic to .nii <= 1.0 s: {el_nii:.3f} s {'PASS' if t3 else 'MISS'}; "
      f"to .nii.gz <= 1.5 s: {el_gz:.3f} s {'PASS' if t4 else 'MISS'}")
