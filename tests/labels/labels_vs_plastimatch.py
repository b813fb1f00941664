"""RTSTRUCT labels against plastimatch (`plastimatch convert --xor-contours`,
one mask per ROI on the referenced CT), Dice per ROI printed.

usage: labels_vs_plastimatch.py DCMPREP SYNTH WORKDIR

plastimatch's rasteriser is independent of dcmprep's (ITK-based, its own
slice matching); with --xor-contours it fills holes as the even-odd rule
does.  Skips (77) when plastimatch is not installed.
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import testutil  # noqa: E402

testutil.need_modules("numpy", "nibabel")
import numpy as np  # noqa: E402
import nibabel as nib  # noqa: E402

cli, synth, work = sys.argv[1:4]
if not shutil.which("plastimatch"):
    testutil.skip("plastimatch not installed (Debian package plastimatch; tools/deps.sh --test)")
testutil.fresh_dir(work)
check = testutil.Checks()
SHAPES = ["sphere", "torus", "nested"]


def run(args):
    r = subprocess.run(args, capture_output=True, text=True)
    check(r.returncode == 0, f"{' '.join(args)}: exit {r.returncode}\n{r.stderr[-1500:]}")
    return r


CASES = {
    "axial": ["--rows", "96", "--cols", "96", "--slices", "48", "--slice-spacing", "1.25", "--pixel-spacing", "0.8,0.8"],
    "oblique": ["--rows", "80", "--cols", "72", "--slices", "40", "--slice-spacing", "1.5",
                "--iop", "0.866025,0.5,0,-0.353553,0.612372,0.707107"],
}
for name, args in CASES.items():
    d = testutil.fresh_dir(os.path.join(work, name))
    ct = os.path.join(d, "ct")
    run([synth, "-o", ct, "--rtstruct", os.path.join(d, "rt.dcm")] + args)
    out = os.path.join(d, "out")
    run([cli, "convert", ct, os.path.join(d, "rt.dcm"), "-o", out, "-q"])
    lab = nib.load(os.path.join(out, "1_synthetic_CT_body_label.nii.gz"))
    ours = np.asarray(lab.dataobj)
    pm = os.path.join(d, "pm")
    run(["plastimatch", "convert", "--input", os.path.join(d, "rt.dcm"), "--referenced-ct", ct,
         "--output-prefix", pm, "--prefix-format", "nii.gz", "--xor-contours"])
    dices = []
    for v, s in enumerate(SHAPES, 1):
        p = os.path.join(pm, f"{s}.nii.gz")
        if not check(os.path.exists(p), f"{name}: plastimatch wrote no {p}"):
            continue
        img = nib.load(p)
        theirs = np.asarray(img.dataobj) > 0
        check(theirs.shape == ours.shape, f"{name} {s}: plastimatch shape {theirs.shape}, ours {ours.shape}")
        check(np.allclose(img.affine, lab.affine, atol=1e-3),
              f"{name} {s}: plastimatch's grid differs: {img.affine.tolist()} vs {lab.affine.tolist()}")
        if theirs.shape != ours.shape:
            continue
        mine = ours == v
        dc = 2 * (mine & theirs).sum() / max(1, mine.sum() + theirs.sum())
        dices.append(f"{s} {dc:.4f}")
        check(dc >= 0.99, f"{name} {s}: Dice {dc:.4f} with plastimatch, want >= 0.99")
    print(f"{name}: Dice with plastimatch per ROI: {', '.join(dices)}")
check.done("labels_vs_plastimatch")
