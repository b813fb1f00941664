"""dcmprep convert of shared real series against dcm2niix's references.

usage: vs_reference.py DCMPREP SHARED_DIR WORKDIR SET [SET...]
For every series of each SET (a folder of ../shared/data/dicom whose
reference dcm2niix trusts for geometry, e.g. mr-orientation), the output is
brought to the reference's voxel order by an exact axis permutation/flip
(nibabel.orientations); then the affines must agree to 1e-3 mm, the shapes
(every volume of a 4-D series) must be equal and every voxel value equal (within the reference's integer
quantum; Philips series are compared in dcm2niix's floating-point scaling
where its JSON says it used it).
The independent world-space comparison ../shared/tools/compare_world.py must
also pass.  When several outputs share the reference's series number, one of
them must match.  Sidecars agree with dcm2niix's JSON on the acquisition
facts both record (TE, TR, flip angle, slice thickness, ...).  Skips (exit 77) when the shared data is absent.
"""
import glob
import json
import os
import re
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import Checks, fresh_dir, skip  # noqa: E402

try:
    import numpy as np
    import nibabel as nib
    from nibabel.orientations import io_orientation, ornt_transform, apply_orientation, inv_ornt_aff
except ImportError as e:
    skip(f"{e} (install python3-nibabel)")

cli, shared, work = sys.argv[1:4]
sets = sys.argv[4:]
if not os.path.isdir(os.path.join(shared, "data", "dicom")):
    skip(f"shared data not found at {shared}/data")
fresh_dir(work)
check = Checks()
compared = 0


def scl(img):
    """NIfTI scl_slope/scl_inter (identity when unset)."""
    sl, it = img.dataobj.slope, img.dataobj.inter
    return (sl if sl is not None and np.isfinite(sl) and sl != 0 else 1.0,
            it if it is not None and np.isfinite(it) else 0.0)


def as_reference(img, ref):
    """img's data and affine permuted/flipped to ref's axis order (exact)."""
    data = np.asarray(img.dataobj)
    t = ornt_transform(io_orientation(img.affine), io_orientation(ref.affine))
    out = apply_orientation(data, t)
    aff = img.affine @ inv_ornt_aff(t, data.shape[:3])
    return out, aff


for s in sets:
    src = os.path.join(shared, "data", "dicom", s)
    out = os.path.join(work, s)
    r = subprocess.run([cli, "convert", src, "-o", out, "-q"], capture_output=True, text=True)
    print(f"{s}: convert exit {r.returncode} {r.stderr.strip()}")
    for ref_path in sorted(glob.glob(os.path.join(shared, "data", "reference", s, "*.nii.gz"))):
        name = os.path.basename(ref_path)[len(s) + 1:]
        m = re.match(r"(\d+)_", name)
        ours = glob.glob(os.path.join(out, name))
        if not ours and m:
            # several outputs may share the series number (e.g. magnitude and
            # field map): the reference must match one of them exactly
            ours = sorted(glob.glob(os.path.join(out, m.group(1) + "_*.nii.gz")))
        check(len(ours) >= 1, f"{s}/{name}: no output matching the reference")
        if not ours:
            continue
        ref = nib.load(ref_path)
        db = ref.get_fdata()
        # The reference stores values as integers with scl_slope: equal means
        # within half its quantum (plus float32 rounding).
        tol = 0.5 * abs(scl(ref)[0]) * (ref.get_data_dtype().kind in "iu") + 1e-6 * np.abs(db).max()
        # dcm2niix writes Philips' private floating-point values (stored /
        # ScaleSlope, (2005,100e)) where its JSON says so; dcmprep writes the
        # standard's modality values (stored * RescaleSlope + RescaleIntercept).
        js = json.load(open(ref_path[:-7] + ".json"))
        fp = None
        if js.get("UsePhilipsFloatNotDisplayScaling") and js.get("PhilipsRescaleIntercept", 0) == 0 \
                and js.get("PhilipsScaleSlope"):
            fp = 1.0 / (js["PhilipsRescaleSlope"] * js["PhilipsScaleSlope"])
        notes = []
        best = None
        for o in ours:
            a = nib.load(o)
            da, aa = as_reference(a, ref)
            err = np.abs(aa - ref.affine).max()
            diff = np.abs(da - db).max() if da.shape == db.shape else np.inf
            how = "modality values"
            if fp and da.shape == db.shape and diff > tol:
                diff = np.abs(da * fp - db).max()
                how = "Philips floating-point values"
            notes.append(f"{os.path.basename(o)}: shape {da.shape} affine err {err:.2g} mm max |diff| {diff:.3g} "
                         f"(tol {tol:.3g}, {how})")
            if da.shape == db.shape and err < 1e-3 and diff <= tol:
                best = o
                break
        check(best is not None, f"{s}/{name}: no output equals the reference: " + "; ".join(notes))
        if best is None:
            continue
        # The sidecar agrees with dcm2niix's on the acquisition facts both record.
        ours_js = json.load(open(best[:-7] + ".json"))
        for key in ("SeriesNumber", "EchoTime", "RepetitionTime", "FlipAngle", "SliceThickness",
                    "MagneticFieldStrength", "Modality"):
            if key in js:
                check(key in ours_js, f"{s}/{name}: sidecar lacks {key}")
                if key in ours_js:
                    a_, b_ = ours_js[key], js[key]
                    same = abs(a_ - b_) <= 1e-6 * max(1, abs(b_)) if isinstance(b_, (int, float)) else a_ == b_
                    check(same, f"{s}/{name}: sidecar {key} {a_} vs dcm2niix {b_}")
        sp = np.sqrt((ref.affine[:3, :3] ** 2).sum(axis=0))
        check(sorted(np.round(ours_js.get("VoxelSpacing", [0, 0, 0]), 4)) == sorted(np.round(sp, 4)),
              f"{s}/{name}: sidecar VoxelSpacing {ours_js.get('VoxelSpacing')} vs {sp}")
        check(ours_js.get("PatientName") is None and ours_js.get("PatientID") is None,
              f"{s}/{name}: patient identifiers in the sidecar without --keep-phi")
        if how != "modality values":
            print(f"{s}/{name} = {notes[-1]}")
            compared += 1
            continue  # compare_world compares raw values
        w = subprocess.run([sys.executable, os.path.join(shared, "tools", "compare_world.py"), best, ref_path],
                           capture_output=True, text=True)
        check(w.returncode == 0, f"{s}/{name}: compare_world: {w.stdout.strip()} {w.stderr.strip()}")
        print(f"{s}/{name} = {notes[-1]}; compare_world: {w.stdout.strip()}")
        compared += 1

check.done(f"{compared} series compared", extra_fail=compared == 0)
