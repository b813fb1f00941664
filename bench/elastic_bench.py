"""Elastic deformation: dcmprep (library call, bench/elastic_bench.c) against
the reference scipy implementation (seed_ops.py elastic(): uniform noise,
gaussian_filter(mode="constant") and RegularGridInterpolator), same
512x512x140 CT-like float32 volume, sigma 35, alpha 4, linear, 2 threads.

usage: elastic_bench.py ELASTIC_BENCH TMPDIR RUNS SHARED_DIR
The reference takes about a minute, so it runs once; dcmprep's time is the
median of RUNS.  Prints both, the ratio, the field alone, and PASS/MISS for
the targets (<= 1 s, >= 60x).
"""
import os
import subprocess
import sys
import time

import numpy as np
import nibabel as nib

bench, tmp, runs, shared = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
os.makedirs(tmp, exist_ok=True)
here = os.path.dirname(os.path.abspath(__file__))
ct = os.path.join(tmp, "ct_512x512x140.nii")
if not os.path.exists(ct):
    subprocess.run([sys.executable, os.path.join(here, "ctlike.py"), ct, "512", "512", "140"], check=True)

out = subprocess.run([bench, ct, "4", "35", "linear", "2", str(runs)], capture_output=True, text=True,
                     check=True).stdout.split()
vals = dict(zip(out[::2], out[1::2]))
ours, fld, smooth = float(vals["elastic"]), float(vals["field"]), float(vals["smooth"])
print(f"  dcmprep elastic (field + warp)  median {ours:7.3f} s over {runs} runs")
print(f"  dcmprep field alone             median {fld:7.3f} s   (3-plane recursive smoothing alone: "
      f"{smooth:.3f} s)   peak RSS {int(vals['maxrss_kib']) / 1024:.0f} MiB")

ref_path = os.path.join(shared, "tools", "seed_ops.py")
if not os.path.exists(ref_path):
    print(f"  reference: {ref_path} not found, skipped")
    sys.exit(0)
src = open(ref_path).read().replace("\nmain()\n", "\n")  # the functions, without running them all
ns = {"__name__": "seed_ops"}
exec(compile(src, ref_path, "exec"), ns)
x = np.asarray(nib.load(ct).dataobj).astype(np.float32)
t0 = time.perf_counter()
ns["elastic"](x, alpha=4, sigma=35)
ref = time.perf_counter() - t0
ratio = ref / ours
print(f"  scipy seed_ops.elastic          once   {ref:7.3f} s   ratio {ratio:.1f}x")
print(f"  target dcmprep <= 1 s: {'PASS' if ours <= 1 else 'MISS'};  >= 60x: {'PASS' if ratio >= 60 else 'MISS'}")
