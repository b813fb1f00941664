"""A whole hospital exam folder (shared ct-philips-exam): by default only the two
CT volumes are written; scan flags the localizer and the screenshots; with
--all the localizer and the RGB dose screenshots are written too, the
screenshots as luminance equal to pydicom's decode weighted by ITU-R BT.601,
on a nominal grid recorded in the sidecar.

usage: exam_all.py DCMPREP SHARED_DIR WORKDIR
"""
import glob
import json
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
exam = need_shared(shared, "ct-philips-exam")
fresh_dir(work)
check = Checks()

r = subprocess.run([cli, "scan", exam, "--json"], capture_output=True, text=True)
check(r.returncode == 0, f"scan exit {r.returncode}: {r.stderr}")
rows = json.loads(r.stdout)
series = rows["series"] if isinstance(rows, dict) else rows
kinds = sorted((s["number"], s["kind"]) for s in series)
print("scan:", kinds)
check([k for k in kinds if k[1] == "volume"] == [(201, "volume"), (301, "volume")],
      f"volumes are series 201 and 301 only: {kinds}")
check((100, "localizer") in kinds, "series 100 flagged as localizer")
check(sum(1 for k in kinds if k[0] == 401 and k[1] == "secondary") >= 2, "dose screenshots flagged as secondary")

out = os.path.join(work, "default")
r = subprocess.run([cli, "convert", exam, "-o", out, "-q"], capture_output=True, text=True)
check(r.returncode == 0, f"convert exit {r.returncode}: {r.stderr}")
got = sorted(os.path.basename(p) for p in glob.glob(os.path.join(out, "*.nii.gz")))
check(got == ["201_STEREOTAXIS.nii.gz", "301_STEREOTAXIS.nii.gz"], f"default outputs: {got}")

out = os.path.join(work, "all")
r = subprocess.run([cli, "convert", exam, "-o", out, "-q", "--all"], capture_output=True, text=True)
check(r.returncode == 0, f"convert --all exit {r.returncode}: {r.stderr}")
outs = sorted(glob.glob(os.path.join(out, "*.nii.gz")))
print("--all:", [os.path.basename(p) for p in outs])
check(len(outs) == 6, f"--all writes 6 volumes, got {len(outs)}")

# every RGB screenshot file matches exactly one output's slice
rgb = []
for f in sorted(glob.glob(os.path.join(exam, "**", "*"), recursive=True)):
    try:
        d = pydicom.dcmread(f)
    except Exception:
        continue
    if getattr(d, "SamplesPerPixel", 1) == 3 and "PixelData" in d:
        p = d.pixel_array.astype(np.float64)
        frames = p if p.ndim == 4 else p[None]
        for fr in frames:
            rgb.append(np.floor(0.299 * fr[..., 0] + 0.587 * fr[..., 1] + 0.114 * fr[..., 2] + 0.5))
check(len(rgb) >= 2, f"RGB screenshots found with pydicom: {len(rgb)}")
slices = []
for o in outs:
    js = json.load(open(o[:-7] + ".json"))
    if "ColourConverted" not in js:
        continue
    check("GeometryNominal" in js, f"{os.path.basename(o)}: GeometryNominal recorded")
    a = np.asarray(nib.load(o).dataobj)
    a = a.reshape(a.shape[0], a.shape[1], -1)
    for k in range(a.shape[2]):
        slices.append(a[:, :, k].T.astype(np.float64))  # (rows, cols) like pydicom
matched = sum(any(s.shape == l.shape and np.array_equal(s, l) for s in slices) for l in rgb)
print(f"RGB images: {len(rgb)}, equal to an output slice: {matched}")
check(matched == len(rgb) and len(slices) == len(rgb), f"luminance slices equal pydicom: {matched}/{len(rgb)}, {len(slices)} slices")

check.done()
