"""The Python module against nibabel and its own contracts.

usage: api.py WORKDIR

- dcmprep.load gives nibabel's array (same dtype, same values; scaled files
  as get_fdata) and affine (exactly) for NIfTI files nibabel wrote: every
  stored dtype, oblique and sheared affines, 4-D, scl_slope/scl_inter, .nii
  and .nii.gz; .array is [i, j, k] (Fortran order), .array_zyx its
  transpose (C order), .spacing and .axcodes as nibabel's;
- DICOM: the synthetic CT series loads as `dcmprep convert` writes it (array,
  affine, sidecar) and scan() equals `dcmprep scan --json`;
- round trips: from_numpy -> save -> nibabel and -> load give the array and
  affine back, for C-ordered, Fortran-ordered, reversed-stride and 4-D
  arrays and every dtype; bool/int8/float16/int64 are widened as documented;
  save of a loaded volume gives the CLI's bytes (`dcmprep convert`);
- views are read-only, zero-copy (pointer into the C buffer) and keep the
  volume alive after close() and deletion; a closed volume raises
  ValueError; errors carry the library's message and the right class.
"""
import gc
import json
import re
import os
import sys
import weakref

from pyutil import Checks, cli, fresh_dir, need_sample, read, skip
import numpy as np
import dcmprep

try:
    import nibabel as nib
except ImportError as e:
    skip(f"{e} (install python3-nibabel)")

work = fresh_dir(sys.argv[1])
check = Checks()
rng = np.random.default_rng(14)


def path(name):
    return os.path.join(work, name)


def oblique(shear=0.0):
    a, b = np.radians(23), np.radians(-11)
    R = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]]) @ \
        np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    A = np.eye(4)
    A[:3, :3] = R @ np.diag([-0.7, 0.8, 2.5])
    A[0, 2] += shear
    A[:3, 3] = [12.5, -40.25, 7.0]
    return A


def same_as_nibabel(p, what):
    v = dcmprep.load(p)
    img = nib.load(p)
    ref = np.asanyarray(img.dataobj)
    scaled = img.dataobj.slope != 1 or img.dataobj.inter != 0
    if scaled:
        ref = img.get_fdata(dtype=np.float64)
    check(v.array.shape == ref.shape, f"{what}: shape {v.array.shape} vs nibabel {ref.shape}")
    if not scaled:
        check(v.array.dtype == ref.dtype, f"{what}: dtype {v.array.dtype} vs {ref.dtype}")
        check(np.array_equal(v.array, ref), f"{what}: values differ from nibabel's")
    else:
        check(np.allclose(v.array, ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max()),
              f"{what}: scaled values differ from nibabel's get_fdata")
    check(np.array_equal(v.affine, img.affine), f"{what}: affine\n{v.affine}\nvs nibabel\n{img.affine}")
    check(np.allclose(v.spacing, img.header.get_zooms()[:3]), f"{what}: spacing {v.spacing}")
    check(v.axcodes == "".join(nib.aff2axcodes(img.affine)), f"{what}: axcodes {v.axcodes}")
    check(v.array.flags.f_contiguous and v.array_zyx.flags.c_contiguous, f"{what}: memory order")
    check(np.array_equal(v.array_zyx, ref.T), f"{what}: array_zyx is not the transpose")
    check(v.name == os.path.basename(p).split(".nii")[0], f"{what}: name {v.name!r}")
    return v


# ---- NIfTI files nibabel wrote --------------------------------------------
for dt in (np.uint8, np.int16, np.uint16, np.int32, np.float32, np.float64):
    for ext in (".nii", ".nii.gz"):
        data = rng.integers(0, 200, size=(7, 6, 5)).astype(dt)
        if np.dtype(dt).kind == "f":
            data = rng.normal(size=(7, 6, 5)).astype(dt)
        p = path(f"t_{np.dtype(dt).name}{ext}")
        nib.save(nib.Nifti1Image(data, oblique(0.3 if dt == np.float32 else 0.0)), p)
        same_as_nibabel(p, os.path.basename(p))
