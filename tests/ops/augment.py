"""dcmprep augment and the augmentation steps against numpy/scipy and their definitions.

usage: augment.py DCMPREP WORKDIR

- flip twice is the identity and flip once is numpy's flip (bit-exact);
- a 90-degree turn about the world x, y or z axis is numpy's rot90 on a
  phantom with RAS-aligned axes (bit-exact, nearest and linear);
- zoom 1, shift 0, rotate 0 and elastic alpha 0 are the identity (bit-exact);
- rotate + zoom + shift in one run equals scipy.ndimage.affine_transform
  (order=1, mode mirror) with the composed matrix of the sidecar at every
  output voxel inside the input (<= 1e-4 of the value range): one interpolation;
- the affine path equals the displacement-field path (the same mapping plus
  an elastic step of alpha 0) byte for byte, for uint8, int16 and float32
  images and fill min, edge and a number, and integer outputs are the
  double-precision trilinear value rounded half away from zero at every
  voxel whose 8 taps are inside;
- labels keep only their original values (nearest and onehot, with elastic);
  image and label stay aligned: image = f(label) exactly on a
  coordinate-encoding phantom after flip, rotate, zoom, shift, elastic, crop;
- random intensity steps leave the label alone;
- the same seed gives identical bytes with 1 and 2 threads, and variant k
  made alone (in any order) equals variant k of the batch; prep with the
  same steps gives variant 0's bytes;
- over 2000 variants every drawn parameter lies in its range, with the mean
  of a uniform draw and @P rates within 4 standard errors;
- rand-crop-label hits the label at POS + (1 - POS) q (q the exact hit rate of
  a uniform crop), within 4 standard errors over 400 variants, and always when
  centred on the label;
- bad requests exit 2 with a message.
"""
import glob
import json
import os
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import Checks, fresh_dir, skip  # noqa: E402

try:
    import numpy as np
    import nibabel as nib
    from scipy import ndimage
except ImportError as e:
    skip(f"{e} (install python3-nibabel python3-scipy)")

cli, work = sys.argv[1:3]
fresh_dir(work)
check = Checks()
rng = np.random.default_rng(5)


def path(name):
    return os.path.join(work, name)


def save(arr, aff, name):
    p = path(name)
    nib.save(nib.Nifti1Image(arr, aff), p)
    return p


def augment(inp, out, n, *steps, label=None, want=0, extra=()):
    args = [cli, "augment", inp, "-o", path(out), "-n", str(n), "-q"] + list(extra) + list(steps)
    if label:
        args += ["--label", label]
    r = subprocess.run(args, capture_output=True, text=True)
    check(r.returncode == want, f"augment {' '.join(steps)}: exit {r.returncode} (want {want}): {r.stderr}")
    return r


def variant(out, stem, k, lab=False, width=3):
    p = path(os.path.join(out, f"{stem}_aug{k:0{width}d}{'_label' if lab else ''}.nii.gz"))
    img = nib.load(p)
    return np.asarray(img.dataobj), img.affine


def record(out, stem, k, width=3):
    with open(path(os.path.join(out, f"{stem}_aug{k:0{width}d}.json"))) as f:
        return json.load(f)


def only(out, stem, *steps, label=None, extra=()):
    """Augments once and returns (image, affine, label or None, first record)."""
    augment(stem + ".nii", out, 1, *steps, label=label, extra=extra)
    d, a = variant(out, stem, 0)
    lab = variant(out, stem, 0, lab=True)[0] if label else None
    return d, a, lab, record(out, stem, 0)["PrepSteps"][0]


# RAS-aligned cube at 1.5 mm: voxel axes are world axes
A = np.diag([1.5, 1.5, 1.5, 1.0])
A[:3, 3] = [-10, 4, 30]
N = 12
vol = ndimage.gaussian_filter(rng.normal(0, 100, (N, N, N)), 1.0).astype(np.float32)
save(vol, A, "cube.nii")
os.chdir(work)

