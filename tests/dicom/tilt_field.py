"""Gantry-tilt reslice at the edges of the acquired field, against an analytic
phantom.

usage: tilt_field.py DCMPREP SYNTH PHANTOM_PY WORKDIR

dcmprep-synth writes tilted series of the linear "ramp" phantom; dcmprep
converts them with the default reslice.  The truth is computed here from the
truth file's slice positions alone: an output voxel centre p is in the
acquired field when, at its depth d along the image normal (between the
first and the last slice), its in-plane position relative to the slice
origin interpolated linearly between the two slices around d lies within the
slices' pixel extent, [-0.5, n - 0.5] pixels on each axis (the footprint of
the image, as ITK's inside-buffer test).  Then:

- every in-field voxel carries data: within a few HU of the phantom (the
  phantom is linear, so interpolation is exact; what remains is rounding and
  the clamp to the nearest edge sample, at most one pixel and a slice's
  drift away), none off by more than 50 HU;
- every other voxel is the fill (-1024 HU);
- the counts of the first case, the issue's 15 degree tilt of 112 x 96 x 40
  at 0.9 x 1.2 x 2.5 mm, are printed with the number of in-field voxels
  whose centre lies inside the outermost sample centres.

Before the edge clamp, 3,248 in-field voxels of that series (1,232 of them
with their centre inside the sample centres) came out as fill.
"""
import importlib.util
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import Checks, fresh_dir, skip  # noqa: E402

try:
    import numpy as np
    import nibabel as nib
except ImportError as e:
    skip(f"{e} (install python3-nibabel)")

cli, synth, phantom_py, work = sys.argv[1:5]
spec = importlib.util.spec_from_file_location("phantom", phantom_py)
phantom = importlib.util.module_from_spec(spec)
spec.loader.exec_module(phantom)
fresh_dir(work)
check = Checks()
FILL = -1024.0


def field(truth, lps):
    """(in_field, centre_inside) for LPS points (3 x N), from the slices' IPPs."""
    iop = np.array(truth["iop"], dtype=float)
    r, c = iop[:3], iop[3:]
    nrm = np.cross(r, c)
    sy, sx = truth["pixel_spacing"]  # DICOM order: between rows, between columns
    nx, ny = truth["cols"], truth["rows"]
    ipp = np.array([s["ipp"] for s in truth["slices"]], dtype=float)
    depth = (ipp - ipp[0]) @ nrm
    order = np.argsort(depth)
    ipp, depth = ipp[order], depth[order]
    d = (lps.T - ipp[0]) @ nrm
    z = np.clip(np.searchsorted(depth, d) - 1, 0, len(depth) - 2)
    t = (d - depth[z]) / (depth[z + 1] - depth[z])
    origin = ipp[z] + t[:, None] * (ipp[z + 1] - ipp[z])
    u = ((lps.T - origin) @ r) / sx
    v = ((lps.T - origin) @ c) / sy
    e = 1e-6
    slab = (d >= depth[0] - e) & (d <= depth[-1] + e)
    inf = slab & (u >= -0.5 - e) & (u <= nx - 0.5 + e) & (v >= -0.5 - e) & (v <= ny - 0.5 + e)
    centre = slab & (u >= -e) & (u <= nx - 1 + e) & (v >= -e) & (v <= ny - 1 + e)
    # voxels on the field's boundary (up to rounding) belong to neither side
    edge = slab & ((np.abs(u + 0.5) < 1e-4) | (np.abs(u - nx + 0.5) < 1e-4) |
                   (np.abs(v + 0.5) < 1e-4) | (np.abs(v - ny + 0.5) < 1e-4))
    return inf, centre, edge


def case(name, args, tol):
    src = os.path.join(work, name)
    r = subprocess.run([synth, "-o", src, "--truth", src + ".json", "--phantom", "ramp"] + args,
                       capture_output=True, text=True)
    if not check(r.returncode == 0, f"{name}: synth: {r.stderr}"):
        return None
    out = os.path.join(work, "out_" + name)
    r = subprocess.run([cli, "convert", src, "-o", out, "-q", "--name", "vol"], capture_output=True, text=True)
    if not check(r.returncode == 0, f"{name}: convert: {r.stderr}"):
        return None
    truth = json.load(open(src + ".json"))
    img = nib.load(os.path.join(out, "vol.nii.gz"))
    a = np.asarray(img.dataobj).astype(np.float64).reshape(-1, order="F")
    ijk = np.indices(img.shape).reshape(3, -1, order="F")
    ras = img.affine[:3, :3] @ ijk + img.affine[:3, 3:4]
    lps = ras * np.array([[-1.0], [-1.0], [1.0]])
    inf, centre, edge = field(truth, lps)
    want = phantom.value("ramp", truth["modality"], *lps)
    err = np.abs(a - want)
    inside, outside = inf & ~edge, ~inf & ~edge
    bad = int((err[inside] > 50).sum())
    print(f"{name}: {a.size} voxels, {int(inf.sum())} in the field ({int(centre.sum())} with the centre "
          f"inside the sample centres); in field: {bad} off by > 50 HU, max error {err[inside].max():.2f} HU, "
          f"median {np.median(err[inside]):.3f} HU; outside: {int(outside.sum())}")
    check(inside.sum() > 0.8 * a.size, f"{name}: most voxels are in the field ({int(inside.sum())})")
    check(bad == 0, f"{name}: {bad} in-field voxels off by more than 50 HU (filled or mixed with fill)")
    check(err[inside].max() <= tol, f"{name}: in-field error up to {err[inside].max():.2f} HU (> {tol})")
    check(bool(np.all(a[outside] == FILL)), f"{name}: {int((a[outside] != FILL).sum())} voxels outside "
          f"the field are not the fill")
    return int(inf.sum()), int(centre.sum())


base = ["--rows", "96", "--cols", "112", "--pixel-spacing", "1.2,0.9", "--slices", "40", "--slice-spacing", "2.5"]
counts = case("tilt15", base + ["--tilt", "15"], 4.0)
if counts:
    check(counts == (405888, 403872), f"tilt15: field counts {counts} (expected 405888, 403872)")
case("tilt-15", base + ["--tilt", "-15"], 4.0)
# Uneven steps and a dropped slice: output slices fall between input slices,
# so both neighbours are mixed, each clamped at its own edge.
case("tilt22_uneven", ["--rows", "40", "--cols", "48", "--pixel-spacing", "1.5,1.1", "--slices", "24",
                       "--uneven", "2,2,2,3.1,2", "--drop", "9", "--tilt", "22"], 6.0)
case("tilt18_coronal", ["--orientation", "coronal", "--rows", "36", "--cols", "44", "--slices", "30",
                        "--pixel-spacing", "1,0.8", "--tilt", "18"], 4.0)
check.done("tilt field")