p = path("four_d.nii.gz")
nib.save(nib.Nifti1Image(rng.normal(size=(5, 4, 3, 6)).astype(np.float32), oblique()), p)
v4 = same_as_nibabel(p, "4-D")
check(v4.shape == (5, 4, 3, 6), f"4-D shape {v4.shape}")
p = path("scaled.nii.gz")
im = nib.Nifti1Image(rng.integers(-300, 300, size=(6, 5, 4)).astype(np.int16), oblique())
im.header.set_slope_inter(0.5, -1024)
nib.save(im, p)
same_as_nibabel(p, "scl_slope 0.5, scl_inter -1024")

# ---- DICOM: the synthetic CT series, against the CLI ----------------------
sample = need_sample()
ct = dcmprep.load(sample)
check(ct.name == "ct-body", f"DICOM volume name {ct.name!r}")
conv = path("conv")
cli("convert", sample, "-o", conv, "-q", check=check)
outs = sorted(f for f in os.listdir(conv) if f.endswith(".nii.gz"))
if check(len(outs) == 1, f"convert wrote {outs}"):
    ref = nib.load(os.path.join(conv, outs[0]))
    check(np.array_equal(ct.array, np.asanyarray(ref.dataobj)), "DICOM array differs from convert's")
    check(np.array_equal(ct.affine, ref.affine), "DICOM affine differs from convert's")
    side = json.load(open(os.path.join(conv, outs[0][:-7] + ".json")))
    # convert adds what it needs for reruns (ConvertHash); the volume's own
    # metadata is everything else
    side.pop("ConvertHash", None)
    check(ct.meta == side, "meta differs from convert's sidecar:\n"
          f"{sorted(set(ct.meta.items()) ^ set(side.items()), key=str) if all(isinstance(x, (str, int, float)) for x in list(side.values())) else ''}")
    ct.save(path("ct_py.nii.gz"))
    check(read(path("ct_py.nii.gz")) == read(os.path.join(conv, outs[0])),
          "save of the DICOM volume differs from convert's bytes")
    # the same bytes once convert's last member, ConvertHash, is taken out
    conv_side = read(os.path.join(conv, outs[0][:-7] + ".json")).decode()
    conv_side = re.sub(r',\n  "ConvertHash": "[0-9a-f]+"\n}', "\n}", conv_side).encode()
    check(read(path("ct_py.json")) == conv_side, "save's sidecar differs from convert's bytes (but ConvertHash)")
scanned = dcmprep.scan(sample)
r = cli("scan", sample, "--json")
check(scanned == json.loads(r.stdout)["series"], "scan() differs from dcmprep scan --json")
series, skipped = dcmprep.scan([sample], skipped=True)
check(series == scanned and skipped == [], "scan(skipped=True)")
check(dcmprep.load(sample, series=scanned[0]).shape == ct.shape, "load(series=dict)")
check(dcmprep.load(sample, series=scanned[0]["number"]).shape == ct.shape, "load(series=number)")

# ---- round trips ------------------------------------------------------------
aff = oblique(0.2)
base = rng.normal(size=(9, 8, 7)).astype(np.float32) * 100
cases = {
    "fortran": np.asfortranarray(base),
    "c-order": np.ascontiguousarray(base),
    "reversed": base[::-1, :, ::-2],
    "transposed-view": np.ascontiguousarray(base.T).T,
    "4-D": rng.normal(size=(4, 3, 2, 5)),
}
for dt in (np.uint8, np.int16, np.uint16, np.int32, np.float64):
    cases[np.dtype(dt).name] = rng.integers(0, 250, size=(5, 4, 3)).astype(dt)
