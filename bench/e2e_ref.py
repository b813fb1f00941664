"""The Python script a whole dcmprep command replaces: load with nibabel, one
numpy/scipy operation (the seed tutorial's code, shared/tools/seed_ops.py),
save the result with nibabel in the same format.

usage: e2e_ref.py OP IN.nii OUT.nii[.gz] [LABEL.nii LABEL_OUT.nii]
OP: noop resample clip window zscore rotate augment elastic, and canonical
crop-or-pad crop-foreground clip-fixed cast rand-crop rand-crop-label noise
gamma scale offset
The parameters match bench/e2e_bench.py's dcmprep commands.
"""
import sys

import numpy as np
import nibabel as nib
from scipy import ndimage
from scipy.interpolate import RegularGridInterpolator
from scipy.ndimage import gaussian_filter


def augment_matrix(shape):
    # rotate 10 deg about the third axis, zoom 1.05, shift 3 voxels: one
    # output -> input mapping about the centre, as dcmprep composes them
    a = np.deg2rad(10.0)
    r = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    m = r / 1.05
    c = (np.array(shape) - 1) / 2.0
    off = c - m @ c + np.array([3.0, -3.0, 1.0])
    return m, off


def elastic(image, alpha=4, sigma=35, bg=0.1):  # seed_ops.elastic
    shape = image.shape
    coords = tuple(np.arange(s) for s in shape)
    f = RegularGridInterpolator(coords, image, method="linear", bounds_error=False, fill_value=bg)
    rng = np.random.default_rng(0)
    d = [gaussian_filter(rng.random(shape) * 2 - 1, sigma, mode="constant", cval=0.) * alpha
         for _ in range(3)]
    x, y, z = np.mgrid[0:shape[0], 0:shape[1], 0:shape[2]]
    idx = np.stack([(x + d[0]).ravel(), (y + d[1]).ravel(), (z + d[2]).ravel()], axis=1)
    return f(idx).reshape(shape).astype(np.float32)


def main():
    op, src, dst = sys.argv[1:4]
    img = nib.load(src)
    rng = np.random.default_rng(1)
    if op == "canonical":
        img = nib.as_closest_canonical(img)
    x = np.asarray(img.dataobj)  # scaled values (float when scl is set)
    aff = img.affine
    if op == "noop":
        y = x
    elif op == "resample":
        sp = img.header.get_zooms()[:3]
        y = ndimage.zoom(x, [s / 1.0 for s in sp], order=1)
        aff = aff @ np.diag([1 / s for s in sp] + [1])
    elif op == "clip":
        lo, hi = np.percentile(x, [0.5, 99.5])
        y = np.clip(x, lo, hi)
    elif op == "window":
        c, w = 40.0, 400.0
        y = np.clip((x.astype(np.float32) - (c - w / 2)) / w, 0, 1)
    elif op == "zscore":
        m = x != 0
        v = x[m]
        y = ((x - v.mean()) / v.std()).astype(np.float32)
    elif op == "rotate":
        y = ndimage.rotate(x, 15, axes=(0, 1), reshape=False, order=1)
    elif op == "augment":
        m, off = augment_matrix(x.shape)
        y = ndimage.affine_transform(x, m, offset=off, order=1)
    elif op == "elastic":
        y = elastic(x.astype(np.float32))
    elif op == "canonical":
        y = x
    elif op == "crop-or-pad":
        lo = [(n - m) // 2 for n, m in zip(x.shape, (400, 400, 120))]
        y = x[lo[0]:lo[0] + 400, lo[1]:lo[1] + 400, lo[2]:lo[2] + 120]
        aff = aff @ np.array([[1, 0, 0, lo[0]], [0, 1, 0, lo[1]], [0, 0, 1, lo[2]], [0, 0, 0, 1]])
    elif op == "crop-foreground":
        idx = np.argwhere(x > -500)
        lo, hi = idx.min(0), idx.max(0) + 1
        y = x[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
        aff = aff @ np.array([[1, 0, 0, lo[0]], [0, 1, 0, lo[1]], [0, 0, 1, lo[2]], [0, 0, 0, 1]])
    elif op == "clip-fixed":
        y = np.clip(x, -1000, 1000)
    elif op == "cast":
        y = x.astype(np.float32)
    elif op in ("rand-crop", "rand-crop-label"):
        size = (256, 256, 96)
        if op == "rand-crop":
            lo = [int(rng.integers(0, n - m + 1)) for n, m in zip(x.shape, size)]
        else:
            lab = np.asarray(nib.load(sys.argv[4]).dataobj)
            fg = np.argwhere(lab > 0)
            c = fg[rng.integers(len(fg))]
            lo = [int(min(max(ci - m // 2, 0), n - m)) for ci, n, m in zip(c, x.shape, size)]
        sl = tuple(slice(a, a + m) for a, m in zip(lo, size))
        y = x[sl]
        aff = aff @ np.array([[1, 0, 0, lo[0]], [0, 1, 0, lo[1]], [0, 0, 1, lo[2]], [0, 0, 0, 1]])
        if op == "rand-crop-label":
            nib.save(nib.Nifti1Image(lab[sl], aff), sys.argv[5])
    elif op == "noise":
        y = (x + rng.normal(0, 10, x.shape)).astype(np.float32)
    elif op == "gamma":
        lo, hi = float(x.min()), float(x.max())
        y = (lo + (hi - lo) * ((x - lo) / (hi - lo)) ** rng.uniform(0.8, 1.25)).astype(np.float32)
    elif op == "scale":
        y = (x * rng.uniform(0.9, 1.1)).astype(np.float32)
    elif op == "offset":
        y = (x + rng.uniform(-50, 50)).astype(np.float32)
    else:
        sys.exit(f"unknown op {op}")
    nib.save(nib.Nifti1Image(y, aff), dst)


main()
