"""dcmprep convert on damaged and hostile DICOM input.

usage: bad_input.py DCMPREP SYNTH PHANTOM_PY WORKDIR
Series written by dcmprep-synth are damaged (with --tag or pydicom) and
converted.  A refused series must exit 1 with a "dcmprep: ..." message that
names the attribute or file at fault, leave nothing in the output folder (not
even temporary files) and leave every input byte-identical.  Input that is
only partly bad (a directory, a dangling link, a FIFO, an SR or a PDF among
good images, one slice of another matrix size) must be skipped with a reason
while the rest converts correctly.  Hostile SeriesDescriptions must give safe
names inside the output folder.

With DP_VALGRIND=1 in the environment every convert runs under
`valgrind --error-exitcode=9` (and valgrind errors fail the test).
"""
import glob
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
import warnings

try:
    import numpy as np
    import nibabel as nib
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
except ImportError as e:
    print(f"SKIP: {e} (install python3-nibabel and python3-pydicom)")
    sys.exit(77)

cli, synth, phantom_py, work = sys.argv[1:5]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []
valgrind = os.environ.get("DP_VALGRIND") == "1"
if valgrind and not shutil.which("valgrind"):
    print("SKIP: DP_VALGRIND=1 but valgrind is not installed")
    sys.exit(77)


# DCMTK's codec registrations live until exit by design (never cleaned up).
suppressions = os.path.join(work, "dcmtk.supp")
with open(suppressions, "w") as f:
    f.write("{\n  dcmtk_codec_registration\n  Memcheck:Leak\n  match-leak-kinds: definite\n"
            "  ...\n  fun:*registerCodecs*\n}\n")


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


def limit_memory():
    # A loader that allocates what a damaged header declares must fail here,
    # not take the machine down: 4 GiB of address space is plenty for these
    # small series (valgrind needs more and is not limited).
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def sanitized(binary):
    """AddressSanitizer reserves terabytes of address space for its shadow
    memory, so an address-space limit cannot be used with it."""
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    return "libasan" in r.stdout


unlimited = valgrind or sanitized(cli)


def run(args, timeout=120):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=None if unlimited else limit_memory)


def make(name, args=()):
    d = os.path.join(work, name)
    r = subprocess.run([synth, "-o", d, "--truth", d + ".json"] + list(args),
                       capture_output=True, text=True)
    if not check(r.returncode == 0, f"{name}: synth {args}: {r.stderr}"):
        raise SystemExit(1)
    return d


def files_of(d):
    return sorted(glob.glob(os.path.join(d, "*.dcm")))


def hashes(d):
    """sha256 of every regular file under d (links and special files not followed)."""
    out = {}
    for root, dirs, names in os.walk(d):
        for n in names:
            p = os.path.join(root, n)
            if os.path.isfile(p) and not os.path.islink(p):
                out[p] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out


def edit(path, fn):
    ds = pydicom.dcmread(path)
    fn(ds)
    ds.save_as(path)


def convert(name, srcs, extra=(), quiet=True):
    """Runs convert into a fresh folder; returns (result, out dir, seconds)."""
    out = os.path.join(work, "out_" + name)
    args = [cli, "convert"] + list(srcs) + ["-o", out] + (["-q"] if quiet else []) + list(extra)
    if valgrind:
        args = ["valgrind", "-q", "--error-exitcode=9", "--leak-check=full",
                "--errors-for-leak-kinds=definite", "--suppressions=" + suppressions] + args
    t0 = time.monotonic()
    r = run(args, timeout=1200 if valgrind else 120)
    dt = time.monotonic() - t0
    check(r.returncode != 9 or not valgrind, f"{name}: valgrind errors:\n{r.stderr}")
    return r, out, dt


def error_lines(r):
    return [l for l in r.stderr.splitlines() if l.startswith("dcmprep: ") and "warning" not in l]


def refused(name, srcs, must, extra=(), max_seconds=None):
    """A refusal: exit 1, a dcmprep: message containing every string of
    `must`, an empty output folder and untouched inputs."""
    srcs = [srcs] if isinstance(srcs, str) else srcs
    before = {}
    for s in srcs:
        before.update(hashes(s))
    r, out, dt = convert(name, srcs, extra)
    check(r.returncode == 1, f"{name}: exit {r.returncode}, want 1: {r.stderr.strip()}")
    errs = error_lines(r)
    check(errs, f"{name}: no 'dcmprep: ' error message in {r.stderr!r}")
    for m in must:
        check(any(m in l for l in errs), f"{name}: message does not name {m!r}: {errs}")
    left = os.listdir(out) if os.path.isdir(out) else []
    check(not left, f"{name}: left in the output folder: {left}")
    after = {}
    for s in srcs:
        after.update(hashes(s))
    check(before == after, f"{name}: inputs changed")
    if max_seconds is not None and not valgrind:
        check(dt < max_seconds, f"{name}: took {dt:.1f} s")
    print(f"{name}: exit {r.returncode} in {dt:.2f} s: {errs[-1] if errs else r.stderr.strip()}")
    return r