# ---- flips ------------------------------------------------------------------------
d, a, _, _ = only("flip2", "cube", "--flip", "i,k", "--flip", "x,z")
check(np.array_equal(d, vol) and np.allclose(a, A), "flip twice is not the identity")
d, _, _, rec = only("flip1", "cube", "--flip", "j")
check(np.array_equal(d, np.flip(vol, 1)), "flip j differs from numpy flip")
check(rec["steps"][0]["flipped"] == [False, True, False], f"flip record {rec['steps'][0]}")

# ---- 90-degree turns ------------------------------------------------------------------
# +90 about z turns +x toward +y: numpy's rot90 over axes (0, 1); x: (1, 2); y: (2, 0)
for ax, spec, rot in (("z", "0,0,90:90", (0, 1)), ("x", "90:90,0,0", (1, 2)), ("y", "0,90:90,0", (2, 0))):
    want = np.rot90(vol, 1, axes=rot)
    for interp in ("nearest", "linear"):
        d, a, _, _ = only(f"rot_{ax}_{interp}", "cube", "--rand-rotate", spec, "--interp", interp)
        check(np.array_equal(d, want), f"rotate 90 about {ax} ({interp}) is not rot90 over axes {rot}")
        check(np.allclose(a, A), f"rotate about {ax}: the grid changed")
print("flip twice = identity, flip = np.flip, 90-degree turns about x, y, z = np.rot90 (bit-exact)")

# ---- identities -------------------------------------------------------------------------
for steps in (["--rand-zoom", "1,1"], ["--rand-shift", "0"], ["--rand-rotate", "0"],
              ["--rand-elastic", "0,4"], ["--rand-zoom", "1,1", "--rand-shift", "0%", "--rand-elastic", "0mm,5mm"]):
    for interp in ("nearest", "linear"):
        d, _, _, _ = only("ident", "cube", *steps, "--interp", interp)
        check(np.array_equal(d, vol), f"{' '.join(steps)} ({interp}) is not the identity")
print("zoom 1, shift 0, rotate 0, elastic alpha 0: identity (bit-exact, nearest and linear)")

# ---- one interpolation: rotate + zoom + shift vs scipy affine_transform --------------------
# an oblique, anisotropic grid so that the world rotation is not a voxel permutation
q = np.linalg.qr(rng.normal(size=(3, 3)))[0]
q *= np.sign(np.linalg.det(q))
B = np.eye(4)
B[:3, :3] = q @ np.diag([0.8, 1.0, 1.6])
B[:3, 3] = [5, -7, 12]
obl = ndimage.gaussian_filter(rng.normal(0, 300, (40, 36, 24)), 1.2).astype(np.float32)
save(obl, B, "obl.nii")
vr = float(obl.max() - obl.min())
worst = 0.0
augment("obl.nii", "fused", 4, "--rand-rotate", "20,10,30", "--rand-zoom", "0.8,1.25", "--anisotropic",
        "--rand-shift", "4", "--fill", "0", extra=("--seed", "11"))
for k in range(4):
    d, a = variant("fused", "obl", k)
    rec = record("fused", "obl", k)["PrepSteps"][0]
    M = np.array(rec["voxel_out_to_in"])
    W = np.array(rec["world_out_to_in"])
    check(np.allclose(W, B @ M @ np.linalg.inv(a), atol=1e-6), "world matrix = A_in M A_out^-1")
    ref = ndimage.affine_transform(obl.astype(np.float64), M[:3, :3], M[:3, 3], order=1, mode="mirror")
    pos = M[:3, :3] @ np.indices(d.shape).reshape(3, -1) + M[:3, 3:4]
    inside = np.all((pos >= -0.5) & (pos <= np.array(obl.shape)[:, None] - 0.5), axis=0).reshape(d.shape)
    err = np.abs(d[inside] - ref[inside]).max()
    worst = max(worst, err)
    check(np.all(d[~inside] == 0), "fused: fill outside")
