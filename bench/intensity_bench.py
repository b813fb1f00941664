"""Intensity steps against the reference numpy code, measured in the same run.

usage: intensity_bench.py INTENSITY_BENCH WORKDIR [RUNS]
A CT-like 512 x 512 x 140 int16 volume (bench/ctlike.py).  The reference is
the seed tutorial's numpy code (seed_ops.py): the volume converted to float32,
then pclip (np.percentile 0.5/99.5 + np.clip) and zscore_nonzero.  dcmprep's
library steps (no file I/O) run on the int16 volume as loaded, and also on
the float32 conversion.  Window (C 40, W 400) is reported in voxels per
second on one thread (wall time; the CPU time of the same calls beside it,
less affected by other load), for each output (unit float32, u8, hu int16).
Prints medians, ratios numpy/dcmprep and each target with PASS/MISS.
"""
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import nibabel as nib

bench, work = sys.argv[1:3]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
os.makedirs(work, exist_ok=True)
src = os.path.join(work, "ct_512x512x140.nii")
if not os.path.exists(src):
    subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "ctlike.py"), src, "512", "512", "140"],
                   check=True)
x = np.asarray(nib.load(src).dataobj).astype(np.float32)  # as seed_ops.py does


def pclip(x):
    lo, hi = np.percentile(x, [0.5, 99.5])
    return np.clip(x, lo, hi)


def zscore_nonzero(x):
    m = x != 0
    v = x[m]
    return (x - v.mean()) / v.std()


def numpy_time(fn):
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn(x)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def ours(op, threads, *extra):
    r = subprocess.run([bench, src, op, str(threads), str(3 * runs)] + list(extra), capture_output=True, text=True,
                       check=True)
    f = r.stdout.split()
    return float(f[1]), int(f[3]), float(f[5])


ncpu = os.cpu_count()
print(f"input {x.shape} int16 CT-like ({x.size / 1e6:.1f} Mvox); numpy {np.__version__}; {ncpu} cores; "
      f"medians of {runs} (numpy) / {3 * runs} (dcmprep) runs")
for name, op, fn in (("percentile clip 0.5/99.5", "pclip", pclip), ("z-score (mask nonzero)", "zscore", zscore_nonzero)):
    tn = numpy_time(fn)
    t_all, _, _ = ours(op, 0)
    t_1, _, _ = ours(op, 1)
    t_f, _, _ = ours(op, 0, "f32")
    ratio = tn / t_all
    print(f"  {name:26s} numpy {tn:7.3f} s | dcmprep int16 {t_all * 1e3:6.1f} ms ({ncpu} threads), "
          f"{t_1 * 1e3:6.1f} ms (1 thread), float32 input {t_f * 1e3:6.1f} ms | numpy/dcmprep = {ratio:5.1f}x "
          f"(1 thread {tn / t_1:.1f}x, float32 {tn / t_f:.1f}x)  target >= 20x {'PASS' if ratio >= 20 else 'MISS'}")
for out in ("unit", "u8", "hu"):
    t1, n, c1 = ours("window-" + out, 1)
    ta, _, _ = ours("window-" + out, 0)
    g = n / t1 / 1e9
    target = f"  target >= 1.5 Gvox/s per core {'PASS' if g >= 1.5 else 'MISS'}" if out == "unit" else ""
    print(f"  window 40/400 -> {out:4s}       1 thread {t1 * 1e3:6.1f} ms = {g:5.2f} Gvox/s per core "
          f"(CPU time {c1 * 1e3:5.1f} ms); "
          f"{ncpu} threads {ta * 1e3:6.1f} ms ({n / ta / 1e9:.2f} Gvox/s){target}")