def outputs(out):
    return sorted(glob.glob(os.path.join(out, "*.nii.gz")))


def phantom_ok(name, truth, nii):
    r = subprocess.run([sys.executable, phantom_py, "check", truth, nii], capture_output=True, text=True)
    check(r.returncode == 0, f"{name}: vs phantom: {r.stdout.strip()} {r.stderr.strip()}")


def scan_json(src):
    r = run([cli, "scan", src, "--json"])
    check(r.returncode == 0, f"scan {src}: exit {r.returncode}: {r.stderr}")
    return json.loads(r.stdout)


# ---- missing or invalid geometry attributes (every file of the series) ----

def delete(keyword):
    def fn(ds):
        delattr(ds, keyword)
    return fn


for kw in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing"):
    src = make("no_" + kw, ["--slices", "6"])
    for f in files_of(src):
        edit(f, delete(kw))
    refused("no_" + kw, src, [kw])
    # --all asks for such series on a nominal grid: converted, and the
    # sidecar says why the geometry is nominal
    r, out, _ = convert("no_" + kw + "_all", [src], ["--all"])
    check(r.returncode == 0, f"no_{kw}_all: exit {r.returncode}: {r.stderr}")
    sides = glob.glob(os.path.join(out, "*.json"))
    nominal = json.load(open(sides[0])).get("GeometryNominal", "") if len(sides) == 1 else ""
    check(kw in nominal, f"no_{kw}_all: sidecars {sides}, GeometryNominal {nominal!r}")

src = make("empty_ipp", ["--slices", "6", "--tag", "ImagePositionPatient="])
refused("empty_ipp", src, ["ImagePositionPatient"])

for tag, val in (("PixelSpacing", "0\\0"), ("PixelSpacing", "0\\1"), ("PixelSpacing", "-1\\1"),
                 ("PixelSpacing", "NaN\\1"), ("PixelSpacing", "1\\inf"),
                 ("ImageOrientationPatient", "0\\0\\0\\0\\0\\0"),
                 ("ImageOrientationPatient", "1\\0\\0\\1\\0\\0")):
    name = re.sub(r"[^A-Za-z0-9]+", "_", f"{tag}_{val}")
    src = make(name, ["--slices", "6", "--tag", f"{tag}={val}"])
    refused(name, src, [tag])

# ---- one slice with another matrix size: never stacked with the rest ----

src = make("rows", ["--phantom", "ramp", "--slices", "8"])
odd = files_of(src)[3]


def crop(ds):
    a = ds.pixel_array[:40, :50].copy()
    ds.Rows, ds.Columns = 40, 50
    ds.PixelData = a.tobytes()


edit(odd, crop)
before = hashes(src)
r, out, _ = convert("rows", [src], quiet=False)
check(r.returncode == 0, f"rows: exit {r.returncode}: {r.stderr}")
dims = sorted(nib.load(p).shape for p in outputs(out))
check(dims == [(50, 40, 1), (64, 64, 8)], f"rows: output shapes {dims}")
check("missing slice" in r.stderr, f"rows: the gap left by the odd slice is not reported: {r.stderr}")
for p in outputs(out):
    if nib.load(p).shape == (64, 64, 8):
        phantom_ok("rows (the 7 good slices, gap resampled)", src + ".json", p)
    else:
        # the odd slice alone, at its own position: its affine is the file's
        img, ds = nib.load(p), pydicom.dcmread(odd)
        ipp = [float(v) for v in ds.ImagePositionPatient]
        want = np.array([-ipp[0], -ipp[1], ipp[2]])
        check(np.allclose(img.affine[:3, 3], want, atol=1e-4), f"rows: odd slice origin {img.affine[:3, 3]} vs {want}")
        check(np.array_equal(np.asarray(img.dataobj)[:, :, 0].T, pydicom.dcmread(odd).pixel_array.astype(np.int32) - 1024),
              "rows: odd slice values")
check(before == hashes(src), "rows: inputs changed")

# ---- absurd sizes with tiny pixel data: refused before allocating ----