check(worst <= 1e-4 * vr, f"fused rotate+zoom+shift vs scipy affine_transform: {worst}")
print(f"rotate+zoom+shift (one run, 4 variants) vs scipy affine_transform(order=1) with the composed "
      f"matrix: max |diff| {worst:.3g} ({worst / vr:.1e} of range)")

# ---- affine path = displacement path; integer outputs rounded half away from zero ------------
def trilinear(a, dim, m):
    """Trilinear value (float64, the warp engine's operation order) and the
    mask of output voxels whose 8 taps are inside a."""
    i, j, k = [x.astype(np.float64) for x in np.indices(dim)]
    p = [m[d, 0] * i + ((m[d, 1] * j + m[d, 2] * k) + m[d, 3]) for d in range(3)]
    inner = np.ones(dim, bool)
    for d in range(3):
        inner &= (p[d] >= 0) & (p[d] < a.shape[d] - 1)
    f = [np.where(inner, p[d] - np.floor(p[d]), 0) for d in range(3)]
    o = [np.where(inner, np.floor(p[d]), 0).astype(np.int64) for d in range(3)]
    t = a.astype(np.float64)

    def x(dy, dz):
        s0, s1 = t[o[0], o[1] + dy, o[2] + dz], t[o[0] + 1, o[1] + dy, o[2] + dz]
        return s0 + f[0] * (s1 - s0)

    c0 = x(0, 0) + f[1] * (x(1, 0) - x(0, 0))
    c1 = x(0, 1) + f[1] * (x(1, 1) - x(0, 1))
    return c0 + f[2] * (c1 - c0), inner


kinds = {"u8": np.clip(obl * 0.3 + 128, 0, 255).astype(np.uint8), "i16": (obl * 40).astype(np.int16), "f32": obl}
spatial_steps = ["--rand-rotate", "25,15,35", "--rand-zoom", "0.8,1.25", "--anisotropic", "--rand-shift", "5"]
nvox = [0, 0]
for kind, arr in kinds.items():
    save(arr, B, f"k{kind}.nii")
    for fill in ("min", "edge", "-9"):
        tag = f"{kind}_{fill.lstrip('-')}"
        augment(f"k{kind}.nii", f"aff_{tag}", 2, *spatial_steps, "--fill", fill, extra=("--seed", "21"))
        augment(f"k{kind}.nii", f"fld_{tag}", 2, *spatial_steps, "--rand-elastic", "0,4", "--fill", fill,
                extra=("--seed", "21"))
        for k in range(2):
            d, _ = variant(f"aff_{tag}", f"k{kind}", k)
            e, _ = variant(f"fld_{tag}", f"k{kind}", k)
            M = np.array(record(f"aff_{tag}", f"k{kind}", k)["PrepSteps"][0]["voxel_out_to_in"])
            Me = np.array(record(f"fld_{tag}", f"k{kind}", k)["PrepSteps"][0]["voxel_out_to_in"])
            check(np.array_equal(M, Me), f"{tag}: the elastic step changed the affine draws")
            check(d.dtype == arr.dtype and np.array_equal(d, e),
                  f"{tag} variant {k}: affine path != displacement path ({d.dtype}, "
                  f"{np.sum(d != e)} voxels differ)")
            want, inner = trilinear(arr, d.shape, M)
            check(0.2 < inner.mean() < 0.95, f"{tag}: {inner.mean():.2f} interior (rows should leave the volume)")
            if arr.dtype != np.float32:
                lo, hi = np.iinfo(arr.dtype).min, np.iinfo(arr.dtype).max
                want = np.clip(np.where(want < 0, -np.floor(-want + 0.5), np.floor(want + 0.5)), lo, hi)
            else:
                want = want.astype(np.float32)
            check(np.array_equal(d[inner], want[inner].astype(arr.dtype)),
                  f"{tag} variant {k}: interior voxels differ from the rounded trilinear value")
            nvox[0] += int(inner.sum())
            nvox[1] += d.size
