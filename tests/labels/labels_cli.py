"""RTSTRUCT/SEG labels through the command line: scan, convert, prep, augment
and batch take them directly and move them in lockstep with the image.

usage: labels_cli.py DCMPREP SYNTH WORKDIR

The label a command draws from an RTSTRUCT must equal, byte for byte, the
label convert wrote, carried through the same steps as a NIfTI; hostile ROI
names never leave the output folder; bad options and references are refused
with a clear message.
"""
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import testutil  # noqa: E402

testutil.need_modules("numpy", "nibabel", "pydicom")
import numpy as np  # noqa: E402
import nibabel as nib  # noqa: E402
import pydicom  # noqa: E402

cli, synth, work = sys.argv[1:4]
testutil.fresh_dir(work)
check = testutil.Checks()


def run(args, expect=0, cwd=None):
    r = subprocess.run([cli] + args, capture_output=True, text=True, cwd=cwd)
    check(r.returncode == expect, f"dcmprep {' '.join(args)}: exit {r.returncode}, want {expect}\n{r.stderr[-1500:]}")
    return r


def voxels(path):
    img = nib.load(path)
    return np.asarray(img.dataobj), img.affine


def same(tag, a, b):
    va, aa = voxels(a)
    vb, ab = voxels(b)
    check(va.shape == vb.shape and np.array_equal(va, vb) and np.allclose(aa, ab), f"{tag}: {a} and {b} differ")


def sidecar(path):
    with open(re.sub(r"\.nii(\.gz)?$", ".json", path)) as f:
        return json.load(f)


ex = os.path.join(work, "exam")
subprocess.run([synth, "-o", ex, "--rows", "48", "--cols", "40", "--slices", "24", "--slice-spacing", "1.5",
                "--rtstruct", os.path.join(ex, "rt.dcm")], check=True)
# the same exam with a SEG too, for the two-object cases
ex2 = os.path.join(work, "exam2")
subprocess.run([synth, "-o", ex2, "--rows", "48", "--cols", "40", "--slices", "24", "--slice-spacing", "1.5",
                "--rtstruct", os.path.join(ex2, "rt.dcm"), "--seg", os.path.join(ex2, "seg.dcm")], check=True)
BASE = "1_synthetic_CT_body"

# scan: the label objects, their ROIs and the series they label
r = run(["scan", ex2])
check(re.search(r"L1\s+RTSTRUCT\s+rt\.dcm.*series 1 \(#1, by series\); 3 ROI", r.stdout), f"scan text:\n{r.stdout}")
check("torus" in r.stdout and "2 label object(s), 0 file(s) skipped" in r.stdout, f"scan text:\n{r.stdout}")
sc = json.loads(run(["scan", ex2, "--json"]).stdout)
check([l["kind"] for l in sc["labels"]] == ["RTSTRUCT", "SEG"] and all(l["image_series"] == 0 for l in sc["labels"])
      and all(l["image_series_number"] == 1 and l["match"] == "series" for l in sc["labels"]), f"scan json {sc['labels']}")
check([r_["name"] for r_ in sc["labels"][0]["rois"]] == ["sphere", "torus", "nested"], "scan json ROI names")

# convert: image and label; two objects: _label and _label2
conv = os.path.join(work, "conv")
run(["convert", ex, "-o", conv, "-q"])
img, lab = os.path.join(conv, BASE + ".nii.gz"), os.path.join(conv, BASE + "_label.nii.gz")
conv2 = os.path.join(work, "conv2")
run(["convert", ex2, "-o", conv2, "-q"])
check(sorted(os.listdir(conv2)) == sorted(f"{BASE}{s}.{e}" for s in ("", "_label", "_label2") for e in ("json", "nii.gz")),
      f"convert, two label objects: {sorted(os.listdir(conv2))}")
same("RTSTRUCT alone and with a SEG beside it", lab, os.path.join(conv2, BASE + "_label.nii.gz"))

# prep: DICOM + --label auto == NIfTI image + the converted label, same steps
steps = ["--reorient", "RAS", "--spacing", "2,2,2", "--crop-foreground", "--margin", "3"]
p = os.path.join(work, "prep")
os.makedirs(p)
run(["prep", ex, "-o", os.path.join(p, "a.nii.gz"), "--label", "auto", "--label-out", os.path.join(p, "a_lab.nii.gz"), "-q"] + steps)
run(["prep", img, "-o", os.path.join(p, "b.nii.gz"), "--label", lab, "--label-out", os.path.join(p, "b_lab.nii.gz"), "-q"] + steps)
same("prep --label auto vs the converted label", os.path.join(p, "a_lab.nii.gz"), os.path.join(p, "b_lab.nii.gz"))
side = sidecar(os.path.join(p, "a_lab.nii.gz"))
check([l["name"] for l in side.get("Labels", [])] == ["sphere", "torus", "nested"] and "PrepSteps" in side,
      f"prep label sidecar keys {list(side)}")
# an RTSTRUCT file onto a NIfTI image: drawn, the frame of reference noted as unchecked
r = run(["prep", img, "-o", os.path.join(p, "c.nii.gz"), "--label", os.path.join(ex, "rt.dcm"),
         "--label-out", os.path.join(p, "c_lab.nii.gz")])
same("prep NIfTI + RTSTRUCT vs convert", os.path.join(p, "c_lab.nii.gz"), lab)
check("not checked" in r.stderr, f"no note about the unchecked frame of reference: {r.stderr}")
# --roi on prep
run(["prep", ex, "-o", os.path.join(p, "d.nii.gz"), "--label", os.path.join(ex, "rt.dcm"), "--roi", "torus",
     "--label-out", os.path.join(p, "d_lab.nii.gz"), "-q"])
