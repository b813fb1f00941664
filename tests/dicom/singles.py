"""Every edge-case file of the shared single/ set (malformed sequences, VR UN,
float pixel data, overlays in the pixel bits, fragmented JPEG, 15-bit JPEG-LS,
enhanced CT, 1-bit segmentations, ...) converts or is refused cleanly: exit 0
with a NIfTI that nibabel reads, or exit 1 with a "dcmprep: ..." message and
nothing in the output folder; never a crash or a hang.  Values are checked
against pydicom where pydicom decodes the file without extra codecs
(uncompressed data: float pixels, overlays masked off by BitsStored, VR UN).

usage: singles.py DCMPREP SHARED_DIR WORKDIR
"""
import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import Checks, fresh_dir, need_shared, skip  # noqa: E402
try:
    import numpy as np
    import nibabel as nib
    import pydicom
except ImportError as e:
    skip(f"{e} (install python3-nibabel python3-pydicom)")

cli, shared, work = sys.argv[1:4]
single = need_shared(shared, "single")
fresh_dir(work)
check = Checks()

converted = refused = compared = 0
for f in sorted(glob.glob(os.path.join(single, "*.dcm"))):
    name = os.path.basename(f)[:-4]
    out = os.path.join(work, name)
    try:
        r = subprocess.run([cli, "convert", f, "-o", out, "-q", "--all", "--no-gz"], capture_output=True,
                           text=True, timeout=120)
    except subprocess.TimeoutExpired:
        check(False, f"{name}: no answer in 120 s")
        continue
    outs = sorted(glob.glob(os.path.join(out, "*")))
    check(r.returncode in (0, 1), f"{name}: exit {r.returncode} (a crash?) {r.stderr[-300:]}")
    if r.returncode == 1:
        refused += 1
        check(r.stderr.startswith("dcmprep: ") and outs == [], f"{name}: refusal without message or with output")
        print(f"refused  {name}: {r.stderr.strip()[:160]}")
        continue
    niis = [o for o in outs if o.endswith(".nii")]
    check(len(niis) >= 1 and all(os.path.exists(o[:-4] + ".json") for o in niis), f"{name}: outputs {outs}")
    converted += 1
    ds = pydicom.dcmread(f)
    note = ""
    ts = ds.file_meta.TransferSyntaxUID
    native = ts in ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99")
    if len(niis) == 1 and native:  # (pydicom 2.3 does not know every syntax of the set)
        ours = np.asarray(nib.load(niis[0]).dataobj).astype(np.float64)
        px = ds.pixel_array.astype(np.float64)
        frames = px if px.ndim == 3 and int(getattr(ds, "NumberOfFrames", 1)) > 1 else px[None]
        frames = frames.copy()
        for i in range(len(frames)):  # rescale: top level, else functional groups (per frame first)
            slope, inter = getattr(ds, "RescaleSlope", None), getattr(ds, "RescaleIntercept", None)
            for seq in ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence"):
                if slope is None and seq in ds:
                    item = ds[seq][i if seq.startswith("Per") else 0]
                    if "PixelValueTransformationSequence" in item:
                        pv = item.PixelValueTransformationSequence[0]
                        slope, inter = pv.RescaleSlope, pv.RescaleIntercept
            if slope is not None:
                frames[i] = frames[i] * float(slope) + float(inter or 0)
        # ours: (cols, rows, slices[, t]); frames: (n, rows, cols) -- compare as multisets per
        # frame, the slice order depending on geometry
        ours_fr = ours.reshape(ours.shape[0], ours.shape[1], -1).transpose(2, 1, 0)
        if ours_fr.shape == frames.shape:
            key = lambda a: sorted(range(len(a)), key=lambda i: a[i].tobytes())
            a = ours_fr[key(ours_fr)]
            b = frames[key(frames)]
            diff = np.abs(a - b).max()
            check(diff <= 1e-4 * max(1, np.abs(b).max()), f"{name}: values differ from pydicom by {diff}")
            note = f"values equal pydicom (max |diff| {diff:.3g})"
            compared += 1
        else:
            note = f"shape {ours.shape} vs pydicom frames {frames.shape}: not compared"
    print(f"ok       {name}: {[os.path.basename(n) for n in niis]} {note}")

check.done(f"{converted} converted ({compared} compared with pydicom), {refused} refused",
           extra_fail=converted == 0)
