"""The data-type rules (docs/design.md, "Data types through the pipeline"),
each written out here independently of the code and checked on files made
with nibabel.

usage: dtype_rules.py DCMPREP WORKDIR

- Loading (a no-op `prep`): every NIfTI storage type (u8 i8 i16 u16 i32 u32
  i64 u64 f32 f64) x scl_slope/scl_inter (none, 1/-1024, 2/0, 3/7, 1/0.5,
  0.25/0, 1/100000), little- and big-endian, .nii and .nii.gz, a data
  offset that is not a multiple of the element size: the output type is
  the rule's, the values are raw * slope + inter exactly (integers) or its
  float rounding;
- spatial steps (reorient, crop/pad, flip, nearest, linear, cubic, rotate,
  zoom, elastic, shape) keep an integer input's type (i16, u8, u16) and
  equal the float32 computation of before, rounded half away from zero and
  clamped (off by at most 1 only where the float value is within 2e-3 of a
  half);
- intensity steps: z-score, min-max, window to unit, noise, gamma, scale,
  offset give float32; window u8 gives u8, hu the input type; clip keeps the
  input type, exactly for integer bounds, rounded inward and said so in the
  sidecar for fractional ones; clip-percentile likewise against numpy's
  percentiles; --dtype overrides;
- every step's output is the same bytes with 1 and 2 threads.
"""
import json
import math
import os
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import Checks, fresh_dir, skip  # noqa: E402

try:
    import numpy as np
    import nibabel as nib
except ImportError as e:
    skip(f"{e} (install python3-numpy and python3-nibabel)")

cli, work = sys.argv[1], fresh_dir(sys.argv[2])
check = Checks()


