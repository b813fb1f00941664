"""The recursive Gaussian and the elastic deformation (elastic.h) against
scipy and against their definition:

- dp_gaussian_recursive vs scipy.ndimage.gaussian_filter(mode="constant",
  cval=0) for sigma 0.5..50 along each axis and all three: max difference
  relative to the input's range below 5e-4, means equal within 1e-4 of it;
  the same bytes with 1 and 2 threads;
- the field equals gaussian_filter(alpha * noise, sigma, mode="constant") of
  the library's own noise (dp_elastic_noise) within 5e-3 of its largest
  value, exact path and coarse path (large sigma along i);
- the noise is uniform in [-1, 1) (mean, variance, range);
- same seed: same bytes with 1 and 2 threads; another seed: another field;
- the RMS displacement matches the definition with numpy's own uniform noise
  (np.random uniform [-1, 1] -> gaussian_filter(mode="constant") * alpha)
  within 10 %, and the interior RMS matches alpha * sqrt(1/3 * sum g^2);
- coordinate phantom: a 3-volume image whose values are its own i, j, k,
  deformed with linear interpolation, gives back the field in the interior
  (positions at least one voxel inside), within 1e-3 voxel;
- alpha 0 with nearest reproduces the input bit for bit.

usage: elastic.py ELASTIC_PROBE WORKDIR
"""
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
    skip(f"{e} (install python3-scipy python3-nibabel)")

probe, work = sys.argv[1:3]
fresh_dir(work)
check = Checks()
rng = np.random.default_rng(11)


def run(*args):
    r = subprocess.run([probe] + [str(a) for a in args], capture_output=True, text=True)
    check(r.returncode == 0, f"probe {args[0]} failed: {r.stderr}")
    return r.returncode == 0


def path(name):
    return os.path.join(work, name)


def load(name):
    return np.asarray(nib.load(path(name)).dataobj)


def gauss(arr, sigma, threads=2):
    nib.save(nib.Nifti1Image(arr.astype(np.float32), np.eye(4)), path("g_in.nii"))
    run("gauss", path("g_in.nii"), path("g_out.nii"), *sigma, threads)
    return load("g_out.nii"), open(path("g_out.nii"), "rb").read()


def field(shape, alpha, sigma, seed, threads=2, noise=True, name="f"):
    run("field", path(name + ".nii"), path(name + "_n.nii") if noise else "-", *shape, *alpha,
        *sigma, seed, threads)
    f = load(name + ".nii").astype(np.float64)
    n = load(name + "_n.nii").astype(np.float64) if noise else None
    return f, n, open(path(name + ".nii"), "rb").read()