src = make("huge_frames", ["--slices", "4"])
for f in files_of(src):
    edit(f, lambda ds: (setattr(ds, "Rows", 65535), setattr(ds, "Columns", 65535),
                        setattr(ds, "NumberOfFrames", 10000)))
refused("huge_frames", src, ["IM0001.dcm", "too large"], max_seconds=10)

# 65535 x 65535 x 1 (8 GiB a slice, below the per-file limit): the pixel data
# is short by 8 GiB, which must be found before 4 x 8 GiB are allocated
src = make("huge_plane", ["--slices", "4"])
for f in files_of(src):
    edit(f, lambda ds: (setattr(ds, "Rows", 65535), setattr(ds, "Columns", 65535)))
refused("huge_plane", src, ["IM000", "truncated"], max_seconds=10)

# one absurd file among good ones is skipped with a reason
src = make("huge_one", ["--phantom", "ramp", "--slices", "8"])
edit(files_of(src)[7], lambda ds: (setattr(ds, "Rows", 65535), setattr(ds, "Columns", 65535),
                                   setattr(ds, "NumberOfFrames", 10000)))
sk = scan_json(src)["skipped"]
check(len(sk) == 1 and sk[0]["file"].endswith("IM0008.dcm") and "too large" in sk[0]["reason"],
      f"huge_one: skipped {sk}")

# ---- truncated pixel data ----

# the header declares more rows than the pixel data holds
src = make("rows_beyond_data", ["--slices", "4"])
for f in files_of(src):
    edit(f, lambda ds: setattr(ds, "Rows", 128))
refused("rows_beyond_data", src, ["IM000", "truncated"])

src = make("trunc", ["--slices", "6"])
f = files_of(src)[2]
data = open(f, "rb").read()
open(f, "wb").write(data[:len(data) - 64 * 64])  # half of the last slice's pixels
r = refused("trunc", src, [os.path.basename(f)])
check(any(w in r.stderr for w in ("truncated", "premature end")), f"trunc: says what is wrong: {r.stderr}")

src = make("trunc_all_pixels", ["--slices", "6"])
f = files_of(src)[4]
ds = pydicom.dcmread(f)
data = open(f, "rb").read()
open(f, "wb").write(data[:len(data) - 64 * 64 * 2 + 2])  # two bytes of pixels left
refused("trunc_all_pixels", src, [os.path.basename(f)])

# ---- a directory, a dangling link, a FIFO and a link to a folder named like DICOM files ----

src = make("odd_entries", ["--phantom", "ramp", "--slices", "6"])
os.mkdir(os.path.join(src, "IM0100.dcm"))                                  # empty folder
os.mkdir(os.path.join(src, "IM0101.dcm"))                                  # folder holding a slice
os.rename(os.path.join(src, "IM0006.dcm"), os.path.join(src, "IM0101.dcm", "IM0006.dcm"))
os.symlink("/nonexistent/IM0007.dcm", os.path.join(src, "IM0102.dcm"))    # dangling link
os.mkfifo(os.path.join(src, "IM0103.dcm"))                                 # would block a reader
os.symlink(work, os.path.join(src, "IM0104.dcm"))                          # link to a folder
before = hashes(src)
r, out, dt = convert("odd_entries", [src])
check(r.returncode == 0, f"odd_entries: exit {r.returncode}: {r.stderr}")
niis = outputs(out)
check(len(niis) == 1 and nib.load(niis[0]).shape == (64, 64, 6), f"odd_entries: outputs {niis}")
if niis:
    phantom_ok("odd_entries", src + ".json", niis[0])
sk = {os.path.basename(s["file"]): s["reason"] for s in scan_json(src)["skipped"]}
check("dangling" in sk.get("IM0102.dcm", ""), f"odd_entries: dangling link not skipped with a reason: {sk}")
check("regular" in sk.get("IM0103.dcm", ""), f"odd_entries: FIFO not skipped with a reason: {sk}")
check("folder" in sk.get("IM0104.dcm", ""), f"odd_entries: link to a folder not skipped with a reason: {sk}")
check(before == hashes(src), "odd_entries: inputs changed")

# ---- non-image objects: skipped with a reason ----


def non_image(path, sop_class, study_uid, series_uid, fill):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = 1
    ds.PatientName = "Synthetic^Phantom"
    fill(ds)
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(path, write_like_original=False)


def sr(ds):
    ds.Modality = "SR"
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = "TEXT"
    item.TextValue = "no acute findings"
    ds.ContentSequence = [item]


