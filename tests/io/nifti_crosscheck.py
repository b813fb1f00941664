"""NIfTI files against nibabel and nifti_clib's nifti_tool.

usage: nifti_crosscheck.py DCMPREP WORKDIR
For every dtype x NIfTI-1/2 x byte order x gzip/plain, nibabel writes a file;
`dcmprep convert` re-encodes it as .nii.gz and as .nii.  Each output must
  - pass `nifti_tool -check_hdr` and `-check_nim` (nifti_clib, i.e. what ITK
    and AFNI use to read NIfTI),
  - give nibabel back the same dtype, voxel values and affine,
  - carry a qform equal to the one nibabel itself derives from the affine
    (nearest rigid transform when sheared).
Exit 77 (skipped) when nibabel or nifti_tool is absent.
"""
import itertools
import os
import shutil
import subprocess
import sys

try:
    import numpy as np
    import nibabel as nib
except ImportError as e:
    print(f"SKIP: {e} (install python3-nibabel python3-numpy)")
    sys.exit(77)
if not shutil.which("nifti_tool"):
    print("SKIP: nifti_tool not found (install nifti-bin)")
    sys.exit(77)

cli, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
rng = np.random.default_rng(7)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def affine(shear):
    a = np.radians(23)
    r = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    m = np.eye(4)
    m[:3, :3] = r @ np.diag([-0.9, 1.1, 3.0])
    m[0, 2] += shear
    m[:3, 3] = [-90.5, 120.25, -40]
    return m


def data(dtype, shape):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return rng.normal(0, 1000, shape).astype(dt)
    info = np.iinfo(dt)
    d = rng.integers(info.min, info.max, shape, endpoint=True, dtype=np.int64).astype(dt)
    d.flat[0], d.flat[1] = info.min, info.max
    return d


dtypes = [np.uint8, np.int16, np.uint16, np.int32, np.float32, np.float64]
n = 0
for dtype, cls, endian, gz, shear in itertools.product(
        dtypes, (nib.Nifti1Image, nib.Nifti2Image), "<>", (False, True), (0.0, 0.7)):
    if shear and (gz or endian == ">"):
        continue  # shear matters for the qform only
    name = f"{np.dtype(dtype).name}_v{1 if cls is nib.Nifti1Image else 2}_{'be' if endian == '>' else 'le'}" \
           f"{'_shear' if shear else ''}.nii{'.gz' if gz else ''}"
    src = os.path.join(work, "src_" + name)
    d = data(dtype, (9, 8, 7))
    img = cls(d, affine(shear), header=cls.header_class(endianness=endian))
    img.header.set_data_dtype(np.dtype(dtype).newbyteorder(endian))
    img.header.set_qform(affine(shear), code=1)
    nib.save(img, src)
    ref = nib.load(src)
    for ext in (".nii.gz", ".nii"):
        out = os.path.join(work, "out_" + name.split(".")[0] + ext)
        r = subprocess.run([cli, "convert", src, "-o", out, "-q", "--no-sidecar"],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"{name}->{ext}: exit {r.returncode}: {r.stderr}")
        if r.returncode:
            continue
        n += 1
        for opt in ("-check_hdr", "-check_nim"):
            t = subprocess.run(["nifti_tool", opt, "-infiles", out], capture_output=True, text=True)
            text = t.stdout + t.stderr
            check(t.returncode == 0 and "IS GOOD" in text and "BAD" not in text,
                  f"{out}: nifti_tool {opt}: {text.strip()}")
        got = nib.load(out)
        check(got.get_data_dtype().newbyteorder("=") == np.dtype(dtype), f"{out}: dtype {got.get_data_dtype()}")
        check(np.array_equal(np.asarray(got.dataobj), d), f"{out}: voxel values differ")
        check(np.allclose(got.affine, ref.affine, atol=1e-5), f"{out}: affine\n{got.affine}\nvs\n{ref.affine}")
        check(np.allclose(got.header.get_qform(), ref.header.get_qform(), atol=1e-4),
              f"{out}: qform\n{got.header.get_qform()}\nvs nibabel's\n{ref.header.get_qform()}")
        check(got.header.get_xyzt_units() == ("mm", "sec"), f"{out}: units {got.header.get_xyzt_units()}")

# nibabel reads files larger than one gzip member (several members) correctly
big = data(np.int16, (256, 256, 24))
src = os.path.join(work, "big_src.nii")
nib.save(nib.Nifti1Image(big, affine(0)), src)
out = os.path.join(work, "big.nii.gz")
r = subprocess.run([cli, "convert", src, "-o", out, "-q", "--no-sidecar"], capture_output=True, text=True)
check(r.returncode == 0 and np.array_equal(np.asarray(nib.load(out).dataobj), big),
      "multi-member .nii.gz read by nibabel")
t = subprocess.run(["nifti_tool", "-check_nim", "-infiles", out], capture_output=True, text=True)
check("IS GOOD" in t.stdout + t.stderr, "multi-member .nii.gz: nifti_tool -check_nim")
t = subprocess.run(["nifti_tool", "-disp_ci", "255", "255", "23", "0", "0", "0", "0", "-infiles", out],
                   capture_output=True, text=True)
check(t.returncode == 0 and t.stdout.split() and int(float(t.stdout.split()[-1])) == int(big[255, 255, 23]),
      f"nifti_tool reads the last voxel of a multi-member file: {t.stdout.strip()[-80:]} vs {big[255, 255, 23]}")

print(f"nifti_crosscheck: {n} outputs checked; {len(failures)} failures")
sys.exit(1 if failures else 0)