print(f"affine path = displacement path (alpha 0) for u8, i16, f32 x fill min, edge, number; "
      f"{nvox[0]} of {nvox[1]} voxels equal the rounded double-precision trilinear value")

# ---- labels: values kept, image and label aligned -----------------------------------------
shape = (30, 26, 18)
code = (np.arange(np.prod(shape)) + 1).reshape(shape).astype(np.int32)  # each voxel its own label
save(code, B, "enc.nii")
save((3 * code + 7).astype(np.float32), B, "encimg.nii")
os.rename(path("encimg.nii"), path("enc_img.nii"))
spatial = ["--flip", "x", "--rand-rotate", "25", "--rand-zoom", "0.7,1.3", "--rand-shift", "10%",
           "--rand-elastic", "3,4", "--rand-crop", "24,20,16"]
augment("enc_img.nii", "align", 3, *spatial, "--interp", "nearest", "--fill", "7", label=path("enc.nii"),
        extra=("--seed", "3"))
for k in range(3):
    d, a = variant("align", "enc_img", k)
    lab, la = variant("align", "enc_img", k, lab=True)
    check(d.shape == (24, 20, 16) and np.allclose(a, la), "aligned: crop shape and same grid")
    check(np.array_equal(d, 3 * lab.astype(np.float32) + 7), f"variant {k}: image != f(label)")
    check(np.isin(lab, np.append(code.ravel(), 0)).all(), "labels: new values")
    check(len(np.unique(lab)) > 0.3 * lab.size, "aligned: the phantom moved as a whole")
print("image = f(label) exactly after flip+rotate+zoom+shift+elastic+crop (3 variants)")

seg = np.zeros(shape, np.uint8)
seg[8:20, 6:18, 4:14] = 2
seg[12:16, 10:14, 7:11] = 5
seg[3:6, 3:6, 3:6] = 9
save(seg, B, "seg.nii")
save(obl[:30, :26, :18], B, "im2.nii")
for li in ("nearest", "onehot"):
    augment("im2.nii", f"lab_{li}", 3, *spatial[:-2], "--label-interp", li, "--rand-noise", "50",
            "--rand-gamma", "0.5,2", label=path("seg.nii"), extra=("--seed", "9"))
    for k in range(3):
        lab, _ = variant(f"lab_{li}", "im2", k, lab=True)
        check(set(np.unique(lab)) <= {0, 2, 5, 9}, f"{li}: label values {np.unique(lab)}")
        check(lab.dtype == np.uint8 and (lab == 2).sum() > 0, f"{li}: label kept")
# intensity steps never touch the label
augment("im2.nii", "lab_noint", 3, *spatial[:-2], "--label-interp", "onehot", label=path("seg.nii"),
        extra=("--seed", "9"))
for k in range(3):
    check(np.array_equal(variant("lab_noint", "im2", k, lab=True)[0], variant("lab_onehot", "im2", k, lab=True)[0]),
          "intensity steps changed the label")
print("labels keep {0,2,5,9} (nearest, onehot, with elastic); intensity steps leave them alone")

# ---- reproducibility --------------------------------------------------------------------------
steps = ["--rand-flip", "--rand-rotate", "15@0.7", "--rand-zoom", "0.9,1.1", "--rand-elastic", "2,3",
         "--rand-crop-label", "16,16,12,0.5", "--rand-noise", "10", "--rand-scale", "0.9,1.1"]
augment("im2.nii", "t1", 4, *steps, label=path("seg.nii"), extra=("--seed", "42", "--threads", "1"))
augment("im2.nii", "t2", 4, *steps, label=path("seg.nii"), extra=("--seed", "42", "--threads", "2"))
for k in (3, 0, 2):
    augment("im2.nii", "alone", 4, *steps, label=path("seg.nii"),
            extra=("--seed", "42", "--threads", "2", "--variant", str(k)))
