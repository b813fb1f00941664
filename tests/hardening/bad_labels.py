"""The label part of the bad-input corpus: damaged and hostile RTSTRUCT and
SEG objects beside a valid series, each run through `dcmprep convert` (and
prep --label) under the contract of bad_corpus.py (no crash, no hang, a
message naming the file or attribute, no partial output, nothing written
outside the output folder, inputs unchanged).

bad_corpus.py imports this module and calls add_jobs(its namespace).
"""
import os
import random
import shutil
import warnings

from pydicom.sequence import Sequence
from pydicom.dataset import Dataset


def add_jobs(ns):
    job, Case, run, convert_dicom, synth_series, check = (ns.job, ns.Case, ns.run, ns.convert_dicom,
                                                           ns.synth_series, ns.check)
    pydicom = ns.pydicom
    base = synth_series("labelled", ["--series-number", "9", "--slices", "6", "--rows", "24", "--cols", "20",
                                     "--rtstruct", os.path.join(ns.BASE, "labelled", "rt.dcm"),
                                     "--seg", os.path.join(ns.BASE, "labelled", "seg.dcm")])

    def case(name):
        c = Case(name)
        shutil.copytree(base, c.path("in"))
        return c, c.path("in")

    def edit(path, fn):
        try:  # the values are meant to be invalid
            pydicom.config.settings.writing_validation_mode = pydicom.config.IGNORE
        except AttributeError:
            pass
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path)
            fn(ds)
            ds.save_as(path)

    def edit_bytes(path, fn):
        with open(path, "rb") as f:
            data = bytearray(f.read())
        with open(path, "wb") as f:
            f.write(bytes(fn(data)))

    def label_only(c, src, keep):
        """Only one label object beside the images."""
        for other in ("rt.dcm", "seg.dcm"):
            if other != keep:
                os.remove(os.path.join(src, other))

    @job
    def label_semantics():
        """Problems that give a note and a label all the same."""
        def bowtie(ds):  # first half of the points forward, the second backward
            c = ds.ROIContourSequence[0].ContourSequence[0]
            pts = [[float(x) for x in c.ContourData[i:i + 3]] for i in range(0, len(c.ContourData), 3)]
            half = len(pts) // 2
            c.ContourData = [x for p in pts[:half] + pts[half:][::-1] for x in p]
        def empty(ds):
            del ds.ROIContourSequence[1].ContourSequence
        def point_open(ds):
            for i, c in enumerate(ds.ROIContourSequence[0].ContourSequence):
                c.ContourGeometricType = "POINT" if i % 2 else "OPEN_PLANAR"
        def between(ds):  # every contour half a slice off, and one far away
            for c in ds.ROIContourSequence[2].ContourSequence:
                v = [float(x) for x in c.ContourData]
                c.ContourData = [x + (0.75 if i % 3 == 2 else 0) for i, x in enumerate(v)]
            c0 = ds.ROIContourSequence[0].ContourSequence[0]
            c0.ContourData = [float(x) + (500 if i % 3 == 2 else 0) for i, x in enumerate(c0.ContourData)]
        def tilted(ds):  # a contour not parallel to the slices
            c = ds.ROIContourSequence[0].ContourSequence[0]
            c.ContourData = [float(x) + (float(c.ContourData[i - 2]) * 0.3 if i % 3 == 2 else 0)
                             for i, x in enumerate(c.ContourData)]
        def count_lie(ds):
            ds.ROIContourSequence[0].ContourSequence[0].NumberOfContourPoints = 99999
        def orphan(ds):
            ds.ROIContourSequence[0].ReferencedROINumber = 77
        for name, fn in [("bowtie", bowtie), ("empty_roi", empty), ("point_open", point_open),
                         ("between_slices", between), ("not_parallel", tilted), ("count_lie", count_lie),
                         ("orphan_contours", orphan)]:
            c, src = case(f"rt_{name}")
            label_only(c, src, "rt.dcm")
            edit(os.path.join(src, "rt.dcm"), fn)
            r = convert_dicom(c, src, "ok")
            if r is not None and r.returncode == 0:
                out = c.path("out")
                check(any(f.endswith("_label.nii.gz") for f in os.listdir(out)),
                      f"rt_{name}: no label written: {os.listdir(out)}")

    @job
    def label_refusals():
        """Structural damage: the label object is refused (the image stays)."""
        def other_for(ds):
            for it in ds.StructureSetROISequence:
                it.ReferencedFrameOfReferenceUID = "1.2.3.999"
        def nan(ds):
            c = ds.ROIContourSequence[0].ContourSequence[0]
            v = list(c.ContourData)
            v[1] = "NaN"
            c.ContourData = v
        def huge(ds):
            c = ds.ROIContourSequence[0].ContourSequence[0]
            v = list(c.ContourData)
            v[0] = "1e300"
            c.ContourData = v
        def not_triplets(ds):
            c = ds.ROIContourSequence[0].ContourSequence[0]
            c.ContourData = list(c.ContourData)[:-1]
        def dup_number(ds):
            ds.StructureSetROISequence[1].ROINumber = ds.StructureSetROISequence[0].ROINumber
        cases = [("rt_other_frame", "rt.dcm", other_for, ["frame of reference"]),
                 ("rt_nan", "rt.dcm", nan, ["ContourData"]), ("rt_huge", "rt.dcm", huge, ["ContourData"]),
                 ("rt_not_triplets", "rt.dcm", not_triplets, ["ContourData"]),
("rt_dup_number", "rt.dcm", dup_number, ["ROINumber"])]

        def seg_missing_frames(ds):
            ds.NumberOfFrames = int(ds.NumberOfFrames) + 5
        def seg_perframe(ds):
            del ds.PerFrameFunctionalGroupsSequence[0]
        def seg_no_segment(ds):
            ds.PerFrameFunctionalGroupsSequence[0].SegmentIdentificationSequence[0].ReferencedSegmentNumber = 42
        def seg_no_position(ds):
            del ds.PerFrameFunctionalGroupsSequence[1].PlanePositionSequence
        def seg_absurd(ds):
            ds.Rows = 65535
            ds.Columns = 65535
            ds.NumberOfFrames = 2147483647
        def seg_big(ds):  # 4 GiB of pixels declared: refused before allocating
            ds.Rows = 65535
            ds.Columns = 65535
        def seg_type(ds):
            ds.SegmentationType = "LABELMAP"
        def seg_bits(ds):
            ds.BitsAllocated = 16
        def seg_iop(ds):
            ds.SharedFunctionalGroupsSequence[0].PlaneOrientationSequence[0].ImageOrientationPatient = [1, 0, 0, 1, 0, 0]
        def seg_dup(ds):
            ds.SegmentSequence[1].SegmentNumber = ds.SegmentSequence[0].SegmentNumber
        def seg_truncated_px(ds):
            ds.PixelData = ds.PixelData[: len(ds.PixelData) // 3]
        def seg_other_for(ds):
            ds.FrameOfReferenceUID = "1.2.3.999"
        cases += [("seg_missing_frames", "seg.dcm", seg_missing_frames, ["PerFrameFunctionalGroupsSequence"]),
                  ("seg_perframe_count", "seg.dcm", seg_perframe, ["PerFrameFunctionalGroupsSequence"]),
                  ("seg_no_segment", "seg.dcm", seg_no_segment, ["ReferencedSegmentNumber"]),
                  ("seg_no_position", "seg.dcm", seg_no_position, ["PlanePositionSequence"]),
                  ("seg_absurd", "seg.dcm", seg_absurd, ["seg.dcm"]), ("seg_big", "seg.dcm", seg_big, ["seg.dcm"]),
                  ("seg_labelmap", "seg.dcm", seg_type, ["SegmentationType"]),
                  ("seg_bits", "seg.dcm", seg_bits, ["BitsAllocated"]),
                  ("seg_iop", "seg.dcm", seg_iop, ["ImageOrientationPatient"]),
                  ("seg_dup_number", "seg.dcm", seg_dup, ["SegmentNumber"]),
                  ("seg_truncated", "seg.dcm", seg_truncated_px, ["PixelData"]),
                  ("seg_other_frame", "seg.dcm", seg_other_for, ["frame of reference"])]
        def text(d):  # letters in the first ContourData value (bytes: pydicom refuses it)
            i = bytes(d).find(b"\x06\x30\x50\x00DS") + 8
            d[i:i + 3] = b"abc"
            return d
        cases.append(("rt_text", "rt.dcm", text, ["ContourData"]))
        for name, keep, fn, names in cases:
            c, src = case(name)
            label_only(c, src, keep)
            if fn is text:
                edit_bytes(os.path.join(src, keep), fn)
            else:
                edit(os.path.join(src, keep), fn)
            r = convert_dicom(c, src, "any", max_seconds=30)
            if r is None:
                continue
            check(r.returncode == 1, f"{name}: exit {r.returncode}, want 1 (the label object is refused)")
            check(any(n in r.stderr for n in names), f"{name}: the message names none of {names}: {r.stderr[-400:]}")
            out = c.path("out")
            left = sorted(os.listdir(out)) if os.path.isdir(out) else []
            check(not any("_label" in f for f in left), f"{name}: a label was written: {left}")
            check(any(f.endswith(".nii.gz") and "_label" not in f for f in left), f"{name}: the image is missing: {left}")
            # prep with --label on the same: refused, nothing written
            lo = c.path("prep")
            os.makedirs(lo, exist_ok=True)
            run(c, ["prep", src, "-o", os.path.join(lo, "a.nii.gz"), "--label", os.path.join(src, keep),
                    "--label-out", os.path.join(lo, "b.nii.gz"), "-q"], "fail", out=lo)

    @job
    def label_damage():
        """Truncations and bit flips of the label objects (fixed seeds)."""
        rng = random.Random(13)
        for keep in ("rt.dcm", "seg.dcm"):
            size = os.path.getsize(os.path.join(base, keep))
            for cut in (0, 10, 132, 300, size // 3, size // 2, size - 7):
                c, src = case(f"{keep[:-4]}_cut{cut}")
                label_only(c, src, keep)
                edit_bytes(os.path.join(src, keep), lambda d, cut=cut: d[:cut])
                convert_dicom(c, src, "any", max_seconds=30)
            for t in range(10):
                c, src = case(f"{keep[:-4]}_flip{t}")
                label_only(c, src, keep)

                def flip(d, seed=rng.random()):
                    r = random.Random(seed)
                    for _ in range(8):
                        d[r.randrange(132, len(d))] ^= 1 << r.randrange(8)
                    return d
                edit_bytes(os.path.join(src, keep), flip)
                convert_dicom(c, src, "any", max_seconds=30)
            # the label object alone (no images): SEG on its own grid, RTSTRUCT refused
            c, src = case(f"{keep[:-4]}_alone")
            for f in os.listdir(src):
                if f != keep:
                    os.remove(os.path.join(src, f))
            convert_dicom(c, src, "ok" if keep == "seg.dcm" else "fail", names=[keep])

    @job
    def label_hostile_names():
        c, src = case("label_hostile")
        label_only(c, src, "seg.dcm")
        names = ["../../x", "/abs", "", "....", "a\x00b", "\x1b[31mred"]

        def fn(ds):
            seq = ds.SegmentSequence
            while len(seq) < len(names):
                extra = Dataset()
                extra.update(seq[0])
                extra.SegmentNumber = len(seq) + 1
                seq.append(extra)
            ds.SegmentSequence = Sequence(list(seq))
            for it, n in zip(ds.SegmentSequence, names):
                it.SegmentLabel = n
        edit(os.path.join(src, "seg.dcm"), fn)
        for layout in ("multi", "separate", "onehot"):
            out = c.path(f"out_{layout}")
            r = run(c, ["convert", src, "-o", out, "-q", "--labels", layout], "ok", out=out)
            if r is None or r.returncode:
                continue
            for f in os.listdir(out):
                check(ns.re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", f) and ".." not in f,
                      f"label_hostile {layout}: unsafe name {f!r}")
        for p in ("/abs", "/abs.nii.gz", os.path.join(os.path.dirname(ns.work), "x.nii.gz")):
            check(not os.path.exists(p), f"label_hostile: {p} exists")