for name, arr in cases.items():
    v = dcmprep.Volume.from_numpy(arr, aff, meta={"Modality": "MR", "EchoTime": 0.03, "Flags": [1, 2]})
    check(np.array_equal(v.array, arr) and v.array.dtype == arr.dtype, f"from_numpy {name}: values")
    check(np.array_equal(v.affine, aff), f"from_numpy {name}: affine")
    m = v.meta
    check(m["Modality"] == "MR" and m["EchoTime"] == 0.03 and m["Flags"] == [1, 2], f"from_numpy {name}: meta {m}")
    p = path(f"rt_{name}.nii.gz")
    v.save(p)
    back = nib.load(p)
    check(np.array_equal(np.asanyarray(back.dataobj), arr), f"round trip {name}: nibabel reads other values")
    check(np.allclose(back.affine, aff, atol=1e-12), f"round trip {name}: nibabel affine")
    again = dcmprep.load(p)
    # NIfTI-1 stores the sform in float32: the file's affine is nibabel's, close to aff
    check(np.array_equal(again.array, arr) and np.array_equal(again.affine, back.affine),
          f"round trip {name}: load")
    check(json.load(open(p[:-7] + ".json")) == m, f"round trip {name}: sidecar is not .meta")
widen = {np.bool_: np.uint8, np.int8: np.int16, np.float16: np.float32, np.int64: np.int32}
for src, dst in widen.items():
    arr = (np.arange(24).reshape(2, 3, 4) % 3 - (0 if src == np.bool_ else 1)).astype(src)
    v = dcmprep.Volume.from_numpy(arr)
    check(v.dtype == np.dtype(dst) and np.array_equal(v.array, arr.astype(dst)), f"from_numpy widens {src}")
big = np.array([[[2 ** 40]]], dtype=np.int64)
for bad, exc in ((big, ValueError), (np.zeros((2, 2, 2), np.complex64), TypeError),
                 (np.zeros((2, 2, 2, 2, 2)), ValueError), (np.zeros((0, 3, 3)), ValueError)):
    try:
        dcmprep.Volume.from_numpy(bad)
        check(False, f"from_numpy accepted {bad.dtype} {bad.shape}")
    except exc:
        pass
for bad_aff, what in ((np.diag([1, 0, 1, 1.0]), "singular"), (np.full((4, 4), np.nan), "non-finite"),
                      (np.eye(3), "3x3")):
    try:
        dcmprep.Volume.from_numpy(np.zeros((2, 2, 2)), bad_aff)
        check(False, f"from_numpy accepted a {what} affine")
    except (ValueError, dcmprep.Error) as e:
        check(str(e) != "", f"{what} affine: empty message")
v2 = dcmprep.Volume.from_numpy(np.zeros((3, 4)))
check(v2.shape == (3, 4, 1), f"2-D array gets a unit k axis: {v2.shape}")

# ---- views, ownership, closed volumes ----------------------------------------
v = dcmprep.Volume.from_numpy(np.arange(60, dtype=np.int16).reshape(3, 4, 5))
a = v.array
import ctypes  # noqa: E402
check(a.ctypes.data == dcmprep._lib.lib.dp_volume_data(v._h.ptr), "array is not a view of the C buffer")
check(a is v.array, "array view not cached")
try:
    a[0, 0, 0] = 7
    check(False, "array view is writable")
except ValueError:
    pass
try:
    a.flags.writeable = True
    check(False, "array view can be made writable")
except ValueError:
    pass
ref = weakref.ref(v._h)
v.close()
check(v.closed and ref() is not None, "close() freed the memory under a live view")
check(int(a.sum()) == sum(range(60)), "view after close() reads other values")
for attr in ("array", "affine", "meta", "shape"):
    try:
        getattr(v, attr)
        check(False, f"closed volume: .{attr} did not raise")
    except ValueError as e:
        check("closed" in str(e), f"closed volume message: {e}")
try:
    dcmprep.steps.canonical(v)
    check(False, "a step accepted a closed volume")
except ValueError:
    pass
z = dcmprep.Volume.from_numpy(np.ones((4, 4, 4), np.float32)).array_zyx  # the Volume is gone at once
gc.collect()
check(float(z.sum()) == 64.0, "array_zyx of a dropped volume")
del a, z
gc.collect()
check(ref() is None, "the C volume outlived its last view")
with dcmprep.load(path("t_int16.nii.gz")) as w:
    check(w.shape == (7, 6, 5), "context manager")
