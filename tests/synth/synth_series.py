"""dcmprep-synth writes series that other DICOM tools accept and that hold the
phantom at every pixel's true world position.

usage: synth_series.py SYNTH PHANTOM_PY WORKDIR
For each case (transfer syntaxes, orientations, tilt, uneven + missing,
signed/unsigned, BitsStored 12, MONOCHROME1, shuffled names, enhanced, MR):
  - dcmdump parses every file and reports the requested transfer syntax;
  - pydicom (after DCMTK's dcmdjpeg/dcmdjpls/dcmdrle for compressed files)
    gives stored * slope + intercept equal, within half a stored step, to the
    phantom at the pixel's position computed from the file's own
    ImagePositionPatient / ImageOrientationPatient / PixelSpacing;
  - for the regular series dcm2niix can read, its NIfTI matches the phantom in
    world space (phantom.py check).
Exit 77 when dcmdump, dcm2niix or pydicom/nibabel are missing.
"""
import glob
import importlib.util
import os
import shutil
import subprocess
import sys

try:
    import numpy as np
    import pydicom
    import nibabel  # noqa: F401
except ImportError as e:
    print(f"SKIP: {e} (install python3-pydicom python3-nibabel)")
    sys.exit(77)
for tool in ("dcmdump", "dcm2niix", "dcmdjpeg", "dcmdjpls", "dcmdrle"):
    if not shutil.which(tool):
        print(f"SKIP: {tool} not found (install dcmtk dcm2niix)")
        sys.exit(77)

synth, phantom_py, work = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("phantom", phantom_py)
phantom = importlib.util.module_from_spec(spec)
spec.loader.exec_module(phantom)
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []

TS = {"explicit": "1.2.840.10008.1.2.1", "implicit": "1.2.840.10008.1.2", "big": "1.2.840.10008.1.2.2",
      "deflate": "1.2.840.10008.1.2.1.99", "rle": "1.2.840.10008.1.2.5",
      "jpeg-lossless": "1.2.840.10008.1.2.4.57", "jpeg-lossless-sv1": "1.2.840.10008.1.2.4.70",
      "jpeg-ls": "1.2.840.10008.1.2.4.80"}
DECODER = {"rle": "dcmdrle", "jpeg-lossless": "dcmdjpeg", "jpeg-lossless-sv1": "dcmdjpeg", "jpeg-ls": "dcmdjpls"}
# dcm2niix (Debian 12) cannot read JPEG-LS nor deflated files
NIIX_OK = {"explicit", "implicit", "big", "rle", "jpeg-lossless", "jpeg-lossless-sv1"}

cases = [
    ("axial", []),
    ("coronal", ["--orientation", "coronal"]),
    ("sagittal", ["--orientation", "sagittal"]),
    ("oblique_ramp", ["--iop", "0.866025,0.5,0,-0.5,0.866025,0.1", "--phantom", "ramp", "--rescale", "0.5,-300"]),
    ("tilt", ["--tilt", "15", "--rows", "48", "--cols", "56"]),
    ("uneven_missing", ["--uneven", "2,2,3,2,2", "--drop", "7,8", "--phantom", "ramp"]),
    ("unsigned12", ["--unsigned", "--bits-stored", "12"]),
    ("mono1", ["--monochrome1"]),
    ("shuffled", ["--shuffle", "42"]),
    ("enhanced", ["--enhanced"]),
    ("mr", ["--modality", "MR", "--pixel-spacing", "0.9,1.1"]),
] + [("ts_" + t, ["--ts", t]) for t in TS if t != "explicit"]


