"""dcmprep prep geometry steps against nibabel/scipy and analytic truths.

usage: prep_geometry.py DCMPREP WORKDIR

- reorient to all 48 codes equals nibabel's as_reoriented (data and affine),
  and the round trip back is bit-exact;
- --spacing: output size round(extent / spacing), FOV centre kept (< 0.01 mm),
  values equal scipy.ndimage.map_coordinates (mirror) with the same mapping
  for nearest (exact), linear and cubic (<= 1e-4 of the range); with
  anti-aliasing, equal to scipy gaussian_filter (mirror, truncate 4) then
  map_coordinates; identity resample bit-exact; --shape and --like;
- anti-aliasing: downsampling a high-frequency pattern does not alias;
- labels: values stay a subset of the input's, image and label stay aligned
  (coordinate-encoding phantom), onehot keeps a thin structure nearest erodes;
- crop-or-pad, crop-foreground with margin;
- bad requests: label on another grid, absurd spacing: exit 1, clear message,
  no output; 1 and 2 threads give identical bytes; the sidecar records steps.
(prep_vs_dicom.py checks a real CT prepped from DICOM in world space.)
"""
import json
import os
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import Checks, fresh_dir, skip  # noqa: E402

try:
    import numpy as np
    import nibabel as nib
    from nibabel.orientations import axcodes2ornt, io_orientation, ornt_transform
    from scipy import ndimage
except ImportError as e:
    skip(f"{e} (install python3-nibabel python3-scipy)")

cli, work = sys.argv[1:3]
fresh_dir(work)
check = Checks()
rng = np.random.default_rng(3)


def path(name):
    return os.path.join(work, name)


def save(arr, aff, name):
    p = path(name)
    nib.save(nib.Nifti1Image(arr, aff), p)
    return p


def prep(inp, out, *steps, want=0, label=None, label_out=None):
    args = [cli, "prep", inp, "-o", out, "-q"] + list(steps)
    if label:
        args += ["--label", label, "--label-out", label_out]
    r = subprocess.run(args, capture_output=True, text=True)
    check(r.returncode == want, f"prep {' '.join(steps)}: exit {r.returncode} (want {want}): {r.stderr}")
    return r


def load(p):
    img = nib.load(p)
    return np.asarray(img.dataobj), img.affine


# an oblique grid with anisotropic spacing
rot = np.linalg.qr(rng.normal(size=(3, 3)))[0]
if np.linalg.det(rot) < 0:
    rot[:, 0] *= -1
A = np.eye(4)
A[:3, :3] = rot @ np.diag([0.45, 0.6, 1.25])
A[:3, 3] = [-40, 25, 10]
vol = ndimage.gaussian_filter(rng.normal(0, 300, (40, 34, 22)), 1.0).astype(np.float32)
src = save(vol, A, "src.nii")
# a mildly oblique grid (as scanners write): its orientation code is
# unambiguous, so reorienting back to it must restore the voxel order
R = np.eye(4)
c, s_ = np.cos(np.radians(12)), np.sin(np.radians(12))
R[:3, :3] = np.array([[c, -s_, 0], [s_, c, 0], [0, 0, 1]]) @ np.diag([-0.45, 0.6, 1.25])
R[:3, 3] = [30, -20, 5]
msrc = save(vol, R, "msrc.nii")

# ---- reorient: all 48 codes -------------------------------------------------
codes = []
for p in ("RAS", "RSA", "ARS", "ASR", "SRA", "SAR"):
    for f in range(8):
        c = "".join({"R": "RL", "A": "AP", "S": "SI"}[ch][(f >> i) & 1] for i, ch in enumerate(p))
        codes.append(c)
ok = 0
for c in codes:
    out = path(f"ro_{c}.nii")
    prep(src, out, "--reorient", c)
    d, a = load(out)
    ref = nib.load(src).as_reoriented(ornt_transform(io_orientation(A), axcodes2ornt(tuple(c))))
    same = np.array_equal(d, np.asarray(ref.dataobj)) and np.allclose(a, ref.affine, atol=1e-6)
    check(same, f"reorient {c}: differs from nibabel")
    mout, back = path(f"ro_m_{c}.nii"), path(f"ro_m_{c}_back.nii")
    prep(msrc, mout, "--reorient", c)
    prep(mout, back, "--reorient", "".join(nib.aff2axcodes(R)))
    d2, a2 = load(back)
    check(np.array_equal(d2, vol) and np.allclose(a2, R, atol=1e-5), f"reorient {c}: round trip not exact")
    ok += same