d, _ = voxels(os.path.join(p, "d_lab.nii.gz"))
c, _ = voxels(lab)
check(np.array_equal(d == 1, c == 2) and d.max() == 1, "prep --roi torus: not the torus alone as value 1")
# refusals
r = run(["prep", img, "-o", os.path.join(p, "e.nii.gz"), "--label", "auto", "--label-out", os.path.join(p, "e_l.nii.gz")], 1)
check("NIfTI" in r.stderr and not os.path.exists(os.path.join(p, "e.nii.gz")), f"--label auto on NIfTI: {r.stderr}")
r = run(["prep", ex, "-o", os.path.join(p, "f.nii.gz"), "--label", "auto", "--roi", "kidney",
         "--label-out", os.path.join(p, "f_l.nii.gz")], 1)
check("no ROI 'kidney'" in r.stderr and "#1 'sphere'" in r.stderr, f"--roi kidney: {r.stderr}")
run(["prep", ex, "-o", os.path.join(p, "g.nii.gz"), "--label", "auto", "--contour-tolerance", "0.7",
     "--label-out", os.path.join(p, "g_l.nii.gz")], 2)
r = run(["prep", ex2, "-o", os.path.join(p, "h.nii.gz"), "--label", "auto", "--label-out", os.path.join(p, "h_l.nii.gz")], 1)
check("2 label objects" in r.stderr, f"two label objects, auto: {r.stderr}")
run(["convert", ex, "-o", os.path.join(work, "x"), "--labels", "bogus"], 2)

# augment: DICOM + auto == NIfTI + label, same seed and name
a1, a2 = os.path.join(work, "aug1"), os.path.join(work, "aug2")
nii_named = os.path.join(work, "exam.nii.gz")  # the same name as the folder: the same draws
shutil.copy(img, nii_named)
rand = ["-n", "2", "--seed", "3", "--rand-rotate", "0,0,20", "--rand-flip=x", "-q"]
run(["augment", ex, "--label", "auto", "-o", a1] + rand)
run(["augment", nii_named, "--label", lab, "-o", a2] + rand)
for k in ("000", "001"):
    same(f"augment variant {k} label", os.path.join(a1, f"exam_aug{k}_label.nii.gz"), os.path.join(a2, f"exam_aug{k}_label.nii.gz"))

# batch: --label auto on a DICOM folder, a manifest naming the RTSTRUCT, reruns up to date
b = os.path.join(work, "batch")
run(["batch", ex, "-o", b, "--label", "auto", "-q"])
same("batch --label auto vs convert", os.path.join(b, "exam", BASE + "_label.nii.gz"), lab)
r = run(["batch", ex, "-o", b, "--label", "auto"])
check("1 up to date" in r.stderr, f"batch rerun not up to date: {r.stderr}")
man = os.path.join(work, "m.csv")
with open(man, "w") as f:
    f.write("input,label,output\nexam,exam/rt.dcm,one\nexam2,auto,two\n")
r = run(["batch", "--manifest", man, "-o", os.path.join(work, "batch2"), "-q"], 1)
same("manifest RTSTRUCT label", os.path.join(work, "batch2", "one_label.nii.gz"), lab)
log = [json.loads(x) for x in open(os.path.join(work, "batch2", "batch-log.jsonl"))]
check(any("2 label objects" in str(x.get("error", "")) for x in log), f"manifest auto with two objects: {log}")

# hostile ROI names and another frame of reference
h = os.path.join(work, "hostile")
shutil.copytree(ex, h)
rt = pydicom.dcmread(os.path.join(h, "rt.dcm"))
names = ["../../x", "a/b:c*?", "\x1b[2Jctl\x07"]
for item, n in zip(rt.StructureSetROISequence, names):
    item.ROIName = n
rt.save_as(os.path.join(h, "rt.dcm"))
ho = os.path.join(work, "hostile_out")
r = run(["convert", h, "-o", ho, "--labels", "separate"])
files = sorted(os.listdir(ho))
check(len(files) == 8 and all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", f) and ".." not in f for f in files),
      f"hostile ROI names gave files {files}")
check("\x1b" not in r.stdout + r.stderr, "a control character from an ROI name reached the terminal")
check(not os.path.exists(os.path.join(work, "x.nii.gz")) and not os.path.exists("/x.nii.gz"), "written outside")
names_in_map = [sidecar(os.path.join(ho, f))["Labels"][0]["name"] for f in files if f.endswith(".json") and "_label_" in f]
check(sorted(names_in_map) == sorted(names), f"label maps keep the names as they are: {names_in_map}")
fo = os.path.join(work, "for")
shutil.copytree(ex, fo)
rt = pydicom.dcmread(os.path.join(fo, "rt.dcm"))
for item in rt.StructureSetROISequence:
    item.ReferencedFrameOfReferenceUID = "1.2.3.4.5"
rt.save_as(os.path.join(fo, "rt.dcm"))
r = run(["convert", fo, "-o", os.path.join(work, "for_out"), "-q"], 1)
check("frame of reference 1.2.3.4.5" in r.stderr, f"another frame of reference: {r.stderr}")
check(sorted(os.listdir(os.path.join(work, "for_out"))) == [BASE + ".json", BASE + ".nii.gz"],
      f"another frame of reference: {os.listdir(os.path.join(work, 'for_out'))}")
check.done("labels_cli")
