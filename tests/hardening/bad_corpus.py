"""The bad-input corpus: damaged and hostile DICOM and NIfTI files, generated
here, each run through the CLI.

usage: bad_corpus.py DCMPREP SYNTH WORKDIR

Every input is derived from small series written by dcmprep-synth (DICOM) or
volumes written by nibabel and dcmprep (NIfTI): truncated files, bit flips
(fixed seeds), absurd dimensions, zero/NaN/negative/huge spacing and scaling,
huge element and item lengths, hostile names and UIDs, damaged NIfTI headers,
extensions and gzip streams.  `dcmprep convert` runs on each DICOM case and
`dcmprep info`, `convert` and `prep` on each NIfTI case, with -o into a fresh
folder and the case folder as working directory.  For every run:

- no crash: exit 0 or 1, never a signal, a sanitizer report (86) or a hang;
- exit 1 comes with a "dcmprep: " message on stderr; where no valid volume can
  be made the exit must be 1 and the message must name the file or attribute;
- no partial output: no temporary or hidden files, no folders; every NIfTI
  has its sidecar, loads with nibabel (finite affine, all voxels readable)
  and every sidecar is strict JSON (no NaN/Infinity, valid UTF-8); a refused
  NIfTI input leaves the output folder empty (a DICOM folder may hold other
  series that convert);
- nothing is written outside the output folder (the case folder and the
  folders around it are compared before and after) and every input is
  byte-identical afterwards;
- a damaged gzip stream is refused or, when the damage cannot change the
  data (gzip header fields), read back as the original voxels.

Cases tests/dicom/bad_input.py already covers (missing/invalid PixelSpacing,
IOP, IPP; 65535 x 65535 planes; hostile SeriesDescriptions with three name
templates; odd folder entries, non-image objects) are not repeated.
"""
import concurrent.futures
import gzip
import hashlib
import json
import os
import random
import re
import resource
import shutil
import struct
import subprocess
import sys
import threading
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testutil  # noqa: E402

testutil.need_modules("numpy", "nibabel", "pydicom")
import numpy as np  # noqa: E402
import nibabel as nib  # noqa: E402
import pydicom  # noqa: E402

cli, synth, work = (os.path.abspath(a) for a in sys.argv[1:4])
testutil.fresh_dir(work)
check = testutil.Checks()
T0 = time.monotonic()
SANITIZER_EXIT = 86  # tests/CMakeLists.txt sets ASAN/UBSAN exitcode=86


def sanitized(binary):
    """AddressSanitizer reserves terabytes of address space for its shadow
    memory: an address-space limit cannot be used with it."""
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    return "libasan" in r.stdout


UNLIMITED = sanitized(cli)


def limit_memory():
    # a reader that allocates what a damaged header declares must fail here,
    # not take the machine down
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tree(root, skip=None):
    """{relative path: kind and content hash} of everything under root."""
    out = {}
    for d, dirs, names in os.walk(root):
        if skip and os.path.abspath(d) == skip:
            dirs[:] = []
            continue
        dirs[:] = [x for x in dirs if os.path.join(d, x) != skip]
        for n in dirs + names:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = "link"
            elif os.path.isdir(p):
                out[rel] = "dir"
            else:
                out[rel] = sha(p)
    return out


def strict_json(path):
    """Parses a sidecar strictly: UTF-8, no NaN/Infinity literals."""
    def bad_constant(c):
        raise ValueError(f"non-JSON constant {c}")
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"), parse_constant=bad_constant)


def check_outputs(tag, out, lines, check):
    """Whatever is in `out` must be complete outputs; returns the NIfTI paths."""
    if not os.path.isdir(out):
        return []
    niis = []
    for d, dirs, names in os.walk(out):
        for n in dirs:
            check(False, f"{tag}: a folder was created in the output folder: {n!r}")
        for n in names:
            p = os.path.join(d, n)
            if n.startswith(".") or n.endswith(".tmp"):
                check(False, f"{tag}: temporary file left: {n!r}")
            elif n.endswith(".nii.gz") or n.endswith(".nii"):
                niis.append(p)
            elif not n.endswith(".json"):
                check(False, f"{tag}: unexpected output {n!r}")
    for p in niis:
        stem = p[:-7] if p.endswith(".nii.gz") else p[:-4]
        side = stem + ".json"
        if check(os.path.isfile(side), f"{tag}: {os.path.basename(p)} has no sidecar"):
            try:
                strict_json(side)
            except (ValueError, UnicodeDecodeError) as e:
                check(False, f"{tag}: {os.path.basename(side)} is not valid JSON: {e}")
        try:
            img = nib.load(p)
            data = np.asarray(img.dataobj)
            check(data.size > 0 and data.shape == img.shape, f"{tag}: {os.path.basename(p)} shape {data.shape}")
            check(np.all(np.isfinite(img.affine)), f"{tag}: {os.path.basename(p)} affine not finite:\n{img.affine}")
            lines.append(f"    {os.path.basename(p)}: {img.shape} {data.dtype}")
        except Exception as e:  # nibabel raises many kinds of errors
            check(False, f"{tag}: output {os.path.basename(p)} not readable by nibabel: {e}")
    for p in os.listdir(out):
        if p.endswith(".json"):
            stem = os.path.join(out, p[:-5])
            check(os.path.exists(stem + ".nii.gz") or os.path.exists(stem + ".nii"),
                  f"{tag}: sidecar {p} without its NIfTI")
    return niis


CULPRIT = re.compile(r"\b[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*\b|\bseries \d+|\([0-9a-fA-F]{4},[0-9a-fA-F]{4}\)")


def names_culprit(line, inputs):
    """True when an error line names an input file (by name), a DICOM
    attribute (keyword or tag) or a series (by number)."""
    return bool(CULPRIT.search(line)) or any(n in line for n in inputs)


def error_lines(stderr):
    return [ln for ln in stderr.splitlines() if ln.startswith("dcmprep: ") and "warning" not in ln]


# ---- one run -----------------------------------------------------------------

class Case:
    """A case folder holding the damaged inputs; runs commands on them.  Cases
    live in one folder per job (jobs run in parallel), so that the folder
    around a case changes only between its runs."""

    def __init__(self, name):
        self.name = name
        self.parent = os.path.join(work, threading.current_thread().job)
        self.dir = testutil.fresh_dir(os.path.join(self.parent, name))
        self.runs = 0

    def path(self, *parts):
        return os.path.join(self.dir, *parts)