print(f"reorient: {ok}/48 codes equal nibabel's as_reoriented; round trips exact")
prep(src, path("canon.nii"), "--canonical")
check(nib.aff2axcodes(load(path("canon.nii"))[1]) == ("R", "A", "S"), "--canonical gives RAS")


# ---- resample -----------------------------------------------------------------
def centre(aff, shape):
    return aff[:3, :3] @ ((np.array(shape[:3]) - 1) / 2) + aff[:3, 3]


vr = float(vol.max() - vol.min())
for interp, order in (("nearest", 0), ("linear", 1), ("cubic", 3)):
    out = path(f"rs_{interp}.nii")
    prep(src, out, "--spacing", "1,0.8,keep", "--interp", interp, "--no-antialias", "--fill", "-5000")
    d, a = load(out)
    want_shape = (round(40 * 0.45 / 1), round(34 * 0.6 / 0.8), 22)
    check(d.shape == want_shape, f"spacing {interp}: shape {d.shape} vs {want_shape}")
    sp = np.sqrt((a[:3, :3] ** 2).sum(0))
    check(np.allclose(sp, [1, 0.8, 1.25], atol=1e-9), f"spacing {interp}: spacing {sp}")
    dc = np.linalg.norm(centre(a, d.shape) - centre(A, vol.shape))
    check(dc < 0.01, f"spacing {interp}: FOV centre moved {dc} mm")
    m = np.linalg.inv(A) @ a
    pos = m[:3, :3] @ np.indices(d.shape).reshape(3, -1) + m[:3, 3:4]
    inside = np.all((pos >= -0.5) & (pos <= np.array(vol.shape)[:, None] - 0.5), axis=0)
    filled = ~inside
    if order == 0:
        q = np.clip(np.floor(pos + 0.5), 0, np.array(vol.shape)[:, None] - 1).astype(int)
        ref = vol[q[0], q[1], q[2]].astype(np.float64)
        # the file's affine is float32: skip positions within 1e-3 of a tie
        inside &= np.all(np.abs(pos - np.floor(pos) - 0.5) > 1e-3, axis=0)
    else:
        ref = ndimage.map_coordinates(vol.astype(np.float64), pos, order=order, mode="mirror")
    got = d.reshape(-1).astype(np.float64)
    err = np.abs(got[inside] - ref[inside]).max()
    check(err <= (0 if order == 0 else 1e-4 * vr), f"spacing {interp}: max |diff| vs scipy {err}")
    check(np.all(got[filled] == -5000), f"spacing {interp}: fill")
    print(f"spacing {interp}: shape {d.shape}, centre moved {dc:.2g} mm, max |diff| vs scipy {err:.3g} "
          f"({err / vr:.1e} of range), {np.sum(filled)} filled")

# anti-aliasing = scipy gaussian (sigma (f-1)/2 voxels) then linear
out = path("rs_aa.nii")
prep(src, out, "--spacing", "1.35,1.2,1.25")
d, a = load(out)
f = np.array([1.35 / 0.45, 1.2 / 0.6, 1.0])
sig = np.maximum(0, (f - 1) / 2)
sm = ndimage.gaussian_filter(vol.astype(np.float64), sig, mode="mirror", truncate=4.0)
m = np.linalg.inv(A) @ a
pos = m[:3, :3] @ np.indices(d.shape).reshape(3, -1) + m[:3, 3:4]
inside = np.all((pos >= -0.5) & (pos <= np.array(vol.shape)[:, None] - 0.5), axis=0)
ref = ndimage.map_coordinates(sm, pos, order=1, mode="mirror")
err = np.abs(d.reshape(-1)[inside] - ref[inside]).max()
check(err <= 1e-4 * vr, f"anti-aliased resample vs scipy gaussian+linear: {err}")
steps = json.load(open(out[:-4] + ".json"))["PrepSteps"]
check(np.allclose(steps[0]["antialias_sigma_voxels"], sig, atol=1e-6), f"sidecar sigma {steps[0]}")
print(f"anti-aliasing: sigma {sig.tolist()} voxels, max |diff| vs scipy {err:.3g}")

# identity resample is bit-exact (all interpolators)
for interp in ("nearest", "linear", "cubic"):
    out = path(f"id_{interp}.nii")
    prep(src, out, "--spacing", "0.45,0.6,1.25", "--interp", interp)
    d, a = load(out)
    if interp == "cubic":
        check(np.abs(d - vol).max() <= 1e-4 * vr, "identity cubic")
    else:
        check(np.array_equal(d, vol) and np.allclose(a, A), f"identity {interp} not bit-exact")

