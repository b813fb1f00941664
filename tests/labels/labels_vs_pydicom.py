"""RTSTRUCT and SEG labels of synthetic series against independent truths.

usage: labels_vs_pydicom.py DCMPREP SYNTH WORKDIR

dcmprep-synth writes series (axial, oblique, gantry-tilted, enhanced) with an
RTSTRUCT and a SEG of analytic shapes (sphere, torus with a hole, a square
ring with a round island).  `dcmprep convert` writes the label volumes; they
must equal, voxel for voxel, the pydicom+numpy rasterisation of the same
polygons and frames (reference.py, the rules of labels.h), reach Dice >= 0.99
against the analytic shapes, sit on the image's exact grid, and follow the
--roi order and the multi/onehot/separate layouts.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import testutil  # noqa: E402

testutil.need_modules("numpy", "nibabel", "pydicom")
import numpy as np  # noqa: E402
import nibabel as nib  # noqa: E402
import reference  # noqa: E402

cli, synth, work = sys.argv[1:4]
testutil.fresh_dir(work)
check = testutil.Checks()
SHAPES = ["sphere", "torus", "nested"]


def run(args, expect=0):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != expect:
        check(False, f"{' '.join(args)}: exit {r.returncode}, want {expect}\n{r.stderr[-2000:]}")
    return r


def make(name, args, seg_args=()):
    d = testutil.fresh_dir(os.path.join(work, name))
    run([synth, "-o", os.path.join(d, "dicom"), "--rtstruct", os.path.join(d, "dicom", "rt.dcm"),
         "--seg", os.path.join(d, "dicom", "seg.dcm"), "--truth", os.path.join(d, "truth.json")] + args +
        list(seg_args))
    with open(os.path.join(d, "truth.json")) as f:
        return d, json.load(f)


def convert(d, extra=(), out="out", quiet=True):
    o = os.path.join(d, out)
    r = run([cli, "convert", os.path.join(d, "dicom"), "-o", o] + (["-q"] if quiet else []) + list(extra))
    return o, r


def load(path):
    img = nib.load(path)
    return np.asarray(img.dataobj), img.affine


def sidecar(path):
    with open(path[: -len(".nii.gz")] + ".json") as f:
        return json.load(f)


def exact(tag, got, want):
    diff = int((got != want).sum())
    check(diff == 0, f"{tag}: {diff} voxel(s) differ from the reference ({int(want.sum())} inside)")


def series_case(name, args, extra=(), exact_affine=True):
    d, truth = make(name, args)
    o, _ = convert(d, extra)
    img = os.path.join(o, "1_synthetic_CT_body.nii.gz")
    vol, aff = load(img)
    rt, raff = load(os.path.join(o, "1_synthetic_CT_body_label.nii.gz"))
    seg, saff = load(os.path.join(o, "1_synthetic_CT_body_label2.nii.gz"))
    check(rt.shape == vol.shape[:3] and seg.shape == vol.shape[:3], f"{name}: label shape {rt.shape} vs image {vol.shape}")
    check(np.array_equal(raff, aff) and np.array_equal(saff, aff), f"{name}: label affine differs from the image's")
    check(rt.dtype == np.uint8, f"{name}: label type {rt.dtype}, want uint8")
    side = sidecar(os.path.join(o, "1_synthetic_CT_body_label.nii.gz"))
    check([l["name"] for l in side["Labels"]] == SHAPES and [l["value"] for l in side["Labels"]] == [1, 2, 3],
          f"{name}: label map {side['Labels']}")
    # the double-precision geometry the loader builds (the NIfTI holds float32)
    A = np.array(truth["ijk_to_ras"]) if exact_affine else aff
    check(np.allclose(A, aff, atol=1e-4), f"{name}: image affine differs from the truth's")
    ref = reference.rtstruct_masks(os.path.join(d, "dicom", "rt.dcm"), A, rt.shape)
    ana = reference.analytic_masks(truth, A, rt.shape)
    line = []
    for v, s in enumerate(SHAPES, 1):
        if exact_affine:
            exact(f"{name} RTSTRUCT {s}", rt == v, ref[s])
        dr, ds = reference.dice(rt == v, ana[s]), reference.dice(seg == v, ana[s])
        check(dr >= 0.99, f"{name} RTSTRUCT {s}: Dice {dr:.4f} against the analytic shape, want >= 0.99")
        if exact_affine:  # SEG on the image grid: the shape at every voxel centre
            check(ds >= 0.99, f"{name} SEG {s}: Dice {ds:.4f} against the analytic shape, want >= 0.99")
            exact(f"{name} SEG {s}", seg == v, ana[s])
        else:
            # the SEG stays on the tilted grid: nearest onto the resliced one
            # (the NIfTI's float32 affine: a near-tie may differ)
            sref = reference.seg_masks(os.path.join(d, "dicom", "seg.dcm"), aff, rt.shape)[s]
            bad = int(((seg == v) != sref).sum())
            check(bad <= max(2, sref.sum() // 1000), f"{name} SEG {s}: {bad} voxels differ from nearest placement")
            check(ds >= 0.95, f"{name} SEG {s}: Dice {ds:.4f} against the analytic shape, want >= 0.95 (nearest "
                              "from the tilted grid)")
        line.append(f"{s} RT {dr:.4f} SEG {ds:.4f}")
    print(f"{name}: Dice vs analytic: " + ", ".join(line))
    return d, truth, rt


# axial, oblique (row and column directions off every axis), enhanced image
series_case("axial", ["--rows", "64", "--cols", "64", "--slices", "40", "--slice-spacing", "1"])
series_case("oblique", ["--rows", "56", "--cols", "48", "--slices", "36", "--slice-spacing", "1.1",
                        "--pixel-spacing", "0.8,0.9", "--iop", "0.866025,0.5,0,-0.353553,0.612372,0.707107",
                        "--center", "10,-20,30"])
series_case("enhanced", ["--rows", "48", "--cols", "48", "--slices", "30", "--slice-spacing", "1.2", "--enhanced"])
# gantry tilt: the sheared grid kept (exact), and resliced onto a rectangular one
tilt = ["--rows", "64", "--cols", "64", "--slices", "40", "--slice-spacing", "1.5", "--tilt", "15"]
series_case("tilt_keep", tilt, ["--tilt", "keep"])
series_case("tilt_reslice", tilt, [], exact_affine=False)

# SEG on a coarser grid (2 x 2 image pixels): nearest, against the reference
d, truth = make("seg_coarse", ["--rows", "64", "--cols", "64", "--slices", "30", "--slice-spacing", "1"],
                ["--seg-factor", "2"])
o, _ = convert(d)
seg, aff = load(os.path.join(o, "1_synthetic_CT_body_label2.nii.gz"))
A = np.array(truth["ijk_to_ras"])
ref = reference.seg_masks(os.path.join(d, "dicom", "seg.dcm"), A, seg.shape)
ana = reference.analytic_masks(truth, A, seg.shape)
for v, s in enumerate(SHAPES, 1):
    exact(f"seg_coarse {s}", seg == v, ref[s])
    # 2 mm pixels for 1 mm voxels: nearest is blocky (the ring is 3 mm wide)
    check(reference.dice(seg == v, ana[s]) >= 0.85, f"seg_coarse {s}: Dice {reference.dice(seg == v, ana[s]):.4f}")
print("seg_coarse: Dice vs analytic: " + ", ".join(f"{s} {reference.dice(seg == v, ana[s]):.4f}"
                                                    for v, s in enumerate(SHAPES, 1)))

# FRACTIONAL SEG (coverage of 15 x 15 samples), in every native transfer syntax
for ts in ("explicit", "implicit", "big", "deflate"):
    d, truth = make(f"seg_frac_{ts}", ["--rows", "48", "--cols", "48", "--slices", "24", "--slice-spacing", "1"],
                    ["--seg-fractional", "--seg-ts", ts])
    o, _ = convert(d)
    seg, aff = load(os.path.join(o, "1_synthetic_CT_body_label2.nii.gz"))
    A = np.array(truth["ijk_to_ras"])
    ref = reference.seg_masks(os.path.join(d, "dicom", "seg.dcm"), A, seg.shape)
    ana = reference.analytic_masks(truth, A, seg.shape)
    for v, s in enumerate(SHAPES, 1):
        exact(f"seg_frac_{ts} {s}", seg == v, ref[s])
        dd = reference.dice(seg == v, ana[s])
        check(dd >= 0.99, f"seg_frac_{ts} {s}: Dice {dd:.4f} against the analytic shape, want >= 0.99")
    side = sidecar(os.path.join(o, "1_synthetic_CT_body_label2.nii.gz"))
    check(side["LabelSource"]["SegmentationType"] == "FRACTIONAL", f"seg_frac_{ts}: {side['LabelSource']}")

# --roi order and the layouts
d, truth = make("layouts", ["--rows", "40", "--cols", "40", "--slices", "20", "--slice-spacing", "1"])
o, _ = convert(d, ["--labels", "multi"], out="multi")
multi, aff = load(os.path.join(o, "1_synthetic_CT_body_label.nii.gz"))
o2, _ = convert(d, ["--roi", "nested,#1"], out="roi")
sel, _ = load(os.path.join(o2, "1_synthetic_CT_body_label.nii.gz"))
check(np.array_equal(sel == 1, multi == 3) and np.array_equal(sel == 2, multi == 1) and not (sel == 3).any(),
      "--roi nested,#1: values are not nested=1, sphere=2")
check([l["name"] for l in sidecar(os.path.join(o2, "1_synthetic_CT_body_label.nii.gz"))["Labels"]] == ["nested", "sphere"],
      "--roi nested,#1: label map order")
o3, _ = convert(d, ["--labels", "onehot"], out="onehot")
oh, _ = load(os.path.join(o3, "1_synthetic_CT_body_label.nii.gz"))
check(oh.shape == multi.shape + (3,) and oh.dtype == np.uint8, f"onehot: shape {oh.shape} {oh.dtype}")
for t in range(3):
    check(np.array_equal(oh[..., t] == 1, multi == t + 1), f"onehot channel {t} differs from multi value {t + 1}")
o4, _ = convert(d, ["--labels", "separate"], out="separate")
for v, s in enumerate(SHAPES, 1):
    p = os.path.join(o4, f"1_synthetic_CT_body_label_{s}.nii.gz")
    if check(os.path.exists(p), f"separate: {p} missing: {sorted(os.listdir(o4))}"):
        m, _ = load(p)
        check(np.array_equal(m == 1, multi == v) and set(np.unique(m)) <= {0, 1}, f"separate {s} differs")
o5, r = convert(d, ["--labels", "none"], out="none")
check(sorted(os.listdir(o5)) == ["1_synthetic_CT_body.json", "1_synthetic_CT_body.nii.gz"],
      f"--labels none wrote {sorted(os.listdir(o5))}")

# overlaps: the later ROI wins, and the count is reported
d, truth = make("overlap", ["--rows", "48", "--cols", "48", "--slices", "24", "--slice-spacing", "1",
                            "--shape", "big=sphere:0,0,0,15", "--shape", "small=sphere:8,0,0,9"])
o, r = convert(d, quiet=False)
lab, aff = load(os.path.join(o, "1_synthetic_CT_body_label.nii.gz"))
A = np.array(truth["ijk_to_ras"])
ref = reference.rtstruct_masks(os.path.join(d, "dicom", "rt.dcm"), A, lab.shape)
both = int((ref["big"] & ref["small"]).sum())
exact("overlap: small wins", lab == 2, ref["small"])
exact("overlap: big keeps the rest", lab == 1, ref["big"] & ~ref["small"])
ov = sidecar(os.path.join(o, "1_synthetic_CT_body_label.nii.gz")).get("LabelOverlaps", [])
check(both > 0 and ov == [{"under": "big", "over": "small", "voxels": both}], f"LabelOverlaps {ov}, want {both} voxels")
check(f"overlap: {both} voxel(s) of 'big'" in r.stderr, f"overlap not reported on stderr: {r.stderr[-500:]}")

check.done("labels_vs_pydicom")
