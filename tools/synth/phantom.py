"""The analytic phantoms of dcmprep-synth (see phantom.c), and a checker.

usage: phantom.py check TRUTH.json NIFTI [--tol T] [--margin MM] [--ignore VALUE]
Maps every voxel centre of NIFTI to world (RAS -> LPS), evaluates the phantom
named in TRUTH.json there and compares.  For "body", voxels closer than
--margin mm (default 2 voxels' diagonal) to a discontinuity are left out, as
are voxels outside the slab the series covers, and voxels equal to --ignore
(the fill value of a resliced grid outside every source slice).  Prints the number of voxels
compared, the max and median absolute error and the fraction within --tol
(default: the rescale slope, i.e. one stored step, plus 0.5 z-ramp steps).
Exit 0 when at least 99.5 % of the compared voxels are within tolerance.
"""
import json
import sys

import numpy as np


def value(name, mr, x, y, z):
    x, y, z = (np.asarray(a, dtype=np.float64) for a in (x, y, z))
    if name == "ramp":
        return 100.0 + 2.0 * x + 3.0 * y + 5.0 * z
    e = (x / 120.0) ** 2 + (y / 90.0) ** 2
    inner = (x / 110.0) ** 2 + (y / 80.0) ** 2
    v = np.where(inner < 1.0, (400.0 if mr else 40.0) + 0.5 * z, 100.0 if mr else 700.0)
    v = np.where((x - 60.0) ** 2 + y ** 2 + z ** 2 < 400.0, 1000.0, v)
    return np.where(e >= 1.0, 0.0 if mr else -1000.0, v)


def distance_to_edges(x, y, z):
    """Lower bound of the distance (mm) to any discontinuity of "body"."""
    d_sphere = np.abs(np.sqrt((x - 60.0) ** 2 + y ** 2 + z ** 2) - 20.0)

    def ell(a, b):
        r = np.sqrt((x / a) ** 2 + (y / b) ** 2)
        return np.abs(r - 1.0) * min(a, b)

    return np.minimum(d_sphere, np.minimum(ell(120.0, 90.0), ell(110.0, 80.0)))


def check(truth_path, nifti_path, tol=None, margin=None, ignore=None):
    import nibabel as nib
    truth = json.load(open(truth_path))
    img = nib.load(nifti_path)
    data = img.get_fdata(dtype=np.float64)  # scl_slope/scl_inter applied
    if data.ndim > 3:
        data = data[..., 0]
    ijk = np.indices(data.shape[:3]).reshape(3, -1)
    ras = img.affine[:3, :3] @ ijk + img.affine[:3, 3:4]
    x, y, z = -ras[0], -ras[1], ras[2]
    want = value(truth["phantom"], truth["modality"] == "MR", x, y, z)
    got = data.reshape(-1)
    keep = np.ones_like(got, dtype=bool) if ignore is None else got != ignore
    zooms = np.sqrt((img.affine[:3, :3] ** 2).sum(axis=0))
    if truth["phantom"] == "body":
        m = margin if margin is not None else 2.0 * float(np.linalg.norm(zooms))
        keep &= distance_to_edges(x, y, z) > m
    # inside the slab the slices cover (along the stacking direction)
    pos = np.array([s["ipp"] for s in truth["slices"]])
    nrm = np.array(truth["normal"])
    d = np.array([x, y, z]).T @ nrm
    dp = pos @ nrm
    keep &= (d >= dp.min() - 1e-3) & (d <= dp.max() + 1e-3)
    if tol is None:
        tol = abs(truth["rescale"][0]) + 0.5 * 0.5 * float(zooms.max()) + 1e-3
    err = np.abs(got[keep] - want[keep])
    if err.size == 0:
        print("phantom check: no voxel to compare")
        return 1
    frac = float((err <= tol).mean())
    print(f"phantom check: {err.size} voxels, max |err| {err.max():.4g}, median {np.median(err):.4g}, "
          f"{100 * frac:.2f} % within {tol:.3g}")
    return 0 if frac >= 0.995 else 1


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[1] != "check":
        sys.exit(__doc__)
    args = sys.argv[2:]
    tol = margin = None
    if "--tol" in args:
        i = args.index("--tol")
        tol = float(args[i + 1])
        del args[i:i + 2]
    if "--margin" in args:
        i = args.index("--margin")
        margin = float(args[i + 1])
        del args[i:i + 2]
    ignore = None
    if "--ignore" in args:
        i = args.index("--ignore")
        ignore = float(args[i + 1])
        del args[i:i + 2]
    sys.exit(check(args[0], args[1], tol, margin, ignore))