# --shape and --like
prep(src, path("shape.nii"), "--shape", "20,17,11")
d, a = load(path("shape.nii"))
check(d.shape == (20, 17, 11), f"--shape gives {d.shape}")
check(np.linalg.norm(centre(a, d.shape) - centre(A, vol.shape)) < 0.01, "--shape keeps the centre")
ref_aff = A.copy()
ref_aff[:3, :3] = A[:3, :3] @ np.diag([2, 2, 1])
save(np.zeros((15, 12, 20), np.int16), ref_aff, "ref.nii")
prep(src, path("like.nii"), "--like", path("ref.nii"))
d, a = load(path("like.nii"))
check(d.shape == (15, 12, 20) and np.allclose(a, ref_aff, atol=1e-6), "--like takes the reference grid")

# ---- anti-aliasing energy test ----------------------------------------------
n = 120
x = np.arange(n)
pat = np.zeros((n, 8, 4), np.float32)
pat[:] = (np.cos(2 * np.pi * 0.45 * x) * 1000)[:, None, None]  # near Nyquist
p = save(pat, np.diag([1, 1, 1, 1.0]), "hf.nii")
prep(p, path("hf_aa.nii"), "--spacing", "4,1,1")
prep(p, path("hf_noaa.nii"), "--spacing", "4,1,1", "--no-antialias")
e_aa = load(path("hf_aa.nii"))[0].std()
e_no = load(path("hf_noaa.nii"))[0].std()
check(e_aa < 0.05 * e_no and e_no > 100, f"aliasing energy with AA {e_aa:.3g} vs without {e_no:.3g}")
print(f"anti-aliasing energy: std {e_aa:.3g} with, {e_no:.3g} without (input std {pat.std():.3g})")

# ---- labels ----------------------------------------------------------------------
lab = np.zeros(vol.shape, np.int16)
lab[5:30, 4:28, 3:18] = 1
lab[12:22, 10:20, 6:14] = 4
lab[8:34, 15, 2:20] = 9          # a one-voxel-thick sheet
lp = save(lab, A, "lab.nii")
coord = (lab * 100).astype(np.int16)  # image encodes the label: alignment check
cp = save(coord, A, "coord.nii")
for li in ("nearest", "onehot"):
    out, lout = path(f"lab_img_{li}.nii"), path(f"lab_{li}.nii")
    prep(cp, out, "--reorient", "LPI", "--spacing", "0.9,0.9,1.1", "--crop-or-pad", "30,30,30", "--interp",
         "nearest", "--label-interp", li, label=lp, label_out=lout)
    di, ai = load(out)
    dl, al = load(lout)
    check(set(np.unique(dl)) <= {0, 1, 4, 9}, f"labels {li}: values {np.unique(dl)}")
    check(np.allclose(ai, al), f"labels {li}: image and label affines differ")
    if li == "nearest":
        check(np.array_equal(di, dl * 100), "labels nearest: image and label not aligned")
    print(f"labels {li}: values {sorted(np.unique(dl).tolist())}, sheet voxels {(dl == 9).sum()}")
# onehot is argmax over labels of each label's linearly interpolated
# indicator (ties: the smaller label): checked against scipy per label
d_one = load(path("lab_onehot.nii"))[0]
ro = nib.load(cp).as_reoriented(ornt_transform(io_orientation(A), axcodes2ornt(("L", "P", "I"))))
aff_ro = ro.affine
lab_ro = np.asarray(nib.Nifti1Image(lab, A).as_reoriented(
    ornt_transform(io_orientation(A), axcodes2ornt(("L", "P", "I")))).dataobj)
a_one = load(path("lab_onehot.nii"))[1]
# the step chain: spacing 0.9,0.9,1.1 then a centred crop/pad to 30^3
js = json.load(open(path("lab_img_onehot.json")))["PrepSteps"]
a_sp = np.array(js[1]["ijk_to_ras"])
m = np.linalg.inv(aff_ro) @ a_sp
shape_sp = tuple(js[1]["shape"])
pos = m[:3, :3] @ np.indices(shape_sp).reshape(3, -1) + m[:3, 3:4]
vals = np.array([0, 1, 4, 9])
w = np.stack([ndimage.map_coordinates((lab_ro == v).astype(np.float64), pos, order=1, mode="mirror")
              for v in vals])