def ts_of(args):
    return args[args.index("--ts") + 1] if "--ts" in args else "explicit"


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def frames_of(ds):
    """(stored array [frames, rows, cols], per-frame (ipp, iop, spacing, slope, inter))"""
    arr = ds.pixel_array
    if arr.ndim == 2:
        arr = arr[None]
    geo = []
    if "PerFrameFunctionalGroupsSequence" in ds:
        sh = ds.SharedFunctionalGroupsSequence[0]
        for f in ds.PerFrameFunctionalGroupsSequence:
            pv = sh.PixelValueTransformationSequence[0]
            geo.append((f.PlanePositionSequence[0].ImagePositionPatient,
                        sh.PlaneOrientationSequence[0].ImageOrientationPatient,
                        sh.PixelMeasuresSequence[0].PixelSpacing, float(pv.RescaleSlope), float(pv.RescaleIntercept)))
    else:
        geo.append((ds.ImagePositionPatient, ds.ImageOrientationPatient, ds.PixelSpacing,
                    float(getattr(ds, "RescaleSlope", 1)), float(getattr(ds, "RescaleIntercept", 0))))
    return arr, geo


for name, args in cases:
    out = os.path.join(work, name)
    truth = out + ".json"
    r = subprocess.run([synth, "-o", out, "--truth", truth] + args, capture_output=True, text=True)
    check(r.returncode == 0 and not r.stderr, f"{name}: synth exit {r.returncode} {r.stderr}")
    if r.returncode:
        continue
    files = sorted(glob.glob(os.path.join(out, "*")))
    ts = ts_of(args)
    npix = 0
    worst = 0.0
    for f in files:
        d = subprocess.run(["dcmdump", f], capture_output=True, text=True)
        check(d.returncode == 0 and "E:" not in d.stderr, f"{name}: dcmdump {f}: {d.stderr[:200]}")
        meta = pydicom.dcmread(f, stop_before_pixels=True).file_meta
        check(meta.TransferSyntaxUID == TS[ts], f"{name}: transfer syntax of {f} is {meta.TransferSyntaxUID}")
        src = f
        if ts in DECODER:
            src = f + ".raw"
            dr = subprocess.run([DECODER[ts], f, src], capture_output=True, text=True)
            check(dr.returncode == 0, f"{name}: {DECODER[ts]} failed on {f}: {dr.stderr[:200]}")
        ds = pydicom.dcmread(src)
        if src != f:
            os.remove(src)
        arr, geo = frames_of(ds)
        for fr, (ipp, iop, ps, slope, inter) in zip(arr, geo):
            ipp = np.array(ipp, float)
            rdir, cdir = np.array(iop[:3], float), np.array(iop[3:], float)
            j, i = np.indices(fr.shape)
            pts = ipp[:, None, None] + rdir[:, None, None] * i * float(ps[1]) + cdir[:, None, None] * j * float(ps[0])
            want = phantom.value("ramp" if "ramp" in args else "body", "MR" in args, *pts)
            got = fr.astype(float) * slope + inter
            err = np.abs(got - want)
            worst = max(worst, float(err.max()))
            npix += err.size
    check(worst <= 0.5 * abs(float(geo[0][3])) + 1e-6, f"{name}: pixel values off the phantom by {worst}")
    print(f"{name}: {len(files)} files, {npix} pixels vs phantom, max |err| {worst:.3g}")
    if ts in NIIX_OK and "--tilt" not in args and "--uneven" not in args:
        nd = out + "_niix"
        os.makedirs(nd)
        subprocess.run(["dcm2niix", "-z", "n", "-o", nd, out], capture_output=True)
        niis = glob.glob(os.path.join(nd, "*.nii"))
        check(len(niis) == 1, f"{name}: dcm2niix gave {niis}")
        if len(niis) == 1:
            c = subprocess.run([sys.executable, phantom_py, "check", truth, niis[0]], capture_output=True, text=True)
            check(c.returncode == 0, f"{name}: dcm2niix output vs phantom: {c.stdout.strip()}")
            print(f"  dcm2niix: {c.stdout.strip()}")

print(f"synth_series: {len(cases)} cases; {len(failures)} failures")
sys.exit(1 if failures else 0)
