"""The analytic phantoms of dcmprep-synth (the twin of phantom.c) and checkers.

Positions are DICOM patient coordinates (LPS, mm: +x patient left, +y
posterior, +z head).

  ramp  v = 100 + 2x + 3y + 5z
  body  E(a,b) = (x/a)^2 + (y/b)^2, first match wins:
          E(120,90) >= 1                air     CT -1000  MR 0
          (x-60)^2 + y^2 + z^2 < 20^2   marker  CT  1000  MR 1000  (patient LEFT)
          E(110,80) >= 1                bone    CT   700  MR 100
          otherwise                     tissue  CT 40 + 0.5z  MR 400 + 0.5z

usage:
  phantom.py check TRUTH.json NIFTI [--tol T] [--margin MM] [--ignore VALUE]
                   [--min-frac F]
      Maps every voxel centre of NIFTI to world (RAS -> LPS), evaluates the
      phantom named in TRUTH.json there and compares.  Left out: for "body",
      voxels closer than --margin mm (default: two voxel diagonals) to a
      discontinuity; voxels outside the slab the series covers; voxels equal
      to --ignore (the fill of a resliced grid).  Expected values are clamped
      to the stored range of the truth.  Prints the voxels compared, the max
      and median absolute error and the fraction within --tol (default: one
      rescale slope plus a quarter voxel of the body's z ramp).  Exit 0 when
      the fraction is at least --min-frac (default 0.995), for "body" in each
      region (air, marker, bone, tissue) separately, else 1.
  phantom.py dicom TRUTH.json FILE... [--tol T]
      For every DICOM file (uncompressed; decompress copies first), computes
      each pixel's world position from the file's own ImagePositionPatient,
      ImageOrientationPatient and PixelSpacing (per frame for enhanced
      objects) and checks stored * slope + intercept against the phantom
      there, within half a stored step (--tol adds to that).  Also checks
      that the positions agree with TRUTH.json (matched by file name) and its
      ijk_to_ras for regular series.  Exit 0 when every pixel matches.
"""
import json
import os
import sys

import numpy as np


def _is_mr(modality):
    if isinstance(modality, str):
        return modality.upper() == "MR"
    return bool(modality)


def value(name, modality, x, y, z):
    """Phantom value at LPS positions (arrays broadcast).  modality: "CT"/"MR"
    (or a boolean meaning MR)."""
    mr = _is_mr(modality)
    x, y, z = (np.asarray(a, dtype=np.float64) for a in (x, y, z))
    if name == "ramp":
        return 100.0 + 2.0 * x + 3.0 * y + 5.0 * z
    if name != "body":
        raise ValueError(f"unknown phantom {name!r}")
    e = (x / 120.0) ** 2 + (y / 90.0) ** 2
    inner = (x / 110.0) ** 2 + (y / 80.0) ** 2
    v = np.where(inner < 1.0, (400.0 if mr else 40.0) + 0.5 * z, 100.0 if mr else 700.0)
    v = np.where((x - 60.0) ** 2 + y ** 2 + z ** 2 < 400.0, 1000.0, v)
    return np.where(e >= 1.0, 0.0 if mr else -1000.0, v)


def distance_to_edges(x, y, z):
    """Lower bound of the distance (mm) to any discontinuity of "body"
    (|grad sqrt(E)| <= 1 / min(a, b), so |sqrt(E) - 1| * min(a, b) bounds it)."""
    d_sphere = np.abs(np.sqrt((x - 60.0) ** 2 + y ** 2 + z ** 2) - 20.0)

    def ell(a, b):
        r = np.sqrt((x / a) ** 2 + (y / b) ** 2)
        return np.abs(r - 1.0) * min(a, b)

    return np.minimum(d_sphere, np.minimum(ell(120.0, 90.0), ell(110.0, 80.0)))


def _clamp_to_stored(truth, v):
    """Clamps modality values to what the stored range can represent."""
    if "stored_range" not in truth:
        return v
    slope, inter = truth["rescale"]
    a, b = (s * slope + inter for s in truth["stored_range"])
    return np.clip(v, min(a, b), max(a, b))


