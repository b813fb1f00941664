"""dcmprep: DICOM and NIfTI volumes as numpy arrays, prep steps and
reproducible on-the-fly augmentation, over the dcmprep C library.

    import dcmprep
    ct = dcmprep.load("exam/", series=201)        # or "ct.nii.gz"
    ct.array            # read-only numpy view, [i, j, k] as nibabel
    ct.affine           # 4x4 voxel -> RAS+ mm, as nibabel
    prep = dcmprep.Pipeline(["--canonical", "--spacing", "1.5,1.5,1.5", "--window", "abdomen"])
    aug = dcmprep.Augment(seed=7, steps=["--rand-flip=x", "--rand-rotate", "10"])
    x = aug(prep(ct), index=k)                    # variant k, the same in any worker
    x.save("ct_k.nii.gz")                         # NIfTI + JSON sidecar

See docs/python.md.  The C work runs with the GIL released.
"""
import ctypes
import json

from . import _lib
from ._lib import Error, InvalidArgument, IOFailure, NotFound, OutOfMemory, check, lib
from .pipeline import Augment, Pipeline
from .volume import Volume, name_of
from . import steps

__all__ = ["load", "scan", "prep", "Volume", "Pipeline", "Augment", "steps", "Error",
           "InvalidArgument", "IOFailure", "NotFound", "OutOfMemory", "bytes_in_use",
           "library_path", "__version__"]

__version__ = lib.dp_version().decode()
library_path = _lib.library_path


def load(path, series=None, threads=0):
    """Loads a NIfTI file (.nii, .nii.gz; scl_slope/scl_inter applied) or a
    DICOM folder or file, as the command line loads INPUT: the one volume
    series, or the one with SeriesNumber `series` (an int, or a series dict
    from scan()).  The volume's name (its random key) is the file or folder
    name without .nii/.nii.gz.  Raises dcmprep.Error (with the library's
    message) on failure."""
    if isinstance(series, dict):
        series = series["number"]
    if isinstance(series, bool) or (series is not None and not isinstance(series, (int, str))):
        raise TypeError(f"dcmprep.load: series must be a SeriesNumber, not {series!r}")
    out = ctypes.c_void_p()
    check(lib.dp_load_input(_lib.fspath(path), None if series is None else str(series).encode(),
                            int(threads), ctypes.byref(out)))
    return Volume._own(out, name_of(path))


def scan(paths, skipped=False):
    """Reads the DICOM headers under paths (a path or a list; folders are
    walked) and returns one dict per series, as `dcmprep scan --json`:
    index, number, description, modality, kind, uid, images, files, dims,
    spacing, orientation, tilt_deg, uneven, missing_slices,
    duplicate_positions, min_step, max_step, echo, warnings.  With
    skipped=True, returns (series, skipped) where skipped lists
    {"file", "reason"} for files that are not DICOM images."""
    if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__"):
        paths = [paths]
    enc = [_lib.fspath(p) for p in paths]
    if not enc:
        raise InvalidArgument("dcmprep.scan: no path given", "DP_EINVAL", -1)
    arr = (ctypes.c_char_p * len(enc))(*enc)
    st = ctypes.c_void_p()
    check(lib.dp_dicom_scan(arr, len(enc), None, ctypes.byref(st)))
    try:
        text = ctypes.c_void_p()
        check(lib.dp_dicom_set_json(st, ctypes.byref(text), None))
        doc = json.loads(_lib.take_text(text))
    finally:
        lib.dp_dicom_set_free(st)
    return (doc["series"], doc["skipped"]) if skipped else doc["series"]


def prep(image, words, label=None, threads=0):
    """Pipeline(words, threads)(image, label): the steps written as on the
    command line, e.g. prep(ct, ["--canonical", "--spacing", "1,1,1"])."""
    return Pipeline(words, threads=threads)(image, label)


def bytes_in_use():
    """Bytes of voxel data held by C volumes alive in this process."""
    return int(lib.dp_volume_bytes_in_use())
