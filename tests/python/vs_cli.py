"""Every prep step through Python equals the command line's output, byte for byte.

usage: vs_cli.py WORKDIR

For each case (covering every step of the table, and the settings), the
files `dcmprep prep IN -o OUT [--label L --label-out LO] WORDS` writes and
those dcmprep.prep(load(IN), WORDS, label=load(L)).save() writes are the same
bytes: NIfTI (.nii.gz) and sidecar, image and label; one-step cases also
through dcmprep.steps.<step>(image, value, **settings).  Also: a pipeline
file (prep --save-pipeline / --pipeline against Pipeline.from_file and
Pipeline.text), the DICOM input, and dcmprep.Augment against
`dcmprep augment -n 3` (same NIfTI bytes; sidecars equal but for the
variant count), with the key taken from the loaded file's name or given.
"""
import json
import os
import sys

from pyutil import Checks, cli, fresh_dir, need_sample, read
import numpy as np
import dcmprep

work = fresh_dir(sys.argv[1])
check = Checks()
rng = np.random.default_rng(3)


def path(name):
    return os.path.join(work, name)


# an oblique int16 image with structure, a two-label mask on its grid, a reference grid
aff = np.array([[-1.2, 0.1, 0.0, 30.0], [0.15, 1.1, 0.2, -20.0], [0.0, -0.1, 2.0, 5.0], [0, 0, 0, 1]])
ii, jj, kk = np.meshgrid(np.arange(40), np.arange(36), np.arange(24), indexing="ij")
body = ((ii - 20) ** 2 / 300 + (jj - 18) ** 2 / 200 + (kk - 12) ** 2 / 80) < 1
img = np.where(body, 40 + 30 * np.sin(ii / 4.0) + rng.normal(0, 8, body.shape), -1000).astype(np.int16)
lab = (body & (ii > 15)).astype(np.uint8) + (body & (jj > 22)).astype(np.uint8)
IMG, LAB, REF = path("img.nii.gz"), path("lab.nii.gz"), path("ref.nii.gz")
dcmprep.Volume.from_numpy(img, aff, meta={"Modality": "CT"}).save(IMG, sidecar=False)
dcmprep.Volume.from_numpy(lab, aff).save(LAB, sidecar=False)
raff = aff.copy()
raff[:3, :3] = aff[:3, :3] @ np.diag([1.5, 1.5, 1.0])
dcmprep.Volume.from_numpy(np.zeros((30, 25, 20), np.uint8), raff).save(REF, sidecar=False)

# (words, with label?); every step word of the table appears at least once
CASES = [
    (["--reorient", "LPI"], True), (["--canonical"], True),
    (["--spacing", "2,1.5,keep"], True), (["--spacing", "0.8", "--interp", "cubic", "--fill", "edge"], True),
    (["--spacing", "3", "--no-antialias", "--label-interp", "onehot"], True),
    (["--shape", "20,18,30", "--interp", "nearest"], True), (["--like", REF], True),
    (["--crop-or-pad", "48,20,30", "--fill", "-5"], True), (["--crop-foreground"], True),
    (["--crop-foreground=-500", "--margin", "3"], False),
    (["--window", "40,400"], False), (["--window", "abdomen", "--window-out", "u8"], False),
    (["--window", "brain", "--window-out", "hu"], False), (["--clip", "-100,80"], True),
    (["--clip-percentile", "1,99", "--mask", "nonzero"], False),
    (["--clip-percentile", "5,95", "--mask", "label"], True),
    (["--normalize", "zscore"], False), (["--normalize", "minmax", "--mask", "above:-500"], False),
    (["--normalize", "range:-1,1"], False), (["--normalize", "zscore:mean=10,std=20"], False),
    (["--dtype", "u8"], False), (["--dtype", "f64"], True),
    (["--flip", "x,k"], True), (["--rand-flip"], True), (["--rand-flip=j", "--seed", "5"], True),
    (["--rand-rotate", "0,0,20@0.7", "--seed", "9"], True),
    (["--rand-zoom", "0.8,1.2", "--anisotropic", "--seed", "2"], True),
    (["--rand-shift", "10%"], True), (["--rand-elastic", "3,4", "--seed", "4"], True),
    (["--rand-crop", "24,20,16"], True), (["--rand-crop-label", "16,16,12,0.8", "--seed", "1"], True),
    (["--rand-noise", "5", "--seed", "3"], True), (["--rand-gamma", "0.7,1.4", "--seed", "3"], False),
    (["--rand-scale", "0.9,1.1"], False), (["--rand-offset", "-10,10", "--seed", "8"], True),
    (["--canonical", "--spacing", "1.5", "--rand-flip=x", "--rand-rotate", "8", "--rand-zoom", "0.9,1.1",
      "--crop-foreground", "--margin", "2", "--window", "abdomen", "--seed", "7"], True),
]
covered = {w[2:].split("=")[0] for words, _ in CASES for w in words if w.startswith("--")}
missing = set(dcmprep.pipeline.WORDS) - covered
check(not missing, f"words of the step table without a case: {sorted(missing)}")


