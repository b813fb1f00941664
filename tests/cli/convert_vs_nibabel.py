"""dcmprep info/convert against nibabel.

usage: convert_vs_nibabel.py DCMPREP WORKDIR
nibabel writes NIfTI files (oblique, sheared, scaled, 4-D, every dtype, v1/v2,
big-endian, gz); `dcmprep info --json` must report nibabel's dims, affine,
orientation code and value statistics; `dcmprep convert` must produce files
nibabel reads back with the same affine, dtype and values, a sidecar that is
valid JSON, and .nii <-> .nii.gz round trips with identical voxel data.
Exit 77 (skipped) when nibabel is not installed.
"""
import json
import os
import subprocess
import sys

try:
    import numpy as np
    import nibabel as nib
except ImportError as e:
    print(f"SKIP: {e} (install python3-nibabel python3-numpy)")
    sys.exit(77)

cli, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(3)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def oblique_affine(shear=0.0):
    a, b = np.radians(17), np.radians(-9)
    R = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]]) @ \
        np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    A = np.eye(4)
    A[:3, :3] = R @ np.diag([-0.7, -0.8, 2.5])
    A[1, 2] += shear
    A[:3, 3] = [121.5, -33.25, 80.0]
    return A


def make(name, dtype, shape, affine, cls=nib.Nifti1Image, slope=None, endian="<"):
    if np.dtype(dtype).kind == "f":
        data = rng.normal(0, 100, shape).astype(dtype)
    else:
        info = np.iinfo(dtype)
        data = rng.integers(max(info.min, -3000), min(info.max, 3000), shape, endpoint=True).astype(dtype)
    hdr = cls.header_class(endianness=endian)
    img = cls(data, affine, header=hdr)
    img.header.set_data_dtype(np.dtype(dtype).newbyteorder(endian))
    if slope:
        img.header.set_slope_inter(*slope)
    path = os.path.join(work, name)
    nib.save(img, path)
    return path


def info(path):
    out = subprocess.run([cli, "info", path, "--json"], capture_output=True, text=True)
    check(out.returncode == 0, f"info {path}: exit {out.returncode} {out.stderr}")
    return json.loads(out.stdout) if out.returncode == 0 else None


cases = [
    ("i16.nii.gz", np.int16, (20, 22, 9), oblique_affine(), nib.Nifti1Image, None, "<"),
    ("u8.nii", np.uint8, (7, 8, 9), np.diag([2.0, 3, 4, 1]), nib.Nifti1Image, None, "<"),
    ("u16_be.nii", np.uint16, (10, 11, 3), oblique_affine(), nib.Nifti1Image, None, ">"),
    ("i32_v2.nii.gz", np.int32, (6, 5, 4), oblique_affine(), nib.Nifti2Image, None, "<"),
    ("f32_sheared.nii.gz", np.float32, (16, 16, 8), oblique_affine(0.6), nib.Nifti1Image, None, "<"),
    ("f64_v2_be.nii", np.float64, (5, 6, 7), oblique_affine(), nib.Nifti2Image, None, ">"),
    ("i16_scaled.nii.gz", np.int16, (9, 9, 9), np.diag([-1.0, -1, 1, 1]), nib.Nifti1Image, (0.5, -10), "<"),
    ("i16_4d.nii.gz", np.int16, (8, 7, 6, 3), oblique_affine(), nib.Nifti1Image, None, "<"),
]
for name, dtype, shape, aff, cls, slope, endian in cases:
    src = make(name, dtype, shape, aff, cls, slope, endian)
    ref = nib.load(src)
    want = np.asarray(ref.dataobj).astype(np.float64) if slope is None else ref.get_fdata()
    got = info(src)
    if got is None:
        continue
    check(got["dims"][:len(shape)] == list(shape), f"{name}: dims {got['dims']} vs {shape}")
    check(np.allclose(np.array(got["affine"]), ref.affine, atol=1e-5), f"{name}: affine\n{got['affine']}\nvs\n{ref.affine}")
    check(got["orientation"] == "".join(nib.aff2axcodes(ref.affine)), f"{name}: orientation {got['orientation']}")
    check(np.isclose(got["min"], want.min()) and np.isclose(got["max"], want.max()), f"{name}: min/max")
    check(np.isclose(got["mean"], want.mean(), rtol=1e-6, atol=1e-6), f"{name}: mean {got['mean']} vs {want.mean()}")
    check(np.isclose(got["std"], want.std(), rtol=1e-6, atol=1e-6), f"{name}: std")

    # convert to both encodings and back; data and affine must be unchanged
    for ext in (".nii", ".nii.gz"):
        out = os.path.join(work, "conv_" + name.split(".")[0] + ext)
        r = subprocess.run([cli, "convert", src, "-o", out, "-q"], capture_output=True, text=True)
        check(r.returncode == 0, f"convert {name} -> {ext}: {r.stderr}")
        if r.returncode:
            continue
        img = nib.load(out)
        check(img.get_data_dtype().newbyteorder("=") == np.dtype(dtype), f"{name}{ext}: dtype {img.get_data_dtype()}")
        check(np.array_equal(np.asarray(img.dataobj), np.asarray(ref.dataobj)), f"{name}{ext}: data differ")
        check(np.allclose(img.affine, ref.affine, atol=1e-6), f"{name}{ext}: affine")
        check(int(img.header["sform_code"]) == 1 and int(img.header["qform_code"]) == 1, f"{name}{ext}: codes")
        sc = os.path.join(work, "conv_" + name.split(".")[0] + ".json")
        with open(sc) as f:
            side = json.load(f)
        check(side.get("ConversionSoftware") == "dcmprep", f"{name}: sidecar {side}")

# output to a folder, --no-gz, and the .nii -> .nii.gz -> .nii identity
d = os.path.join(work, "outdir")
os.makedirs(d, exist_ok=True)
r = subprocess.run([cli, "convert", os.path.join(work, "i16.nii.gz"), "-o", d, "--no-gz", "-q"])
check(r.returncode == 0 and os.path.exists(os.path.join(d, "i16.nii")), "convert to folder with --no-gz")
r = subprocess.run([cli, "convert", os.path.join(work, "u8.nii"), "-o", d, "--no-sidecar", "-q"])
check(r.returncode == 0 and os.path.exists(os.path.join(d, "u8.nii.gz")) and
      not os.path.exists(os.path.join(d, "u8.json")), "convert to folder, --no-sidecar")
r = subprocess.run([cli, "convert", os.path.join(work, "i16_scaled.nii.gz"), "-o",
                    os.path.join(work, "applied.nii.gz"), "--apply-scaling", "-q"])
img = nib.load(os.path.join(work, "applied.nii.gz"))
check(r.returncode == 0 and img.get_data_dtype() == np.float32 and
      np.allclose(img.get_fdata(), nib.load(os.path.join(work, "i16_scaled.nii.gz")).get_fdata()),
      "--apply-scaling gives float32 with the scaled values")
r = subprocess.run([cli, "convert", os.path.join(work, "i16.nii.gz"), "-o",
                    os.path.join(work, "v2.nii"), "--nifti2", "-q"])
check(r.returncode == 0 and isinstance(nib.load(os.path.join(work, "v2.nii")), nib.Nifti2Image), "--nifti2")

print(f"convert_vs_nibabel: {len(cases)} files; {len(failures)} failures")
sys.exit(1 if failures else 0)
