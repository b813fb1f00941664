"""A real DICOM SEG (shared data: single/liver.dcm, 1 bit, 3 frames of
512 x 512, from dcmqi) in every encoding of the set, converted without its CT
onto the SEG's own grid.

usage: real_seg.py DCMPREP SHARED WORKDIR

Truth: pydicom's decoding of the uncompressed files (liver.dcm,
liver_nonbyte_aligned.dcm: frames not on byte boundaries); every other
encoding (explicit big endian, RLE with 1-bit frames, JPEG 2000, Deflated
Image Frame Compression) must give exactly the same voxels.  The geometry is
checked against the frames' own ImagePositionPatient.  Skips when the shared
data is absent.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import testutil  # noqa: E402

cli, shared, work = sys.argv[1:4]
single = testutil.need_shared(shared, "single")
testutil.need_modules("numpy", "nibabel", "pydicom")
import numpy as np  # noqa: E402
import nibabel as nib  # noqa: E402
import pydicom  # noqa: E402

testutil.fresh_dir(work)
check = testutil.Checks()
version = subprocess.run([cli, "--version"], capture_output=True, text=True).stdout
has_j2k = "1.2.840.10008.1.2.4.90" in version


def truth(name):
    ds = pydicom.dcmread(os.path.join(single, name))
    px = ds.pixel_array
    z = [float(f.PlanePositionSequence[0].ImagePositionPatient[2]) for f in ds.PerFrameFunctionalGroupsSequence]
    order = np.argsort(z)
    # voxel (i, j, k) = frame k (by position), row j, column i
    return np.transpose(px[order], (2, 1, 0)).astype(bool), ds


def convert(name):
    out = os.path.join(work, name[:-4])
    r = subprocess.run([cli, "convert", os.path.join(single, name), "-o", out, "-q"], capture_output=True, text=True)
    return out, r


want, ds = truth("liver.dcm")
ipp = sorted((np.array([float(v) for v in f.PlanePositionSequence[0].ImagePositionPatient])
              for f in ds.PerFrameFunctionalGroupsSequence), key=lambda p: p[2])[0]
for name, ref in [("liver.dcm", "liver.dcm"), ("liver_expb.dcm", "liver.dcm"), ("liver_rle.dcm", "liver.dcm"),
                  ("liver_deflate.dcm", "liver.dcm"), ("liver_j2k.dcm", "liver.dcm"),
                  ("liver_nonbyte_aligned.dcm", "liver_nonbyte_aligned.dcm")]:
    out, r = convert(name)
    if name == "liver_j2k.dcm" and not has_j2k:
        check(r.returncode == 1 and "1.2.840.10008.1.2.4.90" in r.stderr, f"{name}: no clear refusal: {r.stderr}")
        continue
    if not check(r.returncode == 0, f"{name}: exit {r.returncode}: {r.stderr[-800:]}"):
        continue
    niis = sorted(f for f in os.listdir(out) if f.endswith(".nii.gz"))
    if not check(niis == ["1_Liver_Segmentation_label.nii.gz"], f"{name}: outputs {sorted(os.listdir(out))}"):
        continue
    img = nib.load(os.path.join(out, niis[0]))
    got = np.asarray(img.dataobj)
    exp = want if ref == "liver.dcm" else truth(ref)[0]
    check(got.shape == exp.shape, f"{name}: shape {got.shape}, want {exp.shape}")
    if got.shape == exp.shape:
        diff = int(((got == 1) != exp).sum())
        check(diff == 0 and set(np.unique(got)) <= {0, 1}, f"{name}: {diff} voxels differ from pydicom's frames")
        print(f"{name}: {int(got.sum())} voxels in 'Liver', {diff} differ from pydicom")
    a = img.affine
    check(np.allclose(a[:3, 3], ipp * [-1, -1, 1], atol=1e-3), f"{name}: origin {a[:3, 3]}, want RAS of {ipp}")
    check(np.allclose(np.abs(np.diag(a)[:3]), [0.810547, 0.810547, 1.0], atol=1e-4), f"{name}: spacing {np.diag(a)}")
    with open(os.path.join(out, niis[0][:-7] + ".json")) as f:
        side = json.load(f)
    lab = side["Labels"][0]
    check(lab["name"] == "Liver" and lab["value"] == 1 and lab["algorithm"] == "SEMIAUTOMATIC" and
          lab["type"] == "Liver" and lab["category"] == "Tissue" and lab["colour"] is not None,
          f"{name}: label map {lab}")
    check(side["LabelSource"]["Kind"] == "SEG" and side["LabelSource"]["SegmentationType"] == "BINARY",
          f"{name}: source {side['LabelSource']}")

# scan lists it with its segment and the CT it references (absent here)
r = subprocess.run([cli, "scan", os.path.join(single, "liver.dcm"), "--json"], capture_output=True, text=True)
sc = json.loads(r.stdout)
check(len(sc["labels"]) == 1 and sc["labels"][0]["kind"] == "SEG" and sc["labels"][0]["rois"][0]["name"] == "Liver"
      and sc["labels"][0]["frames"] == 3 and sc["labels"][0]["image_series"] == -1 and
      sc["labels"][0]["referenced_images"] == 3 and "not among the scanned series" in sc["labels"][0]["warnings"],
      f"scan: {sc['labels']}")
check(not sc["skipped"], f"scan skipped {sc['skipped']}")
check.done("real_seg")