def run(*args, ok=True):
    r = subprocess.run([cli] + [str(a) for a in args], capture_output=True, text=True)
    if ok and r.returncode != 0:
        check(False, f"dcmprep {' '.join(map(str, args))}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def path(name):
    return os.path.join(work, name)


# ---- the loading rule, independently ---------------------------------------

INT_RANGE = {"uint8": (0, 255), "int16": (-32768, 32767), "uint16": (0, 65535),
             "int32": (-2**31, 2**31 - 1)}
VOLUME_TYPES = ("uint8", "int16", "uint16", "int32", "float32", "float64")
WIDE = ("float64", "int32", "uint32", "int64", "uint64")


def expected_type(raw, slope, inter, y):
    """The type a file of storage type raw with this scaling loads as."""
    scaled = slope is not None and not (slope == 1 and inter == 0)
    s, b = (slope, inter) if scaled else (1, 0)
    if not scaled and raw in VOLUME_TYPES:
        return raw
    integer = raw not in ("float32", "float64") and s == int(s) and b == int(b)
    if integer:
        lo, hi = float(y.min()), float(y.max())
        if raw in INT_RANGE and INT_RANGE[raw][0] <= lo and hi <= INT_RANGE[raw][1]:
            return raw
        for t in ("int16", "uint16", "int32"):
            if INT_RANGE[t][0] <= lo and hi <= INT_RANGE[t][1]:
                return t
    return "float64" if raw in WIDE else "float32"


def sample(raw, rng):
    shape = (9, 7, 5)
    if raw.startswith("float"):
        x = rng.normal(0, 300, shape).astype(raw)
        x.flat[0] = 0.5
        return x
    info = np.iinfo(raw)
    lo, hi = max(info.min, -10**12), min(info.max, 10**12)
    x = rng.integers(lo, hi, shape, endpoint=True, dtype=np.int64 if raw != "uint64" else np.uint64)
    x = x.astype(raw)
    x.flat[0], x.flat[1] = lo, hi  # the extremes of the type (or +-1e12 for 64 bits)
    return x


def write_nii(name, x, aff, slope=None, inter=None, order="<", vox_offset=352):
    """A NIfTI-1 file written byte by byte (nibabel's header, our data), so
    that the stored type, byte order, offset and scaling are exactly these."""
    dt = np.dtype(x.dtype).newbyteorder(order)
    h = nib.Nifti1Header(endianness=order)
    h.set_data_shape(x.shape)
    h.set_data_dtype(dt)
    h.set_sform(aff, 1)
    h.set_qform(aff, 1)
    h["scl_slope"] = np.nan if slope is None else slope
    h["scl_inter"] = np.nan if inter is None else inter
    h["vox_offset"] = vox_offset
    blob = h.binaryblock + b"\0" * (vox_offset - 348) + x.astype(dt).tobytes(order="F")
    if name.endswith(".gz"):
        import gzip
        blob = gzip.compress(blob, 1)
    with open(name, "wb") as f:
        f.write(blob)


def check_load():
    rng = np.random.default_rng(5)
    scalings = [(None, None), (1, -1024), (2, 0), (3, 7), (1, 0.5), (0.25, 0), (1, 100000)]
    aff = np.diag([-0.8, 0.9, 2.0, 1.0])
    n = 0
    for raw in ("uint8", "int8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
                "float32", "float64"):
        x = sample(raw, rng)
        for slope, inter in scalings:
            for order in ("<", ">"):
                for ext in (".nii", ".nii.gz"):
                    if order == ">" and ext == ".nii.gz" and slope not in (None, 1):
                        continue  # big-endian gzip once per type is enough
                    name = f"load_{raw}_{slope}_{inter}_{'be' if order == '>' else 'le'}{ext}"
                    write_nii(path(name), x, aff, slope, inter, order)
                    s, b = (slope, inter) if slope is not None else (1, 0)
                    y = x.astype(np.float64) * s + b
                    # an exact step that keeps the grid (the affine is LAS) makes prep load
                    # the values; without a step prep copies the file as it is stored
                    r = run("prep", path(name), "-o", path("o.nii"), "--reorient", "LAS", ok=False)
                    n += 1
                    if not check(r.returncode == 0, f"{name}: exit {r.returncode}: {r.stderr.strip()}"):
                        continue
                    out = nib.load(path("o.nii"))
                    got = np.asarray(out.dataobj)
                    want_t = expected_type(raw, slope, inter, y)
                    check(str(got.dtype) == want_t, f"{name}: loads as {got.dtype}, rule says {want_t}")
                    want = y.astype(want_t) if want_t.startswith("float") else y
                    check(np.array_equal(got.astype(np.float64), want.astype(np.float64)),
                          f"{name}: values differ from raw * slope + inter "
                          f"(max |d| {np.abs(got.astype(np.float64) - want.astype(np.float64)).max()})")
    # 64-bit values that fit neither int32 nor a double exactly: refused
    big = np.array([[[2**60, 1], [2, 3]]], dtype=np.int64)
    write_nii(path("big64.nii"), big, aff)
    r = run("prep", path("big64.nii"), "-o", path("o.nii"), "--reorient", "LAS", ok=False)
    check(r.returncode == 1 and "2^53" in r.stderr, f"int64 beyond 2^53: refused ({r.stderr.strip()})")
    # a data offset that is not a multiple of the element size (read, not mapped)
    x = sample("int16", rng)
    write_nii(path("odd_offset.nii"), x, aff, 1, -1024, "<", 353)
    r = run("prep", path("odd_offset.nii"), "-o", path("o.nii"), "--reorient", "LAS")
    if r.returncode == 0:
        check(np.array_equal(np.asarray(nib.load(path("o.nii")).dataobj), x.astype(np.int32) - 1024),
              "odd data offset: values")
    # prep without a step: the stored values and their scaling, as they are
    x = sample("int16", rng)
    write_nii(path("stored.nii"), x, aff, 1, -1024)
    run("prep", path("stored.nii"), "-o", path("o.nii"))
    out = nib.load(path("o.nii"))
    check(out.get_data_dtype() == np.int16 and out.dataobj.slope == 1 and out.dataobj.inter == -1024,
          f"no step: stored type and scaling kept ({out.get_data_dtype()}, {out.dataobj.slope}, {out.dataobj.inter})")
    check(np.array_equal(np.asarray(out.dataobj), x.astype(np.float64) - 1024), "no step: the same values")
    with open(path("stored.nii"), "rb") as f1, open(path("o.nii"), "rb") as f2:
        check(f1.read()[352:] == f2.read()[352:], "no step: the stored bytes copied")
    print(f"loading: {n} files")


# ---- steps -------------------------------------------------------------------

def ct_like(dtype="int16"):
    rng = np.random.default_rng(2)
    i, j, k = np.meshgrid(np.arange(40), np.arange(36), np.arange(20), indexing="ij")
    r = np.sqrt(((i - 20) / 15) ** 2 + ((j - 18) / 13) ** 2 + ((k - 10) / 8) ** 2)
    hu = np.where(r < 1, 40 + 400 * np.exp(-((i - 24) ** 2 + (j - 14) ** 2) / 20), -1000)
    hu = hu + rng.normal(0, 20, hu.shape)
    if dtype == "int16":  # stored as dcm2niix stores CT: raw + scl_inter -1024
        img = nib.Nifti1Image(np.round(hu + 1024).astype(np.int16), np.diag([0.9, -0.8, 2.0, 1]))
        img.header.set_slope_inter(1, -1024)
    elif dtype == "uint8":
        img = nib.Nifti1Image(np.clip(np.round((hu + 1000) / 8), 0, 255).astype(np.uint8), np.diag([0.9, -0.8, 2.0, 1]))
    else:
        img = nib.Nifti1Image(np.clip(np.round(hu + 1024), 0, 65535).astype(np.uint16), np.diag([0.9, -0.8, 2.0, 1]))
    name = path(f"ct_{dtype}.nii")
    nib.save(img, name)
    return name


SPATIAL = [
    ["--reorient", "LPI"], ["--crop-or-pad", "30,44,16"], ["--flip", "i,k"],
    ["--spacing", "1.5,1.5,1.5", "--interp", "nearest"], ["--spacing", "1.2,1.1,1.7"],
    ["--spacing", "0.7,0.9,1.3", "--interp", "cubic"], ["--shape", "20,20,12"],
    ["--rand-rotate", "0,0,15:15"], ["--rand-zoom", "1.1,1.1"],
    ["--rand-elastic", "300,4", "--seed", "3"],
    ["--rand-rotate", "10", "--rand-zoom", "0.9,1.1", "--rand-shift", "3", "--seed", "1"],
]


def prep(src, args, out, threads=None):
    extra = ["--threads", str(threads)] if threads else []
    r = run("prep", src, "-o", out, *args, *extra)
    return nib.load(out) if r.returncode == 0 else None


def same_bytes(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def round_half_away(x):
    return np.where(x < 0, -np.floor(0.5 - x), np.floor(x + 0.5))


def check_spatial():
    for dtype in ("int16", "uint8", "uint16"):
        src = ct_like(dtype)
        tmin, tmax = INT_RANGE[dtype]
        for args in SPATIAL:
            what = f"{dtype} {' '.join(args)}"
            o1, o2, of = path("s1.nii"), path("s2.nii"), path("sf.nii")
            # a cast first on both sides (to its own type for the integer
            # run), so the random steps have the same places in the list
            own = {"int16": "i16", "uint8": "u8", "uint16": "u16"}[dtype]
            a = prep(src, ["--dtype", own] + args, o1, threads=1)
            b = prep(src, ["--dtype", own] + args, o2, threads=2)
            f = prep(src, ["--dtype", "f32"] + args, of)
            if a is None or b is None or f is None:
                continue
            got = np.asarray(a.dataobj)
            check(str(got.dtype) == dtype, f"{what}: keeps {dtype} (gave {got.dtype})")
            check(same_bytes(o1, o2), f"{what}: same bytes on 1 and 2 threads")
            fl = np.asarray(f.dataobj).astype(np.float64)
            want = np.clip(round_half_away(fl), tmin, tmax)
            diff = got.astype(np.float64) != want
            near_half = np.abs(np.abs(fl - np.trunc(fl)) - 0.5) < 2e-3
            bad = diff & ~(near_half & (np.abs(got - want) <= 1))
            check(not bad.any(), f"{what}: {int(bad.sum())} voxels differ from the rounded float32 result")
            check(diff.sum() <= max(2, diff.size // 1000), f"{what}: {int(diff.sum())} near-half voxels differ")
    print("spatial steps checked")


def record(out, step):
    side = json.load(open(out.replace(".nii", ".json")))
    recs = [r for r in side["PrepSteps"] if r["step"] == step]
    return recs[-1] if recs else {}


def check_intensity():
    src = ct_like("int16")
    x = np.asarray(nib.load(src).dataobj).astype(np.float64)  # HU
    cases = [
        (["--normalize", "zscore"], "float32"), (["--normalize", "minmax"], "float32"),
        (["--window", "40,400"], "float32"), (["--window", "40,400", "--window-out", "u8"], "uint8"),
        (["--window", "40,400", "--window-out", "hu"], "int16"),
        (["--rand-noise", "5", "--seed", "2"], "float32"), (["--rand-gamma", "0.8,1.2", "--seed", "2"], "float32"),
        (["--rand-scale", "0.9,1.1", "--seed", "2"], "float32"), (["--rand-offset", "-5,5", "--seed", "2"], "float32"),
        (["--clip", "-100,200"], "int16"), (["--clip", "-100.5,200.7"], "int16"),
        (["--clip-percentile", "0.5,99.5"], "int16"), (["--clip-percentile", "1,99"], "int16"),
        (["--dtype", "f32", "--clip", "-100.5,200.7"], "float32"), (["--dtype", "u8"], "uint8"),
    ]
    for args, want in cases:
        what = " ".join(args)
        o1, o2 = path("i1.nii"), path("i2.nii")
        a = prep(src, args, o1, threads=1)
        b = prep(src, args, o2, threads=2)
        if a is None or b is None:
            continue
        got = np.asarray(a.dataobj)
        check(str(got.dtype) == want, f"{what}: gives {got.dtype}, rule says {want}")
        check(same_bytes(o1, o2), f"{what}: same bytes on 1 and 2 threads")
        if args[0] == "--clip":
            lo, hi = (float(v) for v in args[1].split(","))
            check(np.array_equal(got, np.clip(x, math.ceil(lo), math.floor(hi))), f"{what}: values")
            rec = record(o1, "clip")
            frac = lo != math.ceil(lo) or hi != math.floor(hi)
            check(bool(rec.get("rounded")) == frac, f"{what}: sidecar 'rounded' is {rec.get('rounded')}")
            if frac:
                check(rec.get("low_applied") == math.ceil(lo) and rec.get("high_applied") == math.floor(hi),
                      f"{what}: applied bounds in the sidecar {rec}")
        if args[0] == "--clip-percentile":
            ps = [float(v) for v in args[1].split(",")]
            lo, hi = np.percentile(x, ps)
            check(np.array_equal(got, np.clip(x, math.ceil(lo), math.floor(hi))), f"{what}: values")
            rec = record(o1, "clip-percentile")
            frac = lo != math.ceil(lo) or hi != math.floor(hi)
            check(abs(rec.get("low", 1e9) - lo) < 1e-9 and abs(rec.get("high", 1e9) - hi) < 1e-9,
                  f"{what}: sidecar holds numpy's percentiles {lo}, {hi}: {rec}")
            check(bool(rec.get("rounded")) == frac, f"{what}: sidecar 'rounded' is {rec.get('rounded')}")
        if args[:2] == ["--dtype", "f32"]:
            check(np.allclose(got, np.clip(x, -100.5, 200.7)), f"{what}: exact float clip")
            check("rounded" not in record(o1, "clip"), f"{what}: float clip is not rounded")
    print("intensity steps checked")


check_load()
check_spatial()
check_intensity()
check.done("dtype rules")
