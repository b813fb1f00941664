"""dcmprep scan/convert of DICOM, checked in world space.

usage: convert_dicom.py DCMPREP SYNTH PHANTOM_PY WORKDIR
Synthetic series (dcmprep-synth) with known geometry are converted and every
output voxel is compared with the analytic phantom at its world position:
oblique, coronal, sagittal, shuffled names, every transfer syntax, signed and
unsigned with BitsStored 12, MONOCHROME1 (CT: never inverted), enhanced
multi-frame, gantry tilt (resliced and kept), uneven spacing with missing
slices (resampled, split, error), a hostile SeriesDescription, junk files
among the DICOM, bare datasets, patient identifiers.  The real CT sets are
checked by ct_vs_dicom.py.
"""
import glob
import json
import os
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import Checks, fresh_dir, skip  # noqa: E402

try:
    import numpy as np  # noqa: F401
    import nibabel as nib
except ImportError as e:
    skip(f"{e} (install python3-nibabel)")

cli, synth, phantom_py, work = sys.argv[1:5]
fresh_dir(work)
check = Checks()


def run(args):
    return subprocess.run(args, capture_output=True, text=True)


def make(name, args):
    d = os.path.join(work, name)
    r = run([synth, "-o", d, "--truth", d + ".json"] + args)
    check(r.returncode == 0, f"{name}: synth: {r.stderr}")
    return d


def convert(name, src, extra=(), want_rc=0):
    out = os.path.join(work, "out_" + name)
    r = run([cli, "convert", src, "-o", out, "-q"] + list(extra))
    check(r.returncode == want_rc, f"{name}: convert exit {r.returncode} (want {want_rc}): {r.stderr}")
    return sorted(glob.glob(os.path.join(out, "*.nii*"))), out, r


def phantom_ok(name, truth, nii, extra=()):
    r = run([sys.executable, phantom_py, "check", truth, nii] + list(extra))
    check(r.returncode == 0, f"{name}: vs phantom: {r.stdout.strip()}")
    print(f"{name}: {r.stdout.strip()}")


cases = {
    "axial": [],
    "coronal": ["--orientation", "coronal"],
    "sagittal": ["--orientation", "sagittal", "--pixel-spacing", "0.8,1.2"],
    "oblique": ["--iop", "0.866025,0.5,0,-0.5,0.866025,0.1", "--phantom", "ramp", "--rescale", "0.5,-300"],
    "shuffled": ["--shuffle", "9"],
    "unsigned12": ["--unsigned", "--bits-stored", "12"],
    "mono1_ct": ["--monochrome1"],
    "enhanced": ["--enhanced"],
    "mr": ["--modality", "MR"],
    "float_rescale": ["--phantom", "ramp", "--rescale", "0.25,-200"],
}
for ts in ("implicit", "big", "deflate", "rle", "jpeg-lossless", "jpeg-lossless-sv1", "jpeg-ls"):
    cases["ts_" + ts] = ["--ts", ts]
for name, args in cases.items():
    src = make(name, args)
    niis, _, _ = convert(name, src)
    check(len(niis) == 1, f"{name}: outputs {niis}")
    if niis:
        phantom_ok(name, src + ".json", niis[0])

# tilt: resliced by default (rectangular grid), or kept as a sheared affine
src = make("tilt", ["--tilt", "20", "--phantom", "ramp", "--rows", "48", "--cols", "56", "--slices", "24"])
scan = json.loads(run([cli, "scan", src, "--json"]).stdout)
check(abs(scan["series"][0]["tilt_deg"] - 20) < 0.05, f"tilt measured {scan['series'][0]['tilt_deg']}")
niis, _, _ = convert("tilt", src)
if niis:
    # corners of the rectangular grid outside every slice hold the fill value
    phantom_ok("tilt resliced", src + ".json", niis[0], ["--ignore", "-1024"])
    a = nib.load(niis[0]).affine[:3, :3]
    cols = a / np.linalg.norm(a, axis=0)
    check(abs(cols[:, 1] @ cols[:, 2]) < 1e-6, "resliced tilt output is rectangular")
    side = json.load(open(niis[0].replace(".nii.gz", ".json")))
    check("GantryTiltMeasured" in side and "resliced" in side.get("TiltHandling", ""), f"tilt sidecar {side}")
niis, _, _ = convert("tilt_keep", src, ["--tilt", "keep"])
if niis:
    phantom_ok("tilt kept", src + ".json", niis[0])
    img = nib.load(niis[0])
    want = np.array(json.load(open(src + ".json"))["ijk_to_ras"])
    check(np.allclose(img.affine, want, atol=1e-3), f"kept tilt affine\n{img.affine}\nvs truth\n{want}")

