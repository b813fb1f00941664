"""Compressed DICOM decodes to exactly the pixels of its uncompressed twin
(shared data: dicom/transfer-syntax and the twin table of dicom/single).

usage: twins.py DCMPREP SHARED_DIR WORKDIR

Each file is converted on its own with `convert FILE -o DIR --no-gz --all`;
every output volume must equal the twin's output voxel for voxel (same
dtype, same scaling) with the same affine, whatever shape the conversion
gives (a mosaic may come out as a stack of tiles or as the stored image).
Files that cannot be decoded must be refused: exit 1, a message naming the
reason, and no output file.  The lossy decodes of the JPEG 2000 sets
(`*_UNCI`) must differ from the lossless decode, which shows the comparison
can fail.  A build without JPEG 2000 (not listed by `dcmprep --version`)
must refuse the JPEG 2000 files naming their transfer syntax instead.
"""
import glob
import os
import re
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import Checks, fresh_dir, skip  # noqa: E402

try:
    import numpy as np
    import nibabel as nib
except ImportError as e:
    skip(f"{e} (install python3-nibabel python3-numpy)")

cli, shared, work = sys.argv[1:4]
data = os.path.join(shared, "data", "dicom")
if not os.path.isdir(os.path.join(data, "transfer-syntax")) or not os.path.isdir(os.path.join(data, "single")):
    skip(f"{data} not found (shared data absent)")
fresh_dir(work)
check = Checks()


def convert(path):
    """Converts one file into its own folder: (exit code, stderr, outputs)."""
    name = os.path.relpath(path, data).replace(os.sep, "_")
    out = os.path.join(work, name)
    r = subprocess.run([cli, "convert", path, "-o", out, "--no-gz", "--all", "-q"],
                       capture_output=True, text=True, timeout=300)
    files = sorted(glob.glob(os.path.join(out, "*"))) if os.path.isdir(out) else []
    return r.returncode, r.stderr.strip(), files


J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"
version = subprocess.run([cli, "--version"], capture_output=True, text=True).stdout
has_j2k = J2K_LOSSLESS in version
if not has_j2k:
    print("JPEG 2000 not built in: those files must be refused")

cache = {}


def volumes(path):
    """The voxel arrays (stored type, with scaling) and affines convert gives."""
    if path not in cache:
        rc, err, files = convert(path)
        vols = None
        if check(rc == 0, f"{path}: exit {rc}: {err}"):
            vols = []
            for f in (f for f in files if f.endswith(".nii")):
                img = nib.load(f)
                vols.append((os.path.basename(f), np.asanyarray(img.dataobj),
                             img.dataobj.slope, img.dataobj.inter, img.affine))
            check(vols, f"{path}: no .nii written ({files})")
        cache[path] = vols
    return cache[path]


def same(a_path, b_path):
    """1 when both convert to identical volumes, 0 when they differ (printing
    how), None when either failed to convert."""
    a, b = volumes(a_path), volumes(b_path)
    if not a or not b:
        return None
    if len(a) != len(b):
        print(f"  {os.path.basename(b_path)}: {len(b)} volumes, {os.path.basename(a_path)}: {len(a)}")
        return 0
    for (na, va, sa, ia, aa), (nb, vb, sb, ib, ab) in zip(a, b):
        if va.dtype != vb.dtype or va.shape != vb.shape:
            print(f"  {nb}: {vb.dtype} {vb.shape} vs {na}: {va.dtype} {va.shape}")
            return 0
        if not np.array_equal(va, vb):
            d = np.abs(va.astype(np.float64) - vb.astype(np.float64))
            print(f"  {nb} vs {na}: {np.count_nonzero(d)} voxels differ, by up to {d.max():g}")
            return 0
        if not (np.array_equal([sa, ia], [sb, ib], equal_nan=True) and np.array_equal(aa, ab)):
            print(f"  {nb} vs {na}: scaling ({sb}, {ib}) vs ({sa}, {ia}), affines\n{ab}\n{aa}")
            return 0
    return 1


# The JPEG 2000 lossless (1.2.840.10008.1.2.4.90) files among the twins.
J2K_FILES = {"transfer-syntax/9.dcm", "single/emri_small_jpeg_2k_lossless.dcm",
             "single/MR2_J2KR.dcm", "single/693_J2KR.dcm"}


def twin(truth, other):
    if other in J2K_FILES and not has_j2k:
        refused(other, re.escape(J2K_LOSSLESS) + r".*JPEG 2000")
        return
    t, o = os.path.join(data, truth), os.path.join(data, other)
    r = same(t, o)
    if r is not None:
        shape = volumes(t)[0][1].shape
        check(r == 1, f"{other}: differs from {truth}")
        print(f"{'ok  ' if r else 'FAIL'} {other} == {truth} {shape}")


def refused(path, reason):
    """Refusal: exit 1, a 'dcmprep: ' message matching `reason`, no output."""
    full = os.path.join(data, path)
    rc, err, files = convert(full)
    check(rc == 1, f"{path}: exit {rc}, expected a refusal (1): {err}")
    check(err.startswith("dcmprep: ") and re.search(reason, err),
          f"{path}: message does not give the reason /{reason}/: {err!r}")
    check(not files, f"{path}: refused but wrote {files}")
    print(f"refused {path}: {err}")


# One Siemens mosaic in nine encodings.
for i in range(2, 10):
    twin("transfer-syntax/1.dcm", f"transfer-syntax/{i}.dcm")

# The twin table of the shared data's README.
for enc in ("_big_endian", "_RLE", "_jpeg_ls_lossless", "_jpeg_2k_lossless"):
    twin("single/emri_small.dcm", f"single/emri_small{enc}.dcm")
twin("single/MR2_UNCR.dcm", "single/MR2_J2KR.dcm")
twin("single/693_UNCR.dcm", "single/693_J2KR.dcm")
twin("single/OBXXXX1A.dcm", "single/OBXXXX1A_rle.dcm")

# The lossy decodes are not twins: equality must fail on them.
for lossy, lossless in (("MR2_UNCI", "MR2_J2KR"), ("693_UNCI", "693_J2KR")):
    if not has_j2k:
        break
    r = same(os.path.join(data, "single", lossless + ".dcm"), os.path.join(data, "single", lossy + ".dcm"))
    if r is not None:
        check(r == 0, f"{lossy}: equal to the lossless {lossless}, but it is a lossy decode")
        print(f"{'ok  ' if r == 0 else 'FAIL'} {lossy} != {lossless}")

# The DICOM SEG twins (single/liver*.dcm) are label objects: converted and
# compared voxel for voxel in tests/labels/real_seg.py.

check.done("twins compared, refusals checked")