# Cases whose contract checks currently fail for a known reason outside the
# test (see docs/hardening.md, "Known gaps"): reported as skipped checks, never
# hiding a crash, a sanitizer report, a hang or a write outside the output
# folder.  Remove an entry once the library is fixed.
KNOWN_GAPS = {
    # case name: why the contract does not hold yet (printed as SKIPPED CHECK;
    # never hides a crash, a sanitizer report or an out-of-folder write)
}
GAPS_SEEN = set()
OUTSIDE = [work]  # no run may add to it (nor to its job's folder)
LOG = []


def run(case, args, expect, names=(), out=None, prepare_out=False, same_as=None, max_seconds=None,
        single=False):
    """Runs `dcmprep args...` in the case folder and checks the contract.

    expect: "fail" (exit 1, output folder empty, a message naming one of
    `names`), "ok" (exit 0) or "any" (0 or 1).  out: the output folder (its
    contents are checked).  same_as: voxels a successful read must give.
    single: one input, so a refusal must leave the output folder empty."""
    case.runs += 1
    tag = f"{case.name}#{case.runs} ({args[0]})"
    skip = os.path.abspath(out) if out else None
    if out and prepare_out:
        os.makedirs(out, exist_ok=True)
    before = tree(case.dir, skip)
    outside = [case.parent] + OUTSIDE
    around = [sorted(os.listdir(d)) for d in outside]
    t0 = time.monotonic()
    try:
        r = subprocess.run([cli] + args, cwd=case.dir, capture_output=True, text=True, timeout=120,
                           errors="replace", preexec_fn=None if UNLIMITED else limit_memory)
    except subprocess.TimeoutExpired:
        check(False, f"{tag}: no answer in 120 s (hang?)")
        return None
    dt = time.monotonic() - t0
    rc = r.returncode
    lines = [f"{tag}: exit {rc} in {dt:.2f} s"]
    errs = error_lines(r.stderr)
    if rc < 0:
        check(False, f"{tag}: killed by signal {-rc}:\n{r.stderr[-3000:]}")
    elif rc == SANITIZER_EXIT:
        check(False, f"{tag}: sanitizer report (AddressSanitizer's in the build's sanitizer-reports/):\n"
                     f"{r.stderr[-6000:]}")
    elif rc not in (0, 1):
        check(False, f"{tag}: exit {rc}, want 0 or 1:\n{r.stderr[-3000:]}")
    # the contract checks; for a known gap they are reported, not failed
    gap = KNOWN_GAPS.get(case.name)
    gap_fails = []
    contract = (lambda cond, what: cond or gap_fails.append(what)) if gap else check
    if rc == 1:
        check(errs, f"{tag}: exit 1 without a 'dcmprep: ' message: {r.stderr[-500:]!r}")
        if errs:
            lines.append("    " + errs[-1][:300])
        inputs = {os.path.basename(p) for p in before if os.path.basename(p) != p}
        inputs |= {p for p in before if before[p] != "dir"}
        contract(any(names_culprit(e, inputs) for e in errs),
                 f"{tag}: the message names no input file, attribute or series: {errs}")
    if expect == "fail":
        contract(rc == 1, f"{tag}: exit {rc}, want 1 (no valid volume can be made): {r.stderr[-500:]!r}")
        if names:
            contract(any(n in e for e in errs for n in names),
                     f"{tag}: the message names none of {list(names)}: {errs}")
        left = os.listdir(out) if out and os.path.isdir(out) else []
        contract(not left, f"{tag}: refused, but left in the output folder: {left}")
    elif expect == "ok":
        contract(rc == 0, f"{tag}: exit {rc}, want 0: {r.stderr[-500:]!r}")
    if rc == 1 and single and expect != "fail":
        left = os.listdir(out) if out and os.path.isdir(out) else []
        contract(not left, f"{tag}: refused, but left in the output folder: {left}")
    niis = check_outputs(tag, out, lines, contract) if out else []
    if rc == 0 and same_as is not None:
        for p in niis:
            got = np.asarray(nib.load(p).dataobj)
            contract(got.shape == same_as.shape and np.array_equal(got, same_as),
                     f"{tag}: read without error but the voxels differ from the original")
    if max_seconds is not None:
        check(dt < max_seconds, f"{tag}: took {dt:.1f} s, want < {max_seconds} s")
    check(tree(case.dir, skip) == before,
          f"{tag}: inputs changed or files written outside the output folder: "
          f"{sorted(set(tree(case.dir, skip).items()) ^ set(before.items()))[:10]}")
    check([sorted(os.listdir(d)) for d in outside] == around,
          f"{tag}: files created next to the case folders: "
          f"{[sorted(set(os.listdir(d)) ^ set(a)) for d, a in zip(outside, around)]}")
    if gap_fails:
        GAPS_SEEN.add(case.name)
        lines += [f"    SKIPPED CHECK (known gap: {gap}): {f.splitlines()[0]}" for f in gap_fails]
    LOG.append("\n".join(lines))
    return r


def convert_dicom(case, src, expect, names=(), extra=(), **kw):
    out = case.path("out")
    shutil.rmtree(out, ignore_errors=True)
    return run(case, ["convert", src, "-o", out, "-q"] + list(extra), expect, names, out=out, **kw)


# ---- DICOM inputs ------------------------------------------------------------

BASE = testutil.fresh_dir(os.path.join(work, "_base"))
TS = ["explicit", "implicit", "big", "deflate", "rle", "jpeg-lossless", "jpeg-ls"]