def check(truth_path, nifti_path, tol=None, margin=None, ignore=None, min_frac=0.995):
    import nibabel as nib
    with open(truth_path) as f:
        truth = json.load(f)
    img = nib.load(nifti_path)
    data = img.get_fdata(dtype=np.float64)  # scl_slope/scl_inter applied
    if data.ndim > 3:
        data = data[..., 0]
    ijk = np.indices(data.shape[:3]).reshape(3, -1)
    ras = img.affine[:3, :3] @ ijk + img.affine[:3, 3:4]
    x, y, z = -ras[0], -ras[1], ras[2]
    want = _clamp_to_stored(truth, value(truth["phantom"], truth["modality"], x, y, z))
    got = data.reshape(-1)
    keep = np.ones_like(got, dtype=bool) if ignore is None else got != ignore
    zooms = np.sqrt((img.affine[:3, :3] ** 2).sum(axis=0))
    if truth["phantom"] == "body":
        m = margin if margin is not None else 2.0 * float(np.linalg.norm(zooms))
        keep &= distance_to_edges(x, y, z) > m
    # inside the slab the slices cover (along the image normal)
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
    ok = err <= tol
    frac = float(ok.mean())
    print(f"phantom check: {err.size} voxels, max |err| {err.max():.4g}, median {np.median(err):.4g}, "
          f"{100 * frac:.2f} % within {tol:.3g}")
    worst = frac
    if truth["phantom"] == "body":
        # each region on its own, so that a small one (the marker: a
        # left/right flip) cannot hide in the overall fraction
        label = _regions(x[keep], y[keep], z[keep])
        for r, name in enumerate(("air", "marker", "bone", "tissue")):
            sel = label == r
            if sel.any():
                f = float(ok[sel].mean())
                worst = min(worst, f)
                if f < min_frac:
                    print(f"phantom check: {name}: only {100 * f:.2f} % of {int(sel.sum())} voxels within {tol:.3g}")
    return 0 if worst >= min_frac else 1


def _regions(x, y, z):
    """0 air, 1 marker, 2 bone rim, 3 soft tissue (the body's rules)."""
    e = (x / 120.0) ** 2 + (y / 90.0) ** 2
    inner = (x / 110.0) ** 2 + (y / 80.0) ** 2
    lab = np.where(inner < 1.0, 3, 2)
    lab = np.where((x - 60.0) ** 2 + y ** 2 + z ** 2 < 400.0, 1, lab)
    return np.where(e >= 1.0, 0, lab)


def _frames(ds):
    """(ipp, iop, pixel spacing, slope, intercept) of every frame of ds."""
    def num(seq_item, kw, default=None):
        v = getattr(seq_item, kw, None)
        return default if v is None or v == "" else v

    nframes = int(getattr(ds, "NumberOfFrames", 1) or 1)
    shared = ds.SharedFunctionalGroupsSequence[0] if "SharedFunctionalGroupsSequence" in ds else None
    perframe = ds.PerFrameFunctionalGroupsSequence if "PerFrameFunctionalGroupsSequence" in ds else None
    out = []
    for f in range(nframes):
        attrs = {"ipp": num(ds, "ImagePositionPatient"), "iop": num(ds, "ImageOrientationPatient"),
                 "ps": num(ds, "PixelSpacing"), "slope": num(ds, "RescaleSlope", 1.0),
                 "inter": num(ds, "RescaleIntercept", 0.0)}
        for group in (shared, perframe[f] if perframe is not None else None):
            if group is None:
                continue
            if "PlanePositionSequence" in group:
                attrs["ipp"] = group.PlanePositionSequence[0].ImagePositionPatient
            if "PlaneOrientationSequence" in group:
                attrs["iop"] = group.PlaneOrientationSequence[0].ImageOrientationPatient
            if "PixelMeasuresSequence" in group:
                attrs["ps"] = group.PixelMeasuresSequence[0].PixelSpacing
            if "PixelValueTransformationSequence" in group:
                pv = group.PixelValueTransformationSequence[0]
                attrs["slope"] = num(pv, "RescaleSlope", 1.0)
                attrs["inter"] = num(pv, "RescaleIntercept", 0.0)
        out.append(tuple(np.array([float(v) for v in attrs[k]]) for k in ("ipp", "iop", "ps"))
                   + (float(attrs["slope"]), float(attrs["inter"])))
    return out