def pdf(ds):
    ds.Modality = "DOC"
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.DocumentTitle = "report"
    ds.EncapsulatedDocument = b"%PDF-1.4\n%%EOF\n"
    # image-like attributes a careless writer might add
    ds.Rows, ds.Columns, ds.BitsAllocated = 64, 64, 8


src = make("non_image", ["--phantom", "ramp", "--slices", "6"])
first = pydicom.dcmread(files_of(src)[0])
SR_CLASS, PDF_CLASS = "1.2.840.10008.5.1.4.1.1.88.11", "1.2.840.10008.5.1.4.1.1.104.1"
# the worst case: they claim the image series' UID
non_image(os.path.join(src, "IM0050.dcm"), SR_CLASS, first.StudyInstanceUID, first.SeriesInstanceUID, sr)
non_image(os.path.join(src, "IM0051.dcm"), PDF_CLASS, first.StudyInstanceUID, first.SeriesInstanceUID, pdf)
before = hashes(src)
r, out, _ = convert("non_image", [src])
check(r.returncode == 0, f"non_image: exit {r.returncode}: {r.stderr}")
niis = outputs(out)
check(len(niis) == 1 and nib.load(niis[0]).shape == (64, 64, 6), f"non_image: outputs {niis}")
if niis:
    phantom_ok("non_image", src + ".json", niis[0])
sk = {os.path.basename(s["file"]): s["reason"] for s in scan_json(src)["skipped"]}
check("not an image" in sk.get("IM0050.dcm", "") and SR_CLASS in sk.get("IM0050.dcm", ""), f"non_image: SR {sk}")
check("not an image" in sk.get("IM0051.dcm", "") and PDF_CLASS in sk.get("IM0051.dcm", ""), f"non_image: PDF {sk}")
check(before == hashes(src), "non_image: inputs changed")
# only non-image objects: refused, naming a file and why
only = os.path.join(work, "only_non_image")
os.makedirs(only)
non_image(os.path.join(only, "SR.dcm"), SR_CLASS, generate_uid(), generate_uid(), sr)
non_image(os.path.join(only, "PDF.dcm"), PDF_CLASS, generate_uid(), generate_uid(), pdf)
refused("only_non_image", only, ["PDF.dcm", "not an image"])

# ---- hostile SeriesDescription: safe names inside the output folder ----

hostile = ["../../x", "a/b", "line\nbreak", "..", "/etc/passwd", ".hidden", "\x01\x1b[31mred",
           "-rf", "a\\..\\b", "."]
src = os.path.join(work, "hostile")
os.makedirs(src)
for i, desc in enumerate(hostile):
    make(f"hostile/s{i}", ["--slices", "3", "--series-number", str(10 + i), "--tag", f"SeriesDescription={desc}"])
# what the files really carry (DICOM text may drop or keep some characters)
with warnings.catch_warnings():  # the escape sequence is meant to be hostile
    warnings.simplefilter("ignore")
    carried = sorted(str(pydicom.dcmread(files_of(os.path.join(src, f"s{i}"))[0]).SeriesDescription)
                     for i in range(len(hostile)))
print("hostile descriptions as written:", carried)
before = hashes(src)
outside_before = sorted(os.listdir(work))
for tmpl in (None, "{description}", "{description}/{description}"):
    tag = "hostile" if tmpl is None else "hostile_" + re.sub(r"\W+", "_", tmpl)
    r, out, _ = convert(tag, [src], [] if tmpl is None else ["--name", tmpl])
    check(r.returncode == 0, f"{tag}: exit {r.returncode}: {r.stderr}")
    names = os.listdir(out)
    check(len([n for n in names if n.endswith(".nii.gz")]) == len(hostile)
          and len([n for n in names if n.endswith(".json")]) == len(hostile), f"{tag}: outputs {names}")
    for n in names:
        check(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", n) and ".." not in n, f"{tag}: unsafe name {n!r}")
        check(os.path.isfile(os.path.join(out, n)), f"{tag}: {n!r} is not a file in the output folder")
    check(not any(os.path.isdir(os.path.join(out, n)) for n in names), f"{tag}: folders created in {out}")
check(sorted(os.listdir(work)) == sorted(outside_before + ["out_hostile", "out_hostile__description_",
                                                           "out_hostile__description_description_"]),
      f"hostile: files created outside the output folders: {sorted(set(os.listdir(work)) - set(outside_before))}")
check(not os.path.exists("/etc/passwd.nii.gz") and not os.path.exists(os.path.join(os.path.dirname(work), "x.nii.gz")),
      "hostile: escaped the output folder")
check(before == hashes(src), "hostile: inputs changed")

print(f"bad_input: {len(failures)} failures")
sys.exit(1 if failures else 0)
