"""Writes a CT-like int16 volume as plain .nii (for benchmarks).

usage: ctlike.py OUT.nii [NX NY NZ]   (default 512 512 300)
An elliptic body of soft tissue (40 HU) with noise, two lungs (-850 HU), a
spine-like bone column and a table, in air (-1000 HU) with a little noise: a
compression ratio close to that of real CT.
"""
import sys

import numpy as np
import nibabel as nib

out = sys.argv[1]
nx, ny, nz = (int(v) for v in sys.argv[2:5]) if len(sys.argv) >= 5 else (512, 512, 300)
rng = np.random.default_rng(0)
x = (np.arange(nx) - nx / 2) / (nx / 2)
y = (np.arange(ny) - ny / 2) / (ny / 2)
X, Y = np.meshgrid(x, y, indexing="ij")
vol = np.empty((nx, ny, nz), np.int16)
for k in range(nz):
    z = k / nz
    img = np.full((nx, ny), -1000.0)
    body = (X / (0.8 + 0.05 * np.sin(6 * z))) ** 2 + (Y / 0.6) ** 2 < 1
    img[body] = 40 + 10 * np.sin(8 * X[body] + 3 * z)
    for cx in (-0.35, 0.35):
        lung = ((X - cx) / 0.25) ** 2 + ((Y + 0.05) / 0.35) ** 2 < 1
        img[lung & body] = -850
    bone = (X / 0.08) ** 2 + ((Y - 0.4) / 0.08) ** 2 < 1
    img[bone] = 700
    img[(Y > 0.75) & (Y < 0.8) & (np.abs(X) < 0.9)] = 200  # table
    noise = np.where(body, 15.0, 3.0) * rng.standard_normal((nx, ny))
    vol[:, :, k] = np.clip(np.round(img + noise), -1024, 3071).astype(np.int16)
aff = np.diag([-0.7, -0.7, 1.25, 1.0])
nib.save(nib.Nifti1Image(vol, aff), out)