same = alone = 0
for f in sorted(glob.glob(path("t1/*"))):
    b = os.path.basename(f)
    with open(f, "rb") as x, open(path("t2/" + b), "rb") as y:
        same += check(x.read() == y.read(), f"{b}: 1 and 2 threads differ")
    if os.path.exists(path("alone/" + b)):
        with open(f, "rb") as x, open(path("alone/" + b), "rb") as y:
            alone += check(x.read() == y.read(), f"{b}: variant made alone differs from the batch")
check(same == 16 and alone == 12, f"compared {same} and {alone} files")
check(not os.path.exists(path("alone/im2_aug001.nii.gz")), "--variant wrote another variant")
d0 = variant("t1", "im2", 0)[0]
check(not np.array_equal(d0, variant("t1", "im2", 1)[0]), "variants 0 and 1 are the same")
augment("im2.nii", "t3", 1, *steps, label=path("seg.nii"), extra=("--seed", "43"))
check(not np.array_equal(d0, variant("t3", "im2", 0)[0]), "seeds 42 and 43 give the same variant")
print(f"1 vs 2 threads: {same} files identical; variants 3, 0, 2 made alone: {alone} files identical")
# prep draws as augment's variant 0 of the same input (keyed by its file name)
r = subprocess.run([cli, "prep", path("im2.nii"), "-o", path("prep0.nii.gz"), "--label", path("seg.nii"),
                    "--label-out", path("prep0_label.nii.gz"), "--seed", "42", "-q"] + steps,
                   capture_output=True, text=True)
check(r.returncode == 0, f"prep with random steps: {r.stderr}")
for suffix in ("", "_label"):
    with open(path(f"prep0{suffix}.nii.gz"), "rb") as x, open(path(f"t1/im2_aug000{suffix}.nii.gz"), "rb") as y:
        check(x.read() == y.read(), f"prep{suffix} differs from augment's variant 0")

# ---- drawn parameters over 2000 variants ------------------------------------------------------------
tiny = rng.normal(0, 1, (6, 5, 4)).astype(np.float32)
save(tiny, A, "tiny.nii")
n = 2000
augment("tiny.nii", "many", n, "--rand-flip=ik", "--rand-rotate", "10,20:30,5@0.5", "--rand-zoom", "0.8,1.2",
        "--anisotropic", "--rand-shift", "3", "--rand-crop", "4,5,6", "--rand-gamma", "0.5,2@0.25",
        "--rand-scale", "0.9,1.1", "--rand-offset", "-5,5", extra=("--seed", "7", "--threads", "1"))
W = 4
rot, zoom, shift, flips, origin, gam, scale, off, rot_on = [], [], [], [], [], [], [], [], 0
for k in range(n):
    ps = record("many", "tiny", k, width=W)["PrepSteps"]
    st = {s["step"]: s for s in ps[0]["steps"]}
    flips.append(st["rand-flip"]["flipped"])
    if st["rand-rotate"]["applied"]:
        rot.append(st["rand-rotate"]["angles_deg"])
        rot_on += 1
    zoom.append(st["rand-zoom"]["zoom"])
    shift.append(st["rand-shift"]["shift_mm"])
    origin.append(st["rand-crop"]["origin_voxel"])
    ints = {s["step"]: s for s in ps[1:]}
    if ints["rand-gamma"]["applied"]:
        gam.append(ints["rand-gamma"]["gamma"])
    scale.append(ints["rand-scale"]["scale"])
    off.append(ints["rand-offset"]["offset"])


def in_range(name, v, lo, hi):
    v = np.asarray(v, float)
    lo, hi = np.broadcast_to(lo, v.shape[1:]), np.broadcast_to(hi, v.shape[1:])
    ok = check(np.all(v >= lo) and np.all(v <= hi), f"{name}: outside [{lo}, {hi}]")
    mid, se = (lo + hi) / 2, (hi - lo) / np.sqrt(12 * len(v))
    check(np.all(np.abs(v.mean(0) - mid) <= 4 * se + 1e-12), f"{name}: mean {v.mean(0)} vs {mid}")
    return ok


