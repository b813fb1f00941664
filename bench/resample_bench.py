"""Resampling speed against scipy.ndimage (the reference implementation of the
preprocessing steps), measured in the same run.

usage: resample_bench.py WARP_BENCH WORKDIR [RUNS] [DCMPREP]
A CT-like 512 x 512 x 140 volume at 0.45 x 0.45 x 1 mm (float32, as the
reference code converts it) is resampled to 1 mm isotropic:
  dcmprep (library call, no I/O): nearest, linear, cubic, 1 and 2 threads,
  linear with anti-aliasing;
  scipy.ndimage.zoom(order=0, 1, 3) with the same zoom factors.
Prints medians, Mvox/s of output, ratios scipy/dcmprep, the 2-core speed-up
and dcmprep's peak memory against input + output.  With DCMPREP given and
plastimatch installed, also whole commands with file I/O (.nii in, .nii out):
`dcmprep prep --spacing 1,1,1 --no-antialias` against `plastimatch resample
--spacing "1 1 1"` (linear; plastimatch keeps the origin rather than the
centre of the field of view).
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np
import nibabel as nib
from scipy import ndimage

warp_bench, work = sys.argv[1:3]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
cli = sys.argv[4] if len(sys.argv) > 4 else None
os.makedirs(work, exist_ok=True)
src = os.path.join(work, "ct_045.nii")
shape = (512, 512, 140)
if not os.path.exists(src):
    rng = np.random.default_rng(0)
    x = (np.arange(shape[0]) - 256) / 256
    X, Y = np.meshgrid(x, x, indexing="ij")
    vol = np.empty(shape, np.float32)
    for k in range(shape[2]):
        img = np.full(X.shape, -1000.0)
        body = (X / 0.8) ** 2 + (Y / 0.6) ** 2 < 1
        img[body] = 40 + 10 * np.sin(8 * X[body] + k / 20)
        img[(X / 0.08) ** 2 + ((Y - 0.4) / 0.08) ** 2 < 1] = 700
        vol[:, :, k] = img + 10 * rng.standard_normal(X.shape)
    nib.save(nib.Nifti1Image(vol, np.diag([0.45, 0.45, 1.0, 1.0])), src)
x = np.asarray(nib.load(src).dataobj).astype(np.float32)
zoom = [0.45, 0.45, 1.0]
nvox_in = x.size


def ours(interp, threads, aa=False):
    n = runs if interp == "cubic" or aa else 5 * runs  # fast cases: more runs, steadier median
    r = subprocess.run([warp_bench, src, "1,1,1", interp, str(threads), str(n)] + (["aa"] if aa else []),
                       capture_output=True, text=True, check=True)
    f = r.stdout.split()
    return float(f[1]), tuple(int(v) for v in f[3:6]), int(f[7])


def scipy_time(order):
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        y = ndimage.zoom(x, zoom, order=order)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), y.shape


print(f"input {shape} float32 at 0.45 x 0.45 x 1 mm ({nvox_in / 1e6:.1f} Mvox) -> 1 mm; {runs} runs, medians")
targets = {"nearest": 10, "linear": 20, "cubic": 20}
for interp, order in (("nearest", 0), ("linear", 1), ("cubic", 3)):
    t2, shp, rss = ours(interp, 2)
    t1, _, _ = ours(interp, 1)
    ts, sshape = scipy_time(order)
    nout = np.prod(shp)
    ratio = ts / t2
    print(f"  {interp:8s} dcmprep {t2:7.3f} s ({nout / t2 / 1e6:7.1f} Mvox/s; 1 thread {t1:.3f} s, "
          f"2-core speed-up {t1 / t2:.2f}x)  scipy zoom(order={order}) {ts:7.3f} s  "
          f"scipy/dcmprep = {ratio:5.1f}x  target >= {targets[interp]}x "
          f"{'PASS' if ratio >= targets[interp] else 'MISS'}  shapes {shp} / {sshape}")
    need = (nvox_in * 4 + nout * 4) / 1024
    print(f"           peak memory {rss / 1024:.0f} MiB vs input + output {need / 1024:.0f} MiB "
          f"({rss / need:.2f}x; target <= 1.10x {'PASS' if rss <= 1.10 * need else 'MISS'})")
ta, shp, _ = ours("linear", 2, aa=True)
print(f"  linear with anti-aliasing (Gaussian sigma 0.61, 0.61, 0 voxels): {ta:.3f} s "
      f"({np.prod(shp) / ta / 1e6:.1f} Mvox/s)")

plast = shutil.which("plastimatch")
if cli and plast:
    def cmd_time(args):
        ts = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ts.append(time.perf_counter() - t0)
        return statistics.median(ts)
    tp = cmd_time([plast, "resample", "--input", src, "--output", os.path.join(work, "pl.nii"),
                   "--spacing", "1 1 1"])
    td = cmd_time([cli, "prep", src, "-o", os.path.join(work, "dp.nii"), "--spacing", "1,1,1",
                   "--no-antialias", "-q"])
    print(f"  commands with I/O, linear: dcmprep prep {td:.3f} s, plastimatch resample {tp:.3f} s: "
          f"plastimatch/dcmprep = {tp / td:.1f}x  target >= 3x {'PASS' if tp / td >= 3 else 'MISS'}")
elif cli:
    print("  plastimatch not installed: no comparison with it (apt-get install plastimatch)")