# ---- recursive Gaussian vs scipy ---------------------------------------------
print("recursive Gaussian vs gaussian_filter(mode='constant', cval=0), relative to the input range:")
for s in [0.5, 1, 2, 3, 5, 10, 20, 35, 50]:
    n = int(max(48, 10 * s))
    for axis in range(3):
        shape = [9, 7, 5]
        shape[axis] = n
        x = rng.uniform(-1, 1, shape)
        sl = [slice(None)] * 3
        sl[axis] = slice(n // 3, n // 2)
        x[tuple(sl)] += 3  # a plateau: steps and a non-zero mean
        x = x.astype(np.float32)
        sig = [0, 0, 0]
        sig[axis] = s
        y, _ = gauss(x, sig)
        ref = ndimage.gaussian_filter(x.astype(np.float64), sig, mode="constant", cval=0)
        span = float(x.max() - x.min())
        err = float(np.abs(y - ref).max()) / span
        merr = abs(float(y.mean()) - float(ref.mean())) / span
        if axis == 0:
            print(f"  sigma {s:5.1f}  n {n:4d}  max error {err:.2e}  mean error {merr:.2e}")
        check(err < 5e-4, f"sigma {s} axis {axis}: max error {err:.2e}")
        check(merr < 1e-4, f"sigma {s} axis {axis}: mean error {merr:.2e}")
x = rng.uniform(-1, 1, (61, 47, 38)).astype(np.float32)
x[20:40, 10:30, 5:25] += 2
for sig in ([2.5, 4, 1.5], [12, 9, 7]):
    y, b2 = gauss(x, sig, threads=2)
    _, b1 = gauss(x, sig, threads=1)
    ref = ndimage.gaussian_filter(x.astype(np.float64), sig, mode="constant", cval=0)
    err = float(np.abs(y - ref).max()) / float(x.max() - x.min())
    print(f"  3-D sigma {sig}: max error {err:.2e}")
    check(err < 5e-4, f"3-D sigma {sig}: max error {err:.2e}")
    check(b1 == b2, f"3-D sigma {sig}: 1 and 2 threads differ")

# ---- the field against its definition ----------------------------------------
print("field vs gaussian_filter(alpha * noise, mode='constant'), relative to max |field|:")
for shape, alpha, sigma in [((50, 44, 36), (4, 3, 2), (5, 3, 4)),
                            ((150, 40, 30), (4, 4, 4), (35, 10, 8)),
                            ((120, 30, 20), (2, 1, 1), (20, 3, 0)),
                            ((30, 150, 20), (4, 4, 4), (5, 35, 6)),
                            ((130, 120, 24), (4, 4, 4), (35, 35, 6)),
                            ((40, 36, 150), (4, 4, 4), (4, 3, 35)),
                            ((120, 100, 90), (4, 4, 4), (35, 30, 35))]:
    f, n, b2 = field(shape, alpha, sigma, 5)
    for a in range(3):
        ref = ndimage.gaussian_filter(alpha[a] * n[..., a], sigma, mode="constant", cval=0)
        err = float(np.abs(f[..., a] - ref).max() / np.abs(ref).max())
        print(f"  {shape} sigma {sigma} axis {a}: {err:.2e}")
        check(err < 5e-3, f"field {shape} sigma {sigma} axis {a}: error {err:.2e}")
    _, _, b1 = field(shape, alpha, sigma, 5, threads=1, noise=False, name="f1")
    check(b1 == b2, f"field {shape}: 1 and 2 threads differ")
    f7, _, _ = field(shape, alpha, sigma, 6, noise=False, name="f7")
    check(np.abs(f7 - f).max() > 0.1 * np.abs(f).max(), f"field {shape}: seeds 5 and 6 agree")

allnoise = n.ravel()
check(allnoise.min() >= -1 and allnoise.max() < 1, "noise outside [-1, 1)")
check(abs(allnoise.mean()) < 0.01 and abs(allnoise.var() - 1 / 3) < 0.01,
      f"noise mean {allnoise.mean():.4f} var {allnoise.var():.4f} (uniform: 0, 1/3)")

# ---- RMS displacement vs the definition with numpy's noise -------------------
shape, alpha, sigma = (96, 96, 64), (4, 4, 4), (6, 6, 6)
ours, theirs = [], []
for seed in range(4):
    f, _, _ = field(shape, alpha, sigma, 100 + seed, noise=False)
    ours.append(np.sqrt((f ** 2).sum(axis=-1).mean()))
    np_rng = np.random.default_rng(seed)
    d = [ndimage.gaussian_filter(np_rng.uniform(-1, 1, shape), sigma, mode="constant", cval=0) * alpha[a]
         for a in range(3)]
    theirs.append(np.sqrt(sum(di ** 2 for di in d).mean()))
ours, theirs = float(np.mean(ours)), float(np.mean(theirs))
print(f"RMS displacement magnitude: dcmprep {ours:.4f}  numpy/scipy {theirs:.4f}  ratio {ours / theirs:.3f}")
check(abs(ours / theirs - 1) < 0.10, f"RMS displacement {ours:.4f} vs {theirs:.4f}")
# interior: Var = alpha^2 / 3 * sum(g^2), g the normalised 3-D Gaussian
g2 = 1.0
for s in sigma:
    k = np.exp(-0.5 * (np.arange(-60, 61) / s) ** 2)
    g2 *= ((k / k.sum()) ** 2).sum()
expect = float(np.sqrt(3 * 16 / 3 * g2))
c = tuple(slice(2 * s, n - 2 * s) for n, s in zip(shape, sigma))
inner = float(np.sqrt((f[c] ** 2).sum(axis=-1).mean()))
print(f"interior RMS magnitude (one field): {inner:.4f}  expected {expect:.4f}")
check(abs(inner / expect - 1) < 0.10, f"interior RMS {inner:.4f} vs expected {expect:.4f}")

# ---- coordinate phantom -------------------------------------------------------
shape, alpha, sigma, seed = (48, 40, 36), (150, 120, 100), (5, 5, 4), 9
ph = np.stack(np.meshgrid(*[np.arange(s, dtype=np.float32) for s in shape], indexing="ij"), axis=-1)
nib.save(nib.Nifti1Image(ph, np.diag([0.9, 0.8, 1.5, 1])), path("ph.nii"))
run("warp", path("ph.nii"), path("ph_out.nii"), *alpha, *sigma, seed, "linear", 2)
f, _, _ = field(shape, alpha, sigma, seed, noise=False)
out = load("ph_out.nii").astype(np.float64)
rec = out - ph
pos = ph + f
inner = np.all([(pos[..., a] >= 1) & (pos[..., a] <= shape[a] - 2) for a in range(3)], axis=0)
err = float(np.abs(rec - f)[inner].max())
mag_rec = float(np.sqrt((rec[inner] ** 2).sum(-1)).mean())
mag_f = float(np.sqrt((f[inner] ** 2).sum(-1)).mean())
print(f"phantom: {inner.mean() * 100:.0f} % of voxels inside, recovered - field max {err:.2e} voxel, "
      f"mean |d| recovered {mag_rec:.4f} field {mag_f:.4f}")
check(inner.mean() > 0.5 and err < 1e-3, f"phantom: recovered displacement differs by {err:.2e}")

# ---- alpha 0 = identity ------------------------------------------------------
img = rng.integers(-1000, 2000, (23, 19, 11)).astype(np.int16)
nib.save(nib.Nifti1Image(img, np.diag([0.7, 0.7, 2, 1])), path("id.nii"))
run("warp", path("id.nii"), path("id_out.nii"), 0, 0, 0, 4, 4, 4, 1, "nearest", 2)
out = load("id_out.nii")
check(out.dtype == img.dtype and np.array_equal(out, img), "alpha 0 nearest is not the identity")

check.done("elastic")
