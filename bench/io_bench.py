"""In-process I/O: dcmprep's reader, statistics and writer (io_bench.c) on a
CT-like 512x512x140 int16 volume, stored scaled (scl 1, -1024, as dcm2niix
stores CT: converted to int16 HU in one pass) and unscaled (mapped, no
copy), against nibabel (np.asarray(img.dataobj), img.get_fdata() and
nib.save) in the same run.

usage: io_bench.py IO_BENCH TMPDIR RUNS
"""
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import nibabel as nib

bench, tmp, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
here = os.path.dirname(os.path.abspath(__file__))
os.makedirs(tmp, exist_ok=True)
hu = os.path.join(tmp, "hu.nii")
ct = os.path.join(tmp, "ct.nii")
if not os.path.exists(ct):
    subprocess.run([sys.executable, os.path.join(here, "ctlike.py"), hu, "512", "512", "140"], check=True)
    raw = (np.asarray(nib.load(hu).dataobj).astype(np.int32) + 1024).astype(np.int16)
    img = nib.Nifti1Image(raw, np.diag([-0.7, -0.7, 2.5, 1.0]))
    img.header.set_slope_inter(1, -1024)
    nib.save(img, ct)


def nib_read(path):
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        x = np.asarray(nib.load(path).dataobj)
        x.min(), x.max(), x.mean(), x.std()  # what `info` reports
        t.append(time.perf_counter() - t0)
    return statistics.median(t)


for name, path in (("scaled int16 (scl 1, -1024)", ct), ("int16, no scaling", hu)):
    out = subprocess.run([bench, path, tmp, "2", str(runs)], capture_output=True, text=True, check=True)
    lines = [l.split() for l in out.stdout.splitlines()]
    info = dict(zip(lines[0][::2], lines[0][1::2]))
    res = {l[0]: (float(l[1]), float(l[2])) for l in lines[1:]}
    ref = nib_read(path)
    print(f"  {name}: loads as {info['dtype']}, mapped {info['mapped']}, {int(info['voxels']) / 1e6:.1f} Mvox")
    for k, (wall, cpu) in res.items():
        print(f"    {k:<12} median {wall * 1000:8.1f} ms  (cpu {cpu * 1000:7.1f} ms)")
    rs = res["read+stats"][0]
    print(f"    nibabel read + min/max/mean/std: {ref * 1000:.1f} ms   ratio {ref / rs:.1f}x")
    print(f"    target read + statistics <= 40 ms: {rs * 1000:.1f} ms {'PASS' if rs <= 0.040 else 'MISS'}")