def check_dicom(truth_path, files, extra_tol=0.0):
    import pydicom
    with open(truth_path) as f:
        truth = json.load(f)
    by_name = {s["file"]: s for s in truth["slices"]}
    order = sorted(truth["slices"], key=lambda s: s["position"])
    kindex = {id(s): i for i, s in enumerate(order)}
    ijk_to_ras = np.array(truth["ijk_to_ras"])
    lo, hi = truth["stored_range"]
    problems, npix, maxerr = [], 0, 0.0
    for path in files:
        ds = pydicom.dcmread(path)
        arr = ds.pixel_array.astype(np.float64)
        frames = _frames(ds)
        if len(frames) == 1:
            arr = arr[np.newaxis]
        stored = arr.reshape(len(frames), int(ds.Rows), int(ds.Columns))
        if stored.min() < lo or stored.max() > hi:
            problems.append(f"{path}: stored values {stored.min()}..{stored.max()} outside [{lo}, {hi}]")
        name = os.path.basename(path)
        for f, (ipp, iop, ps, slope, inter) in enumerate(frames):
            r, c = np.arange(int(ds.Rows)), np.arange(int(ds.Columns))
            rr, cc = np.meshgrid(r, c, indexing="ij")
            p = (ipp[:, None, None] + cc * ps[1] * iop[:3, None, None] + rr * ps[0] * iop[3:, None, None])
            want = value(truth["phantom"], truth["modality"], p[0], p[1], p[2])
            smin, smax = sorted((lo * slope + inter, hi * slope + inter))
            want = np.clip(want, smin, smax)
            got = stored[f] * slope + inter
            keep = np.ones_like(got, dtype=bool)
            if truth["phantom"] == "body":  # exactly on an edge: either side is right
                keep = distance_to_edges(p[0], p[1], p[2]) > 1e-6
            err = np.abs(got - want)[keep]
            tol = 0.5 * abs(slope) * (1 + 1e-9) + 1e-9 * np.abs(want[keep]) + extra_tol
            bad = int((err > tol).sum())
            npix += err.size
            maxerr = max(maxerr, float(err.max()) if err.size else 0.0)
            if bad:
                problems.append(f"{name} frame {f}: {bad} pixels differ (max |err| {err.max():.4g})")
            # the truth file agrees with the file's own geometry
            entry = None
            if truth.get("enhanced"):
                entry = next((s for s in truth["slices"] if s.get("frame") == f + 1), None)
            else:
                entry = by_name.get(name)
            if entry is None:
                problems.append(f"{name} frame {f}: not in the truth file")
                continue
            if not np.allclose(entry["ipp"], ipp, atol=1e-9):
                problems.append(f"{name} frame {f}: IPP {ipp} but truth {entry['ipp']}")
            if not truth.get("enhanced") and int(ds.InstanceNumber) != entry["instance"]:
                problems.append(f"{name}: InstanceNumber {ds.InstanceNumber} but truth {entry['instance']}")
            if truth.get("regular"):
                ras = ijk_to_ras @ np.array([0.0, 0.0, kindex[id(entry)], 1.0])
                if not np.allclose(ras[:3] * [-1, -1, 1], ipp, atol=1e-6):
                    problems.append(f"{name} frame {f}: ijk_to_ras gives {ras[:3]} for IPP {ipp}")
                cols = ijk_to_ras[:3, :2] * np.array([[-1], [-1], [1]])
                if not np.allclose(cols, np.array([iop[:3] * ps[1], iop[3:] * ps[0]]).T, atol=1e-9):
                    problems.append(f"{name} frame {f}: ijk_to_ras i/j columns disagree with IOP/PixelSpacing")
    for p in problems[:20]:
        print("FAIL:", p)
    print(f"dicom check: {len(files)} files, {npix} pixels, max |err| {maxerr:.4g}, "
          f"{len(problems)} problems")
    return 0 if not problems and npix else 1


def _take(args, flag, conv):
    if flag in args:
        i = args.index(flag)
        v = conv(args[i + 1])
        del args[i:i + 2]
        return v
    return None


def main(argv):
    if len(argv) < 3 or argv[0] not in ("check", "dicom"):
        sys.exit(__doc__)
    cmd, args = argv[0], list(argv[1:])
    tol = _take(args, "--tol", float)
    if cmd == "dicom":
        return check_dicom(args[0], args[1:], tol or 0.0)
    margin = _take(args, "--margin", float)
    ignore = _take(args, "--ignore", float)
    min_frac = _take(args, "--min-frac", float)
    if len(args) != 2:
        sys.exit(__doc__)
    return check(args[0], args[1], tol, margin, ignore, 0.995 if min_frac is None else min_frac)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
