"""On-the-fly augmentation in a PyTorch DataLoader with dcmprep.

    python3 examples/torch_dataset.py [IMAGE LABEL ...] [--epochs 2] [--workers 2]

Trains nothing.  It builds a Dataset whose sample i in epoch e is variant
e * len(dataset) + i of image i (with its label), drawn by dcmprep.Augment,
and shows that what the DataLoader yields does not depend on how it is
computed: num_workers=0 and num_workers=WORKERS give the same bytes, sample
for sample, while every epoch gives new variants.  Without IMAGE LABEL pairs
(NIfTI files or DICOM folders) it makes a few synthetic CT-like volumes.

Exit status 0 when the bytes agree, 1 when they do not, 77 when PyTorch
(Debian: python3-torch) is not installed.

Run from a build tree:  PYTHONPATH=build/python python3 examples/torch_dataset.py
"""
import argparse
import hashlib
import os
import sys
import tempfile
import time

import numpy as np

try:
    import torch
    from torch.utils.data import DataLoader, Dataset
except ImportError as e:
    print(f"SKIP: {e} (this example needs PyTorch: apt-get install python3-torch)")
    sys.exit(77)

import dcmprep

# Canonical orientation and 1.5 mm voxels once per volume; then per sample a
# random flip, rotation, zoom, elastic deformation, a 64^3 crop centred on
# the label with probability 0.7, and an intensity change of the image.
PREP = ["--canonical", "--spacing", "1.5", "--window", "abdomen"]
AUGMENT = ["--rand-flip=x", "--rand-rotate", "0,0,15@0.5", "--rand-zoom", "0.9,1.1",
           "--rand-elastic", "2,6", "--rand-crop-label", "64,64,48,0.7", "--rand-gamma", "0.8,1.25"]


class AugmentedVolumes(Dataset):
    """Sample i of epoch e: variant e * len(self) + i of pair i.

    The prepped volumes are made once per worker process (lazily, so each
    worker pays for its own loads) and kept; the variant index alone decides
    the draws, so a sample is the same whichever worker computes it.
    """

    def __init__(self, pairs, seed=7, threads=1):
        self.pairs = list(pairs)
        self.prep = dcmprep.Pipeline(PREP, threads=threads)
        self.augment = dcmprep.Augment(seed=seed, steps=AUGMENT, threads=threads)
        self.epoch = 0
        self._cache = {}

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return len(self.pairs)

    def _volumes(self, i):
        if i not in self._cache:
            image, label = (dcmprep.load(p) for p in self.pairs[i])
            self._cache[i] = self.prep(image, label)
        return self._cache[i]

    def __getitem__(self, i):
        image, label = self._volumes(i)
        x, y = self.augment(image, label, index=self.epoch * len(self) + i)
        # (channel, k, j, i) = (C, D, H, W), copied out of the C buffers
        return (torch.from_numpy(np.array(x.array_zyx, dtype=np.float32)[None]),
                torch.from_numpy(np.array(y.array_zyx, dtype=np.int64)))

    def __getstate__(self):  # to worker processes: without the cache, the key is kept
        state = dict(self.__dict__)
        state["_cache"] = {}
        return state


def synthetic_pairs(folder, n=6):
    """n CT-like volumes (HU) with a two-organ label, oblique, various sizes."""
    rng = np.random.default_rng(0)
    pairs = []
    for c in range(n):
        shape = (96 + 8 * c, 88, 56 + 4 * c)
        ii, jj, kk = np.meshgrid(*(np.arange(s, dtype=np.float32) for s in shape), indexing="ij")
        cx, cy, cz = (s / 2 for s in shape)
        body = ((ii - cx) / (0.45 * shape[0])) ** 2 + ((jj - cy) / (0.4 * shape[1])) ** 2 < 1
        organ = ((ii - cx + 12) ** 2 + (jj - cy) ** 2 + (kk - cz) ** 2) < 14 ** 2
        organ2 = ((ii - cx - 15) ** 2 + (jj - cy + 5) ** 2 + (kk - cz - 4) ** 2) < 9 ** 2
        hu = np.where(body, 40.0, -1000.0) + 60 * organ + 120 * organ2 + rng.normal(0, 12, shape)
        a = np.radians(5 * c)
        aff = np.array([[-np.cos(a) * 0.8, np.sin(a) * 0.8, 0, 60.0], [np.sin(a) * 0.8, np.cos(a) * 0.8, 0, -40.0],
                        [0, 0, 2.0, -50.0], [0, 0, 0, 1]])
        ip, lp = os.path.join(folder, f"case{c:02d}.nii.gz"), os.path.join(folder, f"case{c:02d}_seg.nii.gz")
        dcmprep.Volume.from_numpy(hu.astype(np.int16), aff, meta={"Modality": "CT"}).save(ip, sidecar=False)
        dcmprep.Volume.from_numpy((organ + 2 * (organ2 & ~organ)).astype(np.uint8), aff).save(lp, sidecar=False)
        pairs.append((ip, lp))
    return pairs


def digests(dataset, workers, epochs, batch_size=2):
    """sha256 of every sample, in order, over the epochs; and samples/s."""
    out, n, t0 = [], 0, time.perf_counter()
    for e in range(epochs):
        dataset.set_epoch(e)
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers)
        for x, y in loader:
            for b in range(x.shape[0]):
                h = hashlib.sha256(x[b].numpy().tobytes())
                h.update(y[b].numpy().tobytes())
                out.append(h.hexdigest())
                n += 1
    return out, n / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("inputs", nargs="*", help="IMAGE LABEL pairs (default: synthetic volumes)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    if len(args.inputs) % 2:
        ap.error("give IMAGE LABEL pairs")
    with tempfile.TemporaryDirectory() as tmp:
        pairs = list(zip(args.inputs[::2], args.inputs[1::2])) or synthetic_pairs(tmp)
        dataset = AugmentedVolumes(pairs, seed=args.seed)
        serial, rate0 = digests(dataset, 0, args.epochs)
        parallel, rate2 = digests(AugmentedVolumes(pairs, seed=args.seed), args.workers, args.epochs)
    n = len(pairs)
    print(f"{len(serial)} samples ({n} volumes x {args.epochs} epochs): num_workers=0 {rate0:.1f} samples/s, "
          f"num_workers={args.workers} {rate2:.1f} samples/s")
    same = serial == parallel
    fresh = all(serial[i] != serial[i + n] for i in range(n)) if args.epochs > 1 else True
    print(f"num_workers=0 and num_workers={args.workers} give the same bytes: {'yes' if same else 'NO'}")
    for i, (a, b) in enumerate(zip(serial, parallel)):
        if a != b:
            print(f"  sample {i}: {a[:16]} vs {b[:16]}")
    print(f"every epoch draws new variants: {'yes' if fresh else 'NO'}")
    return 0 if same and fresh else 1


if __name__ == "__main__":
    sys.exit(main())
