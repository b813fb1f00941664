"""DataLoader throughput: dcmprep.Augment against TorchIO-style scipy code, same run.

usage: python_bench.py BUILD_DIR [RUNS]

A PyTorch DataLoader (2 workers, batch 2) yields 16 samples per epoch (4
CT-like 160 x 160 x 96 int16 volumes with labels, 4 variants each) of the
same random augmentation written two ways:
- dcmprep: Augment(steps=[--rand-flip=x, --rand-rotate 10, --rand-zoom 0.9,1.1
  (+ --rand-elastic 2,6)]), one C thread per worker; spatial steps composed
  and interpolated once (linear image, nearest label);
- scipy, TorchIO-style: one transform object per step applied in sequence as
  torchio.Compose does, each resampling the image (order 1) and the label
  (order 0): RandomFlip (numpy flip), RandomAffine
  (scipy.ndimage.affine_transform of the rotation x zoom about the centre),
  RandomElastic (Simard: displacement = alpha x gaussian_filter(uniform(-1,1),
  sigma) per axis, scipy.ndimage.map_coordinates).
Both draw their parameters from the sample index, as reproducible loaders
must.  Each run times one epoch per implementation (interleaved) and 4
samples computed in this process without a DataLoader; prints the medians
(samples/s, ms per sample) and the ratios, and the DataLoader's own ceiling
(zero tensors of the samples' size: moving them between processes is part
of every epoch).  Two cases: affine only, and affine + elastic.
"""
import os
import statistics
import sys
import time

build = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
sys.path.insert(0, os.path.join(build, "python"))
try:
    import numpy as np
    import torch
    from torch.utils.data import DataLoader, Dataset
    from scipy import ndimage
except ImportError as e:
    sys.exit(f"python bench: {e} (needs python3-numpy, python3-scipy, python3-torch)")
import dcmprep

SHAPE = (160, 160, 96)
NVOL, VARIANTS, WORKERS, BATCH = 4, 4, 2, 2


def volumes():
    rng = np.random.default_rng(0)
    ii, jj, kk = np.meshgrid(*(np.arange(s, dtype=np.float32) for s in SHAPE), indexing="ij")
    out = []
    for c in range(NVOL):
        body = ((ii - 80) / 70) ** 2 + ((jj - 80) / (60 + 3 * c)) ** 2 < 1
        organ = (ii - 70) ** 2 + (jj - 85) ** 2 + (kk - 48) ** 2 < (18 + c) ** 2
        hu = np.where(body, 40.0, -1000.0) + 60 * organ + rng.normal(0, 12, SHAPE)
        out.append((hu.astype(np.int16), organ.astype(np.uint8)))
    return out