def rate(name, hits, total, p):
    r, se = hits / total, np.sqrt(p * (1 - p) / total)
    check(abs(r - p) <= 4 * se, f"{name}: rate {r:.3f} vs {p} (4 se = {4 * se:.3f})")
    return r


in_range("rotate", rot, [-10, 20, -5], [10, 30, 5])
in_range("zoom", zoom, 0.8, 1.2)
in_range("shift mm", shift, -3, 3)
in_range("crop origin", origin, [0, 0, -2], [2, 0, 0])  # crop along i, fits j, pads k
in_range("gamma", gam, 0.5, 2)
in_range("scale", scale, 0.9, 1.1)
in_range("offset", off, -5, 5)
fl = np.asarray(flips)
check(not fl[:, 1].any(), "rand-flip=ik flipped j")
r_i = rate("flip i", fl[:, 0].sum(), n, 0.5)
r_k = rate("flip k", fl[:, 2].sum(), n, 0.5)
r_rot = rate("rotate@0.5", rot_on, n, 0.5)
r_gam = rate("gamma@0.25", len(gam), n, 0.25)
z = np.asarray(zoom)
check(np.all(z[:, 0] != z[:, 1]), "--anisotropic: one factor per axis")
print(f"{n} variants: every draw in range; flip i {r_i:.3f}, k {r_k:.3f} (p 0.5), rotate@0.5 applied "
      f"{r_rot:.3f}, gamma@0.25 applied {r_gam:.3f}")

# ---- crop centred on the label: hit rate ------------------------------------------------------------
big = np.zeros((40, 40, 40), np.uint8)
big[5:8, 5:8, 5:8] = 1
save(big, A, "blob_lab.nii")
save(np.zeros((40, 40, 40), np.int16), A, "blob.nii")
n, pos = 400, 0.3
augment("blob.nii", "cl", n, "--rand-crop-label", f"8,8,8,{pos}", label=path("blob_lab.nii"),
        extra=("--seed", "5"))
q = (8 / 33) ** 3  # a uniform 8-voxel crop of 40 (33 origins) holds the blob for 8 of them per axis
hits = centred = 0
for k in range(n):
    lab, _ = variant("cl", "blob", k, lab=True)
    c = record("cl", "blob", k)["PrepSteps"][0]["steps"][0]["centre"] == "label"
    hits += lab.any()
    centred += c
    if c:
        check(lab.any(), f"variant {k}: centred on the label but misses it")
p_hit = pos + (1 - pos) * q
r = rate("crop-label hits", hits, n, p_hit)
rate("crop-label centred", centred, n, pos)
print(f"rand-crop-label 8,8,8,{pos}: hit rate {r:.3f} over {n} (expected {p_hit:.3f} = POS + (1 - POS) q, "
      f"tolerance 4 se = {4 * np.sqrt(p_hit * (1 - p_hit) / n):.3f}); centred {centred / n:.3f}")

# ---- bad requests ----------------------------------------------------------------------------------------
for bad in (["--rand-rotate", "abc"], ["--rand-zoom", "0,2"], ["--rand-zoom", "2,1"], ["--rand-crop", "4,4,4@0.5"],
            ["--rand-elastic", "2mm,3"], ["--flip", "q"], ["--rand-noise", "-1"], ["--rand-gamma", "1,2@1.5"],
            ["--rand-shift", "3%,2,1"], ["--seed", "-4"]):
    r = augment("tiny.nii", "bad", 1, *bad, want=2)
    check("dcmprep augment:" in r.stderr, f"{bad}: message {r.stderr!r}")
r = augment("tiny.nii", "bad", 1, "--rand-crop-label", "2,2,2", want=1)
check("--label" in r.stderr, f"crop-label without a label: {r.stderr!r}")
augment("tiny.nii", "bad", 2, "--rand-flip", want=2, extra=("--variant", "2"))
check.done("augment")