def synth_series(name, args):
    d = os.path.join(BASE, name)
    r = subprocess.run([synth, "-o", d, "--rows", "16", "--cols", "12", "--slices", "3"] + list(args),
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL: synth {name} {args}: {r.stderr}")
        sys.exit(1)
    return d


bases = {ts: synth_series(ts, ["--ts", ts, "--series-number", "7"]) for ts in TS}
bases["enhanced"] = synth_series("enhanced", ["--enhanced", "--series-number", "8"])


def dicom_case(name, base="explicit"):
    """A case whose input folder `in` is a copy of a base series."""
    c = Case(name)
    shutil.copytree(bases[base], c.path("in"))
    return c, c.path("in")


def in_files(src):
    return sorted(os.path.join(src, f) for f in os.listdir(src))


def edit_bytes(src, fn):
    for f in in_files(src):
        with open(f, "rb") as fh:
            data = bytearray(fh.read())
        data = fn(data)
        with open(f, "wb") as fh:
            fh.write(bytes(data))


def edit_ds(src, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the values are meant to be invalid
        for f in in_files(src):
            ds = pydicom.dcmread(f)
            fn(ds)
            ds.save_as(f)


def tag_bytes(group, elem, big=False):
    return struct.pack(">HH" if big else "<HH", group, elem)


def find(data, pattern, start=0):
    i = bytes(data).find(pattern, start)
    if i < 0:
        raise ValueError(f"{pattern!r} not in the base file")
    return i


def pixel_tag_offset(data, big=False):
    i = bytes(data).rfind(tag_bytes(0x7FE0, 0x0010, big))
    if i < 0:
        raise ValueError("no pixel data tag in the base file")
    return i


def file_names(src):
    return [os.path.basename(f) for f in in_files(src)]


DICOM_JOBS = []  # callables, each building and running one or more cases


def job(fn):
    DICOM_JOBS.append(fn)
    return fn


# -- truncation: every file of the series cut at the same place --

@job
def truncation():
    with open(os.path.join(bases["explicit"], "IM0001.dcm"), "rb") as f:
        data = f.read()
    px = pixel_tag_offset(data)
    meta_end = 132 + 12 + struct.unpack_from("<I", data, 140)[0]  # (0002,0000) UL value
    cuts = [0, 1, 64, 128, 131, 132, 136, 140, (132 + meta_end) // 2, meta_end - 1, meta_end]
    cuts += [meta_end + (px - meta_end) * k // 6 for k in range(1, 6)]
    cuts += [px + 2, px + 6, px + 10, px + 12, px + 13, (px + 12 + len(data)) // 2, len(data) - 1]
    for cut in sorted(set(cuts)):
        c, src = dicom_case(f"trunc_{cut}")
        edit_bytes(src, lambda d, cut=cut: d[:cut])
        convert_dicom(c, src, "fail", names=file_names(src))
    # compressed and deflated series cut inside their encoded data
    for ts in ("deflate", "rle", "jpeg-lossless", "jpeg-ls", "enhanced"):
        for frac in (0.55, 0.9):
            c, src = dicom_case(f"trunc_{ts}_{int(frac * 100)}", ts)
            edit_bytes(src, lambda d, frac=frac: d[:int(len(d) * frac)])
            convert_dicom(c, src, "fail", names=file_names(src))
    # one file of three cut in its header: the rest may still make a volume
    c, src = dicom_case("trunc_one_header")
    f = in_files(src)[1]
    with open(f, "rb") as fh:
        d = fh.read()
    with open(f, "wb") as fh:
        fh.write(d[:pixel_tag_offset(d) - 20])
    convert_dicom(c, src, "any")


# -- bit flips: fixed seeds, several transfer syntaxes --

@job
def bit_flips():
    variants = 8
    for bi, base in enumerate(sorted(bases)):
        for v in range(variants):
            rng = random.Random(1000 * bi + v)
            c, src = dicom_case(f"flip_{base}_{v}", base)
            header_only = v % 2 == 0  # flips in native pixels alone are dull

            def flip(d, rng=rng, header_only=header_only):
                px = bytes(d).rfind(tag_bytes(0x7FE0, 0x0010, base == "big"))  # none when deflated
                hi = px + 12 if header_only and px > 132 else len(d)
                for _ in range(rng.randint(1, 12)):
                    i = rng.randrange(128, hi)
                    d[i] ^= 1 << rng.randrange(8)
                return d
            edit_bytes(src, flip)
            convert_dicom(c, src, "any")


# -- absurd dimensions and pixel formats (every file) --

@job
def absurd_dims():
    big = "99999999999999999999"
    cases = [
        ("frames_2g", "explicit", {"NumberOfFrames": "2147483647"}, "fail"),
        ("frames_4g", "explicit", {"NumberOfFrames": "4294967296"}, "fail"),
        ("frames_20digits", "explicit", {"NumberOfFrames": big}, "fail"),
        ("frames_zero", "explicit", {"NumberOfFrames": "0"}, "any"),
        ("frames_negative", "explicit", {"NumberOfFrames": "-1"}, "any"),
        ("frames_enh_2g", "enhanced", {"NumberOfFrames": "2147483647"}, "fail"),
        ("frames_enh_zero", "enhanced", {"NumberOfFrames": "0"}, "any"),  # DCMTK reads 1 frame
        ("frames_enh_more_than_groups", "enhanced", {"NumberOfFrames": "4"}, "fail"),
        ("rows_zero", "explicit", {"Rows": 0}, "fail"),
        ("cols_zero", "explicit", {"Columns": 0}, "fail"),
        ("rows_65535", "explicit", {"Rows": 65535}, "fail"),
        ("cols_65535", "explicit", {"Columns": 65535}, "fail"),
        ("overflow_64bit", "explicit", {"Rows": 65535, "Columns": 65535, "NumberOfFrames": "2147483647"}, "fail"),
        ("one_pixel", "explicit", {"Rows": 1, "Columns": 1}, "any"),
        ("bits_allocated_0", "explicit", {"BitsAllocated": 0}, "fail"),
        ("bits_allocated_64", "explicit", {"BitsAllocated": 64}, "any"),
        ("bits_allocated_7", "explicit", {"BitsAllocated": 7}, "any"),
        ("bits_allocated_255", "explicit", {"BitsAllocated": 255}, "any"),
        ("bits_stored_0", "explicit", {"BitsStored": 0}, "any"),
        ("bits_stored_17", "explicit", {"BitsStored": 17}, "any"),
        ("high_bit_255", "explicit", {"HighBit": 255}, "any"),
        ("samples_0", "explicit", {"SamplesPerPixel": 0}, "any"),
        ("samples_3", "explicit", {"SamplesPerPixel": 3}, "any"),
        ("samples_65535", "explicit", {"SamplesPerPixel": 65535}, "any"),
        ("pixel_representation_2", "explicit", {"PixelRepresentation": 2}, "any"),
        ("photometric_palette", "explicit", {"PhotometricInterpretation": "PALETTE COLOR"}, "any"),
    ]
    # the encoded frames keep their own size: Rows patched into the file
    # afterwards disagrees with them (synth --tag would encode 65535 rows)
    for base in ("rle", "jpeg-lossless", "jpeg-ls"):
        for rows in (65535, 17, 1):
            c, src = dicom_case(f"dims_rows_{rows}_{base}", base)
            edit_bytes(src, lambda d, rows=rows: (struct.pack_into("<H", d, find(d, b"\x28\x00\x10\x00US", 132) + 8,
                                                                   rows), d)[1])
            convert_dicom(c, src, "fail", names=file_names(src) + ["Rows"], max_seconds=20)
    for name, base, attrs, expect in cases:
        # written by DCMTK (synth --tag): pydicom refuses numbers that do not fit
        c = Case("dims_" + name)
        src = c.path("in")
        args = ["--enhanced"] if base == "enhanced" else ["--ts", base]
        for k, v in attrs.items():
            args += ["--tag", f"{k}={v}"]
        r = subprocess.run([synth, "-o", src, "--rows", "16", "--cols", "12", "--slices", "3"] + args,
                           capture_output=True, text=True)
        if not check(r.returncode == 0, f"dims_{name}: synth {args}: {r.stderr}"):
            continue
        names = file_names(src) + list(attrs)
        convert_dicom(c, src, expect, names=names, max_seconds=20)


# -- spacing, positions and scaling: zero, NaN, negative, huge --

@job
def spacing():
    cases = [
        # (name, base, {keyword: value}, expect, names)
        # every position repeated equally often: a 4-D series (design.md)
        ("ipp_all_same", {"ImagePositionPatient": "0\\0\\0"}, "any", []),
        ("ipp_nan", {"ImagePositionPatient": "NaN\\NaN\\NaN"}, "fail", ["ImagePositionPatient"]),
        ("ipp_inf", {"ImagePositionPatient": "0\\0\\inf"}, "fail", ["ImagePositionPatient"]),
        ("ipp_huge", {"ImagePositionPatient": "1e308\\-1e308\\1e308"}, "any", []),
        ("ipp_two_values", {"ImagePositionPatient": "1\\2"}, "fail", ["ImagePositionPatient"]),
        ("iop_nan", {"ImageOrientationPatient": "NaN\\0\\0\\0\\1\\0"}, "fail", ["ImageOrientationPatient"]),
        ("iop_not_unit", {"ImageOrientationPatient": "2\\0\\0\\0\\3\\0"}, "any", []),
        ("iop_tiny", {"ImageOrientationPatient": "1e-300\\0\\0\\0\\1e-300\\0"}, "any", []),
        ("iop_five_values", {"ImageOrientationPatient": "1\\0\\0\\0\\1"}, "fail", ["ImageOrientationPatient"]),
        ("spacing_tiny", {"PixelSpacing": "1e-300\\1e-300"}, "any", []),
        ("spacing_huge", {"PixelSpacing": "1e300\\1e300"}, "any", []),
        ("spacing_one_value", {"PixelSpacing": "1"}, "any", []),
        ("spacing_three_values", {"PixelSpacing": "1\\1\\1"}, "any", []),
        ("spacing_negative_both", {"PixelSpacing": "-1\\-1"}, "fail", ["PixelSpacing"]),
        ("spacing_nan_both", {"PixelSpacing": "NaN\\NaN"}, "fail", ["PixelSpacing"]),
        # recorded only, never used for geometry: must convert, with a valid sidecar
        ("thickness_nan", {"SliceThickness": "NaN"}, "ok", []),
        ("thickness_negative", {"SliceThickness": "-5"}, "ok", []),
        ("thickness_huge", {"SliceThickness": "1e400"}, "ok", []),
        ("between_slices_nan", {"SpacingBetweenSlices": "NaN"}, "ok", []),
        ("between_slices_inf", {"SpacingBetweenSlices": "-inf"}, "ok", []),
        ("window_nan", {"WindowCenter": "NaN", "WindowWidth": "inf"}, "ok", []),
        ("kvp_nan", {"KVP": "NaN", "RepetitionTime": "inf", "EchoTime": "-inf"}, "ok", []),
        # scaling: refused or converted, never garbage
        ("slope_zero", {"RescaleSlope": "0"}, "any", []),
        ("slope_nan", {"RescaleSlope": "NaN"}, "any", []),
        ("slope_inf", {"RescaleSlope": "inf"}, "any", []),
        ("slope_huge", {"RescaleSlope": "1e308", "RescaleIntercept": "-1e308"}, "any", []),
        ("intercept_nan", {"RescaleIntercept": "NaN"}, "any", []),
    ]
    for name, attrs, expect, names in cases:
        c, src = dicom_case("geom_" + name)

        def fn(ds, attrs=attrs):
            for k, v in attrs.items():
                setattr(ds, k, v)
        edit_ds(src, fn)
        convert_dicom(c, src, expect, names=names + file_names(src))
    # two of three slices at one position: duplicates, refused
    c, src = dicom_case("geom_ipp_duplicate")
    first = pydicom.dcmread(in_files(src)[0])
    edit_ds(src, lambda ds: setattr(ds, "ImagePositionPatient", first.ImagePositionPatient)
            if ds.InstanceNumber == 2 else None)
    convert_dicom(c, src, "fail", names=["IM000", "duplicate"])
    # enhanced: shared pixel measures and per-frame positions
    enh = [
        ("enh_spacing_zero", lambda ds: setattr(ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0],
                                                "PixelSpacing", "0\\0"), "fail"),
        ("enh_spacing_nan", lambda ds: setattr(ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0],
                                               "PixelSpacing", "NaN\\1"), "fail"),
        ("enh_ipp_nan", lambda ds: setattr(ds.PerFrameFunctionalGroupsSequence[1].PlanePositionSequence[0],
                                           "ImagePositionPatient", "NaN\\0\\0"), "any"),
        ("enh_ipp_same", lambda ds: [setattr(g.PlanePositionSequence[0], "ImagePositionPatient", "0\\0\\0")
                                     for g in ds.PerFrameFunctionalGroupsSequence], "any"),
        ("enh_no_per_frame", lambda ds: delattr(ds, "PerFrameFunctionalGroupsSequence"), "any"),
        ("enh_empty_per_frame", lambda ds: setattr(ds, "PerFrameFunctionalGroupsSequence", []), "any"),
        ("enh_iop_nan", lambda ds: setattr(ds.SharedFunctionalGroupsSequence[0].PlaneOrientationSequence[0],
                                           "ImageOrientationPatient", "NaN\\0\\0\\0\\1\\0"), "fail"),
        ("enh_slope_nan", lambda ds: setattr(
            ds.SharedFunctionalGroupsSequence[0].PixelValueTransformationSequence[0], "RescaleSlope", "NaN"), "any"),
    ]
    for name, fn, expect in enh:
        c, src = dicom_case("geom_" + name, "enhanced")
        edit_ds(src, fn)
        convert_dicom(c, src, expect, names=file_names(src) + ["PixelSpacing", "ImagePositionPatient",
                                                               "ImageOrientationPatient", "frame"])


# -- huge element and item lengths, patched into the encoded files --

def set_u32(d, off, value, big=False):
    struct.pack_into(">I" if big else "<I", d, off, value)
    return d


def explicit_len_offset(d, group, elem):
    """Offset of the length field of the first (group,elem) element after the
    meta header in an explicit VR little-endian file, and its size."""
    i = find(d, tag_bytes(group, elem), 132)
    vr = bytes(d[i + 4:i + 6])
    if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN", b"OD", b"OL", b"UC", b"UR", b"OV"):
        return i + 8, 4
    return i + 6, 2


@job
def huge_lengths():
    def px_len(value, base="explicit", big=False):
        def fn(d):
            i = pixel_tag_offset(d, big)
            return set_u32(d, i + 8, value, big)  # explicit VR: tag, VR, 2 reserved, length
        return fn

    def implicit_len(group, elem, value):
        def fn(d):
            meta_end = 144 + struct.unpack_from("<I", d, 140)[0]
            i = find(d, tag_bytes(group, elem), meta_end)
            return set_u32(d, i + 4, value)
        return fn

    def explicit_len(group, elem, value):
        def fn(d):
            off, size = explicit_len_offset(d, group, elem)
            struct.pack_into("<I" if size == 4 else "<H", d, off, value)
            return d
        return fn

    def item_len(nth, value, seq_tag=None):
        """The nth item tag (FFFE,E000) after the pixel-data tag (fragments)
        or after seq_tag (sequence items)."""
        def fn(d):
            i = find(d, seq_tag, 132) if seq_tag else pixel_tag_offset(d)
            for _ in range(nth + 1):
                i = find(d, b"\xfe\xff\x00\xe0", i + 1)
            return set_u32(d, i + 4, value)
        return fn

    def meta_group_len(value):
        return lambda d: set_u32(d, 140, value)

    per_frame = tag_bytes(0x5200, 0x9230)
    cases = [
        ("px_fffffff0", "explicit", px_len(0xFFFFFFF0), "fail"),
        ("px_fffffffe", "explicit", px_len(0xFFFFFFFE), "fail"),
        ("px_7fffffff", "explicit", px_len(0x7FFFFFFF), "fail"),
        ("px_undefined", "explicit", px_len(0xFFFFFFFF), "fail"),
        ("px_zero", "explicit", px_len(0), "fail"),
        ("px_odd", "explicit", px_len(0x101), "fail"),
        ("px_big_endian", "big", px_len(0xFFFFFFF0, big=True), "fail"),
        ("px_implicit", "implicit", implicit_len(0x7FE0, 0x0010, 0xFFFFFFF0), "fail"),
        ("description_implicit", "implicit", implicit_len(0x0008, 0x103E, 0xFFFFFFF0), "fail"),
        ("rows_implicit", "implicit", implicit_len(0x0028, 0x0010, 0xFFFFFFF0), "fail"),
        ("ipp_implicit", "implicit", implicit_len(0x0020, 0x0032, 0xFFFFFFF0), "fail"),
        ("rows_implicit_odd", "implicit", implicit_len(0x0028, 0x0010, 3), "any"),
        ("description_explicit_ffff", "explicit", explicit_len(0x0008, 0x103E, 0xFFFF), "any"),
        ("rows_explicit_ffff", "explicit", explicit_len(0x0028, 0x0010, 0xFFFF), "any"),
        ("meta_group_fffffff0", "explicit", meta_group_len(0xFFFFFFF0), "any"),
        ("meta_group_zero", "explicit", meta_group_len(0), "any"),
        ("meta_version_fffffff0", "explicit", explicit_len(0x0002, 0x0001, 0xFFFFFFF0), "any"),
        ("rle_offset_table", "rle", item_len(0, 0xFFFFFFF0), "fail"),
        ("rle_fragment_huge", "rle", item_len(1, 0xFFFFFFF0), "fail"),
        ("rle_fragment_short", "rle", item_len(1, 2), "fail"),
        ("jpeg_fragment_huge", "jpeg-lossless", item_len(1, 0xFFFFFFF0), "fail"),
        ("jpegls_fragment_short", "jpeg-ls", item_len(1, 6), "fail"),
        ("jpegls_offset_table_odd", "jpeg-ls", item_len(0, 7), "any"),
        # synth writes sequences and items with undefined length; DCMTK reads a
        # huge defined one up to the delimiters, so these may convert
        ("enh_per_frame_sq", "enhanced", lambda d: set_u32(d, find(d, per_frame, 132) + 8, 0xFFFFFFF0), "any"),
        ("enh_item_0", "enhanced", item_len(0, 0xFFFFFFF0, per_frame), "any"),
        ("enh_item_5", "enhanced", item_len(5, 0xFFFFFFF0, per_frame), "any"),
        ("enh_item_short", "enhanced", item_len(2, 4, per_frame), "any"),
    ]
    for name, base, fn, expect in cases:
        c, src = dicom_case("len_" + name, base)
        edit_bytes(src, fn)
        convert_dicom(c, src, expect, names=file_names(src), max_seconds=20)


# -- hostile names, protocols, UIDs and numbers: safe names inside the output folder --

@job
def hostile_names():
    c = Case("hostile")
    src = c.path("in")
    long = "A/..\\" * 1000
    values = [  # (SeriesDescription, ProtocolName, SeriesInstanceUID suffix, SeriesNumber)
        ("", "", "1", "1"),
        ("../../x", "../../x", "../../x", "2"),
        ("/abs", "/abs/x", "/abs", "3"),
        ("ctl\x01\x02\x07\x08\x1b[2J\x7f", "tab\there\r\n", "4", "4"),
        (long, long, "5" * 200, "5"),
        ("....", ".", "..", "6"),
        ("%s%n%x{description}{uid}", "{number}/../{index}", "%n", "7"),
        ("nul\x00byte", "nul\x00byte", "8\x009", "8"),
        ("\u00e9t\u00e9 \u2603 / \u0000", "caf\u00e9", "9", "9"),
        ("ok", "ok", "10", "-2147483649"),
        ("ok", "ok", "11", "99999999999999999999"),
        ("ok", "ok", "12", "../13"),
        (" ", "  ", "  ", ""),
    ]
    for i, (desc, prot, uid, number) in enumerate(values):
        # SeriesNumber through DCMTK: pydicom refuses to write an IS that is no number
        d = synth_series(f"hostile_{i}", ["--series-uid", f"2.25.{i + 1}", "--slices", "2",
                                          "--tag", f"SeriesNumber={number}"])
        shutil.copytree(d, os.path.join(src, f"s{i}"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, (desc, prot, uid, number) in enumerate(values):
            for f in in_files(os.path.join(src, f"s{i}")):
                ds = pydicom.dcmread(f)
                ds.SeriesDescription = desc
                ds.ProtocolName = prot
                ds.SeriesInstanceUID = f"2.25.{i + 1}.{uid}"
                if i == 8:
                    ds.SpecificCharacterSet = "ISO_IR 192"
                if i == 3:
                    # bytes that are not UTF-8 under a UTF-8 character set
                    ds.SpecificCharacterSet = "ISO_IR 192"
                    ds[0x0008, 0x103E].value = b"bad\xff\xfeutf8\xc3"
                ds.save_as(f)
    n = len(values)
    for k, tmpl in enumerate([None, "{description}", "{uid}", "{uid}/{modality}/{number}",
                              "{description}{description}{description}{description}{uid}",
                              "../{index}", "/abs/{number}", "{number}{index}"]):
        out = c.path(f"out{k}")
        extra = [] if tmpl is None else ["--name", tmpl]
        r = run(c, ["convert", src, "-o", out, "-q"] + extra, "ok", out=out)
        if r is None or r.returncode != 0:
            continue
        names = os.listdir(out)
        niis = [x for x in names if x.endswith(".nii.gz")]
        check(len(niis) == n and len(names) == 2 * n, f"hostile --name {tmpl!r}: {len(niis)} outputs of {n}: {names}")
        for x in names:
            check(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", x) and ".." not in x and len(x) < 250,
                  f"hostile --name {tmpl!r}: unsafe name {x!r}")
    for p in ("/abs", "/abs.nii.gz", "/x.nii.gz", os.path.join(os.path.dirname(work), "x.nii.gz")):
        check(not os.path.exists(p), f"hostile: {p} exists (written outside the output folder?)")


# ---- NIfTI inputs ------------------------------------------------------------

NBASE = testutil.fresh_dir(os.path.join(work, "_nifti"))
rng0 = np.random.default_rng(5)
VOL = rng0.integers(-1000, 1000, size=(7, 6, 5), dtype=np.int16)
AFF = np.array([[0, -1.5, 0, 10], [0.9, 0, 0.1, -20], [0, 0, 2.5, 5], [0, 0, 0, 1]])
# large enough for two 1 MiB blocks in dcmprep's own .nii.gz
BIGVOL = rng0.integers(0, 50, size=(128, 128, 40), dtype=np.int16)


def nbase(name, img):
    p = os.path.join(NBASE, name)
    nib.save(img, p)
    return p


N = {}
N["n1"] = nbase("n1.nii", nib.Nifti1Image(VOL, AFF))
N["n2"] = nbase("n2.nii", nib.Nifti2Image(VOL.astype(np.float32), AFF))
hdr_be = nib.Nifti1Header(endianness=">")
N["be"] = nbase("be.nii", nib.Nifti1Image(VOL, AFF, header=hdr_be))
N["nibgz"] = nbase("nib.nii.gz", nib.Nifti1Image(VOL, AFF))
for key, src, vol in (("dpgz", N["n1"], VOL), ("dpgz_big", None, BIGVOL)):
    if src is None:
        src = nbase("big.nii", nib.Nifti1Image(BIGVOL, AFF))
    dst = os.path.join(NBASE, key + ".nii.gz")
    r = subprocess.run([cli, "convert", src, "-o", dst, "--no-sidecar", "-q"], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL: writing {dst}: {r.stderr}")
        sys.exit(1)
    N[key] = dst
with open(N["dpgz_big"], "rb") as f:
    check(f.read().count(b"\x1f\x8b\x08") >= 2, "dcmprep's .nii.gz of 1.3 MB has several gzip members")

NIFTI_JOBS = []


def nifti_case(name, base, fn, expect, same_as=None, names=None, prep=True):
    """Writes fn(bytes of base) as the case's input and runs info, convert
    (into a folder) and prep (to a file) on it."""
    c = Case(name)
    with open(N[base], "rb") as f:
        data = bytearray(f.read())
    ext = ".nii.gz" if base.endswith("gz") else ".nii"
    inp = c.path("input" + ext)
    with open(inp, "wb") as f:
        f.write(bytes(fn(data)))
    names = names or ["input" + ext]
    run(c, ["info", inp], expect, names)
    run(c, ["convert", inp, "-o", c.path("out1")], expect, names, out=c.path("out1"), prepare_out=True,
        same_as=same_as, single=True)
    if prep:
        run(c, ["prep", inp, "-o", c.path("out2", "x.nii.gz"), "--reorient", "LPS"], expect, names,
            out=c.path("out2"), prepare_out=True, single=True)


def njob(fn):
    NIFTI_JOBS.append(fn)
    return fn


def pack(fmt, off, *values):
    def fn(d):
        struct.pack_into(fmt, d, off, *values)
        return d
    return fn


def chain(*fns):
    def fn(d):
        for f in fns:
            d = f(d)
        return d
    return fn


@njob
def nifti_truncated():
    size = os.path.getsize(N["n1"])
    for cut in (0, 4, 100, 347, 348, 351, 352, 353, (352 + size) // 2, size - 1):
        nifti_case(f"nii_trunc_{cut}", "n1", lambda d, cut=cut: d[:cut], "fail", prep=False)
    size2 = os.path.getsize(N["n2"])
    for cut in (539, 540, 544, size2 - 1):
        nifti_case(f"nii2_trunc_{cut}", "n2", lambda d, cut=cut: d[:cut], "fail", prep=False)


@njob
def nifti_gzip():
    for base in ("nibgz", "dpgz", "dpgz_big"):
        size = os.path.getsize(N[base])
        vol = BIGVOL if base == "dpgz_big" else VOL
        for cut in (2, 10, 30, size // 2):
            nifti_case(f"gz_{base}_trunc_{cut}", base, lambda d, cut=cut: d[:cut], "fail", prep=False)
        # only the trailer (CRC, size) cut: the data is complete, unverified
        for cut in (size - 8, size - 4, size - 1):
            nifti_case(f"gz_{base}_trunc_{cut}", base, lambda d, cut=cut: d[:cut], "any", same_as=vol,
                       prep=False)
        # damage that gzip notices (or that leaves the data as it was)
        damages = [
            ("crc", lambda d: (d.__setitem__(len(d) - 8, d[len(d) - 8] ^ 0xFF), d)[1]),
            ("isize", lambda d: (d.__setitem__(len(d) - 3, d[len(d) - 3] ^ 0x01), d)[1]),
            ("mid_byte", lambda d: (d.__setitem__(len(d) // 2, d[len(d) // 2] ^ 0x55), d)[1]),
            ("early_byte", lambda d: (d.__setitem__(40, d[40] ^ 0x10), d)[1]),
            ("mtime", lambda d: (d.__setitem__(5, d[5] ^ 0xFF), d)[1]),
            ("flags_reserved", lambda d: (d.__setitem__(3, d[3] | 0xE0), d)[1]),
            ("method", lambda d: (d.__setitem__(2, 7), d)[1]),
            ("garbage_after", lambda d: d + b"garbage after the stream"),
            ("empty_member_after", lambda d: d + gzip.compress(b"")),
            ("extra_member_after", lambda d: d + gzip.compress(b"\x00" * 1000)),
        ]
        for dname, fn in damages:
            nifti_case(f"gz_{base}_{dname}", base, fn, "any", same_as=vol, prep=False)
        # dcmprep's own members carry their sizes in the extra field: lie in them
        if base == "dpgz_big":
            for i in range(10, 24):  # XLEN .. end of the 24-byte member header
                bit = i % 8
                nifti_case(f"gz_{base}_xfield_{i}_{bit}", base,
                           lambda d, i=i, bit=bit: (d.__setitem__(i, d[i] ^ (1 << bit)), d)[1],
                           "any", same_as=vol, prep=False)
    # a second member that is cut short or damaged
    with open(N["dpgz_big"], "rb") as f:
        data = f.read()
    second = data.find(b"\x1f\x8b\x08", 10)
    nifti_case("gz_member_cut", "dpgz_big", lambda d: d[:second + 100], "fail", prep=False)
    nifti_case("gz_member_lost", "dpgz_big", lambda d: d[:second], "fail", prep=False)
    nifti_case("gz_member_damaged", "dpgz_big",
               lambda d: (d.__setitem__(second + 200, d[second + 200] ^ 0x81), d)[1], "any", same_as=BIGVOL,
               prep=False)
    # the parallel reader trusts no sizes: member 1's extra field claims member 2's bytes
    nifti_case("gz_member_size_lie", "dpgz_big", lambda d: set_u32(d, 16, 0x00FFFFFF), "any",
               same_as=BIGVOL, prep=False)


@njob
def nifti_header_fields():
    i2 = "<h"
    cases = [
        # (name, base, damage, expect)
        ("dim0_0", "n1", pack(i2, 40, 0), "fail"),
        ("dim0_neg", "n1", pack(i2, 40, -1), "fail"),
        ("dim0_8", "n1", pack(i2, 40, 8), "any"),
        ("dim0_9", "n1", pack(i2, 40, 9), "fail"),
        ("dim1_0", "n1", pack(i2, 42, 0), "fail"),
        ("dim1_neg", "n1", pack(i2, 42, -7), "fail"),
        ("dims_32767", "n1", pack("<4h", 40, 3, 32767, 32767, 32767), "fail"),
        ("dims_7d_32767", "n1", pack("<8h", 40, 7, 32767, 32767, 32767, 32767, 32767, 32767, 32767), "fail"),
        ("dims_unused_huge", "n1", pack("<8h", 40, 3, 7, 6, 5, 32767, 32767, 32767, 32767), "any"),
        ("nifti2_dims_2e62", "n2", pack("<4q", 16, 3, 1 << 62, 1 << 62, 4), "fail"),
        ("nifti2_dims_neg", "n2", pack("<4q", 16, 3, -7, 6, 5), "fail"),
        ("nifti2_dims_i32_overflow", "n2", pack("<4q", 16, 3, 1 << 31, 1 << 31, 1), "fail"),
        ("datatype_0", "n1", pack(i2, 70, 0), "fail"),
        ("datatype_3", "n1", pack(i2, 70, 3), "fail"),
        ("datatype_9999", "n1", pack(i2, 70, 9999), "fail"),
        ("datatype_binary", "n1", pack(i2, 70, 1), "any"),
        ("datatype_rgb", "n1", pack(i2, 70, 128), "any"),
        ("datatype_f128", "n1", pack(i2, 70, 1536), "any"),
        ("datatype_c64", "n1", pack(i2, 70, 32), "any"),
        ("bitpix_0", "n1", pack(i2, 72, 0), "any"),
        ("bitpix_64", "n1", pack(i2, 72, 64), "any"),
        ("vox_offset_neg", "n1", pack("<f", 108, -352.0), "fail"),
        ("vox_offset_minus_1", "n1", pack("<f", 108, -1.0), "fail"),
        ("vox_offset_huge", "n1", pack("<f", 108, 1e30), "fail"),
        ("vox_offset_nan", "n1", pack("<f", 108, float("nan")), "fail"),
        ("vox_offset_inf", "n1", pack("<f", 108, float("inf")), "fail"),
        ("vox_offset_past_end", "n1", pack("<f", 108, 4096.0), "fail"),
        ("vox_offset_0", "n1", pack("<f", 108, 0.0), "any"),
        ("vox_offset_351", "n1", pack("<f", 108, 351.0), "any"),
        ("vox_offset_fraction", "n1", pack("<f", 108, 352.5), "any"),
        ("nifti2_vox_offset_neg", "n2", pack("<q", 168, -544), "fail"),
        ("nifti2_vox_offset_huge", "n2", pack("<q", 168, 1 << 62), "fail"),
        ("be_vox_offset_neg", "be", pack(">f", 108, -352.0), "fail"),
        ("be_dim1_neg", "be", pack(">h", 42, -7), "fail"),
        ("sizeof_hdr_0", "n1", pack("<i", 0, 0), "fail"),
        ("sizeof_hdr_540", "n1", pack("<i", 0, 540), "fail"),
        ("magic_none", "n1", pack("4s", 344, b"\0\0\0\0"), "any"),
        ("magic_n2_in_n1", "n1", pack("4s", 344, b"n+2\0"), "any"),
        ("magic_ni1", "n1", pack("4s", 344, b"ni1\0"), "any"),
        ("pixdim_nan", "n1", chain(pack(i2, 252, 0), pack(i2, 254, 0), pack("<3f", 80, float("nan"), 1, 1)), "any"),
        ("pixdim_zero", "n1", chain(pack(i2, 252, 0), pack(i2, 254, 0), pack("<3f", 80, 0, 0, 0)), "any"),
        ("pixdim_neg", "n1", chain(pack(i2, 252, 0), pack(i2, 254, 0), pack("<3f", 80, -1, -2, -3)), "any"),
        ("pixdim_inf", "n1", chain(pack(i2, 252, 0), pack(i2, 254, 0), pack("<3f", 80, float("inf"), 1, 1)), "any"),
        ("srow_nan", "n1", pack("<4f", 280, float("nan"), 0, 0, 0), "any"),
        ("srow_inf", "n1", pack("<4f", 296, 0, float("inf"), 0, 0), "any"),
        ("srow_zero", "n1", chain(pack("<4f", 280, 0, 0, 0, 0), pack("<4f", 296, 0, 0, 0, 0)), "any"),
        ("quatern_nan", "n1", chain(pack(i2, 254, 0), pack("<3f", 256, float("nan"), 0, 0)), "any"),
        ("quatern_big", "n1", chain(pack(i2, 254, 0), pack("<3f", 256, 5, 5, 5)), "any"),
        ("qfac_nan", "n1", chain(pack(i2, 254, 0), pack("<f", 76, float("nan"))), "any"),
        ("form_codes_huge", "n1", chain(pack(i2, 252, 32767), pack(i2, 254, -32768)), "any"),
        ("scl_nan", "n1", pack("<2f", 112, float("nan"), float("nan")), "any"),
        ("scl_inf", "n1", pack("<2f", 112, float("inf"), -float("inf")), "any"),
        ("scl_zero_slope", "n1", pack("<2f", 112, 0, 5), "any"),
        ("nifti2_pixdim_nan", "n2", chain(pack("<i", 344, 0), pack("<i", 348, 0),
                                          pack("<3d", 112, float("nan"), 1, 1)), "any"),
        ("nifti2_srow_inf", "n2", pack("<4d", 400, float("inf"), 0, 0, 0), "any"),
        ("nifti2_scl_nan", "n2", pack("<2d", 176, float("nan"), 1), "any"),
        ("slice_code_huge", "n1", chain(pack("<B", 122, 255), pack(i2, 120, 32767), pack("<B", 39, 255)), "any"),
        ("intent_huge", "n1", pack(i2, 68, 32767), "any"),
    ]
    for name, base, fn, expect in cases:
        nifti_case("nhdr_" + name, base, fn, expect, prep=expect != "fail")


@njob
def nifti_extensions():
    # room for extensions: data moved from 352 to 352 + 64
    def with_room(esize, ecode=6, extender=1, room=64):
        def fn(d):
            d = bytearray(d[:348]) + struct.pack("<4B", extender, 0, 0, 0) + bytes(room) + d[352:]
            struct.pack_into("<f", d, 108, 352.0 + room)
            struct.pack_into("<ii", d, 352, esize, ecode)
            return d
        return fn
    for name, fn, expect in (
            ("ok", with_room(64), "ok"),
            ("esize_huge", with_room(0x7FFFFFF0), "any"),
            ("esize_neg", with_room(-16), "any"),
            ("esize_zero", with_room(0), "any"),
            ("esize_7", with_room(7), "any"),
            ("esize_past_data", with_room(80), "any"),
            ("extender_255", with_room(64, extender=255), "any"),
            ("no_room", lambda d: (d.__setitem__(348, 1), d)[1], "any")):
        nifti_case("next_" + name, "n1", fn, expect)


@njob
def nifti_bit_flips():
    for base, hdr_size in (("n1", 352), ("n2", 544), ("be", 352)):
        for v in range(12):
            rng = random.Random(7000 + 100 * hdr_size + v)

            def flip(d, rng=rng, hdr_size=hdr_size):
                for _ in range(rng.randint(1, 4)):
                    i = rng.randrange(hdr_size)
                    d[i] ^= 1 << rng.randrange(8)
                return d
            nifti_case(f"nflip_{base}_{v}", base, flip, "any", prep=v % 3 == 0)


# ---- RTSTRUCT and SEG label objects (bad_labels.py) ------------------------

import bad_labels  # noqa: E402

bad_labels.add_jobs(sys.modules[__name__])


# ---- run everything ----------------------------------------------------------

def run_job(fn):
    threading.current_thread().job = fn.__name__
    fn()


jobs = DICOM_JOBS + NIFTI_JOBS
for j in jobs:  # all now: the work folder must not change while cases run
    os.makedirs(os.path.join(work, j.__name__))
with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
    for fut in [pool.submit(run_job, j) for j in jobs]:
        fut.result()  # a Python error in the test itself must fail it
print("\n".join(sorted(LOG)))
for name, gap in sorted(KNOWN_GAPS.items()):
    if name not in GAPS_SEEN:
        print(f"known gap no longer seen in {name}, remove it from KNOWN_GAPS: {gap}")
runs = len(LOG)
cases = sum(len(os.listdir(os.path.join(work, j.__name__))) for j in jobs)
check.done(f"bad_corpus: {runs} runs on {cases} cases in {time.monotonic() - T0:.1f} s")