class DcmprepSet(Dataset):
    def __init__(self, data, elastic):
        steps = ["--rand-flip=x", "--rand-rotate", "10", "--rand-zoom", "0.9,1.1"]
        if elastic:
            steps += ["--rand-elastic", "2,6"]
        self.aug = dcmprep.Augment(seed=1, steps=steps, threads=1)
        aff = np.diag([0.8, 0.8, 1.5, 1.0])
        self.vols = [(dcmprep.Volume.from_numpy(x, aff, name=f"case{c}"), dcmprep.Volume.from_numpy(y, aff))
                     for c, (x, y) in enumerate(data)]

    def __len__(self):
        return NVOL * VARIANTS

    def __getitem__(self, n):
        x, y = self.aug(*self.vols[n % NVOL], index=n // NVOL)
        return (torch.from_numpy(np.array(x.array, dtype=np.float32)[None]),
                torch.from_numpy(np.array(y.array, dtype=np.int64)))


class RandomFlip:
    def __call__(self, rng, x, y):
        if rng.random() < 0.5:
            x, y = x[::-1], y[::-1]
        return np.ascontiguousarray(x), np.ascontiguousarray(y)


class RandomAffine:
    def __call__(self, rng, x, y):
        ax, ay, az = np.radians(rng.uniform(-10, 10, 3))
        z = rng.uniform(0.9, 1.1)
        rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
        ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
        rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
        sp = np.array([0.8, 0.8, 1.5])
        # output voxel -> input voxel, in mm about the centre (spacing-aware, as TorchIO)
        m = np.diag(1 / sp) @ np.linalg.inv(rz @ ry @ rx * z) @ np.diag(sp)
        c = (np.array(x.shape) - 1) / 2
        off = c - m @ c
        xo = ndimage.affine_transform(x.astype(np.float32), m, off, order=1, mode="constant", cval=float(x.min()))
        yo = ndimage.affine_transform(y, m, off, order=0, mode="constant", cval=0)
        return xo, yo


class RandomElastic:
    def __call__(self, rng, x, y):
        disp = [ndimage.gaussian_filter(rng.uniform(-1, 1, x.shape), 6) * 2 for _ in range(3)]
        grid = np.meshgrid(*(np.arange(s, dtype=np.float64) for s in x.shape), indexing="ij")
        coords = [g + d for g, d in zip(grid, disp)]
        xo = ndimage.map_coordinates(x, coords, order=1, mode="nearest")
        yo = ndimage.map_coordinates(y, coords, order=0, mode="nearest")
        return xo, yo


class ScipySet(Dataset):
    def __init__(self, data, elastic):
        self.data = data
        self.transforms = [RandomFlip(), RandomAffine()] + ([RandomElastic()] if elastic else [])

    def __len__(self):
        return NVOL * VARIANTS

    def __getitem__(self, n):
        rng = np.random.default_rng([1, n])  # the sample index keys the draws
        x, y = self.data[n % NVOL]
        for t in self.transforms:
            x, y = t(rng, x, y)
        return torch.from_numpy(x.astype(np.float32)[None]), torch.from_numpy(y.astype(np.int64))


class Null(Dataset):
    """Tensors of the samples' size, no work: the DataLoader's own ceiling."""

    def __len__(self):
        return NVOL * VARIANTS

    def __getitem__(self, n):
        return torch.zeros((1,) + SHAPE), torch.zeros(SHAPE, dtype=torch.int64)


def in_process(ds, n=4):
    """Seconds per sample of __getitem__ alone (this process, no DataLoader)."""
    t0 = time.perf_counter()
    for i in range(n):
        ds[i]
    return (time.perf_counter() - t0) / n


def epoch(ds):
    t0 = time.perf_counter()
    n = 0
    for x, _ in DataLoader(ds, batch_size=BATCH, num_workers=WORKERS):
        n += x.shape[0]
    return n / (time.perf_counter() - t0)


def main():
    torch.set_num_threads(1)
    data = volumes()
    print(f"DataLoader {WORKERS} workers, batch {BATCH}, {NVOL * VARIANTS} samples/epoch of "
          f"{SHAPE[0]}x{SHAPE[1]}x{SHAPE[2]} int16 + label; medians over {runs} epochs each, interleaved")
    ceiling = statistics.median(epoch(Null()) for _ in range(runs))
    print(f"  the DataLoader alone (zero tensors of that size, no work): {ceiling:.1f} samples/s")
    for elastic in (False, True):
        ours, ref = DcmprepSet(data, elastic), ScipySet(data, elastic)
        a, b, pa, pb = [], [], [], []
        for _ in range(runs):
            a.append(epoch(ours))
            b.append(epoch(ref))
            pa.append(in_process(ours))
            pb.append(in_process(ref))
        ma, mb = statistics.median(a), statistics.median(b)
        sa, sb = statistics.median(pa), statistics.median(pb)
        name = "flip + rotate + zoom" + (" + elastic" if elastic else "")
        print(f"  {name:<32} DataLoader: dcmprep {ma:6.2f} samples/s   scipy (TorchIO-style) {mb:6.2f} samples/s"
              f"   dcmprep/scipy = {ma / mb:.1f}x")
        print(f"  {'':<32} one sample in-process: dcmprep {sa * 1e3:6.0f} ms   scipy {sb * 1e3:6.0f} ms"
              f"   scipy/dcmprep = {sb / sa:.1f}x")


if __name__ == "__main__":
    main()