def same_files(a, b, what):
    ok = check(os.path.exists(a) and os.path.exists(b), f"{what}: {a} or {b} missing")
    return ok and check(read(a) == read(b), f"{what}: {os.path.basename(a)} differs from {os.path.basename(b)}")


image, label = dcmprep.load(IMG), dcmprep.load(LAB)
image_bytes = image.array.tobytes()
for n, (words, with_label) in enumerate(CASES):
    what = " ".join(words)
    c_img, c_lab = path(f"c{n}.nii.gz"), path(f"c{n}_lab.nii.gz")
    args = ["prep", IMG, "-o", c_img, "-q"] + (["--label", LAB, "--label-out", c_lab] if with_label else [])
    r = cli(*(args + words), check=check)
    if r.returncode:
        continue
    p_img, p_lab = path(f"p{n}.nii.gz"), path(f"p{n}_lab.nii.gz")
    out = dcmprep.prep(image, words, label=label if with_label else None)
    oi, ol = out if with_label else (out, None)
    oi.save(p_img)
    same_files(c_img, p_img, what)
    same_files(c_img[:-7] + ".json", p_img[:-7] + ".json", what + " (sidecar)")
    if with_label:
        ol.save(p_lab)
        same_files(c_lab, p_lab, what + " (label)")
        same_files(c_lab[:-7] + ".json", p_lab[:-7] + ".json", what + " (label sidecar)")
    # one step: the steps module gives the same
    steps = [w for w in words if w.startswith("--") and not dcmprep.pipeline.WORDS[w[2:].split("=")[0]][1]]
    if len(steps) == 1:
        step = steps[0][2:].split("=")[0]
        value = steps[0].split("=", 1)[1] if "=" in steps[0] else None
        settings, i = {}, 0
        while i < len(words):
            w = words[i][2:].split("=")[0]
            spec = dcmprep.pipeline.WORDS[w]
            has_value = spec[0] == 1 and "=" not in words[i]
            if w == step and has_value:
                value = words[i + 1]
            elif spec[1]:
                settings[w.replace("-", "_")] = words[i + 1] if has_value else True
            i += 2 if has_value else 1
        fn = getattr(dcmprep.steps, step.replace("-", "_"))
        res = fn(image, value, label=label if with_label else None, **settings)
        si = res[0] if with_label else res
        s_img = path(f"s{n}.nii.gz")
        si.save(s_img)
        same_files(c_img, s_img, what + " via dcmprep.steps." + fn.__name__)
check(image.array.tobytes() == image_bytes, "a step modified its input")

# ---- pipeline files ---------------------------------------------------------
pfile = path("pipe.txt")
words = ["--canonical", "--spacing", "1.5,1.5,2", "--interp", "cubic", "--crop-foreground", "--margin", "2",
         "--window", "abdomen"]
cli(*(["prep", "--save-pipeline", pfile] + words), check=check)
pipe = dcmprep.Pipeline.from_file(pfile)
check(pipe.text == open(pfile).read(), "Pipeline.from_file(...).text is not the file")
check(dcmprep.Pipeline(words).text == pipe.text, "Pipeline(words).text differs from --save-pipeline's file")
check(dcmprep.Pipeline.from_text(pipe.text).text == pipe.text, "from_text(text).text")
pipe.save(path("pipe2.txt"))
same_files(pfile, path("pipe2.txt"), "Pipeline.save")
cli("prep", IMG, "-o", path("cp.nii.gz"), "--label", LAB, "--label-out", path("cp_lab.nii.gz"),
    "--pipeline", pfile, "-q", check=check)