ref = vals[np.argmax(w + 1e-12 * (len(vals) - np.arange(len(vals)))[:, None], axis=0)].reshape(shape_sp)
inside = np.all((pos >= -0.5) & (pos <= np.array(lab_ro.shape)[:, None] - 0.5), axis=0).reshape(shape_sp)
lo = np.array(js[2]["origin_voxel"])
ref_c = np.zeros((30, 30, 30), np.int16)
ins_c = np.zeros((30, 30, 30), bool)
for arr, dst in ((ref, ref_c), (inside, ins_c)):
    src_lo = np.maximum(lo, 0)
    src_hi = np.minimum(lo + 30, shape_sp)
    dst[tuple(slice(a_ - l_, b_ - l_) for a_, b_, l_ in zip(src_lo, src_hi, lo))] = \
        arr[tuple(slice(a_, b_) for a_, b_ in zip(src_lo, src_hi))]
# exclude near-ties (float32 affines in files)
srt = np.sort(w, axis=0)
clear = ((srt[-1] - srt[-2]) > 1e-3).reshape(shape_sp)
clr_c = np.zeros((30, 30, 30), bool)
src_lo, src_hi = np.maximum(lo, 0), np.minimum(lo + 30, shape_sp)
clr_c[tuple(slice(a_ - l_, b_ - l_) for a_, b_, l_ in zip(src_lo, src_hi, lo))] = \
    clear[tuple(slice(a_, b_) for a_, b_ in zip(src_lo, src_hi))]
sel = ins_c & clr_c
agree = np.mean(d_one[sel] == ref_c[sel])
check(agree == 1.0, f"onehot vs per-label scipy argmax: {agree:.5f} agree")
print(f"onehot vs per-label scipy linear + argmax: {sel.sum()} voxels, agreement {agree:.5f}")

# ---- crop ---------------------------------------------------------------------------
box = np.zeros((30, 31, 20), np.int16)
box[7:12, 9:20, 4:6] = 50
bp = save(box, np.diag([2, 1.5, 3, 1.0]), "box.nii")
prep(bp, path("fg.nii"), "--crop-foreground", "--margin", "3")
d, a = load(path("fg.nii"))
# margin 3 mm: ceil(3/2)=2, ceil(3/1.5)=2, ceil(3/3)=1 voxels
check(d.shape == (5 + 4, 11 + 4, 2 + 2), f"crop-foreground shape {d.shape}")
check(np.allclose(a[:3, 3], [2 * 5, 1.5 * 7, 3 * 3]), f"crop-foreground origin {a[:3, 3]}")
prep(bp, path("cop.nii"), "--crop-or-pad", "20,41,21", "--fill", "-1")
d, a = load(path("cop.nii"))
check(d.shape == (20, 41, 21), f"crop-or-pad shape {d.shape}")
check(np.array_equal(d[:, 5:36, 0:20], box[5:25, :, :]) and np.all(d[:, :5, :] == -1),
      "crop-or-pad content / fill")

# default fill: the image minimum (air in CT is not 0)
prep(src, path("padmin.nii"), "--crop-or-pad", "50,34,22")
d, _ = load(path("padmin.nii"))
check(np.all(d[:5] == vol.min()) and np.all(d[45:] == vol.min()) and np.array_equal(d[5:45], vol),
      f"pad with the minimum {vol.min()}: got {np.unique(d[:5])[:3]}")

# ---- bad requests, threads, sidecar ---------------------------------------------------
other = save(lab[:-1], A, "lab_other.nii")
r = prep(src, path("bad1.nii"), "--spacing", "1", want=1, label=other, label_out=path("bad1_lab.nii"))
check("grid" in r.stderr and not os.path.exists(path("bad1.nii")), f"label off-grid: {r.stderr}")
r = prep(src, path("bad2.nii"), "--spacing", "0.00001", want=1)
check("voxels" in r.stderr and not os.path.exists(path("bad2.nii")), f"absurd spacing: {r.stderr}")
r = prep(src, path("bad3.nii"), "--spacing", "-1", want=2)
r1 = prep(src, path("t1.nii"), "--spacing", "0.7", "--interp", "cubic", "--threads", "1")
r2 = prep(src, path("t2.nii"), "--spacing", "0.7", "--interp", "cubic", "--threads", "2")
check(open(path("t1.nii"), "rb").read() == open(path("t2.nii"), "rb").read(), "1 and 2 threads differ")
js = json.load(open(path("t1.json")))
check(js["PrepSteps"][0]["step"] == "spacing" and js["PrepSteps"][0]["interp"] == "cubic", f"sidecar {js}")

check.done()