check(w.closed, "with-block did not close the volume")

# ---- pickling (multiprocessing, spawn workers): the data travels ----------------
import pickle  # noqa: E402
src = dcmprep.load(path("scaled.nii.gz"))
copy = pickle.loads(pickle.dumps(src))
check(np.array_equal(copy.array, src.array) and np.array_equal(copy.affine, src.affine), "pickle: data")
check(copy.meta == src.meta and copy.name == src.name == "scaled", "pickle: meta and name")
src.set_meta("Arr", np.arange(3))
src.set_meta("Num", np.float32(0.5))
src.set_meta("Int", np.int64(7))
src.set_meta("Big", 2 ** 60)
m = src.meta
check(m["Arr"] == [0, 1, 2] and m["Num"] == 0.5 and m["Int"] == 7 and m["Big"] == 2 ** 60, f"set_meta numpy values {m}")
src.del_meta("Arr")
check("Arr" not in src.meta, "del_meta")

# ---- errors -------------------------------------------------------------------
def raises(fn, cls, needle, what):
    try:
        fn()
        check(False, f"{what}: no exception")
    except cls as e:
        check(needle in str(e), f"{what}: message {str(e)!r} lacks {needle!r}")
        check(isinstance(e, dcmprep.Error) and e.status.startswith("DP_"), f"{what}: {type(e)} {getattr(e, 'status', '')}")
    except Exception as e:  # noqa: BLE001
        check(False, f"{what}: {type(e).__name__}: {e}")


open(path("junk.nii.gz"), "wb").write(b"\x1f\x8bnot really gzip")
raises(lambda: dcmprep.load(path("missing.nii.gz")), FileNotFoundError, "missing.nii.gz", "missing file")
raises(lambda: dcmprep.load(path("junk.nii.gz")), dcmprep.Error, "junk.nii.gz", "damaged gzip")
raises(lambda: dcmprep.load(path("nope_dir")), FileNotFoundError, "nope_dir", "missing folder")
raises(lambda: dcmprep.load(sample, series=999), ValueError, "0 series with that number", "unknown series")
raises(lambda: dcmprep.Pipeline(["--spacing", "-1"]), ValueError, "--spacing -1", "bad value")
raises(lambda: dcmprep.Pipeline(["--no-such-step"]), ValueError, "no-such-step", "unknown word")
raises(lambda: dcmprep.Pipeline(["--spacing"]), ValueError, "needs a value", "missing value")
raises(lambda: dcmprep.Pipeline.from_file(path("missing.txt")), dcmprep.Error, "missing.txt", "missing pipeline")
raises(lambda: dcmprep.steps.like(dcmprep.load(path("t_uint8.nii")), path("missing_ref.nii")),
       dcmprep.Error, "missing_ref.nii", "missing reference grid")
raises(lambda: dcmprep.Volume.from_numpy(np.zeros((2, 2, 2))).save(os.path.join(work, "no", "dir", "x.nii")),
       OSError, "x.nii", "unwritable output")
try:
    dcmprep.steps.spacing(dcmprep.load(path("t_uint8.nii")), 1, label=dcmprep.load(path("four_d.nii.gz")))
    check(False, "label on another grid accepted")
except dcmprep.Error as e:
    check("grid" in str(e) and e.status == "DP_EGEOMETRY", f"label grid error: {e.status} {e}")
try:
    dcmprep.steps.canonical(np.zeros((2, 2, 2)))
    check(False, "a step accepted a numpy array")
except TypeError:
    pass
try:
    dcmprep.steps.spacing(dcmprep.load(path("t_uint8.nii")), 1, bogus=3)
    check(False, "unknown setting accepted")
except TypeError:
    pass
check(dcmprep.bytes_in_use() > 0, "bytes_in_use")
check(dcmprep.__version__ == cli("--version").stdout.split()[1], f"version {dcmprep.__version__}")
check.done("python api")
