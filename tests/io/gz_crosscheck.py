"""dcmprep's .nii.gz output, where long constant runs are encoded apart, read by
other tools.

usage: gz_crosscheck.py DCMPREP WORKDIR
Volumes with air, padding and background runs of period 1, 2, 4 and 8 bytes
(uint8, int16, int32, float64) next to smooth and noisy data are written by
nibabel as .nii and re-encoded by `dcmprep convert` as .nii.gz with 1, 2 and
3 threads.  The three outputs must be byte-identical; `gzip -t` must pass;
Python's gzip must give back the .nii bytes dcmprep writes without gzip;
nibabel must read the same voxels, and so must nifti_tool (nifti_clib,
through zlib's gzread) when installed.
Exit 77 (skipped) when nibabel or gzip is absent.
"""
import gzip
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import Checks, fresh_dir, need_modules, skip  # noqa: E402

need_modules("numpy", "nibabel")
import numpy as np  # noqa: E402
import nibabel as nib  # noqa: E402

if not shutil.which("gzip"):
    skip("gzip not found")

cli, work = sys.argv[1], sys.argv[2]
fresh_dir(work)
rng = np.random.default_rng(11)
check = Checks()


def volumes():
    # int16 CT-like: air rows above and below an ellipse (runs of period 2
    # across slices and 1 MiB blocks), smooth tissue, a few noisy slices
    x, y = np.meshgrid(np.arange(512), np.arange(512), indexing="ij")
    body = ((x - 256) / 200.0) ** 2 + ((y - 256) / 120.0) ** 2 < 1
    ct = np.full((512, 512, 9), -1024, np.int16)
    for k in range(9):
        tissue = (40 + 30 * np.sin(x / 40.0 + k) + 20 * np.cos(y / 25.0)).astype(np.int16)
        if k in (3, 4):
            tissue = tissue + rng.integers(-300, 300, tissue.shape).astype(np.int16)
        ct[..., k] = np.where(body, tissue, -1024)
    yield "ct_i16", ct
    # uint8 mask: a sphere in a background of zeros (period 1)
    g = np.indices((160, 160, 120)).astype(np.float32)
    yield "mask_u8", ((((g - 80) ** 2).sum(axis=0) < 40 ** 2) * 3).astype(np.uint8)
    # int32 padding (period 4) around a band of random values
    pad = np.full((300, 300, 12), 7, np.int32)
    pad[:, 100:130, :] = rng.integers(-(2 ** 31), 2 ** 31 - 1, (300, 30, 12), dtype=np.int64)
    yield "pad_i32", pad
    # float64 fill (period 8) outside a box of noise, which deflate stores
    f = np.full((128, 128, 70), -3.5, np.float64)
    f[30:90, 40:70, 10:60] = rng.standard_normal((60, 30, 50))
    yield "fill_f64", f


for name, data in volumes():
    src = os.path.join(work, name + ".nii")
    nib.save(nib.Nifti1Image(data, np.diag([0.7, 0.7, 1.0, 1.0])), src)
    plain = os.path.join(work, name + "_plain.nii")
    subprocess.run([cli, "convert", src, "-o", plain, "--no-sidecar", "-q"], check=True)
    with open(plain, "rb") as fh:
        want = fh.read()
    outs = []
    for threads in (1, 2, 3):
        out = os.path.join(work, f"{name}_{threads}.nii.gz")
        subprocess.run([cli, "convert", src, "-o", out, "--no-sidecar", "-q",
                        "--threads", str(threads)], check=True)
        with open(out, "rb") as fh:
            outs.append(fh.read())
    check(outs[0] == outs[1] == outs[2], f"{name}: same bytes for 1, 2 and 3 threads")
    out = os.path.join(work, f"{name}_1.nii.gz")
    t = subprocess.run(["gzip", "-t", out], capture_output=True, text=True)
    check(t.returncode == 0, f"{name}: gzip -t ({t.stderr.strip()})")
    check(gzip.decompress(outs[0]) == want, f"{name}: Python's gzip gives the .nii bytes")
    img = nib.load(out)
    check(img.get_data_dtype() == data.dtype, f"{name}: nibabel dtype {img.get_data_dtype()}")
    check(np.array_equal(np.asanyarray(img.dataobj), data), f"{name}: nibabel voxels")
    if shutil.which("nifti_tool"):
        # -copy_im reads every voxel through znzlib, i.e. zlib's gzread
        copy = os.path.join(work, name + "_copy.nii")
        r = subprocess.run(["nifti_tool", "-copy_im", "-prefix", copy, "-infiles", out],
                           capture_output=True, text=True)
        ok = r.returncode == 0 and os.path.exists(copy)
        check(ok and np.array_equal(np.asanyarray(nib.load(copy).dataobj), data),
              f"{name}: nifti_tool -copy_im reads the voxels ({r.stderr.strip()})")
    print(f"{name}: {data.dtype} {data.shape}, {len(want)} -> {len(outs[0])} bytes")

check.done("gz crosscheck")
