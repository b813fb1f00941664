"""Reference counting: 1,000 loads leave nothing behind.

usage: leaks.py WORKDIR

A child process loads a small NIfTI file N times (and the synthetic DICOM
series N/50 times), each time taking .array, .array_zyx, .meta, a step's
result and an Augment variant, then drops everything.  Checked in every
build:
- the library's count of bytes held by volumes (dp_volume_bytes_in_use)
  is back to its starting value, and every C volume was freed (weak
  references to the handles are dead);
- the C heap in use (glibc's mallinfo2) after 1,000 loads is within 64 KiB
  of that after 100: any per-load leak of 73 bytes or more shows (not under
  AddressSanitizer, whose allocator replaces glibc's);
in a build with AddressSanitizer, in addition, LeakSanitizer's leak report
(at exit) is the same, byte for byte in its total, for N = 1,000 as for
N = 20: the interpreter's and the DICOM toolkit's one-time allocations are
the same in both, so any per-load leak (of volumes, metadata, scan results,
pipelines, JSON text) shows as a difference.  A control child that leaks one
copy of a volume per load through the raw library must be caught by each
check, so a check that cannot fail would fail here.
"""
import gc
import json
import os
import re
import subprocess
import sys

from pyutil import SANITIZED, Checks, fresh_dir, need_sample
import numpy as np
import dcmprep


def heap():
    """Bytes the C allocator has handed out and not had back (glibc
    mallinfo2: uordblks + hblkhd).  Python's small objects live in its own
    arenas, so this is mostly C memory: the library's among it."""
    import ctypes

    class Info(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                  "fsmblks", "uordblks", "fordblks", "keepcost")]
    f = ctypes.CDLL(None).mallinfo2
    f.restype = Info
    i = f()
    return i.uordblks + i.hblkhd


def child(work, n, leak):
    import ctypes
    import weakref
    small = os.path.join(work, "small.nii.gz")
    sample = os.environ.get("DP_SAMPLE", "")
    aug = dcmprep.Augment(seed=3, steps=["--rand-flip", "--rand-rotate", "10"], threads=1)
    gc.collect()
    base = dcmprep.bytes_in_use()
    handles, heap100 = [], 0
    for i in range(n):
        v = dcmprep.load(small)
        a, z, m = v.array, v.array_zyx, v.meta
        w = dcmprep.steps.flip(v, "x")
        x = aug(v, index=i)
        assert a[1, 2, 3] == z[3, 2, 1] and m["ConversionSoftware"] == "dcmprep" and w.shape == x.shape
        handles.append(weakref.ref(v._h))
        if leak:  # the control: one C volume per load that nobody frees
            out = ctypes.c_void_p()
            dcmprep._lib.lib.dp_volume_copy(v._h.ptr, ctypes.byref(out))
        if i % 50 == 0 and os.path.isdir(sample):
            d = dcmprep.load(sample)
            dcmprep.scan(sample)
            handles.append(weakref.ref(d._h))
            del d
        del v, a, z, m, w, x
        if i == 99:
            gc.collect()
            heap100 = heap()
    gc.collect()
    print(json.dumps({"base": base, "after": dcmprep.bytes_in_use(), "alive": sum(h() is not None for h in handles),
                      "heap100": heap100, "heap": heap()}))


def run_child(work, n, leak, tag):
    env = dict(os.environ)
    reports = os.path.join(work, f"lsan-{tag}")
    os.makedirs(reports, exist_ok=True)
    if SANITIZED:  # leak detection on, reports in our own folder (the interpreter leaks too)
        env["ASAN_OPTIONS"] = f"detect_leaks=1:exitcode=0:log_path={reports}/r"
    r = subprocess.run([sys.executable, __file__, "--child", work, str(n), str(int(leak))], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        raise SystemExit(f"child {tag} exited {r.returncode}")
    stats = json.loads(r.stdout.strip().splitlines()[-1])
    leaked = 0
    for f in os.listdir(reports):
        text = open(os.path.join(reports, f)).read()
        if "ERROR: AddressSanitizer" in text or "runtime error" in text:
            print(text[:5000])
            raise SystemExit(f"child {tag}: a sanitizer error that is not a leak")
        m = re.search(r"SUMMARY: AddressSanitizer: (\d+) byte\(s\) leaked", text)
        leaked += int(m.group(1)) if m else 0
    stats["leaked"] = leaked
    return stats


def main():
    work = fresh_dir(sys.argv[1])
    check = Checks()
    need_sample()
    img = np.arange(32 * 32 * 16, dtype=np.int16).reshape(32, 32, 16)
    dcmprep.Volume.from_numpy(img, np.diag([1.5, 1.5, 3, 1]), meta={"Modality": "CT"}).save(
        os.path.join(work, "small.nii.gz"))
    n = 1000
    ok = run_child(work, n, False, "1000")
    print(f"{n} loads: bytes in use {ok['base']} -> {ok['after']}, {ok['alive']} C volumes alive, "
          f"C heap in use {ok['heap100']} bytes after 100 -> {ok['heap']} after {n}"
          + (f", LeakSanitizer {ok['leaked']} bytes" if SANITIZED else ""))
    check(ok["after"] == ok["base"], f"bytes in use {ok['base']} -> {ok['after']}")
    check(ok["alive"] == 0, f"{ok['alive']} C volumes not freed")
    grow = ok["heap"] - ok["heap100"]
    if SANITIZED:  # AddressSanitizer's allocator replaces glibc's: mallinfo2 says nothing
        print("C heap check not made: AddressSanitizer's allocator (LeakSanitizer checks instead)")
    else:
        check(grow < 64 << 10, f"the C heap grew {grow} bytes over 900 loads")
    bad = run_child(work, 200, True, "control")
    check(bad["after"] - bad["base"] == 200 * img.nbytes, f"control: bytes in use {bad['base']} -> {bad['after']}")
    if not SANITIZED:
        check(bad["heap"] - bad["heap100"] >= 100 * img.nbytes, "control: the C heap check missed the leak")
    if SANITIZED:
        few = run_child(work, 20, False, "20")
        print(f"LeakSanitizer at exit: {few['leaked']} bytes after 20 loads, {ok['leaked']} after {n}, "
              f"{bad['leaked']} after 200 leaking loads (control)")
        check(ok["leaked"] == few["leaked"], f"LeakSanitizer: {ok['leaked'] - few['leaked']} more bytes leaked "
              f"after {n} loads than after 20")
        check(bad["leaked"] - few["leaked"] >= 200 * img.nbytes, "control: LeakSanitizer missed the leak")
    check.done(f"{n} loads")


if __name__ == "__main__":
    if sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1")
    else:
        main()
