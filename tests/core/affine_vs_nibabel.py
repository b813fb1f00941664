"""Cross-check the affine helpers against nibabel/numpy on random affines.

usage: affine_vs_nibabel.py AFFINE_PROBE
Random signed permutations of scaled, rotated (up to 40 degrees) and sheared
matrices: orientation codes must equal nibabel.aff2axcodes, spacing the column
norms, the nearest rotation numpy's U @ Vt, the inverse numpy's inv.
Exit 77 (skipped) when nibabel is not installed.
"""
import subprocess
import sys

try:
    import numpy as np
    import nibabel as nib
except ImportError as e:
    print(f"SKIP: {e} (install python3-nibabel python3-numpy)")
    sys.exit(77)


def random_affine(rng):
    perm = rng.permutation(3)
    P = np.zeros((3, 3))
    P[perm, np.arange(3)] = rng.choice([-1.0, 1.0], 3)
    ang = np.radians(rng.uniform(-40, 40, 3))
    cx, cy, cz = np.cos(ang)
    sx, sy, sz = np.sin(ang)
    Rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    Ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    Rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    S = np.eye(3)
    if rng.random() < 0.3:  # gantry-like shear
        S[1, 2] = np.tan(np.radians(rng.uniform(-25, 25)))
    A = np.eye(4)
    A[:3, :3] = Rz @ Ry @ Rx @ P @ S @ np.diag(rng.uniform(0.2, 5, 3))
    A[:3, 3] = rng.uniform(-200, 200, 3)
    return A


def main():
    rng = np.random.default_rng(7)
    affs = [random_affine(rng) for _ in range(3000)]
    text = "\n".join(" ".join(f"{v:.17g}" for v in A[:3].ravel()) for A in affs)
    out = subprocess.run([sys.argv[1]], input=text, capture_output=True, text=True, check=True)
    lines = out.stdout.strip().split("\n")
    assert len(lines) == len(affs), (len(lines), len(affs))
    bad = 0
    for A, line in zip(affs, lines):
        f = line.split()
        code = f[0]
        vals = np.array(f[1:], float)
        want = "".join(nib.aff2axcodes(A))
        if code != want:
            bad += 1
            print(f"axcodes {code} != nibabel {want} for\n{A}")
        np.testing.assert_allclose(vals[:3], np.linalg.norm(A[:3, :3], axis=0), rtol=1e-12)
        RS = A[:3, :3] / np.linalg.norm(A[:3, :3], axis=0)
        U, _, Vt = np.linalg.svd(RS)
        np.testing.assert_allclose(vals[4:13].reshape(3, 3), U @ Vt, atol=1e-9)
        np.testing.assert_allclose(vals[13:25].reshape(3, 4), np.linalg.inv(A)[:3], rtol=1e-9, atol=1e-9)
    print(f"{len(affs)} affines checked against nibabel/numpy, {bad} mismatches")
    sys.exit(1 if bad else 0)


main()
