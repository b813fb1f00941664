"""Augment gives the same bytes whatever computes it; the GIL is released in C.

usage: workers.py WORKDIR

- variants 0..7 of one Augment, computed sequentially, then by 4 threads
  in shuffled order, by 2 processes (fork and spawn) in shuffled order, and
  with 1 and 2 C threads, are identical (image and label, sha256);
  different indices give different variants;
- the GIL is released during C work: a Python thread counting in a loop
  keeps counting while the main thread runs a long step (at least 20% of
  its rate with the main thread idle); the same call through ctypes.PyDLL,
  which holds the GIL, stops it (under 10%: the test can tell the difference).
"""
import ctypes
import hashlib
import multiprocessing as mp
import os
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from pyutil import Checks, fresh_dir
import numpy as np
import dcmprep

STEPS = ["--rand-flip", "--rand-rotate", "12", "--rand-zoom", "0.9,1.1", "--rand-elastic", "2,5",
         "--rand-crop-label", "32,32,24,0.8", "--rand-noise", "3", "--rand-gamma", "0.8,1.2"]


def sample(work):
    p = os.path.join(work, "case01.nii.gz")
    if not os.path.exists(p):
        rng = np.random.default_rng(1)
        ii, jj, kk = np.meshgrid(np.arange(48), np.arange(44), np.arange(32), indexing="ij")
        body = ((ii - 24) ** 2 / 400 + (jj - 22) ** 2 / 300 + (kk - 16) ** 2 / 150) < 1
        img = np.where(body, 50 + rng.normal(0, 10, body.shape), -900).astype(np.int16)
        aff = np.diag([0.9, 0.9, 1.5, 1.0])
        dcmprep.Volume.from_numpy(img, aff).save(p, sidecar=False)
        dcmprep.Volume.from_numpy((body & (ii > 24)).astype(np.uint8), aff).save(
            os.path.join(work, "case01_seg.nii.gz"), sidecar=False)
    return p


def digest(out):
    h = hashlib.sha256()
    for v in out:
        h.update(v.array.tobytes())
        h.update(v.affine.tobytes())
    return h.hexdigest()


_state = {}


def variant(args):
    """Variant k of the sample (in a worker process: loaded once per process)."""
    work, k, threads = args
    key = (work, threads)
    if key not in _state:
        _state[key] = (dcmprep.Augment(seed=21, steps=STEPS, threads=threads),
                       dcmprep.load(sample(work)), dcmprep.load(os.path.join(work, "case01_seg.nii.gz")))
    aug, img, lab = _state[key]
    return k, digest(aug(img, lab, index=k)), os.getpid()


def counting_during(call):
    """Increments a counter in a thread while call() runs: (count during the
    call, seconds the call took, count per second with nothing else running)."""
    n = [0]
    stop = [False]

    def count():
        while not stop[0]:
            n[0] += 1

    t = threading.Thread(target=count)
    t.start()
    time.sleep(0.2)
    a, t0 = n[0], time.perf_counter()
    time.sleep(0.3)  # the main thread idle: the counter's own rate
    rate = (n[0] - a) / (time.perf_counter() - t0)
    b, t1 = n[0], time.perf_counter()
    call()
    during, secs = n[0] - b, time.perf_counter() - t1
    stop[0] = True
    t.join()
    return during, secs, rate


def main():
    work = fresh_dir(sys.argv[1])
    check = Checks()
    ks = list(range(8))
    seq = {k: d for k, d, _ in map(variant, [(work, k, 0) for k in ks])}
    check(len(set(seq.values())) == len(ks), "different indices gave equal variants")
    shuffled = ks[:]
    random.Random(5).shuffle(shuffled)
    with ThreadPoolExecutor(4) as ex:
        thr = {k: d for k, d, _ in ex.map(variant, [(work, k, 0) for k in shuffled])}
    check(thr == seq, "4 threads in shuffled order differ from the sequential variants")
    for threads in (1, 2):
        got = {k: d for k, d, _ in map(variant, [(work, k, threads) for k in shuffled])}
        check(got == seq, f"threads={threads} differs from the default thread count")
    import pickle
    aug = pickle.loads(pickle.dumps(dcmprep.Augment(seed=21, steps=STEPS, threads=1)))
    img, lab = dcmprep.load(sample(work)), dcmprep.load(os.path.join(work, "case01_seg.nii.gz"))
    check(digest(aug(img, lab, index=3)) == seq[3], "a pickled Augment draws other variants")
    for method in ("fork", "spawn"):
        with mp.get_context(method).Pool(2) as pool:
            res = pool.map(variant, [(work, k, 1) for k in shuffled], chunksize=1)
        got = {k: d for k, d, _ in res}
        pids = {p for _, _, p in res}
        check(got == seq, f"2 {method} processes differ from the sequential variants")
        check(os.getpid() not in pids, f"{method}: computed in the parent")

    # ---- the GIL ------------------------------------------------------------
    big = dcmprep.Volume.from_numpy(np.random.default_rng(2).normal(size=(144, 144, 112)).astype(np.float32),
                                    np.diag([1.0, 1.0, 1.0, 1.0]))
    pipe = dcmprep.Pipeline(["--spacing", "0.5", "--interp", "cubic"], threads=1)
    during, secs, rate = counting_during(lambda: pipe(big))
    print(f"GIL released: the counter ran {during} times in {secs:.2f} s of C work "
          f"({during / secs / rate:.0%} of its idle rate)")
    check(secs > 0.1, f"the C call took only {secs:.3f} s: too short to tell")
    check(during > 0.2 * rate * secs, f"a Python thread made {during} steps during {secs:.2f} s of C work "
          f"(idle rate {rate:.0f}/s): the GIL was held")
    held = ctypes.PyDLL(dcmprep.library_path)  # the same library through a GIL-holding handle
    f = held.dp_pipeline_apply
    f.restype = ctypes.c_int
    f.argtypes = dcmprep._lib.lib.dp_pipeline_apply.argtypes
    out = ctypes.c_void_p()

    def with_gil():  # four calls: the GIL-held time dwarfs the switch intervals around them
        for _ in range(4):
            check(f(pipe._p, big._h.ptr, None, 0, 0, 1, ctypes.byref(out), None) == 0, "PyDLL call failed")
            dcmprep._lib.lib.dp_volume_free(out)

    during_held, secs_held, rate = counting_during(with_gil)
    print(f"control (PyDLL, GIL held): {during_held} steps in {secs_held:.2f} s")
    # (the counter runs a few switch intervals while the call is set up)
    check(during_held < 0.1 * rate * secs_held, f"control: the counter ran {during_held} times "
          "with the GIL held: the test cannot tell")
    check.done(f"{len(ks)} variants x threads, fork, spawn; GIL")


if __name__ == "__main__":
    main()