oi, ol = pipe(image, label)
oi.save(path("pp.nii.gz"))
ol.save(path("pp_lab.nii.gz"))
same_files(path("cp.nii.gz"), path("pp.nii.gz"), "pipeline file")
same_files(path("cp.json"), path("pp.json"), "pipeline file (sidecar)")
same_files(path("cp_lab.nii.gz"), path("pp_lab.nii.gz"), "pipeline file (label)")

# ---- DICOM input ------------------------------------------------------------
sample = need_sample()
cli("prep", sample, "-o", path("cd.nii.gz"), "--canonical", "--spacing", "2", "-q", check=check)
dcmprep.prep(dcmprep.load(sample), ["--canonical", "--spacing", "2"]).save(path("pd.nii.gz"))
same_files(path("cd.nii.gz"), path("pd.nii.gz"), "DICOM input")
same_files(path("cd.json"), path("pd.json"), "DICOM input (sidecar)")

# ---- Augment against dcmprep augment ----------------------------------------
aug_words = ["--rand-flip=x", "--rand-rotate", "0,0,15@0.5", "--rand-zoom", "0.9,1.1",
             "--rand-elastic", "2,4", "--rand-crop-label", "24,24,16,0.7", "--rand-gamma", "0.8,1.25"]
cli(*(["augment", IMG, "--label", LAB, "-o", path("aug"), "-n", "3", "--seed", "7", "-q"] + aug_words),
    check=check)
aug = dcmprep.Augment(seed=7, steps=aug_words)
check(aug.seed == 7, f"Augment.seed {aug.seed}")
for k in range(3):
    ai, al = aug(image, label, index=k)
    ai.save(path(f"pa{k}.nii.gz"))
    al.save(path(f"pa{k}_label.nii.gz"))
    for suffix in ("", "_label"):
        c = path(f"aug/img_aug{k:03d}{suffix}.nii.gz")
        p = path(f"pa{k}{suffix}.nii.gz")
        same_files(c, p, f"augment variant {k}{suffix}")
        cj, pj = json.load(open(c[:-7] + ".json")), json.load(open(p[:-7] + ".json"))
        check(cj["Augment"].pop("variants") == 3, "CLI records the variant count")
        check(cj == pj, f"augment variant {k}{suffix}: sidecars differ:\n{cj.get('Augment')}\n{pj.get('Augment')}")
# the key: the file name (as augment), or key= (a copy named otherwise draws like the file)
renamed = dcmprep.Volume.from_numpy(image.array, image.affine, meta=image.meta, name="other")
a1 = aug(renamed, label, index=1)[0]
a2 = aug(renamed, label, index=1, key="img")[0]
check(a1.array.tobytes() != a2.array.tobytes(), "the key does not change the draws")
a2.save(path("key.nii.gz"))
same_files(path("aug/img_aug001.nii.gz"), path("key.nii.gz"), "Augment(key='img') equals the file's variant")
# Pipeline draws as Augment's index 0 (prep is augment's variant 0), keyed by the name or key=
p0 = dcmprep.Pipeline(["--seed", "7"] + aug_words)(image, label)[0]
check(p0.array.tobytes() == aug(image, label, index=0)[0].array.tobytes(), "Pipeline != Augment index 0")
pk = dcmprep.Pipeline(["--seed", "7"] + aug_words)(renamed, label, key="img")[0]
check(pk.array.tobytes() == p0.array.tobytes(), "Pipeline(key=) is not keyed by the key")
# the seed: Augment(seed=None) uses the steps' --seed
same = dcmprep.Augment(steps=["--seed", "7"] + aug_words)(image, label, index=2)[0]
same.save(path("seedword.nii.gz"))
same_files(path("aug/img_aug002.nii.gz"), path("seedword.nii.gz"), "--seed in the steps")
check.done(f"{len(CASES)} prep cases and 3 augment variants against the CLI")