# uneven spacing and missing slices
src = make("uneven", ["--phantom", "ramp", "--uneven", "2,2,2,2,3,3,3,3", "--slices", "12"])
niis, _, _ = convert("uneven", src)
if niis:
    phantom_ok("uneven resampled", src + ".json", niis[0])
niis, _, _ = convert("uneven_split", src, ["--uneven", "split"])
check(len(niis) == 2, f"--uneven split gives {len(niis)} volumes")
# each run of equal steps keeps its slices and its own step (5 at 2 mm, 7 at 3 mm)
parts = [(nib.load(n).shape[2], round(float(nib.load(n).header.get_zooms()[2]), 4)) for n in niis]
check(parts == [(5, 2.0), (7, 3.0)], f"--uneven split parts (slices, step): {parts}")
for n in niis:
    phantom_ok("uneven split " + os.path.basename(n), src + ".json", n)
convert("uneven_error", src, ["--uneven", "error"], want_rc=1)
src = make("missing", ["--phantom", "ramp", "--drop", "5,6"])
scan = json.loads(run([cli, "scan", src, "--json"]).stdout)
check(scan["series"][0]["missing_slices"] == 2, f"missing slices {scan['series'][0]['missing_slices']}")
niis, _, _ = convert("missing", src)
if niis:
    phantom_ok("missing resampled", src + ".json", niis[0])

# hostile names and junk files
src = make("hostile", ["--tag", "SeriesDescription=../../x\x01/..", "--series-number", "7"])
with open(os.path.join(src, "junk.txt"), "w") as f:
    f.write("not dicom\n")
with open(os.path.join(src, "empty.dcm"), "w") as f:
    pass
niis, out, r = convert("hostile", src)
check(len(niis) == 1 and os.path.dirname(niis[0]) == out and "/" not in os.path.basename(niis[0])[:-7]
      and ".." not in os.path.basename(niis[0]), f"hostile name: {niis}")
check(not os.path.exists(os.path.join(work, "x.nii.gz")) and not glob.glob(os.path.join(work, "..*")), "escape")
scan = json.loads(run([cli, "scan", src, "--json"]).stdout)
check(len(scan["skipped"]) == 2, f"junk files skipped with reasons: {scan['skipped']}")
before = {p: open(p, "rb").read() for p in glob.glob(os.path.join(src, "*"))}
convert("hostile2", src)
check(all(open(p, "rb").read() == b for p, b in before.items()), "inputs untouched")

# truncated pixel data: clear error, no output
src = make("trunc", ["--slices", "4"])
f0 = sorted(glob.glob(os.path.join(src, "*.dcm")))[1]
data = open(f0, "rb").read()
open(f0, "wb").write(data[:len(data) - 3000])
niis, out, r = convert("trunc", src, want_rc=1)
check(not niis and not glob.glob(os.path.join(out, ".*")), f"truncated: outputs {niis} / temp files left")

# files without preamble and file meta (a bare implicit-VR dataset, as old
# archives hold): read by content, same volume
src = make("bare", ["--ts", "implicit", "--phantom", "ramp", "--slices", "6"])
for f in glob.glob(os.path.join(src, "*.dcm")):
    data = open(f, "rb").read()
    assert data[128:132] == b"DICM"
    meta_len = int.from_bytes(data[140:144], "little")  # (0002,0000) UL group length
    open(f, "wb").write(data[144 + meta_len:])
niis, _, _ = convert("bare", src)
check(len(niis) == 1, f"bare datasets: outputs {niis}")
if niis:
    phantom_ok("bare datasets", src + ".json", niis[0])

# patient identifiers: only with --keep-phi
src = make("phi", ["--slices", "3", "--tag", "PatientName=Doe^Jane", "--tag", "PatientID=12345"])
niis, _, _ = convert("phi", src)
side = json.load(open(niis[0].replace(".nii.gz", ".json"))) if niis else {}
check("PatientName" not in side and "PatientID" not in side and "12345" not in json.dumps(side),
      f"identifiers in the sidecar without --keep-phi: {side}")
niis, _, _ = convert("phi_keep", src, ["--keep-phi"])
side = json.load(open(niis[0].replace(".nii.gz", ".json"))) if niis else {}
check(side.get("PatientName") == "Doe^Jane" and side.get("PatientID") == "12345", f"--keep-phi sidecar {side}")

check.done()
